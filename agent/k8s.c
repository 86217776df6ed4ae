/* k8s.c: the Kubernetes API source. One libcurl multi handle is driven by the agent's libev
 * loop (curl's socket and timer callbacks become ev_io and ev_timer watchers; no threads,
 * no blocking call), with at most one request in flight per resource. Response bytes go
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
#include <unistd.h>

#include <curl/curl.h>
#include <ev.h>

#include "k8s.h"
#include "npd/clock.h"
#include "npd/json.h"
#include "npd/kubeconfig.h"
#include "npd/mem.h"
#include "npd/reflector.h"

#define USER_AGENT "netpold/0.1"
#define TOKEN_REREAD_S 60.0
#define CONNECT_TIMEOUT_S 10L
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

/* A socket curl asked us to watch. */
struct sock {
	ev_io io;
	struct k8s *k;
	struct sock *next;
};

struct k8s {
	struct npd_agent *a;
	struct ev_loop *loop;
	struct npd_kube_cfg cfg;
	char *auth; /* "Authorization: Bearer ..." or NULL */
	CURLM *multi;
	ev_timer curl_timer;
	ev_timer token_timer;
	struct sock *socks;
	uint64_t rng;
	unsigned watch_min_s, watch_max_s;
	struct stream streams[NPD_KIND__COUNT];
};

static struct k8s *the_k8s;

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
set_auth(struct k8s *k)
{
	if (k->auth)
		explicit_bzero(k->auth, strlen(k->auth));
	free(k->auth);
	k->auth = k->cfg.token ? npd_xasprintf("Authorization: Bearer %s", k->cfg.token) : NULL;
}

/* Bound service-account tokens rotate (hourly by default): re-read the file. */
static void
reload_token(struct k8s *k, const char *why)
{
	char *tok = NULL;
	int err;

	if (!k->cfg.token_file)
		return;
	err = npd_kubeconfig_read_token(k->cfg.token_file, &tok);
	if (err) {
		agent_log("warn",
			  "msg=\"cannot re-read token, keeping the last one\" file=%s err=\"%s\"",
			  k->cfg.token_file, strerror(-err));
		return;
	}
	if (k->cfg.token && strcmp(tok, k->cfg.token) == 0) {
		explicit_bzero(tok, strlen(tok));
		free(tok);
		return;
	}
	if (k->cfg.token)
		explicit_bzero(k->cfg.token, strlen(k->cfg.token));
	free(k->cfg.token);
	k->cfg.token = tok;
	set_auth(k);
	agent_log("info", "msg=\"token reloaded\" file=%s why=%s", k->cfg.token_file, why);
}

static void
on_token_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	reload_token(w->data, "periodic");
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

	for (i = 0; i < st->diags.n; i++) {
		agent_diag(st->k->a, &st->diags.v[i]);
		metric(st, "netpold_decode_errors_total", NULL, NULL);
	}
	npd_diags_reset(&st->diags);
}

static const char *
event_type_name(enum npd_event_type t)
{
	static const char *const names[] = {"ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"};

	return (size_t)t < NPD_ARRAY_SIZE(names) ? names[t] : "?";
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
		metric(st, "netpold_watch_events_total", "type", event_type_name(ev->type));
	if (ev->type == NPD_EV_ERROR) {
		agent_log("warn",
			  "msg=\"watch error event\" resource=%s code=%d reason=%s message=%s",
			  st->r.resource, ev->code, ev->reason ? ev->reason : "none",
			  agent_quote(ev->message, q, sizeof(q)));
		snprintf(code, sizeof(code), "%d", ev->code);
		metric(st, "netpold_api_errors_total", "code", code);
	}
	if (npd_reflector_on_event(&st->r, ev, rnd(k))) {
		st->stopped = true;
		goto out;
	}
	/* The agent notices the store's new generation and schedules the sync. */
	npd_store_apply(agent_store(k->a), ev);
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
		char *end;
		double v;

		memcpy(tmp, buf + 12, m);
		tmp[m] = '\0';
		/* Only the delay-seconds form; an HTTP-date leaves the backoff alone. */
		v = strtod(tmp, &end);
		if (end != tmp && v > 0)
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

static struct curl_slist *
build_headers(struct k8s *k)
{
	struct curl_slist *h = NULL;

	h = curl_slist_append(h, "Accept: application/json");
	if (k->auth)
		h = curl_slist_append(h, k->auth);
	if (!h)
		abort();
	return h;
}

static void
set_tls(struct k8s *k, CURL *e)
{
	const struct npd_kube_cfg *c = &k->cfg;
	struct curl_blob blob;

	if (c->insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	} else if (c->ca.len) {
		blob = (struct curl_blob){c->ca.data, c->ca.len, CURL_BLOB_NOCOPY};
		curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob);
	} else if (c->ca_file) {
		curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
	}
	if (c->cert.len) {
		blob = (struct curl_blob){c->cert.data, c->cert.len, CURL_BLOB_NOCOPY};
		curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &blob);
		curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
	} else if (c->cert_file) {
		curl_easy_setopt(e, CURLOPT_SSLCERT, c->cert_file);
	}
	if (c->key.len) {
		blob = (struct curl_blob){c->key.data, c->key.len, CURL_BLOB_NOCOPY};
		curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &blob);
		curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
	} else if (c->key_file) {
		curl_easy_setopt(e, CURLOPT_SSLKEY, c->key_file);
	}
}

static void
start_request(struct stream *st)
{
	struct k8s *k = st->k;
	char *path, *url;
	CURL *e;

	path = npd_reflector_next_request(&st->r, rnd(k));
	st->watch = npd_reflector_is_watch(&st->r);
	url = npd_xasprintf("%s%s", k->cfg.server, path);
	free(path);
	e = curl_easy_init();
	if (!e)
		abort();
	st->easy = e;
	st->status = 0;
	st->retry_after = 0;
	st->stopped = false;
	st->errbuf[0] = '\0';
	st->hdrs = build_headers(k);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, st);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, st->hdrs);
	curl_easy_setopt(e, CURLOPT_USERAGENT, USER_AGENT);
	/* "" offers every encoding curl was built with (gzip among them) and decodes it. */
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, st);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, st);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, st->errbuf);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	/* A peer that vanished without a FIN must not leave a watch hanging forever. */
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 30L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 10L);
	if (st->watch) {
		curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)st->r.watch_max_s + WATCH_MARGIN_S);
	} else {
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, LIST_LOW_SPEED_TIME_S);
	}
	set_tls(k, e);
	agent_log("debug", "msg=\"api request\" resource=%s url=%s", st->r.resource, url);
	free(url);
	if (curl_multi_add_handle(k->multi, e) != CURLM_OK)
		abort();
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
		curl_multi_remove_handle(st->k->multi, st->easy);
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
			reload_token(k, "unauthorized");
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
check_done(struct k8s *k)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(k->multi, &left))) {
		struct stream *st = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&st);
		request_done(st, m->data.result);
	}
}

static void
on_io(struct ev_loop *loop, ev_io *w, int revents)
{
	struct sock *s = (struct sock *)w;
	struct k8s *k = s->k;
	int running, flags = 0;

	(void)loop;
	if (revents & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (revents & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	/* s may be freed inside (CURL_POLL_REMOVE): only k is used afterwards. */
	curl_multi_socket_action(k->multi, w->fd, flags, &running);
	check_done(k);
}

static void
on_curl_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct k8s *k = w->data;
	int running;

	(void)loop;
	(void)revents;
	curl_multi_socket_action(k->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(k);
}

static void
sock_free(struct k8s *k, struct sock *s)
{
	struct sock **pp;

	ev_io_stop(k->loop, &s->io);
	for (pp = &k->socks; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	free(s);
}

static int
on_socket(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct k8s *k = userp;
	struct sock *s = socketp;
	int events = 0;

	(void)e;
	if (what == CURL_POLL_REMOVE) {
		if (s)
			sock_free(k, s);
		curl_multi_assign(k->multi, fd, NULL);
		return 0;
	}
	if (what & CURL_POLL_IN)
		events |= EV_READ;
	if (what & CURL_POLL_OUT)
		events |= EV_WRITE;
	if (!s) {
		s = npd_xcalloc(1, sizeof(*s));
		s->k = k;
		s->next = k->socks;
		k->socks = s;
		ev_io_init(&s->io, on_io, fd, events);
		curl_multi_assign(k->multi, fd, s);
	} else {
		ev_io_stop(k->loop, &s->io);
		ev_io_set(&s->io, fd, events);
	}
	ev_io_start(k->loop, &s->io);
	return 0;
}

static int
on_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct k8s *k = userp;

	(void)multi;
	ev_timer_stop(k->loop, &k->curl_timer);
	/* Acting here would re-enter curl: a zero timeout fires on the next loop iteration. */
	if (timeout_ms >= 0) {
		ev_timer_set(&k->curl_timer, (double)timeout_ms / 1000.0, 0);
		ev_timer_start(k->loop, &k->curl_timer);
	}
	return 0;
}

static int
load_config(const struct k8s_opts *o, struct npd_kube_cfg *cfg)
{
	const char *path = o->kubeconfig;
	struct npd_diags d;
	char line[1024];
	size_t i;
	int err;

	if (!path && !o->in_cluster) {
		path = getenv("KUBECONFIG");
		if (path && !*path)
			path = NULL;
	}
	npd_diags_init(&d);
	if (path && !o->in_cluster)
		err = npd_kubeconfig_load(path, o->context, cfg, &d);
	else
		err = npd_kubeconfig_in_cluster(o->sa_dir, cfg, &d);
	for (i = 0; i < d.n; i++)
		agent_log("error", "msg=\"cannot load the API config\" %s",
			  npd_diag_format(&d.v[i], line, sizeof(line)));
	if (err && !d.n)
		agent_log("error", "msg=\"cannot load the API config\" err=\"%s\"", strerror(-err));
	npd_diags_fini(&d);
	return err;
}

static void
watch_range(struct k8s *k)
{
	const char *env = getenv("NPD_K8S_WATCH_TIMEOUT_RANGE");
	unsigned lo, hi;

	k->watch_min_s = NPD_REFL_WATCH_MIN_S;
	k->watch_max_s = NPD_REFL_WATCH_MAX_S;
	if (!env)
		return;
	if (sscanf(env, "%u,%u", &lo, &hi) == 2 && lo > 0 && hi >= lo) {
		k->watch_min_s = lo;
		k->watch_max_s = hi;
	} else {
		agent_log("warn", "msg=\"ignoring NPD_K8S_WATCH_TIMEOUT_RANGE\" value=%s", env);
	}
}

int
k8s_source_start(struct npd_agent *a, const struct k8s_opts *o)
{
	static const enum npd_kind kinds[] = {NPD_KIND_NAMESPACE, NPD_KIND_POLICY, NPD_KIND_POD};
	struct k8s *k;
	size_t i;
	int err;

	if (the_k8s)
		return -EALREADY;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -ENOMEM;
	k = npd_xcalloc(1, sizeof(*k));
	k->a = a;
	k->loop = agent_loop(a);
	err = load_config(o, &k->cfg);
	if (err) {
		free(k);
		curl_global_cleanup();
		return err;
	}
	set_auth(k);
	k->rng = npd_now_ns() ^ ((uint64_t)getpid() << 32) ^ 0x9E3779B97F4A7C15ULL;
	if (!k->rng)
		k->rng = 1;
	watch_range(k);
	k->multi = curl_multi_init();
	if (!k->multi)
		abort();
	curl_multi_setopt(k->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(k->multi, CURLMOPT_SOCKETDATA, k);
	curl_multi_setopt(k->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(k->multi, CURLMOPT_TIMERDATA, k);
	ev_init(&k->curl_timer, on_curl_timer);
	k->curl_timer.data = k;
	ev_timer_init(&k->token_timer, on_token_timer, TOKEN_REREAD_S, TOKEN_REREAD_S);
	k->token_timer.data = k;
	if (k->cfg.token_file)
		ev_timer_start(k->loop, &k->token_timer);
	agent_log(
	    "info",
	    "msg=\"kubernetes source\" server=%s context=%s user=%s node=%s auth=%s tls_verify=%d",
	    k->cfg.server, k->cfg.context ? k->cfg.context : "in-cluster",
	    k->cfg.user ? k->cfg.user : "none", o->node_name ? o->node_name : "unknown",
	    k->cfg.token_file			  ? "token-file"
	    : k->cfg.token			  ? "token"
	    : k->cfg.cert.len || k->cfg.cert_file ? "client-cert"
						  : "none",
	    !k->cfg.insecure);
	the_k8s = k;
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
	return 0;
}

void
k8s_source_stop(void)
{
	struct k8s *k = the_k8s;
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
	curl_multi_cleanup(k->multi);
	while (k->socks)
		sock_free(k, k->socks);
	ev_timer_stop(k->loop, &k->curl_timer);
	ev_timer_stop(k->loop, &k->token_timer);
	if (k->auth)
		explicit_bzero(k->auth, strlen(k->auth));
	free(k->auth);
	npd_kubeconfig_fini(&k->cfg);
	free(k);
	the_k8s = NULL;
	curl_global_cleanup();
}
