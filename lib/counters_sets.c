/* counters_sets.c: the entries of counted sets in the rule counter cache. The set of a
 * direction's isolated local pods carries per-entry counters that only the default deny's
 * rejects update, so the entry of a pod's address counts what was denied to (or from) that
 * pod. Per entry (set, address) the cache keeps the pod it counts for and the last reading,
 * as for kernel rules; a set created anew (ipset swaps a twin in) restarts its entries from
 * zero, and an address that changed hands counts for its new pod from the last reading on.
 * Pure: no I/O; the store says who owns an address, the agent reads the kernel. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "counters_int.h"
#include "npd/differ.h"
#include "npd/mem.h"

const char *
npd_counters_entry_key(struct npd_counters *c, const char *set, const struct npd_addr *addr)
{
	char a[NPD_ADDRSTRLEN];

	npd_buf_reset(&c->key);
	npd_buf_printf(&c->key, "%s|%s", set, npd_addr_format(addr, a));
	return c->key.data;
}

void
npd_counters_feed_set(const char *set, const struct npd_set_entry *e, uint64_t packets,
		      uint64_t bytes, void *ctx)
{
	struct npd_counters *c = ctx;
	struct krule *k = npd_map_get(&c->entries, npd_counters_entry_key(c, set, &e->addr));

	if (k)
		npd_counters_krule_feed(k, packets, bytes);
}

void
npd_counters_clear_entries(struct npd_counters *c)
{
	npd_map_clear(&c->entries, free);
	npd_map_clear(&c->csets, NULL);
}

void
npd_counters_entry_put(struct npd_counters *c, const char *set, const struct npd_addr *addr,
		       struct total *t, uint64_t last_packets, uint64_t last_bytes)
{
	struct krule *k = npd_xcalloc(1, sizeof(*k));

	k->t = t;
	k->last_packets = last_packets;
	k->last_bytes = last_bytes;
	free(npd_map_set(&c->entries, npd_counters_entry_key(c, set, addr), k));
	npd_map_set(&c->csets, set, c);
}

/* The sets plan creates (their entries start from zero in the kernel), names as keys. */
static void
created_sets(const struct npd_plan *plan, struct npd_map *out)
{
	size_t i;

	for (i = 0; i < plan->n_set_ops; i++)
		if (plan->set_ops[i].kind == NPD_SETOP_CREATE && plan->set_ops[i].set)
			npd_map_set(out, plan->set_ops[i].set->name, out);
}

void
npd_counters_take_sets(struct npd_counters *c, const struct npd_ruleset *rs,
		       const struct npd_plan *plan, const struct npd_store *s)
{
	struct npd_map entries, csets, created;
	size_t i, j;

	npd_map_init(&entries);
	npd_map_init(&csets);
	npd_map_init(&created);
	if (plan)
		created_sets(plan, &created);
	for (i = 0; s && i < rs->n_sets; i++) {
		const struct npd_set *set = &rs->sets[i];
		bool fresh = !plan || npd_map_get(&created, set->name);

		if (!set->counters)
			continue;
		for (j = 0; j < set->n_entries; j++) {
			const struct npd_pod *pod = npd_store_pod_by_ip(s, &set->entries[j].addr);
			const char *key;
			struct total *t;
			struct krule *k, *old;

			if (!pod)
				continue;
			t = npd_counters_total_get(c, NPD_ORIGIN_POD, set->count_dir, pod->ns,
						   pod->name, -1);
			t->pub.live = true;
			k = npd_xcalloc(1, sizeof(*k));
			k->t = t;
			key = npd_counters_entry_key(c, set->name, &set->entries[j].addr);
			old = npd_map_get(&c->entries, key);
			/* An address that changed hands while its entry stayed: the kernel's
			 * count so far was the previous pod's, so the new one starts from it. */
			if (old && !fresh) {
				k->last_packets = old->last_packets;
				k->last_bytes = old->last_bytes;
			}
			npd_map_set(&entries, key, k);
			npd_map_set(&csets, set->name, c);
		}
	}
	npd_counters_clear_entries(c);
	c->entries = entries;
	c->csets = csets;
	npd_map_fini(&created);
}

/* Whether one of the n entries del of set, deleted, takes along a count that matters: it
 * counts for a pod that s still holds (the total of a pod gone goes too). */
static bool
dels_matter(const struct npd_counters *c, const char *set, const struct npd_set_entry *del,
	    size_t n, const struct npd_store *s, struct npd_buf *key)
{
	char a[NPD_ADDRSTRLEN];
	const struct krule *k;
	size_t i;

	for (i = 0; i < n; i++) {
		npd_buf_reset(key);
		npd_buf_printf(key, "%s|%s", set, npd_addr_format(&del[i].addr, a));
		k = npd_map_get(&c->entries, key->data);
		if (k && (!s || npd_store_get_pod(s, k->t->ns, k->t->name)))
			return true;
	}
	return false;
}

/* Whether applying plan loses what the kernel's entries of set counted. */
static bool
plan_loses(const struct npd_counters *c, const struct npd_plan *plan, const char *set,
	   const struct npd_store *s, struct npd_buf *key)
{
	size_t i;

	for (i = 0; i < plan->n_set_ops; i++) {
		const struct npd_set_op *op = &plan->set_ops[i];
		const char *name = op->set ? op->set->name : op->name;

		if (strcmp(name, set))
			continue;
		if (op->kind != NPD_SETOP_UPDATE || dels_matter(c, set, op->del, op->n_del, s, key))
			return true;
	}
	return false;
}

void
npd_counters_each_set(const struct npd_counters *c, const struct npd_plan *plan,
		      const struct npd_store *s, npd_counter_set_name_fn fn, void *ctx)
{
	size_t n, i;
	const char **names = npd_map_sorted_keys(&c->csets, &n);
	struct npd_buf key;

	npd_buf_init(&key);
	for (i = 0; i < n; i++)
		if (!plan || plan_loses(c, plan, names[i], s, &key))
			fn(names[i], ctx);
	npd_buf_fini(&key);
	free(names);
}

void
npd_counters_save_entries(const struct npd_counters *c, struct npd_buf *out)
{
	size_t it = 0;
	const char *key, *bar;
	void *v;

	while (npd_map_next(&c->entries, &it, &key, &v)) {
		const struct krule *k = v;

		/* The key is "set|address": a set name has no '|', an address neither. */
		bar = strchr(key, '|');
		if (!bar || strpbrk(k->t->ns, "\t\n") || strpbrk(k->t->name, "\t\n"))
			continue;
		npd_buf_printf(out, "E\t%.*s\t%s\t%d\t%d\t%s\t%s\t-1\t%" PRIu64 "\t%" PRIu64 "\n",
			       (int)(bar - key), key, bar + 1, (int)k->t->pub.kind,
			       (int)k->t->pub.dir, k->t->ns, k->t->name, k->last_packets,
			       k->last_bytes);
	}
}
