/* fake.c: a table backend and a set backend that touch no kernel. Each records every
 * operation as one text line (see backend.h), into its own log or one both share, and
 * remembers what it was told exists (a set's entries too, each with the counters a test
 * gave it), so list_owned and read_counters answer like a kernel would. Lets the agent and
 * differ tests run without root. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "npd/backend.h"
#include "npd/buf.h"
#include "npd/map.h"
#include "npd/mem.h"

struct fake_table {
	struct npd_map chains; /* name -> rule count + 1 (so 0 rules is not NULL) */
	struct npd_hook hooks[NPD_ARRAY_SIZE(((struct npd_table *)0)->hooks)];
	size_t n_hooks;
};

struct npd_backend {
	struct npd_buf own, *log; /* log: &own or the shared opts.fake_log */
	struct fake_table v4, v6;
	unsigned fail_commits; /* commits still to fail with -EAGAIN (failure-path tests) */
};

struct npd_set_backend {
	struct npd_buf own, *log;
	struct npd_map sets; /* name -> struct fake_set (owned) */
};

static void *
count_value(size_t n)
{
	return (void *)(uintptr_t)(n + 1);
}

static size_t
value_count(void *v)
{
	return (size_t)(uintptr_t)v - 1;
}

/* ---- tables ---- */

static int
fake_open(const struct npd_backend_opts *opts, struct npd_backend **out, struct npd_err *err)
{
	struct npd_backend *b = npd_xcalloc(1, sizeof(*b));

	(void)err;
#ifdef NPD_TEST_HOOKS
	/* The agent's retry and backoff are tested by starting netpold with this set. */
	const char *fail = getenv("NPD_FAKE_FAIL_COMMITS");

	if (fail)
		b->fail_commits = (unsigned)strtoul(fail, NULL, 10);
#endif
	npd_buf_init(&b->own);
	b->log = opts && opts->fake_log ? opts->fake_log : &b->own;
	npd_map_init(&b->v4.chains);
	npd_map_init(&b->v6.chains);
	*out = b;
	return 0;
}

static void
fake_close(struct npd_backend *b)
{
	if (!b)
		return;
	npd_map_fini(&b->v6.chains);
	npd_map_fini(&b->v4.chains);
	npd_buf_fini(&b->own);
	free(b);
}

static int
fake_commit(struct npd_backend *b, const struct npd_table_change *chg, struct npd_err *err)
{
	struct fake_table *t = chg->family == AF_INET6 ? &b->v6 : &b->v4;
	const char *tag = chg->family == AF_INET6 ? "v6" : "v4";
	size_t i;

	if (b->fail_commits) {
		b->fail_commits--;
		npd_buf_printf(b->log, "commit %s failed\n", tag);
		return npd_err_set(err, -EAGAIN, "fake %s commit: failing as told (%u more)", tag,
				   b->fail_commits);
	}
	npd_buf_printf(b->log, "commit %s write=%zu del=%zu\n", tag, chg->n_write, chg->n_del);
	for (i = 0; i < chg->n_write; i++)
		npd_map_set(&t->chains, chg->write[i]->name, count_value(chg->write[i]->n_rules));
	for (i = 0; i < chg->n_del; i++)
		npd_map_del(&t->chains, chg->del[i]);
	t->n_hooks = 0;
	if (chg->desired) {
		t->n_hooks = chg->desired->n_hooks;
		memcpy(t->hooks, chg->desired->hooks, t->n_hooks * sizeof(t->hooks[0]));
	}
	return 0;
}

static void
list_table(const struct fake_table *t, uint8_t family, struct npd_owned *o, size_t *cap)
{
	struct npd_owned_family *of = npd_owned_family(o, family);
	const char *name;
	void *v;
	size_t it = 0;

	while (npd_map_next(&t->chains, &it, &name, &v)) {
		struct npd_owned_chain *c;

		npd_xgrow(&o->chains, cap, o->n_chains + 1, sizeof(*o->chains));
		c = &o->chains[o->n_chains++];
		memset(c, 0, sizeof(*c));
		snprintf(c->name, sizeof(c->name), "%s", name);
		c->family = family;
		c->n_rules = value_count(v);
	}
	if (!t->n_hooks)
		return;
	free(of->hooks);
	of->hooks = npd_xcalloc(t->n_hooks, sizeof(*of->hooks));
	memcpy(of->hooks, t->hooks, t->n_hooks * sizeof(*of->hooks));
	of->n_hooks = t->n_hooks;
}

static int
fake_list_owned(struct npd_backend *b, struct npd_owned *out, struct npd_err *err)
{
	size_t cap = out->n_chains;

	(void)err;
	list_table(&b->v4, AF_INET, out, &cap);
	list_table(&b->v6, AF_INET6, out, &cap);
	return 0;
}

static int
fake_cleanup(struct npd_backend *b, struct npd_err *err)
{
	(void)err;
	npd_buf_adds(b->log, "cleanup\n");
	npd_map_fini(&b->v4.chains);
	npd_map_fini(&b->v6.chains);
	npd_map_init(&b->v4.chains);
	npd_map_init(&b->v6.chains);
	b->v4.n_hooks = b->v6.n_hooks = 0;
	return 0;
}

const char *
npd_backend_fake_log(struct npd_backend *b)
{
	return b->log->data ? b->log->data : "";
}

void
npd_backend_fake_reset(struct npd_backend *b)
{
	npd_buf_reset(b->log);
}

const struct npd_backend_ops npd_backend_fake = {
    .name = "fake",
    .open = fake_open,
    .close = fake_close,
    .commit = fake_commit,
    .list_owned = fake_list_owned,
    .cleanup = fake_cleanup,
    .read_counters = NULL,
};

/* ---- sets ---- */

/* One entry as the fake holds it: what a test said the kernel counted for it. */
struct fake_entry {
	struct npd_set_entry e;
	uint64_t packets, bytes;
};

/* A set as created: its entries sorted by npd_set_entry_cmp and unique. */
struct fake_set {
	bool counters;
	struct fake_entry *v;
	size_t n, cap;
};

static void
fake_set_free(void *p)
{
	struct fake_set *fs = p;

	if (fs)
		free(fs->v);
	free(fs);
}

static int
fake_entry_qcmp(const void *a, const void *b)
{
	const struct fake_entry *x = a, *y = b;

	return npd_set_entry_cmp(&x->e, &y->e);
}

/* The index of e in fs, or where it would go (*found false). */
static size_t
fake_set_find(const struct fake_set *fs, const struct npd_set_entry *e, bool *found)
{
	size_t lo = 0, hi = fs->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = npd_set_entry_cmp(&fs->v[mid].e, e);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

/* Adds or deletes one entry the way `ipset add/del -exist` does: a present entry is not
 * added again (its counters stay), an absent one is not an error to delete. */
static void
fake_set_edit(struct fake_set *fs, const struct npd_set_entry *e, bool add)
{
	bool found;
	size_t i = fake_set_find(fs, e, &found);

	if (add && !found) {
		npd_xgrow(&fs->v, &fs->cap, fs->n + 1, sizeof(*fs->v));
		memmove(&fs->v[i + 1], &fs->v[i], (fs->n - i) * sizeof(*fs->v));
		memset(&fs->v[i], 0, sizeof(*fs->v));
		fs->v[i].e = *e;
		fs->n++;
	} else if (!add && found) {
		memmove(&fs->v[i], &fs->v[i + 1], (fs->n - i - 1) * sizeof(*fs->v));
		fs->n--;
	}
}

static int
fset_open(const struct npd_backend_opts *opts, struct npd_set_backend **out, struct npd_err *err)
{
	struct npd_set_backend *b = npd_xcalloc(1, sizeof(*b));

	(void)err;
	npd_buf_init(&b->own);
	b->log = opts && opts->fake_log ? opts->fake_log : &b->own;
	npd_map_init(&b->sets);
	*out = b;
	return 0;
}

static void
fset_close(struct npd_set_backend *b)
{
	if (!b)
		return;
	npd_map_clear(&b->sets, fake_set_free);
	npd_map_fini(&b->sets);
	npd_buf_fini(&b->own);
	free(b);
}

/* Like the kernel's create (or re-creation by swap): fresh entries, counters at zero. */
static int
fset_create(struct npd_set_backend *b, const struct npd_set *set, struct npd_err *err)
{
	struct fake_set *fs = npd_xcalloc(1, sizeof(*fs));
	size_t i, n = 0;

	(void)err;
	npd_buf_printf(b->log, "set-create %s %s %s %zu\n", set->name, npd_set_type_name(set->type),
		       set->family == AF_INET6 ? "inet6" : "inet", set->n_entries);
	fs->counters = set->counters;
	if (set->n_entries) {
		fs->v = npd_xcalloc(set->n_entries, sizeof(*fs->v));
		for (i = 0; i < set->n_entries; i++)
			fs->v[i].e = set->entries[i];
		qsort(fs->v, set->n_entries, sizeof(*fs->v), fake_entry_qcmp);
		for (i = 0; i < set->n_entries; i++)
			if (!n || npd_set_entry_cmp(&fs->v[n - 1].e, &fs->v[i].e))
				fs->v[n++] = fs->v[i];
		fs->n = n;
		fs->cap = set->n_entries;
	}
	fake_set_free(npd_map_set(&b->sets, set->name, fs));
	return 0;
}

static int
fset_update(struct npd_set_backend *b, const struct npd_set_op *op, struct npd_err *err)
{
	const char *name = op->set ? op->set->name : op->name;
	struct fake_set *fs = npd_map_get(&b->sets, name);
	size_t i;

	npd_buf_printf(b->log, "set-update %s +%zu -%zu\n", name, op->n_add, op->n_del);
	if (!fs)
		return npd_err_set(err, -ENOENT, "fake: set %s does not exist", name);
	for (i = 0; i < op->n_add; i++)
		fake_set_edit(fs, &op->add[i], true);
	for (i = 0; i < op->n_del; i++)
		fake_set_edit(fs, &op->del[i], false);
	return 0;
}

static int
fset_destroy(struct npd_set_backend *b, const char *name, struct npd_err *err)
{
	(void)err;
	npd_buf_printf(b->log, "set-destroy %s\n", name);
	fake_set_free(npd_map_del(&b->sets, name));
	return 0;
}

static int
fset_list_owned(struct npd_set_backend *b, struct npd_owned *out, struct npd_err *err)
{
	size_t cap = out->n_sets, it = 0;
	const char *name;
	void *v;

	(void)err;
	while (npd_map_next(&b->sets, &it, &name, &v)) {
		const struct fake_set *fs = v;
		struct npd_owned_set *s;

		npd_xgrow(&out->sets, &cap, out->n_sets + 1, sizeof(*out->sets));
		s = &out->sets[out->n_sets++];
		memset(s, 0, sizeof(*s));
		snprintf(s->name, sizeof(s->name), "%s", name);
		s->n_entries = fs->n;
		s->counters = fs->counters;
	}
	return 0;
}

static int
fset_cleanup(struct npd_set_backend *b, struct npd_err *err)
{
	(void)err;
	npd_buf_adds(b->log, "set-cleanup\n");
	npd_map_clear(&b->sets, fake_set_free);
	return 0;
}

static int
fset_read_counters(struct npd_set_backend *b, const char *name, npd_set_counter_fn fn, void *ctx,
		   struct npd_err *err)
{
	const struct fake_set *fs = npd_map_get(&b->sets, name);
	size_t i;

	if (!fs)
		return npd_err_set(err, -ENOENT, "fake: set %s does not exist", name);
	if (!fs->counters)
		return npd_err_set(err, -EINVAL, "fake: set %s has no counters", name);
	for (i = 0; i < fs->n; i++)
		fn(name, &fs->v[i].e, fs->v[i].packets, fs->v[i].bytes, ctx);
	return 0;
}

int
npd_set_backend_fake_count(struct npd_set_backend *b, const char *name,
			   const struct npd_set_entry *e, uint64_t packets, uint64_t bytes)
{
	struct fake_set *fs = npd_map_get(&b->sets, name);
	bool found = false;
	size_t i = fs ? fake_set_find(fs, e, &found) : 0;

	if (!found)
		return -ENOENT;
	fs->v[i].packets = packets;
	fs->v[i].bytes = bytes;
	return 0;
}

const char *
npd_set_backend_fake_log(struct npd_set_backend *b)
{
	return b->log->data ? b->log->data : "";
}

const struct npd_set_backend_ops npd_set_backend_fake = {
    .name = "fake",
    .open = fset_open,
    .close = fset_close,
    .create = fset_create,
    .update = fset_update,
    .destroy = fset_destroy,
    .list_owned = fset_list_owned,
    .cleanup = fset_cleanup,
    .read_counters = fset_read_counters,
};
