#!/usr/bin/env bash
# shellcheck disable=SC2317 # the package list after "exit" is data, read by listed_packages
# deps.sh: installs every Debian package that building dockmesh, its tests and the quickstart
# need. Non-interactive; needs root (or sudo). Skips apt entirely when DOCKMESH_SKIP_DEPS=1, and
# skips `apt-get update` + install when every listed package is already installed.
#
# The package list is the block at the end of this file, after the __PACKAGES__ line: one or
# more package names per line, '#' starts a comment. To add a package, append a line.
set -euo pipefail

log() { echo "deps.sh: $*" >&2; }

if [[ "${DOCKMESH_SKIP_DEPS:-0}" == "1" ]]; then
  log "DOCKMESH_SKIP_DEPS=1: not installing packages"
  exit 0
fi

# Every word after the __PACKAGES__ marker, comments removed. Tolerates an appended
# "apt-get install -y pkg" line by dropping those words.
listed_packages() {
  sed -n '/^__PACKAGES__$/,$p' "${BASH_SOURCE[0]}" | tail -n +2 | sed 's/#.*//' |
    tr -s ' \t' '\n' | grep -vxE 'apt-get|apt|install|-y|' | sort -u
}

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }

main() {
  local pkgs=() missing=() p
  mapfile -t pkgs < <(listed_packages)
  # Node's own builds ship npm inside the nodejs package; Debian's npm would conflict with them.
  command -v npm >/dev/null || pkgs+=(npm)
  for p in "${pkgs[@]}"; do installed "$p" || missing+=("$p"); done
  if ((${#missing[@]} == 0)); then
    log "all ${#pkgs[@]} packages already installed"
    return 0
  fi
  local sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null || { log "error: need root (or sudo) to install: ${missing[*]}"; exit 1; }
    sudo=(sudo)
  fi
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" apt-get install -y -q -o Dpkg::Use-Pty=0 "${missing[@]}"
}

main "$@"
exit 0

__PACKAGES__
# build
cmake g++ make pkg-config git
libzmq3-dev cppzmq-dev libmsgpack-cxx-dev librocksdb-dev nlohmann-json3-dev
libboost-dev libboost-program-options-dev libcurl4-openssl-dev doctest-dev libsodium-dev
libvalijson-dev libsystemd-dev
# sanitizer and fuzz builds; scripts/format.sh
clang-14 libclang-rt-14-dev clang-format-14
# running a mesh and the integration tests (etcd: several brokers, --brokers N)
docker.io containerd runc busybox-static docker-registry
python3 python3-zmq python3-msgpack python3-jsonschema
# the Docker-compatible endpoint's test drives it with the stock SDK
python3-docker
etcd-server etcd-client
curl iproute2 procps util-linux ca-certificates
# Debian packages (CPack, dpkg-shlibdeps) and their tests: chroot install, lintian, Ansible
dpkg-dev debootstrap lintian ansible
# metrics: promtool check metrics|rules and a real Prometheus (tests/integration/test_metrics.py)
prometheus
# benchmarks and the browser test
wrk hyperfine chromium nodejs
# the web console's terminal: xterm.js, bundled at build time (ui-bridge/web_bundle.cmake)
node-xterm
