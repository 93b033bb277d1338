// Package ext4 reads ext2, ext3 and ext4 file systems in place from an
// io.ReaderAt, as an fs.FS. It is read-only, does not replay the journal and
// does not verify metadata checksums; it reads the shapes Android ships
// (extents, flex_bg, 64bit, inline_data, shared_blocks, huge_file) as well as
// classic indirect block maps. Every structure is treated as hostile: offsets
// and counts are checked against the image, loops are bounded and memory is
// bounded by a small block cache.
package ext4

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/romscan/romscan/extract"
)

// Magic is the superblock magic number (at byte 1080 of the image).
const Magic = 0xEF53

const (
	superOffset = 1024
	magicOffset = superOffset + 56

	// incompat features
	incompatCompression = 0x1
	incompatFiletype    = 0x2
	incompatJournalDev  = 0x8
	incompatMetaBG      = 0x10
	incompat64Bit       = 0x80
	incompatDirData     = 0x1000

	// ro_compat features
	roCompatSparseSuper = 0x1

	rootIno = 2

	// cacheBlocks bounds the metadata block cache.
	cacheBlocks = 512
	// maxExtents bounds the extents of one file (its in-memory map).
	maxExtents = 1 << 18
	// maxMapNodes bounds the extent-tree or indirect blocks read to map one file.
	maxMapNodes = 1 << 14
	// maxDirCache bounds the directory entries kept in the listing cache.
	maxDirCache = 1 << 18
	// maxDirSize bounds the size of one directory (a directory of empty
	// blocks is otherwise a cheap way to burn CPU).
	maxDirSize = 512 * extract.MiB
	// maxPathDepth bounds the components of a path (hard-linked directory
	// chains are otherwise endless).
	maxPathDepth = 256
)

var le = binary.LittleEndian

// Sniff reports whether head (at least 2048 bytes of an image) holds an ext2/3/4
// superblock magic.
func Sniff(head []byte) bool {
	return len(head) >= magicOffset+2 && le.Uint16(head[magicOffset:]) == Magic
}

// FS is an ext2/3/4 file system read in place. It implements fs.FS,
// fs.ReadDirFS, fs.StatFS and fs.ReadLinkFS and is safe for concurrent use.
type FS struct {
	r    io.ReaderAt
	size int64
	lim  extract.Limits

	bs             int64 // block size
	blocks         int64 // blocks declared by the superblock
	imageBlocks    int64 // blocks actually present in the image
	firstDataBlock int64
	blocksPerGroup int64
	inodesPerGroup int64
	inodesCount    int64
	inodeSize      int64
	descSize       int64
	groups         int64
	incompat       uint32
	roCompat       uint32
	firstMetaBG    int64
	volumeName     string

	mu       sync.Mutex
	cache    map[int64][]byte
	order    []int64 // FIFO of cached block numbers
	dirs     map[uint32][]dirent
	dirOrder []uint32
	dirTotal int
}

// Open reads the superblock of the ext2/3/4 image r (size bytes) with
// extract.DefaultLimits.
func Open(r io.ReaderAt, size int64) (*FS, error) {
	return OpenLimits(r, size, extract.DefaultLimits())
}

// OpenLimits is Open with explicit limits; MaxEntries bounds one directory's
// entries.
func OpenLimits(r io.ReaderAt, size int64, lim extract.Limits) (*FS, error) {
	if size < superOffset+1024 {
		return nil, fmt.Errorf("ext4: image of %d bytes is too small: %w", size, extract.ErrNotFormat)
	}
	sb := make([]byte, 1024)
	if _, err := r.ReadAt(sb, superOffset); err != nil {
		return nil, fmt.Errorf("ext4: read superblock: %w", err)
	}
	if m := le.Uint16(sb[56:]); m != Magic {
		return nil, fmt.Errorf("ext4: superblock magic %#x: %w", m, extract.ErrNotFormat)
	}
	if lim.MaxEntries <= 0 {
		lim.MaxEntries = extract.DefaultLimits().MaxEntries
	}
	f := &FS{r: r, size: size, lim: lim, cache: map[int64][]byte{}, dirs: map[uint32][]dirent{}}
	logBS := le.Uint32(sb[24:])
	if logBS > 6 {
		return nil, fmt.Errorf("ext4: superblock: block size 2^(10+%d): %w", logBS, extract.ErrCorrupt)
	}
	f.bs = 1024 << logBS
	f.incompat = le.Uint32(sb[96:])
	f.roCompat = le.Uint32(sb[100:])
	f.blocks = int64(le.Uint32(sb[4:]))
	if f.incompat&incompat64Bit != 0 {
		f.blocks |= int64(le.Uint32(sb[0x150:])) << 32
	}
	f.imageBlocks = size / f.bs
	f.firstDataBlock = int64(le.Uint32(sb[20:]))
	f.blocksPerGroup = int64(le.Uint32(sb[32:]))
	f.inodesPerGroup = int64(le.Uint32(sb[40:]))
	f.inodesCount = int64(le.Uint32(sb[0:]))
	f.inodeSize = 128
	if le.Uint32(sb[76:]) >= 1 {
		f.inodeSize = int64(le.Uint16(sb[88:]))
	}
	f.descSize = 32
	if f.incompat&incompat64Bit != 0 {
		f.descSize = int64(le.Uint16(sb[0xFE:]))
		if f.descSize < 64 {
			return nil, fmt.Errorf("ext4: superblock: 64bit with descriptor size %d: %w", f.descSize, extract.ErrCorrupt)
		}
	}
	f.firstMetaBG = int64(le.Uint32(sb[0x104:]))
	f.volumeName = string(bytes.TrimRight(sb[120:136], "\x00"))
	switch {
	case f.incompat&(incompatCompression|incompatJournalDev|incompatDirData) != 0:
		return nil, fmt.Errorf("ext4: incompatible features %#x: %w", f.incompat, extract.ErrUnsupported)
	case f.blocksPerGroup == 0 || f.inodesPerGroup == 0:
		return nil, fmt.Errorf("ext4: superblock: %d blocks and %d inodes per group: %w", f.blocksPerGroup, f.inodesPerGroup, extract.ErrCorrupt)
	case f.inodeSize < 128 || f.inodeSize > f.bs || f.inodeSize&(f.inodeSize-1) != 0:
		return nil, fmt.Errorf("ext4: superblock: inode size %d: %w", f.inodeSize, extract.ErrCorrupt)
	case f.descSize > f.bs || f.descSize&(f.descSize-1) != 0:
		return nil, fmt.Errorf("ext4: superblock: group descriptor size %d: %w", f.descSize, extract.ErrCorrupt)
	case f.firstDataBlock >= f.blocks:
		return nil, fmt.Errorf("ext4: superblock: first data block %d of %d: %w", f.firstDataBlock, f.blocks, extract.ErrCorrupt)
	}
	f.groups = (f.blocks - f.firstDataBlock + f.blocksPerGroup - 1) / f.blocksPerGroup
	if g := (f.inodesCount + f.inodesPerGroup - 1) / f.inodesPerGroup; g < f.groups {
		f.groups = g
	}
	if f.groups == 0 {
		return nil, fmt.Errorf("ext4: superblock: no block groups: %w", extract.ErrCorrupt)
	}
	// The root directory must be readable for the image to be of any use.
	if _, err := f.inode(rootIno); err != nil {
		return nil, err
	}
	return f, nil
}

// VolumeName returns the volume label from the superblock.
func (f *FS) VolumeName() string { return f.volumeName }

// BlockSize returns the file system block size in bytes.
func (f *FS) BlockSize() int64 { return f.bs }

// block returns block n through the bounded cache. The slice must not be modified.
func (f *FS) block(n int64) ([]byte, error) {
	if n < 0 || n >= f.imageBlocks {
		return nil, fmt.Errorf("ext4: block %d past the end of the image (%d blocks): %w", n, f.imageBlocks, extract.ErrCorrupt)
	}
	f.mu.Lock()
	b, ok := f.cache[n]
	f.mu.Unlock()
	if ok {
		return b, nil
	}
	b = make([]byte, f.bs)
	if _, err := f.r.ReadAt(b, n*f.bs); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("ext4: read block %d: %w", n, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.cache[n]; !ok {
		if len(f.order) >= cacheBlocks {
			delete(f.cache, f.order[0])
			f.order = f.order[1:]
		}
		f.cache[n] = b
		f.order = append(f.order, n)
	}
	return b, nil
}

// hasSuper reports whether group g holds a superblock backup (and so, in a
// meta_bg layout, descriptors start one block later).
func (f *FS) hasSuper(g int64) bool {
	if g <= 1 || f.roCompat&roCompatSparseSuper == 0 {
		return true
	}
	for _, b := range []int64{3, 5, 7} {
		p := b
		for p < g {
			p *= b
		}
		if p == g {
			return true
		}
	}
	return false
}

// inodeTable returns the first block of group g's inode table.
func (f *FS) inodeTable(g int64) (int64, error) {
	perBlock := f.bs / f.descSize
	idx := g / perBlock
	var blk int64
	if f.incompat&incompatMetaBG == 0 || idx < f.firstMetaBG {
		blk = f.firstDataBlock + 1 + idx
	} else {
		first := idx * perBlock
		blk = f.firstDataBlock + first*f.blocksPerGroup
		if f.hasSuper(first) {
			blk++
		}
	}
	b, err := f.block(blk)
	if err != nil {
		return 0, fmt.Errorf("ext4: group %d descriptor: %w", g, err)
	}
	d := b[(g%perBlock)*f.descSize:]
	t := int64(le.Uint32(d[8:]))
	if f.descSize >= 64 {
		t |= int64(le.Uint32(d[0x28:])) << 32
	}
	if t <= 0 || t >= f.imageBlocks {
		return 0, fmt.Errorf("ext4: group %d: inode table at block %d outside the image (%d blocks): %w", g, t, f.imageBlocks, extract.ErrCorrupt)
	}
	return t, nil
}

// inode reads inode n.
func (f *FS) inode(n uint32) (*Inode, error) {
	if n == 0 || int64(n) > f.inodesCount {
		return nil, fmt.Errorf("ext4: inode %d out of range 1-%d: %w", n, f.inodesCount, extract.ErrCorrupt)
	}
	g := int64(n-1) / f.inodesPerGroup
	if g >= f.groups {
		return nil, fmt.Errorf("ext4: inode %d in group %d of %d: %w", n, g, f.groups, extract.ErrCorrupt)
	}
	t, err := f.inodeTable(g)
	if err != nil {
		return nil, fmt.Errorf("ext4: inode %d: %w", n, err)
	}
	off := t*f.bs + (int64(n-1)%f.inodesPerGroup)*f.inodeSize
	b, err := f.block(off / f.bs)
	if err != nil {
		return nil, fmt.Errorf("ext4: inode %d: %w", n, err)
	}
	raw := make([]byte, f.inodeSize)
	copy(raw, b[off%f.bs:])
	return f.parseInode(n, raw)
}
