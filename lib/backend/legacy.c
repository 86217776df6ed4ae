/* legacy.c: the libiptc backend for legacy (x_tables) filter tables, IPv4 through libip4tc
 * and IPv6 through libip6tc. It builds ipt_entry/ip6t_entry blobs directly from npd_rule
 * (matches and targets at the revisions iptables 1.8 uses) and writes one family in one
 * iptc_commit, under the xtables lock, retrying when another writer committed between our
 * read and our write (the kernel answers EAGAIN when the entry count changed). It touches
 * only NPD- chains and the jumps into them from built-in chains: never a built-in chain's
 * other rules, never a flush of a built-in chain. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

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
#include "npd/map.h"
#include "npd/mem.h"
#include "ipset_int.h"
#include "xt_common.h"

#define DEFAULT_LOCK_PATH "/run/xtables.lock"
#define DEFAULT_LOCK_WAIT_MS 10000
#define DEFAULT_RETRIES 5

struct npd_backend {
	struct npd_backend_opts opts;
	char *lock_path;
};

/* libiptc's entry points for one family. The rule-level ones take the family's entry
 * type, so they are wrapped to take the blob as bytes. */
struct fam {
	uint8_t family;
	const char *tag; /* "v4", "v6" */
	struct xtc_handle *(*init)(const char *table);
	void (*free)(struct xtc_handle *h);
	int (*is_chain)(const char *chain, struct xtc_handle *const h);
	int (*builtin)(const char *chain, struct xtc_handle *const h);
	const char *(*first_chain)(struct xtc_handle *h);
	const char *(*next_chain)(struct xtc_handle *h);
	const void *(*first_rule)(const char *chain, struct xtc_handle *h);
	const void *(*next_rule)(const void *prev, struct xtc_handle *h);
	const char *(*get_target)(const void *e, struct xtc_handle *h);
	bool (*is_plain)(const void *e); /* no match and no address: the jump alone */
	const struct xt_counters *(*counters)(const void *e);
	int (*append)(const char *chain, const void *e, struct xtc_handle *h);
	int (*insert)(const char *chain, const void *e, unsigned num, struct xtc_handle *h);
	int (*delete_num)(const char *chain, unsigned num, struct xtc_handle *h);
	int (*flush)(const char *chain, struct xtc_handle *h);
	int (*create_chain)(const char *chain, struct xtc_handle *h);
	int (*delete_chain)(const char *chain, struct xtc_handle *h);
	int (*commit)(struct xtc_handle *h);
	const char *(*strerror)(int err);
};

static const void *
v4_first_rule(const char *chain, struct xtc_handle *h)
{
	return iptc_first_rule(chain, h);
}

static const void *
v4_next_rule(const void *prev, struct xtc_handle *h)
{
	return iptc_next_rule(prev, h);
}

static const char *
v4_get_target(const void *e, struct xtc_handle *h)
{
	return iptc_get_target(e, h);
}

static bool
v4_is_plain(const void *e)
{
	static const struct ipt_ip any;
	const struct ipt_entry *x = e;

	return x->target_offset == sizeof(*x) && !memcmp(&x->ip, &any, sizeof(any));
}

static const struct xt_counters *
v4_counters(const void *e)
{
	return &((const struct ipt_entry *)e)->counters;
}

static int
v4_append(const char *chain, const void *e, struct xtc_handle *h)
{
	return iptc_append_entry(chain, e, h);
}

static int
v4_insert(const char *chain, const void *e, unsigned num, struct xtc_handle *h)
{
	return iptc_insert_entry(chain, e, num, h);
}

static int
v4_delete_num(const char *chain, unsigned num, struct xtc_handle *h)
{
	return iptc_delete_num_entry(chain, num, h);
}

static int
v4_flush(const char *chain, struct xtc_handle *h)
{
	return iptc_flush_entries(chain, h);
}

static int
v4_create_chain(const char *chain, struct xtc_handle *h)
{
	return iptc_create_chain(chain, h);
}

static int
v4_delete_chain(const char *chain, struct xtc_handle *h)
{
	return iptc_delete_chain(chain, h);
}

static const void *
v6_first_rule(const char *chain, struct xtc_handle *h)
{
	return ip6tc_first_rule(chain, h);
}

static const void *
v6_next_rule(const void *prev, struct xtc_handle *h)
{
	return ip6tc_next_rule(prev, h);
}

static const char *
v6_get_target(const void *e, struct xtc_handle *h)
{
	return ip6tc_get_target(e, h);
}

static bool
v6_is_plain(const void *e)
{
	static const struct ip6t_ip6 any;
	const struct ip6t_entry *x = e;

	return x->target_offset == sizeof(*x) && !memcmp(&x->ipv6, &any, sizeof(any));
}

static const struct xt_counters *
v6_counters(const void *e)
{
	return &((const struct ip6t_entry *)e)->counters;
}

static int
v6_append(const char *chain, const void *e, struct xtc_handle *h)
{
	return ip6tc_append_entry(chain, e, h);
}

static int
v6_insert(const char *chain, const void *e, unsigned num, struct xtc_handle *h)
{
	return ip6tc_insert_entry(chain, e, num, h);
}

static int
v6_delete_num(const char *chain, unsigned num, struct xtc_handle *h)
{
	return ip6tc_delete_num_entry(chain, num, h);
}

static int
v6_flush(const char *chain, struct xtc_handle *h)
{
	return ip6tc_flush_entries(chain, h);
}

static int
v6_create_chain(const char *chain, struct xtc_handle *h)
{
	return ip6tc_create_chain(chain, h);
}

static int
v6_delete_chain(const char *chain, struct xtc_handle *h)
{
	return ip6tc_delete_chain(chain, h);
}

static const struct fam fam_v4 = {
    .family = AF_INET,
    .tag = "v4",
    .init = iptc_init,
    .free = iptc_free,
    .is_chain = iptc_is_chain,
    .builtin = iptc_builtin,
    .first_chain = iptc_first_chain,
    .next_chain = iptc_next_chain,
    .first_rule = v4_first_rule,
    .next_rule = v4_next_rule,
    .get_target = v4_get_target,
    .is_plain = v4_is_plain,
    .counters = v4_counters,
    .append = v4_append,
    .insert = v4_insert,
    .delete_num = v4_delete_num,
    .flush = v4_flush,
    .create_chain = v4_create_chain,
    .delete_chain = v4_delete_chain,
    .commit = iptc_commit,
    .strerror = iptc_strerror,
};

static const struct fam fam_v6 = {
    .family = AF_INET6,
    .tag = "v6",
    .init = ip6tc_init,
    .free = ip6tc_free,
    .is_chain = ip6tc_is_chain,
    .builtin = ip6tc_builtin,
    .first_chain = ip6tc_first_chain,
    .next_chain = ip6tc_next_chain,
    .first_rule = v6_first_rule,
    .next_rule = v6_next_rule,
    .get_target = v6_get_target,
    .is_plain = v6_is_plain,
    .counters = v6_counters,
    .append = v6_append,
    .insert = v6_insert,
    .delete_num = v6_delete_num,
    .flush = v6_flush,
    .create_chain = v6_create_chain,
    .delete_chain = v6_delete_chain,
    .commit = ip6tc_commit,
    .strerror = ip6tc_strerror,
};

static const struct fam *
fam_of(uint8_t family)
{
	return family == AF_INET6 ? &fam_v6 : &fam_v4;
}

/* ---- entry building ---- */

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
	if (!(r->dport_lo || r->dport_hi))
		return;
	if (r->proto == IPPROTO_TCP) {
		struct xt_tcp t = {.spts = {0, 0xffff}, .dpts = {r->dport_lo, r->dport_hi}};

		add_ext(b, "tcp", 0, &t, sizeof(t));
	} else if (r->proto == IPPROTO_UDP) {
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

/* Set names resolve to kernel indexes once per transaction. */
static int
set_index(struct npd_map *cache, const char *name, uint16_t *index)
{
	void *v = npd_map_get(cache, name);
	int rc;

	if (v) {
		*index = (uint16_t)((uintptr_t)v - 1);
		return 0;
	}
	rc = npd_ipset_get_index(name, index);
	if (rc == 0)
		npd_map_set(cache, name, (void *)(uintptr_t)(*index + 1u));
	return rc;
}

static int
add_matches(struct npd_buf *b, const struct npd_rule *r, struct npd_map *sets)
{
	size_t i, d;
	int rc;

	if (r->proto)
		add_ports(b, r);
	for (i = 0; i < r->n_sets; i++) {
		const struct npd_set_match *m = &r->sets[i];
		struct xt_set_info_match_v4 s; /* what iptables 1.8 writes and can print */

		memset(&s, 0, sizeof(s));
		rc = set_index(sets, m->name, &s.match_set.index);
		if (rc)
			return rc;
		s.match_set.dim = m->dims;
		/* xt_set: bit d+1 set means dimension d (0-based) is the source. */
		for (d = 0; d < m->dims; d++)
			if (!(m->dirs & (1u << d)))
				s.match_set.flags |= (uint8_t)(1u << (d + 1));
		if (m->negate)
			s.match_set.flags |= IPSET_INV_MATCH;
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
			struct ip6t_reject_info rj = {.with = IP6T_ICMP6_PORT_UNREACH};

			add_ext(b, "REJECT", 0, &rj, sizeof(rj));
		} else {
			struct ipt_reject_info rj = {.with = IPT_ICMP_PORT_UNREACHABLE};

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

/* Builds the entry for r (owned by the caller, free()). */
static int
build_entry(const struct npd_rule *r, uint8_t family, struct npd_map *sets, void **out)
{
	struct npd_buf m, t;
	size_t hdr = family == AF_INET6 ? sizeof(struct ip6t_entry) : sizeof(struct ipt_entry);
	uint8_t *e;
	int rc;

	npd_buf_init(&m);
	npd_buf_init(&t);
	rc = add_matches(&m, r, sets);
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

/* ---- transactions ---- */

static int
lock_take(struct npd_backend *b, int *fdp)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = 10 * 1000 * 1000};
	unsigned waited = 0;
	int fd;

	fd = open(b->lock_path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0) {
		npd_backend_seterr("xtables lock %s: %s", b->lock_path, strerror(errno));
		return -errno;
	}
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			npd_backend_seterr("xtables lock %s: %s", b->lock_path, strerror(errno));
			close(fd);
			return -EIO;
		}
		if (waited >= b->opts.lock_wait_ms) {
			npd_backend_seterr("xtables lock %s: held by another writer for %u ms",
					   b->lock_path, waited);
			close(fd);
			return -EBUSY;
		}
		nanosleep(&ts, NULL);
		waited += 10;
	}
	*fdp = fd;
	return 0;
}

/* Edits a freshly read table; 0 or -errno (last error set). */
typedef int (*edit_fn)(const struct fam *f, struct xtc_handle *h, const void *ctx);

/* Runs edit + commit under the xtables lock, redoing the whole read-edit-commit when the
 * commit lost a race (EAGAIN), at most opts.commit_retries more times. */
static int
transact(struct npd_backend *b, const struct fam *f, edit_fn edit, const void *ctx)
{
	struct xtc_handle *h = NULL;
	unsigned attempt;
	int fd = -1, rc;

	rc = lock_take(b, &fd);
	if (rc)
		return rc;
	for (attempt = 0;; attempt++) {
		h = f->init("filter");
		if (!h) {
			rc = errno ? -errno : -EIO;
			npd_backend_seterr("libiptc %s init: %s", f->tag, f->strerror(errno));
			goto out;
		}
		rc = edit(f, h, ctx);
		if (rc)
			goto out;
		if (b->opts.before_commit)
			b->opts.before_commit(f->family, attempt, b->opts.before_commit_ctx);
		if (f->commit(h))
			break;
		rc = errno ? -errno : -EIO;
		npd_backend_seterr("libiptc %s commit: %s", f->tag, f->strerror(errno));
		f->free(h);
		h = NULL;
		if (rc != -EAGAIN || attempt >= b->opts.commit_retries)
			goto out;
	}
	rc = 0;
out:
	if (h)
		f->free(h);
	close(fd); /* releases the flock */
	return rc;
}

static int
iptc_fail(const struct fam *f, const char *what, const char *chain)
{
	int rc = errno ? -errno : -EIO;

	npd_backend_seterr("libiptc %s %s %s: %s", f->tag, what, chain, f->strerror(errno));
	return rc;
}

/* Names of our chains in h, copied: deleting while iterating libiptc's chain cursor is not
 * allowed. */
static size_t
collect_ours(const struct fam *f, struct xtc_handle *h, char (**out)[NPD_CHAIN_NAMELEN])
{
	char(*names)[NPD_CHAIN_NAMELEN] = NULL;
	size_t n = 0, cap = 0;
	const char *c;

	for (c = f->first_chain(h); c; c = f->next_chain(h)) {
		if (!npd_xt_is_ours(c))
			continue;
		npd_xgrow(&names, &cap, n + 1, sizeof(*names));
		snprintf(names[n++], NPD_CHAIN_NAMELEN, "%s", c);
	}
	*out = names;
	return n;
}

/* Reads h into t: every chain, the rules of the built-in ones, the rule count of ours.
 * Strings stay h's: t is used before h changes. */
static void
read_view(const struct fam *f, struct xtc_handle *h, struct npd_xt_table *t)
{
	const char *c;
	const void *e;

	npd_xt_table_init(t, f->family);
	for (c = f->first_chain(h); c; c = f->next_chain(h)) {
		struct npd_xt_chain *xc = npd_xt_table_add_chain(t, c, f->builtin(c, h));

		if (xc->builtin)
			for (e = f->first_rule(c, h); e; e = f->next_rule(e, h))
				npd_xt_chain_add_rule(xc, f->get_target(e, h), f->is_plain(e),
						      NULL);
		else if (npd_xt_is_ours(c))
			for (e = f->first_rule(c, h); e; e = f->next_rule(e, h))
				xc->n_rules++;
	}
}

/* Performs one hook plan on h: deletions from the bottom up, so positions stay valid, then
 * insertions at the top, last first. */
static int
apply_hook_plan(const struct fam *f, struct xtc_handle *h, const struct npd_hook_plan *p)
{
	size_t i;
	int rc = 0;

	for (i = p->n_del; i-- > 0;)
		if (!f->delete_num(p->builtin, (unsigned)p->del[i], h))
			return iptc_fail(f, "delete hook from", p->builtin);
	for (i = p->n_ins; i-- > 0;) {
		struct npd_rule r;
		void *entry = NULL;

		memset(&r, 0, sizeof(r));
		r.target = NPD_T_JUMP;
		snprintf(r.jump, sizeof(r.jump), "%s", p->ins[i]);
		rc = build_entry(&r, f->family, NULL, &entry);
		if (rc)
			return rc;
		if (!f->insert(p->builtin, entry, 0, h))
			rc = iptc_fail(f, "insert hook into", p->builtin);
		free(entry);
		if (rc)
			return rc;
	}
	return 0;
}

/* Hooks of every built-in chain: desired ones (NULL table: none) at the top, others gone.
 * Every plan is made before h changes, since the view borrows h's strings. */
static int
ensure_hooks(const struct fam *f, struct xtc_handle *h, const struct npd_table *desired)
{
	struct npd_hook_plan *plans = NULL;
	struct npd_xt_table t;
	size_t n, i;
	int rc = 0;

	read_view(f, h, &t);
	n = npd_xt_plan_hooks(&t, desired, &plans);
	for (i = 0; i < n && rc == 0; i++)
		rc = apply_hook_plan(f, h, &plans[i]);
	npd_hook_plans_free(plans, n);
	npd_xt_table_fini(&t);
	return rc;
}

static int
fill_chain(const struct fam *f, struct xtc_handle *h, const struct npd_chain *c,
	   struct npd_map *sets)
{
	size_t i;
	int rc;

	for (i = 0; i < c->n_rules; i++) {
		void *entry = NULL;

		rc = build_entry(&c->rules[i], f->family, sets, &entry);
		if (rc)
			return rc;
		rc = f->append(c->name, entry, h) ? 0 : iptc_fail(f, "append to", c->name);
		free(entry);
		if (rc)
			return rc;
	}
	return 0;
}

static int
edit_commit(const struct fam *f, struct xtc_handle *h, const void *ctx)
{
	const struct npd_table_change *chg = ctx;
	struct npd_map sets;
	size_t i;
	int rc = 0;

	npd_map_init(&sets);
	/* Chains going away are emptied first: they may jump to each other. */
	for (i = 0; i < chg->n_del; i++)
		if (f->is_chain(chg->del[i], h) && !f->flush(chg->del[i], h)) {
			rc = iptc_fail(f, "flush", chg->del[i]);
			goto out;
		}
	/* Every written chain exists before any rule is appended: rules jump between them. */
	for (i = 0; i < chg->n_write; i++) {
		const char *name = chg->write[i]->name;

		if (!npd_xt_is_ours(name)) {
			npd_backend_seterr("refusing to write chain %s: not ours", name);
			rc = -EPERM;
			goto out;
		}
		if (f->is_chain(name, h) ? !f->flush(name, h) : !f->create_chain(name, h)) {
			rc = iptc_fail(f, "create/flush", name);
			goto out;
		}
	}
	for (i = 0; i < chg->n_write; i++) {
		rc = fill_chain(f, h, chg->write[i], &sets);
		if (rc)
			goto out;
	}
	if (chg->desired) {
		rc = ensure_hooks(f, h, chg->desired);
		if (rc)
			goto out;
	}
	for (i = 0; i < chg->n_del; i++)
		if (npd_xt_is_ours(chg->del[i]) && f->is_chain(chg->del[i], h) &&
		    !f->delete_chain(chg->del[i], h)) {
			rc = iptc_fail(f, "delete chain", chg->del[i]);
			goto out;
		}
out:
	npd_map_fini(&sets);
	return rc;
}

static int
edit_cleanup(const struct fam *f, struct xtc_handle *h, const void *ctx)
{
	char(*names)[NPD_CHAIN_NAMELEN] = NULL;
	size_t n, i;
	int rc;

	(void)ctx;
	rc = ensure_hooks(f, h, NULL);
	if (rc)
		return rc;
	n = collect_ours(f, h, &names);
	for (i = 0; i < n && rc == 0; i++)
		if (!f->flush(names[i], h))
			rc = iptc_fail(f, "flush", names[i]);
	for (i = 0; i < n && rc == 0; i++)
		if (!f->delete_chain(names[i], h))
			rc = iptc_fail(f, "delete chain", names[i]);
	free(names);
	return rc;
}

/* ---- ops ---- */

static int
legacy_open(const struct npd_backend_opts *opts, struct npd_backend **out)
{
	struct npd_backend *b = npd_xcalloc(1, sizeof(*b));

	if (opts)
		b->opts = *opts;
	b->lock_path = npd_xstrdup(b->opts.lock_path ? b->opts.lock_path : DEFAULT_LOCK_PATH);
	b->opts.lock_path = b->lock_path;
	b->opts.restore_v4 = b->opts.restore_v6 = NULL;
	b->opts.save_v4 = b->opts.save_v6 = NULL;
	if (!b->opts.lock_wait_ms)
		b->opts.lock_wait_ms = DEFAULT_LOCK_WAIT_MS;
	if (!b->opts.commit_retries)
		b->opts.commit_retries = DEFAULT_RETRIES;
	*out = b;
	return 0;
}

static void
legacy_close(struct npd_backend *b)
{
	if (!b)
		return;
	free(b->lock_path);
	free(b);
}

static int
legacy_set_create(struct npd_backend *b, const struct npd_set *set)
{
	(void)b;
	return npd_ipset_create(set);
}

static int
legacy_set_update(struct npd_backend *b, const struct npd_set_op *op)
{
	(void)b;
	return npd_ipset_update(op);
}

static int
legacy_set_destroy(struct npd_backend *b, const char *name)
{
	(void)b;
	return npd_ipset_destroy(name);
}

static int
legacy_commit(struct npd_backend *b, const struct npd_table_change *chg)
{
	return transact(b, fam_of(chg->family), edit_commit, chg);
}

static void
list_family(const struct fam *f, struct npd_owned *o, size_t *cap_chains)
{
	struct xtc_handle *h = f->init("filter");
	struct npd_xt_table t;

	if (!h)
		return; /* no filter table in this family: nothing of ours */
	read_view(f, h, &t);
	npd_xt_list_owned(&t, o, cap_chains);
	npd_xt_table_fini(&t);
	f->free(h);
}

static int
legacy_list_owned(struct npd_backend *b, struct npd_owned *out)
{
	struct npd_owned o = {0};
	size_t cap = 0;
	int rc;

	(void)b;
	list_family(&fam_v4, &o, &cap);
	list_family(&fam_v6, &o, &cap);
	rc = npd_ipset_list(&o);
	if (rc) {
		npd_owned_fini(&o);
		return rc;
	}
	*out = o;
	return 0;
}

static bool
family_has_ours(const struct fam *f)
{
	struct xtc_handle *h = f->init("filter");
	struct npd_xt_table t;
	bool any;

	if (!h)
		return false;
	read_view(f, h, &t);
	any = npd_xt_has_ours(&t);
	npd_xt_table_fini(&t);
	f->free(h);
	return any;
}

static int
legacy_cleanup(struct npd_backend *b)
{
	const struct fam *fams[] = {&fam_v4, &fam_v6};
	size_t i;
	int rc;

	for (i = 0; i < NPD_ARRAY_SIZE(fams); i++) {
		if (!family_has_ours(fams[i]))
			continue;
		rc = transact(b, fams[i], edit_cleanup, NULL);
		if (rc)
			return rc;
	}
	return npd_ipset_destroy_all();
}

static int
legacy_read_counters(struct npd_backend *b, npd_counter_fn fn, void *ctx)
{
	const struct fam *fams[] = {&fam_v4, &fam_v6};
	size_t i;

	(void)b;
	for (i = 0; i < NPD_ARRAY_SIZE(fams); i++) {
		const struct fam *f = fams[i];
		struct xtc_handle *h = f->init("filter");
		const char *c;

		if (!h)
			continue;
		for (c = f->first_chain(h); c; c = f->next_chain(h)) {
			const void *e;
			size_t idx = 0;

			if (!npd_xt_is_ours(c))
				continue;
			for (e = f->first_rule(c, h); e; e = f->next_rule(e, h), idx++) {
				const struct xt_counters *k = f->counters(e);

				fn(f->family, c, idx, k->pcnt, k->bcnt, ctx);
			}
		}
		f->free(h);
	}
	return 0;
}

const struct npd_backend_ops npd_backend_legacy = {
    .name = "legacy",
    .open = legacy_open,
    .close = legacy_close,
    .set_create = legacy_set_create,
    .set_update = legacy_set_update,
    .set_destroy = legacy_set_destroy,
    .commit = legacy_commit,
    .list_owned = legacy_list_owned,
    .cleanup = legacy_cleanup,
    .read_counters = legacy_read_counters,
};
