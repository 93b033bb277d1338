// Package geoip attributes IP addresses to a country and an autonomous
// system offline, from the CSV tables of the npm packages
// @ip-location-db/geo-whois-asn-country (country) and @ip-location-db/asn
// (ASN and organisation), which `make deps` installs into
// internal/geoip/data (git-ignored). Nothing is fetched at scan time: when
// the tables are absent, lookups return nothing and Source says so.
package geoip

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
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
)

// Info is what the tables say about one address.
type Info struct {
	Country string // ISO 3166-1 alpha-2, "" when unknown
	ASN     int    // 0 when unknown
	Org     string // the AS's organisation
}

// DB answers lookups from the sorted CSV tables by binary search in the
// files themselves: nothing is loaded, so a scan pays a few small reads per
// address instead of parsing and holding half a million rows.
type DB struct {
	dir string // the node_modules folder holding @ip-location-db

	once4, once6 sync.Once
	v4, v6       tables
	err4, err6   error
}

type tables struct {
	country, asn *fileTable
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
	if s, ok := t.country.find(ip); ok {
		info.Country = s.cc
	}
	if s, ok := t.asn.find(ip); ok {
		info.ASN, info.Org = s.asn, s.org
	}
	return info, err
}

func (db *DB) load(countryFile, asnFile string) (tables, error) {
	var t tables
	var errs []error
	var err error
	if t.country, err = openTable(filepath.Join(db.dir, countryPackage, countryFile), false); err != nil {
		errs = append(errs, err)
	}
	if t.asn, err = openTable(filepath.Join(db.dir, asnPackage, asnFile), true); err != nil {
		errs = append(errs, err)
	}
	return t, errors.Join(errs...)
}

// fileTable is one sorted CSV table, searched in place.
type fileTable struct {
	f    *os.File
	size int64
	asn  bool
}

func openTable(path string, asn bool) (*fileTable, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("geoip: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("geoip: %w", err)
	}
	return &fileTable{f: f, size: st.Size(), asn: asn}, nil
}

// maxLine bounds one table row; longer rows are not read.
const maxLine = 1024

// lineAt returns the line starting at off (without its newline).
func (t *fileTable) lineAt(off int64) (string, bool) {
	var buf [maxLine]byte
	n, _ := t.f.ReadAt(buf[:], off)
	b := buf[:n]
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return strings.TrimSuffix(string(b[:i]), "\r"), true
	}
	if off+int64(n) == t.size && n > 0 {
		return string(b), true // the last line, without a newline
	}
	return "", false
}

// lineStart returns the offset of the first line starting at or after off.
func (t *fileTable) lineStart(off int64) int64 {
	if off == 0 {
		return 0
	}
	var buf [maxLine]byte
	for off < t.size {
		n, _ := t.f.ReadAt(buf[:], off-1)
		if n == 0 {
			return t.size
		}
		if i := bytes.IndexByte(buf[:n], '\n'); i >= 0 {
			return off + int64(i)
		}
		off += int64(n)
	}
	return t.size
}

// find returns the row whose range holds ip: the last row starting at or
// before it, by binary search over byte offsets.
func (t *fileTable) find(ip netip.Addr) (span, bool) {
	if t == nil {
		return span{}, false
	}
	var best string
	lo, hi := int64(0), t.size
	for steps := 0; lo < hi && steps < 128; steps++ {
		mid := lo + (hi-lo)/2
		ls := t.lineStart(mid)
		if ls >= hi {
			hi = mid
			continue
		}
		line, ok := t.lineAt(ls)
		if !ok {
			return span{}, false
		}
		first, _, _ := strings.Cut(line, ",")
		start, err := netip.ParseAddr(first)
		if err != nil {
			return span{}, false
		}
		if !ip.Less(start) {
			best = line
			lo = ls + int64(len(line)) + 1
		} else {
			hi = ls
		}
	}
	if best == "" {
		return span{}, false
	}
	s, err := parseLine(best, t.asn)
	if err != nil || s.hi.Less(ip) {
		return span{}, false
	}
	return s, true
}

// parseLine reads one "start,end,CC" or "start,end,ASN,org" row.
func parseLine(text string, asn bool) (span, error) {
	want := 3
	if asn {
		want = 4
	}
	f := strings.SplitN(text, ",", want)
	if len(f) < want {
		return span{}, fmt.Errorf("%d fields, want %d", len(f), want)
	}
	lo, err1 := netip.ParseAddr(f[0])
	hi, err2 := netip.ParseAddr(f[1])
	if err1 != nil || err2 != nil || hi.Less(lo) || lo.Is4() != hi.Is4() {
		return span{}, fmt.Errorf("bad range %q-%q", f[0], f[1])
	}
	s := span{lo: lo, hi: hi}
	if asn {
		n, err := strconv.Atoi(f[2])
		if err != nil || n < 0 {
			return span{}, fmt.Errorf("bad ASN %q", f[2])
		}
		s.asn, s.org = n, unquote(f[3])
	} else {
		s.cc = strings.ToUpper(strings.TrimSpace(f[2]))
	}
	return s, nil
}

// unquote reads a CSV field that may be quoted ("IDC, China ..." with ""
// for a quote).
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return strings.ReplaceAll(s[1:len(s)-1], `""`, `"`)
	}
	return s
}
