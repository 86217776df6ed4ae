#!/usr/bin/env python3
"""upstream.py: the data side of test_conformance_upstream.sh.

Reads the upstream Netpol cases carried under test/conformance/cases/ and turns
them into what the lab runner executes; it runs nothing itself.

usage:
  upstream.py topology OUT.json          namespaces x, y, z and pods a, b, c in each
                                         (dual-stack), as API objects; prints
                                         "LABPOD NODE IP4 IP6" lines
  upstream.py plan [-6] OUTDIR [NAME...] the step plan of the cases (all, or those whose
                                         file name or upstream name contains a NAME);
                                         -6: probes and ipBlocks on the IPv6 addresses
  upstream.py offline [-6] OUTDIR [NAME...]
                                         the same cases without a lab: per expect, the
                                         world the steps reached and its expectations,
                                         as "check WORLD FILE ON" lines for eval_rules
  upstream.py world < kubectl-get.json   a kubectl List as multi-document YAML (JSON
                                         documents) for eval_rules

Plan lines (fields separated by one tab):
  case SLUG UPSTREAM-NAME
  kubectl EVENTS ARG...      a kubectl call; EVENTS watch events it causes per agent
  expect FILE ON             probe the matrix FILE ("FROM TO_IP PORT PROTO ok|fail")
  rules FILE ON              SCTP: compiled-rule verdicts ("SRC_IP DST_IP PROTO PORT
                             ok|fail FROM TO") instead of packets
  end SLUG

The expected matrix of a step is the upstream reachability: every pair of the case's
pods (self pairs left out, as upstream ignores loopback) starts allowed, then each
[FROM, TO, bool] of "reach" is applied in order; FROM and TO are "*", "NS/*", "*/POD"
or "NS/POD", as upstream's Peer{} patterns.
"""
import ipaddress
import json
import os
import re
import sys

import yaml

NAMESPACES = ("x", "y", "z")
PODS = ("a", "b", "c")
PORTS = (80, 81)
PROTOCOLS = ("TCP", "UDP", "SCTP")
CASES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                         "..", "..", "conformance", "cases")


FAMILY = 4


def placement():
    """[(ns, pod, node, ip4, ip6)]: pods alternate between node1 and node2, so every
    namespace spans both nodes and both same-node and cross-node pairs exist."""
    out = []
    for i, (ns, pod) in enumerate((n, p) for n in NAMESPACES for p in PODS):
        idx = 1 + i % 2
        out.append((ns, pod, "node%d" % idx, "10.244.%d.%d" % (idx, 10 + i),
                    "fd00:244:%d::%d" % (idx, 10 + i)))
    return out


def ip_of(ref):
    """The pod's address in the family of the plan."""
    ns, pod = ref.split("/")
    for n, p, _, ip4, ip6 in placement():
        if (n, p) == (ns, pod):
            return ip6 if FAMILY == 6 else ip4
    raise SystemExit("upstream.py: no pod %s" % ref)


def topology_objects(labels=None):
    """The namespaces and pods as API objects; labels: {"x/b" or "y": extra labels}."""
    labels = labels or {}
    objs = [{"apiVersion": "v1", "kind": "Namespace",
             "metadata": {"name": ns, "labels": dict({"ns": ns}, **labels.get(ns, {}))}}
            for ns in NAMESPACES]
    for ns, pod, node, ip4, ip6 in placement():
        # One container per port and protocol, its port named as upstream names it.
        containers = [{"name": "cont-%d-%s" % (port, proto.lower()), "image": "agnhost",
                       "ports": [{"name": "serve-%d-%s" % (port, proto.lower()),
                                  "containerPort": port, "protocol": proto}]}
                      for port in PORTS for proto in PROTOCOLS]
        plabels = dict({"pod": pod}, **labels.get("%s/%s" % (ns, pod), {}))
        objs.append({"apiVersion": "v1", "kind": "Pod",
                     "metadata": {"name": pod, "namespace": ns, "labels": plabels},
                     "spec": {"nodeName": node, "containers": containers},
                     "status": {"phase": "Running", "podIP": ip4,
                                "podIPs": [{"ip": ip4}, {"ip": ip6}]}})
    return objs


def topology(out):
    objs = topology_objects()
    for ns, pod, node, ip4, ip6 in placement():
        print("%s.%s %s %s %s" % (ns, pod, node, ip4, ip6))
    with open(out, "w") as f:
        json.dump(objs, f, indent=1)


def expand(text):
    """{{host NS/POD}}: the pod's /32 (/128); {{large NS/POD}}: the /4 holding it
    (upstream's makeLargeCIDRForIP)."""
    def sub(m):
        ip = ip_of(m.group(2))
        if m.group(1) == "host":
            return ip + ("/128" if FAMILY == 6 else "/32")
        return str(ipaddress.ip_network(ip + "/4", strict=False))
    return re.sub(r"\{\{(host|large) ([a-z]/[a-z])\}\}", sub, text)


def matches(pattern, ref):
    if pattern == "*":
        return True
    pns, ppod = pattern.split("/")
    ns, pod = ref.split("/")
    return pns in ("*", ns) and ppod in ("*", pod)


def matrix(pods, reach):
    """{(from, to): bool} over the case's pods, self pairs left out."""
    want = {}
    for src in pods:
        for dst in pods:
            if src == dst:
                continue
            v = True
            for frm, to, allowed in reach:
                if matches(frm, src) and matches(to, dst):
                    v = bool(allowed)
            want[(src, dst)] = v
    return want


def load_cases(names):
    cases = []
    for fn in sorted(os.listdir(CASES_DIR)):
        if not fn.endswith(".yaml"):
            continue
        slug = fn[:-5]
        with open(os.path.join(CASES_DIR, fn)) as f:
            case = yaml.safe_load(f)
        if names and not any(n == slug or n in case["upstream"] for n in names):
            continue
        cases.append((slug, case))
    if not cases:
        raise SystemExit("upstream.py: no case matches %s" % " ".join(names))
    return cases


def emit(*fields):
    print("\t".join(str(f) for f in fields))


def write_docs(path, docs, mode="w"):
    with open(path, mode) as f:
        for d in docs:
            d = dict(d, apiVersion="networking.k8s.io/v1", kind="NetworkPolicy")
            # JSON documents: YAML 1.1 readers (kubectl's, libyaml's) take a bare y or n
            # for a boolean, and y is a namespace here.
            f.write("---\n" + expand(json.dumps(d)) + "\n")


def write_expect(path, pods, ex, rules):
    """The expected matrix of one expect: lab probe lines, or (rules) eval_rules lines
    "SRC_IP DST_IP PROTO PORT ok|fail FROM TO"."""
    port, proto = ex["probe"].split("/")
    with open(path, "w") as out:
        for (src, dst), v in sorted(matrix(pods, ex.get("reach") or []).items()):
            ok = "ok" if v else "fail"
            if rules:
                out.write("%s %s %s %s %s %s %s\n" % (
                    ip_of(src), ip_of(dst), proto.lower(), port, ok, src, dst))
            else:
                out.write("%s %s %s %s %s\n" % (
                    src.replace("/", "."), ip_of(dst), port, proto.lower(), ok))


def offline(outdir, names):
    """Every expect of the cases as a world (the topology, the labels and policies the
    steps have reached) and its expectations for eval_rules, whatever the protocol."""
    for slug, case in load_cases(names):
        d = os.path.join(outdir, slug)
        os.makedirs(d, exist_ok=True)
        policies, labels = {}, {}
        emit("case", slug, case["upstream"])
        for i, step in enumerate(case["steps"]):
            for verb in ("create", "update"):
                for p in step.get(verb) or []:
                    policies[(p["metadata"]["namespace"], p["metadata"]["name"])] = p
            for kind in ("pod", "namespace"):
                for ref, more in (step.get("label-" + kind) or {}).items():
                    labels.setdefault(ref, {}).update(more)
            if step.get("delete-all-policies"):
                policies = {}
            world_file = os.path.join(d, "step%d-world.yaml" % i)
            with open(world_file, "w") as f:
                for o in topology_objects(labels):
                    if o["kind"] == "Namespace":
                        o["metadata"]["labels"]["kubernetes.io/metadata.name"] = \
                            o["metadata"]["name"]
                    f.write("---\n" + json.dumps(o) + "\n")
            write_docs(world_file, [p for _, p in sorted(policies.items())], "a")
            for j, ex in enumerate(step["expect"]):
                f = os.path.join(d, "step%d-expect%d" % (i, j))
                write_expect(f, case["pods"], ex, True)
                emit("check", world_file, f, ex["probe"])
        emit("end", slug)


def label_args(kind, ref, labels, current):
    """kubectl label arguments that change only what differs, and the undo."""
    if kind == "pod":
        ns, name = ref.split("/")
        target = ["pod", "-n", ns, name]
    else:
        target = ["namespace", ref]
    args, undo = [], []
    for k, v in sorted(labels.items()):
        if current.get(k) == v:
            continue
        args.append("%s=%s" % (k, v))
        undo.append("%s=%s" % (k, current[k]) if k in current else k + "-")
    return target, args, undo


def plan(outdir, names):
    for slug, case in load_cases(names):
        d = os.path.join(outdir, slug)
        os.makedirs(d, exist_ok=True)
        pods = case["pods"]
        policies = {}  # (ns, name) -> present
        undo = []      # kubectl label calls that restore the topology's labels
        emit("case", slug, case["upstream"])
        for i, step in enumerate(case["steps"]):
            for verb in ("create", "update"):
                if verb in step:
                    f = os.path.join(d, "step%d-%s.yaml" % (i, verb))
                    write_docs(f, step[verb])
                    for p in step[verb]:
                        policies[(p["metadata"]["namespace"], p["metadata"]["name"])] = 1
                    emit("kubectl", len(step[verb]),
                         "create" if verb == "create" else "replace", "--validate=false", "-f", f)
            for kind in ("pod", "namespace"):
                for ref, labels in (step.get("label-" + kind) or {}).items():
                    base = {"pod": ref.split("/")[-1]} if kind == "pod" else {
                        "ns": ref, "kubernetes.io/metadata.name": ref}
                    target, args, back = label_args(kind, ref, labels, base)
                    if args:
                        emit("kubectl", 1, "label", "--overwrite", *target, *args)
                        undo.append((target, back))
            if step.get("delete-all-policies"):
                for ns in sorted({n for n, _ in policies}):
                    emit("kubectl", sum(1 for n, _ in policies if n == ns),
                         "delete", "networkpolicy", "-n", ns, "--all")
                policies = {}
            for j, ex in enumerate(step["expect"]):
                f = os.path.join(d, "step%d-expect%d" % (i, j))
                sctp = ex["probe"].endswith("/SCTP")
                write_expect(f, pods, ex, sctp)
                emit("rules" if sctp else "expect", f, ex["probe"])
        # Back to the topology: no policy, the original labels.
        for ns in sorted({n for n, _ in policies}):
            emit("kubectl", sum(1 for n, _ in policies if n == ns),
                 "delete", "networkpolicy", "-n", ns, "--all")
        for target, back in undo:
            emit("kubectl", 1, "label", "--overwrite", *target, *back)
        emit("end", slug)


def world():
    data = json.load(sys.stdin)
    kinds = {"namespaces": "Namespace", "pods": "Pod", "networkpolicies": "NetworkPolicy"}
    for item in data.get("items", []):
        if "kind" not in item:
            link = item.get("metadata", {}).get("selfLink", "")
            item["kind"] = next((k for r, k in kinds.items() if "/%s/" % r in link), "")
        print("---")
        print(json.dumps(item))


def main(argv):
    if len(argv) >= 2 and argv[0] == "topology":
        topology(argv[1])
    elif len(argv) >= 2 and argv[0] in ("plan", "offline"):
        global FAMILY
        verb = argv[0]
        if argv[1] == "-6":
            FAMILY = 6
            argv = argv[1:]
        (plan if verb == "plan" else offline)(argv[1], argv[2:])
    elif argv == ["world"]:
        world()
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
