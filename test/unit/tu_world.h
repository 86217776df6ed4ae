/* tu_world.h: a seeded generator of small random clusters (namespaces, pods on two nodes,
 * network policies) for differential tests. A world is a plain description the generator
 * owns; it renders as Kubernetes manifests (YAML), so every case a test prints can be
 * replayed with `netpolctl simulate -f` and `netpolctl render -f`, and it can be shrunk
 * piece by piece to a minimal case that still shows a failure. */
#ifndef NPD_TU_WORLD_H
#define NPD_TU_WORLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "npd/addr.h"
#include "npd/buf.h"
#include "npd/store.h"

#define TU_W_MAX 8

/* A label selector: matchLabels pairs and matchExpressions, as text. */
struct tu_w_expr {
	const char *key, *op; /* op: In, NotIn, Exists, DoesNotExist */
	const char *values[3];
	int n_values;
};
struct tu_w_sel {
	const char *keys[3], *vals[3];
	int n_labels;
	struct tu_w_expr exprs[2];
	int n_exprs;
};

struct tu_w_peer {
	int kind; /* 0 podSelector, 1 namespaceSelector, 2 both, 3 ipBlock */
	struct tu_w_sel pod, ns;
	const char *cidr;
	const char *except[2];
	int n_except;
};

struct tu_w_port {
	const char *proto; /* NULL: absent (TCP) */
	int port;	   /* 0: absent or named */
	const char *name;  /* named port */
	int end_port;	   /* 0: absent */
};

struct tu_w_rule {
	struct tu_w_peer peers[3];
	int n_peers;
	struct tu_w_port ports[3];
	int n_ports;
};

struct tu_w_policy {
	char name[16];
	const char *ns;
	struct tu_w_sel sel;
	int types; /* bit 0 Ingress, bit 1 Egress listed in policyTypes; -1: policyTypes absent */
	bool has_ingress, has_egress; /* the list is present (possibly empty) */
	struct tu_w_rule ingress[3], egress[3];
	int n_ingress, n_egress;
};

struct tu_w_cport {
	const char *name, *proto;
	int port;
};

struct tu_w_pod {
	char name[16];
	const char *ns;
	const char *keys[3], *vals[3];
	int n_labels;
	int node;	   /* 1 or 2 */
	const char *phase; /* Running, Pending, Succeeded, Failed */
	bool host_network;
	char ip4[NPD_ADDRSTRLEN], ip6[NPD_ADDRSTRLEN]; /* "" when absent */
	struct tu_w_cport ports[3];
	int n_ports;
};

struct tu_w_ns {
	const char *name;
	const char *keys[2], *vals[2];
	int n_labels;
};

struct tu_world {
	uint64_t seed;
	struct tu_w_ns ns[4];
	int n_ns;
	struct tu_w_pod pods[TU_W_MAX];
	int n_pods;
	struct tu_w_policy pols[4];
	int n_pols;
};

/* A fresh seeded random world. */
void tu_world_gen(struct tu_world *w, uint64_t seed);
/* Regenerates one namespace's labels, pod idx or policy idx of w in place from the
 * random state r, as tu_world_gen would (names and addresses follow idx). */
void tu_world_gen_ns(struct tu_world *w, int idx, uint64_t *r);
void tu_world_gen_pod(struct tu_world *w, int idx, uint64_t *r);
void tu_world_gen_policy(struct tu_world *w, int idx, uint64_t *r);
/* Kubernetes manifests (multi-document YAML) for w, appended to out. */
void tu_world_render(const struct tu_world *w, struct npd_buf *out);
/* Decodes the rendered manifests into a new store; aborts the test on a decode error. */
struct npd_store *tu_world_store(const struct tu_world *w);
/* The addresses a probe may start from or go to: every pod IP of a pod that runs
 * (hostNetwork pods have their node's address) plus one address outside the cluster per
 * family. Returns the count written to out (at most max). */
size_t tu_world_endpoints(const struct tu_world *w, struct npd_addr *out, size_t max);

/* Shrinking: the number of pieces of w that can be removed one at a time, and a copy of
 * w without piece i (a policy, rule, peer, port, pod, label or namespace label). */
size_t tu_world_pieces(const struct tu_world *w);
void tu_world_without(const struct tu_world *w, size_t piece, struct tu_world *out);

/* xorshift64*: small, seedable, the same on every machine. */
uint64_t tu_rand(uint64_t *state);
/* A seed from $name when set (decimal or 0x hex), else from the clock; printed by caller. */
uint64_t tu_seed_from_env(const char *name);

#endif
