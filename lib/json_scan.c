/* json_scan.c: a byte scanner that knows just enough JSON (strings, escapes, brackets) to
 * tell where a list item starts and ends, how deep the input nests and how many bytes a
 * value has taken, before any of it reaches yajl. It never allocates and never validates:
 * yajl does that for the bytes it is given. */
#include <string.h>

#include "json_int.h"

void
npd_jscan_reset(struct npd_jscan *s)
{
	size_t max_depth = s->max_depth, max_bytes = s->max_bytes;
	bool items = s->items;

	memset(s, 0, sizeof(*s));
	s->max_depth = max_depth;
	s->max_bytes = max_bytes;
	s->items = items;
}

/* The end of a run of plain string bytes starting at i: the first quote or backslash,
 * else n. memchr is vectorised; most of a Pod's bytes are inside strings. */
static size_t
plain_run(const unsigned char *p, size_t i, size_t n)
{
	const unsigned char *q = memchr(p + i, '"', n - i);
	size_t end = q ? (size_t)(q - p) : n;
	const unsigned char *b = memchr(p + i, '\\', end - i);

	return b ? (size_t)(b - p) : end;
}

size_t
npd_jscan_run(struct npd_jscan *s, const unsigned char *p, size_t n, enum npd_jscan_ev *ev)
{
	size_t i;

	*ev = NPD_JSCAN_NONE;
	for (i = 0; i < n; i++) {
		unsigned char c;
		bool open, item_open;

		if (s->in_str && !s->esc) {
			/* Take the plain bytes of a string at once, as many as the byte bound
			 * leaves room for; the byte that stops the run goes through the loop. */
			size_t j = plain_run(p, i, n);
			size_t room = s->len < s->max_bytes ? s->max_bytes - s->len : 0;

			if (!s->cutting && j - i > room)
				j = i + room;
			if (!s->cutting)
				s->len += j - i;
			i = j;
			if (i == n)
				break;
		}
		c = p[i];
		open = !s->in_str && (c == '{' || c == '[');
		item_open = open && s->items && s->depth == 2 && s->d2_array && !s->in_item;

		/* Checked before the byte is taken, so that it is not: the caller stops in front
		 * of it, and a cut rescans it. */
		if (!s->cutting && !item_open) {
			if (s->len >= s->max_bytes) {
				*ev = NPD_JSCAN_TOO_BIG;
				return i;
			}
			if (open && s->depth >= s->max_depth) {
				*ev = NPD_JSCAN_TOO_DEEP;
				return i;
			}
		}
		if (!s->cutting)
			s->len++;
		if (s->in_str) {
			if (s->esc)
				s->esc = false;
			else if (c == '\\')
				s->esc = true;
			else if (c == '"')
				s->in_str = false;
		} else if (c == '"') {
			s->in_str = true;
		} else if (open) {
			s->depth++;
			if (s->depth == 1)
				s->root_open = (char)c;
			else if (s->depth == 2)
				s->d2_array = c == '[';
			if (item_open) {
				/* The bytes outside items so far stay counted apart. */
				s->in_item = true;
				s->out_len = s->len - 1;
				s->len = 1;
				*ev = NPD_JSCAN_ITEM_OPEN;
				return i + 1;
			}
		} else if (c == '}' || c == ']') {
			if (s->depth)
				s->depth--;
			if (s->in_item && s->depth == 2) {
				s->in_item = false;
				s->cutting = false;
				s->len = s->out_len;
				*ev = NPD_JSCAN_ITEM_CLOSE;
				return i + 1;
			}
		}
	}
	return n;
}
