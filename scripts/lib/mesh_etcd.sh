# shellcheck shell=bash
# mesh_etcd.sh: the etcd half of scripts/mesh.sh (sourced, not run). With --brokers N (N > 1)
# the brokers agree through a three-member etcd cluster on loopback: member k (1..3) has its data
# in DIR/etcd<k>, its client port at BASE_PORT+12+2(k-1) and its peer port one above. Fast raft
# timing (50 ms heartbeat, 500 ms election) lets a broker's 1 s leader lease be honoured (etcd's
# shortest lease is 1.5 election timeouts). Uses DIR, BASE_PORT, TIMEOUT and mesh.sh's helpers.

ETCD_MEMBERS=3

etcd_client_port() { echo $((BASE_PORT + 12 + 2 * ($1 - 1))); }
etcd_peer_port() { echo $((BASE_PORT + 13 + 2 * ($1 - 1))); }

# Comma-separated client URLs of every member (what brokers get as --etcd); etcd_client_urls I:
# as broker I reaches them (the root end of the veth pair for the broker of --broker-netns).
etcd_client_urls() {
  local k urls=() host=127.0.0.1
  [[ -n "${1:-}" && -n "$NETNS_BROKER" && "$1" == "$NETNS_BROKER" ]] && host="$(netns_address 1)"
  for ((k = 1; k <= ETCD_MEMBERS; k++)); do urls+=("http://$host:$(etcd_client_port "$k")"); done
  local IFS=,
  echo "${urls[*]}"
}

etcd_ports() {
  local k
  for ((k = 1; k <= ETCD_MEMBERS; k++)); do etcd_client_port "$k"; etcd_peer_port "$k"; done
}

start_etcd() {
  command -v etcd >/dev/null || die "etcd not found; install etcd-server (scripts/deps.sh)"
  local k cluster=() token
  for ((k = 1; k <= ETCD_MEMBERS; k++)); do cluster+=("etcd$k=http://127.0.0.1:$(etcd_peer_port "$k")"); done
  token="dockmesh-$(basename "$DIR")"
  for ((k = 1; k <= ETCD_MEMBERS; k++)); do
    local client="http://127.0.0.1:$(etcd_client_port "$k")" peer="http://127.0.0.1:$(etcd_peer_port "$k")"
    local listen="$client"
    [[ -n "$NETNS_BROKER" ]] && listen+=",http://$(netns_address 1):$(etcd_client_port "$k")"
    mkdir -p "$DIR/etcd$k"
    local state=new
    [[ -d "$DIR/etcd$k/data/member" ]] && state=existing
    start_process "etcd$k" etcd --name "etcd$k" --data-dir "$DIR/etcd$k/data" \
      --listen-client-urls "$listen" --advertise-client-urls "$client" \
      --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
      --initial-cluster "$(IFS=,; echo "${cluster[*]}")" --initial-cluster-state "$state" \
      --initial-cluster-token "$token" --heartbeat-interval 50 --election-timeout 500
  done
  wait_etcd_healthy
}

# Until every member answers /health with "true".
wait_etcd_healthy() {
  local deadline=$((SECONDS + TIMEOUT)) k ok
  while :; do
    ok=1
    for ((k = 1; k <= ETCD_MEMBERS; k++)); do
      check_alive "etcd$k"
      curl -s --max-time 1 "http://127.0.0.1:$(etcd_client_port "$k")/health" | grep -q '"health":"true"' || ok=0
    done
    ((ok)) && return 0
    if ((SECONDS >= deadline)); then
      echo "mesh.sh: error: etcd is not healthy after ${TIMEOUT}s; log tail:" >&2
      tail -n 20 "$DIR/logs/etcd1.log" >&2 || true
      exit 1
    fi
    sleep 0.1
  done
}

stop_etcd() {
  local k names=()
  for ((k = 1; k <= ETCD_MEMBERS; k++)); do names+=("etcd$k"); done
  stop_group "${names[@]}"
}
