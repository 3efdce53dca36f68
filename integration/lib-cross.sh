# shellcheck shell=bash
# Helpers for the multi-node suites (cross-host.sh, demo-cross.sh). Source it
# after lib.sh. Contract under test: docs/cross-host.md.
#
# Topology (all network namespaces, the root namespace is never touched):
#
#   $UL_NS      the underlay: one bridge "br0"; every node, the etcd host and the
#               "outside" host hang off it through a veth pair
#   node k      netns ${CLP}n<k>, underlay veth "eth0" with $UNDERLAY.<k>/24,
#               its own files under $CLDIR/n<k>/ (subnet.env, state, agent.log,
#               CNI conf/cache/data); the agent runs inside it
#   container   netns ${CLP}n<k><name>, attached with the libcni driver run
#               inside the node netns
#   etcd        netns $ETCD_NS at $UNDERLAY.250 (data dir in the run dir)
#   outside     netns $OUT_NS at $UNDERLAY.200, no route to the cluster network
#               (reachable from containers only through masquerade)
#
# Background processes (agents, etcd, tcpdump, ping) are recorded in BG_PIDS;
# xcleanup() stops them (TERM, then KILL) before lib.sh's cleanup() deletes
# the namespaces and the run dir.

AGENT_PORT=9102
RESYNC=${RESYNC:-1}

declare -A NODE_NS=() NODE_IP=() NODE_DIR=() AGENT_PID=() CTR_IP=() CTR_NODE=()
CLN=0            # cluster counter
CLP=""           # netns prefix of the current cluster
CLDIR=""         # files of the current cluster
CL_NODES=()      # node indexes of the current cluster
CL_CTRS=()       # container netns names of the current cluster, in order
REGISTRY=dir     # dir | etcd
BACKEND=vxlan    # vxlan | host-gw | udp
AGENT_BIN="$PLUGINS_DIR/swift-flanneld"  # the node daemon; the backend comes from the registry config
REG_DIR=""
ETCD_NS="" ETCD_PID="" ETCD_EP="" ETCD_DATA="" ETCD_IP=""
UL_NS="" OUT_NS="" UNDERLAY="" CLUSTER_NET_A="" OUT_IP=""
NET_NAME=""      # CNI network name of the current backend's conflist

# out_has <ere> <cmd...>: the command's output has a line matching (case-insensitive).
# Output captured first: with pipefail, "cmd | grep -q" fails when grep's early
# exit gets cmd killed by SIGPIPE.
out_has() {
    local re=$1 o
    shift
    o=$("$@" 2>/dev/null)
    grep -qiE -- "$re" <<<"$o"
}

netns_exists() { out_has "^$1( |\$)" ip netns list; }

# ---------------------------------------------------------------- processes

# stop_pid <pid> [signal] [timeout-s]: signal, wait for exit (KILL after the
# timeout); the exit status is left in STOP_RC.
stop_pid() {
    local pid=$1 sig=${2:-TERM} t=${3:-5} i
    STOP_RC=""
    { # stderr off: bash reports "Killed" for a job that dies of a signal
        kill "-$sig" "$pid" || true
        for ((i = 0; i < t * 20; i++)); do
            kill -0 "$pid" || break
            sleep 0.05
        done
        if kill -0 "$pid"; then
            log "  (pid $pid ignored SIG$sig for ${t}s, killing)" 2>&3
            kill -KILL "$pid" || true
        fi
        wait "$pid"
        STOP_RC=$?
    } 3>&2 2>/dev/null
    bg_forget "$pid"
}

xcleanup() {
    local rc=$? pid i alive
    trap - EXIT INT TERM
    for pid in "${BG_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for ((i = 0; i < 60; i++)); do
        alive=0
        for pid in "${BG_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ "$alive" = 0 ] && break
        sleep 0.05
    done
    for pid in "${BG_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    for pid in "${BG_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    BG_PIDS=()
    (exit "$rc")
    cleanup
}

xon_signal() {
    log "interrupted ($1), cleaning up"
    xcleanup
    exit "$2"
}

# xinit_run: lib.sh's init_run plus our tools, traps and the underlay.
xinit_run() {
    local t
    for t in curl tcpdump bridge; do
        command -v "$t" >/dev/null || die "missing tool: $t (apt-get install curl tcpdump iproute2)"
    done
    init_run
    trap xcleanup EXIT
    trap 'xon_signal INT 130' INT
    trap 'xon_signal TERM 143' TERM
    pick_addresses
    underlay_up
}

# ---------------------------------------------------------------- addressing

# A per-run /24 for the underlay and a /16 for the cluster network, both in
# 10/8, neither overlapping anything the machine's own namespace uses.
pick_addresses() {
    local used x y a tries=0
    used=$(ip -4 -o addr show 2>/dev/null | awk '{print $4}'; ip -4 route show table all 2>/dev/null | awk '{print $1}')
    while :; do
        tries=$((tries + 1))
        [ $tries -lt 200 ] || die "no free 10.x.y.0/24 found"
        x=$((100 + RANDOM % 100))
        y=$((RANDOM % 256))
        a=$((200 + RANDOM % 50))
        grep -qE "^10\.($x|$a)\." <<<"$used" && continue
        break
    done
    UNDERLAY="10.$x.$y"
    CLUSTER_NET_A=$a
    ETCD_IP="$UNDERLAY.250"
    OUT_IP="$UNDERLAY.200"
    log "underlay $UNDERLAY.0/24, cluster network 10.$a.0.0/16"
}

ip2int() { local IFS=.; set -- $1; echo $((($1 << 24) | ($2 << 16) | ($3 << 8) | $4)); }
int2ip() { echo "$((($1 >> 24) & 255)).$((($1 >> 16) & 255)).$((($1 >> 8) & 255)).$(($1 & 255))"; }

# subnet_of 10.244.1.1/24 -> 10.244.1.0/24
subnet_of() {
    local addr=${1%/*} len=${1#*/} n mask
    n=$(ip2int "$addr")
    mask=$(((0xffffffff << (32 - len)) & 0xffffffff))
    echo "$(int2ip $((n & mask)))/$len"
}
subnet_net() { echo "${1%/*}"; }            # 10.244.1.0/24 -> 10.244.1.0
subnet_key() { echo "${1%/*}-${1#*/}"; }    # 10.244.1.0/24 -> 10.244.1.0-24

# ---------------------------------------------------------------- underlay

underlay_up() {
    UL_NS="${PFX}-ul"
    netns_add "$UL_NS"
    ip -n "$UL_NS" link add br0 type bridge || die "underlay bridge"
    ip -n "$UL_NS" link set br0 up
    OUT_NS="${PFX}-out"
    underlay_attach "$OUT_NS" out "$OUT_IP" || die "outside host"
}

# underlay_attach <netns> <ul-port-name> <addr>: veth eth0 in <netns> with
# <addr>/24, its peer <ul-port-name> on the underlay bridge.
underlay_attach() {
    local ns=$1 port=$2 addr=$3
    netns_exists "$ns" || netns_add "$ns"
    ip -n "$UL_NS" link add "$port" type veth peer name eth0 netns "$ns" || return 1
    ip -n "$UL_NS" link set "$port" master br0 up || return 1
    ip -n "$ns" addr add "$addr/24" dev eth0 || return 1
    ip -n "$ns" link set eth0 up || return 1
}

# ---------------------------------------------------------------- etcd

etcd_ensure_installed() {
    local pkgs=""
    command -v etcd >/dev/null || pkgs+=" etcd-server"
    command -v etcdctl >/dev/null || pkgs+=" etcd-client"
    [ -z "$pkgs" ] && return 0
    log "installing$pkgs"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs >/dev/null 2>&1 ||
        { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs >/dev/null 2>&1; } ||
        return 1
    # The package starts a system etcd in the root namespace: stop it, we run our own.
    if [ -x /etc/init.d/etcd ]; then
        if command -v systemctl >/dev/null && systemctl is-system-running >/dev/null 2>&1; then
            systemctl stop etcd >/dev/null 2>&1; systemctl disable etcd >/dev/null 2>&1
        else
            /etc/init.d/etcd stop >/dev/null 2>&1
        fi
    fi
    command -v etcd >/dev/null && command -v etcdctl >/dev/null
}

etcd_start() {
    ETCD_NS="${PFX}-etcd"
    ETCD_EP="http://$ETCD_IP:2379"
    ETCD_DATA="$RUN_DIR/etcd"
    if ! netns_exists "$ETCD_NS"; then
        underlay_attach "$ETCD_NS" etcd "$ETCD_IP" || return 1
    fi
    mkdir -p "$ETCD_DATA"
    ip netns exec "$ETCD_NS" etcd --name scni --data-dir "$ETCD_DATA/data" \
        --listen-client-urls "$ETCD_EP" --advertise-client-urls "$ETCD_EP" \
        --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
        --initial-cluster scni=http://127.0.0.1:2380 --log-level warn \
        >>"$ETCD_DATA/etcd.log" 2>&1 &
    ETCD_PID=$!
    BG_PIDS+=("$ETCD_PID")
    local i
    for ((i = 0; i < 100; i++)); do
        out_has '"health":"true"' ip netns exec "$ETCD_NS" curl -s -m 1 "$ETCD_EP/health" && return 0
        kill -0 "$ETCD_PID" 2>/dev/null || break
        sleep 0.1
    done
    log "etcd did not come up:"; tail -n 5 "$ETCD_DATA/etcd.log" >&2
    return 1
}

etcd_stop() {
    [ -n "$ETCD_PID" ] || return 0
    stop_pid "$ETCD_PID" TERM 10
    ETCD_PID=""
}

etcdctl_() { ip netns exec "$ETCD_NS" env ETCDCTL_API=3 etcdctl --endpoints "$ETCD_EP" --command-timeout=3s "$@"; }

# etcd_range <prefix>: JSON array [{key, value}] (decoded) through the gateway.
etcd_range() {
    local k end
    k=$(printf '%s' "$1" | base64 -w0)
    end=$(printf '%s' "${1%?}$(printf '%s' "${1: -1}" | tr '/' '0')" | base64 -w0)
    ip netns exec "$ETCD_NS" curl -s -m 2 -X POST "$ETCD_EP/v3/kv/range" \
        -d "{\"key\":\"$k\",\"range_end\":\"$end\"}" |
        jq -c '[(.kvs // [])[] | {key: (.key | @base64d), value: (.value // "" | @base64d)}]'
}

# ---------------------------------------------------------------- registry

PREFIX_KEY=/coreos.com/network

reg_put_config() { # <json>
    case $REGISTRY in
    dir)
        mkdir -p "$REG_DIR$PREFIX_KEY"
        cat >"$REG_DIR$PREFIX_KEY/config" <<<"$1"
        ;;
    etcd) etcdctl_ put "$PREFIX_KEY/config" "$1" >/dev/null ;;
    esac
}

reg_del_config() {
    case $REGISTRY in
    dir) rm -f "$REG_DIR$PREFIX_KEY/config" ;;
    etcd) etcdctl_ del "$PREFIX_KEY/config" >/dev/null ;;
    esac
}

reg_clear() {
    case $REGISTRY in
    dir) rm -rf "$REG_DIR" && mkdir -p "$REG_DIR" ;;
    etcd) etcdctl_ del --prefix /coreos.com/ >/dev/null ;;
    esac
}

# reg_leases: "<key-name> <json>" per lease (key-name like 10.244.1.0-24)
reg_leases() {
    local f
    case $REGISTRY in
    dir)
        [ -d "$REG_DIR$PREFIX_KEY/subnets" ] || return 0
        for f in "$REG_DIR$PREFIX_KEY/subnets"/*; do
            [ -f "$f" ] || continue
            [[ ${f##*/} =~ ^[0-9.]+-[0-9]+(\&[0-9a-f:]+-[0-9]+)?$ ]] || continue  # v4 or dual-stack key
            printf '%s %s\n' "${f##*/}" "$(tr -d '\n' <"$f")"
        done
        ;;
    etcd)
        etcd_range "$PREFIX_KEY/subnets/" | jq -r '.[] | "\(.key | split("/") | last) \(.value | gsub("\n"; ""))"'
        ;;
    esac
}

reg_lease_count() { reg_leases | grep -c . || true; }

# reg_lease_of <public-ip>: the key name of the lease held by that node
reg_lease_of() {
    reg_leases | while read -r k v; do
        if [ "$(jq -r '.PublicIP // empty' <<<"$v" 2>/dev/null)" = "$1" ]; then echo "$k"; break; fi
    done
}

reg_lease_json() { # <key-name>
    reg_leases | awk -v k="$1" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }'
}

reg_del_lease() { # <key-name>
    case $REGISTRY in
    dir) rm -f "$REG_DIR$PREFIX_KEY/subnets/$1" ;;
    etcd) etcdctl_ del "$PREFIX_KEY/subnets/$1" >/dev/null ;;
    esac
}

# put_lease <key> <json>: a hand-written lease, alive for a day (directory: written aside,
# its mtime, the expiry, set, then renamed in; the key may hold "/" for a subdirectory)
put_lease() {
    case $REGISTRY in
    dir)
        local d="$REG_DIR$PREFIX_KEY/subnets" t
        mkdir -p "$d" "$(dirname "$d/$1")"
        t="$d/.t$$"
        printf '%s' "$2" >"$t" && touch -d '+1 day' "$t" && mv -f "$t" "$d/$1"
        ;;
    etcd) etcdctl_ put "$PREFIX_KEY/subnets/$1" "$2" >/dev/null ;;
    esac
}

net_config() { # [json-overrides]: the network config for the current backend
    local o=${1:-}
    [ -n "$o" ] || o='{}'
    jq -cn --arg net "10.$CLUSTER_NET_A.0.0/16" --arg be "$BACKEND" --argjson o "$o" \
        '{Network: $net, SubnetLen: 24, Backend: {Type: $be}} * $o'
}

# ---------------------------------------------------------------- clusters
# run_matrix <fn>: <fn> once per registry (REGISTRIES) and backend (BACKENDS), etcd running
# for its registry; then RESULTS (an array of lines) under "measured:" and the summary
run_matrix() {
    local fn=$1 reg be
    for reg in $REGISTRIES; do
        REGISTRY=$reg
        if [ "$reg" = etcd ]; then
            CURRENT_SCENARIO=etcd
            if ! etcd_ensure_installed || ! etcd_start; then fail "etcd starts in $ETCD_NS"; continue; fi
        fi
        for be in $BACKENDS; do
            BACKEND=$be
            "$fn"
        done
        [ "$reg" = etcd ] && etcd_stop
    done
    log ""
    log "measured:"
    printf '  %s\n' "${RESULTS[@]}" >&2
    summary
}


# cluster_begin <label>: new prefix and dir for a set of nodes; clears the
# registry (etcd) or starts a fresh registry dir.
cluster_begin() {
    CLN=$((CLN + 1))
    CLP="${PFX}-k${CLN}"
    CLDIR="$RUN_DIR/k$CLN"
    CL_NODES=()
    CL_CTRS=()
    mkdir -p "$CLDIR"
    REG_DIR="$CLDIR/registry"
    mkdir -p "$REG_DIR"
    [ "$REGISTRY" = etcd ] && reg_clear
    case $BACKEND in
    vxlan) NET_NAME=cbr0 CONFLIST=30-flannel-vxlan.conflist ;;
    host-gw) NET_NAME=cbr0-hostgw CONFLIST=31-host-gw.conflist ;;
    udp) NET_NAME=cbr0-udp CONFLIST=32-flannel-udp.conflist ;;
    esac
    CURRENT_SCENARIO="$REGISTRY/$BACKEND: $1"
    log ""
    log "=== [$REGISTRY/$BACKEND] $1"
}

# cluster_end: agents stopped, every netns of the cluster deleted.
cluster_end() {
    local k c
    for k in "${CL_NODES[@]}"; do agent_stop "$k" >/dev/null 2>&1; done
    for c in "${CL_CTRS[@]}"; do netns_del "$c"; done
    for k in "${CL_NODES[@]}"; do
        netns_del "${NODE_NS[$k]}"
        ip -n "$UL_NS" link del "k${CLN}n$k" 2>/dev/null || true
    done
    CL_NODES=()
    CL_CTRS=()
    CURRENT_SCENARIO=""
}

# node_new <k> [--no-underlay]: node netns with $UNDERLAY.<k>/24 on eth0.
node_new() {
    local k=$1 ns="${CLP}n$1"
    NODE_NS[$k]=$ns
    NODE_IP[$k]="$UNDERLAY.$k"
    NODE_DIR[$k]="$CLDIR/n$k"
    mkdir -p "${NODE_DIR[$k]}"/{state,conf,cache,ipam,cni-data}
    netns_add "$ns"
    CL_NODES+=("$k")
    if [ "${2:-}" != --no-underlay ]; then
        underlay_attach "$ns" "k${CLN}n$k" "${NODE_IP[$k]}" || { fail "node $k underlay setup"; return 1; }
    fi
    # the node's CNI config: the backend's example conflist with per-node paths
    jq --arg sf "${NODE_DIR[$k]}/subnet.env" --arg dd "${NODE_DIR[$k]}/cni-data" --arg ipd "${NODE_DIR[$k]}/ipam" '
        .plugins[0].subnetFile = $sf | .plugins[0].dataDir = $dd | .plugins[0].ipam.dataDir = $ipd
        ' "$CONF_SRC_DIR/$CONFLIST" >"${NODE_DIR[$k]}/conf/$NET_NAME.conflist" || die "conflist $CONFLIST"
}

# Registry flags of the agents; AGENT_ETCD_EP / AGENT_IFACE override the
# endpoint and the underlay interface (bad-input scenarios).
AGENT_ETCD_EP="" AGENT_IFACE=eth0
reg_flags() {
    case $REGISTRY in
    dir) echo "--registry-dir $REG_DIR" ;;
    etcd) echo "--etcd-endpoints ${AGENT_ETCD_EP:-$ETCD_EP}" ;;
    esac
}

# agent_start <k> [extra flags...]: the agent in node k, logs appended to agent.log;
# AGENT_EXTRA (array) holds flags for every start (e.g. --udp-path plain)
AGENT_EXTRA=()
agent_start() {
    local k=$1
    shift
    local d=${NODE_DIR[$k]}
    # shellcheck disable=SC2046
    printf '%s --- start %s\n' "$(date +%T.%N)" "$*" >>"$d/agent.log"
    ip netns exec "${NODE_NS[$k]}" "$AGENT_BIN" $(reg_flags) --iface "$AGENT_IFACE" --ip-masq \
        --subnet-file "$d/subnet.env" --state-dir "$d/state" \
        --listen "127.0.0.1:$AGENT_PORT" --resync-interval "$RESYNC" "${AGENT_EXTRA[@]}" "$@" >>"$d/agent.log" 2>&1 &
    AGENT_PID[$k]=$!
    AGENT_LAST_RC[$k]=""
    BG_PIDS+=("${AGENT_PID[$k]}")
}

agent_running() { [ -n "${AGENT_PID[$1]:-}" ] && kill -0 "${AGENT_PID[$1]}" 2>/dev/null; }

# agent_stop <k> [signal]: exit status in STOP_RC ("" if it was not running)
agent_stop() {
    local k=$1
    STOP_RC=""
    [ -n "${AGENT_PID[$k]:-}" ] || return 0
    stop_pid "${AGENT_PID[$k]}" "${2:-TERM}" 5
    AGENT_PID[$k]=""
}

# agent_exited <k>: true if node k's agent has exited; reaps it, its status in
# AGENT_LAST_RC[k]. (Not in a $(...): only this shell can wait for its child.)
agent_exited() {
    local k=$1 pid=${AGENT_PID[$1]:-}
    [ -n "$pid" ] || return 1
    kill -0 "$pid" 2>/dev/null && return 1
    wait "$pid" 2>/dev/null
    AGENT_LAST_RC[$k]=$?
    bg_forget "$pid"
    AGENT_PID[$k]=""
}
declare -A AGENT_LAST_RC=()

# http_code <k> <path>: HTTP status of the agent's health endpoint (000 = no answer);
# body in $CLDIR/n<k>/http.body
http_code() {
    ip netns exec "${NODE_NS[$1]}" curl -s -m 1 -o "${NODE_DIR[$1]}/http.body" -w '%{http_code}' \
        "http://127.0.0.1:$AGENT_PORT$2" 2>/dev/null || true
}
readyz() { http_code "$1" /readyz; }

# agent_wait_ready <k> [timeout-s]: subnet.env written and /readyz 200.
agent_wait_ready() {
    local k=$1 t=${2:-15} i code
    for ((i = 0; i < t * 10; i++)); do
        if [ -s "${NODE_DIR[$k]}/subnet.env" ]; then
            code=$(readyz "$k")
            [ "$code" = 200 ] && return 0
        fi
        agent_running "$k" || return 1
        sleep 0.1
    done
    return 1
}

# metric_sum <k> <name> [label-text...]: sum of the series of <name> in node k's /metrics
# whose labels contain every label-text (e.g. 'reason="unknown_sender"'); 0 if none
metric_sum() {
    local k=$1 name=$2 l lines
    shift 2
    http_code "$k" /metrics >/dev/null
    lines=$(grep -E "^$name(\{| )" "${NODE_DIR[$k]}/http.body" 2>/dev/null || true)
    for l in "$@"; do lines=$(grep -F -- "$l" <<<"$lines" || true); done
    awk 'NF { s += $NF } END { printf "%d\n", s }' <<<"$lines"
}

metric_eq() { local k=$1 want=$2; shift 2; [ "$(metric_sum "$k" "$@")" = "$want" ]; }  # <k> <n> <name> [label...]
metric_ge() { local k=$1 min=$2; shift 2; [ "$(metric_sum "$k" "$@")" -ge "$min" ]; }  # <k> <n> <name> [label...]

# wait_reconciles <k> <n> [timeout-ms]: node k completes n more reconcile passes
# (swiftcni_reconcile_total; resync ticks count), by default within n resync intervals of
# node k + 5 s. For "still so after a resync" checks: a resync really happened, however
# slow the machine.
wait_reconciles() {
    local k=$1 n=$2 r=$RESYNC r0
    [ "$k" = 3 ] && r=10  # agent_for: node 3 keeps the default interval
    r0=$(metric_sum "$k" swiftcni_reconcile_total)
    wait_for "${3:-$((n * r * 1000 + 5000))}" metric_ge "$k" $((r0 + n)) swiftcni_reconcile_total
}

agent_log_tail() { tail -n "${2:-8}" "${NODE_DIR[$1]}/agent.log" 2>/dev/null; }

# senv <k> <VAR>: a value from node k's subnet.env
senv() { sed -n "s/^$2=//p" "${NODE_DIR[$1]}/subnet.env" 2>/dev/null | tail -n1; }
node_subnet() { local s; s=$(senv "$1" FLANNEL_SUBNET); [ -n "$s" ] && subnet_of "$s"; }

# node_record <k>: node k's subnet, VTEP MAC (vxlan) and lease key into the caller's
# associative arrays SUB, MAC and KEY (declare -A SUB=() MAC=() KEY=()).
node_record() {
    local k=$1
    SUB[$k]=$(node_subnet "$k")
    MAC[$k]=""
    [ "$BACKEND" = vxlan ] && MAC[$k]=$(dev_mac "$k" flannel.1)
    KEY[$k]=$(reg_lease_of "${NODE_IP[$k]}")
}

vtep_dev() { echo "flannel.1"; }
dev_mac() { ip -n "${NODE_NS[$1]}" -o link show "$2" 2>/dev/null | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'; }
has_link() { ip -n "${NODE_NS[$1]}" link show "$2" >/dev/null 2>&1; }

# agent_for <k>: start node k's agent (node 3 keeps the default resync interval)
agent_for() {
    local k=$1
    if [ "$k" = 3 ]; then RESYNC=10 agent_start "$k"; else agent_start "$k"; fi
}

# cluster_up [label]: three nodes (agents ready, recorded in SUB/MAC/KEY), two containers
# each. Hooks (dual-stack.sh): CLUSTER_CONFIG (default net_config), NODE_HOOK <k> (after
# node_new), RECORD_FN <k> (default node_record).
cluster_up() {
    cluster_begin "${1:-three nodes, two containers per node}"
    reg_put_config "${CLUSTER_CONFIG:-$(net_config)}"
    local k ok=1
    for k in 1 2 3; do
        node_new "$k" || return 1
        if [ -n "${NODE_HOOK:-}" ]; then "$NODE_HOOK" "$k" || { fail "n$k: $NODE_HOOK (test setup)"; return 1; }; fi
        agent_for "$k"
    done
    for k in 1 2 3; do
        if agent_wait_ready "$k" 20; then
            "${RECORD_FN:-node_record}" "$k"
            pass "agent n$k ready: subnet ${SUB[$k]}${MAC[$k]:+, VTEP ${MAC[$k]}}"
        else
            fail "agent n$k ready within 20 s (readyz $(readyz "$k"))" "$(agent_log_tail "$k")"
            ok=0
        fi
    done
    [ $ok = 1 ] || return 1
    for k in 1 2 3; do
        local c
        for c in c1 c2; do
            if ctr_attach "$k" "$c"; then
                pass "ADD n$k$c -> ${CTR_IP[$CTR]}${CTR_IP6[$CTR]:+ ${CTR_IP6[$CTR]}}"
            else
                fail "ADD n$k$c" "$(last_output)"
                ok=0
            fi
        done
    done
    [ $ok = 1 ]
}

ctr() { echo "${CLP}n$1c$2"; }   # ctr <node> <n>: container netns name

# lease_poll <k>: node k's lease is in the registry; records KEY[k] and SUB[k]
lease_poll() {
    KEY[$1]=$(reg_lease_of "${NODE_IP[$1]}")
    [ -n "${KEY[$1]}" ] || return 1
    local k4=${KEY[$1]%%&*}  # a dual-stack key's IPv4 half
    SUB[$1]=${k4%-*}/${k4##*-}
}

# ---------------------------------------------------------------- dataplane probes

# cluster_net: the Network of the current cluster (net_config's default)
cluster_net() { echo "10.$CLUSTER_NET_A.0.0/16"; }

# peer_state <j> <subnet> <peer-ip> <mac>: prints what node j has for that peer:
# "route neigh fdb" words for the entries present (vxlan), "route" (host-gw);
# udp: "route" if the Network's one route through flannel0 is there (the
# per-peer state lives in the agent, not in the kernel).
peer_state() {
    local ns=${NODE_NS[$1]} sub=$2 pip=$3 mac=$4 out=""
    local net=${sub%/*}
    case $BACKEND in
    vxlan)
        out_has "via $net dev flannel.1 .*onlink" ip -n "$ns" route show "$sub" && out+="route "
        out_has "lladdr $mac .*PERMANENT" ip -n "$ns" neigh show dev flannel.1 to "$net" && out+="neigh "
        out_has "^$mac dst $pip " bridge -n "$ns" fdb show dev flannel.1 && out+="fdb "
        ;;
    host-gw)
        out_has "via $pip dev eth0" ip -n "$ns" route show "$sub" && out+="route "
        ;;
    udp)
        out_has "dev flannel0 proto (92|0x5c)" ip -n "$ns" route show "$(cluster_net)" && out+="route "
        ;;
    esac
    echo "${out% }"
}

full_state() { [ "$BACKEND" = vxlan ] && echo "route neigh fdb" || echo "route"; }

# any_peer_trace <j> <subnet> <peer-ip> <mac>: anything at all left for that peer
# (a route to the subnet, a neighbour for subnet.0, an FDB entry for the MAC)
any_peer_trace() {
    local ns=${NODE_NS[$1]} sub=$2 pip=$3 mac=$4 out=""
    out_has . ip -n "$ns" route show "$sub" && out+="route "
    if has_link "$1" flannel.1; then
        out_has . ip -n "$ns" neigh show dev flannel.1 to "${sub%/*}" && out+="neigh "
        [ -n "$mac" ] && out_has "^$mac " bridge -n "$ns" fdb show dev flannel.1 && out+="fdb "
    fi
    echo "${out% }"
}

# capture_start <ns> <iface> <filter...>: tcpdump in the background; CAP_PID, CAP_FILE
# (its text output). CAP_OPTS replaces the decoding options (default: VXLAN on
# 8472, each packet printed as it arrives), e.g. CAP_OPTS="-w <file.pcap> -U" for a packet file.
capture_start() {
    local ns=$1 ifc=$2 i
    shift 2
    CAP_FILE=$(mktemp "$CLDIR/cap.XXXX")
    ip netns exec "$ns" tcpdump -i "$ifc" -n -l ${CAP_OPTS:--T vxlan --immediate-mode} "$@" >"$CAP_FILE" 2>"$CAP_FILE.err" &
    CAP_PID=$!
    BG_PIDS+=("$CAP_PID")
    for ((i = 0; i < 60; i++)); do
        grep -q 'listening on' "$CAP_FILE.err" 2>/dev/null && return 0
        sleep 0.05
    done
    log "tcpdump did not start: $(cat "$CAP_FILE.err")"
    return 1
}
# capture_stop [cmd...]: stop tcpdump once the command (what the capture must have seen,
# e.g. cap_count_ge 3 'ICMP echo reply') succeeds, at most 3 s later: tcpdump prints a
# packet a little after it crossed the wire, so stopping at once could lose the last ones.
capture_stop() {
    [ $# -gt 0 ] && wait_for 3000 "$@"
    stop_pid "$CAP_PID" INT 3
}
# cap_count_ge <n> <ere>: the capture's text output has at least n lines matching
cap_count_ge() { [ "$(grep -cE -- "$2" "$CAP_FILE" 2>/dev/null)" -ge "$1" ]; }
# pcap_count_ge <n> <file> <filter>: a packet file (-w ... -U) holds at least n packets matching
pcap_count_ge() { [ "$(tcpdump -n -r "$2" "$3" 2>/dev/null | grep -c .)" -ge "$1" ]; }

# ---------------------------------------------------------------- join timing

# A join is timed from events, not by the loop that waits for it: a watcher stamps each new
# lease key when it appears in the registry (etcd: `etcdctl watch`; directory: a fork-free
# look at the subnets directory every 5 ms, the time being the new file's ctime, i.e. the
# rename that put it there), and `ip -ts monitor route neigh` in every old
# node stamps each route, neighbour and FDB entry when the kernel announces it. The probe
# loop (~100-150 ms a round with a dozen ip/bridge calls) only decides when all is there;
# its cost no longer lands in the measured time.
JW_PIDS=() JW_NODES=() JW_LEASES="" JW_SENTINEL="$PREFIX_KEY/subnets.join-watch"

# join_watch_start <k...>: lease watcher plus a kernel monitor in each given node; returns
# once each of them has shown it is listening (a sentinel event), false if one did not.
join_watch_start() {
    local k d never
    JW_PIDS=() JW_NODES=("$@") JW_LEASES="$CLDIR/join-leases"
    : >"$JW_LEASES"
    case $REGISTRY in
    dir)
        d="$REG_DIR$PREFIX_KEY/subnets" never="$CLDIR/join-never"
        mkdir -p "$d"
        rm -f "$never" && mkfifo "$never"
        (
            exec {fd}<>"$never"  # read -t on a FIFO nobody writes to: a sleep without a fork
            declare -A seen=()
            for f in "$d"/*; do seen[${f##*/}]=1; done
            echo "0 subnets.join-watch"
            while :; do
                for f in "$d"/*; do
                    n=${f##*/}
                    [ -n "${seen[$n]:-}" ] && continue
                    seen[$n]=1
                    # the inode's change time: set by the rename that put the lease in place
                    t=$(stat -c %.3Z "$f" 2>/dev/null) && t=${t/./} || { t=${EPOCHREALTIME/./}; t=$((t / 1000)); }
                    echo "$t $n"
                done
                read -r -t 0.005 -u "$fd" _ || true
            done
        ) >>"$JW_LEASES" 2>/dev/null &
        ;;
    etcd)
        # two processes joined by a FIFO, not a pipeline: both pids known, both stopped
        d="$CLDIR/join-etcd.fifo"
        rm -f "$d" && mkfifo "$d"
        ip netns exec "$ETCD_NS" env ETCDCTL_API=3 etcdctl --endpoints "$ETCD_EP" watch --prefix "$PREFIX_KEY/subnets" >"$d" 2>/dev/null &
        JW_PIDS+=($!)
        BG_PIDS+=($!)
        while IFS= read -r l; do
            [ "$l" = PUT ] || continue
            IFS= read -r key
            t=${EPOCHREALTIME/./}
            echo "$((t / 1000)) ${key##*/}"
        done <"$d" >>"$JW_LEASES" &
        ;;
    esac
    JW_PIDS+=($!)
    BG_PIDS+=($!)
    for k in "$@"; do
        ip -n "${NODE_NS[$k]}" -ts monitor route neigh >"$CLDIR/join-mon.$k" 2>&1 &
        JW_PIDS+=($!)
        BG_PIDS+=($!)
    done
    # sentinels: a key outside <prefix>/subnets/ (no agent looks at it), a route in a table
    # of its own (no agent touches it)
    local ok=1 i=0
    while ! grep -q ' subnets.join-watch$' "$JW_LEASES"; do
        [ "$REGISTRY" = etcd ] && etcdctl_ put "$JW_SENTINEL" "$i" >/dev/null
        i=$((i + 1))
        [ $i -gt 100 ] && { ok=0; break; }
        sleep 0.05
    done
    [ "$REGISTRY" = etcd ] && etcdctl_ del "$JW_SENTINEL" >/dev/null
    for k in "$@"; do
        i=0
        while ! grep -q 'unreachable 198.51.100.7 table 4242' "$CLDIR/join-mon.$k"; do
            ip -n "${NODE_NS[$k]}" route replace unreachable 198.51.100.7/32 table 4242
            i=$((i + 1))
            [ $i -gt 100 ] && { ok=0; break; }
            sleep 0.05
        done
        ip -n "${NODE_NS[$k]}" route del unreachable 198.51.100.7/32 table 4242 2>/dev/null
    done
    [ $ok = 1 ]
}

# join_watch_stop: the watchers end (their files stay for the measurement)
join_watch_stop() {
    local p
    for p in "${JW_PIDS[@]}"; do stop_pid "$p" TERM 2; done
    JW_PIDS=()
}

# lease_seen_ms <key> [k]: when the key first appeared in the registry (epoch ms), "" if
# never seen: the watcher's stamp, or node k's own "lease acquired" log line if that came
# earlier. Both are observations after the fact (under load the watcher can be scheduled
# late), so the earlier one is the better bound; a peer can still be a few ms faster than
# both: join_ms counts that as 0.
lease_seen_ms() {
    local w l
    w=$(awk -v k="$1" '$2 == k { print $1; exit }' "$JW_LEASES")
    if [ -n "${2:-}" ]; then
        l=$(awk -v s="${1%%&*}" 'BEGIN { sub(/-/, "/", s) } /msg="lease acquired"/ && index($0, "subnet=" s " ") {
                t = $1; sub(/^ts=/, "", t); split(t, p, "."); printf "%d%03d\n", p[1], substr(p[2] "000", 1, 3) }' \
            "${NODE_DIR[$2]}/agent.log" | tail -n1)
        if [ -n "$l" ] && { [ -z "$w" ] || [ "$l" -lt "$w" ]; }; then w=$l; fi
    fi
    echo "$w"
}

# join_ms <done-ms> <lease-ms>: the join time, never below 0 (see lease_seen_ms)
join_ms() { local v=$(($1 - $2)); [ $v -lt 0 ] && v=0; echo $v; }

# re_q <text>: the text as an extended regular expression matching itself
re_q() { sed 's/[][\.*^$()+?{}|]/\\&/g' <<<"$1"; }

# peer_entry_res <subnet> <public-ip> <mac> [vxlan-device]: one ERE per kernel entry a
# node holds for that peer, as `ip monitor` prints it (vxlan: route, neighbour, FDB entry;
# host-gw: the route via the peer)
peer_entry_res() {
    local sub net pip mac dev
    sub=$(re_q "$1") net=$(re_q "${1%/*}") pip=$(re_q "$2") mac=$(re_q "$3") dev=$(re_q "${4:-flannel.1}")
    case $BACKEND in
    vxlan)
        echo "$sub via $net dev $dev "
        echo "$net dev $dev lladdr $mac "
        echo "$pip dev $dev lladdr $mac "
        ;;
    host-gw) echo "$sub via $pip dev eth0 " ;;
    esac
}

# entries_done_ms <k> <ere...>: when node k's monitor last announced (not "Deleted") an
# entry matching each ERE: the latest of these times (epoch ms); "" if one is missing
entries_done_ms() {
    local k=$1 re line ts ms worst=0
    shift
    for re in "$@"; do
        line=$(grep -E "^\[[^]]*\] $re" "$CLDIR/join-mon.$k" | tail -n1)
        [ -n "$line" ] || return 1
        ts=${line%%]*}
        ms=$(date -d "${ts#[}" +%s%3N) || return 1
        [ "$ms" -gt "$worst" ] && worst=$ms
    done
    echo "$worst"
}

# ---------------------------------------------------------------- containers

# ctr_attach <k> <name>: container netns on node k, ADD through libcni inside
# the node. Sets CTR (netns), CTR_IP[netns], OUT/ERR.
ctr_attach() {
    local k=$1 name=$2 d=${NODE_DIR[$1]}
    CTR="${CLP}n${k}$name"
    netns_add "$CTR"
    CL_CTRS+=("$CTR")
    CTR_NODE[$CTR]=$k
    OUT="$d/last.out" ERR="$d/last.err"
    if ip netns exec "${NODE_NS[$k]}" env NETCONFPATH="$d/conf" CNI_PATH="$PLUGINS_DIR" \
        CNI_CACHE_DIR="$d/cache" CNI_CONTAINERID="$CTR" \
        timeout 60 "$DRIVER" add "$NET_NAME" "/run/netns/$CTR" >"$OUT" 2>"$ERR"; then
        CTR_IP[$CTR]=$(result_ip4)
        CTR_IP6[$CTR]=$(result_ip6)
        return 0
    fi
    CTR_IP[$CTR]=""
    return 1
}

# ctr_drv <k> <add|del|check|status> <ctr-netns>: driver call in node k
ctr_drv() {
    local k=$1 cmd=$2 ctr=${3:-} d=${NODE_DIR[$1]}
    OUT="$d/last.out" ERR="$d/last.err"
    local args=("$cmd" "$NET_NAME")
    [ -n "$ctr" ] && args+=("/run/netns/$ctr")
    ip netns exec "${NODE_NS[$k]}" env NETCONFPATH="$d/conf" CNI_PATH="$PLUGINS_DIR" \
        CNI_CACHE_DIR="$d/cache" CNI_CONTAINERID="${ctr:-none}" \
        timeout 60 "$DRIVER" "${args[@]}" >"$OUT" 2>"$ERR"
}

ctr_label() { local c=$1; echo "${c#"$CLP"}"; }

# ctr_addr <ctr-netns>: its address of the family PING_FAMILY (4, the default, or 6)
declare -A CTR_IP6=()
ctr_addr() { if [ "${PING_FAMILY:-4}" = 6 ]; then echo "${CTR_IP6[$1]:-}"; else echo "${CTR_IP[$1]:-}"; fi; }

# ping_quick <ns> <addr>: up to 3 one-second tries (ping -$PING_FAMILY, default 4)
ping_quick() {
    local i
    for i in 1 2 3; do
        ip netns exec "$1" ping -"${PING_FAMILY:-4}" -c1 -W1 -q "$2" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    return 1
}

# reach_matrix [ctr...]: every container pings every other (in parallel);
# prints the matrix, counts one assertion per pair. Returns the failure count.
reach_matrix() {
    local ctrs=("$@") i j n=${#@} bad=0 dir pids=()
    [ "$n" -gt 0 ] || ctrs=("${CL_CTRS[@]}")
    n=${#ctrs[@]}
    dir=$(mktemp -d "$CLDIR/matrix.XXXX")
    for ((i = 0; i < n; i++)); do
        for ((j = 0; j < n; j++)); do
            [ $i = $j ] && continue
            (ping_quick "${ctrs[$i]}" "$(ctr_addr "${ctrs[$j]}")" && touch "$dir/$i-$j") &
            pids+=($!)
        done
    done
    wait "${pids[@]}"  # not a bare wait: the agents are children too
    local hdr row
    hdr=$(printf '%-8s' "from\\to")
    for ((j = 0; j < n; j++)); do hdr+=$(printf '%-19s' "$(ctr_label "${ctrs[$j]}") $(ctr_addr "${ctrs[$j]}")"); done
    log "  reachability (row pings column):"
    log "    $hdr"
    for ((i = 0; i < n; i++)); do
        row=$(printf '%-8s' "$(ctr_label "${ctrs[$i]}")")
        for ((j = 0; j < n; j++)); do
            if [ $i = $j ]; then row+=$(printf '%-19s' "-")
            elif [ -e "$dir/$i-$j" ]; then row+=$(printf '%-19s' "ok"); PASSED=$((PASSED + 1))
            else
                row+=$(printf '%-19s' "FAIL"); bad=$((bad + 1))
                FAILED=$((FAILED + 1))
                FAILED_NAMES+=("$CURRENT_SCENARIO: $(ctr_label "${ctrs[$i]}") -> $(ctr_label "${ctrs[$j]}") $(ctr_addr "${ctrs[$j]}")")
            fi
        done
        log "    $row"
    done
    rm -rf "$dir"
    if [ $bad = 0 ]; then log "  ok    all $((n * (n - 1))) pairs reachable"; else log "  FAIL  $bad of $((n * (n - 1))) pairs unreachable"; fi
    return $bad
}

# ping_bg <ns> <addr> <file> [interval-s]: ping (-i 0.2) in the background; PING_PID
ping_bg() {
    ip netns exec "$1" ping -4 -n -i "${4:-0.2}" -W 2 "$2" >"$3" 2>&1 &
    PING_PID=$!
    BG_PIDS+=("$PING_PID")
}

# ping_bg_answered <file>...: every background ping has had an answer (traffic flows),
# waited for up to 5 s
ping_bg_answered() { wait_for 5000 files_have 'bytes from' "$@"; }
files_have() { local re=$1 f; shift; for f in "$@"; do grep -q -- "$re" "$f" 2>/dev/null || return 1; done; }

# ping_bg_losses <pid> <file>: stop it (SIGINT), print "lost/sent": packets
# without a reply among all sent except the last one (still in flight).
ping_bg_losses() {
    local pid=$1 f=$2 sent got
    stop_pid "$pid" INT 3
    sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$f")
    [ -n "$sent" ] || { echo "?/?"; return; }
    got=$(grep -o 'icmp_seq=[0-9]*' "$f" | cut -d= -f2 | sort -un | awk -v s="$sent" '$1 < s' | wc -l)
    echo "$((sent - 1 - got))/$((sent - 1))"
}

# ---------------------------------------------------------------- assertions

state_is() { [ "$(peer_state "$1" "$2" "$3" "$4")" = "$5" ]; }

# repair_one <desc> <delete-command...>: delete, then wait until n1 has n2's full state
# again (RESYNC, REPAIR_BUDGET_MS); REPAIR_TIMES collects the times. REPAIR_FAMILY=6 checks
# n2's IPv6 half instead (dual-stack.sh's peer_state6, SUB6, NODE_IP6, MAC6).
repair_one() {
    local desc=$1 ps=peer_state sub=${SUB[2]:-} ip=${NODE_IP[2]:-} mac=${MAC[2]:-}
    shift
    if [ "${REPAIR_FAMILY:-4}" = 6 ]; then ps=peer_state6 sub=${SUB6[2]} ip=${NODE_IP6[2]} mac=${MAC6[2]}; fi
    if ! "$@" 2>"$CLDIR/repair.err"; then
        fail "$desc (test setup: $*)" "$(cat "$CLDIR/repair.err")"
        return
    fi
    if wait_for "$REPAIR_BUDGET_MS" state_via_is "$ps" 1 "$sub" "$ip" "$mac" "$(full_state)"; then
        pass "$desc: restored in $WAITED_MS ms"
        REPAIR_TIMES+="$desc ${WAITED_MS}ms; "
    else
        fail "$desc: restored within $REPAIR_BUDGET_MS ms" \
            "n1 has '$("$ps" 1 "$sub" "$ip" "$mac")' for n2"$'\n'"$(agent_log_tail 1 4)"
    fi
}
# state_via_is <peer-state-fn> <k> <subnet> <ip> <mac> <want>
state_via_is() { [ "$("$1" "$2" "$3" "$4" "$5")" = "$6" ]; }
trace_is_empty() { [ -z "$(any_peer_trace "$@")" ]; }

# log_has <k> <extended-regex>: an error or warning line of node k's agent log matches
# (case-insensitive)
log_has() {
    local o
    o=$(grep -iE -- 'level=(error|warn|warning|fatal)|^(error|fatal|warn)' "${NODE_DIR[$1]}/agent.log" 2>/dev/null)
    grep -qiE -- "$2" <<<"$o"
}

# readyz_says <k> <code|any> [fixed-text]: node k's /readyz answers <code> and (if given)
# its body contains the text
readyz_says() {
    local c
    c=$(readyz "$1")
    { [ "$2" = any ] || [ "$c" = "$2" ]; } && { [ -z "${3:-}" ] || grep -qF -- "$3" "${NODE_DIR[$1]}/http.body"; }
}

# assert_log <k> <desc> <extended-regex>: an error or warning line of the
# agent's log (level=error|warn, or a plain "error..." line) matches.
assert_log() {
    if log_has "$1" "$3"; then
        pass "$2"
        return 0
    fi
    fail "$2" "agent log (want an error/warning line matching /$3/):"$'\n'"$(agent_log_tail "$1" 6)"
    return 1
}

# nothing_programmed <k>: no flannel.1 or flannel0, no subnet.env, no lease for the node,
# no route installed by the agent. Prints what is there; true if nothing.
nothing_programmed() {
    local k=$1 out=""
    has_link "$k" flannel.1 && out+="flannel.1 exists; "
    has_link "$k" flannel0 && out+="flannel0 exists; "
    [ -e "${NODE_DIR[$k]}/subnet.env" ] && out+="subnet.env written; "
    [ -n "$(reg_lease_of "${NODE_IP[$k]}" 2>/dev/null)" ] && out+="lease for ${NODE_IP[$k]} in the registry; "
    local r
    r=$(ip -n "${NODE_NS[$k]}" route show 2>/dev/null | grep "^10\.$CLUSTER_NET_A\." || true)
    [ -n "$r" ] && out+="routes: $r; "
    printf '%s' "$out"
    [ -z "$out" ]
}

# agent_exits_clean_failure <k> <label> <log-ere>: the agent exits non-zero within 5 s,
# its log says why (/<log-ere>/), and it left nothing programmed.
agent_exits_clean_failure() {
    local k=$1 label=$2 re=$3 rc="" np
    wait_for 5000 agent_exited "$k" && rc=${AGENT_LAST_RC[$k]}
    check "$label: exits non-zero within 5 s (status ${rc:-still running})" sh -c "[ -n '$rc' ] && [ '$rc' != 0 ]"
    assert_log "$k" "$label: the log says why (/$re/)" "$re"
    if np=$(nothing_programmed "$k"); then pass "$label: nothing programmed"; else fail "$label: nothing programmed" "$np"; fi
}

# agent_failed_or_unready <k> <timeout-s> [log-ere]: within the timeout, the agent exited
# non-zero, or it runs and reports the failure: /readyz answers and is not 200, and (when
# given) an error or warning line of its log matches <log-ere>. Sets AGENT_FATE.
agent_failed_or_unready() {
    local k=$1 t=${2:-10} re=${3:-}
    wait_for $((t * 1000)) agent_failed_or_reports "$k" "$re"
    if [ -n "${AGENT_LAST_RC[$k]:-}" ] && [ -z "${AGENT_PID[$k]}" ]; then
        AGENT_FATE="exited with status ${AGENT_LAST_RC[$k]}"
        [ "${AGENT_LAST_RC[$k]}" != 0 ]
        return
    fi
    local code
    code=$(readyz "$k")
    AGENT_FATE="still running, /readyz $code ($(head -c 120 "${NODE_DIR[$k]}/http.body" 2>/dev/null | tr '\n' ' '))"
    [ "$code" != 200 ] && [ "$code" != 000 ] && { [ -z "$re" ] || log_has "$k" "$re"; }
}
agent_failed_or_reports() {
    local k=$1 re=$2 code
    agent_exited "$k" && return 0
    code=$(readyz "$k")
    [ "$code" != 200 ] && [ "$code" != 000 ] && { [ -z "$re" ] || log_has "$k" "$re"; }
}
