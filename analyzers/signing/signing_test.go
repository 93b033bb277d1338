package signing_test

import (
	"testing"

	"github.com/romscan/romscan/analyzers"
	"github.com/romscan/romscan/analyzers/signing"
	"github.com/romscan/romscan/internal/testutil"
	"github.com/romscan/romscan/internal/testutil/scantest"
)

func TestCorpusSigning(t *testing.T) {
	debug := testutil.Corpus(t, "apks/androguard/TestActivity.apk")
	badsig := testutil.Corpus(t, "apks/fdroidserver/urzip-badsig.apk")
	good := testutil.Corpus(t, "apks/fdroidserver/v2.only.sig_2.apk")
	janus := testutil.Corpus(t, "apks/fdroidserver/janus.apk")
	r := scantest.ScanWith(t, []analyzers.Analyzer{signing.New()}, debug, badsig, good, janus)
	got := scantest.RuleSet(r)
	for _, want := range []string{
		"tests.androguard signing.debug-certificate",
		"info.guardianproject.urzip signing.invalid",
		"com.example signing.janus-polyglot",
	} {
		if !got[want] {
			t.Errorf("missing %q in %v", want, got)
		}
	}
	scanned := false
	for _, a := range r.Apps {
		scanned = scanned || a.Package == "v2.only.sig"
	}
	if !scanned {
		t.Fatal("the clean v2 APK was not scanned")
	}
	for k := range got {
		if len(k) > len("v2.only.sig ") && k[:len("v2.only.sig ")] == "v2.only.sig " {
			t.Errorf("a properly signed release APK has a signing finding: %q", k)
		}
	}
}
