# shellcheck shell=bash
# asan_tree.sh: the one sanitized build tree that scripts/sanitize.sh and scripts/fuzz.sh share
# (sourced, not run; owned by the reliability tests). Building one tree instead of two (an ASan
# tree for the test suite, a clang tree for the fuzzers) saves a whole instrumented build in CI.
#
# With clang-14 (the normal case): ASan + UBSan (-DDOCKMESH_SANITIZE=ON), the libFuzzer targets
# (-DDOCKMESH_FUZZ=ON), every library instrumented with cheap edge counters for the fuzzers
# (inline-8bit-counters: the daemons built from the same libraries stay fast), -O1 with line
# tables (quick to compile, readable sanitizer stacks), asserts on. Without clang: the same tree
# with gcc and no fuzzers.
# Uses SOURCE_DIR; sets ASAN_TREE; DOCKMESH_ASAN_BUILD_DIR overrides its place.

ASAN_TREE="${DOCKMESH_ASAN_BUILD_DIR:-$SOURCE_DIR/build-asan}"

asan_tree_has_fuzzers() { command -v clang++-14 >/dev/null && command -v clang-14 >/dev/null; }

# configure_asan_tree: (re)configures ASAN_TREE; a tree configured with another compiler is
# wiped first (CMake cannot switch compilers in place).
configure_asan_tree() {
  local cxx=g++ cc=gcc args=()
  if asan_tree_has_fuzzers; then
    cxx=clang++-14 cc=clang-14
    args=(-DDOCKMESH_FUZZ=ON -DCMAKE_CXX_FLAGS="-fsanitize-coverage=inline-8bit-counters,pc-table"
      -DCMAKE_CXX_FLAGS_DEBUG="-O1 -gline-tables-only")
  else
    args=(-DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1")
  fi
  local cache="$ASAN_TREE/CMakeCache.txt"
  if [[ -f "$cache" ]] && ! grep -q "^CMAKE_CXX_COMPILER:[A-Z]*=.*/$cxx\$" "$cache"; then
    echo "asan tree: $ASAN_TREE was configured with another compiler; starting it afresh" >&2
    rm -rf "$ASAN_TREE"
  fi
  CC="$cc" CXX="$cxx" cmake -S "$SOURCE_DIR" -B "$ASAN_TREE" -DCMAKE_BUILD_TYPE=Debug \
    -DDOCKMESH_SANITIZE=ON "${args[@]}" >/dev/null
}
