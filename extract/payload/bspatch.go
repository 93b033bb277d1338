package payload

import (
	"bytes"
	"compress/bzip2"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/andybalholm/brotli"

	"github.com/romscan/romscan/extract"
)

// bsdiff patch formats: the classic "BSDIFF40" (three bzip2 streams) and
// AOSP's "BSDF2", whose header names the compressor of each stream.
const (
	bsdiffMagic = "BSDIFF40"
	bsdf2Magic  = "BSDF2"
	bsdiffHdr   = 32

	compNone   = 0
	compBZ2    = 1
	compBrotli = 2
)

// maxIdleControls bounds consecutive control entries that produce no byte,
// so a patch cannot spin on an endless control stream.
const maxIdleControls = 1 << 16

// offtin decodes bsdiff's sign-and-magnitude little-endian int64.
func offtin(b []byte) int64 {
	v := binary.LittleEndian.Uint64(b)
	m := int64(v & (1<<63 - 1))
	if v>>63 != 0 {
		return -m
	}
	return m
}

// bsdiffStream opens one stream of a patch with its compressor.
func bsdiffStream(comp byte, b []byte) (io.Reader, error) {
	switch comp {
	case compNone:
		return bytes.NewReader(b), nil
	case compBZ2:
		return bzip2.NewReader(bytes.NewReader(b)), nil
	case compBrotli:
		return brotli.NewReader(bytes.NewReader(b)), nil
	}
	return nil, fmt.Errorf("bsdiff: stream compressor %d: %w", comp, extract.ErrUnsupported)
}

// bspatch applies a BSDIFF40 or BSDF2 patch to old, writing the new data into
// out; bytes of out past the patch's new size are zeroed. Old bytes outside
// old read as zero, as in bsdiff's reference bspatch.
func bspatch(old, patch, out []byte) error {
	if len(patch) < bsdiffHdr {
		return fmt.Errorf("bsdiff: patch of %d bytes is shorter than its header: %w", len(patch), extract.ErrCorrupt)
	}
	var comp [3]byte
	switch {
	case string(patch[:8]) == bsdiffMagic:
		comp = [3]byte{compBZ2, compBZ2, compBZ2}
	case string(patch[:5]) == bsdf2Magic:
		copy(comp[:], patch[5:8])
	default:
		return fmt.Errorf("bsdiff: magic %q: %w", patch[:8], extract.ErrCorrupt)
	}
	ctrlLen, diffLen, newSize := offtin(patch[8:16]), offtin(patch[16:24]), offtin(patch[24:32])
	rest := int64(len(patch) - bsdiffHdr)
	if ctrlLen < 0 || diffLen < 0 || ctrlLen > rest || diffLen > rest-ctrlLen {
		return fmt.Errorf("bsdiff: control (%d) and diff (%d) streams overrun the %d-byte patch: %w", ctrlLen, diffLen, len(patch), extract.ErrCorrupt)
	}
	if newSize < 0 || newSize > int64(len(out)) {
		return fmt.Errorf("bsdiff: new size %d for %d destination bytes: %w", newSize, len(out), extract.ErrCorrupt)
	}
	body := patch[bsdiffHdr:]
	ctrl, err := bsdiffStream(comp[0], body[:ctrlLen])
	if err != nil {
		return err
	}
	diff, err := bsdiffStream(comp[1], body[ctrlLen:ctrlLen+diffLen])
	if err != nil {
		return err
	}
	extra, err := bsdiffStream(comp[2], body[ctrlLen+diffLen:])
	if err != nil {
		return err
	}
	var entry [24]byte
	var newPos, oldPos int64
	oldLen := int64(len(old))
	idle := 0
	for newPos < newSize {
		if _, err := io.ReadFull(ctrl, entry[:]); err != nil {
			return fmt.Errorf("bsdiff: read control entry at new byte %d: %w", newPos, err)
		}
		x, y, z := offtin(entry[0:8]), offtin(entry[8:16]), offtin(entry[16:24])
		if x < 0 || y < 0 || x > newSize-newPos || y > newSize-newPos-x {
			return fmt.Errorf("bsdiff: control entry (%d, %d) overruns the new size %d at %d: %w", x, y, newSize, newPos, extract.ErrCorrupt)
		}
		if x == 0 && y == 0 {
			if idle++; idle > maxIdleControls {
				return fmt.Errorf("bsdiff: %d control entries without output: %w", idle, extract.ErrCorrupt)
			}
		} else {
			idle = 0
		}
		if _, err := io.ReadFull(diff, out[newPos:newPos+x]); err != nil {
			return fmt.Errorf("bsdiff: read %d diff bytes: %w", x, err)
		}
		// Add the old bytes that exist in [oldPos, oldPos+x).
		lo, hi := max(oldPos, 0), min(oldPos+x, oldLen)
		if lo < hi {
			d := out[newPos+(lo-oldPos) : newPos+(hi-oldPos)]
			o := old[lo:hi]
			for i := range d {
				d[i] += o[i]
			}
		}
		newPos += x
		oldPos += x
		if _, err := io.ReadFull(extra, out[newPos:newPos+y]); err != nil {
			return fmt.Errorf("bsdiff: read %d extra bytes: %w", y, err)
		}
		newPos += y
		// Keep oldPos far from overflow; beyond ±2^62 it can never meet old.
		if z > 1<<62 || z < -(1<<62) || oldPos+z > 1<<62 || oldPos+z < -(1<<62) {
			return fmt.Errorf("bsdiff: old offset %d moved by %d: %w", oldPos, z, extract.ErrCorrupt)
		}
		oldPos += z
	}
	clear(out[newSize:])
	return nil
}
