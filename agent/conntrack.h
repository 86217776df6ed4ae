/* conntrack.h: after a sync that changed the kernel, deletes the conntrack entries of the
 * flows the new state denies (lib/ctflush.c decides), so their next packet is evaluated as
 * new and rejected. Counted in netpold_conntrack_deleted_total. */
#ifndef NPD_AGENT_CONNTRACK_H
#define NPD_AGENT_CONNTRACK_H

#include "agent.h"

struct conntrack;

/* A cutter for agent a on node (both borrowed, outliving it); conntrack_free(NULL) is a
 * no-op. Opens no socket until the first cut. */
struct conntrack *conntrack_new(struct npd_agent *a, const char *node);
void conntrack_free(struct conntrack *c);
/* Starts a cut for the node's pods at node_addrs (sorted, taken): the table is dumped on a
 * thread, and the entries ctflush says must go are deleted on the loop when it is back
 * (after one more dump when a cut was already out), and counted; a failure is logged and
 * counted, never fatal (the rules still deny new flows). ctx: struct conntrack *. */
void conntrack_after_apply(void *ctx, struct npd_addr *node_addrs, size_t n);

#endif
