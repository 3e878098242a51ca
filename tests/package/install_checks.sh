# install_checks.sh: the checks of scripts/package_test.sh (sourced there): what the packages
# contain, their units, an install into a clean chroot that runs a mesh, and an upgrade.
# Uses: PKG_DIR, WORK, NETNS, SOURCE_DIR, die, note, and scripts/lib/pkg_chroot.sh.

readonly DM_IMAGE=local/busybox:latest

# wait_pid_gone PID SECONDS
wait_pid_gone() {
  local deadline=$((SECONDS + $2))
  while kill -0 "$1" 2>/dev/null; do ((SECONDS < deadline)) || return 1; sleep 0.1; done
}

# poll SECONDS WHAT COMMAND...: retries COMMAND until it succeeds or the deadline passes.
poll() {
  local deadline=$((SECONDS + $1)) what="$2"; shift 2
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { note "timed out waiting for $what"; return 1; }
    sleep 0.2
  done
}

debs() { ls "$PKG_DIR"/dockmesh-*.deb; }

# ---------------------------------------------------------------- contents

check_debs() {
  local dir="$1" p f
  for p in agent broker bridge cli; do
    f="$(ls "$dir"/dockmesh-${p}_*.deb)" || { note "no dockmesh-$p .deb"; return 1; }
    ls "$dir"/dockmesh-${p}-dbgsym_*.ddeb >/dev/null || { note "no dockmesh-$p-dbgsym .ddeb"; return 1; }
    note "$(basename "$f"): $(du -k "$f" | cut -f1) KiB; Depends: $(dpkg-deb -f "$f" Depends)"
  done
  local x="$WORK/contents"
  rm -rf "$x"; mkdir -p "$x"
  dpkg-deb -x "$(ls "$dir"/dockmesh-agent_*.deb)" "$x"
  file "$x/usr/bin/dockmesh-agent" | grep -q ', stripped' || { note "dockmesh-agent is not stripped"; return 1; }
  dpkg-deb -f "$(ls "$dir"/dockmesh-agent_*.deb)" Depends | grep -q 'libzmq5' ||
    { note "dockmesh-agent's Depends lacks libzmq5 (shlibdeps)"; return 1; }
  dpkg-deb -f "$(ls "$dir"/dockmesh-agent_*.deb)" Depends | grep -q 'dockmesh-cli (=' ||
    { note "dockmesh-agent does not depend on dockmesh-cli"; return 1; }
  dpkg-deb --ctrl-tarfile "$(ls "$dir"/dockmesh-agent_*.deb)" | tar -xO ./conffiles |
    grep -x /etc/dockmesh/agent.conf >/dev/null || { note "agent.conf is not a conffile"; return 1; }
  # The console as built: the bridge's package carries xterm.js, bundled at build time.
  # Listings go to a variable first: `dpkg-deb -c | grep -q` fails under pipefail whenever grep
  # stops reading before dpkg-deb has written everything (dpkg-deb dies of SIGPIPE).
  local listing
  listing="$(dpkg-deb -c "$(ls "$dir"/dockmesh-bridge_*.deb)")"
  grep -q '/usr/share/dockmesh/web/vendor/xterm.js$' <<<"$listing" ||
    { note "dockmesh-bridge lacks the console's vendor/xterm.js"; return 1; }
  # The debug symbols are in the -dbgsym package, found by build id.
  local id
  id="$(readelf -n "$x/usr/bin/dockmesh-agent" | sed -n 's/.*Build ID: //p')"
  listing="$(dpkg-deb -c "$(ls "$dir"/dockmesh-agent-dbgsym_*.ddeb)")"
  grep -q "usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug" <<<"$listing" ||
    { note "no debug file for build id $id in dockmesh-agent-dbgsym"; return 1; }
}

# ---------------------------------------------------------------- units

# check_units DIR: systemd-analyze rates every unit below 5 ("security --offline" reads the file
# alone). verify needs the binaries installed: check_install runs it inside the chroot.
check_units() {
  local dir="$1" u score ok=0
  for u in "$dir"/*.service; do
    score="$(systemd-analyze security --offline=true --no-pager "$u" 2>/dev/null |
      sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')"
    note "systemd-analyze security $(basename "$u"): ${score:-none}"
    [[ -n "$score" ]] && awk -v s="$score" 'BEGIN { exit !(s < 5) }' || ok=1
  done
  return $ok
}

verify_units_in() {
  local root="$1" u ok=0 out
  # The chroot has neither systemd's own units nor docker.service (the agent's dependency): verify
  # sees this machine's (systemd and docker.io are installed here), the chroot's files winning.
  cp -rn /lib/systemd/system/. "$root/lib/systemd/system/"
  for u in dockmesh-agent dockmesh-broker dockmesh-bridge; do
    out="$(systemd-analyze verify --root="$root" "/lib/systemd/system/$u.service" 2>&1)" || { note "verify $u: $out"; ok=1; }
    [[ -z "$out" ]] || { note "verify $u: $out"; ok=1; }
  done
  return $ok
}

# ---------------------------------------------------------------- install

ctl() { # ROOT ARGS...: dockmeshctl as root inside the chroot, with its packaged configuration
  local root="$1"; shift
  ip netns exec "$NETNS" chroot "$root" dockmeshctl --timeout 3000 "$@"
}

host_is_up() { # ROOT FQDN
  ctl "$1" hosts | /usr/bin/python3 -c '
import json, sys
hosts = json.load(sys.stdin)
hosts = hosts.get("hosts", hosts) if isinstance(hosts, dict) else hosts
sys.exit(0 if any(h.get("fqdn") == sys.argv[1] and h.get("status") == "up" for h in hosts) else 1)' "$2"
}

start_unit() { # ROOT UNIT NAME
  chroot_run_unit "$1" "$NETNS" "$2" "$WORK/$3.log" >"$WORK/$3.pid"
}

alive() { kill -0 "$(cat "$WORK/$1.pid")" 2>/dev/null || { note "$1 exited:"; tail -20 "$WORK/$1.log" >&2; return 1; }; }

# mode_is ROOT PATH MODE OWNER:GROUP: PATH inside the chroot ROOT (names from its /etc/passwd)
mode_is() {
  local got
  got="$(chroot "$1" stat -c '%a %U:%G' "$2")"
  [[ "$got" == "$3 $4" ]] || { note "$2 is $got, expected $3 $4"; return 1; }
}

# prepare_chroot ROOT SOCKET: a fresh chroot whose /run/docker.sock is SOCKET (a bind mount),
# with a docker group owning it, as on a Docker host.
prepare_chroot() {
  local root="$1" sock="$2"
  chroot_new "$root"
  touch "$root/run/docker.sock"
  mount --bind "$sock" "$root/run/docker.sock"
  chroot "$root" groupadd --system docker
  chgrp "$(chroot "$root" getent group docker | cut -d: -f3)" "$sock"
  chmod 0660 "$sock"
}

check_layout() {
  local root="$1"
  mode_is "$root" "/etc/dockmesh/keys" 750 root:dockmesh &&
    mode_is "$root" "/etc/dockmesh/keys/agent.key" 640 root:dockmesh &&
    mode_is "$root" "/etc/dockmesh/keys/broker.key" 640 root:dockmesh &&
    mode_is "$root" "/etc/dockmesh/keys/bridge.key" 640 root:dockmesh &&
    mode_is "$root" "/etc/dockmesh/keys/admin.key" 600 root:root &&
    mode_is "$root" "/etc/dockmesh/keys/broker.pub" 644 root:root &&
    mode_is "$root" "/etc/dockmesh/authorized_keys" 640 root:dockmesh &&
    mode_is "$root" "/var/lib/dockmesh/broker" 750 dockmesh:dockmesh &&
    mode_is "$root" "/var/lib/dockmesh/bridge" 700 dockmesh:dockmesh
}

# run_mesh ROOT: broker, bridge and agent from their units; the agent registers; a container
# created through the mesh runs on the private dockerd. Prints the agent's fqdn.
run_mesh() {
  local root="$1" fqdn pw post
  start_unit "$root" dockmesh-broker.service broker
  poll 30 "the broker" ctl "$root" hosts || { alive broker; return 1; }
  start_unit "$root" dockmesh-bridge.service bridge
  poll 30 "the bridge's admin password" test -s "$root/var/lib/dockmesh/bridge/admin.password" || { alive bridge; return 1; }
  # The unit's ExecStartPost (run by systemd with full privileges) hands the file to root.
  post="$(unit_field "$root" dockmesh-bridge.service ExecStartPost)"
  chroot "$root" /bin/sh -c "${post#+}" || return 1
  mode_is "$root" "/var/lib/dockmesh/bridge/admin.password" 600 root:root || return 1
  pw="$(cat "$root/var/lib/dockmesh/bridge/admin.password")"
  if grep -qF "$pw" "$WORK/bridge.log"; then note "the admin password is in the bridge's output"; return 1; fi
  # Enrollment as documented: a one-time join token in the unit's EnvironmentFile.
  local token
  token="$(ctl "$root" keys token create --ttl 600 | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')" || return 1
  install -m 0600 /dev/null "$root/etc/default/dockmesh-agent"
  echo "DOCKMESH_JOIN_TOKEN=$token" >"$root/etc/default/dockmesh-agent"
  start_unit "$root" dockmesh-agent.service agent
  fqdn="$(chroot "$root" hostname --fqdn 2>/dev/null || chroot "$root" hostname)"
  poll 30 "agent $fqdn up" host_is_up "$root" "$fqdn" || { alive agent; tail -5 "$WORK/broker.log" >&2; return 1; }
  local reply
  reply="$(ctl "$root" send --host "$fqdn" \
    "{\"action\":\"create-container\",\"image\":\"$DM_IMAGE\",\"name\":\"pkgtest\",\"cmd\":[\"sleep\",\"300\"],\"network_mode\":\"none\"}")" ||
    { note "create-container failed: $reply"; return 1; }
  curl -s --unix-socket "$root/run/docker.sock" http://docker/containers/pkgtest/json |
    /usr/bin/python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["State"]["Running"] else 1)' ||
    { note "container pkgtest is not running on the private dockerd"; return 1; }
  note "agent $fqdn registered; container pkgtest runs"
}

stop_daemons() {
  local n pid
  for n in agent bridge broker; do
    [[ -s "$WORK/$n.pid" ]] || continue
    pid="$(cat "$WORK/$n.pid")"
    kill -TERM "$pid" 2>/dev/null || true
    wait_pid_gone "$pid" 15 || { note "$n did not stop on SIGTERM"; kill -KILL "$pid"; return 1; }
    rm -f "$WORK/$n.pid"
  done
}

check_install() {
  local root="$1" sock="$2"
  prepare_chroot "$root" "$sock"
  chroot_install "$root" $(debs) >"$WORK/apt-install.log" 2>&1 || { tail -30 "$WORK/apt-install.log" >&2; return 1; }
  check_layout "$root" || return 1
  verify_units_in "$root" || return 1
  run_mesh "$root" || return 1
  stop_daemons
}

# ---------------------------------------------------------------- upgrade

key_state() { # ROOT PUBLIC_KEY: the broker's state of that key
  ctl "$1" keys list | /usr/bin/python3 -c '
import json, sys
keys = json.load(sys.stdin)
keys = keys.get("keys", keys) if isinstance(keys, dict) else keys
print(next((k["state"] for k in keys if k["public_key"] == sys.argv[1]), "absent"))' "$2"
}

bridge_user() { # ROOT ARGS...: `dockmesh-bridge user ...` as the bridge's user
  chroot --userspec=dockmesh:dockmesh "$1" dockmesh-bridge user "${@:2}" --data-dir /var/lib/dockmesh/bridge
}

# check_upgrade ROOT: release N installed, state made (a key revoked in the broker's RocksDB, a
# bridge user, an edited conffile), release N+1 installed over it: all of it is still there.
check_upgrade() {
  local root="$1" n1="$WORK/n1" n2="$WORK/n2" bridge_pub broker_key ok=0
  rm -rf "$n1" "$n2"
  mkdir -p "$n1" "$n2"
  cp $(debs) "$n1/"
  make_next_release "$n2" || return 1
  chroot_new "$root"
  chroot_install "$root" "$n1"/*.deb >"$WORK/apt-n1.log" 2>&1 || { tail -30 "$WORK/apt-n1.log" >&2; return 1; }
  NETNS="$NETNS-u"
  ip netns add "$NETNS" && ip netns exec "$NETNS" ip link set lo up
  bridge_pub="$(sed -n 's/^public-key = //p' "$root/etc/dockmesh/keys/bridge.key")"
  start_unit "$root" dockmesh-broker.service broker
  poll 30 "the broker" ctl "$root" hosts || { alive broker; return 1; }
  ctl "$root" keys revoke "$bridge_pub" >/dev/null || return 1
  [[ "$(key_state "$root" "$bridge_pub")" == revoked ]] || { note "revoke did not take"; return 1; }
  stop_daemons
  echo upgrade-pass-123 >"$root/var/tmp/pw"
  bridge_user "$root" add alice --password-file /var/tmp/pw >/dev/null || return 1
  echo "label = upgrade=kept" >>"$root/etc/dockmesh/agent.conf"
  broker_key="$(md5sum <"$root/etc/dockmesh/keys/broker.key")"

  chroot_install "$root" "$n2"/*.deb >"$WORK/apt-n2.log" 2>&1 || { tail -30 "$WORK/apt-n2.log" >&2; return 1; }
  chroot "$root" dpkg-query -W -f '${Version}\n' dockmesh-agent | grep -q -- '-2$' || { note "N+1 is not installed"; ok=1; }
  grep -qx 'label = upgrade=kept' "$root/etc/dockmesh/agent.conf" || { note "the edited agent.conf was replaced"; ok=1; }
  [[ "$(md5sum <"$root/etc/dockmesh/keys/broker.key")" == "$broker_key" ]] || { note "broker.key changed"; ok=1; }
  bridge_user "$root" list | grep -q alice || { note "bridge user alice is gone"; ok=1; }
  start_unit "$root" dockmesh-broker.service broker
  poll 30 "the broker after the upgrade" ctl "$root" hosts || { alive broker; return 1; }
  [[ "$(key_state "$root" "$bridge_pub")" == revoked ]] || { note "the revoked bridge key is not revoked after the upgrade"; ok=1; }
  stop_daemons
  ip netns del "$NETNS" 2>/dev/null || true
  return $ok
}

# make_next_release DIR: the packages again with Debian revision N+1 (nothing recompiled).
make_next_release() {
  local out="$1" cfg="$WORK/CPackConfig-next.cmake" rel
  rel="$(sed -n 's/^set(CPACK_DEBIAN_PACKAGE_RELEASE "\(.*\)")/\1/p' "$BUILD_DIR/CPackConfig.cmake")"
  sed -e "s/-$rel)/-$((rel + 1)))/g" \
      -e "s/^set(CPACK_DEBIAN_PACKAGE_RELEASE \"$rel\")/set(CPACK_DEBIAN_PACKAGE_RELEASE \"$((rel + 1))\")/" \
      "$BUILD_DIR/CPackConfig.cmake" >"$cfg"
  cpack --config "$cfg" -B "$WORK/cpack-next" >"$WORK/cpack-next.log" 2>&1 || { tail -20 "$WORK/cpack-next.log" >&2; return 1; }
  cp "$WORK/cpack-next"/dockmesh-*.deb "$out/"
}
