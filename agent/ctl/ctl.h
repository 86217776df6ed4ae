/* ctl.h: netpolctl subcommands, one file each (agent/ctl/<name>.c). Each returns the process
 * exit status: 0 success (or "allowed"), 1 a negative answer ("denied", warnings found),
 * 2 a usage or input error. */
#ifndef NPD_CTL_H
#define NPD_CTL_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include <yajl/yajl_tree.h>

#include "npd/diag.h"
#include "npd/store.h"

int ctl_simulate_main(int argc, char **argv);
int ctl_lint_main(int argc, char **argv);
int ctl_render_main(int argc, char **argv);
int ctl_explain_main(int argc, char **argv);
int ctl_drops_main(int argc, char **argv);

/* ctl_next_opt's answer when the command must exit with *status. */
#define CTL_OPT_EXIT (-2)

/* The next option of argv, like getopt_long (set optind = 1 before the first call).
 * Returns the option; -1 when every option is read and no operand is left; CTL_OPT_EXIT
 * after --help or -h (usage on stdout, *status 0) or after an unknown option, a missing
 * value or an operand (usage on stderr, *status 2). */
int ctl_next_opt(int argc, char **argv, const char *shortopts, const struct option *longopts,
		 void (*usage)(FILE *), int *status);

/* Loads the manifests at path (a file or a directory) into s and prints every decode
 * diagnostic as a warning on stderr. Returns 0, or 2 (the exit status) when path cannot be
 * read; the error is printed then too. */
int ctl_load(const char *path, struct npd_store *s);

/* Prints each diagnostic in d as one "netpolctl: warning: ..." line on stderr. */
void ctl_print_diags(const struct npd_diags *d);

/* GETs url from a live agent and parses its JSON object into *out (owned, yajl_tree_free).
 * Returns 0, or 2 (the exit status) after printing why on stderr, prefixed by cmd. */
int ctl_fetch_json(const char *cmd, const char *url, yajl_val *out);
/* The URL of path (no leading slash) on the agent at base URL agent (owned). */
char *ctl_agent_url(const char *agent, const char *path);
/* s percent-encoded for a URL query (owned). */
char *ctl_escape(const char *s);
/* v's member key as a string (borrowed) or NULL; as a number into *out, or false. */
const char *ctl_json_str(yajl_val v, const char *key);
bool ctl_json_num(yajl_val v, const char *key, double *out);

#endif
