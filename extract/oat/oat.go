// Package oat reads ART OAT files: boot.oat and the ODEX files of
// pre-optimised apps (priv-app/Foo/oat/arm64/Foo.odex). They are ELF shared
// objects whose "oatdata" symbol marks the OAT header, its key-value store
// (dex2oat command line, class path, compiler filter) and one OatDexFile
// entry per DEX file. Before Android 8 the DEX files are embedded in the OAT
// data; since Android 8 they live in the .vdex beside it (or in the APK).
package oat

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"
	"sort"
	"strconv"

	"github.com/romscan/romscan/extract"
)

// Bounds on attacker-controlled sizes and counts.
const (
	maxDexFiles    = 1 << 14 // boot.oat holds a few dozen
	maxLocation    = 4096    // bytes of one dex location string
	maxKeyValue    = 1 << 20 // bytes of the key-value store
	maxHeaderProbe = 160     // bytes of fixed header to search for the key-value store
	dexHeaderSize  = 0x70
	vdexOATVersion = 124 // Android 8.0: DEX moved from the OAT to the .vdex
)

// DexFile is one OatDexFile entry: a DEX file the OAT was compiled from.
type DexFile struct {
	// Location is the DEX location, e.g. "/system/app/Foo/Foo.apk" or
	// "/system/framework/framework.jar!classes2.dex".
	Location string
	// Checksum is the location checksum (CRC32 of the classes*.dex zip entry).
	Checksum uint32
	// DexOffset is the raw dex_file_offset: relative to oatdata before
	// Android 8, into the .vdex from Android 8 on; 0 means the DEX is read
	// from the APK itself.
	DexOffset uint32
	// Embedded is true when the DEX bytes are inside this OAT file.
	Embedded bool
}

// DexSection locates a DEX file embedded in the OAT file (Android 5-7).
type DexSection struct {
	Location     string
	Checksum     uint32
	Offset, Size int64 // in the OAT (ELF) file
}

// File is an opened OAT file.
type File struct {
	r         io.ReaderAt
	version   string
	isa       string
	kv        map[string]string
	dexFiles  []DexFile
	dex       []DexSection
	dataOff   int64 // file offset of oatdata
	dataLimit int64 // end of the oatdata region in the file
}

// Version returns the OAT version ("079", "124", "138", ...).
func (f *File) Version() string { return f.version }

// InstructionSet returns the target instruction set ("arm", "thumb2", "arm64", "x86", ...).
func (f *File) InstructionSet() string { return f.isa }

// KeyValues returns the OAT header's key-value store (e.g. "dex2oat-cmdline",
// "classpath", "compiler-filter"). The map must not be modified.
func (f *File) KeyValues() map[string]string { return f.kv }

// DexFiles returns the OatDexFile entries in order.
func (f *File) DexFiles() []DexFile { return f.dexFiles }

// DexLocations returns the location of every DEX the OAT was compiled from.
func (f *File) DexLocations() []string {
	out := make([]string, len(f.dexFiles))
	for i, d := range f.dexFiles {
		out[i] = d.Location
	}
	return out
}

// Dex returns the DEX files embedded in the OAT (Android 5-7); empty when the
// DEX lives in the .vdex or the APK.
func (f *File) Dex() []DexSection { return f.dex }

// DexReader returns a reader over the i-th embedded DEX (nil when out of range).
func (f *File) DexReader(i int) *io.SectionReader {
	if i < 0 || i >= len(f.dex) {
		return nil
	}
	return io.NewSectionReader(f.r, f.dex[i].Offset, f.dex[i].Size)
}

var isaNames = map[uint32]string{0: "none", 1: "arm", 2: "arm64", 3: "thumb2", 4: "x86", 5: "x86_64", 6: "mips", 7: "mips64", 8: "riscv64"}

// Open parses the OAT file in r (size bytes).
func Open(r io.ReaderAt, size int64) (f *File, err error) {
	defer func() {
		if p := recover(); p != nil {
			f, err = nil, extract.PanicError("oat: malformed elf", p)
		}
	}()
	ef, err := elf.NewFile(io.NewSectionReader(r, 0, size))
	if err != nil {
		return nil, fmt.Errorf("oat: elf: %v: %w", err, extract.ErrNotFormat)
	}
	base, symSize, err := oatdata(ef)
	if err != nil {
		return nil, err
	}
	off, limit, ok := fileOffset(ef, base, size)
	if !ok {
		return nil, fmt.Errorf("oat: oatdata at %#x is not backed by file data: %w", base, extract.ErrCorrupt)
	}
	if symSize > 0 && off+int64(symSize) < limit && off+int64(symSize) > off {
		limit = off + int64(symSize)
	}
	// Older OATs give oatdata the size of .rodata only, but embedded DEX
	// offsets stay within the file, so allow them up to its end.
	f = &File{r: r, dataOff: off, dataLimit: size}
	if err := f.parse(off, limit); err != nil {
		return nil, err
	}
	return f, nil
}

// oatdata finds the oatdata symbol's address and size.
func oatdata(ef *elf.File) (uint64, uint64, error) {
	syms, err := ef.DynamicSymbols()
	if err != nil || !hasSym(syms, "oatdata") {
		if s2, err2 := ef.Symbols(); err2 == nil {
			syms = s2
		}
	}
	for _, s := range syms {
		if s.Name == "oatdata" {
			return s.Value, s.Size, nil
		}
	}
	return 0, 0, fmt.Errorf("oat: no oatdata symbol: %w", extract.ErrNotFormat)
}

func hasSym(syms []elf.Symbol, name string) bool {
	for _, s := range syms {
		if s.Name == name {
			return true
		}
	}
	return false
}

// fileOffset maps a virtual address to a file offset and the end of the file
// data that backs it.
func fileOffset(ef *elf.File, addr uint64, size int64) (int64, int64, bool) {
	for _, p := range ef.Progs {
		if p.Type != elf.PT_LOAD || addr < p.Vaddr || addr-p.Vaddr >= p.Filesz {
			continue
		}
		off, end := p.Off+(addr-p.Vaddr), p.Off+p.Filesz
		if off < p.Off || end < p.Off || end > uint64(size) {
			continue
		}
		return int64(off), int64(end), true
	}
	for _, s := range ef.Sections {
		if s.Type == elf.SHT_NOBITS || addr < s.Addr || addr-s.Addr >= s.Size {
			continue
		}
		off, end := s.Offset+(addr-s.Addr), s.Offset+s.Size
		if off < s.Offset || end < s.Offset || end > uint64(size) {
			continue
		}
		return int64(off), int64(end), true
	}
	return 0, 0, false
}

func (f *File) read(off, limit int64, n int, what string) ([]byte, error) {
	if n < 0 || off < 0 || off+int64(n) > limit {
		return nil, fmt.Errorf("oat: %s: %d bytes at %#x past end of oat data (%#x): %w", what, n, off, limit, extract.ErrCorrupt)
	}
	b := make([]byte, n)
	if _, err := f.r.ReadAt(b, off); err != nil {
		return nil, fmt.Errorf("oat: read %s at %#x: %w", what, off, err)
	}
	return b, nil
}

func (f *File) parse(base, limit int64) error {
	h, err := f.read(base, limit, 32, "header")
	if err != nil {
		return err
	}
	if string(h[:4]) != "oat\n" || h[7] != 0 {
		return fmt.Errorf("oat: bad magic %q: %w", h[:8], extract.ErrNotFormat)
	}
	f.version = string(h[4:7])
	v, err := strconv.Atoi(f.version)
	if err != nil {
		return fmt.Errorf("oat: version %q: %w", f.version, extract.ErrCorrupt)
	}
	le := binary.LittleEndian
	isa := le.Uint32(h[12:])
	f.isa = isaNames[isa]
	if f.isa == "" {
		f.isa = "isa-" + strconv.FormatUint(uint64(isa), 10)
	}
	count := le.Uint32(h[20:])
	if count > maxDexFiles {
		return fmt.Errorf("oat: %d dex files: %w", count, extract.ErrLimit)
	}
	kvOff, kvSize, err := f.findKeyValue(base, limit, v)
	if err != nil {
		return err
	}
	entries := kvOff + kvSize
	if v >= vdexOATVersion {
		entries = base + int64(le.Uint32(h[24:]))
	} else if a := (entries + 3) &^ 3; a != entries && count > 0 {
		// The entries follow the store; accept a writer that aligned them.
		if _, _, err := f.readEntry(base, limit, entries, 0); err != nil {
			if _, _, err := f.readEntry(base, limit, a, 0); err == nil {
				entries = a
			}
		}
	}
	return f.readDexFiles(base, limit, entries, int(count), v)
}

// kvSizeOffset is where the key_value_store_size field sits in the OAT
// header of each version range; the search in findKeyValue covers others.
func kvSizeOffset(v int) int64 {
	switch {
	case v < 64: // Android 5: portable trampolines still in the header
		return 80
	case v < vdexOATVersion: // Android 6, 7
		return 68
	case v < 170: // Android 8, 9: + oat_dex_files_offset
		return 72
	default:
		return 64
	}
}

// findKeyValue locates the key-value store and parses it. The header layout
// changed in most Android releases, so the known offset is tried first and
// the rest of the fixed header is searched for a size followed by a
// well-formed store.
func (f *File) findKeyValue(base, limit int64, v int) (int64, int64, error) {
	hdr, err := f.read(base, limit, int(min(maxHeaderProbe+4, limit-base)), "header")
	if err != nil {
		return 0, 0, err
	}
	cands := []int64{kvSizeOffset(v)}
	for o := int64(24); o+4 <= int64(len(hdr)); o += 4 {
		cands = append(cands, o)
	}
	for _, o := range cands {
		if o+4 > int64(len(hdr)) {
			continue
		}
		sz := int64(binary.LittleEndian.Uint32(hdr[o:]))
		start := base + o + 4
		if sz == 0 || sz > maxKeyValue || start+sz > limit {
			continue
		}
		store, err := f.read(start, limit, int(sz), "key-value store")
		if err != nil {
			continue
		}
		if kv, ok := parseKeyValue(store); ok {
			f.kv = kv
			return start, sz, nil
		}
	}
	return 0, 0, fmt.Errorf("oat %s: no key-value store found in the header: %w", f.version, extract.ErrCorrupt)
}

// parseKeyValue splits NUL-terminated key and value pairs; keys must be
// short identifiers, so random header words are not taken for a store.
func parseKeyValue(b []byte) (map[string]string, bool) {
	if len(b) == 0 || b[len(b)-1] != 0 {
		return nil, false
	}
	parts := bytes.Split(b[:len(b)-1], []byte{0})
	if len(parts)%2 != 0 {
		return nil, false
	}
	kv := make(map[string]string, len(parts)/2)
	for i := 0; i < len(parts); i += 2 {
		k := parts[i]
		if len(k) == 0 || len(k) > 64 {
			return nil, false
		}
		for _, c := range k {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
				return nil, false
			}
		}
		kv[string(k)] = string(parts[i+1])
	}
	return kv, true
}

// trailingWords lists, most likely first, how many 32-bit fields follow
// dex_file_offset in an OatDexFile entry of version v; -1 stands for the
// inline class offsets of Android 5/6 (one word per class_def).
func trailingWords(v int) []int {
	var first []int
	switch {
	case v < 79:
		first = []int{-1}
	case v < vdexOATVersion:
		first = []int{2}
	case v < 131:
		first = []int{3}
	case v < 138:
		first = []int{4}
	case v < 183:
		first = []int{6}
	default:
		first = []int{8}
	}
	for n := 0; n <= 10; n++ {
		if n != first[0] {
			first = append(first, n)
		}
	}
	return append(first, -1)
}

func (f *File) readDexFiles(base, limit, off int64, count, v int) error {
	le := binary.LittleEndian
	for i := 0; i < count; i++ {
		d, next, err := f.readEntry(base, limit, off, i)
		if err != nil {
			return err
		}
		if v < vdexOATVersion && d.DexOffset != 0 {
			s, err := f.embeddedDex(base, d)
			if err != nil {
				return fmt.Errorf("oat %s: dex %d (%q): %w", f.version, i, d.Location, err)
			}
			d.Embedded = true
			f.dex = append(f.dex, s)
		}
		f.dexFiles = append(f.dexFiles, d)
		if i == count-1 {
			break
		}
		// Find the entry's trailing fields by checking where the next entry
		// parses; the layout changed between releases.
		found := false
		for _, n := range trailingWords(v) {
			words := int64(n)
			if n < 0 {
				if !d.Embedded {
					continue
				}
				hb, err := f.read(f.dex[len(f.dex)-1].Offset, f.dataLimit, dexHeaderSize, "dex header")
				if err != nil {
					continue
				}
				words = int64(le.Uint32(hb[96:]))
			}
			cand := next + 4*words
			if _, _, err := f.readEntry(base, limit, cand, i+1); err == nil {
				off, found = cand, true
				break
			}
		}
		if !found {
			return fmt.Errorf("oat %s: dex file entry %d after %#x not found: %w", f.version, i+1, next, extract.ErrCorrupt)
		}
	}
	return nil
}

// readEntry reads the start of an OatDexFile entry and returns where its
// version-specific fields begin.
func (f *File) readEntry(base, limit, off int64, i int) (DexFile, int64, error) {
	b, err := f.read(off, limit, 4, "dex location size")
	if err != nil {
		return DexFile{}, 0, fmt.Errorf("oat %s: dex file entry %d: %w", f.version, i, err)
	}
	n := int64(binary.LittleEndian.Uint32(b))
	if n == 0 || n > maxLocation {
		return DexFile{}, 0, fmt.Errorf("oat %s: dex file entry %d at %#x: location of %d bytes: %w", f.version, i, off, n, extract.ErrCorrupt)
	}
	b, err = f.read(off+4, limit, int(n)+8, "dex location")
	if err != nil {
		return DexFile{}, 0, fmt.Errorf("oat %s: dex file entry %d: %w", f.version, i, err)
	}
	loc := b[:n]
	for _, c := range loc {
		if c < 0x20 || c == 0x7f {
			return DexFile{}, 0, fmt.Errorf("oat %s: dex file entry %d at %#x: location %q has control bytes: %w", f.version, i, off, loc, extract.ErrCorrupt)
		}
	}
	d := DexFile{
		Location:  string(loc),
		Checksum:  binary.LittleEndian.Uint32(b[n:]),
		DexOffset: binary.LittleEndian.Uint32(b[n+4:]),
	}
	return d, off + 4 + n + 8, nil
}

// embeddedDex checks the DEX header at oatdata + dex_file_offset.
func (f *File) embeddedDex(base int64, d DexFile) (DexSection, error) {
	off := base + int64(d.DexOffset)
	h, err := f.read(off, f.dataLimit, dexHeaderSize, "dex header")
	if err != nil {
		return DexSection{}, err
	}
	if string(h[:4]) != "dex\n" || h[7] != 0 {
		return DexSection{}, fmt.Errorf("dex at %#x: bad magic %q: %w", off, h[:8], extract.ErrCorrupt)
	}
	size := int64(binary.LittleEndian.Uint32(h[32:]))
	if size < dexHeaderSize || off+size > f.dataLimit {
		return DexSection{}, fmt.Errorf("dex at %#x: file_size %d past end of file (%d): %w", off, size, f.dataLimit, extract.ErrCorrupt)
	}
	return DexSection{Location: d.Location, Checksum: d.Checksum, Offset: off, Size: size}, nil
}

// Keys returns the key-value store's keys, sorted.
func (f *File) Keys() []string {
	keys := make([]string, 0, len(f.kv))
	for k := range f.kv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
