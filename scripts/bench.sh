#!/usr/bin/env bash
# Compares romscan with androguard (AnalyzeAPK) and dexdump -d on the same
# corpus files and prints speed and peak-memory ratios. Goals (issue: the
# foundation): folder scan >= 50x faster than androguard at <= 1/10 of its
# peak RSS; DEX parse + call-site scan >= 2x dexdump -d throughput.
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${ROMSCAN_CORPUS:-../shared/corpus}
[ -d "$corpus/apks" ] || { echo "bench: corpus not found at $corpus (set ROMSCAN_CORPUS)"; exit 0; }
go build -o bin/romscan ./cmd/romscan
folder="$corpus/apks"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# measure CMD...: prints "seconds maxrss_kib"
measure() {
  /usr/bin/time -f "%e %M" -o "$tmp/time" "$@" >/dev/null 2>"$tmp/err" || true
  cat "$tmp/time"
}

echo "== folder scan: $folder ($(find "$folder" -name '*.apk' | wc -l) APKs, $(du -sh "$folder" | cut -f1))"
read -r rs_t rs_m < <(measure ./bin/romscan scan "$folder" --quiet -o json=/dev/null --fail-on none)
echo "romscan:    ${rs_t}s, peak RSS ${rs_m} KiB"
if /usr/bin/python3 -c "import androguard" 2>/dev/null; then
  cat > "$tmp/ag.py" <<'PY'
import sys, glob, os, logging
logging.disable(logging.CRITICAL)
from androguard.misc import AnalyzeAPK
for f in sorted(glob.glob(os.path.join(sys.argv[1], "**", "*.apk"), recursive=True)):
    try:
        AnalyzeAPK(f)
    except Exception as e:
        pass
PY
  read -r ag_t ag_m < <(measure /usr/bin/python3 "$tmp/ag.py" "$folder")
  echo "androguard: ${ag_t}s, peak RSS ${ag_m} KiB"
  python3 -c "print(f'romscan is {float($ag_t)/max(float($rs_t),0.001):.1f}x faster than androguard (goal >= 50x), at {float($rs_m)/float($ag_m):.3f} of its peak RSS (goal <= 0.1)')"
else
  echo "androguard not installed (apt-get install androguard): skipped"
fi

echo "== DEX parse + call sites vs dexdump -d"
apk="$corpus/apks/androguard/app-prod-debug.apk"
unzip -p "$apk" classes.dex > "$tmp/classes.dex"
size=$(stat -c %s "$tmp/classes.dex")
if command -v dexdump >/dev/null; then
  start=$(date +%s.%N); for _ in 1 2 3; do dexdump -d "$tmp/classes.dex" >/dev/null; done; end=$(date +%s.%N)
  dd_mbs=$(python3 -c "print(3*$size/1e6/($end-$start))")
  echo "dexdump -d: $(printf %.1f "$dd_mbs") MB/s"
else
  dd_mbs=""
  echo "dexdump not installed: skipped"
fi
rs_mbs=$(go test ./internal/dex -run '^$' -bench 'BenchmarkCallSites$' -benchtime 20x 2>/dev/null | awk '/MB\/s/ {for (i=1;i<=NF;i++) if ($(i+1)=="MB/s") print $i}' | head -1)
echo "romscan DEX parse + call sites: ${rs_mbs:-?} MB/s"
if [ -n "$dd_mbs" ] && [ -n "$rs_mbs" ]; then
  python3 -c "print(f'romscan is {float($rs_mbs)/float($dd_mbs):.1f}x dexdump -d throughput (goal >= 2x)')"
fi
