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
/* Dumps the table, deletes the entries ctflush says must go and counts them; a failure is
 * logged and counted, never fatal (the rules still deny new flows). ctx: struct conntrack *. */
void conntrack_after_apply(void *ctx);

#endif
