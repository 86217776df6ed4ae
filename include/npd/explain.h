/* explain.h: the simulator's answer (lib/sim.c) as the JSON document the agent serves on
 * /debug/explain, plus the packet counters of the rules that decide it, read through a
 * callback so that this module stays pure. netpolctl explain reads the same document. */
#ifndef NPD_EXPLAIN_H
#define NPD_EXPLAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "npd/buf.h"
#include "npd/sim.h"

/* What decides a side: an admitting rule (policy ns/name, direction, index in its list) or,
 * when rule is NPD_EXPLAIN_DEFAULT_DENY, the default deny of pod ns/name. */
#define NPD_EXPLAIN_DEFAULT_DENY ((size_t)-1)
struct npd_explain_origin {
	const char *ns;
	const char *name; /* the policy, or the pod for the default deny */
	bool egress;
	size_t rule;
};

/* Fills the packet and byte counters of o and returns true, or false when unknown. */
typedef bool (*npd_explain_counter_fn)(void *ctx, const struct npd_explain_origin *o,
				       uint64_t *packets, uint64_t *bytes);

/* Appends r (the simulation of from -> to on port/proto) as one JSON object to out: the
 * verdict, both ends, both sides (isolating policies, the admitting rule, the reason), the
 * deciding rules with their counters when fn (may be NULL) knows them, and the explanation
 * text exactly as `netpolctl simulate` prints it. */
void npd_explain_format(const struct npd_sim_result *r, const struct npd_sim_endpoint *from,
			const struct npd_sim_endpoint *to, uint16_t port, enum npd_proto proto,
			npd_explain_counter_fn fn, void *ctx, struct npd_buf *out);
/* Appends s as a JSON string (quoted, escaped); NULL as null. */
void npd_explain_json_string(struct npd_buf *out, const char *s);

#endif
