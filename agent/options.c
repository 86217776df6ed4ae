/* options.c: netpold's command line: --help, the options and their checks, and the node
 * name's fallbacks ($NODE_NAME, then the host name). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent.h"
#include "http.h"
#include "npd/backend.h"
#include "npd/compile.h"
#include "npd/limits.h"
#include "npd/par.h"
#include "options.h"

/* The fake backend is for tests: only a build with NPD_TEST_HOOKS offers it. */
#ifdef NPD_TEST_HOOKS
#define BACKEND_NAMES "auto|legacy|nft|fake"
#else
#define BACKEND_NAMES "auto|legacy|nft"
#endif

static void
usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: netpold --manifests PATH --node-name NAME [options]\n"
	    "       netpold --kubeconfig FILE [--context NAME] --node-name NAME [options]\n"
	    "       netpold --cleanup [--backend NAME]\n"
	    "\n"
	    "Enforces Kubernetes NetworkPolicy on this node with iptables and ipset.\n"
	    "\n"
	    "  --manifests PATH       YAML file or directory of .yaml/.yml/.json files, reloaded on\n"
	    "                         change\n"
	    "  --kubeconfig FILE      API server access (default $KUBECONFIG, then in-cluster;\n"
	    "                         only when --manifests is not given)\n"
	    "  --context NAME         kubeconfig context (default: current-context)\n"
	    "  --node-name NAME       this node (default $NODE_NAME, then the host name)\n"
	    "  --metrics-addr H:P     serve /healthz /readyz /metrics (e.g. 127.0.0.1:9100)\n"
	    "  --debug-addr H:P|off   serve /debug/explain /debug/drops, which show pod names and\n"
	    "                         traffic: keep it on loopback (default 127.0.0.1:9466)\n"
	    "  --drop-log on|off      log each denied flow (NFLOG group) once per second, naming\n"
	    "                         pods and isolating policies (default on)\n"
	    "  --backend NAME         " BACKEND_NAMES " (default auto)\n"
	    "  --mark HEX             mark bit meaning \"allowed\" (default 0x10000)\n"
	    "  --nflog-group N        NFLOG group of dropped packets (default 100)\n"
	    "  --resync-period DUR    drift check and repair period (default 30s, 0 disables)\n"
	    "  --debounce DUR         in a burst, wait this long after the last change (default 50ms)\n"
	    "  --debounce-max DUR     longest wait after the first change (default 500ms)\n"
	    "  --counters-interval DUR\n"
	    "                         read the rule and pod deny counters this often (default\n"
	    "                         5s; 0: only before a sync restarts them); a scrape serves\n"
	    "                         the last reading\n"
	    "  --state-file PATH      keep rule counter totals here across restarts (e.g.\n"
	    "                         /run/netpold/counters; default: none)\n"
	    "  --max-set-members N    a policy whose peers need a set of more members isolates\n"
	    "                         the pods it selects and admits nothing (default 1048576)\n"
	    "  --decode-threads N     threads decoding the manifests at start (default 0: one\n"
	    "                         per CPU the process may use, quota included, at most 8;\n"
	    "                         1: none beside the loop)\n"
	    "  --cleanup              remove every chain, jump rule and set netpold owns, exit\n"
	    "  --log-level LEVEL      info|debug (default info)\n"
	    "  --version              print the version and exit\n"
	    "  --help                 this text\n"
	    "\n"
	    "Durations: a number with ms, s, m or h (a bare number is seconds).\n"
	    "Under systemd (Type=notify) it sends READY=1 once /readyz would answer 200.\n");
}

static int
bad_option(const char *opt, const char *value, const char *why)
{
	fprintf(stderr, "netpold: invalid %s '%s': %s\n", opt, value, why);
	return -EINVAL;
}

/* Parses "50ms", "30s", "1m", "1h" or seconds into seconds. */
static int
parse_duration(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno || v < 0)
		return -EINVAL;
	if (*end == '\0' || strcmp(end, "s") == 0)
		;
	else if (strcmp(end, "ms") == 0)
		v /= 1000;
	else if (strcmp(end, "m") == 0)
		v *= 60;
	else if (strcmp(end, "h") == 0)
		v *= 3600;
	else
		return -EINVAL;
	if (v > 86400)
		return -EINVAL;
	*out = v;
	return 0;
}

static int
parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (end == s || *end || errno || v > max || s[0] == '-')
		return -EINVAL;
	*out = v;
	return 0;
}

/* The long options, past any character getopt could return. */
enum {
	O_MANIFESTS = 256,
	O_KUBECONFIG,
	O_CONTEXT,
	O_NODE,
	O_METRICS,
	O_DEBUG,
	O_DROPLOG,
	O_BACKEND,
	O_MARK,
	O_NFLOG,
	O_RESYNC,
	O_DEBOUNCE,
	O_DEBOUNCE_MAX,
	O_COUNTERS_INTERVAL,
	O_STATE_FILE,
	O_MAX_SET_MEMBERS,
	O_DECODE_THREADS,
	O_CLEANUP,
	O_LOGLEVEL,
	O_HELP,
	O_VERSION,
};

/* Where the value of a duration option goes. */
static double *
duration_of(struct options *o, int opt)
{
	switch (opt) {
	case O_RESYNC:
		return &o->resync;
	case O_DEBOUNCE:
		return &o->debounce;
	case O_DEBOUNCE_MAX:
		return &o->debounce_max;
	default:
		return &o->counters_interval;
	}
}

int
parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
	    {"manifests", required_argument, NULL, O_MANIFESTS},
	    {"kubeconfig", required_argument, NULL, O_KUBECONFIG},
	    {"context", required_argument, NULL, O_CONTEXT},
	    {"node-name", required_argument, NULL, O_NODE},
	    {"metrics-addr", required_argument, NULL, O_METRICS},
	    {"debug-addr", required_argument, NULL, O_DEBUG},
	    {"drop-log", required_argument, NULL, O_DROPLOG},
	    {"backend", required_argument, NULL, O_BACKEND},
	    {"mark", required_argument, NULL, O_MARK},
	    {"nflog-group", required_argument, NULL, O_NFLOG},
	    {"resync-period", required_argument, NULL, O_RESYNC},
	    {"debounce", required_argument, NULL, O_DEBOUNCE},
	    {"debounce-max", required_argument, NULL, O_DEBOUNCE_MAX},
	    {"counters-interval", required_argument, NULL, O_COUNTERS_INTERVAL},
	    {"state-file", required_argument, NULL, O_STATE_FILE},
	    {"max-set-members", required_argument, NULL, O_MAX_SET_MEMBERS},
	    {"decode-threads", required_argument, NULL, O_DECODE_THREADS},
	    {"cleanup", no_argument, NULL, O_CLEANUP},
	    {"log-level", required_argument, NULL, O_LOGLEVEL},
	    {"help", no_argument, NULL, O_HELP},
	    {"version", no_argument, NULL, O_VERSION},
	    {NULL, 0, NULL, 0},
	};
	char opt_name[32];
	unsigned long v;
	const char *env;
	int c, li = 0;

	o->backend = "auto";
	o->debug_addr = "127.0.0.1:9466";
	o->drop_log = true;
	o->mark = 0x10000;
	o->nflog_group = 100;
	o->resync = 30;
	o->debounce = 0.05;
	o->debounce_max = 0.5;
	o->counters_interval = 5;
	o->max_set_members = NPD_LIMIT_SET_MEMBERS;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, &li)) != -1) {
		if (c >= O_MANIFESTS)
			snprintf(opt_name, sizeof(opt_name), "--%s", longopts[li].name);
		switch (c) {
		case O_MANIFESTS:
			o->manifests = optarg;
			break;
		case O_KUBECONFIG:
			o->kubeconfig = optarg;
			break;
		case O_CONTEXT:
			o->context = optarg;
			break;
		case O_NODE:
			if (!optarg[0])
				return bad_option("--node-name", optarg, "empty");
			o->node_name = optarg;
			break;
		case O_METRICS: {
			struct sockaddr_storage ss;

			if (http_parse_addr(optarg, &ss) < 0)
				return bad_option("--metrics-addr", optarg,
						  "want HOST:PORT, [V6ADDR]:PORT or :PORT");
			o->metrics_addr = optarg;
			break;
		}
		case O_DEBUG: {
			struct sockaddr_storage ss;

			if (strcmp(optarg, "off") == 0) {
				o->debug_addr = NULL;
				break;
			}
			if (http_parse_addr(optarg, &ss) < 0)
				return bad_option("--debug-addr", optarg,
						  "want HOST:PORT, [V6ADDR]:PORT or off");
			o->debug_addr = optarg;
			break;
		}
		case O_DROPLOG:
			if (strcmp(optarg, "on") && strcmp(optarg, "off"))
				return bad_option("--drop-log", optarg, "want on or off");
			o->drop_log = strcmp(optarg, "on") == 0;
			break;
		case O_BACKEND:
			if (strcmp(optarg, "auto") != 0 && !npd_backend_find(optarg))
				return bad_option("--backend", optarg,
						  "want one of " BACKEND_NAMES);
			o->backend = optarg;
			break;
		case O_MARK:
			if (parse_uint(optarg, UINT32_MAX, &v) < 0 || v == 0 || (v & (v - 1)))
				return bad_option("--mark", optarg,
						  "want a single bit, e.g. 0x10000");
			o->mark = (uint32_t)v;
			break;
		case O_NFLOG:
			if (parse_uint(optarg, 65535, &v) < 0)
				return bad_option("--nflog-group", optarg, "want 0..65535");
			o->nflog_group = (uint16_t)v;
			break;
		case O_RESYNC:
		case O_DEBOUNCE:
		case O_DEBOUNCE_MAX:
		case O_COUNTERS_INTERVAL:
			if (parse_duration(optarg, duration_of(o, c)) < 0)
				return bad_option(opt_name, optarg, "want a duration");
			break;
		case O_STATE_FILE:
			if (!optarg[0])
				return bad_option("--state-file", optarg, "empty");
			o->state_file = optarg;
			break;
		case O_MAX_SET_MEMBERS:
			if (parse_uint(optarg, NPD_LIMIT_SET_MEMBERS, &v) < 0 || v == 0)
				return bad_option(opt_name, optarg, "want 1..1048576");
			o->max_set_members = (uint32_t)v;
			break;
		case O_DECODE_THREADS:
			if (parse_uint(optarg, NPD_PAR_MAX_THREADS, &v) < 0)
				return bad_option(opt_name, optarg, "want 0..8");
			o->decode_threads = (unsigned)v;
			break;
		case O_CLEANUP:
			o->cleanup = true;
			break;
		case O_LOGLEVEL:
			if (agent_set_log_level(optarg) < 0)
				return bad_option("--log-level", optarg, "want info or debug");
			break;
		case O_HELP:
			usage(stdout);
			exit(0);
		case O_VERSION:
			printf("netpold %s\n", NPD_VERSION);
			exit(0);
		default:
			if (optopt && optopt >= O_MANIFESTS)
				fprintf(stderr, "netpold: option %s needs a value\n",
					argv[optind - 1]);
			else
				fprintf(stderr, "netpold: unknown option %s\n", argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "netpold: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (o->cleanup)
		return 0;
	if (o->manifests && o->kubeconfig) {
		fprintf(stderr, "netpold: --manifests and --kubeconfig exclude each other\n");
		return -EINVAL;
	}
	if (!o->manifests && !o->kubeconfig) {
		env = getenv("KUBECONFIG");
		if (env && env[0])
			o->kubeconfig = env;
		else if (getenv("KUBERNETES_SERVICE_HOST"))
			o->in_cluster = true;
		else {
			fprintf(stderr, "netpold: no source: give --manifests PATH or --kubeconfig "
					"FILE (or set $KUBECONFIG, or run in a cluster)\n");
			return -EINVAL;
		}
	}
	if (o->context && !o->kubeconfig) {
		fprintf(stderr, "netpold: --context needs a kubeconfig\n");
		return -EINVAL;
	}
	if (o->debounce_max < o->debounce) {
		fprintf(stderr, "netpold: --debounce-max must not be shorter than --debounce\n");
		return -EINVAL;
	}
	if (!o->node_name) {
		env = getenv("NODE_NAME");
		if (env && env[0]) {
			o->node_name = env;
		} else if (gethostname(o->hostname, sizeof(o->hostname) - 1) == 0 &&
			   o->hostname[0]) {
			o->node_name = o->hostname;
		} else {
			fprintf(stderr,
				"netpold: no node name: give --node-name or set $NODE_NAME\n");
			return -EINVAL;
		}
	}
	return 0;
}
