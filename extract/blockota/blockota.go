// Package blockota reads block-based OTA updates: a *.transfer.list (versions
// 1 to 4) describing how to write a partition, and the matching *.new.dat
// holding the blocks of `new` commands. For full OTAs it presents the target
// partition as an io.ReaderAt without writing it out.
package blockota

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/romscan/romscan/extract"
)

// BlockSize is the block size of every block OTA.
const BlockSize = 4096

const (
	// maxBlock bounds block numbers: 2^32 blocks of 4 KiB is 16 TiB.
	maxBlock = 1 << 32
	// maxLine bounds one line of a transfer list.
	maxLine = 16 * extract.MiB
)

// Range is a half-open run of blocks [Start, End).
type Range struct {
	Start, End int64
}

// RangeSet is a list of ascending, non-overlapping ranges.
type RangeSet []Range

// Blocks returns the number of blocks in the set.
func (rs RangeSet) Blocks() int64 {
	var n int64
	for _, r := range rs {
		n += r.End - r.Start
	}
	return n
}

// String formats the set as in a transfer list ("4,0,10,20,30").
func (rs RangeSet) String() string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(2 * len(rs)))
	for _, r := range rs {
		fmt.Fprintf(&b, ",%d,%d", r.Start, r.End)
	}
	return b.String()
}

// Command is one line of a transfer list.
type Command struct {
	Line   int      // 1-based line number in the transfer list
	Name   string   // new, zero, erase, move, bsdiff, imgdiff, stash, free, compute_hash_tree, abort
	Args   []string // the raw arguments after the name
	Target RangeSet // blocks the command writes (nil for stash, free, abort)
	Source RangeSet // blocks it reads from the source image, when given as a plain range set
}

// readsBase reports whether the command reads the source (old) image.
func (c *Command) readsBase() bool {
	switch c.Name {
	case "move", "bsdiff", "imgdiff", "stash":
		return true
	}
	return false
}

// TransferList is a parsed *.transfer.list.
type TransferList struct {
	Version      int   // 1 to 4
	TotalBlocks  int64 // blocks the update declares it writes
	StashEntries int64 // version >= 2: stash slots needed at once
	StashBlocks  int64 // version >= 2: stash blocks needed at once
	Commands     []Command
}

// ParseTransferList parses a transfer list. Range sets are validated (even
// counts, matching count, ascending pairs, within 2^32 blocks); the number of
// commands and ranges is bounded by lim.MaxEntries.
func ParseTransferList(r io.Reader, lim extract.Limits) (*TransferList, error) {
	maxEntries := lim.MaxEntries
	if maxEntries <= 0 {
		maxEntries = extract.DefaultLimits().MaxEntries
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), int(maxLine))
	tl := &TransferList{}
	line := 0
	header := func(what string) (int64, error) {
		if !sc.Scan() {
			if err := sc.Err(); err != nil {
				return 0, fmt.Errorf("blockota: transfer list: read %s: %w", what, err)
			}
			return 0, fmt.Errorf("blockota: transfer list: missing %s (line %d): %w", what, line+1, extract.ErrNotFormat)
		}
		line++
		v, err := strconv.ParseInt(strings.TrimSpace(sc.Text()), 10, 64)
		if err != nil || v < 0 || v > maxBlock {
			return 0, fmt.Errorf("blockota: transfer list: line %d: %s %q is not a count: %w", line, what, clip(sc.Text()), extract.ErrNotFormat)
		}
		return v, nil
	}
	v, err := header("version")
	if err != nil {
		return nil, err
	}
	if v < 1 || v > 4 {
		return nil, fmt.Errorf("blockota: transfer list: version %d: %w", v, extract.ErrUnsupported)
	}
	tl.Version = int(v)
	if tl.TotalBlocks, err = header("total blocks"); err != nil {
		return nil, err
	}
	if tl.Version >= 2 {
		if tl.StashEntries, err = header("stash entries"); err != nil {
			return nil, err
		}
		if tl.StashBlocks, err = header("stash blocks"); err != nil {
			return nil, err
		}
	}
	ranges := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		if len(tl.Commands) >= maxEntries {
			return nil, fmt.Errorf("blockota: transfer list: more than %d commands: %w", maxEntries, extract.ErrLimit)
		}
		f := strings.Fields(text)
		c := Command{Line: line, Name: f[0], Args: f[1:]}
		if err := tl.parseArgs(&c); err != nil {
			return nil, fmt.Errorf("blockota: transfer list: line %d (%s): %w", line, clip(c.Name), err)
		}
		ranges += len(c.Target) + len(c.Source)
		if ranges > maxEntries {
			return nil, fmt.Errorf("blockota: transfer list: more than %d ranges: %w", maxEntries, extract.ErrLimit)
		}
		tl.Commands = append(tl.Commands, c)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("blockota: transfer list: line %d: %w", line+1, err)
	}
	return tl, nil
}

// parseArgs fills Target and Source from the version-specific arguments.
func (tl *TransferList) parseArgs(c *Command) error {
	a := c.Args
	need := func(n int) error {
		if len(a) < n {
			return fmt.Errorf("%d arguments, want at least %d: %w", len(a), n, extract.ErrCorrupt)
		}
		return nil
	}
	var err error
	// tgtAt is the index of the target range set; srcAt of a plain source
	// range set (version 1) or of the source block count (version >= 2).
	tgtAt, srcAt := -1, -1
	switch c.Name {
	case "new", "zero", "erase":
		if len(a) != 1 {
			return fmt.Errorf("%d arguments, want 1: %w", len(a), extract.ErrCorrupt)
		}
		tgtAt = 0
	case "move":
		switch tl.Version {
		case 1:
			tgtAt, srcAt = 1, 0
		case 2:
			tgtAt, srcAt = 0, 1
		default:
			tgtAt, srcAt = 1, 2
		}
	case "bsdiff", "imgdiff":
		for i := 0; i < 2 && i < len(a); i++ {
			if _, err := strconv.ParseUint(a[i], 10, 63); err != nil {
				return fmt.Errorf("patch offset/length %q: %w", clip(a[i]), extract.ErrCorrupt)
			}
		}
		switch tl.Version {
		case 1:
			tgtAt, srcAt = 3, 2
		case 2:
			tgtAt, srcAt = 2, 3
		default:
			tgtAt, srcAt = 4, 5
		}
	case "stash":
		if tl.Version < 2 {
			return fmt.Errorf("stash in version %d: %w", tl.Version, extract.ErrCorrupt)
		}
		if err := need(2); err != nil {
			return err
		}
		c.Source, err = ParseRangeSet(a[1])
		return err
	case "free":
		return need(1)
	case "abort":
		return nil
	case "compute_hash_tree":
		if err := need(2); err != nil {
			return err
		}
		if c.Target, err = ParseRangeSet(a[0]); err != nil {
			return err
		}
		c.Source, err = ParseRangeSet(a[1])
		return err
	default:
		return fmt.Errorf("unknown command %q: %w", clip(c.Name), extract.ErrUnsupported)
	}
	if err := need(max(tgtAt, srcAt) + 1); err != nil {
		return err
	}
	if c.Target, err = ParseRangeSet(a[tgtAt]); err != nil {
		return fmt.Errorf("target: %w", err)
	}
	if srcAt < 0 {
		return nil
	}
	if tl.Version == 1 {
		if c.Source, err = ParseRangeSet(a[srcAt]); err != nil {
			return fmt.Errorf("source: %w", err)
		}
		return nil
	}
	// Version >= 2: <src_block_count> then "-" (all from stash) or a range set.
	n, perr := strconv.ParseInt(a[srcAt], 10, 64)
	if perr != nil || n < 0 || n > maxBlock {
		return fmt.Errorf("source block count %q: %w", clip(a[srcAt]), extract.ErrCorrupt)
	}
	if srcAt+1 < len(a) && a[srcAt+1] != "-" {
		if c.Source, err = ParseRangeSet(a[srcAt+1]); err != nil {
			return fmt.Errorf("source: %w", err)
		}
		if c.Source.Blocks() > n {
			return fmt.Errorf("source has %d blocks, count says %d: %w", c.Source.Blocks(), n, extract.ErrCorrupt)
		}
	}
	return nil
}

// ParseRangeSet parses "N,a1,b1,a2,b2,...": N values forming N/2 half-open
// ranges, each non-empty, ascending and not overlapping the previous one.
func ParseRangeSet(s string) (RangeSet, error) {
	f := strings.Split(s, ",")
	n, err := strconv.Atoi(f[0])
	switch {
	case err != nil:
		return nil, fmt.Errorf("range set %q: bad count: %w", clip(s), extract.ErrCorrupt)
	case n <= 0 || n%2 != 0:
		return nil, fmt.Errorf("range set %q: count %d is not a positive even number: %w", clip(s), n, extract.ErrCorrupt)
	case n != len(f)-1:
		return nil, fmt.Errorf("range set %q: count %d but %d values: %w", clip(s), n, len(f)-1, extract.ErrCorrupt)
	}
	rs := make(RangeSet, 0, n/2)
	var prev int64
	for i := 1; i < len(f); i += 2 {
		a, err1 := strconv.ParseInt(f[i], 10, 64)
		b, err2 := strconv.ParseInt(f[i+1], 10, 64)
		switch {
		case err1 != nil || err2 != nil:
			return nil, fmt.Errorf("range set %q: value %d is not a number: %w", clip(s), i, extract.ErrCorrupt)
		case a < 0 || b > maxBlock:
			return nil, fmt.Errorf("range set %q: range %d-%d outside 0-%d: %w", clip(s), a, b, int64(maxBlock), extract.ErrCorrupt)
		case a >= b:
			return nil, fmt.Errorf("range set %q: range %d-%d is empty or reversed: %w", clip(s), a, b, extract.ErrCorrupt)
		case a < prev:
			return nil, fmt.Errorf("range set %q: range %d-%d not after the previous end %d: %w", clip(s), a, b, prev, extract.ErrCorrupt)
		}
		rs = append(rs, Range{a, b})
		prev = b
	}
	return rs, nil
}

// clip shortens attacker-controlled text quoted in an error.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// NeedsBase reports whether applying the list reads a source image (an
// incremental update: move, bsdiff, imgdiff or stash).
func (tl *TransferList) NeedsBase() bool { return tl.firstBase() != nil }

func (tl *TransferList) firstBase() *Command {
	for i := range tl.Commands {
		if tl.Commands[i].readsBase() {
			return &tl.Commands[i]
		}
	}
	return nil
}

// MaxBlock returns one past the highest block any command touches.
func (tl *TransferList) MaxBlock() int64 {
	var m int64
	for _, c := range tl.Commands {
		for _, rs := range []RangeSet{c.Target, c.Source} {
			if len(rs) > 0 {
				m = max(m, rs[len(rs)-1].End)
			}
		}
	}
	return m
}

// extent maps target blocks [start, end) onto new.dat from block data.
type extent struct {
	start, end, data int64
}

// Image is the target partition of a full block OTA. Safe for concurrent reads.
type Image struct {
	r       io.ReaderAt
	size    int64
	extents []extent // sorted, non-overlapping
}

// NewImage maps a full OTA's target partition: blocks of `new` commands are
// read in order from consecutive blocks of newData; zero, erase and unwritten
// blocks read as zeros. Lists that read a source image fail with an error
// wrapping extract.ErrNeedsBase.
func NewImage(tl *TransferList, newData io.ReaderAt, newDataSize int64) (*Image, error) {
	if c := tl.firstBase(); c != nil {
		return nil, fmt.Errorf("blockota: line %d: %s reads the source image: %w", c.Line, c.Name, extract.ErrNeedsBase)
	}
	im := &Image{r: newData, size: tl.MaxBlock() * BlockSize}
	var next int64 // next new.dat block
	for _, c := range tl.Commands {
		if c.Name != "new" {
			continue
		}
		for _, rg := range c.Target {
			n := rg.End - rg.Start
			if (next+n)*BlockSize > newDataSize {
				return nil, fmt.Errorf("blockota: line %d: new range %d-%d needs new.dat up to byte %d, but it has %d: %w",
					c.Line, rg.Start, rg.End, (next+n)*BlockSize, newDataSize, extract.ErrCorrupt)
			}
			im.extents = append(im.extents, extent{rg.Start, rg.End, next})
			next += n
		}
	}
	sort.Slice(im.extents, func(i, j int) bool { return im.extents[i].start < im.extents[j].start })
	for i := 1; i < len(im.extents); i++ {
		if im.extents[i].start < im.extents[i-1].end {
			return nil, fmt.Errorf("blockota: block %d written twice by new: %w", im.extents[i].start, extract.ErrCorrupt)
		}
	}
	// A zero or erase after a new of the same block would overwrite it; full
	// OTAs never do that, so refuse rather than guess.
	seenNew := false
	for _, c := range tl.Commands {
		switch c.Name {
		case "new":
			seenNew = true
		case "zero", "erase":
			if !seenNew {
				continue
			}
			for _, rg := range c.Target {
				if im.overlaps(rg) {
					return nil, fmt.Errorf("blockota: line %d: %s of blocks %d-%d written earlier by new: %w",
						c.Line, c.Name, rg.Start, rg.End, extract.ErrUnsupported)
				}
			}
		}
	}
	return im, nil
}

func (im *Image) overlaps(rg Range) bool {
	i := sort.Search(len(im.extents), func(i int) bool { return im.extents[i].end > rg.Start })
	return i < len(im.extents) && im.extents[i].start < rg.End
}

// Size returns the partition size: one past the highest block touched, in bytes.
func (im *Image) Size() int64 { return im.size }

// ReadAt reads the target partition.
func (im *Image) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("blockota: read at %d: negative offset", off)
	}
	if off >= im.size {
		return 0, io.EOF
	}
	var eof error
	if rem := im.size - off; int64(len(p)) > rem {
		p, eof = p[:rem], io.EOF
	}
	i := sort.Search(len(im.extents), func(i int) bool { return im.extents[i].end*BlockSize > off })
	n := 0
	for n < len(p) {
		pos := off + int64(n)
		if i >= len(im.extents) {
			clear(p[n:])
			break
		}
		e := im.extents[i]
		if s := e.start * BlockSize; pos < s {
			k := int(min(int64(len(p)-n), s-pos))
			clear(p[n : n+k])
			n += k
			continue
		}
		rel := pos - e.start*BlockSize
		k := int(min(int64(len(p)-n), e.end*BlockSize-pos))
		m, err := im.r.ReadAt(p[n:n+k], e.data*BlockSize+rel)
		if m < k {
			if err == nil || errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return n + m, fmt.Errorf("blockota: read new.dat at %d: %w", e.data*BlockSize+rel, err)
		}
		n += k
		i++
	}
	return len(p), eof
}
