#!/usr/bin/env bash
# test.sh: installs dependencies, builds build/, and runs every test; exits non-zero on any
# failure and ends with one summary line ("summary: N passed, N failed"). `.ci/run` calls it.
#
# Stages run in order; each is a function below, so more can be added in one place:
#   stage_deps      scripts/deps.sh (skipped with DOCKMESH_SKIP_DEPS=1)
#   stage_build     cmake configure + build of build/ (RelWithDebInfo, dpkg-buildflags, -Werror)
#   stage_format    scripts/format.sh --check: every tracked C++ file as clang-format makes it
#   stage_ctest     ctest on build/: unit tests and integration tests, sequential
#   stage_asan      scripts/sanitize.sh: every test in an ASan+UBSan tree build-asan/ (DOCKMESH_TEST_ASAN=0 skips)
#   stage_fuzz      scripts/fuzz.sh: bounded libFuzzer runs, 10 s per target (DOCKMESH_TEST_FUZZ=0 skips)
#   stage_web       node --test tests/web/: unit tests of the web console's modules (form, errors, refresh)
#   stage_browser   tests/browser/run.sh: Playwright + Chromium test of the web UI (DOCKMESH_TEST_BROWSER=0 skips)
#   stage_package   scripts/package_test.sh: .debs, lintian, units, chroot install, upgrade, Ansible (DOCKMESH_TEST_PACKAGE=0 skips)
# Environment: DOCKMESH_JOBS (build parallelism, default 2), DOCKMESH_CTEST_ARGS (extra ctest
# arguments, e.g. "-R cli_tests").
set -euo pipefail

SOURCE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly SOURCE_DIR
readonly BUILD_DIR="$SOURCE_DIR/build"
readonly JOBS="${DOCKMESH_JOBS:-2}"
readonly LOG_DIR="$BUILD_DIR/test-logs"

PASSED=0
FAILED=0
FAILURES=()
START=$SECONDS

say() { echo "test.sh: $*"; }

# record NAME PASSED FAILED: adds a stage's counts to the totals.
record() {
  PASSED=$((PASSED + $2))
  FAILED=$((FAILED + $3))
  (($3 == 0)) || FAILURES+=("$1")
}

# build_tree DIR [CMAKE ARGS...]: configure and build one build tree.
build_tree() {
  local dir="$1"; shift
  cmake -S "$SOURCE_DIR" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDOCKMESH_WERROR=ON "$@" &&
    cmake --build "$dir" -j"$JOBS"
}

# run_ctest NAME DIR [CTEST ARGS...]: runs ctest in DIR, adds its counts. A ctest that fails
# without saying how many tests failed (e.g. it found none) counts as one failure.
run_ctest() {
  local name="$1" dir="$2"; shift 2
  local log="$LOG_DIR/$name.log" rc=0 line total failed
  mkdir -p "$LOG_DIR"
  ctest --test-dir "$dir" --output-on-failure "$@" 2>&1 | tee "$log" || rc=$?
  line="$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1 || true)"
  if [[ -z "$line" ]]; then
    say "$name: ctest gave no result line (rc=$rc)"
    record "$name" 0 1
    return 0
  fi
  failed="$(sed -E 's/.* ([0-9]+) tests? failed.*/\1/' <<<"$line")"
  total="$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line")"
  ((total > 0)) || { say "$name: ctest ran no test"; record "$name" 0 1; return 0; }
  ((rc == 0 || failed > 0)) || failed=1
  record "$name" $((total - failed)) "$failed"
  # A CTest test that did not run (skipped or missing) is a failure too. Python tests' own skips
  # are judged by tests/run_python_test.py against tests/allowed_skips.txt, the one list of
  # allowed skips.
  local skipped
  skipped="$(grep -cE '\*\*\*(Skipped|Not Run)' "$log" || true)"
  if ((skipped > 0)); then
    say "$name: $skipped test(s) did not run; a skip is a failure"
    record "$name-skipped" 0 "$skipped"
  fi
}

stage_deps() {
  "$SOURCE_DIR/scripts/deps.sh"
}

# build/ is built with Debian's default flags (dpkg-buildflags, hardening=+all): stage_package
# makes the .debs from this very tree, so what ships is what was tested.
stage_build() {
  if build_tree "$BUILD_DIR" -DDOCKMESH_DPKG_BUILDFLAGS=ON; then return 0; fi
  say "the build of $BUILD_DIR failed"
  record build 0 1
  return 1
}

# Every C++ file is as `scripts/format.sh` (clang-format 14, .clang-format) leaves it.
stage_format() {
  mkdir -p "$LOG_DIR"
  if "$SOURCE_DIR/scripts/format.sh" --check >"$LOG_DIR/format.log" 2>&1; then
    record format 1 0
  else
    tail -n 5 "$LOG_DIR/format.log"
    say "format: files differ from clang-format's output (run scripts/format.sh; list in $LOG_DIR/format.log)"
    record format 0 1
  fi
}

stage_ctest() {
  # shellcheck disable=SC2086 # DOCKMESH_CTEST_ARGS is a word list on purpose
  run_ctest ctest "$BUILD_DIR" ${DOCKMESH_CTEST_ARGS:-}
}

# A second tree with -DDOCKMESH_SANITIZE=ON (build-asan/): the whole CTest suite there, daemons
# included, under ASan + LeakSanitizer + UBSan (scripts/sanitize.sh). DOCKMESH_TEST_ASAN=0 skips.
stage_asan() {
  [[ "${DOCKMESH_TEST_ASAN:-1}" == "1" ]] || { say "asan: skipped (DOCKMESH_TEST_ASAN=0)"; return 0; }
  mkdir -p "$LOG_DIR"
  if "$SOURCE_DIR/scripts/sanitize.sh" 2>&1 | tee "$LOG_DIR/asan.log"; then record asan 1 0; else record asan 0 1; fi
}

# Bounded libFuzzer runs of every target (scripts/fuzz.sh, build-fuzz/), DOCKMESH_FUZZ_SECONDS
# each (default 10). DOCKMESH_TEST_FUZZ=0 skips.
stage_fuzz() {
  [[ "${DOCKMESH_TEST_FUZZ:-1}" == "1" ]] || { say "fuzz: skipped (DOCKMESH_TEST_FUZZ=0)"; return 0; }
  mkdir -p "$LOG_DIR"
  if "$SOURCE_DIR/scripts/fuzz.sh" "${DOCKMESH_FUZZ_SECONDS:-10}" 2>&1 | tee "$LOG_DIR/fuzz.log"; then record fuzz 1 0; else record fuzz 0 1; fi
}

# Unit tests of the web console's pure modules (ui-bridge/web/js: the create form from the schema,
# error wording, the WebSocket's reconnect logic, pages): node's own test runner, a few seconds.
stage_web() {
  mkdir -p "$LOG_DIR"
  local rc=0 pass fail
  node --test "$SOURCE_DIR/tests/web/" 2>&1 | tee "$LOG_DIR/web.log" || rc=$?
  pass="$(sed -nE 's/^# pass ([0-9]+)$/\1/p' "$LOG_DIR/web.log" | tail -n 1)"
  fail="$(sed -nE 's/^# fail ([0-9]+)$/\1/p' "$LOG_DIR/web.log" | tail -n 1)"
  if [[ -z "$pass" || "$pass" == 0 ]]; then say "web: node ran no test (rc=$rc)"; record web 0 1; return 0; fi
  ((rc == 0 || ${fail:-0} > 0)) || fail=1
  record web "$pass" "${fail:-0}"
}

# The browser test of the web UI: Playwright driving Debian's Chromium against a real one-host
# mesh (tests/browser/run.sh; screenshots in build/screenshots/). deps.sh installs chromium and
# node, so a "skipped" (77) here is a failure, not a pass. DOCKMESH_TEST_BROWSER=0 skips the stage.
stage_browser() {
  [[ "${DOCKMESH_TEST_BROWSER:-1}" == "1" ]] || { say "browser: skipped (DOCKMESH_TEST_BROWSER=0)"; return 0; }
  mkdir -p "$LOG_DIR"
  local rc=0
  DM_BUILD_DIR="$BUILD_DIR" DM_SOURCE_DIR="$SOURCE_DIR" "$SOURCE_DIR/tests/browser/run.sh" \
    2>&1 | tee "$LOG_DIR/browser.log" || rc=$?  # pipefail: run.sh's own status
  if ((rc == 0)); then record browser 1 0; else say "browser: failed (rc=$rc)"; record browser 0 1; fi
}

# The Debian packages from build/: lintian, systemd-analyze, an install into a clean Debian chroot
# that runs a mesh, an upgrade, and the Ansible playbook against three chroots (scripts/
# package_test.sh). The first run on a machine downloads ~100 MB for debootstrap (cached in
# /var/cache/dockmesh-pkgtest). DOCKMESH_TEST_PACKAGE=0 skips.
stage_package() {
  [[ "${DOCKMESH_TEST_PACKAGE:-1}" == "1" ]] || { say "package: skipped (DOCKMESH_TEST_PACKAGE=0)"; return 0; }
  mkdir -p "$LOG_DIR"
  local rc=0
  "$SOURCE_DIR/scripts/package_test.sh" "$BUILD_DIR" 2>&1 | tee "$LOG_DIR/package.log" || rc=$?
  if ((rc == 0)); then record package 1 0; else say "package: failed (rc=$rc)"; record package 0 1; fi
}

summary() {
  local elapsed=$((SECONDS - START))
  say "finished in ${elapsed}s$( ((${#FAILURES[@]})) && echo "; failing: ${FAILURES[*]}")"
  echo "summary: $PASSED passed, $FAILED failed"
}

# timed STAGE: runs stage_STAGE and prints how long it took (the figures the notes report).
timed() {
  local t0=$SECONDS rc=0
  "stage_$1" || rc=$?
  say "stage $1 took $((SECONDS - t0))s"
  return "$rc"
}

main() {
  cd "$SOURCE_DIR"
  if timed deps && timed build; then
    timed format
    timed ctest
    timed asan
    timed fuzz
    timed web
    timed browser
    timed package
  else
    ((FAILED > 0)) || record deps 0 1
  fi
  summary
  ((FAILED == 0))
}

main "$@"
