package diff_test

import (
	"bufio"
	"fmt"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/romscan/romscan/internal/testutil"
	"github.com/romscan/romscan/report/diff"
)

// toolFacts is what Debian's aapt and apksigner say about an APK.
type toolFacts struct {
	version     string   // "versionCode (versionName)"
	permissions []string // declared uses-permission
	exported    []string // "kind:class" of exported components
	signers     string   // certificate SHA-256 digests, sorted, ", "-joined
}

func needTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("%s not installed (Debian package %s): cannot get the expected changes", name, map[string]string{"aapt": "aapt", "apksigner": "apksigner"}[name])
	}
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return string(out)
}

var (
	badgingPkg = regexp.MustCompile(`^package: name='([^']*)' versionCode='([^']*)' versionName='([^']*)'`)
	xmlElem    = regexp.MustCompile(`^(\s*)E: ([^ ]+)`)
	xmlAttr    = regexp.MustCompile(`^(\s*)A: (?:android:)?([A-Za-z]+)(?:\(0x[0-9a-f]+\))?=(.*)$`)
	xmlString  = regexp.MustCompile(`^"(.*)" \(Raw`)
	certLine   = regexp.MustCompile(`certificate SHA-256 digest: ([0-9a-f]{64})`)
)

// facts runs aapt dump badging, aapt dump xmltree and apksigner on apk.
func facts(t *testing.T, apk string) toolFacts {
	t.Helper()
	var f toolFacts
	for _, line := range strings.Split(run(t, "aapt", "dump", "badging", apk), "\n") {
		if m := badgingPkg.FindStringSubmatch(line); m != nil {
			f.version = m[2]
			if m[3] != "" {
				f.version += " (" + m[3] + ")"
			}
		}
	}
	f.permissions, f.exported = manifestFacts(run(t, "aapt", "dump", "xmltree", apk, "AndroidManifest.xml"))
	var certs []string
	for _, m := range certLine.FindAllStringSubmatch(run(t, "apksigner", "verify", "--print-certs", apk), -1) {
		certs = append(certs, m[1])
	}
	sort.Strings(certs)
	f.signers = strings.Join(certs, ", ")
	return f
}

// manifestFacts reads aapt's xmltree: declared permissions, and components
// exported explicitly or, without android:exported, by an intent filter
// below targetSdk 31 (providers: below 17), as Android decides.
func manifestFacts(tree string) (perms, exported []string) {
	type elem struct {
		depth    int
		name     string
		attrs    map[string]string
		children []*elem
		parent   *elem
	}
	root := &elem{depth: -1, attrs: map[string]string{}}
	cur := root
	sc := bufio.NewScanner(strings.NewReader(tree))
	for sc.Scan() {
		line := sc.Text()
		if m := xmlElem.FindStringSubmatch(line); m != nil {
			d := len(m[1])
			for cur != root && cur.depth >= d {
				cur = cur.parent
			}
			e := &elem{depth: d, name: m[2], attrs: map[string]string{}, parent: cur}
			cur.children = append(cur.children, e)
			cur = e
			continue
		}
		if m := xmlAttr.FindStringSubmatch(line); m != nil {
			v := m[3]
			if s := xmlString.FindStringSubmatch(v); s != nil {
				v = s[1]
			} else if i := strings.Index(v, ")0x"); strings.HasPrefix(v, "(type ") && i >= 0 {
				n, _ := strconv.ParseUint(v[i+3:], 16, 32)
				v = strconv.FormatUint(n, 10)
			}
			cur.attrs[m[2]] = v
		}
	}
	var manifest *elem
	for _, c := range root.children {
		if c.name == "manifest" {
			manifest = c
		}
	}
	if manifest == nil {
		return nil, nil
	}
	pkg := manifest.attrs["package"]
	target := 1
	for _, c := range manifest.children {
		switch c.name {
		case "uses-permission":
			perms = append(perms, c.attrs["name"])
		case "uses-sdk":
			if v, err := strconv.Atoi(c.attrs["targetSdkVersion"]); err == nil {
				target = v
			} else if v, err := strconv.Atoi(c.attrs["minSdkVersion"]); err == nil {
				target = v
			}
		}
	}
	for _, app := range manifest.children {
		if app.name != "application" {
			continue
		}
		for _, c := range app.children {
			switch c.name {
			case "activity", "activity-alias", "service", "receiver", "provider":
			default:
				continue
			}
			exp := false
			if v, ok := c.attrs["exported"]; ok {
				exp = v != "0"
			} else if c.name == "provider" {
				exp = target < 17
			} else {
				for _, f := range c.children {
					if f.name == "intent-filter" {
						exp = target < 31
					}
				}
			}
			if exp {
				name := c.attrs["name"]
				if strings.HasPrefix(name, ".") {
					name = pkg + name
				} else if !strings.Contains(name, ".") {
					name = pkg + "." + name
				}
				exported = append(exported, c.name+":"+name)
			}
		}
	}
	return perms, exported
}

// expectedChanges lists, in describe()'s words, the version, permission,
// component and signer changes between two APKs' tool facts.
func expectedChanges(pkg string, o, n toolFacts) []string {
	var out []string
	if o.version != n.version {
		out = append(out, fmt.Sprintf("version changed %s: %s -> %s", pkg, o.version, n.version))
	}
	if o.signers != n.signers {
		out = append(out, fmt.Sprintf("signer changed %s: %s -> %s", pkg, o.signers, n.signers))
	}
	sets := []struct {
		kind string
		o, n []string
	}{{"permission", o.permissions, n.permissions}, {"exported-component", o.exported, n.exported}}
	for _, s := range sets {
		om, nm := map[string]bool{}, map[string]bool{}
		for _, v := range s.o {
			om[v] = true
		}
		for _, v := range s.n {
			nm[v] = true
		}
		for v := range nm {
			if !om[v] {
				out = append(out, fmt.Sprintf("%s added %s: %s", s.kind, pkg, v))
			}
		}
		for v := range om {
			if !nm[v] {
				out = append(out, fmt.Sprintf("%s removed %s: %s", s.kind, pkg, v))
			}
		}
	}
	sort.Strings(out)
	return out
}

func TestCorpusAPKPairs(t *testing.T) {
	needTool(t, "aapt")
	needTool(t, "apksigner")
	const mm = "apks/fdroidserver/org.bitbucket.tickytacky.mirrormirror_"
	pairs := []struct {
		name, old, new string
		wantAny        bool // the tools must see at least one change
	}{
		{"mirrormirror-1-2", mm + "1.apk", mm + "2.apk", true},
		{"mirrormirror-2-3", mm + "2.apk", mm + "3.apk", true},
		{"mirrormirror-3-4", mm + "3.apk", mm + "4.apk", true},
		{"mirrormirror-1-4", mm + "1.apk", mm + "4.apk", true},
		{"politedroid-3-6", "apks/fdroidserver/repo/com.politedroid_3.apk", "apks/fdroidserver/repo/com.politedroid_6.apk", true},
		{"obb-resigned", "apks/fdroidserver/repo/obb.mainpatch.current_1619.apk", "apks/fdroidserver/repo/obb.mainpatch.current_1619_another-release-key.apk", true},
	}
	checked := map[diff.Kind]bool{diff.KindVersion: true, diff.KindSigner: true, diff.KindPermission: true, diff.KindComponent: true}
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			oldPath, newPath := testutil.Corpus(t, p.old), testutil.Corpus(t, p.new)
			old, new := scanPath(t, oldPath, nil), scanPath(t, newPath, nil)
			if len(old.Apps) != 1 || len(new.Apps) != 1 {
				t.Fatalf("want one app per side, got %d and %d", len(old.Apps), len(new.Apps))
			}
			pkg := new.Apps[0].Package
			want := expectedChanges(pkg, facts(t, oldPath), facts(t, newPath))
			if p.wantAny && len(want) == 0 {
				t.Fatalf("the tools see no change between %s and %s", p.old, p.new)
			}
			check := func(d *diff.Delta, want []string) {
				t.Helper()
				var got []string
				for _, c := range d.Changes {
					if checked[c.Kind] {
						got = append(got, describe(c))
					}
					if c.Kind == diff.KindApp {
						t.Errorf("the app was not matched: %s", describe(c))
					}
				}
				sort.Strings(got)
				if d := cmp.Diff(want, got); d != "" {
					t.Errorf("changes (-aapt/apksigner +romscan):\n%s", d)
				}
			}
			check(compare(t, old, new), want)
			check(compare(t, new, old), expectedChanges(pkg, facts(t, newPath), facts(t, oldPath)))
			if self := compare(t, old, old); !self.Empty() {
				t.Errorf("an APK compared with itself has changes: %s", describe(self.Changes[0]))
			}
		})
	}
}
