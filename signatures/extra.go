package signatures

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// YaraSource is one YARA rule file: its name (for error messages: the
// embedded "yara/android.yar" or a user path) and its text. The yara
// analyzer compiles them.
type YaraSource struct {
	Name string
	Data []byte
}

// maxCatalogueFile bounds a catalogue or rule file read from a user folder.
const maxCatalogueFile = 16 << 20

type trackerFile struct {
	Version int        `yaml:"version"`
	Entries []*Tracker `yaml:"entries"`
}

type telemetryFile struct {
	Version int          `yaml:"version"`
	Entries []*Telemetry `yaml:"entries"`
}

// WatchlistFile is the format of watchlists.yaml and of a --watchlist file.
type WatchlistFile struct {
	Version int      `yaml:"version"`
	Entries []*Watch `yaml:"entries"`
}

// configFile is a rules folder's config.yaml.
type configFile struct {
	Version int      `yaml:"version"`
	Disable []string `yaml:"disable"`
}

func decodeStrict(name string, b []byte, v any) error {
	if len(b) > maxCatalogueFile {
		return fmt.Errorf("signatures: parse %s: %d bytes is more than the %d allowed", name, len(b), maxCatalogueFile)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	// An empty file is an empty catalogue.
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("signatures: parse %s: %w", name, err)
	}
	return nil
}

// readOptional reads fsys/name, returning nil when it does not exist.
func readOptional(fsys fs.FS, name, display string) ([]byte, error) {
	st, err := fs.Stat(fsys, name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("signatures: read %s: %w", display, err)
	}
	if st.Size() > maxCatalogueFile {
		return nil, fmt.Errorf("signatures: read %s: %d bytes is more than the %d allowed", display, st.Size(), maxCatalogueFile)
	}
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("signatures: read %s: %w", display, err)
	}
	return b, nil
}

// loadExtra reads the optional catalogues (yara/*.yar, catalog/trackers.yaml,
// catalog/telemetry.yaml, catalog/watchlists.yaml, config.yaml) of fsys into
// s; label prefixes names in errors ("" for the embedded set). hash gets
// every file read.
func (s *Set) loadExtra(fsys fs.FS, label string, hash func(name string, b []byte)) error {
	name := func(n string) string {
		if label == "" {
			return n
		}
		return path.Join(label, n)
	}
	yars, err := fs.Glob(fsys, "yara/*.yar")
	if err != nil {
		return fmt.Errorf("signatures: list %s: %w", name("yara"), err)
	}
	more, _ := fs.Glob(fsys, "yara/*.yara")
	yars = append(yars, more...)
	sort.Strings(yars)
	for _, y := range yars {
		b, err := readOptional(fsys, y, name(y))
		if err != nil {
			return err
		}
		hash(y, b)
		s.Yara = append(s.Yara, YaraSource{Name: name(y), Data: b})
	}
	if b, err := readOptional(fsys, "catalog/trackers.yaml", name("catalog/trackers.yaml")); err != nil {
		return err
	} else if b != nil {
		hash("catalog/trackers.yaml", b)
		if err := s.addTrackers(name("catalog/trackers.yaml"), b); err != nil {
			return err
		}
	}
	if b, err := readOptional(fsys, "catalog/telemetry.yaml", name("catalog/telemetry.yaml")); err != nil {
		return err
	} else if b != nil {
		hash("catalog/telemetry.yaml", b)
		if err := s.addTelemetry(name("catalog/telemetry.yaml"), b); err != nil {
			return err
		}
	}
	if b, err := readOptional(fsys, "catalog/watchlists.yaml", name("catalog/watchlists.yaml")); err != nil {
		return err
	} else if b != nil {
		hash("catalog/watchlists.yaml", b)
		if err := s.addWatchlist(name("catalog/watchlists.yaml"), b); err != nil {
			return err
		}
	}
	if b, err := readOptional(fsys, "config.yaml", name("config.yaml")); err != nil {
		return err
	} else if b != nil {
		hash("config.yaml", b)
		var cf configFile
		if err := decodeStrict(name("config.yaml"), b, &cf); err != nil {
			return err
		}
		s.Disable(cf.Disable...)
	}
	return nil
}

func (s *Set) checkUnique(where, id string) error {
	if s.ids == nil {
		s.ids = map[string]string{}
	}
	if prev, ok := s.ids[id]; ok {
		return fmt.Errorf("signatures: %s: id %q already defined in %s", where, id, prev)
	}
	s.ids[id] = where
	return nil
}

func (s *Set) addTrackers(name string, b []byte) error {
	var f trackerFile
	if err := decodeStrict(name, b, &f); err != nil {
		return err
	}
	return addEntries(s, name, f.Entries, &s.Catalogue.Trackers)
}

func (s *Set) addTelemetry(name string, b []byte) error {
	var f telemetryFile
	if err := decodeStrict(name, b, &f); err != nil {
		return err
	}
	return addEntries(s, name, f.Entries, &s.Catalogue.Telemetry)
}

// catalogEntry is an entry of a rule catalogue (a tracker, a telemetry
// service): it compiles itself and carries a Rule.
type catalogEntry interface {
	compile(where string) error
	rule() *Rule // nil for an empty YAML entry
}

// addEntries compiles each entry of file name, checks its id is unique,
// and appends it to dst.
func addEntries[E catalogEntry](s *Set, name string, entries []E, dst *[]E) error {
	for i, e := range entries {
		r := e.rule()
		if r == nil {
			return fmt.Errorf("signatures: %s entry %d: empty entry", name, i)
		}
		where := fmt.Sprintf("%s entry %d (%s)", name, i, r.ID)
		if err := e.compile(where); err != nil {
			return err
		}
		if err := s.checkUnique(where, r.ID); err != nil {
			return err
		}
		r.Source = name
		*dst = append(*dst, e)
	}
	return nil
}

// AddWatchlist adds the entries of a watchlist file (the format of
// catalog/watchlists.yaml) named name, and folds it into the bundle version.
func (s *Set) AddWatchlist(name string, b []byte) error {
	if err := s.addWatchlist(name, b); err != nil {
		return err
	}
	s.rehash(name, b)
	return nil
}

func (s *Set) addWatchlist(name string, b []byte) error {
	var f WatchlistFile
	if err := decodeStrict(name, b, &f); err != nil {
		return err
	}
	for i, w := range f.Entries {
		if w == nil {
			return fmt.Errorf("signatures: %s entry %d: empty entry", name, i)
		}
		where := fmt.Sprintf("%s entry %d (%s)", name, i, w.ID)
		if err := w.compile(where); err != nil {
			return err
		}
		if err := s.checkUnique(where, w.ID); err != nil {
			return err
		}
		w.Source = name
		s.Catalogue.Watchlists = append(s.Catalogue.Watchlists, w)
	}
	return nil
}

// rehash folds extra bytes into Version.
func (s *Set) rehash(name string, b []byte) {
	h := sha256.New()
	h.Write([]byte(s.Version))
	h.Write([]byte(name))
	h.Write(b)
	s.Version = hex.EncodeToString(h.Sum(nil))[:16]
}

// Merge adds a user rules folder laid out like the embedded one: yara/*.yar,
// catalog/trackers.yaml, catalog/telemetry.yaml, catalog/watchlists.yaml and
// config.yaml (a `disable:` list of rule ids), each optional. label names
// the folder in errors and in the entries' Source. The bundle version
// changes with every byte added.
func (s *Set) Merge(fsys fs.FS, label string) error {
	var files []string
	var data [][]byte
	err := s.loadExtra(fsys, label, func(name string, b []byte) {
		files = append(files, name)
		data = append(data, b)
	})
	if err != nil {
		return err
	}
	for i := range files {
		s.rehash(path.Join(label, files[i]), data[i])
	}
	return nil
}
