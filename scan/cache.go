package scan

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/romscan/romscan/analyzers"
	"github.com/romscan/romscan/extract"
	"github.com/romscan/romscan/extract/walk"
	"github.com/romscan/romscan/finding"
	"github.com/romscan/romscan/report"
)

// cacheFormat is the layout version of a cached entry; bump it when
// cachedLeaf changes so old disk entries are ignored.
const cacheFormat = 1

// Defaults and bounds of the analysis cache.
const (
	DefaultCacheMaxBytes = 256 * extract.MiB // disk bytes kept under CacheOptions.Dir
	maxCacheEntry        = 64 * extract.MiB  // largest disk entry read back
	maxMemEntries        = 200_000           // in-memory entries kept
)

// CacheOptions configure a Cache.
type CacheOptions struct {
	// Dir, when set, keeps entries on disk as JSON files (one per APK
	// content and analyzer set), so later runs reuse them.
	Dir string
	// MaxBytes bounds the disk entries; the least recently used go first.
	// 0 means DefaultCacheMaxBytes.
	MaxBytes int64
}

// Cache remembers the analysis of APKs by content: the key is the APK's
// SHA-256 with the analyzers' names and versions, the rule bundle version
// and the limits, so an APK met twice (in both ROMs of a diff, or in several
// forms of one ROM) is analysed once. Findings are kept with locations
// relative to the APK and re-located on reuse. A Cache is safe for
// concurrent use and may be shared by several scans.
type Cache struct {
	dir      string
	maxBytes int64

	mu        sync.Mutex
	mem       map[string]*cacheSlot
	diskBytes int64

	hits, misses, diskHits, diskWrites, hashed atomic.Int64
	hashNanos                                  atomic.Int64
}

// CacheStats count what a cache did.
type CacheStats struct {
	Hits        int64         // APKs whose analysis was reused (memory or disk)
	DiskHits    int64         // of which read back from disk
	Misses      int64         // APKs analysed
	DiskWrites  int64         // entries written to disk
	HashedBytes int64         // APK bytes read to compute keys
	HashTime    time.Duration // time spent hashing (summed over workers)
}

type cacheSlot struct {
	done chan struct{}
	val  *cachedLeaf // nil when the analysis could not be cached
}

// cachedLeaf is one APK's analysis with every location made relative to the
// APK: evidence locations keep only what follows the APK's own location.
type cachedLeaf struct {
	Format   int                `json:"format"`
	Key      string             `json:"key"`
	App      *report.App        `json:"app"`
	Findings []finding.Finding  `json:"findings"`
	Errs     []report.FileError `json:"errors,omitempty"`
	Signer   string             `json:"signer,omitempty"`
	Filtered int64              `json:"filtered_endpoints,omitempty"`
}

// locMark stands for the APK's location inside free text (error messages,
// notes) of a cached entry.
const locMark = "\x00loc\x00"

// NewCache makes a cache; with opt.Dir it also reads and writes entries
// there (the folder is created if missing).
func NewCache(opt CacheOptions) (*Cache, error) {
	c := &Cache{dir: opt.Dir, maxBytes: opt.MaxBytes, mem: map[string]*cacheSlot{}}
	if c.maxBytes <= 0 {
		c.maxBytes = DefaultCacheMaxBytes
	}
	if c.dir == "" {
		return c, nil
	}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return nil, fmt.Errorf("cache: create %q: %w", c.dir, err)
	}
	ents, err := os.ReadDir(c.dir)
	if err != nil {
		return nil, fmt.Errorf("cache: list %q: %w", c.dir, err)
	}
	for _, e := range ents {
		if info, err := e.Info(); err == nil && isEntryName(e.Name()) {
			c.diskBytes += info.Size()
		}
	}
	return c, nil
}

// Stats returns the cache's counters.
func (c *Cache) Stats() CacheStats {
	return CacheStats{
		Hits: c.hits.Load(), DiskHits: c.diskHits.Load(), Misses: c.misses.Load(), DiskWrites: c.diskWrites.Load(),
		HashedBytes: c.hashed.Load(), HashTime: time.Duration(c.hashNanos.Load()),
	}
}

// analyzeCached is analyzeLeaf through cfg.Cache: APKs are looked up by
// content first, and a fresh analysis is stored for the next time.
func analyzeCached(ctx context.Context, cfg *Config, leaf *walk.Leaf, stats *analyzers.Stats) *result {
	c := cfg.Cache
	if c == nil || leaf.Kind != walk.KindAPK {
		return analyzeLeaf(ctx, cfg, leaf, stats)
	}
	sum, err := c.hash(leaf)
	if err != nil {
		// Unreadable bytes: the analysis will say why.
		return analyzeLeaf(ctx, cfg, leaf, stats)
	}
	key := cacheKey(cfg, sum)
	loc := leaf.Loc.String()

	c.mu.Lock()
	slot, busy := c.mem[key]
	if !busy {
		slot = &cacheSlot{done: make(chan struct{})}
		if len(c.mem) < maxMemEntries {
			c.mem[key] = slot
		}
	}
	c.mu.Unlock()
	if busy {
		select {
		case <-slot.done:
		case <-ctx.Done():
			return analyzeLeaf(ctx, cfg, leaf, stats)
		}
		if slot.val != nil {
			c.hits.Add(1)
			return slot.val.restore(leaf, sum, stats)
		}
		return withSum(analyzeLeaf(ctx, cfg, leaf, stats), sum)
	}
	if v := c.load(key); v != nil {
		slot.val = v
		close(slot.done)
		c.hits.Add(1)
		c.diskHits.Add(1)
		return v.restore(leaf, sum, stats)
	}
	c.misses.Add(1)
	var local analyzers.Stats
	res := analyzeLeaf(ctx, cfg, leaf, &local)
	stats.FilteredEndpoints.Add(local.FilteredEndpoints.Load())
	if ctx.Err() == nil {
		// A cancelled analysis is partial: never remember it.
		slot.val = capture(key, loc, res, local.FilteredEndpoints.Load())
	}
	close(slot.done)
	if slot.val == nil {
		c.mu.Lock()
		if c.mem[key] == slot {
			delete(c.mem, key)
		}
		c.mu.Unlock()
	} else {
		c.store(slot.val)
	}
	return withSum(res, sum)
}

func withSum(res *result, sum string) *result {
	if res != nil && res.app != nil {
		res.app.SHA256 = sum
	}
	return res
}

// hash reads the whole APK once.
func (c *Cache) hash(leaf *walk.Leaf) (string, error) {
	start := time.Now()
	h := sha256.New()
	n, err := io.Copy(h, io.NewSectionReader(leaf.R, 0, leaf.Size))
	c.hashed.Add(n)
	c.hashNanos.Add(int64(time.Since(start)))
	if err != nil {
		return "", fmt.Errorf("cache: hash %q: %w", leaf.Loc, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// cacheKey names an analysis: same bytes, same analyzers, same rules and
// same limits give the same findings.
func cacheKey(cfg *Config, sum string) string {
	h := sha256.New()
	fmt.Fprintf(h, "romscan-cache %d\napk %s\nrules %s\nlimits %+v\n", cacheFormat, sum, cfg.Sigs.Version, cfg.Limits)
	for _, a := range cfg.Analyzers {
		fmt.Fprintf(h, "analyzer %s %s\n", a.Name(), a.Version())
	}
	return hex.EncodeToString(h.Sum(nil))
}

// capture makes a result relative to its location, or returns nil when some
// evidence lies outside the APK (it could not be re-located).
func capture(key, loc string, res *result, filtered int64) *cachedLeaf {
	if res == nil || res.app == nil || res.props != nil || res.grants != nil || res.linkTo != "" {
		return nil
	}
	v := &cachedLeaf{Format: cacheFormat, Key: key, Signer: res.signer, Filtered: filtered}
	app := *res.app
	app.Location, app.Placement, app.Partition, app.SHA256 = "", "", "", ""
	app.Error = strings.ReplaceAll(app.Error, loc, locMark)
	v.App = &app
	v.Findings = make([]finding.Finding, len(res.findings))
	for i, f := range res.findings {
		f.Evidence = slices.Clone(f.Evidence)
		for j := range f.Evidence {
			e := &f.Evidence[j]
			rel, ok := strings.CutPrefix(e.Location, loc)
			if !ok || (rel != "" && rel[0] != '!') {
				return nil
			}
			e.Location = rel
			e.Note = strings.ReplaceAll(e.Note, loc, locMark)
		}
		v.Findings[i] = f
	}
	for _, fe := range res.errs {
		rel, ok := strings.CutPrefix(fe.Location, loc)
		if !ok || (rel != "" && rel[0] != '!') {
			return nil
		}
		v.Errs = append(v.Errs, report.FileError{Location: rel, Error: strings.ReplaceAll(fe.Error, loc, locMark)})
	}
	return v
}

// restore builds a fresh result for leaf from a cached entry; nothing in it
// shares memory with the entry, since the report builder edits results.
func (v *cachedLeaf) restore(leaf *walk.Leaf, sum string, stats *analyzers.Stats) *result {
	loc := leaf.Loc.String()
	res := &result{loc: loc, kind: leaf.Kind, signer: v.Signer, flags: placementFlags(loc)}
	app := *v.App
	app.Location, app.SHA256 = loc, sum
	app.Placement, app.Partition = placement(loc)
	app.Error = strings.ReplaceAll(app.Error, locMark, loc)
	app.Flags = slices.Clip(slices.Clone(app.Flags))
	res.app = &app
	res.findings = make([]finding.Finding, len(v.Findings))
	for i, f := range v.Findings {
		f.Evidence = slices.Clone(f.Evidence)
		for j := range f.Evidence {
			e := &f.Evidence[j]
			e.Location = loc + e.Location
			e.Note = strings.ReplaceAll(e.Note, locMark, loc)
		}
		res.findings[i] = f
	}
	for _, fe := range v.Errs {
		res.errs = append(res.errs, report.FileError{Location: loc + fe.Location, Error: strings.ReplaceAll(fe.Error, locMark, loc)})
	}
	stats.FilteredEndpoints.Add(v.Filtered)
	return res
}

func isEntryName(name string) bool {
	return strings.HasSuffix(name, ".json") && len(name) == 64+len(".json")
}

func (c *Cache) entryPath(key string) string { return filepath.Join(c.dir, key+".json") }

// load reads a disk entry; a missing, oversized, corrupt or foreign entry is
// ignored (nil), and the analysis simply runs again.
func (c *Cache) load(key string) *cachedLeaf {
	if c.dir == "" {
		return nil
	}
	f, err := os.Open(c.entryPath(key))
	if err != nil {
		return nil
	}
	defer f.Close()
	var v cachedLeaf
	dec := json.NewDecoder(io.LimitReader(f, maxCacheEntry))
	if err := dec.Decode(&v); err != nil || v.Format != cacheFormat || v.Key != key || v.App == nil {
		return nil
	}
	for _, f := range v.Findings {
		for _, e := range f.Evidence {
			if e.Location != "" && e.Location[0] != '!' {
				return nil
			}
		}
	}
	for _, fe := range v.Errs {
		if fe.Location != "" && fe.Location[0] != '!' {
			return nil
		}
	}
	now := time.Now()
	_ = os.Chtimes(c.entryPath(key), now, now) // least recently used goes first
	return &v
}

// store writes an entry atomically (a temp file renamed into place) and
// keeps the folder under its byte bound. Failures only cost speed.
func (c *Cache) store(v *cachedLeaf) {
	if c.dir == "" {
		return
	}
	b, err := json.Marshal(v)
	if err != nil || int64(len(b)) > maxCacheEntry || int64(len(b)) > c.maxBytes {
		return
	}
	tmp, err := os.CreateTemp(c.dir, ".tmp-*")
	if err != nil {
		return
	}
	_, err = tmp.Write(b)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), c.entryPath(v.Key))
	}
	if err != nil {
		os.Remove(tmp.Name())
		return
	}
	c.diskWrites.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.diskBytes += int64(len(b))
	if c.diskBytes > c.maxBytes {
		c.evict()
	}
}

// evict removes the least recently used entries until the folder holds at
// most 3/4 of its bound. c.mu is held.
func (c *Cache) evict() {
	type ent struct {
		name string
		size int64
		mod  time.Time
	}
	var ents []ent
	var total int64
	_ = filepath.WalkDir(c.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			if p != c.dir {
				return filepath.SkipDir
			}
			return nil
		}
		if !isEntryName(d.Name()) {
			return nil
		}
		if info, err := d.Info(); err == nil {
			ents = append(ents, ent{p, info.Size(), info.ModTime()})
			total += info.Size()
		}
		return nil
	})
	sort.Slice(ents, func(i, j int) bool { return ents[i].mod.Before(ents[j].mod) })
	for _, e := range ents {
		if total <= c.maxBytes*3/4 {
			break
		}
		if err := os.Remove(e.name); err == nil || errors.Is(err, fs.ErrNotExist) {
			total -= e.size
		}
	}
	c.diskBytes = total
}
