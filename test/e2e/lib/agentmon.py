"""Watching a running netpold from outside, for the tests and benches that drive it from
Python: a free loopback port for its metrics address, its /metrics text as numbers, and
its memory as the kernel reports it. Standard library only."""
import socket


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def parse_metrics(text):
    """Prometheus text as {'name{labels}': value}; comments and non-numbers skipped."""
    out = {}
    for line in text.splitlines():
        if not line or line[0] == "#":
            continue
        k, _, v = line.rpartition(" ")
        try:
            out[k] = float(v)
        except ValueError:
            pass
    return out


def rss_kb(pid):
    """{'VmRSS': kB, 'VmHWM': kB} of process pid, from /proc/PID/status."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                k, v = line.split(":")
                out[k] = int(v.split()[0])
    return out
