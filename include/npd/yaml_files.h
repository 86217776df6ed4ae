/* yaml_files.h: a batch of manifest files decoded in parallel. Each file is decoded on its
 * own into a self-contained result (its events and diagnostics; nothing shared, nothing
 * interned), and the results are handed back on the caller's thread in the order of the
 * names, a few files behind the decoding at most, so that loading them into a store gives
 * what decoding them one after the other gives. */
#ifndef NPD_YAML_FILES_H
#define NPD_YAML_FILES_H

#include <stddef.h>

#include "npd/diag.h"
#include "npd/model.h"

/* One decoded file, as npd_yaml_decode_file delivered and reported it. */
struct npd_yaml_file {
	const char *name;     /* as given; borrowed */
	const char *path;     /* dir/name; borrowed */
	int rc;		      /* npd_yaml_decode_file's result */
	struct npd_event *ev; /* the events delivered, in order */
	size_t n;
	struct npd_diags diags; /* its diagnostics, in order */
};
/* Gets one file's result. It may take events (zeroing them) and move diagnostics; what it
 * leaves is freed after it returns. */
typedef void (*npd_yaml_file_fn)(struct npd_yaml_file *f, void *ctx);

/* Files decoded ahead of the one being handed to fn, per thread: it bounds the memory the
 * batch holds beyond what fn keeps. */
#define NPD_YAML_FILES_AHEAD 4

/* Decodes dir/names[i] for every i < n on up to threads threads (0: one per CPU, see
 * npd_par_threads; 1: all on the caller's thread) and calls fn(file i) on the caller's
 * thread for i = 0, 1, ... in order. */
void npd_yaml_files_decode(const char *dir, const char *const *names, size_t n, unsigned threads,
			   npd_yaml_file_fn fn, void *ctx);

#endif
