/* check_compile.c: the compiler's semantics on small hand-built clusters: stable names,
 * shared selector sets, ipBlock sets, named ports, policyTypes, locality, unselectable
 * pods, reused IPs, invalid and over-limit policies, determinism. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npd/buf.h"
#include "npd/compile.h"
#include "npd/mem.h"
#include "npd/limits.h"
#include "npd/selector.h"
#include "compile_int.h"
#include "testutil.h"
#include "tu_eval.h"

static struct npd_ruleset *
compile_opts(struct npd_store *s, struct npd_compile_opts *o, struct npd_diags *d)
{
	struct npd_ruleset *rs = NULL;

	ck_assert_int_eq(npd_compile(s, o, d, &rs), 0);
	ck_assert_ptr_nonnull(rs);
	return rs;
}

static struct npd_ruleset *
compile(struct npd_store *s)
{
	struct npd_compile_opts o;

	npd_compile_opts_init(&o);
	o.node_name = "node1";
	return compile_opts(s, &o, NULL);
}

/* Everything render would print, as one string (owned). */
static char *
text(const struct npd_ruleset *rs)
{
	struct npd_buf b;

	npd_buf_init(&b);
	npd_ruleset_format_sets(rs, 0, &b);
	npd_ruleset_format_table(&rs->v4, &b);
	npd_ruleset_format_table(&rs->v6, &b);
	return npd_buf_steal(&b);
}

/* The name compile.c gives the chain of kind for key "ns/name". */
static void
expected_chain(char out[NPD_CHAIN_NAMELEN], const char *kind, const char *key)
{
	const char *slash = strchr(key, '/');
	char *ns = npd_xstrndup(key, (size_t)(slash - key));
	struct npd_buf tmp;

	npd_buf_init(&tmp);
	chain_name(out, kind, ns, slash + 1, &tmp);
	npd_buf_fini(&tmp);
	free(ns);
}

/* The name compile.c gives the chain of the group of direction dir ("I" or "E") whose
 * identity is "ns/pol1,pol2". */
static void
group_chain(char out[NPD_CHAIN_NAMELEN], const char *dir, const char *id)
{
	char *full = npd_xasprintf("G%s|%s", dir, id);

	snprintf(out, NPD_CHAIN_NAMELEN, "NPD-%s-%016" PRIx64, dir,
		 npd_compile_name_hash(full, strlen(full)));
	free(full);
}

/* The name of that group's set in family fam ('4' or '6'). */
static void
group_set_name(char out[NPD_SET_NAMELEN], const char *dir, const char *id, char fam)
{
	char *full = npd_xasprintf("G%s|%s", dir, id);

	snprintf(out, NPD_SET_NAMELEN, "npd-%016" PRIx64 "-%c",
		 npd_compile_name_hash(full, strlen(full)), fam);
	free(full);
}

/* True when rule r of a chain matches exactly set name at its destination (dst) or source,
 * counting (or not) for the matched entry. */
static bool
matches_set(const struct npd_rule *r, const char *name, bool dst, bool no_counters)
{
	return r->n_sets == 1 && !strcmp(r->sets[0].name, name) && r->sets[0].dims == 1 &&
	       r->sets[0].dirs == (dst ? NPD_SETDIR_DST(0) : 0) && !r->sets[0].negate &&
	       r->sets[0].no_counters == no_counters;
}

/* The rule of t's dispatch chains (NPD-FWD-I-x / NPD-FWD-E-x) that jumps to group chain
 * group, when NPD-FWD-I/-E jumps to that dispatch chain; else NULL. */
static const struct npd_rule *
dispatch_rule(const struct npd_table *t, const char *group)
{
	size_t i, j;

	for (i = 0; i < t->n_chains; i++) {
		const struct npd_chain *c = &t->chains[i], *top;
		char name[NPD_CHAIN_NAMELEN];
		bool reached = false;

		if (strncmp(c->name, "NPD-FWD-", 8) || strlen(c->name) != 11)
			continue;
		snprintf(name, sizeof(name), "%.9s", c->name);
		top = npd_ruleset_find_chain(t, name);
		for (j = 0; top && j < top->n_rules; j++)
			reached |= top->rules[j].target == NPD_T_JUMP && !top->rules[j].n_sets &&
				   !strcmp(top->rules[j].jump, c->name);
		for (j = 0; j < c->n_rules; j++)
			if (!strcmp(c->rules[j].jump, group))
				return reached ? &c->rules[j] : NULL;
	}
	return NULL;
}

/* True when set holds local pods (a group's, or the isolated ones of a direction). */
static bool
is_local_set(const struct npd_set *set)
{
	return set->comment && !strncmp(set->comment, "local ", 6);
}

/* The sets of rs that peers became. */
static size_t
peer_sets(const struct npd_ruleset *rs)
{
	size_t i, n = 0;

	for (i = 0; i < rs->n_sets; i++)
		n += !is_local_set(&rs->sets[i]);
	return n;
}

/* The name of the counted set of the local pods isolated for dir ("I" or "E") in family
 * fam ('4' or '6'). */
static void
iso_set_name(char out[NPD_SET_NAMELEN], const char *dir, char fam)
{
	char *id = npd_xasprintf("L%s|", dir);

	snprintf(out, NPD_SET_NAMELEN, "npd-%016" PRIx64 "-%c",
		 npd_compile_name_hash(id, strlen(id)), fam);
	free(id);
}

/* The single set a chain's rules reference through a match in direction dirs, found by the
 * rule comment. */
static const struct npd_set *
set_of_rule(const struct npd_ruleset *rs, uint8_t family, const char *comment, size_t which)
{
	const struct npd_table *t = npd_ruleset_get_table(rs, family);
	size_t i, j;

	for (i = 0; i < t->n_chains; i++)
		for (j = 0; j < t->chains[i].n_rules; j++) {
			const struct npd_rule *r = &t->chains[i].rules[j];

			if (r->comment && !strcmp(r->comment, comment) && r->n_sets > which)
				return npd_ruleset_find_set(rs, r->sets[which].name);
		}
	return NULL;
}

static bool
set_has(const struct npd_set *set, const char *entry)
{
	struct npd_buf b;
	size_t i;
	bool found = false;

	npd_buf_init(&b);
	for (i = 0; i < set->n_entries && !found; i++) {
		npd_buf_reset(&b);
		npd_set_entry_format(set, &set->entries[i], &b);
		found = !strcmp(b.data, entry);
	}
	npd_buf_fini(&b);
	return found;
}

START_TEST(names_are_stable_identities)
{
	struct npd_store *s = npd_store_new();
	struct npd_policy *p = tu_policy("shop", "web-in", "app=web", true, false);
	struct npd_ruleset *a, *b;
	char pod_chain[NPD_CHAIN_NAMELEN], pol_chain[NPD_CHAIN_NAMELEN];
	const struct npd_chain *ca, *cb;

	npd_store_add_namespace(s, tu_ns("shop", NULL));
	npd_store_add_pod(s, tu_pod("shop", "web-0", "app=web", "10.0.0.10", "node1"));
	npd_store_add_pod(s, tu_pod("shop", "cli-0", "app=cli", "10.0.1.10", "node2"));
	tu_peer_sel(tu_rule(p, false), NULL, "app=cli");
	npd_store_add_policy(s, p);
	a = compile(s);

	group_chain(pod_chain, "I", "shop/web-in");
	expected_chain(pol_chain, "PI", "shop/web-in");
	ck_assert_uint_eq(strlen(pod_chain), 22);
	ca = npd_ruleset_find_chain(&a->v4, pol_chain);
	ck_assert_ptr_nonnull(ca);
	ck_assert_ptr_nonnull(npd_ruleset_find_chain(&a->v4, pod_chain));

	/* Editing the policy changes its chain's content, never its name. */
	p = tu_policy("shop", "web-in", "app=web", true, false);
	tu_peer_sel(tu_rule(p, false), NULL, "app=cli");
	tu_port(&p->ingress[0], NPD_PROTO_TCP, 80, 0, NULL);
	npd_store_add_policy(s, p);
	b = compile(s);
	cb = npd_ruleset_find_chain(&b->v4, pol_chain);
	ck_assert_ptr_nonnull(cb);
	ck_assert_ptr_nonnull(npd_ruleset_find_chain(&b->v4, pod_chain));
	ck_assert(ca->hash != cb->hash);
	ck_assert_uint_eq(npd_ruleset_find_chain(&a->v4, pod_chain)->hash,
			  npd_ruleset_find_chain(&b->v4, pod_chain)->hash);
	/* A v4-only cluster: the v6 table holds only the hook and NPD-FORWARD. */
	ck_assert_uint_eq(b->v6.n_chains, 1);
	ck_assert_uint_eq(b->v6.n_hooks, 1);
	ck_assert_str_eq(b->v6.hooks[0].builtin, "FORWARD");
	npd_ruleset_free(a);
	npd_ruleset_free(b);
	npd_store_free(s);
}
END_TEST

/* Number of hex digits at which two names of the same length differ. */
static size_t
differing_digits(const char *a, const char *b)
{
	size_t i, n = 0;

	for (i = 0; a[i] && b[i]; i++)
		n += a[i] != b[i];
	return n;
}

START_TEST(chain_names_fit_and_scatter)
{
	char a[NPD_CHAIN_NAMELEN], b[NPD_CHAIN_NAMELEN];
	struct npd_buf tmp;

	npd_buf_init(&tmp);
	/* The longest kind still leaves iptables' 28 characters room for 16 hex digits. */
	chain_name(a, "PE", "a-namespace-longer-than-the-name-limit", "x", &tmp);
	ck_assert_uint_eq(strlen(a), strlen("NPD-PE-") + 16);
	ck_assert_uint_lt(strlen(a), NPD_CHAIN_NAMELEN);
	ck_assert(!strncmp(a, "NPD-PE-", 7));
	/* The identity includes where ns ends: a/b-c and a-b/c are different objects. */
	chain_name(a, "I", "a", "b-c", &tmp);
	chain_name(b, "I", "a-b", "c", &tmp);
	ck_assert_str_ne(a, b);
	/* Siblings differing in their last character get names that look unrelated (the
	 * final mix), not names that differ in a digit or two. */
	chain_name(a, "I", "shop", "web-0", &tmp);
	chain_name(b, "I", "shop", "web-1", &tmp);
	ck_assert_uint_ge(differing_digits(a, b), 8);
	/* The kind is part of the identity, not only of the prefix. */
	chain_name(b, "E", "shop", "web-0", &tmp);
	ck_assert_str_ne(a + 6, b + 6);
	npd_buf_fini(&tmp);
}
END_TEST

/* Regression: "a/b" + "c" and "a" + "b/c" once hashed the same "PI|a/b/c", so two policies
 * shared one chain and the rules allowed what the simulator denied. The decoders reject such
 * names now; the identity must not depend on that. */
START_TEST(slash_names_get_distinct_chains)
{
	struct npd_store *s = npd_store_new();
	struct npd_policy *p1 = tu_policy("a/b", "c", "app=web", true, false);
	struct npd_policy *p2 = tu_policy("a", "b/c", "app=web", true, false);
	char a[NPD_CHAIN_NAMELEN], b[NPD_CHAIN_NAMELEN];
	struct npd_ruleset *rs;
	const struct npd_table *t;
	struct npd_buf tmp;
	size_t i, n = 0;

	npd_buf_init(&tmp);
	chain_name(a, "PI", "a/b", "c", &tmp);
	chain_name(b, "PI", "a", "b/c", &tmp);
	ck_assert_str_ne(a, b);
	chain_name(a, "I", "a|b", "c", &tmp);
	chain_name(b, "I", "a", "b|c", &tmp);
	ck_assert_str_ne(a, b);
	npd_buf_fini(&tmp);

	npd_store_add_namespace(s, tu_ns("a", NULL));
	npd_store_add_namespace(s, tu_ns("a/b", NULL));
	npd_store_add_pod(s, tu_pod("a", "web-0", "app=web", "10.0.0.10", "node1"));
	npd_store_add_pod(s, tu_pod("a/b", "web-0", "app=web", "10.0.0.11", "node1"));
	npd_store_add_pod(s, tu_pod("a", "cli-0", "app=cli", "10.0.1.10", "node2"));
	tu_peer_sel(tu_rule(p1, false), NULL, "app=cli");
	tu_rule(p2, false);
	npd_store_add_policy(s, p1);
	npd_store_add_policy(s, p2);
	rs = compile(s);
	t = npd_ruleset_get_table(rs, 4);
	for (i = 0; i < t->n_chains; i++)
		n += !strncmp(t->chains[i].name, "NPD-PI-", 7);
	ck_assert_uint_eq(n, 2);
	expected_chain(a, "PI", "a/b/c");
	ck_assert_ptr_nonnull(npd_ruleset_find_chain(&rs->v4, a));
	npd_ruleset_free(rs);
	npd_store_free(s);
}
END_TEST

START_TEST(forward_chain_layout)
{
	struct npd_store *s = npd_store_new();
	struct npd_policy *p = tu_policy("ns", "both", "", true, true);
	struct npd_ruleset *rs;
	const struct npd_chain *c;
	const struct npd_set *set;
	char in[NPD_CHAIN_NAMELEN], eg[NPD_CHAIN_NAMELEN], pol[NPD_CHAIN_NAMELEN];
	char in4[NPD_SET_NAMELEN], eg4[NPD_SET_NAMELEN], in6[NPD_SET_NAMELEN];
	char isoi4[NPD_SET_NAMELEN], isoe4[NPD_SET_NAMELEN], isoi6[NPD_SET_NAMELEN];
	const struct npd_rule *r;
	struct npd_buf b;
	size_t i;

	npd_store_add_pod(s, tu_pod("ns", "b", "", "10.0.0.2,fd00::2", "node1"));
	npd_store_add_pod(s, tu_pod("ns", "a", "", "10.0.0.1", "node1"));
	tu_rule(p, false);
	tu_rule(p, true);
	npd_store_add_policy(s, p);
	rs = compile(s);
	npd_buf_init(&b);
	group_chain(in, "I", "ns/both");
	group_chain(eg, "E", "ns/both");
	group_set_name(in4, "I", "ns/both", '4');
	group_set_name(eg4, "E", "ns/both", '4');
	group_set_name(in6, "I", "ns/both", '6');
	iso_set_name(isoi4, "I", '4');
	iso_set_name(isoe4, "E", '4');
	iso_set_name(isoi6, "I", '6');

	/* Both pods share one group per direction, whose set holds their addresses; the
	 * isolated pods of each direction are one more set, counting per entry. */
	set = npd_ruleset_find_set(rs, in4);
	ck_assert_ptr_nonnull(set);
	ck_assert(!set->counters);
	ck_assert_uint_eq(set->n_entries, 2);
	ck_assert(set_has(set, "10.0.0.1") && set_has(set, "10.0.0.2"));
	ck_assert_str_eq(set->comment, "local ns pods selected for ingress by both");
	set = npd_ruleset_find_set(rs, isoi4);
	ck_assert_ptr_nonnull(set);
	ck_assert(set->counters);
	ck_assert_int_eq(set->count_dir, NPD_ORIGIN_INGRESS);
	ck_assert_uint_eq(set->n_entries, 2);
	ck_assert_str_eq(set->comment, "local pods isolated for ingress");
	ck_assert_int_eq(npd_ruleset_find_set(rs, isoe4)->count_dir, NPD_ORIGIN_EGRESS);
	set = npd_ruleset_find_set(rs, in6);
	ck_assert_uint_eq(set->n_entries, 1);
	ck_assert(set_has(set, "fd00::2"));
	ck_assert_uint_eq(npd_ruleset_find_set(rs, isoi6)->n_entries, 1);
	ck_assert_uint_eq(rs->n_sets, 8);

	/* Established; the mid-stream TCP segments at either end of an isolated pod, each
	 * direction's own end first; the egress-isolated pods by source to their dispatch,
	 * the ingress-isolated ones by destination. No jump counts for an entry. */
	c = npd_ruleset_find_chain(&rs->v4, "NPD-FORWARD");
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(c->n_rules, 7);
	npd_rule_format(&c->rules[0], AF_INET, &b);
	ck_assert_str_eq(b.data, "-m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "
				 "\"netpold: established\" -j RETURN");
	ck_assert(matches_set(&c->rules[1], isoe4, false, true));
	ck_assert_str_eq(c->rules[1].jump, "NPD-PICKUP-E");
	ck_assert(matches_set(&c->rules[2], isoi4, true, true));
	ck_assert_str_eq(c->rules[2].jump, "NPD-PICKUP-I");
	ck_assert(matches_set(&c->rules[3], isoe4, true, true));
	ck_assert_str_eq(c->rules[3].jump, "NPD-PICKUP-E");
	ck_assert(matches_set(&c->rules[4], isoi4, false, true));
	ck_assert_str_eq(c->rules[4].jump, "NPD-PICKUP-I");
	ck_assert(matches_set(&c->rules[5], isoe4, false, true));
	ck_assert_str_eq(c->rules[5].jump, "NPD-FWD-E");
	ck_assert(matches_set(&c->rules[6], isoi4, true, true));
	ck_assert_str_eq(c->rules[6].jump, "NPD-FWD-I");
	for (i = 1; i < c->n_rules; i++) {
		ck_assert(!c->rules[i].has_src && !c->rules[i].has_dst);
		ck_assert_int_eq(c->rules[i].tcp_not_syn, i <= 4);
		ck_assert_int_eq(c->rules[i].ctstate, i <= 4 ? NPD_CT_NEW : 0);
	}
	ck_assert_str_eq(c->rules[4].comment, "mid-stream TCP from ingress-isolated pods");
	ck_assert_str_eq(c->rules[6].comment, "to ingress-isolated pods: their groups");
	/* Their dispatch chains: the egress group by source, the ingress group by
	 * destination, counting nothing either. */
	r = dispatch_rule(&rs->v4, eg);
	ck_assert_ptr_nonnull(r);
	ck_assert(matches_set(r, eg4, false, true));
	r = dispatch_rule(&rs->v4, in);
	ck_assert_ptr_nonnull(r);
	ck_assert(matches_set(r, in4, true, true));
	ck_assert_str_eq(r->comment, "ns pods selected for ingress by both");

	/* IPv6: neighbour solicitations and advertisements return before any of those. */
	c = npd_ruleset_find_chain(&rs->v6, "NPD-FORWARD");
	ck_assert_uint_eq(c->n_rules, 9);
	npd_buf_reset(&b);
	for (i = 1; i < 3; i++) {
		npd_rule_format(&c->rules[i], AF_INET6, &b);
		npd_buf_addc(&b, '\n');
	}
	ck_assert_str_eq(b.data, "-p ipv6-icmp -m icmp6 --icmpv6-type 135 -m comment --comment "
				 "\"netpold: neighbour solicitation\" -j RETURN\n"
				 "-p ipv6-icmp -m icmp6 --icmpv6-type 136 -m comment --comment "
				 "\"netpold: neighbour advertisement\" -j RETURN\n");
	ck_assert(matches_set(&c->rules[8], isoi6, true, true));
	ck_assert(matches_set(dispatch_rule(&rs->v6, in), in6, true, true));

	/* The group chain: clear, jump, return if marked, then the direction's deny. */
	expected_chain(pol, "PI", "ns/both");
	c = npd_ruleset_find_chain(&rs->v6, in);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->origin.kind, NPD_ORIGIN_NONE);
	npd_buf_reset(&b);
	for (i = 0; i < c->n_rules; i++) {
		npd_rule_format(&c->rules[i], AF_INET6, &b);
		npd_buf_addc(&b, '\n');
	}
	{
		char *want = npd_xasprintf("-j MARK --set-xmark 0x0/0x10000\n"
					   "-m comment --comment \"policy ns/both\" -j %s\n"
					   "-m mark --mark 0x10000/0x10000 -j RETURN\n"
					   "-j NPD-DENY-I\n",
					   pol);

		ck_assert_str_eq(b.data, want);
		free(want);
	}
	/* The shared tails: log, then rejects counting for the entry of the isolated pod,
	 * then one catching what no entry matched. */
	c = npd_ruleset_find_chain(&rs->v6, "NPD-DENY-I");
	ck_assert_ptr_nonnull(c);
	npd_buf_reset(&b);
	for (i = 0; i < c->n_rules; i++) {
		npd_rule_format(&c->rules[i], AF_INET6, &b);
		npd_buf_addc(&b, '\n');
	}
	{
		char *want = npd_xasprintf(
		    "-m limit --limit 10/sec --limit-burst 20 -j NFLOG --nflog-prefix \"NPD DROP I\" "
		    "--nflog-group 100\n"
		    "-p tcp -m set --match-set %s dst -m comment --comment \"netpold: default deny "
		    "ingress\" -j REJECT --reject-with tcp-reset\n"
		    "-m set --match-set %s dst -m comment --comment \"netpold: default deny ingress\" "
		    "-j REJECT --reject-with icmp6-port-unreachable\n"
		    "-m comment --comment \"netpold: default deny ingress\" -j REJECT --reject-with "
		    "icmp6-port-unreachable\n",
		    isoi6, isoi6);

		ck_assert_str_eq(b.data, want);
		free(want);
	}
	c = npd_ruleset_find_chain(&rs->v4, "NPD-PICKUP-E");
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(c->n_rules, 4);
	ck_assert_int_eq(c->rules[0].target, NPD_T_NFLOG);
	ck_assert_str_eq(c->rules[0].nflog_prefix, "NPD DROP E");
	ck_assert(matches_set(&c->rules[1], isoe4, false, false));
	ck_assert(matches_set(&c->rules[2], isoe4, true, false));
	ck_assert_uint_eq(c->rules[3].n_sets, 0);
	for (i = 1; i < 4; i++) {
		ck_assert_int_eq(c->rules[i].target, NPD_T_REJECT);
		ck_assert_int_eq(c->rules[i].reject_with, NPD_REJECT_TCP_RESET);
	}
	/* The policy allows everything in both directions: one unconditional mark rule. */
	c = npd_ruleset_find_chain(&rs->v6, pol);
	ck_assert_uint_eq(c->n_rules, 1);
	npd_buf_reset(&b);
	npd_rule_format(&c->rules[0], AF_INET6, &b);
	ck_assert_str_eq(
	    b.data,
	    "-m comment --comment \"ns/both ingress[0]\" -j MARK --set-xmark 0x10000/0x10000");
	npd_buf_fini(&b);
	npd_ruleset_free(rs);
	npd_store_free(s);
}
END_TEST

START_TEST(equal_selectors_share_one_set)
{
	struct npd_store *s = npd_store_new();
	struct npd_policy *p1 = tu_policy("a", "p1", "", true, false);
	struct npd_policy *p2 = tu_policy("a", "p2", "", true, false);
	struct npd_policy *p3 = tu_policy("b", "p3", "", true, false);
	struct npd_policy *p4 = tu_policy("b", "p4", "", true, false);
	struct npd_ruleset *rs;
	const struct npd_set *s1, *s2, *s3, *s4, *s5;

	npd_store_add_namespace(s, tu_ns("a", "team=red"));
	npd_store_add_namespace(s, tu_ns("b", "team=red"));
	npd_store_add_namespace(s, tu_ns("c", "team=blue"));
	npd_store_add_pod(s, tu_pod("a", "x", "app=x", "10.0.0.1", "node1"));
	npd_store_add_pod(s, tu_pod("b", "x", "app=x", "10.0.0.2", "node1"));
	npd_store_add_pod(s, tu_pod("c", "x", "app=x", "10.0.0.3", "node9"));
	tu_peer_sel(tu_rule(p1, false), NULL, "app=x");
	tu_peer_sel(tu_rule(p2, false), NULL, "app=x");
	tu_peer_sel(&p2->ingress[0], "team=red", "app=x");
	tu_peer_sel(tu_rule(p3, false), NULL, "app=x");
	tu_peer_sel(tu_rule(p4, false), "team=red", "app=x");
	npd_store_add_policy(s, p1);
	npd_store_add_policy(s, p2);
	npd_store_add_policy(s, p3);
	npd_store_add_policy(s, p4);
	rs = compile(s);

	s1 = set_of_rule(rs, AF_INET, "a/p1 ingress[0] from[0]", 0);
	s2 = set_of_rule(rs, AF_INET, "a/p2 ingress[0] from[0]", 0);
	s3 = set_of_rule(rs, AF_INET, "b/p3 ingress[0] from[0]", 0);
	s4 = set_of_rule(rs, AF_INET, "a/p2 ingress[0] from[1]", 0);
	s5 = set_of_rule(rs, AF_INET, "b/p4 ingress[0] from[0]", 0);
	ck_assert_ptr_nonnull(s1);
	ck_assert_ptr_nonnull(s3);
	ck_assert_ptr_eq(s1, s2); /* same selector, same namespace */
	ck_assert_ptr_ne(s1, s3); /* same podSelector, other namespace */
	ck_assert_ptr_eq(s4, s5); /* namespaceSelector: the policy's namespace is irrelevant */
	ck_assert_uint_eq(s1->n_entries, 1);
	ck_assert(set_has(s1, "10.0.0.1"));
	ck_assert(set_has(s3, "10.0.0.2"));
	ck_assert_uint_eq(s4->n_entries, 2); /* cluster-wide, not just this node */
	ck_assert(set_has(s4, "10.0.0.1") && set_has(s4, "10.0.0.2"));
	ck_assert_str_eq(s1->comment, "pods ns=a app=x");
	ck_assert_str_eq(s4->comment, "pods nssel=team=red app=x");
	ck_assert_uint_eq(peer_sets(rs), 3);
	npd_ruleset_free(rs);
	npd_store_free(s);
}
END_TEST

START_TEST(ipblock_sets)
{
	struct npd_store *s = npd_store_new();
	struct npd_policy *p = tu_policy("a", "blocks", "", false, true);
	struct npd_policy_rule *r;
	struct npd_ruleset *rs;
	const struct npd_set *all4, *all6, *b1, *b2;
	struct npd_buf b;
	char *t;

	npd_store_add_pod(s, tu_pod("a", "x", "", "10.0.0.1,fd00::1", "node1"));
	r = tu_rule(p, true);
	tu_peer_block(r, "0.0.0.0/0", "10.0.0.0/8 fd00::/8");
	tu_peer_block(r, "::/0", "::/0");
	tu_peer_block(r, "192.168.0.0/16", "192.168.1.0/24");
	tu_peer_block(r, "192.168.0.0/16", "192.168.2.0/24");
	npd_store_add_policy(s, p);
	rs = compile(s);

	all4 = set_of_rule(rs, AF_INET, "a/blocks egress[0] to[0]", 0);
	ck_assert_ptr_nonnull(all4);
	ck_assert_int_eq(all4->type, NPD_SET_HASH_NET);
	ck_assert_uint_eq(all4->n_entries, 3);
	ck_assert(set_has(all4, "0.0.0.0/1") && set_has(all4, "128.0.0.0/1"));
	ck_assert(set_has(all4, "10.0.0.0/8 nomatch"));
	/* The v6 block is not in the v4 table, and the v4 block not in the v6 table. */
	ck_assert_ptr_null(set_of_rule(rs, AF_INET, "a/blocks egress[0] to[1]", 0));
	ck_assert_ptr_null(set_of_rule(rs, AF_INET6, "a/blocks egress[0] to[0]", 0));
	all6 = set_of_rule(rs, AF_INET6, "a/blocks egress[0] to[1]", 0);
	ck_assert_ptr_nonnull(all6);
	ck_assert_uint_eq(all6->family, AF_INET6);
	ck_assert_uint_eq(all6->n_entries, 2); /* except ::/0 wins over ::/0: matches nothing */
	ck_assert(set_has(all6, "::/1 nomatch") && set_has(all6, "8000::/1 nomatch"));
	/* Same cidr, different except: one set each, so neither except vetoes the other. */
	b1 = set_of_rule(rs, AF_INET, "a/blocks egress[0] to[2]", 0);
	b2 = set_of_rule(rs, AF_INET, "a/blocks egress[0] to[3]", 0);
	ck_assert_ptr_ne(b1, b2);
	ck_assert(set_has(b1, "192.168.0.0/16") && set_has(b1, "192.168.1.0/24 nomatch"));
	ck_assert(!set_has(b1, "192.168.2.0/24 nomatch"));
	ck_assert(set_has(b2, "192.168.2.0/24 nomatch"));
	ck_assert_str_eq(b1->comment, "ipBlock 192.168.0.0/16 except 192.168.1.0/24");
	/* Egress: the block matches the destination. */
	npd_buf_init(&b);
	t = text(rs);
	npd_buf_printf(&b,
		       "-m set --match-set %s dst -m comment --comment \"a/blocks egress[0] "
		       "to[2]\"",
		       b1->name);
	ck_assert_ptr_nonnull(strstr(t, b.data));
	free(t);
	npd_buf_fini(&b);
	npd_ruleset_free(rs);
	npd_store_free(s);
}
END_TEST

START_TEST(named_ports_resolve_at_destination)
{
	struct npd_store *s = npd_store_new();
	struct npd_policy *in = tu_policy("a", "web", "app=web", true, false);
	struct npd_policy *eg = tu_policy("a", "cli", "app=cli", false, true);
	struct npd_pod *pod;
	struct npd_policy_rule *r;
	struct npd_ruleset *rs;
	const struct npd_set *peer, *ports;
	struct npd_buf b;
	char *t;

	pod = tu_pod("a", "web-1", "app=web", "10.0.0.1", "node1");
	tu_pod_port(pod, "http", NPD_PROTO_TCP, 8080);
	npd_store_add_pod(s, pod);
	pod = tu_pod("a", "web-2", "app=web", "10.0.0.2", "node1");
	tu_pod_port(pod, "http", NPD_PROTO_TCP, 9090);
	tu_pod_port(pod, "http", NPD_PROTO_UDP, 5353);
	npd_store_add_pod(s, pod);
	pod = tu_pod("a", "web-3", "app=web", "10.0.0.3", "node1"); /* no such port */
	npd_store_add_pod(s, pod);
	pod = tu_pod("b", "db-1", "app=db", "10.0.1.1", "node7");
	tu_pod_port(pod, "pg", NPD_PROTO_TCP, 5432);
	npd_store_add_pod(s, pod);
	pod = tu_pod("a", "db-2", "app=db", "10.0.1.2", "node8");
	tu_pod_port(pod, "pg", NPD_PROTO_TCP, 5433);
	npd_store_add_pod(s, pod);
	npd_store_add_pod(s, tu_pod("a", "cli-1", "app=cli", "10.0.2.1", "node1"));
	pod = tu_pod("b", "other-1", "app=other", "192.168.5.5", "node7"); /* outside 10/8 */
	tu_pod_port(pod, "pg", NPD_PROTO_TCP, 6432);
	npd_store_add_pod(s, pod);

	r = tu_rule(in, false);
	tu_peer_sel(r, NULL, "app=cli");
	tu_peer_block(r, "172.16.0.0/12", NULL);
	tu_port(r, NPD_PROTO_TCP, 0, 0, "http");
	npd_store_add_policy(s, in);
	r = tu_rule(eg, true);
	tu_peer_sel(r, "", "app=db");
	tu_peer_block(r, "10.0.0.0/8", NULL);
	tu_port(r, NPD_PROTO_TCP, 0, 0, "pg");
	r = tu_rule(eg, true);
	tu_port(r, NPD_PROTO_TCP, 0, 0, "pg");
	npd_store_add_policy(s, eg);
	rs = compile(s);

	/* Ingress: peer on src, (destination pod IP, its own port) on dst,dst. */
	peer = set_of_rule(rs, AF_INET, "a/web ingress[0] from[0] ports[0]", 0);
	ports = set_of_rule(rs, AF_INET, "a/web ingress[0] from[0] ports[0]", 1);
	ck_assert_ptr_nonnull(ports);
	ck_assert(set_has(peer, "10.0.2.1"));
	ck_assert_int_eq(ports->type, NPD_SET_HASH_IP_PORT);
	ck_assert_uint_eq(ports->n_entries, 2);
	ck_assert(set_has(ports, "10.0.0.1,tcp:8080") && set_has(ports, "10.0.0.2,tcp:9090"));
	/* An ipBlock source and a named port work on ingress: the destination is our pod. */
	ck_assert_ptr_eq(set_of_rule(rs, AF_INET, "a/web ingress[0] from[1] ports[0]", 1), ports);
	npd_buf_init(&b);
	t = text(rs);
	npd_buf_printf(&b, "-m set --match-set %s src -m set --match-set %s dst,dst", peer->name,
		       ports->name);
	ck_assert_ptr_nonnull(strstr(t, b.data));

	/* Egress: the peer's pods that define the name, cluster-wide, on dst,dst alone. */
	ports = set_of_rule(rs, AF_INET, "a/cli egress[0] to[0] ports[0]", 0);
	ck_assert_ptr_nonnull(ports);
	ck_assert_uint_eq(ports->n_entries, 2);
	ck_assert(set_has(ports, "10.0.1.1,tcp:5432") && set_has(ports, "10.0.1.2,tcp:5433"));
	ck_assert_ptr_null(set_of_rule(rs, AF_INET, "a/cli egress[0] to[0] ports[0]", 1));
	/* ipBlock + named port on egress: the pods inside the block that define the name, and
	 * never an address that is no pod's. */
	ports = set_of_rule(rs, AF_INET, "a/cli egress[0] to[1] ports[0]", 0);
	ck_assert_ptr_nonnull(ports);
	ck_assert_int_eq(ports->type, NPD_SET_HASH_IP_PORT);
	ck_assert_uint_eq(ports->n_entries, 2);
	ck_assert(set_has(ports, "10.0.1.1,tcp:5432") && set_has(ports, "10.0.1.2,tcp:5433"));
	ck_assert_ptr_null(set_of_rule(rs, AF_INET, "a/cli egress[0] to[1] ports[0]", 1));
	/* No peers: every pod cluster-wide defining the name. */
	ports = set_of_rule(rs, AF_INET, "a/cli egress[1] ports[0]", 0);
	ck_assert_ptr_nonnull(ports);
	ck_assert_uint_eq(ports->n_entries, 3);
	ck_assert(set_has(ports, "192.168.5.5,tcp:6432"));
	free(t);
	npd_buf_fini(&b);
	npd_ruleset_free(rs);
	npd_store_free(s);
}
END_TEST

START_TEST(ports_ranges_and_protocols)
{
	struct npd_store *s = npd_store_new();
	struct npd_policy *p = tu_policy("a", "ports", "", true, false);
	struct npd_policy_rule *r;
	struct npd_ruleset *rs;
	char *t;

	npd_store_add_pod(s, tu_pod("a", "x", "", "10.0.0.1", "node1"));
	r = tu_rule(p, false);
	tu_port(r, NPD_PROTO_TCP, 8000, 8100, NULL);
	tu_port(r, NPD_PROTO_SCTP, 5000, 0, NULL);
	tu_port(r, NPD_PROTO_UDP, 0, 0, NULL);
	npd_store_add_policy(s, p);
	rs = compile(s);
	t = text(rs);
	ck_assert_ptr_nonnull(strstr(t, "-p tcp -m tcp --dport 8000:8100 -m comment --comment "
					"\"a/ports ingress[0] ports[0]\""));
	ck_assert_ptr_nonnull(strstr(t, "-p sctp -m sctp --dport 5000 -m comment --comment "
					"\"a/ports ingress[0] ports[1]\""));
	ck_assert_ptr_nonnull(strstr(t, "-p udp -m comment --comment \"a/ports ingress[0] "
					"ports[2]\""));
	free(t);
	npd_ruleset_free(rs);
	npd_store_free(s);
}
END_TEST

START_TEST(policy_types_decide_isolation)
{
	struct npd_store *s = npd_store_new();
	struct npd_policy *p = tu_policy("a", "egress-only", "app=x", false, true);
	struct npd_ruleset *rs;
	char name[NPD_CHAIN_NAMELEN], set[NPD_SET_NAMELEN];

	npd_store_add_pod(s, tu_pod("a", "x", "app=x", "10.0.0.1", "node1"));
	npd_store_add_pod(s, tu_pod("a", "y", "app=y", "10.0.0.2", "node1"));
	tu_rule(p, true);
	npd_store_add_policy(s, p);
	rs = compile(s);
	group_chain(name, "E", "a/egress-only");
	ck_assert_ptr_nonnull(npd_ruleset_find_chain(&rs->v4, name));
	group_chain(name, "I", "a/egress-only");
	ck_assert_ptr_null(npd_ruleset_find_chain(&rs->v4, name));
	/* Only x is in the group: y is not selected. */
	group_set_name(set, "E", "a/egress-only", '4');
	ck_assert_uint_eq(npd_ruleset_find_set(rs, set)->n_entries, 1);
	ck_assert(set_has(npd_ruleset_find_set(rs, set), "10.0.0.1"));
	/* NPD-FORWARD, the egress dispatch (NPD-FWD-E and one of its chains), the egress
	 * group's chain, NPD-PE-egress-only, the egress tails. */
	ck_assert_uint_eq(rs->v4.n_chains, 7);
	ck_assert_ptr_nonnull(npd_ruleset_find_chain(&rs->v4, "NPD-DENY-E"));
	ck_assert_ptr_null(npd_ruleset_find_chain(&rs->v4, "NPD-DENY-I"));
	/* Established, the mid-stream TCP from x and, x being open for ingress, toward x (a
	 * deny on one side must not resume as replies), the group's egress. */
	{
		const struct npd_chain *fwd = npd_ruleset_find_chain(&rs->v4, "NPD-FORWARD");
		char iso[NPD_SET_NAMELEN];

		iso_set_name(iso, "E", '4');
		ck_assert_uint_eq(fwd->n_rules, 4);
		ck_assert(matches_set(&fwd->rules[1], iso, false, true));
		ck_assert(matches_set(&fwd->rules[2], iso, true, true));
		ck_assert(fwd->rules[2].tcp_not_syn && fwd->rules[2].proto == 6);
		ck_assert_int_eq(fwd->rules[2].ctstate, NPD_CT_NEW);
		ck_assert_str_eq(fwd->rules[2].jump, "NPD-PICKUP-E");
		ck_assert_str_eq(fwd->rules[2].comment, "mid-stream TCP to egress-isolated pods");
		ck_assert_str_eq(fwd->rules[3].jump, "NPD-FWD-E");
		ck_assert(matches_set(&fwd->rules[3], iso, false, true));
		group_chain(name, "E", "a/egress-only");
		ck_assert(matches_set(dispatch_rule(&rs->v4, name), set, false, true));
	}
	npd_ruleset_free(rs);
	npd_store_free(s);
}
END_TEST

START_TEST(only_local_selectable_pods_get_chains)
{
	struct npd_store *s = npd_store_new();
	struct npd_policy *p = tu_policy("a", "deny", "", true, false);
	struct npd_pod *pod;
	struct npd_ruleset *rs;
	const struct npd_set *set;
	char name[NPD_CHAIN_NAMELEN], gset[NPD_SET_NAMELEN];

	npd_store_add_pod(s, tu_pod("a", "local", "", "10.0.0.1", "node1"));
	npd_store_add_pod(s, tu_pod("a", "remote", "", "10.0.0.2", "node2"));
	pod = tu_pod("a", "hostnet", "", "192.168.0.5", "node1");
	pod->host_network = true;
	npd_store_add_pod(s, pod);
	pod = tu_pod("a", "done", "", "10.0.0.4", "node1");
	pod->phase = NPD_PHASE_SUCCEEDED;
	npd_store_add_pod(s, pod);
	npd_store_add_pod(s, tu_pod("a", "pending", "", NULL, "node1"));
	tu_peer_sel(tu_rule(p, false), NULL, "");
	npd_store_add_policy(s, p);
	rs = compile(s);

	group_chain(name, "I", "a/deny");
	ck_assert_ptr_nonnull(npd_ruleset_find_chain(&rs->v4, name));
	/* NPD-FORWARD, the ingress dispatch (two chains), the group's chain, the policy's
	 * chain, the ingress tails; the group holds only the local running pod. */
	ck_assert_uint_eq(rs->v4.n_chains, 7);
	group_set_name(gset, "I", "a/deny", '4');
	ck_assert_uint_eq(npd_ruleset_find_set(rs, gset)->n_entries, 1);
	ck_assert(set_has(npd_ruleset_find_set(rs, gset), "10.0.0.1"));
	ck_assert_ptr_null(npd_ruleset_find_chain(&rs->v6, name));
	/* Established, the mid-stream TCP to and from the pod, the dispatch; the group's jump
	 * there. */
	ck_assert_uint_eq(npd_ruleset_find_chain(&rs->v4, "NPD-FORWARD")->n_rules, 4);
	ck_assert_str_eq(npd_ruleset_find_chain(&rs->v4, "NPD-FORWARD")->rules[3].jump,
			 "NPD-FWD-I");
	ck_assert(matches_set(dispatch_rule(&rs->v4, name), gset, true, true));
	set = set_of_rule(rs, AF_INET, "a/deny ingress[0] from[0]", 0);
	ck_assert_ptr_nonnull(set);
	ck_assert_uint_eq(set->n_entries, 2);
	ck_assert(set_has(set, "10.0.0.1") && set_has(set, "10.0.0.2"));
	npd_ruleset_free(rs);

	/* A node without local pods still gets the hook and its established rule. */
	{
		struct npd_compile_opts o;

		npd_compile_opts_init(&o);
		o.node_name = "node3";
		rs = compile_opts(s, &o, NULL);
		ck_assert_uint_eq(rs->v4.n_chains, 1);
		ck_assert_uint_eq(rs->n_sets, 0);
		npd_ruleset_free(rs);
	}
	npd_store_free(s);
}
END_TEST

START_TEST(reused_ip_follows_new_pod)
{
	struct npd_store *s = npd_store_new();
	struct npd_policy *p = tu_policy("a", "p", "", true, false);
	struct npd_ruleset *rs;
	const struct npd_set *x, *y;
	const struct npd_chain *fwd;
	char name[NPD_CHAIN_NAMELEN], gset[NPD_SET_NAMELEN];

	/* old still claims 10.0.0.9 (its deletion has not arrived yet); new was added later. */
	npd_store_add_pod(s, tu_pod("a", "old", "app=x", "10.0.0.9", "node1"));
	npd_store_add_pod(s, tu_pod("a", "new", "app=y", "10.0.0.9", "node1"));
	tu_peer_sel(tu_rule(p, false), NULL, "app=x");
	tu_peer_sel(&p->ingress[0], NULL, "app=y");
	npd_store_add_policy(s, p);
	rs = compile(s);
	x = set_of_rule(rs, AF_INET, "a/p ingress[0] from[0]", 0);
	y = set_of_rule(rs, AF_INET, "a/p ingress[0] from[1]", 0);
	ck_assert_uint_eq(x->n_entries, 0);
	ck_assert_uint_eq(y->n_entries, 1);
	fwd = npd_ruleset_find_chain(&rs->v4, "NPD-FORWARD");
	ck_assert_uint_eq(fwd->n_rules, 4);
	group_chain(name, "I", "a/p");
	ck_assert_str_eq(fwd->rules[3].jump, "NPD-FWD-I");
	ck_assert_ptr_nonnull(dispatch_rule(&rs->v4, name));
	/* Both pods are in the group, but its set holds the address once: the newest pod's. */
	group_set_name(gset, "I", "a/p", '4');
	ck_assert_uint_eq(npd_ruleset_find_set(rs, gset)->n_entries, 1);
	npd_ruleset_free(rs);
	npd_store_free(s);
}
END_TEST

START_TEST(invalid_policy_isolates_and_allows_nothing)
{
	struct npd_store *s = npd_store_new();
	struct npd_policy *p = tu_policy("a", "broken", "", true, false);
	struct npd_ruleset *rs;
	char pod[NPD_CHAIN_NAMELEN], pol[NPD_CHAIN_NAMELEN];
	const struct npd_chain *c;

	npd_store_add_pod(s, tu_pod("a", "x", "", "10.0.0.1", "node1"));
	tu_rule(p, false); /* would allow everything */
	p->invalid = true;
	p->invalid_reason = npd_xstrdup("bad cidr");
	npd_store_add_policy(s, p);
	rs = compile(s);
	group_chain(pod, "I", "a/broken");
	expected_chain(pol, "PI", "a/broken");
	c = npd_ruleset_find_chain(&rs->v4, pol);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(c->n_rules, 0);
	c = npd_ruleset_find_chain(&rs->v4, pod);
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->rules[1].jump, pol);
	ck_assert_str_eq(c->rules[c->n_rules - 1].jump, "NPD-DENY-I");
	npd_ruleset_free(rs);
	npd_store_free(s);
}
END_TEST

START_TEST(over_limit_policy_is_reported_others_compile)
{
	struct npd_store *s = npd_store_new();
	struct npd_policy *big = tu_policy("a", "big", "", true, false);
	struct npd_policy *ok = tu_policy("a", "ok", "", true, false);
	struct npd_compile_opts o;
	struct npd_diags d;
	struct npd_ruleset *rs;
	struct npd_policy_rule *r;
	char name[NPD_CHAIN_NAMELEN];

	npd_store_add_pod(s, tu_pod("a", "x", "", "10.0.0.1,fd00::1", "node1"));
	r = tu_rule(big, false);
	tu_peer_sel(r, NULL, "app=1");
	tu_peer_sel(r, NULL, "app=2");
	tu_port(r, NPD_PROTO_TCP, 1, 0, NULL);
	tu_port(r, NPD_PROTO_TCP, 2, 0, NULL);
	r = tu_rule(ok, false);
	tu_port(r, NPD_PROTO_TCP, 80, 0, NULL);
	npd_store_add_policy(s, big);
	npd_store_add_policy(s, ok);
	npd_compile_opts_init(&o);
	o.node_name = "node1";
	o.max_rules_per_policy = 3;
	npd_diags_init(&d);
	rs = compile_opts(s, &o, &d);
	ck_assert_uint_eq(d.n, 1); /* once, though it fails in both families */
	ck_assert_int_eq(d.v[0].kind, NPD_DIAG_LIMIT);
	ck_assert_str_eq(d.v[0].ns, "a");
	ck_assert_str_eq(d.v[0].name, "big");
	expected_chain(name, "PI", "a/big");
	ck_assert_uint_eq(npd_ruleset_find_chain(&rs->v4, name)->n_rules, 0);
	expected_chain(name, "PI", "a/ok");
	ck_assert_uint_eq(npd_ruleset_find_chain(&rs->v4, name)->n_rules, 1);
	ck_assert_uint_eq(npd_ruleset_find_chain(&rs->v6, name)->n_rules, 1);
	ck_assert_uint_eq(peer_sets(rs), 0); /* the skipped policy's peers left no sets behind */
	npd_diags_fini(&d);
	npd_ruleset_free(rs);
	npd_store_free(s);
}
END_TEST

/* A TCP packet to port 80 from src to dst through node1's rules. */
static enum tu_verdict
verdict(const struct npd_ruleset *rs, const char *src, const char *dst)
{
	struct tu_packet p = {.proto = 6, .dport = 80};

	ck_assert_int_eq(npd_addr_parse(src, &p.src), 0);
	ck_assert_int_eq(npd_addr_parse(dst, &p.dst), 0);
	return tu_eval(rs, &p, NULL);
}

/* At the set-member bound the peer set is emitted and the policy admits; one member over
 * (here in IPv6 only, found after the IPv4 chain was emitted) it fails closed in both
 * families, its set is not emitted, and another policy of the same pod still admits. */
START_TEST(set_member_bound_fails_closed)
{
	struct npd_store *s = npd_store_new();
	struct npd_policy *cli = tu_policy("a", "from-cli", "app=srv", true, false);
	struct npd_policy *ops = tu_policy("a", "from-ops", "app=srv", true, false);
	const struct npd_diag *dg;
	struct npd_compile_opts o;
	struct npd_ruleset *rs;
	char name[NPD_CHAIN_NAMELEN];
	struct npd_diags d;
	int i;

	npd_store_add_pod(s, tu_pod("a", "srv", "app=srv", "10.0.0.1,fd00::1", "node1"));
	for (i = 1; i <= 3; i++) {
		char pod[16], ips[64];

		snprintf(pod, sizeof(pod), "c%d", i);
		snprintf(ips, sizeof(ips), "10.0.1.%d,fd00:1::%d", i, i);
		npd_store_add_pod(s, tu_pod("a", pod, "app=cli", ips, "node2"));
	}
	tu_peer_sel(tu_rule(cli, false), NULL, "app=cli");
	tu_peer_block(tu_rule(ops, false), "192.168.0.0/16", "");
	npd_store_add_policy(s, cli);
	npd_store_add_policy(s, ops);
	npd_compile_opts_init(&o);
	ck_assert_uint_eq(o.max_set_members, NPD_LIMIT_SET_MEMBERS);
	o.node_name = "node1";
	o.max_set_members = 3;
	npd_diags_init(&d);
	rs = compile_opts(s, &o, &d);
	ck_assert_uint_eq(d.n, 0);
	ck_assert_uint_eq(peer_sets(rs), 3); /* app=cli in both families, the IPv4 ipBlock */
	ck_assert_int_eq(verdict(rs, "10.0.1.1", "10.0.0.1"), TU_PASS);
	ck_assert_int_eq(verdict(rs, "fd00:1::3", "fd00::1"), TU_PASS);
	ck_assert_int_eq(verdict(rs, "10.0.2.1", "10.0.0.1"), TU_REJECT);
	npd_ruleset_free(rs);

	npd_store_add_pod(s, tu_pod("a", "c4", "app=cli", "fd00:1::4", "node2"));
	rs = compile_opts(s, &o, &d);
	ck_assert_uint_eq(d.n, 1);
	dg = &d.v[0];
	ck_assert_int_eq(dg->kind, NPD_DIAG_LIMIT);
	ck_assert_str_eq(dg->limit, "set_members");
	ck_assert_str_eq(dg->obj_kind, "NetworkPolicy");
	ck_assert_str_eq(dg->name, "from-cli");
	ck_assert_str_eq(dg->path, "spec.ingress[0].from[0]");
	ck_assert_msg(strstr(dg->msg, "-6 (pods ns=a app=cli) needs more than the limit of 3"),
		      "%s", dg->msg);
	expected_chain(name, "PI", "a/from-cli");
	ck_assert_uint_eq(npd_ruleset_find_chain(&rs->v4, name)->n_rules, 0);
	ck_assert_uint_eq(npd_ruleset_find_chain(&rs->v6, name)->n_rules, 0);
	ck_assert_uint_eq(peer_sets(rs), 1); /* only the ipBlock's */
	for (i = 0; i < (int)rs->n_sets; i++)
		ck_assert(rs->sets[i].type == NPD_SET_HASH_NET || is_local_set(&rs->sets[i]));
	ck_assert_int_eq(verdict(rs, "10.0.1.1", "10.0.0.1"), TU_REJECT);
	ck_assert_int_eq(verdict(rs, "fd00:1::3", "fd00::1"), TU_REJECT);
	ck_assert_int_eq(verdict(rs, "192.168.1.1", "10.0.0.1"), TU_PASS);
	npd_ruleset_free(rs);

	/* Back at the bound: admitted again. */
	npd_store_del(s, NPD_KIND_POD, "a", "c4");
	npd_diags_reset(&d);
	rs = compile_opts(s, &o, &d);
	ck_assert_uint_eq(d.n, 0);
	ck_assert_int_eq(verdict(rs, "10.0.1.1", "10.0.0.1"), TU_PASS);
	npd_diags_fini(&d);
	npd_ruleset_free(rs);
	npd_store_free(s);
}
END_TEST

START_TEST(output_is_deterministic)
{
	struct npd_store *s = npd_store_new();
	struct npd_ruleset *a, *b;
	char *ta, *tb;
	int i;

	for (i = 0; i < 40; i++) {
		char ns[16], name[16], ip[32];
		struct npd_policy *p;

		snprintf(ns, sizeof(ns), "ns%d", i % 5);
		snprintf(name, sizeof(name), "pod%d", i);
		snprintf(ip, sizeof(ip), "10.1.%d.%d,fd00::%x", i / 200, i % 200, i + 1);
		npd_store_add_pod(
		    s, tu_pod(ns, name, i % 2 ? "app=a" : "app=b", ip, i % 3 ? "node1" : "node2"));
		snprintf(name, sizeof(name), "pol%d", i);
		p = tu_policy(ns, name, i % 2 ? "app=a" : "", true, i % 4 == 0);
		tu_peer_sel(tu_rule(p, false), i % 3 ? "" : NULL, i % 2 ? "app=b" : "app=a");
		tu_peer_block(tu_rule(p, true), "10.0.0.0/8", "10.1.0.0/16");
		npd_store_add_policy(s, p);
	}
	a = compile(s);
	b = compile(s);
	ta = text(a);
	tb = text(b);
	ck_assert_str_eq(ta, tb);
	ck_assert(npd_ruleset_rule_count(a) > 100);
	free(ta);
	free(tb);
	npd_ruleset_free(a);
	npd_ruleset_free(b);
	npd_store_free(s);
}
END_TEST

/* Every kernel rule maps back to what the operator wrote: checked against the rule comments
 * (an independent record of the same facts) on a dual-stack pod, both directions. */
START_TEST(rules_map_to_their_origin)
{
	struct npd_store *s = npd_store_new();
	struct npd_policy *p = tu_policy("shop", "web-pol", "app=web", true, true);
	struct npd_policy_rule *r;
	struct npd_ruleset *rs;
	struct npd_origin o;
	char want[256];
	size_t f, i, j, n_policy = 0, n_deny = 0;
	int32_t spec;

	npd_store_add_namespace(s, tu_ns("shop", NULL));
	npd_store_add_pod(s, tu_pod("shop", "web-0", "app=web", "10.0.0.10,fd00::10", "node1"));
	r = tu_rule(p, false);
	tu_peer_sel(r, NULL, "app=cli");
	tu_peer_block(r, "192.168.0.0/16", NULL);
	tu_port(r, NPD_PROTO_TCP, 80, 0, NULL);
	tu_port(r, NPD_PROTO_UDP, 53, 0, NULL);
	tu_rule(p, false);
	tu_peer_block(tu_rule(p, true), "fd00::/8", NULL);
	npd_store_add_policy(s, p);
	rs = compile(s);
	for (f = 0; f < 2; f++) {
		const struct npd_table *t = f ? &rs->v6 : &rs->v4;

		for (i = 0; i < t->n_chains; i++) {
			const struct npd_chain *c = &t->chains[i];

			for (j = 0; j < c->n_rules; j++) {
				const struct npd_rule *rule = &c->rules[j];
				bool has =
				    npd_ruleset_find_origin(rs, t->family, c->name, j, &o, &spec);

				if (!strncmp(c->name, "NPD-PI-", 7) ||
				    !strncmp(c->name, "NPD-PE-", 7)) {
					ck_assert(has);
					ck_assert_int_eq(o.kind, NPD_ORIGIN_POLICY);
					snprintf(want, sizeof(want), "%s/%s %s[%d]", o.ns, o.name,
						 npd_origin_dir_name(o.dir), spec);
					ck_assert_msg(!strncmp(rule->comment, want, strlen(want)),
						      "%s vs %s", rule->comment, want);
					ck_assert_str_eq(o.name, "web-pol");
					ck_assert_int_eq(o.dir, c->name[5] == 'E'
								    ? NPD_ORIGIN_EGRESS
								    : NPD_ORIGIN_INGRESS);
					n_policy++;
				} else if (rule->target == NPD_T_REJECT) {
					/* A reject counts per pod through the isolated pods'
					 * set, not as a rule. */
					ck_assert(!has);
					snprintf(want, sizeof(want), "netpold: %s",
						 c->name[4] == 'P' ? "mid-stream TCP"
								   : "default deny");
					ck_assert_msg(!strncmp(rule->comment, want, strlen(want)),
						      "%s", rule->comment);
					n_deny++;
				} else {
					ck_assert(!has);
				}
			}
		}
	}
	/* Ingress, v4: rule 0 is 2 peers x 2 ports, rule 1 one rule; v6: the v4 block is
	 * skipped, so 1 x 2 + 1. Egress: the v6 block, only in v6. */
	ck_assert_uint_eq(n_policy, (2 + 2 + 1) + (2 + 1 + 1));
	/* Per direction and family: the pickups' resets at either end, TCP's reset,
	 * everything else's reject, and in each tail the last one without a set match. */
	ck_assert_uint_eq(n_deny, 4 * 6);
	ck_assert(!npd_ruleset_find_origin(rs, AF_INET, "NPD-FORWARD", 0, &o, &spec));
	ck_assert(!npd_ruleset_find_origin(rs, AF_INET, "NPD-NOPE", 0, &o, &spec));
	npd_ruleset_free(rs);
	npd_store_free(s);
}
END_TEST

START_TEST(bad_options_rejected)
{
	struct npd_store *s = npd_store_new();
	struct npd_compile_opts o;
	struct npd_ruleset *rs = NULL;

	npd_compile_opts_init(&o);
	ck_assert_int_eq(npd_compile(s, &o, NULL, &rs), -EINVAL);
	ck_assert_ptr_null(rs);
	npd_store_free(s);
}
END_TEST

TU_MAIN("compile", names_are_stable_identities, chain_names_fit_and_scatter,
	slash_names_get_distinct_chains, forward_chain_layout, equal_selectors_share_one_set,
	ipblock_sets, named_ports_resolve_at_destination, ports_ranges_and_protocols,
	policy_types_decide_isolation, only_local_selectable_pods_get_chains,
	reused_ip_follows_new_pod, invalid_policy_isolates_and_allows_nothing,
	over_limit_policy_is_reported_others_compile, set_member_bound_fails_closed,
	output_is_deterministic, rules_map_to_their_origin, bad_options_rejected)
