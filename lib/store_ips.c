/* store_ips.c: the store's index of pod IPs: an open-addressing table of (pod, address
 * index) slots keyed by the binary address the pod itself holds, so an indexed IP costs
 * one 16-byte slot and no key copy; the slot keeps the low bits of the key's hash, so the
 * probes of a 150,000-pod table compare hashes, not pods far apart in memory. Linear probing with backward-shift deletion (no
 * tombstones, so pod churn never lengthens the probes). Which pod an address should name
 * is store_index.c's business. */
#include <stdlib.h>
#include <string.h>

#include "npd/hash.h"
#include "npd/mem.h"
#include "store_int.h"

static const struct npd_addr *
slot_addr(const struct npd_ipslot *sl)
{
	return &sl->pod->ips[sl->idx];
}

static uint32_t
addr_hash(const struct npd_addr *a)
{
	return (uint32_t)npd_hash64(a, sizeof(*a), NPD_HASH_SEED);
}

void
npd_iptab_fini(struct npd_iptab *t)
{
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

/* The slot holding a (hash h), or the empty slot where it would go; t->cap must be
 * non-zero. */
static size_t
probe(const struct npd_iptab *t, const struct npd_addr *a, uint32_t h)
{
	size_t mask = t->cap - 1, i;

	for (i = h & mask; t->slots[i].pod; i = (i + 1) & mask)
		if (t->slots[i].hash == h && !npd_addr_cmp(slot_addr(&t->slots[i]), a))
			break;
	return i;
}

/* The empty slot where an entry of hash h goes when the table holds no equal key. */
static size_t
free_slot(const struct npd_iptab *t, uint32_t h)
{
	size_t mask = t->cap - 1, i;

	for (i = h & mask; t->slots[i].pod; i = (i + 1) & mask)
		;
	return i;
}

static void
grow(struct npd_iptab *t)
{
	struct npd_ipslot *old = t->slots;
	size_t ocap = t->cap, i;

	t->cap = ocap ? ocap * 2 : 64;
	t->slots = npd_xcalloc(t->cap, sizeof(*t->slots));
	for (i = 0; i < ocap; i++)
		if (old[i].pod)
			t->slots[free_slot(t, old[i].hash)] = old[i];
	free(old);
}

const struct npd_pod *
npd_iptab_get(const struct npd_iptab *t, const struct npd_addr *a)
{
	return t->cap ? t->slots[probe(t, a, addr_hash(a))].pod : NULL;
}

void
npd_iptab_set(struct npd_iptab *t, const struct npd_pod *pod, size_t idx)
{
	uint32_t h = addr_hash(&pod->ips[idx]);
	size_t i;

	if ((t->len + 1) * 4 > t->cap * 3)
		grow(t);
	i = probe(t, &pod->ips[idx], h);
	if (!t->slots[i].pod)
		t->len++;
	t->slots[i].pod = pod;
	t->slots[i].idx = (uint32_t)idx;
	t->slots[i].hash = h;
}

void
npd_iptab_del(struct npd_iptab *t, const struct npd_addr *a)
{
	size_t mask = t->cap - 1, i, j;

	if (!t->cap || !t->slots[i = probe(t, a, addr_hash(a))].pod)
		return;
	/* Backward shift: an entry later in the run moves into the hole unless its home
	 * slot lies (cyclically) after the hole. */
	for (j = (i + 1) & mask; t->slots[j].pod; j = (j + 1) & mask) {
		size_t home = t->slots[j].hash & mask;

		if (((j - home) & mask) >= ((j - i) & mask)) {
			t->slots[i] = t->slots[j];
			i = j;
		}
	}
	memset(&t->slots[i], 0, sizeof(t->slots[i]));
	t->len--;
}
