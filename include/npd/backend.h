/* backend.h: the two families of dataplane backends. Table backends (struct
 * npd_backend_ops: legacy through libiptc, nft through iptables-nft-restore, fake) write
 * our chains and the hooks into them; set backends (struct npd_set_backend_ops: ipset
 * through libipset, fake) our ipsets. Each is a const ops table in lib/backend/, listed in
 * the registry; npd_backend_apply drives one of each. A backend owns only NPD-/npd-
 * prefixed chains and sets plus its jump hooks; it never flushes a table or touches
 * another writer's rules. Backends call the kernel but own no loop. Every fallible
 * operation returns 0 or -errno and fills the caller's struct npd_err with the detail. */
#ifndef NPD_BACKEND_H
#define NPD_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "npd/differ.h"
#include "npd/ruleset.h"

struct npd_backend;
struct npd_set_backend;
struct npd_buf;

/* The detail of a failed backend operation, in the caller's storage. */
struct npd_err {
	int code;      /* the -errno returned; 0 when nothing failed */
	char msg[256]; /* what failed and why ("xtables lock /run/xtables.lock: held by
			* another writer for 10000 ms", the failing ipset line); may be "" */
};
/* Records code and the message in err (NULL: ignored); returns code. */
int npd_err_set(struct npd_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void npd_err_clear(struct npd_err *err);
/* What to log for a failure rc: err's message, or strerror(-rc) when it has none. */
const char *npd_err_text(const struct npd_err *err, int rc);

struct npd_backend_opts {
	const char *lock_path;	 /* xtables lock, default /run/xtables.lock */
	unsigned lock_wait_ms;	 /* bounded wait for the lock; default 10000 */
	unsigned commit_retries; /* on EAGAIN; default 5 */
	const char *restore_v4;	 /* restore backend: iptables-restore binary (default from PATH) */
	const char *restore_v6;
	const char *save_v4; /* restore backend: iptables-save binary, to read current state */
	const char *save_v6;
	/* Test seam: called after the table was read and before it is committed, with the
	 * attempt number (0-based), so a test can act as a concurrent writer. */
	void (*before_commit)(uint8_t family, unsigned attempt, void *ctx);
	void *before_commit_ctx;
	/* Fake backends: append their lines to this log (borrowed) instead of each to its
	 * own, so a test sees the order of table and set operations. */
	struct npd_buf *fake_log;
};

/* What of ours exists in the kernel now (discovered at start and on every resync). */
struct npd_owned_chain {
	char name[NPD_CHAIN_NAMELEN];
	uint8_t family;
	size_t n_rules;
};
struct npd_owned_set {
	char name[NPD_SET_NAMELEN];
	size_t n_entries;
	bool counters; /* created with the counters extension */
};
/* What of ours one family's built-in chains hold. */
struct npd_owned_family {
	/* Hooks of ours found in built-in chains, wherever they stand. */
	struct npd_hook *hooks;
	size_t n_hooks;
	/* Some hook of ours is not the first rule of its built-in chain: another writer put a
	 * rule above it that could accept traffic before we see it. The next commit moves it
	 * back to the top. */
	bool hook_displaced;
};
struct npd_owned {
	struct npd_owned_chain *chains;
	size_t n_chains;
	struct npd_owned_set *sets;
	size_t n_sets;
	struct npd_owned_family fam[2]; /* IPv4, IPv6: reach them through npd_owned_family */
};
/* The part of o for family AF_INET or AF_INET6 (any other value is treated as AF_INET);
 * borrowed from o. */
struct npd_owned_family *npd_owned_family(struct npd_owned *o, uint8_t family);
const struct npd_owned_family *npd_owned_get_family(const struct npd_owned *o, uint8_t family);
void npd_owned_fini(struct npd_owned *o);

/* Packet and byte counters of one rule in one of our chains. */
typedef void (*npd_counter_fn)(uint8_t family, const char *chain, size_t rule_index,
			       uint64_t packets, uint64_t bytes, void *ctx);
/* Packet and byte counters of one entry of a set with counters; e is borrowed for the call
 * and built as the compiler builds its sets' entries (npd_set_entry_cmp finds it). */
typedef void (*npd_set_counter_fn)(const char *set, const struct npd_set_entry *e, uint64_t packets,
				   uint64_t bytes, void *ctx);

struct npd_apply_opts;

struct npd_backend_ops {
	const char *name; /* "legacy", "nft", "fake" */
	/* Returns 0 and a new handle, or -errno (e.g. -ENOENT when the tool is missing). */
	int (*open)(const struct npd_backend_opts *opts, struct npd_backend **out,
		    struct npd_err *err);
	void (*close)(struct npd_backend *b);
	/* One atomic commit for one family: write chains, delete chains, ensure hooks at the
	 * top of their built-in chains and remove hooks of ours not in desired. Retries a lost
	 * race (EAGAIN) a bounded number of times, then returns -EAGAIN. */
	int (*commit)(struct npd_backend *b, const struct npd_table_change *chg,
		      struct npd_err *err);
	/* commit, and before it o->reset_counters (when non-NULL) with the counters of every
	 * rule of the chains chg rewrites or deletes, read from the table the commit replaces
	 * (again on a redo: it must take absolute readings); adds to o->read_ns and
	 * o->commit_ns the time spent reading the table and committing it. May be NULL. */
	int (*commit_ex)(struct npd_backend *b, const struct npd_table_change *chg,
			 struct npd_apply_opts *o, struct npd_err *err);
	/* Appends to out our chains and hooks in the kernel (not the sets). */
	int (*list_owned)(struct npd_backend *b, struct npd_owned *out, struct npd_err *err);
	/* Removes every hook and chain of ours (both families). */
	int (*cleanup)(struct npd_backend *b, struct npd_err *err);
	/* Reads counters of our chains (may be NULL for a backend that cannot); only: NULL
	 * for all of them, else just the chains that plan's commits rewrite or delete. */
	int (*read_counters)(struct npd_backend *b, const struct npd_plan *only, npd_counter_fn fn,
			     void *ctx, struct npd_err *err);
};

struct npd_set_backend_ops {
	const char *name; /* "ipset", "fake" */
	int (*open)(const struct npd_backend_opts *opts, struct npd_set_backend **out,
		    struct npd_err *err);
	void (*close)(struct npd_set_backend *b);
	/* Creates set with its entries; an existing one has its content replaced atomically. */
	int (*create)(struct npd_set_backend *b, const struct npd_set *set, struct npd_err *err);
	/* Adds op->add and deletes op->del (or rebuilds from op->set when that is cheaper);
	 * the entries it keeps keep their counters, as create's do not. */
	int (*update)(struct npd_set_backend *b, const struct npd_set_op *op, struct npd_err *err);
	/* Destroys a set; one that does not exist is not an error. */
	int (*destroy)(struct npd_set_backend *b, const char *name, struct npd_err *err);
	/* Appends every set of ours with its entry count to out->sets. */
	int (*list_owned)(struct npd_set_backend *b, struct npd_owned *out, struct npd_err *err);
	/* Destroys every set of ours (after the table backend's cleanup: rules use them). */
	int (*cleanup)(struct npd_set_backend *b, struct npd_err *err);
	/* Passes fn every entry of set name (one of ours created with counters) with its
	 * kernel packet and byte counters; NULL for a backend that has none. -ENOENT: no such
	 * set; -EINVAL: not ours, or without counters (fn not called). */
	int (*read_counters)(struct npd_set_backend *b, const char *name, npd_set_counter_fn fn,
			     void *ctx, struct npd_err *err);
};

/* Finds a table backend by name; NULL if unknown. "auto" is resolved by npd_backend_detect. */
const struct npd_backend_ops *npd_backend_find(const char *name);
/* Picks "legacy" or "nft" the way iptables' own wrapper would be chosen on this host: by
 * the target of /etc/alternatives/iptables, else by the output of `iptables -V`
 * ("nf_tables" or "legacy"); legacy when neither answers. */
const struct npd_backend_ops *npd_backend_detect(void);
/* The set backend that goes with a table backend: fake with fake, ipset otherwise. */
const struct npd_set_backend_ops *npd_set_backend_for(const struct npd_backend_ops *tables);

/* Applies a plan in order: set creates/updates, v4 and v6 commits, set destroys. On
 * failure returns the first -errno (its detail in err) and stops; what was applied stays
 * applied. The number of table commits made is added to *commits when non-NULL. */
int npd_backend_apply(const struct npd_backend_ops *ops, struct npd_backend *b,
		      const struct npd_set_backend_ops *set_ops, struct npd_set_backend *sb,
		      const struct npd_plan *plan, unsigned *commits, struct npd_err *err);
/* What npd_backend_apply_ex takes beyond a plan, and what it tells of its work. */
struct npd_apply_opts {
	/* In: when non-NULL and the table backend has commit_ex, each commit passes it the
	 * counters of the rules it restarts, read from the very table it replaces, so no
	 * separate reading is needed (npd_backend_can_count_commits). */
	npd_counter_fn reset_counters;
	void *reset_ctx;
	/* Out (written whatever the result): nanoseconds of the monotonic clock spent on the
	 * set creates and updates, and on what follows them: the table commits of both
	 * families and the set destroys. */
	uint64_t sets_ns, tables_ns;
	/* Out, the parts of tables_ns a backend with commit_ex measures (else 0): reading and
	 * parsing the tables (libiptc's init), and committing them (building the new table
	 * and handing it to the kernel, with the counters of the rules kept). */
	uint64_t read_ns, commit_ns;
};
/* npd_backend_apply with the options above (o may not be NULL). */
int npd_backend_apply_ex(const struct npd_backend_ops *ops, struct npd_backend *b,
			 const struct npd_set_backend_ops *set_ops, struct npd_set_backend *sb,
			 const struct npd_plan *plan, unsigned *commits, struct npd_err *err,
			 struct npd_apply_opts *o);
/* Whether ops's commits can pass on the counters they restart (npd_apply_opts). */
bool npd_backend_can_count_commits(const struct npd_backend_ops *ops);
/* Fills *out (caller finalizes on success) with what of ours the kernel holds: the table
 * backend's chains and hooks and the set backend's sets. */
int npd_backend_list_owned(const struct npd_backend_ops *ops, struct npd_backend *b,
			   const struct npd_set_backend_ops *set_ops, struct npd_set_backend *sb,
			   struct npd_owned *out, struct npd_err *err);
/* Removes every hook and chain of ours, then every set of ours. */
int npd_backend_cleanup(const struct npd_backend_ops *ops, struct npd_backend *b,
			const struct npd_set_backend_ops *set_ops, struct npd_set_backend *sb,
			struct npd_err *err);

extern const struct npd_backend_ops npd_backend_legacy;
extern const struct npd_backend_ops npd_backend_nft;
extern const struct npd_set_backend_ops npd_set_backend_ipset;
/* The fake backends record operations as text lines for tests, one per operation:
 * "set-create NAME TYPE FAMILY N", "set-update NAME +A -D", "set-destroy NAME",
 * "commit v4 write=W del=D", "cleanup" (tables), "set-cleanup". */
/* In test builds (NPD_TEST_HOOKS), with NPD_FAKE_FAIL_COMMITS=N in the environment at
 * open, its first N commits fail with -EAGAIN, so the agent's retry path can be tested. */
extern const struct npd_backend_ops npd_backend_fake;
extern const struct npd_set_backend_ops npd_set_backend_fake;
/* All operations so far (of this handle, or of the shared opts.fake_log). */
const char *npd_backend_fake_log(struct npd_backend *b);
void npd_backend_fake_reset(struct npd_backend *b);
const char *npd_set_backend_fake_log(struct npd_set_backend *b);
/* Sets what the fake's read_counters reports for entry e of set name, as the kernel would
 * have counted it; 0, or -ENOENT when the set or the entry is not there. */
int npd_set_backend_fake_count(struct npd_set_backend *b, const char *name,
			       const struct npd_set_entry *e, uint64_t packets, uint64_t bytes);

#endif
