#!/usr/bin/env bash
# ha_soak.sh: the HA fault soak (tests/faults/ha_faults.py: 3 etcd members, 3 brokers, 3 agents
# with private dockerds; revocation on every broker, scheduled creates through a 5 s partition of
# the leader (broker 3 in a network namespace of its own), kill -9 of the
# leader, a 5 s SIGSTOP of the next, kill -9 of an etcd member, etcd unreachable, a full restart)
# run ROUNDS times in a row, each on a fresh mesh. Prints each round's figures and a summary;
# exits non-zero if any round failed. Not part of scripts/test.sh (a round takes about a minute;
# the short version, tests/integration/test_ha_faults.py, is).
#
#   scripts/ha_soak.sh [--rounds N] [--build-dir DIR]
set -euo pipefail

SOURCE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="$SOURCE_DIR/build"
ROUNDS=10
while (($#)); do
  case "$1" in
    --rounds) ROUNDS="${2:?--rounds needs a number}"; shift 2 ;;
    --build-dir) BUILD_DIR="${2:?--build-dir needs a path}"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "ha_soak.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || { echo "ha_soak.sh: --rounds must be a positive number" >&2; exit 2; }

LOG="$(mktemp /tmp/ha_soak.XXXXXX)"
failed=0
for ((r = 1; r <= ROUNDS; r++)); do
  echo "== round $r of $ROUNDS"
  if DM_BUILD_DIR="$BUILD_DIR" DM_SOURCE_DIR="$SOURCE_DIR" PYTHONUNBUFFERED=1 \
      /usr/bin/python3 -W ignore::ResourceWarning "$SOURCE_DIR/tests/faults/ha_faults.py" -v >"$LOG" 2>&1; then
    grep -E '(revocation|partition|killed|frozen|restarted|unreachable|resumed|restart|checker)' "$LOG" | sed 's/^/   /'
  else
    failed=$((failed + 1))
    echo "   FAILED; last lines:"
    tail -n 40 "$LOG" | sed 's/^/   /'
  fi
done
rm -f "$LOG"
echo "== $((ROUNDS - failed)) of $ROUNDS rounds passed"
((failed == 0))
