package walk

// Formats lists every container format, in sniffing order. Magic-byte
// formats come first; name-only formats (brotli) last. No init()
// registration: what runs is listed here.
func Formats() []Format {
	fs := []Format{
		zipFormat{},
		tarFormat{},
	}
	fs = append(fs, streamFormats()...)
	return fs
}
