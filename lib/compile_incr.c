/* compile_incr.c: the incremental compiler's driver. npd_compile_full rebuilds the state
 * from the whole store; npd_compile_incr takes the store's change log since the last
 * compile and says which addresses each change can move (a pod's old and new ones, the
 * pods of a relabelled namespace), which pods are local and which of them, and which
 * kept chains, a change can alter, then lets compile.c build the ruleset over the state's
 * sets, local pods and kept chains and forgets the sets it no longer emits. The output is the full compiler's by
 * construction. Pure: no I/O, no clock, no globals. */
#include <errno.h>
#include <string.h>

#include "npd/buf.h"
#include "npd/compile.h"
#include "npd/map.h"
#include "npd/mem.h"
#include "npd/store.h"
#include "compile_int.h"
#include "compile_state_int.h"

void
npd_compile_state_key(struct npd_buf *b, const char *ns, const char *name)
{
	npd_buf_reset(b);
	npd_buf_adds(b, ns);
	npd_buf_addc(b, '\x1f');
	npd_buf_adds(b, name);
}

static void
apply_change(struct npd_compile_state *st, const struct npd_store *s,
	     const struct npd_store_change *ch)
{
	const struct npd_pod *const *pods;
	const struct npd_pod *pod;
	size_t i, n;

	switch (ch->kind) {
	case NPD_KIND_POD:
		pod = npd_store_get_pod(s, ch->ns, ch->name);
		npd_compile_state_track_local(st, pod, ch->ns, ch->name);
		for (i = 0; i < ch->n_old_ips; i++)
			npd_compile_state_retest_addr(st, s, &ch->old_ips[i]);
		npd_compile_state_retest_pod(st, s, pod);
		break;
	case NPD_KIND_NAMESPACE:
		/* Pods never change namespace (a move is a delete and an add), so the pods
		 * there now are all that its labels can move. Chains never read namespace
		 * labels: which policies select a pod depends on its own labels only. */
		pods = npd_store_pods_in(s, ch->name, &n);
		for (i = 0; i < n; i++)
			npd_compile_state_retest_pod(st, s, pods[i]);
		break;
	case NPD_KIND_POLICY:
		/* A policy changes chains and which sets exist, never a set's members: the
		 * compile that follows builds its chains anew and computes new sets. */
		npd_compile_chains_dirty_policy(st, ch->ns, ch->name);
		npd_compile_state_dirty_locals_in(st, ch->ns);
		break;
	case NPD_KIND__COUNT:
		break;
	}
}

/* Compiles with the state's sets, then forgets the sets nothing emitted. */
static int
run(struct npd_compile_state *st, const struct npd_store *s, const struct npd_compile_opts *o,
    struct npd_diags *d, struct npd_ruleset **out)
{
	int rc;

	rc = npd_compile_run(st, s, o, d, out);
	npd_compile_state_sweep(st);
	st->gen = npd_store_generation(s);
	return rc;
}

int
npd_compile_full(struct npd_compile_state *st, const struct npd_store *s,
		 const struct npd_compile_opts *o, struct npd_diags *d, struct npd_ruleset **out)
{
	const char *const *names;
	size_t n_ns, i, j;

	if (!o || !o->node_name || !o->mark)
		return -EINVAL;
	npd_compile_state_reset(st);
	st->node = npd_xstrdup(o->node_name);
	names = npd_store_ns_names(s, &n_ns);
	for (i = 0; i < n_ns; i++) {
		const struct npd_pod *const *pods;
		size_t n_pods;

		pods = npd_store_pods_in(s, names[i], &n_pods);
		for (j = 0; j < n_pods; j++)
			npd_compile_state_track_local(st, pods[j], pods[j]->ns, pods[j]->name);
	}
	st->built = true;
	st->epoch++;
	st->n_dirty = 0;
	st->dirty_all = true;
	return run(st, s, o, d, out);
}

int
npd_compile_incr(struct npd_compile_state *st, const struct npd_store *s,
		 const struct npd_store_log *changes, const struct npd_compile_opts *o,
		 struct npd_diags *d, struct npd_ruleset **out)
{
	size_t i;

	if (!o || !o->node_name || !o->mark)
		return -EINVAL;
	if (!st->built || strcmp(st->node, o->node_name) || changes->overflow ||
	    changes->base_gen != st->gen)
		return -ESTALE;
	st->epoch++;
	st->n_dirty = 0;
	st->dirty_all = false;
	for (i = 0; i < changes->n; i++)
		apply_change(st, s, &changes->v[i]);
	return run(st, s, o, d, out);
}
