package payload

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/ulikunitz/xz"
	"google.golang.org/protobuf/proto"

	"github.com/romscan/romscan/extract"
	"github.com/romscan/romscan/extract/payload/metadata"
)

// WriteBlockSize is the block size of payloads made by Write.
const WriteBlockSize = 4096

// DefaultChunkSize is the bytes per operation Write uses by default, as
// update_engine's full payload generator does.
const DefaultChunkSize = 2 * extract.MiB

// PartitionSpec is one partition for Write: Size bytes read from Data.
type PartitionSpec struct {
	Name string
	Data io.ReaderAt
	Size int64
}

// WriteOptions tune Write.
type WriteOptions struct {
	// ChunkSize is the bytes each operation covers, a multiple of
	// WriteBlockSize; 0 means DefaultChunkSize.
	ChunkSize int64
	// XZ writes REPLACE_XZ operations where xz makes a chunk smaller, and
	// REPLACE operations otherwise; without it every operation is REPLACE.
	XZ bool
	// Workers compress chunks in parallel; 0 means GOMAXPROCS.
	Workers int
}

// writeChunk is one operation of the payload being written.
type writeChunk struct {
	part   int
	off    int64 // partition offset
	n      int64 // padded length (whole blocks)
	xzBlob []byte
	hash   [sha256.Size]byte
	err    error
}

// Write writes a full, unsigned payload (major version 2, minor version 0,
// block size 4096) holding parts, with REPLACE and REPLACE_XZ operations.
// Compressed blobs are kept in memory until the manifest is written, so it
// suits the project's sample ROMs and tests rather than multi-GiB images.
func Write(w io.Writer, parts []PartitionSpec, opts WriteOptions) error {
	chunk := opts.ChunkSize
	if chunk == 0 {
		chunk = DefaultChunkSize
	}
	if chunk < WriteBlockSize || chunk%WriteBlockSize != 0 || chunk > maxOpBytes {
		return fmt.Errorf("payload: write: chunk size %d is not a multiple of %d up to %d", chunk, WriteBlockSize, maxOpBytes)
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	seen := make(map[string]bool)
	for _, ps := range parts {
		if ps.Name == "" || seen[ps.Name] {
			return fmt.Errorf("payload: write: partition name %q empty or repeated", ps.Name)
		}
		seen[ps.Name] = true
		if ps.Size < 0 || ps.Data == nil && ps.Size > 0 {
			return fmt.Errorf("payload: write: partition %q: size %d without data", ps.Name, ps.Size)
		}
	}

	// Pass 1: hash every partition and chunk, compressing chunks in parallel.
	var chunks []*writeChunk
	partHash := make([][]byte, len(parts))
	jobs := make(chan *writeChunk)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for c := range jobs {
				c.err = c.compress(parts[c.part])
			}
		})
	}
	var readErr error
	for i, ps := range parts {
		h := sha256.New()
		for off := int64(0); off < ps.Size; off += chunk {
			c := &writeChunk{part: i, off: off, n: min(chunk, roundUp(ps.Size-off, WriteBlockSize))}
			buf, err := readChunk(ps, c.off, c.n)
			if err != nil {
				readErr = err
				break
			}
			h.Write(buf[:min(c.n, ps.Size-off)])
			c.hash = sha256.Sum256(buf)
			chunks = append(chunks, c)
			if opts.XZ {
				jobs <- c
			}
		}
		if readErr != nil {
			break
		}
		partHash[i] = h.Sum(nil)
	}
	close(jobs)
	wg.Wait()
	if readErr != nil {
		return readErr
	}
	for _, c := range chunks {
		if c.err != nil {
			return c.err
		}
	}

	// The manifest, with data offsets in blob order.
	m := &metadata.DeltaArchiveManifest{
		BlockSize:    proto.Uint32(WriteBlockSize),
		MinorVersion: proto.Uint32(0),
	}
	pus := make([]*metadata.PartitionUpdate, len(parts))
	for i, ps := range parts {
		pus[i] = &metadata.PartitionUpdate{
			PartitionName:    proto.String(ps.Name),
			NewPartitionInfo: &metadata.PartitionInfo{Size: proto.Uint64(uint64(ps.Size)), Hash: partHash[i]},
		}
	}
	var dataOff uint64
	for _, c := range chunks {
		op := &metadata.InstallOperation{
			Type:       OpReplace.Enum(),
			DataOffset: proto.Uint64(dataOff),
			DstExtents: []*metadata.Extent{{
				StartBlock: proto.Uint64(uint64(c.off / WriteBlockSize)),
				NumBlocks:  proto.Uint64(uint64(c.n / WriteBlockSize)),
			}},
		}
		blobLen := uint64(c.n)
		if c.xzBlob != nil {
			op.Type = OpReplaceXZ.Enum()
			blobLen = uint64(len(c.xzBlob))
			sum := sha256.Sum256(c.xzBlob)
			op.DataSha256Hash = sum[:]
		} else {
			op.DataSha256Hash = c.hash[:]
		}
		op.DataLength = proto.Uint64(blobLen)
		dataOff += blobLen
		pus[c.part].Operations = append(pus[c.part].Operations, op)
	}
	m.Partitions = pus
	raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return fmt.Errorf("payload: write: encode manifest: %w", err)
	}

	// Pass 2: header, manifest, blobs.
	var hdr [headerSize]byte
	copy(hdr[:], Magic)
	binary.BigEndian.PutUint64(hdr[4:], 2)
	binary.BigEndian.PutUint64(hdr[12:], uint64(len(raw)))
	binary.BigEndian.PutUint32(hdr[20:], 0)
	if _, err := w.Write(hdr[:]); err != nil {
		return fmt.Errorf("payload: write header: %w", err)
	}
	if _, err := w.Write(raw); err != nil {
		return fmt.Errorf("payload: write manifest: %w", err)
	}
	for _, c := range chunks {
		blob := c.xzBlob
		if blob == nil {
			if blob, err = readChunk(parts[c.part], c.off, c.n); err != nil {
				return err
			}
			if sha256.Sum256(blob) != c.hash {
				return fmt.Errorf("payload: write: partition %q changed while being written", parts[c.part].Name)
			}
		}
		if _, err := w.Write(blob); err != nil {
			return fmt.Errorf("payload: write data: %w", err)
		}
	}
	return nil
}

func roundUp(n, to int64) int64 { return (n + to - 1) / to * to }

// readChunk reads n bytes of ps at off, zero-padded past its end.
func readChunk(ps PartitionSpec, off, n int64) ([]byte, error) {
	buf := make([]byte, n)
	want := min(n, ps.Size-off)
	if k, err := ps.Data.ReadAt(buf[:want], off); int64(k) < want {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("payload: write: read partition %q at %d: %w", ps.Name, off, err)
	}
	return buf, nil
}

// compress sets c.xzBlob when xz makes the chunk smaller.
func (c *writeChunk) compress(ps PartitionSpec) error {
	buf, err := readChunk(ps, c.off, c.n)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	// CRC32 is the check update_engine's xz-embedded decoder accepts.
	zw, err := xz.WriterConfig{DictCap: int(max(c.n, 1<<12)), CheckSum: xz.CRC32}.NewWriter(&out)
	if err != nil {
		return fmt.Errorf("payload: write: xz: %w", err)
	}
	if _, err := zw.Write(buf); err != nil {
		return fmt.Errorf("payload: write: xz: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("payload: write: xz: %w", err)
	}
	if int64(out.Len()) < c.n {
		c.xzBlob = out.Bytes()
	}
	return nil
}
