package walk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/romscan/romscan/extract/bootimg"
	"github.com/romscan/romscan/extract/superimg"
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

// Notes lists every logical partition of the super image, with the empty
// ones (a super_empty.img, the unused slot of an A/B pair) that the walk
// does not descend into.
func (c *superContainer) Notes() []string {
	parts := c.s.Partitions()
	notes := []string{fmt.Sprintf("super: %d logical partitions on %d block devices", len(parts), len(c.s.BlockDevices()))}
	for _, p := range parts {
		if len(notes) >= maxNotes {
			notes = append(notes, fmt.Sprintf("super: %d more partitions not listed", len(parts)-maxNotes+1))
			break
		}
		var attrs []string
		for _, a := range []struct {
			bit  uint32
			name string
		}{{superimg.AttrReadonly, "readonly"}, {superimg.AttrSlotSuffixed, "slot-suffixed"}, {superimg.AttrUpdated, "updated"}, {superimg.AttrDisabled, "disabled"}} {
			if p.Attributes&a.bit != 0 {
				attrs = append(attrs, a.name)
			}
		}
		notes = append(notes, fmt.Sprintf("super: partition %s, group %s, %d bytes, %d extents%s",
			clean(p.Name), clean(p.Group), p.Size, len(p.Extents), listSuffix(attrs)))
	}
	return notes
}

// Notes lists the partitions of the payload and whether it is incremental.
func (c *payloadContainer) Notes() []string {
	parts := c.p.Partitions()
	kind := "full"
	if c.p.MinorVersion() != 0 {
		kind = fmt.Sprintf("incremental (minor version %d)", c.p.MinorVersion())
	}
	notes := []string{fmt.Sprintf("payload: %s, %d partitions", kind, len(parts))}
	for _, p := range parts {
		if len(notes) >= maxNotes {
			notes = append(notes, fmt.Sprintf("payload: %d more partitions not listed", len(parts)-maxNotes+1))
			break
		}
		var attrs []string
		if p.Incremental {
			attrs = append(attrs, "needs the base partition")
		}
		notes = append(notes, fmt.Sprintf("payload: partition %s, %d bytes, %d operations%s", clean(p.Name), p.Size, p.NumOps, listSuffix(attrs)))
	}
	return notes
}

func listSuffix(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return ", " + strings.Join(s, ", ")
}
