/* check_par.c: the ordered parallel map: every job runs once, results reach done in job
 * order on the caller's thread whatever order the workers finish in (seeded random job
 * lengths shuffle it), no more than window jobs are ever ahead of done, and one thread
 * means the caller's thread alone; the thread count follows a cgroup CPU quota. */
#include <check.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

/* Writes text and a newline to dir/name. */
static void
put(const char *dir, const char *name, const char *text)
{
	char *p = npd_xasprintf("%s/%s", dir, name);
	FILE *f = fopen(p, "w");

	ck_assert_ptr_nonnull(f);
	fprintf(f, "%s\n", text);
	fclose(f);
	free(p);
}

/* Writes text to root/rel/cpu.max, making the directories. */
static void
cpu_max(const char *root, const char *rel, const char *text)
{
	char *dir = npd_xasprintf("%s%s", root, rel), *p;

	for (p = dir + strlen(root); *p && (p = strchr(p + 1, '/')); p++) {
		*p = '\0';
		mkdir(dir, 0700);
		*p = '/';
	}
	mkdir(dir, 0700);
	put(dir, "cpu.max", text);
	free(dir);
}

/* Writes root/rel/cpu.cfs_quota_us and cpu.cfs_period_us (the parent exists). */
static void
v1(const char *root, const char *rel, const char *quota, const char *period)
{
	char *dir = npd_xasprintf("%s%s", root, rel);

	mkdir(dir, 0700);
	put(dir, "cpu.cfs_quota_us", quota);
	put(dir, "cpu.cfs_period_us", period);
	free(dir);
}

static void
rm_v1(const char *root)
{
	static const char *const rels[] = {"/cpu/kubepods/pod1", "/cpu/kubepods", "/cpu"};
	size_t i;

	for (i = 0; i < NPD_ARRAY_SIZE(rels); i++) {
		char *q = npd_xasprintf("%s%s/cpu.cfs_quota_us", root, rels[i]);
		char *p = npd_xasprintf("%s%s/cpu.cfs_period_us", root, rels[i]);
		char *d = npd_xasprintf("%s%s", root, rels[i]);

		ck_assert_int_eq(unlink(q), 0);
		ck_assert_int_eq(unlink(p), 0);
		ck_assert_int_eq(rmdir(d), 0);
		free(q);
		free(p);
		free(d);
	}
}

/* Removes root/d/cpu.max and root/d for each of dirs, deepest (last) first. */
static void
rm_tree(const char *root, const char *const *dirs, size_t n)
{
	while (n--) {
		char *f = npd_xasprintf("%s%s/cpu.max", root, dirs[n]);

		unlink(f);
		f[strlen(f) - strlen("/cpu.max")] = '\0';
		ck_assert_int_eq(rmdir(f), 0);
		free(f);
	}
}

START_TEST(par_quota_from_cgroup)
{
	static const char *const dirs[] = {"",
					   "/kubepods",
					   "/kubepods/pod1",
					   "/kubepods/pod1/ctr",
					   "/kubepods/pod2",
					   "/kubepods/pod3"};
	char root[] = "/tmp/npd-cgroup-XXXXXX";

	ck_assert_ptr_nonnull(mkdtemp(root));
	cpu_max(root, "", "max 100000");
	cpu_max(root, "/kubepods", "400000 100000");
	cpu_max(root, "/kubepods/pod1", "150000 100000");
	cpu_max(root, "/kubepods/pod1/ctr", "max 100000");
	cpu_max(root, "/kubepods/pod2", "garbage");
	cpu_max(root, "/kubepods/pod3", "-5 100000");
	/* The smallest quota on the way up, rounded up: 1.5 CPUs make 2 threads. */
	ck_assert_uint_eq(npd_par_quota_cpus(root, "0::/kubepods/pod1/ctr\n"), 2);
	ck_assert_uint_eq(npd_par_quota_cpus(root, "12:cpu:/x\n0::/kubepods/pod1\n"), 2);
	ck_assert_uint_eq(npd_par_quota_cpus(root, "0::/kubepods\n"), 4);
	/* Unreadable, negative or missing files limit nothing; the ancestors still do. */
	ck_assert_uint_eq(npd_par_quota_cpus(root, "0::/kubepods/pod2\n"), 4);
	ck_assert_uint_eq(npd_par_quota_cpus(root, "0::/kubepods/pod3\n"), 4);
	ck_assert_uint_eq(npd_par_quota_cpus(root, "0::/kubepods/gone/deeper\n"), 4);
	ck_assert_uint_eq(npd_par_quota_cpus(root, "0::/\n"), 0);
	/* No unified hierarchy line (cgroup v1 only), or none at all. */
	ck_assert_uint_eq(npd_par_quota_cpus(root, "4:cpu,cpuacct:/kubepods\n"), 0);
	ck_assert_uint_eq(npd_par_quota_cpus(root, ""), 0);
	/* cgroup v1: the hierarchy with the cpu controller, mounted at root/cpu. */
	v1(root, "/cpu", "-1", "100000");
	v1(root, "/cpu/kubepods", "250000", "100000");
	v1(root, "/cpu/kubepods/pod1", "-1", "100000");
	ck_assert_uint_eq(
	    npd_par_quota_cpus(root, "5:cpuacct,cpu:/kubepods/pod1\n1:name=systemd:/"), 3);
	ck_assert_uint_eq(npd_par_quota_cpus(root, "3:cpuset:/kubepods/pod1\n"), 0);
	/* A quota in both: the smaller counts. */
	ck_assert_uint_eq(npd_par_quota_cpus(root, "0::/kubepods/pod1\n5:cpu:/kubepods\n"), 2);
	rm_v1(root);
	rm_tree(root, dirs, NPD_ARRAY_SIZE(dirs));
}
END_TEST

TU_MAIN("par", par_in_order_within_window, par_one_thread_is_the_caller, par_threads_bounded,
	par_quota_from_cgroup)
