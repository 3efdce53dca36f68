#!/usr/bin/env bash
# Same-host end-to-end scenarios: bridge + host-local (+ loopback) driven
# through libcni (integration/bin/driver), everything inside network
# namespaces this script creates.
#
#   PLUGINS_DIR=/usr/lib/cni bash integration/same-host.sh          # reference
#   PLUGINS_DIR=$PWD/.build/cni-bin bash integration/same-host.sh   # ours
#
# Optional: SCENARIOS="ping check" to run a subset (function names without
# the "scenario_" prefix). Last line: "N passed, N failed".

INTEG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$INTEG_DIR/lib.sh"

NET=cni-bridge        # network name of 10-bridge.conflist in the scenarios
DS=cni-dualstack

# add_ctr <net> <short-name> [drv env...]: new container netns + ADD through
# libcni, container ID = netns name. Sets CTR, CID, IP4, IP6, GW4, GW6.
add_ctr() {
    local net=$1 short=$2
    shift 2
    CTR=$(ctr_new "$short")
    CID=$CTR
    IP4="" IP6="" GW4="" GW6=""
    if CNI_CONTAINERID="$CID" drv_env "$@" -- add "$net" "/run/netns/$CTR"; then
        IP4=$(result_ip4) IP6=$(result_ip6) GW4=$(result_gw4) GW6=$(result_gw6)
        pass "ADD $short ($(result_ips | tr '\n' ' '))"
        return 0
    fi
    fail "ADD $short" "$(last_output)"
    return 1
}

# drv_env VAR=val... -- drv-args...: drv with extra environment.
drv_env() {
    local envs=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    if [ ${#envs[@]} -gt 0 ]; then
        local kv
        for kv in "${envs[@]}"; do export "${kv?}"; done
        drv "$@"
        local rc=$?
        for kv in "${envs[@]}"; do unset "${kv%%=*}"; done
        return $rc
    fi
    drv "$@"
}

del_ctr() { # del_ctr <net> <ctr-netns> [cid]
    CNI_CONTAINERID=${3:-$2} drv del "$1" "/run/netns/$2"
}

iface_has_addr() { # <ns> <ifname> <addr>
    ip -n "$1" -o addr show dev "$2" 2>/dev/null | grep -F " $3/" >/dev/null
}

# ------------------------------------------------------------------ scenarios

scenario_ping() {
    scenario_begin "three containers ping each other and the gateway"
    mkconf 10-bridge.conflist "$NET"
    mkconf 99-loopback.conflist lo
    local names=() ips=() gw="" i j
    for i in 1 2 3; do
        add_ctr "$NET" "c$i" || { scenario_end; return; }
        names+=("$CTR") ips+=("$IP4") gw=$GW4
    done
    check "gateway reported ($gw)" test -n "$gw"
    check "three distinct addresses" test "$(printf '%s\n' "${ips[@]}" | sort -u | wc -l)" = 3
    check "eth0 up in c1 with ${ips[0]}" iface_has_addr "${names[0]}" eth0 "${ips[0]}"
    check "default route via $gw in c1" sh -c "ip -n '${names[0]}' route show default | grep -q 'via $gw'"
    for i in 0 1 2; do
        for j in 0 1 2; do
            [ "$i" = "$j" ] && continue
            check "c$((i + 1)) pings c$((j + 1)) (${ips[$j]})" ping_from "${names[$i]}" "${ips[$j]}"
        done
        check "c$((i + 1)) pings gateway $gw" ping_from "${names[$i]}" "$gw"
    done
    check "node pings c1" ping_from "$NODE" "${ips[0]}"
    # loopback as a second network of c1
    CNI_CONTAINERID="${names[0]}" CNI_IFNAME=lo assert_drv_ok "loopback ADD" add lo "/run/netns/${names[0]}"
    check "lo is up in c1" sh -c "ip -n '${names[0]}' link show lo | grep -q ',UP'"
    check "c1 pings 127.0.0.1" ping_from "${names[0]}" 127.0.0.1
    CNI_CONTAINERID="${names[0]}" CNI_IFNAME=lo assert_drv_ok "loopback DEL" del lo "/run/netns/${names[0]}"
    for i in 0 1 2; do
        CNI_CONTAINERID="${names[$i]}" assert_drv_ok "DEL c$((i + 1))" del "$NET" "/run/netns/${names[$i]}"
    done
    assert_no_veth "no veth left on the node"
    assert_eq "no IP file left" 0 "$(ip_file_count "$NET")"
    assert_no_leak "no rule mentions the containers" "$NET" "${ips[@]}" "${names[@]}"
    scenario_end
}

scenario_check() {
    scenario_begin "CHECK passes, then fails after an address is removed"
    mkconf 10-bridge.conflist "$NET"
    add_ctr "$NET" c1 || { scenario_end; return; }
    local ctr=$CTR ip=$IP4
    CNI_CONTAINERID=$ctr assert_drv_ok "CHECK after ADD" check "$NET" "/run/netns/$ctr"
    ip -n "$ctr" addr del "$ip/16" dev eth0 || fail "removing $ip from eth0 (test setup)"
    CNI_CONTAINERID=$ctr assert_error "CHECK fails after 'ip addr del $ip'" any "" drv check "$NET" "/run/netns/$ctr"
    CNI_CONTAINERID=$ctr assert_drv_ok "DEL" del "$NET" "/run/netns/$ctr"
    ref_xfail "plugins#810: masquerade torn down from live addresses, not prevResult" \
        assert_no_leak "no IP file or rule left" "$NET" "$ip" "$ctr"
    scenario_end
}

scenario_del_twice() {
    scenario_begin "DEL twice, and DEL of an unknown container"
    mkconf 10-bridge.conflist "$NET"
    add_ctr "$NET" c1 || { scenario_end; return; }
    local ctr=$CTR ip=$IP4
    CNI_CONTAINERID=$ctr assert_drv_ok "first DEL" del "$NET" "/run/netns/$ctr"
    CNI_CONTAINERID=$ctr assert_drv_ok "second DEL" del "$NET" "/run/netns/$ctr"
    check "eth0 gone from the container" sh -c "! ip -n '$ctr' link show eth0 >/dev/null 2>&1"
    assert_no_veth "no veth left on the node"
    assert_no_leak "no IP file or rule left" "$NET" "$ip" "$ctr"
    local c2
    c2=$(ctr_new never)
    CNI_CONTAINERID=$c2 assert_drv_ok "DEL of a never-added container (no prevResult)" del "$NET" "/run/netns/$c2"
    CNI_CONTAINERID=$c2 assert_drv_ok "DEL of a never-added container whose netns is gone" del "$NET" "/run/netns/${PFX}-gone"
    scenario_end
}

scenario_del_netns_gone() {
    scenario_begin "DEL after the container netns was deleted"
    mkconf 10-bridge.conflist "$NET"
    add_ctr "$NET" c1 || { scenario_end; return; }
    local ctr=$CTR ip=$IP4
    check "masquerade state mentions $ip after ADD" ruleset_mentions "$ip" "$ctr" >/dev/null
    netns_del "$ctr"
    CNI_CONTAINERID=$ctr assert_drv_ok "DEL with netns gone" del "$NET" "/run/netns/$ctr"
    assert_no_veth "no veth left on the node"
    assert_eq "no IP file left" 0 "$(ip_file_count "$NET")"
    ref_xfail "plugins#810 masquerade leak" assert_no_leak "no rule mentions $ip or the container ID" "$NET" "$ip" "$ctr"
    CNI_CONTAINERID=$ctr assert_drv_ok "DEL again" del "$NET" "/run/netns/$ctr"
    scenario_end
}

scenario_requested_ip() {
    scenario_begin "requested IP honoured (runtimeConfig ips, CNI_ARGS IP=)"
    mkconf 10-bridge.conflist "$NET"
    local want=10.22.7.7
    add_ctr "$NET" c1 CAP_ARGS="{\"ips\":[\"$want/16\"]}" || { scenario_end; return; }
    local c1=$CTR
    assert_eq "runtimeConfig ips: result address" "$want" "$IP4"
    check "runtimeConfig ips: $want on eth0" iface_has_addr "$c1" eth0 "$want"
    check "IP file $want exists" test -f "$DATA_DIR/$NET/$want"
    local want2=10.22.8.8
    add_ctr "$NET" c2 CNI_ARGS="IgnoreUnknown=1;IP=$want2" || { scenario_end; return; }
    local c2=$CTR
    assert_eq "CNI_ARGS IP=: result address" "$want2" "$IP4"
    check "CNI_ARGS IP=: $want2 on eth0" iface_has_addr "$c2" eth0 "$want2"
    check "c1 pings c2" ping_from "$c1" "$want2"
    # the same address again must fail and leave nothing behind
    local c3
    c3=$(ctr_new c3)
    CNI_CONTAINERID=$c3 CAP_ARGS="{\"ips\":[\"$want/16\"]}" \
        assert_error "requesting an address in use fails" any "" drv add "$NET" "/run/netns/$c3"
    ref_xfail "reference bridge leaves the veth when IPAM fails" \
        check "c3 has no eth0" sh -c "! ip -n '$c3' link show eth0 >/dev/null 2>&1"
    ref_xfail "reference bridge leaves the veth when IPAM fails" \
        assert_eq "veths on node: only c1 and c2" 2 "$(node_veth_count)"
    check "$want still belongs to c1" grep -qF "$c1" "$DATA_DIR/$NET/$want"
    assert_no_leak "no IP file or rule for c3" "$NET" "$c3"
    CNI_CONTAINERID=$c3 drv del "$NET" "/run/netns/$c3" >/dev/null 2>&1
    del_ctr "$NET" "$c1" && del_ctr "$NET" "$c2"
    check "DEL c1, c2" test $? = 0
    assert_no_leak "no IP file or rule left" "$NET" "$want" "$want2" "$c1" "$c2"
    scenario_end
}

# The node caches the old container's MAC for an address; when a new container gets the
# address, the node's entry must follow at once, or everything the node routes to the
# container (other nodes, NodePorts, probes) goes to a MAC that is gone until the entry
# expires. The reference leaves it stale (its gratuitous ARP does not take effect).
scenario_reused_ip() {
    scenario_begin "a reused address is announced: the node's neighbour entry follows at once"
    mkconf 10-bridge.conflist "$NET"
    local want=10.22.9.9 mac1 mac2 keeper
    # another container keeps the bridge's carrier up: a bridge without ports flushes its
    # neighbour entries, which would hide the stale one
    add_ctr "$NET" c0 || { scenario_end; return; }
    keeper=$CTR
    add_ctr "$NET" c1 CNI_ARGS="IgnoreUnknown=1;IP=$want" || { scenario_end; return; }
    local c1=$CTR
    check "node pings c1 at $want" ping_from "$NODE" "$want"
    mac1=$(ip -n "$c1" -br link show eth0 | awk '{print $3}')
    check "node's neighbour entry for $want is c1's MAC $mac1" \
        sh -c "ip -n '$NODE' neigh show '$want' | grep -qi 'lladdr $mac1'"
    del_ctr "$NET" "$c1"
    check "DEL c1" test $? = 0
    add_ctr "$NET" c2 CNI_ARGS="IgnoreUnknown=1;IP=$want" || { scenario_end; return; }
    local c2=$CTR
    check "c2 has arp_notify=1 on eth0" \
        sh -c "[ \"\$(ip netns exec '$c2' cat /proc/sys/net/ipv4/conf/eth0/arp_notify)\" = 1 ]"
    mac2=$(ip -n "$c2" -br link show eth0 | awk '{print $3}')
    ref_xfail "reference leaves the node's neighbour entry of a reused address stale" \
        check "without any traffic, the node's entry for $want is now c2's MAC $mac2" \
        sh -c "ip -n '$NODE' neigh show '$want' | grep -qi 'lladdr $mac2'"
    ref_xfail "reference leaves the node's neighbour entry of a reused address stale" \
        check "the node's first ping to $want is answered (by c2)" \
        ip netns exec "$NODE" ping -4 -c1 -W1 "$want"
    del_ctr "$NET" "$c2" && del_ctr "$NET" "$keeper"
    check "DEL c2 and c0" test $? = 0
    assert_no_leak "no IP file or rule left" "$NET" "$want" "$c1" "$c2" "$keeper"
    scenario_end
}

scenario_dualstack() {
    scenario_begin "dual-stack v4+v6"
    mkconf 20-bridge-dualstack.conflist "$DS"
    add_ctr "$DS" c1 || { scenario_end; return; }
    local c1=$CTR a4=$IP4 a6=$IP6 g4=$GW4 g6=$GW6
    add_ctr "$DS" c2 || { scenario_end; return; }
    local c2=$CTR b4=$IP4 b6=$IP6
    check "c1 has IPv4 ($a4) and IPv6 ($a6)" test -n "$a4" -a -n "$a6"
    check "c2 has IPv4 ($b4) and IPv6 ($b6)" test -n "$b4" -a -n "$b6"
    check "IPv6 $a6 on c1 eth0" iface_has_addr "$c1" eth0 "$a6"
    check "c1 IPv6 default route" sh -c "ip -n '$c1' -6 route show default | grep -q via"
    check "c1 pings c2 $b4" ping_from "$c1" "$b4"
    check "c1 ping -6 c2 $b6" ping_from "$c1" "$b6" -6
    check "c2 ping -6 c1 $a6" ping_from "$c2" "$a6" -6
    check "c1 pings gateway $g4" ping_from "$c1" "$g4"
    check "c1 ping -6 gateway $g6" ping_from "$c1" "$g6" -6
    CNI_CONTAINERID=$c1 assert_drv_ok "CHECK c1" check "$DS" "/run/netns/$c1"
    del_ctr "$DS" "$c1"
    check "DEL c1" test $? = 0
    del_ctr "$DS" "$c2"
    check "DEL c2" test $? = 0
    assert_no_veth "no veth left"
    assert_no_leak "no IP file or rule left" "$DS" "$a4" "$a6" "$b4" "$b6" "$c1" "$c2"
    scenario_end
}

scenario_parallel() {
    local n=${PARALLEL_N:-32} i
    scenario_begin "$n ADDs in parallel"
    mkconf 10-bridge.conflist "$NET"
    local ctrs=() pids=()
    for i in $(seq 1 "$n"); do ctrs+=("$(ctr_new "p$i")"); done
    for i in $(seq 0 $((n - 1))); do
        CNI_CONTAINERID=${ctrs[$i]} drv_to "$SCEN/add$i.out" "$SCEN/add$i.err" add "$NET" "/run/netns/${ctrs[$i]}" &
        pids+=($!)
        BG_PIDS+=($!)
    done
    local bad=0 errs=""
    for i in $(seq 0 $((n - 1))); do
        if ! wait "${pids[$i]}"; then
            bad=$((bad + 1))
            errs+="p$((i + 1)): $(tail -n2 "$SCEN/add$i.err" | tr '\n' ' ')"$'\n'
        fi
    done
    BG_PIDS=()
    if [ "$bad" = 0 ]; then pass "$n parallel ADDs succeeded"; else fail "$n parallel ADDs: $bad failed" "$errs"; fi
    local addrs
    addrs=$(cat "$SCEN"/add*.out 2>/dev/null | jq -r '.ips[]?.address' | sort)
    assert_eq "$n distinct addresses" "$n" "$(printf '%s\n' "$addrs" | grep . | sort -u | wc -l)"
    assert_eq "$n IP files" "$n" "$(ip_file_count "$NET")"
    assert_eq "$n veths on the node" "$n" "$(node_veth_count)"
    check "p1 pings p$n" ping_from "${ctrs[0]}" "$(jq -r '.ips[0].address | split("/")[0]' "$SCEN/add$((n - 1)).out")"
    pids=()
    for i in $(seq 0 $((n - 1))); do
        CNI_CONTAINERID=${ctrs[$i]} drv_to "$SCEN/del$i.out" "$SCEN/del$i.err" del "$NET" "/run/netns/${ctrs[$i]}" &
        pids+=($!)
        BG_PIDS+=($!)
    done
    bad=0 errs=""
    for i in $(seq 0 $((n - 1))); do
        if ! wait "${pids[$i]}"; then
            bad=$((bad + 1))
            errs+="p$((i + 1)): $(tail -n2 "$SCEN/del$i.err" | tr '\n' ' ')"$'\n'
        fi
    done
    BG_PIDS=()
    if [ "$bad" = 0 ]; then pass "$n parallel DELs succeeded"; else fail "$n parallel DELs: $bad failed" "$errs"; fi
    assert_eq "no IP file left" 0 "$(ip_file_count "$NET")"
    assert_no_veth "no veth left"
    # shellcheck disable=SC2086
    assert_no_leak "no rule left" "$NET" $(printf '%s\n' "$addrs" | cut -d/ -f1) "${ctrs[@]}"
    scenario_end
}

# macspoof_mentions <text>: lines of the node's bridge-family nft tables (where both
# our and the reference spoof check live) that mention <text>; true if any.
macspoof_mentions() {
    ip netns exec "$NODE" nft list ruleset bridge 2>/dev/null | grep -F -- "$1"
}

scenario_macspoofchk() {
    scenario_begin "macspoofchk: only the container's own MAC enters the bridge"
    mkconf 10-bridge.conflist "$NET" '.plugins[0].macspoofchk = true'
    add_ctr "$NET" c1 || { scenario_end; return; }
    local c1=$CTR ip1=$IP4 gw=$GW4 mac1
    mac1=$(jq -r '.interfaces[] | select(.sandbox != null) | .mac' "$OUT")
    add_ctr "$NET" c2 || { scenario_end; return; }
    local c2=$CTR ip2=$IP4
    check "spoof check state mentions c1 after ADD" macspoof_mentions "$c1" >/dev/null
    check "c1 ($mac1) pings the gateway $gw" ping_from "$c1" "$gw"
    CNI_CONTAINERID=$c1 assert_drv_ok "CHECK c1" check "$NET" "/run/netns/$c1"
    ip -n "$c1" link set eth0 address 02:5c:00:00:00:01 || fail "changing c1's MAC (test setup)"
    check "c1 with another MAC no longer reaches the gateway" sh -c "! ip netns exec '$c1' ping -c2 -W1 -q '$gw' >/dev/null 2>&1"
    check "c1 with another MAC no longer reaches c2" sh -c "! ip netns exec '$c1' ping -c2 -W1 -q '$ip2' >/dev/null 2>&1"
    check "c2 (MAC unchanged) still pings the gateway" ping_from "$c2" "$gw"
    ip -n "$c1" link set eth0 address "$mac1" || fail "restoring c1's MAC (test setup)"
    check "c1 with its own MAC back pings the gateway" ping_from "$c1" "$gw"
    CNI_CONTAINERID=$c2 assert_drv_ok "DEL c2" del "$NET" "/run/netns/$c2"
    if macspoof_mentions "$c2" >/dev/null; then fail "no spoof check state for c2" "$(macspoof_mentions "$c2")"; else pass "no spoof check state for c2"; fi
    check "c1 still guarded after c2's DEL" macspoof_mentions "$c1" >/dev/null
    netns_del "$c1"
    CNI_CONTAINERID=$c1 assert_drv_ok "DEL c1 with its netns gone" del "$NET" "/run/netns/$c1"
    if macspoof_mentions "$c1" >/dev/null; then
        ref_xfail "reference DEL skips the spoof check tear-down when the netns is gone" \
            fail "no spoof check state for c1 after DEL" "$(macspoof_mentions "$c1")"
    else
        pass "no spoof check state for c1 after DEL"
    fi
    CNI_CONTAINERID=$c1 assert_drv_ok "DEL c1 again" del "$NET" "/run/netns/$c1"
    assert_no_veth "no veth left"
    ref_xfail "reference DEL with the netns gone leaks spoof check chains and masquerade (plugins#810)" \
        assert_no_leak "no IP file or rule left" "$NET" "$ip1" "$ip2" "$c1" "$c2"
    scenario_end
}

# mixed_dir <name> <bridge-from> <host-local-from>: a plugin dir of symlinks.
mixed_dir() {
    local d="$SCEN/$1"
    mkdir -p "$d"
    ln -s "$2/bridge" "$d/bridge"
    ln -s "$3/host-local" "$d/host-local"
    ln -s "$PLUGINS_DIR/loopback" "$d/loopback"
    echo "$d"
}

scenario_mixed() {
    scenario_begin "mixed: our bridge + reference host-local, reference bridge + our host-local"
    mkconf 10-bridge.conflist "$NET"
    local a b
    a=$(mixed_dir ours-bridge "$PLUGINS_DIR" "$REF_PLUGINS_DIR")
    b=$(mixed_dir ours-ipam "$REF_PLUGINS_DIR" "$PLUGINS_DIR")
    SCEN_CNI_PATH="$a:$PLUGINS_DIR"
    add_ctr "$NET" c1 || { scenario_end; return; }
    local c1=$CTR a1=$IP4
    check "c1 (our bridge + ref host-local) has $a1 on eth0" iface_has_addr "$c1" eth0 "$a1"
    CNI_CONTAINERID=$c1 assert_drv_ok "CHECK c1 (our bridge + ref host-local)" check "$NET" "/run/netns/$c1"
    SCEN_CNI_PATH="$b:$PLUGINS_DIR"
    add_ctr "$NET" c2 || { scenario_end; return; }
    local c2=$CTR a2=$IP4
    check "c2 (ref bridge + our host-local) has $a2 on eth0" iface_has_addr "$c2" eth0 "$a2"
    check "the two host-locals share one dataDir: distinct addresses" test "$a1" != "$a2"
    CNI_CONTAINERID=$c2 assert_drv_ok "CHECK c2 (ref bridge + our host-local)" check "$NET" "/run/netns/$c2"
    check "c1 pings c2" ping_from "$c1" "$a2"
    check "c2 pings c1" ping_from "$c2" "$a1"
    # release each attachment through the other combination: on-disk compatibility
    SCEN_CNI_PATH="$b:$PLUGINS_DIR"
    CNI_CONTAINERID=$c1 assert_drv_ok "DEL c1 via ref bridge + our host-local" del "$NET" "/run/netns/$c1"
    SCEN_CNI_PATH="$a:$PLUGINS_DIR"
    CNI_CONTAINERID=$c2 assert_drv_ok "DEL c2 via our bridge + ref host-local" del "$NET" "/run/netns/$c2"
    assert_no_veth "no veth left"
    assert_eq "no IP file left" 0 "$(ip_file_count "$NET")"
    assert_no_leak "no rule left" "$NET" "$a1" "$a2" "$c1" "$c2"
    scenario_end
}

# ------------------------------------------------------------- bad input

# nothing_left <desc> <net> <cid>...: no veth, no IP file, no rule for cids.
nothing_left() {
    local desc=$1 net=$2
    shift 2
    assert_eq "$desc: no veth on node" 0 "$(node_veth_count)"
    assert_eq "$desc: no IP file" 0 "$(ip_file_count "$net")"
    if ruleset_mentions "$@" >/dev/null; then
        fail "$desc: no rule mentions it" "$(ruleset_mentions "$@")"
    else
        pass "$desc: no rule mentions it"
    fi
    reset_node
}

# reset_node: undo whatever a failed case left (so the next case starts
# clean): container interfaces, veths and bridge on the node, IPAM files.
reset_node() {
    local ns l
    for ns in "${SCEN_NETNS[@]}"; do
        ip -n "$ns" link del eth0 2>/dev/null
    done
    for l in $(ip -n "$NODE" -o link show type veth | awk -F': ' '{print $2}' | cut -d@ -f1); do
        ip -n "$NODE" link del "$l" 2>/dev/null
    done
    ip -n "$NODE" link del "$BR" 2>/dev/null
    rm -rf "${DATA_DIR:?}"/*
}

scenario_bad_input() {
    scenario_begin "bad input: right error code, nothing left behind"
    mkconf 10-bridge.conflist "$NET"
    local c1 conf="$CONF_DIR/$NET.conflist" stdin="$SCEN/stdin.json" p
    c1=$(ctr_new c1)
    # a single-plugin config as libcni would send it
    jq --arg n "$NET" '.plugins[0] + {name: $n, cniVersion: .cniVersion}' "$conf" >"$SCEN/bridge.json"
    jq '.ipam + {name, cniVersion}' "$SCEN/bridge.json" >"$SCEN/hostlocal.json"
    local envs=(CNI_COMMAND=ADD CNI_CONTAINERID="$c1" CNI_NETNS="/run/netns/$c1" CNI_IFNAME=eth0 CNI_PATH="$PLUGINS_DIR")

    # malformed / truncated JSON (direct call: libcni would reject it first)
    for p in bridge host-local; do
        local src=$SCEN/bridge.json
        [ "$p" = host-local ] && src=$SCEN/hostlocal.json
        head -c 60 "$src" >"$stdin"
        assert_error "$p: truncated JSON -> 6" 6 "" plugin_call "$p" "$stdin" "${envs[@]}"
        printf '{"cniVersion": "1.0.0", "name": "x", "type": ' >"$stdin"
        assert_error "$p: malformed JSON -> 6" 6 "" plugin_call "$p" "$stdin" "${envs[@]}"
        printf 'not json at all' >"$stdin"
        assert_error "$p: non-JSON stdin -> 6" 6 "" plugin_call "$p" "$stdin" "${envs[@]}"
    done
    nothing_left "after bad JSON" "$NET" "$c1"

    # missing CNI_* variables (direct call)
    local v
    for p in bridge host-local; do
        local src=$SCEN/bridge.json
        [ "$p" = host-local ] && src=$SCEN/hostlocal.json
        for v in CNI_CONTAINERID CNI_NETNS CNI_IFNAME; do
            local e=() kv
            for kv in "${envs[@]}"; do [ "${kv%%=*}" = "$v" ] || e+=("$kv"); done
            assert_error "$p: missing $v -> 4" 4 "$v" plugin_call "$p" "$src" "${e[@]}"
        done
        assert_error "$p: CNI_COMMAND=BOGUS -> 4" 4 "" plugin_call "$p" "$src" CNI_COMMAND=BOGUS "${envs[@]:1}"
        # no CNI_COMMAND: error 4, or (like the reference) a version banner
        # on stderr and exit 0 -- either way no result and no ADD done
        if plugin_call "$p" "$src" "${envs[@]:1}"; then
            assert_eq "$p: no CNI_COMMAND -> no result on stdout" "" "$(cat "$OUT")"
        else
            assert_eq "$p: no CNI_COMMAND -> 4" 4 "$(cni_error_code)"
        fi
    done
    nothing_left "after missing env" "$NET" "$c1"

    # unsupported cniVersion (through libcni)
    for v in 9.9.9 1.9.0; do
        mkconf 10-bridge.conflist badver ".cniVersion = \"$v\""
        CNI_CONTAINERID=$c1 assert_error "cniVersion $v -> 1" 1 "" drv add badver "/run/netns/$c1"
        nothing_left "after cniVersion $v" badver "$c1"
    done

    # invalid CIDR, overlapping ranges (through libcni): code 7
    local cases=(
        'subnet 10.22.0.0/33||[[{"subnet": "10.22.0.0/33"}]]'
        'subnet "banana"||[[{"subnet": "banana"}]]'
        'overlapping range sets|overlap|[[{"subnet": "10.30.0.0/16"}], [{"subnet": "10.30.1.0/24"}]]'
        'overlapping ranges in one set|overlap|[[{"subnet": "10.31.0.0/24"}, {"subnet": "10.31.0.128/25"}]]'
        'rangeStart outside subnet||[[{"subnet": "10.32.0.0/24", "rangeStart": "10.33.0.5"}]]'
    )
    local case desc sub ranges n=0
    for case in "${cases[@]}"; do
        IFS='|' read -r desc sub ranges <<<"$case"
        n=$((n + 1))
        mkconf 10-bridge.conflist "badipam$n" ".plugins[0].ipam.ranges = $ranges"
        CNI_CONTAINERID=$c1 ref_xfail "reference returns code 999" \
            assert_error "$desc -> 7" 7 "$sub" drv add "badipam$n" "/run/netns/$c1"
        ref_xfail "reference bridge leaves the veth when IPAM fails" \
            nothing_left "after $desc" "badipam$n" "$c1"
    done

    # network name / container ID escaping the dataDir
    jq '.name = "../x"' "$conf" >"$CONF_DIR/escape.conflist"
    CNI_CONTAINERID=$c1 assert_error "libcni rejects network name '../x' (7)" 7 "" drv add ../x "/run/netns/$c1"
    rm -f "$CONF_DIR/escape.conflist"
    local name
    for name in "../escape" "a/b" ".."; do
        jq --arg n "$name" '.name = $n' "$SCEN/hostlocal.json" >"$stdin"
        local before after
        before=$(find "$SCEN" | sort)
        ref_xfail "reference host-local does not validate the network name" \
            assert_error "host-local: network name '$name' rejected" any "" plugin_call host-local "$stdin" "${envs[@]}"
        after=$(find "$SCEN" -newer "$stdin" ! -name 'last.*' | sort)
        ref_xfail "reference host-local does not validate the network name" \
            assert_eq "host-local: nothing created for network name '$name'" "" "$after"
        jq --arg n "$name" '.name = $n' "$SCEN/bridge.json" >"$stdin"
        ref_xfail "reference bridge does not validate the network name" \
            assert_error "bridge: network name '$name' rejected" any "" plugin_call bridge "$stdin" "${envs[@]}"
        after=$(find "$SCEN" -newer "$stdin" ! -name 'last.*' | sort)
        ref_xfail "reference bridge does not validate the network name" \
            assert_eq "bridge: nothing created for network name '$name'" "" "$after"
        rm -rf "$SCEN/escape"
        reset_node
    done
    for name in "../$c1" "a/b" "bad id"; do
        local e=() kv
        for kv in "${envs[@]}"; do [ "${kv%%=*}" = CNI_CONTAINERID ] && e+=("CNI_CONTAINERID=$name") || e+=("$kv"); done
        ref_xfail "reference plugins do not validate the container ID" \
            assert_error "bridge: container ID '$name' rejected" any "" plugin_call bridge "$SCEN/bridge.json" "${e[@]}"
        ref_xfail "reference plugins do not validate the container ID" \
            nothing_left "container ID '$name'" "$NET" "$name"
    done
    CNI_CONTAINERID="../$c1" assert_error "libcni rejects container ID '../x' (4)" 4 "" drv add "$NET" "/run/netns/$c1"

    # netns that does not exist / is a regular file
    CNI_CONTAINERID=$c1 assert_error "netns path does not exist" any "${PFX}-nope" drv add "$NET" "/run/netns/${PFX}-nope"
    nothing_left "after missing netns" "$NET" "$c1"
    echo "not a netns" >"$SCEN/regular-file"
    CNI_CONTAINERID=$c1 assert_error "netns path is a regular file" any "regular-file" drv add "$NET" "$SCEN/regular-file"
    nothing_left "after regular-file netns" "$NET" "$c1"

    # interface name already exists in the container
    CNI_CONTAINERID=$c1 CNI_IFNAME=lo assert_error "CNI_IFNAME=lo (exists in the container)" any "" drv add "$NET" "/run/netns/$c1"
    nothing_left "after CNI_IFNAME=lo" "$NET" "$c1"
    check "lo still present and up" sh -c "ip -n '$c1' link show lo | grep -q ',UP'"
    # second attachment with the same ifname under another container ID
    CNI_CONTAINERID=$c1 assert_drv_ok "ADD c1 eth0" add "$NET" "/run/netns/$c1"
    local ip1 gw1
    ip1=$(result_ip4) gw1=$(result_gw4)
    CNI_CONTAINERID="$c1-other" assert_error "second ADD, same netns+eth0, other container ID" any "" drv add "$NET" "/run/netns/$c1"
    assert_eq "only the first attachment's IP file" "$ip1" "$(ip_files "$NET" | tr '\n' ' ' | sed 's/ $//')"
    assert_eq "one veth on the node" 1 "$(node_veth_count)"
    check "first attachment intact ($ip1 on eth0)" iface_has_addr "$c1" eth0 "$ip1"
    check "first attachment still reaches the gateway" ping_from "$c1" "$gw1"
    if ruleset_mentions "$c1-other" >/dev/null; then fail "no rule for the failed attachment" "$(ruleset_mentions "$c1-other")"; else pass "no rule for the failed attachment"; fi
    CNI_CONTAINERID=$c1 assert_drv_ok "DEL c1" del "$NET" "/run/netns/$c1"
    nothing_left "after DEL" "$NET" "$c1" "$ip1"
    scenario_end
}

scenario_gc() {
    scenario_begin "GC releases attachments that are not valid"
    mkconf 10-bridge.conflist "$NET"
    local c=() ip=() i
    for i in 1 2 3; do
        add_ctr "$NET" "c$i" || { scenario_end; return; }
        c+=("$CTR") ip+=("$IP4")
    done
    assert_eq "3 IP files before GC" 3 "$(ip_file_count "$NET")"
    ref_xfail "reference 1.1.1 predates CNI 1.1.0 GC" \
        assert_drv_ok "GC with only c1/eth0 valid" gc "$NET" "${c[0]}/eth0"
    ref_xfail "reference 1.1.1 predates CNI 1.1.0 GC" \
        assert_eq "only c1's IP file remains" "${ip[0]}" "$(ip_files "$NET" | tr '\n' ' ' | sed 's/ $//')"
    ref_xfail "reference 1.1.1 predates CNI 1.1.0 GC" \
        assert_no_leak "c2, c3: no IP file, no masquerade entry" "$NET" "${ip[1]}" "${ip[2]}" "${c[1]}" "${c[2]}"
    check "c1's masquerade entry kept" ruleset_mentions "${ip[0]}" "${c[0]}" >/dev/null
    check "c1 still reaches the gateway" ping_from "${c[0]}" "$GW4"
    ref_xfail "reference 1.1.1 predates CNI 1.1.0 GC" \
        assert_drv_ok "second GC (c1 valid) succeeds" gc "$NET" "${c[0]}/eth0"
    check "c1's IP file still there" test -f "$DATA_DIR/$NET/${ip[0]}"
    for i in 0 1 2; do
        CNI_CONTAINERID=${c[$i]} assert_drv_ok "DEL c$((i + 1)) after GC" del "$NET" "/run/netns/${c[$i]}"
    done
    assert_no_leak "nothing left" "$NET" "${ip[@]}" "${c[@]}"
    scenario_end
}

scenario_status() {
    scenario_begin "STATUS reports 50 when the range is exhausted"
    mkconf 10-bridge.conflist small '.plugins[0].ipam.ranges = [[{"subnet": "10.40.0.0/30"}]]'
    ref_xfail "reference 1.1.1 predates CNI 1.1.0 STATUS" \
        assert_drv_ok "STATUS ok with a free address" status small
    add_ctr small c1 || { scenario_end; return; }
    local c1=$CTR ip1=$IP4
    ref_xfail "reference 1.1.1 predates CNI 1.1.0 STATUS" \
        assert_error "STATUS with the /30 exhausted -> 50" 50 "" drv status small
    local c2
    c2=$(ctr_new c2)
    CNI_CONTAINERID=$c2 assert_error "ADD with the range exhausted fails" any "" drv add small "/run/netns/$c2"
    ref_xfail "reference bridge leaves the veth when IPAM fails" \
        assert_eq "one veth on the node" 1 "$(node_veth_count)"
    CNI_CONTAINERID=$c1 assert_drv_ok "DEL c1" del small "/run/netns/$c1"
    ref_xfail "reference 1.1.1 predates CNI 1.1.0 STATUS" \
        assert_drv_ok "STATUS ok again after DEL" status small
    assert_no_leak "nothing left" small "$ip1" "$c1" "$c2"
    scenario_end
}

scenario_version_110() {
    scenario_begin "direct ADD/DEL with cniVersion 1.1.0 (libcni 1.1.2 cannot send it)"
    mkconf 10-bridge.conflist "$NET"
    local c1 stdin=$SCEN/stdin.json
    c1=$(ctr_new c1)
    jq --arg n "$NET" '.plugins[0] + {name: $n, cniVersion: "1.1.0"}' "$CONF_DIR/$NET.conflist" >"$stdin"
    local envs=(CNI_CONTAINERID="$c1" CNI_NETNS="/run/netns/$c1" CNI_IFNAME=eth0 CNI_PATH="$PLUGINS_DIR")
    if ref_xfail "reference 1.1.1 supports up to 1.0.0" check "ADD with cniVersion 1.1.0" plugin_call bridge "$stdin" CNI_COMMAND=ADD "${envs[@]}"; then
        assert_eq "result cniVersion" 1.1.0 "$(jq -r .cniVersion "$OUT")"
        check "address on eth0" iface_has_addr "$c1" eth0 "$(jq -r '.ips[0].address | split("/")[0]' "$OUT")"
    else
        log "          | $(last_output | head -n3)"
    fi
    ref_xfail "reference 1.1.1 supports up to 1.0.0" check "DEL with cniVersion 1.1.0" plugin_call bridge "$stdin" CNI_COMMAND=DEL "${envs[@]}"
    nothing_left "after DEL" "$NET" "$c1"
    scenario_end
}

ALL_SCENARIOS="ping check del_twice del_netns_gone requested_ip reused_ip dualstack parallel mixed macspoofchk bad_input gc status version_110"

main() {
    init_run
    local s
    for s in ${SCENARIOS:-$ALL_SCENARIOS}; do
        "scenario_$s"
    done
    summary
}

main "$@"
