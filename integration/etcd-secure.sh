#!/usr/bin/env bash
# swift-flanneld against a secured etcd: TLS with client certificates, etcd
# authentication (username/password, tokens that expire), and the operator
# mistakes around them. Nodes, containers, the underlay and etcd are network
# namespaces this script creates (prefix "sce"); nothing runs in the machine's
# own namespace.
#
#   PLUGINS_DIR=<dir with swift-flanneld bridge host-local loopback flannel-vxlan> \
#       bash integration/etcd-secure.sh
#
# Scenarios:
#   (a) certs      three nodes over https with client certificates, full ping matrix
#   (b) auth       three nodes over https + username/password (a short token TTL),
#                  the first of two endpoints down (fail-over)
#   (c) mistakes   unknown CA, expired server or client certificate, cert/key
#                  mismatch, no client certificate, a client certificate with a CN
#                  under auth, wrong password, unknown user, no role on the prefix,
#                  no credentials, http:// to TLS: each says why (log line, /readyz
#                  503) and programs nothing
#   (d) recovery   the same agents, still running, become ready once the mistake is
#                  fixed on the etcd side (user created, role granted), and after
#                  etcd is stopped and started again
# Certificates are made with openssl in the run dir. Last line: "N passed, N failed".

INTEG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NETNS_PREFIX=${NETNS_PREFIX:-sce}
# shellcheck source=lib.sh
. "$INTEG_DIR/lib.sh"
# shellcheck source=lib-cross.sh
. "$INTEG_DIR/lib-cross.sh"

REGISTRY=etcd
BACKEND=vxlan
PKI=""                 # certificates and keys
ETCD_TLS_EP=""         # https://<etcd underlay IP>:2379, what agents use
ETCD_ADMIN_EP=http://127.0.0.1:2379   # plain listener inside the etcd netns only (etcdctl, set-up)
ETCD_AUTH=0            # 1 once `etcdctl auth enable` ran: etcdctl needs root's password
ROOT_PW=rootpw
FLANNEL_PW=flannelpw
TOKEN_TTL=5            # etcd --auth-token-ttl: short, so a token runs out while agents run

# ------------------------------------------------------------------ certificates

# pki_make: a CA, a second CA nobody trusts, etcd's server certificate (SAN = its
# underlay IP), a client certificate, an expired one, and a key of another pair.
pki_make() {
    PKI="$RUN_DIR/pki"
    mkdir -p "$PKI/ca-db"
    (
        cd "$PKI" || exit 1
        set -e
        q() { "$@" >/dev/null 2>&1; }
        q openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=sce test CA"
        q openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.pem -days 2 -subj "/CN=sce other CA"
        printf 'subjectAltName=IP:%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$ETCD_IP" >server.ext
        q openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=etcd"
        q openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile server.ext
        printf 'extendedKeyUsage=clientAuth\n' >client.ext
        # no CommonName: with auth on, etcd's gateway refuses client certificates that have one
        q openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj "/O=swift-cni nodes"
        q openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 2 -extfile client.ext
        q openssl req -newkey rsa:2048 -nodes -keyout cn.key -out cn.csr -subj "/CN=flannel"
        q openssl x509 -req -in cn.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out cn.pem -days 2 -extfile client.ext
        q openssl req -newkey rsa:2048 -nodes -keyout stray.key -out stray.csr -subj "/CN=stray"
        # expired: signed by the right CA, valid for one day in 2020
        : >ca-db/index.txt
        echo 1000 >ca-db/serial
        cat >ca.cnf <<EOF
[ca]
default_ca = sce
[sce]
database = $PKI/ca-db/index.txt
new_certs_dir = $PKI/ca-db
serial = $PKI/ca-db/serial
default_md = sha256
policy = anything
[anything]
organizationName = optional
commonName = optional
EOF
        q openssl req -newkey rsa:2048 -nodes -keyout expired.key -out expired.csr -subj "/O=swift-cni nodes/CN=old"
        q openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in expired.csr -out expired.pem \
            -startdate 20200101000000Z -enddate 20200102000000Z -notext
        q openssl req -newkey rsa:2048 -nodes -keyout server-old.key -out server-old.csr -subj "/O=etcd"
        q openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in server-old.csr -out server-old.pem \
            -startdate 20200101000000Z -enddate 20200102000000Z -notext -extfile server.ext
    ) || return 1
    [ -s "$PKI/expired.pem" ] && [ -s "$PKI/server.pem" ] && [ -s "$PKI/server-old.pem" ]
}

# ------------------------------------------------------------------ etcd over TLS

# etcd_tls_start: etcd in its netns serving https on the underlay (client
# certificates required) and plain http on its own loopback for set-up.
etcd_tls_start() {
    ETCD_NS="${PFX}-etcd"
    ETCD_EP=$ETCD_ADMIN_EP            # lib-cross's helpers talk to this one
    ETCD_TLS_EP="https://$ETCD_IP:2379"
    ETCD_DATA="$RUN_DIR/etcd"
    netns_exists "$ETCD_NS" || underlay_attach "$ETCD_NS" etcd "$ETCD_IP" || return 1
    mkdir -p "$ETCD_DATA"
    ip netns exec "$ETCD_NS" etcd --name sce --data-dir "$ETCD_DATA/data" \
        --listen-client-urls "$ETCD_TLS_EP,$ETCD_ADMIN_EP" --advertise-client-urls "$ETCD_TLS_EP" \
        --cert-file "$PKI/server.pem" --key-file "$PKI/server.key" \
        --trusted-ca-file "$PKI/ca.pem" --client-cert-auth \
        --auth-token "simple" --auth-token-ttl "$TOKEN_TTL" \
        --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
        --initial-cluster sce=http://127.0.0.1:2380 --log-level warn \
        >>"$ETCD_DATA/etcd.log" 2>&1 &
    ETCD_PID=$!
    BG_PIDS+=("$ETCD_PID")
    local i
    for ((i = 0; i < 100; i++)); do
        etcdctl_ endpoint health >/dev/null 2>&1 && return 0
        kill -0 "$ETCD_PID" 2>/dev/null || break
        sleep 0.1
    done
    log "etcd did not come up:"; tail -n 5 "$ETCD_DATA/etcd.log" >&2
    return 1
}

# mistake_reported <k> <ere>: node k's log has an error line matching and /readyz says 503
# with a body matching
mistake_reported() {
    log_has "$1" "$2" && [ "$(readyz "$1")" = 503 ] && grep -qE -- "$2" "${NODE_DIR[$1]}/http.body"
}

# etcd_expired_start: a second etcd in the same netns on port 2479 whose server
# certificate expired in 2020 (ETCD_OLD_PID).
ETCD_OLD_PID=""
etcd_expired_start() {
    ip netns exec "$ETCD_NS" etcd --name old --data-dir "$ETCD_DATA/old" \
        --listen-client-urls "https://$ETCD_IP:2479" --advertise-client-urls "https://$ETCD_IP:2479" \
        --cert-file "$PKI/server-old.pem" --key-file "$PKI/server-old.key" \
        --trusted-ca-file "$PKI/ca.pem" --client-cert-auth \
        --listen-peer-urls http://127.0.0.1:2480 --initial-advertise-peer-urls http://127.0.0.1:2480 \
        --initial-cluster old=http://127.0.0.1:2480 --log-level warn \
        >>"$ETCD_DATA/etcd-old.log" 2>&1 &
    ETCD_OLD_PID=$!
    BG_PIDS+=("$ETCD_OLD_PID")
}

# lib-cross's etcdctl_, with root's password once auth is on.
etcdctl_() {
    local auth=()
    [ "$ETCD_AUTH" = 1 ] && auth=(--user "root:$ROOT_PW")
    ip netns exec "$ETCD_NS" env ETCDCTL_API=3 etcdctl --endpoints "$ETCD_ADMIN_EP" --command-timeout=3s "${auth[@]}" "$@"
}

# lib-cross's reg_leases through etcdctl (the gateway wants a token once auth is on):
# "<key-name> <json>" per lease.
reg_leases() {
    etcdctl_ get --prefix "$PREFIX_KEY/subnets/" 2>/dev/null | paste - - | while IFS=$'\t' read -r k v; do
        printf '%s %s\n' "${k##*/}" "$v"
    done
}

# auth_setup: root, a role with readwrite on the prefix only, user flannel with it,
# user noperm without a role; then auth on.
auth_setup() {
    etcdctl_ user add "root:$ROOT_PW" >/dev/null 2>&1 &&
        etcdctl_ user grant-role root root >/dev/null &&
        etcdctl_ role add flannel-rw >/dev/null &&
        etcdctl_ role grant-permission --prefix=true flannel-rw readwrite "$PREFIX_KEY/" >/dev/null &&
        etcdctl_ user add "flannel:$FLANNEL_PW" >/dev/null &&
        etcdctl_ user grant-role flannel flannel-rw >/dev/null &&
        etcdctl_ user add noperm:nopermpw >/dev/null &&
        etcdctl_ auth enable >/dev/null &&
        ETCD_AUTH=1
}

# ------------------------------------------------------------------ agents

CERT_FLAGS=()
tls_flags() { CERT_FLAGS=(--etcd-cafile "$PKI/ca.pem" --etcd-certfile "$PKI/client.pem" --etcd-keyfile "$PKI/client.key"); }

# ready_nodes <label> <k...>: wait for each agent; record subnets; pass/fail per node.
ready_nodes() {
    local label=$1 k ok=0
    shift
    for k in "$@"; do
        if agent_wait_ready "$k" 20; then
            pass "$label: agent n$k ready (subnet $(node_subnet "$k"))"
        else
            fail "$label: agent n$k ready within 20 s (readyz $(readyz "$k"): $(head -c 200 "${NODE_DIR[$k]}/http.body" 2>/dev/null))" \
                "$(agent_log_tail "$k")"
            ok=1
        fi
    done
    return $ok
}

# three_nodes_with_containers <label> <agent flags...>
three_nodes_with_containers() {
    local label=$1 k c ok=0
    shift
    for k in 1 2 3; do
        node_new "$k" || return 1
        if [ "$k" = 3 ]; then RESYNC=10 agent_start "$k" "$@"; else agent_start "$k" "$@"; fi
    done
    ready_nodes "$label" 1 2 3 || return 1
    for k in 1 2 3; do
        for c in c1 c2; do
            if ctr_attach "$k" "$c"; then pass "$label: ADD n$k$c -> ${CTR_IP[$CTR]}"; else fail "$label: ADD n$k$c" "$(last_output)"; ok=1; fi
        done
    done
    return $ok
}

# ------------------------------------------------------------------ scenarios

sc_certs() {
    cluster_begin "three nodes over https with client certificates"
    reg_put_config "$(net_config)"
    tls_flags
    AGENT_ETCD_EP=$ETCD_TLS_EP
    if three_nodes_with_containers certs "${CERT_FLAGS[@]}"; then reach_matrix; fi
    cluster_end
}

sc_auth() {
    cluster_begin "three nodes over https, client certificates + username/password, first endpoint down"
    reg_put_config "$(net_config)"
    tls_flags
    # nothing listens on 2479 any more: every request fails over to the second endpoint
    AGENT_ETCD_EP="https://$ETCD_IP:2479,$ETCD_TLS_EP"
    local t0=$SECONDS k
    if three_nodes_with_containers auth "${CERT_FLAGS[@]}" --etcd-username flannel --etcd-password "$FLANNEL_PW"; then
        reach_matrix
        # n3 resyncs every 10 s, so its token (TTL ${TOKEN_TTL}s, idle) lapses between
        # requests: renewed transparently, the agent stays ready.
        local wait=$((TOKEN_TTL + 11 - (SECONDS - t0)))
        [ $wait -gt 0 ] && sleep "$wait"  # the thing under test: time passing until the token has lapsed
        for k in 1 2 3; do
            assert_eq "auth: n$k still ready after its token expired" 200 "$(readyz "$k")"
        done
        check "auth: no agent reported an error" sh -c "! grep -h 'level=error' ${NODE_DIR[1]}/agent.log ${NODE_DIR[2]}/agent.log ${NODE_DIR[3]}/agent.log"
        # the watch carries the token too: a lease change reaches n3 through it
        etcdctl_ put "$PREFIX_KEY/subnets/10.$CLUSTER_NET_A.250.0-24" \
            "{\"PublicIP\":\"$UNDERLAY.99\",\"BackendType\":\"vxlan\",\"BackendData\":{\"VNI\":1,\"VtepMAC\":\"aa:bb:cc:00:00:99\"}}" >/dev/null
        if wait_for 3000 state_is 3 "10.$CLUSTER_NET_A.250.0/24" "$UNDERLAY.99" aa:bb:cc:00:00:99 "$(full_state)"; then
            pass "auth: n3 programs a new lease within ${WAITED_MS} ms (watch with token, resync 10 s)"
        else
            fail "auth: n3 programs a new lease within 3 s" "$(peer_state 3 "10.$CLUSTER_NET_A.250.0/24" "$UNDERLAY.99" aa:bb:cc:00:00:99)"
        fi
        etcdctl_ del "$PREFIX_KEY/subnets/10.$CLUSTER_NET_A.250.0-24" >/dev/null
        sc_etcd_restart
    fi
    cluster_end
}

# (d) etcd stopped and started again under running agents: not ready, then ready
# again without a restart (etcd forgot the simple tokens: fresh ones are obtained).
sc_etcd_restart() {
    log "--- etcd stopped and started again"
    etcd_stop
    local k down=1
    for k in 1 2; do
        wait_for 8000 sh -c "[ \"\$(ip netns exec '${NODE_NS[$k]}' curl -s -m 1 -o /dev/null -w '%{http_code}' http://127.0.0.1:$AGENT_PORT/readyz)\" = 503 ]" || down=0
    done
    check "restart: n1, n2 report not ready while etcd is down" [ $down = 1 ]
    etcd_tls_start || { fail "etcd restart (test setup)"; return; }
    for k in 1 2 3; do
        if wait_for 8000 sh -c "[ \"\$(ip netns exec '${NODE_NS[$k]}' curl -s -m 1 -o /dev/null -w '%{http_code}' http://127.0.0.1:$AGENT_PORT/readyz)\" = 200 ]"; then
            pass "restart: n$k ready again ${WAITED_MS} ms after etcd came back"
        else
            fail "restart: n$k ready again within 8 s" "$(agent_log_tail "$k")"
        fi
    done
    reach_matrix "$(ctr 1 1)" "$(ctr 3 2)"
}
ctr() { echo "${CLP}n$1c$2"; }

# The mistakes, one node each, all at once: k -> "label|endpoint (empty: etcd's https)|flags|regex
# the log line and /readyz must match"
declare -A MISTAKE=()
MISTAKE_NODES="11 12 13 14 15 16 17 18 19 20 21"
sc_mistakes() {
    cluster_begin "operator mistakes, then fixed on the etcd side"
    reg_put_config "$(net_config)"
    AGENT_ETCD_EP=$ETCD_TLS_EP
    local ca="--etcd-cafile $PKI/ca.pem" good="--etcd-certfile $PKI/client.pem --etcd-keyfile $PKI/client.key"
    local user="--etcd-username flannel --etcd-password $FLANNEL_PW"
    MISTAKE[11]="unknown CA||--etcd-cafile $PKI/other-ca.pem $good $user|not signed by the CA in --etcd-cafile $PKI/other-ca.pem"
    MISTAKE[12]="expired client certificate||$ca --etcd-certfile $PKI/expired.pem --etcd-keyfile $PKI/expired.key $user|client certificate in --etcd-certfile $PKI/expired.pem expired on 2020-01-02"
    MISTAKE[13]="certificate and key do not match||$ca --etcd-certfile $PKI/client.pem --etcd-keyfile $PKI/stray.key $user|the key in --etcd-keyfile $PKI/stray.key does not match the certificate in --etcd-certfile $PKI/client.pem"
    MISTAKE[14]="wrong password||$ca $good --etcd-username flannel --etcd-password nope|refused user flannel: wrong --etcd-username or --etcd-password"
    MISTAKE[15]="no role on the prefix||$ca $good --etcd-username noperm --etcd-password nopermpw|permission denied for user noperm on $PREFIX_KEY/: grant user noperm's role read/write on $PREFIX_KEY/"
    MISTAKE[16]="http:// given to the TLS server|http://$ETCD_IP:2379|$ca $good $user|use https://$ETCD_IP:2379 in --etcd-endpoints"
    MISTAKE[17]="no credentials while auth is on||$ca $good|has authentication enabled: give --etcd-username and --etcd-password"
    MISTAKE[18]="user not created yet||$ca $good --etcd-username late --etcd-password latepw|refused user late: wrong --etcd-username or --etcd-password"
    MISTAKE[19]="no client certificate||$ca $user|requires a client certificate"
    MISTAKE[21]="server certificate expired|https://$ETCD_IP:2479|$ca $good $user|the server certificate \\(etcd's --cert-file\\) expired on 2020-01-02"
    MISTAKE[20]="client certificate with a CommonName while auth is on||$ca --etcd-certfile $PKI/cn.pem --etcd-keyfile $PKI/cn.key $user|refuses client certificates with a CommonName"
    local k label ep flags re
    etcd_expired_start
    for k in $MISTAKE_NODES; do
        node_new "$k" || return
        IFS='|' read -r label ep flags re <<<"${MISTAKE[$k]}"
        # shellcheck disable=SC2086
        AGENT_ETCD_EP="${ep:-$ETCD_TLS_EP}" agent_start "$k" $flags
    done
    local np
    for k in $MISTAKE_NODES; do
        IFS='|' read -r label ep flags re <<<"${MISTAKE[$k]}"
        # polled: the log line, /readyz and the error count each change on their own
        wait_for 10000 mistake_reported "$k" "$re"
        assert_log "$k" "$label: log says why (/$re/)" "$re"
        local code
        code=$(readyz "$k")
        if [ "$code" = 503 ] && grep -qE -- "$re" "${NODE_DIR[$k]}/http.body"; then
            pass "$label: /readyz 503 names the reason"
        else
            fail "$label: /readyz 503 names the reason (got $code)" "$(head -c 300 "${NODE_DIR[$k]}/http.body" 2>/dev/null)"
        fi
        if np=$(nothing_programmed "$k"); then pass "$label: nothing programmed"; else fail "$label: nothing programmed" "$np"; fi
        # retried at least twice (three errors counted) before the log lines are counted
        wait_for 15000 metric_ge "$k" 3 swiftcni_errors_total || log "          | only $(metric_sum "$k" swiftcni_errors_total) errors counted after 15 s"
        check "$label: one error line for the problem, not one per retry ($(metric_sum "$k" swiftcni_errors_total) tries)" \
            [ "$(grep -c 'level=error' "${NODE_DIR[$k]}/agent.log")" -le 2 ]
    done

    log "--- fixed on the etcd side, agents keep running"
    etcdctl_ user grant-role noperm flannel-rw >/dev/null || fail "grant-role noperm (test setup)"
    etcdctl_ user add late:latepw >/dev/null && etcdctl_ user grant-role late flannel-rw >/dev/null || fail "user add late (test setup)"
    for k in 15 18; do
        IFS='|' read -r label ep flags re <<<"${MISTAKE[$k]}"
        if wait_for 8000 sh -c "[ -s '${NODE_DIR[$k]}/subnet.env' ] && [ \"\$(ip netns exec '${NODE_NS[$k]}' curl -s -m 1 -o /dev/null -w '%{http_code}' http://127.0.0.1:$AGENT_PORT/readyz)\" = 200 ]"; then
            pass "$label, fixed: ready ${WAITED_MS} ms later without a restart"
        else
            fail "$label, fixed: ready within 8 s without a restart" "$(agent_log_tail "$k")"
        fi
    done
    stop_pid "$ETCD_OLD_PID" TERM 5
    cluster_end
}

# ------------------------------------------------------------------ main

main() {
    for t in openssl etcd etcdctl jq; do command -v "$t" >/dev/null || die "missing tool: $t"; done
    xinit_run
    pki_make || { fail "certificates (test setup)"; summary; exit 1; }
    etcd_tls_start || { fail "etcd over TLS starts in $ETCD_NS (test setup)"; summary; exit 1; }
    pass "etcd serves $ETCD_TLS_EP with client certificates required"
    sc_certs
    auth_setup || { fail "etcd auth set-up (test setup)"; summary; exit 1; }
    pass "etcd auth on: user flannel with readwrite on $PREFIX_KEY/ only"
    sc_mistakes
    sc_auth
    summary
}

main "$@"
