/* decode.c: the object builder both decoders drive, and the one place where Kubernetes
 * fields are mapped onto the model and validated. The builder keeps only what a schema
 * names and drops every other value as it streams by, so memory follows the kept fields of
 * one object. The converter never trusts the tree: each field's type is checked and every
 * problem becomes a diagnostic with the object's kind, namespace/name and field path.
 * No I/O, no parser library calls: json.c and yaml.c own those. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode_int.h"
#include "npd/addr.h"
#include "npd/buf.h"
#include "npd/mem.h"
#include "npd/selector.h"

/* Schemas: the fields netpold keeps, nothing more. Rule keys from/to are both accepted
 * in either direction by the builder; the converter reads only the right one. */
static const struct npd_schema s_scalar = {NPD_S_SCALAR, NULL, NULL, 0, false};
static const struct npd_schema s_scalars = {NPD_S_ARRAY, NULL, &s_scalar, NPD_DEC_MAX_ITEMS, false};
static const struct npd_schema s_labels = {NPD_S_ANYMAP, NULL, &s_scalar, 4096, false};

static const struct npd_schema_field f_expr[] = {
    {"key", &s_scalar}, {"operator", &s_scalar}, {"values", &s_scalars}, {NULL, NULL}};
static const struct npd_schema s_expr = {NPD_S_MAP, f_expr, NULL, 0, false};
static const struct npd_schema s_exprs = {NPD_S_ARRAY, NULL, &s_expr, NPD_DEC_MAX_ITEMS, false};
static const struct npd_schema_field f_selector[] = {
    {"matchLabels", &s_labels}, {"matchExpressions", &s_exprs}, {NULL, NULL}};
static const struct npd_schema s_selector = {NPD_S_MAP, f_selector, NULL, 0, false};

static const struct npd_schema_field f_ipblock[] = {
    {"cidr", &s_scalar}, {"except", &s_scalars}, {NULL, NULL}};
static const struct npd_schema s_ipblock = {NPD_S_MAP, f_ipblock, NULL, 0, false};
static const struct npd_schema_field f_peer[] = {{"podSelector", &s_selector},
						 {"namespaceSelector", &s_selector},
						 {"ipBlock", &s_ipblock},
						 {NULL, NULL}};
static const struct npd_schema s_peer = {NPD_S_MAP, f_peer, NULL, 0, false};
static const struct npd_schema s_peers = {NPD_S_ARRAY, NULL, &s_peer, NPD_DEC_MAX_ITEMS, false};
static const struct npd_schema_field f_port[] = {
    {"protocol", &s_scalar}, {"port", &s_scalar}, {"endPort", &s_scalar}, {NULL, NULL}};
static const struct npd_schema s_port = {NPD_S_MAP, f_port, NULL, 0, false};
static const struct npd_schema s_ports = {NPD_S_ARRAY, NULL, &s_port, NPD_DEC_MAX_ITEMS, false};
static const struct npd_schema_field f_rule[] = {
    {"from", &s_peers}, {"to", &s_peers}, {"ports", &s_ports}, {NULL, NULL}};
static const struct npd_schema s_rule = {NPD_S_MAP, f_rule, NULL, 0, false};
static const struct npd_schema s_rules = {NPD_S_ARRAY, NULL, &s_rule, NPD_DEC_MAX_RULES, false};

static const struct npd_schema_field f_cport[] = {
    {"name", &s_scalar}, {"containerPort", &s_scalar}, {"protocol", &s_scalar}, {NULL, NULL}};
static const struct npd_schema s_cport = {NPD_S_MAP, f_cport, NULL, 0, false};
static const struct npd_schema s_cports = {NPD_S_ARRAY, NULL, &s_cport, NPD_DEC_MAX_ITEMS, false};
static const struct npd_schema_field f_container[] = {{"ports", &s_cports}, {NULL, NULL}};
static const struct npd_schema s_container = {NPD_S_MAP, f_container, NULL, 0, false};
static const struct npd_schema s_containers = {NPD_S_ARRAY, NULL, &s_container, NPD_DEC_MAX_ITEMS,
					       false};

static const struct npd_schema_field f_spec[] = {
    {"nodeName", &s_scalar},	   {"hostNetwork", &s_scalar},
    {"containers", &s_containers}, {"podSelector", &s_selector},
    {"policyTypes", &s_scalars},   {"ingress", &s_rules},
    {"egress", &s_rules},	   {NULL, NULL}};
static const struct npd_schema s_spec = {NPD_S_MAP, f_spec, NULL, 0, false};

static const struct npd_schema_field f_podip[] = {{"ip", &s_scalar}, {NULL, NULL}};
static const struct npd_schema s_podip = {NPD_S_MAP, f_podip, NULL, 0, false};
static const struct npd_schema s_podips = {NPD_S_ARRAY, NULL, &s_podip, 16, false};
static const struct npd_schema_field f_status[] = {
    {"phase", &s_scalar}, {"podIP", &s_scalar}, {"podIPs", &s_podips}, {NULL, NULL}};
static const struct npd_schema s_status = {NPD_S_MAP, f_status, NULL, 0, false};

static const struct npd_schema_field f_meta[] = {
    {"name", &s_scalar},       {"namespace", &s_scalar},
    {"uid", &s_scalar},	       {"resourceVersion", &s_scalar},
    {"labels", &s_labels},     {"continue", &s_scalar},
    {"generation", &s_scalar}, {NULL, NULL}};
static const struct npd_schema s_meta = {NPD_S_MAP, f_meta, NULL, 0, false};

/* Status fields (code, reason, message) sit beside the object fields: an error body or a
 * watch ERROR event carries a Status where an object was expected. */
#define OBJECT_FIELDS                                                                              \
	{"apiVersion", &s_scalar}, {"kind", &s_scalar}, {"metadata", &s_meta}, {"spec", &s_spec},  \
	    {"status", &s_status}, {"code", &s_scalar}, {"reason", &s_scalar},                     \
	{                                                                                          \
		"message", &s_scalar                                                               \
	}

static const struct npd_schema_field f_object[] = {OBJECT_FIELDS, {NULL, NULL}};
const struct npd_schema npd_schema_object = {NPD_S_MAP, f_object, NULL, 0, false};

static const struct npd_schema s_items_stream = {NPD_S_ARRAY, NULL, &npd_schema_object, 0, true};
static const struct npd_schema_field f_list[] = {
    OBJECT_FIELDS, {"items", &s_items_stream}, {NULL, NULL}};
const struct npd_schema npd_schema_list = {NPD_S_MAP, f_list, NULL, 0, false};

static const struct npd_schema_field f_watch[] = {
    {"type", &s_scalar}, {"object", &npd_schema_object}, {NULL, NULL}};
const struct npd_schema npd_schema_watch = {NPD_S_MAP, f_watch, NULL, 0, false};

static const struct npd_schema s_items_kept = {NPD_S_ARRAY, NULL, &npd_schema_object, 0, false};
static const struct npd_schema_field f_yaml_doc[] = {
    OBJECT_FIELDS, {"items", &s_items_kept}, {NULL, NULL}};
const struct npd_schema npd_schema_yaml_doc = {NPD_S_MAP, f_yaml_doc, NULL, 0, false};

/* ---- builder ---- */

void
npd_dnode_free(struct npd_dnode *n)
{
	while (n) {
		struct npd_dnode *next = n->next;

		npd_dnode_free(n->child);
		free(n->key);
		free(n->text);
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
	free(b->key);
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
	free(b->stack);
	b->stack = NULL;
	b->cap = 0;
}

struct slot {
	const struct npd_schema *s;
	struct npd_dnode *parent;
	char *key;
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
			f->node->overflow = true;
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
		f->node->overflow = true;
		free(b->key);
		b->key = NULL;
		return false;
	}
	sl->s = b->key_s;
	sl->key = b->key;
	sl->parent = f->node;
	b->key = NULL;
	return true;
}

static struct npd_dnode *
slot_attach(struct npd_dec *b, struct slot *sl, enum npd_dtype t, int line)
{
	struct npd_dnode *n = npd_xcalloc(1, sizeof(*n));

	n->type = t;
	n->line = line;
	n->key = sl->key;
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
	n = slot_attach(b, &sl, t, line);
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
	free(b->key);
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
	free(b->key);
	b->key = NULL;
	b->key_s = NULL;
	if (f->s->type == NPD_S_ANYMAP) {
		b->key_s = f->s->elem;
	} else if (f->s->type == NPD_S_MAP) {
		for (fl = f->s->fields; fl->key; fl++)
			if (strlen(fl->key) == len && !memcmp(fl->key, s, len)) {
				b->key_s = fl->s;
				break;
			}
	} else {
		return;
	}
	if (b->key_s)
		b->key = npd_xstrndup(s, len);
	b->have_key = true;
}

void
npd_dec_scalar(struct npd_dec *b, enum npd_dtype t, const char *s, size_t len, int line)
{
	struct slot sl;
	struct npd_dnode *n;

	if (b->skip || !slot_open(b, &sl))
		return;
	n = slot_attach(b, &sl, t, line);
	if (len > NPD_DEC_MAX_SCALAR) {
		len = NPD_DEC_MAX_SCALAR;
		n->toolong = true;
	}
	n->text = npd_xstrndup(s ? s : "", s ? len : 0);
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

/* ---- converter ---- */

struct conv {
	struct npd_diags diags; /* this object's diagnostics, moved out at the end */
	const char *kind;
	const char *ns;
	const char *name;
	const char *file;
	struct npd_buf path;
	int nerr;
};

static size_t
path_key(struct conv *c, const char *key)
{
	size_t m = c->path.len;

	if (m)
		npd_buf_addc(&c->path, '.');
	npd_buf_adds(&c->path, key);
	return m;
}

static size_t
path_idx(struct conv *c, size_t i)
{
	size_t m = c->path.len;

	npd_buf_printf(&c->path, "[%zu]", i);
	return m;
}

static void
path_pop(struct conv *c, size_t m)
{
	c->path.len = m;
	if (c->path.data)
		c->path.data[m] = '\0';
}

static void cerr(struct conv *c, const struct npd_dnode *n, enum npd_diag_kind k, const char *fmt,
		 ...) __attribute__((format(printf, 4, 5)));

static void
cerr(struct conv *c, const struct npd_dnode *n, enum npd_diag_kind k, const char *fmt, ...)
{
	struct npd_buf msg;
	va_list ap;

	npd_buf_init(&msg);
	va_start(ap, fmt);
	npd_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	npd_diags_add(&c->diags, k, c->kind, c->ns, c->name, c->path.len ? c->path.data : NULL,
		      c->file, n ? n->line : 0, "%s", msg.data ? msg.data : "");
	npd_buf_fini(&msg);
	c->nerr++;
}

static const char *
dtype_name(enum npd_dtype t)
{
	static const char *const names[] = {"object", "array",	 "string", "integer",
					    "number", "boolean", "null",   "scalar"};

	return names[t];
}

static bool
is_null(const struct npd_dnode *n)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
	size_t i;

	if (!n || n->type == NPD_DT_NULL)
		return true;
	if (n->type != NPD_DT_PLAIN)
		return false;
	for (i = 0; i < NPD_ARRAY_SIZE(nulls); i++)
		if (!strcmp(n->text, nulls[i]))
			return true;
	return false;
}

/* 1: present with type t; 0: absent or null; -EINVAL: reported. */
static int
check_type(struct conv *c, const struct npd_dnode *n, enum npd_dtype t)
{
	if (is_null(n))
		return 0;
	if (n->type != t) {
		cerr(c, n, NPD_DIAG_TYPE, "expected %s, got %s", dtype_name(t),
		     dtype_name(n->type));
		return -EINVAL;
	}
	if (n->overflow) {
		cerr(c, n, NPD_DIAG_LIMIT, "more than %zu entries", n->n);
		return -EINVAL;
	}
	return 1;
}

static int
want_str(struct conv *c, const struct npd_dnode *n, const char **out)
{
	*out = NULL;
	if (is_null(n))
		return 0;
	if (n->type != NPD_DT_STRING && n->type != NPD_DT_PLAIN) {
		cerr(c, n, NPD_DIAG_TYPE, "expected string, got %s", dtype_name(n->type));
		return -EINVAL;
	}
	if (n->toolong) {
		cerr(c, n, NPD_DIAG_LIMIT, "string longer than %d bytes", NPD_DEC_MAX_SCALAR);
		return -EINVAL;
	}
	*out = n->text;
	return 0;
}

static int
field_str(struct conv *c, const struct npd_dnode *map, const char *key, const char **out)
{
	const struct npd_dnode *n = npd_dnode_get(map, key);
	size_t m;
	int rc;

	*out = NULL;
	if (!n)
		return 0;
	m = path_key(c, key);
	rc = want_str(c, n, out);
	path_pop(c, m);
	return rc;
}

/* Reads an integer field into *out; *present false when absent. */
static int
field_int(struct conv *c, const struct npd_dnode *map, const char *key, long long *out,
	  bool *present)
{
	const struct npd_dnode *n = npd_dnode_get(map, key);
	size_t m;
	int rc = 0;

	*present = false;
	if (is_null(n))
		return 0;
	m = path_key(c, key);
	if (npd_dnode_int(n, out) == 0) {
		*present = true;
	} else {
		cerr(c, n, NPD_DIAG_TYPE, "expected integer, got %s \"%s\"", dtype_name(n->type),
		     n->text ? n->text : "");
		rc = -EINVAL;
	}
	path_pop(c, m);
	return rc;
}

static int
field_bool(struct conv *c, const struct npd_dnode *map, const char *key, bool *out)
{
	/* YAML 1.1 booleans, as sigs.k8s.io/yaml reads manifests; JSON has only true/false. */
	static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes", "YES",
					  "on",	  "On",	  "ON",	  "y",	 "Y"};
	static const char *const no[] = {"false", "False", "FALSE", "no", "No", "NO",
					 "off",	  "Off",   "OFF",   "n",  "N"};
	const struct npd_dnode *n = npd_dnode_get(map, key);
	size_t i, m;
	int rc = -EINVAL;

	*out = false;
	if (is_null(n))
		return 0;
	if (n->type == NPD_DT_BOOL || n->type == NPD_DT_PLAIN) {
		for (i = 0; i < NPD_ARRAY_SIZE(yes); i++) {
			if (!strcmp(n->text, yes[i])) {
				*out = true;
				return 0;
			}
			if (!strcmp(n->text, no[i]))
				return 0;
		}
	}
	m = path_key(c, key);
	cerr(c, n, NPD_DIAG_TYPE, "expected boolean, got %s \"%s\"", dtype_name(n->type),
	     n->text ? n->text : "");
	path_pop(c, m);
	return rc;
}

/* Child map or array field: 1 present, 0 absent, -EINVAL reported. */
static int
field_node(struct conv *c, const struct npd_dnode *map, const char *key, enum npd_dtype t,
	   const struct npd_dnode **out)
{
	const struct npd_dnode *n = npd_dnode_get(map, key);
	size_t m;
	int rc;

	*out = NULL;
	if (!n)
		return 0;
	m = path_key(c, key);
	rc = check_type(c, n, t);
	path_pop(c, m);
	if (rc > 0)
		*out = n;
	return rc;
}

static int
conv_labels(struct conv *c, const struct npd_dnode *map, const char *key, bool validate,
	    struct npd_labels *out)
{
	const struct npd_dnode *n, *e;
	size_t m, m2;
	int rc;
	const char *v;

	rc = field_node(c, map, key, NPD_DT_MAP, &n);
	if (rc <= 0)
		return rc;
	m = path_key(c, key);
	rc = 0;
	for (e = n->child; e; e = e->next) {
		m2 = path_key(c, e->key);
		if (want_str(c, e, &v) < 0) {
			rc = -EINVAL;
		} else if (validate && !npd_is_label_key(e->key)) {
			cerr(c, e, NPD_DIAG_VALUE, "invalid label key \"%s\"", e->key);
			rc = -EINVAL;
		} else if (validate && !npd_is_label_value(v ? v : "")) {
			cerr(c, e, NPD_DIAG_VALUE, "invalid label value \"%s\"", v);
			rc = -EINVAL;
		} else {
			npd_labels_set(out, e->key, v ? v : "");
		}
		path_pop(c, m2);
	}
	path_pop(c, m);
	return rc;
}

/* npd_selector_validate knows no lines: give its diagnostics the selector's. */
static void
stamp_lines(struct conv *c, size_t from, const struct npd_dnode *n)
{
	size_t i;

	for (i = from; i < c->diags.n; i++) {
		struct npd_diag *dg = &c->diags.v[i];

		if (!dg->file)
			dg->file = npd_xstrdup(c->file);
		if (!dg->line && n)
			dg->line = n->line;
	}
}

static int
conv_expr(struct conv *c, const struct npd_dnode *n, struct npd_sel_expr *e)
{
	const struct npd_dnode *vals, *v;
	const char *key, *op;
	int rc = 0;
	size_t i, m;

	if (check_type(c, n, NPD_DT_MAP) <= 0) {
		if (is_null(n))
			cerr(c, n, NPD_DIAG_TYPE, "expected object, got null");
		return -EINVAL;
	}
	if (field_str(c, n, "key", &key) < 0 || field_str(c, n, "operator", &op) < 0)
		return -EINVAL;
	if (!key) {
		/* The API server requires a key; the selector's canonical order compares keys. */
		m = path_key(c, "key");
		cerr(c, n, NPD_DIAG_VALUE, "missing selector key");
		path_pop(c, m);
		return -EINVAL;
	}
	e->key = npd_xstrdup(key);
	if (!op) {
		m = path_key(c, "operator");
		cerr(c, n, NPD_DIAG_VALUE, "missing selector operator");
		path_pop(c, m);
		return -EINVAL;
	}
	if (npd_sel_op_parse(op, &e->op) < 0) {
		m = path_key(c, "operator");
		cerr(c, npd_dnode_get(n, "operator"), NPD_DIAG_VALUE,
		     "unknown selector operator \"%s\"", op);
		path_pop(c, m);
		return -EINVAL;
	}
	if (field_node(c, n, "values", NPD_DT_ARRAY, &vals) < 0)
		return -EINVAL;
	if (!vals)
		return 0;
	m = path_key(c, "values");
	e->values = vals->n ? npd_xcalloc(vals->n, sizeof(char *)) : NULL;
	for (i = 0, v = vals->child; v; v = v->next, i++) {
		size_t m2 = path_idx(c, i);
		const char *s;

		if (want_str(c, v, &s) < 0)
			rc = -EINVAL;
		else
			e->values[e->n_values++] = npd_xstrdup(s ? s : "");
		path_pop(c, m2);
	}
	path_pop(c, m);
	return rc;
}

/* Decodes the selector at map[key] (present, checked by the caller). */
static int
conv_selector(struct conv *c, const struct npd_dnode *map, const char *key,
	      struct npd_selector *sel)
{
	const struct npd_dnode *n = npd_dnode_get(map, key), *exprs, *e;
	size_t m, m2, i, before;
	int rc = 0;

	m = path_key(c, key);
	if (conv_labels(c, n, "matchLabels", false, &sel->match_labels) < 0)
		rc = -EINVAL;
	if (field_node(c, n, "matchExpressions", NPD_DT_ARRAY, &exprs) < 0)
		rc = -EINVAL;
	if (exprs) {
		m2 = path_key(c, "matchExpressions");
		sel->exprs = exprs->n ? npd_xcalloc(exprs->n, sizeof(*sel->exprs)) : NULL;
		for (i = 0, e = exprs->child; e; e = e->next, i++) {
			size_t m3 = path_idx(c, i);

			if (conv_expr(c, e, &sel->exprs[sel->n_exprs++]) < 0)
				rc = -EINVAL;
			path_pop(c, m3);
		}
		path_pop(c, m2);
	}
	if (rc == 0) {
		npd_selector_normalize(sel);
		before = c->diags.n;
		if (npd_selector_validate(sel, &c->diags, c->kind, c->ns, c->name, c->path.data) <
		    0) {
			stamp_lines(c, before, n);
			c->nerr++;
			rc = -EINVAL;
		}
	}
	path_pop(c, m);
	return rc;
}

static int
conv_ipblock(struct conv *c, const struct npd_dnode *ib, struct npd_peer *p)
{
	const struct npd_dnode *ex, *e;
	const char *s;
	size_t m, m2, i;
	int rc = 0;

	m = path_key(c, "ipBlock");
	p->kind = NPD_PEER_IPBLOCK;
	if (field_str(c, ib, "cidr", &s) < 0) {
		rc = -EINVAL;
	} else if (!s) {
		cerr(c, ib, NPD_DIAG_VALUE, "ipBlock without cidr");
		rc = -EINVAL;
	} else if (npd_cidr_parse(s, false, &p->cidr) < 0) {
		m2 = path_key(c, "cidr");
		cerr(c, npd_dnode_get(ib, "cidr"), NPD_DIAG_VALUE, "invalid CIDR \"%s\"", s);
		path_pop(c, m2);
		rc = -EINVAL;
	}
	if (field_node(c, ib, "except", NPD_DT_ARRAY, &ex) < 0)
		rc = -EINVAL;
	if (ex) {
		m2 = path_key(c, "except");
		p->except = ex->n ? npd_xcalloc(ex->n, sizeof(*p->except)) : NULL;
		for (i = 0, e = ex->child; e; e = e->next, i++) {
			size_t m3 = path_idx(c, i);
			struct npd_cidr x;

			if (want_str(c, e, &s) < 0) {
				rc = -EINVAL;
			} else if (!s || npd_cidr_parse(s, false, &x) < 0) {
				cerr(c, e, NPD_DIAG_VALUE, "invalid except CIDR \"%s\"",
				     s ? s : "");
				rc = -EINVAL;
			} else if (rc == 0 &&
				   (!npd_cidr_covers(&p->cidr, &x) || x.prefix <= p->cidr.prefix)) {
				/* The API server requires a strict subset of cidr. */
				cerr(c, e, NPD_DIAG_VALUE, "except \"%s\" is not inside cidr", s);
				rc = -EINVAL;
			} else {
				p->except[p->n_except++] = x;
			}
			path_pop(c, m3);
		}
		path_pop(c, m2);
	}
	path_pop(c, m);
	return rc;
}

static int
conv_peer(struct conv *c, const struct npd_dnode *n, struct npd_peer *p)
{
	const struct npd_dnode *ps, *nss, *ib;
	int rc = 0;

	if (check_type(c, n, NPD_DT_MAP) <= 0) {
		if (is_null(n))
			cerr(c, n, NPD_DIAG_TYPE, "expected object, got null");
		return -EINVAL;
	}
	if (field_node(c, n, "podSelector", NPD_DT_MAP, &ps) < 0 ||
	    field_node(c, n, "namespaceSelector", NPD_DT_MAP, &nss) < 0 ||
	    field_node(c, n, "ipBlock", NPD_DT_MAP, &ib) < 0)
		return -EINVAL;
	if (ib && (ps || nss)) {
		cerr(c, n, NPD_DIAG_VALUE,
		     "ipBlock may not be combined with podSelector or namespaceSelector");
		return -EINVAL;
	}
	if (ib)
		return conv_ipblock(c, ib, p);
	if (!ps && !nss) {
		cerr(c, n, NPD_DIAG_VALUE,
		     "peer must set podSelector, namespaceSelector or ipBlock");
		return -EINVAL;
	}
	p->kind = NPD_PEER_SELECTOR;
	if (ps) {
		p->has_pod_sel = true;
		if (conv_selector(c, n, "podSelector", &p->pod_sel) < 0)
			rc = -EINVAL;
	}
	if (nss) {
		p->has_ns_sel = true;
		if (conv_selector(c, n, "namespaceSelector", &p->ns_sel) < 0)
			rc = -EINVAL;
	}
	return rc;
}

static int
conv_port(struct conv *c, const struct npd_dnode *n, struct npd_port *p)
{
	const struct npd_dnode *pn;
	const char *proto;
	long long v, end;
	bool has_end;
	size_t m;

	if (check_type(c, n, NPD_DT_MAP) <= 0) {
		if (is_null(n))
			cerr(c, n, NPD_DIAG_TYPE, "expected object, got null");
		return -EINVAL;
	}
	p->proto = NPD_PROTO_TCP;
	if (field_str(c, n, "protocol", &proto) < 0)
		return -EINVAL;
	if (proto && npd_proto_parse(proto, &p->proto) < 0) {
		m = path_key(c, "protocol");
		cerr(c, npd_dnode_get(n, "protocol"), NPD_DIAG_VALUE,
		     "unknown protocol \"%s\" (want TCP, UDP or SCTP)", proto);
		path_pop(c, m);
		return -EINVAL;
	}
	pn = npd_dnode_get(n, "port");
	if (!is_null(pn)) {
		m = path_key(c, "port");
		if (npd_dnode_int(pn, &v) == 0) {
			if (v < 1 || v > 65535) {
				cerr(c, pn, NPD_DIAG_VALUE, "port %lld out of range 1-65535", v);
				path_pop(c, m);
				return -EINVAL;
			}
			p->port = (uint16_t)v;
		} else if (pn->type == NPD_DT_STRING || pn->type == NPD_DT_PLAIN) {
			/* IntOrString: a string is a named port, even when it looks numeric. */
			if (!npd_is_port_name(pn->text)) {
				cerr(c, pn, NPD_DIAG_VALUE, "invalid port name \"%s\"", pn->text);
				path_pop(c, m);
				return -EINVAL;
			}
			p->name = npd_xstrdup(pn->text);
		} else {
			cerr(c, pn, NPD_DIAG_TYPE, "expected integer or string, got %s",
			     dtype_name(pn->type));
			path_pop(c, m);
			return -EINVAL;
		}
		path_pop(c, m);
		p->has_port = true;
	}
	if (field_int(c, n, "endPort", &end, &has_end) < 0)
		return -EINVAL;
	if (!has_end)
		return 0;
	m = path_key(c, "endPort");
	if (!p->has_port || p->name) {
		cerr(c, npd_dnode_get(n, "endPort"), NPD_DIAG_VALUE,
		     "endPort requires a numeric port");
	} else if (end < p->port || end > 65535) {
		cerr(c, npd_dnode_get(n, "endPort"), NPD_DIAG_VALUE,
		     "endPort %lld must be between port %u and 65535", end, p->port);
	} else {
		p->end_port = (uint16_t)end;
		path_pop(c, m);
		return 0;
	}
	path_pop(c, m);
	return -EINVAL;
}

static int
conv_rule(struct conv *c, const struct npd_dnode *n, const char *peers_key,
	  struct npd_policy_rule *r)
{
	const struct npd_dnode *peers, *ports, *e;
	size_t m, i;
	int rc = 0;

	if (is_null(n))
		return 0; /* "- {}" and "-" both allow everything, as in the API */
	if (check_type(c, n, NPD_DT_MAP) < 0)
		return -EINVAL;
	if (field_node(c, n, peers_key, NPD_DT_ARRAY, &peers) < 0)
		rc = -EINVAL;
	if (peers) {
		m = path_key(c, peers_key);
		r->peers = peers->n ? npd_xcalloc(peers->n, sizeof(*r->peers)) : NULL;
		for (i = 0, e = peers->child; e; e = e->next, i++) {
			size_t m2 = path_idx(c, i);

			if (conv_peer(c, e, &r->peers[r->n_peers++]) < 0)
				rc = -EINVAL;
			path_pop(c, m2);
		}
		path_pop(c, m);
	}
	if (field_node(c, n, "ports", NPD_DT_ARRAY, &ports) < 0)
		rc = -EINVAL;
	if (ports) {
		m = path_key(c, "ports");
		r->ports = ports->n ? npd_xcalloc(ports->n, sizeof(*r->ports)) : NULL;
		for (i = 0, e = ports->child; e; e = e->next, i++) {
			size_t m2 = path_idx(c, i);

			if (conv_port(c, e, &r->ports[r->n_ports++]) < 0)
				rc = -EINVAL;
			path_pop(c, m2);
		}
		path_pop(c, m);
	}
	return rc;
}

static int
conv_rules(struct conv *c, const struct npd_dnode *spec, const char *key, const char *peers_key,
	   struct npd_policy_rule **out, size_t *n_out, bool *nonempty)
{
	const struct npd_dnode *rules = npd_dnode_get(spec, key), *e;
	size_t m, i;
	int rc;

	*nonempty = !is_null(rules) && (rules->type != NPD_DT_ARRAY || rules->n > 0);
	m = path_key(c, key);
	rc = check_type(c, rules, NPD_DT_ARRAY);
	if (rc > 0) {
		rc = 0;
		*out = rules->n ? npd_xcalloc(rules->n, sizeof(**out)) : NULL;
		for (i = 0, e = rules->child; e; e = e->next, i++) {
			size_t m2 = path_idx(c, i);

			if (conv_rule(c, e, peers_key, &(*out)[(*n_out)++]) < 0)
				rc = -EINVAL;
			path_pop(c, m2);
		}
	}
	path_pop(c, m);
	return rc;
}

static void
drop_rules(struct npd_policy_rule **v, size_t *n)
{
	size_t i;

	for (i = 0; i < *n; i++)
		npd_policy_rule_fini(&(*v)[i]);
	free(*v);
	*v = NULL;
	*n = 0;
}

static int
conv_policy(struct conv *c, const struct npd_dnode *root, struct npd_policy *pol)
{
	const struct npd_dnode *spec, *types, *e;
	size_t m, i, before;
	bool ing_ne, eg_ne, any_types = false;
	int rc = 0;

	if (field_node(c, root, "spec", NPD_DT_MAP, &spec) < 0)
		return -EINVAL;
	m = path_key(c, "spec");
	if (field_node(c, spec, "podSelector", NPD_DT_MAP, &e) < 0 ||
	    (e && conv_selector(c, spec, "podSelector", &pol->pod_sel) < 0) ||
	    field_node(c, spec, "policyTypes", NPD_DT_ARRAY, &types) < 0) {
		path_pop(c, m);
		return -EINVAL;
	}
	path_pop(c, m);
	if (types) {
		m = path_key(c, "spec.policyTypes");
		for (i = 0, e = types->child; e; e = e->next, i++) {
			size_t m2 = path_idx(c, i);
			const char *t;

			if (want_str(c, e, &t) < 0) {
				rc = -EINVAL;
			} else if (t && !strcmp(t, "Ingress")) {
				pol->isolates_ingress = any_types = true;
			} else if (t && !strcmp(t, "Egress")) {
				pol->isolates_egress = any_types = true;
			} else {
				cerr(c, e, NPD_DIAG_VALUE,
				     "unknown policy type \"%s\" (want Ingress or Egress)",
				     t ? t : "");
				rc = -EINVAL;
			}
			path_pop(c, m2);
		}
		path_pop(c, m);
		if (rc < 0)
			return rc;
	}

	before = c->diags.n;
	m = path_key(c, "spec");
	if (conv_rules(c, spec, "ingress", "from", &pol->ingress, &pol->n_ingress, &ing_ne) < 0)
		rc = -EINVAL;
	if (conv_rules(c, spec, "egress", "to", &pol->egress, &pol->n_egress, &eg_ne) < 0)
		rc = -EINVAL;
	path_pop(c, m);
	(void)ing_ne;
	if (!any_types) {
		/* The API server's default: Ingress always, Egress when egress rules exist. A
		 * malformed egress field counts as present: isolating more never widens. */
		pol->isolates_ingress = true;
		pol->isolates_egress = eg_ne;
	}
	if (rc < 0) {
		const struct npd_diag *dg = before < c->diags.n ? &c->diags.v[before] : NULL;

		pol->invalid = true;
		pol->invalid_reason =
		    dg ? npd_xasprintf("%s: %s", dg->path ? dg->path : "spec", dg->msg)
		       : npd_xstrdup("invalid rule");
		drop_rules(&pol->ingress, &pol->n_ingress);
		drop_rules(&pol->egress, &pol->n_egress);
	}
	return 0;
}

static int
parse_ips(struct conv *c, const struct npd_dnode *status, struct npd_pod *pod)
{
	const struct npd_dnode *ips, *e;
	const char *s;
	size_t m, i, j, cap = 0;
	struct npd_addr a;
	int rc = 0;

	if (field_node(c, status, "podIPs", NPD_DT_ARRAY, &ips) < 0)
		return -EINVAL;
	for (i = 0, e = ips ? ips->child : NULL; e; e = e->next, i++) {
		m = path_key(c, "podIPs");
		path_idx(c, i);
		if (check_type(c, e, NPD_DT_MAP) < 0 || field_str(c, e, "ip", &s) < 0) {
			rc = -EINVAL;
		} else if (s && npd_addr_parse(s, &a) < 0) {
			path_key(c, "ip");
			cerr(c, npd_dnode_get(e, "ip"), NPD_DIAG_VALUE, "invalid IP \"%s\"", s);
			rc = -EINVAL;
		} else if (s) {
			for (j = 0; j < pod->n_ips; j++)
				if (!npd_addr_cmp(&pod->ips[j], &a))
					break;
			if (j == pod->n_ips) {
				npd_xgrow(&pod->ips, &cap, pod->n_ips + 1, sizeof(*pod->ips));
				pod->ips[pod->n_ips++] = a;
			}
		}
		path_pop(c, m);
	}
	if (field_str(c, status, "podIP", &s) < 0)
		return -EINVAL;
	if (s && npd_addr_parse(s, &a) < 0) {
		m = path_key(c, "podIP");
		cerr(c, npd_dnode_get(status, "podIP"), NPD_DIAG_VALUE, "invalid IP \"%s\"", s);
		path_pop(c, m);
		return -EINVAL;
	}
	/* podIPs wins; podIP is the fallback for old API servers. */
	if (s && pod->n_ips == 0) {
		pod->ips = npd_xcalloc(1, sizeof(*pod->ips));
		pod->ips[pod->n_ips++] = a;
	}
	return rc;
}

static int
conv_cports(struct conv *c, const struct npd_dnode *ctr, struct npd_pod *pod, size_t *cap)
{
	const struct npd_dnode *ports, *e;
	size_t m, i;
	int rc = 0;

	if (check_type(c, ctr, NPD_DT_MAP) < 0)
		return -EINVAL;
	rc = field_node(c, ctr, "ports", NPD_DT_ARRAY, &ports);
	if (rc <= 0)
		return rc;
	rc = 0;
	m = path_key(c, "ports");
	for (i = 0, e = ports->child; e; e = e->next, i++) {
		size_t m2 = path_idx(c, i);
		struct npd_container_port cp = {NULL, 0, NPD_PROTO_TCP};
		const char *name, *proto;
		long long v;
		bool has;

		if (check_type(c, e, NPD_DT_MAP) <= 0 || field_str(c, e, "name", &name) < 0 ||
		    field_str(c, e, "protocol", &proto) < 0 ||
		    field_int(c, e, "containerPort", &v, &has) < 0) {
			if (is_null(e))
				cerr(c, e, NPD_DIAG_TYPE, "expected object, got null");
			rc = -EINVAL;
		} else if (!has || v < 1 || v > 65535) {
			path_key(c, "containerPort");
			cerr(c, e, NPD_DIAG_VALUE, "containerPort missing or out of range 1-65535");
			rc = -EINVAL;
		} else if (name && !npd_is_port_name(name)) {
			path_key(c, "name");
			cerr(c, e, NPD_DIAG_VALUE, "invalid port name \"%s\"", name);
			rc = -EINVAL;
		} else if (proto && npd_proto_parse(proto, &cp.proto) < 0) {
			path_key(c, "protocol");
			cerr(c, e, NPD_DIAG_VALUE, "unknown protocol \"%s\"", proto);
			rc = -EINVAL;
		} else {
			cp.port = (uint16_t)v;
			cp.name = npd_xstrdup(name);
			npd_xgrow(&pod->ports, cap, pod->n_ports + 1, sizeof(*pod->ports));
			pod->ports[pod->n_ports++] = cp;
		}
		path_pop(c, m2);
	}
	path_pop(c, m);
	return rc;
}

static int
conv_pod(struct conv *c, const struct npd_dnode *root, struct npd_pod *pod)
{
	const struct npd_dnode *spec, *status, *ctrs, *e;
	const char *s;
	size_t m, i, cap = 0;
	int rc = 0;

	if (field_node(c, root, "spec", NPD_DT_MAP, &spec) < 0 ||
	    field_node(c, root, "status", NPD_DT_MAP, &status) < 0)
		return -EINVAL;
	m = path_key(c, "spec");
	if (field_str(c, spec, "nodeName", &s) < 0 ||
	    field_bool(c, spec, "hostNetwork", &pod->host_network) < 0 ||
	    field_node(c, spec, "containers", NPD_DT_ARRAY, &ctrs) < 0) {
		path_pop(c, m);
		return -EINVAL;
	}
	pod->node = npd_xstrdup(s);
	if (ctrs) {
		size_t m2 = path_key(c, "containers");

		for (i = 0, e = ctrs->child; e; e = e->next, i++) {
			size_t m3 = path_idx(c, i);

			if (conv_cports(c, e, pod, &cap) < 0)
				rc = -EINVAL;
			path_pop(c, m3);
		}
		path_pop(c, m2);
	}
	path_pop(c, m);
	if (rc < 0)
		return rc;

	m = path_key(c, "status");
	if (field_str(c, status, "phase", &s) < 0) {
		rc = -EINVAL;
	} else if (s && npd_phase_parse(s, &pod->phase) < 0) {
		path_key(c, "phase");
		cerr(c, npd_dnode_get(status, "phase"), NPD_DIAG_VALUE, "unknown phase \"%s\"", s);
		rc = -EINVAL;
	} else if (parse_ips(c, status, pod) < 0) {
		rc = -EINVAL;
	}
	path_pop(c, m);
	return rc;
}

static int
kind_from_name(const char *kind, enum npd_kind *out)
{
	enum npd_kind k;

	for (k = 0; k < NPD_KIND__COUNT; k++)
		if (!strcmp(kind, npd_kind_name(k))) {
			*out = k;
			return 0;
		}
	return -ENOENT;
}

/* Resolves the object's kind. YAML: only v1 Namespace/Pod and networking.k8s.io/v1
 * NetworkPolicy, anything else skipped silently (-ENOENT). */
static int
resolve_kind(struct conv *c, const struct npd_dnode *n, const struct npd_dec_opts *o,
	     enum npd_kind *out)
{
	const char *kind = npd_dnode_strp(n, "kind", NULL);
	const char *api = npd_dnode_strp(n, "apiVersion", NULL);
	enum npd_kind k;

	if (o->yaml) {
		if (!kind) {
			cerr(c, n, NPD_DIAG_UNSUPPORTED, "document has no kind");
			return -EINVAL;
		}
		if (kind_from_name(kind, &k) < 0 || !api)
			return -ENOENT;
		if (strcmp(api, k == NPD_KIND_POLICY ? "networking.k8s.io/v1" : "v1"))
			return -ENOENT;
		*out = k;
		return 0;
	}
	if (!kind) {
		if (!o->has_default_kind) {
			cerr(c, n, NPD_DIAG_UNSUPPORTED, "object has no kind");
			return -EINVAL;
		}
		*out = o->default_kind;
		return 0;
	}
	if (kind_from_name(kind, out) < 0) {
		cerr(c, n, NPD_DIAG_UNSUPPORTED, "unexpected kind \"%s\"", kind);
		return -EINVAL;
	}
	return 0;
}

int
npd_dec_convert(const struct npd_dnode *n, const struct npd_dec_opts *o, struct npd_object *out,
		struct npd_diags *d)
{
	struct conv c;
	struct npd_object obj = {NPD_KIND__COUNT, {NULL}};
	const struct npd_dnode *meta;
	const char *name, *ns, *uid, *rv;
	bool has_gen;
	enum npd_kind k;
	int rc;

	memset(&c, 0, sizeof(c));
	npd_diags_init(&c.diags);
	npd_buf_init(&c.path);
	c.file = o->file;
	if (check_type(&c, n, NPD_DT_MAP) <= 0) {
		if (is_null(n))
			cerr(&c, n, NPD_DIAG_TYPE, "expected object, got null");
		rc = -EINVAL;
		goto out;
	}
	rc = resolve_kind(&c, n, o, &k);
	if (rc < 0)
		goto out;
	c.kind = npd_kind_name(k);
	c.name = npd_dnode_strp(n, "metadata", "name", NULL);
	c.ns = k == NPD_KIND_NAMESPACE ? NULL : npd_dnode_strp(n, "metadata", "namespace", NULL);
	if (k != NPD_KIND_NAMESPACE && !c.ns)
		c.ns = o->default_ns;
	rc = -EINVAL;
	if (field_node(&c, n, "metadata", NPD_DT_MAP, &meta) < 0)
		goto out;
	path_key(&c, "metadata");
	if (field_str(&c, meta, "name", &name) < 0 || field_str(&c, meta, "namespace", &ns) < 0 ||
	    field_str(&c, meta, "uid", &uid) < 0 || field_str(&c, meta, "resourceVersion", &rv) < 0)
		goto out;
	if (!name || !*name) {
		path_key(&c, "name");
		cerr(&c, meta ? meta : n, NPD_DIAG_VALUE, "missing metadata.name");
		goto out;
	}
	if (k != NPD_KIND_NAMESPACE && !c.ns) {
		path_key(&c, "namespace");
		cerr(&c, meta, NPD_DIAG_VALUE, "missing metadata.namespace");
		goto out;
	}
	obj.kind = k;
	switch (k) {
	case NPD_KIND_NAMESPACE:
		obj.u.ns = npd_namespace_new();
		obj.u.ns->name = npd_xstrdup(name);
		obj.u.ns->uid = npd_xstrdup(uid);
		obj.u.ns->rv = npd_xstrdup(rv);
		if (conv_labels(&c, meta, "labels", true, &obj.u.ns->labels) < 0)
			goto out;
		/* The API server labels every namespace with its own name. */
		if (!npd_labels_get(&obj.u.ns->labels, "kubernetes.io/metadata.name"))
			npd_labels_set(&obj.u.ns->labels, "kubernetes.io/metadata.name", name);
		break;
	case NPD_KIND_POD:
		obj.u.pod = npd_pod_new();
		obj.u.pod->name = npd_xstrdup(name);
		obj.u.pod->ns = npd_xstrdup(c.ns);
		obj.u.pod->uid = npd_xstrdup(uid);
		obj.u.pod->rv = npd_xstrdup(rv);
		if (conv_labels(&c, meta, "labels", true, &obj.u.pod->labels) < 0)
			goto out;
		path_pop(&c, 0);
		if (conv_pod(&c, n, obj.u.pod) < 0)
			goto out;
		break;
	case NPD_KIND_POLICY:
		obj.u.policy = npd_policy_new();
		obj.u.policy->name = npd_xstrdup(name);
		obj.u.policy->ns = npd_xstrdup(c.ns);
		obj.u.policy->uid = npd_xstrdup(uid);
		obj.u.policy->rv = npd_xstrdup(rv);
		if (field_int(&c, meta, "generation", &obj.u.policy->generation, &has_gen) < 0)
			goto out;
		path_pop(&c, 0);
		if (conv_policy(&c, n, obj.u.policy) < 0)
			goto out;
		break;
	case NPD_KIND__COUNT:
		goto out;
	}
	*out = obj;
	obj.u.ns = NULL;
	rc = 0;
out:
	if (obj.u.ns)
		npd_object_fini(&obj);
	if (d && c.diags.n)
		npd_diags_move(d, &c.diags);
	npd_diags_fini(&c.diags);
	npd_buf_fini(&c.path);
	return rc;
}
