/* check_intern.c: the shared string table: one copy per distinct string, counted
 * references, the last release frees, and a seeded random add/del sequence against a
 * plain array model (growth and backward-shift deletion included). */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npd/intern.h"
#include "testutil.h"
#include "tu_world.h"

START_TEST(intern_shares_and_counts)
{
	struct npd_intern *t = npd_intern_new();
	char buf[16];
	const char *a, *b, *c;

	strcpy(buf, "app");
	a = npd_intern_add(t, buf);
	b = npd_intern_add(t, "app");
	ck_assert_ptr_eq(a, b);
	ck_assert_ptr_ne(a, buf);
	ck_assert_str_eq(a, "app");
	c = npd_intern_add(t, "");
	ck_assert_str_eq(c, "");
	ck_assert_ptr_null(npd_intern_add(t, NULL));
	ck_assert_uint_eq(npd_intern_count(t), 2);
	ck_assert_uint_eq(npd_intern_refs(t, a), 2);
	ck_assert_uint_eq(npd_intern_bytes(t), 5);
	/* A string equal to one held but not the table's copy has no references. */
	ck_assert_uint_eq(npd_intern_refs(t, buf), 0);
	npd_intern_del(t, a);
	ck_assert_uint_eq(npd_intern_refs(t, b), 1);
	npd_intern_del(t, b);
	ck_assert_uint_eq(npd_intern_count(t), 1);
	ck_assert_uint_eq(npd_intern_refs(t, "app"), 0);
	npd_intern_del(t, NULL);
	npd_intern_del(t, c);
	ck_assert_uint_eq(npd_intern_count(t), 0);
	ck_assert_uint_eq(npd_intern_bytes(t), 0);
	/* Strings still held are freed with the table. */
	npd_intern_add(t, "left");
	npd_intern_free(t);
	npd_intern_free(NULL);
}
END_TEST

#define POOL 3000

START_TEST(intern_random_against_model)
{
	uint64_t seed = tu_seed_from_env("NPD_INTERN_SEED"), st = seed ? seed : 1;
	struct npd_intern *t = npd_intern_new();
	static const char *ptr[POOL];
	static size_t refs[POOL];
	size_t step, i, distinct = 0, bytes = 0;
	char name[32];

	printf("intern_random_against_model: seed %" PRIu64 " (NPD_INTERN_SEED to replay)\n", seed);
	memset(refs, 0, sizeof(refs));
	for (step = 0; step < 200000; step++) {
		uint64_t r = tu_rand(&st);

		i = (size_t)(r >> 8) % POOL;
		snprintf(name, sizeof(name), "label-%zu%s", i, i % 7 ? "" : "-longer-value");
		/* Adds win slightly while filling, then removals drain the table. */
		if (refs[i] && ((r & 255) < (step < 120000 ? 100u : 200u))) {
			npd_intern_del(t, ptr[i]);
			if (--refs[i] == 0) {
				distinct--;
				bytes -= strlen(name) + 1;
			}
		} else if (step < 180000) {
			const char *p = npd_intern_add(t, name);

			ck_assert_str_eq(p, name);
			if (refs[i])
				ck_assert_ptr_eq(p, ptr[i]);
			else {
				distinct++;
				bytes += strlen(name) + 1;
			}
			ptr[i] = p;
			refs[i]++;
		}
		if (step % 997 == 0) {
			ck_assert_uint_eq(npd_intern_count(t), distinct);
			ck_assert_uint_eq(npd_intern_bytes(t), bytes);
			for (i = 0; i < POOL; i += 13)
				ck_assert_uint_eq(refs[i] ? npd_intern_refs(t, ptr[i]) : 0,
						  refs[i]);
		}
	}
	for (i = 0; i < POOL; i++) {
		if (refs[i])
			ck_assert_uint_eq(npd_intern_refs(t, ptr[i]), refs[i]);
		for (; refs[i]; refs[i]--)
			npd_intern_del(t, ptr[i]);
	}
	ck_assert_uint_eq(npd_intern_count(t), 0);
	ck_assert_uint_eq(npd_intern_bytes(t), 0);
	npd_intern_free(t);
}
END_TEST

TU_MAIN("intern", intern_shares_and_counts, intern_random_against_model)
