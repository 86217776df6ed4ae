/* sorted_int.h: the one binary search of lib/, over arrays kept sorted by a string (label
 * keys, selector values, namespace names, a namespace's pods and policies by name). It is
 * inline so that the key reader, a constant at every call, folds into the loop: these
 * lookups sit on the per-event and per-match paths. */
#ifndef NPD_SORTED_INT_H
#define NPD_SORTED_INT_H

#include <stddef.h>
#include <string.h>

/* The string an array element at item is sorted by. */
typedef const char *(*npd_sorted_key_fn)(const void *item);

/* The index of key among the n elements at base (stride bytes apart, sorted by strcmp of
 * key_of(element)), or -(insertion point)-1 when no element has it. */
static inline long
npd_sorted_find(const void *base, size_t n, size_t stride, npd_sorted_key_fn key_of,
		const char *key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(key_of((const char *)base + mid * stride), key);

		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -(long)lo - 1;
}

/* key_of for an array of strings (char *). */
static inline const char *
npd_sorted_str(const void *item)
{
	return *(const char *const *)item;
}

#endif
