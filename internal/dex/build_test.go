package dex

import (
	"encoding/binary"
)

// testDEX describes a small DEX file built in code for unit tests and fuzz
// seeds (no corpus bytes are copied into the project).
type testDEX struct {
	strings []string    // stored as given (ASCII or raw MUTF-8)
	types   []uint32    // string indices
	protos  [][2]uint32 // shorty string, return type; no parameters...
	params  [][]uint16  // ...unless given here, per proto
	fields  [][3]uint32 // class type, type, name string
	methods [][3]uint32 // class type, proto, name string
	classes []testClass
}

type testClass struct {
	class, super uint32
	fields       []uint32 // instance field indices (ascending)
	methods      []testMethod
}

type testMethod struct {
	idx    uint32
	access uint32
	code   []uint16 // nil: no code
}

func uleb128(b []byte, v uint32) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// build lays the file out as d8 does: header, id tables, class defs, then the
// data section (string data, type lists, code items, class data, map list).
func (d testDEX) build() []byte {
	le := binary.LittleEndian
	const hdr = 0x70
	off := uint32(hdr)
	secOff := func(n, size int) uint32 {
		o := off
		off += uint32(n * size)
		if n == 0 {
			return 0
		}
		return o
	}
	strOff := secOff(len(d.strings), 4)
	typeOff := secOff(len(d.types), 4)
	protoOff := secOff(len(d.protos), 12)
	fieldOff := secOff(len(d.fields), 8)
	methodOff := secOff(len(d.methods), 8)
	classOff := secOff(len(d.classes), 32)
	dataOff := off
	b := make([]byte, off)
	copy(b, "dex\n035\x00")
	align := func() {
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
	}
	for i, s := range d.strings {
		le.PutUint32(b[strOff+4*uint32(i):], uint32(len(b)))
		b = uleb128(b, uint32(len(s)))
		b = append(b, s...)
		b = append(b, 0)
	}
	for i, t := range d.types {
		le.PutUint32(b[typeOff+4*uint32(i):], t)
	}
	for i, p := range d.protos {
		at := protoOff + 12*uint32(i)
		le.PutUint32(b[at:], p[0])
		le.PutUint32(b[at+4:], p[1])
		if i < len(d.params) && len(d.params[i]) > 0 {
			align()
			le.PutUint32(b[at+8:], uint32(len(b)))
			b = le.AppendUint32(b, uint32(len(d.params[i])))
			for _, t := range d.params[i] {
				b = le.AppendUint16(b, t)
			}
		}
	}
	for i, f := range d.fields {
		at := fieldOff + 8*uint32(i)
		le.PutUint16(b[at:], uint16(f[0]))
		le.PutUint16(b[at+2:], uint16(f[1]))
		le.PutUint32(b[at+4:], f[2])
	}
	for i, m := range d.methods {
		at := methodOff + 8*uint32(i)
		le.PutUint16(b[at:], uint16(m[0]))
		le.PutUint16(b[at+2:], uint16(m[1]))
		le.PutUint32(b[at+4:], m[2])
	}
	for i, c := range d.classes {
		codeOffs := make([]uint32, len(c.methods))
		for k, m := range c.methods {
			if m.code == nil {
				continue
			}
			align()
			codeOffs[k] = uint32(len(b))
			b = le.AppendUint16(b, 4) // registers
			b = le.AppendUint16(b, 1) // ins
			b = le.AppendUint16(b, 2) // outs
			b = le.AppendUint16(b, 0) // tries
			b = le.AppendUint32(b, 0) // debug info
			b = le.AppendUint32(b, uint32(len(m.code)))
			for _, u := range m.code {
				b = le.AppendUint16(b, u)
			}
		}
		dataAt := uint32(len(b))
		b = uleb128(b, 0)
		b = uleb128(b, uint32(len(c.fields)))
		b = uleb128(b, uint32(len(c.methods)))
		b = uleb128(b, 0)
		prev := uint32(0)
		for k, fi := range c.fields {
			if k == 0 {
				b = uleb128(b, fi)
			} else {
				b = uleb128(b, fi-prev)
			}
			prev = fi
			b = uleb128(b, AccPublic)
		}
		for k, m := range c.methods {
			if k == 0 {
				b = uleb128(b, m.idx)
			} else {
				b = uleb128(b, m.idx-prev)
			}
			prev = m.idx
			b = uleb128(b, m.access)
			b = uleb128(b, codeOffs[k])
		}
		at := classOff + 32*uint32(i)
		le.PutUint32(b[at:], c.class)
		le.PutUint32(b[at+4:], AccPublic)
		le.PutUint32(b[at+8:], c.super)
		le.PutUint32(b[at+16:], NoIndex)
		le.PutUint32(b[at+24:], dataAt)
	}
	align()
	mapOff := uint32(len(b))
	type item struct {
		typ      uint16
		n, where uint32
	}
	items := []item{{typeHeaderItem, 1, 0}}
	for _, it := range []item{{typeStringIDItem, uint32(len(d.strings)), strOff}, {typeTypeIDItem, uint32(len(d.types)), typeOff},
		{typeProtoIDItem, uint32(len(d.protos)), protoOff}, {typeFieldIDItem, uint32(len(d.fields)), fieldOff},
		{typeMethodIDItem, uint32(len(d.methods)), methodOff}, {typeClassDefItem, uint32(len(d.classes)), classOff}} {
		if it.n > 0 {
			items = append(items, it)
		}
	}
	items = append(items, item{typeMapList, 1, mapOff})
	b = le.AppendUint32(b, uint32(len(items)))
	for _, it := range items {
		b = le.AppendUint16(b, it.typ)
		b = le.AppendUint16(b, 0)
		b = le.AppendUint32(b, it.n)
		b = le.AppendUint32(b, it.where)
	}
	le.PutUint32(b[32:], uint32(len(b)))
	le.PutUint32(b[36:], hdr)
	le.PutUint32(b[40:], endianTag)
	le.PutUint32(b[52:], mapOff)
	for k, s := range []struct{ n, o uint32 }{
		{uint32(len(d.strings)), strOff}, {uint32(len(d.types)), typeOff}, {uint32(len(d.protos)), protoOff},
		{uint32(len(d.fields)), fieldOff}, {uint32(len(d.methods)), methodOff}, {uint32(len(d.classes)), classOff},
	} {
		le.PutUint32(b[56+8*k:], s.n)
		le.PutUint32(b[60+8*k:], s.o)
	}
	le.PutUint32(b[104:], uint32(len(b))-dataOff)
	le.PutUint32(b[108:], dataOff)
	return b
}

// sampleDEX is a small valid file: class LFoo; with a method run() that
// loads a string, reads a field, and calls LBar;->go(Ljava/lang/String;)V.
func sampleDEX() []byte {
	return testDEX{
		// 0 "LFoo;" 1 "LBar;" 2 "V" 3 "run" 4 "go" 5 "hi \xc0\x80" 6 "Ljava/lang/Object;"
		// 7 "Ljava/lang/String;" 8 "VL" 9 "x"
		strings: []string{"LFoo;", "LBar;", "V", "run", "go", "hi \xc0\x80", "Ljava/lang/Object;", "Ljava/lang/String;", "VL", "x"},
		types:   []uint32{0, 1, 2, 6, 7},
		protos:  [][2]uint32{{2, 2}, {8, 2}},
		params:  [][]uint16{nil, {4}},
		fields:  [][3]uint32{{0, 4, 9}},
		methods: [][3]uint32{{0, 0, 3}, {1, 1, 4}},
		classes: []testClass{{class: 0, super: 3, fields: []uint32{0}, methods: []testMethod{{idx: 0, access: AccPublic, code: []uint16{
			0x001a, 0x0005, // const-string v0, string@5
			0x1154, 0x0000, // iget-object v1, v1, field@0
			0x106e, 0x0001, 0x0000, // invoke-virtual {v0}, method@1
			0x000e, // return-void
		}}}}},
	}.build()
}
