package geoip

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// maxRows bounds a table read whole (the real tables have ~0.4 million IPv4 rows).
const maxRows = 4_000_000

// parseTable reads a whole table into memory: the reference the in-file
// search is checked against, and the validation the fuzz target drives.
func parseTable(r io.Reader, name string, asn bool) ([]span, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 64*1024)
	var out []span
	cc := map[string]string{} // interned country codes
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if text == "" {
			continue
		}
		if len(out) >= maxRows {
			return out, fmt.Errorf("geoip: read %s: more than %d rows", name, maxRows)
		}
		s, err := parseLine(text, asn)
		if err != nil {
			return out, fmt.Errorf("geoip: read %s line %d: %w", name, line, err)
		}
		if !asn {
			if v, ok := cc[s.cc]; ok {
				s.cc = v
			} else {
				cc[s.cc] = s.cc
			}
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("geoip: read %s: %w", name, err)
	}
	if !sort.SliceIsSorted(out, func(i, j int) bool { return out[i].lo.Less(out[j].lo) }) {
		sort.Slice(out, func(i, j int) bool { return out[i].lo.Less(out[j].lo) })
	}
	return out, nil
}

// find returns the span holding ip, by binary search on the starts.
func find(spans []span, ip netip.Addr) *span {
	i := sort.Search(len(spans), func(i int) bool { return ip.Less(spans[i].lo) }) - 1
	if i < 0 {
		return nil
	}
	if s := &spans[i]; !s.hi.Less(ip) {
		return s
	}
	return nil
}

// TestFileSearchMatchesTable checks the in-file binary search against the
// whole table read into memory, for addresses at and around every range
// edge of a sample of rows.
func TestFileSearchMatchesTable(t *testing.T) {
	dir := Locate()
	if dir == "" {
		t.Skip("IP tables absent (make deps installs them): skipping")
	}
	for _, tc := range []struct {
		pkg, file string
		asn       bool
	}{{countryPackage, countryV4, false}, {asnPackage, asnV4, true}} {
		path := filepath.Join(dir, tc.pkg, tc.file)
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		spans, err := parseTable(f, tc.file, tc.asn)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		ft, err := openTable(path, tc.asn)
		if err != nil {
			t.Fatal(err)
		}
		step := max(1, len(spans)/2000)
		for i := 0; i < len(spans); i += step {
			for _, ip := range []netip.Addr{spans[i].lo, spans[i].hi, spans[i].lo.Prev(), spans[i].hi.Next()} {
				if !ip.IsValid() {
					continue
				}
				want := find(spans, ip)
				got, ok := ft.find(ip)
				if (want != nil) != ok || (ok && (got.lo != want.lo || got.cc != want.cc || got.asn != want.asn || got.org != want.org)) {
					t.Fatalf("%s: %s: file search %+v (%v), table %+v", tc.file, ip, got, ok, want)
				}
			}
		}
	}
}
