// Package samples holds no library code: it builds romscan's sample APKs and
// sample ROM images from source with real tools (build.sh), and its test
// checks the built APKs with aapt and apksigner. See README.md for what each
// sample contains and what romscan is expected to report for it.
package samples
