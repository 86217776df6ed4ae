/* reflector.c: the list-then-watch state machine of one resource, as client-go's reflector
 * runs it: paginated list, watch from the list's resourceVersion with bookmarks, resume
 * from the last rv when a watch ends, relist on 410 Gone, the server's Retry-After on 429
 * and 503, exponential backoff with full jitter otherwise. Pure: no I/O, no clock, no
 * randomness of its own; the only side effect is the store cleanup a complete list implies. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "npd/buf.h"
#include "npd/mem.h"
#include "npd/reflector.h"

struct resource {
	const char *path;
	const char *name;
};

static const struct resource resources[NPD_KIND__COUNT] = {
    [NPD_KIND_NAMESPACE] = {"/api/v1/namespaces", "namespaces"},
    [NPD_KIND_POD] = {"/api/v1/pods", "pods"},
    [NPD_KIND_POLICY] = {"/apis/networking.k8s.io/v1/networkpolicies", "networkpolicies"},
};

void
npd_reflector_init(struct npd_reflector *r, enum npd_kind kind)
{
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->path = resources[kind].path;
	r->resource = resources[kind].name;
	r->state = NPD_REFL_LISTING;
	r->resume = NPD_REFL_LISTING;
	r->watch_min_s = NPD_REFL_WATCH_MIN_S;
	r->watch_max_s = NPD_REFL_WATCH_MAX_S;
}

void
npd_reflector_fini(struct npd_reflector *r)
{
	free(r->rv);
	free(r->cont);
	memset(r, 0, sizeof(*r));
}

void
npd_reflector_set_watch_timeout(struct npd_reflector *r, unsigned min_s, unsigned max_s)
{
	if (min_s == 0 || max_s < min_s)
		return;
	r->watch_min_s = min_s;
	r->watch_max_s = max_s;
}

static void
set_str(char **dst, const char *src)
{
	char *copy = src && *src ? npd_xstrdup(src) : NULL;

	free(*dst);
	*dst = copy;
}

static void
add_escaped(struct npd_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			npd_buf_addc(b, (char)c);
		} else {
			npd_buf_addc(b, '%');
			npd_buf_addc(b, hex[c >> 4]);
			npd_buf_addc(b, hex[c & 15]);
		}
	}
}

static double
clamp01(double rnd)
{
	if (!(rnd >= 0.0))
		return 0.0;
	return rnd < 1.0 ? rnd : 0.999999;
}

char *
npd_reflector_next_request(struct npd_reflector *r, double rnd)
{
	struct npd_buf b;

	if (r->state == NPD_REFL_BACKOFF) {
		r->state = r->resume;
		r->delay = 0;
	}
	npd_buf_init(&b);
	npd_buf_adds(&b, r->path);
	if (r->state == NPD_REFL_LISTING) {
		/* A first page starts a list from scratch, a retried first page too: what an
		 * attempt that failed delivered must be delivered again to count as held. */
		if (!r->cont && !++r->list)
			r->list = 1;
		npd_buf_printf(&b, "?limit=%d", NPD_REFL_PAGE_LIMIT);
		if (r->cont) {
			npd_buf_adds(&b, "&continue=");
			add_escaped(&b, r->cont);
		}
	} else {
		unsigned span = r->watch_max_s - r->watch_min_s;
		unsigned t = r->watch_min_s + (unsigned)(clamp01(rnd) * span);

		r->watch_events = 0;
		npd_buf_adds(&b, "?watch=1&allowWatchBookmarks=true");
		if (r->rv) {
			npd_buf_adds(&b, "&resourceVersion=");
			add_escaped(&b, r->rv);
		}
		npd_buf_printf(&b, "&timeoutSeconds=%u", t);
	}
	return npd_buf_steal(&b);
}

bool
npd_reflector_is_watch(const struct npd_reflector *r)
{
	return r->state == NPD_REFL_WATCHING;
}

static void
backoff(struct npd_reflector *r, double retry_after, double rnd)
{
	double cap = NPD_REFL_BACKOFF_BASE_S;
	unsigned i;

	for (i = 0; i < r->attempt && cap < NPD_REFL_BACKOFF_MAX_S; i++)
		cap *= 2;
	if (cap > NPD_REFL_BACKOFF_MAX_S)
		cap = NPD_REFL_BACKOFF_MAX_S;
	if (r->attempt < 64)
		r->attempt++;
	r->n_errors++;
	/* Full jitter: many agents restarted together must not retry in lockstep. */
	r->delay = clamp01(rnd) * cap;
	if (retry_after > NPD_REFL_RETRY_AFTER_MAX_S)
		retry_after = NPD_REFL_RETRY_AFTER_MAX_S;
	if (retry_after > r->delay)
		r->delay = retry_after;
	if (r->state != NPD_REFL_BACKOFF)
		r->resume = r->state;
	r->state = NPD_REFL_BACKOFF;
}

/* Throws away list progress and the rv: the next request lists from scratch (no rv, so
 * the server answers from a fresh, consistent snapshot). */
static void
relist(struct npd_reflector *r)
{
	set_str(&r->cont, NULL);
	set_str(&r->rv, NULL);
	r->state = NPD_REFL_LISTING;
	r->resume = NPD_REFL_LISTING;
	r->delay = 0;
	r->n_relists++;
}

/* The server said when to come back (API priority and fairness sheds load with 429 and a
 * Retry-After): wait that long, as client-go does, and leave the backoff where it was. The
 * jitter only spreads the agents of many nodes told the same second. */
static void
throttle(struct npd_reflector *r, double retry_after, double rnd)
{
	r->throttles++;
	r->n_throttled++;
	r->n_errors++;
	r->delay = retry_after * (1.0 + NPD_REFL_THROTTLE_JITTER * clamp01(rnd));
	if (r->delay > NPD_REFL_RETRY_AFTER_MAX_S)
		r->delay = NPD_REFL_RETRY_AFTER_MAX_S;
	if (r->state != NPD_REFL_BACKOFF)
		r->resume = r->state;
	r->state = NPD_REFL_BACKOFF;
}

void
npd_reflector_on_error(struct npd_reflector *r, int status, double retry_after, double rnd)
{
	enum npd_refl_state cur = r->state == NPD_REFL_BACKOFF ? r->resume : r->state;

	/* 410 Gone: the rv (or the continue token's snapshot) was compacted away. A 410 on the
	 * first page of a list carries neither, so relisting at once could only spin. */
	if (status == 410 && (cur == NPD_REFL_WATCHING || r->cont)) {
		relist(r);
		return;
	}
	/* A server that throttles without end is treated as failing: the backoff takes over,
	 * still no shorter than what it asks. */
	if ((status == 429 || status == 503) && retry_after > 0 &&
	    r->throttles < NPD_REFL_THROTTLE_MAX) {
		throttle(r, retry_after, rnd);
		return;
	}
	backoff(r, retry_after, rnd);
}

static const char *
skip_space(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

int
npd_reflector_parse_retry_after(const char *value, double now, double *out)
{
	/* RFC 9110 10.2.3 and 5.6.7: recipients accept all three date forms, always GMT. */
	static const char *const forms[] = {"%a, %d %b %Y %H:%M:%S GMT",
					    "%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"};
	const char *s = skip_space(value), *end;
	unsigned long long secs = 0;
	struct tm tm;
	size_t i;

	if (isdigit((unsigned char)*s)) {
		for (; isdigit((unsigned char)*s); s++)
			if (secs < 1000000000ULL)
				secs = secs * 10 + (unsigned long long)(*s - '0');
		if (*skip_space(s))
			return -EINVAL;
		*out =
		    secs > NPD_REFL_RETRY_AFTER_MAX_S ? NPD_REFL_RETRY_AFTER_MAX_S : (double)secs;
		return 0;
	}
	for (i = 0; i < NPD_ARRAY_SIZE(forms); i++) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, forms[i], &tm);
		if (end && !*skip_space(end)) {
			double d = (double)timegm(&tm) - now;

			*out = d > 0 ? d : 0;
			return 0;
		}
	}
	return -EINVAL;
}

bool
npd_reflector_on_event(struct npd_reflector *r, const struct npd_event *ev, double rnd)
{
	if (r->state == NPD_REFL_BACKOFF)
		return true;
	if (ev->type == NPD_EV_ERROR) {
		npd_reflector_on_error(r, ev->code, ev->retry_after, rnd);
		return true;
	}
	if (r->state == NPD_REFL_LISTING)
		return false; /* the store marks what the list holds */
	/* A watch that delivers is healthy: the next failure starts the backoff afresh. */
	r->watch_events++;
	r->attempt = 0;
	r->throttles = 0;
	if (ev->rv && *ev->rv)
		set_str(&r->rv, ev->rv);
	return false;
}

uint32_t
npd_reflector_list_mark(const struct npd_reflector *r, const struct npd_event *ev)
{
	return r->state == NPD_REFL_LISTING && ev->obj.kind == r->kind ? r->list : 0;
}

bool
npd_reflector_on_list_page(struct npd_reflector *r, const char *rv, const char *cont)
{
	if (r->state != NPD_REFL_LISTING)
		return false;
	if (rv && *rv)
		set_str(&r->rv, rv);
	set_str(&r->cont, cont);
	return r->cont == NULL;
}

size_t
npd_reflector_on_list_done(struct npd_reflector *r, struct npd_store *s)
{
	size_t n = npd_store_del_unlisted(s, r->kind, r->list);

	set_str(&r->cont, NULL);
	r->listed = true;
	r->n_lists++;
	r->attempt = 0;
	r->throttles = 0;
	r->watch_events = 0;
	r->state = NPD_REFL_WATCHING;
	r->resume = NPD_REFL_WATCHING;
	r->delay = 0;
	return n;
}

void
npd_reflector_on_watch_end(struct npd_reflector *r, bool clean, double rnd)
{
	if (r->state != NPD_REFL_WATCHING)
		return;
	r->n_watch_restarts++;
	/* A clean end that delivered nothing (not even the bookmark a real API server sends
	 * before closing at timeoutSeconds) looks like a server closing at once: back off so
	 * that it cannot make us spin. */
	if (clean && r->watch_events > 0)
		return;
	backoff(r, 0, rnd);
}

double
npd_reflector_delay(const struct npd_reflector *r)
{
	return r->state == NPD_REFL_BACKOFF ? r->delay : 0;
}

const char *
npd_reflector_state_name(enum npd_refl_state s)
{
	switch (s) {
	case NPD_REFL_LISTING:
		return "listing";
	case NPD_REFL_WATCHING:
		return "watching";
	case NPD_REFL_BACKOFF:
		return "backoff";
	}
	return "?";
}
