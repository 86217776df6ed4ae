/* drops.c owns the drop log's flow table: which denied packets belong together, when a line
 * is due, and the last lines for /debug/drops. It never reads a socket, a clock or a store:
 * the agent hands it packets with the time and logs the lines it returns. Memory is bounded
 * by max_flows and recent whatever the traffic; a port scan only raises not_kept. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npd/addr.h"
#include "npd/drops.h"
#include "npd/map.h"
#include "npd/mem.h"
#include "npd/explain.h"
#include "npd/sim.h"

#define PREFIX_WORD "NPD DROP "

struct flow {
	struct npd_drop_key key;
	double first, last; /* of the repeats not yet reported */
	uint64_t pending;   /* repeats since the last line */
	bool seen;	    /* a packet arrived in the current window */
};

struct npd_drops {
	struct npd_drops_opts o;
	struct npd_map flows; /* flow_key text -> struct flow (owned) */
	double window_end;    /* < 0: no window open */
	uint64_t not_kept;    /* in the current window */
	struct npd_drop_line *ring;
	size_t ring_head, ring_len; /* head: next slot to write */
	struct npd_drops_stats st;
	char **dead; /* scratch for the flows a tick forgets */
	size_t cap_dead;
};

void
npd_drops_opts_init(struct npd_drops_opts *o)
{
	o->window = 1.0;
	o->max_flows = 4096;
	o->recent = 256;
}

struct npd_drops *
npd_drops_new(const struct npd_drops_opts *o)
{
	struct npd_drops *d = npd_xcalloc(1, sizeof(*d));

	npd_drops_opts_init(&d->o);
	if (o && o->window > 0)
		d->o.window = o->window;
	if (o && o->max_flows)
		d->o.max_flows = o->max_flows;
	if (o && o->recent)
		d->o.recent = o->recent;
	npd_map_init(&d->flows);
	d->window_end = -1;
	d->ring = npd_xcalloc(d->o.recent, sizeof(*d->ring));
	return d;
}

void
npd_drops_free(struct npd_drops *d)
{
	if (!d)
		return;
	npd_map_clear(&d->flows, free);
	free(d->ring);
	free(d->dead);
	free(d);
}

/* The map's key: every field of the flow, as text. */
static void
flow_key(const struct npd_drop_key *k, char *buf, size_t len)
{
	char s[NPD_ADDRSTRLEN], t[NPD_ADDRSTRLEN];

	snprintf(buf, len, "%c|%s|%s|%u|%u", k->dir == NPD_DROP_INGRESS ? 'I' : 'E',
		 npd_addr_format(&k->src, s), npd_addr_format(&k->dst, t), k->proto, k->dport);
}

static void
remember(struct npd_drops *d, const struct npd_drop_line *l)
{
	d->ring[d->ring_head] = *l;
	d->ring_head = (d->ring_head + 1) % d->o.recent;
	if (d->ring_len < d->o.recent)
		d->ring_len++;
	d->st.lines++;
}

enum npd_drops_verdict
npd_drops_add(struct npd_drops *d, double now, const struct npd_drop_key *k,
	      struct npd_drop_line *line)
{
	char key[2 * NPD_ADDRSTRLEN + 32];
	struct flow *f;

	d->st.packets++;
	if (d->window_end < 0)
		d->window_end = now + d->o.window;
	flow_key(k, key, sizeof(key));
	f = npd_map_get(&d->flows, key);
	if (f) {
		if (!f->pending)
			f->first = now;
		f->last = now;
		f->pending++;
		f->seen = true;
		d->st.aggregated++;
		return NPD_DROPS_AGGREGATED;
	}
	if (d->flows.len >= d->o.max_flows) {
		d->not_kept++;
		d->st.not_kept++;
		return NPD_DROPS_NOT_KEPT;
	}
	f = npd_xcalloc(1, sizeof(*f));
	f->key = *k;
	f->seen = true;
	npd_map_set(&d->flows, key, f);
	memset(line, 0, sizeof(*line));
	line->key = *k;
	line->first = line->last = now;
	line->count = 1;
	remember(d, line);
	return NPD_DROPS_LOG_NOW;
}

double
npd_drops_next_tick(const struct npd_drops *d)
{
	if (!d->flows.len && !d->not_kept)
		return -1;
	return d->window_end;
}

void
npd_drops_tick(struct npd_drops *d, double now, npd_drops_line_fn fn, void *ctx)
{
	struct npd_drop_line l;
	size_t it = 0, n_dead = 0, i;
	const char *k;
	void *v;

	if (d->window_end < 0 || now < d->window_end)
		return;
	while (npd_map_next(&d->flows, &it, &k, &v)) {
		struct flow *f = v;

		if (f->pending) {
			memset(&l, 0, sizeof(l));
			l.key = f->key;
			l.first = f->first;
			l.last = f->last;
			l.count = f->pending;
			remember(d, &l);
			fn(&l, 0, ctx);
			f->pending = 0;
		}
		/* A flow silent for a whole window is forgotten: its next packet is news. */
		if (!f->seen) {
			npd_xgrow(&d->dead, &d->cap_dead, n_dead + 1, sizeof(*d->dead));
			d->dead[n_dead++] = npd_xstrdup(k);
		}
		f->seen = false;
	}
	for (i = 0; i < n_dead; i++) {
		free(npd_map_del(&d->flows, d->dead[i]));
		free(d->dead[i]);
	}
	if (d->not_kept) {
		fn(NULL, d->not_kept, ctx);
		d->not_kept = 0;
	}
	d->window_end = d->flows.len ? now + d->o.window : -1;
}

size_t
npd_drops_n_recent(const struct npd_drops *d)
{
	return d->ring_len;
}

const struct npd_drop_line *
npd_drops_recent(const struct npd_drops *d, size_t i)
{
	if (i >= d->ring_len)
		return NULL;
	return &d->ring[(d->ring_head + d->o.recent - 1 - i) % d->o.recent];
}

void
npd_drops_stats(const struct npd_drops *d, struct npd_drops_stats *out)
{
	*out = d->st;
	out->flows = d->flows.len;
}

int
npd_drops_parse_prefix(const char *prefix, enum npd_drop_dir *dir)
{
	size_t n = strlen(PREFIX_WORD);

	/* "NPD DROP I" or "NPD DROP E", maybe followed by a space and more (an older agent
	 * named the namespace or pod there). */
	if (!prefix || strncmp(prefix, PREFIX_WORD, n) != 0 || !prefix[n] ||
	    (prefix[n + 1] != ' ' && prefix[n + 1] != '\0'))
		return -EINVAL;
	if (prefix[n] == 'I')
		*dir = NPD_DROP_INGRESS;
	else if (prefix[n] == 'E')
		*dir = NPD_DROP_EGRESS;
	else
		return -EINVAL;
	return 0;
}

static bool
has_ports(uint8_t proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP ||
	       proto == IPPROTO_UDPLITE;
}

/* Ports sit in the first 4 bytes of TCP, UDP, UDP-Lite and SCTP headers alike. */
static void
read_dport(const uint8_t *l4, size_t len, struct npd_drop_key *k)
{
	if (has_ports(k->proto) && len >= 4)
		k->dport = (uint16_t)(l4[2] << 8 | l4[3]);
}

static int
parse_v4(const uint8_t *p, size_t len, struct npd_drop_key *k)
{
	size_t ihl = (size_t)(p[0] & 0x0f) * 4;
	uint16_t frag;

	if (len < 20 || ihl < 20 || ihl > len)
		return -EINVAL;
	k->src.family = k->dst.family = AF_INET;
	memcpy(k->src.a, p + 12, 4);
	memcpy(k->dst.a, p + 16, 4);
	k->proto = p[9];
	frag = (uint16_t)((p[6] & 0x1f) << 8 | p[7]);
	if (!frag)
		read_dport(p + ihl, len - ihl, k);
	return 0;
}

static int
parse_v6(const uint8_t *p, size_t len, struct npd_drop_key *k)
{
	size_t off = 40;
	uint8_t nh;
	bool later_fragment = false;

	if (len < 40)
		return -EINVAL;
	k->src.family = k->dst.family = AF_INET6;
	memcpy(k->src.a, p + 8, 16);
	memcpy(k->dst.a, p + 24, 16);
	nh = p[6];
	/* Hop-by-hop, routing, destination options and fragment headers precede the
	 * transport header; anything else is the protocol itself. */
	while (nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING || nh == IPPROTO_DSTOPTS ||
	       nh == IPPROTO_FRAGMENT) {
		if (off + 8 > len)
			break;
		if (nh == IPPROTO_FRAGMENT) {
			later_fragment = ((p[off + 2] << 8 | p[off + 3]) & 0xfff8) != 0;
			nh = p[off];
			off += 8;
		} else {
			uint8_t next = p[off];

			off += (size_t)(p[off + 1] + 1) * 8;
			nh = next;
		}
	}
	k->proto = nh;
	if (!later_fragment && off <= len)
		read_dport(p + off, len - off, k);
	return 0;
}

int
npd_drops_parse_packet(const uint8_t *pkt, size_t len, struct npd_drop_key *k)
{
	if (!len)
		return -EINVAL;
	k->dport = 0;
	switch (pkt[0] >> 4) {
	case 4:
		return parse_v4(pkt, len, k);
	case 6:
		return parse_v6(pkt, len, k);
	default:
		return -EINVAL;
	}
}

const char *
npd_drops_proto_name(uint8_t proto, char buf[8])
{
	switch (proto) {
	case IPPROTO_TCP:
		return "TCP";
	case IPPROTO_UDP:
		return "UDP";
	case IPPROTO_SCTP:
		return "SCTP";
	case IPPROTO_ICMP:
		return "ICMP";
	case IPPROTO_ICMPV6:
		return "ICMPv6";
	default:
		snprintf(buf, 8, "%u", proto);
		return buf;
	}
}

/* The pod owning a (NULL: none) and the end as "ns/pod(IP)" or "external(IP)". */
static const struct npd_pod *
describe(const struct npd_store *s, const struct npd_addr *a, char *buf, size_t len)
{
	const struct npd_pod *pod = npd_store_pod_by_ip(s, a);
	char ab[NPD_ADDRSTRLEN];

	npd_addr_format(a, ab);
	if (pod)
		snprintf(buf, len, "%s/%s(%s)", pod->ns, pod->name, ab);
	else
		snprintf(buf, len, "external(%s)", ab);
	return pod;
}

/* The policies isolating the pod that denied l, as the simulator sees them in s: the
 * destination's ingress side or the source's egress side. Release with npd_sim_result_fini. */
static const struct npd_sim_side *
isolating(const struct npd_store *s, const struct npd_drop_line *l, const struct npd_pod *src,
	  const struct npd_pod *dst, struct npd_sim_result *r)
{
	struct npd_sim_endpoint from = {src, true, l->key.src}, to = {dst, true, l->key.dst};

	if (npd_sim_run(s, &from, &to, l->key.dport, (enum npd_proto)l->key.proto, r) != 0)
		return NULL;
	return l->key.dir == NPD_DROP_INGRESS ? &r->ingress : &r->egress;
}

void
npd_drops_format_line(const struct npd_store *s, const struct npd_drop_line *l, struct npd_buf *out)
{
	char sb[NPD_ADDRSTRLEN + 520], db[NPD_ADDRSTRLEN + 520], pb[8];
	const struct npd_pod *src = describe(s, &l->key.src, sb, sizeof(sb));
	const struct npd_pod *dst = describe(s, &l->key.dst, db, sizeof(db));
	const struct npd_sim_side *side;
	struct npd_sim_result r;
	size_t i;

	memset(&r, 0, sizeof(r));
	npd_buf_printf(out, "direction=%s src=%s dst=%s proto=%s dport=%u isolated_by=",
		       l->key.dir == NPD_DROP_INGRESS ? "ingress" : "egress", sb, db,
		       npd_drops_proto_name(l->key.proto, pb), l->key.dport);
	side = isolating(s, l, src, dst, &r);
	if (!side || !side->n_isolating)
		npd_buf_adds(out, "none");
	for (i = 0; side && i < side->n_isolating; i++)
		npd_buf_printf(out, "%s%s/%s", i ? "," : "", side->isolating[i]->ns,
			       side->isolating[i]->name);
	npd_buf_printf(out, " count=%llu", (unsigned long long)l->count);
	npd_sim_result_fini(&r);
}

void
npd_drops_format_json(const struct npd_store *s, const struct npd_drops *d, struct npd_buf *out)
{
	char sb[NPD_ADDRSTRLEN + 520], db[NPD_ADDRSTRLEN + 520], pb[8];
	size_t i, j;

	npd_buf_adds(out, "{\"drops\":[");
	for (i = 0; i < d->ring_len; i++) {
		const struct npd_drop_line *l = npd_drops_recent(d, i);
		const struct npd_pod *src = describe(s, &l->key.src, sb, sizeof(sb));
		const struct npd_pod *dst = describe(s, &l->key.dst, db, sizeof(db));
		const struct npd_sim_side *side;
		struct npd_sim_result r;

		memset(&r, 0, sizeof(r));
		npd_buf_printf(out, "%s{\"direction\":\"%s\",\"src\":", i ? "," : "",
			       l->key.dir == NPD_DROP_INGRESS ? "ingress" : "egress");
		npd_explain_json_string(out, sb);
		npd_buf_adds(out, ",\"dst\":");
		npd_explain_json_string(out, db);
		npd_buf_printf(out, ",\"proto\":\"%s\",\"dport\":%u,\"isolated_by\":[",
			       npd_drops_proto_name(l->key.proto, pb), l->key.dport);
		side = isolating(s, l, src, dst, &r);
		for (j = 0; side && j < side->n_isolating; j++) {
			char *q = npd_xasprintf("%s/%s", side->isolating[j]->ns,
						side->isolating[j]->name);

			if (j)
				npd_buf_addc(out, ',');
			npd_explain_json_string(out, q);
			free(q);
		}
		npd_buf_printf(out, "],\"count\":%llu,\"first\":%.3f,\"last\":%.3f}",
			       (unsigned long long)l->count, l->first, l->last);
		npd_sim_result_fini(&r);
	}
	npd_buf_adds(out, "]}\n");
}
