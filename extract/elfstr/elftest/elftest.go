// Package elftest builds small ELF64 little-endian shared objects in memory
// for tests and fuzz seeds: named sections, a dynamic symbol table and a
// dynamic section with DT_NEEDED and DT_SONAME. Addresses equal file offsets.
package elftest

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
)

// Section is one section to place in the image.
type Section struct {
	Name  string
	Type  elf.SectionType // SHT_PROGBITS when zero
	Flags elf.SectionFlag // SHF_ALLOC when zero
	Data  []byte
}

// Symbol is one dynamic symbol. Section names the section it is defined in;
// empty means undefined (an import). Value is relative to that section.
type Symbol struct {
	Name    string
	Section string
	Value   uint64
	Size    uint64
	Type    elf.SymType // STT_FUNC when zero
}

// Spec describes the shared object to build.
type Spec struct {
	Machine  elf.Machine // EM_AARCH64 when zero
	Soname   string
	Needed   []string
	Sections []Section
	Symbols  []Symbol
}

type strtab struct{ bytes.Buffer }

func (s *strtab) add(name string) uint32 {
	if s.Len() == 0 {
		s.WriteByte(0)
	}
	if name == "" {
		return 0
	}
	off := uint32(s.Len())
	s.WriteString(name)
	s.WriteByte(0)
	return off
}

// Build returns the bytes of the ELF file described by spec.
func Build(spec Spec) []byte {
	const (
		ehSize = 64
		phSize = 56
		shSize = 64
		nPh    = 2
	)
	le := binary.LittleEndian
	var dynstr strtab
	dynstr.add("")
	type sec struct {
		Section
		link, info uint32
		entsize    uint64
		off        uint64
	}
	secs := []sec{{}} // SHT_NULL
	for _, s := range spec.Sections {
		if s.Type == 0 {
			s.Type = elf.SHT_PROGBITS
		}
		if s.Flags == 0 {
			s.Flags = elf.SHF_ALLOC
		}
		secs = append(secs, sec{Section: s})
	}
	index := func(name string) uint16 {
		for i, s := range secs {
			if name != "" && s.Name == name {
				return uint16(i)
			}
		}
		return 0
	}
	// Dynamic section entries refer to dynstr offsets.
	var dyn bytes.Buffer
	for _, n := range spec.Needed {
		_ = binary.Write(&dyn, le, [2]uint64{uint64(elf.DT_NEEDED), uint64(dynstr.add(n))})
	}
	if spec.Soname != "" {
		_ = binary.Write(&dyn, le, [2]uint64{uint64(elf.DT_SONAME), uint64(dynstr.add(spec.Soname))})
	}
	_ = binary.Write(&dyn, le, [2]uint64{uint64(elf.DT_NULL), 0})

	// Lay out data: header, program headers, user sections, then the dynamic
	// tables; symbol values need section offsets, so place data first.
	off := uint64(ehSize + nPh*phSize)
	align := func(a uint64) { off = (off + a - 1) &^ (a - 1) }
	for i := 1; i < len(secs); i++ {
		align(16)
		secs[i].off = off
		if secs[i].Type != elf.SHT_NOBITS {
			off += uint64(len(secs[i].Data))
		}
	}
	var dynsym bytes.Buffer
	dynsym.Write(make([]byte, 24))
	for _, s := range spec.Symbols {
		typ := s.Type
		if typ == 0 {
			typ = elf.STT_FUNC
		}
		shndx := index(s.Section)
		var value uint64
		if shndx != 0 {
			value = secs[shndx].off + s.Value
		}
		_ = binary.Write(&dynsym, le, elf.Sym64{
			Name:  dynstr.add(s.Name),
			Info:  elf.ST_INFO(elf.STB_GLOBAL, typ),
			Shndx: shndx,
			Value: value,
			Size:  s.Size,
		})
	}
	dynstrIdx := uint32(len(secs))
	secs = append(secs,
		sec{Section: Section{Name: ".dynstr", Type: elf.SHT_STRTAB, Flags: elf.SHF_ALLOC, Data: dynstr.Bytes()}},
		sec{Section: Section{Name: ".dynsym", Type: elf.SHT_DYNSYM, Flags: elf.SHF_ALLOC, Data: dynsym.Bytes()}, link: dynstrIdx, info: 1, entsize: 24},
		sec{Section: Section{Name: ".dynamic", Type: elf.SHT_DYNAMIC, Flags: elf.SHF_ALLOC | elf.SHF_WRITE, Data: dyn.Bytes()}, link: dynstrIdx, entsize: 16},
	)
	var shstr strtab
	shstr.add("")
	names := make([]uint32, len(secs))
	for i := 1; i < len(secs); i++ {
		names[i] = shstr.add(secs[i].Name)
	}
	names = append(names, shstr.add(".shstrtab"))
	secs = append(secs, sec{Section: Section{Name: ".shstrtab", Type: elf.SHT_STRTAB, Flags: 0, Data: shstr.Bytes()}})
	secs[len(secs)-1].Flags = 0
	for i := int(dynstrIdx); i < len(secs); i++ {
		align(8)
		secs[i].off = off
		off += uint64(len(secs[i].Data))
	}
	align(8)
	shoff := off
	total := shoff + uint64(len(secs))*shSize
	out := make([]byte, total)

	copy(out, elf.ELFMAG)
	out[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	out[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	out[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	machine := spec.Machine
	if machine == 0 {
		machine = elf.EM_AARCH64
	}
	le.PutUint16(out[16:], uint16(elf.ET_DYN))
	le.PutUint16(out[18:], uint16(machine))
	le.PutUint32(out[20:], uint32(elf.EV_CURRENT))
	le.PutUint64(out[32:], ehSize) // phoff
	le.PutUint64(out[40:], shoff)
	le.PutUint16(out[52:], ehSize)
	le.PutUint16(out[54:], phSize)
	le.PutUint16(out[56:], nPh)
	le.PutUint16(out[58:], shSize)
	le.PutUint16(out[60:], uint16(len(secs)))
	le.PutUint16(out[62:], uint16(len(secs)-1))

	dynSec := secs[dynstrIdx+2]
	progs := []elf.Prog64{
		{Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R), Off: 0, Vaddr: 0, Paddr: 0, Filesz: shoff, Memsz: shoff, Align: 0x1000},
		{Type: uint32(elf.PT_DYNAMIC), Flags: uint32(elf.PF_R | elf.PF_W), Off: dynSec.off, Vaddr: dynSec.off, Paddr: dynSec.off,
			Filesz: uint64(len(dynSec.Data)), Memsz: uint64(len(dynSec.Data)), Align: 8},
	}
	var ph bytes.Buffer
	for _, p := range progs {
		_ = binary.Write(&ph, le, p)
	}
	copy(out[ehSize:], ph.Bytes())
	for i := 1; i < len(secs); i++ {
		s := secs[i]
		if s.Type != elf.SHT_NOBITS {
			copy(out[s.off:], s.Data)
		}
		var sh bytes.Buffer
		_ = binary.Write(&sh, le, elf.Section64{
			Name: names[i], Type: uint32(s.Type), Flags: uint64(s.Flags), Addr: s.off, Off: s.off,
			Size: uint64(len(s.Data)), Link: s.link, Info: s.info, Addralign: 8, Entsize: s.entsize,
		})
		copy(out[shoff+uint64(i)*shSize:], sh.Bytes())
	}
	return out
}
