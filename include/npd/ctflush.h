/* ctflush.h: which established flows a node must forget after a change. Given conntrack
 * flows (as tuples) and the store, it says which entries to delete: a flow is cut when a
 * pod on this node is one of its ends and the side this node enforces for that pod (egress
 * at a local source, ingress at a local destination) now denies it. Pure: no kernel. */
#ifndef NPD_CTFLUSH_H
#define NPD_CTFLUSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "npd/addr.h"
#include "npd/model.h"
#include "npd/store.h"

/* One tracked flow as the policy sees it: the original source, the real destination (after
 * any DNAT, so the reply's source) and its port, the protocol. */
struct npd_ct_flow {
	struct npd_addr src, dst;
	uint16_t sport, dport;
	enum npd_proto proto;
};

/* True when flow f must lose its conntrack entry on node (spec.nodeName of local pods):
 * an entry exists only for a flow that was allowed, so a deny now means the verdict changed.
 * Flows with no local, policy-enforced pod at either end are never cut. */
bool npd_ctflush_matches(const struct npd_store *s, const char *node, const struct npd_ct_flow *f);
/* True when a flow with addr at one end may be cut on node: addr is the IP of a local pod
 * that is not hostNetwork. The agent uses it to skip the rest of the table cheaply. */
bool npd_ctflush_is_candidate(const struct npd_store *s, const char *node,
			      const struct npd_addr *addr);

#endif
