// Package payload reads A/B OTA update payloads (update_engine's payload.bin,
// magic "CrAU", major version 2) in place: the header and the protobuf
// manifest are parsed once, and each partition opens as an io.ReaderAt that
// assembles only the install operations a read touches.
//
// Full payloads (REPLACE, REPLACE_BZ, REPLACE_XZ, REPLACE_ZSTD, ZERO,
// DISCARD) need nothing else; incremental payloads (SOURCE_COPY,
// SOURCE_BSDIFF, BROTLI_BSDIFF) need the old partition as a base. PUFFDIFF,
// ZUCCHINI and LZ4DIFF_* are reported as unsupported.
//
// Reading is lazy: REPLACE, SOURCE_COPY and ZERO are served in place, and
// compressed or patched operations are decoded once into an LRU cache bounded
// by bytes. A reader that reads in order (io.Copy over an io.SectionReader)
// triggers read-ahead: the next operations are decoded by GOMAXPROCS workers.
// REPLACE_XZ is decoded with the system liblzma (Debian liblzma-dev), about
// twice as fast per core as pure Go; built without cgo or with the build tag
// purexz, it uses github.com/ulikunitz/xz instead.
//
// The manifest types (DeltaArchiveManifest, PartitionUpdate,
// InstallOperation, ...) are generated from AOSP's update_metadata.proto,
// kept beside this file.
package payload
