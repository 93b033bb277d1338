package yara

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/romscan/romscan/signatures"
)

// warningRule makes libyara call the compiler's message callback: a
// one-byte string slows scanning down.
const warningRule = `rule slow {
  meta:
    severity = "low"
    confidence = "low"
    description = "one byte"
  strings:
    $a = "a"
  condition:
    $a
}
`

// TestCompileUnderGC compiles rules whose compile calls back with warnings
// from several goroutines while collections run: the callback's data must
// stay valid through a collection (go-yara 4.2's own Compiler lost it).
func TestCompileUnderGC(t *testing.T) {
	var stop atomic.Bool
	var gc sync.WaitGroup
	gc.Add(1)
	go func() {
		defer gc.Done()
		for !stop.Load() {
			runtime.GC()
		}
	}()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				r, err := Compile([]signatures.YaraSource{{Name: "w.yar", Data: []byte(warningRule)}}, nil)
				if err != nil {
					t.Error(err)
					return
				}
				if len(r.List) != 1 || r.List[0].ID != "yara.slow" {
					t.Errorf("rules %v, want yara.slow", r.List)
					return
				}
			}
		}()
	}
	wg.Wait()
	stop.Store(true)
	gc.Wait()
}

// TestCompileNoSources: no rule files give an empty rule set, not an error.
func TestCompileNoSources(t *testing.T) {
	r, err := Compile(nil, nil)
	if err != nil || len(r.List) != 0 {
		t.Fatalf("Compile(nil) = %v, %v; want no rules and no error", r, err)
	}
	if ms, err := r.ScanBytes([]byte("anything")); err != nil || len(ms) != 0 {
		t.Errorf("scan with no rules = %v, %v", ms, err)
	}
}
