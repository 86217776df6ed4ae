/* explain.c: netpolctl explain asks a running agent (GET /debug/explain on its debug
 * address) whether A reaches B on a port. The agent runs the same simulator as `netpolctl
 * simulate`, on the store it enforces, so the text printed first is the one simulate prints
 * for the same objects; then the counters of the rules that decide. Exit 0 allowed, 1
 * denied, 2 usage error or no answer. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "npd/buf.h"
#include "npd/mem.h"

#define DEFAULT_AGENT "http://127.0.0.1:9466"

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: netpolctl explain [--agent URL] --from NS/POD|IP --to NS/POD|IP "
		"--port N[/PROTO]\n"
		"\n"
		"  --agent URL       the agent's debug address (default %s)\n"
		"  --from, --to      a pod as NS/NAME, or an IP (a pod's, or outside the cluster)\n"
		"  --port N[/PROTO]  PROTO is tcp, udp or sctp (default tcp)\n"
		"\n"
		"Prints the agent's verdict on its live objects, then the packet counters of\n"
		"the deciding rules.\n"
		"exit status: 0 allowed, 1 denied, 2 usage error or no answer\n",
		DEFAULT_AGENT);
}

/* One side's deciding rule, with its counters when the agent has them. */
static void
print_decider(yajl_val root, const char *side)
{
	const char *path[] = {side, "decided_by", NULL};
	yajl_val d = yajl_tree_get(root, path, yajl_t_object);
	const char *kind, *ns, *name, *dir;
	double rule = 0, packets, bytes;
	bool known;

	if (!d)
		return;
	kind = ctl_json_str(d, "kind");
	ns = ctl_json_str(d, "namespace");
	dir = ctl_json_str(d, "direction");
	known = ctl_json_num(d, "packets", &packets) && ctl_json_num(d, "bytes", &bytes);
	if (kind && !strcmp(kind, "rule")) {
		name = ctl_json_str(d, "policy");
		ctl_json_num(d, "rule", &rule);
		printf("  counters of %s rule %.0f of %s/%s: ", dir ? dir : "?", rule,
		       ns ? ns : "?", name ? name : "?");
	} else {
		name = ctl_json_str(d, "pod");
		printf("  counters of the %s default deny of %s/%s: ", dir ? dir : "?",
		       ns ? ns : "?", name ? name : "?");
	}
	if (known)
		printf("%.0f packets, %.0f bytes\n", packets, bytes);
	else
		printf("not known to the agent\n");
}

int
ctl_explain_main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"agent", required_argument, NULL, 'a'}, {"from", required_argument, NULL, 'F'},
	    {"to", required_argument, NULL, 'T'},    {"port", required_argument, NULL, 'p'},
	    {"help", no_argument, NULL, 'h'},	     {NULL, 0, NULL, 0},
	};
	const char *agent = DEFAULT_AGENT, *from = NULL, *to = NULL, *port = NULL, *text, *verdict;
	char *ef = NULL, *et = NULL, *ep = NULL, *q = NULL, *url = NULL;
	yajl_val root = NULL;
	int c, ret = 2;

	optind = 1;
	while ((c = ctl_next_opt(argc, argv, "h", longopts, usage, &ret)) >= 0) {
		switch (c) {
		case 'a':
			agent = optarg;
			break;
		case 'F':
			from = optarg;
			break;
		case 'T':
			to = optarg;
			break;
		case 'p':
			port = optarg;
			break;
		}
	}
	if (c == CTL_OPT_EXIT)
		return ret;
	if (!from || !to || !port) {
		usage(stderr);
		return 2;
	}
	ef = ctl_escape(from);
	et = ctl_escape(to);
	ep = ctl_escape(port);
	q = npd_xasprintf("debug/explain?from=%s&to=%s&port=%s", ef, et, ep);
	url = ctl_agent_url(agent, q);
	if (ctl_fetch_json("explain", url, &root))
		goto out;
	text = ctl_json_str(root, "explanation");
	verdict = ctl_json_str(root, "verdict");
	if (!text || !verdict) {
		fprintf(stderr, "netpolctl explain: the agent's answer has no verdict\n");
		goto out;
	}
	printf("%s\n", text);
	print_decider(root, "egress");
	print_decider(root, "ingress");
	ret = strcmp(verdict, "allowed") == 0 ? 0 : 1;
out:
	yajl_tree_free(root);
	free(url);
	free(q);
	free(ef);
	free(et);
	free(ep);
	return ret;
}
