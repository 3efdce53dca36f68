#!/usr/bin/env python3
"""swift-cni benchmark: our plugins against the reference Go plugins, same machine, same run.

Run through bench/run.sh (`make bench`), which builds the exec timer and the libcni driver and
removes every namespace of this run on exit. Everything happens in network namespaces named
with this run's prefix ($BENCH_PREFIX, e.g. bn1234); the machine's own namespace is never
changed. Measurements are interleaved (ours, ref, ours, ref, ... with the order alternating
per iteration) so that drift of a noisy machine hits both.

Environment (all optional):
  BENCH_BIN       our plugins (default .build/cni-bin, what make build assembles)
  BENCH_REF       reference plugins (default /usr/lib/cni)
  BENCH_RUNS      iterations per latency figure (default 50)
  BENCH_GROWTH    containers in the growth test (default 250)
  BENCH_PAR       parallel ADDs in the concurrency test (default 32)
  BENCH_PAR_ROUNDS rounds of the concurrency test (default 7)
  BENCH_DP_ROUNDS rounds of each dataplane figure (default 5)
  BENCH_DP_SECS   seconds per iperf3 run (default 3)
  BENCH_ONLY      comma list of sections to run: latency,growth,concurrency,start,dataplane,cross
  BENCH_XPREFIX   namespace prefix of the cross-host section (default bx<pid>; see bench/cross.py
                  for its own knobs, BENCH_X_*)
  BENCH_OUT       output directory (default bench/)
  BENCH_MERGE     1: merge this run's sections into the existing $BENCH_OUT/results.json instead of
                  replacing it (bench/merge.py; e.g. BENCH_ONLY=cross BENCH_X_ONLY=dataplane)

Statistics: median and p90 (nearest rank) of each series; ratio = ours median / reference
median.
"""

import json
import math
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH_DIR)
PFX = os.environ.get("BENCH_PREFIX") or f"bn{os.getpid()}"
OURS_DIR = os.path.abspath(os.environ.get("BENCH_BIN") or os.path.join(REPO, ".build/cni-bin"))
REF_DIR = os.environ.get("BENCH_REF") or "/usr/lib/cni"
DRIVER = os.environ.get("BENCH_DRIVER") or os.path.join(REPO, "integration/bin/driver")
TIMER = os.environ.get("BENCH_TIMER") or os.path.join(BENCH_DIR, ".bin/exectimer")
OUT_DIR = os.environ.get("BENCH_OUT") or BENCH_DIR
RUNS = int(os.environ.get("BENCH_RUNS", "50"))
GROWTH = int(os.environ.get("BENCH_GROWTH", "250"))
PAR = int(os.environ.get("BENCH_PAR", "32"))
PAR_ROUNDS = int(os.environ.get("BENCH_PAR_ROUNDS", "7"))
DP_ROUNDS = int(os.environ.get("BENCH_DP_ROUNDS", "5"))
DP_SECS = int(os.environ.get("BENCH_DP_SECS", "3"))
ONLY = set(filter(None, os.environ.get("BENCH_ONLY", "").split(",")))
MERGE = os.environ.get("BENCH_MERGE") == "1"
PATH_ENV = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
GROWTH_EDGE = 20

CREATED_NETNS = []
BG_PROCS = []
TMP = None


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def want(section):
    return not ONLY or section in ONLY


# ------------------------------------------------------------------ statistics

def p90(xs):
    s = sorted(xs)
    return s[max(0, math.ceil(0.9 * len(s)) - 1)]


def summary(xs):
    if not xs:
        return None
    return {"n": len(xs), "median": statistics.median(xs), "p90": p90(xs),
            "min": min(xs), "max": max(xs)}


def ratio(a, b):
    if not a or not b or not b["median"]:
        return None
    return a["median"] / b["median"]


# ------------------------------------------------------------------ processes and namespaces

def sh(*argv, check=True, **kw):
    r = subprocess.run(list(argv), capture_output=True, text=True, **kw)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({r.returncode}): {r.stderr.strip()}")
    return r


def netns_add(name):
    sh("ip", "netns", "add", name)
    CREATED_NETNS.append(name)
    return name


def netns_del(*names):
    for n in names:
        subprocess.run(["ip", "netns", "del", n], capture_output=True)
        if n in CREATED_NETNS:
            CREATED_NETNS.remove(n)


def ns_path(name):
    return f"/run/netns/{name}"


def kill_ns_processes(name):
    r = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True)
    for pid in r.stdout.split():
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass


def cleanup():
    if "cross" in sys.modules:  # its agents and etcd stop before its namespaces go
        sys.modules["cross"].cleanup()
    for p in BG_PROCS:
        if p.poll() is None:
            p.kill()
            p.wait()
    for n in list(CREATED_NETNS):
        kill_ns_processes(n)
        netns_del(n)
    r = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    for line in r.stdout.splitlines():
        n = line.split()[0] if line.split() else ""
        if n.startswith(PFX + "-"):
            kill_ns_processes(n)
            netns_del(n)
    if TMP and os.path.isdir(TMP):
        shutil.rmtree(TMP, ignore_errors=True)


TIMER_RE = re.compile(r"(\w+)=(-?\d+)")


def timed(argv, netns=None, env=None, stdin=None, out=None, err=None, start_at=None, popen=False):
    """Runs argv under the exec timer; returns dict(ms, rc, maxrss_kb, start, end) (or the
    Popen when popen=True, to be finished with finish())."""
    cmd = [TIMER]
    if netns:
        cmd += ["-n", ns_path(netns)]
    if stdin:
        cmd += ["-i", stdin]
    cmd += ["-o", out or "/dev/null", "-e", err or "/dev/null"]
    if start_at:
        cmd += ["-a", str(start_at)]
    cmd += ["--"] + list(argv)
    p = subprocess.Popen(cmd, env=env if env is not None else {"PATH": PATH_ENV},
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if popen:
        return p
    return finish(p)


def finish(p):
    o, e = p.communicate()
    if p.returncode != 0:
        raise RuntimeError(f"exec timer failed: {e.strip()}")
    d = {k: int(v) for k, v in TIMER_RE.findall(o)}
    d["ms"] = d["ns"] / 1e6
    return d


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return ""


# ------------------------------------------------------------------ implementations and configs

class Impl:
    """One plugin set with its own node namespace (so rules and bridges of the two sets never
    meet)."""

    def __init__(self, key, label, plugins_dir, tag=None):
        self.key, self.label, self.dir = key, label, plugins_dir
        self.tag = tag or key  # names of namespaces and directories
        self.node = netns_add(f"{PFX}-{self.tag}n")
        sh("ip", "-n", self.node, "link", "set", "lo", "up")
        self.root = os.path.join(TMP, self.tag)
        self.conf_dir = os.path.join(self.root, "conf")
        self.data_dir = os.path.join(self.root, "ipam")
        self.cache_dir = os.path.join(self.root, "cache")
        self.io = os.path.join(self.root, "io")
        for d in (self.conf_dir, self.data_dir, self.cache_dir, self.io):
            os.makedirs(d, exist_ok=True)
        self.ctr_n = 0

    def new_ctr(self):
        self.ctr_n += 1
        return netns_add(f"{PFX}-{self.tag}{self.ctr_n}")


class Net:
    """A network (one bridge) derived from cni-conf/10-bridge.conflist."""

    def __init__(self, name, idx, masq, dual):
        self.name, self.masq, self.dual = name, masq, dual
        self.bridge = f"{PFX[:8]}b{idx}"
        self.subnet4 = f"10.{100 + idx}.0.0/16"
        self.subnet6 = f"fd00:{100 + idx}::/64" if dual else None

    def conflist(self, impl):
        with open(os.path.join(REPO, "cni-conf/10-bridge.conflist")) as f:
            c = json.load(f)
        c["name"] = self.name
        b = c["plugins"][0]
        b["bridge"] = self.bridge
        b["ipMasq"] = self.masq
        ranges = [[{"subnet": self.subnet4}]]
        routes = [{"dst": "0.0.0.0/0"}]
        if self.dual:
            ranges.append([{"subnet": self.subnet6}])
            routes.append({"dst": "::/0"})
        b["ipam"]["ranges"] = ranges
        b["ipam"]["routes"] = routes
        b["ipam"]["dataDir"] = impl.data_dir
        return c

    def install(self, impl):
        c = self.conflist(impl)
        with open(os.path.join(impl.conf_dir, self.name + ".conflist"), "w") as f:
            json.dump(c, f, indent=1)
        # what libcni hands the plugin on ADD: the plugin's config plus name and cniVersion
        plugin = dict(c["plugins"][0])
        plugin["name"] = c["name"]
        plugin["cniVersion"] = c["cniVersion"]
        self.plugin_conf = plugin
        return c


def plugin_env(impl, cmd, cid, netns, ifname="eth0"):
    return {"PATH": PATH_ENV, "CNI_COMMAND": cmd, "CNI_CONTAINERID": cid,
            "CNI_NETNS": ns_path(netns) if netns else "", "CNI_IFNAME": ifname,
            "CNI_ARGS": "", "CNI_PATH": impl.dir}


def driver_env(impl, cid):
    return {"PATH": PATH_ENV, "NETCONFPATH": impl.conf_dir, "CNI_PATH": impl.dir,
            "CNI_CACHE_DIR": impl.cache_dir, "CNI_CONTAINERID": cid, "DRIVER_TIMEOUT": "60"}


class Attachment:
    def __init__(self, impl, net, ctr):
        self.impl, self.net, self.ctr, self.cid = impl, net, ctr, ctr
        self.result = None


def op(att, cmd, mode, start_at=None, popen=False):
    """ADD or DEL of one attachment, by plugin exec ('exec') or through the libcni driver
    ('driver'). Returns the timer record (with 'out'/'err' paths)."""
    impl, net = att.impl, att.net
    tag = f"{att.ctr}-{cmd}"
    out, err = os.path.join(impl.io, tag + ".out"), os.path.join(impl.io, tag + ".err")
    if mode == "exec":
        conf = dict(net.plugin_conf)
        if cmd == "DEL" and att.result is not None:
            conf["prevResult"] = att.result
        stdin = os.path.join(impl.io, tag + ".in")
        with open(stdin, "w") as f:
            json.dump(conf, f)
        p = timed([os.path.join(impl.dir, "bridge")], netns=impl.node,
                  env=plugin_env(impl, cmd, att.cid, att.ctr), stdin=stdin, out=out, err=err,
                  start_at=start_at, popen=True)
    else:
        p = timed([DRIVER, cmd.lower(), net.name, ns_path(att.ctr)], netns=impl.node,
                  env=driver_env(impl, att.cid), out=out, err=err, start_at=start_at, popen=True)
    if popen:
        return (p, att, cmd, out, err)
    return settle((p, att, cmd, out, err))


def settle(pending):
    p, att, cmd, out, err = pending
    r = finish(p)
    r["out"], r["err"] = out, err
    if cmd == "ADD" and r["rc"] == 0:
        try:
            att.result = json.loads(read(out))
        except ValueError:
            att.result = None
    return r


def must(r, what):
    if r["rc"] != 0:
        raise RuntimeError(f"{what} failed (rc {r['rc']}): {read(r['out'])[-800:]} {read(r['err'])[-800:]}")
    return r


def result_ips(att):
    if not att.result:
        return []
    return [ip["address"].split("/")[0] for ip in att.result.get("ips", [])]


# ------------------------------------------------------------------ kernel floor

class Floor:
    """The kernel's own cost of deleting a veth made like the plugins make theirs: created in
    a container namespace with its peer in a node namespace, host end on a bridge and up,
    container end up with the same addresses and default route(s)."""

    def __init__(self):
        self.node = netns_add(f"{PFX}-fn")
        sh("ip", "-n", self.node, "link", "set", "lo", "up")
        self.bridge = f"{PFX[:8]}fb"
        sh("ip", "-n", self.node, "link", "add", self.bridge, "type", "bridge")
        sh("ip", "-n", self.node, "addr", "add", "10.99.0.1/16", "dev", self.bridge)
        sh("ip", "-n", self.node, "-6", "addr", "add", "fd00:99::1/64", "dev", self.bridge, "nodad")
        sh("ip", "-n", self.node, "link", "set", self.bridge, "up")
        self.n = 0

    def prepare(self, dual):
        """Makes one floor veth; deleted later by delete(), in the same phase as the plugins'
        DELs (a floor measured after a quiet pause would be lower than what any DEL in the
        iteration could reach: the previous iteration's namespace clean-ups run in the kernel
        meanwhile and compete for the same RTNL lock and RCU grace periods)."""
        self.n += 1
        ctr = netns_add(f"{PFX}-f{self.n}")
        host = f"veth{PFX[-4:]}{self.n % 10000:04d}"
        sh("ip", "-n", ctr, "link", "add", "eth0", "type", "veth", "peer", "name", host,
           "netns", self.node)
        sh("ip", "-n", self.node, "link", "set", host, "master", self.bridge)
        sh("ip", "-n", self.node, "link", "set", host, "type", "bridge_slave", "hairpin", "on")
        sh("ip", "-n", self.node, "link", "set", host, "up")
        a = self.n % 60000 + 2
        sh("ip", "-n", ctr, "addr", "add", f"10.99.{a // 256}.{a % 256}/16", "dev", "eth0")
        if dual:
            sh("ip", "netns", "exec", ctr, "sysctl", "-qw", "net.ipv6.conf.eth0.accept_dad=0")
            sh("ip", "-n", ctr, "-6", "addr", "add", f"fd00:99::{a:x}/64", "dev", "eth0", "nodad")
        sh("ip", "-n", ctr, "link", "set", "eth0", "up")
        sh("ip", "-n", ctr, "route", "add", "default", "via", "10.99.0.1")
        if dual:
            sh("ip", "-n", ctr, "-6", "route", "add", "default", "via", "fd00:99::1")
        return ctr

    def delete(self, ctr):
        r = timed(["/usr/sbin/ip", "link", "del", "eth0"], netns=ctr)
        if r["rc"] != 0:
            raise RuntimeError("ip link del eth0 failed in floor namespace")
        return r["ms"]


# ------------------------------------------------------------------ 1. latency

LAT_NETS = [("v4", False, False), ("v4-masq", True, False), ("dual", False, True), ("dual-masq", True, True)]


def bench_latency(impls, floor, R):
    log(f"== 1. ADD/DEL latency: {RUNS} runs per figure, fresh container netns each")
    out = {}
    for idx, (name, masq, dual) in enumerate(LAT_NETS):
        net = Net(name, idx, masq, dual)
        for impl in impls:
            net.install(impl)
        for mode in ("exec", "driver"):
            series = {f"{i.key}_{o}": [] for i in impls for o in ("add", "del")}
            series["floor_del"] = []
            rss = {i.key: [] for i in impls}
            # warm-up: creates the bridge, the nft table / iptables chains, page cache
            for w in range(3):
                for impl in impls:
                    att = Attachment(impl, net, impl.new_ctr())
                    must(op(att, "ADD", mode), f"warm-up ADD {impl.key} {name}")
                    must(op(att, "DEL", mode), f"warm-up DEL {impl.key} {name}")
                    netns_del(att.ctr)
            for i in range(RUNS):
                order = impls if i % 2 == 0 else impls[::-1]
                atts = [Attachment(impl, net, impl.new_ctr()) for impl in order]
                floor_ctr = floor.prepare(dual)
                for a in atts:
                    r = must(op(a, "ADD", mode), f"ADD {a.impl.key} {name} {mode}")
                    series[f"{a.impl.key}_add"].append(r["ms"])
                    rss[a.impl.key].append(r["maxrss_kb"])
                # the floor's deletion takes turns with the two DELs (first, middle, last)
                deleters = [("floor", None)] + [(a.impl.key, a) for a in atts]
                shift = i % 3
                for key, a in deleters[shift:] + deleters[:shift]:
                    if a is None:
                        series["floor_del"].append(floor.delete(floor_ctr))
                        continue
                    r = must(op(a, "DEL", mode), f"DEL {a.impl.key} {name} {mode}")
                    series[f"{a.impl.key}_del"].append(r["ms"])
                netns_del(floor_ctr, *[a.ctr for a in atts])
            key = f"{name}/{mode}"
            out[key] = {k: {"summary": summary(v), "samples_ms": [round(x, 3) for x in v]}
                        for k, v in series.items()}
            out[key]["maxrss_kb"] = {k: summary(v) for k, v in rss.items()}
            s = {k: summary(v) for k, v in series.items()}
            log(f"  {key:22s} ADD ours {s['ours_add']['median']:7.2f} ref {s['ref_add']['median']:7.2f}"
                f" | DEL ours {s['ours_del']['median']:7.2f} ref {s['ref_del']['median']:7.2f}"
                f" floor {s['floor_del']['median']:7.2f} ms")
    R["latency"] = out


# ------------------------------------------------------------------ 2. growth

def bench_growth(impls, R):
    log(f"== 2. growth: {GROWTH} containers on one bridge, ipMasq, plugin exec")
    net = Net("grow", 10, True, False)
    for impl in impls:
        net.install(impl)
    adds = {i.key: [] for i in impls}
    dels = {i.key: [] for i in impls}
    atts = {i.key: [] for i in impls}
    for k in range(GROWTH):
        order = impls if k % 2 == 0 else impls[::-1]
        for impl in order:
            a = Attachment(impl, net, impl.new_ctr())
            r = must(op(a, "ADD", "exec"), f"growth ADD #{k} {impl.key}")
            adds[impl.key].append(r["ms"])
            atts[impl.key].append(a)
        if (k + 1) % 50 == 0:
            log(f"  {k + 1} containers")
    # DEL newest first: the last GROWTH_EDGE containers are deleted at full population,
    # the first GROWTH_EDGE at the smallest.
    for k in reversed(range(GROWTH)):
        order = impls if k % 2 == 0 else impls[::-1]
        for impl in order:
            a = atts[impl.key][k]
            r = must(op(a, "DEL", "exec"), f"growth DEL #{k} {impl.key}")
            dels[impl.key].insert(0, r["ms"])
            netns_del(a.ctr)
    out = {}
    e = GROWTH_EDGE
    for impl in impls:
        k = impl.key
        out[k] = {
            "add_first": summary(adds[k][:e]), "add_last": summary(adds[k][-e:]),
            "del_first": summary(dels[k][:e]), "del_last": summary(dels[k][-e:]),
            "add_samples_ms": [round(x, 3) for x in adds[k]],
            "del_samples_ms": [round(x, 3) for x in dels[k]],
        }
        o = out[k]
        o["add_growth"] = o["add_last"]["median"] / o["add_first"]["median"]
        o["del_growth"] = o["del_last"]["median"] / o["del_first"]["median"]
        log(f"  {k}: ADD first {o['add_first']['median']:.2f} last {o['add_last']['median']:.2f}"
            f" (x{o['add_growth']:.2f}); DEL first {o['del_first']['median']:.2f}"
            f" last {o['del_last']['median']:.2f} (x{o['del_growth']:.2f}) ms")
    R["growth"] = out


# ------------------------------------------------------------------ 3. concurrency

def parallel(atts, cmd):
    start_at = time.clock_gettime_ns(time.CLOCK_MONOTONIC) + 400_000_000  # all timers set up
    pend = [op(a, cmd, "driver", start_at=start_at, popen=True) for a in atts]
    rs = [settle(p) for p in pend]
    wall = (max(r["end"] for r in rs) - min(r["start"] for r in rs)) / 1e6
    errors = [r for r in rs if r["rc"] != 0]
    return wall, rs, errors


def bench_concurrency(impls, R):
    log(f"== 3. concurrency: {PAR} parallel ADDs then DELs through libcni, ipMasq, {PAR_ROUNDS} rounds")
    net = Net("par", 11, True, False)
    for impl in impls:
        net.install(impl)
        # bridge and masquerade table exist before the first round, as on a running node
        a = Attachment(impl, net, impl.new_ctr())
        must(op(a, "ADD", "driver"), "concurrency warm-up ADD")
        must(op(a, "DEL", "driver"), "concurrency warm-up DEL")
        netns_del(a.ctr)
    res = {i.key: {"add_wall": [], "del_wall": [], "add_errors": 0, "del_errors": 0,
                   "distinct_ips": [], "left_veths": [], "left_ip_files": [], "error_msgs": []}
           for i in impls}
    for rnd in range(PAR_ROUNDS):
        order = impls if rnd % 2 == 0 else impls[::-1]
        for impl in order:
            atts = [Attachment(impl, net, impl.new_ctr()) for _ in range(PAR)]
            x = res[impl.key]
            wall, rs, errs = parallel(atts, "ADD")
            x["add_wall"].append(wall)
            x["add_errors"] += len(errs)
            x["error_msgs"] += [read(r["err"]).strip().splitlines()[-1:] for r in errs][:3]
            ips = set()
            for a in atts:
                ips.update(result_ips(a))
            x["distinct_ips"].append(len(ips))
            wall, rs, errs = parallel(atts, "DEL")
            x["del_wall"].append(wall)
            x["del_errors"] += len(errs)
            x["error_msgs"] += [read(r["err"]).strip().splitlines()[-1:] for r in errs][:3]
            veths = sh("ip", "-n", impl.node, "-o", "link", "show", "type", "veth").stdout.strip()
            x["left_veths"].append(len(veths.splitlines()) if veths else 0)
            d = os.path.join(impl.data_dir, net.name)
            files = [f for f in os.listdir(d) if not f.startswith("last_reserved_ip") and f != "lock"] \
                if os.path.isdir(d) else []
            x["left_ip_files"].append(len(files))
            netns_del(*[a.ctr for a in atts])
            log(f"  round {rnd + 1} {impl.key}: ADD wall {x['add_wall'][-1]:.1f} ms, DEL wall {wall:.1f} ms,"
                f" distinct IPs {len(ips)}, errors so far {x['add_errors']}+{x['del_errors']}")
    out = {}
    for k, x in res.items():
        out[k] = dict(x)
        out[k]["add_wall"] = summary(x["add_wall"])
        out[k]["del_wall"] = summary(x["del_wall"])
        out[k]["add_wall_samples_ms"] = [round(v, 2) for v in x["add_wall"]]
        out[k]["del_wall_samples_ms"] = [round(v, 2) for v in x["del_wall"]]
    R["concurrency"] = out


# ------------------------------------------------------------------ 4. process start

def bench_start(impls, R):
    log("== 4. process start: VERSION round trip, binary size, peak RSS")
    vin = os.path.join(TMP, "version.in")
    with open(vin, "w") as f:
        f.write('{"cniVersion":"1.0.0"}')
    out = {"version_ms": {}, "size_bytes": {}, "stripped_bytes": {}, "version_maxrss_kb": {}}
    for plugin in ("bridge", "host-local", "loopback"):
        series = {i.key: [] for i in impls}
        rss = {i.key: [] for i in impls}
        for w in range(3 + RUNS + 10):
            order = impls if w % 2 == 0 else impls[::-1]
            for impl in order:
                r = timed([os.path.join(impl.dir, plugin)], env={"PATH": PATH_ENV, "CNI_COMMAND": "VERSION"},
                          stdin=vin)
                if r["rc"] != 0:
                    raise RuntimeError(f"VERSION {impl.key} {plugin} failed")
                if w >= 3:
                    series[impl.key].append(r["ms"])
                    rss[impl.key].append(r["maxrss_kb"])
        out["version_ms"][plugin] = {k: summary(v) for k, v in series.items()}
        out["version_maxrss_kb"][plugin] = {k: summary(v) for k, v in rss.items()}
        out["size_bytes"][plugin] = {}
        out["stripped_bytes"][plugin] = {}
        for impl in impls:
            path = os.path.join(impl.dir, plugin)
            out["size_bytes"][plugin][impl.key] = os.path.getsize(os.path.realpath(path))
            s = os.path.join(TMP, f"strip-{impl.key}-{plugin}")
            if subprocess.run(["strip", "-o", s, path], capture_output=True).returncode == 0:
                out["stripped_bytes"][plugin][impl.key] = os.path.getsize(s)
                os.unlink(s)
        v = out["version_ms"][plugin]
        log(f"  {plugin}: VERSION ours {v['ours']['median']:.2f} ref {v['ref']['median']:.2f} ms")
    R["start"] = out


# ------------------------------------------------------------------ 6. dataplane

def iperf(client_ns, server_ip, streams):
    r = sh("ip", "netns", "exec", client_ns, "iperf3", "-c", server_ip, "-t", str(DP_SECS), "-P", str(streams),
           "-J", check=False, timeout=DP_SECS + 30)
    try:
        j = json.loads(r.stdout)
        return j["end"]["sum_received"]["bits_per_second"] / 1e9
    except (ValueError, KeyError):
        raise RuntimeError(f"iperf3 to {server_ip} from {client_ns} failed: {r.stdout[-400:]} {r.stderr[-400:]}")


def ping_rtts(client_ns, ip):
    r = sh("ip", "netns", "exec", client_ns, "ping", "-n", "-c", "50", "-i", "0.01", ip, check=False, timeout=30)
    return [float(m) for m in re.findall(r"time=([\d.]+) ms", r.stdout)]


def bench_dataplane(R):
    log(f"== 6. dataplane: iperf3 ({DP_SECS}s, 1 and 4 streams) and ping, {DP_ROUNDS} rounds")
    if not shutil.which("iperf3"):
        R["dataplane"] = {"skipped": "iperf3 not installed"}
        return
    # Fresh nodes, the shipped conflist (ipMasq on): with bridge-nf-call-iptables=1 (the
    # default here) bridged traffic passes the node's netfilter hooks, so each side is
    # measured with exactly the rules its own plugin installs.
    impls = [Impl("ours", "swift-cni", OURS_DIR, tag="od"), Impl("ref", "reference", REF_DIR, tag="rd")]
    net = Net("dp", 12, True, False)
    pairs = {}
    for impl in impls:
        net.install(impl)
        a = Attachment(impl, net, impl.new_ctr())
        b = Attachment(impl, net, impl.new_ctr())
        must(op(a, "ADD", "driver"), "dataplane ADD")
        must(op(b, "ADD", "driver"), "dataplane ADD")
        pairs[impl.key] = (a.ctr, b.ctr, result_ips(a)[0], result_ips(b)[0])
    # the ceiling: a bare veth between two namespaces
    va, vb = netns_add(f"{PFX}-va"), netns_add(f"{PFX}-vb")
    sh("ip", "-n", va, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", vb)
    sh("ip", "-n", va, "addr", "add", "10.98.0.1/24", "dev", "eth0")
    sh("ip", "-n", vb, "addr", "add", "10.98.0.2/24", "dev", "eth0")
    for n in (va, vb):
        sh("ip", "-n", n, "link", "set", "eth0", "up")
        sh("ip", "-n", n, "link", "set", "lo", "up")
    pairs["veth"] = (va, vb, "10.98.0.1", "10.98.0.2")
    for key, (srv, cli, sip, cip) in pairs.items():
        p = subprocess.Popen(["ip", "netns", "exec", srv, "iperf3", "-s", "-B", sip],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        BG_PROCS.append(p)
    time.sleep(0.5)
    for key, (srv, cli, sip, cip) in pairs.items():  # ARP, first connection
        ping_rtts(cli, sip)
    keys = list(pairs)
    res = {k: {"tcp1_gbps": [], "tcp4_gbps": [], "rtt_ms": []} for k in keys}
    for rnd in range(DP_ROUNDS):
        order = keys if rnd % 2 == 0 else keys[::-1]
        for k in order:
            srv, cli, sip, _ = pairs[k]
            res[k]["tcp1_gbps"].append(iperf(cli, sip, 1))
        for k in order:
            srv, cli, sip, _ = pairs[k]
            res[k]["tcp4_gbps"].append(iperf(cli, sip, 4))
        for k in order:
            srv, cli, sip, _ = pairs[k]
            res[k]["rtt_ms"] += ping_rtts(cli, sip)
        log(f"  round {rnd + 1}: " + ", ".join(f"{k} {res[k]['tcp1_gbps'][-1]:.1f}/{res[k]['tcp4_gbps'][-1]:.1f} Gbit/s"
                                                for k in keys))
    for p in BG_PROCS:
        p.kill()
        p.wait()
    BG_PROCS.clear()
    out = {}
    for k, x in res.items():
        out[k] = {m: summary(v) for m, v in x.items()}
        out[k]["samples"] = {m: [round(s, 3) for s in v] for m, v in x.items() if m != "rtt_ms"}
    R["dataplane"] = out


# ------------------------------------------------------------------ cross-host

def bench_cross(R):
    sys.path.insert(0, BENCH_DIR)
    import cross
    cross.run(sys.modules[__name__], R, TMP)


# ------------------------------------------------------------------ machine

def machine():
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    ref_ver = sh("dpkg-query", "-W", "-f=${Version}", "containernetworking-plugins", check=False).stdout.strip()
    commit = sh("git", "-C", REPO, "rev-parse", "--short", "HEAD", check=False).stdout.strip()
    dirty = sh("git", "-C", REPO, "status", "--porcelain", "--untracked-files=no", "--", "Sources", "Package.swift",
               check=False).stdout.strip()
    iperf_ver = sh("iperf3", "--version", check=False).stdout.split("\n")[0] if shutil.which("iperf3") else ""
    return {"nproc": os.cpu_count(), "model_name": model, "kernel": platform.release(),
            "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "ours_dir": OURS_DIR, "ref_dir": REF_DIR,
            "ref_version": f"containernetworking-plugins {ref_ver}",
            "ours_commit": commit + ("+uncommitted Sources changes" if dirty else ""),
            "iperf3": iperf_ver, "runs": RUNS, "growth_containers": GROWTH, "parallel": PAR,
            "loadavg_start": open("/proc/loadavg").read().split()[:3]}


def main():
    global TMP
    if os.geteuid() != 0:
        sys.exit("bench: must run as root (network namespaces)")
    for f in (TIMER, DRIVER):
        if not os.access(f, os.X_OK):
            sys.exit(f"bench: missing {f} (run bench/run.sh)")
    for d in (OURS_DIR, REF_DIR):
        for p in ("bridge", "host-local", "loopback"):
            if not os.access(os.path.join(d, p), os.X_OK):
                sys.exit(f"bench: missing plugin {d}/{p}")

    def on_signal(sig, _frame):
        raise KeyboardInterrupt(f"signal {sig}")

    signal.signal(signal.SIGTERM, on_signal)
    TMP = tempfile.mkdtemp(prefix=f"{PFX}.")
    R = {"machine": machine()}
    t0 = time.time()
    log(f"bench: prefix {PFX}, ours {OURS_DIR}, reference {REF_DIR}, temp {TMP}")
    try:
        impls = [Impl("ours", "swift-cni", OURS_DIR), Impl("ref", "reference", REF_DIR)]
        floor = Floor()
        if want("start"):
            bench_start(impls, R)
        if want("latency"):
            bench_latency(impls, floor, R)
        if want("concurrency"):
            bench_concurrency(impls, R)
        if want("growth"):
            bench_growth(impls, R)
        if want("dataplane"):
            bench_dataplane(R)
        if want("cross"):
            bench_cross(R)
        R["machine"]["duration_s"] = round(time.time() - t0, 1)
        R["machine"]["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    finally:
        cleanup()
    os.makedirs(OUT_DIR, exist_ok=True)
    sys.path.insert(0, BENCH_DIR)
    dur = R["machine"]["duration_s"]
    if MERGE and os.path.exists(os.path.join(OUT_DIR, "results.json")):
        import merge
        with open(os.path.join(OUT_DIR, "results.json")) as f:
            R = merge.merge(json.load(f), R)
    with open(os.path.join(OUT_DIR, "results.json"), "w") as f:
        json.dump(R, f, indent=1)
        f.write("\n")
    import report
    with open(os.path.join(OUT_DIR, "results.md"), "w") as f:
        f.write(report.render(R))
    log(f"bench: wrote {OUT_DIR}/results.md and results.json in {dur} s" + (" (merged)" if MERGE else ""))


if __name__ == "__main__":
    main()
