package dex

import (
	"slices"
	"testing"
)

func TestCodeUnits(t *testing.T) {
	buf := make([]byte, 9)
	for i := range buf {
		buf[i] = byte(i + 1)
	}
	want := []uint16{0x0201, 0x0403, 0x0605, 0x0807}
	tests := []struct {
		name    string
		b       []byte
		inPlace bool
		want    []uint16
	}{
		{"in-place", buf[:8], true, want},
		{"copied", buf[:8], false, want},
		{"misaligned", buf[1:9], true, []uint16{0x0302, 0x0504, 0x0706, 0x0908}},
		{"empty", buf[:0], true, []uint16{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := codeUnits(tt.b, tt.inPlace)
			if !slices.Equal(got, tt.want) {
				t.Errorf("codeUnits = %#x, want %#x", got, tt.want)
			}
		})
	}
	// A copy must not see later writes to the file; in place on a
	// little-endian host it does (that is the point: no copy).
	b := append([]byte(nil), buf[:8]...)
	copied, aliased := codeUnits(b, false), codeUnits(b, true)
	b[0] = 0xff
	if copied[0] != 0x0201 {
		t.Errorf("copied units changed with the file: %#x", copied[0])
	}
	if nativeLittleEndian && aliased[0] != 0x02ff {
		t.Errorf("in-place units = %#x, want them to read the file (0x02ff)", aliased[0])
	}
}
