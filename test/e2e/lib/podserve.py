#!/usr/bin/env python3
"""podserve.py: the workload inside each lab pod namespace.

Listens on every given port for TCP and UDP on [::] dual-stack
(IPV6_V6ONLY=0, so IPv4 clients arrive as ::ffff:a.b.c.d) and echoes:
TCP reads one line (up to '\n', 4 KiB, or 2 s), writes it back and closes;
UDP sends each datagram back to its sender. Every socket is bound before
the pid file is written, so a present pid file means "ready"; lab.sh still
confirms with `ss` before lab_pod returns. Standard library only, so it
starts in a few tens of milliseconds (run it with `python3 -S`).

usage: podserve.py [--pidfile FILE] [--name NAME] PORT...
"""
import argparse
import os
import selectors
import signal
import socket
import sys
import threading


def tcp_echo(conn):
    # The listening socket is non-blocking; make the accepted one blocking
    # with a deadline so a silent client cannot pin the thread forever.
    try:
        conn.setblocking(True)
        conn.settimeout(2.0)
        buf = b""
        while b"\n" not in buf and len(buf) < 4096:
            data = conn.recv(4096)
            if not data:
                break
            buf += data
        if buf:
            conn.sendall(buf)
    except OSError:
        pass
    finally:
        conn.close()


def dual_stack(kind, port):
    s = socket.socket(socket.AF_INET6, kind)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::", port))
    if kind == socket.SOCK_STREAM:
        s.listen(256)
    s.setblocking(False)
    return s


def write_pidfile(path):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(tmp, path)


def main():
    ap = argparse.ArgumentParser(description="lab pod echo server")
    ap.add_argument("--pidfile")
    ap.add_argument("--name", default="pod")
    ap.add_argument("ports", nargs="+", type=int)
    args = ap.parse_args()
    for p in args.ports:
        if not 0 < p < 65536:
            ap.error("bad port %d" % p)

    def on_term(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_term)

    sel = selectors.DefaultSelector()
    try:
        for port in sorted(set(args.ports)):
            sel.register(dual_stack(socket.SOCK_DGRAM, port), selectors.EVENT_READ, "udp")
            sel.register(dual_stack(socket.SOCK_STREAM, port), selectors.EVENT_READ, "tcp")
    except OSError as e:
        print("podserve name=%s error=%r" % (args.name, e), file=sys.stderr)
        return 1
    if args.pidfile:
        write_pidfile(args.pidfile)
    print("podserve name=%s pid=%d ports=%s ready" % (
        args.name, os.getpid(), ",".join(map(str, args.ports))), file=sys.stderr, flush=True)

    try:
        while True:
            for key, _ in sel.select():
                s = key.fileobj
                try:
                    if key.data == "tcp":
                        conn, _ = s.accept()
                        threading.Thread(target=tcp_echo, args=(conn,), daemon=True).start()
                    else:
                        data, peer = s.recvfrom(65535)
                        s.sendto(data, peer)
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError as e:
                    print("podserve name=%s io_error=%r" % (args.name, e), file=sys.stderr)
    finally:
        if args.pidfile:
            try:
                os.unlink(args.pidfile)
            except OSError:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
