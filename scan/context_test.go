package scan

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/romscan/romscan/extract"
)

func TestParseGrants(t *testing.T) {
	cases := []struct {
		name    string
		xml     string
		want    map[string][]string
		wantErr error
	}{
		{"privapp", `<permissions><privapp-permissions package="a.b"><permission name="android.permission.READ_SMS"/></privapp-permissions></permissions>`,
			map[string][]string{"a.b": {"android.permission.READ_SMS"}}, nil},
		{"default-grants", `<exceptions><exception package="c.d"><permission name="android.permission.READ_CONTACTS" fixed="false"/></exception></exceptions>`,
			map[string][]string{"c.d": {"android.permission.READ_CONTACTS"}}, nil},
		{"broken-xml-is-corrupt", `<permissions><privapp-permissions package="a.b"><permission name="x"/></privapp-permissions><<`,
			map[string][]string{"a.b": {"x"}}, extract.ErrCorrupt},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := strings.NewReader(tc.xml)
			got, err := parseGrants(r, int64(r.Len()))
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("grants (-want +got):\n%s", d)
			}
		})
	}
}
