#!/usr/bin/env bash
# build_matrix.sh: builds the whole tree (every target, tests included) the ways a user or a
# packager would, with warnings as warnings (no -DDOCKMESH_WERROR), and fails if any build fails
# or prints a warning. Not part of scripts/test.sh: three cold builds take about an hour on a
# 2-core machine (figures in packaging/README.md).
#
#   scripts/build_matrix.sh [CONFIG...]      configs: release debian clang (default: all three)
#
#   release  g++, -DCMAKE_BUILD_TYPE=Release (-O3 -DNDEBUG)
#   debian   g++ with Debian's default flags as dh_auto_configure passes them: CXXFLAGS, CPPFLAGS
#            and LDFLAGS from `dpkg-buildflags` (DEB_BUILD_MAINT_OPTIONS=hardening=+all: -O2
#            -fstack-protector-strong -D_FORTIFY_SOURCE=2 -Wformat -Werror=format-security,
#            -Wl,-z,relro -Wl,-z,now), -DCMAKE_BUILD_TYPE=None
#   clang    clang++-14, RelWithDebInfo
# Trees go to build-matrix/<config>/ (DOCKMESH_MATRIX_DIR overrides), logs beside them. ccache is
# used when present (the CCACHE_* settings of the environment). DOCKMESH_JOBS: parallelism (2).
set -euo pipefail

SOURCE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly SOURCE_DIR
readonly ROOT="${DOCKMESH_MATRIX_DIR:-$SOURCE_DIR/build-matrix}"
readonly JOBS="${DOCKMESH_JOBS:-2}"
FAILED=0

say() { echo "build_matrix.sh: $*"; }

launcher() {
  command -v ccache >/dev/null && echo "-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"
  return 0
}

# config_args CONFIG: the cmake arguments of one configuration (and its environment, exported).
config_args() {
  case "$1" in
    release) echo "-DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=g++" ;;
    debian)
      export DEB_BUILD_MAINT_OPTIONS=hardening=+all
      CXXFLAGS="$(dpkg-buildflags --get CXXFLAGS) $(dpkg-buildflags --get CPPFLAGS)"
      LDFLAGS="$(dpkg-buildflags --get LDFLAGS)"
      export CXXFLAGS LDFLAGS
      echo "-DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_COMPILER=g++" ;;
    clang) echo "-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14" ;;
    *) echo "build_matrix.sh: unknown config '$1' (release, debian, clang)" >&2; return 1 ;;
  esac
}

# build CONFIG: configures and builds build-matrix/CONFIG from scratch; counts its warnings.
build() {
  local name="$1" dir="$ROOT/$1" log="$ROOT/$1.log" t0=$SECONDS rc=0 args warnings
  args="$(config_args "$name")" || return 1
  rm -rf "$dir"
  mkdir -p "$ROOT"
  # shellcheck disable=SC2046,SC2086 # word lists on purpose
  (cmake -S "$SOURCE_DIR" -B "$dir" $args $(launcher) -DDOCKMESH_WERROR=OFF &&
    cmake --build "$dir" -j"$JOBS") >"$log" 2>&1 || rc=$?
  warnings="$(grep -E ': warning: ' "$log" | sort -u | tee "$ROOT/$1.warnings" | wc -l)"
  say "$name: exit $rc, $warnings distinct warning(s), $((SECONDS - t0)) s (log: $log)"
  ((rc == 0)) || tail -n 30 "$log" >&2
  ((warnings == 0)) || head -n 20 "$ROOT/$1.warnings" >&2
  ((rc == 0 && warnings == 0))
}

main() {
  local configs=("$@") c
  ((${#configs[@]})) || configs=(release debian clang)
  for c in "${configs[@]}"; do
    (build "$c") || FAILED=$((FAILED + 1))
  done
  say "${#configs[@]} config(s), $FAILED failed"
  ((FAILED == 0))
}

main "$@"
