# pkg_chroot.sh: clean Debian chroots for the package tests (sourced by scripts/package_test.sh
# and tests/package/*.sh). Needs: debootstrap, and the caller's die() and note().
#
# A minimal bookworm made by debootstrap from Debian's archive is cached as a tarball (first run
# ~100 MB download and ~90 s; later runs unpack it in seconds): DOCKMESH_CHROOT_CACHE, default
# /var/cache/dockmesh-pkgtest. It already holds the packages' run-time libraries and python3
# (Ansible's targets need it), so installing dockmesh there downloads nothing.

readonly CHROOT_CACHE="${DOCKMESH_CHROOT_CACHE:-/var/cache/dockmesh-pkgtest}"
readonly CHROOT_MIRROR="${DOCKMESH_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# The dockmesh packages' Depends (dpkg-shlibdeps), python3 for Ansible, procps for tests,
# etcd-server for the Ansible test's brokers (HA: one etcd member per broker host).
readonly CHROOT_INCLUDE="adduser,python3,python3-apt,procps,libzmq5,librocksdb7.8,libsodium23,\
libcurl4,libboost-program-options1.74.0,libsystemd0,libstdc++6,etcd-server"
CHROOT_TARBALL="$CHROOT_CACHE/bookworm-$(echo "$CHROOT_INCLUDE" | md5sum | cut -c1-8).tar"
readonly CHROOT_TARBALL

# chroot_base_tarball: makes the cached tarball unless it exists.
chroot_base_tarball() {
  [[ -s "$CHROOT_TARBALL" ]] && return 0
  command -v debootstrap >/dev/null || die "debootstrap not found; run scripts/deps.sh"
  local tmp="$CHROOT_CACHE/root.$$"
  mkdir -p "$CHROOT_CACHE"
  rm -rf "$tmp"
  note "debootstrap bookworm into $tmp (cached as $CHROOT_TARBALL)"
  debootstrap --variant=minbase --include="$CHROOT_INCLUDE" bookworm "$tmp" "$CHROOT_MIRROR" \
    >"$CHROOT_CACHE/debootstrap.log" 2>&1 || { tail -20 "$CHROOT_CACHE/debootstrap.log" >&2; die "debootstrap failed"; }
  rm -rf "$tmp"/var/cache/apt/archives/*.deb
  tar -C "$tmp" -cf "$CHROOT_TARBALL.part" . && mv "$CHROOT_TARBALL.part" "$CHROOT_TARBALL"
  rm -rf "$tmp"
}

# chroot_new DIR: a fresh chroot in DIR (which must not exist), /proc and /dev/pts mounted.
chroot_new() {
  local root="$1"
  mkdir -p "$root"
  tar -C "$root" -xf "$CHROOT_TARBALL"
  mount -t proc proc "$root/proc"
  # Daemons must not start from maintainer scripts in a chroot (policy-rc.d, as Debian's tools do).
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 0755 "$root/usr/sbin/policy-rc.d"
}

# chroot_remove DIR: unmounts everything under DIR, then deletes it.
chroot_remove() {
  local root="$1" m
  [[ -d "$root" ]] || return 0
  mapfile -t m < <(awk -v d="$root/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r)
  for mp in "${m[@]}"; do umount -l "$mp" 2>/dev/null || note "warning: could not unmount $mp"; done
  rm -rf --one-file-system "$root"
}

# chroot_install DIR DEB...: installs .deb files with apt (dependencies from the chroot's cache
# or, if missing there, Debian's archive).
chroot_install() {
  local root="$1"; shift
  local debs=() d
  mkdir -p "$root/var/tmp/debs"
  for d in "$@"; do cp "$d" "$root/var/tmp/debs/"; debs+=("/var/tmp/debs/$(basename "$d")"); done
  chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    -o Dpkg::Use-Pty=0 -o Dpkg::Options::=--force-confold "${debs[@]}"
}

# unit_field DIR UNIT KEY: the value of KEY= in an installed unit file (first occurrence).
unit_field() {
  sed -n "s/^$3=//p" "$1/lib/systemd/system/$2" | head -n 1
}

# chroot_run_unit DIR NETNS UNIT LOG: runs a unit's ExecStart line inside DIR as the unit's
# User=, Group= and SupplementaryGroups=, with its EnvironmentFile= if present, in network
# namespace NETNS, in the background; prints the pid. systemd is not PID 1 here, so the sandbox
# settings are checked by systemd-analyze, not applied.
chroot_run_unit() {
  local root="$1" ns="$2" unit="$3" log="$4" cmd user group groups envfile uid gid
  cmd="$(unit_field "$root" "$unit" ExecStart)"
  user="$(unit_field "$root" "$unit" User)"
  group="$(unit_field "$root" "$unit" Group)"
  groups="$(unit_field "$root" "$unit" SupplementaryGroups)"
  envfile="$(unit_field "$root" "$unit" EnvironmentFile)"
  uid="$(chroot "$root" id -u "$user")" || die "$unit: no user $user in $root"
  gid="$(chroot "$root" getent group "$group" | cut -d: -f3)"
  local spec=(--userspec="$uid:$gid")
  if [[ -n "$groups" ]]; then spec+=(--groups="$gid,$(chroot "$root" getent group "$groups" | cut -d: -f3)"); fi
  envfile="${envfile#-}"
  # shellcheck disable=SC2086 # ExecStart is a word list, as systemd splits it
  setsid ip netns exec "$ns" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    $( [[ -n "$envfile" && -f "$root$envfile" ]] && grep -E '^[A-Z_]+=' "$root$envfile" ) \
    chroot "${spec[@]}" "$root" $cmd </dev/null >>"$log" 2>&1 &
  echo $!
}
