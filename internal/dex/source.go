package dex

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/romscan/romscan/extract"
)

// Page cache geometry for files read through an io.ReaderAt: a direct-mapped
// cache of cachePages pages of pageSize bytes, so one File never holds more
// than 4 MiB of its input however large the DEX is.
const (
	pageSize   = 16 << 10
	cachePages = 256
	// directRead is the size from which a read bypasses the page cache.
	directRead = 4 * pageSize
)

// source reads the bytes of a DEX file: straight from memory when the whole
// file is a byte slice, otherwise through a small page cache over an
// io.ReaderAt. It is not safe for concurrent use; File serialises access.
type source struct {
	data  []byte // whole file when in memory, else nil
	r     io.ReaderAt
	limit int64 // bytes readable: min(real size, declared size)
	pages []page
	cbuf  []byte // window of the one cursor in use (File holds the lock)
}

type page struct {
	idx   int64 // page number + 1; 0 means empty
	n     int
	bytes []byte
}

// view returns n bytes at off. In memory it aliases the file (callers must
// not modify it); otherwise it copies into scratch (grown when too small).
func (s *source) view(off int64, n int, scratch []byte) ([]byte, error) {
	if off < 0 || n < 0 || off > s.limit || int64(n) > s.limit-off {
		return nil, fmt.Errorf("dex: read %d bytes at offset %#x beyond end %#x: %w", n, off, s.limit, extract.ErrCorrupt)
	}
	if s.data != nil {
		return s.data[off : off+int64(n) : off+int64(n)], nil
	}
	if cap(scratch) < n {
		scratch = make([]byte, n)
	}
	scratch = scratch[:n]
	if err := s.readAt(scratch, off); err != nil {
		return nil, err
	}
	return scratch, nil
}

// window returns up to max bytes at off, fewer at the end of the file.
func (s *source) window(off int64, max int, scratch []byte) ([]byte, error) {
	if off < 0 || off > s.limit {
		return nil, fmt.Errorf("dex: offset %#x beyond end %#x: %w", off, s.limit, extract.ErrCorrupt)
	}
	if rem := s.limit - off; int64(max) > rem {
		max = int(rem)
	}
	return s.view(off, max, scratch)
}

func (s *source) readAt(dst []byte, off int64) error {
	if len(dst) >= directRead {
		buf := make([]byte, len(dst))
		if _, err := s.r.ReadAt(buf, off); err != nil && err != io.EOF {
			return fmt.Errorf("dex: read at %#x: %w", off, err)
		}
		copy(dst, buf)
		return nil
	}
	if s.pages == nil {
		s.pages = make([]page, cachePages)
	}
	for len(dst) > 0 {
		pi := off / pageSize
		p := &s.pages[pi%cachePages]
		if p.idx != pi+1 {
			if p.bytes == nil {
				p.bytes = make([]byte, pageSize)
			}
			start := pi * pageSize
			want := int64(pageSize)
			if rem := s.limit - start; rem < want {
				want = rem
			}
			n, err := s.r.ReadAt(p.bytes[:want], start)
			if int64(n) < want {
				p.idx = 0
				if err == nil {
					err = io.ErrUnexpectedEOF
				}
				return fmt.Errorf("dex: read at %#x: %w", start, err)
			}
			p.idx, p.n = pi+1, n
		}
		in := int(off - pi*pageSize)
		if in >= p.n {
			return fmt.Errorf("dex: read at %#x: %w", off, io.ErrUnexpectedEOF)
		}
		c := copy(dst, p.bytes[in:p.n])
		dst = dst[c:]
		off += int64(c)
	}
	return nil
}

// u32 reads a little-endian uint32 at off.
func (s *source) u32(off int64) (uint32, error) {
	if s.data != nil && off >= 0 && off+4 <= s.limit {
		return binary.LittleEndian.Uint32(s.data[off:]), nil
	}
	var b [4]byte
	v, err := s.view(off, 4, b[:0])
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(v), nil
}

// u16 reads a little-endian uint16 at off.
func (s *source) u16(off int64) (uint16, error) {
	if s.data != nil && off >= 0 && off+2 <= s.limit {
		return binary.LittleEndian.Uint16(s.data[off:]), nil
	}
	var b [2]byte
	v, err := s.view(off, 2, b[:0])
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint16(v), nil
}

// cursor reads LEB128 and fixed-size values sequentially from a source,
// refilling a window as it goes, and stops at end.
type cursor struct {
	s       *source
	off     int64 // file offset of buf[0]
	pos     int   // read position in buf
	buf     []byte
	end     int64 // hard end of the structure being read
	scratch []byte
}

const cursorWindow = 4 << 10

func newCursor(s *source, off, end int64) cursor {
	if end > s.limit {
		end = s.limit
	}
	return cursor{s: s, off: off, end: end, scratch: s.cbuf}
}

// tell is the file offset of the next byte.
func (c *cursor) tell() int64 { return c.off + int64(c.pos) }

func (c *cursor) fill() error {
	at := c.tell()
	if at >= c.end || at < 0 {
		return fmt.Errorf("dex: read past end of structure at %#x: %w", at, extract.ErrCorrupt)
	}
	n := int64(cursorWindow)
	if c.s.data != nil {
		n = c.end - at
	} else if rem := c.end - at; rem < n {
		n = rem
	}
	b, err := c.s.view(at, int(n), c.scratch)
	if err != nil {
		return err
	}
	if c.s.data == nil {
		c.scratch, c.s.cbuf = b, b
	}
	c.buf, c.off, c.pos = b, at, 0
	return nil
}

func (c *cursor) byte() (byte, error) {
	if c.pos >= len(c.buf) {
		if err := c.fill(); err != nil {
			return 0, err
		}
	}
	b := c.buf[c.pos]
	c.pos++
	return b, nil
}

// uleb reads an unsigned LEB128 of at most 5 bytes (32 bits).
func (c *cursor) uleb() (uint32, error) {
	// Fast path: one byte, or a whole valid value in the window.
	if c.pos < len(c.buf) {
		if b := c.buf[c.pos]; b < 0x80 {
			c.pos++
			return uint32(b), nil
		}
		if v, n := uleb(c.buf[c.pos:]); n > 0 && !(n == 5 && c.buf[c.pos+4] > 0x0f) {
			c.pos += n
			return v, nil
		}
	}
	var v uint32
	for i := 0; i < 5; i++ {
		b, err := c.byte()
		if err != nil {
			return 0, err
		}
		v |= uint32(b&0x7f) << (7 * i)
		if b < 0x80 {
			if i == 4 && b > 0x0f {
				return 0, fmt.Errorf("dex: uleb128 at %#x overflows 32 bits: %w", c.tell()-5, extract.ErrCorrupt)
			}
			return v, nil
		}
	}
	return 0, fmt.Errorf("dex: uleb128 at %#x longer than 5 bytes: %w", c.tell()-5, extract.ErrCorrupt)
}

// sleb reads a signed LEB128 of at most 5 bytes.
func (c *cursor) sleb() (int32, error) {
	var v uint32
	for i := 0; i < 5; i++ {
		b, err := c.byte()
		if err != nil {
			return 0, err
		}
		v |= uint32(b&0x7f) << (7 * i)
		if b < 0x80 {
			shift := 7 * (i + 1)
			if shift < 32 && b&0x40 != 0 {
				v |= ^uint32(0) << shift
			}
			return int32(v), nil
		}
	}
	return 0, fmt.Errorf("dex: sleb128 at %#x longer than 5 bytes: %w", c.tell()-5, extract.ErrCorrupt)
}

// uleb decodes an unsigned LEB128 from b, returning the value and the bytes used
// (0 when b is truncated or the value longer than 5 bytes).
func uleb(b []byte) (uint32, int) {
	var v uint32
	for i := 0; i < 5 && i < len(b); i++ {
		v |= uint32(b[i]&0x7f) << (7 * i)
		if b[i] < 0x80 {
			return v, i + 1
		}
	}
	return 0, 0
}
