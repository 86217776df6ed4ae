/* testutil.h: small fixture builders shared by the check suites. */
#ifndef NPD_TESTUTIL_H
#define NPD_TESTUTIL_H

#include <stddef.h>

#include "npd/model.h"

/* "app=web,tier=db" -> labels (caller finalizes). */
void tu_labels(struct npd_labels *l, const char *spec);
/* A pod with labels spec, one or more IPs separated by commas, on node (may be NULL). */
struct npd_pod *tu_pod(const char *ns, const char *name, const char *labels, const char *ips,
		       const char *node);
struct npd_namespace *tu_ns(const char *name, const char *labels);
/* Reads a file under $NPD_SRC_DIR (or the source dir baked in) into a new string. */
char *tu_read_file(const char *relpath, size_t *len);
/* Absolute path of a file under the source tree (static buffer). */
const char *tu_src_path(const char *relpath);

#endif
