#!/usr/bin/env bash
# `make demo`: one node, three containers on a bridge, attached through libcni with our
# bridge + host-local + loopback, then a ping matrix (every container to every other and to
# the gateway), then teardown. Everything lives in network namespaces this script creates and
# removes, also when it fails.
#
#   PLUGINS_DIR=<repo>/.build/cni-bin bash integration/demo.sh
INTEG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$INTEG_DIR/lib.sh"

[ -x "$DRIVER" ] || bash "$INTEG_DIR/build-driver.sh" || exit 1
init_run
scenario_begin demo
mkconf 10-bridge.conflist cni-bridge
mkconf 99-loopback.conflist cni-loopback

printf 'swift-cni demo: plugins from %s\n' "$PLUGINS_DIR"
printf 'node netns %s, bridge %s, network cni-bridge (10.22.0.0/16, ipMasq)\n\n' "$NODE" "$BR"

names=() ctrs=() ips=() gw=""
for n in 1 2 3; do
    c=$(ctr_new "c$n")
    start=$(date +%s%N)
    CNI_CONTAINERID=$c drv add cni-bridge "/run/netns/$c" || { cat "$OUT" "$ERR"; exit 1; }
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    ip=$(result_ip4)
    gw=$(result_gw4)
    CNI_CONTAINERID=$c CNI_IFNAME=lo drv add cni-loopback "/run/netns/$c" || { cat "$OUT" "$ERR"; exit 1; }
    printf 'ADD c%s  eth0 %-12s via %s  (%d ms through libcni)\n' "$n" "$ip" "$gw" "$ms"
    names+=("c$n") ctrs+=("$c") ips+=("$ip")
done

printf '\nping (one packet, 1 s timeout): row pings column\n\n'
printf '%-6s' "from"
for n in "${names[@]}"; do printf '%-14s' "$n"; done
printf '%-14s\n' "gateway"
failures=0
for i in 0 1 2; do
    printf '%-6s' "${names[$i]}"
    for target in "${ips[@]}" "$gw"; do
        if ip netns exec "${ctrs[$i]}" ping -c1 -W1 -q "$target" >/dev/null 2>&1; then
            printf '%-14s' "ok"
        else
            printf '%-14s' "FAIL"
            failures=$((failures + 1))
        fi
    done
    printf '\n'
done

printf '\nmasquerade state in the node (one nftables table, one set element per address):\n'
ip netns exec "$NODE" nft list table inet swift_cni 2>/dev/null | sed -n '/set masq4/,/}/p'

for c in "${ctrs[@]}"; do
    CNI_CONTAINERID=$c drv del cni-bridge "/run/netns/$c" || { cat "$OUT" "$ERR"; exit 1; }
    CNI_CONTAINERID=$c CNI_IFNAME=lo drv del cni-loopback "/run/netns/$c" || { cat "$OUT" "$ERR"; exit 1; }
done
printf '\nafter DEL: %s veth(s) on the node, %s IP file(s) left\n' "$(node_veth_count)" "$(ip_file_count cni-bridge)"
[ "$failures" -eq 0 ] && printf 'all %d pings answered\n' $(( ${#ctrs[@]} * (${#ctrs[@]} + 1) )) || printf '%d ping(s) failed\n' "$failures"
exit "$failures"
