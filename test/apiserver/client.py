#!/usr/bin/env python3
"""Drive npd_apiserver's control channel (and its API) from tests.

As a module:
    sys.path.insert(0, "test/apiserver"); import client
    srv = client.start_server("/tmp/st")          # or client.Client("/tmp/st") for a running one
    c = srv.client; c.create({"kind": "Namespace", "metadata": {"name": "a"}})
    c.fault("close-watches"); c.wait_watchers(1, timeout=10); srv.stop()

As a CLI:  client.py --state-dir DIR COMMAND ...   (see `client.py --help`)
Everything (URL, token, CA) is read from the state directory.
"""

import argparse
import http.client
import ipaddress
import json
import os
import signal
import ssl
import subprocess
import sys
import time
from urllib.parse import urlsplit

from npd_apiserver import load_objects  # noqa: F401 (the --load format; apilab.sh uses it)

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "npd_apiserver.py")

KINDS = {"ns": "Namespace", "namespace": "Namespace", "namespaces": "Namespace",
         "po": "Pod", "pod": "Pod", "pods": "Pod",
         "netpol": "NetworkPolicy", "networkpolicy": "NetworkPolicy", "networkpolicies": "NetworkPolicy"}


class ControlError(Exception):
    def __init__(self, code, body):
        Exception.__init__(self, "HTTP %s: %s" % (code, body.get("message") if isinstance(body, dict) else body))
        self.code = code
        self.body = body


def kind_of(k):
    try:
        return KINDS[k.lower()]
    except KeyError:
        raise SystemExit("unknown kind %r (use ns, pod or netpol)" % k)


def _read(state, name):
    with open(os.path.join(state, name)) as f:
        return f.read().strip()


class Client:
    def __init__(self, state_dir, timeout=30.0, keep_alive=False):
        """keep_alive: one connection per URL, reused, so a request costs no handshake."""
        self.state = os.path.abspath(state_dir)
        self.timeout = timeout
        self.keep_alive = keep_alive
        self._kept = {}
        self.token = _read(self.state, "token")
        self.url = _read(self.state, "url")
        try:
            self.control_url = _read(self.state, "control_url")
        except FileNotFoundError:
            self.control_url = self.url
        self.ca = os.path.join(self.state, "ca.crt")
        self.ctx = ssl.create_default_context(cafile=self.ca)

    # ---- raw HTTPS ----

    def conn(self, url=None, timeout=None):
        u = urlsplit(url or self.url)
        return http.client.HTTPSConnection(u.hostname, u.port, context=self.ctx,
                                           timeout=timeout or self.timeout)

    def request(self, method, path, body=None, headers=None, url=None, token=True, timeout=None):
        """One request; returns (status, headers dict (lower-case keys), body bytes)."""
        h = {"Accept": "application/json"}
        if token:
            h["Authorization"] = "Bearer %s" % (self.token if token is True else token)
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        key = url or self.url
        kept = self._kept.pop(key, None) if self.keep_alive and timeout is None else None
        if kept is not None:
            try:
                return self._exchange(kept, method, path, body, h, key)
            except (http.client.HTTPException, OSError):
                kept.close()  # the server closed it while idle: once more on a new one
        return self._exchange(self.conn(url, timeout), method, path, body, h,
                              key if self.keep_alive and timeout is None else None)

    def _exchange(self, c, method, path, body, h, keep):
        """Sends on c; keeps c under keep afterwards, else closes it."""
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            data = r.read()
            out = r.status, {k.lower(): v for k, v in r.getheaders()}, data
        except BaseException:
            c.close()
            raise
        if keep is not None and not r.will_close:
            self._kept[keep] = c
        else:
            c.close()
        return out

    def api(self, method, path, body=None, headers=None, token=True):
        """Kubernetes API request; returns (status, decoded JSON or text)."""
        st, _, data = self.request(method, path, body, headers, token=token)
        try:
            return st, json.loads(data)
        except ValueError:
            return st, data.decode(errors="replace")

    def control(self, op, body=None, method="POST"):
        st, _, data = self.request(method, "/_npd/" + op, body if body is not None else {},
                                   url=self.control_url)
        try:
            out = json.loads(data)
        except ValueError:
            out = data.decode(errors="replace")
        if st >= 300:
            raise ControlError(st, out)
        return out

    # ---- objects ----

    def create(self, obj):
        return self.control("create", obj)

    def update(self, obj):
        return self.control("update", obj)

    def apply(self, obj):
        return self.control("apply", obj)

    def bulk(self, objs, batch=5000):
        out = None
        objs = list(objs)
        for i in range(0, len(objs), batch):
            out = self.control("bulk", {"kind": "List", "items": objs[i:i + batch]})
        return out

    def delete(self, kind, namespace, name, graceful=False):
        return self.control("delete", {"kind": kind_of(kind), "namespace": namespace, "name": name,
                                       "graceful": graceful})

    def label(self, kind, namespace, name, labels):
        """labels: dict; a value of None removes the label."""
        return self.control("label", {"kind": kind_of(kind), "namespace": namespace, "name": name,
                                      "labels": labels})

    def get(self, kind, namespace=None, name=None):
        return self.control("get", {"kind": kind_of(kind), "namespace": namespace, "name": name})

    # ---- faults / stats ----

    def fault(self, name, **kw):
        kw["fault"] = name
        return self.control("fault", kw)

    def stats(self):
        return self.control("stats", method="GET")

    def set_tokens(self, tokens):
        return self.control("set-tokens", {"tokens": list(tokens)})

    def wait_watchers(self, n, timeout=10.0, resource=None, exact=False):
        deadline = time.time() + timeout
        while True:
            s = self.stats()
            ws = [w for w in s["watches"] if resource is None or w["resource"] == resource]
            if (len(ws) == n) if exact else (len(ws) >= n):
                return s
            if time.time() >= deadline:
                raise TimeoutError("wanted %s%d open watches%s, have %d" % (
                    "" if exact else ">=", n, " of " + resource if resource else "", len(ws)))
            time.sleep(0.05)


# ---- object builders ----

def parse_labels(args):
    out = {}
    for a in args:
        if a.endswith("-") and "=" not in a:
            out[a[:-1]] = None
        elif "=" in a:
            k, v = a.split("=", 1)
            out[k] = v
        else:
            raise SystemExit("bad label %r (want k=v or k-)" % a)
    return out


def namespace(name, labels=None):
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": dict(labels or {})}}


def pod(ns, name, ip=None, labels=None, node=None, phase="Running", host_network=False, ports=None):
    p = {"apiVersion": "v1", "kind": "Pod",
         "metadata": {"name": name, "namespace": ns, "labels": dict(labels or {})},
         "spec": {"containers": [{"name": "app", "image": "registry.k8s.io/pause:3.10",
                                  "ports": ports or []}]},
         "status": {"phase": phase}}
    if node:
        p["spec"]["nodeName"] = node
    if host_network:
        p["spec"]["hostNetwork"] = True
    if ip:
        ips = ip.split(",")
        p["status"]["podIP"] = ips[0]
        p["status"]["podIPs"] = [{"ip": i} for i in ips]
    return p


def gen_pods(ns, count, prefix="pod", ip_base="10.200.0.1", node=None, labels=None):
    base = ipaddress.ip_address(ip_base)
    return [pod(ns, "%s-%d" % (prefix, i), str(base + i), labels, node) for i in range(count)]


# ---- server process helpers ----

class Server:
    def __init__(self, proc, state_dir):
        self.proc = proc
        self.state = state_dir
        self.client = Client(state_dir)
        self.url = self.client.url
        self.kubeconfig = os.path.join(state_dir, "kubeconfig")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def wait_ready(state_dir, timeout=30.0, proc=None):
    deadline = time.time() + timeout
    ready = os.path.join(state_dir, "ready")
    while not os.path.exists(ready):
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("npd_apiserver exited with %s" % proc.returncode)
        if time.time() >= deadline:
            raise TimeoutError("npd_apiserver not ready after %ss" % timeout)
        time.sleep(0.05)


def start_server(state_dir, *args, timeout=30.0, stderr=None):
    os.makedirs(state_dir, exist_ok=True)
    try:
        os.unlink(os.path.join(state_dir, "ready"))
    except FileNotFoundError:
        pass
    proc = subprocess.Popen([sys.executable, SERVER, "--state-dir", state_dir] + list(args), stderr=stderr)
    wait_ready(state_dir, timeout, proc)
    return Server(proc, state_dir)


# ---- CLI ----

FAULT_HELP = """faults:
  close-watches                      end every open watch abruptly (no terminating chunk)
  fail N STATUS [RETRY_AFTER] [--path SUBSTR]
                                     answer the next N API requests with STATUS (+Retry-After)
  compact                            compaction point := current rv (older rv -> 410)
  stall SECONDS                      hold API responses and watch events that long
  stop-listening [SECONDS]           close API listener + connections (re-open after SECONDS)
  start-listening                    re-open the API listener on the same port
  malformed                          write a line of invalid JSON into every open watch
  watch-error [CODE]                 send an ERROR event (default 410 Expired) and end watches
  watch-expired-mode event|http      how a watch from a compacted rv fails
  bookmark-interval SECONDS
  clear                              cancel pending fail/stall"""


def _objs_from_files(files):
    objs = []
    for f in files:
        text = sys.stdin.read() if f == "-" else open(f).read()
        objs.extend(load_objects(text))
    return objs


def _kind_ns_name(args, need_name=True):
    kind = kind_of(args[0])
    rest = args[1:]
    if kind == "Namespace":
        return kind, None, (rest[0] if rest else None), rest[1:]
    if need_name:
        if len(rest) < 2:
            raise SystemExit("usage: %s NAMESPACE NAME" % args[0])
        return kind, rest[0], rest[1], rest[2:]
    return kind, (rest[0] if rest else None), (rest[1] if len(rest) > 1 else None), rest[2:]


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="control npd_apiserver", formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="""commands:
  create FILE...|-        create objects (JSON object / array / List / concatenated docs)
  update FILE...          replace existing objects (409 on stale metadata.resourceVersion)
  apply FILE...           upsert
  bulk FILE...            create many objects in few calls
  delete KIND [NS] NAME [--graceful]
  label KIND [NS] NAME k=v k2- ...
  get KIND [NS] [NAME]
  ns NAME [k=v ...]                                  create a namespace
  pod NS NAME [--ip IP[,IP6]] [--node N] [--phase P] [--host-network] [k=v ...]
  gen-pods NS COUNT [--prefix P] [--ip-base IP] [--node N] [k=v ...]
  fault NAME [ARGS]       (see below)
  stats [KEY]
  wait-watchers N [--timeout S] [--resource pods|namespaces|networkpolicies] [--exact]
  wait-ready [--timeout S]
  set-tokens TOKEN...     tokens the API accepts (the control channel keeps the startup token)
  rv                      print the current resourceVersion
""" + FAULT_HELP)
    ap.add_argument("--state-dir", required=True)
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("command")
    ap.add_argument("args", nargs=argparse.REMAINDER)
    a = ap.parse_args(argv)
    cmd, args = a.command, a.args

    def opt(name, default=None, flag=False):
        nonlocal args
        if name in args:
            i = args.index(name)
            if flag:
                args = args[:i] + args[i + 1:]
                return True
            v = args[i + 1]
            args = args[:i] + args[i + 2:]
            return v
        return default

    if cmd == "wait-ready":
        wait_ready(a.state_dir, float(opt("--timeout", a.timeout)))
        return 0
    c = Client(a.state_dir, timeout=max(30.0, a.timeout))
    out = None
    try:
        if cmd in ("create", "update", "apply"):
            for o in _objs_from_files(args or ["-"]):
                out = getattr(c, cmd)(o)
            out = None
        elif cmd == "bulk":
            out = c.bulk(_objs_from_files(args or ["-"]))
        elif cmd == "delete":
            graceful = opt("--graceful", flag=True)
            kind, ns, name, _ = _kind_ns_name(args)
            c.delete(kind, ns, name, graceful)
        elif cmd == "label":
            kind, ns, name, rest = _kind_ns_name(args)
            c.label(kind, ns, name, parse_labels(rest))
        elif cmd == "get":
            kind, ns, name, _ = _kind_ns_name(args, need_name=False)
            out = c.get(kind, ns, name)
        elif cmd == "ns":
            c.create(namespace(args[0], parse_labels(args[1:])))
        elif cmd == "pod":
            ip, node = opt("--ip"), opt("--node")
            phase = opt("--phase", "Running")
            hn = opt("--host-network", flag=True)
            c.create(pod(args[0], args[1], ip, parse_labels(args[2:]), node, phase, hn))
        elif cmd == "gen-pods":
            prefix, ipb, node = opt("--prefix", "pod"), opt("--ip-base", "10.200.0.1"), opt("--node")
            out = c.bulk(gen_pods(args[0], int(args[1]), prefix, ipb, node, parse_labels(args[2:])))
        elif cmd == "fault":
            name, fa = args[0], args[1:]
            kw = {}
            if name == "fail":
                p = None
                if "--path" in fa:
                    i = fa.index("--path")
                    p = fa[i + 1]
                    fa = fa[:i] + fa[i + 2:]
                kw = {"count": int(fa[0]), "status": int(fa[1]) if len(fa) > 1 else 500}
                if len(fa) > 2:
                    kw["retry_after"] = int(fa[2])
                if p:
                    kw["path"] = p
            elif name in ("stall", "bookmark-interval"):
                kw = {"seconds": float(fa[0])}
            elif name == "stop-listening" and fa:
                kw = {"seconds": float(fa[0])}
            elif name == "watch-error" and fa:
                kw = {"code": int(fa[0])}
            elif name == "watch-expired-mode":
                kw = {"mode": fa[0]}
            elif name == "compact" and fa:
                kw = {"rv": int(fa[0])}
            elif name == "oversized":
                # oversized BYTES KIND NAMESPACE NAME
                kw = {"bytes": int(fa[0]), "kind": fa[1], "namespace": fa[2], "object_name": fa[3],
                      "resource": fa[1]}
            out = c.fault(name, **kw)
        elif cmd == "stats":
            out = c.stats()
            if args:
                out = out.get(args[0])
        elif cmd == "wait-watchers":
            to = float(opt("--timeout", a.timeout))
            res = opt("--resource")
            exact = opt("--exact", flag=True)
            c.wait_watchers(int(args[0]), to, res, exact)
        elif cmd == "set-tokens":
            c.set_tokens(args)
        elif cmd == "rv":
            out = c.stats()["resourceVersion"]
        else:
            ap.error("unknown command %r" % cmd)
    except ControlError as e:
        sys.stderr.write("client.py %s: %s\n" % (cmd, e))
        return 1
    except TimeoutError as e:
        sys.stderr.write("client.py %s: %s\n" % (cmd, e))
        return 1
    if out is not None:
        if isinstance(out, (dict, list)):
            print(json.dumps(out, indent=2, sort_keys=True))
        else:
            print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
