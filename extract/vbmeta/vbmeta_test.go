package vbmeta

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/ulikunitz/xz"

	"github.com/romscan/romscan/extract"
	"github.com/romscan/romscan/internal/testutil"
)

func pad8(b []byte) []byte {
	for len(b)%8 != 0 {
		b = append(b, 0)
	}
	return b
}

func descriptor(tag uint64, body []byte) []byte {
	body = pad8(body)
	out := be.AppendUint64(nil, tag)
	out = be.AppendUint64(out, uint64(len(body)))
	return append(out, body...)
}

func propDesc(k, v string) []byte {
	b := be.AppendUint64(nil, uint64(len(k)))
	b = be.AppendUint64(b, uint64(len(v)))
	b = append(b, k+"\x00"+v+"\x00"...)
	return descriptor(tagProperty, b)
}

func hashDescBytes(part string, salt, digest []byte) []byte {
	b := make([]byte, 116)
	be.PutUint64(b, 4096)
	copy(b[8:], "sha256")
	be.PutUint32(b[40:], uint32(len(part)))
	be.PutUint32(b[44:], uint32(len(salt)))
	be.PutUint32(b[48:], uint32(len(digest)))
	b = append(b, part...)
	b = append(b, salt...)
	b = append(b, digest...)
	return descriptor(tagHash, b)
}

func hashtreeDescBytes(part string) []byte {
	b := make([]byte, 164)
	be.PutUint32(b, 1)
	be.PutUint64(b[4:], 1<<20)
	be.PutUint64(b[12:], 1<<20)
	be.PutUint64(b[20:], 8192)
	be.PutUint32(b[28:], 4096)
	be.PutUint32(b[32:], 4096)
	copy(b[56:], "sha1")
	be.PutUint32(b[88:], uint32(len(part)))
	be.PutUint32(b[92:], 2)
	be.PutUint32(b[96:], 3)
	b = append(b, part...)
	b = append(b, 0xaa, 0xbb, 1, 2, 3)
	return descriptor(tagHashtree, b)
}

func chainDescBytes(part string, key []byte) []byte {
	b := make([]byte, 76)
	be.PutUint32(b, 2)
	be.PutUint32(b[4:], uint32(len(part)))
	be.PutUint32(b[8:], uint32(len(key)))
	b = append(b, part...)
	b = append(b, key...)
	return descriptor(tagChain, b)
}

func cmdlineDescBytes(s string) []byte {
	b := make([]byte, 8)
	be.PutUint32(b, 1)
	be.PutUint32(b[4:], uint32(len(s)))
	return descriptor(tagKernelCmdline, append(b, s...))
}

func avbKey(pub *rsa.PublicKey) []byte {
	n := pub.N.Bytes()
	b := be.AppendUint32(nil, uint32(len(n)*8))
	b = be.AppendUint32(b, 0)
	b = append(b, n...)
	return append(b, make([]byte, len(n))...) // rr, unused by the reader
}

func block64(b []byte) []byte {
	for len(b)%64 != 0 {
		b = append(b, 0)
	}
	return b
}

// build makes a vbmeta image; a nil key gives algorithm NONE.
func build(key *rsa.PrivateKey, descs ...[]byte) []byte {
	var aux []byte
	for _, d := range descs {
		aux = append(aux, d...)
	}
	descSize := len(aux)
	var pubKey []byte
	if key != nil {
		pubKey = avbKey(&key.PublicKey)
	}
	keyOff := len(aux)
	aux = block64(append(aux, pubKey...))
	h := make([]byte, HeaderSize)
	copy(h, "AVB0")
	be.PutUint32(h[4:], 1)
	authSize := 0
	if key != nil {
		authSize = 32 + key.Size()
		be.PutUint32(h[28:], 1) // SHA256_RSA2048 (any size works for the reader)
		be.PutUint64(h[32:], 0)
		be.PutUint64(h[40:], 32)
		be.PutUint64(h[48:], 32)
		be.PutUint64(h[56:], uint64(key.Size()))
		be.PutUint64(h[64:], uint64(keyOff))
		be.PutUint64(h[72:], uint64(len(pubKey)))
	}
	authSize = len(block64(make([]byte, authSize)))
	be.PutUint64(h[12:], uint64(authSize))
	be.PutUint64(h[20:], uint64(len(aux)))
	be.PutUint64(h[96:], 0)
	be.PutUint64(h[104:], uint64(descSize))
	be.PutUint64(h[112:], 7)
	be.PutUint32(h[120:], FlagHashtreeDisabled)
	copy(h[128:], "avbtool 1.2.0")
	auth := make([]byte, authSize)
	if key != nil {
		d := sha256.New()
		d.Write(h)
		d.Write(aux)
		sum := d.Sum(nil)
		copy(auth, sum)
		sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum)
		if err != nil {
			panic(err)
		}
		copy(auth[32:], sig)
	}
	out := append(h, auth...)
	return append(out, aux...)
}

func TestParse(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 1024)
	descs := [][]byte{
		propDesc("com.android.build.system.fingerprint", "google/test/test:14/UP1A/1:user/release-keys"),
		hashDescBytes("boot", []byte{1, 2}, []byte{3, 4, 5}),
		hashtreeDescBytes("system"),
		chainDescBytes("vbmeta_system", avbKey(&other.PublicKey)),
		cmdlineDescBytes("dm=\"1 vroot\""),
		descriptor(99, []byte("future")),
	}
	signed := build(key, descs...)
	data := append(bytes.Clone(signed), make([]byte, 4096)...) // partition padding
	v, err := Parse(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	want := &VBMeta{
		LibavbMajor: 1, AlgorithmType: 1, Algorithm: "SHA256_RSA2048", RollbackIndex: 7, Flags: FlagHashtreeDisabled,
		Release: "avbtool 1.2.0", HashValid: true, SignatureValid: true, Size: int64(len(signed)),
		Properties:     []Property{{"com.android.build.system.fingerprint", "google/test/test:14/UP1A/1:user/release-keys"}},
		Hashes:         []HashDescriptor{{Partition: "boot", ImageSize: 4096, HashAlgorithm: "sha256", Salt: "0102", Digest: "030405"}},
		Hashtrees:      []HashtreeDescriptor{{Partition: "system", DMVerityVersion: 1, ImageSize: 1 << 20, TreeOffset: 1 << 20, TreeSize: 8192, DataBlockSize: 4096, HashBlockSize: 4096, HashAlgorithm: "sha1", Salt: "aabb", RootDigest: "010203"}},
		Chains:         []ChainPartition{{Partition: "vbmeta_system", RollbackIndexLocation: 2, PublicKeySHA1: sha1Hex(avbKey(&other.PublicKey))}},
		KernelCmdlines: []KernelCmdline{{Flags: 1, Cmdline: "dm=\"1 vroot\""}},
		Unknown:        []uint64{99},
	}
	if diff := cmp.Diff(want, v, cmpopts.IgnoreFields(VBMeta{}, "PublicKey", "PublicKeySHA1", "PublicKeyMetadata")); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	if fp, ok := v.Property("com.android.build.system.fingerprint"); !ok || fp == "" {
		t.Error("fingerprint property not found")
	}
	// A flipped descriptor byte breaks the hash; a flipped signature byte the signature.
	for _, tt := range []struct {
		name      string
		at        int
		hash, sig bool
	}{
		{"descriptor", len(signed) - 300, false, false},
		{"signature", HeaderSize + 40, true, false},
	} {
		c := bytes.Clone(signed)
		c[tt.at] ^= 0x01
		v, err := Parse(bytes.NewReader(c), int64(len(c)))
		if err != nil {
			continue // the flip may also make the descriptors unreadable
		}
		if v.HashValid != tt.hash || v.SignatureValid != tt.sig {
			t.Errorf("%s flipped: hash %v signature %v, want %v %v", tt.name, v.HashValid, v.SignatureValid, tt.hash, tt.sig)
		}
	}
	unsigned := build(nil, descs[0])
	v, err = Parse(bytes.NewReader(unsigned), int64(len(unsigned)))
	if err != nil || v.Algorithm != "NONE" || v.HashValid || len(v.Properties) != 1 {
		t.Errorf("unsigned: %+v, %v", v, err)
	}
}

func TestFooter(t *testing.T) {
	img := make([]byte, 8192)
	meta := build(nil, propDesc("a", "b"))
	copy(img[4096:], meta)
	f := img[len(img)-FooterSize:]
	copy(f, "AVBf")
	be.PutUint32(f[4:], 1)
	be.PutUint64(f[12:], 4000)
	be.PutUint64(f[20:], 4096)
	be.PutUint64(f[28:], uint64(len(meta)))
	got, err := FindFooter(bytes.NewReader(img), int64(len(img)))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&Footer{VersionMajor: 1, OriginalImageSize: 4000, VBMetaOffset: 4096, VBMetaSize: uint64(len(meta))}, got); diff != "" {
		t.Errorf("footer (-want +got):\n%s", diff)
	}
	v, err := Parse(io.NewSectionReader(bytes.NewReader(img), int64(got.VBMetaOffset), int64(got.VBMetaSize)), int64(got.VBMetaSize))
	if err != nil || len(v.Properties) != 1 {
		t.Errorf("vbmeta at footer: %v", err)
	}
}

func TestHostile(t *testing.T) {
	good := build(nil, propDesc("k", "v"), hashDescBytes("boot", nil, []byte{1}))
	put64 := func(off int, v uint64) []byte {
		c := bytes.Clone(good)
		binary.BigEndian.PutUint64(c[off:], v)
		return c
	}
	put32 := func(off int, v uint32) []byte {
		c := bytes.Clone(good)
		binary.BigEndian.PutUint32(c[off:], v)
		return c
	}
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, extract.ErrNotFormat},
		{"bad-magic", append([]byte("AVB1"), good[4:]...), extract.ErrNotFormat},
		{"truncated", good[:HeaderSize+10], extract.ErrCorrupt},
		{"aux-huge", put64(20, 1<<62), extract.ErrLimit},
		{"aux-unaligned", put64(20, 63), extract.ErrCorrupt},
		{"algorithm", put32(28, 77), extract.ErrUnsupported},
		{"descriptors-outside", put64(104, 1<<20), extract.ErrCorrupt},
		{"key-outside", put64(64, 1<<40), extract.ErrCorrupt},
		{"descriptor-length", func() []byte { c := bytes.Clone(good); be.PutUint64(c[HeaderSize+8:], 1<<40); return c }(), extract.ErrCorrupt},
		{"property-key-length", func() []byte { c := bytes.Clone(good); be.PutUint64(c[HeaderSize+16:], 1000); return c }(), extract.ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(bytes.NewReader(tt.data), int64(len(tt.data)))
			if !errors.Is(err, tt.want) {
				t.Errorf("Parse: err %v, want %v", err, tt.want)
			}
		})
	}
	for _, tt := range []struct {
		name string
		data []byte
		want error
	}{
		{"short", []byte("AVBf"), extract.ErrNotFormat},
		{"no-magic", make([]byte, 64), extract.ErrNotFormat},
		{"vbmeta-before-image", footer(1000, 10, 512), extract.ErrCorrupt},
		{"vbmeta-huge", footer(0, 0, 1<<40), extract.ErrCorrupt},
	} {
		if _, err := FindFooter(bytes.NewReader(tt.data), int64(len(tt.data))); !errors.Is(err, tt.want) {
			t.Errorf("FindFooter %s: err %v, want %v", tt.name, err, tt.want)
		}
	}
}

func footer(orig, off, size uint64) []byte {
	f := make([]byte, FooterSize)
	copy(f, "AVBf")
	be.PutUint64(f[12:], orig)
	be.PutUint64(f[20:], off)
	be.PutUint64(f[28:], size)
	return f
}

func readCorpus(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(testutil.Corpus(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Ext(rel) == ".xz" {
		zr, err := xz.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if b, err = io.ReadAll(io.LimitReader(zr, 1<<20)); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

func TestCorpus(t *testing.T) {
	files := []string{
		"firmware/iris-hp4024/vbmeta.img",
		"firmware/boot-images/blueline-pq1a.181105.017.a1/vbmeta.img",
		"firmware/boot-images/coral-qq1d.200205.002/vbmeta.img",
		"firmware/boot-images/coral-qq1d.200205.002/vbmeta_system.img",
		"firmware/boot-images/redfin-rd1a.200810.021.a1/vbmeta.img.xz",
		"firmware/ext4/pixel-system_dlkm.vbmeta.img",
		"firmware/ext4/pixel-vendor_dlkm.vbmeta.img",
	}
	for _, rel := range files {
		t.Run(filepath.Base(filepath.Dir(rel))+"-"+filepath.Base(rel), func(t *testing.T) {
			b := readCorpus(t, rel)
			v, err := Parse(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			if v.Algorithm != "NONE" && (!v.HashValid || !v.SignatureValid) {
				t.Errorf("%s signed with %s: hash valid %v, signature valid %v", rel, v.Algorithm, v.HashValid, v.SignatureValid)
			}
			var parts []string
			for _, h := range v.Hashes {
				parts = append(parts, "hash:"+h.Partition)
			}
			for _, h := range v.Hashtrees {
				parts = append(parts, "hashtree:"+h.Partition)
			}
			for _, c := range v.Chains {
				parts = append(parts, "chain:"+c.Partition)
			}
			fp, _ := v.Property("com.android.build.system.fingerprint")
			t.Logf("%s: %s rollback %d flags %d release %q key %s; %v; %d properties; fingerprint %q",
				rel, v.Algorithm, v.RollbackIndex, v.Flags, v.Release, v.PublicKeySHA1, parts, len(v.Properties), fp)
			if len(parts) == 0 {
				t.Error("no hash, hashtree or chain descriptors")
			}
			if rel == "firmware/boot-images/redfin-rd1a.200810.021.a1/vbmeta.img.xz" {
				want := "google/redfin/redfin:11/RD1A.200810.021.A1/6795347:user/release-keys"
				if got, _ := v.Property("com.android.build.boot.fingerprint"); got != want || len(v.Properties) != 14 {
					t.Errorf("boot fingerprint %q (%d properties), want %q", got, len(v.Properties), want)
				}
			}
		})
	}
	t.Run("taimen-footer", func(t *testing.T) {
		b := readCorpus(t, "firmware/boot-images/taimen.avbfooter")
		f, err := FindFooter(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(&Footer{VersionMajor: 1, OriginalImageSize: 0x1ba4000, VBMetaOffset: 0x1ba4000, VBMetaSize: 0x200}, f); diff != "" {
			t.Errorf("footer (-want +got):\n%s", diff)
		}
	})
}

func seeds() map[string][]byte {
	return map[string][]byte{
		"unsigned": build(nil, propDesc("com.android.build.system.fingerprint", "x"), hashDescBytes("boot", []byte{1}, []byte{2}),
			hashtreeDescBytes("system"), chainDescBytes("vbmeta_system", []byte{0, 0, 0, 8, 0, 0, 0, 0, 1, 1}), cmdlineDescBytes("a=b")),
		"minimal": build(nil),
	}
}

func FuzzVBMeta(f *testing.F) {
	for _, s := range seeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Parse(bytes.NewReader(data), int64(len(data)))
		if err == nil && v.Size > int64(len(data)) {
			t.Fatalf("size %d past %d bytes", v.Size, len(data))
		}
		if err != nil && !extract.HasSentinel(err) {
			t.Fatalf("Parse: %v wraps no extract sentinel", err)
		}
		if _, err := FindFooter(bytes.NewReader(data), int64(len(data))); err != nil && !extract.HasSentinel(err) {
			t.Fatalf("FindFooter: %v wraps no extract sentinel", err)
		}
	})
}

var updateSeeds = flag.Bool("update-seeds", false, "rewrite testdata/fuzz/FuzzVBMeta seeds")

// TestSeeds writes the fuzz seeds (built in code) when -update-seeds is set.
func TestSeeds(t *testing.T) {
	if !*updateSeeds {
		t.Skip("run with -update-seeds to rewrite the fuzz seeds")
	}
	for name, data := range seeds() {
		testutil.WriteFuzzSeed(t, filepath.Join("testdata", "fuzz", "FuzzVBMeta", name), data)
	}
}

func BenchmarkParse(b *testing.B) {
	data := seeds()["unsigned"]
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(bytes.NewReader(data), int64(len(data))); err != nil {
			b.Fatal(err)
		}
	}
}
