/* intern.h: a table of shared, reference-counted strings. The store keeps one, so that a
 * label key, a label value, a namespace or node name or a port name that thousands of
 * objects carry is held once. Not thread-safe. */
#ifndef NPD_INTERN_H
#define NPD_INTERN_H

#include <stddef.h>

struct npd_intern;

/* An empty table; free it (with every string still in it) with npd_intern_free. */
struct npd_intern *npd_intern_new(void);
void npd_intern_free(struct npd_intern *t);

/* Returns the table's copy of s, taking one reference on it (NULL in, NULL out). The
 * copy stays valid until as many npd_intern_del as npd_intern_add calls were made. */
const char *npd_intern_add(struct npd_intern *t, const char *s);
/* Drops one reference to a string npd_intern_add returned; the last one frees it. NULL is
 * a no-op. */
void npd_intern_del(struct npd_intern *t, const char *s);

/* Distinct strings held, and the references on s (0 when s is not the table's copy of a
 * string it holds: a test and accounting aid). */
size_t npd_intern_count(const struct npd_intern *t);
size_t npd_intern_refs(const struct npd_intern *t, const char *s);
/* Bytes of string data held (lengths plus terminators), without the table's overhead. */
size_t npd_intern_bytes(const struct npd_intern *t);

#endif
