package android

import (
	"encoding/binary"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/romscan/romscan/extract"
)

// Resource chunk types (frameworks/base/libs/androidfw/include/androidfw/ResourceTypes.h).
const (
	chunkStringPool = 0x0001
	chunkTable      = 0x0002
	chunkXML        = 0x0003
	chunkPackage    = 0x0200
	chunkType       = 0x0201
	chunkTypeSpec   = 0x0202

	poolUTF8 = 1 << 8

	typeFlagSparse   = 0x01
	typeFlagOffset16 = 0x02

	entryFlagComplex = 0x0001
	entryFlagCompact = 0x0008

	// Res_value data types used here.
	valNull      = 0x00
	valReference = 0x01
	valString    = 0x03
	valFloat     = 0x04
	valIntDec    = 0x10
	valIntHex    = 0x11
	valBool      = 0x12

	maxChunks = 1 << 20 // chunks walked in one table: a bound against crafted loops
)

// strPool is a string pool decoded lazily: strings are read on demand from
// the chunk bytes, every offset checked against them.
type strPool struct {
	b       []byte // the whole chunk
	count   int
	offsets int // start of the offset array
	start   int // start of string data
	utf8    bool
	strict  bool // strings must be NUL-terminated, as Android's ResStringPool checks
}

// parsePool checks a string pool chunk's header and offset array.
func parsePool(b []byte) (*strPool, error) {
	if len(b) < 28 {
		return nil, fmt.Errorf("string pool header: %w", extract.ErrCorrupt)
	}
	hsize := int(binary.LittleEndian.Uint16(b[2:]))
	csize := int64(binary.LittleEndian.Uint32(b[4:]))
	if csize > int64(len(b)) || hsize < 28 || int64(hsize) > csize {
		return nil, fmt.Errorf("string pool size %d header %d in %d bytes: %w", csize, hsize, len(b), extract.ErrCorrupt)
	}
	b = b[:csize]
	count := int64(binary.LittleEndian.Uint32(b[8:]))
	styles := int64(binary.LittleEndian.Uint32(b[12:]))
	flags := binary.LittleEndian.Uint32(b[16:])
	start := int64(binary.LittleEndian.Uint32(b[20:]))
	if int64(hsize)+count*4+styles*4 > csize {
		return nil, fmt.Errorf("string pool: %d strings, %d styles do not fit %d bytes: %w", count, styles, csize, extract.ErrCorrupt)
	}
	if start > csize {
		return nil, fmt.Errorf("string pool: strings start %d past %d: %w", start, csize, extract.ErrCorrupt)
	}
	return &strPool{b: b, count: int(count), offsets: hsize, start: int(start), utf8: flags&poolUTF8 != 0}, nil
}

// span locates string i: the encoded bytes [start, end) and whether it is
// UTF-8 text. It does not decode, so checking a whole pool stays linear.
func (p *strPool) span(i uint32) (start, end int, ok bool) {
	if p == nil || int64(i) >= int64(p.count) {
		return 0, 0, false
	}
	off := int64(p.start) + int64(binary.LittleEndian.Uint32(p.b[p.offsets+int(i)*4:]))
	if off >= int64(len(p.b)) {
		return 0, 0, false
	}
	s := p.b[off:]
	if p.utf8 {
		_, n := utf8Len(s) // UTF-16 length, unused
		if n == 0 {
			return 0, 0, false
		}
		l, m := utf8Len(s[n:])
		if m == 0 || n+m+l > len(s) {
			return 0, 0, false
		}
		if p.strict && (n+m+l >= len(s) || s[n+m+l] != 0) {
			return 0, 0, false
		}
		return int(off) + n + m, int(off) + n + m + l, true
	}
	if len(s) < 2 {
		return 0, 0, false
	}
	l := int(binary.LittleEndian.Uint16(s))
	h := 2
	if l&0x8000 != 0 {
		if len(s) < 4 {
			return 0, 0, false
		}
		l = (l&0x7fff)<<16 | int(binary.LittleEndian.Uint16(s[2:]))
		h = 4
	}
	if h+l*2 > len(s) {
		return 0, 0, false
	}
	if p.strict && (h+l*2+2 > len(s) || s[h+l*2] != 0 || s[h+l*2+1] != 0) {
		return 0, 0, false
	}
	return int(off) + h, int(off) + h + l*2, true
}

// get returns string i, or ok=false when i or its bytes are out of range.
func (p *strPool) get(i uint32) (string, bool) {
	start, end, ok := p.span(i)
	if !ok {
		return "", false
	}
	v := p.b[start:end]
	if p.utf8 {
		if !utf8.Valid(v) {
			return string([]rune(string(v))), true
		}
		return string(v), true
	}
	u := make([]uint16, len(v)/2)
	for k := range u {
		u[k] = binary.LittleEndian.Uint16(v[2*k:])
	}
	return string(utf16.Decode(u)), true
}

// utf8Len reads a UTF-8 pool length prefix: the value and the bytes used.
func utf8Len(s []byte) (int, int) {
	if len(s) < 1 {
		return 0, 0
	}
	if s[0]&0x80 == 0 {
		return int(s[0]), 1
	}
	if len(s) < 2 {
		return 0, 0
	}
	return int(s[0]&0x7f)<<8 | int(s[1]), 2
}

// checkAll verifies that every string of the pool lies inside the chunk and
// that decoding them all stays within budget bytes, which lets stricter
// decoders (androidbinary decodes every string up front) read the pool
// without allocating by a bad length or a pool of aliased huge strings.
func (p *strPool) checkAll(budget int64) error {
	var total int64
	for i := 0; i < p.count; i++ {
		start, end, ok := p.span(uint32(i))
		if !ok {
			return fmt.Errorf("string %d out of range: %w", i, extract.ErrCorrupt)
		}
		total += int64(end - start)
		if total > budget {
			return fmt.Errorf("strings decode past %d bytes: %w", budget, extract.ErrLimit)
		}
	}
	return nil
}

// resValue is a typed value from the resource table.
type resValue struct {
	typ  uint8
	data uint32
}

// typeChunk is one ResTable_type: one configuration of one resource type.
type typeChunk struct {
	b          []byte
	id         uint8
	flags      uint8
	count      uint32
	indexStart int
	entries    int
	isDefault  bool
}

// resTable is a bounded reader of resources.arsc: enough to resolve a
// resource ID to its value in the default configuration. Our own rather than
// androidbinary's TableFile, which loops forever on a zero-sized chunk,
// allocates by declared counts, and reads neither sparse nor compact entries.
type resTable struct {
	strings *strPool
	types   map[uint32][]typeChunk // key: package id << 8 | type id
}

// parseTable reads a resources.arsc held in b.
func parseTable(b []byte) (*resTable, error) {
	if len(b) < 12 {
		return nil, fmt.Errorf("resource table header: %w", extract.ErrCorrupt)
	}
	hsize := int64(binary.LittleEndian.Uint16(b[2:]))
	size := min(int64(binary.LittleEndian.Uint32(b[4:])), int64(len(b)))
	if hsize < 12 || hsize > size {
		return nil, fmt.Errorf("resource table header size %d: %w", hsize, extract.ErrCorrupt)
	}
	t := &resTable{types: map[uint32][]typeChunk{}}
	n := 0
	err := walkChunks(b[hsize:size], &n, func(typ uint16, c []byte) error {
		switch typ {
		case chunkStringPool:
			if t.strings == nil {
				p, err := parsePool(c)
				if err != nil {
					return err
				}
				t.strings = p
			}
		case chunkPackage:
			return t.parsePackage(c, &n)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("resource table: %w", err)
	}
	return t, nil
}

// walkChunks calls fn for each chunk in b, checking every size. n counts
// chunks across nested walks.
func walkChunks(b []byte, n *int, fn func(typ uint16, c []byte) error) error {
	off := 0
	for off+8 <= len(b) {
		*n++
		if *n > maxChunks {
			return fmt.Errorf("more than %d chunks: %w", maxChunks, extract.ErrLimit)
		}
		typ := binary.LittleEndian.Uint16(b[off:])
		hsize := int(binary.LittleEndian.Uint16(b[off+2:]))
		size := int64(binary.LittleEndian.Uint32(b[off+4:]))
		if hsize < 8 || int64(hsize) > size || size > int64(len(b)-off) {
			return fmt.Errorf("chunk 0x%04x at %d: size %d header %d: %w", typ, off, size, hsize, extract.ErrCorrupt)
		}
		if err := fn(typ, b[off:off+int(size)]); err != nil {
			return err
		}
		off += int(size)
	}
	return nil
}

func (t *resTable) parsePackage(c []byte, n *int) error {
	hsize := int(binary.LittleEndian.Uint16(c[2:]))
	if hsize < 12 || len(c) < 12 {
		return fmt.Errorf("package header: %w", extract.ErrCorrupt)
	}
	pkg := binary.LittleEndian.Uint32(c[8:])
	return walkChunks(c[hsize:], n, func(typ uint16, tc []byte) error {
		if typ != chunkType || len(tc) < 20 {
			return nil
		}
		th := int(binary.LittleEndian.Uint16(tc[2:]))
		k := typeChunk{
			b:          tc,
			id:         tc[8],
			flags:      tc[9],
			count:      binary.LittleEndian.Uint32(tc[12:]),
			indexStart: th,
			entries:    int(binary.LittleEndian.Uint32(tc[16:])),
			isDefault:  true,
		}
		if th > len(tc) || k.entries > len(tc) {
			return nil // a bad type chunk hides its entries, not the table
		}
		// ResTable_config follows at 20; its first word is its size.
		if len(tc) >= 24 {
			cs := int(binary.LittleEndian.Uint32(tc[20:]))
			end := min(20+cs, th, len(tc))
			for _, x := range tc[min(24, end):end] {
				if x != 0 {
					k.isDefault = false
					break
				}
			}
		}
		key := pkg<<8 | uint32(k.id)
		t.types[key] = append(t.types[key], k)
		return nil
	})
}

// entry returns the value of entry idx in k, if present and simple.
func (k *typeChunk) entry(idx uint32) (resValue, bool) {
	var off int64 = -1
	switch {
	case k.flags&typeFlagSparse != 0:
		// Sorted (index, offset/4) pairs of uint16.
		for i := uint32(0); i < k.count; i++ {
			p := k.indexStart + int(i)*4
			if p+4 > len(k.b) {
				break
			}
			if uint32(binary.LittleEndian.Uint16(k.b[p:])) == idx {
				off = int64(binary.LittleEndian.Uint16(k.b[p+2:])) * 4
				break
			}
		}
	case k.flags&typeFlagOffset16 != 0:
		if idx >= k.count {
			return resValue{}, false
		}
		p := k.indexStart + int(idx)*2
		if p+2 > len(k.b) {
			return resValue{}, false
		}
		if v := binary.LittleEndian.Uint16(k.b[p:]); v != 0xffff {
			off = int64(v) * 4
		}
	default:
		if idx >= k.count {
			return resValue{}, false
		}
		p := k.indexStart + int(idx)*4
		if p+4 > len(k.b) {
			return resValue{}, false
		}
		if v := binary.LittleEndian.Uint32(k.b[p:]); v != 0xffffffff {
			off = int64(v)
		}
	}
	if off < 0 {
		return resValue{}, false
	}
	p := int64(k.entries) + off
	if p+8 > int64(len(k.b)) {
		return resValue{}, false
	}
	e := k.b[p:]
	flags := binary.LittleEndian.Uint16(e[2:])
	if flags&entryFlagCompact != 0 {
		return resValue{typ: uint8(flags >> 8), data: binary.LittleEndian.Uint32(e[4:])}, true
	}
	if flags&entryFlagComplex != 0 {
		return resValue{}, false
	}
	esize := int64(binary.LittleEndian.Uint16(e))
	if esize < 8 || p+esize+8 > int64(len(k.b)) {
		return resValue{}, false
	}
	v := k.b[p+esize:]
	return resValue{typ: v[3], data: binary.LittleEndian.Uint32(v[4:])}, true
}

// lookup returns the value of id in the default configuration, or in the
// first configuration that has it.
func (t *resTable) lookup(id uint32) (resValue, bool) {
	if t == nil || id>>16&0xff == 0 {
		return resValue{}, false
	}
	key := id>>24<<8 | id>>16&0xff
	idx := id & 0xffff
	var first *resValue
	for i := range t.types[key] {
		k := &t.types[key][i]
		v, ok := k.entry(idx)
		if !ok {
			continue
		}
		if k.isDefault {
			return v, true
		}
		if first == nil {
			first = &v
		}
	}
	if first != nil {
		return *first, true
	}
	return resValue{}, false
}

// resolve follows references (a bounded number of hops) and renders the
// final value as text; ok is false when id cannot be resolved.
func (t *resTable) resolve(id uint32) (string, bool) {
	for hop := 0; hop < 8; hop++ {
		v, ok := t.lookup(id)
		if !ok {
			return "", false
		}
		switch v.typ {
		case valReference:
			id = v.data
			continue
		case valString:
			return t.strings.get(v.data)
		case valBool:
			if v.data != 0 {
				return "true", true
			}
			return "false", true
		case valIntDec:
			return fmt.Sprint(int32(v.data)), true
		case valIntHex:
			return fmt.Sprintf("0x%x", v.data), true
		case valNull:
			return "", true
		default:
			return fmt.Sprint(v.data), true
		}
	}
	return "", false
}
