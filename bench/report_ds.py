"""results.md's dual-stack subsection of section 5 (cross-host parts ds_convergence,
ds_reconcile, ds_dataplane of bench/cross.py and bench/cross_ds.py); report.py calls it."""

from report import _med, _ms, convergence_rows, f, mark, ratio, reconcile_rows


def render_cross_ds(x, w, targets):
    c, r, d = x.get("ds_convergence"), x.get("ds_reconcile"), x.get("ds_dataplane")
    if not (c or r or d):
        return
    w("### 5d. Dual stack (EnableIPv6): convergence, 1,000 peers, IPv6 dataplane next to IPv4\n")
    rr = x.get("reruns", {})
    src = rr.get("ds_convergence") or rr.get("ds_reconcile") or rr.get("ds_dataplane")
    if src:
        w(f"*Measured in a later run than 5a/5b (namespaces `{src.get('prefix')}-*`, underlay {src.get('underlay')} "
          f"and {src.get('underlay6', '–')}, cluster networks {src.get('network')} and {src.get('network6', '–')}); "
          "see the machine table.*\n")
    w("Dual-stack observer nodes (their own registries, config `EnableIPv6` with a /48 `IPv6Network`, /64 per "
      "node; each node's eth0 has an IPv4 and a global IPv6 address, `nodad`), run on their own after the "
      "IPv4-only ones. Synthetic peers are dual-stack leases as flannel writes them (key "
      "`10.C.a.0-24&fd00:C:0:b::-64`, `PublicIPv6`, vxlan: `BackendV6Data.VtepMAC`), so every peer programs "
      "entries of both families: vxlan route + neighbour + FDB entry on flannel.1 and the same on "
      "flannel-v6.1 (6 per peer), host-gw one route per family (2 per peer). bench/nlmon.c also listens to "
      "RTMGRP_IPV6_ROUTE; a join counts as converged when the entries of **both** families are in.\n")
    if c:
        n = max((v["join_ms"]["n"] for v in c.values() if v.get("join_ms")), default=0)
        w(f"{n} joins per row, interleaved, each followed by the lease's deletion. ms, median / p90. "
          "*IPv4 / IPv6 converged*: when that family's last entry came.\n")
        w("| registry | backend | join: both families | IPv4 converged | IPv6 converged | route6 | neighbour6 | FDB6 "
          "| leave | timeouts | target | |")
        w("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for reg, be, v, j, ok in convergence_rows(c, targets, "dual-stack convergence ≤ 100 ms",
                                                  "both families, median and p90"):
            w(f"| {reg} | {be} | {_ms(j)} | {_ms(v.get('join_v4_ms'))} | {_ms(v.get('join_v6_ms'))} | "
              f"{_ms(v.get('route6_ms'))} | {_ms(v.get('neigh6_ms'))} | {_ms(v.get('fdb6_ms'))} | "
              f"{_ms(v.get('leave_ms'))} | {v['timeouts']} | ≤ 100 ms | {mark(ok)} |")
        w("")
    if r:
        n = r["peers"]
        rounds = len(next(iter(r["ours"].values()))["rounds"])
        w(f"{n:,} dual-stack peers at once, {rounds} rounds per row, against `ip -batch` (+ `bridge -batch`) of the "
          "same entries of both families (v6 routes with `metric 1024`, into a fresh node netns with an IPv6 "
          "underlay address and, for vxlan, flannel-v6.1). Columns as in 5b; *IPv4 / IPv6 all present*: from the "
          "first write until that family's last entry. ms, median / p90.\n")
        w("| registry | backend | entries | ours: from first write | IPv4 all present | IPv6 all present | "
          "ours: after the write | agent log ms | baseline | ours after write ÷ baseline | removal | target | |")
        w("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for reg, be, v, b, ok in reconcile_rows(r, targets, f"{n:,} dual-stack peers"):
            w(f"| {reg} | {be} | {n * (6 if be == 'vxlan' else 2):,} | {_ms(v['all_present_ms'])} | "
              f"{_ms(v.get('all_present_v4_ms'))} | {_ms(v.get('all_present_v6_ms'))} | {_ms(v['after_write_ms'])} | "
              f"{_ms(v['agent_ms'])} | {_ms(b)} | {f(ratio(v['after_write_ms'], b))} | {_ms(v['all_removed_ms'])} | "
              f"≤ 1.00 | {mark(ok)} |")
        w("")
        rss = [(t, v["agent_rss_kb"]) for t, v in r["ours"].items() if v.get("agent_rss_kb")]
        if rss:
            w(f"swift-flanneld VmRSS with {n:,} dual-stack peers programmed, MiB median: " + ", ".join(
                f"{t} {v['median'] / 1024:.1f}" for t, v in rss) + ". Baseline parts: " + ", ".join(
                f"{be} ip {_med(v['ip_ms'], 1)}" + (f" + bridge {_med(v['bridge_ms'], 1)}" if v.get("bridge_ms") else "")
                for be, v in r["baseline"].items()) + " ms.\n")
    if d and "skipped" not in d:
        render_dataplane_ds(d, w)
    elif d:
        w(f"Dual-stack dataplane skipped: {d['skipped']}\n")


def render_dataplane_ds(d, w):
    u = {fam: d.get(f"underlay/{fam}") for fam in ("v4", "v6")}
    n = u["v4"]["tcp1_gbps"]["n"] if u["v4"] else 0
    w("Dataplane, dual stack: per backend two dual-stack nodes (directory registry) with a container each "
      "(shipped conflist; each container gets an IPv4 and an IPv6 address), iperf3 and ping container to "
      "container over each family **in the same rounds**, interleaved; *underlay*: node eth0 → node eth0 over "
      "that family. Container MTU: " + ", ".join(f"{k} {v}" for k, v in d.get("mtu", {}).items()) +
      f". Gbit/s and ms, median / p90, {n} rounds. % of underlay: against the same family's underlay.\n")
    w("| path | family | TCP 1 stream | TCP 4 streams | ping RTT ms | 1 stream % of underlay | 4 streams % of underlay |"
      " IPv6 ÷ IPv4 (1 / 4 streams) |")
    w("|---|---|---|---|---|---|---|---|")
    for be in ("vxlan", "host-gw", "underlay"):
        for fam in ("v4", "v6"):
            v = d.get(f"{be}/{fam}")
            if not v:
                continue
            p1, p4 = ratio(v["tcp1_gbps"], u[fam]["tcp1_gbps"]), ratio(v["tcp4_gbps"], u[fam]["tcp4_gbps"])
            v4 = d.get(f"{be}/v4")
            rel = (f"{f(ratio(v['tcp1_gbps'], v4['tcp1_gbps']))} / {f(ratio(v['tcp4_gbps'], v4['tcp4_gbps']))}"
                   if fam == "v6" and v4 else "")
            pct = (lambda p: "–" if p is None else f"{p:.0%}")
            w(f"| {be} | IPv{fam[1]} | {_ms(v['tcp1_gbps'])} | {_ms(v['tcp4_gbps'])} | {f(v['rtt_ms']['median'], 3)} / "
              f"{f(v['rtt_ms']['p90'], 3)} | {pct(p1)} | {pct(p4)} | {rel} |")
    w("")
    via = d.get("vxlan_v6_via_flannel_v6")
    if via is not None:
        w("vxlan's IPv6 overlay traffic went through flannel-v6.1 (VXLAN over the IPv6 underlay): "
          f"{'yes' if via else '**no**'} (the client node's flannel-v6.1 tx_bytes grew by "
          f"{sum((d['v6_device_tx_bytes_after'].get(k) or 0) - (d['v6_device_tx_bytes_before'].get(k) or 0) for k in list(d['v6_device_tx_bytes_after'])[:1]) / 1e9:.1f} GB"
          " over the rounds).\n")
    for k, why in d.get("skipped_backends", {}).items():
        w(f"{k}: skipped ({why}).\n")
