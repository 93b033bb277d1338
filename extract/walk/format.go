// Package walk recurses from an input file or folder through nested
// containers (zip, tar, compressed streams, sparse, block OTA, ext4, EROFS,
// super.img, payload.bin, boot images) within Limits, reading in place where
// the format allows, and hands every leaf file to a visitor.
package walk

import (
	"context"
	"fmt"
	"io"
	"io/fs"

	"github.com/romscan/romscan/extract"
)

// Source is a file to sniff and maybe open as a container.
type Source struct {
	R    io.ReaderAt
	Size int64
	Name string // base name, a hint for sniffing
	Head []byte // the first bytes (up to headSize)
	Loc  extract.Location
}

// Member is one file inside a container.
type Member struct {
	// Path is the hop added to the Location ("payload.bin", "/system/app/Foo/Foo.apk").
	// An empty Path means the member is the container's decoded self (a sparse
	// image expanded, a compressed stream decoded) and keeps the same Location.
	Path string
	Size int64
	// Open returns the member's bytes and a release func to call when done.
	Open func(ctx context.Context) (io.ReaderAt, func(), error)
}

// Container is an opened container: it lists members in a deterministic order.
type Container interface {
	Members(ctx context.Context, fn func(Member) error) error
	Close() error
}

// Format is one container format. Sniff looks at magic bytes first; the
// name is only a hint. Open returns extract.ErrNotFormat to let the next
// format try.
type Format interface {
	Name() string
	Sniff(head []byte, name string) bool
	Open(ctx context.Context, src Source, env *Env) (Container, error)
}

// Env is what a format may use while opening: limits and the spill area.
type Env struct {
	Limits extract.Limits
	Spill  *Spiller
	Base   *Base // old partitions for incremental updates; nil when none was given
}

// fsContainer lists the regular files of an fs.FS in lexical order. Paths get
// a leading "/" when the FS is a file-system image, so locations read like
// the device's own paths.
type fsContainer struct {
	fsys     fs.FS
	slash    bool
	maxFiles int
	closer   io.Closer
}

func (c *fsContainer) Members(ctx context.Context, fn func(Member) error) error {
	n := 0
	return fs.WalkDir(c.fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		if err != nil {
			// An unreadable directory is an error for that directory only.
			if p == "." {
				return err
			}
			return fn(Member{Path: c.hop(p), Open: func(context.Context) (io.ReaderAt, func(), error) { return nil, nil, err }})
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		n++
		if c.maxFiles > 0 && n > c.maxFiles {
			return fmtLimit("files in one image", c.maxFiles)
		}
		info, err := d.Info()
		if err != nil {
			return fn(Member{Path: c.hop(p), Open: func(context.Context) (io.ReaderAt, func(), error) { return nil, nil, err }})
		}
		name := p
		return fn(Member{Path: c.hop(p), Size: info.Size(), Open: func(context.Context) (io.ReaderAt, func(), error) {
			f, err := c.fsys.Open(name)
			if err != nil {
				return nil, nil, err
			}
			if ra, ok := f.(io.ReaderAt); ok {
				return ra, func() { f.Close() }, nil
			}
			st, serr := f.Stat()
			f.Close()
			if serr == nil && !st.Mode().IsRegular() {
				// The directory entry said "regular file" and the inode
				// says otherwise: the image contradicts itself.
				return nil, nil, &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("listed as a regular file but its inode is %v: %w", st.Mode().Type(), extract.ErrCorrupt)}
			}
			return nil, nil, &fs.PathError{Op: "open", Path: name, Err: extract.ErrUnsupported}
		}})
	})
}

func (c *fsContainer) hop(p string) string {
	if c.slash {
		return "/" + p
	}
	return p
}

func (c *fsContainer) Close() error {
	if c.closer != nil {
		return c.closer.Close()
	}
	return nil
}

// single is a container whose only member is its decoded self.
type single struct {
	r       io.ReaderAt
	size    int64
	release func()
}

func (s *single) Members(ctx context.Context, fn func(Member) error) error {
	return fn(Member{Size: s.size, Open: func(context.Context) (io.ReaderAt, func(), error) {
		return s.r, func() {}, nil
	}})
}

func (s *single) Close() error {
	if s.release != nil {
		s.release()
	}
	return nil
}

// sizedReaderAt is what in-place image readers offer.
type sizedReaderAt interface {
	io.ReaderAt
	Size() int64
}
