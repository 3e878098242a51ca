#!/usr/bin/env bash
# fuzz.sh: builds the libFuzzer targets of tests/fuzz in their own tree (clang-14, ASan + UBSan +
# libFuzzer) and runs each one for a bounded time, starting from the committed corpus.
#
#   scripts/fuzz.sh [SECONDS]        SECONDS per target (default 60)
#
# Environment: DOCKMESH_FUZZ_BUILD_DIR (default build-fuzz), DOCKMESH_FUZZ_TARGETS (names to run,
# e.g. "envelope topic"; default all that were built), DOCKMESH_JOBS (build parallelism, 2).
# Each target keeps what it learns in BUILD/fuzz-corpus/<name>/ (so later runs start further on);
# the committed corpus tests/fuzz/corpus/<name>/ is only read. A crash leaves its input in
# BUILD/fuzz-artifacts/<name>/ and the script prints how to replay it; commit it as
# tests/fuzz/corpus/<name>/crash-<what> so that CTest replays it from then on.
# Prints one line per target: "fuzz: NAME: N executions in S s, ok|CRASH"; exits 1 on any crash.
set -euo pipefail

SOURCE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly SOURCE_DIR
readonly SECONDS_PER_TARGET="${1:-60}"
readonly BUILD="${DOCKMESH_FUZZ_BUILD_DIR:-$SOURCE_DIR/build-fuzz}"
readonly JOBS="${DOCKMESH_JOBS:-2}"

say() { echo "fuzz: $*"; }
die() { echo "fuzz.sh: error: $*" >&2; exit 2; }

[[ "$SECONDS_PER_TARGET" =~ ^[1-9][0-9]*$ ]] || die "SECONDS must be a positive number, got '$SECONDS_PER_TARGET'"
command -v clang++-14 >/dev/null || die "clang++-14 not found; run scripts/deps.sh (clang-14 libclang-rt-14-dev)"

build() {
  # fuzzer-no-link instruments every library for coverage; DOCKMESH_SANITIZE adds ASan + UBSan
  # (UB aborts, so libFuzzer reports it); DOCKMESH_FUZZ adds the fuzz_<name> binaries.
  CC=clang-14 CXX=clang++-14 cmake -S "$SOURCE_DIR" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DDOCKMESH_FUZZ=ON -DDOCKMESH_SANITIZE=ON -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link" >/dev/null
  local log="$BUILD/fuzz-build.log"
  if ! cmake --build "$BUILD" --target fuzz_all -j"$JOBS" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    die "building the fuzz targets failed; full log: $log"
  fi
  # clang sees things gcc does not (e.g. a string_view bound to a temporary): show them.
  local warnings
  warnings="$(grep -E 'warning: ' "$log" | sort -u || true)"
  if [[ -n "$warnings" ]]; then
    say "clang warnings in the fuzz build (not fatal here; see $log):"
    sed 's/^/  /' <<<"$warnings"
  fi
}

# run_target NAME: one bounded run; prints the summary line; returns 1 on a crash.
run_target() {
  local name="$1" bin="$BUILD/bin/fuzz_$1" work="$BUILD/fuzz-corpus/$1"
  local art="$BUILD/fuzz-artifacts/$1/" log="$BUILD/fuzz-logs/$1.log" rc=0 execs
  mkdir -p "$work" "$art" "$(dirname "$log")"
  # -timeout: one input taking over 10 s is a hang; -rss_limit_mb bounds memory per input.
  ASAN_OPTIONS="detect_leaks=1:abort_on_error=1" UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
    "$bin" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$art" "$work" "$SOURCE_DIR/tests/fuzz/corpus/$name" \
    >"$log" 2>&1 || rc=$?
  execs="$(grep -a 'stat::number_of_executed_units' "$log" | tail -n 1 | awk '{print $2}')"
  if ((rc == 0)); then
    say "$name: ${execs:-?} executions in ${SECONDS_PER_TARGET} s, ok"
    return 0
  fi
  say "$name: ${execs:-?} executions, CRASH (exit $rc); log: $log"
  grep -a -E 'FUZZ_CHECK|ERROR: |runtime error|SUMMARY' "$log" | head -n 8 | sed 's/^/  /'
  local f
  for f in "$art"*; do
    [[ -e "$f" ]] || continue
    echo "  reproducer: $f"
    echo "  replay:     $bin $f"
  done
  return 1
}

main() {
  build
  local targets=() name crashed=0
  if [[ -n "${DOCKMESH_FUZZ_TARGETS:-}" ]]; then
    read -r -a targets <<<"$DOCKMESH_FUZZ_TARGETS"
  else
    for name in "$BUILD"/bin/fuzz_*; do [[ -x "$name" ]] && targets+=("${name##*/fuzz_}"); done
  fi
  ((${#targets[@]})) || die "no fuzz targets were built in $BUILD/bin"
  for name in "${targets[@]}"; do
    [[ -x "$BUILD/bin/fuzz_$name" ]] || die "no fuzz target '$name' in $BUILD/bin"
    run_target "$name" || crashed=1
  done
  return "$crashed"
}

main "$@"
