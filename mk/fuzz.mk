# Fuzzing and sanitizers (docs/fuzzing.md). Each target has its own scratch path
# (.build-fuzz, .build-asan, .build-tsan), so none disturbs .build.
#   make fuzz         every libFuzzer target for FUZZ_SECONDS (default 60) each
#   make fuzz-smoke   replay corpus and regressions, then FUZZ_SMOKE_SECONDS (default 5) each
#   make sanitize     unit and privileged Swift tests under AddressSanitizer and ThreadSanitizer
FUZZ_SECONDS       ?= 60
FUZZ_SMOKE_SECONDS ?= 5

.PHONY: fuzz fuzz-smoke sanitize

fuzz: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash Fuzz/run.sh fuzz

fuzz-smoke: deps
	FUZZ_SMOKE_SECONDS=$(FUZZ_SMOKE_SECONDS) bash Fuzz/run.sh smoke

sanitize: deps
	bash Fuzz/sanitize.sh address thread
