/* sync.h: the sync pipeline of the agent: debounced scheduling, one sync at a time
 * (compile -> differ -> backend apply), the applied-state bookkeeping, retry with backoff
 * after a failed apply, and the periodic resync that repairs drift. Runs on the agent's
 * loop. */
#ifndef NPD_AGENT_SYNC_H
#define NPD_AGENT_SYNC_H

#include <stdbool.h>

#include "agent.h"
#include "npd/backend.h"
#include "npd/buf.h"
#include "npd/compile.h"

struct sync_opts {
	const struct npd_backend_ops *ops;
	struct npd_backend *backend; /* borrowed, open */
	const struct npd_set_backend_ops *set_ops;
	struct npd_set_backend *set_backend; /* borrowed, open */
	struct npd_compile_opts compile;     /* node_name borrowed */
	double debounce;		     /* seconds after the last change, default 0.05 */
	double debounce_max;  /* seconds after the first unsynced change, default 0.5 */
	double resync_period; /* seconds, 0 disables; default 30 */
	struct stats *stats;  /* borrowed, may be NULL: told of every commit */
	/* Called after each sync that changed the kernel in a way that can deny (npd_plan_can_deny),
	 * with after_apply_ctx and the addresses of the node's pods (sorted, owned by the
	 * callee: npd_compile_state_node_addrs); may be NULL. */
	void (*after_apply)(void *ctx, struct npd_addr *node_addrs, size_t n);
	void *after_apply_ctx;
};

struct sync;
struct stats;

/* A new pipeline for agent a (borrowed, as is the backend in o), registered as the
 * agent's scheduler until sync_free; sync_free(NULL) is a no-op. Nothing runs until
 * sync_start. */
struct sync *sync_new(struct npd_agent *a, const struct sync_opts *o);
void sync_free(struct sync *s);
/* Reads what of ours is in the kernel as the applied state (content unknown, so the first
 * sync rewrites it in one commit per family) and starts the resync timer. Returns 0, or
 * the -errno of list_owned (logged; the first sync retries the discovery). */
int sync_start(struct sync *s);
/* Appends the rule counter families from the stats cache (Prometheus text); never reads
 * the kernel. Nothing without stats. */
void sync_format_counters(struct sync *s, struct npd_buf *out);

#endif
