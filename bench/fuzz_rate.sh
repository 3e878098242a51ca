#!/usr/bin/env bash
# fuzz_rate.sh: how many executions each fuzz target reaches, per wall second and per second of
# one core (issue 17's ">= 1 M executions per target in 60 s"). Each target runs alone, in one
# process (no -fork: the figure is the target's own rate, not the fork driver's), for SECONDS
# (default 60) on a scratch copy of its seed corpus, so the repository's corpus is not changed.
# The CPU figure (user + system time of the run, from /proc via `time`) does not depend on what
# else the machine runs, so it is the one to compare between runs on a shared machine.
#
#   bench/fuzz_rate.sh [SECONDS] [TARGET...]      e.g. bench/fuzz_rate.sh 20 envelope broker_core
#
# Needs the fuzz tree (scripts/fuzz.sh builds it: clang 14, build-fuzz/). Prints one line per
# target: executions, wall s, CPU s, executions per CPU second, projected executions in 60 s of
# a free core. Exit status: 1 if a target could not be run or found a failing input.
set -euo pipefail

SOURCE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly SOURCE_DIR
# shellcheck source=scripts/lib/asan_tree.sh
source "$SOURCE_DIR/scripts/lib/asan_tree.sh"
readonly SECONDS_PER_TARGET="${1:-60}"
shift || true
[[ "$SECONDS_PER_TARGET" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz_rate.sh: SECONDS must be a positive number" >&2; exit 2; }

targets=("$@")
if ((${#targets[@]} == 0)); then
  for bin in "$FUZZ_TREE"/bin/fuzz_*; do [[ -x "$bin" ]] && targets+=("${bin##*/fuzz_}"); done
fi
((${#targets[@]})) || { echo "fuzz_rate.sh: no fuzz targets in $FUZZ_TREE/bin (run scripts/fuzz.sh 1)" >&2; exit 2; }

scratch="$(mktemp -d /tmp/dm-fuzz-rate-XXXXXX)"
trap 'rm -rf "$scratch"' EXIT

failed=0
printf '%-16s %12s %7s %7s %12s %14s\n' target executions wall_s cpu_s exec/cpu_s 'in 60 s/core'
for name in "${targets[@]}"; do
  bin="$FUZZ_TREE/bin/fuzz_$name"
  [[ -x "$bin" ]] || { echo "$name: no binary $bin" >&2; failed=1; continue; }
  work="$scratch/$name"
  mkdir -p "$work" "$scratch/art-$name"
  cp -r "$SOURCE_DIR/tests/fuzz/corpus/$name/." "$work/" 2>/dev/null || true
  log="$scratch/$name.log"
  start=$(date +%s.%N)
  rc=0
  ( TIMEFORMAT='%U %S'; time ASAN_OPTIONS="detect_leaks=1:abort_on_error=1" \
      "$bin" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$scratch/art-$name/" "$work" >"$log" 2>&1 ) 2>"$scratch/$name.time" || rc=$?
  wall=$(echo "$(date +%s.%N) - $start" | bc)
  execs="$(grep -aoE '^#[0-9]+' "$log" | tail -n 1 | tr -d '#')"
  read -r user sys <"$scratch/$name.time"
  cpu=$(echo "$user + $sys" | bc)
  if [[ -z "$execs" || "$rc" -ne 0 ]]; then
    echo "$name: no result (exit $rc); last lines:" >&2
    tail -n 5 "$log" >&2
    failed=1
    continue
  fi
  per_cpu=$(echo "$execs / $cpu" | bc)
  printf '%-16s %12s %7.1f %7.1f %12s %14s\n' "$name" "$execs" "$wall" "$cpu" "$per_cpu" \
    "$((per_cpu * 60))"
done
exit "$failed"
