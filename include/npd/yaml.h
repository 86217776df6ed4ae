/* yaml.h: decoder of Kubernetes manifests in YAML (libyaml): multi-document files, `kind:
 * List`, and directories of .yaml/.yml/.json files (a file that is one JSON value is read
 * by yajl instead, with the same result). Namespace, Pod and NetworkPolicy are kept;
 * other kinds are skipped silently. Diagnostics carry file:line. */
#ifndef NPD_YAML_H
#define NPD_YAML_H

#include <stdbool.h>
#include <stddef.h>

#include "npd/diag.h"
#include "npd/json.h"
#include "npd/store.h"

/* Decodes every document of buf, delivering one ADDED event per object to fn (which owns
 * it). A document with a bad object is reported and skipped. Returns 0, or -EINVAL when
 * the YAML itself is malformed (events before the error were delivered). */
int npd_yaml_decode_buf(const char *buf, size_t len, const char *filename, npd_event_fn fn,
			void *ctx, struct npd_diags *d);
/* The same for a file; -errno when it cannot be read. */
int npd_yaml_decode_file(const char *path, npd_event_fn fn, void *ctx, struct npd_diags *d);
/* A file, or every .yaml/.yml/.json file of a directory (not recursive) in name order. Returns
 * the first error but goes on with the other files. */
int npd_yaml_decode_path(const char *path, npd_event_fn fn, void *ctx, struct npd_diags *d);
/* Convenience for netpolctl and tests: decodes path into store s. */
int npd_yaml_load(const char *path, struct npd_store *s, struct npd_diags *d);
/* Maximum size of one manifest file; a larger one is reported and not read. */
#define NPD_YAML_MAX_FILE (64u << 20)

/* A YAML 1.1 boolean scalar (true/yes/on/y and false/no/off/n, in lower, capitalised and
 * upper case), as Kubernetes' YAML reader takes it. 0 with *out set, or -EINVAL. */
int npd_yaml_bool_parse(const char *s, bool *out);

#endif
