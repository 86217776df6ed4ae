/* nflog.h: the drop log: reads the NFLOG group the default-deny rules log to, on the agent's
 * loop, and writes one line per denied flow per window (lib/drops.c decides which). */
#ifndef NPD_AGENT_NFLOG_H
#define NPD_AGENT_NFLOG_H

#include <stdint.h>

#include "agent.h"
#include "npd/drops.h"

struct nflog;

/* Binds NFLOG group on a's loop and logs denied flows. When the group cannot be bound
 * (another listener, no CAP_NET_ADMIN) it says so once, counts it in
 * netpold_drop_log_bind_errors_total and returns a reader that only keeps its (empty)
 * table: enforcement never depends on the drop log. Always returns a new reader. */
struct nflog *nflog_start(struct npd_agent *a, uint16_t group);
/* Stops reading and frees; nflog_free(NULL) is a no-op. */
void nflog_free(struct nflog *n);
/* The recent denied flows (borrowed), for /debug/drops. */
const struct npd_drops *nflog_drops(const struct nflog *n);

#endif
