/* http.c: /healthz, /readyz and /metrics over libmicrohttpd, run on the agent's loop:
 * the daemon uses its own epoll set (MHD_USE_EPOLL, no thread), whose fd one ev_io
 * watches, plus one ev_timer from MHD_get_timeout for connection timeouts and for work
 * MHD left pending. Handlers only read agent state; they never sync or block. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>
#include <microhttpd.h>

#include "http.h"
#include "npd/buf.h"
#include "npd/mem.h"
#include "npd/metrics.h"

struct http {
	struct npd_agent *a;
	struct sync *sync;
	http_route_fn route; /* NULL: the metrics server's own paths */
	void *route_ctx;
	struct MHD_Daemon *d;
	ev_io io;
	ev_timer timer;
	double started; /* ev_now at start, for netpold_uptime_seconds */
};

int
http_parse_addr(const char *addr, struct sockaddr_storage *ss)
{
	char host[128];
	const char *colon, *port_s;
	char *end;
	unsigned long port;

	memset(ss, 0, sizeof(*ss));
	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');

		if (!close || close[1] != ':' || (size_t)(close - addr - 1) >= sizeof(host))
			return -EINVAL;
		memcpy(host, addr + 1, (size_t)(close - addr - 1));
		host[close - addr - 1] = '\0';
		port_s = close + 2;
	} else {
		colon = strrchr(addr, ':');
		if (!colon || (size_t)(colon - addr) >= sizeof(host))
			return -EINVAL;
		memcpy(host, addr, (size_t)(colon - addr));
		host[colon - addr] = '\0';
		port_s = colon + 1;
	}
	errno = 0;
	port = strtoul(port_s, &end, 10);
	if (!*port_s || *end || errno || port > 65535)
		return -EINVAL;
	if (host[0] == '\0' || strcmp(host, "localhost") == 0) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		sin->sin_addr.s_addr = htonl(host[0] ? INADDR_LOOPBACK : INADDR_ANY);
	} else if (strchr(host, ':')) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return -EINVAL;
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return -EINVAL;
	}
	return 0;
}

enum MHD_Result
http_reply(struct MHD_Connection *c, unsigned status, const char *type, char *body, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result
http_reply_text(struct MHD_Connection *c, unsigned status, const char *text)
{
	char *body = npd_xasprintf("%s\n", text);

	return http_reply(c, status, "text/plain; charset=utf-8", body, strlen(body));
}

static enum MHD_Result
serve_metrics(struct http *h, struct MHD_Connection *c)
{
	struct npd_buf b;
	const char *why;
	char name[96];
	size_t len, k;

	npd_buf_init(&b);
	/* Store sizes are cheap to count and more useful current than as of the last sync. */
	for (k = 0; k < NPD_KIND__COUNT; k++) {
		snprintf(name, sizeof(name), "netpold_store_objects{kind=\"%s\"}",
			 npd_kind_name((enum npd_kind)k));
		npd_metrics_set(agent_metrics(h->a), name,
				(double)npd_store_count(agent_store(h->a), (enum npd_kind)k));
	}
	npd_metrics_format(agent_metrics(h->a), &b);
	npd_buf_adds(&b, "# HELP netpold_ready 1 once the sources are ready and a sync reached "
			 "the kernel, else 0.\n");
	npd_metrics_format_type(&b, "netpold_ready", "gauge");
	npd_metrics_format_sample(&b, "netpold_ready", NULL, agent_is_ready(h->a, &why) ? 1 : 0);
	npd_buf_adds(&b, "# HELP netpold_uptime_seconds Seconds since netpold started.\n");
	npd_metrics_format_type(&b, "netpold_uptime_seconds", "gauge");
	npd_metrics_format_sample(&b, "netpold_uptime_seconds", NULL,
				  ev_now(agent_loop(h->a)) - h->started);
	if (h->sync)
		sync_format_counters(h->sync, &b);
	len = b.len;
	return http_reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
			  npd_buf_steal(&b), len);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
	   const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct http *h = cls;
	const char *why = NULL;

	(void)version;
	(void)upload_data;
	(void)con_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return http_reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
	if (*upload_data_size)
		return http_reply_text(c, MHD_HTTP_BAD_REQUEST, "unexpected body");
	if (h->route)
		return h->route(h->route_ctx, c, url);
	if (strcmp(url, "/healthz") == 0)
		return http_reply_text(c, MHD_HTTP_OK, "ok");
	if (strcmp(url, "/readyz") == 0) {
		if (agent_is_ready(h->a, &why))
			return http_reply_text(c, MHD_HTTP_OK, "ok");
		return http_reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, why);
	}
	if (strcmp(url, "/metrics") == 0)
		return serve_metrics(h, c);
	return http_reply_text(c, MHD_HTTP_NOT_FOUND, "not found");
}

/* Runs MHD and re-arms the timer from what it asks for. */
static void
drive(struct http *h)
{
	struct ev_loop *loop = agent_loop(h->a);
	MHD_UNSIGNED_LONG_LONG ms;

	MHD_run(h->d);
	ev_timer_stop(loop, &h->timer);
	if (MHD_get_timeout(h->d, &ms) == MHD_YES) {
		ev_timer_set(&h->timer, (double)ms / 1000.0, 0);
		ev_timer_start(loop, &h->timer);
	}
}

static void
on_io(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	drive(w->data);
}

static void
on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	drive(w->data);
}

/* libmicrohttpd hands its own format strings: checked as printf formats. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512], q[600];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	agent_log("debug", "msg=\"http\" detail=%s", agent_quote(msg, q, sizeof(q)));
}

static int
start(struct npd_agent *a, struct sync *s, http_route_fn route, void *route_ctx, const char *addr,
      struct http **out)
{
	struct sockaddr_storage ss;
	const union MHD_DaemonInfo *info;
	struct http *h;
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	int rc;

	rc = http_parse_addr(addr, &ss);
	if (rc < 0)
		return rc;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h = npd_xcalloc(1, sizeof(*h));
	h->a = a;
	h->sync = s;
	h->route = route;
	h->route_ctx = route_ctx;
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR, &ss,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
				MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL, MHD_OPTION_END);
	if (!h->d) {
		rc = errno ? -errno : -EADDRINUSE;
		free(h);
		return rc;
	}
	info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
	ev_io_init(&h->io, on_io, info->epoll_fd, EV_READ);
	h->io.data = h;
	ev_init(&h->timer, on_timer);
	h->timer.data = h;
	ev_io_start(agent_loop(a), &h->io);
	h->started = ev_now(agent_loop(a));
	*out = h;
	return 0;
}

int
http_start(struct npd_agent *a, struct sync *s, const char *addr, struct http **out)
{
	return start(a, s, NULL, NULL, addr, out);
}

int
http_start_routes(struct npd_agent *a, const char *addr, http_route_fn route, void *ctx,
		  struct http **out)
{
	return start(a, NULL, route, ctx, addr, out);
}

void
http_free(struct http *h)
{
	if (!h)
		return;
	ev_io_stop(agent_loop(h->a), &h->io);
	ev_timer_stop(agent_loop(h->a), &h->timer);
	MHD_stop_daemon(h->d);
	free(h);
}
