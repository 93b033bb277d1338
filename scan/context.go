package scan

import (
	"encoding/xml"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/romscan/romscan/extract"
	"github.com/romscan/romscan/finding"
	"github.com/romscan/romscan/report"
	"github.com/romscan/romscan/signatures"
)

// grants are permissions a firmware gives apps without asking the user:
// privileged permissions allowed in etc/permissions/privapp-permissions*.xml,
// and runtime permissions pre-granted in etc/default-permissions/*.xml.
type grants struct {
	privileged map[string][]string // package → permissions
	defaults   map[string][]string
}

// isGrantFile says whether a firmware file lists permission grants.
func isGrantFile(loc string) (privileged, defaults bool) {
	p := strings.ToLower(loc)
	base := path.Base(p)
	if !strings.HasSuffix(base, ".xml") {
		return false, false
	}
	return strings.Contains(p, "/etc/permissions/") && strings.HasPrefix(base, "privapp-permissions"),
		strings.Contains(p, "/etc/default-permissions/")
}

// parseGrants reads both grant file formats: <privapp-permissions
// package=".."><permission name=".."/> and <exception package=".."><permission
// name=".." fixed=".."/>.
func parseGrants(r io.ReaderAt, size int64) (map[string][]string, error) {
	const max = 8 * extract.MiB
	dec := xml.NewDecoder(io.NewSectionReader(r, 0, min(size, max)))
	dec.Strict = false
	out := map[string][]string{}
	pkg := ""
	for n := 0; n < 1_000_000; n++ {
		tok, err := dec.Token()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("permissions xml: %w: %w", err, extract.ErrCorrupt)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			switch el.Name.Local {
			case "privapp-permissions", "exception":
				pkg = attr(el, "package")
			case "permission":
				if pkg != "" {
					if name := attr(el, "name"); name != "" {
						out[pkg] = append(out[pkg], name)
					}
				}
			}
		case xml.EndElement:
			if el.Name.Local == "privapp-permissions" || el.Name.Local == "exception" {
				pkg = ""
			}
		}
	}
	return out, fmt.Errorf("permissions xml: too many elements: %w", extract.ErrLimit)
}

func attr(el xml.StartElement, name string) string {
	for _, a := range el.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// contextFindings reports what the firmware grants each app and builds that
// no app scanner sees: default grants of dangerous permissions (the user is
// never asked), privileged grants, platform signing, test-keys builds.
func contextFindings(sigs *signatures.Set, g grants, apps []*result, dev *report.Device, platformCert string) []finding.Finding {
	var out []finding.Finding
	for _, res := range apps {
		a := res.app
		if a.Package == "" {
			continue
		}
		loc := res.loc
		for _, p := range uniqSorted(g.defaults[a.Package]) {
			c, dangerous := sigs.Permissions.Dangerous[p]
			if !dangerous {
				continue
			}
			sev := finding.Medium
			if c.Sev < finding.Low {
				sev = finding.Low
			}
			res.findings = append(res.findings, finding.Finding{
				RuleID: "context.default-grant", Title: "Firmware pre-grants " + shortPerm(p) + " (the user is never asked)",
				Category: "privilege", Severity: sev, Confidence: finding.HighConfidence, Package: a.Package,
				Description: "The firmware's default-permissions files grant this runtime permission at first boot, so the app holds it without a prompt.",
				Evidence:    []finding.Evidence{{Location: loc, String: p, Note: "etc/default-permissions"}},
				References:  []string{"https://source.android.com/docs/core/permissions/runtime_perms"},
			})
		}
		for _, p := range uniqSorted(g.privileged[a.Package]) {
			sev := finding.Low
			if c, ok := sigs.Permissions.Privileged[p]; ok && c.Sev > sev {
				sev = c.Sev
			}
			res.findings = append(res.findings, finding.Finding{
				RuleID: "context.privileged-grant", Title: "Firmware grants privileged permission " + shortPerm(p),
				Category: "privilege", Severity: sev, Confidence: finding.HighConfidence, Package: a.Package,
				Description: "An etc/permissions/privapp-permissions file allows this privileged app the permission.",
				Evidence:    []finding.Evidence{{Location: loc, String: p, Note: "etc/permissions/privapp-permissions"}},
				References:  []string{"https://source.android.com/docs/core/permissions/perms-allowlist"},
			})
		}
		if platformCert != "" && res.signer == platformCert && a.Package != "android" {
			res.findings = append(res.findings, finding.Finding{
				RuleID: "context.platform-signed", Title: "Signed with the platform key",
				Category: "privilege", Severity: finding.Low, Confidence: finding.HighConfidence, Package: a.Package,
				Description: "The app shares the key of framework-res.apk: it can hold signature permissions and run as android.uid.system.",
				Evidence:    []finding.Evidence{{Location: loc, String: platformCert}},
				References:  []string{"https://source.android.com/docs/security/features/apksigning"},
			})
		}
	}
	if dev != nil && strings.Contains(dev.BuildTags, "test-keys") {
		out = append(out, finding.Finding{
			RuleID: "device.test-keys", Title: "Firmware is signed with public test keys",
			Category: "device", Severity: finding.High, Confidence: finding.HighConfidence,
			Description: "ro.build.tags=test-keys: the platform key is AOSP's public test key, so anyone can sign apps that run as system.",
			Evidence:    []finding.Evidence{{Location: strings.Join(dev.Sources, ", "), String: "ro.build.tags=" + dev.BuildTags}},
			References:  []string{"https://source.android.com/docs/core/ota/sign_builds"},
		})
	}
	return out
}

func shortPerm(p string) string { return strings.TrimPrefix(p, "android.permission.") }

func uniqSorted(s []string) []string {
	s = append([]string{}, s...)
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// signerClusters groups apps by signing certificate, largest group first.
func signerClusters(apps []report.App) []report.SignerCluster {
	by := map[string][]string{}
	for _, a := range apps {
		if len(a.Signers) == 0 || a.Package == "" {
			continue
		}
		by[a.Signers[0].SHA256] = append(by[a.Signers[0].SHA256], a.Package)
	}
	var out []report.SignerCluster
	for cert, pkgs := range by {
		out = append(out, report.SignerCluster{SHA256: cert, Packages: uniqSorted(pkgs)})
	}
	sort.Slice(out, func(i, j int) bool {
		if len(out[i].Packages) != len(out[j].Packages) {
			return len(out[i].Packages) > len(out[j].Packages)
		}
		return out[i].SHA256 < out[j].SHA256
	})
	return out
}
