// Package signing reports problems with an app's signature: unsigned or
// broken signatures, debug certificates, weak keys, and v1-only signing on
// apps that install on Android versions open to the Janus attack.
package signing

import (
	"context"
	"fmt"

	"github.com/romscan/romscan/analyzers"
	"github.com/romscan/romscan/extract/walk"
	"github.com/romscan/romscan/finding"
	"github.com/romscan/romscan/internal/android"
)

// Analyzer is the signing analyzer.
type Analyzer struct{}

// New returns the analyzer.
func New() *Analyzer { return &Analyzer{} }

// Name returns "signing".
func (*Analyzer) Name() string { return "signing" }

// Version changes when the output for the same input changes.
func (*Analyzer) Version() string { return "1" }

// Kinds is APKs only.
func (*Analyzer) Kinds() []walk.Kind { return []walk.Kind{walk.KindAPK} }

// Analyze checks the APK's signers.
func (a *Analyzer) Analyze(ctx context.Context, t *analyzers.Target) ([]finding.Finding, error) {
	if t.App == nil || t.App.APK == nil || t.App.APK.Kind != android.APK {
		return nil, nil
	}
	apk := t.App.APK
	loc := t.Loc.String()
	var out []finding.Finding
	add := func(id, title string, sev finding.Severity, desc, str string, refs ...string) {
		out = append(out, finding.Finding{RuleID: id, Title: title, Category: "signing", Severity: sev,
			Confidence: finding.HighConfidence, Package: t.Package, Description: desc,
			Evidence: []finding.Evidence{{Location: loc, String: str}}, References: refs})
	}
	out = append(out, archiveTricks(t)...)
	if len(apk.Signers) == 0 {
		add("signing.unsigned", "APK is not signed", finding.Low, "Android refuses to install unsigned APKs; in a ROM this is a build artefact.", "", "https://source.android.com/docs/security/features/apksigning")
		return out, nil
	}
	if apk.SignError() != nil {
		add("signing.invalid", "APK signature does not verify", finding.Medium,
			"The signature is broken or does not cover the content: the APK may have been modified after signing.",
			"", "https://source.android.com/docs/security/features/apksigning")
		// The verifier's message can name members in varying order: keep it
		// out of the fingerprinted fields.
		out[len(out)-1].Evidence[0].Note = apk.SignError().Error()
	}
	seen := map[string]bool{}
	for _, s := range apk.Signers {
		if seen[s.SHA256] {
			continue
		}
		seen[s.SHA256] = true
		if s.DebugCert {
			add("signing.debug-certificate", "Signed with a debug certificate", finding.Medium,
				"The Android debug key is shared by every developer machine; anyone can sign updates with an equal key.",
				s.Subject, "https://developer.android.com/studio/publish/app-signing#debug-mode")
		}
		if s.PublicKeyAlgorithm == "RSA" && s.KeyBits > 0 && s.KeyBits < 2048 || s.PublicKeyAlgorithm == "DSA" && s.KeyBits > 0 && s.KeyBits < 2048 {
			add("signing.weak-key", fmt.Sprintf("Signed with a weak %d-bit %s key", s.KeyBits, s.PublicKeyAlgorithm), finding.Low,
				"Keys shorter than 2048 bits can be factored or forged with enough effort.", s.SHA256,
				"https://developer.android.com/studio/publish/app-signing")
		}
	}
	v1Only := len(apk.Schemes) > 0
	for _, s := range apk.Schemes {
		if s != 1 {
			v1Only = false
		}
	}
	if v1Only && apk.Manifest != nil && apk.Manifest.MinSDK > 0 && apk.Manifest.MinSDK < 24 {
		add("signing.janus", "Signed with v1 (JAR) signatures only and installs on Android < 7.0", finding.Low,
			"v1-only APKs that install on Android 5.0-7.0 can carry a DEX prefix that the signature does not cover (CVE-2017-13156, Janus).",
			fmt.Sprintf("minSdkVersion=%d", apk.Manifest.MinSDK), "https://nvd.nist.gov/vuln/detail/CVE-2017-13156")
	}
	return out, nil
}

// archiveTricks reports what Android's installer and verifier may read
// differently: two members with one name and different content (the
// "master key" bug: one copy verified, the other loaded), and a DEX file
// prefixed to the APK (Janus, CVE-2017-13156: the runtime loads the DEX,
// the verifier checks the zip).
func archiveTricks(t *analyzers.Target) []finding.Finding {
	apk := t.App.APK
	loc := t.Loc.String()
	var out []finding.Finding
	first := map[string]android.Entry{}
	seen := map[string]bool{}
	for _, e := range apk.Entries {
		f, dup := first[e.Name]
		if !dup {
			first[e.Name] = e
			continue
		}
		if seen[e.Name] || (f.CRC32 == e.CRC32 && f.Size == e.Size) {
			continue
		}
		seen[e.Name] = true
		out = append(out, finding.Finding{
			RuleID: "signing.duplicate-entry", Title: "Two different members named " + e.Name,
			Category: "signing", Severity: finding.High, Confidence: finding.HighConfidence, Package: t.Package,
			Description: "The archive holds two members with the same name and different content: the signature check and the installer may read different copies (Android bug 8219321, the \"master key\" vulnerability).",
			Evidence:    []finding.Evidence{{Location: loc, String: e.Name}},
			References:  []string{"https://nvd.nist.gov/vuln/detail/CVE-2013-4787"},
		})
	}
	head := make([]byte, 4)
	if t.R != nil {
		t.R.ReadAt(head, 0)
	}
	if string(head) == "dex\n" {
		out = append(out, finding.Finding{
			RuleID: "signing.janus-polyglot", Title: "APK starts with a DEX file (Janus)",
			Category: "signing", Severity: finding.High, Confidence: finding.HighConfidence, Package: t.Package,
			Description: "The file is both a DEX and a zip: on Android 5.0-8.0 the runtime may load the prefixed DEX while the v1 signature check reads the zip (CVE-2017-13156).",
			Evidence:    []finding.Evidence{{Location: loc, String: "DEX magic at offset 0"}},
			References:  []string{"https://nvd.nist.gov/vuln/detail/CVE-2017-13156"},
		})
	}
	return out
}
