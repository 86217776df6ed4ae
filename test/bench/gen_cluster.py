#!/usr/bin/env python3
"""Writes a synthetic cluster as manifests for the file source: one file per namespace
(its Namespace, pods and policies), so a change rewrites one small file: YAML documents, or
with --format json one List as `kubectl get -o json` writes it. With --json FILE the
same cluster goes to one JSON List instead (namespaces first), for the test API server's
--load.

gen_cluster.py DIR|--json FILE [--format yaml|json] [--namespaces 500] [--pods 10000]
               [--policies 2000]
               [--node bench-node] [--local 110] [--nodes 91]
"""
import argparse
import json
import os


def pod_yaml(ns, name, labels, node, ip, ports):
    lab = "".join(f"\n    {k}: \"{v}\"" for k, v in labels.items())
    cports = "".join(
        f"\n        - name: {pn}\n          containerPort: {pp}\n          protocol: {proto}"
        for pn, pp, proto in ports)
    return f"""---
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  namespace: {ns}
  labels:{lab}
spec:
  nodeName: {node}
  containers:
    - name: main
      image: app
      ports:{cports}
status:
  phase: Running
  podIP: {ip}
  podIPs:
    - ip: {ip}
"""


def pod_obj(ns, name, labels, node, ip, ports):
    """The object pod_yaml writes, as a dict."""
    cports = [{"name": pn, "containerPort": pp, "protocol": proto} for pn, pp, proto in ports]
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "labels": dict(labels)},
            "spec": {"nodeName": node,
                     "containers": [{"name": "main", "image": "app", "ports": cports}]},
            "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}]}}


def policy_yaml(ns, name, i, n_ns):
    """One of five policy shapes, chosen by i; the spec is indented under spec:."""
    head = f"""---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {name}
  namespace: {ns}
spec:
"""
    return head + POLICY_SPECS[i % 5].format(i=i, app=i % 10, next_app=(i + 1) % 10,
                                              other=f"team-{(i * 7) % 20}", net=i % 250)


def _selects(key, value):
    return f"""  podSelector:
    matchLabels:
      {key}: {value}
"""


POLICY_SPECS = [
    """  podSelector: {{}}
  policyTypes: [Ingress]
""",
    _selects("app", "app-{app}") + """  ingress:
    - from:
        - podSelector:
            matchLabels:
              app: app-{next_app}
      ports:
        - protocol: TCP
          port: 8080
        - protocol: TCP
          port: http
""",
    _selects("tier", "backend") + """  ingress:
    - from:
        - namespaceSelector:
            matchLabels:
              team: {other}
          podSelector:
            matchLabels:
              tier: frontend
      ports:
        - protocol: TCP
          port: 5432
""",
    _selects("tier", "frontend") + """  ingress:
    - from:
        - ipBlock:
            cidr: 172.16.0.0/12
            except:
              - 172.16.{net}.0/24
      ports:
        - protocol: TCP
          port: 443
""",
    _selects("tier", "frontend") + """  policyTypes: [Egress]
  egress:
    - to:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: kube-dns-ns
      ports:
        - protocol: UDP
          port: 53
    - to:
        - podSelector:
            matchLabels:
              tier: backend
      ports:
        - protocol: TCP
          port: 5432
""",
]


def ns_yaml(ns, labels):
    lab = "".join(f"\n    {k}: {v}" for k, v in labels.items())
    return f"""---
apiVersion: v1
kind: Namespace
metadata:
  name: {ns}
  labels:{lab}
"""


def cluster(a):
    """Yields per namespace (name, labels, pods as pod_yaml arguments, policies as
    policy_yaml arguments)."""
    per_ns = a.pods // a.namespaces
    pol_per_ns = a.policies // a.namespaces
    # Spread the local pods evenly over the cluster (and over the --node list in turn).
    local_every = max(1, a.pods // a.local) if a.local else a.pods + 1
    local_nodes = a.node.split(",")
    p = 0
    for n in range(a.namespaces):
        ns = f"ns-{n:03d}"
        labels = {"team": f"team-{n % 20}", "kubernetes.io/metadata.name": ns}
        pods = []
        for j in range(per_ns):
            local = (p % local_every == 0) and (p // local_every) < a.local
            node = local_nodes[p // local_every % len(local_nodes)] if local else f"node-{p % a.nodes}"
            ip = f"10.{100 + p // 65536}.{(p // 256) % 256}.{p % 256}"
            # Mixed so that the node's own pods meet every kind of policy.
            plabels = {"app": f"app-{(p * 7 + p // 90) % 10}",
                       "tier": "frontend" if (p // 90 + j) % 2 else "backend",
                       "pod-template-hash": f"h{p % 97}"}
            ports = [("http", 80, "TCP"), ("metrics", 9090, "TCP")]
            pods.append((ns, f"pod-{j:03d}", plabels, node, ip, ports))
            p += 1
        pols = [(ns, f"pol-{k}", n * pol_per_ns + k, a.namespaces) for k in range(pol_per_ns)]
        yield ns, labels, pods, pols


def cluster_objs(a):
    """Yields per namespace the objects of cluster(a) as dicts: a policy's spec is its YAML
    parsed (once per distinct text), and the first namespace's YAML is parsed whole and
    compared, so that both forms stay one cluster."""
    import yaml

    specs = {}
    for k, (ns, labels, ns_pods, ns_pols) in enumerate(cluster(a)):
        objs = [{"apiVersion": "v1", "kind": "Namespace",
                 "metadata": {"name": ns, "labels": labels}}]
        objs += [pod_obj(*args) for args in ns_pods]
        for args in ns_pols:
            text = policy_yaml(*args)
            head, _, spec = text.partition("spec:\n")
            if spec not in specs:
                specs[spec] = yaml.safe_load(spec)
            objs.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                         "metadata": {"name": args[1], "namespace": ns},
                         "spec": specs[spec]})
        if k == 0:
            text = ns_yaml(ns, labels) + "".join(pod_yaml(*x) for x in ns_pods) + \
                "".join(policy_yaml(*x) for x in ns_pols)
            if list(yaml.safe_load_all(text)) != objs:
                raise SystemExit("gen_cluster: the JSON and YAML forms differ")
        yield ns, objs, len(ns_pods)


def write_json(a, path):
    """One List of every object."""
    items, pods, pols = [], [], []
    for ns, objs, n_pods in cluster_objs(a):
        items.append(objs[0])
        pods += objs[1:1 + n_pods]
        pols += objs[1 + n_pods:]
    with open(path, "w") as f:
        # dumps, not dump: only the whole-string encoder is the C one.
        f.write(json.dumps({"apiVersion": "v1", "kind": "List", "items": items + pods + pols},
                           separators=(",", ":")))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir", nargs="?")
    ap.add_argument("--json", metavar="FILE")
    ap.add_argument("--format", choices=("yaml", "json"), default="yaml",
                    help="DIR's files: YAML documents, or one JSON List per namespace as "
                    "`kubectl get -o json` writes it")
    ap.add_argument("--namespaces", type=int, default=500)
    ap.add_argument("--pods", type=int, default=10000)
    ap.add_argument("--policies", type=int, default=2000)
    ap.add_argument("--node", default="bench-node", help="the local pods' node(s), comma-separated")
    ap.add_argument("--local", type=int, default=110)
    ap.add_argument("--nodes", type=int, default=91)
    a = ap.parse_args()
    if a.json:
        write_json(a, a.json)
        return
    if not a.dir:
        ap.error("DIR or --json FILE")
    os.makedirs(a.dir, exist_ok=True)
    if a.format == "json":
        for ns, objs, _ in cluster_objs(a):
            with open(os.path.join(a.dir, f"{ns}.json"), "w") as f:
                json.dump({"apiVersion": "v1", "kind": "List", "items": objs}, f, indent=4)
                f.write("\n")
        return
    for ns, labels, pods, pols in cluster(a):
        out = [ns_yaml(ns, labels)] + [pod_yaml(*x) for x in pods] + \
            [policy_yaml(*x) for x in pols]
        with open(os.path.join(a.dir, f"{ns}.yaml"), "w") as f:
            f.write("".join(out))


if __name__ == "__main__":
    main()
