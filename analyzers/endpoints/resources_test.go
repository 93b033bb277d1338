package endpoints

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
	"unicode/utf16"

	"github.com/romscan/romscan/extract"
)

// buildTable makes a minimal resources.arsc: a table header and a global
// string pool holding strs, UTF-8 or UTF-16.
func buildTable(strs []string, utf8 bool) []byte {
	var data []byte
	var offs []uint32
	for _, s := range strs {
		offs = append(offs, uint32(len(data)))
		if utf8 {
			data = append(data, byte(len([]rune(s))), byte(len(s)))
			data = append(data, s...)
			data = append(data, 0)
		} else {
			u := utf16.Encode([]rune(s))
			data = binary.LittleEndian.AppendUint16(data, uint16(len(u)))
			for _, c := range u {
				data = binary.LittleEndian.AppendUint16(data, c)
			}
			data = append(data, 0, 0)
		}
	}
	for len(data)%4 != 0 {
		data = append(data, 0)
	}
	const poolHeader = 28
	stringsStart := poolHeader + 4*len(strs)
	poolSize := stringsStart + len(data)
	var pool bytes.Buffer
	binary.Write(&pool, binary.LittleEndian, uint16(resStringPoolType))
	binary.Write(&pool, binary.LittleEndian, uint16(poolHeader))
	binary.Write(&pool, binary.LittleEndian, uint32(poolSize))
	binary.Write(&pool, binary.LittleEndian, uint32(len(strs)))
	binary.Write(&pool, binary.LittleEndian, uint32(0))
	flags := uint32(0)
	if utf8 {
		flags = utf8Flag
	}
	binary.Write(&pool, binary.LittleEndian, flags)
	binary.Write(&pool, binary.LittleEndian, uint32(stringsStart))
	binary.Write(&pool, binary.LittleEndian, uint32(0))
	for _, o := range offs {
		binary.Write(&pool, binary.LittleEndian, o)
	}
	pool.Write(data)
	var out bytes.Buffer
	binary.Write(&out, binary.LittleEndian, uint16(resTableType))
	binary.Write(&out, binary.LittleEndian, uint16(12))
	binary.Write(&out, binary.LittleEndian, uint32(12+pool.Len()))
	binary.Write(&out, binary.LittleEndian, uint32(1))
	out.Write(pool.Bytes())
	return out.Bytes()
}

func TestResourceStrings(t *testing.T) {
	want := []string{"app_name", "http://42.62.48.10/cfg", "héllo"}
	for _, utf8 := range []bool{true, false} {
		b := buildTable(want, utf8)
		var got []string
		if err := ResourceStrings(bytes.NewReader(b), int64(len(b)), func(s string) { got = append(got, s) }); err != nil {
			t.Fatalf("utf8=%v: %v", utf8, err)
		}
		if len(got) != len(want) {
			t.Fatalf("utf8=%v: got %q, want %q", utf8, got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("utf8=%v: string %d = %q, want %q", utf8, i, got[i], want[i])
			}
		}
	}
	if err := ResourceStrings(bytes.NewReader([]byte{1, 2, 3}), 3, func(string) {}); err == nil {
		t.Error("a 3-byte table gave no error")
	}
}

func TestFindInString(t *testing.T) {
	tests := []struct {
		s     string
		whole bool
		want  []string
	}{
		{"http://42.62.48.10/upload", true, []string{"http://42.62.48.10/upload"}},
		{"42.62.48.11", true, []string{"42.62.48.11"}},
		{"42.62.48.11:8443", true, []string{"42.62.48.11:8443"}},
		{"tracking.miui.com", true, []string{"tracking.miui.com"}},
		{"com.example.harvester", true, nil},
		{"android.intent.action.MAIN", true, nil},
		{"libbeacon.so", true, nil},
		{"1.2.3.4", true, nil},
		{"version 10.0.0.1 build", false, nil},
		{"server=93.87.85.25 port", false, []string{"93.87.85.25"}},
		{"see https://a.example.cn/x, then", false, []string{"https://a.example.cn/x"}},
		{"http://localhost/", true, nil},
	}
	for _, tt := range tests {
		var got []string
		for _, e := range FindInString(tt.s, tt.whole) {
			got = append(got, e.Value)
		}
		if len(got) != len(tt.want) || (len(got) > 0 && got[0] != tt.want[0]) {
			t.Errorf("FindInString(%q, %v) = %q, want %q", tt.s, tt.whole, got, tt.want)
		}
	}
}

// FuzzResourceStrings checks the string-pool reader never panics.
func FuzzResourceStrings(f *testing.F) {
	f.Add(buildTable([]string{"a", "http://x.cn/"}, true))
	f.Add(buildTable([]string{"b"}, false))
	f.Fuzz(func(t *testing.T, b []byte) {
		err := ResourceStrings(bytes.NewReader(b), int64(len(b)), func(string) {})
		if err != nil && !extract.HasSentinel(err) {
			t.Fatalf("%v wraps no extract sentinel", err)
		}
	})
}

// FuzzFindInString checks the endpoint matcher never panics.
func FuzzFindInString(f *testing.F) {
	for _, s := range []string{"http://42.62.48.10/upload", "a.b.cn:80", "[::1]:8", "1.2.3.4:99999"} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, whole bool) { FindInString(s, whole) })
}

// joins returns every concatenation of up to n pieces (the empty string
// included).
func joins(pieces []string, n int) []string {
	out := []string{""}
	last := []string{""}
	for range n {
		var next []string
		for _, prefix := range last {
			for _, p := range pieces {
				next = append(next, prefix+p)
			}
		}
		out = append(out, next...)
		last = next
	}
	return out
}

// TestMaybeHostNeverRejectsAHost checks the quick filter in front of hostRe
// only drops strings the pattern would reject: every string over a small
// alphabet (ASCII and the non-ASCII letters case folding maps to k and s),
// up to five characters, plus longer cases.
func TestMaybeHostNeverRejectsAHost(t *testing.T) {
	alphabet := []string{"a", "K", "\u212a", "\u017f", "0", ".", "-", ":", "_", " "}
	strs := append(joins(alphabet, 5), "example.com", "EXAMPLE.COM:8080", "api.foo\u212a.com", "a_b.com", "a b.com", "x.co/", "1.2.3.4", "[::1]:80")
	matched := 0
	for _, s := range strs {
		if hostRe.MatchString(s) {
			matched++
			if !maybeHost(s) {
				t.Errorf("maybeHost(%q) = false, but hostRe matches", s)
			}
		}
	}
	if matched == 0 {
		t.Fatal("hostRe matched nothing: the test checks nothing")
	}
}

// TestDottedQuadNeverRejectsAnIPv4 checks the quick filter in front of
// netip.ParseAddr in ipEndpoint only drops strings that are not IPv4
// addresses: every string of up to six pieces over a small alphabet, plus
// notable cases.
func TestDottedQuadNeverRejectsAnIPv4(t *testing.T) {
	pieces := []string{"1", "25.", "255", "256.", "0.", ".", ":", "%e", "a", "::ffff:"}
	strs := append(joins(pieces, 6), "255.255.255.255", "0.0.0.0", "01.2.3.4", "1.2.3.4%eth0", "::ffff:1.2.3.4", "1.2.3", "1.2.3.4.5", " 1.2.3.4")
	ipv4 := 0
	for _, s := range strs {
		if ip, err := netip.ParseAddr(s); err == nil && ip.Is4() {
			ipv4++
			if !dottedQuad(s) {
				t.Errorf("dottedQuad(%q) = false, but it parses as IPv4", s)
			}
		}
	}
	if ipv4 < 100 {
		t.Fatalf("only %d strings parsed as IPv4: the test checks little", ipv4)
	}
}
