/* fetch.c: netpolctl's client of the live agent: one GET to its debug address with libcurl
 * (easy interface, short timeouts) and the JSON it answers parsed with yajl's tree. Only
 * the commands that talk to an agent (explain, drops) use it; the offline ones never do. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "ctl.h"
#include "npd/buf.h"
#include "npd/mem.h"

static size_t
on_data(char *p, size_t size, size_t n, void *ctx)
{
	npd_buf_add(ctx, p, size * n);
	return size * n;
}

char *
ctl_escape(const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0), *out;

	if (!e)
		abort();
	out = npd_xstrdup(e);
	curl_free(e);
	return out;
}

char *
ctl_agent_url(const char *agent, const char *path)
{
	size_t n = strlen(agent);

	/* "URL/" and "URL" both name the agent. */
	return npd_xasprintf("%s%s%s", agent, n && agent[n - 1] == '/' ? "" : "/", path);
}

int
ctl_fetch_json(const char *cmd, const char *url, yajl_val *out)
{
	struct npd_buf b;
	char err[CURL_ERROR_SIZE] = "", perr[256] = "";
	const char *msg;
	long status = 0;
	yajl_val v = NULL;
	CURL *c;
	CURLcode rc;
	int ret = 2;

	npd_buf_init(&b);
	c = curl_easy_init();
	if (!c) {
		fprintf(stderr, "netpolctl %s: cannot start libcurl\n", cmd);
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 3L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		fprintf(stderr, "netpolctl %s: cannot reach the agent at %s: %s\n", cmd, url,
			err[0] ? err : curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	npd_buf_addc(&b, '\0');
	v = yajl_tree_parse(b.data, perr, sizeof(perr));
	if (status != 200) {
		const char *path[] = {"error", NULL};
		yajl_val e = v ? yajl_tree_get(v, path, yajl_t_string) : NULL;

		msg = e ? YAJL_GET_STRING(e) : "unexpected answer";
		fprintf(stderr, "netpolctl %s: the agent answered %ld: %s\n", cmd, status, msg);
		goto out;
	}
	if (!v || !YAJL_IS_OBJECT(v)) {
		fprintf(stderr, "netpolctl %s: the agent's answer is not a JSON object%s%s\n", cmd,
			perr[0] ? ": " : "", perr);
		goto out;
	}
	*out = v;
	v = NULL;
	ret = 0;
out:
	yajl_tree_free(v);
	if (c)
		curl_easy_cleanup(c);
	npd_buf_fini(&b);
	return ret;
}

const char *
ctl_json_str(yajl_val v, const char *key)
{
	const char *path[] = {key, NULL};
	yajl_val s = yajl_tree_get(v, path, yajl_t_string);

	return s ? YAJL_GET_STRING(s) : NULL;
}

bool
ctl_json_num(yajl_val v, const char *key, double *out)
{
	const char *path[] = {key, NULL};
	yajl_val n = yajl_tree_get(v, path, yajl_t_number);

	if (!n)
		return false;
	*out = YAJL_GET_DOUBLE(n);
	return true;
}
