/* k8s.c: the Kubernetes API source. Requests run on the agent's libev loop through one
 * curl multi handle (curlev.c) with the connection's credentials and TLS (k8s_conn.c), at
 * most one request in flight per resource. Response bytes go
 * from curl's write callback straight into a streaming JSON decoder whose events are
 * applied to the store, so a list of 10,000 pods is never held whole in memory.
 *
 * What to request next, and when, is the reflector's (lib/reflector.c) decision; this file
 * performs the requests, applies what arrives, and logs and counts what happens. While the
 * API server is unreachable nothing in the store changes, so the rules last applied stay
 * enforced, and each resource keeps retrying with backoff. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <ev.h>

#include "curlev.h"
#include "k8s.h"
#include "k8s_conn.h"
#include "npd/clock.h"
#include "npd/json.h"
#include "npd/mem.h"
#include "npd/reflector.h"

/* A list page must keep arriving; a watch may be silent for its whole timeoutSeconds, so
 * it gets the longest possible one plus a margin before the client gives up on it. */
#define LIST_LOW_SPEED_TIME_S 30L
#define WATCH_MARGIN_S 60L

struct k8s;

/* One resource: its reflector and the request in flight (at most one). */
struct stream {
	struct k8s *k;
	struct npd_reflector r;
	char source[64]; /* "k8s/pods" */
	CURL *easy;	 /* the request in flight, or NULL */
	struct curl_slist *hdrs;
	struct npd_json_decoder *dec;
	struct npd_diags diags;
	ev_timer retry; /* the reflector's backoff */
	long status;	/* HTTP status of the response, 0 until known */
	double retry_after;
	bool watch;   /* the request in flight is a watch */
	bool stopped; /* an ERROR event ended the response */
	bool ready;   /* reported ready to the agent */
	uint64_t relists_counted, restarts_counted;
	char errbuf[CURL_ERROR_SIZE];
};

struct k8s {
	struct npd_agent *a;
	struct ev_loop *loop;
	struct k8s_conn conn;
	struct curlev *curl;
	uint64_t rng;
	unsigned watch_min_s, watch_max_s;
	struct stream streams[NPD_KIND__COUNT];
};

static void start_request(struct stream *st);

/* xorshift64*: jitter needs no more than this. */
static double
rnd(struct k8s *k)
{
	k->rng ^= k->rng >> 12;
	k->rng ^= k->rng << 25;
	k->rng ^= k->rng >> 27;
	return (double)((k->rng * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

static void
metric(struct stream *st, const char *family, const char *extra_label, const char *value)
{
	char name[256];

	if (extra_label)
		snprintf(name, sizeof(name), "%s{resource=\"%s\",%s=\"%s\"}", family,
			 st->r.resource, extra_label, value);
	else
		snprintf(name, sizeof(name), "%s{resource=\"%s\"}", family, st->r.resource);
	agent_metric_inc(st->k->a, name, 1);
}

/* Logs and counts what the decoder skipped; the stream goes on. */
static void
flush_diags(struct stream *st)
{
	size_t i;

	agent_diags(st->k->a, &st->diags);
	for (i = 0; i < st->diags.n; i++)
		metric(st, "netpold_decode_errors_total", NULL, NULL);
	npd_diags_reset(&st->diags);
}

static void
on_event(struct npd_event *ev, void *ctx)
{
	struct stream *st = ctx;
	struct k8s *k = st->k;
	char q[256], code[16];

	/* Objects in an error body, or after an ERROR event, are not the resource's. */
	if (st->stopped || !st->easy || st->status < 200 || st->status >= 300)
		goto out;
	if (st->watch)
		metric(st, "netpold_watch_events_total", "type", npd_event_type_name(ev->type));
	if (ev->type == NPD_EV_ERROR) {
		agent_log("warn",
			  "msg=\"watch error event\" resource=%s code=%d reason=%s retry_after=%g "
			  "message=%s",
			  st->r.resource, ev->code, ev->reason ? ev->reason : "none",
			  ev->retry_after, agent_quote(ev->message, q, sizeof(q)));
		snprintf(code, sizeof(code), "%d", ev->code);
		metric(st, "netpold_api_errors_total", "code", code);
	}
	if (npd_reflector_on_event(&st->r, ev, rnd(k))) {
		st->stopped = true;
		goto out;
	}
	/* The agent notices the store's new generation and schedules the sync. */
	npd_store_apply_listed(agent_store(k->a), ev, npd_reflector_list_mark(&st->r, ev));
	if (st->watch && ev->type != NPD_EV_BOOKMARK) {
		struct timespec ts;

		/* Wall-clock microseconds, so a bench can line this up with the API server's
		 * own timestamps (the log's are milliseconds). */
		clock_gettime(CLOCK_REALTIME, &ts);
		agent_log("debug", "msg=\"watch event stored\" resource=%s type=%s rv=%s unix=%.6f",
			  st->r.resource, npd_event_type_name(ev->type), ev->rv ? ev->rv : "-",
			  (double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
	}
out:
	npd_event_fini(ev);
}

static size_t
on_header(char *buf, size_t size, size_t n, void *ctx)
{
	struct stream *st = ctx;
	size_t len = size * n;
	char tmp[64];

	/* A new status line (after a 100 Continue, or a redirect) starts a new header set. */
	if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0)
		st->retry_after = 0;
	if (len > 12 && strncasecmp(buf, "Retry-After:", 12) == 0) {
		size_t m = len - 12 < sizeof(tmp) - 1 ? len - 12 : sizeof(tmp) - 1;
		double v;

		memcpy(tmp, buf + 12, m);
		tmp[m] = '\0';
		tmp[strcspn(tmp, "\r\n")] = '\0';
		/* Seconds or an HTTP-date (wall clock); anything else leaves the backoff alone. */
		if (npd_reflector_parse_retry_after(tmp, (double)time(NULL), &v) == 0)
			st->retry_after = v;
	}
	return len;
}

static size_t
on_write(char *buf, size_t size, size_t n, void *ctx)
{
	struct stream *st = ctx;
	size_t len = size * n;

	if (!st->dec) {
		curl_easy_getinfo(st->easy, CURLINFO_RESPONSE_CODE, &st->status);
		if (st->status >= 200 && st->status < 300)
			st->dec = npd_json_decoder_new(st->watch ? NPD_JSON_WATCH : NPD_JSON_LIST,
						       st->r.kind, on_event, st, &st->diags);
		else
			/* An error body is a meta/v1 Status: decoded only for its code. */
			st->dec =
			    npd_json_decoder_new(NPD_JSON_OBJECT, st->r.kind, on_event, st, NULL);
	}
	if (st->status >= 200 && st->status < 300) {
		npd_json_decoder_feed(st->dec, buf, len);
		flush_diags(st);
		/* Returning short aborts the transfer: the reflector has moved on. */
		if (st->stopped)
			return 0;
	} else {
		npd_json_decoder_feed(st->dec, buf, len);
	}
	return len;
}

static void
start_request(struct stream *st)
{
	struct k8s *k = st->k;
	char *path;
	CURL *e;

	path = npd_reflector_next_request(&st->r, rnd(k));
	st->watch = npd_reflector_is_watch(&st->r);
	e = k8s_conn_get(&k->conn, path, &st->hdrs);
	st->easy = e;
	st->status = 0;
	st->retry_after = 0;
	st->stopped = false;
	st->errbuf[0] = '\0';
	curl_easy_setopt(e, CURLOPT_PRIVATE, st);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, st);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, st);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, st->errbuf);
	if (st->watch) {
		curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)st->r.watch_max_s + WATCH_MARGIN_S);
	} else {
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, LIST_LOW_SPEED_TIME_S);
	}
	agent_log("debug", "msg=\"api request\" resource=%s url=%s%s", st->r.resource,
		  k->conn.cfg.server, path);
	free(path);
	curlev_add(k->curl, e);
}

static void
on_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	start_request(w->data);
}

/* Starts the next request now, or after the reflector's backoff. */
static void
schedule(struct stream *st)
{
	double delay = npd_reflector_delay(&st->r);

	if (delay <= 0) {
		start_request(st);
		return;
	}
	ev_timer_set(&st->retry, delay, 0);
	ev_timer_start(st->k->loop, &st->retry);
}

static void
release_request(struct stream *st)
{
	if (st->easy) {
		curlev_remove(st->k->curl, st->easy);
		curl_easy_cleanup(st->easy);
		st->easy = NULL;
	}
	curl_slist_free_all(st->hdrs);
	st->hdrs = NULL;
	npd_json_decoder_free(st->dec);
	st->dec = NULL;
}

static void
list_page_done(struct stream *st)
{
	struct k8s *k = st->k;
	size_t deleted;

	if (!npd_reflector_on_list_page(&st->r, npd_json_decoder_list_rv(st->dec),
					npd_json_decoder_list_continue(st->dec)))
		return;
	deleted = npd_reflector_on_list_done(&st->r, agent_store(k->a));
	agent_log(st->r.n_lists > 1 ? "info" : "debug",
		  "msg=\"list complete\" resource=%s rv=%s objects=%zu deleted=%zu", st->r.resource,
		  st->r.rv ? st->r.rv : "none", npd_store_count(agent_store(k->a), st->r.kind),
		  deleted);
	if (!st->ready) {
		st->ready = true;
		agent_source_ready(k->a, st->source);
	}
}

/* A request finished (result is curl's verdict on the transfer). */
static void
request_done(struct stream *st, CURLcode result)
{
	struct k8s *k = st->k;
	char code[16], q[256];
	bool ok2xx;
	int status;

	if (!st->status)
		curl_easy_getinfo(st->easy, CURLINFO_RESPONSE_CODE, &st->status);
	ok2xx = st->status >= 200 && st->status < 300;
	if (st->stopped) {
		/* An ERROR event already moved the reflector on. */
	} else if (result != CURLE_OK) {
		agent_log("warn", "msg=\"api request failed\" resource=%s watch=%d err=%s",
			  st->r.resource, st->watch,
			  agent_quote(st->errbuf[0] ? st->errbuf : curl_easy_strerror(result), q,
				      sizeof(q)));
		metric(st, "netpold_api_errors_total", "code", "network");
		if (st->dec && ok2xx)
			flush_diags(st);
		if (st->watch)
			npd_reflector_on_watch_end(&st->r, false, rnd(k));
		else
			npd_reflector_on_error(&st->r, 0, 0, rnd(k));
	} else if (ok2xx) {
		int rc = st->dec ? npd_json_decoder_finish(st->dec) : 0;

		flush_diags(st);
		if (st->watch) {
			npd_reflector_on_watch_end(&st->r, true, rnd(k));
		} else if (rc < 0 || !st->dec) {
			agent_log("warn", "msg=\"list response undecodable\" resource=%s",
				  st->r.resource);
			metric(st, "netpold_api_errors_total", "code", "decode");
			npd_reflector_on_error(&st->r, 0, 0, rnd(k));
		} else {
			list_page_done(st);
		}
	} else {
		if (st->dec)
			npd_json_decoder_finish(st->dec);
		status = st->dec && npd_json_decoder_status_code(st->dec)
			     ? npd_json_decoder_status_code(st->dec)
			     : (int)st->status;
		snprintf(code, sizeof(code), "%d", status);
		metric(st, "netpold_api_errors_total", "code", code);
		agent_log("warn",
			  "msg=\"api error\" resource=%s watch=%d status=%ld code=%d reason=%s "
			  "retry_after=%.0f",
			  st->r.resource, st->watch, st->status, status,
			  st->dec && npd_json_decoder_status_reason(st->dec)
			      ? npd_json_decoder_status_reason(st->dec)
			      : "none",
			  st->retry_after);
		npd_reflector_on_error(&st->r, status, st->retry_after, rnd(k));
		if (status == 401)
			k8s_conn_reload_token(&k->conn, "unauthorized");
	}
	/* Transitions may have happened in the write callback (an ERROR event) too. */
	if (st->r.n_relists != st->relists_counted) {
		st->relists_counted = st->r.n_relists;
		agent_log("info", "msg=\"relisting\" resource=%s why=expired", st->r.resource);
		metric(st, "netpold_relists_total", NULL, NULL);
	}
	if (st->r.n_watch_restarts != st->restarts_counted) {
		st->restarts_counted = st->r.n_watch_restarts;
		agent_log("debug", "msg=\"watch restarting\" resource=%s rv=%s", st->r.resource,
			  st->r.rv ? st->r.rv : "none");
		metric(st, "netpold_watch_restarts_total", NULL, NULL);
	}
	if (st->r.state == NPD_REFL_BACKOFF)
		agent_log("info", "msg=\"backing off\" resource=%s delay=%.3f resume=%s",
			  st->r.resource, st->r.delay, npd_reflector_state_name(st->r.resume));
	release_request(st);
	schedule(st);
}

static void
on_done(CURL *easy, CURLcode result, void *ctx)
{
	struct stream *st = NULL;

	(void)ctx;
	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&st);
	request_done(st, result);
}

static void
watch_range(struct k8s *k)
{
	k->watch_min_s = NPD_REFL_WATCH_MIN_S;
	k->watch_max_s = NPD_REFL_WATCH_MAX_S;
#ifdef NPD_TEST_HOOKS
	/* Lets a test see watches end and reopen within seconds instead of minutes. */
	const char *env = getenv("NPD_K8S_WATCH_TIMEOUT_RANGE");
	unsigned lo, hi;

	if (!env)
		return;
	if (sscanf(env, "%u,%u", &lo, &hi) == 2 && lo > 0 && hi >= lo) {
		k->watch_min_s = lo;
		k->watch_max_s = hi;
	} else {
		agent_log("warn", "msg=\"ignoring NPD_K8S_WATCH_TIMEOUT_RANGE\" value=%s", env);
	}
#endif
}

int
k8s_start(struct npd_agent *a, const struct k8s_opts *o, struct k8s **out)
{
	static const enum npd_kind kinds[] = {NPD_KIND_NAMESPACE, NPD_KIND_POLICY, NPD_KIND_POD};
	struct k8s *k;
	size_t i;
	int err;

	k = npd_xcalloc(1, sizeof(*k));
	k->a = a;
	k->loop = agent_loop(a);
	err = k8s_conn_open(&k->conn, k->loop, o);
	if (err) {
		free(k);
		return err;
	}
	k->rng = npd_now_ns() ^ ((uint64_t)getpid() << 32) ^ 0x9E3779B97F4A7C15ULL;
	if (!k->rng)
		k->rng = 1;
	watch_range(k);
	k->curl = curlev_new(k->loop, on_done, k);
	k8s_conn_log(&k->conn, o->node_name);
	for (i = 0; i < NPD_ARRAY_SIZE(kinds); i++) {
		struct stream *st = &k->streams[kinds[i]];

		st->k = k;
		npd_reflector_init(&st->r, kinds[i]);
		npd_reflector_set_watch_timeout(&st->r, k->watch_min_s, k->watch_max_s);
		npd_diags_init(&st->diags);
		snprintf(st->source, sizeof(st->source), "k8s/%s", st->r.resource);
		ev_init(&st->retry, on_retry);
		st->retry.data = st;
		agent_source_register(a, st->source);
	}
	for (i = 0; i < NPD_ARRAY_SIZE(kinds); i++)
		start_request(&k->streams[kinds[i]]);
	*out = k;
	return 0;
}

void
k8s_free(struct k8s *k)
{
	size_t i;

	if (!k)
		return;
	for (i = 0; i < NPD_KIND__COUNT; i++) {
		struct stream *st = &k->streams[i];

		if (!st->k)
			continue;
		ev_timer_stop(k->loop, &st->retry);
		release_request(st);
		npd_reflector_fini(&st->r);
		npd_diags_fini(&st->diags);
	}
	curlev_free(k->curl);
	k8s_conn_close(&k->conn);
	free(k);
}
