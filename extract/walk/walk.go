package walk

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/romscan/romscan/extract"
)

// headSize is how many leading bytes are read for sniffing: enough for the
// ext4 superblock (1080), EROFS (1024) and LP geometry (4096).
const headSize = 8 * 1024

// Leaf is a file that is not a container, handed to the visitor. R stays
// valid until Done is called.
type Leaf struct {
	Loc  extract.Location
	Kind Kind
	Name string // base name
	Size int64
	R    io.ReaderAt
	Head []byte

	done func()
	once sync.Once
}

// Done releases the leaf's bytes. Call it exactly once when finished with R.
func (l *Leaf) Done() {
	l.once.Do(func() {
		if l.done != nil {
			l.done()
		}
	})
}

// ContainerInfo describes a container met on the way, for the report's
// list of partitions and images.
type ContainerInfo struct {
	Loc    extract.Location
	Format string
	Size   int64
	Notes  []string // facts the container states about itself (vbmeta properties)
}

// Walker walks inputs. Visit is called for every leaf (it may hand the leaf
// to another goroutine and return; it must call Leaf.Done). OnError gets
// per-file errors; the walk goes on after them.
type Walker struct {
	Limits      extract.Limits
	Formats     []Format
	Spill       *Spiller
	Visit       func(*Leaf)
	OnError     func(loc extract.Location, err error)
	OnContainer func(ContainerInfo)
	// Descend, when set, decides whether a container at loc (of the named
	// format, "apk" for an APK's nested members) is opened; a container not
	// opened is handed to Visit as a leaf.
	Descend func(loc extract.Location, format string) bool
	// Base holds the old partitions incremental updates apply to.
	Base *Base
}

// New returns a Walker with the default format list.
func New(lim extract.Limits, spill *Spiller) *Walker {
	return &Walker{Limits: lim.WithDefaults(), Formats: Formats(), Spill: spill}
}

func (w *Walker) env() *Env { return &Env{Limits: w.Limits, Spill: w.Spill, Base: w.Base} }

func (w *Walker) fail(loc extract.Location, err error) {
	if w.OnError != nil {
		w.OnError(loc, err)
	}
}

// Walk visits every input path (file or folder). The first hop of each
// location is the input's base name, followed by the path inside a folder.
func (w *Walker) Walk(ctx context.Context, inputs []string) error {
	for _, in := range inputs {
		if err := ctx.Err(); err != nil {
			return err
		}
		st, err := os.Stat(in)
		if err != nil {
			w.fail(extract.Location{filepath.Base(in)}, err)
			continue
		}
		if st.IsDir() {
			c := &dirContainer{root: in, base: filepath.Base(filepath.Clean(in)), max: w.Limits.MaxEntries}
			if err := w.walkContainer(ctx, c, nil, 0, nil); err != nil {
				return err
			}
			continue
		}
		f, err := os.Open(in)
		if err != nil {
			w.fail(extract.Location{filepath.Base(in)}, err)
			continue
		}
		r := newRefs(nil, func() { f.Close() })
		err = w.visitFile(ctx, f, st.Size(), extract.Location{filepath.Base(in)}, 0, r)
		r.dec()
		if err != nil {
			return err
		}
	}
	return nil
}

// refs counts the users of some bytes (an opened file, a decoded member,
// a container), releasing them at zero. A node holds its parent: a file
// inside an image keeps the image, and the file holding it, open until the
// last leaf read from it is done.
type refs struct {
	n       atomic.Int64
	release func()
	parent  *refs
}

// newRefs returns a node with one reference, held by the caller.
func newRefs(parent *refs, release func()) *refs {
	if parent != nil {
		parent.inc()
	}
	r := &refs{release: release, parent: parent}
	r.n.Store(1)
	return r
}

func (r *refs) inc() { r.n.Add(1) }
func (r *refs) dec() {
	if r.n.Add(-1) != 0 {
		return
	}
	if r.release != nil {
		r.release()
	}
	if r.parent != nil {
		r.parent.dec()
	}
}

// visitFile sniffs one file and either recurses into it or hands it out as a
// leaf. Only cancellation errors are returned; others are per-file.
func (w *Walker) visitFile(ctx context.Context, ra io.ReaderAt, size int64, loc extract.Location, depth int, r *refs) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	head := make([]byte, min(size, headSize))
	if n, err := ra.ReadAt(head, 0); err != nil && !(errors.Is(err, io.EOF) && n == len(head)) {
		w.fail(loc, fmt.Errorf("read head: %w", err))
		return nil
	}
	name := path.Base(strings.ReplaceAll(loc[len(loc)-1], "\\", "/"))
	src := Source{R: ra, Size: size, Name: name, Head: head, Loc: loc}

	kind := classify(head, name)
	if kind == KindAPK || (isZip(head) && zipHasAndroidRoot(ra, size)) {
		w.emit(src, KindAPK, r)
		// Descend only for what the APK analysis does not cover itself:
		// nested archives and code outside the usual places.
		if depth+1 <= w.Limits.MaxDepth && w.descend(loc, "apk") {
			if c, err := openZip(ctx, src, w.env(), true); err == nil {
				if err := w.walkContainer(ctx, c, loc, depth+1, r); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for _, f := range w.Formats {
		if !f.Sniff(head, name) {
			continue
		}
		if !w.descend(loc, f.Name()) {
			break
		}
		if depth+1 > w.Limits.MaxDepth {
			w.fail(loc, fmt.Errorf("%s nested %d deep, over the depth limit (raise --max-depth): %w", f.Name(), depth+1, extract.ErrLimit))
			return nil
		}
		c, err := f.Open(ctx, src, w.env())
		if errors.Is(err, extract.ErrNotFormat) {
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			w.fail(loc, fmt.Errorf("open %s: %w", f.Name(), err))
			return nil
		}
		if w.OnContainer != nil {
			w.OnContainer(ContainerInfo{Loc: loc, Format: f.Name(), Size: size, Notes: containerNotes(c)})
		}
		return w.walkContainer(ctx, c, loc, depth+1, r)
	}
	w.emit(src, kind, r)
	return nil
}

func (w *Walker) descend(loc extract.Location, format string) bool {
	return w.Descend == nil || w.Descend(loc, format)
}

func (w *Walker) emit(src Source, kind Kind, r *refs) {
	if w.Visit == nil {
		return
	}
	r.inc()
	w.Visit(&Leaf{Loc: src.Loc, Kind: kind, Name: src.Name, Size: src.Size, R: src.R, Head: src.Head, done: r.dec})
}

// walkContainer lists a container's members, pairs block-OTA files, and
// visits each member.
func (w *Walker) walkContainer(ctx context.Context, c Container, loc extract.Location, depth int, parent *refs) error {
	// The container stays open until its last leaf is done.
	cref := newRefs(parent, func() { c.Close() })
	defer cref.dec()
	var members []Member
	err := c.Members(ctx, func(m Member) error {
		if w.Limits.MaxEntries > 0 && len(members) >= w.Limits.MaxEntries {
			return fmtLimit("members in one container", w.Limits.MaxEntries)
		}
		members = append(members, m)
		return nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		w.fail(loc, fmt.Errorf("list members: %w", err))
		// Go on with what was listed.
	}
	members = pairBlockOTA(members, w.env())
	for _, m := range members {
		if err := ctx.Err(); err != nil {
			return err
		}
		mloc := loc
		if m.Path != "" {
			mloc = loc.Append(m.Path)
		}
		if m.Size > w.Limits.MaxFileSize && w.Limits.MaxFileSize > 0 {
			w.fail(mloc, fmt.Errorf("size %d over the per-file limit %d (raise --max-file-size): %w", m.Size, w.Limits.MaxFileSize, extract.ErrLimit))
			continue
		}
		ra, release, err := m.Open(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			w.fail(mloc, err)
			continue
		}
		size := m.Size
		if s, ok := ra.(sizedReaderAt); ok {
			size = s.Size()
		}
		r := newRefs(cref, release)
		err = w.visitFile(ctx, ra, size, mloc, depth, r)
		r.dec()
		if err != nil {
			return err
		}
	}
	return nil
}

// dirContainer lists a host folder recursively, without following symlinks
// out of it, largest file first: the costliest apps then start first and do
// not end the scan on one core while the others are idle (the workers take
// the biggest waiting leaf, but the queue holds only what the walker has
// reached; a folder walked in lexical order may reach its largest app last,
// behind a container of many small members that fills the queue).
type dirContainer struct {
	root string
	base string
	max  int // files listed at most (0: no bound); one more shows the limit was hit
}

func (d *dirContainer) Members(ctx context.Context, fn func(Member) error) error {
	var files []Member
	err := filepath.WalkDir(d.root, func(p string, de fs.DirEntry, err error) error {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		if d.max > 0 && len(files) > d.max {
			return filepath.SkipAll
		}
		if err != nil {
			rel, _ := filepath.Rel(d.root, p)
			files = append(files, Member{Path: path.Join(d.base, filepath.ToSlash(rel)), Open: func(context.Context) (io.ReaderAt, func(), error) { return nil, nil, err }})
			return nil
		}
		if !de.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(d.root, p)
		if err != nil {
			return nil
		}
		info, err := de.Info()
		if err != nil {
			return nil
		}
		full := p
		files = append(files, Member{Path: path.Join(d.base, filepath.ToSlash(rel)), Size: info.Size(), Open: func(context.Context) (io.ReaderAt, func(), error) {
			f, err := os.Open(full)
			if err != nil {
				return nil, nil, err
			}
			return &osFile{f, info.Size()}, func() { f.Close() }, nil
		}})
		return nil
	})
	// WalkDir lists in lexical order; the stable sort keeps it for equal sizes.
	slices.SortStableFunc(files, func(a, b Member) int { return cmp.Compare(b.Size, a.Size) })
	for _, m := range files {
		if err := fn(m); err != nil {
			return err
		}
	}
	return err
}

func (d *dirContainer) Close() error { return nil }

type osFile struct {
	*os.File
	size int64
}

func (f *osFile) Size() int64 { return f.size }
