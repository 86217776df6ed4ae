/* diag.h: diagnostics for bad input. Decoders and the compiler report what they skip here
 * instead of logging; the agent logs each once and counts it by kind in a metric. */
#ifndef NPD_DIAG_H
#define NPD_DIAG_H

#include <stdarg.h>
#include <stddef.h>

enum npd_diag_kind {
	NPD_DIAG_SYNTAX,      /* malformed JSON/YAML, truncated document */
	NPD_DIAG_TYPE,	      /* a field of the wrong type */
	NPD_DIAG_VALUE,	      /* an invalid CIDR, port, protocol, operator, label */
	NPD_DIAG_UNSUPPORTED, /* valid input netpold does not handle */
	NPD_DIAG_LIMIT,	      /* too many rules, peers, ports, entries */
	NPD_DIAG_LINT,	      /* a lint warning (netpolctl lint) */
	NPD_DIAG__COUNT
};

struct npd_diag {
	enum npd_diag_kind kind;
	char *obj_kind; /* "Pod", "NetworkPolicy", "Namespace", or NULL */
	char *ns;	/* may be NULL */
	char *name;	/* may be NULL */
	char *path;	/* field path such as "spec.ingress[0].from[1].ipBlock.cidr", or NULL */
	char *file;	/* source file, or NULL */
	int line;	/* 1-based line in file, 0 when unknown */
	char *msg;
	const char *limit; /* LIMIT: which bound ("rules", "size", "depth"; static), else NULL */
};

/* A list of diagnostics; caller storage. */
struct npd_diags {
	struct npd_diag *v;
	size_t n, cap;
};

void npd_diags_init(struct npd_diags *d);
void npd_diags_fini(struct npd_diags *d);
void npd_diags_reset(struct npd_diags *d);
/* Appends a diagnostic; every string argument is copied, any may be NULL. d may be NULL
 * (the diagnostic is then dropped). */
void npd_diags_add(struct npd_diags *d, enum npd_diag_kind kind, const char *obj_kind,
		   const char *ns, const char *name, const char *path, const char *file, int line,
		   const char *fmt, ...) __attribute__((format(printf, 9, 10)));
/* The same with the message's arguments as a va_list. */
void npd_diags_vadd(struct npd_diags *d, enum npd_diag_kind kind, const char *obj_kind,
		    const char *ns, const char *name, const char *path, const char *file, int line,
		    const char *fmt, va_list ap) __attribute__((format(printf, 9, 0)));
/* Names the bound the last diagnostic of d is about (a static string); no-op when d is NULL
 * or empty. */
void npd_diags_set_limit(struct npd_diags *d, const char *limit);
typedef void (*npd_diag_fn)(const struct npd_diag *dg, void *arg);
/* Calls fn once per object d rejects, with its first limit diagnostic (one naming a bound):
 * consecutive diagnostics with the same kind, namespace and name are one object (a decoder
 * reports an object's diagnostics together, once per decode of it); one naming no object is
 * an object of its own. So rejections are counted by object, not by diagnostic. */
void npd_diags_each_rejected(const struct npd_diags *d, npd_diag_fn fn, void *arg);
/* Moves all of src's entries to the end of dst, leaving src empty. */
void npd_diags_move(struct npd_diags *dst, struct npd_diags *src);
const char *npd_diag_kind_name(enum npd_diag_kind k);
/* Formats one diagnostic as a single key=value line (no newline) into buf; returns buf. */
char *npd_diag_format(const struct npd_diag *dg, char *buf, size_t len);

#endif
