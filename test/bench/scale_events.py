#!/usr/bin/env python3
"""The events of `scripts/bench scale`, against a netpold reading a gen_cluster.py
directory through --manifests.

scale_events.py setup DIR       adds ev-ns.yaml: the namespace the relabel events flip
scale_events.py run DIR PORT N T0 T1 RSS_KB PID
                                N events of each kind, one at a time, each waited for
                                by its sync; prints one JSON object of figures
scale_events.py table FILE...   the table over the JSON objects, one column per size and
                                manifest format

Every event writes or removes one small ev-*.yaml file (written under a hidden name and
renamed, so the source sees it once, whole), so the cost measured is the event's and not
the reparse of a large file. The latency is netpold's own change -> enforcement figure:
from the change's arrival in the store to the kernel commit.
"""
import json
import os
import re
import statistics
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_cluster  # noqa: E402

KINDS = [
    ("rpod-add", "remote pod add"), ("rpod-relabel", "remote pod relabel"),
    ("rpod-del", "remote pod delete"), ("lpod-add", "local pod add"),
    ("lpod-relabel", "local pod relabel"), ("lpod-del", "local pod delete"),
    ("lrep-add", "local replica add"), ("lrep-del", "local replica delete"),
    ("ns-relabel", "namespace relabel"), ("pol-add", "policy add"),
    ("pol-change", "policy change"), ("pol-del", "policy delete"),
]
PORTS = [("http", 80, "TCP"), ("metrics", 9090, "TCP")]
SYNCS = 'netpold_syncs_total{result="ok"}'
COMMITS = 'netpold_table_commits_total{family="ipv4"}'
SETOPS = "netpold_set_updates_total"
LAG = "netpold_last_policy_change_to_enforcement_seconds"
# The steps of the lag the table shows, as netpold_last_sync_phase_seconds splits the sync.
PHASES = ["wait", "compile", "plan", "counters", "sets", "tables", "table_read", "table_commit"]


def write(d, name, text):
    tmp = os.path.join(d, "." + name + ".tmp")
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, os.path.join(d, name))


def ns_yaml(team):
    return f"""---
apiVersion: v1
kind: Namespace
metadata:
  name: ev-ns
  labels:
    team: {team}
    kubernetes.io/metadata.name: ev-ns
"""


def ev_ns_file(team):
    pods = [gen_cluster.pod_yaml("ev-ns", f"pod-{j:03d}",
                                 {"app": f"app-{j % 10}",
                                  "tier": "frontend" if j % 2 else "backend"},
                                 "bench-node" if j == 0 else f"node-{j}",
                                 f"10.202.0.{j + 1}", PORTS) for j in range(15)]
    return ns_yaml(team) + "".join(pods)


def pod_file(i, local, app):
    # A remote pod is a frontend in ev-ns: in the rounds where ev-ns has the team that a
    # compiled namespaceSelector peer admits (ns-relabel flips it), its add and delete are
    # ipset updates; its relabel (app only) never changes the kernel.
    ns = "ns-%03d" % (i % 7) if local else "ev-ns"
    ip = f"10.{201 if local else 200}.{i // 256}.{i % 256}"
    labels = {"app": f"app-{app}", "tier": "frontend" if i % 2 or not local else "backend"}
    return gen_cluster.pod_yaml(ns, f"ev-{'l' if local else 'r'}pod-{i}", labels,
                                "bench-node" if local else f"node-{1 + i % 50}", ip, PORTS)


def local_pods(d, node="bench-node"):
    """(namespace, labels) of every pod of gen_cluster's files in d that runs on node."""
    out = []
    for name in sorted(os.listdir(d)):
        if name.startswith("ev-") or name.startswith("."):
            continue
        text = open(os.path.join(d, name)).read()
        if text.lstrip().startswith("{"):
            for it in json.loads(text).get("items", []):
                if it.get("kind") == "Pod" and it["spec"].get("nodeName") == node:
                    out.append((it["metadata"]["namespace"], it["metadata"].get("labels", {})))
            continue
        for doc in text.split("\n---"):
            if "kind: Pod" not in doc or f"nodeName: {node}\n" not in doc:
                continue
            ns = re.search(r"^  namespace: (\S+)$", doc, re.M).group(1)
            block = re.search(r"^  labels:((?:\n    .*)*)", doc, re.M).group(1)
            out.append((ns, dict(re.findall(r'^    (\S+): "(.*)"$', block, re.M))))
    return out


def replica_file(i, locals_):
    # Another replica of a workload already on the node: the namespace and labels of one
    # of its local pods, so the same policies select it (it joins that pod's group).
    ns, labels = locals_[i % len(locals_)]
    return gen_cluster.pod_yaml(ns, f"ev-lrep-{i}", labels, "bench-node",
                                f"10.203.{i // 256}.{i % 256}", PORTS)


def pol_file(i, port):
    # Shape 2 of gen_cluster: selects the namespace's backend pods, which include local ones.
    return gen_cluster.policy_yaml("ns-000", f"ev-pol-{i}", 2, 1).replace(
        "port: 5432", f"port: {port}")


class Agent:
    def __init__(self, port):
        self.url = f"http://127.0.0.1:{port}/metrics"

    def metrics(self):
        out = {}
        for line in urllib.request.urlopen(self.url).read().decode().splitlines():
            if line and not line.startswith("#"):
                k, v = line.rsplit(" ", 1)
                out[k] = float(v)
        return out

    def event(self, act):
        """Runs act() and waits for the sync it causes; returns (lag ms, table commits,
        {phase: ms}).
        Waits out the agent's burst debounce (50 ms after a sync) first, so each event is
        a lone change, not part of a burst. The lag is the agent's own figure (arrival to
        kernel), so the bench only needs to see that the sync happened: it scrapes every
        10 ms, not every 2 ms, because a scrape costs the agent ~0.7 ms of CPU at 150k
        pods and this parser more, which on a 2-core machine ran beside the very sync
        being measured (Prometheus scrapes every 15-60 s)."""
        time.sleep(0.075)
        before = self.metrics()
        act()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            time.sleep(0.010)
            after = self.metrics()
            if after[SYNCS] > before[SYNCS]:
                ph = {p: after.get(f'netpold_last_sync_phase_seconds{{phase="{p}"}}', 0) * 1e3
                      for p in PHASES}
                return after[LAG] * 1e3, after[COMMITS] - before[COMMITS], ph, \
                    after.get(SETOPS, 0) - before.get(SETOPS, 0)
        sys.exit("scale_events: no sync within 30 s of an event")


def steal_ms():
    """CPU time the hypervisor took from this machine's CPUs so far (/proc/stat), in ms."""
    with open("/proc/stat") as f:
        cpu = f.readline().split()
    return int(cpu[8]) * 1e3 / os.sysconf("SC_CLK_TCK")


def run(d, port, n, t0, t1, rss_ready, pid):
    a = Agent(port)
    first = a.metrics()
    steal0 = steal_ms()
    lat = {k: [] for k, _ in KINDS}
    commits = {k: 0 for k, _ in KINDS}
    phases = {k: {p: [] for p in PHASES} for k, _ in KINDS}
    setops = {k: 0 for k, _ in KINDS}

    def rec(kind, act):
        ms, c, ph, so = a.event(act)
        lat[kind].append(ms)
        commits[kind] += c
        setops[kind] += so
        for p in PHASES:
            phases[kind][p].append(ph[p])

    locals_ = local_pods(d)
    for i in range(n):
        name = f"ev-lrep-{i}.yaml"
        rec("lrep-add", lambda: write(d, name, replica_file(i, locals_)))
        rec("lrep-del", lambda: os.unlink(os.path.join(d, name)))
        for local in (False, True):
            p = "lpod" if local else "rpod"
            name = f"ev-{p}-{i}.yaml"
            rec(f"{p}-add", lambda: write(d, name, pod_file(i, local, i % 10)))
            rec(f"{p}-relabel", lambda: write(d, name, pod_file(i, local, (i + 1) % 10)))
            rec(f"{p}-del", lambda: os.unlink(os.path.join(d, name)))
        rec("ns-relabel", lambda: write(d, "ev-ns.yaml", ev_ns_file(f"team-{3 + (i + 1) % 2}")))
        name = f"ev-pol-{i}.yaml"
        rec("pol-add", lambda: write(d, name, pol_file(i, 7000 + i)))
        rec("pol-change", lambda: write(d, name, pol_file(i, 17000 + i)))
        rec("pol-del", lambda: os.unlink(os.path.join(d, name)))
    with open(f"/proc/{pid}/status") as f:
        hwm = next(int(l.split()[1]) for l in f if l.startswith("VmHWM"))
    json.dump({"ready_ms": (t1 - t0) * 1e3, "first_sync_ms": first["netpold_last_sync_duration_seconds"] * 1e3,
               "rules": first.get('netpold_rules{family="ipv4"}', 0),
               "ipsets": first.get("netpold_ipsets", 0),
               "rss_ready_kb": rss_ready, "rss_peak_kb": hwm, "lat": lat, "commits": commits,
               "phases": phases, "setops": setops, "steal_ms": steal_ms() - steal0},
              sys.stdout)


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def table(paths):
    order = {"yaml": 0, "json": 1}
    rs = sorted((json.load(open(p)) for p in paths),
                key=lambda r: (r["pods"], order.get(r.get("format", "yaml"), 2)))
    rows = [("pods / namespaces / policies", lambda r: f"{r['pods']}/{r['namespaces']}/{r['policies']}"),
            ("manifests", lambda r: r.get("format", "yaml")),
            ("rules (v4) / ipsets", lambda r: f"{int(r['rules'])}/{int(r['ipsets'])}"),
            ("peak RSS at ready, MiB", lambda r: f"{r['rss_ready_kb'] / 1024:.1f}"),
            ("peak RSS after events, MiB", lambda r: f"{r['rss_peak_kb'] / 1024:.1f}"),
            ("start -> /readyz, ms", lambda r: f"{r['ready_ms']:.0f}"),
            ("  CPU used by then, ms", lambda r: f"{r['cpu_ready_ms']:.0f}" if "cpu_ready_ms" in r else "-"),
            ("first full sync, ms", lambda r: f"{r['first_sync_ms']:.1f}"),
            ("CPU stolen by the host during the events, ms",
             lambda r: f"{r['steal_ms']:.0f}" if "steal_ms" in r else "-")]
    for k, label in KINDS:
        rows.append((f"{label} p50/p99, ms",
                     lambda r, k=k: f"{statistics.median(r['lat'][k]):.2f}/{pct(r['lat'][k], 99):.2f}"))
    # The kinds that need no table commit unless the change makes or empties a local pod
    # group (a new local pod under policies no local pod had, a local relabel moving a pod
    # to such a list): their p99 is a commit's when a few of them did. A local replica
    # joins the group of the pod it copies, so it never commits.
    for k in ("rpod-add", "rpod-relabel", "rpod-del", "lpod-add", "lpod-relabel", "lpod-del",
              "lrep-add", "lrep-del", "ns-relabel"):
        rows.append((f"  table commits / set updates in {k}",
                     lambda r, k=k: f"{int(r['commits'][k])}/{int(r.get('setops', {}).get(k, 0))}"
                     f"/{len(r['lat'][k])}"))
    # Where the time goes, per kind: the p50 of each step of the sync, in PHASES order.
    rows.append(("p50 ms of " + "/".join(PHASES), lambda r: ""))
    for k, label in KINDS:
        rows.append((f"  {label}", lambda r, k=k: "/".join(
            f"{statistics.median(r['phases'][k][p]):.1f}" for p in PHASES)
            if "phases" in r else "-"))
    rows += [("floor: ipset restore (all sets), ms", lambda r: f"{r['floor_ipset_ms']:.1f}"),
             ("floor: iptables-legacy-restore, ms", lambda r: f"{r['floor_iptables_ms']:.1f}"),
             ("floor: table reload (= a commit), ms", lambda r: f"{r['floor_reload_ms']:.1f}")]
    w = max(len(label) for label, _ in rows)
    cells = [[f(r) for r in rs] for _, f in rows]
    cw = max(len(c) for row in cells for c in row)
    print("== netpold at scale (--manifests, 110 local pods; events from arrival to kernel commit)")
    for (label, _), row in zip(rows, cells):
        print(f"{label:<{w}}  " + "  ".join(f"{c:>{cw}}" for c in row))


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "setup":
        write(sys.argv[2], "ev-ns.yaml", ev_ns_file("team-3"))
    elif cmd == "run":
        d, port, n = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        run(d, port, n, float(sys.argv[5]), float(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8]))
    elif cmd == "table":
        table(sys.argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
