#!/usr/bin/env bash
# Crash safety of the plugins (issue 9 parts 1 and 4, plugin side; design and costs:
# docs/crash-safety.md). Everything runs inside network namespaces this script creates.
#
#   PLUGINS_DIR=$PWD/.build/cni-bin bash integration/crash-safety.sh
#
# - SIGKILL at random moments of ADD, then the runtime's DEL; SIGKILL during DEL, then a
#   second DEL; for `bridge` and the flannel CNI face (`flannel-vxlan` with a subnet.env
#   written here, no agent). After each batch: zero residue (reservation files and
#   temporaries, veths, container links and addresses, nftables elements, saved configs).
# - SIGKILL while the plugin's `nft -f` child runs (a wrapper nft that waits first), then DEL
#   at once: the orphaned nft's elements are removed too (DEL waits for the nftables lock).
# - The data directory on a tiny full tmpfs and read-only (in a private mount namespace):
#   a clear I/O error and nothing left.
# - The nftables tables or the bridge deleted by hand with containers attached: CHECK
#   reports it, the next ADD repairs what it needs, DEL still cleans up.
#
# The kills come from a small C helper (compiled here) that forks the plugin with the CNI
# environment and SIGKILLs it after a random delay drawn up to a bit more than a measured
# ADD (or DEL). KILLS scales the batch sizes (default 1). Last line: "N passed, N failed".

INTEG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$INTEG_DIR/lib.sh"

KILLS=${KILLS:-1}
for p in flannel-vxlan; do
    [ -x "$PLUGINS_DIR/$p" ] || die "plugin missing: $PLUGINS_DIR/$p"
done
command -v "${CC:-cc}" >/dev/null || die "missing tool: ${CC:-cc} (the kill helper is C)"
command -v unshare >/dev/null || die "missing tool: unshare"

# ------------------------------------------------------------------ kill helper

build_killer() {
    KILLER="$RUN_DIR/killer"
    cat >"$RUN_DIR/killer.c" <<'EOF'
/* Runs a CNI plugin the way a runtime does (config on stdin, CNI_* environment) and
 * SIGKILLs it after a random delay, then runs the runtime's DEL. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *plugin, *conf, *netns, *cnipath, *outfile;

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static pid_t start(const char *command, const char *cid) {
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); exit(2); }
    if (pid == 0) {
        int in = open(conf, O_RDONLY), out = open(outfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || out < 0) _exit(126);
        dup2(in, 0); dup2(out, 1); dup2(out, 2);
        char c[64], id[256], ns[512], p[1024];
        snprintf(c, sizeof c, "CNI_COMMAND=%s", command);
        snprintf(id, sizeof id, "CNI_CONTAINERID=%s", cid);
        snprintf(ns, sizeof ns, "CNI_NETNS=%s", netns);
        snprintf(p, sizeof p, "CNI_PATH=%s", cnipath);
        char path[2048];
        snprintf(path, sizeof path, "PATH=%s", getenv("KILL_PATH") ? getenv("KILL_PATH") : "/usr/sbin:/usr/bin:/sbin:/bin");
        char *env[] = {c, id, ns, p, "CNI_IFNAME=eth0", path, NULL};
        char *argv[] = {(char *)plugin, NULL};
        execve(plugin, argv, env);
        _exit(127);
    }
    return pid;
}

/* To completion: the exit status (128 + signal when killed). */
static int run(const char *command, const char *cid, double *elapsed) {
    double t0 = now_us();
    int st;
    pid_t pid = start(command, cid);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    if (elapsed) *elapsed = now_us() - t0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* SIGKILL `delay` µs after the fork; 1 if the kill hit the plugin still running. */
static int run_killed(const char *command, const char *cid, long delay) {
    int st;
    double t0 = now_us();
    pid_t pid = start(command, cid);
    while (now_us() - t0 < delay) {
        if (waitpid(pid, &st, WNOHANG) == pid) return 0;
        struct timespec s = {0, 20000};
        nanosleep(&s, NULL);
    }
    kill(pid, SIGKILL);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    return WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
}

static void show(const char *what, const char *cid) {
    char buf[2048];
    FILE *f = fopen(outfile, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    buf[n] = 0;
    if (f) fclose(f);
    fprintf(stderr, "%s %s failed: %s\n", what, cid, buf);
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* killer add|addat|del|time <plugin> <conf> <netns> <cni-path> <out> <id-prefix> <n> <max-delay-us> <seed>
 *   add:  per container: ADD killed at a random moment, then DEL (must succeed)
 *   addat: as add, killed exactly <max-delay-us> after the fork
 * The plugin's PATH is $KILL_PATH when set.
 *   del:  per container: ADD (must succeed), DEL killed at a random moment, DEL (must succeed)
 *   time: n ADD + DEL pairs to completion; prints the median ADD and DEL in µs
 * add/del print "<kills that hit a running plugin> <failures>". */
int main(int argc, char **argv) {
    if (argc != 11) { fprintf(stderr, "usage: see source\n"); return 2; }
    const char *mode = argv[1];
    plugin = argv[2]; conf = argv[3]; netns = argv[4]; cnipath = argv[5]; outfile = argv[6];
    const char *prefix = argv[7];
    int n = atoi(argv[8]);
    long maxDelay = atol(argv[9]);
    srandom((unsigned)atol(argv[10]));
    int hits = 0, failures = 0;
    double *adds = calloc(n, sizeof(double)), *dels = calloc(n, sizeof(double));
    for (int i = 0; i < n; i++) {
        char cid[128];
        snprintf(cid, sizeof cid, "%s-%d", prefix, i);
        long delay = !strcmp(mode, "addat") ? maxDelay : maxDelay > 0 ? random() % maxDelay : 0;
        if (!strcmp(mode, "time")) {
            if (run("ADD", cid, &adds[i]) != 0) { show("ADD", cid); failures++; }
            if (run("DEL", cid, &dels[i]) != 0) { show("DEL", cid); failures++; }
        } else if (!strcmp(mode, "add") || !strcmp(mode, "addat")) {
            hits += run_killed("ADD", cid, delay);
            if (run("DEL", cid, NULL) != 0) { show("DEL after killed ADD", cid); failures++; }
        } else {
            if (run("ADD", cid, NULL) != 0) { show("ADD", cid); failures++; }
            hits += run_killed("DEL", cid, delay);
            if (run("DEL", cid, NULL) != 0) { show("DEL after killed DEL", cid); failures++; }
        }
    }
    if (!strcmp(mode, "time")) {
        qsort(adds, n, sizeof(double), cmp);
        qsort(dels, n, sizeof(double), cmp);
        printf("%.0f %.0f\n", adds[n / 2], dels[n / 2]);
    } else {
        printf("%d %d\n", hits, failures);
    }
    return failures ? 1 : 0;
}
EOF
    "${CC:-cc}" -O2 -o "$KILLER" "$RUN_DIR/killer.c" || die "cannot compile the kill helper"
}

# killer <mode> <plugin> <conf> <ctr-netns> <id-prefix> <n> <max-delay-us>: runs the helper
# inside the node; prints its last line.
killer() {
    local mode=$1 plugin=$2 conf=$3 ctr=$4 prefix=$5 n=$6 delay=$7
    ip netns exec "$NODE" "$KILLER" "$mode" "$PLUGINS_DIR/$plugin" "$conf" "/run/netns/$ctr" "$PLUGINS_DIR" \
        "$SCEN/killer.out" "$prefix" "$n" "$delay" "$RANDOM" 2>"$SCEN/killer.err"
}

# ------------------------------------------------------------------ residue

# residue <ctr-netns> [flannel-data-dir]: everything a container may leave behind, one
# line each; empty when nothing is left. The bridge, its gateway addresses and the empty
# nftables tables are the node's, shared by every container, and stay.
residue() {
    local ctr=$1 fdir=${2:-} d
    for d in "$DATA_DIR"/*/; do
        [ -d "$d" ] || continue
        find "$d" -mindepth 1 -maxdepth 1 ! -name lock ! -name 'last_reserved_ip.*' -printf 'data dir: %f\n'
    done
    ip -n "$NODE" -o link show type veth 2>/dev/null | awk '{print "node veth: " $2}'
    ip -n "$ctr" -o link show 2>/dev/null | awk '$2 != "lo:" {print "container link: " $2}'
    ip -n "$ctr" -o addr show 2>/dev/null | awk '$2 != "lo" {print "container address: " $4}'
    ip netns exec "$NODE" nft -j list ruleset 2>/dev/null | jq -r '
        .nftables[] | select(.set) | .set | select(.table | startswith("swift_cni"))
        | .name as $s | (.elem // [])[] | "nft element: \($s) \(tostring)"' 2>/dev/null
    if [ -n "$fdir" ] && [ -d "$fdir" ]; then
        find "$fdir" -mindepth 1 -printf 'flannel data dir: %f\n'
    fi
}

assert_no_residue() { # <desc> <ctr-netns> [flannel-data-dir]
    local left
    left=$(residue "$2" "${3:-}")
    if [ -z "$left" ]; then pass "$1"; return 0; fi
    fail "$1" "$left"
    return 1
}

# kill_batch <desc> <mode> <plugin> <conf> <ctr> <n> <max-delay-us> [flannel-data-dir]
kill_batch() {
    local desc=$1 mode=$2 plugin=$3 conf=$4 ctr=$5 n=$6 delay=$7 fdir=${8:-} out hits failures
    out=$(killer "$mode" "$plugin" "$conf" "$ctr" "k$mode" "$n" "$delay")
    read -r hits failures <<<"$out"
    log "  $n runs, $hits killed while running (delays 0-${delay} µs)"
    if [ "${failures:-x}" = 0 ]; then
        pass "$desc: every DEL after a kill succeeds ($n)"
    else
        fail "$desc: every DEL after a kill succeeds ($n)" "$(head -c 2000 "$SCEN/killer.err")"
    fi
    # The kills must land inside the plugin's run, not only before or after it.
    check "$desc: kills hit a running plugin ($hits of $n)" test "${hits:-0}" -ge $((n / 4))
    assert_no_residue "$desc: nothing left" "$ctr" "$fdir"
}

# ------------------------------------------------------------------ configs

bridge_conf() { # <file> <network>: bridge + host-local, dual-stack, masquerade and MAC check
    cat >"$1" <<EOF
{"cniVersion":"1.0.0","name":"$2","type":"bridge","bridge":"$BR","isGateway":true,"ipMasq":true,
 "macspoofchk":true,"ipam":{"type":"host-local","dataDir":"$DATA_DIR",
 "ranges":[[{"subnet":"10.77.0.0/24"}],[{"subnet":"fd77::/64"}]]}}
EOF
}

flannel_conf() { # <file> <network>: the CNI face over a subnet.env written here
    cat >"$SCEN/subnet.env" <<EOF
FLANNEL_NETWORK=10.78.0.0/16
FLANNEL_SUBNET=10.78.3.1/24
FLANNEL_MTU=1450
FLANNEL_IPMASQ=false
EOF
    cat >"$1" <<EOF
{"cniVersion":"1.0.0","name":"$2","type":"flannel-vxlan","subnetFile":"$SCEN/subnet.env",
 "dataDir":"$SCEN/flannel","delegate":{"bridge":"$BR","macspoofchk":true},
 "ipam":{"dataDir":"$DATA_DIR"}}
EOF
}

# max_delay <plugin> <conf> <ctr> add|del: a bit more than the median run (10 runs), so
# kills land anywhere from before exec to just after the end.
max_delay() {
    local t add del
    t=$(killer time "$1" "$2" "$3" "ktime" 10 0) || { echo 20000; return; }
    read -r add del <<<"$t"
    log "  median $1 ADD ${add} µs, DEL ${del} µs (10 runs)"
    if [ "$4" = add ]; then echo $((add * 5 / 4)); else echo $((del * 5 / 4)); fi
}

# ------------------------------------------------------------------ scenarios

# kill_plugin <plugin> <conf> <ctr> <ADD kills> <DEL kills> [flannel-data-dir]: both batches,
# each with delays drawn up to a bit more than that command's measured median. Sets ADD_DELAY.
kill_plugin() {
    local plugin=$1 conf=$2 ctr=$3 nadd=$4 ndel=$5 fdir=${6:-} d
    ADD_DELAY=$(max_delay "$plugin" "$conf" "$ctr" add)
    kill_batch "$plugin ADD killed, then DEL" add "$plugin" "$conf" "$ctr" $((nadd * KILLS)) "$ADD_DELAY" "$fdir"
    d=$(max_delay "$plugin" "$conf" "$ctr" del)
    kill_batch "$plugin DEL killed, then DEL" del "$plugin" "$conf" "$ctr" $((ndel * KILLS)) "$d" "$fdir"
}

# kill_scenario <name> <conf-writer> <network>: a node, a container netns ($KCTR) and a
# config ($KCONF) for the kill batches.
kill_scenario() {
    scenario_begin "$1"
    KCTR=$(ctr_new c)
    KCONF="$SCEN/$1.json"
    "$2" "$KCONF" "$3"
}

scenario_kill_bridge() {
    kill_scenario kill-bridge bridge_conf kcnet
    local ctr=$KCTR conf=$KCONF
    kill_plugin bridge "$conf" "$ctr" 200 60
    # A node's first ADD creates the nftables tables with `nft -f` (slower): kill in that
    # path too, with twice the delay range.
    local i hits=0 failures=0 out h f
    for i in $(seq 1 $((20 * KILLS))); do
        ip netns exec "$NODE" nft delete table inet swift_cni 2>/dev/null
        ip netns exec "$NODE" nft delete table bridge swift_cni_macspoof 2>/dev/null
        out=$(killer add bridge "$conf" "$ctr" "kfirst$i" 1 $((ADD_DELAY * 2)))
        read -r h f <<<"$out"
        hits=$((hits + ${h:-0})) failures=$((failures + ${f:-1}))
    done
    check "first ADD (tables created) killed, then DEL: DEL succeeds ($hits kills hit)" test "$failures" = 0
    assert_no_residue "first ADD killed: nothing left" "$ctr"
    scenario_end
}

# The `nft -f` child outliving its killed plugin, made deterministic: a wrapper `nft`, first
# in the plugin's PATH, waits 0.5 s before it runs the real one. A node's first ADD runs it
# twice (the MAC spoof table, then the masquerade table); the plugin is SIGKILLed inside the
# first, then inside the second, and the runtime's DEL follows at once. The orphaned nft still
# commits the dead container's elements; DEL must wait for it (the child holds the plugin's
# nftables lock) and remove them. Without that lock, the elements stay.
# none_alive <pid-file>: no pid listed in the file is still running
none_alive() {
    local p
    while read -r p; do [ -n "$p" ] && kill -0 "$p" 2>/dev/null && return 1; done <"$1"
    return 0
}

scenario_kill_nft_child() {
    scenario_begin kill-nft-child
    local ctr conf wrap real at runs out h f started took
    ctr=$(ctr_new c)
    conf="$SCEN/orphan.json"
    bridge_conf "$conf" kcorph
    real=$(command -v nft)
    wrap="$SCEN/wrap"
    mkdir -p "$wrap"
    printf '#!/bin/sh\necho $$ >>"%s"\nsleep 0.5\nexec %s "$@"\n' "$SCEN/wrapper.runs" "$real" >"$wrap/nft"
    chmod +x "$wrap/nft"
    for at in 250000:1 750000:2; do
        runs=${at#*:} at=${at%:*}
        ip netns exec "$NODE" nft delete table inet swift_cni 2>/dev/null
        ip netns exec "$NODE" nft delete table bridge swift_cni_macspoof 2>/dev/null
        rm -f "$SCEN/wrapper.runs"
        started=$(date +%s%N)
        out=$(KILL_PATH="$wrap:/usr/sbin:/usr/bin:/sbin:/bin" killer addat bridge "$conf" "$ctr" "korph$runs" 1 "$at")
        took=$((($(date +%s%N) - started) / 1000000))
        read -r h f <<<"$out"
        log "  killed at $((at / 1000)) ms, in wrapper run $runs; kill and DEL took ${took} ms"
        check "kill at $((at / 1000)) ms hit the plugin inside its nft run $runs" \
            test "${h:-0}:$(wc -l <"$SCEN/wrapper.runs" 2>/dev/null)" = "1:$runs"
        check "kill at $((at / 1000)) ms: DEL succeeds" test "${f:-1}" = 0
        # The orphaned nft (the wrapper execs it: same pid) must have committed and exited
        # before the residue is judged.
        wait_for 5000 none_alive "$SCEN/wrapper.runs" || log "          | an orphaned nft still runs after 5 s"
        assert_no_residue "kill in nft run $runs: nothing left after DEL, also once the orphaned nft committed" "$ctr"
    done
    scenario_end
}

scenario_kill_flannel() {
    kill_scenario kill-flannel flannel_conf kcflan
    kill_plugin flannel-vxlan "$KCONF" "$KCTR" 150 40 "$SCEN/flannel"
    scenario_end
}

# in_private_mounts <script> args...: runs a bash script in a mount namespace of its own
# (private propagation), so the tmpfs it mounts is seen by nothing else on the machine.
in_private_mounts() {
    local script=$1
    shift
    unshare -m --propagation private bash -c "$script" _ "$@"
}

# The plugin run directly (no libcni: the tmpfs exists only in this mount namespace).
# Arguments: data-dir node plugins-dir conf out-dir full|ro netns-of-held netns-of-new
FS_SCRIPT='
set -u
data=$1 node=$2 plugins=$3 conf=$4 out=$5 mode=$6 held=$7 new=$8
call() { # <command> <id> <tag>: container id = its netns
    local ns=$held
    [ "$2" = new ] && ns=$new
    ip netns exec "$node" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin CNI_COMMAND=$1 CNI_CONTAINERID=$2 \
        CNI_NETNS=/run/netns/$ns CNI_IFNAME=eth0 CNI_PATH="$plugins" "$plugins/bridge" <"$conf" >"$out/$3.out" 2>"$out/$3.err"
    echo $? >"$out/$3.rc"
}
mount -t tmpfs -o size=64k,nr_inodes=256,mode=0755 kcfull "$data" || exit 90
call ADD held held-add
if [ "$mode" = full ]; then
    # Fill every block: the next reservation cannot be written.
    dd if=/dev/zero of="$data/filler" bs=4k count=64 2>/dev/null
    call ADD new new-add
    ls -A "$data"/*/ >"$out/listing" 2>&1
    rm -f "$data/filler"
else
    mount -o remount,ro "$data" || exit 91
    call ADD new new-add
    call DEL held held-del-ro
    ls -A "$data"/*/ >"$out/listing" 2>&1
    mount -o remount,rw "$data" || exit 92
fi
call DEL new new-del
call DEL held held-del
ls -A "$data"/*/ >"$out/after" 2>&1
umount "$data"
'

fs_fault() { # full|ro
    local mode=$1 ctr ctr2 conf out rc
    scenario_begin "datadir-$mode"
    ctr=$(ctr_new c)
    ctr2=$(ctr_new d)
    conf="$SCEN/bridge.json"
    bridge_conf "$conf" kcfs
    out="$SCEN/fs"
    mkdir -p "$out"
    in_private_mounts "$FS_SCRIPT" "$DATA_DIR" "$NODE" "$PLUGINS_DIR" "$conf" "$out" "$mode" "$ctr" "$ctr2"
    rc=$?
    if [ "$rc" != 0 ]; then
        fail "tmpfs set-up ($mode)" "exit $rc"
        scenario_end
        return
    fi
    assert_eq "$mode: ADD with room succeeds" 0 "$(cat "$out/held-add.rc")"
    OUT="$out/new-add.out" ERR="$out/new-add.err"
    local want="No space left on device"
    [ "$mode" = ro ] && want="Read-only file system"
    assert_eq "$mode: ADD fails" 1 "$(cat "$out/new-add.rc")"
    assert_eq "$mode: the error is an I/O error (code 5)" 5 "$(cni_error_code)"
    check "$mode: the message names the cause ($want) and the file" \
        sh -c "grep -F '$want' '$out/new-add.out' | grep -F '$DATA_DIR/kcfs' >/dev/null"
    assert_eq "$mode: the failed ADD left no reservation and no temporary (the held ones stay)" \
        "10.77.0.2 fd77::2" "$(grep -vx -e lock -e 'last_reserved_ip.*' "$out/listing" | sort | tr '\n' ' ' | sed 's/ $//')"
    if [ "$mode" = ro ]; then
        OUT="$out/held-del-ro.out" ERR="$out/held-del-ro.err"
        assert_eq "ro: DEL of the held address is an I/O error (code 5), not a silent success" 5 "$(cni_error_code)"
    fi
    assert_eq "$mode: DEL of the failed ADD succeeds" 0 "$(cat "$out/new-del.rc")"
    assert_eq "$mode: DEL of the held address succeeds once writable" 0 "$(cat "$out/held-del.rc")"
    check "$mode: reservation directory empty at the end" \
        sh -c "! grep -vx -e lock -e 'last_reserved_ip.*' '$out/after' | grep -q ."
    assert_no_residue "$mode: nothing left on the node" "$ctr"
    assert_no_residue "$mode: nothing left of the failed ADD" "$ctr2"
    scenario_end
}

scenario_datadir_full() { fs_fault full; }
scenario_datadir_readonly() { fs_fault ro; }

# Two containers through libcni, then a node-level fault; CHECK, repair ADD, DEL.
hand_fault_begin() {
    scenario_begin "$1"
    mkconf 10-bridge.conflist kchand '.plugins[0].macspoofchk = true | .plugins[0].ipam.ranges = [[{"subnet":"10.79.0.0/24"}]]'
    C1=$(ctr_new c1)
    C2=$(ctr_new c2)
    CNI_CONTAINERID=$C1 assert_drv_ok "ADD c1" add kchand "/run/netns/$C1"
    CNI_CONTAINERID=$C2 assert_drv_ok "ADD c2" add kchand "/run/netns/$C2"
    CNI_CONTAINERID=$C1 assert_drv_ok "CHECK c1 before the fault" check kchand "/run/netns/$C1"
}

hand_fault_end() { # <what c1's CHECK still says>
    C3=$(ctr_new c3)
    CNI_CONTAINERID=$C3 assert_drv_ok "ADD c3 after the fault" add kchand "/run/netns/$C3"
    local gw
    gw=$(result_gw4)
    CNI_CONTAINERID=$C3 assert_drv_ok "CHECK c3" check kchand "/run/netns/$C3"
    check "c3 reaches its gateway ${gw:-?}" ping_from "$C3" "${gw:-none}"
    # The repair is the new container's: c1 keeps failing CHECK, so the runtime recreates it.
    CNI_CONTAINERID=$C1 assert_error "CHECK c1 still reports its own loss" any "$1" \
        drv check kchand "/run/netns/$C1"
    local c
    for c in "$C1" "$C2" "$C3"; do
        CNI_CONTAINERID=$c assert_drv_ok "DEL ${c##*-}" del kchand "/run/netns/$c"
    done
    local left=""
    for c in "$C1" "$C2" "$C3"; do left+=$(residue "$c"); done
    if [ -z "$left" ]; then pass "nothing left after DEL"; else fail "nothing left after DEL" "$left"; fi
    scenario_end
}

scenario_table_deleted() {
    hand_fault_begin table-deleted
    ip netns exec "$NODE" nft delete table inet swift_cni
    ip netns exec "$NODE" nft delete table bridge swift_cni_macspoof
    CNI_CONTAINERID=$C1 assert_error "CHECK c1 reports the missing table" any "missing" \
        drv check kchand "/run/netns/$C1"
    hand_fault_end "kchand/$C1/eth0"
}

scenario_bridge_deleted() {
    hand_fault_begin bridge-deleted
    ip -n "$NODE" link del "$BR"
    CNI_CONTAINERID=$C1 assert_error "CHECK c1 reports the missing bridge" any "bridge $BR is missing" \
        drv check kchand "/run/netns/$C1"
    hand_fault_end "not attached to bridge $BR"
}

# Not in the default run (SCENARIOS=fsync_cost): the figures of docs/crash-safety.md.
# Medians of complete bridge ADDs (10 per round), rounds interleaved: reservations
# without fsync (the default), with `ipam.syncReservations` (fsync of the file and the
# directory), and without fsync over 250 reservations of other containers (the cost of the
# residue pass: one stat per reservation).
scenario_fsync_cost() {
    scenario_begin fsync-cost
    local ctr plain synced r t add del rounds=${ROUNDS:-6} a=() b=() c=()
    ctr=$(ctr_new c)
    plain="$SCEN/plain.json" synced="$SCEN/synced.json" crowded="$SCEN/crowded.json"
    bridge_conf "$plain" kcplain
    jq -c '.ipam.syncReservations = true | .name = "kcsync"' "$plain" >"$synced"
    jq -c '.name = "kccrowd"' "$plain" >"$crowded"
    mkdir -p "$DATA_DIR/kccrowd"
    for r in $(seq 10 259); do printf 'other%d\r\neth0' "$r" >"$DATA_DIR/kccrowd/10.77.0.$((r % 250 + 3))"; done
    for r in $(seq 1 "$rounds"); do
        t=$(killer time bridge "$plain" "$ctr" "kp$r" 10 0) && read -r add del <<<"$t" && a+=("$add")
        t=$(killer time bridge "$synced" "$ctr" "ks$r" 10 0) && read -r add del <<<"$t" && b+=("$add")
        t=$(killer time bridge "$crowded" "$ctr" "kc$r" 10 0) && read -r add del <<<"$t" && c+=("$add")
    done
    med() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
    log "  bridge ADD medians per round (µs): plain ${a[*]} | fsync ${b[*]} | 250 reserved ${c[*]}"
    log "  median of medians: plain $(med "${a[@]}") µs, fsync $(med "${b[@]}") µs, 250 reserved $(med "${c[@]}") µs"
    check "all three configurations ran every round" test "${#a[@]}${#b[@]}${#c[@]}" = "$rounds$rounds$rounds"
    check "the other containers' 250 reservations are untouched" \
        test "$(grep -l '^other' "$DATA_DIR"/kccrowd/10.77.0.* | wc -l)" = 250
    for r in $(seq 10 259); do rm -f "$DATA_DIR/kccrowd/10.77.0.$((r % 250 + 3))"; done
    assert_no_residue "nothing left" "$ctr"
    scenario_end
}

# Not in the default run (SCENARIOS=lock_cost BEFORE_DIR=<plugins built without the lock>):
# the cost of the nftables lock, docs/crash-safety.md. Bridge ADD and DEL medians (10 of each
# per round) of the plugins under test and of BEFORE_DIR, rounds interleaved.
scenario_lock_cost() {
    scenario_begin lock-cost
    [ -x "${BEFORE_DIR:-}/bridge" ] || { fail "BEFORE_DIR has a bridge plugin" "${BEFORE_DIR:-unset}"; scenario_end; return; }
    local ctr conf r t add del rounds=${ROUNDS:-20} a=() b=() c=() d=()
    ctr=$(ctr_new c)
    conf="$SCEN/cost.json"
    bridge_conf "$conf" kccost
    for r in $(seq 1 "$rounds"); do
        t=$(PLUGINS_DIR=$BEFORE_DIR killer time bridge "$conf" "$ctr" "kb$r" 10 0) && read -r add del <<<"$t" && a+=("$add") c+=("$del")
        t=$(killer time bridge "$conf" "$ctr" "kn$r" 10 0) && read -r add del <<<"$t" && b+=("$add") d+=("$del")
    done
    med() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
    log "  ADD medians per round (µs): before ${a[*]} | now ${b[*]}"
    log "  DEL medians per round (µs): before ${c[*]} | now ${d[*]}"
    log "  median of medians: ADD before $(med "${a[@]}") µs, now $(med "${b[@]}") µs; DEL before $(med "${c[@]}") µs, now $(med "${d[@]}") µs"
    check "both ran every round" test "${#a[@]}${#b[@]}" = "$rounds$rounds"
    assert_no_residue "nothing left" "$ctr"
    scenario_end
}

# ------------------------------------------------------------------ main

init_run
build_killer
ALL="kill_bridge kill_nft_child kill_flannel datadir_full datadir_readonly table_deleted bridge_deleted"
for s in ${SCENARIOS:-$ALL}; do
    "scenario_$s"
done
summary
