/* store_compact.c: the form in which the store keeps pods and namespaces. A decoded object
 * owns a dozen small allocations (each string, each array, arrays grown with slack); once
 * the store takes it, its shared strings (namespace, node, label keys and values, port
 * names) become references into the store's interning table, and what is the pod's alone
 * (name, uid, the label, port and IP arrays) is packed into one exact-sized block. The
 * resourceVersion of pods and namespaces is dropped: nothing reads it once stored. The
 * object keeps its address and its struct layout, so borrowers see no difference; only
 * the store may free it, through the functions here. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "npd/intern.h"
#include "npd/mem.h"
#include "store_int.h"

static size_t
align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* Interns every key and value of l into t and frees l's own copies; the array stays. */
static void
intern_labels(struct npd_intern *t, struct npd_labels *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		char *k = l->v[i].key, *v = l->v[i].value;

		/* The model types the strings as owned; the store alone knows they are not. */
		l->v[i].key = (char *)(uintptr_t)npd_intern_add(t, k);
		l->v[i].value = (char *)(uintptr_t)npd_intern_add(t, v);
		free(k);
		free(v);
	}
}

static void
release_labels(struct npd_intern *t, const struct npd_labels *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		npd_intern_del(t, l->v[i].key);
		npd_intern_del(t, l->v[i].value);
	}
}

static char *
intern_str(struct npd_intern *t, char *s)
{
	char *r = (char *)(uintptr_t)npd_intern_add(t, s);

	free(s);
	return r;
}

void
npd_store_compact_pod(struct npd_store *s, struct npd_pod *pod)
{
	size_t name_n = strlen(pod->name) + 1, uid_n = pod->uid ? strlen(pod->uid) + 1 : 0;
	size_t lab_off = align8(name_n + uid_n);
	size_t port_off = lab_off + pod->labels.n * sizeof(*pod->labels.v);
	size_t ip_off = port_off + pod->n_ports * sizeof(*pod->ports);
	char *blk = npd_xmalloc(ip_off + pod->n_ips * sizeof(*pod->ips));
	size_t i;

	/* Layout: name, uid, then (8-aligned) labels, ports, IPs: the block is pod->name. */
	memcpy(blk, pod->name, name_n);
	free(pod->name);
	pod->name = blk;
	if (pod->uid) {
		memcpy(blk + name_n, pod->uid, uid_n);
		free(pod->uid);
		pod->uid = blk + name_n;
	}
	free(pod->rv);
	pod->rv = NULL;
	pod->ns = intern_str(s->strings, pod->ns);
	pod->node = intern_str(s->strings, pod->node);
	intern_labels(s->strings, &pod->labels);
	if (pod->labels.n)
		memcpy(blk + lab_off, pod->labels.v, pod->labels.n * sizeof(*pod->labels.v));
	free(pod->labels.v);
	pod->labels.v = pod->labels.n ? (struct npd_label *)(void *)(blk + lab_off) : NULL;
	for (i = 0; i < pod->n_ports; i++)
		pod->ports[i].name = intern_str(s->strings, pod->ports[i].name);
	if (pod->n_ports)
		memcpy(blk + port_off, pod->ports, pod->n_ports * sizeof(*pod->ports));
	free(pod->ports);
	pod->ports = pod->n_ports ? (struct npd_container_port *)(void *)(blk + port_off) : NULL;
	if (pod->n_ips)
		memcpy(blk + ip_off, pod->ips, pod->n_ips * sizeof(*pod->ips));
	free(pod->ips);
	pod->ips = pod->n_ips ? (struct npd_addr *)(void *)(blk + ip_off) : NULL;
}

void
npd_store_pod_free(struct npd_store *s, struct npd_pod *pod)
{
	size_t i;

	if (!pod)
		return;
	npd_intern_del(s->strings, pod->ns);
	npd_intern_del(s->strings, pod->node);
	release_labels(s->strings, &pod->labels);
	for (i = 0; i < pod->n_ports; i++)
		npd_intern_del(s->strings, pod->ports[i].name);
	free(pod->name);
	free(pod);
}

void
npd_store_compact_namespace(struct npd_store *s, struct npd_namespace *ns)
{
	ns->name = intern_str(s->strings, ns->name);
	free(ns->rv);
	ns->rv = NULL;
	intern_labels(s->strings, &ns->labels);
}

void
npd_store_namespace_free(struct npd_store *s, struct npd_namespace *ns)
{
	if (!ns)
		return;
	npd_intern_del(s->strings, ns->name);
	release_labels(s->strings, &ns->labels);
	free(ns->labels.v);
	free(ns->uid);
	free(ns);
}
