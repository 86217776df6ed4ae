/* curlev.h: libcurl's multi-socket API driven by a libev loop. curl's socket and timer
 * callbacks become ev_io and ev_timer watchers, so transfers run on the agent's loop with
 * no thread and no blocking call. Knows nothing of what the transfers are for. */
#ifndef NPD_AGENT_CURLEV_H
#define NPD_AGENT_CURLEV_H

#include <curl/curl.h>

struct ev_loop;
struct curlev;

/* Called on the loop when a transfer added with curlev_add has finished; result is curl's
 * verdict on it. The handle is still in the multi: done removes it (curlev_remove), and
 * may add new ones. */
typedef void (*curlev_done_fn)(CURL *easy, CURLcode result, void *ctx);

/* A new multi handle on loop (borrowed), calling done(easy, result, ctx) per finished
 * transfer. Aborts when curl cannot be initialised. curlev_free(NULL) is a no-op; the
 * caller removes its transfers first. */
struct curlev *curlev_new(struct ev_loop *loop, curlev_done_fn done, void *ctx);
void curlev_free(struct curlev *c);
/* Starts a transfer (the caller keeps owning easy). Aborts when curl refuses it. */
void curlev_add(struct curlev *c, CURL *easy);
/* Stops a transfer, finished or not; the caller then frees easy. */
void curlev_remove(struct curlev *c, CURL *easy);

#endif
