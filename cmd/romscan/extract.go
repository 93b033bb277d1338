package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"regexp"
	"strings"
	"sync"

	"github.com/romscan/romscan/extract"
	"github.com/romscan/romscan/extract/erofs"
	"github.com/romscan/romscan/extract/ext4"
	"github.com/romscan/romscan/extract/walk"
	"github.com/romscan/romscan/report"
)

// cmdExtract writes the files of a container (and, with --recursive, of
// every container nested in it) under DIR. Every write goes through an
// os.Root on DIR, so no name from the image can escape it.
func cmdExtract(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("extract", flag.ContinueOnError)
	fs.SetOutput(stderr)
	lim := extract.DefaultLimits()
	dir := fs.String("d", "", "output `DIR` (created if missing; required)")
	recursive := fs.Bool("recursive", false, "also unpack containers nested inside (APKs are written whole)")
	quiet := fs.Bool("quiet", false, "no summary on stderr")
	fs.Var(sizeFlag{&lim.MaxFileSize, true}, "max-file-size", "largest member written (e.g. 4GiB)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: romscan extract [--recursive] IMAGE -d DIR\n\nWrite the files of a ROM image, OTA zip, sparse/ext4/EROFS/super image or payload.bin under DIR.\n\nFlags:")
		fs.PrintDefaults()
	}
	paths, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, nil
		}
		return exitUsage, usagef("%v", err)
	}
	if len(paths) != 1 || *dir == "" {
		return exitUsage, usagef("extract needs one IMAGE and -d DIR")
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return exitNothing, err
	}
	root, err := os.OpenRoot(*dir)
	if err != nil {
		return exitNothing, err
	}
	defer root.Close()
	spill := &walk.Spiller{Max: lim.MaxSpillBytes}
	defer spill.Close()

	x := &extractor{root: root, seen: map[string]int{}}
	w := walk.New(lim, spill)
	w.Descend = func(loc extract.Location, format string) bool {
		if format == "apk" {
			return false
		}
		// Layers that add no hop (sparse, compression) are always unpacked;
		// other containers only at the top unless --recursive.
		return *recursive || len(loc) == 1
	}
	var errCount int
	w.OnError = func(loc extract.Location, err error) {
		errCount++
		fmt.Fprintf(stderr, "romscan: %s: %s\n", report.Clean(loc.String()), report.Clean(err.Error()))
	}
	w.Visit = func(l *walk.Leaf) {
		defer l.Done()
		if len(l.Loc) < 2 {
			return // the input itself is not a container
		}
		if err := x.write(ctx, l); err != nil {
			errCount++
			fmt.Fprintf(stderr, "romscan: %s: %s\n", report.Clean(l.Loc.String()), report.Clean(err.Error()))
		}
	}
	if err := w.Walk(ctx, paths); err != nil {
		return exitNothing, err
	}
	if !*quiet {
		fmt.Fprintf(stderr, "romscan: wrote %d files (%d bytes) under %s; %d errors\n", x.files, x.bytes, *dir, errCount)
	}
	if x.files == 0 {
		return exitNothing, fmt.Errorf("nothing extracted from %s", paths[0])
	}
	return exitOK, nil
}

var newDat = regexp.MustCompile(`\.new\.dat(\.br|\.xz)?$`)

type extractor struct {
	root  *os.Root
	mu    sync.Mutex
	seen  map[string]int
	files int
	bytes int64
}

// write copies one leaf to its mapped path.
func (x *extractor) write(ctx context.Context, l *walk.Leaf) error {
	hops := append([]string{}, l.Loc[1:]...)
	if last := hops[len(hops)-1]; (ext4.Sniff(l.Head) || erofs.Sniff(l.Head)) && newDat.MatchString(last) {
		// A block OTA's new.dat decoded through its transfer list is the
		// partition image: name it so.
		hops[len(hops)-1] = newDat.ReplaceAllString(last, ".img")
	}
	rel, err := ExtractPath(hops)
	if err != nil {
		return err
	}
	x.mu.Lock()
	if n := x.seen[rel]; n > 0 {
		// Duplicate names (zip entries Android accepts twice): keep all.
		x.seen[rel] = n + 1
		rel = fmt.Sprintf("%s~%d", rel, n+1)
	} else {
		x.seen[rel] = 1
	}
	x.mu.Unlock()
	if d := path.Dir(rel); d != "." {
		if err := x.root.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	f, err := x.root.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	n, err := io.Copy(f, extract.ContextReader(ctx, io.NewSectionReader(l.R, 0, l.Size)))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	x.mu.Lock()
	x.files++
	x.bytes += n
	x.mu.Unlock()
	return err
}

// ExtractPath maps location hops below the input to a relative, local,
// slash-separated path: every hop is split on "/" (and "\"), empty, "." and
// ".." components are dropped, and control bytes and ":" are replaced, so
// no name from an image can climb out of the output folder or name a device.
func ExtractPath(hops []string) (string, error) {
	var parts []string
	for _, h := range hops {
		for _, c := range strings.FieldsFunc(h, func(r rune) bool { return r == '/' || r == '\\' }) {
			if c == "." || c == ".." {
				continue
			}
			c = strings.Map(func(r rune) rune {
				if r < 0x20 || r == 0x7f || r == ':' || r == '*' || r == '?' || r == '"' || r == '<' || r == '>' || r == '|' {
					return '_'
				}
				return r
			}, c)
			if len(c) > 255 {
				c = c[:255]
			}
			parts = append(parts, c)
		}
	}
	if len(parts) == 0 {
		return "", fmt.Errorf("extract: no usable name in %q: %w", strings.Join(hops, "!"), extract.ErrCorrupt)
	}
	return strings.Join(parts, "/"), nil
}
