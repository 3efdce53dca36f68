"""Dual-stack dataplane across nodes (cross-host part `ds_dataplane`, bench/cross.py runs it):
per backend (vxlan, host-gw; BENCH_X_DS_BACKENDS) two dual-stack nodes with their agents
(directory registry, config with EnableIPv6) and one container each, attached by our CNI face;
each container gets an IPv4 and an IPv6 address. In the same rounds, interleaved: iperf3
(1 and 4 TCP streams) and ping, container to container, over IPv4 and over IPv6, next to the
bare underlay over each family (node eth0 to node eth0) as the ceiling. The v6 overlay of
vxlan goes through flannel-v6.1 (VXLAN over the IPv6 underlay); host-gw routes the peer's v6
subnet via its PublicIPv6.
"""

import json
import os
import subprocess
import time

# backend -> (first node index, conflist, network name, CNI plugin)
DS_DP = {
    "vxlan": (31, "30-flannel-vxlan.conflist", "cbr0", "flannel-vxlan"),
    "host-gw": (33, "31-host-gw.conflist", "cbr0-hostgw", "host-gw"),
}


def ds_pair(X, addr, key):
    """Two dual-stack nodes of backend `key` and a container on each: returns
    {"v4": (server ns, client ns, server IPv4), "v6": (... IPv6)}, the nodes, and the
    server container's eth0 MTU."""
    k0, conf, name, _ = DS_DP[key]
    reg = X.DirRegistry(os.path.join(X.TMP, f"dsdp-{key}"))
    reg.put_config(json.dumps({"Network": f"10.{addr.c + 3}.0.0/16", "SubnetLen": 24, "EnableIPv6": True,
                               "IPv6Network": f"fd00:{addr.c + 3:x}::/48", "IPv6SubnetLen": 64,
                               "Backend": {"Type": key}}))
    nodes = [X.Node(addr, k, key, reg, f"dsdp-{key}", listen=False, dual=True) for k in (k0, k0 + 1)]
    for n in nodes:
        n.start_agent()
    for n in nodes:
        n.wait_ready()
    ca, ips_a = X.attach_ctr(nodes[0], conf, name, f"n{k0}c", all_ips=True)
    cb, ips_b = X.attach_ctr(nodes[1], conf, name, f"n{k0 + 1}c", all_ips=True)
    v4 = [ip for ip in ips_b if ":" not in ip]
    v6 = [ip for ip in ips_b if ":" in ip]
    if not v4 or not v6:
        raise RuntimeError(f"ds dataplane {key}: container got {ips_b}, want an IPv4 and an IPv6 address")
    return {"v4": (cb, ca, v4[0]), "v6": (cb, ca, v6[0])}, nodes


def reachable(B, cns, ip, timeout=10):
    """ping answers within timeout (an IPv6 address may still be tentative right after ADD)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if B.ping_rtts(cns, ip):
            return True
        time.sleep(0.3)
    return False


def bench_dataplane_ds(X, addr, R):
    B = X.B
    keys = [k for k in X.DS_DP_BACKENDS]
    if set(keys) - set(DS_DP):
        raise RuntimeError(f"BENCH_X_DS_BACKENDS {','.join(keys)}: pick from {', '.join(DS_DP)}")
    X.log(f"== 5c-ds. dual-stack dataplane across nodes ({', '.join(keys)}): iperf3 ({X.DP_SECS}s, 1 and 4 streams)"
          f" + ping, IPv4 and IPv6, {X.DP_ROUNDS} rounds")
    import shutil
    if not shutil.which("iperf3"):
        R["ds_dataplane"] = {"skipped": "iperf3 not installed"}
        return
    out = {"skipped_backends": {}}
    for k in list(keys):
        if not os.access(os.path.join(B.OURS_DIR, DS_DP[k][3]), os.X_OK):
            out["skipped_backends"][k] = f"no {DS_DP[k][3]} in {B.OURS_DIR}"
            keys.remove(k)
    pairs, nodes = {}, []
    for key in keys:
        fams, ns = ds_pair(X, addr, key)
        nodes += ns
        for fam, t in fams.items():
            pairs[f"{key}/{fam}"] = t
    if nodes:  # the ceiling: node eth0 to node eth0, each family
        pairs["underlay/v4"] = (nodes[1].ns, nodes[0].ns, nodes[1].ip)
        pairs["underlay/v6"] = (nodes[1].ns, nodes[0].ns, nodes[1].ip6)
    srv = []
    for sns in dict.fromkeys(t[0] for t in pairs.values()):  # one server per netns, both families
        p = subprocess.Popen(["ip", "netns", "exec", sns, "iperf3", "-s"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        X.PROCS.append(p)
        srv.append(p)
    time.sleep(0.5)
    for key, (sns, cns, sip) in pairs.items():
        if not reachable(B, cns, sip):
            raise RuntimeError(f"ds dataplane {key}: no ping answer from {sip}")
    # v6 overlay traffic of vxlan must go through flannel-v6.1: its tx counter moves
    dev6 = {}
    for n in nodes:
        if n.backend == "vxlan":
            dev6[n.ns] = X.DEV6
    out["v6_device_tx_bytes_before"] = {ns: tx_bytes(B, ns, d) for ns, d in dev6.items()}
    res = X.dp_rounds(pairs)
    out["v6_device_tx_bytes_after"] = {ns: tx_bytes(B, ns, d) for ns, d in dev6.items()}
    # the vxlan client node sent the v6 rounds' bytes through flannel-v6.1 (VXLAN over IPv6)
    sent = [(out["v6_device_tx_bytes_after"].get(n.ns) or 0) - (out["v6_device_tx_bytes_before"].get(n.ns) or 0)
            for n in nodes[:1] if n.backend == "vxlan"]
    if sent:
        out["vxlan_v6_via_flannel_v6"] = sent[0] > 1e6 * X.DP_ROUNDS
    for p in srv:
        X.stop(p)
    for n in nodes:
        X.stop(n.agent)
    for k, x in res.items():
        out[k] = {m: B.summary(v) for m, v in x.items()}
        out[k]["samples"] = {m: [round(s, 3) for s in v] for m, v in x.items() if m != "rtt_ms"}
    out["mtu"] = {key: B.sh("ip", "-n", pairs[f"{key}/v4"][1], "-o", "link", "show", "eth0").stdout.split("mtu ")[1].split()[0]
                  for key in DS_DP if f"{key}/v4" in pairs}
    out["network"], out["network6"] = f"10.{addr.c + 3}.0.0/16", f"fd00:{addr.c + 3:x}::/48"
    R["ds_dataplane"] = out


def tx_bytes(B, ns, dev):
    try:
        return int(B.sh("ip", "netns", "exec", ns, "cat", f"/sys/class/net/{dev}/statistics/tx_bytes").stdout)
    except Exception:
        return None
