#!/usr/bin/env bash
# Runs every fuzz target of the module in turn for the given time each.
set -euo pipefail
time=${1:-60s}
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for fz in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/func //' | sort -u); do
    echo "== $pkg $fz ($time)"
    go test "$pkg" -run '^$' -fuzz "^${fz}\$" -fuzztime "$time"
  done
done
