// Package sparse reads Android sparse images (the format written by img2simg
// and fastboot) in place: the chunk map is parsed once and reads of the
// expanded image are served from the underlying io.ReaderAt without copying.
package sparse

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"sort"

	"github.com/romscan/romscan/extract"
)

// Magic is the little-endian magic number at the start of a sparse image.
const Magic = 0xED26FF3A

// Chunk types.
const (
	ChunkRaw      = 0xCAC1
	ChunkFill     = 0xCAC2
	ChunkDontCare = 0xCAC3
	ChunkCRC32    = 0xCAC4
)

const (
	fileHeaderLen  = 28
	chunkHeaderLen = 12
	// maxBlockSize bounds the declared block size so sizes cannot overflow.
	maxBlockSize = 64 * extract.MiB
	// maxExpanded bounds the expanded image size (a sparse image of a
	// partition larger than this is not a phone partition).
	maxExpanded = 1 << 46
)

// Chunk is one entry of the chunk map, in expanded-image coordinates.
type Chunk struct {
	Type    uint16 // ChunkRaw, ChunkFill, ChunkDontCare or ChunkCRC32
	Start   int64  // offset in the expanded image
	Len     int64  // bytes in the expanded image (0 for ChunkCRC32)
	DataOff int64  // offset of the raw data in the sparse file (ChunkRaw)
	Value   uint32 // fill value (ChunkFill) or checksum (ChunkCRC32)
}

// Image is a parsed sparse image. It is safe for concurrent reads.
type Image struct {
	r         io.ReaderAt
	blockSize int64
	size      int64
	checksum  uint32
	chunks    []Chunk // data chunks and CRC32 chunks, in file order
	data      []int   // indexes into chunks of chunks with Len > 0, ascending Start
}

// Sniff reports whether head starts with the sparse image magic.
func Sniff(head []byte) bool {
	return len(head) >= 4 && binary.LittleEndian.Uint32(head) == Magic
}

// Open parses the sparse header and chunk map of r (size bytes long). It
// reads only headers; chunk data stays in r.
func Open(r io.ReaderAt, size int64) (*Image, error) {
	var h [fileHeaderLen]byte
	if size < fileHeaderLen {
		return nil, fmt.Errorf("sparse: header: %d bytes: %w", size, extract.ErrNotFormat)
	}
	if _, err := r.ReadAt(h[:], 0); err != nil {
		return nil, fmt.Errorf("sparse: read header: %w", err)
	}
	le := binary.LittleEndian
	if le.Uint32(h[0:]) != Magic {
		return nil, fmt.Errorf("sparse: magic %#x: %w", le.Uint32(h[0:]), extract.ErrNotFormat)
	}
	major := le.Uint16(h[4:])
	fileHdr := int64(le.Uint16(h[8:]))
	chunkHdr := int64(le.Uint16(h[10:]))
	blk := int64(le.Uint32(h[12:]))
	totalBlocks := int64(le.Uint32(h[16:]))
	totalChunks := int64(le.Uint32(h[20:]))
	switch {
	case major != 1:
		return nil, fmt.Errorf("sparse: major version %d: %w", major, extract.ErrUnsupported)
	case fileHdr < fileHeaderLen || fileHdr > size:
		return nil, fmt.Errorf("sparse: file header size %d: %w", fileHdr, extract.ErrCorrupt)
	case chunkHdr < chunkHeaderLen:
		return nil, fmt.Errorf("sparse: chunk header size %d: %w", chunkHdr, extract.ErrCorrupt)
	case blk == 0 || blk%4 != 0 || blk > maxBlockSize:
		return nil, fmt.Errorf("sparse: block size %d: %w", blk, extract.ErrCorrupt)
	case totalBlocks*blk > maxExpanded:
		return nil, fmt.Errorf("sparse: expanded size %d blocks of %d: %w", totalBlocks, blk, extract.ErrLimit)
	case totalChunks > (size-fileHdr)/chunkHdr:
		return nil, fmt.Errorf("sparse: %d chunks do not fit in %d bytes: %w", totalChunks, size, extract.ErrCorrupt)
	}
	im := &Image{r: r, blockSize: blk, size: totalBlocks * blk, checksum: le.Uint32(h[24:])}
	im.chunks = make([]Chunk, 0, totalChunks)
	off := fileHdr
	var out int64 // expanded offset
	ch := make([]byte, chunkHdr+4)
	for i := int64(0); i < totalChunks; i++ {
		if off+chunkHdr > size {
			return nil, fmt.Errorf("sparse: chunk %d header at %d past end %d: %w", i, off, size, extract.ErrCorrupt)
		}
		if _, err := r.ReadAt(ch[:chunkHdr], off); err != nil {
			return nil, fmt.Errorf("sparse: read chunk %d header at %d: %w", i, off, err)
		}
		typ := le.Uint16(ch[0:])
		nblk := int64(le.Uint32(ch[4:]))
		total := int64(le.Uint32(ch[8:]))
		if total < chunkHdr || off+total > size {
			return nil, fmt.Errorf("sparse: chunk %d at %d: total size %d out of bounds: %w", i, off, total, extract.ErrCorrupt)
		}
		body := total - chunkHdr
		c := Chunk{Type: typ, Start: out, Len: nblk * blk, DataOff: off + chunkHdr}
		want := int64(-1)
		switch typ {
		case ChunkRaw:
			want = nblk * blk
		case ChunkFill:
			want = 4
		case ChunkDontCare:
			want = 0
		case ChunkCRC32:
			want = 4
			c.Len = 0
		default:
			return nil, fmt.Errorf("sparse: chunk %d at %d: unknown type %#x: %w", i, off, typ, extract.ErrCorrupt)
		}
		if body != want {
			return nil, fmt.Errorf("sparse: chunk %d at %d (type %#x): body %d bytes, want %d: %w", i, off, typ, body, want, extract.ErrCorrupt)
		}
		if typ == ChunkFill || typ == ChunkCRC32 {
			if _, err := r.ReadAt(ch[:4], off+chunkHdr); err != nil {
				return nil, fmt.Errorf("sparse: read chunk %d value at %d: %w", i, off+chunkHdr, err)
			}
			c.Value = le.Uint32(ch[:4])
		}
		if out+c.Len > im.size {
			return nil, fmt.Errorf("sparse: chunk %d at %d: ends at block %d, past %d total blocks: %w",
				i, off, (out+c.Len)/blk, totalBlocks, extract.ErrCorrupt)
		}
		out += c.Len
		if c.Len > 0 {
			im.data = append(im.data, len(im.chunks))
		}
		im.chunks = append(im.chunks, c)
		off += total
	}
	return im, nil
}

// Size returns the size of the expanded image in bytes.
func (im *Image) Size() int64 { return im.size }

// BlockSize returns the block size declared in the header.
func (im *Image) BlockSize() int64 { return im.blockSize }

// Chunks returns a copy of the chunk map in file order.
func (im *Image) Chunks() []Chunk { return append([]Chunk(nil), im.chunks...) }

// ReadAt reads the expanded image. DONT_CARE chunks and blocks past the last
// chunk read as zeros; FILL chunks repeat their 4-byte value.
func (im *Image) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("sparse: read at %d: negative offset", off)
	}
	if off >= im.size {
		return 0, io.EOF
	}
	var eof error
	if rem := im.size - off; int64(len(p)) > rem {
		p = p[:rem]
		eof = io.EOF
	}
	// First data chunk ending after off.
	i := sort.Search(len(im.data), func(i int) bool {
		c := &im.chunks[im.data[i]]
		return c.Start+c.Len > off
	})
	n := 0
	for n < len(p) {
		pos := off + int64(n)
		if i >= len(im.data) {
			clear(p[n:])
			n = len(p)
			break
		}
		c := &im.chunks[im.data[i]]
		if pos < c.Start { // gap before the chunk: zeros
			k := min(int64(len(p)-n), c.Start-pos)
			clear(p[n : n+int(k)])
			n += int(k)
			continue
		}
		rel := pos - c.Start
		k := int(min(int64(len(p)-n), c.Len-rel))
		dst := p[n : n+k]
		switch c.Type {
		case ChunkRaw:
			m, err := im.r.ReadAt(dst, c.DataOff+rel)
			if m < k {
				if err == nil || errors.Is(err, io.EOF) {
					err = io.ErrUnexpectedEOF
				}
				return n + m, fmt.Errorf("sparse: read raw chunk at %d: %w", c.DataOff+rel, err)
			}
		case ChunkFill:
			var v [4]byte
			binary.LittleEndian.PutUint32(v[:], c.Value)
			for j := range dst {
				dst[j] = v[(rel+int64(j))&3]
			}
		default:
			clear(dst)
		}
		n += k
		i++
	}
	return n, eof
}

// HasChecksums reports whether the image stores a checksum (a CRC32 chunk
// or the header's image checksum) for Verify to check.
func (im *Image) HasChecksums() bool {
	if im.checksum != 0 {
		return true
	}
	for _, c := range im.chunks {
		if c.Type == ChunkCRC32 {
			return true
		}
	}
	return false
}

// Verify expands the whole image and checks it against every CRC32 chunk
// (a running checksum of the image up to that chunk) and against the header
// checksum when it is set. A mismatch is an error wrapping extract.ErrCorrupt.
func (im *Image) Verify(ctx context.Context) error {
	buf := make([]byte, min(im.size, 1*extract.MiB)+1)
	var crc uint32
	var pos int64
	checked := 0
	advance := func(to int64) error {
		for pos < to {
			if err := ctx.Err(); err != nil {
				return err
			}
			k := min(int64(len(buf)), to-pos)
			n, err := im.ReadAt(buf[:k], pos)
			if int64(n) < k {
				return fmt.Errorf("sparse: verify: read at %d: %w", pos, err)
			}
			crc = crc32.Update(crc, crc32.IEEETable, buf[:k])
			pos += k
		}
		return nil
	}
	for i, c := range im.chunks {
		if err := advance(c.Start); err != nil {
			return err
		}
		if c.Type != ChunkCRC32 {
			continue
		}
		checked++
		if crc != c.Value {
			return fmt.Errorf("sparse: verify: chunk %d: CRC32 %#08x of the first %d bytes does not match the stored %#08x: %w",
				i, crc, pos, c.Value, extract.ErrCorrupt)
		}
	}
	if err := advance(im.size); err != nil {
		return err
	}
	if im.checksum != 0 && crc != im.checksum {
		return fmt.Errorf("sparse: verify: image CRC32 %#08x does not match the header checksum %#08x: %w",
			crc, im.checksum, extract.ErrCorrupt)
	}
	return nil
}
