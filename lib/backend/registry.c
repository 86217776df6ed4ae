/* registry.c: the static list of table backends, their selection ("auto" follows the
 * host's iptables wrapper) and the set backend paired with each, and the calls that drive
 * one of each family: npd_backend_apply, the one place that fixes the order in which a
 * plan reaches the kernel: sets first (so rules never reference a missing set), then one
 * commit per family, then set destruction (so no set is destroyed while a rule uses it);
 * list_owned and cleanup (chains and hooks before sets, for the same reason). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "npd/clock.h"
#include "npd/mem.h"
#include "npd/backend.h"
#include "spawn.h"

static const struct npd_backend_ops *const registry[] = {
    &npd_backend_legacy,
    &npd_backend_nft,
#ifdef NPD_TEST_HOOKS
    /* Only test builds can run the agent on the fake backend (`--backend fake`). */
    &npd_backend_fake,
#endif
};

void
npd_owned_fini(struct npd_owned *o)
{
	if (!o)
		return;
	free(o->chains);
	free(o->sets);
	free(o->fam[0].hooks);
	free(o->fam[1].hooks);
	memset(o, 0, sizeof(*o));
}

struct npd_owned_family *
npd_owned_family(struct npd_owned *o, uint8_t family)
{
	return &o->fam[family == AF_INET6];
}

const struct npd_owned_family *
npd_owned_get_family(const struct npd_owned *o, uint8_t family)
{
	return &o->fam[family == AF_INET6];
}

const struct npd_backend_ops *
npd_backend_find(const char *name)
{
	size_t i;

	if (!name)
		return NULL;
	if (!strcmp(name, "auto"))
		return npd_backend_detect();
	for (i = 0; i < NPD_ARRAY_SIZE(registry); i++)
		if (!strcmp(registry[i]->name, name))
			return registry[i];
	return NULL;
}

/* Runs `iptables -V` and returns the start of its output (stdout and stderr) in buf. */
static int
iptables_version(char *buf, size_t len)
{
	char *argv[] = {(char *)(uintptr_t) "iptables", (char *)(uintptr_t) "-V", NULL};
	struct npd_buf out;
	int rc;

	npd_buf_init(&out);
	rc = npd_spawn(argv, NULL, &out, &out, NULL);
	snprintf(buf, len, "%s", out.data ? out.data : "");
	npd_buf_fini(&out);
	return rc ? -ENOENT : 0;
}

const struct npd_backend_ops *
npd_backend_detect(void)
{
	char target[256], out[256];
	ssize_t n;

	/* Debian-style hosts select the wrapper with update-alternatives. */
	n = readlink("/etc/alternatives/iptables", target, sizeof(target) - 1);
	if (n > 0) {
		target[n] = '\0';
		if (strstr(target, "nft"))
			return &npd_backend_nft;
		if (strstr(target, "legacy"))
			return &npd_backend_legacy;
	}
	if (iptables_version(out, sizeof(out)) == 0) {
		if (strstr(out, "nf_tables"))
			return &npd_backend_nft;
		if (strstr(out, "legacy"))
			return &npd_backend_legacy;
	}
	return &npd_backend_legacy;
}

const struct npd_set_backend_ops *
npd_set_backend_for(const struct npd_backend_ops *tables)
{
	return tables == &npd_backend_fake ? &npd_set_backend_fake : &npd_set_backend_ipset;
}

int
npd_backend_apply_ex(const struct npd_backend_ops *ops, struct npd_backend *b,
		     const struct npd_set_backend_ops *set_ops, struct npd_set_backend *sb,
		     const struct npd_plan *plan, unsigned *commits, struct npd_err *err,
		     struct npd_apply_opts *o)
{
	const struct npd_table_change *chg[2] = {&plan->v4, &plan->v6};
	uint64_t t0 = npd_now_ns(), t1 = 0, t2;
	size_t i;
	int rc = 0;

	npd_err_clear(err);
	o->read_ns = o->commit_ns = 0;
	for (i = 0; i < plan->n_set_ops; i++) {
		const struct npd_set_op *op = &plan->set_ops[i];

		if (op->kind == NPD_SETOP_CREATE)
			rc = set_ops->create(sb, op->set, err);
		else if (op->kind == NPD_SETOP_UPDATE)
			rc = set_ops->update(sb, op, err);
		else
			continue;
		if (rc)
			goto out;
	}
	t1 = npd_now_ns();
	for (i = 0; i < NPD_ARRAY_SIZE(chg); i++) {
		if (!chg[i]->commit)
			continue;
		if (ops->commit_ex)
			rc = ops->commit_ex(b, chg[i], o, err);
		else
			rc = ops->commit(b, chg[i], err);
		if (rc)
			goto out;
		if (commits)
			(*commits)++;
	}
	for (i = 0; i < plan->n_set_ops; i++) {
		const struct npd_set_op *op = &plan->set_ops[i];

		if (op->kind != NPD_SETOP_DESTROY)
			continue;
		rc = set_ops->destroy(sb, op->name, err);
		if (rc)
			goto out;
	}
out:
	t2 = npd_now_ns();
	if (!t1)
		t1 = t2; /* a set operation failed: no table was touched */
	o->sets_ns = t1 - t0;
	o->tables_ns = t2 - t1;
	return rc;
}

int
npd_backend_apply(const struct npd_backend_ops *ops, struct npd_backend *b,
		  const struct npd_set_backend_ops *set_ops, struct npd_set_backend *sb,
		  const struct npd_plan *plan, unsigned *commits, struct npd_err *err)
{
	struct npd_apply_opts o = {0};

	return npd_backend_apply_ex(ops, b, set_ops, sb, plan, commits, err, &o);
}

bool
npd_backend_can_count_commits(const struct npd_backend_ops *ops)
{
	return ops->commit_ex != NULL;
}

int
npd_backend_list_owned(const struct npd_backend_ops *ops, struct npd_backend *b,
		       const struct npd_set_backend_ops *set_ops, struct npd_set_backend *sb,
		       struct npd_owned *out, struct npd_err *err)
{
	struct npd_owned o;
	int rc;

	memset(&o, 0, sizeof(o));
	npd_err_clear(err);
	rc = ops->list_owned(b, &o, err);
	if (rc == 0)
		rc = set_ops->list_owned(sb, &o, err);
	if (rc) {
		npd_owned_fini(&o);
		return rc;
	}
	*out = o;
	return 0;
}

int
npd_backend_cleanup(const struct npd_backend_ops *ops, struct npd_backend *b,
		    const struct npd_set_backend_ops *set_ops, struct npd_set_backend *sb,
		    struct npd_err *err)
{
	int rc;

	npd_err_clear(err);
	rc = ops->cleanup(b, err);
	if (rc == 0)
		rc = set_ops->cleanup(sb, err);
	return rc;
}
