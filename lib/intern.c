/* intern.c: the shared string table. Each distinct string is one allocation holding its
 * reference count, hash and bytes, so a caller's pointer leads back to its entry without a
 * lookup; the table is an open-addressing array of entry pointers with linear probing and
 * backward-shift deletion (no tombstones, so churn never degrades the probes). It knows
 * nothing of what the strings mean. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "npd/hash.h"
#include "npd/intern.h"
#include "npd/mem.h"

struct istr {
	uint64_t hash;
	uint32_t refs;
	uint32_t len;
	char s[];
};

struct npd_intern {
	struct istr **slots;
	size_t cap; /* power of two or 0 */
	size_t len;
	size_t bytes;
};

struct npd_intern *
npd_intern_new(void)
{
	return npd_xcalloc(1, sizeof(struct npd_intern));
}

void
npd_intern_free(struct npd_intern *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->cap; i++)
		free(t->slots[i]);
	free(t->slots);
	free(t);
}

/* The entry whose bytes s points at. Only for pointers the table handed out. */
static struct istr *
entry_of(const char *s)
{
	return (struct istr *)(uintptr_t)(s - offsetof(struct istr, s));
}

static void
grow(struct npd_intern *t)
{
	struct istr **old = t->slots;
	size_t ocap = t->cap, ncap = t->cap ? t->cap * 2 : 64, i, j;

	t->slots = npd_xcalloc(ncap, sizeof(*t->slots));
	t->cap = ncap;
	for (i = 0; i < ocap; i++) {
		if (!old[i])
			continue;
		for (j = old[i]->hash & (ncap - 1); t->slots[j]; j = (j + 1) & (ncap - 1))
			;
		t->slots[j] = old[i];
	}
	free(old);
}

/* The slot holding s (hash h, length n), or the empty slot where it would go. */
static size_t
probe(const struct npd_intern *t, const char *s, size_t n, uint64_t h)
{
	size_t mask = t->cap - 1, i;

	for (i = h & mask; t->slots[i]; i = (i + 1) & mask) {
		const struct istr *e = t->slots[i];

		if (e->hash == h && e->len == n && !memcmp(e->s, s, n))
			break;
	}
	return i;
}

const char *
npd_intern_add(struct npd_intern *t, const char *s)
{
	size_t n, i;
	uint64_t h;
	struct istr *e;

	if (!s)
		return NULL;
	n = strlen(s);
	h = npd_hash64(s, n, NPD_HASH_SEED);
	/* At most half full: short probes, and a miss ends at an empty slot soon. */
	if ((t->len + 1) * 2 > t->cap)
		grow(t);
	i = probe(t, s, n, h);
	if (t->slots[i]) {
		t->slots[i]->refs++;
		return t->slots[i]->s;
	}
	e = npd_xmalloc(sizeof(*e) + n + 1);
	e->hash = h;
	e->refs = 1;
	e->len = (uint32_t)n;
	memcpy(e->s, s, n + 1);
	t->slots[i] = e;
	t->len++;
	t->bytes += n + 1;
	return e->s;
}

void
npd_intern_del(struct npd_intern *t, const char *s)
{
	struct istr *e;
	size_t mask, i, j;

	if (!s)
		return;
	e = entry_of(s);
	if (--e->refs)
		return;
	mask = t->cap - 1;
	for (i = e->hash & mask; t->slots[i] != e; i = (i + 1) & mask)
		;
	/* Backward shift: pull later entries of the run into the hole when their home slot
	 * does not lie (cyclically) between the hole and where they sit. */
	for (j = (i + 1) & mask; t->slots[j]; j = (j + 1) & mask) {
		size_t home = t->slots[j]->hash & mask;

		if (((j - home) & mask) >= ((j - i) & mask)) {
			t->slots[i] = t->slots[j];
			i = j;
		}
	}
	t->slots[i] = NULL;
	t->len--;
	t->bytes -= e->len + 1;
	free(e);
}

size_t
npd_intern_count(const struct npd_intern *t)
{
	return t->len;
}

size_t
npd_intern_refs(const struct npd_intern *t, const char *s)
{
	size_t n, i;

	if (!s || !t->cap)
		return 0;
	n = strlen(s);
	i = probe(t, s, n, npd_hash64(s, n, NPD_HASH_SEED));
	return t->slots[i] && t->slots[i]->s == s ? t->slots[i]->refs : 0;
}

size_t
npd_intern_bytes(const struct npd_intern *t)
{
	return t->bytes;
}
