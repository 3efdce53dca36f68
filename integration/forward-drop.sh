#!/usr/bin/env bash
# swift-flanneld's forward rules (flanneld's --iptables-forward-rules, default on) against
# a host firewall that drops forwarding, as Docker and many distributions configure it.
# Three nodes on one underlay (network namespaces; the machine's own firewall is never
# touched), one container each:
#
#   node 1  iptables -P FORWARD DROP (iptables-nft's filter table), set in its netns
#   node 2  a native nftables chain "inet filter forward" with policy drop (Debian's
#           nftables.conf style), no iptables table
#   node 3  no firewall: the daemon must create nothing there
#
# Shows: cross-node pings pass with the daemon's default; rules deleted by hand come back
# within --iptables-resync; restarted with --iptables-forward-rules=false the rules we added
# are gone (and the pings through that node fail, so this suite can fail); restarted with
# the default they come back exactly once.
#
#   PLUGINS_DIR=<dir with swift-flanneld bridge host-local loopback flannel-vxlan> \
#   DRIVER=<libcni driver> bash integration/forward-drop.sh
#
# Last line "N passed, N failed"; non-zero exit on failure.

NETNS_PREFIX=${NETNS_PREFIX:-scf}
INTEG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$INTEG_DIR/lib.sh"
# shellcheck source=lib-cross.sh
. "$INTEG_DIR/lib-cross.sh"

REGISTRY=dir
BACKEND=vxlan
FWD_RESYNC=2                                   # --iptables-resync for every agent
REPAIR_MS=$((FWD_RESYNC * 1000 + 1500))        # one check period plus slack
COMMENT='flanneld forward'
TAG='swift-cni forward'

fw_agent() { # fw_agent <k> [flags...]: node k's agent with our resync
    local k=$1
    shift
    agent_start "$k" --iptables-resync "$FWD_RESYNC" "$@"
}

in_node() { local k=$1; shift; ip netns exec "${NODE_NS[$k]}" "$@"; }

# our iptables rules in node k, as iptables-save prints them
ipt_ours() { in_node "$1" iptables-save -t filter 2>/dev/null | grep -F -- "--comment \"$COMMENT\"" || true; }
ipt_ours_count() { ipt_ours "$1" | grep -c . || true; }
# our rules in node k's native chain
nft_ours() { in_node "$1" nft -a list chain inet filter forward 2>/dev/null | grep -F "comment \"$TAG\"" || true; }
nft_ours_count() { nft_ours "$1" | grep -c . || true; }

ipt_has_pair() { # <k>: exactly flanneld's two rules for the network, once each
    local o net="10.$CLUSTER_NET_A.0.0/16"
    o=$(ipt_ours "$1")
    [ "$(grep -c . <<<"$o")" = 2 ] &&
        grep -qxF -- "-A FORWARD -s $net -m comment --comment \"$COMMENT\" -j ACCEPT" <<<"$o" &&
        grep -qxF -- "-A FORWARD -d $net -m comment --comment \"$COMMENT\" -j ACCEPT" <<<"$o"
}

nft_has_pair() { # <k>
    local o net="10.$CLUSTER_NET_A.0.0/16"
    o=$(nft_ours "$1")
    [ "$(grep -c . <<<"$o")" = 2 ] &&
        grep -qF "ip saddr $net accept comment \"$TAG\"" <<<"$o" &&
        grep -qF "ip daddr $net accept comment \"$TAG\"" <<<"$o"
}

pings_both_ways() { ping_quick "$1" "${CTR_IP[$2]}" && ping_quick "$2" "${CTR_IP[$1]}"; }
no_ping_either_way() { ! ping_quick "$1" "${CTR_IP[$2]}" && ! ping_quick "$2" "${CTR_IP[$1]}"; }

restart_agent() { # <k> [flags...]
    local k=$1
    shift
    agent_stop "$k"
    fw_agent "$k" "$@"
    agent_wait_ready "$k" 20
}

main() {
    xinit_run
    [ -x "$AGENT_BIN" ] && [ -x "$PLUGINS_DIR/flannel-vxlan" ] ||
        { fail "$AGENT_BIN and $PLUGINS_DIR/flannel-vxlan exist"; summary; return; }
    local net="10.$CLUSTER_NET_A.0.0/16" k c1 c2 c3

    cluster_begin "forwarding dropped on nodes 1 (iptables) and 2 (native nftables)"
    reg_put_config "$(net_config)"
    for k in 1 2 3; do node_new "$k" || { summary; return; }; done
    in_node 1 iptables -w 5 -P FORWARD DROP || die "iptables -P FORWARD DROP in node 1"
    in_node 2 nft -f - <<'NFT' || die "native drop chain in node 2"
table inet filter {
    chain forward {
        type filter hook forward priority filter; policy drop;
    }
}
NFT
    for k in 1 2 3; do fw_agent "$k"; done
    for k in 1 2 3; do
        if agent_wait_ready "$k" 20; then pass "agent n$k ready"; else
            fail "agent n$k ready within 20 s" "$(agent_log_tail "$k")"
            summary
            return
        fi
    done
    for k in 1 2 3; do
        if ctr_attach "$k" c; then pass "ADD n${k}c -> ${CTR_IP[$CTR]}"; else fail "ADD n${k}c" "$(last_output)"; fi
    done
    c1="${CLP}n1c" c2="${CLP}n2c" c3="${CLP}n3c"

    log "--- default (--iptables-forward-rules on)"
    if ipt_has_pair 1; then pass "n1: flanneld's two FORWARD accepts for $net, once each"; else
        fail "n1: flanneld's two FORWARD accepts for $net" "$(in_node 1 iptables-save -t filter)"; fi
    check "n1: iptables -L FORWARD shows them readably (no 'incompatible')" \
        sh -c "ip netns exec ${NODE_NS[1]} iptables -w 5 -L FORWARD -n | grep -q '$COMMENT' &&
               ! ip netns exec ${NODE_NS[1]} iptables -w 5 -L FORWARD -n | grep -qi incompatible"
    if nft_has_pair 2; then pass "n2: two tagged accepts in the native chain inet filter forward"; else
        fail "n2: two tagged accepts in inet filter forward" "$(in_node 2 nft -a list ruleset)"; fi
    check "n2: no iptables table created next to the native one" \
        sh -c "! ip netns exec ${NODE_NS[2]} nft list tables | grep -q 'table ip filter'"
    check "n3: nothing drops, so no filter table and no forward chain created" \
        sh -c "! ip netns exec ${NODE_NS[3]} nft list ruleset | grep -qE 'table ip filter|hook forward'"
    reach_matrix "$c1" "$c2" "$c3"

    log "--- a rule deleted by hand comes back within --iptables-resync $FWD_RESYNC"
    # (the daemon may put it back before we look, so the deletion is judged by iptables' status)
    if in_node 1 iptables -w 5 -D FORWARD -s "$net" -m comment --comment "$COMMENT" -j ACCEPT &&
        wait_for "$REPAIR_MS" ipt_has_pair 1; then
        pass "n1: iptables rule back after ${WAITED_MS} ms (budget $REPAIR_MS), no copies"
    else fail "n1: iptables rule back within $REPAIR_MS ms" "$(ipt_ours 1)"; fi
    local handle
    handle=$(nft_ours 2 | grep -F "ip daddr" | sed -n 's/.*# handle \([0-9]*\).*/\1/p')
    if [ -n "$handle" ] && in_node 2 nft delete rule inet filter forward handle "$handle" &&
        wait_for "$REPAIR_MS" nft_has_pair 2 && ! nft_ours 2 | grep -q "# handle $handle\$"; then
        pass "n2: native rule back after ${WAITED_MS} ms (budget $REPAIR_MS), no copies"
    else fail "n2: native rule back within $REPAIR_MS ms" "$(in_node 2 nft -a list chain inet filter forward)"; fi
    check "n1 <-> n3 containers reach each other after the repair" pings_both_ways "$c1" "$c3"
    check "n2 <-> n3 containers reach each other after the repair" pings_both_ways "$c2" "$c3"

    log "--- restarted with --iptables-forward-rules=false"
    restart_agent 1 --iptables-forward-rules=false || fail "n1 agent ready again" "$(agent_log_tail 1)"
    assert_eq "n1: our iptables rules are gone" 0 "$(ipt_ours_count 1)"
    check "n1: the operator's DROP policy stays" \
        sh -c "ip netns exec ${NODE_NS[1]} iptables-save -t filter | grep -q '^:FORWARD DROP'"
    check "n1 <-> n3: pings now fail (the firewall drops them)" no_ping_either_way "$c1" "$c3"
    restart_agent 2 --iptables-forward-rules=false || fail "n2 agent ready again" "$(agent_log_tail 2)"
    assert_eq "n2: our tagged rules are gone" 0 "$(nft_ours_count 2)"
    check "n2: the native chain and its drop policy stay" \
        sh -c "ip netns exec ${NODE_NS[2]} nft list chain inet filter forward | grep -q 'policy drop'"
    check "n2 <-> n3: pings now fail" no_ping_either_way "$c2" "$c3"

    log "--- restarted with the default again"
    restart_agent 1 || fail "n1 agent ready again" "$(agent_log_tail 1)"
    restart_agent 2 || fail "n2 agent ready again" "$(agent_log_tail 2)"
    check "n1: the two rules are back, once each" ipt_has_pair 1
    check "n2: the two tagged rules are back, once each" nft_has_pair 2
    reach_matrix "$c1" "$c2" "$c3"
    check "agent logs name the forward-rule changes" grep -qi 'forward' "${NODE_DIR[1]}/agent.log"
    check "no forward-rule errors logged" sh -c "! grep -hiE 'level=(error|warn).*forward' ${NODE_DIR[1]}/agent.log ${NODE_DIR[2]}/agent.log ${NODE_DIR[3]}/agent.log"

    cluster_end
    summary
}

main "$@"
