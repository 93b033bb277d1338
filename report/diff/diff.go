// Package diff compares two romscan reports (two ROM builds, two versions of
// an app) and says what changed, most dangerous first: device info, apps
// added, removed and changed, and findings new, fixed and unchanged.
//
// Apps are matched by package name; when a package sits at several
// locations of one side (a folder holding several forms of a ROM) by
// package and path inside the image; an app whose package changed at the
// same path is a rename. Findings are matched by fingerprint within each
// matched app, and by a root-independent fingerprint for findings that
// belong to no app (build.prop, loose native libraries).
package diff

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/romscan/romscan/finding"
	"github.com/romscan/romscan/report"
	"github.com/romscan/romscan/signatures"
)

// SchemaVersion is the version of the delta's JSON layout. Bump the minor
// for additions, the major for changes that break readers.
const SchemaVersion = "1.0"

// Op says what happened to a thing.
type Op string

// Ops.
const (
	Added   Op = "added"   // present only in NEW (a new finding)
	Removed Op = "removed" // present only in OLD (a fixed finding)
	Changed Op = "changed" // present in both with another value
)

// Kind is what a change is about.
type Kind string

// Kinds of change. Field says which device field, or which grant list.
const (
	KindDevice       Kind = "device"             // Field: fingerprint, android_version, ...
	KindApp          Kind = "app"                // an app added or removed
	KindPackage      Kind = "package"            // renamed at the same path
	KindVersion      Kind = "version"            // "versionCode (versionName)"
	KindSigner       Kind = "signer"             // re-signed: certificate SHA-256 list
	KindPlacement    Kind = "placement"          // "partition/placement": app ↔ priv-app, system ↔ vendor
	KindLocation     Kind = "location"           // moved, same placement
	KindSharedUserID Kind = "shared-user-id"     //
	KindPersistent   Kind = "persistent"         // "true" / "false"
	KindPermission   Kind = "permission"         // uses-permission
	KindGrant        Kind = "grant"              // Field: privileged | default (firmware grants)
	KindComponent    Kind = "exported-component" // "kind:class"
	KindEndpoint     Kind = "endpoint"           //
	KindHarvest      Kind = "harvest"            // harvest.* rule ids (sources, source+sink)
	KindFlow         Kind = "flow"               // flow.* rule ids
	KindTracker      Kind = "tracker"            //
	KindFinding      Kind = "finding"            // Added: new, Removed: fixed
)

// Change is one difference. Old and New hold the values (only New for
// Added, only Old for Removed).
type Change struct {
	Kind     Kind             `json:"kind"`
	Op       Op               `json:"op"`
	Field    string           `json:"field,omitempty"`
	Package  string           `json:"package,omitempty"`
	Location string           `json:"location,omitempty"` // the app's location in NEW (in OLD when removed)
	Old      string           `json:"old,omitempty"`
	New      string           `json:"new,omitempty"`
	Severity finding.Severity `json:"severity"` // how much the change matters (see Rank)
	Score    float64          `json:"score"`    // ranking key, highest first
	// Privileged says the app runs with system powers (priv-app, platform
	// key, system uid or persistent) on the side the change comes from.
	Privileged bool             `json:"privileged,omitempty"`
	Finding    *finding.Finding `json:"finding,omitempty"` // for KindFinding
}

// Value returns the value a change is about: New, or Old when removed.
func (c *Change) Value() string {
	if c.Op == Removed {
		return c.Old
	}
	return c.New
}

// AppSide is an app as one side saw it.
type AppSide struct {
	Package     string   `json:"package,omitempty"`
	Location    string   `json:"location"`
	VersionCode int64    `json:"version_code,omitempty"`
	VersionName string   `json:"version_name,omitempty"`
	Placement   string   `json:"placement,omitempty"`
	Partition   string   `json:"partition,omitempty"`
	Flags       []string `json:"flags,omitempty"`
	Score       float64  `json:"score"`
	MaxSeverity string   `json:"max_severity,omitempty"`
}

// AppDelta summarises one added, removed or changed app.
type AppDelta struct {
	Op                Op       `json:"op"`
	Package           string   `json:"package,omitempty"`
	Old               *AppSide `json:"old,omitempty"`
	New               *AppSide `json:"new,omitempty"`
	Changes           int      `json:"changes"`
	NewFindings       int      `json:"new_findings"`
	FixedFindings     int      `json:"fixed_findings"`
	UnchangedFindings int      `json:"unchanged_findings"`
	Score             float64  `json:"score"` // the highest score of its changes
}

// Side describes one compared report.
type Side struct {
	Inputs        []report.Input `json:"inputs"`
	Tool          report.Tool    `json:"tool"`
	SchemaVersion string         `json:"schema_version"`
	Device        *report.Device `json:"device,omitempty"`
	Apps          int            `json:"apps"`
	Findings      int            `json:"findings"`
	Errors        int            `json:"errors"`
}

// Summary counts a delta.
type Summary struct {
	AppsAdded         int            `json:"apps_added"`
	AppsRemoved       int            `json:"apps_removed"`
	AppsChanged       int            `json:"apps_changed"`
	AppsUnchanged     int            `json:"apps_unchanged"`
	DeviceChanges     int            `json:"device_changes"`
	Changes           int            `json:"changes"`
	NewFindings       int            `json:"new_findings"` // distinct by package + fingerprint
	FixedFindings     int            `json:"fixed_findings"`
	UnchangedFindings int            `json:"unchanged_findings"`
	NewBySeverity     map[string]int `json:"new_by_severity"`
}

// Delta is everything that differs between OLD and NEW.
type Delta struct {
	SchemaVersion string      `json:"schema_version"`
	Tool          report.Tool `json:"tool"`
	Old           Side        `json:"old"`
	New           Side        `json:"new"`
	// Changes lists every difference, ranked: the most dangerous first.
	Changes []Change `json:"changes"`
	// Apps summarises the apps that were added, removed or changed, ranked
	// by their worst change.
	Apps    []AppDelta `json:"apps"`
	Notes   []string   `json:"notes,omitempty"`
	Summary Summary    `json:"summary"`
}

// Options tune a comparison.
type Options struct {
	// Tool is written into the delta (the program that compared).
	Tool report.Tool
	// Permissions, when set, ranks added dangerous and privileged
	// permissions above ordinary ones.
	Permissions *signatures.Permissions
}

// Empty says whether nothing changed.
func (d *Delta) Empty() bool { return len(d.Changes) == 0 }

// NewFindings returns the new findings, worst first, each once per package
// and fingerprint.
func (d *Delta) NewFindings() []finding.Finding { return d.findings(Added) }

// FixedFindings returns the findings gone in NEW, worst first, each once.
func (d *Delta) FixedFindings() []finding.Finding { return d.findings(Removed) }

func (d *Delta) findings(op Op) []finding.Finding {
	seen := map[string]bool{}
	var out []finding.Finding
	for _, c := range d.Changes {
		if c.Kind != KindFinding || c.Op != op || c.Finding == nil {
			continue
		}
		k := c.Finding.Package + "\x00" + c.Finding.Fingerprint
		if !seen[k] {
			seen[k] = true
			out = append(out, *c.Finding)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return finding.Less(&out[i], &out[j]) })
	return out
}

// MaxNewSeverity returns the highest severity of a new finding, and false
// when there is none.
func (d *Delta) MaxNewSeverity() (finding.Severity, bool) {
	max, any := finding.Info, false
	for _, f := range d.NewFindings() {
		if !any || f.Severity > max {
			max, any = f.Severity, true
		}
	}
	return max, any
}

// Compare computes the delta from old to new. Neither report is modified.
func Compare(old, new *report.Report, opt Options) *Delta {
	d := &Delta{SchemaVersion: SchemaVersion, Tool: opt.Tool, Changes: []Change{}, Apps: []AppDelta{}}
	d.Old, d.New = side(old), side(new)
	if old.Tool.RulesVersion != new.Tool.RulesVersion {
		d.Notes = append(d.Notes, fmt.Sprintf("the reports were made with different rule bundles (%s, %s): some finding changes may come from the rules, not the firmware",
			report.Clean(old.Tool.RulesVersion), report.Clean(new.Tool.RulesVersion)))
	}
	d.Changes = append(d.Changes, deviceChanges(old.Device, new.Device)...)

	os, ns := index(old), index(new)
	pairs, added, removed := match(os.apps, ns.apps)
	cmp := comparer{opt: opt}
	for _, p := range pairs {
		ad, chs := cmp.app(p.old, p.new)
		d.Summary.UnchangedFindings += ad.UnchangedFindings
		if len(chs) == 0 {
			d.Summary.AppsUnchanged++
			continue
		}
		d.Changes = append(d.Changes, chs...)
		d.Apps = append(d.Apps, ad)
	}
	for _, n := range added {
		ad, chs := cmp.whole(n, Added)
		d.Changes = append(d.Changes, chs...)
		d.Apps = append(d.Apps, ad)
	}
	for _, o := range removed {
		ad, chs := cmp.whole(o, Removed)
		d.Changes = append(d.Changes, chs...)
		d.Apps = append(d.Apps, ad)
	}
	// Findings that belong to no app: matched by a fingerprint that ignores
	// the name of the scanned input.
	ng, og := map[string]*finding.Finding{}, map[string]*finding.Finding{}
	for _, f := range os.global {
		og[globalKey(f)] = f
	}
	for _, f := range ns.global {
		ng[globalKey(f)] = f
	}
	for k, f := range ng {
		if og[k] == nil {
			d.Changes = append(d.Changes, findingChange(f, Added, nil))
		} else {
			d.Summary.UnchangedFindings++
		}
	}
	for k, f := range og {
		if ng[k] == nil {
			d.Changes = append(d.Changes, findingChange(f, Removed, nil))
		}
	}
	for _, ad := range d.Apps {
		switch ad.Op {
		case Added:
			d.Summary.AppsAdded++
		case Removed:
			d.Summary.AppsRemoved++
		default:
			d.Summary.AppsChanged++
		}
	}
	Rank(d)
	d.Summary.Changes = len(d.Changes)
	d.Summary.NewBySeverity = map[string]int{}
	for _, c := range d.Changes {
		if c.Kind == KindDevice {
			d.Summary.DeviceChanges++
		}
	}
	nf := d.NewFindings()
	d.Summary.NewFindings = len(nf)
	for _, f := range nf {
		d.Summary.NewBySeverity[f.Severity.String()]++
	}
	d.Summary.FixedFindings = len(d.FixedFindings())
	return d
}

func side(r *report.Report) Side {
	return Side{Inputs: r.Inputs, Tool: r.Tool, SchemaVersion: r.SchemaVersion, Device: r.Device,
		Apps: len(r.Apps), Findings: len(r.Findings), Errors: len(r.Errors)}
}

// deviceChanges compares the build.prop facts.
func deviceChanges(o, n *report.Device) []Change {
	if o == nil {
		o = &report.Device{}
	}
	if n == nil {
		n = &report.Device{}
	}
	fields := []struct {
		name string
		o, n string
	}{
		{"fingerprint", o.Fingerprint, n.Fingerprint},
		{"android_version", o.AndroidVersion, n.AndroidVersion},
		{"sdk", o.SDK, n.SDK},
		{"security_patch", o.SecurityPatch, n.SecurityPatch},
		{"build_tags", o.BuildTags, n.BuildTags},
		{"build_type", o.BuildType, n.BuildType},
		{"brand", o.Brand, n.Brand},
		{"manufacturer", o.Manufacturer, n.Manufacturer},
		{"model", o.Model, n.Model},
		{"device", o.Device, n.Device},
	}
	var out []Change
	for _, f := range fields {
		if f.o == f.n {
			continue
		}
		c := Change{Kind: KindDevice, Op: Changed, Field: f.name, Old: f.o, New: f.n, Severity: finding.Info}
		switch {
		case f.o == "":
			c.Op = Added
		case f.n == "":
			c.Op = Removed
		}
		switch f.name {
		case "security_patch":
			if f.n != "" && f.n < f.o {
				c.Severity = finding.Medium // an older patch level: a downgrade
			}
		case "build_tags":
			if strings.Contains(f.n, "test-keys") && !strings.Contains(f.o, "test-keys") {
				c.Severity = finding.High
			}
		case "build_type":
			if f.n == "userdebug" || f.n == "eng" {
				c.Severity = finding.Medium
			}
		}
		out = append(out, c)
	}
	return out
}

// instance is one app of one side with the findings that belong to it.
type instance struct {
	app      *report.App
	findings []*finding.Finding
	norm     string // location without the input's own name
	reduced  string // norm with intermediate hops reduced to base names
	inner    string // path inside the innermost image
	form     string // reduced without the inner path: which form of the ROM
}

type sideIndex struct {
	apps   []*instance
	global []*finding.Finding
}

// index attributes each finding to the app it belongs to: same package and
// the evidence inside the app's location (else the nearest location).
func index(r *report.Report) sideIndex {
	var s sideIndex
	byPkg := map[string][]*instance{}
	for i := range r.Apps {
		a := &r.Apps[i]
		in := &instance{app: a}
		in.norm, in.reduced, in.inner, in.form = keys(a.Location)
		s.apps = append(s.apps, in)
		if a.Package != "" {
			byPkg[a.Package] = append(byPkg[a.Package], in)
		}
	}
	for i := range r.Findings {
		f := &r.Findings[i]
		cands := byPkg[f.Package]
		if f.Package == "" || len(cands) == 0 {
			s.global = append(s.global, f)
			continue
		}
		loc := ""
		if len(f.Evidence) > 0 {
			loc = f.Evidence[0].Location
		}
		best, bestLen := cands[0], -1
		for _, c := range cands {
			n := commonPrefix(loc, c.app.Location)
			if loc == c.app.Location || strings.HasPrefix(loc, c.app.Location+"!") {
				n = len(loc) + 1
			}
			if n > bestLen {
				best, bestLen = c, n
			}
		}
		best.findings = append(best.findings, f)
	}
	return s
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// keys derives the matching keys of a location such as
// "rom-v1/fastboot.tgz!example-rom-v1/system.img!/app/Notes/Notes.apk":
// norm drops the input's own name ("fastboot.tgz!example-rom-v1/system.img!/app/Notes/Notes.apk"),
// reduced keeps only base names of intermediate hops
// ("fastboot.tgz!system.img!/app/Notes/Notes.apk"), inner is the last hop
// ("/app/Notes/Notes.apk") and form the rest ("fastboot.tgz!system.img").
func keys(loc string) (norm, reduced, inner, form string) {
	hops := strings.Split(loc, "!")
	hops[0] = dropRoot(hops[0])
	norm = strings.Join(hops, "!")
	red := append([]string{}, hops...)
	for i := 1; i < len(red)-1; i++ {
		if j := strings.LastIndex(red[i], "/"); j >= 0 {
			red[i] = red[i][j+1:]
		}
	}
	reduced = strings.Join(red, "!")
	inner = red[len(red)-1]
	form = strings.Join(red[:len(red)-1], "!")
	return norm, reduced, inner, form
}

// dropRoot removes the first element of a path: the scanned input's own
// base name, which differs between the two sides.
func dropRoot(hop string) string {
	if i := strings.IndexAny(hop, "/\\"); i >= 0 {
		return hop[i+1:]
	}
	return ""
}

// globalKey identifies a finding that belongs to no app, whatever the
// scanned inputs were called.
func globalKey(f *finding.Finding) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00", f.RuleID, f.Package)
	parts := make([]string, 0, len(f.Evidence))
	for _, e := range f.Evidence {
		// Some evidence lists several locations (build.prop of each form).
		locs := strings.Split(e.Location, ", ")
		for i, l := range locs {
			_, locs[i], _, _ = keys(l)
		}
		sort.Strings(locs)
		parts = append(parts, strings.Join([]string{strings.Join(locs, ", "), e.Class, e.Method, e.API, e.String}, "\x1f"))
	}
	sort.Strings(parts)
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

type pair struct{ old, new *instance }

// match pairs apps: by package (and, for a package at several locations,
// by path inside the image and form of the ROM), then renames at the same
// path. What is left is added or removed.
func match(olds, news []*instance) (pairs []pair, added, removed []*instance) {
	oldBy, newBy := map[string][]*instance{}, map[string][]*instance{}
	var oldNoPkg, newNoPkg []*instance
	for _, o := range olds {
		if o.app.Package == "" {
			oldNoPkg = append(oldNoPkg, o)
		} else {
			oldBy[o.app.Package] = append(oldBy[o.app.Package], o)
		}
	}
	for _, n := range news {
		if n.app.Package == "" {
			newNoPkg = append(newNoPkg, n)
		} else {
			newBy[n.app.Package] = append(newBy[n.app.Package], n)
		}
	}
	tiers := []func(*instance) string{
		func(i *instance) string { return i.norm },
		func(i *instance) string { return i.reduced },
		func(i *instance) string { return i.form },
		func(i *instance) string { return i.inner },
	}
	var restOld, restNew []*instance
	for _, pkg := range sortedKeys(oldBy) {
		os, ns := oldBy[pkg], newBy[pkg]
		var ps []pair
		for _, key := range tiers {
			ps, os, ns = pairBy(ps, os, ns, key)
		}
		if len(os) == 1 && len(ns) == 1 {
			ps = append(ps, pair{os[0], ns[0]})
			os, ns = nil, nil
		}
		// The same package twice at the same place (a report listing an
		// APK twice): pair them in order.
		ps, os, ns = zipBy(ps, os, ns, tiers[0])
		pairs = append(pairs, ps...)
		restOld = append(restOld, os...)
		restNew = append(restNew, ns...)
	}
	for _, pkg := range sortedKeys(newBy) {
		if oldBy[pkg] == nil {
			restNew = append(restNew, newBy[pkg]...)
		}
	}
	// Renames (and apps without a package): the same path on both sides,
	// where neither package exists on the other side.
	var ro, rn []*instance
	for _, o := range restOld {
		if o.app.Package == "" || newBy[o.app.Package] == nil {
			ro = append(ro, o)
		} else {
			removed = append(removed, o)
		}
	}
	for _, n := range restNew {
		if n.app.Package == "" || oldBy[n.app.Package] == nil {
			rn = append(rn, n)
		} else {
			added = append(added, n)
		}
	}
	ro, rn = append(ro, oldNoPkg...), append(rn, newNoPkg...)
	for _, key := range tiers[:2] {
		pairs, ro, rn = pairBy(pairs, ro, rn, key)
	}
	pairs, ro, rn = zipBy(pairs, ro, rn, tiers[0])
	removed = append(removed, ro...)
	added = append(added, rn...)
	return pairs, added, removed
}

// pairBy pairs the instances whose key is unique on both sides.
func pairBy(ps []pair, os, ns []*instance, key func(*instance) string) ([]pair, []*instance, []*instance) {
	if len(os) == 0 || len(ns) == 0 {
		return ps, os, ns
	}
	count := func(list []*instance) map[string]int {
		m := map[string]int{}
		for _, i := range list {
			m[key(i)]++
		}
		return m
	}
	oc, nc := count(os), count(ns)
	byKey := map[string]*instance{}
	for _, n := range ns {
		if nc[key(n)] == 1 {
			byKey[key(n)] = n
		}
	}
	used := map[*instance]bool{}
	var restO []*instance
	for _, o := range os {
		k := key(o)
		if n := byKey[k]; n != nil && oc[k] == 1 {
			ps = append(ps, pair{o, n})
			used[n] = true
			continue
		}
		restO = append(restO, o)
	}
	var restN []*instance
	for _, n := range ns {
		if !used[n] {
			restN = append(restN, n)
		}
	}
	return ps, restO, restN
}

// zipBy pairs instances with equal keys in their order.
func zipBy(ps []pair, os, ns []*instance, key func(*instance) string) ([]pair, []*instance, []*instance) {
	byKey := map[string][]*instance{}
	for _, n := range ns {
		byKey[key(n)] = append(byKey[key(n)], n)
	}
	var restO []*instance
	used := map[*instance]bool{}
	for _, o := range os {
		if q := byKey[key(o)]; len(q) > 0 {
			ps = append(ps, pair{o, q[0]})
			used[q[0]] = true
			byKey[key(o)] = q[1:]
			continue
		}
		restO = append(restO, o)
	}
	var restN []*instance
	for _, n := range ns {
		if !used[n] {
			restN = append(restN, n)
		}
	}
	return ps, restO, restN
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// comparer compares matched apps.
type comparer struct{ opt Options }

func appSide(a *report.App) *AppSide {
	return &AppSide{Package: a.Package, Location: a.Location, VersionCode: a.VersionCode, VersionName: a.VersionName,
		Placement: a.Placement, Partition: a.Partition, Flags: a.Flags, Score: a.Score, MaxSeverity: a.MaxSeverity}
}

// privileged says whether an app runs with system powers.
func privileged(a *report.App) bool {
	if a.Placement == "priv-app" || a.SharedUserID == "android.uid.system" || a.SharedUserID == "android.uid.phone" || a.Persistent {
		return true
	}
	for _, f := range a.Flags {
		switch f {
		case "priv-app", "platform-signed", "system-uid", "persistent":
			return true
		}
	}
	return false
}

// whole reports an app that exists on one side only, with all its findings.
func (c comparer) whole(in *instance, op Op) (AppDelta, []Change) {
	a := in.app
	ad := AppDelta{Op: op, Package: a.Package}
	ch := Change{Kind: KindApp, Op: op, Package: a.Package, Location: a.Location, Privileged: privileged(a)}
	val := a.Package
	if val == "" {
		val = a.Location
	}
	if v := versionString(a); v != "" {
		val += " " + v
	}
	if op == Added {
		ad.New = appSide(a)
		ch.New = val
		ch.Severity = finding.Low
		for _, f := range in.findings {
			if f.Severity > ch.Severity {
				ch.Severity = f.Severity
			}
		}
	} else {
		ad.Old = appSide(a)
		ch.Old = val
		ch.Severity = finding.Info
	}
	chs := []Change{ch}
	for _, f := range dedupe(in.findings) {
		chs = append(chs, findingChange(f, op, a))
	}
	if op == Added {
		ad.NewFindings = len(chs) - 1
	} else {
		ad.FixedFindings = len(chs) - 1
	}
	ad.Changes = len(chs)
	return ad, chs
}

func versionString(a *report.App) string {
	if a.VersionCode == 0 && a.VersionName == "" {
		return ""
	}
	s := strconv.FormatInt(a.VersionCode, 10)
	if a.VersionName != "" {
		s += " (" + a.VersionName + ")"
	}
	return s
}

// app compares a matched pair; no changes means the app is unchanged.
func (c comparer) app(o, n *instance) (AppDelta, []Change) {
	oa, na := o.app, n.app
	ad := AppDelta{Op: Changed, Package: na.Package, Old: appSide(oa), New: appSide(na)}
	var chs []Change
	base := Change{Package: na.Package, Location: na.Location, Privileged: privileged(na)}
	add := func(ch Change) {
		ch.Package, ch.Location, ch.Privileged = base.Package, base.Location, base.Privileged
		chs = append(chs, ch)
	}
	if oa.Package != na.Package {
		add(Change{Kind: KindPackage, Op: Changed, Old: oa.Package, New: na.Package, Severity: finding.Medium})
	}
	if oa.VersionCode != na.VersionCode || oa.VersionName != na.VersionName {
		sev := finding.Info
		if na.VersionCode < oa.VersionCode {
			sev = finding.Low // a downgrade
		}
		add(Change{Kind: KindVersion, Op: Changed, Old: versionString(oa), New: versionString(na), Severity: sev})
	}
	if os, ns := signerSet(oa), signerSet(na); os != ns {
		add(Change{Kind: KindSigner, Op: Changed, Old: os, New: ns, Severity: finding.High})
	}
	op, np := placeString(oa), placeString(na)
	if op != np {
		sev := finding.Low
		if na.Placement == "priv-app" && oa.Placement != "priv-app" {
			sev = finding.Medium
		}
		add(Change{Kind: KindPlacement, Op: Changed, Old: op, New: np, Severity: sev})
	} else if o.inner != n.inner {
		add(Change{Kind: KindLocation, Op: Changed, Old: oa.Location, New: na.Location, Severity: finding.Info})
	}
	if oa.SharedUserID != na.SharedUserID {
		sev := finding.Medium
		switch na.SharedUserID {
		case "android.uid.system", "android.uid.phone", "android.uid.shell", "android.uid.nfc", "android.uid.bluetooth":
			sev = finding.High
		case "":
			sev = finding.Info
		}
		add(Change{Kind: KindSharedUserID, Op: opOf(oa.SharedUserID, na.SharedUserID), Old: oa.SharedUserID, New: na.SharedUserID, Severity: sev})
	}
	if oa.Persistent != na.Persistent {
		sev := finding.Info
		if na.Persistent {
			sev = finding.Medium
		}
		add(Change{Kind: KindPersistent, Op: Changed, Old: strconv.FormatBool(oa.Persistent), New: strconv.FormatBool(na.Persistent), Severity: sev})
	}
	sets := []struct {
		kind  Kind
		field string
		o, n  []string
		sev   func(string) finding.Severity
	}{
		{KindPermission, "", oa.Permissions, na.Permissions, c.permissionSeverity},
		{KindGrant, "privileged", grants(o.findings, "context.privileged-grant"), grants(n.findings, "context.privileged-grant"), fixed(finding.Medium)},
		{KindGrant, "default", grants(o.findings, "context.default-grant"), grants(n.findings, "context.default-grant"), fixed(finding.Medium)},
		{KindComponent, "", oa.Exported, na.Exported, fixed(finding.Low)},
		{KindEndpoint, "", oa.Endpoints, na.Endpoints, fixed(finding.Low)},
		{KindHarvest, "", ruleSet(oa.Harvests, o.findings, "harvest."), ruleSet(na.Harvests, n.findings, "harvest."), fixed(finding.Medium)},
		{KindFlow, "", ruleSet(nil, o.findings, "flow."), ruleSet(nil, n.findings, "flow."), worstOf(n.findings)},
		{KindTracker, "", ruleSet(oa.Trackers, o.findings, "tracker."), ruleSet(na.Trackers, n.findings, "tracker."), fixed(finding.Medium)},
	}
	for _, s := range sets {
		plus, minus := setDiff(s.o, s.n)
		for _, v := range plus {
			add(Change{Kind: s.kind, Op: Added, Field: s.field, New: v, Severity: s.sev(v)})
		}
		for _, v := range minus {
			add(Change{Kind: s.kind, Op: Removed, Field: s.field, Old: v, Severity: finding.Info})
		}
	}
	of, nf := fingerprints(o.findings), fingerprints(n.findings)
	for _, k := range sortedKeys(nf) {
		if of[k] == nil {
			chs = append(chs, findingChange(nf[k], Added, na))
			ad.NewFindings++
		} else {
			ad.UnchangedFindings++
		}
	}
	for _, k := range sortedKeys(of) {
		if nf[k] == nil {
			chs = append(chs, findingChange(of[k], Removed, na))
			ad.FixedFindings++
		}
	}
	ad.Changes = len(chs)
	return ad, chs
}

func opOf(o, n string) Op {
	switch {
	case o == "":
		return Added
	case n == "":
		return Removed
	}
	return Changed
}

func fixed(s finding.Severity) func(string) finding.Severity {
	return func(string) finding.Severity { return s }
}

// worstOf rates a rule that appeared by the worst severity its findings carry
// on the new side: a new data flow to the network is as severe as the flow
// finding says, a new low-confidence implicit flow or budget note is not.
func worstOf(fs []*finding.Finding) func(string) finding.Severity {
	return func(rule string) finding.Severity {
		worst := finding.Info
		for _, f := range fs {
			if f.RuleID == rule && f.Severity > worst {
				worst = f.Severity
			}
		}
		return worst
	}
}

func (c comparer) permissionSeverity(p string) finding.Severity {
	if perms := c.opt.Permissions; perms != nil {
		if _, ok := perms.Privileged[p]; ok {
			return finding.Medium
		}
		if _, ok := perms.Dangerous[p]; ok {
			return finding.Medium
		}
	}
	return finding.Low
}

func placeString(a *report.App) string {
	if a.Partition == "" {
		return a.Placement
	}
	return a.Partition + "/" + a.Placement
}

// signerSet lists an app's distinct certificates, sorted.
func signerSet(a *report.App) string {
	var certs []string
	for _, s := range a.Signers {
		certs = append(certs, s.SHA256)
	}
	return strings.Join(uniq(certs), ", ")
}

func grants(fs []*finding.Finding, rule string) []string {
	var out []string
	for _, f := range fs {
		if f.RuleID != rule {
			continue
		}
		for _, e := range f.Evidence {
			if e.String != "" {
				out = append(out, e.String)
			}
		}
	}
	return out
}

// ruleSet joins an app's listed ids with the rule ids of its findings that
// start with prefix.
func ruleSet(listed []string, fs []*finding.Finding, prefix string) []string {
	out := append([]string{}, listed...)
	for _, f := range fs {
		if strings.HasPrefix(f.RuleID, prefix) {
			out = append(out, f.RuleID)
		}
	}
	return out
}

// setDiff returns what is only in n (plus) and only in o (minus), sorted.
func setDiff(o, n []string) (plus, minus []string) {
	om, nm := map[string]bool{}, map[string]bool{}
	for _, v := range o {
		om[v] = true
	}
	for _, v := range n {
		nm[v] = true
	}
	for _, v := range uniq(n) {
		if !om[v] {
			plus = append(plus, v)
		}
	}
	for _, v := range uniq(o) {
		if !nm[v] {
			minus = append(minus, v)
		}
	}
	return plus, minus
}

func uniq(s []string) []string {
	s = append([]string{}, s...)
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if v != "" && (i == 0 || v != s[i-1]) {
			out = append(out, v)
		}
	}
	return out
}

// fingerprints indexes findings by package + fingerprint.
func fingerprints(fs []*finding.Finding) map[string]*finding.Finding {
	m := map[string]*finding.Finding{}
	for _, f := range fs {
		m[f.Package+"\x00"+fingerprint(f)] = f
	}
	return m
}

func dedupe(fs []*finding.Finding) []*finding.Finding {
	m := fingerprints(fs)
	out := make([]*finding.Finding, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, m[k])
	}
	return out
}

// fingerprint returns the finding's fingerprint, computing it on a copy
// when a report lacks it.
func fingerprint(f *finding.Finding) string {
	if f.Fingerprint != "" {
		return f.Fingerprint
	}
	c := *f
	return c.ComputeFingerprint()
}

func findingChange(f *finding.Finding, op Op, a *report.App) Change {
	fc := *f
	if fc.Fingerprint == "" {
		fc.ComputeFingerprint()
	}
	c := Change{Kind: KindFinding, Op: op, Package: f.Package, Severity: f.Severity, Finding: &fc}
	v := f.RuleID + ": " + f.Title
	if op == Removed {
		c.Old = v
	} else {
		c.New = v
	}
	if a != nil {
		c.Location, c.Privileged = a.Location, privileged(a)
	} else if len(f.Evidence) > 0 {
		c.Location = f.Evidence[0].Location
	}
	return c
}
