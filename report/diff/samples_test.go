package diff_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/romscan/romscan/analyzers/list"
	"github.com/romscan/romscan/extract"
	"github.com/romscan/romscan/finding"
	"github.com/romscan/romscan/internal/testutil"
	"github.com/romscan/romscan/report"
	"github.com/romscan/romscan/report/diff"
	"github.com/romscan/romscan/scan"
	"github.com/romscan/romscan/signatures"
)

var (
	sigsOnce sync.Once
	sigs     *signatures.Set
	sigsErr  error
)

func loadSigs(t testing.TB) *signatures.Set {
	t.Helper()
	sigsOnce.Do(func() { sigs, sigsErr = signatures.Load() })
	if sigsErr != nil {
		t.Fatal(sigsErr)
	}
	return sigs
}

// scanPath scans one input, through cache when it is not nil.
func scanPath(t testing.TB, path string, cache *scan.Cache) *report.Report {
	t.Helper()
	cfg := scan.Config{Inputs: []string{path}, Limits: extract.DefaultLimits(), Sigs: loadSigs(t), Analyzers: list.All(), Cache: cache}
	rep, err := scan.Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("scan %s: %v", path, err)
	}
	return rep
}

func compare(t testing.TB, old, new *report.Report) *diff.Delta {
	return diff.Compare(old, new, diff.Options{Permissions: loadSigs(t).Permissions})
}

// structural kinds are fixed by the samples' sources; the others (harvest,
// flow, tracker, finding) grow as analyzers are added.
var structural = map[diff.Kind]bool{
	diff.KindDevice: true, diff.KindApp: true, diff.KindPackage: true, diff.KindVersion: true, diff.KindSigner: true,
	diff.KindPlacement: true, diff.KindLocation: true, diff.KindSharedUserID: true, diff.KindPersistent: true,
	diff.KindPermission: true, diff.KindGrant: true, diff.KindComponent: true, diff.KindEndpoint: true,
}

func describe(c diff.Change) string {
	s := fmt.Sprintf("%s %s", c.Kind, c.Op)
	if c.Field != "" {
		s += " " + c.Field
	}
	if c.Package != "" {
		s += " " + c.Package
	}
	switch c.Op {
	case diff.Added:
		s += ": " + c.New
	case diff.Removed:
		s += ": " + c.Old
	default:
		s += ": " + c.Old + " -> " + c.New
	}
	return s
}

const (
	releaseCert = "2ac65e36a90ccb5f1404ad54cd56eaaf901edcf78c31f71acbb19c643d269ba4"
	otherCert   = "631772f4639628b33e91e7de044a0197b346b17a0c8d8e783e02a4b327c83d3d"
	fpV1        = "Example/example_phone/example:13/TQ3A.230901.001/1:user/test-keys"
	fpV2        = "Example/example_phone/example:13/TQ3A.231001.001/2:user/test-keys"
)

// wantV1V2 is samples/README.md's "expected diff v1 → v2", change by change.
var wantV1V2 = []string{
	"app added com.example.weather: com.example.weather 1 (1.0)",
	"app removed com.example.tracker: com.example.tracker 1 (1.0)",
	"device changed fingerprint: " + fpV1 + " -> " + fpV2,
	"device changed security_patch: 2023-09-05 -> 2023-10-05",
	"endpoint added com.example.notes: https://notes-sync.example-cloud.cn/v2",
	"permission added com.example.notes: android.permission.READ_CONTACTS",
	"placement changed com.example.flowcases: system/app -> system/priv-app",
	"signer changed com.example.harvester: " + releaseCert + " -> " + otherCert,
	"version changed com.example.notes: 1 (1.0) -> 2 (2.0)",
}

// inverse is what the reverse diff must say for a change.
func inverse(c diff.Change) diff.Change {
	switch c.Op {
	case diff.Added:
		c.Op = diff.Removed
	case diff.Removed:
		c.Op = diff.Added
	}
	c.Old, c.New = c.New, c.Old
	return c
}

// checkV1V2 checks a v1 → v2 delta where each app is found forms times.
func checkV1V2(t *testing.T, d *diff.Delta, forms int) {
	t.Helper()
	counts := map[string]int{}
	for _, c := range d.Changes {
		if structural[c.Kind] {
			counts[describe(c)]++
		}
	}
	var got []string
	for k, n := range counts {
		want := forms
		if strings.HasPrefix(k, "device ") {
			want = 1
		}
		if n != want {
			t.Errorf("%q found %d times, want %d (once per ROM form)", k, n, want)
		}
		got = append(got, k)
	}
	sort.Strings(got)
	if diff := cmp.Diff(wantV1V2, got); diff != "" {
		t.Errorf("structural changes (-want +got):\n%s", diff)
	}
	// Code-derived changes: only in the apps whose code changed, and at
	// least what the samples README promises.
	changedCode := map[string]bool{"com.example.notes": true, "com.example.weather": true, "com.example.tracker": true}
	seen := map[string]bool{}
	for _, c := range d.Changes {
		if structural[c.Kind] {
			continue
		}
		if !changedCode[c.Package] {
			t.Errorf("unexpected change in an app whose code did not change: %s", describe(c))
		}
		if c.Kind == diff.KindFinding {
			seen[fmt.Sprintf("finding %s %s %s", c.Op, c.Package, c.Finding.RuleID)] = true
		} else {
			seen[describe(c)] = true
		}
	}
	for _, w := range []string{
		"harvest added com.example.notes: harvest.device-id",
		"finding added com.example.notes harvest.device-id",
		"finding added com.example.notes endpoint.url",
		"finding added com.example.notes manifest.dangerous-permission",
		"finding added com.example.weather endpoint.url",
		"finding removed com.example.tracker endpoint.url",
		"finding removed com.example.tracker endpoint.host",
	} {
		if !seen[w] {
			t.Errorf("missing change %q", w)
		}
	}
	// The worst change comes first: the new high finding of Notes or the
	// re-signed harvester, never a version bump.
	if len(d.Changes) == 0 || d.Changes[0].Severity < finding.High {
		t.Errorf("first change is not high: %+v", d.Changes[0])
	}
	s := d.Summary
	if s.AppsAdded != forms || s.AppsRemoved != forms || s.AppsChanged != 3*forms || s.AppsUnchanged != 3*forms {
		t.Errorf("summary %+v, want %d added, %d removed, %d changed, %d unchanged", s, forms, forms, 3*forms, 3*forms)
	}
	if max, ok := d.MaxNewSeverity(); !ok || max.String() != "high" {
		t.Errorf("max new severity %v %v, want high", max, ok)
	}
}

// checkInverse checks that the reverse delta says the inverse of every
// change (locations aside: a change names the app's location on its NEW
// side, which differs for a moved app).
func checkInverse(t *testing.T, fwd, rev *diff.Delta) {
	t.Helper()
	var want, got []string
	for _, c := range fwd.Changes {
		want = append(want, describe(inverse(c))+fp(c))
	}
	for _, c := range rev.Changes {
		got = append(got, describe(c)+fp(c))
	}
	sort.Strings(want)
	sort.Strings(got)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("reverse delta is not the inverse (-want +got):\n%s", d)
	}
}

func fp(c diff.Change) string {
	if c.Finding != nil {
		return "#" + c.Finding.Fingerprint
	}
	return "#"
}

func TestSamplesV1V2(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and scans the sample ROMs")
	}
	dir := testutil.Samples(t)
	cases := []struct {
		name     string
		old, new string
		forms    int
	}{
		{"ext4", "rom-v1/system.img", "rom-v2/system.img", 1},
		{"folder", "rom-v1/system", "rom-v2/system", 1},
		{"erofs", "rom-v1/system.erofs", "rom-v2/system.erofs", 1},
		{"every-form", "rom-v1", "rom-v2", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cache, err := scan.NewCache(scan.CacheOptions{})
			if err != nil {
				t.Fatal(err)
			}
			old := scanPath(t, filepath.Join(dir, tc.old), cache)
			new := scanPath(t, filepath.Join(dir, tc.new), cache)
			forms := tc.forms
			if forms == 0 {
				for _, a := range old.Apps {
					if a.Package == "android" {
						forms++
					}
				}
				if forms < 5 {
					t.Fatalf("only %d ROM forms found in %s", forms, tc.old)
				}
			}
			fwd := compare(t, old, new)
			checkV1V2(t, fwd, forms)
			rev := compare(t, new, old)
			checkInverse(t, fwd, rev)
			if self := compare(t, old, old); !self.Empty() {
				t.Errorf("a ROM compared with itself has %d changes, first %s", len(self.Changes), describe(self.Changes[0]))
			}
		})
	}
}
