/* fuzz_pipeline.c: libFuzzer target for the whole offline path netpolctl takes: YAML
 * manifests -> store -> compile (for the first pods' nodes) -> render the ruleset ->
 * simulate every pair of the first pods and an outside address. One oracle is cheap and
 * independent of both: with no policy in the store every connection is allowed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "npd/compile.h"
#include "npd/sim.h"
#include "npd/store.h"
#include "npd/yaml.h"

#define MAX_PODS 6

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
compile_for(const struct npd_store *s, const char *node)
{
	struct npd_compile_opts o;
	struct npd_ruleset *rs = NULL;
	struct npd_diags diags;
	struct npd_buf out;

	npd_compile_opts_init(&o);
	o.node_name = node;
	npd_diags_init(&diags);
	npd_buf_init(&out);
	if (npd_compile(s, &o, &diags, &rs) == 0) {
		npd_ruleset_format_sets(rs, 0, &out);
		npd_ruleset_format_table(&rs->v4, &out);
		npd_ruleset_format_table(&rs->v6, &out);
		npd_ruleset_free(rs);
	}
	npd_buf_fini(&out);
	npd_diags_fini(&diags);
}

static void
simulate(const struct npd_store *s, const struct npd_sim_endpoint *from,
	 const struct npd_sim_endpoint *to, bool no_policies)
{
	static const struct {
		uint16_t port;
		enum npd_proto proto;
	} ports[] = {{80, NPD_PROTO_TCP}, {53, NPD_PROTO_UDP}, {8080, NPD_PROTO_SCTP}};
	struct npd_sim_result r;
	size_t i;

	for (i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		if (npd_sim_run(s, from, to, ports[i].port, ports[i].proto, &r) != 0)
			continue;
		if (no_policies && !r.allowed)
			abort();
		npd_sim_result_fini(&r);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct npd_sim_endpoint ep[MAX_PODS + 1];
	struct npd_store *s = npd_store_new();
	struct npd_diags diags;
	const char *const *names;
	size_t nn, n = 0, i, j;
	bool no_policies;

	npd_diags_init(&diags);
	npd_yaml_decode_buf((const char *)data, size, "fuzz.yaml", npd_store_apply_event, s,
			    &diags);
	npd_diags_fini(&diags);
	no_policies = npd_store_count(s, NPD_KIND_POLICY) == 0;

	names = npd_store_ns_names(s, &nn);
	for (i = 0; i < nn && n < MAX_PODS; i++) {
		size_t np;
		const struct npd_pod *const *pods = npd_store_pods_in(s, names[i], &np);

		for (j = 0; j < np && n < MAX_PODS; j++) {
			memset(&ep[n], 0, sizeof(ep[n]));
			ep[n++].pod = pods[j];
		}
	}
	compile_for(s, "node1");
	for (i = 0; i < n && i < 2; i++)
		if (ep[i].pod->node)
			compile_for(s, ep[i].pod->node);
	memset(&ep[n], 0, sizeof(ep[n]));
	if (npd_sim_endpoint_parse(s, "203.0.113.9", &ep[n]) == 0)
		n++;
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++)
			if (i != j)
				simulate(s, &ep[i], &ep[j], no_policies);
	npd_store_free(s);
	return 0;
}
