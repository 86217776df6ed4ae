/* debug.h: the agent's debug endpoints, on their own (loopback by default) address because
 * they show pod names and traffic: GET /debug/explain (the simulator on the live store, with
 * the deciding rules' counters) and GET /debug/drops (recent denied flows). */
#ifndef NPD_AGENT_DEBUG_H
#define NPD_AGENT_DEBUG_H

#include "agent.h"
#include "nflog.h"
#include "npd/explain.h"
#include "stats.h"

struct debug;

/* Serves on addr (as http_start) from a's loop; drops (borrowed, may be NULL when the drop
 * log is off) feeds /debug/drops, st (borrowed, may be NULL) the counters explain shows, as
 * of its last kernel reading. Returns 0 and *out, or -errno from the listener. */
int debug_start(struct npd_agent *a, const struct nflog *drops, const struct stats *st,
		const char *addr, struct debug **out);
/* Stops serving; debug_free(NULL) is a no-op. */
void debug_free(struct debug *d);

#endif
