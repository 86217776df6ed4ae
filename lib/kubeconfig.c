/* kubeconfig.c: resolves a kubeconfig file (or the in-cluster service account) into the
 * one server, TLS material and credentials the agent's HTTP client needs. It reads files
 * and parses YAML with libyaml's document loader (kubeconfigs are small), but opens no
 * connection and never logs: every problem is a diagnostic naming the entry at fault. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#include "npd/buf.h"
#include "npd/kubeconfig.h"
#include "npd/mem.h"
#include "npd/yaml.h"

/* Kubeconfigs, tokens and CA bundles are small; refuse anything absurd. */
#define MAX_FILE_SIZE (16u << 20)

void
npd_kubeconfig_init(struct npd_kube_cfg *c)
{
	memset(c, 0, sizeof(*c));
}

static void
blob_fini(struct npd_blob *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
}

void
npd_kubeconfig_fini(struct npd_kube_cfg *c)
{
	free(c->server);
	free(c->context);
	free(c->cluster);
	free(c->user);
	free(c->ca_file);
	blob_fini(&c->ca);
	free(c->cert_file);
	blob_fini(&c->cert);
	free(c->key_file);
	blob_fini(&c->key);
	if (c->token)
		explicit_bzero(c->token, strlen(c->token));
	free(c->token);
	free(c->token_file);
	memset(c, 0, sizeof(*c));
}

/* Reads a whole file (at most MAX_FILE_SIZE bytes) into a NUL-terminated blob. */
static int
read_file(const char *path, struct npd_blob *out)
{
	struct npd_buf b;
	int err;

	npd_buf_init(&b);
	err = npd_buf_read_file(&b, path, MAX_FILE_SIZE);
	if (err == 0) {
		out->len = b.len;
		if (!b.data)
			npd_buf_add(&b, "", 0);
		out->data = (unsigned char *)npd_buf_steal(&b);
	}
	npd_buf_fini(&b);
	return err;
}

int
npd_kubeconfig_read_token(const char *path, char **out)
{
	struct npd_blob b = {0};
	char *s, *e;
	int err;

	err = read_file(path, &b);
	if (err)
		return err;
	s = (char *)b.data;
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		e--;
	if (e == s) {
		err = -EINVAL;
		goto out;
	}
	*out = npd_xstrndup(s, (size_t)(e - s));
out:
	explicit_bzero(b.data, b.len);
	blob_fini(&b);
	return err;
}

static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* Standard base64 (the URL-safe alphabet is tolerated); whitespace is skipped, padding
 * optional. */
static int
b64_decode(const char *s, struct npd_blob *out)
{
	size_t len = strlen(s), n = 0;
	unsigned char *p = npd_xmalloc(len / 4 * 3 + 4);
	uint32_t acc = 0;
	int bits = 0, pad = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		int v;

		if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		v = b64_value(c);
		if (v < 0 || pad)
			goto bad;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			p[n++] = (unsigned char)(acc >> bits);
		}
	}
	/* Leftover bits must be the zero padding of the last group: one lone sextet is never
	 * valid. */
	if (bits >= 6 || pad > 2)
		goto bad;
	p[n] = '\0';
	out->data = p;
	out->len = n;
	return 0;
bad:
	free(p);
	return -EINVAL;
}

/* Parsing state for one kubeconfig document. */
struct kc {
	const char *path;
	char *dir;
	yaml_document_t doc;
	struct npd_diags *d;
};

static yaml_node_t *
map_get(struct kc *k, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *pair;

	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
		yaml_node_t *kn = yaml_document_get_node(&k->doc, pair->key);

		if (kn && kn->type == YAML_SCALAR_NODE &&
		    strcmp((const char *)kn->data.scalar.value, key) == 0)
			return yaml_document_get_node(&k->doc, pair->value);
	}
	return NULL;
}

static const char *
scalar(yaml_node_t *n)
{
	if (!n || n->type != YAML_SCALAR_NODE)
		return NULL;
	return (const char *)n->data.scalar.value;
}

/* A scalar that is absent, null or empty reads as NULL: kubeconfigs written by tools often
 * carry `token: ""` or `client-key: null`. */
static const char *
str_field(struct kc *k, yaml_node_t *map, const char *key)
{
	yaml_node_t *n = map_get(k, map, key);
	const char *s = scalar(n);

	if (!s || !*s)
		return NULL;
	if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (strcmp(s, "null") == 0 || strcmp(s, "~") == 0))
		return NULL;
	return s;
}

static int
line_of(yaml_node_t *n)
{
	return n ? (int)n->start_mark.line + 1 : 0;
}

/* Finds the entry named name in the list under key ("clusters", "contexts", "users") and
 * returns its body (the mapping under field), or NULL; *found tells whether the entry
 * itself exists (its body may be empty). */
static yaml_node_t *
find_named(struct kc *k, const char *key, const char *name, const char *field, int *line,
	   bool *found)
{
	yaml_node_t *root = yaml_document_get_root_node(&k->doc);
	yaml_node_t *seq = map_get(k, root, key);
	yaml_node_item_t *it;

	*found = false;
	if (!seq || seq->type != YAML_SEQUENCE_NODE)
		return NULL;
	for (it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
		yaml_node_t *entry = yaml_document_get_node(&k->doc, *it);
		const char *n = scalar(map_get(k, entry, "name"));

		if (n && strcmp(n, name) == 0) {
			yaml_node_t *body = map_get(k, entry, field);

			*line = line_of(body ? body : entry);
			*found = true;
			return body && body->type == YAML_MAPPING_NODE ? body : NULL;
		}
	}
	return NULL;
}

static char *
resolve_path(const struct kc *k, const char *p)
{
	if (p[0] == '/')
		return npd_xstrdup(p);
	return npd_xasprintf("%s/%s", k->dir, p);
}

/* A PEM or token given inline (base64 "-data" field) or as a file path. */
static int
load_material(struct kc *k, yaml_node_t *body, const char *file_key, const char *data_key,
	      const char *where, char **file_out, struct npd_blob *blob_out)
{
	const char *file = str_field(k, body, file_key);
	const char *data = str_field(k, body, data_key);
	struct npd_blob b = {0};
	int err;

	if (data) {
		err = b64_decode(data, &b);
		if (err) {
			npd_diags_add(k->d, NPD_DIAG_VALUE, NULL, NULL, NULL, where, k->path,
				      line_of(map_get(k, body, data_key)), "%s is not valid base64",
				      data_key);
			return err;
		}
		*blob_out = b;
		return 0;
	}
	if (file) {
		char *abs = resolve_path(k, file);

		if (access(abs, R_OK) != 0) {
			err = -errno;
			npd_diags_add(k->d, NPD_DIAG_VALUE, NULL, NULL, NULL, where, k->path,
				      line_of(map_get(k, body, file_key)), "%s %s: %s", file_key,
				      abs, strerror(-err));
			free(abs);
			return err;
		}
		*file_out = abs;
	}
	return 0;
}

static int
load_cluster(struct kc *k, const char *name, struct npd_kube_cfg *c)
{
	yaml_node_t *body;
	const char *server;
	char where[300];
	size_t len;
	bool found;
	int line = 0;

	snprintf(where, sizeof(where), "clusters[%s].cluster", name);
	body = find_named(k, "clusters", name, "cluster", &line, &found);
	if (!body) {
		npd_diags_add(k->d, NPD_DIAG_VALUE, NULL, NULL, NULL, where, k->path, line,
			      "cluster %s not found", name);
		return -EINVAL;
	}
	server = str_field(k, body, "server");
	if (!server ||
	    (strncmp(server, "https://", 8) != 0 && strncmp(server, "http://", 7) != 0)) {
		npd_diags_add(k->d, NPD_DIAG_VALUE, NULL, NULL, NULL, where, k->path, line_of(body),
			      "cluster %s: server must be an http(s) URL", name);
		return -EINVAL;
	}
	c->server = npd_xstrdup(server);
	len = strlen(c->server);
	while (len > 0 && c->server[len - 1] == '/')
		c->server[--len] = '\0';
	if (npd_yaml_bool_parse(str_field(k, body, "insecure-skip-tls-verify"), &c->insecure) < 0)
		c->insecure = false;
	return load_material(k, body, "certificate-authority", "certificate-authority-data", where,
			     &c->ca_file, &c->ca);
}

static int
load_user(struct kc *k, const char *name, struct npd_kube_cfg *c)
{
	static const char *const unsupported[] = {"exec", "auth-provider", "username", "password"};
	yaml_node_t *body;
	const char *token, *token_file;
	char where[300];
	size_t i;
	bool found;
	int line = 0, err;

	snprintf(where, sizeof(where), "users[%s].user", name);
	body = find_named(k, "users", name, "user", &line, &found);
	if (!body) {
		/* An entry without a body (`user: null`) is legal: no credentials. */
		if (found)
			return 0;
		npd_diags_add(k->d, NPD_DIAG_VALUE, NULL, NULL, NULL, where, k->path, line,
			      "user %s not found", name);
		return -EINVAL;
	}
	for (i = 0; i < NPD_ARRAY_SIZE(unsupported); i++) {
		yaml_node_t *n = map_get(k, body, unsupported[i]);

		if (n && (n->type != YAML_SCALAR_NODE || str_field(k, body, unsupported[i]))) {
			npd_diags_add(k->d, NPD_DIAG_UNSUPPORTED, NULL, NULL, NULL, where, k->path,
				      line_of(n),
				      "user %s: %s authentication is not supported (use a token, "
				      "tokenFile or client certificate)",
				      name, unsupported[i]);
			return -ENOTSUP;
		}
	}
	err = load_material(k, body, "client-certificate", "client-certificate-data", where,
			    &c->cert_file, &c->cert);
	if (err)
		return err;
	err = load_material(k, body, "client-key", "client-key-data", where, &c->key_file, &c->key);
	if (err)
		return err;
	if ((c->cert_file || c->cert.len) != (c->key_file || c->key.len)) {
		npd_diags_add(k->d, NPD_DIAG_VALUE, NULL, NULL, NULL, where, k->path, line,
			      "user %s: a client certificate needs both certificate and key", name);
		return -EINVAL;
	}
	token = str_field(k, body, "token");
	token_file = str_field(k, body, "tokenFile");
	/* As in client-go, a readable token file takes precedence over an inline token. */
	if (token_file) {
		c->token_file = resolve_path(k, token_file);
		err = npd_kubeconfig_read_token(c->token_file, &c->token);
		if (err) {
			npd_diags_add(k->d, NPD_DIAG_VALUE, NULL, NULL, NULL, where, k->path,
				      line_of(map_get(k, body, "tokenFile")),
				      "user %s: tokenFile %s: %s", name, c->token_file,
				      strerror(-err));
			return err;
		}
	} else if (token) {
		c->token = npd_xstrdup(token);
	}
	return 0;
}

static int
load_doc(struct kc *k, const char *context, struct npd_kube_cfg *c)
{
	yaml_node_t *root = yaml_document_get_root_node(&k->doc), *ctx;
	const char *cluster, *user;
	char where[300];
	bool found;
	int line = 0, err;

	if (!root || root->type != YAML_MAPPING_NODE) {
		npd_diags_add(k->d, NPD_DIAG_SYNTAX, NULL, NULL, NULL, NULL, k->path, line_of(root),
			      "kubeconfig is not a mapping");
		return -EINVAL;
	}
	if (!context)
		context = str_field(k, root, "current-context");
	if (!context) {
		npd_diags_add(k->d, NPD_DIAG_VALUE, NULL, NULL, NULL, "current-context", k->path,
			      line_of(root), "no context given and no current-context set");
		return -EINVAL;
	}
	snprintf(where, sizeof(where), "contexts[%s].context", context);
	ctx = find_named(k, "contexts", context, "context", &line, &found);
	cluster = str_field(k, ctx, "cluster");
	if (!ctx || !cluster) {
		npd_diags_add(k->d, NPD_DIAG_VALUE, NULL, NULL, NULL, where, k->path, line,
			      ctx ? "context %s names no cluster" : "context %s not found",
			      context);
		return -EINVAL;
	}
	c->context = npd_xstrdup(context);
	c->cluster = npd_xstrdup(cluster);
	err = load_cluster(k, cluster, c);
	if (err)
		return err;
	user = str_field(k, ctx, "user");
	if (user) {
		c->user = npd_xstrdup(user);
		err = load_user(k, user, c);
	}
	return err;
}

int
npd_kubeconfig_load(const char *path, const char *context, struct npd_kube_cfg *out,
		    struct npd_diags *d)
{
	struct npd_kube_cfg c;
	struct npd_blob text = {0};
	yaml_parser_t parser;
	struct kc k = {.path = path, .d = d};
	const char *slash;
	bool have_doc = false;
	int err;

	npd_kubeconfig_init(&c);
	err = read_file(path, &text);
	if (err) {
		npd_diags_add(d, NPD_DIAG_VALUE, NULL, NULL, NULL, NULL, path, 0,
			      "cannot read kubeconfig: %s", strerror(-err));
		return err;
	}
	slash = strrchr(path, '/');
	k.dir = slash ? npd_xstrndup(path, slash == path ? 1 : (size_t)(slash - path))
		      : npd_xstrdup(".");
	if (!yaml_parser_initialize(&parser))
		abort();
	yaml_parser_set_input_string(&parser, text.data, text.len);
	if (!yaml_parser_load(&parser, &k.doc)) {
		npd_diags_add(d, NPD_DIAG_SYNTAX, NULL, NULL, NULL, NULL, path,
			      (int)parser.problem_mark.line + 1, "malformed YAML: %s",
			      parser.problem ? parser.problem : "unknown error");
		err = -EINVAL;
		goto out;
	}
	have_doc = true;
	err = load_doc(&k, context, &c);
	if (err)
		goto out;
	*out = c;
	npd_kubeconfig_init(&c);
out:
	npd_kubeconfig_fini(&c);
	if (have_doc)
		yaml_document_delete(&k.doc);
	yaml_parser_delete(&parser);
	free(k.dir);
	explicit_bzero(text.data, text.len);
	blob_fini(&text);
	return err;
}

int
npd_kubeconfig_in_cluster(const char *sa_dir, struct npd_kube_cfg *out, struct npd_diags *d)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	struct npd_kube_cfg c;
	int err;

#ifdef NPD_TEST_HOOKS
	if (!sa_dir)
		sa_dir = getenv("NPD_SA_DIR");
#endif
	if (!sa_dir || !*sa_dir)
		sa_dir = NPD_SA_DIR;
	if (!host || !*host || !port || !*port) {
		npd_diags_add(d, NPD_DIAG_VALUE, NULL, NULL, NULL, NULL, NULL, 0,
			      "not in a cluster: KUBERNETES_SERVICE_HOST/PORT unset");
		return -ENOENT;
	}
	npd_kubeconfig_init(&c);
	/* An IPv6 service address must be bracketed in a URL. */
	if (strchr(host, ':') && host[0] != '[')
		c.server = npd_xasprintf("https://[%s]:%s", host, port);
	else
		c.server = npd_xasprintf("https://%s:%s", host, port);
	c.token_file = npd_xasprintf("%s/token", sa_dir);
	err = npd_kubeconfig_read_token(c.token_file, &c.token);
	if (err) {
		npd_diags_add(d, NPD_DIAG_VALUE, NULL, NULL, NULL, NULL, c.token_file, 0,
			      "cannot read service-account token: %s", strerror(-err));
		goto out;
	}
	c.ca_file = npd_xasprintf("%s/ca.crt", sa_dir);
	if (access(c.ca_file, R_OK) != 0) {
		err = -errno;
		npd_diags_add(d, NPD_DIAG_VALUE, NULL, NULL, NULL, NULL, c.ca_file, 0,
			      "cannot read service-account CA: %s", strerror(-err));
		goto out;
	}
	*out = c;
	npd_kubeconfig_init(&c);
out:
	npd_kubeconfig_fini(&c);
	return err;
}
