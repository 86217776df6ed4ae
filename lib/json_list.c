/* json_list.c: a document's bytes (OBJECT and LIST mode) on their way to yajl: every byte
 * through the scanner first; a list item over the size or depth bound dropped and skipped
 * to its end, yajl restarted behind it; a list item that lies whole in one chunk taken by
 * the fast path (json_fast.c) instead of yajl. json.c owns the decoder and the rest. */
#include <stdbool.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "decode_int.h"
#include "json_int.h"

/* Feeds bytes to yajl; false after a syntax error (reported, document failed). */
static bool
parse_doc(struct npd_json_decoder *d, const unsigned char *p, size_t n)
{
	if (!n || yajl_parse(d->h, p, n) == yajl_status_ok)
		return true;
	npd_json_syntax_error(d, "malformed document");
	d->failed = true;
	return false;
}

/* A list item went over a bound: it is reported, dropped from the builder, and its bytes
 * are skipped up to its end (cut_end). */
static void
cut_item(struct npd_json_decoder *d, enum npd_jscan_ev ev)
{
	struct npd_dnode *item = npd_dec_unwind(&d->b, &d->mark);

	npd_json_limit_error(d, item, ev);
	npd_dnode_free(item);
	d->scan.cutting = true;
	d->cut = true;
}

/* After a cut item: a new yajl handle, led muted to where the list stood (inside the root,
 * inside an array, after an element), so that ",{...}]}" parses on. */
static void
cut_end(struct npd_json_decoder *d)
{
	static const char in_map[] = "{\"\":[{}", in_array[] = "[[{}";
	const char *pre = d->scan.root_open == '[' ? in_array : in_map;

	npd_json_new_handle(d);
	d->mute = true;
	parse_doc(d, (const unsigned char *)pre, strlen(pre));
	d->mute = false;
	d->cut = false;
}

/* Feeds the list item that starts at p[0]: whole through json_fast.c when it lies in these
 * n bytes, else only its first byte, yajl taking the rest as it comes. Returns the bytes
 * taken. yajl is fed the item's first byte muted before the fast path looks, so that the
 * fast path runs only where yajl takes an item, and then, muted, the "}" of an empty
 * object in place of the rest; on failure the builder goes back to the mark and is given
 * the map start that yajl's callback would have given it. */
static size_t
take_item(struct npd_json_decoder *d, const unsigned char *p, size_t n)
{
	static const unsigned char close_map = '}';
	/* The scanner stands inside the item (depth counts it); the bytes end one short of the
	 * size bound, so that an item at the bound is always the scanner's to judge. */
	size_t levels =
	    d->scan.max_depth + 1 > d->scan.depth ? d->scan.max_depth + 1 - d->scan.depth : 0;
	size_t lim = d->scan.max_bytes - 1, m;
	bool ok;

	if (p[0] != '{') {
		parse_doc(d, p, 1);
		return 1;
	}
	d->mute = true;
	ok = parse_doc(d, p, 1);
	d->mute = false;
	if (!ok)
		return 1;
	m = npd_jfast_item(&d->b, p, n < lim ? n : lim, levels);
	if (m) {
		npd_jscan_item_end(&d->scan);
		d->n_fast++;
		d->mute = true;
		parse_doc(d, &close_map, 1);
		d->mute = false;
		return m;
	}
	npd_dnode_free(npd_dec_unwind(&d->b, &d->mark));
	npd_dec_map_start(&d->b, 0);
	return 1;
}

void
npd_json_feed_doc(struct npd_json_decoder *d, const unsigned char *p, size_t n)
{
	enum npd_jscan_ev ev;
	size_t k;

	while (n && !d->failed) {
		k = npd_jscan_run(&d->scan, p, n, &ev);
		if (d->cut) {
			if (ev == NPD_JSCAN_ITEM_CLOSE)
				cut_end(d);
		} else if (ev == NPD_JSCAN_ITEM_OPEN) {
			/* The mark must see the builder before the item's first byte. */
			if (parse_doc(d, p, k - 1)) {
				npd_dec_mark(&d->b, &d->mark);
				d->start_off = d->off + k - 1;
				k += take_item(d, p + k - 1, n - (k - 1)) - 1;
			}
		} else if (ev == NPD_JSCAN_TOO_BIG || ev == NPD_JSCAN_TOO_DEEP) {
			if (!parse_doc(d, p, k)) {
			} else if (d->scan.in_item) {
				cut_item(d, ev);
			} else {
				npd_json_limit_error(d, d->b.root, ev);
				d->failed = true;
			}
		} else {
			parse_doc(d, p, k);
		}
		d->off += k;
		p += k;
		n -= k;
	}
}
