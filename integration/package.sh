#!/usr/bin/env bash
# The Debian package (packaging/build-deb.sh) built from the binaries under test, then
# looked at and used: its metadata and exact contents, lintian, a dpkg install into a
# throwaway root whose plugins attach a container through libcni and whose swift-flanneld
# becomes ready (READY=1 to a NOTIFY_SOCKET this script listens on, only once subnet.env
# exists), the systemd unit through `systemd-analyze verify`, every binary's --version and
# a plugin's by-hand introduction, then removal and purge. Everything runs in network
# namespaces this script creates and in a temp dir; the machine's own dpkg database and
# systemd are never touched.
#
#   PLUGINS_DIR=$PWD/.build/cni-bin bash integration/package.sh
#
# Last line: "N passed, N failed".

INTEG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NETNS_PREFIX=${NETNS_PREFIX:-pk}
# shellcheck source=lib.sh
. "$INTEG_DIR/lib.sh"

PLUGINS=(bridge host-local loopback flannel-vxlan host-gw flannel-udp)
DAEMON=swift-flanneld
VERSION=$(sed -n 's/^ *package static let string = "\([^"]*\)"$/\1/p' "$REPO_DIR/Sources/CNI/SuiteVersion.swift")
ARCH=$(dpkg --print-architecture)
DEB=""
ROOT=""        # the throwaway root the package is installed into
AGENT_PID=""
LISTENER_PID=""

# Lintian warnings and infos this package keeps, each with its reason (a new one fails):
KEPT_LINTIAN=(
    # The suite has no manual pages yet; `swift-flanneld --help` and README.md document it.
    "W: swift-cni: no-manual-page [usr/bin/swift-flanneld]"
    # -no-pie is the Makefile's choice for start-up time (no run-time relocation of the
    # executable, see the Makefile and bench/PROFILE.md), as the reference Go binaries.
    "W: swift-cni: hardening-no-pie [usr/bin/swift-flanneld]"
)
# The overrides in packaging/lintian-overrides, each explained there (an override that
# stops matching, or a new one, fails).
OVERRIDDEN_LINTIAN="dir-or-file-in-opt [opt/cni/]
dir-or-file-in-opt [opt/cni/bin/]
dir-or-file-in-opt [opt/cni/bin/bridge]
dir-or-file-in-opt [opt/cni/bin/flannel-udp]
dir-or-file-in-opt [opt/cni/bin/flannel-vxlan]
dir-or-file-in-opt [opt/cni/bin/host-gw]
dir-or-file-in-opt [opt/cni/bin/host-local]
dir-or-file-in-opt [opt/cni/bin/loopback]
embedded-library zlib [usr/bin/swift-flanneld]
statically-linked-binary [opt/cni/bin/bridge]
statically-linked-binary [opt/cni/bin/flannel-udp]
statically-linked-binary [opt/cni/bin/flannel-vxlan]
statically-linked-binary [opt/cni/bin/host-gw]
statically-linked-binary [opt/cni/bin/host-local]
statically-linked-binary [opt/cni/bin/loopback]"

for t in dpkg-deb lintian systemd-analyze python3 strip; do
    command -v "$t" >/dev/null || die "missing tool: $t (apt-get install dpkg-dev lintian systemd python3 binutils)"
done
[ -n "$VERSION" ] || die "no version in Sources/CNI/SuiteVersion.swift"
init_run

# out_has <ere> <cmd...>: the command's output has a matching line (output captured first:
# with pipefail, "cmd | grep -q" fails when grep's early exit gets cmd killed by SIGPIPE).
out_has() {
    local re=$1 o
    shift
    o=$("$@" 2>&1)
    grep -qE -- "$re" <<<"$o"
}

# ---------------------------------------------------------------- the package itself

sc_build() {
    CURRENT_SCENARIO="build"
    log "" && log "=== the package builds from the binaries in $PLUGINS_DIR"
    local t0=$EPOCHREALTIME
    if DEB=$(bash "$REPO_DIR/packaging/build-deb.sh" "$PLUGINS_DIR" "$RUN_DIR/out" 2>"$RUN_DIR/build.err") && [ -f "$DEB" ]; then
        pass "build-deb.sh wrote $(basename "$DEB") ($(du -k "$DEB" | cut -f1) KiB, $(since "$t0") s)"
    else
        fail "build-deb.sh" "$(cat "$RUN_DIR/build.err")"
        DEB=""
        return 1
    fi
    assert_eq "file name carries the suite's version and the architecture" "swift-cni_${VERSION}_$ARCH.deb" "$(basename "$DEB")"
    # The version has one source: a changelog that disagrees stops the build.
    local pk=$RUN_DIR/pkg-copy
    mkdir -p "$pk" && cp -a "$REPO_DIR/packaging" "$pk/" && mkdir -p "$pk/Sources/CNI" "$pk/cni-conf" "$pk/docs" &&
        cp "$REPO_DIR/Sources/CNI/SuiteVersion.swift" "$pk/Sources/CNI/" && cp "$REPO_DIR/README.md" "$pk/" &&
        sed -i "s/static let string = \"$VERSION\"/static let string = \"9.9.9\"/" "$pk/Sources/CNI/SuiteVersion.swift"
    if bash "$pk/packaging/build-deb.sh" "$PLUGINS_DIR" "$pk/out" >/dev/null 2>"$pk/err"; then
        fail "a version that differs from the changelog's stops the build" "built $(ls "$pk/out")"
    else
        check "a version that differs from the changelog's stops the build ($(head -c 100 "$pk/err"))" grep -q "changelog" "$pk/err"
    fi
}

sc_metadata() {
    CURRENT_SCENARIO="metadata"
    log "" && log "=== dpkg-deb --info"
    dpkg-deb --info "$DEB" >"$RUN_DIR/info" 2>&1 || { fail "dpkg-deb --info" "$(cat "$RUN_DIR/info")"; return; }
    pass "dpkg-deb --info reads it"
    assert_eq "Package" swift-cni "$(dpkg-deb -f "$DEB" Package)"
    assert_eq "Version is the one in Sources/CNI/SuiteVersion.swift" "$VERSION" "$(dpkg-deb -f "$DEB" Version)"
    assert_eq "Architecture" "$ARCH" "$(dpkg-deb -f "$DEB" Architecture)"
    # swift-flanneld's shared libraries as dpkg-shlibdeps found them: glibc and zlib, no
    # Swift runtime (linked statically).
    assert_eq "Depends: glibc and zlib for swift-flanneld" "libc6 zlib1g" \
        "$(dpkg-deb -f "$DEB" Depends | tr ',' '\n' | sed -E 's/^ *([^ ]+).*/\1/' | sort | tr '\n' ' ' | sed 's/ $//')"
    check "no conflict with containernetworking-plugins declared" \
        sh -c "! dpkg-deb -f '$DEB' Conflicts Breaks Replaces | grep -q ."
    local size real
    size=$(dpkg-deb -f "$DEB" Installed-Size)
    real=$(dpkg-deb --fsys-tarfile "$DEB" | tar -tvf - | awk '$1 !~ /^d/ { s += int(($3 + 1023) / 1024) } END { print s }')
    check "Installed-Size ($size KiB) covers the files ($real KiB)" test "$size" -ge "$real"
    mkdir -p "$RUN_DIR/ctl"
    dpkg-deb --control "$DEB" "$RUN_DIR/ctl"
    assert_eq "conffiles: /etc/default/swift-flanneld only" "/etc/default/swift-flanneld" "$(cat "$RUN_DIR/ctl/conffiles")"
    assert_eq "control members" "conffiles control md5sums postinst postrm prerm" "$(ls "$RUN_DIR/ctl" | tr '\n' ' ' | sed 's/ $//')"
    local bad=""
    mkdir -p "$RUN_DIR/x" && dpkg-deb -x "$DEB" "$RUN_DIR/x"
    (cd "$RUN_DIR/x" && md5sum --quiet -c "$RUN_DIR/ctl/md5sums") >"$RUN_DIR/md5.out" 2>&1 || bad=$(cat "$RUN_DIR/md5.out")
    assert_eq "md5sums match every file but the conffile" \
        "$(cd "$RUN_DIR/x" && find . -type f ! -path './etc/*' -printf '%P\n' | sort | tr '\n' ' ')" \
        "$(awk '{ print $2 }' "$RUN_DIR/ctl/md5sums" | sort | tr '\n' ' ')"
    [ -z "$bad" ] && pass "md5sums verify" || fail "md5sums verify" "$bad"
}

# The exact tree: every path, its type and mode, owner root:root.
sc_contents() {
    CURRENT_SCENARIO="contents"
    log "" && log "=== dpkg-deb --contents: exactly what is intended"
    local want got p
    want=$(
        for d in ./ ./etc/ ./etc/default/ ./lib/ ./lib/systemd/ ./lib/systemd/system/ ./opt/ ./opt/cni/ ./opt/cni/bin/ \
            ./usr/ ./usr/bin/ ./usr/share/ ./usr/share/doc/ ./usr/share/doc/swift-cni/ ./usr/share/doc/swift-cni/examples/ \
            ./usr/share/lintian/ ./usr/share/lintian/overrides/; do
            echo "drwxr-xr-x root/root $d"
        done
        for p in "${PLUGINS[@]}"; do echo "-rwxr-xr-x root/root ./opt/cni/bin/$p"; done
        echo "-rwxr-xr-x root/root ./usr/bin/swift-flanneld"
        echo "-rw-r--r-- root/root ./lib/systemd/system/swift-flanneld.service"
        echo "-rw-r--r-- root/root ./etc/default/swift-flanneld"
        for p in copyright changelog.gz README.md cross-host.md examples/README.md; do
            echo "-rw-r--r-- root/root ./usr/share/doc/swift-cni/$p"
        done
        for p in "$REPO_DIR"/cni-conf/*.conflist; do echo "-rw-r--r-- root/root ./usr/share/doc/swift-cni/examples/$(basename "$p")"; done
        echo "-rw-r--r-- root/root ./usr/share/lintian/overrides/swift-cni"
    )
    got=$(dpkg-deb --contents "$DEB" | awk '{ print $1, $2, $6 }')
    if [ "$(sort <<<"$want")" = "$(sort <<<"$got")" ]; then
        pass "the $(wc -l <<<"$got") entries are exactly the intended ones"
    else
        fail "contents differ from the intended list" "$(diff <(sort <<<"$want") <(sort <<<"$got"))"
    fi
    check "nothing in /usr/lib/cni (containernetworking-plugins' directory)" sh -c "! grep -q 'usr/lib/cni' <<'X'
$got
X"
    check "no active conflist (nothing under /etc/cni)" sh -c "! grep -q 'etc/cni' <<'X'
$got
X"
    local p2 f
    for p2 in "${PLUGINS[@]}"; do
        f="$RUN_DIR/x/opt/cni/bin/$p2"
        if file_is_stripped "$f" && ! readelf -ld "$f" 2>&1 | grep -qE 'INTERP|NEEDED'; then :; else
            fail "$p2: stripped static executable" "$(readelf -S "$f" | grep -E "symtab|debug"; readelf -ld "$f" | grep -E 'INTERP|NEEDED')"
            continue
        fi
        pass "$p2: stripped static executable"
    done
    check "swift-flanneld: stripped" file_is_stripped "$RUN_DIR/x/usr/bin/swift-flanneld"
    check "changelog.gz names this version" out_has "^swift-cni \\($VERSION\\)" zcat "$RUN_DIR/x/usr/share/doc/swift-cni/changelog.gz"
    # Every flag of --help can be set in the conffile, by its FLANNELD_ name.
    local flags missing=""
    flags=$("$RUN_DIR/x/usr/bin/swift-flanneld" --help 2>&1 | grep -oE '^ +--[a-z][a-z0-9-]+' | sed 's/^ *--//' | grep -vxE 'help|version|no-.*' | sort -u)
    for f in $flags; do
        v="FLANNELD_$(tr 'a-z-' 'A-Z_' <<<"$f")"
        grep -q "^#$v=" "$RUN_DIR/x/etc/default/swift-flanneld" || missing+=" $v"
    done
    if [ -n "$flags" ] && [ -z "$missing" ]; then
        pass "/etc/default/swift-flanneld shows all $(wc -w <<<"$flags") flags as commented FLANNELD_* lines"
    else
        fail "/etc/default/swift-flanneld shows every flag" "missing:$missing (flags: $(tr '\n' ' ' <<<"$flags"))"
    fi
    check "/etc/default/swift-flanneld sets nothing until edited" sh -c "! grep -qvE '^(#|\$)' '$RUN_DIR/x/etc/default/swift-flanneld'"
}

# since <t0>: seconds since $EPOCHREALTIME was t0, one decimal.
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

file_is_stripped() { ! readelf -S "$1" 2>/dev/null | grep -qE '\.(symtab|debug_info)'; }

sc_lintian() {
    CURRENT_SCENARIO="lintian"
    log "" && log "=== lintian"
    local t0=$EPOCHREALTIME out errors unexpected="" line k kept overridden
    out=$(lintian --no-cfg --show-overrides "$DEB" 2>&1 | grep -v -e 'running with root privileges' -e '^N:')
    log "  lintian took $(since "$t0") s; its findings (O: overridden, see packaging/lintian-overrides):"
    printf '%s\n' "$out" | sed 's/^/          | /' >&2
    errors=$(grep -c '^E:' <<<"$out" || true)
    assert_eq "lintian: no errors" 0 "$errors"
    while IFS= read -r line; do
        [[ "$line" =~ ^[WIPX]: ]] || continue
        kept=0
        for k in "${KEPT_LINTIAN[@]}"; do [ "$line" = "$k" ] && kept=1; done
        [ "$kept" = 1 ] || unexpected+="$line"$'\n'
    done <<<"$out"
    [ -z "$unexpected" ] && pass "lintian: only the ${#KEPT_LINTIAN[@]} warnings kept on purpose" ||
        fail "lintian: findings nobody reviewed" "$unexpected"
    overridden=$(sed -n 's/^O: swift-cni: //p' <<<"$out" | sort)
    assert_eq "lintian: exactly the explained overrides apply" "$OVERRIDDEN_LINTIAN" "$overridden"
}

# ---------------------------------------------------------------- installed into a throwaway root

# dpkg with its database, log and maintainer scripts all in $ROOT (the scripts see
# DPKG_ROOT and leave the machine's systemd alone).
rdpkg() {
    dpkg --root="$ROOT" --log="$RUN_DIR/dpkg.log" --force-script-chrootless --force-depends "$@"
}

sc_install() {
    CURRENT_SCENARIO="install"
    log "" && log "=== dpkg --root: install into a throwaway root"
    ROOT=$RUN_DIR/root
    mkdir -p "$ROOT/var/lib/dpkg/info" "$ROOT/var/lib/dpkg/updates" "$ROOT/var/lib/dpkg/triggers"
    : >"$ROOT/var/lib/dpkg/status"
    if rdpkg -i "$DEB" >"$RUN_DIR/dpkg-i.out" 2>&1; then pass "dpkg --root -i"; else fail "dpkg --root -i" "$(cat "$RUN_DIR/dpkg-i.out")"; return 1; fi
    assert_eq "dpkg says installed" "install ok installed $VERSION" \
        "$(dpkg-query --admindir="$ROOT/var/lib/dpkg" -W -f='${Status} ${Version}' swift-cni)"
    check "the plugins are in /opt/cni/bin" test -x "$ROOT/opt/cni/bin/bridge" -a -x "$ROOT/opt/cni/bin/host-gw"
    check "the agent is /usr/bin/swift-flanneld" test -x "$ROOT/usr/bin/swift-flanneld"
}

sc_versions() {
    CURRENT_SCENARIO="versions"
    log "" && log "=== --version, the by-hand line, VERSION"
    local b out rc ref_shape our_shape protos
    for b in "${PLUGINS[@]}"; do
        assert_eq "$b --version" "$VERSION" "$("$ROOT/opt/cni/bin/$b" --version 2>&1)"
    done
    assert_eq "swift-flanneld --version" "$VERSION" "$("$ROOT/usr/bin/swift-flanneld" --version 2>&1)"
    for b in "${PLUGINS[@]}"; do
        # By hand: no CNI_COMMAND, stdin a pipe that stays open as a terminal would.
        out=$(timeout 5 env -i "$ROOT/opt/cni/bin/$b" 2>&1 >"$RUN_DIR/byhand.stdout" < <(sleep 8)); rc=$?
        protos=$(echo '{"cniVersion":"1.0.0"}' | env -i CNI_COMMAND=VERSION "$ROOT/opt/cni/bin/$b" | jq -r '.supportedVersions | join(", ")')
        assert_eq "$b by hand: exit 0, the introduction on stderr, nothing on stdout, stdin not read" \
            "0|CNI $b plugin (swift-cni) v$VERSION|CNI protocol versions supported: $protos|" \
            "$rc|$(head -n1 <<<"$out")|$(sed -n 2p <<<"$out")|$(cat "$RUN_DIR/byhand.stdout")$(sed -n '3,$p' <<<"$out")"
    done
    # The same two lines as the reference plugin, up to the version words.
    ref_shape=$(env -i "$REF_PLUGINS_DIR/bridge" </dev/null 2>&1 | sed -E 's/^(CNI bridge plugin) .*/\1 V/; s/(supported:) .*/\1 L/')
    our_shape=$(env -i "$ROOT/opt/cni/bin/bridge" </dev/null 2>&1 | sed -E 's/^(CNI bridge plugin) .*/\1 V/; s/(supported:) .*/\1 L/')
    assert_eq "the by-hand lines have the reference bridge's shape" "$ref_shape" "$our_shape"
    # A runtime's calls are unchanged: VERSION answers in the asked version, an unknown verb is code 4.
    assert_eq "VERSION result unchanged" '{"cniVersion":"0.4.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}' \
        "$(echo '{"cniVersion":"0.4.0"}' | env -i CNI_COMMAND=VERSION "$ROOT/opt/cni/bin/bridge")"
    assert_eq "unknown CNI_COMMAND still an error (code 4)" 4 \
        "$(env -i CNI_COMMAND=FOO "$ROOT/opt/cni/bin/loopback" </dev/null | jq -r .code)"
}

sc_unit() {
    CURRENT_SCENARIO="unit"
    log "" && log "=== systemd-analyze verify"
    # A root with the machine's systemd units (the targets the unit names) and the
    # installed unit and binary (verify checks that ExecStart is executable).
    local sd=$RUN_DIR/sdroot unit=lib/systemd/system/swift-flanneld.service out rc
    mkdir -p "$sd/lib/systemd" "$sd/usr/bin" "$sd/etc/default"
    cp -a /lib/systemd/system "$sd/lib/systemd/"
    cp "$ROOT/$unit" "$sd/$unit" && cp "$ROOT/usr/bin/swift-flanneld" "$sd/usr/bin/" && cp "$ROOT/etc/default/swift-flanneld" "$sd/etc/default/"
    out=$(systemd-analyze verify --root="$sd" "$sd/$unit" 2>&1); rc=$?
    assert_eq "systemd-analyze verify: accepted, no complaint" "0|" "$rc|$out"
    # The same check catches a broken unit (so it can fail).
    sed 's/^Type=notify/Type=notifyy/' "$sd/$unit" >"$sd/lib/systemd/system/pk-broken.service"
    out=$(systemd-analyze verify --root="$sd" "$sd/lib/systemd/system/pk-broken.service" 2>&1)
    check "systemd-analyze verify complains about a broken copy" grep -q "notifyy" <<<"$out"
    local u=$ROOT/$unit k
    for k in "Type=notify" "ExecStart=/usr/bin/swift-flanneld" "EnvironmentFile=-/etc/default/swift-flanneld" \
        "Wants=network-online.target" "After=network-online.target" "Restart=on-failure" "KillSignal=SIGTERM" \
        "WantedBy=multi-user.target"; do
        check "unit: $k" grep -qxF "$k" "$u"
    done
}

# A node netns with a dummy underlay, a directory registry: the installed agent, configured
# through the installed /etc/default/swift-flanneld as an operator would, with NOTIFY_SOCKET.
sc_agent() {
    CURRENT_SCENARIO="agent"
    log "" && log "=== the installed swift-flanneld becomes ready; READY=1 only after subnet.env"
    NODE="${PFX}-node"
    netns_add "$NODE"
    local a=$((200 + RANDOM % 50)) d=$RUN_DIR/agent i
    mkdir -p "$d/registry"
    # The underlay: a veth pair inside the node (no other node needs to be reached).
    ip -n "$NODE" link add eth0 type veth peer name ul0 && ip -n "$NODE" addr add "192.168.77.1/24" dev eth0 &&
        ip -n "$NODE" link set eth0 up && ip -n "$NODE" link set ul0 up || { fail "node setup"; return 1; }
    cat >>"$ROOT/etc/default/swift-flanneld" <<EOF
FLANNELD_REGISTRY_DIR=$d/registry
FLANNELD_IFACE=eth0
FLANNELD_SUBNET_FILE=$d/run/subnet.env
FLANNELD_STATE_DIR=$d/state
FLANNELD_LISTEN=127.0.0.1:9102
FLANNELD_IP_MASQ=true
EOF
    # The listener: one line per datagram, with whether subnet.env existed when it arrived.
    python3 - "$d/notify.sock" "$d/run/subnet.env" "$d/notify.log" <<'PY' &
import os, socket, sys
path, subnet, out = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
with open(out, "a", buffering=1) as f:
    f.write("listening\n")
    while True:
        msg = s.recv(4096).decode(errors="replace").strip()
        f.write("%s subnet.env=%s\n" % (msg, "present" if os.path.exists(subnet) else "absent"))
PY
    LISTENER_PID=$!
    BG_PIDS+=("$LISTENER_PID")
    for i in $(seq 50); do grep -q listening "$d/notify.log" 2>/dev/null && break; sleep 0.1; done
    # EnvironmentFile= semantics: KEY=value lines, comments ignored.
    local envs=()
    mapfile -t envs < <(grep -E '^[A-Z_][A-Z0-9_]*=' "$ROOT/etc/default/swift-flanneld")
    ip netns exec "$NODE" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin NOTIFY_SOCKET="$d/notify.sock" "${envs[@]}" \
        "$ROOT/usr/bin/swift-flanneld" >"$d/agent.log" 2>&1 &
    AGENT_PID=$!
    BG_PIDS+=("$AGENT_PID")
    # No network config in the registry yet: the agent cannot be ready and must not say so.
    # Judged once it has tried and said so (its "not ready" error line), not after a fixed time.
    wait_for 10000 grep -q 'level=error.*not ready' "$d/agent.log" ||
        log "          | no \"not ready\" line within 10 s: $(tail -n 3 "$d/agent.log")"
    check "without a network config: running, no subnet.env" sh -c "kill -0 $AGENT_PID && ! test -e '$d/run/subnet.env'"
    check "without a network config: no READY=1" sh -c "! grep -q READY=1 '$d/notify.log'"
    mkdir -p "$d/registry/coreos.com/network"
    echo "{\"Network\":\"10.$a.0.0/16\",\"SubnetLen\":24,\"Backend\":{\"Type\":\"vxlan\"}}" >"$d/registry/coreos.com/network/config"
    local t0=$EPOCHREALTIME
    for i in $(seq 150); do grep -q READY=1 "$d/notify.log" && break; kill -0 "$AGENT_PID" 2>/dev/null || break; sleep 0.1; done
    if grep -q "READY=1" "$d/notify.log"; then
        pass "READY=1 $(since "$t0") s after the config appeared"
    else
        fail "READY=1 within 15 s" "$(tail -n 5 "$d/agent.log"; cat "$d/notify.log")"
        return 1
    fi
    assert_eq "READY=1 arrived with subnet.env in place" "READY=1 subnet.env=present" "$(grep READY=1 "$d/notify.log" | head -n1)"
    assert_eq "READY=1 sent once" 1 "$(grep -c READY=1 "$d/notify.log")"
    check "subnet.env has the node's subnet" grep -qE "^FLANNEL_SUBNET=10\\.$a\\.[0-9]+\\.1/24$" "$d/run/subnet.env"
    check "the start line logs the version" grep -qE "swift-flanneld starting.*version=\"?$VERSION" "$d/agent.log"
    # READY=1 goes out before the loop's first pass marks the node ready: polled
    check "/readyz answers 200" wait_for 3000 out_has '^200$' ip netns exec "$NODE" curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:9102/readyz
    sc_attach "$d"
    # SIGTERM: STOPPING=1, exit 0, the dataplane stays.
    kill -TERM "$AGENT_PID"
    local rc=""
    for i in $(seq 100); do kill -0 "$AGENT_PID" 2>/dev/null || break; sleep 0.1; done
    wait "$AGENT_PID"; rc=$?
    bg_forget "$AGENT_PID"
    assert_eq "SIGTERM: exit status 0" 0 "$rc"
    check "SIGTERM: STOPPING=1 sent" grep -q "^STOPPING=1" "$d/notify.log"
    check "SIGTERM: the vxlan device stays" out_has 'vxlan' ip -n "$NODE" -d link show flannel.1
    check "SIGTERM: subnet.env stays" test -s "$d/run/subnet.env"
}

# The installed plugins, through libcni: flannel-vxlan (delegating to bridge and host-local)
# and loopback, with the example conflists as installed.
sc_attach() {
    local d=$1 ex=$ROOT/usr/share/doc/swift-cni/examples ctr gw
    SCEN="$RUN_DIR/attach"
    CONF_DIR="$SCEN/conf" CACHE_DIR="$SCEN/cache"
    mkdir -p "$CONF_DIR" "$CACHE_DIR"
    SCEN_CNI_PATH="$ROOT/opt/cni/bin"
    jq --arg sf "$d/run/subnet.env" --arg dd "$d/cni-data" --arg ipd "$d/ipam" \
        '.plugins[0].subnetFile = $sf | .plugins[0].dataDir = $dd | .plugins[0].ipam.dataDir = $ipd' \
        "$ex/30-flannel-vxlan.conflist" >"$CONF_DIR/cbr0.conflist"
    cp "$ex/99-loopback.conflist" "$CONF_DIR/"
    ctr="${PFX}-c1"
    netns_add "$ctr"
    CNI_CONTAINERID=$ctr assert_drv_ok "libcni ADD through the installed flannel-vxlan (bridge, host-local)" \
        add cbr0 "/run/netns/$ctr" || return 1
    local ip
    ip=$(result_ip4)
    gw=$(grep -oE '^FLANNEL_SUBNET=[0-9.]+' "$d/run/subnet.env" | cut -d= -f2)
    check "the address ($ip) is in the node's subnet" test "${ip%.*}" = "${gw%.*}"
    CNI_CONTAINERID=$ctr CNI_IFNAME=lo assert_drv_ok "libcni ADD through the installed loopback" add cni-loopback "/run/netns/$ctr"
    check "the container reaches its gateway $gw" ping_from "$ctr" "$gw"
    CNI_CONTAINERID=$ctr assert_drv_ok "libcni DEL" del cbr0 "/run/netns/$ctr"
    CNI_CONTAINERID=$ctr CNI_IFNAME=lo assert_drv_ok "libcni DEL loopback" del cni-loopback "/run/netns/$ctr"
}

sc_remove() {
    CURRENT_SCENARIO="remove"
    log "" && log "=== remove, then purge"
    local left
    if rdpkg -r swift-cni >"$RUN_DIR/dpkg-r.out" 2>&1; then pass "dpkg --root -r"; else fail "dpkg --root -r" "$(cat "$RUN_DIR/dpkg-r.out")"; fi
    left=$(cd "$ROOT" && find . -path ./var/lib/dpkg -prune -o ! -type d -print | sort | tr '\n' ' ')
    assert_eq "after remove: only the edited conffile is left" "./etc/default/swift-flanneld " "$left"
    if rdpkg -P swift-cni >"$RUN_DIR/dpkg-p.out" 2>&1; then pass "dpkg --root -P"; else fail "dpkg --root -P" "$(cat "$RUN_DIR/dpkg-p.out")"; fi
    left=$(cd "$ROOT" && find . -path ./var/lib/dpkg -prune -o -print | sort | tr '\n' ' ')
    assert_eq "after purge: nothing is left" ". ./var ./var/lib " "$left"
}

sc_build || { summary; exit 1; }
sc_metadata
sc_contents
sc_lintian
sc_install || { summary; exit 1; }
sc_versions
sc_unit
sc_agent
sc_remove
summary
