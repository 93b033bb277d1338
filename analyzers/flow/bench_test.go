package flow

import (
	"os"
	"testing"

	"github.com/romscan/romscan/internal/testutil"
)

// BenchmarkDroidBenchApp runs the analyzer on one DroidBench app
// ($FLOW_BENCH_APK, relative to the corpus, or DirectLeak1).
func BenchmarkDroidBenchApp(b *testing.B) {
	rel := os.Getenv("FLOW_BENCH_APK")
	if rel == "" {
		rel = "droidbench/apk/AndroidSpecific/DirectLeak1.apk"
	}
	path := testutil.Corpus(b, rel)
	sigs := loadSigs(b)
	a := New()
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	for b.Loop() {
		if _, err := analyzeAPK(b, a, sigs, path); err != nil {
			b.Fatal(err)
		}
	}
}
