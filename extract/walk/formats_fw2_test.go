package walk

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/romscan/romscan/extract"
	"github.com/romscan/romscan/internal/testutil"
)

// seen is what a walk met: leaves (location → kind), their SHA-256 when
// asked, errors and containers.
type seen struct {
	mu         sync.Mutex
	leaves     map[string]Kind
	sums       map[string]string
	errs       map[string]error
	containers map[string][]ContainerInfo
}

// walkSeen walks inputs with the default limits. With maxDepth > 0 the walk
// opens containers only that many hops deep and hands deeper ones out as
// leaves. With hash set every leaf is read and hashed.
func walkSeen(t *testing.T, maxDepth int, hash bool, inputs ...string) (*seen, *Spiller) {
	t.Helper()
	spill := &Spiller{}
	t.Cleanup(func() { spill.Close() })
	s := &seen{leaves: map[string]Kind{}, sums: map[string]string{}, errs: map[string]error{}, containers: map[string][]ContainerInfo{}}
	w := New(extract.DefaultLimits(), spill)
	if maxDepth > 0 {
		w.Descend = func(loc extract.Location, format string) bool { return len(loc) <= maxDepth }
	}
	w.Visit = func(l *Leaf) {
		defer l.Done()
		sum := ""
		if hash {
			h := sha256.New()
			if _, err := io.Copy(h, io.NewSectionReader(l.R, 0, l.Size)); err != nil {
				t.Errorf("%s: read: %v", l.Loc, err)
			}
			sum = hex.EncodeToString(h.Sum(nil))
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.leaves[l.Loc.String()] = l.Kind
		s.sums[l.Loc.String()] = sum
	}
	w.OnError = func(loc extract.Location, err error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.errs[loc.String()] = err
	}
	w.OnContainer = func(ci ContainerInfo) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.containers[ci.Loc.String()] = append(s.containers[ci.Loc.String()], ci)
	}
	if err := w.Walk(context.Background(), inputs); err != nil {
		t.Fatal(err)
	}
	return s, spill
}

// format returns the innermost format opened at loc ("" when none).
func (s *seen) format(loc string) string {
	cs := s.containers[loc]
	if len(cs) == 0 {
		return ""
	}
	return cs[len(cs)-1].Format
}

func (s *seen) notes(loc string) []string {
	var out []string
	for _, c := range s.containers[loc] {
		out = append(out, c.Notes...)
	}
	return out
}

func (s *seen) errorList() []string {
	var out []string
	for loc, err := range s.errs {
		out = append(out, loc+": "+err.Error())
	}
	sort.Strings(out)
	return out
}

// newcEntry is one file of a newc cpio archive.
type newcEntry struct {
	name string
	mode uint32
	data string
}

func newcArchive(entries ...newcEntry) []byte {
	var b bytes.Buffer
	align := func() {
		for b.Len()%4 != 0 {
			b.WriteByte(0)
		}
	}
	for i, e := range append(entries, newcEntry{name: "TRAILER!!!"}) {
		fmt.Fprintf(&b, "070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
			i+1, e.mode, 0, 0, 1, 0, len(e.data), 0, 0, 0, 0, len(e.name)+1, 0)
		b.WriteString(e.name + "\x00")
		align()
		b.WriteString(e.data)
		align()
	}
	return b.Bytes()
}

// bootV0 makes a header-version-0 boot image (2 KiB pages) with a kernel and
// a gzip ramdisk (none when ramdisk is nil).
func bootV0(t *testing.T, ramdisk []byte) []byte {
	t.Helper()
	const page = 2048
	var rd []byte
	if ramdisk != nil {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(ramdisk)
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		rd = z.Bytes()
	}
	kernel := bytes.Repeat([]byte{0x1f}, 3000)
	le := binary.LittleEndian
	h := make([]byte, page)
	copy(h, "ANDROID!")
	le.PutUint32(h[8:], uint32(len(kernel)))
	le.PutUint32(h[16:], uint32(len(rd)))
	le.PutUint32(h[36:], page)
	copy(h[48:], "sample")
	out := h
	for _, part := range [][]byte{kernel, rd} {
		out = append(out, part...)
		for len(out)%page != 0 {
			out = append(out, 0)
		}
	}
	return out
}

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestBootImageRamdisk checks a boot image's ramdisk files become leaves
// named from the ramdisk root, with init*.rc and *.prop as text.
func TestBootImageRamdisk(t *testing.T) {
	tree := newcArchive(
		newcEntry{"init.rc", 0o100644, "on boot\n    setprop persist.example.url http://42.62.48.80/boot\n"},
		newcEntry{"default.prop", 0o100644, "ro.secure=0\nro.debuggable=1\n"},
		newcEntry{"system", 0o40755, ""},
		newcEntry{"system/etc", 0o40755, ""},
		newcEntry{"system/etc/init.example.rc", 0o100644, "service x /system/bin/x\n"},
		newcEntry{"init", 0o100755, "\x7fELF\x02\x01\x01\x00not really"},
		newcEntry{"init.link.rc", 0o120777, "init.rc"},
	)
	tests := []struct {
		name    string
		img     []byte
		want    map[string]Kind
		wantErr bool
	}{
		{"ramdisk", bootV0(t, tree), map[string]Kind{
			"boot.img!/default.prop":               KindText,
			"boot.img!/init":                       KindELF,
			"boot.img!/init.rc":                    KindText,
			"boot.img!/system/etc/init.example.rc": KindText,
		}, false},
		{"no-ramdisk", bootV0(t, nil), map[string]Kind{}, false},
		{"corrupt-ramdisk", bootV0(t, []byte("070701zzzz")), map[string]Kind{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, spill := walkSeen(t, 0, true, writeFile(t, "boot.img", tc.img))
			if diff := cmp.Diff(tc.want, s.leaves); diff != "" {
				t.Errorf("leaves (-want +got):\n%s", diff)
			}
			if got := s.format("boot.img"); got != "bootimg" && !tc.wantErr {
				t.Errorf("container format %q, want bootimg", got)
			}
			if gotErr := len(s.errs) > 0; gotErr != tc.wantErr {
				t.Errorf("errors %v, want some: %v", s.errorList(), tc.wantErr)
			}
			if spill.Written() != 0 {
				t.Errorf("%d bytes spilled, want 0", spill.Written())
			}
		})
	}
}

// TestBootImageCorpus walks the real boot images of the corpus (xz-compressed
// there, so the xz stream is decoded first).
func TestBootImageCorpus(t *testing.T) {
	tests := []struct {
		file      string
		minLeaves int
		want      map[string]Kind // some of the leaves
	}{
		{"issue_54/boot.img.xz", 30, map[string]Kind{"boot.img.xz!/sbin/charger": KindELF, "boot.img.xz!/.backup/.magisk": KindOther}},
		{"issue_83/init_boot.img.xz", 3, map[string]Kind{"init_boot.img.xz!/init": KindELF, "init_boot.img.xz!/system/etc/ramdisk/build.prop": KindText}},
		{"issue_122/ramdisk.img.xz", 2, map[string]Kind{"ramdisk.img.xz!/init": KindELF}},
		{"issue_125/vendor_boot.img.xz", 60, map[string]Kind{"vendor_boot.img.xz!/first_stage_ramdisk/fstab.amlogic": KindOther, "vendor_boot.img.xz!/lib/modules/exfat.ko": KindELF}},
	}
	for _, tc := range tests {
		t.Run(filepath.Dir(tc.file), func(t *testing.T) {
			p := testutil.Corpus(t, filepath.Join("firmware/boot-images", tc.file))
			s, _ := walkSeen(t, 0, false, p)
			if len(s.errs) > 0 {
				t.Errorf("errors: %v", s.errorList())
			}
			base := filepath.Base(tc.file)
			if got := s.format(base); got != "bootimg" {
				t.Errorf("%s opened as %q, want bootimg", base, got)
			}
			if len(s.leaves) < tc.minLeaves {
				t.Errorf("%d leaves, want at least %d", len(s.leaves), tc.minLeaves)
			}
			for loc, kind := range tc.want {
				if got, ok := s.leaves[loc]; !ok || got != kind {
					t.Errorf("leaf %s: kind %v (listed %v), want %v", loc, got, ok, kind)
				}
			}
		})
	}
}

// TestVBMetaCorpus checks vbmeta images are listed as containers with their
// property descriptors as notes.
func TestVBMetaCorpus(t *testing.T) {
	tests := []struct {
		file string
		want []string // some of the notes
	}{
		{"redfin-rd1a.200810.021.a1/vbmeta.img.xz", []string{
			"vbmeta property com.android.build.boot.fingerprint=google/redfin/redfin:11/RD1A.200810.021.A1/6795347:user/release-keys",
		}},
		{"coral-qq1d.200205.002/vbmeta_system.img", []string{
			"vbmeta property com.android.build.system.security_patch=2020-02-05",
			"vbmeta: SHA256_RSA4096, signature valid, rollback index 1580860800, 0 hash and 1 hashtree descriptors, 0 chained partitions",
		}},
		{"blueline-pq1a.181105.017.a1/vbmeta.img", []string{
			"vbmeta: SHA256_RSA2048, signature valid, rollback index 1541376000, 2 hash and 2 hashtree descriptors, 1 chained partitions",
		}},
	}
	for _, tc := range tests {
		t.Run(filepath.Dir(tc.file), func(t *testing.T) {
			p := testutil.Corpus(t, filepath.Join("firmware/boot-images", tc.file))
			s, _ := walkSeen(t, 0, false, p)
			base := filepath.Base(tc.file)
			if len(s.errs) > 0 || len(s.leaves) > 0 {
				t.Errorf("errors %v, leaves %v; want neither", s.errorList(), s.leaves)
			}
			if got := s.format(base); got != "vbmeta" {
				t.Errorf("%s opened as %q, want vbmeta", base, got)
			}
			notes := s.notes(base)
			for _, n := range tc.want {
				if !contains(notes, n) {
					t.Errorf("note %q missing from %q", n, notes)
				}
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestVBMetaHostile feeds vbmeta images cut short or with lying sizes: an
// error for the file, never a panic, and no note from a bad header.
func TestVBMetaHostile(t *testing.T) {
	p := testutil.Corpus(t, "firmware/boot-images/blueline-pq1a.181105.017.a1/vbmeta.img")
	good, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	huge := bytes.Clone(good)
	binary.BigEndian.PutUint64(huge[12:], 1<<62) // authentication block size
	tests := []struct {
		name    string
		b       []byte
		wantErr bool // else the file is not taken for a vbmeta image at all
	}{
		{"magic-only", []byte("AVB0"), false},
		{"truncated", good[:300], true},
		{"huge-block", huge, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := walkSeen(t, 0, false, writeFile(t, "vbmeta.img", tc.b))
			if gotErr := len(s.errs) > 0; gotErr != tc.wantErr {
				t.Errorf("errors %v, want some: %v", s.errorList(), tc.wantErr)
			}
			if len(s.containers) > 0 {
				t.Errorf("containers %v, want none", s.containers)
			}
		})
	}
}

// TestCleanNote checks attacker strings lose control bytes and length.
func TestCleanNote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain=1", "plain=1"},
		{"a\x1b[31mred\r\nb\x00", "a[31mredb"},
		{strings.Repeat("é", 200), strings.Repeat("é", 128) + "…"},
	}
	for _, tc := range tests {
		if got := clean(tc.in); got != tc.want {
			t.Errorf("clean(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestPayloadCorpusWalk reads the AOSP sample payloads through the walk. The
// byte-for-byte check against sample_images.tar.bz2 is the payload package's
// (TestFullPayloadCorpus); here the partitions' SHA-256 must be the images'
// published ones, and the delta payload must say it needs the base.
func TestPayloadCorpusWalk(t *testing.T) {
	full := testutil.Corpus(t, "firmware/aosp-update_engine/full_payload.bin")
	// Stop below the payload: the kernel partition is an ext2 image the walk
	// would otherwise open.
	s, spill := walkSeen(t, 1, true, full)
	if len(s.errs) > 0 {
		t.Errorf("errors: %v", s.errorList())
	}
	want := map[string]string{
		"full_payload.bin!kernel": "c51d9edeaf1043efe41257caebc1336ac21e411abb6ed4183324be6e841c448c",
		"full_payload.bin!root":   "5610597d03d3e29f01d722bd743296ef68d076f623c1dca2eb135347c6b8efba",
	}
	if diff := cmp.Diff(want, s.sums); diff != "" {
		t.Errorf("partition SHA-256 (-want +got):\n%s", diff)
	}
	if spill.Written() != 0 {
		t.Errorf("%d bytes spilled, want 0", spill.Written())
	}
	if diff := cmp.Diff([]string{
		"payload: full, 2 partitions",
		"payload: partition kernel, 4194304 bytes, 2 operations",
		"payload: partition root, 12288 bytes, 1 operations",
	}, s.notes("full_payload.bin")); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}

	delta := testutil.Corpus(t, "firmware/aosp-update_engine/delta_payload.bin")
	s, _ = walkSeen(t, 1, false, delta)
	err := s.errs["delta_payload.bin!kernel"]
	if !errors.Is(err, extract.ErrNeedsBase) || !strings.Contains(err.Error(), "--base") {
		t.Errorf("delta kernel: error %v, want one wrapping ErrNeedsBase that names --base", err)
	}
	if !contains(s.notes("delta_payload.bin"), "payload: partition kernel, 4194304 bytes, 14 operations, needs the base partition") {
		t.Errorf("delta notes %q", s.notes("delta_payload.bin"))
	}
}

// TestSuperEmptyCorpus checks the metadata-only super images list their
// (empty) partitions as notes of the super container.
func TestSuperEmptyCorpus(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"super_empty-group_basic.img", []string{
			"super: 4 logical partitions on 1 block devices",
			"super: partition system, group group_basic, 0 bytes, 0 extents, readonly",
			"super: partition vendor, group group_basic, 0 bytes, 0 extents, readonly",
			"super: partition product, group group_basic, 0 bytes, 0 extents, readonly",
			"super: partition odm, group group_basic, 0 bytes, 0 extents, readonly",
		}},
		{"super_empty-oneplus6t-retrofit.img", []string{
			"super: 5 logical partitions on 3 block devices",
			"super: partition odm, group oneplus_dynamic_partitions, 0 bytes, 0 extents, readonly, slot-suffixed",
			"super: partition product, group oneplus_dynamic_partitions, 0 bytes, 0 extents, readonly, slot-suffixed",
			"super: partition system, group oneplus_dynamic_partitions, 0 bytes, 0 extents, readonly, slot-suffixed",
			"super: partition system_ext, group oneplus_dynamic_partitions, 0 bytes, 0 extents, readonly, slot-suffixed",
			"super: partition vendor, group oneplus_dynamic_partitions, 0 bytes, 0 extents, readonly, slot-suffixed",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			s, _ := walkSeen(t, 0, false, testutil.Corpus(t, filepath.Join("firmware/lp-metadata", tc.file)))
			if len(s.errs) > 0 || len(s.leaves) > 0 {
				t.Errorf("errors %v, leaves %v; want neither", s.errorList(), s.leaves)
			}
			if got := s.format(tc.file); got != "super" {
				t.Errorf("opened as %q, want super", got)
			}
			if diff := cmp.Diff(tc.want, s.notes(tc.file)); diff != "" {
				t.Errorf("notes (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEROFSMatchesFsck checks the walk lists the same regular files, with
// the same contents, as fsck.erofs --extract, for the corpus images and the
// sample ROM's LZ4HC-compressed system.erofs.
func TestEROFSMatchesFsck(t *testing.T) {
	if _, err := exec.LookPath("fsck.erofs"); err != nil {
		t.Skip("fsck.erofs not installed (Debian package erofs-utils): skipping")
	}
	corpus := testutil.CorpusDir()
	var images []string
	if corpus != "" {
		m, _ := filepath.Glob(filepath.Join(corpus, "firmware/erofs/*"))
		images = append(images, m...)
	}
	if testing.Short() {
		t.Log("-short: sample system.erofs not built")
	} else {
		images = append(images, filepath.Join(testutil.Samples(t), "rom-v1/system.erofs"))
	}
	if len(images) == 0 {
		t.Skip("no EROFS images (corpus absent, -short): skipping")
	}
	// fsck.erofs 1.5 reads only 4 KiB blocks and no newer feature bits; the
	// other images of a set hold the same tree, so they are compared with
	// the extraction of their set's 4 KiB image.
	reference := func(img string) string {
		switch b := filepath.Base(img); {
		case strings.HasPrefix(b, "erofs-rs-sample_") && !strings.Contains(b, "noxattrs"):
			return filepath.Join(filepath.Dir(img), "erofs-rs-sample_4096.img")
		case strings.HasPrefix(b, "go-erofs-basic-default-"):
			return filepath.Join(filepath.Dir(img), "go-erofs-basic-default-2025-07.erofs")
		}
		return img
	}
	for _, img := range images {
		t.Run(filepath.Base(img), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "x")
			ref := reference(img)
			out, err := exec.Command("fsck.erofs", "--extract="+dir, ref).CombinedOutput()
			if err != nil {
				t.Skipf("fsck.erofs cannot extract %s (%v): %s", filepath.Base(ref), err, bytes.TrimSpace(out))
			}
			want := map[string]string{}
			err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
				if err != nil || !d.Type().IsRegular() {
					return err
				}
				b, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				rel, _ := filepath.Rel(dir, p)
				sum := sha256.Sum256(b)
				want[filepath.Base(img)+"!/"+filepath.ToSlash(rel)] = hex.EncodeToString(sum[:])
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			s, spill := walkSeen(t, 1, true, img)
			if len(s.errs) > 0 {
				t.Errorf("errors: %v", s.errorList())
			}
			got := s.sums
			if strings.HasSuffix(img, "-2026-03.erofs") {
				// Newer than its reference: it adds files with long xattr name
				// prefixes (the feature fsck.erofs 1.5 refuses).
				const extra = "go-erofs-basic-default-2026-03.erofs!/usr/lib/generated/xattrs/"
				n := 0
				for k := range got {
					if strings.HasPrefix(k, extra) {
						delete(got, k)
						n++
					}
				}
				if n != 3 {
					t.Errorf("%d files under %s, want 3", n, extra)
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("files (-fsck.erofs +walk):\n%s", diff)
			}
			if spill.Written() != 0 {
				t.Errorf("%d bytes spilled, want 0", spill.Written())
			}
		})
	}
}
