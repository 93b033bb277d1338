//go:build cgo && !purexz

package payload

/*
#cgo LDFLAGS: -llzma
#include <lzma.h>
#include <stdint.h>

// romscan_unxz decodes the first xz stream of in into out, checking its
// integrity checks. It sets *written, and *more when the stream holds more
// than out_size bytes.
static int romscan_unxz(const uint8_t *in, size_t in_size, uint8_t *out, size_t out_size,
		uint64_t memlimit, size_t *written, int *more) {
	lzma_stream strm = LZMA_STREAM_INIT;
	lzma_ret ret = lzma_stream_decoder(&strm, memlimit, 0);
	if (ret != LZMA_OK) {
		return ret;
	}
	strm.next_in = in;
	strm.avail_in = in_size;
	strm.next_out = out;
	strm.avail_out = out_size;
	ret = lzma_code(&strm, LZMA_FINISH);
	*written = out_size - strm.avail_out;
	*more = 0;
	if ((ret == LZMA_OK || ret == LZMA_BUF_ERROR) && strm.avail_out == 0) {
		uint8_t one;
		strm.next_out = &one;
		strm.avail_out = 1;
		ret = lzma_code(&strm, LZMA_FINISH);
		if (strm.avail_out == 0) {
			*more = 1;
		}
	}
	lzma_end(&strm);
	return ret;
}
*/
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/romscan/romscan/extract"
)

// withLiblzma reports whether REPLACE_XZ is decoded by liblzma (the
// default with cgo) rather than in pure Go (no cgo, or build tag purexz).
const withLiblzma = true

// liblzmaMemLimit bounds what liblzma may allocate for one stream: enough
// for xz -9's 64 MiB dictionary. Streams declaring more fall back to the
// pure Go decoder, which sizes the dictionary by the output.
const liblzmaMemLimit = 96 * extract.MiB

// unxz decodes an xz stream into out with liblzma.
func unxz(blob, out []byte) error {
	if len(blob) == 0 || len(out) == 0 {
		return unxzPure(blob, out)
	}
	var written C.size_t
	var more C.int
	ret := C.romscan_unxz((*C.uint8_t)(unsafe.Pointer(unsafe.SliceData(blob))), C.size_t(len(blob)),
		(*C.uint8_t)(unsafe.Pointer(unsafe.SliceData(out))), C.size_t(len(out)),
		C.uint64_t(liblzmaMemLimit), &written, &more)
	switch {
	case more != 0:
		return errTooLong
	case ret == C.LZMA_STREAM_END:
		clear(out[written:])
		return nil
	case ret == C.LZMA_MEMLIMIT_ERROR:
		return unxzPure(blob, out)
	case ret == C.LZMA_OPTIONS_ERROR:
		return fmt.Errorf("xz: liblzma: unsupported options: %w", extract.ErrUnsupported)
	case ret == C.LZMA_MEM_ERROR:
		return fmt.Errorf("xz: liblzma: out of memory: %w", extract.ErrLimit)
	}
	return fmt.Errorf("xz: liblzma error %d: %w", int(ret), extract.ErrCorrupt)
}
