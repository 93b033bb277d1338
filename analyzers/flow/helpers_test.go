package flow

import (
	"context"
	"os"
	"testing"

	"github.com/romscan/romscan/analyzers"
	"github.com/romscan/romscan/extract"
	"github.com/romscan/romscan/finding"
	"github.com/romscan/romscan/internal/android"
	"github.com/romscan/romscan/internal/dex"
	"github.com/romscan/romscan/signatures"
)

// analyzeAPK opens an APK the way a scan does and runs the flow analyzer.
func analyzeAPK(tb testing.TB, a *Analyzer, sigs *signatures.Set, path string) ([]finding.Finding, error) {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	app, err := android.Open(ctx, f, st.Size(), extract.DefaultLimits())
	if err != nil {
		return nil, err
	}
	defer app.Close()
	loc := extract.Location{path}
	t := &analyzers.Target{Loc: loc, Name: path, Size: st.Size(), R: f, Sigs: sigs, App: &analyzers.App{APK: app}}
	if app.Manifest != nil {
		t.Package = app.Manifest.Package
	}
	for _, name := range app.DexNames {
		r, size, err := app.OpenMember(name, 256*extract.MiB)
		if err != nil {
			return nil, err
		}
		d, err := dex.Open(r, size)
		if err != nil {
			return nil, err
		}
		t.App.Dex = append(t.App.Dex, &analyzers.Dex{Name: name, Loc: loc.Append(name), File: d})
	}
	return a.Analyze(ctx, t)
}

func loadSigs(tb testing.TB) *signatures.Set {
	tb.Helper()
	s, err := signatures.Load()
	if err != nil {
		tb.Fatal(err)
	}
	return s
}
