package walk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/romscan/romscan/extract/bootimg"
	"github.com/romscan/romscan/extract/vbmeta"
)

// bootFormat lists the ramdisk of a boot, init_boot or vendor_boot image, so
// init*.rc, default.prop and build.prop in it reach the analyzers. Members
// are named from the ramdisk root ("boot.img!/init.rc"); the kernel, the DTB
// and the other raw parts are not listed.
type bootFormat struct{}

func (bootFormat) Name() string                        { return "bootimg" }
func (bootFormat) Sniff(head []byte, name string) bool { return bootimg.Sniff(head) }
func (bootFormat) Open(ctx context.Context, src Source, env *Env) (Container, error) {
	im, err := bootimg.Open(src.R, src.Size, env.Limits)
	if err != nil {
		return nil, err
	}
	if _, err := fs.Stat(im, bootimg.RamdiskDir); errors.Is(err, fs.ErrNotExist) {
		// No ramdisk (a GKI boot.img whose ramdisk lives in init_boot): a
		// container without members, still listed among the containers.
		return &infoContainer{}, nil
	} else if err != nil {
		// A ramdisk that does not decompress or parse: the image is still a
		// boot image, so report the error rather than try other formats.
		return nil, fmt.Errorf("bootimg: ramdisk: %w", err)
	}
	sub, err := fs.Sub(im, bootimg.RamdiskDir)
	if err != nil {
		return nil, fmt.Errorf("bootimg: ramdisk: %w", err)
	}
	return &fsContainer{fsys: sub, slash: true, maxFiles: env.Limits.MaxEntries}, nil
}

// vbmetaFormat recognises an AVB vbmeta image ("AVB0"). It has no members;
// its property descriptors (com.android.build.<partition>.fingerprint, ...)
// become notes for the report.
type vbmetaFormat struct{}

func (vbmetaFormat) Name() string { return "vbmeta" }
func (vbmetaFormat) Sniff(head []byte, name string) bool {
	return bytes.HasPrefix(head, []byte(vbmetaMagic))
}
func (vbmetaFormat) Open(ctx context.Context, src Source, env *Env) (Container, error) {
	v, err := vbmeta.Parse(src.R, src.Size)
	if err != nil {
		return nil, err
	}
	return &infoContainer{notes: vbmetaNotes(v)}, nil
}

const vbmetaMagic = "AVB0"

// maxNotes bounds the notes one container adds to the report.
const maxNotes = 64

// vbmetaNotes summarises a vbmeta image: its algorithm and signature state,
// then each property descriptor, with control bytes stripped.
func vbmetaNotes(v *vbmeta.VBMeta) []string {
	sig := "unsigned"
	switch {
	case v.SignatureValid:
		sig = "signature valid"
	case v.Algorithm != "" && v.Algorithm != "NONE":
		sig = "signature NOT valid"
	}
	notes := []string{fmt.Sprintf("vbmeta: %s, %s, rollback index %d, %d hash and %d hashtree descriptors, %d chained partitions",
		clean(v.Algorithm), sig, v.RollbackIndex, len(v.Hashes), len(v.Hashtrees), len(v.Chains))}
	if v.Flags&vbmeta.FlagVerificationDisabled != 0 {
		notes = append(notes, "vbmeta: verification disabled (flags)")
	} else if v.Flags&vbmeta.FlagHashtreeDisabled != 0 {
		notes = append(notes, "vbmeta: hashtree (dm-verity) disabled (flags)")
	}
	for _, p := range v.Properties {
		if len(notes) >= maxNotes {
			notes = append(notes, fmt.Sprintf("vbmeta: %d more properties not listed", len(v.Properties)-maxNotes+2))
			break
		}
		notes = append(notes, "vbmeta property "+clean(p.Key)+"="+clean(p.Value))
	}
	return notes
}

// clean strips control bytes and bounds the length of an attacker-chosen
// string before it reaches the report.
func clean(s string) string {
	const maxLen = 256
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return -1
		}
		return r
	}, s)
	if len(s) > maxLen {
		s = strings.ToValidUTF8(s[:maxLen], "") + "…"
	}
	return s
}

// Noter is a Container with facts for the report that are not findings
// (vbmeta properties); the walk copies them into ContainerInfo.Notes.
type Noter interface {
	Notes() []string
}

// infoContainer is a recognised container with no members to walk.
type infoContainer struct{ notes []string }

func (c *infoContainer) Members(ctx context.Context, fn func(Member) error) error { return nil }
func (c *infoContainer) Close() error                                             { return nil }

// Notes returns what the container says about itself.
func (c *infoContainer) Notes() []string { return c.notes }

// containerNotes returns c's notes when it has any.
func containerNotes(c Container) []string {
	if n, ok := c.(Noter); ok {
		return n.Notes()
	}
	return nil
}
