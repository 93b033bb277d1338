#!/usr/bin/env bash
# build.sh - build romscan's sample APKs and sample ROM images from source, with real Android and Linux tools.
#
# Usage: samples/build.sh [-o OUT] [apks|rom|all|clean]
#   apks   the signed sample APKs only              -> OUT/apks/*.apk
#   rom    the APKs, then ROM v1 and v2 in every form -> OUT/rom-v1/, OUT/rom-v2/
#   all    everything (the default; today the same as rom)
#   clean  remove OUT
# OUT defaults to $SAMPLES_OUT, else samples/build/ (git-ignored). JOBS (default: nproc) APKs build at once.
#
# Output is deterministic where the tools allow it: every timestamp is $SOURCE_DATE_EPOCH (default 1700000000),
# APK zips are rewritten in a fixed order, ext4/EROFS get fixed UUIDs and hash seeds, tar and gzip are normalised.
# APKs are rebuilt only when their inputs (sources, key, this script) change; ROM forms are rebuilt every run
# (about a second). See samples/README.md for what each sample holds and what romscan should report.
set -euo pipefail

SAMPLES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${SAMPLES_OUT:-$SAMPLES_DIR/build}
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000}
export TZ=UTC LC_ALL=C
# mke2fs and debugfs take their clock from here (superblock times, lost+found, crtime).
export E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH
umask 022
# apktool and apksigner are short JVM runs: skip the optimising JIT and the parallel GC (about a third less CPU).
export JAVA_TOOL_OPTIONS="${JAVA_TOOL_OPTIONS:+$JAVA_TOOL_OPTIONS }-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"

# Public test keys (samples/keys/README.md).
KEY_PASS=romscan-test
FRAMEWORK_RES=/usr/share/android-framework-res/framework-res.apk

log() { printf 'build.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# --- tool checks --------------------------------------------------------------------------------------------------

# need TOOL DEBIAN-PACKAGE...: record a missing tool with the package that provides it.
MISSING=()
need() {
	local tool=$1 pkg=$2
	command -v "$tool" >/dev/null 2>&1 || MISSING+=("$tool (apt-get install $pkg)")
}

check_tools() {
	local what=$1
	MISSING=()
	need java default-jre-headless
	need apktool apktool
	need zipalign zipalign
	need apksigner apksigner
	need zip zip
	need unzip unzip
	need gcc gcc
	need sha256sum coreutils
	[[ -f $FRAMEWORK_RES ]] || MISSING+=("$FRAMEWORK_RES (apt-get install android-framework-res)")
	if [[ $what == rom ]]; then
		need mke2fs e2fsprogs
		need debugfs e2fsprogs
		need img2simg android-sdk-libsparse-utils
		need brotli brotli
		need mkfs.erofs erofs-utils
		need tar tar
		need gzip gzip
		need go golang-go
	fi
	if ((${#MISSING[@]})); then
		log "missing tools:"
		printf '  %s\n' "${MISSING[@]}" >&2
		exit 1
	fi
}

# --- helpers ------------------------------------------------------------------------------------------------------

# run LOGFILE CMD...: run a tool quietly; show its output only when it fails.
run() {
	local logf=$1
	shift
	if ! "$@" >"$logf" 2>&1; then
		log "failed: $*"
		cat "$logf" >&2
		exit 1
	fi
}

# stamp_tree DIR: give every file and directory the fixed timestamp (atime and mtime).
stamp_tree() {
	find "$1" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
}

# zip_tree DIR ZIP [FIRST...]: zip DIR's files deterministically (fixed times, no extra fields, sorted names).
# Names in FIRST go first, in that order; resources.arsc is stored uncompressed, as Android requires for R+.
zip_tree() {
	local dir=$1 zipf=$2
	shift 2
	rm -f "$zipf"
	stamp_tree "$dir"
	local name
	(
		cd "$dir"
		for name in "$@"; do
			[[ -f $name ]] || continue
			if [[ $name == resources.arsc ]]; then zip -X -D -q -0 "$zipf" "$name"; else zip -X -D -q -9 "$zipf" "$name"; fi
		done
		local rest
		rest=$(find . -type f | sed 's|^\./||' | sort | while IFS= read -r name; do
			local skip=0 f
			for f in "$@"; do [[ $name == "$f" ]] && skip=1; done
			((skip)) || printf '%s\n' "$name"
		done)
		[[ -z $rest ]] || printf '%s\n' "$rest" | zip -X -D -q -9 "$zipf" -@
	)
}

# inputs_hash FILE...: one digest over the named files and directories (paths relative to samples/).
inputs_hash() {
	(
		cd "$SAMPLES_DIR"
		find "$@" -type f -print0 | sort -z | xargs -0 sha256sum
	) | sha256sum | cut -d' ' -f1
}

# --- APKs ---------------------------------------------------------------------------------------------------------

# name        source dir             overlay (or -)      key
APKS=(
	"harvester        apps/harvester       -                  release"
	"harvester-other  apps/harvester       -                  other"
	"benign           apps/benign          -                  release"
	"benign-v2        apps/benign          variants/notes-v2  release"
	"flowcases        apps/flowcases       -                  release"
	"reflectcases     apps/reflectcases    -                  release"
	"nativeurl        apps/nativeurl       -                  release"
	"tracker          apps/tracker         -                  release"
	"platformapp      apps/platformapp     -                  platform"
	"weather          apps/weather         -                  release"
	"framework-res    apps/framework-res   -                  platform"
)

# build_apk NAME SRC OVERLAY KEY: apktool b -> deterministic re-zip -> zipalign -> apksigner (v1+v2+v3).
build_apk() {
	local name=$1 src=$2 overlay=$3 key=$4
	local work=$OUT/work/apk/$name dst=$OUT/apks/$name.apk
	local inputs=("$src" "keys/$key.p12" build.sh)
	[[ $overlay == - ]] || inputs+=("$overlay")
	[[ $name != nativeurl* ]] || inputs+=(native)
	local hash
	hash=$(inputs_hash "${inputs[@]}")
	if [[ -f $dst && -f $work.hash && $(<"$work.hash") == "$hash" ]]; then
		log "apk $name: up to date"
		return
	fi
	log "apk $name"
	rm -rf "$work" "$work.hash" "$dst"
	mkdir -p "$work" "$OUT/apks"
	cp -R "$SAMPLES_DIR/$src" "$work/project"
	[[ $overlay == - ]] || cp -R "$SAMPLES_DIR/$overlay/." "$work/project/"
	if [[ $name == nativeurl* ]]; then
		mkdir -p "$work/project/lib/x86_64"
		run "$work/gcc.log" gcc -shared -fPIC -O2 -s -Wl,--build-id=none -ffile-prefix-map="$SAMPLES_DIR"=. \
			-o "$work/project/lib/x86_64/libbeacon.so" "$SAMPLES_DIR/native/beacon.c"
	fi
	run "$work/apktool.log" apktool b -f -p "$OUT/work/framework" -o "$work/built.apk" "$work/project"
	mkdir "$work/unpacked"
	run "$work/unzip.log" unzip -q "$work/built.apk" -d "$work/unpacked"
	zip_tree "$work/unpacked" "$work/normalised.apk" AndroidManifest.xml resources.arsc
	run "$work/zipalign.log" zipalign -f -p 4 "$work/normalised.apk" "$work/aligned.apk"
	run "$work/apksigner.log" apksigner sign \
		--ks "$SAMPLES_DIR/keys/$key.p12" --ks-type PKCS12 --ks-pass "pass:$KEY_PASS" --ks-key-alias "$key" \
		--v1-signing-enabled true --v2-signing-enabled true --v3-signing-enabled true --v4-signing-enabled false \
		--out "$dst" "$work/aligned.apk"
	touch -d "@$SOURCE_DATE_EPOCH" "$dst"
	printf '%s\n' "$hash" >"$work.hash"
}

build_apks() {
	mkdir -p "$OUT/work/framework"
	# apktool links resources against framework 1; point it at Debian's copy, not at ~/.local/share/apktool.
	ln -sfn "$FRAMEWORK_RES" "$OUT/work/framework/1.apk"
	# Each APK costs two JVM starts (apktool, apksigner): build JOBS of them at a time.
	local line pid pids=() jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
	for line in "${APKS[@]}"; do
		if ((${#pids[@]} >= jobs)); then
			wait "${pids[0]}" || die "building an APK failed"
			pids=("${pids[@]:1}")
		fi
		# shellcheck disable=SC2086 # the table's columns split on spaces
		build_apk $line &
		pids+=($!)
	done
	for pid in "${pids[@]}"; do
		wait "$pid" || die "building an APK failed"
	done
}

# --- ROMs ---------------------------------------------------------------------------------------------------------

# put APK DEST: install a built APK into a ROM tree.
put() {
	install -D -m 0644 "$OUT/apks/$1.apk" "$2"
}

# rom_tree VERSION: lay out OUT/rom-VERSION/system/.
rom_tree() {
	local v=$1
	local sys=$OUT/rom-$v/system
	rm -rf "$sys"
	mkdir -p "$sys"
	install -m 0644 "$SAMPLES_DIR/rom/$v/build.prop" "$sys/build.prop"
	cp -R "$SAMPLES_DIR/rom/etc" "$sys/etc"
	put framework-res "$sys/framework/framework-res.apk"
	put platformapp "$sys/priv-app/SystemUpdater/SystemUpdater.apk"
	put nativeurl "$sys/app/NativeUrl/NativeUrl.apk"
	# Installed system apps carry their extracted native libraries beside the APK.
	mkdir -p "$sys/app/NativeUrl/lib/x86_64"
	unzip -p "$OUT/apks/nativeurl.apk" lib/x86_64/libbeacon.so >"$sys/app/NativeUrl/lib/x86_64/libbeacon.so"
	case $v in
	v1)
		put harvester "$sys/priv-app/Harvester/Harvester.apk"
		put benign "$sys/app/Notes/Notes.apk"
		put tracker "$sys/app/Tracker/Tracker.apk"
		put flowcases "$sys/app/FlowCases/FlowCases.apk"
		;;
	v2)
		# re-signed with the "other" key
		put harvester-other "$sys/priv-app/Harvester/Harvester.apk"
		# updated: versionCode 2, READ_CONTACTS, getDeviceId, a new endpoint
		put benign-v2 "$sys/app/Notes/Notes.apk"
		# removed: app/Tracker; added: app/Weather
		put weather "$sys/app/Weather/Weather.apk"
		# moved: app/FlowCases -> priv-app/FlowCases (same APK bytes)
		put flowcases "$sys/priv-app/FlowCases/FlowCases.apk"
		;;
	*) die "unknown ROM version $v" ;;
	esac
	find "$sys" -type d -exec chmod 0755 {} +
	find "$sys" -type f -exec chmod 0644 {} +
	stamp_tree "$sys"
}

# rom_ext4 VERSION: system.img (ext4, no journal, read-only style), sized to fit, deterministic.
rom_ext4() {
	local v=$1 n=${1#v}
	local dir=$OUT/rom-$v sys=$OUT/rom-$v/system img=$OUT/rom-$v/system.img work=$OUT/work/rom-$v
	local entries data blocks inodes try
	entries=$(find "$sys" | wc -l)
	data=$(du -s --block-size=4096 "$sys" | cut -f1)
	inodes=$(((entries + 32 + 15) / 16 * 16))
	# data + a block per entry for directories/extents + inode tables + metadata slack; grow if it does not fit.
	blocks=$((data + entries + inodes / 16 + 256))
	for try in 1 2 3 4 5; do
		rm -f "$img"
		# mke2fs copies atime/ctime from the source files; re-stamp just before, then fix ctime below.
		stamp_tree "$sys"
		if mke2fs -q -F -t ext4 -b 4096 -I 256 -N "$inodes" -m 0 -L system \
			-O ^has_journal,^resize_inode \
			-U "5a3c0000-0000-4000-8000-00000000000$n" \
			-E "hash_seed=5a3c0000-0000-4000-8000-0000000000a$n,root_owner=0:0,lazy_itable_init=0" \
			-d "$sys" "$img" "$blocks" >"$work/mke2fs.log" 2>&1; then
			break
		fi
		((try < 5)) || { cat "$work/mke2fs.log" >&2; die "mke2fs failed for rom-$v"; }
		blocks=$((blocks * 3 / 2))
	done
	# ctime cannot be set from outside, and -d copies the builder's uid/gid: overwrite them in every inode.
	(cd "$sys" && find . | sed 's|^\.$|/|; s|^\.||' | sort) | while IFS= read -r p; do
		echo "set_inode_field $p ctime @$SOURCE_DATE_EPOCH"
		echo "set_inode_field $p atime @$SOURCE_DATE_EPOCH"
		echo "set_inode_field $p uid 0"
		echo "set_inode_field $p gid 0"
	done >"$work/debugfs.cmds"
	run "$work/debugfs.log" debugfs -w -f "$work/debugfs.cmds" "$img"
	grep -q 'set_inode_field: ' "$work/debugfs.log" && { cat "$work/debugfs.log" >&2; die "debugfs failed for rom-$v"; }
	touch -d "@$SOURCE_DATE_EPOCH" "$img"
}

# rom_sparse VERSION: system.simg, the Android sparse form of system.img.
rom_sparse() {
	local dir=$OUT/rom-$1
	rm -f "$dir/system.simg"
	run "$OUT/work/rom-$1/img2simg.log" img2simg "$dir/system.img" "$dir/system.simg"
	touch -d "@$SOURCE_DATE_EPOCH" "$dir/system.simg"
}

# prop FILE KEY: a build.prop value.
prop() { sed -n "s/^$2=//p" "$1" | head -n1; }

# rom_block_ota VERSION: ota-block.zip, a full block OTA (transfer list v4, brotli new data, metadata).
rom_block_ota() {
	local v=$1
	local dir=$OUT/rom-$v stage=$OUT/work/rom-$v/ota
	local props=$OUT/rom-$v/system/build.prop
	local size blocks
	size=$(stat -c %s "$dir/system.img")
	((size % 4096 == 0)) || die "system.img size $size is not a multiple of 4096"
	blocks=$((size / 4096))
	rm -rf "$stage"
	mkdir -p "$stage/META-INF/com/android" "$stage/META-INF/com/google/android"
	# Version 4: version, blocks written by "new", simultaneous stash entries, max stash blocks; then commands.
	# A full OTA writes every block once.
	printf '4\n%d\n0\n0\nerase 2,0,%d\nnew 2,0,%d\n' "$blocks" "$blocks" "$blocks" >"$stage/system.transfer.list"
	brotli -q 6 -w 24 -c "$dir/system.img" >"$stage/system.new.dat.br"
	: >"$stage/system.patch.dat"
	cat >"$stage/META-INF/com/android/metadata" <<-EOF
		ota-required-cache=0
		ota-type=BLOCK
		post-build=$(prop "$props" ro.build.fingerprint)
		post-build-incremental=$(prop "$props" ro.build.version.incremental)
		post-sdk-level=$(prop "$props" ro.build.version.sdk)
		post-security-patch-level=$(prop "$props" ro.build.version.security_patch)
		post-timestamp=$(prop "$props" ro.build.date.utc)
		pre-device=$(prop "$props" ro.product.device)
	EOF
	cat >"$stage/META-INF/com/google/android/updater-script" <<-'EOF'
		ui_print("romscan sample ROM: full block OTA");
		block_image_update("/dev/block/by-name/system", package_extract_file("system.transfer.list"), "system.new.dat.br", "system.patch.dat") ||
		  abort("E1001: Failed to update system image.");
	EOF
	zip_tree "$stage" "$dir/ota-block.zip" META-INF/com/android/metadata
	touch -d "@$SOURCE_DATE_EPOCH" "$dir/ota-block.zip"
}

# rom_fastboot VERSION: fastboot.tgz holding example-rom-VERSION/system.img (sparse, as fastboot packages ship it).
rom_fastboot() {
	local v=$1
	local dir=$OUT/rom-$v stage=$OUT/work/rom-$v/fastboot
	rm -rf "$stage"
	mkdir -p "$stage/example-rom-$v"
	cp "$dir/system.simg" "$stage/example-rom-$v/system.img"
	stamp_tree "$stage"
	tar --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner --format=gnu \
		-C "$stage" -cf - "example-rom-$v" | gzip -n -9 >"$dir/fastboot.tgz"
	touch -d "@$SOURCE_DATE_EPOCH" "$dir/fastboot.tgz"
}

# rom_erofs VERSION: system.erofs, LZ4HC-compressed like Android's EROFS partitions.
rom_erofs() {
	local v=$1 n=${1#v}
	local dir=$OUT/rom-$v
	rm -f "$dir/system.erofs"
	run "$OUT/work/rom-$v/mkfs.erofs.log" mkfs.erofs -zlz4hc -T"$SOURCE_DATE_EPOCH" \
		-U "5a3c0000-0000-4000-8000-0000000000e$n" --all-root "$dir/system.erofs" "$dir/system"
	touch -d "@$SOURCE_DATE_EPOCH" "$dir/system.erofs"
}

# go_tools: build the Go sample writers (samples/cmd/mkpayload, mksuper) once per run into OUT/work/bin.
GO_TOOLS_BUILT=0
go_tools() {
	((GO_TOOLS_BUILT)) && return
	mkdir -p "$OUT/work/bin"
	(cd "$SAMPLES_DIR/.." && run "$OUT/work/go-build.log" go build -trimpath -o "$OUT/work/bin/" ./samples/cmd/mkpayload ./samples/cmd/mksuper)
	GO_TOOLS_BUILT=1
}

# ota_metadata VERSION TYPE FILE: META-INF/com/android/metadata for an OTA of TYPE (AB, BLOCK) from build.prop.
ota_metadata() {
	local props=$OUT/rom-$1/system/build.prop
	cat >"$3" <<-EOF
		ota-required-cache=0
		ota-type=$2
		post-build=$(prop "$props" ro.build.fingerprint)
		post-build-incremental=$(prop "$props" ro.build.version.incremental)
		post-sdk-level=$(prop "$props" ro.build.version.sdk)
		post-security-patch-level=$(prop "$props" ro.build.version.security_patch)
		post-timestamp=$(prop "$props" ro.build.date.utc)
		pre-device=$(prop "$props" ro.product.device)
	EOF
}

# rom_payload VERSION: ota-payload.zip, an A/B OTA: payload.bin (full payload, partition "system" = system.img in
# 2 MiB REPLACE_XZ operations, written by payload.Write), payload_properties.txt and the metadata, all STORED.
rom_payload() {
	local v=$1
	local dir=$OUT/rom-$v work=$OUT/work/rom-$v
	go_tools
	ota_metadata "$v" AB "$work/payload-metadata"
	rm -f "$dir/ota-payload.zip"
	run "$work/mkpayload.log" "$OUT/work/bin/mkpayload" -o "$dir/ota-payload.zip" -metadata "$work/payload-metadata" \
		-epoch "$SOURCE_DATE_EPOCH" "system=$dir/system.img"
	touch -d "@$SOURCE_DATE_EPOCH" "$dir/ota-payload.zip"
}

# rom_vendor VERSION IMG: a small ext4 vendor image holding vendor/build.prop (ro.vendor.* and ro.product.vendor.*).
rom_vendor() {
	local v=$1 img=$2 n=${1#v}
	local work=$OUT/work/rom-$v
	local props=$OUT/rom-$v/system/build.prop vdir=$OUT/work/rom-$v/vendor
	rm -rf "$vdir" "$img"
	mkdir -p "$vdir"
	cat >"$vdir/build.prop" <<-EOF
		# romscan sample ROM $v vendor partition (built by samples/build.sh; not a real device)
		ro.vendor.build.fingerprint=$(prop "$props" ro.build.fingerprint)
		ro.vendor.build.id=$(prop "$props" ro.build.id)
		ro.vendor.build.version.incremental=$(prop "$props" ro.build.version.incremental)
		ro.vendor.build.version.release=$(prop "$props" ro.build.version.release)
		ro.vendor.build.version.sdk=$(prop "$props" ro.build.version.sdk)
		ro.vendor.build.security_patch=$(prop "$props" ro.build.version.security_patch)
		ro.vendor.build.date.utc=$(prop "$props" ro.build.date.utc)
		ro.vendor.build.tags=$(prop "$props" ro.build.tags)
		ro.product.vendor.brand=$(prop "$props" ro.product.brand)
		ro.product.vendor.manufacturer=$(prop "$props" ro.product.manufacturer)
		ro.product.vendor.model=$(prop "$props" ro.product.model)
		ro.product.vendor.device=$(prop "$props" ro.product.device)
		ro.product.vendor.name=$(prop "$props" ro.product.name)
	EOF
	chmod 0755 "$vdir"
	chmod 0644 "$vdir/build.prop"
	stamp_tree "$vdir"
	run "$work/mke2fs-vendor.log" mke2fs -q -F -t ext4 -b 4096 -I 256 -N 32 -m 0 -L vendor \
		-O ^has_journal,^resize_inode \
		-U "5a3c0000-0000-4000-8000-0000000000b$n" \
		-E "hash_seed=5a3c0000-0000-4000-8000-0000000000c$n,root_owner=0:0,lazy_itable_init=0" \
		-d "$vdir" "$img" 256
	local p
	for p in / /build.prop /lost+found; do
		echo "set_inode_field $p ctime @$SOURCE_DATE_EPOCH"
		echo "set_inode_field $p atime @$SOURCE_DATE_EPOCH"
		echo "set_inode_field $p uid 0"
		echo "set_inode_field $p gid 0"
	done >"$work/debugfs-vendor.cmds"
	run "$work/debugfs-vendor.log" debugfs -w -f "$work/debugfs-vendor.cmds" "$img"
	grep -q 'set_inode_field: ' "$work/debugfs-vendor.log" && { cat "$work/debugfs-vendor.log" >&2; die "debugfs failed for vendor of rom-$v"; }
	touch -d "@$SOURCE_DATE_EPOCH" "$img"
}

# rom_super VERSION: super.img (dynamic partitions: "system" = system.erofs, "vendor" = a small ext4 with a vendor
# build.prop; LP metadata with 2 slots, written by superimg.Write) and super.simg, its sparse form (img2simg).
rom_super() {
	local v=$1
	local dir=$OUT/rom-$v work=$OUT/work/rom-$v
	go_tools
	rom_vendor "$v" "$work/vendor.img"
	rm -f "$dir/super.img" "$dir/super.simg"
	run "$work/mksuper.log" "$OUT/work/bin/mksuper" -o "$dir/super.img" "system=$dir/system.erofs" "vendor=$work/vendor.img"
	run "$work/img2simg-super.log" img2simg "$dir/super.img" "$dir/super.simg"
	touch -d "@$SOURCE_DATE_EPOCH" "$dir/super.img" "$dir/super.simg"
}

build_rom() {
	local v=$1
	log "rom-$v"
	mkdir -p "$OUT/work/rom-$v"
	rom_tree "$v"
	rom_ext4 "$v"
	rom_sparse "$v"
	rom_block_ota "$v"
	rom_fastboot "$v"
	rom_erofs "$v"
	rom_payload "$v"
	rom_super "$v"
}

# sums: OUT/SHA256SUMS over every built artefact, to check determinism between runs.
sums() {
	(
		cd "$OUT"
		local d dirs=()
		for d in apks rom-v1 rom-v2; do [[ -d $d ]] && dirs+=("$d"); done
		((${#dirs[@]})) || exit 0
		find "${dirs[@]}" -type f ! -path '*/system/*' | sort | xargs -r sha256sum
	) >"$OUT/SHA256SUMS"
}

# --- main ---------------------------------------------------------------------------------------------------------

main() {
	while getopts 'o:h' opt; do
		case $opt in
		o) OUT=$OPTARG ;;
		h)
			sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
			exit 0
			;;
		*) die "usage: build.sh [-o OUT] [apks|rom|all|clean]" ;;
		esac
	done
	shift $((OPTIND - 1))
	local target=${1:-all}
	mkdir -p "$OUT"
	OUT=$(cd "$OUT" && pwd)
	case $target in
	apks)
		check_tools apks
		build_apks
		;;
	rom | all)
		check_tools rom
		build_apks
		build_rom v1
		build_rom v2
		;;
	clean)
		rm -rf "$OUT"
		return
		;;
	*) die "unknown target $target (want apks, rom, all or clean)" ;;
	esac
	sums
	log "done: $OUT"
}

main "$@"
