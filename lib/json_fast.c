/* json_fast.c: the fast path for a list item that lies whole in one chunk. It parses the
 * item itself and drives the builder directly, where yajl would lex every byte, copy
 * tokens and call back for every value; the contents of a container the builder skips are
 * only checked, never reported. It takes only what yajl accepts and would report the same
 * way: JSON's grammar (without yajl's \v and \f whitespace), strings by yajl's escape and
 * UTF-8 rules, and no escape in a string the builder is given (yajl would decode it). On
 * anything else, an item not complete in the bytes given, or one that comes near the depth
 * bound, it gives up: json.c then rewinds the builder and hands the item to yajl, so the
 * events and diagnostics never depend on which path took an item. No state of its own. */
#include <stdint.h>
#include <string.h>

#include "decode_int.h"
#include "json_int.h"

/* The first byte of a string run that needs a look: a quote, a backslash, a control
 * character (yajl rejects it) or a byte of a multi-byte UTF-8 sequence (yajl checks it).
 * Returns i, the index after the closing quote, or 0 to give up; *esc: an escape seen. */
static inline size_t
string_end(const unsigned char *p, size_t i, size_t n, bool *esc)
{
	*esc = false;
	for (;;) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		for (; i + 8 <= n; i += 8) {
			uint64_t w, m;

			memcpy(&w, p + i, 8);
			/* Bytes below 0x20 borrow into their top bit, bytes from 0x80 have it: as
			 * in npd_jscan_zero_bytes, only bytes above a marked one can be marked
			 * wrongly, so the lowest mark is exact. */
			m = npd_jscan_zero_bytes(w ^ 0x2222222222222222ULL) |
			    npd_jscan_zero_bytes(w ^ 0x5c5c5c5c5c5c5c5cULL) |
			    (((w - 0x2020202020202020ULL) | w) & 0x8080808080808080ULL);
			if (m) {
				i += (size_t)(__builtin_ctzll(m) >> 3);
				break;
			}
		}
#endif
		for (; i < n && p[i] != '"' && p[i] != '\\' && p[i] >= 0x20 && p[i] < 0x80; i++)
			;
		if (i >= n)
			return 0;
		if (p[i] == '"')
			return i + 1;
		if (p[i] == '\\') {
			unsigned char e = i + 1 < n ? p[i + 1] : 0;
			size_t k;

			*esc = true;
			if (e == 'u') {
				/* yajl checks four hex digits and decodes later, never failing. */
				if (i + 6 > n)
					return 0;
				for (k = i + 2; k < i + 6; k++)
					if (!((p[k] >= '0' && p[k] <= '9') ||
					      ((p[k] | 0x20) >= 'a' && (p[k] | 0x20) <= 'f')))
						return 0;
				i += 6;
			} else if (e && strchr("\"\\/bfnrt", e)) {
				i += 2;
			} else {
				return 0;
			}
		} else if (p[i] < 0x20) {
			return 0;
		} else {
			/* yajl's UTF-8 check: a lead byte by its top bits, then as many bytes
			 * of the form 10xxxxxx; nothing more (no overlong or range test). */
			unsigned char c = p[i];
			size_t k, more = (c >> 5) == 0x6    ? 1
					 : (c >> 4) == 0xe  ? 2
					 : (c >> 3) == 0x1e ? 3
							    : 0;

			if (!more || i + more >= n)
				return 0;
			for (k = 1; k <= more; k++)
				if ((p[i + k] >> 6) != 0x2)
					return 0;
			i += more + 1;
		}
	}
}

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* The index after the number at p[i] by yajl's grammar, or 0 to give up (also when it
 * reaches the end: more digits may follow). *dbl: it has a fraction or an exponent. */
static size_t
number_end(const unsigned char *p, size_t i, size_t n, bool *dbl)
{
	*dbl = false;
	if (i < n && p[i] == '-')
		i++;
	if (i < n && p[i] == '0') {
		i++;
	} else if (i < n && p[i] >= '1' && p[i] <= '9') {
		while (i < n && is_digit(p[i]))
			i++;
	} else {
		return 0;
	}
	if (i < n && p[i] == '.') {
		*dbl = true;
		if (++i >= n || !is_digit(p[i]))
			return 0;
		while (i < n && is_digit(p[i]))
			i++;
	}
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		*dbl = true;
		if (++i < n && (p[i] == '+' || p[i] == '-'))
			i++;
		if (i >= n || !is_digit(p[i]))
			return 0;
		while (i < n && is_digit(p[i]))
			i++;
	}
	return i < n ? i : 0;
}

/* The literal w (len bytes) at p[i], given to b as a scalar of type with text val unless
 * quiet. The index after it, or 0. */
static size_t
take_word(struct npd_dec *b, const unsigned char *p, size_t i, size_t n, const char *w, size_t len,
	  enum npd_dtype type, const char *val, bool quiet)
{
	if (n - i < len || memcmp(p + i, w, len))
		return 0;
	if (!quiet)
		npd_dec_scalar(b, type, val, strlen(val), 0);
	return i + len;
}

static inline size_t
skip_ws(const unsigned char *p, size_t i, size_t n)
{
	while (i < n && (p[i] == ' ' || p[i] == '\n' || p[i] == '\t' || p[i] == '\r'))
		i++;
	return i;
}

/* A key at p[i] and its colon; given to b unless quiet. The index after the colon, or 0. */
static inline size_t
take_key(struct npd_dec *b, const unsigned char *p, size_t i, size_t n, bool quiet)
{
	bool esc;
	size_t j;

	if (p[i] != '"' || !(j = string_end(p, i + 1, n, &esc)))
		return 0;
	if (!quiet) {
		if (esc)
			return 0;
		npd_dec_key(b, (const char *)p + i + 1, j - i - 2);
	}
	j = skip_ws(p, j, n);
	return j < n && p[j] == ':' ? j + 1 : 0;
}

/* A scalar at p[i]; given to b unless quiet. The index after it, or 0. */
static size_t
take_scalar(struct npd_dec *b, const unsigned char *p, size_t i, size_t n, bool quiet)
{
	bool esc, dbl;
	size_t j;

	switch (p[i]) {
	case '"':
		if (!(j = string_end(p, i + 1, n, &esc)) || (!quiet && esc))
			return 0;
		if (!quiet)
			npd_dec_scalar(b, NPD_DT_STRING, (const char *)p + i + 1, j - i - 2, 0);
		return j;
	case 't':
		return take_word(b, p, i, n, "true", 4, NPD_DT_BOOL, "true", quiet);
	case 'f':
		return take_word(b, p, i, n, "false", 5, NPD_DT_BOOL, "false", quiet);
	case 'n':
		return take_word(b, p, i, n, "null", 4, NPD_DT_NULL, "", quiet);
	default:
		if (!(j = number_end(p, i, n, &dbl)))
			return 0;
		if (!quiet)
			npd_dec_scalar(b, dbl ? NPD_DT_DOUBLE : NPD_DT_INT, (const char *)p + i,
				       j - i, 0);
		return j;
	}
}

size_t
npd_jfast_item(struct npd_dec *b, const unsigned char *p, size_t n, size_t levels)
{
	/* What closes each open container; quiet: the depth of the container the builder
	 * skips (its contents are only checked), 0 when none is. */
	char close[NPD_LIMIT_DEPTH];
	size_t depth = 0, quiet = 0, i = 0;
	unsigned char c;

	if (levels > NPD_LIMIT_DEPTH)
		levels = NPD_LIMIT_DEPTH;
	if (!n || p[0] != '{')
		return 0;
	for (;;) {
		/* A value starts here. */
		i = skip_ws(p, i, n);
		if (i >= n)
			return 0;
		c = p[i];
		if (c == '{' || c == '[') {
			if (depth >= levels)
				return 0;
			close[depth++] = c == '{' ? '}' : ']';
			if (!quiet) {
				if (c == '{')
					npd_dec_map_start(b, 0);
				else
					npd_dec_array_start(b, 0);
				if (b->skip)
					quiet = depth;
			}
			i = skip_ws(p, i + 1, n);
			if (i >= n)
				return 0;
			if (p[i] != close[depth - 1]) {
				if (c == '{' && !(i = take_key(b, p, i, n, quiet)))
					return 0;
				continue;
			}
		} else if (!(i = take_scalar(b, p, i, n, quiet))) {
			return 0;
		}
		/* After a value: the brackets it closes, then a comma (or the item's end). */
		for (;;) {
			i = skip_ws(p, i, n);
			if (i >= n)
				return 0;
			c = p[i];
			if (c == ',')
				break;
			if ((char)c != close[depth - 1])
				return 0;
			if (!quiet || quiet == depth) {
				if (c == '}')
					npd_dec_map_end(b);
				else
					npd_dec_array_end(b);
				quiet = 0;
			}
			i++;
			if (--depth == 0)
				return i;
		}
		i = skip_ws(p, i + 1, n);
		if (i >= n || (close[depth - 1] == '}' && !(i = take_key(b, p, i, n, quiet))))
			return 0;
	}
}
