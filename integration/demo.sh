#!/usr/bin/env bash
# A short walk-through: a node netns, two containers on bridge + host-local
# (+ loopback) through libcni, their addresses, a ping, teardown. Everything
# lives in namespaces this script creates and removes.
#
#   PLUGINS_DIR=<repo>/.build/release bash integration/demo.sh
INTEG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$INTEG_DIR/lib.sh"

[ -x "$DRIVER" ] || bash "$INTEG_DIR/build-driver.sh" || exit 1
init_run
scenario_begin demo
mkconf 10-bridge.conflist cni-bridge
mkconf 99-loopback.conflist cni-loopback
show() { printf '\n$ %s\n' "$*"; "$@"; }
ctrs=() ips=()
for n in 1 2; do
    c=$(ctr_new "c$n")
    CNI_CONTAINERID=$c drv add cni-bridge "/run/netns/$c" || { cat "$ERR"; exit 1; }
    printf '\n# ADD %s -> libcni result:\n' "$c"
    cat "$OUT"
    ips+=("$(result_ip4)")
    CNI_CONTAINERID=$c CNI_IFNAME=lo drv add cni-loopback "/run/netns/$c" || { cat "$ERR"; exit 1; }
    ctrs+=("$c")
done
show ip -n "${ctrs[0]}" -br addr
show ip -n "${ctrs[0]}" route
show ip -n "$NODE" -br link
show ip netns exec "${ctrs[0]}" ping -c2 -W1 "${ips[1]}"
show ip netns exec "$NODE" nft list ruleset
for c in "${ctrs[@]}"; do
    CNI_CONTAINERID=$c drv del cni-bridge "/run/netns/$c" && CNI_CONTAINERID=$c CNI_IFNAME=lo drv del cni-loopback "/run/netns/$c"
done
printf '\n# after DEL: %s veth(s) on the node, %s IP file(s)\n' "$(node_veth_count)" "$(ip_file_count cni-bridge)"
