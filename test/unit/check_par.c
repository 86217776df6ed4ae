/* check_par.c: the ordered parallel map: every job runs once, results reach done in job
 * order on the caller's thread whatever order the workers finish in (seeded random job
 * lengths shuffle it), no more than window jobs are ever ahead of done, and one thread
 * means the caller's thread alone. */
#include <check.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "npd/mem.h"
#include "npd/par.h"
#include "testutil.h"

struct run {
	pthread_mutex_t mu;
	pthread_t caller;
	size_t n, window;
	unsigned *sleep_us; /* per job */
	unsigned *runs;	    /* per job: how many times work ran it */
	size_t next;	    /* the job done expects */
	size_t ahead, max_ahead;
	bool off_caller; /* some job ran on another thread */
	bool on_caller;	 /* some job ran on the caller's thread */
};

static void *
work(size_t i, void *arg)
{
	struct run *r = arg;
	struct timespec ts = {0, (long)r->sleep_us[i] * 1000};
	size_t *res = npd_xmalloc(sizeof(*res));

	pthread_mutex_lock(&r->mu);
	r->runs[i]++;
	if (++r->ahead > r->max_ahead)
		r->max_ahead = r->ahead;
	if (pthread_equal(pthread_self(), r->caller))
		r->on_caller = true;
	else
		r->off_caller = true;
	pthread_mutex_unlock(&r->mu);
	if (ts.tv_nsec)
		nanosleep(&ts, NULL);
	*res = i * 7 + 1;
	return res;
}

static void
done(size_t i, void *result, void *arg)
{
	struct run *r = arg;
	size_t *res = result;

	ck_assert(pthread_equal(pthread_self(), r->caller));
	ck_assert_uint_eq(i, r->next);
	ck_assert_uint_eq(*res, i * 7 + 1);
	r->next++;
	pthread_mutex_lock(&r->mu);
	r->ahead--;
	pthread_mutex_unlock(&r->mu);
	free(res);
}

static void
run(struct run *r, size_t n, unsigned threads, size_t window)
{
	size_t i;

	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->mu, NULL);
	r->caller = pthread_self();
	r->n = n;
	r->window = window;
	r->sleep_us = npd_xcalloc(n + 1, sizeof(*r->sleep_us));
	r->runs = npd_xcalloc(n + 1, sizeof(*r->runs));
	for (i = 0; i < n; i++)
		r->sleep_us[i] = (unsigned)(rand() % 4 == 0 ? rand() % 2000 : 0);
	npd_par_map(n, threads, window, work, done, r);
	ck_assert_uint_eq(r->next, n);
	ck_assert_uint_eq(r->ahead, 0);
	for (i = 0; i < n; i++)
		ck_assert_uint_eq(r->runs[i], 1);
}

static void
run_fini(struct run *r)
{
	free(r->sleep_us);
	free(r->runs);
	pthread_mutex_destroy(&r->mu);
}

START_TEST(par_in_order_within_window)
{
	static const size_t ns[] = {0, 1, 2, 5, 64, 300};
	static const unsigned ts[] = {2, 3, 8};
	static const size_t ws[] = {1, 2, 5, 32};
	size_t a, b, c;

	/* Random job lengths (from the seed) make workers finish out of order. */
	tu_seed("par_in_order_within_window");
	for (a = 0; a < NPD_ARRAY_SIZE(ns); a++)
		for (b = 0; b < NPD_ARRAY_SIZE(ts); b++)
			for (c = 0; c < NPD_ARRAY_SIZE(ws); c++) {
				struct run r;

				run(&r, ns[a], ts[b], ws[c]);
				ck_assert_uint_le(r.max_ahead, ws[c]);
				/* Workers, never the caller, run the jobs when threads start;
				 * fewer than two jobs start none. */
				if (ns[a] < 2)
					ck_assert(!r.off_caller);
				else
					ck_assert(r.off_caller && !r.on_caller);
				run_fini(&r);
			}
}
END_TEST

START_TEST(par_one_thread_is_the_caller)
{
	struct run r;

	run(&r, 50, 1, 4);
	ck_assert(r.on_caller);
	ck_assert(!r.off_caller);
	/* work then done, one job after the other. */
	ck_assert_uint_eq(r.max_ahead, 1);
	run_fini(&r);
	/* One job never starts a thread either. */
	run(&r, 1, 8, 4);
	ck_assert(r.on_caller && !r.off_caller);
	run_fini(&r);
}
END_TEST

START_TEST(par_threads_bounded)
{
	unsigned t = npd_par_threads();

	ck_assert_uint_ge(t, 1);
	ck_assert_uint_le(t, NPD_PAR_MAX_THREADS);
}
END_TEST

TU_MAIN("par", par_in_order_within_window, par_one_thread_is_the_caller, par_threads_bounded)
