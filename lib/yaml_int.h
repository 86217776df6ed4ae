/* yaml_int.h: one manifest document as it is built, shared by the two readers of
 * manifest files: libyaml's (yaml.c) and yajl's for files that are JSON (yaml_json.c).
 * Both drive the same builder with the same limits, so the same bytes give the same
 * objects and diagnostics. Private to lib/. */
#ifndef NPD_YAML_INT_H
#define NPD_YAML_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "decode_int.h"
#include "npd/json.h"

struct npd_ydoc {
	const char *file;
	npd_event_fn fn;
	void *ctx;
	struct npd_diags *d;
	struct npd_dec b;
	size_t skip;	/* depth inside a rejected construct */
	size_t depth;	/* containers open in the document */
	char *fail_msg; /* why this document is rejected, or NULL */
	enum npd_diag_kind fail_kind;
	int fail_line;
};

/* Readies y to build documents of filename (borrowed), delivered to fn, reported to d. */
void npd_ydoc_init(struct npd_ydoc *y, const char *filename, npd_event_fn fn, void *ctx,
		   struct npd_diags *d);
void npd_ydoc_fini(struct npd_ydoc *y);
/* A container starts at line: built, or skipped as a whole (inside a rejected construct,
 * or nested deeper than NPD_LIMIT_DEPTH, which rejects the document). */
void npd_ydoc_open(struct npd_ydoc *y, bool map, int line);
/* The container opened last ends. */
void npd_ydoc_close(struct npd_ydoc *y, bool map);
/* The document is rejected for msg (copied) at line; the first reason is kept. */
void npd_ydoc_reject(struct npd_ydoc *y, int line, enum npd_diag_kind kind, const char *msg);
/* The document ended: its objects are delivered, or its rejection reported; y is ready
 * for the next document. */
void npd_ydoc_end(struct npd_ydoc *y);

/* Reads the regular file open at fd (path names it in reports) as one JSON document from
 * its start, with the size bound of manifest files. 0: it was JSON and its objects were
 * delivered; -ENOTSUP: it does not start with '{' or '[', or yajl rejected it, and
 * nothing was delivered or reported (it is for libyaml to read); -EFBIG or -errno on a
 * read error. */
int npd_yaml_json_decode_fd(int fd, const char *path, npd_event_fn fn, void *ctx,
			    struct npd_diags *d);

#endif
