package android

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/flate"

	"github.com/romscan/romscan/extract"
	"github.com/romscan/romscan/internal/testutil"
)

func deflate(t testing.TB, data []byte) []byte {
	var b bytes.Buffer
	w, err := flate.NewWriter(&b, 6)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	w.Close()
	return b.Bytes()
}

func TestInflateWhole(t *testing.T) {
	data := bytes.Repeat([]byte("romscan inflates members whole "), 4000)
	z := deflate(t, data)
	tests := []struct {
		name    string
		in      []byte
		outCap  int
		wantOK  bool
		wantOut []byte
	}{
		{"exact", z, len(data), true, data},
		{"room-to-spare", z, len(data) + 100, true, data},
		{"larger-than-declared", z, len(data) - 1, false, nil},
		{"truncated", z[:len(z)/2], len(data), false, nil},
		{"trailing-bytes", append(bytes.Clone(z), "junk"...), len(data), true, data},
		{"garbage", bytes.Repeat([]byte{0xff}, 64), 1024, false, nil},
		{"empty", nil, 16, false, nil},
	}
	if !inflateWholeAvailable {
		t.Skip("built without cgo: members are inflated by the streaming decoder alone")
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := inflateWhole(tt.in, make([]byte, 0, tt.outCap))
			if ok != tt.wantOK || !bytes.Equal(got, tt.wantOut) {
				t.Errorf("inflateWhole = %d bytes, %v; want %d bytes, %v", len(got), ok, len(tt.wantOut), tt.wantOK)
			}
		})
	}
}

// TestInflateWholeAgreesWithStreaming decodes every deflated member of the
// corpus APKs both ways.
func TestInflateWholeAgreesWithStreaming(t *testing.T) {
	if !inflateWholeAvailable {
		t.Skip("built without cgo")
	}
	dir := testutil.Corpus(t, "apks")
	paths, _ := filepath.Glob(filepath.Join(dir, "*", "*.apk"))
	whole := 0
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		ents, _, err := listEntries(t.Context(), bytes.NewReader(data), int64(len(data)), extract.DefaultLimits())
		if err != nil {
			continue
		}
		for _, e := range ents {
			if e.Method == 0 || e.Size <= 0 || e.DataOffset < 0 || e.CompressedSize <= 0 || e.DataOffset+e.CompressedSize > int64(len(data)) || e.Size > 64*extract.MiB {
				continue
			}
			in := data[e.DataOffset : e.DataOffset+e.CompressedSize]
			stream, serr := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(in)), e.Size+1))
			got, ok := inflateWhole(in, make([]byte, 0, e.Size))
			if !ok {
				if serr == nil && int64(len(stream)) <= e.Size {
					t.Errorf("%s!%s: whole decode failed where streaming decoded %d bytes", p, e.Name, len(stream))
				}
				continue
			}
			whole++
			if serr != nil || !bytes.Equal(got, stream) {
				t.Errorf("%s!%s: whole decode gave %d bytes, streaming %d (err %v)", p, e.Name, len(got), len(stream), serr)
			}
		}
	}
	if whole == 0 {
		t.Error("no member decoded whole")
	}
}
