package walk

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/bzip2"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/google/brotli/go/cbrotli"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"

	"github.com/romscan/romscan/extract"
)

// streamFormat is a compressed stream: it can only be read in order, so it
// is decoded once (to memory when small, else to the spill dir) and then
// read at offsets as its decoded self.
type streamFormat struct {
	name  string
	magic []byte
	ext   string // by name only when the format has no magic (brotli)
	open  func(io.Reader) (io.Reader, error)
}

func (s streamFormat) Name() string { return s.name }

func (s streamFormat) Sniff(head []byte, name string) bool {
	if s.magic != nil {
		return bytes.HasPrefix(head, s.magic)
	}
	return strings.HasSuffix(strings.ToLower(name), s.ext)
}

func (s streamFormat) Open(ctx context.Context, src Source, env *Env) (Container, error) {
	dec, err := s.open(io.NewSectionReader(src.R, 0, src.Size))
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %w", s.name, extract.ErrCorrupt, err)
	}
	if c, ok := dec.(io.Closer); ok {
		defer c.Close()
	}
	r := newRatioReader(dec, src.Size, env.Limits.MaxRatio)
	ra, release, err := env.Spill.Decode(ctx, r, -1, env.Limits.MaxFileSize, src.Loc.String())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.name, err)
	}
	return &single{r: ra, size: ra.Size(), release: release}, nil
}

func streamFormats() []Format {
	return []Format{
		streamFormat{name: "gzip", magic: []byte{0x1f, 0x8b}, open: func(r io.Reader) (io.Reader, error) {
			return gzip.NewReader(r)
		}},
		streamFormat{name: "xz", magic: []byte{0xfd, '7', 'z', 'X', 'Z', 0}, open: func(r io.Reader) (io.Reader, error) {
			// ulikunitz/xz reads its input in tiny pieces: unbuffered over a
			// SectionReader it decodes about 8x slower.
			return xz.NewReader(bufio.NewReaderSize(r, int(64*extract.KiB)))
		}},
		streamFormat{name: "bzip2", magic: []byte("BZh"), open: func(r io.Reader) (io.Reader, error) {
			return bzip2.NewReader(r), nil
		}},
		streamFormat{name: "zstd", magic: []byte{0x28, 0xb5, 0x2f, 0xfd}, open: func(r io.Reader) (io.Reader, error) {
			d, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(uint64(extract.GiB)))
			if err != nil {
				return nil, err
			}
			return d.IOReadCloser(), nil
		}},
		streamFormat{name: "lz4", magic: []byte{0x04, 0x22, 0x4d, 0x18}, open: func(r io.Reader) (io.Reader, error) {
			return lz4.NewReader(r), nil
		}},
		// Brotli through the C library (Debian's libbrotli-dev): block OTAs
		// are brotli streams, and the pure-Go decoder runs at about 40 % of
		// the C one, which is the ceiling of a block-OTA scan.
		streamFormat{name: "brotli", ext: ".br", open: func(r io.Reader) (io.Reader, error) {
			return cbrotli.NewReader(r), nil
		}},
	}
}

// tarFormat reads tar archives (fastboot packages, Samsung tar.md5) in
// place: each member is a section of the archive.
type tarFormat struct{}

func (tarFormat) Name() string { return "tar" }

func (tarFormat) Sniff(head []byte, name string) bool {
	return len(head) >= 262 && bytes.Equal(head[257:262], []byte("ustar"))
}

func (tarFormat) Open(ctx context.Context, src Source, env *Env) (Container, error) {
	return &tarContainer{src: src}, nil
}

type tarContainer struct{ src Source }

func (c *tarContainer) Members(ctx context.Context, fn func(Member) error) error {
	sr := io.NewSectionReader(c.src.R, 0, c.src.Size)
	tr := tar.NewReader(sr)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("tar: %w: %w", extract.ErrCorrupt, err)
		}
		if hdr.Typeflag != tar.TypeReg { // Next reports the old TypeRegA as TypeReg
			continue
		}
		// tar.Reader reads whole 512-byte blocks and seeks over data, so the
		// position right after Next is where this member's data starts.
		off, err := sr.Seek(0, io.SeekCurrent)
		if err != nil {
			return err
		}
		size := hdr.Size
		if size < 0 || off+size > c.src.Size {
			return fmt.Errorf("tar: member %q runs past the end of the archive: %w", hdr.Name, extract.ErrCorrupt)
		}
		name := strings.TrimPrefix(hdr.Name, "./")
		if err := fn(Member{Path: name, Size: size, Open: func(context.Context) (io.ReaderAt, func(), error) {
			return io.NewSectionReader(c.src.R, off, size), func() {}, nil
		}}); err != nil {
			return err
		}
	}
}

func (c *tarContainer) Close() error { return nil }
