# shellcheck shell=bash
# mesh_docker.sh: the dockerd half of scripts/mesh.sh (sourced, not run). Starts one private
# dockerd per simulated host, waits for /_ping, imports local/busybox:latest, and on `down`
# removes containers and cleans up what the dockerds leave behind. Uses DIR, HOSTS, TIMEOUT and
# the helpers of mesh.sh.

readonly BUSYBOX_APPLETS="sh ash sleep echo cat ls env true false ps id hostname pwd mkdir rm \
touch date uname wc head tail grep sed printf test kill yes seq nc wget top free df du"

check_tools() {
  local t
  for t in dockerd containerd runc curl setsid "$PY"; do
    command -v "$t" >/dev/null || die "'$t' not found; run scripts/deps.sh"
  done
  [[ -x /bin/busybox ]] || die "/bin/busybox not found; run scripts/deps.sh (busybox-static)"
}

# docker_api HOST_INDEX METHOD PATH [CURL ARGS...]: one Docker Engine API call over the unix
# socket; prints the body; fails on HTTP >= 400.
docker_api() {
  local i="$1" method="$2" path="$3"; shift 3
  curl -sS --fail-with-body --max-time "${DOCKER_API_TIMEOUT:-60}" \
    --unix-socket "$DIR/host$i/docker.sock" -X "$method" "$@" "http://docker$path"
}

start_dockerds() {
  local i
  for ((i = 1; i <= HOSTS; i++)); do start_dockerd "$i"; done
  for ((i = 1; i <= HOSTS; i++)); do wait_dockerd "$i"; done
  make_busybox_tar
  for ((i = 1; i <= HOSTS; i++)); do import_busybox "$i"; done
}

start_dockerd() {
  local i="$1" h="$DIR/host$1"
  mkdir -p "$h/data" "$h/exec"
  rm -f "$h/docker.sock" "$h/dockerd.pid"
  # The containerd namespaces only matter if dockerd finds a system containerd at
  # /run/containerd/containerd.sock and shares it: they keep each host's containers apart.
  start_process "dockerd-host$i" dockerd \
    --host "unix://$h/docker.sock" --data-root "$h/data" --exec-root "$h/exec" \
    --pidfile "$h/dockerd.pid" --bridge=none --iptables=false --ip-masq=false \
    --containerd-namespace "dm${BASE_PORT}h$i" --containerd-plugins-namespace "dm${BASE_PORT}h${i}p"
}

wait_dockerd() {
  local i="$1" deadline=$((SECONDS + TIMEOUT))
  until [[ "$(curl -s --max-time 2 --unix-socket "$DIR/host$i/docker.sock" http://docker/_ping 2>/dev/null)" == "OK" ]]; do
    check_alive "dockerd-host$i"
    if ((SECONDS >= deadline)); then
      echo "mesh.sh: error: dockerd for host$i did not answer /_ping within ${TIMEOUT}s; last lines of $DIR/logs/dockerd-host$i.log:" >&2
      tail -n 30 "$DIR/logs/dockerd-host$i.log" >&2 || true
      exit 1
    fi
    sleep 0.1
  done
}

# A root filesystem holding only Debian's static busybox and links to its applets.
make_busybox_tar() {
  local root="$DIR/busybox-rootfs" a
  [[ -s "$DIR/busybox.tar" ]] && return 0
  rm -rf "$root"
  mkdir -p "$root/bin" "$root/tmp" "$root/etc"
  cp /bin/busybox "$root/bin/busybox"
  for a in $BUSYBOX_APPLETS; do ln -sf busybox "$root/bin/$a"; done
  echo "root:x:0:0:root:/:/bin/sh" >"$root/etc/passwd"
  tar -C "$root" -cf "$DIR/busybox.tar" .
  rm -rf "$root"
}

import_busybox() {
  local i="$1" out
  out="$(docker_api "$i" POST "/images/create?fromSrc=-&repo=local/busybox&tag=latest" \
    -H 'Content-Type: application/x-tar' --data-binary "@$DIR/busybox.tar" 2>&1)" ||
    die "importing local/busybox:latest into host$i failed: $out"
  docker_api "$i" GET /images/local/busybox:latest/json >/dev/null ||
    die "local/busybox:latest missing on host$i after import"
}

# Force-removes every container of host I's dockerd (if it is still answering).
remove_all_containers() {
  local i="$1" ids id
  [[ -S "$DIR/host$i/docker.sock" ]] || return 0
  ids="$(docker_api "$i" GET "/containers/json?all=1" 2>/dev/null |
    "$PY" -c 'import json,sys; [print(c["Id"]) for c in json.load(sys.stdin)]' 2>/dev/null)" || return 0
  for id in $ids; do
    docker_api "$i" DELETE "/containers/$id?force=1&v=1" >/dev/null 2>&1 ||
      note "warning: could not remove container $id on host$i"
  done
}

# Anything our dockerds spawned that outlived them (containerd, shims).
stop_strays() {
  local pids
  mapfile -t pids < <(stray_pids)
  ((${#pids[@]})) || return 0
  note "stopping leftover processes from $DIR: ${pids[*]}"
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait_gone "$STOP_DEADLINE" "${pids[@]}" && return 0
  for p in "${pids[@]}"; do pid_is_ours "$p" && kill -KILL "$p" 2>/dev/null; done
  wait_gone 5 "${pids[@]}" || note "warning: leftover processes survived SIGKILL: ${pids[*]}"
}

# A dockerd that was SIGKILLed can leave overlay or shm mounts under its data/exec roots.
unmount_leftovers() {
  local m
  mapfile -t m < <(awk -v d="$DIR/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r)
  for mp in "${m[@]}"; do umount -l "$mp" 2>/dev/null || note "warning: could not unmount $mp"; done
}
