/* counters.c: the rule counter cache. Kernel counters are per rule and restart from zero
 * whenever a chain is rewritten (a policy edit, a restart's first commit, a drift repair),
 * so the cache keeps, per kernel rule (family, chain, index), the last value read and adds
 * only the growth to a total per origin. Totals outlive the chains they came from while the
 * policy or pod exists, and travel through a state file across restarts. Pure: no I/O, no
 * clock; the agent decides when to read the kernel. The entries of counted sets are
 * counters_sets.c's. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "counters_int.h"
#include "npd/buf.h"
#include "npd/map.h"
#include "npd/mem.h"
#include "npd/metrics.h"

struct npd_counters *
npd_counters_new(void)
{
	struct npd_counters *c = npd_xcalloc(1, sizeof(*c));

	npd_map_init(&c->totals);
	npd_map_init(&c->krules);
	npd_map_init(&c->entries);
	npd_map_init(&c->csets);
	npd_buf_init(&c->key);
	return c;
}

static void
total_free(void *v)
{
	struct total *t = v;

	free(t->ns);
	free(t->name);
	free(t);
}

void
npd_counters_free(struct npd_counters *c)
{
	if (!c)
		return;
	npd_counters_clear_entries(c);
	npd_map_clear(&c->krules, free);
	npd_map_clear(&c->totals, total_free);
	npd_buf_fini(&c->key);
	free(c);
}

/* Pod totals have no rule: they are keyed with -1 whatever the caller passes. */
static const char *
total_key(struct npd_buf *b, enum npd_origin_kind kind, enum npd_origin_dir dir, const char *ns,
	  const char *name, int32_t rule)
{
	npd_buf_reset(b);
	npd_buf_printf(b, "%c%c|%s/%s|%" PRId32, kind == NPD_ORIGIN_POD ? 'D' : 'P',
		       dir == NPD_ORIGIN_EGRESS ? 'E' : 'I', ns, name,
		       kind == NPD_ORIGIN_POD ? -1 : rule);
	return b->data;
}

static const char *
krule_key(struct npd_counters *c, uint8_t family, const char *chain, size_t index)
{
	npd_buf_reset(&c->key);
	npd_buf_printf(&c->key, "%c|%s|%zu", family == AF_INET6 ? '6' : '4', chain, index);
	return c->key.data;
}

struct total *
npd_counters_total_get(struct npd_counters *c, enum npd_origin_kind kind, enum npd_origin_dir dir,
		       const char *ns, const char *name, int32_t rule)
{
	const char *key = total_key(&c->key, kind, dir, ns, name, rule);
	struct total *t = npd_map_get(&c->totals, key);

	if (t)
		return t;
	t = npd_xcalloc(1, sizeof(*t));
	t->ns = npd_xstrdup(ns);
	t->name = npd_xstrdup(name);
	t->pub.kind = kind;
	t->pub.dir = dir;
	t->pub.ns = t->ns;
	t->pub.name = t->name;
	t->pub.rule = kind == NPD_ORIGIN_POD ? -1 : rule;
	npd_map_set(&c->totals, key, t);
	return t;
}

void
npd_counters_krule_feed(struct krule *k, uint64_t packets, uint64_t bytes)
{
	k->t->pub.packets += packets >= k->last_packets ? packets - k->last_packets : packets;
	k->t->pub.bytes += bytes >= k->last_bytes ? bytes - k->last_bytes : bytes;
	k->last_packets = packets;
	k->last_bytes = bytes;
}

void
npd_counters_feed(uint8_t family, const char *chain, size_t index, uint64_t packets, uint64_t bytes,
		  void *ctx)
{
	struct npd_counters *c = ctx;
	struct krule *k = npd_map_get(&c->krules, krule_key(c, family, chain, index));

	if (k)
		npd_counters_krule_feed(k, packets, bytes);
}

static void
mark_written(struct npd_counters *c, const struct npd_table_change *chg, struct npd_map *out)
{
	size_t i;

	if (!chg->commit)
		return;
	for (i = 0; i < chg->n_write; i++)
		npd_map_set(out, krule_key(c, chg->family, chg->write[i]->name, 0), c);
}

/* Takes the rules of table t into krules (the new map), carrying the last readings of
 * rules whose chain was not rewritten. */
static void
take_table(struct npd_counters *c, const struct npd_table *t, const struct npd_map *written,
	   bool all_written, struct npd_map *krules)
{
	size_t i, j;

	for (i = 0; i < t->n_chains; i++) {
		const struct npd_chain *ch = &t->chains[i];
		bool rewritten =
		    all_written || npd_map_get(written, krule_key(c, t->family, ch->name, 0));

		for (j = 0; j < ch->n_rules; j++) {
			struct npd_origin o;
			int32_t spec;
			struct total *tot;
			struct krule *k, *old;

			if (!npd_chain_rule_origin(ch, j, &o, &spec))
				continue;
			tot = npd_counters_total_get(c, o.kind, o.dir, o.ns, o.name, spec);
			tot->pub.live = true;
			k = npd_xcalloc(1, sizeof(*k));
			k->t = tot;
			old = npd_map_get(&c->krules, krule_key(c, t->family, ch->name, j));
			if (old && !rewritten && old->t == tot) {
				k->last_packets = old->last_packets;
				k->last_bytes = old->last_bytes;
			}
			npd_map_set(krules, krule_key(c, t->family, ch->name, j), k);
		}
	}
}

static bool
object_exists(const struct npd_store *s, const struct total *t)
{
	if (!s)
		return false;
	if (t->pub.kind == NPD_ORIGIN_POD)
		return npd_store_get_pod(s, t->ns, t->name) != NULL;
	return npd_store_get_policy(s, t->ns, t->name) != NULL;
}

void
npd_counters_applied(struct npd_counters *c, const struct npd_ruleset *rs,
		     const struct npd_plan *plan, const struct npd_store *s)
{
	struct npd_map written, krules;
	size_t it = 0, n_gone = 0, i;
	const char *key;
	void *v;
	char **gone;

	npd_map_init(&written);
	npd_map_init(&krules);
	if (plan) {
		mark_written(c, &plan->v4, &written);
		mark_written(c, &plan->v6, &written);
	}
	while (npd_map_next(&c->totals, &it, &key, &v))
		((struct total *)v)->pub.live = false;
	take_table(c, &rs->v4, &written, !plan, &krules);
	take_table(c, &rs->v6, &written, !plan, &krules);
	npd_counters_take_sets(c, rs, plan, s);
	npd_map_clear(&c->krules, free);
	c->krules = krules;
	npd_map_fini(&written);

	gone = npd_xcalloc(c->totals.len + 1, sizeof(*gone));
	it = 0;
	while (npd_map_next(&c->totals, &it, &key, &v))
		if (!((struct total *)v)->pub.live && !object_exists(s, v))
			gone[n_gone++] = npd_xstrdup(key);
	for (i = 0; i < n_gone; i++) {
		total_free(npd_map_del(&c->totals, gone[i]));
		free(gone[i]);
	}
	free(gone);
}

int
npd_counters_get(const struct npd_counters *c, enum npd_origin_kind kind, enum npd_origin_dir dir,
		 const char *ns, const char *name, int32_t rule, uint64_t *packets, uint64_t *bytes)
{
	struct npd_buf key;
	const struct total *t;

	npd_buf_init(&key);
	t = npd_map_get(&c->totals, total_key(&key, kind, dir, ns, name, rule));
	npd_buf_fini(&key);
	if (!t)
		return -ENOENT;
	*packets = t->pub.packets;
	*bytes = t->pub.bytes;
	return 0;
}

static int
total_cmp(const void *pa, const void *pb)
{
	const struct npd_counter_total *a = *(const struct npd_counter_total *const *)pa;
	const struct npd_counter_total *b = *(const struct npd_counter_total *const *)pb;
	int r;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	r = strcmp(a->ns, b->ns);
	if (!r)
		r = strcmp(a->name, b->name);
	if (!r && a->dir != b->dir)
		r = a->dir < b->dir ? -1 : 1;
	if (!r && a->rule != b->rule)
		r = a->rule < b->rule ? -1 : 1;
	return r;
}

void
npd_counters_each(const struct npd_counters *c, npd_counter_total_fn fn, void *ctx)
{
	const struct npd_counter_total **v = npd_xcalloc(c->totals.len + 1, sizeof(*v));
	size_t it = 0, n = 0, i;
	const char *key;
	void *val;

	while (npd_map_next(&c->totals, &it, &key, &val))
		v[n++] = &((const struct total *)val)->pub;
	qsort(v, n, sizeof(*v), total_cmp);
	for (i = 0; i < n; i++)
		fn(v[i], ctx);
	free(v);
}

size_t
npd_counters_count(const struct npd_counters *c)
{
	return c->totals.len;
}

struct fmt_ctx {
	struct npd_buf *rule_packets, *rule_bytes, *denied, labels;
};

static void
format_one(const struct npd_counter_total *t, void *ctx)
{
	struct fmt_ctx *f = ctx;

	npd_buf_reset(&f->labels);
	npd_buf_adds(&f->labels, "namespace=\"");
	npd_metrics_escape_label(&f->labels, t->ns);
	npd_buf_adds(&f->labels, t->kind == NPD_ORIGIN_POD ? "\",pod=\"" : "\",policy=\"");
	npd_metrics_escape_label(&f->labels, t->name);
	npd_buf_printf(&f->labels, "\",direction=\"%s\"", npd_origin_dir_name(t->dir));
	if (t->kind == NPD_ORIGIN_POD) {
		npd_metrics_format_sample(f->denied, "netpold_pod_denied_packets_total",
					  f->labels.data, (double)t->packets);
		return;
	}
	npd_buf_printf(&f->labels, ",rule=\"%" PRId32 "\"", t->rule);
	npd_metrics_format_sample(f->rule_packets, "netpold_policy_rule_packets_total",
				  f->labels.data, (double)t->packets);
	npd_metrics_format_sample(f->rule_bytes, "netpold_policy_rule_bytes_total", f->labels.data,
				  (double)t->bytes);
}

void
npd_counters_format(const struct npd_counters *c, struct npd_buf *out)
{
	struct npd_buf packets, bytes, denied;
	struct fmt_ctx f = {&packets, &bytes, &denied, {0}};

	npd_buf_init(&packets);
	npd_buf_init(&bytes);
	npd_buf_init(&denied);
	npd_buf_init(&f.labels);
	npd_counters_each(c, format_one, &f);
	/* Each family's samples must be contiguous in the exposition format. */
	npd_buf_adds(out, "# HELP netpold_policy_rule_packets_total Packets admitted by each rule "
			  "(index in the ingress or egress list) of each NetworkPolicy on this "
			  "node, summed over local pods and both IP families.\n");
	npd_metrics_format_type(out, "netpold_policy_rule_packets_total", "counter");
	npd_buf_add(out, packets.data, packets.len);
	npd_buf_adds(out, "# HELP netpold_policy_rule_bytes_total Bytes admitted by each rule of "
			  "each NetworkPolicy on this node, summed over local pods and both IP "
			  "families.\n");
	npd_metrics_format_type(out, "netpold_policy_rule_bytes_total", "counter");
	npd_buf_add(out, bytes.data, bytes.len);
	npd_buf_adds(out, "# HELP netpold_pod_denied_packets_total Packets rejected by the "
			  "default deny of each local isolated pod (TCP resets and mid-stream "
			  "pickups included), per direction.\n");
	npd_metrics_format_type(out, "netpold_pod_denied_packets_total", "counter");
	npd_buf_add(out, denied.data, denied.len);
	npd_buf_fini(&f.labels);
	npd_buf_fini(&denied);
	npd_buf_fini(&bytes);
	npd_buf_fini(&packets);
}

static bool
savable(const char *s)
{
	return s && *s && !strpbrk(s, "\t\n");
}

/* Lines: "T kind dir ns name rule packets bytes" for totals, then "K family chain index
 * kind dir ns name rule last_packets last_bytes" for kernel rules, tab-separated, then the
 * counted set entries' E lines (counters_sets.c). */
void
npd_counters_save(const struct npd_counters *c, struct npd_buf *out)
{
	size_t it = 0;
	const char *key;
	void *v;

	while (npd_map_next(&c->totals, &it, &key, &v)) {
		const struct total *t = v;

		if (savable(t->ns) && savable(t->name))
			npd_buf_printf(out,
				       "T\t%d\t%d\t%s\t%s\t%" PRId32 "\t%" PRIu64 "\t%" PRIu64 "\n",
				       (int)t->pub.kind, (int)t->pub.dir, t->ns, t->name,
				       t->pub.rule, t->pub.packets, t->pub.bytes);
	}
	it = 0;
	while (npd_map_next(&c->krules, &it, &key, &v)) {
		const struct krule *k = v;

		if (savable(k->t->ns) && savable(k->t->name))
			npd_buf_printf(
			    out, "K\t%s\t%d\t%d\t%s\t%s\t%" PRId32 "\t%" PRIu64 "\t%" PRIu64 "\n",
			    key, (int)k->t->pub.kind, (int)k->t->pub.dir, k->t->ns, k->t->name,
			    k->t->pub.rule, k->last_packets, k->last_bytes);
	}
	npd_counters_save_entries(c, out);
}

#define MAX_FIELDS 12

/* Splits line (modified) at tabs; returns the number of fields. */
static size_t
split(char *line, char **f)
{
	size_t n = 0;
	char *p = line;

	while (n < MAX_FIELDS) {
		f[n++] = p;
		p = strchr(p, '\t');
		if (!p)
			break;
		*p++ = '\0';
	}
	return n;
}

static bool
parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!*s || *s == '-')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return !*end && !errno;
}

static bool
parse_origin(char **f, enum npd_origin_kind *kind, enum npd_origin_dir *dir, int32_t *rule)
{
	uint64_t k, d;
	long r;
	char *end;

	if (!parse_u64(f[0], &k) || !parse_u64(f[1], &d) || !*f[2] || !*f[3])
		return false;
	if ((k != NPD_ORIGIN_POLICY && k != NPD_ORIGIN_POD) || d > NPD_ORIGIN_EGRESS)
		return false;
	r = strtol(f[4], &end, 10);
	if (*end || !*f[4] || r < -1 || r > INT32_MAX)
		return false;
	*kind = (enum npd_origin_kind)k;
	*dir = (enum npd_origin_dir)d;
	*rule = (int32_t)r;
	return true;
}

/* The family|chain|index key of a K line, checked. */
static bool
parse_krule_key(const char *s)
{
	const char *bar = strchr(s, '|'), *bar2;
	uint64_t idx;

	if (!bar || bar - s != 1 || (s[0] != '4' && s[0] != '6'))
		return false;
	bar2 = strchr(bar + 1, '|');
	if (!bar2 || bar2 == bar + 1 || bar2 - bar - 1 >= NPD_CHAIN_NAMELEN)
		return false;
	return parse_u64(bar2 + 1, &idx);
}

/* The set of an E line: one of ours, within the kernel's length, no '|' (keys use it). */
static bool
parse_set_name(const char *s)
{
	return !strncmp(s, NPD_SET_PREFIX, strlen(NPD_SET_PREFIX)) && strlen(s) < NPD_SET_NAMELEN &&
	       !strchr(s, '|');
}

size_t
npd_counters_load(struct npd_counters *c, const char *text)
{
	char *copy = npd_xstrdup(text ? text : ""), *line, *save = NULL;
	char *f[MAX_FIELDS];
	size_t n, taken = 0;

	npd_counters_clear_entries(c);
	npd_map_clear(&c->krules, free);
	npd_map_clear(&c->totals, total_free);
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		enum npd_origin_kind kind;
		enum npd_origin_dir dir;
		int32_t rule;
		uint64_t a, b;
		struct total *t;
		struct krule *k;
		struct npd_addr addr;
		char *kkey;

		n = split(line, f);
		if (n == 8 && !strcmp(f[0], "T") && parse_origin(f + 1, &kind, &dir, &rule) &&
		    parse_u64(f[6], &a) && parse_u64(f[7], &b)) {
			t = npd_counters_total_get(c, kind, dir, f[3], f[4], rule);
			t->pub.packets = a;
			t->pub.bytes = b;
			taken++;
		} else if (n == 9 && !strcmp(f[0], "K") && parse_krule_key(f[1]) &&
			   parse_origin(f + 2, &kind, &dir, &rule) && parse_u64(f[7], &a) &&
			   parse_u64(f[8], &b)) {
			kkey = npd_xstrdup(f[1]);
			k = npd_xcalloc(1, sizeof(*k));
			k->t = npd_counters_total_get(c, kind, dir, f[4], f[5], rule);
			k->last_packets = a;
			k->last_bytes = b;
			free(npd_map_set(&c->krules, kkey, k));
			free(kkey);
			taken++;
		} else if (n == 10 && !strcmp(f[0], "E") && parse_set_name(f[1]) &&
			   npd_addr_parse(f[2], &addr) == 0 &&
			   parse_origin(f + 3, &kind, &dir, &rule) && kind == NPD_ORIGIN_POD &&
			   parse_u64(f[8], &a) && parse_u64(f[9], &b)) {
			t = npd_counters_total_get(c, kind, dir, f[5], f[6], rule);
			npd_counters_entry_put(c, f[1], &addr, t, a, b);
			taken++;
		}
	}
	free(copy);
	return taken;
}
