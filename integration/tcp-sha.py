#!/usr/bin/env python3
"""A TCP bulk transfer whose ends compare what they saw (integration/udp.sh).

  tcp-sha.py sink <port> <result-file>
      Accepts one connection on 0.0.0.0:<port>, reads to EOF, writes
      "<bytes> <sha256-hex>" to <result-file>; prints "listening" once bound.
  tcp-sha.py source <ip> <port> <file>
      Connects and sends the file; prints "<bytes> <seconds>".
"""
import hashlib
import socket
import sys
import time


def sink(port, result):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", port))
    srv.listen(1)
    print("listening", flush=True)
    conn, _ = srv.accept()
    h, n = hashlib.sha256(), 0
    for b in iter(lambda: conn.recv(1 << 20), b""):
        h.update(b)
        n += len(b)
    conn.close()
    with open(result, "w") as f:
        f.write("%d %s\n" % (n, h.hexdigest()))


def source(ip, port, path):
    s = socket.create_connection((ip, port), timeout=10)
    s.settimeout(None)
    t0 = time.monotonic()
    n = 0
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            s.sendall(b)
            n += len(b)
    s.shutdown(socket.SHUT_WR)
    s.recv(1)  # the sink closes after it has read everything
    s.close()
    print("%d %.3f" % (n, time.monotonic() - t0))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "sink":
        sink(int(sys.argv[2]), sys.argv[3])
    elif len(sys.argv) == 5 and sys.argv[1] == "source":
        source(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        sys.exit(__doc__)
