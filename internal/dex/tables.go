package dex

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/romscan/romscan/extract"
)

// Proto is a method prototype: return type and parameter types as type
// descriptors.
type Proto struct {
	Return string
	Params []string
}

// Descriptor is the method descriptor of p, e.g. "(Ljava/lang/String;I)V".
func (p Proto) Descriptor() string {
	n := 2 + len(p.Return)
	for _, s := range p.Params {
		n += len(s)
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteByte('(')
	for _, s := range p.Params {
		b.WriteString(s)
	}
	b.WriteByte(')')
	b.WriteString(p.Return)
	return b.String()
}

// FieldRef is a field reference: defining class, name and type descriptors.
type FieldRef struct {
	Class, Name, Type string
}

// String formats r in smali style: "Lcls;->name:Type".
func (r FieldRef) String() string { return r.Class + "->" + r.Name + ":" + r.Type }

// MethodRef is a method reference: defining class, name and method
// descriptor ("(Ljava/lang/String;)V").
type MethodRef struct {
	Class, Name, Descriptor string
}

// String formats r in smali style: "Lcls;->name(desc)ret".
func (r MethodRef) String() string { return r.Class + "->" + r.Name + r.Descriptor }

func errIndex(what string, i, n uint32) error {
	return fmt.Errorf("dex: %s index %d out of range (%d entries): %w", what, i, n, extract.ErrCorrupt)
}

// String returns string i of the string table, decoded from MUTF-8.
func (f *File) String(i uint32) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.str(i)
}

// StringBytes returns the raw MUTF-8 bytes of string i (without the NUL).
func (f *File) StringBytes(i uint32) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, b, err := f.stringData(i, nil)
	if err != nil {
		return nil, err
	}
	return bytes.Clone(b), nil
}

// AppendStringBytes appends the raw MUTF-8 bytes of string i (without the
// NUL) to dst. It fails where String fails; unlike String it does not
// decode, allocates nothing beyond dst's growth for a file in memory, and
// leaves the decoded-string cache alone, so a caller that looks at every
// string of a file and keeps few (an ASCII string decodes to itself, see
// IsASCII) can filter on the bytes first.
func (f *File) AppendStringBytes(dst []byte, i uint32) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var scratch [256]byte
	_, b, err := f.stringData(i, scratch[:0])
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}

// StringOffset returns the file offset of the MUTF-8 characters of string i
// (after its length prefix), for evidence.
func (f *File) StringOffset(i uint32) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	off, _, err := f.stringData(i, nil)
	return off, err
}

func (f *File) str(i uint32) (string, error) {
	if i >= f.strings.count {
		return "", errIndex("string", i, f.strings.count)
	}
	if f.strCache == nil && f.strings.count <= maxCachedStrings {
		f.strCache = make([]string, f.strings.count)
	}
	if i < uint32(len(f.strCache)) && f.strCache[i] != "" {
		return f.strCache[i], nil
	}
	var scratch [256]byte
	_, raw, err := f.stringData(i, scratch[:0])
	if err != nil {
		return "", err
	}
	s := DecodeMUTF8(raw)
	if i < uint32(len(f.strCache)) && f.strCacheBytes+int64(len(s)) <= maxCachedStringBytes {
		f.strCache[i] = s
		f.strCacheBytes += int64(len(s))
	}
	return s, nil
}

// stringData returns the offset and raw bytes of string i (aliasing the file
// in memory, else in scratch).
func (f *File) stringData(i uint32, scratch []byte) (int64, []byte, error) {
	if i >= f.strings.count {
		return 0, nil, errIndex("string", i, f.strings.count)
	}
	doff, err := f.src.u32(int64(f.strings.off) + 4*int64(i))
	if err != nil {
		return 0, nil, fmt.Errorf("dex: read string id %d: %w", i, err)
	}
	off := f.dataBase + int64(doff)
	if off < headerSize || off >= f.src.limit {
		return 0, nil, fmt.Errorf("dex: string %d data offset %#x out of bounds: %w", i, off, extract.ErrCorrupt)
	}
	var lb [5]byte
	lw, err := f.src.window(off, 5, lb[:0])
	if err != nil {
		return 0, nil, fmt.Errorf("dex: read string %d: %w", i, err)
	}
	units, n := uleb(lw)
	if n == 0 {
		return 0, nil, fmt.Errorf("dex: string %d at %#x: bad length: %w", i, off, extract.ErrCorrupt)
	}
	off += int64(n)
	// Each UTF-16 unit takes at most 3 bytes of MUTF-8, plus the NUL.
	want := int64(units)*3 + 1
	if want > MaxStringBytes+1 {
		want = MaxStringBytes + 1
	}
	w, err := f.src.window(off, int(want), scratch)
	if err != nil {
		return 0, nil, fmt.Errorf("dex: read string %d: %w", i, err)
	}
	// An ASCII string ends right after its units: look there first.
	head := min(len(w), int(units)+1)
	end := bytes.IndexByte(w[:head], 0)
	if end < 0 {
		if e := bytes.IndexByte(w[head:], 0); e >= 0 {
			end = head + e
		}
	}
	if end < 0 {
		if int64(units)*3 > MaxStringBytes && len(w) == int(want) {
			return 0, nil, fmt.Errorf("dex: string %d at %#x longer than %d bytes: %w", i, off, MaxStringBytes, extract.ErrLimit)
		}
		return 0, nil, fmt.Errorf("dex: string %d at %#x not terminated within its declared %d units: %w", i, off, units, extract.ErrCorrupt)
	}
	return off, w[:end], nil
}

// DecodeMUTF8 decodes Java's modified UTF-8 (as used by DEX string data) to
// UTF-8: 0xC0 0x80 is NUL, surrogate pairs encoded as two 3-byte sequences
// become one code point, and invalid sequences or lone surrogates become
// U+FFFD.
func DecodeMUTF8(b []byte) string {
	if IsASCII(b) {
		return string(b)
	}
	out := make([]byte, 0, len(b)+len(b)/2)
	for i := 0; i < len(b); {
		u, n := mutf8Unit(b[i:])
		i += n
		if u < 0 {
			out = utf8.AppendRune(out, utf8.RuneError)
			continue
		}
		if utf16.IsSurrogate(rune(u)) {
			if u < 0xdc00 && i < len(b) {
				if lo, m := mutf8Unit(b[i:]); lo >= 0xdc00 && lo <= 0xdfff {
					out = utf8.AppendRune(out, utf16.DecodeRune(rune(u), rune(lo)))
					i += m
					continue
				}
			}
			out = utf8.AppendRune(out, utf8.RuneError)
			continue
		}
		out = utf8.AppendRune(out, rune(u))
	}
	return string(out)
}

// IsASCII reports whether the MUTF-8 bytes b are all ASCII (and hold no
// NUL byte): DecodeMUTF8(b) is then string(b), so b can be compared or
// filtered as it is.
func IsASCII(b []byte) bool {
	// Eight bytes at a time: no high bit set, and no zero byte.
	const high, ones = 0x8080808080808080, 0x0101010101010101
	for len(b) >= 8 {
		w := binary.LittleEndian.Uint64(b)
		if w&high != 0 || (w-ones)&^w&high != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c >= 0x80 || c == 0 {
			return false
		}
	}
	return true
}

// mutf8Unit decodes one UTF-16 unit from b (non-empty): the unit, or -1 when
// the sequence is invalid, and the bytes consumed (at least 1).
func mutf8Unit(b []byte) (int, int) {
	c := b[0]
	switch {
	case c < 0x80:
		return int(c), 1
	case c&0xe0 == 0xc0:
		if len(b) < 2 || b[1]&0xc0 != 0x80 {
			return -1, 1
		}
		return int(c&0x1f)<<6 | int(b[1]&0x3f), 2
	case c&0xf0 == 0xe0:
		if len(b) < 3 || b[1]&0xc0 != 0x80 || b[2]&0xc0 != 0x80 {
			return -1, 1
		}
		return int(c&0x0f)<<12 | int(b[1]&0x3f)<<6 | int(b[2]&0x3f), 3
	}
	return -1, 1
}

// Type returns the descriptor of type i, e.g. "Ljava/lang/String;".
func (f *File) Type(i uint32) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.typ(i)
}

func (f *File) typ(i uint32) (string, error) {
	if i >= f.types.count {
		return "", errIndex("type", i, f.types.count)
	}
	if f.typeCache == nil {
		f.typeCache = make([]string, f.types.count)
	}
	if s := f.typeCache[i]; s != "" {
		return s, nil
	}
	si, err := f.src.u32(int64(f.types.off) + 4*int64(i))
	if err != nil {
		return "", fmt.Errorf("dex: read type id %d: %w", i, err)
	}
	s, err := f.str(si)
	if err != nil {
		return "", fmt.Errorf("dex: type %d: %w", i, err)
	}
	f.typeCache[i] = s
	return s, nil
}

// eachType calls fn with each type of the type_list at off (0: empty list),
// which belongs to what number n (for errors), and the list's size.
func (f *File) eachType(off uint32, what string, n uint32, fn func(size int, t string)) error {
	if off == 0 {
		return nil
	}
	at := f.dataBase + int64(off)
	if at%4 != 0 || at < headerSize {
		return fmt.Errorf("dex: %s %d type list offset %#x misaligned: %w", what, n, off, extract.ErrCorrupt)
	}
	size, err := f.src.u32(at)
	if err != nil {
		return fmt.Errorf("dex: %s %d type list: %w", what, n, err)
	}
	if size > 0xffff || at+4+2*int64(size) > f.src.limit {
		return fmt.Errorf("dex: %s %d type list of %d entries at %#x out of bounds: %w", what, n, size, off, extract.ErrCorrupt)
	}
	for k := range int64(size) {
		ti, err := f.src.u16(at + 4 + 2*k)
		if err != nil {
			return fmt.Errorf("dex: %s %d type list: %w", what, n, err)
		}
		t, err := f.typ(uint32(ti))
		if err != nil {
			return fmt.Errorf("dex: %s %d type list entry %d: %w", what, n, k, err)
		}
		fn(int(size), t)
	}
	return nil
}

// typeList reads the type_list at off as type descriptors.
func (f *File) typeList(off uint32, what string, n uint32) ([]string, error) {
	var out []string
	err := f.eachType(off, what, n, func(size int, t string) {
		if out == nil {
			out = make([]string, 0, min(size, maxPresized))
		}
		out = append(out, t)
	})
	return out, err
}

// Proto returns prototype i.
func (f *File) Proto(i uint32) (Proto, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if i >= f.protos.count {
		return Proto{}, errIndex("proto", i, f.protos.count)
	}
	ret, paramsOff, err := f.protoID(i)
	if err != nil {
		return Proto{}, err
	}
	params, err := f.typeList(paramsOff, "proto", i)
	if err != nil {
		return Proto{}, err
	}
	return Proto{Return: ret, Params: params}, nil
}

// protoID reads proto_id i: its return type and parameter list offset.
func (f *File) protoID(i uint32) (string, uint32, error) {
	var scratch [protoIDSize]byte
	b, err := f.src.view(int64(f.protos.off)+protoIDSize*int64(i), protoIDSize, scratch[:0])
	if err != nil {
		return "", 0, fmt.Errorf("dex: read proto id %d: %w", i, err)
	}
	ret, err := f.typ(binary.LittleEndian.Uint32(b[4:]))
	if err != nil {
		return "", 0, fmt.Errorf("dex: proto %d return: %w", i, err)
	}
	return ret, binary.LittleEndian.Uint32(b[8:]), nil
}

// protoDesc returns the method descriptor of proto i, built once and cached.
func (f *File) protoDesc(i uint32) (string, error) {
	if i >= f.protos.count {
		return "", errIndex("proto", i, f.protos.count)
	}
	if f.protoCache == nil {
		f.protoCache = make([]string, f.protos.count)
	}
	if d := f.protoCache[i]; d != "" {
		return d, nil
	}
	ret, paramsOff, err := f.protoID(i)
	if err != nil {
		return "", err
	}
	var buf [256]byte
	d := append(buf[:0], '(')
	err = f.eachType(paramsOff, "proto", i, func(_ int, t string) { d = append(d, t...) })
	if err != nil {
		return "", err
	}
	d = append(d, ')')
	d = append(d, ret...)
	s := string(d)
	f.protoCache[i] = s
	return s, nil
}

// Field returns field reference i.
func (f *File) Field(i uint32) (FieldRef, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.field(i)
}

func (f *File) field(i uint32) (FieldRef, error) {
	if i >= f.fields.count {
		return FieldRef{}, errIndex("field", i, f.fields.count)
	}
	var scratch [fieldIDSize]byte
	b, err := f.src.view(int64(f.fields.off)+fieldIDSize*int64(i), fieldIDSize, scratch[:0])
	if err != nil {
		return FieldRef{}, fmt.Errorf("dex: read field id %d: %w", i, err)
	}
	le := binary.LittleEndian
	var r FieldRef
	if r.Class, err = f.typ(uint32(le.Uint16(b))); err != nil {
		return FieldRef{}, fmt.Errorf("dex: field %d class: %w", i, err)
	}
	if r.Type, err = f.typ(uint32(le.Uint16(b[2:]))); err != nil {
		return FieldRef{}, fmt.Errorf("dex: field %d type: %w", i, err)
	}
	if r.Name, err = f.str(le.Uint32(b[4:])); err != nil {
		return FieldRef{}, fmt.Errorf("dex: field %d name: %w", i, err)
	}
	return r, nil
}

// Method returns method reference i.
func (f *File) Method(i uint32) (MethodRef, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.method(i)
}

func (f *File) method(i uint32) (MethodRef, error) {
	if i >= f.methods.count {
		return MethodRef{}, errIndex("method", i, f.methods.count)
	}
	var scratch [methodIDSize]byte
	b, err := f.src.view(int64(f.methods.off)+methodIDSize*int64(i), methodIDSize, scratch[:0])
	if err != nil {
		return MethodRef{}, fmt.Errorf("dex: read method id %d: %w", i, err)
	}
	le := binary.LittleEndian
	var r MethodRef
	if r.Class, err = f.typ(uint32(le.Uint16(b))); err != nil {
		return MethodRef{}, fmt.Errorf("dex: method %d class: %w", i, err)
	}
	if r.Descriptor, err = f.protoDesc(uint32(le.Uint16(b[2:]))); err != nil {
		return MethodRef{}, fmt.Errorf("dex: method %d: %w", i, err)
	}
	if r.Name, err = f.str(le.Uint32(b[4:])); err != nil {
		return MethodRef{}, fmt.Errorf("dex: method %d name: %w", i, err)
	}
	return r, nil
}

// MethodClassType returns the type index of the defining class of method
// reference i (Type names it): a caller matching references by class can
// decide once per class rather than once per reference. It fails only for an
// index out of range.
func (f *File) MethodClassType(i uint32) (uint32, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if i >= f.methods.count {
		return 0, errIndex("method", i, f.methods.count)
	}
	t, err := f.src.u16(int64(f.methods.off) + methodIDSize*int64(i))
	if err != nil {
		return 0, fmt.Errorf("dex: read method id %d: %w", i, err)
	}
	return uint32(t), nil
}

// FieldClassType returns the type index of the defining class of field
// reference i, as MethodClassType does for methods.
func (f *File) FieldClassType(i uint32) (uint32, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if i >= f.fields.count {
		return 0, errIndex("field", i, f.fields.count)
	}
	t, err := f.src.u16(int64(f.fields.off) + fieldIDSize*int64(i))
	if err != nil {
		return 0, fmt.Errorf("dex: read field id %d: %w", i, err)
	}
	return uint32(t), nil
}
