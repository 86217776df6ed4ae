/* map.c: open addressing with linear probing and tombstones; keys are copied, values
 * borrowed. Iteration order is the slot order, so callers that need a stable order sort. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "npd/hash.h"
#include "npd/map.h"
#include "npd/mem.h"

struct npd_map_slot {
	char *key; /* NULL: empty; TOMB: deleted */
	void *value;
	uint64_t hash;
};

static char tomb_marker;
#define TOMB (&tomb_marker)

void
npd_map_init(struct npd_map *m)
{
	memset(m, 0, sizeof(*m));
}

void
npd_map_fini(struct npd_map *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		if (m->slots[i].key && m->slots[i].key != TOMB)
			free(m->slots[i].key);
	free(m->slots);
	npd_map_init(m);
}

void
npd_map_clear(struct npd_map *m, void (*free_value)(void *))
{
	size_t i;

	for (i = 0; free_value && i < m->cap; i++)
		if (m->slots[i].key && m->slots[i].key != TOMB)
			free_value(m->slots[i].value);
	npd_map_fini(m);
}

static struct npd_map_slot *
map_find(const struct npd_map *m, const char *key, uint64_t h)
{
	size_t i, mask;

	if (!m->cap)
		return NULL;
	mask = m->cap - 1;
	for (i = h & mask;; i = (i + 1) & mask) {
		struct npd_map_slot *s = &m->slots[i];

		if (!s->key)
			return NULL;
		if (s->key != TOMB && s->hash == h && strcmp(s->key, key) == 0)
			return s;
	}
}

static void
map_resize(struct npd_map *m, size_t ncap)
{
	struct npd_map_slot *old = m->slots;
	size_t ocap = m->cap, i;

	m->slots = npd_xcalloc(ncap, sizeof(*m->slots));
	m->cap = ncap;
	m->tombs = 0;
	for (i = 0; i < ocap; i++) {
		size_t j;

		if (!old[i].key || old[i].key == TOMB)
			continue;
		for (j = old[i].hash & (ncap - 1); m->slots[j].key; j = (j + 1) & (ncap - 1))
			;
		m->slots[j] = old[i];
	}
	free(old);
}

void *
npd_map_get(const struct npd_map *m, const char *key)
{
	struct npd_map_slot *s = map_find(m, key, npd_hash64s(key, NPD_HASH_SEED));

	return s ? s->value : NULL;
}

void *
npd_map_set(struct npd_map *m, const char *key, void *value)
{
	uint64_t h = npd_hash64s(key, NPD_HASH_SEED);
	struct npd_map_slot *s = map_find(m, key, h);
	size_t i;

	if (s) {
		void *old = s->value;

		s->value = value;
		return old;
	}
	if ((m->len + m->tombs + 1) * 4 >= m->cap * 3)
		map_resize(m, m->cap ? (m->len * 2 >= m->cap ? m->cap * 2 : m->cap) : 16);
	for (i = h & (m->cap - 1); m->slots[i].key && m->slots[i].key != TOMB;
	     i = (i + 1) & (m->cap - 1))
		;
	if (m->slots[i].key == TOMB)
		m->tombs--;
	m->slots[i].key = npd_xstrdup(key);
	m->slots[i].value = value;
	m->slots[i].hash = h;
	m->len++;
	return NULL;
}

void *
npd_map_del(struct npd_map *m, const char *key)
{
	struct npd_map_slot *s = map_find(m, key, npd_hash64s(key, NPD_HASH_SEED));
	void *v;

	if (!s)
		return NULL;
	v = s->value;
	free(s->key);
	s->key = TOMB;
	s->value = NULL;
	m->len--;
	m->tombs++;
	return v;
}

size_t
npd_map_count_add(struct npd_map *m, const char *key, int d)
{
	uintptr_t n = (uintptr_t)npd_map_get(m, key);

	if (d > 0)
		npd_map_set(m, key, (void *)(n + 1));
	else if (n == 1)
		npd_map_del(m, key);
	else if (n > 1)
		npd_map_set(m, key, (void *)(n - 1));
	return n;
}

bool
npd_map_next(const struct npd_map *m, size_t *it, const char **key, void **value)
{
	while (*it < m->cap) {
		struct npd_map_slot *s = &m->slots[(*it)++];

		if (s->key && s->key != TOMB) {
			if (key)
				*key = s->key;
			if (value)
				*value = s->value;
			return true;
		}
	}
	return false;
}

static int
key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char **
npd_map_sorted_keys(const struct npd_map *m, size_t *n)
{
	const char **v = npd_xcalloc(m->len + 1, sizeof(*v));
	size_t it = 0, i = 0;
	const char *key;

	while (npd_map_next(m, &it, &key, NULL))
		v[i++] = key;
	qsort(v, i, sizeof(*v), key_cmp);
	*n = i;
	return v;
}
