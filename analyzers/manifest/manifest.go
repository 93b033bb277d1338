// Package manifest reports what an app's manifest asks for and exposes:
// dangerous and privileged permissions, exported components without a
// permission, debuggable builds, cleartext traffic, backups, shared user
// ids and persistence.
package manifest

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/romscan/romscan/analyzers"
	"github.com/romscan/romscan/extract/walk"
	"github.com/romscan/romscan/finding"
	"github.com/romscan/romscan/internal/android"
)

// Analyzer is the manifest analyzer.
type Analyzer struct{}

// New returns the analyzer.
func New() *Analyzer { return &Analyzer{} }

// Name returns "manifest".
func (*Analyzer) Name() string { return "manifest" }

// Version changes when the output for the same input changes.
func (*Analyzer) Version() string { return "1" }

// Kinds is APKs only.
func (*Analyzer) Kinds() []walk.Kind { return []walk.Kind{walk.KindAPK} }

// privilegedUIDs are shared user ids that run with system powers.
var privilegedUIDs = map[string]bool{
	"android.uid.system": true, "android.uid.phone": true, "android.uid.shell": true,
	"android.uid.nfc": true, "android.uid.bluetooth": true, "android.uid.networkstack": true,
}

// Analyze reads the manifest of an APK target.
func (a *Analyzer) Analyze(ctx context.Context, t *analyzers.Target) ([]finding.Finding, error) {
	if t.App == nil || t.App.APK == nil || t.App.APK.Manifest == nil {
		return nil, nil
	}
	m := t.App.APK.Manifest
	loc := t.Loc.String()
	ev := func(s, note string) finding.Evidence {
		return finding.Evidence{Location: loc + "!AndroidManifest.xml", String: s, Note: note}
	}
	var out []finding.Finding
	add := func(id, title, cat string, sev finding.Severity, conf finding.Confidence, desc string, evs []finding.Evidence, refs ...string) {
		out = append(out, finding.Finding{RuleID: id, Title: title, Category: cat, Severity: sev, Confidence: conf,
			Package: t.Package, Description: desc, Evidence: evs, References: refs})
	}

	// Permissions: one finding per category of dangerous permission, and
	// one per privileged permission.
	byCat := map[string][]string{}
	catSev := map[string]finding.Severity{}
	for _, p := range m.UsesPermissions {
		if c, ok := t.Sigs.Permissions.Dangerous[p.Name]; ok {
			byCat[c.Category] = append(byCat[c.Category], p.Name)
			if c.Sev > catSev[c.Category] {
				catSev[c.Category] = c.Sev
			}
		}
		if c, ok := t.Sigs.Permissions.Privileged[p.Name]; ok {
			add("manifest.privileged-permission", "Requests privileged permission "+short(p.Name), "permission", c.Sev, finding.HighConfidence,
				"Only platform-signed or privileged apps are granted this permission; it gives power over the device or other apps' data.",
				[]finding.Evidence{ev(p.Name, "uses-permission")}, "https://developer.android.com/reference/android/Manifest.permission")
		}
	}
	cats := make([]string, 0, len(byCat))
	for c := range byCat {
		cats = append(cats, c)
	}
	sort.Strings(cats)
	for _, c := range cats {
		perms := byCat[c]
		sort.Strings(perms)
		var evs []finding.Evidence
		for _, p := range perms {
			evs = append(evs, ev(p, "uses-permission"))
		}
		add("manifest.dangerous-permission", "Requests access to "+c, "permission", catSev[c], finding.HighConfidence,
			"Runtime (dangerous) permissions guarding personal data: "+strings.Join(perms, ", ")+".", evs,
			"https://developer.android.com/guide/topics/permissions/overview#runtime")
	}

	app := m.Application
	if app.Debuggable {
		add("manifest.debuggable", "App is debuggable", "configuration", finding.Medium, finding.HighConfidence,
			"android:debuggable=\"true\" lets anyone with adb run code as the app and read its data.",
			[]finding.Evidence{ev("android:debuggable=true", "application")}, "https://developer.android.com/guide/topics/manifest/application-element#debug")
	}
	cleartext := app.UsesCleartextTraffic != nil && *app.UsesCleartextTraffic
	if cleartext {
		add("manifest.cleartext-traffic", "Allows cleartext (HTTP) traffic", "network", finding.Low, finding.HighConfidence,
			"android:usesCleartextTraffic=\"true\": data may travel unencrypted.",
			[]finding.Evidence{ev("android:usesCleartextTraffic=true", "application")}, "https://developer.android.com/guide/topics/manifest/application-element#usesCleartextTraffic")
	} else if app.UsesCleartextTraffic == nil && app.NetworkSecurityConfig == "" && m.TargetSDK > 0 && m.TargetSDK < 28 && m.RequestsPermission("android.permission.INTERNET") {
		add("manifest.cleartext-traffic", "Allows cleartext (HTTP) traffic by default (targetSdk < 28)", "network", finding.Info, finding.MediumConfidence,
			fmt.Sprintf("targetSdkVersion %d: cleartext traffic is allowed unless a network security config forbids it.", m.TargetSDK),
			[]finding.Evidence{ev(fmt.Sprintf("targetSdkVersion=%d", m.TargetSDK), "uses-sdk")}, "https://developer.android.com/privacy-and-security/security-config")
	}
	if app.AllowBackup {
		add("manifest.allow-backup", "App data can be backed up", "configuration", finding.Info, finding.HighConfidence,
			"android:allowBackup lets the app's data be copied off the device with adb backup or cloud backup.",
			[]finding.Evidence{ev("android:allowBackup", "application")}, "https://developer.android.com/guide/topics/data/autobackup")
	}
	if m.SharedUserID != "" {
		sev, title := finding.Info, "Shares a user id with other apps"
		if privilegedUIDs[m.SharedUserID] {
			sev, title = finding.Medium, "Runs as privileged shared user "+m.SharedUserID
		}
		add("manifest.shared-user-id", title, "privilege", sev, finding.HighConfidence,
			"android:sharedUserId="+m.SharedUserID+": the app shares a Linux user id, and so data and permissions, with every app using it.",
			[]finding.Evidence{ev("android:sharedUserId="+m.SharedUserID, "manifest")}, "https://developer.android.com/guide/topics/manifest/manifest-element#uid")
	}
	if app.Persistent {
		add("manifest.persistent", "Runs persistently", "privilege", finding.Low, finding.HighConfidence,
			"android:persistent=\"true\": the system keeps the app running at all times (honoured for system apps).",
			[]finding.Evidence{ev("android:persistent=true", "application")}, "https://developer.android.com/guide/topics/manifest/application-element#persistent")
	}
	out = append(out, exported(t, m, ev)...)
	return out, nil
}

// exported reports components reachable by any app without a permission.
// Launcher activities are meant to be public and are left out.
func exported(t *analyzers.Target, m *android.Manifest, ev func(string, string) finding.Evidence) []finding.Finding {
	var out []finding.Finding
	groups := []struct {
		kind  string
		comps []android.Component
		sev   finding.Severity
	}{
		{"activity", m.Application.Activities, finding.Info},
		{"service", m.Application.Services, finding.Low},
		{"receiver", m.Application.Receivers, finding.Low},
		{"provider", m.Application.Providers, finding.Medium},
	}
	for _, g := range groups {
		for _, c := range g.comps {
			if !c.EffectiveExported || c.Permission != "" || isLauncher(c) {
				continue
			}
			if g.kind == "provider" && c.ReadPermission != "" && c.WritePermission != "" {
				continue
			}
			var actions []string
			for _, f := range c.IntentFilters {
				actions = append(actions, f.Actions...)
			}
			note := "exported without permission"
			if len(actions) > 0 {
				note += "; actions " + strings.Join(actions, ", ")
			}
			out = append(out, finding.Finding{
				RuleID:      "manifest.exported-" + g.kind,
				Title:       fmt.Sprintf("Exported %s without permission: %s", g.kind, c.Name),
				Category:    "exposure",
				Severity:    g.sev,
				Confidence:  finding.HighConfidence,
				Package:     t.Package,
				Description: "Any app on the device can start or bind this component.",
				Evidence:    []finding.Evidence{ev(c.Name, note)},
				References:  []string{"https://developer.android.com/privacy-and-security/risks/android-exported"},
			})
		}
	}
	return out
}

func isLauncher(c android.Component) bool {
	for _, f := range c.IntentFilters {
		for _, cat := range f.Categories {
			if cat == "android.intent.category.LAUNCHER" || cat == "android.intent.category.HOME" || cat == "android.intent.category.LEANBACK_LAUNCHER" {
				return true
			}
		}
	}
	return false
}

func short(p string) string { return strings.TrimPrefix(p, "android.permission.") }
