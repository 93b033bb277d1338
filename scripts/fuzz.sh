#!/usr/bin/env bash
# Runs every fuzz target of the module in turn for the given time each
# (default 60s), one worker at a time so it shares a small machine.
# A crasher is saved by go test under the package's testdata/fuzz/<FuzzName>/
# and becomes a regression seed that plain `go test` replays. The run goes on
# with the next target after a failure and exits non-zero at the end if any
# target failed.
#
# Environment: FUZZPARALLEL (workers, default 1), FUZZMATCH (a regexp the
# target name must match, default every target).
set -uo pipefail
time=${1:-60s}
parallel=${FUZZPARALLEL:-1}
match=${FUZZMATCH:-.}
failed=()
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for fz in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/func //' | sort -u); do
    [[ $fz =~ $match ]] || continue
    echo "== $pkg $fz ($time)"
    if ! go test "$pkg" -run '^$' -fuzz "^${fz}\$" -fuzztime "$time" \
      -parallel "$parallel" -fuzzminimizetime 5s; then
      failed+=("$pkg $fz")
    fi
  done
done
if ((${#failed[@]})); then
  echo "fuzz: failing targets:"
  printf '  %s\n' "${failed[@]}"
  exit 1
fi
