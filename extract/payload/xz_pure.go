//go:build !(cgo && liblzma)

package payload

// withLiblzma reports whether REPLACE_XZ is decoded by liblzma (build tag
// liblzma) rather than in pure Go.
const withLiblzma = false

// unxz decodes an xz stream into out with the pure Go decoder.
func unxz(blob, out []byte) error { return unxzPure(blob, out) }
