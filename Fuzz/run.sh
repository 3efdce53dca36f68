#!/usr/bin/env bash
# libFuzzer targets for every parser of untrusted bytes (docs/fuzzing.md).
#
#   bash Fuzz/run.sh build            build the targets (debug, fuzzer + AddressSanitizer)
#   bash Fuzz/run.sh fuzz  [target..] fuzz each for FUZZ_SECONDS (default 60)
#   bash Fuzz/run.sh smoke [target..] replay the corpus and regressions, then fuzz each for
#                                     FUZZ_SMOKE_SECONDS (default 5): what `make test` runs
#
# Seeds: Fuzz/corpus/<name> (read only); inputs that once crashed: Fuzz/regressions/<name>.
# Inputs the fuzzer finds go to $FUZZ_WORK/corpus/<name> (kept between `fuzz` runs, so each
# run starts where the last stopped); crashes to $FUZZ_WORK/artifacts/<name>/. Prints one
# ok/FAIL line per target with executions and coverage, then "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/opt/swift/usr/bin"
SCRATCH=${FUZZ_SCRATCH:-.build-fuzz}
FUZZ_WORK=${FUZZ_WORK:-$SCRATCH/fuzz-work}
TARGETS_ALL=(json cni-config cni-args ipam-result host-local-config reservation netlink etcd-watch etcd-reply lease flannel-config subnet-env udp-packet)

build() {
  # One product per invocation: SwiftPM builds only the last --product given.
  mkdir -p "$SCRATCH"  # a fresh clone has none yet: the build logs go there
  for p in "$@"; do
    SWIFT_CNI_FUZZ=1 swift build --scratch-path "$SCRATCH" --sanitize fuzzer -Xswiftc -sanitize=fuzzer,address \
      --product "fuzz-$p" >"$SCRATCH/build-fuzz-$p.log" 2>&1 \
      || { grep -E "error:" "$SCRATCH/build-fuzz-$p.log" | head -5; echo "FAIL build fuzz-$p" >&2; return 1; }
  done
}

# run NAME SECONDS: replays the seeds and regressions, fuzzes for SECONDS, reports. Swift's
# own backtracer is off: a trap is then reported by libFuzzer (input saved, stack printed).
run() {
  local name=$1 seconds=$2 bin="$SCRATCH/debug/fuzz-$1"
  local work="$FUZZ_WORK/corpus/$name" artifacts="$FUZZ_WORK/artifacts/$name" log="$FUZZ_WORK/logs/$name.log"
  mkdir -p "$work" "$artifacts" "$(dirname "$log")"
  local dirs=("$work" "Fuzz/corpus/$name")
  [ -d "Fuzz/regressions/$name" ] && dirs+=("Fuzz/regressions/$name")
  local start=$SECONDS
  SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} "$bin" "${dirs[@]}" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1 -artifact_prefix="$artifacts/" >"$log" 2>&1
  local rc=$? elapsed=$((SECONDS - start))
  local done_line execs cov ft corpus
  done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$done_line")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$done_line")
  corpus=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$done_line")
  if [ $rc -eq 0 ]; then
    echo "ok fuzz-$name: ${execs:-?} executions in ${elapsed}s, cov ${cov:-?} edges, ft ${ft:-?} features, corpus ${corpus:-?} inputs"
    passed=$((passed + 1))
  else
    echo "FAIL fuzz-$name (exit $rc): $(grep -m1 -E 'ERROR: |Fatal error|Precondition failed|SUMMARY' "$log" | cut -c1-200)"
    echo "     crash input: $(ls -t "$artifacts" | head -1 | sed "s|^|$artifacts/|"); log: $log"
    failed=$((failed + 1))
  fi
}

mode=${1:-smoke}; shift || true
targets=("$@"); [ ${#targets[@]} -eq 0 ] && targets=("${TARGETS_ALL[@]}")
passed=0 failed=0
case $mode in
  build) build "${targets[@]}"; exit ;;
  fuzz) seconds=${FUZZ_SECONDS:-60} ;;
  smoke) seconds=${FUZZ_SMOKE_SECONDS:-5} ;;
  *) echo "usage: $0 build|fuzz|smoke [target...]" >&2; exit 2 ;;
esac
build "${targets[@]}" || { echo "0 passed, ${#targets[@]} failed"; exit 1; }
for t in "${targets[@]}"; do run "$t" "$seconds"; done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
