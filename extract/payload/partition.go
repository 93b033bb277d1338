package payload

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"math"
	"runtime"
	"slices"
	"sort"
	"sync"

	"github.com/romscan/romscan/extract"
	"github.com/romscan/romscan/extract/payload/metadata"
)

// DefaultCacheBytes bounds the decoded operations a PartitionReader keeps.
const DefaultCacheBytes = 64 * extract.MiB

// OpenOptions tune how a partition is assembled.
type OpenOptions struct {
	// Base is the old partition that incremental operations (SOURCE_COPY,
	// SOURCE_BSDIFF, BROTLI_BSDIFF) read; nil for a full payload.
	Base io.ReaderAt
	// Verify checks each operation's data_sha256_hash (and src_sha256_hash
	// against Base) before its bytes are returned, and the partition's
	// new_partition_info.hash once every byte has been read in order from
	// offset 0 (as io.Copy over an io.SectionReader does).
	Verify bool
	// CacheBytes bounds the decoded operations kept in memory (LRU by
	// bytes); 0 means DefaultCacheBytes. An operation larger than the cache
	// is still decoded, and kept until the next one evicts it.
	CacheBytes int64
	// Workers decode operations ahead of a sequential reader; 0 means
	// GOMAXPROCS, negative disables read-ahead.
	Workers int
}

// PartitionReader assembles one partition of a payload on demand. ReadAt
// decodes only the operations covering the request; it is safe for
// concurrent use. Bytes no operation writes read as zeros.
type PartitionReader struct {
	p        *Payload
	name     string
	size     int64
	ops      []opInfo
	segs     []segment
	base     io.ReaderAt
	verify   bool
	wantHash []byte
	cache    *opCache
	workers  int
	sem      chan struct{}

	pmu        sync.Mutex // guards lastEnd and aheadSeg
	lastEnd    int64
	aheadSeg   int        // segments before this one have been scheduled for read-ahead
	hmu        sync.Mutex // guards the running partition hash
	hasher     hash.Hash
	hashOff    int64
	hashDone   bool
	hashErr    error
	hashResult bool
}

// extentBytes is an extent converted to bytes.
type extentBytes struct{ off, n int64 }

// opInfo is one install operation, checked and converted to bytes.
type opInfo struct {
	idx      int
	typ      InstallOperation_Type
	dataOff  int64 // absolute offset of the blob in the payload file
	dataLen  int64
	dst      []extentBytes
	dstLen   int64
	src      []extentBytes
	srcLen   int64
	dataHash []byte
	srcHash  []byte

	once    sync.Once // verifies in-place data (REPLACE blob, SOURCE_COPY source) once
	onceErr error
}

// segment maps a run of partition bytes to a slice of an operation's output.
type segment struct {
	off   int64 // partition offset
	n     int64
	op    int
	opOff int64 // offset in the operation's output
}

// decoded reports whether an operation's output must be decoded into memory
// (rather than read in place or synthesised).
func decoded(t InstallOperation_Type) bool {
	switch t {
	case OpReplaceBZ, OpReplaceXZ, OpReplaceZstd,
		OpSourceBsdiff, OpBrotliBsdiff:
		return true
	}
	return false
}

// supported reports whether this package applies an operation type.
func supported(t InstallOperation_Type) bool {
	switch t {
	case OpReplace, OpZero, OpDiscard, OpSourceCopy:
		return true
	}
	return decoded(t)
}

// opName names an operation type, also for values the enum does not know.
func opName(t InstallOperation_Type) string {
	if n, ok := metadata.InstallOperation_Type_name[int32(t)]; ok {
		return n
	}
	return fmt.Sprintf("type %d", int32(t))
}

// Open prepares the partition called name for reading. It checks every
// operation's extents and data bounds first, so a malformed manifest fails
// here with an error wrapping extract.ErrCorrupt or extract.ErrLimit. A
// partition with an operation this package cannot apply fails with
// extract.ErrUnsupported; one that needs the old partition while opts.Base is
// nil fails with extract.ErrNeedsBase.
func (p *Payload) Open(name string, opts OpenOptions) (*PartitionReader, error) {
	i, ok := p.byName[name]
	if !ok {
		return nil, fmt.Errorf("payload: partition %q: not in the manifest: %w", name, fs.ErrNotExist)
	}
	pu := p.manifest.GetPartitions()[i]
	info := p.parts[i]
	bs := p.blockSize
	size := info.Size
	if pu.GetNewPartitionInfo() == nil || pu.GetNewPartitionInfo().Size == nil {
		end := extentsEnd(pu)
		if end > uint64(p.lim.MaxFileSize/bs)+1 {
			return nil, fmt.Errorf("payload: partition %q: extents reach block %d: %w", name, end, extract.ErrLimit)
		}
		size = int64(end) * bs
	}
	if size > p.lim.MaxFileSize {
		return nil, fmt.Errorf("payload: partition %q: size %d over the limit %d: %w", name, size, p.lim.MaxFileSize, extract.ErrLimit)
	}
	r := &PartitionReader{
		p:        p,
		name:     name,
		size:     size,
		base:     opts.Base,
		verify:   opts.Verify,
		wantHash: info.HashSHA256,
	}
	maxBlocks := uint64((size + bs - 1) / bs)
	r.ops = make([]opInfo, len(pu.GetOperations()))
	var firstUnsupported, firstIncremental = -1, -1
	nsegs := 0
	for j, op := range pu.GetOperations() {
		o := &r.ops[j]
		o.idx = j
		o.typ = op.GetType()
		if !supported(o.typ) && firstUnsupported < 0 {
			firstUnsupported = j
		}
		if needsSource(o.typ) && firstIncremental < 0 {
			firstIncremental = j
		}
		nsegs += len(op.GetDstExtents())
	}
	if firstUnsupported >= 0 {
		return nil, fmt.Errorf("payload: partition %q: operation %d is %s: %w",
			name, firstUnsupported, opName(r.ops[firstUnsupported].typ), extract.ErrUnsupported)
	}
	if firstIncremental >= 0 && opts.Base == nil {
		return nil, fmt.Errorf("payload: partition %q: operation %d (%s) reads the old partition: %w",
			name, firstIncremental, opName(r.ops[firstIncremental].typ), extract.ErrNeedsBase)
	}
	if nsegs > p.lim.MaxEntries {
		return nil, fmt.Errorf("payload: partition %q: %d extents (at most %d): %w", name, nsegs, p.lim.MaxEntries, extract.ErrLimit)
	}
	r.segs = make([]segment, 0, nsegs)
	for j, op := range pu.GetOperations() {
		o := &r.ops[j]
		where := func() string { return fmt.Sprintf("payload: partition %q: operation %d (%s)", name, j, opName(o.typ)) }
		for _, e := range op.GetDstExtents() {
			start, num := e.GetStartBlock(), e.GetNumBlocks()
			if num == 0 {
				continue
			}
			if start > maxBlocks || num > maxBlocks-start {
				return nil, fmt.Errorf("%s: destination extent at block %d (+%d) outside the partition of %d blocks: %w",
					where(), start, num, maxBlocks, extract.ErrCorrupt)
			}
			eb := extentBytes{int64(start) * bs, int64(num) * bs}
			r.segs = append(r.segs, segment{off: eb.off, n: eb.n, op: j, opOff: o.dstLen})
			o.dst = append(o.dst, eb)
			o.dstLen += eb.n
		}
		if needsSource(o.typ) {
			for _, e := range op.GetSrcExtents() {
				start, num := e.GetStartBlock(), e.GetNumBlocks()
				if num == 0 {
					continue
				}
				maxStart := uint64(math.MaxInt64/2) / uint64(bs)
				if start > maxStart || num > maxStart-start {
					return nil, fmt.Errorf("%s: source extent at block %d (+%d) out of range: %w", where(), start, num, extract.ErrCorrupt)
				}
				eb := extentBytes{int64(start) * bs, int64(num) * bs}
				o.src = append(o.src, eb)
				o.srcLen += eb.n
				if o.srcLen > p.lim.MaxFileSize {
					return nil, fmt.Errorf("%s: source extents cover %d bytes: %w", where(), o.srcLen, extract.ErrLimit)
				}
			}
			if len(op.GetSrcExtents()) > p.lim.MaxEntries {
				return nil, fmt.Errorf("%s: %d source extents: %w", where(), len(op.GetSrcExtents()), extract.ErrLimit)
			}
		}
		o.dataHash = op.GetDataSha256Hash()
		o.srcHash = op.GetSrcSha256Hash()
		doff, dlen := op.GetDataOffset(), op.GetDataLength()
		avail := uint64(p.size - p.dataOffset)
		if doff > avail || dlen > avail-doff {
			return nil, fmt.Errorf("%s: data at %d (+%d bytes) outside the %d bytes of blobs: %w", where(), doff, dlen, avail, extract.ErrCorrupt)
		}
		o.dataOff, o.dataLen = p.dataOffset+int64(doff), int64(dlen)
		switch {
		case o.typ == OpReplace:
			if o.dataLen > o.dstLen {
				return nil, fmt.Errorf("%s: %d data bytes for %d destination bytes: %w", where(), o.dataLen, o.dstLen, extract.ErrCorrupt)
			}
		case o.typ == OpSourceCopy:
			if o.srcLen != o.dstLen {
				return nil, fmt.Errorf("%s: copies %d source bytes into %d destination bytes: %w", where(), o.srcLen, o.dstLen, extract.ErrCorrupt)
			}
		case decoded(o.typ):
			if o.dstLen > maxOpBytes || o.srcLen > maxOpBytes || o.dataLen > maxOpBytes {
				return nil, fmt.Errorf("%s: %d destination, %d source, %d data bytes (at most %d each): %w",
					where(), o.dstLen, o.srcLen, o.dataLen, maxOpBytes, extract.ErrLimit)
			}
			if !needsSource(o.typ) && o.dataLen > 2*o.dstLen+extract.MiB {
				return nil, fmt.Errorf("%s: %d compressed bytes for %d destination bytes: %w", where(), o.dataLen, o.dstLen, extract.ErrCorrupt)
			}
		}
	}
	slices.SortFunc(r.segs, func(a, b segment) int {
		switch {
		case a.off < b.off:
			return -1
		case a.off > b.off:
			return 1
		}
		return 0
	})
	for k := 1; k < len(r.segs); k++ {
		a, b := r.segs[k-1], r.segs[k]
		if a.off+a.n > b.off {
			return nil, fmt.Errorf("payload: partition %q: operations %d and %d both write block %d: %w",
				name, a.op, b.op, b.off/bs, extract.ErrCorrupt)
		}
	}
	cacheBytes := opts.CacheBytes
	if cacheBytes <= 0 {
		cacheBytes = DefaultCacheBytes
	}
	r.cache = newOpCache(cacheBytes)
	r.workers = opts.Workers
	if r.workers == 0 {
		r.workers = runtime.GOMAXPROCS(0)
	}
	if r.workers > 0 {
		r.sem = make(chan struct{}, r.workers)
	}
	if r.verify && len(r.wantHash) > 0 {
		r.hasher = sha256.New()
	}
	return r, nil
}

// extentsEnd returns the block after the last destination extent: the size
// of a partition whose manifest declares none.
func extentsEnd(pu *PartitionUpdate) uint64 {
	var end uint64
	for _, op := range pu.GetOperations() {
		for _, e := range op.GetDstExtents() {
			if e.GetStartBlock() < math.MaxUint64/2 && e.GetNumBlocks() < math.MaxUint64/2 {
				end = max(end, e.GetStartBlock()+e.GetNumBlocks())
			}
		}
	}
	return end
}

// Name returns the partition's name.
func (r *PartitionReader) Name() string { return r.name }

// Size returns the partition's size in bytes.
func (r *PartitionReader) Size() int64 { return r.size }

// HashVerified reports whether Verify was set and the whole partition has
// been read in order and matched new_partition_info.hash.
func (r *PartitionReader) HashVerified() bool {
	r.hmu.Lock()
	defer r.hmu.Unlock()
	return r.hashResult
}

// ReadAt reads len(b) bytes of the assembled partition at off.
func (r *PartitionReader) ReadAt(b []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("payload: partition %q: read at negative offset %d", r.name, off)
	}
	if off >= r.size {
		if len(b) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	want := len(b)
	if int64(want) > r.size-off {
		b = b[:r.size-off]
	}
	n, err := r.fill(b, off)
	if err != nil {
		return n, err
	}
	if r.hasher != nil {
		if err := r.trackHash(b, off); err != nil {
			return n, err
		}
	}
	r.readAhead(off, off+int64(n))
	if n < want {
		return n, io.EOF
	}
	return n, nil
}

// segAt returns the index of the first segment ending after off.
func (r *PartitionReader) segAt(off int64) int {
	return sort.Search(len(r.segs), func(i int) bool { return r.segs[i].off+r.segs[i].n > off })
}

// fill assembles b from the operations covering [off, off+len(b)).
func (r *PartitionReader) fill(b []byte, off int64) (int, error) {
	n := 0
	pos := off
	i := r.segAt(pos)
	for n < len(b) {
		if i >= len(r.segs) || r.segs[i].off > pos {
			gapEnd := r.size
			if i < len(r.segs) {
				gapEnd = r.segs[i].off
			}
			k := int(min(int64(len(b)-n), gapEnd-pos))
			clear(b[n : n+k])
			n += k
			pos += int64(k)
			continue
		}
		s := r.segs[i]
		k := int(min(int64(len(b)-n), s.off+s.n-pos))
		if err := r.readOp(&r.ops[s.op], s.opOff+(pos-s.off), b[n:n+k]); err != nil {
			return n, err
		}
		n += k
		pos += int64(k)
		if pos >= s.off+s.n {
			i++
		}
	}
	return n, nil
}

// where names an operation in errors.
func (r *PartitionReader) where(o *opInfo) string {
	return fmt.Sprintf("payload: partition %q: operation %d (%s)", r.name, o.idx, opName(o.typ))
}

// readOp copies len(b) bytes of operation o's output, from offset within.
func (r *PartitionReader) readOp(o *opInfo, within int64, b []byte) error {
	switch o.typ {
	case OpZero, OpDiscard:
		clear(b)
		return nil
	case OpReplace:
		if r.verify && len(o.dataHash) > 0 {
			o.once.Do(func() { o.onceErr = r.checkBlobHash(o) })
			if o.onceErr != nil {
				return o.onceErr
			}
		}
		k := int64(0)
		if within < o.dataLen {
			k = min(int64(len(b)), o.dataLen-within)
			if n, err := r.p.r.ReadAt(b[:k], o.dataOff+within); int64(n) < k {
				return fmt.Errorf("%s: read data: %w", r.where(o), errors.Join(extract.ErrCorrupt, err))
			}
		}
		clear(b[k:])
		return nil
	case OpSourceCopy:
		if r.verify && len(o.srcHash) > 0 {
			o.once.Do(func() { o.onceErr = r.checkSourceHash(o) })
			if o.onceErr != nil {
				return o.onceErr
			}
		}
		return r.readSource(o, within, b)
	}
	data, err := r.cache.get(o.idx, func() ([]byte, error) { return r.decode(o) })
	if err != nil {
		return err
	}
	copy(b, data[within:])
	return nil
}

// readSource reads b from the concatenated source extents of o in Base.
func (r *PartitionReader) readSource(o *opInfo, within int64, b []byte) error {
	for _, e := range o.src {
		if len(b) == 0 {
			return nil
		}
		if within >= e.n {
			within -= e.n
			continue
		}
		k := min(int64(len(b)), e.n-within)
		if n, err := r.base.ReadAt(b[:k], e.off+within); int64(n) < k {
			return fmt.Errorf("%s: base partition ends before source byte %d: %w", r.where(o), e.off+within+int64(n),
				errors.Join(extract.ErrCorrupt, err))
		}
		b = b[k:]
		within = 0
	}
	if len(b) > 0 {
		return fmt.Errorf("%s: source extents shorter than the destination: %w", r.where(o), extract.ErrCorrupt)
	}
	return nil
}

// checkBlobHash streams o's blob through SHA-256 and compares data_sha256_hash.
func (r *PartitionReader) checkBlobHash(o *opInfo) error {
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(r.p.r, o.dataOff, o.dataLen)); err != nil {
		return fmt.Errorf("%s: read data: %w", r.where(o), err)
	}
	if !bytes.Equal(h.Sum(nil), o.dataHash) {
		return fmt.Errorf("%s: data SHA-256 %x, manifest says %x: %w", r.where(o), h.Sum(nil), o.dataHash, extract.ErrCorrupt)
	}
	return nil
}

// checkSourceHash streams o's source extents in Base through SHA-256.
func (r *PartitionReader) checkSourceHash(o *opInfo) error {
	h := sha256.New()
	buf := make([]byte, min(o.srcLen, extract.MiB))
	for pos := int64(0); pos < o.srcLen; {
		k := min(int64(len(buf)), o.srcLen-pos)
		if err := r.readSource(o, pos, buf[:k]); err != nil {
			return err
		}
		h.Write(buf[:k])
		pos += k
	}
	return r.compareSource(o, h.Sum(nil))
}

func (r *PartitionReader) compareSource(o *opInfo, sum []byte) error {
	if !bytes.Equal(sum, o.srcHash) {
		return fmt.Errorf("%s: base partition source SHA-256 %x, manifest says %x (wrong base image?): %w",
			r.where(o), sum, o.srcHash, extract.ErrCorrupt)
	}
	return nil
}

// trackHash feeds bytes read in order from offset 0 to the partition hash,
// and compares it once the last byte has been read.
func (r *PartitionReader) trackHash(b []byte, off int64) error {
	r.hmu.Lock()
	defer r.hmu.Unlock()
	if r.hashDone {
		return r.hashErr
	}
	end := off + int64(len(b))
	if off <= r.hashOff && r.hashOff < end {
		r.hasher.Write(b[r.hashOff-off:])
		r.hashOff = end
	}
	if r.hashOff == r.size {
		r.hashDone = true
		if sum := r.hasher.Sum(nil); !bytes.Equal(sum, r.wantHash) {
			r.hashErr = fmt.Errorf("payload: partition %q: SHA-256 %x, manifest says %x: %w", r.name, sum, r.wantHash, extract.ErrCorrupt)
		} else {
			r.hashResult = true
		}
	}
	return r.hashErr
}

// readAhead schedules decoding of the operations after a sequential read, so
// a full read keeps GOMAXPROCS decoders busy.
func (r *PartitionReader) readAhead(off, end int64) {
	if r.sem == nil {
		return
	}
	r.pmu.Lock()
	defer r.pmu.Unlock()
	sequential := off == r.lastEnd || off == 0
	r.lastEnd = end
	if !sequential {
		return
	}
	i := r.segAt(end)
	if r.aheadSeg < i {
		r.aheadSeg = i
	}
	window := 2 * r.workers
	budget := r.cache.max / 2
	scheduled := 0
	for j := i; j < len(r.segs) && scheduled < window; j++ {
		o := &r.ops[r.segs[j].op]
		if !decoded(o.typ) {
			continue
		}
		budget -= o.dstLen
		if budget < 0 && scheduled > 0 {
			break
		}
		scheduled++
		if j < r.aheadSeg {
			continue
		}
		r.aheadSeg = j + 1
		if r.cache.reserve(o.idx) {
			go r.prefetch(o)
		}
	}
}

// prefetch decodes o into the cache entry reserved for it.
func (r *PartitionReader) prefetch(o *opInfo) {
	r.sem <- struct{}{}
	defer func() { <-r.sem }()
	data, err := r.decode(o)
	r.cache.complete(o.idx, data, err)
}
