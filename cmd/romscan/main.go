// Command romscan finds spyware-like behaviour in Android firmware and apps.
//
//	romscan scan [flags] PATH...   scan ROM images, APKs or folders
//	romscan extract IMAGE -d DIR   write the files of a container under DIR
//	romscan diff [flags] OLD NEW   compare two ROMs, APKs, folders or JSON reports
//	romscan rules list             list the rules and catalogues in use
//	romscan schema                 print the JSON Schema of the JSON report
//	romscan version                print the version
//
// Exit codes: 0 nothing at or above --fail-on; 1 findings at or above it;
// 2 usage error; 3 nothing scannable (or a fatal error).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"syscall"
)

// Exit codes, documented in the README.
const (
	exitOK       = 0
	exitFindings = 1
	exitUsage    = 2
	exitNothing  = 3
)

// defaultMemoryLimit is the soft heap limit when GOMEMLIMIT is not set:
// the garbage collector works harder near it, so a scan of a huge ROM stays
// within a CI runner's memory.
const defaultMemoryLimit = 2 << 30

// heapHeadroom is how far the heap may grow past what the scan holds before
// a collection (see heapTuner); ROMSCAN_HEAP_HEADROOM (MiB) overrides it.
func heapHeadroom() int64 {
	if v, err := strconv.Atoi(os.Getenv("ROMSCAN_HEAP_HEADROOM")); err == nil && v > 0 {
		return int64(v) << 20
	}
	return 24 << 20
}

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		startHeapTuner(heapHeadroom(), defaultMemoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	stopProfile := startCPUProfile(os.Getenv("ROMSCAN_CPUPROFILE"))
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stopProfile()
	stop()
	os.Exit(code)
}

// startCPUProfile writes a CPU profile of the whole run to path (for
// `go tool pprof`) when path is set; the returned function ends it.
func startCPUProfile(path string) func() {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "romscan: cpu profile:", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, "romscan: cpu profile:", err)
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

// usageError marks errors that deserve exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printUsage(stderr)
		return exitUsage
	}
	var code int
	var err error
	switch args[0] {
	case "scan":
		code, err = cmdScan(ctx, args[1:], stdout, stderr)
	case "extract":
		code, err = cmdExtract(ctx, args[1:], stdout, stderr)
	case "diff":
		code, err = cmdDiff(ctx, args[1:], stdout, stderr)
	case "rules":
		code, err = cmdRules(args[1:], stdout)
	case "schema":
		code, err = cmdSchema(args[1:], stdout)
	case "version", "--version":
		fmt.Fprintln(stdout, "romscan", version())
		return exitOK
	case "help", "-h", "--help":
		printUsage(stdout)
		return exitOK
	default:
		err = usagef("unknown command %q", args[0])
	}
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "romscan: %v\n\n", err)
			printUsage(stderr)
			return exitUsage
		}
		fmt.Fprintf(stderr, "romscan: %v\n", err)
		if code == exitOK {
			code = exitNothing
		}
	}
	return code
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `romscan finds spyware-like behaviour in Android firmware and apps.

Usage:
  romscan scan [flags] PATH...   scan ROM images, OTA zips, APKs, or folders of them
  romscan extract IMAGE -d DIR   write the files of a ROM image or container under DIR
  romscan diff [flags] OLD NEW   what changed between two ROMs, APKs, folders or JSON reports
  romscan rules list             list the rules and catalogues in use
  romscan schema                 print the JSON Schema of the JSON report
  romscan version                print the version

Run 'romscan scan -h' for the scan flags.

Exit codes: 0 nothing at or above --fail-on; 1 findings at or above --fail-on;
2 usage error; 3 nothing scannable, or a fatal error.
`)
}
