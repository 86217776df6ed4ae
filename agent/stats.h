/* stats.h: what the agent tells an operator about its rules: the kernel counters of our
 * rules and of our counted sets' entries, read on a timer and just before an apply that
 * would restart some of them, summed by origin in an
 * npd_counters cache (kept in a state file across restarts); the generation of each policy
 * last committed; and the HELP text of every netpold metric family. A scrape only formats
 * the cache: it never reads the kernel. Runs on the agent's loop. */
#ifndef NPD_AGENT_STATS_H
#define NPD_AGENT_STATS_H

#include <stdbool.h>

#include "agent.h"
#include "npd/backend.h"
#include "npd/buf.h"
#include "npd/counters.h"
#include "npd/differ.h"
#include "npd/ruleset.h"

struct stats_opts {
	const struct npd_backend_ops *ops;
	struct npd_backend *backend; /* borrowed, open */
	/* The set backend, for the entries of counted sets (NULL, or no read_counters: not
	 * read). */
	const struct npd_set_backend_ops *set_ops;
	struct npd_set_backend *set_backend; /* borrowed, open */
	double interval; /* seconds between kernel readings; 0: only at commits */
	/* Read the kernel before each table commit too, so no count is lost to a rewrite.
	 * For backends whose reading is in process (libiptc); not for one that forks. */
	bool read_before_commit;
	const char *state_path; /* borrowed; NULL: totals start from zero at each start */
};

struct stats;

/* A new stats keeper for agent a; registers the HELP text of every netpold family in the
 * agent's registry. stats_free(NULL) is a no-op. Nothing runs until stats_start. */
struct stats *stats_new(struct npd_agent *a, const struct stats_opts *o);
void stats_free(struct stats *st);
/* Loads the state file (a missing one is no error) and starts the reading timer. */
void stats_start(struct stats *st);
/* The sync is about to apply plan: reads, while the old rules and sets are there, the
 * chains whose counters its commits restart (or, when the backend's commits can pass those
 * on, sets o's reset_counters for npd_backend_apply_ex) and the counted sets whose entries
 * it destroys or restarts; the cache keeps the readings of the others. */
void stats_before_apply(struct stats *st, const struct npd_plan *plan, struct npd_apply_opts *o);
/* A sync succeeded: rs (borrowed) is now in the kernel and plan was applied; counters
 * follow the new rules and the policies' generations are noted as committed. */
void stats_committed(struct stats *st, const struct npd_ruleset *rs, const struct npd_plan *plan);
/* Appends the counter families and netpold_policy_generation_applied (Prometheus text),
 * formatted once per reading or commit and copied on later calls. */
void stats_format(struct stats *st, struct npd_buf *out);
/* The cache, for lookups by origin (npd_counters_get); borrowed, valid until stats_free.
 * Values are as of the last reading (at most the interval old, or the last commit). */
const struct npd_counters *stats_counters(const struct stats *st);
/* Reads the kernel now (as the timer does). Returns 0 or the backend's -errno. */
int stats_refresh(struct stats *st);

#endif
