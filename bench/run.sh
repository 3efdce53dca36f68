#!/usr/bin/env bash
# make bench: our plugins vs the reference Go plugins, same machine, same run.
# Builds the exec timer and the netlink monitor (bench/.bin, git-ignored) and the libcni driver if needed, installs
# iperf3 if missing, runs bench/bench.py, which writes bench/results.md and results.json.
# Every network namespace is named with this run's prefixes (bn<pid>; bx<pid> for the
# cross-host section: underlay, nodes with their agents, etcd) and removed on exit, failure
# or interrupt, after every process inside them (agents, etcd, iperf3) has been killed; the
# machine's own namespace is never changed.
#
#   BENCH_BIN=.build/cni-bin bash bench/run.sh          # plugins under test (default)
#   BENCH_RUNS=10 BENCH_ONLY=latency bash bench/run.sh  # quicker, one section
#   BENCH_ONLY=cross BENCH_X_ONLY=dataplane BENCH_MERGE=1 bash bench/run.sh
#                      # only the cross-host dataplane again, every other figure in results.json kept
# See bench/bench.py for every knob.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "bench: must run as root (network namespaces)" >&2; exit 2; }

# Preset BENCH_PREFIX/BENCH_XPREFIX (e.g. incbn/incbx on a machine shared with other runs)
# are kept; the pid is appended so two runs never share names.
export BENCH_PREFIX="${BENCH_PREFIX:-bn}$$"
export BENCH_XPREFIX="${BENCH_XPREFIX:-bx}$$"
export BENCH_BIN=${BENCH_BIN:-$REPO/.build/cni-bin}

cleanup() {
    local rc=$? ns pid nss
    trap - EXIT INT TERM
    nss=$(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^(${BENCH_PREFIX}|${BENCH_XPREFIX})-" || true)
    for ns in $nss; do  # agents, etcd, iperf3 first, in every namespace ...
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    done
    for ns in $nss; do  # ... then the namespaces
        ip netns del "$ns" 2>/dev/null || true
    done
    rm -rf /tmp/"${BENCH_PREFIX}".* 2>/dev/null || true
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$BENCH_DIR/.bin"
if [ ! -x "$BENCH_DIR/.bin/exectimer" ] || [ "$BENCH_DIR/exectimer.c" -nt "$BENCH_DIR/.bin/exectimer" ]; then
    cc -O2 -Wall -o "$BENCH_DIR/.bin/exectimer" "$BENCH_DIR/exectimer.c"
fi
if [ ! -x "$BENCH_DIR/.bin/nlmon" ] || [ "$BENCH_DIR/nlmon.c" -nt "$BENCH_DIR/.bin/nlmon" ]; then
    cc -O2 -Wall -o "$BENCH_DIR/.bin/nlmon" "$BENCH_DIR/nlmon.c"
fi
[ -x "$REPO/integration/bin/driver" ] || bash "$REPO/integration/build-driver.sh"
command -v iperf3 >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iperf3 >/dev/null ||
    echo "bench: iperf3 unavailable, dataplane section skipped" >&2
if ! command -v etcd >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server >/dev/null 2>&1 ||
        echo "bench: etcd unavailable, cross-host etcd figures skipped" >&2
    # the package starts a system etcd in the machine's namespace: we run our own
    [ -x /etc/init.d/etcd ] && { systemctl stop etcd 2>/dev/null || /etc/init.d/etcd stop; } >/dev/null 2>&1 || true
fi

PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
"$PY" "$BENCH_DIR/bench.py" &
child=$!
trap 'kill -TERM $child 2>/dev/null; wait $child; exit 130' INT
trap 'kill -TERM $child 2>/dev/null; wait $child; exit 143' TERM
wait $child
