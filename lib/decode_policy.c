/* decode_policy.c: NetworkPolicy spec to struct npd_policy. A bad rule does not drop the
 * policy: the policy is kept, marked invalid with the first problem as its reason, and its
 * rules are emptied, so it still isolates the pods it selects and admits nothing. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode_int.h"
#include "npd/addr.h"
#include "npd/mem.h"
#include "npd/selector.h"

static int
conv_expr(struct npd_conv *c, const struct npd_dnode *n, struct npd_sel_expr *e)
{
	const struct npd_dnode *vals, *v;
	const char *key, *op;
	int rc = 0;
	size_t i, m;

	if (npd_conv_check_type(c, n, NPD_DT_MAP) <= 0) {
		if (npd_conv_is_null(n))
			npd_conv_err(c, n, NPD_DIAG_TYPE, "expected object, got null");
		return -EINVAL;
	}
	if (npd_conv_str(c, n, "key", &key) < 0 || npd_conv_str(c, n, "operator", &op) < 0)
		return -EINVAL;
	if (!key) {
		/* The API server requires a key; the selector's canonical order compares keys. */
		npd_conv_err_key(c, "key", n, NPD_DIAG_VALUE, "missing selector key");
		return -EINVAL;
	}
	e->key = npd_xstrdup(key);
	if (!op) {
		npd_conv_err_key(c, "operator", n, NPD_DIAG_VALUE, "missing selector operator");
		return -EINVAL;
	}
	if (npd_sel_op_parse(op, &e->op) < 0) {
		npd_conv_err_key(c, "operator", npd_dnode_get(n, "operator"), NPD_DIAG_VALUE,
				 "unknown selector operator \"%s\"", op);
		return -EINVAL;
	}
	if (npd_conv_node(c, n, "values", NPD_DT_ARRAY, &vals) < 0)
		return -EINVAL;
	if (!vals)
		return 0;
	m = npd_conv_path_key(c, "values");
	e->values = vals->n ? npd_xcalloc(vals->n, sizeof(char *)) : NULL;
	for (i = 0, v = vals->child; v; v = v->next, i++) {
		size_t m2 = npd_conv_path_idx(c, i);
		const char *s;

		if (npd_conv_want_str(c, v, &s) < 0)
			rc = -EINVAL;
		else
			e->values[e->n_values++] = npd_xstrdup(s ? s : "");
		npd_conv_path_pop(c, m2);
	}
	npd_conv_path_pop(c, m);
	return rc;
}

/* Decodes the selector at map[key] (present, checked by the caller). */
static int
conv_selector(struct npd_conv *c, const struct npd_dnode *map, const char *key,
	      struct npd_selector *sel)
{
	const struct npd_dnode *n = npd_dnode_get(map, key), *exprs, *e;
	size_t m, m2, i, before;
	int rc = 0;

	m = npd_conv_path_key(c, key);
	if (npd_conv_labels(c, n, "matchLabels", false, &sel->match_labels) < 0)
		rc = -EINVAL;
	if (npd_conv_node(c, n, "matchExpressions", NPD_DT_ARRAY, &exprs) < 0)
		rc = -EINVAL;
	if (exprs) {
		m2 = npd_conv_path_key(c, "matchExpressions");
		sel->exprs = exprs->n ? npd_xcalloc(exprs->n, sizeof(*sel->exprs)) : NULL;
		for (i = 0, e = exprs->child; e; e = e->next, i++) {
			size_t m3 = npd_conv_path_idx(c, i);

			if (conv_expr(c, e, &sel->exprs[sel->n_exprs++]) < 0)
				rc = -EINVAL;
			npd_conv_path_pop(c, m3);
		}
		npd_conv_path_pop(c, m2);
	}
	if (rc == 0) {
		npd_selector_normalize(sel);
		before = c->diags.n;
		if (npd_selector_validate(sel, &c->diags, c->kind, c->ns, c->name, c->path.data) <
		    0) {
			npd_conv_stamp_lines(c, before, n);
			c->nerr++;
			rc = -EINVAL;
		}
	}
	npd_conv_path_pop(c, m);
	return rc;
}

static int
conv_ipblock(struct npd_conv *c, const struct npd_dnode *ib, struct npd_peer *p)
{
	const struct npd_dnode *ex, *e;
	const char *s;
	size_t m, m2, i;
	int rc = 0;

	m = npd_conv_path_key(c, "ipBlock");
	p->kind = NPD_PEER_IPBLOCK;
	if (npd_conv_str(c, ib, "cidr", &s) < 0) {
		rc = -EINVAL;
	} else if (!s) {
		npd_conv_err(c, ib, NPD_DIAG_VALUE, "ipBlock without cidr");
		rc = -EINVAL;
	} else if (npd_cidr_parse(s, false, &p->cidr) < 0) {
		npd_conv_err_key(c, "cidr", npd_dnode_get(ib, "cidr"), NPD_DIAG_VALUE,
				 "invalid CIDR \"%s\"", s);
		rc = -EINVAL;
	}
	if (npd_conv_node(c, ib, "except", NPD_DT_ARRAY, &ex) < 0)
		rc = -EINVAL;
	if (ex) {
		m2 = npd_conv_path_key(c, "except");
		p->except = ex->n ? npd_xcalloc(ex->n, sizeof(*p->except)) : NULL;
		for (i = 0, e = ex->child; e; e = e->next, i++) {
			size_t m3 = npd_conv_path_idx(c, i);
			struct npd_cidr x;

			if (npd_conv_want_str(c, e, &s) < 0) {
				rc = -EINVAL;
			} else if (!s || npd_cidr_parse(s, false, &x) < 0) {
				npd_conv_err(c, e, NPD_DIAG_VALUE, "invalid except CIDR \"%s\"",
					     s ? s : "");
				rc = -EINVAL;
			} else if (rc == 0 &&
				   (!npd_cidr_covers(&p->cidr, &x) || x.prefix <= p->cidr.prefix)) {
				/* The API server requires a strict subset of cidr. */
				npd_conv_err(c, e, NPD_DIAG_VALUE,
					     "except \"%s\" is not inside cidr", s);
				rc = -EINVAL;
			} else {
				p->except[p->n_except++] = x;
			}
			npd_conv_path_pop(c, m3);
		}
		npd_conv_path_pop(c, m2);
	}
	npd_conv_path_pop(c, m);
	return rc;
}

static int
conv_peer(struct npd_conv *c, const struct npd_dnode *n, struct npd_peer *p)
{
	const struct npd_dnode *ps, *nss, *ib;
	int rc = 0;

	if (npd_conv_check_type(c, n, NPD_DT_MAP) <= 0) {
		if (npd_conv_is_null(n))
			npd_conv_err(c, n, NPD_DIAG_TYPE, "expected object, got null");
		return -EINVAL;
	}
	if (npd_conv_node(c, n, "podSelector", NPD_DT_MAP, &ps) < 0 ||
	    npd_conv_node(c, n, "namespaceSelector", NPD_DT_MAP, &nss) < 0 ||
	    npd_conv_node(c, n, "ipBlock", NPD_DT_MAP, &ib) < 0)
		return -EINVAL;
	if (ib && (ps || nss)) {
		npd_conv_err(c, n, NPD_DIAG_VALUE,
			     "ipBlock may not be combined with podSelector or namespaceSelector");
		return -EINVAL;
	}
	if (ib)
		return conv_ipblock(c, ib, p);
	if (!ps && !nss) {
		npd_conv_err(c, n, NPD_DIAG_VALUE,
			     "peer must set podSelector, namespaceSelector or ipBlock");
		return -EINVAL;
	}
	p->kind = NPD_PEER_SELECTOR;
	if (ps) {
		p->has_pod_sel = true;
		if (conv_selector(c, n, "podSelector", &p->pod_sel) < 0)
			rc = -EINVAL;
	}
	if (nss) {
		p->has_ns_sel = true;
		if (conv_selector(c, n, "namespaceSelector", &p->ns_sel) < 0)
			rc = -EINVAL;
	}
	return rc;
}

static int
conv_port(struct npd_conv *c, const struct npd_dnode *n, struct npd_port *p)
{
	const struct npd_dnode *pn;
	const char *proto;
	long long v, end;
	bool has_end;
	size_t m;

	if (npd_conv_check_type(c, n, NPD_DT_MAP) <= 0) {
		if (npd_conv_is_null(n))
			npd_conv_err(c, n, NPD_DIAG_TYPE, "expected object, got null");
		return -EINVAL;
	}
	p->proto = NPD_PROTO_TCP;
	if (npd_conv_str(c, n, "protocol", &proto) < 0)
		return -EINVAL;
	if (proto && npd_proto_parse(proto, &p->proto) < 0) {
		npd_conv_err_key(c, "protocol", npd_dnode_get(n, "protocol"), NPD_DIAG_VALUE,
				 "unknown protocol \"%s\" (want TCP, UDP or SCTP)", proto);
		return -EINVAL;
	}
	pn = npd_dnode_get(n, "port");
	if (!npd_conv_is_null(pn)) {
		m = npd_conv_path_key(c, "port");
		if (npd_dnode_int(pn, &v) == 0) {
			if (v < 1 || v > 65535) {
				npd_conv_err(c, pn, NPD_DIAG_VALUE,
					     "port %lld out of range 1-65535", v);
				npd_conv_path_pop(c, m);
				return -EINVAL;
			}
			p->port = (uint16_t)v;
		} else if (pn->type == NPD_DT_STRING || pn->type == NPD_DT_PLAIN) {
			/* IntOrString: a string is a named port, even when it looks numeric. */
			if (!npd_is_port_name(pn->text)) {
				npd_conv_err(c, pn, NPD_DIAG_VALUE, "invalid port name \"%s\"",
					     pn->text);
				npd_conv_path_pop(c, m);
				return -EINVAL;
			}
			p->name = npd_xstrdup(pn->text);
		} else {
			npd_conv_err(c, pn, NPD_DIAG_TYPE, "expected integer or string, got %s",
				     npd_conv_type_name(pn->type));
			npd_conv_path_pop(c, m);
			return -EINVAL;
		}
		npd_conv_path_pop(c, m);
		p->has_port = true;
	}
	if (npd_conv_int(c, n, "endPort", &end, &has_end) < 0)
		return -EINVAL;
	if (!has_end)
		return 0;
	m = npd_conv_path_key(c, "endPort");
	if (!p->has_port || p->name) {
		npd_conv_err(c, npd_dnode_get(n, "endPort"), NPD_DIAG_VALUE,
			     "endPort requires a numeric port");
	} else if (end < p->port || end > 65535) {
		npd_conv_err(c, npd_dnode_get(n, "endPort"), NPD_DIAG_VALUE,
			     "endPort %lld must be between port %u and 65535", end, p->port);
	} else {
		p->end_port = (uint16_t)end;
		npd_conv_path_pop(c, m);
		return 0;
	}
	npd_conv_path_pop(c, m);
	return -EINVAL;
}

static int
conv_rule(struct npd_conv *c, const struct npd_dnode *n, const char *peers_key,
	  struct npd_policy_rule *r)
{
	const struct npd_dnode *peers, *ports, *e;
	size_t m, i;
	int rc = 0;

	if (npd_conv_is_null(n))
		return 0; /* "- {}" and "-" both allow everything, as in the API */
	if (npd_conv_check_type(c, n, NPD_DT_MAP) < 0)
		return -EINVAL;
	if (npd_conv_node(c, n, peers_key, NPD_DT_ARRAY, &peers) < 0)
		rc = -EINVAL;
	if (peers) {
		m = npd_conv_path_key(c, peers_key);
		r->peers = peers->n ? npd_xcalloc(peers->n, sizeof(*r->peers)) : NULL;
		for (i = 0, e = peers->child; e; e = e->next, i++) {
			size_t m2 = npd_conv_path_idx(c, i);

			if (conv_peer(c, e, &r->peers[r->n_peers++]) < 0)
				rc = -EINVAL;
			npd_conv_path_pop(c, m2);
		}
		npd_conv_path_pop(c, m);
	}
	if (npd_conv_node(c, n, "ports", NPD_DT_ARRAY, &ports) < 0)
		rc = -EINVAL;
	if (ports) {
		m = npd_conv_path_key(c, "ports");
		r->ports = ports->n ? npd_xcalloc(ports->n, sizeof(*r->ports)) : NULL;
		for (i = 0, e = ports->child; e; e = e->next, i++) {
			size_t m2 = npd_conv_path_idx(c, i);

			if (conv_port(c, e, &r->ports[r->n_ports++]) < 0)
				rc = -EINVAL;
			npd_conv_path_pop(c, m2);
		}
		npd_conv_path_pop(c, m);
	}
	return rc;
}

static int
conv_rules(struct npd_conv *c, const struct npd_dnode *spec, const char *key, const char *peers_key,
	   struct npd_policy_rule **out, size_t *n_out, bool *nonempty)
{
	const struct npd_dnode *rules = npd_dnode_get(spec, key), *e;
	size_t m, i;
	int rc;

	*nonempty = !npd_conv_is_null(rules) && (rules->type != NPD_DT_ARRAY || rules->n > 0);
	m = npd_conv_path_key(c, key);
	rc = npd_conv_check_type(c, rules, NPD_DT_ARRAY);
	if (rc > 0) {
		rc = 0;
		*out = rules->n ? npd_xcalloc(rules->n, sizeof(**out)) : NULL;
		for (i = 0, e = rules->child; e; e = e->next, i++) {
			size_t m2 = npd_conv_path_idx(c, i);

			if (conv_rule(c, e, peers_key, &(*out)[(*n_out)++]) < 0)
				rc = -EINVAL;
			npd_conv_path_pop(c, m2);
		}
	}
	npd_conv_path_pop(c, m);
	return rc;
}

static void
drop_rules(struct npd_policy_rule **v, size_t *n)
{
	size_t i;

	for (i = 0; i < *n; i++)
		npd_policy_rule_fini(&(*v)[i]);
	free(*v);
	*v = NULL;
	*n = 0;
}

int
npd_conv_policy(struct npd_conv *c, const struct npd_dnode *root, struct npd_policy *pol)
{
	const struct npd_dnode *spec, *types, *e;
	size_t m, i, before;
	bool ing_ne, eg_ne, any_types = false;
	int rc = 0;

	if (npd_conv_node(c, root, "spec", NPD_DT_MAP, &spec) < 0)
		return -EINVAL;
	m = npd_conv_path_key(c, "spec");
	if (npd_conv_node(c, spec, "podSelector", NPD_DT_MAP, &e) < 0 ||
	    (e && conv_selector(c, spec, "podSelector", &pol->pod_sel) < 0) ||
	    npd_conv_node(c, spec, "policyTypes", NPD_DT_ARRAY, &types) < 0) {
		npd_conv_path_pop(c, m);
		return -EINVAL;
	}
	npd_conv_path_pop(c, m);
	if (types) {
		m = npd_conv_path_key(c, "spec.policyTypes");
		for (i = 0, e = types->child; e; e = e->next, i++) {
			size_t m2 = npd_conv_path_idx(c, i);
			const char *t;

			if (npd_conv_want_str(c, e, &t) < 0) {
				rc = -EINVAL;
			} else if (t && !strcmp(t, "Ingress")) {
				pol->isolates_ingress = any_types = true;
			} else if (t && !strcmp(t, "Egress")) {
				pol->isolates_egress = any_types = true;
			} else {
				npd_conv_err(c, e, NPD_DIAG_VALUE,
					     "unknown policy type \"%s\" (want Ingress or Egress)",
					     t ? t : "");
				rc = -EINVAL;
			}
			npd_conv_path_pop(c, m2);
		}
		npd_conv_path_pop(c, m);
		if (rc < 0)
			return rc;
	}

	before = c->diags.n;
	m = npd_conv_path_key(c, "spec");
	if (conv_rules(c, spec, "ingress", "from", &pol->ingress, &pol->n_ingress, &ing_ne) < 0)
		rc = -EINVAL;
	if (conv_rules(c, spec, "egress", "to", &pol->egress, &pol->n_egress, &eg_ne) < 0)
		rc = -EINVAL;
	npd_conv_path_pop(c, m);
	(void)ing_ne;
	if (!any_types) {
		/* The API server's default: Ingress always, Egress when egress rules exist. A
		 * malformed egress field counts as present: isolating more never widens. */
		pol->isolates_ingress = true;
		pol->isolates_egress = eg_ne;
	}
	if (rc < 0) {
		const struct npd_diag *dg = before < c->diags.n ? &c->diags.v[before] : NULL;

		pol->invalid = true;
		pol->invalid_reason =
		    dg ? npd_xasprintf("%s: %s", dg->path ? dg->path : "spec", dg->msg)
		       : npd_xstrdup("invalid rule");
		drop_rules(&pol->ingress, &pol->n_ingress);
		drop_rules(&pol->egress, &pol->n_egress);
	}
	return 0;
}
