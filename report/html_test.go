package report_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/romscan/romscan/report"
)

// TestHTMLIsSelfContained checks the page names nothing outside itself.
func TestHTMLIsSelfContained(t *testing.T) {
	page := string(render(t, report.HTML{}, sampleReport()))
	external := regexp.MustCompile(`(?i)(\b(src|href|action|srcset|poster|data)\s*=\s*["']?\s*(https?:|//|ftp:))|url\(|@import|<link\b|<iframe\b|<object\b|<embed\b`)
	if m := external.FindString(page); m != "" {
		t.Errorf("the page references something outside itself: %q", m)
	}
	if !strings.Contains(page, `http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;`) {
		t.Error("the page has no Content-Security-Policy forbidding network requests")
	}
}

func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("chromium is not installed (Debian package chromium); skipping the browser test")
	return ""
}

// headless loads file in headless Chromium with networking cut off, and
// returns the DOM after scripts ran and every console line it logged.
func headless(t *testing.T, bin, file string, extra ...string) (dom string, console []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	args := append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--disable-default-apps",
		"--user-data-dir=" + t.TempDir(), "--enable-logging=stderr", "--v=0",
		"--host-resolver-rules=MAP * ~NOTFOUND", "--window-size=1280,2000",
	}, extra...)
	args = append(args, "file://"+file)
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(line, ":CONSOLE") {
			console = append(console, line)
		}
	}
	return stdout.String(), console
}

// TestHTMLInChromium loads the sample report in headless Chromium: no
// console message (a script error or a blocked request would log one), and
// the DOM holds the app cards and the filter script's output.
func TestHTMLInChromium(t *testing.T) {
	bin := chromium(t)
	dir := t.TempDir()

	// The harness must see console errors, or the check below proves nothing.
	bad := filepath.Join(dir, "bad.html")
	if err := os.WriteFile(bad, []byte(`<!DOCTYPE html><meta http-equiv="Content-Security-Policy" content="default-src 'none'"><img src="http://192.0.2.1/x.png">`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, console := headless(t, bin, bad, "--dump-dom"); len(console) == 0 {
		t.Fatal("chromium logged nothing for a blocked request; cannot check the report's console")
	}

	file := filepath.Join(dir, "report.html")
	rep := sampleReport()
	if err := os.WriteFile(file, render(t, report.HTML{}, rep), 0o644); err != nil {
		t.Fatal(err)
	}
	dom, console := headless(t, bin, file, "--dump-dom")
	for _, c := range console {
		t.Errorf("console: %s", c)
	}
	cards := strings.Count(dom, `<article class="app sev-`)
	want := 0
	for _, a := range rep.Apps {
		if a.Findings > 0 {
			want++
		}
	}
	if cards != want {
		t.Errorf("DOM holds %d app cards, want %d", cards, want)
	}
	if !strings.Contains(dom, `5 findings shown`) {
		t.Error("the filter script did not run (no \"5 findings shown\" in the DOM)")
	}
	if strings.Contains(dom, "<script>alert(1)") || strings.Contains(dom, "<img src=\"x\"") {
		t.Error("scanned markup became live DOM")
	}
}
