// Package android opens APKs, JARs and AABs tolerantly and decodes what
// analyzers need: the manifest (into our own types), signers, DEX and native
// library names, and any member's bytes, all read in place and bounded.
package android

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/romscan/romscan/extract"
)

// Kind says what sort of archive an App is.
type Kind int

// Archive kinds.
const (
	ZipOnly Kind = iota // a zip with no Android or Java content
	APK                 // AndroidManifest.xml at the root
	JAR                 // classes*.dex, *.class or META-INF/MANIFEST.MF but no Android manifest
	AAB                 // Android App Bundle: base/manifest/AndroidManifest.xml (protobuf)
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case APK:
		return "APK"
	case JAR:
		return "JAR"
	case AAB:
		return "AAB"
	}
	return "zip"
}

// ErrNoManifest says the archive has no AndroidManifest.xml.
var ErrNoManifest = errors.New("no AndroidManifest.xml")

const (
	maxArscBytes = 256 * extract.MiB // resources.arsc larger than this is not decoded
	manifestName = "AndroidManifest.xml"
	aabManifest  = "base/manifest/AndroidManifest.xml"
)

// App is one opened APK, JAR or AAB.
type App struct {
	Manifest    *Manifest
	ManifestErr error    // why Manifest is nil (or what went wrong decoding it)
	Signers     []Signer // signing-block signers (scheme 2/3/31) and JAR signature certificates (scheme 1)
	Schemes     []int    // signature schemes present: 1, 2, 3, 31
	DexNames    []string // classes.dex, classes2.dex, ... without gaps (AAB: base/dex/classes.dex, ...)
	NativeLibs  []string // lib/<abi>/*.so (AAB: <module>/lib/<abi>/*.so)
	Entries     []Entry  // every zip member, duplicates included
	Kind        Kind
	ResErr      error // why resources.arsc could not be read, if present

	r     io.ReaderAt
	size  int64
	lim   extract.Limits
	cdOK  bool // the central directory was read (else local headers were scanned)
	index map[string]int
	res   *resTable

	// The signature is verified on first use (SignError), by when the DEX
	// files are usually decoded: their bytes are digested in place.
	signOnce sync.Once
	signErr  error
	dexMu    sync.Mutex
	dexBytes map[int64][]byte // decoded DEX members by data offset
}

// Open reads the archive in r. It fails only when r is not a readable zip
// or a limit is hit; a missing or broken manifest is reported in
// App.ManifestErr. apkparser, androidbinary and apkverifier can panic on bad
// input: a panic becomes an error wrapping extract.ErrCorrupt.
func Open(ctx context.Context, r io.ReaderAt, size int64, lim extract.Limits) (app *App, err error) {
	defer func() {
		if p := recover(); p != nil {
			app, err = nil, extract.PanicError("android: open", p)
		}
	}()
	if size < 22 {
		return nil, fmt.Errorf("android: open: %d bytes: %w", size, extract.ErrNotFormat)
	}
	ents, cdOK, err := listEntries(ctx, r, size, lim)
	if err != nil {
		return nil, fmt.Errorf("android: open: %w", err)
	}
	a := &App{Entries: ents, r: r, size: size, lim: lim, cdOK: cdOK, index: make(map[string]int, len(ents))}
	for i, e := range ents {
		if _, ok := a.index[e.Name]; !ok {
			a.index[e.Name] = i
		}
	}
	a.classify()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	a.readResources()
	a.readManifest()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	a.readSigners()
	return a, nil
}

// classify sets Kind, DexNames and NativeLibs.
func (a *App) classify() {
	_, hasManifest := a.index[manifestName]
	_, hasAAB := a.index[aabManifest]
	_, hasBundleConfig := a.index["BundleConfig.pb"]
	javaLike := false
	for _, e := range a.Entries {
		if strings.HasSuffix(e.Name, ".class") || e.Name == "META-INF/MANIFEST.MF" {
			javaLike = true
		}
	}
	switch {
	case hasManifest:
		a.Kind = APK
	case hasAAB || hasBundleConfig:
		a.Kind = AAB
	default:
		a.DexNames = a.dexSeries("")
		if len(a.DexNames) > 0 || javaLike {
			a.Kind = JAR
		} else {
			a.Kind = ZipOnly
		}
	}
	switch a.Kind {
	case APK:
		a.DexNames = a.dexSeries("")
	case AAB:
		a.DexNames = a.dexSeries("base/dex/")
		var mods []string
		for _, e := range a.Entries {
			if m, rest, ok := strings.Cut(e.Name, "/"); ok && m != "base" && strings.HasPrefix(rest, "dex/classes") && !slices.Contains(mods, m) {
				mods = append(mods, m)
			}
		}
		slices.Sort(mods)
		for _, m := range mods {
			a.DexNames = append(a.DexNames, a.dexSeries(m+"/dex/")...)
		}
	}
	for _, e := range a.Entries {
		if e.Duplicate || !strings.HasSuffix(e.Name, ".so") {
			continue
		}
		parts := strings.Split(e.Name, "/")
		if len(parts) == 3 && parts[0] == "lib" || a.Kind == AAB && len(parts) == 4 && parts[1] == "lib" {
			a.NativeLibs = append(a.NativeLibs, e.Name)
		}
	}
}

// DexNames returns the DEX members that App.DexNames holds for an archive
// with these member names: the code the app's own analysis reads, which a
// walk over the archive's members need not hand out again.
func DexNames(names []string) []string {
	a := &App{Entries: make([]Entry, len(names)), index: make(map[string]int, len(names))}
	for i, n := range names {
		a.Entries[i].Name = n
		if _, ok := a.index[n]; !ok {
			a.index[n] = i
		}
	}
	a.classify()
	return a.DexNames
}

// dexSeries lists prefix+classes.dex, classes2.dex, ... up to the first gap,
// the order in which Android loads them.
func (a *App) dexSeries(prefix string) []string {
	var out []string
	for i := 1; ; i++ {
		name := prefix + "classes.dex"
		if i > 1 {
			name = prefix + "classes" + strconv.Itoa(i) + ".dex"
		}
		if _, ok := a.index[name]; !ok {
			return out
		}
		out = append(out, name)
	}
}

func (a *App) readResources() {
	i, ok := a.index["resources.arsc"]
	if !ok || a.Kind != APK {
		return
	}
	data, err := a.readAll(a.Entries[i], maxArscBytes)
	if err != nil {
		a.ResErr = fmt.Errorf("android: resources.arsc: %w", err)
		return
	}
	t, err := parseTable(data)
	if err != nil {
		a.ResErr = fmt.Errorf("android: resources.arsc: %w", err)
		return
	}
	a.res = t
}

func (a *App) readManifest() {
	switch a.Kind {
	case APK:
		data, err := a.readAll(a.Entries[a.index[manifestName]], maxManifestBytes)
		if err != nil {
			a.ManifestErr = fmt.Errorf("android: %s: %w", manifestName, err)
			return
		}
		a.Manifest, a.ManifestErr = decodeManifestBytes(data, a.res)
	case AAB:
		i, ok := a.index[aabManifest]
		if !ok {
			a.ManifestErr = fmt.Errorf("android: %s: %w", aabManifest, ErrNoManifest)
			return
		}
		data, err := a.readAll(a.Entries[i], maxManifestBytes)
		if err != nil {
			a.ManifestErr = fmt.Errorf("android: %s: %w", aabManifest, err)
			return
		}
		a.Manifest, a.ManifestErr = decodeProtoManifest(data)
	default:
		a.ManifestErr = fmt.Errorf("android: %s archive: %w", a.Kind, ErrNoManifest)
	}
}

// readAll reads a whole member into memory, bounded by max.
func (a *App) readAll(e Entry, max int64) ([]byte, error) {
	rd, n, err := readMember(a.r, a.size, e, max, a.lim)
	if err != nil {
		return nil, err
	}
	if b, ok := MemberBytes(rd); ok {
		return b, nil
	}
	b := make([]byte, n)
	if m, err := rd.ReadAt(b, 0); int64(m) != n {
		return nil, fmt.Errorf("read %q: %v: %w", e.Name, err, extract.ErrCorrupt)
	}
	return b, nil
}

// OpenMember returns the decoded bytes of the first member called name
// (stored members are read in place), bounded by maxSize (≤ 0: the limit's
// MaxFileSize) and the compression ratio limit; over a bound, the error wraps
// extract.ErrLimit.
func (a *App) OpenMember(name string, maxSize int64) (io.ReaderAt, int64, error) {
	i, ok := a.index[name]
	if !ok {
		return nil, 0, fmt.Errorf("android: open member %q: %w", name, errNotFound)
	}
	return a.OpenEntry(i, maxSize)
}

var errNotFound = fmt.Errorf("not found: %w", extract.ErrNotFormat)

// OpenEntry is OpenMember for Entries[i], which reaches duplicate members too.
func (a *App) OpenEntry(i int, maxSize int64) (rd io.ReaderAt, n int64, err error) {
	defer func() {
		if p := recover(); p != nil {
			rd, n, err = nil, 0, extract.PanicError(fmt.Sprintf("android: open entry %d", i), p)
		}
	}()
	if i < 0 || i >= len(a.Entries) {
		return nil, 0, fmt.Errorf("android: open entry %d of %d: %w", i, len(a.Entries), errNotFound)
	}
	e := a.Entries[i]
	rd, n, err = readMember(a.r, a.size, e, maxSize, a.lim)
	if err != nil {
		return nil, 0, fmt.Errorf("android: %w", err)
	}
	if b, ok := MemberBytes(rd); ok && e.Method != zip.Store && !e.Duplicate && slices.Contains(a.DexNames, e.Name) {
		a.dexMu.Lock()
		if a.dexBytes == nil {
			a.dexBytes = map[int64][]byte{}
		}
		a.dexBytes[e.DataOffset] = b
		a.dexMu.Unlock()
	}
	return rd, n, nil
}

// ReadEntry returns the decoded bytes of Entries[i] in memory, bounded like
// OpenEntry: decoded (or, for a stored member, read) into buf, which is grown
// when too small, so a caller reading many members can reuse one buffer.
func (a *App) ReadEntry(i int, maxSize int64, buf []byte) (b []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			b, err = nil, fmt.Errorf("android: read entry %d: panic: %v: %w", i, p, extract.ErrCorrupt)
		}
	}()
	if i < 0 || i >= len(a.Entries) {
		return nil, fmt.Errorf("android: read entry %d of %d: %w", i, len(a.Entries), errNotFound)
	}
	b, err = readMemberBytes(a.r, a.size, a.Entries[i], maxSize, a.lim, buf)
	if err != nil {
		return nil, fmt.Errorf("android: %w", err)
	}
	return b, nil
}

// EntryIndex returns the index in Entries of the first member called name.
func (a *App) EntryIndex(name string) (int, bool) {
	i, ok := a.index[name]
	return i, ok
}

// ResolveString resolves "@0x7f..." or "@7f..." through resources.arsc
// (default configuration) and returns ref unchanged when it cannot. Named
// references ("@string/app_name") are resolved when the manifest decoder
// gave their numeric ID; names alone cannot be looked up.
func (a *App) ResolveString(ref string) string {
	if a == nil || a.res == nil {
		return ref
	}
	if id, ok := parseRef(ref); ok {
		if s, ok := a.res.resolve(id); ok {
			return s
		}
	}
	return ref
}

// Close releases the App. The ReaderAt passed to Open stays the caller's.
func (a *App) Close() error {
	if a == nil {
		return nil
	}
	a.res = nil
	a.index = nil
	a.dexMu.Lock()
	a.dexBytes = nil
	a.dexMu.Unlock()
	return nil
}
