/* testutil.c: fixture builders for the check suites (see testutil.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

void
tu_labels(struct npd_labels *l, const char *spec)
{
	char *copy, *tok, *save = NULL;

	if (!spec || !*spec)
		return;
	copy = npd_xstrdup(spec);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');

		if (eq) {
			*eq = '\0';
			npd_labels_set(l, tok, eq + 1);
		} else {
			npd_labels_set(l, tok, "");
		}
	}
	free(copy);
}

struct npd_pod *
tu_pod(const char *ns, const char *name, const char *labels, const char *ips, const char *node)
{
	struct npd_pod *pod = npd_pod_new();
	char *copy, *tok, *save = NULL;

	pod->ns = npd_xstrdup(ns);
	pod->name = npd_xstrdup(name);
	pod->uid = npd_xasprintf("uid-%s-%s", ns, name);
	pod->node = npd_xstrdup(node);
	pod->phase = NPD_PHASE_RUNNING;
	tu_labels(&pod->labels, labels);
	if (ips && *ips) {
		copy = npd_xstrdup(ips);
		for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			pod->ips = npd_xrealloc(pod->ips, (pod->n_ips + 1) * sizeof(*pod->ips));
			if (npd_addr_parse(tok, &pod->ips[pod->n_ips]) == 0)
				pod->n_ips++;
		}
		free(copy);
	}
	return pod;
}

struct npd_namespace *
tu_ns(const char *name, const char *labels)
{
	struct npd_namespace *ns = npd_namespace_new();

	ns->name = npd_xstrdup(name);
	ns->uid = npd_xasprintf("uid-ns-%s", name);
	npd_labels_set(&ns->labels, "kubernetes.io/metadata.name", name);
	tu_labels(&ns->labels, labels);
	return ns;
}

const char *
tu_src_path(const char *relpath)
{
	static char buf[4096];
	const char *root = getenv("NPD_SRC_DIR");

	snprintf(buf, sizeof(buf), "%s/%s", root ? root : ".", relpath);
	return buf;
}

char *
tu_read_file(const char *relpath, size_t *len)
{
	FILE *f = fopen(tu_src_path(relpath), "rb");
	struct npd_buf b;
	char chunk[65536];
	size_t n;

	if (!f)
		return NULL;
	npd_buf_init(&b);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		npd_buf_add(&b, chunk, n);
	fclose(f);
	if (len)
		*len = b.len;
	return npd_buf_steal(&b);
}
