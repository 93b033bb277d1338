//go:build !cgo || purexz

package payload

// withLiblzma reports whether REPLACE_XZ is decoded by liblzma (the
// default with cgo) rather than in pure Go (no cgo, or build tag purexz).
const withLiblzma = false

// unxz decodes an xz stream into out with the pure Go decoder.
func unxz(blob, out []byte) error { return unxzPure(blob, out) }
