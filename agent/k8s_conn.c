/* k8s_conn.c: what every request to the API server shares: the loaded kubeconfig (or
 * in-cluster service account), the bearer token and its periodic re-read, TLS material
 * handed to curl as in-memory blobs or file names, and the common transfer options. It
 * performs no request itself; k8s.c decides what to ask and when. */
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "k8s_conn.h"
#include "npd/mem.h"

#define USER_AGENT "netpold/0.1"
#define TOKEN_REREAD_S 60.0
#define CONNECT_TIMEOUT_S 10L

static void
set_auth(struct k8s_conn *c)
{
	if (c->auth)
		explicit_bzero(c->auth, strlen(c->auth));
	free(c->auth);
	c->auth = c->cfg.token ? npd_xasprintf("Authorization: Bearer %s", c->cfg.token) : NULL;
}

/* Bound service-account tokens rotate (hourly by default): re-read the file. */
void
k8s_conn_reload_token(struct k8s_conn *c, const char *why)
{
	char *tok = NULL;
	int err;

	if (!c->cfg.token_file)
		return;
	err = npd_kubeconfig_read_token(c->cfg.token_file, &tok);
	if (err) {
		agent_log("warn",
			  "msg=\"cannot re-read token, keeping the last one\" file=%s err=\"%s\"",
			  c->cfg.token_file, strerror(-err));
		return;
	}
	if (c->cfg.token && strcmp(tok, c->cfg.token) == 0) {
		explicit_bzero(tok, strlen(tok));
		free(tok);
		return;
	}
	if (c->cfg.token)
		explicit_bzero(c->cfg.token, strlen(c->cfg.token));
	free(c->cfg.token);
	c->cfg.token = tok;
	set_auth(c);
	agent_log("info", "msg=\"token reloaded\" file=%s why=%s", c->cfg.token_file, why);
}

static void
on_token_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	k8s_conn_reload_token(w->data, "periodic");
}

static int
load_config(const struct k8s_opts *o, struct npd_kube_cfg *cfg)
{
	struct npd_diags d;
	char line[1024];
	size_t i;
	int err;

	npd_diags_init(&d);
	if (o->kubeconfig && !o->in_cluster)
		err = npd_kubeconfig_load(o->kubeconfig, o->context, cfg, &d);
	else
		err = npd_kubeconfig_in_cluster(o->sa_dir, cfg, &d);
	for (i = 0; i < d.n; i++)
		agent_log("error", "msg=\"cannot load the API config\" %s",
			  npd_diag_format(&d.v[i], line, sizeof(line)));
	if (err && !d.n)
		agent_log("error", "msg=\"cannot load the API config\" err=\"%s\"", strerror(-err));
	npd_diags_fini(&d);
	return err;
}

int
k8s_conn_open(struct k8s_conn *c, struct ev_loop *loop, const struct k8s_opts *o)
{
	int err;

	memset(c, 0, sizeof(*c));
	c->loop = loop;
	err = load_config(o, &c->cfg);
	if (err)
		return err;
	set_auth(c);
	ev_timer_init(&c->token_timer, on_token_timer, TOKEN_REREAD_S, TOKEN_REREAD_S);
	c->token_timer.data = c;
	if (c->cfg.token_file)
		ev_timer_start(loop, &c->token_timer);
	return 0;
}

void
k8s_conn_close(struct k8s_conn *c)
{
	ev_timer_stop(c->loop, &c->token_timer);
	if (c->auth)
		explicit_bzero(c->auth, strlen(c->auth));
	free(c->auth);
	c->auth = NULL;
	npd_kubeconfig_fini(&c->cfg);
}

/* One piece of PEM material: embedded in the kubeconfig (handed over in memory; curl copies
 * nothing, the config outlives the transfer) or a file name. type_opt, when not 0, says
 * the blob is PEM (client certificate and key). */
static void
set_pem(CURL *e, const struct npd_blob *mem, const char *file, CURLoption blob_opt,
	CURLoption file_opt, CURLoption type_opt)
{
	struct curl_blob blob;

	if (mem->len) {
		blob = (struct curl_blob){mem->data, mem->len, CURL_BLOB_NOCOPY};
		curl_easy_setopt(e, blob_opt, &blob);
		if (type_opt)
			curl_easy_setopt(e, type_opt, "PEM");
	} else if (file) {
		curl_easy_setopt(e, file_opt, file);
	}
}

static void
set_tls(const struct npd_kube_cfg *c, CURL *e)
{
	if (c->insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	} else {
		set_pem(e, &c->ca, c->ca_file, CURLOPT_CAINFO_BLOB, CURLOPT_CAINFO, 0);
	}
	set_pem(e, &c->cert, c->cert_file, CURLOPT_SSLCERT_BLOB, CURLOPT_SSLCERT,
		CURLOPT_SSLCERTTYPE);
	set_pem(e, &c->key, c->key_file, CURLOPT_SSLKEY_BLOB, CURLOPT_SSLKEY, CURLOPT_SSLKEYTYPE);
}

CURL *
k8s_conn_get(struct k8s_conn *c, const char *path, struct curl_slist **hdrs)
{
	struct curl_slist *h = NULL;
	char *url;
	CURL *e;

	e = curl_easy_init();
	if (!e)
		abort();
	h = curl_slist_append(h, "Accept: application/json");
	if (h && c->auth)
		h = curl_slist_append(h, c->auth);
	if (!h)
		abort();
	url = npd_xasprintf("%s%s", c->cfg.server, path);
	curl_easy_setopt(e, CURLOPT_URL, url);
	free(url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e, CURLOPT_USERAGENT, USER_AGENT);
	/* "" offers every encoding curl was built with (gzip among them) and decodes it. */
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	/* A peer that vanished without a FIN must not leave a watch hanging forever. */
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 30L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 10L);
	set_tls(&c->cfg, e);
	*hdrs = h;
	return e;
}

void
k8s_conn_log(const struct k8s_conn *c, const char *node_name)
{
	const struct npd_kube_cfg *k = &c->cfg;

	agent_log("info",
		  "msg=\"kubernetes source\" server=%s context=%s user=%s node=%s auth=%s "
		  "tls_verify=%d",
		  k->server, k->context ? k->context : "in-cluster", k->user ? k->user : "none",
		  node_name ? node_name : "unknown",
		  k->token_file			? "token-file"
		  : k->token			? "token"
		  : k->cert.len || k->cert_file ? "client-cert"
						: "none",
		  !k->insecure);
}
