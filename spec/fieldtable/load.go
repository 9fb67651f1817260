package fieldtable

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/kycsim/kycsim/internal/yamldoc"
)

// Load decodes and checks a table. Errors read "name:line:col: what is wrong".
// knownFormat tells which format names may appear in rows.
func Load(name string, data []byte, knownFormat func(string) bool) (*Table, error) {
	// The one YAML reader places syntax errors, bounds aliases and refuses
	// duplicate keys; the rows are then decoded with their positions.
	if _, err := yamldoc.Parse(name, data, yamldoc.Options{Empty: "empty document: the file holds no table", What: "a table file", ScalarKeys: true}); err != nil {
		return nil, err
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			// yaml.v3 says io.EOF for a file with no document at all.
			return nil, fmt.Errorf("%s: empty document: the file holds no table", name)
		}
		return nil, fmt.Errorf("%s:%w", name, prefixColon(yamlErr(err)))
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: empty document: the file holds no table", name)
	}
	root := doc.Content[0]
	if err := checkKeys(root, "table", tableKeys); err != nil {
		return nil, fmt.Errorf("%s:%w", name, prefixColon(err))
	}
	var t Table
	if err := root.Decode(&t); err != nil {
		return nil, fmt.Errorf("%s:%w", name, prefixColon(yamlErr(err)))
	}
	c := checker{t: &t, knownFormat: knownFormat}
	if err := c.check(); err != nil {
		return nil, fmt.Errorf("%s:%w", name, prefixColon(err))
	}
	return &t, nil
}

// prefixColon renders a positioned error so that "name:" + it reads
// "name:line:col: msg"; other errors get a space.
func prefixColon(err error) error {
	var pe *PosError
	if errors.As(err, &pe) {
		return err
	}
	return fmt.Errorf(" %w", err)
}

// yamlErr turns yaml.v3's "yaml: line N: msg" into a PosError.
func yamlErr(err error) error {
	var pe *PosError
	if errors.As(err, &pe) {
		return pe
	}
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		var line int
		msg := te.Errors[0]
		if _, e := fmt.Sscanf(msg, "line %d:", &line); e == nil {
			if i := strings.Index(msg, ": "); i >= 0 {
				msg = msg[i+2:]
			}
			return &PosError{Line: line, Column: 1, Msg: msg}
		}
		return errors.New(msg)
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var line int
	if _, e := fmt.Sscanf(msg, "line %d:", &line); e == nil {
		if i := strings.Index(msg, ": "); i >= 0 {
			msg = msg[i+2:]
		}
		return &PosError{Line: line, Column: 1, Msg: msg}
	}
	return errors.New(msg)
}

var jsonTypes = map[string]bool{"string": true, "boolean": true, "integer": true, "number": true, "object": true, "array": true, "null": true}

type checker struct {
	t           *Table
	knownFormat func(string) bool
}

func (c *checker) errf(line, col int, format string, args ...any) error {
	return &PosError{Line: line, Column: col, Msg: fmt.Sprintf(format, args...)}
}

func (c *checker) check() error {
	t := c.t
	if t.Product == "" {
		return errors.New("product: missing")
	}
	switch t.Encoding {
	case EncodingJSON, EncodingForm:
	default:
		return fmt.Errorf("encoding: %q is not json or form", t.Encoding)
	}
	switch t.UnknownMessages {
	case "", "error", "warn":
	default:
		return fmt.Errorf("unknownMessages: %q is not error or warn", t.UnknownMessages)
	}
	if t.Method == "" {
		t.Method = "POST"
	}
	if t.Vendor != nil && t.Vendor.NullOptional && t.Encoding != EncodingJSON {
		return errors.New("vendor.nullOptional: applies to JSON tables only (a form field is a string, never null)")
	}
	if len(t.Fields) == 0 {
		return errors.New("fields: no rows")
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
	if len(t.Messages) == 0 {
		return errors.New("messages: none declared")
	}
	seen := map[string]bool{}
	for _, m := range t.Messages {
		if m.Name == "" {
			return c.errf(m.Line, 1, "message without a name")
		}
		if seen[m.Name] {
			return c.errf(m.Line, 1, "message %q declared twice", m.Name)
		}
		seen[m.Name] = true
		if len(m.Match) == 0 {
			return c.errf(m.Line, 1, "message %q: match is empty", m.Name)
		}
		if m.BeyondSource && m.Note == "" {
			return c.errf(m.Line, 1, "message %q: beyondSource needs a note saying where the message is documented", m.Name)
		}
		for k := range m.Match {
			if t.fieldAt(pointerOf(k)) == nil {
				return c.errf(m.Line, 1, "message %q: match names %q, which is not a field of the table", m.Name, k)
			}
		}
	}
	return nil
}

func (c *checker) rows(fields []Field, top bool) error {
	names := map[string]bool{}
	for i := range fields {
		f := &fields[i]
		if f.Name == "" {
			return c.errf(f.Line, f.Column, "row without a name")
		}
		if names[f.Name] {
			return c.errf(f.Line, f.Column, "field %q listed twice", f.Name)
		}
		names[f.Name] = true
	}
	for i := range fields {
		f := &fields[i]
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
		if err := c.types(f.Type, f.Line, f.Column, where); err != nil {
			return err
		}
		if f.JSON {
			if !top || c.t.Encoding != EncodingForm {
				return c.errf(f.Line, f.Column, "%s: json applies only to top-level rows of a form table", where)
			}
			if f.Type.Has("string") {
				return c.errf(f.Line, f.Column, "%s: a JSON-in-form field decodes to an object or array, not a string", where)
			}
		}
		if c.t.Encoding == EncodingForm && top && !f.JSON && !(len(f.Type) == 1 && f.Type[0] == "string") {
			return c.errf(f.Line, f.Column, "%s: a form field is a string unless it is marked json", where)
		}
		if f.Format != "" && c.knownFormat != nil && !c.knownFormat(f.Format) {
			return c.errf(f.Line, f.Column, "%s: unknown format %q", where, f.Format)
		}
		if f.MaxLength < 0 {
			return c.errf(f.Line, f.Column, "%s: maxLength below zero", where)
		}
		if f.MinItems < 0 {
			return c.errf(f.Line, f.Column, "%s: minItems below zero", where)
		}
		if f.Pattern != "" {
			if _, err := regexp.Compile(f.Pattern); err != nil {
				return c.errf(f.Line, f.Column, "%s: pattern %q is not a regular expression: %v", where, f.Pattern, err)
			}
		}
		if f.Fields != nil {
			if !f.Type.Has("object") {
				return c.errf(f.Line, f.Column, "%s: sub-fields need type object", where)
			}
			if err := c.rows(f.Fields, false); err != nil {
				return err
			}
		}
		if f.Items != nil {
			if !f.Type.Has("array") {
				return c.errf(f.Line, f.Column, "%s: items need type array", where)
			}
			if f.Items.Name == "" {
				f.Items.Name = f.Name + "[]"
			}
			items := []Field{*f.Items}
			if err := c.rows(items, false); err != nil {
				return err
			}
			*f.Items = items[0]
		}
		if f.Enum != nil && len(f.Enum) == 0 {
			return c.errf(f.Line, f.Column, "%s: enum lists no values", where)
		}
		if o := f.Vendor; o != nil && o.Enum != nil && len(o.Enum) == 0 {
			return c.errf(f.Line, f.Column, "%s: vendor enum lists no values", where)
		}
		if v, ok := twice(f.Enum); ok {
			return c.errf(f.Line, f.Column, "%s: enum lists %v twice", where, v)
		}
		if o := f.Vendor; o != nil {
			if v, ok := twice(o.Enum); ok {
				return c.errf(f.Line, f.Column, "%s: vendor enum lists %v twice", where, v)
			}
		}
		for _, e := range f.Enum {
			if !f.Type.accepts(e) {
				return c.errf(f.Line, f.Column, "%s: enum value %v does not fit type %s", where, e, strings.Join(f.Type, "|"))
			}
		}
		if f.Pairs != nil {
			if !names[f.Pairs.With] {
				return c.errf(f.Line, f.Column, "%s: pairs.with names %q, which is not a sibling field", where, f.Pairs.With)
			}
			if len(f.Pairs.Values) == 0 {
				return c.errf(f.Line, f.Column, "%s: pairs without values", where)
			}
		}
		switch f.Level {
		case "", string(LevelStrict), string(LevelVendor):
		default:
			return c.errf(f.Line, f.Column, "%s: level %q is not strict or vendor", where, f.Level)
		}
		if f.Level != "" && f.Note == "" {
			return c.errf(f.Line, f.Column, "%s: a row of one level needs a note saying why", where)
		}
		if o := f.Vendor; o != nil {
			if o.Empty && !f.Type.Has("object") && !f.Type.Has("array") {
				return c.errf(f.Line, f.Column, "%s: vendor.empty applies to objects and arrays", where)
			}
			if len(o.Type) > 0 {
				if err := c.types(o.Type, f.Line, f.Column, where+" vendor"); err != nil {
					return err
				}
			}
			if o.Format != "" && c.knownFormat != nil && !c.knownFormat(o.Format) {
				return c.errf(f.Line, f.Column, "%s: vendor: unknown format %q", where, o.Format)
			}
			if o.PlainString && !f.JSON {
				return c.errf(f.Line, f.Column, "%s: vendor.plainString applies only to JSON-in-form fields", where)
			}
		}
		for _, cs := range f.Cases {
			if len(cs.When) == 0 && len(cs.Unless) == 0 {
				return c.errf(cs.Line, 1, "%s: case without when or unless", where)
			}
			if cs.When != nil && len(cs.When) == 0 {
				return c.errf(cs.Line, 1, "%s: case when lists no conditions", where)
			}
			if cs.Unless != nil && len(cs.Unless) == 0 {
				return c.errf(cs.Line, 1, "%s: case unless lists no conditions", where)
			}
			if !cs.Required && !cs.Absent && cs.Enum == nil && cs.Schema == nil {
				return c.errf(cs.Line, 1, "%s: case has no effect (required, absent, enum or schema)", where)
			}
			if cs.Enum != nil && len(cs.Enum) == 0 {
				return c.errf(cs.Line, 1, "%s: case enum lists no values", where)
			}
			if v, ok := twice(cs.Enum); ok {
				return c.errf(cs.Line, 1, "%s: case enum lists %v twice", where, v)
			}
			if cs.Required && cs.Absent {
				return c.errf(cs.Line, 1, "%s: case is both required and absent", where)
			}
			switch cs.Level {
			case "", string(LevelStrict), string(LevelVendor):
			default:
				return c.errf(cs.Line, 1, "%s: case level %q is not strict or vendor", where, cs.Level)
			}
			for _, m := range []map[string][]any{cs.When, cs.Unless} {
				for k, vals := range m {
					if strings.HasPrefix(k, "/") {
						if !top {
							return c.errf(cs.Line, 1, "%s: a JSON pointer (%s) in a condition is allowed on top-level rows only", where, k)
						}
						if c.t.fieldAt(k) == nil {
							return c.errf(cs.Line, 1, "%s: condition on %s, which is not a field of the table", where, k)
						}
					} else if !names[k] {
						return c.errf(cs.Line, 1, "%s: condition on %q, which is not a sibling field", where, k)
					}
					if len(vals) == 0 {
						return c.errf(cs.Line, 1, "%s: condition on %q lists no values", where, k)
					}
					if v, ok := twice(vals); ok {
						return c.errf(cs.Line, 1, "%s: condition on %q lists %v twice", where, k, v)
					}
				}
			}
		}
	}
	return nil
}

func (c *checker) types(tl TypeList, line, col int, where string) error {
	for i, ty := range tl {
		if ty != "any" && !jsonTypes[ty] {
			return c.errf(line, col, "%s: unknown type %q", where, ty)
		}
		if ty == "any" && len(tl) > 1 {
			return c.errf(line, col, "%s: type any stands alone, not in a list of types", where)
		}
		if slices.Contains(tl[:i], ty) {
			return c.errf(line, col, "%s: type %q listed twice", where, ty)
		}
	}
	return nil
}

// twice returns a value that vals lists twice, as JSON values compare.
func twice(vals []any) (any, bool) {
	for i, v := range vals {
		if jsonIn(v, vals[:i]) {
			return v, true
		}
	}
	return nil, false
}

// Has reports whether the list names type ty.
func (tl TypeList) Has(ty string) bool {
	for _, t := range tl {
		if t == ty || t == "any" {
			return true
		}
	}
	return false
}

func (tl TypeList) accepts(v any) bool {
	switch v.(type) {
	case string:
		return tl.Has("string")
	case bool:
		return tl.Has("boolean")
	case int, int64, uint64:
		return tl.Has("integer") || tl.Has("number")
	case float64:
		return tl.Has("number")
	case nil:
		return tl.Has("null")
	}
	return true
}

// pointerOf turns a top-level field name into a JSON pointer; pointers stay.
func pointerOf(k string) string {
	if strings.HasPrefix(k, "/") {
		return k
	}
	return "/" + k
}

// fieldAt finds the row a JSON pointer into the decoded payload names.
func (t *Table) fieldAt(ptr string) *Field {
	if !strings.HasPrefix(ptr, "/") {
		return nil
	}
	fields := t.Fields
	var found *Field
	for _, tok := range strings.Split(ptr[1:], "/") {
		found = nil
		for i := range fields {
			if fields[i].Name == tok {
				found = &fields[i]
				break
			}
		}
		if found == nil {
			return nil
		}
		fields = found.Fields
	}
	return found
}

// Message returns the named message, or nil.
func (t *Table) Message(name string) *Message {
	for i := range t.Messages {
		if t.Messages[i].Name == name {
			return &t.Messages[i]
		}
	}
	return nil
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
