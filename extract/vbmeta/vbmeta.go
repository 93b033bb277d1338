// Package vbmeta reads Android Verified Boot (AVB 2.0) metadata: vbmeta
// images ("AVB0" header, authentication and auxiliary blocks, descriptors)
// and the "AVBf" footer at the end of a partition image that locates the
// partition's own vbmeta.
package vbmeta

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math/big"

	"github.com/romscan/romscan/extract"
)

// Sizes fixed by the AVB format.
const (
	HeaderSize = 256
	FooterSize = 64
	// MaxSize is libavb's AVB_VBMETA_IMAGE_MAX_SIZE.
	MaxSize = 64 * 1024
)

// Header flags.
const (
	FlagHashtreeDisabled     = 1 << 0
	FlagVerificationDisabled = 1 << 1
)

var algorithms = []string{"NONE", "SHA256_RSA2048", "SHA256_RSA4096", "SHA256_RSA8192", "SHA512_RSA2048", "SHA512_RSA4096", "SHA512_RSA8192"}

// VBMeta is a parsed vbmeta image.
type VBMeta struct {
	LibavbMajor, LibavbMinor uint32 // required libavb version
	AlgorithmType            uint32
	Algorithm                string // "SHA256_RSA4096", ...
	RollbackIndex            uint64
	RollbackIndexLocation    uint32
	Flags                    uint32 // FlagHashtreeDisabled, FlagVerificationDisabled
	Release                  string // e.g. "avbtool 1.1.0"
	PublicKey                []byte // AVB public key blob (empty for NONE)
	PublicKeySHA1            string // hex SHA-1 of PublicKey, as avbtool prints it
	PublicKeyMetadata        []byte
	// HashValid is true when the digest in the authentication block matches
	// the header and auxiliary block; SignatureValid when the signature also
	// verifies with PublicKey. Both false for unsigned (NONE) images.
	HashValid, SignatureValid bool
	Size                      int64 // header + authentication + auxiliary bytes

	Hashes         []HashDescriptor
	Hashtrees      []HashtreeDescriptor
	Properties     []Property
	KernelCmdlines []KernelCmdline
	Chains         []ChainPartition
	Unknown        []uint64 // tags of descriptors not understood
}

// HashDescriptor verifies a whole partition by digest (boot, dtbo, ...).
type HashDescriptor struct {
	Partition     string
	ImageSize     uint64
	HashAlgorithm string
	Salt, Digest  string // hex
	Flags         uint32
}

// HashtreeDescriptor verifies a partition with dm-verity (system, vendor, ...).
type HashtreeDescriptor struct {
	Partition                    string
	DMVerityVersion              uint32
	ImageSize                    uint64
	TreeOffset, TreeSize         uint64
	DataBlockSize, HashBlockSize uint32
	FECNumRoots                  uint32
	FECOffset, FECSize           uint64
	HashAlgorithm                string
	Salt, RootDigest             string // hex
	Flags                        uint32
}

// Property is a key/value descriptor, e.g. com.android.build.system.fingerprint.
type Property struct{ Key, Value string }

// KernelCmdline is a kernel command-line fragment descriptor.
type KernelCmdline struct {
	Flags   uint32
	Cmdline string
}

// ChainPartition delegates verification of a partition to another key.
type ChainPartition struct {
	Partition             string
	RollbackIndexLocation uint32
	PublicKeySHA1         string // hex SHA-1 of the delegated key
	Flags                 uint32
}

// Property returns the value of the first property descriptor named key.
func (v *VBMeta) Property(key string) (string, bool) {
	for _, p := range v.Properties {
		if p.Key == key {
			return p.Value, true
		}
	}
	return "", false
}

// Footer is the AVB footer at the end of a partition image.
type Footer struct {
	VersionMajor, VersionMinor uint32
	OriginalImageSize          uint64 // bytes of the image before AVB data
	VBMetaOffset, VBMetaSize   uint64 // where the partition's vbmeta is
}

var be = binary.BigEndian

// FindFooter reads the footer in the last 64 bytes of a partition image.
// Its vbmeta offset is not checked against size, so a footer read alone
// still parses; Parse the vbmeta at VBMetaOffset to check it.
func FindFooter(r io.ReaderAt, size int64) (*Footer, error) {
	if size < FooterSize {
		return nil, fmt.Errorf("vbmeta: footer: image of %d bytes: %w", size, extract.ErrNotFormat)
	}
	b := make([]byte, FooterSize)
	if _, err := r.ReadAt(b, size-FooterSize); err != nil {
		return nil, fmt.Errorf("vbmeta: read footer at %d: %w", size-FooterSize, err)
	}
	if string(b[:4]) != "AVBf" {
		return nil, fmt.Errorf("vbmeta: footer magic %q: %w", b[:4], extract.ErrNotFormat)
	}
	f := &Footer{
		VersionMajor: be.Uint32(b[4:]), VersionMinor: be.Uint32(b[8:]),
		OriginalImageSize: be.Uint64(b[12:]), VBMetaOffset: be.Uint64(b[20:]), VBMetaSize: be.Uint64(b[28:]),
	}
	if f.VBMetaSize < HeaderSize || f.VBMetaSize > MaxSize || f.VBMetaOffset < f.OriginalImageSize || f.VBMetaOffset > 1<<62 {
		return nil, fmt.Errorf("vbmeta: footer: vbmeta of %d bytes at %d, original image %d bytes: %w", f.VBMetaSize, f.VBMetaOffset, f.OriginalImageSize, extract.ErrCorrupt)
	}
	return f, nil
}

// Parse reads the vbmeta image at the start of r (size bytes; a vbmeta
// partition is usually zero-padded past the image).
func Parse(r io.ReaderAt, size int64) (*VBMeta, error) {
	if size < HeaderSize {
		return nil, fmt.Errorf("vbmeta: header: %d bytes: %w", size, extract.ErrNotFormat)
	}
	h := make([]byte, HeaderSize)
	if _, err := r.ReadAt(h, 0); err != nil {
		return nil, fmt.Errorf("vbmeta: read header: %w", err)
	}
	if string(h[:4]) != "AVB0" {
		return nil, fmt.Errorf("vbmeta: magic %q: %w", h[:4], extract.ErrNotFormat)
	}
	authSize, auxSize := be.Uint64(h[12:]), be.Uint64(h[20:])
	if authSize > MaxSize || auxSize > MaxSize || HeaderSize+authSize+auxSize > MaxSize {
		return nil, fmt.Errorf("vbmeta: blocks of %d+%d bytes: %w", authSize, auxSize, extract.ErrLimit)
	}
	total := int64(HeaderSize + authSize + auxSize)
	if total > size {
		return nil, fmt.Errorf("vbmeta: %d bytes of blocks past end of %d-byte image: %w", total, size, extract.ErrCorrupt)
	}
	if authSize%64 != 0 || auxSize%64 != 0 {
		return nil, fmt.Errorf("vbmeta: block sizes %d, %d not multiples of 64: %w", authSize, auxSize, extract.ErrCorrupt)
	}
	buf := make([]byte, total)
	if _, err := r.ReadAt(buf, 0); err != nil {
		return nil, fmt.Errorf("vbmeta: read blocks: %w", err)
	}
	auth, aux := buf[HeaderSize:HeaderSize+authSize], buf[HeaderSize+authSize:]
	v := &VBMeta{
		LibavbMajor: be.Uint32(h[4:]), LibavbMinor: be.Uint32(h[8:]),
		AlgorithmType: be.Uint32(h[28:]), RollbackIndex: be.Uint64(h[112:]),
		Flags: be.Uint32(h[120:]), RollbackIndexLocation: be.Uint32(h[124:]),
		Release: cstr(h[128:176]), Size: total,
	}
	if int(v.AlgorithmType) < len(algorithms) {
		v.Algorithm = algorithms[v.AlgorithmType]
	} else {
		return nil, fmt.Errorf("vbmeta: algorithm %d: %w", v.AlgorithmType, extract.ErrUnsupported)
	}
	slice := func(blk []byte, offField, sizeField int, what string) ([]byte, error) {
		off, n := be.Uint64(h[offField:]), be.Uint64(h[sizeField:])
		if off > uint64(len(blk)) || n > uint64(len(blk))-off {
			return nil, fmt.Errorf("vbmeta: %s [%d,+%d) outside its %d-byte block: %w", what, off, n, len(blk), extract.ErrCorrupt)
		}
		return blk[off : off+n], nil
	}
	hash, err := slice(auth, 32, 40, "hash")
	if err != nil {
		return nil, err
	}
	sig, err := slice(auth, 48, 56, "signature")
	if err != nil {
		return nil, err
	}
	if v.PublicKey, err = slice(aux, 64, 72, "public key"); err != nil {
		return nil, err
	}
	if v.PublicKeyMetadata, err = slice(aux, 80, 88, "public key metadata"); err != nil {
		return nil, err
	}
	desc, err := slice(aux, 96, 104, "descriptors")
	if err != nil {
		return nil, err
	}
	if len(v.PublicKey) > 0 {
		v.PublicKeySHA1 = sha1Hex(v.PublicKey)
	}
	v.verify(buf[:HeaderSize], aux, hash, sig)
	if err := v.parseDescriptors(desc); err != nil {
		return nil, err
	}
	return v, nil
}

// verify checks the digest and the RSA signature over header + aux block.
func (v *VBMeta) verify(header, aux, hash, sig []byte) {
	var h crypto.Hash
	switch v.AlgorithmType {
	case 1, 2, 3:
		h = crypto.SHA256
	case 4, 5, 6:
		h = crypto.SHA512
	default:
		return
	}
	var sum []byte
	if h == crypto.SHA256 {
		d := sha256.New()
		d.Write(header)
		d.Write(aux)
		sum = d.Sum(nil)
	} else {
		d := sha512.New()
		d.Write(header)
		d.Write(aux)
		sum = d.Sum(nil)
	}
	v.HashValid = bytes.Equal(sum, hash)
	if !v.HashValid {
		return
	}
	pub := avbPublicKey(v.PublicKey)
	if pub == nil {
		return
	}
	v.SignatureValid = rsa.VerifyPKCS1v15(pub, h, sum, sig) == nil
}

// avbPublicKey decodes AVB's key blob: key_num_bits and n0inv (big-endian
// 32-bit), then the modulus and R^2 mod n, each key_num_bits/8 bytes.
func avbPublicKey(b []byte) *rsa.PublicKey {
	if len(b) < 8 {
		return nil
	}
	bits := be.Uint32(b)
	if bits == 0 || bits%8 != 0 || bits > 16384 || int(bits/8) > len(b)-8 {
		return nil
	}
	n := new(big.Int).SetBytes(b[8 : 8+bits/8])
	return &rsa.PublicKey{N: n, E: 65537}
}

// Descriptor tags.
const (
	tagProperty      = 0
	tagHashtree      = 1
	tagHash          = 2
	tagKernelCmdline = 3
	tagChain         = 4
)

func (v *VBMeta) parseDescriptors(b []byte) error {
	for off := 0; off < len(b); {
		if len(b)-off < 16 {
			return fmt.Errorf("vbmeta: descriptor at %d: %d bytes left: %w", off, len(b)-off, extract.ErrCorrupt)
		}
		tag, n := be.Uint64(b[off:]), be.Uint64(b[off+8:])
		if n > uint64(len(b)-off-16) || n%8 != 0 {
			return fmt.Errorf("vbmeta: descriptor at %d (tag %d): %d bytes past end of %d: %w", off, tag, n, len(b), extract.ErrCorrupt)
		}
		d := b[off+16 : off+16+int(n)]
		var err error
		switch tag {
		case tagProperty:
			err = v.property(d)
		case tagHashtree:
			err = v.hashtree(d)
		case tagHash:
			err = v.hashDesc(d)
		case tagKernelCmdline:
			err = v.cmdline(d)
		case tagChain:
			err = v.chain(d)
		default:
			v.Unknown = append(v.Unknown, tag)
		}
		if err != nil {
			return fmt.Errorf("vbmeta: descriptor at %d (tag %d): %w", off, tag, err)
		}
		off += 16 + int(n)
	}
	return nil
}

// fields splits the variable-length tail after a fixed part of fixed bytes
// into pieces of the given lengths.
func fields(d []byte, fixed int, lens ...uint64) ([][]byte, error) {
	if len(d) < fixed {
		return nil, fmt.Errorf("%d bytes, fixed part needs %d: %w", len(d), fixed, extract.ErrCorrupt)
	}
	off := uint64(fixed)
	var out [][]byte
	for _, n := range lens {
		if n > uint64(len(d))-off {
			return nil, fmt.Errorf("field of %d bytes at %d past end of %d: %w", n, off, len(d), extract.ErrCorrupt)
		}
		out = append(out, d[off:off+n])
		off += n
	}
	return out, nil
}

func (v *VBMeta) property(d []byte) error {
	if len(d) < 16 {
		return fmt.Errorf("property: %d bytes: %w", len(d), extract.ErrCorrupt)
	}
	kn, vn := be.Uint64(d), be.Uint64(d[8:])
	if kn > MaxSize || vn > MaxSize {
		return fmt.Errorf("property: sizes %d, %d: %w", kn, vn, extract.ErrCorrupt)
	}
	f, err := fields(d, 16, kn, 1, vn)
	if err != nil {
		return fmt.Errorf("property: %w", err)
	}
	v.Properties = append(v.Properties, Property{string(f[0]), string(f[2])})
	return nil
}

func (v *VBMeta) hashtree(d []byte) error {
	const fixed = 164
	if len(d) < fixed {
		return fmt.Errorf("hashtree: %d bytes: %w", len(d), extract.ErrCorrupt)
	}
	f, err := fields(d, fixed, uint64(be.Uint32(d[88:])), uint64(be.Uint32(d[92:])), uint64(be.Uint32(d[96:])))
	if err != nil {
		return fmt.Errorf("hashtree: %w", err)
	}
	v.Hashtrees = append(v.Hashtrees, HashtreeDescriptor{
		DMVerityVersion: be.Uint32(d), ImageSize: be.Uint64(d[4:]), TreeOffset: be.Uint64(d[12:]), TreeSize: be.Uint64(d[20:]),
		DataBlockSize: be.Uint32(d[28:]), HashBlockSize: be.Uint32(d[32:]), FECNumRoots: be.Uint32(d[36:]),
		FECOffset: be.Uint64(d[40:]), FECSize: be.Uint64(d[48:]), HashAlgorithm: cstr(d[56:88]),
		Partition: string(f[0]), Salt: hex.EncodeToString(f[1]), RootDigest: hex.EncodeToString(f[2]), Flags: be.Uint32(d[100:]),
	})
	return nil
}

func (v *VBMeta) hashDesc(d []byte) error {
	const fixed = 116
	if len(d) < fixed {
		return fmt.Errorf("hash: %d bytes: %w", len(d), extract.ErrCorrupt)
	}
	f, err := fields(d, fixed, uint64(be.Uint32(d[40:])), uint64(be.Uint32(d[44:])), uint64(be.Uint32(d[48:])))
	if err != nil {
		return fmt.Errorf("hash: %w", err)
	}
	v.Hashes = append(v.Hashes, HashDescriptor{
		ImageSize: be.Uint64(d), HashAlgorithm: cstr(d[8:40]),
		Partition: string(f[0]), Salt: hex.EncodeToString(f[1]), Digest: hex.EncodeToString(f[2]), Flags: be.Uint32(d[52:]),
	})
	return nil
}

func (v *VBMeta) cmdline(d []byte) error {
	if len(d) < 8 {
		return fmt.Errorf("kernel cmdline: %d bytes: %w", len(d), extract.ErrCorrupt)
	}
	f, err := fields(d, 8, uint64(be.Uint32(d[4:])))
	if err != nil {
		return fmt.Errorf("kernel cmdline: %w", err)
	}
	v.KernelCmdlines = append(v.KernelCmdlines, KernelCmdline{Flags: be.Uint32(d), Cmdline: string(f[0])})
	return nil
}

func (v *VBMeta) chain(d []byte) error {
	const fixed = 76
	if len(d) < fixed {
		return fmt.Errorf("chain partition: %d bytes: %w", len(d), extract.ErrCorrupt)
	}
	f, err := fields(d, fixed, uint64(be.Uint32(d[4:])), uint64(be.Uint32(d[8:])))
	if err != nil {
		return fmt.Errorf("chain partition: %w", err)
	}
	v.Chains = append(v.Chains, ChainPartition{
		RollbackIndexLocation: be.Uint32(d), Partition: string(f[0]), PublicKeySHA1: sha1Hex(f[1]), Flags: be.Uint32(d[12:]),
	})
	return nil
}

func sha1Hex(b []byte) string {
	s := sha1.Sum(b)
	return hex.EncodeToString(s[:])
}

func cstr(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
