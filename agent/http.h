/* http.h: the agent's HTTP endpoint (libmicrohttpd driven by the agent's loop, no thread):
 * /healthz, /readyz and /metrics. */
#ifndef NPD_AGENT_HTTP_H
#define NPD_AGENT_HTTP_H

#include <sys/socket.h>

#include "agent.h"
#include "sync.h"

struct http;

/* Listens on addr ("HOST:PORT", "[V6ADDR]:PORT" or ":PORT" for every IPv4 address) and
 * serves from a's loop; s (borrowed, may be NULL) supplies rule counters. Returns 0 and a
 * new server in *out, -EINVAL for a bad address, or -EADDRINUSE-style errors. */
int http_start(struct npd_agent *a, struct sync *s, const char *addr, struct http **out);
/* Stops serving; http_free(NULL) is a no-op. */
void http_free(struct http *h);
/* Splits "HOST:PORT" into a socket address; returns 0 or -EINVAL. */
int http_parse_addr(const char *addr, struct sockaddr_storage *ss);

#endif
