// Package extract opens the containers that Android firmware and apps ship in
// (zip, tar, sparse, block OTA, ext4, EROFS, super.img, payload.bin, ...) as
// layered readers, so a file deep inside a ROM is read in place at offsets.
package extract

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"strings"
)

// Sentinel errors shared by every format. Wrap them with the operation and
// the location: fmt.Errorf("ext4: read inode %d in %q: %w", ino, loc, ErrCorrupt).
var (
	// ErrNotFormat says the bytes are not of this format; the next format may try.
	ErrNotFormat = errors.New("not this format")
	// ErrCorrupt says the bytes claim to be of this format but are malformed.
	ErrCorrupt = errors.New("corrupt data")
	// ErrLimit says a configured bound (size, depth, entries, ratio) was hit.
	ErrLimit = errors.New("limit exceeded")
	// ErrUnsupported says the format is recognised but this variant or feature is not read.
	ErrUnsupported = errors.New("unsupported")
	// ErrNeedsBase says an incremental update needs the previous image to be applied.
	ErrNeedsBase = errors.New("needs base image")
)

// HasSentinel reports whether err wraps one of the sentinels above: every
// parser error on bad input must, so the scan can say why a file was skipped
// (the fuzz targets check it).
func HasSentinel(err error) bool {
	for _, s := range []error{ErrNotFormat, ErrCorrupt, ErrLimit, ErrUnsupported, ErrNeedsBase} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// Size units, named so limits read as what they mean.
const (
	KiB int64 = 1 << 10
	MiB int64 = 1 << 20
	GiB int64 = 1 << 30
)

// Limits bound what a walk through nested containers may cost. A limit hit is
// an error for that file only; the walk goes on with the rest. A zero (or
// negative) field means its default, never "no limit" nor "nothing": see
// WithDefaults.
type Limits struct {
	MaxDepth      int     // containers nested inside each other
	MaxEntries    int     // members listed in one container
	MaxFileSize   int64   // declared or decoded size of one member
	MaxTotalBytes int64   // bytes decoded across the whole scan
	MaxRatio      float64 // decoded size / stored size of one compressed member
	MaxSpillBytes int64   // bytes written to the scan's temp dir for sequential-only formats
}

// DefaultLimits are sized for stock ROMs (a few GiB of partitions) on a
// machine with a few GiB of memory and disk to spare.
func DefaultLimits() Limits {
	return Limits{
		MaxDepth:      16,
		MaxEntries:    1_000_000,
		MaxFileSize:   16 * GiB,
		MaxTotalBytes: 256 * GiB,
		MaxRatio:      1000,
		MaxSpillBytes: 32 * GiB,
	}
}

// WithDefaults returns l with every zero or negative field set to its
// DefaultLimits value, so that every check reads a limit the same way.
func (l Limits) WithDefaults() Limits {
	d := DefaultLimits()
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = d.MaxEntries
	}
	if l.MaxFileSize <= 0 {
		l.MaxFileSize = d.MaxFileSize
	}
	if l.MaxTotalBytes <= 0 {
		l.MaxTotalBytes = d.MaxTotalBytes
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = d.MaxRatio
	}
	if l.MaxSpillBytes <= 0 {
		l.MaxSpillBytes = d.MaxSpillBytes
	}
	return l
}

// ReaderAtFile is an fs.File whose bytes can also be read at offsets. Every
// regular file opened from a container FS implements it, so nested containers
// are read in place.
type ReaderAtFile interface {
	fs.File
	io.ReaderAt
}

// Location is the chain of containers down to a file, printed with "!"
// between hops: "rom.zip!system.img!/system/priv-app/Foo/Foo.apk!classes.dex".
// It never holds a temp path, so it is stable between scans.
type Location []string

// String joins the hops with "!".
func (l Location) String() string { return strings.Join(l, "!") }

// Append returns a new Location with hop added; l is not modified.
func (l Location) Append(hop string) Location {
	out := make(Location, len(l), len(l)+1)
	copy(out, l)
	return append(out, hop)
}

// ParseLocation splits a printed location back into hops.
func ParseLocation(s string) Location {
	if s == "" {
		return nil
	}
	return strings.Split(s, "!")
}

// ContextReader returns a reader that stops with ctx's error once ctx is
// done, so a long copy or decode ends promptly on Ctrl-C or a timeout.
func ContextReader(ctx context.Context, r io.Reader) io.Reader { return &ctxReader{ctx, r} }

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
