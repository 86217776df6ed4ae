/* decode_int.h: the object builder shared by the JSON (yajl) and YAML (libyaml) decoders.
 * A parser drives the builder with structural events; the builder keeps only the fields a
 * schema names (a pruned tree of "dnodes"), skips everything else without storing it, and
 * a converter maps a finished tree onto the object model with diagnostics. Private to lib/. */
#ifndef NPD_DECODE_INT_H
#define NPD_DECODE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "npd/diag.h"
#include "npd/model.h"

/* Type of a value as the parser saw it. PLAIN is an untyped YAML scalar: the converter
 * interprets it by the type the field expects. */
enum npd_dtype {
	NPD_DT_MAP,
	NPD_DT_ARRAY,
	NPD_DT_STRING,
	NPD_DT_INT,
	NPD_DT_DOUBLE,
	NPD_DT_BOOL,
	NPD_DT_NULL,
	NPD_DT_PLAIN,
};

/* One kept value. Containers whose type did not match the schema are kept empty (their
 * contents skipped) so that the converter can report the type error with its path. */
struct npd_dnode {
	enum npd_dtype type;
	bool overflow; /* more entries arrived than the schema's cap; the rest were dropped */
	bool toolong;  /* scalar longer than NPD_DEC_MAX_SCALAR; text is truncated */
	int line;      /* 1-based source line (YAML), 0 when unknown */
	char *key;     /* key in the parent map, NULL in arrays */
	char *text;    /* scalar text (NUL-terminated), NULL for containers */
	struct npd_dnode *child, *last, *next;
	size_t n; /* number of children, including dropped ITEM children */
};

#define NPD_DEC_MAX_SCALAR 4096
#define NPD_DEC_MAX_RULES 1000 /* rules per direction */
#define NPD_DEC_MAX_ITEMS 1000 /* peers or ports per rule, except entries, values */

enum npd_schema_type {
	NPD_S_SCALAR,
	NPD_S_MAP,    /* fixed keys, listed in fields */
	NPD_S_ANYMAP, /* any key, each value of schema elem */
	NPD_S_ARRAY,  /* elements of schema elem */
};

struct npd_schema_field;

struct npd_schema {
	enum npd_schema_type type;
	const struct npd_schema_field *fields; /* NPD_S_MAP, terminated by a NULL key */
	const struct npd_schema *elem;	       /* NPD_S_ANYMAP, NPD_S_ARRAY */
	size_t cap;			       /* max kept entries, 0 unlimited */
	bool item;			       /* elements are handed to on_item then freed */
};

struct npd_schema_field {
	const char *key;
	const struct npd_schema *s;
};

/* Root schemas: one API object (also a Status); a *List whose items are handed out one
 * at a time; one watch event line; one YAML document (an object or a kind: List). */
extern const struct npd_schema npd_schema_object;
extern const struct npd_schema npd_schema_list;
extern const struct npd_schema npd_schema_watch;
extern const struct npd_schema npd_schema_yaml_doc;

typedef void (*npd_dec_item_fn)(struct npd_dnode *item, void *ctx);

struct npd_dec_frame {
	const struct npd_schema *s;
	struct npd_dnode *node;
	bool item;
};

/* Builder state; caller storage. */
struct npd_dec {
	const struct npd_schema *root_schema;
	struct npd_dnode *root;
	struct npd_dec_frame *stack;
	size_t depth, cap;
	size_t skip;   /* depth inside a skipped container */
	bool have_key; /* a key arrived in the top map frame, its value pending */
	char *key;     /* that key (NULL when the value is to be skipped) */
	const struct npd_schema *key_s;
	bool done; /* the root value is complete */
	npd_dec_item_fn on_item;
	void *item_ctx;
};

void npd_dec_init(struct npd_dec *b, const struct npd_schema *root, npd_dec_item_fn on_item,
		  void *ctx);
/* Frees the partial tree and resets to expect a new root value. */
void npd_dec_reset(struct npd_dec *b);
void npd_dec_fini(struct npd_dec *b);
/* Structural events. line is 1-based or 0. */
void npd_dec_map_start(struct npd_dec *b, int line);
void npd_dec_map_end(struct npd_dec *b);
void npd_dec_array_start(struct npd_dec *b, int line);
void npd_dec_array_end(struct npd_dec *b);
void npd_dec_key(struct npd_dec *b, const char *s, size_t len);
void npd_dec_scalar(struct npd_dec *b, enum npd_dtype t, const char *s, size_t len, int line);
/* True when the next scalar in the current map is a key (drives YAML, whose scalars do
 * not say whether they are keys). */
bool npd_dec_wants_key(const struct npd_dec *b);
/* Hands the finished root tree to the caller (owned; free with npd_dnode_free), or NULL. */
struct npd_dnode *npd_dec_take_root(struct npd_dec *b);

void npd_dnode_free(struct npd_dnode *n);
/* The last child of map n under key, or NULL (also when n is NULL or not a map). */
const struct npd_dnode *npd_dnode_get(const struct npd_dnode *n, const char *key);
/* The text of a string or plain scalar, else NULL. */
const char *npd_dnode_str(const struct npd_dnode *n);
/* Follows a path of keys ("metadata", "name", NULL) and returns the string there. */
const char *npd_dnode_strp(const struct npd_dnode *n, ...) __attribute__((sentinel));
/* An integer scalar (JSON number or plain YAML); 0 or -EINVAL. */
int npd_dnode_int(const struct npd_dnode *n, long long *out);

struct npd_dec_opts {
	enum npd_kind default_kind; /* used when the object has no kind */
	bool has_default_kind;
	const char *default_ns; /* for namespaced objects without one ("default" in YAML) */
	const char *file;	/* for diagnostics */
	bool yaml;		/* apiVersion/kind checked; other kinds skipped silently */
};

/* Converts one object tree into out. Returns 0; -ENOENT when the object is of a kind that
 * is skipped silently; -EINVAL when it was reported to d (which may be NULL) and skipped.
 * A policy with a bad rule is returned (0) with invalid set, and reported. */
int npd_dec_convert(const struct npd_dnode *n, const struct npd_dec_opts *o, struct npd_object *out,
		    struct npd_diags *d);

#endif
