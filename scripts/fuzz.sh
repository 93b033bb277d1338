#!/usr/bin/env bash
# Runs every fuzz target of the module for the given time each (default
# 60s), one worker per target so it shares a small machine.
# A crasher is saved by go test under the package's testdata/fuzz/<FuzzName>/
# and becomes a regression seed that plain `go test` replays. The run goes on
# with the next target after a failure and exits non-zero at the end if any
# target failed.
#
# Environment:
#   FUZZPARALLEL  workers per target (default 1)
#   FUZZMATCH     a regexp the target name must match (default every target)
#   FUZZJOBS      targets run at the same time (default 1)
#   FUZZNICE      niceness of each run (default 0; 19 to yield to other work)
#   FUZZLOGS      a folder to keep one log per target in (default: none, the
#                 output goes to the terminal)
set -uo pipefail
time=${1:-60s}
parallel=${FUZZPARALLEL:-1}
match=${FUZZMATCH:-.}
jobs=${FUZZJOBS:-1}
niceness=${FUZZNICE:-0}
logs=${FUZZLOGS:-}
[[ -n $logs ]] && mkdir -p "$logs"
status=$(mktemp -d)
trap 'rm -rf "$status"' EXIT

run() { # pkg target
  local pkg=$1 fz=$2 out=/dev/stdout
  [[ -n $logs ]] && out="$logs/$fz.log"
  echo "== $pkg $fz ($time)"
  if ! nice -n "$niceness" go test "$pkg" -run '^$' -fuzz "^${fz}\$" -fuzztime "$time" \
    -parallel "$parallel" -fuzzminimizetime 5s >>"$out" 2>&1; then
    echo "$pkg $fz" >"$status/$fz"
  fi
}

for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for fz in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/func //' | sort -u); do
    [[ $fz =~ $match ]] || continue
    while (($(jobs -rp | wc -l) >= jobs)); do
      wait -n
    done
    run "$pkg" "$fz" &
  done
done
wait
if compgen -G "$status/*" >/dev/null; then
  echo "fuzz: failing targets:"
  cat "$status"/* | sed 's/^/  /'
  exit 1
fi
