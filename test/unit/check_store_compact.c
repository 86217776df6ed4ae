/* check_store_compact.c: pods and namespaces in the store's compact form read back equal
 * to what was added, share their strings through the store's interning table, and a
 * relist (re-adds with new labels, deletions of the unseen) leaves in the table exactly
 * the strings the live objects carry: what it replaces is freed. */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npd/addr.h"
#include "npd/intern.h"
#include "npd/map.h"
#include "npd/mem.h"
#include "npd/store.h"
#include "store_int.h"
#include "testutil.h"
#include "tu_world.h"

static struct npd_pod *
mkpod(const char *ns, const char *name, const char *labels, const char *ips, const char *node)
{
	struct npd_pod *p = tu_pod(ns, name, labels, ips, node);

	p->rv = npd_xstrdup("12345");
	tu_pod_port(p, "http", NPD_PROTO_TCP, 80);
	tu_pod_port(p, NULL, NPD_PROTO_UDP, 53);
	tu_pod_port(p, "metrics", NPD_PROTO_TCP, 9090);
	return p;
}

START_TEST(compact_pod_reads_back_equal)
{
	struct npd_store *s = npd_store_new();
	struct npd_pod *want = mkpod("web", "api-0", "app=api,tier=be", "10.1.0.5,fd00::5", "n1");
	const struct npd_pod *got;
	struct npd_addr a;
	uint16_t port;
	size_t i;

	npd_store_add_pod(s, mkpod("web", "api-0", "app=api,tier=be", "10.1.0.5,fd00::5", "n1"));
	got = npd_store_get_pod(s, "web", "api-0");
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got->ns, want->ns);
	ck_assert_str_eq(got->name, want->name);
	ck_assert_str_eq(got->uid, want->uid);
	ck_assert_str_eq(got->node, want->node);
	ck_assert_ptr_null(got->rv); /* nothing reads it once stored */
	ck_assert(npd_labels_equal(&got->labels, &want->labels));
	ck_assert_uint_eq(got->n_ips, 2);
	ck_assert_mem_eq(got->ips, want->ips, 2 * sizeof(*got->ips));
	ck_assert_uint_eq(got->n_ports, 3);
	for (i = 0; i < 3; i++) {
		ck_assert_uint_eq(got->ports[i].port, want->ports[i].port);
		ck_assert_int_eq(got->ports[i].proto, want->ports[i].proto);
		ck_assert_int_eq(!got->ports[i].name, !want->ports[i].name);
	}
	ck_assert_int_eq(npd_pod_find_named_port(got, "metrics", NPD_PROTO_TCP, &port), 0);
	ck_assert_uint_eq(port, 9090);
	ck_assert_str_eq(npd_labels_get(&got->labels, "tier"), "be");
	ck_assert_int_eq(npd_addr_parse("fd00::5", &a), 0);
	ck_assert_ptr_eq(npd_store_pod_by_ip(s, &a), got);
	/* The same pod again is no policy-visible change; a new label is. */
	ck_assert_int_eq(npd_store_add_pod(
			     s, mkpod("web", "api-0", "app=api,tier=be", "10.1.0.5,fd00::5", "n1")),
			 0);
	ck_assert_int_eq(npd_store_add_pod(
			     s, mkpod("web", "api-0", "app=api,tier=fe", "10.1.0.5,fd00::5", "n1")),
			 1);
	/* A pod without labels, IPs, ports, uid or node compacts too. */
	{
		struct npd_pod *bare = npd_pod_new();

		bare->ns = npd_xstrdup("web");
		bare->name = npd_xstrdup("bare");
		npd_store_add_pod(s, bare);
		got = npd_store_get_pod(s, "web", "bare");
		ck_assert_str_eq(got->name, "bare");
		ck_assert_ptr_null(got->uid);
		ck_assert_ptr_null(got->node);
		ck_assert_uint_eq(got->labels.n + got->n_ips + got->n_ports, 0);
	}
	npd_pod_free(want);
	npd_store_free(s);
}
END_TEST

START_TEST(compact_strings_are_shared)
{
	struct npd_store *s = npd_store_new();
	const struct npd_pod *a, *b;
	const struct npd_namespace *ns;

	npd_store_add_pod(s, mkpod("web", "a", "app=api", "10.1.0.1", "n1"));
	npd_store_add_pod(s, mkpod("web", "b", "app=api", "10.1.0.2", "n1"));
	npd_store_add_namespace(s, tu_ns("web", "app=api"));
	a = npd_store_get_pod(s, "web", "a");
	b = npd_store_get_pod(s, "web", "b");
	ns = npd_store_get_namespace(s, "web");
	ck_assert_ptr_eq(a->ns, b->ns);
	ck_assert_ptr_eq(a->ns, ns->name);
	ck_assert_ptr_eq(a->node, b->node);
	ck_assert_ptr_eq(a->labels.v[0].key, b->labels.v[0].key);
	ck_assert_ptr_eq(a->labels.v[0].value, ns->labels.v[0].value);
	ck_assert_ptr_eq(a->ports[0].name, b->ports[0].name);
	/* "web": two pods, the namespace's name and its kubernetes.io/metadata.name value;
	 * "api": two pods' and the namespace's value. */
	ck_assert_str_eq(npd_labels_get(&ns->labels, "kubernetes.io/metadata.name"), "web");
	ck_assert_uint_eq(npd_intern_refs(s->strings, a->ns), 4);
	ck_assert_uint_eq(npd_intern_refs(s->strings, a->labels.v[0].value), 3);
	npd_store_free(s);
}
END_TEST

/* Adds str to the set expect (a map used as a set). */
static void
expect_str(struct npd_map *expect, const char *str)
{
	if (str)
		npd_map_set(expect, str, expect);
}

/* The distinct strings the live pods and namespaces of s carry, counted independently
 * of the table: through the store's getters into a plain map. */
static size_t
live_strings(const struct npd_store *s)
{
	struct npd_map expect;
	const char *const *names;
	size_t n_names, i, j, k, n;

	npd_map_init(&expect);
	names = npd_store_ns_names(s, &n_names);
	for (i = 0; i < n_names; i++) {
		const struct npd_namespace *ns = npd_store_get_namespace(s, names[i]);
		const struct npd_pod *const *pods = npd_store_pods_in(s, names[i], &n);

		if (ns)
			expect_str(&expect, ns->name);
		for (k = 0; ns && k < ns->labels.n; k++) {
			expect_str(&expect, ns->labels.v[k].key);
			expect_str(&expect, ns->labels.v[k].value);
		}
		for (j = 0; j < n; j++) {
			expect_str(&expect, pods[j]->ns);
			expect_str(&expect, pods[j]->node);
			for (k = 0; k < pods[j]->labels.n; k++) {
				expect_str(&expect, pods[j]->labels.v[k].key);
				expect_str(&expect, pods[j]->labels.v[k].value);
			}
			for (k = 0; k < pods[j]->n_ports; k++)
				expect_str(&expect, pods[j]->ports[k].name);
		}
	}
	n = expect.len;
	npd_map_fini(&expect);
	return n;
}

START_TEST(relist_frees_what_it_replaces)
{
	uint64_t seed = tu_seed_from_env("NPD_COMPACT_SEED"), st = seed ? seed : 1;
	struct npd_store *s = npd_store_new();
	size_t round, i;

	printf("relist_frees_what_it_replaces: seed %" PRIu64 " (NPD_COMPACT_SEED to replay)\n",
	       seed);
	for (round = 0; round < 6; round++) {
		char ns[16], name[16], labels[96], ip[32], node[16];
		struct npd_event ev;

		/* Each round lists a random subset of 400 pods with fresh label values, as a
		 * relist after a gap would: the rest are deleted as unseen. */
		for (i = 0; i < 400; i++) {
			uint64_t r = tu_rand(&st);

			if (r % 3 == 0)
				continue;
			snprintf(ns, sizeof(ns), "ns-%zu", i % 23);
			snprintf(name, sizeof(name), "pod-%zu", i);
			snprintf(labels, sizeof(labels),
				 "app=a%" PRIu64 ",round=r%zu,hash=h%" PRIu64, (r >> 8) % 50, round,
				 (r >> 16) % 1000);
			snprintf(ip, sizeof(ip), "10.0.%zu.%zu", i / 250, i % 250);
			snprintf(node, sizeof(node), "node-%" PRIu64, (r >> 24) % 7);
			memset(&ev, 0, sizeof(ev));
			ev.type = NPD_EV_ADDED;
			ev.obj.kind = NPD_KIND_POD;
			ev.obj.u.pod = mkpod(ns, name, labels, ip, node);
			npd_store_apply_listed(s, &ev, (uint32_t)round + 1);
		}
		for (i = 0; i < 23; i += 1 + round % 3) {
			snprintf(ns, sizeof(ns), "ns-%zu", i);
			snprintf(labels, sizeof(labels), "team=t%zu", (i + round) % 4);
			npd_store_add_namespace(s, tu_ns(ns, labels));
		}
		npd_store_del_unlisted(s, NPD_KIND_POD, (uint32_t)round + 1);
		ck_assert_uint_eq(npd_intern_count(s->strings), live_strings(s));
	}
	/* Everything deleted: nothing is left in the table. */
	npd_store_del_unlisted(s, NPD_KIND_POD, 100);
	npd_store_del_unlisted(s, NPD_KIND_NAMESPACE, 100);
	ck_assert_uint_eq(npd_store_count(s, NPD_KIND_POD), 0);
	ck_assert_uint_eq(npd_intern_count(s->strings), 0);
	ck_assert_uint_eq(npd_intern_bytes(s->strings), 0);
	npd_store_free(s);
}
END_TEST

TU_MAIN("store_compact", compact_pod_reads_back_equal, compact_strings_are_shared,
	relist_frees_what_it_replaces)
