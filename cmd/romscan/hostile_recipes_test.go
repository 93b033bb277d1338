package main

import (
	"archive/tar"
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/ulikunitz/xz"
	"google.golang.org/protobuf/proto"

	"github.com/romscan/romscan/extract/erofs"
	"github.com/romscan/romscan/extract/payload"
	"github.com/romscan/romscan/extract/payload/metadata"
	"github.com/romscan/romscan/internal/testutil"
)

// Recipes of the hostile corpus that need more than a zip writer. A recipe
// returns nil (and logs why) when its tool or corpus file is missing.

// corpusFile reads a file of ../shared/corpus, or nil without the corpus.
func corpusFile(t *testing.T, rel string) []byte {
	t.Helper()
	c := testutil.CorpusDir()
	if c == "" {
		t.Logf("%s: no corpus, recipe skipped", rel)
		return nil
	}
	b, err := os.ReadFile(filepath.Join(c, rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// corpusXZ is corpusFile for an xz-compressed file, decompressed.
func corpusXZ(t *testing.T, rel string) []byte {
	t.Helper()
	b := corpusFile(t, rel)
	if b == nil {
		return nil
	}
	r, err := xz.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// linksTar holds symlinks out of the tree (relative, absolute, and one a
// later member is written through), a symlink loop, a hard link to a host
// file, and members named with "../", an absolute path and a drive letter.
func linksTar(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	hdrs := []tar.Header{
		{Name: "d/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "d/escape", Typeflag: tar.TypeSymlink, Linkname: "../../../../../etc/passwd"},
		{Name: "abs", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"},
		{Name: "loop-a", Typeflag: tar.TypeSymlink, Linkname: "loop-b"},
		{Name: "loop-b", Typeflag: tar.TypeSymlink, Linkname: "loop-a"},
		{Name: "self", Typeflag: tar.TypeSymlink, Linkname: "self"},
		{Name: "hard", Typeflag: tar.TypeLink, Linkname: "/etc/passwd"},
		// "up" points at the extract folder's parent: a member written
		// through it would land outside the output folder.
		{Name: "up", Typeflag: tar.TypeSymlink, Linkname: "../../"},
	}
	for _, h := range hdrs {
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"up/pwned.prop", "../tar-escape.prop", "/abs-tar.prop", "C:\\tar.prop", "d/ok.prop"} {
		body := []byte("ro.x=1\n")
		if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(body))}); err != nil {
			t.Fatal(err)
		}
		tw.Write(body)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// cycleDirName names the folder whose entry cycle.ext4 points back at the
// root; its length is part of the byte pattern patched.
const cycleDirName = "loopdir0123"

// linksImage builds an ext4 or EROFS image (with mkfs.ext4 or mkfs.erofs)
// holding a symlink loop, a self link, and links out of the tree. With
// cycle, a folder's directory entry is patched to point at the root inode,
// so the tree has a directory cycle.
func linksImage(t *testing.T, kind string, cycle bool) []byte {
	t.Helper()
	tool := map[string]string{"ext4": "mkfs.ext4", "erofs": "mkfs.erofs"}[kind]
	if _, err := exec.LookPath(tool); err != nil {
		t.Logf("%s: %s missing, recipe skipped", kind, tool)
		return nil
	}
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	for _, d := range []string{"etc", "cyc/" + cycleDirName + "/deeper"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(root, "etc/build.prop"), []byte("ro.build.fingerprint=x/y:13/1\n"), 0o644)
	os.WriteFile(filepath.Join(root, "cyc", cycleDirName, "deeper/f.prop"), []byte("ro.x=1\n"), 0o644)
	for link, target := range map[string]string{
		"loop-a": "loop-b", "loop-b": "loop-a", "self": "self",
		"escape": "../../../../../etc/passwd", "abs": "/etc/passwd", "etc/up": "../..",
	} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	img := filepath.Join(dir, "img")
	var cmd *exec.Cmd
	if kind == "ext4" {
		// No journal and no metadata checksums: a small image whose
		// directory blocks can be patched without fixing a checksum.
		if err := os.WriteFile(img, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(img, 1<<20); err != nil {
			t.Fatal(err)
		}
		cmd = exec.Command(tool, "-q", "-F", "-b", "1024", "-O", "^has_journal,^metadata_csum,^dir_index", "-d", root, img)
		cmd.Env = append(os.Environ(), "E2FSPROGS_FAKE_TIME=1700000000")
	} else {
		cmd = exec.Command(tool, "-T0", img, root)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", tool, err, out)
	}
	b, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	if cycle && kind == "erofs" {
		// EROFS directory entry: nid u64, nameoff u16, file_type u8 (2 =
		// directory), reserved u8; the folder's entry gets the root's nid.
		fsys, err := erofs.Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		nidOf := func(name string) []byte {
			fi, err := fsys.Stat(name)
			if err != nil {
				t.Fatal(err)
			}
			return binary.LittleEndian.AppendUint64(nil, fi.Sys().(*erofs.Stat).Nid)
		}
		dirNid, rootNid := nidOf("cyc/"+cycleDirName), nidOf(".")
		// The folder's own "." and its child's ".." carry its nid too: the
		// entry wanted is the one whose name offset, counted from the start
		// of its directory block (a multiple of 12 bytes back), names it.
		named := func(i int) bool {
			off := int(binary.LittleEndian.Uint16(b[i+8:]))
			for base := i; base >= 0 && base > i-12*64; base -= 12 {
				if bytes.HasPrefix(b[min(base+off, len(b)):], []byte(cycleDirName)) {
					return true
				}
			}
			return false
		}
		n := 0
		for i := 0; i+12 <= len(b); i++ {
			if bytes.Equal(b[i:i+8], dirNid) && b[i+10] == 2 && named(i) {
				copy(b[i:], rootNid)
				n++
			}
		}
		if n != 1 {
			t.Fatalf("cycle.erofs: %d entries of %q found, want 1", n, cycleDirName)
		}
		return b
	}
	if cycle {
		// ext4 directory entry: inode u32, rec_len u16, name_len u8,
		// file_type u8 (2 = directory), name.
		pat := append([]byte{byte(len(cycleDirName)), 2}, cycleDirName...)
		i := bytes.Index(b, pat)
		if i < 6 {
			t.Fatalf("cycle.ext4: directory entry %q not found", cycleDirName)
		}
		binary.LittleEndian.PutUint32(b[i-6:], 2) // the root inode
	}
	return b
}

// patchZipSizes sets the uncompressed size of every member, in the local
// headers and the central directory, to size.
func patchZipSizes(t *testing.T, b []byte, size uint32) []byte {
	t.Helper()
	out := append([]byte{}, b...)
	n := 0
	for i := 0; i+30 <= len(out); i++ {
		switch binary.LittleEndian.Uint32(out[i:]) {
		case 0x04034b50: // local file header
			binary.LittleEndian.PutUint32(out[i+22:], size)
			n++
		case 0x02014b50: // central directory header
			binary.LittleEndian.PutUint32(out[i+24:], size)
			n++
		}
	}
	if n < 2 {
		t.Fatalf("patchZipSizes: %d headers found", n)
	}
	return out
}

// hugeSparse is a sparse image of 2^32-1 blocks of 4 KiB (16 TiB), all
// "don't care": a tiny file whose decoded size is absurd.
func hugeSparse() []byte {
	const blocks = 0xffffffff
	b := make([]byte, 28+12)
	le := binary.LittleEndian
	le.PutUint32(b[0:], 0xed26ff3a) // magic
	le.PutUint16(b[4:], 1)          // major
	le.PutUint16(b[8:], 28)         // file header size
	le.PutUint16(b[10:], 12)        // chunk header size
	le.PutUint32(b[12:], 4096)      // block size
	le.PutUint32(b[16:], blocks)    // total blocks
	le.PutUint32(b[20:], 1)         // total chunks
	le.PutUint16(b[28:], 0xcac3)    // DONT_CARE
	le.PutUint32(b[32:], blocks)    // chunk blocks
	le.PutUint32(b[36:], 12)        // chunk total size
	return b
}

// payloadOpsOutside is a full OTA payload whose operations write outside
// their partition (extent past the end, data past the blob) and overlap.
func payloadOpsOutside(t *testing.T) []byte {
	t.Helper()
	ext := func(start, n uint64) *metadata.Extent {
		return &metadata.Extent{StartBlock: proto.Uint64(start), NumBlocks: proto.Uint64(n)}
	}
	op := func(typ metadata.InstallOperation_Type, off, n uint64, dst ...*metadata.Extent) *metadata.InstallOperation {
		return &metadata.InstallOperation{Type: typ.Enum(), DataOffset: proto.Uint64(off), DataLength: proto.Uint64(n), DstExtents: dst}
	}
	part := func(name string, size uint64, ops ...*metadata.InstallOperation) *metadata.PartitionUpdate {
		return &metadata.PartitionUpdate{PartitionName: proto.String(name), NewPartitionInfo: &metadata.PartitionInfo{Size: proto.Uint64(size)}, Operations: ops}
	}
	m := &metadata.DeltaArchiveManifest{
		BlockSize: proto.Uint32(4096),
		Partitions: []*metadata.PartitionUpdate{
			part("system", 4096, op(payload.OpReplace, 0, 4096, ext(1000, 1))),
			part("vendor", 8192, op(payload.OpReplace, 0, 4096, ext(0, 2)), op(payload.OpZero, 0, 0, ext(1, 1))),
			part("product", 4096, op(payload.OpReplace, 1<<40, 4096, ext(0, 1))),
		},
	}
	raw, err := proto.MarshalOptions{AllowPartial: true}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	hdr := make([]byte, 24)
	copy(hdr, "CrAU")
	binary.BigEndian.PutUint64(hdr[4:], 2)
	binary.BigEndian.PutUint64(hdr[12:], uint64(len(raw)))
	out := append(hdr, raw...)
	return append(out, bytes.Repeat([]byte{0xab}, 4096)...)
}
