package payload

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/romscan/romscan/extract"
)

// Magic is the first four bytes of every payload.
const Magic = "CrAU"

// headerSize is magic + major version + manifest size + metadata signature
// size, the fixed header of major version 2.
const headerSize = 4 + 8 + 8 + 4

// maxManifestSize bounds the manifest read into memory. Real manifests of
// full ROMs are a few MiB; deltas of large partitions stay well below this.
const maxManifestSize = 64 * extract.MiB

// maxOpBytes bounds the memory one operation may decode into (its destination
// extents, its source extents, its blob). Full payloads use 2 MiB operations;
// bsdiff operations cover at most a file.
const maxOpBytes = 1 * extract.GiB

// Payload is an opened payload.bin. It is safe for concurrent use.
type Payload struct {
	r             io.ReaderAt
	size          int64
	lim           extract.Limits
	major         uint64
	manifestSize  int64
	metaSigSize   int64
	dataOffset    int64
	blockSize     int64
	manifest      *DeltaArchiveManifest
	parts         []PartitionInfo
	byName        map[string]int
	signatureSpan [2]int64
}

// PartitionInfo summarises one partition of the payload.
type PartitionInfo struct {
	Name        string // partition_name, as written by the payload (attacker-controlled)
	Size        int64  // new_partition_info.size (if absent, the end of the last extent): bytes of the partition
	NumOps      int    // install operations
	Incremental bool   // some operation reads the old partition (OpenOptions.Base)
	HashSHA256  []byte // new_partition_info.hash, nil when absent
}

// Sniff reports whether head starts with the payload magic "CrAU".
func Sniff(head []byte) bool {
	return len(head) >= len(Magic) && string(head[:len(Magic)]) == Magic
}

// Open parses the header and the manifest of the payload in r (size bytes)
// and checks the metadata signature and the data blobs lie inside the file.
// Zero fields of lim take their values from extract.DefaultLimits. Open
// returns an error wrapping extract.ErrNotFormat when r is not a payload.
func Open(r io.ReaderAt, size int64, lim extract.Limits) (*Payload, error) {
	lim = lim.WithDefaults()
	var hdr [headerSize]byte
	if size < int64(len(Magic)) {
		return nil, fmt.Errorf("payload: header: %w", extract.ErrNotFormat)
	}
	n, err := r.ReadAt(hdr[:min(int64(headerSize), size)], 0)
	if n < len(Magic) {
		return nil, fmt.Errorf("payload: read header: %w", errors.Join(extract.ErrNotFormat, err))
	}
	if !Sniff(hdr[:n]) {
		return nil, fmt.Errorf("payload: magic %q: %w", hdr[:len(Magic)], extract.ErrNotFormat)
	}
	if n < headerSize {
		return nil, fmt.Errorf("payload: header truncated at %d of %d bytes: %w", n, headerSize, extract.ErrCorrupt)
	}
	p := &Payload{r: r, size: size, lim: lim}
	p.major = binary.BigEndian.Uint64(hdr[4:12])
	if p.major != 2 {
		return nil, fmt.Errorf("payload: major version %d (only 2 is read): %w", p.major, extract.ErrUnsupported)
	}
	msize := binary.BigEndian.Uint64(hdr[12:20])
	sigSize := int64(binary.BigEndian.Uint32(hdr[20:24]))
	if msize > uint64(maxManifestSize) {
		return nil, fmt.Errorf("payload: manifest of %d bytes (at most %d read): %w", msize, maxManifestSize, extract.ErrLimit)
	}
	p.manifestSize = int64(msize)
	p.metaSigSize = sigSize
	p.dataOffset = headerSize + p.manifestSize + sigSize
	if p.dataOffset > size {
		return nil, fmt.Errorf("payload: manifest (%d bytes) and metadata signature (%d bytes) end at %d, past the file end %d: %w",
			p.manifestSize, sigSize, p.dataOffset, size, extract.ErrCorrupt)
	}
	raw := make([]byte, p.manifestSize)
	if n, err := r.ReadAt(raw, headerSize); n < len(raw) {
		return nil, fmt.Errorf("payload: read manifest: got %d of %d bytes: %w", n, len(raw), errors.Join(extract.ErrCorrupt, err))
	}
	if err := checkManifestCounts(raw, lim); err != nil {
		return nil, err
	}
	m := new(DeltaArchiveManifest)
	// Required fields of proto2 are checked below where they matter, so a
	// manifest missing an unused one still opens.
	if err := (proto.UnmarshalOptions{AllowPartial: true, DiscardUnknown: true}).Unmarshal(raw, m); err != nil {
		return nil, fmt.Errorf("payload: decode manifest: %v: %w", err, extract.ErrCorrupt)
	}
	p.manifest = m
	bs := int64(m.GetBlockSize())
	if bs < 512 || bs > extract.MiB || bs&(bs-1) != 0 {
		return nil, fmt.Errorf("payload: block size %d (want a power of two in 512..1MiB): %w", bs, extract.ErrCorrupt)
	}
	p.blockSize = bs
	if m.SignaturesOffset != nil || m.SignaturesSize != nil {
		off, sz := m.GetSignaturesOffset(), m.GetSignaturesSize()
		if off > uint64(size) || sz > uint64(size) || uint64(p.dataOffset)+off+sz > uint64(size) {
			return nil, fmt.Errorf("payload: payload signatures at data offset %d (+%d bytes) past the file end %d: %w",
				off, sz, size, extract.ErrCorrupt)
		}
		p.signatureSpan = [2]int64{p.dataOffset + int64(off), int64(sz)}
	}
	if len(m.GetPartitions()) > lim.MaxEntries {
		return nil, fmt.Errorf("payload: %d partitions (at most %d): %w", len(m.GetPartitions()), lim.MaxEntries, extract.ErrLimit)
	}
	p.byName = make(map[string]int, len(m.GetPartitions()))
	for i, pu := range m.GetPartitions() {
		name := pu.GetPartitionName()
		if name == "" {
			return nil, fmt.Errorf("payload: partition %d has no name: %w", i, extract.ErrCorrupt)
		}
		if _, dup := p.byName[name]; dup {
			return nil, fmt.Errorf("payload: partition %q listed twice: %w", name, extract.ErrCorrupt)
		}
		p.byName[name] = i
		info := PartitionInfo{Name: name, NumOps: len(pu.GetOperations()), HashSHA256: pu.GetNewPartitionInfo().GetHash()}
		sz := pu.GetNewPartitionInfo().GetSize()
		if sz > uint64(1<<62) {
			return nil, fmt.Errorf("payload: partition %q: size %d: %w", name, sz, extract.ErrCorrupt)
		}
		info.Size = int64(sz)
		if pu.GetNewPartitionInfo() == nil || pu.GetNewPartitionInfo().Size == nil {
			// No declared size: the partition ends with its last extent.
			if end := extentsEnd(pu); end <= uint64(lim.MaxFileSize/bs)+1 {
				info.Size = int64(end) * bs
			}
		}
		for _, op := range pu.GetOperations() {
			if needsSource(op.GetType()) {
				info.Incremental = true
				break
			}
		}
		p.parts = append(p.parts, info)
	}
	return p, nil
}

// needsSource reports whether an operation reads the old partition.
func needsSource(t InstallOperation_Type) bool {
	switch t {
	case OpReplace, OpReplaceBZ, OpReplaceXZ,
		OpReplaceZstd, OpZero, OpDiscard:
		return false
	}
	// MOVE and BSDIFF (major version 1) patch the partition in place, so they
	// read old contents too; unknown types are assumed to.
	return true
}

// Manifest returns the decoded manifest. Callers must not modify it.
func (p *Payload) Manifest() *DeltaArchiveManifest { return p.manifest }

// Partitions lists the partitions in manifest order.
func (p *Payload) Partitions() []PartitionInfo {
	out := make([]PartitionInfo, len(p.parts))
	copy(out, p.parts)
	return out
}

// BlockSize returns the manifest's block size in bytes.
func (p *Payload) BlockSize() int64 { return p.blockSize }

// MinorVersion returns the manifest's minor version: 0 for a full payload.
func (p *Payload) MinorVersion() uint32 { return p.manifest.GetMinorVersion() }

// DataOffset returns the file offset of the data blobs, after the header,
// the manifest and the metadata signature.
func (p *Payload) DataOffset() int64 { return p.dataOffset }

// MetadataSignature returns the file offset and size of the metadata
// signature (a serialized Signatures message); size 0 means unsigned.
func (p *Payload) MetadataSignature() (off, size int64) {
	return headerSize + p.manifestSize, p.metaSigSize
}

// PayloadSignature returns the file offset and size of the payload
// signatures blob; size 0 means none is declared.
func (p *Payload) PayloadSignature() (off, size int64) {
	return p.signatureSpan[0], p.signatureSpan[1]
}

// Message kinds of the manifest whose fields are themselves messages, for
// counting before decoding.
type msgKind int

const (
	kindOther msgKind = iota
	kindManifest
	kindPartition
	kindOp
	kindCowMerge
	kindDynamic
	kindGroup
)

// nested lists, per message kind, the fields holding messages and their kinds.
var nested = map[msgKind]map[protowire.Number]msgKind{
	kindManifest:  {13: kindPartition, 15: kindDynamic, 17: kindOther},
	kindPartition: {5: kindOther, 6: kindOther, 7: kindOther, 8: kindOp, 10: kindOther, 11: kindOther, 14: kindOther, 15: kindOther, 18: kindCowMerge},
	kindOp:        {4: kindOther, 6: kindOther},
	kindCowMerge:  {2: kindOther, 3: kindOther},
	kindDynamic:   {1: kindGroup, 6: kindOther},
	kindGroup:     {},
}

// manifestCounts tallies what decoding a manifest would allocate.
type manifestCounts struct {
	fields int // every field at every level: each is an allocation
	ops    int
}

// checkManifestCounts walks the manifest's wire format without allocating
// and refuses one whose decoding would build more objects than the limits
// allow: a 2-byte empty message still costs a heap object once decoded.
func checkManifestCounts(raw []byte, lim extract.Limits) error {
	var c manifestCounts
	maxFields := 8 * lim.MaxEntries
	if err := countFields(raw, kindManifest, &c, maxFields); err != nil {
		return err
	}
	if c.ops > lim.MaxEntries {
		return fmt.Errorf("payload: manifest lists %d operations (at most %d): %w", c.ops, lim.MaxEntries, extract.ErrLimit)
	}
	return nil
}

func countFields(b []byte, kind msgKind, c *manifestCounts, maxFields int) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("payload: manifest: bad field tag: %v: %w", protowire.ParseError(n), extract.ErrCorrupt)
		}
		b = b[n:]
		c.fields++
		if c.fields > maxFields {
			return fmt.Errorf("payload: manifest has more than %d fields: %w", maxFields, extract.ErrLimit)
		}
		if kind == kindPartition && num == 8 {
			c.ops++
		}
		sub, isMsg := nested[kind][num]
		if isMsg && typ == protowire.BytesType {
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return fmt.Errorf("payload: manifest: field %d: %v: %w", num, protowire.ParseError(n), extract.ErrCorrupt)
			}
			if nested[sub] != nil || sub == kindOther {
				if err := countFields(v, sub, c, maxFields); err != nil {
					return err
				}
			}
			b = b[n:]
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return fmt.Errorf("payload: manifest: field %d: %v: %w", num, protowire.ParseError(n), extract.ErrCorrupt)
		}
		b = b[n:]
	}
	return nil
}
