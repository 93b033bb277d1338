#!/usr/bin/env bash
# bench-firmware.sh - firmware container throughput of romscan against the reference tools, on the same data:
#   payload.bin (REPLACE_XZ)   romscan extract          vs  xz -d of one xz stream (-T1; and -T2 on a multi-block stream)
#   EROFS (lz4hc)              romscan extract          vs  fsck.erofs --extract
#   sparse + ext4              romscan extract / scan   vs  simg2img + debugfs rdump
#   block OTA (brotli)         romscan scan / extract   vs  brotli -d alone
# and the peak RSS of every romscan run. Goals (issue "Firmware II"): payload extraction >= 80 % of the single-stream
# xz limit (more with both cores).
#
# Usage: scripts/bench-firmware.sh [SIZE_MIB]   (default 200; $BENCH_DIR for the work files, default a temp dir
#        under /dev/shm when it exists, so output writes cost little and do not touch the disk)
# Tools: xz-utils, erofs-utils, e2fsprogs, android-sdk-libsparse-utils, brotli, zip, python3, GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-200}
for t in xz mkfs.erofs fsck.erofs mke2fs debugfs img2simg simg2img brotli zip unzip python3 /usr/bin/time; do
	command -v "$t" >/dev/null || { echo "bench-firmware: $t not installed (make deps)"; exit 1; }
done
base=${BENCH_DIR:-$( [ -d /dev/shm ] && echo /dev/shm || echo "${TMPDIR:-/tmp}")}
tmp=$(mktemp -d "$base/romscan-bench-fw.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
go build -o bin/romscan ./cmd/romscan
go build -o "$tmp/mkpayload" ./samples/cmd/mkpayload
rs=$PWD/bin/romscan

# measure NAME CMD...: run CMD $REPEAT times (default 3; the machine is shared, so the fastest run counts), record
# "seconds peak_rss_kib" (fastest time, largest RSS) in $tmp/NAME.t and print it. clean_out runs before each run.
measure() {
	local name=$1 i s kib best="" rss=0
	shift
	for ((i = 0; i < ${REPEAT:-3}; i++)); do
		clean_out
		# A scan of data with nothing to analyse exits 3 ("nothing scannable"); the walk still read everything.
		/usr/bin/time -f "%e %M" -o "$tmp/$name.t" "$@" >/dev/null 2>"$tmp/$name.err" ||
			grep -q 'nothing scannable' "$tmp/$name.err" || {
			echo "bench-firmware: $name failed:"
			cat "$tmp/$name.err"
			exit 1
		}
		read -r s kib < <(tail -n1 "$tmp/$name.t")
		if [[ -z $best ]] || python3 -c "import sys; sys.exit(not $s < $best)"; then best=$s; fi
		((kib > rss)) && rss=$kib
	done
	echo "$best $rss" >"$tmp/$name.t"
	printf '  %-34s %7.2f s  %8.1f MB/s  peak RSS %6d MiB\n' "$name" "$best" "$(python3 -c "print($bytes/1e6/max($best,0.01))")" $((rss / 1024))
}
secs() { cut -d' ' -f1 "$tmp/$1.t"; }
mkdir -p "$tmp/out"
ratio() { python3 -c "print(f'{$(secs "$2")/max($(secs "$1"),0.01):.2f}')"; }
clean_out() { rm -rf "$tmp/out" && mkdir -p "$tmp/out"; }

echo "== data: ${size_mib} MiB, semi-compressible (deterministic), load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
# Blocks of 64 KiB drawn from alphabets of 4, 16 or 64 symbols, with runs of a repeated phrase: xz keeps about half.
python3 - "$tmp/data" "$size_mib" <<'PY'
import random, sys
path, mib = sys.argv[1], int(sys.argv[2])
rnd = random.Random(42)
tables = {n: bytes((b % n) + 0x30 for b in range(256)) for n in (4, 16, 64)}
phrase = b"ro.build.fingerprint=Example/example_phone/example:13/TQ3A.230901.001/1:user/test-keys\n"
with open(path, "wb") as f:
    for _ in range(mib * 16):
        n = rnd.choice((4, 16, 64, 0))
        if n:
            f.write(rnd.randbytes(65536).translate(tables[n]))
        else:
            f.write((phrase * (65536 // len(phrase) + 1))[:65536])
PY
bytes=$(stat -c %s "$tmp/data")

echo "== payload.bin, one partition of 2 MiB REPLACE_XZ operations vs xz -d"
printf 'ota-type=AB\n' >"$tmp/metadata"
"$tmp/mkpayload" -o "$tmp/ota.zip" -metadata "$tmp/metadata" "system=$tmp/data"
unzip -p "$tmp/ota.zip" payload.bin >"$tmp/payload.bin"
xz -T1 -6 -c "$tmp/data" >"$tmp/data.xz"
xz -T2 -6 --block-size=$((2 * 1024 * 1024)) -c "$tmp/data" >"$tmp/data.mt.xz"
echo "  payload.bin $(stat -c %s "$tmp/payload.bin") bytes; one xz stream $(stat -c %s "$tmp/data.xz") bytes"
measure xz-d-T1 xz -d -T1 -c "$tmp/data.xz"
measure xz-d-T2-blocks xz -d -T2 -c "$tmp/data.mt.xz"
measure romscan-extract-payload "$rs" extract -quiet "$tmp/payload.bin" -d "$tmp/out"
clean_out
"$rs" extract -quiet "$tmp/payload.bin" -d "$tmp/out"
cmp -s "$tmp/out/system" "$tmp/data" || { echo "bench-firmware: extracted system differs from the input"; exit 1; }
measure romscan-extract-payload-1core env GOMAXPROCS=1 "$rs" extract -quiet "$tmp/payload.bin" -d "$tmp/out"
measure romscan-scan-ota-payload-zip "$rs" scan -quiet -fail-on none -o json=/dev/null "$tmp/ota.zip"
echo "  payload extraction at $(python3 -c "print(f'{100*$(secs xz-d-T1)/max($(secs romscan-extract-payload),0.01):.0f}')") % of xz -d -T1" \
	"($(python3 -c "print(f'{100*$(secs xz-d-T1)/max($(secs romscan-extract-payload-1core),0.01):.0f}')") % on one core; goal >= 80 %)," \
	"$(python3 -c "print(f'{100*$(secs xz-d-T2-blocks)/max($(secs romscan-extract-payload),0.01):.0f}')") % of xz -d -T2 on 2 MiB blocks"
rm -f "$tmp/data.xz" "$tmp/data.mt.xz" "$tmp/ota.zip"

echo "== file tree: the data split into 256 KiB files"
mkdir -p "$tmp/tree/d0"
split -b 256K -a 4 -d "$tmp/data" "$tmp/tree/d0/f"
nfiles=$(find "$tmp/tree" -type f | wc -l)
rm -f "$tmp/data" "$tmp/payload.bin"
echo "  $nfiles files"

echo "== EROFS (lz4hc) vs fsck.erofs --extract"
mkfs.erofs -zlz4hc -T0 --all-root "$tmp/tree.erofs" "$tmp/tree" >/dev/null 2>&1
echo "  image $(stat -c %s "$tmp/tree.erofs") bytes"
measure fsck.erofs-extract fsck.erofs --extract="$tmp/out" "$tmp/tree.erofs"
measure romscan-extract-erofs "$rs" extract -quiet "$tmp/tree.erofs" -d "$tmp/out"
measure romscan-scan-erofs "$rs" scan -quiet -fail-on none -o json=/dev/null "$tmp/tree.erofs"
echo "  EROFS: romscan extract is $(ratio romscan-extract-erofs fsck.erofs-extract)x the speed of fsck.erofs --extract"
rm -f "$tmp/tree.erofs"

echo "== sparse + ext4 vs simg2img + debugfs rdump"
blocks=$(((bytes / 4096) + nfiles * 2 + 4096))
mke2fs -q -F -t ext4 -b 4096 -O ^has_journal -d "$tmp/tree" "$tmp/tree.img" "$blocks" >/dev/null
img2simg "$tmp/tree.img" "$tmp/tree.simg"
rm -f "$tmp/tree.img"
echo "  sparse image $(stat -c %s "$tmp/tree.simg") bytes"
clean_out
measure simg2img+debugfs-rdump sh -c "simg2img '$tmp/tree.simg' '$tmp/raw.img' && debugfs -R 'rdump / $tmp/out' '$tmp/raw.img'"
rm -f "$tmp/raw.img"
measure romscan-extract-simg "$rs" extract -quiet "$tmp/tree.simg" -d "$tmp/out"
measure romscan-scan-simg "$rs" scan -quiet -fail-on none -o json=/dev/null "$tmp/tree.simg"
echo "  sparse+ext4: romscan extract is $(ratio romscan-extract-simg simg2img+debugfs-rdump)x," \
	"romscan scan $(ratio romscan-scan-simg simg2img+debugfs-rdump)x the speed of simg2img + debugfs rdump"

echo "== block OTA (brotli new.dat in a stored zip) vs brotli -d alone"
mkdir -p "$tmp/ota"
simg2img "$tmp/tree.simg" "$tmp/ota/system.img"
rm -f "$tmp/tree.simg"
n=$(($(stat -c %s "$tmp/ota/system.img") / 4096))
printf '4\n%d\n0\n0\nerase 2,0,%d\nnew 2,0,%d\n' "$n" "$n" "$n" >"$tmp/ota/system.transfer.list"
brotli -q 6 -w 24 -c "$tmp/ota/system.img" >"$tmp/ota/system.new.dat.br"
rm -f "$tmp/ota/system.img"
: >"$tmp/ota/system.patch.dat"
(cd "$tmp/ota" && zip -q -0 ../ota-block.zip system.transfer.list system.new.dat.br system.patch.dat)
echo "  new.dat.br $(stat -c %s "$tmp/ota/system.new.dat.br") bytes"
measure brotli-d brotli -d -c "$tmp/ota/system.new.dat.br"
measure romscan-scan-ota-block "$rs" scan -quiet -fail-on none -o json=/dev/null "$tmp/ota-block.zip"
measure romscan-extract-ota-block "$rs" extract -quiet "$tmp/ota-block.zip" -d "$tmp/out"
echo "  block OTA: romscan scan is $(ratio romscan-scan-ota-block brotli-d)x the speed of brotli -d alone"
