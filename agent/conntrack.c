/* conntrack.c: does what lib/ctflush.c decides. After a sync whose plan can deny a flow (a
 * table commit, a set entry removed, an except added: npd_plan_can_deny), it dumps the
 * conntrack table over netlink, keeps the TCP/UDP/SCTP entries with a local pod at one
 * end whose present verdict is a deny, and deletes exactly those, never the whole table.
 * An entry deleted while its flow still sends is recreated by the next packet as NEW, which
 * the policy chains now reject. The dump is in process (no fork) and runs only after a
 * commit, not per packet or per scrape. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

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

struct conntrack {
	struct npd_agent *a;
	const char *node;
};

struct dump {
	struct conntrack *c;
	size_t scanned;		   /* entries the dump returned */
	struct nf_conntrack **cut; /* clones to delete, owned */
	size_t n, cap;
};

struct conntrack *
conntrack_new(struct npd_agent *a, const char *node)
{
	struct conntrack *c = npd_xcalloc(1, sizeof(*c));
	struct npd_metrics *m = agent_metrics(a);

	c->a = a;
	c->node = node;
	npd_metrics_help(
	    m, M_DELETED,
	    "Conntrack entries deleted because a change denies their established flow.");
	npd_metrics_help(m, M_CUTS,
			 "Conntrack cuts run: one after each sync whose plan can deny a flow (not "
			 "after one that only adds set members).");
	npd_metrics_help(m, M_ERRORS, "Conntrack dumps or deletions that failed.");
	npd_metrics_help(m, M_SECONDS,
			 "Time the last conntrack cut took on the loop: the dump, its filtering "
			 "and the deletions.");
	npd_metrics_help(m, M_SCANNED, "Conntrack entries the last cut's dump returned.");
	npd_metrics_add(m, M_CUTS, 0);
	npd_metrics_add(m, M_DELETED, 0);
	npd_metrics_add(m, M_ERRORS, 0);
	npd_metrics_set(m, M_SECONDS, 0);
	npd_metrics_set(m, M_SCANNED, 0);
	return c;
}

void
conntrack_free(struct conntrack *c)
{
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
on_entry(enum nf_conntrack_msg_type type, struct nf_conntrack *ct, void *data)
{
	struct dump *d = data;
	const struct npd_store *s = agent_store(d->c->a);
	struct npd_ct_flow f;

	(void)type;
	d->scanned++;
	if (!to_flow(ct, &f))
		return NFCT_CB_CONTINUE;
	if (!npd_ctflush_is_candidate(s, d->c->node, &f.src) &&
	    !npd_ctflush_is_candidate(s, d->c->node, &f.dst))
		return NFCT_CB_CONTINUE;
	if (!npd_ctflush_matches(s, d->c->node, &f))
		return NFCT_CB_CONTINUE;
	npd_xgrow(&d->cut, &d->cap, d->n + 1, sizeof(*d->cut));
	d->cut[d->n++] = nfct_clone(ct);
	return NFCT_CB_CONTINUE;
}

void
conntrack_after_apply(void *ctx)
{
	struct conntrack *c = ctx;
	struct npd_metrics *m = agent_metrics(c->a);
	struct dump d = {.c = c};
	struct nfct_handle *h;
	uint32_t family = AF_UNSPEC;
	uint64_t t0 = npd_now_ns();
	size_t i, deleted = 0;
	int rc = 0;

	h = nfct_open(CONNTRACK, 0);
	if (!h) {
		rc = -errno;
		goto out;
	}
	nfct_callback_register(h, NFCT_T_ALL, on_entry, &d);
	if (nfct_query(h, NFCT_Q_DUMP, &family) < 0) {
		rc = -errno;
		goto out;
	}
	nfct_callback_unregister(h);
	for (i = 0; i < d.n; i++) {
		if (!d.cut[i])
			continue;
		/* ENOENT: the flow ended (or timed out) since the dump. */
		if (nfct_query(h, NFCT_Q_DESTROY, d.cut[i]) == 0)
			deleted++;
		else if (errno != ENOENT)
			rc = -errno;
	}
out:
	if (rc < 0) {
		npd_metrics_add(m, M_ERRORS, 1);
		agent_log("error", "msg=\"conntrack cut failed\" err=\"%s\"", strerror(-rc));
	}
	npd_metrics_add(m, M_CUTS, 1);
	npd_metrics_add(m, M_DELETED, (double)deleted);
	npd_metrics_set(m, M_SECONDS, (double)(npd_now_ns() - t0) / 1e9);
	npd_metrics_set(m, M_SCANNED, (double)d.scanned);
	if (deleted)
		agent_log("info", "msg=\"established flows cut\" entries=%zu", deleted);
	for (i = 0; i < d.n; i++)
		if (d.cut[i])
			nfct_destroy(d.cut[i]);
	free(d.cut);
	if (h)
		nfct_close(h);
}
