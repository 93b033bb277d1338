package payload

import (
	"bytes"
	"io"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/romscan/romscan/extract"
)

const benchSize = 64 << 20

var benchPayload = sync.OnceValues(func() ([]byte, []byte) {
	data := semiCompressible(benchSize, 42)
	var out bytes.Buffer
	if err := Write(&out, []PartitionSpec{{Name: "system", Data: bytes.NewReader(data), Size: benchSize}},
		WriteOptions{XZ: true}); err != nil {
		panic(err)
	}
	return data, out.Bytes()
})

func benchRead(b *testing.B, opts OpenOptions) {
	_, pl := benchPayload()
	p, err := Open(bytes.NewReader(pl), int64(len(pl)), extract.Limits{})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(benchSize)
	cpu0, wall0 := cpuTime(), time.Now()
	for b.Loop() {
		r, err := p.Open("system", opts)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, io.NewSectionReader(r, 0, r.Size())); err != nil {
			b.Fatal(err)
		}
	}
	// Cores kept busy during the loop: about GOMAXPROCS when read-ahead
	// works and the machine is otherwise idle.
	b.ReportMetric((cpuTime()-cpu0).Seconds()/time.Since(wall0).Seconds(), "cores")
	b.ReportMetric(float64(len(pl))/benchSize, "xz-ratio")
}

// cpuTime returns the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkReadXZ reads a 64 MiB partition of 2 MiB REPLACE_XZ operations in
// order, with read-ahead on GOMAXPROCS workers.
func BenchmarkReadXZ(b *testing.B) { benchRead(b, OpenOptions{}) }

// BenchmarkReadXZSerial is BenchmarkReadXZ without read-ahead.
func BenchmarkReadXZSerial(b *testing.B) { benchRead(b, OpenOptions{Workers: -1}) }

// BenchmarkReadXZVerify is BenchmarkReadXZ checking every hash.
func BenchmarkReadXZVerify(b *testing.B) { benchRead(b, OpenOptions{Verify: true}) }

// BenchmarkXZCommand decodes the same 64 MiB as one xz stream with the xz
// tool (liblzma, one thread), as the yardstick for BenchmarkReadXZ.
func BenchmarkXZCommand(b *testing.B) {
	if _, err := exec.LookPath("xz"); err != nil {
		b.Skip("xz not installed (Debian package xz-utils): skipping")
	}
	data, _ := benchPayload()
	cmd := exec.Command("xz", "-c", "-T1", "-6")
	cmd.Stdin = bytes.NewReader(data)
	stream, err := cmd.Output()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(benchSize)
	for b.Loop() {
		cmd := exec.Command("xz", "-d", "-c", "-T1")
		cmd.Stdin = bytes.NewReader(stream)
		cmd.Stdout = io.Discard
		if err := cmd.Run(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(stream))/benchSize, "xz-ratio")
}
