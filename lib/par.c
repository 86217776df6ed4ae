/* par.c: the ordered parallel map. One mutex guards a ring of window result slots, the
 * next job to hand out and the next result to deliver; job i may start only while
 * i < delivered + window, so slot i % window is always free when it finishes. Workers
 * wait on one condition for room in the window, the caller on another for the result it
 * delivers next. The threads live for one call: nothing stays running between loads. */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "npd/buf.h"
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

/* The number text starts with, and what follows it in *rest; -1 when it starts with none. */
static long
parse_num(const char *text, const char **rest)
{
	char *end;
	long v;

	if (!(isdigit((unsigned char)text[0]) || text[0] == '-'))
		return -1;
	errno = 0;
	v = strtol(text, &end, 10);
	*rest = end;
	return errno ? -1 : v;
}

/* parse_num of file dir/name, read into b; -1 when it cannot be read. */
static long
read_num(const char *dir, const char *name, struct npd_buf *b, const char **rest)
{
	char path[4352];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	npd_buf_reset(b);
	if (npd_buf_read_file(b, path, 256) < 0 || !b->len)
		return -1;
	return parse_num(b->data, rest);
}

/* The CPUs the quota of cgroup directory dir allows, rounded up; 0: none. v2: cpu.max
 * ("QUOTA PERIOD" or "max PERIOD"); v1: cpu.cfs_quota_us (-1: none) and cpu.cfs_period_us. */
static unsigned long
quota_at(const char *dir, bool v1)
{
	struct npd_buf b;
	const char *rest = "";
	long q, period = -1;

	npd_buf_init(&b);
	q = read_num(dir, v1 ? "cpu.cfs_quota_us" : "cpu.max", &b, &rest);
	if (q > 0 && v1)
		period = read_num(dir, "cpu.cfs_period_us", &b, &rest);
	else if (q > 0 && rest[0] == ' ')
		period = parse_num(rest + 1, &rest);
	if (*rest && *rest != '\n')
		period = -1;
	npd_buf_fini(&b);
	if (q <= 0 || period <= 0)
		return 0;
	return ((unsigned long)q + (unsigned long)period - 1) / (unsigned long)period;
}

/* The path in self_cgroup (/proc/self/cgroup) of the unified hierarchy ("0::/path"), or
 * with v1 of the hierarchy holding the cpu controller ("N:cpu,cpuacct:/path"), in *len. */
static const char *
cgroup_of(const char *self_cgroup, bool v1, size_t *len)
{
	const char *line;

	for (line = self_cgroup; line && *line;
	     line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		const char *c = strchr(line, ':'), *p = c ? strchr(c + 1, ':') : NULL;
		const char *eol = line + strcspn(line, "\n");
		bool match = false;

		if (!c || !p || p > eol || p[1] != '/')
			continue;
		if (!v1) {
			match = !strncmp(line, "0::", 3);
		} else {
			const char *t = c + 1;

			while (t < p && !match) {
				size_t l = strcspn(t, ",:");

				match = l == 3 && !strncmp(t, "cpu", 3);
				t += l + 1;
			}
		}
		if (match) {
			*len = (size_t)(eol - (p + 1));
			return p + 1;
		}
	}
	return NULL;
}

/* The smallest quota of cgroup path (len bytes) and its ancestors, under root. */
static unsigned long
walk_up(const char *root, const char *cg, size_t len, bool v1)
{
	size_t root_len = strlen(root);
	unsigned long best = 0, n;
	char path[4096];

	if ((size_t)snprintf(path, sizeof(path), "%s%.*s", root, (int)len, cg) >= sizeof(path))
		return 0;
	for (;;) {
		char *slash;

		n = quota_at(path, v1);
		if (n && (!best || n < best))
			best = n;
		slash = strlen(path) > root_len ? strrchr(path + root_len, '/') : NULL;
		if (!slash)
			break;
		*slash = '\0';
	}
	return best;
}

unsigned
npd_par_quota_cpus(const char *root, const char *self_cgroup)
{
	unsigned long best = 0, n;
	const char *cg;
	char v1root[4096];
	size_t len;

	/* Every ancestor's limit applies: the smallest of them, from the cgroup up. */
	if ((cg = cgroup_of(self_cgroup, false, &len)))
		best = walk_up(root, cg, len, false);
	snprintf(v1root, sizeof(v1root), "%s/cpu", root);
	if ((cg = cgroup_of(self_cgroup, true, &len)) && (n = walk_up(v1root, cg, len, true)) &&
	    (!best || n < best))
		best = n;
	return best > 0xffff ? 0xffff : (unsigned)best;
}

unsigned
npd_par_threads(void)
{
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t set;
	long n = online > 0 ? online : 1;
	struct npd_buf self;
	unsigned quota;

	/* A cpuset (taskset, a container's cpuset.cpus) can allow fewer CPUs than are online. */
	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0 &&
	    CPU_COUNT(&set) < n)
		n = CPU_COUNT(&set);
	/* So can a CPU quota (a container's resources.limits.cpu): more threads than it allows
	 * are throttled in turn, each with a malloc arena of its own. */
	npd_buf_init(&self);
	if (npd_buf_read_file(&self, "/proc/self/cgroup", 65536) == 0 && self.len) {
		quota = npd_par_quota_cpus("/sys/fs/cgroup", self.data);
		if (quota && quota < n)
			n = quota;
	}
	npd_buf_fini(&self);
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
