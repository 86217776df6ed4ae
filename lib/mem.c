/* mem.c: the allocation wrappers. An allocation failure prints one line and aborts: a
 * policy agent that limps on after OOM could enforce a half-built ruleset. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npd/buf.h"
#include "npd/mem.h"

static void
oom(size_t n)
{
	fprintf(stderr, "netpold: out of memory allocating %zu bytes\n", n);
	abort();
}

void *
npd_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom(n);
	return p;
}

void *
npd_xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (!p)
		oom(nmemb * size);
	return p;
}

void *
npd_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		oom(n);
	return q;
}

void
npd_xgrow(void *vp, size_t *cap, size_t need, size_t elem)
{
	void **v = vp;
	size_t ncap;

	if (need <= *cap)
		return;
	ncap = *cap ? *cap * 2 : 8;
	while (ncap < need)
		ncap *= 2;
	*v = npd_xrealloc(*v, ncap * elem);
	*cap = ncap;
}

char *
npd_xstrdup(const char *s)
{
	return s ? npd_xstrndup(s, strlen(s)) : NULL;
}

char *
npd_xstrndup(const char *s, size_t n)
{
	char *p;

	n = strnlen(s, n);
	p = npd_xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
npd_xvasprintf(const char *fmt, va_list ap)
{
	struct npd_buf b;

	npd_buf_init(&b);
	npd_buf_vprintf(&b, fmt, ap);
	return npd_buf_steal(&b);
}

char *
npd_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = npd_xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}
