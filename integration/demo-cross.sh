#!/usr/bin/env bash
# Cross-host demo: two nodes on an underlay, swift-flanneld (vxlan backend) on each with the
# embedded (directory) registry, two containers per node attached through libcni with the
# flannel-vxlan CNI face, then a ping matrix (every container to every other, same node and
# across nodes), then teardown. Everything lives in network namespaces this script creates
# and removes, also when it fails.
#
#   PLUGINS_DIR=<repo>/.build/cni-bin bash integration/demo-cross.sh
INTEG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$INTEG_DIR/lib.sh"
# shellcheck source=lib-cross.sh
. "$INTEG_DIR/lib-cross.sh"

[ -x "$DRIVER" ] || bash "$INTEG_DIR/build-driver.sh" || exit 1
[ -x "$PLUGINS_DIR/flannel-vxlan" ] && [ -x "$AGENT_BIN" ] || die "no flannel-vxlan or swift-flanneld in $PLUGINS_DIR (make build)"
xinit_run
REGISTRY=dir BACKEND=vxlan
cluster_begin demo
reg_put_config "$(net_config)"

printf 'swift-cni cross-host demo: plugins from %s\n' "$PLUGINS_DIR"
printf 'underlay %s.0/24 (bridge in netns %s), cluster network 10.%s.0.0/16, vxlan, registry %s\n\n' \
    "$UNDERLAY" "$UL_NS" "$CLUSTER_NET_A" "$REG_DIR"

for k in 1 2; do
    node_new "$k" || exit 1
    t0=$(now_ms)
    agent_start "$k"
    agent_wait_ready "$k" 20 || { echo "agent on node $k not ready:"; agent_log_tail "$k" 10; exit 1; }
    printf 'node %s  netns %-16s eth0 %-14s subnet %-15s flannel.1 %s  (ready in %d ms)\n' \
        "$k" "${NODE_NS[$k]}" "${NODE_IP[$k]}" "$(node_subnet "$k")" "$(dev_mac "$k" flannel.1)" $(($(now_ms) - t0))
done
printf '\nleases in the registry:\n'
reg_leases | sed 's/^/  /'
printf '\n'

for k in 1 2; do
    for c in c1 c2; do
        t0=$(now_ms)
        ctr_attach "$k" "$c" || { echo "ADD n$k$c failed:"; last_output; exit 1; }
        printf 'ADD n%s%s  eth0 %-14s (%d ms through libcni)\n' "$k" "$c" "${CTR_IP[$CTR]}" $(($(now_ms) - t0))
    done
done

printf '\nnode 1 routes to the other node:\n'
ip -n "${NODE_NS[1]}" route show dev flannel.1 | sed 's/^/  /'
printf '\n'
reach_matrix 2>"$CLDIR/matrix.txt"
failures=$?
sed 's/^  //' "$CLDIR/matrix.txt"
printf '\n'
[ "$failures" -eq 0 ] && printf 'all %d pings answered\n' $((${#CL_CTRS[@]} * (${#CL_CTRS[@]} - 1))) ||
    printf '%d ping(s) failed\n' "$failures"
cluster_end
exit "$failures"
