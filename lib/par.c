/* par.c: the ordered parallel map. One mutex guards a ring of window result slots, the
 * next job to hand out and the next result to deliver; job i may start only while
 * i < delivered + window, so slot i % window is always free when it finishes. Workers
 * wait on one condition for room in the window, the caller on another for the result it
 * delivers next. The threads live for one call: nothing stays running between loads. */
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "npd/mem.h"
#include "npd/par.h"

struct slot {
	void *result;
	bool ready;
};

struct par {
	pthread_mutex_t mu;
	pthread_cond_t room;  /* a worker may start the next job */
	pthread_cond_t ready; /* the result of job delivered is in its slot */
	size_t n, window;
	size_t claimed;	  /* jobs handed out */
	size_t delivered; /* results handed to done */
	struct slot *slots;
	npd_par_work_fn work;
	void *arg;
};

unsigned
npd_par_threads(void)
{
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t set;
	long n = online > 0 ? online : 1;

	/* A cpuset (taskset, a container's cpuset.cpus) can allow fewer CPUs than are online. */
	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0 &&
	    CPU_COUNT(&set) < n)
		n = CPU_COUNT(&set);
	return n > NPD_PAR_MAX_THREADS ? NPD_PAR_MAX_THREADS : (unsigned)n;
}

static void *
worker(void *arg)
{
	struct par *p = arg;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		size_t i;
		void *r;

		while (p->claimed < p->n && p->claimed >= p->delivered + p->window)
			pthread_cond_wait(&p->room, &p->mu);
		if (p->claimed >= p->n)
			break;
		i = p->claimed++;
		pthread_mutex_unlock(&p->mu);
		r = p->work(i, p->arg);
		pthread_mutex_lock(&p->mu);
		p->slots[i % p->window].result = r;
		p->slots[i % p->window].ready = true;
		if (i == p->delivered)
			pthread_cond_signal(&p->ready);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static void
run_here(size_t n, npd_par_work_fn work, npd_par_done_fn done, void *arg)
{
	size_t i;

	for (i = 0; i < n; i++)
		done(i, work(i, arg), arg);
}

void
npd_par_map(size_t n, unsigned threads, size_t window, npd_par_work_fn work, npd_par_done_fn done,
	    void *arg)
{
	struct par p = {.n = n, .window = window ? window : 1, .work = work, .arg = arg};
	pthread_t *tids;
	unsigned started = 0, t;

	if (!threads)
		threads = npd_par_threads();
	if (threads > n)
		threads = (unsigned)n;
	if (threads <= 1) {
		run_here(n, work, done, arg);
		return;
	}
	p.slots = npd_xcalloc(p.window, sizeof(*p.slots));
	tids = npd_xcalloc(threads, sizeof(*tids));
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.room, NULL);
	pthread_cond_init(&p.ready, NULL);
	for (t = 0; t < threads; t++)
		if (pthread_create(&tids[started], NULL, worker, &p) == 0)
			started++;
	pthread_mutex_lock(&p.mu);
	if (!started) {
		/* No thread to run them: the caller's thread does, in order as always. */
		pthread_mutex_unlock(&p.mu);
		run_here(n, work, done, arg);
		goto out;
	}
	while (p.delivered < n) {
		size_t i = p.delivered;
		struct slot *s = &p.slots[i % p.window];
		void *r;

		while (!s->ready)
			pthread_cond_wait(&p.ready, &p.mu);
		r = s->result;
		s->result = NULL;
		s->ready = false;
		pthread_mutex_unlock(&p.mu);
		/* Counted in the window until done returns: it still holds the result. */
		done(i, r, arg);
		pthread_mutex_lock(&p.mu);
		p.delivered = i + 1;
		pthread_cond_broadcast(&p.room);
	}
	pthread_mutex_unlock(&p.mu);
out:
	for (t = 0; t < started; t++)
		pthread_join(tids[t], NULL);
	pthread_cond_destroy(&p.ready);
	pthread_cond_destroy(&p.room);
	pthread_mutex_destroy(&p.mu);
	free(tids);
	free(p.slots);
}
