/* decode.c: the object builder both decoders drive. It keeps only what a schema names and
 * drops every other value as it streams by, so memory follows the kept fields of one
 * object; the tree queries read the result. No I/O, no parser library calls: json.c and
 * yaml.c own those; the converter (decode_field.c, decode_policy.c, decode_object.c) maps
 * a finished tree onto the model. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode_int.h"
#include "npd/mem.h"

void
npd_dnode_free(struct npd_dnode *n)
{
	while (n) {
		struct npd_dnode *next = n->next;

		npd_dnode_free(n->child);
		free(n);
		n = next;
	}
}

void
npd_dec_init(struct npd_dec *b, const struct npd_schema *root, npd_dec_item_fn on_item, void *ctx)
{
	memset(b, 0, sizeof(*b));
	b->root_schema = root;
	b->on_item = on_item;
	b->item_ctx = ctx;
}

void
npd_dec_reset(struct npd_dec *b)
{
	size_t i;

	/* Item nodes on the stack are not linked into the tree: free them separately. */
	for (i = 0; i < b->depth; i++)
		if (b->stack[i].item)
			npd_dnode_free(b->stack[i].node);
	npd_dnode_free(b->root);
	b->root = NULL;
	b->key = NULL;
	b->key_s = NULL;
	b->depth = 0;
	b->skip = 0;
	b->have_key = false;
	b->done = false;
}

void
npd_dec_fini(struct npd_dec *b)
{
	npd_dec_reset(b);
	npd_buf_fini(&b->key_buf);
	free(b->stack);
	b->stack = NULL;
	b->cap = 0;
}

struct slot {
	const struct npd_schema *s;
	struct npd_dnode *parent;
	const char *key; /* in b->key_buf, until the node is attached */
	bool item;
};

/* Decides where the value that starts now belongs. False: it is to be skipped. */
static bool
slot_open(struct npd_dec *b, struct slot *sl)
{
	struct npd_dec_frame *f;

	memset(sl, 0, sizeof(*sl));
	if (b->done)
		return false;
	if (b->depth == 0) {
		if (b->root)
			return false;
		sl->s = b->root_schema;
		return true;
	}
	f = &b->stack[b->depth - 1];
	if (f->s->type == NPD_S_ARRAY) {
		if (f->s->cap && f->node->n >= f->s->cap) {
			f->node->overflow = f->s->limit;
			return false;
		}
		sl->s = f->s->elem;
		sl->parent = f->node;
		sl->item = f->s->item;
		return true;
	}
	if (!b->have_key)
		return false;
	b->have_key = false;
	if (!b->key_s)
		return false;
	if (f->s->cap && f->node->n >= f->s->cap) {
		f->node->overflow = f->s->limit;
		b->key = NULL;
		return false;
	}
	sl->s = b->key_s;
	sl->key = b->key;
	sl->parent = f->node;
	b->key = NULL;
	return true;
}

/* A node with its key and text in the same block as itself: one allocation per kept
 * value, and one free. text may be NULL (a container); it is copied up to a NUL. */
static struct npd_dnode *
node_new(enum npd_dtype t, int line, const char *key, const char *text, size_t len)
{
	size_t klen = key ? strlen(key) + 1 : 0, tlen = text ? strnlen(text, len) : 0;
	struct npd_dnode *n = npd_xcalloc(1, sizeof(*n) + klen + (text ? tlen + 1 : 0));
	char *p = (char *)(n + 1);

	n->type = t;
	n->line = line;
	if (key) {
		n->key = p;
		memcpy(p, key, klen);
		p += klen;
	}
	if (text) {
		n->text = p;
		memcpy(p, text, tlen);
		p[tlen] = '\0';
	}
	return n;
}

static struct npd_dnode *
slot_attach(struct npd_dec *b, struct slot *sl, enum npd_dtype t, int line, const char *text,
	    size_t len)
{
	struct npd_dnode *n = node_new(t, line, sl->key, text, len);

	if (!sl->parent) {
		b->root = n;
		return n;
	}
	sl->parent->n++;
	if (sl->item)
		return n;
	if (sl->parent->last)
		sl->parent->last->next = n;
	else
		sl->parent->child = n;
	sl->parent->last = n;
	return n;
}

static void
deliver_item(struct npd_dec *b, struct npd_dnode *n)
{
	if (b->on_item)
		b->on_item(n, b->item_ctx);
	npd_dnode_free(n);
}

static void
container_start(struct npd_dec *b, enum npd_dtype t, int line)
{
	struct slot sl;
	struct npd_dnode *n;
	bool fits;

	if (b->skip) {
		b->skip++;
		return;
	}
	if (!slot_open(b, &sl)) {
		b->skip = 1;
		return;
	}
	n = slot_attach(b, &sl, t, line, NULL, 0);
	if (t == NPD_DT_MAP)
		fits = sl.s->type == NPD_S_MAP || sl.s->type == NPD_S_ANYMAP;
	else
		fits = sl.s->type == NPD_S_ARRAY;
	if (!fits) {
		/* Kept empty so the converter reports the type error; contents skipped. */
		b->skip = 1;
		if (sl.item)
			deliver_item(b, n);
		return;
	}
	npd_xgrow(&b->stack, &b->cap, b->depth + 1, sizeof(*b->stack));
	b->stack[b->depth].s = sl.s;
	b->stack[b->depth].node = n;
	b->stack[b->depth].item = sl.item;
	b->depth++;
}

static void
container_end(struct npd_dec *b)
{
	struct npd_dec_frame f;

	if (b->skip) {
		if (--b->skip == 0 && b->depth == 0)
			b->done = true;
		return;
	}
	if (!b->depth)
		return;
	f = b->stack[--b->depth];
	b->key = NULL;
	b->have_key = false;
	if (f.item)
		deliver_item(b, f.node);
	if (b->depth == 0)
		b->done = true;
}

void
npd_dec_map_start(struct npd_dec *b, int line)
{
	container_start(b, NPD_DT_MAP, line);
}

void
npd_dec_map_end(struct npd_dec *b)
{
	container_end(b);
}

void
npd_dec_array_start(struct npd_dec *b, int line)
{
	container_start(b, NPD_DT_ARRAY, line);
}

void
npd_dec_array_end(struct npd_dec *b)
{
	container_end(b);
}

void
npd_dec_key(struct npd_dec *b, const char *s, size_t len)
{
	const struct npd_dec_frame *f;
	const struct npd_schema_field *fl;

	if (b->skip || !b->depth)
		return;
	f = &b->stack[b->depth - 1];
	b->key = NULL;
	b->key_s = NULL;
	if (f->s->type == NPD_S_ANYMAP) {
		b->key_s = f->s->elem;
	} else if (f->s->type == NPD_S_MAP) {
		/* The first byte rules out most fields before a strlen. */
		for (fl = f->s->fields; fl->key; fl++)
			if (fl->key[0] == (len ? s[0] : '\0') && strlen(fl->key) == len &&
			    !memcmp(fl->key, s, len)) {
				b->key_s = fl->s;
				break;
			}
	} else {
		return;
	}
	if (b->key_s) {
		/* Copied up to a NUL, as the node will be; the buffer is reused key after key. */
		b->key_buf.len = 0;
		npd_buf_add(&b->key_buf, s, strnlen(s, len));
		b->key = b->key_buf.data;
	}
	b->have_key = true;
}

void
npd_dec_scalar(struct npd_dec *b, enum npd_dtype t, const char *s, size_t len, int line)
{
	struct slot sl;
	struct npd_dnode *n;

	if (b->skip || !slot_open(b, &sl))
		return;
	if (len > NPD_DEC_MAX_SCALAR)
		n = slot_attach(b, &sl, t, line, s ? s : "", s ? NPD_DEC_MAX_SCALAR : 0);
	else
		n = slot_attach(b, &sl, t, line, s ? s : "", s ? len : 0);
	n->toolong = len > NPD_DEC_MAX_SCALAR;
	if (sl.item)
		deliver_item(b, n);
	else if (!sl.parent)
		b->done = true;
}

bool
npd_dec_wants_key(const struct npd_dec *b)
{
	const struct npd_schema *s;

	if (b->skip || !b->depth || b->have_key)
		return false;
	s = b->stack[b->depth - 1].s;
	return s->type == NPD_S_MAP || s->type == NPD_S_ANYMAP;
}

void
npd_dec_mark(const struct npd_dec *b, struct npd_dec_mark *m)
{
	m->depth = b->depth;
	m->skip = b->skip;
	m->n = b->depth ? b->stack[b->depth - 1].node->n : 0;
	m->last = b->depth ? b->stack[b->depth - 1].node->last : NULL;
	m->root = b->root != NULL;
}

struct npd_dnode *
npd_dec_unwind(struct npd_dec *b, const struct npd_dec_mark *m)
{
	struct npd_dnode *item = NULL;

	/* Frames above the mark belong to the dropped value. Only its outermost node can be an
	 * item (unlinked); nodes inside are linked under it, or into the tree when the value is
	 * not an item, where they stay as a truncated but well-formed part. */
	if (b->depth > m->depth && b->stack[m->depth].item)
		item = b->stack[m->depth].node;
	b->depth = m->depth;
	b->skip = m->skip;
	b->key = NULL;
	b->key_s = NULL;
	b->have_key = false;
	return item;
}

void
npd_dec_rewind(struct npd_dec *b, const struct npd_dec_mark *m)
{
	struct npd_dnode *parent, *extra;

	npd_dnode_free(npd_dec_unwind(b, m));
	if (!b->depth) {
		if (!m->root) {
			npd_dnode_free(b->root);
			b->root = NULL;
			b->done = false;
		}
		return;
	}
	/* A value that is not an item was linked under its parent: unlink it. */
	parent = b->stack[b->depth - 1].node;
	extra = m->last ? m->last->next : parent->child;
	if (m->last)
		m->last->next = NULL;
	else
		parent->child = NULL;
	parent->last = m->last;
	npd_dnode_free(extra);
	parent->n = m->n;
}

struct npd_dnode *
npd_dec_take_root(struct npd_dec *b)
{
	struct npd_dnode *n = b->done ? b->root : NULL;

	if (n)
		b->root = NULL;
	return n;
}

/* ---- tree queries ---- */

const struct npd_dnode *
npd_dnode_get(const struct npd_dnode *n, const char *key)
{
	const struct npd_dnode *c, *found = NULL;

	if (!n || n->type != NPD_DT_MAP)
		return NULL;
	/* Duplicate keys: the last one wins, as in Go's decoders. */
	for (c = n->child; c; c = c->next)
		if (c->key && !strcmp(c->key, key))
			found = c;
	return found;
}

const char *
npd_dnode_str(const struct npd_dnode *n)
{
	if (!n || (n->type != NPD_DT_STRING && n->type != NPD_DT_PLAIN))
		return NULL;
	return n->text;
}

const char *
npd_dnode_strp(const struct npd_dnode *n, ...)
{
	va_list ap;
	const char *k;

	va_start(ap, n);
	while (n && (k = va_arg(ap, const char *)))
		n = npd_dnode_get(n, k);
	va_end(ap);
	return npd_dnode_str(n);
}

int
npd_dnode_int(const struct npd_dnode *n, long long *out)
{
	char *end;
	long long v;

	if (!n || (n->type != NPD_DT_INT && n->type != NPD_DT_PLAIN) || !n->text[0])
		return -EINVAL;
	errno = 0;
	v = strtoll(n->text, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*out = v;
	return 0;
}
