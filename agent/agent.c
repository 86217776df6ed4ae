/* agent.c: the agent object every part of netpold shares: the loop, the store, the
 * registry of sources and their readiness, the metric registry, and logging. It schedules
 * nothing itself: a moved store generation and readiness are forwarded to the callback
 * the sync pipeline registered. It knows nothing of sync.c and must stay free of kernel
 * and HTTP code. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <ev.h>

#include "agent.h"
#include "npd/mem.h"
#include "npd/metrics.h"

struct source {
	char *name;
	bool ready;
};

struct npd_agent {
	struct ev_loop *loop;
	struct npd_store *store;
	struct npd_metrics *metrics;
	agent_schedule_fn schedule;
	void *schedule_ctx;
	ev_prepare watch;  /* compares the store's generation with seen_gen */
	uint64_t seen_gen; /* the generation last handed to the scheduler */
	bool synced;	   /* a sync reached the kernel */
	struct source *sources;
	size_t n_sources, cap_sources;
};

static bool log_debug;

static void
schedule(struct npd_agent *a)
{
	if (a->schedule)
		a->schedule(a->schedule_ctx);
}

/* Runs before the loop blocks, so every event read in this iteration is in the store and
 * a burst of changes asks for one sync, not one per object. */
static void
on_prepare(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct npd_agent *a = w->data;
	uint64_t gen = npd_store_generation(a->store);

	(void)loop;
	(void)revents;
	if (gen == a->seen_gen)
		return;
	a->seen_gen = gen;
	schedule(a);
}

struct npd_agent *
agent_new(struct ev_loop *loop)
{
	struct npd_agent *a = npd_xcalloc(1, sizeof(*a));

	a->loop = loop;
	a->store = npd_store_new();
	a->metrics = npd_metrics_new();
	a->seen_gen = npd_store_generation(a->store);
	ev_prepare_init(&a->watch, on_prepare);
	a->watch.data = a;
	ev_prepare_start(loop, &a->watch);
	/* Watching the store alone must not keep ev_run from returning. */
	ev_unref(loop);
	return a;
}

void
agent_free(struct npd_agent *a)
{
	size_t i;

	if (!a)
		return;
	ev_ref(a->loop);
	ev_prepare_stop(a->loop, &a->watch);
	for (i = 0; i < a->n_sources; i++)
		free(a->sources[i].name);
	free(a->sources);
	npd_metrics_free(a->metrics);
	npd_store_free(a->store);
	free(a);
}

void
agent_set_scheduler(struct npd_agent *a, agent_schedule_fn fn, void *ctx)
{
	a->schedule = fn;
	a->schedule_ctx = ctx;
}

void
agent_synced(struct npd_agent *a)
{
	a->synced = true;
}

struct ev_loop *
agent_loop(struct npd_agent *a)
{
	return a->loop;
}

struct npd_store *
agent_store(struct npd_agent *a)
{
	return a->store;
}

struct npd_metrics *
agent_metrics(struct npd_agent *a)
{
	return a->metrics;
}

static struct source *
source_find(const struct npd_agent *a, const char *name)
{
	size_t i;

	for (i = 0; i < a->n_sources; i++)
		if (strcmp(a->sources[i].name, name) == 0)
			return &a->sources[i];
	return NULL;
}

void
agent_source_register(struct npd_agent *a, const char *name)
{
	if (source_find(a, name))
		return;
	npd_xgrow(&a->sources, &a->cap_sources, a->n_sources + 1, sizeof(*a->sources));
	a->sources[a->n_sources].name = npd_xstrdup(name);
	a->sources[a->n_sources].ready = false;
	a->n_sources++;
}

void
agent_source_ready(struct npd_agent *a, const char *name)
{
	struct source *src = source_find(a, name);

	if (!src) {
		agent_source_register(a, name);
		src = source_find(a, name);
	}
	if (src->ready)
		return;
	src->ready = true;
	agent_log("info", "msg=\"source ready\" source=%s", name);
	/* The first sync waits for every source: syncing a partial store would remove the
	 * rules of policies not listed yet and open a window. */
	if (agent_sources_ready(a, NULL))
		schedule(a);
}

bool
agent_sources_ready(const struct npd_agent *a, const char **waiting)
{
	size_t i;

	if (a->n_sources == 0) {
		if (waiting)
			*waiting = "no source registered";
		return false;
	}
	for (i = 0; i < a->n_sources; i++) {
		if (!a->sources[i].ready) {
			if (waiting)
				*waiting = a->sources[i].name;
			return false;
		}
	}
	return true;
}

bool
agent_is_ready(const struct npd_agent *a, const char **why)
{
	const char *waiting = NULL;

	if (!agent_sources_ready(a, &waiting)) {
		if (why)
			*why = "waiting for a source";
		return false;
	}
	if (!a->synced) {
		if (why)
			*why = "no sync has reached the kernel yet";
		return false;
	}
	return true;
}

void
agent_diag(struct npd_agent *a, const struct npd_diag *dg)
{
	char line[1024];
	char name[128];

	npd_diag_format(dg, line, sizeof(line));
	agent_log("warn", "msg=\"bad input\" %s", line);
	snprintf(name, sizeof(name), "netpold_input_errors_total{kind=\"%s\"}",
		 npd_diag_kind_name(dg->kind));
	npd_metrics_add(a->metrics, name, 1);
}

void
agent_rejected(const struct npd_diag *dg, void *agent)
{
	struct npd_agent *a = agent;
	char name[128];

	/* Above a bound of limits.h: which object kind, which bound. */
	snprintf(name, sizeof(name), "netpold_objects_rejected_total{kind=\"%s\",reason=\"%s\"}",
		 dg->obj_kind ? dg->obj_kind : "unknown", dg->limit);
	npd_metrics_add(a->metrics, name, 1);
}

void
agent_diags(struct npd_agent *a, const struct npd_diags *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		agent_diag(a, &d->v[i]);
	npd_diags_each_rejected(d, agent_rejected, a);
}

void
agent_metric_inc(struct npd_agent *a, const char *name, uint64_t by)
{
	npd_metrics_add(a->metrics, name, (double)by);
}

void
agent_metric_set(struct npd_agent *a, const char *name, double value)
{
	npd_metrics_set(a->metrics, name, value);
}

int
agent_set_log_level(const char *level)
{
	if (strcmp(level, "debug") == 0)
		log_debug = true;
	else if (strcmp(level, "info") == 0)
		log_debug = false;
	else
		return -EINVAL;
	return 0;
}

const char *
agent_quote(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	if (len < 3) {
		if (len)
			buf[0] = '\0';
		return buf;
	}
	buf[o++] = '"';
	for (; s && *s && o + 3 < len; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			buf[o++] = '?';
		} else {
			buf[o++] = (char)c;
		}
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

void
agent_log(const char *level, const char *fmt, ...)
{
	struct timeval tv;
	struct tm tm;
	char ts[32];
	char line[4096];
	va_list ap;
	int n;

	if (!log_debug && strcmp(level, "debug") == 0)
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "ts=%s.%03ldZ level=%s ", ts, (long)(tv.tv_usec / 1000),
		     level);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	/* One write per line so lines from one process never interleave. */
	fprintf(stderr, "%s\n", line);
}
