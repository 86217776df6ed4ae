/* yaml_json.c: manifest files that are JSON (`kubectl get -o json` writes them, and JSON
 * is YAML) read with yajl's callback parser, several times faster than libyaml, driving
 * the document builder yaml.c drives, so that the objects, diagnostics, field paths,
 * source lines and limits are those of libyaml's reading of the same bytes. Scalars get
 * the types libyaml gives them: strings are quoted scalars; numbers, booleans and null are
 * plain ones, which the converter reads by the type each field expects. What yajl rejects
 * (YAML flow style, a second document, a comment) is handed back with nothing delivered
 * or reported, for libyaml to read from the start: this file only ever speeds up. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yajl/yajl_parse.h>

#include "npd/yaml.h"
#include "yaml_int.h"

struct jdoc {
	struct npd_ydoc y;
	yajl_handle h;
	const unsigned char *chunk; /* the bytes yajl is parsing, NULL at the end */
	size_t counted;		    /* newlines of chunk are counted up to here */
	int line;		    /* 1-based line at counted */
};

/* The line of the token yajl just read: it ends where yajl stands, and no JSON token
 * spans a newline. */
static int
token_line(struct jdoc *j)
{
	size_t end = j->chunk ? yajl_get_bytes_consumed(j->h) : j->counted;
	const unsigned char *p;

	while (j->counted < end && (p = memchr(j->chunk + j->counted, '\n', end - j->counted))) {
		j->line++;
		j->counted = (size_t)(p - j->chunk) + 1;
	}
	if (j->counted < end)
		j->counted = end;
	return j->line;
}

static int
scalar(void *ctx, enum npd_dtype t, const char *s, size_t len)
{
	struct jdoc *j = ctx;

	if (!j->y.skip)
		npd_dec_scalar(&j->y.b, t, s, len, token_line(j));
	return 1;
}

static int
cb_null(void *ctx)
{
	return scalar(ctx, NPD_DT_PLAIN, "null", 4);
}

static int
cb_bool(void *ctx, int v)
{
	return scalar(ctx, NPD_DT_PLAIN, v ? "true" : "false", v ? 4 : 5);
}

static int
cb_number(void *ctx, const char *s, size_t len)
{
	return scalar(ctx, NPD_DT_PLAIN, s, len);
}

static int
cb_string(void *ctx, const unsigned char *s, size_t len)
{
	return scalar(ctx, NPD_DT_STRING, (const char *)s, len);
}

static int
cb_key(void *ctx, const unsigned char *s, size_t len)
{
	struct jdoc *j = ctx;

	if (!j->y.skip)
		npd_dec_key(&j->y.b, (const char *)s, len);
	return 1;
}

static int
cb_start_map(void *ctx)
{
	struct jdoc *j = ctx;

	npd_ydoc_open(&j->y, true, token_line(j));
	return 1;
}

static int
cb_end_map(void *ctx)
{
	npd_ydoc_close(&((struct jdoc *)ctx)->y, true);
	return 1;
}

static int
cb_start_array(void *ctx)
{
	struct jdoc *j = ctx;

	npd_ydoc_open(&j->y, false, token_line(j));
	return 1;
}

static int
cb_end_array(void *ctx)
{
	npd_ydoc_close(&((struct jdoc *)ctx)->y, false);
	return 1;
}

static const yajl_callbacks callbacks = {
    .yajl_null = cb_null,
    .yajl_boolean = cb_bool,
    .yajl_number = cb_number,
    .yajl_string = cb_string,
    .yajl_start_map = cb_start_map,
    .yajl_map_key = cb_key,
    .yajl_end_map = cb_end_map,
    .yajl_start_array = cb_start_array,
    .yajl_end_array = cb_end_array,
};

/* Parses n bytes of buf; false when yajl rejects them. */
static bool
parse(struct jdoc *j, const unsigned char *buf, size_t n)
{
	bool ok;

	j->chunk = buf;
	j->counted = 0;
	ok = yajl_parse(j->h, buf, n) == yajl_status_ok;
	/* The rest of the chunk's newlines, for the tokens of the next one. */
	while (ok && j->counted < n) {
		const unsigned char *p = memchr(buf + j->counted, '\n', n - j->counted);

		if (!p)
			break;
		j->line++;
		j->counted = (size_t)(p - buf) + 1;
	}
	j->chunk = NULL;
	return ok;
}

int
npd_yaml_json_decode_fd(int fd, const char *path, npd_event_fn fn, void *ctx, struct npd_diags *d)
{
	static const char space[] = " \t\r\n";
	unsigned char buf[65536];
	struct jdoc j;
	size_t total = 0, i;
	bool first = true;
	ssize_t n;
	int rc = 0;

	memset(&j, 0, sizeof(j));
	npd_ydoc_init(&j.y, path, fn, ctx, d);
	j.line = 1;
	j.h = yajl_alloc(&callbacks, NULL, &j);
	if (!j.h)
		abort();
	for (;;) {
		do
			n = read(fd, buf, sizeof(buf));
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			rc = -errno;
			goto out;
		}
		if (n == 0)
			break;
		total += (size_t)n;
		if (total > NPD_YAML_MAX_FILE) {
			rc = -EFBIG;
			goto out;
		}
		if (first) {
			/* JSON only when the first byte after white space opens an object or an
			 * array: anything else, even a valid JSON scalar, is libyaml's. */
			for (i = 0; i < (size_t)n && buf[i] && strchr(space, buf[i]); i++)
				;
			if (i < (size_t)n && buf[i] != '{' && buf[i] != '[') {
				rc = -ENOTSUP;
				goto out;
			}
			first = i == (size_t)n;
		}
		if (!parse(&j, buf, (size_t)n)) {
			rc = -ENOTSUP;
			goto out;
		}
	}
	if (first || yajl_complete_parse(j.h) != yajl_status_ok) {
		rc = -ENOTSUP;
		goto out;
	}
	npd_ydoc_end(&j.y);
out:
	yajl_free(j.h);
	npd_ydoc_fini(&j.y);
	return rc;
}
