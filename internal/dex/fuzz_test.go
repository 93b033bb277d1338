package dex

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/romscan/romscan/extract"
)

// FuzzDEX opens arbitrary bytes both in memory and through an io.ReaderAt
// and uses every accessor: no panic, and Open fails only with a sentinel.
func FuzzDEX(f *testing.F) {
	f.Add(sampleDEX())
	b := sampleDEX()
	copy(b[4:], "039")
	f.Add(b)
	f.Add(testDEX{
		strings: []string{"LA;", "V", "m", "\xed\xa0\xbd\xed\xb8\x80"},
		types:   []uint32{0, 1},
		protos:  [][2]uint32{{1, 1}},
		methods: [][3]uint32{{0, 0, 2}},
		classes: []testClass{{class: 0, super: NoIndex, methods: []testMethod{{idx: 0, access: AccStatic, code: []uint16{
			0x012b, 8, 0, // packed-switch v1, +8
			0x00fa, 0, 0x0000, 0, // invoke-polymorphic {}, meth@0, proto@0
			0x000e,                // return-void
			0x0100, 1, 0, 0, 3, 0, // packed-switch payload
			0x0300, 1, 3, 0, 0x0201, 0x0003, // fill-array-data payload
		}}}}},
	}.build())
	f.Fuzz(func(t *testing.T, data []byte) {
		fm, err := OpenBytes(data)
		if err != nil {
			if !errors.Is(err, extract.ErrCorrupt) && !errors.Is(err, extract.ErrNotFormat) && !errors.Is(err, extract.ErrUnsupported) {
				t.Fatalf("OpenBytes: %v wraps no sentinel", err)
			}
			return
		}
		exercise(fm)
		if err := insnsAgrees(fm); err != nil {
			t.Fatal(err)
		}
		fr, err := Open(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatalf("Open failed where OpenBytes succeeded: %v", err)
		}
		exercise(fr)
		if err := insnsAgrees(fr); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzDecode decodes arbitrary code units linearly and at every pc.
func FuzzDecode(f *testing.F) {
	for _, s := range [][]uint16{
		{0x556e, 9, 0x4321, 0x20fa, 5, 0x0021, 6, 0x03fb, 5, 4, 6, 0x000e},
		{0x0218, 0xcdef, 0x89ab, 0x4567, 0x0123, 0x012b, 3, 0, 0x0100, 1, 0, 0, 3, 0},
		{0x0300, 2, 3, 0, 0x0201, 0x0403, 0x0605, 0x0200, 1, 5, 0, 30, 0},
	} {
		b := make([]byte, 2*len(s))
		for i, u := range s {
			binary.LittleEndian.PutUint16(b[2*i:], u)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		insns := make([]uint16, len(data)/2)
		for i := range insns {
			insns[i] = binary.LittleEndian.Uint16(data[2*i:])
		}
		if err := eachRefAgrees(insns); err != nil {
			t.Fatal(err)
		}
		code := &Code{Insns: insns}
		var ins Instruction
		for pc := range insns {
			if err := decodeRefAgrees(insns, pc); err != nil {
				t.Fatal(err)
			}
			w, err := DecodeInto(&ins, insns, pc)
			if err != nil {
				continue
			}
			if w <= 0 || pc+w > len(insns) {
				t.Fatalf("pc %d: width %d outside %d units", pc, w, len(insns))
			}
			code.FillArrayData(pc)
			code.Switch(pc)
		}
		// The walker's byte decoder must agree with Decode on widths.
		for pc := 0; pc < len(insns); {
			w, err := DecodeInto(&ins, insns, pc)
			if err != nil {
				break
			}
			if ins.Op == OpPayload && payloadWidthBytes(data[:2*len(insns)], pc) != w {
				t.Fatalf("pc %d: payload width %d vs %d", pc, w, payloadWidthBytes(data, pc))
			}
			pc += w
		}
	})
}
