package extract

import (
	"errors"
	"strings"
	"testing"
)

//go:noinline
func indexPastEnd(b []byte, i int) byte { return b[i] }

//go:noinline
func explicitPanic() { panic("boom") }

func recovered(fn func()) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = PanicError("test", p)
		}
	}()
	fn()
	return nil
}

// TestPanicError: the error names the function that panicked, whether the
// panic came from the runtime (an index out of range) or from panic().
func TestPanicError(t *testing.T) {
	tests := []struct {
		name string
		fn   func()
		want string
	}{
		{"index", func() { indexPastEnd(nil, 3) }, OwnPackages + "extract.indexPastEnd"},
		{"explicit", explicitPanic, OwnPackages + "extract.explicitPanic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := recovered(tt.fn)
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "panic in "+tt.want+":") {
				t.Errorf("PanicError = %v, want ErrCorrupt naming %s", err, tt.want)
			}
		})
	}
}
