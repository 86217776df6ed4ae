/* yaml.c: decoder of Kubernetes manifests with libyaml's event parser. It owns documents,
 * `kind: List` expansion, default namespaces, file and directory reading and source lines;
 * field mapping is decode.c's. Anchors and aliases are rejected: manifests do not need
 * them and expanding them invites billion-laughs inputs. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "decode_int.h"
#include "npd/buf.h"
#include "npd/mem.h"
#include "npd/yaml.h"
#include "npd/yaml_files.h"
#include "yaml_int.h"

static void
deliver(struct npd_ydoc *y, const struct npd_dnode *n)
{
	struct npd_dec_opts o = {NPD_KIND__COUNT, false, "default", y->file, true};
	struct npd_event ev;

	memset(&ev, 0, sizeof(ev));
	if (npd_dec_convert(n, &o, &ev.obj, y->d) < 0)
		return;
	ev.type = NPD_EV_ADDED;
	ev.rv = npd_xstrdup(npd_dnode_strp(n, "metadata", "resourceVersion", NULL));
	if (y->fn)
		y->fn(&ev, y->ctx);
	else
		npd_event_fini(&ev);
}

void
npd_ydoc_end(struct npd_ydoc *y)
{
	struct npd_dnode *root = npd_dec_take_root(&y->b);
	const struct npd_dnode *items, *it;
	const char *kind = npd_dnode_strp(root, "kind", NULL);

	if (y->fail_msg) {
		npd_diags_add(y->d, y->fail_kind, kind,
			      npd_dnode_strp(root, "metadata", "namespace", NULL),
			      npd_dnode_strp(root, "metadata", "name", NULL), NULL, y->file,
			      y->fail_line, "%s; document skipped", y->fail_msg);
		if (y->fail_kind == NPD_DIAG_LIMIT)
			npd_diags_set_limit(y->d, "depth");
	} else if (!root || root->type == NPD_DT_NULL ||
		   (root->type == NPD_DT_PLAIN && !root->text[0])) {
		/* An empty document (a trailing ---, comments only) is not an error. */
	} else if (kind && !strcmp(kind, "List")) {
		items = npd_dnode_get(root, "items");
		for (it = items && items->type == NPD_DT_ARRAY ? items->child : NULL; it;
		     it = it->next)
			deliver(y, it);
	} else {
		deliver(y, root);
	}
	npd_dnode_free(root);
	npd_dec_reset(&y->b);
	free(y->fail_msg);
	y->fail_msg = NULL;
	y->skip = 0;
	y->depth = 0;
}

void
npd_ydoc_reject(struct npd_ydoc *y, int line, enum npd_diag_kind kind, const char *msg)
{
	if (!y->fail_msg) {
		y->fail_msg = npd_xstrdup(msg);
		y->fail_kind = kind;
		y->fail_line = line;
	}
}

/* Rejects events by their start. */
static void
reject(struct npd_ydoc *y, const yaml_event_t *ev, enum npd_diag_kind kind, const char *msg)
{
	npd_ydoc_reject(y, (int)ev->start_mark.line + 1, kind, msg);
}

void
npd_ydoc_open(struct npd_ydoc *y, bool map, int line)
{
	if (y->skip) {
		y->skip++;
	} else if (y->depth >= NPD_LIMIT_DEPTH) {
		/* Skipped with a null in its place, so the builder's tree stays whole for the
		 * report (libyaml itself would follow any depth). */
		char msg[48];

		snprintf(msg, sizeof(msg), "nested deeper than %d levels", NPD_LIMIT_DEPTH);
		npd_ydoc_reject(y, line, NPD_DIAG_LIMIT, msg);
		npd_dec_scalar(&y->b, NPD_DT_NULL, "", 0, line);
		y->skip = 1;
	} else if (map) {
		y->depth++;
		npd_dec_map_start(&y->b, line);
	} else {
		y->depth++;
		npd_dec_array_start(&y->b, line);
	}
}

void
npd_ydoc_close(struct npd_ydoc *y, bool map)
{
	if (y->skip) {
		y->skip--;
	} else {
		y->depth--;
		if (map)
			npd_dec_map_end(&y->b);
		else
			npd_dec_array_end(&y->b);
	}
}

void
npd_ydoc_init(struct npd_ydoc *y, const char *filename, npd_event_fn fn, void *ctx,
	      struct npd_diags *d)
{
	memset(y, 0, sizeof(*y));
	y->file = filename;
	y->fn = fn;
	y->ctx = ctx;
	y->d = d;
	npd_dec_init(&y->b, &npd_schema_yaml_doc, NULL, NULL);
}

void
npd_ydoc_fini(struct npd_ydoc *y)
{
	free(y->fail_msg);
	npd_dec_fini(&y->b);
}

static enum npd_dtype
scalar_type(const yaml_event_t *ev)
{
	const char *tag = (const char *)ev->data.scalar.tag;

	if (tag && !strcmp(tag, YAML_STR_TAG))
		return NPD_DT_STRING;
	return ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? NPD_DT_PLAIN : NPD_DT_STRING;
}

/* Drives the builder with one event. */
static void
on_event(struct npd_ydoc *y, const yaml_event_t *ev)
{
	int line = (int)ev->start_mark.line + 1;
	bool key = npd_dec_wants_key(&y->b);

	if (y->skip) {
		if (ev->type == YAML_MAPPING_START_EVENT || ev->type == YAML_SEQUENCE_START_EVENT)
			y->skip++;
		else if (ev->type == YAML_MAPPING_END_EVENT || ev->type == YAML_SEQUENCE_END_EVENT)
			y->skip--;
		return;
	}
	if ((ev->type == YAML_MAPPING_START_EVENT && ev->data.mapping_start.anchor) ||
	    (ev->type == YAML_SEQUENCE_START_EVENT && ev->data.sequence_start.anchor) ||
	    (ev->type == YAML_SCALAR_EVENT && ev->data.scalar.anchor))
		reject(y, ev, NPD_DIAG_UNSUPPORTED, "YAML anchors are not supported");
	switch (ev->type) {
	case YAML_MAPPING_START_EVENT:
	case YAML_SEQUENCE_START_EVENT:
		if (key) {
			reject(y, ev, NPD_DIAG_UNSUPPORTED,
			       "complex mapping keys are not supported");
			npd_dec_key(&y->b, "", 0);
			y->skip = 1;
		} else {
			npd_ydoc_open(y, ev->type == YAML_MAPPING_START_EVENT, line);
		}
		break;
	case YAML_MAPPING_END_EVENT:
	case YAML_SEQUENCE_END_EVENT:
		npd_ydoc_close(y, ev->type == YAML_MAPPING_END_EVENT);
		break;
	case YAML_SCALAR_EVENT:
		if (key)
			npd_dec_key(&y->b, (const char *)ev->data.scalar.value,
				    ev->data.scalar.length);
		else
			npd_dec_scalar(&y->b, scalar_type(ev), (const char *)ev->data.scalar.value,
				       ev->data.scalar.length, line);
		break;
	case YAML_ALIAS_EVENT:
		reject(y, ev, NPD_DIAG_UNSUPPORTED, "YAML aliases are not supported");
		/* Stand in a null so that the key/value alternation stays intact. */
		if (key)
			npd_dec_key(&y->b, "", 0);
		else
			npd_dec_scalar(&y->b, NPD_DT_NULL, "", 0, line);
		break;
	case YAML_DOCUMENT_END_EVENT:
		npd_ydoc_end(y);
		break;
	case YAML_NO_EVENT:
	case YAML_STREAM_START_EVENT:
	case YAML_STREAM_END_EVENT:
	case YAML_DOCUMENT_START_EVENT:
		break;
	}
}

/* Runs parser (its input set) to the end of the stream or the first error. */
static int
decode_parser(yaml_parser_t *parser, const char *filename, npd_event_fn fn, void *ctx,
	      struct npd_diags *d)
{
	yaml_event_t ev;
	struct npd_ydoc y;
	bool end = false;
	int rc = 0;

	npd_ydoc_init(&y, filename, fn, ctx, d);
	while (!end) {
		if (!yaml_parser_parse(parser, &ev)) {
			npd_diags_add(d, NPD_DIAG_SYNTAX, NULL, NULL, NULL, NULL, filename,
				      (int)parser->problem_mark.line + 1, "%s%s%s",
				      parser->problem ? parser->problem : "YAML error",
				      parser->context ? " " : "",
				      parser->context ? parser->context : "");
			rc = -EINVAL;
			break;
		}
		on_event(&y, &ev);
		end = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	npd_ydoc_fini(&y);
	return rc;
}

int
npd_yaml_decode_buf(const char *buf, size_t len, const char *filename, npd_event_fn fn, void *ctx,
		    struct npd_diags *d)
{
	yaml_parser_t parser;
	int rc;

	if (!yaml_parser_initialize(&parser))
		abort();
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	rc = decode_parser(&parser, filename, fn, ctx, d);
	yaml_parser_delete(&parser);
	return rc;
}

/* The parser's reader of a file: read(2) in the parser's own buffer, so a file is decoded
 * as it is read and never held whole; counts the bytes against NPD_YAML_MAX_FILE. */
struct yfile {
	int fd;
	size_t total;
	int err;
};

static int
read_file(void *data, unsigned char *buf, size_t size, size_t *got)
{
	struct yfile *yf = data;
	ssize_t n;

	do
		n = read(yf->fd, buf, size);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		yf->err = -errno;
		return 0;
	}
	yf->total += (size_t)n;
	if (yf->total > NPD_YAML_MAX_FILE) {
		yf->err = -EFBIG;
		return 0;
	}
	*got = (size_t)n;
	return 1;
}

int
npd_yaml_decode_file(const char *path, npd_event_fn fn, void *ctx, struct npd_diags *d)
{
	struct yfile yf = {-1, 0, 0};
	yaml_parser_t parser;
	struct npd_diags pd;
	struct stat st;
	int rc;

	npd_diags_init(&pd);
	yf.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (yf.fd < 0 || fstat(yf.fd, &st) < 0) {
		rc = -errno;
	} else if (S_ISDIR(st.st_mode)) {
		rc = -EISDIR;
	} else if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > NPD_YAML_MAX_FILE) {
		/* Known too large before a byte is parsed: nothing of it is delivered. */
		rc = -EFBIG;
	} else if (S_ISREG(st.st_mode) &&
		   (rc = npd_yaml_json_decode_fd(yf.fd, path, fn, ctx, &pd)) != -ENOTSUP) {
		/* JSON, read by yajl (or a read error). */
	} else if (S_ISREG(st.st_mode) && lseek(yf.fd, 0, SEEK_SET) < 0) {
		rc = -errno;
	} else {
		if (!yaml_parser_initialize(&parser))
			abort();
		yaml_parser_set_input(&parser, read_file, &yf);
		rc = decode_parser(&parser, path, fn, ctx, &pd);
		yaml_parser_delete(&parser);
		/* A read error (or a file that grew past the limit) is that, not bad YAML. */
		if (rc < 0 && yf.err) {
			rc = yf.err;
			npd_diags_fini(&pd);
			npd_diags_init(&pd);
		}
	}
	if (rc == -EFBIG) {
		npd_diags_add(d, NPD_DIAG_LIMIT, NULL, NULL, NULL, NULL, path, 0,
			      "file larger than %u bytes", NPD_YAML_MAX_FILE);
		npd_diags_set_limit(d, "file");
	} else if (rc < 0 && rc != -EINVAL) {
		npd_diags_add(d, NPD_DIAG_SYNTAX, NULL, NULL, NULL, NULL, path, 0,
			      "cannot read: %s", strerror(-rc));
	}
	npd_diags_move(d, &pd);
	npd_diags_fini(&pd);
	if (yf.fd >= 0)
		close(yf.fd);
	return rc;
}

static int
yaml_name(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	/* Hidden files are editors' temporaries, not manifests. */
	if (e->d_name[0] == '.')
		return 0;
	return (n > 5 && !strcmp(e->d_name + n - 5, ".yaml")) ||
	       (n > 4 && !strcmp(e->d_name + n - 4, ".yml")) ||
	       (n > 5 && !strcmp(e->d_name + n - 5, ".json"));
}

/* What npd_yaml_decode_path hands each decoded file of a directory to. */
struct path_load {
	npd_event_fn fn;
	void *ctx;
	struct npd_diags *d;
	int rc;
};

static void
path_file(struct npd_yaml_file *f, void *ctx)
{
	struct path_load *l = ctx;
	size_t i;

	for (i = 0; i < f->n; i++) {
		struct npd_event ev = f->ev[i];

		memset(&f->ev[i], 0, sizeof(f->ev[i]));
		if (l->fn)
			l->fn(&ev, l->ctx);
		else
			npd_event_fini(&ev);
	}
	if (l->d)
		npd_diags_move(l->d, &f->diags);
	if (f->rc < 0 && l->rc == 0)
		l->rc = f->rc;
}

int
npd_yaml_decode_path(const char *path, npd_event_fn fn, void *ctx, struct npd_diags *d)
{
	struct path_load l = {fn, ctx, d, 0};
	struct dirent **names = NULL;
	const char **regular;
	struct stat st;
	int n, i, m = 0;

	if (stat(path, &st) < 0) {
		l.rc = -errno;
		npd_diags_add(d, NPD_DIAG_SYNTAX, NULL, NULL, NULL, NULL, path, 0,
			      "cannot open: %s", strerror(-l.rc));
		return l.rc;
	}
	if (!S_ISDIR(st.st_mode))
		return npd_yaml_decode_file(path, fn, ctx, d);
	n = scandir(path, &names, yaml_name, alphasort);
	if (n < 0) {
		l.rc = -errno;
		npd_diags_add(d, NPD_DIAG_SYNTAX, NULL, NULL, NULL, NULL, path, 0,
			      "cannot read directory: %s", strerror(-l.rc));
		return l.rc;
	}
	regular = npd_xcalloc((size_t)n + 1, sizeof(*regular));
	for (i = 0; i < n; i++) {
		char *p = npd_xasprintf("%s/%s", path, names[i]->d_name);

		if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
			regular[m++] = names[i]->d_name;
		free(p);
	}
	npd_yaml_files_decode(path, regular, (size_t)m, 0, path_file, &l);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(regular);
	return l.rc;
}

static void
to_store(struct npd_event *ev, void *ctx)
{
	npd_store_add_object(ctx, &ev->obj);
	npd_event_fini(ev);
}

int
npd_yaml_load(const char *path, struct npd_store *s, struct npd_diags *d)
{
	return npd_yaml_decode_path(path, to_store, s, d);
}

int
npd_yaml_bool_parse(const char *s, bool *out)
{
	/* The YAML 1.1 bool type (yaml.org/type/bool), which go-yaml v2 and so kubectl use. */
	static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes", "YES",
					  "on",	  "On",	  "ON",	  "y",	 "Y"};
	static const char *const no[] = {"false", "False", "FALSE", "no", "No", "NO",
					 "off",	  "Off",   "OFF",   "n",  "N"};
	size_t i;

	for (i = 0; s && i < NPD_ARRAY_SIZE(yes); i++) {
		if (!strcmp(s, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcmp(s, no[i])) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}
