// Package trackers reports the third-party tracker and analytics SDKs an app
// embeds, by the code signatures of signatures/catalog/trackers.yaml: class
// name prefixes met among the DEX type descriptors. Each tracker found is a
// finding tracker.<id> with the matched classes as evidence.
package trackers

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/romscan/romscan/analyzers"
	"github.com/romscan/romscan/extract/walk"
	"github.com/romscan/romscan/finding"
	"github.com/romscan/romscan/signatures"
)

// maxEvidence bounds the classes listed per tracker.
const maxEvidence = 8

// Analyzer is the trackers analyzer.
type Analyzer struct {
	mu      sync.Mutex
	indexes map[*signatures.Set]*Index
}

// New returns the analyzer.
func New() *Analyzer { return &Analyzer{indexes: map[*signatures.Set]*Index{}} }

// Name returns "trackers".
func (*Analyzer) Name() string { return "trackers" }

// Version changes when the output for the same input changes.
func (*Analyzer) Version() string { return "1" }

// Kinds lists what carries DEX code.
func (*Analyzer) Kinds() []walk.Kind {
	return []walk.Kind{walk.KindAPK, walk.KindDEX, walk.KindVDEX, walk.KindOAT}
}

// Index finds the trackers of a class descriptor quickly: prefixes are
// grouped by the descriptor's first two package segments ("Lcom/umeng/").
type Index struct {
	byKey map[string][]prefixEntry
	short []prefixEntry // prefixes shorter than two segments
	regex []*signatures.Tracker
}

type prefixEntry struct {
	prefix string
	t      *signatures.Tracker
}

// key is the descriptor up to and including its second '/', or "".
func key(desc string) string {
	n := 0
	for i := 0; i < len(desc); i++ {
		if desc[i] == '/' {
			n++
			if n == 2 {
				return desc[:i+1]
			}
		}
	}
	return ""
}

// NewIndex indexes the code signatures of every enabled tracker.
func NewIndex(sigs *signatures.Set) *Index {
	ix := &Index{byKey: map[string][]prefixEntry{}}
	for _, t := range sigs.Catalogue.Trackers {
		if sigs.Disabled(t.ID) {
			continue
		}
		for _, c := range t.Code {
			p := "L" + strings.ReplaceAll(strings.TrimSpace(c), ".", "/")
			if k := key(p); k != "" {
				ix.byKey[k] = append(ix.byKey[k], prefixEntry{p, t})
			} else {
				ix.short = append(ix.short, prefixEntry{p, t})
			}
		}
		if len(t.CodeRegex) > 0 {
			ix.regex = append(ix.regex, t)
		}
	}
	return ix
}

// Match calls fn for every tracker whose code signature the class
// descriptor carries (a tracker may be reported more than once).
func (ix *Index) Match(desc string, fn func(*signatures.Tracker)) {
	for _, p := range ix.byKey[key(desc)] {
		if strings.HasPrefix(desc, p.prefix) {
			fn(p.t)
		}
	}
	for _, p := range ix.short {
		if strings.HasPrefix(desc, p.prefix) {
			fn(p.t)
		}
	}
	for _, t := range ix.regex {
		if t.MatchClass(desc) {
			fn(t)
		}
	}
}

func (a *Analyzer) index(sigs *signatures.Set) *Index {
	a.mu.Lock()
	defer a.mu.Unlock()
	ix := a.indexes[sigs]
	if ix == nil {
		ix = NewIndex(sigs)
		a.indexes[sigs] = ix
	}
	return ix
}

type hit struct {
	t       *signatures.Tracker
	n       int
	ev      []finding.Evidence
	classes map[string]bool
}

// Analyze reports the trackers of the target's DEX files.
func (a *Analyzer) Analyze(ctx context.Context, t *analyzers.Target) ([]finding.Finding, error) {
	if t.App == nil || t.Sigs == nil {
		return nil, nil
	}
	ix := a.index(t.Sigs)
	hits := map[string]*hit{}
	var errs []error
	for _, d := range t.App.Dex {
		if err := scanDex(ctx, ix, d, hits); err != nil {
			errs = append(errs, err)
		}
	}
	return Findings(t.Package, hits), errors.Join(errs...)
}

func scanDex(ctx context.Context, ix *Index, d *analyzers.Dex, hits map[string]*hit) error {
	n := d.File.NumTypes()
	var firstErr error
	for i := 0; i < n; i++ {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		desc, err := d.File.Type(uint32(i))
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("trackers: %s: type %d: %w", d.Loc, i, err)
			}
			continue
		}
		if len(desc) < 3 || desc[0] != 'L' {
			continue // primitives and arrays
		}
		ix.Match(desc, func(tr *signatures.Tracker) {
			h := hits[tr.ID]
			if h == nil {
				h = &hit{t: tr, classes: map[string]bool{}}
				hits[tr.ID] = h
			}
			if h.classes[desc] {
				return
			}
			h.classes[desc] = true
			h.n++
			if len(h.ev) < maxEvidence {
				h.ev = append(h.ev, finding.Evidence{Location: d.Loc.String(), Class: desc, Note: "class type in DEX"})
			}
		})
	}
	return firstErr
}

// Findings turns hits into findings, sorted by rule id.
func Findings(pkg string, hits map[string]*hit) []finding.Finding {
	ids := make([]string, 0, len(hits))
	for id := range hits {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := make([]finding.Finding, 0, len(ids))
	for _, id := range ids {
		h := hits[id]
		tr := h.t
		sort.Slice(h.ev, func(i, j int) bool { return h.ev[i].Class < h.ev[j].Class })
		desc := fmt.Sprintf("Embeds %s (%d class types matching its code signature).", tr.Name, h.n)
		if tr.Description != "" {
			desc += " " + tr.Description
		}
		out = append(out, finding.Finding{
			RuleID:      tr.ID,
			Title:       "Embedded tracker SDK: " + tr.Name,
			Category:    "tracker",
			Severity:    tr.Sev,
			Confidence:  tr.Conf,
			Package:     pkg,
			Description: desc,
			Evidence:    h.ev,
			References:  tr.References,
			Tags:        []string{"tracker:" + strings.TrimPrefix(tr.ID, "tracker."), "tracker-category:" + tr.Category},
		})
	}
	return out
}
