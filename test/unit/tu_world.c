/* tu_world.c: the random world generator of tu_world.h. Worlds are small on purpose (a
 * handful of pods and policies over a tiny label vocabulary) so that random selectors
 * often match, peers overlap and every trap of the NetworkPolicy reference is hit often:
 * AND versus OR peers, `namespaceSelector: {}`, every matchExpressions operator, ipBlock
 * with except (also /0 and exact hosts), named ports with the right and the wrong
 * protocol, endPort, SCTP, every policyTypes form including `egress: []`, dual stack,
 * hostNetwork, IP-less, finished pods and a reused IP. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "npd/diag.h"
#include "npd/yaml.h"
#include "tu_world.h"

static const char *const ns_names[] = {"alpha", "beta", "gamma", "delta"};
static const char *const lkeys[] = {"app", "tier", "team"};
static const char *const lvals[] = {"a", "b", "c"};
static const char *const ops[] = {"In", "NotIn", "Exists", "DoesNotExist"};
static const char *const protos[] = {NULL, "TCP", "UDP", "SCTP"};
static const int nports[] = {80, 53, 5432, 8080};
static const char *const pnames[] = {"http", "dns", "db", "nope"};
static const struct tu_w_cport cports[] = {
    {"http", "TCP", 80}, {"http", "TCP", 8080}, {"dns", "UDP", 53},
    {"dns", "TCP", 53},	 {"db", "TCP", 5432},	{"db", "SCTP", 5432},
};
static const char *const cidrs4[] = {"10.244.0.0/16", "10.244.1.0/24",	  "10.244.2.0/25",
				     "0.0.0.0/0",     "192.168.254.0/24", "10.244.1.12/32"};
static const char *const except4[] = {"10.244.1.0/28", "10.244.2.16/28", "10.244.1.12/32",
				      "192.168.254.0/25", "10.244.0.0/16"};
static const char *const cidrs6[] = {"fd00:244::/32", "::/0", "fd00:244:1::/48"};
static const char *const except6[] = {"fd00:244:1::/48", "fd00:244:2::10/128"};

#define N(a) (sizeof(a) / sizeof((a)[0]))

uint64_t
tu_rand(uint64_t *s)
{
	uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ULL;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dULL;
}

uint64_t
tu_seed_from_env(const char *name)
{
	const char *v = getenv(name);
	struct timespec ts;

	if (v && *v)
		return strtoull(v, NULL, 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000007ULL ^ (uint64_t)ts.tv_nsec;
}

static unsigned
pick(uint64_t *r, unsigned n)
{
	return (unsigned)(tu_rand(r) % n);
}

static bool
chance(uint64_t *r, unsigned percent)
{
	return pick(r, 100) < percent;
}

static void
gen_sel(uint64_t *r, struct tu_w_sel *s, bool ns_level)
{
	int i, j;

	memset(s, 0, sizeof(*s));
	if (chance(r, 30))
		return; /* {}: everything */
	s->n_labels = (int)pick(r, 2);
	for (i = 0; i < s->n_labels; i++) {
		s->keys[i] = ns_level && chance(r, 40) ? "kubernetes.io/metadata.name"
						       : lkeys[pick(r, N(lkeys))];
		s->vals[i] = !strcmp(s->keys[i], "kubernetes.io/metadata.name")
				 ? ns_names[pick(r, N(ns_names))]
				 : lvals[pick(r, N(lvals))];
		for (j = 0; j < i; j++)
			if (!strcmp(s->keys[j], s->keys[i]))
				s->n_labels = i; /* keys are unique in matchLabels */
	}
	s->n_exprs = s->n_labels ? (int)pick(r, 2) : 1 + (int)pick(r, 2);
	for (i = 0; i < s->n_exprs; i++) {
		struct tu_w_expr *e = &s->exprs[i];

		e->key = lkeys[pick(r, N(lkeys))];
		e->op = ops[pick(r, N(ops))];
		e->n_values = 0;
		if (!strcmp(e->op, "In") || !strcmp(e->op, "NotIn")) {
			unsigned first = pick(r, N(lvals));

			e->n_values = 1 + (int)pick(r, 2);
			e->values[0] = lvals[first];
			e->values[1] = lvals[(first + 1 + pick(r, 2)) % N(lvals)];
		}
	}
}

static void
gen_peer(uint64_t *r, struct tu_w_peer *p, bool v6)
{
	int i;

	memset(p, 0, sizeof(*p));
	p->kind = (int)pick(r, 4);
	if (p->kind == 0 || p->kind == 2)
		gen_sel(r, &p->pod, false);
	if (p->kind == 1 || p->kind == 2)
		gen_sel(r, &p->ns, true);
	if (p->kind != 3)
		return;
	if (v6 && chance(r, 40)) {
		p->cidr = cidrs6[pick(r, N(cidrs6))];
		p->n_except = (int)pick(r, 2);
		for (i = 0; i < p->n_except; i++)
			p->except[i] = except6[pick(r, N(except6))];
	} else {
		p->cidr = cidrs4[pick(r, N(cidrs4))];
		p->n_except = (int)pick(r, 3);
		for (i = 0; i < p->n_except; i++)
			p->except[i] = except4[pick(r, N(except4))];
	}
	/* An except must lie inside its cidr (the API server rejects it otherwise). */
	for (i = 0; i < p->n_except; i++) {
		struct npd_cidr c, e;

		if (npd_cidr_parse(p->cidr, false, &c) || npd_cidr_parse(p->except[i], false, &e) ||
		    !npd_cidr_covers(&c, &e) || c.prefix == e.prefix) {
			p->except[i] = p->except[--p->n_except];
			i--;
		}
	}
}

static void
gen_port(uint64_t *r, struct tu_w_port *q)
{
	memset(q, 0, sizeof(*q));
	q->proto = protos[pick(r, N(protos))];
	switch (pick(r, 4)) {
	case 0:
		q->name = pnames[pick(r, N(pnames))];
		break;
	case 1:
		q->port = nports[pick(r, N(nports))];
		q->end_port = q->port + (int)pick(r, 3) * 30;
		if (q->end_port == q->port)
			q->end_port = 0;
		break;
	case 2:
		/* No port: every port of the protocol. */
		break;
	default:
		q->port = nports[pick(r, N(nports))];
		break;
	}
}

static void
gen_rules(uint64_t *r, struct tu_w_rule *rules, int *n, bool v6)
{
	int i, j;

	*n = (int)pick(r, 3);
	for (i = 0; i < *n; i++) {
		struct tu_w_rule *ru = &rules[i];

		memset(ru, 0, sizeof(*ru));
		ru->n_peers = (int)pick(r, 3);
		for (j = 0; j < ru->n_peers; j++)
			gen_peer(r, &ru->peers[j], v6);
		ru->n_ports = (int)pick(r, 3);
		for (j = 0; j < ru->n_ports; j++)
			gen_port(r, &ru->ports[j]);
	}
}

static void
gen_policy(uint64_t *r, struct tu_world *w, int idx, bool v6)
{
	struct tu_w_policy *p = &w->pols[idx];

	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "pol%d", idx);
	p->ns = w->ns[pick(r, (unsigned)w->n_ns)].name;
	gen_sel(r, &p->sel, false);
	p->types = chance(r, 35) ? -1 : 1 + (int)pick(r, 3);
	p->has_ingress = chance(r, 75);
	p->has_egress = chance(r, 60);
	if (p->has_ingress)
		gen_rules(r, p->ingress, &p->n_ingress, v6);
	if (p->has_egress)
		gen_rules(r, p->egress, &p->n_egress, v6);
}

static void
gen_pod(uint64_t *r, struct tu_world *w, int idx, bool v6)
{
	struct tu_w_pod *p = &w->pods[idx];
	int i, j;

	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "p%d", idx);
	p->ns = w->ns[pick(r, (unsigned)w->n_ns)].name;
	p->node = 1 + (int)pick(r, 2);
	p->n_labels = (int)pick(r, 3);
	for (i = 0; i < p->n_labels; i++) {
		p->keys[i] = lkeys[i];
		p->vals[i] = lvals[pick(r, N(lvals))];
	}
	p->phase = chance(r, 85) ? "Running" : chance(r, 50) ? "Pending" : "Succeeded";
	p->host_network = chance(r, 6);
	if (p->host_network) {
		snprintf(p->ip4, sizeof(p->ip4), "192.168.254.%d", p->node);
	} else if (!chance(r, 6)) {
		snprintf(p->ip4, sizeof(p->ip4), "10.244.%d.%d", p->node, 10 + idx);
		if (v6)
			snprintf(p->ip6, sizeof(p->ip6), "fd00:244:%d::%x", p->node, 0x10 + idx);
		/* A finished pod may leave its IP to a newer one. */
		if (idx > 0 && chance(r, 8)) {
			const struct tu_w_pod *o = &w->pods[pick(r, (unsigned)idx)];

			if (o->ip4[0] && !o->host_network && strcmp(o->phase, "Succeeded")) {
				memcpy(p->ip4, o->ip4, sizeof(p->ip4));
				memcpy(p->ip6, o->ip6, sizeof(p->ip6));
				p->node = o->node;
				p->phase = "Succeeded";
			}
		}
	}
	p->n_ports = (int)pick(r, 3);
	for (i = 0; i < p->n_ports; i++) {
		p->ports[i] = cports[pick(r, N(cports))];
		for (j = 0; j < i; j++)
			if (p->ports[j].port == p->ports[i].port &&
			    !strcmp(p->ports[j].proto, p->ports[i].proto))
				p->n_ports = i; /* one container port per port/protocol */
	}
}

static void
gen_ns(uint64_t *r, struct tu_world *w, int idx)
{
	w->ns[idx].name = ns_names[idx];
	w->ns[idx].n_labels = (int)pick(r, 3);
	w->ns[idx].keys[0] = "team";
	w->ns[idx].vals[0] = lvals[pick(r, N(lvals))];
	w->ns[idx].keys[1] = "app";
	w->ns[idx].vals[1] = lvals[pick(r, N(lvals))];
}

void
tu_world_gen_ns(struct tu_world *w, int idx, uint64_t *r)
{
	gen_ns(r, w, idx);
}

void
tu_world_gen_pod(struct tu_world *w, int idx, uint64_t *r)
{
	gen_pod(r, w, idx, true);
}

void
tu_world_gen_policy(struct tu_world *w, int idx, uint64_t *r)
{
	gen_policy(r, w, idx, chance(r, 50));
}

void
tu_world_gen(struct tu_world *w, uint64_t seed)
{
	uint64_t r = seed ^ 0xa5a5a5a5deadbeefULL;
	bool v6 = chance(&r, 40);
	int i;

	memset(w, 0, sizeof(*w));
	w->seed = seed;
	w->n_ns = 2 + (int)pick(&r, 3);
	for (i = 0; i < w->n_ns; i++)
		gen_ns(&r, w, i);
	w->n_pods = 3 + (int)pick(&r, TU_W_MAX - 2);
	for (i = 0; i < w->n_pods; i++)
		gen_pod(&r, w, i, v6);
	w->n_pols = 1 + (int)pick(&r, 4);
	for (i = 0; i < w->n_pols; i++)
		gen_policy(&r, w, i, v6);
}

/* ---- rendering: JSON-style flow YAML, one document per object ---- */

static void
render_labels(struct npd_buf *b, const char *const *keys, const char *const *vals, int n)
{
	int i;

	npd_buf_adds(b, "{");
	for (i = 0; i < n; i++)
		npd_buf_printf(b, "%s\"%s\": \"%s\"", i ? ", " : "", keys[i], vals[i]);
	npd_buf_adds(b, "}");
}

static void
render_sel(struct npd_buf *b, const struct tu_w_sel *s)
{
	int i, j;

	npd_buf_adds(b, "{");
	if (s->n_labels) {
		npd_buf_adds(b, "\"matchLabels\": ");
		render_labels(b, s->keys, s->vals, s->n_labels);
	}
	if (s->n_exprs) {
		npd_buf_printf(b, "%s\"matchExpressions\": [", s->n_labels ? ", " : "");
		for (i = 0; i < s->n_exprs; i++) {
			const struct tu_w_expr *e = &s->exprs[i];

			npd_buf_printf(b, "%s{\"key\": \"%s\", \"operator\": \"%s\"", i ? ", " : "",
				       e->key, e->op);
			if (e->n_values) {
				npd_buf_adds(b, ", \"values\": [");
				for (j = 0; j < e->n_values; j++)
					npd_buf_printf(b, "%s\"%s\"", j ? ", " : "", e->values[j]);
				npd_buf_adds(b, "]");
			}
			npd_buf_adds(b, "}");
		}
		npd_buf_adds(b, "]");
	}
	npd_buf_adds(b, "}");
}

static void
render_rules(struct npd_buf *b, const char *list, const char *peers, const struct tu_w_rule *rules,
	     int n)
{
	int i, j, k;

	npd_buf_printf(b, ", \"%s\": [", list);
	for (i = 0; i < n; i++) {
		const struct tu_w_rule *ru = &rules[i];
		const char *sep = "";

		npd_buf_printf(b, "%s{", i ? ", " : "");
		if (ru->n_peers) {
			npd_buf_printf(b, "\"%s\": [", peers);
			for (j = 0; j < ru->n_peers; j++) {
				const struct tu_w_peer *p = &ru->peers[j];

				npd_buf_printf(b, "%s{", j ? ", " : "");
				if (p->kind == 3) {
					npd_buf_printf(b, "\"ipBlock\": {\"cidr\": \"%s\"",
						       p->cidr);
					if (p->n_except) {
						npd_buf_adds(b, ", \"except\": [");
						for (k = 0; k < p->n_except; k++)
							npd_buf_printf(b, "%s\"%s\"", k ? ", " : "",
								       p->except[k]);
						npd_buf_adds(b, "]");
					}
					npd_buf_adds(b, "}");
				}
				if (p->kind == 0 || p->kind == 2) {
					npd_buf_adds(b, "\"podSelector\": ");
					render_sel(b, &p->pod);
				}
				if (p->kind == 1 || p->kind == 2) {
					npd_buf_printf(b, "%s\"namespaceSelector\": ",
						       p->kind == 2 ? ", " : "");
					render_sel(b, &p->ns);
				}
				npd_buf_adds(b, "}");
			}
			npd_buf_adds(b, "]");
			sep = ", ";
		}
		if (ru->n_ports) {
			npd_buf_printf(b, "%s\"ports\": [", sep);
			for (j = 0; j < ru->n_ports; j++) {
				const struct tu_w_port *q = &ru->ports[j];
				const char *s2 = "";

				npd_buf_printf(b, "%s{", j ? ", " : "");
				if (q->proto) {
					npd_buf_printf(b, "\"protocol\": \"%s\"", q->proto);
					s2 = ", ";
				}
				if (q->name)
					npd_buf_printf(b, "%s\"port\": \"%s\"", s2, q->name);
				else if (q->port)
					npd_buf_printf(b, "%s\"port\": %d", s2, q->port);
				if (q->end_port)
					npd_buf_printf(b, ", \"endPort\": %d", q->end_port);
				npd_buf_adds(b, "}");
			}
			npd_buf_adds(b, "]");
		}
		npd_buf_adds(b, "}");
	}
	npd_buf_adds(b, "]");
}

void
tu_world_render(const struct tu_world *w, struct npd_buf *b)
{
	int i, j;

	npd_buf_printf(b, "# random world, seed %llu\n", (unsigned long long)w->seed);
	for (i = 0; i < w->n_ns; i++) {
		npd_buf_printf(b,
			       "---\n{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", "
			       "\"metadata\": {\"name\": \"%s\", \"labels\": ",
			       w->ns[i].name);
		render_labels(b, w->ns[i].keys, w->ns[i].vals, w->ns[i].n_labels);
		npd_buf_adds(b, "}}\n");
	}
	for (i = 0; i < w->n_pods; i++) {
		const struct tu_w_pod *p = &w->pods[i];

		npd_buf_printf(b,
			       "---\n{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": "
			       "{\"name\": \"%s\", \"namespace\": \"%s\", \"labels\": ",
			       p->name, p->ns);
		render_labels(b, p->keys, p->vals, p->n_labels);
		npd_buf_printf(b,
			       "},\n \"spec\": {\"nodeName\": \"node%d\", \"hostNetwork\": %s, "
			       "\"containers\": [{\"name\": \"c\", \"ports\": [",
			       p->node, p->host_network ? "true" : "false");
		for (j = 0; j < p->n_ports; j++)
			npd_buf_printf(b,
				       "%s{\"name\": \"%s\", \"containerPort\": %d, "
				       "\"protocol\": \"%s\"}",
				       j ? ", " : "", p->ports[j].name, p->ports[j].port,
				       p->ports[j].proto);
		npd_buf_printf(b, "]}]},\n \"status\": {\"phase\": \"%s\"", p->phase);
		if (p->ip4[0]) {
			npd_buf_printf(b, ", \"podIP\": \"%s\", \"podIPs\": [{\"ip\": \"%s\"}",
				       p->ip4, p->ip4);
			if (p->ip6[0])
				npd_buf_printf(b, ", {\"ip\": \"%s\"}", p->ip6);
			npd_buf_adds(b, "]");
		}
		npd_buf_adds(b, "}}\n");
	}
	for (i = 0; i < w->n_pols; i++) {
		const struct tu_w_policy *p = &w->pols[i];

		npd_buf_printf(b,
			       "---\n{\"apiVersion\": \"networking.k8s.io/v1\", \"kind\": "
			       "\"NetworkPolicy\", \"metadata\": {\"name\": \"%s\", "
			       "\"namespace\": \"%s\"},\n \"spec\": {\"podSelector\": ",
			       p->name, p->ns);
		render_sel(b, &p->sel);
		if (p->types >= 0) {
			npd_buf_adds(b, ", \"policyTypes\": [");
			if (p->types & 1)
				npd_buf_adds(b, "\"Ingress\"");
			if (p->types & 2)
				npd_buf_printf(b, "%s\"Egress\"", (p->types & 1) ? ", " : "");
			npd_buf_adds(b, "]");
		}
		if (p->has_ingress)
			render_rules(b, "ingress", "from", p->ingress, p->n_ingress);
		if (p->has_egress)
			render_rules(b, "egress", "to", p->egress, p->n_egress);
		npd_buf_adds(b, "}}\n");
	}
}

static void
add_event(struct npd_event *ev, void *ctx)
{
	struct npd_store *s = ctx;

	ck_assert_int_ge(npd_store_apply(s, ev), 0);
	npd_event_fini(ev);
}

struct npd_store *
tu_world_store(const struct tu_world *w)
{
	struct npd_store *s = npd_store_new();
	struct npd_diags d;
	struct npd_buf b;
	int rc;

	npd_buf_init(&b);
	npd_diags_init(&d);
	tu_world_render(w, &b);
	rc = npd_yaml_decode_buf(b.data, b.len, "world.yaml", add_event, s, &d);
	if (rc || d.n)
		ck_abort_msg("world %llu does not decode (%d, %zu diagnostics: %s):\n%s",
			     (unsigned long long)w->seed, rc, d.n, d.n ? d.v[0].msg : "", b.data);
	npd_diags_fini(&d);
	npd_buf_fini(&b);
	return s;
}

size_t
tu_world_endpoints(const struct tu_world *w, struct npd_addr *out, size_t max)
{
	static const char *const outside[] = {"192.168.254.100", "fd00:254::100"};
	size_t n = 0, i, j;
	struct npd_addr a;

	for (i = 0; i < (size_t)w->n_pods; i++) {
		const struct tu_w_pod *p = &w->pods[i];
		const char *ips[2] = {p->ip4, p->ip6};

		if (strcmp(p->phase, "Running") && strcmp(p->phase, "Pending"))
			continue;
		for (j = 0; j < 2; j++) {
			size_t k;
			bool dup = false;

			if (!ips[j][0] || npd_addr_parse(ips[j], &a))
				continue;
			for (k = 0; k < n; k++)
				dup |= !npd_addr_cmp(&out[k], &a);
			if (!dup && n < max)
				out[n++] = a;
		}
	}
	for (i = 0; i < N(outside) && n < max; i++)
		if (!npd_addr_parse(outside[i], &a))
			out[n++] = a;
	return n;
}

/* ---- shrinking ---- */

/* Visits every removable piece in a fixed order; with target >= 0 removes the piece of
 * that number from w and stops. Returns the number of pieces visited. */
static size_t
pieces(struct tu_world *w, size_t target)
{
	size_t n = 0;
	int i, j, k, d;

#define PIECE(remove)                                                                              \
	do {                                                                                       \
		if (n++ == target) {                                                               \
			remove;                                                                    \
			return n;                                                                  \
		}                                                                                  \
	} while (0)
#define DROP(arr, cnt, idx)                                                                        \
	memmove(&(arr)[idx], &(arr)[(idx) + 1], sizeof((arr)[0]) * (size_t)(--(cnt) - (idx)))

	for (i = 0; i < w->n_pols; i++) {
		struct tu_w_policy *p = &w->pols[i];

		PIECE(DROP(w->pols, w->n_pols, i));
		for (d = 0; d < 2; d++) {
			struct tu_w_rule *rules = d ? p->egress : p->ingress;
			int *nr = d ? &p->n_egress : &p->n_ingress;

			for (j = 0; j < *nr; j++) {
				struct tu_w_rule *ru = &rules[j];

				PIECE(DROP(rules, *nr, j));
				for (k = 0; k < ru->n_peers; k++)
					PIECE(DROP(ru->peers, ru->n_peers, k));
				for (k = 0; k < ru->n_ports; k++)
					PIECE(DROP(ru->ports, ru->n_ports, k));
			}
		}
		for (k = 0; k < p->sel.n_exprs; k++)
			PIECE(DROP(p->sel.exprs, p->sel.n_exprs, k));
		for (k = 0; k < p->sel.n_labels; k++)
			PIECE((DROP(p->sel.keys, p->sel.n_labels, k), p->sel.n_labels++,
			       DROP(p->sel.vals, p->sel.n_labels, k)));
	}
	for (i = 0; i < w->n_pods; i++) {
		struct tu_w_pod *p = &w->pods[i];

		PIECE(DROP(w->pods, w->n_pods, i));
		for (k = 0; k < p->n_labels; k++)
			PIECE((DROP(p->keys, p->n_labels, k), p->n_labels++,
			       DROP(p->vals, p->n_labels, k)));
		for (k = 0; k < p->n_ports; k++)
			PIECE(DROP(p->ports, p->n_ports, k));
	}
	for (i = 0; i < w->n_ns; i++)
		for (k = 0; k < w->ns[i].n_labels; k++)
			PIECE((DROP(w->ns[i].keys, w->ns[i].n_labels, k), w->ns[i].n_labels++,
			       DROP(w->ns[i].vals, w->ns[i].n_labels, k)));
#undef PIECE
#undef DROP
	return n;
}

size_t
tu_world_pieces(const struct tu_world *w)
{
	struct tu_world copy = *w;

	return pieces(&copy, (size_t)-1);
}

void
tu_world_without(const struct tu_world *w, size_t piece, struct tu_world *out)
{
	*out = *w;
	pieces(out, piece);
}
