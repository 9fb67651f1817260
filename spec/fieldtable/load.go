package fieldtable

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/kycsim/kycsim/internal/yamldoc"
	"github.com/kycsim/kycsim/spec/jsonvalue"
)

// tableSchema is the field tables' JSON Schema (draft-07): every key,
// its type and values, with descriptions for editors, and the rules of
// structure (which keys go together, which apply where). A table may
// name it on its first line for the YAML language server:
//
//	# yaml-language-server: $schema=https://raw.githubusercontent.com/kycsim/kycsim/main/spec/fieldtable/table.schema.json
//
//go:embed table.schema.json
var tableSchema []byte

var compiledTableSchema = &yamldoc.Embedded{URL: "table.schema.json", Data: tableSchema}

// Schema returns the field tables' JSON Schema.
func Schema() []byte { return bytes.Clone(tableSchema) }

// Load decodes and checks a table. Errors read "name:line:col: what is
// wrong" (*yamldoc.Error). The schema judges keys, types and values;
// what needs the format names or other rows is checked here.
// knownFormat tells which format names may appear in rows (nil: any).
func Load(name string, data []byte, knownFormat func(string) bool) (*Table, error) {
	d, err := yamldoc.Parse(name, data, yamldoc.Options{Empty: "empty document: the file holds no table", What: "a table file",
		ScalarKeys: true, ShortestNumbers: true, Exact: exactValue})
	if err != nil {
		return nil, err
	}
	if err := compiledTableSchema.Check(d); err != nil {
		return nil, err
	}
	t, err := decode(d)
	if err != nil {
		return nil, err
	}
	c := checker{d: d, t: t, knownFormat: knownFormat}
	if err := c.check(); err != nil {
		return nil, err
	}
	return t, nil
}

// exactValue names the key of the JSON values a table holds (enum,
// schema, when, unless) that ptr is inside, or "": those are written as
// JSON has them, not read as text.
func exactValue(ptr string) string {
	toks := strings.Split(ptr, "/")
	if len(toks) < 3 || toks[1] != "fields" {
		return ""
	}
	for i := 3; i < len(toks); {
		switch toks[i] {
		case "fields":
			i += 2
		case "items":
			i++
		case "enum", "schema":
			return toks[i]
		case "vendor":
			if i+1 < len(toks) && toks[i+1] == "enum" {
				return "enum"
			}
			return ""
		case "cases":
			if i+2 < len(toks) && slices.Contains([]string{"when", "unless", "enum", "schema"}, toks[i+2]) {
				return toks[i+2]
			}
			return ""
		default:
			return ""
		}
	}
	return ""
}

// decode turns the values the schema accepted into a Table, with the
// place of every row, case and message and the document order of pairs.
// Numbers become int (or uint64) and float64, as JSON payloads decode.
func decode(d *yamldoc.Doc) (*Table, error) {
	raw, err := json.Marshal(d.Value)
	if err != nil {
		return nil, d.Errorf("", "%v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var t Table
	if err := dec.Decode(&t); err != nil {
		return nil, d.Errorf("", "%v (the schema let it through)", err)
	}
	for i := range t.Messages {
		m := &t.Messages[i]
		m.ptr = "/messages/" + strconv.Itoa(i)
		m.Line, m.Column = d.At(m.ptr).Line, d.At(m.ptr).Col
	}
	placeRows(d, t.Fields, "/fields")
	return &t, nil
}

// placeRows gives rows and their cases their places, pairs their order,
// and their JSON values Go's number types.
func placeRows(d *yamldoc.Doc, fields []Field, ptr string) {
	for i := range fields {
		placeRow(d, &fields[i], ptr+"/"+strconv.Itoa(i))
	}
}

func placeRow(d *yamldoc.Doc, f *Field, ptr string) {
	f.ptr = ptr
	f.Line, f.Column = d.At(ptr).Line, d.At(ptr).Col
	f.Enum = numbers(f.Enum).([]any)
	f.Schema, _ = numbers(f.Schema).(map[string]any)
	if f.Vendor != nil {
		f.Vendor.Enum = numbers(f.Vendor.Enum).([]any)
	}
	if f.Pairs != nil {
		f.Pairs.Order = d.Keys(ptr + "/pairs/values")
	}
	for j := range f.Cases {
		cs := &f.Cases[j]
		cs.ptr = ptr + "/cases/" + strconv.Itoa(j)
		cs.Line, cs.Column = d.At(cs.ptr).Line, d.At(cs.ptr).Col
		cs.Enum = numbers(cs.Enum).([]any)
		cs.Schema, _ = numbers(cs.Schema).(map[string]any)
		for _, m := range []map[string][]any{cs.When, cs.Unless} {
			for k, v := range m {
				m[k] = numbers(v).([]any)
			}
		}
	}
	placeRows(d, f.Fields, ptr+"/fields")
	if f.Items != nil {
		placeRow(d, f.Items, ptr+"/items")
	}
}

// numbers replaces the json.Numbers in v by int, uint64 or float64.
func numbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 0); err == nil {
			return int(i)
		}
		if u, err := strconv.ParseUint(string(x), 10, 64); err == nil {
			return u
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = numbers(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = numbers(x[k])
		}
	}
	return v
}

// checker holds a decoded table to what the schema cannot tell: format
// names, the rows other rows and messages refer to, values listed twice,
// and the rules that depend on a row's type once defaulted.
type checker struct {
	d           *yamldoc.Doc
	t           *Table
	knownFormat func(string) bool
}

func (c *checker) errf(ptr, format string, args ...any) error {
	return c.d.Errorf(ptr, format, args...)
}

func (c *checker) check() error {
	t := c.t
	if t.Method == "" {
		t.Method = "POST"
	}
	if err := c.rows(t.Fields, true); err != nil {
		return err
	}
	id := 0
	for i := range t.Fields {
		for j := range t.Fields[i].Cases {
			t.Fields[i].Cases[j].ID = id
			id++
		}
		markNested(t.Fields[i].Fields)
		if t.Fields[i].Items != nil {
			markNested([]Field{*t.Fields[i].Items})
		}
	}
	seen := map[string]bool{}
	for _, m := range t.Messages {
		if seen[m.Name] {
			return c.errf(m.ptr, "message %q declared twice", m.Name)
		}
		seen[m.Name] = true
		for _, k := range slices.Sorted(maps.Keys(m.Match)) {
			if t.fieldAt(pointerOf(k)) == nil {
				return c.errf(m.ptr, "message %q: match names %q, which is not a field of the table", m.Name, k)
			}
		}
	}
	return nil
}

func (c *checker) rows(fields []Field, top bool) error {
	names := map[string]bool{}
	for i := range fields {
		f := &fields[i]
		if names[f.Name] {
			return c.errf(f.ptr, "field %q listed twice", f.Name)
		}
		names[f.Name] = true
	}
	for i := range fields {
		if err := c.row(&fields[i], top, names); err != nil {
			return err
		}
	}
	return nil
}

// row checks one row; names are its siblings'.
func (c *checker) row(f *Field, top bool, names map[string]bool) error {
	where := fmt.Sprintf("field %q", f.Name)
	if len(f.Type) == 0 {
		switch {
		case f.Fields != nil:
			f.Type = TypeList{"object"}
		case f.Items != nil:
			f.Type = TypeList{"array"}
		default:
			f.Type = TypeList{"string"}
		}
	}
	if ty, ok := twice(f.Type); ok {
		return c.errf(f.ptr, "%s: type %q listed twice", where, ty)
	}
	if f.JSON && f.Type.Has("string") {
		return c.errf(f.ptr, "%s: a JSON-in-form field decodes to an object or array, not a string", where)
	}
	if c.t.Encoding == EncodingForm && top && !f.JSON && !(len(f.Type) == 1 && f.Type[0] == "string") {
		return c.errf(f.ptr, "%s: a form field is a string unless it is marked json", where)
	}
	if f.Format != "" && c.knownFormat != nil && !c.knownFormat(f.Format) {
		return c.errf(f.ptr, "%s: unknown format %q", where, f.Format)
	}
	if f.Pattern != "" {
		if _, err := regexp.Compile(f.Pattern); err != nil {
			return c.errf(f.ptr, "%s: pattern %q is not a regular expression: %v", where, f.Pattern, err)
		}
	}
	if f.Fields != nil {
		if !f.Type.Has("object") {
			return c.errf(f.ptr, "%s: sub-fields need type object", where)
		}
		if err := c.rows(f.Fields, false); err != nil {
			return err
		}
	}
	if f.Items != nil {
		if !f.Type.Has("array") {
			return c.errf(f.ptr, "%s: items need type array", where)
		}
		if f.Items.Name == "" {
			f.Items.Name = f.Name + "[]"
		}
		if err := c.row(f.Items, false, map[string]bool{f.Items.Name: true}); err != nil {
			return err
		}
	}
	if v, ok := twice(f.Enum); ok {
		return c.errf(f.ptr, "%s: enum lists %v twice", where, v)
	}
	for _, e := range f.Enum {
		if !f.Type.accepts(e) {
			return c.errf(f.ptr, "%s: enum value %v does not fit type %s", where, e, strings.Join(f.Type, "|"))
		}
	}
	if f.Pairs != nil && !names[f.Pairs.With] {
		return c.errf(f.ptr, "%s: pairs.with names %q, which is not a sibling field", where, f.Pairs.With)
	}
	if o := f.Vendor; o != nil {
		if v, ok := twice(o.Enum); ok {
			return c.errf(f.ptr, "%s: vendor enum lists %v twice", where, v)
		}
		if ty, ok := twice(o.Type); ok {
			return c.errf(f.ptr, "%s vendor: type %q listed twice", where, ty)
		}
		if o.Empty && !f.Type.Has("object") && !f.Type.Has("array") {
			return c.errf(f.ptr, "%s: vendor.empty applies to objects and arrays", where)
		}
		if o.Format != "" && c.knownFormat != nil && !c.knownFormat(o.Format) {
			return c.errf(f.ptr, "%s: vendor: unknown format %q", where, o.Format)
		}
	}
	for _, cs := range f.Cases {
		if err := c.conditions(cs, where, top, names); err != nil {
			return err
		}
	}
	return nil
}

// conditions checks that a case's conditions name fields of the table
// and list each value once.
func (c *checker) conditions(cs Case, where string, top bool, names map[string]bool) error {
	if v, ok := twice(cs.Enum); ok {
		return c.errf(cs.ptr, "%s: case enum lists %v twice", where, v)
	}
	for _, m := range []map[string][]any{cs.When, cs.Unless} {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if strings.HasPrefix(k, "/") {
				if !top {
					return c.errf(cs.ptr, "%s: a JSON pointer (%s) in a condition is allowed on top-level rows only", where, k)
				}
				if c.t.fieldAt(k) == nil {
					return c.errf(cs.ptr, "%s: condition on %s, which is not a field of the table", where, k)
				}
			} else if !names[k] {
				return c.errf(cs.ptr, "%s: condition on %q, which is not a sibling field", where, k)
			}
			if v, ok := twice(m[k]); ok {
				return c.errf(cs.ptr, "%s: condition on %q lists %v twice", where, k, v)
			}
		}
	}
	return nil
}

// twice returns a value that vals lists twice, as JSON values compare.
func twice[T any](vals []T) (any, bool) {
	for i, v := range vals {
		for _, w := range vals[:i] {
			if jsonvalue.Equal(any(v), any(w)) {
				return v, true
			}
		}
	}
	return nil, false
}

// pointerOf turns a top-level field name into a JSON pointer; pointers stay.
func pointerOf(k string) string {
	if strings.HasPrefix(k, "/") {
		return k
	}
	return "/" + k
}

// markNested gives the cases of nested rows ID -1.
func markNested(fields []Field) {
	for i := range fields {
		for j := range fields[i].Cases {
			fields[i].Cases[j].ID = -1
		}
		markNested(fields[i].Fields)
		if fields[i].Items != nil {
			markNested([]Field{*fields[i].Items})
		}
	}
}
