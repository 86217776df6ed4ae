/* json_int.h: the JSON decoder's insides, shared by json.c, json_list.c, json_scan.c and
 * json_fast.c: the decoder's state, and the byte scanner json.c runs ahead of yajl. yajl
 * buffers a whole token (a 100 MB string is one token) and keeps one byte per open
 * container, so the size and the depth of a value must be bounded before its bytes reach
 * yajl. Private to lib/. */
#ifndef NPD_JSON_INT_H
#define NPD_JSON_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yajl/yajl_parse.h>

#include "decode_int.h"
#include "npd/json.h"

enum npd_jscan_ev {
	NPD_JSCAN_NONE,	      /* the bytes were scanned, nothing to report */
	NPD_JSCAN_ITEM_OPEN,  /* the last byte scanned opens an item (items on) */
	NPD_JSCAN_ITEM_CLOSE, /* the last byte scanned closes the item (also one being cut) */
	NPD_JSCAN_TOO_DEEP,   /* the next byte (not scanned) opens a container beyond max_depth */
	NPD_JSCAN_TOO_BIG,    /* the next byte (not scanned) is one more than max_bytes */
};

/* Scanner state; caller storage, zeroed, then the three settings. An item is a container
 * that is an element of an array at depth 2 (the items of a *List); with items off, or
 * outside items, max_bytes bounds the whole input. */
struct npd_jscan {
	size_t max_depth, max_bytes;
	bool items;
	size_t depth;	/* containers open */
	size_t len;	/* bytes of the current item, or outside items */
	size_t out_len; /* inside an item: the bytes outside items before it */
	bool in_str, esc;
	bool d2_array;	/* the container at depth 2 is an array */
	bool in_item;	/* inside an item */
	bool cutting;	/* the item is being dropped: only its end is reported */
	char root_open; /* '{' or '[': the root container, 0 before it */
};

/* Forgets the input scanned so far, keeping the settings. */
void npd_jscan_reset(struct npd_jscan *s);
/* Scans up to n bytes of p and stops at the first event, returned in *ev (NPD_JSCAN_NONE
 * when all n were scanned): after the byte that opens or closes an item, before the byte
 * that crosses a bound (with cutting set, scanning goes on through it to the item's end).
 * Returns the bytes scanned. Bounds are not checked while cutting. */
size_t npd_jscan_run(struct npd_jscan *s, const unsigned char *p, size_t n, enum npd_jscan_ev *ev);
/* Puts s where scanning the rest of the item just opened would leave it: after its end. */
void npd_jscan_item_end(struct npd_jscan *s);

/* The bytes of the word x that are zero, as the top bit of each (exact for the lowest:
 * a borrow can only mark bytes above a zero one). */
static inline uint64_t
npd_jscan_zero_bytes(uint64_t x)
{
	return (x - 0x0101010101010101ULL) & ~x & 0x8080808080808080ULL;
}

/* json_fast.c: decodes the item that starts at p[0] into b when all of it lies in the n
 * bytes and yajl would take it the same way, at most levels containers deep (the item
 * included). Returns the item's bytes, or 0 when yajl must take it: b is then partly
 * driven and must be rewound (npd_dec_rewind) to where the item began. */
size_t npd_jfast_item(struct npd_dec *b, const unsigned char *p, size_t n, size_t levels);

struct npd_json_decoder {
	enum npd_json_mode mode;
	enum npd_kind kind;
	npd_event_fn fn;
	void *ctx;
	struct npd_diags *diags;
	yajl_handle h;
	struct npd_dec b;
	struct npd_dec_opts opts;
	struct npd_jscan scan;
	bool failed;		  /* OBJECT/LIST: syntax error seen, input ignored from now on */
	bool line_bad;		  /* WATCH: this line failed, skip to the newline */
	bool line_nonblank;	  /* WATCH: this line has more than whitespace */
	bool cut;		  /* LIST: the current item is over a bound, skipped to its end */
	bool mute;		  /* callbacks ignored (yajl is being led back into a list) */
	size_t line_no;		  /* WATCH: 1-based number of the current line */
	size_t off;		  /* bytes of input taken so far */
	size_t start_off;	  /* where the current line or item began */
	struct npd_dec_mark mark; /* LIST: the builder before the current item */
	int status_code;
	char *status_reason;
	size_t n_events, n_bad;
	size_t n_fast; /* LIST: items the fast path took */
};

/* A new yajl handle for d (the old one freed). */
void npd_json_new_handle(struct npd_json_decoder *d);
/* Reports yajl's error for the current document or line; what: "malformed line", ... */
void npd_json_syntax_error(struct npd_json_decoder *d, const char *what);
/* Reports a value cut off at a bound (ev: TOO_BIG or TOO_DEEP), naming the object when its
 * kind, namespace or name arrived before the cut (obj: the partial tree, may be NULL). */
void npd_json_limit_error(struct npd_json_decoder *d, const struct npd_dnode *obj,
			  enum npd_jscan_ev ev);
/* json_list.c: OBJECT and LIST mode: n bytes of the document through the scanner, then
 * (unless cut) to yajl or the fast path; sets d->failed after a syntax error or a bound
 * crossed outside a list's items. */
void npd_json_feed_doc(struct npd_json_decoder *d, const unsigned char *p, size_t n);

#endif
