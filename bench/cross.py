"""Cross-host section of `make bench` (bench/bench.py imports it): the flannel-vxlan and
host-gw node agents, with the directory registry and with etcd, in network namespaces.

  5a. convergence: a peer's lease appears in the registry -> its route (+ neighbour + FDB
      entry for vxlan) is in the kernel of another node. One observer node per
      registry x backend, each with its agent running; the peer is a synthetic lease.
  5b. reconcile: 1,000 synthetic leases at once -> all 1,000 routes (vxlan: + 1,000
      neighbours + 1,000 FDB entries) present, against `ip -batch` (+ `bridge -batch`) of
      the same entries into an identical fresh node netns, in the same rounds.
  6x. dataplane across nodes: two real nodes per backend with a container each (attached by
      our CNI face through libcni), iperf3 and ping container to container, next to the
      bare underlay (node eth0 to node eth0) as the ceiling. Backends: vxlan, host-gw, udp
      (the agent's default `--udp-path automatic`: TUN vnet_hdr + TSO/USO + UDP GSO/GRO) and
      udp-plain (`--udp-path plain`: one packet per syscall, as flannel's proxy).
  5d. dual stack (parts ds_convergence, ds_reconcile, ds_dataplane): the same three for a
      cluster with EnableIPv6: dual-stack observer nodes (IPv6 underlay address, their own
      registries) and dual-stack synthetic leases (`v4-24&v6-64` keys, PublicIPv6, vxlan
      BackendV6Data), converged = the entries of both families present (IPv4 and IPv6 times
      kept apart); the dataplane (bench/cross_ds.py) measures IPv6 next to IPv4 in the same
      rounds for vxlan and host-gw (BENCH_X_DS_BACKENDS), with both families' underlay.

Kernel-side times come from an rtnetlink multicast listener (bench/nlmon.c: RTMGRP_IPV4_ROUTE
| RTMGRP_NEIGH, + RTMGRP_IPV6_ROUTE) running inside each observer node: every notification is stamped with
CLOCK_REALTIME as its recv() returns (netlink has no SO_TIMESTAMP) and compared with
CLOCK_REALTIME taken right before the lease is written (directory: the rename() of a ready file with its
future mtime; etcd: the HTTP put/txn request sent to etcd's gateway, so etcd's commit is
included). Nothing polls the node, so the 2 CPUs are left to the agent.

Every namespace is named $BENCH_XPREFIX-* (bx<pid>); agents and etcd are stopped before
the namespaces are deleted, also on failure or interrupt (cleanup()).

Environment (optional): BENCH_X_JOINS (20), BENCH_X_PEERS (1000), BENCH_X_ROUNDS (5,
reconcile rounds), BENCH_X_DP_ROUNDS (4), BENCH_DP_SECS (3, shared with section 6),
BENCH_X_TIMEOUT (60 s per bulk wait), BENCH_X_ONLY (comma list of parts to run:
convergence,reconcile,dataplane,ds_convergence,ds_reconcile,ds_dataplane; default all), BENCH_X_DP_BACKENDS (vxlan,host-gw,udp,udp-plain;
one whose CNI binary is missing is skipped, with the reason in results.json).
"""

import base64
import ctypes
import http.client
import ipaddress
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

XPFX = os.environ.get("BENCH_XPREFIX") or f"bx{os.getpid()}"
JOINS = int(os.environ.get("BENCH_X_JOINS", "20"))
PEERS = int(os.environ.get("BENCH_X_PEERS", "1000"))
ROUNDS = int(os.environ.get("BENCH_X_ROUNDS", "5"))
DP_ROUNDS = int(os.environ.get("BENCH_X_DP_ROUNDS", "4"))
DP_SECS = int(os.environ.get("BENCH_DP_SECS", "3"))
BULK_TIMEOUT = float(os.environ.get("BENCH_X_TIMEOUT", "60"))
PARTS = ("convergence", "reconcile", "dataplane", "ds_convergence", "ds_reconcile", "ds_dataplane")
DS_PARTS = ("ds_convergence", "ds_reconcile", "ds_dataplane")  # dual stack: bench/cross_ds.py
X_ONLY = [x for x in os.environ.get("BENCH_X_ONLY", "").split(",") if x] or list(PARTS)
DS_DP_BACKENDS = [x for x in os.environ.get("BENCH_X_DS_BACKENDS", "vxlan,host-gw").split(",") if x]
DP_BACKENDS = [x for x in os.environ.get("BENCH_X_DP_BACKENDS", "vxlan,host-gw,udp,udp-plain").split(",") if x]
PROTO = 92  # rtm_protocol of the agents' routes (0x5c)
VNI = 1
DEV = f"flannel.{VNI}"
DEV6 = f"flannel-v6.{VNI}"

CREATED = []   # namespaces, creation order
PROCS = []     # agents, etcd, iperf3 servers (Popen)
B = None       # the bench module (sh, timed, summary, log, ...)
TMP = None


def log(*a):
    B.log(*a)


# ------------------------------------------------------------------ namespaces and processes

def ns_add(name):
    name = f"{XPFX}-{name}"
    B.sh("ip", "netns", "add", name)
    CREATED.append(name)
    B.sh("ip", "-n", name, "link", "set", "lo", "up")
    return name


def stop(p, sig=signal.SIGTERM, wait=5):
    if p.poll() is None:
        p.send_signal(sig)
        try:
            p.wait(wait)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    if p in PROCS:
        PROCS.remove(p)


def cleanup():
    """Agents, etcd and iperf3 first (TERM, then KILL), then every process still inside one
    of our namespaces, then the namespaces."""
    for p in list(PROCS):
        try:
            stop(p, wait=3)
        except Exception:
            pass
    names = list(CREATED)
    r = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    for line in r.stdout.splitlines():
        n = line.split()[0] if line.split() else ""
        if n.startswith(XPFX + "-") and n not in names:
            names.append(n)
    for n in names:
        B.kill_ns_processes(n)
    for n in reversed(names):
        subprocess.run(["ip", "netns", "del", n], capture_output=True)
        if n in CREATED:
            CREATED.remove(n)


_libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000


def socket_in(ns, *args):
    """A socket created inside netns `ns` (setns on this thread and back; sockets keep the
    namespace they were made in)."""
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{ns}", os.O_RDONLY)
    try:
        if _libc.setns(target, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {ns}")
        try:
            return socket.socket(*args)
        finally:
            if _libc.setns(own, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back")
    finally:
        os.close(own)
        os.close(target)


# ------------------------------------------------------------------ addressing

def pick_octets():
    """An underlay 10.U.0.0/16 and a cluster network 10.C.0.0/14 that the machine's own
    namespace does not use (nothing here leaves our namespaces; this only avoids confusion)."""
    used = B.sh("ip", "-4", "-o", "addr", "show", check=False).stdout + \
        B.sh("ip", "-4", "route", "show", "table", "all", check=False).stdout
    taken = set(int(m) for m in re.findall(r"\b10\.(\d+)\.", used))
    for _ in range(500):
        u = random.randrange(100, 200)
        c = random.randrange(200, 252, 4)
        if u not in taken and not taken & {c, c + 1, c + 2, c + 3}:
            return u, c
    raise RuntimeError("no free 10.x/16 and 10.y/14")


class Addr:
    def __init__(self):
        self.u, self.c = pick_octets()

    def node_ip(self, k):
        return f"10.{self.u}.0.{k}"

    @property
    def etcd_ip(self):
        return f"10.{self.u}.0.250"

    @property
    def network(self):
        return f"10.{self.c}.0.0/14"

    def subnet(self, s):  # subnet index 1..1023 -> 10.C+s/256.s%256.0/24
        return f"10.{self.c + s // 256}.{s % 256}.0/24"

    def subnet_index(self, prefix):
        a = [int(x) for x in prefix.split("/")[0].split(".")]
        return (a[1] - self.c) * 256 + a[2]

    def peer_ip(self, i):  # synthetic peers' public IPs, on the underlay /16
        return f"10.{self.u}.{4 + i // 250}.{i % 250 + 1}"

    def join_ip(self, i):
        return f"10.{self.u}.3.{i % 250 + 1}"

    # dual stack: underlay fd5c:U::/64 next to 10.U.0.0/16, cluster network fd00:C::/48 (/64 per node)
    def node_ip6(self, k):
        return f"fd5c:{self.u:x}::{k:x}"

    @property
    def network6(self):
        return f"fd00:{self.c:x}::/48"

    def subnet6(self, s):  # the same index as subnet(s): fd00:C:0:s::/64 (canonical text, as nlmon prints it)
        return str(ipaddress.ip_network(f"fd00:{self.c:x}:0:{s:x}::/64"))

    def peer_ip6(self, i):
        return f"fd5c:{self.u:x}::1:{i:x}"

    def join_ip6(self, i):
        return f"fd5c:{self.u:x}::2:{i % 250 + 1:x}"


def mac_of(i, salt):
    return "0e:%02x:%02x:%02x:%02x:%02x" % (salt & 0xff, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff, 0x5c)


def lease_json(backend, pip, mac, pip6=None, mac6=None):
    """A lease as flannel writes it; with pip6 a dual-stack one (vxlan: BackendV6Data's VtepMAC mac6)."""
    v = {"PublicIP": pip, "PublicIPv6": pip6, "BackendType": backend,
         "BackendData": {"VNI": VNI, "VtepMAC": mac} if backend == "vxlan" else None}
    if pip6 and backend == "vxlan":
        v["BackendV6Data"] = {"VNI": VNI, "VtepMAC": mac6}
    return json.dumps(v, separators=(",", ":"))


def key_of(subnet, subnet6=None):
    """flannel's key: `10.C.a.0-24`, dual stack `10.C.a.0-24&fd00:C:0:b::-64`."""
    return subnet.replace("/", "-") + (f"&{subnet6.replace('/', '-')}" if subnet6 else "")


# ------------------------------------------------------------------ rtnetlink listener

NLMON = os.environ.get("BENCH_NLMON") or os.path.join(os.path.dirname(os.path.abspath(__file__)), ".bin/nlmon")


class Listener:
    """rtnetlink notifications of one node netns, from bench/nlmon.c running inside it:
    route (proto 92), permanent neighbour (AF_INET) and FDB entry with a remote dst
    (AF_BRIDGE). `present` maps ("route", "10.x.y.0/24") / ("neigh", "10.x.y.0") /
    ("fdb", "mac") to the receive time (ns, CLOCK_REALTIME) of its last RTM_NEW*, `gone`
    likewise for RTM_DEL*; `overflow` counts ENOBUFS (lost notifications)."""

    def __init__(self, ns):
        self.ns = ns
        self.p = subprocess.Popen([NLMON, f"/run/netns/{ns}"], stdout=subprocess.PIPE, text=True, bufsize=1 << 16)
        PROCS.append(self.p)
        if self.p.stdout.readline().strip() != "ready":
            raise RuntimeError(f"nlmon in {ns} did not start")
        self.cv = threading.Condition()
        self.present, self.gone = {}, {}
        self.overflow = 0
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def close(self):
        stop(self.p)
        self.t.join(2)

    def _run(self):
        for line in self.p.stdout:
            w = line.split()
            if len(w) != 4 and w[:2] != ["O", "overflow"]:
                continue
            with self.cv:
                if w[0] == "O":
                    self.overflow += 1
                else:
                    key, ts = (w[1], w[2]), int(w[3])
                    if w[0] == "N":
                        self.present[key] = ts
                        self.gone.pop(key, None)
                    else:
                        self.gone[key] = ts
                        self.present.pop(key, None)
                self.cv.notify_all()

    def wait(self, pred, timeout):
        """Waits until pred(self) (called with the lock held) is true; returns it."""
        deadline = time.monotonic() + timeout
        with self.cv:
            while True:
                v = pred(self)
                if v:
                    return v
                left = deadline - time.monotonic()
                if left <= 0:
                    return v
                self.cv.wait(min(left, 0.5))


def kernel_count(ns, backend, addr, dual=False):
    """Entries of our kind actually in node `ns` (a dump, for checks after an overflow);
    dual: also route6/neigh6/fdb6 (on flannel-v6.1)."""
    r = B.sh("ip", "-n", ns, "-4", "route", "show", "proto", str(PROTO), check=False).stdout
    n = {"route": len(r.splitlines())}
    if backend == "vxlan":
        n["neigh"] = B.sh("ip", "-n", ns, "-4", "neigh", "show", "dev", DEV, "nud", "permanent",
                          check=False).stdout.count("\n")
        n["fdb"] = len([ln for ln in B.sh("bridge", "-n", ns, "fdb", "show", "dev", DEV, check=False).stdout.splitlines()
                        if " dst " in ln])
    if dual:
        r = B.sh("ip", "-n", ns, "-6", "route", "show", "proto", str(PROTO), check=False).stdout
        n["route6"] = len(r.splitlines())
        if backend == "vxlan":
            n["neigh6"] = B.sh("ip", "-n", ns, "-6", "neigh", "show", "dev", DEV6, "nud", "permanent",
                               check=False).stdout.count("\n")
            n["fdb6"] = len([ln for ln in B.sh("bridge", "-n", ns, "fdb", "show", "dev", DEV6,
                                               check=False).stdout.splitlines() if " dst " in ln])
    return n


# ------------------------------------------------------------------ registries

class DirRegistry:
    kind = "dir"

    def __init__(self, root):
        self.root = root
        self.base = os.path.join(root, "coreos.com/network")
        self.subnets = os.path.join(self.base, "subnets")
        os.makedirs(self.subnets, exist_ok=True)

    def flags(self):
        return ["--registry-dir", self.root]

    def put_config(self, cfg):
        with open(os.path.join(self.base, "config"), "w") as f:
            f.write(cfg)

    def _stage(self, key, value):
        tmp = os.path.join(self.subnets, f".bx-{key}")
        with open(tmp, "w") as f:
            f.write(value)
        future = time.time() + 86400  # the lease's expiry IS its mtime
        os.utime(tmp, (future, future))
        return tmp

    def put(self, key, value):
        tmp = self._stage(key, value)
        t0 = time.time_ns()
        os.rename(tmp, os.path.join(self.subnets, key))
        return t0, (time.time_ns() - t0) / 1e6

    def put_many(self, kv):
        staged = [(self._stage(k, v), os.path.join(self.subnets, k)) for k, v in kv]
        t0 = time.time_ns()
        for a, b in staged:
            os.rename(a, b)
        return t0, (time.time_ns() - t0) / 1e6

    def delete(self, key):
        t0 = time.time_ns()
        os.unlink(os.path.join(self.subnets, key))
        return t0

    def delete_many(self, keys):
        t0 = time.time_ns()
        for k in keys:
            os.unlink(os.path.join(self.subnets, k))
        return t0


class Etcd:
    """etcd in its own netns on the underlay; talked to through its JSON gateway over one
    kept-alive connection made inside the etcd netns."""

    def __init__(self, addr, data_dir):
        self.ns = ns_add("etcd")
        self.ip = addr.etcd_ip
        attach_underlay(self.ns, "etcd", self.ip)
        self.ep = f"http://{self.ip}:2379"
        self.log = open(os.path.join(data_dir, "etcd.log"), "w")
        self.p = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, "etcd", "--name", "bx", "--data-dir", os.path.join(data_dir, "data"),
             "--listen-client-urls", self.ep, "--advertise-client-urls", self.ep,
             "--listen-peer-urls", "http://127.0.0.1:2380", "--initial-advertise-peer-urls", "http://127.0.0.1:2380",
             "--initial-cluster", "bx=http://127.0.0.1:2380", "--max-txn-ops", "4096",
             "--log-level", "warn"], stdout=self.log, stderr=self.log)
        PROCS.append(self.p)
        self.conn = None
        for _ in range(200):
            try:
                if self.call("/v3/maintenance/status", {}).get("header"):
                    return
            except (OSError, http.client.HTTPException, ValueError):
                self.conn = None
            if self.p.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError("etcd did not come up: " + B.read(os.path.join(data_dir, "etcd.log"))[-500:])

    def _connect(self):
        s = socket_in(self.ns, socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.settimeout(30)
        s.connect((self.ip, 2379))
        c = http.client.HTTPConnection(self.ip, 2379, timeout=30)
        c.sock = s
        self.conn = c

    def call(self, path, body, t0=None):
        if self.conn is None:
            self._connect()
        data = json.dumps(body)
        self.conn.putrequest("POST", path)
        self.conn.putheader("Content-Type", "application/json")
        self.conn.putheader("Content-Length", str(len(data)))
        self.conn.endheaders()
        if t0 is not None:
            t0.append(time.time_ns())
        self.conn.send(data.encode())
        r = self.conn.getresponse()
        out = r.read()
        if r.status != 200:
            raise RuntimeError(f"etcd {path}: HTTP {r.status} {out[:300]!r}")
        return json.loads(out)


def b64(s):
    return base64.b64encode(s.encode()).decode()


class EtcdRegistry:
    kind = "etcd"

    def __init__(self, etcd, prefix):
        self.etcd, self.prefix = etcd, prefix

    def flags(self):
        return ["--etcd-endpoints", self.etcd.ep, "--etcd-prefix", self.prefix]

    def put_config(self, cfg):
        self.etcd.call("/v3/kv/put", {"key": b64(self.prefix + "/config"), "value": b64(cfg)})

    def _put_op(self, key, value):
        return {"requestPut": {"key": b64(f"{self.prefix}/subnets/{key}"), "value": b64(value)}}

    def put(self, key, value):
        t0 = []
        self.etcd.call("/v3/kv/put", {"key": b64(f"{self.prefix}/subnets/{key}"), "value": b64(value)}, t0)
        return t0[0], (time.time_ns() - t0[0]) / 1e6

    def put_many(self, kv):
        t0 = []
        self.etcd.call("/v3/kv/txn", {"success": [self._put_op(k, v) for k, v in kv]}, t0)
        return t0[0], (time.time_ns() - t0[0]) / 1e6

    def delete(self, key):
        t0 = []
        self.etcd.call("/v3/kv/deleterange", {"key": b64(f"{self.prefix}/subnets/{key}")}, t0)
        return t0[0]

    def delete_many(self, keys):
        t0 = []
        self.etcd.call("/v3/kv/txn", {"success": [
            {"requestDeleteRange": {"key": b64(f"{self.prefix}/subnets/{k}")}} for k in keys]}, t0)
        return t0[0]


# ------------------------------------------------------------------ underlay, nodes, agents

UL = None


def attach_underlay(ns, port, ip, plen=16, ip6=None):
    B.sh("ip", "-n", UL, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns)
    B.sh("ip", "-n", UL, "link", "set", port, "master", "br0", "up")
    B.sh("ip", "-n", ns, "addr", "add", f"{ip}/{plen}", "dev", "eth0")
    if ip6:
        B.sh("ip", "-n", ns, "addr", "add", f"{ip6}/64", "dev", "eth0", "nodad")
    B.sh("ip", "-n", ns, "link", "set", "eth0", "up")


class Node:
    def __init__(self, addr, k, backend, registry, tag, listen=True, dual=False):
        self.addr, self.k, self.backend, self.registry, self.tag = addr, k, backend, registry, tag
        self.dual = dual
        self.ns = ns_add(f"n{k}")
        self.ip = addr.node_ip(k)
        self.ip6 = addr.node_ip6(k) if dual else None
        attach_underlay(self.ns, f"n{k}", self.ip, ip6=self.ip6)
        self.dir = os.path.join(TMP, f"n{k}")
        for d in ("state", "conf", "cache", "ipam", "cni-data"):
            os.makedirs(os.path.join(self.dir, d), exist_ok=True)
        self.subnet_file = os.path.join(self.dir, "subnet.env")
        self.log_path = os.path.join(self.dir, "agent.log")
        self.listener = Listener(self.ns) if listen else None
        self.agent = None

    def start_agent(self, *extra):
        exe = os.path.join(B.OURS_DIR, "swift-flanneld")
        for _ in range(60):  # another engineer may be rebuilding .build
            if os.access(exe, os.X_OK):
                break
            time.sleep(2)
        self.logf = open(self.log_path, "a")
        self.agent = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, exe, *self.registry.flags(), "--iface", "eth0", "--ip-masq",
             "--subnet-file", self.subnet_file, "--state-dir", os.path.join(self.dir, "state"),
             "--listen", "127.0.0.1:9102", *extra], stdout=self.logf, stderr=self.logf)
        PROCS.append(self.agent)

    def wait_ready(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.path.exists(self.subnet_file) and " msg=ready" in B.read(self.log_path):
                env = dict(ln.split("=", 1) for ln in B.read(self.subnet_file).split() if "=" in ln)
                net, plen = env["FLANNEL_SUBNET"].split("/")
                a = net.split(".")
                self.own = f"{a[0]}.{a[1]}.{a[2]}.0/{plen}"
                self.own6 = str(ipaddress.ip_network(env["FLANNEL_IPV6_SUBNET"], strict=False)) \
                    if "FLANNEL_IPV6_SUBNET" in env else None
                return
            if self.agent.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"agent in {self.ns} not ready: {B.read(self.log_path)[-800:]}")

    def udp_tunnel_line(self):
        """The agent's `udp tunnel ... path=...` log line (udp backend), or None."""
        lines = [ln for ln in B.read(self.log_path).splitlines() if "udp tunnel" in ln]
        return lines[-1] if lines else None

    def log_offset(self):
        return os.path.getsize(self.log_path)

    def rss_kb(self):
        for line in B.read(f"/proc/{self.agent.pid}/status").splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return None

    def reconciled_since(self, off):
        with open(self.log_path) as f:
            f.seek(off)
            text = f.read()
        out = []
        for ln in text.splitlines():
            if 'msg=reconciled' in ln or 'msg="reconciled"' in ln:
                kv = dict(re.findall(r'(\w+)=("[^"]*"|\S+)', ln))
                d = {k: int(kv[k]) for k in ("ms", "added", "removed", "peers", "roundTrips") if k in kv}
                if "ts" in kv:
                    d["ts"] = float(kv["ts"])  # epoch seconds, ms resolution, written after the last ACK
                out.append(d)
        return out


def net_config(addr, backend, dual=False):
    c = {"Network": addr.network, "SubnetLen": 24, "Backend": {"Type": backend}}
    if dual:
        c.update(EnableIPv6=True, IPv6Network=addr.network6, IPv6SubnetLen=64)
    return json.dumps(c)


def wanted_keys(backend, subnet, pip, mac, subnet6=None, mac6=None):
    """nlmon keys a peer's lease programs; with subnet6 also its v6 half (route6, neigh6, fdb6)."""
    keys = [("route", subnet)]
    if backend == "vxlan":
        keys += [("neigh", subnet.split("/")[0]), ("fdb", mac)]
    if subnet6:
        keys.append(("route6", subnet6))
        if backend == "vxlan":
            keys += [("neigh6", subnet6.split("/")[0]), ("fdb6", mac6)]
    return keys


# A synthetic peer: (subnet, PublicIP, VtepMAC) or, dual stack, (subnet, PublicIP, VtepMAC,
# v6 subnet, PublicIPv6, v6 VtepMAC).

def peer_keys(backend, p):
    return wanted_keys(backend, p[0], p[1], p[2], *p[3:6:2])


def peer_lease(backend, p):
    return lease_json(backend, p[1], p[2], *p[4:6])


def peer_key(p):
    return key_of(p[0], p[3] if len(p) > 3 else None)


def free_index(o, addr, start):
    """The first subnet index >= start that is neither of node o's own subnets."""
    return next(x for x in range(start, 1024) if addr.subnet(x) != o.own and
                not (o.dual and addr.subnet6(x) == o.own6))


# ------------------------------------------------------------------ 5a. convergence

def bench_convergence(obs, addr, R, key="convergence"):
    """key "ds_convergence": the observers are dual stack, each join a dual-stack lease; the
    join is complete when the entries of both families are in, and join_v4/join_v6 say when
    each family's last entry came."""
    dual = any(o.dual for o in obs)
    log(f"== 5a. {key}: {JOINS} joins per registry/backend (lease write -> kernel entries"
        f"{', IPv4 and IPv6' if dual else ''})")
    kinds = ("route", "neigh", "fdb") + (("route6", "neigh6", "fdb6") if dual else ())
    res = {o.tag: {"join_ms": [], **{f"{k}_ms": [] for k in kinds}, "leave_ms": [], "write_ms": [],
                   **({"join_v4_ms": [], "join_v6_ms": []} if dual else {}), "timeouts": 0} for o in obs}
    for i in range(JOINS):
        order = obs if i % 2 == 0 else obs[::-1]
        for o in order:
            s = free_index(o, addr, 600 + i)
            p = (addr.subnet(s), addr.join_ip(i), mac_of(i, 0xa0 + obs.index(o)))
            if dual:
                p += (addr.subnet6(s), addr.join_ip6(i), mac_of(i, 0xb0 + obs.index(o)))
            want = peer_keys(o.backend, p)
            t0, wms = o.registry.put(peer_key(p), peer_lease(o.backend, p))
            got = o.listener.wait(lambda L: all(k in L.present and L.present[k] >= t0 for k in want) and
                                  {k: L.present[k] for k in want}, 5)
            x = res[o.tag]
            x["write_ms"].append(wms)
            if not got:
                x["timeouts"] += 1
                log(f"  {o.tag}: join {i} not programmed within 5 s")
            else:
                x["join_ms"].append((max(got.values()) - t0) / 1e6)
                for (kind, _), ts in got.items():
                    x[f"{kind}_ms"].append((ts - t0) / 1e6)
                if dual:
                    for fam, sel in (("v4", lambda k: not k.endswith("6")), ("v6", lambda k: k.endswith("6"))):
                        x[f"join_{fam}_ms"].append((max(ts for (k, _), ts in got.items() if sel(k)) - t0) / 1e6)
            t1 = o.registry.delete(peer_key(p))
            gone = o.listener.wait(lambda L: all(k in L.gone and L.gone[k] >= t1 for k in want) and
                                   max(L.gone[k] for k in want), 5)
            if gone:
                x["leave_ms"].append((gone - t1) / 1e6)
            time.sleep(random.uniform(0.05, 0.2))
    out = {}
    for tag, x in res.items():
        out[tag] = {k: B.summary(v) for k, v in x.items() if k != "timeouts"}
        out[tag]["timeouts"] = x["timeouts"]
        out[tag]["join_samples_ms"] = [round(v, 2) for v in x["join_ms"]]
        j = out[tag]["join_ms"]
        log(f"  {tag:14s} join median {j['median'] if j else float('nan'):7.2f} p90 {j['p90'] if j else float('nan'):7.2f} ms"
            f" ({x['timeouts']} timeouts)" + (f"; v4 {out[tag]['join_v4_ms'].get('median', float('nan')):.2f},"
                                             f" v6 {out[tag]['join_v6_ms'].get('median', float('nan')):.2f}"
                                             if dual and out[tag]['join_v4_ms'] else ""))
    R[key] = out


# ------------------------------------------------------------------ 5b. reconcile of 1,000 peers

def bulk_peers(o, addr):
    idx = [s for s in range(1, 1024) if addr.subnet(s) != o.own and not (o.dual and addr.subnet6(s) == o.own6)][:PEERS]
    salt = 0x10 + (0 if o.backend == "vxlan" else 1)
    if o.dual:
        return [(addr.subnet(s), addr.peer_ip(i), mac_of(i, salt), addr.subnet6(s), addr.peer_ip6(i),
                 mac_of(i, salt + 0x20)) for i, s in enumerate(idx)]
    return [(addr.subnet(s), addr.peer_ip(i), mac_of(i, salt)) for i, s in enumerate(idx)]


def baseline_node(addr, backend, n, dual=False):
    """A fresh node netns like an agent's: underlay eth0 (and flannel.1 for vxlan; dual stack:
    an IPv6 underlay address, and flannel-v6.1 for vxlan)."""
    ns = ns_add(f"b{n}")
    attach_underlay(ns, f"b{n}", addr.node_ip(200 + n % 40), ip6=addr.node_ip6(200 + n % 40) if dual else None)
    if backend == "vxlan" and dual:
        B.sh("ip", "-n", ns, "link", "add", DEV6, "type", "vxlan", "id", str(VNI), "local",
             addr.node_ip6(200 + n % 40), "dev", "eth0", "dstport", "8472", "nolearning")
        B.sh("ip", "-n", ns, "link", "set", DEV6, "mtu", "1430")
        B.sh("ip", "-n", ns, "addr", "add", f"fd00:{addr.c:x}::/128", "dev", DEV6, "nodad")
        B.sh("ip", "-n", ns, "link", "set", DEV6, "up")
    if backend == "vxlan":
        B.sh("ip", "-n", ns, "link", "add", DEV, "type", "vxlan", "id", str(VNI), "local", addr.node_ip(200 + n % 40),
             "dev", "eth0", "dstport", "8472", "nolearning")
        B.sh("ip", "-n", ns, "link", "set", DEV, "mtu", "1450")
        B.sh("ip", "-n", ns, "addr", "add", f"10.{addr.c}.0.0/32", "dev", DEV)
        B.sh("ip", "-n", ns, "link", "set", DEV, "up")
    return ns


def baseline(addr, backend, peers, n):
    dual = len(peers[0]) > 3
    ns = baseline_node(addr, backend, n, dual)
    ipb, brb = os.path.join(TMP, f"ip-{backend}.batch"), os.path.join(TMP, f"bridge-{backend}.batch")
    with open(ipb, "w") as f:
        for sub, pip, mac, *v6 in peers:
            halves = [(sub, pip, mac, DEV, "")] + ([(v6[0], v6[1], v6[2], DEV6, " metric 1024")] if v6 else [])
            for s_, p_, m_, dev, metric in halves:
                if backend == "vxlan":
                    gw = s_.split("/")[0]
                    f.write(f"neigh add {gw} lladdr {m_} dev {dev} nud permanent\n")
                    f.write(f"route add {s_} via {gw} dev {dev} onlink proto {PROTO}{metric}\n")
                else:
                    f.write(f"route add {s_} via {p_} dev eth0 proto {PROTO}{metric}\n")
    r = B.timed(["/usr/sbin/ip", "-batch", ipb], netns=ns)
    ms = {"ip": r["ms"]}
    ok = r["rc"] == 0
    if backend == "vxlan":
        with open(brb, "w") as f:
            for sub, pip, mac, *v6 in peers:
                f.write(f"fdb add {mac} dev {DEV} dst {pip} self permanent\n")
                if v6:
                    f.write(f"fdb add {v6[2]} dev {DEV6} dst {v6[1]} self permanent\n")
        r = B.timed(["/usr/sbin/bridge", "-batch", brb], netns=ns)
        ms["bridge"] = r["ms"]
        ok = ok and r["rc"] == 0
    ms["total"] = sum(ms.values())
    cnt = kernel_count(ns, backend, addr, dual)
    want = len(peers)
    if not ok or any(v != want for v in cnt.values()):
        raise RuntimeError(f"baseline {backend}: rc/count wrong: {cnt}")
    B.kill_ns_processes(ns)
    subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    CREATED.remove(ns)
    return ms


def bulk_round(o, addr, peers):
    want = []
    for p in peers:
        want += peer_keys(o.backend, p)
    off = o.log_offset()
    ov0 = o.listener.overflow
    t0, wms = o.registry.put_many([(peer_key(p), peer_lease(o.backend, p)) for p in peers])
    done = t0 + int(wms * 1e6)  # the last rename returned / etcd answered the txn

    def all_there(L):
        if L.overflow != ov0:
            return "overflow"
        ts = [L.present.get(k, 0) for k in want]
        return min(ts) >= t0 and max(ts)

    end = o.listener.wait(all_there, BULK_TIMEOUT)
    res = {"write_ms": wms}
    if end == "overflow" or not end:
        # fall back to dumps (coarse: the dump's own cost is included)
        deadline = time.monotonic() + BULK_TIMEOUT
        while time.monotonic() < deadline:
            c = kernel_count(o.ns, o.backend, addr, o.dual)
            if all(v >= len(peers) for v in c.values()):
                break
            time.sleep(0.05)
        end = time.time_ns()
        res["coarse"] = True
    res["all_present_ms"] = (end - t0) / 1e6
    res["after_write_ms"] = (end - done) / 1e6
    time.sleep(0.3)
    res["agent_reconciles"] = rec = o.reconciled_since(off)
    res["agent_ms"] = sum(r.get("ms", 0) for r in rec)
    if rec and "ts" in rec[-1]:
        # where the time went, from the agent's last reconcile (the one that completed the set):
        # write done -> that reconcile started (registry: notification, listing, decoding, and
        # for the directory registry the earlier partial reconciles) -> its own duration
        last = rec[-1]
        res["last_reconcile_start_after_write_ms"] = round(last["ts"] * 1000 - last["ms"] - done / 1e6, 1)
        res["last_reconcile_ms"] = last["ms"]
    if o.dual:  # when each family's last entry came
        for fam, sel in (("v4", lambda k: not k.endswith("6")), ("v6", lambda k: k.endswith("6"))):
            ts = [o.listener.present.get(k, 0) for k in want if sel(k[0])]
            if ts and min(ts) >= t0 and "coarse" not in res:
                res[f"all_present_{fam}_ms"] = (max(ts) - t0) / 1e6
    res["count"] = kernel_count(o.ns, o.backend, addr, o.dual)
    res["agent_rss_kb"] = o.rss_kb()  # `ip netns exec` execs the daemon: same pid
    # leave: all 1,000 at once
    off = o.log_offset()
    t1 = o.registry.delete_many([peer_key(p) for p in peers])
    ov0 = o.listener.overflow
    gone = o.listener.wait(lambda L: "overflow" if L.overflow != ov0 else
                           (all(L.gone.get(k, 0) >= t1 for k in want) and max(L.gone[k] for k in want)), BULK_TIMEOUT)
    if gone and gone != "overflow":
        res["all_removed_ms"] = (gone - t1) / 1e6
    else:
        deadline = time.monotonic() + BULK_TIMEOUT
        while time.monotonic() < deadline and any(kernel_count(o.ns, o.backend, addr, o.dual).values()):
            time.sleep(0.05)
        res["all_removed_ms"] = (time.time_ns() - t1) / 1e6
        res["coarse_removal"] = True
    time.sleep(0.3)
    res["agent_removal_reconciles"] = o.reconciled_since(off)
    return res


def bench_reconcile(obs, addr, R, key="reconcile"):
    """key "ds_reconcile": dual-stack observers and leases, entries of both families counted."""
    log(f"== 5b. {key}: {PEERS} synthetic peers at once vs ip -batch, {ROUNDS} rounds")
    res = {o.tag: [] for o in obs}
    base = {"vxlan": [], "host-gw": []}
    n = 0
    for rnd in range(ROUNDS):
        order = obs if rnd % 2 == 0 else obs[::-1]
        for o in order:
            peers = bulk_peers(o, addr)
            r = bulk_round(o, addr, peers)
            res[o.tag].append(r)
            n += 1
            b = baseline(addr, o.backend, peers, n)
            base[o.backend].append(b)
            log(f"  round {rnd + 1} {o.tag:14s} all present {r['all_present_ms']:8.1f} ms, {r['after_write_ms']:7.1f} after the write (agent ms="
                f"{r['agent_ms']}, {len(r['agent_reconciles'])} reconcile(s)), removed {r['all_removed_ms']:8.1f} ms;"
                f" ip -batch baseline {b['total']:7.1f} ms {r['count']}")
    out = {"ours": {}, "baseline": {}}
    for tag, rs in res.items():
        out["ours"][tag] = {
            "all_present_ms": B.summary([r["all_present_ms"] for r in rs]),
            "after_write_ms": B.summary([r["after_write_ms"] for r in rs]),
            "last_reconcile_start_after_write_ms": B.summary([r["last_reconcile_start_after_write_ms"] for r in rs
                                                              if "last_reconcile_start_after_write_ms" in r]),
            "last_reconcile_ms": B.summary([r["last_reconcile_ms"] for r in rs if "last_reconcile_ms" in r]),
            "agent_ms": B.summary([r["agent_ms"] for r in rs]),
            "all_removed_ms": B.summary([r["all_removed_ms"] for r in rs]),
            "agent_rss_kb": B.summary([r["agent_rss_kb"] for r in rs if r.get("agent_rss_kb")]),
            "write_ms": B.summary([r["write_ms"] for r in rs]),
            **{f"all_present_{fam}_ms": B.summary([r[f"all_present_{fam}_ms"] for r in rs if f"all_present_{fam}_ms" in r])
               for fam in ("v4", "v6") if any(f"all_present_{fam}_ms" in r for r in rs)},
            "rounds": rs,
        }
    for be, bs in base.items():
        out["baseline"][be] = {"total_ms": B.summary([b["total"] for b in bs]),
                               "ip_ms": B.summary([b["ip"] for b in bs]),
                               "bridge_ms": B.summary([b["bridge"] for b in bs]) if be == "vxlan" else None,
                               "samples": bs}
    out["peers"] = PEERS
    R[key] = out


# ------------------------------------------------------------------ 6x. dataplane across nodes

def attach_ctr(node, conflist_src, netname, tag, all_ips=False):
    """A container netns attached on `node`; returns (netns, first IP), or with all_ips
    (netns, every IP of the result: dual stack, the IPv4 and the IPv6 one)."""
    with open(os.path.join(B.REPO, "cni-conf", conflist_src)) as f:
        c = json.load(f)
    p = c["plugins"][0]
    p["subnetFile"] = node.subnet_file
    p["dataDir"] = os.path.join(node.dir, "cni-data")
    p["ipam"]["dataDir"] = os.path.join(node.dir, "ipam")
    with open(os.path.join(node.dir, "conf", netname + ".conflist"), "w") as f:
        json.dump(c, f)
    ctr = ns_add(tag)
    env = {"PATH": B.PATH_ENV, "NETCONFPATH": os.path.join(node.dir, "conf"), "CNI_PATH": B.OURS_DIR,
           "CNI_CACHE_DIR": os.path.join(node.dir, "cache"), "CNI_CONTAINERID": ctr, "DRIVER_TIMEOUT": "60"}
    r = subprocess.run(["ip", "netns", "exec", node.ns, B.DRIVER, "add", netname, f"/run/netns/{ctr}"],
                       env=env, capture_output=True, text=True, timeout=90)
    if r.returncode != 0:
        raise RuntimeError(f"ADD {tag} on {node.ns} failed: {r.stdout[-400:]} {r.stderr[-400:]}")
    ips = [x["address"].split("/")[0] for x in json.loads(r.stdout)["ips"]]
    return (ctr, ips) if all_ips else (ctr, ips[0])


# backend key -> (registry type, first node index, conflist, network name, CNI plugin, agent flags)
DP = {
    "vxlan": ("vxlan", 11, "30-flannel-vxlan.conflist", "cbr0", "flannel-vxlan", ()),
    "host-gw": ("host-gw", 13, "31-host-gw.conflist", "cbr0-hostgw", "host-gw", ()),
    "udp": ("udp", 15, "32-flannel-udp.conflist", "cbr0-udp", "flannel-udp", ()),  # default: --udp-path automatic
    "udp-plain": ("udp", 17, "32-flannel-udp.conflist", "cbr0-udp", "flannel-udp", ("--udp-path", "plain")),
}


def udp_path_of(line):
    """`path` of the agent's udp tunnel line: the tunnel's pathDescription, e.g.
    `offload: tun vnet_hdr TSO4+USO4, UDP GSO+GRO, 1 queue` or `plain, 1 queue`."""
    m = re.search(r'\bpath=("(?:[^"\\]|\\.)*"|\S+)', line or "")
    return m.group(1).strip('"') if m else None


def dp_pair(addr, key):
    """Two nodes of one backend with their agents (directory registry) and a container each;
    returns (server ctr, client ctr, server ip), the two nodes and the udp agents' path (their
    log's `udp tunnel ... path=`, checked against the flag)."""
    be, k0, conf, name, plugin, flags = DP[key]
    reg = DirRegistry(os.path.join(TMP, f"dp-{key}"))
    reg.put_config(json.dumps({"Network": f"10.{addr.c + 2}.0.0/16", "SubnetLen": 24, "Backend": {"Type": be}}))
    a = Node(addr, k0, be, reg, f"dp-{key}", listen=False)
    b = Node(addr, k0 + 1, be, reg, f"dp-{key}", listen=False)
    for n in (a, b):
        n.start_agent(*flags)
    for n in (a, b):
        n.wait_ready()
    path = None
    if be == "udp":
        want = "plain" if "plain" in flags else "offload"
        paths = [udp_path_of(n.udp_tunnel_line()) for n in (a, b)]
        if any(not (p or "").startswith(want) for p in paths):
            raise RuntimeError(f"dataplane {key}: agents report path {paths}, expected {want}…")
        path = paths[0]
    ca, _ = attach_ctr(a, conf, name, f"n{k0}c")
    cb, ipb = attach_ctr(b, conf, name, f"n{k0 + 1}c")
    return (cb, ca, ipb), [a, b], path


def dp_rounds(pairs):
    """DP_ROUNDS rounds over pairs {key: (server ns, client ns, server ip)}, interleaved (order
    reversed every other round): iperf3 1 stream, 4 streams, ping; raw samples per key."""
    keys = list(pairs)
    res = {k: {"tcp1_gbps": [], "tcp4_gbps": [], "rtt_ms": []} for k in keys}
    for rnd in range(DP_ROUNDS):
        order = keys if rnd % 2 == 0 else keys[::-1]
        for k in order:
            res[k]["tcp1_gbps"].append(B.iperf(pairs[k][1], pairs[k][2], 1))
        for k in order:
            res[k]["tcp4_gbps"].append(B.iperf(pairs[k][1], pairs[k][2], 4))
        for k in order:
            res[k]["rtt_ms"] += B.ping_rtts(pairs[k][1], pairs[k][2])
        log(f"  round {rnd + 1}: " + ", ".join(f"{k} {res[k]['tcp1_gbps'][-1]:.2f}/{res[k]['tcp4_gbps'][-1]:.2f} Gbit/s"
                                                for k in keys))
    return res


def bench_dataplane(addr, R):
    keys = list(DP_BACKENDS)
    if not keys or set(keys) - set(DP):
        raise RuntimeError(f"BENCH_X_DP_BACKENDS {','.join(keys)}: pick from {', '.join(DP)}")
    log(f"== 6x. dataplane across nodes ({', '.join(keys)}): iperf3 ({DP_SECS}s, 1 and 4 streams) + ping,"
        f" {DP_ROUNDS} rounds")
    if not shutil.which("iperf3"):
        R["dataplane"] = {"skipped": "iperf3 not installed"}
        return
    out = {"skipped_backends": {}, "udp_tunnel": {}}
    for k in list(keys):  # binaries of a backend not built yet (make build assembles them all)
        if not os.access(os.path.join(B.OURS_DIR, DP[k][4]), os.X_OK):
            out["skipped_backends"][k] = f"no {DP[k][4]} in {B.OURS_DIR}"
            keys.remove(k)
    pairs = {}
    nodes = []
    for key in keys:
        pairs[key], ns, path = dp_pair(addr, key)
        nodes += ns
        if path:
            out["udp_tunnel"][key] = path
    # the ceiling: node eth0 to node eth0 across the same underlay bridge
    pairs["underlay"] = (nodes[1].ns, nodes[0].ns, nodes[1].ip)
    srv = []
    for key, (sns, cns, sip) in pairs.items():
        p = subprocess.Popen(["ip", "netns", "exec", sns, "iperf3", "-s", "-B", sip],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        PROCS.append(p)
        srv.append(p)
    time.sleep(0.5)
    for key, (sns, cns, sip) in pairs.items():
        if not B.ping_rtts(cns, sip):
            raise RuntimeError(f"dataplane {key}: no ping answer from {sip}")
    keys = list(pairs)
    res = dp_rounds(pairs)
    for p in srv:
        stop(p)
    for n in nodes:
        stop(n.agent)
    for k, x in res.items():
        out[k] = {m: B.summary(v) for m, v in x.items()}
        out[k]["samples"] = {m: [round(s, 3) for s in v] for m, v in x.items() if m != "rtt_ms"}
    out["mtu"] = {k: B.sh("ip", "-n", pairs[k][1], "-o", "link", "show", "eth0").stdout.split("mtu ")[1].split()[0]
                  for k in keys if k != "underlay"}
    R["dataplane"] = out


# ------------------------------------------------------------------ entry

def observers(addr, etcd, dual, k0):
    """One observer node per registry x backend (nodes k0, k0+1, ...), each with a registry
    of its own; dual: dual-stack network config and an IPv6 underlay address."""
    obs = []
    k = k0
    for regkind in ("dir", "etcd"):
        if regkind == "etcd" and not etcd:
            continue
        for be in ("vxlan", "host-gw"):
            sfx = "-ds" if dual else ""
            if regkind == "dir":
                reg = DirRegistry(os.path.join(TMP, f"reg-{be}{sfx}"))
            else:
                reg = EtcdRegistry(etcd, f"/bx-{be}{sfx}/network")
            reg.put_config(net_config(addr, be, dual))
            obs.append(Node(addr, k, be, reg, f"{regkind}/{be}", dual=dual))
            k += 1
    return obs


def run(bench, R, tmp):
    global B, TMP, UL
    B = bench
    TMP = os.path.join(tmp, "x")
    os.makedirs(TMP, exist_ok=True)
    out = {"prefix": XPFX, "parts": [p for p in PARTS if p in X_ONLY]}
    R["cross_host"] = out
    unknown = set(X_ONLY) - set(PARTS)
    if unknown:
        raise RuntimeError(f"BENCH_X_ONLY: unknown part(s) {', '.join(sorted(unknown))}; known: {', '.join(PARTS)}")
    missing = [e for e in ("flannel-vxlan", "host-gw", "swift-flanneld") if not os.access(os.path.join(B.OURS_DIR, e), os.X_OK)]
    if missing:
        out["skipped"] = f"missing {', '.join(missing)} in {B.OURS_DIR}"
        return
    t0 = time.time()
    try:
        addr = Addr()
        out["underlay"], out["network"] = f"10.{addr.u}.0.0/16", addr.network
        UL = ns_add("ul")
        B.sh("ip", "-n", UL, "link", "add", "br0", "type", "bridge")
        B.sh("ip", "-n", UL, "link", "set", "br0", "up")
        v4_agents = "convergence" in X_ONLY or "reconcile" in X_ONLY
        ds_agents = "ds_convergence" in X_ONLY or "ds_reconcile" in X_ONLY
        etcd = None
        if not (v4_agents or ds_agents):
            pass
        elif shutil.which("etcd"):
            os.makedirs(os.path.join(TMP, "etcd"), exist_ok=True)
            etcd = Etcd(addr, os.path.join(TMP, "etcd"))
            out["etcd"] = B.sh("etcd", "--version", check=False).stdout.split("\n")[0]
        else:
            out["etcd"] = "not installed: etcd figures skipped"
        # IPv4-only observers (nodes 1-4), then, on their own, the dual-stack ones (nodes 21-24)
        for dual, want, k0 in ((False, v4_agents, 1), (True, ds_agents, 21)):
            if not want:
                continue
            if dual:
                out["network6"], out["underlay6"] = addr.network6, f"fd5c:{addr.u:x}::/64"
            obs = observers(addr, etcd, dual, k0)
            for o in obs:
                o.start_agent()
            for o in obs:
                o.wait_ready()
            pre = "ds_" if dual else ""
            if pre + "convergence" in X_ONLY:
                bench_convergence(obs, addr, out, pre + "convergence")
            if pre + "reconcile" in X_ONLY:
                bench_reconcile(obs, addr, out, pre + "reconcile")
            for o in obs:
                stop(o.agent)
                o.listener.close()
        if "dataplane" in X_ONLY:
            bench_dataplane(addr, out)
        if "ds_dataplane" in X_ONLY:
            import cross_ds
            cross_ds.bench_dataplane_ds(sys.modules[__name__], addr, out)
    finally:
        cleanup()
    out["duration_s"] = round(time.time() - t0, 1)
