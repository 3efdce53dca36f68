#!/usr/bin/env python3
"""Captures real kernel netlink dump replies as fuzz seeds (one datagram per file).

Run by capture-netlink.sh inside a private namespace set up with a bridge, a veth pair, a
vxlan device, addresses, routes, neighbours and FDB entries, so the dumps carry every kind
of object the Netlink module parses. Usage: capture-netlink.py OUTDIR"""
import os, socket, struct, sys

NETLINK_ROUTE = 0
RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE, RTM_GETNEIGH = 18, 22, 26, 30
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 0x1, 0x4, 0x300
AF_UNSPEC, AF_INET, AF_INET6, AF_BRIDGE = 0, 2, 10, 7
IFLA_EXT_MASK, RTEXT_FILTER_BRVLAN_COMPRESSED = 29, 1 << 2

def request(kind, family, seq, header_size, extra=b""):
    body = struct.pack("B", family) + bytes(header_size - 1) + extra
    return struct.pack("=IHHII", 16 + len(body), kind, NLM_F_REQUEST | NLM_F_DUMP, seq, 0) + body

def dump(sock, message, name, out):
    sock.send(message)
    n = 0
    while True:
        data = sock.recv(65536)
        n += 1
        with open(os.path.join(out, f"{name}-{n}"), "wb") as f:
            f.write(data)
        offset = 0
        while offset + 16 <= len(data):
            length, kind = struct.unpack_from("=IH", data, offset)
            if kind in (2, 3):  # NLMSG_ERROR, NLMSG_DONE
                return
            offset += (length + 3) & ~3

def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
    ext = struct.pack("=HHI", 8, IFLA_EXT_MASK, RTEXT_FILTER_BRVLAN_COMPRESSED)
    dump(sock, request(RTM_GETLINK, AF_UNSPEC, 1, 16), "links", out)
    dump(sock, request(RTM_GETLINK, AF_BRIDGE, 2, 16, ext), "bridge-vlans", out)
    dump(sock, request(RTM_GETADDR, AF_UNSPEC, 3, 8), "addresses", out)
    dump(sock, request(RTM_GETROUTE, AF_INET, 4, 12), "routes-v4", out)
    dump(sock, request(RTM_GETROUTE, AF_INET6, 5, 12), "routes-v6", out)
    dump(sock, request(RTM_GETNEIGH, AF_UNSPEC, 6, 12), "neighbours", out)
    dump(sock, request(RTM_GETNEIGH, AF_BRIDGE, 7, 12), "fdb", out)
    # A request the kernel refuses: an error with the echoed request (and extended ack).
    sock.setsockopt(270, 11, 1)  # SOL_NETLINK, NETLINK_EXT_ACK
    bad = struct.pack("=IHHII", 16 + 12 + 8, 24, NLM_F_REQUEST | NLM_F_ACK, 8, 0) \
        + struct.pack("=BBBBBBBBI", AF_INET, 16, 0, 0, 254, 4, 0, 1, 0) + struct.pack("=HH4s", 8, 1, bytes([10, 2, 0, 1]))
    dump(sock, bad, "error-ack", out)

main()
