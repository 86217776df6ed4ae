#!/usr/bin/env python3
"""sctpraw.py: SCTP packets without an SCTP stack, for kernels that have no SCTP sockets.

The lab kernel cannot open SCTP sockets, but netfilter still sees and filters IP protocol
132. A sender writes SCTP INIT packets (common header with a CRC32c, one INIT chunk
whose initiate tag is a token) through a raw socket; a sink in the destination pod reads
every protocol-132 packet from raw sockets and logs its source, destination port and
tag. A tag in the sink's log means the packet crossed the nodes' FORWARD hooks. Nothing
answers the INIT: this checks the filter's verdict on the first packet, not an
association.

usage:
  sctpraw.py sink OUT                  log "SRC_IP DST_PORT TAG" lines (flushed) to OUT
                                       until killed (IPv4 and IPv6)
  sctpraw.py send                      stdin lines "DST_IP DST_PORT TAG": three INITs each,
                                       50 ms apart, from random source ports
Standard library only (run it with python3 -S).
"""
import os
import select
import socket
import struct
import sys
import time

IPPROTO_SCTP = 132


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def init_packet(sport, dport, tag):
    chunk = struct.pack("!BBHIIHHI", 1, 0, 20, tag, 65535, 1, 1, tag)
    hdr = struct.pack("!HHII", sport, dport, 0, 0)
    # The checksum field carries the CRC32c in little-endian order (RFC 9260, Appendix A).
    csum = struct.pack("<I", crc32c(hdr + chunk))
    return hdr[:8] + csum + chunk


def parse(payload):
    """(dst_port, tag) of an INIT, else None."""
    if len(payload) < 32 or payload[12] != 1:
        return None
    dport = struct.unpack("!H", payload[2:4])[0]
    tag = struct.unpack("!I", payload[16:20])[0]
    return dport, tag


def sink(out):
    socks = [socket.socket(socket.AF_INET, socket.SOCK_RAW, IPPROTO_SCTP)]
    try:
        socks.append(socket.socket(socket.AF_INET6, socket.SOCK_RAW, IPPROTO_SCTP))
    except OSError:
        pass
    with open(out, "a", buffering=1) as f:
        while True:
            ready, _, _ = select.select(socks, [], [])
            for s in ready:
                data, addr = s.recvfrom(65535)
                if s.family == socket.AF_INET:
                    data = data[(data[0] & 0x0F) * 4:]  # IPv4 raw reads include the header
                got = parse(data)
                if got:
                    f.write("%s %d %d\n" % (addr[0], got[0], got[1]))


def send(lines):
    targets = []
    for line in lines:
        f = line.split()
        if len(f) == 3:
            targets.append((f[0], int(f[1]), int(f[2])))
    socks = {}
    for _ in range(3):
        for ip, port, tag in targets:
            fam = socket.AF_INET6 if ":" in ip else socket.AF_INET
            if fam not in socks:
                socks[fam] = socket.socket(fam, socket.SOCK_RAW, IPPROTO_SCTP)
            sport = 1024 + struct.unpack("!H", os.urandom(2))[0] % 60000
            try:
                socks[fam].sendto(init_packet(sport, port, tag), (ip, 0))
            except OSError:
                pass  # a REJECT's ICMP error may surface here; the sink decides
        time.sleep(0.05)


if __name__ == "__main__":
    ARGS = sys.argv[1:]
    if len(ARGS) == 2 and ARGS[0] == "sink":
        sink(ARGS[1])
    elif ARGS == ["send"]:
        send(sys.stdin.read().splitlines())
    else:
        sys.exit(__doc__)
