#!/usr/bin/env bash
# Runs the flow analyzer on every DroidBench 3.0 APK of the shared corpus and
# writes docs/accuracy.md: app-level precision, recall and F1, leak counts
# beside FlowDroid's forward results, a per-category table and per-APK time.
set -euo pipefail
cd "$(dirname "$0")/.."
out="$(pwd)/docs/accuracy.md"
mkdir -p docs
GOMAXPROCS="${GOMAXPROCS:-1}" go test -count=1 -run '^TestAccuracy$' ./analyzers/flow -accuracy -accuracy.out "$out" -timeout 20m
echo "wrote $out"
