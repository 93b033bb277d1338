package erofs

import (
	"bytes"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"github.com/romscan/romscan/extract"
	"github.com/romscan/romscan/internal/testutil"
)

func openImage(t testing.TB, path string) *FS {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	head := make([]byte, 2048)
	f.ReadAt(head, 0)
	if !Sniff(head) {
		t.Errorf("Sniff(%s) = false", path)
	}
	fsys, err := Open(f, st.Size())
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	return fsys
}

func readFile(t testing.TB, fsys fs.FS, name string) []byte {
	t.Helper()
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		t.Fatalf("ReadFile(%s): %v", name, err)
	}
	return b
}

func sha512hex(b []byte) string {
	s := sha512.Sum512(b)
	return hex.EncodeToString(s[:])
}

func TestCorpusErofsRS(t *testing.T) {
	for _, name := range []string{"sample_512", "sample_1024", "sample_2048", "sample_4096", "sample_512_1024", "sample_noxattrs"} {
		t.Run(name, func(t *testing.T) {
			fsys := openImage(t, testutil.Corpus(t, "firmware/erofs/erofs-rs-"+name+".img"))
			lipsum := readFile(t, fsys, "texts/lipsum.txt")
			jpg := readFile(t, fsys, "images/inabukumori.jpg")
			got := map[string]any{
				"lipsum":  len(lipsum),
				"lipsum5": sha512hex(lipsum),
				"jpg":     len(jpg),
				"jpg5":    sha512hex(jpg),
				"readme":  len(readFile(t, fsys, "README.md")),
			}
			want := map[string]any{
				"lipsum":  5060,
				"lipsum5": "6846740fd4c03c86524d39e0012ec8eb1e4b87e8a90c65227904148bc0e4d0592c209151a736946133cd57f7ec59c4e8a445e7732322dda9ce356f8d0100c4ca",
				"jpg":     13735,
				"jpg5":    "2d0f63b3ca997d30d65f70f32bf97038d92d1f4e642fe48ede697ab73e936e5b2bff9b556a786340d9385993b2e7f6744cbbf8b4660c55b33c907a3a2ced33b5",
				"readme":  38,
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("contents (-want +got):\n%s", diff)
			}
			// Symlinks are not followed as the last element, but are in the middle.
			fi, err := fsys.Stat("lipsum.txt")
			if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
				t.Errorf("Stat(lipsum.txt) = %v, %v; want a symlink", fi, err)
			}
			if target, err := fsys.ReadLink("lipsum.txt"); err != nil || target != "texts/lipsum.txt" {
				t.Errorf("ReadLink = %q, %v", target, err)
			}
			if err := fstest.TestFS(fsys, "README.md", "texts/lipsum.txt", "images/inabukumori.jpg"); err != nil {
				t.Errorf("fstest: %v", err)
			}
		})
	}
}

func TestCorpusGoErofs(t *testing.T) {
	for _, name := range []string{"go-erofs-basic-default-2025-07.erofs", "go-erofs-basic-default-2026-03.erofs"} {
		t.Run(name, func(t *testing.T) {
			fsys := openImage(t, testutil.Corpus(t, "firmware/erofs/"+name))
			seq := bytes.Repeat([]byte{1, 2, 3, 4, 5, 6, 7, 8}, 640)
			got := map[string][]byte{
				"in-root.txt":                     readFile(t, fsys, "in-root.txt"),
				"usr/lib/testdir/16k-zeros.raw":   readFile(t, fsys, "usr/lib/testdir/16k-zeros.raw"),
				"usr/lib/testdir/5k-sequence.raw": readFile(t, fsys, "usr/lib/testdir/5k-sequence.raw"),
				"usr/lib/testdir/CASE/file.txt":   readFile(t, fsys, "usr/lib/testdir/CASE/file.txt"),
			}
			want := map[string][]byte{
				"in-root.txt":                     []byte("root file content\n"),
				"usr/lib/testdir/16k-zeros.raw":   make([]byte, 16384),
				"usr/lib/testdir/5k-sequence.raw": seq,
				"usr/lib/testdir/CASE/file.txt":   []byte("upper case dir\n"),
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("contents (-want +got):\n%s", diff)
			}
			ents, err := fsys.ReadDir("usr/lib/testdir/lotsoffiles")
			if err != nil || len(ents) != 5000 {
				t.Errorf("lotsoffiles: %d entries, %v", len(ents), err)
			}
			if !sort.SliceIsSorted(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() }) {
				t.Error("entries not sorted")
			}
			dev, err := fsys.ReadDir("dev")
			if err != nil || len(dev) == 0 {
				t.Errorf("dev: %v, %v", dev, err)
			}
			for _, d := range dev {
				fi, err := d.Info()
				if err != nil || fi.Mode()&(fs.ModeDevice|fs.ModeNamedPipe|fs.ModeSocket) == 0 && !fi.IsDir() {
					t.Errorf("dev/%s: mode %v, %v", d.Name(), fi.Mode(), err)
				}
			}
		})
	}
}

// genTree writes a varied tree: text, random and compressible files of
// several sizes, nested directories, symlinks, empty files, a large file and
// a directory with many entries.
func genTree(t testing.TB, root string, large int) map[string][]byte {
	t.Helper()
	r := rand.New(rand.NewPCG(42, 7))
	files := map[string][]byte{}
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	compressible := func(n int) []byte {
		var b bytes.Buffer
		words := []string{"android", "permission", "READ_PHONE_STATE", "com.example", "intent", "0123456789", "\n"}
		for b.Len() < n {
			b.WriteString(words[r.IntN(len(words))])
			if r.IntN(50) == 0 {
				b.Write(random(r.IntN(40)))
			}
		}
		return b.Bytes()[:n]
	}
	lorem := strings.Repeat("Lorem ipsum dolor sit amet, consectetur adipiscing elit. ", 200)
	files["text/lorem.txt"] = []byte(lorem)
	files["empty"] = nil
	for _, n := range []int{1, 100, 4095, 4096, 4097, 8191, 65537, 300001} {
		files[fmt.Sprintf("random/r%d.bin", n)] = random(n)
		files[fmt.Sprintf("comp/c%d.txt", n)] = compressible(n)
	}
	files["comp/zeros"] = make([]byte, 200000)
	mixed := compressible(large)
	copy(mixed[large/3:], random(large/5))
	files["large/big.bin"] = mixed
	files["a/b/c/d/e/deep.txt"] = []byte("deep\n")
	for i := range 300 {
		files[fmt.Sprintf("many/entry-with-a-longish-name-%04d", i)] = []byte(fmt.Sprint(i))
	}
	files["names/"+strings.Repeat("n", 254)] = []byte("long name")
	for name, data := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.MkdirAll(filepath.Join(root, "emptydir"), 0o755)
	for link, target := range map[string]string{"link-rel": "text/lorem.txt", "a/link-up": "../comp/c100.txt", "link-abs": "/text/lorem.txt", "dangling": "no/such", "link-dir": "a/b"} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	return files
}

func mkfs(t testing.TB, img, src string, args ...string) {
	t.Helper()
	tool, err := exec.LookPath("mkfs.erofs")
	if err != nil {
		t.Skip("mkfs.erofs not installed (Debian package erofs-utils): skipping")
	}
	cmd := exec.Command(tool, append(append([]string{"-T0", "--all-root", "--quiet"}, args...), img, src)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("mkfs.erofs %v not supported here: %v\n%s", args, err, out)
	}
}

// variants of mkfs.erofs 1.5 options covering the layouts.
var variants = []struct {
	name string
	args []string
}{
	{"plain", nil},
	{"plain-noinline", []string{"-Enoinline_data"}},
	{"plain-extended", []string{"-Eforce-inode-extended"}},
	{"chunked", []string{"--chunksize=8192"}},
	{"lz4", []string{"-zlz4"}},
	{"lz4hc", []string{"-zlz4hc,12"}},
	{"lz4-legacy", []string{"-zlz4", "-Elegacy-compress"}},
	{"lz4hc-bigpcluster", []string{"-zlz4hc", "-C65536"}},
	{"lz4hc-bigpcluster-legacy", []string{"-zlz4hc", "-C16384", "-Elegacy-compress"}},
	{"lz4hc-ztailpacking", []string{"-zlz4hc", "-Eztailpacking"}},
	{"lz4-ztailpacking-bigpcluster", []string{"-zlz4", "-C32768", "-Eztailpacking"}},
	{"lz4hc-extended", []string{"-zlz4hc", "-Eforce-inode-extended"}},
	{"lzma", []string{"-zlzma"}},
	{"deflate", []string{"-zdeflate"}},
}

func TestMkfsImages(t *testing.T) {
	if _, err := exec.LookPath("mkfs.erofs"); err != nil {
		t.Skip("mkfs.erofs not installed (Debian package erofs-utils): skipping")
	}
	src := t.TempDir()
	files := genTree(t, src, 3<<20)
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			if testing.Short() && v.name != "plain" && v.name != "lz4" && v.name != "lz4hc-ztailpacking" {
				t.Skip("short mode: three variants only")
			}
			img := filepath.Join(t.TempDir(), "img")
			mkfs(t, img, src, v.args...)
			fsys := openImage(t, img)
			compareTree(t, fsys, src, files)
			checkRandomReads(t, fsys, files["large/big.bin"], "large/big.bin")
			if v.name == "lz4hc-ztailpacking" {
				if err := fstest.TestFS(fsys, "text/lorem.txt", "comp/c300001.txt", "a/b/c/d/e/deep.txt"); err != nil {
					t.Errorf("fstest: %v", err)
				}
			}
			if fsck, err := exec.LookPath("fsck.erofs"); err == nil {
				out := filepath.Join(t.TempDir(), "x")
				if b, err := exec.Command(fsck, "--extract="+out, img).CombinedOutput(); err != nil {
					t.Logf("fsck.erofs --extract failed: %v\n%s", err, b)
				} else {
					for name, want := range files {
						got, err := os.ReadFile(filepath.Join(out, name))
						if err != nil || !bytes.Equal(got, want) {
							t.Errorf("fsck.erofs extract of %s differs from the source (%v)", name, err)
						}
					}
				}
			}
		})
	}
}

func compareTree(t *testing.T, fsys *FS, src string, files map[string][]byte) {
	t.Helper()
	for name, want := range files {
		got, err := fs.ReadFile(fsys, name)
		if err != nil {
			t.Errorf("ReadFile(%s): %v", name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: %d bytes differ from the %d-byte source", name, len(got), len(want))
		}
		fi, err := fsys.Stat(name)
		if err != nil || fi.Size() != int64(len(want)) || !fi.Mode().IsRegular() {
			t.Errorf("Stat(%s) = %v, %v", name, fi, err)
		}
	}
	// Walk the image and the source: the same names, types and link targets.
	var gotNames, wantNames []string
	fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Errorf("walk %s: %v", p, err)
			return nil
		}
		gotNames = append(gotNames, fmt.Sprintf("%s %v", p, d.Type()))
		if d.Type()&fs.ModeSymlink != 0 {
			target, err := fsys.ReadLink(p)
			want, _ := os.Readlink(filepath.Join(src, p))
			if err != nil || target != want {
				t.Errorf("ReadLink(%s) = %q, %v; want %q", p, target, err, want)
			}
		}
		return nil
	})
	fs.WalkDir(os.DirFS(src), ".", func(p string, d fs.DirEntry, err error) error {
		wantNames = append(wantNames, fmt.Sprintf("%s %v", p, d.Type()))
		return nil
	})
	if diff := cmp.Diff(wantNames, gotNames); diff != "" {
		t.Errorf("tree (-source +image):\n%s", diff)
	}
	// Intermediate symlinks are followed; the last one is not.
	if got, err := fs.ReadFile(fsys, "link-dir/c/d/e/deep.txt"); err != nil || string(got) != "deep\n" {
		t.Errorf("through link-dir: %q, %v", got, err)
	}
	if _, err := fs.ReadFile(fsys, "dangling/x"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("through dangling link: %v", err)
	}
	f, err := fsys.Open("text/lorem.txt")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f.(extract.ReaderAtFile); !ok {
		t.Errorf("regular file %T is not an extract.ReaderAtFile", f)
	}
	f.Close()
}

func checkRandomReads(t *testing.T, fsys *FS, want []byte, name string) {
	t.Helper()
	f, err := fsys.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ra := f.(io.ReaderAt)
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		off := r.IntN(len(want))
		n := r.IntN(70000)
		buf := make([]byte, n)
		k, err := ra.ReadAt(buf, int64(off))
		wantN := min(n, len(want)-off)
		if k != wantN || (k < n && err != io.EOF) || (k == n && err != nil) {
			t.Fatalf("ReadAt(%d, %d) = %d, %v; want %d", n, off, k, err, wantN)
		}
		if !bytes.Equal(buf[:k], want[off:off+k]) {
			t.Fatalf("ReadAt(%d, %d): bytes differ", n, off)
		}
	}
}
