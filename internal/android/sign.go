package android

import (
	"bytes"
	"crypto/dsa" //nolint:staticcheck // old APKs are signed with DSA keys
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/avast/apkparser"
	"github.com/avast/apkverifier"
	"github.com/avast/apkverifier/fullsailor/pkcs7"

	"github.com/romscan/romscan/extract"
)

// Signer is one signing certificate.
type Signer struct {
	SHA256, SHA1       string // hex of the certificate DER
	Subject, Issuer    string
	NotBefore          time.Time
	NotAfter           time.Time
	PublicKeyAlgorithm string // RSA, DSA, ECDSA, Ed25519
	KeyBits            int
	Scheme             int  // 1 (JAR signature), 2, 3 or 31 (signing block)
	DebugCert          bool // subject CN=Android Debug
}

// ErrUnsigned says the archive carries no signature at all.
var ErrUnsigned = errors.New("unsigned")

// Signing block IDs (APK Signature Scheme v2, v3, v3.1).
const (
	blockV2  = 0x7109871a
	blockV3  = 0xf05368c0
	blockV31 = 0x1b93ad61

	maxSigFile     = 4 * extract.MiB // a PKCS#7 block larger than this is hostile
	maxVerifyBytes = 2 * extract.GiB // archives above this are not fully verified
	maxBlockPairs  = 4096            // ID-value pairs walked in a signing block
)

// signingBlocks lists the schemes found in the APK Signing Block that sits
// just before the central directory, with the signer certificates each
// scheme's block carries (parsed, not verified).
func signingBlocks(r io.ReaderAt, size int64) (schemes []int, signers []Signer) {
	cd, ok := centralDirOffset(r, size)
	if !ok || cd < 32 || cd > size {
		return nil, nil
	}
	var tail [24]byte
	if _, err := r.ReadAt(tail[:], cd-24); err != nil {
		return nil, nil
	}
	if string(tail[8:]) != "APK Sig Block 42" {
		return nil, nil
	}
	bsize := binary.LittleEndian.Uint64(tail[:8])
	if bsize < 24 || bsize > uint64(cd-8) {
		return nil, nil
	}
	off := cd - int64(bsize) - 8 + 8
	end := cd - 24
	for i := 0; off+12 <= end && i < maxBlockPairs; i++ {
		var h [12]byte
		if _, err := r.ReadAt(h[:], off); err != nil {
			break
		}
		l := binary.LittleEndian.Uint64(h[:8])
		if l < 4 || l > uint64(end-off-8) {
			break
		}
		scheme := 0
		switch binary.LittleEndian.Uint32(h[8:]) {
		case blockV2:
			scheme = 2
		case blockV3:
			scheme = 3
		case blockV31:
			scheme = 31
		}
		if scheme != 0 {
			schemes = append(schemes, scheme)
			if l-4 <= uint64(maxSigFile) {
				v := make([]byte, l-4)
				if _, err := r.ReadAt(v, off+12); err == nil {
					for _, c := range blockCerts(v) {
						signers = append(signers, newSigner(c, scheme))
					}
				}
			}
		}
		off += 8 + int64(l)
	}
	return schemes, signers
}

// lpItems splits a sequence of uint32-length-prefixed items.
func lpItems(b []byte) [][]byte {
	var out [][]byte
	for len(b) >= 4 && len(out) < maxBlockPairs {
		n := binary.LittleEndian.Uint32(b)
		if uint64(n) > uint64(len(b)-4) {
			break
		}
		out = append(out, b[4:4+n])
		b = b[4+n:]
	}
	return out
}

// lpFirst returns the first length-prefixed item of b.
func lpFirst(b []byte) []byte {
	if it := lpItems(b); len(it) > 0 {
		return it[0]
	}
	return nil
}

// blockCerts reads the first certificate of each signer in a v2/v3/v3.1
// block: signers -> signer -> signed data -> (digests, certificates).
func blockCerts(v []byte) []*x509.Certificate {
	var out []*x509.Certificate
	for _, signer := range lpItems(lpFirst(v)) {
		sd := lpFirst(signer)
		items := lpItems(sd)
		if len(items) < 2 {
			continue
		}
		certs := lpItems(items[1])
		if len(certs) == 0 {
			continue
		}
		if c, err := x509.ParseCertificate(certs[0]); err == nil {
			out = append(out, c)
		}
	}
	return out
}

// centralDirOffset finds the end of central directory record and returns the
// central directory's offset.
func centralDirOffset(r io.ReaderAt, size int64) (int64, bool) {
	const eocdLen = 22
	if size < eocdLen {
		return 0, false
	}
	n := min(size, eocdLen+65535)
	buf := make([]byte, n)
	if _, err := r.ReadAt(buf, size-n); err != nil && err != io.EOF {
		return 0, false
	}
	for i := len(buf) - eocdLen; i >= 0; i-- {
		if binary.LittleEndian.Uint32(buf[i:]) != 0x06054b50 {
			continue
		}
		cd := int64(binary.LittleEndian.Uint32(buf[i+16:]))
		if cd <= size-n+int64(i) {
			return cd, true
		}
	}
	return 0, false
}

// isV1SigBlock reports whether name is a JAR signature block: META-INF/X.RSA,
// .DSA or .EC (upper or lower case).
func isV1SigBlock(name string) bool {
	dir, file := path.Split(name)
	if dir != "META-INF/" {
		return false
	}
	ext := strings.ToUpper(path.Ext(file))
	return ext == ".RSA" || ext == ".DSA" || ext == ".EC"
}

// readSigners fills Signers and Schemes.
func (a *App) readSigners() {
	schemes, blockSigners := signingBlocks(a.r, a.size)
	for _, sc := range schemes {
		if !slices.Contains(a.Schemes, sc) {
			a.Schemes = append(a.Schemes, sc)
		}
	}
	var v1 []Signer
	for _, e := range a.Entries {
		if e.Duplicate || !isV1SigBlock(e.Name) {
			continue
		}
		if !slices.Contains(a.Schemes, 1) {
			a.Schemes = append(a.Schemes, 1)
		}
		rd, n, err := readMember(a.r, a.size, e, maxSigFile, a.lim)
		if err != nil {
			continue
		}
		data := make([]byte, n)
		if _, err := rd.ReadAt(data, 0); err != nil && err != io.EOF {
			continue
		}
		v1 = append(v1, pkcs7Signers(data)...)
	}
	slices.Sort(a.Schemes)
	// Signers by scheme, newest first; the same certificate may appear
	// once per scheme, which is how mismatched-signer tricks show.
	slices.SortStableFunc(blockSigners, func(x, y Signer) int { return y.Scheme - x.Scheme })
	for _, s := range append(blockSigners, v1...) {
		if !slices.ContainsFunc(a.Signers, func(o Signer) bool { return o.SHA256 == s.SHA256 && o.Scheme == s.Scheme }) {
			a.Signers = append(a.Signers, s)
		}
	}
}

// SignError verifies the signature, once, and says what is wrong with it:
// nil when it verifies, ErrUnsigned when there is none.
func (a *App) SignError() error {
	a.signOnce.Do(func() { a.signErr = a.verify() })
	return a.signErr
}

// decodedDex returns the bytes of the DEX member stored at data offset off
// when an analyzer has decoded it already.
func (a *App) decodedDex(off int64) ([]byte, bool) {
	a.dexMu.Lock()
	defer a.dexMu.Unlock()
	b, ok := a.dexBytes[off]
	return b, ok
}

// verify runs apkverifier when the central directory is sound (its own zip
// reader is used then) and the archive is not hostile by size.
func (a *App) verify() (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = extract.PanicError("android: verify signature", p)
		}
	}()
	if len(a.Schemes) == 0 {
		return fmt.Errorf("android: signature: %w", ErrUnsigned)
	}
	if !a.cdOK {
		return fmt.Errorf("android: verify signature: central directory unreadable: %w", extract.ErrCorrupt)
	}
	if a.size > maxVerifyBytes {
		return fmt.Errorf("android: verify signature: %d bytes, limit %d: %w", a.size, maxVerifyBytes, extract.ErrLimit)
	}
	// JAR signature verification inflates every member: refuse bombs.
	var total int64
	for _, e := range a.Entries {
		total += e.Size
		if a.lim.MaxRatio > 0 && e.Size > minRatioFloor && float64(e.Size) > a.lim.MaxRatio*float64(max(e.CompressedSize, 1)) {
			return fmt.Errorf("android: verify signature: member %q ratio over %.0f: %w", e.Name, a.lim.MaxRatio, extract.ErrLimit)
		}
	}
	if a.lim.MaxTotalBytes > 0 && total > a.lim.MaxTotalBytes {
		return fmt.Errorf("android: verify signature: %d decoded bytes: %w", total, extract.ErrLimit)
	}
	rs := io.NewSectionReader(a.r, 0, a.size)
	zr, err := apkparser.OpenZipReader(rs)
	if err != nil {
		return fmt.Errorf("android: verify signature: %v: %w", err, extract.ErrCorrupt)
	}
	defer zr.Close()
	useFastInflate(zr, a.r, a.Entries, a.decodedDex)
	// Verify as a current device does: with a v2+ signing block present,
	// Android 7.0 and later ignore the JAR signature, so the costly v1 check
	// (which inflates every member) is only made for v1-only APKs.
	verify := func() (apkverifier.Result, error) { return apkverifier.VerifyReader(rs, zr) }
	if slices.ContainsFunc(a.Schemes, func(s int) bool { return s >= 2 }) {
		verify = func() (apkverifier.Result, error) {
			return apkverifier.VerifyWithSdkVersionReader(rs, zr, modernSDK, math.MaxInt32)
		}
	}
	if _, verr := verify(); verr != nil {
		return fmt.Errorf("android: verify signature: %s", a.stableVerifyError(verr.Error()))
	}
	return nil
}

// missingEntryPrefix starts apkverifier's error for a member that the JAR
// manifest does not list.
const missingEntryPrefix = "No manifest entry for required file '"

// stableVerifyError makes apkverifier's missing-entry error name the same
// member on every run: it checks members in map order and names the first
// unlisted one it meets, so with several unlisted members the report would
// change from run to run. The first unlisted member in name order is named
// instead, when our reading of META-INF/MANIFEST.MF agrees that the member
// apkverifier named is unlisted.
func (a *App) stableVerifyError(msg string) string {
	named, ok := strings.CutPrefix(msg, missingEntryPrefix)
	if !ok || !strings.HasSuffix(named, "'") {
		return msg
	}
	named = strings.TrimSuffix(named, "'")
	i, ok := a.index["META-INF/MANIFEST.MF"]
	if !ok {
		return msg
	}
	data, err := a.readAll(a.Entries[i], maxJarManifest)
	if err != nil {
		return msg
	}
	listed := jarManifestNames(data)
	var missing []string
	hasManifest, hasBundleConfig := false, false
	for _, e := range a.Entries {
		switch {
		case e.Name == manifestName:
			hasManifest = true
		case e.Name == "BundleConfig.pb":
			hasBundleConfig = true
		}
		if strings.HasSuffix(e.Name, "/") || e.Name == manifestName || strings.HasPrefix(e.Name, "META-INF/") {
			continue
		}
		if !listed[e.Name] {
			missing = append(missing, e.Name)
		}
	}
	if !hasManifest && !hasBundleConfig && !listed[manifestName] {
		missing = append(missing, manifestName)
	}
	if !slices.Contains(missing, named) {
		return msg
	}
	return missingEntryPrefix + slices.Min(missing) + "'"
}

// maxJarManifest bounds the META-INF/MANIFEST.MF read for stableVerifyError.
const maxJarManifest = 64 * extract.MiB

// jarManifestNames returns the member names of a JAR manifest's sections
// ("Name: ..." headers, with continuation lines joined).
func jarManifestNames(data []byte) map[string]bool {
	text := strings.ReplaceAll(strings.ReplaceAll(string(data), "\r\n", "\n"), "\r", "\n")
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, " ") && len(lines) > 0 {
			lines[len(lines)-1] += l[1:]
			continue
		}
		lines = append(lines, l)
	}
	names := map[string]bool{}
	for _, l := range lines {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(k, "Name") {
			names[strings.TrimPrefix(v, " ")] = true
		}
	}
	return names
}

// modernSDK is the SDK level signatures are verified for when an APK has a
// v2+ signing block: Android 7.0 (24), the first to read that block.
const modernSDK = 24

// pkcs7Signers parses a JAR signature block's certificates without verifying
// anything, returning the signer certificates (or all of them when no signer
// info matches).
func pkcs7Signers(data []byte) (out []Signer) {
	defer func() {
		if recover() != nil {
			out = nil
		}
	}()
	p7, err := pkcs7.Parse(data)
	if err != nil || p7 == nil {
		return nil
	}
	for _, si := range p7.Signers {
		for _, c := range p7.Certificates {
			if c != nil && si.IssuerAndSerialNumber.SerialNumber != nil &&
				c.SerialNumber.Cmp(si.IssuerAndSerialNumber.SerialNumber) == 0 &&
				bytes.Equal(c.RawIssuer, si.IssuerAndSerialNumber.IssuerName.FullBytes) {
				out = append(out, newSigner(c, 1))
				break
			}
		}
	}
	if len(out) == 0 {
		for _, c := range p7.Certificates {
			if c != nil {
				out = append(out, newSigner(c, 1))
			}
		}
	}
	return out
}

func newSigner(c *x509.Certificate, scheme int) Signer {
	s256 := sha256.Sum256(c.Raw)
	s1 := sha1.Sum(c.Raw)
	s := Signer{
		SHA256:             hex.EncodeToString(s256[:]),
		SHA1:               hex.EncodeToString(s1[:]),
		Subject:            c.Subject.String(),
		Issuer:             c.Issuer.String(),
		NotBefore:          c.NotBefore.UTC(),
		NotAfter:           c.NotAfter.UTC(),
		PublicKeyAlgorithm: c.PublicKeyAlgorithm.String(),
		Scheme:             scheme,
		DebugCert:          c.Subject.CommonName == "Android Debug",
	}
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		s.KeyBits = k.N.BitLen()
	case *ecdsa.PublicKey:
		if k.Curve != nil {
			s.KeyBits = k.Curve.Params().BitSize
		}
	case *dsa.PublicKey:
		if k.P != nil {
			s.KeyBits = k.P.BitLen()
		}
	case ed25519.PublicKey:
		s.KeyBits = 256
	}
	return s
}
