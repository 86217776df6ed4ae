/* kubeconfig.h: how to reach the Kubernetes API: a kubeconfig file (libyaml) or the
 * in-cluster service account. Only what netpold's client supports is accepted (bearer
 * tokens, token files, client certificates); other auth methods are refused by name. */
#ifndef NPD_KUBECONFIG_H
#define NPD_KUBECONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "npd/diag.h"

/* Bytes held in memory (PEM after base64 decoding); data is NUL-terminated. */
struct npd_blob {
	unsigned char *data;
	size_t len;
};

/* A resolved connection config; caller storage, every member owned by it. */
struct npd_kube_cfg {
	char *server;	    /* "https://host:port", no trailing slash */
	char *context;	    /* names, for logs; NULL in-cluster */
	char *cluster;	    /* may be NULL */
	char *user;	    /* may be NULL */
	bool insecure;	    /* insecure-skip-tls-verify: TLS verification off */
	char *ca_file;	    /* absolute path or NULL */
	struct npd_blob ca; /* certificate-authority-data, PEM; len 0 when absent */
	char *cert_file;    /* client-certificate */
	struct npd_blob cert;
	char *key_file; /* client-key */
	struct npd_blob key;
	char *token;	  /* bearer token (read from token_file when that is set), or NULL */
	char *token_file; /* re-read periodically since bound tokens rotate, or NULL */
};

/* Default service-account directory of an in-cluster pod. */
#define NPD_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

void npd_kubeconfig_init(struct npd_kube_cfg *c);
void npd_kubeconfig_fini(struct npd_kube_cfg *c);

/* Loads the kubeconfig at path using context (NULL: current-context). Relative file paths
 * are resolved against the kubeconfig's directory. Returns 0, -errno when a file cannot be
 * read, -EINVAL (malformed or missing entries) or -ENOTSUP (exec, auth-provider,
 * username/password), each with a diagnostic in d naming the entry. */
int npd_kubeconfig_load(const char *path, const char *context, struct npd_kube_cfg *out,
			struct npd_diags *d);
/* The in-cluster config: KUBERNETES_SERVICE_HOST/PORT and the token and ca.crt of sa_dir
 * (NULL: NPD_SA_DIR; in a test build $NPD_SA_DIR first). Returns 0, -ENOENT outside a cluster, or -errno. */
int npd_kubeconfig_in_cluster(const char *sa_dir, struct npd_kube_cfg *out, struct npd_diags *d);
/* Reads a token file, trimming surrounding whitespace. Returns 0 and an owned string in
 * *out, -EINVAL when it is empty, or -errno. */
int npd_kubeconfig_read_token(const char *path, char **out);

#endif
