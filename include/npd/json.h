/* json.h: streaming decoder of Kubernetes API JSON (yajl's callback parser). Input may
 * arrive in chunks split anywhere; memory stays proportional to the fields kept for one
 * object, never to the whole response. Bad objects are reported and skipped. */
#ifndef NPD_JSON_H
#define NPD_JSON_H

#include <stddef.h>

#include "npd/diag.h"
#include "npd/model.h"

/* Receives one decoded event; the callee owns ev's contents afterwards (it must consume
 * them, e.g. with npd_store_apply, or call npd_event_fini). */
typedef void (*npd_event_fn)(struct npd_event *ev, void *ctx);

enum npd_json_mode {
	NPD_JSON_OBJECT, /* one object: an ADDED event */
	NPD_JSON_LIST,	 /* a *List: one ADDED event per item; list metadata kept */
	NPD_JSON_WATCH,	 /* newline-delimited watch events; a bad line is skipped */
};

struct npd_json_decoder;

/* kind is the kind expected (list items carry no kind of their own). diags may be NULL. */
struct npd_json_decoder *npd_json_decoder_new(enum npd_json_mode mode, enum npd_kind kind,
					      npd_event_fn fn, void *ctx, struct npd_diags *diags);
void npd_json_decoder_free(struct npd_json_decoder *d);
/* Bounds one object (a watch line, a list item, the document) to max bytes instead of
 * NPD_LIMIT_OBJECT_BYTES (at least NPD_LIMIT_OBJECT_BYTES_MIN); call before feeding. */
void npd_json_decoder_set_max_bytes(struct npd_json_decoder *d, size_t max);
/* Feeds a chunk. Returns 0, or -EINVAL after a syntax error in OBJECT/LIST mode (further
 * input is ignored). In WATCH mode a malformed line is reported and skipped: returns 0.
 * A watch line or list item over the size or depth bound (include/npd/limits.h) is
 * reported as a limit diagnostic, named when its name came first, and skipped without
 * being buffered; in OBJECT mode, or outside a list's items, it fails the document. */
int npd_json_decoder_feed(struct npd_json_decoder *d, const void *buf, size_t n);
/* Ends the input. Returns -EINVAL when the document (or the last watch line) is
 * truncated, else 0. */
int npd_json_decoder_finish(struct npd_json_decoder *d);
/* LIST mode, after the fields arrived: metadata.resourceVersion and metadata.continue of
 * the list (borrowed, NULL when absent). */
const char *npd_json_decoder_list_rv(const struct npd_json_decoder *d);
const char *npd_json_decoder_list_continue(const struct npd_json_decoder *d);
/* When the body was a meta/v1 Status instead of the expected object or list (an error
 * response), its code (e.g. 410), else 0; and its reason ("Expired"), or NULL. */
int npd_json_decoder_status_code(const struct npd_json_decoder *d);
const char *npd_json_decoder_status_reason(const struct npd_json_decoder *d);
/* Counts of events delivered and objects skipped as undecodable so far. */
size_t npd_json_decoder_n_events(const struct npd_json_decoder *d);
size_t npd_json_decoder_n_bad(const struct npd_json_decoder *d);

#endif
