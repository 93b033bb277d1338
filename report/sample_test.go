package report_test

import (
	"github.com/romscan/romscan/finding"
	"github.com/romscan/romscan/report"
)

// sampleReport is a small fixed report for the golden files: two apps, a
// device, findings of every severity, an unreadable file and a note, and
// scanned strings that try to break out of every output format.
func sampleReport() *report.Report {
	fs := []finding.Finding{
		{
			RuleID: "flow.device-id-to-network", Title: "Sends the IMEI to a server", Category: "device-id",
			Severity: finding.Critical, Confidence: finding.HighConfidence, Package: "com.vendor.telemetry",
			Description: "The IMEI read in Collector.run reaches HttpURLConnection.getOutputStream.",
			Evidence: []finding.Evidence{
				{Location: "rom.zip!system.img!/system/priv-app/Telemetry/Telemetry.apk!classes.dex", Class: "Lcom/vendor/telemetry/Collector;", Method: "run()V", API: "Landroid/telephony/TelephonyManager;->getDeviceId()Ljava/lang/String;", Offset: 4242},
				{Location: "rom.zip!system.img!/system/priv-app/Telemetry/Telemetry.apk!classes.dex", Class: "Lcom/vendor/telemetry/Uploader;", Method: "post(Ljava/lang/String;)V", API: "Ljava/net/HttpURLConnection;->getOutputStream()Ljava/io/OutputStream;", Note: "flow: getDeviceId -> post"},
			},
			References: []string{"https://developer.android.com/reference/android/telephony/TelephonyManager#getDeviceId()"},
			Tags:       []string{"flow", "source", "sink"},
		},
		{
			RuleID: "endpoint.cleartext-url", Title: "Hardcoded cleartext endpoint: http://collect.example.cn/up?id=1|2", Category: "endpoint",
			Severity: finding.High, Confidence: finding.MediumConfidence, Package: "com.vendor.telemetry",
			Evidence: []finding.Evidence{{Location: "rom.zip!system.img!/system/priv-app/Telemetry/Telemetry.apk!classes.dex", Class: "Lcom/vendor/telemetry/Uploader;", Method: "<clinit>()V", String: "http://collect.example.cn/up?id=1|2"}},
		},
		{
			RuleID: "manifest.exported-receiver", Title: "Exported receiver without permission: <script>alert(1)</script>", Category: "exposure",
			Severity: finding.Medium, Confidence: finding.HighConfidence, Package: "com.vendor.telemetry",
			Description: "Any app on the device can start or bind this component.",
			Evidence:    []finding.Evidence{{Location: "rom.zip!system.img!/system/priv-app/Telemetry/Telemetry.apk!AndroidManifest.xml", String: "receiver `Boot` | <img src=x onerror=alert(1)>"}},
		},
		{
			RuleID: "harvest.installed-apps", Title: "Lists the installed apps", Category: "installed-apps",
			Severity: finding.Low, Confidence: finding.MediumConfidence, Package: "org.example.launcher",
			Evidence: []finding.Evidence{{Location: "rom.zip!system.img!/system/app/Launcher/Launcher.apk!classes.dex", Class: "Lorg/example/launcher/Apps;", Method: "load()V", API: "Landroid/content/pm/PackageManager;->getInstalledPackages(I)Ljava/util/List;"}},
		},
		{
			RuleID: "config.adb-enabled", Title: "ADB enabled\r\n::error::forged annotation \x1b[31mred\x1b[0m", Category: "configuration",
			Severity: finding.Info, Confidence: finding.LowConfidence,
			Evidence: []finding.Evidence{{Location: "rom.zip!system.img!/system/build.prop", String: "persist.sys.usb.config=adb\n[evil]"}},
		},
	}
	for i := range fs {
		fs[i].ComputeFingerprint()
	}
	r := &report.Report{
		SchemaVersion: report.SchemaVersion,
		Tool:          report.Tool{Name: "romscan", Version: "0.0.0-test", RulesVersion: "rules-test"},
		Inputs:        []report.Input{{Name: "rom.zip", Size: 123456, SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", Kind: "file"}},
		Device: &report.Device{Brand: "Example", Manufacturer: "Example Inc.", Model: "Box 4K", Device: "box4k", AndroidVersion: "9",
			SDK: "28", Fingerprint: "Example/box4k/box4k:9/PPR1/1:user/release-keys", SecurityPatch: "2019-05-05",
			BuildTags: "release-keys", BuildType: "user", Sources: []string{"rom.zip!system.img!/system/build.prop"}},
		Containers: []report.Container{{Location: "rom.zip!system.img", Format: "ext4", Size: 100000}},
		Apps: []report.App{
			{Package: "com.vendor.telemetry", VersionCode: 7, VersionName: "1.0.7", Label: "Telemetry", Location: "rom.zip!system.img!/system/priv-app/Telemetry/Telemetry.apk",
				Placement: "priv-app", Partition: "system", MinSDK: 21, TargetSDK: 28, SharedUserID: "android.uid.system", Persistent: true,
				Signers:     []report.Signer{{SHA256: "c8a2e9bccf597c2fb6dc66bee293fc13f2fc47ec77bc6b2b0d52c11f51192ab8", Subject: "CN=Android,O=Android", Scheme: 2}},
				Permissions: []string{"android.permission.INTERNET", "android.permission.READ_PHONE_STATE"},
				Exported:    []string{"receiver:com.vendor.telemetry.Boot"},
				Endpoints:   []string{"http://collect.example.cn/up?id=1|2", "api.example.cn", "10.0.0.1"},
				Harvests:    []string{"harvest.device-id"}, Sinks: []string{"sink.http-urlconnection"},
				Flags: []string{"platform-signed", "system-uid", "persistent"}, Score: 88.5, MaxSeverity: "critical", Findings: 3},
			{Package: "org.example.launcher", Label: "Launcher", Location: "rom.zip!system.img!/system/app/Launcher/Launcher.apk", Placement: "app", Partition: "system",
				Endpoints: []string{"https://launcher.example.org/feed"}, Score: 3.2, MaxSeverity: "low", Findings: 1},
			{Package: "org.example.quiet", Location: "rom.zip!system.img!/system/app/Quiet/Quiet.apk", Placement: "app", MaxSeverity: "info"},
		},
		Findings: fs,
		Errors:   []report.FileError{{Location: "rom.zip!vendor.img", Error: "erofs: read superblock: corrupt\x1b[2J"}},
		Notes:    []report.Note{{Text: "42 endpoints on the ignore list were filtered"}},
		Summary:  report.Summary{Files: 12, FilteredEndpoints: 42},
	}
	r.Summarise()
	r.Sort()
	return r
}
