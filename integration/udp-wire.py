#!/usr/bin/env python3
"""The UDP backend's wire format, from the outside (integration/udp.sh).

  udp-wire.py send <dst-ip> <dst-port> <inner-src> <inner-dst> <icmp-id> [<src-ip> <src-port>]
      One datagram to <dst-ip>:<dst-port> whose payload is an IPv4 ICMP echo request
      <inner-src> -> <inner-dst> (identifier <icmp-id>), as a flannel UDP node sends it.
      Without a source: an ordinary UDP socket (any port). With <src-ip> <src-port>: a raw
      socket writes the outer IPv4/UDP headers itself, so the datagram carries that
      address and port even while the agent holds them (needs root, CAP_NET_RAW).
  udp-wire.py pcap <file.pcap> <port> <outer-src> <outer-dst> <inner-src> <inner-dst>
      Reads an Ethernet capture; prints one line "tunnel=N ipv4=N match=N": UDP datagrams
      <outer-src> -> <outer-dst>:<port>, those whose payload starts 0x45 (IPv4, 20-byte
      header) and is exactly one whole packet, and among those the ones whose inner
      source and destination are the given addresses.
"""
import socket
import struct
import sys


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, proto, payload, ident=0):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0, 64, proto, 0,
                      socket.inet_aton(src), socket.inet_aton(dst))
    return hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:] + payload


def echo_request(src, dst, ident):
    body = b"swift-cni udp suite probe"
    icmp = struct.pack("!BBHHH", 8, 0, 0, ident, 1) + body
    icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
    return ipv4(src, dst, 1, icmp, ident)


def udp_datagram(src, sport, dst, dport, payload):
    length = 8 + len(payload)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 17, length)
    hdr = struct.pack("!HHHH", sport, dport, length, 0)
    c = csum(pseudo + hdr + payload) or 0xFFFF
    return ipv4(src, dst, 17, struct.pack("!HHHH", sport, dport, length, c) + payload)


def send(argv):
    dst, dport, isrc, idst, ident = argv[0], int(argv[1]), argv[2], argv[3], int(argv[4])
    inner = echo_request(isrc, idst, ident)
    if len(argv) >= 7:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        s.sendto(udp_datagram(argv[5], int(argv[6]), dst, dport, inner), (dst, 0))
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.sendto(inner, (dst, dport))


def packets(path):
    with open(path, "rb") as f:
        head = f.read(24)
        if len(head) < 24:
            return
        endian = "<" if head[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
        if struct.unpack(endian + "I", head[20:24])[0] != 1:
            sys.exit("not an Ethernet capture")
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                return
            incl = struct.unpack(endian + "IIII", rec)[2]
            yield f.read(incl)


def pcap(argv):
    path, port, osrc, odst, isrc, idst = argv[0], int(argv[1]), argv[2], argv[3], argv[4], argv[5]
    tunnel = ipv4_whole = match = 0
    for frame in packets(path):
        if len(frame) < 14 + 20 + 8 or frame[12:14] != b"\x08\x00":
            continue
        ip = frame[14:]
        ihl = (ip[0] & 15) * 4
        if ip[9] != 17 or socket.inet_ntoa(ip[12:16]) != osrc or socket.inet_ntoa(ip[16:20]) != odst:
            continue
        sport, dport, ulen = struct.unpack("!HHH", ip[ihl:ihl + 6])
        if dport != port:
            continue
        tunnel += 1
        inner = ip[ihl + 8:ihl + ulen]
        if len(inner) < 20 or inner[0] != 0x45 or struct.unpack("!H", inner[2:4])[0] != len(inner):
            continue
        ipv4_whole += 1
        if socket.inet_ntoa(inner[12:16]) == isrc and socket.inet_ntoa(inner[16:20]) == idst:
            match += 1
    print("tunnel=%d ipv4=%d match=%d" % (tunnel, ipv4_whole, match))


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in ("send", "pcap"):
        sys.exit(__doc__)
    {"send": send, "pcap": pcap}[sys.argv[1]](sys.argv[2:])
