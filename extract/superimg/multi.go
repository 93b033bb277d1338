package superimg

import (
	"errors"
	"fmt"
	"io"
)

// Part is one piece of a split image for MultiReaderAt.
type Part struct {
	R    io.ReaderAt
	Size int64
}

// MultiReaderAt is the concatenation of several io.ReaderAts, as for a super
// image shipped split into super.img.0 .. super.img.N.
type MultiReaderAt struct {
	parts  []Part
	starts []int64
	size   int64
}

// NewMultiReaderAt concatenates parts in order. Sizes must not be negative.
func NewMultiReaderAt(parts ...Part) (*MultiReaderAt, error) {
	m := &MultiReaderAt{}
	for i, p := range parts {
		if p.Size < 0 || p.Size > (1<<62)-m.size {
			return nil, fmt.Errorf("superimg: multi reader: part %d size %d", i, p.Size)
		}
		m.parts = append(m.parts, p)
		m.starts = append(m.starts, m.size)
		m.size += p.Size
	}
	return m, nil
}

// Size returns the total size.
func (m *MultiReaderAt) Size() int64 { return m.size }

// ReadAt implements io.ReaderAt across part boundaries.
func (m *MultiReaderAt) ReadAt(b []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("superimg: multi reader: negative offset %d", off)
	}
	n := 0
	for i, p := range m.parts {
		if n == len(b) {
			break
		}
		start := m.starts[i]
		if off >= start+p.Size {
			continue
		}
		rel := off - start
		chunk := b[n:]
		if int64(len(chunk)) > p.Size-rel {
			chunk = chunk[:p.Size-rel]
		}
		k, err := p.R.ReadAt(chunk, rel)
		n += k
		off += int64(k)
		if k < len(chunk) {
			if err == nil || errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return n, fmt.Errorf("superimg: multi reader: part %d: %w", i, err)
		}
	}
	if n < len(b) {
		return n, io.EOF
	}
	return n, nil
}
