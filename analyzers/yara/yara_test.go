package yara

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/romscan/romscan/analyzers"
	"github.com/romscan/romscan/extract"
	"github.com/romscan/romscan/extract/walk"
	"github.com/romscan/romscan/signatures"
)

func TestEmbeddedRulesCompile(t *testing.T) {
	sigs, err := signatures.Load()
	if err != nil {
		t.Fatal(err)
	}
	r, err := Compile(sigs.Yara, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.List) < 10 {
		t.Errorf("only %d rules", len(r.List))
	}
	for _, ri := range r.List {
		if ri.Reference == "" || !strings.HasPrefix(ri.Reference, "https://") {
			t.Errorf("%s: no https reference", ri.ID)
		}
	}
}

func TestBadRulesFailWithFileAndLine(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"syntax", "rule a {\n  meta:\n    severity = \"low\"\n  condition:\n    true and\n}\n", "bad.yar:6: syntax error"},
		{"undefined-string", "rule a { meta: severity = \"low\" confidence = \"low\" description = \"d\" condition: $x }\n", "bad.yar:1: undefined string \"$x\""},
		{"no-meta", "rule a { condition: true }\n", "rule a in bad.yar: meta needs severity"},
		{"bad-severity", "rule a { meta: severity = \"awful\" confidence = \"low\" description = \"d\" condition: true }\n", "unknown severity"},
		{"binary", "\x00\x01\xfe\xff rule", "bad.yar: not a text file"},
		{"include", "include \"/etc/passwd\"\n", "bad.yar:1:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile([]signatures.YaraSource{{Name: "bad.yar", Data: []byte(tt.text)}}, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	// Two files defining one rule name.
	ok := []byte("rule a { meta: severity = \"low\" confidence = \"low\" description = \"d\" condition: true }\n")
	_, err := Compile([]signatures.YaraSource{{Name: "one.yar", Data: ok}, {Name: "two.yar", Data: ok}}, nil)
	if err == nil || !strings.Contains(err.Error(), "already used in one.yar") {
		t.Errorf("duplicate rule: err = %v", err)
	}
}

func testRules(t testing.TB) (*signatures.Set, *Rules) {
	sigs, err := signatures.Load()
	if err != nil {
		t.Fatal(err)
	}
	r, err := Compile(sigs.Yara, sigs.Disabled)
	if err != nil {
		t.Fatal(err)
	}
	return sigs, r
}

func ids(ms []Match) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, m.Rule.ID)
	}
	return out
}

// TestRules runs each rule on small members built in code: what must match
// and what must not.
func TestRules(t *testing.T) {
	_, r := testRules(t)
	elf := func(s string) []byte { return append([]byte("\x7fELF\x02\x01\x01\x00"), []byte(s)...) }
	dexb := func(s string) []byte { return append([]byte("dex\n035\x00"), []byte(s)...) }
	tests := []struct {
		name string
		data []byte
		want []string
	}{
		{"native-ip-url", elf("\x00http://42.62.48.20:8080/upload\x00"), []string{"yara.native_ip_url"}},
		{"native-ip-literal", elf("\x0042.62.48.20\x00"), []string{"yara.native_ip_literal"}},
		{"version-not-ip", elf("\x001.2.3.4\x00"), []string{}},
		{"ip-in-text-not-native", []byte("server=http://42.62.48.20/x\n"), []string{}},
		{"xiaomi", []byte("host=tracking.miui.com\n"), []string{"yara.xiaomi_analytics_hosts"}},
		{"adups", []byte("com.adups.fota"), []string{"yara.adups_fota"}},
		{"jiagu", []byte("assets/libjiagu.so"), []string{"yara.packer_jiagu"}},
		{"bangcle", []byte("Lcom/secneo/apkwrapper/ApplicationWrapper;"), []string{"yara.packer_bangcle"}},
		{"ijiami-one-lib-is-not-enough", []byte("libexec.so"), []string{}},
		{"su-exec", dexb("Ljava/lang/Runtime;\x00\x04exec\x00\x02su\x00\x02-c\x00"), []string{"yara.dex_runtime_exec_su"}},
		{"su-without-exec", dexb("\x02su\x00"), []string{}},
		{"obfuscated-member-su", dexb("Ljava/lang/Runtime;\x00\x04exec\x00\x02su\x00"), []string{}},
		{"dropper", dexb("Ljava/lang/Runtime;pm install -r /sdcard/x.apk"), []string{"yara.dex_exec_dropper"}},
		{"root-check", []byte("/system/xbin/su\x00/system/bin/su"), []string{"yara.root_su_paths"}},
		{"remount", []byte("mount -o remount,rw /system\ncp x /system/priv-app/\n"), []string{"yara.system_remount_dropper"}},
		{"empty", nil, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := r.ScanBytes(tt.data)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, ids(ms)); diff != "" {
				t.Errorf("-want +got:\n%s", diff)
			}
		})
	}
}

// hugeReader is a member larger than MaxMember that holds a marker at its
// start and another past the limit.
type hugeReader struct{ size int64 }

func (h hugeReader) ReadAt(p []byte, off int64) (int, error) {
	for i := range p {
		p[i] = 0
	}
	copy(p, []byte("tracking.miui.com"))
	return len(p), nil
}

func TestHugeMemberScannedInPartWithError(t *testing.T) {
	sigs, _ := testRules(t)
	a := New()
	tg := &analyzers.Target{Loc: extract.Location{"rom.zip", "system/big.bin"}, Kind: walk.KindOther, R: hugeReader{}, Size: MaxMember + 1, Sigs: sigs}
	fs, err := a.Analyze(context.Background(), tg)
	if !errors.Is(err, extract.ErrLimit) || !strings.Contains(err.Error(), "rom.zip!system/big.bin") {
		t.Errorf("err = %v, want a limit error naming the member", err)
	}
	if len(fs) != 1 || fs[0].RuleID != "yara.xiaomi_analytics_hosts" {
		t.Errorf("findings %+v, want the match in the scanned part", fs)
	}
}

func TestFindingFields(t *testing.T) {
	sigs, _ := testRules(t)
	a := New()
	data := []byte("\x7fELF\x02\x01\x01\x00\x00http://42.62.48.20/a\x00")
	tg := &analyzers.Target{Loc: extract.Location{"x.apk", "lib/x86_64/libx.so"}, Kind: walk.KindELF, R: bytes.NewReader(data), Size: int64(len(data)), Sigs: sigs, Package: "com.x"}
	fs, err := a.Analyze(context.Background(), tg)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) == 0 {
		t.Fatal("no findings")
	}
	f := fs[0]
	f.Description, f.Title = "", ""
	want := "yara.native_ip_url medium medium com.x x.apk!lib/x86_64/libx.so $ip_url http://42.62.48.20/ 9"
	got := strings.Join([]string{f.RuleID, f.Severity.String(), f.Confidence.String(), f.Package, f.Evidence[0].Location, f.Evidence[0].API, f.Evidence[0].String, itoa(f.Evidence[0].Offset)}, " ")
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	// Disabled rules are not reported.
	sigs.Disable("yara.native_ip_url")
	fs, _ = New().Analyze(context.Background(), tg)
	for _, f := range fs {
		if f.RuleID == "yara.native_ip_url" {
			t.Error("disabled rule reported")
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
