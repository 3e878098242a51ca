# shellcheck shell=bash
# mesh_netns.sh: one broker in a network namespace of its own, so that a test can cut it off from
# etcd, the agents, the bridge and the CLI as a real partition would (sourced by scripts/mesh.sh,
# not run). With `--broker-netns I`, broker I runs in the namespace dm<base port>, reached over a
# veth pair: the root end dm<base port>r holds 10.253.A.B+1/30, the namespace end dm<base port>n
# holds 10.253.A.B+2/30 (A.B derived from the base port). Broker I binds and is reached on the
# namespace address; etcd also listens on the root address so that broker I reaches it. Every
# other daemon stays on 127.0.0.1. `mesh.sh partition` sets the root end down (no packet passes
# either way: established TCP connections stall, new ones time out), `mesh.sh heal` sets it up
# again. DIR/netns records "NAME ROOT_IP NS_IP BROKER" for `down`, `partition` and the tests.
# Needs root (ip netns); every name and address is this mesh's own.

NETNS_BROKER=""  # --broker-netns I

netns_name() { echo "dm$BASE_PORT"; }
netns_root_if() { echo "dm${BASE_PORT}r"; }
netns_ns_if() { echo "dm${BASE_PORT}n"; }

# netns_address END: the root (1) or namespace (2) end's address; the /30 is picked from the base
# port, so two meshes on different base ports never share one.
netns_address() {
  local k=$((BASE_PORT % 16384))
  echo "10.253.$((k / 64)).$(((k % 64) * 4 + $1))"
}

# broker_host I: the address broker I binds and is reached on.
broker_host() {
  if [[ -n "$NETNS_BROKER" && "$1" == "$NETNS_BROKER" ]]; then netns_address 2; else echo 127.0.0.1; fi
}

# Reads DIR/netns (written by `up`) into NETNS_BROKER; true when this mesh has a namespace.
load_netns() {
  [[ -r "$DIR/netns" ]] || return 1
  NETNS_BROKER="$(cut -d' ' -f4 "$DIR/netns")"
  [[ -n "$NETNS_BROKER" ]]
}

check_netns_args() {
  [[ -z "$NETNS_BROKER" ]] && return 0
  if ! [[ "$NETNS_BROKER" =~ ^[1-3]$ ]] || ((NETNS_BROKER > BROKERS)); then
    die "--broker-netns must name one of the $BROKERS broker(s), got '$NETNS_BROKER'"
  fi
  ((BROKERS > 1)) || die "--broker-netns needs --brokers 2 or 3 (a lone broker cut off is a dead mesh)"
  (($(id -u) == 0)) || die "--broker-netns needs root (ip netns)"
  command -v nsenter >/dev/null || die "--broker-netns needs nsenter (util-linux)"
}

# Creates the namespace and the veth pair; fails if the /30 overlaps a route of this machine.
setup_netns() {
  [[ -n "$NETNS_BROKER" ]] || return 0
  local name root_if ns_if root ns
  name="$(netns_name)"; root_if="$(netns_root_if)"; ns_if="$(netns_ns_if)"
  root="$(netns_address 1)"; ns="$(netns_address 2)"
  if ip route show match "$root" | grep -v '^default' | grep -q .; then
    die "--broker-netns: $root/30 overlaps a route of this machine; pick another --base-port"
  fi
  [[ -e "/var/run/netns/$name" ]] && die "network namespace $name exists already (another mesh on base port $BASE_PORT?)"
  ip netns add "$name"
  echo "$name $root $ns $NETNS_BROKER" >"$DIR/netns"
  ip link add "$root_if" type veth peer name "$ns_if"
  ip link set "$ns_if" netns "$name"
  ip addr add "$root/30" dev "$root_if"
  ip link set "$root_if" up
  ip netns exec "$name" ip addr add "$ns/30" dev "$ns_if"
  ip netns exec "$name" ip link set "$ns_if" up
  ip netns exec "$name" ip link set lo up
  note "broker $NETNS_BROKER in network namespace $name at $ns (root end $root_if, $root)"
}

# The command prefix that runs a program in broker I's namespace (nothing for the others).
netns_prefix() {
  if [[ -n "$NETNS_BROKER" && "$1" == "$NETNS_BROKER" ]]; then
    printf '%s\n' nsenter "--net=/var/run/netns/$(netns_name)"
  fi
}

# Removes the namespace (its veth pair goes with it). Safe when there is none.
teardown_netns() {
  [[ -r "$DIR/netns" ]] || return 0
  local name
  name="$(cut -d' ' -f1 "$DIR/netns")"
  [[ "$name" =~ ^dm[0-9]+$ ]] || die "$DIR/netns names '$name', not a mesh namespace"
  if [[ -e "/var/run/netns/$name" ]]; then ip netns del "$name"; fi
  rm -f "$DIR/netns"
}

# partition|heal: the root end of the veth pair down or up.
set_partition() {
  load_netns || die "this mesh has no broker in a namespace (mesh.sh up --broker-netns I)"
  local root_if state="$1"
  root_if="$(cut -d' ' -f1 "$DIR/netns")r"
  ip link set "$root_if" "$state"
  note "broker $NETNS_BROKER: link $root_if $state"
}
