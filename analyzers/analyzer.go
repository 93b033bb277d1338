// Package analyzers defines what an analysis is and what it is given: a
// Target (one leaf file of a scan, with its parsed App when it is an APK),
// and the contract Analyze(ctx, target) → findings. The analyses themselves
// live in one package each; list.go names them all.
package analyzers

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/romscan/romscan/extract"
	"github.com/romscan/romscan/extract/walk"
	"github.com/romscan/romscan/finding"
	"github.com/romscan/romscan/internal/android"
	"github.com/romscan/romscan/internal/dex"
	"github.com/romscan/romscan/signatures"
)

// Analyzer is one analysis. Partial results together with an error are
// allowed: the findings are kept and the error is recorded for the file.
type Analyzer interface {
	Name() string
	Version() string
	Kinds() []walk.Kind
	Analyze(ctx context.Context, t *Target) ([]finding.Finding, error)
}

// Target is one file to analyse.
type Target struct {
	Loc  extract.Location
	Kind walk.Kind
	Name string
	Size int64
	R    io.ReaderAt

	// App is the parsed app for APKs, and for DEX/VDEX/ODEX code (with a nil
	// APK); analyzers share it so each APK and DEX is parsed once.
	App *App
	// Package is the app's package name when known.
	Package string
	Sigs    *signatures.Set
	// Flags are context facts raising the app's rank ("priv-app", "platform-signed").
	Flags []string
	Stats *Stats
}

// Stats are counters shared by every target of a scan.
type Stats struct {
	FilteredEndpoints atomic.Int64
}

// App is an APK opened once, with its DEX files opened once.
type App struct {
	APK *android.App // nil for bare DEX or pre-optimised code
	Dex []*Dex
}

// Dex is one DEX file of an app, with a lazily built code index.
type Dex struct {
	Name string           // "classes2.dex"
	Loc  extract.Location // full location of the DEX
	File *dex.File
	// Data is the whole DEX when it was decoded into memory (an inflated
	// APK member) and File reads it in place; nil otherwise. Analyzers that
	// read the member's bytes (yara) use it instead of inflating it again.
	Data []byte

	once  sync.Once
	index *CodeIndex
	err   error

	classOnce sync.Once
	classes   []*dex.Class
	classErrs []error
	// released says Release dropped the shared index and classes: later
	// calls decode again, uncached.
	released bool
}

// Release drops the code index and the decoded classes shared by the
// analyzers, so an analyzer that has read all it needs of them (flow, the
// last to run) does not hold them while it works on its own data. Later
// calls to Class and Index still work: they decode again, uncached.
func (d *Dex) Release() {
	d.released = true
	d.index, d.err = nil, nil
	d.classes, d.classErrs = nil, nil
}

// Class returns class i, decoded once and shared by every analyzer (the
// code index and the flow pass both read every class).
func (d *Dex) Class(i int) (*dex.Class, error) {
	if d.released {
		if i < 0 || i >= d.File.NumClasses() {
			return nil, fmt.Errorf("class %d of %d", i, d.File.NumClasses())
		}
		return d.File.Class(i)
	}
	d.classOnce.Do(func() {
		n := d.File.NumClasses()
		d.classes = make([]*dex.Class, n)
		d.classErrs = make([]error, n)
		for j := 0; j < n; j++ {
			d.classes[j], d.classErrs[j] = d.File.Class(j)
		}
	})
	if i < 0 || i >= len(d.classes) {
		return nil, fmt.Errorf("class %d of %d", i, len(d.classes))
	}
	return d.classes[i], d.classErrs[i]
}

// Index returns the DEX's code index, building it on first use.
func (d *Dex) Index(ctx context.Context, sigs *signatures.Set) (*CodeIndex, error) {
	if d.released {
		ix, err := buildIndex(ctx, d, sigs)
		if err != nil {
			err = fmt.Errorf("index %s: %w", d.Loc, err)
		}
		return ix, err
	}
	d.once.Do(func() {
		d.index, d.err = buildIndex(ctx, d, sigs)
		if d.err != nil {
			d.err = fmt.Errorf("index %s: %w", d.Loc, d.err)
		}
	})
	return d.index, d.err
}

// Evidence builds the evidence for a code location in this DEX.
func (d *Dex) Evidence(class, method string) finding.Evidence {
	return finding.Evidence{Location: d.Loc.String(), Class: class, Method: method}
}

// Applies says whether an analyzer runs on a kind.
func Applies(a Analyzer, k walk.Kind) bool {
	for _, ak := range a.Kinds() {
		if ak == k {
			return true
		}
	}
	return false
}
