package walk

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"github.com/romscan/romscan/extract"
)

// memoryThreshold is the largest decoded member kept in memory; larger ones
// spill to the scan's temp dir. APKs and DEX files are mostly below it.
const memoryThreshold = 64 * extract.MiB

// Spiller owns the per-scan temp dir for formats that can only be read
// sequentially (a brotli stream, a deflated zip member). The dir is created
// lazily and always removed by Close.
type Spiller struct {
	Max int64 // bytes that may be written in all

	mu      sync.Mutex
	dir     string
	used    atomic.Int64
	written atomic.Int64
}

// Written reports how many bytes were ever spilled to disk (for tests and stats).
func (s *Spiller) Written() int64 { return s.written.Load() }

func (s *Spiller) tempDir() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dir == "" {
		d, err := os.MkdirTemp("", "romscan-spill-")
		if err != nil {
			return "", fmt.Errorf("spill: create temp dir: %w", err)
		}
		s.dir = d
	}
	return s.dir, nil
}

// Close removes the temp dir and everything in it.
func (s *Spiller) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dir == "" {
		return nil
	}
	err := os.RemoveAll(s.dir)
	s.dir = ""
	return err
}

// Decode reads r (a sequential decoder) fully, up to maxSize bytes, into
// memory when small or a temp file otherwise, and returns a ReaderAt over
// the result and a release func that frees it. sizeHint < 0 means unknown.
func (s *Spiller) Decode(ctx context.Context, r io.Reader, sizeHint, maxSize int64, what string) (sizedReaderAt, func(), error) {
	r = extract.ContextReader(ctx, corruptReader{r})
	if sizeHint >= 0 && sizeHint > maxSize {
		return nil, nil, fmt.Errorf("decode %s: declared size %d over the %d-byte limit (raise --max-file-size): %w", what, sizeHint, maxSize, extract.ErrLimit)
	}
	if sizeHint >= 0 && sizeHint <= memoryThreshold || sizeHint < 0 {
		// Read into memory up to the threshold; spill only if it keeps going.
		// Read into memory up to the threshold, growing as data arrives
		// (never by doubling past it), and spill only if it keeps going.
		var buf []byte
		if sizeHint > 0 {
			buf = make([]byte, 0, sizeHint+1)
		}
		for len(buf) <= int(memoryThreshold) {
			if len(buf) == cap(buf) {
				grow := max(cap(buf), 64*1024)
				if cap(buf)+grow > int(memoryThreshold)+1 {
					grow = int(memoryThreshold) + 1 - cap(buf)
				}
				buf = append(buf, make([]byte, grow)...)[:len(buf)]
			}
			n, err := r.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			if maxSize > 0 && int64(len(buf)) > maxSize {
				// The per-file limit holds in memory too, not only once spilled.
				return nil, nil, fmt.Errorf("decode %s: %d bytes decoded, over the %d-byte limit (raise --max-file-size): %w", what, len(buf), maxSize, extract.ErrLimit)
			}
			if err == io.EOF {
				return bytes.NewReader(buf), func() {}, nil
			}
			if err != nil {
				return nil, nil, fmt.Errorf("decode %s: %w", what, err)
			}
		}
		return s.spill(io.MultiReader(bytes.NewReader(buf), r), maxSize, what)
	}
	return s.spill(r, maxSize, what)
}

func (s *Spiller) spill(r io.Reader, maxSize int64, what string) (sizedReaderAt, func(), error) {
	dir, err := s.tempDir()
	if err != nil {
		return nil, nil, err
	}
	f, err := os.CreateTemp(dir, "member-")
	if err != nil {
		return nil, nil, fmt.Errorf("spill %s: %w", what, err)
	}
	release := func() {
		name := f.Name()
		f.Close()
		os.Remove(name)
	}
	lim := maxSize
	if room := s.Max - s.used.Load(); room < lim {
		lim = room
	}
	n, err := io.Copy(f, io.LimitReader(r, lim+1))
	s.used.Add(n)
	s.written.Add(n)
	if err == nil && n > lim {
		err = fmt.Errorf("%d bytes decoded, over the limit of %d (file size or spill limit; raise --max-file-size or --max-spill): %w", n, lim, extract.ErrLimit)
	}
	if err != nil {
		s.used.Add(-n)
		release()
		return nil, nil, fmt.Errorf("spill %s: %w", what, err)
	}
	st, err := f.Stat()
	if err != nil {
		release()
		return nil, nil, fmt.Errorf("spill %s: %w", what, err)
	}
	return &fileReaderAt{f: f, size: st.Size()}, func() { s.used.Add(-n); release() }, nil
}

type fileReaderAt struct {
	f    *os.File
	size int64
}

func (f *fileReaderAt) ReadAt(p []byte, off int64) (int, error) { return f.f.ReadAt(p, off) }
func (f *fileReaderAt) Size() int64                             { return f.size }

// corruptReader marks a decoder's own errors (flate: corrupt input, zip:
// checksum error, unexpected EOF) as extract.ErrCorrupt, so a bad member is
// reported with a reason; limit errors already carry their sentinel.
type corruptReader struct{ r io.Reader }

func (c corruptReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err != nil && err != io.EOF && !extract.HasSentinel(err) {
		err = fmt.Errorf("%w: %w", extract.ErrCorrupt, err)
	}
	return n, err
}

// ratioReader fails once the decoded bytes exceed ratio × stored bytes,
// stopping decompression bombs early.
type ratioReader struct {
	r      io.Reader
	max    int64
	n      int64
	stored int64
	ratio  float64
}

func (r *ratioReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.n += int64(n)
	if r.max > 0 && r.n > r.max {
		return n, fmt.Errorf("decompressed %d bytes from %d stored, over the ratio limit %.0f (raise --max-ratio): %w", r.n, r.stored, r.ratio, extract.ErrLimit)
	}
	return n, err
}

func newRatioReader(r io.Reader, stored int64, ratio float64) io.Reader {
	if ratio <= 0 {
		return r
	}
	floor := 16 * extract.MiB // tiny members may legitimately compress very well
	max := int64(float64(stored) * ratio)
	if max < floor {
		max = floor
	}
	return &ratioReader{r: r, max: max, stored: stored, ratio: ratio}
}

func fmtLimit(what string, n int) error {
	return fmt.Errorf("more than %d %s (raise --max-entries): %w", n, what, extract.ErrLimit)
}
