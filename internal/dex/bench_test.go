package dex

import (
	"bytes"
	"context"
	"testing"
)

// benchDEX is the biggest DEX of a real multidex APK of the corpus.
func benchDEX(b *testing.B) []byte {
	b.Helper()
	var big []byte
	for _, d := range dexFromZip(b, "apks/androguard/app-prod-debug.apk") {
		if len(d.data) > len(big) {
			big = d.data
		}
	}
	return big
}

func BenchmarkOpen(b *testing.B) {
	data := benchDEX(b)
	b.Run("bytes", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := OpenBytes(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("readerat", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Open(bytes.NewReader(data), int64(len(data))); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCallSites opens the file afresh each time (cold caches, as in a
// scan) and reports every call site.
func BenchmarkCallSites(b *testing.B) {
	data := benchDEX(b)
	ctx := context.Background()
	for _, mode := range []string{"bytes", "readerat"} {
		b.Run(mode, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				var f *File
				var err error
				if mode == "bytes" {
					f, err = OpenBytes(data)
				} else {
					f, err = Open(bytes.NewReader(data), int64(len(data)))
				}
				if err != nil {
					b.Fatal(err)
				}
				n = 0
				if err := f.CallSites(ctx, func(CallSite) error { n++; return nil }); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n), "calls/op")
		})
	}
}

// BenchmarkWalk reports call sites, string uses and field uses in one pass.
func BenchmarkWalk(b *testing.B) {
	data := benchDEX(b)
	ctx := context.Background()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		f, err := OpenBytes(data)
		if err != nil {
			b.Fatal(err)
		}
		nop := Visitor{
			Call:   func(CallSite) error { return nil },
			String: func(StringUse) error { return nil },
			Field:  func(FieldUse) error { return nil },
		}
		if err := f.Walk(ctx, nop); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClasses decodes every class of the file, opened afresh each time
// (cold caches, as in a scan).
func BenchmarkClasses(b *testing.B) {
	data := benchDEX(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		f, err := OpenBytes(data)
		if err != nil {
			b.Fatal(err)
		}
		for i := range f.NumClasses() {
			if _, err := f.Class(i); err != nil {
				b.Fatal(err)
			}
		}
	}
}
