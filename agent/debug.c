/* debug.c: /debug/explain and /debug/drops on the debug address. Both only read: explain
 * runs the simulator (lib/sim.c) on the agent's live store, the store the compiler enforces,
 * and formats it with lib/explain.c; drops formats the drop log's recent lines. Answers are
 * JSON; bad queries get 400 and an unknown pod 404, each with {"error": ...}. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "debug.h"
#include "http.h"
#include "npd/mem.h"
#include "npd/sim.h"

#define JSON "application/json"

struct debug {
	struct npd_agent *a;
	const struct nflog *nflog;
	struct http *http;
	const struct stats *stats;
};

static enum MHD_Result error(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum MHD_Result
error(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
{
	struct npd_buf b, msg;
	va_list ap;
	size_t len;

	npd_buf_init(&msg);
	va_start(ap, fmt);
	npd_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	npd_buf_init(&b);
	npd_buf_adds(&b, "{\"error\":");
	npd_explain_json_string(&b, msg.data);
	npd_buf_adds(&b, "}\n");
	npd_buf_fini(&msg);
	len = b.len;
	return http_reply(c, status, JSON, npd_buf_steal(&b), len);
}

static const char *
arg(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
}

/* Resolves one end; 0, or the HTTP status of the error already queued in *ret. */
static unsigned
endpoint(struct MHD_Connection *c, const struct npd_store *s, const char *name,
	 struct npd_sim_endpoint *ep, enum MHD_Result *ret)
{
	const char *spec = arg(c, name);
	int err;

	if (!spec || !spec[0]) {
		*ret = error(c, MHD_HTTP_BAD_REQUEST, "missing %s (NS/POD or IP)", name);
		return MHD_HTTP_BAD_REQUEST;
	}
	err = npd_sim_endpoint_parse(s, spec, ep);
	if (err == -ENOENT) {
		*ret = error(c, MHD_HTTP_NOT_FOUND, "no pod %s in the agent's store", spec);
		return MHD_HTTP_NOT_FOUND;
	}
	if (err) {
		*ret = error(c, MHD_HTTP_BAD_REQUEST, "\"%s\" is neither NS/POD nor an IP", spec);
		return MHD_HTTP_BAD_REQUEST;
	}
	return 0;
}

/* The explain module's counter lookup, answered from the stats cache. */
static bool
counters(void *ctx, const struct npd_explain_origin *o, uint64_t *packets, uint64_t *bytes)
{
	const struct debug *d = ctx;
	const struct npd_counters *c = stats_counters(d->stats);
	enum npd_origin_dir dir = o->egress ? NPD_ORIGIN_EGRESS : NPD_ORIGIN_INGRESS;

	if (o->rule == NPD_EXPLAIN_DEFAULT_DENY)
		return npd_counters_get(c, NPD_ORIGIN_POD, dir, o->ns, o->name, -1, packets,
					bytes) == 0;
	return npd_counters_get(c, NPD_ORIGIN_POLICY, dir, o->ns, o->name, (int32_t)o->rule,
				packets, bytes) == 0;
}

static enum MHD_Result
explain(struct debug *d, struct MHD_Connection *c)
{
	const struct npd_store *s = agent_store(d->a);
	struct npd_sim_endpoint from, to;
	struct npd_sim_result r;
	const char *port_s = arg(c, "port");
	enum MHD_Result ret = MHD_NO;
	enum npd_proto proto;
	struct npd_buf b;
	uint16_t port;
	size_t len;

	if (!port_s || npd_sim_port_parse(port_s, &port, &proto) < 0)
		return error(c, MHD_HTTP_BAD_REQUEST, "bad or missing port \"%s\" (want N/PROTO)",
			     port_s ? port_s : "");
	if (endpoint(c, s, "from", &from, &ret) || endpoint(c, s, "to", &to, &ret))
		return ret;
	if (npd_sim_run(s, &from, &to, port, proto, &r) != 0)
		return error(c, MHD_HTTP_BAD_REQUEST, "the two ends share no address family");
	npd_buf_init(&b);
	npd_explain_format(&r, &from, &to, port, proto, d->stats ? counters : NULL, d, &b);
	npd_sim_result_fini(&r);
	len = b.len;
	return http_reply(c, MHD_HTTP_OK, JSON, npd_buf_steal(&b), len);
}

static enum MHD_Result
drops(struct debug *d, struct MHD_Connection *c)
{
	const struct npd_drops *dr = nflog_drops(d->nflog);
	struct npd_buf b;
	size_t len;

	npd_buf_init(&b);
	if (dr)
		npd_drops_format_json(agent_store(d->a), dr, &b);
	else
		npd_buf_adds(&b, "{\"drops\":[]}\n");
	len = b.len;
	return http_reply(c, MHD_HTTP_OK, JSON, npd_buf_steal(&b), len);
}

static enum MHD_Result
route(void *ctx, struct MHD_Connection *c, const char *url)
{
	struct debug *d = ctx;

	if (strcmp(url, "/debug/explain") == 0)
		return explain(d, c);
	if (strcmp(url, "/debug/drops") == 0)
		return drops(d, c);
	return http_reply_text(c, MHD_HTTP_NOT_FOUND, "not found");
}

int
debug_start(struct npd_agent *a, const struct nflog *drops_src, const struct stats *st,
	    const char *addr, struct debug **out)
{
	struct debug *d = npd_xcalloc(1, sizeof(*d));
	int rc;

	d->a = a;
	d->nflog = drops_src;
	d->stats = st;
	rc = http_start_routes(a, addr, route, d, &d->http);
	if (rc < 0) {
		free(d);
		return rc;
	}
	*out = d;
	return 0;
}

void
debug_free(struct debug *d)
{
	if (!d)
		return;
	http_free(d->http);
	free(d);
}
