package bootimg

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"slices"
	"strings"
	"time"
)

// Open opens a part ("kernel", "dtb", "ramdisk.cpio", ...) or a ramdisk
// file ("ramdisk/init.rc"). Symlinks in the ramdisk are followed.
func (im *Image) Open(name string) (fs.File, error) {
	f, err := im.open(name, true)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return f, nil
}

func (im *Image) open(name string, follow bool) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, fs.ErrInvalid
	}
	if name == "." {
		return &dirFile{info: fileInfo{name: ".", mode: fs.ModeDir | 0o555}, entries: im.rootEntries()}, nil
	}
	for _, p := range im.parts {
		if p.name == name {
			return &file{sr: io.NewSectionReader(im.r, p.off, p.size),
				info: fileInfo{name: name, size: p.size, mode: 0o444}}, nil
		}
	}
	if len(im.rds) == 0 || (name != RamdiskCpio && name != RamdiskDir && !strings.HasPrefix(name, RamdiskDir+"/")) {
		return nil, fs.ErrNotExist
	}
	if err := im.loadRamdisk(); err != nil {
		return nil, err
	}
	if name == RamdiskCpio {
		return newMemFile(RamdiskCpio, im.rd, 0o444, time.Time{}), nil
	}
	n, err := lookup(im.tree, strings.TrimPrefix(strings.TrimPrefix(name, RamdiskDir), "/"), follow)
	if err != nil {
		return nil, err
	}
	base := name[strings.LastIndexByte(name, '/')+1:]
	if n.mode.IsDir() {
		return &dirFile{info: fileInfo{name: base, mode: n.mode, mtime: n.mtime}, entries: dirEntries(n)}, nil
	}
	return newMemFile(base, n.data, n.mode, n.mtime), nil
}

// ReadDir lists a directory of the image, sorted by name.
func (im *Image) ReadDir(name string) ([]fs.DirEntry, error) {
	f, err := im.open(name, true)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	d, ok := f.(*dirFile)
	if !ok {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errors.New("not a directory")}
	}
	return slices.Clone(d.entries), nil
}

// Stat returns the file info of name, following symlinks.
func (im *Image) Stat(name string) (fs.FileInfo, error) {
	f, err := im.open(name, true)
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	return f.Stat()
}

// Lstat returns the file info of name without following a final symlink.
func (im *Image) Lstat(name string) (fs.FileInfo, error) {
	f, err := im.open(name, false)
	if err != nil {
		return nil, &fs.PathError{Op: "lstat", Path: name, Err: err}
	}
	return f.Stat()
}

// ReadLink returns the target of the ramdisk symlink name.
func (im *Image) ReadLink(name string) (string, error) {
	f, err := im.open(name, false)
	if err != nil {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: err}
	}
	m, ok := f.(*file)
	if !ok || m.info.mode&fs.ModeSymlink == 0 {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	b, _ := io.ReadAll(m.sr)
	return string(b), nil
}

func (im *Image) rootEntries() []fs.DirEntry {
	var out []fs.DirEntry
	for _, p := range im.parts {
		out = append(out, fs.FileInfoToDirEntry(fileInfo{name: p.name, size: p.size, mode: 0o444}))
	}
	if len(im.rds) > 0 {
		out = append(out, fs.FileInfoToDirEntry(fileInfo{name: RamdiskDir, mode: fs.ModeDir | 0o755}))
		// Listing the root decompresses the ramdisk (a few MiB) to size it;
		// a broken ramdisk is still listed, and opening it reports why.
		_ = im.loadRamdisk()
		out = append(out, fs.FileInfoToDirEntry(fileInfo{name: RamdiskCpio, size: int64(len(im.rd)), mode: 0o444}))
	}
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out
}

func dirEntries(n *node) []fs.DirEntry {
	out := make([]fs.DirEntry, 0, len(n.children))
	for _, c := range n.children {
		out = append(out, fs.FileInfoToDirEntry(c.info()))
	}
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out
}

func (n *node) info() fileInfo {
	return fileInfo{name: n.name, size: int64(len(n.data)), mode: n.mode, mtime: n.mtime}
}

type fileInfo struct {
	name  string
	size  int64
	mode  fs.FileMode
	mtime time.Time
}

func (fi fileInfo) Name() string       { return fi.name }
func (fi fileInfo) Size() int64        { return fi.size }
func (fi fileInfo) Mode() fs.FileMode  { return fi.mode }
func (fi fileInfo) ModTime() time.Time { return fi.mtime }
func (fi fileInfo) IsDir() bool        { return fi.mode.IsDir() }
func (fi fileInfo) Sys() any           { return nil }

// file is a regular file (or symlink, opened without following) of the
// image; it reads at offsets without moving its position.
type file struct {
	sr   *io.SectionReader
	info fileInfo
}

func newMemFile(name string, data []byte, mode fs.FileMode, mtime time.Time) *file {
	r := bytes.NewReader(data)
	return &file{sr: io.NewSectionReader(r, 0, int64(len(data))), info: fileInfo{name: name, size: int64(len(data)), mode: mode, mtime: mtime}}
}

func (f *file) Stat() (fs.FileInfo, error)                    { return f.info, nil }
func (f *file) Read(p []byte) (int, error)                    { return f.sr.Read(p) }
func (f *file) Seek(off int64, whence int) (int64, error)     { return f.sr.Seek(off, whence) }
func (f *file) Close() error                                  { return nil }
func (f *file) ReadAt(p []byte, off int64) (n int, err error) { return f.sr.ReadAt(p, off) }

type dirFile struct {
	info    fileInfo
	entries []fs.DirEntry
	pos     int
}

func (d *dirFile) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.name, Err: errors.New("is a directory")}
}
func (d *dirFile) Close() error { return nil }

func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.entries[d.pos:]
	if n <= 0 {
		d.pos = len(d.entries)
		return slices.Clone(rest), nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	rest = rest[:min(n, len(rest))]
	d.pos += len(rest)
	return slices.Clone(rest), nil
}
