/* check_limits.c: every bound of include/npd/limits.h, each at its value (decoded) and one
 * above (rejected with a limit diagnostic naming the object and the bound), with the
 * objects around it in the same list or stream still decoded: object bytes of a watch line
 * and of a list item, JSON and YAML depth, and the entry caps of a policy and a pod. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npd/buf.h"
#include "npd/json.h"
#include "npd/limits.h"
#include "npd/mem.h"
#include "npd/yaml.h"
#include "json_int.h"
#include "testutil.h"

#define SMALL_MAX 4096 /* the smallest byte bound, so that tests stay quick */

/* Decodes s (len bytes, kind Pod) in chunks of step bytes (0: whole) with the byte bound
 * max (0: the default). */
static void
run(struct tu_json_run *r, enum npd_json_mode mode, const char *s, size_t len, size_t step,
    size_t max)
{
	tu_json_run(r, mode, NPD_KIND_POD, s, len, step, max);
}

/* The pods decoded are exactly names, a space-separated list in order. */
static void
got_pods(const struct tu_json_run *r, const char *names)
{
	struct npd_buf b;
	size_t i;

	npd_buf_init(&b);
	for (i = 0; i < r->got.n; i++)
		npd_buf_printf(&b, "%s%s", i ? " " : "", r->got.v[i].obj.u.pod->name);
	ck_assert_str_eq(b.data ? b.data : "", names);
	npd_buf_fini(&b);
}

/* The only diagnostic: a limit one about bound limit. */
static const struct npd_diag *
only_limit(const struct tu_json_run *r, const char *limit)
{
	ck_assert_uint_eq(r->diags.n, 1);
	ck_assert_int_eq(r->diags.v[0].kind, NPD_DIAG_LIMIT);
	ck_assert_ptr_nonnull(r->diags.v[0].limit);
	ck_assert_str_eq(r->diags.v[0].limit, limit);
	return &r->diags.v[0];
}

/* A pod of exactly len bytes: its name first, then padding in a field netpold skips (after
 * the name when named, else before metadata). */
static void
add_pod(struct npd_buf *b, const char *name, bool name_first, size_t len)
{
	char head[128], tail[128];
	size_t start = b->len, pad;

	if (name_first) {
		snprintf(head, sizeof(head),
			 "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"n\"},\"pad\":\"", name);
		snprintf(tail, sizeof(tail), "\"}");
	} else {
		snprintf(head, sizeof(head), "{\"pad\":\"");
		snprintf(tail, sizeof(tail),
			 "\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"n\"}}", name);
	}
	ck_assert_uint_gt(len, strlen(head) + strlen(tail));
	pad = len - strlen(head) - strlen(tail);
	npd_buf_adds(b, head);
	while (pad--)
		npd_buf_addc(b, 'x');
	npd_buf_adds(b, tail);
	ck_assert_uint_eq(b->len - start, len);
}

static void
add_watch_line(struct npd_buf *b, const char *name, bool name_first, size_t len)
{
	static const char head[] = "{\"type\":\"ADDED\",\"object\":";

	npd_buf_adds(b, head);
	add_pod(b, name, name_first, len - strlen(head) - 1);
	npd_buf_adds(b, "}\n");
}

static const size_t steps[] = {0, 1, 7, 1000};

START_TEST(watch_line_bytes)
{
	struct npd_buf b;
	struct tu_json_run r;
	size_t big_at;

	npd_buf_init(&b);
	add_watch_line(&b, "a", true, 200);
	add_watch_line(&b, "at-max", true, SMALL_MAX);
	big_at = b.len;
	add_watch_line(&b, "over-max", true, SMALL_MAX + 1);
	add_watch_line(&b, "nameless", false, 2 * SMALL_MAX);
	add_watch_line(&b, "c", true, 200);
	run(&r, NPD_JSON_WATCH, b.data, b.len, steps[_i], SMALL_MAX);
	ck_assert_int_eq(r.feed_rc, 0);
	ck_assert_int_eq(r.finish_rc, 0);
	got_pods(&r, "a at-max c");
	ck_assert_uint_eq(r.diags.n, 2);
	ck_assert_int_eq(r.diags.v[0].kind, NPD_DIAG_LIMIT);
	ck_assert_str_eq(r.diags.v[0].limit, "size");
	ck_assert_str_eq(r.diags.v[0].name, "over-max");
	ck_assert_str_eq(r.diags.v[0].ns, "n");
	ck_assert_str_eq(r.diags.v[0].obj_kind, "Pod");
	ck_assert(strstr(r.diags.v[0].msg, "watch line 3") != NULL);
	/* The name came after the cut: the line is told by where it began. */
	ck_assert_ptr_null(r.diags.v[1].name);
	ck_assert_str_eq(r.diags.v[1].limit, "size");
	big_at += SMALL_MAX + 2; /* the line over-max and its newline */
	{
		char want[64];

		snprintf(want, sizeof(want), "oversized object at byte %zu", big_at);
		ck_assert_msg(strstr(r.diags.v[1].msg, want) != NULL, "%s", r.diags.v[1].msg);
	}
	tu_json_run_fini(&r);
	npd_buf_fini(&b);
}
END_TEST

/* The default bound, with a line far above it: skipped, the next line decoded. */
START_TEST(watch_line_default_bound)
{
	struct npd_buf b;
	struct tu_json_run r;

	npd_buf_init(&b);
	add_watch_line(&b, "at-max", true, NPD_LIMIT_OBJECT_BYTES);
	add_watch_line(&b, "huge", true, 3 * NPD_LIMIT_OBJECT_BYTES);
	add_watch_line(&b, "after", true, 300);
	run(&r, NPD_JSON_WATCH, b.data, b.len, 65536, 0);
	got_pods(&r, "at-max after");
	ck_assert_str_eq(only_limit(&r, "size")->name, "huge");
	tu_json_run_fini(&r);
	npd_buf_fini(&b);
}
END_TEST

START_TEST(list_item_bytes)
{
	struct npd_buf b;
	struct tu_json_run r;

	npd_buf_init(&b);
	npd_buf_adds(&b, "{\"kind\":\"PodList\",\"items\":[");
	add_pod(&b, "a", true, 100);
	npd_buf_addc(&b, ',');
	add_pod(&b, "at-max", true, SMALL_MAX);
	npd_buf_adds(&b, " , ");
	add_pod(&b, "over-max", true, SMALL_MAX + 1);
	npd_buf_addc(&b, ',');
	add_pod(&b, "nameless", false, 2 * SMALL_MAX);
	npd_buf_addc(&b, ',');
	add_pod(&b, "c", true, 100);
	/* The list's own fields after the items still arrive. */
	npd_buf_adds(&b, "],\"metadata\":{\"resourceVersion\":\"77\"}}");
	run(&r, NPD_JSON_LIST, b.data, b.len, steps[_i], SMALL_MAX);
	ck_assert_int_eq(r.feed_rc, 0);
	ck_assert_int_eq(r.finish_rc, 0);
	got_pods(&r, "a at-max c");
	ck_assert_str_eq(r.list_rv, "77");
	ck_assert_uint_eq(r.diags.n, 2);
	ck_assert_str_eq(r.diags.v[0].limit, "size");
	ck_assert_str_eq(r.diags.v[0].name, "over-max");
	ck_assert_ptr_null(r.diags.v[1].name);
	ck_assert(strstr(r.diags.v[1].msg, "oversized object at byte") != NULL);
	tu_json_run_fini(&r);
	npd_buf_fini(&b);
}
END_TEST

/* Outside the items (or in OBJECT mode) there is nothing to skip to: the document fails. */
START_TEST(document_bytes)
{
	struct npd_buf b;
	struct tu_json_run r;

	npd_buf_init(&b);
	add_pod(&b, "at-max", true, SMALL_MAX);
	run(&r, NPD_JSON_OBJECT, b.data, b.len, steps[_i], SMALL_MAX);
	ck_assert_int_eq(r.finish_rc, 0);
	got_pods(&r, "at-max");
	tu_json_run_fini(&r);
	npd_buf_reset(&b);
	add_pod(&b, "over-max", true, SMALL_MAX + 1);
	run(&r, NPD_JSON_OBJECT, b.data, b.len, steps[_i], SMALL_MAX);
	ck_assert_int_eq(r.feed_rc, -EINVAL);
	ck_assert_uint_eq(r.got.n, 0);
	ck_assert_str_eq(only_limit(&r, "size")->name, "over-max");
	tu_json_run_fini(&r);
	npd_buf_reset(&b);
	npd_buf_adds(&b, "{\"kind\":\"PodList\",\"metadata\":{\"x\":\"");
	while (b.len < SMALL_MAX + 10)
		npd_buf_addc(&b, 'x');
	npd_buf_adds(&b, "\"},\"items\":[]}");
	run(&r, NPD_JSON_LIST, b.data, b.len, steps[_i], SMALL_MAX);
	ck_assert_int_eq(r.feed_rc, -EINVAL);
	only_limit(&r, "size");
	tu_json_run_fini(&r);
	npd_buf_fini(&b);
}
END_TEST

/* depth containers: the object itself and depth - 1 arrays inside its "pad" field. */
static void
add_deep_pod(struct npd_buf *b, const char *name, size_t depth)
{
	size_t i;

	npd_buf_printf(b, "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"n\"},\"pad\":", name);
	for (i = 1; i < depth; i++)
		npd_buf_addc(b, '[');
	for (i = 1; i < depth; i++)
		npd_buf_addc(b, ']');
	npd_buf_addc(b, '}');
}

START_TEST(json_depth)
{
	struct npd_buf b;
	struct tu_json_run r;

	/* A watch line nests the object at depth 2; a list's items are at depth 3. */
	npd_buf_init(&b);
	npd_buf_adds(&b, "{\"type\":\"ADDED\",\"object\":");
	add_deep_pod(&b, "at-max", NPD_LIMIT_DEPTH - 1);
	npd_buf_adds(&b, "}\n{\"type\":\"ADDED\",\"object\":");
	add_deep_pod(&b, "over-max", NPD_LIMIT_DEPTH);
	npd_buf_adds(&b, "}\n{\"type\":\"ADDED\",\"object\":");
	add_deep_pod(&b, "c", 2);
	npd_buf_adds(&b, "}\n");
	run(&r, NPD_JSON_WATCH, b.data, b.len, steps[_i], 0);
	got_pods(&r, "at-max c");
	ck_assert_str_eq(only_limit(&r, "depth")->name, "over-max");
	tu_json_run_fini(&r);

	npd_buf_reset(&b);
	npd_buf_adds(&b, "{\"items\":[");
	add_deep_pod(&b, "at-max", NPD_LIMIT_DEPTH - 2);
	npd_buf_addc(&b, ',');
	add_deep_pod(&b, "over-max", NPD_LIMIT_DEPTH - 1);
	npd_buf_addc(&b, ',');
	add_deep_pod(&b, "c", 2);
	npd_buf_adds(&b, "]}");
	run(&r, NPD_JSON_LIST, b.data, b.len, steps[_i], 0);
	ck_assert_int_eq(r.finish_rc, 0);
	got_pods(&r, "at-max c");
	ck_assert_str_eq(only_limit(&r, "depth")->name, "over-max");
	tu_json_run_fini(&r);
	npd_buf_fini(&b);
}
END_TEST

static void
on_yaml(struct npd_event *ev, void *ctx)
{
	tu_collect(ev, ctx);
}

START_TEST(yaml_depth)
{
	struct npd_buf b;
	struct tu_events got;
	struct npd_diags d;
	size_t depth, i;
	static const char *const names[] = {"at-max", "over-max", "c"};

	npd_buf_init(&b);
	/* A document's root map is depth 1; "pad" holds depth - 1 more flow sequences. */
	for (i = 0; i < 3; i++) {
		depth = i == 0 ? NPD_LIMIT_DEPTH : i == 1 ? NPD_LIMIT_DEPTH + 1 : 2;
		npd_buf_printf(&b,
			       "apiVersion: v1\nkind: Pod\nmetadata: {name: %s}\npad: ", names[i]);
		for (size_t j = 1; j < depth; j++)
			npd_buf_addc(&b, '[');
		for (size_t j = 1; j < depth; j++)
			npd_buf_addc(&b, ']');
		npd_buf_adds(&b, "\n---\n");
	}
	memset(&got, 0, sizeof(got));
	npd_diags_init(&d);
	ck_assert_int_eq(npd_yaml_decode_buf(b.data, b.len, "deep.yaml", on_yaml, &got, &d), 0);
	ck_assert_uint_eq(got.n, 2);
	ck_assert_str_eq(got.v[0].obj.u.pod->name, "at-max");
	ck_assert_str_eq(got.v[1].obj.u.pod->name, "c");
	ck_assert_uint_eq(d.n, 1);
	ck_assert_int_eq(d.v[0].kind, NPD_DIAG_LIMIT);
	ck_assert_str_eq(d.v[0].limit, "depth");
	ck_assert_str_eq(d.v[0].name, "over-max");
	ck_assert_int_eq(d.v[0].line, 9);
	tu_events_fini(&got);
	npd_diags_fini(&d);
	npd_buf_fini(&b);
}
END_TEST

/* A policy (or a pod) whose list named limit holds n entries. */
struct cap_case {
	const char *limit;
	size_t cap;
	bool pod;		/* a pod's list: over the cap the pod is skipped */
	const char *head;	/* up to the list */
	const char *pre, *post; /* one entry: pre, its number (1-based), post */
	bool hex;		/* the number in hexadecimal */
	const char *tail;	/* after the list */
	const char *path;	/* where the diagnostic points */
};

static const struct cap_case caps[] = {
    {"rules", NPD_LIMIT_RULES, false, "{\"ingress\":[", "{\"ports\":[{\"port\":", "}]}", false,
     "]}", "spec.ingress"},
    {"peers", NPD_LIMIT_PEERS, false, "{\"ingress\":[{\"from\":[",
     "{\"ipBlock\":{\"cidr\":\"fd00::", "/128\"}}", true, "]}]}", "spec.ingress[0].from"},
    {"ports", NPD_LIMIT_PORTS, false, "{\"egress\":[{\"ports\":[", "{\"port\":", "}", false, "]}]}",
     "spec.egress[0].ports"},
    {"expressions", NPD_LIMIT_EXPRESSIONS, false,
     "{\"ingress\":[{\"from\":[{\"podSelector\":{\"matchExpressions\":[", "{\"key\":\"k",
     "\",\"operator\":\"Exists\"}", false, "]}}]}]}",
     "spec.ingress[0].from[0].podSelector.matchExpressions"},
    {"values", NPD_LIMIT_VALUES, false,
     "{\"ingress\":[{\"from\":[{\"podSelector\":{\"matchExpressions\":[{\"key\":\"k\","
     "\"operator\":\"In\",\"values\":[",
     "\"v", "\"", false, "]}]}}]}]}",
     "spec.ingress[0].from[0].podSelector.matchExpressions[0].values"},
    {"labels", NPD_LIMIT_LABELS, false,
     "{\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":{", "\"k", "\":\"v\"", false,
     "}}}]}]}", "spec.ingress[0].from[0].podSelector.matchLabels"},
    {"values", NPD_LIMIT_VALUES, false,
     "{\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"fd00::/64\",\"except\":[",
     "\"fd00::", "/128\"", true, "]}}]}]}", "spec.ingress[0].from[0].ipBlock.except"},
    {"labels", NPD_LIMIT_LABELS, true, "\"labels\":{", "\"k", "\":\"v\"", false, "}",
     "metadata.labels"},
};

static void
add_entries(struct npd_buf *b, const struct cap_case *c, size_t n)
{
	size_t i;

	npd_buf_adds(b, c->head);
	for (i = 0; i < n; i++) {
		if (i)
			npd_buf_addc(b, ',');
		npd_buf_adds(b, c->pre);
		if (c->hex)
			npd_buf_printf(b, "%zx", i + 1);
		else
			npd_buf_printf(b, "%zu", i + 1);
		npd_buf_adds(b, c->post);
	}
	npd_buf_adds(b, c->tail);
}

static void
add_object(struct npd_buf *b, const struct cap_case *c, const char *name, size_t n)
{
	if (c->pod) {
		npd_buf_printf(b,
			       "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\",\"namespace\":"
			       "\"n\",",
			       name);
		add_entries(b, c, n);
		npd_buf_adds(b, "},\"status\":{\"podIP\":\"10.1.1.1\"}}");
		return;
	}
	npd_buf_printf(b,
		       "{\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"%s\",\"namespace\":"
		       "\"n\"},\"spec\":",
		       name);
	add_entries(b, c, n);
	npd_buf_addc(b, '}');
}

static size_t
count_of(const struct cap_case *c, const struct npd_event *ev)
{
	const struct npd_policy *p = ev->obj.u.policy;

	if (c->pod)
		return ev->obj.u.pod->labels.n;
	if (!strcmp(c->limit, "rules"))
		return p->n_ingress;
	if (!strcmp(c->limit, "ports"))
		return p->egress[0].n_ports;
	if (!strcmp(c->path, "spec.ingress[0].from"))
		return p->ingress[0].n_peers;
	if (!strcmp(c->limit, "expressions"))
		return p->ingress[0].peers[0].pod_sel.n_exprs;
	if (!strcmp(c->limit, "labels"))
		return p->ingress[0].peers[0].pod_sel.match_labels.n;
	if (strstr(c->path, "except"))
		return p->ingress[0].peers[0].n_except;
	return p->ingress[0].peers[0].pod_sel.exprs[0].n_values;
}

START_TEST(entry_caps)
{
	const struct cap_case *c = &caps[_i];
	struct npd_buf b;
	struct tu_json_run r;
	const struct npd_diag *dg;

	npd_buf_init(&b);
	npd_buf_adds(&b, "{\"items\":[");
	add_object(&b, c, "before", 1);
	npd_buf_addc(&b, ',');
	add_object(&b, c, "at-max", c->cap);
	npd_buf_addc(&b, ',');
	add_object(&b, c, "over-max", c->cap + 1);
	npd_buf_addc(&b, ',');
	add_object(&b, c, "after", 2);
	npd_buf_adds(&b, "]}");
	run(&r, NPD_JSON_LIST, b.data, b.len, 0, 0);
	ck_assert_int_eq(r.finish_rc, 0);
	dg = only_limit(&r, c->limit);
	ck_assert_str_eq(dg->name, "over-max");
	ck_assert_str_eq(dg->path, c->path);
	/* A policy over a cap stays, invalid: it isolates what it selects and admits nothing. */
	ck_assert_uint_eq(r.got.n, c->pod ? 3 : 4);
	ck_assert_str_eq(npd_object_name(&r.got.v[1].obj), "at-max");
	ck_assert_uint_eq(count_of(c, &r.got.v[1]), c->cap);
	ck_assert_uint_eq(count_of(c, &r.got.v[0]), 1);
	ck_assert_uint_eq(count_of(c, &r.got.v[r.got.n - 1]), 2);
	if (!c->pod) {
		const struct npd_policy *p = r.got.v[2].obj.u.policy;

		ck_assert_str_eq(p->name, "over-max");
		ck_assert(p->invalid);
		ck_assert_uint_eq(p->n_ingress + p->n_egress, 0);
		ck_assert(!r.got.v[1].obj.u.policy->invalid);
	}
	tu_json_run_fini(&r);
	npd_buf_fini(&b);
}
END_TEST

/* The scanner stops at the byte bound exactly, also when the bound falls inside a run of
 * plain string bytes that it takes at once, and whatever the run's length. */
START_TEST(scan_stops_inside_a_string)
{
	static const unsigned char in[] = "\"aaaaaaaaaaaaaaaaaaaaaaaa\\\"bbbbbbbb\"";
	size_t n = sizeof(in) - 1;

	for (size_t max = 1; max < n; max++) {
		struct npd_jscan s = {.max_depth = NPD_LIMIT_DEPTH, .max_bytes = max};
		enum npd_jscan_ev ev;

		npd_jscan_reset(&s);
		ck_assert_uint_eq(npd_jscan_run(&s, in, n, &ev), max);
		ck_assert_int_eq(ev, NPD_JSCAN_TOO_BIG);
	}
	{
		struct npd_jscan s = {.max_depth = NPD_LIMIT_DEPTH, .max_bytes = n};
		enum npd_jscan_ev ev;

		npd_jscan_reset(&s);
		ck_assert_uint_eq(npd_jscan_run(&s, in, n, &ev), n);
		ck_assert_int_eq(ev, NPD_JSCAN_NONE);
		ck_assert(!s.in_str);
	}
}
END_TEST

/* n entries "pre<i>post" separated by commas. */
static void
add_list(struct npd_buf *b, const char *pre, const char *post, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		npd_buf_printf(b, "%s%s%zu%s", i ? "," : "", pre, i + 1, post);
}

struct rejected {
	char got[512];
};

static void
note_rejected(const struct npd_diag *dg, void *arg)
{
	struct rejected *r = arg;
	size_t len = strlen(r->got);

	snprintf(r->got + len, sizeof(r->got) - len, "%s%s/%s:%s", len ? " " : "", dg->obj_kind,
		 dg->name ? dg->name : "-", dg->limit);
}

/* A policy over three bounds is one rejected object (counted with its first bound), not
 * three; its neighbours over one bound each are one each. */
START_TEST(rejections_count_objects)
{
	struct rejected rj = {{0}};
	struct tu_json_run r;
	struct npd_buf b;
	size_t i, n_limit = 0;

	npd_buf_init(&b);
	npd_buf_adds(&b, "{\"items\":[{\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":"
			 "\"triple\",\"namespace\":\"n\"},\"spec\":{\"ingress\":[{\"from\":[");
	add_list(&b, "{\"podSelector\":{\"matchLabels\":{\"k\":\"", "\"}}}", NPD_LIMIT_PEERS + 1);
	npd_buf_adds(&b, "]},{\"ports\":[");
	add_list(&b, "{\"port\":", "}", NPD_LIMIT_PORTS + 1);
	npd_buf_adds(&b, "]}],\"egress\":[{\"to\":[{\"podSelector\":{\"matchExpressions\":[");
	add_list(&b, "{\"key\":\"k", "\",\"operator\":\"Exists\"}", NPD_LIMIT_EXPRESSIONS + 1);
	npd_buf_adds(&b, "]}}]}]}},{\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"single\","
			 "\"namespace\":\"n\"},\"spec\":{\"ingress\":[");
	add_list(&b, "{\"ports\":[{\"port\":", "}]}", NPD_LIMIT_RULES + 1);
	npd_buf_adds(&b, "]}},{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"n\","
			 "\"labels\":{");
	add_list(&b, "\"k", "\":\"v\"", NPD_LIMIT_LABELS + 1);
	npd_buf_adds(&b, "}},\"status\":{\"podIP\":\"10.1.1.1\"}}]}");
	run(&r, NPD_JSON_LIST, b.data, b.len, 0, 0);
	ck_assert_int_eq(r.finish_rc, 0);
	for (i = 0; i < r.diags.n; i++)
		if (r.diags.v[i].kind == NPD_DIAG_LIMIT && r.diags.v[i].limit)
			n_limit++;
	ck_assert_uint_eq(n_limit, 5);
	npd_diags_each_rejected(&r.diags, note_rejected, &rj);
	ck_assert_str_eq(rj.got,
			 "NetworkPolicy/triple:peers NetworkPolicy/single:rules Pod/p:labels");
	tu_json_run_fini(&r);
	npd_buf_fini(&b);
}
END_TEST

static void
extra(TCase *tc)
{
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, watch_line_bytes, 0, (int)NPD_ARRAY_SIZE(steps));
	tcase_add_loop_test(tc, list_item_bytes, 0, (int)NPD_ARRAY_SIZE(steps));
	tcase_add_loop_test(tc, document_bytes, 0, (int)NPD_ARRAY_SIZE(steps));
	tcase_add_loop_test(tc, json_depth, 0, (int)NPD_ARRAY_SIZE(steps));
	tcase_add_loop_test(tc, entry_caps, 0, (int)NPD_ARRAY_SIZE(caps));
}

TU_MAIN_WITH("limits", extra, watch_line_default_bound, yaml_depth, scan_stops_inside_a_string,
	     rejections_count_objects)
