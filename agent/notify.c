/* notify.c: tells systemd (Type=notify) how the agent is doing, through libsystemd's
 * sd_notify. READY=1 goes out once, on the first loop iteration where agent_is_ready
 * holds, which is exactly when /readyz turns 200: the sources were ready and a sync then
 * reached the kernel. A prepare watcher looks after every iteration, just before the
 * loop sleeps (so after the sync callback of that iteration), so readiness is reported
 * without delay and without hooks in the sync pipeline; it reads the sync
 * results from the metric registry, and only sends a STATUS= line when one changed.
 * WATCHDOG=1 comes from a timer at half the unit's WatchdogSec: if the loop stalls, the
 * pings stop and systemd restarts the service. Nothing here blocks: sd_notify writes one
 * datagram to a local socket. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ev.h>
#include <systemd/sd-daemon.h>

#include "notify.h"
#include "npd/metrics.h"
#include "npd/mem.h"

struct notify {
	struct npd_agent *a;
	ev_prepare prepare;
	ev_timer watchdog;
	bool ready_sent;
	bool failed; /* sd_notify failed once: logged, not retried */
	double seen_ok, seen_err;
};

static void
send_msg(struct notify *n, const char *msg)
{
	int rc;

	if (n->failed)
		return;
	rc = sd_notify(0, msg);
	if (rc < 0) {
		n->failed = true;
		agent_log("error", "msg=\"cannot notify the service manager\" err=\"%s\"",
			  strerror(-rc));
	}
}

/* "STATUS=..." naming the last sync: when it ended, how long it took, what it left in
 * the kernel, and how many syncs failed so far. */
static void
format_status(struct notify *n, char *buf, size_t len)
{
	const struct npd_metrics *m = agent_metrics(n->a);
	double ts = npd_metrics_get(m, "netpold_last_sync_timestamp_seconds");
	double dur = npd_metrics_get(m, "netpold_last_sync_duration_seconds");
	double rules = npd_metrics_get(m, "netpold_rules{family=\"ipv4\"}") +
		       npd_metrics_get(m, "netpold_rules{family=\"ipv6\"}");
	double sets = npd_metrics_get(m, "netpold_ipsets");
	const char *why = NULL;
	char when[32] = "never";
	struct tm tm;
	time_t t;

	if (ts > 0) {
		t = (time_t)ts;
		if (gmtime_r(&t, &tm))
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	if (!agent_is_ready(n->a, &why)) {
		snprintf(buf, len, "STATUS=not ready: %s; %.0f syncs failed", why, n->seen_err);
		return;
	}
	snprintf(buf, len,
		 "STATUS=enforcing: last sync %s in %.1f ms, %.0f rules, %.0f sets; %.0f syncs ok, "
		 "%.0f failed",
		 when, dur * 1000, rules, sets, n->seen_ok, n->seen_err);
}

static void
on_prepare(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct notify *n = w->data;
	const struct npd_metrics *m = agent_metrics(n->a);
	double ok = npd_metrics_get(m, "netpold_syncs_total{result=\"ok\"}");
	double err = npd_metrics_get(m, "netpold_syncs_total{result=\"error\"}");
	bool ready = agent_is_ready(n->a, NULL);
	char msg[256];

	(void)loop;
	(void)revents;
	if (ok == n->seen_ok && err == n->seen_err && ready == n->ready_sent)
		return;
	n->seen_ok = ok;
	n->seen_err = err;
	format_status(n, msg, sizeof(msg));
	if (ready && !n->ready_sent) {
		/* One datagram, so the status that names the first sync arrives with READY. */
		char both[300];

		snprintf(both, sizeof(both), "READY=1\n%s", msg);
		send_msg(n, both);
		n->ready_sent = true;
		agent_log("info", "msg=\"ready\"");
		return;
	}
	send_msg(n, msg);
}

static void
on_watchdog(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	send_msg(w->data, "WATCHDOG=1");
}

struct notify *
notify_start(struct npd_agent *a)
{
	struct notify *n = npd_xcalloc(1, sizeof(*n));
	struct ev_loop *loop = agent_loop(a);
	uint64_t usec = 0;

	n->a = a;
	n->seen_ok = n->seen_err = -1;
	ev_prepare_init(&n->prepare, on_prepare);
	n->prepare.data = n;
	ev_prepare_start(loop, &n->prepare);
	if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
		double every = (double)usec / 2e6;

		ev_timer_init(&n->watchdog, on_watchdog, every, every);
		n->watchdog.data = n;
		ev_timer_start(loop, &n->watchdog);
		agent_log("info", "msg=\"watchdog enabled\" interval_s=%.3f", every);
	}
	return n;
}

void
notify_stop(struct notify *n)
{
	struct ev_loop *loop;

	if (!n)
		return;
	loop = agent_loop(n->a);
	send_msg(n, "STOPPING=1");
	ev_prepare_stop(loop, &n->prepare);
	ev_timer_stop(loop, &n->watchdog);
	free(n);
}
