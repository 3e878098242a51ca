#!/usr/bin/env bash
# package_test.sh: the Debian packages, tested as an admin would use them.
#
#   scripts/package_test.sh [BUILD_DIR] [STAGE...]    stages: debs lintian units install upgrade ansible
#
# BUILD_DIR (default build/) must be built. Stages, each a function below:
#   debs     cpack: four .deb and four -dbgsym .ddeb in BUILD_DIR/packages/; binaries stripped
#   lintian  lintian on every .deb: no errors, no warnings
#   units    systemd-analyze verify and `security --offline` (< 5) on every unit
#   install  a clean bookworm chroot (debootstrap, cached: scripts/lib/pkg_chroot.sh) gets all four
#            packages; broker, bridge and agent run from their units' ExecStart lines in a network
#            namespace of their own; the agent reaches a private dockerd, registers, and a
#            container created through the mesh runs there
#   upgrade  install release N, make state, edit a conffile, install N+1: both survive
#   ansible  tests/package/ansible_test.sh: the playbook against three chroots, twice (changed=0)
# Prints "package: N passed, N failed" last; exit status non-zero on any failure. Root only.
set -euo pipefail

SOURCE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly SOURCE_DIR
BUILD_DIR="$(cd "${1:-$SOURCE_DIR/build}" && pwd)"
readonly BUILD_DIR
shift || true
readonly PKG_DIR="$BUILD_DIR/packages"
WORK="$(mktemp -d /tmp/dmpkg.XXXXXX)"
readonly WORK
NETNS="dmpkg-$$"
PASSED=0
FAILED=0

die() { echo "package_test.sh: error: $*" >&2; exit 1; }
note() { echo "package_test.sh: $*" >&2; }
# shellcheck source=scripts/lib/pkg_chroot.sh
source "$SOURCE_DIR/scripts/lib/pkg_chroot.sh"
# shellcheck source=tests/package/install_checks.sh
source "$SOURCE_DIR/tests/package/install_checks.sh"

cleanup() {
  local pid
  set +e
  for pid in $(cat "$WORK"/*.pid 2>/dev/null); do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in $(cat "$WORK"/*.pid 2>/dev/null); do wait_pid_gone "$pid" 10 || kill -KILL "$pid" 2>/dev/null || true; done
  [[ -d "$WORK/mesh" ]] && "$SOURCE_DIR/scripts/mesh.sh" down --dir "$WORK/mesh" --purge >/dev/null 2>&1
  for r in "$WORK"/root*; do chroot_remove "$r"; done
  ip netns del "$NETNS" 2>/dev/null || true
  ip netns del "dmpkg-$$-u" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# check NAME FUNCTION: runs one stage in a subshell with errexit in force (called from `if` it
# would run without it), counts it.
check() {
  local name="$1" t0=$SECONDS rc
  set +e
  ( set -e; "$2" )
  rc=$?
  set -e
  if ((rc == 0)); then
    PASSED=$((PASSED + 1)); note "PASS $name ($((SECONDS - t0)) s)"
  else
    FAILED=$((FAILED + 1)); note "FAIL $name ($((SECONDS - t0)) s)"
  fi
}

stage_debs() {
  rm -rf "$PKG_DIR"
  cpack --config "$BUILD_DIR/CPackConfig.cmake" -B "$PKG_DIR" >"$WORK/cpack.log" 2>&1 ||
    { tail -30 "$WORK/cpack.log" >&2; return 1; }
  check_debs "$PKG_DIR"
}

# Lintian clean: no error and no warning (tags that do not apply are overridden, each with its
# reason, in packaging/debian/lintian-overrides/).
stage_lintian() {
  lintian --fail-on error,warning \
    "$PKG_DIR"/*.deb | tee "$WORK/lintian.log" >&2
}

stage_units() {
  check_units "$SOURCE_DIR/packaging/systemd"
}

stage_install() {
  chroot_base_tarball
  ip netns add "$NETNS"
  ip netns exec "$NETNS" ip link set lo up
  MESH_TIMEOUT=120 "$SOURCE_DIR/scripts/mesh.sh" up --docker-only --hosts 1 --dir "$WORK/mesh" \
    --base-port $((20000 + $$ % 20000)) >"$WORK/mesh.log" 2>&1 || { tail -20 "$WORK/mesh.log" >&2; return 1; }
  check_install "$WORK/root-install" "$WORK/mesh/host1/docker.sock"
}

stage_upgrade() {
  chroot_base_tarball
  check_upgrade "$WORK/root-upgrade"
}

stage_ansible() {
  "$SOURCE_DIR/tests/package/ansible_test.sh" "$PKG_DIR"
}

main() {
  ((EUID == 0)) || die "needs root (chroot, mount, ip netns)"
  local stages=("$@")
  ((${#stages[@]})) || stages=(debs lintian units install upgrade ansible)
  for s in "${stages[@]}"; do
    note "stage $s"
    check "$s" "stage_$s"
  done
  echo "package: $PASSED passed, $FAILED failed"
  ((FAILED == 0))
}

main "$@"
