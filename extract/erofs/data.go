package erofs

import (
	"encoding/binary"
	"fmt"
	"io"
	"sort"

	"github.com/romscan/romscan/extract"
)

// Dirent file types.
const (
	ftUnknown = iota
	ftReg
	ftDir
	ftChr
	ftBlk
	ftFifo
	ftSock
	ftSymlink
)

type dirent struct {
	name  string
	nid   uint64
	ftype uint8
}

// readDir returns the entries of directory ino sorted by name, without "."
// and "..". Parsed directories are kept in a small cache.
func (fsys *FS) readDir(ino *inode) ([]dirent, error) {
	fsys.mu.Lock()
	if ents, ok := fsys.dirCache[ino.nid]; ok {
		fsys.mu.Unlock()
		return ents, nil
	}
	fsys.mu.Unlock()

	data, err := fsys.dataReader(ino)
	if err != nil {
		return nil, err
	}
	var ents []dirent
	blk := make([]byte, fsys.blksz)
	for off := int64(0); off < ino.size; off += fsys.blksz {
		n := min(fsys.blksz, ino.size-off)
		b := blk[:n]
		if k, err := data.ReadAt(b, off); k < len(b) {
			return nil, fmt.Errorf("directory inode %d block at %d: %w", ino.nid, off, errOr(err))
		}
		if ents, err = parseDirBlock(b, ents, ino.nid, off); err != nil {
			return nil, err
		}
		if len(ents) > maxDirEntries {
			return nil, fmt.Errorf("directory inode %d has over %d entries: %w", ino.nid, maxDirEntries, extract.ErrLimit)
		}
	}
	if !sort.SliceIsSorted(ents, func(i, j int) bool { return ents[i].name < ents[j].name }) {
		sort.SliceStable(ents, func(i, j int) bool { return ents[i].name < ents[j].name })
	}

	fsys.mu.Lock()
	if _, ok := fsys.dirCache[ino.nid]; !ok {
		if len(fsys.dirOrder) >= dirCacheSize {
			delete(fsys.dirCache, fsys.dirOrder[0])
			fsys.dirOrder = fsys.dirOrder[1:]
		}
		fsys.dirCache[ino.nid] = ents
		fsys.dirOrder = append(fsys.dirOrder, ino.nid)
	}
	fsys.mu.Unlock()
	return ents, nil
}

// parseDirBlock appends the entries of one directory block: an array of
// 12-byte dirents whose first nameoff gives their count, then the names,
// each ending at the next name's offset (the last at the block's end, with
// NUL padding).
func parseDirBlock(b []byte, ents []dirent, nid uint64, at int64) ([]dirent, error) {
	le := binary.LittleEndian
	bad := func(what string, args ...any) error {
		return fmt.Errorf("directory inode %d block at %d: %s: %w", nid, at, fmt.Sprintf(what, args...), extract.ErrCorrupt)
	}
	if len(b) < direntSize {
		return nil, bad("%d bytes, too short for a dirent", len(b))
	}
	first := int(le.Uint16(b[8:]))
	if first < direntSize || first%direntSize != 0 || first > len(b) {
		return nil, bad("first name offset %d", first)
	}
	count := first / direntSize
	for i := range count {
		d := b[i*direntSize:]
		nameoff := int(le.Uint16(d[8:]))
		end := len(b)
		if i+1 < count {
			end = int(le.Uint16(b[(i+1)*direntSize+8:]))
		}
		if nameoff < first || end > len(b) || nameoff > end {
			return nil, bad("entry %d name at %d..%d", i, nameoff, end)
		}
		name := b[nameoff:end]
		if i+1 == count {
			for k, c := range name {
				if c == 0 {
					name = name[:k]
					break
				}
			}
		}
		if len(name) == 0 || len(name) > maxNameLen {
			return nil, bad("entry %d name length %d", i, len(name))
		}
		s := string(name)
		if s == "." || s == ".." {
			continue
		}
		for _, c := range name {
			if c == '/' || c == 0 {
				return nil, bad("entry %d name %q", i, s)
			}
		}
		ents = append(ents, dirent{name: s, nid: le.Uint64(d[0:]), ftype: d[10]})
	}
	return ents, nil
}

// dataReader returns a reader of the inode's data bytes [0, size).
func (fsys *FS) dataReader(ino *inode) (io.ReaderAt, error) {
	switch ino.layout {
	case layoutFlatPlain, layoutFlatInline:
		return fsys.flatReader(ino)
	case layoutChunkBased:
		return fsys.chunkReader(ino)
	case layoutCompressedFull, layoutCompressedCompact:
		return fsys.compressedReader(ino)
	}
	return nil, fmt.Errorf("inode %d: data layout %d: %w", ino.nid, ino.layout, extract.ErrUnsupported)
}

// flatReader reads FLAT_PLAIN (contiguous blocks) and FLAT_INLINE (blocks
// then the tail right after the inode and its xattrs) data.
type flatReader struct {
	fsys    *FS
	start   int64 // byte offset of the first block
	inBlock int64 // bytes stored in blocks; the rest is inline
	inline  int64 // byte offset of the inline tail
}

func (fsys *FS) flatReader(ino *inode) (*flatReader, error) {
	fr := &flatReader{fsys: fsys, start: int64(ino.iu) << fsys.blkbits, inBlock: ino.size}
	if ino.layout == layoutFlatInline && ino.size > 0 {
		nblocks := (ino.size + fsys.blksz - 1) >> fsys.blkbits
		fr.inBlock = (nblocks - 1) << fsys.blkbits
		fr.inline = ino.dataEnd()
		tail := ino.size - fr.inBlock
		if fr.inline%fsys.blksz+tail > fsys.blksz || fr.inline+tail > fsys.size {
			return nil, fmt.Errorf("inode %d: inline tail of %d bytes at %d crosses a block or the image end: %w", ino.nid, tail, fr.inline, extract.ErrCorrupt)
		}
	}
	if fr.inBlock > 0 && (fr.start >= fsys.size || fr.inBlock > fsys.size-fr.start) {
		return nil, fmt.Errorf("inode %d: %d data bytes at block %d past the end of the image: %w", ino.nid, fr.inBlock, ino.iu, extract.ErrCorrupt)
	}
	return fr, nil
}

func (fr *flatReader) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	if off < fr.inBlock {
		k := min(int64(len(p)), fr.inBlock-off)
		if err := fr.fsys.readFull(p[:k], fr.start+off); err != nil {
			return 0, err
		}
		n = int(k)
		off += k
	}
	if n < len(p) {
		if err := fr.fsys.readFull(p[n:], fr.inline+off-fr.inBlock); err != nil {
			return n, err
		}
		n = len(p)
	}
	return n, nil
}

// chunkReader reads CHUNK_BASED data: fixed-size chunks located by a 4-byte
// block address array or 8-byte chunk indexes; an all-ones address is a
// hole.
type chunkReader struct {
	fsys      *FS
	chunkBits uint
	indexes   bool
	table     int64 // byte offset of the address table
	count     int64
}

func (fsys *FS) chunkReader(ino *inode) (*chunkReader, error) {
	format := uint16(ino.iu)
	if format&^0x3F != 0 {
		return nil, fmt.Errorf("inode %d: chunk format %#x: %w", ino.nid, format, extract.ErrUnsupported)
	}
	cr := &chunkReader{fsys: fsys, chunkBits: fsys.blkbits + uint(format&0x1F), indexes: format&0x20 != 0}
	if cr.chunkBits > 40 {
		return nil, fmt.Errorf("inode %d: chunk size 2^%d: %w", ino.nid, cr.chunkBits, extract.ErrCorrupt)
	}
	cr.count = (ino.size + 1<<cr.chunkBits - 1) >> cr.chunkBits
	unit := int64(4)
	if cr.indexes {
		unit = 8
	}
	cr.table = (ino.dataEnd() + unit - 1) / unit * unit
	if cr.count > (fsys.size-cr.table)/unit {
		return nil, fmt.Errorf("inode %d: %d chunk entries past the end of the image: %w", ino.nid, cr.count, extract.ErrCorrupt)
	}
	return cr, nil
}

func (cr *chunkReader) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	var e [8]byte
	for n < len(p) {
		ci := off >> cr.chunkBits
		if ci >= cr.count {
			return n, io.EOF
		}
		within := off & (1<<cr.chunkBits - 1)
		k := min(int64(len(p)-n), 1<<cr.chunkBits-within)
		var blk uint32
		if cr.indexes {
			if err := cr.fsys.readFull(e[:8], cr.table+ci*8); err != nil {
				return n, err
			}
			if dev := binary.LittleEndian.Uint16(e[2:]); dev != 0 && cr.fsys.sb.ExtraDevices > 0 {
				return n, fmt.Errorf("chunk %d on extra device %d: %w", ci, dev, extract.ErrUnsupported)
			}
			blk = binary.LittleEndian.Uint32(e[4:])
		} else {
			if err := cr.fsys.readFull(e[:4], cr.table+ci*4); err != nil {
				return n, err
			}
			blk = binary.LittleEndian.Uint32(e[:4])
		}
		if blk == 0xFFFFFFFF {
			clear(p[n : n+int(k)])
		} else if err := cr.fsys.readFull(p[n:n+int(k)], int64(blk)<<cr.fsys.blkbits+within); err != nil {
			return n, fmt.Errorf("chunk %d: %w", ci, err)
		}
		n += int(k)
		off += k
	}
	return n, nil
}
