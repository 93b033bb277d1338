package superimg

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/romscan/romscan/extract"
)

// PartitionSpec is one partition for Write.
type PartitionSpec struct {
	Name string
	// Data supplies the partition's Size bytes: an io.ReaderAt (read from
	// offset 0) or an io.Reader (read from its current position); nil writes
	// zeros.
	Data  any
	Size  int64
	Group string // "" for the "default" group
}

// WriteOptions tune Write; the zero value gives 2 slots, 64 KiB of metadata
// per copy and 1 MiB alignment.
type WriteOptions struct {
	Slots           int    // metadata slots: 1 (non-A/B) or 2 (A/B); default 2
	MetadataMaxSize uint32 // bytes per metadata copy, a multiple of 512; default 65536
	Alignment       uint32 // partition alignment in bytes, a multiple of 4096; default 1 MiB
	DeviceSize      int64  // block device size; 0: just large enough
	Attributes      uint32 // attributes of every partition; default AttrReadonly
	GroupMaxSize    uint64 // maximum size of each named group; 0: unlimited
}

const writeBlockSize = 4096

// Write writes a super image holding parts as linear extents on one block
// device named "super", in the layout liblp uses: 4 KiB reserved, geometry
// and its backup, primary and backup metadata for every slot (all slots
// identical), then each partition at an aligned offset.
func Write(w io.Writer, parts []PartitionSpec, opts WriteOptions) error {
	if opts.Slots == 0 {
		opts.Slots = 2
	}
	if opts.MetadataMaxSize == 0 {
		opts.MetadataMaxSize = 65536
	}
	if opts.Alignment == 0 {
		opts.Alignment = uint32(extract.MiB)
	}
	if opts.Attributes == 0 {
		opts.Attributes = AttrReadonly
	}
	if opts.Slots < 1 || opts.Slots > maxSlotCount {
		return fmt.Errorf("superimg: write: %d slots", opts.Slots)
	}
	if opts.MetadataMaxSize%sectorSize != 0 || opts.MetadataMaxSize > maxMetadataSize {
		return fmt.Errorf("superimg: write: metadata max size %d", opts.MetadataMaxSize)
	}
	if opts.Alignment%writeBlockSize != 0 {
		return fmt.Errorf("superimg: write: alignment %d is not a multiple of %d", opts.Alignment, writeBlockSize)
	}
	align := int64(opts.Alignment)
	alignUp := func(v, a int64) int64 { return (v + a - 1) / a * a }

	metaEnd := int64(reservedBytes+2*geometrySize) + 2*int64(opts.Slots)*int64(opts.MetadataMaxSize)
	first := alignUp(metaEnd, align)
	groups := []string{"default"}
	groupIndex := map[string]int{"default": 0}
	seen := map[string]bool{}
	offsets := make([]int64, len(parts))
	sectors := make([]uint64, len(parts))
	pos := first
	for i, p := range parts {
		if p.Name == "" || len(p.Name) > nameLen || seen[p.Name] {
			return fmt.Errorf("superimg: write: partition %d name %q is empty, too long or repeated", i, p.Name)
		}
		seen[p.Name] = true
		if len(p.Group) > nameLen {
			return fmt.Errorf("superimg: write: group name %q too long", p.Group)
		}
		if p.Size < 0 || p.Size > 1<<50 {
			return fmt.Errorf("superimg: write: partition %q size %d", p.Name, p.Size)
		}
		g := p.Group
		if g == "" {
			g = "default"
		}
		if _, ok := groupIndex[g]; !ok {
			groupIndex[g] = len(groups)
			groups = append(groups, g)
		}
		offsets[i] = pos
		sz := alignUp(p.Size, writeBlockSize)
		sectors[i] = uint64(sz / sectorSize)
		pos = alignUp(pos+sz, align)
	}
	total := pos
	if opts.DeviceSize > 0 {
		if opts.DeviceSize < total {
			return fmt.Errorf("superimg: write: device size %d below the %d bytes needed", opts.DeviceSize, total)
		}
		total = opts.DeviceSize
	}

	le := binary.LittleEndian
	// Tables: partitions, extents, groups, block devices.
	var tables []byte
	partOff := len(tables)
	nExt := uint32(0)
	for i, p := range parts {
		e := make([]byte, partitionEntrySize)
		copy(e, p.Name)
		le.PutUint32(e[36:], opts.Attributes)
		le.PutUint32(e[40:], nExt)
		n := uint32(0)
		if sectors[i] > 0 {
			n = 1
		}
		le.PutUint32(e[44:], n)
		g := p.Group
		if g == "" {
			g = "default"
		}
		le.PutUint32(e[48:], uint32(groupIndex[g]))
		nExt += n
		tables = append(tables, e...)
	}
	extOff := len(tables)
	for i := range parts {
		if sectors[i] == 0 {
			continue
		}
		e := make([]byte, extentEntrySize)
		le.PutUint64(e[0:], sectors[i])
		le.PutUint32(e[8:], TargetLinear)
		le.PutUint64(e[12:], uint64(offsets[i]/sectorSize))
		le.PutUint32(e[20:], 0)
		tables = append(tables, e...)
	}
	groupOff := len(tables)
	for i, g := range groups {
		e := make([]byte, groupEntrySize)
		copy(e, g)
		if i > 0 {
			le.PutUint64(e[40:], opts.GroupMaxSize)
		}
		tables = append(tables, e...)
	}
	devOff := len(tables)
	dev := make([]byte, blockDeviceEntrySize)
	le.PutUint64(dev[0:], uint64(first/sectorSize))
	le.PutUint32(dev[8:], opts.Alignment)
	le.PutUint64(dev[16:], uint64(total))
	copy(dev[24:], "super")
	tables = append(tables, dev...)

	hdr := make([]byte, headerV0Size)
	le.PutUint32(hdr[0:], headerMagic)
	le.PutUint16(hdr[4:], majorVersion)
	le.PutUint16(hdr[6:], 0)
	le.PutUint32(hdr[8:], headerV0Size)
	le.PutUint32(hdr[44:], uint32(len(tables)))
	tsum := sha256.Sum256(tables)
	copy(hdr[48:80], tsum[:])
	putDesc := func(at, off, num, size int) {
		le.PutUint32(hdr[at:], uint32(off))
		le.PutUint32(hdr[at+4:], uint32(num))
		le.PutUint32(hdr[at+8:], uint32(size))
	}
	putDesc(80, partOff, len(parts), partitionEntrySize)
	putDesc(92, extOff, int(nExt), extentEntrySize)
	putDesc(104, groupOff, len(groups), groupEntrySize)
	putDesc(116, devOff, 1, blockDeviceEntrySize)
	hsum := sha256.Sum256(hdr)
	copy(hdr[12:44], hsum[:])
	meta := append(hdr, tables...)
	if len(meta) > int(opts.MetadataMaxSize) {
		return fmt.Errorf("superimg: write: metadata needs %d bytes, over the %d-byte maximum", len(meta), opts.MetadataMaxSize)
	}

	geo := make([]byte, geometrySize)
	le.PutUint32(geo[0:], geometryMagic)
	le.PutUint32(geo[4:], geometryStructSize)
	le.PutUint32(geo[40:], opts.MetadataMaxSize)
	le.PutUint32(geo[44:], uint32(opts.Slots))
	le.PutUint32(geo[48:], writeBlockSize)
	gsum := sha256.Sum256(geo[:geometryStructSize])
	copy(geo[8:40], gsum[:])

	bw := bufio.NewWriterSize(w, 1<<20)
	var written int64
	put := func(b []byte) error {
		n, err := bw.Write(b)
		written += int64(n)
		return err
	}
	zeros := make([]byte, 64*1024)
	padTo := func(at int64) error {
		for written < at {
			n := min(at-written, int64(len(zeros)))
			if err := put(zeros[:n]); err != nil {
				return err
			}
		}
		return nil
	}
	if err := padTo(reservedBytes); err != nil {
		return fmt.Errorf("superimg: write: %w", err)
	}
	for range 2 {
		if err := put(geo); err != nil {
			return fmt.Errorf("superimg: write geometry: %w", err)
		}
	}
	for i := range 2 * opts.Slots {
		if err := put(meta); err != nil {
			return fmt.Errorf("superimg: write metadata: %w", err)
		}
		if err := padTo(int64(reservedBytes+2*geometrySize) + int64(i+1)*int64(opts.MetadataMaxSize)); err != nil {
			return fmt.Errorf("superimg: write metadata: %w", err)
		}
	}
	for i, p := range parts {
		if err := padTo(offsets[i]); err != nil {
			return fmt.Errorf("superimg: write: %w", err)
		}
		var src io.Reader
		switch d := p.Data.(type) {
		case nil:
		case io.ReaderAt:
			src = io.NewSectionReader(d, 0, p.Size)
		case io.Reader:
			src = d
		default:
			return fmt.Errorf("superimg: write partition %q: data of type %T is neither io.Reader nor io.ReaderAt", p.Name, p.Data)
		}
		if src != nil {
			n, err := io.CopyN(bw, src, p.Size)
			written += n
			if err != nil {
				return fmt.Errorf("superimg: write partition %q: %d of %d bytes: %w", p.Name, n, p.Size, err)
			}
		}
		if err := padTo(offsets[i] + int64(sectors[i])*sectorSize); err != nil {
			return fmt.Errorf("superimg: write partition %q: %w", p.Name, err)
		}
	}
	if err := padTo(total); err != nil {
		return fmt.Errorf("superimg: write: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("superimg: write: %w", err)
	}
	return nil
}
