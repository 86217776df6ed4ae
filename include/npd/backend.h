/* backend.h: the family of dataplane backends. Each lib/backend/<name>.c exports one const
 * struct npd_backend_ops, listed in a registry. A backend owns only NPD-/npd- prefixed
 * chains and sets plus its jump hooks; it never flushes a table or touches another
 * writer's rules. Backends call the kernel but own no loop. */
#ifndef NPD_BACKEND_H
#define NPD_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "npd/differ.h"
#include "npd/ruleset.h"

struct npd_backend;

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

struct npd_backend_ops {
	const char *name; /* "legacy", "nft", "fake" */
	/* Returns 0 and a new handle, or -errno (e.g. -ENOENT when the tool is missing). */
	int (*open)(const struct npd_backend_opts *opts, struct npd_backend **out);
	void (*close)(struct npd_backend *b);
	/* Set operations through libipset (shared by the real backends). */
	int (*set_create)(struct npd_backend *b, const struct npd_set *set);
	int (*set_update)(struct npd_backend *b, const struct npd_set_op *op);
	int (*set_destroy)(struct npd_backend *b, const char *name);
	/* One atomic commit for one family: write chains, delete chains, ensure hooks at the
	 * top of their built-in chains and remove hooks of ours not in desired. Retries a lost
	 * race (EAGAIN) a bounded number of times, then returns -EAGAIN. */
	int (*commit)(struct npd_backend *b, const struct npd_table_change *chg);
	/* Lists what of ours exists in the kernel. */
	int (*list_owned)(struct npd_backend *b, struct npd_owned *out);
	/* Removes every hook, chain and set of ours (both families). */
	int (*cleanup)(struct npd_backend *b);
	/* Reads counters of our chains (may be NULL for a backend that cannot). */
	int (*read_counters)(struct npd_backend *b, npd_counter_fn fn, void *ctx);
};

/* The message of the last failed backend operation of this thread ("" when none). */
const char *npd_backend_last_error(void);

/* Finds a backend by name; NULL if unknown. "auto" is resolved by npd_backend_detect. */
const struct npd_backend_ops *npd_backend_find(const char *name);
/* Picks "legacy" or "nft" the way iptables' own wrapper would be chosen on this host: by
 * the target of /etc/alternatives/iptables, else by the output of `iptables -V`
 * ("nf_tables" or "legacy"); legacy when neither answers. */
const struct npd_backend_ops *npd_backend_detect(void);

/* Applies a plan in order: set creates/updates, v4 and v6 commits, set destroys. On
 * failure returns the first -errno and stops; what was applied stays applied. The
 * number of table commits made is added to *commits when commits is non-NULL. */
int npd_backend_apply(const struct npd_backend_ops *ops, struct npd_backend *b,
		      const struct npd_plan *plan, unsigned *commits);

extern const struct npd_backend_ops npd_backend_legacy;
extern const struct npd_backend_ops npd_backend_nft;
/* The fake backend records operations as text lines for tests, one per operation:
 * "set-create NAME TYPE FAMILY N", "set-update NAME +A -D", "set-destroy NAME",
 * "commit v4 write=W del=D", "cleanup". */
/* With NPD_FAKE_FAIL_COMMITS=N in the environment at open, its first N commits fail with
 * -EAGAIN, so the agent's retry path can be tested. */
extern const struct npd_backend_ops npd_backend_fake;
const char *npd_backend_fake_log(struct npd_backend *b); /* all operations so far */
void npd_backend_fake_reset(struct npd_backend *b);

#endif
