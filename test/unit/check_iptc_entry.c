/* check_iptc_entry.c: the legacy backend's entry encoder (lib/backend/iptc_entry.c) without
 * root or kernel: every match and target kind is encoded, then read back by a decoder of
 * this file that walks the blob the way the kernel's checks do (sizes, XT_ALIGN, offsets,
 * extension names and revisions) and prints the fields; seeded random rules check the
 * layout of every combination. Set indexes come from a resolver of the test. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libiptc/libip6tc.h>
#include <libiptc/libiptc.h>
#include <linux/netfilter/ipset/ip_set.h>
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

#include "backend/iptc_entry.h"
#include "npd/addr.h"
#include "npd/buf.h"
#include "npd/mem.h"
#include "testutil.h"

/* "npd-sN" resolves to index N; anything else does not exist. */
static int
resolve(const char *name, uint16_t *index, void *ctx)
{
	unsigned *calls = ctx;

	(*calls)++;
	if (strncmp(name, "npd-s", 5))
		return -ENOENT;
	*index = (uint16_t)atoi(name + 5);
	return 0;
}

static void
addr_text(struct npd_buf *b, const char *opt, int family, const void *addr, const uint8_t *mask,
	  size_t len)
{
	char s[INET6_ADDRSTRLEN];
	unsigned prefix = 0;
	size_t i;
	bool zero = true;

	for (i = 0; i < len; i++)
		zero &= !mask[i] && !((const uint8_t *)addr)[i];
	if (zero)
		return;
	for (i = 0; i < len * 8 && (mask[i / 8] & (0x80 >> (i % 8))); i++)
		prefix++;
	for (; i < len * 8; i++) /* a mask must be a prefix: nothing after the first 0 */
		ck_assert(!(mask[i / 8] & (0x80 >> (i % 8))));
	inet_ntop(family, addr, s, sizeof(s));
	npd_buf_printf(b, "%s %s/%u ", opt, s, prefix);
}

/* d, after checking that the len bytes there hold the need bytes of its struct. */
static const void *
sized(const void *d, size_t len, size_t need)
{
	ck_assert_uint_ge(len, need);
	return d;
}

/* One extension's data as text. */
static void
ext_text(struct npd_buf *b, const char *name, uint8_t rev, const void *d, size_t len, int family)
{
	npd_buf_printf(b, "%s.%u", name, rev);
#define DATA(type) ((const type *)sized(d, len, sizeof(type)))
	if (!strcmp(name, "tcp")) {
		const struct xt_tcp *t = DATA(struct xt_tcp);

		npd_buf_printf(b, "{spts=%u:%u dpts=%u:%u", t->spts[0], t->spts[1], t->dpts[0],
			       t->dpts[1]);
		if (t->flg_mask || t->flg_cmp || t->option)
			npd_buf_printf(b, " flags=%#x/%#x opt=%u", t->flg_cmp, t->flg_mask,
				       t->option);
		npd_buf_printf(b, " inv=%u}", t->invflags);
	} else if (!strcmp(name, "udp")) {
		const struct xt_udp *u = DATA(struct xt_udp);

		npd_buf_printf(b, "{spts=%u:%u dpts=%u:%u inv=%u}", u->spts[0], u->spts[1],
			       u->dpts[0], u->dpts[1], u->invflags);
	} else if (!strcmp(name, "icmp6")) {
		const struct ip6t_icmp *i = DATA(struct ip6t_icmp);

		ck_assert_int_eq(family, AF_INET6);
		npd_buf_printf(b, "{type=%u code=%u:%u inv=%u}", i->type, i->code[0], i->code[1],
			       i->invflags);
	} else if (!strcmp(name, "sctp")) {
		const struct xt_sctp_info *s = DATA(struct xt_sctp_info);

		npd_buf_printf(b, "{spts=%u:%u dpts=%u:%u flags=%#x inv=%#x}", s->spts[0],
			       s->spts[1], s->dpts[0], s->dpts[1], s->flags, s->invflags);
	} else if (!strcmp(name, "set")) {
		const struct xt_set_info_match_v4 *s = DATA(struct xt_set_info_match_v4);

		/* No packet or byte counter test: only the skip option, when set. */
		ck_assert_uint_eq(s->packets.op, 0);
		ck_assert_uint_eq(s->bytes.op, 0);
		npd_buf_printf(b, "{index=%u dim=%u flags=%#x", s->match_set.index,
			       s->match_set.dim, s->match_set.flags);
		if (s->flags)
			npd_buf_printf(b, " opts=%#x", s->flags);
		npd_buf_addc(b, '}');
	} else if (!strcmp(name, "conntrack")) {
		const struct xt_conntrack_mtinfo3 *c = DATA(struct xt_conntrack_mtinfo3);

		npd_buf_printf(b, "{flags=%#x state=%#x inv=%#x}", c->match_flags, c->state_mask,
			       c->invert_flags);
	} else if (!strcmp(name, "mark")) {
		const struct xt_mark_mtinfo1 *m = DATA(struct xt_mark_mtinfo1);

		npd_buf_printf(b, "{%#x/%#x inv=%u}", m->mark, m->mask, m->invert);
	} else if (!strcmp(name, "limit")) {
		const struct xt_rateinfo *l = DATA(struct xt_rateinfo);

		npd_buf_printf(b, "{avg=%u burst=%u}", l->avg, l->burst);
	} else if (!strcmp(name, "comment")) {
		const struct xt_comment_info *c = DATA(struct xt_comment_info);

		ck_assert(memchr(c->comment, '\0', sizeof(c->comment)));
		npd_buf_printf(b, "{%s}", c->comment);
	} else if (!strcmp(name, "REJECT")) {
		if (family == AF_INET6)
			npd_buf_printf(b, "{with=%u}", DATA(struct ip6t_reject_info)->with);
		else
			npd_buf_printf(b, "{with=%u}", DATA(struct ipt_reject_info)->with);
	} else if (!strcmp(name, "MARK")) {
		const struct xt_mark_tginfo2 *m = DATA(struct xt_mark_tginfo2);

		npd_buf_printf(b, "{%#x/%#x}", m->mark, m->mask);
	} else if (!strcmp(name, "NFLOG")) {
		const struct xt_nflog_info *n = DATA(struct xt_nflog_info);

		ck_assert(memchr(n->prefix, '\0', sizeof(n->prefix)));
		npd_buf_printf(b, "{group=%u threshold=%u prefix=%s}", n->group, n->threshold,
			       n->prefix);
	} else {
		/* A standard target (verdict or jump): libiptc maps the name, data is an int. */
		ck_assert_uint_eq(len, XT_ALIGN(sizeof(int)));
		ck_assert_int_eq(*(const int *)d, 0);
	}
#undef DATA
	npd_buf_addc(b, ' ');
}

/* Walks an entry as the kernel's checks do and prints it; the blob's size is next_offset. */
static char *
decode(const void *e, int family)
{
	const uint8_t *p = e;
	size_t hdr, toff, noff, off;
	struct npd_buf b;

	npd_buf_init(&b);
	if (family == AF_INET6) {
		const struct ip6t_entry *x = e;

		hdr = sizeof(*x);
		toff = x->target_offset;
		noff = x->next_offset;
		addr_text(&b, "-s", AF_INET6, &x->ipv6.src, x->ipv6.smsk.s6_addr, 16);
		addr_text(&b, "-d", AF_INET6, &x->ipv6.dst, x->ipv6.dmsk.s6_addr, 16);
		if (x->ipv6.proto)
			npd_buf_printf(&b, "-p %u ", x->ipv6.proto);
		/* ip6tables matches the protocol only with this flag. */
		ck_assert_int_eq(!!(x->ipv6.flags & IP6T_F_PROTO), !!x->ipv6.proto);
		ck_assert_uint_eq(x->ipv6.invflags, 0);
		ck_assert_uint_eq(x->nfcache, 0);
	} else {
		const struct ipt_entry *x = e;

		hdr = sizeof(*x);
		toff = x->target_offset;
		noff = x->next_offset;
		addr_text(&b, "-s", AF_INET, &x->ip.src, (const uint8_t *)&x->ip.smsk, 4);
		addr_text(&b, "-d", AF_INET, &x->ip.dst, (const uint8_t *)&x->ip.dmsk, 4);
		if (x->ip.proto)
			npd_buf_printf(&b, "-p %u ", x->ip.proto);
		ck_assert_uint_eq(x->ip.flags, 0);
		ck_assert_uint_eq(x->ip.invflags, 0);
	}
	ck_assert_uint_eq(hdr % XT_ALIGN(1), 0);
	ck_assert_uint_ge(toff, hdr);
	ck_assert_uint_eq(toff % XT_ALIGN(1), 0);
	ck_assert_uint_eq(noff % XT_ALIGN(1), 0);
	for (off = hdr; off < toff;) {
		const struct xt_entry_match *m = (const struct xt_entry_match *)(p + off);
		size_t size = m->u.match_size;

		ck_assert_uint_ge(size, sizeof(*m));
		ck_assert_uint_eq(size % XT_ALIGN(1), 0);
		ck_assert_uint_le(off + size, toff);
		ck_assert(memchr(m->u.user.name, '\0', sizeof(m->u.user.name)));
		ext_text(&b, m->u.user.name, m->u.user.revision, m->data, size - sizeof(*m),
			 family);
		off += size;
	}
	ck_assert_uint_eq(off, toff);
	{
		const struct xt_entry_target *t = (const struct xt_entry_target *)(p + toff);

		ck_assert_uint_eq(t->u.target_size, noff - toff);
		ck_assert(memchr(t->u.user.name, '\0', sizeof(t->u.user.name)));
		npd_buf_adds(&b, "-j ");
		ext_text(&b, t->u.user.name, t->u.user.revision, t->data, noff - toff - sizeof(*t),
			 family);
	}
	npd_buf_addc(&b, '\0');
	return b.data;
}

/* Encodes r for family, decodes it and compares with expect (trailing blank included). */
static void
check_rule(const struct npd_rule *r, int family, const char *expect)
{
	unsigned calls = 0;
	void *e = NULL;
	char *got;

	ck_assert_int_eq(npd_iptc_entry_build(r, (uint8_t)family, resolve, &calls, &e), 0);
	ck_assert_uint_eq(calls, r->n_sets);
	got = decode(e, family);
	ck_assert_msg(!strcmp(got, expect), "got\n  %s\nexpected\n  %s", got, expect);
	free(got);
	free(e);
}

static void
cidr(struct npd_cidr *c, const char *s)
{
	ck_assert_int_eq(npd_cidr_parse(s, true, c), 0);
}

START_TEST(addresses_ports_and_verdicts)
{
	struct npd_rule r;

	memset(&r, 0, sizeof(r));
	r.target = NPD_T_NONE;
	check_rule(&r, AF_INET, "-j .0 ");
	r.has_src = r.has_dst = true;
	cidr(&r.src, "10.244.0.0/16");
	cidr(&r.dst, "10.1.2.3/32");
	r.proto = IPPROTO_TCP;
	r.dport_lo = r.dport_hi = 80;
	r.target = NPD_T_ACCEPT;
	check_rule(&r, AF_INET,
		   "-s 10.244.0.0/16 -d 10.1.2.3/32 -p 6 tcp.0{spts=0:65535 dpts=80:80 inv=0} "
		   "-j ACCEPT.0 ");
	r.proto = IPPROTO_UDP;
	r.dport_hi = 90;
	r.target = NPD_T_DROP;
	r.has_dst = false;
	check_rule(&r, AF_INET,
		   "-s 10.244.0.0/16 -p 17 udp.0{spts=0:65535 dpts=80:90 inv=0} -j DROP.0 ");
	r.proto = IPPROTO_SCTP;
	r.target = NPD_T_RETURN;
	r.has_src = false;
	{
		char expect[128];

		snprintf(expect, sizeof(expect),
			 "-p 132 sctp.0{spts=0:65535 dpts=80:90 flags=%#x inv=0} -j RETURN.0 ",
			 XT_SCTP_DEST_PORTS);
		check_rule(&r, AF_INET, expect);
	}
	/* A protocol without ports is only the header's protocol. */
	r.dport_lo = r.dport_hi = 0;
	r.target = NPD_T_JUMP;
	snprintf(r.jump, sizeof(r.jump), "NPD-I-0123456789abcdef");
	check_rule(&r, AF_INET, "-p 132 -j NPD-I-0123456789abcdef.0 ");
	r.has_src = true;
	cidr(&r.src, "fd00:1::/64");
	r.proto = IPPROTO_TCP;
	r.dport_lo = r.dport_hi = 443;
	check_rule(&r, AF_INET6,
		   "-s fd00:1::/64 -p 6 tcp.0{spts=0:65535 dpts=443:443 inv=0} "
		   "-j NPD-I-0123456789abcdef.0 ");
	cidr(&r.src, "::/1");
	r.proto = 0;
	check_rule(&r, AF_INET6, "-s ::/1 -j NPD-I-0123456789abcdef.0 ");
}
END_TEST

START_TEST(every_match_kind)
{
	struct npd_rule r;
	char comment[] = "ns/policy ingress[0]";

	memset(&r, 0, sizeof(r));
	r.target = NPD_T_ACCEPT;
	snprintf(r.sets[0].name, sizeof(r.sets[0].name), "npd-s7");
	r.sets[0].dims = 1; /* src */
	snprintf(r.sets[1].name, sizeof(r.sets[1].name), "npd-s300");
	r.sets[1].dims = 2;
	r.sets[1].dirs = NPD_SETDIR_DST(0) | NPD_SETDIR_DST(1); /* dst,dst */
	r.sets[1].negate = true;
	r.sets[1].no_counters = true;
	r.n_sets = 2;
	r.ctstate = NPD_CT_ESTABLISHED | NPD_CT_RELATED;
	r.has_mark = true;
	r.mark_value = 0x10000;
	r.mark_mask = 0x10000;
	r.mark_negate = true;
	r.limit_per_sec = 10;
	r.comment = comment;
	{
		char expect[512];

		snprintf(expect, sizeof(expect),
			 "set.4{index=7 dim=1 flags=%#x} set.4{index=300 dim=2 flags=%#x opts=%#x} "
			 "conntrack.3{flags=%#x state=%#x inv=0} mark.1{0x10000/0x10000 inv=1} "
			 "limit.0{avg=%u burst=5} comment.0{ns/policy ingress[0]} -j ACCEPT.0 ",
			 IPSET_DIM_ONE_SRC, IPSET_INV_MATCH, IPSET_FLAG_SKIP_COUNTER_UPDATE,
			 XT_CONNTRACK_STATE,
			 XT_CONNTRACK_STATE_BIT(IP_CT_ESTABLISHED) |
			     XT_CONNTRACK_STATE_BIT(IP_CT_RELATED),
			 XT_LIMIT_SCALE / 10);
		check_rule(&r, AF_INET, expect);
		check_rule(&r, AF_INET6, expect);
	}
	memset(&r, 0, sizeof(r));
	r.target = NPD_T_ACCEPT;
	r.ctstate = NPD_CT_NEW | NPD_CT_INVALID;
	r.limit_per_sec = 20000; /* beyond the scale: the fastest rate there is */
	r.limit_burst = 9;
	{
		char expect[256];

		snprintf(expect, sizeof(expect),
			 "conntrack.3{flags=%#x state=%#x inv=0} limit.0{avg=1 burst=9} "
			 "-j ACCEPT.0 ",
			 XT_CONNTRACK_STATE,
			 XT_CONNTRACK_STATE_BIT(IP_CT_NEW) | XT_CONNTRACK_STATE_INVALID);
		check_rule(&r, AF_INET, expect);
	}
}
END_TEST

START_TEST(every_target_kind)
{
	struct npd_rule r;
	char prefix[] = "NPD-DROP ns/pod";
	char expect[256];

	memset(&r, 0, sizeof(r));
	r.target = NPD_T_REJECT;
	snprintf(expect, sizeof(expect), "-j REJECT.0{with=%u} ", IPT_ICMP_PORT_UNREACHABLE);
	check_rule(&r, AF_INET, expect);
	snprintf(expect, sizeof(expect), "-j REJECT.0{with=%u} ", IP6T_ICMP6_PORT_UNREACH);
	check_rule(&r, AF_INET6, expect);
	r.target = NPD_T_MARK;
	r.set_mark = 0x10000;
	r.set_mask = 0x10000;
	check_rule(&r, AF_INET, "-j MARK.2{0x10000/0x10000} ");
	r.target = NPD_T_NFLOG;
	r.nflog_group = 100;
	r.nflog_prefix = prefix;
	snprintf(expect, sizeof(expect), "-j NFLOG.0{group=100 threshold=%u prefix=%s} ",
		 XT_NFLOG_DEFAULT_THRESHOLD, prefix);
	check_rule(&r, AF_INET6, expect);
	r.nflog_prefix = NULL;
	snprintf(expect, sizeof(expect), "-j NFLOG.0{group=100 threshold=%u prefix=} ",
		 XT_NFLOG_DEFAULT_THRESHOLD);
	check_rule(&r, AF_INET, expect);
}
END_TEST

/* The TCP deny: a segment that is no SYN (--syn is "--tcp-flags SYN,RST,ACK,FIN SYN", "!"
 * inverts the flags test alone), alone or beside ports; a reset in both families; and
 * neighbour discovery's ICMPv6 type with every code. */
START_TEST(tcp_flags_resets_and_icmp6_types)
{
	struct npd_rule r;
	char expect[256];

	memset(&r, 0, sizeof(r));
	r.proto = IPPROTO_TCP;
	r.tcp_not_syn = true;
	r.ctstate = NPD_CT_NEW;
	r.target = NPD_T_REJECT;
	r.reject_with = NPD_REJECT_TCP_RESET;
	for (int v6 = 0; v6 < 2; v6++) {
		snprintf(expect, sizeof(expect),
			 "-p 6 tcp.0{spts=0:65535 dpts=0:65535 flags=0x2/0x17 opt=0 inv=%u} "
			 "conntrack.3{flags=%#x state=%#x inv=0} -j REJECT.0{with=%u} ",
			 XT_TCP_INV_FLAGS, XT_CONNTRACK_STATE, XT_CONNTRACK_STATE_BIT(IP_CT_NEW),
			 v6 ? (unsigned)IP6T_TCP_RESET : (unsigned)IPT_TCP_RESET);
		check_rule(&r, v6 ? AF_INET6 : AF_INET, expect);
	}
	r.ctstate = 0;
	r.dport_lo = 80;
	r.dport_hi = 81;
	r.target = NPD_T_DROP;
	snprintf(expect, sizeof(expect),
		 "-p 6 tcp.0{spts=0:65535 dpts=80:81 flags=0x2/0x17 opt=0 inv=%u} -j DROP.0 ",
		 XT_TCP_INV_FLAGS);
	check_rule(&r, AF_INET, expect);
	/* A reset without the flags test is the header's protocol only. */
	r.tcp_not_syn = false;
	r.dport_lo = r.dport_hi = 0;
	r.target = NPD_T_REJECT;
	snprintf(expect, sizeof(expect), "-p 6 -j REJECT.0{with=%u} ", IPT_TCP_RESET);
	check_rule(&r, AF_INET, expect);
	memset(&r, 0, sizeof(r));
	r.proto = IPPROTO_ICMPV6;
	r.has_icmp6_type = true;
	r.icmp6_type = 135;
	r.target = NPD_T_RETURN;
	check_rule(&r, AF_INET6, "-p 58 icmp6.0{type=135 code=0:255 inv=0} -j RETURN.0 ");
}
END_TEST

START_TEST(set_lookup_failures_come_back)
{
	struct npd_rule r;
	unsigned calls = 0;
	void *e = NULL;

	memset(&r, 0, sizeof(r));
	r.target = NPD_T_ACCEPT;
	snprintf(r.sets[0].name, sizeof(r.sets[0].name), "npd-missing");
	r.sets[0].dims = 1;
	r.n_sets = 1;
	ck_assert_int_eq(npd_iptc_entry_build(&r, AF_INET, resolve, &calls, &e), -ENOENT);
	ck_assert_ptr_null(e);
	ck_assert_uint_eq(calls, 1);
	/* No resolver: a set match cannot be encoded. */
	ck_assert_int_eq(npd_iptc_entry_build(&r, AF_INET, NULL, NULL, &e), -ENOENT);
	ck_assert_ptr_null(e);
}
END_TEST

/* What decode prints for set match m, from the kernel's rules: dimension d is matched
 * against the source when flag bit d+1 is set (IPSET_DIM_ONE_SRC is bit 1), and "!
 * --update-counters" is the v4 match's own IPSET_FLAG_SKIP_COUNTER_UPDATE. */
static void
set_text(const struct npd_set_match *m, char *out, size_t len)
{
	unsigned flags = m->negate ? IPSET_INV_MATCH : 0, d;

	for (d = 0; d < m->dims; d++)
		if (!(m->dirs & NPD_SETDIR_DST(d)))
			flags |= IPSET_DIM_ONE_SRC << d;
	if (m->no_counters)
		snprintf(out, len, "set.4{index=%d dim=%u flags=%#x opts=%#x} ", atoi(m->name + 5),
			 m->dims, flags, IPSET_FLAG_SKIP_COUNTER_UPDATE);
	else
		snprintf(out, len, "set.4{index=%d dim=%u flags=%#x} ", atoi(m->name + 5), m->dims,
			 flags);
}

/* Random rules: whatever the combination, the blob walks cleanly and holds the matches in
 * the printed order (ports, sets, conntrack, mark, limit, comment). */
START_TEST(random_rules_lay_out_cleanly)
{
	static const uint8_t protos[] = {0, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP};
	static const char *const pnames[] = {"", "tcp.0", "udp.0", "sctp.0"};
	unsigned seed = tu_seed("check_iptc_entry: random_rules_lay_out_cleanly");
	char comment[300], prefix[NPD_NFLOG_PREFIXLEN];
	unsigned round;

	for (round = 0; round < 3000; round++) {
		int family = rand() % 2 ? AF_INET6 : AF_INET;
		size_t p = (size_t)rand() % 4, i, n, pos;
		struct npd_rule r;
		unsigned calls = 0;
		void *e = NULL;
		char *got;
		const char *order[8];
		char sets[2][96];

		memset(&r, 0, sizeof(r));
		n = 0;
		r.proto = protos[p];
		if (p && rand() % 2) {
			r.dport_lo = (uint16_t)(1 + rand() % 1000);
			r.dport_hi = (uint16_t)(r.dport_lo + rand() % 100);
		}
		if (p == 1 && rand() % 2)
			r.tcp_not_syn = true;
		if (r.dport_lo || r.tcp_not_syn)
			order[n++] = pnames[p];
		r.n_sets = (uint8_t)(rand() % 3);
		for (i = 0; i < r.n_sets; i++) {
			snprintf(r.sets[i].name, sizeof(r.sets[i].name), "npd-s%d", rand() % 65000);
			r.sets[i].dims = (uint8_t)(1 + rand() % 2);
			r.sets[i].dirs = (uint8_t)(rand() % 4);
			r.sets[i].negate = rand() % 2;
			r.sets[i].no_counters = rand() % 2;
			set_text(&r.sets[i], sets[i], sizeof(sets[i]));
			order[n++] = sets[i];
		}
		if (rand() % 2) {
			r.ctstate = (uint8_t)(1 + rand() % 15);
			order[n++] = "conntrack.3";
		}
		if (rand() % 2) {
			r.has_mark = true;
			r.mark_value = (uint32_t)rand();
			order[n++] = "mark.1";
		}
		if (rand() % 2) {
			r.limit_per_sec = (uint32_t)(1 + rand() % 20000);
			order[n++] = "limit.0";
		}
		if (rand() % 2) {
			/* Longer than the kernel's 256 bytes on purpose: it must be cut, not overrun. */
			memset(comment, 'c', sizeof(comment));
			comment[rand() % (int)sizeof(comment)] = '\0';
			comment[sizeof(comment) - 1] = '\0';
			r.comment = comment;
			order[n++] = "comment.0";
		}
		r.target = (enum npd_target)(rand() % 8);
		if (r.target == NPD_T_REJECT && p == 1 && rand() % 2)
			r.reject_with = NPD_REJECT_TCP_RESET;
		snprintf(r.jump, sizeof(r.jump), "NPD-X-%d", rand());
		if (r.target == NPD_T_NFLOG && rand() % 2) {
			memset(prefix, 'p', sizeof(prefix));
			prefix[rand() % (int)sizeof(prefix)] = '\0';
			prefix[sizeof(prefix) - 1] = '\0';
			r.nflog_prefix = prefix;
		}
		ck_assert_int_eq(npd_iptc_entry_build(&r, (uint8_t)family, resolve, &calls, &e), 0);
		ck_assert_uint_eq(calls, r.n_sets);
		got = decode(e, family);
		for (i = 0, pos = 0; i < n; i++) {
			const char *at = strstr(got + pos, order[i]);

			ck_assert_msg(at, "seed %u round %u: %s missing in %s", seed, round,
				      order[i], got);
			pos = (size_t)(at - got) + strlen(order[i]);
		}
		free(got);
		free(e);
	}
}
END_TEST

TU_MAIN("iptc_entry", addresses_ports_and_verdicts, every_match_kind,
	tcp_flags_resets_and_icmp6_types, every_target_kind, set_lookup_failures_come_back,
	random_rules_lay_out_cleanly)
