/* json_int.h: the byte scanner json.c runs ahead of yajl. yajl buffers a whole token (a
 * 100 MB string is one token) and keeps one byte per open container, so the size and the
 * depth of a value must be bounded before its bytes reach yajl. Private to lib/. */
#ifndef NPD_JSON_INT_H
#define NPD_JSON_INT_H

#include <stdbool.h>
#include <stddef.h>

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

#endif
