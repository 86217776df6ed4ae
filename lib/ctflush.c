/* ctflush.c: decides which conntrack entries go after a change, using the simulator on the
 * live store as the oracle. An entry exists only for a flow the rules admitted when it was
 * set up, so if the present state denies it, its verdict changed and it must go; an allowed
 * flow keeps its entry. Only the sides this node enforces count: egress of a local source,
 * ingress of a local destination (the other node judges its own pods). Pure: no kernel, no
 * clock; the agent dumps and deletes (agent/conntrack.c). */
#include <string.h>

#include "npd/ctflush.h"
#include "npd/sim.h"

static const struct npd_pod *
local_pod(const struct npd_store *s, const char *node, const struct npd_addr *addr)
{
	const struct npd_pod *p = npd_store_pod_by_ip(s, addr);

	/* hostNetwork pods share the node's IPs and are never enforced by IP. */
	if (!p || p->host_network || !p->node || !node || strcmp(p->node, node) != 0)
		return NULL;
	return p;
}

bool
npd_ctflush_is_candidate(const struct npd_store *s, const char *node, const struct npd_addr *addr)
{
	return local_pod(s, node, addr) != NULL;
}

bool
npd_ctflush_matches(const struct npd_store *s, const char *node, const struct npd_ct_flow *f)
{
	struct npd_sim_endpoint from = {0}, to = {0};
	struct npd_sim_result r;
	const struct npd_pod *lsrc = local_pod(s, node, &f->src);
	const struct npd_pod *ldst = local_pod(s, node, &f->dst);
	bool cut;

	/* Only an isolated side can deny: most entries of a node (its pods' allowed flows,
	 * pods no policy selects) stop here, without the simulator and its explanation. */
	if (!(lsrc && npd_sim_is_isolated(s, lsrc, true)) &&
	    !(ldst && npd_sim_is_isolated(s, ldst, false)))
		return false;
	from.pod = npd_store_pod_by_ip(s, &f->src);
	from.has_addr = true;
	from.addr = f->src;
	to.pod = npd_store_pod_by_ip(s, &f->dst);
	to.has_addr = true;
	to.addr = f->dst;
	if (npd_sim_run(s, &from, &to, f->dport, f->proto, &r) < 0)
		return false;
	cut = (lsrc && r.egress.enforced && !r.egress.allowed) ||
	      (ldst && r.ingress.enforced && !r.ingress.allowed);
	npd_sim_result_fini(&r);
	return cut;
}
