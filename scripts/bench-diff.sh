#!/usr/bin/env bash
# Measures what `romscan diff OLD NEW` costs compared with one `romscan scan`
# of OLD, on the sample ROMs (goal, issue "romscan diff": at most 1.2x one scan
# when the ROMs share most apps). Prints medians of N runs, wall and CPU
# (user+sys: steadier on a shared machine).
#   scripts/bench-diff.sh [N]          default N=15; ROMSCAN_BENCH_FORMS to choose forms
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-15}
samples/build.sh all >/dev/null
go build -o bin/romscan ./cmd/romscan
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# median CMD...: prints "wall cpu" medians over $n runs, in ms
median() {
  : >"$tmp/runs"
  local TIMEFORMAT="%3R %3U %3S"
  for _ in $(seq "$n"); do
    { time "$@" >/dev/null 2>&1 || true; } 2>"$tmp/t"
    awk '{printf "%d %d\n", $1*1000, ($2+$3)*1000}' "$tmp/t" >>"$tmp/runs"
  done
  local w c
  w=$(cut -d' ' -f1 "$tmp/runs" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
  c=$(cut -d' ' -f2 "$tmp/runs" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
  echo "$w $c"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b>0) printf "%.2f", a/b; else print "n/a" }'; }

b=samples/build
printf "%-34s %9s %9s %9s %9s %7s %7s\n" "form" "scan ms" "cpu ms" "diff ms" "cpu ms" "wall x" "cpu x"
for form in ${ROMSCAN_BENCH_FORMS:-system.img system.erofs ota-block.zip system "" same:system.img}; do
  old=$b/rom-v1/${form#same:}; new=$b/rom-v2/${form#same:}
  label=${form:-every form (folder)}
  if [[ $form == same:* ]]; then new=$old; label="${form#same:} v1 vs itself"; fi
  read -r sw sc < <(median ./bin/romscan scan -quiet -fail-on none -o json=/dev/null "$old")
  read -r dw dc < <(median ./bin/romscan diff -quiet -fail-on none -o json=/dev/null "$old" "$new")
  printf "%-34s %9s %9s %9s %9s %7s %7s\n" "$label" "$sw" "$sc" "$dw" "$dc" "$(ratio "$dw" "$sw")" "$(ratio "$dc" "$sc")"
done

# A bigger pair that shares most apps: the corpus APK folder (copied to a
# temp dir, never into the project) against a copy with every tenth APK
# removed and two sample APKs added.
corpus=${ROMSCAN_CORPUS:-../shared/corpus}
if [ -d "$corpus/apks" ]; then
  mkdir -p "$tmp/old/apks" "$tmp/new/apks"
  cp -r "$corpus/apks/." "$tmp/old/apks/"
  cp -r "$corpus/apks/." "$tmp/new/apks/"
  chmod -R u+w "$tmp/new"
  find "$tmp/new/apks" -name '*.apk' | sort | awk 'NR % 10 == 0' | xargs rm -f
  cp "$b/apks/benign-v2.apk" "$b/apks/weather.apk" "$tmp/new/apks/"
  label="corpus apks ($(find "$tmp/old" -name '*.apk' | wc -l) APKs), 10% changed"
  read -r sw sc < <(median ./bin/romscan scan -quiet -fail-on none -o json=/dev/null "$tmp/old/apks")
  read -r dw dc < <(median ./bin/romscan diff -quiet -fail-on none -o json=/dev/null "$tmp/old/apks" "$tmp/new/apks")
  printf "%-34s %9s %9s %9s %9s %7s %7s\n" "$label" "$sw" "$sc" "$dw" "$dc" "$(ratio "$dw" "$sw")" "$(ratio "$dc" "$sc")"
fi
