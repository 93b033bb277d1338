// Package dex reads Dalvik Executable (DEX) files, versions 035 to 041, in
// place from an io.ReaderAt: the header and map list are validated when the
// file is opened, the string, type, proto, field, method and class tables are
// read lazily, and code items are decoded on demand. Every index and offset
// read from the file is checked against the table sizes and the file size, so
// hostile input yields errors wrapping extract.ErrCorrupt, never a panic.
//
// A File is safe for concurrent use.
package dex

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"sync"

	"github.com/romscan/romscan/extract"
)

// NoIndex is the value of an absent index (no superclass, no source file).
const NoIndex = 0xffffffff

// Limits on what one DEX file may make the reader hold.
const (
	// MaxStringBytes bounds the MUTF-8 data of one string.
	MaxStringBytes = 4 << 20
	// maxCachedStrings bounds the entries of the decoded-string cache.
	maxCachedStrings = 1 << 20
	// maxCachedStringBytes bounds the bytes held by the decoded-string cache.
	maxCachedStringBytes = 64 << 20
	// maxMapItems bounds the entries of the map list (about 20 item types exist).
	maxMapItems = 1024
)

const (
	headerSize   = 0x70
	headerSize41 = 0x78
	// compactHeaderSize is the CompactDex header: the standard one plus
	// feature flags, debug info table and owned data range.
	compactHeaderSize = 0x88
	endianTag         = 0x12345678
	revEndianTag      = 0x78563412
	classDefSize      = 32
	protoIDSize       = 12
	fieldIDSize       = 8
	methodIDSize      = 8
	mapItemSize       = 12
	methodHdlSize     = 8
)

// Map item types (dex-format "type codes").
const (
	typeHeaderItem       = 0x0000
	typeStringIDItem     = 0x0001
	typeTypeIDItem       = 0x0002
	typeProtoIDItem      = 0x0003
	typeFieldIDItem      = 0x0004
	typeMethodIDItem     = 0x0005
	typeClassDefItem     = 0x0006
	typeCallSiteIDItem   = 0x0007
	typeMethodHandleItem = 0x0008
	typeMapList          = 0x1000
)

// section is a table of count fixed-size items at off.
type section struct {
	count uint32
	off   uint32
}

// File is an opened DEX file.
type File struct {
	mu       sync.Mutex
	src      source
	version  int
	compact  bool  // CompactDex ("cdex001"), as embedded in VDEX files
	dataBase int64 // what data offsets are relative to: 0, or data_off in CompactDex

	strings, types, protos, fields, methods, classDefs section
	callSites, methodHandles                           section
	dataOff, dataSize                                  uint32

	// Caches, bounded: see the max* constants. Method and field references
	// are not cached: their parts are, and a table of resolved references
	// cost more memory (and GC scanning) than the lookups it saved.
	strCache      []string
	strCacheBytes int64
	typeCache     []string
	protoCache    []string // method descriptors
}

// IsCompact reports whether head starts with the CompactDex magic ("cdex").
func IsCompact(head []byte) bool { return bytes.HasPrefix(head, []byte("cdex")) }

// Sniff reports whether head starts with a DEX magic of a supported version.
func Sniff(head []byte) bool {
	_, err := parseMagic(head)
	return err == nil
}

func parseMagic(head []byte) (int, error) {
	if len(head) < 8 {
		return 0, fmt.Errorf("dex: file of %d bytes shorter than the magic: %w", len(head), extract.ErrNotFormat)
	}
	if IsCompact(head) {
		if string(head[:8]) != "cdex001\x00" {
			return 0, fmt.Errorf("dex: compact dex version %q not read: %w", head[4:7], extract.ErrUnsupported)
		}
		return 1, nil
	}
	if string(head[:4]) != "dex\n" || head[7] != 0 {
		return 0, fmt.Errorf("dex: bad magic %q: %w", head[:8], extract.ErrNotFormat)
	}
	v := 0
	for _, c := range head[4:7] {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("dex: bad version in magic %q: %w", head[:8], extract.ErrNotFormat)
		}
		v = v*10 + int(c-'0')
	}
	if v < 35 || v > 41 {
		return 0, fmt.Errorf("dex: version %03d not read: %w", v, extract.ErrUnsupported)
	}
	return v, nil
}

// OpenBytes opens a DEX file held in memory, without copying it. b must not be
// modified while the File is in use.
func OpenBytes(b []byte) (*File, error) {
	return open(source{data: b, limit: int64(len(b))})
}

// Open validates the header (magic "dex\n035\0" to "dex\n041\0", endian tag,
// file size, section offsets and sizes) and the map list of the DEX file of
// size bytes in r; the tables are read lazily afterwards. CompactDex
// ("cdex001") is read too: r must then start at the CompactDex header and
// reach the end of its data section (data_off+data_size, which in a VDEX is
// the shared data after the dex files).
func Open(r io.ReaderAt, size int64) (*File, error) {
	if r == nil || size < 0 {
		return nil, fmt.Errorf("dex: open: no reader: %w", extract.ErrNotFormat)
	}
	return open(source{r: r, limit: size})
}

func open(src source) (*File, error) {
	head, err := src.window(0, compactHeaderSize, nil)
	if err != nil {
		return nil, fmt.Errorf("dex: read header: %w", err)
	}
	head = bytes.Clone(head)
	v, err := parseMagic(head)
	if err != nil {
		return nil, err
	}
	if len(head) < headerSize {
		return nil, fmt.Errorf("dex: file of %d bytes shorter than the header: %w", src.limit, extract.ErrCorrupt)
	}
	le := binary.LittleEndian
	switch tag := le.Uint32(head[40:]); tag {
	case endianTag:
	case revEndianTag:
		return nil, fmt.Errorf("dex: big-endian dex: %w", extract.ErrUnsupported)
	default:
		return nil, fmt.Errorf("dex: bad endian tag %#x: %w", tag, extract.ErrCorrupt)
	}
	f := &File{src: src, version: v, compact: IsCompact(head)}
	fileSize := int64(le.Uint32(head[32:]))
	hsize := le.Uint32(head[36:])
	wantH := uint32(headerSize)
	switch {
	case f.compact:
		wantH = compactHeaderSize
	case v >= 41:
		wantH = headerSize41
	}
	if hsize != wantH {
		return nil, fmt.Errorf("dex: header size %#x, want %#x for version %03d: %w", hsize, wantH, v, extract.ErrCorrupt)
	}
	limit := fileSize
	if v >= 41 {
		if len(head) < headerSize41 {
			return nil, fmt.Errorf("dex: file shorter than the v41 header: %w", extract.ErrCorrupt)
		}
		// Version 41 may hold several DEX files in one container; offsets
		// are relative to the container, whose first file is read here.
		containerSize := int64(le.Uint32(head[0x70:]))
		if hoff := le.Uint32(head[0x74:]); hoff != 0 {
			return nil, fmt.Errorf("dex: container header offset %#x, want 0: %w", hoff, extract.ErrCorrupt)
		}
		if containerSize < fileSize {
			return nil, fmt.Errorf("dex: container size %d smaller than file size %d: %w", containerSize, fileSize, extract.ErrCorrupt)
		}
		limit = containerSize
	}
	if f.compact {
		// CompactDex data items live in a data section that may be shared
		// by the files of a VDEX, at data_off from this header; every data
		// offset is relative to it.
		dataSize, dataOff := int64(le.Uint32(head[104:])), int64(le.Uint32(head[108:]))
		f.dataBase = dataOff
		limit = max(fileSize, dataOff+dataSize)
	}
	if fileSize < int64(hsize) {
		return nil, fmt.Errorf("dex: declared file size %d smaller than the header: %w", fileSize, extract.ErrCorrupt)
	}
	if limit > src.limit {
		return nil, fmt.Errorf("dex: declared size %d larger than the %d bytes available (truncated?): %w", limit, src.limit, extract.ErrCorrupt)
	}
	f.src.limit = limit
	if src.data != nil {
		f.src.data = src.data[:limit]
	}

	sec := func(at int) section { return section{count: le.Uint32(head[at:]), off: le.Uint32(head[at+4:])} }
	f.strings, f.types, f.protos = sec(56), sec(64), sec(72)
	f.fields, f.methods, f.classDefs = sec(80), sec(88), sec(96)
	f.dataSize, f.dataOff = le.Uint32(head[104:]), le.Uint32(head[108:])
	for _, c := range []struct {
		name string
		s    section
		size int64
		max  uint32
	}{
		{"string_ids", f.strings, 4, NoIndex},
		{"type_ids", f.types, 4, 0xffff},
		{"proto_ids", f.protos, protoIDSize, 0xffff},
		{"field_ids", f.fields, fieldIDSize, NoIndex},
		{"method_ids", f.methods, methodIDSize, NoIndex},
		{"class_defs", f.classDefs, classDefSize, 0xffff},
	} {
		if err := f.checkSection(c.name, c.s, c.size, c.max); err != nil {
			return nil, err
		}
	}
	if int64(f.dataOff)+int64(f.dataSize) > limit {
		return nil, fmt.Errorf("dex: data section %#x+%#x beyond end %#x: %w", f.dataOff, f.dataSize, limit, extract.ErrCorrupt)
	}
	if f.compact {
		// The CompactDex map list is not needed to read the file and its
		// layout differs; only its presence within the data is checked.
		if m := f.dataBase + int64(le.Uint32(head[52:])); m+4 > limit {
			return nil, fmt.Errorf("dex: compact dex map list at %#x beyond end %#x: %w", m, limit, extract.ErrCorrupt)
		}
		return f, nil
	}
	if err := f.readMap(le.Uint32(head[52:]), int64(hsize)); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *File) checkSection(name string, s section, itemSize int64, max uint32) error {
	if s.count == 0 {
		return nil
	}
	if s.count > max {
		return fmt.Errorf("dex: %s count %d above the format maximum %d: %w", name, s.count, max, extract.ErrCorrupt)
	}
	if s.off%4 != 0 || int64(s.off) < headerSize {
		return fmt.Errorf("dex: %s offset %#x misaligned or inside the header: %w", name, s.off, extract.ErrCorrupt)
	}
	if end := int64(s.off) + int64(s.count)*itemSize; end > f.src.limit {
		return fmt.Errorf("dex: %s (%d items at %#x) beyond end %#x: %w", name, s.count, s.off, f.src.limit, extract.ErrCorrupt)
	}
	return nil
}

// readMap validates the map list and picks up the sections only it names
// (call sites and method handles).
func (f *File) readMap(off uint32, hsize int64) error {
	if off == 0 {
		// dx never omitted it, but the format allows readers to cope.
		return fmt.Errorf("dex: no map list: %w", extract.ErrCorrupt)
	}
	if off%4 != 0 || int64(off) < hsize {
		return fmt.Errorf("dex: map list offset %#x misaligned or inside the header: %w", off, extract.ErrCorrupt)
	}
	n, err := f.src.u32(int64(off))
	if err != nil {
		return fmt.Errorf("dex: read map list size: %w", err)
	}
	if n == 0 || n > maxMapItems {
		return fmt.Errorf("dex: map list of %d items: %w", n, extract.ErrCorrupt)
	}
	b, err := f.src.view(int64(off)+4, int(n)*mapItemSize, nil)
	if err != nil {
		return fmt.Errorf("dex: read map list of %d items at %#x: %w", n, off, err)
	}
	le := binary.LittleEndian
	seen := make(map[uint16]bool, n)
	for i := range int(n) {
		it := b[i*mapItemSize:]
		typ, count, ioff := le.Uint16(it), le.Uint32(it[4:]), le.Uint32(it[8:])
		if seen[typ] {
			return fmt.Errorf("dex: map list repeats item type %#x: %w", typ, extract.ErrCorrupt)
		}
		seen[typ] = true
		if count != 0 && int64(ioff) >= f.src.limit {
			return fmt.Errorf("dex: map item %#x (%d at %#x) out of bounds: %w", typ, count, ioff, extract.ErrCorrupt)
		}
		var hdrSec *section
		switch typ {
		case typeHeaderItem:
			if ioff != 0 || count != 1 {
				return fmt.Errorf("dex: map header item at %#x count %d: %w", ioff, count, extract.ErrCorrupt)
			}
			continue
		case typeMapList:
			if ioff != off || count != 1 {
				return fmt.Errorf("dex: map list item at %#x, header says %#x: %w", ioff, off, extract.ErrCorrupt)
			}
			continue
		case typeStringIDItem:
			hdrSec = &f.strings
		case typeTypeIDItem:
			hdrSec = &f.types
		case typeProtoIDItem:
			hdrSec = &f.protos
		case typeFieldIDItem:
			hdrSec = &f.fields
		case typeMethodIDItem:
			hdrSec = &f.methods
		case typeClassDefItem:
			hdrSec = &f.classDefs
		case typeCallSiteIDItem:
			f.callSites = section{count: count, off: ioff}
			if err := f.checkSection("call_site_ids", f.callSites, 4, NoIndex); err != nil {
				return err
			}
			continue
		case typeMethodHandleItem:
			f.methodHandles = section{count: count, off: ioff}
			if err := f.checkSection("method_handles", f.methodHandles, methodHdlSize, NoIndex); err != nil {
				return err
			}
			continue
		default:
			// Data items of variable size (and types added by later
			// versions): their offset was checked above.
			continue
		}
		if hdrSec.count != count || hdrSec.off != ioff {
			return fmt.Errorf("dex: map item %#x (%d at %#x) disagrees with the header (%d at %#x): %w",
				typ, count, ioff, hdrSec.count, hdrSec.off, extract.ErrCorrupt)
		}
	}
	for _, c := range []struct {
		typ uint16
		s   section
	}{{typeStringIDItem, f.strings}, {typeTypeIDItem, f.types}, {typeProtoIDItem, f.protos},
		{typeFieldIDItem, f.fields}, {typeMethodIDItem, f.methods}, {typeClassDefItem, f.classDefs}} {
		if c.s.count != 0 && !seen[c.typ] {
			return fmt.Errorf("dex: map list lacks item type %#x named by the header: %w", c.typ, extract.ErrCorrupt)
		}
	}
	return nil
}

// Version is the DEX format version, 35 to 41; for CompactDex, the cdex
// version (1).
func (f *File) Version() int { return f.version }

// Compact reports whether the file is CompactDex ("cdex001"), the form ART
// stores in VDEX files of Android 9 and later. Its code is usually quickened.
func (f *File) Compact() bool { return f.compact }

// Size is the number of bytes of the file that are read.
func (f *File) Size() int64 { return f.src.limit }

// NumStrings is the number of entries of the string table.
func (f *File) NumStrings() int { return int(f.strings.count) }

// NumTypes is the number of entries of the type table.
func (f *File) NumTypes() int { return int(f.types.count) }

// NumProtos is the number of entries of the prototype table.
func (f *File) NumProtos() int { return int(f.protos.count) }

// NumFields is the number of entries of the field reference table.
func (f *File) NumFields() int { return int(f.fields.count) }

// NumMethods is the number of entries of the method reference table.
func (f *File) NumMethods() int { return int(f.methods.count) }

// NumClasses is the number of class definitions.
func (f *File) NumClasses() int { return int(f.classDefs.count) }

// NumCallSites is the number of call site entries (DEX 038+).
func (f *File) NumCallSites() int { return int(f.callSites.count) }

// NumMethodHandles is the number of method handle entries (DEX 038+).
func (f *File) NumMethodHandles() int { return int(f.methodHandles.count) }
