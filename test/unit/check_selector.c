/* check_selector.c: LabelSelector matching, canonical form and validation. */
#include <check.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "npd/buf.h"
#include "npd/mem.h"
#include "npd/selector.h"
#include "testutil.h"

static void
add_expr(struct npd_selector *s, const char *key, enum npd_sel_op op, const char *values)
{
	struct npd_sel_expr *e;
	char *copy, *tok, *save = NULL;

	s->exprs = npd_xrealloc(s->exprs, (s->n_exprs + 1) * sizeof(*s->exprs));
	e = &s->exprs[s->n_exprs++];
	memset(e, 0, sizeof(*e));
	e->key = npd_xstrdup(key);
	e->op = op;
	if (!values)
		return;
	copy = npd_xstrdup(values);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		e->values = npd_xrealloc(e->values, (e->n_values + 1) * sizeof(char *));
		e->values[e->n_values++] = npd_xstrdup(tok);
	}
	free(copy);
}

START_TEST(empty_selects_everything)
{
	struct npd_selector s = {0};
	struct npd_labels none = {0}, some = {0};

	tu_labels(&some, "app=web");
	ck_assert(npd_selector_is_empty(&s));
	ck_assert(npd_selector_matches(&s, &none));
	ck_assert(npd_selector_matches(&s, &some));
	npd_labels_fini(&some);
}
END_TEST

START_TEST(match_labels_and_expressions)
{
	struct npd_selector s = {0};
	struct npd_labels a = {0}, b = {0}, c = {0};

	tu_labels(&s.match_labels, "app=web");
	add_expr(&s, "env", NPD_SEL_IN, "prod,staging");
	add_expr(&s, "tier", NPD_SEL_NOT_IN, "db");
	add_expr(&s, "team", NPD_SEL_EXISTS, NULL);
	add_expr(&s, "legacy", NPD_SEL_DOES_NOT_EXIST, NULL);
	npd_selector_normalize(&s);

	tu_labels(&a, "app=web,env=prod,team=x");
	ck_assert(npd_selector_matches(&s, &a)); /* NotIn holds when the key is absent */
	tu_labels(&b, "app=web,env=prod,team=x,tier=db");
	ck_assert(!npd_selector_matches(&s, &b));
	tu_labels(&c, "app=web,env=dev,team=x");
	ck_assert(!npd_selector_matches(&s, &c));
	npd_labels_set(&c, "env", "staging");
	ck_assert(npd_selector_matches(&s, &c));
	npd_labels_set(&c, "legacy", "");
	ck_assert(!npd_selector_matches(&s, &c));
	npd_labels_set(&a, "app", "api");
	ck_assert(!npd_selector_matches(&s, &a));
	npd_labels_fini(&a);
	npd_labels_fini(&b);
	npd_labels_fini(&c);
	npd_selector_fini(&s);
}
END_TEST

START_TEST(canonical_form_is_order_independent)
{
	struct npd_selector x = {0}, y = {0}, z = {0};
	struct npd_buf bx, by;

	tu_labels(&x.match_labels, "b=2,a=1");
	add_expr(&x, "env", NPD_SEL_IN, "prod,dev");
	add_expr(&x, "tier", NPD_SEL_EXISTS, NULL);
	tu_labels(&y.match_labels, "a=1,b=2");
	add_expr(&y, "tier", NPD_SEL_EXISTS, NULL);
	add_expr(&y, "env", NPD_SEL_IN, "dev,prod,dev");
	npd_selector_normalize(&x);
	npd_selector_normalize(&y);
	npd_buf_init(&bx);
	npd_buf_init(&by);
	npd_selector_format(&x, &bx);
	npd_selector_format(&y, &by);
	ck_assert_str_eq(bx.data, "a=1,b=2,env in (dev,prod),tier");
	ck_assert_str_eq(bx.data, by.data);
	ck_assert(npd_selector_equal(&x, &y));
	npd_selector_copy(&z, &x);
	ck_assert(npd_selector_equal(&z, &x));
	npd_buf_fini(&bx);
	npd_buf_fini(&by);
	npd_selector_fini(&x);
	npd_selector_fini(&y);
	npd_selector_fini(&z);
}
END_TEST

START_TEST(validation_names_the_problem)
{
	struct npd_selector s = {0};
	struct npd_diags d;

	npd_diags_init(&d);
	npd_labels_set(&s.match_labels, "bad key!", "v");
	npd_labels_set(&s.match_labels, "ok", "-bad-value");
	add_expr(&s, "k", NPD_SEL_IN, NULL);
	add_expr(&s, "k2", NPD_SEL_EXISTS, "x");
	ck_assert_int_lt(
	    npd_selector_validate(&s, &d, "NetworkPolicy", "ns", "p", "spec.podSelector"), 0);
	ck_assert_uint_eq(d.n, 4);
	ck_assert_str_eq(d.v[0].name, "p");
	ck_assert_str_eq(d.v[0].path, "spec.podSelector");
	ck_assert(strstr(d.v[2].msg, "needs at least one value") != NULL);
	npd_diags_fini(&d);
	npd_selector_fini(&s);
}
END_TEST

/* The name validators against POSIX regular expressions of the API server's patterns, on
 * fixed cases and seeded random strings (NPD_SEED replays). */
START_TEST(dns_names)
{
	static const char alphabet[] = "ab09-.Z/_|";
	regex_t label, sub;
	unsigned seed = getenv("NPD_SEED") ? (unsigned)strtoul(getenv("NPD_SEED"), NULL, 0)
					   : (unsigned)time(NULL);
	char buf[300];
	int i;

	ck_assert_int_eq(regcomp(&label, "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", REG_EXTENDED), 0);
	ck_assert_int_eq(
	    regcomp(&sub, "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
		    REG_EXTENDED),
	    0);
	ck_assert(npd_is_dns_label("kube-system"));
	ck_assert(!npd_is_dns_label("a/b"));
	ck_assert(!npd_is_dns_label("a.b"));
	ck_assert(npd_is_dns_subdomain("web-0.shop"));
	ck_assert(!npd_is_dns_subdomain("a..b"));
	ck_assert(!npd_is_dns_subdomain("a.-b"));
	ck_assert(!npd_is_dns_subdomain("b/c"));
	memset(buf, 'a', 64);
	buf[64] = '\0';
	ck_assert(!npd_is_dns_label(buf));
	buf[63] = '\0';
	ck_assert(npd_is_dns_label(buf));
	printf("check_selector: dns_names seed %u (NPD_SEED=%u replays)\n", seed, seed);
	srand(seed);
	for (i = 0; i < 20000; i++) {
		size_t n = (size_t)rand() % (i % 10 ? 12 : 270), j;
		bool want_label, want_sub;

		for (j = 0; j < n; j++)
			buf[j] = alphabet[(size_t)rand() % (sizeof(alphabet) - 1)];
		buf[n] = '\0';
		want_label = n <= 63 && regexec(&label, buf, 0, NULL, 0) == 0;
		want_sub = n <= 253 && regexec(&sub, buf, 0, NULL, 0) == 0;
		ck_assert_msg(npd_is_dns_label(buf) == want_label, "label \"%s\"", buf);
		ck_assert_msg(npd_is_dns_subdomain(buf) == want_sub, "subdomain \"%s\"", buf);
	}
	regfree(&label);
	regfree(&sub);
}
END_TEST

START_TEST(label_syntax)
{
	ck_assert(npd_is_label_key("app"));
	ck_assert(npd_is_label_key("kubernetes.io/metadata.name"));
	ck_assert(!npd_is_label_key("/app"));
	ck_assert(!npd_is_label_key("Example.com/app"));
	ck_assert(!npd_is_label_key(""));
	ck_assert(npd_is_label_value(""));
	ck_assert(npd_is_label_value("v1.2_x-y"));
	ck_assert(!npd_is_label_value("a b"));
	ck_assert(npd_is_port_name("http"));
	ck_assert(npd_is_port_name("metrics-9090"));
	ck_assert(!npd_is_port_name("8080"));
	ck_assert(!npd_is_port_name("a--b"));
	ck_assert(!npd_is_port_name("way-too-long-port-name"));
}
END_TEST

TU_MAIN("selector", empty_selects_everything, match_labels_and_expressions,
	canonical_form_is_order_independent, validation_names_the_problem, label_syntax, dns_names)
