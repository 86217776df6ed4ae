/* drops.c: netpolctl drops prints the recent denied flows of a running agent (GET
 * /debug/drops on its debug address) as a table, newest first: when, direction, both ends
 * as the agent resolved them, protocol, port, packets and the isolating policies. Exit 0,
 * or 2 for a usage error or no answer. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "npd/buf.h"
#include "npd/mem.h"

#define DEFAULT_AGENT "http://127.0.0.1:9466"

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: netpolctl drops [--agent URL]\n"
		"\n"
		"  --agent URL   the agent's debug address (default %s)\n"
		"\n"
		"Prints the agent's recent denied flows, newest first. A flow's first packet\n"
		"is one row; its repeats within a second are summed in a later row.\n"
		"exit status: 0, or 2 for a usage error or no answer\n",
		DEFAULT_AGENT);
}

static void
print_row(yajl_val d)
{
	const char *path[] = {"isolated_by", NULL};
	yajl_val iso = yajl_tree_get(d, path, yajl_t_array);
	const char *dir = ctl_json_str(d, "direction"), *src = ctl_json_str(d, "src");
	const char *dst = ctl_json_str(d, "dst"), *proto = ctl_json_str(d, "proto");
	double last = 0, dport = 0, count = 0;
	char when[16] = "?";
	struct tm tm;
	time_t t;
	size_t i;

	ctl_json_num(d, "last", &last);
	ctl_json_num(d, "dport", &dport);
	ctl_json_num(d, "count", &count);
	t = (time_t)last;
	if (gmtime_r(&t, &tm))
		strftime(when, sizeof(when), "%H:%M:%S", &tm);
	printf("%-8s  %-7s  %-40s  %-40s  %-6s  %5.0f  %6.0f  ", when, dir ? dir : "?",
	       src ? src : "?", dst ? dst : "?", proto ? proto : "?", dport, count);
	for (i = 0; iso && i < YAJL_GET_ARRAY(iso)->len; i++) {
		yajl_val p = YAJL_GET_ARRAY(iso)->values[i];

		printf("%s%s", i ? "," : "", YAJL_IS_STRING(p) ? YAJL_GET_STRING(p) : "?");
	}
	printf("%s\n", iso && YAJL_GET_ARRAY(iso)->len ? "" : "none");
}

int
ctl_drops_main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"agent", required_argument, NULL, 'a'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *agent = DEFAULT_AGENT, *path[] = {"drops", NULL};
	yajl_val root = NULL, list;
	char *url;
	size_t i;
	int c, ret;

	optind = 1;
	while ((c = ctl_next_opt(argc, argv, "h", longopts, usage, &ret)) == 'a')
		agent = optarg;
	if (c == CTL_OPT_EXIT)
		return ret;
	url = ctl_agent_url(agent, "debug/drops");
	ret = ctl_fetch_json("drops", url, &root);
	free(url);
	if (ret)
		return ret;
	list = yajl_tree_get(root, path, yajl_t_array);
	if (!list) {
		fprintf(stderr, "netpolctl drops: the agent's answer has no drops list\n");
		yajl_tree_free(root);
		return 2;
	}
	printf("%-8s  %-7s  %-40s  %-40s  %-6s  %5s  %6s  %s\n", "UTC", "DIR", "SOURCE",
	       "DESTINATION", "PROTO", "PORT", "COUNT", "ISOLATED_BY");
	for (i = 0; i < YAJL_GET_ARRAY(list)->len; i++)
		print_row(YAJL_GET_ARRAY(list)->values[i]);
	yajl_tree_free(root);
	return 0;
}
