/* check_explain.c: the /debug/explain document: parsed back with yajl's tree parser (an
 * independent reader), it carries the simulator's verdict and explanation word for word,
 * the isolating policies, the deciding rule or default deny with the counters the callback
 * gives (null when it knows none), and strings escaped so any name survives. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "npd/explain.h"
#include "npd/mem.h"
#include "npd/store.h"
#include "testutil.h"

struct seen {
	int calls;
	struct npd_explain_origin last;
};

static bool
counters(void *ctx, const struct npd_explain_origin *o, uint64_t *packets, uint64_t *bytes)
{
	struct seen *sn = ctx;

	sn->calls++;
	sn->last = *o;
	*packets = 42;
	*bytes = 4200;
	return true;
}

static yajl_val
run(const struct npd_store *s, const char *from, const char *to, uint16_t port,
    npd_explain_counter_fn fn, void *ctx, char **explanation)
{
	struct npd_sim_endpoint f, t;
	struct npd_sim_result r;
	struct npd_buf b;
	char err[256];
	yajl_val v;

	ck_assert_int_eq(npd_sim_endpoint_parse(s, from, &f), 0);
	ck_assert_int_eq(npd_sim_endpoint_parse(s, to, &t), 0);
	ck_assert_int_eq(npd_sim_run(s, &f, &t, port, NPD_PROTO_TCP, &r), 0);
	npd_buf_init(&b);
	npd_explain_format(&r, &f, &t, port, NPD_PROTO_TCP, fn, ctx, &b);
	v = yajl_tree_parse(b.data, err, sizeof(err));
	ck_assert_msg(v != NULL, "not JSON: %s: %s", err, b.data);
	*explanation = npd_xstrdup(r.explanation);
	npd_sim_result_fini(&r);
	npd_buf_fini(&b);
	return v;
}

static const char *
str(yajl_val v, const char *a, const char *b, const char *c)
{
	const char *path[] = {a, b, c, NULL};
	yajl_val x = yajl_tree_get(v, path, yajl_t_string);

	return x ? YAJL_GET_STRING(x) : NULL;
}

static yajl_val
get(yajl_val v, const char *a, const char *b, const char *c)
{
	const char *path[] = {a, b, c, NULL};

	return yajl_tree_get(v, path, yajl_t_any);
}

START_TEST(allowed_names_the_rule)
{
	struct npd_store *s = tu_store_frontend_backend();
	struct seen sn = {0};
	char *text;
	yajl_val v = run(s, "frontend/api", "backend/db", 80, counters, &sn, &text);
	yajl_val iso;

	ck_assert_str_eq(str(v, "verdict", NULL, NULL), "allowed");
	ck_assert(YAJL_IS_TRUE(get(v, "allowed", NULL, NULL)));
	ck_assert_str_eq(str(v, "explanation", NULL, NULL), text);
	ck_assert_str_eq(str(v, "from", "pod", NULL), "frontend/api");
	ck_assert_str_eq(str(v, "to", "ip", NULL), "10.244.2.20");
	ck_assert_str_eq(str(v, "ingress", "decided_by", "kind"), "rule");
	ck_assert_str_eq(str(v, "ingress", "decided_by", "policy"), "db-policy");
	ck_assert_int_eq(YAJL_GET_INTEGER(get(v, "ingress", "decided_by", "rule")), 1);
	ck_assert_int_eq(YAJL_GET_INTEGER(get(v, "ingress", "decided_by", "packets")), 42);
	ck_assert_int_eq(YAJL_GET_INTEGER(get(v, "ingress", "decided_by", "bytes")), 4200);
	iso = get(v, "ingress", "isolated_by", NULL);
	ck_assert(YAJL_IS_ARRAY(iso));
	ck_assert_uint_eq(YAJL_GET_ARRAY(iso)->len, 2);
	ck_assert_str_eq(YAJL_GET_STRING(YAJL_GET_ARRAY(iso)->values[0]), "backend/db-extra");
	ck_assert_str_eq(YAJL_GET_STRING(YAJL_GET_ARRAY(iso)->values[1]), "backend/db-policy");
	/* The egress side is not isolated: nothing decides there, no counter asked. */
	ck_assert(YAJL_IS_NULL(get(v, "egress", "decided_by", NULL)));
	ck_assert_int_eq(sn.calls, 1);
	ck_assert_str_eq(sn.last.name, "db-policy");
	ck_assert(!sn.last.egress);
	ck_assert_uint_eq(sn.last.rule, 1);
	yajl_tree_free(v);
	free(text);
	npd_store_free(s);
}
END_TEST

START_TEST(denied_names_the_default_deny)
{
	struct npd_store *s = tu_store_frontend_backend();
	struct seen sn = {0};
	char *text;
	yajl_val v = run(s, "frontend/tool", "backend/db", 80, counters, &sn, &text);

	ck_assert_str_eq(str(v, "verdict", NULL, NULL), "denied");
	ck_assert(YAJL_IS_FALSE(get(v, "allowed", NULL, NULL)));
	ck_assert_str_eq(str(v, "explanation", NULL, NULL), text);
	ck_assert_ptr_nonnull(strstr(text, "DENIED"));
	ck_assert_str_eq(str(v, "ingress", "decided_by", "kind"), "default-deny");
	ck_assert_str_eq(str(v, "ingress", "decided_by", "pod"), "db");
	ck_assert_str_eq(str(v, "ingress", "decided_by", "direction"), "ingress");
	ck_assert_uint_eq(sn.last.rule, NPD_EXPLAIN_DEFAULT_DENY);
	yajl_tree_free(v);
	free(text);
	/* An outside source and no counters known: null, not zero. */
	v = run(s, "192.0.2.7", "backend/db", 443, NULL, NULL, &text);
	ck_assert_str_eq(str(v, "verdict", NULL, NULL), "allowed");
	ck_assert(YAJL_IS_NULL(get(v, "from", "pod", NULL)));
	ck_assert_int_eq(YAJL_GET_INTEGER(get(v, "ingress", "decided_by", "rule")), 0);
	ck_assert(YAJL_IS_NULL(get(v, "ingress", "decided_by", "packets")));
	yajl_tree_free(v);
	free(text);
	npd_store_free(s);
}
END_TEST

START_TEST(strings_escaped)
{
	const char *in = "a\"b\\c\nd\te\x01z/\xc3\xa9";
	struct npd_buf b;
	char err[128];
	yajl_val v;

	npd_buf_init(&b);
	npd_buf_adds(&b, "{\"k\":");
	npd_explain_json_string(&b, in);
	npd_buf_adds(&b, ",\"n\":");
	npd_explain_json_string(&b, NULL);
	npd_buf_adds(&b, "}");
	v = yajl_tree_parse(b.data, err, sizeof(err));
	ck_assert_msg(v != NULL, "%s", err);
	ck_assert_str_eq(str(v, "k", NULL, NULL), in);
	ck_assert(YAJL_IS_NULL(get(v, "n", NULL, NULL)));
	yajl_tree_free(v);
	npd_buf_fini(&b);
}
END_TEST

TU_MAIN("explain", allowed_names_the_rule, denied_names_the_default_deny, strings_escaped)
