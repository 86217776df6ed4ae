/* iptc_entry.c: npd_rule -> ipt_entry/ip6t_entry. Each match and the target is an
 * xt_entry_match/xt_entry_target header followed by the extension's data, both padded to
 * XT_ALIGN; the entry header carries addresses, masks and protocol, target_offset and
 * next_offset. The kernel checks sizes per extension revision, so the revisions here are
 * the ones iptables 1.8 uses. No kernel access: set indexes come from the caller. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libiptc/libip6tc.h>
#include <libiptc/libiptc.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/xt_NFLOG.h>
#include <linux/netfilter/xt_comment.h>
#include <linux/netfilter/xt_conntrack.h>
#include <linux/netfilter/xt_limit.h>
#include <linux/netfilter/xt_mark.h>
#include <linux/netfilter/xt_sctp.h>
#include <linux/netfilter/xt_set.h>
#include <linux/netfilter/xt_tcpudp.h>
#include <linux/netfilter_ipv4/ipt_REJECT.h>
#include <linux/netfilter_ipv6/ip6t_REJECT.h>

#include "npd/buf.h"
#include "npd/mem.h"
#include "iptc_entry.h"

static void
pad_to_align(struct npd_buf *b, size_t start)
{
	static const char zeros[XT_ALIGN(1)];
	size_t len = b->len - start;

	npd_buf_add(b, zeros, XT_ALIGN(len) - len);
}

/* Appends an xt_entry_match (or, same layout, an xt_entry_target) with its data. */
static void
add_ext(struct npd_buf *b, const char *name, uint8_t revision, const void *data, size_t len)
{
	struct xt_entry_match m;
	size_t start = b->len;

	memset(&m, 0, sizeof(m));
	m.u.user.match_size = (uint16_t)(XT_ALIGN(sizeof(m)) + XT_ALIGN(len));
	snprintf(m.u.user.name, sizeof(m.u.user.name), "%s", name);
	m.u.user.revision = revision;
	npd_buf_add(b, &m, sizeof(m));
	pad_to_align(b, start);
	start = b->len;
	npd_buf_add(b, data, len);
	pad_to_align(b, start);
}

static void
add_ports(struct npd_buf *b, const struct npd_rule *r)
{
	if (r->proto == IPPROTO_TCP && (r->dport_lo || r->dport_hi || r->tcp_not_syn)) {
		struct xt_tcp t = {.spts = {0, 0xffff}, .dpts = {0, 0xffff}};

		if (r->dport_lo || r->dport_hi) {
			t.dpts[0] = r->dport_lo;
			t.dpts[1] = r->dport_hi;
		}
		/* --syn is "--tcp-flags SYN,RST,ACK,FIN SYN"; "!" inverts the flags test. */
		if (r->tcp_not_syn) {
			t.flg_mask = 0x17;
			t.flg_cmp = 0x02;
			t.invflags = XT_TCP_INV_FLAGS;
		}
		add_ext(b, "tcp", 0, &t, sizeof(t));
		return;
	}
	if (r->proto == IPPROTO_ICMPV6 && r->has_icmp6_type) {
		struct ip6t_icmp i = {.type = r->icmp6_type, .code = {0, 0xff}};

		add_ext(b, "icmp6", 0, &i, sizeof(i));
		return;
	}
	if (!(r->dport_lo || r->dport_hi))
		return;
	if (r->proto == IPPROTO_UDP) {
		struct xt_udp u = {.spts = {0, 0xffff}, .dpts = {r->dport_lo, r->dport_hi}};

		add_ext(b, "udp", 0, &u, sizeof(u));
	} else if (r->proto == IPPROTO_SCTP) {
		struct xt_sctp_info s;

		memset(&s, 0, sizeof(s));
		s.spts[1] = 0xffff;
		s.dpts[0] = r->dport_lo;
		s.dpts[1] = r->dport_hi;
		s.flags = XT_SCTP_DEST_PORTS;
		add_ext(b, "sctp", 0, &s, sizeof(s));
	}
}

static int
add_matches(struct npd_buf *b, const struct npd_rule *r, npd_iptc_set_index_fn fn, void *ctx)
{
	size_t i, d;
	int rc;

	if (r->proto)
		add_ports(b, r);
	for (i = 0; i < r->n_sets; i++) {
		const struct npd_set_match *m = &r->sets[i];
		struct xt_set_info_match_v4 s; /* what iptables 1.8 writes and can print */

		memset(&s, 0, sizeof(s));
		rc = fn ? fn(m->name, &s.match_set.index, ctx) : -ENOENT;
		if (rc)
			return rc;
		s.match_set.dim = m->dims;
		/* xt_set: bit d+1 set means dimension d (0-based) is the source. */
		for (d = 0; d < m->dims; d++)
			if (!(m->dirs & (1u << d)))
				s.match_set.flags |= (uint8_t)(1u << (d + 1));
		if (m->negate)
			s.match_set.flags |= IPSET_INV_MATCH;
		/* The option's bit is in the v4 match's own flags, not in match_set's. */
		if (m->no_counters)
			s.flags |= IPSET_FLAG_SKIP_COUNTER_UPDATE;
		add_ext(b, "set", 4, &s, sizeof(s));
	}
	if (r->ctstate) {
		struct xt_conntrack_mtinfo3 c;

		memset(&c, 0, sizeof(c));
		c.match_flags = XT_CONNTRACK_STATE;
		if (r->ctstate & NPD_CT_INVALID)
			c.state_mask |= XT_CONNTRACK_STATE_INVALID;
		if (r->ctstate & NPD_CT_NEW)
			c.state_mask |= XT_CONNTRACK_STATE_BIT(IP_CT_NEW);
		if (r->ctstate & NPD_CT_ESTABLISHED)
			c.state_mask |= XT_CONNTRACK_STATE_BIT(IP_CT_ESTABLISHED);
		if (r->ctstate & NPD_CT_RELATED)
			c.state_mask |= XT_CONNTRACK_STATE_BIT(IP_CT_RELATED);
		add_ext(b, "conntrack", 3, &c, sizeof(c));
	}
	if (r->has_mark) {
		struct xt_mark_mtinfo1 mk = {
		    .mark = r->mark_value, .mask = r->mark_mask, .invert = r->mark_negate};

		add_ext(b, "mark", 1, &mk, sizeof(mk));
	}
	if (r->limit_per_sec) {
		struct xt_rateinfo l;

		memset(&l, 0, sizeof(l));
		l.avg = r->limit_per_sec >= XT_LIMIT_SCALE ? 1 : XT_LIMIT_SCALE / r->limit_per_sec;
		l.burst = r->limit_burst ? r->limit_burst : 5;
		add_ext(b, "limit", 0, &l, sizeof(l));
	}
	if (r->comment) {
		struct xt_comment_info c;

		memset(&c, 0, sizeof(c));
		snprintf(c.comment, sizeof(c.comment), "%s", r->comment);
		add_ext(b, "comment", 0, &c, sizeof(c));
	}
	return 0;
}

static void
add_verdict(struct npd_buf *b, const char *name)
{
	int verdict = 0; /* libiptc maps the name (a standard verdict or a chain) */

	add_ext(b, name, 0, &verdict, sizeof(verdict));
}

static void
add_target(struct npd_buf *b, const struct npd_rule *r, uint8_t family)
{
	switch (r->target) {
	case NPD_T_NONE:
		add_verdict(b, "");
		break;
	case NPD_T_JUMP:
		add_verdict(b, r->jump);
		break;
	case NPD_T_RETURN:
		add_verdict(b, "RETURN");
		break;
	case NPD_T_ACCEPT:
		add_verdict(b, "ACCEPT");
		break;
	case NPD_T_DROP:
		add_verdict(b, "DROP");
		break;
	case NPD_T_REJECT:
		if (family == AF_INET6) {
			struct ip6t_reject_info rj = {.with = r->reject_with == NPD_REJECT_TCP_RESET
								  ? IP6T_TCP_RESET
								  : IP6T_ICMP6_PORT_UNREACH};

			add_ext(b, "REJECT", 0, &rj, sizeof(rj));
		} else {
			struct ipt_reject_info rj = {.with = r->reject_with == NPD_REJECT_TCP_RESET
								 ? IPT_TCP_RESET
								 : IPT_ICMP_PORT_UNREACHABLE};

			add_ext(b, "REJECT", 0, &rj, sizeof(rj));
		}
		break;
	case NPD_T_MARK: {
		struct xt_mark_tginfo2 m = {.mark = r->set_mark, .mask = r->set_mask};

		add_ext(b, "MARK", 2, &m, sizeof(m));
		break;
	}
	case NPD_T_NFLOG: {
		struct xt_nflog_info n;

		memset(&n, 0, sizeof(n));
		n.group = r->nflog_group;
		n.threshold = XT_NFLOG_DEFAULT_THRESHOLD;
		if (r->nflog_prefix)
			snprintf(n.prefix, sizeof(n.prefix), "%s", r->nflog_prefix);
		add_ext(b, "NFLOG", 0, &n, sizeof(n));
		break;
	}
	}
}

static void
prefix_mask(uint8_t *mask, size_t len, unsigned prefix)
{
	size_t i;

	memset(mask, 0, len);
	for (i = 0; i < len && prefix; i++) {
		unsigned bits = prefix > 8 ? 8 : prefix;

		mask[i] = (uint8_t)(0xff00u >> bits);
		prefix -= bits;
	}
}

int
npd_iptc_entry_build(const struct npd_rule *r, uint8_t family, npd_iptc_set_index_fn fn, void *ctx,
		     void **out)
{
	struct npd_buf m, t;
	size_t hdr = family == AF_INET6 ? sizeof(struct ip6t_entry) : sizeof(struct ipt_entry);
	uint8_t *e;
	int rc;

	npd_buf_init(&m);
	npd_buf_init(&t);
	rc = add_matches(&m, r, fn, ctx);
	if (rc)
		goto out;
	add_target(&t, r, family);
	e = npd_xcalloc(1, hdr + m.len + t.len);
	if (m.len)
		memcpy(e + hdr, m.data, m.len);
	memcpy(e + hdr + m.len, t.data, t.len);
	if (family == AF_INET6) {
		struct ip6t_entry *x = (struct ip6t_entry *)e;

		if (r->has_src) {
			memcpy(&x->ipv6.src, r->src.addr.a, 16);
			prefix_mask(x->ipv6.smsk.s6_addr, 16, r->src.prefix);
		}
		if (r->has_dst) {
			memcpy(&x->ipv6.dst, r->dst.addr.a, 16);
			prefix_mask(x->ipv6.dmsk.s6_addr, 16, r->dst.prefix);
		}
		x->ipv6.proto = r->proto;
		if (r->proto)
			x->ipv6.flags |= IP6T_F_PROTO;
		x->target_offset = (uint16_t)(hdr + m.len);
		x->next_offset = (uint16_t)(hdr + m.len + t.len);
	} else {
		struct ipt_entry *x = (struct ipt_entry *)e;

		if (r->has_src) {
			memcpy(&x->ip.src, r->src.addr.a, 4);
			prefix_mask((uint8_t *)&x->ip.smsk, 4, r->src.prefix);
		}
		if (r->has_dst) {
			memcpy(&x->ip.dst, r->dst.addr.a, 4);
			prefix_mask((uint8_t *)&x->ip.dmsk, 4, r->dst.prefix);
		}
		x->ip.proto = r->proto;
		x->target_offset = (uint16_t)(hdr + m.len);
		x->next_offset = (uint16_t)(hdr + m.len + t.len);
	}
	*out = e;
out:
	npd_buf_fini(&t);
	npd_buf_fini(&m);
	return rc;
}
