// Package elfstr reads the facts analyzers want from a native library
// (lib/arm64-v8a/libfoo.so): machine, soname, needed libraries, imported and
// exported dynamic symbols (JNI_OnLoad and Java_* mark JNI entry points) and
// the printable strings of its data sections, with their file offsets.
package elfstr

import (
	"bufio"
	"context"
	"debug/elf"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/romscan/romscan/extract"
)

// MaxStringLen bounds one reported string; longer runs are split.
const MaxStringLen = 4096

// maxSymbols bounds the dynamic symbols read from one library.
const maxSymbols = 1 << 20

// Lib is an opened ELF shared library.
type Lib struct {
	r        io.ReaderAt
	size     int64
	machine  string
	soname   string
	needed   []string
	imported []string
	exported []string
	regions  []region
}

type region struct {
	name      string
	off, size int64
}

// Open parses the ELF file in r (size bytes). A library without a dynamic
// symbol table (stripped of section headers, or static) opens with empty
// symbol lists; its strings are then read from its non-executable segments.
func Open(r io.ReaderAt, size int64) (l *Lib, err error) {
	defer func() {
		if p := recover(); p != nil {
			l, err = nil, extract.PanicError("elf: malformed file", p)
		}
	}()
	if size < 16 {
		return nil, fmt.Errorf("elf: file of %d bytes: %w", size, extract.ErrNotFormat)
	}
	var magic [4]byte
	if _, err := r.ReadAt(magic[:], 0); err != nil {
		return nil, fmt.Errorf("elf: read magic: %w", err)
	}
	if string(magic[:]) != elf.ELFMAG {
		return nil, fmt.Errorf("elf: bad magic %q: %w", magic[:], extract.ErrNotFormat)
	}
	ef, err := elf.NewFile(io.NewSectionReader(r, 0, size))
	if err != nil {
		return nil, fmt.Errorf("elf: %v: %w", err, extract.ErrCorrupt)
	}
	l = &Lib{r: r, size: size, machine: machineName(ef.Machine)}
	for _, s := range ef.Sections {
		if s.Offset > uint64(size) || s.Type != elf.SHT_NOBITS && s.Size > uint64(size)-s.Offset {
			return nil, fmt.Errorf("elf: section %q [%#x,+%#x) past end of %d-byte file: %w", s.Name, s.Offset, s.Size, size, extract.ErrCorrupt)
		}
	}
	if v, err := ef.DynString(elf.DT_SONAME); err == nil && len(v) > 0 {
		l.soname = v[0]
	}
	if v, err := ef.DynString(elf.DT_NEEDED); err == nil {
		l.needed = v
	}
	if syms, err := ef.DynamicSymbols(); err == nil {
		if len(syms) > maxSymbols {
			return nil, fmt.Errorf("elf: %d dynamic symbols: %w", len(syms), extract.ErrLimit)
		}
		for _, s := range syms {
			if s.Name == "" {
				continue
			}
			bind := elf.ST_BIND(s.Info)
			switch {
			case s.Section == elf.SHN_UNDEF:
				l.imported = append(l.imported, s.Name)
			case bind == elf.STB_GLOBAL || bind == elf.STB_WEAK:
				l.exported = append(l.exported, s.Name)
			}
		}
	}
	l.imported = dedupe(l.imported)
	l.exported = dedupe(l.exported)
	l.regions = stringRegions(ef, size)
	return l, nil
}

func dedupe(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// stringRegions picks the sections holding constant data: allocated,
// non-executable PROGBITS (.rodata*, .data*, .data.rel.ro, .comment is not
// allocated) plus .dynstr. Without section headers, non-executable PT_LOAD
// segments stand in.
func stringRegions(ef *elf.File, size int64) []region {
	var out []region
	for _, s := range ef.Sections {
		keep := s.Type == elf.SHT_PROGBITS && s.Flags&elf.SHF_ALLOC != 0 && s.Flags&elf.SHF_EXECINSTR == 0 ||
			s.Name == ".dynstr"
		if !keep || s.Size == 0 || s.Offset > uint64(size) || s.Size > uint64(size)-s.Offset {
			continue
		}
		out = append(out, region{s.Name, int64(s.Offset), int64(s.Size)})
	}
	if len(out) > 0 {
		return out
	}
	for i, p := range ef.Progs {
		if p.Type != elf.PT_LOAD || p.Flags&elf.PF_X != 0 || p.Filesz == 0 || p.Off > uint64(size) || p.Filesz > uint64(size)-p.Off {
			continue
		}
		out = append(out, region{fmt.Sprintf("segment%d", i), int64(p.Off), int64(p.Filesz)})
	}
	return out
}

// Machine returns the target machine ("arm", "aarch64", "x86", "x86_64", ...).
func (l *Lib) Machine() string { return l.machine }

// Soname returns DT_SONAME, or "".
func (l *Lib) Soname() string { return l.soname }

// Needed returns the DT_NEEDED libraries in order.
func (l *Lib) Needed() []string { return l.needed }

// ImportedSymbols returns the undefined dynamic symbols, sorted.
func (l *Lib) ImportedSymbols() []string { return l.imported }

// ExportedSymbols returns the defined global or weak dynamic symbols, sorted.
func (l *Lib) ExportedSymbols() []string { return l.exported }

// JNI returns the exported JNI entry points: JNI_OnLoad, JNI_OnUnload and
// Java_* functions.
func (l *Lib) JNI() []string {
	var out []string
	for _, s := range l.exported {
		if s == "JNI_OnLoad" || s == "JNI_OnUnload" || strings.HasPrefix(s, "Java_") {
			out = append(out, s)
		}
	}
	return out
}

func machineName(m elf.Machine) string {
	switch m {
	case elf.EM_ARM:
		return "arm"
	case elf.EM_AARCH64:
		return "aarch64"
	case elf.EM_386:
		return "x86"
	case elf.EM_X86_64:
		return "x86_64"
	case elf.EM_MIPS:
		return "mips"
	case elf.EM_RISCV:
		return "riscv"
	}
	return strings.ToLower(strings.TrimPrefix(m.String(), "EM_"))
}

// Strings calls fn for every run of printable ASCII or UTF-8 text of at
// least minLen bytes in the library's data sections, with its file offset and
// section name. Runs longer than MaxStringLen are reported in pieces. An
// error from fn stops the walk and is returned.
func (l *Lib) Strings(ctx context.Context, minLen int, fn func(s string, off int64, section string) error) error {
	if minLen < 1 {
		minLen = 1
	}
	br := readers.Get().(*bufio.Reader)
	defer func() {
		br.Reset(nil)
		readers.Put(br)
	}()
	for _, rg := range l.regions {
		if err := ctx.Err(); err != nil {
			return err
		}
		br.Reset(io.NewSectionReader(l.r, rg.off, rg.size))
		if err := scan(ctx, br, rg.off, minLen, rg.name, fn); err != nil {
			return err
		}
	}
	return nil
}

// readers reuses the read buffers of Strings: a library has several
// regions and a ROM thousands of libraries.
var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 64<<10) }}

// scan reads br (starting at file offset base) and reports printable runs.
func scan(ctx context.Context, br *bufio.Reader, base int64, minLen int, section string, fn func(string, int64, string) error) error {
	buf := make([]byte, 0, MaxStringLen)
	var start, pos int64
	flush := func() error {
		if len(buf) >= minLen {
			if err := fn(string(buf), base+start, section); err != nil {
				return err
			}
		}
		buf = buf[:0]
		return nil
	}
	for n := 0; ; n++ {
		if n&0xffff == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		c, err := br.ReadByte()
		if err == io.EOF {
			return flush()
		}
		if err != nil {
			return fmt.Errorf("elf: read %s at %#x: %w", section, base+pos, err)
		}
		size := 1
		ok := c >= 0x20 && c < 0x7f || c == '\t'
		if c >= 0xc2 && c <= 0xf4 {
			// A multi-byte rune: peek its continuation bytes.
			need := 2
			if c >= 0xe0 {
				need = 3
			}
			if c >= 0xf0 {
				need = 4
			}
			if more, _ := br.Peek(need - 1); len(more) == need-1 {
				seq := append([]byte{c}, more...)
				if r, sz := utf8.DecodeRune(seq); r != utf8.RuneError && sz == need && unicode.IsPrint(r) {
					ok, size = true, need
				}
			}
		}
		if !ok {
			if err := flush(); err != nil {
				return err
			}
			pos++
			continue
		}
		if len(buf)+size > MaxStringLen {
			if err := flush(); err != nil {
				return err
			}
		}
		if len(buf) == 0 {
			start = pos
		}
		buf = append(buf, c)
		for i := 1; i < size; i++ {
			b, _ := br.ReadByte()
			buf = append(buf, b)
		}
		pos += int64(size)
	}
}
