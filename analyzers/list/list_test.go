package list

import "testing"

func TestNamesUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, a := range All() {
		if a.Name() == "" || a.Version() == "" || len(a.Kinds()) == 0 {
			t.Errorf("analyzer %T lacks a name, version or kinds", a)
		}
		if seen[a.Name()] {
			t.Errorf("analyzer name %q used twice", a.Name())
		}
		seen[a.Name()] = true
	}
}
