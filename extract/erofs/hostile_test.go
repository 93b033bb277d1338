package erofs

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ulikunitz/xz/lzma"

	"github.com/romscan/romscan/extract"
	"github.com/romscan/romscan/internal/testutil"
)

// smallImage builds a tiny image with mkfs.erofs (skipping when absent).
func smallImage(t testing.TB, args ...string) []byte {
	t.Helper()
	src := t.TempDir()
	os.MkdirAll(filepath.Join(src, "d/e"), 0o755)
	os.WriteFile(filepath.Join(src, "d/e/f.txt"), bytes.Repeat([]byte("hello erofs "), 700), 0o644)
	os.WriteFile(filepath.Join(src, "small"), []byte("tiny\n"), 0o644)
	os.Symlink("d/e/f.txt", filepath.Join(src, "link"))
	img := filepath.Join(t.TempDir(), "img")
	mkfs(t, img, src, args...)
	b, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// exercise opens b and reads everything, bounded; it must never panic.
func exercise(b []byte) (entries int, err error) {
	fsys, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return 0, err
	}
	var firstErr error
	fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			return nil
		}
		entries++
		if entries > 5000 {
			return fs.SkipAll
		}
		if d.Type()&fs.ModeSymlink != 0 {
			if _, err := fsys.ReadLink(p); err != nil && firstErr == nil {
				firstErr = err
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		f, err := fsys.Open(p)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			return nil
		}
		if _, err := io.Copy(io.Discard, io.LimitReader(f, 1<<20)); err != nil && firstErr == nil {
			firstErr = err
		}
		if ra, ok := f.(io.ReaderAt); ok {
			buf := make([]byte, 100)
			ra.ReadAt(buf, 5000)
		}
		f.Close()
		return nil
	})
	return entries, firstErr
}

func TestHostileFlips(t *testing.T) {
	for _, args := range [][]string{nil, {"-zlz4hc", "-Eztailpacking"}, {"-zlz4", "-Elegacy-compress"}, {"--chunksize=4096"}} {
		good := smallImage(t, args...)
		if n, err := exercise(good); err != nil || n < 6 {
			t.Fatalf("%v: clean image: %d entries, %v", args, n, err)
		}
		r := rand.New(rand.NewPCG(9, 9))
		for range 300 {
			b := bytes.Clone(good)
			for range 1 + r.IntN(8) {
				i := r.IntN(len(b))
				if r.IntN(2) == 0 {
					i = 1024 + r.IntN(min(len(b)-1024, 8192)) // metadata area
				}
				b[i] = byte(r.Uint32())
			}
			exercise(b) // must not panic or hang
		}
	}
}

func TestHostileCases(t *testing.T) {
	good := smallImage(t)
	fsys, err := Open(bytes.NewReader(good), int64(len(good)))
	if err != nil {
		t.Fatal(err)
	}
	root, _ := fsys.inode(fsys.sb.RootNid)
	fi, _ := fsys.Stat("d")
	dNid := fi.Sys().(*Stat).Nid
	dIno, _ := fsys.inode(dNid)
	le := binary.LittleEndian
	// Offset of directory d's data (its dirents), for the cycle case.
	dr, _ := fsys.flatReader(dIno)
	dirOff := dr.start
	if dIno.layout == layoutFlatInline && dr.inBlock == 0 {
		dirOff = dr.inline
	}

	tests := []struct {
		name    string
		edit    func(b []byte)
		openErr error
	}{
		{"truncated", func(b []byte) {}, extract.ErrNotFormat},
		{"block-size-64k+", func(b []byte) { b[1024+12] = 17 }, extract.ErrUnsupported},
		{"unknown-incompat", func(b []byte) { le.PutUint32(b[1024+80:], 1<<20) }, extract.ErrUnsupported},
		{"root-nid-past-end", func(b []byte) { le.PutUint16(b[1024+14:], 0xffff) }, extract.ErrCorrupt},
		{"meta-past-end", func(b []byte) { le.PutUint32(b[1024+40:], 1<<30) }, extract.ErrCorrupt},
		{"root-not-dir", func(b []byte) { le.PutUint16(b[root.loc+4:], 0o100644) }, extract.ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := bytes.Clone(good)
			tt.edit(b)
			if tt.name == "truncated" {
				b = b[:1100]
			}
			_, err := Open(bytes.NewReader(b), int64(len(b)))
			if !errors.Is(err, tt.openErr) {
				t.Errorf("Open = %v, want %v", err, tt.openErr)
			}
		})
	}

	t.Run("directory-cycle", func(t *testing.T) {
		// Point every entry of d (e, and the . and .. entries) at the root:
		// a walk must still end.
		b := bytes.Clone(good)
		first := int(le.Uint16(b[dirOff+8:]))
		for i := 0; i < first/direntSize; i++ {
			le.PutUint64(b[dirOff+int64(i)*direntSize:], fsys.sb.RootNid)
		}
		n, err := exercise(b)
		if n == 0 || n > 5000 {
			t.Errorf("walk over a cycle visited %d entries", n)
		}
		// The cut is reported, as ext4 does (it was silent).
		if !errors.Is(err, extract.ErrCorrupt) || !strings.Contains(err.Error(), "cycle") {
			t.Errorf("walk over a cycle: error %v, want a cycle wrapping ErrCorrupt", err)
		}
	})
	t.Run("directory-cycle-through-open-dir", func(t *testing.T) {
		// The fs.ReadDirFile path (Open then ReadDir) reports the cycle too,
		// in full listings and in pages.
		b := bytes.Clone(good)
		first := int(le.Uint16(b[dirOff+8:]))
		for i := 0; i < first/direntSize; i++ {
			le.PutUint64(b[dirOff+int64(i)*direntSize:], fsys.sb.RootNid)
		}
		f2, err := Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		for _, page := range []int{-1, 1} {
			h, err := f2.Open("d")
			if err != nil {
				t.Fatal(err)
			}
			var cycleErr error
			for range 100 {
				_, err := h.(fs.ReadDirFile).ReadDir(page)
				if err != nil {
					if err != io.EOF {
						cycleErr = err
					}
					if page < 0 || err == io.EOF {
						break
					}
				}
				if page < 0 {
					break
				}
			}
			h.Close()
			if !errors.Is(cycleErr, extract.ErrCorrupt) || !strings.Contains(cycleErr.Error(), "cycle") {
				t.Errorf("ReadDir(%d) over a cycle: error %v, want a cycle wrapping ErrCorrupt", page, cycleErr)
			}
		}
	})
	t.Run("bad-dirent-nameoff", func(t *testing.T) {
		b := bytes.Clone(good)
		le.PutUint16(b[dirOff+8:], 7)
		f2, err := Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f2.ReadDir("d"); !errors.Is(err, extract.ErrCorrupt) {
			t.Errorf("ReadDir = %v, want ErrCorrupt", err)
		}
	})
	t.Run("file-size-past-image", func(t *testing.T) {
		b := bytes.Clone(good)
		fi, _ := fsys.Stat("d/e/f.txt")
		ino, _ := fsys.inode(fi.Sys().(*Stat).Nid)
		if ino.format&1 == 0 {
			le.PutUint32(b[ino.loc+8:], 0xfffffff0)
		} else {
			le.PutUint64(b[ino.loc+8:], 1<<40)
		}
		f2, err := Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f2.Open("d/e/f.txt"); !errors.Is(err, extract.ErrCorrupt) {
			t.Errorf("Open = %v, want ErrCorrupt", err)
		}
	})
}

func TestDecompressAlgorithms(t *testing.T) {
	want := bytes.Repeat([]byte("the quick brown fox jumps over the lazy dog; "), 300)

	t.Run("microlzma", func(t *testing.T) {
		var buf bytes.Buffer
		w, err := lzma.WriterConfig{Size: int64(len(want)), EOSMarker: false, DictCap: 1 << 16}.NewWriter(&buf)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(want)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		classic := buf.Bytes()
		// A .lzma stream: 13-byte header, then the range coder's first byte
		// (always 0). MicroLZMA puts the inverted properties byte there.
		if classic[13] != 0 {
			t.Fatalf("range coder starts with %#x", classic[13])
		}
		micro := append([]byte{^classic[0]}, classic[14:]...)
		padded := append(make([]byte, 4096-len(micro)%4096), micro...) // 0padding
		got, err := decompress(algLZMA, padded, int64(len(want)), int64(len(want)), true)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("microlzma: %d bytes, %v", len(got), err)
		}
	})
	t.Run("deflate", func(t *testing.T) {
		var buf bytes.Buffer
		w, _ := flate.NewWriter(&buf, 9)
		w.Write(want)
		w.Close()
		got, err := decompress(algDeflate, buf.Bytes(), int64(len(want)), int64(len(want)), true)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("deflate: %d bytes, %v", len(got), err)
		}
		// A bomb: the stream decodes to more than the extent, only llen is made.
		got, err = decompress(algDeflate, buf.Bytes(), 100, 100, true)
		if err != nil || !bytes.Equal(got, want[:100]) {
			t.Errorf("deflate bounded: %d bytes, %v", len(got), err)
		}
	})
	t.Run("lz4-bad", func(t *testing.T) {
		if _, err := decompress(algLZ4, []byte{0xf0, 1, 2}, 4096, 4096, true); !errors.Is(err, extract.ErrCorrupt) {
			t.Errorf("lz4 garbage: %v", err)
		}
		if _, err := lz4Partial([]byte{0x1f, 'a', 1, 0, 255, 255, 255, 255}, 1<<20); !errors.Is(err, extract.ErrCorrupt) {
			t.Errorf("lz4 partial truncated: %v", err)
		}
	})
	t.Run("unsupported", func(t *testing.T) {
		for _, alg := range []uint8{algZstd, 9} {
			if _, err := decompress(alg, []byte{1}, 10, 10, true); !errors.Is(err, extract.ErrUnsupported) {
				t.Errorf("alg %d: %v", alg, err)
			}
		}
	})
}

func FuzzEROFS(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/fuzz/FuzzEROFS/*")
	if len(seeds) == 0 {
		f.Add(smallImage(f))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		// exercise lists and reads every file; the first error must say why.
		if _, err := exercise(b); err != nil && !extract.HasSentinel(err) {
			t.Fatalf("%v wraps no extract sentinel", err)
		}
	})
}

// TestDirentTypeMismatch reads an image (found by fuzzing) whose directory
// entry is typed as a directory while its inode is not one: listing it must
// fail with ErrCorrupt, so the walk records a corrupt image, not a bare error.
func TestDirentTypeMismatch(t *testing.T) {
	b := testutil.FuzzSeed(t, "testdata/fuzz/FuzzEROFS/dirent-typed-dir-inode-not")
	if _, err := exercise(b); !errors.Is(err, extract.ErrCorrupt) {
		t.Errorf("exercise error = %v, want ErrCorrupt", err)
	}
}

// TestNonUTF8Names: a name that is not UTF-8 (found by the hostile corpus's
// bit-flipped images) is listed, and the file it names opens and reads; it
// used to fail with a bare "invalid argument" from fs.ValidPath.
func TestNonUTF8Names(t *testing.T) {
	src := t.TempDir()
	want := map[string]string{"bad\xffname.txt": "one\n", "d\xfe/x.txt": "two\n"}
	testutil.WriteTree(t, src, want)
	img := filepath.Join(t.TempDir(), "img")
	mkfs(t, img, src)
	b, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	n, err := exercise(b)
	if err != nil || n != 4 { // two files and a folder besides the root
		t.Errorf("exercise = %d entries, %v; want 4, nil", n, err)
	}
	fsys, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range want {
		if got, err := fs.ReadFile(fsys, name); err != nil || string(got) != body {
			t.Errorf("ReadFile(%q) = %q, %v; want %q", name, got, err, body)
		}
	}
	if os.Getenv("ROMSCAN_WRITE_SEEDS") == "1" {
		testutil.WriteFuzzSeed(t, "testdata/fuzz/FuzzEROFS/non-utf8-names", b)
	}
}

// TestReadLinkNotSymlink: an entry typed as a symlink whose inode is a
// regular file fails ReadLink with ErrCorrupt (the same bug FuzzExt4 found
// in ext4; it was a bare "not a symlink").
func TestReadLinkNotSymlink(t *testing.T) {
	b := smallImage(t)
	// Retype the root's entry "small" (EROFS_FT_REG_FILE = 1) as a symlink
	// (EROFS_FT_SYMLINK = 7). A dirent is nid u64, nameoff u16, type u8,
	// reserved u8; it is found by the nid of small.
	orig, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	fi, err := orig.Stat("small")
	if err != nil {
		t.Fatal(err)
	}
	var nid [8]byte
	binary.LittleEndian.PutUint64(nid[:], fi.Sys().(*Stat).Nid)
	patched := 0
	for i := 0; i+12 <= len(b); i++ {
		if bytes.Equal(b[i:i+8], nid[:]) && b[i+10] == 1 {
			b[i+10] = 7
			patched++
		}
	}
	if patched != 1 {
		t.Fatalf("%d dirents of small found, want 1", patched)
	}
	fsys, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fsys.ReadLink("small"); !errors.Is(err, extract.ErrCorrupt) {
		t.Errorf("ReadLink(small) = %v, want ErrCorrupt", err)
	}
	if _, err := exercise(b); !errors.Is(err, extract.ErrCorrupt) {
		t.Errorf("exercise = %v, want ErrCorrupt", err)
	}
}

// TestDirentFileInodeDir: an entry typed as a regular file whose inode is a
// directory (found by FuzzEROFS) fails to read with ErrCorrupt; it was a
// bare "is a directory".
func TestDirentFileInodeDir(t *testing.T) {
	b := testutil.FuzzSeed(t, "testdata/fuzz/FuzzEROFS/dirent-typed-file-inode-dir")
	if _, err := exercise(b); !errors.Is(err, extract.ErrCorrupt) {
		t.Errorf("exercise error = %v, want ErrCorrupt", err)
	}
}
