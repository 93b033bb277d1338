package payload

import (
	"bytes"
	"compress/bzip2"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"sync"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz/lzma"

	"github.com/romscan/romscan/extract"
)

// decode produces the full output of a compressed or bsdiff operation:
// exactly o.dstLen bytes, zero-padded when the data decodes to fewer.
func (r *PartitionReader) decode(o *opInfo) ([]byte, error) {
	blob := make([]byte, o.dataLen)
	if n, err := r.p.r.ReadAt(blob, o.dataOff); int64(n) < o.dataLen {
		return nil, fmt.Errorf("%s: read data: %w", r.where(o), errors.Join(extract.ErrCorrupt, err))
	}
	if r.verify && len(o.dataHash) > 0 {
		if sum := sha256.Sum256(blob); !bytes.Equal(sum[:], o.dataHash) {
			return nil, fmt.Errorf("%s: data SHA-256 %x, manifest says %x: %w", r.where(o), sum, o.dataHash, extract.ErrCorrupt)
		}
	}
	out := make([]byte, o.dstLen)
	var err error
	switch o.typ {
	case OpReplaceBZ:
		err = readInto(bzip2.NewReader(bytes.NewReader(blob)), out)
	case OpReplaceXZ:
		err = unxz(blob, out)
	case OpReplaceZstd:
		err = unzstd(blob, out)
	case OpSourceBsdiff, OpBrotliBsdiff:
		old := make([]byte, o.srcLen)
		if err := r.readSource(o, 0, old); err != nil {
			return nil, err
		}
		if r.verify && len(o.srcHash) > 0 {
			sum := sha256.Sum256(old)
			if err := r.compareSource(o, sum[:]); err != nil {
				return nil, err
			}
		}
		err = bspatch(old, blob, out)
	default:
		err = fmt.Errorf("cannot decode: %w", extract.ErrUnsupported)
	}
	if err != nil {
		if !errors.Is(err, extract.ErrCorrupt) && !errors.Is(err, extract.ErrUnsupported) && !errors.Is(err, extract.ErrLimit) {
			err = fmt.Errorf("%w: %w", extract.ErrCorrupt, err)
		}
		return nil, fmt.Errorf("%s: %w", r.where(o), err)
	}
	return out, nil
}

// errTooLong says data decoded to more bytes than its destination extents.
var errTooLong = fmt.Errorf("decodes to more bytes than its destination extents: %w", extract.ErrCorrupt)

// readInto reads rd into out, leaving the tail zero when rd is shorter, and
// fails when rd holds more than len(out) bytes.
func readInto(rd io.Reader, out []byte) error {
	n, err := io.ReadFull(rd, out)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		clear(out[n:])
		return nil
	case err != nil:
		return err
	}
	var one [1]byte
	for {
		k, err := rd.Read(one[:])
		if k > 0 {
			return errTooLong
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

var zstdDecoder = sync.OnceValues(func() (*zstd.Decoder, error) {
	return zstd.NewReader(nil,
		zstd.WithDecodeAllCapLimit(true),
		zstd.WithDecoderMaxWindow(uint64(128*extract.MiB)),
		zstd.WithDecoderMaxMemory(uint64(maxOpBytes)))
})

// unzstd decodes zstd frames into out, refusing more than len(out) bytes.
func unzstd(blob, out []byte) error {
	dec, err := zstdDecoder()
	if err != nil {
		return err
	}
	got, err := dec.DecodeAll(blob, out[:0])
	if err != nil {
		if errors.Is(err, zstd.ErrDecoderSizeExceeded) {
			return errTooLong
		}
		return fmt.Errorf("zstd: %w", err)
	}
	if len(got) > len(out) {
		return errTooLong
	}
	if len(got) > 0 && &got[0] != &out[0] {
		copy(out, got)
	}
	return nil
}

var xzMagic = []byte{0xFD, '7', 'z', 'X', 'Z', 0x00}

// unxzPure decodes an xz stream into out. It parses the container itself so the
// LZMA2 dictionary is sized by the output (never by a declared dictionary
// of up to 4 GiB), and checks each block's CRC32, CRC64 or SHA-256.
// Concatenated streams and the index after the blocks are not read.
func unxzPure(blob, out []byte) error {
	if len(blob) < 12 || !bytes.Equal(blob[:6], xzMagic) {
		return fmt.Errorf("xz: bad stream header: %w", extract.ErrCorrupt)
	}
	if crc32.ChecksumIEEE(blob[6:8]) != binary.LittleEndian.Uint32(blob[8:12]) {
		return fmt.Errorf("xz: stream header CRC32 mismatch: %w", extract.ErrCorrupt)
	}
	if blob[6] != 0 || blob[7]&0xF0 != 0 {
		return fmt.Errorf("xz: stream flags %#x %#x: %w", blob[6], blob[7], extract.ErrUnsupported)
	}
	check := blob[7]
	checkSize := 0
	if check != 0 {
		checkSize = 4 << ((check - 1) / 3)
	}
	pos, n := 12, 0
	for {
		if pos >= len(blob) {
			return fmt.Errorf("xz: stream ends without an index: %w", extract.ErrCorrupt)
		}
		if blob[pos] == 0 {
			clear(out[n:])
			return nil
		}
		hsize := (int(blob[pos]) + 1) * 4
		if hsize > len(blob)-pos {
			return fmt.Errorf("xz: block header past the data end: %w", extract.ErrCorrupt)
		}
		h := blob[pos : pos+hsize]
		if crc32.ChecksumIEEE(h[:hsize-4]) != binary.LittleEndian.Uint32(h[hsize-4:]) {
			return fmt.Errorf("xz: block header CRC32 mismatch: %w", extract.ErrCorrupt)
		}
		csize, usize, dictCap, err := parseXZBlockHeader(h[:hsize-4])
		if err != nil {
			return err
		}
		pos += hsize
		start := n
		dc := max(min(dictCap, int64(len(out)-n)), lzma.MinDictCap)
		src := bytes.NewReader(blob[pos:])
		lr, err := lzma.Reader2Config{DictCap: int(dc)}.NewReader2(src)
		if err != nil {
			return fmt.Errorf("xz: %w", err)
		}
		k, err := io.ReadFull(lr, out[n:])
		n += k
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
		case err != nil:
			return fmt.Errorf("xz: %w", err)
		default:
			var one [1]byte
			if k, err := lr.Read(one[:]); k > 0 {
				return errTooLong
			} else if err != io.EOF {
				return fmt.Errorf("xz: %w", err)
			}
		}
		consumed := len(blob) - pos - src.Len()
		if csize >= 0 && int64(consumed) != csize {
			return fmt.Errorf("xz: block of %d compressed bytes, header says %d: %w", consumed, csize, extract.ErrCorrupt)
		}
		if usize >= 0 && int64(n-start) != usize {
			return fmt.Errorf("xz: block of %d bytes, header says %d: %w", n-start, usize, extract.ErrCorrupt)
		}
		pos += consumed
		pad := (4 - (hsize+consumed)%4) % 4
		if pad+checkSize > len(blob)-pos {
			return fmt.Errorf("xz: block check past the data end: %w", extract.ErrCorrupt)
		}
		for _, c := range blob[pos : pos+pad] {
			if c != 0 {
				return fmt.Errorf("xz: non-zero block padding: %w", extract.ErrCorrupt)
			}
		}
		pos += pad
		var hh hash.Hash
		switch check {
		case 0x01:
			hh = crc32.NewIEEE()
		case 0x04:
			hh = crc64.New(crc64Table)
		case 0x0A:
			hh = sha256.New()
		}
		if hh != nil {
			hh.Write(out[start:n])
			sum := hh.Sum(nil)
			if check != 0x0A {
				// CRC32 and CRC64 are stored little-endian.
				for i, j := 0, len(sum)-1; i < j; i, j = i+1, j-1 {
					sum[i], sum[j] = sum[j], sum[i]
				}
			}
			if !bytes.Equal(sum, blob[pos:pos+checkSize]) {
				return fmt.Errorf("xz: block check mismatch: %w", extract.ErrCorrupt)
			}
		}
		pos += checkSize
	}
}

var crc64Table = crc64.MakeTable(crc64.ECMA)

// parseXZBlockHeader reads an xz block header (without its CRC32). Only a
// single LZMA2 filter is accepted: it is what update_engine writes.
func parseXZBlockHeader(h []byte) (csize, usize, dictCap int64, err error) {
	csize, usize = -1, -1
	if len(h) < 2 {
		return 0, 0, 0, fmt.Errorf("xz: short block header: %w", extract.ErrCorrupt)
	}
	flags := h[1]
	if flags&0x3C != 0 {
		return 0, 0, 0, fmt.Errorf("xz: reserved block flags %#x: %w", flags, extract.ErrCorrupt)
	}
	if flags&0x03 != 0 {
		return 0, 0, 0, fmt.Errorf("xz: %d filters (only LZMA2 alone is read): %w", flags&0x03+1, extract.ErrUnsupported)
	}
	p := h[2:]
	varint := func() (int64, error) {
		v, k := binary.Uvarint(p)
		if k <= 0 || k > 9 || v > 1<<62 {
			return 0, fmt.Errorf("xz: bad number in block header: %w", extract.ErrCorrupt)
		}
		p = p[k:]
		return int64(v), nil
	}
	if flags&0x40 != 0 {
		if csize, err = varint(); err != nil {
			return
		}
	}
	if flags&0x80 != 0 {
		if usize, err = varint(); err != nil {
			return
		}
	}
	id, err := varint()
	if err != nil {
		return
	}
	psize, err := varint()
	if err != nil {
		return
	}
	if id != 0x21 || psize != 1 || len(p) < 1 {
		return 0, 0, 0, fmt.Errorf("xz: filter %#x with %d property bytes (only LZMA2 is read): %w", id, psize, extract.ErrUnsupported)
	}
	d := p[0]
	if d > 40 {
		return 0, 0, 0, fmt.Errorf("xz: LZMA2 dictionary property %d: %w", d, extract.ErrCorrupt)
	}
	if d == 40 {
		dictCap = 0xFFFFFFFF
	} else {
		dictCap = int64(2|d&1) << (d/2 + 11)
	}
	for _, c := range p[1:] {
		if c != 0 {
			return 0, 0, 0, fmt.Errorf("xz: non-zero block header padding: %w", extract.ErrCorrupt)
		}
	}
	return csize, usize, dictCap, nil
}
