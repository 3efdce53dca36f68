#!/usr/bin/env bash
# Multi-node end-to-end scenarios for the cross-host executables (flannel-vxlan,
# host-gw; contract: docs/cross-host.md). Nodes, containers, the underlay and
# etcd are network namespaces this script creates; agents run inside the node
# namespaces; containers are attached through libcni (integration/bin/driver)
# run inside their node.
#
#   PLUGINS_DIR=$PWD/.build/cni-bin bash integration/cross-host.sh
#
# Optional: REGISTRIES="dir etcd"  BACKENDS="vxlan host-gw"
#           SCENARIOS="matrix dataplane traffic repair restart mac_change
#                      offlink_peer join leave expire etcd_outage cni_face
#                      bad_config dual_stack_no_ipv6 bad_subnetlen exhausted no_config
#                      etcd_unreachable missing_iface"
#           JOIN_BUDGET_MS (1000) LEAVE_BUDGET_MS (5000) KEEP_TMP=1
# Nodes 1 and 2 run with --resync-interval 1 (repair tests stay short); node 3
# with 10 s (the default), so anything it does within a second comes from the
# registry watch, not from a resync. Last line: "N passed, N failed".

INTEG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$INTEG_DIR/lib.sh"
# shellcheck source=lib-cross.sh
. "$INTEG_DIR/lib-cross.sh"

REGISTRIES=${REGISTRIES:-dir etcd}
BACKENDS=${BACKENDS:-vxlan host-gw}
CLUSTER_SCENARIOS="matrix dataplane traffic repair restart mac_change offlink_peer join leave expire etcd_outage cni_face"
BAD_SCENARIOS="bad_config dual_stack_no_ipv6 bad_subnetlen exhausted no_config etcd_unreachable missing_iface"
SCENARIOS=${SCENARIOS:-$CLUSTER_SCENARIOS $BAD_SCENARIOS}
JOIN_BUDGET_MS=${JOIN_BUDGET_MS:-1000}
LEAVE_BUDGET_MS=${LEAVE_BUDGET_MS:-5000}
REPAIR_BUDGET_MS=$((RESYNC * 1000 + 1500))

want() { [[ " $SCENARIOS " == *" $1 "* ]]; }

declare -A SUB=() MAC=() KEY=()

# ------------------------------------------------------------------ scenarios

sc_matrix() {
    log "--- every container pings every other"
    reach_matrix
}

sc_dataplane() {
    log "--- node state: subnet.env, leases, device, peers"
    local k j net="10.$CLUSTER_NET_A.0.0/16" mtu=1450
    [ "$BACKEND" = host-gw ] && mtu=1500
    for k in 1 2 3; do
        assert_eq "n$k subnet.env FLANNEL_NETWORK" "$net" "$(senv "$k" FLANNEL_NETWORK)"
        check "n$k FLANNEL_SUBNET is the subnet's first address (/24 in $net): $(senv "$k" FLANNEL_SUBNET)" \
            sh -c "echo '$(senv "$k" FLANNEL_SUBNET)' | grep -qE '^10\\.$CLUSTER_NET_A\\.[0-9]+\\.1/24$'"
        assert_eq "n$k FLANNEL_MTU" "$mtu" "$(senv "$k" FLANNEL_MTU)"
        assert_eq "n$k FLANNEL_IPMASQ" true "$(senv "$k" FLANNEL_IPMASQ)"
        assert_eq "n$k lease key is its subnet" "$(subnet_key "${SUB[$k]}")" "${KEY[$k]}"
        local lj
        lj=$(reg_lease_json "${KEY[$k]}")
        assert_eq "n$k lease BackendType" "$BACKEND" "$(jq -r .BackendType <<<"$lj" 2>/dev/null)"
        if [ "$BACKEND" = vxlan ]; then
            assert_eq "n$k lease VtepMAC = flannel.1 MAC" "${MAC[$k]}" "$(jq -r .BackendData.VtepMAC <<<"$lj" 2>/dev/null)"
            assert_eq "n$k lease VNI" 1 "$(jq -r .BackendData.VNI <<<"$lj" 2>/dev/null)"
            assert_eq "n$k state-dir vtep-mac" "${MAC[$k]}" "$(tr -d ' \n' <"${NODE_DIR[$k]}/state/vtep-mac" 2>/dev/null)"
            local d
            d=$(ip -d -n "${NODE_NS[$k]}" link show flannel.1 2>/dev/null | tr '\n' ' ')
            check "n$k flannel.1: vxlan id 1 local ${NODE_IP[$k]} dev eth0 dstport 8472 nolearning mtu 1450" \
                sh -c "echo '$d' | grep -q 'mtu 1450' && echo '$d' | grep -q 'vxlan id 1 ' && echo '$d' | grep -q 'local ${NODE_IP[$k]} ' &&
                       echo '$d' | grep -q 'dev eth0 ' && echo '$d' | grep -q 'dstport 8472' && echo '$d' | grep -q 'nolearning'" ||
                log "          | $d"
            check "n$k flannel.1 has $(subnet_net "${SUB[$k]}")/32" \
                sh -c "ip -n '${NODE_NS[$k]}' -4 -o addr show dev flannel.1 | grep -q ' $(subnet_net "${SUB[$k]}")/32 '"
        else
            assert_eq "n$k lease BackendData" null "$(jq -c .BackendData <<<"$lj" 2>/dev/null)"
            check "n$k has no flannel.1" sh -c "! ip -n '${NODE_NS[$k]}' link show flannel.1 >/dev/null 2>&1"
        fi
        for j in 1 2 3; do
            [ "$j" = "$k" ] && continue
            wait_for 3000 state_is "$k" "${SUB[$j]}" "${NODE_IP[$j]}" "${MAC[$j]}" "$(full_state)"
            assert_eq "n$k programs n$j (${SUB[$j]})" "$(full_state)" \
                "$(peer_state "$k" "${SUB[$j]}" "${NODE_IP[$j]}" "${MAC[$j]}")"
        done
        assert_eq "n$k has no route to its own subnet via the fabric" "" \
            "$(ip -n "${NODE_NS[$k]}" route show "${SUB[$k]}" | grep -E 'flannel|via' || true)"
        check "n$k masquerade table ip swift_cni_fabric" sh -c "ip netns exec '${NODE_NS[$k]}' nft list table ip swift_cni_fabric >/dev/null"
    done
    check "three distinct subnets" test "$(printf '%s\n' "${SUB[1]}" "${SUB[2]}" "${SUB[3]}" | sort -u | wc -l)" = 3
    assert_eq "three leases in the registry" 3 "$(reg_lease_count)"
    local r proto
    r=$(ip -n "${NODE_NS[1]}" route show "${SUB[2]}")
    proto=$(sed -n 's/.* proto \([^ ]*\).*/\1/p' <<<"$r")
    check "agent routes carry their own protocol (proto ${proto:-boot}): $r" \
        sh -c "[ -n '$proto' ] && [ '$proto' != boot ] && [ '$proto' != static ] && [ '$proto' != kernel ]"
    assert_eq "n1 /healthz" 200 "$(http_code 1 /healthz)"
    wait_for 3000 metric_eq 1 2 swiftcni_peers 'state="programmed"'
    http_code 1 /metrics >/dev/null
    local m=${NODE_DIR[1]}/http.body
    check "n1 /metrics: swiftcni_peers{state=\"programmed\"} 2" grep -qE '^swiftcni_peers\{state="programmed"\} 2(\.0)?$' "$m" ||
        log "          | $(grep swiftcni_peers "$m" | head -n3 | tr '\n' ' ')"
    check "n1 /metrics: swiftcni_registry_up 1" grep -qE '^swiftcni_registry_up 1(\.0)?$' "$m"
    for r in swiftcni_lease_expiry_seconds swiftcni_reconcile_duration_seconds swiftcni_reconcile_total swiftcni_errors_total; do
        check "n1 /metrics has $r" grep -qE "^(# TYPE )?$r" "$m"
    done
}

sc_traffic() {
    log "--- what crosses the underlay"
    local a b ia ib
    a=$(ctr 1 1) b=$(ctr 2 1)
    ia=${CTR_IP[$a]} ib=${CTR_IP[$b]}
    capture_start "${NODE_NS[1]}" eth0 'udp port 8472 or icmp' || { fail "tcpdump on n1 eth0"; return; }
    ip netns exec "$a" ping -c 3 -i 0.2 -W 1 -q "$ib" >/dev/null 2>&1
    capture_stop cap_count_ge 3 "$ib > $ia: ICMP echo reply"
    local vx plain
    vx=$(grep -E "\.8472: VXLAN" "$CAP_FILE" | grep -c "vni 1" || true)
    plain=$(grep -cE "^[0-9:.]+ IP $ia > $ib: ICMP echo request" "$CAP_FILE" || true)
    log "          | tcpdump n1 eth0: $(head -n 2 "$CAP_FILE" | cut -c1-150 | tr '\n' '|')"
    if [ "$BACKEND" = vxlan ]; then
        check "n1c1 -> n2c1 leaves n1 as VXLAN (UDP 8472, VNI 1): $vx packet(s)" test "$vx" -ge 3
        check "... with the inner ICMP $ia > $ib" grep -q "$ia > $ib: ICMP echo request" "$CAP_FILE"
        check "... and the outer ${NODE_IP[1]} > ${NODE_IP[2]}" grep -q "IP ${NODE_IP[1]}\.[0-9]* > ${NODE_IP[2]}\.8472" "$CAP_FILE"
        assert_eq "no plain ICMP between containers on the underlay" 0 "$plain"
    else
        check "n1c1 -> n2c1 crosses the underlay as plain ICMP: $plain echo request(s)" test "$plain" -ge 3
        assert_eq "no UDP 8472 on the underlay" 0 "$(grep -c '\.8472' "$CAP_FILE" || true)"
        check "... routed to n2's MAC: next hop ${NODE_IP[2]}" \
            sh -c "ip -n '${NODE_NS[1]}' route get '$ib' | grep -q 'via ${NODE_IP[2]} dev eth0'"
    fi
    # inside the cluster network the source address is kept ...
    capture_start "$b" eth0 icmp || { fail "tcpdump in n2c1"; return; }
    ip netns exec "$a" ping -c 2 -i 0.2 -W 1 -q "$ib" >/dev/null 2>&1
    capture_stop cap_count_ge 2 "$ib > $ia: ICMP echo reply"
    check "n2c1 sees n1c1's own address $ia (no masquerade inside the cluster)" \
        grep -q "IP $ia > $ib: ICMP echo request" "$CAP_FILE"
    # ... and traffic to outside it is masqueraded behind the node's address
    capture_start "$OUT_NS" eth0 icmp || { fail "tcpdump in the outside host"; return; }
    check "n1c1 pings the outside host $OUT_IP (it has no route back to the cluster)" ping_quick "$a" "$OUT_IP"
    capture_stop cap_count_ge 1 "$OUT_IP > ${NODE_IP[1]}: ICMP echo reply"
    check "the outside host sees n1's address ${NODE_IP[1]} (masqueraded)" \
        grep -q "IP ${NODE_IP[1]} > $OUT_IP: ICMP echo request" "$CAP_FILE"
}

sc_repair() {
    log "--- hand-deleted entries on n1 come back (resync ${RESYNC} s)"
    local ns=${NODE_NS[1]} net2=${SUB[2]%/*}
    REPAIR_TIMES=""
    repair_one "route to n2 deleted" ip -n "$ns" route del "${SUB[2]}"
    if [ "$BACKEND" = vxlan ]; then
        repair_one "neighbour $net2 deleted" ip -n "$ns" neigh del "$net2" dev flannel.1
        repair_one "FDB entry ${MAC[2]} deleted" bridge -n "$ns" fdb del "${MAC[2]}" dev flannel.1 dst "${NODE_IP[2]}"
        repair_one "route + neighbour + FDB deleted" sh -c "ip -n '$ns' route del '${SUB[2]}' && ip -n '$ns' neigh del '$net2' dev flannel.1 &&
            bridge -n '$ns' fdb del '${MAC[2]}' dev flannel.1 dst '${NODE_IP[2]}'"
    fi
    # a stale route with the agent's protocol is removed; a foreign one stays
    local proto stale="10.$CLUSTER_NET_A.250.0/24" foreign="10.$CLUSTER_NET_A.251.0/24"
    proto=$(ip -n "$ns" route show "${SUB[2]}" | sed -n 's/.* proto \([^ ]*\).*/\1/p')
    if [ -n "$proto" ] && [ "$proto" != boot ]; then
        local via=(via "${NODE_IP[3]}" dev eth0)
        [ "$BACKEND" = vxlan ] && via=(via "10.$CLUSTER_NET_A.250.0" dev flannel.1 onlink)
        ip -n "$ns" route add "$stale" "${via[@]}" proto "$proto" &&
            ip -n "$ns" route add "$foreign" "${via[@]}" proto static ||
            fail "adding a stale and a foreign route (test setup)"
        if wait_for "$REPAIR_BUDGET_MS" sh -c "! ip -n '$ns' route show '$stale' | grep -q ."; then
            pass "stale route $stale (proto $proto, no lease) removed in $WAITED_MS ms"
        else
            fail "stale route $stale (proto $proto, no lease) removed within $REPAIR_BUDGET_MS ms"
        fi
        wait_reconciles 1 2 || fail "n1 completes two more reconcile passes"
        check "foreign route $foreign (proto static) left alone after two more passes" sh -c "ip -n '$ns' route show '$foreign' | grep -q ."
        ip -n "$ns" route del "$stale" 2>/dev/null
        ip -n "$ns" route del "$foreign" 2>/dev/null
    fi
    check "n1c1 pings n2c1 after the repairs" ping_quick "$(ctr 1 1)" "${CTR_IP[$(ctr 2 1)]}"
}

sc_restart() {
    restart_under_traffic TERM
    restart_under_traffic KILL
}

# restart_under_traffic <signal>: n2's agent stopped with <signal> and started again
restart_under_traffic() {
    local sig=$1
    log "--- n2's agent restarts under traffic (SIG$sig)"
    local f1=$CLDIR/ping-restart-1 f2=$CLDIR/ping-restart-2 p1 p2 l1 l2 sub0=${SUB[2]} mac0=${MAC[2]} key0=${KEY[2]}
    ping_bg "$(ctr 1 1)" "${CTR_IP[$(ctr 2 1)]}" "$f1"; p1=$PING_PID
    ping_bg "$(ctr 2 2)" "${CTR_IP[$(ctr 3 2)]}" "$f2"; p2=$PING_PID
    ping_bg_answered "$f1" "$f2" || fail "pings flow before the restart (test setup)" "$(tail -n 2 "$f1" "$f2")"
    local t0
    t0=$(now_ms)
    agent_stop 2 "$sig"
    if [ "$sig" = TERM ]; then
        check "agent exits on SIGTERM (status $STOP_RC, $(($(now_ms) - t0)) ms)" test "$STOP_RC" = 0
    fi
    [ "$BACKEND" = vxlan ] && check "flannel.1 stays while the agent is down" has_link 2 flannel.1
    assert_eq "n2 keeps its routes to n1 while down" "$(full_state)" "$(peer_state 2 "${SUB[1]}" "${NODE_IP[1]}" "${MAC[1]}")"
    check "n2's lease stays in the registry" test -n "$(reg_lease_json "$key0")"
    sleep 1  # the thing under test: the agent stays down for a second while traffic flows
    t0=$(now_ms)
    agent_start 2
    if agent_wait_ready 2 15; then
        pass "agent ready again after restart ($(($(now_ms) - t0)) ms)"
    else
        fail "agent ready again after restart" "$(agent_log_tail 2)"
    fi
    sleep 1  # the thing under test: traffic keeps flowing for a second after the restart
    l1=$(ping_bg_losses "$p1" "$f1")
    l2=$(ping_bg_losses "$p2" "$f2")
    RESTART_LOSS+="SIG$sig $l1 and $l2; "
    assert_eq "no ping lost n1c1 -> n2c1 during the SIG$sig restart (lost/sent $l1)" 0 "${l1%%/*}"
    assert_eq "no ping lost n2c2 -> n3c2 during the SIG$sig restart (lost/sent $l2)" 0 "${l2%%/*}"
    node_record 2
    assert_eq "same subnet after restart" "$sub0" "${SUB[2]}"
    assert_eq "same lease key after restart" "$key0" "${KEY[2]}"
    if [ "$BACKEND" = vxlan ]; then
        assert_eq "same VTEP MAC after restart" "$mac0" "${MAC[2]}"
        assert_eq "lease VtepMAC unchanged" "$mac0" "$(reg_lease_json "$key0" | jq -r .BackendData.VtepMAC 2>/dev/null)"
    fi
    assert_eq "still three leases" 3 "$(reg_lease_count)"
    check "n1 still programs n2" wait_for 2000 state_is 1 "${SUB[2]}" "${NODE_IP[2]}" "${MAC[2]}" "$(full_state)"
}

# A node comes back with a new VTEP MAC (state dir and device lost): the others
# must replace neighbour and FDB entry and drop the stale FDB entry.
sc_mac_change() {
    [ "$BACKEND" = vxlan ] || return 0
    log "--- n2 comes back with a new VTEP MAC"
    local old=${MAC[2]}
    agent_stop 2 KILL
    rm -f "${NODE_DIR[2]}/state/vtep-mac"
    ip -n "${NODE_NS[2]}" link del flannel.1
    agent_start 2
    if ! agent_wait_ready 2 15; then fail "n2 ready with a new MAC" "$(agent_log_tail 2)"; return; fi
    node_record 2
    check "n2 has a new VTEP MAC (${MAC[2]}, was $old)" test "${MAC[2]}" != "$old" -a -n "${MAC[2]}"
    assert_eq "lease carries the new MAC" "${MAC[2]}" "$(reg_lease_json "${KEY[2]}" | jq -r .BackendData.VtepMAC 2>/dev/null)"
    local j
    for j in 1 3; do
        if wait_for 3000 state_is "$j" "${SUB[2]}" "${NODE_IP[2]}" "${MAC[2]}" "$(full_state)"; then
            pass "n$j programs n2's new MAC within $WAITED_MS ms"
        else
            fail "n$j programs n2's new MAC" "has '$(peer_state "$j" "${SUB[2]}" "${NODE_IP[2]}" "${MAC[2]}")'"
        fi
        check "n$j has no FDB entry for the old MAC $old" \
            wait_for 3000 sh -c "! bridge -n '${NODE_NS[$j]}' fdb show dev flannel.1 | grep -qi '^$old '"
    done
    check "n1c1 pings n2c1 after the MAC change" ping_quick "$(ctr 1 1)" "${CTR_IP[$(ctr 2 1)]}"
    check "n2c2 pings n3c2 after the MAC change" ping_quick "$(ctr 2 2)" "${CTR_IP[$(ctr 3 2)]}"
}

# host-gw: a peer whose PublicIP is not on the underlay prefix is not routed
# (flannel routes it and the traffic disappears); it is reported instead.
sc_offlink_peer() {
    [ "$BACKEND" = host-gw ] || return 0
    log "--- host-gw peer not on-link"
    local y=${UNDERLAY##*.} sub="10.$CLUSTER_NET_A.200.0/24" key="10.$CLUSTER_NET_A.200.0-24"
    local pip="${UNDERLAY%.*}.$(((y + 1) % 256)).9"
    local lease="{\"PublicIP\":\"$pip\",\"PublicIPv6\":null,\"BackendType\":\"host-gw\",\"BackendData\":null}"
    case $REGISTRY in
    dir) # live for a day whether expiry is mtime + TTL (contract) or the mtime itself
        local t="$REG_DIR$PREFIX_KEY/subnets/.t$$"
        printf '%s' "$lease" >"$t" && touch -d '+1 day' "$t" && ln "$t" "$REG_DIR$PREFIX_KEY/subnets/$key" && rm -f "$t" ;;
    etcd) etcdctl_ put "$PREFIX_KEY/subnets/$key" "$lease" >/dev/null ;;
    esac
    # the lease has been judged once n1 counts it unreachable; the rest is looked at after that
    check "n1 /metrics reports one unreachable peer" wait_for 3000 metric_eq 1 1 swiftcni_peers 'state="unreachable"'
    assert_eq "n1 installs no route to $sub (peer $pip is not on-link)" "" "$(ip -n "${NODE_NS[1]}" route show "$sub")"
    wait_for 2000 log_has 1 "$pip"
    assert_log 1 "n1 logs a warning naming $pip" "$pip"
    wait_for 2000 readyz_says 1 any "$pip"
    check "n1 /readyz mentions $pip" grep -qF "$pip" "${NODE_DIR[1]}/http.body" ||
        log "          | readyz: $(head -c 200 "${NODE_DIR[1]}/http.body")"
    reg_del_lease "$key"
    check "n1c1 still pings n2c1" ping_quick "$(ctr 1 1)" "${CTR_IP[$(ctr 2 1)]}"
}

# A stopped node's lease expires (short --lease-ttl): everyone drops it.
sc_expire() {
    log "--- a stopped node's lease expires (--lease-ttl 6)"
    local k=6
    node_new $k || return
    agent_start $k --lease-ttl 6
    if ! agent_wait_ready $k 15; then fail "n$k ready with --lease-ttl 6" "$(agent_log_tail $k)"; return; fi
    node_record $k
    local j
    for j in 1 2 3; do
        check "n$j programs n$k" wait_for 2000 state_is "$j" "${SUB[$k]}" "${NODE_IP[$k]}" "${MAC[$k]}" "$(full_state)"
    done
    agent_stop $k
    local t0
    t0=$(now_ms)
    if [ "$REGISTRY" = etcd ]; then
        check "etcd drops n$k's key when its etcd lease runs out (within 10 s)" \
            wait_for 10000 sh -c "! ip netns exec '$ETCD_NS' env ETCDCTL_API=3 etcdctl --endpoints '$ETCD_EP' get '$PREFIX_KEY/subnets/${KEY[$k]}' | grep -q ."
    fi
    for j in 1 2 3; do
        if wait_for 12000 trace_is_empty "$j" "${SUB[$k]}" "${NODE_IP[$k]}" "${MAC[$k]}"; then
            pass "n$j dropped n$k $(($(now_ms) - t0)) ms after its agent stopped"
        else
            fail "n$j dropped n$k after its lease expired" "left: $(any_peer_trace "$j" "${SUB[$k]}" "${NODE_IP[$k]}" "${MAC[$k]}")"
        fi
    done
    EXPIRE_MS=$(($(now_ms) - t0))
}

# join_node <k> <desc>: start node k, measure lease -> programmed on nodes 1..3 (timed from
# the registry watcher's and the kernel monitors' stamps, lib-cross.sh "join timing")
join_node() {
    local k=$1 t0 tl j now rounds=0 tseen="" te v res=()
    KEY[$k]="" MAC[$k]=""
    node_new "$k" || return 1
    join_watch_start 1 2 3 || { join_watch_stop; fail "n$k join: registry watcher and kernel monitors listening (test setup)"; return 1; }
    t0=$(now_ms)
    agent_start "$k"
    while :; do
        now=$(now_ms)
        rounds=$((rounds + 1))
        if [ -z "${KEY[$k]}" ] && lease_poll "$k"; then
            MAC[$k]=$(reg_lease_json "${KEY[$k]}" | jq -r '.BackendData.VtepMAC // empty' 2>/dev/null)
        fi
        if [ -n "${KEY[$k]}" ] && state_is 1 "${SUB[$k]}" "${NODE_IP[$k]}" "${MAC[$k]}" "$(full_state)" &&
            state_is 2 "${SUB[$k]}" "${NODE_IP[$k]}" "${MAC[$k]}" "$(full_state)" &&
            state_is 3 "${SUB[$k]}" "${NODE_IP[$k]}" "${MAC[$k]}" "$(full_state)"; then
            tseen=$(now_ms)
            break
        fi
        [ $((now - t0)) -gt 15000 ] && break
        agent_running "$k" || { [ -n "${KEY[$k]}" ] || break; }
        sleep 0.01
    done
    join_watch_stop
    if [ -z "${KEY[$k]}" ]; then
        fail "n$k: lease in the registry within 15 s" "$(agent_log_tail "$k")"
        return 1
    fi
    tl=$(lease_seen_ms "${KEY[$k]}" "$k")
    [ -n "$tl" ] || { fail "n$k: the registry watcher saw its lease ${KEY[$k]} (test setup)" "$(cat "$JW_LEASES")"; return 1; }
    pass "n$k: lease ${KEY[$k]} in the registry $((tl - t0)) ms after the agent started"
    local probe="probe loop: $rounds rounds of ~$(( (${tseen:-$(now_ms)} - t0) / rounds )) ms, saw everything at +$(( ${tseen:-0} > 0 ? tseen - tl : -1 )) ms"
    log "          | $probe (not part of the times)"
    local worst=0 msg=""
    mapfile -t res < <(peer_entry_res "${SUB[$k]}" "${NODE_IP[$k]}" "${MAC[$k]}")
    for j in 1 2 3; do
        v=""
        te=$(entries_done_ms "$j" "${res[@]}") && v=$(join_ms "$te" "$tl")
        msg+="n$j ${v:-never} ms; "
        if [ -z "$v" ]; then worst=999999; elif [ "$v" -gt $worst ]; then worst=$v; fi
    done
    JOIN_TIMES+="n$k: $msg($probe) "
    if [ $worst -le "$JOIN_BUDGET_MS" ]; then
        pass "n$k programmed everywhere within ${JOIN_BUDGET_MS} ms of its lease ($msg)"
    else
        fail "n$k programmed everywhere within ${JOIN_BUDGET_MS} ms of its lease ($msg)" \
            "n1: '$(peer_state 1 "${SUB[$k]}" "${NODE_IP[$k]}" "${MAC[$k]}")', n3 (default resync): '$(peer_state 3 "${SUB[$k]}" "${NODE_IP[$k]}" "${MAC[$k]}")'"$'\n'"$probe"
    fi
    if agent_wait_ready "$k" 10; then
        pass "n$k ready $(($(now_ms) - t0)) ms after start"
    else
        fail "n$k ready" "$(agent_log_tail "$k")"
        return 1
    fi
    for j in 1 2 3; do
        wait_for 2000 state_is "$k" "${SUB[$j]}" "${NODE_IP[$j]}" "${MAC[$j]}" "$(full_state)"
        assert_eq "n$k programs n$j" "$(full_state)" "$(peer_state "$k" "${SUB[$j]}" "${NODE_IP[$j]}" "${MAC[$j]}")"
    done
    if ctr_attach "$k" c1; then
        pass "ADD n${k}c1 -> ${CTR_IP[$CTR]}"
    else
        fail "ADD n${k}c1" "$(last_output)"
        return 1
    fi
    local new=$CTR others=() c
    for c in "${CL_CTRS[@]}"; do [ "$c" = "$new" ] || [ "${CTR_NODE[$c]}" = 4 ] || [ "${CTR_NODE[$c]}" = 5 ] || others+=("$c"); done
    local fails=0
    for c in "${others[@]}"; do
        ping_quick "$c" "${CTR_IP[$new]}" || { fails=$((fails + 1)); log "          | $(ctr_label "$c") cannot reach n${k}c1"; }
        ping_quick "$new" "${CTR_IP[$c]}" || { fails=$((fails + 1)); log "          | n${k}c1 cannot reach $(ctr_label "$c")"; }
    done
    assert_eq "n${k}c1 <-> all ${#others[@]} other containers" 0 "$fails"
}

sc_join() {
    log "--- a fourth node joins"
    JOIN_TIMES=""
    join_node 4
}

sc_leave() {
    log "--- the fourth node leaves (agent stopped, lease deleted)"
    [ -n "${KEY[4]:-}" ] || { fail "node 4 present (needs the join scenario)"; return; }
    agent_stop 4
    reg_del_lease "${KEY[4]}"
    local t0 j msg="" worst=0 tj
    t0=$(now_ms)
    local -A gone=()
    while :; do
        local all=1
        for j in 1 2 3; do
            [ -n "${gone[$j]:-}" ] && continue
            if trace_is_empty "$j" "${SUB[4]}" "${NODE_IP[4]}" "${MAC[4]}"; then gone[$j]=$(($(now_ms) - t0)); else all=0; fi
        done
        [ $all = 1 ] && break
        [ $(($(now_ms) - t0)) -gt $((LEAVE_BUDGET_MS + 3000)) ] && break
        sleep 0.02
    done
    for j in 1 2 3; do
        tj=${gone[$j]:-}
        msg+="n$j ${tj:-never} ms; "
        if [ -z "$tj" ]; then worst=999999; elif [ "$tj" -gt $worst ]; then worst=$tj; fi
    done
    LEAVE_TIMES="$msg"
    if [ $worst -le "$LEAVE_BUDGET_MS" ]; then
        pass "n4's route/neigh/FDB gone everywhere within $LEAVE_BUDGET_MS ms ($msg)"
    else
        local left=""
        for j in 1 2 3; do left+="n$j: '$(any_peer_trace "$j" "${SUB[4]}" "${NODE_IP[4]}" "${MAC[4]}")' "; done
        fail "n4's route/neigh/FDB gone everywhere within $LEAVE_BUDGET_MS ms ($msg)" "left: $left"
    fi
    check "n1c1 still reaches n3c1" ping_quick "$(ctr 1 1)" "${CTR_IP[$(ctr 3 1)]}"
    check "n1 /metrics: swiftcni_peers{state=\"programmed\"} back to 2" \
        wait_for 2000 metric_eq 1 2 swiftcni_peers 'state="programmed"'
}

sc_etcd_outage() {
    [ "$REGISTRY" = etcd ] || return 0
    log "--- etcd stops and comes back"
    local f1=$CLDIR/ping-etcd-1 f2=$CLDIR/ping-etcd-2 p1 p2 l1 l2
    ping_bg "$(ctr 1 1)" "${CTR_IP[$(ctr 3 1)]}" "$f1"; p1=$PING_PID
    ping_bg "$(ctr 3 2)" "${CTR_IP[$(ctr 2 2)]}" "$f2"; p2=$PING_PID
    ping_bg_answered "$f1" "$f2" || fail "pings flow before etcd stops (test setup)" "$(tail -n 2 "$f1" "$f2")"
    etcd_stop
    local t0
    t0=$(now_ms)
    if wait_for 6000 sh -c "[ \"\$(ip netns exec '${NODE_NS[1]}' curl -s -m 1 -o /dev/null -w '%{http_code}' http://127.0.0.1:$AGENT_PORT/readyz)\" != 200 ]"; then
        pass "n1 /readyz not ready $WAITED_MS ms after etcd stopped"
        readyz 1 >/dev/null
        ETCD_DOWN_MS="n1 unready after $WAITED_MS ms"
        log "          | readyz body: $(head -c 200 "${NODE_DIR[1]}/http.body" | tr '\n' ' ')"
    else
        fail "n1 /readyz not ready within 6 s of etcd stopping" "$(agent_log_tail 1 4)"
    fi
    check "n2 /readyz not ready (resync 1 s)" wait_for 3000 sh -c "[ \"\$(ip netns exec '${NODE_NS[2]}' curl -s -m 1 -o /dev/null -w '%{http_code}' http://127.0.0.1:$AGENT_PORT/readyz)\" != 200 ]"
    assert_eq "n1 /healthz still 200 while etcd is down" 200 "$(http_code 1 /healthz)"
    check "n1 /metrics: swiftcni_registry_up 0" wait_for 2000 metric_eq 1 0 swiftcni_registry_up
    wait_for 2000 log_has 1 "etcd|$ETCD_IP|registry"
    assert_log 1 "n1 logs the lost registry (mentions etcd or the endpoint)" "etcd|$ETCD_IP|registry"
    check "all agents keep running without etcd" sh -c "kill -0 ${AGENT_PID[1]} && kill -0 ${AGENT_PID[2]} && kill -0 ${AGENT_PID[3]}"
    sleep 1  # the thing under test: etcd stays down a while longer under traffic
    etcd_start || { fail "etcd restart (test setup)"; return; }
    t0=$(now_ms)
    local k msg="" ok=1
    for k in 1 2 3; do
        if wait_for 20000 sh -c "[ \"\$(ip netns exec '${NODE_NS[$k]}' curl -s -m 1 -o /dev/null -w '%{http_code}' http://127.0.0.1:$AGENT_PORT/readyz)\" = 200 ]"; then
            msg+="n$k $(($(now_ms) - t0)) ms; "
        else
            msg+="n$k never; "; ok=0
        fi
    done
    ETCD_BACK_MS=$msg
    check "all agents ready again after etcd is back ($msg)" test $ok = 1
    l1=$(ping_bg_losses "$p1" "$f1")
    l2=$(ping_bg_losses "$p2" "$f2")
    assert_eq "no ping lost n1c1 -> n3c1 while etcd was down (lost/sent $l1)" 0 "${l1%%/*}"
    assert_eq "no ping lost n3c2 -> n2c2 while etcd was down (lost/sent $l2)" 0 "${l2%%/*}"
    assert_eq "leases survived the etcd restart" 3 "$(reg_lease_count)"
    log "--- a new node joins after the outage"
    local saved=$JOIN_TIMES
    JOIN_TIMES=""
    join_node 5
    ETCD_JOIN=$JOIN_TIMES
    JOIN_TIMES=$saved
}

sc_cni_face() {
    log "--- CNI face: STATUS/ADD without subnet.env, DEL without agent and subnet.env"
    local k=3 c ip d=${NODE_DIR[3]}
    ctr_drv $k status
    check "STATUS succeeds while subnet.env exists" test $? = 0 || log "          | $(last_output)"
    local veths
    veths=$(ip -n "${NODE_NS[$k]}" -o link show type veth | wc -l)
    ctr_attach $k c3 || { fail "ADD n3c3" "$(last_output)"; return; }
    c=$CTR ip=${CTR_IP[$CTR]}
    pass "ADD n3c3 -> $ip"
    check "dataDir keeps the generated config for n3c3" test -e "$d/cni-data/$c"
    agent_stop $k
    rm -f "$d/subnet.env"
    ctr_drv $k del "$c"
    check "DEL n3c3 with no agent and no subnet.env" test $? = 0 || log "          | $(last_output)"
    check "n3c3's address $ip released" sh -c "! find '$d/ipam' -type f -name '$ip' | grep -q ."
    NODE=${NODE_NS[$k]}
    check "n3c3's veth gone from the node (back to $veths)" wait_veth_count "$veths"
    check "n3c3 has no eth0" sh -c "! ip -n '$c' link show eth0 >/dev/null 2>&1"
    check "generated config for n3c3 removed from dataDir" test ! -e "$d/cni-data/$c"
    ctr_drv $k del "$c"
    check "DEL n3c3 again" test $? = 0
    local c4="${CLP}n3c4"
    netns_add "$c4"
    CL_CTRS+=("$c4")
    CNI_CONTAINERID=$c4 assert_error "ADD without subnet.env -> 11 naming the file" 11 "$d/subnet.env" ctr_drv $k add "$c4"
    check "nothing attached to n3c4" sh -c "! ip -n '$c4' link show eth0 >/dev/null 2>&1"
    ctr_drv $k del "$c4"
    check "DEL of the failed n3c4" test $? = 0
    assert_error "STATUS without subnet.env -> 50" 50 "" ctr_drv $k status
}

run_cluster() {
    local any=0 s
    for s in $CLUSTER_SCENARIOS; do want "$s" && any=1; done
    [ $any = 1 ] || return 0
    if ! cluster_up; then
        log "cluster did not come up; skipping its scenarios"
        cluster_end
        return
    fi
    for s in $CLUSTER_SCENARIOS; do
        want "$s" && "sc_$s"
    done
    RESULTS+=("$REGISTRY/$BACKEND: join ${JOIN_TIMES:-n/a}| leave ${LEAVE_TIMES:-n/a}| repair ${REPAIR_TIMES:-n/a}| restart loss ${RESTART_LOSS:-n/a}| lease expiry (ttl 6 s) dropped after ${EXPIRE_MS:-n/a} ms$([ "$REGISTRY" = etcd ] && echo "| etcd down: ${ETCD_DOWN_MS:-n/a}, back: ${ETCD_BACK_MS:-n/a}, join after: ${ETCD_JOIN:-n/a}")")
    JOIN_TIMES="" LEAVE_TIMES="" REPAIR_TIMES="" RESTART_LOSS="" EXPIRE_MS="" ETCD_DOWN_MS="" ETCD_BACK_MS="" ETCD_JOIN=""
    cluster_end
}

# ------------------------------------------------------------------ bad input

# bad_agent <k> <desc> <log-regex>: agent k fails clearly and programs nothing
bad_agent() {
    local k=$1 desc=$2 re=$3 np
    if agent_failed_or_unready "$k" "${BAD_WAIT:-10}" "$re"; then
        pass "$desc: agent fails ($AGENT_FATE)"
    else
        fail "$desc: agent fails" "$AGENT_FATE"$'\n'"$(agent_log_tail "$k" 4)"
    fi
    assert_log "$k" "$desc: stderr says why (/$re/)" "$re"
    if np=$(nothing_programmed "$k"); then
        pass "$desc: nothing programmed (no flannel.1, subnet.env, lease, route)"
    else
        fail "$desc: nothing programmed" "$np"
    fi
}

bad_cluster() { # bad_cluster <desc> <config-json|"">
    cluster_begin "bad input: $1"
    [ -n "$2" ] && reg_put_config "$2"
    node_new 1
}

sc_bad_config() {
    bad_cluster "invalid Network" '{"Network":"not-a-cidr","Backend":{"Type":"vxlan"}}'
    agent_start 1
    bad_agent 1 "Network not-a-cidr" 'not-a-cidr'
    cluster_end
}

# Dual stack on a node whose underlay has no IPv6 address (these nodes have IPv4 only): a
# clear reason, not ready, and nothing half-programmed (no IPv4-only lease either).
sc_dual_stack_no_ipv6() {
    bad_cluster "EnableIPv6 on a node without an IPv6 underlay address" "{\"Network\":\"10.$CLUSTER_NET_A.0.0/16\",\"EnableIPv6\":true,\"IPv6Network\":\"fd00:$CLUSTER_NET_A::/48\",\"Backend\":{\"Type\":\"vxlan\"}}"
    agent_start 1
    bad_agent 1 "EnableIPv6 without an IPv6 underlay address" 'eth0 has no global IPv6 address'
    cluster_end
}

sc_bad_subnetlen() {
    bad_cluster "SubnetLen does not fit" "{\"Network\":\"10.$CLUSTER_NET_A.0.0/24\",\"SubnetLen\":16,\"Backend\":{\"Type\":\"vxlan\"}}"
    agent_start 1
    bad_agent 1 "Network /24 with SubnetLen 16" 'SubnetLen'
    cluster_end
    # flannel's rule: the Network must hold at least four subnets
    bad_cluster "Network /23 with SubnetLen 24 (fewer than four subnets)" "{\"Network\":\"10.$CLUSTER_NET_A.0.0/23\",\"SubnetLen\":24,\"Backend\":{\"Type\":\"vxlan\"}}"
    agent_start 1
    bad_agent 1 "Network /23 with SubnetLen 24" 'SubnetLen'
    cluster_end
}

sc_exhausted() {
    # SubnetMin..SubnetMax leave room for two /24s: the third node is left out.
    local a=$CLUSTER_NET_A
    bad_cluster "subnet space exhausted" "{\"Network\":\"10.$a.0.0/16\",\"SubnetLen\":24,\"SubnetMin\":\"10.$a.1.0\",\"SubnetMax\":\"10.$a.2.0\",\"Backend\":{\"Type\":\"vxlan\"}}"
    node_new 2
    node_new 3
    agent_start 1
    agent_start 2
    local k
    for k in 1 2; do
        if agent_wait_ready "$k" 15; then pass "n$k gets $(node_subnet "$k")"; else fail "n$k ready (2 subnets available)" "$(agent_log_tail "$k")"; fi
    done
    agent_start 3
    bad_agent 3 "third node, SubnetMin..SubnetMax holds two /24s" 'exhaust|no (free|available)|available|full|no subnet|out of'
    check "n1 and n2 still ready" sh -c "[ \"\$(ip netns exec '${NODE_NS[1]}' curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$AGENT_PORT/readyz)\" = 200 ] && [ \"\$(ip netns exec '${NODE_NS[2]}' curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$AGENT_PORT/readyz)\" = 200 ]"
    assert_eq "two leases" 2 "$(reg_lease_count)"
    cluster_end
}

sc_no_config() {
    bad_cluster "no network config in the registry" ""
    agent_start 1
    bad_agent 1 "no config" 'config'
    cluster_end
}

sc_etcd_unreachable() {
    [ "$REGISTRY" = etcd ] || return 0
    bad_cluster "etcd unreachable" "$(net_config)"
    AGENT_ETCD_EP="http://$UNDERLAY.251:2379"
    agent_start 1
    AGENT_ETCD_EP=""
    bad_agent 1 "etcd at $UNDERLAY.251 (nobody there)" "$UNDERLAY\\.251|etcd"
    cluster_end
}

sc_missing_iface() {
    local be
    for be in $BACKENDS; do
        BACKEND=$be
        bad_cluster "--iface nosuchif" "$(net_config)"
        [ -x "$AGENT_BIN" ] || { cluster_end; continue; }
        AGENT_IFACE=nosuchif
        agent_start 1
        AGENT_IFACE=eth0
        agent_exits_clean_failure 1 "$be: --iface nosuchif" 'nosuchif'
        cluster_end
    done
}

run_bad_inputs() {
    local saved=$BACKEND s
    BACKEND=vxlan
    [ -x "$AGENT_BIN" ] || return 0
    for s in $BAD_SCENARIOS; do
        want "$s" || continue
        BACKEND=vxlan
        "sc_$s"
    done
    BACKEND=$saved
}

# ------------------------------------------------------------------ main

RESULTS=()

main() {
    xinit_run
    if [ "$IS_REFERENCE" = 1 ]; then
        log "PLUGINS_DIR is the reference plugins: no flannel-vxlan/host-gw there, cross-host suite skipped"
        summary
        return
    fi
    local reg be
    for reg in $REGISTRIES; do
        REGISTRY=$reg
        CURRENT_SCENARIO="$reg"
        if [ "$reg" = etcd ]; then
            if ! etcd_ensure_installed; then fail "etcd-server and etcd-client installed"; continue; fi
            if ! etcd_start; then fail "etcd starts in $ETCD_NS at $ETCD_EP"; continue; fi
            pass "etcd up at $ETCD_EP (pid $ETCD_PID)"
        fi
        for be in $BACKENDS; do
            BACKEND=$be
            local bin=flannel-vxlan
            [ "$be" = host-gw ] && bin=host-gw
            if [ ! -x "$PLUGINS_DIR/$bin" ] || [ ! -x "$AGENT_BIN" ]; then
                CURRENT_SCENARIO="$reg/$be"
                fail "$PLUGINS_DIR/$bin and $AGENT_BIN exist"
                continue
            fi
            run_cluster
        done
        run_bad_inputs
        [ "$reg" = etcd ] && etcd_stop
    done
    if [ ${#RESULTS[@]} -gt 0 ]; then
        log ""
        log "measured:"
        printf '  %s\n' "${RESULTS[@]}" >&2
    fi
    summary
}

main "$@"
