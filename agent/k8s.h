/* k8s.h: the Kubernetes API source: lists and watches namespaces, pods and
 * networkpolicies cluster-wide over libcurl's multi-socket API on the agent's loop,
 * streaming every response into the store. */
#ifndef NPD_AGENT_K8S_H
#define NPD_AGENT_K8S_H

#include <stdbool.h>

#include "agent.h"

struct k8s_opts {
	const char *kubeconfig; /* kubeconfig path; NULL: $KUBECONFIG, then in-cluster */
	const char *context;	/* kubeconfig context; NULL: current-context */
	bool in_cluster;	/* use the service account even if kubeconfig is set */
	const char *sa_dir;	/* in-cluster service-account directory; NULL: default */
	const char *node_name;	/* this node, for logs (pods are watched cluster-wide: peers
				 * on other nodes matter) */
};

/* Loads the config and registers the sources "k8s/namespaces", "k8s/pods" and
 * "k8s/networkpolicies", each ready after its first complete list, then starts listing.
 * Returns 0, or -errno when the config cannot be loaded (logged). One per process. */
int k8s_source_start(struct npd_agent *a, const struct k8s_opts *o);
/* Aborts the requests in flight and frees everything; the store keeps its objects.
 * A no-op when not started. */
void k8s_source_stop(void);

#endif
