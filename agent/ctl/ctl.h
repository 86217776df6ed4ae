/* ctl.h: netpolctl subcommands, one file each (agent/ctl/<name>.c). Each returns the process
 * exit status: 0 success (or "allowed"), 1 a negative answer ("denied", warnings found),
 * 2 a usage or input error. */
#ifndef NPD_CTL_H
#define NPD_CTL_H

#include "npd/diag.h"
#include "npd/store.h"

int ctl_simulate_main(int argc, char **argv);
int ctl_lint_main(int argc, char **argv);
int ctl_render_main(int argc, char **argv);

/* Loads the manifests at path (a file or a directory) into s and prints every decode
 * diagnostic as a warning on stderr. Returns 0, or 2 (the exit status) when path cannot be
 * read; the error is printed then too. */
int ctl_load(const char *path, struct npd_store *s);

/* Prints each diagnostic in d as one "netpolctl: warning: ..." line on stderr. */
void ctl_print_diags(const struct npd_diags *d);

#endif
