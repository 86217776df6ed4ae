/* mem.h: allocation that never returns NULL (the process aborts on exhaustion), so no
 * caller carries an untested out-of-memory branch; string duplication on top of it. */
#ifndef NPD_MEM_H
#define NPD_MEM_H

#include <stdarg.h>
#include <stddef.h>

#define NPD_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation wrappers: never return NULL, abort the process on exhaustion. */
void *npd_xmalloc(size_t n);
void *npd_xcalloc(size_t nmemb, size_t size);
void *npd_xrealloc(void *p, size_t n);
/* Grows *v (holding *cap elements of size elem) so that it can hold need elements. */
void npd_xgrow(void *vp, size_t *cap, size_t need, size_t elem);
char *npd_xstrdup(const char *s); /* NULL in, NULL out */
/* Copies at most n bytes of s, stopping at its NUL. */
char *npd_xstrndup(const char *s, size_t n);
/* Returns the formatted string, owned by the caller. */
char *npd_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *npd_xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

#endif
