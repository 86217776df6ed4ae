/* decode_object.c: the converter's entry point: checks the kind and the metadata, and
 * turns namespaces and pods into the model itself; policies go to decode_policy.c. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode_int.h"
#include "npd/addr.h"
#include "npd/buf.h"
#include "npd/mem.h"

static int
parse_ips(struct npd_conv *c, const struct npd_dnode *status, struct npd_pod *pod)
{
	const struct npd_dnode *ips, *e;
	const char *s;
	size_t m, i, j, cap = 0;
	struct npd_addr a;
	int rc = 0;

	if (npd_conv_node(c, status, "podIPs", NPD_DT_ARRAY, &ips) < 0)
		return -EINVAL;
	for (i = 0, e = ips ? ips->child : NULL; e; e = e->next, i++) {
		m = npd_conv_path_key(c, "podIPs");
		npd_conv_path_idx(c, i);
		if (npd_conv_check_type(c, e, NPD_DT_MAP) < 0 || npd_conv_str(c, e, "ip", &s) < 0) {
			rc = -EINVAL;
		} else if (s && npd_addr_parse(s, &a) < 0) {
			npd_conv_path_key(c, "ip");
			npd_conv_err(c, npd_dnode_get(e, "ip"), NPD_DIAG_VALUE, "invalid IP \"%s\"",
				     s);
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
		npd_conv_path_pop(c, m);
	}
	if (npd_conv_str(c, status, "podIP", &s) < 0)
		return -EINVAL;
	if (s && npd_addr_parse(s, &a) < 0) {
		npd_conv_err_key(c, "podIP", npd_dnode_get(status, "podIP"), NPD_DIAG_VALUE,
				 "invalid IP \"%s\"", s);
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
conv_cports(struct npd_conv *c, const struct npd_dnode *ctr, struct npd_pod *pod, size_t *cap)
{
	const struct npd_dnode *ports, *e;
	size_t m, i;
	int rc = 0;

	if (npd_conv_check_type(c, ctr, NPD_DT_MAP) < 0)
		return -EINVAL;
	rc = npd_conv_node(c, ctr, "ports", NPD_DT_ARRAY, &ports);
	if (rc <= 0)
		return rc;
	rc = 0;
	m = npd_conv_path_key(c, "ports");
	for (i = 0, e = ports->child; e; e = e->next, i++) {
		size_t m2 = npd_conv_path_idx(c, i);
		struct npd_container_port cp = {NULL, 0, NPD_PROTO_TCP};
		const char *name, *proto;
		long long v;
		bool has;

		if (npd_conv_check_type(c, e, NPD_DT_MAP) <= 0 ||
		    npd_conv_str(c, e, "name", &name) < 0 ||
		    npd_conv_str(c, e, "protocol", &proto) < 0 ||
		    npd_conv_int(c, e, "containerPort", &v, &has) < 0) {
			if (npd_conv_is_null(e))
				npd_conv_err(c, e, NPD_DIAG_TYPE, "expected object, got null");
			rc = -EINVAL;
		} else if (!has || v < 1 || v > 65535) {
			npd_conv_path_key(c, "containerPort");
			npd_conv_err(c, e, NPD_DIAG_VALUE,
				     "containerPort missing or out of range 1-65535");
			rc = -EINVAL;
		} else if (name && !npd_is_port_name(name)) {
			npd_conv_path_key(c, "name");
			npd_conv_err(c, e, NPD_DIAG_VALUE, "invalid port name \"%s\"", name);
			rc = -EINVAL;
		} else if (proto && npd_proto_parse(proto, &cp.proto) < 0) {
			npd_conv_path_key(c, "protocol");
			npd_conv_err(c, e, NPD_DIAG_VALUE, "unknown protocol \"%s\"", proto);
			rc = -EINVAL;
		} else {
			cp.port = (uint16_t)v;
			cp.name = npd_xstrdup(name);
			npd_xgrow(&pod->ports, cap, pod->n_ports + 1, sizeof(*pod->ports));
			pod->ports[pod->n_ports++] = cp;
		}
		npd_conv_path_pop(c, m2);
	}
	npd_conv_path_pop(c, m);
	return rc;
}

static int
conv_pod(struct npd_conv *c, const struct npd_dnode *root, struct npd_pod *pod)
{
	const struct npd_dnode *spec, *status, *ctrs, *e;
	const char *s;
	size_t m, i, cap = 0;
	int rc = 0;

	if (npd_conv_node(c, root, "spec", NPD_DT_MAP, &spec) < 0 ||
	    npd_conv_node(c, root, "status", NPD_DT_MAP, &status) < 0)
		return -EINVAL;
	m = npd_conv_path_key(c, "spec");
	if (npd_conv_str(c, spec, "nodeName", &s) < 0 ||
	    npd_conv_bool(c, spec, "hostNetwork", &pod->host_network) < 0 ||
	    npd_conv_node(c, spec, "containers", NPD_DT_ARRAY, &ctrs) < 0) {
		npd_conv_path_pop(c, m);
		return -EINVAL;
	}
	pod->node = npd_xstrdup(s);
	if (ctrs) {
		size_t m2 = npd_conv_path_key(c, "containers");

		for (i = 0, e = ctrs->child; e; e = e->next, i++) {
			size_t m3 = npd_conv_path_idx(c, i);

			if (conv_cports(c, e, pod, &cap) < 0)
				rc = -EINVAL;
			npd_conv_path_pop(c, m3);
		}
		npd_conv_path_pop(c, m2);
	}
	npd_conv_path_pop(c, m);
	if (rc < 0)
		return rc;

	m = npd_conv_path_key(c, "status");
	if (npd_conv_str(c, status, "phase", &s) < 0) {
		rc = -EINVAL;
	} else if (s && npd_phase_parse(s, &pod->phase) < 0) {
		npd_conv_path_key(c, "phase");
		npd_conv_err(c, npd_dnode_get(status, "phase"), NPD_DIAG_VALUE,
			     "unknown phase \"%s\"", s);
		rc = -EINVAL;
	} else if (parse_ips(c, status, pod) < 0) {
		rc = -EINVAL;
	}
	npd_conv_path_pop(c, m);
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
resolve_kind(struct npd_conv *c, const struct npd_dnode *n, const struct npd_dec_opts *o,
	     enum npd_kind *out)
{
	const char *kind = npd_dnode_strp(n, "kind", NULL);
	const char *api = npd_dnode_strp(n, "apiVersion", NULL);
	enum npd_kind k;

	if (o->yaml) {
		if (!kind) {
			npd_conv_err(c, n, NPD_DIAG_UNSUPPORTED, "document has no kind");
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
			npd_conv_err(c, n, NPD_DIAG_UNSUPPORTED, "object has no kind");
			return -EINVAL;
		}
		*out = o->default_kind;
		return 0;
	}
	if (kind_from_name(kind, out) < 0) {
		npd_conv_err(c, n, NPD_DIAG_UNSUPPORTED, "unexpected kind \"%s\"", kind);
		return -EINVAL;
	}
	return 0;
}

/* The identity every kind shares, borrowed from the tree. */
struct meta {
	const char *name, *ns, *uid, *rv;
};

/* Copies m into an object's fields; ns is NULL for kinds without a namespace. */
static void
copy_meta(const struct meta *m, char **name, char **ns, char **uid, char **rv)
{
	*name = npd_xstrdup(m->name);
	if (ns)
		*ns = npd_xstrdup(m->ns);
	*uid = npd_xstrdup(m->uid);
	*rv = npd_xstrdup(m->rv);
}

int
npd_dec_convert(const struct npd_dnode *n, const struct npd_dec_opts *o, struct npd_object *out,
		struct npd_diags *d)
{
	struct npd_conv c;
	struct npd_object obj = {NPD_KIND__COUNT, {NULL}};
	const struct npd_dnode *meta;
	const char *name, *ns, *uid, *rv;
	struct meta md;
	bool has_gen;
	enum npd_kind k;
	int rc;

	memset(&c, 0, sizeof(c));
	npd_diags_init(&c.diags);
	npd_buf_init(&c.path);
	c.file = o->file;
	if (npd_conv_check_type(&c, n, NPD_DT_MAP) <= 0) {
		if (npd_conv_is_null(n))
			npd_conv_err(&c, n, NPD_DIAG_TYPE, "expected object, got null");
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
	if (npd_conv_node(&c, n, "metadata", NPD_DT_MAP, &meta) < 0)
		goto out;
	npd_conv_path_key(&c, "metadata");
	if (npd_conv_str(&c, meta, "name", &name) < 0 ||
	    npd_conv_str(&c, meta, "namespace", &ns) < 0 ||
	    npd_conv_str(&c, meta, "uid", &uid) < 0 ||
	    npd_conv_str(&c, meta, "resourceVersion", &rv) < 0)
		goto out;
	if (!name || !*name) {
		npd_conv_path_key(&c, "name");
		npd_conv_err(&c, meta ? meta : n, NPD_DIAG_VALUE, "missing metadata.name");
		goto out;
	}
	if (k != NPD_KIND_NAMESPACE && !c.ns) {
		npd_conv_path_key(&c, "namespace");
		npd_conv_err(&c, meta, NPD_DIAG_VALUE, "missing metadata.namespace");
		goto out;
	}
	/* As the API server validates them: names then never hold the '/' or '|' that the
	 * store's keys and the compiler's chain identities put between fields. */
	if (k == NPD_KIND_NAMESPACE ? !npd_is_dns_label(name) : !npd_is_dns_subdomain(name)) {
		npd_conv_path_key(&c, "name");
		npd_conv_err(&c, npd_dnode_get(meta, "name"), NPD_DIAG_VALUE,
			     k == NPD_KIND_NAMESPACE
				 ? "metadata.name \"%s\" is not a DNS-1123 label (at most 63 "
				   "lowercase letters, digits and '-', alphanumeric at both ends)"
				 : "metadata.name \"%s\" is not a DNS-1123 subdomain (at most 253 "
				   "lowercase letters, digits, '-' and '.', labels alphanumeric at "
				   "both ends)",
			     name);
		goto out;
	}
	if (k != NPD_KIND_NAMESPACE && !npd_is_dns_label(c.ns)) {
		npd_conv_path_key(&c, "namespace");
		npd_conv_err(&c, ns ? npd_dnode_get(meta, "namespace") : meta, NPD_DIAG_VALUE,
			     "metadata.namespace \"%s\" is not a DNS-1123 label (at most 63 "
			     "lowercase letters, digits and '-', alphanumeric at both ends)",
			     c.ns);
		goto out;
	}
	md.name = name;
	md.ns = c.ns;
	md.uid = uid;
	md.rv = rv;
	obj.kind = k;
	switch (k) {
	case NPD_KIND_NAMESPACE:
		obj.u.ns = npd_namespace_new();
		copy_meta(&md, &obj.u.ns->name, NULL, &obj.u.ns->uid, &obj.u.ns->rv);
		if (npd_conv_labels(&c, meta, "labels", true, &obj.u.ns->labels) < 0)
			goto out;
		/* The API server labels every namespace with its own name. */
		if (!npd_labels_get(&obj.u.ns->labels, "kubernetes.io/metadata.name"))
			npd_labels_set(&obj.u.ns->labels, "kubernetes.io/metadata.name", name);
		break;
	case NPD_KIND_POD:
		obj.u.pod = npd_pod_new();
		copy_meta(&md, &obj.u.pod->name, &obj.u.pod->ns, &obj.u.pod->uid, &obj.u.pod->rv);
		if (npd_conv_labels(&c, meta, "labels", true, &obj.u.pod->labels) < 0)
			goto out;
		npd_conv_path_pop(&c, 0);
		if (conv_pod(&c, n, obj.u.pod) < 0)
			goto out;
		break;
	case NPD_KIND_POLICY:
		obj.u.policy = npd_policy_new();
		copy_meta(&md, &obj.u.policy->name, &obj.u.policy->ns, &obj.u.policy->uid,
			  &obj.u.policy->rv);
		if (npd_conv_int(&c, meta, "generation", &obj.u.policy->generation, &has_gen) < 0)
			goto out;
		npd_conv_path_pop(&c, 0);
		if (npd_conv_policy(&c, n, obj.u.policy) < 0)
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
