package scan

import (
	"sort"
	"strings"

	"github.com/romscan/romscan/finding"
	"github.com/romscan/romscan/report"
	"github.com/romscan/romscan/signatures"
)

// build turns per-leaf results into the report: findings get fingerprints,
// apps get their findings' facts and a score, and build.prop files become
// the device context.
func build(sigs *signatures.Set, results []*result, filtered int64) *report.Report {
	r := &report.Report{
		SchemaVersion: report.SchemaVersion,
		Tool:          report.Tool{Name: "romscan", Version: Version, RulesVersion: sigs.Version},
		Apps:          []report.App{},
		Findings:      []finding.Finding{},
		Errors:        []report.FileError{},
	}
	r.Summary.FilteredEndpoints = int(filtered)
	sort.Slice(results, func(i, j int) bool { return results[i].loc < results[j].loc })

	// The platform key signs framework-res.apk (package "android"); apps
	// signed with it run with the platform's powers.
	platformCert := ""
	for _, res := range results {
		if res.app != nil && res.app.Package == "android" && res.signer != "" {
			platformCert = res.signer
		}
	}
	// Pre-optimised code joins the app it was built from.
	apps := map[string]*result{}
	for _, res := range results {
		if res.app != nil {
			apps[res.loc] = res
		}
	}
	for _, res := range results {
		if res.linkTo == "" {
			continue
		}
		if app := apps[res.linkTo]; app != nil {
			for i := range res.findings {
				res.findings[i].Package = app.app.Package
			}
			app.findings = append(app.findings, res.findings...)
			res.findings = nil
			app.app.Flags = append(app.app.Flags, "preoptimized")
		}
	}
	props := map[string]map[string]string{}
	g := grants{privileged: map[string][]string{}, defaults: map[string][]string{}}
	var appResults []*result
	for _, res := range results {
		if res.props != nil {
			props[res.loc] = res.props
		}
		for pkg, perms := range res.grants {
			if res.grantDef {
				g.defaults[pkg] = append(g.defaults[pkg], perms...)
			} else {
				g.privileged[pkg] = append(g.privileged[pkg], perms...)
			}
		}
		if res.app != nil {
			appResults = append(appResults, res)
		}
	}
	r.Device = device(props)
	r.Findings = append(r.Findings, contextFindings(sigs, g, appResults, r.Device, platformCert)...)
	// Rules the user disabled (--disable, a rules folder's config.yaml)
	// are dropped here, whichever analyzer or step made them.
	r.Findings = dropDisabled(sigs, r.Findings)
	for _, res := range results {
		res.findings = dropDisabled(sigs, res.findings)
	}
	for i := range r.Findings {
		r.Findings[i].ComputeFingerprint()
	}
	for _, res := range results {
		r.Errors = append(r.Errors, res.errs...)
		for i := range res.findings {
			f := &res.findings[i]
			f.ComputeFingerprint()
		}
		r.Findings = append(r.Findings, res.findings...)
		if res.app == nil {
			continue
		}
		a := res.app
		flags := append(append([]string{}, res.flags...), a.Flags...)
		if platformCert != "" && res.signer == platformCert && a.Package != "android" {
			flags = append(flags, "platform-signed")
		}
		if a.SharedUserID == "android.uid.system" || a.SharedUserID == "android.uid.phone" {
			flags = append(flags, "system-uid")
		}
		if a.Persistent {
			flags = append(flags, "persistent")
		}
		sort.Strings(flags)
		a.Flags = flags
		summariseApp(a, res.findings)
		a.Score = report.ScoreApp(res.findings, flags, sigs.Weights)
		r.Apps = append(r.Apps, *a)
	}
	r.Signers = signerClusters(r.Apps)
	return r
}

// summariseApp fills an app's lists from its findings.
func summariseApp(a *report.App, fs []finding.Finding) {
	max := finding.Info
	endpoints, harvests, sinks, trackers := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, f := range fs {
		if f.Severity > max {
			max = f.Severity
		}
		switch {
		case strings.HasPrefix(f.RuleID, "endpoint."):
			for _, e := range f.Evidence {
				endpoints[e.String] = true
			}
		case strings.HasPrefix(f.RuleID, "harvest.") && contains(f.Tags, "source") && !contains(f.Tags, "sink"):
			harvests[f.RuleID] = true
		case strings.HasPrefix(f.RuleID, "sink."):
			sinks[f.RuleID] = true
		case strings.HasPrefix(f.RuleID, "tracker."):
			trackers[strings.TrimPrefix(f.RuleID, "tracker.")] = true
		}
	}
	a.Findings = len(fs)
	a.MaxSeverity = max.String()
	a.Endpoints = keys(endpoints)
	a.Harvests = keys(harvests)
	a.Sinks = keys(sinks)
	a.Trackers = keys(trackers)
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		if k != "" {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// device merges build.prop files: the system partition's values first,
// then the others for what it lacks.
func device(props map[string]map[string]string) *report.Device {
	if len(props) == 0 {
		return nil
	}
	locs := make([]string, 0, len(props))
	for l := range props {
		locs = append(locs, l)
	}
	// System first (shortest path containing /system/build.prop), then the rest.
	sort.Slice(locs, func(i, j int) bool {
		si, sj := strings.Contains(locs[i], "system/build.prop"), strings.Contains(locs[j], "system/build.prop")
		if si != sj {
			return si
		}
		return locs[i] < locs[j]
	})
	get := func(keys ...string) string {
		for _, l := range locs {
			for _, k := range keys {
				if v := props[l][k]; v != "" {
					return v
				}
			}
		}
		return ""
	}
	d := &report.Device{
		Brand:          get("ro.product.brand", "ro.product.system.brand", "ro.product.vendor.brand"),
		Manufacturer:   get("ro.product.manufacturer", "ro.product.system.manufacturer", "ro.product.vendor.manufacturer"),
		Model:          get("ro.product.model", "ro.product.system.model", "ro.product.vendor.model"),
		Device:         get("ro.product.device", "ro.product.system.device", "ro.product.vendor.device", "ro.build.product"),
		AndroidVersion: get("ro.build.version.release", "ro.system.build.version.release", "ro.vendor.build.version.release"),
		SDK:            get("ro.build.version.sdk", "ro.system.build.version.sdk", "ro.vendor.build.version.sdk"),
		Fingerprint:    get("ro.build.fingerprint", "ro.system.build.fingerprint", "ro.vendor.build.fingerprint"),
		SecurityPatch:  get("ro.build.version.security_patch", "ro.vendor.build.security_patch"),
		BuildTags:      get("ro.build.tags", "ro.system.build.tags", "ro.vendor.build.tags"),
		BuildType:      get("ro.build.type", "ro.system.build.type", "ro.vendor.build.type"),
		Sources:        locs,
	}
	return d
}

func dropDisabled(sigs *signatures.Set, fs []finding.Finding) []finding.Finding {
	kept := fs[:0]
	for _, f := range fs {
		if !sigs.Disabled(f.RuleID) {
			kept = append(kept, f)
		}
	}
	return kept
}
