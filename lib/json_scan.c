/* json_scan.c: a byte scanner that knows just enough JSON (strings, escapes, brackets) to
 * tell where a list item starts and ends, how deep the input nests and how many bytes a
 * value has taken, before any of it reaches yajl. It never allocates and never validates:
 * yajl does that for the bytes it is given. */
#include <stdint.h>
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
 * else n. Most of a Pod's bytes are inside strings, most of its strings are short: eight
 * bytes are tested at a time, which beats two memchr calls on both kinds of string. */
static size_t
plain_run(const unsigned char *p, size_t i, size_t n)
{
	for (; i + 8 <= n; i += 8) {
		uint64_t w, m;

		memcpy(&w, p + i, 8);
		m = npd_jscan_zero_bytes(w ^ 0x2222222222222222ULL) |
		    npd_jscan_zero_bytes(w ^ 0x5c5c5c5c5c5c5c5cULL);
		if (m) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			return i + (size_t)(__builtin_ctzll(m) >> 3);
#else
			break;
#endif
		}
	}
	for (; i < n && p[i] != '"' && p[i] != '\\'; i++)
		;
	return i;
}

size_t
npd_jscan_run(struct npd_jscan *s, const unsigned char *p, size_t n, enum npd_jscan_ev *ev)
{
	/* A local copy: stores through s could alias p (both may point at any byte), which
	 * would keep every field in memory; this loop sees every byte of the input. */
	struct npd_jscan t = *s;
	size_t i;

	*ev = NPD_JSCAN_NONE;
	for (i = 0; i < n; i++) {
		unsigned char c;
		bool open, item_open;

		if (t.in_str && !t.esc) {
			/* Take the plain bytes of a string at once, as many as the byte bound
			 * leaves room for; the byte that stops the run goes through the loop. */
			size_t j = plain_run(p, i, n);
			size_t room = t.len < t.max_bytes ? t.max_bytes - t.len : 0;
			if (!t.cutting && j - i > room)
				j = i + room;
			if (!t.cutting)
				t.len += j - i;
			i = j;
			if (i == n)
				break;
		}
		c = p[i];
		open = !t.in_str && (c == '{' || c == '[');
		item_open = open && t.items && t.depth == 2 && t.d2_array && !t.in_item;

		/* Checked before the byte is taken, so that it is not: the caller stops in front
		 * of it, and a cut rescans it. */
		if (!t.cutting && !item_open) {
			if (t.len >= t.max_bytes) {
				*ev = NPD_JSCAN_TOO_BIG;
				break;
			}
			if (open && t.depth >= t.max_depth) {
				*ev = NPD_JSCAN_TOO_DEEP;
				break;
			}
		}
		if (!t.cutting)
			t.len++;
		if (t.in_str) {
			if (t.esc)
				t.esc = false;
			else if (c == '\\')
				t.esc = true;
			else if (c == '"')
				t.in_str = false;
		} else if (c == '"') {
			t.in_str = true;
		} else if (open) {
			t.depth++;
			if (t.depth == 1)
				t.root_open = (char)c;
			else if (t.depth == 2)
				t.d2_array = c == '[';
			if (item_open) {
				/* The bytes outside items so far stay counted apart. */
				t.in_item = true;
				t.out_len = t.len - 1;
				t.len = 1;
				*ev = NPD_JSCAN_ITEM_OPEN;
				i++;
				break;
			}
		} else if (c == '}' || c == ']') {
			if (t.depth)
				t.depth--;
			if (t.in_item && t.depth == 2) {
				t.in_item = false;
				t.cutting = false;
				t.len = t.out_len;
				*ev = NPD_JSCAN_ITEM_CLOSE;
				i++;
				break;
			}
		}
	}
	*s = t;
	return i;
}

void
npd_jscan_item_end(struct npd_jscan *s)
{
	s->depth--;
	s->in_item = false;
	s->cutting = false;
	s->in_str = false;
	s->esc = false;
	s->len = s->out_len;
}
