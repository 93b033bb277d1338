package android

import (
	"fmt"
	"math"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/romscan/romscan/extract"
)

// decodeProtoManifest decodes an App Bundle manifest: aapt2's XmlNode
// protobuf (frameworks/base/tools/aapt2/Resources.proto), read field by field
// with protowire so no generated code is needed. References stay textual
// ("@string/app_name"): the bundle's resources.pb is not read.
func decodeProtoManifest(data []byte) (m *Manifest, err error) {
	defer func() {
		if p := recover(); p != nil {
			m, err = nil, extract.PanicError("android: proto manifest", p)
		}
	}()
	count := 0
	root, err := protoNode(data, 0, &count)
	if err != nil {
		return nil, fmt.Errorf("android: proto manifest: %w", err)
	}
	if root == nil {
		return nil, fmt.Errorf("android: proto manifest: no root element: %w", extract.ErrCorrupt)
	}
	return buildManifest(root, nil)
}

// protoFields calls fn for each field of a message, stopping at the first
// malformed one.
func protoFields(b []byte, fn func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("bad tag: %w", extract.ErrCorrupt)
		}
		b = b[n:]
		var v []byte
		var x uint64
		switch typ {
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var u uint32
			u, n = protowire.ConsumeFixed32(b)
			x = uint64(u)
		case protowire.Fixed64Type:
			x, n = protowire.ConsumeFixed64(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return fmt.Errorf("bad field %d: %w", num, extract.ErrCorrupt)
		}
		b = b[n:]
		if err := fn(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}

// protoNode decodes an XmlNode; text nodes return nil.
func protoNode(b []byte, depth int, count *int) (*node, error) {
	if depth > maxXMLDepth {
		return nil, fmt.Errorf("nested too deep: %w", extract.ErrLimit)
	}
	var nd *node
	err := protoFields(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if num != 1 || typ != protowire.BytesType {
			return nil
		}
		*count++
		if *count > maxXMLNodes {
			return fmt.Errorf("too many elements: %w", extract.ErrLimit)
		}
		nd = &node{}
		return protoFields(v, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
			if typ != protowire.BytesType {
				return nil
			}
			switch num {
			case 3:
				nd.name = string(v)
			case 4:
				a, err := protoAttr(v)
				if err != nil {
					return err
				}
				nd.attrs = append(nd.attrs, a)
			case 5:
				c, err := protoNode(v, depth+1, count)
				if err != nil {
					return err
				}
				if c != nil {
					nd.children = append(nd.children, c)
				}
			}
			return nil
		})
	})
	return nd, err
}

// protoAttr decodes an XmlAttribute: the raw text when present, else the
// compiled value.
func protoAttr(b []byte) (attr, error) {
	var a attr
	var compiled string
	err := protoFields(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case 1:
			a.space = string(v)
		case 2:
			a.local = string(v)
		case 3:
			a.value = string(v)
		case 6:
			compiled = protoItem(v)
		}
		return nil
	})
	if a.value == "" {
		a.value = compiled
	}
	return a, err
}

// protoItem renders an Item's primitive or reference value as text.
func protoItem(b []byte) string {
	out := ""
	_ = protoFields(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		switch num {
		case 1: // Reference: id is field 2
			_ = protoFields(v, func(n protowire.Number, t protowire.Type, _ []byte, x uint64) error {
				if n == 2 && t == protowire.VarintType {
					out = fmt.Sprintf("@0x%08x", uint32(x))
				}
				return nil
			})
		case 2, 3: // String / RawString: value is field 1
			_ = protoFields(v, func(n protowire.Number, t protowire.Type, s []byte, _ uint64) error {
				if n == 1 && t == protowire.BytesType {
					out = string(s)
				}
				return nil
			})
		case 7: // Primitive
			_ = protoFields(v, func(n protowire.Number, t protowire.Type, _ []byte, x uint64) error {
				switch n {
				case 3:
					out = strconv.FormatFloat(float64(math.Float32frombits(uint32(x))), 'g', -1, 32)
				case 6:
					out = strconv.Itoa(int(int32(x)))
				case 7:
					out = fmt.Sprintf("0x%x", uint32(x))
				case 8:
					out = strconv.FormatBool(x != 0)
				}
				return nil
			})
		}
		return nil
	})
	return out
}
