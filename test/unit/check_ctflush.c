/* check_ctflush.c: which conntrack entries a node cuts after a change: flows the present
 * state denies at a side this node enforces go, allowed flows and flows of remote,
 * hostNetwork or unknown ends stay; a policy added later turns a kept flow into a cut one. */
#include <check.h>

#include "npd/addr.h"
#include "npd/ctflush.h"
#include "npd/mem.h"
#include "npd/store.h"
#include "testutil.h"

static bool
cut(const struct npd_store *s, const char *node, const char *src, const char *dst, uint16_t dport,
    enum npd_proto proto)
{
	struct npd_ct_flow f = {0};

	ck_assert_int_eq(npd_addr_parse(src, &f.src), 0);
	ck_assert_int_eq(npd_addr_parse(dst, &f.dst), 0);
	f.sport = 40000;
	f.dport = dport;
	f.proto = proto;
	return npd_ctflush_matches(s, node, &f);
}

/* Flows on tu_store_frontend_backend and whether the node cuts them. */
static const struct {
	const char *node, *src, *dst;
	uint16_t dport;
	enum npd_proto proto;
	bool cut;
} flows[] = {
    /* backend/db (node2): admits frontend/api on 80/TCP and 192.0.2.0/24, nothing else. */
    {"node2", "10.244.1.10", "10.244.2.20", 80, NPD_PROTO_TCP, false},
    {"node2", "10.244.1.11", "10.244.2.20", 80, NPD_PROTO_TCP, true},
    {"node2", "10.244.1.10", "10.244.2.20", 80, NPD_PROTO_UDP, true},
    {"node2", "192.0.2.9", "10.244.2.20", 443, NPD_PROTO_TCP, false},
    {"node2", "198.51.100.1", "10.244.2.20", 443, NPD_PROTO_TCP, true},
    {"node2", "fd00::10", "fd00::20", 80, NPD_PROTO_TCP, true},
    /* node1 does not judge db's ingress; tool's egress is not isolated. */
    {"node1", "10.244.1.11", "10.244.2.20", 80, NPD_PROTO_TCP, false},
    /* frontend/app (node2) is isolated for egress with no rule. */
    {"node2", "10.244.2.10", "10.244.1.10", 80, NPD_PROTO_TCP, true},
    {"node2", "10.244.2.10", "203.0.113.1", 53, NPD_PROTO_UDP, true},
    /* On node1 only api's ingress counts, and it is not isolated. */
    {"node1", "10.244.2.10", "10.244.1.10", 80, NPD_PROTO_TCP, false},
};

START_TEST(test_ingress_and_egress_side)
{
	struct npd_store *s = tu_store_frontend_backend();
	size_t i;

	for (i = 0; i < NPD_ARRAY_SIZE(flows); i++)
		ck_assert_msg(cut(s, flows[i].node, flows[i].src, flows[i].dst, flows[i].dport,
				  flows[i].proto) == flows[i].cut,
			      "flow %zu on %s: %s -> %s:%u", i, flows[i].node, flows[i].src,
			      flows[i].dst, flows[i].dport);
	npd_store_free(s);
}
END_TEST

START_TEST(test_not_candidates)
{
	struct npd_store *s = tu_store_frontend_backend();
	struct npd_addr a;
	struct npd_pod *h = tu_pod("backend", "host", "", "192.168.254.2", "node2");

	h->host_network = true;
	npd_store_add_pod(s, h);
	/* Neither end a pod, a hostNetwork end, a node that hosts neither end. */
	ck_assert(!cut(s, "node2", "198.51.100.1", "198.51.100.2", 80, NPD_PROTO_TCP));
	ck_assert(!cut(s, "node2", "10.244.1.11", "192.168.254.2", 80, NPD_PROTO_TCP));
	ck_assert(!cut(s, "node3", "10.244.1.11", "10.244.2.20", 80, NPD_PROTO_TCP));
	ck_assert_int_eq(npd_addr_parse("192.168.254.2", &a), 0);
	ck_assert(!npd_ctflush_is_candidate(s, "node2", &a));
	ck_assert_int_eq(npd_addr_parse("10.244.2.20", &a), 0);
	ck_assert(npd_ctflush_is_candidate(s, "node2", &a));
	ck_assert(!npd_ctflush_is_candidate(s, "node1", &a));
	npd_store_free(s);
}
END_TEST

START_TEST(test_change_turns_kept_into_cut)
{
	struct npd_store *s = tu_store_frontend_backend();
	struct npd_policy *p;

	/* frontend/tool -> frontend/api: open until a policy isolates api for ingress. */
	ck_assert(!cut(s, "node1", "10.244.1.11", "10.244.1.10", 8080, NPD_PROTO_TCP));
	p = tu_policy("frontend", "api-only-app", "app=api", true, false);
	tu_peer_sel(tu_rule(p, false), NULL, "app=app");
	npd_store_add_policy(s, p);
	ck_assert(cut(s, "node1", "10.244.1.11", "10.244.1.10", 8080, NPD_PROTO_TCP));
	/* The peer that policy admits keeps its flow. */
	ck_assert(!cut(s, "node1", "10.244.2.10", "10.244.1.10", 8080, NPD_PROTO_TCP));
	npd_store_free(s);
}
END_TEST

TU_MAIN("ctflush", test_ingress_and_egress_side, test_not_candidates,
	test_change_turns_kept_into_cut)
