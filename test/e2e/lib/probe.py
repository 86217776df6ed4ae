#!/usr/bin/env python3
"""probe.py: the client side of the lab's real-packet checks.

A probe succeeds only when the peer echoes a fresh random token:
  tcp  connect (timeout), send "token\\n", read it back before the deadline;
  udp  connected socket, send the token (resent every timeout/4), receive it
       back; an ICMP error (e.g. port unreachable from a REJECT) fails fast.
Everything else is "fail", with a reason for humans: refused, timeout,
unreachable, reset, closed, badecho, or the errno name.

usage:
  probe.py [--timeout S] [--why] tcp|udp IP PORT     one probe; exit 0 ok, 1 fail
  probe.py [--timeout S] [--why] [--tagged] batch     lines "IP PORT PROTO" on stdin
      (with --tagged: "TAG IP PORT PROTO"); probes run concurrently in threads;
      prints "[TAG ]IP PORT PROTO ok|fail[ why]" in input order; exit 0 if all ok,
      1 if any failed, 2 on bad input
  probe.py [--timeout S] watch tcp|udp IP PORT --out FILE [--interval S]
           [--sent] [--fast-flag PATH [--fast-interval S]]
      probes every interval until killed, appending "unix_time ok|fail" lines
      (flushed per line) to FILE; unix_time is when the probe ended. With --sent
      each line also ends in "sent=unix_time", when the probe began (its first
      packet met the filter then). While PATH exists the interval is
      --fast-interval (default 0.001): a bench raises the resolution around the
      moment it measures without probing that fast all the time.
  probe.py announce IFACE IP...
      gratuitous ARP / unsolicited neighbour advertisement for IP on IFACE
Addresses may be IPv4 or IPv6.
"""
import argparse
import concurrent.futures
import errno
import os
import select
import signal
import socket
import struct
import sys
import time


def family(ip):
    return socket.AF_INET6 if ":" in ip else socket.AF_INET


def reason(e):
    if isinstance(e, socket.timeout):
        return "timeout"
    if isinstance(e, ConnectionRefusedError):
        return "refused"
    if isinstance(e, ConnectionResetError):
        return "reset"
    if e.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return "unreachable"
    return errno.errorcode.get(e.errno, "error").lower()


def new_token():
    return ("npd-%d-%s\n" % (os.getpid(), os.urandom(6).hex())).encode()


# In the lab the whole path (pod, bridge, REJECT, ICMP back) runs
# synchronously inside the sender's connect(): the ICMP error reaches the
# socket while connect() still holds its lock, and TCP then keeps it only as
# a "soft" error (TcpExtLockDroppedIcmps) and waits for a SYN retransmit.
# With IP(V6)_RECVERR the kernel also queues the ICMP on the socket's error
# queue, which poll() reports, so a REJECT still fails fast.
IP_RECVERR = getattr(socket, "IP_RECVERR", 11)
IPV6_RECVERR = getattr(socket, "IPV6_RECVERR", 25)


def icmp_errno(s):
    try:
        _, anc, _, _ = s.recvmsg(1, 512, socket.MSG_ERRQUEUE)
    except OSError:
        return None
    for level, kind, data in anc:
        if (level, kind) in ((socket.IPPROTO_IP, IP_RECVERR),
                             (socket.IPPROTO_IPV6, IPV6_RECVERR)) and len(data) >= 4:
            return struct.unpack("=I", data[:4])[0]
    return None


def tcp_connect(s, ip, port, timeout):
    """Non-blocking connect that also watches the ICMP error queue."""
    if family(ip) == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVERR, 1)
    else:
        s.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
    s.setblocking(False)
    rc = s.connect_ex((ip, port))
    if rc not in (0, errno.EINPROGRESS):
        raise OSError(rc, os.strerror(rc))
    deadline = time.monotonic() + timeout
    p = select.poll()
    p.register(s, select.POLLOUT | select.POLLERR)
    while rc != 0:
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout()
        if not p.poll(left * 1000):
            continue
        err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            raise OSError(err, os.strerror(err))
        err = icmp_errno(s)
        if err:
            raise OSError(err, os.strerror(err))
        rc = s.connect_ex((ip, port))
        if rc == errno.EISCONN:
            rc = 0
        elif rc not in (0, errno.EINPROGRESS, errno.EALREADY):
            raise OSError(rc, os.strerror(rc))
    s.setblocking(True)


def probe_tcp(ip, port, timeout):
    token = new_token()
    deadline = time.monotonic() + timeout
    s = socket.socket(family(ip), socket.SOCK_STREAM)
    try:
        tcp_connect(s, ip, port, timeout)
        s.settimeout(max(0.001, deadline - time.monotonic()))
        s.sendall(token)
        buf = b""
        while not buf.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0:
                return "fail", "timeout"
            s.settimeout(left)
            data = s.recv(4096)
            if not data:
                return "fail", "closed"
            buf += data
        return ("ok", "") if buf == token else ("fail", "badecho")
    except OSError as e:
        return "fail", reason(e)
    finally:
        s.close()


def probe_udp(ip, port, timeout):
    token = new_token()
    start = time.monotonic()
    deadline = start + timeout
    resend = timeout / 4.0
    s = socket.socket(family(ip), socket.SOCK_DGRAM)
    try:
        s.connect((ip, port))
        next_send = start
        while True:
            now = time.monotonic()
            if now >= deadline:
                return "fail", "timeout"
            if now >= next_send:
                s.send(token)
                next_send = now + resend
            s.settimeout(max(0.001, min(next_send, deadline) - now))
            try:
                data = s.recv(65535)
            except socket.timeout:
                continue
            if data == token:
                return "ok", ""
    except OSError as e:
        return "fail", reason(e)
    finally:
        s.close()


PROBES = {"tcp": probe_tcp, "udp": probe_udp}


def probe(proto, ip, port, timeout):
    return PROBES[proto](ip, port, timeout)


def parse_target(proto, ip, port):
    if proto not in PROBES:
        raise ValueError("protocol must be tcp or udp, not %r" % proto)
    p = int(port)
    if not 0 < p < 65536:
        raise ValueError("bad port %r" % port)
    socket.inet_pton(family(ip), ip)
    return proto, ip, p


def target_or_none(proto, ip, port):
    """parse_target's answer, or None after printing why on stderr."""
    try:
        return parse_target(proto, ip, port)
    except (ValueError, OSError) as e:
        print("probe: %s" % e, file=sys.stderr)
        return None


def fmt(result, why, show_why):
    return result + (" " + why if show_why and why else "")


def cmd_one(args):
    t = target_or_none(args.mode, args.ip, args.port)
    if t is None:
        return 2
    proto, ip, port = t
    result, why = probe(proto, ip, port, args.timeout)
    print(fmt(result, why, args.why), flush=True)
    return 0 if result == "ok" else 1


def cmd_batch(args):
    jobs = []
    for n, line in enumerate(sys.stdin, 1):
        f = line.split()
        if not f or f[0].startswith("#"):
            continue
        tag = None
        if args.tagged:
            tag, f = f[0], f[1:]
        if len(f) != 3:
            print("probe: stdin line %d: want %sIP PORT PROTO" % (n, "TAG " if args.tagged else ""),
                  file=sys.stderr)
            return 2
        try:
            proto, ip, port = parse_target(f[2], f[0], f[1])
        except (ValueError, OSError) as e:
            print("probe: stdin line %d: %s" % (n, e), file=sys.stderr)
            return 2
        jobs.append((tag, ip, port, proto))
    if not jobs:
        return 0
    workers = min(args.jobs, len(jobs))
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as ex:
        futs = [ex.submit(probe, proto, ip, port, args.timeout) for _, ip, port, proto in jobs]
        results = [f.result() for f in futs]
    bad = 0
    out = []
    for (tag, ip, port, proto), (result, why) in zip(jobs, results):
        bad += result != "ok"
        out.append("%s%s %d %s %s" % ("" if tag is None else tag + " ", ip, port, proto,
                                      fmt(result, why, args.why)))
    print("\n".join(out), flush=True)
    return 1 if bad else 0


def cmd_announce(args):
    """Gratuitous ARP / unsolicited NA (override) for each address on IFACE.

    A re-created pod reusing an IP has a new MAC; the node and the other pods
    update their existing neighbour entries only when told, as CNI plugins do.
    """
    ifindex = socket.if_nametoindex(args.iface)
    raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    raw.bind((args.iface, 0))
    mac = raw.getsockname()[4]
    for ip in args.ips:
        if ":" not in ip:
            a = socket.inet_aton(ip)
            arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + mac + a + b"\0" * 6 + a
            raw.send(b"\xff" * 6 + mac + b"\x08\x06" + arp)
            continue
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        # NDP messages must arrive with hop limit 255; the kernel fills the checksum.
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, ifindex)
        na = struct.pack("!BBHI", 136, 0, 0, 0x20000000) + socket.inet_pton(socket.AF_INET6, ip)
        na += struct.pack("!BB", 2, 1) + mac
        s.sendto(na, ("ff02::1", 0, 0, ifindex))
        s.close()
    raw.close()
    return 0


def cmd_watch(args):
    t = target_or_none(args.proto, args.ip, args.port)
    if t is None:
        return 2
    proto, ip, port = t

    def on_term(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    next_tick = time.monotonic()
    with open(args.out, "a", buffering=1) as out:
        while True:
            sent = time.time()
            result, why = probe(proto, ip, port, args.timeout)
            line = "%.6f %s" % (time.time(), fmt(result, why, args.why))
            if args.sent:
                line += " sent=%.6f" % sent
            out.write(line + "\n")
            if args.fast_flag and os.path.exists(args.fast_flag):
                next_tick += args.fast_interval
            else:
                next_tick += args.interval
            now = time.monotonic()
            if next_tick > now:
                time.sleep(next_tick - now)
            else:
                next_tick = now  # a slow probe (timeout) must not cause a burst


def main():
    ap = argparse.ArgumentParser(description="lab TCP/UDP echo probe")
    ap.add_argument("--timeout", type=float, default=1.0, help="seconds per probe (default 1)")
    ap.add_argument("--why", action="store_true", help="append the failure reason")
    sub = ap.add_subparsers(dest="mode", required=True)
    for proto in ("tcp", "udp"):
        p = sub.add_parser(proto)
        p.add_argument("ip")
        p.add_argument("port")
    b = sub.add_parser("batch")
    b.add_argument("--tagged", action="store_true")
    b.add_argument("--jobs", type=int, default=256)
    w = sub.add_parser("watch")
    w.add_argument("proto")
    w.add_argument("ip")
    w.add_argument("port")
    w.add_argument("--out", required=True)
    w.add_argument("--interval", type=float, default=0.05)
    w.add_argument("--sent", action="store_true")
    w.add_argument("--fast-flag", default=None)
    w.add_argument("--fast-interval", type=float, default=0.001)
    a = sub.add_parser("announce")
    a.add_argument("iface")
    a.add_argument("ips", nargs="+")
    args = ap.parse_args()
    if args.mode == "announce":
        return cmd_announce(args)
    if args.mode == "batch":
        return cmd_batch(args)
    if args.mode == "watch":
        return cmd_watch(args)
    return cmd_one(args)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
