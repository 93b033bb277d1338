// Package metadata holds the Go types generated from AOSP update_engine's
// update_metadata.proto: the manifest of an A/B OTA payload.bin. Package
// payload re-exports the main ones.
package metadata

//go:generate protoc --go_out=. --go_opt=paths=source_relative update_metadata.proto
