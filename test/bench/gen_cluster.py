#!/usr/bin/env python3
"""Writes a synthetic cluster as manifests for the file source: one file per namespace
(its Namespace, pods and policies), so a change rewrites one small file.

gen_cluster.py DIR [--namespaces 500] [--pods 10000] [--policies 2000]
               [--node bench-node] [--local 110] [--nodes 91]
"""
import argparse
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--namespaces", type=int, default=500)
    ap.add_argument("--pods", type=int, default=10000)
    ap.add_argument("--policies", type=int, default=2000)
    ap.add_argument("--node", default="bench-node")
    ap.add_argument("--local", type=int, default=110)
    ap.add_argument("--nodes", type=int, default=91)
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    per_ns = a.pods // a.namespaces
    pol_per_ns = a.policies // a.namespaces
    # Spread the local pods evenly over the cluster.
    local_every = max(1, a.pods // a.local)
    p = 0
    for n in range(a.namespaces):
        ns = f"ns-{n:03d}"
        out = [f"""---
apiVersion: v1
kind: Namespace
metadata:
  name: {ns}
  labels:
    team: team-{n % 20}
    kubernetes.io/metadata.name: {ns}
"""]
        for j in range(per_ns):
            local = (p % local_every == 0) and (p // local_every) < a.local
            node = a.node if local else f"node-{p % a.nodes}"
            ip = f"10.{100 + p // 65536}.{(p // 256) % 256}.{p % 256}"
            # Mixed so that the node's own pods meet every kind of policy.
            labels = {"app": f"app-{(p * 7 + p // 90) % 10}",
                      "tier": "frontend" if (p // 90 + j) % 2 else "backend",
                      "pod-template-hash": f"h{p % 97}"}
            ports = [("http", 80, "TCP"), ("metrics", 9090, "TCP")]
            out.append(pod_yaml(ns, f"pod-{j:03d}", labels, node, ip, ports))
            p += 1
        for k in range(pol_per_ns):
            i = n * pol_per_ns + k
            out.append(policy_yaml(ns, f"pol-{k}", i, a.namespaces))
        with open(os.path.join(a.dir, f"{ns}.yaml"), "w") as f:
            f.write("".join(out))


if __name__ == "__main__":
    main()
