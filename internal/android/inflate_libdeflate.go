//go:build cgo && !purego

package android

/*
#cgo LDFLAGS: -ldeflate
#include <libdeflate.h>
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// libdeflate decodes a whole deflate stream about three times as fast as a
// streaming decoder. Its decompressors hold no input between calls: a few
// are kept for reuse, and freed beyond that.
var decompressors = make(chan *C.struct_libdeflate_decompressor, 2*runtime.GOMAXPROCS(0))

func getDecompressor() *C.struct_libdeflate_decompressor {
	select {
	case d := <-decompressors:
		return d
	default:
		return C.libdeflate_alloc_decompressor()
	}
}

func putDecompressor(d *C.struct_libdeflate_decompressor) {
	select {
	case decompressors <- d:
	default:
		C.libdeflate_free_decompressor(d)
	}
}

// inflateWhole decodes the raw deflate stream in into out[:cap(out)] and
// returns the decoded bytes, or ok false when the stream does not decode
// completely within cap(out) bytes (corrupt, truncated, or larger than
// declared): the caller then uses the streaming decoder, whose handling of
// those cases is the reference. Bytes after the final block are ignored, as
// the streaming decoder does.
func inflateWhole(in, out []byte) ([]byte, bool) {
	out = out[:cap(out)]
	if len(in) == 0 || len(out) == 0 {
		return nil, false
	}
	d := getDecompressor()
	if d == nil {
		return nil, false
	}
	defer putDecompressor(d)
	var inUsed, n C.size_t
	r := C.libdeflate_deflate_decompress_ex(d, unsafe.Pointer(&in[0]), C.size_t(len(in)), unsafe.Pointer(&out[0]), C.size_t(len(out)), &inUsed, &n)
	if r != C.LIBDEFLATE_SUCCESS {
		return nil, false
	}
	return out[:int(n)], true
}

const inflateWholeAvailable = true
