/* check_util.c: allocation helpers, buffers, hashing, address parsing and the map. */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npd/util.h"

START_TEST(buf_grows_and_formats)
{
	struct npd_buf b;
	int i;
	char *s;

	npd_buf_init(&b);
	for (i = 0; i < 1000; i++)
		npd_buf_printf(&b, "%d,", i);
	ck_assert_uint_eq(b.len, strlen(b.data));
	ck_assert(strncmp(b.data, "0,1,2,", 6) == 0);
	ck_assert(strstr(b.data, "999,") != NULL);
	s = npd_buf_steal(&b);
	ck_assert_ptr_null(b.data);
	free(s);
}
END_TEST

START_TEST(hash_is_stable)
{
	/* Chain and set names derive from this: it must never change between releases. */
	ck_assert_uint_eq(npd_hash64s("", NPD_HASH_SEED), 0xcbf29ce484222325ULL);
	ck_assert_uint_eq(npd_hash64s("a", NPD_HASH_SEED), 0xaf63dc4c8601ec8cULL);
	ck_assert_uint_ne(npd_hash64s("I|a/b", NPD_HASH_SEED), npd_hash64s("E|a/b", NPD_HASH_SEED));
}
END_TEST

START_TEST(addr_and_cidr)
{
	struct npd_addr a;
	struct npd_cidr c, d;
	char buf[NPD_CIDRSTRLEN];

	ck_assert_int_eq(npd_addr_parse("10.244.1.5", &a), 0);
	ck_assert_int_eq(a.family, AF_INET);
	ck_assert_int_eq(npd_addr_parse("fd00:244:1::5", &a), 0);
	ck_assert_int_eq(a.family, AF_INET6);
	ck_assert_int_lt(npd_addr_parse("10.244.1", &a), 0);
	ck_assert_int_lt(npd_addr_parse("", &a), 0);

	ck_assert_int_eq(npd_cidr_parse("10.0.0.0/8", true, &c), 0);
	ck_assert_str_eq(npd_cidr_format(&c, buf), "10.0.0.0/8");
	ck_assert_int_lt(npd_cidr_parse("10.1.2.3/8", true, &c), 0);
	ck_assert_int_eq(npd_cidr_parse("10.1.2.3/8", false, &c), 0);
	ck_assert_str_eq(npd_cidr_format(&c, buf), "10.0.0.0/8");
	ck_assert_int_lt(npd_cidr_parse("10.0.0.0/33", false, &c), 0);
	ck_assert_int_lt(npd_cidr_parse("10.0.0.0/-1", false, &c), 0);
	ck_assert_int_lt(npd_cidr_parse("10.0.0.0/", false, &c), 0);
	ck_assert_int_lt(npd_cidr_parse("10.0.0.0", false, &c), 0);
	ck_assert_int_lt(npd_cidr_parse("nonsense/8", false, &c), 0);
	ck_assert_int_eq(npd_cidr_parse("::/0", true, &c), 0);
	ck_assert_int_eq(npd_cidr_parse("0.0.0.0/0", true, &d), 0);
	ck_assert_int_eq(npd_addr_parse("192.168.1.1", &a), 0);
	ck_assert(npd_cidr_contains(&d, &a));
	ck_assert(!npd_cidr_contains(&c, &a)); /* family mismatch */
	ck_assert_int_eq(npd_cidr_parse("192.168.0.0/16", true, &c), 0);
	ck_assert(npd_cidr_contains(&c, &a));
	ck_assert_int_eq(npd_cidr_parse("192.168.1.0/24", true, &d), 0);
	ck_assert(npd_cidr_covers(&c, &d));
	ck_assert(!npd_cidr_covers(&d, &c));
}
END_TEST

START_TEST(map_set_get_del_many)
{
	struct npd_map m;
	char key[32];
	size_t i, it = 0, seen = 0;
	const char *k;
	void *v;

	npd_map_init(&m);
	for (i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "k%zu", i);
		ck_assert_ptr_null(npd_map_set(&m, key, (void *)(i + 1)));
	}
	ck_assert_uint_eq(m.len, 5000);
	for (i = 0; i < 5000; i += 2) {
		snprintf(key, sizeof(key), "k%zu", i);
		ck_assert_ptr_eq(npd_map_del(&m, key), (void *)(i + 1));
	}
	for (i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "k%zu", i);
		if (i % 2)
			ck_assert_ptr_eq(npd_map_get(&m, key), (void *)(i + 1));
		else
			ck_assert_ptr_null(npd_map_get(&m, key));
	}
	/* Re-adding after deletes reuses tombstones without losing entries. */
	for (i = 0; i < 5000; i += 2) {
		snprintf(key, sizeof(key), "k%zu", i);
		npd_map_set(&m, key, (void *)(i + 1));
	}
	while (npd_map_next(&m, &it, &k, &v)) {
		ck_assert_ptr_eq(npd_map_get(&m, k), v);
		seen++;
	}
	ck_assert_uint_eq(seen, 5000);
	ck_assert_ptr_eq(npd_map_set(&m, "k1", (void *)7), (void *)2);
	npd_map_fini(&m);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, buf_grows_and_formats);
	tcase_add_test(tc, hash_is_stable);
	tcase_add_test(tc, addr_and_cidr);
	tcase_add_test(tc, map_set_get_del_many);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
