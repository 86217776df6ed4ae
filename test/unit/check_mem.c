/* check_mem.c: the allocation wrappers: duplication, bounded copies, growth, formatting. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "npd/mem.h"
#include "testutil.h"

START_TEST(strdup_and_strndup)
{
	char *s;

	ck_assert_ptr_null(npd_xstrdup(NULL));
	s = npd_xstrdup("pod");
	ck_assert_str_eq(s, "pod");
	free(s);
	/* n beyond the string stops at its NUL; n inside it cuts. */
	s = npd_xstrndup("namespace", 100);
	ck_assert_str_eq(s, "namespace");
	free(s);
	s = npd_xstrndup("namespace", 4);
	ck_assert_str_eq(s, "name");
	free(s);
	s = npd_xstrndup("", 0);
	ck_assert_str_eq(s, "");
	free(s);
}
END_TEST

START_TEST(grow_keeps_contents)
{
	int *v = NULL;
	size_t cap = 0, i;

	npd_xgrow(&v, &cap, 1, sizeof(*v));
	ck_assert_uint_ge(cap, 1);
	for (i = 0; i < 1000; i++) {
		npd_xgrow(&v, &cap, i + 1, sizeof(*v));
		ck_assert_uint_ge(cap, i + 1);
		v[i] = (int)i * 3;
	}
	for (i = 0; i < 1000; i++)
		ck_assert_int_eq(v[i], (int)i * 3);
	/* A need already met leaves the capacity alone. */
	i = cap;
	npd_xgrow(&v, &cap, 10, sizeof(*v));
	ck_assert_uint_eq(cap, i);
	free(v);
}
END_TEST

START_TEST(asprintf_formats)
{
	char *s = npd_xasprintf("%s/%s:%d", "default", "web", 8080);

	ck_assert_str_eq(s, "default/web:8080");
	free(s);
	s = npd_xasprintf("%s", "");
	ck_assert_str_eq(s, "");
	free(s);
}
END_TEST

TU_MAIN("mem", strdup_and_strndup, grow_keeps_contents, asprintf_formats)
