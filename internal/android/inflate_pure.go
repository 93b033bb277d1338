//go:build !cgo || purego

package android

// inflateWhole is not available without cgo: members are decoded by the
// streaming decoder alone.
func inflateWhole(in, out []byte) ([]byte, bool) { return nil, false }

const inflateWholeAvailable = false
