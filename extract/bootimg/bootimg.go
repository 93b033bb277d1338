// Package bootimg reads Android boot images: boot.img and init_boot.img
// ("ANDROID!", header versions 0-4) and vendor_boot.img ("VNDRBOOT", 3-4).
// An Image is an fs.FS holding the raw parts ("kernel", "dtb", ...), the
// decompressed ramdisk as "ramdisk.cpio", and the ramdisk's files under
// "ramdisk/" (e.g. "ramdisk/init.rc").
package bootimg

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"sync"

	"github.com/romscan/romscan/extract"
)

// Names of the parts in an Image's file system.
const (
	RamdiskCpio = "ramdisk.cpio" // the decompressed ramdisk (all fragments, concatenated)
	RamdiskDir  = "ramdisk"      // the ramdisk's files
)

// Magics of boot and vendor_boot images.
const (
	BootMagic   = "ANDROID!"
	VendorMagic = "VNDRBOOT"
)

// Sniff reports whether head starts with a boot or vendor_boot magic.
func Sniff(head []byte) bool {
	return bytes.HasPrefix(head, []byte(BootMagic)) || bytes.HasPrefix(head, []byte(VendorMagic))
}

// Info holds the header fields of a boot image.
type Info struct {
	Vendor        bool   // a vendor_boot image
	HeaderVersion uint32 // 0-4
	HeaderSize    uint32 // declared header size (v1+), 0 when absent
	PageSize      uint32
	KernelSize    uint32
	RamdiskSize   uint32 // the ramdisk (vendor_boot: all vendor ramdisks)
	SecondSize    uint32
	RecoveryDTBO  uint32 // recovery_dtbo size (v1, v2)
	DTBSize       uint32
	SignatureSize uint32 // boot signature (boot v4)
	Bootconfig    uint32 // bootconfig size (vendor_boot v4)
	OSVersion     string // "11.0.0", "" when not set
	PatchLevel    string // "2020-08", "" when not set
	Name          string // board / product name
	Cmdline       string // cmdline + extra_cmdline
	// VendorRamdisks lists the vendor ramdisk table (vendor_boot v4).
	VendorRamdisks []VendorRamdisk
}

// VendorRamdisk is one entry of the vendor_boot v4 ramdisk table.
type VendorRamdisk struct {
	Name   string
	Type   uint32 // 1 platform, 2 recovery, 3 dlkm
	Offset uint32 // within the vendor ramdisk section
	Size   uint32
}

type part struct {
	name      string
	off, size int64
}

// Image is an opened boot image. It implements fs.FS, fs.ReadDirFS and
// fs.StatFS; its regular files implement extract.ReaderAtFile.
type Image struct {
	r     io.ReaderAt
	size  int64
	lim   extract.Limits
	info  Info
	parts []part // raw parts, in file order
	rds   []part // compressed ramdisk fragments

	once  sync.Once
	rd    []byte // decompressed ramdisk
	tree  *node
	rdErr error
}

var (
	_ fs.ReadDirFS = (*Image)(nil)
	_ fs.StatFS    = (*Image)(nil)
)

// Info returns the header fields.
func (im *Image) Info() Info { return im.info }

// Open parses the boot image header in r (size bytes). The ramdisk is
// decompressed on first use, within lim (MaxFileSize and MaxRatio; zero
// fields take extract.DefaultLimits).
func Open(r io.ReaderAt, size int64, lim extract.Limits) (*Image, error) {
	lim = lim.WithDefaults()
	const hdrRead = 4096
	h := make([]byte, hdrRead)
	n, err := r.ReadAt(h[:min(int64(hdrRead), max(size, 0))], 0)
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("bootimg: read header: %w", err)
	}
	h = h[:n]
	if !Sniff(h) {
		return nil, fmt.Errorf("bootimg: bad magic: %w", extract.ErrNotFormat)
	}
	im := &Image{r: r, size: size, lim: lim}
	if string(h[:8]) == VendorMagic {
		err = im.parseVendor(h)
	} else {
		err = im.parseBoot(h)
	}
	if err != nil {
		return nil, err
	}
	return im, nil
}

func u32(h []byte, off int) uint32 {
	if off+4 > len(h) {
		return 0
	}
	return binary.LittleEndian.Uint32(h[off:])
}

func cstr(h []byte, off, n int) string {
	if off >= len(h) {
		return ""
	}
	b := h[off:min(off+n, len(h))]
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

func need(h []byte, n int, what string) error {
	if len(h) < n {
		return fmt.Errorf("bootimg: %s header truncated at %d bytes (need %d): %w", what, len(h), n, extract.ErrCorrupt)
	}
	return nil
}

// osVersion decodes os_version: 7 bits each of A.B.C, then year-2000 and month.
func osVersion(v uint32) (string, string) {
	if v == 0 {
		return "", ""
	}
	ver, lvl := v>>11, v&0x7ff
	var s, p string
	if ver != 0 {
		s = fmt.Sprintf("%d.%d.%d", ver>>14, (ver>>7)&0x7f, ver&0x7f)
	}
	if lvl != 0 {
		p = fmt.Sprintf("%04d-%02d", 2000+(lvl>>4), lvl&0xf)
	}
	return s, p
}

// layout places sequential page-aligned parts after off and checks them
// against the file size.
type layout struct {
	im   *Image
	off  int64
	page int64
}

func (l *layout) add(name string, size uint32) (part, error) {
	p := part{name, l.off, int64(size)}
	if size == 0 {
		return p, nil
	}
	if p.off+p.size > l.im.size {
		return p, fmt.Errorf("bootimg: %s [%d,%d) past end of %d-byte image: %w", name, p.off, p.off+p.size, l.im.size, extract.ErrCorrupt)
	}
	l.off += (p.size + l.page - 1) / l.page * l.page
	return p, nil
}

func validPage(p uint32) bool { return p >= 512 && p <= 1<<20 && p&(p-1) == 0 }

func (im *Image) parseBoot(h []byte) error {
	if err := need(h, 48, "boot"); err != nil {
		return err
	}
	in := &im.info
	in.HeaderVersion = u32(h, 40)
	in.KernelSize = u32(h, 8)
	var names []string
	var sizes []uint32
	page := uint32(4096)
	var hdrLen int
	switch v := in.HeaderVersion; {
	case v == 3 || v == 4:
		in.RamdiskSize = u32(h, 12)
		in.OSVersion, in.PatchLevel = osVersion(u32(h, 16))
		in.HeaderSize = u32(h, 20)
		hdrLen = 44 + 1536
		if v == 4 {
			hdrLen += 4
			if err := need(h, hdrLen, "boot v4"); err != nil {
				return err
			}
			in.SignatureSize = u32(h, 44+1536)
		}
		if err := need(h, hdrLen, "boot v3"); err != nil {
			return err
		}
		in.Cmdline = cstr(h, 44, 1536)
		in.PageSize = page
		names = []string{"kernel", "", "boot_signature"}
		sizes = []uint32{in.KernelSize, in.RamdiskSize, in.SignatureSize}
	case v <= 2 || validPage(u32(h, 36)):
		if v > 2 {
			in.HeaderVersion = 0 // vendor-specific use of the field (e.g. dt_size)
		}
		hdrLen = 1632
		if in.HeaderVersion >= 1 {
			hdrLen += 16
		}
		if in.HeaderVersion == 2 {
			hdrLen += 12
		}
		if err := need(h, hdrLen, "boot"); err != nil {
			return err
		}
		in.RamdiskSize = u32(h, 16)
		in.SecondSize = u32(h, 24)
		page = u32(h, 36)
		in.PageSize = page
		in.OSVersion, in.PatchLevel = osVersion(u32(h, 44))
		in.Name = cstr(h, 48, 16)
		in.Cmdline = cstr(h, 64, 512) + cstr(h, 608, 1024)
		if in.HeaderVersion >= 1 {
			in.RecoveryDTBO = u32(h, 1632)
			in.HeaderSize = u32(h, 1644)
		}
		if in.HeaderVersion == 2 {
			in.DTBSize = u32(h, 1648)
		}
		names = []string{"kernel", "", "second", "recovery_dtbo", "dtb"}
		sizes = []uint32{in.KernelSize, in.RamdiskSize, in.SecondSize, in.RecoveryDTBO, in.DTBSize}
	default:
		return fmt.Errorf("bootimg: header version %d: %w", v, extract.ErrUnsupported)
	}
	if !validPage(page) {
		return fmt.Errorf("bootimg: page size %d: %w", page, extract.ErrCorrupt)
	}
	l := &layout{im: im, page: int64(page)}
	l.off = (int64(hdrLen) + l.page - 1) / l.page * l.page
	for i, name := range names {
		p, err := l.add(name, sizes[i])
		if name == "" {
			p.name = "ramdisk"
		}
		if err != nil {
			return err
		}
		if p.size == 0 {
			continue
		}
		if name == "" {
			im.rds = append(im.rds, p)
		} else {
			im.parts = append(im.parts, p)
		}
	}
	return nil
}

const (
	vendorV3Size    = 2112
	vendorV4Size    = 2128
	ramdiskEntrySz  = 108
	maxVendorTables = 1024
)

func (im *Image) parseVendor(h []byte) error {
	in := &im.info
	in.Vendor = true
	if err := need(h, vendorV3Size, "vendor_boot"); err != nil {
		return err
	}
	in.HeaderVersion = u32(h, 8)
	if in.HeaderVersion != 3 && in.HeaderVersion != 4 {
		return fmt.Errorf("bootimg: vendor_boot header version %d: %w", in.HeaderVersion, extract.ErrUnsupported)
	}
	in.PageSize = u32(h, 12)
	in.RamdiskSize = u32(h, 24)
	in.Cmdline = cstr(h, 28, 2048)
	in.Name = cstr(h, 2080, 16)
	in.HeaderSize = u32(h, 2096)
	in.DTBSize = u32(h, 2100)
	var tableSize, entries, entrySize uint32
	if in.HeaderVersion == 4 {
		if err := need(h, vendorV4Size, "vendor_boot v4"); err != nil {
			return err
		}
		tableSize, entries, entrySize = u32(h, 2112), u32(h, 2116), u32(h, 2120)
		in.Bootconfig = u32(h, 2124)
	}
	if !validPage(in.PageSize) {
		return fmt.Errorf("bootimg: vendor_boot page size %d: %w", in.PageSize, extract.ErrCorrupt)
	}
	hdr := int64(vendorV3Size)
	if in.HeaderVersion == 4 {
		hdr = vendorV4Size
	}
	l := &layout{im: im, page: int64(in.PageSize)}
	l.off = (hdr + l.page - 1) / l.page * l.page
	rd, err := l.add("vendor_ramdisk", in.RamdiskSize)
	if err != nil {
		return err
	}
	dtb, err := l.add("dtb", in.DTBSize)
	if err != nil {
		return err
	}
	if dtb.size > 0 {
		im.parts = append(im.parts, dtb)
	}
	if in.HeaderVersion == 3 || tableSize == 0 {
		if rd.size > 0 {
			im.rds = append(im.rds, rd)
		}
		if in.HeaderVersion == 3 {
			return nil
		}
	}
	table, err := l.add("vendor_ramdisk_table", tableSize)
	if err != nil {
		return err
	}
	bc, err := l.add("bootconfig", in.Bootconfig)
	if err != nil {
		return err
	}
	if bc.size > 0 {
		im.parts = append(im.parts, bc)
	}
	if tableSize == 0 {
		return nil
	}
	if entries > maxVendorTables || entrySize < ramdiskEntrySz || int64(entries)*int64(entrySize) > table.size {
		return fmt.Errorf("bootimg: vendor ramdisk table: %d entries of %d bytes in %d: %w", entries, entrySize, table.size, extract.ErrCorrupt)
	}
	tb := make([]byte, int64(entries)*int64(entrySize))
	if _, err := im.r.ReadAt(tb, table.off); err != nil {
		return fmt.Errorf("bootimg: read vendor ramdisk table: %w", err)
	}
	for i := 0; i < int(entries); i++ {
		e := tb[i*int(entrySize):]
		vr := VendorRamdisk{Size: u32(e, 0), Offset: u32(e, 4), Type: u32(e, 8), Name: cstr(e, 12, 32)}
		if int64(vr.Offset)+int64(vr.Size) > rd.size {
			return fmt.Errorf("bootimg: vendor ramdisk %q [%d,+%d) outside the %d-byte ramdisk section: %w", vr.Name, vr.Offset, vr.Size, rd.size, extract.ErrCorrupt)
		}
		in.VendorRamdisks = append(in.VendorRamdisks, vr)
		if vr.Size > 0 {
			im.rds = append(im.rds, part{"ramdisk " + vr.Name, rd.off + int64(vr.Offset), int64(vr.Size)})
		}
	}
	return nil
}
