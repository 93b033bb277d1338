package android

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/romscan/romscan/extract"
	"github.com/romscan/romscan/internal/testutil"
)

// manifestSeeds are AXML inputs built in code.
func manifestSeeds() [][]byte {
	good := buildAXML(sampleManifest(30))
	return [][]byte{
		good,
		buildAXML(sampleManifest(16)),
		buildAXML(xElem{name: "manifest", attrs: []xAttr{{name: "package", str: "a"}}}),
		good[:len(good)/2],
		patchU32(good, 16, 0xffff),
	}
}

// zipSeeds are archives built in code with archive/zip.
func zipSeeds() [][]byte {
	man := buildAXML(sampleManifest(30))
	apk := buildZip(
		zipMember{name: "AndroidManifest.xml", data: man, method: 8},
		zipMember{name: "resources.arsc", data: buildTable(), method: 0},
		zipMember{name: "classes.dex", data: []byte("dex\n035\x00"), method: 8},
		zipMember{name: "classes.dex", data: []byte("dup"), method: 0},
		zipMember{name: "lib/x86/liba.so", data: []byte("\x7fELF"), method: 8},
	)
	return [][]byte{
		apk,
		buildZip(zipMember{name: "META-INF/MANIFEST.MF", data: []byte("Manifest-Version: 1.0\r\n")}, zipMember{name: "META-INF/CERT.RSA", data: []byte{0x30, 0x03, 0x02, 0x01, 0x01}}),
		buildZip(zipMember{name: "base/manifest/AndroidManifest.xml", data: []byte{0x0a, 0x0b, 0x1a, 0x08, 'm', 'a', 'n', 'i', 'f', 'e', 's', 't'}}),
		apk[:len(apk)-30],
	}
}

// TestWriteFuzzSeeds regenerates testdata/fuzz from the builders when
// ROMSCAN_WRITE_SEEDS=1.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("ROMSCAN_WRITE_SEEDS") != "1" {
		t.Skip("set ROMSCAN_WRITE_SEEDS=1 to regenerate testdata/fuzz seeds")
	}
	write := func(name string, seeds [][]byte) {
		for i, s := range seeds {
			testutil.WriteFuzzSeed(t, filepath.Join("testdata", "fuzz", name, fmt.Sprintf("seed%d", i)), s)
		}
	}
	write("FuzzManifest", manifestSeeds())
	write("FuzzOpen", zipSeeds())
}

// checkErr fails on an error that does not say why (wraps no extract
// sentinel) and on one that holds a panic recovered in our own code: Open and
// OpenEntry turn a panic into an error so a scan goes on, which would hide it
// from the fuzzer. A panic inside a third-party decoder (apkparser,
// androidbinary, apkverifier) is tolerated: it is recovered on purpose.
func checkErr(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if strings.Contains(err.Error(), "panic in "+extract.OwnPackages) {
		t.Fatalf("%s: recovered a panic in our own code: %v", what, err)
	}
	if !extract.HasSentinel(err) {
		t.Fatalf("%s: %v wraps no extract sentinel", what, err)
	}
}

func FuzzManifest(f *testing.F) {
	for _, s := range manifestSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeManifest(bytes.NewReader(b), int64(len(b)))
		if err == nil && m == nil {
			t.Fatal("nil manifest without error")
		}
		checkErr(t, "DecodeManifest", err)
		_, err = decodeProtoManifest(b)
		checkErr(t, "decodeProtoManifest", err)
		tb, err := parseTable(b)
		checkErr(t, "parseTable", err)
		if err == nil {
			tb.resolve(0x7f010000)
		}
	})
}

func FuzzOpen(f *testing.F) {
	for _, s := range zipSeeds() {
		f.Add(s)
	}
	// A JAR-signed APK, so mutations reach the signature check.
	f.Add(signJAR(f, []jarMember{
		{manifestName, buildAXML(sampleManifest(28))},
		{"classes.dex", []byte("dex\n035\x00 code")},
		{"res/a.xml", []byte("<a/>")},
	}))
	lim := extract.DefaultLimits()
	lim.MaxEntries = 1000
	lim.MaxFileSize = 4 * extract.MiB
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := Open(context.Background(), bytes.NewReader(b), int64(len(b)), lim)
		if err != nil {
			checkErr(t, "Open", err)
			return
		}
		if !errors.Is(a.ManifestErr, ErrNoManifest) {
			checkErr(t, "manifest", a.ManifestErr)
		}
		checkErr(t, "resources", a.ResErr)
		// Every member, duplicates included, is opened and read in full.
		for i := range a.Entries {
			rd, n, err := a.OpenEntry(i, extract.MiB)
			if err != nil {
				checkErr(t, "OpenEntry", err)
				continue
			}
			if _, err := io.Copy(io.Discard, io.NewSectionReader(rd, 0, n)); err != nil {
				checkErr(t, "read entry", err)
			}
		}
		a.ResolveString("@0x7f010000")
		// The signature check runs after the members were read, as in a
		// scan (it then reads decoded DEX files in place); apkverifier's
		// messages carry no sentinel, only a panic would fail here.
		_ = a.SignError()
		a.Close()
	})
}

// FuzzTable parses arbitrary bytes as resources.arsc and resolves every
// entry of every type it found: errors must say why, lookups never panic.
func FuzzTable(f *testing.F) {
	good := buildTable()
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(patchU32(good, 4, 0xffffffff))
	f.Fuzz(func(t *testing.T, b []byte) {
		tb, err := parseTable(b)
		if err != nil {
			checkErr(t, "parseTable", err)
			return
		}
		n := 0
		for key, chunks := range tb.types {
			for _, k := range chunks {
				for idx := uint32(0); idx < k.count && idx < 4096; idx++ {
					if n++; n > 1<<16 {
						return
					}
					tb.resolve(key<<16 | idx)
				}
			}
		}
	})
}
