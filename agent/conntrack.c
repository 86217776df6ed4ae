/* conntrack.c: does what lib/ctflush.c decides. After a sync whose plan can deny a flow (a
 * table commit, a set entry removed, an except added: npd_plan_can_deny), it dumps the
 * conntrack table over netlink, keeps the TCP/UDP/SCTP entries with a local pod at one
 * end whose present verdict is a deny, and deletes exactly those, never the whole table.
 * An entry deleted while its flow still sends is recreated by the next packet as NEW, which
 * the policy chains now reject.
 *
 * The dump walks the kernel's whole conntrack hash (every bucket of every namespace: 10 ms
 * at 262,144 buckets, more with many entries), so it runs on a thread of its own, which
 * keeps only the entries with one of the node's pods' addresses at an end; the loop goes on
 * syncing meanwhile and judges those few against the store when the dump is back. One dump
 * is out at a time: the syncs that can deny while it runs are served by one more dump
 * after it, so a burst of changes costs two dumps, not one per change. And a dump starts
 * no sooner than CUT_GAP_S, and twice the last one's duration, after the last one started:
 * under steady churn the dumps take at most half a CPU, however large the table. */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <ev.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>

#include "conntrack.h"
#include "npd/clock.h"
#include "npd/ctflush.h"
#include "npd/mem.h"
#include "npd/metrics.h"

#define M_CUTS "netpold_conntrack_cuts_total"
#define M_DELETED "netpold_conntrack_deleted_total"
#define M_ERRORS "netpold_conntrack_errors_total"
#define M_SECONDS "netpold_conntrack_last_cut_duration_seconds"
#define M_SCANNED "netpold_conntrack_last_cut_scanned_entries"
#define M_LOOP "netpold_conntrack_last_cut_loop_seconds"
#define CUT_GAP_S 0.1

/* An entry the dump kept: the flow as the policy sees it, and the entry to delete. */
struct cand {
	struct npd_ct_flow f;
	struct nf_conntrack *ct; /* owned */
};

/* One dump, filled by its thread and read by the loop once the thread is done. */
struct dump {
	struct npd_addr *addrs; /* the node's pods' addresses, sorted; owned */
	size_t n_addrs;
	size_t scanned; /* entries the dump returned */
	struct cand *cand;
	size_t n, cap;
	int rc; /* 0 or -errno of the dump */
	uint64_t t0;
};

struct conntrack {
	struct npd_agent *a;
	const char *node;
	ev_async done; /* the thread's dump is back */
	pthread_t th;
	bool running; /* th is out with d */
	struct dump d;
	/* A sync that can deny wants a dump that has not started: the addresses for it. */
	bool want;
	struct npd_addr *next_addrs;
	size_t n_next;
	uint64_t next_ok; /* npd_now_ns() from which the next dump may start */
	ev_timer later;	  /* armed until then, while one is wanted */
};

static void on_done(struct ev_loop *loop, ev_async *w, int revents);
static void on_later(struct ev_loop *loop, ev_timer *w, int revents);

struct conntrack *
conntrack_new(struct npd_agent *a, const char *node)
{
	struct conntrack *c = npd_xcalloc(1, sizeof(*c));
	struct npd_metrics *m = agent_metrics(a);

	c->a = a;
	c->node = node;
	ev_async_init(&c->done, on_done);
	c->done.data = c;
	ev_async_start(agent_loop(a), &c->done);
	ev_timer_init(&c->later, on_later, 0., 0.);
	c->later.data = c;
	npd_metrics_help(
	    m, M_DELETED,
	    "Conntrack entries deleted because a change denies their established flow.");
	npd_metrics_help(m, M_CUTS,
			 "Conntrack cuts run: one after a sync whose plan can deny a flow (not "
			 "after one that only adds set members); the syncs during a cut share the "
			 "next one.");
	npd_metrics_help(m, M_ERRORS, "Conntrack dumps or deletions that failed.");
	npd_metrics_help(m, M_SECONDS,
			 "Time the last conntrack cut took, from its start to its last deletion: "
			 "the dump (on a thread of its own), its filtering and the deletions.");
	npd_metrics_help(m, M_SCANNED, "Conntrack entries the last cut's dump returned.");
	npd_metrics_help(m, M_LOOP,
			 "Of the last conntrack cut, the time on the loop: judging the entries of "
			 "the node's pods against the store and deleting.");
	npd_metrics_add(m, M_CUTS, 0);
	npd_metrics_add(m, M_DELETED, 0);
	npd_metrics_add(m, M_ERRORS, 0);
	npd_metrics_set(m, M_SECONDS, 0);
	npd_metrics_set(m, M_SCANNED, 0);
	npd_metrics_set(m, M_LOOP, 0);
	return c;
}

static void
dump_fini(struct dump *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		nfct_destroy(d->cand[i].ct);
	free(d->cand);
	free(d->addrs);
	memset(d, 0, sizeof(*d));
}

void
conntrack_free(struct conntrack *c)
{
	if (!c)
		return;
	/* A dump out is waited for: it ends with the kernel's walk, in milliseconds. */
	if (c->running)
		pthread_join(c->th, NULL);
	ev_async_stop(agent_loop(c->a), &c->done);
	ev_timer_stop(agent_loop(c->a), &c->later);
	dump_fini(&c->d);
	free(c->next_addrs);
	free(c);
}

/* The flow as the policy saw it: original source, and the reply's source as the real
 * destination (it differs from the original destination after DNAT, e.g. a Service). */
static bool
to_flow(const struct nf_conntrack *ct, struct npd_ct_flow *f)
{
	uint8_t l3 = nfct_get_attr_u8(ct, ATTR_ORIG_L3PROTO);
	uint8_t l4 = nfct_get_attr_u8(ct, ATTR_ORIG_L4PROTO);

	memset(f, 0, sizeof(*f));
	if (l4 != NPD_PROTO_TCP && l4 != NPD_PROTO_UDP && l4 != NPD_PROTO_SCTP)
		return false;
	f->proto = (enum npd_proto)l4;
	if (l3 == AF_INET) {
		uint32_t src = nfct_get_attr_u32(ct, ATTR_ORIG_IPV4_SRC);
		uint32_t dst = nfct_get_attr_u32(ct, ATTR_REPL_IPV4_SRC);

		f->src.family = f->dst.family = AF_INET;
		memcpy(f->src.a, &src, 4);
		memcpy(f->dst.a, &dst, 4);
	} else if (l3 == AF_INET6) {
		f->src.family = f->dst.family = AF_INET6;
		memcpy(f->src.a, nfct_get_attr(ct, ATTR_ORIG_IPV6_SRC), 16);
		memcpy(f->dst.a, nfct_get_attr(ct, ATTR_REPL_IPV6_SRC), 16);
	} else {
		return false;
	}
	f->sport = ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_SRC));
	f->dport = ntohs(nfct_get_attr_u16(ct, ATTR_REPL_PORT_SRC));
	return true;
}

static int
addr_qcmp(const void *x, const void *y)
{
	return npd_addr_cmp(x, y);
}

static bool
is_node_addr(const struct dump *d, const struct npd_addr *a)
{
	return d->n_addrs && bsearch(a, d->addrs, d->n_addrs, sizeof(*d->addrs), addr_qcmp);
}

/* On the dump's thread: keeps the entries with a pod of the node at one end. */
static int
on_entry(enum nf_conntrack_msg_type type, struct nf_conntrack *ct, void *data)
{
	struct dump *d = data;
	struct npd_ct_flow f;

	(void)type;
	d->scanned++;
	if (!to_flow(ct, &f) || (!is_node_addr(d, &f.src) && !is_node_addr(d, &f.dst)))
		return NFCT_CB_CONTINUE;
	npd_xgrow(&d->cand, &d->cap, d->n + 1, sizeof(*d->cand));
	d->cand[d->n].f = f;
	d->cand[d->n].ct = nfct_clone(ct);
	if (d->cand[d->n].ct)
		d->n++;
	return NFCT_CB_CONTINUE;
}

static void *
dump_thread(void *arg)
{
	struct conntrack *c = arg;
	struct dump *d = &c->d;
	uint32_t family = AF_UNSPEC;
	struct nfct_handle *h = nfct_open(CONNTRACK, 0);

	if (!h) {
		d->rc = errno ? -errno : -EIO;
	} else {
		nfct_callback_register(h, NFCT_T_ALL, on_entry, d);
		if (nfct_query(h, NFCT_Q_DUMP, &family) < 0)
			d->rc = errno ? -errno : -EIO;
		nfct_close(h);
	}
#ifdef NPD_TEST_HOOKS
	/* Holds the dump after the kernel's walk, so that a test can set up a flow and deny it
	 * while the cut is out: only the dump after it can see that flow. */
	{
		const char *env = getenv("NPD_CT_HOLD_MS");
		unsigned long ms = env ? strtoul(env, NULL, 10) : 0;
		struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

		if (ms)
			nanosleep(&ts, NULL);
	}
#endif
	ev_async_send(agent_loop(c->a), &c->done);
	return NULL;
}

/* Sends a thread to dump for the node's pods at addrs (taken). */
static void
start_dump(struct conntrack *c, struct npd_addr *addrs, size_t n)
{
	int rc;

	memset(&c->d, 0, sizeof(c->d));
	c->d.addrs = addrs;
	c->d.n_addrs = n;
	c->d.t0 = npd_now_ns();
	rc = pthread_create(&c->th, NULL, dump_thread, c);
	if (rc) {
		npd_metrics_add(agent_metrics(c->a), M_ERRORS, 1);
		agent_log("error", "msg=\"conntrack cut failed\" err=\"%s\"", strerror(rc));
		dump_fini(&c->d);
		return;
	}
	c->running = true;
}

/* Starts the dump wanted, unless one is out or the last started too recently (then the
 * timer starts it). */
static void
kick(struct conntrack *c)
{
	uint64_t now = npd_now_ns();

	if (!c->want || c->running)
		return;
	if (now < c->next_ok) {
		if (!ev_is_active(&c->later)) {
			ev_timer_set(&c->later, (double)(c->next_ok - now) / 1e9, 0.);
			ev_timer_start(agent_loop(c->a), &c->later);
		}
		return;
	}
	c->want = false;
	start_dump(c, c->next_addrs, c->n_next);
	c->next_addrs = NULL;
	c->n_next = 0;
}

static void
on_later(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	kick(w->data);
}

/* On the loop, the dump back: the kept entries the store now denies are deleted. */
static void
on_done(struct ev_loop *loop, ev_async *w, int revents)
{
	struct conntrack *c = w->data;
	struct npd_metrics *m = agent_metrics(c->a);
	const struct npd_store *s = agent_store(c->a);
	struct dump *d = &c->d;
	struct nfct_handle *h = NULL;
	size_t i, deleted = 0;
	uint64_t t_loop = npd_now_ns(), took, gap = (uint64_t)(CUT_GAP_S * 1e9);
	int rc;

	(void)loop;
	(void)revents;
	if (!c->running)
		return;
	pthread_join(c->th, NULL);
	c->running = false;
	rc = d->rc;
	for (i = 0; i < d->n && rc == 0; i++) {
		if (!npd_ctflush_matches(s, c->node, &d->cand[i].f))
			continue;
		if (!h && !(h = nfct_open(CONNTRACK, 0))) {
			rc = errno ? -errno : -EIO;
			break;
		}
		/* ENOENT: the flow ended (or timed out) since the dump. */
		if (nfct_query(h, NFCT_Q_DESTROY, d->cand[i].ct) == 0)
			deleted++;
		else if (errno != ENOENT)
			rc = -errno;
	}
	if (h)
		nfct_close(h);
	if (rc < 0) {
		npd_metrics_add(m, M_ERRORS, 1);
		agent_log("error", "msg=\"conntrack cut failed\" err=\"%s\"", strerror(-rc));
	}
	took = npd_now_ns() - d->t0;
	npd_metrics_add(m, M_CUTS, 1);
	npd_metrics_add(m, M_DELETED, (double)deleted);
	npd_metrics_set(m, M_SECONDS, (double)took / 1e9);
	npd_metrics_set(m, M_SCANNED, (double)d->scanned);
	npd_metrics_set(m, M_LOOP, (double)(npd_now_ns() - t_loop) / 1e9);
	if (deleted)
		agent_log("info", "msg=\"established flows cut\" entries=%zu", deleted);
	c->next_ok = d->t0 + (2 * took > gap ? 2 * took : gap);
	dump_fini(d);
	kick(c);
}

void
conntrack_after_apply(void *ctx, struct npd_addr *node_addrs, size_t n)
{
	struct conntrack *c = ctx;

	/* A dump out may have passed the entries of flows this sync denies: one more after
	 * it, for the latest addresses. */
	free(c->next_addrs);
	c->next_addrs = node_addrs;
	c->n_next = n;
	c->want = true;
	kick(c);
}
