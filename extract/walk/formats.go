package walk

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/romscan/romscan/extract"
	"github.com/romscan/romscan/extract/blockota"
	"github.com/romscan/romscan/extract/erofs"
	"github.com/romscan/romscan/extract/ext4"
	"github.com/romscan/romscan/extract/payload"
	"github.com/romscan/romscan/extract/sparse"
	"github.com/romscan/romscan/extract/superimg"
)

// Formats lists every container format, in sniffing order: magic-byte
// formats first, name-only formats (brotli) last. No init() registration:
// what runs is listed here, and a test checks the names are unique.
func Formats() []Format {
	fs := []Format{
		sparseFormat{},
		payloadFormat{},
		superFormat{},
		ext4Format,
		erofsFormat,
		bootFormat{},
		vbmetaFormat{},
		zipFormat{},
		tarFormat{},
	}
	return append(fs, streamFormats()...)
}

// sparseFormat expands an Android sparse image in place through its chunk map.
type sparseFormat struct{}

func (sparseFormat) Name() string                        { return "sparse" }
func (sparseFormat) Sniff(head []byte, name string) bool { return sparse.Sniff(head) }
func (sparseFormat) Open(ctx context.Context, src Source, env *Env) (Container, error) {
	im, err := sparse.Open(src.R, src.Size)
	if err != nil {
		return nil, err
	}
	if im.HasChecksums() {
		return &verifiedSingle{single: single{r: im, size: im.Size()}, verify: im.Verify}, nil
	}
	return &single{r: im, size: im.Size()}, nil
}

// verifiedSingle is a single whose stored checksums are checked when it is
// listed: a mismatch is reported for the container, and its decoded self is
// still walked (the bytes may be worth a look; the report says they are
// corrupt). Only images that store checksums pay the extra read.
type verifiedSingle struct {
	single
	verify func(context.Context) error
}

func (s *verifiedSingle) Members(ctx context.Context, fn func(Member) error) error {
	if err := s.single.Members(ctx, fn); err != nil {
		return err
	}
	return s.verify(ctx)
}

// fsImageFormat lists a file-system image read in place (ext4, EROFS).
type fsImageFormat struct {
	name  string
	sniff func(head []byte) bool
	open  func(r io.ReaderAt, size int64, lim extract.Limits) (fs.FS, error)
}

func (f fsImageFormat) Name() string                        { return f.name }
func (f fsImageFormat) Sniff(head []byte, name string) bool { return f.sniff(head) }
func (f fsImageFormat) Open(ctx context.Context, src Source, env *Env) (Container, error) {
	fsys, err := f.open(src.R, src.Size, env.Limits)
	if err != nil {
		return nil, err
	}
	return &fsContainer{fsys: fsys, slash: true, maxFiles: env.Limits.MaxEntries}, nil
}

var (
	ext4Format = fsImageFormat{name: "ext4", sniff: ext4.Sniff, open: func(r io.ReaderAt, size int64, lim extract.Limits) (fs.FS, error) {
		return ext4.OpenLimits(r, size, lim)
	}}
	// EROFS, plain or LZ4-compressed.
	erofsFormat = fsImageFormat{name: "erofs", sniff: erofs.Sniff, open: func(r io.ReaderAt, size int64, lim extract.Limits) (fs.FS, error) {
		return erofs.Open(r, size)
	}}
)

// superFormat lists the logical partitions of a super.img.
type superFormat struct{}

func (superFormat) Name() string                        { return "super" }
func (superFormat) Sniff(head []byte, name string) bool { return superimg.Sniff(head) }
func (superFormat) Open(ctx context.Context, src Source, env *Env) (Container, error) {
	s, err := superimg.Open(src.R, src.Size)
	if err != nil {
		return nil, err
	}
	return &superContainer{s: s}, nil
}

type superContainer struct{ s *superimg.Super }

func (c *superContainer) Members(ctx context.Context, fn func(Member) error) error {
	for _, p := range c.s.Partitions() {
		if p.Size == 0 {
			continue // an empty slot (the other half of an A/B pair)
		}
		name := p.Name
		if err := fn(Member{Path: hopName(name), Size: p.Size, Open: func(context.Context) (io.ReaderAt, func(), error) {
			r, err := c.s.Open(name)
			if err != nil {
				return nil, nil, err
			}
			return r, func() {}, nil
		}}); err != nil {
			return err
		}
	}
	return nil
}

func (c *superContainer) Close() error { return nil }

// payloadFormat lists the partitions of an A/B OTA payload.bin.
type payloadFormat struct{}

func (payloadFormat) Name() string                        { return "payload" }
func (payloadFormat) Sniff(head []byte, name string) bool { return payload.Sniff(head) }
func (payloadFormat) Open(ctx context.Context, src Source, env *Env) (Container, error) {
	p, err := payload.Open(src.R, src.Size, env.Limits)
	if err != nil {
		return nil, err
	}
	return &payloadContainer{p: p, base: env.Base}, nil
}

type payloadContainer struct {
	p    *payload.Payload
	base *Base
}

func (c *payloadContainer) Members(ctx context.Context, fn func(Member) error) error {
	for _, pi := range c.p.Partitions() {
		name, incremental := pi.Name, pi.Incremental
		if err := fn(Member{Path: hopName(name), Size: pi.Size, Open: func(context.Context) (io.ReaderAt, func(), error) {
			var opts payload.OpenOptions
			if incremental {
				if c.base == nil {
					return nil, nil, fmt.Errorf("payload: partition %q is incremental (give the old ROM with --base): %w", name, extract.ErrNeedsBase)
				}
				old, err := c.base.Partition(name)
				if err != nil {
					return nil, nil, fmt.Errorf("payload: partition %q: %w", name, err)
				}
				// Verify the old bytes: a wrong base must fail, not yield garbage.
				opts = payload.OpenOptions{Base: old, Verify: true}
			}
			r, err := c.p.Open(name, opts)
			if err != nil {
				return nil, nil, err
			}
			return r, func() {}, nil
		}}); err != nil {
			return err
		}
	}
	return nil
}

func (c *payloadContainer) Close() error { return nil }

// hopName keeps an attacker-chosen partition name from forging location hops.
func hopName(s string) string {
	return strings.NewReplacer("!", "_", "/", "_", "\x00", "_").Replace(s)
}

// blockOTAMember turns a transfer list and its new.dat into the partition
// image. A plain new.dat is read in place; .br and .xz are decoded once.
func blockOTAMember(list, data Member, env *Env) Member {
	return Member{Path: data.Path, Size: data.Size, Open: func(ctx context.Context) (io.ReaderAt, func(), error) {
		lr, lrel, err := list.Open(ctx)
		if err != nil {
			return nil, nil, err
		}
		defer lrel()
		const maxList = 64 * extract.MiB
		if list.Size > maxList {
			return nil, nil, fmt.Errorf("block OTA: transfer list of %d bytes: %w", list.Size, extract.ErrLimit)
		}
		tl, err := blockota.ParseTransferList(io.NewSectionReader(lr, 0, list.Size), env.Limits)
		if err != nil {
			return nil, nil, err
		}
		dr, drel, err := data.Open(ctx)
		if err != nil {
			return nil, nil, err
		}
		size := data.Size
		var release func() = drel
		if sf, ok := streamFor(data.Path); ok {
			dec, err := sf.open(io.NewSectionReader(dr, 0, data.Size))
			if err != nil {
				drel()
				return nil, nil, fmt.Errorf("block OTA: %s: %w: %w", sf.name, extract.ErrCorrupt, err)
			}
			plain, prel, err := env.Spill.Decode(ctx, newRatioReader(dec, data.Size, env.Limits.MaxRatio), -1, env.Limits.MaxFileSize, data.Path)
			if c, ok := dec.(io.Closer); ok {
				c.Close()
			}
			drel()
			if err != nil {
				return nil, nil, fmt.Errorf("block OTA: %w", err)
			}
			dr, size, release = plain, plain.Size(), prel
		}
		im, err := blockota.NewImage(tl, dr, size)
		if err != nil {
			release()
			return nil, nil, err
		}
		return &sizedImage{im, im.Size()}, release, nil
	}}
}

type sizedImage struct {
	io.ReaderAt
	size int64
}

func (s *sizedImage) Size() int64 { return s.size }

// streamFor picks the stream decoder for a compressed new.dat by its name.
func streamFor(name string) (streamFormat, bool) {
	for _, f := range streamFormats() {
		sf := f.(streamFormat)
		if sf.ext != "" && strings.HasSuffix(name, sf.ext) {
			return sf, true
		}
		if sf.name == "xz" && strings.HasSuffix(name, ".xz") {
			return sf, true
		}
	}
	return streamFormat{}, false
}
