package android

import (
	"archive/zip"
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/avast/apkverifier/fullsailor/pkcs7"
)

// jarMember is one member of a JAR-signed test archive.
type jarMember struct {
	name string
	data []byte
}

var (
	jarKeyOnce sync.Once
	jarKey     *rsa.PrivateKey
	jarCert    *x509.Certificate
)

// jarSigner returns a self-signed RSA key and certificate, made once.
func jarSigner(t testing.TB) (*rsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	jarKeyOnce.Do(func() {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(7),
			Subject:      pkix.Name{CommonName: "romscan test signer"},
			NotBefore:    time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
			NotAfter:     time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC),
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			return
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return
		}
		jarKey, jarCert = key, cert
	})
	if jarKey == nil {
		t.Fatal("jar signer: could not make a key and certificate")
	}
	return jarKey, jarCert
}

// signJAR builds a deflated zip of members signed with a JAR (v1)
// signature only, as jarsigner and old apksigner do: META-INF/MANIFEST.MF
// with SHA-1 and SHA-256 digests of every member, META-INF/CERT.SF with the
// digests of the manifest and of each of its sections, and
// META-INF/CERT.RSA, a detached PKCS#7 signature of CERT.SF.
func signJAR(t testing.TB, members []jarMember) []byte {
	t.Helper()
	key, cert := jarSigner(t)
	b64 := base64.StdEncoding.EncodeToString
	var manifest strings.Builder
	manifest.WriteString("Manifest-Version: 1.0\r\nCreated-By: romscan test\r\n\r\n")
	var sections []string
	for _, m := range members {
		s1, s256 := sha1.Sum(m.data), sha256.Sum256(m.data)
		sec := "Name: " + m.name + "\r\nSHA1-Digest: " + b64(s1[:]) + "\r\nSHA-256-Digest: " + b64(s256[:]) + "\r\n\r\n"
		sections = append(sections, sec)
		manifest.WriteString(sec)
	}
	mf := []byte(manifest.String())
	m1, m256 := sha1.Sum(mf), sha256.Sum256(mf)
	var sf strings.Builder
	sf.WriteString("Signature-Version: 1.0\r\nCreated-By: romscan test\r\nSHA1-Digest-Manifest: " + b64(m1[:]) +
		"\r\nSHA-256-Digest-Manifest: " + b64(m256[:]) + "\r\n\r\n")
	for i, m := range members {
		s1, s256 := sha1.Sum([]byte(sections[i])), sha256.Sum256([]byte(sections[i]))
		sf.WriteString("Name: " + m.name + "\r\nSHA1-Digest: " + b64(s1[:]) + "\r\nSHA-256-Digest: " + b64(s256[:]) + "\r\n\r\n")
	}
	sd, err := pkcs7.NewSignedData([]byte(sf.String()))
	if err != nil {
		t.Fatal(err)
	}
	if err := sd.AddSigner(cert, key, pkcs7.SignerInfoConfig{}); err != nil {
		t.Fatal(err)
	}
	sd.Detach()
	block, err := sd.Finish()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	all := append([]jarMember{{"META-INF/MANIFEST.MF", mf}, {"META-INF/CERT.SF", []byte(sf.String())}, {"META-INF/CERT.RSA", block}}, members...)
	for _, m := range all {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: m.name, Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(m.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
