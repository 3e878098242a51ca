#!/usr/bin/env bash
# format.sh: clang-format (Debian's clang-format 14, the style in .clang-format) over every C++
# file git tracks (*.cpp, *.hpp).
#
#   scripts/format.sh            rewrite the files in place
#   scripts/format.sh --check    change nothing; list the files that are not formatted and exit 1
#                                if there is any (scripts/test.sh's format stage)
# A file may opt a region out with `// clang-format off` ... `// clang-format on`.
set -euo pipefail

SOURCE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly SOURCE_DIR

die() { echo "format.sh: error: $*" >&2; exit 2; }

clang_format() {
  local c
  for c in clang-format-14 clang-format; do
    command -v "$c" >/dev/null && { echo "$c"; return 0; }
  done
  die "clang-format not found; run scripts/deps.sh"
}

main() {
  local mode="apply" cf files=() bad=() f
  case "${1:-}" in
    "") ;;
    --check) mode=check ;;
    *) die "usage: format.sh [--check]" ;;
  esac
  cf="$(clang_format)"
  cd "$SOURCE_DIR"
  mapfile -t files < <(git ls-files -- '*.cpp' '*.hpp')
  ((${#files[@]})) || die "no C++ files found (not a git checkout?)"
  if [[ "$mode" == apply ]]; then
    printf '%s\0' "${files[@]}" | xargs -0 -n 50 "$cf" -i --style=file
    echo "format.sh: formatted ${#files[@]} files"
    return 0
  fi
  for f in "${files[@]}"; do
    "$cf" --style=file --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
  done
  if ((${#bad[@]})); then
    printf 'format.sh: not formatted: %s\n' "${bad[@]}" >&2
    echo "format.sh: ${#bad[@]} of ${#files[@]} files need scripts/format.sh" >&2
    return 1
  fi
  echo "format.sh: all ${#files[@]} files formatted"
}

main "$@"
