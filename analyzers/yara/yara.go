// Package yara runs romscan's YARA rules (signatures/yara/*.yar plus the
// user's --rules folders) over every member of a scan: DEX files, native
// libraries, the assets and other members of APKs, and the configuration
// files, scripts and binaries of firmware images. The rules are compiled
// once per rule bundle; each worker borrows its own scanner from a pool.
// A match is a finding yara.<rule> whose severity, confidence, description
// and reference come from the rule's meta fields.
package yara

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	goyara "github.com/hillu/go-yara/v4"

	"github.com/romscan/romscan/analyzers"
	"github.com/romscan/romscan/extract"
	"github.com/romscan/romscan/extract/walk"
	"github.com/romscan/romscan/finding"
	"github.com/romscan/romscan/signatures"
)

// Limits of one scan.
const (
	// MaxMember is the most bytes of one member scanned; the rest of a
	// larger member is skipped and reported as an error.
	MaxMember = 64 * extract.MiB
	// maxStrings and maxStringLen bound the matched strings reported.
	maxStrings   = 8
	maxStringLen = 96
	// scanTimeout bounds one member's scan (a pathological rule on a large
	// member must not stall a worker).
	scanTimeout = 60 * time.Second
)

// RuleInfo is a compiled rule and its meta fields.
type RuleInfo struct {
	ID          string // "yara.<identifier>"
	Source      string // the rule file
	Severity    finding.Severity
	Confidence  finding.Confidence
	Description string
	Reference   string
	Category    string
}

// Rules is a compiled rule bundle with a pool of scanners.
type Rules struct {
	rules *goyara.Rules
	info  map[string]*RuleInfo // by identifier
	// List is every rule, sorted by id.
	List []*RuleInfo
	pool chan *worker
}

type worker struct {
	s   *goyara.Scanner
	buf []byte
}

var lineRe = regexp.MustCompile(`^line (\d+): `)

// Compile compiles the rule files; the first error names the file and the
// line. Every rule needs meta fields severity, confidence and description;
// rules whose id is disabled are compiled but never reported.
func Compile(srcs []signatures.YaraSource, disabled func(id string) bool) (*Rules, error) {
	ruleSource := map[string]string{}
	texts := make([]string, len(srcs))
	for i, src := range srcs {
		if !utf8.Valid(src.Data) || strings.IndexByte(string(src.Data), 0) >= 0 {
			return nil, fmt.Errorf("yara: compile %s: not a text file", src.Name)
		}
		texts[i] = string(src.Data)
		ruleSource["ns"+strconv.Itoa(i)] = src.Name
	}
	yr, err := compileSources(texts)
	if ce, ok := err.(*compileError); ok {
		return nil, fmt.Errorf("yara: compile %s:%d: %s", srcs[ce.source].Name, ce.line, lineRe.ReplaceAllString(ce.text, ""))
	}
	if err != nil {
		return nil, err
	}
	r := &Rules{rules: yr, info: map[string]*RuleInfo{}, pool: make(chan *worker, 2*runtime.GOMAXPROCS(0))}
	for _, rule := range yr.GetRules() {
		src := ruleSource[rule.Namespace()]
		ri := &RuleInfo{ID: "yara." + rule.Identifier(), Source: src, Severity: finding.Medium, Confidence: finding.MediumConfidence}
		var sev, conf string
		for _, m := range rule.Metas() {
			v := fmt.Sprint(m.Value)
			switch m.Identifier {
			case "severity":
				sev = v
			case "confidence":
				conf = v
			case "description":
				ri.Description = v
			case "reference":
				ri.Reference = v
			case "category":
				ri.Category = v
			}
		}
		where := fmt.Sprintf("yara: rule %s in %s", rule.Identifier(), src)
		if sev == "" || conf == "" || ri.Description == "" {
			yr.Destroy()
			return nil, fmt.Errorf("%s: meta needs severity, confidence and description", where)
		}
		if ri.Severity, err = finding.ParseSeverity(sev); err != nil {
			yr.Destroy()
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if ri.Confidence, err = finding.ParseConfidence(conf); err != nil {
			yr.Destroy()
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if prev, dup := r.info[rule.Identifier()]; dup {
			yr.Destroy()
			return nil, fmt.Errorf("%s: rule name already used in %s", where, prev.Source)
		}
		if disabled != nil && disabled(ri.ID) {
			rule.Disable()
		}
		r.info[rule.Identifier()] = ri
		r.List = append(r.List, ri)
	}
	sort.Slice(r.List, func(i, j int) bool { return r.List[i].ID < r.List[j].ID })
	return r, nil
}

func (r *Rules) get() (*worker, error) {
	select {
	case w := <-r.pool:
		return w, nil
	default:
	}
	s, err := goyara.NewScanner(r.rules)
	if err != nil {
		return nil, fmt.Errorf("yara: new scanner: %w", err)
	}
	s.SetTimeout(scanTimeout)
	return &worker{s: s}, nil
}

func (r *Rules) put(w *worker) {
	if int64(cap(w.buf)) > 16*extract.MiB {
		w.buf = nil // keep the idle footprint small
	}
	select {
	case r.pool <- w:
	default:
		w.s.Destroy()
	}
}

// Match is one rule that matched one member.
type Match struct {
	Rule    *RuleInfo
	Strings []MatchString
	// More counts matched strings left out.
	More int
}

// MatchString is one matched string: its name in the rule, offset and data.
type MatchString struct {
	Name   string
	Offset int64
	Data   string // printable, bounded
}

// ScanReader scans the first MaxMember bytes of r. A larger member is
// scanned in part and the error says so (wrapping extract.ErrLimit).
func (r *Rules) ScanReader(r0 io.ReaderAt, size int64) ([]Match, error) {
	w, err := r.get()
	if err != nil {
		return nil, err
	}
	defer r.put(w)
	return r.scanReaderWith(w, r0, size)
}

// scanReaderWith is ScanReader with a worker the caller holds.
func (r *Rules) scanReaderWith(w *worker, r0 io.ReaderAt, size int64) ([]Match, error) {
	n := min(size, MaxMember)
	if n < 0 {
		n = 0
	}
	if int64(cap(w.buf)) < n {
		w.buf = make([]byte, n)
	}
	buf := w.buf[:n]
	got, rerr := r0.ReadAt(buf, 0)
	if rerr != nil && !errors.Is(rerr, io.EOF) {
		return nil, fmt.Errorf("yara: read: %w", rerr)
	}
	ms, err := r.scan(w, buf[:got])
	if err == nil && size > MaxMember {
		err = fmt.Errorf("yara: scanned the first %d of %d bytes: %w", MaxMember, size, extract.ErrLimit)
	}
	return ms, err
}

// ScanBytes scans b (for tests and benchmarks).
func (r *Rules) ScanBytes(b []byte) ([]Match, error) {
	w, err := r.get()
	if err != nil {
		return nil, err
	}
	defer r.put(w)
	return r.scan(w, b)
}

func (r *Rules) scan(w *worker, b []byte) ([]Match, error) {
	var mr goyara.MatchRules
	w.s.SetCallback(&mr)
	err := w.s.ScanMem(b)
	out := make([]Match, 0, len(mr))
	for _, m := range mr {
		ri := r.info[m.Rule]
		if ri == nil {
			continue
		}
		x := Match{Rule: ri}
		for _, s := range m.Strings {
			if len(x.Strings) >= maxStrings {
				x.More++
				continue
			}
			x.Strings = append(x.Strings, MatchString{Name: s.Name, Offset: int64(s.Base + s.Offset), Data: printable(s.Data)})
		}
		out = append(out, x)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Rule.ID < out[j].Rule.ID })
	if err != nil {
		return out, fmt.Errorf("yara: scan: %w", err)
	}
	return out, nil
}

// printable escapes bytes outside printable ASCII and bounds the length.
func printable(b []byte) string {
	var sb strings.Builder
	for i, c := range b {
		if sb.Len() >= maxStringLen {
			fmt.Fprintf(&sb, "…(+%d bytes)", len(b)-i)
			break
		}
		if c >= 0x20 && c < 0x7f && c != '\\' {
			sb.WriteByte(c)
		} else {
			fmt.Fprintf(&sb, `\x%02x`, c)
		}
	}
	return sb.String()
}

// Analyzer is the yara analyzer.
type Analyzer struct {
	mu    sync.Mutex
	rules map[*signatures.Set]*compiled
}

type compiled struct {
	r   *Rules
	err error
}

// New returns the analyzer.
func New() *Analyzer { return &Analyzer{rules: map[*signatures.Set]*compiled{}} }

// Name returns "yara".
func (*Analyzer) Name() string { return "yara" }

// Version changes when the output for the same input changes (the rule
// bundle's own version is in the report).
func (*Analyzer) Version() string { return "1" }

// Kinds lists every kind: YARA reads any file.
func (*Analyzer) Kinds() []walk.Kind {
	return []walk.Kind{walk.KindAPK, walk.KindDEX, walk.KindVDEX, walk.KindOAT, walk.KindELF, walk.KindText, walk.KindOther}
}

// Rules returns the compiled rules of a bundle, compiling them once. Call
// it at start-up so a bad rule fails the scan before it begins.
func (a *Analyzer) Rules(sigs *signatures.Set) (*Rules, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.rules[sigs]
	if c == nil {
		c = &compiled{}
		c.r, c.err = Compile(sigs.Yara, sigs.Disabled)
		a.rules[sigs] = c
	}
	return c.r, c.err
}

// Analyze scans the target; for an APK, each member in turn.
func (a *Analyzer) Analyze(ctx context.Context, t *analyzers.Target) ([]finding.Finding, error) {
	if t.Sigs == nil || len(t.Sigs.Yara) == 0 {
		return nil, nil
	}
	rules, err := a.Rules(t.Sigs)
	if err != nil {
		return nil, err
	}
	var out []finding.Finding
	var errs []error
	if t.Kind == walk.KindAPK && t.App != nil && t.App.APK != nil {
		apk := t.App.APK
		// DEX files the scan already inflated are scanned in place.
		inflated := map[string][]byte{}
		for _, d := range t.App.Dex {
			if d.Data != nil && int64(len(d.Data)) <= MaxMember {
				inflated[d.Name] = d.Data
			}
		}
		w, err := rules.get()
		if err != nil {
			return nil, err
		}
		defer rules.put(w)
		for i, e := range apk.Entries {
			if err := ctx.Err(); err != nil {
				return out, err
			}
			if strings.HasSuffix(e.Name, "/") || e.Size == 0 {
				continue
			}
			loc := t.Loc.Append(e.Name)
			if data, ok := inflated[e.Name]; ok && !e.Duplicate {
				ms, err := rules.scan(w, data)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", loc, err))
				}
				out = append(out, findings(t, loc, ms)...)
				continue
			}
			if e.Method != zip.Store {
				// Inflate straight into the worker's buffer: no buffer
				// per member and no copy.
				data, err := apk.ReadEntry(i, MaxMember, w.buf[:0])
				if err != nil {
					errs = append(errs, memberError(loc, e.Size, err))
					continue
				}
				w.buf = data[:0]
				ms, err := rules.scan(w, data)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", loc, err))
				}
				out = append(out, findings(t, loc, ms)...)
				continue
			}
			r, size, err := apk.OpenEntry(i, MaxMember)
			if err != nil {
				errs = append(errs, memberError(loc, e.Size, err))
				continue
			}
			ms, err := rules.scanReaderWith(w, r, size)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", loc, err))
			}
			out = append(out, findings(t, loc, ms)...)
		}
		return out, errors.Join(errs...)
	}
	ms, err := rules.ScanReader(t.R, t.Size)
	if err != nil {
		err = fmt.Errorf("%s: %w", t.Loc, err)
	}
	return findings(t, t.Loc, ms), err
}

// memberError says why an APK member could not be read for scanning.
func memberError(loc extract.Location, size int64, err error) error {
	if size > MaxMember {
		return fmt.Errorf("yara: %s: %d bytes, over the %d-byte limit: not scanned: %w", loc, size, MaxMember, extract.ErrLimit)
	}
	return fmt.Errorf("yara: read %s: %w", loc, err)
}

func findings(t *analyzers.Target, loc extract.Location, ms []Match) []finding.Finding {
	var out []finding.Finding
	for _, m := range ms {
		ri := m.Rule
		if t.Sigs.Disabled(ri.ID) {
			continue
		}
		var ev []finding.Evidence
		for _, s := range m.Strings {
			ev = append(ev, finding.Evidence{Location: loc.String(), API: s.Name, String: s.Data, Offset: s.Offset})
		}
		if len(ev) == 0 {
			ev = []finding.Evidence{{Location: loc.String(), Note: "condition matched without strings"}}
		}
		desc := ri.Description + "."
		if m.More > 0 {
			desc += fmt.Sprintf(" %d more matched strings not listed.", m.More)
		}
		var refs []string
		if ri.Reference != "" {
			refs = []string{ri.Reference}
		}
		cat := ri.Category
		if cat == "" {
			cat = "yara"
		}
		out = append(out, finding.Finding{
			RuleID:      ri.ID,
			Title:       ri.Description,
			Category:    cat,
			Severity:    ri.Severity,
			Confidence:  ri.Confidence,
			Package:     t.Package,
			Description: desc,
			Evidence:    ev,
			References:  refs,
			Tags:        []string{"yara-source:" + ri.Source},
		})
	}
	return out
}
