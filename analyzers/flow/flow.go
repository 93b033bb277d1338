// Package flow follows data through an app's DEX code: from the harvesting
// sources of the catalogue (device ids, phone number, SMS, location, ...)
// to its sinks (network, SMS, log, files, other components), and reports
// each flow with its source call site, sink call site, the methods between
// them and the endpoint the sink is given. It also recovers endpoints that
// code assembles or decodes (StringBuilder, String.format, Base64, XOR-ed
// arrays, host and port passed apart).
//
// Design: each app method is analysed once, with a worklist over its basic
// blocks (per register: a taint set over the method's inputs, and known
// integer constants so that constant branches are not followed). What
// reaches a return, a field, a call's parameter, an Intent extra or a sink
// becomes an edge of an app-wide value-flow graph whose nodes are sources,
// parameters, return values, fields (one cell each), extras by key and sink
// call sites. A breadth-first search from every source gives the flows and
// their paths. Virtual calls reach the overriding methods of app
// subclasses; callback parameters (onLocationChanged) are sources. An app
// whose code holds no source is only read for endpoints (a cheap first
// pass looks for one). The whole run is bounded by a step and time budget.
package flow

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/romscan/romscan/analyzers"
	"github.com/romscan/romscan/analyzers/endpoints"
	"github.com/romscan/romscan/extract/walk"
	"github.com/romscan/romscan/finding"
	"github.com/romscan/romscan/internal/android"
)

// Config bounds the analysis of one app.
type Config struct {
	MaxSteps int64 // instruction visits and search steps; 0 means 2,000,000
	// MaxTime is CPU time of the analysing thread (where the platform
	// measures it; wall time at four times as much stops it too), else
	// wall time; 0 means 3 s.
	MaxTime time.Duration
	// MaxFindings bounds the flow findings of one app; 0 means 50.
	MaxFindings int
}

// Analyzer is the flow analyzer.
type Analyzer struct {
	cfg Config
	// noProbe runs the data-flow pass without looking for a source first
	// (tests compare both ways).
	noProbe bool
}

// New returns the analyzer with the default budget.
func New() *Analyzer { return NewWith(Config{}) }

// NewWith returns the analyzer with cfg, zero fields taking their defaults.
func NewWith(cfg Config) *Analyzer {
	if cfg.MaxSteps <= 0 {
		cfg.MaxSteps = 2_000_000
	}
	if cfg.MaxTime <= 0 {
		cfg.MaxTime = 3 * time.Second
	}
	if cfg.MaxFindings <= 0 {
		cfg.MaxFindings = 50
	}
	return &Analyzer{cfg: cfg}
}

// Name returns "flow".
func (*Analyzer) Name() string { return "flow" }

// Version changes when the analyzer's output for the same input changes.
func (*Analyzer) Version() string { return "1" }

// Kinds are the code-bearing kinds.
func (*Analyzer) Kinds() []walk.Kind {
	return []walk.Kind{walk.KindAPK, walk.KindDEX, walk.KindVDEX, walk.KindOAT}
}

// Rule ids.
const (
	RuleExfiltration   = "flow.exfiltration"
	RuleLeak           = "flow.leak"
	RuleImplicit       = "flow.implicit"
	RuleBudget         = "flow.budget-exceeded"
	RuleEndpointFolded = "endpoint.recovered"
)

// exfilCategories are the sink categories that move data off the device.
var exfilCategories = map[string]bool{"network": true, "sms": true}

// Analyze finds the app's flows and recovered endpoints.
func (a *Analyzer) Analyze(ctx context.Context, t *analyzers.Target) ([]finding.Finding, error) {
	if t.App == nil || len(t.App.Dex) == 0 || t.Sigs == nil {
		return nil, nil
	}
	// The time budget counts this thread's CPU time: keep the analysis on it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b := newCPUBudget(a.cfg.MaxSteps, a.cfg.MaxTime)
	p := load(ctx, t.App, b, t.Sigs.APIs.IsLibrary)
	e := newEngine(p, t.Sigs.APIs, b)
	e.noSources = !hasSources(ctx, t, p)
	// The classes and code index the analyzers shared are read: free them
	// for the rest of this pass, the costliest of an app.
	for _, d := range t.App.Dex {
		d.Release()
	}
	e.markComponents(t)
	if !e.noSources && !a.noProbe {
		// Most methods of an app without a source in its code are only
		// read for endpoints: look for a source with the cheap passes
		// first, and run the data-flow pass (from the start, so the
		// result is that of a single run) only when one is found. The
		// probe folds constants, for reflective calls; most apps call a
		// source plainly, which the instructions alone show.
		if e.surelySource(ctx) {
			e = e.restart()
			e.analyzeAll(ctx)
		} else {
			e.probe = true
			e.analyzeAll(ctx)
			if e.sawSource && !b.over() {
				b.steps = 0
				e = e.restart()
				e.analyzeAll(ctx)
			}
		}
	} else {
		e.analyzeAll(ctx)
	}
	e.releaseScratch()
	var out []finding.Finding
	if len(e.g.src) > 0 {
		// Without a source there is no flow: reachability is not needed.
		out = e.flows(t, e.reachable(), a.cfg.MaxFindings)
	}
	out = append(out, e.endpointFindings(t)...)
	if b.exceeded {
		out = append(out, e.budgetFinding(t, a.cfg))
	}
	var err error
	if len(p.errs) > 0 {
		err = errors.Join(p.errs[0], fmt.Errorf("flow: %d class(es) unreadable", len(p.errs)))
	}
	return out, err
}

// markComponents notes the manifest's components, and the disabled ones.
func (e *engine) markComponents(t *analyzers.Target) {
	e.manifest = t.App.APK != nil && t.App.APK.Manifest != nil
	if !e.manifest {
		return
	}
	app := &t.App.APK.Manifest.Application
	for _, list := range [][]androidComponent{conv(app.Activities), conv(app.Services), conv(app.Receivers), conv(app.Providers)} {
		for _, c := range list {
			cl := e.p.classes["L"+strings.ReplaceAll(c.name, ".", "/")+";"]
			if cl == nil {
				continue
			}
			cl.component = true
			cl.disabled = cl.disabled || !c.enabled
		}
	}
	if n := app.Name; n != "" {
		if cl := e.p.classes["L"+strings.ReplaceAll(n, ".", "/")+";"]; cl != nil {
			cl.component = true
		}
	}
}

// callbackNames are framework callbacks that do not start with "on".
var callbackNames = map[string]bool{
	"run": true, "call": true, "handleMessage": true, "doInBackground": true, "draw": true, "handle": true,
	"<clinit>": true, "apply": true, "accept": true, "invoke": true, "get": true, "execute": true, "getView": true,
	"toString": true, "writeToParcel": true, "createFromParcel": true, "compare": true, "equals": true, "hashCode": true,
	"uncaughtException": true, "shouldOverrideUrlLoading": true, "dispatchMessage": true,
	"attachBaseContext": true, "dispatchKeyEvent": true, "dispatchTouchEvent": true, "bindView": true, "newView": true,
}

// componentBases are framework classes whose subclasses must be declared
// in the manifest to run (receivers may also be registered in code).
var componentBases = []string{"Landroid/app/Activity;", "Landroid/app/Service;", "Landroid/content/ContentProvider;", "Landroid/app/IntentService;"}

// reachable marks the methods reachable from entry points: framework
// callbacks (on*, run, ...), handlers taking a View (layout onClick), and
// static initialisers, minus those of components the manifest disables or
// does not declare; then everything they call.
func (e *engine) reachable() []bool {
	var callees lists
	callees.grow(len(e.p.methods))
	for callee := range e.callers.len() {
		for _, c := range e.callers.of(int32(callee)) {
			callees.add(c, int32(callee))
		}
	}
	reach := make([]bool, len(e.p.methods))
	var stack []int32
	for _, m := range e.p.methods {
		if !e.entry(m) {
			continue
		}
		reach[m.id] = true
		stack = append(stack, m.id)
	}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, c := range callees.of(x) {
			if !reach[c] {
				reach[c] = true
				stack = append(stack, c)
			}
		}
	}
	return reach
}

func (e *engine) entry(m *method) bool {
	c := m.cls
	if !e.mayEnter(c) {
		return false
	}
	n := m.ref.Name
	if n == "<init>" {
		// Constructors run when something creates the object: count them
		// as entries only for framework-created classes.
		return c.component
	}
	if strings.HasPrefix(n, "on") || callbackNames[n] || strings.Contains(m.ref.Descriptor, "Landroid/view/View;") {
		return true
	}
	// A method overriding a framework method may be called by the framework.
	if !m.static() && m.access&0x2 == 0 {
		for _, a := range e.p.libraryAncestors(c.name) {
			if a != "Ljava/lang/Object;" && !strings.HasPrefix(a, "Ljava/lang/") {
				if e.apis.MethodParts(a, n) != nil {
					return true
				}
			}
		}
	}
	return false
}

// mayEnter says whether the methods of a class may be entry points: not
// for a disabled component, nor for a component class (or subclass) the
// manifest does not declare. It is worked out once per class.
func (e *engine) mayEnter(c *class) bool {
	if c.enter != 0 {
		return c.enter > 0
	}
	ok := !c.disabled
	if ok && e.manifest && !c.component && !e.componentBase(c) {
		for _, b := range componentBases {
			if e.p.isSubtype(c.name, b) || e.inheritsFramework(c.name, b) {
				ok = false
				break
			}
		}
	}
	c.enter = -1
	if ok {
		c.enter = 1
	}
	return ok
}

// componentBase says whether an app class is the superclass of a declared,
// enabled component: its lifecycle methods run as the component's.
func (e *engine) componentBase(c *class) bool {
	for _, sub := range e.p.subtypesOf(c.name) {
		if sub.component && !sub.disabled {
			return true
		}
	}
	return false
}

type flowKey struct{ src, sink int32 }

// flows searches from every source and reports each source → sink pair.
func (e *engine) flows(t *analyzers.Target, reach []bool, max int) []finding.Finding {
	srcs := make([]int32, 0, len(e.g.src))
	for n := range e.g.src {
		srcs = append(srcs, n)
	}
	sort.Slice(srcs, func(i, j int) bool { return srcs[i] < srcs[j] })
	seen := map[flowKey]bool{}
	var sc searchScratch
	var out []finding.Finding
	dropped := 0
	// Explicit flows of every source first, so a sink reached both ways is
	// reported as the data flow it is and the cap keeps data flows; then
	// what only branches reveal.
	for _, explicitOnly := range []bool{true, false} {
		for _, s := range srcs {
			src := e.g.src[s]
			if !reach[src.m.id] {
				continue
			}
			e.g.paths(s, e.b, explicitOnly, &sc, func(k int32, path []int32) {
				sk := e.g.sink[k]
				if !reach[sk.m.id] || seen[flowKey{s, k}] {
					return
				}
				seen[flowKey{s, k}] = true
				if len(out) >= max {
					dropped++
					return
				}
				out = append(out, e.finding(t, src, sk, path))
			})
		}
	}
	if dropped > 0 && len(out) > 0 {
		out[len(out)-1].Description += fmt.Sprintf(" (%d more flows of this app are not listed.)", dropped)
	}
	return out
}

func (e *engine) finding(t *analyzers.Target, src *srcSite, sk *sinkSite, path []int32) finding.Finding {
	exfil := exfilCategories[sk.category]
	viaEndpoint := false
	if !exfil && sk.category == "file" {
		// A stream write whose stream came from a connection or socket with
		// a known endpoint sends over the network.
		for _, s := range sk.endpoints {
			if endpointValue(s) != "" {
				exfil, viaEndpoint = true, true
				break
			}
		}
	}
	rule := RuleLeak
	if exfil {
		rule = RuleExfiltration
	}
	sev := src.entry.Sev
	if !exfil {
		sev--
	}
	if sev < finding.Low {
		sev = finding.Low
	}
	conf := finding.MediumConfidence
	var hops []string
	indirect, implicit := false, false
	for i, n := range path {
		k := e.g.key(n)
		var hop string
		switch k.kind {
		case nSrc, nParam, nRet, nSink, nObj, nRead:
			if i == 0 {
				hop = src.m.short()
			} else if i == len(path)-1 {
				hop = sk.m.short()
			} else {
				hop = e.p.methods[k.m].short()
			}
		case nField:
			hop = "field " + k.s
			if !strings.Contains(k.s, "->") {
				hop = k.s // a framework channel (a Handler's messages, ...)
			}
		case nExtra:
			indirect = true
			hop = "intent extra"
			if strings.HasPrefix(k.s, "=") {
				hop += " " + fmt.Sprintf("%q", k.s[1:])
			}
		case nExc:
			indirect = true
			hop = "thrown exception"
		case nImpl:
			implicit = true
			hop = "branch in " + e.p.methods[k.m].short()
		}
		if len(hops) == 0 || hops[len(hops)-1] != hop {
			hops = append(hops, hop)
		}
	}
	switch {
	case len(path) == 2:
		conf = finding.HighConfidence
	case indirect || sk.category == "native":
		conf = finding.LowConfidence
	}
	if src.entry.Conf < conf {
		conf = src.entry.Conf
	}
	if implicit {
		// The data steers a branch that decides what reaches the sink.
		rule, conf = RuleImplicit, finding.LowConfidence
		if sev > finding.Low {
			sev--
		}
	}
	sinkName := sk.category
	sinkID := "native code"
	if sk.entry != nil {
		sinkName, sinkID = sk.entry.Title, sk.entry.ID
	}
	if viaEndpoint {
		sinkName = "a network stream (" + sinkName + ")"
		sinkID += " on a network connection"
	}
	dl := func(m *method) string { return m.cls.dex.Loc.String() }
	srcEv := finding.Evidence{Location: dl(src.m), Class: src.m.cls.name, Method: src.m.ref.Name + src.m.ref.Descriptor, API: src.api, Offset: src.off,
		Note: "source " + src.entry.ID}
	sinkEv := finding.Evidence{Location: dl(sk.m), Class: sk.m.cls.name, Method: sk.m.ref.Name + sk.m.ref.Descriptor, API: sk.api, Offset: sk.off,
		Note: "sink " + sinkID + "; path: " + strings.Join(hops, " → ")}
	ev := []finding.Evidence{srcEv, sinkEv}
	var eps []string
	for _, s := range sk.endpoints {
		if v := endpointValue(s); v != "" && !contains(eps, v) && len(eps) < 4 {
			eps = append(eps, v)
		}
	}
	if len(eps) > 0 {
		ev[1].String = eps[0]
		for _, v := range eps[1:] {
			ev = append(ev, finding.Evidence{Location: dl(sk.m), Class: sk.m.cls.name, Method: sk.m.ref.Name + sk.m.ref.Descriptor, String: v, Note: "endpoint given to the sink"})
		}
	}
	title := fmt.Sprintf("%s data reaches %s", src.entry.Category, strings.ToLower(sinkName))
	desc := fmt.Sprintf("A value from %s (%s, in %s) reaches %s (%s, in %s) through %s.",
		src.entry.Title, src.api, src.m.short(), sinkName, sk.api, sk.m.short(), strings.Join(hops, " → "))
	if implicit {
		title = fmt.Sprintf("%s data steers what reaches %s", src.entry.Category, strings.ToLower(sinkName))
		desc = fmt.Sprintf("A value from %s (%s, in %s) is compared or branched on, and what that decides reaches %s (%s, in %s) through %s (an implicit flow: no data flow was found).",
			src.entry.Title, src.api, src.m.short(), sinkName, sk.api, sk.m.short(), strings.Join(hops, " → "))
	}
	if len(eps) > 0 {
		desc += " The sink is given the endpoint " + strings.Join(eps, ", ") + "."
	}
	tags := []string{"flow", "source:" + src.entry.ID, "sink:" + sk.category}
	return finding.Finding{RuleID: rule, Title: title, Category: "exfiltration", Severity: sev, Confidence: conf, Package: t.Package,
		Description: desc, Evidence: ev, References: src.entry.References, Tags: tags}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// endpointValue returns the endpoint in a folded string ("" when none); an
// unknown part ("{?}") ends the string.
func endpointValue(s string) string {
	if i := strings.Index(s, "{?}"); i >= 0 {
		s = s[:i]
	}
	eps := endpoints.FindInString(s, true)
	if len(eps) == 0 {
		return ""
	}
	if strings.Contains(s, "://") {
		return s
	}
	return eps[0].Value
}

// endpointFindings reports the endpoints the constant pass assembled or
// decoded, once per value.
func (e *engine) endpointFindings(t *analyzers.Target) []finding.Finding {
	seen := map[string]bool{}
	var out []finding.Finding
	for _, f := range e.found {
		v := endpointValue(f.value)
		if v == "" || seen[v] {
			continue
		}
		eps := endpoints.FindInString(v, true)
		if len(eps) > 0 && t.Sigs.Endpoints != nil && (t.Sigs.Endpoints.IgnoreURL(v) || t.Sigs.Endpoints.IgnoreHost(eps[0].Host)) {
			continue
		}
		seen[v] = true
		m := f.m
		out = append(out, finding.Finding{
			RuleID: RuleEndpointFolded, Title: "Endpoint assembled or decoded in code", Category: "endpoints",
			Severity: finding.Low, Confidence: finding.MediumConfidence, Package: t.Package,
			Description: fmt.Sprintf("The code builds the endpoint %s at run time (%s); it appears in no string constant as such.", v, f.how),
			Evidence: []finding.Evidence{{Location: m.cls.dex.Loc.String(), Class: m.cls.name, Method: m.ref.Name + m.ref.Descriptor, String: v,
				Offset: 0, Note: "recovered: " + f.how}},
			Tags: []string{"endpoint", "recovered"},
		})
	}
	return out
}

func (e *engine) budgetFinding(t *analyzers.Target, cfg Config) finding.Finding {
	desc := fmt.Sprintf("The flow analysis of this app stopped at its budget (%d steps or %s): %s was cut after %d of %d methods; the flows found before are reported, others may be missing.",
		cfg.MaxSteps, cfg.MaxTime, e.b.what, e.methods, len(e.p.methods))
	loc := ""
	if len(t.App.Dex) > 0 {
		loc = t.App.Dex[0].Loc.String()
	}
	return finding.Finding{RuleID: RuleBudget, Title: "Flow analysis cut short by its budget", Category: "analysis", Severity: finding.Info,
		Confidence: finding.HighConfidence, Package: t.Package, Description: desc,
		Evidence: []finding.Evidence{{Location: loc, Note: e.b.what}}, Tags: []string{"budget"}}
}

type androidComponent struct {
	name    string
	enabled bool
}

func conv(cs []android.Component) []androidComponent {
	out := make([]androidComponent, 0, len(cs))
	for _, c := range cs {
		name := c.Name
		if c.TargetActivity != "" {
			name = c.TargetActivity
		}
		out = append(out, androidComponent{name: name, enabled: c.Enabled})
	}
	return out
}

// hasSources says whether a flow can start in the app's analysed code: a
// catalogued source called, read or named there (from the code index the
// harvesting analyzer already built), or a method overriding a source
// callback (onLocationChanged, ...). When there is none, the costly
// data-flow pass is skipped.
func hasSources(ctx context.Context, t *analyzers.Target, p *program) bool {
	for _, d := range t.App.Dex {
		ix, _ := d.Index(ctx, t.Sigs)
		if ix == nil {
			return true // no index: do not guess
		}
		for _, u := range ix.APIs {
			// Reflection may call a source named by a string the
			// constant pass folds.
			if !u.Entry.IsSource() && u.Entry.Category != "reflection" {
				continue
			}
			for _, s := range u.Sites {
				if p.classes[s.Class] != nil {
					return true
				}
			}
		}
		for idx, sites := range ix.StringUses {
			str, err := d.File.String(idx)
			if err != nil {
				continue
			}
			if e := t.Sigs.APIs.String(str); e != nil && e.IsSource() {
				for _, s := range sites {
					if p.classes[s.Class] != nil {
						return true
					}
				}
			}
		}
	}
	for _, c := range p.classes {
		ancs := p.libraryAncestors(c.name)
		if len(ancs) == 0 {
			continue
		}
		for _, m := range c.list {
			if strings.HasPrefix(m.ref.Name, "<") {
				continue
			}
			for _, anc := range ancs {
				if x := t.Sigs.APIs.MethodParts(anc, m.ref.Name); x != nil && x.IsSource() {
					return true
				}
			}
		}
	}
	return false
}
