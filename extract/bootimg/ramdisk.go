package bootimg

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"

	"github.com/romscan/romscan/extract"
)

// maxRamdisk caps a decompressed ramdisk whatever the limits say: ramdisks
// are a few MiB, and the whole of one is held in memory.
const maxRamdisk = 512 << 20

// decompressor picks the decoder for a ramdisk fragment by its magic.
func decompressor(head []byte, r io.Reader) (io.Reader, string, error) {
	switch {
	case bytes.HasPrefix(head, []byte("070701")) || bytes.HasPrefix(head, []byte("070702")):
		return r, "cpio", nil
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		z, err := gzip.NewReader(r)
		return z, "gzip", err
	case bytes.HasPrefix(head, []byte{0x02, 0x21, 0x4c, 0x18}):
		return lz4.NewReader(r), "lz4-legacy", nil
	case bytes.HasPrefix(head, []byte{0x04, 0x22, 0x4d, 0x18}):
		return lz4.NewReader(r), "lz4", nil
	case bytes.HasPrefix(head, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		z, err := xz.NewReader(r)
		return z, "xz", err
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		z, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxRamdisk))
		if err != nil {
			return nil, "zstd", err
		}
		return z.IOReadCloser(), "zstd", nil
	}
	return nil, "", fmt.Errorf("ramdisk compression with magic % x: %w", head[:min(len(head), 4)], extract.ErrUnsupported)
}

// loadRamdisk decompresses every ramdisk fragment once and parses the cpio.
func (im *Image) loadRamdisk() error {
	im.once.Do(func() {
		var out bytes.Buffer
		budget := min(im.lim.MaxFileSize, maxRamdisk)
		for _, p := range im.rds {
			if err := im.decompress(&out, p, budget); err != nil {
				im.rdErr = err
				return
			}
		}
		im.rd = out.Bytes()
		im.tree, im.rdErr = parseCpio(im.rd, im.lim.MaxEntries)
	})
	return im.rdErr
}

func (im *Image) decompress(out *bytes.Buffer, p part, budget int64) error {
	var head [8]byte
	n, _ := im.r.ReadAt(head[:], p.off)
	dec, kind, err := decompressor(head[:n], io.NewSectionReader(im.r, p.off, p.size))
	if err != nil {
		if errors.Is(err, extract.ErrUnsupported) {
			return fmt.Errorf("bootimg: %s at %d: %w", p.name, p.off, err)
		}
		// The decoder rejected the stream header (a bad gzip or xz header).
		return fmt.Errorf("bootimg: %s at %d: %s: %v: %w", p.name, p.off, kind, err, extract.ErrCorrupt)
	}
	limit := budget - int64(out.Len())
	if r := int64(float64(p.size) * im.lim.MaxRatio); r < limit && kind != "cpio" {
		limit = max(r, 0)
	}
	start := out.Len()
	got, err := io.Copy(out, io.LimitReader(dec, limit+1))
	if got > limit {
		return fmt.Errorf("bootimg: %s: decompressed %s ramdisk exceeds %d bytes: %w", p.name, kind, limit, extract.ErrLimit)
	}
	if err != nil {
		// Padding after the stream makes decoders complain; keep what was
		// decoded if it holds a complete cpio archive.
		if !bytes.Contains(out.Bytes()[start:], []byte("TRAILER!!!")) {
			return fmt.Errorf("bootimg: %s: %s: %v: %w", p.name, kind, err, extract.ErrCorrupt)
		}
	}
	return nil
}

// node is one entry of the ramdisk tree.
type node struct {
	name     string // base name
	mode     fs.FileMode
	mtime    time.Time
	data     []byte // file contents, or symlink target
	children map[string]*node
	order    []string // child names, sorted on demand
}

func newDir(name string) *node {
	return &node{name: name, mode: fs.ModeDir | 0o755, children: map[string]*node{}}
}

// parseCpio reads newc cpio archives (concatenated ones too, as vendor
// ramdisk fragments are) into a tree. Names with ".." or absolute paths are
// cleaned; later entries replace earlier ones, as the kernel does.
func parseCpio(b []byte, maxEntries int) (*node, error) {
	root := newDir(RamdiskDir)
	off, entries := 0, 0
	for off < len(b) {
		// Skip the zero padding between concatenated archives.
		if b[off] == 0 {
			off++
			continue
		}
		if off+110 > len(b) {
			return nil, fmt.Errorf("bootimg: cpio header at %d truncated: %w", off, extract.ErrCorrupt)
		}
		h := b[off : off+110]
		if string(h[:5]) != "07070" || (h[5] != '1' && h[5] != '2') {
			return nil, fmt.Errorf("bootimg: cpio header at %d: bad magic %q: %w", off, h[:6], extract.ErrCorrupt)
		}
		var f [13]uint64
		for i := range f {
			v, err := strconv.ParseUint(string(h[6+8*i:14+8*i]), 16, 32)
			if err != nil {
				return nil, fmt.Errorf("bootimg: cpio header at %d: field %d %q: %w", off, i, h[6+8*i:14+8*i], extract.ErrCorrupt)
			}
			f[i] = v
		}
		mode, mtime, fileSize, nameSize := f[1], f[5], int(f[6]), int(f[11])
		nameEnd := off + 110 + nameSize
		dataOff := (nameEnd + 3) &^ 3
		if nameSize == 0 || nameEnd > len(b) || dataOff+fileSize > len(b) || fileSize < 0 {
			return nil, fmt.Errorf("bootimg: cpio entry at %d: name %d and data %d bytes past end (%d): %w", off, nameSize, fileSize, len(b), extract.ErrCorrupt)
		}
		name := string(bytes.TrimRight(b[off+110:nameEnd], "\x00"))
		data := b[dataOff : dataOff+fileSize]
		off = (dataOff + fileSize + 3) &^ 3
		if name == "TRAILER!!!" {
			continue
		}
		if entries++; entries > maxEntries {
			return nil, fmt.Errorf("bootimg: cpio: more than %d entries: %w", maxEntries, extract.ErrLimit)
		}
		clean := strings.TrimPrefix(path.Clean("/"+name), "/")
		if clean == "" || !fs.ValidPath(clean) {
			continue
		}
		n := &node{name: path.Base(clean), mtime: time.Unix(int64(mtime), 0).UTC(), mode: fs.FileMode(mode & 0o777)}
		switch mode & 0o170000 {
		case 0o040000:
			n.mode |= fs.ModeDir
			n.children = map[string]*node{}
		case 0o120000:
			n.mode |= fs.ModeSymlink
			n.data = data
		case 0o100000:
			n.data = data
		default: // devices, fifos, sockets: listed, no data
			n.mode |= fs.ModeDevice
		}
		insert(root, clean, n)
	}
	return root, nil
}

func insert(root *node, name string, n *node) {
	dir := root
	elems := strings.Split(name, "/")
	for _, e := range elems[:len(elems)-1] {
		c := dir.children[e]
		if c == nil || !c.mode.IsDir() {
			c = newDir(e)
			dir.children[e] = c
			dir.order = nil
		}
		dir = c
	}
	base := elems[len(elems)-1]
	if old := dir.children[base]; old != nil && old.mode.IsDir() && n.mode.IsDir() {
		old.mode, old.mtime = n.mode, n.mtime // keep the children
		return
	}
	dir.children[base] = n
	dir.order = nil
}

// lookup walks the tree under root; follow resolves symlinks on the way
// (and at the end when final is set), within 40 hops.
func lookup(root *node, name string, final bool) (*node, error) {
	hops := 0
	var walk func(name string, final bool) (*node, error)
	walk = func(name string, final bool) (*node, error) {
		cur, curPath := root, ""
		if name == "" || name == "." {
			return root, nil
		}
		elems := strings.Split(name, "/")
		for i, e := range elems {
			if !cur.mode.IsDir() {
				return nil, fs.ErrNotExist
			}
			c := cur.children[e]
			if c == nil {
				return nil, fs.ErrNotExist
			}
			last := i == len(elems)-1
			if c.mode&fs.ModeSymlink != 0 && (!last || final) {
				if hops++; hops > 40 {
					return nil, fmt.Errorf("too many symlinks: %w", fs.ErrInvalid)
				}
				target := string(c.data)
				if !strings.HasPrefix(target, "/") {
					target = path.Join(curPath, target)
				}
				target = strings.TrimPrefix(path.Clean("/"+target), "/")
				t, err := walk(target, true)
				if err != nil {
					return nil, err
				}
				c = t
			}
			cur = c
			curPath = path.Join(curPath, e)
		}
		return cur, nil
	}
	return walk(name, final)
}
