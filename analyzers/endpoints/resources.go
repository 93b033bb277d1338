package endpoints

import (
	"encoding/binary"
	"fmt"
	"io"
	"unicode/utf16"

	"github.com/romscan/romscan/extract"
)

// Chunk types of the Android resource table format (ResourceTypes.h).
const (
	resStringPoolType = 0x0001
	resTableType      = 0x0002
	utf8Flag          = 1 << 8
	maxPoolStrings    = 1 << 20
)

// ResourceStrings calls fn for each string of the global string pool of a
// resources.arsc: the values of string resources live there. Only the pool
// is read; a malformed table gives an error wrapping extract.ErrCorrupt.
func ResourceStrings(r io.ReaderAt, size int64, fn func(string)) error {
	var hdr [12]byte
	if _, err := r.ReadAt(hdr[:], 0); err != nil {
		return fmt.Errorf("resources: read table header: %w", extract.ErrCorrupt)
	}
	if binary.LittleEndian.Uint16(hdr[0:]) != resTableType {
		return fmt.Errorf("resources: not a resource table: %w", extract.ErrCorrupt)
	}
	poolOff := int64(binary.LittleEndian.Uint16(hdr[2:]))
	var ph [28]byte
	if _, err := r.ReadAt(ph[:], poolOff); err != nil {
		return fmt.Errorf("resources: read string pool header: %w", extract.ErrCorrupt)
	}
	if binary.LittleEndian.Uint16(ph[0:]) != resStringPoolType {
		return fmt.Errorf("resources: no global string pool at %d: %w", poolOff, extract.ErrCorrupt)
	}
	poolSize := int64(binary.LittleEndian.Uint32(ph[4:]))
	count := int64(binary.LittleEndian.Uint32(ph[8:]))
	flags := binary.LittleEndian.Uint32(ph[16:])
	stringsStart := int64(binary.LittleEndian.Uint32(ph[20:]))
	headerSize := int64(binary.LittleEndian.Uint16(ph[2:]))
	if poolSize > size-poolOff || count > maxPoolStrings || headerSize+4*count > poolSize || stringsStart > poolSize {
		return fmt.Errorf("resources: string pool sizes out of bounds: %w", extract.ErrCorrupt)
	}
	pool := make([]byte, poolSize)
	if _, err := r.ReadAt(pool, poolOff); err != nil {
		return fmt.Errorf("resources: read string pool: %w", extract.ErrCorrupt)
	}
	data := pool[stringsStart:]
	for i := int64(0); i < count; i++ {
		off := int64(binary.LittleEndian.Uint32(pool[headerSize+4*i:]))
		if off >= int64(len(data)) {
			continue
		}
		var s string
		var ok bool
		if flags&utf8Flag != 0 {
			s, ok = poolUTF8(data[off:])
		} else {
			s, ok = poolUTF16(data[off:])
		}
		if ok {
			fn(s)
		}
	}
	return nil
}

// poolUTF8 reads a UTF-8 pool string: char count, byte count (each 1 or 2
// bytes), bytes.
func poolUTF8(b []byte) (string, bool) {
	_, n, ok := poolLen8(b)
	if !ok {
		return "", false
	}
	b = b[n:]
	blen, n, ok := poolLen8(b)
	if !ok || n+blen > len(b) {
		return "", false
	}
	return string(b[n : n+blen]), true
}

func poolLen8(b []byte) (int, int, bool) {
	if len(b) < 1 {
		return 0, 0, false
	}
	if b[0]&0x80 == 0 {
		return int(b[0]), 1, true
	}
	if len(b) < 2 {
		return 0, 0, false
	}
	return int(b[0]&0x7f)<<8 | int(b[1]), 2, true
}

// poolUTF16 reads a UTF-16 pool string: unit count (1 or 2 units), units.
func poolUTF16(b []byte) (string, bool) {
	if len(b) < 2 {
		return "", false
	}
	n := int(binary.LittleEndian.Uint16(b))
	skip := 2
	if n&0x8000 != 0 {
		if len(b) < 4 {
			return "", false
		}
		n = (n&0x7fff)<<16 | int(binary.LittleEndian.Uint16(b[2:]))
		skip = 4
	}
	if skip+2*n > len(b) {
		return "", false
	}
	u := make([]uint16, n)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[skip+2*i:])
	}
	return string(utf16.Decode(u)), true
}
