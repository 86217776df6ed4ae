#!/bin/bash
# test_systemd_notify.sh: netpold under a stand-in for systemd's notify socket. The fake
# backend fails its first two commits (NPD_FAKE_FAIL_COMMITS), so the first sync reaches
# the "kernel" only after two retries (1 s + 2 s of backoff). A listener on $NOTIFY_SOCKET
# records every datagram while a poller watches /readyz; the test asserts that READY=1
# comes once, never while /readyz answers 503, only after the failed syncs were counted,
# with a STATUS= naming the last sync; that WATCHDOG=1 pings follow WATCHDOG_USEC; and that
# SIGTERM sends STOPPING=1. No root: the metrics port is a free port on loopback. Prints
# "N passed, M failed"; exits non-zero on a failure.
set -u

SRC=${NPD_SRC_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
NPD=${NPD_BUILD_DIR:-$SRC/build}/netpold
[ -x "$NPD" ] || { echo "no netpold at $NPD"; exit 1; }
[ "${NPD_TEST_HOOKS:-ON}" = ON ] || { echo "needs a test build (-DNPD_TEST_HOOKS=ON)"; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

python3 - "$NPD" "$SRC/manifests/examples/aks-frontend-backend-db.yaml" "$TMP" <<'PY'
import os, signal, socket, subprocess, sys, threading, time, urllib.request, urllib.error

npd, manifest, tmp = sys.argv[1:4]
passed = failed = 0

def check(desc, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("PASS:", desc)
    else:
        failed += 1
        print("FAIL:", desc, detail)

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

def readyz(port):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/readyz" % port, timeout=1) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return None

def metric(port, name):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=1) as r:
            for line in r.read().decode().splitlines():
                if line.startswith(name + " "):
                    return float(line.split()[1])
    except OSError:
        pass
    return 0.0

port = free_port()
sock_path = os.path.join(tmp, "notify.sock")
lsn = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
lsn.bind(sock_path)
lsn.settimeout(0.2)
msgs = []          # (t, text, readyz code right after READY, error syncs then)
polls = []         # (t, code)
stop = False

def poller():
    # Stamped when the answer is back: a 200 stamped before READY=1 arrived would mean
    # the agent was ready and had not said so.
    while not stop:
        code = readyz(port)
        polls.append((time.monotonic(), code))
        time.sleep(0.01)

env = dict(os.environ, NOTIFY_SOCKET=sock_path, WATCHDOG_USEC="200000",
           NPD_FAKE_FAIL_COMMITS="2")
env.pop("WATCHDOG_PID", None)
t0 = time.monotonic()
proc = subprocess.Popen([npd, "--manifests", manifest, "--node-name", "node1",
                         "--backend", "fake", "--metrics-addr", "127.0.0.1:%d" % port],
                        env=env, stderr=open(os.path.join(tmp, "netpold.log"), "w"))
th = threading.Thread(target=poller)
th.start()
ready_at = None
deadline = time.monotonic() + 20
while time.monotonic() < deadline:
    try:
        data = lsn.recv(4096).decode()
    except socket.timeout:
        if ready_at and time.monotonic() - ready_at > 1.0:
            break
        continue
    t = time.monotonic()
    code = err = None
    if "READY=1" in data.split("\n"):
        # Asked at once: if READY had come early, /readyz would still say 503 here.
        code = readyz(port)
        err = metric(port, 'netpold_syncs_total{result="error"}')
        ready_at = t
    msgs.append((t, data, code, err))
    if ready_at and t - ready_at > 1.0:
        break
proc.send_signal(signal.SIGTERM)
stopping = False
end = time.monotonic() + 5
while time.monotonic() < end:
    try:
        if "STOPPING=1" in lsn.recv(4096).decode():
            stopping = True
            break
    except socket.timeout:
        if proc.poll() is not None:
            break
rc = proc.wait(timeout=10)
stop = True
th.join()

readies = [m for m in msgs if "READY=1" in m[1].split("\n")]
check("READY=1 sent exactly once", len(readies) == 1, [m[1] for m in msgs][:5])
if readies:
    t, text, code, err = readies[0]
    check("/readyz answers 200 the moment READY=1 arrives", code == 200, code)
    check("READY=1 only after both failed commits were counted", err is not None and err >= 2, err)
    check("READY=1 came after the retries (>= 2.5 s of backoff)", t - t0 >= 2.5, t - t0)
    # READY=1 goes out in the loop iteration that made the agent ready; allow the
    # listener a little scheduling slack on a loaded machine.
    early = [c for (tp, c) in polls if tp < t - 0.3 and c == 200]
    check("/readyz never 200 before READY=1", not early, early[:3])
    check("/readyz was 503 before READY=1", any(c == 503 for (tp, c) in polls if tp < t), "")
    check("READY=1 carries a STATUS= naming the last sync",
          "STATUS=enforcing: last sync 20" in text and "1 syncs ok, 2 failed" in text, text)
    before = [m[1] for m in msgs if m[0] < t and m[1].startswith("STATUS=not ready")]
    check("STATUS= before READY says not ready", len(before) >= 1, [m[1] for m in msgs][:3])
    pings = [m for m in msgs if m[1] == "WATCHDOG=1" and m[0] > t]
    check("WATCHDOG=1 every 100 ms after READY (WATCHDOG_USEC=200000)", len(pings) >= 5, len(pings))
check("STOPPING=1 on SIGTERM", stopping)
check("netpold exits 0 on SIGTERM", rc == 0, rc)

# Without WatchdogSec no WATCHDOG=1, and with WATCHDOG_PID naming another process neither.
env = dict(os.environ, NOTIFY_SOCKET=sock_path, WATCHDOG_USEC="100000", WATCHDOG_PID="1")
proc = subprocess.Popen([npd, "--manifests", manifest, "--node-name", "node1", "--backend", "fake"],
                        env=env, stderr=subprocess.DEVNULL)
got = []
end = time.monotonic() + 1.5
while time.monotonic() < end:
    try:
        got.append(lsn.recv(4096).decode())
    except socket.timeout:
        pass
proc.send_signal(signal.SIGTERM)
proc.wait(timeout=10)
check("READY=1 without metrics address too", any("READY=1" in g for g in got), got[:3])
check("no WATCHDOG=1 when WATCHDOG_PID is another process", "WATCHDOG=1" not in got, got[:5])
if failed:
    print(open(os.path.join(tmp, "netpold.log")).read()[-2000:])
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
PY
