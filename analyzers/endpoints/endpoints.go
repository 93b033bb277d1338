// Package endpoints reports hardcoded network endpoints (URLs, host names,
// IP literals with ports) from DEX strings, resource strings, text assets and
// configuration files, with where they come from. Noise (XML namespaces,
// schema URLs, documentation hosts, loopback) is dropped by the data in
// signatures/catalog/endpoints.yaml and counted.
package endpoints

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/romscan/romscan/analyzers"
	"github.com/romscan/romscan/extract"
	"github.com/romscan/romscan/extract/elfstr"
	"github.com/romscan/romscan/extract/walk"
	"github.com/romscan/romscan/finding"
	"github.com/romscan/romscan/internal/dex"
)

const (
	maxEvidence   = 5
	maxTextMember = 4 * extract.MiB // assets and config files read for endpoints
	maxLine       = 64 * 1024       // longer lines are cut, never buffered whole
	maxNativeLib  = 256 * extract.MiB
)

// Analyzer is the endpoints analyzer.
type Analyzer struct{}

// New returns the analyzer.
func New() *Analyzer { return &Analyzer{} }

// Name returns "endpoints".
func (*Analyzer) Name() string { return "endpoints" }

// Version changes when the output for the same input changes.
func (*Analyzer) Version() string { return "1" }

// Kinds lists what carries endpoints.
func (*Analyzer) Kinds() []walk.Kind {
	return []walk.Kind{walk.KindAPK, walk.KindDEX, walk.KindVDEX, walk.KindOAT, walk.KindText, walk.KindELF}
}

// collector gathers endpoints of one target, deduplicated by value.
type collector struct {
	t        *analyzers.Target
	found    map[string]*found
	filtered int
}

type found struct {
	ep     Endpoint
	ev     []finding.Evidence
	inCode bool
	n      int
}

func (c *collector) add(ep Endpoint, ev finding.Evidence, inCode bool) {
	f := c.t.Sigs.Endpoints
	if f.IgnoreHost(ep.Host) || (ep.Scheme != "" && f.IgnoreURL(ep.Value)) {
		c.filtered++
		return
	}
	x := c.found[ep.Value]
	if x == nil {
		x = &found{ep: ep}
		c.found[ep.Value] = x
	}
	x.n++
	x.inCode = x.inCode || inCode
	for _, e := range x.ev {
		if e.Location == ev.Location && e.Class == ev.Class && e.Method == ev.Method && e.Note == ev.Note {
			return // the same place twice (a string used twice in one method)
		}
	}
	if len(x.ev) < maxEvidence {
		ev.String = ep.Value
		x.ev = append(x.ev, ev)
	}
}

// Analyze collects the target's endpoints.
func (a *Analyzer) Analyze(ctx context.Context, t *analyzers.Target) ([]finding.Finding, error) {
	c := &collector{t: t, found: map[string]*found{}}
	var errs []error
	if t.App != nil {
		for _, d := range t.App.Dex {
			if err := c.dex(ctx, d); err != nil {
				errs = append(errs, err)
			}
		}
		if t.App.APK != nil {
			if err := c.apkMembers(ctx); err != nil {
				errs = append(errs, err)
			}
			for _, lib := range t.App.APK.NativeLibs {
				r, size, err := t.App.APK.OpenMember(lib, maxNativeLib)
				if err != nil {
					errs = append(errs, fmt.Errorf("read %s: %w", lib, err))
					continue
				}
				if err := c.native(ctx, r, size, t.Loc.Append(lib).String()); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	if t.Kind == walk.KindELF {
		if err := c.native(ctx, t.R, t.Size, t.Loc.String()); err != nil {
			errs = append(errs, err)
		}
	}
	if t.Kind == walk.KindText {
		if err := c.text(ctx, io.NewSectionReader(t.R, 0, min(t.Size, maxTextMember)), t.Loc.String()); err != nil {
			errs = append(errs, err)
		}
	}
	if t.Stats != nil {
		t.Stats.FilteredEndpoints.Add(int64(c.filtered))
	}
	return c.findings(), errors.Join(errs...)
}

// dex reads every string of the DEX; strings used by const-string carry the
// methods using them as evidence.
func (c *collector) dex(ctx context.Context, d *analyzers.Dex) error {
	ix, ierr := d.Index(ctx, c.t.Sigs)
	loc := d.Loc.String()
	n := d.File.NumStrings()
	var raw []byte
	for i := 0; i < n; i++ {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		// Most strings are not endpoints: filter an ASCII string (which
		// decodes to itself) on its bytes, and decode only the rest.
		var err error
		if raw, err = d.File.AppendStringBytes(raw[:0], uint32(i)); err != nil {
			continue
		}
		if dex.IsASCII(raw) && !maybeEndpointBytes(raw) {
			continue
		}
		s, err := d.File.String(uint32(i))
		if err != nil || !maybeEndpoint(s) {
			continue
		}
		for _, ep := range FindInString(s, true) {
			var sites []analyzers.Site
			if ix != nil {
				sites = ix.StringUses[uint32(i)]
			}
			if len(sites) == 0 {
				ev := finding.Evidence{Location: loc, Note: "string table (no const-string use found)"}
				c.add(ep, ev, false)
				continue
			}
			for _, s := range sites {
				c.add(ep, finding.Evidence{Location: loc, Class: s.Class, Method: s.Method, Offset: s.Offset}, true)
			}
		}
	}
	return ierr
}

// native reads the data-section strings of an ELF library or executable.
func (c *collector) native(ctx context.Context, r io.ReaderAt, size int64, loc string) error {
	lib, err := elfstr.Open(r, size)
	if errors.Is(err, extract.ErrNotFormat) {
		return nil // named .so but not ELF: no code to read
	}
	if err != nil {
		return fmt.Errorf("%s: %w", loc, err)
	}
	return lib.Strings(ctx, 6, func(s string, off int64, section string) error {
		if !maybeEndpoint(s) && !strings.Contains(s, "://") {
			return nil
		}
		eps := FindInString(s, true)
		if len(eps) == 0 {
			eps = FindInString(s, false)
		}
		for _, ep := range eps {
			c.add(ep, finding.Evidence{Location: loc, Offset: off, Note: "native string in " + section}, true)
		}
		return nil
	})
}

// maybeEndpoint is a cheap filter before the regular expressions.
func maybeEndpoint(s string) bool {
	if len(s) < 4 || len(s) > 4096 {
		return false
	}
	return strings.Contains(s, "://") || (strings.IndexByte(s, '.') > 0 && strings.IndexByte(s, ' ') < 0)
}

// maybeEndpointBytes is maybeEndpoint of string(b).
func maybeEndpointBytes(b []byte) bool {
	if len(b) < 4 || len(b) > 4096 {
		return false
	}
	return bytes.Contains(b, []byte("://")) || (bytes.IndexByte(b, '.') > 0 && bytes.IndexByte(b, ' ') < 0)
}

// textExts are APK members read as text for endpoints.
var textExts = map[string]bool{
	".json": true, ".xml": true, ".txt": true, ".properties": true, ".js": true, ".html": true, ".htm": true,
	".conf": true, ".cfg": true, ".ini": true, ".yaml": true, ".yml": true, ".csv": true, "": true,
}

func (c *collector) apkMembers(ctx context.Context) error {
	apk := c.t.App.APK
	var errs []error
	for _, e := range apk.Entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		name := e.Name
		switch {
		case name == "resources.arsc":
			if err := c.resources(name); err != nil {
				errs = append(errs, err)
			}
		case (strings.HasPrefix(name, "assets/") || strings.HasPrefix(name, "res/raw/")) && textExts[strings.ToLower(path.Ext(name))]:
			if e.Size > maxTextMember {
				continue
			}
			r, size, err := apk.OpenMember(name, maxTextMember)
			if err != nil {
				errs = append(errs, fmt.Errorf("read %s: %w", name, err))
				continue
			}
			head := make([]byte, min(size, 512))
			r.ReadAt(head, 0)
			if !looksText(head) {
				continue
			}
			if err := c.text(ctx, io.NewSectionReader(r, 0, size), c.t.Loc.Append(name).String()); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func (c *collector) resources(name string) error {
	r, size, err := c.t.App.APK.OpenMember(name, 64*extract.MiB)
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	loc := c.t.Loc.Append(name).String()
	return ResourceStrings(r, size, func(s string) {
		if !maybeEndpoint(s) {
			return
		}
		for _, ep := range FindInString(s, true) {
			c.add(ep, finding.Evidence{Location: loc, Note: "resource string"}, false)
		}
	})
}

// text scans a text file line by line.
func (c *collector) text(ctx context.Context, r io.Reader, loc string) error {
	br := bufio.NewReaderSize(r, 64*1024)
	lineNo := 0
	for {
		if lineNo%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		line, err := readLine(br, maxLine)
		lineNo++
		if len(line) > 0 && (strings.Contains(line, "://") || strings.IndexByte(line, '.') >= 0) {
			for _, ep := range FindInString(line, false) {
				c.add(ep, finding.Evidence{Location: loc, Note: fmt.Sprintf("line %d", lineNo)}, false)
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", loc, err)
		}
	}
}

// readLine returns the next line, cut at max bytes; the rest of an
// over-long line is skipped without buffering it.
func readLine(br *bufio.Reader, max int) (string, error) {
	var b strings.Builder
	for {
		chunk, isPrefix, err := br.ReadLine()
		if b.Len() < max {
			room := max - b.Len()
			if len(chunk) > room {
				chunk = chunk[:room]
			}
			b.Write(chunk)
		}
		if err != nil || !isPrefix {
			return b.String(), err
		}
	}
}

func looksText(head []byte) bool {
	for _, b := range head {
		if b == 0 {
			return false
		}
	}
	return true
}

// rule picks the rule for an endpoint.
func rule(f *found) (id, title string, sev finding.Severity) {
	switch {
	case f.ep.IsIP:
		return "endpoint.ip-literal", "Hardcoded IP address endpoint", finding.Low
	case f.ep.Scheme == "http" || f.ep.Scheme == "ws" || f.ep.Scheme == "ftp" || f.ep.Scheme == "tcp" || f.ep.Scheme == "udp" || f.ep.Scheme == "mqtt":
		return "endpoint.cleartext-url", "Hardcoded cleartext endpoint", finding.Info
	case f.ep.Scheme != "":
		return "endpoint.url", "Hardcoded URL", finding.Info
	default:
		return "endpoint.host", "Hardcoded host name", finding.Info
	}
}

func (c *collector) findings() []finding.Finding {
	keys := make([]string, 0, len(c.found))
	for k := range c.found {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]finding.Finding, 0, len(keys))
	for _, k := range keys {
		f := c.found[k]
		id, title, sev := rule(f)
		conf := finding.MediumConfidence
		if f.inCode {
			conf = finding.HighConfidence
		}
		out = append(out, finding.Finding{
			RuleID:      id,
			Title:       title + ": " + f.ep.Value,
			Category:    "endpoint",
			Severity:    sev,
			Confidence:  conf,
			Package:     c.t.Package,
			Description: fmt.Sprintf("%s found %d time(s).", f.ep.Value, f.n),
			Evidence:    f.ev,
			Tags:        []string{"host:" + f.ep.Host},
		})
	}
	return out
}
