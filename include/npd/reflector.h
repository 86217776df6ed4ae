/* reflector.h: the list/watch bookkeeping for one Kubernetes resource, without I/O: which
 * request to send next, what a list page, a watch event, the end of a stream or an error
 * mean for the resourceVersion, the relist and the backoff. Time and randomness are inputs:
 * the caller performs the requests and waits the delays the reflector asks for. */
#ifndef NPD_REFLECTOR_H
#define NPD_REFLECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "npd/model.h"
#include "npd/store.h"

#define NPD_REFL_PAGE_LIMIT 500
#define NPD_REFL_WATCH_MIN_S 300 /* watch timeoutSeconds drawn in [min, max) */
#define NPD_REFL_WATCH_MAX_S 600
#define NPD_REFL_BACKOFF_BASE_S 0.5 /* doubling per consecutive failure ... */
#define NPD_REFL_BACKOFF_MAX_S 30.0 /* ... up to this cap, full jitter below it */
#define NPD_REFL_RETRY_AFTER_MAX_S 600.0
#define NPD_REFL_THROTTLE_JITTER 0.05 /* a throttled wait is Retry-After * [1, 1 + this) */
#define NPD_REFL_THROTTLE_MAX 20      /* consecutive Retry-After waits before backing off */

enum npd_refl_state {
	NPD_REFL_LISTING,  /* next request: a list page */
	NPD_REFL_WATCHING, /* next request (or the one in flight): a watch from rv */
	NPD_REFL_BACKOFF,  /* wait `delay` seconds, then request again (resume says what) */
};

/* Caller storage; read the members, change them only through the functions below. */
struct npd_reflector {
	enum npd_kind kind;
	const char *path;     /* "/api/v1/pods" */
	const char *resource; /* "pods", for logs and metric labels */
	enum npd_refl_state state;
	enum npd_refl_state resume; /* in BACKOFF: LISTING or WATCHING */
	double delay;		    /* in BACKOFF: seconds to wait before the next request */
	char *rv;		    /* last resourceVersion seen (list or watch), or NULL */
	char *cont;		    /* continue token of the next list page, or NULL */
	uint32_t list;		    /* number of the current (or last) list, from 1 */
	bool listed;		    /* a complete list has been applied at least once */
	unsigned attempt;	    /* consecutive failures, for the backoff */
	unsigned throttles;	    /* consecutive 429/503 answers waited out as asked */
	size_t watch_events;	    /* events (bookmarks included) in the current watch */
	unsigned watch_min_s, watch_max_s;
	uint64_t n_lists;	   /* complete lists */
	uint64_t n_relists;	   /* lists restarted from scratch after the first (410) */
	uint64_t n_watch_restarts; /* watches resumed after one ended */
	uint64_t n_errors;	   /* failures sent to backoff */
	uint64_t n_throttled;	   /* of those, waits the server's Retry-After set */
};

/* Starts in LISTING for kind (NPD_KIND_NAMESPACE, _POD or _POLICY), cluster-wide. */
void npd_reflector_init(struct npd_reflector *r, enum npd_kind kind);
void npd_reflector_fini(struct npd_reflector *r);
/* Overrides the range watch timeouts are drawn from (tests); min <= max, both > 0. */
void npd_reflector_set_watch_timeout(struct npd_reflector *r, unsigned min_s, unsigned max_s);

/* The path and query of the next request (owned by the caller); leaves BACKOFF for the
 * state it resumes. rnd in [0, 1) picks a watch's timeoutSeconds. */
char *npd_reflector_next_request(struct npd_reflector *r, double rnd);
/* Whether the request just returned by next_request is a watch (else a list page). */
bool npd_reflector_is_watch(const struct npd_reflector *r);

/* An event decoded from the current response: while watching, advances rv (bookmarks
 * included); while listing, nothing: the caller applies it with npd_store_apply_listed
 * and npd_reflector_list_mark, which marks in the store what the list holds. An ERROR event ends the stream:
 * code 410 relists, anything else backs off (rnd in [0, 1)). Returns true when the caller
 * must drop the rest of the response (after an ERROR event). */
bool npd_reflector_on_event(struct npd_reflector *r, const struct npd_event *ev, double rnd);
/* The number to apply ev, of the current response, with (npd_store_apply_listed): the
 * list's while listing an object of the reflector's kind, else 0 (a plain apply). */
uint32_t npd_reflector_list_mark(const struct npd_reflector *r, const struct npd_event *ev);
/* A list page was received and decoded whole, carrying the list's rv and continue token
 * (NULL or "" on the last page). Returns true when the list is complete: the caller then
 * calls on_list_done. */
bool npd_reflector_on_list_page(struct npd_reflector *r, const char *rv, const char *cont);
/* Completes a list: deletes from s every object of the reflector's kind that the list did
 * not mark (so deletions during a gap disappear), resets the backoff and moves to
 * WATCHING. Returns how many objects were deleted. */
size_t npd_reflector_on_list_done(struct npd_reflector *r, struct npd_store *s);
/* The watch response ended: clean (the server closed it, e.g. at timeoutSeconds) resumes
 * watching from rv at once when events arrived, else after a backoff; not clean (a network
 * error mid-stream) backs off first. */
void npd_reflector_on_watch_end(struct npd_reflector *r, bool clean, double rnd);
/* The request failed: status is the HTTP status (or a Status body's code), 0 for a network
 * or decoding failure. 410 Gone relists at once (a 410 on a continue token restarts the
 * list). A 429 or 503 with retry_after > 0 waits that long (plus a little jitter) without
 * growing the backoff, up to NPD_REFL_THROTTLE_MAX times in a row; anything else backs
 * off exponentially, for at least retry_after seconds (0: none given). */
void npd_reflector_on_error(struct npd_reflector *r, int status, double retry_after, double rnd);
/* Parses a Retry-After header value: delay-seconds, or an HTTP-date (IMF-fixdate, RFC 850
 * or asctime) taken relative to now (Unix seconds). Writes the delay (0 for a date in the
 * past) to *out; -EINVAL when the value is neither form. */
int npd_reflector_parse_retry_after(const char *value, double now, double *out);

/* Seconds to wait before the next request: 0 unless in BACKOFF. */
double npd_reflector_delay(const struct npd_reflector *r);
const char *npd_reflector_state_name(enum npd_refl_state s);

#endif
