/* hash.c: FNV-1a over bytes. Deliberately simple and fixed: names in the kernel are
 * derived from it, and a changed hash would rename every chain and set on upgrade. */
#include <string.h>

#include "npd/hash.h"

uint64_t
npd_hash64(const void *p, size_t n, uint64_t seed)
{
	const unsigned char *c = p;
	uint64_t h = seed;

	while (n--) {
		h ^= *c++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

uint64_t
npd_hash64s(const char *s, uint64_t seed)
{
	return npd_hash64(s, strlen(s), seed);
}
