#!/usr/bin/env bash
# bench/run.sh: every dockmesh benchmark, side by side with its baseline, in one bounded run
# (about 16 minutes, loopback only). Prints one line per figure -- name, value, baseline, ratio,
# target, PASS/FAIL/info -- and at the end the same figures as a Markdown table (also written to
# --markdown FILE). Starts its own broker(s), simulated agents and a throw-away mesh
# (scripts/mesh.sh: private dockerd, agent, bridge) and stops all of it on exit, even on Ctrl-C.
#
#   bench/run.sh [--build-dir DIR] [--only broker,bulk,forward,mesh,dockerapi,scale,ha,streams,console,history,reconcile]
#                [--quick]
#                [--markdown FILE]
#                [--nice N]
#
# --nice N runs everything (benchmarks, broker, agent, dockerd, simulators) at niceness N (e.g.
# -10, as root): on a machine shared with other jobs it keeps their load out of the latency
# figures; the header says which niceness was used.
# Needs scripts/deps.sh and a build (cmake -S . -B build && cmake --build build -j2). Not part of
# scripts/test.sh: these are measurements, not pass/fail tests; the exit code is 0 unless a
# benchmark could not run at all.
set -euo pipefail

ARGS="$*"
SOURCE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="$SOURCE_DIR/build"
ONLY="broker,bulk,forward,mesh,dockerapi,scale,ha,streams,console,history,reconcile"
QUICK=0
MARKDOWN=""
NICE=""

while (($#)); do
  case "$1" in
    --build-dir) BUILD_DIR="${2:?}"; shift 2 ;;
    --only) ONLY="${2:?}"; shift 2 ;;
    --quick) QUICK=1; shift ;;
    --markdown) MARKDOWN="${2:?}"; shift 2 ;;
    --nice) NICE="${2:?}"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
BUILD_DIR="$(cd "$BUILD_DIR" && pwd)"
BIN="$BUILD_DIR/bin"
for b in dockmesh-broker dockmesh-agent dockmeshctl bench_forward bench_roundtrip bench_create \
         bench_footprint bench_scale bench_sim_agents bench_answers bench_broker_placement bench_broker_directory \
         bench_broker_forward bench_bulk; do
  [[ -x "$BIN/$b" ]] || { echo "run.sh: $BIN/$b not found; build first: cmake -S $SOURCE_DIR -B $BUILD_DIR && cmake --build $BUILD_DIR -j2" >&2; exit 1; }
done

if [[ -n "$NICE" ]]; then
  renice -n "$NICE" -p $$ >/dev/null || { echo "run.sh: cannot set niceness $NICE" >&2; exit 1; }
fi

# 5,000 simulated agents are 10,000 CURVE connections into one broker: raise the open-file limit
# (the hard limit too when we may), children inherit it.
ulimit -Hn 65536 2>/dev/null || true
ulimit -Sn "$(ulimit -Hn)" 2>/dev/null || true

WORK="$(mktemp -d /tmp/dmbench.XXXXXX)"  # short: mesh.sh needs a path under 64 characters
RESULTS="$WORK/results.txt"
MESH="$WORK/mesh"
touch "$RESULTS"

cleanup() {
  local rc=$?
  if [[ -d "$MESH" ]]; then "$SOURCE_DIR/scripts/mesh.sh" down --dir "$MESH" --purge >/dev/null 2>&1 || true; fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wants() { [[ ",$ONLY," == *",$1,"* ]]; }

# step NAME TIMEOUT CMD...: runs one benchmark with a time bound, shows its output, keeps its
# RESULT lines; a benchmark that fails to run leaves an ERROR line instead of silence.
step() {
  local name="$1" limit="$2" start=$SECONDS rc=0; shift 2
  echo "== $name (at most ${limit}s)"
  timeout --kill-after=10 "$limit" "$@" 2>&1 | tee "$WORK/$name.out" || rc=$?
  grep '^RESULT | ' "$WORK/$name.out" >>"$RESULTS" || true
  if ((rc != 0)); then
    echo "RESULT | $name | - | - | - | - | ERROR | exited with status $rc (see output above)" | tee -a "$RESULTS"
  fi
  echo "== $name took $((SECONDS - start))s"
}

# The broker owner's programs (bench/broker_*.cpp) print their own format; their figures are
# turned into RESULT lines here. "  <what>  p50 X us  p99 Y us  max Z us" -> one info line.
convert_latency_lines() {
  local prefix="$1" source="$2"
  sed -nE 's/^  (.*[^ ]) +p50 +([0-9.]+) us +p99 +([0-9.]+) us +max +([0-9.]+) us$/\1|\2|\3|\4/p' |
    while IFS='|' read -r what p50 p99 max; do
      echo "RESULT | $prefix: $what p50 | $p50 us | - | - | - | info | p99 $p99 us, max $max us ($source)"
    done
}

# bench_broker_forward's summary: the hub in-process (same code as the broker binary, no process
# boundary), against zmq_proxy in the same program.
convert_broker_forward() {
  awk '
    /^  broker  / { broker = $2 }
    /^  proxy-curve / { curve = $2 }
    /^  proxy-plain / { plain = $2 }
    /^best of/ { rounds = $3 }
    END {
      if (broker == "" || curve == "") exit
      r = broker / curve
      printf "RESULT | forward (hub in-process): broker CURVE vs zmq_proxy CURVE | %d msg/s | %d msg/s | %.3fx | >= 0.9x | %s | bench_broker_forward, best of %s rounds; plain proxy %d msg/s\n", broker, curve, r, (r >= 0.9 ? "PASS" : "FAIL"), rounds, plain
    }'
}

# bench_broker_placement's rate lines: the first fill (no containers) is the baseline of the others.
# Target (issue 13): placement with 30,000 containers placed as fast as with none; 0.95x allows
# for the noise of a shared machine.
convert_placement_rates() {
  awk '
    /^rate [0-9]+ hosts, [0-9]+ containers placed: / {
      rate = $7
      if (base == "") { base = rate; base_n = $4; next }
      r = rate / base
      printf "RESULT | placement rate @%s hosts: %s containers placed vs none | %d req/s | %d req/s | %.3fx | >= 0.95x | %s | bench_broker_placement, rate at the median cost of 6 request kinds, fills interleaved\n", $2, $4, rate, base, r, (r >= 0.95 ? "PASS" : "FAIL")
    }'
}

convert_placement() {
  local out
  out="$(cat)"
  convert_latency_lines 'schedule @1000 hosts' bench_broker_placement <<<"$out"
  convert_placement_rates <<<"$out"
}

# step_converted NAME TIMEOUT CONVERTER CMD...: like step, for programs without RESULT lines.
step_converted() {
  local name="$1" limit="$2" conv="$3" start=$SECONDS rc=0; shift 3
  echo "== $name (at most ${limit}s)"
  timeout --kill-after=10 "$limit" "$@" 2>&1 | tee "$WORK/$name.out" || rc=$?
  eval "$conv" <"$WORK/$name.out" | tee -a "$RESULTS"
  if ((rc != 0)); then
    echo "RESULT | $name | - | - | - | - | ERROR | exited with status $rc (see output above)" | tee -a "$RESULTS"
  fi
  echo "== $name took $((SECONDS - start))s"
}

free_base_port() {
  local p
  for p in 24400 24600 24800 25000 25200 25400; do
    if ! ss -Hltn "( sport >= :$p and sport <= :$((p + 10)) )" 2>/dev/null | grep -q .; then echo "$p"; return; fi
  done
  echo "run.sh: no free port block for the mesh" >&2; return 1
}

header() {
  local cpu
  cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
  echo "date:    $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "machine: $(nproc) cores ($cpu), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) memory, kernel $(uname -r)"
  echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min, at start)"
  echo "source:  $(git -C "$SOURCE_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "command: bench/run.sh $ARGS"
  echo "files:   open-file limit $(ulimit -n); niceness $(ps -o ni= -p $$ | tr -d ' ')"
}

if ((QUICK)); then
  FWD=(--messages 100000 --rounds 2); RTT=(--samples 600 --rounds 6); CREATE=(--count 6)
  IDLE=(--seconds 10); SCALE_N=(300); SCALE=(--steady-seconds 3 --targeted 200 --scheduled 50 --broadcasts 2)
  PLACE=(--requests 200); BFWD=(--messages 100000 --rounds 2); DIRECTORY=(--hosts 1000)
  ANSWERS=(--count 10); FLOOR=(--samples 600 --rounds 3); SPLIT_N=(300)
else
  FWD=(--messages 200000 --rounds 9); RTT=(--samples 5000 --rounds 25); CREATE=(--count 30)
  IDLE=(--seconds 60); SCALE_N=(1000 5000 9700); SCALE=(); PLACE=(--requests 1000)
  BFWD=(--messages 300000 --rounds 3); DIRECTORY=(--hosts 5000)
  ANSWERS=(--count 30); FLOOR=(--samples 3000 --rounds 5); SPLIT_N=(5000 9700)
fi

HEADER="$(header "$@")"
echo "$HEADER"
T0=$SECONDS

if wants broker; then
  step_converted placement 180 convert_placement "$BIN/bench_broker_placement" --hosts 1000 --fills 0,30 "${PLACE[@]}"
  step_converted directory 120 "convert_latency_lines 'directory @${DIRECTORY[1]} hosts' bench_broker_directory" \
    "$BIN/bench_broker_directory" "${DIRECTORY[@]}"
fi

if wants bulk; then
  # One broker, 100 SIMULATED agents (bench/bench_bulk.cpp; they make up the containers they are
  # asked for and announce them): 1,000 containers as one `instances` request and as 1,000
  # requests, then a 100-replica service; dispatch and completion times, broker CPU from /proc.
  # About 10 s.
  BULK=()
  ((QUICK)) && BULK=(--containers 300 --replicas 50)
  step bulk 120 "$BIN/bench_bulk" --broker-bin "$BIN/dockmesh-broker" --sim-bin "$BIN/bench_sim_agents" "${BULK[@]}"
fi

if wants forward; then
  step forward 240 "$BIN/bench_forward" --broker-bin "$BIN/dockmesh-broker" "${FWD[@]}"
  step_converted broker-forward 180 convert_broker_forward "$BIN/bench_broker_forward" "${BFWD[@]}"
fi

if wants mesh; then
  echo "== mesh: one private dockerd, broker, agent and bridge (scripts/mesh.sh)"
  PORT="$(free_base_port)"
  if "$SOURCE_DIR/scripts/mesh.sh" up --hosts 1 --dir "$MESH" --base-port "$PORT" --build-dir "$BUILD_DIR"; then
    M=(--broker "127.0.0.1:$PORT" --broker-key "$MESH/broker.pub" --key "$MESH/admin.key"
       --fqdn host1.mesh.test --docker-socket "$MESH/host1/docker.sock")
    BRIDGE=()
    [[ -s "$MESH/bridge.url" ]] && BRIDGE=(--bridge-url "$(cat "$MESH/bridge.url")" --admin-password-file "$MESH/admin.password")
    step roundtrip 180 "$BIN/bench_roundtrip" "${M[@]}" "${BRIDGE[@]}" "${RTT[@]}"
    # The floor under the ping overhead, measured now: one CURVE REQ/REP round trip between two
    # processes over loopback (a bus ping is two of them plus the agent's worker hop).
    step rtt-floor 180 /usr/bin/python3 "$SOURCE_DIR/bench/curve_rtt_probe.py" "${FLOOR[@]}"
    step create 240 "$BIN/bench_create" "${M[@]}" "${CREATE[@]}"
    PIDS=(--agent-pid "$(cat "$MESH/pids/agent-host1.pid")" --broker-pid "$(cat "$MESH/pids/broker.pid")")
    [[ -s "$MESH/pids/bridge.pid" ]] && PIDS+=(--bridge-pid "$(cat "$MESH/pids/bridge.pid")")
    step footprint 180 "$BIN/bench_footprint" "${M[@]}" "${PIDS[@]}" "${IDLE[@]}"
    # Last on this mesh: it freezes the agent for a few seconds (SIGSTOP, then SIGCONT).
    step answers 120 "$BIN/bench_answers" --broker "127.0.0.1:$PORT" --broker-key "$MESH/broker.pub" \
      --key "$MESH/admin.key" --fqdn host1.mesh.test --agent-pid "$(cat "$MESH/pids/agent-host1.pid")" "${ANSWERS[@]}"
    "$SOURCE_DIR/scripts/mesh.sh" down --dir "$MESH" --purge || true
  else
    echo "RESULT | mesh | - | - | - | - | ERROR | scripts/mesh.sh up failed" | tee -a "$RESULTS"
  fi
fi

if wants dockerapi; then
  # `docker run -d` through the bridge's Docker-compatible endpoint vs straight to the dockerd
  # (bench/bench_docker_api.py: its own one-host mesh).
  DOCKER_RUNS=30
  ((QUICK)) && DOCKER_RUNS=6
  step dockerapi 420 env DM_BUILD_DIR="$BUILD_DIR" DM_SOURCE_DIR="$SOURCE_DIR" PYTHONUNBUFFERED=1 \
    /usr/bin/python3 -W ignore::ResourceWarning "$SOURCE_DIR/bench/bench_docker_api.py" --runs "$DOCKER_RUNS" --steps
fi

if wants ha; then
  # Three etcd members and three brokers (scripts/mesh.sh up --brokers 3): failover, revocation
  # propagation, scheduled create latency against a single broker (bench/bench_ha.py).
  HA_ROUNDS=5
  ((QUICK)) && HA_ROUNDS=2
  step ha 600 env DM_BUILD_DIR="$BUILD_DIR" DM_SOURCE_DIR="$SOURCE_DIR" PYTHONUNBUFFERED=1 \
    /usr/bin/python3 -W ignore::ResourceWarning "$SOURCE_DIR/bench/bench_ha.py" --rounds "$HA_ROUNDS"
fi

if wants streams; then
  # Streams through the bridge's WebSocket (bench/bench_streams.py, docs/streams.md): first log
  # byte of a follow, exec keystroke echo round trip, CPU of 100 concurrent follows.
  STREAM_ROUNDS=50
  ((QUICK)) && STREAM_ROUNDS=10
  step streams 300 env DM_BUILD_DIR="$BUILD_DIR" DM_SOURCE_DIR="$SOURCE_DIR" PYTHONUNBUFFERED=1 \
    /usr/bin/python3 -W ignore::ResourceWarning "$SOURCE_DIR/bench/bench_streams.py" --rounds "$STREAM_ROUNDS"
fi

if wants console; then
  # The web console in Debian's Chromium (bench/bench_console.py): a state change made on dockerd
  # -> the page's row shows it (WebSocket event rendered). Target p99 <= 1 s.
  CONSOLE_ROUNDS=20
  ((QUICK)) && CONSOLE_ROUNDS=5
  step console 300 env DM_BUILD_DIR="$BUILD_DIR" DM_SOURCE_DIR="$SOURCE_DIR" PYTHONUNBUFFERED=1 \
    /usr/bin/python3 -W ignore::ResourceWarning "$SOURCE_DIR/bench/bench_console.py" --rounds "$CONSOLE_ROUNDS"
fi

if wants history; then
  # The bridge's stats history (bench/bench_stats_history.py, docs/bridge.md): CPU of the bridge,
  # broker and agent while 10 running containers are sampled every 10 s; the period per container.
  HISTORY_SECONDS=60
  ((QUICK)) && HISTORY_SECONDS=20
  step history 300 env DM_BUILD_DIR="$BUILD_DIR" DM_SOURCE_DIR="$SOURCE_DIR" PYTHONUNBUFFERED=1 \
    /usr/bin/python3 -W ignore::ResourceWarning "$SOURCE_DIR/bench/bench_stats_history.py" --seconds "$HISTORY_SECONDS"
fi

if wants reconcile; then
  # The service reconciler (bench/bench_reconcile.py, docs/services.md): a 6-replica service
  # created -> all running; kill -9 of a host's agent and dockerd -> its replicas running on the
  # other hosts (grace 0), over rounds.
  RECONCILE_ROUNDS=5
  ((QUICK)) && RECONCILE_ROUNDS=2
  step reconcile 400 env DM_BUILD_DIR="$BUILD_DIR" DM_SOURCE_DIR="$SOURCE_DIR" PYTHONUNBUFFERED=1 \
    /usr/bin/python3 -W ignore::ResourceWarning "$SOURCE_DIR/bench/bench_reconcile.py" --rounds "$RECONCILE_ROUNDS"
fi

if wants scale; then
  # What each disconnect costs the broker's XPUB at these fleet sizes (libzmq walks its whole
  # subscription trie): the time detection of killed agents waits for, measured in CPU seconds.
  step xpub-walk 600 /usr/bin/python3 "$SOURCE_DIR/bench/xpub_trie_probe.py" --results \
    --agents "$(IFS=,; echo "${SCALE_N[*]}")"
  for n in "${SCALE_N[@]}"; do
    # Up to 5,000 all agents connect at once, as after a broker restart. Beyond that, on one
    # machine, the simulators' own handshakes starve the broker (bench/README.md): they connect
    # 64 at a time per process, with a handshake timeout that outlasts the queue. 9,700 and not
    # 10,000: two connections per agent and this machine's hard limit of 20,000 open files.
    BIG=()
    ((n > 5000)) && BIG=(--joining 64 --handshake-timeout-ms 20000 --join-timeout 120)
    step "scale-$n" 420 "$BIN/bench_scale" --agents "$n" --broker-bin "$BIN/dockmesh-broker" \
      --sim-bin "$BIN/bench_sim_agents" "${SCALE[@]}" "${BIG[@]}"
  done
  # Again with the broker alone on CPU 0 and the simulators on the other, the bulk of them at
  # niceness 10 (not the probe agents nor the client): on one machine the simulators compete
  # with the broker for cores, which the latency figures above include; these are closer to the
  # broker's own (the probe agents and the client still share their CPU with the simulators).
  for n in "${SPLIT_N[@]}"; do
    BIG=()
    ((n > 5000)) && BIG=(--joining 64 --handshake-timeout-ms 20000 --join-timeout 120)
    step "scale-$n-split" 420 "$BIN/bench_scale" --agents "$n" --split-cpus --bulk-nice 10 \
      --broker-bin "$BIN/dockmesh-broker" --sim-bin "$BIN/bench_sim_agents" "${SCALE[@]}" "${BIG[@]}"
  done
fi

TABLE="$(
  echo "| figure | value | baseline | ratio | target | result | note |"
  echo "|---|---|---|---|---|---|---|"
  sed 's/^RESULT | /| /; s/$/ |/' "$RESULTS"
)"
echo
echo "== all figures ($((SECONDS - T0)) s)"
echo "$HEADER"
echo
echo "$TABLE"
echo
echo "summary: $(grep -c '| PASS |' "$RESULTS" || true) PASS, $(grep -c '| FAIL |' "$RESULTS" || true) FAIL, $(grep -c '| ERROR |' "$RESULTS" || true) ERROR, $(grep -c '| info |' "$RESULTS" || true) info"
if [[ -n "$MARKDOWN" ]]; then
  { echo '```'; echo "$HEADER"; echo '```'; echo; echo "$TABLE"; } >"$MARKDOWN"
  echo "table written to $MARKDOWN"
fi
exit 0
