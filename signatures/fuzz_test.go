package signatures

import (
	"bytes"
	"testing"
	"testing/fstest"
)

// FuzzMerge loads arbitrary bytes as each user catalogue: errors are fine,
// panics are not. Seeds are in testdata/fuzz/FuzzMerge.
func FuzzMerge(f *testing.F) {
	base, err := Load()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, name := range []string{"catalog/trackers.yaml", "catalog/telemetry.yaml", "catalog/watchlists.yaml", "config.yaml"} {
			s := *base
			s.Catalogue = Catalogue{}
			s.ids = nil
			s.disabled = nil
			if err := s.Merge(fstest.MapFS{name: {Data: data}}, "fuzz"); err == nil {
				s.RunExamples()
			}
		}
	})
}

// FuzzImportExodus converts arbitrary JSON: errors are fine, panics are not.
func FuzzImportExodus(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		ImportExodus(bytes.NewReader(data))
	})
}
