package erofs

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz/lzma"

	"github.com/romscan/romscan/extract"
)

// Compression constants (the kernel's erofs_fs.h).
const (
	algLZ4     = 0
	algLZMA    = 1
	algDeflate = 2
	algZstd    = 3

	adviseCompacted2B   = 0x0001
	adviseBigPcluster1  = 0x0002
	adviseBigPcluster2  = 0x0004
	adviseInlinePcl     = 0x0008
	adviseInterlacedPcl = 0x0010
	adviseFragmentPcl   = 0x0020

	lclusterPlain   = 0
	lclusterHead1   = 1
	lclusterNonhead = 2
	lclusterHead2   = 3

	d0Cblkcnt   = 1 << 11
	partialRef  = 1 << 15
	fragmentBit = 0x80 // in h_clusterbits: the whole file lives in the packed inode

	maxPclusterSize = 1 << 20  // Z_EROFS_PCLUSTER_MAX_SIZE: encoded bytes of one pcluster
	maxExtentSize   = 12 << 20 // Z_EROFS_PCLUSTER_MAX_DSIZE: decoded bytes of one extent
	checkpointEvery = 64       // extents between saved walker states
	zcacheSize      = 4        // decoded extents kept per open file
)

// zhead is the head lcluster of an extent while the walker looks for its end.
type zhead struct {
	lcn     uint64
	lstart  int64
	typ     uint8
	pblk    uint64
	cblks   uint32 // compressed blocks, 0 until a CBLKCNT lcluster says otherwise
	partial bool
}

// zstate is the walker's position: the pending head and the next lcluster.
type zstate struct {
	pending zhead
	next    uint64
	count   int // extents produced before this state
	done    bool
}

// zext is one extent: a logical byte range decoded from one pcluster.
type zext struct {
	lstart, lend int64
	typ          uint8
	paddr, plen  int64
	inline       bool
	partial      bool
}

// lcluster is one decoded lcluster index.
type lcluster struct {
	typ        uint8
	clusterofs uint32
	pblk       uint64
	cblkcnt    uint32
	partial    bool
	nextpack   int64
}

// zreader reads a compressed inode.
type zreader struct {
	fsys     *FS
	ino      *inode
	lbits    uint
	totalidx uint64
	advise   uint16
	algs     [2]uint8
	compact  bool
	ebase    int64 // compact: first index; full: first index
	c4init   uint64
	c2b      uint64
	idataOff int64
	idataLen int64

	mu          sync.Mutex
	front       zstate   // furthest walker state reached
	checkpoints []zstate // every checkpointEvery-th state, by count
	last        zext
	haveLast    bool
	cache       [zcacheSize]struct {
		lstart int64
		data   []byte
	}
	cacheNext int
	idxOff    int64 // cached index pack
	idxBuf    []byte
}

func (fsys *FS) compressedReader(ino *inode) (io.ReaderAt, error) {
	if ino.size == 0 {
		return bytes.NewReader(nil), nil
	}
	hdrOff := (ino.dataEnd() + 7) &^ 7
	var h [8]byte
	if err := fsys.readFull(h[:], hdrOff); err != nil {
		return nil, fmt.Errorf("inode %d: map header: %w", ino.nid, err)
	}
	le := binary.LittleEndian
	z := &zreader{fsys: fsys, ino: ino, advise: le.Uint16(h[4:]), compact: ino.layout == layoutCompressedCompact}
	z.algs = [2]uint8{h[6] & 15, h[6] >> 4}
	cb := h[7]
	if cb&fragmentBit != 0 || z.advise&adviseFragmentPcl != 0 {
		return nil, fmt.Errorf("inode %d: fragments in the packed inode: %w", ino.nid, extract.ErrUnsupported)
	}
	z.lbits = fsys.blkbits + uint(cb&7)
	if z.lbits > 20 {
		return nil, fmt.Errorf("inode %d: lcluster size 2^%d: %w", ino.nid, z.lbits, extract.ErrCorrupt)
	}
	z.totalidx = uint64((ino.size + 1<<z.lbits - 1) >> z.lbits)
	if z.compact {
		if (z.advise&adviseBigPcluster1 == 0) != (z.advise&adviseBigPcluster2 == 0) {
			return nil, fmt.Errorf("inode %d: inconsistent big pcluster flags for compact indexes: %w", ino.nid, extract.ErrCorrupt)
		}
		z.ebase = hdrOff + 8
		z.c4init = uint64((32 - z.ebase%32) / 4)
		if z.c4init == 8 {
			z.c4init = 0
		}
		if z.advise&adviseCompacted2B != 0 && z.c4init < z.totalidx {
			z.c2b = (z.totalidx - z.c4init) &^ 15
		}
		// The whole index area must lie inside the image.
		size := int64(z.c4init)*4 + int64(z.c2b)*2 + int64(z.totalidx-min(z.totalidx, z.c4init+z.c2b))*4
		if z.totalidx > uint64(fsys.size) || size > fsys.size-z.ebase {
			return nil, fmt.Errorf("inode %d: %d lcluster indexes past the end of the image: %w", ino.nid, z.totalidx, extract.ErrCorrupt)
		}
	} else {
		z.ebase = hdrOff + 16
		if z.totalidx > uint64(fsys.size)/8 || int64(z.totalidx)*8 > fsys.size-z.ebase {
			return nil, fmt.Errorf("inode %d: %d lcluster indexes past the end of the image: %w", ino.nid, z.totalidx, extract.ErrCorrupt)
		}
	}
	if z.advise&adviseInlinePcl != 0 {
		z.idataLen = int64(le.Uint16(h[2:]))
		lc, err := z.load(z.totalidx - 1)
		if err != nil {
			return nil, fmt.Errorf("inode %d: tail lcluster: %w", ino.nid, err)
		}
		z.idataOff = lc.nextpack
		if z.idataLen == 0 || z.idataOff%fsys.blksz+z.idataLen > fsys.blksz || z.idataOff+z.idataLen > fsys.size {
			return nil, fmt.Errorf("inode %d: inline pcluster of %d bytes at %d: %w", ino.nid, z.idataLen, z.idataOff, extract.ErrCorrupt)
		}
	}
	first, err := z.load(0)
	if err != nil {
		return nil, fmt.Errorf("inode %d: %w", ino.nid, err)
	}
	if first.typ == lclusterNonhead || first.clusterofs != 0 {
		return nil, fmt.Errorf("inode %d: first lcluster is not a head at offset 0: %w", ino.nid, extract.ErrCorrupt)
	}
	z.front = zstate{pending: zhead{lcn: 0, typ: first.typ, pblk: first.pblk, partial: first.partial}, next: 1}
	z.checkpoints = []zstate{z.front}
	return z, nil
}

// readIndex returns n bytes of index data at off, caching the last pack.
func (z *zreader) readIndex(off int64, n int) ([]byte, error) {
	if z.idxBuf != nil && off >= z.idxOff && off+int64(n) <= z.idxOff+int64(len(z.idxBuf)) {
		return z.idxBuf[off-z.idxOff : off-z.idxOff+int64(n)], nil
	}
	// Read up to the end of the block, so a walk reads each index block once.
	end := min((off/z.fsys.blksz+1)*z.fsys.blksz, z.fsys.size)
	if end < off+int64(n) {
		end = off + int64(n)
	}
	buf := make([]byte, end-off)
	if err := z.fsys.readFull(buf, off); err != nil {
		return nil, fmt.Errorf("lcluster index: %w", err)
	}
	z.idxOff, z.idxBuf = off, buf
	return buf[:n], nil
}

// load decodes the index of lcluster lcn.
func (z *zreader) load(lcn uint64) (lcluster, error) {
	if lcn >= z.totalidx {
		return lcluster{}, fmt.Errorf("lcluster %d of %d: %w", lcn, z.totalidx, extract.ErrCorrupt)
	}
	if !z.compact {
		return z.loadFull(lcn)
	}
	return z.loadCompact(lcn)
}

func (z *zreader) loadFull(lcn uint64) (lcluster, error) {
	pos := z.ebase + int64(lcn)*8
	b, err := z.readIndex(pos, 8)
	if err != nil {
		return lcluster{}, err
	}
	le := binary.LittleEndian
	advise := le.Uint16(b)
	lc := lcluster{typ: uint8(advise & 3), nextpack: pos + 8}
	if lc.typ == lclusterNonhead {
		d0 := le.Uint16(b[4:])
		if d0&d0Cblkcnt != 0 {
			if z.advise&(adviseBigPcluster1|adviseBigPcluster2) == 0 {
				return lc, fmt.Errorf("lcluster %d: compressed block count without big pclusters: %w", lcn, extract.ErrCorrupt)
			}
			lc.cblkcnt = uint32(d0 &^ d0Cblkcnt)
		}
		return lc, nil
	}
	lc.clusterofs = uint32(le.Uint16(b[2:]))
	lc.pblk = uint64(le.Uint32(b[4:]))
	lc.partial = advise&partialRef != 0
	return lc, nil
}

func decodeCompactBits(lobits uint, in []byte, pos uint) (uint32, uint8) {
	v := binary.LittleEndian.Uint32(in[pos/8:]) >> (pos & 7)
	return v & (1<<lobits - 1), uint8(v>>lobits) & 3
}

func (z *zreader) loadCompact(lcn uint64) (lcluster, error) {
	pos := z.ebase
	shift := uint(2)
	rel := lcn
	switch {
	case rel < z.c4init:
	case rel-z.c4init < z.c2b:
		pos += int64(z.c4init) * 4
		rel -= z.c4init
		shift = 1
	default:
		pos += int64(z.c4init)*4 + int64(z.c2b)*2
		rel -= z.c4init + z.c2b
	}
	pos += int64(rel) << shift
	var vcnt int
	switch {
	case shift == 2 && z.lbits <= 14:
		vcnt = 2
	case shift == 1 && z.lbits <= 12:
		vcnt = 16
	default:
		return lcluster{}, fmt.Errorf("compact %d-byte indexes with 2^%d lclusters: %w", 1<<shift, z.lbits, extract.ErrUnsupported)
	}
	packSize := int64(vcnt) << shift
	base := pos &^ (packSize - 1)
	in, err := z.readIndex(base, int(packSize))
	if err != nil {
		return lcluster{}, err
	}
	lobits := max(z.lbits, 12)
	encodebits := uint((packSize - 4) * 8 / int64(vcnt))
	i := int((pos - base) >> shift)
	big := z.advise&adviseBigPcluster1 != 0
	lc := lcluster{nextpack: base + packSize}

	lo, typ := decodeCompactBits(lobits, in, encodebits*uint(i))
	lc.typ = typ
	if typ == lclusterNonhead {
		if lo&d0Cblkcnt != 0 {
			if !big {
				return lc, fmt.Errorf("lcluster %d: compressed block count without big pclusters: %w", lcn, extract.ErrCorrupt)
			}
			lc.cblkcnt = lo &^ d0Cblkcnt
		}
		return lc, nil
	}
	lc.clusterofs = lo
	// The pack stores one base block address; count the blocks of the
	// pclusters headed earlier in the pack.
	nblk := uint64(0)
	if !big {
		nblk = 1
		for i > 0 {
			i--
			lo, typ := decodeCompactBits(lobits, in, encodebits*uint(i))
			if typ == lclusterNonhead {
				i -= int(lo)
			}
			if i >= 0 {
				nblk++
			}
		}
	} else {
		for i > 0 {
			i--
			lo, typ := decodeCompactBits(lobits, in, encodebits*uint(i))
			if typ == lclusterNonhead {
				if lo&d0Cblkcnt != 0 {
					i--
					nblk += uint64(lo &^ d0Cblkcnt)
					continue
				}
				if lo <= 1 {
					return lc, fmt.Errorf("lcluster %d: bad delta %d in a big-pcluster pack: %w", lcn, lo, extract.ErrCorrupt)
				}
				i -= int(lo) - 2
				continue
			}
			nblk++
		}
	}
	lc.pblk = uint64(binary.LittleEndian.Uint32(in[packSize-4:])) + nblk
	return lc, nil
}

func (z *zreader) bigFor(typ uint8) bool {
	if typ == lclusterHead2 {
		return z.advise&adviseBigPcluster2 != 0
	}
	return z.advise&adviseBigPcluster1 != 0
}

// next produces the extent of st's pending head and advances st.
func (z *zreader) next(st *zstate) (zext, error) {
	if st.done {
		return zext{}, io.EOF
	}
	h := st.pending
	for lcn := st.next; ; lcn++ {
		if lcn >= z.totalidx {
			st.done = true
			st.count++
			return z.mkext(h, z.ino.size, true), nil
		}
		lc, err := z.load(lcn)
		if err != nil {
			return zext{}, err
		}
		if lc.typ == lclusterNonhead {
			if lcn == h.lcn+1 {
				if lc.cblkcnt > 0 {
					h.cblks = lc.cblkcnt
				} else if z.bigFor(h.typ) {
					return zext{}, fmt.Errorf("lcluster %d: big pcluster without a compressed block count: %w", lcn, extract.ErrCorrupt)
				}
			}
			continue
		}
		if lc.clusterofs >= 1<<z.lbits {
			return zext{}, fmt.Errorf("lcluster %d: cluster offset %d: %w", lcn, lc.clusterofs, extract.ErrCorrupt)
		}
		start := int64(lcn)<<z.lbits + int64(lc.clusterofs)
		if start >= z.ino.size {
			st.done = true
			st.count++
			return z.mkext(h, z.ino.size, true), nil
		}
		e := z.mkext(h, start, false)
		st.pending = zhead{lcn: lcn, lstart: start, typ: lc.typ, pblk: lc.pblk, partial: lc.partial}
		st.next = lcn + 1
		st.count++
		return e, nil
	}
}

func (z *zreader) mkext(h zhead, end int64, last bool) zext {
	e := zext{lstart: h.lstart, lend: end, typ: h.typ, partial: h.partial}
	if last && z.advise&adviseInlinePcl != 0 {
		e.inline, e.paddr, e.plen = true, z.idataOff, z.idataLen
		return e
	}
	cblks := int64(h.cblks)
	if cblks == 0 {
		cblks = 1 << (z.lbits - z.fsys.blkbits)
	}
	e.paddr = int64(h.pblk) << z.fsys.blkbits
	e.plen = cblks << z.fsys.blkbits
	return e
}

// find returns the extent holding logical offset off.
func (z *zreader) find(off int64) (zext, error) {
	if z.haveLast && off >= z.last.lstart && off < z.last.lend {
		return z.last, nil
	}
	var st zstate
	if off >= z.front.pending.lstart && !z.front.done {
		st = z.front
	} else {
		i := sort.Search(len(z.checkpoints), func(i int) bool { return z.checkpoints[i].pending.lstart > off })
		st = z.checkpoints[max(i-1, 0)]
	}
	for {
		atFront := st.count == z.front.count && !z.front.done
		e, err := z.next(&st)
		if err != nil {
			if err == io.EOF {
				return zext{}, fmt.Errorf("offset %d past the last extent: %w", off, extract.ErrCorrupt)
			}
			return zext{}, err
		}
		if atFront {
			z.front = st
			if st.count%checkpointEvery == 0 && !st.done {
				z.checkpoints = append(z.checkpoints, st)
			}
		}
		if off < e.lend {
			if off < e.lstart {
				return zext{}, fmt.Errorf("offset %d before extent at %d: %w", off, e.lstart, extract.ErrCorrupt)
			}
			z.last, z.haveLast = e, true
			return e, nil
		}
	}
}

// ReadAt decompresses the extents covering [off, off+len(p)).
func (z *zreader) ReadAt(p []byte, off int64) (int, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	n := 0
	for n < len(p) {
		if off >= z.ino.size {
			return n, io.EOF
		}
		e, err := z.find(off)
		if err != nil {
			return n, fmt.Errorf("inode %d: %w", z.ino.nid, err)
		}
		data, err := z.extentData(e)
		if err != nil {
			return n, fmt.Errorf("inode %d extent at %d: %w", z.ino.nid, e.lstart, err)
		}
		k := copy(p[n:], data[off-e.lstart:])
		n += k
		off += int64(k)
	}
	return n, nil
}

func (z *zreader) extentData(e zext) ([]byte, error) {
	for _, c := range z.cache {
		if c.data != nil && c.lstart == e.lstart {
			return c.data, nil
		}
	}
	data, err := z.fsys.decodeExtent(e, z.algs, z.advise&adviseInterlacedPcl != 0)
	if err != nil {
		return nil, err
	}
	z.cache[z.cacheNext].lstart, z.cache[z.cacheNext].data = e.lstart, data
	z.cacheNext = (z.cacheNext + 1) % zcacheSize
	return data, nil
}

// decodeExtent reads the pcluster of e and decodes exactly its logical
// length; output is bounded by the extent size, itself bounded by
// maxExtentSize.
func (fsys *FS) decodeExtent(e zext, algs [2]uint8, interlaced bool) ([]byte, error) {
	llen := e.lend - e.lstart
	if llen <= 0 || llen > maxExtentSize {
		return nil, fmt.Errorf("decoded extent of %d bytes: %w", llen, extract.ErrCorrupt)
	}
	if e.plen <= 0 || e.plen > maxPclusterSize {
		return nil, fmt.Errorf("pcluster of %d bytes: %w", e.plen, extract.ErrCorrupt)
	}
	raw := make([]byte, e.plen)
	if err := fsys.readFull(raw, e.paddr); err != nil {
		return nil, fmt.Errorf("pcluster: %w", err)
	}
	if e.typ == lclusterPlain {
		if llen > e.plen {
			return nil, fmt.Errorf("uncompressed extent of %d bytes in a %d-byte pcluster: %w", llen, e.plen, extract.ErrCorrupt)
		}
		out := make([]byte, llen)
		shift := int64(0)
		if interlaced && !e.inline {
			shift = e.lstart % fsys.blksz
		}
		if shift == 0 || e.plen != fsys.blksz {
			copy(out, raw)
		} else {
			k := copy(out, raw[shift:])
			copy(out[k:], raw)
		}
		return out, nil
	}
	alg := algs[0]
	if e.typ == lclusterHead2 {
		alg = algs[1]
	}
	outLen := llen
	if e.partial {
		outLen = maxExtentSize
	}
	return decompress(alg, raw, llen, outLen, fsys.sb.FeatureIncompat&incompatZeroPadding != 0)
}

// decompress decodes one pcluster of algorithm alg into llen bytes (the
// stream may hold up to outLen when the extent refers to part of it).
func decompress(alg uint8, raw []byte, llen, outLen int64, zeroPadding bool) ([]byte, error) {
	if zeroPadding {
		// Compressed data is aligned to the end of the pcluster.
		i := 0
		for i < len(raw) && raw[i] == 0 {
			i++
		}
		raw = raw[i:]
	}
	switch alg {
	case algLZ4:
		if !zeroPadding {
			// Without 0padding the stream starts the pcluster and is
			// followed by junk: decode only until llen bytes are out.
			return lz4Partial(raw, llen)
		}
		out := make([]byte, outLen)
		n, err := lz4.UncompressBlock(raw, out)
		if err != nil {
			return nil, fmt.Errorf("lz4: %v: %w", err, extract.ErrCorrupt)
		}
		if int64(n) < llen || (outLen == llen && int64(n) != llen) {
			return nil, fmt.Errorf("lz4: decoded %d bytes, want %d: %w", n, llen, extract.ErrCorrupt)
		}
		return out[:llen], nil
	case algLZMA:
		return microLZMA(raw, llen)
	case algDeflate:
		out := make([]byte, llen)
		fr := flate.NewReader(bytes.NewReader(raw))
		defer fr.Close()
		if _, err := io.ReadFull(fr, out); err != nil {
			return nil, fmt.Errorf("deflate: %v: %w", err, extract.ErrCorrupt)
		}
		return out, nil
	case algZstd:
		return nil, fmt.Errorf("zstd-compressed pcluster: %w", extract.ErrUnsupported)
	}
	return nil, fmt.Errorf("compression algorithm %d: %w", alg, extract.ErrUnsupported)
}

// microLZMA decodes a MicroLZMA stream (as xz-embedded defines it: the
// first byte is the inverted LZMA properties byte and stands in for the
// range coder's always-zero first byte; no header, no end marker) by
// rebuilding a classic .lzma header with the known decoded size.
func microLZMA(raw []byte, llen int64) ([]byte, error) {
	if len(raw) < 5 {
		return nil, fmt.Errorf("microlzma: %d-byte stream: %w", len(raw), extract.ErrCorrupt)
	}
	props := ^raw[0]
	if props >= 9*5*5 {
		return nil, fmt.Errorf("microlzma: properties byte %#x: %w", props, extract.ErrCorrupt)
	}
	dict := uint32(4096)
	for int64(dict) < llen {
		dict <<= 1
	}
	hdr := make([]byte, 13, 14)
	hdr[0] = props
	binary.LittleEndian.PutUint32(hdr[1:], dict)
	binary.LittleEndian.PutUint64(hdr[5:], uint64(llen))
	hdr = append(hdr, 0)
	r, err := lzma.NewReader(io.MultiReader(bytes.NewReader(hdr), bytes.NewReader(raw[1:])))
	if err != nil {
		return nil, fmt.Errorf("microlzma: %v: %w", err, extract.ErrCorrupt)
	}
	out := make([]byte, llen)
	if _, err := io.ReadFull(r, out); err != nil {
		return nil, fmt.Errorf("microlzma: %v: %w", err, extract.ErrCorrupt)
	}
	return out, nil
}

// lz4Partial decodes an LZ4 block until llen bytes are produced, ignoring
// what follows (pclusters of images without 0padding).
func lz4Partial(src []byte, llen int64) ([]byte, error) {
	out := make([]byte, 0, llen)
	bad := func(what string) ([]byte, error) {
		return nil, fmt.Errorf("lz4: %s at input %d, output %d: %w", what, len(src), len(out), extract.ErrCorrupt)
	}
	length := func(n int) (int, bool) {
		if n != 15 {
			return n, true
		}
		for {
			if len(src) == 0 {
				return 0, false
			}
			b := src[0]
			src = src[1:]
			n += int(b)
			if n > int(llen)+255 {
				return 0, false
			}
			if b != 255 {
				return n, true
			}
		}
	}
	for int64(len(out)) < llen {
		if len(src) == 0 {
			return bad("truncated")
		}
		token := src[0]
		src = src[1:]
		lit, ok := length(int(token >> 4))
		if !ok {
			return bad("literal length")
		}
		lit = min(lit, int(llen)-len(out))
		if lit > len(src) {
			return bad("literals past the input")
		}
		out = append(out, src[:lit]...)
		src = src[lit:]
		if int64(len(out)) == llen {
			break
		}
		if len(src) < 2 {
			return bad("truncated offset")
		}
		offset := int(src[0]) | int(src[1])<<8
		src = src[2:]
		if offset == 0 || offset > len(out) {
			return bad("match offset")
		}
		ml, ok := length(int(token & 15))
		if !ok {
			return bad("match length")
		}
		ml = min(ml+4, int(llen)-len(out))
		start := len(out) - offset
		for i := range ml {
			out = append(out, out[start+i])
		}
	}
	return out, nil
}
