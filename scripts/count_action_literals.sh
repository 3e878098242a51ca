#!/usr/bin/env bash
# count_action_literals.sh: how often each message name of the protocol catalogue is written as a
# string literal in C++ outside common/protocol/names.hpp (its one home), tests excluded.
#
#   scripts/count_action_literals.sh [--tests]     --tests: count test files too
#
# Prints one line per name that has literals elsewhere (count, name, where) and a total for the
# names with a '-' (create-container, host-up, ...), which are nothing but message names. Names
# that are also ordinary words (host, hosts, container, containers, stats, enroll, probe, audit,
# ping, register, inventory, heartbeat) are listed apart: those literals are mostly JSON field
# names or CLI words, so read the hits before calling one a duplicate.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
excludes=(':!common/protocol/names.hpp')
[[ "${1:-}" == "--tests" ]] || excludes+=(':!*_test.cpp' ':!*test_support.hpp' ':!tests/' ':!bench/')

kebab=0
words=0
while read -r name; do
  hits="$(git grep -nF "\"$name\"" -- '*.cpp' '*.hpp' "${excludes[@]}" || true)"
  [[ -n "$hits" ]] || continue
  n="$(wc -l <<<"$hits")"
  if [[ "$name" == *-* ]]; then
    kebab=$((kebab + n)); echo "$n $name (message name):"
  else
    words=$((words + n)); echo "$n $name (also a word):"
  fi
  sed 's/^/    /' <<<"$hits"
done < <(sed -n 's/^inline constexpr std::string_view [a-z_]* = "\([^"]*\)";.*/\1/p' common/protocol/names.hpp)
echo "total: $kebab literal(s) of hyphenated message names outside names.hpp; $words of names that are also words"
