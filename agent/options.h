/* options.h: netpold's command line (options.c). */
#ifndef NPD_AGENT_OPTIONS_H
#define NPD_AGENT_OPTIONS_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#define EXIT_USAGE 2

struct options {
	const char *manifests;
	const char *kubeconfig;
	const char *context;
	const char *node_name;
	const char *metrics_addr;
	const char *debug_addr; /* NULL: off */
	bool drop_log;
	const char *backend;
	uint32_t mark;
	uint16_t nflog_group;
	double resync, debounce, debounce_max;
	double counters_interval;
	const char *state_file;
	uint32_t max_set_members;
	unsigned decode_threads; /* 0: one per CPU */
	bool cleanup;
	bool in_cluster;
	char hostname[HOST_NAME_MAX + 1];
};

/* Fills o from argv (o zeroed by the caller; strings borrowed from argv or the
 * environment); --help and --version print and exit 0. Returns 0, or -EINVAL after a
 * message on stderr. */
int parse_options(int argc, char **argv, struct options *o);

#endif
