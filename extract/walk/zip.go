package walk

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/romscan/romscan/extract"
	"github.com/romscan/romscan/internal/android"
)

type zipFormat struct{}

func (zipFormat) Name() string { return "zip" }

func (zipFormat) Sniff(head []byte, name string) bool { return isZip(head) }

func (zipFormat) Open(ctx context.Context, src Source, env *Env) (Container, error) {
	return openZip(ctx, src, env, false)
}

// zipHasAndroidRoot tells an APK without an .apk name (a JAR with DEX, a
// renamed APK) from a plain zip.
func zipHasAndroidRoot(ra io.ReaderAt, size int64) bool {
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return false
	}
	for _, f := range zr.File {
		if f.Name == "AndroidManifest.xml" || f.Name == "classes.dex" {
			return true
		}
	}
	return false
}

type zipContainer struct {
	zr     *zip.Reader
	src    Source
	env    *Env
	apkSub bool
}

func openZip(ctx context.Context, src Source, env *Env, apkSub bool) (*zipContainer, error) {
	zr, err := zip.NewReader(src.R, src.Size)
	if err != nil {
		return nil, fmt.Errorf("zip: %w: %w", extract.ErrCorrupt, err)
	}
	return &zipContainer{zr: zr, src: src, env: env, apkSub: apkSub}, nil
}

// apkCovered says whether the APK analysis reads this member itself, so the
// walk need not descend into it.
func apkCovered(name string) bool {
	switch {
	case name == "AndroidManifest.xml" || name == "resources.arsc":
		return true
	case !strings.Contains(name, "/") && strings.HasPrefix(name, "classes") && strings.HasSuffix(name, ".dex"):
		return true
	case strings.HasPrefix(name, "lib/") && strings.HasSuffix(name, ".so"):
		return true
	case strings.HasPrefix(name, "res/") || strings.HasPrefix(name, "META-INF/"):
		return true
	}
	return false
}

// apkNestedExts are member names worth a look inside an APK.
var apkNestedExts = map[string]bool{
	".apk": true, ".jar": true, ".zip": true, ".dex": true, ".so": true, ".odex": true, ".vdex": true,
	".bin": true, ".dat": true, ".gz": true, ".xz": true, ".7z": false,
}

func (c *zipContainer) Members(ctx context.Context, fn func(Member) error) error {
	// The APK's analysis reads its DEX files itself, App Bundle modules'
	// (base/dex/classes.dex, ...) included.
	var appDex map[string]bool
	if c.apkSub {
		names := make([]string, len(c.zr.File))
		for i, f := range c.zr.File {
			names[i] = f.Name
		}
		appDex = map[string]bool{}
		for _, n := range android.DexNames(names) {
			appDex[n] = true
		}
	}
	for _, f := range c.zr.File {
		if err := ctx.Err(); err != nil {
			return err
		}
		if strings.HasSuffix(f.Name, "/") || f.Mode().IsDir() {
			continue
		}
		if c.apkSub && (apkCovered(f.Name) || appDex[f.Name] || !apkNestedExts[strings.ToLower(path.Ext(f.Name))]) {
			continue
		}
		zf := f
		size := int64(zf.UncompressedSize64)
		if size < 0 {
			size = 0
		}
		if err := fn(Member{Path: zf.Name, Size: size, Open: func(ctx context.Context) (io.ReaderAt, func(), error) {
			return c.open(ctx, zf)
		}}); err != nil {
			return err
		}
	}
	return nil
}

func (c *zipContainer) open(ctx context.Context, f *zip.File) (io.ReaderAt, func(), error) {
	if f.Method == zip.Store && f.CompressedSize64 == f.UncompressedSize64 {
		// Stored members are read in place: no copy, no temp bytes.
		off, err := f.DataOffset()
		if err != nil {
			return nil, nil, fmt.Errorf("zip: locate %q: %w: %w", f.Name, extract.ErrCorrupt, err)
		}
		size := int64(f.UncompressedSize64)
		if off < 0 || size < 0 || off > c.src.Size || size > c.src.Size-off {
			return nil, nil, fmt.Errorf("zip: member %q lies outside the archive: %w", f.Name, extract.ErrCorrupt)
		}
		return io.NewSectionReader(c.src.R, off, size), func() {}, nil
	}
	rc, err := f.Open()
	if err != nil {
		kind := extract.ErrCorrupt // a bad local header
		if errors.Is(err, zip.ErrAlgorithm) {
			kind = extract.ErrUnsupported
		}
		return nil, nil, fmt.Errorf("zip: open %q: %w: %w", f.Name, kind, err)
	}
	defer rc.Close()
	r := newRatioReader(rc, int64(f.CompressedSize64), c.env.Limits.MaxRatio)
	ra, release, err := c.env.Spill.Decode(ctx, r, int64(f.UncompressedSize64), c.env.Limits.MaxFileSize, f.Name)
	if err != nil {
		return nil, nil, fmt.Errorf("zip: %w", err)
	}
	return ra, release, nil
}

func (c *zipContainer) Close() error { return nil }
