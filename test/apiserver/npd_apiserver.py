#!/usr/bin/env python3
"""npd_apiserver: a protocol-faithful test Kubernetes API server for netpold.

Python 3 standard library only.  Serves namespaces, pods and
networking.k8s.io/v1 networkpolicies over HTTPS with bearer-token auth:
discovery, list (limit/continue pagination over consistent snapshots), get,
watch (chunked JSON lines, history replay, bookmarks, 410 Expired), a small
write API, meta.k8s.io Table output for kubectl, and an authenticated JSON
control channel under /_npd/ (also on a separate control port) to mutate
objects and inject faults.  See README.md next to this file.
"""

import argparse
import base64
import bisect
import copy
import datetime
import gc
import gzip
import json
import os
import random
import re
import select
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import uuid
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

SERVER_VERSION = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.0-npd",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2024-12-11T00:00:00Z",
    "goVersion": "go1.23.3",
    "compiler": "gc",
    "platform": "linux/amd64",
}

VERBOSE = False
# --timing-log: a file descriptor for "unix_time what ..." lines, or None.
TIMING_FD = None


def log(msg):
    sys.stderr.write("npd-apiserver: %s\n" % msg)
    sys.stderr.flush()


def vlog(msg):
    if VERBOSE:
        log(msg)


def timing(*fields, t=None):
    """One timing-log line (a single O_APPEND write, so threads never interleave), stamped
    t or now."""
    if TIMING_FD is not None:
        os.write(TIMING_FD, ("%.6f %s\n" % (time.time() if t is None else t,
                                             " ".join(str(f) for f in fields))).encode())


def now_ts():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def dumps(o):
    return json.dumps(o, separators=(",", ":"), ensure_ascii=False).encode()


# --------------------------------------------------------------------------
# Resources
# --------------------------------------------------------------------------


class Res:
    def __init__(self, kind, plural, singular, group, version, namespaced, short, verbs):
        self.kind = kind
        self.plural = plural
        self.singular = singular
        self.group = group
        self.version = version
        self.namespaced = namespaced
        self.short = short
        self.verbs = verbs
        self.api_version = "%s/%s" % (group, version) if group else version
        self.list_kind = kind + "List"

    def discovery(self):
        d = {
            "name": self.plural,
            "singularName": self.singular,
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": self.verbs,
        }
        if self.short:
            d["shortNames"] = self.short
        if self.kind == "Pod":
            d["categories"] = ["all"]
        d["storageVersionHash"] = base64.b64encode(self.plural.encode()).decode()[:11] + "="
        return d


_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
RESOURCES = {
    "namespaces": Res("Namespace", "namespaces", "namespace", "", "v1", False, ["ns"],
                      ["create", "delete", "get", "list", "patch", "update", "watch"]),
    "pods": Res("Pod", "pods", "pod", "", "v1", True, ["po"], _VERBS),
    "networkpolicies": Res("NetworkPolicy", "networkpolicies", "networkpolicy",
                           "networking.k8s.io", "v1", True, ["netpol"], _VERBS),
}
KIND_RES = {r.kind: r for r in RESOURCES.values()}
ALIASES = {}
for _r in RESOURCES.values():
    for _a in [_r.kind.lower(), _r.plural, _r.singular] + _r.short:
        ALIASES[_a] = _r


def res_for(name):
    r = ALIASES.get(str(name).lower())
    if r is None:
        raise ApiError(400, "BadRequest", "unknown kind %r" % name)
    return r


# --------------------------------------------------------------------------
# Errors / Status
# --------------------------------------------------------------------------

REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
           405: "MethodNotAllowed", 406: "NotAcceptable", 409: "Conflict", 410: "Expired",
           415: "UnsupportedMediaType", 422: "Invalid", 429: "TooManyRequests",
           500: "InternalError", 503: "ServiceUnavailable", 504: "Timeout"}


def status_obj(code, reason=None, message="", details=None):
    s = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
         "message": message, "reason": reason or REASONS.get(code, "Unknown")}
    if details:
        s["details"] = details
    s["code"] = code
    return s


class ApiError(Exception):
    def __init__(self, code, reason=None, message="", details=None, headers=None):
        Exception.__init__(self, message)
        self.code = code
        self.status = status_obj(code, reason, message, details)
        self.headers = headers or {}


def not_found(res, name):
    return ApiError(404, "NotFound", '%s "%s" not found' % (res.plural, name),
                    {"name": name, "kind": res.plural} if res.group == "" else
                    {"name": name, "group": res.group, "kind": res.plural})


def expired_status(message):
    return status_obj(410, "Expired", message)


# --------------------------------------------------------------------------
# Selectors
# --------------------------------------------------------------------------

_LBL_TOKEN = re.compile(r"\s*(!=|==|=|!|\(|\)|,|[A-Za-z0-9_./-]+)")


def parse_label_selector(s):
    """Returns a list of (key, op, values).  op in = != in notin exists !exists."""
    toks = []
    pos = 0
    s = s or ""
    while pos < len(s):
        m = _LBL_TOKEN.match(s, pos)
        if not m:
            if s[pos:].strip() == "":
                break
            raise ApiError(400, "BadRequest", "unable to parse requirement: invalid label selector %r" % s)
        toks.append(m.group(1))
        pos = m.end()
    reqs = []
    i = 0

    def need(t):
        nonlocal i
        if i >= len(toks) or toks[i] != t:
            raise ApiError(400, "BadRequest", "unable to parse requirement: invalid label selector %r" % s)
        i += 1

    while i < len(toks):
        if toks[i] == "!":
            i += 1
            reqs.append((toks[i], "!exists", []))
            i += 1
        else:
            key = toks[i]
            i += 1
            if i >= len(toks) or toks[i] == ",":
                reqs.append((key, "exists", []))
            elif toks[i] in ("=", "=="):
                i += 1
                val = toks[i] if i < len(toks) and toks[i] != "," else ""
                if val:
                    i += 1
                reqs.append((key, "=", [val]))
            elif toks[i] == "!=":
                i += 1
                val = toks[i] if i < len(toks) and toks[i] != "," else ""
                if val:
                    i += 1
                reqs.append((key, "!=", [val]))
            elif toks[i] in ("in", "notin"):
                op = toks[i]
                i += 1
                need("(")
                vals = []
                while i < len(toks) and toks[i] != ")":
                    if toks[i] != ",":
                        vals.append(toks[i])
                    i += 1
                need(")")
                reqs.append((key, op, vals))
            else:
                raise ApiError(400, "BadRequest", "unable to parse requirement: invalid label selector %r" % s)
        if i < len(toks):
            need(",")
    return reqs


def label_match(reqs, labels):
    labels = labels or {}
    for key, op, vals in reqs:
        has = key in labels
        v = labels.get(key)
        if op == "=" and not (has and v == vals[0]):
            return False
        if op == "!=" and has and v == vals[0]:
            return False
        if op == "in" and not (has and v in vals):
            return False
        if op == "notin" and has and v in vals:
            return False
        if op == "exists" and not has:
            return False
        if op == "!exists" and has:
            return False
    return True


def _field(d, f):
    """The value of field path f ("spec.nodeName", one of FIELDS) of object d, as a field
    selector compares it: "" when absent, a boolean as "true"/"false"."""
    top, _, key = f.partition(".")
    v = (d.get(top) or {}).get(key, "")
    if f == "spec.hostNetwork":
        return "true" if v else "false"
    return v or ""


FIELDS = {
    "Pod": ["metadata.name", "metadata.namespace", "spec.nodeName", "spec.restartPolicy",
            "spec.schedulerName", "spec.serviceAccountName", "spec.hostNetwork", "status.phase",
            "status.podIP", "status.nominatedNodeName"],
    "Namespace": ["metadata.name", "status.phase"],
    "NetworkPolicy": ["metadata.name", "metadata.namespace"],
}


def parse_field_selector(s, res):
    reqs = []
    for term in (s or "").split(","):
        term = term.strip()
        if not term:
            continue
        m = re.match(r"^([^=!]+)(!=|==|=)(.*)$", term)
        if not m:
            raise ApiError(400, "BadRequest", "invalid selector: '%s'; can't understand '%s'" % (s, term))
        f, op, v = m.group(1).strip(), m.group(2), m.group(3).strip()
        if f not in FIELDS[res.kind]:
            raise ApiError(400, "BadRequest", 'field label not supported: %s' % f)
        reqs.append((f, "!=" if op == "!=" else "=", v))
    return reqs


def field_match(reqs, d):
    for f, op, v in reqs:
        actual = _field(d, f)
        if (op == "=") != (actual == v):
            return False
    return True


class Filter:
    def __init__(self, res, namespace=None, label=None, field=None):
        self.res = res
        self.namespace = namespace
        self.lreqs = parse_label_selector(label) if label else []
        self.freqs = parse_field_selector(field, res) if field else []
        self.trivial = not self.lreqs and not self.freqs

    def match(self, d):
        md = d.get("metadata", {})
        if self.namespace is not None and md.get("namespace") != self.namespace:
            return False
        if self.lreqs and not label_match(self.lreqs, md.get("labels")):
            return False
        if self.freqs and not field_match(self.freqs, d):
            return False
        return True


def format_label_selector(sel):
    if not isinstance(sel, dict):
        return "<none>"
    parts = []
    for k, v in sorted((sel.get("matchLabels") or {}).items()):
        parts.append((k, "%s=%s" % (k, v)))
    for e in sel.get("matchExpressions") or []:
        k, op, vals = e.get("key", ""), e.get("operator", ""), sorted(e.get("values") or [])
        if op == "In":
            parts.append((k, "%s in (%s)" % (k, ",".join(vals))))
        elif op == "NotIn":
            parts.append((k, "%s notin (%s)" % (k, ",".join(vals))))
        elif op == "Exists":
            parts.append((k, k))
        elif op == "DoesNotExist":
            parts.append((k, "!" + k))
    parts.sort(key=lambda p: p[0])
    s = ",".join(p[1] for p in parts)
    return s or "<none>"


# --------------------------------------------------------------------------
# Objects
# --------------------------------------------------------------------------


class Obj:
    """An immutable stored object with cached serialisations."""
    __slots__ = ("d", "key", "ns", "name", "rv", "_full", "_item")

    def __init__(self, d):
        self.d = d
        md = d["metadata"]
        self.name = md["name"]
        self.ns = md.get("namespace")
        self.key = "%s/%s" % (self.ns, self.name) if self.ns is not None else self.name
        self.rv = int(md["resourceVersion"])
        self._full = None
        self._item = None

    def full(self):
        if self._full is None:
            self._full = dumps(self.d)
        return self._full

    def item(self):
        """List items omit kind/apiVersion, like the real server."""
        if self._item is None:
            self._item = dumps({k: v for k, v in self.d.items() if k not in ("kind", "apiVersion")})
        return self._item


class Event:
    __slots__ = ("rv", "type", "obj", "prev")

    def __init__(self, rv, etype, obj, prev):
        self.rv = rv
        self.type = etype
        self.obj = obj
        self.prev = prev


def gzip_body(body):
    return gzip.compress(body, compresslevel=4)


class Page:
    """A rendered list page; its gzip is made on first use and kept."""
    __slots__ = ("body", "_gz")

    def __init__(self, body):
        self.body = body
        self._gz = None

    def gzipped(self):
        if self._gz is None:
            self._gz = gzip_body(self.body)
        return self._gz


class PageCache:
    """Rendered pages of whole-cluster JSON lists (no namespace, no selector) by (kind,
    snapshot resourceVersion, start key, limit). The snapshot at a resourceVersion never
    changes, so a page served from here is the page the list would build; only the two
    newest snapshots of each kind are kept."""
    KEEP = 2

    def __init__(self):
        self.lock = threading.Lock()
        self.snaps = {}  # kind -> {rv: {(start, limit): Page}}

    def get(self, kind, rv, start, limit):
        with self.lock:
            return self.snaps.get(kind, {}).get(rv, {}).get((start, limit))

    def put(self, kind, rv, start, limit, body):
        pg = Page(body)
        with self.lock:
            snaps = self.snaps.setdefault(kind, {})
            snaps.setdefault(rv, {})[(start, limit)] = pg
            for old in sorted(snaps)[:-self.KEEP]:
                del snaps[old]
        return pg


def list_page(st, res, ns, flt, snap_rv, start, limit):
    """(metadata, items) of one list page over the snapshot at snap_rv; caller holds
    st.cond."""
    if snap_rv == st.rv:
        objs = st.objects[res.kind]
        allkeys = st.keys[res.kind]
        keys = allkeys[bisect.bisect_right(allkeys, start):] if start else allkeys
    else:
        objs = st.snapshot(res.kind, snap_rv)
        keys = sorted(k for k in objs if k > start) if start else sorted(objs)
    if ns is not None:
        keys = [k for k in keys if objs[k].ns == ns]
    sel = [objs[k] for k in keys] if flt.trivial else [objs[k] for k in keys if flt.match(objs[k].d)]
    page = sel
    meta = {"resourceVersion": str(snap_rv)}
    if limit > 0 and len(sel) > limit:
        page = sel[:limit]
        last = page[-1].key
        tok = {"v": "meta.k8s.io/v1", "rv": snap_rv, "start": last + "\x00"}
        meta["continue"] = base64.urlsafe_b64encode(dumps(tok)).decode().rstrip("=")
        if flt.trivial:
            meta["remainingItemCount"] = len(sel) - limit
    return meta, page


def list_body(res, meta, page):
    head = dumps({"kind": res.list_kind, "apiVersion": res.api_version, "metadata": meta})
    return head[:-1] + b',"items":[' + b",".join(o.item() for o in page) + b"]}"


_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUB = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_GEN_CHARS = "bcdfghjklmnpqrstvwxz2456789"

MD_ORDER = ["name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
            "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels",
            "annotations", "ownerReferences", "finalizers", "managedFields"]
TOP_ORDER = ["kind", "apiVersion", "metadata", "spec", "status"]


def _ordered(d, order):
    out = {}
    for k in order:
        if k in d:
            out[k] = d[k]
    for k, v in d.items():
        if k not in out:
            out[k] = v
    return out


_SCALARS = (str, int, float)


def _drop_none(v):
    """A copy of a JSON value (new dicts and lists all the way down) without null members.
    Scalars are taken as they are, not through a call each: most of a pod is strings."""
    if isinstance(v, dict):
        return {k: x if isinstance(x, _SCALARS) else _drop_none(x)
                for k, x in v.items() if x is not None}
    if isinstance(v, list):
        return [x if isinstance(x, _SCALARS) else _drop_none(x) for x in v if x is not None]
    return v


def _fields_v1(v, depth=0):
    if isinstance(v, dict) and depth < 6:
        return {"f:" + k: _fields_v1(x, depth + 1) for k, x in v.items()}
    return {}


def _norm_selector(sel):
    """LabelSelector: omitempty matchLabels/matchExpressions/values."""
    if not isinstance(sel, dict):
        return sel
    if not sel.get("matchLabels"):
        sel.pop("matchLabels", None)
    if "matchExpressions" in sel:
        if not sel["matchExpressions"]:
            del sel["matchExpressions"]
        else:
            for e in sel["matchExpressions"]:
                if isinstance(e, dict) and not e.get("values"):
                    e.pop("values", None)
    return sel


def default_netpol_spec(spec):
    if not isinstance(spec.get("podSelector"), dict):
        spec["podSelector"] = {}
    _norm_selector(spec["podSelector"])
    for direction, peers in (("ingress", "from"), ("egress", "to")):
        rules = spec.get(direction)
        if rules is None or rules == []:
            spec.pop(direction, None)
            continue
        if not isinstance(rules, list):
            continue
        for rule in rules:
            if not isinstance(rule, dict):
                continue
            ports = rule.get("ports")
            if ports == []:
                del rule["ports"]
            elif isinstance(ports, list):
                for p in ports:
                    if isinstance(p, dict) and "protocol" not in p:
                        p["protocol"] = "TCP"
            plist = rule.get(peers)
            if plist == []:
                del rule[peers]
            elif isinstance(plist, list):
                for peer in plist:
                    if not isinstance(peer, dict):
                        continue
                    for s in ("podSelector", "namespaceSelector"):
                        if s in peer:
                            _norm_selector(peer[s])
                    ib = peer.get("ipBlock")
                    if isinstance(ib, dict) and ib.get("except") == []:
                        del ib["except"]
    if not spec.get("policyTypes"):
        pt = ["Ingress"]
        if isinstance(spec.get("egress"), list) and len(spec["egress"]) != 0:
            pt.append("Egress")
        spec["policyTypes"] = pt
    return _ordered(spec, ["podSelector", "ingress", "egress", "policyTypes"])


def default_pod(d):
    spec = d.get("spec")
    if not isinstance(spec, dict):
        spec = {}
    containers = spec.get("containers")
    if not containers:
        containers = [{"name": "app", "image": "registry.k8s.io/pause:3.10"}]
    for c in containers:
        if not isinstance(c, dict):
            continue
        img = str(c.get("image", ""))
        last = img.rsplit("/", 1)[-1]
        c.setdefault("imagePullPolicy",
                     "Always" if (":" not in last or last.endswith(":latest")) and "@" not in last
                     else "IfNotPresent")
        c.setdefault("resources", {})
        c.setdefault("terminationMessagePath", "/dev/termination-log")
        c.setdefault("terminationMessagePolicy", "File")
        for p in c.get("ports") or []:
            if isinstance(p, dict):
                p.setdefault("protocol", "TCP")
    spec["containers"] = containers
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("serviceAccountName", "default")
    spec.setdefault("serviceAccount", spec["serviceAccountName"])
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("priority", 0)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    d["spec"] = spec
    st = d.get("status")
    if not isinstance(st, dict):
        st = {}
    st.setdefault("phase", "Running")
    if st.get("podIP") and not st.get("podIPs"):
        st["podIPs"] = [{"ip": st["podIP"]}]
    elif st.get("podIPs") and not st.get("podIP"):
        first = st["podIPs"][0]
        if isinstance(first, dict) and first.get("ip"):
            st["podIP"] = first["ip"]
    if spec.get("hostNetwork") and st.get("hostIP") and not st.get("hostIPs"):
        st["hostIPs"] = [{"ip": st["hostIP"]}]
    st.setdefault("qosClass", "BestEffort")
    d["status"] = _ordered(st, ["phase", "conditions", "hostIP", "hostIPs", "podIP", "podIPs",
                                "startTime", "containerStatuses", "qosClass"])


# --------------------------------------------------------------------------
# Store
# --------------------------------------------------------------------------


class Store:
    def __init__(self, initial_rv=1000, ns_check=True):
        # One lock for the store; each watcher waits on its own condition over it, so a
        # write wakes only the watchers it can concern (see _wake).
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.rv = initial_rv
        self.compacted = initial_rv
        self.objects = {k: {} for k in KIND_RES}
        self.history = {k: [] for k in KIND_RES}
        self.hist_rvs = {k: [] for k in KIND_RES}
        # The keys of self.objects in order, so a list page is a bisect, not a sort.
        self.keys = {k: [] for k in KIND_RES}
        self.ns_check = ns_check
        self.watchers = set()
        self.kind_watchers = {k: set() for k in KIND_RES}

    # -- watchers (caller holds self.cond) --

    def add_watcher(self, w):
        w.cond = threading.Condition(self.lock)
        self.watchers.add(w)
        self.kind_watchers[w.res.kind].add(w)

    def discard_watcher(self, w):
        self.watchers.discard(w)
        self.kind_watchers[w.res.kind].discard(w)

    def wake_all(self):
        """Every watcher looks again (closed, injected lines)."""
        for w in self.watchers:
            w.cond.notify()

    def _wake(self, kind, o, prev):
        """Wakes the watchers of kind whose filter matches the object before or after the
        write: the others would write nothing for it (event_line), and a watcher that is
        not woken still takes the event from the history on its next pass."""
        for w in self.kind_watchers[kind]:
            if w.flt.match(o.d) or (prev is not None and w.flt.match(prev.d)):
                w.cond.notify()

    # -- writes (caller holds self.cond) --

    def _record(self, res, etype, d, prev):
        self.rv += 1
        d["metadata"]["resourceVersion"] = str(self.rv)
        o = Obj(d)
        objs = self.objects[res.kind]
        keys = self.keys[res.kind]
        if etype == "DELETED":
            if objs.pop(o.key, None) is not None:
                del keys[bisect.bisect_left(keys, o.key)]
        else:
            if o.key not in objs:
                bisect.insort(keys, o.key)
            objs[o.key] = o
        self.history[res.kind].append(Event(self.rv, etype, o, prev))
        self.hist_rvs[res.kind].append(self.rv)
        timing("commit", res.kind, self.rv, etype)
        if self.kind_watchers[res.kind]:
            # Encoded once here, not by the first watcher thread while the others wait.
            o.full()
            self._wake(res.kind, o, prev)
        return o

    def _prepare(self, res, d, old, manager, operation, default_ns=None):
        if not isinstance(d, dict):
            raise ApiError(400, "BadRequest", "object must be a JSON object")
        # _drop_none rebuilds every dict and list, so the caller's object is not shared.
        d = _drop_none(d)
        if d.get("kind") not in (None, "", res.kind):
            raise ApiError(400, "BadRequest", "kind %r does not match resource %s" % (d.get("kind"), res.plural))
        d["kind"] = res.kind
        d["apiVersion"] = res.api_version
        md = d.get("metadata")
        if not isinstance(md, dict):
            md = {}
        d["metadata"] = md
        if not md.get("name") and md.get("generateName") and old is None:
            md["name"] = md["generateName"] + "".join(random.choice(_GEN_CHARS) for _ in range(5))
        name = md.get("name")
        if not name or not isinstance(name, str):
            raise ApiError(422, "Invalid", "%s \"\" is invalid: metadata.name: Required value: name or generateName is required" % res.kind,
                           {"kind": res.kind})
        rx = _DNS1123_LABEL if res.kind == "Namespace" else _DNS1123_SUB
        if len(name) > (63 if res.kind == "Namespace" else 253) or not rx.match(name):
            raise ApiError(422, "Invalid", '%s "%s" is invalid: metadata.name: Invalid value: "%s": a lowercase RFC 1123 %s must consist of lower case alphanumeric characters, \'-\' or \'.\'' % (
                res.kind, name, name, "label" if res.kind == "Namespace" else "subdomain"),
                {"name": name, "kind": res.kind})
        if res.namespaced:
            ns = md.get("namespace") or default_ns or "default"
            if default_ns and md.get("namespace") and md["namespace"] != default_ns:
                raise ApiError(400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request")
            md["namespace"] = ns
        else:
            md.pop("namespace", None)
        for k in ("selfLink",):
            md.pop(k, None)
        ts = now_ts()
        if old is None:
            md["uid"] = str(uuid.uuid4())
            md["creationTimestamp"] = ts
            md.pop("deletionTimestamp", None)
            md.pop("deletionGracePeriodSeconds", None)
        else:
            omd = old.d["metadata"]
            md["uid"] = omd["uid"]
            md["creationTimestamp"] = omd["creationTimestamp"]
            for k in ("deletionTimestamp", "deletionGracePeriodSeconds"):
                if k in omd:
                    md[k] = omd[k]
        for k in ("labels", "annotations"):
            if k in md and not md[k]:
                del md[k]
            elif k in md:
                if not isinstance(md[k], dict):
                    raise ApiError(400, "BadRequest", "metadata.%s must be an object" % k)
                md[k] = {str(a): str(b) for a, b in md[k].items()}
        if res.kind == "Namespace":
            md.setdefault("labels", {})
            md["labels"]["kubernetes.io/metadata.name"] = name
            spec = d.get("spec") if isinstance(d.get("spec"), dict) else {}
            spec.setdefault("finalizers", ["kubernetes"])
            d["spec"] = spec
            st = d.get("status") if isinstance(d.get("status"), dict) else {}
            st.setdefault("phase", "Active")
            d["status"] = st
        elif res.kind == "Pod":
            default_pod(d)
        elif res.kind == "NetworkPolicy":
            spec = d.get("spec")
            if spec is None:
                spec = {}
            if not isinstance(spec, dict):
                raise ApiError(400, "BadRequest", "spec must be an object")
            d["spec"] = default_netpol_spec(spec)
            d.pop("status", None)
            if old is None:
                md["generation"] = 1
            else:
                g = old.d["metadata"].get("generation", 1)
                md["generation"] = g + 1 if old.d.get("spec") != d["spec"] else g
        mf = {"manager": manager, "operation": operation, "apiVersion": res.api_version,
              "time": ts, "fieldsType": "FieldsV1",
              "fieldsV1": {}}
        fv = {}
        mdf = {k: md[k] for k in ("labels", "annotations") if k in md}
        if mdf:
            fv["f:metadata"] = _fields_v1(mdf)
        if "spec" in d:
            fv["f:spec"] = _fields_v1(d["spec"])
        mf["fieldsV1"] = fv
        entries = []
        if old is not None:
            entries = [e for e in old.d["metadata"].get("managedFields", [])
                       if not (e.get("manager") == manager and e.get("operation") == operation)]
        md["managedFields"] = entries + [mf]
        d["metadata"] = _ordered(md, MD_ORDER)
        return _ordered(d, TOP_ORDER)

    def _check_ns(self, res, d):
        if res.namespaced and self.ns_check:
            ns = d["metadata"]["namespace"]
            o = self.objects["Namespace"].get(ns)
            if o is None:
                raise ApiError(404, "NotFound", 'namespaces "%s" not found' % ns,
                               {"name": ns, "kind": "namespaces"})
            if o.d["metadata"].get("deletionTimestamp"):
                raise ApiError(403, "Forbidden",
                               '%s "%s" is forbidden: unable to create new content in namespace %s because it is being terminated' % (
                                   res.plural, d["metadata"]["name"], ns))

    def create(self, res, d, manager="npd-test", default_ns=None):
        with self.cond:
            d = self._prepare(res, d, None, manager, "Update", default_ns)
            md = d["metadata"]
            k = "%s/%s" % (md["namespace"], md["name"]) if res.namespaced else md["name"]
            if k in self.objects[res.kind]:
                raise ApiError(409, "AlreadyExists", '%s "%s" already exists' % (res.plural, md["name"]),
                               {"name": md["name"], "kind": res.plural})
            self._check_ns(res, d)
            o = self._record(res, "ADDED", d, None)
            return o

    def update(self, res, d, manager="npd-test", upsert=False, default_ns=None, check_rv=True,
               operation="Update"):
        with self.cond:
            if not isinstance(d, dict):
                raise ApiError(400, "BadRequest", "object must be a JSON object")
            md = d.get("metadata") or {}
            name = md.get("name")
            ns = (md.get("namespace") or default_ns or "default") if res.namespaced else None
            k = "%s/%s" % (ns, name) if res.namespaced else name
            old = self.objects[res.kind].get(k)
            if old is None:
                if not upsert:
                    raise not_found(res, name)
                d2 = copy.deepcopy(d)
                d2.setdefault("metadata", {}).pop("resourceVersion", None)
                d2 = self._prepare(res, d2, None, manager, operation, default_ns)
                self._check_ns(res, d2)
                o = self._record(res, "ADDED", d2, None)
                return o, True
            want_rv = md.get("resourceVersion")
            if check_rv and want_rv and str(want_rv) != str(old.rv):
                raise ApiError(409, "Conflict",
                               'Operation cannot be fulfilled on %s "%s": the object has been modified; please apply your changes to the latest version and try again' % (
                                   res.plural + ("" if not res.group else "." + res.group), name),
                               {"name": name, "kind": res.plural})
            d2 = self._prepare(res, d, old, manager, operation, default_ns)
            o = self._record(res, "MODIFIED", d2, old)
            return o, False

    def get(self, res, ns, name):
        with self.cond:
            k = "%s/%s" % (ns, name) if res.namespaced else name
            o = self.objects[res.kind].get(k)
            if o is None:
                raise not_found(res, name)
            return o

    def _delete_locked(self, res, o):
        # Only metadata.resourceVersion changes; the rest is shared with o, which no one
        # modifies once stored.
        d = dict(o.d)
        d["metadata"] = dict(o.d["metadata"])
        return self._record(res, "DELETED", d, o)

    def delete(self, res, ns, name, graceful=False):
        with self.cond:
            k = "%s/%s" % (ns, name) if res.namespaced else name
            o = self.objects[res.kind].get(k)
            if o is None:
                raise not_found(res, name)
            if res.kind == "Namespace":
                # Terminating, contents removed, then the namespace itself.
                d = copy.deepcopy(o.d)
                d["metadata"]["deletionTimestamp"] = now_ts()
                d["metadata"]["deletionGracePeriodSeconds"] = 0
                d["status"]["phase"] = "Terminating"
                cur = self._record(res, "MODIFIED", d, o)
                for kind in ("Pod", "NetworkPolicy"):
                    r = KIND_RES[kind]
                    for child in sorted([c for c in self.objects[kind].values() if c.ns == name],
                                        key=lambda c: c.key):
                        self._delete_locked(r, child)
                out = self._delete_locked(res, cur)
            elif graceful and res.kind == "Pod":
                d = copy.deepcopy(o.d)
                d["metadata"]["deletionTimestamp"] = now_ts()
                d["metadata"]["deletionGracePeriodSeconds"] = 0
                cur = self._record(res, "MODIFIED", d, o)
                out = self._delete_locked(res, cur)
            else:
                out = self._delete_locked(res, o)
            return out

    def set_labels(self, res, ns, name, labels, manager="npd-test"):
        with self.cond:
            o = self.get(res, ns, name)
            # A copy of what changes is enough: update() rebuilds the whole object
            # (_prepare), so o itself is never modified.
            d = dict(o.d)
            md = d["metadata"] = dict(o.d["metadata"])
            cur = dict(md.get("labels") or {})
            for k, v in labels.items():
                if v is None:
                    cur.pop(k, None)
                else:
                    cur[k] = str(v)
            md["labels"] = cur
            md.pop("resourceVersion", None)
            o2, _ = self.update(res, d, manager=manager, check_rv=False)
            return o2

    # -- reads (caller holds self.cond) --

    def snapshot(self, kind, rv):
        """Objects of kind as of resourceVersion rv: dict key -> Obj."""
        cur = dict(self.objects[kind])
        rvs = self.hist_rvs[kind]
        i = bisect.bisect_right(rvs, rv)
        hist = self.history[kind]
        for ev in reversed(hist[i:]):
            if ev.type == "ADDED":
                cur.pop(ev.obj.key, None)
            else:
                cur[ev.prev.key] = ev.prev
        return cur

    def events_after(self, kind, rv):
        i = bisect.bisect_right(self.hist_rvs[kind], rv)
        return self.history[kind][i:]

    def compact(self, rv=None):
        with self.cond:
            self.compacted = self.rv if rv is None else max(self.compacted, min(int(rv), self.rv))
            self._trim()
            return self.compacted

    def _trim(self):
        floor = self.compacted
        for w in self.watchers:
            floor = min(floor, w.last)
        for kind in KIND_RES:
            i = bisect.bisect_right(self.hist_rvs[kind], floor)
            if i:
                del self.history[kind][:i]
                del self.hist_rvs[kind][:i]


# --------------------------------------------------------------------------
# Table conversion (kubectl)
# --------------------------------------------------------------------------


def human_duration(seconds):
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return "%ds" % s
    m = s // 60
    if m < 10:
        return "%dm" % m if s % 60 == 0 else "%dm%ds" % (m, s % 60)
    if m < 180:
        return "%dm" % m
    h = s // 3600
    if h < 8:
        return "%dh" % h if m % 60 == 0 else "%dh%dm" % (h, m % 60)
    if h < 48:
        return "%dh" % h
    if h < 24 * 8:
        return "%dd" % (h // 24) if h % 24 == 0 else "%dd%dh" % (h // 24, h % 24)
    if h < 24 * 365 * 2:
        return "%dd" % (h // 24)
    if h < 24 * 365 * 8:
        dy = (h // 24) % 365
        return "%dy" % (h // 24 // 365) if dy == 0 else "%dy%dd" % (h // 24 // 365, dy)
    return "%dy" % (h // 24 // 365)


def age(d):
    ts = d.get("metadata", {}).get("creationTimestamp")
    if not ts:
        return "<unknown>"
    try:
        t = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        return "<unknown>"
    return human_duration((datetime.datetime.now(datetime.timezone.utc) - t).total_seconds())


def _col(name, typ, desc, fmt="", prio=0):
    return {"name": name, "type": typ, "format": fmt, "description": desc, "priority": prio}


TABLE_COLUMNS = {
    "Pod": [
        _col("Name", "string", "Name must be unique within a namespace.", "name"),
        _col("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
        _col("Status", "string", "The aggregate status of the containers in this pod."),
        _col("Restarts", "string", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
        _col("Age", "string", "CreationTimestamp is a timestamp representing the server time when this object was created."),
        _col("IP", "string", "IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.", prio=1),
        _col("Node", "string", "NodeName indicates in which node this pod is scheduled.", prio=1),
        _col("Nominated Node", "string", "nominatedNodeName is set only when this pod preempts other pods on the node.", prio=1),
        _col("Readiness Gates", "string", "If specified, all readiness gates will be evaluated for pod readiness.", prio=1),
    ],
    "Namespace": [
        _col("Name", "string", "Name must be unique within a namespace.", "name"),
        _col("Status", "string", "The status of the namespace"),
        _col("Age", "string", "CreationTimestamp is a timestamp representing the server time when this object was created."),
    ],
    "NetworkPolicy": [
        _col("Name", "string", "Name must be unique within a namespace.", "name"),
        _col("Pod-Selector", "string", "Selects the pods to which this NetworkPolicy object applies."),
        _col("Age", "string", "CreationTimestamp is a timestamp representing the server time when this object was created."),
    ],
}


def table_cells(d):
    kind = d.get("kind")
    md = d.get("metadata", {})
    if kind == "Pod":
        spec, st = d.get("spec", {}), d.get("status", {})
        total = len(spec.get("containers") or [])
        cs = st.get("containerStatuses") or []
        ready = sum(1 for c in cs if c.get("ready"))
        if not cs and st.get("phase") == "Running":
            ready = total
        restarts = sum(int(c.get("restartCount", 0)) for c in cs)
        reason = st.get("reason") or st.get("phase") or "Unknown"
        if md.get("deletionTimestamp"):
            reason = "Terminating"
        gates = spec.get("readinessGates") or []
        return [md.get("name"), "%d/%d" % (ready, total), reason, str(restarts), age(d),
                st.get("podIP") or "<none>", spec.get("nodeName") or "<none>",
                st.get("nominatedNodeName") or "<none>",
                "<none>" if not gates else "%d/%d" % (0, len(gates))]
    if kind == "Namespace":
        return [md.get("name"), d.get("status", {}).get("phase", ""), age(d)]
    if kind == "NetworkPolicy":
        return [md.get("name"), format_label_selector(d.get("spec", {}).get("podSelector")), age(d)]
    return [md.get("name")]


def partial_meta(d):
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": d.get("metadata", {})}


def table_row(d, include):
    row = {"cells": table_cells(d)}
    if include == "Object":
        row["object"] = d
    elif include != "None":
        row["object"] = partial_meta(d)
    return row


# --------------------------------------------------------------------------
# Output negotiation
# --------------------------------------------------------------------------


class Fmt:
    """How to render objects: 'json' (plain), 'table', or 'partial' (PartialObjectMetadata)."""

    def __init__(self, mode="json", gv="meta.k8s.io/v1", include="Metadata"):
        self.mode = mode
        self.gv = gv
        self.include = include


def negotiate(accept, query):
    if not accept:
        return Fmt()
    for part in accept.split(","):
        fields = [f.strip() for f in part.split(";")]
        mt = fields[0].lower()
        params = {}
        for f in fields[1:]:
            if "=" in f:
                a, b = f.split("=", 1)
                params[a.strip()] = b.strip()
        if mt in ("application/json", "application/*", "*/*", "application/json;stream=watch"):
            if "as" in params:
                if params.get("g") == "meta.k8s.io" and params.get("v") in ("v1", "v1beta1"):
                    gv = "meta.k8s.io/" + params["v"]
                    if params["as"] == "Table":
                        return Fmt("table", gv, (query.get("includeObject") or ["Metadata"])[0])
                    if params["as"] in ("PartialObjectMetadata", "PartialObjectMetadataList"):
                        return Fmt("partial", gv)
                continue
            return Fmt()
    raise ApiError(406, "NotAcceptable", "only the following media types are accepted: application/json, application/json;stream=watch")


# --------------------------------------------------------------------------
# Watchers / faults
# --------------------------------------------------------------------------


class Watcher:
    def __init__(self, res, flt, last, sock, peer, path):
        self.res = res
        self.flt = flt
        self.last = last
        self.sock = sock
        self.peer = peer
        self.path = path
        self.inject = []
        self.closed = False
        self.end_after_inject = False
        self.started = time.time()
        self.events_sent = 0
        self.cond = None  # set by Store.add_watcher
        # Times a write or a fault woke this watch, and how many of those found nothing
        # to write: a write of another kind, or one its selector excludes, must not wake it.
        self.wakeups = 0
        self.idle_wakeups = 0


def raw_shutdown(sock):
    """Abruptly shut the TCP connection under a (TLS) socket, from any thread."""
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except (OSError, ValueError):
        pass


class App:
    def __init__(self, args):
        self.args = args
        self.store = Store(initial_rv=args.initial_rv, ns_check=not args.no_namespace_check)
        self.admin_token = args.token
        self.tokens = {args.token}
        self.stats_lock = threading.Lock()
        self.pages = PageCache()
        self.counts = {}
        self.total = 0
        self.unauthorized = 0
        self.injected = 0
        self.fail_n = 0
        self.fail_status = 500
        self.fail_retry_after = None
        self.fail_path = None
        self.stall_until = 0.0
        self.watch_expired_mode = args.watch_expired
        self.bookmark_interval = args.bookmark_interval
        self.api_server = None
        self.control_server = None
        self.port = None
        self.listen_lock = threading.Lock()
        self.ctx = None
        self.listening = False

    # stats
    def count(self, verb, path):
        with self.stats_lock:
            k = "%s %s" % (verb, path)
            self.counts[k] = self.counts.get(k, 0) + 1
            self.total += 1

    def take_fault(self, path):
        with self.stats_lock:
            if self.fail_n > 0 and (not self.fail_path or self.fail_path in path):
                self.fail_n -= 1
                self.injected += 1
                return self.fail_status, self.fail_retry_after
        return None

    def wait_stall(self):
        while True:
            d = self.stall_until - time.time()
            if d <= 0:
                return
            time.sleep(min(d, 0.5))

    def stats(self):
        st = self.store
        with st.cond:
            watches = [{"resource": w.res.plural, "namespace": w.flt.namespace, "since": w.last,
                        "peer": "%s:%s" % w.peer[:2], "path": w.path, "events": w.events_sent,
                        "wakeups": w.wakeups, "idle_wakeups": w.idle_wakeups,
                        "age": round(time.time() - w.started, 3)} for w in st.watchers]
            objects = {k: len(v) for k, v in st.objects.items()}
            rv, comp = st.rv, st.compacted
            hist = sum(len(h) for h in st.history.values())
        with self.stats_lock:
            return {"requests": dict(self.counts), "total_requests": self.total,
                    "unauthorized": self.unauthorized, "injected_failures": self.injected,
                    "pending_failures": self.fail_n, "open_watches": len(watches),
                    "watches": watches, "objects": objects, "resourceVersion": rv,
                    "compactedResourceVersion": comp, "history": hist,
                    "listening": self.listening, "port": self.port,
                    "stall_remaining": max(0.0, round(self.stall_until - time.time(), 3)),
                    "watch_expired_mode": self.watch_expired_mode}

    def prerender(self, limit):
        """Every page of every whole-cluster list at the current resourceVersion, plain and
        gzipped, into the page cache."""
        st = self.store
        for res in RESOURCES.values():
            start = ""
            while True:
                with st.cond:
                    snap_rv = st.rv
                    meta, page = list_page(st, res, None, Filter(res), snap_rv, start, limit)
                self.pages.put(res.kind, snap_rv, start, limit, list_body(res, meta, page)).gzipped()
                if "continue" not in meta:
                    break
                start = page[-1].key + "\x00"

    # listener management
    def start_api(self):
        with self.listen_lock:
            if self.api_server is not None:
                return
            addr = (self.args.listen, self.port if self.port is not None else self.args.port)
            last = None
            for _ in range(50):
                try:
                    srv = TLSServer(addr, Handler, self, "api")
                    break
                except OSError as e:
                    last = e
                    time.sleep(0.1)
            else:
                raise last
            self.port = srv.server_address[1]
            self.api_server = srv
            self.listening = True
            threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.2},
                             name="api-listener", daemon=True).start()

    def stop_api(self):
        with self.listen_lock:
            srv = self.api_server
            if srv is None:
                return
            self.api_server = None
            self.listening = False
            srv.shutdown()
            srv.server_close()
            with srv.conns_lock:
                conns = list(srv.conns)
            st = self.store
            with st.cond:
                for w in st.watchers:
                    w.closed = True
                st.wake_all()
            for c in conns:
                raw_shutdown(c)


# --------------------------------------------------------------------------
# HTTP server
# --------------------------------------------------------------------------


class TLSServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256
    block_on_close = False

    def __init__(self, addr, handler, app, role):
        self.address_family = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
        self.app = app
        self.role = role
        self.conns = set()
        self.conns_lock = threading.Lock()
        ThreadingHTTPServer.__init__(self, addr, handler)

    def server_bind(self):
        # HTTPServer.server_bind does a reverse DNS lookup; skip it.
        import socketserver
        socketserver.TCPServer.server_bind(self)
        self.server_name = self.server_address[0]
        self.server_port = self.server_address[1]

    def process_request_thread(self, request, client_address):
        ssock = None
        try:
            request.settimeout(15)
            ssock = self.app.ctx.wrap_socket(request, server_side=True)
            ssock.settimeout(self.app.args.idle_timeout)
            with self.conns_lock:
                self.conns.add(ssock)
            try:
                self.finish_request(ssock, client_address)
            finally:
                with self.conns_lock:
                    self.conns.discard(ssock)
        except Exception as e:  # noqa: BLE001 - never die on a client
            vlog("connection %s: %s: %s" % (client_address, type(e).__name__, e))
        finally:
            try:
                (ssock or request).close()
            except Exception:  # noqa: BLE001
                pass

    def handle_error(self, request, client_address):
        vlog("error on %s: %s" % (client_address, sys.exc_info()[1]))


class WatchClosed(Exception):
    pass


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "npd-apiserver"
    sys_version = ""
    # TCP_NODELAY, as kube-apiserver (Go sets it on every TCP connection): a response goes
    # out as headers then body, a watch as one chunk per event, and with Nagle a segment
    # written while the previous one waits for the peer's delayed ACK waits up to 40 ms.
    disable_nagle_algorithm = True

    def version_string(self):
        return self.server_version

    # ---- plumbing ----

    def handle(self):
        try:
            BaseHTTPRequestHandler.handle(self)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, ssl.SSLError,
                TimeoutError, WatchClosed, OSError):
            self.close_connection = True

    def log_message(self, fmt, *args):
        pass

    def log_request(self, code="-", size="-"):
        pass

    def _log(self, code, extra=""):
        if VERBOSE:
            dt = (time.time() - self._t0) * 1000
            log("%s %s %s %s %s %.1fms%s" % (self.client_address[0], self.command, self.path, code,
                                           self.server.role, dt, extra))

    @property
    def app(self):
        return self.server.app

    def send_body(self, code, body, ctype="application/json", headers=None, gzip_ok=False,
                  gz=None):
        """gz: a function returning the body gzipped, if it was kept."""
        if isinstance(body, (dict, list)):
            body = dumps(body)
        enc = None
        if gzip_ok and "gzip" in (self.headers.get("Accept-Encoding") or "") and \
                len(body) >= self.app.args.gzip_min_bytes:
            body = gz() if gz is not None else gzip_body(body)
            enc = "gzip"
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Audit-Id", str(uuid.uuid4()))
        if enc:
            self.send_header("Content-Encoding", enc)
            self.send_header("Vary", "Accept-Encoding")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self._log(code, " %dB%s" % (len(body), " gzip" if enc else ""))

    def send_status(self, err):
        self.send_body(err.code, err.status, headers=err.headers)

    def read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            data = b""
            while True:
                line = self.rfile.readline(65537)
                n = int(line.split(b";")[0].strip() or b"0", 16)
                if n == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                data += self.rfile.read(n)
                self.rfile.readline(65537)
            return data
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def json_body(self):
        raw = self.read_body()
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except ValueError as e:
            raise ApiError(400, "BadRequest", "the body of the request was in an unknown format: %s" % e)

    def authed(self, admin=False):
        h = self.headers.get("Authorization") or ""
        if not h.startswith("Bearer "):
            return False
        tok = h[7:].strip()
        if admin:
            return tok == self.app.admin_token
        return tok in self.app.tokens

    # ---- dispatch ----

    def do_GET(self):
        self.dispatch()

    def do_HEAD(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_PUT(self):
        self.dispatch()

    def do_PATCH(self):
        self.dispatch()

    def do_DELETE(self):
        self.dispatch()

    def dispatch(self):
        self._t0 = time.time()
        u = urlsplit(self.path)
        path = u.path.rstrip("/") or "/"
        query = parse_qs(u.query, keep_blank_values=True)
        try:
            if path.startswith("/_npd"):
                if not self.authed(admin=True):
                    with self.app.stats_lock:
                        self.app.unauthorized += 1
                    self.read_body()
                    raise ApiError(401, "Unauthorized", "Unauthorized")
                return self.control(path[len("/_npd"):] or "/", query)
            if self.server.role == "control":
                raise ApiError(404, "NotFound", "the control port only serves /_npd/")
            if path in ("/healthz", "/livez", "/readyz"):
                self.read_body()
                self.app.count("health", path)
                return self.send_body(200, b"ok", "text/plain; charset=utf-8")
            if not self.authed():
                with self.app.stats_lock:
                    self.app.unauthorized += 1
                self.read_body()
                raise ApiError(401, "Unauthorized", "Unauthorized")
            self.api(path, query)
        except ApiError as e:
            try:
                self.send_status(e)
            except (OSError, ssl.SSLError):
                self.close_connection = True
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, TimeoutError, WatchClosed):
            self.close_connection = True
        except Exception as e:  # noqa: BLE001
            log("internal error on %s %s: %r" % (self.command, self.path, e))
            if VERBOSE:
                import traceback
                traceback.print_exc()
            try:
                self.send_status(ApiError(500, "InternalError", "Internal error occurred: %s" % e))
            except Exception:  # noqa: BLE001
                self.close_connection = True

    # ---- Kubernetes API ----

    def api(self, path, query):
        app = self.app
        verb, route = self.route(path, query)
        app.count(verb, path)
        f = app.take_fault(path)
        if f is not None:
            code, retry = f
            self.read_body()
            hdr = {}
            details = None
            if retry is not None:
                hdr["Retry-After"] = str(retry)
                details = {"retryAfterSeconds": int(retry)}
            msg = {429: "Too many requests, please try again later.",
                   503: "the server is currently unable to handle the request",
                   500: "Internal error occurred: injected fault"}.get(code, "injected fault")
            raise ApiError(code, REASONS.get(code, "InternalError"), msg, details, hdr)
        app.wait_stall()
        kind = route[0]
        if kind == "static":
            self.read_body()
            if route[1] is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            return self.send_body(200, route[1])
        _, res, ns, name = route
        m = self.command
        if m in ("GET", "HEAD"):
            fmt = negotiate(self.headers.get("Accept"), query)
            if verb == "watch":
                return self.watch(res, ns, name, query, fmt, path)
            if name is not None:
                o = app.store.get(res, ns, name)
                return self.send_body(200, self.render_one(o.d, fmt), gzip_ok=True)
            return self.list(res, ns, query, fmt)
        manager = (self.headers.get("User-Agent") or "unknown").split("/")[0]
        if m == "POST" and name is None:
            body = self.json_body()
            if res.namespaced and ns is None:
                raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
            o = app.store.create(res, body, manager=manager, default_ns=ns)
            return self.send_body(201, o.full())
        if m == "PUT" and name is not None:
            body = self.json_body() or {}
            md = body.setdefault("metadata", {})
            if md.get("name") not in (None, name):
                raise ApiError(400, "BadRequest", "the name of the object (%s) does not match the name on the URL (%s)" % (md.get("name"), name))
            md["name"] = name
            o, created = app.store.update(res, body, manager=manager, default_ns=ns)
            return self.send_body(201 if created else 200, o.full())
        if m == "PATCH" and name is not None:
            body = self.json_body()
            ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
            if ctype not in ("application/merge-patch+json", "application/strategic-merge-patch+json"):
                raise ApiError(415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted media types include: application/merge-patch+json, application/strategic-merge-patch+json")
            with app.store.cond:
                cur = app.store.get(res, ns, name)
                newd = merge_patch(copy.deepcopy(cur.d), body)
                newd.setdefault("metadata", {})["name"] = name
                if res.namespaced:
                    newd["metadata"]["namespace"] = ns
                o, _ = app.store.update(res, newd, manager=manager, default_ns=ns)
            return self.send_body(200, o.full())
        if m == "DELETE" and name is not None:
            self.read_body()
            o = app.store.delete(res, ns, name)
            return self.send_body(200, o.full())
        self.read_body()
        raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")

    def route(self, path, query):
        """Returns (verb, route). route = ('static', body) or ('res', Res, ns, name)."""
        app = self.app
        is_watch = (query.get("watch") or ["false"])[0].lower() in ("1", "true", "yes")
        if path == "/version":
            return "discovery", ("static", SERVER_VERSION)
        if path == "/api":
            host = "%s:%s" % (app.args.listen if ":" not in app.args.listen else "[%s]" % app.args.listen, app.port)
            return "discovery", ("static", {"kind": "APIVersions", "versions": ["v1"],
                                            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": host}]})
        if path == "/apis":
            return "discovery", ("static", {"kind": "APIGroupList", "apiVersion": "v1", "groups": [NET_GROUP]})
        if path == "/apis/networking.k8s.io":
            return "discovery", ("static", dict(NET_GROUP, kind="APIGroup", apiVersion="v1"))
        if path == "/api/v1":
            return "discovery", ("static", api_resource_list("v1"))
        if path == "/apis/networking.k8s.io/v1":
            return "discovery", ("static", api_resource_list("networking.k8s.io/v1"))
        if path.startswith("/openapi") or path.startswith("/swagger"):
            return "discovery", ("static", None)
        if path.startswith("/api/v1/"):
            gv, rest = "", path[len("/api/v1/"):]
        elif path.startswith("/apis/networking.k8s.io/v1/"):
            gv, rest = "networking.k8s.io", path[len("/apis/networking.k8s.io/v1/"):]
        else:
            return "other", ("static", None)
        segs = rest.split("/")
        if segs and segs[0] == "watch":
            segs = segs[1:]
            is_watch = True
        ns = name = None
        if len(segs) >= 3 and segs[0] == "namespaces":
            ns, resname, segs2 = segs[1], segs[2], segs[3:]
        else:
            resname, segs2 = segs[0], segs[1:]
        res = RESOURCES.get(resname)
        if res is None or res.group != gv or len(segs2) > 1:
            return "other", ("static", None)
        if segs2:
            name = segs2[0]
        if ns is not None and not res.namespaced:
            return "other", ("static", None)
        if res.namespaced and ns is None and name is not None:
            return "other", ("static", None)
        if self.command in ("GET", "HEAD"):
            verb = "watch" if is_watch else ("get" if name is not None else "list")
        else:
            verb = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}.get(self.command, "other")
        return verb, ("res", res, ns, name)

    def render_one(self, d, fmt):
        if fmt.mode == "table":
            return {"kind": "Table", "apiVersion": fmt.gv, "metadata": {"resourceVersion": d["metadata"]["resourceVersion"]},
                    "columnDefinitions": TABLE_COLUMNS[d["kind"]], "rows": [table_row(d, fmt.include)]}
        if fmt.mode == "partial":
            return dict(partial_meta(d), apiVersion=fmt.gv)
        return d

    def list(self, res, ns, query, fmt):
        st = self.app.store
        q1 = lambda k: (query.get(k) or [""])[0]  # noqa: E731
        flt = Filter(res, ns, q1("labelSelector"), q1("fieldSelector"))
        limit = q1("limit")
        try:
            limit = int(limit) if limit else 0
        except ValueError:
            raise ApiError(400, "BadRequest", "limit: Invalid value: %r" % limit)
        cont = q1("continue")
        rvp, rvm = q1("resourceVersion"), q1("resourceVersionMatch")
        start = ""
        with st.cond:
            if cont:
                try:
                    tok = json.loads(base64.urlsafe_b64decode(cont + "=" * (-len(cont) % 4)))
                    snap_rv = int(tok["rv"])
                    start = str(tok["start"])
                except Exception:  # noqa: BLE001
                    raise ApiError(400, "BadRequest", "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
                if snap_rv < st.compacted:
                    raise ApiError(410, "Expired",
                                   "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.")
            elif rvm == "Exact" and rvp:
                try:
                    snap_rv = int(rvp)
                except ValueError:
                    raise ApiError(400, "BadRequest", "resourceVersion: Invalid value: %r" % rvp)
                if snap_rv < st.compacted:
                    raise ApiError(410, "Expired", "The resourceVersion for the provided list is too old.")
                if snap_rv > st.rv:
                    raise ApiError(504, "Timeout", "Too large resource version: %d, current: %d" % (snap_rv, st.rv))
            else:
                snap_rv = st.rv
            cached = fmt.mode == "json" and flt.trivial and ns is None
            hit = self.app.pages.get(res.kind, snap_rv, start, limit) if cached else None
            if hit is None:
                meta, page = list_page(st, res, ns, flt, snap_rv, start, limit)
        if hit is not None:
            return self.send_page(hit)
        if fmt.mode == "table":
            body = {"kind": "Table", "apiVersion": fmt.gv, "metadata": meta,
                    "columnDefinitions": TABLE_COLUMNS[res.kind],
                    "rows": [table_row(o.d, fmt.include) for o in page]}
            return self.send_body(200, body, gzip_ok=True)
        if fmt.mode == "partial":
            body = {"kind": "PartialObjectMetadataList", "apiVersion": fmt.gv, "metadata": meta,
                    "items": [{"metadata": o.d["metadata"]} for o in page]}
            return self.send_body(200, body, gzip_ok=True)
        body = list_body(res, meta, page)
        if cached:
            return self.send_page(self.app.pages.put(res.kind, snap_rv, start, limit, body))
        return self.send_body(200, body, gzip_ok=True)

    def send_page(self, pg):
        """A cached list page, its gzip made once."""
        return self.send_body(200, pg.body, gzip_ok=True, gz=pg.gzipped)

    # ---- watch ----

    def watch(self, res, ns, name, query, fmt, path):
        app = self.app
        st = app.store
        q1 = lambda k: (query.get(k) or [""])[0]  # noqa: E731
        field = q1("fieldSelector")
        if name is not None:
            field = ("metadata.name=%s" % name) + ("," + field if field else "")
        flt = Filter(res, ns, q1("labelSelector"), field)
        rvp = q1("resourceVersion")
        bookmarks = q1("allowWatchBookmarks").lower() in ("1", "true")
        timeout = q1("timeoutSeconds")
        try:
            timeout = float(timeout) if timeout else 0.0
        except ValueError:
            raise ApiError(400, "BadRequest", "timeoutSeconds: Invalid value: %r" % timeout)
        if timeout <= 0:
            timeout = app.args.max_watch_seconds
        deadline = time.time() + timeout if timeout > 0 else None
        send_initial = q1("sendInitialEvents").lower() in ("1", "true")
        initial = []
        expired = None
        with st.cond:
            if rvp in ("", "0") or send_initial:
                initial = [o for o in sorted(st.objects[res.kind].values(), key=lambda o: o.key)
                           if flt.match(o.d)]
                start = st.rv
            else:
                try:
                    start = int(rvp)
                except ValueError:
                    raise ApiError(400, "BadRequest", 'resourceVersion: Invalid value: "%s": strconv.ParseUint: parsing "%s": invalid syntax' % (rvp, rvp))
                if start < st.compacted:
                    expired = "too old resource version: %d (%d)" % (start, st.compacted)
            if expired and app.watch_expired_mode == "http":
                raise ApiError(410, "Expired", expired)
            w = Watcher(res, flt, start, self.connection, self.client_address, self.path)
            if not expired:
                st.add_watcher(w)
        gz = None
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "no-cache, private")
            self.send_header("Audit-Id", str(uuid.uuid4()))
            if app.args.gzip_watch and "gzip" in (self.headers.get("Accept-Encoding") or ""):
                gz = zlib.compressobj(6, zlib.DEFLATED, 31)
                self.send_header("Content-Encoding", "gzip")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self._log(200, " watch %s since=%s" % (res.plural, rvp or "-"))

            def chunk(data):
                if gz is not None:
                    data = gz.compress(data) + gz.flush(zlib.Z_SYNC_FLUSH)
                if data:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

            def finish():
                if gz is not None:
                    tail = gz.flush(zlib.Z_FINISH)
                    if tail:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(tail), tail))
                self.wfile.write(b"0\r\n\r\n")

            if expired:
                chunk(dumps({"type": "ERROR", "object": expired_status(expired)}) + b"\n")
                finish()
                return
            first = [True]

            def ev_line(etype, d, objbytes=None):
                if fmt.mode == "table":
                    t = self.render_one(d, fmt)
                    if not first[0]:
                        t["columnDefinitions"] = None
                    first[0] = False
                    objbytes = dumps(t)
                elif fmt.mode == "partial":
                    objbytes = dumps(self.render_one(d, fmt))
                elif objbytes is None:
                    objbytes = dumps(d)
                return b'{"type":"' + etype.encode() + b'","object":' + objbytes + b"}\n"

            if initial:
                buf = []
                for o in initial:
                    buf.append(ev_line("ADDED", o.d, o.full()))
                    if len(buf) >= 256:
                        chunk(b"".join(buf))
                        buf = []
                if buf:
                    chunk(b"".join(buf))
                w.events_sent += len(initial)
            if send_initial and bookmarks:
                bm = {"kind": res.kind, "apiVersion": res.api_version,
                      "metadata": {"resourceVersion": str(start),
                                   "annotations": {"k8s.io/initial-events-end": "true"}}}
                chunk(dumps({"type": "BOOKMARK", "object": bm}) + b"\n")
            interval = app.bookmark_interval
            next_bm = time.time() + interval
            last_alive = time.time()
            woken = False
            buf = []
            sent = []

            def flush():
                # Stamped as the chunk is handed to the socket: after the write this thread
                # may first wait for the interpreter lock, and that wait is not the event's.
                t = time.time()
                chunk(b"".join(buf))
                for rv in sent:
                    timing("sent", res.kind, rv, self.client_address[0], t=t)
                buf.clear()
                sent.clear()
            while True:
                evs = []
                inject = []
                bm_rv = None
                with st.cond:
                    while True:
                        if w.closed:
                            raise WatchClosed()
                        evs = st.events_after(res.kind, w.last)
                        inject, w.inject = w.inject, []
                        nowt = time.time()
                        if evs or inject:
                            break
                        if woken:
                            w.idle_wakeups += 1
                            woken = False
                        if deadline is not None and nowt >= deadline:
                            break
                        if bookmarks and nowt >= next_bm:
                            bm_rv = st.rv
                            break
                        if nowt - last_alive >= 0.5:
                            break
                        waits = [0.5 - (nowt - last_alive)]
                        if deadline is not None:
                            waits.append(deadline - nowt)
                        if bookmarks:
                            waits.append(next_bm - nowt)
                        if w.cond.wait(max(0.01, min(waits))):
                            w.wakeups += 1
                            woken = True
                    new_last = st.rv if (evs or bm_rv is not None) else w.last
                    end_after = w.end_after_inject
                if time.time() - last_alive >= 0.5:
                    last_alive = time.time()
                    if peer_gone(self.connection):
                        raise WatchClosed()
                if (evs or inject or bm_rv is not None) and app.stall_until > time.time():
                    app.wait_stall()
                lines = 0
                for ev in evs:
                    line = self.event_line(ev, flt, ev_line)
                    if line:
                        buf.append(line)
                        lines += 1
                        w.events_sent += 1
                        if TIMING_FD is not None:
                            sent.append(ev.rv)
                    if len(buf) >= 256:
                        flush()
                if buf:
                    flush()
                with st.cond:
                    if new_last > w.last:
                        w.last = new_last
                    if woken and not (lines or inject or bm_rv is not None):
                        w.idle_wakeups += 1
                    woken = False
                for data in inject:
                    chunk(data)
                if end_after and inject:
                    finish()
                    return
                if bm_rv is not None:
                    bm = {"kind": res.kind, "apiVersion": res.api_version,
                          "metadata": {"resourceVersion": str(max(bm_rv, w.last))}}
                    chunk(dumps({"type": "BOOKMARK", "object": bm}) + b"\n")
                    next_bm = time.time() + interval
                    w.events_sent += 1
                if deadline is not None and time.time() >= deadline:
                    finish()
                    return
        except (WatchClosed, OSError, ssl.SSLError):
            self.close_connection = True
            raw_shutdown(self.connection)
            vlog("watch %s closed abruptly" % path)
            raise WatchClosed()
        finally:
            with st.cond:
                st.discard_watcher(w)

    def event_line(self, ev, flt, ev_line):
        if ev.type == "ADDED":
            return ev_line("ADDED", ev.obj.d, ev.obj.full()) if flt.match(ev.obj.d) else None
        if ev.type == "DELETED":
            return ev_line("DELETED", ev.obj.d, ev.obj.full()) if flt.match(ev.obj.d) else None
        cur = flt.match(ev.obj.d)
        old = flt.match(ev.prev.d) if ev.prev is not None else False
        if cur and old:
            return ev_line("MODIFIED", ev.obj.d, ev.obj.full())
        if cur:
            return ev_line("ADDED", ev.obj.d, ev.obj.full())
        if old:
            d = copy.deepcopy(ev.prev.d)
            d["metadata"]["resourceVersion"] = str(ev.rv)
            return ev_line("DELETED", d)
        return None

    # ---- control channel ----

    def control(self, path, query):
        app = self.app
        st = app.store
        self.app.count("control", "/_npd" + path)
        op = path.strip("/")
        if self.command == "GET":
            self.read_body()
            body = {}
        else:
            body = self.json_body()
            if body is None:
                body = {}
        manager = "npd-test-control"
        if op == "stats":
            return self.send_body(200, app.stats())
        if op == "reset-stats":
            with app.stats_lock:
                app.counts.clear()
                app.total = app.unauthorized = app.injected = 0
            return self.send_body(200, {"ok": True})
        if op in ("create", "update", "apply", "bulk"):
            items = body.get("items") if isinstance(body, dict) and (
                body.get("kind") == "List" or "items" in body and "metadata" not in body) else body
            if not isinstance(items, list):
                items = [items]
            out = []
            for it in items:
                if not isinstance(it, dict):
                    raise ApiError(400, "BadRequest", "objects must be JSON objects")
                res = res_for(it.get("kind") or "")
                if op in ("create", "bulk"):
                    o = st.create(res, it, manager=manager)
                else:
                    o, _ = st.update(res, it, manager=manager, upsert=(op == "apply"),
                                     check_rv=(op == "update"), operation="Apply" if op == "apply" else "Update")
                out.append(o)
            if op == "bulk" or len(out) != 1:
                return self.send_body(200, {"ok": True, "count": len(out),
                                            "resourceVersion": str(st.rv)})
            return self.send_body(200, out[0].full())
        if op == "get":
            res = res_for(body.get("kind", ""))
            if body.get("name"):
                return self.send_body(200, st.get(res, body.get("namespace"), body["name"]).full())
            with st.cond:
                objs = sorted(st.objects[res.kind].values(), key=lambda o: o.key)
                ns = body.get("namespace")
                items = [o.d for o in objs if ns is None or o.ns == ns]
                return self.send_body(200, {"kind": res.list_kind, "apiVersion": res.api_version,
                                            "metadata": {"resourceVersion": str(st.rv)}, "items": items})
        if op == "delete":
            res = res_for(body.get("kind", ""))
            o = st.delete(res, body.get("namespace"), body.get("name"), graceful=bool(body.get("graceful")))
            return self.send_body(200, o.full())
        if op == "label":
            res = res_for(body.get("kind", ""))
            o = st.set_labels(res, body.get("namespace"), body.get("name"), body.get("labels") or {}, manager)
            return self.send_body(200, o.full())
        if op == "set-tokens":
            toks = body.get("tokens")
            if not isinstance(toks, list) or not toks:
                raise ApiError(400, "BadRequest", "tokens: non-empty list required")
            app.tokens = set(str(t) for t in toks)
            return self.send_body(200, {"ok": True})
        if op == "fault":
            return self.send_body(200, self.fault(body))
        raise ApiError(404, "NotFound", "unknown control operation %r" % op)

    def fault(self, body):
        app = self.app
        st = app.store
        name = body.get("fault") or body.get("name")
        if name == "close-watches":
            with st.cond:
                ws = list(st.watchers)
                for w in ws:
                    w.closed = True
                st.wake_all()
            for w in ws:
                raw_shutdown(w.sock)
            return {"ok": True, "closed": len(ws)}
        if name == "fail":
            n = int(body.get("count", body.get("n", 1)))
            code = int(body.get("status", 500))
            ra = body.get("retry_after")
            with app.stats_lock:
                app.fail_n = n
                app.fail_status = code
                app.fail_retry_after = int(ra) if ra not in (None, "") else None
                app.fail_path = body.get("path") or None
            return {"ok": True}
        if name == "compact":
            return {"ok": True, "compactedResourceVersion": str(st.compact(body.get("rv")))}
        if name == "stall":
            app.stall_until = time.time() + float(body.get("seconds", 1))
            return {"ok": True}
        if name == "stop-listening":
            secs = body.get("seconds")
            via_api = self.server.role == "api"

            def run(stop_first):
                if stop_first:
                    time.sleep(0.2)  # let this response out before its connection goes
                    app.stop_api()
                if secs:
                    time.sleep(float(secs))
                    app.start_api()
            if not via_api:
                app.stop_api()
            if via_api or secs:
                threading.Thread(target=run, args=(via_api,), daemon=True).start()
            return {"ok": True, "port": app.port}
        if name == "start-listening":
            app.start_api()
            return {"ok": True, "port": app.port}
        if name in ("malformed", "watch-error", "inject", "oversized"):
            if name == "oversized":
                # One watch line of about `bytes` bytes: a MODIFIED event for the named
                # object, its name first, then a padding field the client should skip.
                # Handed out in 1 MiB pieces (HTTP chunks) so that no copy here is whole.
                size = int(body.get("bytes", 100 << 20))
                kind = body.get("kind", "NetworkPolicy")
                r = res_for(kind)
                obj = {"kind": r.kind, "apiVersion": r.api_version,
                       "metadata": {"name": body.get("object_name", "oversized"),
                                    "namespace": body.get("namespace", "default"),
                                    "resourceVersion": str(st.rv)},
                       "spec": body.get("spec", {"podSelector": {}, "policyTypes": ["Ingress"]})}
                head = dumps({"type": "MODIFIED", "object": obj})
                head = head[:head.rindex(b"}}")] + b', "pad": "'
                tail = b'"}}\n'
                pad = max(0, size - len(head) - len(tail))
                piece = b"x" * (1 << 20)
                data = [head] + [piece] * (pad >> 20) + [b"x" * (pad & ((1 << 20) - 1)), tail]
                end = False
            elif name == "malformed":
                data = (body.get("line") or '{"type":"ADDED","object":{"metadata":').encode() + b"\n"
                end = False
            elif name == "watch-error":
                code = int(body.get("code", 410))
                msg = body.get("message") or ("too old resource version: 1 (%d)" % st.rv if code == 410 else "injected watch error")
                data = dumps({"type": "ERROR", "object": status_obj(code, REASONS.get(code), msg)}) + b"\n"
                end = body.get("end", True)
            else:
                data = str(body.get("data", "")).encode()
                end = bool(body.get("end", False))
            with st.cond:
                n = 0
                for w in st.watchers:
                    if body.get("resource") and res_for(body["resource"]) is not w.res:
                        continue
                    if isinstance(data, list):
                        w.inject.extend(data)
                    else:
                        w.inject.append(data)
                    w.end_after_inject = w.end_after_inject or bool(end)
                    w.cond.notify()
                    n += 1
            return {"ok": True, "watches": n}
        if name == "watch-expired-mode":
            mode = body.get("mode", "event")
            if mode not in ("event", "http"):
                raise ApiError(400, "BadRequest", "mode must be event or http")
            app.watch_expired_mode = mode
            return {"ok": True}
        if name == "bookmark-interval":
            app.bookmark_interval = float(body.get("seconds", 1))
            return {"ok": True}
        if name == "clear":
            with app.stats_lock:
                app.fail_n = 0
            app.stall_until = 0
            return {"ok": True}
        raise ApiError(400, "BadRequest", "unknown fault %r" % name)


def peer_gone(sock):
    """True if the client closed its end of an idle watch connection."""
    try:
        r, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    if not r:
        return False
    try:
        data = socket.socket.recv(sock, 1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except BlockingIOError:
        return False
    except OSError:
        return True
    if not data:
        return True
    # Something readable (likely a TLS close_notify); read it through TLS.
    old = sock.gettimeout()
    try:
        sock.settimeout(0.05)
        got = sock.recv(4096)
        return got == b""
    except (ssl.SSLWantReadError, socket.timeout, TimeoutError):
        return False
    except (OSError, ssl.SSLError):
        return True
    finally:
        try:
            sock.settimeout(old)
        except OSError:
            pass


def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return patch
    if not isinstance(target, dict):
        target = {}
    for k, v in patch.items():
        if v is None:
            target.pop(k, None)
        else:
            target[k] = merge_patch(target.get(k), v)
    return target


NET_GROUP = {"name": "networking.k8s.io",
             "versions": [{"groupVersion": "networking.k8s.io/v1", "version": "v1"}],
             "preferredVersion": {"groupVersion": "networking.k8s.io/v1", "version": "v1"}}


def api_resource_list(gv):
    group = "" if gv == "v1" else gv.split("/")[0]
    resources = []
    for r in RESOURCES.values():
        if r.group == group:
            resources.append(r.discovery())
            if r.kind in ("Pod", "Namespace"):
                resources.append({"name": r.plural + "/status", "singularName": "", "namespaced": r.namespaced,
                                  "kind": r.kind, "verbs": ["get", "patch", "update"]})
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}


# --------------------------------------------------------------------------
# Certificates, kubeconfig, state dir
# --------------------------------------------------------------------------


def _is_ip(s):
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in s else socket.AF_INET, s)
        return True
    except OSError:
        return False


def make_certs(state, listen, extra_sans):
    sans = ["IP:127.0.0.1", "DNS:localhost"]
    for a in [listen] + list(extra_sans):
        if not a or a in ("0.0.0.0", "::"):
            continue
        e = ("IP:" if _is_ip(a) else "DNS:") + a
        if e not in sans:
            sans.append(e)
    if listen == "::" or ":" in listen:
        sans.append("IP:::1")
    want = ",".join(sans)
    sanf = os.path.join(state, "san.txt")
    paths = [os.path.join(state, f) for f in ("ca.crt", "ca.key", "server.crt", "server.key")]
    if all(os.path.exists(p) for p in paths) and os.path.exists(sanf) and open(sanf).read() == want:
        return
    def run(*cmd):
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=state)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("openssl", "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "3650",
        "-subj", "/CN=npd-test-ca", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature")
    run("openssl", "req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=kube-apiserver")
    with open(os.path.join(state, "server.ext"), "w") as f:
        f.write("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\nsubjectAltName=%s\n" % want)
    run("openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.crt", "-days", "3650", "-sha256", "-extfile", "server.ext")
    with open(sanf, "w") as f:
        f.write(want)


def write_atomic(path, data, mode=0o644):
    tmp = path + ".tmp%d" % os.getpid()
    with open(tmp, "w") as f:
        f.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def kubeconfig_text(server, ca_data=None, ca_file=None, token=None, token_file=None):
    lines = ["apiVersion: v1", "kind: Config", "clusters:", "- name: npd-test", "  cluster:"]
    if ca_data:
        lines.append("    certificate-authority-data: %s" % ca_data)
    if ca_file:
        lines.append("    certificate-authority: %s" % ca_file)
    lines += ["    server: %s" % server, "users:", "- name: npd-test", "  user:"]
    if token:
        lines.append("    token: %s" % token)
    if token_file:
        lines.append("    tokenFile: %s" % token_file)
    lines += ["contexts:", "- name: npd-test", "  context:", "    cluster: npd-test",
              "    user: npd-test", "    namespace: default", "current-context: npd-test",
              "preferences: {}", ""]
    return "\n".join(lines)


def load_objects(text):
    """JSON object, JSON array, {"kind":"List","items":[...]} or concatenated JSON documents."""
    dec = json.JSONDecoder()
    out = []
    i = 0
    text = text.strip()
    while i < len(text):
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        if i >= len(text):
            break
        v, i = dec.raw_decode(text, i)
        if isinstance(v, list):
            out.extend(v)
        elif isinstance(v, dict) and (v.get("kind") == "List" or
                                      (str(v.get("kind", "")).endswith("List") and "items" in v)):
            out.extend(v.get("items") or [])
        else:
            out.append(v)
    return out


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------


def main(argv=None):
    global VERBOSE, TIMING_FD
    ap = argparse.ArgumentParser(description="protocol-faithful test Kubernetes API server (npd)")
    ap.add_argument("--listen", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=0, help="API port (0 = pick a free port)")
    ap.add_argument("--control-port", type=int, default=0,
                    help="separate HTTPS control listener (0 = pick a free port, -1 = none)")
    ap.add_argument("--state-dir", required=True, help="directory for certs, token, kubeconfig, port, ready")
    ap.add_argument("--token", default=None, help="bearer token (default: random, written to STATE/token)")
    ap.add_argument("--kubeconfig", default=None, help="also write the kubeconfig to this path")
    ap.add_argument("--san", action="append", default=[], help="extra subjectAltName (IP or DNS)")
    ap.add_argument("--load", action="append", default=[], help="JSON file of initial objects")
    ap.add_argument("--bookmark-interval", type=float, default=1.0)
    ap.add_argument("--watch-expired", choices=["event", "http"], default="event",
                    help="how a watch from a compacted resourceVersion fails (default: ERROR event)")
    ap.add_argument("--gzip-watch", action="store_true", help="gzip watch streams when asked")
    ap.add_argument("--gzip-min-bytes", type=int, default=0, help="only gzip bodies at least this big")
    ap.add_argument("--max-watch-seconds", type=float, default=0,
                    help="end watches without timeoutSeconds after this long (0 = never)")
    ap.add_argument("--idle-timeout", type=float, default=300.0, help="socket timeout for idle connections")
    ap.add_argument("--initial-rv", type=int, default=1000)
    ap.add_argument("--prerender-limit", type=int, default=0, metavar="N",
                    help="after --load, render every list page of N items in advance (0 = no)")
    ap.add_argument("--no-namespace-check", action="store_true",
                    help="allow namespaced objects in namespaces that do not exist")
    ap.add_argument("--verbose", "-v", action="store_true", help="log one line per request to stderr")
    ap.add_argument("--timing-log", default=None, metavar="FILE",
                    help="append when each write after --load was stored and written to each watch")
    args = ap.parse_args(argv)
    VERBOSE = args.verbose

    state = os.path.abspath(args.state_dir)
    os.makedirs(state, exist_ok=True)
    for f in ("ready", "port", "control_port"):
        try:
            os.unlink(os.path.join(state, f))
        except FileNotFoundError:
            pass
    if args.token is None:
        tf = os.path.join(state, "token")
        args.token = open(tf).read().strip() if os.path.exists(tf) else "npd-" + uuid.uuid4().hex
    make_certs(state, args.listen, args.san)

    app = App(args)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(os.path.join(state, "server.crt"), os.path.join(state, "server.key"))
    ctx.set_alpn_protocols(["http/1.1"])
    app.ctx = ctx

    # The cyclic collector would walk every loaded object again and again: during the load
    # and afterwards in the collections that writes set off, a pause that grows with the
    # cluster on the way from a write to its watch event (30,000 pods: a write's p95 4.4 ms,
    # 0.3 ms frozen). What is loaded lives until the end, so it is collected once and frozen
    # out of the collector's view; objects written later are tracked as usual.
    gc.disable()
    for path in args.load:
        with open(path) as f:
            objs = load_objects(f.read())
        objs.sort(key=lambda o: 0 if o.get("kind") == "Namespace" else 1)
        for o in objs:
            app.store.create(res_for(o.get("kind", "")), o, manager="npd-load")
        del objs
    if args.prerender_limit > 0:
        app.prerender(args.prerender_limit)
    gc.collect()
    gc.freeze()
    gc.enable()
    if args.timing_log:
        TIMING_FD = os.open(args.timing_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    app.start_api()
    if args.control_port >= 0:
        app.control_server = TLSServer((args.listen, args.control_port), Handler, app, "control")
        threading.Thread(target=app.control_server.serve_forever, kwargs={"poll_interval": 0.2},
                         name="control-listener", daemon=True).start()

    host = "[%s]" % args.listen if ":" in args.listen else args.listen
    if args.listen in ("0.0.0.0",):
        host = "127.0.0.1"
    elif args.listen == "::":
        host = "[::1]"
    url = "https://%s:%d" % (host, app.port)
    ca_pem = open(os.path.join(state, "ca.crt"), "rb").read()
    kc = kubeconfig_text(url, ca_data=base64.b64encode(ca_pem).decode(), token=args.token)
    write_atomic(os.path.join(state, "token"), args.token + "\n", 0o600)
    write_atomic(os.path.join(state, "kubeconfig"), kc, 0o600)
    write_atomic(os.path.join(state, "kubeconfig-files"),
                 kubeconfig_text(url, ca_file=os.path.join(state, "ca.crt"),
                                 token_file=os.path.join(state, "token")), 0o600)
    if args.kubeconfig:
        d = os.path.dirname(os.path.abspath(args.kubeconfig))
        os.makedirs(d, exist_ok=True)
        write_atomic(os.path.abspath(args.kubeconfig), kc, 0o600)
    write_atomic(os.path.join(state, "url"), url + "\n")
    if app.control_server is not None:
        cport = app.control_server.server_address[1]
        write_atomic(os.path.join(state, "control_port"), "%d\n" % cport)
        write_atomic(os.path.join(state, "control_url"), "https://%s:%d\n" % (host, cport))
    else:
        write_atomic(os.path.join(state, "control_url"), url + "\n")
    write_atomic(os.path.join(state, "pid"), "%d\n" % os.getpid())
    write_atomic(os.path.join(state, "port"), "%d\n" % app.port)
    write_atomic(os.path.join(state, "ready"), "%s\n" % url)
    vlog("listening on %s (state %s)" % (url, state))

    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    while not stop.is_set():
        stop.wait(1.0)
    try:
        os.unlink(os.path.join(state, "ready"))
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
