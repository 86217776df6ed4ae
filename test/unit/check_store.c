/* check_store.c: ownership, replace semantics, policy-visible change detection, the
 * indexes (namespace, label, IP) and relist replacement. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npd/addr.h"
#include "npd/buf.h"
#include "npd/map.h"
#include "npd/mem.h"
#include "npd/selector.h"
#include "npd/store.h"
#include "testutil.h"

static struct npd_policy *
mkpol(const char *ns, const char *name, const char *rv)
{
	struct npd_policy *p = npd_policy_new();

	p->ns = npd_xstrdup(ns);
	p->name = npd_xstrdup(name);
	p->rv = npd_xstrdup(rv);
	p->isolates_ingress = true;
	return p;
}

START_TEST(add_replace_delete)
{
	struct npd_store *s = npd_store_new();
	size_t n;
	const struct npd_pod *const *pods;

	ck_assert_int_eq(npd_store_add_pod(s, tu_pod("b", "p2", "app=x", "10.0.0.2", "n1")), 1);
	ck_assert_int_eq(npd_store_add_pod(s, tu_pod("b", "p1", "app=x", "10.0.0.1", "n1")), 1);
	ck_assert_int_eq(npd_store_add_pod(s, tu_pod("a", "p3", "app=y", "10.0.0.3", "n2")), 1);
	ck_assert_uint_eq(npd_store_count(s, NPD_KIND_POD), 3);
	pods = npd_store_pods_in(s, "b", &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(pods[0]->name, "p1"); /* sorted by name */
	ck_assert_str_eq(pods[1]->name, "p2");
	{
		const char *const *names = npd_store_ns_names(s, &n);

		ck_assert_uint_eq(n, 2);
		ck_assert_str_eq(names[0], "a");
		ck_assert_str_eq(names[1], "b");
	}
	ck_assert_int_eq(npd_store_del(s, NPD_KIND_POD, "a", "p3"), 1);
	ck_assert_int_eq(npd_store_del(s, NPD_KIND_POD, "a", "p3"), 0);
	ck_assert_uint_eq(npd_store_count(s, NPD_KIND_POD), 2);
	{
		const char *const *names = npd_store_ns_names(s, &n);

		ck_assert_uint_eq(n, 1); /* an empty namespace bucket goes away */
		ck_assert_str_eq(names[0], "b");
	}
	ck_assert_int_eq(npd_store_add_policy(s, mkpol("b", "z", "1")), 1);
	ck_assert_int_eq(npd_store_add_policy(s, mkpol("b", "a", "1")), 1);
	ck_assert_int_eq(npd_store_add_policy(s, mkpol("b", "m", "1")), 1);
	{
		const struct npd_policy *const *pols = npd_store_policies_in(s, "b", &n);

		ck_assert_uint_eq(n, 3);
		ck_assert_str_eq(pols[0]->name, "a");
		ck_assert_str_eq(pols[1]->name, "m");
		ck_assert_str_eq(pols[2]->name, "z");
	}
	{
		/* The same rv: the stored policy stays, so pointers to it stay valid. */
		const struct npd_policy *was = npd_store_get_policy(s, "b", "m");

		ck_assert_int_eq(npd_store_add_policy(s, mkpol("b", "m", "1")), 0);
		ck_assert_ptr_eq(npd_store_get_policy(s, "b", "m"), was);
	}
	ck_assert_int_eq(npd_store_add_policy(s, mkpol("b", "m", "2")), 1);
	ck_assert_ptr_nonnull(npd_store_get_policy(s, "b", "m"));
	ck_assert_str_eq(npd_store_get_policy(s, "b", "m")->rv, "2");
	npd_store_free(s);
}
END_TEST

START_TEST(status_only_update_is_not_a_change)
{
	struct npd_store *s = npd_store_new();
	const struct npd_pod *was;
	struct npd_pod *p;
	uint64_t g;

	npd_store_add_pod(s, tu_pod("ns", "p", "app=x", "10.0.0.1", "n1"));
	g = npd_store_generation(s);
	was = npd_store_get_pod(s, "ns", "p");
	p = tu_pod("ns", "p", "app=x", "10.0.0.1", "n1");
	p->rv = npd_xstrdup("99"); /* e.g. a condition changed */
	p->phase = NPD_PHASE_PENDING;
	ck_assert_int_eq(npd_store_add_pod(s, p), 0);
	ck_assert_uint_eq(npd_store_generation(s), g);
	/* The stored pod stays (what the compiler keeps of it stays valid), with the phase. */
	ck_assert_ptr_eq(npd_store_get_pod(s, "ns", "p"), was);
	ck_assert_int_eq(was->phase, NPD_PHASE_PENDING);
	ck_assert_ptr_eq(npd_store_pod_by_ip(s, &was->ips[0]), was);
	ck_assert_int_eq(npd_store_add_pod(s, tu_pod("ns", "p", "app=y", "10.0.0.1", "n1")), 1);
	p = tu_pod("ns", "p", "app=y", "10.0.0.1", "n1");
	p->phase = NPD_PHASE_SUCCEEDED;
	ck_assert_int_eq(npd_store_add_pod(s, p), 1); /* no longer selectable */
	ck_assert_uint_gt(npd_store_generation(s), g);
	npd_store_free(s);
}
END_TEST

START_TEST(ip_index_follows_reuse)
{
	struct npd_store *s = npd_store_new();
	struct npd_addr a;
	struct npd_pod *done;

	ck_assert_int_eq(npd_addr_parse("10.0.0.9", &a), 0);
	npd_store_add_pod(s, tu_pod("ns", "old", "app=old", "10.0.0.9", "n1"));
	ck_assert_str_eq(npd_store_pod_by_ip(s, &a)->name, "old");
	/* The old pod finished; a new pod got its IP before the deletion arrived. */
	done = tu_pod("ns", "old", "app=old", "10.0.0.9", "n1");
	done->phase = NPD_PHASE_SUCCEEDED;
	npd_store_add_pod(s, done);
	npd_store_add_pod(s, tu_pod("ns", "new", "app=new", "10.0.0.9", "n1"));
	ck_assert_str_eq(npd_store_pod_by_ip(s, &a)->name, "new");
	npd_store_del(s, NPD_KIND_POD, "ns", "old");
	ck_assert_str_eq(npd_store_pod_by_ip(s, &a)->name, "new");
	/* Two live claimants: the other one takes over when the winner goes. */
	npd_store_add_pod(s, tu_pod("ns", "dup", "app=dup", "10.0.0.9", "n1"));
	ck_assert_str_eq(npd_store_pod_by_ip(s, &a)->name, "dup");
	npd_store_del(s, NPD_KIND_POD, "ns", "dup");
	ck_assert_str_eq(npd_store_pod_by_ip(s, &a)->name, "new");
	npd_store_del(s, NPD_KIND_POD, "ns", "new");
	ck_assert_ptr_null(npd_store_pod_by_ip(s, &a));
	npd_store_free(s);
}
END_TEST

/* Random adds, replacements and deletions of pods over a few shared addresses (some pods
 * finished, so claiming nothing), checked after every step against the definition: an
 * address names a live pod claiming it, and one exists whenever any does. */
START_TEST(ip_index_random_claims)
{
	static const char *const ips[] = {"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.1,10.0.0.2",
					  "10.0.0.3,fd00::3"};
	static const char *const addrs[] = {"10.0.0.1", "10.0.0.2", "10.0.0.3", "fd00::3"};
	struct npd_store *s = npd_store_new();
	unsigned seed = tu_seed("ip_index_random_claims");
	char name[16];
	size_t step, a, j, k;

	for (step = 0; step < 4000; step++) {
		snprintf(name, sizeof(name), "p%d", rand() % 8);
		if (rand() % 3 == 0) {
			npd_store_del(s, NPD_KIND_POD, "ns", name);
		} else {
			struct npd_pod *pod =
			    tu_pod("ns", name, "app=x", ips[rand() % NPD_ARRAY_SIZE(ips)], "n1");

			if (rand() % 4 == 0)
				pod->phase = NPD_PHASE_SUCCEEDED;
			npd_store_add_pod(s, pod);
		}
		for (a = 0; a < NPD_ARRAY_SIZE(addrs); a++) {
			const struct npd_pod *const *pods;
			const struct npd_pod *owner;
			struct npd_addr ad;
			bool claimed = false, owner_claims = false;
			size_t n;

			ck_assert_int_eq(npd_addr_parse(addrs[a], &ad), 0);
			owner = npd_store_pod_by_ip(s, &ad);
			pods = npd_store_pods_in(s, "ns", &n);
			for (j = 0; j < n; j++)
				for (k = 0; k < pods[j]->n_ips; k++)
					if (npd_pod_is_selectable(pods[j]) &&
					    !npd_addr_cmp(&pods[j]->ips[k], &ad)) {
						claimed = true;
						owner_claims |= pods[j] == owner;
					}
			ck_assert_msg(claimed == (owner != NULL) && (!owner || owner_claims),
				      "seed %u step %zu: %s owned by %s, claimed %d", seed, step,
				      addrs[a], owner ? owner->name : "nobody", claimed);
		}
	}
	npd_store_free(s);
}
END_TEST

static void
count_pod(const struct npd_pod *pod, void *ctx)
{
	struct npd_buf *b = ctx;

	npd_buf_printf(b, "%s/%s ", pod->ns, pod->name);
}

START_TEST(select_pods_by_namespace_and_labels)
{
	/* namespace, name, labels; the pod's IP is 10.0.0.(index + 1). "nolabels" has no
	 * Namespace object. */
	static const char *const pods[][3] = {{"frontend", "api", "app=api"},
					      {"frontend", "app", "app=app"},
					      {"backend", "api", "app=api"},
					      {"nolabels", "api", "app=api"}};
	struct npd_store *s = npd_store_new();
	struct npd_selector ns_sel = {0}, pod_sel = {0}, all = {0};
	struct npd_buf b;
	char ip[16];
	size_t i;

	npd_store_add_namespace(s, tu_ns("frontend", "team=web"));
	npd_store_add_namespace(s, tu_ns("backend", "team=data"));
	for (i = 0; i < sizeof(pods) / sizeof(pods[0]); i++) {
		snprintf(ip, sizeof(ip), "10.0.0.%zu", i + 1);
		npd_store_add_pod(s, tu_pod(pods[i][0], pods[i][1], pods[i][2], ip, "n1"));
	}
	npd_buf_init(&b);

	tu_labels(&ns_sel.match_labels, "team=web");
	tu_labels(&pod_sel.match_labels, "app=api");
	npd_store_select_pods(s, &ns_sel, NULL, &pod_sel, count_pod, &b);
	ck_assert_str_eq(b.data, "frontend/api ");

	npd_buf_reset(&b);
	npd_store_select_pods(s, &all, NULL, &pod_sel, count_pod, &b);
	ck_assert(strstr(b.data, "frontend/api") && strstr(b.data, "backend/api") &&
		  strstr(b.data, "nolabels/api"));

	npd_buf_reset(&b);
	npd_store_select_pods(s, NULL, "frontend", NULL, count_pod, &b);
	ck_assert_str_eq(b.data, "frontend/api frontend/app ");

	/* A namespace seen only through its pods still carries its metadata.name label. */
	npd_labels_fini(&ns_sel.match_labels);
	tu_labels(&ns_sel.match_labels, "kubernetes.io/metadata.name=nolabels");
	npd_buf_reset(&b);
	npd_store_select_pods(s, &ns_sel, NULL, NULL, count_pod, &b);
	ck_assert_str_eq(b.data, "nolabels/api ");

	npd_buf_fini(&b);
	npd_selector_fini(&ns_sel);
	npd_selector_fini(&pod_sel);
	npd_store_free(s);
}
END_TEST

START_TEST(label_index_tracks_changes)
{
	struct npd_store *s = npd_store_new();
	size_t n;

	npd_store_add_pod(s, tu_pod("ns", "a", "app=x,tier=1", "10.0.0.1", NULL));
	npd_store_add_pod(s, tu_pod("ns", "b", "app=x", "10.0.0.2", NULL));
	npd_store_pods_with_label(s, "app", "x", &n);
	ck_assert_uint_eq(n, 2);
	npd_store_add_pod(s, tu_pod("ns", "a", "app=y", "10.0.0.1", NULL));
	npd_store_pods_with_label(s, "app", "x", &n);
	ck_assert_uint_eq(n, 1);
	npd_store_pods_with_label(s, "tier", "1", &n);
	ck_assert_uint_eq(n, 0);
	npd_store_pods_with_label(s, "app", "y", &n);
	ck_assert_uint_eq(n, 1);
	npd_store_free(s);
}
END_TEST

/* Applies an ADDED event of o (kind k) as part of list number list (0: a watch event). */
static int
apply_obj(struct npd_store *s, enum npd_kind k, void *o, uint32_t list)
{
	struct npd_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = NPD_EV_ADDED;
	ev.obj.kind = k;
	ev.obj.u.ns = o;
	return npd_store_apply_listed(s, &ev, list);
}

static struct npd_policy *
policy_rv(const char *name, const char *rv)
{
	struct npd_policy *p = tu_policy("ns", name, "", true, false);

	p->rv = npd_xstrdup(rv);
	return p;
}

START_TEST(relist_deletes_unlisted)
{
	struct npd_store *s = npd_store_new();

	npd_store_add_pod(s, tu_pod("ns", "keep", "", "10.0.0.1", NULL));
	npd_store_add_pod(s, tu_pod("ns", "gone", "", "10.0.0.2", NULL));
	npd_store_add_pod(s, tu_pod("other", "gone2", "", "10.0.0.3", NULL));
	npd_store_add_namespace(s, tu_ns("ns", NULL));
	npd_store_add_namespace(s, tu_ns("gone-ns", NULL));
	npd_store_add_policy(s, policy_rv("keep", "1"));
	npd_store_add_policy(s, policy_rv("gone", "1"));
	/* List 5 holds one of each: unchanged objects are marked as well as new ones. */
	ck_assert_int_eq(apply_obj(s, NPD_KIND_POD, tu_pod("ns", "keep", "", "10.0.0.1", NULL), 5),
			 0);
	ck_assert_int_eq(apply_obj(s, NPD_KIND_POLICY, policy_rv("keep", "1"), 5), 0);
	apply_obj(s, NPD_KIND_NAMESPACE, tu_ns("ns", NULL), 5);
	/* A watch event replacing a listed object keeps its mark; one of another list (an
	 * earlier, failed attempt) does not count. */
	ck_assert_int_eq(
	    apply_obj(s, NPD_KIND_POD, tu_pod("ns", "keep", "a=b", "10.0.0.1", NULL), 0), 1);
	ck_assert_int_eq(apply_obj(s, NPD_KIND_POLICY, policy_rv("keep", "2"), 0), 1);
	apply_obj(s, NPD_KIND_POD, tu_pod("ns", "stale", "", "10.0.0.4", NULL), 4);
	ck_assert_uint_eq(npd_store_del_unlisted(s, NPD_KIND_POD, 5), 3);
	ck_assert_ptr_nonnull(npd_store_get_pod(s, "ns", "keep"));
	ck_assert_ptr_null(npd_store_get_pod(s, "ns", "gone"));
	ck_assert_ptr_null(npd_store_get_pod(s, "ns", "stale"));
	ck_assert_uint_eq(npd_store_count(s, NPD_KIND_NAMESPACE), 2); /* other kinds untouched */
	ck_assert_uint_eq(npd_store_del_unlisted(s, NPD_KIND_POLICY, 5), 1);
	ck_assert_ptr_nonnull(npd_store_get_policy(s, "ns", "keep"));
	ck_assert_uint_eq(npd_store_del_unlisted(s, NPD_KIND_NAMESPACE, 5), 1);
	ck_assert_ptr_nonnull(npd_store_get_namespace(s, "ns"));
	ck_assert_ptr_null(npd_store_get_namespace(s, "gone-ns"));
	/* A list that held nothing leaves nothing. */
	ck_assert_uint_eq(npd_store_del_unlisted(s, NPD_KIND_POD, 6), 1);
	ck_assert_uint_eq(npd_store_count(s, NPD_KIND_POD), 0);
	npd_store_free(s);
}
END_TEST

START_TEST(apply_events)
{
	struct npd_store *s = npd_store_new();
	struct npd_event ev = {0};

	ev.type = NPD_EV_ADDED;
	ev.obj.kind = NPD_KIND_POD;
	ev.obj.u.pod = tu_pod("ns", "p", "app=x", "10.0.0.1", NULL);
	ck_assert_int_eq(npd_store_apply(s, &ev), 1);
	ck_assert_ptr_null(ev.obj.u.pod); /* consumed */
	ev.type = NPD_EV_DELETED;
	ev.obj.u.pod = tu_pod("ns", "p", "", "", NULL);
	ck_assert_int_eq(npd_store_apply(s, &ev), 1);
	ck_assert_ptr_null(ev.obj.u.pod);
	ck_assert_uint_eq(npd_store_count(s, NPD_KIND_POD), 0);
	ev.type = NPD_EV_BOOKMARK;
	ck_assert_int_eq(npd_store_apply(s, &ev), 0);
	npd_store_free(s);
}
END_TEST

TU_MAIN("store", add_replace_delete, status_only_update_is_not_a_change, ip_index_follows_reuse,
	ip_index_random_claims, select_pods_by_namespace_and_labels, label_index_tracks_changes,
	relist_deletes_unlisted, apply_events)
