// Package attribution wraps the endpoints analyzer and says whose each
// endpoint is: it tags endpoint findings with the tracker and telemetry
// service their host belongs to (signatures/catalog/trackers.yaml and
// telemetry.yaml), attributes IP literals to a country and an autonomous
// system from the offline IP tables (internal/geoip; no DNS, no network),
// and adds findings telemetry.<id> and watchlist.<id> for endpoints on
// those catalogues.
package attribution

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/romscan/romscan/analyzers"
	"github.com/romscan/romscan/extract/walk"
	"github.com/romscan/romscan/finding"
	"github.com/romscan/romscan/internal/geoip"
	"github.com/romscan/romscan/signatures"
)

// maxEvidence bounds the evidence of one telemetry or watchlist finding.
const maxEvidence = 8

// Lookup attributes an IP address; geoip.DB.Lookup is one.
type Lookup func(netip.Addr) (geoip.Info, error)

// Analyzer wraps an endpoints analyzer.
type Analyzer struct {
	inner  analyzers.Analyzer
	lookup func() Lookup
}

// Wrap returns inner with attribution, using the shared offline IP tables
// when they are installed (geoip.Shared).
func Wrap(inner analyzers.Analyzer) *Analyzer {
	return &Analyzer{inner: inner, lookup: func() Lookup {
		db, err := geoip.Shared()
		if err != nil || db == nil {
			return nil
		}
		return db.Lookup
	}}
}

// WithLookup returns inner with attribution from lookup (nil: none).
func WithLookup(inner analyzers.Analyzer, lookup Lookup) *Analyzer {
	return &Analyzer{inner: inner, lookup: func() Lookup { return lookup }}
}

// Name is the inner analyzer's: this is the same analysis, annotated.
func (a *Analyzer) Name() string { return a.inner.Name() }

// Version adds the attribution's version to the inner one.
func (a *Analyzer) Version() string { return a.inner.Version() + "+attribution.1" }

// Kinds are the inner analyzer's.
func (a *Analyzer) Kinds() []walk.Kind { return a.inner.Kinds() }

// Analyze runs the inner analyzer, then annotates and adds findings.
func (a *Analyzer) Analyze(ctx context.Context, t *analyzers.Target) ([]finding.Finding, error) {
	fs, err := a.inner.Analyze(ctx, t)
	if t.Sigs == nil {
		return fs, err
	}
	return Annotate(t.Sigs, a.lookup(), t.Package, fs), err
}

type agg struct {
	rule  *signatures.Rule
	extra string // vendor or how the watchlist matched
	hosts map[string]bool
	ev    []finding.Evidence
	tags  []string
}

// Annotate adds attribution to endpoint findings (rule ids "endpoint.*"
// with a "host:" tag) and returns them with the telemetry and watchlist
// findings they give rise to. Other findings pass through unchanged.
func Annotate(sigs *signatures.Set, lookup Lookup, pkg string, fs []finding.Finding) []finding.Finding {
	aggs := map[string]*agg{}
	add := func(r *signatures.Rule, extra string, host string, f *finding.Finding, tags ...string) {
		if sigs.Disabled(r.ID) {
			return
		}
		g := aggs[r.ID]
		if g == nil {
			g = &agg{rule: r, extra: extra, hosts: map[string]bool{}}
			aggs[r.ID] = g
		}
		g.hosts[host] = true
		for _, e := range f.Evidence {
			if len(g.ev) < maxEvidence {
				g.ev = append(g.ev, e)
			}
		}
		for _, tg := range tags {
			if !contains(g.tags, tg) {
				g.tags = append(g.tags, tg)
			}
		}
	}
	n := len(fs)
	for i := 0; i < n; i++ {
		f := &fs[i]
		if !strings.HasPrefix(f.RuleID, "endpoint.") {
			continue
		}
		host := ""
		for _, tg := range f.Tags {
			if h, ok := strings.CutPrefix(tg, "host:"); ok {
				host = strings.ToLower(h)
			}
		}
		if host == "" {
			continue
		}
		country := ""
		var geoTags []string
		if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil && lookup != nil {
			if info, _ := lookup(ip); info.Country != "" || info.ASN != 0 {
				country = info.Country
				var parts []string
				if info.Country != "" {
					geoTags = append(geoTags, "country:"+info.Country)
					parts = append(parts, info.Country)
				}
				if info.ASN != 0 {
					geoTags = append(geoTags, "asn:"+strconv.Itoa(info.ASN))
					parts = append(parts, fmt.Sprintf("AS%d (%s)", info.ASN, info.Org))
				}
				f.Tags = append(f.Tags, geoTags...)
				f.Description = strings.TrimSpace(f.Description + " Address attributed offline to " + strings.Join(parts, ", ") + ".")
			}
		}
		for _, tr := range sigs.Catalogue.TrackersForHost(host) {
			f.Tags = append(f.Tags, "tracker:"+strings.TrimPrefix(tr.ID, "tracker."))
		}
		for _, tm := range sigs.Catalogue.TelemetryForHost(host) {
			f.Tags = append(f.Tags, "telemetry:"+strings.TrimPrefix(tm.ID, "telemetry."))
			add(&tm.Rule, tm.Vendor, host, f, geoTags...)
		}
		for _, w := range sigs.Catalogue.Watchlists {
			if how, ok := w.Match(host, country); ok {
				f.Tags = append(f.Tags, "watchlist:"+strings.TrimPrefix(w.ID, "watchlist."))
				add(&w.Rule, how, host, f, geoTags...)
			}
		}
	}
	ids := make([]string, 0, len(aggs))
	for id := range aggs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		g := aggs[id]
		hosts := make([]string, 0, len(g.hosts))
		for h := range g.hosts {
			hosts = append(hosts, h)
		}
		sort.Strings(hosts)
		r := g.rule
		cat := r.Category
		var title, desc string
		tags := append([]string{}, g.tags...)
		for _, h := range hosts {
			tags = append(tags, "host:"+h)
		}
		if strings.HasPrefix(r.ID, "watchlist.") {
			if cat == "" {
				cat = "watchlist"
			}
			title = "Endpoint on watchlist: " + r.Name
			desc = fmt.Sprintf("%s matched by %s. %s", strings.Join(hosts, ", "), g.extra, r.Description)
		} else {
			if cat == "" {
				cat = "telemetry"
			}
			title = "Telemetry endpoint: " + r.Name
			desc = fmt.Sprintf("%s belong(s) to %s (%s). %s", strings.Join(hosts, ", "), r.Name, g.extra, r.Description)
		}
		fs = append(fs, finding.Finding{
			RuleID:      r.ID,
			Title:       title,
			Category:    cat,
			Severity:    r.Sev,
			Confidence:  r.Conf,
			Package:     pkg,
			Description: strings.TrimSpace(desc),
			Evidence:    g.ev,
			References:  r.References,
			Tags:        tags,
		})
	}
	return fs
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
