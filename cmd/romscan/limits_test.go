package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestLimitFlagsRejectZero checks that a zero size limit is a usage error on
// every command that takes one, not a limit that fails every file or one
// that some checks read as "no limit".
func TestLimitFlagsRejectZero(t *testing.T) {
	cases := [][]string{
		{"scan", "--max-file-size", "0", "x.apk"},
		{"scan", "--max-spill", "0MiB", "x.apk"},
		{"extract", "--max-file-size", "0", "x.apk", "-d", t.TempDir()},
		{"diff", "--max-spill", "0", "a.apk", "b.apk"},
	}
	for _, args := range cases {
		t.Run(strings.Join(args[:3], "-"), func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run(context.Background(), args, &out, &errb); code != exitUsage {
				t.Errorf("exit %d, want %d (usage); stderr: %s", code, exitUsage, errb.String())
			}
			if !strings.Contains(errb.String(), "above zero") {
				t.Errorf("stderr does not say why: %s", errb.String())
			}
		})
	}
}
