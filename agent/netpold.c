/* netpold.c: the agent's main: the backend, the sources, the sync pipeline and the HTTP
 * endpoint on one libev loop (the command line is options.c's). SIGTERM and SIGINT stop
 * the loop and exit 0 while the rules stay in the kernel: a restart never opens a window,
 * the next run replaces them atomically. Only --cleanup removes what netpold owns. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <ev.h>

#include "agent.h"
#include "debug.h"
#include "files.h"
#include "http.h"
#include "k8s.h"
#include "notify.h"
#include "nflog.h"
#include "options.h"
#include "npd/backend.h"
#include "npd/compile.h"
#include "npd/metrics.h"
#include "stats.h"
#include "conntrack.h"
#include "sync.h"

/* The table backend and the set backend the agent drives, open. */
struct backends {
	const struct npd_backend_ops *ops;
	struct npd_backend *b;
	const struct npd_set_backend_ops *set_ops;
	struct npd_set_backend *sb;
};

#define M_REDOS "netpold_commit_redos_total"

/* The backend's seam before each commit attempt: attempt > 0 is a redo from a fresh read
 * after another writer committed in between (legacy: EAGAIN; nft: a failed restore). */
static void
count_redo(uint8_t family, unsigned attempt, void *ctx)
{
	if (attempt && ctx)
		npd_metrics_add(
		    ctx, family == 6 ? M_REDOS "{family=\"ipv6\"}" : M_REDOS "{family=\"ipv4\"}",
		    1);
}

/* Opens the table and set backends; m (may be NULL) counts commit redos. */
static int
open_backends(const char *name, struct npd_metrics *m, struct backends *be)
{
	struct npd_backend_opts bo = {.before_commit = count_redo, .before_commit_ctx = m};
	struct npd_err err = {0};
	int rc;

	memset(be, 0, sizeof(*be));
	if (m) {
		npd_metrics_help(m, M_REDOS,
				 "Table commits redone from a fresh read because another writer "
				 "committed in between.");
		npd_metrics_add(m, M_REDOS "{family=\"ipv4\"}", 0);
		npd_metrics_add(m, M_REDOS "{family=\"ipv6\"}", 0);
	}
	be->ops = strcmp(name, "auto") == 0 ? npd_backend_detect() : npd_backend_find(name);
	if (!be->ops) {
		agent_log("error", "msg=\"no usable backend\" backend=%s", name);
		return -ENOENT;
	}
	be->set_ops = npd_set_backend_for(be->ops);
	rc = be->ops->open(&bo, &be->b, &err);
	if (rc < 0) {
		agent_log("error", "msg=\"cannot open backend\" backend=%s err=\"%s\"",
			  be->ops->name, npd_err_text(&err, rc));
		return rc;
	}
	rc = be->set_ops->open(&bo, &be->sb, &err);
	if (rc < 0) {
		agent_log("error", "msg=\"cannot open backend\" backend=%s err=\"%s\"",
			  be->set_ops->name, npd_err_text(&err, rc));
		be->ops->close(be->b);
		be->b = NULL;
	}
	return rc;
}

static void
close_backends(struct backends *be)
{
	if (be->sb)
		be->set_ops->close(be->sb);
	if (be->b)
		be->ops->close(be->b);
}

static int
run_cleanup(const struct options *o)
{
	struct backends be;
	struct npd_err err = {0};
	int rc;

	rc = open_backends(o->backend, NULL, &be);
	if (rc < 0)
		return 1;
	rc = npd_backend_cleanup(be.ops, be.b, be.set_ops, be.sb, &err);
	if (rc < 0)
		agent_log("error", "msg=\"cleanup failed\" backend=%s err=\"%s\"", be.ops->name,
			  npd_err_text(&err, rc));
	else
		agent_log("info", "msg=\"cleanup done\" backend=%s", be.ops->name);
	close_backends(&be);
	return rc < 0 ? 1 : 0;
}

static void
on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	agent_log("info", "msg=\"stopping, rules stay in force\" signal=%s", strsignal(w->signum));
	ev_break(loop, EVBREAK_ALL);
}

int
main(int argc, char **argv)
{
	struct options o = {0};
	struct ev_loop *loop;
	struct npd_agent *a = NULL;
	struct backends be = {0};
	struct sync *s = NULL;
	struct conntrack *ct = NULL;
	struct sync_opts so;
	struct stats_opts sto = {0};
	struct stats *stats = NULL;
	struct files *files = NULL;
	struct http *http = NULL;
	struct notify *notify = NULL;
	struct k8s *k8s = NULL;
	struct nflog *nflog = NULL;
	struct debug *debug = NULL;
	ev_signal sigterm, sigint;
	int rc, status = 1;

	if (parse_options(argc, argv, &o) < 0) {
		fprintf(stderr, "netpold: try --help\n");
		return EXIT_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	if (o.cleanup)
		return run_cleanup(&o);

	loop = ev_default_loop(EVFLAG_AUTO);
	if (!loop) {
		agent_log("error", "msg=\"cannot create the event loop\"");
		return 1;
	}
	a = agent_new(loop);
	if (open_backends(o.backend, agent_metrics(a), &be) < 0)
		goto out;
	sto.ops = be.ops;
	sto.backend = be.b;
	sto.set_ops = be.set_ops;
	sto.set_backend = be.sb;
	sto.interval = o.counters_interval;
	/* libiptc reads in process; the nft backend forks iptables-nft-save, so only on the
	 * timer. */
	sto.read_before_commit = strcmp(be.ops->name, "nft") != 0;
	sto.state_path = o.state_file;
	stats = stats_new(a, &sto);
	/* Before the first sync: the saved readings must meet the kernel's before a commit. */
	stats_start(stats);
	memset(&so, 0, sizeof(so));
	so.stats = stats;
	so.ops = be.ops;
	so.backend = be.b;
	so.set_ops = be.set_ops;
	so.set_backend = be.sb;
	npd_compile_opts_init(&so.compile);
	so.compile.node_name = o.node_name;
	so.compile.mark = o.mark;
	so.compile.nflog_group = o.nflog_group;
	so.compile.max_set_members = o.max_set_members;
	so.debounce = o.debounce;
	so.debounce_max = o.debounce_max;
	so.resync_period = o.resync;
	ct = conntrack_new(a, o.node_name);
	so.after_apply = conntrack_after_apply;
	so.after_apply_ctx = ct;
	s = sync_new(a, &so);
	agent_log("info", "msg=\"starting\" node=%s backend=%s source=%s", o.node_name,
		  be.ops->name, o.manifests ? "files" : "kubernetes");
	/* Errors here are logged by sync and retried by the first sync. */
	sync_start(s);

	if (o.metrics_addr) {
		rc = http_start(a, s, o.metrics_addr, &http);
		if (rc < 0) {
			agent_log("error", "msg=\"cannot serve metrics\" addr=%s err=\"%s\"",
				  o.metrics_addr, strerror(-rc));
			goto out;
		}
	}
	if (o.drop_log)
		nflog = nflog_start(a, o.nflog_group);
	/* The debug endpoints are a convenience: without them the agent still enforces. */
	if (o.debug_addr) {
		rc = debug_start(a, nflog, stats, o.debug_addr, &debug);
		if (rc < 0)
			agent_log("warn",
				  "msg=\"cannot serve the debug endpoints\" addr=%s err=\"%s\"",
				  o.debug_addr, strerror(-rc));
	}
	if (o.manifests) {
		rc = files_start(a, o.manifests, o.decode_threads, &files);
		if (rc < 0) {
			agent_log("error", "msg=\"cannot load manifests\" path=%s err=\"%s\"",
				  o.manifests, strerror(-rc));
			status = EXIT_USAGE;
			goto out;
		}
	} else {
		struct k8s_opts ko = {0};

		ko.kubeconfig = o.kubeconfig;
		ko.context = o.context;
		ko.in_cluster = o.in_cluster;
		ko.node_name = o.node_name;
		/* k8s logs its own error: a config that cannot be loaded. */
		if (k8s_start(a, &ko, &k8s) < 0) {
			status = EXIT_USAGE;
			goto out;
		}
	}

	notify = notify_start(a);
	ev_signal_init(&sigterm, on_signal, SIGTERM);
	ev_signal_init(&sigint, on_signal, SIGINT);
	ev_signal_start(loop, &sigterm);
	ev_signal_start(loop, &sigint);
	ev_run(loop, 0);
	ev_signal_stop(loop, &sigterm);
	ev_signal_stop(loop, &sigint);
	status = 0;
out:
	notify_stop(notify);
	k8s_free(k8s);
	debug_free(debug);
	nflog_free(nflog);
	http_free(http);
	files_free(files);
	sync_free(s);
	conntrack_free(ct);
	stats_free(stats);
	close_backends(&be);
	agent_free(a);
	ev_loop_destroy(loop);
	return status;
}
