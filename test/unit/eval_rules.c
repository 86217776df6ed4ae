/* eval_rules.c: verdicts of the compiled rules, without a kernel. Decodes a manifest file,
 * compiles the rulesets of node1 and node2 and answers each probe line of stdin
 * ("SRC_IP DST_IP tcp|udp|sctp PORT [anything]") by walking them as the lab's packets would
 * (tu_eval_nodes), printing the line back with "ok" or "fail" after the port. For checks
 * the lab's kernel cannot make with packets (SCTP without SCTP sockets). Not a check suite;
 * exits 1 on a bad manifest or line, 2 on usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npd/buf.h"
#include "npd/compile.h"
#include "npd/store.h"
#include "npd/yaml.h"
#include "tu_eval.h"

static int
proto_parse(const char *s, uint8_t *out)
{
	static const struct {
		const char *name;
		uint8_t num;
	} protos[] = {{"tcp", 6}, {"udp", 17}, {"sctp", 132}};
	size_t i;

	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (!strcmp(s, protos[i].name)) {
			*out = protos[i].num;
			return 0;
		}
	return -1;
}

/* One probe line; 0, or -1 when it cannot be read or the rules are malformed. */
static int
answer(const struct npd_store *s, const struct npd_ruleset *const rs[2], char *line)
{
	char src[64], dst[64], proto[8], rest[256] = "";
	struct tu_packet p = {0};
	unsigned port;
	enum tu_verdict v;

	if (sscanf(line, "%63s %63s %7s %u %255[^\n]", src, dst, proto, &port, rest) < 4 ||
	    npd_addr_parse(src, &p.src) || npd_addr_parse(dst, &p.dst) ||
	    proto_parse(proto, &p.proto) || port < 1 || port > 65535)
		return -1;
	p.dport = (uint16_t)port;
	v = tu_eval_nodes(s, rs, &p, NULL);
	if (v == TU_ERROR)
		return -1;
	printf("%s %s %s %u %s%s%s\n", src, dst, proto, port, v == TU_PASS ? "ok" : "fail",
	       *rest ? " " : "", rest);
	return 0;
}

int
main(int argc, char **argv)
{
	static const char *const nodes[2] = {"node1", "node2"};
	struct npd_ruleset *rs[2] = {NULL, NULL};
	struct npd_compile_opts o;
	struct npd_store *s;
	struct npd_diags d;
	char line[512];
	int i, rc = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: eval_rules MANIFEST < probes\n");
		return 2;
	}
	s = npd_store_new();
	npd_diags_init(&d);
	if (npd_yaml_decode_file(argv[1], npd_store_apply_event, s, &d) || d.n) {
		fprintf(stderr, "eval_rules: %s does not decode: %s\n", argv[1],
			d.n ? d.v[0].msg : "bad YAML");
		goto out;
	}
	for (i = 0; i < 2; i++) {
		npd_compile_opts_init(&o);
		o.node_name = nodes[i];
		if (npd_compile(s, &o, NULL, &rs[i])) {
			fprintf(stderr, "eval_rules: cannot compile for %s\n", nodes[i]);
			goto out;
		}
	}
	while (fgets(line, sizeof(line), stdin)) {
		if (*line == '#' || *line == '\n')
			continue;
		if (answer(s, (const struct npd_ruleset *const *)rs, line)) {
			fprintf(stderr, "eval_rules: cannot answer: %s", line);
			goto out;
		}
	}
	rc = ferror(stdout) ? 1 : 0;
out:
	npd_ruleset_free(rs[1]);
	npd_ruleset_free(rs[0]);
	npd_diags_fini(&d);
	npd_store_free(s);
	return rc;
}
