/* k8s_conn.h: one API server connection's settings: where the server is, how to prove who
 * we are (bearer token, re-read from its file as bound tokens rotate, or a client
 * certificate) and which CA to trust. Hands out GET requests with all of that set. */
#ifndef NPD_AGENT_K8S_CONN_H
#define NPD_AGENT_K8S_CONN_H

#include <curl/curl.h>
#include <ev.h>

#include "k8s.h"
#include "npd/kubeconfig.h"

struct k8s_conn {
	struct ev_loop *loop;
	struct npd_kube_cfg cfg;
	char *auth; /* "Authorization: Bearer ..." or NULL */
	ev_timer token_timer;
};

/* Loads the kubeconfig (o->kubeconfig, or the in-cluster service account) into c on loop
 * (borrowed) and starts re-reading the token file. Returns 0, or -errno after logging why
 * the config cannot be loaded. */
int k8s_conn_open(struct k8s_conn *c, struct ev_loop *loop, const struct k8s_opts *o);
/* Stops the token timer and wipes the credentials. */
void k8s_conn_close(struct k8s_conn *c);
/* A new easy handle for GET server+path with the headers (returned in *hdrs, owned by the
 * caller, freed after the transfer), TLS, user agent, encodings and connect and keepalive
 * timeouts of the connection. Aborts on allocation failure. */
CURL *k8s_conn_get(struct k8s_conn *c, const char *path, struct curl_slist **hdrs);
/* Re-reads the token file now (why is logged); keeps the last token when it fails. */
void k8s_conn_reload_token(struct k8s_conn *c, const char *why);
/* The one "kubernetes source" log line: server, context, user, auth kind, TLS check. */
void k8s_conn_log(const struct k8s_conn *c, const char *node_name);

#endif
