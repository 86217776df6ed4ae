#!/usr/bin/env bash
# test_k8s_source.sh: netpold's Kubernetes source against the test API server
# (test/apiserver/npd_apiserver.py): initial list, creates/deletes/label changes, and the
# faults a real API server shows (watches closed, compaction + 410, 5xx, 429 with
# Retry-After, a malformed watch line, the API gone for 5 s, a rotated token), with gzip'd
# lists and watches. The agent's
# view is read from /metrics only. Needs no root: the fake backend records operations.
# Prints "N passed, M failed"; also the RSS of netpold after listing 10,000 pods.
set -u
SRC=${NPD_SRC_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${NPD_BUILD_DIR:-$SRC/build}
if [ ! -x "$BUILD/netpold" ] || ! command -v python3 >/dev/null; then
	echo "SKIP: needs $BUILD/netpold and python3"
	exit 77
fi
[ "${NPD_TEST_HOOKS:-ON}" = ON ] || { echo "needs a test build (-DNPD_TEST_HOOKS=ON)"; exit 1; }
exec python3 - "$SRC" "$BUILD" <<'PY'
import json, os, re, shutil, signal, subprocess, sys, tempfile, time, urllib.request

SRC, BUILD = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(SRC, "test/apiserver"))
sys.path.insert(0, os.path.join(SRC, "test/e2e/lib"))
import client  # noqa: E402
from agentmon import free_port, parse_metrics, rss_kb  # noqa: E402

passed = failed = 0
tmp = tempfile.mkdtemp(prefix="npd-k8s-")
srv = agent = None
agent_log = os.path.join(tmp, "netpold.log")


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("ok - %s" % name, flush=True)
    else:
        failed += 1
        print("FAIL - %s %s" % (name, detail), flush=True)


port = free_port()


def http_get(path):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, ""
    except OSError:
        return 0, ""


def metrics():
    return parse_metrics(http_get("/metrics")[1])


def m(name, **labels):
    key = name
    if labels:
        key += "{" + ",".join('%s="%s"' % kv for kv in labels.items()) + "}"
    return metrics().get(key, 0.0)


def msum(prefix, **labels):
    """Sum of a family over the label sets containing labels."""
    total = 0.0
    for k, v in metrics().items():
        if k.split("{")[0] != prefix:
            continue
        if all('%s="%s"' % kv in k for kv in labels.items()):
            total += v
    return total


def objects(kind):
    return m("netpold_store_objects", kind=kind)


def wait_for(cond, timeout=15.0, step=0.1):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(step)
    return cond()


def watches_open(n, timeout=40.0):
    """All n watches are open again: after an outage a resource may still be in its
    jittered backoff (capped at 30 s), so wait past the cap."""
    try:
        c.wait_watchers(n, timeout=timeout)
        return True
    except TimeoutError:
        return False


def pod(ns, name, labels=None, ip="10.1.0.9", node="node1"):
    return {"kind": "Pod", "metadata": {"name": name, "namespace": ns, "labels": labels or {}},
            "spec": {"nodeName": node, "containers": [{"name": "c", "image": "x",
                                                       "ports": [{"name": "http", "containerPort": 80}]}]},
            "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}]}}


def start_agent(kubeconfig, env_extra=None):
    env = dict(os.environ)
    env["NPD_K8S_WATCH_TIMEOUT_RANGE"] = "6,9"
    env.update(env_extra or {})
    log = open(agent_log, "a")
    return subprocess.Popen([os.path.join(BUILD, "netpold"), "--kubeconfig", kubeconfig,
                             "--node-name", "node1", "--backend", "fake",
                             "--metrics-addr", "127.0.0.1:%d" % port],
                            stdout=log, stderr=log, env=env)


try:
    st = os.path.join(tmp, "state")
    timing_log = os.path.join(tmp, "timing.log")
    srv = client.start_server(st, "--port", "0", "--bookmark-interval", "2", "--gzip-watch",
                              "--timing-log", timing_log, stderr=open(os.path.join(tmp, "apiserver.log"), "w"))
    c = srv.client
    c.create({"kind": "Namespace", "metadata": {"name": "app", "labels": {"team": "a"}}})
    c.create({"kind": "Namespace", "metadata": {"name": "other"}})
    for i in range(3):
        c.create(pod("app", "web%d" % i, {"app": "web"}, "10.1.0.%d" % (i + 2)))
    c.create({"kind": "NetworkPolicy", "metadata": {"name": "allow-client", "namespace": "app"},
              "spec": {"podSelector": {"matchLabels": {"app": "web"}},
                       "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "client"}}}]}]}})

    # A kubeconfig that reads its token from a file, so rotation can be tested.
    token_file = os.path.join(tmp, "token")
    shutil.copyfile(os.path.join(st, "token"), token_file)
    kc = open(os.path.join(st, "kubeconfig")).read()
    kc = re.sub(r"(\n\s+)token: \S+", r"\1tokenFile: %s" % token_file, kc)
    kubeconfig = os.path.join(tmp, "kubeconfig")
    with open(kubeconfig, "w") as f:
        f.write(kc)

    agent = start_agent(kubeconfig)
    ready = wait_for(lambda: agent.poll() is not None or http_get("/readyz")[0] == 200, 20) \
        and agent.poll() is None
    check("readyz after the first lists", ready)
    check("initial list", wait_for(lambda: objects("Namespace") == 2 and objects("Pod") == 3
                                   and objects("NetworkPolicy") == 1),
          str({k: objects(k) for k in ("Namespace", "Pod", "NetworkPolicy")}))

    c.create(pod("app", "new1", {"app": "web"}, "10.1.0.20"))
    check("watch: create", wait_for(lambda: objects("Pod") == 4))
    c.delete("Pod", "app", "new1")
    check("watch: delete", wait_for(lambda: objects("Pod") == 3))
    c.create({"kind": "Namespace", "metadata": {"name": "third", "labels": {"team": "c"}}})
    check("watch: namespace create", wait_for(lambda: objects("Namespace") == 3))
    upd = m("netpold_set_updates_total")
    mods = m("netpold_watch_events_total", resource="pods", type="MODIFIED")
    t_label = time.time()
    rv = c.label("Pod", "app", "web2", {"app": "client"})["metadata"]["resourceVersion"]
    check("watch: pod label change reaches the ipsets",
          wait_for(lambda: m("netpold_set_updates_total") > upd and
                   m("netpold_watch_events_total", resource="pods", type="MODIFIED") > mods),
          "set_updates=%s" % m("netpold_set_updates_total"))
    # Where a write's time goes: the server says when it stored it and wrote it to the
    # agent's watch, netpold when its sync held it.
    tl = [ln.split() for ln in open(timing_log)]
    t_commit = [float(p[0]) for p in tl if p[1:4] == ["commit", "Pod", rv]]
    t_sent = [float(p[0]) for p in tl if p[1:4] == ["sent", "Pod", rv]]
    check("timing log: the label write stored, then written to the agent's watch",
          len(t_commit) == 1 and len(t_sent) == 1 and t_label <= t_commit[0] <= t_sent[0],
          "commit=%s sent=%s" % (t_commit, t_sent))
    t_sync = m("netpold_last_sync_timestamp_seconds")
    check("the sync that enforced it held the kernel after the write was stored",
          bool(t_commit) and t_commit[0] < t_sync <= time.time(),
          "commit=%s sync=%s" % (t_commit, t_sync))
    check("bookmarks counted",
          wait_for(lambda: m("netpold_watch_events_total", resource="pods", type="BOOKMARK") > 0, 10))
    r0 = m("netpold_watch_restarts_total", resource="pods")
    check("watch restarts at timeoutSeconds",
          wait_for(lambda: m("netpold_watch_restarts_total", resource="pods") > r0, 15))

    # Watches closed abruptly: resumed from the last rv, nothing missed.
    r0 = msum("netpold_watch_restarts_total")
    c.fault("close-watches")
    c.create(pod("app", "after-close", {"app": "web"}, "10.1.0.21"))
    check("close-watches: restarted and caught up",
          wait_for(lambda: msum("netpold_watch_restarts_total") >= r0 + 3 and objects("Pod") == 4),
          "restarts=%s pods=%s" % (msum("netpold_watch_restarts_total"), objects("Pod")))
    check("no relist after close-watches", msum("netpold_relists_total") == 0)

    # 410 mid-watch (ERROR event) relists.
    rl = m("netpold_relists_total", resource="pods")
    c.fault("watch-error", code=410, resource="pods")
    check("watch ERROR 410 relists", wait_for(lambda: m("netpold_relists_total", resource="pods") > rl))
    check("410 counted", m("netpold_api_errors_total", resource="pods", code="410") >= 1)

    # A deletion during an outage whose history was compacted away: the watch from the old rv
    # gets 410, the relist replaces the store's pods and the deleted one disappears.
    check("watches re-opened (3)", watches_open(3))
    rl = m("netpold_relists_total", resource="pods")
    before = objects("Pod")
    c.fault("stop-listening")
    time.sleep(0.5)
    c.delete("Pod", "app", "web0")
    c.delete("Pod", "app", "web1")
    c.create(pod("app", "born-in-gap", {"app": "web"}, "10.1.0.22"))
    c.fault("compact")
    time.sleep(2)
    check("outage: store unchanged while the API is down", objects("Pod") == before)
    c.fault("start-listening")
    check("compact + 410 relist drops what was deleted in the gap",
          wait_for(lambda: m("netpold_relists_total", resource="pods") > rl and
                   objects("Pod") == before - 1, 40),
          "relists=%s pods=%s" % (m("netpold_relists_total", resource="pods"), objects("Pod")))
    check("watches re-opened (3)", watches_open(3))
    c.fault("watch-expired-mode", mode="http")
    rl = m("netpold_relists_total", resource="pods")
    c.fault("stop-listening")
    c.create(pod("app", "born-in-gap2", {"app": "web"}, "10.1.0.28"))
    c.fault("compact")
    c.fault("start-listening")
    check("HTTP 410 on re-watch relists",
          wait_for(lambda: m("netpold_relists_total", resource="pods") > rl and
                   objects("Pod") == before, 40))
    c.fault("watch-expired-mode", mode="event")

    # Three 500s, then recovery.
    e0 = msum("netpold_api_errors_total", code="500")
    c.fault("fail", count=3, status=500)
    c.fault("close-watches")
    check("fail 3x500: counted", wait_for(lambda: msum("netpold_api_errors_total", code="500") >= e0 + 3, 20))
    n = objects("Pod") + 1
    c.create(pod("app", "after-500", {"app": "web"}, "10.1.0.23"))
    check("fail 3x500: recovered", wait_for(lambda: objects("Pod") == n, 30))

    # 429 with Retry-After: 3 on the pods resource only; the retry waits at least that long.
    check("watches re-opened (3)", watches_open(3))
    e0 = m("netpold_api_errors_total", resource="pods", code="429")
    c.fault("fail", count=1, status=429, retry_after=3, path="pods")
    c.fault("close-watches")
    t0 = time.time()
    n = objects("Pod") + 1
    c.create(pod("app", "after-429", {"app": "web"}, "10.1.0.24"))
    seen = wait_for(lambda: objects("Pod") == n, 30, 0.05)
    took = time.time() - t0
    check("429: counted", m("netpold_api_errors_total", resource="pods", code="429") == e0 + 1)
    check("429: Retry-After honoured", seen and took >= 2.5, "took %.2fs" % took)

    # A malformed watch line is reported and skipped; the stream goes on.
    check("watches re-opened (3)", watches_open(3))
    d0 = msum("netpold_decode_errors_total")
    c.fault("malformed")
    check("malformed line counted", wait_for(lambda: msum("netpold_decode_errors_total") > d0, 10))
    n = objects("Pod") + 1
    c.create(pod("app", "after-malformed", {"app": "web"}, "10.1.0.25"))
    check("malformed line: stream goes on", wait_for(lambda: objects("Pod") == n, 10))

    # The API gone for 5 s: retried with backoff, nothing lost, rules kept.
    before = objects("Pod")
    net0 = msum("netpold_api_errors_total", code="network")
    c.fault("stop-listening", seconds=5)
    time.sleep(1)
    c.create(pod("app", "during-outage", {"app": "web"}, "10.1.0.26"))
    time.sleep(2)
    check("outage 5s: store unchanged, still healthy",
          objects("Pod") == before and http_get("/healthz")[0] == 200 and http_get("/readyz")[0] == 200)
    check("outage 5s: caught up after", wait_for(lambda: objects("Pod") == before + 1, 45))
    check("outage 5s: network errors counted", msum("netpold_api_errors_total", code="network") > net0)

    # Token rotation: the server accepts only a new token; the agent re-reads its token file
    # when it gets a 401 (and every 60 s).
    with open(token_file, "w") as f:
        f.write("rotated-token-1\n")
    c.set_tokens(["rotated-token-1"])
    c.fault("close-watches")
    n = objects("Pod") + 1
    c.create(pod("app", "after-rotation", {"app": "web"}, "10.1.0.27"))
    check("token rotation: 401 then recovered",
          wait_for(lambda: objects("Pod") == n, 30) and
          msum("netpold_api_errors_total", code="401") >= 1)
    check("agent still running", agent.poll() is None)

    # 10,000 pods, listed in pages, held in the store; RSS measured.
    agent.send_signal(signal.SIGTERM)
    agent.wait(10)
    bulk = [pod("bulk", "p%05d" % i, {"app": "bulk", "i": str(i % 50)},
                "10.%d.%d.%d" % (100 + i // 65536, (i // 256) % 256, i % 256), "node%d" % (i % 20))
            for i in range(10000)]
    c.create({"kind": "Namespace", "metadata": {"name": "bulk"}})
    c.bulk(bulk)
    total = len(c.get("Pod")["items"])
    lists0 = c.stats()["requests"].get("list /api/v1/pods", 0)
    agent = start_agent(kubeconfig)
    check("10k pods listed", wait_for(lambda: objects("Pod") == total, 120),
          "pods=%s want %d" % (objects("Pod"), total))
    time.sleep(1)
    r = rss_kb(agent.pid)
    # A figure, not a check: memory goals are met in scripts/bench (stream, scale).
    print("netpold RSS after listing %d pods: VmRSS=%d kB VmHWM=%d kB" % (total, r["VmRSS"], r["VmHWM"]))
    lists = c.stats()["requests"].get("list /api/v1/pods", 0) - lists0
    check("10k pods: the list was paginated (500 a page)", lists >= total // 500, "%d lists" % lists)
    agent.send_signal(signal.SIGTERM)
    rc = agent.wait(10)
    check("clean exit on SIGTERM", rc == 0, "rc=%s" % rc)
    agent = None
finally:
    if agent and agent.poll() is None:
        agent.kill()
        agent.wait()
    if srv:
        srv.stop()
    if failed:
        print("--- netpold log (tail) ---")
        with open(agent_log) as f:
            print("".join(f.readlines()[-60:]))
    shutil.rmtree(tmp, ignore_errors=True)

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
PY
