package extract

import (
	"fmt"
	"runtime"
	"strings"
)

// OwnPackages prefixes the functions of this module; a panic whose origin has
// it is a bug of ours, not of a third-party parser.
const OwnPackages = "github.com/romscan/romscan/"

// PanicError turns a panic recovered while parsing into an error wrapping
// ErrCorrupt. The message names the function that panicked ("panic in
// debug/elf.(*File).Section: ..."), so a report, and a fuzz target, can tell
// a panic inside a third-party parser, tolerated on hostile input, from one in
// romscan's own code, which is a bug. Call it from the deferred function that
// recovered p, so the panicking frames are still on the stack.
func PanicError(what string, p any) error {
	return fmt.Errorf("%s: panic in %s: %v: %w", what, panicOrigin(), p, ErrCorrupt)
}

// panicOrigin returns the first function below the runtime's panic frames:
// the one that panicked (or called the runtime function that did).
func panicOrigin() string {
	pcs := make([]uintptr, 64)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(3, pcs)])
	inRuntime := false
	for {
		f, more := frames.Next()
		if strings.HasPrefix(f.Function, "runtime.") {
			inRuntime = true
		} else if inRuntime {
			return f.Function
		}
		if !more {
			return "an unknown function"
		}
	}
}
