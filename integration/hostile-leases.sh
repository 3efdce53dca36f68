#!/usr/bin/env bash
# Hostile registry entries while traffic flows (issue 18; contract: docs/cross-host.md).
# Anyone who can write to the registry can write any lease; a lease becomes routes,
# neighbours and FDB entries on every node. For each registry (directory, etcd) and backend
# (vxlan, host-gw), three nodes with two containers each (lib-cross.sh's cluster_up), pings
# between the valid nodes' containers all along, and then hostile leases written:
#   - 128.0.0.0-1 (outside Network: half the internet), <underlay>.250-32 (the etcd host's
#     address), a /32 inside Network;
#   - aliases of n2's subnet (directory: 10.A.b.0-024; etcd: subnets/evil/dir/10.A.b.0-24 and
#     subnets/../../10.A.b.0-24) carrying an attacker's PublicIP and VtepMAC, and an alias of
#     n1's own subnet (which must not put n1 into lease conflict);
#   - PublicIP 0.0.0.0, 224.0.0.1, 255.255.255.255, 127.0.0.1 and n1's own address;
#   - vxlan: VtepMAC ff:ff:ff:ff:ff:ff, 01:00:5e:00:00:01, 00:00:00:00:00:00;
#   - a lease of another backend ("udp").
# Checks: no ping lost; every valid peer's route / neighbour / FDB entry unchanged (the
# kernel's entries of the agent, before and after, compared whole); nothing programmed for a
# hostile lease (no route to its subnet, no neighbour or FDB entry for its MAC, no route
# 128.0.0.0/1 or <underlay>.250/32, no FDB dst 127.0.0.1 / 0.0.0.0 / 224.0.0.1 /
# 255.255.255.255, no route via n1's own address on n1); /readyz 200; swiftcni_lease_conflict
# 0; each lease reported: one log line per lease and reason on n1 and n2 (the same count
# after two more reconcile passes) and swiftcni_leases_rejected_total{reason} up by the
# leases of that reason.
# Directory registry only, then: entries named like leases that are a symlink loop, a unix
# socket, a FIFO and a symlink to /dev/zero: nodes stay ready, the loop keeps going (more
# reconcile passes, a valid lease written afterwards is programmed), the lease is renewed
# (--lease-ttl 10: swiftcni_lease_expiry_seconds moves on), the agent's VmRSS stays
# bounded (MEM_BUDGET_KIB, 65536), each entry reported once (reason unreadable).
#
#   PLUGINS_DIR=$PWD/.build/cni-bin bash integration/hostile-leases.sh
#
# Optional: REGISTRIES="dir etcd" BACKENDS="vxlan host-gw" NETNS_PREFIX=... KEEP_TMP=1
# Last line: "N passed, N failed".

INTEG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$INTEG_DIR/lib.sh"
# shellcheck source=lib-cross.sh
. "$INTEG_DIR/lib-cross.sh"

REGISTRIES=${REGISTRIES:-dir etcd}
BACKENDS=${BACKENDS:-vxlan host-gw}
MEM_BUDGET_KIB=${MEM_BUDGET_KIB:-65536}
REPORT_MS=${REPORT_MS:-5000}  # a hostile lease is reported within this time
RESULTS=()

declare -A SUB=() MAC=() KEY=()
# the hostile leases of the current cluster: stored key -> value, expected reason, the
# subnet / PublicIP / MAC it claims, the nodes that must reject it
declare -A HV=() HR=() HS=() HP=() HM=() HN=()
HKEYS=()

# ------------------------------------------------------------------ helpers

# hl_value <public-ip> <mac> [backend-type]: a lease's JSON (vxlan: with its VtepMAC)
hl_value() {
    local be=${3:-$BACKEND}
    if [ "$be" = vxlan ]; then
        printf '{"PublicIP":"%s","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"%s"}}' "$1" "$2"
    else
        printf '{"PublicIP":"%s","PublicIPv6":null,"BackendType":"%s","BackendData":null}' "$1" "$be"
    fi
}

# hostile <stored-key> <reason> <subnet|-> <public-ip> <mac> <rejecting nodes> [backend-type]
hostile() {
    local key=$1
    HKEYS+=("$key")
    HR[$key]=$2 HS[$key]=$3 HP[$key]=$4 HM[$key]=$5 HN[$key]=$6
    HV[$key]=$(hl_value "$4" "$5" "${7:-}")
}

# free_subnet: the next /24 of the Network (from .200 up) that no node holds
FREE_NEXT=200
free_subnet() {
    while printf '%s\n' "${SUB[@]}" | grep -qx "10\.$CLUSTER_NET_A\.$FREE_NEXT\.0/24"; do FREE_NEXT=$((FREE_NEXT + 1)); done
    FREE="10.$CLUSTER_NET_A.$FREE_NEXT.0/24"
    FREE_NEXT=$((FREE_NEXT + 1))
}

# kernel_entries <k> [exclude-ere]: the agent's entries on node k, sorted: routes of its
# protocol, permanent neighbours and FDB entries of flannel.1
kernel_entries() {
    local ns=${NODE_NS[$1]} x=${2:-^$}
    {
        ip -n "$ns" -4 route show proto 92 | sed 's/^/route /'
        if has_link "$1" flannel.1; then
            ip -n "$ns" neigh show dev flannel.1 nud permanent | sed 's/^/neigh /'
            bridge -n "$ns" fdb show dev flannel.1 | grep ' dst ' | sed 's/^/fdb /'
        fi
    } | grep -vE -- "$x" | sort
}

# reject_lines <k> <stored-key> <reason>: node k's log lines reporting that rejection
# (level=warn msg="lease rejected; not programmed" key=<stored key> reason=<reason> ...)
reject_lines() {
    local o
    o=$(grep -iF 'reject' "${NODE_DIR[$1]}/agent.log" 2>/dev/null | grep -E -- "key=\"?$(re_q "$2")\"?( |$)")
    grep -cF -- "reason=$3" <<<"$o" || true
}

# all_reported <k> <key...>: node k has logged each of the keys' rejections
all_reported() {
    local k=$1 key
    shift
    for key in "$@"; do [ "$(reject_lines "$k" "$key" "${HR[$key]}")" -ge 1 ] || return 1; done
}

judged_by() { [[ " ${HN[$2]} " == *" $1 "* ]]; }   # judged_by <k> <key>

rejected_metric() { metric_sum "$1" swiftcni_leases_rejected_total "reason=\"$2\""; }

vmrss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/${AGENT_PID[$1]}/status" 2>/dev/null; }

# rss_guard_start: a watchdog for the machine's sake (a daemon reading /dev/zero grows by
# GBs in seconds): SIGKILLs an agent of this cluster above RSS_KILL_KIB (1 GiB), says so in
# $CLDIR/rss-guard
RSS_KILL_KIB=${RSS_KILL_KIB:-1048576}
rss_guard_start() {
    local pids="${AGENT_PID[1]} ${AGENT_PID[2]} ${AGENT_PID[3]}"
    : >"$CLDIR/rss-guard"
    (
        while :; do
            for p in $pids; do
                r=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
                if [ -n "$r" ] && [ "$r" -gt "$RSS_KILL_KIB" ]; then
                    kill -KILL "$p" 2>/dev/null && echo "agent pid $p killed at VmRSS $r KiB" >>"$CLDIR/rss-guard"
                fi
            done
            sleep 0.1  # a watchdog's period, not a wait for something
        done
    ) &
    RSS_GUARD_PID=$!
    BG_PIDS+=("$RSS_GUARD_PID")
}
rss_guard_stop() { stop_pid "$RSS_GUARD_PID" TERM 2; }

lease_expiry() { metric_sum "$1" swiftcni_lease_expiry_seconds; }

# traces <k> <key>: what node k programmed for the hostile lease (empty: nothing)
traces() {
    local k=$1 key=$2 ns=${NODE_NS[$1]} out="" sub=${HS[$2]} mac=${HM[$2]} pip=${HP[$2]}
    if [ "$sub" != - ]; then
        out_has . ip -n "$ns" route show "$sub" && out+="route $sub; "
        has_link "$k" flannel.1 && out_has . ip -n "$ns" neigh show dev flannel.1 to "${sub%/*}" && out+="neighbour ${sub%/*}; "
    fi
    if has_link "$k" flannel.1 && [ -n "$mac" ]; then
        out_has "^$mac " bridge -n "$ns" fdb show dev flannel.1 && out+="FDB $mac; "
        out_has "lladdr $mac" ip -n "$ns" neigh show dev flannel.1 && out+="neighbour with lladdr $mac; "
    fi
    [ "$BACKEND" = host-gw ] && out_has "via $(sed 's/\./\\./g' <<<"$pip") " ip -n "$ns" route show && out+="route via $pip; "
    echo "${out% }"
}

# ------------------------------------------------------------------ the leases

# plan_leases: the hostile leases for this registry and backend (victim n2, own n1)
plan_leases() {
    HKEYS=()
    HV=() HR=() HS=() HP=() HM=() HN=()
    FREE_NEXT=200
    local a=$CLUSTER_NET_A ul=$UNDERLAY v=${SUB[2]} o=${SUB[1]} m=02:66:66:00:00
    local vk=${v%/*} ok=${o%/*}
    hostile "128.0.0.0-1" outside_network 128.0.0.0/1 "$ul.66" "$m:01" "1 2 3"
    hostile "$ul.250-32" outside_network "$ul.250/32" "$ul.67" "$m:02" "1 2 3"
    free_subnet
    hostile "${FREE%.0/24}.5-32" wrong_subnet_length "${FREE%.0/24}.5/32" "$ul.68" "$m:03" "1 2 3"
    # aliases of n2's subnet with an attacker's address and MAC; of n1's own subnet
    if [ "$REGISTRY" = dir ]; then
        hostile "$vk-024" non_canonical_key - "$ul.69" "$m:04" "1 2 3"
        hostile "$ok-024" non_canonical_key - "$ul.70" "$m:05" "1 2 3"
    else
        hostile "evil/dir/$vk-24" non_canonical_key - "$ul.69" "$m:04" "1 2 3"
        hostile "../../$vk-24" non_canonical_key - "$ul.71" "$m:06" "1 2 3"
        hostile "evil/dir/$ok-24" non_canonical_key - "$ul.70" "$m:05" "1 2 3"
    fi
    local ip i=7
    for ip in 0.0.0.0 224.0.0.1 255.255.255.255 127.0.0.1; do
        free_subnet
        hostile "$(subnet_key "$FREE")" bad_public_ip "$FREE" "$ip" "$m:$(printf '%02x' $i)" "1 2 3"
        i=$((i + 1))
    done
    free_subnet
    hostile "$(subnet_key "$FREE")" own_public_ip "$FREE" "${NODE_IP[1]}" "$m:$(printf '%02x' $i)" "1"
    OWN_IP_SUB=$FREE OWN_IP_MAC="$m:$(printf '%02x' $i)"
    if [ "$BACKEND" = vxlan ]; then
        local mac j=80
        for mac in ff:ff:ff:ff:ff:ff 01:00:5e:00:00:01 00:00:00:00:00:00; do
            free_subnet
            hostile "$(subnet_key "$FREE")" bad_vtep_mac "$FREE" "$ul.$j" "$mac" "1 2 3"
            j=$((j + 1))
        done
    fi
    free_subnet
    hostile "$(subnet_key "$FREE")" backend_mismatch "$FREE" "$ul.90" "" "1 2 3" udp
}

# ------------------------------------------------------------------ scenarios

sc_hostile() {
    log "--- hostile leases written while traffic flows"
    local f1=$CLDIR/ping-1 f2=$CLDIR/ping-2 f3=$CLDIR/ping-3 p1 p2 p3 k key r
    local -A before=() m0=() want=()
    plan_leases
    ping_bg "$(ctr 1 1)" "${CTR_IP[$(ctr 2 1)]}" "$f1"; p1=$PING_PID
    ping_bg "$(ctr 2 2)" "${CTR_IP[$(ctr 3 1)]}" "$f2"; p2=$PING_PID
    ping_bg "$(ctr 3 2)" "${CTR_IP[$(ctr 1 2)]}" "$f3"; p3=$PING_PID
    ping_bg_answered "$f1" "$f2" "$f3" || fail "pings flow before the hostile leases (test setup)" "$(tail -qn 1 "$f1" "$f2" "$f3")"
    # n2 and n3 may program the lease with n1's address (to them it is a peer like any other)
    local own_x
    own_x="$(re_q "${OWN_IP_SUB%/*}")[ /]|$OWN_IP_MAC"
    for k in 1 2 3; do
        if [ "$k" = 1 ]; then before[$k]=$(kernel_entries "$k"); else before[$k]=$(kernel_entries "$k" "$own_x"); fi
    done
    for r in non_canonical_key outside_network wrong_subnet_length bad_public_ip own_public_ip bad_vtep_mac backend_mismatch; do
        m0[$r]=$(rejected_metric 1 "$r")
        want[$r]=${m0[$r]}
    done
    for key in "${HKEYS[@]}"; do
        put_lease "$key" "${HV[$key]}" || fail "lease $key written (test setup)"
        judged_by 1 "$key" && want[${HR[$key]}]=$((want[${HR[$key]}] + 1))
    done
    log "  ${#HKEYS[@]} hostile leases written: ${HKEYS[*]}"
    # the leases have been judged once n1 and n2 have reported them; everything else after that
    local keys2=()
    for key in "${HKEYS[@]}"; do judged_by 2 "$key" && keys2+=("$key"); done
    if wait_for "$REPORT_MS" all_reported 1 "${HKEYS[@]}" && wait_for 2000 all_reported 2 "${keys2[@]}"; then
        pass "n1 and n2 report every hostile lease within $REPORT_MS ms"
    else
        fail "n1 and n2 report every hostile lease within $REPORT_MS ms" \
            "$(grep -i reject "${NODE_DIR[1]}/agent.log" | tail -n 5; agent_log_tail 1 4)"
    fi
    check_reports "${HKEYS[@]}"
    for r in "${!want[@]}"; do
        [ "${want[$r]}" = "${m0[$r]}" ] && continue
        check "n1 swiftcni_leases_rejected_total{reason=\"$r\"} up by $((want[$r] - m0[$r]))" \
            wait_for 2000 metric_ge 1 "${want[$r]}" swiftcni_leases_rejected_total "reason=\"$r\"" ||
            log "          | $(rejected_metric 1 "$r"), was ${m0[$r]}"
    done
    for k in 1 2 3; do
        local bad="" t
        for key in "${HKEYS[@]}"; do
            judged_by "$k" "$key" || continue
            t=$(traces "$k" "$key")
            [ -n "$t" ] && bad+="$key: $t"$'\n'
        done
        assert_eq "n$k programs nothing for any hostile lease" "" "${bad%$'\n'}"
        local ns=${NODE_NS[$k]} x=""
        out_has . ip -n "$ns" route show 128.0.0.0/1 && x+="route 128.0.0.0/1; "
        out_has . ip -n "$ns" route show "$UNDERLAY.250/32" && x+="route $UNDERLAY.250/32; "
        if has_link "$k" flannel.1; then
            out_has ' dst (127\.0\.0\.1|0\.0\.0\.0|224\.0\.0\.1|255\.255\.255\.255) ' bridge -n "$ns" fdb show dev flannel.1 && x+="FDB dst $(bridge -n "$ns" fdb show dev flannel.1 | grep -oE ' dst (127|0|224|255)\.[0-9.]+' | tr '\n' ' '); "
        fi
        [ "$k" = 1 ] && out_has "via $(sed 's/\./\\./g' <<<"${NODE_IP[1]}") " ip -n "$ns" route show && x+="route via its own address; "
        assert_eq "n$k: no route 128.0.0.0/1 or $UNDERLAY.250/32, no FDB dst 127.0.0.1/0.0.0.0/224.0.0.1/255.255.255.255$([ "$k" = 1 ] && echo ", no route via its own ${NODE_IP[1]}")" "" "$x"
        assert_eq "n$k: valid peers' routes, neighbours and FDB entries unchanged" "${before[$k]}" \
            "$(if [ "$k" = 1 ]; then kernel_entries "$k"; else kernel_entries "$k" "$own_x"; fi)"
        check "n$k /readyz 200" readyz_says "$k" 200
        check "n$k swiftcni_lease_conflict 0 (an alias of its subnet is no conflict)" metric_eq "$k" 0 swiftcni_lease_conflict
    done
    for k in 1 3; do
        check "n$k still programs n2 with n2's own address and MAC (aliases ignored)" \
            state_is "$k" "${SUB[2]}" "${NODE_IP[2]}" "${MAC[2]}" "$(full_state)"
    done
    check "n2 still programs n1 (an alias of n1's subnet is ignored)" state_is 2 "${SUB[1]}" "${NODE_IP[1]}" "${MAC[1]}" "$(full_state)"
    check "n1c1 reaches n2c1" ping_quick "$(ctr 1 1)" "${CTR_IP[$(ctr 2 1)]}"

    NHOSTILE=${#HKEYS[@]}
    [ "$REGISTRY" = dir ] && sc_planted

    local l1 l2 l3
    l1=$(ping_bg_losses "$p1" "$f1") l2=$(ping_bg_losses "$p2" "$f2") l3=$(ping_bg_losses "$p3" "$f3")
    RESULTS+=("$REGISTRY/$BACKEND: $NHOSTILE hostile leases; pings lost n1c1->n2c1 $l1, n2c2->n3c1 $l2, n3c2->n1c2 $l3${PLANTED_RESULT:+; $PLANTED_RESULT}")
    assert_eq "no ping lost n1c1 -> n2c1 throughout (lost/sent $l1)" 0 "${l1%%/*}"
    assert_eq "no ping lost n2c2 -> n3c1 throughout (lost/sent $l2)" 0 "${l2%%/*}"
    assert_eq "no ping lost n3c2 -> n1c2 throughout (lost/sent $l3)" 0 "${l3%%/*}"
}

# check_reports <key...>: on n1 and n2, one log line per lease and reason, the same after
# two more reconcile passes (logged once, not at every resync)
check_reports() {
    local k key n bad
    local -A c0=()
    for k in 1 2; do
        for key in "$@"; do judged_by "$k" "$key" && c0[$k/$key]=$(reject_lines "$k" "$key" "${HR[$key]}"); done
    done
    # (a loop stuck on a planted entry completes none: that is a failure of its own)
    wait_reconciles 1 2 && wait_reconciles 2 2 || fail "n1 and n2 complete two more reconcile passes"
    for k in 1 2; do
        bad=""
        for key in "$@"; do
            judged_by "$k" "$key" || continue
            n=$(reject_lines "$k" "$key" "${HR[$key]}")
            [ "$n" = 1 ] && [ "${c0[$k/$key]}" = 1 ] || bad+="$key ${HR[$key]}: ${c0[$k/$key]} then $n; "
        done
        assert_eq "n$k: one log line per rejected lease and reason, not repeated two passes later" "" "$bad"
    done
}

# Entries in subnets/ named like leases that are no lease files (directory registry).
sc_planted() {
    log "--- planted entries in subnets/: symlink loop, unix socket, FIFO, symlink to /dev/zero"
    local d="$REG_DIR$PREFIX_KEY/subnets" k key n rss0=() rss e0 r0 fixture
    # the baselines before anything is planted (the agent sees the entries at once)
    for k in 1 2 3; do rss0[$k]=$(vmrss_kib "$k"); done
    e0=$(lease_expiry 1) r0=$(metric_sum 1 swiftcni_leases_rejected_total 'reason="unreadable"')
    rss_guard_start
    HKEYS=()
    free_subnet; key=$(subnet_key "$FREE"); HKEYS+=("$key"); HR[$key]=unreadable HN[$key]="1 2 3" HS[$key]=$FREE HM[$key]="" HP[$key]=-
    ln -s "$key" "$d/$key"
    free_subnet; key=$(subnet_key "$FREE"); HKEYS+=("$key"); HR[$key]=unreadable HN[$key]="1 2 3" HS[$key]=$FREE HM[$key]="" HP[$key]=-
    python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$d/$key"
    free_subnet; key=$(subnet_key "$FREE"); HKEYS+=("$key"); HR[$key]=unreadable HN[$key]="1 2 3" HS[$key]=$FREE HM[$key]="" HP[$key]=-
    mkfifo "$d/$key"
    free_subnet; key=$(subnet_key "$FREE"); HKEYS+=("$key"); HR[$key]=unreadable HN[$key]="1 2 3" HS[$key]=$FREE HM[$key]="" HP[$key]=-
    ln -s /dev/zero "$d/$key"
    local planted=("${HKEYS[@]}")
    log "  planted ${planted[*]}; n1 VmRSS ${rss0[1]} KiB, lease expiry $e0"
    if wait_for "$REPORT_MS" all_reported 1 "${planted[@]}"; then pass "n1 reports every planted entry"
    else fail "n1 reports every planted entry within $REPORT_MS ms" "$(agent_log_tail 1 6)"; fi
    check "n1 swiftcni_leases_rejected_total{reason=\"unreadable\"} up by ${#planted[@]}" \
        wait_for 2000 metric_ge 1 $((r0 + ${#planted[@]})) swiftcni_leases_rejected_total 'reason="unreadable"' ||
        log "          | $(metric_sum 1 swiftcni_leases_rejected_total 'reason="unreadable"'), was $r0: $(grep '^swiftcni_leases_rejected' "${NODE_DIR[1]}/http.body" | tr '\n' ' ')"
    check_reports "${planted[@]}"
    # the loop goes on: a valid lease written now is programmed
    free_subnet
    fixture=$FREE
    put_lease "$(subnet_key "$fixture")" "$(hl_value "$UNDERLAY.91" 02:66:66:00:00:91)"
    local fm=""
    [ "$BACKEND" = vxlan ] && fm=02:66:66:00:00:91
    for k in 1 2; do
        check "n$k programs a valid lease written after the planted entries" \
            wait_for 3000 state_is "$k" "$fixture" "$UNDERLAY.91" "$fm" "$(full_state)"
    done
    reg_del_lease "$(subnet_key "$fixture")"
    check "n1 renews its lease with the planted entries there (swiftcni_lease_expiry_seconds past $e0)" \
        wait_for 15000 metric_ge 1 $((e0 + 1)) swiftcni_lease_expiry_seconds
    local j
    for k in 1 2 3; do
        check "n$k /readyz 200 with the planted entries" readyz_says "$k" 200
        for j in 1 2 3; do
            [ "$j" = "$k" ] && continue
            check "n$k still programs n$j" state_is "$k" "${SUB[$j]}" "${NODE_IP[$j]}" "${MAC[$j]}" "$(full_state)"
        done
        local bad="" t
        for key in "${planted[@]}"; do t=$(traces "$k" "$key"); [ -n "$t" ] && bad+="$key: $t; "; done
        assert_eq "n$k programs nothing for the planted entries" "" "$bad"
        rss=$(vmrss_kib "$k")
        check "n$k VmRSS bounded: ${rss:-?} KiB (was ${rss0[$k]:-?}, budget +$MEM_BUDGET_KIB)" \
            test -n "$rss" -a "${rss:-0}" -le $((${rss0[$k]:-0} + MEM_BUDGET_KIB))
        agent_running "$k" || fail "n$k agent still running" "$(agent_log_tail "$k")"
    done
    rss_guard_stop
    [ -s "$CLDIR/rss-guard" ] && fail "no agent had to be killed for its memory" "$(cat "$CLDIR/rss-guard")"
    PLANTED_RESULT="planted entries: n1 VmRSS ${rss0[1]} -> $(vmrss_kib 1) KiB"
    rm -f "${planted[@]/#/$d/}"
}

run_combo() {
    PLANTED_RESULT=""
    # a short TTL: renewal (every 5 s) can be watched while planted entries are there
    AGENT_EXTRA=(--lease-ttl 10)
    if cluster_up; then
        sc_hostile
    else
        log "cluster did not come up; skipping its scenarios"
    fi
    AGENT_EXTRA=()
    cluster_end
}

main() {
    xinit_run
    if [ "$IS_REFERENCE" = 1 ]; then
        log "PLUGINS_DIR is the reference plugins: no swift-flanneld there, suite skipped"
        summary
        return
    fi
    if [ ! -x "$AGENT_BIN" ]; then fail "$AGENT_BIN exists"; summary; return; fi
    run_matrix run_combo
}

main "$@"
