/* agent.h: the contract between the agent's loop (netpold.c, sync.c) and its sources
 * (files.c, k8s.c): sources change the store; the agent notices a new store generation
 * and asks the sync pipeline, registered as a callback, to schedule a sync; it reports
 * readiness. Dependencies run one way: sources and sync use the agent, never the reverse.
 * Everything runs on one libev loop. */
#ifndef NPD_AGENT_H
#define NPD_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "npd/diag.h"
#include "npd/store.h"

struct ev_loop;
struct npd_agent;

/* The loop and the store every source feeds (borrowed). */
struct ev_loop *agent_loop(struct npd_agent *a);
struct npd_store *agent_store(struct npd_agent *a);
/* Registers a source by name (e.g. "k8s/pods"); /readyz stays 503 until every registered
 * source has reported ready at least once and a sync has then reached the kernel. */
void agent_source_register(struct npd_agent *a, const char *name);
void agent_source_ready(struct npd_agent *a, const char *name);
/* Logs a diagnostic once (one key=value line on stderr) and counts it in
 * netpold_input_errors_total{kind=...}. */
void agent_diag(struct npd_agent *a, const struct npd_diag *dg);
/* Counts one rejected object in netpold_objects_rejected_total{kind,reason}; dg is its first
 * limit diagnostic. */
void agent_rejected(const struct npd_diag *dg, void *agent);
/* Logs every diagnostic of d (agent_diag) and counts each object d rejects once. */
void agent_diags(struct npd_agent *a, const struct npd_diags *d);
/* Increments a counter metric, created on first use: name is a full metric name with an
 * optional label set, e.g. "netpold_watch_restarts_total{resource=\"pods\"}". */
void agent_metric_inc(struct npd_agent *a, const char *name, uint64_t by);
void agent_metric_set(struct npd_agent *a, const char *name, double value);
/* One key=value log line on stderr: "ts=... level=LEVEL msg=..." plus fmt's pairs. */
void agent_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The rest is for the agent's own files (netpold.c, sync.c, http.c). */
struct npd_metrics;

/* Asks the sync pipeline for a (debounced) sync. */
typedef void (*agent_schedule_fn)(void *ctx);

/* A new agent on loop (borrowed) with an empty store; agent_free(NULL) is a no-op. */
struct npd_agent *agent_new(struct ev_loop *loop);
void agent_free(struct npd_agent *a);
/* Registers the callback run when the store's generation moved or every source became
 * ready (NULL detaches it). The generation is checked once per loop iteration, after the
 * sources' callbacks ran. */
void agent_set_scheduler(struct npd_agent *a, agent_schedule_fn fn, void *ctx);
/* The sync pipeline reports that a sync reached the kernel (readiness). */
void agent_synced(struct npd_agent *a);
struct npd_metrics *agent_metrics(struct npd_agent *a);
/* True when at least one source is registered and every one has reported ready; else
 * false and *waiting (when non-NULL) names one that has not. */
bool agent_sources_ready(const struct npd_agent *a, const char **waiting);
/* True once the sources were ready and a sync then reached the kernel; else false and a
 * short reason in *why (static string). */
bool agent_is_ready(const struct npd_agent *a, const char **why);
/* "debug" shows debug lines, "info" (the default) hides them. Returns 0 or -EINVAL. */
int agent_set_log_level(const char *level);
/* Writes s into buf as a double-quoted log value (quotes, backslashes and control
 * characters escaped, truncated to fit); returns buf. */
const char *agent_quote(const char *s, char *buf, size_t len);

#endif
