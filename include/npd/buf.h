/* buf.h: a growable NUL-terminated byte buffer, the one way lib/ builds text. */
#ifndef NPD_BUF_H
#define NPD_BUF_H

#include <stdarg.h>
#include <stddef.h>

/* Growable NUL-terminated byte buffer; caller storage, npd_buf_fini releases. */
struct npd_buf {
	char *data;
	size_t len;
	size_t cap;
};
void npd_buf_init(struct npd_buf *b);
void npd_buf_fini(struct npd_buf *b);
void npd_buf_reset(struct npd_buf *b);
void npd_buf_add(struct npd_buf *b, const void *p, size_t n);
void npd_buf_adds(struct npd_buf *b, const char *s);
void npd_buf_addc(struct npd_buf *b, char c);
void npd_buf_printf(struct npd_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void npd_buf_vprintf(struct npd_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Hands the string to the caller (owned) and leaves b empty. */
char *npd_buf_steal(struct npd_buf *b);
/* Appends the whole file at path. Returns 0, -EFBIG when it holds more than max bytes
 * (b then holds a prefix), or -errno from open/read. */
int npd_buf_read_file(struct npd_buf *b, const char *path, size_t max);

#endif
