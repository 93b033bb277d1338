package android

import (
	"archive/zip"
	"bytes"
	"io"
	"reflect"
	"unsafe"

	"github.com/avast/apkparser"
	"github.com/klauspost/compress/flate"

	"github.com/romscan/romscan/extract"
)

// The JAR (v1) signature check of apkverifier digests every member of the
// archive, inflating each through apkparser's zip reader with a pure-Go
// streaming decoder: for a v1-only APK that is most of the cost of opening
// it. verifyInflater gives that reader's archive/zip.Reader a decompressor
// that decodes members with libdeflate (inflateWhole) into one reused
// buffer, several times faster and without a buffer per member, and hands
// over the DEX files the scan has decoded already as they are. The bytes
// and every check stay the same: archive/zip still verifies each member's
// CRC-32 and size, and any member the fast path cannot decode exactly (not
// one of ours by offset, corrupt, larger than declared) goes to the
// streaming decoder as before.
//
// apkparser does not expose its zip.Reader; it is reached through the
// zip.File behind a member's header (ZipHeader returns the address of the
// File's embedded FileHeader, its first field) and the File's unexported
// link to its Reader. Both are checked by reflection, so a change of
// layout in a later Go or apkparser leaves the default decoder in place.
type verifyInflater struct {
	r        io.ReaderAt
	byOffset map[int64]Entry                // members by data offset
	buf      []byte                         // decoded member, reused
	inUse    bool                           // buf is being read
	decoded  func(off int64) ([]byte, bool) // members decoded already, by data offset
	inflated int                            // members decoded by the fast path
	reused   int                            // members read from decoded
	largest  int64                          // declared size of the largest deflated member
	last     []byte                         // the member last decoded into buf
	lastOff  int64                          // its data offset
}

// maxVerifyBuffer bounds the buffer sized up front for the largest member;
// past it, the buffer grows with the members actually decoded.
const maxVerifyBuffer = 64 * extract.MiB

var (
	fileType      = reflect.TypeFor[zip.File]()
	readerPtrType = reflect.TypeFor[*zip.Reader]()
)

// zipReaderOf returns the archive/zip.Reader behind apkparser's reader, or
// nil when it cannot be reached safely.
func zipReaderOf(zr *apkparser.ZipReader) *zip.Reader {
	if f, ok := fileType.FieldByName("FileHeader"); !ok || f.Offset != 0 || !f.Anonymous {
		return nil
	}
	link, ok := fileType.FieldByName("zip")
	if !ok || link.Type != readerPtrType {
		return nil
	}
	for _, f := range zr.FilesOrdered {
		if h := f.ZipHeader(); h != nil {
			zf := (*zip.File)(unsafe.Pointer(h))
			return *(**zip.Reader)(unsafe.Add(unsafe.Pointer(zf), link.Offset))
		}
	}
	return nil
}

// useFastInflate registers the libdeflate decompressor on zr for the
// members in entries (read from r); nil when it could not be.
func useFastInflate(zr *apkparser.ZipReader, r io.ReaderAt, entries []Entry, decoded func(off int64) ([]byte, bool)) *verifyInflater {
	if !inflateWholeAvailable {
		return nil
	}
	zipr := zipReaderOf(zr)
	if zipr == nil {
		return nil
	}
	v := &verifyInflater{r: r, byOffset: make(map[int64]Entry, len(entries)), decoded: decoded}
	for _, e := range entries {
		if e.Method != zip.Store && e.DataOffset >= 0 && !e.Duplicate {
			v.byOffset[e.DataOffset] = e
			if b, ok := v.held(e.DataOffset); !ok || int64(len(b)) != e.Size {
				v.largest = max(v.largest, e.Size)
			}
		}
	}
	zipr.RegisterDecompressor(zip.Deflate, v.open)
	return v
}

// held returns the decoded bytes of the member at data offset off that the
// scan already holds, if any.
func (v *verifyInflater) held(off int64) ([]byte, bool) {
	if v.decoded == nil {
		return nil, false
	}
	return v.decoded(off)
}

// open is the registered decompressor. archive/zip hands it the member's
// compressed bytes as a section of the archive, which names the member.
func (v *verifyInflater) open(compressed io.Reader) io.ReadCloser {
	sr, ok := compressed.(*io.SectionReader)
	if !ok {
		return flate.NewReader(compressed)
	}
	_, off, n := sr.Outer()
	e, ok := v.byOffset[off]
	if !ok || e.CompressedSize != n {
		return flate.NewReader(compressed)
	}
	if b, ok := v.held(off); ok && int64(len(b)) == e.Size {
		// A DEX file the scan holds decoded already: its bytes as they
		// are (archive/zip still checks their CRC and size).
		v.reused++
		return io.NopCloser(bytes.NewReader(b))
	}
	if v.inUse {
		return flate.NewReader(compressed)
	}
	if v.last != nil && v.lastOff == off {
		// The same member again, for a second digest algorithm: its
		// bytes are still in the buffer.
		v.inUse = true
		return &decodedMember{Reader: bytes.NewReader(v.last), v: v}
	}
	v.last = nil
	if v.buf == nil && v.largest <= maxVerifyBuffer {
		// One buffer for every member, not one per larger member.
		v.buf = make([]byte, 0, v.largest)
	}
	if out, ok := inflateDeclared(v.r, e, e.Size, v.buf); ok {
		v.buf, v.inUse = out[:0], true
		v.last, v.lastOff = out, off
		v.inflated++
		return &decodedMember{Reader: bytes.NewReader(out), v: v}
	}
	return flate.NewReader(compressed)
}

// decodedMember reads a member decoded into the shared buffer, which is
// free again once it is closed.
type decodedMember struct {
	*bytes.Reader
	v *verifyInflater
}

func (d *decodedMember) Close() error {
	if d.v != nil {
		d.v.inUse = false
		d.v = nil
	}
	d.Reader = bytes.NewReader(nil)
	return nil
}
