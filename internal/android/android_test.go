package android

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/romscan/romscan/extract"
)

func ptr[T any](v T) *T { return &v }

func TestDecodeManifestBuilt(t *testing.T) {
	tests := []struct {
		name   string
		target uint32
		want   map[string]bool // component -> EffectiveExported
	}{
		{"target30", 30, map[string]bool{
			"org.example.app.Main": true, "org.example.app.Plain": false, "org.other.Svc": true,
			"org.example.app.Rx": false, "org.example.app.Prov": false,
		}},
		{"target31", 31, map[string]bool{
			"org.example.app.Main": false, "org.example.app.Plain": false, "org.other.Svc": true,
			"org.example.app.Rx": false, "org.example.app.Prov": false,
		}},
		{"target16", 16, map[string]bool{
			"org.example.app.Main": true, "org.example.app.Plain": false, "org.other.Svc": true,
			"org.example.app.Rx": false, "org.example.app.Prov": true,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := buildAXML(sampleManifest(tc.target))
			m, err := DecodeManifest(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatalf("DecodeManifest: %v", err)
			}
			got := map[string]bool{}
			a := m.Application
			for _, list := range [][]Component{a.Activities, a.Services, a.Receivers, a.Providers} {
				for _, c := range list {
					got[c.Name] = c.EffectiveExported
				}
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("EffectiveExported (-want +got):\n%s", d)
			}
			if m.Package != "org.example.app" || m.VersionCode != 42 || m.VersionName != "4.2" || m.MinSDK != 16 || m.TargetSDK != int(tc.target) {
				t.Errorf("header = %q %d %q %d %d", m.Package, m.VersionCode, m.VersionName, m.MinSDK, m.TargetSDK)
			}
			wantPerms := []UsesPermission{{Name: "android.permission.INTERNET"}, {Name: "android.permission.READ_CONTACTS", MaxSDK: 28, SDK23: true}}
			if d := cmp.Diff(wantPerms, m.UsesPermissions); d != "" {
				t.Errorf("UsesPermissions (-want +got):\n%s", d)
			}
			if d := cmp.Diff([]Permission{{Name: "org.example.app.C2D", ProtectionLevel: "signature|privileged"}}, m.Permissions); d != "" {
				t.Errorf("Permissions (-want +got):\n%s", d)
			}
			if !m.RequestsPermission("android.permission.INTERNET") || m.RequestsPermission("android.permission.CAMERA") {
				t.Error("RequestsPermission wrong")
			}
			if a.Name != "org.example.app.App" || !a.Debuggable || a.AllowBackup || !a.AllowBackupSet || !a.HasCode || a.UsesCleartextTraffic != nil {
				t.Errorf("application = %+v", a)
			}
			wantMain := Component{
				Kind: "activity", Name: "org.example.app.Main", EffectiveExported: tc.target < 31, Enabled: true,
				IntentFilters: []IntentFilter{{
					Actions: []string{"android.intent.action.VIEW"}, Categories: []string{"android.intent.category.BROWSABLE"},
					Data: []IntentData{{Scheme: "https", Host: "example.org"}},
				}},
			}
			if d := cmp.Diff(wantMain, a.Activities[0]); d != "" {
				t.Errorf("Main (-want +got):\n%s", d)
			}
			if got := a.Services[0]; got.Exported == nil || !*got.Exported || got.Permission != "org.example.BIND" {
				t.Errorf("service = %+v", got)
			}
		})
	}
}

func TestClassName(t *testing.T) {
	tests := []struct{ pkg, name, want string }{
		{"a.b", ".Foo", "a.b.Foo"},
		{"a.b", "Foo", "a.b.Foo"},
		{"a.b", "c.d.Foo", "c.d.Foo"},
		{"a.b", "", ""},
		{"a.b", " .Foo ", "a.b.Foo"},
	}
	for _, tc := range tests {
		if got := className(tc.pkg, tc.name); got != tc.want {
			t.Errorf("className(%q, %q) = %q, want %q", tc.pkg, tc.name, got, tc.want)
		}
	}
}

func TestEffectiveExported(t *testing.T) {
	f := []IntentFilter{{Actions: []string{"x"}}}
	tests := []struct {
		name   string
		c      Component
		target int
		want   bool
	}{
		{"explicit-true", Component{Kind: "service", Exported: ptr(true)}, 33, true},
		{"explicit-false-filters", Component{Kind: "activity", Exported: ptr(false), IntentFilters: f}, 20, false},
		{"filters-old", Component{Kind: "receiver", IntentFilters: f}, 30, true},
		{"filters-new", Component{Kind: "receiver", IntentFilters: f}, 31, false},
		{"nofilters", Component{Kind: "activity"}, 10, false},
		{"provider-old", Component{Kind: "provider"}, 16, true},
		{"provider-new", Component{Kind: "provider"}, 17, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := effectiveExported(tc.c, tc.target); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestProtectionLevel(t *testing.T) {
	tests := map[string]string{
		"0": "normal", "1": "dangerous", "0x2": "signature", "18": "signature|privileged",
		"signature": "signature", "": "normal", "0x3": "signatureOrSystem",
	}
	for in, want := range tests {
		if got := protectionLevel(in); got != want {
			t.Errorf("protectionLevel(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseRef(t *testing.T) {
	tests := []struct {
		in   string
		want uint32
		ok   bool
	}{
		{"@7f0b0001", 0x7f0b0001, true},
		{"@0x7F0B0001", 0x7f0b0001, true},
		{"@string/app", 0, false},
		{"plain", 0, false},
		{"@", 0, false},
	}
	for _, tc := range tests {
		got, ok := parseRef(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseRef(%q) = %x %v", tc.in, got, ok)
		}
	}
}

func openBytes(t testing.TB, b []byte, lim extract.Limits) (*App, error) {
	t.Helper()
	return Open(context.Background(), bytes.NewReader(b), int64(len(b)), lim)
}

func TestOpenBuiltAPK(t *testing.T) {
	man := buildAXML(sampleManifest(30))
	z := buildZip(
		zipMember{name: "AndroidManifest.xml", data: man, method: 8},
		zipMember{name: "classes.dex", data: []byte("dex\n035\x00"), method: 0},
		zipMember{name: "classes2.dex", data: []byte("dex\n035\x00"), method: 8},
		zipMember{name: "classes4.dex", data: []byte("dex\n035\x00"), method: 8}, // after a gap: not loaded
		zipMember{name: "lib/arm64-v8a/libx.so", data: []byte("\x7fELF"), method: 8},
		zipMember{name: "lib/arm64-v8a/sub/liby.so", data: []byte("\x7fELF"), method: 8},
		zipMember{name: "classes.dex", data: []byte("evil"), method: 8},
		zipMember{name: "../../etc/passwd", data: []byte("x"), method: 8},
	)
	a, err := openBytes(t, z, extract.DefaultLimits())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer a.Close()
	if a.Kind != APK || a.Manifest == nil || a.ManifestErr != nil {
		t.Fatalf("Kind %v manifest %v err %v", a.Kind, a.Manifest != nil, a.ManifestErr)
	}
	if d := cmp.Diff([]string{"classes.dex", "classes2.dex"}, a.DexNames); d != "" {
		t.Errorf("DexNames (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"lib/arm64-v8a/libx.so"}, a.NativeLibs); d != "" {
		t.Errorf("NativeLibs (-want +got):\n%s", d)
	}
	var dups, unsafe []string
	for _, e := range a.Entries {
		if e.Duplicate {
			dups = append(dups, e.Name)
		}
		if e.Unsafe() {
			unsafe = append(unsafe, e.Name)
		}
	}
	if d := cmp.Diff([]string{"classes.dex"}, dups); d != "" {
		t.Errorf("duplicates (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"../../etc/passwd"}, unsafe); d != "" {
		t.Errorf("unsafe (-want +got):\n%s", d)
	}
	rd, n, err := a.OpenMember("classes.dex", 0)
	if err != nil {
		t.Fatalf("OpenMember: %v", err)
	}
	got := make([]byte, n)
	rd.ReadAt(got, 0)
	if string(got) != "dex\n035\x00" {
		t.Errorf("classes.dex = %q (the first member must win)", got)
	}
	if !errors.Is(a.SignError(), ErrUnsigned) || len(a.Schemes) != 0 {
		t.Errorf("SignErr %v Schemes %v", a.SignError(), a.Schemes)
	}
	if _, _, err := a.OpenMember("missing", 0); err == nil {
		t.Error("OpenMember(missing) succeeded")
	}
}

func TestOpenKinds(t *testing.T) {
	tests := []struct {
		name    string
		members []zipMember
		kind    Kind
		dex     []string
	}{
		{"jar", []zipMember{{name: "META-INF/MANIFEST.MF", data: []byte("Manifest-Version: 1.0\r\n")}, {name: "classes.dex", data: []byte("dex")}}, JAR, []string{"classes.dex"}},
		{"zip", []zipMember{{name: "readme.txt", data: []byte("hi")}}, ZipOnly, nil},
		{"aab", []zipMember{{name: "base/manifest/AndroidManifest.xml", data: []byte{0x0a, 0x00}}, {name: "base/dex/classes.dex", data: []byte("dex")}, {name: "base/dex/classes2.dex", data: []byte("dex")}}, AAB, []string{"base/dex/classes.dex", "base/dex/classes2.dex"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := openBytes(t, buildZip(tc.members...), extract.DefaultLimits())
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if a.Kind != tc.kind || a.Manifest != nil || a.ManifestErr == nil {
				t.Errorf("Kind %v Manifest %v ManifestErr %v", a.Kind, a.Manifest, a.ManifestErr)
			}
			if d := cmp.Diff(tc.dex, a.DexNames); d != "" {
				t.Errorf("DexNames (-want +got):\n%s", d)
			}
		})
	}
}

func TestHostileZips(t *testing.T) {
	bomb := buildZip(zipMember{name: "classes.dex", data: make([]byte, 8*extract.MiB), method: 8})
	lim := extract.DefaultLimits()
	t.Run("ratio-bomb", func(t *testing.T) {
		a, err := openBytes(t, bomb, lim)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		_, _, err = a.OpenMember("classes.dex", 0)
		if !errors.Is(err, extract.ErrLimit) {
			t.Errorf("OpenMember = %v, want ErrLimit", err)
		}
	})
	t.Run("size-limit", func(t *testing.T) {
		a, err := openBytes(t, bomb, lim)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		_, _, err = a.OpenMember("classes.dex", extract.MiB)
		if !errors.Is(err, extract.ErrLimit) {
			t.Errorf("OpenMember = %v, want ErrLimit", err)
		}
	})
	t.Run("lying-size", func(t *testing.T) {
		// The central directory says 16 bytes; the data inflates to 8 MiB.
		b := bytes.Clone(bomb)
		patchSizes(b, 16)
		a, err := openBytes(t, b, lim)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if _, _, err = a.OpenMember("classes.dex", 0); !errors.Is(err, extract.ErrLimit) {
			t.Errorf("OpenMember = %v, want ErrLimit", err)
		}
	})
	t.Run("read-entry-bounds", func(t *testing.T) {
		// ReadEntry decodes into a caller's buffer under the same bounds.
		b := bytes.Clone(bomb)
		patchSizes(b, 16)
		for _, z := range [][]byte{bomb, b} {
			a, err := openBytes(t, z, lim)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if _, err := a.ReadEntry(0, 0, make([]byte, 0, 64)); !errors.Is(err, extract.ErrLimit) {
				t.Errorf("ReadEntry = %v, want ErrLimit", err)
			}
			if _, err := a.ReadEntry(0, extract.MiB, nil); !errors.Is(err, extract.ErrLimit) {
				t.Errorf("ReadEntry(max 1 MiB) = %v, want ErrLimit", err)
			}
			if _, err := a.ReadEntry(7, 0, nil); err == nil {
				t.Error("ReadEntry of a missing entry succeeded")
			}
		}
	})
	t.Run("many-entries", func(t *testing.T) {
		var ms []zipMember
		for range 50 {
			ms = append(ms, zipMember{name: "a"})
		}
		small := lim
		small.MaxEntries = 10
		if _, err := openBytes(t, buildZip(ms...), small); !errors.Is(err, extract.ErrLimit) {
			t.Errorf("Open = %v, want ErrLimit", err)
		}
	})
	z := buildZip(zipMember{name: "AndroidManifest.xml", data: buildAXML(sampleManifest(30)), method: 8}, zipMember{name: "classes.dex", data: []byte("dex"), method: 0})
	t.Run("truncated", func(t *testing.T) {
		for _, n := range []int{0, 4, 21, 30, 60, len(z) / 2, len(z) - 1} {
			a, err := openBytes(t, z[:n], lim)
			if err == nil && a == nil {
				t.Errorf("len %d: nil App without error", n)
			}
		}
	})
	t.Run("broken-central-directory", func(t *testing.T) {
		b := bytes.Clone(z)
		i := bytes.LastIndex(b, []byte("PK\x05\x06"))
		copy(b[i:], "XXXX")
		a, err := openBytes(t, b, lim)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if a.Manifest == nil || a.Manifest.Package != "org.example.app" {
			t.Errorf("manifest from local headers: %v %v", a.Manifest, a.ManifestErr)
		}
	})
	t.Run("nul-and-cr-names", func(t *testing.T) {
		a, err := openBytes(t, buildZip(zipMember{name: "a\x00b"}, zipMember{name: "c\rd"}), lim)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		for _, e := range a.Entries {
			if !e.Unsafe() {
				t.Errorf("%q not flagged unsafe", e.Name)
			}
		}
	})
	t.Run("not-zip", func(t *testing.T) {
		if _, err := openBytes(t, bytes.Repeat([]byte("x"), 100), lim); err == nil {
			t.Error("Open succeeded on garbage")
		}
	})
}

// patchSizes rewrites the uncompressed size of every member in the local and
// central headers.
func patchSizes(b []byte, size uint32) {
	for i := 0; i+30 <= len(b); i++ {
		switch {
		case bytes.HasPrefix(b[i:], []byte("PK\x03\x04")):
			binary.LittleEndian.PutUint32(b[i+22:], size)
		case bytes.HasPrefix(b[i:], []byte("PK\x01\x02")):
			binary.LittleEndian.PutUint32(b[i+24:], size)
		}
	}
}

func TestDecodeManifestHostile(t *testing.T) {
	good := buildAXML(sampleManifest(30))
	tests := map[string][]byte{
		"empty":       nil,
		"short":       good[:7],
		"truncated":   good[:len(good)/2],
		"plain-text":  []byte(`<?xml version="1.0"?><manifest package="x"/>`),
		"huge-count":  patchU32(good, 8+8, 0x7fffffff),
		"size-lie":    patchU32(good, 4, 0xffffffff),
		"zero-chunks": append(bytes.Clone(good[:8]), make([]byte, 64)...),
	}
	for name, b := range tests {
		t.Run(name, func(t *testing.T) {
			m, err := DecodeManifest(bytes.NewReader(b), int64(len(b)))
			if err == nil && m == nil {
				t.Error("nil manifest without error")
			}
		})
	}
	t.Run("too-big", func(t *testing.T) {
		if _, err := DecodeManifest(strings.NewReader(""), maxManifestBytes+1); !errors.Is(err, extract.ErrLimit) {
			t.Errorf("err = %v, want ErrLimit", err)
		}
	})
}

func patchU32(b []byte, off int, v uint32) []byte {
	b = bytes.Clone(b)
	binary.LittleEndian.PutUint32(b[off:], v)
	return b
}

func TestResTable(t *testing.T) {
	// One package 0x7f, type 1 with entries: 0 -> string "Hello", 1 -> bool true
	// (compact entry), 2 -> reference to 0.
	tbl := buildTable()
	rt, err := parseTable(tbl)
	if err != nil {
		t.Fatalf("parseTable: %v", err)
	}
	for id, want := range map[uint32]string{0x7f010000: "Hello", 0x7f010001: "true", 0x7f010002: "Hello"} {
		got, ok := rt.resolve(id)
		if !ok || got != want {
			t.Errorf("resolve(%x) = %q %v, want %q", id, got, ok, want)
		}
	}
	if _, ok := rt.resolve(0x7f010009); ok {
		t.Error("resolve of a missing entry succeeded")
	}
	a := &App{res: rt}
	if got := a.ResolveString("@0x7f010000"); got != "Hello" {
		t.Errorf("ResolveString = %q", got)
	}
	if got := a.ResolveString("@string/x"); got != "@string/x" {
		t.Errorf("ResolveString = %q", got)
	}
}

// buildTable writes a minimal resources.arsc.
func buildTable() []byte {
	le := func(w io.Writer, v ...any) {
		for _, x := range v {
			binary.Write(w, binary.LittleEndian, x)
		}
	}
	pool := func(strs ...string) []byte {
		var data bytes.Buffer
		var offs []uint32
		for _, s := range strs {
			offs = append(offs, uint32(data.Len()))
			data.WriteByte(byte(len(s)))
			data.WriteByte(byte(len(s)))
			data.WriteString(s)
			data.WriteByte(0)
		}
		for data.Len()%4 != 0 {
			data.WriteByte(0)
		}
		var b bytes.Buffer
		start := 28 + 4*len(strs)
		le(&b, uint16(1), uint16(28), uint32(start+data.Len()), uint32(len(strs)), uint32(0), uint32(poolUTF8), uint32(start), uint32(0))
		le(&b, offs)
		b.Write(data.Bytes())
		return b.Bytes()
	}
	// Type chunk: header 20 + config 64 = 84, 3 offsets, entries.
	var entries bytes.Buffer
	le(&entries, uint16(8), uint16(0), uint32(0), uint16(8), uint8(0), uint8(valString), uint32(0))             // 0: string 0
	le(&entries, uint16(1), uint16(entryFlagCompact|uint16(valBool)<<8), uint32(0xffffffff))                    // 1: compact bool
	le(&entries, uint16(8), uint16(0), uint32(2), uint16(8), uint8(0), uint8(valReference), uint32(0x7f010000)) // 2: ref
	const hdr = 20 + 64
	var tc bytes.Buffer
	le(&tc, uint16(chunkType), uint16(hdr), uint32(hdr+12+entries.Len()), uint8(1), uint8(0), uint16(0), uint32(3), uint32(hdr+12))
	cfg := make([]byte, 64)
	binary.LittleEndian.PutUint32(cfg, 64)
	tc.Write(cfg)
	le(&tc, uint32(0), uint32(16), uint32(24))
	tc.Write(entries.Bytes())

	types, keys := pool("string"), pool("a", "b", "c")
	const phdr = 288
	var pkg bytes.Buffer
	le(&pkg, uint16(chunkPackage), uint16(phdr), uint32(phdr+len(types)+len(keys)+tc.Len()), uint32(0x7f))
	pkg.Write(make([]byte, 256))
	le(&pkg, uint32(phdr), uint32(0), uint32(phdr+len(types)), uint32(0), uint32(0))
	pkg.Write(types)
	pkg.Write(keys)
	pkg.Write(tc.Bytes())

	global := pool("Hello")
	var out bytes.Buffer
	le(&out, uint16(chunkTable), uint16(12), uint32(12+len(global)+pkg.Len()), uint32(1))
	out.Write(global)
	out.Write(pkg.Bytes())
	return out.Bytes()
}
