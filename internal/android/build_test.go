package android

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"unicode/utf16"
)

// Android attribute resource IDs (android.R.attr) used by the test builder.
var attrIDs = map[string]uint32{
	"label": 0x01010001, "name": 0x01010003, "permission": 0x01010006, "protectionLevel": 0x01010009,
	"enabled": 0x0101000e, "debuggable": 0x0101000f, "exported": 0x01010010, "authorities": 0x01010018,
	"priority": 0x0101001c, "scheme": 0x01010027, "host": 0x01010028, "minSdkVersion": 0x0101020c,
	"versionCode": 0x0101021b, "versionName": 0x0101021c, "targetSdkVersion": 0x01010270,
	"maxSdkVersion": 0x01010271, "allowBackup": 0x01010280, "usesCleartextTraffic": 0x010104ec,
}

// xAttr is one attribute for the builder: a string value, or a typed one
// (typ != 0) with data.
type xAttr struct {
	name string
	str  string
	typ  uint8
	data uint32
}

// xElem is one element for the builder.
type xElem struct {
	name     string
	attrs    []xAttr
	children []xElem
}

// buildAXML encodes root as binary XML the way aapt does: android attributes
// first in the string pool with a resource map, one android namespace.
func buildAXML(root xElem) []byte {
	var pool []string
	index := map[string]uint32{}
	intern := func(s string) uint32 {
		if i, ok := index[s]; ok {
			return i
		}
		index[s] = uint32(len(pool))
		pool = append(pool, s)
		return index[s]
	}
	// Attribute names with resource IDs come first, as the resource map
	// covers a prefix of the pool.
	var ids []uint32
	var walkNames func(e xElem)
	seen := map[string]bool{}
	walkNames = func(e xElem) {
		for _, a := range e.attrs {
			if id, ok := attrIDs[a.name]; ok && !seen[a.name] {
				seen[a.name] = true
				intern(a.name)
				ids = append(ids, id)
			}
		}
		for _, c := range e.children {
			walkNames(c)
		}
	}
	walkNames(root)
	nsPrefix, nsURI := intern("android"), intern(androidNS)

	var body bytes.Buffer
	le := func(v ...any) {
		for _, x := range v {
			binary.Write(&body, binary.LittleEndian, x)
		}
	}
	le(uint16(0x100), uint16(16), uint32(24), uint32(1), int32(-1), nsPrefix, nsURI)
	var emit func(e xElem)
	emit = func(e xElem) {
		name := intern(e.name)
		le(uint16(0x102), uint16(16), uint32(36+20*len(e.attrs)), uint32(1), int32(-1))
		le(int32(-1), name, uint16(20), uint16(20), uint16(len(e.attrs)), uint16(0), uint16(0), uint16(0))
		for _, a := range e.attrs {
			ns := int32(-1)
			if _, ok := attrIDs[a.name]; ok {
				ns = int32(nsURI)
			}
			an := intern(a.name)
			if a.typ == 0 {
				sv := intern(a.str)
				le(ns, an, sv, uint16(8), uint8(0), uint8(valString), sv)
			} else {
				le(ns, an, int32(-1), uint16(8), uint8(0), a.typ, a.data)
			}
		}
		for _, c := range e.children {
			emit(c)
		}
		le(uint16(0x103), uint16(16), uint32(24), uint32(1), int32(-1), int32(-1), name)
	}
	emit(root)
	le(uint16(0x101), uint16(16), uint32(24), uint32(1), int32(-1), nsPrefix, nsURI)

	// String pool, UTF-16.
	var strs bytes.Buffer
	var offs []uint32
	for _, s := range pool {
		offs = append(offs, uint32(strs.Len()))
		u := utf16.Encode([]rune(s))
		binary.Write(&strs, binary.LittleEndian, uint16(len(u)))
		binary.Write(&strs, binary.LittleEndian, u)
		binary.Write(&strs, binary.LittleEndian, uint16(0))
	}
	for strs.Len()%4 != 0 {
		strs.WriteByte(0)
	}
	var sp bytes.Buffer
	start := 28 + 4*len(pool)
	put(&sp, uint16(1), uint16(28), uint32(start+strs.Len()), uint32(len(pool)), uint32(0), uint32(0), uint32(start), uint32(0), offs)
	sp.Write(strs.Bytes())

	var rm bytes.Buffer
	put(&rm, uint16(0x180), uint16(8), uint32(8+4*len(ids)), ids)

	var out bytes.Buffer
	total := 8 + sp.Len() + rm.Len() + body.Len()
	put(&out, uint16(3), uint16(8), uint32(total))
	out.Write(sp.Bytes())
	out.Write(rm.Bytes())
	out.Write(body.Bytes())
	return out.Bytes()
}

// put writes values little-endian.
func put(w *bytes.Buffer, v ...any) {
	for _, x := range v {
		if err := binary.Write(w, binary.LittleEndian, x); err != nil {
			panic(err)
		}
	}
}

// zipMember is one member for buildZip.
type zipMember struct {
	name   string
	data   []byte
	method uint16
}

// buildZip writes members with archive/zip (duplicates allowed).
func buildZip(members ...zipMember) []byte {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, m := range members {
		fw, err := w.CreateHeader(&zip.FileHeader{Name: m.name, Method: m.method})
		if err != nil {
			panic(err)
		}
		fw.Write(m.data)
	}
	if err := w.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// sampleManifest is a small manifest exercising names and exported defaults.
func sampleManifest(target uint32) xElem {
	tb := func(v bool) xAttr {
		d := uint32(0)
		if v {
			d = 0xffffffff
		}
		return xAttr{name: "exported", typ: valBool, data: d}
	}
	filter := xElem{name: "intent-filter", children: []xElem{
		{name: "action", attrs: []xAttr{{name: "name", str: "android.intent.action.VIEW"}}},
		{name: "category", attrs: []xAttr{{name: "name", str: "android.intent.category.BROWSABLE"}}},
		{name: "data", attrs: []xAttr{{name: "scheme", str: "https"}, {name: "host", str: "example.org"}}},
	}}
	return xElem{name: "manifest", attrs: []xAttr{
		{name: "package", str: "org.example.app"},
		{name: "versionCode", typ: valIntDec, data: 42},
		{name: "versionName", str: "4.2"},
	}, children: []xElem{
		{name: "uses-sdk", attrs: []xAttr{{name: "minSdkVersion", typ: valIntDec, data: 16}, {name: "targetSdkVersion", typ: valIntDec, data: target}}},
		{name: "uses-permission", attrs: []xAttr{{name: "name", str: "android.permission.INTERNET"}}},
		{name: "uses-permission-sdk-23", attrs: []xAttr{{name: "name", str: "android.permission.READ_CONTACTS"}, {name: "maxSdkVersion", typ: valIntDec, data: 28}}},
		{name: "permission", attrs: []xAttr{{name: "name", str: "org.example.app.C2D"}, {name: "protectionLevel", typ: valIntHex, data: 0x12}}},
		{name: "application", attrs: []xAttr{
			{name: "name", str: ".App"}, {name: "debuggable", typ: valBool, data: 0xffffffff},
			{name: "allowBackup", typ: valBool, data: 0},
		}, children: []xElem{
			{name: "activity", attrs: []xAttr{{name: "name", str: ".Main"}}, children: []xElem{filter}},
			{name: "activity", attrs: []xAttr{{name: "name", str: "Plain"}}},
			{name: "service", attrs: []xAttr{{name: "name", str: "org.other.Svc"}, tb(true), {name: "permission", str: "org.example.BIND"}}},
			{name: "receiver", attrs: []xAttr{{name: "name", str: ".Rx"}, tb(false)}, children: []xElem{filter}},
			{name: "provider", attrs: []xAttr{{name: "name", str: ".Prov"}, {name: "authorities", str: "org.example.app.files"}}},
		}},
	}}
}
