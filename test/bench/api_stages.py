"""Where the time between an API write and the first probe that sees it goes, per stage
(scripts/bench-api). Figures only: nothing here asserts.

A change is timed by four clocks that read the same wall clock (one machine):
  the bench driver   write call begins / returns, the object's new resourceVersion;
  the API server     its --timing-log: "T commit KIND RV TYPE" when the write is stored,
                     "T sent KIND RV PEER" when the event is written to a watch stream
                     (PEER: the watcher's address, i.e. which node);
  each netpold       its debug log: msg="watch event stored" ... rv=RV unix=T, and its
                     metrics after the sync: end, duration, change -> enforcement;
  the probe          probe.py watch --sent: when each probe began and ended.
"""
import math
import re
import statistics

# The phases netpold_last_sync_phase_seconds splits a sync into, up to the kernel commit.
SYNC_PHASES = ("compile", "plan", "counters", "sets", "tables")

# (label, key) in the order a change travels; the keys are filled by stages().
STAGES = [
    ("write call begins -> API server stored it", "api_store"),
    ("API server stored -> event written to node2's watch", "fanout"),
    ("event written -> in node2's store (TLS, curl, decode)", "deliver"),
    ("node2 store -> its sync begins (scheduling)", "schedule"),
    ("node2 sync, to its kernel commit", "sync"),
    ("  compile", "compile"),
    ("  plan (desired vs applied)", "plan"),
    ("  counters (read before a commit)", "counters"),
    ("  ipsets", "sets"),
    ("  table commits", "tables"),
    ("node2 sync ended -> first probe that sees it sent", "to_probe"),
    ("that probe sent -> answered", "probe"),
    ("probe spacing at the change (resolution)", "resolution"),
    ("write call itself (begins -> returns)", "call"),
    ("node1: write call begins -> its sync ended", "node1_total"),
]


def pct(v, p):
    """Nearest-rank percentile."""
    v = sorted(v)
    return v[max(0, math.ceil(p / 100 * len(v)) - 1)]


def parse_timing(path):
    """The API server's timing log: ({(kind, rv): t}, {(kind, rv, peer): t})."""
    commit, sent = {}, {}
    try:
        f = open(path)
    except OSError:
        return commit, sent
    with f:
        for line in f:
            p = line.split()
            if len(p) >= 4 and p[1] == "commit":
                commit.setdefault((p[2], p[3]), float(p[0]))
            elif len(p) >= 5 and p[1] == "sent":
                sent.setdefault((p[2], p[3], p[4]), float(p[0]))
    return commit, sent


_STORED = re.compile(r'msg="watch event stored" resource=(\S+) type=\S+ rv=(\S+) unix=(\S+)')


def parse_agent(path):
    """netpold's debug log: {(resource, rv): t} for each watch event it stored."""
    out = {}
    try:
        f = open(path, errors="replace")
    except OSError:
        return out
    with f:
        for line in f:
            m = _STORED.search(line)
            if m:
                out.setdefault((m.group(1), m.group(2)), float(m.group(3)))
    return out


def stages(ch, commit, sent, stored2, node2_ip):
    """The stages of one change (dict of seconds, a stage absent when a clock missed it).
    ch: tw, t0, rv, seen_sent, seen_end, prev_sent, and node1/node2: {end, dur}."""
    s = {"call": ch["t0"] - ch["tw"]}
    tc = commit.get(("Pod", ch["rv"]))
    ts = sent.get(("Pod", ch["rv"], node2_ip))
    tr = stored2.get(("pods", ch["rv"]))
    n2, n1 = ch.get("node2"), ch.get("node1")
    if tc is not None:
        s["api_store"] = tc - ch["tw"]
        if ts is not None:
            s["fanout"] = ts - tc
    if ts is not None and tr is not None:
        s["deliver"] = tr - ts
    if n2:
        begin = n2["end"] - n2["dur"]
        if tr is not None:
            s["schedule"] = begin - tr
        s["sync"] = n2["dur"]
        for ph in SYNC_PHASES:
            if n2.get(ph) is not None:
                s[ph] = n2[ph]
        if ch.get("seen_sent") is not None:
            s["to_probe"] = ch["seen_sent"] - n2["end"]
    if ch.get("seen_sent") is not None:
        s["probe"] = ch["seen_end"] - ch["seen_sent"]
        if ch.get("prev_sent") is not None:
            s["resolution"] = ch["seen_sent"] - ch["prev_sent"]
    if n1:
        s["node1_total"] = n1["end"] - ch["tw"]
    return s


def summary(per_change):
    """{key: [p50, p95, n]} over the changes that have the stage."""
    out = {}
    for _, k in STAGES:
        v = [s[k] for s in per_change if k in s]
        if v:
            out[k] = [statistics.median(v), pct(v, 95), len(v)]
    return out


def format_change(s):
    """One change's stages on one line, milliseconds."""
    short = {"api_store": "api", "fanout": "fanout", "deliver": "deliver",
             "schedule": "sched", "sync": "sync", "compile": "compile", "plan": "plan",
             "counters": "counters", "sets": "sets", "tables": "tables", "to_probe": "->probe",
             "probe": "probe",
             "resolution": "res"}
    return " ".join("%s %.1f" % (short[k], s[k] * 1e3) for _, k in STAGES
                    if k in s and k in short)
