package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/romscan/romscan/analyzers/list"
	"github.com/romscan/romscan/extract"
	"github.com/romscan/romscan/finding"
	"github.com/romscan/romscan/report"
	"github.com/romscan/romscan/report/policy"
	"github.com/romscan/romscan/scan"
	"github.com/romscan/romscan/signatures"
)

func version() string { return scan.Version }

// outputs is the repeatable -o FORMAT[=FILE] flag.
type outputs []output

type output struct{ format, file string }

func (o *outputs) String() string { return "" }

func (o *outputs) Set(v string) error {
	out, err := parseOutput(v, report.RendererNames())
	if err == nil {
		*o = append(*o, out)
	}
	return err
}

// parseOutput reads one -o FORMAT[=FILE] value, FORMAT one of known.
func parseOutput(v string, known []string) (output, error) {
	format, file, _ := strings.Cut(v, "=")
	format = strings.ToLower(strings.TrimSpace(format))
	for _, k := range known {
		if k == format {
			return output{format, file}, nil
		}
	}
	return output{}, fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(known, ", "))
}

// severityFlag parses a severity name; "none" disables --fail-on.
type severityFlag struct {
	sev  finding.Severity
	none bool
}

func (s *severityFlag) String() string {
	if s.none {
		return "none"
	}
	return s.sev.String()
}

func (s *severityFlag) Set(v string) error {
	if strings.EqualFold(v, "none") {
		s.none = true
		return nil
	}
	sev, err := finding.ParseSeverity(v)
	s.sev, s.none = sev, false
	return err
}

// sizeFlag parses sizes like "512MiB", "4GiB", "1000".
// sizeFlag parses a byte size such as 512MiB. A limit flag (positive) takes
// no zero: a zero-byte limit would fail every file, and "no limit" is not
// what a zero reads as.
type sizeFlag struct {
	v        *int64
	positive bool
}

func (s sizeFlag) String() string {
	if s.v == nil {
		return ""
	}
	return fmt.Sprint(*s.v)
}

func (s sizeFlag) Set(v string) error {
	n, err := parseSize(v)
	if err != nil {
		return err
	}
	if s.positive && n == 0 {
		return fmt.Errorf("size %q: a limit must be above zero", v)
	}
	*s.v = n
	return nil
}

func parseSize(v string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"GiB", extract.GiB}, {"MiB", extract.MiB}, {"KiB", extract.KiB}, {"G", extract.GiB}, {"M", extract.MiB}, {"K", extract.KiB}, {"B", 1}, {"", 1}}
	for _, u := range units {
		if strings.HasSuffix(v, u.suffix) {
			var n int64
			if _, err := fmt.Sscan(strings.TrimSuffix(v, u.suffix), &n); err != nil || n < 0 {
				return 0, fmt.Errorf("bad size %q (e.g. 512MiB, 4GiB)", v)
			}
			return n * u.mult, nil
		}
	}
	return 0, fmt.Errorf("bad size %q", v)
}

func cmdScan(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("scan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	lim := extract.DefaultLimits()
	var (
		outs          outputs
		minSev        = severityFlag{sev: finding.Low}
		failOn        = severityFlag{sev: finding.High}
		jobs          = fs.Int("jobs", 0, "parallel workers (default: number of CPUs)")
		quiet         = fs.Bool("quiet", false, "no progress or log lines on stderr")
		maxApps       = fs.Int("max-apps", 50, "apps listed in the table (0 for all)")
		base          = fs.String("base", "", "old ROM for incremental OTAs: a folder of <partition>.img, a full payload.bin or OTA zip, or a super.img")
		targetTimeout = fs.Duration("target-timeout", 10*time.Minute, "stop analysing one file after this long (a per-file error; 0 for none)")
		timeout       = fs.Duration("timeout", 0, "stop the scan after this long and write the partial report (e.g. 10m; 0 for none)")
		ci            ciFlags
	)
	ci.register(fs)
	fs.Var(&outs, "o", "output `FORMAT[=FILE]`, repeatable; formats: "+strings.Join(report.RendererNames(), ", ")+" (default: table on stdout)")
	fs.Var(&minSev, "min-severity", "lowest severity listed in the table: info, low, medium, high, critical")
	fs.Var(&failOn, "fail-on", "exit 1 when a finding is at or above this severity (none to never)")
	fs.IntVar(&lim.MaxDepth, "max-depth", lim.MaxDepth, "containers nested inside each other")
	fs.IntVar(&lim.MaxEntries, "max-entries", lim.MaxEntries, "members listed in one container")
	fs.Var(sizeFlag{&lim.MaxFileSize, true}, "max-file-size", "largest member decoded or read (e.g. 16GiB)")
	fs.Var(sizeFlag{&lim.MaxSpillBytes, true}, "max-spill", "temp bytes for formats read only in order (e.g. 32GiB)")
	fs.Float64Var(&lim.MaxRatio, "max-ratio", lim.MaxRatio, "largest decompression ratio of one member")
	var rf ruleFlags // --rules, --watchlist, --disable (rules.go)
	rf.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: romscan scan [flags] PATH...\n\nScan ROM images, OTA zips, APKs, DEX files, or folders of them.\n\nFlags:")
		fs.PrintDefaults()
	}
	paths, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, nil
		}
		return exitUsage, usagef("%v", err)
	}
	if err := ci.load(); err != nil {
		return exitUsage, usagef("%v", err)
	}
	if len(paths) == 0 {
		return exitUsage, usagef("scan needs at least one PATH")
	}
	if len(outs) == 0 {
		outs = outputs{{format: "table"}}
	}
	sigs, err := rf.load()
	if err != nil {
		return exitNothing, err
	}
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	cfg := scan.Config{TargetTimeout: *targetTimeout, Base: *base, Inputs: paths, Jobs: *jobs, Limits: lim, Sigs: sigs, Analyzers: list.All()}
	if err := prepareRules(sigs, cfg.Analyzers); err != nil {
		return exitNothing, err
	}
	finish := progress(&cfg, stderr, *quiet)
	start := time.Now()
	rep, scanErr := scan.Run(ctx, cfg)
	finish()
	if rep == nil {
		return exitNothing, scanErr
	}
	rep.Notes = append(rep.Notes, rulesNotes(sigs)...)
	if err := ci.apply(rep, sigs, stderr); err != nil {
		return exitNothing, err
	}
	rep.Sort()
	opt := report.Options{MinSeverity: minSev.sev, MaxApps: *maxApps}
	if err := writeOutputs(outs, rep, opt, stdout); err != nil {
		return exitNothing, err
	}
	if !*quiet {
		fmt.Fprintf(stderr, "romscan: scanned %d files in %s\n", rep.Summary.Files, time.Since(start).Round(time.Millisecond))
	}
	if errors.Is(scanErr, scan.ErrNothingScannable) {
		return exitNothing, scanErr
	}
	if scanErr != nil {
		// Cancelled: the partial report was written; say so.
		return exitNothing, fmt.Errorf("scan stopped early (partial report written): %w", scanErr)
	}
	if ci.verdict(rep, failOn.sev, failOn.none, stderr, *quiet) {
		return exitFindings, nil
	}
	return exitOK, nil
}

func writeOutputs(outs outputs, rep *report.Report, opt report.Options, stdout io.Writer) error {
	renderers := report.Renderers(opt)
	return writeFormats(outs, stdout, func(format string, w io.Writer) error { return renderers[format].Render(w, rep) })
}

// writeFormats writes each requested output, to stdout or to its file,
// buffered, reporting the first error with the format and file it concerns.
func writeFormats(outs []output, stdout io.Writer, render func(format string, w io.Writer) error) error {
	for _, o := range outs {
		if o.file == "" || o.file == "-" {
			bw := bufio.NewWriter(stdout)
			if err := render(o.format, bw); err != nil {
				return fmt.Errorf("write %s: %w", o.format, err)
			}
			if err := bw.Flush(); err != nil {
				return err
			}
			continue
		}
		f, err := os.Create(o.file)
		if err != nil {
			return fmt.Errorf("write %s: %w", o.format, err)
		}
		bw := bufio.NewWriter(f)
		err = render(o.format, bw)
		if ferr := bw.Flush(); err == nil {
			err = ferr
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("write %s to %s: %w", o.format, o.file, err)
		}
	}
	return nil
}

// progress shows a progress bar on stderr when it is a terminal, and plain
// log lines otherwise. It returns a func that ends the display.
func progress(cfg *scan.Config, stderr io.Writer, quiet bool) func() {
	if quiet {
		return func() {}
	}
	f, isFile := stderr.(*os.File)
	if isFile && term.IsTerminal(int(f.Fd())) {
		bar := progressbar.NewOptions64(-1,
			progressbar.OptionSetWriter(stderr),
			progressbar.OptionSetDescription("scanning"),
			progressbar.OptionShowCount(),
			progressbar.OptionSpinnerType(14),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
		var mu sync.Mutex
		cfg.Progress = func(p scan.Progress) {
			mu.Lock()
			bar.Set64(p.Done)
			mu.Unlock()
		}
		return func() { bar.Finish() }
	}
	var mu sync.Mutex
	last := time.Now()
	cfg.Progress = func(p scan.Progress) {
		mu.Lock()
		defer mu.Unlock()
		if time.Since(last) >= 5*time.Second {
			last = time.Now()
			fmt.Fprintf(stderr, "romscan: %d files analysed, at %s\n", p.Done, report.Clean(p.Location))
		}
	}
	return func() {}
}

// parseInterleaved parses flags that may stand before or after the paths
// ("romscan scan dir -o json=x"); "--" ends the flags.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var paths []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return paths, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(paths, rest...), nil
		}
		paths = append(paths, rest[0])
		args = rest[1:]
	}
}

// ciFlags are the CI policy flags: ignore file, baseline, strict.
type ciFlags struct {
	ignoreFile, baseline string
	strict               bool
	now                  func() time.Time // injectable clock for tests

	ignores *policy.Ignores
	base    *policy.Baseline
}

func (c *ciFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.ignoreFile, "ignore-file", "", "YAML `FILE` of accepted findings (rule/fingerprint/package/path, reason, until); see docs/ci.md")
	fs.StringVar(&c.baseline, "baseline", "", "earlier JSON `REPORT`: only findings not in it count toward the exit code")
	fs.BoolVar(&c.strict, "strict", false, "exit 1 when any file could not be read, too")
}

// load reads the ignore file and the baseline before the scan starts, so
// a typo fails fast.
func (c *ciFlags) load() error {
	var err error
	if c.ignoreFile != "" {
		if c.ignores, err = policy.LoadIgnores(c.ignoreFile); err != nil {
			return err
		}
	}
	if c.baseline != "" {
		if c.base, err = policy.LoadBaseline(c.baseline); err != nil {
			return err
		}
	}
	return nil
}

// apply hides ignored findings (warning about expired entries) and marks
// findings against the baseline, before any output is written.
func (c *ciFlags) apply(rep *report.Report, sigs *signatures.Set, stderr io.Writer) error {
	now := time.Now
	if c.now != nil {
		now = c.now
	}
	if c.ignores != nil {
		res := c.ignores.Apply(rep, now(), sigs.Weights)
		for _, w := range res.Warnings {
			fmt.Fprintf(stderr, "romscan: warning: %s\n", w)
		}
	}
	if c.base != nil {
		c.base.Mark(rep)
	}
	return nil
}

// verdict reports whether the exit code is 1: a counted finding at or
// above --fail-on (only new ones with --baseline), or with --strict any
// unreadable file.
func (c *ciFlags) verdict(rep *report.Report, failOn finding.Severity, none bool, stderr io.Writer, quiet bool) bool {
	v := policy.Gate{FailOn: failOn, Disabled: none, OnlyNew: c.base != nil, Strict: c.strict}.Check(rep)
	if !quiet && v.Errors > 0 {
		fmt.Fprintf(stderr, "romscan: --strict: %d files could not be read\n", v.Errors)
	}
	return v.Fail
}

// cmdSchema prints the JSON Schema of the JSON report.
func cmdSchema(args []string, stdout io.Writer) (int, error) {
	if len(args) > 0 {
		return exitUsage, usagef("usage: romscan schema")
	}
	if err := report.WriteJSONSchema(stdout); err != nil {
		return exitNothing, err
	}
	return exitOK, nil
}
