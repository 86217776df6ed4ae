/* model.h: the object model netpold keeps of the cluster: only what policy needs.
 * Objects are plain structs owned by whoever holds them (the store, once added there);
 * every string and array inside an object is owned by that object. */
#ifndef NPD_MODEL_H
#define NPD_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "npd/addr.h"

struct npd_label {
	char *key;
	char *value;
};

/* Labels kept sorted by key, keys unique. */
struct npd_labels {
	struct npd_label *v;
	size_t n;
};

enum npd_sel_op {
	NPD_SEL_IN,
	NPD_SEL_NOT_IN,
	NPD_SEL_EXISTS,
	NPD_SEL_DOES_NOT_EXIST,
};

struct npd_sel_expr {
	char *key;
	enum npd_sel_op op;
	char **values; /* sorted, unique */
	size_t n_values;
};

/* A LabelSelector. With no matchLabels and no expressions it selects everything. */
struct npd_selector {
	struct npd_labels match_labels;
	struct npd_sel_expr *exprs;
	size_t n_exprs;
};

struct npd_namespace {
	char *name;
	char *uid;
	char *rv; /* resourceVersion, may be NULL */
	struct npd_labels labels;
	uint32_t listed; /* the store's: the last list that held it (npd_store_apply_listed) */
};

enum npd_proto {
	NPD_PROTO_TCP = 6,
	NPD_PROTO_UDP = 17,
	NPD_PROTO_SCTP = 132,
};

struct npd_container_port {
	char *name; /* may be NULL: unnamed ports cannot be referenced by name */
	uint16_t port;
	enum npd_proto proto;
};

enum npd_pod_phase {
	NPD_PHASE_UNKNOWN,
	NPD_PHASE_PENDING,
	NPD_PHASE_RUNNING,
	NPD_PHASE_SUCCEEDED,
	NPD_PHASE_FAILED,
};

struct npd_pod {
	char *ns;
	char *name;
	char *uid;
	char *rv;
	char *node; /* spec.nodeName, may be NULL */
	struct npd_labels labels;
	struct npd_addr *ips; /* status.podIPs (or podIP), v4 and v6 */
	size_t n_ips;
	enum npd_pod_phase phase;
	bool host_network;
	uint32_t listed;		  /* the store's, as a namespace's */
	struct npd_container_port *ports; /* all containers' named and unnamed ports */
	size_t n_ports;
};

/* One entry of a rule's from/to list. */
enum npd_peer_kind {
	NPD_PEER_SELECTOR, /* podSelector and/or namespaceSelector */
	NPD_PEER_IPBLOCK,
};

struct npd_peer {
	enum npd_peer_kind kind;
	/* NPD_PEER_SELECTOR: has_ns_sel=false means "the policy's own namespace"; has_pod_sel=false
	 * means "all pods" of the selected namespaces. Both set is an AND. */
	bool has_pod_sel;
	bool has_ns_sel;
	struct npd_selector pod_sel;
	struct npd_selector ns_sel;
	/* NPD_PEER_IPBLOCK */
	struct npd_cidr cidr;
	struct npd_cidr *except;
	size_t n_except;
};

struct npd_port {
	enum npd_proto proto; /* defaults to TCP */
	bool has_port;	      /* false: every port of proto */
	uint16_t port;	      /* numeric port, 0 when named */
	char *name;	      /* named port (IANA_SVC_NAME), NULL when numeric */
	uint16_t end_port;    /* 0: no range; else port..end_port inclusive */
};

/* One ingress or egress rule. n_peers == 0 matches every peer; n_ports == 0 every port. */
struct npd_policy_rule {
	struct npd_peer *peers;
	size_t n_peers;
	struct npd_port *ports;
	size_t n_ports;
};

struct npd_policy {
	char *ns;
	char *name;
	char *uid;
	char *rv;
	long long generation; /* metadata.generation; 0 when absent */
	struct npd_selector pod_sel;
	/* Effective policyTypes: as given, or by the API server's default (Ingress always,
	 * Egress when the egress list is non-empty). */
	bool isolates_ingress;
	bool isolates_egress;
	struct npd_policy_rule *ingress;
	size_t n_ingress;
	struct npd_policy_rule *egress;
	size_t n_egress;
	/* Set by the decoder when some rule could not be decoded (bad CIDR, port, protocol):
	 * the policy still isolates what it selects but allows nothing, so a broken policy
	 * never widens access. `invalid_reason` says why. */
	bool invalid;
	char *invalid_reason;
	uint32_t listed; /* the store's, as a namespace's */
};

enum npd_kind {
	NPD_KIND_NAMESPACE,
	NPD_KIND_POD,
	NPD_KIND_POLICY,
	NPD_KIND__COUNT,
};

/* A decoded object of any kind (heap, owned by whoever holds the event). */
struct npd_object {
	enum npd_kind kind;
	union {
		struct npd_namespace *ns;
		struct npd_pod *pod;
		struct npd_policy *policy;
	} u;
};

enum npd_event_type {
	NPD_EV_ADDED,
	NPD_EV_MODIFIED,
	NPD_EV_DELETED,
	NPD_EV_BOOKMARK, /* only rv is set */
	NPD_EV_ERROR,	 /* code and message set, e.g. 410 Expired */
};

struct npd_event {
	enum npd_event_type type;
	struct npd_object obj; /* unset for BOOKMARK and ERROR */
	char *rv;	       /* the object's (or bookmark's) resourceVersion, may be NULL */
	int code;	       /* ERROR: Status.code */
	char *reason;	       /* ERROR: Status.reason */
	char *message;	       /* ERROR: Status.message */
	double retry_after;    /* ERROR: Status.details.retryAfterSeconds, 0 when absent */
};

/* Constructors return zeroed heap objects; free functions accept NULL. */
struct npd_namespace *npd_namespace_new(void);
void npd_namespace_free(struct npd_namespace *ns);
struct npd_pod *npd_pod_new(void);
void npd_pod_free(struct npd_pod *pod);
struct npd_policy *npd_policy_new(void);
void npd_policy_free(struct npd_policy *pol);
void npd_object_fini(struct npd_object *o); /* frees the object it holds */
void npd_event_fini(struct npd_event *ev);

void npd_labels_fini(struct npd_labels *l);
/* Sets key=value, copying both; replaces an existing key's value. */
void npd_labels_set(struct npd_labels *l, const char *key, const char *value);
const char *npd_labels_get(const struct npd_labels *l, const char *key); /* NULL if absent */
bool npd_labels_equal(const struct npd_labels *a, const struct npd_labels *b);
void npd_labels_copy(struct npd_labels *dst, const struct npd_labels *src);
void npd_selector_fini(struct npd_selector *s);
void npd_peer_fini(struct npd_peer *p);
void npd_port_fini(struct npd_port *p);
void npd_policy_rule_fini(struct npd_policy_rule *r);

/* "TCP", "UDP", "SCTP"; parse accepts exactly those names. */
const char *npd_proto_name(enum npd_proto p);
int npd_proto_parse(const char *s, enum npd_proto *out);
const char *npd_kind_name(enum npd_kind k); /* "Namespace", "Pod", "NetworkPolicy" */
const char *npd_phase_name(enum npd_pod_phase p);
int npd_phase_parse(const char *s, enum npd_pod_phase *out);
/* The watch event type as the API spells it ("ADDED", ... "ERROR"); parse accepts exactly
 * those names and returns 0 or -EINVAL. */
const char *npd_event_type_name(enum npd_event_type t);
int npd_event_type_parse(const char *s, enum npd_event_type *out);

/* The identity of the object o holds, borrowed: its namespace (NULL for a Namespace) and
 * its name. Both NULL when o holds no object. */
const char *npd_object_ns(const struct npd_object *o);
const char *npd_object_name(const struct npd_object *o);

/* A pod may be a peer by IP only if it has an IP, is not finished and not hostNetwork. */
bool npd_pod_is_selectable(const struct npd_pod *pod);
/* True when a lies inside the ipBlock peer's cidr and outside every except (an address of
 * the other family never does). */
bool npd_peer_block_contains(const struct npd_peer *peer, const struct npd_addr *a);
/* Finds a named container port of pod for proto; returns 0 and the number, or -ENOENT. */
int npd_pod_find_named_port(const struct npd_pod *pod, const char *name, enum npd_proto proto,
			    uint16_t *out);

/* Validation of Kubernetes names and label syntax (qualified names, label values,
 * IANA_SVC_NAME for named ports). */
bool npd_is_label_key(const char *s);
/* The API server's object names: DNS-1123 labels for namespaces (at most 63 of [a-z0-9-],
 * no '-' at either end), DNS-1123 subdomains (labels joined by '.', at most 253) for pods
 * and policies. */
bool npd_is_dns_label(const char *s);
bool npd_is_dns_subdomain(const char *s);
bool npd_is_label_value(const char *s);
bool npd_is_port_name(const char *s);

#endif
