/* ruleset_format.c: prints the ruleset (ruleset.h) as the text iptables-restore --noflush
 * and ipset restore accept, for netpolctl render, the golden tests and the restore
 * backend. Pure: no I/O; the text is in iptables-save's canonical form so it diffs
 * cleanly. */
#include <arpa/inet.h>
#include <string.h>

#include "npd/addr.h"
#include "npd/buf.h"
#include "npd/mem.h"
#include "npd/ruleset.h"

const char *
npd_set_type_name(enum npd_set_type t)
{
	switch (t) {
	case NPD_SET_HASH_IP:
		return "hash:ip";
	case NPD_SET_HASH_NET:
		return "hash:net";
	case NPD_SET_HASH_IP_PORT:
		return "hash:ip,port";
	}
	return "hash:ip";
}

static const char *
proto_lower(uint8_t proto)
{
	switch (proto) {
	case 6:
		return "tcp";
	case 17:
		return "udp";
	case 132:
		return "sctp";
	case 58:
		return "ipv6-icmp"; /* the name iptables-save prints */
	}
	return NULL;
}

/* iptables-restore splits on blanks but keeps a double-quoted string whole, with \" and
 * \\ escaped inside it. */
static void
add_quoted(struct npd_buf *out, const char *s)
{
	npd_buf_addc(out, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			npd_buf_addc(out, '\\');
		npd_buf_addc(out, *s);
	}
	npd_buf_addc(out, '"');
}

static void
add_cidr(struct npd_buf *out, const char *opt, const struct npd_cidr *c)
{
	char buf[NPD_CIDRSTRLEN];

	npd_buf_printf(out, " %s %s", opt, npd_cidr_format(c, buf));
}

void
npd_rule_format(const struct npd_rule *r, uint8_t family, struct npd_buf *out)
{
	size_t start = out->len, i, d;

	if (r->has_src)
		add_cidr(out, "-s", &r->src);
	if (r->has_dst)
		add_cidr(out, "-d", &r->dst);
	if (r->proto) {
		const char *p = proto_lower(r->proto);

		if (p)
			npd_buf_printf(out, " -p %s", p);
		else
			npd_buf_printf(out, " -p %u", r->proto);
		if (p && r->proto != 58 && (r->dport_lo || r->dport_hi || r->tcp_not_syn))
			npd_buf_printf(out, " -m %s", p);
		if (p && r->proto != 58 && (r->dport_lo || r->dport_hi)) {
			npd_buf_printf(out, " --dport %u", r->dport_lo);
			if (r->dport_hi != r->dport_lo)
				npd_buf_printf(out, ":%u", r->dport_hi);
		}
		/* iptables-save spells --syn out as the flags it stands for. */
		if (r->proto == 6 && r->tcp_not_syn)
			npd_buf_adds(out, " ! --tcp-flags FIN,SYN,RST,ACK SYN");
		if (r->proto == 58 && r->has_icmp6_type)
			npd_buf_printf(out, " -m icmp6 --icmpv6-type %u", r->icmp6_type);
	}
	for (i = 0; i < r->n_sets; i++) {
		const struct npd_set_match *m = &r->sets[i];

		npd_buf_printf(out, " -m set %s--match-set %s ", m->negate ? "! " : "", m->name);
		for (d = 0; d < m->dims; d++)
			npd_buf_printf(out, "%s%s", d ? "," : "",
				       (m->dirs & NPD_SETDIR_DST(d)) ? "dst" : "src");
		/* iptables-save prints the option after the directions. */
		if (m->no_counters)
			npd_buf_adds(out, " ! --update-counters");
	}
	if (r->ctstate) {
		static const struct {
			uint8_t bit;
			const char *name;
		} states[] = {{NPD_CT_INVALID, "INVALID"},
			      {NPD_CT_NEW, "NEW"},
			      {NPD_CT_RELATED, "RELATED"},
			      {NPD_CT_ESTABLISHED, "ESTABLISHED"}};
		bool first = true;

		npd_buf_adds(out, " -m conntrack --ctstate ");
		for (i = 0; i < NPD_ARRAY_SIZE(states); i++)
			if (r->ctstate & states[i].bit) {
				npd_buf_printf(out, "%s%s", first ? "" : ",", states[i].name);
				first = false;
			}
	}
	if (r->has_mark)
		npd_buf_printf(out, " -m mark %s--mark 0x%x/0x%x", r->mark_negate ? "! " : "",
			       r->mark_value, r->mark_mask);
	if (r->limit_per_sec)
		npd_buf_printf(out, " -m limit --limit %u/sec --limit-burst %u", r->limit_per_sec,
			       r->limit_burst ? r->limit_burst : 5);
	if (r->comment) {
		npd_buf_adds(out, " -m comment --comment ");
		add_quoted(out, r->comment);
	}
	switch (r->target) {
	case NPD_T_NONE:
		break;
	case NPD_T_JUMP:
		npd_buf_printf(out, " -j %s", r->jump);
		break;
	case NPD_T_RETURN:
		npd_buf_adds(out, " -j RETURN");
		break;
	case NPD_T_ACCEPT:
		npd_buf_adds(out, " -j ACCEPT");
		break;
	case NPD_T_DROP:
		npd_buf_adds(out, " -j DROP");
		break;
	case NPD_T_REJECT:
		npd_buf_printf(out, " -j REJECT --reject-with %s",
			       r->reject_with == NPD_REJECT_TCP_RESET ? "tcp-reset"
			       : family == AF_INET6		      ? "icmp6-port-unreachable"
								      : "icmp-port-unreachable");
		break;
	case NPD_T_MARK:
		npd_buf_printf(out, " -j MARK --set-xmark 0x%x/0x%x", r->set_mark, r->set_mask);
		break;
	case NPD_T_NFLOG:
		npd_buf_adds(out, " -j NFLOG");
		if (r->nflog_prefix) {
			npd_buf_adds(out, " --nflog-prefix ");
			add_quoted(out, r->nflog_prefix);
		}
		npd_buf_printf(out, " --nflog-group %u", r->nflog_group);
		break;
	}
	/* Every part above starts with a blank; drop the first one. */
	if (out->len > start) {
		memmove(out->data + start, out->data + start + 1, out->len - start - 1);
		out->len--;
		out->data[out->len] = '\0';
	}
}

void
npd_ruleset_format_table(const struct npd_table *t, struct npd_buf *out)
{
	size_t i, j;

	npd_buf_adds(out, "*filter\n");
	for (i = 0; i < t->n_chains; i++)
		npd_buf_printf(out, ":%s - [0:0]\n", t->chains[i].name);
	for (i = 0; i < t->n_chains; i++)
		npd_buf_printf(out, "-F %s\n", t->chains[i].name);
	for (i = 0; i < t->n_chains; i++)
		for (j = 0; j < t->chains[i].n_rules; j++) {
			npd_buf_printf(out, "-A %s ", t->chains[i].name);
			npd_rule_format(&t->chains[i].rules[j], t->family, out);
			npd_buf_addc(out, '\n');
		}
	for (i = 0; i < t->n_hooks; i++)
		npd_buf_printf(out, "-I %s 1 -j %s\n", t->hooks[i].builtin, t->hooks[i].chain);
	npd_buf_adds(out, "COMMIT\n");
}

void
npd_set_entry_format(const struct npd_set *set, const struct npd_set_entry *e, struct npd_buf *out)
{
	char buf[NPD_ADDRSTRLEN];
	const char *p;

	npd_buf_adds(out, npd_addr_format(&e->addr, buf));
	switch (set->type) {
	case NPD_SET_HASH_IP:
		break;
	case NPD_SET_HASH_NET:
		npd_buf_printf(out, "/%u", e->prefix);
		if (e->nomatch)
			npd_buf_adds(out, " nomatch");
		break;
	case NPD_SET_HASH_IP_PORT:
		p = proto_lower(e->proto);
		if (p)
			npd_buf_printf(out, ",%s:%u", p, e->port);
		else
			npd_buf_printf(out, ",%u", e->port);
		break;
	}
}

void
npd_ruleset_format_sets(const struct npd_ruleset *rs, uint8_t family, struct npd_buf *out)
{
	size_t i, j;

	for (i = 0; i < rs->n_sets; i++) {
		const struct npd_set *s = &rs->sets[i];

		if (family && s->family != family)
			continue;

		if (s->comment) /* ipset restore skips lines starting with '#' */
			npd_buf_printf(out, "# %s: %s\n", s->name, s->comment);
		npd_buf_printf(out, "create %s %s family %s%s -exist\n", s->name,
			       npd_set_type_name(s->type), s->family == AF_INET6 ? "inet6" : "inet",
			       s->counters ? " counters" : "");
		npd_buf_printf(out, "flush %s\n", s->name);
		for (j = 0; j < s->n_entries; j++) {
			npd_buf_printf(out, "add %s ", s->name);
			npd_set_entry_format(s, &s->entries[j], out);
			npd_buf_addc(out, '\n');
		}
	}
}
