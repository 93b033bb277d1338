package ext4

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"sync"
	"time"

	"github.com/romscan/romscan/extract"
)

// inode flags
const (
	flagExtents    = 0x80000
	flagInlineData = 0x10000000
	flagHugeFile   = 0x40000

	extentMagic    = 0xF30A
	maxExtentDepth = 5
)

// Inode is the metadata of one inode, returned by FileInfo.Sys.
type Inode struct {
	Number uint32 // inode number
	Mode   uint16 // raw i_mode: file type and permission bits
	UID    uint32
	GID    uint32
	Size   int64
	Links  uint16
	Flags  uint32 // i_flags (extents, inline data, ...)
	Mtime  time.Time

	raw []byte
}

// FileMode converts the raw mode to an fs.FileMode.
func (in *Inode) FileMode() fs.FileMode {
	m := fs.FileMode(in.Mode & 0o777)
	if in.Mode&0o4000 != 0 {
		m |= fs.ModeSetuid
	}
	if in.Mode&0o2000 != 0 {
		m |= fs.ModeSetgid
	}
	if in.Mode&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	switch in.Mode & 0xF000 {
	case 0x1000:
		m |= fs.ModeNamedPipe
	case 0x2000:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case 0x4000:
		m |= fs.ModeDir
	case 0x6000:
		m |= fs.ModeDevice
	case 0xA000:
		m |= fs.ModeSymlink
	case 0xC000:
		m |= fs.ModeSocket
	case 0x8000:
	default:
		m |= fs.ModeIrregular
	}
	return m
}

func (in *Inode) isDir() bool     { return in.Mode&0xF000 == 0x4000 }
func (in *Inode) isReg() bool     { return in.Mode&0xF000 == 0x8000 }
func (in *Inode) isSymlink() bool { return in.Mode&0xF000 == 0xA000 }

func (f *FS) parseInode(n uint32, raw []byte) (*Inode, error) {
	in := &Inode{
		Number: n,
		Mode:   le.Uint16(raw[0:]),
		UID:    uint32(le.Uint16(raw[2:])) | uint32(le.Uint16(raw[120:]))<<16,
		GID:    uint32(le.Uint16(raw[24:])) | uint32(le.Uint16(raw[122:]))<<16,
		Size:   int64(le.Uint32(raw[4:])) | int64(le.Uint32(raw[108:]))<<32,
		Links:  le.Uint16(raw[26:]),
		Flags:  le.Uint32(raw[32:]),
		raw:    raw,
	}
	sec := int64(int32(le.Uint32(raw[16:])))
	var nsec int64
	if len(raw) > 128 {
		if extra := int(le.Uint16(raw[128:])); extra >= 24 && 128+extra <= len(raw) {
			x := le.Uint32(raw[0x88:])
			sec += int64(x&3) << 32
			nsec = int64(x >> 2)
		}
	}
	in.Mtime = time.Unix(sec, nsec%1e9).UTC()
	// Logical block numbers are 32 bits, so no file can be larger.
	if in.Size < 0 || in.Size > (1<<32)*f.bs {
		return nil, fmt.Errorf("ext4: inode %d: size %d is impossible: %w", n, uint64(in.Size), extract.ErrCorrupt)
	}
	return in, nil
}

// ibodyXattr returns the value of the in-inode extended attribute with the
// given name index and name, or nil.
func (in *Inode) ibodyXattr(index byte, name string) []byte {
	raw := in.raw
	if len(raw) <= 132 {
		return nil
	}
	start := 128 + int(le.Uint16(raw[128:]))
	if start+4 > len(raw) || le.Uint32(raw[start:]) != 0xEA020000 {
		return nil
	}
	base := start + 4
	for pos := base; pos+16 <= len(raw); {
		if le.Uint32(raw[pos:]) == 0 {
			break
		}
		nl := int(raw[pos])
		if pos+16+nl > len(raw) {
			break
		}
		if raw[pos+1] == index && string(raw[pos+16:pos+16+nl]) == name && le.Uint32(raw[pos+4:]) == 0 {
			off := base + int(le.Uint16(raw[pos+2:]))
			size := int(le.Uint32(raw[pos+8:]))
			if off+size > len(raw) || size < 0 {
				return nil
			}
			return raw[off : off+size]
		}
		pos += (16 + nl + 3) &^ 3
	}
	return nil
}

// extent maps count logical blocks from logical onto physical blocks.
type extent struct {
	logical, physical, count int64
	uninit                   bool
}

// fileMap is how an inode's bytes are found: inline bytes or extents.
type fileMap struct {
	inline  []byte // inline data (nil unless the inode stores data inline)
	isInl   bool
	extents []extent // sorted by logical, non-overlapping
}

// mapInode builds the block map of in.
func (f *FS) mapInode(in *Inode) (*fileMap, error) {
	iblock := in.raw[40:100]
	switch {
	case in.Flags&flagInlineData != 0:
		data := append([]byte(nil), iblock...)
		data = append(data, in.ibodyXattr(7, "data")...)
		return &fileMap{inline: data, isInl: true}, nil
	case in.isSymlink() && in.Flags&flagExtents == 0 && in.Size < 60 && f.fastSymlink(in):
		return &fileMap{inline: append([]byte(nil), iblock...), isInl: true}, nil
	case in.Flags&flagExtents != 0:
		m := &fileMap{}
		budget := maxMapNodes
		if err := f.walkExtents(in, iblock, -1, &m.extents, &budget); err != nil {
			return nil, err
		}
		for i := 1; i < len(m.extents); i++ {
			p, e := m.extents[i-1], m.extents[i]
			if e.logical < p.logical+p.count {
				return nil, fmt.Errorf("ext4: inode %d: extent at logical block %d overlaps the previous one: %w", in.Number, e.logical, extract.ErrCorrupt)
			}
		}
		return m, nil
	default:
		return f.mapIndirect(in)
	}
}

// fastSymlink reports whether a short symlink keeps its target in i_block:
// it owns no data blocks beyond an extended attribute block.
func (f *FS) fastSymlink(in *Inode) bool {
	blocks := int64(le.Uint32(in.raw[28:]))
	if le.Uint32(in.raw[104:]) != 0 {
		blocks -= f.bs / 512
	}
	return blocks <= 0
}

func (f *FS) walkExtents(in *Inode, node []byte, wantDepth int, out *[]extent, budget *int) error {
	if *budget--; *budget < 0 {
		return fmt.Errorf("ext4: inode %d: extent tree has more than %d nodes: %w", in.Number, maxMapNodes, extract.ErrLimit)
	}
	if len(node) < 12 || le.Uint16(node[0:]) != extentMagic {
		return fmt.Errorf("ext4: inode %d: extent node without magic: %w", in.Number, extract.ErrCorrupt)
	}
	entries := int(le.Uint16(node[2:]))
	depth := int(le.Uint16(node[6:]))
	if 12+12*entries > len(node) {
		return fmt.Errorf("ext4: inode %d: extent node with %d entries overflows: %w", in.Number, entries, extract.ErrCorrupt)
	}
	if depth > maxExtentDepth || (wantDepth >= 0 && depth != wantDepth) {
		return fmt.Errorf("ext4: inode %d: extent node depth %d (want %d): %w", in.Number, depth, wantDepth, extract.ErrCorrupt)
	}
	for i := 0; i < entries; i++ {
		e := node[12+12*i:]
		if depth == 0 {
			n := int64(le.Uint16(e[4:]))
			uninit := false
			if n > 32768 {
				n -= 32768
				uninit = true
			}
			if n == 0 {
				continue
			}
			if len(*out) >= maxExtents {
				return fmt.Errorf("ext4: inode %d: more than %d extents: %w", in.Number, maxExtents, extract.ErrLimit)
			}
			*out = append(*out, extent{
				logical:  int64(le.Uint32(e[0:])),
				physical: int64(le.Uint16(e[6:]))<<32 | int64(le.Uint32(e[8:])),
				count:    n,
				uninit:   uninit,
			})
			continue
		}
		child := int64(le.Uint16(e[8:]))<<32 | int64(le.Uint32(e[4:]))
		b, err := f.block(child)
		if err != nil {
			return fmt.Errorf("ext4: inode %d: extent index: %w", in.Number, err)
		}
		if err := f.walkExtents(in, b, depth-1, out, budget); err != nil {
			return err
		}
	}
	return nil
}

// mapIndirect maps an ext2/3 inode through its direct and indirect blocks.
func (f *FS) mapIndirect(in *Inode) (*fileMap, error) {
	m := &fileMap{}
	nblocks := (in.Size + f.bs - 1) / f.bs
	per := f.bs / 4
	// A file of nblocks needs about nblocks/per indirect blocks; a hostile
	// tree that revisits blocks may not read more than that.
	budget := int(min(int64(maxMapNodes), nblocks/per+nblocks/(per*per)+4))
	add := func(logical, phys int64) error {
		if n := len(m.extents); n > 0 {
			p := &m.extents[n-1]
			if p.logical+p.count == logical && p.physical+p.count == phys {
				p.count++
				return nil
			}
		}
		if len(m.extents) >= maxExtents {
			return fmt.Errorf("ext4: inode %d: more than %d block runs: %w", in.Number, maxExtents, extract.ErrLimit)
		}
		m.extents = append(m.extents, extent{logical: logical, physical: phys, count: 1})
		return nil
	}
	// walk maps the tree of the given level (0 = data block) rooted at blk,
	// covering logical blocks from start.
	var walk func(blk int64, level int, start int64) error
	walk = func(blk int64, level int, start int64) error {
		if blk == 0 || start >= nblocks {
			return nil
		}
		if level == 0 {
			return add(start, blk)
		}
		if budget--; budget < 0 {
			return fmt.Errorf("ext4: inode %d: too many indirect blocks for %d data blocks: %w", in.Number, nblocks, extract.ErrCorrupt)
		}
		b, err := f.block(blk)
		if err != nil {
			return fmt.Errorf("ext4: inode %d: indirect block: %w", in.Number, err)
		}
		span := int64(1)
		for i := 1; i < level; i++ {
			span *= per
		}
		for i := int64(0); i < per; i++ {
			if err := walk(int64(le.Uint32(b[4*i:])), level-1, start+i*span); err != nil {
				return err
			}
		}
		return nil
	}
	ib := in.raw[40:100]
	for i := int64(0); i < 12; i++ {
		if err := walk(int64(le.Uint32(ib[4*i:])), 0, i); err != nil {
			return nil, err
		}
	}
	start := int64(12)
	span := per
	for level := 1; level <= 3; level++ {
		if err := walk(int64(le.Uint32(ib[4*(11+level):])), level, start); err != nil {
			return nil, err
		}
		start += span
		span *= per
	}
	return m, nil
}

// reader reads an inode's bytes: extents with one ReadAt each, holes and
// uninitialised extents as zeros.
type reader struct {
	f    *FS
	in   *Inode
	once sync.Once
	m    *fileMap
	err  error
}

func (r *reader) load() (*fileMap, error) {
	r.once.Do(func() { r.m, r.err = r.f.mapInode(r.in) })
	return r.m, r.err
}

func (r *reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("ext4: inode %d: read at negative offset %d", r.in.Number, off)
	}
	size := r.in.Size
	if off >= size {
		return 0, io.EOF
	}
	var eof error
	if rem := size - off; int64(len(p)) > rem {
		p, eof = p[:rem], io.EOF
	}
	m, err := r.load()
	if err != nil {
		return 0, err
	}
	if m.isInl {
		n := 0
		if off < int64(len(m.inline)) {
			n = copy(p, m.inline[off:])
		}
		clear(p[n:])
		return len(p), eof
	}
	bs := r.f.bs
	ext := m.extents
	i := sort.Search(len(ext), func(i int) bool { return (ext[i].logical+ext[i].count)*bs > off })
	n := 0
	for n < len(p) {
		pos := off + int64(n)
		if i >= len(ext) {
			clear(p[n:])
			break
		}
		e := ext[i]
		if s := e.logical * bs; pos < s {
			k := int(min(int64(len(p)-n), s-pos))
			clear(p[n : n+k])
			n += k
			continue
		}
		k := int(min(int64(len(p)-n), (e.logical+e.count)*bs-pos))
		dst := p[n : n+k]
		if e.uninit {
			clear(dst)
		} else {
			phys := e.physical*bs + (pos - e.logical*bs)
			if e.physical+e.count > r.f.imageBlocks || e.physical < 0 {
				return n, fmt.Errorf("ext4: inode %d: blocks %d-%d past the end of the image (%d blocks): %w",
					r.in.Number, e.physical, e.physical+e.count, r.f.imageBlocks, extract.ErrCorrupt)
			}
			if m, err := r.f.r.ReadAt(dst, phys); m < k {
				if err == nil || errors.Is(err, io.EOF) {
					err = io.ErrUnexpectedEOF
				}
				return n + m, fmt.Errorf("ext4: inode %d: read block %d: %w", r.in.Number, phys/bs, err)
			}
		}
		n += k
		i++
	}
	return len(p), eof
}
