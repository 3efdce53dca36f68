# shellcheck shell=bash
# Shared helpers for the swift-cni integration suites. Source it, do not run it.
#
# Everything a suite creates lives in network namespaces and a temp dir that
# carry a per-run prefix ($PFX); the machine's own network namespace is never
# touched. cleanup() (trap on EXIT, INT, TERM) removes all of it, also on
# failure or interrupt.
#
# Environment:
#   PLUGINS_DIR      plugins under test (default /usr/lib/cni, the reference)
#   REF_PLUGINS_DIR  reference plugins (default /usr/lib/cni)
#   DRIVER           libcni driver binary (default integration/bin/driver)
#   KEEP_TMP=1       keep the temp dir (netns are removed regardless)
#   VERBOSE=1        print command output of passing assertions too
#   NETNS_PREFIX     first characters of every name this run creates (default scni)

set -u
set -o pipefail

INTEG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$INTEG_DIR/.." && pwd)
CONF_SRC_DIR="$REPO_DIR/cni-conf"
DRIVER=${DRIVER:-$INTEG_DIR/bin/driver}
REF_PLUGINS_DIR=${REF_PLUGINS_DIR:-/usr/lib/cni}
PLUGINS_DIR=${PLUGINS_DIR:-$REF_PLUGINS_DIR}
PLUGINS_DIR=$(cd "$PLUGINS_DIR" 2>/dev/null && pwd -P || echo "$PLUGINS_DIR")

# Plugins under test are the reference ones? Then known reference bugs are
# reported as XFAIL instead of failures (see ref_xfail).
IS_REFERENCE=0
if [ "$PLUGINS_DIR" = "$(cd "$REF_PLUGINS_DIR" 2>/dev/null && pwd -P)" ]; then
    IS_REFERENCE=1
fi

# Per-run prefix: short enough that "<prefix><4 chars>" fits IFNAMSIZ (15). NETNS_PREFIX
# replaces the leading "scni" (e.g. NETNS_PREFIX=inc on a machine shared with other runs);
# at most 5 characters, letters and digits.
PFX_HEAD=${NETNS_PREFIX:-scni}
[[ "$PFX_HEAD" =~ ^[a-z0-9]{1,5}$ ]] || { echo "NETNS_PREFIX \"$PFX_HEAD\": 1-5 lowercase letters or digits" >&2; exit 2; }
PFX="$PFX_HEAD$(printf '%04x' $(($$ % 65536)))$(od -An -N1 -tx1 /dev/urandom | tr -d ' \n')"
RUN_DIR=""
CREATED_NETNS=()
BG_PIDS=()
PASSED=0
FAILED=0
XFAILED=0
FAILED_NAMES=()
XFAIL_NAMES=()
CURRENT_SCENARIO=""
REF_XFAIL_REASON=""
SCEN_N=0

log() { printf '%s\n' "$*" >&2; }

die() {
    log "FATAL: $*"
    exit 2
}

require_root_tools() {
    [ "$(id -u)" = 0 ] || die "must run as root (network namespaces)"
    local t
    for t in ip jq iptables-save ip6tables-save nft ping od timeout; do
        command -v "$t" >/dev/null || die "missing tool: $t"
    done
    [ -x "$DRIVER" ] || die "driver not built: $DRIVER (run integration/run.sh or build it)"
    [ -d "$PLUGINS_DIR" ] || die "PLUGINS_DIR not a directory: $PLUGINS_DIR"
    local p
    for p in bridge host-local loopback; do
        [ -x "$PLUGINS_DIR/$p" ] || die "plugin missing: $PLUGINS_DIR/$p"
        [ -x "$REF_PLUGINS_DIR/$p" ] || die "reference plugin missing: $REF_PLUGINS_DIR/$p"
    done
}

# ---------------------------------------------------------------- lifecycle

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    local pid ns
    for pid in "${BG_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${BG_PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    for ns in "${CREATED_NETNS[@]}"; do
        netns_del "$ns"
    done
    # Safety net: anything else carrying this run's prefix.
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^${PFX}" || true); do
        netns_del "$ns"
    done
    if [ -n "$RUN_DIR" ] && [ -d "$RUN_DIR" ]; then
        if [ "${KEEP_TMP:-0}" = 1 ]; then
            log "kept $RUN_DIR"
        else
            rm -rf -- "$RUN_DIR"
        fi
    fi
    return "$rc"
}

bg_forget() { # bg_forget <pid>: it was reaped by us; do not signal it at cleanup
    local p out=()
    for p in "${BG_PIDS[@]}"; do [ "$p" = "$1" ] || out+=("$p"); done
    BG_PIDS=("${out[@]}")
}

on_signal() {
    log "interrupted ($1), cleaning up"
    cleanup
    exit "$2"
}

init_run() {
    require_root_tools
    RUN_DIR=$(mktemp -d "/tmp/${PFX}.XXXXXX")
    trap cleanup EXIT
    trap 'on_signal INT 130' INT
    trap 'on_signal TERM 143' TERM
    log "run prefix $PFX, temp dir $RUN_DIR"
    log "plugins under test: $PLUGINS_DIR$([ "$IS_REFERENCE" = 1 ] && echo ' (reference)')"
}

netns_add() {
    local name=$1
    ip netns add "$name" || die "ip netns add $name failed"
    CREATED_NETNS+=("$name")
    ip -n "$name" link set lo up
}

# netns_del <name>: deletes a namespace and the nftables lock file the plugins keep for its
# ruleset (/run/swift-cni/nftables.<netns inode>.lock, Sources/Nftables/NftablesLock.swift).
netns_del() {
    local ino
    ino=$(stat -L -c %i "/run/netns/$1" 2>/dev/null) && rm -f "/run/swift-cni/nftables.$ino.lock"
    ip netns del "$1" 2>/dev/null || true
}

# scenario_begin <name>: fresh node netns and dirs for one scenario.
# Sets: SCEN (dir), NODE, CONF_DIR, DATA_DIR, CACHE_DIR, BR (bridge name).
scenario_begin() {
    CURRENT_SCENARIO=$1
    REF_XFAIL_REASON=""
    SCEN_N=$((SCEN_N + 1))
    SCEN="$RUN_DIR/$SCEN_N-$1"
    CONF_DIR="$SCEN/conf"
    DATA_DIR="$SCEN/ipam"
    CACHE_DIR="$SCEN/cache"
    mkdir -p "$CONF_DIR" "$DATA_DIR" "$CACHE_DIR"
    NODE="${PFX}-s${SCEN_N}-node"
    BR="${PFX}b"
    SCEN_CNI_PATH="$PLUGINS_DIR"
    SCEN_NETNS=()
    netns_add "$NODE"
    log ""
    log "=== $1"
}

# ctr_add <short-name>: create a container netns; prints its name.
ctr_new() {
    local name="${PFX}-s${SCEN_N}-$1"
    netns_add "$name"
    SCEN_NETNS+=("$name")
    echo "$name"
}

scenario_end() {
    local ns
    for ns in "${SCEN_NETNS[@]}" "$NODE"; do
        netns_del "$ns"
    done
    SCEN_NETNS=()
    CURRENT_SCENARIO=""
    REF_XFAIL_REASON=""
}

# ---------------------------------------------------------------- configs

# mkconf <src.conflist> <network-name> [jq-filter]: copy an example conflist
# into this scenario's conf dir, rewriting name, bridge and dataDir.
mkconf() {
    local src=$1 name=$2 filter=${3:-.}
    jq --arg name "$name" --arg br "$BR" --arg dd "$DATA_DIR" '
        .name = $name
        | .plugins |= map(
            (if .type == "bridge" then .bridge = $br else . end)
            | (if .ipam then .ipam.dataDir = $dd else . end))
        ' "$CONF_SRC_DIR/$src" | jq "$filter" >"$CONF_DIR/$name.conflist" ||
        die "mkconf $src $name failed"
}

# ---------------------------------------------------------------- running

# drv <add|check|del|gc|status> ...: run the libcni driver inside the node.
# Env passed through: CNI_CONTAINERID CNI_IFNAME CNI_ARGS CAP_ARGS.
# Output: $OUT (stdout file) $ERR (stderr file) and return code.
drv() {
    OUT="$SCEN/last.out"
    ERR="$SCEN/last.err"
    ip netns exec "$NODE" env \
        NETCONFPATH="$CONF_DIR" CNI_PATH="$SCEN_CNI_PATH" CNI_CACHE_DIR="$CACHE_DIR" \
        DRIVER_TIMEOUT="${DRIVER_TIMEOUT:-60}" \
        timeout 120 "$DRIVER" "$@" >"$OUT" 2>"$ERR"
}

# drv_to <outfile> <errfile> args...: like drv, to given files (for parallel use).
drv_to() {
    local o=$1 e=$2
    shift 2
    ip netns exec "$NODE" env \
        NETCONFPATH="$CONF_DIR" CNI_PATH="$SCEN_CNI_PATH" CNI_CACHE_DIR="$CACHE_DIR" \
        timeout 120 "$DRIVER" "$@" >"$o" 2>"$e"
}

# plugin_call <plugin> <stdin-file|-> VAR=value...: run a plugin binary
# directly (no libcni) inside the node with exactly the given environment.
plugin_call() {
    local plugin=$1 stdin=$2
    shift 2
    OUT="$SCEN/last.out"
    ERR="$SCEN/last.err"
    if [ "$stdin" = - ]; then stdin=/dev/stdin; fi
    ip netns exec "$NODE" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@" \
        timeout 60 "$PLUGINS_DIR/$plugin" <"$stdin" >"$OUT" 2>"$ERR"
}

# cni_error_code: CNI error code of the last drv/plugin_call ("" if none).
cni_error_code() {
    local c
    c=$(jq -r 'select(type == "object") | .code // empty' "$OUT" 2>/dev/null | tail -n1)
    if [ -z "$c" ]; then
        c=$(tail -n1 "$ERR" | jq -r 'select(type == "object") | .code // empty' 2>/dev/null)
    fi
    echo "$c"
}

cni_error_msg() {
    {
        jq -r 'select(type == "object") | "\(.msg // "") \(.details // "")"' "$OUT" 2>/dev/null
        cat "$ERR"
    } | tr '\n' ' '
}

# result helpers on $OUT of an ADD
result_ips() { jq -r '.ips[].address' "$OUT"; }
result_ip4() { jq -r '[.ips[].address | select(contains(".") )][0] // empty | split("/")[0]' "$OUT"; }
result_ip6() { jq -r '[.ips[].address | select(contains(":") )][0] // empty | split("/")[0]' "$OUT"; }
result_gw4() { jq -r '[.ips[] | select(.address | contains(".")) | .gateway][0] // empty' "$OUT"; }
result_gw6() { jq -r '[.ips[] | select(.address | contains(":")) | .gateway][0] // empty' "$OUT"; }

# ---------------------------------------------------------------- waiting

now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }

# wait_for <timeout-ms> <cmd...>: poll every ~20 ms until the command succeeds or the
# deadline has passed; elapsed ms in WAITED_MS. Every wait of every suite is this:
# a condition with a deadline, never a fixed sleep followed by one look.
wait_for() {
    local limit=$1 t0 now
    shift
    t0=$(now_ms)
    while :; do
        if "$@"; then WAITED_MS=$(($(now_ms) - t0)); return 0; fi
        now=$(now_ms)
        if [ $((now - t0)) -ge "$limit" ]; then WAITED_MS=$((now - t0)); return 1; fi
        sleep 0.02
    done
}

# ---------------------------------------------------------------- state probes

node_veth_count() { ip -n "$NODE" -o link show type veth 2>/dev/null | wc -l; }

# wait_veth_count <n>: veth removal after netns deletion is asynchronous.
wait_veth_count() { wait_for 5000 veth_count_le "$1"; }
veth_count_le() { [ "$(node_veth_count)" -le "$1" ]; }

# IP files host-local keeps: <dataDir>/<net>/<ip> (excluding last_reserved_ip.* and lock)
ip_files() {
    local net=$1
    [ -d "$DATA_DIR/$net" ] || return 0
    find "$DATA_DIR/$net" -maxdepth 1 -type f ! -name 'last_reserved_ip*' ! -name lock -printf '%f\n' | sort
}
ip_file_count() { ip_files "$1" | grep -c . || true; }

node_ruleset() {
    ip netns exec "$NODE" sh -c 'iptables-save 2>/dev/null; ip6tables-save 2>/dev/null; nft list ruleset 2>/dev/null'
}

# ruleset_mentions <ip-or-id>...: prints matching rule lines; true if any.
ruleset_mentions() {
    local rs pat hits="" h
    rs=$(node_ruleset)
    for pat in "$@"; do
        [ -n "$pat" ] || continue
        h=$(printf '%s\n' "$rs" | grep -E -- "(^|[^0-9a-fA-F.:])$(printf '%s' "$pat" | sed 's/[.]/\\./g')([^0-9a-fA-F:]|\.[^0-9]|$)" || true)
        [ -n "$h" ] && hits+="$h"$'\n'
    done
    [ -n "$hits" ] || return 1
    printf '%s' "$hits"
}

in_ctr() {
    local ns=$1
    shift
    ip netns exec "$ns" "$@"
}

# ping_from <ns> <addr> [-6]: a few tries (IPv6 DAD / neighbour discovery).
ping_from() {
    local ns=$1 addr=$2 fam=${3:--4} i
    for i in 1 2 3 4 5 6 7 8 9 10; do
        ip netns exec "$ns" ping "$fam" -c1 -W1 "$addr" >/dev/null 2>&1 && return 0
        sleep 0.3
    done
    return 1
}

# ---------------------------------------------------------------- assertions

pass() {
    PASSED=$((PASSED + 1))
    log "  ok    $1"
}

# fail <desc> [detail]: honours ref_xfail when running the reference plugins.
fail() {
    local desc=$1 detail=${2:-}
    if [ "$IS_REFERENCE" = 1 ] && [ -n "$REF_XFAIL_REASON" ]; then
        XFAILED=$((XFAILED + 1))
        XFAIL_NAMES+=("$CURRENT_SCENARIO: $desc [$REF_XFAIL_REASON]")
        log "  XFAIL $desc  (known reference failure: $REF_XFAIL_REASON)"
    else
        FAILED=$((FAILED + 1))
        FAILED_NAMES+=("$CURRENT_SCENARIO: $desc")
        log "  FAIL  $desc"
    fi
    if [ -n "$detail" ]; then
        printf '%s\n' "$detail" | head -n 15 | sed 's/^/          | /' >&2
    fi
}

# ref_xfail <reason> <assert-fn> args...: the assertion is a known failure of
# the reference plugins; when PLUGINS_DIR is the reference, its failure is
# reported as XFAIL (not counted as failed). Against our plugins it counts.
ref_xfail() {
    local saved=$REF_XFAIL_REASON rc
    REF_XFAIL_REASON=$1
    shift
    "$@"
    rc=$?
    REF_XFAIL_REASON=$saved
    return $rc
}

check() {
    local desc=$1
    shift
    if "$@"; then pass "$desc"; return 0; fi
    fail "$desc"
    return 1
}

last_output() {
    { cat "$OUT" 2>/dev/null; cat "$ERR" 2>/dev/null; } | head -n 15
}

# assert_drv_ok <desc> drv-args...
assert_drv_ok() {
    local desc=$1
    shift
    if drv "$@"; then pass "$desc"; return 0; fi
    fail "$desc" "$(last_output)"
    return 1
}

# assert_error <desc> <code|any> <msg-substring|""> <drv|plugin_call> args...
# The command must fail; the CNI error code must equal <code> (unless "any",
# then just non-zero) and the message contain <msg-substring> (case-insensitive).
assert_error() {
    local desc=$1 want=$2 sub=$3
    shift 3
    if "$@"; then
        fail "$desc" "expected failure, got success: $(last_output)"
        return 1
    fi
    local code msg
    code=$(cni_error_code)
    msg=$(cni_error_msg)
    if [ "$want" != any ] && [ "$code" != "$want" ]; then
        fail "$desc" "want code $want, got code '${code}': $msg"
        return 1
    fi
    if [ -n "$sub" ] && ! printf '%s' "$msg" | grep -iF -- "$sub" >/dev/null; then
        fail "$desc" "message lacks '$sub': $msg"
        return 1
    fi
    pass "$desc (code ${code:-none})"
}

assert_eq() {
    if [ "$2" = "$3" ]; then pass "$1"; return 0; fi
    fail "$1" "want '$2', got '$3'"
    return 1
}

# assert_no_leak <desc> <net> <ip-or-id>...: no IP file for the given IPs in
# the dataDir, no rule mentioning any of them.
assert_no_leak() {
    local desc=$1 net=$2
    shift 2
    local files hits="" x
    files=$(ip_files "$net")
    for x in "$@"; do
        [ -n "$x" ] || continue
        if printf '%s\n' "$files" | grep -xF -- "$x" >/dev/null; then hits+="IP file $DATA_DIR/$net/$x"$'\n'; fi
        if [ -d "$DATA_DIR/$net" ] && grep -rlF -- "$x" "$DATA_DIR/$net" 2>/dev/null | grep -v 'last_reserved_ip' >/dev/null; then
            hits+="dataDir file mentions $x: $(grep -rlF -- "$x" "$DATA_DIR/$net" | grep -v last_reserved_ip | tr '\n' ' ')"$'\n'
        fi
    done
    local rules
    rules=$(ruleset_mentions "$@") && hits+="rules: $rules"$'\n'
    if [ -z "$hits" ]; then pass "$desc"; return 0; fi
    fail "$desc" "$hits"
    return 1
}

assert_no_veth() {
    if wait_veth_count 0; then pass "$1"; return 0; fi
    fail "$1" "$(ip -n "$NODE" -o link show type veth)"
    return 1
}

# ---------------------------------------------------------------- summary

summary() {
    log ""
    if [ "${#FAILED_NAMES[@]}" -gt 0 ]; then
        log "failed:"
        printf '  %s\n' "${FAILED_NAMES[@]}" >&2
    fi
    if [ "$XFAILED" -gt 0 ]; then
        log "known reference failures (XFAIL, not counted):"
        printf '  %s\n' "${XFAIL_NAMES[@]}" >&2
        log "$XFAILED xfail"
    fi
    echo "$PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ]
}
