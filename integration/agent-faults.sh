#!/usr/bin/env bash
# Fault injection against swift-flanneld (issue 9 part 4; contract: docs/cross-host.md):
#   kill_reconcile  the agent is SIGKILLed while it programs 1,000 peers (vxlan, directory
#                   registry); the registry changes while it is dead (100 leases gone, 100
#                   with a new VTEP MAC, 20 new); restarted, it converges to exactly the
#                   expected routes, neighbours and FDB entries: none missing, none stale,
#                   none twice.
#   etcd_kill       20 agents start at once while etcd is SIGKILLed and restarted, in a
#                   network with 31 subnets (many creation races): at the end every agent is
#                   ready, the 20 leases name 20 different nodes, every subnet.env matches
#                   its node's lease, and no subnet was ever acquired by two nodes (from
#                   the agents' "lease acquired" log lines).
#
#   PLUGINS_DIR=$PWD/.build/cni-bin bash integration/agent-faults.sh
#
# Optional: SCENARIOS="kill_reconcile etcd_kill" PEERS=1000 AGENTS=20 NETNS_PREFIX=... KEEP_TMP=1
# Last line: "N passed, N failed".

INTEG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$INTEG_DIR/lib.sh"
# shellcheck source=lib-cross.sh
. "$INTEG_DIR/lib-cross.sh"

SCENARIOS=${SCENARIOS:-kill_reconcile etcd_kill}
PEERS=${PEERS:-1000}
AGENTS=${AGENTS:-20}
RESULTS=()
want() { [[ " $SCENARIOS " == *" $1 "* ]]; }

# ------------------------------------------------------------------ 1,000 peers, SIGKILL

# Synthetic peers: subnet index s (0..1023) of the /16 with SubnetLen 26; its key in SK.
subkey() { SK="10.$CLUSTER_NET_A.$(($1 >> 2)).$((($1 & 3) * 64))-26"; }

# write_peer <dir> <s> <salt>: lease file for subnet index s (PublicIP 198.18.x.y, a
# VTEP MAC salted so that a rewrite changes it), expiring in an hour
write_peer() {
    local s=$2
    subkey "$s"
    printf '{"PublicIP":"198.18.%d.%d","BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"02:5c:%02x:%02x:%02x:%02x"}}\n' \
        $(((s >> 8) & 255)) $((s & 255)) "$3" $(((s >> 16) & 255)) $(((s >> 8) & 255)) $((s & 255)) >"$1/$SK"
}

# kernel_sets <k>: sorted "route <subnet>", "neigh <addr> <mac>", "fdb <mac> <ip>" lines
kernel_sets() {
    local ns=${NODE_NS[$1]}
    ip -n "$ns" -4 route show proto 92 | awk '{print "route " $1}'
    ip -n "$ns" -4 neigh show dev flannel.1 | awk '{print "neigh " $1 " " $3}'
    bridge -n "$ns" fdb show dev flannel.1 | awk '$2 == "dst" {print "fdb " $1 " " $3}'
}

# expected_sets <own-key>: the same lines from the registry's lease files
expected_sets() {
    jq -r --arg own "$1" '(input_filename | split("/") | last) as $k | select($k != $own) | ($k | split("-")) as $p |
        "route \($p[0])/\($p[1])", "neigh \($p[0]) \(.BackendData.VtepMAC)", "fdb \(.BackendData.VtepMAC) \(.PublicIP)"' \
        "$REG_DIR$PREFIX_KEY/subnets"/[0-9]*
}

sc_kill_reconcile() {
    BACKEND=vxlan REGISTRY=dir
    cluster_begin "SIGKILL in the middle of a $PEERS-peer reconcile"
    reg_put_config "$(net_config '{"SubnetLen":26}')"
    node_new 1 || return
    agent_start 1
    if ! agent_wait_ready 1 20; then fail "n1 ready" "$(agent_log_tail 1)"; cluster_end; return; fi
    local own sdir stage exp i s n=0 owni
    own=$(reg_lease_of "${NODE_IP[1]}")
    agent_stop 1
    sdir="$REG_DIR$PREFIX_KEY/subnets"
    stage="$CLDIR/stage"
    mkdir -p "$stage"
    exp=$(($(date +%s) + 3600))
    owni=""
    for ((s = 0; s < 1024 && n < PEERS; s++)); do
        subkey $s
        [ "$SK" = "$own" ] && { owni=$s; continue; }
        write_peer "$stage" "$s" 1
        n=$((n + 1))
    done
    local last=$s
    touch -d "@$exp" "$stage"/*
    mv "$stage"/* "$sdir"/
    log "  $n synthetic peers written; n1 holds $own"

    # Start, SIGKILL a little after the lease is acquired (the full reconcile follows the
    # device and masquerade set-up): later and later until the kill lands in the middle,
    # some entries in place and not all. A kill that came too late (all in place) halves
    # the step back and deletes flannel.1 (and with it every entry) for the next try.
    local t0 at_kill="" try delay=0 lo=-1 hi=-1 log0 total
    for ((try = 1; try <= 12; try++)); do
        log0=$(wc -l <"${NODE_DIR[1]}/agent.log")
        agent_start 1
        wait_for 20000 sh -c "tail -n +$((log0 + 1)) '${NODE_DIR[1]}/agent.log' | grep -q 'msg=\"lease acquired\"'"
        sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"  # the thing under test: where the kill lands
        kill -KILL "${AGENT_PID[1]}"
        agent_stop 1 KILL
        total=$(kernel_sets 1 | grep -c . || true)
        at_kill="$(kernel_sets 1 | awk '{c[$1]++} END {printf "%d routes, %d neighbours, %d FDB entries", c["route"], c["neigh"], c["fdb"]}')"
        log "  try $try: killed ${delay} ms after \"lease acquired\", with $at_kill in place"
        [ "$total" -gt 0 ] && [ "$total" -lt $((3 * n)) ] && break
        if [ "$total" = 0 ]; then
            lo=$delay
            if [ "$hi" -lt 0 ]; then delay=$((delay + 40)); else delay=$(((lo + hi) / 2)); fi
        else
            hi=$delay
            delay=$(((lo < 0 ? 0 : lo) + (hi - (lo < 0 ? 0 : lo)) / 2))
            ip -n "${NODE_NS[1]}" link del flannel.1
        fi
    done
    check "a SIGKILL landed in the middle of the reconcile (try $try: $at_kill of $n peers)" \
        sh -c "[ '$total' -gt 0 ] && [ '$total' -lt $((3 * n)) ]"
    RESULTS+=("kill_reconcile: SIGKILL at try $try, ${delay} ms after the lease, with $at_kill of $n peers in place")

    # The registry moves on while the agent is dead.
    for ((i = 0, s = 0; s < last; s++)); do
        [ "$s" = "$owni" ] && continue
        if [ $i -lt 100 ]; then subkey $s; rm -f "$sdir/$SK"
        elif [ $i -lt 200 ]; then write_peer "$sdir" "$s" 2; touch -d "@$exp" "$sdir/$SK"
        else break
        fi
        i=$((i + 1))
    done
    for ((i = 0, s = last; s < 1024 && i < 20; s++)); do
        [ "$s" = "$owni" ] && continue
        write_peer "$sdir" "$s" 3; touch -d "@$exp" "$sdir/$SK"
        i=$((i + 1))
    done
    local want_n=$((PEERS - 100 + 20))

    t0=$(now_ms)
    agent_start 1
    if agent_wait_ready 1 30; then
        pass "restarted agent ready after $(($(now_ms) - t0)) ms"
        RESULTS+=("kill_reconcile: restarted, ready (converged to $want_n peers x 3 entries) $(($(now_ms) - t0)) ms after its start")
    else
        fail "restarted agent ready within 30 s" "$(agent_log_tail 1)"
    fi
    local ek kk
    ek=$(expected_sets "$own" | sort)
    kk=$(kernel_sets 1 | sort)
    assert_eq "the registry lists $want_n peers" "$want_n" "$(grep -c '^route ' <<<"$ek")"
    assert_eq "no kernel entry twice" "" "$(uniq -d <<<"$kk" | head -n 3)"
    local missing stale
    missing=$(comm -23 <(echo "$ek") <(echo "$kk"))
    stale=$(comm -13 <(echo "$ek") <(echo "$kk"))
    assert_eq "no expected entry missing ($(grep -c . <<<"$missing" || true))" "" "$(head -n 3 <<<"$missing")"
    assert_eq "no stale entry ($(grep -c . <<<"$stale" || true))" "" "$(head -n 3 <<<"$stale")"
    assert_eq "kernel: $want_n routes, neighbours and FDB entries each" \
        "$want_n $want_n $want_n" "$(awk '{c[$1]++} END {print c["route"]+0, c["neigh"]+0, c["fdb"]+0}' <<<"$kk")"
    assert_eq "n1 keeps its subnet" "$own" "$(subnet_key "$(node_subnet 1)")"
    cluster_end
}

# ------------------------------------------------------------------ 20 agents, etcd SIGKILL

sc_etcd_kill() {
    BACKEND=host-gw REGISTRY=etcd
    if ! etcd_ensure_installed || ! etcd_start; then fail "etcd starts"; return; fi
    cluster_begin "$AGENTS agents start while etcd is SIGKILLed and restarted"
    # 31 subnets for 20 nodes: most random picks collide with another node's.
    reg_put_config "$(net_config "{\"Network\":\"10.$CLUSTER_NET_A.0.0/19\",\"SubnetMin\":\"10.$CLUSTER_NET_A.1.0\",\"SubnetMax\":\"10.$CLUSTER_NET_A.31.0\"}")"
    local k
    for ((k = 1; k <= AGENTS; k++)); do node_new "$k" || return; done
    local t0
    t0=$(now_ms)
    for ((k = 1; k <= AGENTS; k++)); do agent_start "$k"; done
    sleep 0.3  # the thing under test: etcd dies while the agents race for subnets
    stop_pid "$ETCD_PID" KILL 5
    ETCD_PID=""
    log "  etcd SIGKILLed $(($(now_ms) - t0)) ms after the first agent started"
    sleep 1  # the thing under test: etcd stays dead for a second
    if etcd_start; then pass "etcd restarted ($(($(now_ms) - t0)) ms)"; else fail "etcd restarts"; return; fi
    local ready=0
    for ((k = 1; k <= AGENTS; k++)); do
        agent_wait_ready "$k" 30 && ready=$((ready + 1))
    done
    assert_eq "all $AGENTS agents ready ($(($(now_ms) - t0)) ms after the start)" "$AGENTS" "$ready"
    RESULTS+=("etcd_kill: $ready of $AGENTS agents ready $(($(now_ms) - t0)) ms after starting, etcd SIGKILLed 0.3 s after the last agent started and back 1 s later")

    local leases ips subs envs
    leases=$(reg_leases)
    assert_eq "$AGENTS leases in etcd" "$AGENTS" "$(grep -c . <<<"$leases")"
    ips=$(while read -r key json; do jq -r .PublicIP <<<"$json"; done <<<"$leases" | sort)
    assert_eq "no node holds two leases" "" "$(uniq -d <<<"$ips")"
    envs=$(for ((k = 1; k <= AGENTS; k++)); do node_subnet "$k"; done | sort)
    assert_eq "no two subnet.env name one subnet" "" "$(uniq -d <<<"$envs")"
    local bad=""
    for ((k = 1; k <= AGENTS; k++)); do
        [ "$(reg_lease_of "${NODE_IP[$k]}")" = "$(subnet_key "$(node_subnet "$k")")" ] || bad+="n$k "
    done
    assert_eq "every subnet.env matches its node's lease" "" "$bad"
    # Ever: every "lease acquired" of every run of every agent.
    subs=$(for ((k = 1; k <= AGENTS; k++)); do
        grep 'msg="lease acquired"' "${NODE_DIR[$k]}/agent.log" | sed -n 's/.* subnet=\([^ ]*\).*/\1/p' | sort -u
    done | sort)
    assert_eq "no subnet was ever acquired by two nodes" "" "$(uniq -d <<<"$subs")"
    local retried
    retried=$(for ((k = 1; k <= AGENTS; k++)); do grep -c 'not ready' "${NODE_DIR[$k]}/agent.log"; done | awk '$1 > 0' | grep -c . || true)
    log "  $retried agents reported etcd trouble and retried"
    cluster_end
    etcd_stop
}

main() {
    xinit_run
    if [ ! -x "$AGENT_BIN" ]; then fail "$AGENT_BIN exists"; summary; return; fi
    want kill_reconcile && sc_kill_reconcile
    want etcd_kill && sc_etcd_kill
    log ""
    log "measured:"
    printf '  %s\n' "${RESULTS[@]}" >&2
    summary
}

main "$@"
