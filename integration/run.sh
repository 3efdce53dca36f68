#!/usr/bin/env bash
# Build the driver and run every integration suite; one final line
# "N passed, N failed"; non-zero exit if anything failed.
#
#   PLUGINS_DIR=<repo>/.build/cni-bin bash integration/run.sh
#
# PLUGINS_DIR defaults to the reference plugins (/usr/lib/cni). Must run as root.
set -u
INTEG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SUITES=${SUITES:-same-host crash-safety cross-host udp dual-stack flanneld-cli etcd-secure forward-drop lease-loss hostile-leases agent-faults package}

bash "$INTEG_DIR/build-driver.sh" || { echo "driver build failed" >&2; echo "0 passed, 1 failed"; exit 1; }

# The suites must never change the machine's own namespace; a cheap look
# before and after (a warning only: other things on the machine may change it).
root_ns_state() {
    ip -o link show | awk -F': ' '{print $2}' | sort
    ip route show table all 2>/dev/null | sort
    ip -6 route show table all 2>/dev/null | sort
}
root_before=$(root_ns_state)

total_pass=0 total_fail=0 rc=0
for s in $SUITES; do
    log=$(mktemp)
    bash "$INTEG_DIR/$s.sh" | tee "$log"
    src=${PIPESTATUS[0]}
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n1)
    rm -f "$log"
    if [ -z "$line" ]; then
        echo "suite $s ended without a summary (exit $src)" >&2
        total_fail=$((total_fail + 1))
        rc=1
        continue
    fi
    p=${line%% passed*}
    f=${line#*passed, }
    f=${f%% failed}
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + f))
    [ "$src" = 0 ] || rc=1
done
if [ "$(root_ns_state)" != "$root_before" ]; then
    echo "WARNING: links or routes of the root network namespace changed during the run:" >&2
    diff <(printf '%s\n' "$root_before") <(root_ns_state) | head -n 20 >&2
fi
echo "$total_pass passed, $total_fail failed"
[ "$rc" = 0 ] && [ "$total_fail" = 0 ]
