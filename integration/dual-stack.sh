#!/usr/bin/env bash
# Dual-stack cross-host scenarios (issue 11): IPv4 and IPv6 next to each other on
# vxlan and host-gw, directory registry and etcd. Topology and helpers: lib-cross.sh;
# every node's eth0 also gets an IPv6 address ($UL6::<cluster>:<k>/64, nodad) on the
# underlay bridge. Contract: docs/cross-host.md (dual stack).
#
#   PLUGINS_DIR=$PWD/.build/cni-bin bash integration/dual-stack.sh
#
# Optional: REGISTRIES="dir etcd"  BACKENDS="vxlan host-gw"  BAD_REGISTRIES="dir"
#           JOIN_BUDGET_MS (1000) LEAVE_BUDGET_MS (5000) KEEP_TMP=1
# Nodes 1 and 2 resync every second, node 3 every 10 s (join times come from the
# watch). Last line: "N passed, N failed".

INTEG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$INTEG_DIR/lib.sh"
# shellcheck source=lib-cross.sh
. "$INTEG_DIR/lib-cross.sh"

REGISTRIES=${REGISTRIES:-dir etcd}
BACKENDS=${BACKENDS:-vxlan host-gw}
BAD_REGISTRIES=${BAD_REGISTRIES:-dir}
JOIN_BUDGET_MS=${JOIN_BUDGET_MS:-1000}
LEAVE_BUDGET_MS=${LEAVE_BUDGET_MS:-5000}
REPAIR_BUDGET_MS=$((RESYNC * 1000 + 1500))
V6DEV=flannel-v6.1

declare -A SUB=() MAC=() KEY=() SUB6=() MAC6=() NODE_IP6=()
RESULTS=()
UL6=""   # the IPv6 underlay /64 of this run (a random ULA prefix, never fd00:)

# ------------------------------------------------------------------ helpers

# (printed the way ip and tcpdump print it: no leading zeros in a group)
pick_ul6() { UL6=$(printf 'fd%02x:%x:%x:%x' $((16 + RANDOM % 240)) $((1 + RANDOM)) $((1 + RANDOM)) $((1 + RANDOM))); }
net6() { echo "fd00:$CLUSTER_NET_A::/48"; }
ds_config() { # [json-overrides]
    local o=${1:-}
    [ -n "$o" ] || o='{}'
    net_config "$(jq -cn --arg n6 "$(net6)" --argjson o "$o" '{EnableIPv6: true, IPv6Network: $n6} * $o')"
}
ping6_quick() { PING_FAMILY=6 ping_quick "$@"; }

# node_v6 <k>: node k's eth0 gets $UL6::<CLN>:<k>/64 (nodad: usable at once)
node_v6() {
    NODE_IP6[$1]="$UL6::$CLN:$1"
    ip -n "${NODE_NS[$1]}" addr add "${NODE_IP6[$1]}/64" dev eth0 nodad
}

# key6 <lease-key>: the IPv6 half of a dual-stack key as a prefix (fd00:a:0:1::-64 -> fd00:a:0:1::/64)
key6() { case $1 in *'&'*) local h=${1#*&}; echo "${h%-*}/${h##*-}" ;; esac; }

# ds_record <k>: SUB/MAC/KEY (lib-cross) plus SUB6 and MAC6
ds_record() {
    local k=$1
    node_record "$k"
    SUB6[$k]=$(key6 "${KEY[$k]}")
    MAC6[$k]=""
    [ "$BACKEND" = vxlan ] && MAC6[$k]=$(dev_mac "$k" "$V6DEV")
}

# peer_state6 <j> <subnet6> <public-ip6> <mac6>: node j's IPv6 entries for that peer
peer_state6() {
    local ns=${NODE_NS[$1]} sub=$2 pip=$3 mac=$4 out=""
    local net=${sub%/*}
    [ -n "$sub" ] || { echo "no-v6-subnet"; return; }
    case $BACKEND in
    vxlan)
        out_has "via $net dev $V6DEV .*onlink" ip -6 -n "$ns" route show "$sub" && out+="route "
        [ -n "$mac" ] && out_has "lladdr $mac .*PERMANENT" ip -6 -n "$ns" neigh show dev "$V6DEV" to "$net" && out+="neigh "
        [ -n "$mac" ] && out_has "^$mac dst $pip " bridge -n "$ns" fdb show dev "$V6DEV" && out+="fdb "
        ;;
    host-gw)
        out_has "via $pip dev eth0" ip -6 -n "$ns" route show "$sub" && out+="route "
        ;;
    esac
    echo "${out% }"
}
state6_is() { [ "$(peer_state6 "$1" "$2" "$3" "$4")" = "$5" ]; }

# any_peer_trace6 <j> <subnet6> <mac6>: any IPv6 entry left for that peer
any_peer_trace6() {
    local ns=${NODE_NS[$1]} sub=$2 mac=$3 out=""
    out_has . ip -6 -n "$ns" route show "$sub" && out+="route "
    if has_link "$1" "$V6DEV"; then
        out_has . ip -6 -n "$ns" neigh show dev "$V6DEV" to "${sub%/*}" && out+="neigh "
        [ -n "$mac" ] && out_has "^$mac " bridge -n "$ns" fdb show dev "$V6DEV" && out+="fdb "
    fi
    echo "${out% }"
}
trace6_is_empty() { [ -z "$(any_peer_trace6 "$@")" ]; }
both_full() { # <j> <k>: node j has node k's entries of both families
    state_is "$1" "${SUB[$2]}" "${NODE_IP[$2]}" "${MAC[$2]}" "$(full_state)" &&
        state6_is "$1" "${SUB6[$2]}" "${NODE_IP6[$2]}" "${MAC6[$2]}" "$(full_state)"
}

# metric_line <k> <regex>: node k's /metrics has a line matching
metric_has() { http_code "$1" /metrics >/dev/null; grep -qE "$2" "${NODE_DIR[$1]}/http.body"; }
peers_by_family() { # <k> <family> <state> <n>
    metric_has "$1" "^swiftcni_peers_by_family\\{(family=\"$2\",state=\"$3\"|state=\"$3\",family=\"$2\")\\} $4(\\.0)?\$"
}

# v6_nothing_programmed <k>: no IPv6 leftovers (device, v6 routes in the cluster network)
v6_nothing_programmed() {
    local k=$1 out=""
    has_link "$k" "$V6DEV" && out+="$V6DEV exists; "
    local r
    r=$(ip -6 -n "${NODE_NS[$k]}" route show 2>/dev/null | grep -i "^fd00:$CLUSTER_NET_A:" || true)
    [ -n "$r" ] && out+="v6 routes: $r; "
    printf '%s' "$out"
    [ -z "$out" ]
}

# reput_lease <key>: the lease's exact bytes written again (expiry kept)
reput_lease() {
    case $REGISTRY in
    dir)
        local f="$REG_DIR$PREFIX_KEY/subnets/$1" t
        t="$REG_DIR$PREFIX_KEY/subnets/.r$$"
        cp "$f" "$t" && touch -r "$f" "$t" && mv -f "$t" "$f"
        ;;
    etcd)
        local v
        v=$(etcdctl_ get --print-value-only "$PREFIX_KEY/subnets/$1") || return 1
        etcdctl_ put --ignore-lease "$PREFIX_KEY/subnets/$1" "$v" >/dev/null
        ;;
    esac
}

# ------------------------------------------------------------------ cluster

ds_cluster_up() {
    CLUSTER_CONFIG=$(ds_config) NODE_HOOK=node_v6 RECORD_FN=ds_record \
        cluster_up "dual stack: three nodes, two containers per node" || return 1
    local c
    for c in "${CL_CTRS[@]}"; do
        [ -n "${CTR_IP6[$c]}" ] || { fail "$(ctr_label "$c") has an IPv6 address"; return 1; }
    done
    pass "every container has an IPv4 and an IPv6 address"
}

# ------------------------------------------------------------------ scenarios

sc_state() {
    log "--- node state: leases, subnet.env, devices, both families' peers"
    local k j lj mtu=1430
    [ "$BACKEND" = host-gw ] && mtu=1500
    for k in 1 2 3; do
        check "n$k lease key is '<v4>-24&<v6>-64': ${KEY[$k]}" \
            sh -c "echo '${KEY[$k]}' | grep -qE '^10\\.$CLUSTER_NET_A\\.[0-9]+\\.0-24&fd00:$CLUSTER_NET_A:0:[0-9a-f]+::-64$'"
        lj=$(reg_lease_json "${KEY[$k]}")
        [ "$k" = 1 ] && log "          | n1 lease ${KEY[1]}: $lj"
        assert_eq "n$k lease PublicIP" "${NODE_IP[$k]}" "$(jq -r .PublicIP <<<"$lj" 2>/dev/null)"
        assert_eq "n$k lease PublicIPv6" "${NODE_IP6[$k]}" "$(jq -r .PublicIPv6 <<<"$lj" 2>/dev/null)"
        assert_eq "n$k lease BackendType" "$BACKEND" "$(jq -r .BackendType <<<"$lj" 2>/dev/null)"
        check "n$k lease has only flannel's fields" \
            jq -e 'keys - ["PublicIP","PublicIPv6","BackendType","BackendData","BackendV6Data"] == []' <<<"$lj" >/dev/null
        assert_eq "n$k FLANNEL_IPV6_NETWORK" "$(net6)" "$(senv "$k" FLANNEL_IPV6_NETWORK)"
        assert_eq "n$k FLANNEL_IPV6_SUBNET is the v6 subnet's ::1/64" "${SUB6[$k]%/*}1/64" "$(senv "$k" FLANNEL_IPV6_SUBNET)"
        assert_eq "n$k FLANNEL_MTU" "$mtu" "$(senv "$k" FLANNEL_MTU)"
        if [ "$BACKEND" = vxlan ]; then
            assert_eq "n$k lease BackendV6Data" "{\"VNI\":1,\"VtepMAC\":\"${MAC6[$k]}\"}" "$(jq -c .BackendV6Data <<<"$lj" 2>/dev/null)"
            assert_eq "n$k lease BackendData.VtepMAC = flannel.1" "${MAC[$k]}" "$(jq -r .BackendData.VtepMAC <<<"$lj" 2>/dev/null)"
            local d
            d=$(ip -d -n "${NODE_NS[$k]}" link show "$V6DEV" 2>/dev/null | tr '\n' ' ')
            check "n$k $V6DEV: vxlan id 1 local ${NODE_IP6[$k]} dstport 8472 nolearning mtu 1430" \
                sh -c "echo '$d' | grep -q 'mtu 1430' && echo '$d' | grep -q 'vxlan id 1 ' && echo '$d' | grep -q 'local ${NODE_IP6[$k]} ' &&
                       echo '$d' | grep -q 'dstport 8472' && echo '$d' | grep -q 'nolearning'" || log "          | $d"
            check "n$k $V6DEV has ${SUB6[$k]%/*}/128" \
                sh -c "ip -n '${NODE_NS[$k]}' -6 -o addr show dev $V6DEV | grep -q ' ${SUB6[$k]%/*}/128 '"
        else
            check "n$k lease has no backend data" jq -e '(.BackendData == null) and (.BackendV6Data == null)' <<<"$lj" >/dev/null
            check "n$k has no $V6DEV" sh -c "! ip -n '${NODE_NS[$k]}' link show $V6DEV >/dev/null 2>&1"
        fi
        for j in 1 2 3; do
            [ "$j" = "$k" ] && continue
            wait_for 3000 both_full "$k" "$j"  # peers learnt through the watch may land after the last readiness
            assert_eq "n$k programs n$j's IPv4 half (${SUB[$j]})" "$(full_state)" \
                "$(peer_state "$k" "${SUB[$j]}" "${NODE_IP[$j]}" "${MAC[$j]}")"
            assert_eq "n$k programs n$j's IPv6 half (${SUB6[$j]})" "$(full_state)" \
                "$(peer_state6 "$k" "${SUB6[$j]}" "${NODE_IP6[$j]}" "${MAC6[$j]}")"
        done
        j=$((1 + k % 3))
        check "n$k v6 route to n$j carries proto 92 (swift-cni)" \
            sh -c "ip -6 -n '${NODE_NS[$k]}' route show '${SUB6[$j]}' | grep -qE 'proto (92|0x5c)'"
        check "n$k masquerade table ip6 swift_cni_fabric" sh -c "ip netns exec '${NODE_NS[$k]}' nft list table ip6 swift_cni_fabric >/dev/null"
        assert_eq "n$k forwards IPv6 (set by the agent or plugins, not by this suite)" 1 \
            "$(ip netns exec "${NODE_NS[$k]}" sysctl -n net.ipv6.conf.all.forwarding)"
    done
    check "three distinct v6 subnets" test "$(printf '%s\n' "${SUB6[1]}" "${SUB6[2]}" "${SUB6[3]}" | sort -u | wc -l)" = 3
    check "n1 /metrics: peers_by_family ipv4 programmed 2" wait_for 2000 peers_by_family 1 ipv4 programmed 2
    check "n1 /metrics: peers_by_family ipv6 programmed 2" wait_for 2000 peers_by_family 1 ipv6 programmed 2 ||
        log "          | $(grep peers_by_family "${NODE_DIR[1]}/http.body" | tr '\n' ' ')"
}

sc_matrix() {
    log "--- ping: every container to every other (IPv4)"
    PING_FAMILY=4 reach_matrix
    log "--- ping6: every container to every other (IPv6)"
    PING_FAMILY=6 reach_matrix
}

sc_traffic() {
    log "--- what crosses the underlay for IPv6"
    local a b ia ib n
    a=$(ctr 1 1) b=$(ctr 2 1)
    ia=${CTR_IP6[$a]} ib=${CTR_IP6[$b]}
    capture_start "${NODE_NS[1]}" eth0 'ip6 and (udp port 8472 or icmp6)' || { fail "tcpdump on n1 eth0"; return; }
    ip netns exec "$a" ping -6 -c 3 -i 0.2 -W 1 -q "$ib" >/dev/null 2>&1
    capture_stop cap_count_ge 3 "$ib > $ia: ICMP6, echo reply"
    log "          | tcpdump n1 eth0: $(grep -v 'ICMP6, neighbor\|router' "$CAP_FILE" | head -n 2 | cut -c1-160 | tr '\n' '|')"
    if [ "$BACKEND" = vxlan ]; then
        n=$(grep -cE "IP6 ${NODE_IP6[1]}\.[0-9]+ > ${NODE_IP6[2]}\.8472: VXLAN.*vni 1" "$CAP_FILE" || true)
        check "n1c1 -> n2c1 (ping6) leaves n1 as VXLAN over IPv6 ${NODE_IP6[1]} > ${NODE_IP6[2]}:8472: $n packet(s)" test "$n" -ge 3
        check "... with the inner ICMP6 $ia > $ib" grep -q "IP6 $ia > $ib: ICMP6, echo request" "$CAP_FILE"
        assert_eq "no plain ICMP6 echo between containers on the underlay" 0 \
            "$(grep -cE "^[0-9:.]+ IP6 $ia > $ib: ICMP6, echo request" "$CAP_FILE" || true)"
    else
        n=$(grep -cE "^[0-9:.]+ IP6 $ia > $ib: ICMP6, echo request" "$CAP_FILE" || true)
        check "n1c1 -> n2c1 (ping6) crosses the underlay as plain ICMP6: $n echo request(s)" test "$n" -ge 3
        assert_eq "no UDP 8472 on the underlay" 0 "$(grep -c '\.8472' "$CAP_FILE" || true)"
    fi
    capture_start "$b" eth0 icmp6 || { fail "tcpdump in n2c1"; return; }
    ip netns exec "$a" ping -6 -c 2 -i 0.2 -W 1 -q "$ib" >/dev/null 2>&1
    capture_stop cap_count_ge 2 "$ib > $ia: ICMP6, echo reply"
    check "n2c1 sees n1c1's own IPv6 address $ia (no masquerade inside the cluster)" \
        grep -q "IP6 $ia > $ib: ICMP6, echo request" "$CAP_FILE"
    capture_start "$OUT_NS" eth0 icmp6 || { fail "tcpdump in the outside host"; return; }
    check "n1c1 ping6s the outside host $UL6::200 (no route back to the cluster)" \
        ping6_quick "$a" "$UL6::200"
    capture_stop cap_count_ge 1 "$UL6::200 > ${NODE_IP6[1]}: ICMP6, echo reply"
    check "the outside host sees n1's IPv6 address ${NODE_IP6[1]} (masqueraded)" \
        grep -q "IP6 ${NODE_IP6[1]} > $UL6::200: ICMP6, echo request" "$CAP_FILE" ||
        log "          | outside saw: $(grep 'echo request' "$CAP_FILE" | head -n1 | cut -c1-120)"
}

sc_repair() {
    log "--- hand-deleted IPv6 entries on n1 come back (resync ${RESYNC} s)"
    local ns=${NODE_NS[1]} net2=${SUB6[2]%/*}
    REPAIR_TIMES=""
    REPAIR_FAMILY=6 repair_one "v6 route to n2 deleted" ip -6 -n "$ns" route del "${SUB6[2]}"
    if [ "$BACKEND" = vxlan ]; then
        REPAIR_FAMILY=6 repair_one "v6 neighbour $net2 deleted" ip -6 -n "$ns" neigh del "$net2" dev "$V6DEV"
        REPAIR_FAMILY=6 repair_one "v6 FDB entry ${MAC6[2]} deleted" bridge -n "$ns" fdb del "${MAC6[2]}" dev "$V6DEV" dst "${NODE_IP6[2]}"
    fi
    check "n1c1 ping6s n2c1 after the repairs" ping6_quick "$(ctr 1 1)" "${CTR_IP6[$(ctr 2 1)]}"
}

sc_join() {
    log "--- a fourth node joins (both families within ${JOIN_BUDGET_MS} ms of its lease)"
    local k=4 t0 tl j now rounds=0 tseen="" fam worst msg v te res=()
    SUB6[$k]="" MAC[$k]="" MAC6[$k]=""
    node_new $k || return
    node_v6 $k || { fail "n4 IPv6 underlay address (test setup)"; return; }
    # timed from events (lib-cross.sh "join timing"): the loop below only waits
    join_watch_start 1 2 3 || { join_watch_stop; fail "n4 join: registry watcher and kernel monitors listening (test setup)"; return; }
    t0=$(now_ms)
    agent_start $k
    while :; do
        now=$(now_ms)
        rounds=$((rounds + 1))
        if [ -z "${SUB6[$k]:-}" ] && lease_poll $k; then
            SUB6[$k]=$(key6 "${KEY[$k]}")
            local lj
            lj=$(reg_lease_json "${KEY[$k]}")
            MAC[$k]=$(jq -r '.BackendData.VtepMAC // empty' <<<"$lj" 2>/dev/null)
            MAC6[$k]=$(jq -r '.BackendV6Data.VtepMAC // empty' <<<"$lj" 2>/dev/null)
        fi
        if [ -n "${SUB6[$k]:-}" ] && both_full 1 $k && both_full 2 $k && both_full 3 $k; then tseen=$(now_ms); break; fi
        [ $((now - t0)) -gt 15000 ] && break
        agent_running $k || { [ -n "${SUB6[$k]:-}" ] || break; }
        sleep 0.01
    done
    join_watch_stop
    [ -n "${SUB6[$k]:-}" ] || { fail "n4: lease in the registry within 15 s" "$(agent_log_tail $k)"; return; }
    tl=$(lease_seen_ms "${KEY[$k]}" "$k")
    [ -n "$tl" ] || { fail "n4: the registry watcher saw its lease ${KEY[$k]} (test setup)" "$(cat "$JW_LEASES")"; return; }
    pass "n4: lease ${KEY[$k]} in the registry $((tl - t0)) ms after the agent started"
    local probe="probe loop: $rounds rounds of ~$(( (${tseen:-$(now_ms)} - t0) / rounds )) ms, saw everything at +$(( ${tseen:-0} > 0 ? tseen - tl : -1 )) ms"
    log "          | $probe (not part of the times)"
    for fam in 4 6; do
        worst=0 msg=""
        for j in 1 2 3; do
            if [ $fam = 4 ]; then
                mapfile -t res < <(peer_entry_res "${SUB[$k]}" "${NODE_IP[$k]}" "${MAC[$k]}" flannel.1)
            else
                mapfile -t res < <(peer_entry_res "${SUB6[$k]}" "${NODE_IP6[$k]}" "${MAC6[$k]}" "$V6DEV")
            fi
            te=$(entries_done_ms $j "${res[@]}")
            v=""
            [ -n "$te" ] && v=$(join_ms "$te" "$tl")
            msg+="n$j ${v:-never} ms; "
            if [ -z "$v" ]; then worst=999999; elif [ "$v" -gt $worst ]; then worst=$v; fi
        done
        JOIN_TIMES+="ipv$fam: $msg"
        if [ $worst -le "$JOIN_BUDGET_MS" ]; then
            pass "n4's IPv$fam half programmed everywhere within $JOIN_BUDGET_MS ms of its lease ($msg)"
        else
            fail "n4's IPv$fam half programmed everywhere within $JOIN_BUDGET_MS ms of its lease ($msg)" \
                "n3 (resync 10 s): v4 '$(peer_state 3 "${SUB[$k]}" "${NODE_IP[$k]}" "${MAC[$k]}")' v6 '$(peer_state6 3 "${SUB6[$k]}" "${NODE_IP6[$k]}" "${MAC6[$k]}")'"$'\n'"$probe"
        fi
    done
    JOIN_TIMES+="($probe) "
    agent_wait_ready $k 10 || { fail "n4 ready" "$(agent_log_tail $k)"; return; }
    for j in 1 2 3; do check "n4 programs n$j (both families)" wait_for 2000 both_full $k $j; done
    ctr_attach $k c1 || { fail "ADD n4c1" "$(last_output)"; return; }
    pass "ADD n4c1 -> ${CTR_IP[$CTR]} ${CTR_IP6[$CTR]}"
    local new=$CTR c f fails
    for f in 4 6; do
        fails=0
        for c in "$(ctr 1 1)" "$(ctr 2 2)" "$(ctr 3 1)"; do
            PING_FAMILY=$f ping_quick "$c" "$(PING_FAMILY=$f ctr_addr "$new")" || { fails=$((fails + 1)); log "          | $(ctr_label "$c") cannot reach n4c1 (IPv$f)"; }
            PING_FAMILY=$f ping_quick "$new" "$(PING_FAMILY=$f ctr_addr "$c")" || { fails=$((fails + 1)); log "          | n4c1 cannot reach $(ctr_label "$c") (IPv$f)"; }
        done
        assert_eq "n4c1 <-> n1c1, n2c2, n3c1 over IPv$f" 0 "$fails"
    done
}

sc_leave() {
    log "--- the fourth node leaves (agent stopped, lease deleted)"
    [ -n "${KEY[4]:-}" ] || { fail "node 4 present (needs the join scenario)"; return; }
    agent_stop 4
    reg_del_lease "${KEY[4]}"
    local t0 j msg="" worst=0 tj
    local -A gone=()
    t0=$(now_ms)
    while :; do
        local all=1
        for j in 1 2 3; do
            [ -n "${gone[$j]:-}" ] && continue
            if trace_is_empty "$j" "${SUB[4]}" "${NODE_IP[4]}" "${MAC[4]}" && trace6_is_empty "$j" "${SUB6[4]}" "${MAC6[4]}"; then
                gone[$j]=$(($(now_ms) - t0))
            else all=0; fi
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
    LEAVE_TIMES=$msg
    if [ $worst -le "$LEAVE_BUDGET_MS" ]; then
        pass "n4's IPv4 and IPv6 entries gone everywhere within $LEAVE_BUDGET_MS ms ($msg)"
    else
        local left=""
        for j in 1 2 3; do left+="n$j: v4 '$(any_peer_trace "$j" "${SUB[4]}" "${NODE_IP[4]}" "${MAC[4]}")' v6 '$(any_peer_trace6 "$j" "${SUB6[4]}" "${MAC6[4]}")' "; done
        fail "n4's entries gone everywhere within $LEAVE_BUDGET_MS ms ($msg)" "left: $left"
    fi
    check "n1 /metrics: peers_by_family ipv6 programmed back to 2" wait_for 2000 peers_by_family 1 ipv6 programmed 2
}

# A lease as flannel writes it (its key and JSON), for a peer that does not exist.
sc_fixture() {
    log "--- a lease written by flannel's rules is understood; ours reads back unchanged"
    local a=$CLUSTER_NET_A key sub sub6 pip="$UNDERLAY.77" pip6="$UL6::77" m4=0a:58:0a:4d:00:04 m6=0a:58:0a:4d:00:06 lease bd="null" bd6="null"
    key="10.$a.77.0-24&fd00:$a:0:77::-64" sub="10.$a.77.0/24" sub6="fd00:$a:0:77::/64"
    if [ "$BACKEND" = vxlan ]; then bd="{\"VNI\":1,\"VtepMAC\":\"$m4\"}" bd6="{\"VNI\":1,\"VtepMAC\":\"$m6\"}"; fi
    lease="{\"PublicIP\":\"$pip\",\"PublicIPv6\":\"$pip6\",\"BackendType\":\"$BACKEND\",\"BackendData\":$bd,\"BackendV6Data\":$bd6}"
    put_lease "$key" "$lease" || { fail "fixture lease written (test setup)"; return; }
    [ "$BACKEND" = vxlan ] || m4="" m6=""
    local j
    for j in 1 3; do
        if wait_for 3000 state_is "$j" "$sub" "$pip" "$m4" "$(full_state)"; then pass "n$j programs the fixture's IPv4 half in $WAITED_MS ms"
        else fail "n$j programs the fixture's IPv4 half" "has '$(peer_state "$j" "$sub" "$pip" "$m4")'"; fi
        if wait_for 3000 state6_is "$j" "$sub6" "$pip6" "$m6" "$(full_state)"; then pass "n$j programs the fixture's IPv6 half in $WAITED_MS ms"
        else fail "n$j programs the fixture's IPv6 half" "has '$(peer_state6 "$j" "$sub6" "$pip6" "$m6")'"$'\n'"$(agent_log_tail "$j" 4)"; fi
    done
    reg_del_lease "$key"
    check "fixture gone from n1 once its lease is deleted" \
        wait_for 3000 sh -c "[ -z \"\$(ip -n '${NODE_NS[1]}' route show '$sub'; ip -6 -n '${NODE_NS[1]}' route show '$sub6')\" ]"
    # ours, read back and written again byte for byte: nothing changes anywhere
    local before after st
    before=$(reg_lease_json "${KEY[1]}")
    reput_lease "${KEY[1]}" || { fail "n1's lease written again (test setup)"; return; }
    # judged after n1 and n2 have each been through two more passes (event and resync)
    wait_reconciles 1 2 && wait_reconciles 2 2 || fail "n1 and n2 complete two more reconcile passes"
    after=$(reg_lease_json "${KEY[1]}")
    assert_eq "n1's lease bytes unchanged after the re-put" "$before" "$after"
    for j in 2 3; do check "n$j still programs n1 (both families) after the re-put" both_full "$j" 1; done
    st=$(readyz 1)
    assert_eq "n1 still ready after its own lease was re-put" 200 "$st"
    check "n1 kept its subnets (subnet.env)" sh -c "[ '$(senv 1 FLANNEL_IPV6_SUBNET)' = '${SUB6[1]%/*}1/64' ]"
}

# A restart keeps what the rest of the cluster knows: the same lease (both halves, same
# bytes), the same IPv6 VTEP MAC (state dir), and every peer keeps both families' entries.
sc_restart() {
    log "--- n2's agent restarted: same lease (both halves), same IPv6 VTEP MAC"
    local before mac6="" j t0
    before=$(reg_lease_json "${KEY[2]}")
    [ "$BACKEND" = vxlan ] && mac6=$(dev_mac 2 "$V6DEV")
    agent_stop 2 TERM
    t0=$(now_ms)
    agent_for 2
    if agent_wait_ready 2 15; then pass "n2 ready again $(($(now_ms) - t0)) ms after the restart"
    else fail "n2 ready again after the restart" "$(agent_log_tail 2)"; return; fi
    assert_eq "n2's lease after the restart (same key, same bytes)" "$before" "$(reg_lease_json "${KEY[2]}")"
    assert_eq "n2 FLANNEL_IPV6_SUBNET after the restart" "${SUB6[2]%/*}1/64" "$(senv 2 FLANNEL_IPV6_SUBNET)"
    if [ "$BACKEND" = vxlan ]; then
        assert_eq "n2 $V6DEV keeps its MAC across the restart" "$mac6" "$(dev_mac 2 "$V6DEV")"
        assert_eq "n2 $V6DEV MAC is the lease's BackendV6Data.VtepMAC" "${MAC6[2]}" "$(dev_mac 2 "$V6DEV")"
    fi
    for j in 1 3; do check "n$j still programs n2 (both families) after n2's restart" wait_for 2000 both_full "$j" 2; done
    check "ping6 n1c1 -> n2c1 after n2's restart" ping6_quick "$(ctr 1 1)" "${CTR_IP6[$(ctr 2 1)]}"
}

run_cluster() {
    if ! ds_cluster_up; then
        log "cluster did not come up; skipping its scenarios"
        cluster_end
        return
    fi
    local s
    for s in state matrix traffic repair join leave fixture restart; do "sc_$s"; done
    RESULTS+=("$REGISTRY/$BACKEND: join ${JOIN_TIMES:-n/a}| leave ${LEAVE_TIMES:-n/a}| v6 repair ${REPAIR_TIMES:-n/a}")
    JOIN_TIMES="" LEAVE_TIMES="" REPAIR_TIMES=""
    cluster_end
}

# ------------------------------------------------------------------ bad input

# ds_bad <desc> <config-json> <log-ere> [--no-v6]: one node, not ready, says why, nothing programmed
ds_bad() {
    local desc=$1 conf=$2 re=$3 np np6
    cluster_begin "bad input: $desc"
    reg_put_config "$conf"
    node_new 1 || return
    [ "${4:-}" = --no-v6 ] || node_v6 1
    agent_start 1
    if agent_failed_or_unready 1 "${BAD_WAIT:-10}" "$re"; then pass "$desc: agent fails ($AGENT_FATE)"
    else fail "$desc: agent fails" "$AGENT_FATE"$'\n'"$(agent_log_tail 1 4)"; fi
    assert_log 1 "$desc: the log says why (/$re/)" "$re"
    if agent_running 1; then
        check "$desc: /readyz body says why (/$re/)" grep -qiE -- "$re" "${NODE_DIR[1]}/http.body"
    fi
    np=$(nothing_programmed 1)
    np6=$(v6_nothing_programmed 1)
    if [ -z "$np$np6" ]; then pass "$desc: nothing programmed (no device, subnet.env, lease, route)"
    else fail "$desc: nothing programmed" "$np$np6"; fi
    cluster_end
}

run_bad_inputs() {
    BACKEND=vxlan
    local a=$CLUSTER_NET_A
    ds_bad "EnableIPv6 without IPv6Network" \
        "{\"Network\":\"10.$a.0.0/16\",\"EnableIPv6\":true,\"Backend\":{\"Type\":\"vxlan\"}}" 'IPv6Network'
    ds_bad "IPv6SubnetLen 40 in a /48" "$(ds_config '{"IPv6SubnetLen":40}')" 'IPv6SubnetLen'
    ds_bad "a node without an IPv6 underlay address" "$(ds_config)" 'IPv6' --no-v6
    BACKEND=host-gw
    ds_bad "host-gw: a node without an IPv6 underlay address" "$(ds_config)" 'IPv6' --no-v6
}

# ------------------------------------------------------------------ main

main() {
    local t_start reg be
    t_start=$(now_ms)
    xinit_run
    if [ "$IS_REFERENCE" = 1 ]; then
        log "PLUGINS_DIR is the reference plugins: no flannel-vxlan/host-gw there, dual-stack suite skipped"
        summary
        return
    fi
    pick_ul6
    ip -n "$OUT_NS" addr add "$UL6::200/64" dev eth0 nodad || die "outside host IPv6 address"
    log "IPv6 underlay $UL6::/64, cluster network $(net6)"
    for reg in $REGISTRIES; do
        REGISTRY=$reg
        CURRENT_SCENARIO=$reg
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
                fail "$PLUGINS_DIR/$bin and $AGENT_BIN exist"
                continue
            fi
            run_cluster
        done
        [[ " $BAD_REGISTRIES " == *" $reg "* ]] && [ -x "$AGENT_BIN" ] && run_bad_inputs
        [ "$reg" = etcd ] && etcd_stop
    done
    if [ ${#RESULTS[@]} -gt 0 ]; then
        log ""
        log "measured:"
        printf '  %s\n' "${RESULTS[@]}" >&2
    fi
    log "wall time $(($(now_ms) - t_start)) ms"
    summary
}

main "$@"
