/* ruleset.c: the dataplane model (chains, rules, hooks, ipsets): building it, sealing it
 * into a canonical sorted form with per-chain content hashes, removing from it, and
 * looking things up. Printing it as text is ruleset_format.c's job, comparing rules
 * ruleset_equal.c's. Pure: no I/O. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "npd/addr.h"
#include "npd/buf.h"
#include "npd/hash.h"
#include "npd/mem.h"
#include "npd/ruleset.h"

static void
copy_name(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (n >= len)
		n = len - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

struct npd_ruleset *
npd_ruleset_new(void)
{
	struct npd_ruleset *rs = npd_xcalloc(1, sizeof(*rs));

	rs->v4.family = AF_INET;
	rs->v6.family = AF_INET6;
	return rs;
}

void
npd_rule_fini(struct npd_rule *r)
{
	free(r->comment);
	free(r->nflog_prefix);
	r->comment = NULL;
	r->nflog_prefix = NULL;
}

void
npd_rule_copy(struct npd_rule *dst, const struct npd_rule *src)
{
	*dst = *src;
	dst->comment = npd_xstrdup(src->comment);
	dst->nflog_prefix = npd_xstrdup(src->nflog_prefix);
}

/* Frees c's rules, or lets go of them while other chains share them. */
static void
drop_rules(struct npd_chain *c)
{
	size_t i;

	if (c->shared && --*c->shared > 0) {
		c->shared = NULL;
		return;
	}
	free(c->shared);
	c->shared = NULL;
	for (i = 0; i < c->n_rules; i++)
		npd_rule_fini(&c->rules[i]);
	free(c->rules);
}

/* Makes c's rules its own, copying them if other chains share them. */
static void
unshare(struct npd_chain *c)
{
	struct npd_rule *r = NULL;
	size_t i;

	if (!c->shared)
		return;
	if (*c->shared == 1) {
		free(c->shared);
		c->shared = NULL;
		return;
	}
	if (c->n_rules)
		r = npd_xmalloc(c->n_rules * sizeof(*r));
	for (i = 0; i < c->n_rules; i++)
		npd_rule_copy(&r[i], &c->rules[i]);
	--*c->shared;
	c->shared = NULL;
	c->rules = r;
	c->cap = c->n_rules;
}

void
npd_chain_fini(struct npd_chain *c)
{
	drop_rules(c);
	free(c->origin.ns);
	free(c->origin.name);
}

void
npd_chain_clear_rules(struct npd_chain *c)
{
	drop_rules(c);
	c->rules = NULL;
	c->n_rules = c->cap = 0;
	c->hash = 0;
}

static void
set_fini(struct npd_set *set)
{
	free(set->comment);
	if (set->block)
		npd_entry_block_unref(set->block);
	else
		free(set->entries);
}

static void
table_fini(struct npd_table *t)
{
	size_t i;

	for (i = 0; i < t->n_chains; i++)
		npd_chain_fini(&t->chains[i]);
	free(t->chains);
}

void
npd_ruleset_free(struct npd_ruleset *rs)
{
	size_t i;

	if (!rs)
		return;
	table_fini(&rs->v4);
	table_fini(&rs->v6);
	for (i = 0; i < rs->n_sets; i++)
		set_fini(&rs->sets[i]);
	free(rs->sets);
	free(rs);
}

struct npd_table *
npd_ruleset_table(struct npd_ruleset *rs, uint8_t family)
{
	return family == AF_INET6 ? &rs->v6 : &rs->v4;
}

const struct npd_table *
npd_ruleset_get_table(const struct npd_ruleset *rs, uint8_t family)
{
	return family == AF_INET6 ? &rs->v6 : &rs->v4;
}

struct npd_chain *
npd_ruleset_add_chain(struct npd_table *t, const char *name)
{
	struct npd_chain *c;

	npd_xgrow(&t->chains, &t->cap, t->n_chains + 1, sizeof(*t->chains));
	c = &t->chains[t->n_chains++];
	memset(c, 0, sizeof(*c));
	copy_name(c->name, sizeof(c->name), name);
	return c;
}

void
npd_chain_copy(struct npd_chain *dst, const struct npd_chain *src)
{
	size_t i;

	*dst = *src;
	dst->rules = NULL;
	dst->cap = 0;
	dst->shared = NULL;
	if (src->n_rules) {
		dst->rules = npd_xmalloc(src->n_rules * sizeof(*dst->rules));
		dst->cap = src->n_rules;
	}
	for (i = 0; i < src->n_rules; i++)
		npd_rule_copy(&dst->rules[i], &src->rules[i]);
	dst->origin.ns = npd_xstrdup(src->origin.ns);
	dst->origin.name = npd_xstrdup(src->origin.name);
}

void
npd_chain_share(struct npd_chain *dst, struct npd_chain *src)
{
	if (!src->shared) {
		src->shared = npd_xmalloc(sizeof(*src->shared));
		*src->shared = 1;
	}
	++*src->shared;
	*dst = *src;
	dst->origin.ns = npd_xstrdup(src->origin.ns);
	dst->origin.name = npd_xstrdup(src->origin.name);
}

struct npd_chain *
npd_ruleset_add_chain_share(struct npd_table *t, struct npd_chain *src)
{
	struct npd_chain *c;

	npd_xgrow(&t->chains, &t->cap, t->n_chains + 1, sizeof(*t->chains));
	c = &t->chains[t->n_chains++];
	npd_chain_share(c, src);
	return c;
}

struct npd_chain *
npd_ruleset_add_chain_copy(struct npd_table *t, const struct npd_chain *src)
{
	struct npd_chain *c;

	npd_xgrow(&t->chains, &t->cap, t->n_chains + 1, sizeof(*t->chains));
	c = &t->chains[t->n_chains++];
	npd_chain_copy(c, src);
	return c;
}

void
npd_chain_set_origin(struct npd_chain *c, enum npd_origin_kind kind, enum npd_origin_dir dir,
		     const char *ns, const char *name)
{
	free(c->origin.ns);
	free(c->origin.name);
	c->origin.kind = kind;
	c->origin.dir = dir;
	c->origin.ns = npd_xstrdup(ns);
	c->origin.name = npd_xstrdup(name);
}

bool
npd_chain_rule_origin(const struct npd_chain *c, size_t index, struct npd_origin *out,
		      int32_t *spec_rule)
{
	int32_t r;

	if (index >= c->n_rules || c->origin.kind == NPD_ORIGIN_NONE)
		return false;
	r = c->rules[index].origin_rule;
	/* Policy chains hold only admitting rules; of a pod chain only the reject counts. */
	if (c->origin.kind == NPD_ORIGIN_POLICY ? r < 0 : r != NPD_ORIGIN_RULE_DENY)
		return false;
	*out = c->origin;
	*spec_rule = r;
	return true;
}

bool
npd_ruleset_find_origin(const struct npd_ruleset *rs, uint8_t family, const char *chain,
			size_t index, struct npd_origin *out, int32_t *spec_rule)
{
	const struct npd_table *t = npd_ruleset_get_table(rs, family);
	const struct npd_chain *c = t ? npd_ruleset_find_chain(t, chain) : NULL;

	return c && npd_chain_rule_origin(c, index, out, spec_rule);
}

const char *
npd_origin_dir_name(enum npd_origin_dir dir)
{
	return dir == NPD_ORIGIN_EGRESS ? "egress" : "ingress";
}

struct npd_rule *
npd_ruleset_add_rule(struct npd_chain *c, const struct npd_rule *r)
{
	struct npd_rule *n;

	unshare(c);
	npd_xgrow(&c->rules, &c->cap, c->n_rules + 1, sizeof(*c->rules));
	n = &c->rules[c->n_rules++];
	npd_rule_copy(n, r);
	c->hash = 0;
	return n;
}

void
npd_ruleset_add_hook(struct npd_table *t, const char *builtin, const char *chain)
{
	struct npd_hook *h;

	if (t->n_hooks >= NPD_ARRAY_SIZE(t->hooks))
		abort(); /* a programming error: the compiler adds at most one per built-in */
	h = &t->hooks[t->n_hooks++];
	copy_name(h->builtin, sizeof(h->builtin), builtin);
	copy_name(h->chain, sizeof(h->chain), chain);
}

struct npd_set *
npd_ruleset_add_set(struct npd_ruleset *rs, const char *name, enum npd_set_type type,
		    uint8_t family, const char *comment)
{
	struct npd_set *s;

	npd_xgrow(&rs->sets, &rs->cap, rs->n_sets + 1, sizeof(*rs->sets));
	s = &rs->sets[rs->n_sets++];
	memset(s, 0, sizeof(*s));
	copy_name(s->name, sizeof(s->name), name);
	s->type = type;
	s->family = family;
	s->comment = npd_xstrdup(comment);
	return s;
}

void
npd_ruleset_add_entry(struct npd_set *set, const struct npd_set_entry *e)
{
	if (set->block) {
		struct npd_set_entry *own = npd_xmalloc((set->n_entries + 1) * sizeof(*own));

		memcpy(own, set->entries, set->n_entries * sizeof(*own));
		npd_entry_block_unref(set->block);
		set->block = NULL;
		set->entries = own;
		set->cap = set->n_entries + 1;
	}
	npd_xgrow(&set->entries, &set->cap, set->n_entries + 1, sizeof(*set->entries));
	set->entries[set->n_entries++] = *e;
	set->sealed = false;
}

void
npd_set_share(struct npd_set *set, struct npd_entry_block *b)
{
	b->refs++;
	set->block = b;
	set->entries = b->e;
	set->n_entries = b->n;
	set->cap = 0;
	set->sealed = true;
}

struct npd_entry_block *
npd_entry_block_new(size_t cap)
{
	struct npd_entry_block *b = npd_xmalloc(sizeof(*b) + cap * sizeof(b->e[0]));

	b->refs = 1;
	b->n = 0;
	b->cap = cap;
	return b;
}

void
npd_entry_block_unref(struct npd_entry_block *b)
{
	if (b && --b->refs == 0)
		free(b);
}

void
npd_entry_block_own(struct npd_entry_block **bp, size_t more)
{
	struct npd_entry_block *b = *bp, *nb;
	size_t n = b ? b->n : 0, cap;

	if (b && b->refs == 1) {
		if (n + more <= b->cap)
			return;
		cap = 2 * b->cap > n + more ? 2 * b->cap : n + more;
		*bp = npd_xrealloc(b, sizeof(*b) + cap * sizeof(b->e[0]));
		(*bp)->cap = cap;
		return;
	}
	/* A copy, with a little room: one event changes a few entries of a set. */
	nb = npd_entry_block_new(n + more + n / 16 + 4);
	if (b) {
		memcpy(nb->e, b->e, n * sizeof(b->e[0]));
		nb->n = n;
		b->refs--; /* still held by another: never the last reference */
	}
	*bp = nb;
}

static int
entry_key_cmp(const struct npd_set_entry *a, const struct npd_set_entry *b)
{
	int c = npd_addr_cmp(&a->addr, &b->addr);

	if (c)
		return c;
	if (a->prefix != b->prefix)
		return a->prefix < b->prefix ? -1 : 1;
	if (a->proto != b->proto)
		return a->proto < b->proto ? -1 : 1;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	return 0;
}

int
npd_set_entry_cmp(const struct npd_set_entry *a, const struct npd_set_entry *b)
{
	int c = entry_key_cmp(a, b);

	if (c)
		return c;
	return (int)a->nomatch - (int)b->nomatch;
}

static int
entry_qcmp(const void *a, const void *b)
{
	return npd_set_entry_cmp(a, b);
}

static int
chain_qcmp(const void *a, const void *b)
{
	const struct npd_chain *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static int
set_qcmp(const void *a, const void *b)
{
	const struct npd_set *x = a, *y = b;

	return strcmp(x->name, y->name);
}

/* The kernel keeps one element per key: the same net added as a match and as nomatch
 * would be one element, and an except equal to its block must win so that the block
 * allows nothing. Sorting puts nomatch after its twin, so the last of a run is kept. */
static bool
entries_sorted(const struct npd_set *s)
{
	size_t i;

	for (i = 1; i < s->n_entries; i++)
		if (npd_set_entry_cmp(&s->entries[i - 1], &s->entries[i]) >= 0)
			return false;
	return true;
}

static void
seal_set(struct npd_set *s)
{
	size_t i, n = 0;

	/* The incremental compiler hands over sets already in order and unique. At 150,000
	 * pods the check alone costs a quarter of an incremental compile. */
	if (s->sealed)
		return;
	if (s->n_entries > 1 && !entries_sorted(s))
		qsort(s->entries, s->n_entries, sizeof(*s->entries), entry_qcmp);
	for (i = 0; i < s->n_entries; i++) {
		if (n > 0 && entry_key_cmp(&s->entries[n - 1], &s->entries[i]) == 0)
			s->entries[n - 1] = s->entries[i];
		else
			s->entries[n++] = s->entries[i];
	}
	s->n_entries = n;
}

static uint64_t
hash_str(const char *str, uint64_t h)
{
	/* The terminating NUL is hashed too, so "ab"+"c" and "a"+"bc" differ; NULL is not "". */
	return str ? npd_hash64(str, strlen(str) + 1, h) : npd_hash64("\xff", 1, h);
}

static uint64_t
hash_cidr(const struct npd_cidr *c, uint64_t h)
{
	h = npd_hash64(&c->addr.family, 1, h);
	h = npd_hash64(c->addr.a, sizeof(c->addr.a), h);
	return npd_hash64(&c->prefix, 1, h);
}

/* Hashes every field that npd_rule_equal compares, field by field (never the struct's
 * padding), so equal rules hash equal without formatting them. */
static uint64_t
rule_hash(const struct npd_rule *r, uint64_t h)
{
	uint32_t v[16];
	size_t i, n = 0;

	v[n++] = (uint32_t)r->has_src << 1 | (uint32_t)r->has_dst;
	v[n++] = r->proto | (uint32_t)r->dport_lo << 8;
	v[n++] = r->dport_hi | (uint32_t)r->n_sets << 16 | (uint32_t)r->ctstate << 24;
	v[n++] = (uint32_t)r->has_mark << 1 | (uint32_t)r->mark_negate;
	v[n++] = r->has_mark ? r->mark_value : 0;
	v[n++] = r->has_mark ? r->mark_mask : 0;
	v[n++] = r->limit_per_sec;
	v[n++] = r->limit_per_sec ? r->limit_burst : 0;
	v[n++] = (uint32_t)r->target;
	v[n++] = r->target == NPD_T_MARK ? r->set_mark : 0;
	v[n++] = r->target == NPD_T_MARK ? r->set_mask : 0;
	v[n++] = r->target == NPD_T_NFLOG ? r->nflog_group : 0;
	v[n++] = (uint32_t)r->tcp_not_syn | (uint32_t)r->has_icmp6_type << 1 |
		 (uint32_t)(r->has_icmp6_type ? r->icmp6_type : 0) << 8 |
		 (uint32_t)(r->target == NPD_T_REJECT ? r->reject_with : 0) << 16;
	h = npd_hash64(v, n * sizeof(v[0]), h);
	if (r->has_src)
		h = hash_cidr(&r->src, h);
	if (r->has_dst)
		h = hash_cidr(&r->dst, h);
	for (i = 0; i < r->n_sets; i++) {
		uint8_t b[4] = {r->sets[i].dims, r->sets[i].dirs, r->sets[i].negate,
				r->sets[i].no_counters};

		h = hash_str(r->sets[i].name, h);
		h = npd_hash64(b, sizeof(b), h);
	}
	h = hash_str(r->comment, h);
	if (r->target == NPD_T_JUMP)
		h = hash_str(r->jump, h);
	if (r->target == NPD_T_NFLOG)
		h = hash_str(r->nflog_prefix, h);
	return h;
}

static uint64_t
chain_hash(const struct npd_chain *c)
{
	uint64_t h = npd_hash64s(c->name, NPD_HASH_SEED);
	size_t i;

	for (i = 0; i < c->n_rules; i++)
		h = rule_hash(&c->rules[i], h);
	return h ? h : 1;
}

void
npd_chain_seal(struct npd_chain *c)
{
	if (!c->hash)
		c->hash = chain_hash(c);
}

static void
seal_table(struct npd_table *t)
{
	size_t i;

	if (t->n_chains > 1)
		qsort(t->chains, t->n_chains, sizeof(*t->chains), chain_qcmp);
	/* A chain copied from a sealed one keeps its hash; adding a rule clears it. */
	for (i = 0; i < t->n_chains; i++)
		npd_chain_seal(&t->chains[i]);
}

void
npd_ruleset_seal(struct npd_ruleset *rs)
{
	size_t i;

	seal_table(&rs->v4);
	seal_table(&rs->v6);
	if (rs->n_sets > 1)
		qsort(rs->sets, rs->n_sets, sizeof(*rs->sets), set_qcmp);
	for (i = 0; i < rs->n_sets; i++)
		seal_set(&rs->sets[i]);
}

const struct npd_chain *
npd_ruleset_find_chain(const struct npd_table *t, const char *name)
{
	struct npd_chain key;

	if (!t->n_chains)
		return NULL;
	copy_name(key.name, sizeof(key.name), name);
	return bsearch(&key, t->chains, t->n_chains, sizeof(*t->chains), chain_qcmp);
}

struct npd_chain *
npd_ruleset_find_chain_mut(struct npd_table *t, const char *name)
{
	return (struct npd_chain *)(uintptr_t)npd_ruleset_find_chain(t, name);
}

const struct npd_set *
npd_ruleset_find_set(const struct npd_ruleset *rs, const char *name)
{
	struct npd_set key;

	if (!rs->n_sets)
		return NULL;
	copy_name(key.name, sizeof(key.name), name);
	return bsearch(&key, rs->sets, rs->n_sets, sizeof(*rs->sets), set_qcmp);
}

int
npd_ruleset_del_chain(struct npd_table *t, const char *name)
{
	const struct npd_chain *c = npd_ruleset_find_chain(t, name);
	size_t i;

	if (!c)
		return -ENOENT;
	i = (size_t)(c - t->chains);
	npd_chain_fini(&t->chains[i]);
	memmove(&t->chains[i], &t->chains[i + 1], (t->n_chains - i - 1) * sizeof(t->chains[i]));
	t->n_chains--;
	return 0;
}

int
npd_ruleset_del_set(struct npd_ruleset *rs, const char *name)
{
	const struct npd_set *set = npd_ruleset_find_set(rs, name);
	size_t i;

	if (!set)
		return -ENOENT;
	i = (size_t)(set - rs->sets);
	set_fini(&rs->sets[i]);
	memmove(&rs->sets[i], &rs->sets[i + 1], (rs->n_sets - i - 1) * sizeof(rs->sets[i]));
	rs->n_sets--;
	return 0;
}

size_t
npd_ruleset_rule_count(const struct npd_ruleset *rs)
{
	size_t i, n = 0;

	for (i = 0; i < rs->v4.n_chains; i++)
		n += rs->v4.chains[i].n_rules;
	for (i = 0; i < rs->v6.n_chains; i++)
		n += rs->v6.chains[i].n_rules;
	return n;
}

size_t
npd_ruleset_entry_count(const struct npd_ruleset *rs)
{
	size_t i, n = 0;

	for (i = 0; i < rs->n_sets; i++)
		n += rs->sets[i].n_entries;
	return n;
}
