/* metrics.h: a small registry of counters, gauges and histograms and their Prometheus text
 * exposition (format 0.0.4). Pure: no clock, no I/O, no locking; the agent owns one
 * registry on its loop and formats it on each scrape. */
#ifndef NPD_METRICS_H
#define NPD_METRICS_H

#include <stddef.h>

#include "npd/buf.h"

struct npd_metrics;

/* An empty registry (owned by the caller); free(NULL) is a no-op. */
struct npd_metrics *npd_metrics_new(void);
void npd_metrics_free(struct npd_metrics *m);

/* name is a full sample name with an optional label set: `x_total{kind="syntax"}`. The
 * family (the part before '{') gets its type from its first use; a later use of the same
 * family with another type is ignored. */
void npd_metrics_add(struct npd_metrics *m, const char *name, double by);    /* counter */
void npd_metrics_set(struct npd_metrics *m, const char *name, double value); /* gauge */
/* Histogram with the default buckets (1 ms .. 30 s). */
void npd_metrics_observe(struct npd_metrics *m, const char *name, double value);
/* HELP text of a family (copied), printed before its TYPE line. */
void npd_metrics_help(struct npd_metrics *m, const char *family, const char *help);
/* The value of a counter or gauge sample (a histogram's count), 0 when absent. */
double npd_metrics_get(const struct npd_metrics *m, const char *name);

/* Appends every family, sorted by name, samples sorted within a family. */
void npd_metrics_format(const struct npd_metrics *m, struct npd_buf *out);
/* Appends one "# TYPE family type" line; for callers formatting samples themselves. */
void npd_metrics_format_type(struct npd_buf *out, const char *family, const char *type);
/* Appends one sample line: family{labels} value; labels is preformatted text or NULL. */
void npd_metrics_format_sample(struct npd_buf *out, const char *family, const char *labels,
			       double value);
/* Appends v as a label value: backslash, double quote and newline escaped. */
void npd_metrics_escape_label(struct npd_buf *out, const char *v);

#endif
