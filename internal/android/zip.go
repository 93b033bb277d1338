package android

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/klauspost/compress/flate"

	"github.com/romscan/romscan/extract"
)

// Entry is one member of the archive as recorded in its central directory
// (or, when that is broken, in its local file header).
type Entry struct {
	Name           string // as stored: not cleaned, may hold "../", NUL or CR
	Method         uint16 // 0 stored; Android inflates every other value
	Flags          uint16
	CompressedSize int64
	Size           int64 // declared uncompressed size
	CRC32          uint32
	Offset         int64 // offset of the local file header
	DataOffset     int64 // offset of the stored bytes; -1 when unknown
	Duplicate      bool  // an earlier member has the same name
}

// Unsafe reports whether the name could escape an extraction folder or
// confuse tools: "..", an absolute path, a backslash, NUL, CR or LF.
func (e Entry) Unsafe() bool {
	n := e.Name
	if strings.ContainsAny(n, "\x00\r\n\\") || strings.HasPrefix(n, "/") {
		return true
	}
	for _, part := range strings.Split(n, "/") {
		if part == ".." {
			return true
		}
	}
	return false
}

// Zip local and central record signatures.
const (
	sigLocal       = 0x04034b50
	localHeaderLen = 30
	// minRatioFloor is the decoded size below which the ratio limit is not
	// applied: small members of zeros legitimately compress very well.
	minRatioFloor = 1 * extract.MiB
)

// listEntries reads the central directory with archive/zip; when that fails
// (Android-accepted or hostile archives Go rejects) it scans local headers.
// Android accepts duplicate entries in old releases and tools disagree on
// which wins: keep all and mark later ones.
func listEntries(ctx context.Context, r io.ReaderAt, size int64, lim extract.Limits) ([]Entry, bool, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		ents, serr := scanLocalHeaders(ctx, r, size, lim)
		if serr != nil {
			return nil, false, fmt.Errorf("central directory: %v; local scan: %w", err, serr)
		}
		if len(ents) == 0 {
			return nil, false, fmt.Errorf("no zip members (%v): %w", err, extract.ErrNotFormat)
		}
		return ents, false, nil
	}
	if lim.MaxEntries > 0 && len(zr.File) > lim.MaxEntries {
		return nil, true, fmt.Errorf("%d members, limit %d: %w", len(zr.File), lim.MaxEntries, extract.ErrLimit)
	}
	ents := make([]Entry, 0, len(zr.File))
	seen := make(map[string]bool, len(zr.File))
	for i, f := range zr.File {
		if i%1024 == 0 && ctx.Err() != nil {
			return nil, true, ctx.Err()
		}
		e := Entry{
			Name:           f.Name,
			Method:         f.Method,
			Flags:          f.Flags,
			CompressedSize: clampSize(f.CompressedSize64),
			Size:           clampSize(f.UncompressedSize64),
			CRC32:          f.CRC32,
			DataOffset:     -1,
		}
		if off, err := f.DataOffset(); err == nil {
			e.DataOffset = off
			// The local header offset is not exported; derive it from the
			// local header's variable lengths.
			e.Offset = localHeaderStart(r, off, f)
		} else {
			e.Offset = -1
		}
		e.Duplicate = seen[f.Name]
		seen[f.Name] = true
		ents = append(ents, e)
	}
	return ents, true, nil
}

func clampSize(v uint64) int64 {
	if v > 1<<62 {
		return 1 << 62
	}
	return int64(v)
}

// localHeaderStart returns the local header offset for a member whose data
// starts at dataOff, or -1 when it cannot be confirmed.
func localHeaderStart(r io.ReaderAt, dataOff int64, f *zip.File) int64 {
	// Name and extra lengths in the local header may differ from the central
	// directory; try the central ones, then give up.
	guess := dataOff - localHeaderLen - int64(len(f.Name)) - int64(len(f.Extra))
	var b [4]byte
	if guess >= 0 {
		if _, err := r.ReadAt(b[:], guess); err == nil && binary.LittleEndian.Uint32(b[:]) == sigLocal {
			return guess
		}
	}
	return -1
}

// scanLocalHeaders walks local file headers from the start of the file, the
// way tolerant APK readers do when the central directory is broken.
func scanLocalHeaders(ctx context.Context, r io.ReaderAt, size int64, lim extract.Limits) ([]Entry, error) {
	var ents []Entry
	seen := map[string]bool{}
	off := int64(0)
	for off+localHeaderLen <= size {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		next, err := findSig(r, off, size)
		if err != nil {
			return nil, err
		}
		if next < 0 || next+localHeaderLen > size {
			break
		}
		var h [localHeaderLen]byte
		if _, err := r.ReadAt(h[:], next); err != nil {
			return nil, fmt.Errorf("read local header at %d: %w", next, extract.ErrCorrupt)
		}
		nameLen := int64(binary.LittleEndian.Uint16(h[26:]))
		extraLen := int64(binary.LittleEndian.Uint16(h[28:]))
		dataOff := next + localHeaderLen + nameLen + extraLen
		if dataOff > size {
			break
		}
		name := make([]byte, nameLen)
		if _, err := r.ReadAt(name, next+localHeaderLen); err != nil {
			break
		}
		e := Entry{
			Name:           string(name),
			Flags:          binary.LittleEndian.Uint16(h[6:]),
			Method:         binary.LittleEndian.Uint16(h[8:]),
			CRC32:          binary.LittleEndian.Uint32(h[14:]),
			CompressedSize: int64(binary.LittleEndian.Uint32(h[18:])),
			Size:           int64(binary.LittleEndian.Uint32(h[22:])),
			Offset:         next,
			DataOffset:     dataOff,
		}
		if e.CompressedSize > size-dataOff {
			e.CompressedSize = size - dataOff
		}
		e.Duplicate = seen[e.Name]
		seen[e.Name] = true
		ents = append(ents, e)
		if lim.MaxEntries > 0 && len(ents) > lim.MaxEntries {
			return nil, fmt.Errorf("more than %d members: %w", lim.MaxEntries, extract.ErrLimit)
		}
		// Skip the member's data when its size is known so stored nested
		// archives do not add phantom members.
		if e.CompressedSize > 0 && e.Flags&0x8 == 0 {
			off = dataOff + e.CompressedSize
		} else {
			off = next + 4
		}
	}
	// A member whose size sits in a data descriptor ends where the next
	// header starts (or at the end of the file).
	for i := range ents {
		if ents[i].Flags&0x8 != 0 && ents[i].CompressedSize == 0 {
			end := size
			if i+1 < len(ents) {
				end = ents[i+1].Offset
			}
			ents[i].CompressedSize = max(0, end-ents[i].DataOffset)
		}
	}
	return ents, nil
}

// findSig returns the offset of the next local header signature at or after
// off, or -1.
func findSig(r io.ReaderAt, off, size int64) (int64, error) {
	const chunk = 64 * 1024
	buf := make([]byte, chunk+3)
	sig := []byte{'P', 'K', 3, 4}
	for off < size {
		n := int64(len(buf))
		if off+n > size {
			n = size - off
		}
		m, err := r.ReadAt(buf[:n], off)
		if m <= 0 {
			if err != nil && err != io.EOF {
				return -1, fmt.Errorf("scan at %d: %w", off, err)
			}
			return -1, nil
		}
		if i := bytes.Index(buf[:m], sig); i >= 0 {
			return off + int64(i), nil
		}
		if int64(m) < 4 {
			return -1, nil
		}
		off += int64(m) - 3
		if int64(m) < n {
			return -1, nil
		}
	}
	return -1, nil
}

// readMember returns the decoded bytes of e, bounded by maxSize and the ratio
// limit. Stored members are returned in place as a section of r; inflated
// ones as an in-memory reader whose bytes MemberBytes reaches without a copy.
func readMember(r io.ReaderAt, size int64, e Entry, maxSize int64, lim extract.Limits) (io.ReaderAt, int64, error) {
	maxSize, err := checkMember(size, e, maxSize, lim)
	if err != nil {
		return nil, 0, err
	}
	if e.Method == zip.Store {
		return io.NewSectionReader(r, e.DataOffset, e.CompressedSize), e.CompressedSize, nil
	}
	b, err := inflateMember(r, e, maxSize, lim, nil)
	if err != nil {
		return nil, 0, err
	}
	return &memberReader{Reader: bytes.NewReader(b), b: b}, int64(len(b)), nil
}

// readMemberBytes is readMember into memory: the bytes are decoded (or, for
// a stored member, read) into buf, grown when too small, and returned.
func readMemberBytes(r io.ReaderAt, size int64, e Entry, maxSize int64, lim extract.Limits, buf []byte) ([]byte, error) {
	maxSize, err := checkMember(size, e, maxSize, lim)
	if err != nil {
		return nil, err
	}
	if e.Method != zip.Store {
		return inflateMember(r, e, maxSize, lim, buf)
	}
	n := int(e.CompressedSize)
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if m, err := r.ReadAt(buf, e.DataOffset); m < n {
		return nil, fmt.Errorf("member %q: read: %v: %w", e.Name, err, extract.ErrCorrupt)
	}
	return buf, nil
}

// checkMember checks e's data lies inside the archive and a stored member
// fits maxSize, and returns the effective maxSize.
func checkMember(size int64, e Entry, maxSize int64, lim extract.Limits) (int64, error) {
	if e.DataOffset < 0 || e.DataOffset > size {
		return 0, fmt.Errorf("member %q: data offset unknown: %w", e.Name, extract.ErrCorrupt)
	}
	csize := e.CompressedSize
	if csize < 0 || csize > size-e.DataOffset {
		return 0, fmt.Errorf("member %q: compressed size %d past end of file: %w", e.Name, csize, extract.ErrCorrupt)
	}
	if maxSize <= 0 || (lim.MaxFileSize > 0 && maxSize > lim.MaxFileSize) {
		maxSize = lim.MaxFileSize
	}
	if maxSize <= 0 {
		maxSize = 1 * extract.GiB
	}
	if e.Method == zip.Store && csize > maxSize {
		return 0, fmt.Errorf("member %q: %d bytes, limit %d: %w", e.Name, csize, maxSize, extract.ErrLimit)
	}
	return maxSize, nil
}

// inflateMember decodes a deflated (or any non-stored: Android inflates
// every method other than 0) member into buf, grown when too small.
func inflateMember(r io.ReaderAt, e Entry, maxSize int64, lim extract.Limits, buf []byte) ([]byte, error) {
	csize := e.CompressedSize
	if e.Size > maxSize {
		return nil, fmt.Errorf("member %q: declares %d bytes, limit %d: %w", e.Name, e.Size, maxSize, extract.ErrLimit)
	}
	bound := maxSize
	if lim.MaxRatio > 0 {
		rb := int64(lim.MaxRatio * float64(max(csize, 1)))
		if rb < minRatioFloor {
			rb = minRatioFloor
		}
		bound = min(bound, rb)
	}
	if out, ok := inflateDeclared(r, e, bound, buf); ok {
		return out, nil
	}
	br := getReadBuffer(io.NewSectionReader(r, e.DataOffset, csize))
	defer putReadBuffer(br)
	fr := getInflater(br)
	defer putInflater(fr)
	// Room for the declared size and one byte more, so a member that
	// decodes to exactly its declared size needs no second buffer to see
	// its end.
	want := 512
	if e.Size > 0 && e.Size <= bound {
		want = int(e.Size) + 1
	}
	if cap(buf) < want {
		buf = make([]byte, 0, want)
	}
	buf = buf[:0]
	var err error
	for int64(len(buf)) <= bound {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		room := buf[len(buf):cap(buf)]
		if over := bound + 1 - int64(len(buf)); int64(len(room)) > over {
			room = room[:over]
		}
		var n int
		n, err = fr.Read(room)
		buf = buf[:len(buf)+n]
		if err != nil {
			break
		}
	}
	if err == io.EOF {
		err = nil
	}
	n := int64(len(buf))
	if n > bound {
		if bound < maxSize {
			return nil, fmt.Errorf("member %q: decodes past ratio %.0f of %d stored bytes: %w", e.Name, lim.MaxRatio, csize, extract.ErrLimit)
		}
		return nil, fmt.Errorf("member %q: decodes past %d bytes: %w", e.Name, maxSize, extract.ErrLimit)
	}
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("member %q: inflate: %v: %w", e.Name, err, extract.ErrCorrupt)
	}
	if err != nil && n == 0 {
		return nil, fmt.Errorf("member %q: inflate: %v: %w", e.Name, err, extract.ErrCorrupt)
	}
	return buf, nil
}

// inflateDeclared decodes a member whose declared size is within bound in
// one call (inflateWhole) into buf, grown to the declared size. ok is false
// when that is not possible or the data does not decode to at most the
// declared size; the streaming decoder then decides, so limits, truncation
// and corruption are handled in one place.
func inflateDeclared(r io.ReaderAt, e Entry, bound int64, buf []byte) ([]byte, bool) {
	if e.Size <= 0 || e.Size > bound || e.CompressedSize <= 0 || e.CompressedSize > maxWholeInput {
		return nil, false
	}
	in := getCompressed(int(e.CompressedSize))
	defer putCompressed(in)
	if n, _ := r.ReadAt(in, e.DataOffset); n != len(in) {
		return nil, false
	}
	if cap(buf) < int(e.Size) {
		buf = make([]byte, 0, e.Size)
	}
	return inflateWhole(in, buf[:0:e.Size])
}

// maxWholeInput bounds the compressed bytes read at once for inflateDeclared.
const maxWholeInput = 256 * extract.MiB

// compressedBufs reuses the buffers compressed members are read into.
var compressedBufs sync.Pool

func getCompressed(n int) []byte {
	if b, ok := compressedBufs.Get().(*[]byte); ok && cap(*b) >= n {
		return (*b)[:n]
	}
	return make([]byte, n)
}

func putCompressed(b []byte) {
	if cap(b) > int(16*extract.MiB) {
		return // keep the idle footprint small
	}
	compressedBufs.Put(&b)
}

// memberReader is an inflated member in memory.
type memberReader struct {
	*bytes.Reader
	b []byte
}

// MemberBytes returns the bytes behind a reader from OpenMember or
// OpenEntry when the member was decoded into memory, so a caller that needs
// the whole member (a DEX file) can use them in place. The bytes must not be
// modified.
func MemberBytes(r io.ReaderAt) ([]byte, bool) {
	m, ok := r.(*memberReader)
	if !ok {
		return nil, false
	}
	return m.b, true
}

// readBuffers reuses the buffered readers decoders read compressed bytes
// through: one read of the archive per 32 KiB rather than per 4 KiB, and no
// buffer per member.
var readBuffers sync.Pool

func getReadBuffer(r io.Reader) *bufio.Reader {
	if br, ok := readBuffers.Get().(*bufio.Reader); ok {
		br.Reset(r)
		return br
	}
	return bufio.NewReaderSize(r, int(32*extract.KiB))
}

func putReadBuffer(br *bufio.Reader) {
	br.Reset(nil) // hold no archive while pooled
	readBuffers.Put(br)
}

// inflaters reuses flate decoders: each holds a 32 KiB window, and an APK
// scan opens hundreds of members.
var inflaters sync.Pool

func getInflater(r io.Reader) io.ReadCloser {
	if v, ok := inflaters.Get().(io.ReadCloser); ok {
		if err := v.(flate.Resetter).Reset(r, nil); err == nil {
			return v
		}
	}
	return flate.NewReader(r)
}

func putInflater(fr io.ReadCloser) {
	fr.Close()
	inflaters.Put(fr)
}
