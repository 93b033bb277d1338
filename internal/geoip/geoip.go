// Package geoip attributes IP addresses to a country and an autonomous
// system offline, from the CSV tables of the npm packages
// @ip-location-db/geo-whois-asn-country (country) and @ip-location-db/asn
// (ASN and organisation), which `make deps` installs into
// internal/geoip/data (git-ignored). Nothing is fetched at scan time: when
// the tables are absent, lookups return nothing and Source says so.
package geoip

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Package names and the files read from them.
const (
	countryPackage = "@ip-location-db/geo-whois-asn-country"
	asnPackage     = "@ip-location-db/asn"
	countryV4      = "geo-whois-asn-country-ipv4.csv"
	countryV6      = "geo-whois-asn-country-ipv6.csv"
	asnV4          = "asn-ipv4.csv"
	asnV6          = "asn-ipv6.csv"
	// maxRows bounds a table, so a corrupt or hostile file cannot grow
	// memory without end (the real tables have ~0.4 million IPv4 rows).
	maxRows = 4_000_000
)

// Info is what the tables say about one address.
type Info struct {
	Country string // ISO 3166-1 alpha-2, "" when unknown
	ASN     int    // 0 when unknown
	Org     string // the AS's organisation
}

// DB is the loaded tables. Each table loads on first use.
type DB struct {
	dir string // the node_modules folder holding @ip-location-db

	once4, once6 sync.Once
	v4, v6       tables
	err4, err6   error
}

type tables struct {
	country []span
	asn     []span
}

// span is one inclusive address range with its value.
type span struct {
	lo, hi netip.Addr
	cc     string
	asn    int
	org    string
}

// Open returns a DB over the tables in dir (a node_modules folder), or an
// error when they are absent.
func Open(dir string) (*DB, error) {
	for _, p := range []string{filepath.Join(dir, countryPackage, countryV4), filepath.Join(dir, asnPackage, asnV4)} {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("geoip: open %s: %w", p, err)
		}
	}
	return &DB{dir: dir}, nil
}

// Locate finds the tables: $ROMSCAN_IPDB (a node_modules folder), else
// internal/geoip/data/node_modules above the executable or the working
// directory (a source checkout after `make deps`). It returns "" when none
// is found.
func Locate() string {
	if d := os.Getenv("ROMSCAN_IPDB"); d != "" {
		return d
	}
	var starts []string
	if exe, err := os.Executable(); err == nil {
		starts = append(starts, filepath.Dir(exe))
	}
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	for _, dir := range starts {
		for i := 0; i < 8; i++ {
			c := filepath.Join(dir, "internal", "geoip", "data", "node_modules")
			if _, err := os.Stat(filepath.Join(c, countryPackage, countryV4)); err == nil {
				return c
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return ""
}

var (
	sharedOnce sync.Once
	shared     *DB
	sharedErr  error
)

// Shared returns the DB found by Locate, opened once per process, or nil
// and the reason when there is none.
func Shared() (*DB, error) {
	sharedOnce.Do(func() {
		dir := Locate()
		if dir == "" {
			sharedErr = errors.New("geoip: no offline IP tables (run `make deps`, or set ROMSCAN_IPDB to a node_modules folder holding " + countryPackage + " and " + asnPackage + ")")
			return
		}
		shared, sharedErr = Open(dir)
	})
	return shared, sharedErr
}

// Source describes the data: package names, versions and licences, for the
// report's notes.
func (db *DB) Source() string {
	var parts []string
	for _, p := range []struct{ name, licence string }{
		{countryPackage, "CC BY 4.0 (NRO whois data; package.json says CC0-1.0)"},
		{asnPackage, "CC BY 4.0 (Route Views and DB-IP ASN Lite, attribution to routeviews.org and db-ip.com)"},
	} {
		v := packageVersion(filepath.Join(db.dir, p.name, "package.json"))
		parts = append(parts, fmt.Sprintf("%s %s, data date %s, licence %s", p.name, v, versionDate(v), p.licence))
	}
	return "IP attribution offline from " + strings.Join(parts, "; ")
}

func packageVersion(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return "(unknown version)"
	}
	defer f.Close()
	var pj struct {
		Version string `json:"version"`
	}
	if err := json.NewDecoder(io.LimitReader(f, 1<<20)).Decode(&pj); err != nil || pj.Version == "" {
		return "(unknown version)"
	}
	return pj.Version
}

// versionDate reads the date ip-location-db puts in its versions
// ("2.3.2026061719" → "2026-06-17").
func versionDate(v string) string {
	i := strings.LastIndexByte(v, '.')
	if i < 0 || len(v)-i-1 < 8 {
		return "unknown"
	}
	d := v[i+1 : i+9]
	return d[:4] + "-" + d[4:6] + "-" + d[6:8]
}

// Lookup attributes one address. A table that fails to load is reported
// once through the error; lookups in the other table still work.
func (db *DB) Lookup(ip netip.Addr) (Info, error) {
	if db == nil {
		return Info{}, nil
	}
	ip = ip.Unmap()
	var t *tables
	var err error
	if ip.Is4() {
		db.once4.Do(func() { db.v4, db.err4 = db.load(countryV4, asnV4) })
		t, err = &db.v4, db.err4
	} else {
		db.once6.Do(func() { db.v6, db.err6 = db.load(countryV6, asnV6) })
		t, err = &db.v6, db.err6
	}
	var info Info
	if s := find(t.country, ip); s != nil {
		info.Country = s.cc
	}
	if s := find(t.asn, ip); s != nil {
		info.ASN, info.Org = s.asn, s.org
	}
	return info, err
}

func (db *DB) load(countryFile, asnFile string) (tables, error) {
	var t tables
	var errs []error
	var err error
	t.country, err = readTable(filepath.Join(db.dir, countryPackage, countryFile), false)
	if err != nil {
		errs = append(errs, err)
	}
	t.asn, err = readTable(filepath.Join(db.dir, asnPackage, asnFile), true)
	if err != nil {
		errs = append(errs, err)
	}
	return t, errors.Join(errs...)
}

// readTable reads "start,end,CC" or "start,end,ASN,org" rows, sorted by
// start (the files are; they are sorted again in case).
func readTable(path string, asn bool) ([]span, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("geoip: %w", err)
	}
	defer f.Close()
	return parseTable(f, path, asn)
}

func parseTable(r io.Reader, name string, asn bool) ([]span, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 64*1024)
	want := 3
	if asn {
		want = 4
	}
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
		f := strings.SplitN(text, ",", want)
		if len(f) < want {
			return out, fmt.Errorf("geoip: read %s line %d: %d fields, want %d", name, line, len(f), want)
		}
		lo, err1 := netip.ParseAddr(f[0])
		hi, err2 := netip.ParseAddr(f[1])
		if err1 != nil || err2 != nil || hi.Less(lo) || lo.Is4() != hi.Is4() {
			return out, fmt.Errorf("geoip: read %s line %d: bad range %q-%q", name, line, f[0], f[1])
		}
		s := span{lo: lo, hi: hi}
		if asn {
			n, err := strconv.Atoi(f[2])
			if err != nil || n < 0 {
				return out, fmt.Errorf("geoip: read %s line %d: bad ASN %q", name, line, f[2])
			}
			s.asn, s.org = n, unquote(f[3])
		} else {
			c := strings.ToUpper(strings.TrimSpace(f[2]))
			if v, ok := cc[c]; ok {
				c = v
			} else {
				cc[c] = c
			}
			s.cc = c
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

// unquote reads a CSV field that may be quoted ("IDC, China ..." with ""
// for a quote).
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return strings.ReplaceAll(s[1:len(s)-1], `""`, `"`)
	}
	return s
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
