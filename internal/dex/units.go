package dex

import (
	"encoding/binary"
	"unsafe"
)

// nativeLittleEndian says the host stores integers little-endian, as DEX does.
var nativeLittleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// codeUnits returns b (an even number of bytes) as little-endian 16-bit code
// units. When b is the file in memory (inPlace) on a little-endian host and
// suitably aligned, the units alias b: a method's code is then read without
// a copy, which matters because the code index and the flow pass each read
// every method. Otherwise the units are decoded into a new slice.
func codeUnits(b []byte, inPlace bool) []uint16 {
	n := len(b) / 2
	if n == 0 {
		return []uint16{}
	}
	if inPlace && nativeLittleEndian && uintptr(unsafe.Pointer(unsafe.SliceData(b)))%unsafe.Alignof(uint16(0)) == 0 {
		return unsafe.Slice((*uint16)(unsafe.Pointer(unsafe.SliceData(b))), n)
	}
	u := make([]uint16, n)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return u
}
