/* par.h: an ordered parallel map. Jobs 0..n-1 run on worker threads, never more than a
 * window of them ahead of the caller, and their results come back on the caller's thread
 * in job order, so whatever the caller does with them happens exactly as if the jobs had
 * run one after the other on its own thread. */
#ifndef NPD_PAR_H
#define NPD_PAR_H

#include <stddef.h>

/* The most worker threads npd_par_threads suggests: decoding stops scaling before this. */
#define NPD_PAR_MAX_THREADS 8

/* Runs job i on a worker thread; it may touch only what job i owns and what no one writes
 * meanwhile. Returns the job's result (owned, may be NULL). */
typedef void *(*npd_par_work_fn)(size_t i, void *arg);
/* Called on the caller's thread with job i's result, for i = 0, 1, ... n-1 in turn; it
 * owns the result and may touch anything the caller may. */
typedef void (*npd_par_done_fn)(size_t i, void *result, void *arg);

/* The worker threads worth starting here: the CPUs this process may run on (online, in
 * its affinity mask, and within its cgroup's CPU quota), at least 1, at most
 * NPD_PAR_MAX_THREADS. */
unsigned npd_par_threads(void);
/* The CPUs the cgroup CPU quota allows the process whose /proc/self/cgroup reads
 * self_cgroup, cgroups mounted at root: the smallest quota of its cgroup and of every
 * ancestor, rounded up, from cpu.max (v2, root itself) or cpu.cfs_quota_us and
 * cpu.cfs_period_us (v1, root/cpu); 0 when none limits it (or it is not known). */
unsigned npd_par_quota_cpus(const char *root, const char *self_cgroup);

/* Runs work on every job on up to threads threads (0: npd_par_threads()) and hands each
 * result to done in job order, as soon as it and all before it are ready; a job starts
 * only when fewer than window (at least 1) results wait for done or are being computed.
 * With one thread, or when no thread can be started, every job runs on the caller's
 * thread, work then done, one job after the other. */
void npd_par_map(size_t n, unsigned threads, size_t window, npd_par_work_fn work,
		 npd_par_done_fn done, void *arg);

#endif
