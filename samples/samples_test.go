package samples

import (
	"archive/zip"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// tools maps each command that "build.sh apks" and this test run to the
// Debian package that provides it.
var tools = []struct{ cmd, pkg string }{
	{"bash", "bash"},
	{"java", "default-jre-headless"},
	{"apktool", "apktool"},
	{"zipalign", "zipalign"},
	{"apksigner", "apksigner"},
	{"aapt", "aapt"},
	{"zip", "zip"},
	{"unzip", "unzip"},
	{"gcc", "gcc"},
	{"sha256sum", "coreutils"},
}

const frameworkRes = "/usr/share/android-framework-res/framework-res.apk"

// apkInfo is what the test reads back from a built APK.
type apkInfo struct {
	Package     string
	VersionCode string
	Permissions []string
	Signer      string   // the SHA-256 of the signing certificate
	Schemes     []string // signature schemes apksigner verified
	Entries     []string // selected zip entries that must be present
}

// Entries worth checking beside the manifest: the second dex and the native library.
var watchedEntries = map[string]bool{"classes2.dex": true, "lib/x86_64/libbeacon.so": true}

func TestBuildAPKs(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping in -short mode: builds eleven APKs with apktool and apksigner (about 10-40 s)")
	}
	for _, tl := range tools {
		if _, err := exec.LookPath(tl.cmd); err != nil {
			t.Skipf("skipping: %s is not installed (apt-get install %s)", tl.cmd, tl.pkg)
		}
	}
	if _, err := os.Stat(frameworkRes); err != nil {
		t.Skipf("skipping: %s is missing (apt-get install android-framework-res)", frameworkRes)
	}

	out := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "build.sh", "-o", out, "apks")
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir()) // apktool's wrapper writes under $HOME
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build.sh apks: %v\n%s", err, b)
	}

	release, other, platform := certSHA256(t, "release"), certSHA256(t, "other"), certSHA256(t, "platform")
	v123 := []string{"v1", "v2", "v3"}
	tests := []struct {
		apk  string
		want apkInfo
	}{
		{"harvester", apkInfo{
			Package: "com.example.harvester", VersionCode: "1",
			Permissions: []string{
				"android.permission.READ_PHONE_STATE", "android.permission.READ_CONTACTS",
				"android.permission.READ_SMS", "android.permission.INTERNET",
				"android.permission.ACCESS_FINE_LOCATION", "android.permission.RECEIVE_BOOT_COMPLETED",
			},
			Signer: release, Schemes: v123,
		}},
		{"harvester-other", apkInfo{
			Package: "com.example.harvester", VersionCode: "1",
			Permissions: []string{
				"android.permission.READ_PHONE_STATE", "android.permission.READ_CONTACTS",
				"android.permission.READ_SMS", "android.permission.INTERNET",
				"android.permission.ACCESS_FINE_LOCATION", "android.permission.RECEIVE_BOOT_COMPLETED",
			},
			Signer: other, Schemes: v123,
		}},
		{"benign", apkInfo{
			Package: "com.example.notes", VersionCode: "1",
			Permissions: []string{"android.permission.INTERNET"},
			Signer:      release, Schemes: v123,
		}},
		{"benign-v2", apkInfo{
			Package: "com.example.notes", VersionCode: "2",
			Permissions: []string{"android.permission.INTERNET", "android.permission.READ_CONTACTS"},
			Signer:      release, Schemes: v123,
		}},
		{"flowcases", apkInfo{
			Package: "com.example.flowcases", VersionCode: "1",
			Permissions: []string{"android.permission.INTERNET", "android.permission.READ_PHONE_STATE"},
			Signer:      release, Schemes: v123,
			Entries: []string{"classes2.dex"},
		}},
		{"reflectcases", apkInfo{
			Package: "com.example.reflectcases", VersionCode: "1",
			Permissions: []string{"android.permission.INTERNET", "android.permission.READ_PHONE_STATE"},
			Signer:      release, Schemes: v123,
		}},
		{"nativeurl", apkInfo{
			Package: "com.example.nativeurl", VersionCode: "1",
			Permissions: []string{"android.permission.INTERNET"},
			Signer:      release, Schemes: v123,
			Entries: []string{"lib/x86_64/libbeacon.so"},
		}},
		{"tracker", apkInfo{
			Package: "com.example.tracker", VersionCode: "1",
			Permissions: []string{"android.permission.INTERNET", "android.permission.ACCESS_NETWORK_STATE"},
			Signer:      release, Schemes: v123,
		}},
		{"platformapp", apkInfo{
			Package: "com.example.systemupdater", VersionCode: "33",
			Permissions: []string{"android.permission.READ_PRIVILEGED_PHONE_STATE", "android.permission.INTERNET"},
			Signer:      platform, Schemes: v123,
		}},
		{"weather", apkInfo{
			Package: "com.example.weather", VersionCode: "1",
			Permissions: []string{"android.permission.INTERNET", "android.permission.ACCESS_COARSE_LOCATION"},
			Signer:      release, Schemes: v123,
		}},
		{"framework-res", apkInfo{
			Package: "android", VersionCode: "33",
			Signer: platform, Schemes: v123,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.apk, func(t *testing.T) {
			t.Parallel()
			got := inspect(t, filepath.Join(out, "apks", tt.apk+".apk"))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%s.apk mismatch (-want +got):\n%s", tt.apk, diff)
			}
		})
	}
}

var (
	packageRE    = regexp.MustCompile(`^package: name='([^']*)' versionCode='([^']*)'`)
	permissionRE = regexp.MustCompile(`^uses-permission: name='([^']*)'`)
	schemeRE     = regexp.MustCompile(`^Verified using (v[0-9]) scheme .*: true$`)
	signerRE     = regexp.MustCompile(`^Signer #1 certificate SHA-256 digest: ([0-9a-f]{64})$`)
)

// inspect reads package, permissions, signer and signature schemes from an
// APK with aapt and apksigner, and lists the watched zip entries it holds.
func inspect(t *testing.T, apk string) apkInfo {
	t.Helper()
	var info apkInfo
	for _, line := range lines(t, "aapt", "dump", "badging", apk) {
		if m := packageRE.FindStringSubmatch(line); m != nil {
			info.Package, info.VersionCode = m[1], m[2]
		}
		if m := permissionRE.FindStringSubmatch(line); m != nil {
			info.Permissions = append(info.Permissions, m[1])
		}
	}
	// --min-sdk-version 21: otherwise apksigner skips v1/v2 for framework-res (minSdk 33).
	for _, line := range lines(t, "apksigner", "verify", "-v", "--print-certs", "--min-sdk-version", "21", apk) {
		if m := schemeRE.FindStringSubmatch(line); m != nil {
			info.Schemes = append(info.Schemes, m[1])
		}
		if m := signerRE.FindStringSubmatch(line); m != nil {
			info.Signer = m[1]
		}
	}
	zr, err := zip.OpenReader(apk)
	if err != nil {
		t.Fatalf("open %s: %v", apk, err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if watchedEntries[f.Name] {
			info.Entries = append(info.Entries, f.Name)
		}
	}
	return info
}

// lines runs a command and returns its output lines, failing the test on error.
func lines(t *testing.T, name string, args ...string) []string {
	t.Helper()
	b, err := exec.CommandContext(t.Context(), name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, b)
	}
	var out []string
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// certSHA256 returns the SHA-256 of the committed test key's certificate.
func certSHA256(t *testing.T, key string) string {
	t.Helper()
	name := filepath.Join("keys", key+".x509.pem")
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("%s: no PEM certificate", name)
	}
	sum := sha256.Sum256(block.Bytes)
	return hex.EncodeToString(sum[:])
}
