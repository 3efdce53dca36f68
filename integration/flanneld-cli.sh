#!/usr/bin/env bash
# swift-flanneld's command line as an operator's systemd unit uses it: flanneld's flags
# (also in Go's single-dash spelling), FLANNELD_* variables, --iface repeated with the
# first one missing, --iface-regex on names and on addresses, --iface-can-reach, and the
# exit status of bad flags. One node at a time, directory registry, vxlan; everything in
# network namespaces this script creates.
#
#   PLUGINS_DIR=$PWD/.build/cni-bin bash integration/flanneld-cli.sh
#
# Last line: "N passed, N failed".

INTEG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$INTEG_DIR/lib.sh"
# shellcheck source=lib-cross.sh
. "$INTEG_DIR/lib-cross.sh"

# agent_start_bare <k> <env-assignments...> -- <flags...>: the daemon with exactly these
# variables and flags (nothing from agent_start's defaults).
agent_start_bare() {
    local k=$1 envs=()
    shift
    while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
    [ "${1:-}" = -- ] && shift
    printf '%s --- start env %s flags %s\n' "$(date +%T.%N)" "${envs[*]}" "$*" >>"${NODE_DIR[$k]}/agent.log"
    ip netns exec "${NODE_NS[$k]}" env "${envs[@]}" "$AGENT_BIN" "$@" >>"${NODE_DIR[$k]}/agent.log" 2>&1 &
    AGENT_PID[$k]=$!
    BG_PIDS+=("${AGENT_PID[$k]}")
}

# paths <k>: the per-node flags every start needs (registry, files, health address).
paths() {
    local d=${NODE_DIR[$1]}
    echo "--registry-dir $REG_DIR --subnet-file $d/subnet.env --state-dir $d/state --listen 127.0.0.1:$AGENT_PORT"
}

lease_public_ip() { reg_lease_json "$(reg_lease_of "$2")" 2>/dev/null | jq -r .PublicIP 2>/dev/null; }

sc_usage() {
    cluster_begin "usage, version, bad flags"
    local out rc
    out=$("$AGENT_BIN" --help 2>&1); rc=$?
    assert_eq "--help exits 0" 0 "$rc"
    local f
    for f in --etcd-endpoints --etcd-cafile --etcd-certfile --etcd-keyfile --etcd-username --etcd-password \
        --iface --iface-regex --iface-can-reach --public-ip --subnet-file --subnet-lease-renew-margin \
        --ip-masq --healthz-ip --healthz-port --iptables-forward-rules --registry-dir FLANNELD_; do
        if grep -q -- "$f" <<<"$out"; then pass "--help lists $f"; else fail "--help lists $f" "$(head -n 20 <<<"$out")"; fi
    done
    out=$("$AGENT_BIN" --version 2>&1); rc=$?
    assert_eq "--version exits 0" 0 "$rc"
    check "--version prints a version (\"$out\")" grep -qE '^[0-9]+\.[0-9]+\.[0-9]+' <<<"$out"
    out=$("$AGENT_BIN" --no-such-flag 2>&1); rc=$?
    assert_eq "unknown flag exits 2" 2 "$rc"
    check "unknown flag: the error names it and the usage follows" sh -c "grep -q -- 'no-such-flag' <<'X'
$out
X
grep -qi 'usage' <<'X'
$out
X"
    out=$("$AGENT_BIN" -kube-subnet-mgr -iface=eth0 2>&1); rc=$?
    assert_eq "flanneld's -kube-subnet-mgr exits 2" 2 "$rc"
    check "-kube-subnet-mgr: the error says it is not supported and what to use" \
        grep -q -- '--kube-subnet-mgr: flanneld.s flag is not supported.*--etcd-endpoints' <<<"$out"
    out=$("$AGENT_BIN" --subnet-lease-renew-margin 0 2>&1); rc=$?
    assert_eq "--subnet-lease-renew-margin 0 exits 2" 2 "$rc"
    check "the error gives the range" grep -q '1439' <<<"$out"
    out=$("$AGENT_BIN" --etcd-certfile /x.pem 2>&1); rc=$?
    assert_eq "--etcd-certfile without --etcd-keyfile exits 2" 2 "$rc"
    out=$("$AGENT_BIN" --ip-masq=maybe 2>&1); rc=$?
    assert_eq "--ip-masq=maybe exits 2" 2 "$rc"
    cluster_end
}

sc_environment() {
    cluster_begin "every setting from FLANNELD_* variables"
    reg_put_config "$(net_config)"
    node_new 1
    local d=${NODE_DIR[1]}
    agent_start_bare 1 FLANNELD_REGISTRY_DIR="$REG_DIR" FLANNELD_IFACE=eth0 FLANNELD_SUBNET_FILE="$d/subnet.env" \
        FLANNELD_STATE_DIR="$d/state" FLANNELD_LISTEN="127.0.0.1:$AGENT_PORT" FLANNELD_IP_MASQ=true --
    if agent_wait_ready 1 15; then pass "ready with no flags, settings from FLANNELD_*"; else fail "ready from FLANNELD_*" "$(agent_log_tail 1)"; fi
    assert_eq "FLANNELD_IP_MASQ=true reaches subnet.env" true "$(senv 1 FLANNEL_IPMASQ)"
    assert_eq "FLANNELD_IFACE=eth0: the lease publishes eth0's address" "${NODE_IP[1]}" "$(lease_public_ip 1 "${NODE_IP[1]}")"
    agent_stop 1
    # The command line wins over the environment (flanneld: variables fill unset flags only).
    rm -f "$d/subnet.env"
    # shellcheck disable=SC2046
    agent_start_bare 1 FLANNELD_IP_MASQ=true FLANNELD_IFACE=nosuch0 -- $(paths 1) -iface=eth0 -ip-masq=false -v=2
    if agent_wait_ready 1 15; then pass "Go-style -iface=eth0 -ip-masq=false -v=2 over FLANNELD_*"; else fail "ready with Go-style flags" "$(agent_log_tail 1)"; fi
    assert_eq "-ip-masq=false beats FLANNELD_IP_MASQ=true" false "$(senv 1 FLANNEL_IPMASQ)"
    agent_stop 1
    cluster_end
}

sc_iface_choice() {
    cluster_begin "--iface repeated, --iface-regex, --iface-can-reach"
    reg_put_config "$(net_config)"
    node_new 1; node_new 2; node_new 3; node_new 4
    # shellcheck disable=SC2046
    agent_start_bare 1 -- $(paths 1) --iface nosuch0 --iface eth0
    # shellcheck disable=SC2046
    agent_start_bare 2 -- $(paths 2) --iface-regex '^nomatch$' --iface-regex "^${UNDERLAY//./\\.}\\.2\$"
    # shellcheck disable=SC2046
    agent_start_bare 3 -- $(paths 3) -iface-regex='^eth[0-9]'
    # shellcheck disable=SC2046
    agent_start_bare 4 -- $(paths 4) --iface-can-reach "$UNDERLAY.250"
    local k
    for k in 1 2 3 4; do
        if agent_wait_ready "$k" 15; then pass "n$k ready"; else fail "n$k ready" "$(agent_log_tail "$k")"; fi
        assert_eq "n$k publishes its underlay address" "${NODE_IP[$k]}" "$(lease_public_ip "$k" "${NODE_IP[$k]}")"
    done
    for k in 1 2 3 4; do agent_stop "$k"; done
    cluster_end

    cluster_begin "none of the --iface names exists"
    reg_put_config "$(net_config)"
    node_new 1
    # shellcheck disable=SC2046
    agent_start_bare 1 -- $(paths 1) --iface nosuch0 --iface nosuch1
    agent_exits_clean_failure 1 "--iface nosuch0 --iface nosuch1" 'nosuch0, nosuch1'
    cluster_end
}

main() {
    xinit_run
    if [ "$IS_REFERENCE" = 1 ] || [ ! -x "$AGENT_BIN" ]; then
        log "no swift-flanneld in $PLUGINS_DIR: suite skipped"
        summary
        return
    fi
    REGISTRY=dir BACKEND=vxlan
    sc_usage
    sc_environment
    sc_iface_choice
    summary
}

main "$@"
