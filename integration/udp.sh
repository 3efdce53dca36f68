#!/usr/bin/env bash
# Multi-node end-to-end scenarios for the UDP backend (issue 10; engine:
# docs/udp-tunnel.md): swift-flanneld with {"Backend":{"Type":"udp"}} forwards
# between the TUN device flannel0 and UDP port 8285, containers attach through
# flannel-udp (network cbr0-udp). Topology and helpers: lib-cross.sh.
#
#   PLUGINS_DIR=$PWD/.build/cni-bin bash integration/udp.sh
#
# Optional: REGISTRIES="dir etcd"
#           SCENARIOS="matrix device wire crafted unreachable join leave term kill transfer"
#           JOIN_BUDGET_MS (1000) LEAVE_BUDGET_MS (5000) KILL_GAP_BUDGET_MS (5000)
#           TRANSFER_MIB (64) KEEP_TMP=1
# Node 3 keeps the default resync interval (10 s): what it does within a second
# comes from the registry watch. Last line: "N passed, N failed".

INTEG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$INTEG_DIR/lib.sh"
# shellcheck source=lib-cross.sh
. "$INTEG_DIR/lib-cross.sh"

REGISTRIES=${REGISTRIES:-dir etcd}
ALL_SCENARIOS="matrix device wire crafted unreachable join leave term kill transfer"
SCENARIOS=${SCENARIOS:-$ALL_SCENARIOS}
JOIN_BUDGET_MS=${JOIN_BUDGET_MS:-1000}
LEAVE_BUDGET_MS=${LEAVE_BUDGET_MS:-5000}
KILL_GAP_BUDGET_MS=${KILL_GAP_BUDGET_MS:-5000}
TRANSFER_MIB=${TRANSFER_MIB:-64}
UDP_PORT=8285
WIRE="$INTEG_DIR/udp-wire.py"
TCPSHA="$INTEG_DIR/tcp-sha.py"
PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)  # not a pyenv shim inside netns

want() { [[ " $SCENARIOS " == *" $1 "* ]]; }

declare -A SUB=() MAC=() KEY=()

# start_log <k>: node k's agent log since its last start
start_log() { sed -n '/--- start/h; /--- start/!H; ${x;p}' "${NODE_DIR[$1]}/agent.log" 2>/dev/null; }

# tunnel_line <k>: the "udp tunnel ... path=..." line of the current run (waits up to 2 s)
tunnel_line() {
    local i l
    for ((i = 0; i < 40; i++)); do
        l=$(start_log "$1" | grep -i 'udp tunnel' | grep 'path=' | tail -n1)
        [ -n "$l" ] && { echo "$l"; return 0; }
        sleep 0.05
    done
    return 1
}

ifindex() { ip -n "${NODE_NS[$1]}" -o link show flannel0 2>/dev/null | cut -d: -f1; }
ul_mtu() { ip -n "${NODE_NS[$1]}" -o link show eth0 | sed -n 's/.* mtu \([0-9]*\) .*/\1/p'; }

# device_intact <k>: flannel0 with its /32 and the Network route; prints what is missing
device_intact() {
    local k=$1 miss=""
    has_link "$k" flannel0 || miss+="flannel0 gone; "
    out_has " $(subnet_net "${SUB[$k]}")/32 " ip -n "${NODE_NS[$k]}" -4 -o addr show dev flannel0 || miss+="no $(subnet_net "${SUB[$k]}")/32; "
    [ "$(peer_state "$k" "" "" "")" = route ] || miss+="no route $(cluster_net) dev flannel0 proto 92; "
    printf '%s' "$miss"
    [ -z "$miss" ]
}

# has_all <text> <substring>...: the text contains every substring
has_all() {
    local t=$1 x
    shift
    for x in "$@"; do [[ $t == *"$x"* ]] || return 1; done
}

# unreachable_from <ns> <addr> [wait-s]: one ping gets "Destination Net Unreachable";
# PING_MS = how long it took
unreachable_from() {
    local t0 o
    t0=$(now_ms)
    o=$(ip netns exec "$1" ping -4 -n -c1 -W"${3:-2}" "$2" 2>&1)
    PING_MS=$(($(now_ms) - t0))
    grep -q 'Destination Net Unreachable' <<<"$o"
}

# ------------------------------------------------------------------ scenarios

sc_matrix() {
    log "--- every container pings every other"
    reach_matrix
}

sc_device() {
    log "--- flannel0, the socket, subnet.env, leases, metrics"
    local k j mtu d line
    for k in 1 2 3; do
        mtu=$(($(ul_mtu "$k") - 28))
        d=$(ip -d -n "${NODE_NS[$k]}" link show flannel0 2>/dev/null | tr '\n' ' ')
        check "n$k flannel0: tun, no PI, persistent, up, mtu $mtu (underlay - 28)" \
            has_all "$d" "tun type tun pi off" "persist on" " mtu $mtu " ",UP" || log "          | $d"
        local why
        if why=$(device_intact "$k"); then
            pass "n$k flannel0 has $(subnet_net "${SUB[$k]}")/32, route $(cluster_net) dev flannel0 proto 92"
        else
            fail "n$k flannel0 address and route" "$why"$'\n'"$(ip -n "${NODE_NS[$k]}" route show)"
        fi
        assert_eq "n$k subnet.env FLANNEL_MTU" "$mtu" "$(senv "$k" FLANNEL_MTU)"
        assert_eq "n$k subnet.env FLANNEL_NETWORK" "$(cluster_net)" "$(senv "$k" FLANNEL_NETWORK)"
        check "n$k has no flannel.1" sh -c "! ip -n '${NODE_NS[$k]}' link show flannel.1 >/dev/null 2>&1"
        check "n$k: UDP socket on ${NODE_IP[$k]}:$UDP_PORT" \
            out_has "${NODE_IP[$k]}:$UDP_PORT " ip netns exec "${NODE_NS[$k]}" ss -uln
        local lj
        lj=$(reg_lease_json "${KEY[$k]}")
        assert_eq "n$k lease BackendType" udp "$(jq -r .BackendType <<<"$lj" 2>/dev/null)"
        assert_eq "n$k lease PublicIP" "${NODE_IP[$k]}" "$(jq -r .PublicIP <<<"$lj" 2>/dev/null)"
        line=$(tunnel_line "$k")
        check "n$k logs the offload path (default automatic): ${line:-no 'udp tunnel ... path=' line}" \
            grep -q 'path=.*offload' <<<"$line"
        for j in 1 2 3; do
            [ "$j" = "$k" ] && continue
            check "n$k /metrics: packets out and in for peer n$j (${SUB[$j]}) after the matrix" \
                test "$(metric_sum "$k" swiftcni_udp_packets_total "peer=\"${SUB[$j]}\"" 'direction="out"')" -gt 0 -a \
                "$(metric_sum "$k" swiftcni_udp_packets_total "peer=\"${SUB[$j]}\"" 'direction="in"')" -gt 0
        done
    done
    check "n1 /metrics has swiftcni_udp_bytes_total" test "$(metric_sum 1 swiftcni_udp_bytes_total 'direction="out"')" -gt 0
    check "three distinct subnets" test "$(printf '%s\n' "${SUB[1]}" "${SUB[2]}" "${SUB[3]}" | sort -u | wc -l)" = 3
}

sc_wire() {
    log "--- what crosses the underlay: UDP $UDP_PORT carrying the raw inner IPv4 packet"
    local a b ia ib pc r
    a=$(ctr 1 1) b=$(ctr 2 1)
    ia=${CTR_IP[$a]} ib=${CTR_IP[$b]}
    pc="$CLDIR/wire.pcap"
    CAP_OPTS="-w $pc -U --immediate-mode" capture_start "${NODE_NS[1]}" eth0 "udp or icmp" || { fail "tcpdump on n1 eth0"; return; }
    ip netns exec "$a" ping -c 3 -i 0.2 -W 1 -q "$ib" >/dev/null 2>&1
    capture_stop pcap_count_ge 6 "$pc" "udp port $UDP_PORT and host ${NODE_IP[2]}"
    local tun v4 m
    r=$("$PY" "$WIRE" pcap "$pc" "$UDP_PORT" "${NODE_IP[1]}" "${NODE_IP[2]}" "$ia" "$ib")
    read -r tun v4 m <<<"$(sed 's/[a-z0-9]*=//g' <<<"$r")"
    check "n1c1 -> n2c1 leaves n1 as UDP ${NODE_IP[1]} -> ${NODE_IP[2]}:$UDP_PORT with inner $ia > $ib ($r)" \
        test "${m:-0}" -ge 3
    check "every such datagram's payload is one whole IPv4 packet (starts 0x45, lengths agree): $v4 of $tun" \
        test "${v4:-x}" = "${tun:-y}"
    r=$("$PY" "$WIRE" pcap "$pc" "$UDP_PORT" "${NODE_IP[2]}" "${NODE_IP[1]}" "$ib" "$ia")
    read -r tun v4 m <<<"$(sed 's/[a-z0-9]*=//g' <<<"$r")"
    check "the replies come back the same way, n2 -> n1:$UDP_PORT with inner $ib > $ia ($r)" \
        test "${m:-0}" -ge 3 -a "${v4:-x}" = "${tun:-y}"
    assert_eq "no plain ICMP between the containers on the underlay" 0 \
        "$(tcpdump -n -r "$pc" "icmp and host $ia" 2>/dev/null | grep -c . || true)"
}

# crafted_send <netns> <inner-src> <inner-dst> <icmp-id> [raw-src-ip raw-src-port]: one
# datagram from that netns to n1:8285 carrying an echo request (udp-wire.py send)
crafted_send() {
    local ns=$1 isrc=$2 idst=$3 id=$4
    shift 4
    ip netns exec "$ns" "$PY" "$WIRE" send "${NODE_IP[1]}" "$UDP_PORT" "$isrc" "$idst" "$id" "$@" 2>&1
}

# drops_at_least <u0> <s0> <d0>: n1's drop counters rose by the crafted datagrams' share
drops_at_least() {
    [ "$(metric_sum 1 swiftcni_udp_drops_total 'reason="unknown_sender"')" -ge $(($1 + 2)) ] &&
        [ "$(metric_sum 1 swiftcni_udp_drops_total 'reason="foreign_inner_source"')" -ge $(($2 + 1)) ] &&
        [ "$(metric_sum 1 swiftcni_udp_drops_total 'reason="foreign_inner_destination"')" -ge $(($3 + 1)) ]
}

sc_crafted() {
    log "--- crafted datagrams to n1:$UDP_PORT: only peers, only for their own subnet"
    local t=$(ctr 1 1) s2=$(ctr 2 1) s3=$(ctr 3 1) caps=() f c i
    local it=${CTR_IP[$(ctr 1 1)]} i2=${CTR_IP[$(ctr 2 1)]} i3=${CTR_IP[$(ctr 3 1)]}
    for c in "$t" "$s2" "$s3"; do
        CAP_OPTS=--immediate-mode capture_start "$c" eth0 icmp || { fail "tcpdump in $(ctr_label "$c")"; return; }
        caps+=("$CAP_PID:$CAP_FILE")
    done
    local base=$((RANDOM % 20000 + 10000))
    local ok_id=$base unk_id=$((base + 1)) port_id=$((base + 2)) src_id=$((base + 3)) dst_id=$((base + 4))
    local u0 p0 s0 d0
    u0=$(metric_sum 1 swiftcni_udp_drops_total 'reason="unknown_sender"')
    s0=$(metric_sum 1 swiftcni_udp_drops_total 'reason="foreign_inner_source"')
    d0=$(metric_sum 1 swiftcni_udp_drops_total 'reason="foreign_inner_destination"')
    # control: from n3's address and port, inner source in n3's subnet -> delivered
    crafted_send "${NODE_NS[3]}" "$i3" "$it" $ok_id "${NODE_IP[3]}" $UDP_PORT
    # from the outside host (no node), inner source n2c1
    crafted_send "$OUT_NS" "$i2" "$it" $unk_id
    # from n3's address but another port
    crafted_send "${NODE_NS[3]}" "$i3" "$it" $port_id "${NODE_IP[3]}" 40000
    # from n3's address and port 8285, inner source n2c1 (n2's subnet)
    crafted_send "${NODE_NS[3]}" "$i2" "$it" $src_id "${NODE_IP[3]}" $UDP_PORT
    # from n3's address and port 8285 to n1, inner destination n2c1 (not n1's subnet)
    crafted_send "${NODE_NS[3]}" "$i3" "$i2" $dst_id "${NODE_IP[3]}" $UDP_PORT
    local ft=${caps[0]#*:} f2=${caps[1]#*:} f3=${caps[2]#*:}
    # Settled once the control's reply is back in n3c1 and n1 has counted the four others as
    # dropped: only then does "nothing arrived" below mean something.
    wait_for 3000 sh -c "grep 'id $ok_id,' '$f3' | grep -q 'echo reply'"
    wait_for 3000 drops_at_least "$u0" "$s0" "$d0"
    for c in "${caps[@]}"; do stop_pid "${c%%:*}" INT 3; done
    seen() { grep -q "id $2," "$1"; }
    check "control (n3's address and port, inner $i3 > $it): n1c1 gets the echo request" seen "$ft" $ok_id ||
        log "          | n1c1 saw: $(head -n 3 "$ft" | tr '\n' '|')"
    check "control: n3c1 gets the reply" sh -c "grep 'id $ok_id,' '$f3' | grep -q 'echo reply'"
    for i in "unk_id:outside host $OUT_IP, inner $i2 > $it" "port_id:n3's address, port 40000" \
        "src_id:n3's address and port $UDP_PORT, inner source $i2 (n2's)" "dst_id:n3's address and port $UDP_PORT, inner destination $i2 (not n1's)"; do
        local id=${i%%:*}
        id=${!id}
        check "${i#*:}: nothing reaches n1c1, n2c1 or n3c1" \
            sh -c "! grep -q 'id $id,' '$ft' '$f2' '$f3'"
    done
    check "n1 /metrics: drops{reason=unknown_sender} +2 (outside host, wrong port)" \
        test "$(metric_sum 1 swiftcni_udp_drops_total 'reason="unknown_sender"')" -ge $((u0 + 2))
    check "n1 /metrics: drops{reason=foreign_inner_source} +1" \
        test "$(metric_sum 1 swiftcni_udp_drops_total 'reason="foreign_inner_source"')" -ge $((s0 + 1))
    check "n1 /metrics: drops{reason=foreign_inner_destination} +1" \
        test "$(metric_sum 1 swiftcni_udp_drops_total 'reason="foreign_inner_destination"')" -ge $((d0 + 1))
    log "          | n1 drops: $(metric_sum 1 swiftcni_udp_drops_total 'reason="unknown_sender"') unknown_sender, $(metric_sum 1 swiftcni_udp_drops_total 'reason="foreign_inner_source"') foreign_inner_source, $(metric_sum 1 swiftcni_udp_drops_total 'reason="foreign_inner_destination"') foreign_inner_destination"
}

sc_unreachable() {
    log "--- an address in the Network that no node owns"
    local n=250 u0 u1 s
    while printf '%s\n' "${SUB[@]}" | grep -q "^10\.$CLUSTER_NET_A\.$n\.0/"; do n=$((n - 1)); done
    u0=$(metric_sum 1 swiftcni_udp_unreachables_sent_total)
    if unreachable_from "$(ctr 1 1)" "10.$CLUSTER_NET_A.$n.7"; then
        pass "n1c1 ping 10.$CLUSTER_NET_A.$n.7: Destination Net Unreachable after $PING_MS ms"
    else
        fail "n1c1 ping 10.$CLUSTER_NET_A.$n.7: Destination Net Unreachable (took $PING_MS ms)"
    fi
    check "... at once, not a timeout ($PING_MS ms < 1000)" test "$PING_MS" -lt 1000
    u1=$(metric_sum 1 swiftcni_udp_unreachables_sent_total)
    check "n1 /metrics: swiftcni_udp_unreachables_sent_total rises ($u0 -> $u1)" test "$u1" -gt "$u0"
}

sc_join() {
    log "--- a fourth node joins"
    local k=4 t0 tl="" tr="" now j dir p jp=()
    node_new $k || return
    t0=$(now_ms)
    agent_start $k
    dir=$(mktemp -d "$CLDIR/join.XXXX")
    while :; do
        now=$(now_ms)
        if [ -z "$tl" ] && lease_poll $k; then
            tl=$now
            # from now on every existing node's first container pings n4's flannel0 address
            for j in 1 2 3; do
                (until ip netns exec "$(ctr "$j" 1)" ping -4 -c1 -W1 -q "$(subnet_net "${SUB[$k]}")" >/dev/null 2>&1; do
                    [ $(($(now_ms) - tl)) -gt 15000 ] && exit 1
                    sleep 0.02
                done
                now_ms >"$dir/$j") &
                jp+=($!)
                BG_PIDS+=($!)
            done
        fi
        if [ -n "$tl" ] && [ -z "$tr" ] && [ "$(readyz $k)" = 200 ]; then tr=$(now_ms); fi
        [ -n "$tr" ] && [ -s "$dir/1" ] && [ -s "$dir/2" ] && [ -s "$dir/3" ] && break
        [ $((now - t0)) -gt 15000 ] && break
        agent_running $k || break
        sleep 0.01
    done
    wait_for 3000 sh -c "[ -s '$dir/1' ] && [ -s '$dir/2' ] && [ -s '$dir/3' ]"
    for p in "${jp[@]}"; do stop_pid "$p" TERM 1; done
    if [ -z "$tl" ] || [ -z "$tr" ]; then
        fail "n$k: lease and /readyz 200 within 15 s" "$(agent_log_tail $k)"
        return
    fi
    pass "n$k: lease ${KEY[$k]} $((tl - t0)) ms, ready $((tr - t0)) ms after the agent started"
    local msg="" tj ok=1
    for j in 1 2 3; do
        tj=never
        [ -s "$dir/$j" ] && tj=$(($(cat "$dir/$j") - tr)) && [ "$tj" -lt 0 ] && tj=0
        msg+="n${j}c1 $tj ms"
        [ -s "$dir/$j" ] && msg+=" ($(($(cat "$dir/$j") - tl)) from the lease)"
        msg+="; "
        [ "$tj" != never ] && [ "$tj" -le "$JOIN_BUDGET_MS" ] || ok=0
    done
    JOIN_TIMES="from ready: $msg"
    check "n$k's flannel0 address answers every old node's container within $JOIN_BUDGET_MS ms of ready ($msg)" test $ok = 1 ||
        log "$(agent_log_tail $k 4 | sed 's/^/          | /')"
    node_record $k
    if ctr_attach $k c1; then pass "ADD n${k}c1 -> ${CTR_IP[$CTR]}"; else fail "ADD n${k}c1" "$(last_output)"; return; fi
    reach_matrix "$(ctr 4 1)" "$(ctr 1 1)" "$(ctr 2 2)" "$(ctr 3 1)"
}

sc_leave() {
    log "--- the fourth node leaves (agent stopped, lease deleted)"
    [ -n "${KEY[4]:-}" ] || { fail "node 4 present (needs the join scenario)"; return; }
    local dst=${CTR_IP[$(ctr 4 1)]} j o0 o1 msg="" ok=1 t0
    agent_stop 4
    reg_del_lease "${KEY[4]}"
    t0=$(now_ms)
    for j in 1 2 3; do
        if wait_for "$LEAVE_BUDGET_MS" unreachable_from "$(ctr "$j" 1)" "$dst" 0.3; then
            msg+="n$j $(($(now_ms) - t0)) ms; "
        else
            msg+="n$j never; "; ok=0
        fi
    done
    LEAVE_TIMES=$msg
    check "n4c1 $dst: Destination Net Unreachable from n1c1, n2c1, n3c1 within $LEAVE_BUDGET_MS ms ($msg)" test $ok = 1
    o0=$(metric_sum 1 swiftcni_udp_packets_total "peer=\"${SUB[4]}\"" 'direction="out"')
    ip netns exec "$(ctr 1 1)" ping -4 -c3 -i 0.2 -W1 -q "$dst" >/dev/null 2>&1
    o1=$(metric_sum 1 swiftcni_udp_packets_total "peer=\"${SUB[4]}\"" 'direction="out"')
    assert_eq "n1 sends nothing more to n4 (packets out for ${SUB[4]})" "$o0" "$o1"
    check "n1 /metrics: swiftcni_peers{state=\"programmed\"} back to 2" \
        wait_for 2000 metric_eq 1 2 swiftcni_peers 'state="programmed"'
    check "n1c1 still reaches n3c1" ping_quick "$(ctr 1 1)" "${CTR_IP[$(ctr 3 1)]}"
}

sc_term() {
    log "--- SIGTERM leaves flannel0, its address and route"
    local ix why
    ix=$(ifindex 3)
    agent_stop 3 TERM
    assert_eq "n3's agent exits 0 on SIGTERM" 0 "$STOP_RC"
    if why=$(device_intact 3); then pass "n3 keeps flannel0 (ifindex $ix), its /32 and the route while down"; else fail "n3 keeps flannel0, address, route after SIGTERM" "$why"; fi
    agent_for 3
    if agent_wait_ready 3 15; then pass "n3's agent ready again"; else fail "n3's agent ready again" "$(agent_log_tail 3)"; fi
    assert_eq "n3 reuses the same flannel0 (ifindex)" "$ix" "$(ifindex 3)"
    check "n1c1 -> n3c1 after the restart" ping_quick "$(ctr 1 1)" "${CTR_IP[$(ctr 3 1)]}"
    check "n3c2 -> n2c1 after the restart" ping_quick "$(ctr 3 2)" "${CTR_IP[$(ctr 2 1)]}"
}

sc_kill() {
    log "--- SIGKILL and restart of n2's agent under ping -i 0.1"
    local f1=$CLDIR/ping-kill-1 f2=$CLDIR/ping-kill-2 p1 p2 l1 l2 ix why t0
    ix=$(ifindex 2)
    ping_bg "$(ctr 1 1)" "${CTR_IP[$(ctr 2 1)]}" "$f1" 0.1; p1=$PING_PID
    ping_bg "$(ctr 2 2)" "${CTR_IP[$(ctr 3 2)]}" "$f2" 0.1; p2=$PING_PID
    ping_bg_answered "$f1" "$f2" || fail "pings flow before the kill (test setup)" "$(tail -n 2 "$f1" "$f2")"
    agent_stop 2 KILL
    t0=$(now_ms)
    if why=$(device_intact 2); then pass "flannel0, its /32 and the route survive SIGKILL"; else fail "flannel0 survives SIGKILL" "$why"; fi
    assert_eq "same flannel0 after the kill (ifindex)" "$ix" "$(ifindex 2)"
    agent_start 2
    if agent_wait_ready 2 15; then pass "n2's agent ready $(($(now_ms) - t0)) ms after the kill"; else fail "n2's agent ready after the kill" "$(agent_log_tail 2)"; fi
    wait_for 5000 ping_quick "$(ctr 1 1)" "${CTR_IP[$(ctr 2 1)]}"
    sleep 1  # the thing under test: traffic keeps flowing for 1 s after the restart, so the gap is closed by answered pings
    l1=$(ping_bg_losses "$p1" "$f1")
    l2=$(ping_bg_losses "$p2" "$f2")
    local g1=$((${l1%%/*} * 100)) g2=$((${l2%%/*} * 100))
    KILL_GAP="n1c1->n2c1 $g1 ms ($l1 lost), n2c2->n3c2 $g2 ms ($l2 lost)"
    check "forwarding resumes by itself: last replies received (n1c1->n2c1 lost/sent $l1, n2c2->n3c2 $l2)" \
        sh -c "tail -n 6 '$f1' | grep -q 'bytes from' && tail -n 6 '$f2' | grep -q 'bytes from'"
    check "SIGKILL gap n1c1 -> n2c1 $g1 ms, n2c2 -> n3c2 $g2 ms (each <= $KILL_GAP_BUDGET_MS ms)" \
        test "$g1" -le "$KILL_GAP_BUDGET_MS" -a "$g2" -le "$KILL_GAP_BUDGET_MS"
    assert_eq "the restarted agent reuses flannel0 (ifindex)" "$ix" "$(ifindex 2)"
}

# transfer <label>: TRANSFER_MIB from n1c2 to n2c2, sha256 compared
transfer() {
    local label=$1 src=$(ctr 1 2) dst=$(ctr 2 2) res="$CLDIR/sink.$1" out pid i
    rm -f "$res"
    local b0 b1
    b0=$(metric_sum 1 swiftcni_udp_bytes_total "peer=\"${SUB[2]}\"" 'direction="out"')
    ip netns exec "$dst" timeout 120 "$PY" "$TCPSHA" sink 5201 "$res" >"$res.log" 2>&1 &
    pid=$!
    BG_PIDS+=("$pid")
    for ((i = 0; i < 50; i++)); do grep -q listening "$res.log" && break; sleep 0.1; done
    out=$(ip netns exec "$src" timeout 120 "$PY" "$TCPSHA" source "${CTR_IP[$dst]}" 5201 "$PAYLOAD" 2>&1)
    wait_for 10000 test -s "$res"
    stop_pid "$pid" TERM 3
    local want got secs rate
    want="$(stat -c %s "$PAYLOAD") $PAYLOAD_SHA"
    got=$(cat "$res" 2>/dev/null)
    secs=${out#* }
    rate=$(awk -v b="${out%% *}" -v s="$secs" 'BEGIN { if (s > 0) printf "%.0f", b * 8 / s / 1e6; else print "?" }' 2>/dev/null)
    TRANSFER+="$label ${rate} Mbit/s; "
    if [ "$want" = "$got" ]; then
        pass "$label: ${TRANSFER_MIB} MiB n1c2 -> n2c2 over TCP, sha256 equal (${secs} s, ${rate} Mbit/s)"
    else
        fail "$label: ${TRANSFER_MIB} MiB n1c2 -> n2c2, sha256 equal" "sent: $want"$'\n'"received: ${got:-nothing}"$'\n'"source: $out"$'\n'"$(cat "$res.log")"
    fi
    b1=$(metric_sum 1 swiftcni_udp_bytes_total "peer=\"${SUB[2]}\"" 'direction="out"')
    check "$label: n1's tunnel carried it (bytes out to ${SUB[2]} +$((b1 - b0)) >= ${TRANSFER_MIB} MiB)" \
        test $((b1 - b0)) -ge $((TRANSFER_MIB << 20))
}

sc_transfer() {
    log "--- ${TRANSFER_MIB} MiB TCP across nodes, offload path, then every agent on the plain path"
    PAYLOAD="$RUN_DIR/payload"
    [ -s "$PAYLOAD" ] || head -c "$((TRANSFER_MIB << 20))" /dev/urandom >"$PAYLOAD"
    PAYLOAD_SHA=$(sha256sum "$PAYLOAD" | cut -d' ' -f1)
    transfer automatic
    local k line ok=1
    # n1 and n2 get the flag, n3 the environment variable
    for k in 1 2 3; do
        agent_running "$k" || continue
        agent_stop "$k"
        if [ "$k" = 3 ]; then
            FLANNELD_UDP_PATH=plain agent_for "$k"
        else
            AGENT_EXTRA=(--udp-path plain)
            agent_for "$k"
            AGENT_EXTRA=()
        fi
    done
    for k in 1 2 3; do agent_wait_ready "$k" 15 || { ok=0; fail "n$k ready with --udp-path plain" "$(agent_log_tail "$k")"; }; done
    [ $ok = 1 ] || return
    for k in 1 2 3; do
        line=$(tunnel_line "$k")
        check "n$k logs the plain path ($([ "$k" = 3 ] && echo FLANNELD_UDP_PATH=plain || echo --udp-path plain)): ${line:-no 'udp tunnel ... path=' line}" grep -q 'path=.*plain, 1 queue' <<<"$line"
    done
    check "n1c2 -> n2c2 on the plain path" wait_for 3000 ping_quick "$(ctr 1 2)" "${CTR_IP[$(ctr 2 2)]}"
    transfer plain
}

# ------------------------------------------------------------------ main

run_cluster() {
    BACKEND=udp
    if ! cluster_up; then
        log "cluster did not come up; skipping its scenarios"
        cluster_end
        return
    fi
    local s
    for s in $ALL_SCENARIOS; do
        want "$s" && "sc_$s"
    done
    RESULTS+=("$REGISTRY/udp: join ${JOIN_TIMES:-n/a}| leave ${LEAVE_TIMES:-n/a}| SIGKILL gap ${KILL_GAP:-n/a}| transfer ${TRANSFER:-n/a}")
    JOIN_TIMES="" LEAVE_TIMES="" KILL_GAP="" TRANSFER=""
    cluster_end
}

RESULTS=()

main() {
    xinit_run
    local t0=$SECONDS
    if [ "$IS_REFERENCE" = 1 ]; then
        log "PLUGINS_DIR is the reference plugins: no flannel-udp there, udp suite skipped"
        summary
        return
    fi
    [ -x "$PY" ] || die "python3 missing"
    local reg
    for reg in $REGISTRIES; do
        REGISTRY=$reg
        CURRENT_SCENARIO="$reg/udp"
        if [ ! -x "$PLUGINS_DIR/flannel-udp" ] || [ ! -x "$AGENT_BIN" ]; then
            fail "$PLUGINS_DIR/flannel-udp and $AGENT_BIN exist"
            continue
        fi
        if [ "$reg" = etcd ]; then
            if ! etcd_ensure_installed; then fail "etcd-server and etcd-client installed"; continue; fi
            if ! etcd_start; then fail "etcd starts in $ETCD_NS at $ETCD_EP"; continue; fi
            pass "etcd up at $ETCD_EP (pid $ETCD_PID)"
        fi
        run_cluster
        [ "$reg" = etcd ] && etcd_stop
    done
    log ""
    log "measured (wall time $((SECONDS - t0)) s):"
    printf '  %s\n' "${RESULTS[@]}" >&2
    summary
}

main "$@"
