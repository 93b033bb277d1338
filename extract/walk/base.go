package walk

import (
	"archive/zip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/romscan/romscan/extract"
	"github.com/romscan/romscan/extract/payload"
	"github.com/romscan/romscan/extract/sparse"
	"github.com/romscan/romscan/extract/superimg"
)

// Base finds the old partitions that an incremental update is applied to:
// a folder of partition images (<name>.img, sparse or raw), a full
// payload.bin or an OTA zip holding one stored, or a super.img.
type Base struct {
	path string

	once  sync.Once
	err   error
	files []*os.File
	find  func(name string) (io.ReaderAt, error)
}

// NewBase returns a Base over path; nothing is opened until a partition is asked for.
func NewBase(path string) *Base { return &Base{path: path} }

// Partition returns the old partition called name (slot suffixes _a/_b are tried too).
func (b *Base) Partition(name string) (io.ReaderAt, error) {
	b.once.Do(b.open)
	if b.err != nil {
		return nil, b.err
	}
	for _, n := range []string{name, name + "_a", strings.TrimSuffix(strings.TrimSuffix(name, "_a"), "_b")} {
		if r, err := b.find(n); err == nil {
			return r, nil
		}
	}
	return nil, fmt.Errorf("base %s: no partition %q: %w", filepath.Base(b.path), name, extract.ErrNeedsBase)
}

// Close releases the files the base opened.
func (b *Base) Close() error {
	for _, f := range b.files {
		f.Close()
	}
	return nil
}

func (b *Base) open() {
	st, err := os.Stat(b.path)
	if err != nil {
		b.err = fmt.Errorf("base: %w", err)
		return
	}
	if st.IsDir() {
		b.find = b.fromDir
		return
	}
	f, err := os.Open(b.path)
	if err != nil {
		b.err = fmt.Errorf("base: %w", err)
		return
	}
	b.files = append(b.files, f)
	r, size := io.ReaderAt(f), st.Size()
	head := make([]byte, min(size, headSize))
	f.ReadAt(head, 0)
	if isZip(head) {
		// An OTA zip: payload.bin must be stored to be read in place.
		zr, err := zip.NewReader(f, size)
		if err != nil {
			b.err = fmt.Errorf("base: %w", err)
			return
		}
		for _, zf := range zr.File {
			if zf.Name == "payload.bin" && zf.Method == zip.Store {
				off, err := zf.DataOffset()
				if err != nil {
					b.err = fmt.Errorf("base: %w", err)
					return
				}
				r, size = io.NewSectionReader(f, off, int64(zf.UncompressedSize64)), int64(zf.UncompressedSize64)
				r.ReadAt(head[:min(int64(len(head)), size)], 0)
				break
			}
		}
	}
	switch {
	case payload.Sniff(head):
		p, err := payload.Open(r, size, extract.DefaultLimits())
		if err != nil {
			b.err = fmt.Errorf("base: %w", err)
			return
		}
		b.find = func(name string) (io.ReaderAt, error) { return p.Open(name, payload.OpenOptions{}) }
	case superimg.Sniff(head):
		s, err := superimg.Open(r, size)
		if err != nil {
			b.err = fmt.Errorf("base: %w", err)
			return
		}
		b.find = func(name string) (io.ReaderAt, error) { return s.Open(name) }
	default:
		b.err = fmt.Errorf("base %s: not a folder of images, a payload or a super image: %w", filepath.Base(b.path), extract.ErrUnsupported)
	}
}

// fromDir opens <name>.img in the base folder, expanding a sparse image.
func (b *Base) fromDir(name string) (io.ReaderAt, error) {
	if name == "" || strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return nil, fmt.Errorf("base: bad partition name %q", name)
	}
	f, err := os.Open(filepath.Join(b.path, name+".img"))
	if err != nil {
		return nil, err
	}
	b.files = append(b.files, f)
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	head := make([]byte, min(st.Size(), 64))
	f.ReadAt(head, 0)
	if sparse.Sniff(head) {
		return sparse.Open(f, st.Size())
	}
	return f, nil
}
