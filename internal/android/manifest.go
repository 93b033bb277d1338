package android

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/romscan/romscan/extract"
)

// Manifest is the part of AndroidManifest.xml that analyzers use, decoded
// into our own types. SDK levels are as written: 0 when absent (see
// EffectiveTargetSDK for Android's defaults).
type Manifest struct {
	Package         string
	VersionCode     int64 // versionCodeMajor << 32 | versionCode
	VersionName     string
	MinSDK          int
	TargetSDK       int
	MaxSDK          int
	CompileSDK      int // android:compileSdkVersion, else platformBuildVersionCode
	SharedUserID    string
	SharedUserLabel string
	UsesPermissions []UsesPermission
	Permissions     []Permission
	Application     Application
}

// UsesPermission is a <uses-permission> (or <uses-permission-sdk-23>) element.
type UsesPermission struct {
	Name   string
	MaxSDK int
	SDK23  bool // declared with uses-permission-sdk-23 (or -sdk-m)
}

// Permission is a <permission> the app declares.
type Permission struct {
	Name            string
	ProtectionLevel string // "normal", "dangerous", "signature", "signature|privileged", ...
}

// Application is the <application> element.
type Application struct {
	Name                  string
	Label                 string
	Debuggable            bool
	AllowBackup           bool // Android's default is true
	AllowBackupSet        bool // explicitly set in the manifest
	Persistent            bool
	HasCode               bool              // Android's default is true
	UsesCleartextTraffic  *bool             // nil when absent (default: true below targetSdk 28)
	NetworkSecurityConfig string            // resource path or reference
	Activities            []Component       // <activity> and <activity-alias>
	Services              []Component       // <service>
	Receivers             []Component       // <receiver>
	Providers             []Component       // <provider>
	MetaData              map[string]string // <meta-data> name -> value or resource
}

// Component is an activity, activity-alias, service, receiver or provider.
type Component struct {
	Kind                string // activity|activity-alias|service|receiver|provider
	Name                string // fully qualified: ".Foo" and "Foo" resolved against the package
	TargetActivity      string // activity-alias only, fully qualified
	Exported            *bool  // as written
	EffectiveExported   bool   // Exported, or Android's implicit default
	Permission          string
	ReadPermission      string
	WritePermission     string
	Authorities         string
	GrantURIPermissions bool
	Enabled             bool // Android's default is true
	Process             string
	IntentFilters       []IntentFilter
}

// IntentFilter is one <intent-filter>.
type IntentFilter struct {
	Actions    []string
	Categories []string
	Data       []IntentData
	Priority   int
}

// IntentData is one <data> element of an intent filter.
type IntentData struct {
	Scheme, Host, Port, Path, MimeType string
}

// RequestsPermission reports whether the app asks for permission name.
func (m *Manifest) RequestsPermission(name string) bool {
	if m == nil {
		return false
	}
	for _, p := range m.UsesPermissions {
		if p.Name == name {
			return true
		}
	}
	return false
}

// EffectiveTargetSDK is the targetSdkVersion Android applies: as written,
// else minSdkVersion, else 1.
func (m *Manifest) EffectiveTargetSDK() int {
	switch {
	case m == nil:
		return 1
	case m.TargetSDK > 0:
		return m.TargetSDK
	case m.MinSDK > 0:
		return m.MinSDK
	}
	return 1
}

// DecodeManifest decodes a bare binary AndroidManifest.xml (AXML). Resource
// references stay unresolved ("@7f0b0001") as there is no resources.arsc.
func DecodeManifest(r io.ReaderAt, size int64) (*Manifest, error) {
	if size > maxManifestBytes {
		return nil, fmt.Errorf("android: manifest of %d bytes, limit %d: %w", size, maxManifestBytes, extract.ErrLimit)
	}
	if size < 0 {
		return nil, fmt.Errorf("android: manifest size %d: %w", size, extract.ErrCorrupt)
	}
	data := make([]byte, size)
	if n, err := r.ReadAt(data, 0); int64(n) != size {
		return nil, fmt.Errorf("android: read manifest: %v: %w", err, extract.ErrCorrupt)
	}
	return decodeManifestBytes(data, nil)
}

func decodeManifestBytes(data []byte, res *resTable) (m *Manifest, err error) {
	defer func() {
		if p := recover(); p != nil {
			m, err = nil, extract.PanicError("android: manifest decoder", p)
		}
	}()
	root, err := decodeAXML(data)
	if err != nil {
		return nil, fmt.Errorf("android: decode manifest: %w", err)
	}
	return buildManifest(root, res)
}

// buildManifest maps a decoded tree to a Manifest.
func buildManifest(root *node, res *resTable) (*Manifest, error) {
	if root == nil {
		return nil, fmt.Errorf("android: manifest: no root element: %w", extract.ErrCorrupt)
	}
	if root.name != "manifest" {
		// Some packers rename or wrap the root; Android only reads the
		// first element. Accept it and look for a nested <manifest>.
		n := findChild(root, "manifest")
		if n == nil {
			return nil, fmt.Errorf("android: manifest: root element %q, want manifest: %w", root.name, extract.ErrCorrupt)
		}
		root = n
	}
	b := builder{res: res}
	m := &Manifest{}
	m.Package = b.str(root, "package", true)
	if v, ok := root.get("versionCode"); ok {
		m.VersionCode = int64(uint32(parseInt(b.resolve(v))))
	}
	if v, ok := root.get("versionCodeMajor"); ok {
		m.VersionCode |= int64(parseInt(b.resolve(v))) << 32
	}
	m.VersionName = b.str(root, "versionName", false)
	m.CompileSDK = b.sdk(root, "compileSdkVersion")
	if m.CompileSDK == 0 {
		m.CompileSDK = b.sdk(root, "platformBuildVersionCode")
	}
	m.SharedUserID = b.str(root, "sharedUserId", false)
	m.SharedUserLabel = b.str(root, "sharedUserLabel", false)

	var app *node
	sdkSeen := false
	for _, c := range root.children {
		switch c.name {
		case "uses-sdk":
			if sdkSeen {
				continue
			}
			sdkSeen = true
			m.MinSDK = b.sdk(c, "minSdkVersion")
			m.TargetSDK = b.sdk(c, "targetSdkVersion")
			m.MaxSDK = b.sdk(c, "maxSdkVersion")
		case "uses-permission", "uses-permission-sdk-23", "uses-permission-sdk-m":
			p := UsesPermission{Name: b.str(c, "name", false), SDK23: c.name != "uses-permission"}
			p.MaxSDK = b.sdk(c, "maxSdkVersion")
			if p.Name != "" {
				m.UsesPermissions = append(m.UsesPermissions, p)
			}
		case "permission":
			p := Permission{Name: b.str(c, "name", false), ProtectionLevel: "normal"}
			if v, ok := c.get("protectionLevel"); ok {
				p.ProtectionLevel = protectionLevel(b.resolve(v))
			}
			m.Permissions = append(m.Permissions, p)
		case "application":
			if app == nil {
				app = c
			}
		}
	}
	target := m.EffectiveTargetSDK()
	a := &m.Application
	a.AllowBackup, a.HasCode = true, true
	if app != nil {
		a.Name = className(m.Package, b.str(app, "name", false))
		a.Label = b.str(app, "label", false)
		a.Debuggable = b.boolean(app, "debuggable", false)
		if _, ok := app.get("allowBackup"); ok {
			a.AllowBackupSet = true
			a.AllowBackup = b.boolean(app, "allowBackup", true)
		}
		a.Persistent = b.boolean(app, "persistent", false)
		a.HasCode = b.boolean(app, "hasCode", true)
		if _, ok := app.get("usesCleartextTraffic"); ok {
			v := b.boolean(app, "usesCleartextTraffic", true)
			a.UsesCleartextTraffic = &v
		}
		a.NetworkSecurityConfig = b.str(app, "networkSecurityConfig", false)
		for _, c := range app.children {
			switch c.name {
			case "activity", "activity-alias", "service", "receiver", "provider":
				comp := b.component(c, m.Package, target)
				switch c.name {
				case "activity", "activity-alias":
					a.Activities = append(a.Activities, comp)
				case "service":
					a.Services = append(a.Services, comp)
				case "receiver":
					a.Receivers = append(a.Receivers, comp)
				case "provider":
					a.Providers = append(a.Providers, comp)
				}
			case "meta-data":
				name := b.str(c, "name", false)
				if name == "" {
					continue
				}
				v, ok := c.get("value")
				if !ok {
					v, _ = c.get("resource")
				}
				if a.MetaData == nil {
					a.MetaData = map[string]string{}
				}
				a.MetaData[name] = b.resolve(v)
			}
		}
	}
	return m, nil
}

func findChild(n *node, name string) *node {
	for _, c := range n.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

// builder resolves attribute values through the resource table.
type builder struct {
	res *resTable
}

func (b builder) resolve(v string) string {
	if id, ok := parseRef(v); ok && b.res != nil {
		if s, ok := b.res.resolve(id); ok {
			return s
		}
	}
	return v
}

func (b builder) str(n *node, local string, plain bool) string {
	var v string
	var ok bool
	if plain {
		v, ok = n.getPlain(local)
	} else {
		v, ok = n.get(local)
	}
	if !ok {
		return ""
	}
	return b.resolve(v)
}

func (b builder) boolean(n *node, local string, def bool) bool {
	v, ok := n.get(local)
	if !ok {
		return def
	}
	switch strings.ToLower(strings.TrimSpace(b.resolve(v))) {
	case "true", "1", "-1", "0xffffffff":
		return true
	case "false", "0", "0x0":
		return false
	}
	return def
}

// sdk reads an SDK level: a number, or a codename (a preview build), which
// Android treats as the development level 10000.
func (b builder) sdk(n *node, local string) int {
	v, ok := n.get(local)
	if !ok {
		return 0
	}
	v = strings.TrimSpace(b.resolve(v))
	if v == "" {
		return 0
	}
	if i, err := strconv.ParseInt(v, 0, 64); err == nil {
		return int(i)
	}
	if _, ok := parseRef(v); ok {
		return 0
	}
	return 10000
}

func parseInt(v string) int64 {
	v = strings.TrimSpace(v)
	if i, err := strconv.ParseInt(v, 0, 64); err == nil {
		return i
	}
	if u, err := strconv.ParseUint(v, 0, 64); err == nil {
		return int64(u)
	}
	return 0
}

func (b builder) component(c *node, pkg string, target int) Component {
	comp := Component{
		Kind:                c.name,
		Name:                className(pkg, b.str(c, "name", false)),
		Permission:          b.str(c, "permission", false),
		ReadPermission:      b.str(c, "readPermission", false),
		WritePermission:     b.str(c, "writePermission", false),
		Authorities:         b.str(c, "authorities", false),
		GrantURIPermissions: b.boolean(c, "grantUriPermissions", false),
		Enabled:             b.boolean(c, "enabled", true),
		Process:             b.str(c, "process", false),
	}
	if c.name == "activity-alias" {
		comp.TargetActivity = className(pkg, b.str(c, "targetActivity", false))
	}
	if _, ok := c.get("exported"); ok {
		v := b.boolean(c, "exported", false)
		comp.Exported = &v
	}
	for _, f := range c.children {
		if f.name != "intent-filter" {
			continue
		}
		var fl IntentFilter
		if v, ok := f.get("priority"); ok {
			fl.Priority = int(int32(parseInt(b.resolve(v))))
		}
		for _, x := range f.children {
			switch x.name {
			case "action":
				fl.Actions = append(fl.Actions, b.str(x, "name", false))
			case "category":
				fl.Categories = append(fl.Categories, b.str(x, "name", false))
			case "data":
				d := IntentData{
					Scheme:   b.str(x, "scheme", false),
					Host:     b.str(x, "host", false),
					Port:     b.str(x, "port", false),
					MimeType: b.str(x, "mimeType", false),
				}
				for _, p := range []string{"path", "pathPrefix", "pathPattern", "pathAdvancedPattern", "pathSuffix"} {
					if v := b.str(x, p, false); v != "" {
						d.Path = v
						break
					}
				}
				fl.Data = append(fl.Data, d)
			}
		}
		comp.IntentFilters = append(comp.IntentFilters, fl)
	}
	comp.EffectiveExported = effectiveExported(comp, target)
	return comp
}

// effectiveExported applies Android's default for a missing
// android:exported: components with intent filters are exported below
// targetSdk 31 (from 31 on such an app does not install); providers are
// exported by default below targetSdk 17.
func effectiveExported(c Component, target int) bool {
	if c.Exported != nil {
		return *c.Exported
	}
	if c.Kind == "provider" {
		return target < 17
	}
	return len(c.IntentFilters) > 0 && target < 31
}

// className resolves a component name against the package the way Android's
// PackageParser.buildClassName does.
func className(pkg, name string) string {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return ""
	case strings.HasPrefix(name, "."):
		return pkg + name
	case !strings.Contains(name, "."):
		return pkg + "." + name
	}
	return name
}

// protectionLevel renders android:protectionLevel flags as text.
func protectionLevel(v string) string {
	i, err := strconv.ParseInt(strings.TrimSpace(v), 0, 64)
	if err != nil {
		if v == "" {
			return "normal"
		}
		return v // already textual (or unresolvable)
	}
	bases := []string{"normal", "dangerous", "signature", "signatureOrSystem"}
	var parts []string
	if base := i & 0xf; base < int64(len(bases)) {
		parts = append(parts, bases[base])
	} else {
		parts = append(parts, fmt.Sprintf("0x%x", base))
	}
	flags := []struct {
		bit  int64
		name string
	}{
		{0x10, "privileged"}, {0x20, "development"}, {0x40, "appop"}, {0x80, "pre23"},
		{0x100, "installer"}, {0x200, "verifier"}, {0x400, "preinstalled"}, {0x800, "setup"},
		{0x1000, "instant"}, {0x2000, "runtime"}, {0x4000, "oem"}, {0x8000, "vendorPrivileged"},
		{0x10000, "textClassifier"}, {0x20000, "wellbeing"}, {0x40000, "documenter"},
		{0x80000, "configurator"}, {0x100000, "incidentReportApprover"}, {0x200000, "appPredictor"},
		{0x400000, "module"}, {0x800000, "companion"}, {0x1000000, "retailDemo"},
		{0x2000000, "recents"}, {0x4000000, "role"}, {0x8000000, "knownSigner"},
	}
	for _, f := range flags {
		if i&f.bit != 0 {
			parts = append(parts, f.name)
		}
	}
	return strings.Join(parts, "|")
}
