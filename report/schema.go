package report

import (
	"encoding"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/romscan/romscan/finding"
)

// JSONSchemaDraft is the JSON Schema dialect of JSONSchema.
const JSONSchemaDraft = "http://json-schema.org/draft-07/schema#"

// JSONSchema describes the JSON report (the JSON renderer's output) as a
// draft-07 JSON Schema, generated from the Go types by reflection so it
// cannot drift from them. Objects do not allow unknown properties: the
// schema is exact for its SchemaVersion.
func JSONSchema() map[string]any {
	g := &schemaGen{defs: map[string]any{}}
	root := g.object(reflect.TypeOf(Report{}))
	props := root["properties"].(map[string]any)
	props["schema_version"] = map[string]any{"type": "string", "const": SchemaVersion}
	out := map[string]any{
		"$schema":     JSONSchemaDraft,
		"$id":         "urn:romscan:report:" + SchemaVersion,
		"title":       "romscan report",
		"description": "The JSON report written by `romscan scan -o json`, schema version " + SchemaVersion + ".",
		"definitions": g.defs,
	}
	for k, v := range root {
		out[k] = v
	}
	return out
}

// WriteJSONSchema writes JSONSchema as indented JSON.
func WriteJSONSchema(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(JSONSchema()); err != nil {
		return fmt.Errorf("write json schema: %w", err)
	}
	return nil
}

type schemaGen struct{ defs map[string]any }

var (
	textMarshaler = reflect.TypeOf((*encoding.TextMarshaler)(nil)).Elem()
	severityType  = reflect.TypeOf(finding.Severity(0))
	confType      = reflect.TypeOf(finding.Confidence(0))
)

// enumNames lists the names a TextMarshaler enum writes.
func enumNames(t reflect.Type) []any {
	var out []any
	for i := 0; i < 16; i++ {
		v := reflect.New(t).Elem()
		v.SetInt(int64(i))
		b, err := v.Interface().(encoding.TextMarshaler).MarshalText()
		if err != nil || strings.Contains(string(b), "(") {
			break
		}
		out = append(out, string(b))
	}
	return out
}

// schemaFor returns the schema of a value of type t; nullable says that Go
// may write null (nil slices and maps, nil pointers).
func (g *schemaGen) schemaFor(t reflect.Type, nullable bool) map[string]any {
	switch {
	case t == severityType || t == confType:
		return map[string]any{"type": "string", "enum": enumNames(t)}
	case t.Implements(textMarshaler):
		return map[string]any{"type": "string"}
	}
	var s map[string]any
	switch t.Kind() {
	case reflect.Pointer:
		inner := g.schemaFor(t.Elem(), false)
		if !nullable {
			return inner
		}
		return map[string]any{"oneOf": []any{inner, map[string]any{"type": "null"}}}
	case reflect.Struct:
		name := t.Name()
		if _, ok := g.defs[name]; !ok {
			g.defs[name] = true // placeholder against recursion
			g.defs[name] = g.object(t)
		}
		return map[string]any{"$ref": "#/definitions/" + name}
	case reflect.Slice, reflect.Array:
		s = map[string]any{"type": "array", "items": g.schemaFor(t.Elem(), false)}
	case reflect.Map:
		s = map[string]any{"type": "object", "additionalProperties": g.schemaFor(t.Elem(), false)}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	default:
		return map[string]any{}
	}
	if nullable {
		s["type"] = []any{s["type"], "null"}
	}
	return s
}

// object describes a struct: its JSON properties, the ones always written
// (no omitempty) as required, and no others allowed.
func (g *schemaGen) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []any
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		omit := strings.Contains(","+opts+",", ",omitempty,")
		props[name] = g.schemaFor(f.Type, !omit)
		if !omit {
			required = append(required, name)
		}
	}
	s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}
