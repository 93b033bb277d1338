package ext4

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/andybalholm/brotli"
	"github.com/google/go-cmp/cmp"
	"github.com/romscan/romscan/extract"
	"github.com/romscan/romscan/extract/blockota"
	"github.com/romscan/romscan/internal/testutil"
)

var writeSeeds = flag.Bool("write-seeds", false, "rewrite testdata/fuzz/FuzzExt4 from mke2fs images")

func need(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (Debian package e2fsprogs): skipping", tool)
		}
	}
}

// mkfs builds an image of sizeKiB from src with mke2fs and returns its path.
func mkfs(t testing.TB, src string, sizeKiB int, args ...string) string {
	t.Helper()
	need(t, "mke2fs")
	img := filepath.Join(t.TempDir(), "fs.img")
	cmd := append([]string{"-q", "-F", "-E", "root_owner=0:0", "-d", src}, args...)
	cmd = append(cmd, img, strconv.Itoa(sizeKiB)+"k")
	c := exec.Command("mke2fs", cmd...)
	c.Env = append(os.Environ(), "E2FSPROGS_FAKE_TIME=1700000000")
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("mke2fs %v: %v\n%s", cmd, err, out)
	}
	return img
}

func openImage(t testing.TB, path string) *FS {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fh.Close() })
	st, err := fh.Stat()
	if err != nil {
		t.Fatal(err)
	}
	fsys, err := Open(fh, st.Size())
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	return fsys
}

// entry is what a tree comparison looks at.
type entry struct {
	Type   string
	Mode   fs.FileMode
	Size   int64
	SHA256 string
	Target string
}

func sum(b []byte) string { h := sha256.Sum256(b); return hex.EncodeToString(h[:]) }

// osTree describes a directory on disk.
func osTree(t testing.TB, root string, perms bool) map[string]entry {
	t.Helper()
	out := map[string]entry{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "." || rel == "lost+found" {
			if rel == "lost+found" {
				return filepath.SkipDir
			}
			return nil
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		e := entry{Mode: fi.Mode()}
		if !perms {
			e.Mode = fi.Mode().Type()
		}
		switch {
		case fi.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			e.Type, e.Size, e.SHA256 = "file", fi.Size(), sum(b)
		case fi.IsDir():
			e.Type = "dir"
		case fi.Mode()&fs.ModeSymlink != 0:
			e.Type, e.Target = "symlink", mustReadlink(t, p)
		default:
			e.Type = "other"
		}
		out[filepath.ToSlash(rel)] = e
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func mustReadlink(t testing.TB, p string) string {
	s, err := os.Readlink(p)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fsTree describes our view of an image, reading every file through ReadAt
// in odd-sized pieces and through Read.
func fsTree(t testing.TB, fsys *FS, perms bool) map[string]entry {
	t.Helper()
	out := map[string]entry{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == "." {
			return nil
		}
		if p == "lost+found" {
			return fs.SkipDir
		}
		fi, err := fsys.Stat(p)
		if err != nil {
			return err
		}
		if fi.Mode().Type() != d.Type() {
			t.Errorf("%s: DirEntry type %v, Stat type %v", p, d.Type(), fi.Mode().Type())
		}
		e := entry{Mode: fi.Mode()}
		if !perms {
			e.Mode = fi.Mode().Type()
		}
		switch {
		case fi.Mode().IsRegular():
			b := readFile(t, fsys, p)
			e.Type, e.Size, e.SHA256 = "file", fi.Size(), sum(b)
		case fi.IsDir():
			e.Type = "dir"
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := fsys.ReadLink(p)
			if err != nil {
				return err
			}
			e.Type, e.Target = "symlink", target
		default:
			e.Type = "other"
		}
		out[p] = e
		return nil
	})
	if err != nil {
		t.Fatalf("WalkDir: %v", err)
	}
	return out
}

func readFile(t testing.TB, fsys *FS, p string) []byte {
	t.Helper()
	f, err := fsys.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ra, ok := f.(extract.ReaderAtFile)
	if !ok {
		t.Fatalf("%s: %T is not an extract.ReaderAtFile", p, f)
	}
	fi, _ := f.Stat()
	b := make([]byte, fi.Size())
	// ReadAt in pieces that straddle block boundaries.
	for off := 0; off < len(b); {
		k := min(len(b)-off, 3000+off%5000)
		n, err := ra.ReadAt(b[off:off+k], int64(off))
		if n != k {
			t.Fatalf("%s: ReadAt(%d, %d) = %d, %v", p, k, off, n, err)
		}
		off += k
	}
	seq, err := io.ReadAll(f)
	if err != nil {
		t.Fatalf("%s: Read: %v", p, err)
	}
	if !bytes.Equal(seq, b) {
		t.Fatalf("%s: Read and ReadAt disagree", p)
	}
	return b
}

// buildTree writes a source tree covering the shapes a reader must handle.
// trailingHole adds a file ending in a hole (mke2fs 1.47 with inline_data
// records such a file's size as the end of its last data).
func buildTree(t testing.TB, manyFiles int, trailingHole bool) string {
	t.Helper()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(7, 8))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	write := func(name string, data []byte, mode fs.FileMode) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	write("empty", nil, 0o644)
	write("one", []byte("x"), 0o600)
	write("small.txt", []byte("hello ext4\n"), 0o644)
	write("fifty-nine", random(59), 0o644)
	write("inline-ish", random(150), 0o755)
	write("a/b/c/deep.bin", random(5000), 0o644)
	write("a/b/setuid", random(100), 0o4755)
	write("big.bin", random(3*1024*1024+123), 0o644)
	for i := range manyFiles {
		write(fmt.Sprintf("many/file-with-a-longish-name-%05d", i), []byte(strconv.Itoa(i)), 0o644)
	}
	// Holes: data, hole, data, trailing hole.
	h, err := os.Create(filepath.Join(dir, "holes"))
	if err != nil {
		t.Fatal(err)
	}
	h.WriteAt(random(4096), 0)
	h.WriteAt(random(100), 1<<20)
	h.WriteAt([]byte("end"), 3<<20)
	h.Close()
	// Many data islands: more extents than fit in the inode, so the extent
	// tree has depth > 0 (and ext2/3 need indirect blocks).
	fr, err := os.Create(filepath.Join(dir, "fragmented"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		fr.WriteAt(random(3000), int64(i)*64*1024+int64(i))
	}
	fr.Close()
	if trailingHole {
		h, err := os.Create(filepath.Join(dir, "trailing-hole"))
		if err != nil {
			t.Fatal(err)
		}
		h.WriteAt(random(10), 5000)
		h.Truncate(2 << 20)
		h.Close()
	}
	if err := os.Symlink("small.txt", filepath.Join(dir, "fast-link")); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("long/", 30) + "target"
	if err := os.Symlink(long, filepath.Join(dir, "a/slow-link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("b", filepath.Join(dir, "a/dir-link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "emptydir"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "emptydir"), 0o1777); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestMke2fs(t *testing.T) {
	need(t, "mke2fs")
	src := buildTree(t, 600, true)
	srcInline := buildTree(t, 600, false)
	tests := []struct {
		name   string
		args   []string
		inline bool
		htree  bool // rebuild directories as hash trees with e2fsck -D
	}{
		{name: "ext4", args: []string{"-t", "ext4"}},
		{name: "ext4-htree", args: []string{"-t", "ext4"}, htree: true},
		{name: "ext4-1k-htree", args: []string{"-t", "ext4", "-b", "1024"}, htree: true},
		{name: "ext4-1k", args: []string{"-t", "ext4", "-b", "1024"}},
		{name: "ext2", args: []string{"-t", "ext2"}},
		{name: "ext3-no-extent", args: []string{"-t", "ext3", "-O", "^extent"}},
		{name: "ext2-1k", args: []string{"-t", "ext2", "-b", "1024"}},
		{name: "inline", args: []string{"-t", "ext4", "-O", "inline_data", "-I", "512"}, inline: true},
		{name: "64bit-metabg", args: []string{"-t", "ext4", "-O", "64bit,meta_bg,^resize_inode", "-b", "1024"}},
		{name: "no-flexbg", args: []string{"-t", "ext4", "-O", "^flex_bg", "-I", "128"}},
	}
	want := osTree(t, src, true)
	wantInline := osTree(t, srcInline, true)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src, want := src, want
			if tc.inline {
				src, want = srcInline, wantInline
			}
			img := mkfs(t, src, 32*1024, tc.args...)
			if tc.htree {
				need(t, "e2fsck")
				if out, err := exec.Command("e2fsck", "-fyD", img).CombinedOutput(); err != nil {
					t.Fatalf("e2fsck -D: %v\n%s", err, out)
				}
			}
			fsys := openImage(t, img)
			if tc.htree {
				fi, err := fsys.Stat("many")
				if err != nil {
					t.Fatal(err)
				}
				if fl := fi.Sys().(*Inode).Flags; fl&0x1000 == 0 {
					t.Errorf("many: flags %#x, want an indexed directory", fl)
				}
			}
			if d := cmp.Diff(want, fsTree(t, fsys, true)); d != "" {
				t.Errorf("tree differs (-source +image):\n%s", d)
			}
		})
	}
}

func TestFSTest(t *testing.T) {
	need(t, "mke2fs")
	src := t.TempDir()
	for i, name := range []string{"small.txt", "a/b/c/deep.bin", "a/two", "many/f3", "many/f4", "tiny"} {
		p := filepath.Join(src, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, bytes.Repeat([]byte{byte('a' + i)}, 10+i*3000), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.Mkdir(filepath.Join(src, "emptydir"), 0o755)
	os.Symlink("small.txt", filepath.Join(src, "link"))
	fsys := openImage(t, mkfs(t, src, 4*1024, "-t", "ext4", "-O", "inline_data"))
	if err := fstest.TestFS(fsys, "small.txt", "a/b/c/deep.bin", "many/f3", "emptydir", "link"); err != nil {
		t.Error(err)
	}
}

func TestAPI(t *testing.T) {
	need(t, "mke2fs")
	src := buildTree(t, 3, true)
	fsys := openImage(t, mkfs(t, src, 16*1024, "-t", "ext4", "-L", "myvol"))
	if got := fsys.VolumeName(); got != "myvol" {
		t.Errorf("VolumeName() = %q", got)
	}
	f, err := fsys.Open("fast-link")
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := f.Stat()
	if fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("fast-link mode %v, want symlink", fi.Mode())
	}
	if b, _ := io.ReadAll(f); len(b) != 0 {
		t.Errorf("symlink read %d bytes", len(b))
	}
	in, ok := fi.Sys().(*Inode)
	if !ok || in.Number == 0 {
		t.Errorf("Sys() = %#v", fi.Sys())
	}
	// Intermediate symlinks are not followed.
	if _, err := fsys.Open("a/dir-link/setuid"); err == nil {
		t.Error("Open through a symlinked directory succeeded")
	}
	for _, bad := range []string{"/small.txt", "../x", "a//b", "nope", "small.txt/x"} {
		if _, err := fsys.Open(bad); err == nil {
			t.Errorf("Open(%q) succeeded", bad)
		}
	}
	if _, err := fsys.ReadLink("small.txt"); err == nil {
		t.Error("ReadLink of a regular file succeeded")
	}
	if !Sniff(readHead(t, fsys)) {
		t.Error("Sniff() = false on an ext4 image")
	}
	if Sniff(make([]byte, 2048)) {
		t.Error("Sniff() = true on zeros")
	}
}

func readHead(t testing.TB, fsys *FS) []byte {
	head := make([]byte, 2048)
	fsys.r.ReadAt(head, 0)
	return head
}

// TestUninitExtent fills the blocks of an unwritten extent with 0xff: they
// must still read as zeros.
func TestUninitExtent(t *testing.T) {
	need(t, "mke2fs", "debugfs")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pre"), []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	img := mkfs(t, dir, 8*1024, "-t", "ext4")
	for _, cmd := range []string{"fallocate /pre 1 20", "sif /pre size 86016"} {
		if out, err := exec.Command("debugfs", "-w", "-R", cmd, img).CombinedOutput(); err != nil {
			t.Fatalf("debugfs %s: %v\n%s", cmd, err, out)
		}
	}
	b, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	fsys, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	fi, err := fsys.Stat("pre")
	if err != nil {
		t.Fatal(err)
	}
	m, err := fsys.mapInode(fi.Sys().(*Inode))
	if err != nil {
		t.Fatal(err)
	}
	uninit := 0
	for _, e := range m.extents {
		if e.uninit {
			uninit++
			for i := e.physical * fsys.bs; i < (e.physical+e.count)*fsys.bs; i++ {
				b[i] = 0xff
			}
		}
	}
	if uninit == 0 {
		t.Fatalf("no unwritten extent in %+v", m.extents)
	}
	fsys, _ = Open(bytes.NewReader(b), int64(len(b)))
	got := readFile(t, fsys, "pre")
	want := append([]byte("abc"), make([]byte, 86016-3)...)
	if !bytes.Equal(got, want) {
		t.Errorf("unwritten extent did not read as zeros")
	}
}

func TestHugeSparseFile(t *testing.T) {
	need(t, "mke2fs")
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "huge"))
	if err != nil {
		t.Fatal(err)
	}
	const size = 5<<30 + 12345
	tail := []byte("the end of a file past 4 GiB")
	if _, err := f.WriteAt(tail, size-int64(len(tail))); err != nil {
		f.Close()
		t.Skipf("cannot make a sparse file here: %v", err)
	}
	f.WriteAt([]byte("start"), 0)
	f.Close()
	fsys := openImage(t, mkfs(t, dir, 16*1024, "-t", "ext4"))
	fi, err := fsys.Stat("huge")
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != size {
		t.Errorf("Size() = %d, want %d", fi.Size(), size)
	}
	h, _ := fsys.Open("huge")
	ra := h.(io.ReaderAt)
	got := make([]byte, len(tail)+10)
	n, err := ra.ReadAt(got, size-int64(len(got)))
	if n != len(got) || string(got[10:]) != string(tail) || !bytes.Equal(got[:10], make([]byte, 10)) {
		t.Errorf("tail ReadAt = %d, %v, %q", n, err, got)
	}
	start := make([]byte, 8)
	ra.ReadAt(start, 0)
	if string(start) != "start\x00\x00\x00" {
		t.Errorf("start = %q", start)
	}
}

// debugfsTree dumps an image with debugfs rdump and describes the result.
func debugfsTree(t testing.TB, img string) map[string]entry {
	t.Helper()
	need(t, "debugfs")
	out := t.TempDir()
	if b, err := exec.Command("debugfs", "-R", "rdump / "+out, img).CombinedOutput(); err != nil {
		t.Fatalf("debugfs rdump: %v\n%s", err, b)
	}
	return osTree(t, out, false)
}

func TestCorpusPixel(t *testing.T) {
	for _, name := range []string{"pixel-system_dlkm.img", "pixel-vendor_dlkm.img"} {
		t.Run(name, func(t *testing.T) {
			img := testutil.Corpus(t, "firmware/ext4/"+name)
			want := debugfsTree(t, img)
			fsys := openImage(t, img)
			got := fsTree(t, fsys, false)
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("tree differs (-debugfs +ours):\n%s", d)
			}
			if len(got) < 5 {
				t.Errorf("only %d entries", len(got))
			}
			t.Logf("%s: volume %q, %d entries", name, fsys.VolumeName(), len(got))
		})
	}
}

// irisPrivate opens the Iris HP4024 private partition through blockota.
func irisPrivate(t testing.TB) (*FS, int64) {
	t.Helper()
	dir := testutil.Corpus(t, "firmware/iris-hp4024")
	list, err := os.Open(filepath.Join(dir, "private.transfer.list"))
	if err != nil {
		t.Fatal(err)
	}
	defer list.Close()
	tl, err := blockota.ParseTransferList(list, extract.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	br, err := os.Open(filepath.Join(dir, "private.new.dat.br"))
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	data, err := io.ReadAll(io.LimitReader(brotli.NewReader(br), 64*extract.MiB))
	if err != nil {
		t.Fatal(err)
	}
	im, err := blockota.NewImage(tl, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	fsys, err := Open(im, im.Size())
	if err != nil {
		t.Fatal(err)
	}
	return fsys, im.Size()
}

func TestCorpusIris(t *testing.T) {
	dir := testutil.Corpus(t, "firmware/iris-hp4024")
	tsv, err := os.Open(filepath.Join(dir, "private.files.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer tsv.Close()
	want := map[string]string{}
	sc := bufio.NewScanner(tsv)
	sc.Scan() // header
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		want[strings.TrimPrefix(f[0], "/")] = f[1] + " " + f[2]
	}
	if len(want) != 39 {
		t.Fatalf("private.files.tsv has %d files, want 39", len(want))
	}
	fsys, _ := irisPrivate(t)
	if got := fsys.VolumeName(); got != "private" {
		t.Errorf("VolumeName() = %q, want private", got)
	}
	got := map[string]string{}
	for p, e := range fsTree(t, fsys, false) {
		if e.Type == "file" {
			got[p] = strconv.FormatInt(e.Size, 10) + " " + e.SHA256
		}
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("files differ (-want +got):\n%s", d)
	}
}

func TestHostile(t *testing.T) {
	need(t, "mke2fs")
	src := buildTree(t, 0, true)
	img, err := os.ReadFile(mkfs(t, src, 8*1024, "-t", "ext4", "-b", "1024"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(b []byte)
		want error
	}{
		{name: "no-magic", edit: func(b []byte) { b[1080] = 0 }, want: extract.ErrNotFormat},
		{name: "block-size", edit: func(b []byte) { b[1024+24] = 40 }, want: extract.ErrCorrupt},
		{name: "inode-size", edit: func(b []byte) { b[1024+88] = 3 }, want: extract.ErrCorrupt},
		{name: "zero-per-group", edit: func(b []byte) { clear(b[1024+32 : 1024+36]) }, want: extract.ErrCorrupt},
		{name: "compression", edit: func(b []byte) { b[1024+96] |= 1 }, want: extract.ErrUnsupported},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := bytes.Clone(img)
			tc.edit(b)
			_, err := Open(bytes.NewReader(b), int64(len(b)))
			if !errors.Is(err, tc.want) {
				t.Errorf("Open() = %v, want %v", err, tc.want)
			}
		})
	}
	// Truncated image: files past the end fail cleanly.
	short := img[:len(img)/3]
	if fsys, err := Open(bytes.NewReader(short), int64(len(short))); err == nil {
		_ = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				if b, err := fs.ReadFile(fsys, p); err == nil && len(b) > 0 && p == "big.bin" {
					t.Errorf("%s read %d bytes from a truncated image", p, len(b))
				}
			}
			return nil
		})
	}
}

// TestDirCycle points a subdirectory entry back at the root.
func TestDirCycle(t *testing.T) {
	need(t, "mke2fs")
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "loop"), 0o755)
	img, err := os.ReadFile(mkfs(t, dir, 1024, "-t", "ext4", "-b", "1024", "-N", "16"))
	if err != nil {
		t.Fatal(err)
	}
	fsys, err := Open(bytes.NewReader(img), int64(len(img)))
	if err != nil {
		t.Fatal(err)
	}
	fi, err := fsys.Stat("loop")
	if err != nil {
		t.Fatal(err)
	}
	ino := fi.Sys().(*Inode).Number
	// Rewrite every directory entry naming the loop inode to name the root.
	var patched int
	bs := int(fsys.bs)
	root, _ := fsys.inode(rootIno)
	m, _ := fsys.mapInode(root)
	for _, e := range m.extents {
		blk := img[int(e.physical)*bs : int(e.physical+e.count)*bs]
		for pos := 0; pos+8 <= len(blk); {
			if le.Uint32(blk[pos:]) == ino {
				le.PutUint32(blk[pos:], rootIno)
				patched++
			}
			rl := int(le.Uint16(blk[pos+4:]))
			if rl < 8 {
				break
			}
			pos += rl
		}
	}
	if patched == 0 {
		t.Fatal("no entry patched")
	}
	fsys, err = Open(bytes.NewReader(img), int64(len(img)))
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	_ = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		paths = append(paths, p)
		if len(paths) > 1000 {
			t.Fatal("walk does not end")
		}
		return nil
	})
	sort.Strings(paths)
	if _, err := fsys.Open("loop/loop/loop"); !errors.Is(err, extract.ErrCorrupt) {
		t.Errorf("Open(loop/loop/loop) = %v, want ErrCorrupt", err)
	}
}

// fuzzImageSize is the size of the images FuzzExt4 reads.
const fuzzImageSize = 64 * 1024

// expandZeros decodes FuzzExt4's input: a zero byte followed by a uvarint n
// stands for n zero bytes; other bytes stand for themselves; the image is
// zero-padded to fuzzImageSize. File-system images are mostly zeros, so this
// keeps the seeds in testdata/fuzz small (see compactZeros).
func expandZeros(in []byte) []byte {
	out := make([]byte, 0, fuzzImageSize)
	for i := 0; i < len(in) && len(out) < fuzzImageSize; i++ {
		if in[i] != 0 {
			out = append(out, in[i])
			continue
		}
		n, k := binary.Uvarint(in[i+1:])
		if k <= 0 {
			break
		}
		i += k
		out = append(out, make([]byte, min(int(min(n, fuzzImageSize)), fuzzImageSize-len(out)))...)
	}
	return append(out, make([]byte, fuzzImageSize-len(out))...)
}

// compactZeros is the inverse of expandZeros.
func compactZeros(img []byte) []byte {
	var out []byte
	for i := 0; i < len(img); {
		if img[i] != 0 {
			out = append(out, img[i])
			i++
			continue
		}
		j := i
		for j < len(img) && img[j] == 0 {
			j++
		}
		out = append(out, 0)
		out = binary.AppendUvarint(out, uint64(j-i))
		i = j
	}
	return out
}

func TestCompactZeros(t *testing.T) {
	img := make([]byte, fuzzImageSize)
	copy(img[1000:], "abc")
	img[5000] = 7
	if got := expandZeros(compactZeros(img)); !bytes.Equal(got, img) {
		t.Error("expandZeros(compactZeros(img)) != img")
	}
}

// TestWriteFuzzSeeds rewrites testdata/fuzz/FuzzExt4 from small mke2fs
// images when run with -write-seeds.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*writeSeeds {
		t.Skip("run with -write-seeds to regenerate testdata/fuzz/FuzzExt4")
	}
	src := t.TempDir()
	os.MkdirAll(filepath.Join(src, "d"), 0o755)
	os.WriteFile(filepath.Join(src, "a.txt"), []byte("hello\n"), 0o644)
	os.WriteFile(filepath.Join(src, "d/b"), []byte("inline data!"), 0o600)
	var text strings.Builder
	for i := range 40 {
		fmt.Fprintf(&text, "line %d of a multi-block file\n", i)
	}
	os.WriteFile(filepath.Join(src, "d/c.txt"), []byte(text.String()), 0o644)
	os.Symlink("a.txt", filepath.Join(src, "l"))
	os.Symlink(strings.Repeat("x/", 40), filepath.Join(src, "d/long"))
	seeds := map[string][]string{
		"ext4":     {"-t", "ext4", "-O", "^has_journal,^resize_inode"},
		"ext2":     {"-t", "ext2", "-O", "^resize_inode"},
		"inline":   {"-t", "ext4", "-O", "^has_journal,inline_data,^resize_inode", "-I", "256"},
		"indirect": {"-t", "ext3", "-O", "^has_journal,^resize_inode,^extent"},
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzExt4")
	os.MkdirAll(dir, 0o755)
	for name, args := range seeds {
		img := filepath.Join(t.TempDir(), "img")
		if err := os.WriteFile(img, make([]byte, fuzzImageSize), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := append([]string{"-q", "-F", "-b", "1024", "-N", "32", "-m", "0", "-d", src}, args...)
		if out, err := exec.Command("mke2fs", append(cmd, img)...).CombinedOutput(); err != nil {
			t.Fatalf("mke2fs %s: %v\n%s", name, err, out)
		}
		b, err := os.ReadFile(img)
		if err != nil {
			t.Fatal(err)
		}
		testutil.WriteFuzzSeed(t, filepath.Join(dir, "mke2fs-"+name), compactZeros(b))
	}
}

// TestFuzzSeeds checks that the committed seeds are readable images, so the
// fuzzer starts from deep inside the format.
func TestFuzzSeeds(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzExt4", "mke2fs-*"))
	if len(files) == 0 {
		t.Fatal("no seeds in testdata/fuzz/FuzzExt4")
	}
	for _, p := range files {
		img := expandZeros(testutil.FuzzSeed(t, p))
		fsys, err := Open(bytes.NewReader(img), int64(len(img)))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		got := fsTree(t, fsys, false)
		if e := got["d/c.txt"]; e.Size < 1024 {
			t.Errorf("%s: d/c.txt = %+v", p, e)
		}
	}
}

func FuzzExt4(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		img := expandZeros(data)
		check := func(what string, err error) {
			if err != nil && err != io.EOF && !extract.HasSentinel(err) {
				t.Fatalf("%s: %v wraps no extract sentinel", what, err)
			}
		}
		fsys, err := Open(bytes.NewReader(img), int64(len(img)))
		if err != nil {
			check("Open", err)
			return
		}
		// Every entry (up to 5000) is listed, stat'ed and read (the first
		// MiB); every error must say why.
		n := 0
		_ = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if n++; n > 5000 {
				return fs.SkipAll
			}
			if err != nil {
				check("walk "+p, err)
				return nil
			}
			_, err = fsys.Stat(p)
			check("Stat "+p, err)
			if d.Type()&fs.ModeSymlink != 0 {
				_, err := fsys.ReadLink(p)
				check("ReadLink "+p, err)
				return nil
			}
			if d.IsDir() {
				return nil
			}
			fh, err := fsys.Open(p)
			if err != nil {
				check("Open "+p, err)
				return nil
			}
			if ra, ok := fh.(io.ReaderAt); ok {
				buf := make([]byte, 8192)
				for off := int64(0); off < 1<<20; off += int64(len(buf)) {
					if _, err := ra.ReadAt(buf, off); err != nil {
						check("ReadAt "+p, err)
						break
					}
				}
			}
			fh.Close()
			return nil
		})
	})
}

// TestConcurrent reads one FS from several goroutines (run with -race).
func TestConcurrent(t *testing.T) {
	need(t, "mke2fs")
	src := buildTree(t, 50, true)
	fsys := openImage(t, mkfs(t, src, 32*1024, "-t", "ext4", "-b", "1024"))
	want := fsTree(t, fsys, true)
	done := make(chan map[string]entry)
	for range 4 {
		go func() {
			fresh, _ := Open(fsys.r, fsys.size)
			done <- fsTree(t, fresh, true)
		}()
		go func() { done <- fsTree(t, fsys, true) }()
	}
	for range 8 {
		if d := cmp.Diff(want, <-done); d != "" {
			t.Errorf("concurrent walk differs:\n%s", d)
		}
	}
}

// TestNonUTF8Names: a name that is not UTF-8 (found by the hostile corpus's
// bit-flipped images) is listed, and the file it names opens and reads; it
// used to fail with a bare "invalid argument" from fs.ValidPath.
func TestNonUTF8Names(t *testing.T) {
	src := t.TempDir()
	want := map[string]string{"bad\xffname.txt": "one\n", "d\xfe/x.txt": "two\n"}
	testutil.WriteTree(t, src, want)
	img := mkfs(t, src, 256, "-t", "ext4", "-b", "1024", "-O", "^has_journal")
	fsys := openImage(t, img)
	got := map[string]string{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			b, err := fs.ReadFile(fsys, p)
			if err != nil {
				return err
			}
			got[p] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	if seed := os.Getenv("ROMSCAN_WRITE_SEEDS"); seed == "1" {
		b, _ := os.ReadFile(img)
		testutil.WriteFuzzSeed(t, "testdata/fuzz/FuzzExt4/non-utf8-names", compactZeros(b))
	}
}

// TestReadLinkNotSymlink: an entry typed as a symlink whose inode is not one
// (found by FuzzExt4) fails ReadLink with ErrCorrupt; it was a bare error.
func TestReadLinkNotSymlink(t *testing.T) {
	b := testutil.FuzzSeed(t, "testdata/fuzz/FuzzExt4/readlink-inode-not-symlink")
	img := expandZeros(b)
	fsys, err := Open(bytes.NewReader(img), int64(len(img)))
	if err != nil {
		t.Fatal(err)
	}
	links := 0
	fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type()&fs.ModeSymlink != 0 {
			links++
			if _, err := fsys.ReadLink(p); err != nil && !errors.Is(err, extract.ErrCorrupt) {
				t.Errorf("ReadLink(%q) = %v, want ErrCorrupt", p, err)
			}
		}
		return nil
	})
	if links == 0 {
		t.Error("the seed lists no symlink")
	}
}

// TestDirentFileInodeDir: an entry typed as a regular file whose inode is a
// directory fails to read with ErrCorrupt (the same bug FuzzEROFS found in
// EROFS; it was a bare "is a directory").
func TestDirentFileInodeDir(t *testing.T) {
	src := t.TempDir()
	if err := os.MkdirAll(filepath.Join(src, "subdir0123"), 0o755); err != nil {
		t.Fatal(err)
	}
	path := mkfs(t, src, 256, "-t", "ext4", "-b", "1024", "-O", "^has_journal,^metadata_csum,^dir_index")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Directory entry: inode u32, rec_len u16, name_len u8, file_type u8
	// (1 = regular file, 2 = directory), name.
	i := bytes.Index(b, []byte("\x0a\x02subdir0123"))
	if i < 0 {
		t.Fatal("entry subdir0123 not found")
	}
	b[i+1] = 1
	fsys, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	ents, err := fsys.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range ents {
		if e.Name() == "subdir0123" {
			found = e.Type().IsRegular()
		}
	}
	if !found {
		t.Fatal("subdir0123 is not listed as a regular file")
	}
	if _, err := fs.ReadFile(fsys, "subdir0123"); !errors.Is(err, extract.ErrCorrupt) {
		t.Errorf("ReadFile = %v, want ErrCorrupt", err)
	}
}
