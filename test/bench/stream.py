#!/usr/bin/env python3
"""Peak and settled RSS of netpold's API source when the same pods arrive in its first list
and when they arrive one by one as watch events (scripts/bench stream). Figures only.

stream.py BUILD_DIR [PODS]   (default 10000 pods; 15 per namespace, 2 policies per 15 pods)

For each mode the test API server starts on gen_cluster's cluster: "listed" with every
object loaded, "streamed" with the namespaces and policies only, the pods created after
netpold is ready, in batches of BATCH (env, default 200) through the control channel, so
each pod is one ADDED watch event and syncs run between the batches. netpold runs with the
fake backend (no kernel, no root needed). RSS is read once the store holds every pod and
a second later (VmHWM: the peak; VmRSS: what stays).
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(SRC, "test", "apiserver"))
sys.path.insert(0, os.path.join(SRC, "test", "e2e", "lib"))
import client  # noqa: E402
from agentmon import free_port, parse_metrics, rss_kb  # noqa: E402


def metrics(port):
    try:
        body = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5).read()
    except OSError:
        return {}
    return parse_metrics(body.decode())


def metric(port, name, label):
    """Sum of the samples of family name whose labels contain label."""
    return sum(v for k, v in metrics(port).items() if k.split("{")[0] == name and label in k)


def wait(cond, timeout, what):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return
        time.sleep(0.05)
    raise SystemExit("bench stream: timed out waiting for " + what)


def run(build, tmp, mode, load, pods, batch):
    st = os.path.join(tmp, "state-" + mode)
    srv = client.start_server(st, "--port", "0", "--bookmark-interval", "2", "--load", load,
                              timeout=300, stderr=open(os.path.join(tmp, "api-%s.log" % mode), "w"))
    port = free_port()
    log = open(os.path.join(tmp, "netpold-%s.log" % mode), "w")
    agent = subprocess.Popen([os.path.join(build, "netpold"), "--kubeconfig", srv.kubeconfig,
                              "--node-name", "bench-node", "--backend", "fake",
                              "--metrics-addr", "127.0.0.1:%d" % port, "--debug-addr", "off",
                              "--drop-log", "off", "--resync-period", "0"],
                             stdout=log, stderr=log)
    try:
        def ready():
            try:
                return urllib.request.urlopen("http://127.0.0.1:%d/readyz" % port,
                                              timeout=2).status == 200
            except OSError:
                return False
        wait(ready, 300, "ready")
        if mode == "streamed":
            c = client.Client(st, keep_alive=True)
            for i in range(0, len(pods), batch):
                c.control("bulk", {"kind": "List", "items": pods[i:i + batch]})
        n = len(pods)
        wait(lambda: metric(port, "netpold_store_objects", 'kind="Pod"') >= n, 300, "every pod")
        first = rss_kb(agent.pid)
        time.sleep(1)
        later = rss_kb(agent.pid)
        syncs = metric(port, "netpold_syncs_total", "")
        events = metric(port, "netpold_watch_events_total", 'resource="pods"')
        return {"hwm": later["VmHWM"], "rss_all": first["VmRSS"], "rss_1s": later["VmRSS"],
                "syncs": syncs, "events": events}
    finally:
        agent.terminate()
        agent.wait(10)
        srv.stop()


def main():
    build = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    batch = int(os.environ.get("BATCH", "200"))
    tmp = tempfile.mkdtemp(prefix="npd-bench-stream.")
    try:
        allf = os.path.join(tmp, "cluster.json")
        subprocess.run([sys.executable, os.path.join(SRC, "test", "bench", "gen_cluster.py"),
                        "--json", allf, "--pods", str(n), "--namespaces", str(max(1, n // 15)),
                        "--policies", str(n * 2 // 15), "--local", "110"], check=True)
        items = json.load(open(allf))["items"]
        pods = [o for o in items if o["kind"] == "Pod"]
        base = os.path.join(tmp, "base.json")
        with open(base, "w") as f:
            json.dump({"kind": "List", "items": [o for o in items if o["kind"] != "Pod"]}, f)
        res = {"listed": run(build, tmp, "listed", allf, pods, batch),
               "streamed": run(build, tmp, "streamed", base, pods, batch)}
    finally:
        subprocess.run(["rm", "-rf", tmp])
    print("== API source: %d pods listed vs the same pods as watch events (batches of %d)"
          % (n, batch))
    print("%-10s %12s %14s %14s %8s %12s" % ("", "peak RSS", "RSS all in", "RSS +1 s",
                                            "syncs", "pod events"))
    for mode in ("listed", "streamed"):
        r = res[mode]
        print("%-10s %8.1f MiB %10.1f MiB %10.1f MiB %8d %12d" % (
            mode, r["hwm"] / 1024, r["rss_all"] / 1024, r["rss_1s"] / 1024, r["syncs"],
            r["events"]))
    print("target: <= 30 MiB peak either way at 10,000 pods")


if __name__ == "__main__":
    main()
