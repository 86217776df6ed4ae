/* sync.c: turns the store into kernel state, one sync at a time, on the loop. A change
 * that follows a quiet period (no sync for a debounce interval) syncs almost at once; a
 * change during a burst arms a debounce timer (restarted by each change) and a cap timer
 * (from the first unsynced change); either runs the sync: compile, diff, apply. So a lone
 * policy or label change costs no debounce wait, and a burst still costs few syncs.
 *
 * `applied` (lib/applied.c) must describe the kernel. At start it is what list_owned
 * finds, all of it of unknown content, so the first sync rewrites every chain in one
 * commit per family and deletes stale ones while the old rules stay in force until then.
 * After a failed apply nothing is known: the next attempt (with backoff, 1 s doubling to
 * 30 s) rediscovers. The resync timer checks `applied` against the kernel, which marks
 * what drifted as unknown, so the next plan rewrites it. This file only drives it.
 *
 * This file never touches the kernel except through the backend ops. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <ev.h>

#include "npd/applied.h"
#include "npd/buf.h"
#include "npd/clock.h"
#include "npd/map.h"
#include "npd/mem.h"
#include "npd/metrics.h"
#include "stats.h"
#include "sync.h"

#define BACKOFF_MIN 1.0
#define BACKOFF_MAX 30.0

struct sync {
	struct npd_agent *a;
	struct sync_opts o;
	ev_timer debounce, cap, retry, resync;
	uint64_t last_sync_ns;	     /* when the last sync ended; 0 before the first */
	bool quick;		     /* the debounce timer is armed with the quick delay */
	bool pending;		     /* a change not yet in the kernel */
	uint64_t first_change_ns;    /* when the oldest unsynced change arrived; 0 none */
	double backoff;		     /* 0 while healthy */
	int last_err;		     /* of the last failed sync: a repeated failure logs at debug */
	struct npd_applied *applied; /* what the kernel holds; not known until discovered */
	struct npd_compile_state *cstate; /* the incremental compiler's memory of the store */
	bool full_next;			  /* the next sync compiles everything (resync) */
	bool cstate_warned;		  /* an inconsistent state was logged once */
	bool applied_is_last;		  /* applied's known part is the last compile's output */
	struct npd_map diags_seen;	  /* compile diagnostics already logged and objects already
				    * counted as rejected (value unused) */
};

static void sync_run(struct sync *s);
static void schedule(void *ctx);

static const char *
family_name(uint8_t family)
{
	return family == AF_INET6 ? "ipv6" : "ipv4";
}

static const char *
drift_what(enum npd_drift_kind k)
{
	switch (k) {
	case NPD_DRIFT_CHAIN_MISSING:
	case NPD_DRIFT_SET_MISSING:
		return "missing";
	case NPD_DRIFT_CHAIN_EXTRA:
	case NPD_DRIFT_SET_EXTRA:
		return "extra";
	case NPD_DRIFT_CHAIN_RULES:
		return "rules";
	case NPD_DRIFT_SET_ENTRIES:
		return "entries";
	case NPD_DRIFT_SET_COUNTERS:
		return "counters";
	case NPD_DRIFT_HOOKS:
		return "hooks";
	}
	return "unknown";
}

static void
on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	sync_run(w->data);
}

/* Lists what of ours is in the kernel: the start of applied, or its check on resync. */
static int
list_owned(struct sync *s, const char *what, struct npd_owned *o)
{
	struct npd_err err;
	int rc =
	    npd_backend_list_owned(s->o.ops, s->o.backend, s->o.set_ops, s->o.set_backend, o, &err);

	if (rc < 0)
		agent_log("error", "msg=\"%s cannot list our chains and sets\" err=\"%s\"", what,
			  npd_err_text(&err, rc));
	return rc;
}

/* applied := what of ours the kernel has, content unknown. */
static int
discover(struct sync *s)
{
	struct npd_owned o = {0};
	int rc;

	rc = list_owned(s, "start", &o);
	if (rc < 0)
		return rc;
	npd_applied_discover(s->applied, &o);
	s->applied_is_last = false;
	agent_log("info", "msg=\"found existing state\" chains=%zu sets=%zu hooks=%zu", o.n_chains,
		  o.n_sets,
		  npd_owned_get_family(&o, AF_INET)->n_hooks +
		      npd_owned_get_family(&o, AF_INET6)->n_hooks);
	npd_owned_fini(&o);
	return 0;
}

static void
log_drift(const struct npd_drift *d, void *ctx)
{
	(void)ctx;
	switch (d->kind) {
	case NPD_DRIFT_CHAIN_MISSING:
	case NPD_DRIFT_CHAIN_EXTRA:
	case NPD_DRIFT_CHAIN_RULES:
		agent_log("warn",
			  "msg=\"drift\" family=%s chain=%s what=%s want_rules=%zu have_rules=%zu",
			  family_name(d->family), d->name, drift_what(d->kind), d->want, d->have);
		break;
	case NPD_DRIFT_HOOKS:
		agent_log("warn", "msg=\"drift\" family=%s what=hooks", family_name(d->family));
		break;
	case NPD_DRIFT_SET_MISSING:
	case NPD_DRIFT_SET_EXTRA:
	case NPD_DRIFT_SET_ENTRIES:
	case NPD_DRIFT_SET_COUNTERS:
		agent_log("warn", "msg=\"drift\" set=%s what=%s want_entries=%zu have_entries=%zu",
			  d->name, drift_what(d->kind), d->want, d->have);
		break;
	}
}

static void
on_resync(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct sync *s = w->data;
	struct npd_owned o = {0};
	size_t n;

	(void)loop;
	(void)revents;
	if (ev_is_active(&s->retry) || !agent_sources_ready(s->a, NULL))
		return;
	if (npd_applied_is_known(s->applied)) {
		if (list_owned(s, "resync", &o) < 0)
			return;
		n = npd_applied_mark_drift(s->applied, &o, log_drift, s);
		s->applied_is_last = false;
		npd_owned_fini(&o);
		if (n)
			agent_metric_inc(s->a, "netpold_drift_repairs_total", n);
	}
	s->pending = true;
	/* The resync repairs the compiler's memory as well as the kernel. */
	s->full_next = true;
	sync_run(s);
}

struct sync *
sync_new(struct npd_agent *a, const struct sync_opts *o)
{
	struct sync *s = npd_xcalloc(1, sizeof(*s));

	s->a = a;
	s->o = *o;
	s->applied = npd_applied_new();
	s->cstate = npd_compile_state_new();
	/* Every change from now on is recorded for the incremental compiler; the first sync
	 * compiles everything (the log starts in overflow). */
	npd_store_log_enable(agent_store(a), true);
	npd_map_init(&s->diags_seen);
	ev_timer_init(&s->debounce, on_timer, 0, 0);
	ev_timer_init(&s->cap, on_timer, 0, 0);
	ev_timer_init(&s->retry, on_timer, 0, 0);
	ev_timer_init(&s->resync, on_resync, o->resync_period, o->resync_period);
	s->debounce.data = s->cap.data = s->retry.data = s->resync.data = s;
	agent_set_scheduler(a, schedule, s);
	return s;
}

void
sync_free(struct sync *s)
{
	struct ev_loop *loop;

	if (!s)
		return;
	agent_set_scheduler(s->a, NULL, NULL);
	loop = agent_loop(s->a);
	ev_timer_stop(loop, &s->debounce);
	ev_timer_stop(loop, &s->cap);
	ev_timer_stop(loop, &s->retry);
	ev_timer_stop(loop, &s->resync);
	npd_applied_free(s->applied);
	npd_store_log_enable(agent_store(s->a), false);
	npd_compile_state_free(s->cstate);
	npd_map_fini(&s->diags_seen);
	free(s);
}

int
sync_start(struct sync *s)
{
	int rc = discover(s);

	if (s->o.resync_period > 0)
		ev_timer_start(agent_loop(s->a), &s->resync);
	return rc;
}

/* None: the scheduler runs from the agent's prepare watcher, once every event read in this
 * loop iteration is in the store, and the timer fires after one more poll that does not
 * block. A delay here would be waited by every lone change (1 ms was a fifth of the
 * budget of a pod event). */
#define QUICK_DELAY 0.0

/* The agent's scheduler: the store changed or every source became ready. Syncs at once
 * after a quiet period, else after the debounce and at most debounce_max after the first
 * unsynced change; only once every source is ready. */
static void
schedule(void *ctx)
{
	struct sync *s = ctx;
	struct ev_loop *loop = agent_loop(s->a);
	uint64_t now = npd_now_ns();
	bool idle = !s->pending && now - s->last_sync_ns >= (uint64_t)(s->o.debounce * 1e9);

	if (!s->pending) {
		s->pending = true;
		s->first_change_ns = npd_now_ns();
	} else if (!s->first_change_ns) {
		s->first_change_ns = npd_now_ns();
	}
	/* While backing off after a failure the retry timer runs the next sync. */
	if (ev_is_active(&s->retry) || !agent_sources_ready(s->a, NULL))
		return;
	if (s->quick && ev_is_active(&s->debounce))
		return; /* the quick sync is about to run and will include this change */
	s->quick = idle;
	ev_timer_stop(loop, &s->debounce);
	ev_timer_set(&s->debounce, idle ? QUICK_DELAY : s->o.debounce, 0);
	ev_timer_start(loop, &s->debounce);
	if (!ev_is_active(&s->cap)) {
		ev_timer_set(&s->cap, s->o.debounce_max, 0);
		ev_timer_start(loop, &s->cap);
	}
}

struct seen {
	struct sync *s;
	struct npd_map *now;
};

/* A policy over a compile bound counts as rejected when the compile before did not find it
 * over: once per crossing, not once per sync while it stays over. */
static void
count_rejected(const struct npd_diag *dg, void *arg)
{
	struct seen *sn = arg;
	char key[512];

	snprintf(key, sizeof(key), "\x1f%s\x1f%s/%s", dg->obj_kind ? dg->obj_kind : "",
		 dg->ns ? dg->ns : "", dg->name ? dg->name : "");
	if (!npd_map_get(&sn->s->diags_seen, key))
		agent_rejected(dg, sn->s->a);
	npd_map_set(sn->now, key, sn->s);
}

/* Logs compile diagnostics not logged by an earlier sync: a bad policy is reported once,
 * not on every sync. */
static void
report_diags(struct sync *s, const struct npd_diags *d)
{
	struct npd_map now;
	struct seen sn = {s, &now};
	char line[1024];
	size_t i;

	npd_map_init(&now);
	for (i = 0; i < d->n; i++) {
		npd_diag_format(&d->v[i], line, sizeof(line));
		if (!npd_map_get(&s->diags_seen, line))
			agent_diag(s->a, &d->v[i]);
		npd_map_set(&now, line, s);
	}
	npd_diags_each_rejected(d, count_rejected, &sn);
	npd_map_fini(&s->diags_seen);
	s->diags_seen = now;
}

static size_t
table_rules(const struct npd_table *t)
{
	size_t i, n = 0;

	for (i = 0; i < t->n_chains; i++)
		n += t->chains[i].n_rules;
	return n;
}

/* Where one sync's time went, on the monotonic clock, for an operator to see which step an
 * event waits for (netpold_last_sync_phase_seconds). */
struct phases {
	uint64_t start, compiled, planned, counted, applied;
	struct npd_apply_opts apply;
};

static void
set_phase(struct npd_metrics *m, const char *phase, uint64_t ns)
{
	char name[96];

	snprintf(name, sizeof(name), "netpold_last_sync_phase_seconds{phase=\"%s\"}", phase);
	npd_metrics_set(m, name, (double)ns / 1e9);
}

static void
record_phases(struct sync *s, const struct phases *p)
{
	struct npd_metrics *m = agent_metrics(s->a);

	set_phase(m, "wait", s->first_change_ns ? p->start - s->first_change_ns : 0);
	set_phase(m, "compile", p->compiled - p->start);
	set_phase(m, "plan", p->planned - p->compiled);
	set_phase(m, "counters", p->counted - p->planned);
	set_phase(m, "sets", p->apply.sets_ns);
	set_phase(m, "tables", p->apply.tables_ns);
	set_phase(m, "table_read", p->apply.read_ns);
	set_phase(m, "table_commit", p->apply.commit_ns);
	set_phase(m, "after", npd_now_ns() - p->applied);
}

static void
record_success(struct sync *s, const struct npd_plan *plan, double secs, uint64_t applied_ns)
{
	struct npd_metrics *m = agent_metrics(s->a);
	const struct npd_ruleset *rs = npd_applied_known(s->applied);
	char name[128];
	size_t k;
	struct timespec ts;

	npd_metrics_add(m, "netpold_syncs_total{result=\"ok\"}", 1);
	npd_metrics_observe(m, "netpold_sync_duration_seconds", secs);
	npd_metrics_set(m, "netpold_last_sync_duration_seconds", secs);
	/* Adding 0 makes both families visible from the first sync on. */
	npd_metrics_add(m, "netpold_table_commits_total{family=\"ipv4\"}", plan->v4.commit);
	npd_metrics_add(m, "netpold_table_commits_total{family=\"ipv6\"}", plan->v6.commit);
	npd_metrics_add(m, "netpold_set_updates_total", (double)plan->n_set_ops);
	npd_metrics_set(m, "netpold_rules{family=\"ipv4\"}", (double)table_rules(&rs->v4));
	npd_metrics_set(m, "netpold_rules{family=\"ipv6\"}", (double)table_rules(&rs->v6));
	npd_metrics_set(m, "netpold_chains{family=\"ipv4\"}", (double)rs->v4.n_chains);
	npd_metrics_set(m, "netpold_chains{family=\"ipv6\"}", (double)rs->v6.n_chains);
	npd_metrics_set(m, "netpold_ipsets", (double)rs->n_sets);
	for (k = 0; k < NPD_KIND__COUNT; k++) {
		snprintf(name, sizeof(name), "netpold_store_objects{kind=\"%s\"}",
			 npd_kind_name((enum npd_kind)k));
		npd_metrics_set(m, name,
				(double)npd_store_count(agent_store(s->a), (enum npd_kind)k));
	}
	/* When the kernel held the plan, like the lag below, so the wall-clock times of other
	 * processes (an API server's, a probe's) line up with it. */
	clock_gettime(CLOCK_REALTIME, &ts);
	npd_metrics_set(m, "netpold_last_sync_timestamp_seconds",
			(double)ts.tv_sec + (double)ts.tv_nsec / 1e9 -
			    (double)(npd_now_ns() - applied_ns) / 1e9);
	if (s->first_change_ns) {
		/* Enforced from the commit on: the bookkeeping after it is not part of the lag. */
		double lag = (double)(applied_ns - s->first_change_ns) / 1e9;

		npd_metrics_observe(m, "netpold_policy_change_to_enforcement_seconds", lag);
		npd_metrics_set(m, "netpold_last_policy_change_to_enforcement_seconds", lag);
	}
}

/* The desired ruleset: incremental from the store's change log, or a full compile at the
 * start, after the log overflowed (a relist that changed much), on resync, or when the
 * state cannot follow the log (logged once: it means a change escaped the log). */
static int
compile(struct sync *s, struct npd_diags *d, struct npd_ruleset **out)
{
	struct npd_store *store = agent_store(s->a);
	const struct npd_store_log *log = npd_store_log_get(store);
	int rc = -ESTALE;

	if (!s->full_next)
		rc = npd_compile_incr(s->cstate, store, log, &s->o.compile, d, out);
	if (rc == -ESTALE) {
		if (!s->full_next && !log->overflow && !s->cstate_warned) {
			s->cstate_warned = true;
			agent_log("warn", "msg=\"incremental compile state cannot follow the "
					  "store's changes, compiling everything\"");
		}
		rc = npd_compile_full(s->cstate, store, &s->o.compile, d, out);
		agent_metric_inc(s->a, "netpold_full_compiles_total", 1);
	}
	if (rc == 0) {
		npd_store_log_clear(store);
		s->full_next = false;
	}
	return rc;
}

/* One sync: returns 0 when the kernel now holds the compiled state, else -errno. */
static int
sync_once(struct sync *s, double *secs)
{
	struct npd_err err = {0};
	struct npd_diags d;
	struct npd_ruleset *desired = NULL;
	struct npd_plan *plan = NULL;
	struct npd_buf summary;
	struct phases ph = {.start = npd_now_ns()};
	unsigned commits = 0;
	bool empty;
	int rc;

	npd_diags_init(&d);
	npd_buf_init(&summary);
	if (!npd_applied_is_known(s->applied)) {
		rc = discover(s);
		if (rc < 0)
			goto out;
	}
	rc = compile(s, &d, &desired);
	ph.compiled = npd_now_ns();
	report_diags(s, &d);
	if (rc < 0) {
		agent_log("error", "msg=\"compile failed\" err=\"%s\"", strerror(-rc));
		goto out;
	}
	if (s->applied_is_last) {
		/* Only the sets the compile may have changed are compared entry by entry. */
		const char(*dirty)[NPD_SET_NAMELEN];
		size_t n_dirty;
		bool all;

		dirty = npd_compile_state_dirty_sets(s->cstate, &n_dirty, &all);
		plan = npd_applied_plan_dirty(s->applied, desired, dirty, n_dirty, all);
	} else {
		plan = npd_applied_plan(s->applied, desired);
	}
	npd_plan_format(plan, &summary);
	empty = npd_plan_is_empty(plan);
	ph.planned = npd_now_ns();
	if (!empty && s->o.stats)
		stats_before_apply(s->o.stats, plan, &ph.apply);
	ph.counted = npd_now_ns();
	if (!empty)
		rc = npd_backend_apply_ex(s->o.ops, s->o.backend, s->o.set_ops, s->o.set_backend,
					  plan, &commits, &err, &ph.apply);
	ph.applied = npd_now_ns();
	*secs = (double)(ph.applied - ph.start) / 1e9;
	if (rc < 0) {
		/* Part of the plan may be in the kernel: applied is unknown now. */
		npd_applied_forget(s->applied);
		s->applied_is_last = false;
		agent_log(rc == s->last_err ? "debug" : "error",
			  "msg=\"sync failed\" plan=\"%s\" err=\"%s\" duration_ms=%.1f",
			  summary.data ? summary.data : "", npd_err_text(&err, rc), *secs * 1e3);
		goto out;
	}
	npd_applied_commit(s->applied, desired);
	s->applied_is_last = true;
	desired = NULL;
	if (s->o.stats)
		stats_committed(s->o.stats, npd_applied_known(s->applied), plan);
	record_success(s, plan, *secs, ph.applied);
	/* A plan that only adds set members admits more and denies nothing: no established
	 * flow can have lost its verdict, so the conntrack cut is not run for it. */
	if (!empty && s->o.after_apply && npd_plan_can_deny(plan)) {
		size_t n_addrs;
		struct npd_addr *addrs = npd_compile_state_node_addrs(s->cstate, &n_addrs);

		s->o.after_apply(s->o.after_apply_ctx, addrs, n_addrs);
	}
	agent_log(empty ? "debug" : "info",
		  "msg=\"sync applied\" plan=\"%s\" commits=%u duration_ms=%.1f",
		  summary.data ? summary.data : "", commits, *secs * 1e3);
	record_phases(s, &ph);
out:
	npd_plan_free(plan);
	npd_ruleset_free(desired);
	npd_buf_fini(&summary);
	npd_diags_fini(&d);
	return rc;
}

static void
sync_run(struct sync *s)
{
	struct ev_loop *loop = agent_loop(s->a);
	double secs = 0;
	int rc;

	ev_timer_stop(loop, &s->debounce);
	ev_timer_stop(loop, &s->cap);
	ev_timer_stop(loop, &s->retry);
	s->quick = false;
	if (!agent_sources_ready(s->a, NULL))
		return;
	rc = sync_once(s, &secs);
	s->last_sync_ns = npd_now_ns();
	if (rc < 0) {
		s->last_err = rc;
		npd_metrics_add(agent_metrics(s->a), "netpold_syncs_total{result=\"error\"}", 1);
		s->backoff = s->backoff ? s->backoff * 2 : BACKOFF_MIN;
		if (s->backoff > BACKOFF_MAX)
			s->backoff = BACKOFF_MAX;
		ev_timer_set(&s->retry, s->backoff, 0);
		ev_timer_start(loop, &s->retry);
		return;
	}
	if (s->backoff)
		agent_log("info", "msg=\"sync recovered\"");
	s->last_err = 0;
	s->backoff = 0;
	s->pending = false;
	s->first_change_ns = 0;
	agent_synced(s->a);
}

void
sync_format_counters(struct sync *s, struct npd_buf *out)
{
	if (s->o.stats)
		stats_format(s->o.stats, out);
}
