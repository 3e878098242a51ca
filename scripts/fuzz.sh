#!/usr/bin/env bash
# fuzz.sh: builds the libFuzzer targets of tests/fuzz in their own tree (build-fuzz/: clang-14,
# ASan + UBSan + libFuzzer, only the libraries and the fuzzers; scripts/lib/asan_tree.sh) and runs
# each one for a bounded time, starting from the committed corpus.
#
#   scripts/fuzz.sh [SECONDS]        SECONDS per target (default 60)
#
# Environment: DOCKMESH_FUZZ_BUILD_DIR (default build-fuzz), DOCKMESH_FUZZ_TARGETS (names to run,
# e.g. "envelope topic"; default all that were built), DOCKMESH_JOBS (build parallelism, 2).
# Each target keeps what it learns in BUILD/fuzz-corpus/<name>/ (so later runs start further on);
# the committed corpus tests/fuzz/corpus/<name>/ is only read. A crash leaves its input in
# BUILD/fuzz-artifacts/<name>/ and the script prints how to replay it; commit it as
# tests/fuzz/regressions/<name>/crash-<what> (and a fix) so that CTest replays it from then on.
# Prints one line per target: "fuzz: NAME: N executions in S s, ok" or the failures it found
# (a run goes on after a crash: libFuzzer's fork mode); exits 1 if any target found one.
set -euo pipefail

SOURCE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly SOURCE_DIR
readonly SECONDS_PER_TARGET="${1:-60}"
readonly JOBS="${DOCKMESH_JOBS:-2}"
# shellcheck source=scripts/lib/asan_tree.sh
source "$SOURCE_DIR/scripts/lib/asan_tree.sh"
readonly BUILD="$FUZZ_TREE"

say() { echo "fuzz: $*"; }
die() { echo "fuzz.sh: error: $*" >&2; exit 2; }

[[ "$SECONDS_PER_TARGET" =~ ^[1-9][0-9]*$ ]] || die "SECONDS must be a positive number, got '$SECONDS_PER_TARGET'"
have_clang14 || die "clang-14 not found; run scripts/deps.sh (clang-14 libclang-rt-14-dev)"

build() {
  configure_fuzz_tree
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

# run_target NAME: one bounded run; prints the summary line; returns 1 if it found a crash.
# Fork mode with -ignore_crashes: a crash (say, an open bug found in the first second) does not
# end the run, so every target gets its whole time and every distinct failure is reported.
run_target() {
  local name="$1" bin="$BUILD/bin/fuzz_$1" work="$BUILD/fuzz-corpus/$1"
  local art="$BUILD/fuzz-artifacts/$1/" log="$BUILD/fuzz-logs/$1.log" rc=0 execs
  mkdir -p "$work" "$art" "$(dirname "$log")"
  rm -f "$art"*
  # -timeout: one input taking over 10 s is a hang; -rss_limit_mb bounds memory per input.
  ASAN_OPTIONS="detect_leaks=1:abort_on_error=1" UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
    "$bin" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
    -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$art" "$work" "$SOURCE_DIR/tests/fuzz/corpus/$name" >"$log" 2>&1 || rc=$?
  # The parent's progress lines read "#<executions>: cov: ...".
  execs="$(grep -aoE '^#[0-9]+' "$log" | tail -n 1 | tr -d '#')"
  local crashes=("$art"crash-* "$art"timeout-* "$art"oom-*) found=()
  local f
  for f in "${crashes[@]}"; do [[ -e "$f" ]] && found+=("$f"); done
  if ((${#found[@]} == 0 && (rc == 0 || rc == 77))); then
    say "$name: ${execs:-?} executions in ${SECONDS_PER_TARGET} s, ok"
    return 0
  fi
  say "$name: ${execs:-?} executions in ${SECONDS_PER_TARGET} s, ${#found[@]} failing input(s) (exit $rc); log: $log"
  # Replay a few of the inputs to say what each one breaks (fork mode keeps children's output
  # out of the log).
  for f in "${found[@]:0:6}"; do
    echo "  input: $f"
    timeout 60 "$bin" "$f" 2>&1 |
      grep -aE -m1 'FUZZ_CHECK failed|SUMMARY: (Address|Undefined|Leak)|runtime error:|ERROR: libFuzzer' |
      cut -c1-300 | sed 's/^/    /' || true
  done
  echo "  replay one with: $bin <input>"
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
