/*
 * romscan's YARA rules. The yara analyzer runs them over every member of a
 * scan: DEX files, native libraries, APK assets, and the configuration
 * files, scripts and binaries of a firmware image. A match becomes a finding
 * yara.<rule name>; the meta fields severity (info..critical), confidence
 * (low..high), description and reference become the finding's fields.
 * Keep every rule's strings specific: these rules see every byte of a ROM.
 */

// ---------------------------------------------------------------- endpoints

// A URL whose host is an IP literal, in native code. Hardcoded addresses in
// native code bypass DNS-based blocking and are hard to spot in Java review;
// the endpoints analyzer lists every native URL, this rule ranks them.
rule native_ip_url
{
    meta:
        severity = "medium"
        confidence = "medium"
        description = "Native binary contains a URL whose host is a literal IP address"
        reference = "https://developer.android.com/privacy-and-security/security-tips#Networking"
    strings:
        $ip_url = /https?:\/\/[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}(:[0-9]{1,5})?\// ascii
    condition:
        uint32(0) == 0x464c457f and $ip_url
}

// A bare dotted-quad IP address as a whole NUL-terminated string in native
// code (a fallback server, a push or config host). Version strings look the
// same, so confidence is low.
rule native_ip_literal
{
    meta:
        severity = "low"
        confidence = "low"
        description = "Native binary contains a bare IPv4 address string"
        reference = "https://developer.android.com/privacy-and-security/security-tips#Networking"
    strings:
        $ip = /\x00(4[0-9]|[5-9][0-9]|1[0-9][0-9]|2[0-2][0-9])\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\x00/
    condition:
        uint32(0) == 0x464c457f and $ip
}

// -------------------------------------------------- telemetry and spyware

// Xiaomi's MiStat / MIUI analytics hosts (see catalog/telemetry.yaml for
// references). Matches binaries and configuration files the endpoint
// extraction may not parse (obfuscated concatenations keep the host whole).
rule xiaomi_analytics_hosts
{
    meta:
        severity = "medium"
        confidence = "high"
        description = "Contains Xiaomi MiStat / MIUI analytics host names"
        reference = "https://www.forbes.com/sites/thomasbrewster/2020/04/30/exclusive-warning-over-chinese-mobile-giant-xiaomi-recording-millions-of-peoples-private-web-and-phone-use/"
    strings:
        $a = "data.mistat." ascii wide
        $b = "tracking.miui.com" ascii wide
        $c = "tracking.intl.miui.com" ascii wide
        $d = "sa.api.intl.miui.com" ascii wide
    condition:
        any of them
}

// The Adups FOTA client (Kryptowire 2016): its package name and the hosts
// it uploaded personal data to.
rule adups_fota
{
    meta:
        severity = "high"
        confidence = "high"
        description = "Contains the Adups FOTA client or its data-collection hosts"
        reference = "https://www.kryptowire.com/kryptowire-discovers-mobile-phone-firmware-transmitted-personally-identifiable-information-pii-without-user-consent-disclosure/"
    strings:
        $pkg1 = "com.adups.fota" ascii wide
        $pkg2 = "Lcom/adups/fota/" ascii
        $h1 = "adups.com" ascii wide
        $h2 = "adsunflower.com" ascii wide
    condition:
        any of them
}

// Telemetry and analytics SDK markers in native code or assets, where the
// DEX class-name catalogue cannot see them.
rule telemetry_sdk_markers
{
    meta:
        severity = "low"
        confidence = "medium"
        description = "Contains collector hosts of a telemetry SDK (Umeng, Tencent Beacon, Huawei HiAnalytics)"
        reference = "https://developer.umeng.com/docs/119267/detail/118588"
    strings:
        $umeng1 = "alog.umeng.com" ascii wide
        $umeng2 = "ulogs.umeng.com" ascii wide
        $beacon = "otheve.beacon.qq.com" ascii wide
        $hicloud = ".data.hicloud.com" ascii wide
    condition:
        any of them
}

// --------------------------------------------------- packers and obfuscators
// Markers below are the file and class names these commercial packers leave
// in protected apps, as catalogued by APKiD (rednaga/APKiD, rules/apk and
// rules/dex packers.yara) and the vendors' own documentation. A packed app
// hides its real code from static analysis: every other finding on it is a
// lower bound.

rule packer_jiagu
{
    meta:
        severity = "medium"
        confidence = "high"
        description = "Packed with Qihoo 360 Jiagu: the real code is encrypted and loaded at run time"
        reference = "https://github.com/rednaga/APKiD/blob/master/apkid/rules/apk/packers.yara"
    strings:
        $lib1 = "libjiagu.so" ascii
        $lib2 = "libjiagu_art.so" ascii
        $lib3 = "libjiagu_x86.so" ascii
        $stub = "Lcom/stub/StubApp;" ascii
        $qihoo = "Lcom/qihoo/util/StubApp" ascii
    condition:
        any of them
}

rule packer_bangcle
{
    meta:
        severity = "medium"
        confidence = "high"
        description = "Packed with Bangcle (SecNeo): the real code is encrypted and loaded at run time"
        reference = "https://github.com/rednaga/APKiD/blob/master/apkid/rules/apk/packers.yara"
    strings:
        $lib1 = "libsecexe.so" ascii
        $lib2 = "libsecmain.so" ascii
        $lib3 = "libsecpreload.so" ascii
        $cls1 = "Lcom/secneo/apkwrapper/" ascii
        $cls2 = "Lcom/bangcle/" ascii
        $dat = "bangcle_classes.jar" ascii
    condition:
        any of them
}

rule packer_secshell
{
    meta:
        severity = "medium"
        confidence = "high"
        description = "Packed with SecShell (Beijing SecShell): the real code is encrypted and loaded at run time"
        reference = "https://github.com/rednaga/APKiD/blob/master/apkid/rules/apk/packers.yara"
    strings:
        $lib = "libSecShell.so" ascii
        $lib2 = "libSecShell-x86.so" ascii
        $cls = "Lcom/SecShell/SecShell/" ascii
    condition:
        any of them
}

rule packer_ijiami
{
    meta:
        severity = "medium"
        confidence = "high"
        description = "Packed with ijiami (Aijiami): the real code is encrypted and loaded at run time"
        reference = "https://github.com/rednaga/APKiD/blob/master/apkid/rules/apk/packers.yara"
    strings:
        $dat1 = "ijiami.dat" ascii
        $dat2 = "ijiami.ajm" ascii
        $lib1 = "libexecmain.so" ascii
        $lib2 = "libexec.so" ascii
        $cls = "Lcom/shell/SuperApplication;" ascii
    condition:
        $dat1 or $dat2 or $cls or ($lib1 and $lib2)
}

rule packer_tencent_legu
{
    meta:
        severity = "medium"
        confidence = "high"
        description = "Packed with Tencent Legu: the real code is encrypted and loaded at run time"
        reference = "https://github.com/rednaga/APKiD/blob/master/apkid/rules/apk/packers.yara"
    strings:
        $lib1 = "libshella-" ascii
        $lib2 = "libshellx-" ascii
        $cls = "Lcom/tencent/StubShell/" ascii
        $dat = "tencent_stub" ascii
    condition:
        any of them
}

rule packer_baidu
{
    meta:
        severity = "medium"
        confidence = "high"
        description = "Packed with Baidu app protection: the real code is encrypted and loaded at run time"
        reference = "https://github.com/rednaga/APKiD/blob/master/apkid/rules/apk/packers.yara"
    strings:
        $lib = "libbaiduprotect" ascii
        $cls = "Lcom/baidu/protect/" ascii
    condition:
        any of them
}

// ------------------------------------------------ root, su and droppers

// The su binary paths and root-management packages. Apps that merely check
// for root (banking apps, RootBeer) carry the same strings, so this is low
// severity and low confidence on its own; it matters next to an exec rule.
rule root_su_paths
{
    meta:
        severity = "low"
        confidence = "low"
        description = "Refers to su binary paths or root-management apps (root check or su helper)"
        reference = "https://source.android.com/docs/security/features/selinux"
    strings:
        $p1 = "/system/xbin/su" ascii wide
        $p2 = "/system/bin/su" ascii wide
        $p3 = "/sbin/su" ascii wide
        $p4 = "/su/bin/su" ascii wide
        $a1 = "eu.chainfire.supersu" ascii wide
        $a2 = "com.noshufou.android.su" ascii wide
        $a3 = "com.topjohnwu.magisk" ascii wide
    condition:
        2 of them
}

// DEX code that runs "su" through Runtime.exec: the string "su" as a whole
// DEX string (uleb128 length 2, "su", NUL) with "-c", or an su path, next to
// Runtime.exec. "su" alone is not enough: obfuscators name members "su".
rule dex_runtime_exec_su
{
    meta:
        severity = "high"
        confidence = "medium"
        description = "DEX code runs the su binary through Runtime.exec (asks for root)"
        reference = "https://developer.android.com/reference/java/lang/Runtime#exec(java.lang.String)"
    strings:
        $runtime = "Ljava/lang/Runtime;" ascii
        $exec = "\x04exec\x00" ascii
        $su = "\x02su\x00" ascii
        $dash_c = "\x02-c\x00" ascii
        $su_c = "su -c" ascii
        $xbin_su = "/system/xbin/su" ascii
        $bin_su = "/system/bin/su" ascii
    condition:
        uint32(0) == 0x0a786564 and $runtime and $exec and
        ($su_c or ($su and ($dash_c or $xbin_su or $bin_su)))
}

// A dropper: shell commands that install or make executable a file the app
// wrote, run through Runtime.exec or ProcessBuilder.
rule dex_exec_dropper
{
    meta:
        severity = "high"
        confidence = "medium"
        description = "DEX code installs packages or makes dropped files executable through shell commands"
        reference = "https://developer.android.com/reference/java/lang/ProcessBuilder"
    strings:
        $runtime = "Ljava/lang/Runtime;" ascii
        $pb = "Ljava/lang/ProcessBuilder;" ascii
        $pm1 = "pm install" ascii
        $pm2 = "pm grant" ascii
        $chmod1 = "chmod 777" ascii
        $chmod2 = "chmod 755" ascii
        $chmod3 = "chmod 0755" ascii
        $dcl = "Ldalvik/system/DexClassLoader;" ascii
    condition:
        uint32(0) == 0x0a786564 and ($runtime or $pb) and
        (any of ($pm*) or (any of ($chmod*) and $dcl))
}

// Shell scripts or native helpers that remount system read-write and drop
// files into it: how persistent implants survive a factory reset.
rule system_remount_dropper
{
    meta:
        severity = "high"
        confidence = "medium"
        description = "Remounts /system read-write and writes into it (persistence after factory reset)"
        reference = "https://source.android.com/docs/security/features/verifiedboot"
    strings:
        $m1 = "mount -o remount,rw /system" ascii
        $m2 = "mount -o rw,remount /system" ascii
        $m3 = "mount -o remount,rw /" ascii
        $w1 = "/system/app/" ascii
        $w2 = "/system/priv-app/" ascii
        $w3 = "/system/xbin/" ascii
        $c1 = "chmod 6755" ascii
        $c2 = "chattr +i" ascii
    condition:
        any of ($m*) and (any of ($w*) or any of ($c*))
}
