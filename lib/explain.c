/* explain.c turns one simulator answer into the JSON of /debug/explain. Pure: the counters
 * of the deciding rules come from the caller's callback (the agent reads them from its
 * counter cache); no I/O, no clock. The explanation text is the simulator's own, so the
 * live answer and `netpolctl simulate` on the same objects print the same words. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npd/explain.h"
#include "npd/mem.h"

void
npd_explain_json_string(struct npd_buf *out, const char *s)
{
	/* The characters with a short escape; other control characters go by code point. */
	static const char *const escapes[] = {
	    ['"'] = "\\\"", ['\\'] = "\\\\", ['\n'] = "\\n", ['\t'] = "\\t"};
	const unsigned char *p;

	if (!s) {
		npd_buf_adds(out, "null");
		return;
	}
	npd_buf_addc(out, '"');
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p < NPD_ARRAY_SIZE(escapes) && escapes[*p])
			npd_buf_adds(out, escapes[*p]);
		else if (*p < 0x20)
			npd_buf_printf(out, "\\u%04x", *p);
		else
			npd_buf_addc(out, (char)*p);
	}
	npd_buf_addc(out, '"');
}

static void
key(struct npd_buf *out, const char *k)
{
	npd_explain_json_string(out, k);
	npd_buf_addc(out, ':');
}

/* "ns/name" as a JSON string. */
static void
qualified(struct npd_buf *out, const char *ns, const char *name)
{
	char *s = npd_xasprintf("%s/%s", ns, name);

	npd_explain_json_string(out, s);
	free(s);
}

static void
endpoint(struct npd_buf *out, const char *name, const struct npd_sim_endpoint *ep,
	 const struct npd_addr *a)
{
	char ab[NPD_ADDRSTRLEN];

	key(out, name);
	npd_buf_addc(out, '{');
	key(out, "pod");
	if (ep->pod)
		qualified(out, ep->pod->ns, ep->pod->name);
	else
		npd_buf_adds(out, "null");
	npd_buf_addc(out, ',');
	key(out, "ip");
	npd_explain_json_string(out, a->family ? npd_addr_format(a, ab) : NULL);
	npd_buf_addc(out, '}');
}

static void
counters(struct npd_buf *out, const struct npd_explain_origin *o, npd_explain_counter_fn fn,
	 void *ctx)
{
	uint64_t packets = 0, bytes = 0;

	if (fn && fn(ctx, o, &packets, &bytes))
		npd_buf_printf(out, ",\"packets\":%llu,\"bytes\":%llu", (unsigned long long)packets,
			       (unsigned long long)bytes);
	else
		npd_buf_adds(out, ",\"packets\":null,\"bytes\":null");
}

/* One side; self is the pod whose policies apply there (NULL: not a pod). */
static void
side(struct npd_buf *out, const char *name, const struct npd_sim_side *sd, bool egress,
     const struct npd_pod *self, npd_explain_counter_fn fn, void *ctx)
{
	struct npd_explain_origin o;
	size_t i;

	key(out, name);
	npd_buf_printf(out, "{\"enforced\":%s,\"isolated\":%s,\"allowed\":%s,",
		       sd->enforced ? "true" : "false", sd->isolated ? "true" : "false",
		       sd->allowed ? "true" : "false");
	key(out, "isolated_by");
	npd_buf_addc(out, '[');
	for (i = 0; i < sd->n_isolating; i++) {
		if (i)
			npd_buf_addc(out, ',');
		qualified(out, sd->isolating[i]->ns, sd->isolating[i]->name);
	}
	npd_buf_adds(out, "],");
	key(out, "decided_by");
	memset(&o, 0, sizeof(o));
	o.egress = egress;
	if (sd->admitted_by) {
		o.ns = sd->admitted_by->ns;
		o.name = sd->admitted_by->name;
		o.rule = sd->rule_index;
		npd_buf_adds(out, "{\"kind\":\"rule\",");
		key(out, "namespace");
		npd_explain_json_string(out, o.ns);
		npd_buf_adds(out, ",\"policy\":");
		npd_explain_json_string(out, o.name);
		npd_buf_printf(out, ",\"direction\":\"%s\",\"rule\":%zu",
			       egress ? "egress" : "ingress", o.rule);
		counters(out, &o, fn, ctx);
		npd_buf_addc(out, '}');
	} else if (sd->isolated && !sd->allowed && self) {
		o.ns = self->ns;
		o.name = self->name;
		o.rule = NPD_EXPLAIN_DEFAULT_DENY;
		npd_buf_adds(out, "{\"kind\":\"default-deny\",");
		key(out, "namespace");
		npd_explain_json_string(out, o.ns);
		npd_buf_adds(out, ",\"pod\":");
		npd_explain_json_string(out, o.name);
		npd_buf_printf(out, ",\"direction\":\"%s\"", egress ? "egress" : "ingress");
		counters(out, &o, fn, ctx);
		npd_buf_addc(out, '}');
	} else {
		npd_buf_adds(out, "null");
	}
	npd_buf_addc(out, ',');
	key(out, "reason");
	npd_explain_json_string(out, sd->reason);
	npd_buf_addc(out, '}');
}

void
npd_explain_format(const struct npd_sim_result *r, const struct npd_sim_endpoint *from,
		   const struct npd_sim_endpoint *to, uint16_t port, enum npd_proto proto,
		   npd_explain_counter_fn fn, void *ctx, struct npd_buf *out)
{
	npd_buf_printf(out, "{\"verdict\":\"%s\",\"allowed\":%s,\"port\":%u,\"protocol\":\"%s\",",
		       r->allowed ? "allowed" : "denied", r->allowed ? "true" : "false", port,
		       npd_proto_name(proto));
	endpoint(out, "from", from, &r->src_addr);
	npd_buf_addc(out, ',');
	endpoint(out, "to", to, &r->dst_addr);
	npd_buf_addc(out, ',');
	side(out, "egress", &r->egress, true, from->pod, fn, ctx);
	npd_buf_addc(out, ',');
	side(out, "ingress", &r->ingress, false, to->pod, fn, ctx);
	npd_buf_addc(out, ',');
	key(out, "explanation");
	npd_explain_json_string(out, r->explanation);
	npd_buf_adds(out, "}\n");
}
