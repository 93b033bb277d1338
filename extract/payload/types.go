package payload

import "github.com/romscan/romscan/extract/payload/metadata"

// Manifest types generated from update_metadata.proto, re-exported so
// callers need not import package metadata. (The manifest's own
// PartitionInfo message is metadata.PartitionInfo; PartitionInfo in this
// package is the summary returned by Payload.Partitions.)
type (
	// DeltaArchiveManifest is the payload manifest.
	DeltaArchiveManifest = metadata.DeltaArchiveManifest
	// PartitionUpdate describes the update of one partition.
	PartitionUpdate = metadata.PartitionUpdate
	// InstallOperation is one step assembling a partition.
	InstallOperation = metadata.InstallOperation
	// InstallOperation_Type names the kind of an InstallOperation.
	InstallOperation_Type = metadata.InstallOperation_Type //nolint:revive // generated name
	// Extent is a run of blocks.
	Extent = metadata.Extent
)

// Operation types, re-exported from package metadata.
const (
	OpReplace         = metadata.InstallOperation_REPLACE
	OpReplaceBZ       = metadata.InstallOperation_REPLACE_BZ
	OpMove            = metadata.InstallOperation_MOVE
	OpBsdiff          = metadata.InstallOperation_BSDIFF
	OpSourceCopy      = metadata.InstallOperation_SOURCE_COPY
	OpSourceBsdiff    = metadata.InstallOperation_SOURCE_BSDIFF
	OpZero            = metadata.InstallOperation_ZERO
	OpDiscard         = metadata.InstallOperation_DISCARD
	OpReplaceXZ       = metadata.InstallOperation_REPLACE_XZ
	OpPuffdiff        = metadata.InstallOperation_PUFFDIFF
	OpBrotliBsdiff    = metadata.InstallOperation_BROTLI_BSDIFF
	OpZucchini        = metadata.InstallOperation_ZUCCHINI
	OpLZ4DiffBsdiff   = metadata.InstallOperation_LZ4DIFF_BSDIFF
	OpLZ4DiffPuffdiff = metadata.InstallOperation_LZ4DIFF_PUFFDIFF
	OpReplaceZstd     = metadata.InstallOperation_REPLACE_ZSTD
)
