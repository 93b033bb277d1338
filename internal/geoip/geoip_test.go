package geoip

import (
	"bytes"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func sharedOrSkip(t testing.TB) *DB {
	t.Helper()
	db, err := Shared()
	if err != nil {
		t.Skipf("offline IP tables absent (`make deps` installs them): %v", err)
	}
	return db
}

// TestKnownAddresses checks the range the sample apps use: every offline
// database we checked puts 42.62.48.0/24 in China, AS23724.
func TestKnownAddresses(t *testing.T) {
	db := sharedOrSkip(t)
	tests := []struct {
		ip          string
		wantCountry string
		wantASN     int
	}{
		{"42.62.48.10", "CN", 23724},
		{"42.62.48.20", "CN", 23724},
		{"::ffff:42.62.48.10", "CN", 23724},
		{"1.1.1.1", "", 13335}, // anycast: the country table may leave it out
		{"10.0.0.1", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.ip, func(t *testing.T) {
			got, err := db.Lookup(netip.MustParseAddr(tt.ip))
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantCountry != "" && got.Country != tt.wantCountry {
				t.Errorf("country = %q, want %q", got.Country, tt.wantCountry)
			}
			if got.ASN != tt.wantASN {
				t.Errorf("ASN = %d, want %d", got.ASN, tt.wantASN)
			}
		})
	}
	if s := db.Source(); !strings.Contains(s, "@ip-location-db/asn") || !strings.Contains(s, "licence") {
		t.Errorf("Source() = %q", s)
	}
}

func TestParseTable(t *testing.T) {
	in := "1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n42.62.0.0,42.62.127.255,23724,\"IDC, China Telecommunications Corporation\"\n"
	spans, err := parseTable(strings.NewReader(in), "x", true)
	if err != nil {
		t.Fatal(err)
	}
	s := find(spans, netip.MustParseAddr("42.62.48.10"))
	if s == nil {
		t.Fatal("no span")
	}
	if diff := cmp.Diff("23724 IDC, China Telecommunications Corporation", strconv.Itoa(s.asn)+" "+s.org); diff != "" {
		t.Error(diff)
	}
	if find(spans, netip.MustParseAddr("42.62.128.1")) != nil || find(spans, netip.MustParseAddr("0.0.0.1")) != nil {
		t.Error("address outside every range found")
	}
}

func TestBadTables(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"bad-range", "1.0.0.x,1.0.0.255,AU\n", "bad range"},
		{"reversed", "1.0.0.9,1.0.0.1,AU\n", "bad range"},
		{"short", "1.0.0.0,1.0.0.255\n", "fields"},
		{"binary", "\x00\x01\x02\xff\xfe", "fields"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseTable(strings.NewReader(tt.in), "x.csv", false)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func BenchmarkLookup(b *testing.B) {
	db := sharedOrSkip(b)
	ip := netip.MustParseAddr("42.62.48.10")
	db.Lookup(ip) // load outside the loop
	for b.Loop() {
		db.Lookup(ip)
	}
}

// FuzzParseTable reads arbitrary bytes as both table kinds; every span kept
// must be a valid range.
func FuzzParseTable(f *testing.F) {
	f.Add([]byte("1.0.0.0,1.0.0.255,AU\n42.62.0.0,42.62.175.255,CN\n"))
	f.Add([]byte("42.62.0.0,42.62.127.255,23724,\"IDC, China Telecommunications Corporation\"\n"))
	f.Add([]byte("2001:200::,2001:200:ffff:ffff:ffff:ffff:ffff:ffff,JP\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, asn := range []bool{false, true} {
			spans, _ := parseTable(bytes.NewReader(data), "fuzz", asn)
			for _, s := range spans {
				if s.hi.Less(s.lo) {
					t.Fatalf("reversed span %v-%v", s.lo, s.hi)
				}
				find(spans, s.lo)
			}
		}
	})
}
