/* fake.c: a backend that touches no kernel. It records every operation as one text line
 * (see backend.h) and remembers what it was told exists, so list_owned answers like a
 * kernel would. Lets the agent and differ tests run without root. */
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
	struct npd_buf log;
	struct npd_map sets; /* name -> entry count + 1 */
	struct fake_table v4, v6;
	unsigned fail_commits; /* commits still to fail with -EAGAIN (failure-path tests) */
};

static int
fake_open(const struct npd_backend_opts *opts, struct npd_backend **out)
{
	struct npd_backend *b = npd_xcalloc(1, sizeof(*b));

	(void)opts;
#ifdef NPD_TEST_HOOKS
	/* The agent's retry and backoff are tested by starting netpold with this set. */
	const char *fail = getenv("NPD_FAKE_FAIL_COMMITS");

	if (fail)
		b->fail_commits = (unsigned)strtoul(fail, NULL, 10);
#endif
	npd_buf_init(&b->log);
	npd_map_init(&b->sets);
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
	npd_map_fini(&b->sets);
	npd_buf_fini(&b->log);
	free(b);
}

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

static int
fake_set_create(struct npd_backend *b, const struct npd_set *set)
{
	npd_buf_printf(&b->log, "set-create %s %s %s %zu\n", set->name,
		       npd_set_type_name(set->type), set->family == AF_INET6 ? "inet6" : "inet",
		       set->n_entries);
	npd_map_set(&b->sets, set->name, count_value(set->n_entries));
	return 0;
}

static int
fake_set_update(struct npd_backend *b, const struct npd_set_op *op)
{
	const char *name = op->set ? op->set->name : op->name;
	void *v = npd_map_get(&b->sets, name);
	size_t n;

	npd_buf_printf(&b->log, "set-update %s +%zu -%zu\n", name, op->n_add, op->n_del);
	if (!v)
		return -ENOENT;
	n = value_count(v) + op->n_add;
	n = n > op->n_del ? n - op->n_del : 0;
	if (op->set)
		n = op->set->n_entries;
	npd_map_set(&b->sets, name, count_value(n));
	return 0;
}

static int
fake_set_destroy(struct npd_backend *b, const char *name)
{
	npd_buf_printf(&b->log, "set-destroy %s\n", name);
	npd_map_del(&b->sets, name);
	return 0;
}

static int
fake_commit(struct npd_backend *b, const struct npd_table_change *chg)
{
	struct fake_table *t = chg->family == AF_INET6 ? &b->v6 : &b->v4;
	size_t i;

	if (b->fail_commits) {
		b->fail_commits--;
		npd_buf_printf(&b->log, "commit %s failed\n",
			       chg->family == AF_INET6 ? "v6" : "v4");
		return -EAGAIN;
	}
	npd_buf_printf(&b->log, "commit %s write=%zu del=%zu\n",
		       chg->family == AF_INET6 ? "v6" : "v4", chg->n_write, chg->n_del);
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
}

static void
copy_hooks(const struct fake_table *t, struct npd_owned_family *of)
{
	if (!t->n_hooks)
		return;
	of->hooks = npd_xcalloc(t->n_hooks, sizeof(*of->hooks));
	memcpy(of->hooks, t->hooks, t->n_hooks * sizeof(*of->hooks));
	of->n_hooks = t->n_hooks;
}

static int
fake_list_owned(struct npd_backend *b, struct npd_owned *out)
{
	struct npd_owned o = {0};
	size_t cap = 0, it = 0;
	const char *name;
	void *v;

	list_table(&b->v4, AF_INET, &o, &cap);
	list_table(&b->v6, AF_INET6, &o, &cap);
	cap = 0;
	while (npd_map_next(&b->sets, &it, &name, &v)) {
		struct npd_owned_set *s;

		npd_xgrow(&o.sets, &cap, o.n_sets + 1, sizeof(*o.sets));
		s = &o.sets[o.n_sets++];
		memset(s, 0, sizeof(*s));
		snprintf(s->name, sizeof(s->name), "%s", name);
		s->n_entries = value_count(v);
	}
	copy_hooks(&b->v4, npd_owned_family(&o, AF_INET));
	copy_hooks(&b->v6, npd_owned_family(&o, AF_INET6));
	*out = o;
	return 0;
}

static int
fake_cleanup(struct npd_backend *b)
{
	npd_buf_adds(&b->log, "cleanup\n");
	npd_map_fini(&b->sets);
	npd_map_fini(&b->v4.chains);
	npd_map_fini(&b->v6.chains);
	npd_map_init(&b->sets);
	npd_map_init(&b->v4.chains);
	npd_map_init(&b->v6.chains);
	b->v4.n_hooks = b->v6.n_hooks = 0;
	return 0;
}

const char *
npd_backend_fake_log(struct npd_backend *b)
{
	return b->log.data ? b->log.data : "";
}

void
npd_backend_fake_reset(struct npd_backend *b)
{
	npd_buf_reset(&b->log);
}

const struct npd_backend_ops npd_backend_fake = {
    .name = "fake",
    .open = fake_open,
    .close = fake_close,
    .set_create = fake_set_create,
    .set_update = fake_set_update,
    .set_destroy = fake_set_destroy,
    .commit = fake_commit,
    .list_owned = fake_list_owned,
    .cleanup = fake_cleanup,
    .read_counters = NULL,
};
