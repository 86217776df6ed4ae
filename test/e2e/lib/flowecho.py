#!/usr/bin/env python3
"""flowecho.py: long-lived flows for the conntrack checks (podserve.py closes a TCP
connection after one line, so it cannot carry an established flow).

usage:
  flowecho.py serve PORT [--push S]
      echoes on [::]:PORT (dual stack): every line of every TCP connection, kept open,
      and every UDP datagram back to its sender, until killed. With --push, each TCP
      connection also gets a line "pN" every S seconds that the client did not ask for,
      so the server's side sends on its own (until the connection fails).
  flowecho.py flow tcp|udp IP PORT --out FILE [--interval S] [--duration S]
      one TCP connection, or one connected UDP socket (one 5-tuple), sending a numbered
      token every interval (default 0.02 s) for duration seconds (default 10); appends
      "unix_time echo SEQ" for each echo received and "unix_time error WHY" for errors
      (flushed per line), and at the end "unix_time done SENT ECHOED".
Standard library only.
"""
import argparse
import errno
import os
import select
import socket
import sys
import threading
import time


def family(ip):
    return socket.AF_INET6 if ":" in ip else socket.AF_INET


def dual(kind, port):
    s = socket.socket(socket.AF_INET6, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port))
    return s


def pusher(c, lock, every):
    n = 0
    try:
        while True:
            time.sleep(every)
            with lock:
                c.sendall(b"p%d\n" % n)
            n += 1
    except OSError:
        pass


def tcp_conn(c, push):
    lock = threading.Lock()
    if push:
        threading.Thread(target=pusher, args=(c, lock, push), daemon=True).start()
    try:
        with c:
            f = c.makefile("rwb", buffering=0)
            for line in f:
                with lock:
                    c.sendall(line)
    except OSError:
        pass


def serve(port, push):
    t = dual(socket.SOCK_STREAM, port)
    t.listen(64)
    u = dual(socket.SOCK_DGRAM, port)
    while True:
        r, _, _ = select.select([t, u], [], [])
        if t in r:
            c, _ = t.accept()
            threading.Thread(target=tcp_conn, args=(c, push), daemon=True).start()
        if u in r:
            data, peer = u.recvfrom(65535)
            u.sendto(data, peer)


def why(e):
    return errno.errorcode.get(e.errno, str(e)) if isinstance(e, OSError) and e.errno else type(e).__name__


def flow(proto, ip, port, out, interval, duration):
    log = open(out, "a", buffering=1)
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    s = socket.socket(family(ip), kind)
    s.settimeout(2.0)
    sent = echoed = 0
    buf = b""
    try:
        s.connect((ip, port))
    except OSError as e:
        log.write("%.3f error connect-%s\n" % (time.time(), why(e)))
        log.write("%.3f done 0 0\n" % time.time())
        return 1
    s.setblocking(False)
    end = time.time() + duration
    nxt = time.time()
    alive = True
    while alive and time.time() < end:
        now = time.time()
        if alive and now >= nxt:
            try:
                s.send(b"%d\n" % sent)
                sent += 1
            except OSError as e:
                log.write("%.3f error send-%s\n" % (now, why(e)))
                alive = proto != "tcp"
            nxt += interval
        r, _, _ = select.select([s], [], [], max(0.0, min(nxt, end) - time.time()))
        if not r:
            continue
        try:
            data = s.recv(65535)
        except OSError as e:
            log.write("%.3f error recv-%s\n" % (time.time(), why(e)))
            alive = proto != "tcp"
            continue
        if proto == "tcp" and not data:
            log.write("%.3f error closed\n" % time.time())
            alive = False
            continue
        if proto == "tcp":
            buf += data
            lines = buf.split(b"\n")
            buf = lines.pop()
        else:
            lines = data.split(b"\n")[:1]
        for line in lines:
            echoed += 1
            log.write("%.3f echo %s\n" % (time.time(), line.decode(errors="replace")))
    log.write("%.3f done %d %d\n" % (time.time(), sent, echoed))
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    sp = sub.add_parser("serve")
    sp.add_argument("port", type=int)
    sp.add_argument("--push", type=float, default=0.0)
    fp = sub.add_parser("flow")
    fp.add_argument("proto", choices=["tcp", "udp"])
    fp.add_argument("ip")
    fp.add_argument("port", type=int)
    fp.add_argument("--out", required=True)
    fp.add_argument("--interval", type=float, default=0.02)
    fp.add_argument("--duration", type=float, default=10.0)
    a = ap.parse_args()
    if a.cmd == "serve":
        serve(a.port, a.push)
        return 0
    return flow(a.proto, a.ip, a.port, a.out, a.interval, a.duration)


if __name__ == "__main__":
    sys.exit(main())
