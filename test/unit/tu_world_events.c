/* tu_world_events.c: the event generator of tu_world_events.h. Every event edits the world
 * description, renders only the object it touched and feeds the decoded object to the
 * store as ADDED/MODIFIED (an add or replace) or DELETED. Addresses come from a pool of
 * ten per node and family, so reuse by another pod happens often. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "npd/diag.h"
#include "npd/yaml.h"
#include "tu_world_events.h"

struct apply_ctx {
	struct npd_store *s;
	bool del;
};

static void
apply_event(struct npd_event *ev, void *arg)
{
	struct apply_ctx *a = arg;

	if (a->del)
		ev->type = NPD_EV_DELETED;
	ck_assert_int_ge(npd_store_apply(a->s, ev), 0);
	npd_event_fini(ev);
}

/* Renders a world holding only the given namespace, pod or policy and applies it. */
static void
apply_one(struct npd_store *s, const struct tu_w_ns *n, const struct tu_w_pod *p,
	  const struct tu_w_policy *pol, bool del)
{
	struct apply_ctx a = {.s = s, .del = del};
	struct tu_world one;
	struct npd_diags d;
	struct npd_buf b;
	int rc;

	memset(&one, 0, sizeof(one));
	if (n)
		one.ns[one.n_ns++] = *n;
	if (p)
		one.pods[one.n_pods++] = *p;
	if (pol)
		one.pols[one.n_pols++] = *pol;
	npd_buf_init(&b);
	npd_diags_init(&d);
	tu_world_render(&one, &b);
	rc = npd_yaml_decode_buf(b.data, b.len, "event.yaml", apply_event, &a, &d);
	if (rc || d.n)
		ck_abort_msg("event does not decode (%d, %zu diagnostics: %s):\n%s", rc, d.n,
			     d.n ? d.v[0].msg : "", b.data);
	npd_diags_fini(&d);
	npd_buf_fini(&b);
}

#define apply_pod(s, p, del) apply_one(s, NULL, p, NULL, del)
#define apply_ns(s, n, del) apply_one(s, n, NULL, NULL, del)
#define apply_policy(s, p, del) apply_one(s, NULL, NULL, p, del)

static unsigned
pick(struct tu_churn *c, unsigned n)
{
	return (unsigned)(tu_rand(&c->r) % n);
}

/* A pool address for p's node, or another pod's (a reuse), or none. */
static void
readdress(struct tu_churn *c, struct tu_w_pod *p)
{
	unsigned k = pick(c, 10);

	p->ip4[0] = p->ip6[0] = '\0';
	if (p->host_network) {
		snprintf(p->ip4, sizeof(p->ip4), "192.168.254.%d", p->node);
		return;
	}
	if (k == 0)
		return;
	if (k == 1 && c->w.n_pods) {
		const struct tu_w_pod *o = &c->w.pods[pick(c, (unsigned)c->w.n_pods)];

		memcpy(p->ip4, o->ip4, sizeof(p->ip4));
		memcpy(p->ip6, o->ip6, sizeof(p->ip6));
		return;
	}
	snprintf(p->ip4, sizeof(p->ip4), "10.244.%d.%u", p->node, 10 + pick(c, 10));
	if (pick(c, 2))
		snprintf(p->ip6, sizeof(p->ip6), "fd00:244:%d::%x", p->node, 0x10 + pick(c, 10));
}

/* A fresh random pod in slot idx (named anew unless keep_name). */
static void
new_pod(struct tu_churn *c, int idx, bool keep_name)
{
	struct tu_w_pod *p = &c->w.pods[idx];
	char name[sizeof(p->name)];

	memcpy(name, p->name, sizeof(name));
	tu_world_gen_pod(&c->w, idx, &c->r);
	if (keep_name)
		memcpy(p->name, name, sizeof(name));
	else
		snprintf(p->name, sizeof(p->name), "p%u", c->serial++);
	readdress(c, p);
}

static void
del_pod(struct tu_churn *c, struct npd_store *s, int idx)
{
	apply_pod(s, &c->w.pods[idx], true);
	c->w.pods[idx] = c->w.pods[--c->w.n_pods];
}

struct npd_store *
tu_churn_init(struct tu_churn *c, uint64_t seed)
{
	memset(c, 0, sizeof(*c));
	tu_world_gen(&c->w, seed);
	c->r = seed ^ 0x5bd1e9955bd1e995ULL;
	c->serial = 100;
	return tu_world_store(&c->w);
}

static void
pod_event(struct tu_churn *c, struct npd_store *s, unsigned kind, struct npd_buf *what)
{
	int i = (int)pick(c, (unsigned)c->w.n_pods);
	struct tu_w_pod *p = &c->w.pods[i];
	unsigned k;

	switch (kind) {
	case 1:
		npd_buf_printf(what, "delete pod %s/%s", p->ns, p->name);
		del_pod(c, s, i);
		return;
	case 2:
		p->n_labels = (int)pick(c, 4);
		for (k = 0; k < (unsigned)p->n_labels; k++) {
			static const char *const keys[] = {"app", "tier", "team"};
			static const char *const vals[] = {"a", "b", "c"};

			p->keys[k] = keys[k % 3];
			p->vals[k] = vals[pick(c, 3)];
		}
		if (p->n_labels > 3)
			p->n_labels = 3;
		npd_buf_printf(what, "relabel pod %s/%s", p->ns, p->name);
		break;
	case 3:
		switch (pick(c, 5)) {
		case 0:
			p->phase = pick(c, 2) ? "Succeeded" : "Failed";
			break;
		case 1:
			p->phase = pick(c, 2) ? "Running" : "Pending";
			break;
		case 2:
			p->host_network = !p->host_network;
			break;
		case 3:
			/* A status-only update: the store keeps the pod it has. */
			if (!strcmp(p->phase, "Running") || !strcmp(p->phase, "Pending"))
				p->phase = strcmp(p->phase, "Running") ? "Running" : "Pending";
			npd_buf_printf(what, "status of pod %s/%s (%s)", p->ns, p->name, p->phase);
			apply_pod(s, p, false);
			return;
		default:
			break;
		}
		readdress(c, p);
		npd_buf_printf(what, "readdress pod %s/%s (%s %s %s%s)", p->ns, p->name, p->phase,
			       p->ip4, p->ip6, p->host_network ? " hostNetwork" : "");
		break;
	case 4: {
		struct tu_w_pod moved = *p;

		npd_buf_printf(what, "move pod %s/%s", p->ns, p->name);
		apply_pod(s, p, true);
		moved.ns = c->w.ns[pick(c, (unsigned)c->w.n_ns)].name;
		*p = moved;
		npd_buf_printf(what, " to %s", p->ns);
		break;
	}
	case 5:
		new_pod(c, i, true);
		npd_buf_printf(what, "replace pod %s/%s (node%d)", p->ns, p->name, p->node);
		break;
	default:
		p->node = 3 - p->node;
		npd_buf_printf(what, "reschedule pod %s/%s to node%d", p->ns, p->name, p->node);
		break;
	}
	apply_pod(s, p, false);
}

void
tu_churn_step(struct tu_churn *c, struct npd_store *s, struct npd_buf *what)
{
	unsigned kind = pick(c, 14);
	int i;

	npd_buf_reset(what);
	if (kind <= 6 && (c->w.n_pods == 0 || (kind == 0 && c->w.n_pods < TU_W_MAX))) {
		i = c->w.n_pods++;
		new_pod(c, i, false);
		npd_buf_printf(what, "add pod %s/%s (node%d %s %s)", c->w.pods[i].ns,
			       c->w.pods[i].name, c->w.pods[i].node, c->w.pods[i].ip4,
			       c->w.pods[i].ip6);
		apply_pod(s, &c->w.pods[i], false);
		return;
	}
	if (kind <= 6) {
		pod_event(c, s, kind == 0 ? 2 : kind, what);
		return;
	}
	i = (int)pick(c, (unsigned)c->w.n_ns);
	if (kind <= 8) {
		tu_world_gen_ns(&c->w, i, &c->r);
		c->ns_gone[i] = false;
		npd_buf_printf(what, "relabel namespace %s", c->w.ns[i].name);
		apply_ns(s, &c->w.ns[i], false);
		return;
	}
	if (kind == 9) {
		c->ns_gone[i] = !c->ns_gone[i];
		npd_buf_printf(what, "%s namespace %s", c->ns_gone[i] ? "delete" : "add",
			       c->w.ns[i].name);
		apply_ns(s, &c->w.ns[i], c->ns_gone[i]);
		return;
	}
	if (kind == 10 && c->w.n_pols < 4) {
		i = c->w.n_pols++;
		tu_world_gen_policy(&c->w, i, &c->r);
		snprintf(c->w.pols[i].name, sizeof(c->w.pols[i].name), "pol%u", c->serial++);
		npd_buf_printf(what, "add policy %s/%s", c->w.pols[i].ns, c->w.pols[i].name);
		apply_policy(s, &c->w.pols[i], false);
		return;
	}
	if (!c->w.n_pols) {
		npd_buf_adds(what, "nothing");
		return;
	}
	i = (int)pick(c, (unsigned)c->w.n_pols);
	if (kind == 13) {
		npd_buf_printf(what, "delete policy %s/%s", c->w.pols[i].ns, c->w.pols[i].name);
		apply_policy(s, &c->w.pols[i], true);
		c->w.pols[i] = c->w.pols[--c->w.n_pols];
		return;
	}
	{
		char name[sizeof(c->w.pols[i].name)];
		const char *ns = c->w.pols[i].ns;

		memcpy(name, c->w.pols[i].name, sizeof(name));
		tu_world_gen_policy(&c->w, i, &c->r);
		memcpy(c->w.pols[i].name, name, sizeof(name));
		c->w.pols[i].ns = ns;
		npd_buf_printf(what, "change policy %s/%s", ns, name);
		apply_policy(s, &c->w.pols[i], false);
	}
}
