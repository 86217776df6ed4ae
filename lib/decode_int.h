/* decode_int.h: the object builder shared by the JSON (yajl) and YAML (libyaml) decoders.
 * A parser drives the builder with structural events; the builder keeps only the fields a
 * schema names (a pruned tree of "dnodes"), skips everything else without storing it, and
 * a converter maps a finished tree onto the object model with diagnostics. Private to lib/. */
#ifndef NPD_DECODE_INT_H
#define NPD_DECODE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "npd/buf.h"
#include "npd/diag.h"
#include "npd/limits.h"
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
	/* More entries arrived than the schema's cap (the rest were dropped): the cap's name,
	 * else NULL. */
	const char *overflow;
	bool toolong; /* scalar longer than NPD_DEC_MAX_SCALAR; text is truncated */
	int line;     /* 1-based source line (YAML), 0 when unknown */
	char *key;    /* key in the parent map, NULL in arrays */
	char *text;   /* scalar text (NUL-terminated), NULL for containers */
	struct npd_dnode *child, *last, *next;
	size_t n; /* number of children, including dropped ITEM children */
};

#define NPD_DEC_MAX_SCALAR NPD_LIMIT_STRING
#define NPD_DEC_MAX_RULES NPD_LIMIT_RULES /* rules per direction */

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
	const char *limit;		       /* with cap: its name ("rules"), for reports */
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
	size_t skip;	 /* depth inside a skipped container */
	bool have_key;	 /* a key arrived in the top map frame, its value pending */
	const char *key; /* that key, in key_buf (NULL when the value is to be skipped) */
	struct npd_buf key_buf;
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
/* Where the builder stands before a value starts, so that the value can be dropped if it
 * turns out too big or too deep (npd_dec_unwind). */
struct npd_dec_mark {
	size_t depth, skip;
	size_t n;		/* entries of the innermost open container */
	struct npd_dnode *last; /* its last kept entry */
	bool root;		/* a root value had arrived */
};

void npd_dec_mark(const struct npd_dec *b, struct npd_dec_mark *m);
/* Drops everything that arrived since mark m, as if the value begun there were skipped.
 * Returns that value's tree when it was an item (owned: the caller names and frees it;
 * on_item never sees it), else NULL. */
struct npd_dnode *npd_dec_unwind(struct npd_dec *b, const struct npd_dec_mark *m);
/* Puts b back where it stood at mark m, as if nothing had arrived since: the value begun
 * there is freed and not counted. */
void npd_dec_rewind(struct npd_dec *b, const struct npd_dec_mark *m);
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

/* Converter state for one object: where in the object we are (path) and what went wrong
 * (diags). The field readers below push their key onto path while they report. */
struct npd_conv {
	struct npd_diags diags; /* this object's diagnostics, moved out at the end */
	const char *kind;
	const char *ns;
	const char *name;
	const char *file;
	struct npd_buf path;
	int nerr;
};

/* Appends ".key" (or "[i]") to the path; returns the old length for npd_conv_path_pop. */
size_t npd_conv_path_key(struct npd_conv *c, const char *key);
size_t npd_conv_path_idx(struct npd_conv *c, size_t i);
void npd_conv_path_pop(struct npd_conv *c, size_t m);
/* Reports a problem at the current path (n gives the line, may be NULL); counts it. */
void npd_conv_err(struct npd_conv *c, const struct npd_dnode *n, enum npd_diag_kind k,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The same with key appended to the path for this one report. */
void npd_conv_err_key(struct npd_conv *c, const char *key, const struct npd_dnode *n,
		      enum npd_diag_kind k, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* "object", "string", ...: the JSON name of a node type, for messages. */
const char *npd_conv_type_name(enum npd_dtype t);
/* True for an absent node, JSON null and the YAML null spellings. */
bool npd_conv_is_null(const struct npd_dnode *n);
/* 1: present with type t; 0: absent or null; -EINVAL: reported (wrong type, over the cap). */
int npd_conv_check_type(struct npd_conv *c, const struct npd_dnode *n, enum npd_dtype t);
/* *out: n's text (borrowed), NULL when null. 0, or -EINVAL reported (not a string, too long). */
int npd_conv_want_str(struct npd_conv *c, const struct npd_dnode *n, const char **out);
/* Field readers of map[key]: 0 (also when absent: *out NULL/false) or -EINVAL reported. */
int npd_conv_str(struct npd_conv *c, const struct npd_dnode *map, const char *key,
		 const char **out);
/* *present false when absent or null. */
int npd_conv_int(struct npd_conv *c, const struct npd_dnode *map, const char *key, long long *out,
		 bool *present);
/* Accepts the YAML 1.1 spellings (npd_yaml_bool_parse). */
int npd_conv_bool(struct npd_conv *c, const struct npd_dnode *map, const char *key, bool *out);
/* A child map or array: 1 present (*out set), 0 absent or null, -EINVAL reported. */
int npd_conv_node(struct npd_conv *c, const struct npd_dnode *map, const char *key,
		  enum npd_dtype t, const struct npd_dnode **out);
/* A string map at map[key] into *out; validate checks label key and value syntax. 0 or
 * -EINVAL reported (valid entries are kept). */
int npd_conv_labels(struct npd_conv *c, const struct npd_dnode *map, const char *key, bool validate,
		    struct npd_labels *out);
/* Gives diagnostics from index from on, made by code that knows no lines, c's file and n's
 * line. */
void npd_conv_stamp_lines(struct npd_conv *c, size_t from, const struct npd_dnode *n);
/* The spec of a NetworkPolicy tree into pol (decode_policy.c). Returns 0, also for a bad
 * rule (then pol->invalid with a reason, rules emptied); -EINVAL when spec is unusable. */
int npd_conv_policy(struct npd_conv *c, const struct npd_dnode *root, struct npd_policy *pol);

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
