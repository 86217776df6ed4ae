/* legacy.c: the libiptc backend for legacy (x_tables) filter tables, IPv4 through libip4tc
 * and IPv6 through libip6tc (iptc_family.c), with entries encoded by iptc_entry.c. It
 * writes one family in one iptc_commit, under the xtables lock, retrying when another writer committed between our
 * read and our write (the kernel answers EAGAIN when the entry count changed). It touches
 * only NPD- chains and the jumps into them from built-in chains: never a built-in chain's
 * other rules, never a flush of a built-in chain. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <libiptc/libiptc.h>

#include "npd/buf.h"
#include "npd/clock.h"
#include "npd/map.h"
#include "npd/mem.h"
#include "iptc_entry.h"
#include "iptc_family.h"
#include "ipset_int.h"
#include "xt_common.h"

#define DEFAULT_LOCK_PATH "/run/xtables.lock"
#define DEFAULT_LOCK_WAIT_MS 10000
#define DEFAULT_RETRIES 5

struct npd_backend {
	struct npd_backend_opts opts;
	char *lock_path;
};
/* ---- transactions ---- */

/* Set names resolve to kernel indexes once per transaction, over one lookup socket. */
struct set_cache {
	struct npd_map map; /* name -> index + 1 */
	struct npd_ipset_lookup lookup;
	struct npd_err *err;
};

static int
set_index(const char *name, uint16_t *index, void *ctx)
{
	struct set_cache *cache = ctx;
	void *v = npd_map_get(&cache->map, name);
	int rc;

	if (v) {
		*index = (uint16_t)((uintptr_t)v - 1);
		return 0;
	}
	rc = npd_ipset_lookup_index(&cache->lookup, name, index, cache->err);
	if (rc == 0)
		npd_map_set(&cache->map, name, (void *)(uintptr_t)(*index + 1u));
	return rc;
}

/* Takes the xtables lock, polling every millisecond for at most opts.lock_wait_ms of the
 * clock: another writer (kube-proxy's iptables-restore, an operator's iptables) holds it
 * for as long as its own commit takes, and a coarser poll would add up to its whole period
 * to the event that waits behind it. */
static int
lock_take(struct npd_backend *b, int *fdp, struct npd_err *err)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = 1000 * 1000};
	uint64_t start = npd_now_ns(), waited_ms;
	int fd;

	fd = open(b->lock_path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return npd_err_set(err, -errno, "xtables lock %s: %s", b->lock_path,
				   strerror(errno));
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			npd_err_set(err, -EIO, "xtables lock %s: %s", b->lock_path,
				    strerror(errno));
			close(fd);
			return -EIO;
		}
		waited_ms = (npd_now_ns() - start) / 1000000;
		if (waited_ms >= b->opts.lock_wait_ms) {
			npd_err_set(err, -EBUSY,
				    "xtables lock %s: held by another writer for %u ms",
				    b->lock_path, (unsigned)waited_ms);
			close(fd);
			return -EBUSY;
		}
		nanosleep(&ts, NULL);
	}
	*fdp = fd;
	return 0;
}

/* Edits a freshly read table; 0 or -errno (detail in err). */
typedef int (*edit_fn)(const struct npd_iptc_fam *f, struct xtc_handle *h, const void *ctx,
		       struct npd_err *err);

/* Runs edit + commit under the xtables lock, redoing the whole read-edit-commit when the
 * commit lost a race (EAGAIN), at most opts.commit_retries more times. Adds the time of
 * the reads and the commits to times (NULL: not timed). */
static int
transact(struct npd_backend *b, const struct npd_iptc_fam *f, edit_fn edit, const void *ctx,
	 struct npd_apply_opts *times, struct npd_err *err)
{
	struct xtc_handle *h = NULL;
	unsigned attempt;
	uint64_t t;
	int fd = -1, rc, ok;

	rc = lock_take(b, &fd, err);
	if (rc)
		return rc;
	for (attempt = 0;; attempt++) {
		t = npd_now_ns();
		h = f->init("filter");
		if (times)
			times->read_ns += npd_now_ns() - t;
		if (!h) {
			rc = npd_err_set(err, errno ? -errno : -EIO, "libiptc %s init: %s", f->tag,
					 f->strerror(errno));
			goto out;
		}
		rc = edit(f, h, ctx, err);
		if (rc)
			goto out;
		if (b->opts.before_commit)
			b->opts.before_commit(f->family, attempt, b->opts.before_commit_ctx);
		t = npd_now_ns();
		ok = f->commit(h);
		if (times)
			times->commit_ns += npd_now_ns() - t;
		if (ok)
			break;
		rc = npd_err_set(err, errno ? -errno : -EIO, "libiptc %s commit: %s", f->tag,
				 f->strerror(errno));
		f->free(h);
		h = NULL;
		if (rc != -EAGAIN || attempt >= b->opts.commit_retries)
			goto out;
	}
	rc = 0;
out:
	if (h)
		f->free(h);
	close(fd); /* releases the flock */
	return rc;
}

static int
iptc_fail(const struct npd_iptc_fam *f, const char *what, const char *chain, struct npd_err *err)
{
	int e = errno;

	return npd_err_set(err, e ? -e : -EIO, "libiptc %s %s %s: %s", f->tag, what, chain,
			   f->strerror(e));
}

/* Names of our chains in h, copied: deleting while iterating libiptc's chain cursor is not
 * allowed. */
static size_t
collect_ours(const struct npd_iptc_fam *f, struct xtc_handle *h, char (**out)[NPD_CHAIN_NAMELEN])
{
	char(*names)[NPD_CHAIN_NAMELEN] = NULL;
	size_t n = 0, cap = 0;
	const char *c;

	for (c = f->first_chain(h); c; c = f->next_chain(h)) {
		if (!npd_xt_is_ours(c))
			continue;
		npd_xgrow(&names, &cap, n + 1, sizeof(*names));
		snprintf(names[n++], NPD_CHAIN_NAMELEN, "%s", c);
	}
	*out = names;
	return n;
}

/* Reads h into t: every chain, the rules of the built-in ones, the rule count of ours.
 * Strings stay h's: t is used before h changes. */
static void
read_view(const struct npd_iptc_fam *f, struct xtc_handle *h, struct npd_xt_table *t)
{
	const char *c;
	const void *e;

	npd_xt_table_init(t, f->family);
	for (c = f->first_chain(h); c; c = f->next_chain(h)) {
		struct npd_xt_chain *xc = npd_xt_table_add_chain(t, c, f->builtin(c, h));

		if (xc->builtin)
			for (e = f->first_rule(c, h); e; e = f->next_rule(e, h))
				npd_xt_chain_add_rule(xc, f->get_target(e, h), f->is_plain(e),
						      NULL);
		else if (npd_xt_is_ours(c))
			for (e = f->first_rule(c, h); e; e = f->next_rule(e, h))
				xc->n_rules++;
	}
}

/* Performs one hook layout on h: deletions from the bottom up, so positions stay valid, then
 * insertions at the top, last first. */
static int
apply_hook_layout(const struct npd_iptc_fam *f, struct xtc_handle *h,
		  const struct npd_hook_layout *p, struct npd_err *err)
{
	size_t i;
	int rc = 0;

	for (i = p->n_del; i-- > 0;)
		if (!f->delete_num(p->builtin, (unsigned)p->del[i], h))
			return iptc_fail(f, "delete hook from", p->builtin, err);
	for (i = p->n_ins; i-- > 0;) {
		struct npd_rule r;
		void *entry = NULL;

		memset(&r, 0, sizeof(r));
		r.target = NPD_T_JUMP;
		snprintf(r.jump, sizeof(r.jump), "%s", p->ins[i]);
		rc = npd_iptc_entry_build(&r, f->family, NULL, NULL, &entry);
		if (rc)
			return rc;
		if (!f->insert(p->builtin, entry, 0, h))
			rc = iptc_fail(f, "insert hook into", p->builtin, err);
		free(entry);
		if (rc)
			return rc;
	}
	return 0;
}

/* Hooks of every built-in chain: desired ones (NULL table: none) at the top, others gone.
 * Every layout is made before h changes, since the view borrows h's strings. */
static int
ensure_hooks(const struct npd_iptc_fam *f, struct xtc_handle *h, const struct npd_table *desired,
	     struct npd_err *err)
{
	struct npd_hook_layout *layouts = NULL;
	struct npd_xt_table t;
	size_t n, i;
	int rc = 0;

	read_view(f, h, &t);
	n = npd_xt_layout_hooks(&t, desired, &layouts);
	for (i = 0; i < n && rc == 0; i++)
		rc = apply_hook_layout(f, h, &layouts[i], err);
	npd_hook_layouts_free(layouts, n);
	npd_xt_table_fini(&t);
	return rc;
}

static int
fill_chain(const struct npd_iptc_fam *f, struct xtc_handle *h, const struct npd_chain *c,
	   struct set_cache *sets, struct npd_err *err)
{
	size_t i;
	int rc;

	for (i = 0; i < c->n_rules; i++) {
		void *entry = NULL;

		rc = npd_iptc_entry_build(&c->rules[i], f->family, set_index, sets, &entry);
		if (rc)
			return rc;
		rc = f->append(c->name, entry, h) ? 0 : iptc_fail(f, "append to", c->name, err);
		free(entry);
		if (rc)
			return rc;
	}
	return 0;
}

/* Passes fn the counters of every rule of chain c in h. */
static void
feed_chain(const struct npd_iptc_fam *f, struct xtc_handle *h, const char *c, npd_counter_fn fn,
	   void *ctx)
{
	const void *e;
	size_t idx = 0;

	for (e = f->first_rule(c, h); e; e = f->next_rule(e, h), idx++) {
		const struct xt_counters *k = f->counters(e);

		fn(f->family, c, idx, k->pcnt, k->bcnt, ctx);
	}
}

/* A commit's change, and who is told the counters it restarts (fn NULL: nobody). */
struct commit_ctx {
	const struct npd_table_change *chg;
	npd_counter_fn fn;
	void *fn_ctx;
};

static int
edit_commit(const struct npd_iptc_fam *f, struct xtc_handle *h, const void *ctx,
	    struct npd_err *err)
{
	const struct commit_ctx *cc = ctx;
	const struct npd_table_change *chg = cc->chg;
	struct set_cache sets = {.err = err};
	size_t i;
	int rc = 0;

	npd_map_init(&sets.map);
	npd_ipset_lookup_init(&sets.lookup);
	/* The handle holds the counters as read with the table: the chains about to be
	 * rewritten or deleted restart from zero, so what they counted is taken now, from this
	 * reading, instead of from a reading of its own. */
	if (cc->fn) {
		for (i = 0; i < chg->n_write; i++)
			if (f->is_chain(chg->write[i]->name, h))
				feed_chain(f, h, chg->write[i]->name, cc->fn, cc->fn_ctx);
		for (i = 0; i < chg->n_del; i++)
			if (npd_xt_is_ours(chg->del[i]) && f->is_chain(chg->del[i], h))
				feed_chain(f, h, chg->del[i], cc->fn, cc->fn_ctx);
	}
	/* Chains going away are emptied first: they may jump to each other. */
	for (i = 0; i < chg->n_del; i++)
		if (f->is_chain(chg->del[i], h) && !f->flush(chg->del[i], h)) {
			rc = iptc_fail(f, "flush", chg->del[i], err);
			goto out;
		}
	/* Every written chain exists before any rule is appended: rules jump between them. */
	for (i = 0; i < chg->n_write; i++) {
		const char *name = chg->write[i]->name;

		if (!npd_xt_is_ours(name)) {
			rc = npd_err_set(err, -EPERM, "refusing to write chain %s: not ours", name);
			goto out;
		}
		if (f->is_chain(name, h) ? !f->flush(name, h) : !f->create_chain(name, h)) {
			rc = iptc_fail(f, "create/flush", name, err);
			goto out;
		}
	}
	for (i = 0; i < chg->n_write; i++) {
		rc = fill_chain(f, h, chg->write[i], &sets, err);
		if (rc)
			goto out;
	}
	if (chg->desired) {
		rc = ensure_hooks(f, h, chg->desired, err);
		if (rc)
			goto out;
	}
	for (i = 0; i < chg->n_del; i++)
		if (npd_xt_is_ours(chg->del[i]) && f->is_chain(chg->del[i], h) &&
		    !f->delete_chain(chg->del[i], h)) {
			rc = iptc_fail(f, "delete chain", chg->del[i], err);
			goto out;
		}
out:
	npd_ipset_lookup_fini(&sets.lookup);
	npd_map_fini(&sets.map);
	return rc;
}

static int
edit_cleanup(const struct npd_iptc_fam *f, struct xtc_handle *h, const void *ctx,
	     struct npd_err *err)
{
	char(*names)[NPD_CHAIN_NAMELEN] = NULL;
	size_t n, i;
	int rc;

	(void)ctx;
	rc = ensure_hooks(f, h, NULL, err);
	if (rc)
		return rc;
	n = collect_ours(f, h, &names);
	for (i = 0; i < n && rc == 0; i++)
		if (!f->flush(names[i], h))
			rc = iptc_fail(f, "flush", names[i], err);
	for (i = 0; i < n && rc == 0; i++)
		if (!f->delete_chain(names[i], h))
			rc = iptc_fail(f, "delete chain", names[i], err);
	free(names);
	return rc;
}

/* ---- ops ---- */

static int
legacy_open(const struct npd_backend_opts *opts, struct npd_backend **out, struct npd_err *err)
{
	struct npd_backend *b = npd_xcalloc(1, sizeof(*b));

	(void)err;
	if (opts)
		b->opts = *opts;
	b->lock_path = npd_xstrdup(b->opts.lock_path ? b->opts.lock_path : DEFAULT_LOCK_PATH);
	b->opts.lock_path = b->lock_path;
	b->opts.restore_v4 = b->opts.restore_v6 = NULL;
	b->opts.save_v4 = b->opts.save_v6 = NULL;
	if (!b->opts.lock_wait_ms)
		b->opts.lock_wait_ms = DEFAULT_LOCK_WAIT_MS;
	if (!b->opts.commit_retries)
		b->opts.commit_retries = DEFAULT_RETRIES;
	*out = b;
	return 0;
}

static void
legacy_close(struct npd_backend *b)
{
	if (!b)
		return;
	free(b->lock_path);
	free(b);
}

static int
legacy_commit_ex(struct npd_backend *b, const struct npd_table_change *chg,
		 struct npd_apply_opts *o, struct npd_err *err)
{
	struct commit_ctx cc = {.chg = chg};

	if (o) {
		cc.fn = o->reset_counters;
		cc.fn_ctx = o->reset_ctx;
	}
	return transact(b, npd_iptc_fam_of(chg->family), edit_commit, &cc, o, err);
}

static int
legacy_commit(struct npd_backend *b, const struct npd_table_change *chg, struct npd_err *err)
{
	return legacy_commit_ex(b, chg, NULL, err);
}

static void
list_family(const struct npd_iptc_fam *f, struct npd_owned *o, size_t *cap_chains)
{
	struct xtc_handle *h = f->init("filter");
	struct npd_xt_table t;

	if (!h)
		return; /* no filter table in this family: nothing of ours */
	read_view(f, h, &t);
	npd_xt_list_owned(&t, o, cap_chains);
	npd_xt_table_fini(&t);
	f->free(h);
}

static int
legacy_list_owned(struct npd_backend *b, struct npd_owned *out, struct npd_err *err)
{
	size_t cap = out->n_chains;

	(void)b;
	(void)err;
	list_family(&npd_iptc_v4, out, &cap);
	list_family(&npd_iptc_v6, out, &cap);
	return 0;
}

static bool
family_has_ours(const struct npd_iptc_fam *f)
{
	struct xtc_handle *h = f->init("filter");
	struct npd_xt_table t;
	bool any;

	if (!h)
		return false;
	read_view(f, h, &t);
	any = npd_xt_has_ours(&t);
	npd_xt_table_fini(&t);
	f->free(h);
	return any;
}

static int
legacy_cleanup(struct npd_backend *b, struct npd_err *err)
{
	const struct npd_iptc_fam *fams[] = {&npd_iptc_v4, &npd_iptc_v6};
	size_t i;
	int rc;

	for (i = 0; i < NPD_ARRAY_SIZE(fams); i++) {
		if (!family_has_ours(fams[i]))
			continue;
		rc = transact(b, fams[i], edit_cleanup, NULL, NULL, err);
		if (rc)
			return rc;
	}
	return 0;
}

/* Whether a reading limited to only's resets needs the family's table at all: a table
 * snapshot is the costly part, and a commit that only moves hooks resets no counter. */
static bool
family_read(const struct npd_plan *only, uint8_t family)
{
	const struct npd_table_change *t = family == AF_INET6 ? &only->v6 : &only->v4;

	return t->commit && (t->n_write || t->n_del);
}

static int
legacy_read_counters(struct npd_backend *b, const struct npd_plan *only, npd_counter_fn fn,
		     void *ctx, struct npd_err *err)
{
	const struct npd_iptc_fam *fams[] = {&npd_iptc_v4, &npd_iptc_v6};
	size_t i;

	(void)b;
	(void)err;
	for (i = 0; i < NPD_ARRAY_SIZE(fams); i++) {
		const struct npd_iptc_fam *f = fams[i];
		struct xtc_handle *h;
		const char *c;

		if (only && !family_read(only, f->family))
			continue;
		h = f->init("filter");
		if (!h)
			continue;
		for (c = f->first_chain(h); c; c = f->next_chain(h))
			if (npd_xt_is_ours(c) &&
			    (!only || npd_plan_resets_chain(only, f->family, c)))
				feed_chain(f, h, c, fn, ctx);
		f->free(h);
	}
	return 0;
}

const struct npd_backend_ops npd_backend_legacy = {
    .name = "legacy",
    .open = legacy_open,
    .close = legacy_close,
    .commit = legacy_commit,
    .commit_ex = legacy_commit_ex,
    .list_owned = legacy_list_owned,
    .cleanup = legacy_cleanup,
    .read_counters = legacy_read_counters,
};
