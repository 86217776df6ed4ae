/* k8s.h: the Kubernetes API source: lists and watches namespaces, pods and
 * networkpolicies cluster-wide over libcurl's multi-socket API on the agent's loop,
 * streaming every response into the store. */
#ifndef NPD_AGENT_K8S_H
#define NPD_AGENT_K8S_H

#include <stdbool.h>

#include "agent.h"

struct k8s;

struct k8s_opts {
	const char *kubeconfig; /* kubeconfig path; NULL: the in-cluster service account */
	const char *context;	/* kubeconfig context; NULL: current-context */
	bool in_cluster;	/* use the service account even if kubeconfig is set */
	const char *sa_dir;	/* in-cluster service-account directory; NULL: default */
	const char *node_name;	/* this node, for logs (pods are watched cluster-wide: peers
				 * on other nodes matter) */
};

/* Loads the config and registers the sources "k8s/namespaces", "k8s/pods" and
 * "k8s/networkpolicies" on a (borrowed), each ready after its first complete list, then
 * starts listing. Returns 0 and the source in *out, or -errno when the config cannot be
 * loaded (logged). */
int k8s_start(struct npd_agent *a, const struct k8s_opts *o, struct k8s **out);
/* Aborts the requests in flight and frees everything; the store keeps its objects.
 * k8s_free(NULL) is a no-op. */
void k8s_free(struct k8s *k);

#endif
