/* buf.c: the growable byte buffer. It always keeps a NUL after the data, so data is a
 * C string whenever it is non-NULL. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "npd/buf.h"
#include "npd/mem.h"

void
npd_buf_init(struct npd_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void
npd_buf_fini(struct npd_buf *b)
{
	free(b->data);
	npd_buf_init(b);
}

void
npd_buf_reset(struct npd_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

static void
buf_reserve(struct npd_buf *b, size_t extra)
{
	npd_xgrow(&b->data, &b->cap, b->len + extra + 1, 1);
}

void
npd_buf_add(struct npd_buf *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	/* An empty buffer's data may be NULL: memcpy from NULL is undefined even for 0 bytes. */
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
npd_buf_adds(struct npd_buf *b, const char *s)
{
	npd_buf_add(b, s, strlen(s));
}

void
npd_buf_addc(struct npd_buf *b, char c)
{
	npd_buf_add(b, &c, 1);
}

void
npd_buf_vprintf(struct npd_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return;
	buf_reserve(b, (size_t)n);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void
npd_buf_printf(struct npd_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	npd_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

char *
npd_buf_steal(struct npd_buf *b)
{
	char *s = b->data ? b->data : npd_xstrdup("");

	npd_buf_init(b);
	return s;
}

int
npd_buf_read_file(struct npd_buf *b, const char *path, size_t max)
{
	char chunk[65536];
	size_t start = b->len;
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (n == 0)
			break;
		if (b->len - start + (size_t)n > max) {
			err = -EFBIG;
			break;
		}
		npd_buf_add(b, chunk, (size_t)n);
	}
	close(fd);
	return err;
}
