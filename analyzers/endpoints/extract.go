package endpoints

import (
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// Endpoint is a network destination found in a string.
type Endpoint struct {
	Value  string // what is reported: the URL, host[:port] or IP[:port]
	Host   string // host name or IP literal, lowercase
	Port   int    // 0 when not given
	Scheme string // "http", "https", ... or "" for a bare host/IP
	IsIP   bool
}

var (
	urlRe = regexp.MustCompile(`(?i)\b(?:https?|wss?|ftp|ftps|rtmp|rtsp|mqtt|mqtts|tcp|udp|sftp|ssh|telnet)://[^\s"'<>\\^` + "`" + `{|}]+`)
	// ipRe finds dotted quads with an optional port; the callers reject
	// version-like hits.
	ipRe   = regexp.MustCompile(`(?:^|[^0-9.])((?:[0-9]{1,3}\.){3}[0-9]{1,3})(?::([0-9]{1,5}))?(?:$|[^0-9.])`)
	hostRe = regexp.MustCompile(`^(?i)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+([a-z]{2,24})(?::([0-9]{1,5}))?$`)
)

// tlds are the top-level domains accepted for bare host names. A bare
// string like "com.foo.bar" (a Java package) ends in a word that is not a
// TLD, or starts with one: both are rejected.
var tlds = map[string]bool{
	"com": true, "net": true, "org": true, "cn": true, "ru": true, "io": true, "co": true, "info": true,
	"biz": true, "me": true, "cc": true, "tv": true, "us": true, "uk": true, "de": true, "jp": true,
	"kr": true, "in": true, "hk": true, "tw": true, "sg": true, "br": true, "fr": true, "it": true,
	"es": true, "nl": true, "pl": true, "se": true, "ch": true, "eu": true, "top": true, "xyz": true,
	"site": true, "online": true, "app": true, "dev": true, "cloud": true, "mobi": true, "rs": true,
	"ua": true, "ir": true, "vn": true, "id": true, "th": true, "my": true, "ph": true, "tr": true,
	"pk": true, "bd": true, "mx": true, "ar": true, "ca": true, "au": true, "edu": true, "gov": true,
}

// reversedPrefixes mark reverse-DNS names (packages, intent actions) that
// look like host names.
var reversedPrefixes = []string{"com.", "org.", "net.", "android.", "java.", "javax.", "io.", "cn.", "de.", "me."}

// FindInString extracts endpoints from one string. whole says the string is
// a single value (a DEX string constant, a native string): bare host names
// and bare IPs are accepted only when they are the whole string, which keeps
// Java package names and version numbers out.
func FindInString(s string, whole bool) []Endpoint {
	if len(s) < 4 || len(s) > 4096 {
		return nil
	}
	var out []Endpoint
	if strings.Contains(s, "://") {
		for _, m := range urlRe.FindAllString(s, 8) {
			if e, ok := parseURL(m); ok {
				out = append(out, e)
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	t := strings.TrimSpace(s)
	if whole {
		if e, ok := parseHostPort(t); ok {
			return []Endpoint{e}
		}
		return nil
	}
	// Free text: IP literals anywhere, when they do not look like versions.
	for _, m := range ipRe.FindAllStringSubmatchIndex(s, 8) {
		ip := s[m[2]:m[3]]
		before := s[:m[2]]
		if strings.HasSuffix(strings.ToLower(strings.TrimRight(before, " =:\"'")), "version") || strings.HasSuffix(before, "v") {
			continue
		}
		port := 0
		if m[4] >= 0 {
			port, _ = strconv.Atoi(s[m[4]:m[5]])
		}
		if e, ok := ipEndpoint(ip, port); ok {
			out = append(out, e)
		}
	}
	return out
}

func parseURL(raw string) (Endpoint, bool) {
	raw = strings.TrimRight(raw, ".,;:)]}")
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return Endpoint{}, false
	}
	host := strings.ToLower(u.Hostname())
	if host == "" || strings.ContainsAny(host, "%$*") {
		return Endpoint{}, false
	}
	e := Endpoint{Value: raw, Host: host, Scheme: strings.ToLower(u.Scheme)}
	if p := u.Port(); p != "" {
		e.Port, _ = strconv.Atoi(p)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		e.IsIP = true
		e.Host = ip.String()
	} else if !strings.Contains(host, ".") {
		return Endpoint{}, false // "http://foo/": not a public endpoint
	}
	return e, true
}

func parseHostPort(t string) (Endpoint, bool) {
	host, port := t, 0
	if h, p, ok := strings.Cut(t, ":"); ok && !strings.Contains(p, ":") {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 || n > 65535 {
			return Endpoint{}, false
		}
		host, port = h, n
	}
	if strings.Count(t, ":") >= 2 {
		if ip, err := netip.ParseAddr(strings.Trim(t, "[]")); err == nil {
			return Endpoint{Value: ip.String(), Host: ip.String(), IsIP: true}, true
		}
	}
	if e, ok := ipEndpoint(host, port); ok {
		return e, true
	}
	if !maybeHost(t) {
		return Endpoint{}, false
	}
	m := hostRe.FindStringSubmatch(t)
	if m == nil || !tlds[strings.ToLower(m[1])] {
		return Endpoint{}, false
	}
	lower := strings.ToLower(host)
	for _, p := range reversedPrefixes {
		if strings.HasPrefix(lower, p) && strings.Count(lower, ".") >= 2 {
			return Endpoint{}, false
		}
	}
	// File names ("index.html", "libfoo.so") share the shape; their last
	// label is not a TLD, so they were rejected above.
	return Endpoint{Value: t, Host: lower, Port: port}, true
}

// maybeHost is a quick necessary condition for hostRe, which every string
// constant of every app is tried against: ASCII text made only of the bytes
// the pattern accepts, with a dot. Non-ASCII text goes to the pattern, whose
// case folding matches a few non-ASCII letters (U+212A, U+017F).
func maybeHost(t string) bool {
	dot := false
	for i := 0; i < len(t); i++ {
		switch c := t[i]; {
		case c >= 0x80:
			return true
		case c == '.':
			dot = true
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == ':':
		default:
			return false
		}
	}
	return dot
}

func ipEndpoint(s string, port int) (Endpoint, bool) {
	if !dottedQuad(s) {
		return Endpoint{}, false // most strings: spare ParseAddr its error value
	}
	ip, err := netip.ParseAddr(s)
	if err != nil || !ip.Is4() {
		return Endpoint{}, false
	}
	b := ip.As4()
	// Versions like 1.0.0.1 or 2.3.4.5 are dotted quads too; real
	// endpoints with every octet below 10 are rare enough to drop.
	if b[0] < 10 && b[1] < 10 && b[2] < 10 && b[3] < 10 {
		return Endpoint{}, false
	}
	if port < 0 || port > 65535 {
		return Endpoint{}, false
	}
	v := ip.String()
	if port > 0 {
		v += ":" + strconv.Itoa(port)
	}
	return Endpoint{Value: v, Host: ip.String(), Port: port, IsIP: true}, true
}

// dottedQuad is a quick necessary condition for s to parse as an IPv4
// address: digits and exactly three dots.
func dottedQuad(s string) bool {
	if len(s) < 7 || len(s) > 15 {
		return false
	}
	dots := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.':
			dots++
		case c < '0' || c > '9':
			return false
		}
	}
	return dots == 3
}
