/* http.h: the agent's HTTP endpoint (libmicrohttpd driven by the agent's loop, no thread):
 * /healthz, /readyz and /metrics. */
#ifndef NPD_AGENT_HTTP_H
#define NPD_AGENT_HTTP_H

#include <sys/socket.h>

#include <microhttpd.h>

#include "agent.h"
#include "sync.h"

struct http;

/* Listens on addr ("HOST:PORT", "[V6ADDR]:PORT" or ":PORT" for every IPv4 address) and
 * serves from a's loop; s (borrowed, may be NULL) supplies rule counters. Returns 0 and a
 * new server in *out, -EINVAL for a bad address, or -EADDRINUSE-style errors. */
int http_start(struct npd_agent *a, struct sync *s, const char *addr, struct http **out);
/* A server's handler of GET and HEAD requests without a body (the method and body checks
 * are done): queues one reply on c and returns what MHD_queue_response returned. */
typedef enum MHD_Result (*http_route_fn)(void *ctx, struct MHD_Connection *c, const char *url);
/* Like http_start, but every request goes to route (ctx passed through): for a server other
 * than the metrics one. */
int http_start_routes(struct npd_agent *a, const char *addr, http_route_fn route, void *ctx,
		      struct http **out);
/* Queues body (owned, freed by MHD) of type with status; returns MHD's result. */
enum MHD_Result http_reply(struct MHD_Connection *c, unsigned status, const char *type, char *body,
			   size_t len);
/* Queues text plus a newline as text/plain. */
enum MHD_Result http_reply_text(struct MHD_Connection *c, unsigned status, const char *text);
/* Stops serving; http_free(NULL) is a no-op. */
void http_free(struct http *h);
/* Splits "HOST:PORT" into a socket address; returns 0 or -EINVAL. */
int http_parse_addr(const char *addr, struct sockaddr_storage *ss);

#endif
