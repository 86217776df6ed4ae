/* sim.h: the policy simulator: a direct reading of Kubernetes NetworkPolicy semantics over a
 * store, independent of the iptables compiler, so that each checks the other. It answers
 * "would A reach B on port P/proto, and which policy decides" for pods and bare IPs. */
#ifndef NPD_SIM_H
#define NPD_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "npd/addr.h"
#include "npd/model.h"
#include "npd/store.h"

/* One end of a connection: a pod, or an address (which may belong to a pod). */
struct npd_sim_endpoint {
	const struct npd_pod *pod; /* borrowed from the store; NULL for an address outside */
	bool has_addr;		   /* addr was given (an IP endpoint); else the pod's IP is used */
	struct npd_addr addr;
};

/* The verdict of one side: egress at the source, or ingress at the destination. */
struct npd_sim_side {
	bool enforced; /* false: not a pod, or a pod policy cannot apply to (hostNetwork, no IP) */
	bool isolated; /* some policy selects the pod with this direction in its policyTypes */
	const struct npd_policy **isolating; /* owned array of borrowed policies, ns/name order */
	size_t n_isolating;
	bool allowed;
	const struct npd_policy *admitted_by; /* first policy (ns/name order) admitting, or NULL */
	size_t rule_index; /* index in its ingress/egress list when admitted_by */
	char *reason;	   /* owned one-line explanation of this side */
};

struct npd_sim_result {
	bool allowed; /* egress.allowed && ingress.allowed */
	struct npd_sim_side egress;
	struct npd_sim_side ingress;
	struct npd_addr src_addr; /* the addresses the connection was simulated with */
	struct npd_addr dst_addr;
	char *explanation; /* owned, several lines without a trailing newline */
};

/* Resolves "NS/NAME" (a pod, -ENOENT when unknown) or an IP literal (a pod owning it via
 * npd_store_pod_by_ip, else an outside address) into out. -EINVAL for anything else. */
int npd_sim_endpoint_parse(const struct npd_store *s, const char *spec,
			   struct npd_sim_endpoint *out);

/* Parses "N" or "N/PROTO" (PROTO tcp, udp or sctp in any case; default TCP), N in 1..65535.
 * Returns 0 and both outputs, or -EINVAL. */
int npd_sim_port_parse(const char *s, uint16_t *port, enum npd_proto *proto);

/* Simulates a connection from -> to on port/proto. The address family is the one of an
 * endpoint given as an IP, else the source pod's first IP. Returns 0 and fills out (release
 * with npd_sim_result_fini), -EAFNOSUPPORT when an endpoint has no address of that family. */
int npd_sim_run(const struct npd_store *s, const struct npd_sim_endpoint *from,
		const struct npd_sim_endpoint *to, uint16_t port, enum npd_proto proto,
		struct npd_sim_result *out);
void npd_sim_result_fini(struct npd_sim_result *r);

/* True when pod is selectable and some policy of its namespace selects it with that
 * direction (egress or ingress) in its policyTypes: only then can a side deny. */
bool npd_sim_is_isolated(const struct npd_store *s, const struct npd_pod *pod, bool egress);
/* True when peer of pol (a rule's from/to entry) matches the other end: pod (may be NULL)
 * at address addr (may be NULL). Selector peers match only selectable pods; ipBlock peers
 * match any address, pod IPs included. Shared with lint. */
bool npd_sim_peer_matches(const struct npd_store *s, const struct npd_policy *pol,
			  const struct npd_peer *peer, const struct npd_pod *pod,
			  const struct npd_addr *addr);
/* True when a namespace's labels match sel. A namespace the store knows only by name
 * carries just kubernetes.io/metadata.name, as the API server would set it. */
bool npd_sim_ns_matches(const struct npd_store *s, const struct npd_selector *sel, const char *ns);
/* True when port entry p admits port/proto towards dst (NULL: not a pod); named ports
 * resolve against dst's container ports only. */
bool npd_sim_port_matches(const struct npd_port *p, const struct npd_pod *dst, uint16_t port,
			  enum npd_proto proto);

#endif
