/* registry.c: the static list of backends, their selection ("auto" follows the host's
 * iptables wrapper), and npd_backend_apply, the one place that fixes the order in which a
 * plan reaches the kernel: sets first (so rules never reference a missing set), then one
 * commit per family, then set destruction (so no set is destroyed while a rule uses it).
 * Also owns the per-thread last-error message every backend reports through. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "npd/mem.h"
#include "ipset_int.h"
#include "spawn.h"

static const struct npd_backend_ops *const registry[] = {
    &npd_backend_legacy,
    &npd_backend_nft,
#ifdef NPD_TEST_HOOKS
    /* Only test builds can run the agent on the fake backend (`--backend fake`). */
    &npd_backend_fake,
#endif
};

static _Thread_local char last_error[512];

void
npd_backend_seterr(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
}

void
npd_backend_clearerr(void)
{
	last_error[0] = '\0';
}

const char *
npd_backend_last_error(void)
{
	return last_error;
}

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

int
npd_backend_apply(const struct npd_backend_ops *ops, struct npd_backend *b,
		  const struct npd_plan *plan, unsigned *commits)
{
	const struct npd_table_change *chg[2] = {&plan->v4, &plan->v6};
	size_t i;
	int rc;

	npd_backend_clearerr();
	for (i = 0; i < plan->n_set_ops; i++) {
		const struct npd_set_op *op = &plan->set_ops[i];

		if (op->kind == NPD_SETOP_CREATE)
			rc = ops->set_create(b, op->set);
		else if (op->kind == NPD_SETOP_UPDATE)
			rc = ops->set_update(b, op);
		else
			continue;
		if (rc)
			return rc;
	}
	for (i = 0; i < NPD_ARRAY_SIZE(chg); i++) {
		if (!chg[i]->commit)
			continue;
		rc = ops->commit(b, chg[i]);
		if (rc)
			return rc;
		if (commits)
			(*commits)++;
	}
	for (i = 0; i < plan->n_set_ops; i++) {
		const struct npd_set_op *op = &plan->set_ops[i];

		if (op->kind != NPD_SETOP_DESTROY)
			continue;
		rc = ops->set_destroy(b, op->name);
		if (rc)
			return rc;
	}
	return 0;
}
