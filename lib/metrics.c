/* metrics.c: the metric registry and its Prometheus text exposition. A family is the name
 * before '{'; it holds samples keyed by their full name. Pure data: the agent decides when
 * to count, this file only stores and formats, deterministically (sorted output). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npd/buf.h"
#include "npd/map.h"
#include "npd/mem.h"
#include "npd/metrics.h"

enum mtype {
	M_COUNTER,
	M_GAUGE,
	M_HISTOGRAM,
};

static const double buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
				 0.25,	0.5,	1,     2.5,  5,	    10,	  30};
#define N_BUCKETS NPD_ARRAY_SIZE(buckets)

struct sample {
	char *key;    /* full name, e.g. x{a="b"} */
	char *labels; /* text between the braces, "" when none */
	double value; /* counter or gauge; histogram: sum */
	unsigned long long count;
	unsigned long long bucket[N_BUCKETS];
};

struct family {
	char *name;
	enum mtype type;
	bool typed; /* false until the first sample (a family may start from its HELP) */
	char *help;
	struct npd_map samples; /* key -> struct sample */
};

struct npd_metrics {
	struct npd_map families; /* name -> struct family */
};

struct npd_metrics *
npd_metrics_new(void)
{
	struct npd_metrics *m = npd_xcalloc(1, sizeof(*m));

	npd_map_init(&m->families);
	return m;
}

static void
sample_free(void *v)
{
	struct sample *s = v;

	free(s->key);
	free(s->labels);
	free(s);
}

static void
family_free(void *v)
{
	struct family *f = v;

	npd_map_clear(&f->samples, sample_free);
	free(f->name);
	free(f->help);
	free(f);
}

void
npd_metrics_free(struct npd_metrics *m)
{
	if (!m)
		return;
	npd_map_clear(&m->families, family_free);
	free(m);
}

static struct family *
family_get(struct npd_metrics *m, const char *name, size_t len, bool create)
{
	char *fname = npd_xstrndup(name, len);
	struct family *f = npd_map_get(&m->families, fname);

	if (!f && create) {
		f = npd_xcalloc(1, sizeof(*f));
		f->name = fname;
		f->type = M_COUNTER;
		npd_map_init(&f->samples);
		npd_map_set(&m->families, fname, f);
		return f;
	}
	free(fname);
	return f;
}

/* Finds or creates the sample name of a family of type t; NULL on a type clash. */
static struct sample *
sample_get(struct npd_metrics *m, const char *name, enum mtype t)
{
	const char *brace = strchr(name, '{');
	size_t flen = brace ? (size_t)(brace - name) : strlen(name);
	struct family *f = family_get(m, name, flen, false);
	struct sample *s;

	if (!f)
		f = family_get(m, name, flen, true);
	if (!f->typed) {
		f->type = t;
		f->typed = true;
	}
	if (f->type != t)
		return NULL;
	s = npd_map_get(&f->samples, name);
	if (s)
		return s;
	s = npd_xcalloc(1, sizeof(*s));
	s->key = npd_xstrdup(name);
	if (brace) {
		const char *end = strrchr(brace, '}');
		size_t n = end && end > brace ? (size_t)(end - brace - 1) : strlen(brace + 1);

		s->labels = npd_xstrndup(brace + 1, n);
	} else {
		s->labels = npd_xstrdup("");
	}
	npd_map_set(&f->samples, name, s);
	return s;
}

void
npd_metrics_add(struct npd_metrics *m, const char *name, double by)
{
	struct sample *s = sample_get(m, name, M_COUNTER);

	if (s)
		s->value += by;
}

void
npd_metrics_set(struct npd_metrics *m, const char *name, double value)
{
	struct sample *s = sample_get(m, name, M_GAUGE);

	if (s)
		s->value = value;
}

void
npd_metrics_observe(struct npd_metrics *m, const char *name, double value)
{
	struct sample *s = sample_get(m, name, M_HISTOGRAM);
	size_t i;

	if (!s)
		return;
	for (i = 0; i < N_BUCKETS; i++)
		if (value <= buckets[i])
			s->bucket[i]++;
	s->value += value;
	s->count++;
}

void
npd_metrics_help(struct npd_metrics *m, const char *family, const char *help)
{
	struct family *f = family_get(m, family, strlen(family), true);

	free(f->help);
	f->help = npd_xstrdup(help);
}

double
npd_metrics_get(const struct npd_metrics *m, const char *name)
{
	const char *brace = strchr(name, '{');
	size_t flen = brace ? (size_t)(brace - name) : strlen(name);
	char *fname = npd_xstrndup(name, flen);
	const struct family *f = npd_map_get(&m->families, fname);
	const struct sample *s = f ? npd_map_get(&f->samples, name) : NULL;

	free(fname);
	if (!s)
		return 0;
	return f->type == M_HISTOGRAM ? (double)s->count : s->value;
}

/* Shortest text that reads back as v; Prometheus spells infinities +Inf/-Inf. */
static void
format_value(struct npd_buf *out, double v)
{
	char tmp[40];

	if (isnan(v)) {
		npd_buf_adds(out, "NaN");
		return;
	}
	if (isinf(v)) {
		npd_buf_adds(out, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	snprintf(tmp, sizeof(tmp), "%.15g", v);
	if (strtod(tmp, NULL) != v)
		snprintf(tmp, sizeof(tmp), "%.17g", v);
	npd_buf_adds(out, tmp);
}

void
npd_metrics_format_type(struct npd_buf *out, const char *family, const char *type)
{
	npd_buf_printf(out, "# TYPE %s %s\n", family, type);
}

void
npd_metrics_format_sample(struct npd_buf *out, const char *family, const char *labels, double value)
{
	npd_buf_adds(out, family);
	if (labels && labels[0])
		npd_buf_printf(out, "{%s}", labels);
	npd_buf_addc(out, ' ');
	format_value(out, value);
	npd_buf_addc(out, '\n');
}

void
npd_metrics_escape_label(struct npd_buf *out, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\')
			npd_buf_adds(out, "\\\\");
		else if (*v == '"')
			npd_buf_adds(out, "\\\"");
		else if (*v == '\n')
			npd_buf_adds(out, "\\n");
		else
			npd_buf_addc(out, *v);
	}
}

static void
format_histogram(struct npd_buf *out, const struct family *f, const struct sample *s)
{
	struct npd_buf name, lb;
	size_t i;

	npd_buf_init(&name);
	npd_buf_init(&lb);
	npd_buf_printf(&name, "%s_bucket", f->name);
	for (i = 0; i <= N_BUCKETS; i++) {
		npd_buf_reset(&lb);
		if (s->labels[0])
			npd_buf_printf(&lb, "%s,", s->labels);
		npd_buf_adds(&lb, "le=\"");
		if (i < N_BUCKETS)
			format_value(&lb, buckets[i]);
		else
			npd_buf_adds(&lb, "+Inf");
		npd_buf_addc(&lb, '"');
		npd_metrics_format_sample(out, name.data, lb.data,
					  (double)(i < N_BUCKETS ? s->bucket[i] : s->count));
	}
	npd_buf_reset(&name);
	npd_buf_printf(&name, "%s_sum", f->name);
	npd_metrics_format_sample(out, name.data, s->labels, s->value);
	npd_buf_reset(&name);
	npd_buf_printf(&name, "%s_count", f->name);
	npd_metrics_format_sample(out, name.data, s->labels, (double)s->count);
	npd_buf_fini(&lb);
	npd_buf_fini(&name);
}

void
npd_metrics_format(const struct npd_metrics *m, struct npd_buf *out)
{
	static const char *const type_names[] = {"counter", "gauge", "histogram"};
	size_t nf, i, j, ns;
	const char **fams = npd_map_sorted_keys(&m->families, &nf);

	for (i = 0; i < nf; i++) {
		const struct family *f = npd_map_get(&m->families, fams[i]);
		const char **keys;

		if (f->samples.len == 0)
			continue;
		if (f->help)
			npd_buf_printf(out, "# HELP %s %s\n", f->name, f->help);
		npd_metrics_format_type(out, f->name, type_names[f->type]);
		keys = npd_map_sorted_keys(&f->samples, &ns);
		for (j = 0; j < ns; j++) {
			const struct sample *s = npd_map_get(&f->samples, keys[j]);

			if (f->type == M_HISTOGRAM)
				format_histogram(out, f, s);
			else
				npd_metrics_format_sample(out, f->name, s->labels, s->value);
		}
		free(keys);
	}
	free(fams);
}
