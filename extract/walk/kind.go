package walk

import (
	"bytes"
	"path"
	"strings"
)

// Kind says what a leaf file is, for the analyzers.
type Kind int

// Leaf kinds.
const (
	KindOther Kind = iota
	KindAPK        // APK, JAR, AAB: a zip with Android code or a manifest
	KindDEX
	KindVDEX
	KindOAT // ODEX/OAT: an ELF with an oatdata symbol
	KindELF // native library or executable
	KindText
)

var kindNames = [...]string{"other", "apk", "dex", "vdex", "oat", "elf", "text"}

// String returns the lowercase name.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind?"
}

// textNames are configuration and script files worth reading for endpoints
// and device context, by extension or exact name.
var textExts = map[string]bool{
	".prop": true, ".rc": true, ".xml": true, ".json": true, ".conf": true, ".cfg": true, ".ini": true,
	".properties": true, ".sh": true, ".txt": true, ".js": true, ".html": true, ".htm": true, ".yaml": true,
	".yml": true, ".pem": false,
}

// classify decides a leaf's kind from its magic bytes and name.
func classify(head []byte, name string) Kind {
	lower := strings.ToLower(name)
	ext := path.Ext(lower)
	switch {
	case bytes.HasPrefix(head, []byte("dex\n")) && (ext == ".apk" || ext == ".jar"):
		// A DEX with a zip behind it (Janus): analyse it as the APK it
		// claims to be; the signing analyzer reports the prefix.
		return KindAPK
	case bytes.HasPrefix(head, []byte("dex\n")) || bytes.HasPrefix(head, []byte("cdex")):
		return KindDEX
	case bytes.HasPrefix(head, []byte("vdex")):
		return KindVDEX
	case bytes.HasPrefix(head, []byte("\x7fELF")):
		if ext == ".odex" || ext == ".oat" || ext == ".art" {
			return KindOAT
		}
		return KindELF
	case isZip(head) && (ext == ".apk" || ext == ".jar" || ext == ".aab" || ext == ".apks" || ext == ".xapk"):
		return KindAPK
	}
	if textExts[ext] || lower == "build.prop" || strings.HasSuffix(lower, ".prop") {
		if looksText(head) {
			return KindText
		}
	}
	return KindOther
}

func isZip(head []byte) bool {
	return bytes.HasPrefix(head, []byte("PK\x03\x04")) || bytes.HasPrefix(head, []byte("PK\x05\x06"))
}

// looksText accepts UTF-8-ish data with few control bytes.
func looksText(head []byte) bool {
	if len(head) == 0 {
		return false
	}
	ctrl := 0
	for _, b := range head {
		if b == 0 {
			return false
		}
		if b < 0x20 && b != '\n' && b != '\r' && b != '\t' {
			ctrl++
		}
	}
	return ctrl*100 < len(head)
}
