/* check_counters.c: the rule counter cache on compiled rulesets: totals by origin summed over
 * chains and families, chain rewrites, frozen and dropped totals, the exposition, the state
 * file, and a seeded random run against a simulated kernel that knows the true totals; the
 * same for the per-entry counters of counted sets of local pods (rulesets built by hand). */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npd/compile.h"
#include "npd/buf.h"
#include "npd/counters.h"
#include "npd/mem.h"
#include "testutil.h"

/* shop/web-0 (dual stack) and shop/web-1 are local; web-pol admits app=cli on TCP 80 and
 * UDP 53 (rule 0) and everything from 10.9.0.0/16 (rule 1). */
static struct npd_store *
cluster(void)
{
	struct npd_store *s = npd_store_new();
	struct npd_policy *p = tu_policy("shop", "web-pol", "app=web", true, false);
	struct npd_policy_rule *r;

	npd_store_add_namespace(s, tu_ns("shop", NULL));
	npd_store_add_pod(s, tu_pod("shop", "web-0", "app=web", "10.0.0.10,fd00::10", "node1"));
	npd_store_add_pod(s, tu_pod("shop", "web-1", "app=web", "10.0.0.11", "node1"));
	npd_store_add_pod(s, tu_pod("shop", "cli-0", "app=cli", "10.0.1.10,fd00::1:10", "node2"));
	r = tu_rule(p, false);
	tu_peer_sel(r, NULL, "app=cli");
	tu_port(r, NPD_PROTO_TCP, 80, 0, NULL);
	tu_port(r, NPD_PROTO_UDP, 53, 0, NULL);
	tu_peer_block(tu_rule(p, false), "10.9.0.0/16", NULL);
	npd_store_add_policy(s, p);
	return s;
}

/* A simulated kernel: one counter pair per rule of a ruleset, index-aligned. */
struct kernel {
	const struct npd_ruleset *rs;
	uint64_t *pk[2], *by[2]; /* per family, flattened over chains */
};

static const struct npd_table *
table(const struct npd_ruleset *rs, int f)
{
	return f ? &rs->v6 : &rs->v4;
}

static size_t
flat(const struct npd_table *t, size_t chain, size_t rule)
{
	size_t i, n = 0;

	for (i = 0; i < chain; i++)
		n += t->chains[i].n_rules;
	return n + rule;
}

static void
kernel_init(struct kernel *k, const struct npd_ruleset *rs)
{
	int f;

	k->rs = rs;
	for (f = 0; f < 2; f++) {
		size_t n = npd_ruleset_rule_count(rs) + 1;

		k->pk[f] = npd_xcalloc(n, sizeof(uint64_t));
		k->by[f] = npd_xcalloc(n, sizeof(uint64_t));
	}
}

static void
kernel_fini(struct kernel *k)
{
	int f;

	for (f = 0; f < 2; f++) {
		free(k->pk[f]);
		free(k->by[f]);
	}
}

static void
kernel_read(const struct kernel *k, struct npd_counters *c)
{
	size_t i, j;
	int f;

	for (f = 0; f < 2; f++) {
		const struct npd_table *t = table(k->rs, f);

		for (i = 0; i < t->n_chains; i++)
			for (j = 0; j < t->chains[i].n_rules; j++)
				npd_counters_feed(t->family, t->chains[i].name, j,
						  k->pk[f][flat(t, i, j)], k->by[f][flat(t, i, j)],
						  c);
	}
}

/* Finds the chain whose rule j has the given origin; returns its index or -1. */
static long
find_rule(const struct npd_table *t, enum npd_origin_kind kind, int32_t want, size_t nth,
	  size_t *rule)
{
	size_t i, j, seen = 0;

	for (i = 0; i < t->n_chains; i++)
		for (j = 0; j < t->chains[i].n_rules; j++) {
			struct npd_origin o;
			int32_t spec;

			if (!npd_chain_rule_origin(&t->chains[i], j, &o, &spec) || o.kind != kind ||
			    spec != want)
				continue;
			if (seen++ == nth) {
				*rule = j;
				return (long)i;
			}
		}
	return -1;
}

static void
hit(struct kernel *k, int f, enum npd_origin_kind kind, int32_t spec, size_t nth, uint64_t n)
{
	const struct npd_table *t = table(k->rs, f);
	size_t rule;
	long ch = find_rule(t, kind, spec, nth, &rule);

	ck_assert_int_ge(ch, 0);
	k->pk[f][flat(t, (size_t)ch, rule)] += n;
	k->by[f][flat(t, (size_t)ch, rule)] += 100 * n;
}

static uint64_t
packets(const struct npd_counters *c, enum npd_origin_kind kind, const char *name, int32_t rule)
{
	uint64_t p = 0, b = 0;

	ck_assert_int_eq(npd_counters_get(c, kind, NPD_ORIGIN_INGRESS, "shop", name, rule, &p, &b),
			 0);
	ck_assert_uint_eq(b, 100 * p);
	return p;
}

/* What a reading of the compiled counted set of direction dir (the pods it isolates)
 * holding ip passes on: its entry's kernel counters, packets n and bytes 100 n. */
static void
group_read(const struct npd_ruleset *rs, struct npd_counters *c, enum npd_origin_dir dir,
	   const char *ip, uint64_t n)
{
	struct npd_set_entry e;
	size_t i, j, found = 0;

	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(npd_addr_parse(ip, &e.addr), 0);
	for (i = 0; i < rs->n_sets; i++) {
		const struct npd_set *set = &rs->sets[i];

		if (!set->counters || set->count_dir != dir)
			continue;
		for (j = 0; j < set->n_entries; j++)
			if (!npd_addr_cmp(&set->entries[j].addr, &e.addr)) {
				npd_counters_feed_set(set->name, &e, n, 100 * n, c);
				found++;
			}
	}
	ck_assert_uint_eq(found, 1);
}

/* What most tests start from: the cluster compiled, a cache that took its ruleset, and a
 * simulated kernel holding its rules, every counter at 0. */
struct fx {
	struct npd_store *s;
	struct npd_ruleset *rs;
	struct npd_counters *c;
	struct kernel k;
};

static void
fx_init(struct fx *fx)
{
	fx->s = cluster();
	fx->rs = tu_compile(fx->s);
	fx->c = npd_counters_new();
	kernel_init(&fx->k, fx->rs);
	npd_counters_applied(fx->c, fx->rs, NULL, fx->s);
}

static void
fx_fini(struct fx *fx)
{
	kernel_fini(&fx->k);
	npd_counters_free(fx->c);
	npd_ruleset_free(fx->rs);
	npd_store_free(fx->s);
}

START_TEST(totals_sum_rules_and_families)
{
	struct fx fx;
	uint64_t p, b;

	fx_init(&fx);
	/* Rule 0 is two kernel rules (two ports) in v4 and in v6; rule 1 one in v4 only. */
	ck_assert_uint_eq(packets(fx.c, NPD_ORIGIN_POLICY, "web-pol", 0), 0);
	hit(&fx.k, 0, NPD_ORIGIN_POLICY, 0, 0, 5);
	hit(&fx.k, 0, NPD_ORIGIN_POLICY, 0, 1, 7);
	hit(&fx.k, 1, NPD_ORIGIN_POLICY, 0, 0, 11);
	hit(&fx.k, 0, NPD_ORIGIN_POLICY, 1, 0, 3);
	kernel_read(&fx.k, fx.c);
	/* Default denies, from the entries of the pods' group sets: web-0 in both families,
	 * web-1 in v4. */
	group_read(fx.rs, fx.c, NPD_ORIGIN_INGRESS, "10.0.0.10", 2);
	group_read(fx.rs, fx.c, NPD_ORIGIN_INGRESS, "10.0.0.11", 4);
	group_read(fx.rs, fx.c, NPD_ORIGIN_INGRESS, "fd00::10", 8);
	ck_assert_uint_eq(packets(fx.c, NPD_ORIGIN_POLICY, "web-pol", 0), 23);
	ck_assert_uint_eq(packets(fx.c, NPD_ORIGIN_POLICY, "web-pol", 1), 3);
	ck_assert_uint_eq(packets(fx.c, NPD_ORIGIN_POD, "web-0", 99), 10);
	ck_assert_uint_eq(packets(fx.c, NPD_ORIGIN_POD, "web-1", -1), 4);
	/* A second reading adds only the growth. */
	hit(&fx.k, 0, NPD_ORIGIN_POLICY, 1, 0, 1);
	kernel_read(&fx.k, fx.c);
	kernel_read(&fx.k, fx.c);
	ck_assert_uint_eq(packets(fx.c, NPD_ORIGIN_POLICY, "web-pol", 1), 4);
	ck_assert_uint_eq(packets(fx.c, NPD_ORIGIN_POLICY, "web-pol", 0), 23);
	ck_assert_int_eq(npd_counters_get(fx.c, NPD_ORIGIN_POLICY, NPD_ORIGIN_EGRESS, "shop",
					  "web-pol", 0, &p, &b),
			 -ENOENT);
	ck_assert_int_eq(npd_counters_get(fx.c, NPD_ORIGIN_POLICY, NPD_ORIGIN_INGRESS, "shop",
					  "web-pol", 2, &p, &b),
			 -ENOENT);
	/* 2 policy rules + web-0 and web-1 denies. */
	ck_assert_uint_eq(npd_counters_count(fx.c), 4);
	fx_fini(&fx);
}
END_TEST

/* The deny tails' rule counters are every isolated pod's and count for nobody; each pod's
 * deny comes from its own entry in the isolated pods' sets. */
START_TEST(group_rules_count_for_nobody)
{
	struct fx fx;
	const struct npd_table *t;
	size_t i, j, rejects = 0;

	fx_init(&fx);
	for (int f = 0; f < 2; f++) {
		t = table(fx.rs, f);
		for (i = 0; i < t->n_chains; i++)
			for (j = 0; j < t->chains[i].n_rules; j++) {
				if (t->chains[i].rules[j].target != NPD_T_REJECT)
					continue;
				rejects++;
				fx.k.pk[f][flat(t, i, j)] += 1000;
				fx.k.by[f][flat(t, i, j)] += 100000;
			}
	}
	/* Per family the ingress deny and pickup tails, three rejects each. */
	ck_assert_uint_eq(rejects, 2 * 6);
	kernel_read(&fx.k, fx.c);
	ck_assert_uint_eq(packets(fx.c, NPD_ORIGIN_POD, "web-0", -1), 0);
	ck_assert_uint_eq(packets(fx.c, NPD_ORIGIN_POD, "web-1", -1), 0);
	group_read(fx.rs, fx.c, NPD_ORIGIN_INGRESS, "10.0.0.11", 3);
	ck_assert_uint_eq(packets(fx.c, NPD_ORIGIN_POD, "web-0", -1), 0);
	ck_assert_uint_eq(packets(fx.c, NPD_ORIGIN_POD, "web-1", -1), 3);
	fx_fini(&fx);
}
END_TEST

/* The commit that rewrote a chain restarted its kernel counters: the totals go on. */
START_TEST(rewrite_keeps_totals)
{
	struct fx fx;
	struct npd_plan plan;
	const struct npd_chain *write[1];
	size_t rule;
	long ch;

	fx_init(&fx);
	hit(&fx.k, 0, NPD_ORIGIN_POLICY, 1, 0, 10);
	kernel_read(&fx.k, fx.c);
	/* The commit rewrites the v4 policy chain: its counters restart at 0. */
	ch = find_rule(&fx.rs->v4, NPD_ORIGIN_POLICY, 1, 0, &rule);
	ck_assert_int_ge(ch, 0);
	memset(&plan, 0, sizeof(plan));
	plan.v4.family = AF_INET;
	plan.v4.commit = true;
	write[0] = &fx.rs->v4.chains[ch];
	plan.v4.write = write;
	plan.v4.n_write = 1;
	memset(fx.k.pk[0], 0, sizeof(uint64_t) * npd_ruleset_rule_count(fx.rs));
	memset(fx.k.by[0], 0, sizeof(uint64_t) * npd_ruleset_rule_count(fx.rs));
	npd_counters_applied(fx.c, fx.rs, &plan, fx.s);
	hit(&fx.k, 0, NPD_ORIGIN_POLICY, 1, 0, 4);
	kernel_read(&fx.k, fx.c);
	ck_assert_uint_eq(packets(fx.c, NPD_ORIGIN_POLICY, "web-pol", 1), 14);
	/* A drop without a known rewrite (a counter that went down) counts from zero. */
	fx.k.pk[0][flat(&fx.rs->v4, (size_t)ch, rule)] = 1;
	fx.k.by[0][flat(&fx.rs->v4, (size_t)ch, rule)] = 100;
	kernel_read(&fx.k, fx.c);
	ck_assert_uint_eq(packets(fx.c, NPD_ORIGIN_POLICY, "web-pol", 1), 15);
	fx_fini(&fx);
}
END_TEST

/* A total whose chain left the kernel freezes while its object exists, then goes. */
START_TEST(totals_freeze_then_go_with_their_object)
{
	struct fx fx;
	struct npd_ruleset *rs2;
	uint64_t p, b;

	fx_init(&fx);
	hit(&fx.k, 0, NPD_ORIGIN_POLICY, 0, 0, 6);
	kernel_read(&fx.k, fx.c);
	/* web-1 leaves; the policy stays and so does its total. */
	ck_assert_int_eq(npd_store_del(fx.s, NPD_KIND_POD, "shop", "web-1"), 1);
	ck_assert_int_eq(npd_store_del(fx.s, NPD_KIND_POD, "shop", "web-0"), 1);
	rs2 = tu_compile(fx.s);
	npd_counters_applied(fx.c, rs2, NULL, fx.s);
	ck_assert_uint_eq(packets(fx.c, NPD_ORIGIN_POLICY, "web-pol", 0), 6);
	ck_assert_int_eq(
	    npd_counters_get(fx.c, NPD_ORIGIN_POD, NPD_ORIGIN_INGRESS, "shop", "web-1", -1, &p, &b),
	    -ENOENT);
	/* Readings of rules no longer known are ignored. */
	kernel_read(&fx.k, fx.c);
	ck_assert_uint_eq(packets(fx.c, NPD_ORIGIN_POLICY, "web-pol", 0), 6);
	ck_assert_int_eq(npd_store_del(fx.s, NPD_KIND_POLICY, "shop", "web-pol"), 1);
	npd_counters_applied(fx.c, rs2, NULL, fx.s);
	ck_assert_uint_eq(npd_counters_count(fx.c), 0);
	npd_ruleset_free(rs2);
	fx_fini(&fx);
}
END_TEST

START_TEST(exposition)
{
	struct npd_store *s = cluster();
	struct npd_ruleset *rs = tu_compile(s);
	struct npd_counters *c = npd_counters_new();
	struct kernel k;
	struct npd_buf b;

	npd_buf_init(&b);
	npd_counters_format(c, &b);
	/* Empty: HELP and TYPE only. */
	ck_assert_ptr_nonnull(strstr(b.data, "# TYPE netpold_pod_denied_packets_total counter\n"));
	ck_assert_ptr_null(strstr(b.data, "{"));
	kernel_init(&k, rs);
	npd_counters_applied(c, rs, NULL, s);
	hit(&k, 0, NPD_ORIGIN_POLICY, 1, 0, 3);
	kernel_read(&k, c);
	npd_buf_reset(&b);
	npd_counters_format(c, &b);
	ck_assert_ptr_nonnull(strstr(b.data, "netpold_policy_rule_packets_total{namespace=\"shop\","
					     "policy=\"web-pol\",direction=\"ingress\",rule=\"1\"} "
					     "3\n"));
	ck_assert_ptr_nonnull(strstr(b.data, "netpold_policy_rule_bytes_total{namespace=\"shop\","
					     "policy=\"web-pol\",direction=\"ingress\",rule=\"1\"} "
					     "300\n"));
	ck_assert_ptr_nonnull(strstr(b.data, "netpold_pod_denied_packets_total{namespace=\"shop\","
					     "pod=\"web-1\",direction=\"ingress\"} 0\n"));
	ck_assert_ptr_nonnull(strstr(b.data, "# HELP netpold_policy_rule_packets_total "));
	npd_buf_fini(&b);
	kernel_fini(&k);
	npd_counters_free(c);
	npd_ruleset_free(rs);
	npd_store_free(s);
}
END_TEST

/* Save, load into a fresh cache (an agent restart), and go on counting. */
START_TEST(state_round_trip)
{
	struct fx fx;
	struct npd_counters *c2 = npd_counters_new();
	struct npd_buf a, b;

	npd_buf_init(&a);
	npd_buf_init(&b);
	fx_init(&fx);
	hit(&fx.k, 0, NPD_ORIGIN_POLICY, 0, 1, 9);
	kernel_read(&fx.k, fx.c);
	group_read(fx.rs, fx.c, NPD_ORIGIN_INGRESS, "fd00::10", 2);
	npd_counters_save(fx.c, &a);
	ck_assert_uint_gt(npd_counters_load(c2, a.data), 0);
	npd_buf_reset(&a);
	npd_counters_format(fx.c, &a);
	npd_counters_format(c2, &b);
	ck_assert_str_eq(a.data, b.data);
	/* Packets that arrived while no agent ran are counted at the first reading. */
	hit(&fx.k, 0, NPD_ORIGIN_POLICY, 0, 1, 1);
	kernel_read(&fx.k, c2);
	ck_assert_uint_eq(packets(c2, NPD_ORIGIN_POLICY, "web-pol", 0), 10);
	ck_assert_uint_eq(npd_counters_load(c2, "garbage\nT\t1\t0\tns\n"
						"T\t9\t0\tns\tn\t0\t1\t1\n"
						"K\tx|y|0\t1\t0\tns\tn\t0\t1\t1\n"),
			  0);
	ck_assert_uint_eq(npd_counters_count(c2), 0);
	npd_buf_fini(&b);
	npd_buf_fini(&a);
	npd_counters_free(c2);
	fx_fini(&fx);
}
END_TEST

/* Random hits, readings and rewrites against the true number of packets per origin. */
START_TEST(random_run_matches_true_totals)
{
	struct fx fx;
	uint64_t truth[2] = {0, 0}; /* web-pol rule 0, rule 1 */
	struct npd_plan plan;
	const struct npd_chain *write[8];
	int step, f, spec;
	size_t n, i;

	tu_seed("check_counters: random_run_matches_true_totals");
	fx_init(&fx);
	for (step = 0; step < 2000; step++) {
		switch (rand() % 4) {
		case 0:
		case 1:
			spec = rand() % 2;
			f = spec == 1 ? 0 : rand() % 2; /* rule 1 (a v4 block) exists in v4 only */
			n = (size_t)(rand() % 50);
			hit(&fx.k, f, NPD_ORIGIN_POLICY, spec, spec == 1 || f == 1 ? 0 : rand() % 2,
			    n);
			truth[spec] += n;
			break;
		case 2:
			kernel_read(&fx.k, fx.c);
			break;
		default:
			/* A commit rewriting some v4 chains: read first (as the agent does), then
			 * the kernel restarts their counters. */
			kernel_read(&fx.k, fx.c);
			memset(&plan, 0, sizeof(plan));
			plan.v4.family = AF_INET;
			plan.v4.commit = true;
			plan.v4.write = write;
			for (i = 0; i < fx.rs->v4.n_chains && plan.v4.n_write < 8; i++) {
				const struct npd_chain *ch = &fx.rs->v4.chains[i];
				size_t j;

				if (rand() % 2)
					continue;
				write[plan.v4.n_write++] = ch;
				for (j = 0; j < ch->n_rules; j++) {
					fx.k.pk[0][flat(&fx.rs->v4, i, j)] = 0;
					fx.k.by[0][flat(&fx.rs->v4, i, j)] = 0;
				}
			}
			npd_counters_applied(fx.c, fx.rs, &plan, fx.s);
		}
	}
	kernel_read(&fx.k, fx.c);
	ck_assert_uint_eq(packets(fx.c, NPD_ORIGIN_POLICY, "web-pol", 0), truth[0]);
	ck_assert_uint_eq(packets(fx.c, NPD_ORIGIN_POLICY, "web-pol", 1), truth[1]);
	fx_fini(&fx);
}
END_TEST

/* Counted sets, built by hand as the compiler builds its sets of isolated local pods:
 * ingress v4 (web-0, web-1 and an address no pod owns), ingress v6 (web-0), egress v4
 * (web-0); and a peer set without counters, whose entries count for nobody. */
#define SET_I "npd-00000000000000a1-4"
#define SET_E "npd-00000000000000a2-4"
#define SET_6 "npd-00000000000000a3-6"
#define SET_PEER "npd-00000000000000b1-4"

static void
add_set(struct npd_ruleset *rs, const char *name, uint8_t family, bool counted,
	enum npd_origin_dir dir, const char *ips)
{
	struct npd_set *set = npd_ruleset_add_set(rs, name, NPD_SET_HASH_IP, family, "group");
	char *copy = npd_xstrdup(ips), *ip, *save = NULL;

	set->counters = counted;
	set->count_dir = dir;
	for (ip = strtok_r(copy, ",", &save); ip; ip = strtok_r(NULL, ",", &save)) {
		struct npd_set_entry e = {0};

		ck_assert_int_eq(npd_addr_parse(ip, &e.addr), 0);
		npd_ruleset_add_entry(set, &e);
	}
	free(copy);
}

static struct npd_ruleset *
group_sets(void)
{
	struct npd_ruleset *rs = npd_ruleset_new();

	add_set(rs, SET_I, AF_INET, true, NPD_ORIGIN_INGRESS, "10.0.0.10,10.0.0.11,10.0.0.99");
	add_set(rs, SET_6, AF_INET6, true, NPD_ORIGIN_INGRESS, "fd00::10");
	add_set(rs, SET_E, AF_INET, true, NPD_ORIGIN_EGRESS, "10.0.0.10");
	add_set(rs, SET_PEER, AF_INET, false, NPD_ORIGIN_INGRESS, "10.0.0.10,10.0.1.10");
	npd_ruleset_seal(rs);
	return rs;
}

/* A simulated kernel of set entry counters: every entry of every set of rs, bytes 100 a
 * packet; a reading feeds them all, as listing the kernel's sets would. */
struct skernel {
	const struct npd_ruleset *rs;
	uint64_t pk[16];
};

static size_t
slot(const struct skernel *k, const char *set, const char *ip)
{
	struct npd_addr a;
	size_t i, j, n = 0;

	ck_assert_int_eq(npd_addr_parse(ip, &a), 0);
	for (i = 0; i < k->rs->n_sets; i++)
		for (j = 0; j < k->rs->sets[i].n_entries; j++, n++)
			if (!strcmp(k->rs->sets[i].name, set) &&
			    !npd_addr_cmp(&k->rs->sets[i].entries[j].addr, &a))
				return n;
	ck_abort_msg("no entry %s %s", set, ip);
	return 0;
}

static void
shit(struct skernel *k, const char *set, const char *ip, uint64_t n)
{
	k->pk[slot(k, set, ip)] += n;
}

/* Feeds the entries of set (NULL: of every set) to c. */
static void
sread_set(const struct skernel *k, const char *set, struct npd_counters *c)
{
	size_t i, j, n = 0;

	for (i = 0; i < k->rs->n_sets; i++)
		for (j = 0; j < k->rs->sets[i].n_entries; j++, n++)
			if (!set || !strcmp(set, k->rs->sets[i].name))
				npd_counters_feed_set(k->rs->sets[i].name,
						      &k->rs->sets[i].entries[j], k->pk[n],
						      100 * k->pk[n], c);
}

static void
sread(const struct skernel *k, struct npd_counters *c)
{
	sread_set(k, NULL, c);
}

/* The kernel recreated set: its entries start from zero. */
static void
sreset(struct skernel *k, const char *set)
{
	size_t i, j, n = 0;

	for (i = 0; i < k->rs->n_sets; i++)
		for (j = 0; j < k->rs->sets[i].n_entries; j++, n++)
			if (!strcmp(set, k->rs->sets[i].name))
				k->pk[n] = 0;
}

static uint64_t
denied(const struct npd_counters *c, const char *pod, enum npd_origin_dir dir)
{
	uint64_t p = 0, b = 0;

	ck_assert_int_eq(npd_counters_get(c, NPD_ORIGIN_POD, dir, "shop", pod, -1, &p, &b), 0);
	ck_assert_uint_eq(b, 100 * p);
	return p;
}

static bool
has_total(const struct npd_counters *c, const char *pod, enum npd_origin_dir dir)
{
	uint64_t p, b;

	return npd_counters_get(c, NPD_ORIGIN_POD, dir, "shop", pod, -1, &p, &b) == 0;
}

static void
collect_set(const char *set, void *ctx)
{
	struct npd_buf *b = ctx;

	npd_buf_printf(b, "%s ", set);
}

/* The sets c follows (the ones plan, made from store s, loses, when non-NULL),
 * space-separated. */
static const char *
sets_in(const struct npd_counters *c, const struct npd_plan *plan, const struct npd_store *s,
	struct npd_buf *b)
{
	npd_buf_reset(b);
	npd_buf_adds(b, "");
	npd_counters_each_set(c, plan, s, collect_set, b);
	return b->data;
}

static const char *
sets_of(const struct npd_counters *c, const struct npd_plan *plan, struct npd_buf *b)
{
	return sets_in(c, plan, NULL, b);
}

/* One set op on a plan of nothing else (set NULL: by name, as a destroy). */
static void
plan_one(struct npd_plan *p, struct npd_set_op *op, enum npd_set_op_kind kind,
	 const struct npd_ruleset *rs, const char *set)
{
	memset(p, 0, sizeof(*p));
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	op->set = kind == NPD_SETOP_DESTROY ? NULL : npd_ruleset_find_set(rs, set);
	snprintf(op->name, sizeof(op->name), "%s", set);
	p->set_ops = op;
	p->n_set_ops = 1;
}

struct sfx {
	struct npd_store *s;
	struct npd_ruleset *rs;
	struct npd_counters *c;
	struct skernel k;
	struct npd_buf b;
};

static void
sfx_init(struct sfx *fx)
{
	memset(fx, 0, sizeof(*fx));
	fx->s = cluster();
	fx->rs = group_sets();
	fx->c = npd_counters_new();
	fx->k.rs = fx->rs;
	ck_assert_uint_le(npd_ruleset_entry_count(fx->rs), NPD_ARRAY_SIZE(fx->k.pk));
	npd_buf_init(&fx->b);
	npd_counters_applied(fx->c, fx->rs, NULL, fx->s);
}

static void
sfx_fini(struct sfx *fx)
{
	npd_buf_fini(&fx->b);
	npd_counters_free(fx->c);
	npd_ruleset_free(fx->rs);
	npd_store_free(fx->s);
}

START_TEST(set_entries_count_for_their_pods)
{
	struct sfx fx;

	sfx_init(&fx);
	/* web-0 in both directions, web-1 ingress; nobody for 10.0.0.99 or the peer set. */
	ck_assert_uint_eq(npd_counters_count(fx.c), 3);
	ck_assert_uint_eq(denied(fx.c, "web-1", NPD_ORIGIN_INGRESS), 0);
	ck_assert(!has_total(fx.c, "cli-0", NPD_ORIGIN_INGRESS));
	ck_assert_str_eq(sets_of(fx.c, NULL, &fx.b), SET_I " " SET_E " " SET_6 " ");
	shit(&fx.k, SET_I, "10.0.0.10", 5);
	shit(&fx.k, SET_6, "fd00::10", 2);
	shit(&fx.k, SET_I, "10.0.0.11", 3);
	shit(&fx.k, SET_E, "10.0.0.10", 4);
	shit(&fx.k, SET_I, "10.0.0.99", 50);
	shit(&fx.k, SET_PEER, "10.0.0.10", 70);
	sread(&fx.k, fx.c);
	/* The v4 and v6 entries of one pod sum; directions stay apart. */
	ck_assert_uint_eq(denied(fx.c, "web-0", NPD_ORIGIN_INGRESS), 7);
	ck_assert_uint_eq(denied(fx.c, "web-1", NPD_ORIGIN_INGRESS), 3);
	ck_assert_uint_eq(denied(fx.c, "web-0", NPD_ORIGIN_EGRESS), 4);
	/* Later readings add only the growth. */
	shit(&fx.k, SET_I, "10.0.0.10", 1);
	sread(&fx.k, fx.c);
	sread(&fx.k, fx.c);
	ck_assert_uint_eq(denied(fx.c, "web-0", NPD_ORIGIN_INGRESS), 8);
	ck_assert_uint_eq(npd_counters_count(fx.c), 3);
	npd_buf_reset(&fx.b);
	npd_counters_format(fx.c, &fx.b);
	ck_assert_ptr_nonnull(strstr(fx.b.data,
				     "netpold_pod_denied_packets_total{namespace=\"shop\""
				     ",pod=\"web-0\",direction=\"egress\"} 4\n"));
	ck_assert_ptr_nonnull(strstr(fx.b.data,
				     "netpold_pod_denied_packets_total{namespace=\"shop\""
				     ",pod=\"web-0\",direction=\"ingress\"} 8\n"));
	sfx_fini(&fx);
}
END_TEST

/* A set the plan creates anew holds fresh counters; one it only updates keeps them. */
START_TEST(recreated_set_restarts_from_zero)
{
	struct sfx fx;
	struct npd_plan plan;
	struct npd_set_op op;

	sfx_init(&fx);
	shit(&fx.k, SET_I, "10.0.0.11", 10);
	shit(&fx.k, SET_E, "10.0.0.10", 4);
	sread(&fx.k, fx.c);
	plan_one(&plan, &op, NPD_SETOP_UPDATE, fx.rs, SET_I);
	npd_counters_applied(fx.c, fx.rs, &plan, fx.s);
	shit(&fx.k, SET_I, "10.0.0.11", 2);
	sread(&fx.k, fx.c);
	ck_assert_uint_eq(denied(fx.c, "web-1", NPD_ORIGIN_INGRESS), 12);
	plan_one(&plan, &op, NPD_SETOP_CREATE, fx.rs, SET_I);
	sreset(&fx.k, SET_I);
	npd_counters_applied(fx.c, fx.rs, &plan, fx.s);
	shit(&fx.k, SET_I, "10.0.0.11", 3);
	shit(&fx.k, SET_E, "10.0.0.10", 2);
	sread(&fx.k, fx.c);
	ck_assert_uint_eq(denied(fx.c, "web-1", NPD_ORIGIN_INGRESS), 15);
	ck_assert_uint_eq(denied(fx.c, "web-0", NPD_ORIGIN_EGRESS), 6);
	/* No plan: every set was written. */
	sreset(&fx.k, SET_E);
	npd_counters_applied(fx.c, fx.rs, NULL, fx.s);
	shit(&fx.k, SET_E, "10.0.0.10", 1);
	sread(&fx.k, fx.c);
	ck_assert_uint_eq(denied(fx.c, "web-0", NPD_ORIGIN_EGRESS), 7);
	sfx_fini(&fx);
}
END_TEST

/* web-1 goes and web-2 takes its address while the entry stays: what the kernel counted
 * before was web-1's, what it counts from then on is web-2's. */
START_TEST(entry_moves_to_another_pod)
{
	struct sfx fx;
	struct npd_plan plan;

	sfx_init(&fx);
	shit(&fx.k, SET_I, "10.0.0.11", 7);
	sread(&fx.k, fx.c);
	ck_assert_int_eq(npd_store_del(fx.s, NPD_KIND_POD, "shop", "web-1"), 1);
	npd_store_add_pod(fx.s, tu_pod("shop", "web-2", "app=web", "10.0.0.11", "node1"));
	memset(&plan, 0, sizeof(plan));
	npd_counters_applied(fx.c, fx.rs, &plan, fx.s);
	ck_assert(!has_total(fx.c, "web-1", NPD_ORIGIN_INGRESS));
	ck_assert_uint_eq(denied(fx.c, "web-2", NPD_ORIGIN_INGRESS), 0);
	shit(&fx.k, SET_I, "10.0.0.11", 2);
	sread(&fx.k, fx.c);
	ck_assert_uint_eq(denied(fx.c, "web-2", NPD_ORIGIN_INGRESS), 2);
	ck_assert_uint_eq(denied(fx.c, "web-0", NPD_ORIGIN_INGRESS), 0);
	sfx_fini(&fx);
}
END_TEST

/* An entry whose address no pod owns any more counts for nobody, and its pod's totals go. */
START_TEST(entry_of_a_gone_pod)
{
	struct sfx fx;
	struct npd_plan plan;

	sfx_init(&fx);
	shit(&fx.k, SET_I, "10.0.0.10", 5);
	shit(&fx.k, SET_I, "10.0.0.11", 1);
	sread(&fx.k, fx.c);
	ck_assert_int_eq(npd_store_del(fx.s, NPD_KIND_POD, "shop", "web-0"), 1);
	memset(&plan, 0, sizeof(plan));
	npd_counters_applied(fx.c, fx.rs, &plan, fx.s);
	ck_assert(!has_total(fx.c, "web-0", NPD_ORIGIN_INGRESS));
	ck_assert(!has_total(fx.c, "web-0", NPD_ORIGIN_EGRESS));
	ck_assert_str_eq(sets_of(fx.c, NULL, &fx.b), SET_I " ");
	shit(&fx.k, SET_I, "10.0.0.10", 100);
	shit(&fx.k, SET_I, "10.0.0.11", 1);
	sread(&fx.k, fx.c);
	ck_assert_uint_eq(npd_counters_count(fx.c), 1);
	ck_assert_uint_eq(denied(fx.c, "web-1", NPD_ORIGIN_INGRESS), 2);
	/* Without a store nothing is owned: the cache empties. */
	npd_counters_applied(fx.c, fx.rs, &plan, NULL);
	ck_assert_uint_eq(npd_counters_count(fx.c), 0);
	ck_assert_str_eq(sets_of(fx.c, NULL, &fx.b), "");
	sfx_fini(&fx);
}
END_TEST

/* Before an apply, only the followed sets whose counters it loses need a reading. */
START_TEST(sets_a_plan_loses)
{
	struct sfx fx;
	struct npd_plan plan;
	struct npd_set_op ops[4];
	struct npd_set_entry del_e, del_i[2];

	memset(&del_e, 0, sizeof(del_e));
	memset(del_i, 0, sizeof(del_i));
	sfx_init(&fx);
	memset(&plan, 0, sizeof(plan));
	ck_assert_str_eq(sets_of(fx.c, &plan, &fx.b), "");
	memset(ops, 0, sizeof(ops));
	ops[0].kind = NPD_SETOP_UPDATE; /* adds only: its entries keep counting */
	ops[0].set = npd_ruleset_find_set(fx.rs, SET_I);
	ops[1].kind = NPD_SETOP_UPDATE;
	ops[1].set = npd_ruleset_find_set(fx.rs, SET_E);
	ck_assert_int_eq(npd_addr_parse("10.0.0.10", &del_e.addr), 0);
	ops[1].del = &del_e;
	ops[1].n_del = 1;
	ops[2].kind = NPD_SETOP_CREATE; /* not followed: no counters */
	ops[2].set = npd_ruleset_find_set(fx.rs, SET_PEER);
	ops[3].kind = NPD_SETOP_DESTROY;
	snprintf(ops[3].name, sizeof(ops[3].name), "%s", SET_6);
	plan.set_ops = ops;
	plan.n_set_ops = 4;
	ck_assert_str_eq(sets_of(fx.c, &plan, &fx.b), SET_E " " SET_6 " ");
	ck_assert_str_eq(sets_in(fx.c, &plan, fx.s, &fx.b), SET_E " " SET_6 " ");
	/* Deleted entries of web-1 (still there, then gone) and of an address nobody owns. */
	ops[0].del = del_i;
	ops[0].n_del = 2;
	ck_assert_int_eq(npd_addr_parse("10.0.0.99", &del_i[0].addr), 0);
	ck_assert_int_eq(npd_addr_parse("10.0.0.11", &del_i[1].addr), 0);
	ck_assert_str_eq(sets_in(fx.c, &plan, fx.s, &fx.b), SET_I " " SET_E " " SET_6 " ");
	/* Once web-0 and web-1 are gone, their entries' counts go with their totals. */
	ck_assert_int_eq(npd_store_del(fx.s, NPD_KIND_POD, "shop", "web-1"), 1);
	ck_assert_int_eq(npd_store_del(fx.s, NPD_KIND_POD, "shop", "web-0"), 1);
	ck_assert_str_eq(sets_in(fx.c, &plan, fx.s, &fx.b), SET_6 " ");
	ck_assert_str_eq(sets_of(fx.c, &plan, &fx.b), SET_I " " SET_E " " SET_6 " ");
	plan_one(&plan, &ops[0], NPD_SETOP_CREATE, fx.rs, SET_I);
	ck_assert_str_eq(sets_in(fx.c, &plan, fx.s, &fx.b), SET_I " ");
	sfx_fini(&fx);
}
END_TEST

START_TEST(set_state_round_trip)
{
	struct sfx fx;
	struct npd_counters *c2 = npd_counters_new();
	struct npd_buf a, b;
	struct npd_plan plan;

	npd_buf_init(&a);
	npd_buf_init(&b);
	sfx_init(&fx);
	shit(&fx.k, SET_I, "10.0.0.11", 3);
	shit(&fx.k, SET_6, "fd00::10", 4);
	sread(&fx.k, fx.c);
	npd_counters_save(fx.c, &a);
	ck_assert_ptr_nonnull(
	    strstr(a.data, "E\t" SET_6 "\tfd00::10\t2\t0\tshop\tweb-0\t-1\t4\t400\n"));
	ck_assert_uint_eq(npd_counters_load(c2, a.data), 3 + 4);
	npd_buf_reset(&a);
	npd_counters_format(fx.c, &a);
	npd_counters_format(c2, &b);
	ck_assert_str_eq(a.data, b.data);
	ck_assert_str_eq(sets_of(c2, NULL, &fx.b), SET_I " " SET_E " " SET_6 " ");
	/* Denied while no agent ran: counted at the first reading, from the saved one on. */
	shit(&fx.k, SET_I, "10.0.0.11", 2);
	sread(&fx.k, c2);
	ck_assert_uint_eq(denied(c2, "web-1", NPD_ORIGIN_INGRESS), 5);
	/* The restarted agent's first commit finds the entries, and carries them. */
	memset(&plan, 0, sizeof(plan));
	npd_counters_applied(c2, fx.rs, &plan, fx.s);
	shit(&fx.k, SET_I, "10.0.0.11", 1);
	shit(&fx.k, SET_6, "fd00::10", 1);
	sread(&fx.k, c2);
	ck_assert_uint_eq(denied(c2, "web-1", NPD_ORIGIN_INGRESS), 6);
	ck_assert_uint_eq(denied(c2, "web-0", NPD_ORIGIN_INGRESS), 5);
	/* Not ours, not an address, not a pod's origin, a field short. */
	ck_assert_uint_eq(npd_counters_load(c2,
					    "E\tfoo\t10.0.0.1\t2\t0\tshop\tweb-0\t-1\t1\t1\n"
					    "E\tnpd-x\t10.0.0.300\t2\t0\tshop\tweb-0\t-1\t1\t1\n"
					    "E\tnpd-x\t10.0.0.1\t1\t0\tshop\tpol\t0\t1\t1\n"
					    "E\tnpd-x\t10.0.0.1\t2\t0\tshop\tweb-0\t-1\t1\n"),
			  0);
	ck_assert_uint_eq(npd_counters_count(c2), 0);
	ck_assert_str_eq(sets_of(c2, NULL, &fx.b), "");
	npd_buf_fini(&b);
	npd_buf_fini(&a);
	npd_counters_free(c2);
	sfx_fini(&fx);
}
END_TEST

/* Random denials, readings and set re-creations (read first, as the agent does, only the
 * sets the plan loses) against the true count per pod and direction. */
START_TEST(random_set_run_matches_true_totals)
{
	static const struct {
		const char *set, *ip, *pod;
		enum npd_origin_dir dir;
	} ent[] = {
	    {SET_I, "10.0.0.10", "web-0", NPD_ORIGIN_INGRESS},
	    {SET_I, "10.0.0.11", "web-1", NPD_ORIGIN_INGRESS},
	    {SET_6, "fd00::10", "web-0", NPD_ORIGIN_INGRESS},
	    {SET_E, "10.0.0.10", "web-0", NPD_ORIGIN_EGRESS},
	};
	static const char *const sets[] = {SET_I, SET_6, SET_E};
	uint64_t truth[3] = {0, 0, 0}; /* web-0 ingress, web-1 ingress, web-0 egress */
	struct sfx fx;
	struct npd_plan plan;
	struct npd_set_op op;
	int step;
	size_t i, n;

	tu_seed("check_counters: random_set_run_matches_true_totals");
	sfx_init(&fx);
	for (step = 0; step < 2000; step++) {
		switch (rand() % 4) {
		case 0:
		case 1:
			i = (size_t)(rand() % 4);
			n = (size_t)(rand() % 50);
			shit(&fx.k, ent[i].set, ent[i].ip, n);
			truth[ent[i].dir == NPD_ORIGIN_EGRESS ? 2 : !strcmp(ent[i].pod, "web-1")] +=
			    n;
			break;
		case 2:
			sread(&fx.k, fx.c);
			break;
		default:
			plan_one(&plan, &op, rand() % 2 ? NPD_SETOP_CREATE : NPD_SETOP_UPDATE,
				 fx.rs, sets[rand() % 3]);
			npd_buf_reset(&fx.b);
			sets_in(fx.c, &plan, fx.s, &fx.b);
			for (i = 0; i < 3; i++)
				if (strstr(fx.b.data, sets[i]))
					sread_set(&fx.k, sets[i], fx.c);
			if (op.kind == NPD_SETOP_CREATE)
				sreset(&fx.k, op.name);
			npd_counters_applied(fx.c, fx.rs, &plan, fx.s);
		}
	}
	sread(&fx.k, fx.c);
	ck_assert_uint_eq(denied(fx.c, "web-0", NPD_ORIGIN_INGRESS), truth[0]);
	ck_assert_uint_eq(denied(fx.c, "web-1", NPD_ORIGIN_INGRESS), truth[1]);
	ck_assert_uint_eq(denied(fx.c, "web-0", NPD_ORIGIN_EGRESS), truth[2]);
	sfx_fini(&fx);
}
END_TEST

TU_MAIN("counters", totals_sum_rules_and_families, group_rules_count_for_nobody,
	rewrite_keeps_totals, totals_freeze_then_go_with_their_object, exposition, state_round_trip,
	random_run_matches_true_totals, set_entries_count_for_their_pods,
	recreated_set_restarts_from_zero, entry_moves_to_another_pod, entry_of_a_gone_pod,
	sets_a_plan_loses, set_state_round_trip, random_set_run_matches_true_totals)
