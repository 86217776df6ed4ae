/* fake.c: a table backend and a set backend that touch no kernel. Each records every
 * operation as one text line (see backend.h), into its own log or one both share, and
 * remembers what it was told exists, so list_owned answers like a kernel would. Lets the
 * agent and differ tests run without root. */
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
	struct npd_map sets; /* name -> set_value(entry count, counters) */
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

/* A set's entry count and whether it was created with counters, in one map value. */
static void *
set_value(size_t n, bool counters)
{
	return (void *)(uintptr_t)((n + 1) << 1 | counters);
}

static size_t
set_count(void *v)
{
	return ((size_t)(uintptr_t)v >> 1) - 1;
}

static bool
set_counters(void *v)
{
	return (uintptr_t)v & 1;
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
	npd_map_fini(&b->sets);
	npd_buf_fini(&b->own);
	free(b);
}

static int
fset_create(struct npd_set_backend *b, const struct npd_set *set, struct npd_err *err)
{
	(void)err;
	npd_buf_printf(b->log, "set-create %s %s %s %zu\n", set->name, npd_set_type_name(set->type),
		       set->family == AF_INET6 ? "inet6" : "inet", set->n_entries);
	npd_map_set(&b->sets, set->name, set_value(set->n_entries, set->counters));
	return 0;
}

static int
fset_update(struct npd_set_backend *b, const struct npd_set_op *op, struct npd_err *err)
{
	const char *name = op->set ? op->set->name : op->name;
	void *v = npd_map_get(&b->sets, name);
	size_t n;

	npd_buf_printf(b->log, "set-update %s +%zu -%zu\n", name, op->n_add, op->n_del);
	if (!v)
		return npd_err_set(err, -ENOENT, "fake: set %s does not exist", name);
	n = set_count(v) + op->n_add;
	n = n > op->n_del ? n - op->n_del : 0;
	if (op->set)
		n = op->set->n_entries;
	npd_map_set(&b->sets, name, set_value(n, set_counters(v)));
	return 0;
}

static int
fset_destroy(struct npd_set_backend *b, const char *name, struct npd_err *err)
{
	(void)err;
	npd_buf_printf(b->log, "set-destroy %s\n", name);
	npd_map_del(&b->sets, name);
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
		struct npd_owned_set *s;

		npd_xgrow(&out->sets, &cap, out->n_sets + 1, sizeof(*out->sets));
		s = &out->sets[out->n_sets++];
		memset(s, 0, sizeof(*s));
		snprintf(s->name, sizeof(s->name), "%s", name);
		s->n_entries = set_count(v);
		s->counters = set_counters(v);
	}
	return 0;
}

static int
fset_cleanup(struct npd_set_backend *b, struct npd_err *err)
{
	(void)err;
	npd_buf_adds(b->log, "set-cleanup\n");
	npd_map_fini(&b->sets);
	npd_map_init(&b->sets);
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
};
