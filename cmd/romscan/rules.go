package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing/fstest"

	"github.com/romscan/romscan/analyzers"
	"github.com/romscan/romscan/analyzers/yara"
	"github.com/romscan/romscan/internal/geoip"
	"github.com/romscan/romscan/report"
	"github.com/romscan/romscan/signatures"
)

const rulesUsage = `usage:
  romscan rules list [--rules DIR]... [--watchlist FILE]...   every rule and catalogue entry
  romscan rules test DIR                                      compile DIR's YARA rules, load its catalogues, run every example
  romscan rules import-exodus FILE --rules DIR                convert the Exodus Privacy tracker list (JSON) to DIR/catalog/trackers.yaml

A rules DIR is laid out like signatures/: yara/*.yar, catalog/trackers.yaml,
catalog/telemetry.yaml, catalog/watchlists.yaml and config.yaml (disable: [rule ids]),
each optional. Nothing is fetched from the network.`

// listFlag is a repeatable string flag; commas separate values too when
// split is set.
type listFlag struct {
	vals  []string
	split bool
}

func (l *listFlag) String() string { return strings.Join(l.vals, ",") }

func (l *listFlag) Set(v string) error {
	if l.split {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				l.vals = append(l.vals, s)
			}
		}
		return nil
	}
	l.vals = append(l.vals, v)
	return nil
}

// ruleFlags are the scan flags that change the rule bundle.
type ruleFlags struct {
	dirs, watchlists, disable listFlag
}

func (rf *ruleFlags) register(fs *flag.FlagSet) {
	rf.disable.split = true
	fs.Var(&rf.dirs, "rules", "add the rules in `DIR` (yara/*.yar, catalog/*.yaml, config.yaml), repeatable")
	fs.Var(&rf.watchlists, "watchlist", "add the watchlist `FILE` (format of signatures/catalog/watchlists.yaml), repeatable")
	fs.Var(&rf.disable, "disable", "disable rule `IDs` (comma-separated; a trailing * disables a prefix)")
}

// load reads the embedded bundle plus the user's folders and watchlists.
func (rf *ruleFlags) load() (*signatures.Set, error) {
	sigs, err := signatures.Load()
	if err != nil {
		return nil, err
	}
	for _, d := range rf.dirs.vals {
		st, err := os.Stat(d)
		if err != nil {
			return nil, fmt.Errorf("rules folder: %w", err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("rules folder %s: not a folder", d)
		}
		if err := sigs.Merge(os.DirFS(d), d); err != nil {
			return nil, err
		}
	}
	for _, w := range rf.watchlists.vals {
		b, err := readBounded(w, 16<<20)
		if err != nil {
			return nil, fmt.Errorf("watchlist: %w", err)
		}
		if err := sigs.AddWatchlist(w, b); err != nil {
			return nil, err
		}
	}
	if len(rf.disable.vals) > 0 {
		sigs.Disable(rf.disable.vals...)
	}
	return sigs, nil
}

func readBounded(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("read %s: more than %d bytes", path, max)
	}
	return b, nil
}

// prepareRules compiles the YARA rules of the analyzers that use them, so a
// bad rule stops the scan before it starts, with its file and line.
func prepareRules(sigs *signatures.Set, as []analyzers.Analyzer) error {
	for _, a := range as {
		if y, ok := a.(*yara.Analyzer); ok {
			if _, err := y.Rules(sigs); err != nil {
				return err
			}
		}
	}
	return nil
}

// rulesNotes are the report notes about the rule bundle and the offline IP
// attribution data.
func rulesNotes(sigs *signatures.Set) []report.Note {
	var out []report.Note
	if db, err := geoip.Shared(); err == nil {
		out = append(out, report.Note{Text: db.Source() + "."})
	} else {
		out = append(out, report.Note{Text: "IP attribution unavailable: " + err.Error() + "; IP literals carry no country or AS, and country watchlists cannot match."})
	}
	if ids := sigs.DisabledIDs(); len(ids) > 0 {
		out = append(out, report.Note{Text: "Disabled rules: " + strings.Join(ids, ", ") + "."})
	}
	return out
}

func cmdRules(args []string, stdout io.Writer) (int, error) {
	if len(args) == 0 {
		return exitUsage, usagef("%s", rulesUsage)
	}
	switch args[0] {
	case "list":
		return rulesList(args[1:], stdout)
	case "test":
		return rulesTest(args[1:], stdout)
	case "import-exodus":
		return rulesImportExodus(args[1:], stdout)
	}
	return exitUsage, usagef("unknown rules command %q\n%s", args[0], rulesUsage)
}

func rulesList(args []string, stdout io.Writer) (int, error) {
	fs := flag.NewFlagSet("rules list", flag.ContinueOnError)
	fs.SetOutput(stdout)
	var rf ruleFlags
	rf.register(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, nil
		}
		return exitUsage, usagef("%v", err)
	}
	sigs, err := rf.load()
	if err != nil {
		return exitNothing, err
	}
	yr, err := yara.Compile(sigs.Yara, sigs.Disabled)
	if err != nil {
		return exitNothing, err
	}
	fmt.Fprintf(stdout, "rule bundle %s\n", sigs.Version)
	off := func(id string) string {
		if sigs.Disabled(id) {
			return " (disabled)"
		}
		return ""
	}
	fmt.Fprintf(stdout, "\nHarvesting sources and sinks (catalog/apis.yaml):\n")
	entries := append([]*signatures.APIEntry{}, sigs.APIs.Entries...)
	sort.Slice(entries, func(i, j int) bool { return entries[i].ID < entries[j].ID })
	for _, e := range entries {
		fmt.Fprintf(stdout, "  %-40s %-6s %-8s %-6s %s%s\n", e.ID, e.Kind, e.Severity, e.Confidence, e.Title, off(e.ID))
	}
	rule := func(r *signatures.Rule, what string) {
		fmt.Fprintf(stdout, "  %-40s %-8s %-6s %s — %s [%s]%s\n", r.ID, r.Sev, r.Conf, r.Name, what, r.Source, off(r.ID))
	}
	fmt.Fprintf(stdout, "\nTrackers (%d):\n", len(sigs.Catalogue.Trackers))
	for _, t := range sigs.Catalogue.Trackers {
		rule(&t.Rule, fmt.Sprintf("%d code, %d network signatures", len(t.Code)+len(t.CodeRegex), len(t.Hosts)+len(t.HostRegex)))
	}
	fmt.Fprintf(stdout, "\nTelemetry services (%d):\n", len(sigs.Catalogue.Telemetry))
	for _, t := range sigs.Catalogue.Telemetry {
		rule(&t.Rule, strings.Join(append(append([]string{}, t.Hosts...), t.CIDRs...), " "))
	}
	fmt.Fprintf(stdout, "\nWatchlists (%d):\n", len(sigs.Catalogue.Watchlists))
	for _, w := range sigs.Catalogue.Watchlists {
		rule(&w.Rule, strings.Join(append(append(append([]string{}, w.CIDRs...), w.Domains...), w.Countries...), " "))
	}
	fmt.Fprintf(stdout, "\nYARA rules (%d):\n", len(yr.List))
	for _, r := range yr.List {
		fmt.Fprintf(stdout, "  %-40s %-8s %-6s %s [%s]%s\n", r.ID, r.Severity, r.Confidence, r.Description, r.Source, off(r.ID))
	}
	fmt.Fprintf(stdout, "\n%d dangerous and %d privileged permissions classified; %d ignored endpoint hosts.\n",
		len(sigs.Permissions.Dangerous), len(sigs.Permissions.Privileged), len(sigs.Endpoints.IgnoreHosts))
	for _, n := range rulesNotes(sigs) {
		fmt.Fprintln(stdout, n.Text)
	}
	return exitOK, nil
}

// rulesTest loads DIR on top of the embedded bundle, compiles every YARA
// rule and runs every catalogue example; it fails on the first load or
// compile error, and on any example that misbehaves.
func rulesTest(args []string, stdout io.Writer) (int, error) {
	if len(args) != 1 {
		return exitUsage, usagef("usage: romscan rules test DIR")
	}
	rf := ruleFlags{}
	rf.dirs.vals = args
	sigs, err := rf.load()
	if err != nil {
		return exitFindings, err
	}
	yr, err := yara.Compile(sigs.Yara, nil)
	if err != nil {
		return exitFindings, err
	}
	fails := sigs.RunExamples()
	for _, f := range fails {
		fmt.Fprintln(stdout, "FAIL", f.String())
	}
	c := sigs.Catalogue
	fmt.Fprintf(stdout, "%d YARA rules compiled; %d trackers, %d telemetry services, %d watchlists, %d API entries; %d example failures\n",
		len(yr.List), len(c.Trackers), len(c.Telemetry), len(c.Watchlists), len(sigs.APIs.Entries), len(fails))
	if len(fails) > 0 {
		return exitFindings, fmt.Errorf("rules test %s: %d example(s) failed", args[0], len(fails))
	}
	return exitOK, nil
}

func rulesImportExodus(args []string, stdout io.Writer) (int, error) {
	fs := flag.NewFlagSet("rules import-exodus", flag.ContinueOnError)
	fs.SetOutput(stdout)
	dir := fs.String("rules", "", "rules `DIR` to write catalog/trackers.yaml into")
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return exitUsage, usagef("%v", err)
	}
	if len(files) != 1 || *dir == "" {
		return exitUsage, usagef("usage: romscan rules import-exodus FILE --rules DIR")
	}
	f, err := os.Open(files[0])
	if err != nil {
		return exitNothing, fmt.Errorf("import exodus: %w", err)
	}
	defer f.Close()
	y, st, err := signatures.ImportExodus(f)
	if err != nil {
		return exitNothing, fmt.Errorf("%s: %w", files[0], err)
	}
	// Check the result loads on top of the embedded bundle before writing.
	sigs, err := signatures.Load()
	if err != nil {
		return exitNothing, err
	}
	sigs.Catalogue.Trackers = nil // the imported ids are distinct; check the file alone
	if err := sigs.Merge(fstest.MapFS{"catalog/trackers.yaml": {Data: y}}, *dir); err != nil {
		return exitNothing, fmt.Errorf("import exodus: the converted catalogue does not load: %w", err)
	}
	out := filepath.Join(*dir, "catalog", "trackers.yaml")
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return exitNothing, fmt.Errorf("import exodus: %w", err)
	}
	if err := os.WriteFile(out, y, 0o644); err != nil {
		return exitNothing, fmt.Errorf("import exodus: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s: %d trackers (%d skipped without signatures; %d code and %d host signatures kept as regular expressions; %d without derivable examples; %d unparsable regexps dropped)\n",
		out, st.Trackers, st.Skipped, st.CodeRegexes, st.HostRegexes, st.NoExamples, len(st.DroppedRegexp))
	fmt.Fprintf(stdout, "use it with: romscan scan --rules %s PATH (its entries add to romscan's own trackers)\n", *dir)
	return exitOK, nil
}
