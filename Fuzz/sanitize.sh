#!/usr/bin/env bash
# The unit and privileged Swift tests (`swift test`: privileged suites run when root) under
# AddressSanitizer and ThreadSanitizer, each in its own scratch path. A sanitizer report
# fails its run even when every test passed (TSan reports races without failing a test).
#
#   bash Fuzz/sanitize.sh [address] [thread]      (default: both)
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/opt/swift/usr/bin"
sanitizers=("$@"); [ ${#sanitizers[@]} -eq 0 ] && sanitizers=(address thread)
passed=0 failed=0
for s in "${sanitizers[@]}"; do
  case $s in address) scratch=.build-asan ;; thread) scratch=.build-tsan ;; *) echo "unknown sanitizer $s" >&2; exit 2 ;; esac
  log=$scratch/sanitize.log
  mkdir -p "$scratch"
  start=$SECONDS
  swift build --build-tests --scratch-path "$scratch" --sanitize "$s" >"$log.build" 2>&1
  built=$?
  build_seconds=$((SECONDS - start))
  start=$SECONDS
  if [ $built -eq 0 ]; then
    # halt_on_error=0: collect every report of the run, not only the first.
    ASAN_OPTIONS=detect_leaks=0:halt_on_error=0 TSAN_OPTIONS=halt_on_error=0 \
      swift test --skip-build --scratch-path "$scratch" --sanitize "$s" >"$log" 2>&1
  else
    cp "$log.build" "$log"
  fi
  rc=$?
  test_seconds=$((SECONDS - start))
  reports=$(grep -cE '^(==[0-9]+==ERROR: AddressSanitizer|WARNING: ThreadSanitizer|SUMMARY: (Address|Thread|UndefinedBehavior)Sanitizer)' "$log")
  summary=$(grep -E 'Test run with [0-9]+ tests|Executed [0-9]+ tests' "$log" | tail -2 | tr '\n' ' ')
  if [ $built -eq 0 ] && [ $rc -eq 0 ] && [ "$reports" -eq 0 ]; then
    echo "ok $s: build ${build_seconds}s, tests ${test_seconds}s, 0 sanitizer reports; $summary"
    passed=$((passed + 1))
  else
    echo "FAIL $s: build exit $built, test exit $rc, $reports sanitizer report lines; $summary (log: $log)"
    failed=$((failed + 1))
  fi
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
