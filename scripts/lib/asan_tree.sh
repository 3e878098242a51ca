# shellcheck shell=bash
# asan_tree.sh: how scripts/sanitize.sh and scripts/fuzz.sh configure their build trees (sourced,
# not run; owned by the reliability tests).
#
# build-asan/ (sanitize.sh): gcc, ASan + UBSan (-DDOCKMESH_SANITIZE=ON), everything built, -O1
#   with minimal debug info (quicker to compile than -O2 -g; sanitizer stacks stay readable),
#   asserts on. gcc because it is what the project is written against (clang-14 lacks some C++20,
#   e.g. lambdas capturing structured bindings; `scripts/build_matrix.sh clang` checks that the
#   whole tree, tests included, still builds with clang 14).
# build-fuzz/ (fuzz.sh): clang-14, ASan + UBSan + libFuzzer (-DDOCKMESH_FUZZ=ON), every library
#   instrumented for coverage (fuzzer-no-link); only the libraries and the fuzzers are built.
# Uses SOURCE_DIR; sets ASAN_TREE and FUZZ_TREE (DOCKMESH_ASAN_BUILD_DIR / DOCKMESH_FUZZ_BUILD_DIR
# override them).

ASAN_TREE="${DOCKMESH_ASAN_BUILD_DIR:-$SOURCE_DIR/build-asan}"
FUZZ_TREE="${DOCKMESH_FUZZ_BUILD_DIR:-$SOURCE_DIR/build-fuzz}"

have_clang14() { command -v clang++-14 >/dev/null && command -v clang-14 >/dev/null; }

# configure_tree DIR CC CXX CMAKE-ARGS...: a tree configured with another compiler is wiped first
# (CMake cannot switch compilers in place).
configure_tree() {
  local dir="$1" cc="$2" cxx="$3"; shift 3
  local cache="$dir/CMakeCache.txt"
  if [[ -f "$cache" ]] && ! grep -q "^CMAKE_CXX_COMPILER:[A-Z]*=.*/$cxx\$" "$cache"; then
    echo "$dir was configured with another compiler; starting it afresh" >&2
    rm -rf "$dir"
  fi
  CC="$cc" CXX="$cxx" cmake -S "$SOURCE_DIR" -B "$dir" -DCMAKE_BUILD_TYPE=Debug -DDOCKMESH_WERROR=ON "$@" >/dev/null
}

configure_asan_tree() {
  configure_tree "$ASAN_TREE" gcc g++ -DDOCKMESH_SANITIZE=ON -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1"
}

configure_fuzz_tree() {
  configure_tree "$FUZZ_TREE" clang-14 clang++-14 -DDOCKMESH_SANITIZE=ON -DDOCKMESH_FUZZ=ON \
    -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link" -DCMAKE_CXX_FLAGS_DEBUG="-O1 -gline-tables-only"
}
