package extract

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLimitsWithDefaults(t *testing.T) {
	d := DefaultLimits()
	custom := Limits{MaxDepth: 3, MaxEntries: 10, MaxFileSize: MiB, MaxTotalBytes: GiB, MaxRatio: 50, MaxSpillBytes: 2 * MiB}
	cases := []struct {
		name     string
		in, want Limits
	}{
		{"zero-is-default", Limits{}, d},
		{"negative-is-default", Limits{MaxDepth: -1, MaxFileSize: -5, MaxRatio: -1}, d},
		{"set-fields-kept", custom, custom},
		{"mixed", Limits{MaxFileSize: MiB}, func() Limits { l := d; l.MaxFileSize = MiB; return l }()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.in.WithDefaults()); diff != "" {
				t.Errorf("WithDefaults (-want +got):\n%s", diff)
			}
		})
	}
}
