#!/usr/bin/env python3
"""churn.py: the API-side half of scripts/soak.

Seeds a cluster (namespaces, pods on the soak node and elsewhere, policies with pod,
namespace and ipBlock peers and named ports) through npd_apiserver's control channel,
then churns it until DEADLINE (Unix seconds): pods created, relabelled and deleted,
policies created, changed and deleted, namespaces relabelled, created and deleted
(their pods and policies go with them), and periodic faults: every watch closed, a
compaction before the close (the resume gets 410 and the agent relists), and a burst
of 429 with Retry-After. Seeded (--seed, printed) so a run can be replayed.

    churn.py --state-dir DIR --node NODE --deadline T [--seed N] [--rate OPS_PER_S]
"""

import argparse
import ipaddress
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "apiserver"))
import client  # noqa: E402

APPS = ["web", "api", "db", "cache", "tools", "queue"]
TEAMS = ["red", "blue", "green"]
NODES_OTHER = ["node-a", "node-b", "node-c"]
NAMESPACES, PODS_PER_NS, POLICIES_PER_NS = 10, 20, 4  # the level churn keeps around


class Cluster:
    def __init__(self, c, rnd, node):
        self.c, self.rnd, self.node = c, rnd, node
        self.namespaces = {}  # name -> set of pod names
        self.policies = {}  # ns -> set of policy names
        self.next_ip = int(ipaddress.ip_address("10.64.0.1"))
        self.serial = 0
        self.ops = {}

    def count(self, op):
        self.ops[op] = self.ops.get(op, 0) + 1

    def name(self, prefix):
        self.serial += 1
        return "%s-%d" % (prefix, self.serial)

    def ip(self):
        self.next_ip += 1
        if self.next_ip > int(ipaddress.ip_address("10.127.255.250")):
            self.next_ip = int(ipaddress.ip_address("10.64.0.1"))
        return str(ipaddress.ip_address(self.next_ip))

    def labels(self):
        return {"app": self.rnd.choice(APPS), "team": self.rnd.choice(TEAMS)}

    def add_ns(self):
        ns = self.name("ns")
        self.c.create(client.namespace(ns, {"team": self.rnd.choice(TEAMS)}))
        self.namespaces[ns] = set()
        self.policies[ns] = set()
        self.count("ns+")
        return ns

    def add_pod(self, ns=None):
        ns = ns or self.rnd.choice(sorted(self.namespaces))
        name = self.name("pod")
        node = self.node if self.rnd.random() < 0.4 else self.rnd.choice(NODES_OTHER)
        ports = [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
        self.c.create(client.pod(ns, name, self.ip(), self.labels(), node, ports=ports))
        self.namespaces[ns].add(name)
        self.count("pod+")

    def policy(self, ns, name):
        r = self.rnd
        b = r.randint(16, 31)
        peers = [{"podSelector": {"matchLabels": {"app": r.choice(APPS)}}},
                 {"namespaceSelector": {"matchLabels": {"team": r.choice(TEAMS)}},
                  "podSelector": {"matchExpressions": [
                      {"key": "app", "operator": "In", "values": r.sample(APPS, 2)}]}},
                 {"ipBlock": {"cidr": "172.%d.0.0/16" % b,
                              "except": ["172.%d.%d.0/24" % (b, r.randint(0, 255))]}}]
        r.shuffle(peers)
        spec = {"podSelector": {"matchLabels": {"app": r.choice(APPS)}},
                "ingress": [{"from": peers[:r.randint(1, 3)],
                             "ports": [{"port": r.choice([80, 443, "http"]), "protocol": "TCP"}]}]}
        if r.random() < 0.5:
            spec["egress"] = [{"to": [{"namespaceSelector": {}}],
                               "ports": [{"port": 53, "protocol": "UDP"}]}]
            spec["policyTypes"] = ["Ingress", "Egress"]
        return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": {"name": name, "namespace": ns}, "spec": spec}

    def add_policy(self, ns=None):
        ns = ns or self.rnd.choice(sorted(self.namespaces))
        name = self.name("pol")
        self.c.create(self.policy(ns, name))
        self.policies[ns].add(name)
        self.count("pol+")

    def grow(self, n, target):
        """Add rather than delete with a probability that pulls n back to target, so the
        population (and what the agent must hold) stays level over a long run."""
        return self.rnd.random() < min(1.0, max(0.0, 0.5 + (target - n) / (2.0 * target)))

    def resize(self, what, ns, names, target):
        """One more or one fewer of what ("pod" or "pol") in ns, whose are names (sorted),
        pulled towards target per namespace."""
        if self.grow(len(names), target) or not names:
            (self.add_pod if what == "pod" else self.add_policy)(ns)
            return
        name = self.rnd.choice(names)
        self.c.delete("pod" if what == "pod" else "netpol", ns, name)
        (self.namespaces if what == "pod" else self.policies)[ns].discard(name)
        self.count(what + "-")

    def step(self):
        r = self.rnd
        x = r.random()
        nss = sorted(self.namespaces)
        ns = r.choice(nss)
        pods = sorted(self.namespaces[ns])
        pols = sorted(self.policies[ns])
        if x < 0.30 and pods:
            self.c.label("pod", ns, r.choice(pods), self.labels())
            self.count("pod~")
        elif x < 0.60:
            self.resize("pod", ns, pods, PODS_PER_NS)
        elif x < 0.72 and pols:
            self.c.apply(self.policy(ns, r.choice(pols)))
            self.count("pol~")
        elif x < 0.84:
            self.resize("pol", ns, pols, POLICIES_PER_NS)
        elif x < 0.94:
            self.c.label("ns", None, ns, {"team": r.choice(TEAMS)})
            self.count("ns~")
        elif self.grow(len(nss), NAMESPACES) or len(nss) < 2:
            n = self.add_ns()
            for _ in range(r.randint(1, PODS_PER_NS)):
                self.add_pod(n)
            self.add_policy(n)
        else:
            self.c.delete("ns", None, ns)
            del self.namespaces[ns]
            del self.policies[ns]
            self.count("ns-")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--state-dir", required=True)
    ap.add_argument("--node", required=True)
    ap.add_argument("--deadline", type=float, required=True)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--rate", type=float, default=10.0)
    a = ap.parse_args()
    seed = a.seed if a.seed is not None else int(time.time())
    print("churn: seed %d (--seed %d replays)" % (seed, seed), flush=True)
    rnd = random.Random(seed)
    cl = Cluster(client.Client(a.state_dir), rnd, a.node)
    for _ in range(NAMESPACES):
        ns = cl.add_ns()
        for _ in range(PODS_PER_NS):
            cl.add_pod(ns)
        for _ in range(POLICIES_PER_NS):
            cl.add_policy(ns)
    c = cl.c
    faults = {"close-watches": 45.0, "compact": 100.0, "throttle": 75.0}
    last = {k: time.time() for k in faults}
    n_faults = {k: 0 for k in faults}
    while time.time() < a.deadline:
        now = time.time()
        for k, every in faults.items():
            if now - last[k] < every:
                continue
            last[k] = now
            n_faults[k] += 1
            if k == "compact":
                c.fault("compact")
            elif k == "throttle":
                c.fault("fail", count=6, status=429, retry_after=1)
            c.fault("close-watches")
        try:
            cl.step()
        except client.ControlError as e:
            # A namespace being deleted refuses new objects (404/409): churn goes on.
            cl.count("refused-%s" % e.code)
        time.sleep(1.0 / a.rate)
    print("churn: ops %s" % " ".join("%s=%d" % kv for kv in sorted(cl.ops.items())), flush=True)
    print("churn: faults %s" % " ".join("%s=%d" % kv for kv in sorted(n_faults.items())), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
