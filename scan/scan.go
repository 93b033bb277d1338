// Package scan runs a whole scan: it walks the inputs through every
// container, fans leaf files out to workers on all cores, runs the
// analyzers on each, and builds the ranked report.
package scan

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	pathpkg "path"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/romscan/romscan/analyzers"
	"github.com/romscan/romscan/extract"
	"github.com/romscan/romscan/extract/oat"
	"github.com/romscan/romscan/extract/vdex"
	"github.com/romscan/romscan/extract/walk"
	"github.com/romscan/romscan/finding"
	"github.com/romscan/romscan/internal/android"
	"github.com/romscan/romscan/internal/dex"
	"github.com/romscan/romscan/report"
	"github.com/romscan/romscan/signatures"
)

// Version is romscan's version, written into every report.
const Version = "0.1.0"

// maxDexSize bounds one DEX file read out of an APK.
const maxDexSize = 512 * extract.MiB

// Config says what to scan and how.
type Config struct {
	Inputs    []string
	Jobs      int // workers; 0 means GOMAXPROCS
	Limits    extract.Limits
	Sigs      *signatures.Set
	Analyzers []analyzers.Analyzer
	// TargetTimeout bounds the analysis of one file; 0 means no bound.
	TargetTimeout time.Duration
	// Base is the old ROM (a folder of partition images, a full payload or
	// OTA zip, or a super.img) that incremental updates are applied to.
	Base string
	// Progress, when set, is called after each leaf file is analysed.
	Progress func(p Progress)
	// Cache, when set, reuses the analysis of APKs already seen (cache.go).
	Cache *Cache
}

// Progress counts what a running scan has done.
type Progress struct {
	Done     int64
	Location string
}

// ErrNothingScannable says no input held anything romscan could analyse.
var ErrNothingScannable = errors.New("nothing scannable in the inputs")

// result is what one leaf produced.
type result struct {
	loc      string
	kind     walk.Kind
	app      *report.App // APKs only
	findings []finding.Finding
	errs     []report.FileError
	props    map[string]string // build.prop content
	grants   map[string][]string
	grantDef bool // grants are default runtime grants (else privileged)
	flags    []string
	signer   string
	// linkTo is the location of the APK that pre-optimised code (VDEX,
	// ODEX) belongs to, so its findings join that app.
	linkTo string
}

// Run scans cfg.Inputs and returns the report. Per-file problems are in the
// report's Errors; the error return is for cancellation and for
// ErrNothingScannable, in which case the report is still returned.
func Run(ctx context.Context, cfg Config) (*report.Report, error) {
	if cfg.Sigs == nil {
		return nil, errors.New("scan: no signatures loaded")
	}
	jobs := cfg.Jobs
	if jobs <= 0 {
		jobs = runtime.GOMAXPROCS(0)
	}
	cfg.Limits = cfg.Limits.WithDefaults()
	spill := &walk.Spiller{Max: cfg.Limits.MaxSpillBytes}
	defer spill.Close()

	var (
		mu         sync.Mutex
		results    []*result
		walkErrs   []report.FileError
		containers []report.Container
		notes      []report.Note
		done       atomic.Int64
		stats      analyzers.Stats
	)
	leaves, stopQueue := newLeafQueue(ctx, maxQueuedLeaves, maxQueuedMemory)
	defer stopQueue()
	var wg sync.WaitGroup
	for i := 0; i < jobs; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				leaf, ok := leaves.pop()
				if !ok {
					return
				}
				res := analyzeWithin(ctx, &cfg, leaf, &stats)
				leaf.Done()
				n := done.Add(1)
				if res != nil {
					mu.Lock()
					results = append(results, res)
					mu.Unlock()
				}
				if cfg.Progress != nil {
					cfg.Progress(Progress{Done: n, Location: leaf.Loc.String()})
				}
			}
		}()
	}
	// Leaves of no known kind go to the workers only when an analyzer
	// (yara) reads them.
	keepOther := false
	for _, a := range cfg.Analyzers {
		keepOther = keepOther || analyzers.Applies(a, walk.KindOther)
	}
	w := walk.New(cfg.Limits, spill)
	if cfg.Base != "" {
		w.Base = walk.NewBase(cfg.Base)
		defer w.Base.Close()
	}
	w.Visit = func(l *walk.Leaf) {
		if !worthAnalysing(l, keepOther) {
			l.Done()
			return
		}
		if !leaves.push(l) {
			l.Done()
		}
	}
	w.OnError = func(loc extract.Location, err error) {
		mu.Lock()
		walkErrs = append(walkErrs, report.FileError{Location: loc.String(), Error: err.Error()})
		mu.Unlock()
	}
	w.OnContainer = func(ci walk.ContainerInfo) {
		mu.Lock()
		containers = append(containers, report.Container{Location: ci.Loc.String(), Format: ci.Format, Size: ci.Size})
		for _, n := range ci.Notes {
			notes = append(notes, report.Note{Location: ci.Loc.String(), Text: n})
		}
		mu.Unlock()
	}
	inputs := describeInputs(cfg.Inputs)
	walkErr := w.Walk(ctx, cfg.Inputs)
	leaves.close()
	wg.Wait()

	r := build(cfg.Sigs, results, stats.FilteredEndpoints.Load())
	r.Inputs = inputs
	r.Errors = append(r.Errors, walkErrs...)
	r.Containers = containers
	r.Notes = append(r.Notes, notes...)
	r.Summary.Files = int(done.Load())
	r.Summary.SpilledBytes = spill.Written()
	r.Sort()
	r.Summarise()
	if walkErr != nil {
		return r, walkErr
	}
	if err := ctx.Err(); err != nil {
		return r, err
	}
	if len(r.Apps) == 0 && r.Summary.Files == 0 {
		return r, ErrNothingScannable
	}
	return r, nil
}

// analyzeWithin analyses one leaf within the per-target time limit: a file
// that takes longer gets an error naming the limit, and the scan goes on.
func analyzeWithin(ctx context.Context, cfg *Config, leaf *walk.Leaf, stats *analyzers.Stats) *result {
	if cfg.TargetTimeout <= 0 {
		return analyzeCached(ctx, cfg, leaf, stats)
	}
	tctx, cancel := context.WithTimeout(ctx, cfg.TargetTimeout)
	defer cancel()
	res := analyzeCached(tctx, cfg, leaf, stats)
	if errors.Is(tctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil && res != nil {
		// One clear error instead of each step's "context deadline exceeded".
		kept := res.errs[:0]
		for _, e := range res.errs {
			if !strings.Contains(e.Error, context.DeadlineExceeded.Error()) {
				kept = append(kept, e)
			}
		}
		res.errs = append(kept, report.FileError{Location: leaf.Loc.String(),
			Error: fmt.Sprintf("analysis stopped after %s, the per-file time limit (raise --target-timeout): %v", cfg.TargetTimeout, extract.ErrLimit)})
	}
	return res
}

// worthAnalysing drops leaves no analyzer reads.
func worthAnalysing(l *walk.Leaf, keepOther bool) bool {
	return keepOther || l.Kind != walk.KindOther
}

// analyzeLeaf runs every applicable analyzer on one leaf. A panic anywhere
// becomes a per-file error.
func analyzeLeaf(ctx context.Context, cfg *Config, leaf *walk.Leaf, stats *analyzers.Stats) (res *result) {
	loc := leaf.Loc.String()
	res = &result{loc: loc, kind: leaf.Kind}
	defer func() {
		if p := recover(); p != nil {
			res.errs = append(res.errs, report.FileError{Location: loc, Error: fmt.Sprintf("internal error (please report): %v\n%s", p, firstFrames(debug.Stack()))})
		}
	}()
	t := &analyzers.Target{Loc: leaf.Loc, Kind: leaf.Kind, Name: leaf.Name, Size: leaf.Size, R: leaf.R, Sigs: cfg.Sigs, Stats: stats}
	fail := func(where string, err error) {
		res.errs = append(res.errs, report.FileError{Location: where, Error: err.Error()})
	}
	switch leaf.Kind {
	case walk.KindAPK:
		app, err := android.Open(ctx, leaf.R, leaf.Size, cfg.Limits)
		if err != nil {
			fail(loc, fmt.Errorf("open apk: %w", err))
			res.app = &report.App{Location: loc, Error: err.Error()}
			return res
		}
		defer app.Close()
		t.App = &analyzers.App{APK: app}
		res.app = appInfo(loc, app)
		if app.ManifestErr != nil && app.Kind == android.APK {
			fail(loc+"!AndroidManifest.xml", app.ManifestErr)
		}
		if app.Manifest != nil {
			t.Package = app.Manifest.Package
		}
		for _, name := range app.DexNames {
			r, size, err := app.OpenMember(name, maxDexSize)
			if err != nil {
				fail(loc+"!"+name, err)
				continue
			}
			// An inflated DEX is already in memory: read it in place
			// rather than through the reader's page cache.
			data, inMemory := android.MemberBytes(r)
			var f *dex.File
			if inMemory {
				f, err = dex.OpenBytes(data)
			} else {
				f, err = dex.Open(r, size)
			}
			if err != nil {
				fail(loc+"!"+name, err)
				continue
			}
			t.App.Dex = append(t.App.Dex, &analyzers.Dex{Name: name, Loc: leaf.Loc.Append(name), File: f, Data: data})
		}
		res.flags = placementFlags(loc)
		if len(app.Signers) > 0 {
			res.signer = app.Signers[0].SHA256
		}
	case walk.KindDEX:
		f, err := dex.Open(leaf.R, leaf.Size)
		if err != nil {
			fail(loc, err)
			return res
		}
		t.App = &analyzers.App{Dex: []*analyzers.Dex{{Name: leaf.Name, Loc: leaf.Loc, File: f}}}
	case walk.KindVDEX, walk.KindOAT:
		dexes, err := preoptDex(leaf)
		if err != nil {
			fail(loc, err)
		}
		if len(dexes) == 0 {
			return res
		}
		t.App = &analyzers.App{}
		for i, d := range dexes {
			name := dexName(i)
			f, err := dex.Open(d.r, d.size)
			if err != nil {
				fail(loc+"!"+name, err)
				continue
			}
			t.App.Dex = append(t.App.Dex, &analyzers.Dex{Name: name, Loc: leaf.Loc.Append(name), File: f})
		}
		res.linkTo = linkedAPK(leaf.Loc)
	case walk.KindText:
		if isBuildProp(leaf.Name) {
			res.props = readProps(leaf.R, leaf.Size)
		}
		if priv, def := isGrantFile(loc); priv || def {
			g, err := parseGrants(leaf.R, leaf.Size)
			if err != nil {
				fail(loc, err)
			}
			res.grants, res.grantDef = g, def
		}
	}
	t.Flags = res.flags
	for _, a := range cfg.Analyzers {
		if !analyzers.Applies(a, leaf.Kind) {
			continue
		}
		if err := ctx.Err(); err != nil {
			fail(loc, err)
			return res
		}
		fs, err := runAnalyzer(ctx, a, t)
		res.findings = append(res.findings, fs...)
		if err != nil {
			fail(loc, fmt.Errorf("%s: %w", a.Name(), err))
		}
	}
	res.findings = reconcile(res.findings)
	return res
}

// reconcile drops the harvesting analyzer's same-method hint where the flow
// analyzer proved a flow through that method: the flow finding tells the
// same story with its path and endpoint.
func reconcile(fs []finding.Finding) []finding.Finding {
	proved := map[string]bool{}
	for _, f := range fs {
		if f.RuleID != "flow.exfiltration" {
			continue
		}
		for _, e := range f.Evidence {
			proved[e.Location+"\x00"+e.Class+"\x00"+e.Method] = true
		}
	}
	if len(proved) == 0 {
		return fs
	}
	out := fs[:0]
	for _, f := range fs {
		if f.RuleID == "harvest.source-and-sink-in-method" && len(f.Evidence) > 0 {
			e := f.Evidence[0]
			if proved[e.Location+"\x00"+e.Class+"\x00"+e.Method] {
				continue
			}
		}
		out = append(out, f)
	}
	return out
}

type dexBytes struct {
	r    io.ReaderAt
	size int64
}

// preoptDex finds the DEX files inside a VDEX or an OAT/ODEX file.
func preoptDex(leaf *walk.Leaf) ([]dexBytes, error) {
	var out []dexBytes
	if leaf.Kind == walk.KindVDEX {
		vf, err := vdex.Open(leaf.R, leaf.Size)
		if errors.Is(err, vdex.ErrNoDex) {
			return nil, nil // only verifier data: the code is in the APK
		}
		if err != nil {
			return nil, err
		}
		var errs []error
		for i, s := range vf.Dex() {
			if s.Compact {
				// A compact DEX reads its data from the section that every
				// cdex of the vdex shares, after the headers.
				end := s.DataOffset + s.DataSize
				if end < s.Offset+s.Size {
					end = s.Offset + s.Size
				}
				if end > leaf.Size || s.Offset < 0 || s.Offset > end {
					errs = append(errs, fmt.Errorf("vdex %s: compact dex %d lies outside the file: %w", vf.Version(), i, extract.ErrCorrupt))
					continue
				}
				out = append(out, dexBytes{io.NewSectionReader(leaf.R, s.Offset, end-s.Offset), end - s.Offset})
				continue
			}
			out = append(out, dexBytes{vf.DexReader(i), s.Size})
		}
		return out, errors.Join(errs...)
	}
	of, err := oat.Open(leaf.R, leaf.Size)
	if err != nil {
		return nil, err
	}
	for i, s := range of.Dex() {
		out = append(out, dexBytes{of.DexReader(i), s.Size})
	}
	return out, nil
}

func dexName(i int) string {
	if i == 0 {
		return "classes.dex"
	}
	return fmt.Sprintf("classes%d.dex", i+1)
}

// linkedAPK maps ".../Foo/oat/<arch>/Foo.vdex" to ".../Foo/Foo.apk", the app
// the pre-optimised code was built from.
func linkedAPK(loc extract.Location) string {
	if len(loc) == 0 {
		return ""
	}
	last := loc[len(loc)-1]
	dir, file := pathpkg.Split(last)
	parts := strings.Split(strings.TrimSuffix(dir, "/"), "/")
	if len(parts) < 3 || parts[len(parts)-2] != "oat" {
		return ""
	}
	appDir := strings.Join(parts[:len(parts)-2], "/")
	base := strings.TrimSuffix(file, pathpkg.Ext(file))
	out := append(extract.Location{}, loc[:len(loc)-1]...)
	return append(out, appDir+"/"+base+".apk").String()
}

func runAnalyzer(ctx context.Context, a analyzers.Analyzer, t *analyzers.Target) (fs []finding.Finding, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("internal error (please report): %v\n%s", p, firstFrames(debug.Stack()))
		}
	}()
	return a.Analyze(ctx, t)
}

// firstFrames keeps a panic's stack short enough for a report.
func firstFrames(stack []byte) string {
	lines := strings.Split(string(stack), "\n")
	if len(lines) > 16 {
		lines = lines[:16]
	}
	return strings.Join(lines, "\n")
}

func appInfo(loc string, app *android.App) *report.App {
	a := &report.App{Location: loc}
	if m := app.Manifest; m != nil {
		a.Package, a.VersionCode, a.VersionName = m.Package, m.VersionCode, m.VersionName
		a.MinSDK, a.TargetSDK = m.MinSDK, m.TargetSDK
		a.SharedUserID, a.Persistent = m.SharedUserID, m.Application.Persistent
		a.Label = app.ResolveString(m.Application.Label)
		for _, p := range m.UsesPermissions {
			a.Permissions = append(a.Permissions, p.Name)
		}
		sort.Strings(a.Permissions)
		for _, group := range [][]android.Component{m.Application.Activities, m.Application.Services, m.Application.Receivers, m.Application.Providers} {
			for _, c := range group {
				if c.EffectiveExported {
					a.Exported = append(a.Exported, c.Kind+":"+c.Name)
				}
			}
		}
		sort.Strings(a.Exported)
	}
	for _, s := range app.Signers {
		a.Signers = append(a.Signers, report.Signer{SHA256: s.SHA256, Subject: s.Subject, Scheme: s.Scheme, Debug: s.DebugCert})
	}
	a.Placement, a.Partition = placement(loc)
	return a
}

// placement reads where in a ROM an app sits from its location.
func placement(loc string) (place, partition string) {
	p := loc
	if i := strings.LastIndex(p, "!/"); i >= 0 {
		p = p[i+1:]
	}
	parts := strings.Split(strings.Trim(p, "/"), "/")
	for i, s := range parts {
		switch s {
		case "priv-app", "app", "overlay", "framework":
			if i > 0 {
				partition = parts[i-1]
			}
			if partition == "" || strings.HasSuffix(partition, ".img") {
				partition = "system"
			}
			return s, partition
		}
	}
	return "", ""
}

func placementFlags(loc string) []string {
	if place, _ := placement(loc); place == "priv-app" {
		return []string{"priv-app"}
	}
	return nil
}

func isBuildProp(name string) bool {
	return name == "build.prop" || name == "default.prop" || name == "prop.default" || strings.HasSuffix(name, "_build.prop")
}

// readProps parses a bounded build.prop.
func readProps(r io.ReaderAt, size int64) map[string]string {
	const max = 4 * extract.MiB
	buf := make([]byte, min(size, max))
	n, _ := r.ReadAt(buf, 0)
	props := map[string]string{}
	for _, line := range bytes.Split(buf[:n], []byte("\n")) {
		s := strings.TrimSpace(string(line))
		if s == "" || s[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(s, "=")
		if ok && len(props) < 10000 {
			props[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return props
}

func describeInputs(paths []string) []report.Input {
	var out []report.Input
	for _, p := range paths {
		in := report.Input{Name: filepath.Base(filepath.Clean(p)), Kind: "file"}
		st, err := os.Stat(p)
		if err != nil {
			out = append(out, in)
			continue
		}
		if st.IsDir() {
			in.Kind = "folder"
		} else {
			in.Size = st.Size()
			if f, err := os.Open(p); err == nil {
				h := sha256.New()
				if _, err := io.Copy(h, f); err == nil {
					in.SHA256 = hex.EncodeToString(h.Sum(nil))
				}
				f.Close()
			}
		}
		out = append(out, in)
	}
	return out
}
