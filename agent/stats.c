/* stats.c: the agent's rule counters and the generations it enforces. Kernel counters are
 * read into an npd_counters cache on a timer (default 5 s) and, for in-process backends,
 * just before every table commit: the chains it rewrites or deletes restart from zero, so
 * what they counted must be taken first (only those: reading every chain would cost each
 * policy change a walk of the whole table). The entries of counted sets (a local pod's
 * default deny) are read on the same timer, one listing per set the cache follows, and
 * before an apply only the sets it destroys, recreates or deletes entries from that count
 * for pods that still exist: pod churn that only adds or deletes pods reads nothing. A
 * scrape formats the cache and never touches the kernel. The cache is written to the state file after every reading and commit (write
 * then rename), so an agent restart continues the totals. Also the one table of HELP texts
 * for every family netpold exports. Never changes kernel state. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ev.h>

#include "npd/clock.h"
#include "npd/map.h"
#include "npd/mem.h"
#include "npd/metrics.h"
#include "stats.h"

struct stats {
	struct npd_agent *a;
	struct stats_opts o;
	struct npd_counters *counters;
	ev_timer tick;
	/* "ns/name" -> generation (heap long long) as of the last successful commit */
	struct npd_map generations;
	int last_read_err, last_save_err; /* a repeated failure logs at debug */
	/* The exposition of the counters and generations, rebuilt only when they changed (a
	 * reading or a commit), so a scrape costs a copy. */
	struct npd_buf text;
	bool stale;
};

static const struct {
	const char *family, *help;
} helps[] = {
    {"netpold_api_errors_total", "Failed Kubernetes API requests, by resource and reason."},
    {"netpold_chains", "Chains of netpold in the filter table, per family, as last committed."},
    {"netpold_rule_stat_reads_total", "Readings of the kernel rule counters, by result."},
    {"netpold_decode_errors_total", "Kubernetes objects that could not be decoded, by kind."},
    {"netpold_drift_repairs_total",
     "Chains, sets or hooks found changed behind netpold's back by a resync and rewritten."},
    {"netpold_full_compiles_total",
     "Syncs that compiled the whole store (start, resync, an overflowed change log) instead "
     "of only what changed."},
    {"netpold_input_errors_total",
     "Bad input (undecodable objects, invalid policies, limits), by kind of diagnostic."},
    {"netpold_ipsets", "ipsets of netpold, as last committed."},
    {"netpold_last_rule_stat_read_duration_seconds",
     "Time the last reading of the kernel rule counters took."},
    {"netpold_last_policy_change_to_enforcement_seconds",
     "Time from the first unsynced change to its enforcement, for the last sync."},
    {"netpold_last_sync_duration_seconds", "Time the last sync (compile, diff, apply) took."},
    {"netpold_last_sync_phase_seconds",
     "Where the last successful sync's time went: wait (first change to sync start), compile, "
     "plan, counters (reading before a commit), sets, tables (commits; of them table_read: "
     "reading the tables, table_commit: handing the new ones to the kernel), after "
     "(bookkeeping after the commit, not part of the change-to-enforcement lag)."},
    {"netpold_last_sync_timestamp_seconds",
     "Unix time at which the kernel held the last successful sync's plan."},
    {"netpold_manifest_loads_total", "Manifest file loads, by result."},
    {"netpold_objects_rejected_total",
     "Objects rejected for going over a bound (size, depth, entries, set members), by kind "
     "and first bound: once per object delivered, a policy over a compile bound once per "
     "crossing."},
    {"netpold_policy_change_to_enforcement_seconds",
     "Time from a change of namespaces, pods or policies to the kernel enforcing it."},
    {"netpold_relists_total", "Full relists of a Kubernetes resource, by resource."},
    {"netpold_rules", "Rules in netpold's chains, per family, as last committed."},
    {"netpold_set_updates_total", "ipset operations applied (creations and membership updates)."},
    {"netpold_store_objects", "Objects in netpold's store, by kind."},
    {"netpold_sync_duration_seconds", "Time a sync (compile, diff, apply) takes."},
    {"netpold_syncs_total", "Syncs of the store to the kernel, by result."},
    {"netpold_table_commits_total", "Atomic commits of the filter table, per family."},
    {"netpold_watch_events_total", "Watch events received, by resource and type."},
    {"netpold_watch_restarts_total", "Watches restarted, by resource."},
};

static void
on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	stats_refresh(w->data);
}

struct stats *
stats_new(struct npd_agent *a, const struct stats_opts *o)
{
	struct stats *st = npd_xcalloc(1, sizeof(*st));
	size_t i;

	st->a = a;
	st->o = *o;
	st->counters = npd_counters_new();
	npd_map_init(&st->generations);
	npd_buf_init(&st->text);
	st->stale = true;
	ev_timer_init(&st->tick, on_tick, o->interval, o->interval);
	st->tick.data = st;
	for (i = 0; i < NPD_ARRAY_SIZE(helps); i++)
		npd_metrics_help(agent_metrics(a), helps[i].family, helps[i].help);
	return st;
}

void
stats_free(struct stats *st)
{
	if (!st)
		return;
	ev_timer_stop(agent_loop(st->a), &st->tick);
	npd_map_clear(&st->generations, free);
	npd_counters_free(st->counters);
	npd_buf_fini(&st->text);
	free(st);
}

/* /run/netpold does not survive a reboot: create the file's directory (one level). */
static int
make_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int rc = 0;

	if (!slash || slash == path)
		return -ENOENT;
	dir = npd_xstrndup(path, (size_t)(slash - path));
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		rc = -errno;
	free(dir);
	return rc;
}

static void
save(struct stats *st)
{
	struct npd_buf b;
	char *tmp;
	FILE *f;
	int rc = 0;

	if (!st->o.state_path)
		return;
	npd_buf_init(&b);
	npd_counters_save(st->counters, &b);
	tmp = npd_xasprintf("%s.tmp", st->o.state_path);
	f = fopen(tmp, "w");
	if (!f && errno == ENOENT && make_parent(st->o.state_path) == 0)
		f = fopen(tmp, "w");
	if (!f || (b.len && fwrite(b.data, 1, b.len, f) != b.len))
		rc = -errno;
	if (f && fclose(f) != 0 && !rc)
		rc = -errno;
	if (!rc && rename(tmp, st->o.state_path) < 0)
		rc = -errno;
	if (rc) {
		unlink(tmp);
		agent_log(rc == st->last_save_err ? "debug" : "warn",
			  "msg=\"cannot write the counter state\" path=%s err=\"%s\"",
			  st->o.state_path, strerror(-rc));
	}
	st->last_save_err = rc;
	free(tmp);
	npd_buf_fini(&b);
}

static void
load(struct stats *st)
{
	FILE *f = fopen(st->o.state_path, "r");
	struct npd_buf b;
	char chunk[4096];
	size_t n;

	if (!f) {
		if (errno != ENOENT)
			agent_log("warn",
				  "msg=\"cannot read the counter state\" path=%s err=\"%s\"",
				  st->o.state_path, strerror(errno));
		return;
	}
	npd_buf_init(&b);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		npd_buf_add(&b, chunk, n);
	fclose(f);
	n = npd_counters_load(st->counters, b.data ? b.data : "");
	agent_log("info", "msg=\"counter state loaded\" path=%s totals=%zu lines=%zu",
		  st->o.state_path, npd_counters_count(st->counters), n);
	npd_buf_fini(&b);
}

void
stats_start(struct stats *st)
{
	if (st->o.state_path)
		load(st);
	st->stale = true;
	if (st->o.interval > 0)
		ev_timer_start(agent_loop(st->a), &st->tick);
}

/* A reading of counted sets: the first failure, and whether any set was listed. */
struct set_reading {
	struct stats *st;
	struct npd_err err;
	int rc;
	bool listed;
};

static void
read_set(const char *set, void *ctx)
{
	struct set_reading *r = ctx;
	struct npd_err err = {0};
	int rc;

	r->listed = true;
	rc = r->st->o.set_ops->read_counters(r->st->o.set_backend, set, npd_counters_feed_set,
					     r->st->counters, &err);
	/* A set gone from the kernel (a cleanup while no agent ran) took its counts along:
	 * nothing to read, and the next commit says what the cache follows. */
	if (rc < 0 && rc != -ENOENT && !r->rc) {
		r->rc = rc;
		r->err = err;
	}
}

/* One reading: when rules, the rule counters (only: NULL for every chain, else the chains
 * its commits restart); when sets, the entries of the counted sets the cache follows (lose:
 * NULL for all, else only those applying it loses). Counted as one reading, of any result
 * but the first failure's. */
static int
read_kernel(struct stats *st, bool rules, const struct npd_plan *only, bool sets,
	    const struct npd_plan *lose)
{
	struct set_reading sr = {.st = st};
	struct npd_err err = {0};
	uint64_t t0 = npd_now_ns();
	int rc = 0;

	rules = rules && st->o.ops->read_counters; /* the fake backend: nothing to read */
	sets = sets && st->o.set_ops && st->o.set_ops->read_counters;
	if (rules)
		rc = st->o.ops->read_counters(st->o.backend, only, npd_counters_feed, st->counters,
					      &err);
	if (sets)
		npd_counters_each_set(st->counters, lose, agent_store(st->a), read_set, &sr);
	if (!rules && !sr.listed)
		return 0;
	if (!rc && sr.rc) {
		rc = sr.rc;
		err = sr.err;
	}
	st->stale = true;
	agent_metric_set(st->a, "netpold_last_rule_stat_read_duration_seconds",
			 (double)(npd_now_ns() - t0) / 1e9);
	agent_metric_inc(st->a,
			 rc < 0 ? "netpold_rule_stat_reads_total{result=\"error\"}"
				: "netpold_rule_stat_reads_total{result=\"ok\"}",
			 1);
	if (rc < 0)
		agent_log(rc == st->last_read_err ? "debug" : "error",
			  "msg=\"cannot read rule counters\" err=\"%s\"", npd_err_text(&err, rc));
	st->last_read_err = rc;
	return rc;
}

int
stats_refresh(struct stats *st)
{
	int rc = read_kernel(st, true, NULL, true, NULL);

	if (rc == 0)
		save(st);
	return rc;
}

static void
feed_reset(uint8_t family, const char *chain, size_t rule_index, uint64_t packets, uint64_t bytes,
	   void *ctx)
{
	struct stats *st = ctx;

	npd_counters_feed(family, chain, rule_index, packets, bytes, st->counters);
	st->stale = true;
}

void
stats_before_apply(struct stats *st, const struct npd_plan *plan, struct npd_apply_opts *o)
{
	bool rules = st->o.read_before_commit && (plan->v4.commit || plan->v6.commit);

	/* A table read costs about as much as the commit's own: let the commit pass on the
	 * counters of the table it has read anyway. */
	if (rules && npd_backend_can_count_commits(st->o.ops)) {
		o->reset_counters = feed_reset;
		o->reset_ctx = st;
		rules = false;
	}
	read_kernel(st, rules, plan, true, plan);
}

/* The generation of every policy with a chain on this node: the policies that select a
 * local pod are the ones this node enforces, which keeps the series local too. */
static void
note_generations(struct stats *st, const struct npd_ruleset *rs)
{
	const struct npd_store *s = agent_store(st->a);
	const struct npd_table *tables[2] = {&rs->v4, &rs->v6};
	size_t t, i;
	char *key;

	npd_map_clear(&st->generations, free);
	for (t = 0; t < 2; t++)
		for (i = 0; i < tables[t]->n_chains; i++) {
			const struct npd_origin *o = &tables[t]->chains[i].origin;
			const struct npd_policy *pol;
			long long *g;

			if (o->kind != NPD_ORIGIN_POLICY)
				continue;
			pol = npd_store_get_policy(s, o->ns, o->name);
			key = npd_xasprintf("%s/%s", o->ns, o->name);
			if (pol && !npd_map_get(&st->generations, key)) {
				g = npd_xmalloc(sizeof(*g));
				*g = pol->generation;
				npd_map_set(&st->generations, key, g);
			}
			free(key);
		}
}

void
stats_committed(struct stats *st, const struct npd_ruleset *rs, const struct npd_plan *plan)
{
	npd_counters_applied(st->counters, rs, plan, agent_store(st->a));
	note_generations(st, rs);
	st->stale = true;
	save(st);
}

static void
format_generations(const struct stats *st, struct npd_buf *out)
{
	size_t n, i;
	const char **keys = npd_map_sorted_keys(&st->generations, &n);
	struct npd_buf labels;

	npd_buf_adds(
	    out,
	    "# HELP netpold_policy_generation_applied The metadata.generation of "
	    "each NetworkPolicy selecting a pod of this node, as last committed to its kernel.\n");
	npd_metrics_format_type(out, "netpold_policy_generation_applied", "gauge");
	npd_buf_init(&labels);
	for (i = 0; i < n; i++) {
		const char *slash = strchr(keys[i], '/');
		char *ns = npd_xstrndup(keys[i], (size_t)(slash - keys[i]));

		npd_buf_reset(&labels);
		npd_buf_adds(&labels, "namespace=\"");
		npd_metrics_escape_label(&labels, ns);
		npd_buf_adds(&labels, "\",policy=\"");
		npd_metrics_escape_label(&labels, slash + 1);
		npd_buf_addc(&labels, '"');
		npd_metrics_format_sample(
		    out, "netpold_policy_generation_applied", labels.data,
		    (double)*(const long long *)npd_map_get(&st->generations, keys[i]));
		free(ns);
	}
	npd_buf_fini(&labels);
	free(keys);
}

void
stats_format(struct stats *st, struct npd_buf *out)
{
	if (st->stale) {
		npd_buf_reset(&st->text);
		npd_counters_format(st->counters, &st->text);
		format_generations(st, &st->text);
		st->stale = false;
	}
	npd_buf_add(out, st->text.data, st->text.len);
}

const struct npd_counters *
stats_counters(const struct stats *st)
{
	return st->counters;
}
