// Package superimg reads Android's super partition image (dynamic
// partitions, "LP" metadata, as written by lpmake and liblp) in place: the
// geometry, the metadata of each slot, and the logical partitions as
// io.ReaderAt views over the image.
//
// Layout of a full super.img: 4 KiB reserved, the geometry and its backup
// (4 KiB each), then metadata_slot_count primary metadata copies of
// metadata_max_size bytes, as many backup copies, and the partition data.
// A super_empty.img holds only the geometry at offset 0 and one metadata copy
// at 4096.
package superimg

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/romscan/romscan/extract"
)

// On-disk constants from AOSP liblp's metadata_format.h.
const (
	geometryMagic   = 0x616c4467
	geometrySize    = 4096 // space reserved for one geometry copy
	headerMagic     = 0x414C5030
	majorVersion    = 10
	minorVersionMax = 2
	reservedBytes   = 4096 // zeroed start of every super partition
	sectorSize      = 512

	geometryStructSize    = 52
	headerV0Size          = 128
	headerV2Size          = 256
	partitionEntrySize    = 52
	extentEntrySize       = 24
	groupEntrySize        = 48
	blockDeviceEntrySize  = 64
	maxMetadataSize       = 4 << 20 // far above liblp's real sizes (64 KiB typical)
	maxSlotCount          = 8
	nameLen               = 36
	minorVersionUpdatedAt = 1
)

// Partition attribute bits (LP_PARTITION_ATTR_*).
const (
	AttrReadonly     uint32 = 1 << 0 // not writable
	AttrSlotSuffixed uint32 = 1 << 1 // the name takes the slot suffix (_a, _b) on retrofit devices
	AttrUpdated      uint32 = 1 << 2 // created or modified for a snapshot-based update
	AttrDisabled     uint32 = 1 << 3 // should not be mapped
)

// Extent target types (LP_TARGET_TYPE_*).
const (
	TargetLinear uint32 = 0 // dm-linear onto a block device
	TargetZero   uint32 = 1 // dm-zero
)

// GroupSlotSuffixed and BlockDeviceSlotSuffixed mark names that take the slot
// suffix on retrofit devices.
const (
	GroupSlotSuffixed       uint32 = 1 << 0
	BlockDeviceSlotSuffixed uint32 = 1 << 0
)

// Extent maps a run of a logical partition, in 512-byte sectors, onto a
// target: a linear range of a block device, or zeros.
type Extent struct {
	NumSectors   uint64 // length of the run in 512-byte sectors
	TargetType   uint32 // TargetLinear or TargetZero
	TargetData   uint64 // first sector on the block device (linear)
	TargetSource uint32 // index into the block device table (linear)
}

// Partition is one logical partition of the selected metadata slot.
type Partition struct {
	Name       string
	Group      string
	Attributes uint32
	Size       int64 // sum of the extents, in bytes
	Extents    []Extent
}

// Group is an update group: partitions in it share a maximum size.
type Group struct {
	Name        string
	Flags       uint32
	MaximumSize uint64 // 0: no limit
}

// BlockDevice is one physical partition that holds logical partition data;
// the first one holds the metadata itself.
type BlockDevice struct {
	Name               string
	FirstLogicalSector uint64
	Alignment          uint32
	AlignmentOffset    uint32
	Size               uint64
	Flags              uint32
}

// Geometry is the fixed description of where the metadata lives.
type Geometry struct {
	MetadataMaxSize   uint32
	MetadataSlotCount uint32
	LogicalBlockSize  uint32
}

// Super is an opened super image: its geometry and the metadata of the
// selected slot.
type Super struct {
	r      io.ReaderAt
	size   int64
	empty  bool // super_empty.img layout: geometry at 0, one metadata copy at 4096
	geo    Geometry
	slot   int
	minor  uint16
	flags  uint32
	parts  []Partition
	groups []Group
	devs   []BlockDevice
}

// Sniff reports whether head starts a super image: the geometry magic at
// offset 4096 (super.img), or at 0 (super_empty.img).
func Sniff(head []byte) bool {
	if len(head) >= reservedBytes+4 && binary.LittleEndian.Uint32(head[reservedBytes:]) == geometryMagic {
		return true
	}
	return len(head) >= 4 && binary.LittleEndian.Uint32(head) == geometryMagic
}

// Open reads the geometry (primary, then backup) and the metadata of slot 0
// (primary, then backup), verifying every checksum.
func Open(r io.ReaderAt, size int64) (*Super, error) {
	s := &Super{r: r, size: size}
	var errs []error
	for _, off := range []int64{reservedBytes, reservedBytes + geometrySize} {
		g, err := s.readGeometry(off)
		if err == nil {
			s.geo = g
			break
		}
		errs = append(errs, err)
	}
	if s.geo.MetadataMaxSize == 0 {
		// super_empty.img: a single geometry at 0.
		g, err := s.readGeometry(0)
		if err != nil {
			if allNotFormat(append(errs, err)) {
				return nil, fmt.Errorf("superimg: no geometry magic at 0 or 4096: %w", extract.ErrNotFormat)
			}
			return nil, errors.Join(append(errs, err)...)
		}
		s.geo = g
		s.empty = true
	}
	if err := s.SelectSlot(0); err != nil {
		return nil, err
	}
	return s, nil
}

func allNotFormat(errs []error) bool {
	for _, e := range errs {
		if !errors.Is(e, extract.ErrNotFormat) {
			return false
		}
	}
	return true
}

// Geometry returns the geometry of the image.
func (s *Super) Geometry() Geometry { return s.geo }

// Slot returns the metadata slot whose tables are selected.
func (s *Super) Slot() int { return s.slot }

// SlotCount returns the number of metadata slots the geometry declares.
func (s *Super) SlotCount() int { return int(s.geo.MetadataSlotCount) }

// MinorVersion returns the metadata header minor version (0..2) of the
// selected slot.
func (s *Super) MinorVersion() int { return int(s.minor) }

// HeaderFlags returns the header flags (v10.2; 0 before), e.g. 1 for a
// Virtual A/B device.
func (s *Super) HeaderFlags() uint32 { return s.flags }

// Partitions returns the logical partitions of the selected slot.
func (s *Super) Partitions() []Partition { return s.parts }

// Groups returns the update groups of the selected slot.
func (s *Super) Groups() []Group { return s.groups }

// BlockDevices returns the block device table of the selected slot.
func (s *Super) BlockDevices() []BlockDevice { return s.devs }

// SelectSlot reads the metadata of slot n (primary copy, then backup) and
// makes it current. A super_empty.img holds one copy, used for every slot.
func (s *Super) SelectSlot(n int) error {
	if n < 0 || n >= int(s.geo.MetadataSlotCount) {
		return fmt.Errorf("superimg: select slot %d of %d: %w", n, s.geo.MetadataSlotCount, extract.ErrCorrupt)
	}
	var offs []int64
	if s.empty {
		offs = []int64{geometrySize}
	} else {
		m := int64(s.geo.MetadataMaxSize)
		base := int64(reservedBytes + 2*geometrySize)
		offs = []int64{base + m*int64(n), base + m*int64(s.geo.MetadataSlotCount) + m*int64(n)}
	}
	var errs []error
	for _, off := range offs {
		err := s.readMetadata(off)
		if err == nil {
			s.slot = n
			return nil
		}
		errs = append(errs, fmt.Errorf("superimg: metadata slot %d at offset %d: %w", n, off, err))
	}
	return errors.Join(errs...)
}

func (s *Super) readAt(off int64, n int) ([]byte, error) {
	if off < 0 || n < 0 || off > s.size || int64(n) > s.size-off {
		return nil, fmt.Errorf("%d bytes at offset %d past the end of the %d-byte image: %w", n, off, s.size, extract.ErrCorrupt)
	}
	b := make([]byte, n)
	if k, err := s.r.ReadAt(b, off); k < n {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("read %d bytes at offset %d: %w", n, off, err)
	}
	return b, nil
}

func (s *Super) readGeometry(off int64) (Geometry, error) {
	if off+geometryStructSize > s.size {
		return Geometry{}, fmt.Errorf("superimg: geometry at %d: image too small: %w", off, extract.ErrNotFormat)
	}
	b, err := s.readAt(off, geometryStructSize)
	if err != nil {
		return Geometry{}, fmt.Errorf("superimg: geometry at %d: %w", off, err)
	}
	le := binary.LittleEndian
	if le.Uint32(b) != geometryMagic {
		return Geometry{}, fmt.Errorf("superimg: geometry at %d: bad magic: %w", off, extract.ErrNotFormat)
	}
	if ss := le.Uint32(b[4:]); ss != geometryStructSize {
		return Geometry{}, fmt.Errorf("superimg: geometry at %d: struct size %d, want %d: %w", off, ss, geometryStructSize, extract.ErrCorrupt)
	}
	want := append([]byte(nil), b[8:40]...)
	clear(b[8:40])
	if sum := sha256.Sum256(b); !bytes.Equal(sum[:], want) {
		return Geometry{}, fmt.Errorf("superimg: geometry at %d: checksum mismatch: %w", off, extract.ErrCorrupt)
	}
	g := Geometry{
		MetadataMaxSize:   le.Uint32(b[40:]),
		MetadataSlotCount: le.Uint32(b[44:]),
		LogicalBlockSize:  le.Uint32(b[48:]),
	}
	switch {
	case g.MetadataMaxSize == 0 || g.MetadataMaxSize%sectorSize != 0 || g.MetadataMaxSize > maxMetadataSize:
		err = fmt.Errorf("metadata max size %d", g.MetadataMaxSize)
	case g.MetadataSlotCount == 0 || g.MetadataSlotCount > maxSlotCount:
		err = fmt.Errorf("metadata slot count %d", g.MetadataSlotCount)
	case g.LogicalBlockSize == 0 || g.LogicalBlockSize%sectorSize != 0:
		err = fmt.Errorf("logical block size %d", g.LogicalBlockSize)
	}
	if err != nil {
		return Geometry{}, fmt.Errorf("superimg: geometry at %d: %w: %w", off, err, extract.ErrCorrupt)
	}
	return g, nil
}

type tableDesc struct{ offset, num, entrySize uint32 }

func (s *Super) readMetadata(off int64) error {
	le := binary.LittleEndian
	maxSize := int64(s.geo.MetadataMaxSize)
	if off+headerV0Size > s.size {
		return fmt.Errorf("header past the end of the %d-byte image: %w", s.size, extract.ErrCorrupt)
	}
	b, err := s.readAt(off, headerV0Size)
	if err != nil {
		return err
	}
	if le.Uint32(b) != headerMagic {
		return fmt.Errorf("bad header magic %#x: %w", le.Uint32(b), extract.ErrCorrupt)
	}
	major, minor := le.Uint16(b[4:]), le.Uint16(b[6:])
	if major != majorVersion || minor > minorVersionMax {
		return fmt.Errorf("metadata version %d.%d: %w", major, minor, extract.ErrUnsupported)
	}
	hsize := le.Uint32(b[8:])
	wantH := uint32(headerV0Size)
	if minor >= 2 {
		wantH = headerV2Size
	}
	if hsize != wantH {
		return fmt.Errorf("header size %d for version 10.%d, want %d: %w", hsize, minor, wantH, extract.ErrCorrupt)
	}
	if int64(hsize) > maxSize {
		return fmt.Errorf("header size %d over metadata max size %d: %w", hsize, maxSize, extract.ErrCorrupt)
	}
	if hsize > headerV0Size {
		if b, err = s.readAt(off, int(hsize)); err != nil {
			return err
		}
	}
	hdr := append([]byte(nil), b...)
	wantSum := append([]byte(nil), hdr[12:44]...)
	clear(hdr[12:44])
	if sum := sha256.Sum256(hdr); !bytes.Equal(sum[:], wantSum) {
		return fmt.Errorf("header checksum mismatch: %w", extract.ErrCorrupt)
	}
	tablesSize := le.Uint32(b[44:])
	if int64(tablesSize) > maxSize-int64(hsize) {
		return fmt.Errorf("tables size %d over metadata max size %d: %w", tablesSize, maxSize, extract.ErrCorrupt)
	}
	tables, err := s.readAt(off+int64(hsize), int(tablesSize))
	if err != nil {
		return fmt.Errorf("tables: %w", err)
	}
	if sum := sha256.Sum256(tables); !bytes.Equal(sum[:], b[48:80]) {
		return fmt.Errorf("tables checksum mismatch: %w", extract.ErrCorrupt)
	}
	desc := func(at int) tableDesc {
		return tableDesc{le.Uint32(b[at:]), le.Uint32(b[at+4:]), le.Uint32(b[at+8:])}
	}
	var flags uint32
	if minor >= 2 {
		flags = le.Uint32(b[128:])
	}
	descs := []struct {
		name string
		d    tableDesc
		size uint32
	}{
		{"partition", desc(80), partitionEntrySize},
		{"extent", desc(92), extentEntrySize},
		{"group", desc(104), groupEntrySize},
		{"block device", desc(116), blockDeviceEntrySize},
	}
	var entries [4][][]byte
	for i, t := range descs {
		if t.d.entrySize != t.size {
			return fmt.Errorf("%s table entry size %d, want %d: %w", t.name, t.d.entrySize, t.size, extract.ErrCorrupt)
		}
		end := uint64(t.d.offset) + uint64(t.d.num)*uint64(t.d.entrySize)
		if end > uint64(tablesSize) {
			return fmt.Errorf("%s table (%d entries at %d) overflows the %d-byte tables: %w", t.name, t.d.num, t.d.offset, tablesSize, extract.ErrCorrupt)
		}
		for j := uint32(0); j < t.d.num; j++ {
			o := t.d.offset + j*t.d.entrySize
			entries[i] = append(entries[i], tables[o:o+t.d.entrySize])
		}
	}

	var groups []Group
	for _, e := range entries[2] {
		groups = append(groups, Group{Name: cName(e[:nameLen]), Flags: le.Uint32(e[36:]), MaximumSize: le.Uint64(e[40:])})
	}
	var devs []BlockDevice
	for _, e := range entries[3] {
		devs = append(devs, BlockDevice{
			FirstLogicalSector: le.Uint64(e[0:]),
			Alignment:          le.Uint32(e[8:]),
			AlignmentOffset:    le.Uint32(e[12:]),
			Size:               le.Uint64(e[16:]),
			Name:               cName(e[24 : 24+nameLen]),
			Flags:              le.Uint32(e[60:]),
		})
	}
	if len(devs) == 0 {
		return fmt.Errorf("no block devices: %w", extract.ErrCorrupt)
	}
	extents := make([]Extent, 0, len(entries[1]))
	for _, e := range entries[1] {
		extents = append(extents, Extent{
			NumSectors:   le.Uint64(e[0:]),
			TargetType:   le.Uint32(e[8:]),
			TargetData:   le.Uint64(e[12:]),
			TargetSource: le.Uint32(e[20:]),
		})
	}
	var parts []Partition
	for i, e := range entries[0] {
		p := Partition{Name: cName(e[:nameLen]), Attributes: le.Uint32(e[36:])}
		first, num, gi := le.Uint32(e[40:]), le.Uint32(e[44:]), le.Uint32(e[48:])
		if uint64(first)+uint64(num) > uint64(len(extents)) {
			return fmt.Errorf("partition %d %q: extents %d+%d past the %d-entry extent table: %w", i, p.Name, first, num, len(extents), extract.ErrCorrupt)
		}
		if gi >= uint32(len(groups)) {
			return fmt.Errorf("partition %d %q: group %d of %d: %w", i, p.Name, gi, len(groups), extract.ErrCorrupt)
		}
		p.Group = groups[gi].Name
		p.Extents = extents[first : first+num : first+num]
		var sectors uint64
		for _, x := range p.Extents {
			if x.NumSectors > (1<<54)-sectors {
				return fmt.Errorf("partition %q: size overflows: %w", p.Name, extract.ErrCorrupt)
			}
			sectors += x.NumSectors
		}
		p.Size = int64(sectors * sectorSize)
		parts = append(parts, p)
	}
	s.parts, s.groups, s.devs, s.minor, s.flags = parts, groups, devs, minor, flags
	return nil
}

// cName returns the NUL-terminated ASCII name in b.
func cName(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// Open returns a reader over the logical partition name of the selected
// slot. Linear extents on block device 0 are read in place from the image;
// zero extents read as zeros; extents on other block devices (retrofit
// devices) are not readable from this image and give an error wrapping
// extract.ErrUnsupported. A name with the slot suffix (_a, _b) also finds a
// slot-suffixed partition stored without it.
func (s *Super) Open(name string) (*PartitionReader, error) {
	p, ok := s.find(name)
	if !ok {
		return nil, fmt.Errorf("superimg: open partition %q: not found in slot %d", name, s.slot)
	}
	pr := &PartitionReader{r: s.r, name: p.Name}
	var logical int64
	for i, x := range p.Extents {
		n := int64(x.NumSectors) * sectorSize
		m := mapping{logical: logical, length: n, zero: x.TargetType == TargetZero}
		switch x.TargetType {
		case TargetZero:
		case TargetLinear:
			if x.TargetSource != 0 {
				dev := "?"
				if int(x.TargetSource) < len(s.devs) {
					dev = s.devs[x.TargetSource].Name
				}
				return nil, fmt.Errorf("superimg: open partition %q: extent %d on block device %d (%s), not in this image: %w", p.Name, i, x.TargetSource, dev, extract.ErrUnsupported)
			}
			if x.TargetData > uint64(s.size)/sectorSize || int64(x.TargetData)*sectorSize > s.size-n {
				return nil, fmt.Errorf("superimg: open partition %q: extent %d (sectors %d+%d) past the end of the %d-byte image: %w", p.Name, i, x.TargetData, x.NumSectors, s.size, extract.ErrCorrupt)
			}
			m.physical = int64(x.TargetData) * sectorSize
		default:
			return nil, fmt.Errorf("superimg: open partition %q: extent %d target type %d: %w", p.Name, i, x.TargetType, extract.ErrUnsupported)
		}
		pr.maps = append(pr.maps, m)
		logical += n
	}
	pr.size = logical
	return pr, nil
}

func (s *Super) find(name string) (Partition, bool) {
	for _, p := range s.parts {
		if p.Name == name {
			return p, true
		}
	}
	suffix := "_a"
	if s.slot == 1 {
		suffix = "_b"
	}
	if base, ok := strings.CutSuffix(name, suffix); ok {
		for _, p := range s.parts {
			if p.Name == base && p.Attributes&AttrSlotSuffixed != 0 {
				return p, true
			}
		}
	}
	return Partition{}, false
}

type mapping struct {
	logical, length, physical int64
	zero                      bool
}

// PartitionReader reads one logical partition at offsets.
type PartitionReader struct {
	r    io.ReaderAt
	name string
	size int64
	maps []mapping
}

// Size returns the partition size in bytes.
func (p *PartitionReader) Size() int64 { return p.size }

// Name returns the partition name as stored in the metadata.
func (p *PartitionReader) Name() string { return p.name }

// ReadAt implements io.ReaderAt over the partition's extents.
func (p *PartitionReader) ReadAt(b []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("superimg: read %q at negative offset %d", p.name, off)
	}
	if off >= p.size {
		return 0, io.EOF
	}
	n := 0
	// Binary search the first mapping that ends after off.
	lo, hi := 0, len(p.maps)
	for lo < hi {
		mid := (lo + hi) / 2
		if p.maps[mid].logical+p.maps[mid].length <= off {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	for i := lo; i < len(p.maps) && n < len(b); i++ {
		m := p.maps[i]
		rel := off - m.logical
		chunk := b[n:]
		if int64(len(chunk)) > m.length-rel {
			chunk = chunk[:m.length-rel]
		}
		if m.zero {
			clear(chunk)
		} else if k, err := p.r.ReadAt(chunk, m.physical+rel); k < len(chunk) {
			if err == nil || errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return n + k, fmt.Errorf("superimg: read %q at %d: %w", p.name, off, err)
		}
		n += len(chunk)
		off += int64(len(chunk))
	}
	if n < len(b) {
		return n, io.EOF
	}
	return n, nil
}

// Interfaces the package promises.
var (
	_ io.ReaderAt = (*PartitionReader)(nil)
	_ io.ReaderAt = (*MultiReaderAt)(nil)
)
