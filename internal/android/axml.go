package android

import (
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/avast/apkparser"
	"github.com/shogo82148/androidbinary"

	"github.com/romscan/romscan/extract"
)

const (
	androidNS = "http://schemas.android.com/apk/res/android"

	maxManifestBytes = 16 * extract.MiB // a manifest larger than this is hostile
	maxXMLDepth      = 128
	maxXMLNodes      = 1 << 18
	maxStringBudget  = 8 * extract.MiB // decoded strings per pool
)

// node is one element of a decoded XML document, whatever its encoding
// (binary AXML or aapt2 protobuf).
type node struct {
	name     string
	attrs    []attr
	children []*node
}

type attr struct {
	space, local, value string
}

// treeBuilder receives xml tokens and builds a bounded tree. It implements
// apkparser.ManifestEncoder.
type treeBuilder struct {
	root  *node
	stack []*node
	n     int
}

var errTooDeep = errors.New("xml nested too deep or too many elements")

// EncodeToken adds one token to the tree.
func (b *treeBuilder) EncodeToken(t xml.Token) error {
	switch t := t.(type) {
	case xml.StartElement:
		b.n++
		if len(b.stack) >= maxXMLDepth || b.n > maxXMLNodes {
			return errTooDeep
		}
		nd := &node{name: t.Name.Local}
		for _, a := range t.Attr {
			nd.attrs = append(nd.attrs, attr{space: a.Name.Space, local: a.Name.Local, value: a.Value})
		}
		if len(b.stack) == 0 {
			if b.root == nil {
				b.root = nd
			}
		} else {
			p := b.stack[len(b.stack)-1]
			p.children = append(p.children, nd)
		}
		b.stack = append(b.stack, nd)
	case xml.EndElement:
		// Unbalanced end tags are tolerated: Android's parser does not check.
		if len(b.stack) > 0 {
			b.stack = b.stack[:len(b.stack)-1]
		}
	}
	return nil
}

// Flush is a no-op.
func (b *treeBuilder) Flush() error { return nil }

// decodeAXML turns binary XML into a tree. apkparser's decoder comes first: it
// names attributes by resource ID as Android does, so packers that rename or
// blank attribute strings do not fool it. androidbinary, which names
// attributes from the string pool, is the fallback, behind a check that every
// count and length it will allocate by fits in the data.
func decodeAXML(data []byte) (root *node, err error) {
	defer func() {
		if p := recover(); p != nil {
			root, err = nil, extract.PanicError("axml decoder", p)
		}
	}()
	if len(data) < 8 {
		return nil, fmt.Errorf("axml: %d bytes: %w", len(data), extract.ErrCorrupt)
	}
	if bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n\ufeff"), []byte("<")) {
		return nil, fmt.Errorf("axml: plain-text XML, binary expected: %w", extract.ErrUnsupported)
	}
	if err := androidChecks(data); err != nil {
		return nil, fmt.Errorf("axml: %w", err)
	}
	b := &treeBuilder{}
	cfg := &apkparser.ParseConfig{MaxStringTableBytes: maxStringBudget}
	perr := apkparser.ParseXmlWithConfig(bytes.NewReader(data), b, nil, cfg)
	if perr == nil && b.root != nil {
		return b.root, nil
	}
	if errors.Is(perr, errTooDeep) {
		return nil, fmt.Errorf("axml: %w", extract.ErrLimit)
	}
	root, aerr := decodeAndroidBinary(data)
	if aerr == nil {
		return root, nil
	}
	if perr == nil {
		perr = errors.New("no root element")
	}
	return nil, fmt.Errorf("axml: %v; fallback: %v: %w", perr, aerr, extract.ErrCorrupt)
}

// decodeAndroidBinary decodes with androidbinary after checking its inputs.
func decodeAndroidBinary(data []byte) (*node, error) {
	if err := checkAXMLPools(data); err != nil {
		return nil, err
	}
	f, err := androidbinary.NewXMLFile(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	dec := xml.NewDecoder(f.Reader())
	dec.Strict = false
	b := &treeBuilder{}
	for {
		t, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if se, ok := t.(xml.StartElement); ok {
			// Without Strict, unknown prefixes stay as the space; map the
			// usual one so lookups by namespace work.
			for i := range se.Attr {
				if se.Attr[i].Name.Space == "android" {
					se.Attr[i].Name.Space = androidNS
				}
			}
			t = se
		}
		if err := b.EncodeToken(t); err != nil {
			return nil, err
		}
	}
	if b.root == nil {
		return nil, errors.New("no root element")
	}
	return b.root, nil
}

// androidChecks rejects what Android's ResXMLTree rejects and apkparser
// tolerates: a declared document size larger than the data, and pool strings
// that are not NUL-terminated.
func androidChecks(data []byte) error {
	hsize := int64(binary.LittleEndian.Uint16(data[2:]))
	size := int64(binary.LittleEndian.Uint32(data[4:]))
	if hsize > size || size > int64(len(data)) {
		return fmt.Errorf("document declares %d bytes (header %d) in %d: %w", size, hsize, len(data), extract.ErrCorrupt)
	}
	return checkPools(data, true)
}

// checkAXMLPools walks the document's chunks and checks every string pool, so
// that androidbinary never allocates by an unchecked count or length.
func checkAXMLPools(data []byte) error { return checkPools(data, false) }

func checkPools(data []byte, strict bool) error {
	if len(data) < 8 {
		return extract.ErrCorrupt
	}
	hsize := int(binary.LittleEndian.Uint16(data[2:]))
	size := min(int(binary.LittleEndian.Uint32(data[4:])), len(data))
	if hsize < 8 || hsize > size {
		return fmt.Errorf("axml header: %w", extract.ErrCorrupt)
	}
	n := 0
	return walkChunks(data[hsize:size], &n, func(typ uint16, c []byte) error {
		if typ != chunkStringPool {
			return nil
		}
		p, err := parsePool(c)
		if err != nil {
			return err
		}
		p.strict = strict
		return p.checkAll(maxStringBudget)
	})
}

// get returns the value of the attribute named local, preferring the android
// namespace, then no namespace, then any other.
func (n *node) get(local string) (string, bool) {
	var other, none *attr
	for i := range n.attrs {
		a := &n.attrs[i]
		if a.local != local {
			continue
		}
		switch a.space {
		case androidNS:
			return a.value, true
		case "":
			if none == nil {
				none = a
			}
		default:
			if other == nil {
				other = a
			}
		}
	}
	if none != nil {
		return none.value, true
	}
	if other != nil {
		return other.value, true
	}
	return "", false
}

// getPlain returns an attribute without a namespace (such as "package"),
// falling back to any namespace.
func (n *node) getPlain(local string) (string, bool) {
	for _, a := range n.attrs {
		if a.local == local && a.space == "" {
			return a.value, true
		}
	}
	return n.get(local)
}

// parseRef reads "@7f0b0001", "@0x7F0B0001" or "@ref/0x7f0b0001" as a
// resource ID.
func parseRef(s string) (uint32, bool) {
	if !strings.HasPrefix(s, "@") {
		return 0, false
	}
	s = s[1:]
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		s = s[i+1:]
	}
	s = strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	if s == "" || len(s) > 8 {
		return 0, false
	}
	var v uint32
	for _, c := range s {
		var d uint32
		switch {
		case c >= '0' && c <= '9':
			d = uint32(c - '0')
		case c >= 'a' && c <= 'f':
			d = uint32(c-'a') + 10
		case c >= 'A' && c <= 'F':
			d = uint32(c-'A') + 10
		default:
			return 0, false
		}
		v = v<<4 | d
	}
	return v, true
}
