package ext4

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/romscan/romscan/extract"
)

// dirent is one directory entry.
type dirent struct {
	name  string
	ino   uint32
	ftype byte // 0 unknown, 1 reg, 2 dir, 3 chr, 4 blk, 5 fifo, 6 sock, 7 symlink
}

// parseDirents appends the live entries of buf (one directory block, or an
// inline area) to out, skipping "." and "..".
func (f *FS) parseDirents(dir uint32, buf []byte, base int64, out *[]dirent) error {
	for pos := 0; pos+8 <= len(buf); {
		ino := le.Uint32(buf[pos:])
		recLen := int(le.Uint16(buf[pos+4:]))
		nameLen := int(buf[pos+6])
		ftype := buf[pos+7]
		if f.incompat&incompatFiletype == 0 {
			nameLen |= int(buf[pos+7]) << 8
			ftype = 0
		}
		if recLen < 8 || pos+recLen > len(buf) {
			return fmt.Errorf("ext4: directory inode %d: entry at byte %d has record length %d: %w", dir, base+int64(pos), recLen, extract.ErrCorrupt)
		}
		if ino != 0 && nameLen > 0 {
			if 8+nameLen > recLen {
				return fmt.Errorf("ext4: directory inode %d: entry at byte %d: name of %d bytes in a %d-byte record: %w", dir, base+int64(pos), nameLen, recLen, extract.ErrCorrupt)
			}
			name := string(buf[pos+8 : pos+8+nameLen])
			// A name with a slash or NUL cannot be addressed by an fs path;
			// drop it rather than let it alias another path.
			if name != "." && name != ".." && !strings.ContainsAny(name, "/\x00") {
				if len(*out) >= f.lim.MaxEntries {
					return fmt.Errorf("ext4: directory inode %d: more than %d entries: %w", dir, f.lim.MaxEntries, extract.ErrLimit)
				}
				*out = append(*out, dirent{name: name, ino: ino, ftype: ftype})
			}
		}
		pos += recLen
	}
	return nil
}

// readDir lists directory in, sorted by name, through a bounded cache.
func (f *FS) readDir(in *Inode) ([]dirent, error) {
	f.mu.Lock()
	d, ok := f.dirs[in.Number]
	f.mu.Unlock()
	if ok {
		return d, nil
	}
	r := &reader{f: f, in: in}
	m, err := r.load()
	if err != nil {
		return nil, err
	}
	var out []dirent
	if m.isInl {
		// The first 4 bytes are the parent inode; entries follow in the
		// rest of i_block and then in the system.data attribute.
		data := m.inline
		if len(data) >= 60 {
			if err := f.parseDirents(in.Number, data[4:60], 4, &out); err != nil {
				return nil, err
			}
			if err := f.parseDirents(in.Number, data[60:], 60, &out); err != nil {
				return nil, err
			}
		}
	} else {
		if in.Size > maxDirSize {
			return nil, fmt.Errorf("ext4: directory inode %d of %d bytes: %w", in.Number, in.Size, extract.ErrLimit)
		}
		buf := make([]byte, f.bs)
		for off := int64(0); off < in.Size; off += f.bs {
			n, err := r.ReadAt(buf, off)
			if n < len(buf) && !errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("ext4: directory inode %d: %w", in.Number, err)
			}
			if err := f.parseDirents(in.Number, buf[:n], off, &out); err != nil {
				return nil, err
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.dirs[in.Number]; !ok && len(out) <= maxDirCache {
		for f.dirTotal+len(out) > maxDirCache && len(f.dirOrder) > 0 {
			f.dirTotal -= len(f.dirs[f.dirOrder[0]])
			delete(f.dirs, f.dirOrder[0])
			f.dirOrder = f.dirOrder[1:]
		}
		f.dirs[in.Number] = out
		f.dirOrder = append(f.dirOrder, in.Number)
		f.dirTotal += len(out)
	}
	return out, nil
}

// lookup resolves a valid fs path to its inode without following symlinks.
func (f *FS) lookup(op, name string) (*Inode, error) {
	// A name that is not UTF-8 is still a name on disk (ReadDir lists it):
	// only the path's shape is checked, so every listed file can be opened.
	if !fs.ValidPath(strings.ToValidUTF8(name, "_")) {
		return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	in, err := f.inode(rootIno)
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: name, Err: err}
	}
	if name == "." {
		return in, nil
	}
	parts := strings.Split(name, "/")
	if len(parts) > maxPathDepth {
		return nil, &fs.PathError{Op: op, Path: name, Err: fmt.Errorf("ext4: more than %d path components: %w", maxPathDepth, extract.ErrLimit)}
	}
	seen := []uint32{rootIno}
	for i, part := range parts {
		if !in.isDir() {
			return nil, &fs.PathError{Op: op, Path: name, Err: fmt.Errorf("ext4: %q is not a directory", strings.Join(parts[:i], "/"))}
		}
		ents, err := f.readDir(in)
		if err != nil {
			return nil, &fs.PathError{Op: op, Path: name, Err: err}
		}
		j := sort.Search(len(ents), func(j int) bool { return ents[j].name >= part })
		if j == len(ents) || ents[j].name != part {
			return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
		}
		if in, err = f.inode(ents[j].ino); err != nil {
			return nil, &fs.PathError{Op: op, Path: name, Err: err}
		}
		if in.isDir() {
			for _, s := range seen {
				if s == in.Number {
					return nil, &fs.PathError{Op: op, Path: name, Err: fmt.Errorf("ext4: directory inode %d loops back on the path: %w", in.Number, extract.ErrCorrupt)}
				}
			}
			seen = append(seen, in.Number)
		}
	}
	return in, nil
}

// Open opens name. Symlinks are not followed: a symlink opens as a file that
// reads nothing and whose mode has fs.ModeSymlink. Regular files implement
// extract.ReaderAtFile.
func (f *FS) Open(name string) (fs.File, error) {
	in, err := f.lookup("open", name)
	if err != nil {
		return nil, err
	}
	fi := &fileInfo{name: path.Base(name), in: in}
	if in.isDir() {
		return &dir{f: f, fi: fi}, nil
	}
	var r io.ReaderAt = eofReader{}
	size := int64(0)
	if in.isReg() {
		r, size = &reader{f: f, in: in}, in.Size
	}
	return &file{fi: fi, r: r, sr: io.NewSectionReader(r, 0, size)}, nil
}

// Stat returns the file info of name without following a final symlink.
func (f *FS) Stat(name string) (fs.FileInfo, error) {
	in, err := f.lookup("stat", name)
	if err != nil {
		return nil, err
	}
	return &fileInfo{name: path.Base(name), in: in}, nil
}

// Lstat is Stat: no symlink is followed.
func (f *FS) Lstat(name string) (fs.FileInfo, error) { return f.Stat(name) }

// ReadDir lists directory name sorted by file name.
func (f *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	in, err := f.lookup("readdir", name)
	if err != nil {
		return nil, err
	}
	if !in.isDir() {
		// Reached through an entry typed as a directory whose inode says
		// otherwise: the image contradicts itself.
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fmt.Errorf("ext4: inode of %q is not a directory: %w", name, extract.ErrCorrupt)}
	}
	ents, err := f.readDir(in)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	out := make([]fs.DirEntry, len(ents))
	for i, e := range ents {
		out[i] = &dirEntry{f: f, e: e}
	}
	return out, nil
}

// ReadLink returns the target of symlink name.
func (f *FS) ReadLink(name string) (string, error) {
	in, err := f.lookup("readlink", name)
	if err != nil {
		return "", err
	}
	if !in.isSymlink() {
		// Listed as a symlink by its directory entry but not one: the entry
		// and the inode disagree.
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fmt.Errorf("ext4: inode %d is not a symlink (%w): %w", in.Number, fs.ErrInvalid, extract.ErrCorrupt)}
	}
	if in.Size > 64*extract.KiB {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fmt.Errorf("ext4: symlink target of %d bytes: %w", in.Size, extract.ErrCorrupt)}
	}
	buf := make([]byte, in.Size)
	n, err := (&reader{f: f, in: in}).ReadAt(buf, 0)
	if n < len(buf) {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: err}
	}
	return string(buf), nil
}

type eofReader struct{}

func (eofReader) ReadAt([]byte, int64) (int, error) { return 0, io.EOF }

// file is an open non-directory.
type file struct {
	fi *fileInfo
	r  io.ReaderAt
	sr *io.SectionReader
}

func (fl *file) Stat() (fs.FileInfo, error)                { return fl.fi, nil }
func (fl *file) Read(p []byte) (int, error)                { return fl.sr.Read(p) }
func (fl *file) ReadAt(p []byte, off int64) (int, error)   { return fl.sr.ReadAt(p, off) }
func (fl *file) Seek(off int64, whence int) (int64, error) { return fl.sr.Seek(off, whence) }
func (fl *file) Close() error                              { return nil }

// dir is an open directory.
type dir struct {
	f    *FS
	fi   *fileInfo
	ents []dirent
	read bool
	pos  int
}

func (d *dir) Stat() (fs.FileInfo, error) { return d.fi, nil }
func (d *dir) Close() error               { return nil }
func (d *dir) Read([]byte) (int, error) {
	// Reached by a reader when its directory entry said "file": the entry
	// and the inode disagree.
	return 0, &fs.PathError{Op: "read", Path: d.fi.name, Err: fmt.Errorf("ext4: inode %d is a directory (%w): %w", d.fi.in.Number, fs.ErrInvalid, extract.ErrCorrupt)}
}

func (d *dir) ReadDir(n int) ([]fs.DirEntry, error) {
	if !d.read {
		ents, err := d.f.readDir(d.fi.in)
		if err != nil {
			return nil, err
		}
		d.ents, d.read = ents, true
	}
	rest := d.ents[d.pos:]
	if n > 0 {
		if len(rest) == 0 {
			return nil, io.EOF
		}
		rest = rest[:min(n, len(rest))]
	}
	d.pos += len(rest)
	out := make([]fs.DirEntry, len(rest))
	for i, e := range rest {
		out[i] = &dirEntry{f: d.f, e: e}
	}
	return out, nil
}

// fileInfo implements fs.FileInfo over an inode.
type fileInfo struct {
	name string
	in   *Inode
}

func (fi *fileInfo) Name() string       { return fi.name }
func (fi *fileInfo) Size() int64        { return fi.in.Size }
func (fi *fileInfo) Mode() fs.FileMode  { return fi.in.FileMode() }
func (fi *fileInfo) ModTime() time.Time { return fi.in.Mtime }
func (fi *fileInfo) IsDir() bool        { return fi.in.isDir() }
func (fi *fileInfo) Sys() any           { return fi.in }

// dirEntry implements fs.DirEntry, reading the inode only when needed.
type dirEntry struct {
	f *FS
	e dirent
}

func (de *dirEntry) Name() string { return de.e.name }
func (de *dirEntry) IsDir() bool  { return de.Type().IsDir() }

func (de *dirEntry) Type() fs.FileMode {
	switch de.e.ftype {
	case 1:
		return 0
	case 2:
		return fs.ModeDir
	case 3:
		return fs.ModeDevice | fs.ModeCharDevice
	case 4:
		return fs.ModeDevice
	case 5:
		return fs.ModeNamedPipe
	case 6:
		return fs.ModeSocket
	case 7:
		return fs.ModeSymlink
	}
	in, err := de.f.inode(de.e.ino)
	if err != nil {
		return fs.ModeIrregular
	}
	return in.FileMode().Type()
}

func (de *dirEntry) Info() (fs.FileInfo, error) {
	in, err := de.f.inode(de.e.ino)
	if err != nil {
		return nil, err
	}
	return &fileInfo{name: de.e.name, in: in}, nil
}

func (de *dirEntry) String() string { return fs.FormatDirEntry(de) }
