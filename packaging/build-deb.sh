#!/usr/bin/env bash
# Builds dockmesh_<version>_<arch>.deb from an existing build tree (default: build/):
# the four binaries, systemd units, example configuration, the web UI and the schemas.
#   packaging/build-deb.sh [BUILD_DIR] [OUT_DIR]
set -euo pipefail
SOURCE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="$(cd "${1:-$SOURCE_DIR/build}" && pwd)"
OUT_DIR="${2:-$BUILD_DIR}"
VERSION="$(sed -n 's/^project(dockmesh VERSION \([0-9.]*\).*/\1/p' "$SOURCE_DIR/CMakeLists.txt")"
ARCH="$(dpkg --print-architecture)"
STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT

for bin in dockmesh-broker dockmesh-agent dockmeshctl dockmesh-bridge; do
  [[ -x "$BUILD_DIR/bin/$bin" ]] || { echo "build-deb.sh: $BUILD_DIR/bin/$bin is missing; build first" >&2; exit 1; }
  install -D -m 0755 "$BUILD_DIR/bin/$bin" "$STAGE/usr/bin/$bin"
done
for unit in "$SOURCE_DIR"/packaging/systemd/*.service; do
  install -D -m 0644 "$unit" "$STAGE/lib/systemd/system/$(basename "$unit")"
done
for conf in "$SOURCE_DIR"/packaging/etc/*; do
  install -D -m 0644 "$conf" "$STAGE/etc/dockmesh/$(basename "$conf")"
done
install -d -m 0700 "$STAGE/etc/dockmesh/keys"
install -d "$STAGE/etc/dockmesh/templates"
if [[ -d "$SOURCE_DIR/ui-bridge/web" ]]; then
  mkdir -p "$STAGE/usr/share/dockmesh"
  cp -r "$SOURCE_DIR/ui-bridge/web" "$STAGE/usr/share/dockmesh/web"
fi
mkdir -p "$STAGE/usr/share/dockmesh/schemas" "$STAGE/usr/share/doc/dockmesh"
cp "$SOURCE_DIR"/schemas/*.json "$STAGE/usr/share/dockmesh/schemas/" 2>/dev/null || true
cp "$SOURCE_DIR/README.md" "$STAGE/usr/share/doc/dockmesh/"

mkdir -p "$STAGE/DEBIAN"
cat >"$STAGE/DEBIAN/control" <<CONTROL
Package: dockmesh
Version: $VERSION
Architecture: $ARCH
Maintainer: dockmesh developers <dockmesh@localhost>
Depends: libzmq5, librocksdb7.8, libcurl4, libsodium23, libboost-program-options1.74.0
Recommends: docker.io
Section: admin
Priority: optional
Description: per-host agent mesh for Docker
 An agent beside every dockerd, a ZeroMQ bus with CURVE through brokers that keep a
 directory in RocksDB and schedule containers, a UI bridge and an admin CLI.
CONTROL
cat >"$STAGE/DEBIAN/conffiles" <<CONFFILES
/etc/dockmesh/broker.conf
/etc/dockmesh/agent.conf
/etc/dockmesh/bridge.conf
/etc/dockmesh/authorized_keys
CONFFILES
cat >"$STAGE/DEBIAN/postinst" <<'POSTINST'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
  getent group dockmesh >/dev/null || addgroup --system dockmesh
  getent passwd dockmesh >/dev/null || adduser --system --ingroup dockmesh --home /var/lib/dockmesh --no-create-home dockmesh
  install -d -o dockmesh -g dockmesh -m 0750 /var/lib/dockmesh
  chgrp dockmesh /etc/dockmesh/keys && chmod 0750 /etc/dockmesh/keys
fi
exit 0
POSTINST
chmod 0755 "$STAGE/DEBIAN/postinst"
out="$OUT_DIR/dockmesh_${VERSION}_${ARCH}.deb"
dpkg-deb --root-owner-group --build "$STAGE" "$out" >/dev/null
echo "$out"
