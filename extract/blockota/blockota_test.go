package blockota

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/google/go-cmp/cmp"
	"github.com/romscan/romscan/extract"
	"github.com/romscan/romscan/internal/testutil"
)

func parse(t testing.TB, s string) *TransferList {
	t.Helper()
	tl, err := ParseTransferList(strings.NewReader(s), extract.DefaultLimits())
	if err != nil {
		t.Fatalf("ParseTransferList: %v", err)
	}
	return tl
}

// IrisImage decodes the Iris HP4024 private partition from the corpus.
func irisImage(t testing.TB) (*Image, []byte) {
	t.Helper()
	dir := testutil.Corpus(t, "firmware/iris-hp4024")
	list, err := os.Open(filepath.Join(dir, "private.transfer.list"))
	if err != nil {
		t.Fatal(err)
	}
	defer list.Close()
	tl, err := ParseTransferList(list, extract.DefaultLimits())
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
		t.Fatalf("brotli: %v", err)
	}
	im, err := NewImage(tl, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("NewImage: %v", err)
	}
	return im, data
}

func TestIrisPrivate(t *testing.T) {
	im, data := irisImage(t)
	if len(data) != 2068480 {
		t.Errorf("new.dat = %d bytes, want 2068480", len(data))
	}
	if im.Size() != 20971520 {
		t.Errorf("Size() = %d, want 20971520", im.Size())
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(im, 0, im.Size())); err != nil {
		t.Fatal(err)
	}
	if got, want := hex.EncodeToString(h.Sum(nil)), "a3f62993e13316fbfa66d6646da2a60fae066b5875b38620e4f4377ef4b109da"; got != want {
		t.Errorf("sha256 = %s, want %s", got, want)
	}
}

func TestIrisParseOnly(t *testing.T) {
	dir := testutil.Corpus(t, "firmware/iris-hp4024")
	tests := []struct {
		file      string
		total     int64
		maxBlock  int64
		needsBase bool
	}{
		{file: "private.transfer.list", total: 2198, maxBlock: 5120},
		{file: "system.transfer.list", total: 213222, maxBlock: 435200},
		{file: "vendor.transfer.list", total: 56035, maxBlock: 89600},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			tl := parse(t, string(b))
			if tl.Version != 4 || tl.TotalBlocks != tc.total || tl.MaxBlock() != tc.maxBlock || tl.NeedsBase() != tc.needsBase {
				t.Errorf("version %d total %d maxBlock %d needsBase %v; want 4 %d %d %v",
					tl.Version, tl.TotalBlocks, tl.MaxBlock(), tl.NeedsBase(), tc.total, tc.maxBlock, tc.needsBase)
			}
			// Blocks written by new and zero add up to the declared total.
			var written int64
			for _, c := range tl.Commands {
				if c.Name == "new" || c.Name == "zero" {
					written += c.Target.Blocks()
				}
			}
			if written != tc.total {
				t.Errorf("new+zero blocks = %d, want %d", written, tc.total)
			}
		})
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want *TransferList
	}{
		{
			name: "v1",
			in:   "1\n3\nerase 2,0,8\nnew 2,0,2\nmove 2,5,6 2,2,3\nbsdiff 0 10 2,6,7 2,3,4\n",
			want: &TransferList{Version: 1, TotalBlocks: 3, Commands: []Command{
				{Line: 3, Name: "erase", Args: []string{"2,0,8"}, Target: RangeSet{{0, 8}}},
				{Line: 4, Name: "new", Args: []string{"2,0,2"}, Target: RangeSet{{0, 2}}},
				{Line: 5, Name: "move", Args: []string{"2,5,6", "2,2,3"}, Target: RangeSet{{2, 3}}, Source: RangeSet{{5, 6}}},
				{Line: 6, Name: "bsdiff", Args: []string{"0", "10", "2,6,7", "2,3,4"}, Target: RangeSet{{3, 4}}, Source: RangeSet{{6, 7}}},
			}},
		},
		{
			name: "v2-stash",
			in:   "2\n1\n1\n4\nstash 3 2,0,4\nmove 2,10,11 1 2,4,5\nmove 2,11,12 1 - 3:2,0,1\nfree 3\n",
			want: &TransferList{Version: 2, TotalBlocks: 1, StashEntries: 1, StashBlocks: 4, Commands: []Command{
				{Line: 5, Name: "stash", Args: []string{"3", "2,0,4"}, Source: RangeSet{{0, 4}}},
				{Line: 6, Name: "move", Args: []string{"2,10,11", "1", "2,4,5"}, Target: RangeSet{{10, 11}}, Source: RangeSet{{4, 5}}},
				{Line: 7, Name: "move", Args: []string{"2,11,12", "1", "-", "3:2,0,1"}, Target: RangeSet{{11, 12}}},
				{Line: 8, Name: "free", Args: []string{"3"}},
			}},
		},
		{
			name: "v3-bsdiff",
			in:   "3\n2\n0\n0\nbsdiff 0 5 aa bb 2,0,2 2 2,4,6\n",
			want: &TransferList{Version: 3, TotalBlocks: 2, Commands: []Command{
				{Line: 5, Name: "bsdiff", Args: []string{"0", "5", "aa", "bb", "2,0,2", "2", "2,4,6"}, Target: RangeSet{{0, 2}}, Source: RangeSet{{4, 6}}},
			}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if d := cmp.Diff(tc.want, parse(t, tc.in)); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in string
		want     error
	}{
		{"empty", "", extract.ErrNotFormat},
		{"not-number", "hello\n", extract.ErrNotFormat},
		{"version5", "5\n0\n0\n0\n", extract.ErrUnsupported},
		{"missing-stash-header", "4\n10\n", extract.ErrNotFormat},
		{"odd-count", "1\n1\nnew 3,0,1,2\n", extract.ErrCorrupt},
		{"count-mismatch", "1\n1\nnew 4,0,1\n", extract.ErrCorrupt},
		{"reversed", "1\n1\nnew 2,5,1\n", extract.ErrCorrupt},
		{"empty-range", "1\n1\nnew 2,5,5\n", extract.ErrCorrupt},
		{"descending", "1\n1\nnew 4,5,6,1,2\n", extract.ErrCorrupt},
		{"huge", "1\n1\nnew 2,0,99999999999\n", extract.ErrCorrupt},
		{"unknown", "1\n1\nfrobnicate 2,0,1\n", extract.ErrUnsupported},
		{"short-move", "4\n1\n0\n0\nmove abc\n", extract.ErrCorrupt},
		{"stash-v1", "1\n1\nstash 1 2,0,1\n", extract.ErrCorrupt},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseTransferList(strings.NewReader(tc.in), extract.DefaultLimits())
			if !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
	lim := extract.DefaultLimits()
	lim.MaxEntries = 2
	if _, err := ParseTransferList(strings.NewReader("1\n1\nzero 2,0,1\nzero 2,1,2\nzero 2,2,3\n"), lim); !errors.Is(err, extract.ErrLimit) {
		t.Errorf("MaxEntries: err = %v, want ErrLimit", err)
	}
}

func TestNewImage(t *testing.T) {
	data := bytes.Repeat([]byte("A"), BlockSize)
	data = append(data, bytes.Repeat([]byte("B"), BlockSize)...)
	data = append(data, bytes.Repeat([]byte("C"), BlockSize)...)
	tl := parse(t, "4\n3\n0\n0\nerase 2,0,6\nnew 2,3,4\nzero 2,0,1\nnew 2,1,3\n")
	im, err := NewImage(tl, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	want := string(make([]byte, BlockSize)) + strings.Repeat("B", BlockSize) + strings.Repeat("C", BlockSize) +
		strings.Repeat("A", BlockSize) + string(make([]byte, 2*BlockSize))
	got := make([]byte, im.Size())
	if n, err := im.ReadAt(got, 0); n != len(got) || err != nil {
		t.Fatalf("ReadAt = %d, %v", n, err)
	}
	if string(got) != want {
		t.Errorf("image differs")
	}
	buf := make([]byte, 10)
	if n, err := im.ReadAt(buf, 2*BlockSize-5); n != 10 || err != nil || string(buf) != "BBBBBCCCCC" {
		t.Errorf("ReadAt across blocks = %d, %v, %q", n, err, buf)
	}

	errTests := []struct {
		name, list string
		want       error
	}{
		{"needs-base", "4\n1\n0\n0\nnew 2,0,1\nmove aa 2,1,2 1 2,5,6\n", extract.ErrNeedsBase},
		{"short-new-dat", "4\n4\n0\n0\nnew 2,0,4\n", extract.ErrCorrupt},
		{"twice", "4\n2\n0\n0\nnew 2,0,1\nnew 2,0,1\n", extract.ErrCorrupt},
		{"zero-after-new", "4\n2\n0\n0\nnew 2,0,1\nzero 2,0,1\n", extract.ErrUnsupported},
	}
	for _, tc := range errTests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewImage(parse(t, tc.list), bytes.NewReader(data), int64(len(data)))
			if !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func FuzzTransferList(f *testing.F) {
	f.Add([]byte("4\n3\n0\n0\nerase 2,0,6\nnew 2,3,4\nzero 2,0,1\nnew 2,1,3\n"))
	f.Add([]byte("2\n1\n1\n4\nstash 3 2,0,4\nmove 2,10,11 1 2,4,5\nmove 2,11,12 1 - 3:2,0,1\nfree 3\n"))
	f.Add([]byte("1\n3\nerase 2,0,8\nnew 2,0,2\nmove 2,5,6 2,2,3\nbsdiff 0 10 2,6,7 2,3,4\n"))
	data := make([]byte, 4*BlockSize)
	f.Fuzz(func(t *testing.T, in []byte) {
		tl, err := ParseTransferList(bytes.NewReader(in), extract.DefaultLimits())
		if err != nil {
			if !extract.HasSentinel(err) {
				t.Fatalf("ParseTransferList: %v wraps no extract sentinel", err)
			}
			return
		}
		im, err := NewImage(tl, bytes.NewReader(data), int64(len(data)))
		if err != nil {
			if !extract.HasSentinel(err) {
				t.Fatalf("NewImage: %v wraps no extract sentinel", err)
			}
			return
		}
		if im.Size() > 64*BlockSize {
			return
		}
		buf := make([]byte, im.Size())
		if n, err := im.ReadAt(buf, 0); n != len(buf) || (err != nil && err != io.EOF) {
			t.Fatalf("ReadAt = %d, %v", n, err)
		}
	})
}

func BenchmarkIrisPrivate(b *testing.B) {
	im, _ := irisImage(b)
	buf := make([]byte, extract.MiB)
	b.SetBytes(im.Size())
	for b.Loop() {
		for off := int64(0); off < im.Size(); off += int64(len(buf)) {
			im.ReadAt(buf, off)
		}
	}
}
