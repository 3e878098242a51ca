#!/usr/bin/env bash
# sanitize.sh: builds a second tree with AddressSanitizer + UndefinedBehaviorSanitizer
# (-DDOCKMESH_SANITIZE=ON, gcc, -O1: scripts/lib/asan_tree.sh) and runs the whole CTest suite
# there: unit tests, fuzz corpus
# replays, integration, fault and load tests, the last three with the sanitized daemons (the
# integration helpers take the binaries from DM_BUILD_DIR, which tests/CMakeLists.txt sets to the
# tree CTest runs in). LeakSanitizer is on; any UB report aborts the process.
#
#   scripts/sanitize.sh [CTEST ARGS...]     e.g. scripts/sanitize.sh -L fuzz
#
# Environment: DOCKMESH_ASAN_BUILD_DIR (default build-asan), DOCKMESH_JOBS (default 2).
# A daemon killed by a sanitizer report exits non-zero and writes the report to its log
# (DIR/logs/<name>.log); sanitizer reports also go to build-asan/sanitizer-logs/ (log_path).
# Exit status: ctest's.
set -euo pipefail

SOURCE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly SOURCE_DIR
readonly JOBS="${DOCKMESH_JOBS:-2}"
# shellcheck source=scripts/lib/asan_tree.sh
source "$SOURCE_DIR/scripts/lib/asan_tree.sh"
readonly BUILD="$ASAN_TREE"

configure_asan_tree
cmake --build "$BUILD" -j"$JOBS"

mkdir -p "$BUILD/sanitizer-logs"
rm -f "$BUILD"/sanitizer-logs/*
# Every process the tests start inherits these: the daemons (through mesh.sh) and the tests.
# log_path keeps a copy of each report even when a daemon's stderr is not looked at; the report
# still aborts the process (abort_on_error), so a test sees the daemon die. quarantine_size_mb:
# freed memory waits there before reuse (to catch use-after-free); 64 MB instead of 256 keeps a
# busy daemon's RSS meaningful for the load test's memory bound (tests/load/test_load.py).
export ASAN_OPTIONS="quarantine_size_mb=64:detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1:log_path=$BUILD/sanitizer-logs/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$BUILD/sanitizer-logs/ubsan"
export LSAN_OPTIONS="suppressions=$SOURCE_DIR/tests/fuzz/lsan.supp:print_suppressions=0"
# Sanitized binaries are slower: give polling deadlines in the Python tests more room.
export DM_SLOW_FACTOR="${DM_SLOW_FACTOR:-2}"

rc=0
ctest --test-dir "$BUILD" --output-on-failure "$@" || rc=$?

reports=("$BUILD"/sanitizer-logs/*)
if [[ -e "${reports[0]}" ]]; then
  echo "sanitize.sh: sanitizer reports were written:" >&2
  for f in "${reports[@]}"; do
    echo "----- $f" >&2
    head -n 40 "$f" >&2
  done
  ((rc != 0)) || rc=1
fi
exit "$rc"
