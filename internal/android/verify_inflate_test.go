package android

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/avast/apkparser"

	"github.com/romscan/romscan/extract"
)

// TestFastVerifyInflate: members read through apkparser's reader with the
// libdeflate decompressor registered are the same bytes as the originals,
// a member with a wrong CRC-32 still fails its read, and a stored member
// is untouched.
func TestFastVerifyInflate(t *testing.T) {
	if !inflateWholeAvailable {
		t.Skip("built without libdeflate (purego or no cgo): the fast path is off by design")
	}
	members := map[string][]byte{
		"classes.dex":   bytes.Repeat([]byte("dex\n035\x00 some code "), 4000),
		"res/a.xml":     []byte(strings.Repeat("<a b='c'/>", 300)),
		"assets/stored": []byte("kept as is"),
		"bad-crc.txt":   bytes.Repeat([]byte("crc "), 500),
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range []string{"classes.dex", "res/a.xml", "assets/stored", "bad-crc.txt"} {
		method := zip.Deflate
		if name == "assets/stored" {
			method = zip.Store
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: method})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(members[name])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	data := corruptCRC(t, buf.Bytes(), "bad-crc.txt")

	a, err := Open(context.Background(), bytes.NewReader(data), int64(len(data)), extract.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	zr, err := apkparser.OpenZipReader(io.NewSectionReader(bytes.NewReader(data), 0, int64(len(data))))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	v := useFastInflate(zr, a.r, a.Entries, nil)
	if v == nil {
		t.Fatal("fast inflate not registered: apkparser's zip.Reader was not reached")
	}
	for _, name := range slices.Sorted(maps.Keys(members)) {
		want := members[name]
		f := zr.File[name]
		if err := f.Open(); err != nil {
			t.Fatalf("%s: open: %v", name, err)
		}
		var got []byte
		var readErr error
		for f.Next() {
			got, readErr = io.ReadAll(f)
		}
		f.Close()
		if name == "bad-crc.txt" {
			if !errors.Is(readErr, zip.ErrChecksum) {
				t.Errorf("%s: read error %v, want %v", name, readErr, zip.ErrChecksum)
			}
			continue
		}
		if readErr != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: read %d bytes (err %v), want the %d original bytes", name, len(got), readErr, len(want))
		}
	}
	if v.inflated != 3 {
		t.Errorf("fast path decoded %d members, want the 3 deflated ones", v.inflated)
	}
	// A member read twice in a row (one digest per algorithm) is decoded
	// once; the second read still sees every byte.
	before := v.inflated
	for _, name := range []string{"classes.dex", "res/a.xml", "res/a.xml"} {
		f := zr.File[name]
		if err := f.Open(); err != nil {
			t.Fatal(err)
		}
		for f.Next() {
			if got, err := io.ReadAll(f); err != nil || !bytes.Equal(got, members[name]) {
				t.Errorf("%s again: %d bytes, err %v", name, len(got), err)
			}
		}
		f.Close()
	}
	if n := v.inflated - before; n != 2 {
		t.Errorf("classes.dex then res/a.xml twice: %d decodes, want 2", n)
	}

	// A DEX member the scan holds decoded is digested in place; bytes of
	// the wrong length are not used.
	var dexOff int64 = -1
	for _, e := range a.Entries {
		if e.Name == "classes.dex" {
			dexOff = e.DataOffset
		}
	}
	for _, tc := range []struct {
		held             []byte
		reused, inflated int
	}{
		{members["classes.dex"], 1, 0},
		{members["classes.dex"][1:], 0, 1},
	} {
		zr2, err := apkparser.OpenZipReader(io.NewSectionReader(bytes.NewReader(data), 0, int64(len(data))))
		if err != nil {
			t.Fatal(err)
		}
		v := useFastInflate(zr2, a.r, a.Entries, func(off int64) ([]byte, bool) { return tc.held, off == dexOff })
		f := zr2.File["classes.dex"]
		if err := f.Open(); err != nil {
			t.Fatal(err)
		}
		for f.Next() {
			if got, err := io.ReadAll(f); err != nil || !bytes.Equal(got, members["classes.dex"]) {
				t.Errorf("classes.dex (%d bytes held): read %d bytes, err %v", len(tc.held), len(got), err)
			}
		}
		f.Close()
		zr2.Close()
		if v.reused != tc.reused || v.inflated != tc.inflated {
			t.Errorf("%d bytes held: reused %d inflated %d, want %d and %d", len(tc.held), v.reused, v.inflated, tc.reused, tc.inflated)
		}
	}
}

// corruptCRC changes the CRC-32 of member name in its local header and its
// central directory record.
func corruptCRC(t *testing.T, data []byte, name string) []byte {
	t.Helper()
	out := bytes.Clone(data)
	n := 0
	for i := 0; i+46 < len(out); i++ {
		sig := binary.LittleEndian.Uint32(out[i:])
		var crcAt, nameLenAt, nameAt int
		switch sig {
		case 0x04034b50: // local file header
			crcAt, nameLenAt, nameAt = i+14, i+26, i+30
		case 0x02014b50: // central directory record
			crcAt, nameLenAt, nameAt = i+16, i+28, i+46
		default:
			continue
		}
		l := int(binary.LittleEndian.Uint16(out[nameLenAt:]))
		if nameAt+l <= len(out) && string(out[nameAt:nameAt+l]) == name {
			binary.LittleEndian.PutUint32(out[crcAt:], binary.LittleEndian.Uint32(out[crcAt:])^0xdeadbeef)
			n++
		}
	}
	if n != 2 {
		t.Fatalf("found %s %d times, want a local header and a central record", name, n)
	}
	return out
}

// TestFastVerifyV1: a JAR-signed (v1-only) APK verifies with the fast
// decoder, and the same APK with one member changed (re-deflated, so its
// CRC is right but its digest is not) fails naming that member, whether it
// is verified before or after the scan decoded its DEX file.
func TestFastVerifyV1(t *testing.T) {
	dex := bytes.Repeat([]byte("dex\n035\x00 code and strings "), 20000)
	apk := signJAR(t, []jarMember{
		{manifestName, buildAXML(sampleManifest(28))},
		{"classes.dex", dex},
		{"res/layout/main.xml", []byte(strings.Repeat("<View/>", 200))},
		{"assets/config.txt", []byte("endpoint=https://example.org/\n")},
	})
	open := func(data []byte, decodeFirst bool) *App {
		t.Helper()
		a, err := Open(context.Background(), bytes.NewReader(data), int64(len(data)), extract.DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		if decodeFirst {
			if _, _, err := a.OpenMember("classes.dex", extract.GiB); err != nil {
				t.Fatal(err)
			}
		}
		return a
	}
	tampered := rewriteMember(t, apk, "classes.dex", func(b []byte) []byte { b[len(b)-1] ^= 0xff; return b })
	for _, decodeFirst := range []bool{false, true} {
		a := open(apk, decodeFirst)
		if !slices.Equal(a.Schemes, []int{1}) || len(a.Signers) != 1 {
			t.Fatalf("schemes %v, signers %d: want one JAR signer", a.Schemes, len(a.Signers))
		}
		if err := a.SignError(); err != nil {
			t.Errorf("v1-signed APK (DEX decoded first: %v): %v, want a valid signature", decodeFirst, err)
		}
		if err := open(tampered, decodeFirst).SignError(); err == nil || !strings.Contains(err.Error(), "classes.dex") {
			t.Errorf("tampered classes.dex (DEX decoded first: %v): %v, want a digest error naming it", decodeFirst, err)
		}
	}
}

// TestCorpusFastVerifyV1: a v1-only APK of the corpus, signed by apksig's
// test suite, verifies.
func TestCorpusFastVerifyV1(t *testing.T) {
	a := openCorpus(t, "apks/androguard/apksig/v1-only-with-rsa-1024.apk")
	if err := a.SignError(); err != nil {
		t.Fatalf("v1-only APK: %v, want a valid signature", err)
	}
}

// rewriteMember copies a zip, re-deflating member name after edit.
func rewriteMember(t *testing.T, data []byte, name string, edit func([]byte) []byte) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		if f.Name != name {
			r, err := f.OpenRaw()
			if err != nil {
				t.Fatal(err)
			}
			w, err := zw.CreateRaw(&f.FileHeader)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(w, r)
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Deflate, Modified: f.Modified})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(edit(b))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
