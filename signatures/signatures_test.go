package signatures

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestEmbeddedCatalogueLoads(t *testing.T) {
	s, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(s.APIs.Entries) < 20 {
		t.Errorf("only %d API entries", len(s.APIs.Entries))
	}
	if s.Version == "" {
		t.Error("no bundle version")
	}
}

// TestAPIExamples runs every catalogue entry's own examples.
func TestAPIExamples(t *testing.T) {
	s, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range s.APIs.Entries {
		t.Run(e.ID, func(t *testing.T) {
			if len(e.Examples.Match) == 0 {
				t.Fatalf("entry %s has no match examples", e.ID)
			}
			for _, m := range e.Examples.Match {
				if got := s.APIs.Match(m); got != e {
					gotID := "<nil>"
					if got != nil {
						gotID = got.ID
					}
					t.Errorf("%q matched %s, want %s", m, gotID, e.ID)
				}
			}
			for _, m := range e.Examples.NoMatch {
				if got := s.APIs.Match(m); got == e {
					t.Errorf("%q matched %s, want no match", m, e.ID)
				}
			}
		})
	}
}

func TestEndpointExamples(t *testing.T) {
	s, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	host := func(u string) string {
		if i := strings.Index(u, "://"); i >= 0 {
			u = u[i+3:]
		}
		if i := strings.IndexAny(u, "/:"); i >= 0 {
			u = u[:i]
		}
		return u
	}
	for _, e := range s.Endpoints.Examples.Endpoint {
		if s.Endpoints.IgnoreURL(e) || s.Endpoints.IgnoreHost(host(e)) {
			t.Errorf("%q is filtered, want kept", e)
		}
	}
	for _, e := range s.Endpoints.Examples.Ignored {
		if !s.Endpoints.IgnoreURL(e) && !s.Endpoints.IgnoreHost(host(e)) {
			t.Errorf("%q is kept, want filtered", e)
		}
	}
}

func TestBadCataloguesFailClearly(t *testing.T) {
	good := func(name string) []byte {
		b, err := embedded.ReadFile("catalog/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name, file, content, want string
	}{
		{"bad-cidr", "endpoints.yaml", "version: 1\nignore_ips: [300.1.2.0/24]\n", "bad CIDR"},
		{"bad-kind", "apis.yaml", "version: 1\nentries:\n- {id: x, kind: thing, severity: low, confidence: low, title: t, references: [r]}\n", "not source, sink or marker"},
		{"bad-severity", "apis.yaml", "version: 1\nentries:\n- {id: x, kind: source, severity: huge, confidence: low, title: t, references: [r]}\n", "unknown severity"},
		{"bad-method", "apis.yaml", "version: 1\nentries:\n- {id: x, kind: source, severity: low, confidence: low, title: t, references: [r], methods: [getDeviceId]}\n", "not of the form"},
		{"unknown-field", "weights.yaml", "version: 1\nseverty: {}\n", "field severty not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for _, n := range []string{"apis.yaml", "endpoints.yaml", "permissions.yaml", "weights.yaml"} {
				fsys["catalog/"+n] = &fstest.MapFile{Data: good(n)}
			}
			fsys["catalog/"+tt.file] = &fstest.MapFile{Data: []byte(tt.content)}
			_, err := LoadFS(fsys)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

// TestMethodPartsAgreesWithMethod checks the split lookup finds exactly what
// the joined "Lclass;->name" lookup finds.
func TestMethodPartsAgreesWithMethod(t *testing.T) {
	s, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	a := s.APIs
	n := 0
	for _, e := range a.Entries {
		for _, m := range e.Methods {
			class, name, _ := strings.Cut(m, "->")
			if got := a.MethodParts(class, name); got != e {
				t.Errorf("MethodParts(%q, %q) = %v, want %s", class, name, got, e.ID)
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("no catalogued method")
	}
	tests := []struct{ class, name string }{
		{"Landroid/telephony/TelephonyManager;", "noSuchMethod"},
		{"Lno/Such;", "getDeviceId"},
		{"", ""},
		{"Landroid/telephony/TelephonyManager;->getDeviceId", ""},
		{"Landroid/telephony", "TelephonyManager;->getDeviceId"},
	}
	for _, tt := range tests {
		if got, want := a.MethodParts(tt.class, tt.name), a.Method(tt.class+"->"+tt.name); got != want {
			t.Errorf("MethodParts(%q, %q) = %v, Method = %v", tt.class, tt.name, got, want)
		}
	}
}
