#!/usr/bin/env python3
"""Self-test of npd_apiserver over raw HTTPS.  Exit 0 when every check passes.

    python3 test/apiserver/selftest.py [-v]
"""

import gzip
import json
import os
import shutil
import socket
import ssl
import sys
import tempfile
import time
import traceback
from urllib.parse import quote, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import client  # noqa: E402

VERBOSE = "-v" in sys.argv


class RawWatch:
    """A watch request over a raw TLS socket with a hand-written chunked decoder,
    so the test sees exactly what went over the wire (clean end vs abrupt close)."""

    def __init__(self, c, path, token=None, headers=None, timeout=10.0):
        u = urlsplit(c.url)
        raw = socket.create_connection((u.hostname, u.port), timeout=timeout)
        self.sock = c.ctx.wrap_socket(raw, server_hostname=u.hostname)
        h = {"Host": "%s:%s" % (u.hostname, u.port), "Accept": "application/json",
             "Authorization": "Bearer %s" % (token or c.token), "User-Agent": "selftest/1"}
        h.update(headers or {})
        req = "GET %s HTTP/1.1\r\n" % path + "".join("%s: %s\r\n" % kv for kv in h.items()) + "\r\n"
        self.sock.sendall(req.encode())
        self.buf = b""
        self.eof = False
        head = self._until(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {}
        for ln in lines[1:]:
            if ":" in ln:
                k, v = ln.split(":", 1)
                self.headers[k.strip().lower()] = v.strip()
        self.chunked = self.headers.get("transfer-encoding", "").lower() == "chunked"
        self.clean_end = False   # saw the terminating zero-length chunk
        self.abrupt = False      # connection closed before it
        self.pending = b""
        self.body = b""
        if not self.chunked:
            n = int(self.headers.get("content-length", "0"))
            while len(self.buf) < n and self._fill():
                pass
            self.body = self.buf[:n]

    def _fill(self):
        try:
            d = self.sock.recv(65536)
        except (ConnectionResetError, ssl.SSLError, OSError):
            d = b""
        if not d:
            self.eof = True
            return False
        self.buf += d
        return True

    def _until(self, sep):
        while sep not in self.buf:
            if not self._fill():
                raise EOFError("eof while waiting for %r" % sep)
        i = self.buf.index(sep)
        out, self.buf = self.buf[:i], self.buf[i + len(sep):]
        return out

    def _chunk(self):
        """Next chunk's data, or None at the end of the stream."""
        if self.clean_end or self.abrupt:
            return None
        try:
            size = int(self._until(b"\r\n").split(b";")[0], 16)
            if size == 0:
                self._until(b"\r\n")
                self.clean_end = True
                return None
            while len(self.buf) < size + 2:
                if not self._fill():
                    raise EOFError()
            data, self.buf = self.buf[:size], self.buf[size + 2:]
            return data
        except EOFError:
            self.abrupt = True
            return None

    def line(self):
        """Next newline-terminated line (bytes), or None at end of stream."""
        while b"\n" not in self.pending:
            d = self._chunk()
            if d is None:
                return None
            self.pending += d
        i = self.pending.index(b"\n")
        out, self.pending = self.pending[:i], self.pending[i + 1:]
        return out

    def events(self, n=None):
        out = []
        while n is None or len(out) < n:
            ln = self.line()
            if ln is None:
                break
            out.append(json.loads(ln))
        return out

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class T:
    passed = 0
    failed = 0
    names = []

    @classmethod
    def run(cls, fn):
        name = fn.__name__[5:] if fn.__name__.startswith("test_") else fn.__name__
        t0 = time.time()
        try:
            fn()
            cls.passed += 1
            print("ok   %-40s %.2fs" % (name, time.time() - t0))
        except Exception as e:  # noqa: BLE001
            cls.failed += 1
            print("FAIL %-40s %s" % (name, e))
            if VERBOSE:
                traceback.print_exc()


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def eq(a, b, msg=""):
    if a != b:
        raise AssertionError("%s: expected %r, got %r" % (msg, b, a))


TMP = tempfile.mkdtemp(prefix="npd-selftest-")
SRV = client.start_server(os.path.join(TMP, "state"), "--bookmark-interval", "0.3",
                          *(["--verbose"] if VERBOSE else []))
C = SRV.client


def rv_now():
    return int(C.stats()["resourceVersion"])


def setup_objects():
    C.create(client.namespace("alpha", {"team": "a"}))
    C.create(client.namespace("beta"))
    C.bulk([client.pod("alpha", "p%d" % i, "10.9.0.%d" % (i + 1), {"app": "x"}) for i in range(5)])


def test_discovery_and_auth():
    st, v = C.api("GET", "/version")
    eq(st, 200, "/version")
    check(v["major"] == "1", "version major")
    st, a = C.api("GET", "/api")
    eq(a["kind"], "APIVersions", "/api kind")
    st, g = C.api("GET", "/apis")
    check(any(x["name"] == "networking.k8s.io" for x in g["groups"]), "networking group listed")
    st, r = C.api("GET", "/apis/networking.k8s.io/v1")
    check(any(x["name"] == "networkpolicies" for x in r["resources"]), "networkpolicies resource")
    st, r = C.api("GET", "/api/v1")
    names = {x["name"] for x in r["resources"]}
    check({"pods", "namespaces"} <= names, "pods+namespaces resources")
    st, body = C.api("GET", "/api/v1/pods", token="wrong")
    eq(st, 401, "bad token status")
    eq((body["kind"], body["reason"], body["code"]), ("Status", "Unauthorized", 401), "401 Status")
    st, body = C.api("GET", "/api/v1/pods", token=False)
    eq(st, 401, "no token status")
    st, _, _ = C.request("GET", "/_npd/stats", token="wrong", url=C.control_url)
    eq(st, 401, "control with bad token")


def test_server_set_fields():
    ns = C.get("ns", None, "beta")
    eq(ns["metadata"]["labels"].get("kubernetes.io/metadata.name"), "beta", "ns name label")
    C.update({"kind": "Namespace", "metadata": {"name": "beta", "labels": {"kubernetes.io/metadata.name": "evil"}}})
    ns2 = C.get("ns", None, "beta")
    eq(ns2["metadata"]["labels"]["kubernetes.io/metadata.name"], "beta", "ns label forced on update")
    eq(ns2["metadata"]["uid"], ns["metadata"]["uid"], "uid kept on update")
    check(int(ns2["metadata"]["resourceVersion"]) > int(ns["metadata"]["resourceVersion"]), "rv grows")
    p = C.get("pod", "alpha", "p0")
    for f in ("uid", "creationTimestamp", "resourceVersion", "managedFields"):
        check(f in p["metadata"], "pod metadata.%s" % f)
    eq(p["status"]["phase"], "Running", "pod phase default")
    eq(p["status"]["podIPs"], [{"ip": "10.9.0.1"}], "podIPs")
    C.create({"kind": "Pod", "metadata": {"name": "noip", "namespace": "beta"}})
    q = C.get("pod", "beta", "noip")
    check("podIP" not in q["status"] and "podIPs" not in q["status"], "no podIP unless given")
    C.delete("pod", "beta", "noip")
    np = C.create({"kind": "NetworkPolicy", "apiVersion": "networking.k8s.io/v1",
                   "metadata": {"name": "np1", "namespace": "alpha"},
                   "spec": {"podSelector": {}, "egress": [{"ports": [{"port": 53}]}],
                            "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}]}})
    eq(np["spec"]["policyTypes"], ["Ingress", "Egress"], "policyTypes default")
    eq(np["spec"]["egress"][0]["ports"][0]["protocol"], "TCP", "port protocol default")
    eq(np["metadata"]["generation"], 1, "generation 1")
    np2 = C.create({"kind": "NetworkPolicy", "metadata": {"name": "np2", "namespace": "alpha"},
                    "spec": {"podSelector": {"matchLabels": {}}, "ingress": [], "egress": []}})
    eq(np2["spec"]["policyTypes"], ["Ingress"], "policyTypes with empty egress")
    check("ingress" not in np2["spec"] and "egress" not in np2["spec"], "empty lists omitted")
    eq(np2["spec"]["podSelector"], {}, "empty selector")
    np["spec"]["policyTypes"] = ["Egress"]
    np3 = C.update(np)
    eq(np3["metadata"]["generation"], 2, "generation bumped on spec change")
    C.delete("netpol", "alpha", "np1")
    C.delete("netpol", "alpha", "np2")
    try:
        C.create(client.pod("nosuchns", "x"))
        raise AssertionError("create in missing namespace succeeded")
    except client.ControlError as e:
        eq(e.code, 404, "missing namespace")


def test_pagination_limit2():
    st, page = C.api("GET", "/api/v1/namespaces/alpha/pods?limit=2")
    eq(st, 200, "page 1")
    eq(page["kind"], "PodList", "list kind")
    eq(page["apiVersion"], "v1", "list apiVersion")
    check("kind" not in page["items"][0], "items omit kind")
    eq([i["metadata"]["name"] for i in page["items"]], ["p0", "p1"], "page 1 names")
    eq(page["metadata"].get("remainingItemCount"), 3, "remainingItemCount")
    rv = page["metadata"]["resourceVersion"]
    # changes after the snapshot must not show up in later pages
    C.create(client.pod("alpha", "p2a", "10.9.1.1"))
    C.delete("pod", "alpha", "p4")
    names = [i["metadata"]["name"] for i in page["items"]]
    pages = 1
    while page["metadata"].get("continue"):
        st, page = C.api("GET", "/api/v1/namespaces/alpha/pods?limit=2&continue=" + page["metadata"]["continue"])
        eq(st, 200, "next page")
        eq(page["metadata"]["resourceVersion"], rv, "snapshot rv kept across pages")
        names += [i["metadata"]["name"] for i in page["items"]]
        pages += 1
    eq(names, ["p0", "p1", "p2", "p3", "p4"], "all 5 pods from the snapshot")
    eq(pages, 3, "pages")
    st, full = C.api("GET", "/api/v1/pods")
    eq([i["metadata"]["name"] for i in full["items"]], ["p0", "p1", "p2", "p2a", "p3"], "current list")
    C.delete("pod", "alpha", "p2a")
    C.create(client.pod("alpha", "p4", "10.9.0.5", {"app": "x"}))


def test_continue_expired_after_compaction():
    st, page = C.api("GET", "/api/v1/pods?limit=2")
    tok = page["metadata"]["continue"]
    C.label("pod", "alpha", "p0", {"touch": "1"})
    C.fault("compact")
    st, body = C.api("GET", "/api/v1/pods?limit=2&continue=" + tok)
    eq(st, 410, "continue after compaction")
    eq((body["kind"], body["status"], body["reason"], body["code"]), ("Status", "Failure", "Expired", 410), "410 body")
    check(body["message"].startswith("The provided continue parameter is too old"), "410 message")


def test_gzip_list():
    st, h, data = C.request("GET", "/api/v1/pods", headers={"Accept-Encoding": "gzip"})
    eq(h.get("content-encoding"), "gzip", "content-encoding")
    eq(json.loads(gzip.decompress(data))["kind"], "PodList", "gunzipped list")


def test_watch_from_rv_exact_events():
    r0 = rv_now()
    C.create(client.pod("alpha", "w1", "10.9.2.1"))
    C.label("pod", "alpha", "w1", {"v": "2"})
    C.delete("pod", "alpha", "w1")
    C.label("ns", None, "alpha", {"x": "y"})  # another kind: must not appear
    w = RawWatch(C, "/api/v1/pods?watch=1&resourceVersion=%d&timeoutSeconds=1" % r0)
    eq(w.status, 200, "watch status")
    eq(w.headers.get("transfer-encoding"), "chunked", "chunked")
    evs = w.events()
    w.close()
    eq([(e["type"], e["object"]["metadata"]["name"]) for e in evs],
       [("ADDED", "w1"), ("MODIFIED", "w1"), ("DELETED", "w1")], "events after rv")
    rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in evs]
    check(all(r > r0 for r in rvs) and rvs == sorted(rvs), "rvs increasing and > start")
    eq(evs[0]["object"]["kind"], "Pod", "event objects carry kind")
    check(w.clean_end, "stream ended with terminating chunk")


def test_watch_initial_and_live():
    w = RawWatch(C, "/api/v1/namespaces/alpha/pods?watch=true&timeoutSeconds=3")
    init = w.events(5)
    eq([e["type"] for e in init], ["ADDED"] * 5, "synthetic ADDED for existing pods")
    C.create(client.pod("alpha", "live", "10.9.3.1"))
    C.create(client.pod("beta", "other", "10.9.3.2"))  # other namespace: filtered
    ev = w.events(1)[0]
    eq((ev["type"], ev["object"]["metadata"]["name"]), ("ADDED", "live"), "live event")
    C.delete("pod", "alpha", "live")
    C.delete("pod", "beta", "other")
    eq(w.events(1)[0]["type"], "DELETED", "live delete")
    w.close()


def test_watch_field_selector_transitions():
    C.create(client.pod("alpha", "fs", "10.9.4.1", node="n1"))
    r0 = rv_now()
    w = RawWatch(C, "/api/v1/pods?watch=1&fieldSelector=spec.nodeName%%3Dn1&resourceVersion=%d&timeoutSeconds=1" % r0)
    p = C.get("pod", "alpha", "fs")
    p["spec"]["nodeName"] = "n2"
    del p["metadata"]["resourceVersion"]
    C.update(p)
    p["spec"]["nodeName"] = "n1"
    C.update(p)
    evs = w.events()
    w.close()
    eq([e["type"] for e in evs], ["DELETED", "ADDED"], "selector transitions")
    C.delete("pod", "alpha", "fs")


def test_list_field_selectors():
    C.create(client.pod("alpha", "fa", "10.9.5.1", node="n1", host_network=True))
    C.create(client.pod("beta", "fb", "10.9.5.2", node="n2", phase="Pending"))

    def names(sel, path="/api/v1/pods"):
        st, body = C.api("GET", "%s?fieldSelector=%s" % (path, quote(sel)))
        eq(st, 200, sel)
        return sorted(o["metadata"]["name"] for o in body["items"]
                      if o["metadata"]["name"] in ("fa", "fb", "alpha", "beta"))

    eq(names("metadata.name=fa"), ["fa"], "metadata.name")
    eq(names("metadata.namespace=beta"), ["fb"], "metadata.namespace")
    eq(names("spec.nodeName=n1"), ["fa"], "spec.nodeName")
    eq(names("spec.hostNetwork=true"), ["fa"], "spec.hostNetwork=true")
    eq(names("spec.hostNetwork!=true"), ["fb"], "spec.hostNetwork!=true")
    eq(names("status.phase=Pending"), ["fb"], "status.phase")
    eq(names("status.podIP=10.9.5.2"), ["fb"], "status.podIP")
    eq(names("status.nominatedNodeName="), ["fa", "fb"], "absent field is empty")
    eq(names("metadata.name!=fa,spec.nodeName=n2"), ["fb"], "two terms")
    eq(names("metadata.name=beta", "/api/v1/namespaces"), ["beta"], "namespace name")
    eq(names("status.phase=Active", "/api/v1/namespaces"), ["alpha", "beta"],
       "namespace phase")
    C.delete("pod", "alpha", "fa")
    C.delete("pod", "beta", "fb")


def test_bookmark():
    w = RawWatch(C, "/api/v1/pods?watch=1&allowWatchBookmarks=true&resourceVersion=%d&timeoutSeconds=1" % rv_now())
    evs = w.events()
    w.close()
    bms = [e for e in evs if e["type"] == "BOOKMARK"]
    check(bms, "no BOOKMARK within 1s (interval 0.3s)")
    o = bms[0]["object"]
    eq((o["kind"], o["apiVersion"], list(o["metadata"])), ("Pod", "v1", ["resourceVersion"]), "bookmark object")
    check(int(o["metadata"]["resourceVersion"]) >= 1, "bookmark rv")


def test_watch_expired_error_event():
    old = rv_now()
    C.label("pod", "alpha", "p1", {"touch": "2"})
    C.fault("compact")
    w = RawWatch(C, "/api/v1/pods?watch=1&resourceVersion=%d" % old)
    eq(w.status, 200, "watch on compacted rv: status 200")
    evs = w.events()
    w.close()
    eq(len(evs), 1, "exactly one event")
    eq(evs[0]["type"], "ERROR", "ERROR event")
    o = evs[0]["object"]
    eq((o["kind"], o["code"], o["reason"]), ("Status", 410, "Expired"), "Status 410 Expired")
    check(w.clean_end, "stream closed after ERROR")
    C.fault("watch-expired-mode", mode="http")
    w = RawWatch(C, "/api/v1/pods?watch=1&resourceVersion=%d" % old)
    eq(w.status, 410, "http mode status")
    eq(json.loads(w.body)["reason"], "Expired", "http mode body")
    w.close()
    C.fault("watch-expired-mode", mode="event")


def test_timeout_seconds():
    t0 = time.time()
    w = RawWatch(C, "/api/v1/namespaces?watch=1&resourceVersion=%d&timeoutSeconds=1" % rv_now())
    w.events()
    dt = time.time() - t0
    w.close()
    check(w.clean_end and not w.abrupt, "clean end")
    check(0.9 <= dt < 3, "ended after ~1s (took %.2fs)" % dt)


def test_fail_429_retry_after():
    C.fault("fail", count=2, status=429, retry_after=3)
    for i in range(2):
        st, h, data = C.request("GET", "/api/v1/pods")
        eq(st, 429, "request %d status" % i)
        eq(h.get("retry-after"), "3", "Retry-After")
        b = json.loads(data)
        eq((b["kind"], b["reason"], b["code"]), ("Status", "TooManyRequests", 429), "429 Status")
    C.stats()  # control requests are never failed
    st, _, _ = C.request("GET", "/api/v1/pods")
    eq(st, 200, "third request ok")
    C.fault("fail", count=1, status=500)
    st, _, data = C.request("GET", "/api/v1/namespaces")
    eq((st, json.loads(data)["reason"]), (500, "InternalError"), "500 fault")


def test_malformed_injection():
    w = RawWatch(C, "/api/v1/pods?watch=1&resourceVersion=%d&timeoutSeconds=5" % rv_now())
    C.wait_watchers(1, timeout=5)
    C.fault("malformed")
    ln = w.line()
    check(ln is not None, "got a line")
    try:
        json.loads(ln)
        raise AssertionError("line was valid JSON: %r" % ln)
    except ValueError:
        pass
    C.create(client.pod("alpha", "after-bad", "10.9.5.1"))
    ev = json.loads(w.line())
    eq(ev["object"]["metadata"]["name"], "after-bad", "stream continues after bad line")
    w.close()
    C.delete("pod", "alpha", "after-bad")


def test_close_watches():
    ws = [RawWatch(C, "/api/v1/pods?watch=1&resourceVersion=%d" % rv_now()) for _ in range(2)]
    s = C.wait_watchers(2, timeout=5)
    check(s["open_watches"] >= 2, "two watches open")
    r = C.fault("close-watches")
    check(r["closed"] >= 2, "closed count")
    for w in ws:
        check(w.line() is None, "stream ended")
        check(w.abrupt and not w.clean_end, "abrupt close, no terminating chunk")
        w.close()
    C.wait_watchers(0, timeout=5, exact=True)


def test_watch_error_injection():
    w = RawWatch(C, "/api/v1/pods?watch=1&resourceVersion=%d" % rv_now())
    C.wait_watchers(1, timeout=5)
    C.fault("watch-error", code=410)
    evs = w.events()
    w.close()
    eq([(e["type"], e["object"]["code"]) for e in evs], [("ERROR", 410)], "injected ERROR")
    check(w.clean_end, "clean end after ERROR")


def test_client_disconnect_detected():
    w = RawWatch(C, "/apis/networking.k8s.io/v1/networkpolicies?watch=1&resourceVersion=%d" % rv_now())
    C.wait_watchers(1, timeout=5, resource="networkpolicies")
    w.close()
    C.wait_watchers(0, timeout=5, resource="networkpolicies", exact=True)


def test_stall():
    C.fault("stall", seconds=1)
    t0 = time.time()
    st, _, _ = C.request("GET", "/api/v1/namespaces")
    dt = time.time() - t0
    eq(st, 200, "stalled request ok")
    check(dt >= 0.8, "request held (%.2fs)" % dt)


def test_stop_start_listening():
    w = RawWatch(C, "/api/v1/pods?watch=1&resourceVersion=%d" % rv_now())
    C.wait_watchers(1, timeout=5)
    C.fault("stop-listening")
    check(w.line() is None and w.abrupt, "watch dropped on stop-listening")
    w.close()
    try:
        C.request("GET", "/version", timeout=2)
        raise AssertionError("API still answering")
    except (ConnectionRefusedError, OSError):
        pass
    eq(C.stats()["listening"], False, "stats listening=false")
    C.fault("start-listening")
    st, _, _ = C.request("GET", "/version")
    eq(st, 200, "API back on the same port")
    C.fault("stop-listening", seconds=0.5)
    time.sleep(1.5)
    st, _, _ = C.request("GET", "/version")
    eq(st, 200, "API back after timed stop")


def test_table_output():
    st, t = C.api("GET", "/api/v1/pods?limit=500",
                  headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"})
    eq(t["kind"], "Table", "Table kind")
    eq([c["name"] for c in t["columnDefinitions"][:5]], ["Name", "Ready", "Status", "Restarts", "Age"], "pod columns")
    eq(t["rows"][0]["object"]["kind"], "PartialObjectMetadata", "row object")


def test_write_wakes_only_its_watchers():
    """A write wakes the watches of its kind whose selector can match it, no others: the
    server counts each watch's wakeups and those that found nothing to write."""
    r0 = rv_now()
    q = "?watch=1&resourceVersion=%d&timeoutSeconds=8" % r0
    paths = {"pods": "/api/v1/pods" + q,
             "pods_n1": "/api/v1/pods" + q + "&fieldSelector=spec.nodeName%3Dn1",
             "pods_beta": "/api/v1/namespaces/beta/pods" + q,
             "ns": "/api/v1/namespaces" + q,
             "netpol": "/apis/networking.k8s.io/v1/networkpolicies" + q}
    ws = {k: RawWatch(C, p) for k, p in paths.items()}

    def counts():
        by_path = {w["path"]: w for w in C.stats()["watches"]}
        return {k: (by_path[p]["wakeups"], by_path[p]["idle_wakeups"], by_path[p]["events"])
                for k, p in paths.items()}
    try:
        deadline = time.time() + 5
        while set(paths.values()) - {w["path"] for w in C.stats()["watches"]}:
            check(time.time() < deadline, "watches not registered")
            time.sleep(0.02)
        base = counts()
        for i in range(5):
            C.create(client.pod("alpha", "wk%d" % i, "10.9.7.%d" % (i + 1), node="n2"))
            C.label("pod", "alpha", "wk%d" % i, {"v": "2"})
            C.delete("pod", "alpha", "wk%d" % i)
        evs = ws["pods"].events(15)
        eq(len(evs), 15, "pod events on the unfiltered watch")
        time.sleep(0.3)  # a watcher woken by mistake has had time to count it
        after = counts()
        check(after["pods"][0] > base["pods"][0], "the pods watch was woken")
        eq(after["pods"][1], base["pods"][1], "pods watch: wakeups with nothing to write")
        for k in ("pods_n1", "pods_beta", "ns", "netpol"):
            eq(after[k][:2], base[k][:2], "%s watch (wakeups, idle) after pod writes elsewhere" % k)
            eq(after[k][2], 0, "%s watch: events" % k)
        C.label("ns", None, "beta", {"wk": "1"})
        eq(ws["ns"].events(1)[0]["object"]["metadata"]["name"], "beta", "namespace event")
        C.create(POLICY_WK)
        eq(ws["netpol"].events(1)[0]["object"]["metadata"]["name"], "wk", "policy event")
        time.sleep(0.3)
        last = counts()
        check(last["ns"][0] > after["ns"][0], "the namespaces watch was woken")
        check(last["netpol"][0] > after["netpol"][0], "the policies watch was woken")
        for k in ("pods", "pods_n1", "pods_beta"):
            eq(last[k][:2], after[k][:2], "%s watch after namespace and policy writes" % k)
        eq((last["ns"][1], last["netpol"][1]), (0, 0), "wakeups with nothing to write")
    finally:
        for w in ws.values():
            w.close()
        C.label("ns", None, "beta", {"wk": None})
        try:
            C.delete("networkpolicy", "alpha", "wk")
        except client.ControlError:
            pass  # the check failed before it was created


POLICY_WK = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
             "metadata": {"name": "wk", "namespace": "alpha"},
             "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}


def test_stats():
    s = C.stats()
    check(s["requests"].get("list /api/v1/pods", 0) >= 1, "list counted")
    check(s["requests"].get("watch /api/v1/pods", 0) >= 1, "watch counted")
    check("open_watches" in s, "open_watches")


def test_bulk_10000():
    t0 = time.time()
    C.create(client.namespace("bulk"))
    C.bulk(client.gen_pods("bulk", 10000, ip_base="10.100.0.1"))
    dt = time.time() - t0
    st, page = C.api("GET", "/api/v1/namespaces/bulk/pods?limit=500")
    eq(page["metadata"].get("remainingItemCount"), 9500, "10000 pods stored")
    n = len(page["items"])
    while page["metadata"].get("continue"):
        st, page = C.api("GET", "/api/v1/namespaces/bulk/pods?limit=500&continue=" + page["metadata"]["continue"])
        n += len(page["items"])
    eq(n, 10000, "paged count")
    check(dt < 30, "bulk create took %.1fs" % dt)
    C.delete("ns", None, "bulk")
    eq(C.stats()["objects"]["Pod"], 5, "namespace delete cascades")


TESTS = [test_discovery_and_auth, test_server_set_fields, test_pagination_limit2,
         test_continue_expired_after_compaction, test_gzip_list, test_watch_from_rv_exact_events,
         test_watch_initial_and_live, test_watch_field_selector_transitions, test_list_field_selectors,
         test_bookmark,
         test_watch_expired_error_event, test_timeout_seconds, test_fail_429_retry_after,
         test_malformed_injection, test_close_watches, test_watch_error_injection,
         test_client_disconnect_detected, test_stall, test_stop_start_listening,
         test_table_output, test_write_wakes_only_its_watchers, test_stats, test_bulk_10000]


def main():
    try:
        setup_objects()
        for t in TESTS:
            T.run(t)
    finally:
        SRV.stop()
        shutil.rmtree(TMP, ignore_errors=True)
    print("%d passed, %d failed" % (T.passed, T.failed))
    return 0 if T.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
