/* check_reflector.c: the list/watch state machine: pagination, the relist that replaces a
 * resource's contents in the (real) store, resourceVersion tracking through bookmarks,
 * 410 mid-list and mid-watch, backoff bounds, Retry-After (throttles that leave the
 * backoff alone, their bound, the header's two forms) and backoff resets. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npd/json.h"
#include "npd/mem.h"
#include "npd/reflector.h"
#include "npd/store.h"
#include "testutil.h"

#define EPS 1e-9

static void
check_url(struct npd_reflector *r, double rnd, const char *want)
{
	char *url = npd_reflector_next_request(r, rnd);

	ck_assert_str_eq(url, want);
	free(url);
}

/* Sends the next request and fails it with an HTTP code (0: a network error), a
 * Retry-After in seconds (0: none) and rnd for the jitter. */
static void
fail_request(struct npd_reflector *r, int code, double retry_after, double rnd)
{
	free(npd_reflector_next_request(r, 0));
	npd_reflector_on_error(r, code, retry_after, rnd);
}

/* The next request must be the pods watch from rv. */
static void
check_watch_url(struct npd_reflector *r, const char *rv)
{
	char *want = npd_xasprintf(
	    "/api/v1/pods?watch=1&allowWatchBookmarks=true&resourceVersion=%s&timeoutSeconds=300",
	    rv);

	check_url(r, 0, want);
	free(want);
}

static void
make_pod_event(struct npd_event *ev, enum npd_event_type type, const char *ns, const char *name,
	       const char *rv)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->obj.kind = NPD_KIND_POD;
	ev->obj.u.pod = tu_pod(ns, name, "app=x", "10.0.0.1", "node1");
	ev->obj.u.pod->rv = npd_xstrdup(rv);
	ev->rv = npd_xstrdup(rv);
}

/* Feeds one pod event through the reflector then into the store, as the agent does. */
static bool
feed_pod(struct npd_reflector *r, struct npd_store *s, enum npd_event_type type, const char *ns,
	 const char *name, const char *rv)
{
	struct npd_event ev;
	bool stop;

	make_pod_event(&ev, type, ns, name, rv);
	stop = npd_reflector_on_event(r, &ev, 0.5);
	npd_store_apply_listed(s, &ev, npd_reflector_list_mark(r, &ev));
	npd_event_fini(&ev);
	return stop;
}

static bool
feed_simple(struct npd_reflector *r, enum npd_event_type type, const char *rv, int code)
{
	struct npd_event ev;
	bool stop;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.obj.kind = NPD_KIND__COUNT;
	ev.rv = npd_xstrdup(rv);
	ev.code = code;
	stop = npd_reflector_on_event(r, &ev, 0.5);
	npd_event_fini(&ev);
	return stop;
}

/* Lists one page carrying the given pods and completes the list. */
static size_t
list_once(struct npd_reflector *r, struct npd_store *s, const char *rv, const char *const *names,
	  size_t n)
{
	size_t i;

	free(npd_reflector_next_request(r, 0));
	ck_assert(!npd_reflector_is_watch(r));
	for (i = 0; i < n; i++)
		feed_pod(r, s, NPD_EV_ADDED, "default", names[i], "1");
	ck_assert(npd_reflector_on_list_page(r, rv, ""));
	return npd_reflector_on_list_done(r, s);
}

/* A pods reflector (r initialized) that listed nothing at rv 100 and sent its watch
 * request; returns its store (owned). */
static struct npd_store *
watching(struct npd_reflector *r)
{
	static const char *const none[] = {NULL};
	struct npd_store *s = npd_store_new();

	npd_reflector_init(r, NPD_KIND_POD);
	list_once(r, s, "100", none, 0);
	free(npd_reflector_next_request(r, 0));
	return s;
}

START_TEST(test_paths_per_kind)
{
	static const struct {
		enum npd_kind kind;
		const char *url;
	} cases[] = {
	    {NPD_KIND_NAMESPACE, "/api/v1/namespaces?limit=500"},
	    {NPD_KIND_POD, "/api/v1/pods?limit=500"},
	    {NPD_KIND_POLICY, "/apis/networking.k8s.io/v1/networkpolicies?limit=500"},
	};
	struct npd_reflector r;
	size_t i;

	for (i = 0; i < NPD_ARRAY_SIZE(cases); i++) {
		npd_reflector_init(&r, cases[i].kind);
		ck_assert_int_eq(r.state, NPD_REFL_LISTING);
		check_url(&r, 0, cases[i].url);
		npd_reflector_fini(&r);
	}
}
END_TEST

START_TEST(test_pagination_then_watch)
{
	struct npd_reflector r;
	struct npd_store *s = npd_store_new();

	npd_reflector_init(&r, NPD_KIND_POD);
	check_url(&r, 0, "/api/v1/pods?limit=500");
	feed_pod(&r, s, NPD_EV_ADDED, "default", "a", "7");
	ck_assert(!npd_reflector_on_list_page(&r, "100", "tok/+="));
	ck_assert_int_eq(r.state, NPD_REFL_LISTING);
	ck_assert_double_eq_tol(npd_reflector_delay(&r), 0, EPS);
	check_url(&r, 0, "/api/v1/pods?limit=500&continue=tok%2F%2B%3D");
	feed_pod(&r, s, NPD_EV_ADDED, "default", "b", "9");
	ck_assert(npd_reflector_on_list_page(&r, "100", NULL));
	ck_assert(!r.listed);
	ck_assert_uint_eq(npd_reflector_on_list_done(&r, s), 0);
	ck_assert(r.listed);
	ck_assert_uint_eq(r.n_lists, 1);
	ck_assert_uint_eq(r.n_relists, 0);
	ck_assert_int_eq(r.state, NPD_REFL_WATCHING);
	/* The list's rv, not the items', is where the watch starts. */
	ck_assert_str_eq(r.rv, "100");
	check_watch_url(&r, "100");
	ck_assert(npd_reflector_is_watch(&r));
	ck_assert_uint_eq(npd_store_count(s, NPD_KIND_POD), 2);
	npd_reflector_fini(&r);
	npd_store_free(s);
}
END_TEST

START_TEST(test_watch_timeout_range)
{
	struct npd_reflector r;
	struct npd_store *s = npd_store_new();

	npd_reflector_init(&r, NPD_KIND_NAMESPACE);
	ck_assert(npd_reflector_on_list_page(&r, "5", NULL));
	npd_reflector_on_list_done(&r, s);
	check_url(&r, 0.9999,
		  "/api/v1/namespaces?watch=1&allowWatchBookmarks=true&resourceVersion=5&"
		  "timeoutSeconds=599");
	npd_reflector_set_watch_timeout(&r, 2, 4);
	check_url(&r, 0.5,
		  "/api/v1/namespaces?watch=1&allowWatchBookmarks=true&resourceVersion=5&"
		  "timeoutSeconds=3");
	check_url(&r, 0.0,
		  "/api/v1/namespaces?watch=1&allowWatchBookmarks=true&resourceVersion=5&"
		  "timeoutSeconds=2");
	/* Out-of-range randomness is clamped into [min, max). */
	check_url(&r, 7.0,
		  "/api/v1/namespaces?watch=1&allowWatchBookmarks=true&resourceVersion=5&"
		  "timeoutSeconds=3");
	npd_reflector_fini(&r);
	npd_store_free(s);
}
END_TEST

START_TEST(test_relist_replaces_store_contents)
{
	static const char *const first[] = {"a", "b", "c"};
	static const char *const second[] = {"a", "d"};
	struct npd_reflector r;
	struct npd_store *s = npd_store_new();

	npd_store_add_namespace(s, tu_ns("default", ""));
	npd_reflector_init(&r, NPD_KIND_POD);
	ck_assert_uint_eq(list_once(&r, s, "10", first, 3), 0);
	ck_assert_uint_eq(npd_store_count(s, NPD_KIND_POD), 3);

	/* The watch expires; b and c were deleted during the gap, d created. */
	free(npd_reflector_next_request(&r, 0));
	ck_assert(feed_simple(&r, NPD_EV_ERROR, NULL, 410));
	ck_assert_int_eq(r.state, NPD_REFL_LISTING);
	ck_assert_uint_eq(r.n_relists, 1);
	ck_assert_uint_eq(list_once(&r, s, "20", second, 2), 2);
	ck_assert_uint_eq(npd_store_count(s, NPD_KIND_POD), 2);
	ck_assert_ptr_nonnull(npd_store_get_pod(s, "default", "a"));
	ck_assert_ptr_nonnull(npd_store_get_pod(s, "default", "d"));
	ck_assert_ptr_null(npd_store_get_pod(s, "default", "b"));
	ck_assert_ptr_null(npd_store_get_pod(s, "default", "c"));
	/* Other kinds are not the pods reflector's to clean. */
	ck_assert_uint_eq(npd_store_count(s, NPD_KIND_NAMESPACE), 1);
	ck_assert_uint_eq(r.n_lists, 2);
	npd_reflector_fini(&r);
	npd_store_free(s);
}
END_TEST

START_TEST(test_rv_through_bookmarks)
{
	struct npd_reflector r;
	struct npd_store *s = watching(&r);

	ck_assert(!feed_pod(&r, s, NPD_EV_ADDED, "default", "a", "101"));
	ck_assert_str_eq(r.rv, "101");
	ck_assert(!feed_simple(&r, NPD_EV_BOOKMARK, "150", 0));
	ck_assert_str_eq(r.rv, "150");
	/* A bookmark without an rv does not lose the one we have. */
	ck_assert(!feed_simple(&r, NPD_EV_BOOKMARK, NULL, 0));
	ck_assert_str_eq(r.rv, "150");
	ck_assert(!feed_pod(&r, s, NPD_EV_DELETED, "default", "a", "160"));
	ck_assert_str_eq(r.rv, "160");
	ck_assert_uint_eq(r.watch_events, 4);
	ck_assert_uint_eq(npd_store_count(s, NPD_KIND_POD), 0);

	/* The server closes the watch at timeoutSeconds: resume at once from the last rv. */
	npd_reflector_on_watch_end(&r, true, 0.5);
	ck_assert_int_eq(r.state, NPD_REFL_WATCHING);
	ck_assert_double_eq_tol(npd_reflector_delay(&r), 0, EPS);
	ck_assert_uint_eq(r.n_watch_restarts, 1);
	check_watch_url(&r, "160");
	ck_assert_uint_eq(r.watch_events, 0);

	/* A watch ending cleanly with nothing in it backs off (under the first cap). */
	npd_reflector_on_watch_end(&r, true, 0.999);
	ck_assert_int_eq(r.state, NPD_REFL_BACKOFF);
	ck_assert_int_eq(r.resume, NPD_REFL_WATCHING);
	ck_assert(npd_reflector_delay(&r) > 0.49 && npd_reflector_delay(&r) <= 0.5);
	ck_assert_uint_eq(r.n_watch_restarts, 2);
	check_watch_url(&r, "160");
	ck_assert_int_eq(r.state, NPD_REFL_WATCHING);
	npd_reflector_fini(&r);
	npd_store_free(s);
}
END_TEST

START_TEST(test_410_mid_watch_http)
{
	struct npd_reflector r;
	struct npd_store *s = watching(&r);

	npd_reflector_on_error(&r, 410, 0, 0.5);
	ck_assert_int_eq(r.state, NPD_REFL_LISTING);
	ck_assert_double_eq_tol(npd_reflector_delay(&r), 0, EPS);
	ck_assert_ptr_null(r.rv);
	ck_assert_uint_eq(r.n_relists, 1);
	ck_assert_uint_eq(r.n_errors, 0);
	check_url(&r, 0, "/api/v1/pods?limit=500");
	npd_reflector_fini(&r);
	npd_store_free(s);
}
END_TEST

START_TEST(test_410_mid_list)
{
	static const char *const again[] = {"x"};
	struct npd_reflector r;
	struct npd_store *s = npd_store_new();

	npd_reflector_init(&r, NPD_KIND_POD);
	free(npd_reflector_next_request(&r, 0));
	feed_pod(&r, s, NPD_EV_ADDED, "default", "gone-during-list", "1");
	ck_assert(!npd_reflector_on_list_page(&r, "100", "page2"));
	check_url(&r, 0, "/api/v1/pods?limit=500&continue=page2");
	/* The continue token expired: the whole list starts over, forgetting page 1. */
	npd_reflector_on_error(&r, 410, 0, 0.5);
	ck_assert_int_eq(r.state, NPD_REFL_LISTING);
	ck_assert_ptr_null(r.cont);
	ck_assert_uint_eq(r.n_relists, 1);
	ck_assert_uint_eq(list_once(&r, s, "200", again, 1), 1);
	ck_assert_ptr_null(npd_store_get_pod(s, "default", "gone-during-list"));
	ck_assert_ptr_nonnull(npd_store_get_pod(s, "default", "x"));
	ck_assert_int_eq(r.state, NPD_REFL_WATCHING);
	npd_reflector_fini(&r);
	npd_store_free(s);
}
END_TEST

START_TEST(test_410_first_page_backs_off)
{
	struct npd_reflector r;

	npd_reflector_init(&r, NPD_KIND_POLICY);
	fail_request(&r, 410, 0, 0.999);
	ck_assert_int_eq(r.state, NPD_REFL_BACKOFF);
	ck_assert(npd_reflector_delay(&r) > 0);
	ck_assert_uint_eq(r.n_relists, 0);
	npd_reflector_fini(&r);
}
END_TEST

START_TEST(test_backoff_bounds)
{
	static const double caps[] = {0.5, 1, 2, 4, 8, 16, 30, 30, 30, 30};
	struct npd_reflector r;
	size_t i;

	npd_reflector_init(&r, NPD_KIND_POD);
	for (i = 0; i < NPD_ARRAY_SIZE(caps); i++) {
		free(npd_reflector_next_request(&r, 0));
		/* rnd just under 1 reaches the cap; rnd 0 would retry at once (full jitter). */
		npd_reflector_on_error(&r, 503, 0, 0.999999);
		ck_assert_int_eq(r.state, NPD_REFL_BACKOFF);
		ck_assert_int_eq(r.resume, NPD_REFL_LISTING);
		ck_assert_msg(npd_reflector_delay(&r) <= caps[i] &&
				  npd_reflector_delay(&r) > caps[i] * 0.999,
			      "attempt %zu: delay %f cap %f", i, npd_reflector_delay(&r), caps[i]);
	}
	fail_request(&r, 0, 0, 0.0);
	ck_assert_double_eq_tol(npd_reflector_delay(&r), 0, EPS);
	fail_request(&r, 500, 0, 0.25);
	ck_assert_double_eq_tol(npd_reflector_delay(&r), 7.5, EPS);
	ck_assert_uint_eq(r.n_errors, NPD_ARRAY_SIZE(caps) + 2);
	npd_reflector_fini(&r);
}
END_TEST

START_TEST(test_backoff_mid_list_resumes_page)
{
	struct npd_reflector r;
	struct npd_store *s = npd_store_new();

	npd_reflector_init(&r, NPD_KIND_POD);
	free(npd_reflector_next_request(&r, 0));
	feed_pod(&r, s, NPD_EV_ADDED, "default", "a", "1");
	ck_assert(!npd_reflector_on_list_page(&r, "100", "p2"));
	fail_request(&r, 500, 0, 0.5);
	ck_assert_int_eq(r.state, NPD_REFL_BACKOFF);
	/* The same page is retried; page 1's keys still count as seen. */
	check_url(&r, 0, "/api/v1/pods?limit=500&continue=p2");
	ck_assert(npd_reflector_on_list_page(&r, "100", NULL));
	ck_assert_uint_eq(npd_reflector_on_list_done(&r, s), 0);
	ck_assert_ptr_nonnull(npd_store_get_pod(s, "default", "a"));
	npd_reflector_fini(&r);
	npd_store_free(s);
}
END_TEST

START_TEST(test_retry_after)
{
	struct npd_reflector r;

	npd_reflector_init(&r, NPD_KIND_POD);
	free(npd_reflector_next_request(&r, 0));
	/* Waited as given, the jitter only lengthens it by a few percent. */
	npd_reflector_on_error(&r, 429, 5, 0.5);
	ck_assert_double_eq_tol(npd_reflector_delay(&r), 5 * (1 + NPD_REFL_THROTTLE_JITTER / 2),
				EPS);
	fail_request(&r, 429, 5, 0.0);
	ck_assert_double_eq_tol(npd_reflector_delay(&r), 5, EPS);
	/* Even after six failures (backoff cap 30 s) a 429 waits what the server asks. */
	r.attempt = 6;
	fail_request(&r, 429, 1, 0.999999);
	ck_assert(npd_reflector_delay(&r) >= 1 &&
		  npd_reflector_delay(&r) < 1 + NPD_REFL_THROTTLE_JITTER);
	ck_assert_uint_eq(r.attempt, 6);
	/* An absurd Retry-After is capped. */
	fail_request(&r, 503, 1e9, 0.5);
	ck_assert_double_eq_tol(npd_reflector_delay(&r), NPD_REFL_RETRY_AFTER_MAX_S, EPS);
	/* Other failures carrying Retry-After: the backoff, no shorter than asked. */
	r.attempt = 0;
	fail_request(&r, 500, 3, 0.5);
	ck_assert_double_eq_tol(npd_reflector_delay(&r), 3, EPS);
	ck_assert_uint_eq(r.attempt, 1);
	/* A 429 without Retry-After is an ordinary failure. */
	fail_request(&r, 429, 0, 0.999999);
	ck_assert(npd_reflector_delay(&r) > 0.99 && npd_reflector_delay(&r) <= 1);
	ck_assert_uint_eq(r.attempt, 2);
	ck_assert_uint_eq(r.n_throttled, 4);
	npd_reflector_fini(&r);
}
END_TEST

static void
on_decoded(struct npd_event *ev, void *ctx)
{
	npd_reflector_on_event(ctx, ev, 0.5);
	npd_event_fini(ev);
}

/* A 429 inside a watch stream (an ERROR event whose Status carries
 * details.retryAfterSeconds) is waited out like an HTTP Retry-After: the backoff stays. */
START_TEST(test_watch_error_retry_after)
{
	static const char line[] =
	    "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":429,\"reason\":"
	    "\"TooManyRequests\",\"details\":{\"retryAfterSeconds\":7}}}\n";
	struct npd_reflector r;
	struct npd_store *s = watching(&r);
	struct npd_json_decoder *d;

	r.attempt = 6; /* the backoff alone would draw from [0, 30) s */
	d = npd_json_decoder_new(NPD_JSON_WATCH, NPD_KIND_POD, on_decoded, &r, NULL);
	ck_assert_int_eq(npd_json_decoder_feed(d, line, strlen(line)), 0);
	ck_assert_int_eq(npd_json_decoder_finish(d), 0);
	npd_json_decoder_free(d);
	ck_assert_int_eq(r.state, NPD_REFL_BACKOFF);
	ck_assert_int_eq(r.resume, NPD_REFL_WATCHING);
	ck_assert_double_eq_tol(npd_reflector_delay(&r), 7 * (1 + NPD_REFL_THROTTLE_JITTER / 2),
				EPS);
	ck_assert_uint_eq(r.attempt, 6);
	ck_assert_uint_eq(r.n_throttled, 1);
	/* The same event without the field is an ordinary failure: the backoff grows. */
	free(npd_reflector_next_request(&r, 0));
	ck_assert(feed_simple(&r, NPD_EV_ERROR, NULL, 429));
	ck_assert_uint_eq(r.attempt, 7);
	ck_assert_uint_eq(r.n_throttled, 1);
	npd_reflector_fini(&r);
	npd_store_free(s);
}
END_TEST

/* Twenty 429s with Retry-After: 1 cost twenty seconds and some jitter, not the backoff's
 * 30 s cap: the next ordinary failure still starts from the base delay. */
START_TEST(test_throttles_do_not_grow_backoff)
{
	static const char *const none[] = {NULL};
	struct npd_reflector r;
	struct npd_store *s = npd_store_new();
	double total = 0;
	int i;

	tu_seed("check_reflector: throttles");
	npd_reflector_init(&r, NPD_KIND_POLICY);
	for (i = 0; i < 20; i++) {
		fail_request(&r, 429, 1, (double)rand() / ((double)RAND_MAX + 1));
		ck_assert_int_eq(r.state, NPD_REFL_BACKOFF);
		ck_assert_int_eq(r.resume, NPD_REFL_LISTING);
		ck_assert(npd_reflector_delay(&r) >= 1 &&
			  npd_reflector_delay(&r) < 1 + NPD_REFL_THROTTLE_JITTER);
		total += npd_reflector_delay(&r);
	}
	ck_assert(total < 20 * (1 + NPD_REFL_THROTTLE_JITTER));
	ck_assert_uint_eq(r.attempt, 0);
	fail_request(&r, 500, 0, 0.999999);
	ck_assert(npd_reflector_delay(&r) <= NPD_REFL_BACKOFF_BASE_S);
	/* A success clears the throttle count as well as the backoff. */
	list_once(&r, s, "7", none, 0);
	ck_assert_uint_eq(r.throttles, 0);
	ck_assert_uint_eq(r.n_throttled, 20);
	npd_reflector_fini(&r);
	npd_store_free(s);
}
END_TEST

/* A server that throttles forever: after NPD_REFL_THROTTLE_MAX waits in a row the
 * exponential backoff takes over, never shorter than the Retry-After. */
START_TEST(test_throttles_bounded)
{
	struct npd_reflector r;
	unsigned i;

	npd_reflector_init(&r, NPD_KIND_NAMESPACE);
	for (i = 0; i < NPD_REFL_THROTTLE_MAX; i++) {
		fail_request(&r, 503, 2, 0.5);
		ck_assert_double_eq_tol(npd_reflector_delay(&r),
					2 * (1 + NPD_REFL_THROTTLE_JITTER / 2), EPS);
	}
	ck_assert_uint_eq(r.attempt, 0);
	for (i = 0; i < 8; i++) {
		fail_request(&r, 503, 2, 0.999999);
		ck_assert_uint_eq(r.attempt, i + 1);
		ck_assert(npd_reflector_delay(&r) >= 2);
	}
	ck_assert(npd_reflector_delay(&r) > 29.9);
	ck_assert_uint_eq(r.n_throttled, NPD_REFL_THROTTLE_MAX);
	npd_reflector_fini(&r);
}
END_TEST

START_TEST(test_parse_retry_after)
{
	/* 784111777 is Sun, 06 Nov 1994 08:49:37 GMT (RFC 9110's example date). */
	static const struct {
		const char *v;
		double want;
	} ok[] = {
	    {"1", 1},
	    {" 120 ", 120},
	    {"0", 0},
	    {"99999999999999999999", NPD_REFL_RETRY_AFTER_MAX_S},
	    {"Sun, 06 Nov 1994 08:49:37 GMT", 17},
	    {"Sunday, 06-Nov-94 08:49:37 GMT", 17},
	    {"Sun Nov  6 08:49:37 1994", 17},
	    {"Sun, 06 Nov 1994 08:49:00 GMT", 0},
	};
	static const char *const bad[] = {
	    "", "soon", "1.5", "-1", "5s", "Sun, 06 Nov 1994", "Sun, 06 Nov 1994 08:49:37 CET"};
	double d;
	size_t i;

	for (i = 0; i < NPD_ARRAY_SIZE(ok); i++) {
		d = -1;
		ck_assert_msg(npd_reflector_parse_retry_after(ok[i].v, 784111760.0, &d) == 0, "%s",
			      ok[i].v);
		ck_assert_msg(d > ok[i].want - EPS && d < ok[i].want + EPS, "%s: %f", ok[i].v, d);
	}
	for (i = 0; i < NPD_ARRAY_SIZE(bad); i++) {
		d = -1;
		ck_assert_msg(npd_reflector_parse_retry_after(bad[i], 784111760.0, &d) == -EINVAL,
			      "%s", bad[i]);
		ck_assert_double_eq(d, -1);
	}
}
END_TEST

START_TEST(test_backoff_resets)
{
	static const char *const none[] = {NULL};
	struct npd_reflector r;
	struct npd_store *s = npd_store_new();
	int i;

	npd_reflector_init(&r, NPD_KIND_POD);
	for (i = 0; i < 5; i++)
		fail_request(&r, 500, 0, 0.999);
	ck_assert(npd_reflector_delay(&r) > 7.9);
	/* A successful list resets the backoff. */
	list_once(&r, s, "100", none, 0);
	ck_assert_uint_eq(r.attempt, 0);

	/* A network error on the watch backs off and resumes the watch from the same rv. */
	for (i = 0; i < 4; i++) {
		fail_request(&r, 0, 0, 0.999);
		ck_assert_int_eq(r.resume, NPD_REFL_WATCHING);
	}
	ck_assert(npd_reflector_delay(&r) > 3.9);
	check_watch_url(&r, "100");
	/* A watch that delivers resets it too; its unclean end then backs off from the base. */
	ck_assert(!feed_simple(&r, NPD_EV_BOOKMARK, "120", 0));
	ck_assert_uint_eq(r.attempt, 0);
	npd_reflector_on_watch_end(&r, false, 0.999);
	ck_assert_int_eq(r.state, NPD_REFL_BACKOFF);
	ck_assert(npd_reflector_delay(&r) <= 0.5);
	ck_assert_uint_eq(r.n_watch_restarts, 1);
	check_watch_url(&r, "120");
	npd_reflector_fini(&r);
	npd_store_free(s);
}
END_TEST

START_TEST(test_error_event_non_410_and_after)
{
	struct npd_reflector r;
	struct npd_store *s = watching(&r);

	ck_assert(feed_simple(&r, NPD_EV_ERROR, NULL, 500));
	ck_assert_int_eq(r.state, NPD_REFL_BACKOFF);
	ck_assert_int_eq(r.resume, NPD_REFL_WATCHING);
	/* Whatever the stream still holds is dropped, and its end changes nothing. */
	ck_assert(feed_simple(&r, NPD_EV_BOOKMARK, "999", 0));
	ck_assert_str_eq(r.rv, "100");
	npd_reflector_on_watch_end(&r, true, 0.5);
	ck_assert_int_eq(r.state, NPD_REFL_BACKOFF);
	ck_assert_uint_eq(r.n_watch_restarts, 0);
	ck_assert_str_eq(npd_reflector_state_name(r.state), "backoff");
	npd_reflector_fini(&r);
	npd_store_free(s);
}
END_TEST

START_TEST(test_first_page_retry_forgets_attempt)
{
	static const char *const now[] = {"x"};
	struct npd_reflector r;
	struct npd_store *s = npd_store_new();

	npd_reflector_init(&r, NPD_KIND_POD);
	free(npd_reflector_next_request(&r, 0));
	/* The first page breaks off after one object, deleted before the retry's snapshot. */
	feed_pod(&r, s, NPD_EV_ADDED, "default", "deleted-before-retry", "1");
	npd_reflector_on_error(&r, 0, 0, 0.0);
	ck_assert_int_eq(r.resume, NPD_REFL_LISTING);
	ck_assert_uint_eq(list_once(&r, s, "200", now, 1), 1);
	ck_assert_ptr_null(npd_store_get_pod(s, "default", "deleted-before-retry"));
	ck_assert_ptr_nonnull(npd_store_get_pod(s, "default", "x"));
	npd_reflector_fini(&r);
	npd_store_free(s);
}
END_TEST

START_TEST(test_list_marks_only_its_kind)
{
	static const char *const none[] = {NULL};
	struct npd_reflector r;
	struct npd_store *s = npd_store_new();
	struct npd_event ev;

	npd_reflector_init(&r, NPD_KIND_POD);
	free(npd_reflector_next_request(&r, 0));
	make_pod_event(&ev, NPD_EV_ADDED, "default", "p", "1");
	ck_assert_uint_eq(npd_reflector_list_mark(&r, &ev), r.list);
	ck_assert_uint_gt(r.list, 0);
	ev.obj.kind = NPD_KIND_NAMESPACE;
	ck_assert_uint_eq(npd_reflector_list_mark(&r, &ev), 0);
	ev.obj.kind = NPD_KIND_POD;
	npd_event_fini(&ev);
	ck_assert(npd_reflector_on_list_page(&r, "5", NULL));
	npd_reflector_on_list_done(&r, s);
	/* While watching, events are applied plainly. */
	make_pod_event(&ev, NPD_EV_ADDED, "default", "p", "2");
	ck_assert_uint_eq(npd_reflector_list_mark(&r, &ev), 0);
	npd_event_fini(&ev);
	/* Each list from scratch has a number of its own. */
	{
		uint32_t before = r.list;

		free(npd_reflector_next_request(&r, 0));
		ck_assert(feed_simple(&r, NPD_EV_ERROR, NULL, 410));
		list_once(&r, s, "9", none, 0);
		ck_assert_uint_ne(r.list, before);
	}
	npd_reflector_fini(&r);
	npd_store_free(s);
}
END_TEST

TU_MAIN("reflector", test_paths_per_kind, test_pagination_then_watch, test_watch_timeout_range,
	test_relist_replaces_store_contents, test_rv_through_bookmarks, test_410_mid_watch_http,
	test_410_mid_list, test_410_first_page_backs_off, test_backoff_bounds,
	test_backoff_mid_list_resumes_page, test_retry_after, test_watch_error_retry_after,
	test_throttles_do_not_grow_backoff, test_throttles_bounded, test_parse_retry_after,
	test_backoff_resets, test_error_event_non_410_and_after,
	test_first_page_retry_forgets_attempt, test_list_marks_only_its_kind)
