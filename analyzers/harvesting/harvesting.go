// Package harvesting reports call sites of data-harvesting APIs (device
// ids, phone number, contacts, SMS, location, ...) and of network and other
// exfiltration sinks, from the catalogue in signatures/catalog/apis.yaml.
// When a source and a network sink are called from the same method, it
// reports the pair as a likely exfiltration (the flow analyzer confirms
// actual data flow).
package harvesting

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/romscan/romscan/analyzers"
	"github.com/romscan/romscan/extract/walk"
	"github.com/romscan/romscan/finding"
	"github.com/romscan/romscan/internal/dex"
	"github.com/romscan/romscan/signatures"
)

// maxEvidence bounds the call sites listed per finding.
const maxEvidence = 10

// Analyzer is the harvesting analyzer.
type Analyzer struct{}

// New returns the analyzer.
func New() *Analyzer { return &Analyzer{} }

// Name returns "harvesting".
func (*Analyzer) Name() string { return "harvesting" }

// Version changes when the analyzer's output for the same input changes.
func (*Analyzer) Version() string { return "1" }

// Kinds are the code-bearing kinds.
func (*Analyzer) Kinds() []walk.Kind {
	return []walk.Kind{walk.KindAPK, walk.KindDEX, walk.KindVDEX, walk.KindOAT}
}

type hit struct {
	entry       *signatures.APIEntry
	ev          []finding.Evidence
	n           int
	libraryOnly bool // every site is inside a common library
}

// methodKey names a method across the app's DEX files.
type methodKey struct{ dex, class, method string }

// Analyze reports one finding per catalogue entry met (with its call sites)
// and one per method that calls both a source and a network or SMS sink.
func (a *Analyzer) Analyze(ctx context.Context, t *analyzers.Target) ([]finding.Finding, error) {
	if t.App == nil {
		return nil, nil
	}
	hits := map[string]*hit{}
	perMethod := map[methodKey]*methodUse{}
	byName := t.Sigs.APIs.SourcesByMethodName()
	var errs []error
	for _, d := range t.App.Dex {
		ix, err := d.Index(ctx, t.Sigs)
		if err != nil {
			errs = append(errs, err)
		}
		if ix == nil {
			continue
		}
		loc := d.Loc.String()
		targets := make([]string, 0, len(ix.APIs))
		for k := range ix.APIs {
			targets = append(targets, k)
		}
		sort.Strings(targets)
		for _, target := range targets {
			u := ix.APIs[target]
			for _, s := range u.Sites {
				record(hits, perMethod, loc, u.Entry, target, "", s, t.Sigs.APIs.IsLibrary(s.Class))
			}
		}
		// String-keyed sources: content URIs such as content://sms. Visit
		// string indices in order so evidence order is deterministic.
		idxs := make([]uint32, 0, len(ix.StringUses))
		for idx := range ix.StringUses {
			idxs = append(idxs, idx)
		}
		slices.Sort(idxs)
		reflective := reflectiveMethods(ix)
		var raw []byte
		for _, idx := range idxs {
			sites := ix.StringUses[idx]
			// An ASCII string is its own decoding: skip the many that
			// can match nothing below without decoding them.
			if raw, err = d.File.AppendStringBytes(raw[:0], idx); err != nil {
				continue
			}
			if _, named := byName[string(raw)]; dex.IsASCII(raw) && !named &&
				!bytes.HasPrefix(raw, []byte("content://")) && !bytes.HasPrefix(raw, []byte("android_id")) {
				continue
			}
			s, err := d.File.String(idx)
			if err != nil {
				continue
			}
			if ns, ok := byName[s]; ok {
				// A source named in a string, in a method that calls
				// methods by name: the source is called through reflection.
				for _, site := range sites {
					if reflective[site.Class+"->"+site.Method] {
						record(hits, perMethod, loc, ns.Entry, ns.Method+" (by name, through reflection)", "", site, t.Sigs.APIs.IsLibrary(site.Class))
					}
				}
				continue
			}
			if !strings.HasPrefix(s, "content://") && !strings.HasPrefix(s, "android_id") {
				continue
			}
			e := t.Sigs.APIs.String(s)
			if e == nil {
				continue
			}
			for _, site := range sites {
				record(hits, perMethod, loc, e, "", s, site, t.Sigs.APIs.IsLibrary(site.Class))
			}
		}
	}
	var out []finding.Finding
	for _, h := range hits {
		if h.entry.IsMarker() {
			continue
		}
		sev, conf := h.entry.Sev, h.entry.Conf
		if h.entry.IsSource() && sev > finding.Medium {
			// Reading the data is a capability; sending it is what makes
			// spyware. The pair and flow findings carry the higher severity.
			sev = finding.Medium
		}
		if h.libraryOnly {
			conf = finding.LowConfidence
		}
		f := finding.Finding{
			RuleID:      h.entry.ID,
			Title:       h.entry.Title,
			Category:    h.entry.Category,
			Severity:    sev,
			Confidence:  conf,
			Package:     t.Package,
			Description: describe(h),
			Evidence:    h.ev,
			References:  h.entry.References,
			Tags:        []string{h.entry.Kind},
		}
		if h.entry.Permission != "" {
			f.Tags = append(f.Tags, "permission:"+h.entry.Permission)
		}
		out = append(out, f)
	}
	out = append(out, sameMethodPairs(perMethod, t.Package)...)
	return out, errors.Join(errs...)
}

// reflectiveMethods lists the methods ("Lcls;->name(desc)") that call
// methods by name.
func reflectiveMethods(ix *analyzers.CodeIndex) map[string]bool {
	out := map[string]bool{}
	for _, u := range ix.APIs {
		if u.Entry.IsMarker() && u.Entry.Category == "reflection" {
			for _, s := range u.Sites {
				out[s.Class+"->"+s.Method] = true
			}
		}
	}
	return out
}

type methodUse struct {
	key  methodKey
	uses []entryUse // each entry once
}

// entryUse is a catalogue entry met in a method, with the first API or
// string that named it there (for evidence).
type entryUse struct {
	e   *signatures.APIEntry
	api string
}

// api is the API or string that named entry id in the method first.
func (m *methodUse) api(id string) string {
	for _, u := range m.uses {
		if u.e.ID == id {
			return u.api
		}
	}
	return ""
}

func record(hits map[string]*hit, perMethod map[methodKey]*methodUse, loc string, e *signatures.APIEntry, api, str string, s analyzers.Site, library bool) {
	h := hits[e.ID]
	if h == nil {
		h = &hit{entry: e, libraryOnly: true}
		hits[e.ID] = h
	}
	h.libraryOnly = h.libraryOnly && library
	h.n++
	if len(h.ev) < maxEvidence {
		h.ev = append(h.ev, finding.Evidence{Location: loc, Class: s.Class, Method: s.Method, API: api, String: str, Offset: s.Offset})
	}
	k := methodKey{loc, s.Class, s.Method}
	m := perMethod[k]
	if m == nil {
		m = &methodUse{key: k}
		perMethod[k] = m
	}
	for _, u := range m.uses {
		if u.e.ID == e.ID {
			return
		}
	}
	if api == "" {
		api = str
	}
	m.uses = append(m.uses, entryUse{e: e, api: api})
}

func describe(h *hit) string {
	verb := "calls"
	if !h.entry.IsSource() {
		verb = "uses the sink"
	}
	return fmt.Sprintf("The code %s %s at %d site(s).", verb, h.entry.Title, h.n)
}

// exfilSinks are the sink categories that move data off the device.
var exfilSinks = map[string]bool{"network": true, "sms": true}

// sameMethodPairs reports methods that call a harvesting source and an
// exfiltration sink: a strong hint, short of proven data flow.
func sameMethodPairs(perMethod map[methodKey]*methodUse, pkg string) []finding.Finding {
	var out []finding.Finding
	for _, m := range perMethod {
		var srcs, sinks []*signatures.APIEntry
		for _, u := range m.uses {
			switch e := u.e; {
			case e.IsSource() && e.Sev >= finding.Medium:
				srcs = append(srcs, e)
			case !e.IsSource() && !e.IsMarker() && exfilSinks[e.Category]:
				sinks = append(sinks, e)
			}
		}
		if len(srcs) == 0 || len(sinks) == 0 {
			continue
		}
		sort.Slice(srcs, func(i, j int) bool { return srcs[i].ID < srcs[j].ID })
		sort.Slice(sinks, func(i, j int) bool { return sinks[i].ID < sinks[j].ID })
		sev := finding.Medium
		var cats []string
		for _, s := range srcs {
			if s.Sev > sev {
				sev = s.Sev
			}
			cats = append(cats, s.Category)
		}
		var ev []finding.Evidence
		for _, s := range append(append([]*signatures.APIEntry{}, srcs...), sinks...) {
			ev = append(ev, finding.Evidence{Location: m.key.dex, Class: m.key.class, Method: m.key.method, API: m.api(s.ID), Note: s.Kind + " " + s.ID})
		}
		out = append(out, finding.Finding{
			RuleID:      "harvest.source-and-sink-in-method",
			Title:       fmt.Sprintf("Reads %s and sends data (%s) in the same method", strings.Join(uniq(cats), ", "), sinks[0].Category),
			Category:    "exfiltration",
			Severity:    sev,
			Confidence:  finding.MediumConfidence,
			Package:     pkg,
			Description: "A method calls a data-harvesting API and a network or SMS sink. Without proven data flow this is a strong hint, not proof.",
			Evidence:    ev,
			Tags:        []string{"source", "sink"},
		})
	}
	return out
}

func uniq(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
