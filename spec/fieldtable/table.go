// Package fieldtable describes a vendor callback the way vendor documents do,
// one row a field (required, type, maximum length, allowed values, format,
// JSON-in-form sub-fields, conditions), and compiles such a table into a
// draft-07 JSON Schema per message and per strictness level.
package fieldtable

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// Encoding values of a Table.
const (
	EncodingJSON = "json" // the body is a JSON object
	EncodingForm = "form" // the body is application/x-www-form-urlencoded
)

// Table is one product's callback surface.
type Table struct {
	Product     string `yaml:"product"`
	Title       string `yaml:"title"`
	Description string `yaml:"description"`
	Source      string `yaml:"source"`
	Encoding    string `yaml:"encoding"`
	Method      string `yaml:"method"`
	// UnknownMessages says what level vendor does with a payload whose
	// message cannot be told: "error" (a violation) or "warn" (validate
	// against the common envelope and warn). Level strict always errs.
	UnknownMessages string    `yaml:"unknownMessages"`
	Messages        []Message `yaml:"messages"`
	Fields          []Field   `yaml:"fields"`
}

// ContentType is the media type the vendor sends the callback with.
func (t *Table) ContentType() string {
	if t.Encoding == EncodingForm {
		return "application/x-www-form-urlencoded"
	}
	return "application/json"
}

// Message is one kind of callback of a product, told apart by the values of
// some fields of the payload.
type Message struct {
	Name    string `yaml:"name"`
	Summary string `yaml:"summary"`
	// Match maps a top-level field name, or a JSON pointer into the decoded
	// payload, to the value it has in this message.
	Match map[string]string `yaml:"match"`
	Line  int               `yaml:"-"`
}

// Field is one row of a table: a field of the payload or of a JSON object
// nested in it.
type Field struct {
	Name     string   `yaml:"name"`
	Required bool     `yaml:"required"`
	Type     TypeList `yaml:"type"`
	// JSON marks a form field whose value is a JSON text (a JSON-in-form
	// field); Type then names the type of the decoded value.
	JSON      bool           `yaml:"json"`
	Nullable  bool           `yaml:"nullable"`
	MaxLength int            `yaml:"maxLength"`
	MinItems  int            `yaml:"minItems"`
	Enum      []any          `yaml:"enum"`
	Format    string         `yaml:"format"`
	Pattern   string         `yaml:"pattern"`
	Fields    []Field        `yaml:"fields"`
	Items     *Field         `yaml:"items"`
	Pairs     *Pairs         `yaml:"pairs"`
	Cases     []Case         `yaml:"cases"`
	Schema    map[string]any `yaml:"schema"`
	Vendor    *Override      `yaml:"vendor"`
	Note      string         `yaml:"note"`
	Line      int            `yaml:"-"`
	Column    int            `yaml:"-"`
}

// Pairs ties each allowed value of a field to the one value a sibling field
// must then have (a reject code and its description).
type Pairs struct {
	With   string            `yaml:"with"`
	Values map[string]string `yaml:"values"`
	Order  []string          `yaml:"-"` // keys in document order
}

// Case is a condition on a field: when the sibling fields (or, on top-level
// rows, any JSON pointer into the payload) hold the listed values, the field
// is required, absent, limited to other values, or held to an extra schema.
type Case struct {
	When     map[string][]any `yaml:"when"`
	Unless   map[string][]any `yaml:"unless"`
	Required bool             `yaml:"required"`
	Absent   bool             `yaml:"absent"`
	Enum     []any            `yaml:"enum"`
	Schema   map[string]any   `yaml:"schema"`
	// Level limits the case to one level ("strict" or "vendor").
	Level string `yaml:"level"`
	Note  string `yaml:"note"`
	Line  int    `yaml:"-"`
	// ID numbers the cases of top-level rows (from 0, in table order), so
	// that a validator may decide them from the payload before validating;
	// cases of nested rows have ID -1.
	ID int `yaml:"-"`
}

// Override holds what level vendor accepts beyond the documented shape of a
// field: the quirks the vendor really sends.
type Override struct {
	Type     TypeList `yaml:"type"`
	Enum     []any    `yaml:"enum"`
	Nullable bool     `yaml:"nullable"`
	// Open drops the enum: unknown values pass level vendor.
	Open bool `yaml:"open"`
	// PlainString lets a JSON-in-form field carry a plain string instead
	// of JSON text.
	PlainString bool   `yaml:"plainString"`
	Format      string `yaml:"format"`
	Note        string `yaml:"note"`
}

// TypeList is one JSON type name or several.
type TypeList []string

// UnmarshalYAML accepts a scalar or a sequence of scalars.
func (tl *TypeList) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*tl = TypeList{n.Value}
	case yaml.SequenceNode:
		out := make(TypeList, 0, len(n.Content))
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				return posErrorf(c, "type: expected a type name")
			}
			out = append(out, c.Value)
		}
		*tl = out
	default:
		return posErrorf(n, "type: expected a type name or a list of them")
	}
	return nil
}

// UnmarshalYAML decodes a row, refusing unknown keys (yaml.v3 forgets
// KnownFields inside custom unmarshalers, so the check is done here).
func (f *Field) UnmarshalYAML(n *yaml.Node) error {
	if err := checkKeys(n, "field row", fieldKeys); err != nil {
		return err
	}
	type plain Field
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	*f = Field(p)
	f.Line, f.Column = n.Line, n.Column
	return nil
}

// UnmarshalYAML decodes a case, refusing unknown keys.
func (c *Case) UnmarshalYAML(n *yaml.Node) error {
	if err := checkKeys(n, "case", caseKeys); err != nil {
		return err
	}
	type plain Case
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	*c = Case(p)
	c.Line = n.Line
	return nil
}

// UnmarshalYAML decodes a message, refusing unknown keys.
func (m *Message) UnmarshalYAML(n *yaml.Node) error {
	if err := checkKeys(n, "message", messageKeys); err != nil {
		return err
	}
	type plain Message
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	*m = Message(p)
	m.Line = n.Line
	return nil
}

// UnmarshalYAML decodes an override, refusing unknown keys.
func (o *Override) UnmarshalYAML(n *yaml.Node) error {
	if err := checkKeys(n, "vendor override", overrideKeys); err != nil {
		return err
	}
	type plain Override
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	*o = Override(p)
	return nil
}

// UnmarshalYAML decodes pairs, keeping the order of the values.
func (p *Pairs) UnmarshalYAML(n *yaml.Node) error {
	if err := checkKeys(n, "pairs", []string{"with", "values"}); err != nil {
		return err
	}
	type plain Pairs
	var pl plain
	if err := n.Decode(&pl); err != nil {
		return err
	}
	*p = Pairs(pl)
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "values" && n.Content[i+1].Kind == yaml.MappingNode {
			v := n.Content[i+1]
			for j := 0; j+1 < len(v.Content); j += 2 {
				p.Order = append(p.Order, v.Content[j].Value)
			}
		}
	}
	return nil
}

var (
	tableKeys    = []string{"product", "title", "description", "source", "encoding", "method", "unknownMessages", "messages", "fields"}
	messageKeys  = []string{"name", "summary", "match"}
	fieldKeys    = []string{"name", "required", "type", "json", "nullable", "maxLength", "minItems", "enum", "format", "pattern", "fields", "items", "pairs", "cases", "schema", "vendor", "note"}
	caseKeys     = []string{"when", "unless", "required", "absent", "enum", "schema", "level", "note"}
	overrideKeys = []string{"type", "enum", "nullable", "open", "plainString", "format", "note"}
)

// checkKeys reports the first key of mapping node n that is not in known.
func checkKeys(n *yaml.Node, what string, known []string) error {
	if n.Kind != yaml.MappingNode {
		return posErrorf(n, "%s: expected a mapping", what)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Value == "<<" && k.Tag == "!!merge" {
			continue // a YAML merge key; the merged mapping is checked where it is defined
		}
		ok := false
		for _, name := range known {
			if k.Value == name {
				ok = true
				break
			}
		}
		if !ok {
			return posErrorf(k, "unknown key %q in %s (known: %s)", k.Value, what, strings.Join(known, ", "))
		}
	}
	return nil
}

// PosError is a problem at a line and column of a table file.
type PosError struct {
	Line, Column int
	Msg          string
}

// Error implements error.
func (e *PosError) Error() string { return fmt.Sprintf("%d:%d: %s", e.Line, e.Column, e.Msg) }

func posErrorf(n *yaml.Node, format string, args ...any) error {
	return &PosError{Line: n.Line, Column: n.Column, Msg: fmt.Sprintf(format, args...)}
}
