/* check_hash.c: the name hash must never change between releases. */
#include <check.h>
#include <stdlib.h>

#include "npd/hash.h"
#include "testutil.h"

START_TEST(hash_is_stable)
{
	/* Chain and set names derive from this: it must never change between releases. */
	ck_assert_uint_eq(npd_hash64s("", NPD_HASH_SEED), 0xcbf29ce484222325ULL);
	ck_assert_uint_eq(npd_hash64s("a", NPD_HASH_SEED), 0xaf63dc4c8601ec8cULL);
	ck_assert_uint_ne(npd_hash64s("I|a/b", NPD_HASH_SEED), npd_hash64s("E|a/b", NPD_HASH_SEED));
	/* Chaining: hashing "ab" equals hashing "b" seeded with the hash of "a". */
	ck_assert_uint_eq(npd_hash64("ab", 2, NPD_HASH_SEED),
			  npd_hash64s("b", npd_hash64s("a", NPD_HASH_SEED)));
}
END_TEST

TU_MAIN("hash", hash_is_stable)
