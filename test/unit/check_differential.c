/* check_differential.c: the compiler against the simulator on random worlds. Each world
 * (tu_world.h) is decoded from its manifests, compiled for both nodes, and a sample of
 * probes (every family, TCP/UDP/SCTP, several ports, pods and outside addresses) is
 * answered twice: by npd_sim_run, and by walking the compiled rulesets of the nodes whose
 * FORWARD hook the packet crosses (tu_eval.h). Any disagreement is shrunk to a minimal world
 * and printed as manifests with the probe, the seed and the commands that replay it.
 *
 * NPD_DIFF_SEED fixes the seed (else the clock picks one; it is printed either way),
 * NPD_DIFF_WORLDS the number of worlds (default 20000). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "npd/buf.h"
#include "npd/compile.h"
#include "npd/sim.h"
#include "testutil.h"
#include "tu_eval.h"
#include "tu_world.h"

#define MAX_EP 24
#define PROBES_PER_WORLD 48

struct probe {
	struct npd_addr src, dst;
	enum npd_proto proto;
	uint16_t port;
};

static const uint16_t probe_ports[] = {80, 53, 5432, 8080, 110};
static const enum npd_proto probe_protos[] = {NPD_PROTO_TCP, NPD_PROTO_UDP, NPD_PROTO_SCTP};

struct compiled {
	struct npd_store *s;
	struct npd_ruleset *rs[2]; /* node1, node2 */
};

static void
compiled_init(struct compiled *c, const struct tu_world *w)
{
	static const char *const nodes[2] = {"node1", "node2"};
	struct npd_compile_opts o;
	int i;

	c->s = tu_world_store(w);
	for (i = 0; i < 2; i++) {
		npd_compile_opts_init(&o);
		o.node_name = nodes[i];
		ck_assert_int_eq(npd_compile(c->s, &o, NULL, &c->rs[i]), 0);
	}
}

static void
compiled_fini(struct compiled *c)
{
	npd_ruleset_free(c->rs[0]);
	npd_ruleset_free(c->rs[1]);
	npd_store_free(c->s);
}

/* 1 allowed, 0 denied by the simulator; the compiled rules' answer in *kernel. */
static int
answer(const struct compiled *c, const struct probe *p, int *kernel, struct npd_buf *why)
{
	struct npd_sim_endpoint from = {.has_addr = true, .addr = p->src};
	struct npd_sim_endpoint to = {.has_addr = true, .addr = p->dst};
	struct tu_packet pk = {
	    .src = p->src, .dst = p->dst, .proto = (uint8_t)p->proto, .dport = p->port};
	struct npd_sim_result res;
	enum tu_verdict v;
	int sim;

	from.pod = npd_store_pod_by_ip(c->s, &p->src);
	to.pod = npd_store_pod_by_ip(c->s, &p->dst);
	ck_assert_int_eq(npd_sim_run(c->s, &from, &to, p->port, p->proto, &res), 0);
	sim = res.allowed;
	if (why)
		npd_buf_printf(why, "simulate:\n%s\n", res.explanation);
	npd_sim_result_fini(&res);
	v = tu_eval_nodes(c->s, (const struct npd_ruleset *const *)c->rs, &pk, why);
	ck_assert_msg(v != TU_ERROR, "malformed ruleset");
	*kernel = v == TU_PASS;
	return sim;
}

static size_t
all_probes(const struct tu_world *w, struct probe *out, size_t max)
{
	struct npd_addr ep[MAX_EP];
	size_t n_ep = tu_world_endpoints(w, ep, MAX_EP), i, j, k, l, n = 0;

	for (i = 0; i < n_ep; i++)
		for (j = 0; j < n_ep; j++) {
			if (i == j || ep[i].family != ep[j].family)
				continue;
			for (k = 0; k < sizeof(probe_protos) / sizeof(probe_protos[0]); k++)
				for (l = 0; l < sizeof(probe_ports) / sizeof(probe_ports[0]); l++) {
					if (n == max)
						return n;
					out[n].src = ep[i];
					out[n].dst = ep[j];
					out[n].proto = probe_protos[k];
					out[n].port = probe_ports[l];
					n++;
				}
		}
	return n;
}

/* The first probe of w on which compiler and simulator disagree, or -1. */
static long
first_disagreement(const struct tu_world *w, const struct probe *pr, size_t n)
{
	struct compiled c;
	long found = -1;
	size_t i;
	int kernel;

	compiled_init(&c, w);
	for (i = 0; i < n && found < 0; i++) {
		int sim = answer(&c, &pr[i], &kernel, NULL);

		if (sim != kernel)
			found = (long)i;
	}
	compiled_fini(&c);
	return found;
}

/* Removes pieces of w one at a time while some probe still disagrees. */
static void
shrink(struct tu_world *w, struct probe *pr, size_t max)
{
	bool progress = true;

	while (progress) {
		size_t i, n = tu_world_pieces(w);

		progress = false;
		for (i = 0; i < n; i++) {
			struct tu_world smaller;
			size_t np;

			tu_world_without(w, i, &smaller);
			np = all_probes(&smaller, pr, max);
			if (first_disagreement(&smaller, pr, np) >= 0) {
				*w = smaller;
				progress = true;
				break;
			}
		}
	}
}

static void
report(struct tu_world *w, uint64_t base)
{
	static struct probe pr[MAX_EP * MAX_EP * 15];
	char a[NPD_ADDRSTRLEN], b[NPD_ADDRSTRLEN];
	struct npd_buf txt, why;
	struct compiled c;
	size_t n;
	long bad;
	int kernel, sim;

	shrink(w, pr, sizeof(pr) / sizeof(pr[0]));
	n = all_probes(w, pr, sizeof(pr) / sizeof(pr[0]));
	bad = first_disagreement(w, pr, n);
	ck_assert(bad >= 0);
	npd_buf_init(&txt);
	npd_buf_init(&why);
	tu_world_render(w, &txt);
	compiled_init(&c, w);
	sim = answer(&c, &pr[bad], &kernel, &why);
	compiled_fini(&c);
	npd_addr_format(&pr[bad].src, a);
	npd_addr_format(&pr[bad].dst, b);
	fprintf(
	    stderr,
	    "differential: run seed %llu, world seed %llu: %s -> %s %u/%s: simulate says "
	    "%s, the compiled rules %s\n"
	    "minimal world (save as case.yaml; replay with NPD_DIFF_SEED=%llu NPD_DIFF_WORLDS=1,\n"
	    "  netpolctl simulate -f case.yaml --from %s --to %s --port %u/%s,\n"
	    "  netpolctl render -f case.yaml --node node1):\n%s\n%s",
	    (unsigned long long)base, (unsigned long long)w->seed, a, b, pr[bad].port,
	    npd_proto_name(pr[bad].proto), sim ? "allowed" : "denied", kernel ? "allow" : "deny",
	    (unsigned long long)w->seed, a, b, pr[bad].port, npd_proto_name(pr[bad].proto),
	    txt.data, why.data);
	ck_abort_msg("compiled rules and simulate disagree on world seed %llu (run seed %llu)",
		     (unsigned long long)w->seed, (unsigned long long)base);
}

START_TEST(random_worlds)
{
	static struct probe pr[MAX_EP * MAX_EP * 15];
	uint64_t base = tu_seed_from_env("NPD_DIFF_SEED");
	const char *nw = getenv("NPD_DIFF_WORLDS");
	long worlds = nw && *nw ? strtol(nw, NULL, 10) : 20000;
	size_t compared = 0, allowed = 0;
	uint64_t pick_state = base;
	long i;

	fprintf(stderr, "differential: seed %llu, %ld worlds (NPD_DIFF_SEED, NPD_DIFF_WORLDS)\n",
		(unsigned long long)base, worlds);
	for (i = 0; i < worlds; i++) {
		struct tu_world w;
		struct compiled c;
		size_t n, j;

		tu_world_gen(&w, base + (uint64_t)i);
		n = all_probes(&w, pr, sizeof(pr) / sizeof(pr[0]));
		compiled_init(&c, &w);
		for (j = 0; j < PROBES_PER_WORLD && n; j++) {
			const struct probe *p = &pr[tu_rand(&pick_state) % n];
			int kernel, sim = answer(&c, p, &kernel, NULL);

			compared++;
			allowed += (size_t)sim;
			if (sim != kernel) {
				compiled_fini(&c);
				report(&w, base);
			}
		}
		compiled_fini(&c);
	}
	fprintf(stderr, "differential: %ld worlds, %zu probes compared (%zu allowed, %zu denied)\n",
		worlds, compared, allowed, compared - allowed);
	/* A generator that never denies (or never allows) would prove nothing. */
	ck_assert_uint_gt(allowed, compared / 20);
	ck_assert_uint_gt(compared - allowed, compared / 20);
}
END_TEST

/* The evaluator itself, on hand-built rules: a hash:net nomatch entry carves a hole, the
 * longest prefix decides, marks and RETURN behave as in the kernel. */
START_TEST(evaluator_basics)
{
	struct npd_ruleset *rs = npd_ruleset_new();
	struct npd_table *t = npd_ruleset_table(rs, AF_INET);
	struct npd_chain *c;
	struct npd_set *set;
	struct npd_set_entry e;
	struct npd_rule r;
	struct tu_packet p;

	set = npd_ruleset_add_set(rs, "npd-net", NPD_SET_HASH_NET, AF_INET, NULL);
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(npd_addr_parse("10.0.0.0", &e.addr), 0);
	e.prefix = 8;
	npd_ruleset_add_entry(set, &e);
	ck_assert_int_eq(npd_addr_parse("10.1.0.0", &e.addr), 0);
	e.prefix = 16;
	e.nomatch = true;
	npd_ruleset_add_entry(set, &e);
	ck_assert_int_eq(npd_addr_parse("10.1.2.0", &e.addr), 0);
	e.prefix = 24;
	e.nomatch = false;
	npd_ruleset_add_entry(set, &e);
	npd_ruleset_add_hook(t, "FORWARD", "NPD-T");
	c = npd_ruleset_add_chain(t, "NPD-T");
	memset(&r, 0, sizeof(r));
	r.n_sets = 1;
	memcpy(r.sets[0].name, "npd-net", sizeof("npd-net"));
	r.sets[0].dims = 1;
	r.target = NPD_T_MARK;
	r.set_mark = r.set_mask = 0x10;
	npd_ruleset_add_rule(c, &r);
	npd_ruleset_add_rule(c, &(struct npd_rule){.has_mark = true,
						   .mark_value = 0x10,
						   .mark_mask = 0x10,
						   .target = NPD_T_RETURN});
	npd_ruleset_add_rule(c, &(struct npd_rule){.target = NPD_T_REJECT});
	npd_ruleset_seal(rs);

	memset(&p, 0, sizeof(p));
	p.proto = 6;
	p.dport = 80;
	ck_assert_int_eq(npd_addr_parse("10.9.9.9", &p.dst), 0);
	ck_assert_int_eq(npd_addr_parse("10.2.0.1", &p.src), 0);
	ck_assert_int_eq(tu_eval(rs, &p, NULL), TU_PASS);
	ck_assert_int_eq(npd_addr_parse("10.1.0.1", &p.src), 0);
	ck_assert_int_eq(tu_eval(rs, &p, NULL), TU_REJECT);
	ck_assert_int_eq(npd_addr_parse("10.1.2.3", &p.src), 0);
	ck_assert_int_eq(tu_eval(rs, &p, NULL), TU_PASS);
	ck_assert_int_eq(npd_addr_parse("11.0.0.1", &p.src), 0);
	ck_assert_int_eq(tu_eval(rs, &p, NULL), TU_REJECT);
	npd_ruleset_free(rs);
}
END_TEST

/* The generator is deterministic and its worlds decode and shrink. */
START_TEST(generator_replays)
{
	struct tu_world a, b, smaller;
	struct npd_buf x, y;
	size_t n;

	npd_buf_init(&x);
	npd_buf_init(&y);
	tu_world_gen(&a, 42);
	tu_world_gen(&b, 42);
	tu_world_render(&a, &x);
	tu_world_render(&b, &y);
	ck_assert_str_eq(x.data, y.data);
	npd_store_free(tu_world_store(&a));
	n = tu_world_pieces(&a);
	ck_assert_uint_gt(n, 3);
	tu_world_without(&a, 0, &smaller);
	ck_assert_int_eq(smaller.n_pols, a.n_pols - 1);
	ck_assert_uint_lt(tu_world_pieces(&smaller), n);
	npd_buf_fini(&x);
	npd_buf_fini(&y);
}
END_TEST

/* The cases a plain list cannot hold. */
static void
extra(TCase *tc)
{
	tcase_set_timeout(tc, 600);
}

TU_MAIN_WITH("differential", extra, evaluator_basics, generator_replays, random_worlds)
