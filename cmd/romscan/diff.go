package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/romscan/romscan/analyzers/list"
	"github.com/romscan/romscan/extract"
	"github.com/romscan/romscan/finding"
	"github.com/romscan/romscan/report"
	"github.com/romscan/romscan/report/diff"
	"github.com/romscan/romscan/scan"
	"github.com/romscan/romscan/signatures"
)

// diffOutputs is the repeatable -o FORMAT[=FILE] flag of diff.
type diffOutputs []output

func (o *diffOutputs) String() string { return "" }

func (o *diffOutputs) Set(v string) error {
	out, err := parseOutput(v, diff.RendererNames())
	if err == nil {
		*o = append(*o, out)
	}
	return err
}

// sideError marks a side that cannot be read (exit code 3).
type sideError struct {
	which, path string
	err         error
}

func (e *sideError) Error() string {
	return fmt.Sprintf("%s side %q: %v", e.which, report.Clean(e.path), e.err)
}

func (e *sideError) Unwrap() error { return e.err }

// cmdDiff compares two ROM images, APKs, folders or saved JSON reports.
// Exit codes: 0 no new finding at or above --fail-on; 1 there is one;
// 2 usage; 3 a side is unreadable, of an unsupported format, or a JSON
// report of another schema version.
func cmdDiff(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("diff", flag.ContinueOnError)
	fs.SetOutput(stderr)
	lim := extract.DefaultLimits()
	var (
		outs       diffOutputs
		minSev     = severityFlag{sev: finding.Info}
		failOn     = severityFlag{sev: finding.High}
		jobs       = fs.Int("jobs", 0, "parallel workers (default: number of CPUs)")
		quiet      = fs.Bool("quiet", false, "no progress or log lines on stderr")
		maxChanges = fs.Int("max-changes", 0, "changes listed in the table (0 for all)")
		cacheDir   = fs.String("cache", "", "keep per-APK analyses in `DIR` and reuse them in later runs")
		cacheMax   = int64(scan.DefaultCacheMaxBytes)
	)
	fs.Var(&outs, "o", "output `FORMAT[=FILE]`, repeatable; formats: "+strings.Join(diff.RendererNames(), ", ")+" (default: table on stdout)")
	fs.Var(&minSev, "min-severity", "lowest change severity listed in the table: info, low, medium, high, critical")
	fs.Var(&failOn, "fail-on", "exit 1 when a NEW finding is at or above this severity (none to never)")
	fs.Var(sizeFlag{v: &cacheMax}, "cache-max", "bytes the --cache folder may hold (e.g. 256MiB)")
	fs.Var(sizeFlag{&lim.MaxFileSize, true}, "max-file-size", "largest member decoded or read (e.g. 16GiB)")
	fs.Var(sizeFlag{&lim.MaxSpillBytes, true}, "max-spill", "temp bytes for formats read only in order (e.g. 32GiB)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `Usage: romscan diff [flags] OLD NEW

Compare two ROM images, OTA zips, APKs, folders, or JSON reports saved by
'romscan scan -o json=FILE', and list what changed, most dangerous first.
An APK found with the same content on both sides is analysed once.

Exit codes: 0 no new finding at or above --fail-on; 1 a new finding at or
above it; 2 usage error; 3 a side unreadable, of an unsupported format, or a
report of another schema version.

Flags:`)
		fs.PrintDefaults()
	}
	paths, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, nil
		}
		return exitUsage, usagef("%v", err)
	}
	if len(paths) != 2 {
		return exitUsage, usagef("diff needs exactly two paths, OLD and NEW (got %d)", len(paths))
	}
	if len(outs) == 0 {
		outs = diffOutputs{{format: "table"}}
	}
	sigs, err := signatures.Load()
	if err != nil {
		return exitNothing, err
	}
	cache, err := scan.NewCache(scan.CacheOptions{Dir: *cacheDir, MaxBytes: cacheMax})
	if err != nil {
		return exitNothing, err
	}
	start := time.Now()
	base := scan.Config{Jobs: *jobs, Limits: lim, Sigs: sigs, Analyzers: list.All(), Cache: cache}
	var reps [2]*report.Report
	for i, which := range []string{"OLD", "NEW"} {
		rep, err := loadSide(ctx, which, paths[i], base, stderr, *quiet)
		if err != nil {
			return exitNothing, err
		}
		reps[i] = rep
	}
	d := diff.Compare(reps[0], reps[1], diff.Options{
		Tool:        report.Tool{Name: "romscan", Version: scan.Version, RulesVersion: sigs.Version},
		Permissions: sigs.Permissions,
	})
	if err := writeDiffOutputs(outs, d, diff.RenderOptions{MinSeverity: minSev.sev, MaxChanges: *maxChanges}, stdout); err != nil {
		return exitNothing, err
	}
	if !*quiet {
		st := cache.Stats()
		fmt.Fprintf(stderr, "romscan: compared in %s; %d changes; APK analyses reused %d (%d from disk), run %d; hashed %.1f MiB in %s\n",
			time.Since(start).Round(time.Millisecond), len(d.Changes), st.Hits, st.DiskHits, st.Misses,
			float64(st.HashedBytes)/float64(extract.MiB), st.HashTime.Round(time.Millisecond))
	}
	if max, ok := d.MaxNewSeverity(); ok && !failOn.none && max >= failOn.sev {
		return exitFindings, nil
	}
	return exitOK, nil
}

// loadSide reads a saved JSON report, or scans the path.
func loadSide(ctx context.Context, which, path string, base scan.Config, stderr io.Writer, quiet bool) (*report.Report, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, &sideError{which, path, err}
	}
	rep, isJSON, err := diff.ReadReportFile(path)
	if isJSON || err != nil {
		if err != nil {
			return nil, &sideError{which, path, err}
		}
		return rep, nil
	}
	cfg := base
	cfg.Inputs = []string{path}
	finish := progress(&cfg, stderr, quiet)
	rep, err = scan.Run(ctx, cfg)
	finish()
	switch {
	case errors.Is(err, scan.ErrNothingScannable):
		return nil, &sideError{which, path, errors.New("unsupported format: no APK, DEX or firmware romscan can read")}
	case err != nil:
		return nil, &sideError{which, path, err}
	case rep == nil:
		return nil, &sideError{which, path, errors.New("no report")}
	case len(rep.Apps) == 0 && rep.Device == nil:
		msg := "unsupported format: no app and no build.prop found"
		if len(rep.Errors) > 0 {
			msg += ": " + report.Clean(rep.Errors[0].Error)
		}
		return nil, &sideError{which, path, errors.New(msg)}
	}
	if len(rep.Errors) > 0 && !quiet {
		fmt.Fprintf(stderr, "romscan: %s side: %d files could not be read (see -o json)\n", which, len(rep.Errors))
	}
	return rep, nil
}

func writeDiffOutputs(outs diffOutputs, d *diff.Delta, opt diff.RenderOptions, stdout io.Writer) error {
	renderers := diff.Renderers(opt)
	return writeFormats(outs, stdout, func(format string, w io.Writer) error { return renderers[format].Render(w, d) })
}
