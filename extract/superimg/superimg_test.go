package superimg

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/romscan/romscan/extract"
	"github.com/romscan/romscan/internal/testutil"
)

type summary struct {
	Slots      int
	Partitions []string // name/group/attributes/size
	Groups     []Group
	Devices    []BlockDevice
}

func summarize(s *Super) summary {
	sum := summary{Slots: s.SlotCount(), Groups: s.Groups(), Devices: s.BlockDevices()}
	for _, p := range s.Partitions() {
		sum.Partitions = append(sum.Partitions, p.Name+"/"+p.Group+"/"+string(rune('0'+p.Attributes))+"/"+itoa(p.Size))
	}
	return sum
}

func itoa(v int64) string {
	return string(binary.AppendVarint(nil, v)) // compact, only compared
}

func TestCorpusSuperEmpty(t *testing.T) {
	tests := []struct {
		file string
		want summary
	}{
		{
			file: "super_empty-group_basic.img",
			want: summary{
				Slots: 2,
				Partitions: []string{
					"system/group_basic/1/" + itoa(0), "vendor/group_basic/1/" + itoa(0),
					"product/group_basic/1/" + itoa(0), "odm/group_basic/1/" + itoa(0),
				},
				Groups: []Group{{Name: "default"}, {Name: "group_basic", MaximumSize: 10271850496}},
				Devices: []BlockDevice{{Name: "super", FirstLogicalSector: 2048, Alignment: 1 << 20,
					Size: 10276044800}},
			},
		},
		{
			file: "super_empty-oneplus6t-retrofit.img",
			want: summary{
				Slots: 2,
				Partitions: []string{
					"odm/oneplus_dynamic_partitions/3/" + itoa(0), "product/oneplus_dynamic_partitions/3/" + itoa(0),
					"system/oneplus_dynamic_partitions/3/" + itoa(0), "system_ext/oneplus_dynamic_partitions/3/" + itoa(0),
					"vendor/oneplus_dynamic_partitions/3/" + itoa(0),
				},
				Groups: []Group{{Name: "default"}, {Name: "oneplus_dynamic_partitions", Flags: 1, MaximumSize: 4173332480}},
				Devices: []BlockDevice{
					{Name: "system", FirstLogicalSector: 2048, Alignment: 1 << 20, Size: 2998927360, Flags: 1},
					{Name: "odm", FirstLogicalSector: 2048, Alignment: 1 << 20, Size: 104857600, Flags: 1},
					{Name: "vendor", FirstLogicalSector: 2048, Alignment: 1 << 20, Size: 1073741824, Flags: 1},
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := testutil.Corpus(t, filepath.Join("firmware/lp-metadata", tt.file))
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !Sniff(data) {
				t.Errorf("Sniff = false")
			}
			s, err := Open(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if diff := cmp.Diff(tt.want, summarize(s)); diff != "" {
				t.Errorf("metadata (-want +got):\n%s", diff)
			}
			if s.Geometry() != (Geometry{MetadataMaxSize: 65536, MetadataSlotCount: 2, LogicalBlockSize: 4096}) {
				t.Errorf("geometry = %+v", s.Geometry())
			}
			if err := s.SelectSlot(1); err != nil || s.Slot() != 1 {
				t.Errorf("SelectSlot(1) = %v, slot %d", err, s.Slot())
			}
			if err := s.SelectSlot(2); err == nil {
				t.Errorf("SelectSlot(2) succeeded")
			}
			pr, err := s.Open("system")
			if err != nil || pr.Size() != 0 {
				t.Errorf("Open(system) = %v, size %v", err, pr)
			}
			// Corrupt one byte of the tables: the only copy fails its checksum.
			bad := bytes.Clone(data)
			bad[len(bad)-1] ^= 0xff
			if _, err := Open(bytes.NewReader(bad), int64(len(bad))); !errors.Is(err, extract.ErrCorrupt) {
				t.Errorf("Open(corrupt tables) = %v, want ErrCorrupt", err)
			}
		})
	}
}

func randBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func buildImage(t testing.TB, parts []PartitionSpec, opts WriteOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, parts, opts); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return buf.Bytes()
}

func TestRoundTrip(t *testing.T) {
	system := randBytes(1, 3*1<<20+123)
	vendor := randBytes(2, 5000)
	for _, slots := range []int{1, 2} {
		t.Run(string(rune('0'+slots))+"slots", func(t *testing.T) {
			img := buildImage(t, []PartitionSpec{
				{Name: "system", Data: bytes.NewReader(system), Size: int64(len(system)), Group: "main"},
				{Name: "vendor", Data: io.LimitReader(bytes.NewReader(vendor), 1<<20), Size: int64(len(vendor)), Group: "main"},
				{Name: "empty", Size: 0},
				{Name: "zeros", Size: 8192},
			}, WriteOptions{Slots: slots})
			if !Sniff(img[:4100]) {
				t.Fatal("Sniff = false")
			}
			s, err := Open(bytes.NewReader(img), int64(len(img)))
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if s.SlotCount() != slots {
				t.Errorf("slots = %d", s.SlotCount())
			}
			for name, want := range map[string][]byte{"system": system, "vendor": vendor, "empty": nil, "zeros": make([]byte, 8192)} {
				pr, err := s.Open(name)
				if err != nil {
					t.Fatalf("Open(%s): %v", name, err)
				}
				if pr.Size() < int64(len(want)) || pr.Size()%4096 != 0 {
					t.Errorf("%s size %d for %d bytes", name, pr.Size(), len(want))
				}
				got := make([]byte, len(want))
				if _, err := pr.ReadAt(got, 0); err != nil && len(want) > 0 {
					t.Fatalf("ReadAt(%s): %v", name, err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s: contents differ", name)
				}
				// Read across the end: short with io.EOF.
				if pr.Size() > 0 {
					tail := make([]byte, 10)
					n, err := pr.ReadAt(tail, pr.Size()-4)
					if n != 4 || err != io.EOF {
						t.Errorf("%s tail read = %d, %v", name, n, err)
					}
				}
			}
			// Damage the primary geometry and the primary metadata of slot 0:
			// the backups are used.
			bad := bytes.Clone(img)
			bad[reservedBytes+50] ^= 1
			bad[reservedBytes+2*geometrySize+20] ^= 1
			s2, err := Open(bytes.NewReader(bad), int64(len(bad)))
			if err != nil {
				t.Fatalf("Open with damaged primaries: %v", err)
			}
			if diff := cmp.Diff(summarize(s), summarize(s2)); diff != "" {
				t.Errorf("backup metadata differs (-primary +backup):\n%s", diff)
			}
		})
	}
}

func TestMultiReaderAt(t *testing.T) {
	data := randBytes(3, 3<<20)
	img := buildImage(t, []PartitionSpec{{Name: "system", Data: bytes.NewReader(data), Size: int64(len(data))}}, WriteOptions{})
	var parts []Part
	for off := 0; off < len(img); off += 1000003 {
		end := min(off+1000003, len(img))
		parts = append(parts, Part{R: bytes.NewReader(img[off:end]), Size: int64(end - off)})
	}
	m, err := NewMultiReaderAt(parts...)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(m, m.Size())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	pr, err := s.Open("system")
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(data))
	if _, err := pr.ReadAt(got, 0); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Error("contents differ through MultiReaderAt")
	}
}

// resign recomputes the header and tables checksums of the metadata copy at
// off after a test has edited it, so the parser's own checks are reached.
func resign(img []byte, off int) {
	le := binary.LittleEndian
	hsize := int(le.Uint32(img[off+8:]))
	tsize := int(le.Uint32(img[off+44:]))
	if off+hsize+tsize <= len(img) {
		ts := sha256.Sum256(img[off+hsize : off+hsize+tsize])
		copy(img[off+48:], ts[:])
	}
	clear(img[off+12 : off+44])
	hs := sha256.Sum256(img[off : off+hsize])
	copy(img[off+12:], hs[:])
}

func TestHostile(t *testing.T) {
	data := randBytes(4, 1<<20)
	good := buildImage(t, []PartitionSpec{{Name: "system", Data: bytes.NewReader(data), Size: int64(len(data))}}, WriteOptions{Slots: 1})
	const meta = reservedBytes + 2*geometrySize
	const backup = meta + 65536
	le := binary.LittleEndian
	const tables = headerV0Size
	// both applies an edit to the primary and the backup metadata (m is the
	// copy's offset) and re-signs them.
	both := func(edit func(b []byte, m int)) func([]byte) {
		return func(b []byte) {
			for _, m := range []int{meta, backup} {
				edit(b, m)
				resign(b, m)
			}
		}
	}
	tests := []struct {
		name    string
		edit    func(b []byte)
		openErr error // from Open
		partErr error // from Super.Open("system")
	}{
		{"bad-geometry-checksums", func(b []byte) { b[reservedBytes+40] ^= 1; b[reservedBytes+geometrySize+40] ^= 1 }, extract.ErrCorrupt, nil},
		{"bad-metadata-checksums", func(b []byte) { b[meta+130] ^= 1; b[backup+130] ^= 1 }, extract.ErrCorrupt, nil},
		{"not-super", func(b []byte) { clear(b[:3*geometrySize]) }, extract.ErrNotFormat, nil},
		{"extent-past-end", both(func(b []byte, m int) {
			le.PutUint64(b[m+tables+partitionEntrySize+12:], 1<<40)
		}), nil, extract.ErrCorrupt},
		{"extent-other-device", both(func(b []byte, m int) {
			le.PutUint32(b[m+tables+partitionEntrySize+20:], 3)
		}), nil, extract.ErrUnsupported},
		{"count-overflows-table", both(func(b []byte, m int) {
			le.PutUint32(b[m+92+4:], 1<<30)
		}), extract.ErrCorrupt, nil},
		{"partition-extents-overflow", both(func(b []byte, m int) {
			le.PutUint32(b[m+tables+40:], 0xffffffff)
		}), extract.ErrCorrupt, nil},
		{"group-index-overflow", both(func(b []byte, m int) {
			le.PutUint32(b[m+tables+48:], 7)
		}), extract.ErrCorrupt, nil},
		{"huge-tables-size", both(func(b []byte, m int) {
			le.PutUint32(b[m+44:], 0xfffffff0)
		}), extract.ErrCorrupt, nil},
		{"huge-metadata-max", func(b []byte) {
			for _, g := range []int{reservedBytes, reservedBytes + geometrySize} {
				le.PutUint32(b[g+40:], 0xfffffe00)
				clear(b[g+8 : g+40])
				s := sha256.Sum256(b[g : g+geometryStructSize])
				copy(b[g+8:], s[:])
			}
		}, extract.ErrCorrupt, nil},
		{"version-11", both(func(b []byte, m int) {
			le.PutUint16(b[m+4:], 11)
		}), extract.ErrUnsupported, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := bytes.Clone(good)
			tt.edit(b)
			s, err := Open(bytes.NewReader(b), int64(len(b)))
			if tt.openErr != nil {
				if !errors.Is(err, tt.openErr) {
					t.Fatalf("Open = %v, want %v", err, tt.openErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			_, err = s.Open("system")
			if !errors.Is(err, tt.partErr) {
				t.Errorf("Open(system) = %v, want %v", err, tt.partErr)
			}
		})
	}
	// Truncated images never panic and never succeed past their data.
	for _, n := range []int{0, 4, 4100, reservedBytes + geometrySize, meta + 100, backup + 10} {
		if _, err := Open(bytes.NewReader(good[:n]), int64(n)); err == nil && n < meta {
			t.Errorf("Open(truncated to %d) succeeded", n)
		}
	}
}

func FuzzSuper(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/fuzz/FuzzSuper/*")
	if len(seeds) == 0 {
		f.Add(buildImage(f, []PartitionSpec{{Name: "a", Size: 4096}}, WriteOptions{Slots: 1, MetadataMaxSize: 1024, Alignment: 4096}))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		check := func(what string, err error) {
			if err != nil && err != io.EOF && !extract.HasSentinel(err) {
				t.Fatalf("%s: %v wraps no extract sentinel", what, err)
			}
		}
		s, err := Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			check("Open", err)
			return
		}
		// Every partition of every slot is opened and read (its first
		// 64 KiB in steps, and the last byte).
		for i := range s.SlotCount() {
			if err := s.SelectSlot(i); err != nil {
				check("SelectSlot", err)
				continue
			}
			for _, p := range s.Partitions() {
				pr, err := s.Open(p.Name)
				if err != nil {
					check("Open "+p.Name, err)
					continue
				}
				buf := make([]byte, 512)
				for off := int64(0); off < pr.Size() && off < 1<<16; off += 4000 {
					_, err := pr.ReadAt(buf, off)
					check("ReadAt "+p.Name, err)
				}
				if pr.Size() > 0 {
					_, err := pr.ReadAt(buf[:1], pr.Size()-1)
					check("ReadAt end of "+p.Name, err)
				}
			}
		}
	})
}

func BenchmarkPartitionRead(b *testing.B) {
	data := randBytes(5, 32<<20)
	img := buildImage(b, []PartitionSpec{{Name: "system", Data: bytes.NewReader(data), Size: int64(len(data))}}, WriteOptions{})
	s, err := Open(bytes.NewReader(img), int64(len(img)))
	if err != nil {
		b.Fatal(err)
	}
	pr, _ := s.Open("system")
	buf := make([]byte, 1<<20)
	b.SetBytes(pr.Size())
	for b.Loop() {
		for off := int64(0); off < pr.Size(); off += int64(len(buf)) {
			pr.ReadAt(buf, off)
		}
	}
}
