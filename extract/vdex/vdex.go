// Package vdex reads ART VDEX files (priv-app/Foo/oat/arm64/Foo.vdex), the
// containers that hold an app's DEX code next to its pre-compiled ODEX since
// Android 8. Versions 006 (Android 8.0), 010 (8.1), 019 (9), 021 (10, 11) and
// 027 (12 and later) are read; each embedded DEX or compact DEX (cdex001) is
// returned as a section of the file, read in place.
package vdex

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/romscan/romscan/extract"
)

// ErrNoDex says the vdex holds no DEX code: the build left the DEX inside the
// APK (or the vdex only carries verifier data). It wraps extract.ErrUnsupported.
var ErrNoDex = fmt.Errorf("no dex in vdex: %w", extract.ErrUnsupported)

// Bounds on attacker-controlled counts and sizes.
const (
	maxDexFiles = 1 << 16 // dex files in one vdex (real ones hold a few)
	maxSections = 64      // v027 section headers (real ones have 4)
	dexHeaderSz = 0x70    // standard DEX header
	cdexHeadSz  = 0x88    // compact DEX header (Android 9/10)
)

// DexSection is one DEX (or compact DEX) embedded in a vdex file.
type DexSection struct {
	// Offset and Size locate the DEX in the vdex file. Size is the embedded
	// header's file_size; for compact DEX it covers the header, the ID tables
	// and the per-dex data, not the shared data section.
	Offset, Size int64
	// Compact is true for compact DEX ("cdex001", Android 9 and 10).
	Compact bool
	// Version is the DEX format version from the magic ("035", "039", "001").
	Version string
	// Checksum is the vdex's location checksum for this DEX: the CRC32 of the
	// classes*.dex entry in the APK it was built from (it matches the OAT file).
	Checksum uint32
	// DataOffset and DataSize give the file range that the DEX's data
	// offsets (string_data_off, class_data_off, code_off, map_off, ...) count
	// from. For a standard DEX this is the DEX itself (DataOffset == Offset).
	// For compact DEX in a vdex it is the data section that every cdex of the
	// file shares, placed after all cdex headers: resolve such an offset o as
	// DataOffset+o, and the ID tables (string_ids_off, ...) as Offset+off.
	DataOffset, DataSize int64
}

// File is an opened vdex file.
type File struct {
	r       io.ReaderAt
	size    int64
	version string
	dexes   []DexSection
	// Checksums lists the location checksum of every DEX the vdex was made for,
	// including those whose code stayed in the APK.
	checksums []uint32
}

// Sniff reports whether head starts like a vdex file ("vdex" + a 3-digit
// version and a NUL).
func Sniff(head []byte) bool {
	if len(head) < 8 || string(head[:4]) != "vdex" || head[7] != 0 {
		return false
	}
	for _, c := range head[4:7] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Version returns the vdex format version ("006", "010", "019", "021", "027").
func (f *File) Version() string { return f.version }

// Dex returns the DEX files embedded in the vdex, in order.
func (f *File) Dex() []DexSection { return f.dexes }

// Checksums returns the location checksums of the DEX files the vdex was
// built for, one per DEX, whether or not the DEX code is inside the vdex.
func (f *File) Checksums() []uint32 { return f.checksums }

// DexReader returns a reader over the i-th DEX (nil when i is out of range).
func (f *File) DexReader(i int) *io.SectionReader {
	if i < 0 || i >= len(f.dexes) {
		return nil
	}
	d := f.dexes[i]
	return io.NewSectionReader(f.r, d.Offset, d.Size)
}

// DataReader returns a reader over the data range of the i-th DEX (see
// DexSection.DataOffset), nil when i is out of range.
func (f *File) DataReader(i int) *io.SectionReader {
	if i < 0 || i >= len(f.dexes) {
		return nil
	}
	d := f.dexes[i]
	return io.NewSectionReader(f.r, d.DataOffset, d.DataSize)
}

// Open parses the vdex in r (size bytes). When the vdex is well formed but
// holds no DEX code, Open returns the parsed File together with an error
// wrapping ErrNoDex, so callers that only want DEX stop there and callers
// that want the checksums still have them.
func Open(r io.ReaderAt, size int64) (*File, error) {
	var head [12]byte
	if size < 12 {
		return nil, fmt.Errorf("vdex: header: file of %d bytes: %w", size, extract.ErrNotFormat)
	}
	if _, err := r.ReadAt(head[:], 0); err != nil {
		return nil, fmt.Errorf("vdex: read header: %w", err)
	}
	if !Sniff(head[:8]) {
		return nil, fmt.Errorf("vdex: bad magic %q: %w", head[:8], extract.ErrNotFormat)
	}
	f := &File{r: r, size: size, version: string(head[4:7])}
	var err error
	switch f.version {
	case "006", "010":
		err = f.openV6()
	case "019", "021":
		err = f.openV19()
	case "027":
		err = f.openV27()
	default:
		return nil, fmt.Errorf("vdex: version %q: %w", f.version, extract.ErrUnsupported)
	}
	if err != nil {
		return nil, err
	}
	if len(f.dexes) == 0 {
		return f, fmt.Errorf("vdex %s: %w", f.version, ErrNoDex)
	}
	return f, nil
}

// readU32s reads n little-endian uint32 at off, checked against the file size.
func (f *File) readU32s(off int64, n int, what string) ([]uint32, error) {
	if n < 0 || off < 0 || off+int64(n)*4 > f.size {
		return nil, fmt.Errorf("vdex %s: %s: %d words at %d past end of %d-byte file: %w", f.version, what, n, off, f.size, extract.ErrCorrupt)
	}
	if n == 0 {
		// A reader may answer io.EOF to an empty read at the end of the file.
		return nil, nil
	}
	buf := make([]byte, n*4)
	// io.ReaderAt may return io.EOF with a full read at the end of the file.
	if got, err := f.r.ReadAt(buf, off); got < len(buf) {
		return nil, fmt.Errorf("vdex %s: read %s at %d: %w", f.version, what, off, err)
	}
	out := make([]uint32, n)
	for i := range out {
		out[i] = binary.LittleEndian.Uint32(buf[i*4:])
	}
	return out, nil
}

func (f *File) readChecksums(off int64, n uint32) error {
	if n > maxDexFiles {
		return fmt.Errorf("vdex %s: %d dex files: %w", f.version, n, extract.ErrLimit)
	}
	c, err := f.readU32s(off, int(n), "dex checksums")
	if err != nil {
		return err
	}
	f.checksums = c
	return nil
}

// openV6 reads Android 8.0/8.1 vdex: a 24-byte header (number_of_dex_files,
// dex_size, verifier_deps_size, quickening_info_size), the checksums, then the
// DEX files back to back, 4-byte aligned.
func (f *File) openV6() error {
	h, err := f.readU32s(8, 4, "header")
	if err != nil {
		return err
	}
	n, dexSize := h[0], int64(h[1])
	if err := f.readChecksums(24, n); err != nil {
		return err
	}
	begin := 24 + int64(n)*4
	if dexSize == 0 {
		return nil
	}
	end := begin + dexSize
	if end > f.size {
		return fmt.Errorf("vdex %s: dex section [%d,%d) past end of %d-byte file: %w", f.version, begin, end, f.size, extract.ErrCorrupt)
	}
	off := begin
	for i := 0; i < int(n); i++ {
		d, err := f.readDex(off, end, i)
		if err != nil {
			return err
		}
		d.DataOffset, d.DataSize = d.Offset, d.Size
		f.dexes = append(f.dexes, d)
		off = align4(d.Offset + d.Size)
	}
	return nil
}

// openV19 reads Android 9-11 vdex: a header with a dex section version
// ("002", or "000" when the DEX stayed in the APK), the checksums, then an
// optional dex section header (dex_size, dex_shared_data_size,
// quickening_info_size) followed by the DEX files, each preceded by a 32-bit
// quickening table offset, then the shared data of compact DEX.
func (f *File) openV19() error {
	var sec [4]byte
	if _, err := f.r.ReadAt(sec[:], 8); err != nil {
		return fmt.Errorf("vdex %s: read dex section version: %w", f.version, err)
	}
	words := 2 // number_of_dex_files, verifier_deps_size
	if f.version == "021" {
		words = 4 // + bootclasspath_checksums_size, class_loader_context_size
	}
	h, err := f.readU32s(12, words, "header")
	if err != nil {
		return err
	}
	n := h[0]
	ckOff := int64(12 + 4*words)
	if err := f.readChecksums(ckOff, n); err != nil {
		return err
	}
	if sec[3] != 0 {
		return fmt.Errorf("vdex %s: dex section version %q not NUL-terminated: %w", f.version, sec[:], extract.ErrCorrupt)
	}
	switch string(sec[:3]) {
	case "000":
		return nil // no dex section
	case "002":
	default:
		return fmt.Errorf("vdex %s: dex section version %q: %w", f.version, sec[:3], extract.ErrUnsupported)
	}
	dsOff := ckOff + int64(n)*4
	ds, err := f.readU32s(dsOff, 3, "dex section header")
	if err != nil {
		return err
	}
	dexSize, sharedSize := int64(ds[0]), int64(ds[1])
	begin := dsOff + 12
	sharedOff := begin + dexSize
	if sharedOff+sharedSize > f.size {
		return fmt.Errorf("vdex %s: dex section [%d,%d) and shared data of %d bytes past end of %d-byte file: %w",
			f.version, begin, sharedOff, sharedSize, f.size, extract.ErrCorrupt)
	}
	off := begin + 4 // skip the first quickening table offset
	for i := 0; i < int(n); i++ {
		d, err := f.readDex(off, sharedOff, i)
		if err != nil {
			return err
		}
		if d.Compact {
			d.DataOffset, d.DataSize = sharedOff, sharedSize
		} else {
			d.DataOffset, d.DataSize = d.Offset, d.Size
		}
		f.dexes = append(f.dexes, d)
		off = align4(d.Offset+d.Size) + 4
	}
	return nil
}

// Section kinds of vdex 027.
const (
	kindChecksum   = 0
	kindDexFile    = 1
	kindVerifier   = 2
	kindTypeLookup = 3
)

// openV27 reads Android 12+ vdex: a header with a section count and a table
// of (kind, offset, size) sections; the checksum section has one word per DEX
// and the dex file section, when not empty, holds the DEX files back to back.
func (f *File) openV27() error {
	h, err := f.readU32s(8, 1, "header")
	if err != nil {
		return err
	}
	ns := h[0]
	if ns > maxSections {
		return fmt.Errorf("vdex %s: %d sections: %w", f.version, ns, extract.ErrLimit)
	}
	tab, err := f.readU32s(12, int(ns)*3, "section table")
	if err != nil {
		return err
	}
	var ckOff, ckSize, dexOff, dexSize int64
	for i := 0; i < int(ns); i++ {
		kind, off, sz := tab[i*3], int64(tab[i*3+1]), int64(tab[i*3+2])
		if off+sz > f.size {
			return fmt.Errorf("vdex %s: section %d (kind %d) [%d,%d) past end of %d-byte file: %w", f.version, i, kind, off, off+sz, f.size, extract.ErrCorrupt)
		}
		switch kind {
		case kindChecksum:
			ckOff, ckSize = off, sz
		case kindDexFile:
			dexOff, dexSize = off, sz
		}
	}
	if ckSize%4 != 0 {
		return fmt.Errorf("vdex %s: checksum section of %d bytes: %w", f.version, ckSize, extract.ErrCorrupt)
	}
	n := uint32(min(ckSize/4, int64(maxDexFiles)+1))
	if err := f.readChecksums(ckOff, n); err != nil {
		return err
	}
	if dexSize == 0 {
		return nil
	}
	end := dexOff + dexSize
	off := dexOff
	for i := 0; i < int(n); i++ {
		d, err := f.readDex(off, end, i)
		if err != nil {
			return err
		}
		if d.Compact {
			// Android 12+ no longer writes compact DEX into vdex; its data
			// offsets have no shared section to resolve against here.
			return fmt.Errorf("vdex %s: dex %d is compact dex: %w", f.version, i, extract.ErrUnsupported)
		}
		d.DataOffset, d.DataSize = d.Offset, d.Size
		f.dexes = append(f.dexes, d)
		off = align4(d.Offset + d.Size)
	}
	return nil
}

// readDex reads the header of the i-th DEX at off, which must end by end.
func (f *File) readDex(off, end int64, i int) (DexSection, error) {
	var h [dexHeaderSz]byte
	if off < 0 || off+dexHeaderSz > end || end > f.size {
		return DexSection{}, fmt.Errorf("vdex %s: dex %d header at %d past end of dex section (%d): %w", f.version, i, off, end, extract.ErrCorrupt)
	}
	if _, err := f.r.ReadAt(h[:], off); err != nil {
		return DexSection{}, fmt.Errorf("vdex %s: read dex %d header at %d: %w", f.version, i, off, err)
	}
	d := DexSection{Offset: off}
	switch {
	case bytes.Equal(h[:4], []byte("dex\n")) && h[7] == 0:
	case bytes.Equal(h[:4], []byte("cdex")) && h[7] == 0:
		d.Compact = true
	default:
		return DexSection{}, fmt.Errorf("vdex %s: dex %d at %d: bad magic %q: %w", f.version, i, off, h[:8], extract.ErrCorrupt)
	}
	d.Version = string(h[4:7])
	d.Size = int64(binary.LittleEndian.Uint32(h[32:]))
	hsz := int64(binary.LittleEndian.Uint32(h[36:]))
	minHeader := int64(dexHeaderSz)
	if d.Compact {
		minHeader = cdexHeadSz
	}
	if hsz < dexHeaderSz || hsz > d.Size {
		return DexSection{}, fmt.Errorf("vdex %s: dex %d at %d: header_size %d, file_size %d: %w", f.version, i, off, hsz, d.Size, extract.ErrCorrupt)
	}
	if d.Size < minHeader || off+d.Size > end {
		return DexSection{}, fmt.Errorf("vdex %s: dex %d at %d: file_size %d past end of dex section (%d): %w", f.version, i, off, d.Size, end, extract.ErrCorrupt)
	}
	if i < len(f.checksums) {
		d.Checksum = f.checksums[i]
	}
	return d, nil
}

func align4(x int64) int64 { return (x + 3) &^ 3 }
