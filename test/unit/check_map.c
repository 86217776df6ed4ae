/* check_map.c: the string map under many inserts, deletes and tombstone reuse; sorted keys. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "npd/map.h"
#include "testutil.h"

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

static size_t freed;

static void
count_free(void *v)
{
	freed++;
	free(v);
}

/* Clear hands over each live value once (none of the deleted), and the map is reusable. */
START_TEST(map_clear_frees_values)
{
	struct npd_map m;
	char key[32];
	size_t i;

	npd_map_init(&m);
	for (i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "k%zu", i);
		npd_map_set(&m, key, malloc(8));
	}
	for (i = 0; i < 100; i += 4) {
		snprintf(key, sizeof(key), "k%zu", i);
		free(npd_map_del(&m, key));
	}
	freed = 0;
	npd_map_clear(&m, count_free);
	ck_assert_uint_eq(freed, 75);
	ck_assert_uint_eq(m.len, 0);
	ck_assert_ptr_null(npd_map_get(&m, "k1"));
	npd_map_set(&m, "again", (void *)1);
	ck_assert_ptr_eq(npd_map_get(&m, "again"), (void *)1);
	npd_map_clear(&m, NULL);
	ck_assert_uint_eq(m.len, 0);
}
END_TEST

/* Keys inserted in a scrambled order, some deleted: the live ones come back in strcmp order
 * (zero-padded, so that is their numeric order), NULL-terminated. */
START_TEST(map_sorted_keys)
{
	struct npd_map m;
	const char **keys;
	char key[32];
	size_t i, n;

	npd_map_init(&m);
	for (i = 0; i < 300; i++) {
		snprintf(key, sizeof(key), "k%03zu", (i * 7) % 300);
		npd_map_set(&m, key, NULL);
	}
	for (i = 0; i < 300; i += 3) {
		snprintf(key, sizeof(key), "k%03zu", i);
		npd_map_del(&m, key);
	}
	keys = npd_map_sorted_keys(&m, &n);
	ck_assert_uint_eq(n, 200);
	ck_assert_ptr_null(keys[n]);
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "k%03zu", i / 2 * 3 + 1 + i % 2);
		ck_assert_str_eq(keys[i], key);
	}
	free(keys);
	npd_map_fini(&m);
	keys = npd_map_sorted_keys(&m, &n);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(keys[0]);
	free(keys);
}
END_TEST

START_TEST(map_counts)
{
	struct npd_map m;

	npd_map_init(&m);
	ck_assert_uint_eq(npd_map_count_add(&m, "a", -1), 0); /* never below 0 */
	ck_assert_uint_eq(m.len, 0);
	ck_assert_uint_eq(npd_map_count_add(&m, "a", 1), 0);
	ck_assert_uint_eq(npd_map_count_add(&m, "a", 1), 1);
	ck_assert_uint_eq(npd_map_count_add(&m, "a", -1), 2);
	ck_assert_uint_eq(npd_map_count_add(&m, "a", -1), 1);
	ck_assert_uint_eq(m.len, 0); /* a count of 0 takes no slot */
	npd_map_fini(&m);
}
END_TEST

TU_MAIN("map", map_set_get_del_many, map_clear_frees_values, map_sorted_keys, map_counts)
