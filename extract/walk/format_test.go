package walk

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/romscan/romscan/extract"
)

// dirAsFileFS lists "d" as a regular file, but opening it gives the
// directory: what an image whose directory entry and inode disagree does.
type dirAsFileFS struct{ fstest.MapFS }

type regularEntry struct{ fs.DirEntry }

func (regularEntry) IsDir() bool       { return false }
func (regularEntry) Type() fs.FileMode { return 0 }

func (f dirAsFileFS) ReadDir(name string) ([]fs.DirEntry, error) {
	ents, err := f.MapFS.ReadDir(name)
	for i, e := range ents {
		if e.Name() == "d" {
			ents[i] = regularEntry{e}
		}
	}
	return ents, err
}

func TestFSMemberTypedFileIsDirectory(t *testing.T) {
	fsys := dirAsFileFS{fstest.MapFS{"d/x": {Data: []byte("x")}, "ok": {Data: []byte("ok")}}}
	c := &fsContainer{fsys: fsys, slash: true}
	got := map[string]error{}
	err := c.Members(context.Background(), func(m Member) error {
		ra, release, err := m.Open(context.Background())
		if err == nil {
			release()
			_ = ra.(io.ReaderAt)
		}
		got[m.Path] = err
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := got["/ok"]; err != nil {
		t.Errorf("/ok: %v", err)
	}
	if err := got["/d"]; !errors.Is(err, extract.ErrCorrupt) {
		t.Errorf("/d listed as a file but a directory: error %v, want ErrCorrupt", err)
	}
}
