// Package erofs reads EROFS images (the read-only file system of modern
// Android system, vendor and product partitions) in place, as an fs.FS whose
// regular files can be read at offsets.
//
// It reads uncompressed layouts (flat, tail-packed inline, chunk-based) and
// compressed files (full and compact lcluster indexes, big pclusters,
// ztailpacking) with LZ4, MicroLZMA and DEFLATE. Compressed files are read at
// random offsets by decompressing only the physical clusters that cover the
// request. Extended attributes are skipped.
package erofs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/romscan/romscan/extract"
)

// On-disk constants (the kernel's erofs_fs.h).
const (
	superOffset = 1024
	superMagic  = 0xE0F5E1E2

	incompatZeroPadding  = 0x00000001
	incompatBigPcluster  = 0x00000002 // also COMPR_CFGS
	incompatChunkedFile  = 0x00000004
	incompatDeviceTable  = 0x00000008 // also COMPR_HEAD2
	incompatZtailpacking = 0x00000010
	incompatFragments    = 0x00000020 // also DEDUPE
	incompatXattrPrefix  = 0x00000040
	incompatKnown        = incompatZeroPadding | incompatBigPcluster | incompatChunkedFile |
		incompatDeviceTable | incompatZtailpacking | incompatFragments | incompatXattrPrefix
	compatMtime = 0x00000002

	layoutFlatPlain         = 0
	layoutCompressedFull    = 1
	layoutFlatInline        = 2
	layoutCompressedCompact = 3
	layoutChunkBased        = 4

	compactInodeSize  = 32
	extendedInodeSize = 64
	direntSize        = 12
	maxNameLen        = 255
	maxSymlinkLen     = 4096
	maxLinkHops       = 40
	maxPathDepth      = 512
	maxDirEntries     = 1 << 22
	dirCacheSize      = 32
)

// Superblock is the decoded EROFS superblock.
type Superblock struct {
	BlockSizeBits    uint8
	RootNid          uint64
	Inodes           uint64
	BuildTime        uint64
	BuildTimeNsec    uint32
	Blocks           uint32
	MetaBlockAddr    uint32
	XattrBlockAddr   uint32
	UUID             [16]byte
	VolumeName       string
	FeatureCompat    uint32
	FeatureIncompat  uint32
	ComprAlgs        uint16 // available_compr_algs (bitmap) or lz4_max_distance
	ExtraDevices     uint16
	DirBlockBits     uint8
	PackedNid        uint64
	SuperblockExtras uint8 // sb_extslots
}

// FS is an opened EROFS image. It implements fs.FS, fs.ReadDirFS and
// fs.StatFS and is safe for concurrent use.
type FS struct {
	r       io.ReaderAt
	size    int64
	sb      Superblock
	blkbits uint
	blksz   int64
	meta    int64 // byte offset of the metadata area (nid 0)

	mu       sync.Mutex
	dirCache map[uint64][]dirent // nid → entries, bounded by dirCacheSize
	dirOrder []uint64
}

// Sniff reports whether head (at least 1028 bytes of the image) carries the
// EROFS magic at offset 1024.
func Sniff(head []byte) bool {
	return len(head) >= superOffset+4 && binary.LittleEndian.Uint32(head[superOffset:]) == superMagic
}

// Open reads the superblock and the root inode of the image r of size bytes.
func Open(r io.ReaderAt, size int64) (*FS, error) {
	if size < superOffset+128 {
		return nil, fmt.Errorf("erofs: image of %d bytes too small: %w", size, extract.ErrNotFormat)
	}
	b := make([]byte, 128)
	if n, err := r.ReadAt(b, superOffset); n < len(b) {
		return nil, fmt.Errorf("erofs: read superblock: %w", errOr(err))
	}
	le := binary.LittleEndian
	if le.Uint32(b) != superMagic {
		return nil, fmt.Errorf("erofs: bad magic %#x: %w", le.Uint32(b), extract.ErrNotFormat)
	}
	sb := Superblock{
		FeatureCompat:    le.Uint32(b[8:]),
		BlockSizeBits:    b[12],
		SuperblockExtras: b[13],
		RootNid:          uint64(le.Uint16(b[14:])),
		Inodes:           le.Uint64(b[16:]),
		BuildTime:        le.Uint64(b[24:]),
		BuildTimeNsec:    le.Uint32(b[32:]),
		Blocks:           le.Uint32(b[36:]),
		MetaBlockAddr:    le.Uint32(b[40:]),
		XattrBlockAddr:   le.Uint32(b[44:]),
		VolumeName:       cString(b[64:80]),
		FeatureIncompat:  le.Uint32(b[80:]),
		ComprAlgs:        le.Uint16(b[84:]),
		ExtraDevices:     le.Uint16(b[86:]),
		DirBlockBits:     b[90],
		PackedNid:        le.Uint64(b[96:]),
	}
	copy(sb.UUID[:], b[48:64])
	if sb.BlockSizeBits < 9 || sb.BlockSizeBits > 16 {
		return nil, fmt.Errorf("erofs: block size 2^%d: %w", sb.BlockSizeBits, extract.ErrUnsupported)
	}
	if unk := sb.FeatureIncompat &^ incompatKnown; unk != 0 {
		return nil, fmt.Errorf("erofs: incompatible features %#x (48-bit layout, metabox or newer): %w", unk, extract.ErrUnsupported)
	}
	if sb.DirBlockBits != 0 {
		return nil, fmt.Errorf("erofs: directory block bits %d: %w", sb.DirBlockBits, extract.ErrUnsupported)
	}
	fsys := &FS{
		r: r, size: size, sb: sb,
		blkbits:  uint(sb.BlockSizeBits),
		blksz:    1 << sb.BlockSizeBits,
		dirCache: map[uint64][]dirent{},
	}
	fsys.meta = int64(sb.MetaBlockAddr) << fsys.blkbits
	if fsys.meta >= size {
		return nil, fmt.Errorf("erofs: metadata block %d past the end of the %d-byte image: %w", sb.MetaBlockAddr, size, extract.ErrCorrupt)
	}
	root, err := fsys.inode(sb.RootNid)
	if err != nil {
		return nil, fmt.Errorf("erofs: root inode: %w", err)
	}
	if !root.isDir() {
		return nil, fmt.Errorf("erofs: root inode %d is not a directory: %w", sb.RootNid, extract.ErrCorrupt)
	}
	return fsys, nil
}

// Superblock returns the decoded superblock.
func (fsys *FS) Superblock() Superblock { return fsys.sb }

func errOr(err error) error {
	if err == nil || errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// readFull reads len(b) bytes at off, which must lie inside the image.
func (fsys *FS) readFull(b []byte, off int64) error {
	if off < 0 || off > fsys.size || int64(len(b)) > fsys.size-off {
		return fmt.Errorf("%d bytes at offset %d past the end of the %d-byte image: %w", len(b), off, fsys.size, extract.ErrCorrupt)
	}
	if n, err := fsys.r.ReadAt(b, off); n < len(b) {
		return fmt.Errorf("read %d bytes at offset %d: %w", len(b), off, errOr(err))
	}
	return nil
}

// inode is a decoded on-disk inode.
type inode struct {
	nid       uint64
	loc       int64 // byte offset in the image
	format    uint16
	layout    int
	isize     int64 // 32 or 64
	xattrSize int64
	mode      uint16
	nlink     uint32
	size      int64
	iu        uint32 // startblk, compressed block count, rdev or chunk format
	uid, gid  uint32
	mtime     time.Time
}

func (ino *inode) isDir() bool     { return ino.mode&0xF000 == 0x4000 }
func (ino *inode) isSymlink() bool { return ino.mode&0xF000 == 0xA000 }

// dataEnd is the offset just past the inode and its inline xattrs.
func (ino *inode) dataEnd() int64 { return ino.loc + ino.isize + ino.xattrSize }

func (fsys *FS) inode(nid uint64) (*inode, error) {
	if nid > uint64(fsys.size)/32 {
		return nil, fmt.Errorf("inode %d past the end of the image: %w", nid, extract.ErrCorrupt)
	}
	loc := fsys.meta + int64(nid)*32
	if loc+compactInodeSize > fsys.size {
		return nil, fmt.Errorf("inode %d at %d past the end of the image: %w", nid, loc, extract.ErrCorrupt)
	}
	b := make([]byte, extendedInodeSize)
	n := min(int64(extendedInodeSize), fsys.size-loc)
	if err := fsys.readFull(b[:n], loc); err != nil {
		return nil, fmt.Errorf("inode %d: %w", nid, err)
	}
	le := binary.LittleEndian
	ino := &inode{nid: nid, loc: loc, format: le.Uint16(b)}
	ino.layout = int(ino.format>>1) & 7
	if icount := le.Uint16(b[2:]); icount > 0 {
		ino.xattrSize = 12 + 4*(int64(icount)-1)
	}
	ino.mode = le.Uint16(b[4:])
	ino.iu = le.Uint32(b[16:])
	if ino.format&1 == 0 {
		ino.isize = compactInodeSize
		ino.nlink = uint32(le.Uint16(b[6:]))
		if ino.format&(1<<4) != 0 && !ino.isDir() {
			ino.nlink = 1
		}
		ino.size = int64(le.Uint32(b[8:]))
		ino.uid, ino.gid = uint32(le.Uint16(b[24:])), uint32(le.Uint16(b[26:]))
		sec := int64(fsys.sb.BuildTime)
		if fsys.sb.FeatureCompat&compatMtime != 0 {
			sec += int64(le.Uint32(b[12:]))
		}
		ino.mtime = time.Unix(sec, int64(fsys.sb.BuildTimeNsec%1e9)).UTC()
	} else {
		if n < extendedInodeSize {
			return nil, fmt.Errorf("inode %d: extended inode past the end of the image: %w", nid, extract.ErrCorrupt)
		}
		ino.isize = extendedInodeSize
		size := le.Uint64(b[8:])
		if size > 1<<62 {
			return nil, fmt.Errorf("inode %d: size %d: %w", nid, size, extract.ErrCorrupt)
		}
		ino.size = int64(size)
		ino.uid, ino.gid = le.Uint32(b[24:]), le.Uint32(b[28:])
		ino.mtime = time.Unix(int64(le.Uint64(b[32:])&(1<<62-1)), int64(le.Uint32(b[40:])%1e9)).UTC()
		ino.nlink = le.Uint32(b[44:])
	}
	if ino.layout > layoutChunkBased {
		return nil, fmt.Errorf("inode %d: data layout %d: %w", nid, ino.layout, extract.ErrUnsupported)
	}
	if ino.dataEnd() > fsys.size {
		return nil, fmt.Errorf("inode %d: xattrs past the end of the image: %w", nid, extract.ErrCorrupt)
	}
	return ino, nil
}

// fileMode converts a POSIX mode to an fs.FileMode.
func fileMode(m uint16) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	if m&0o4000 != 0 {
		mode |= fs.ModeSetuid
	}
	if m&0o2000 != 0 {
		mode |= fs.ModeSetgid
	}
	if m&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	switch m & 0xF000 {
	case 0x4000:
		mode |= fs.ModeDir
	case 0xA000:
		mode |= fs.ModeSymlink
	case 0x2000:
		mode |= fs.ModeDevice | fs.ModeCharDevice
	case 0x6000:
		mode |= fs.ModeDevice
	case 0x1000:
		mode |= fs.ModeNamedPipe
	case 0xC000:
		mode |= fs.ModeSocket
	case 0x8000:
	default:
		mode |= fs.ModeIrregular
	}
	return mode
}

// Stat is what FileInfo.Sys returns: the raw inode fields.
type Stat struct {
	Nid   uint64
	Mode  uint16 // POSIX mode with file type bits
	Nlink uint32
	UID   uint32
	GID   uint32
	Rdev  uint32 // device number of character and block devices
}

type fileInfo struct {
	name string
	ino  *inode
}

func (fi *fileInfo) Name() string       { return fi.name }
func (fi *fileInfo) Size() int64        { return fi.ino.size }
func (fi *fileInfo) Mode() fs.FileMode  { return fileMode(fi.ino.mode) }
func (fi *fileInfo) ModTime() time.Time { return fi.ino.mtime }
func (fi *fileInfo) IsDir() bool        { return fi.ino.isDir() }
func (fi *fileInfo) Sys() any {
	st := &Stat{Nid: fi.ino.nid, Mode: fi.ino.mode, Nlink: fi.ino.nlink, UID: fi.ino.uid, GID: fi.ino.gid}
	if m := fi.ino.mode & 0xF000; m == 0x2000 || m == 0x6000 {
		st.Rdev = fi.ino.iu
	}
	return st
}

// resolve walks name from the root. The last element is not followed when
// it is a symlink; intermediate symlinks are followed (at most maxLinkHops).
// chain receives the nids of the directories walked through (for cycle
// checks).
func (fsys *FS) resolve(op, name string) (*inode, []uint64, error) {
	// A name that is not UTF-8 is still a name on disk (ReadDir lists it):
	// only the path's shape is checked, so every listed file can be opened.
	if !fs.ValidPath(strings.ToValidUTF8(name, "_")) {
		return nil, nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	hops := 0
	cur, err := fsys.inode(fsys.sb.RootNid)
	if err != nil {
		return nil, nil, &fs.PathError{Op: op, Path: name, Err: err}
	}
	chain := []uint64{cur.nid}
	var parts []string
	if name != "." {
		parts = strings.Split(name, "/")
	}
	for i := 0; i < len(parts); i++ {
		if len(chain) > maxPathDepth {
			return nil, nil, &fs.PathError{Op: op, Path: name, Err: fmt.Errorf("path deeper than %d: %w", maxPathDepth, extract.ErrLimit)}
		}
		p := parts[i]
		if !cur.isDir() {
			return nil, nil, &fs.PathError{Op: op, Path: name, Err: fmt.Errorf("%q is not a directory: %w", p, fs.ErrNotExist)}
		}
		ents, err := fsys.readDir(cur)
		if err != nil {
			return nil, nil, &fs.PathError{Op: op, Path: name, Err: err}
		}
		j := sort.Search(len(ents), func(k int) bool { return ents[k].name >= p })
		if j == len(ents) || ents[j].name != p {
			return nil, nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
		}
		next, err := fsys.inode(ents[j].nid)
		if err != nil {
			return nil, nil, &fs.PathError{Op: op, Path: name, Err: err}
		}
		if next.isSymlink() && i < len(parts)-1 {
			hops++
			if hops > maxLinkHops {
				return nil, nil, &fs.PathError{Op: op, Path: name, Err: fmt.Errorf("too many symlinks: %w", extract.ErrLimit)}
			}
			target, err := fsys.readLink(next)
			if err != nil {
				return nil, nil, &fs.PathError{Op: op, Path: name, Err: err}
			}
			base := path.Join(parts[:i]...)
			if strings.HasPrefix(target, "/") {
				base = ""
			}
			rest := path.Join(append([]string{"/", base, target}, parts[i+1:]...)...)
			rest = strings.TrimPrefix(rest, "/")
			if rest == "" {
				rest = "."
			}
			if parts = nil; rest != "." {
				parts = strings.Split(rest, "/")
			}
			i = -1
			cur, err = fsys.inode(fsys.sb.RootNid)
			if err != nil {
				return nil, nil, &fs.PathError{Op: op, Path: name, Err: err}
			}
			chain = []uint64{cur.nid}
			continue
		}
		cur = next
		if cur.isDir() {
			chain = append(chain, cur.nid)
		}
	}
	return cur, chain, nil
}

// Open opens name. A symlink as the last element is not followed: it opens
// as a file whose Stat().Mode() has fs.ModeSymlink. Regular files implement
// extract.ReaderAtFile; directories implement fs.ReadDirFile.
func (fsys *FS) Open(name string) (fs.File, error) {
	ino, chain, err := fsys.resolve("open", name)
	if err != nil {
		return nil, err
	}
	fi := &fileInfo{name: path.Base(name), ino: ino}
	if name == "." {
		fi.name = "."
	}
	if ino.isDir() {
		return &dir{fsys: fsys, fi: fi, chain: chain, path: name}, nil
	}
	data, err := fsys.dataReader(ino)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return &file{fi: fi, data: data, path: name}, nil
}

// Stat returns the FileInfo of name, without following a final symlink.
func (fsys *FS) Stat(name string) (fs.FileInfo, error) {
	ino, _, err := fsys.resolve("stat", name)
	if err != nil {
		return nil, err
	}
	fi := &fileInfo{name: path.Base(name), ino: ino}
	return fi, nil
}

// ReadDir lists the directory name sorted by file name. Entries that point
// back at the directory or one of its ancestors (a cycle) are left out, and
// then the other entries come with an error wrapping extract.ErrCorrupt that
// names them, so the cycle is reported rather than silently cut.
func (fsys *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	ino, chain, err := fsys.resolve("readdir", name)
	if err != nil {
		return nil, err
	}
	if !ino.isDir() {
		// Reached through an entry typed as a directory whose inode says
		// otherwise: the image contradicts itself.
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fmt.Errorf("inode %d is not a directory: %w", ino.nid, extract.ErrCorrupt)}
	}
	ents, err := fsys.readDir(ino)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	out := fsys.dirEntries(ents, chain)
	if len(out) < len(ents) {
		for _, d := range ents {
			if d.ftype == ftDir && containsNid(chain, d.nid) {
				return out, &fs.PathError{Op: "readdir", Path: name, Err: fmt.Errorf("entry %q points back at directory inode %d on its own path (a cycle): %w", d.name, d.nid, extract.ErrCorrupt)}
			}
		}
	}
	return out, nil
}

// ReadLink returns the target of the symlink name.
func (fsys *FS) ReadLink(name string) (string, error) {
	ino, _, err := fsys.resolve("readlink", name)
	if err != nil {
		return "", err
	}
	if !ino.isSymlink() {
		// Listed as a symlink by its directory entry but not one: the entry
		// and the inode disagree.
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fmt.Errorf("inode %d is not a symlink (%w): %w", ino.nid, fs.ErrInvalid, extract.ErrCorrupt)}
	}
	t, err := fsys.readLink(ino)
	if err != nil {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: err}
	}
	return t, nil
}

func (fsys *FS) readLink(ino *inode) (string, error) {
	if ino.size > maxSymlinkLen {
		return "", fmt.Errorf("symlink inode %d of %d bytes: %w", ino.nid, ino.size, extract.ErrCorrupt)
	}
	d, err := fsys.dataReader(ino)
	if err != nil {
		return "", err
	}
	b := make([]byte, ino.size)
	if n, err := d.ReadAt(b, 0); n < len(b) {
		return "", fmt.Errorf("symlink inode %d: %w", ino.nid, errOr(err))
	}
	return string(b), nil
}

// file is an open non-directory.
type file struct {
	fi   *fileInfo
	data io.ReaderAt
	path string

	mu  sync.Mutex
	off int64
}

func (f *file) Stat() (fs.FileInfo, error) { return f.fi, nil }
func (f *file) Close() error               { return nil }

// Read implements io.Reader.
func (f *file) Read(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.off >= f.fi.ino.size {
		return 0, io.EOF
	}
	n, err := f.ReadAt(p, f.off)
	f.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

// ReadAt implements io.ReaderAt.
func (f *file) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, &fs.PathError{Op: "read", Path: f.path, Err: fs.ErrInvalid}
	}
	size := f.fi.ino.size
	if off >= size {
		return 0, io.EOF
	}
	want := p
	if int64(len(want)) > size-off {
		want = want[:size-off]
	}
	n, err := f.data.ReadAt(want, off)
	if err != nil && !errors.Is(err, io.EOF) {
		return n, &fs.PathError{Op: "read", Path: f.path, Err: err}
	}
	if n < len(want) {
		return n, &fs.PathError{Op: "read", Path: f.path, Err: io.ErrUnexpectedEOF}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Seek implements io.Seeker.
func (f *file) Seek(offset int64, whence int) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += f.off
	case io.SeekEnd:
		offset += f.fi.ino.size
	default:
		return 0, &fs.PathError{Op: "seek", Path: f.path, Err: fs.ErrInvalid}
	}
	if offset < 0 {
		return 0, &fs.PathError{Op: "seek", Path: f.path, Err: fs.ErrInvalid}
	}
	f.off = offset
	return offset, nil
}

// dir is an open directory.
type dir struct {
	fsys  *FS
	fi    *fileInfo
	chain []uint64
	path  string
	ents  []fs.DirEntry
	read  bool
	pos   int
	cycle error // an entry left out as a cycle, reported once the rest is read
}

func (d *dir) Stat() (fs.FileInfo, error) { return d.fi, nil }
func (d *dir) Close() error               { return nil }
func (d *dir) Read([]byte) (int, error) {
	// Reached by a reader when its directory entry said "file": the entry
	// and the inode disagree.
	return 0, &fs.PathError{Op: "read", Path: d.path, Err: fmt.Errorf("inode %d is a directory (%w): %w", d.fi.ino.nid, fs.ErrInvalid, extract.ErrCorrupt)}
}

// ReadDir implements fs.ReadDirFile.
func (d *dir) ReadDir(n int) ([]fs.DirEntry, error) {
	if !d.read {
		ents, err := d.fsys.readDir(d.fi.ino)
		if err != nil {
			return nil, &fs.PathError{Op: "readdir", Path: d.path, Err: err}
		}
		d.ents = d.fsys.dirEntries(ents, d.chain)
		d.read = true
		if len(d.ents) < len(ents) {
			// Same contract as FS.ReadDir: the cycle is reported, not cut silently.
			for _, e := range ents {
				if e.ftype == ftDir && containsNid(d.chain, e.nid) {
					d.cycle = &fs.PathError{Op: "readdir", Path: d.path, Err: fmt.Errorf("entry %q points back at directory inode %d on its own path (a cycle): %w", e.name, e.nid, extract.ErrCorrupt)}
					break
				}
			}
		}
	}
	rest := d.ents[d.pos:]
	if n <= 0 {
		d.pos = len(d.ents)
		err := d.cycle
		d.cycle = nil
		return rest, err
	}
	if len(rest) == 0 {
		if err := d.cycle; err != nil {
			d.cycle = nil
			return nil, err
		}
		return nil, io.EOF
	}
	rest = rest[:min(n, len(rest))]
	d.pos += len(rest)
	return rest, nil
}

type dirEntry struct {
	fsys *FS
	d    dirent
}

func (e *dirEntry) Name() string { return e.d.name }
func (e *dirEntry) IsDir() bool  { return e.d.ftype == ftDir }
func (e *dirEntry) Type() fs.FileMode {
	switch e.d.ftype {
	case ftDir:
		return fs.ModeDir
	case ftSymlink:
		return fs.ModeSymlink
	case ftChr:
		return fs.ModeDevice | fs.ModeCharDevice
	case ftBlk:
		return fs.ModeDevice
	case ftFifo:
		return fs.ModeNamedPipe
	case ftSock:
		return fs.ModeSocket
	case ftReg:
		return 0
	}
	return fs.ModeIrregular
}
func (e *dirEntry) Info() (fs.FileInfo, error) {
	ino, err := e.fsys.inode(e.d.nid)
	if err != nil {
		return nil, err
	}
	return &fileInfo{name: e.d.name, ino: ino}, nil
}
func (e *dirEntry) String() string { return fs.FormatDirEntry(e) }

func (fsys *FS) dirEntries(ents []dirent, chain []uint64) []fs.DirEntry {
	out := make([]fs.DirEntry, 0, len(ents))
	for _, d := range ents {
		if d.ftype == ftDir && containsNid(chain, d.nid) {
			continue // a cycle back to this directory or an ancestor
		}
		out = append(out, &dirEntry{fsys: fsys, d: d})
	}
	return out
}

func containsNid(chain []uint64, nid uint64) bool {
	for _, c := range chain {
		if c == nid {
			return true
		}
	}
	return false
}

// Interfaces the package promises.
var (
	_ fs.FS                = (*FS)(nil)
	_ fs.ReadDirFS         = (*FS)(nil)
	_ fs.StatFS            = (*FS)(nil)
	_ extract.ReaderAtFile = (*file)(nil)
	_ io.Seeker            = (*file)(nil)
	_ fs.ReadDirFile       = (*dir)(nil)
)
