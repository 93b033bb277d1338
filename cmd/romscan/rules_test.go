package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/romscan/romscan/internal/testutil"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestRulesCommands(t *testing.T) {
	good := writeFiles(t, map[string]string{
		"yara/mine.yar":           "rule mine { meta: severity = \"low\" confidence = \"low\" description = \"d\" strings: $a = \"evil.example.cn\" condition: $a }\n",
		"catalog/watchlists.yaml": "version: 1\nentries:\n- id: watchlist.mine\n  name: mine\n  domains: [evil.example.cn]\n  references: [https://example.org/r]\n  examples: {match: [a.evil.example.cn], nomatch: [example.cn]}\n",
		"config.yaml":             "version: 1\ndisable: [yara.root_su_paths]\n",
	})
	badYara := writeFiles(t, map[string]string{"yara/x.yar": "rule x {\n condition:\n  true and\n}\n"})
	badExample := writeFiles(t, map[string]string{"catalog/watchlists.yaml": "version: 1\nentries:\n- id: watchlist.mine\n  name: mine\n  cidrs: [10.1.0.0/16]\n  references: [https://example.org/r]\n  examples: {match: [10.2.0.1]}\n"})
	badCIDR := writeFiles(t, map[string]string{"catalog/watchlists.yaml": "version: 1\nentries:\n- id: watchlist.mine\n  name: mine\n  cidrs: [10.1.0.0/99]\n  references: [https://example.org/r]\n"})
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
	}{
		{"list", []string{"rules", "list", "--rules", good}, exitOK, "yara.mine"},
		{"list-disabled", []string{"rules", "list", "--rules", good}, exitOK, "(disabled)"},
		{"test-good", []string{"rules", "test", good}, exitOK, "0 example failures"},
		{"test-bad-yara", []string{"rules", "test", badYara}, exitFindings, "x.yar:4: syntax error"},
		{"test-bad-example", []string{"rules", "test", badExample}, exitFindings, `watchlist.mine`},
		{"test-bad-cidr", []string{"rules", "test", badCIDR}, exitFindings, `bad CIDR "10.1.0.0/99"`},
		{"scan-bad-yara", []string{"scan", "--rules", badYara, good}, exitNothing, "x.yar:4: syntax error"},
		{"usage", []string{"rules", "frob"}, exitUsage, "unknown rules command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), tt.args, &out, &errb)
			all := out.String() + errb.String()
			if code != tt.wantCode || !strings.Contains(all, tt.wantOut) {
				t.Errorf("exit %d, want %d; output lacks %q:\n%s", code, tt.wantCode, tt.wantOut, all)
			}
		})
	}
}

func TestImportExodusCommand(t *testing.T) {
	src := testutil.Corpus(t, "trackers/exodus_trackers.json")
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"rules", "import-exodus", src, "--rules", dir}, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s%s", code, out.String(), errb.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"rules", "test", dir}, &out, &errb); code != exitOK {
		t.Fatalf("rules test of the import: exit %d: %s%s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "0 example failures") {
		t.Errorf("output: %s", out.String())
	}
}
