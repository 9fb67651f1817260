// Package fieldtable describes a vendor callback the way vendor documents do,
// one row a field (required, type, maximum length, allowed values, format,
// JSON-in-form sub-fields, conditions), and compiles such a table into a
// draft-07 JSON Schema per message and per strictness level.
package fieldtable

import (
	"fmt"
	"math"
	"slices"
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
	UnknownMessages string `yaml:"unknownMessages"`
	// Vendor holds what level vendor accepts beyond the document across
	// the whole table.
	Vendor   *TableOverride `yaml:"vendor"`
	Messages []Message      `yaml:"messages"`
	Fields   []Field        `yaml:"fields"`
}

// TableOverride holds what level vendor accepts beyond the documented
// shape of every row: what the vendor really sends.
type TableOverride struct {
	// NullOptional lets every top-level row that is not required carry
	// an explicit null (JSON tables only). A case that makes the row
	// required still asks for a value.
	NullOptional bool   `yaml:"nullOptional"`
	Note         string `yaml:"note"`
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
	// BeyondSource marks a message the document named by the table's
	// source does not list; Note says where it is documented.
	BeyondSource bool   `yaml:"beyondSource"`
	Note         string `yaml:"note"`
	Line         int    `yaml:"-"`
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
	// Level limits the row to one level: a field real traffic carries
	// that the document does not list is a row of level vendor.
	Level  string `yaml:"level"`
	Note   string `yaml:"note"`
	Line   int    `yaml:"-"`
	Column int    `yaml:"-"`
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
	PlainString bool `yaml:"plainString"`
	// Empty accepts the empty value of the row's type ({} or []) where
	// the document says the field is not sent, and for an object also
	// in place of the documented one (its sub-fields then need not be
	// there).
	Empty  bool   `yaml:"empty"`
	Format string `yaml:"format"`
	Note   string `yaml:"note"`
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
	if err := checkJSONValues(n, "enum", "schema"); err != nil {
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
	if err := checkJSONValues(n, "when", "unless", "enum", "schema"); err != nil {
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
	if err := checkJSONValues(n, "enum"); err != nil {
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

// UnmarshalYAML decodes a table override, refusing unknown keys.
func (o *TableOverride) UnmarshalYAML(n *yaml.Node) error {
	if err := checkKeys(n, "table vendor override", tableOverrideKeys); err != nil {
		return err
	}
	type plain TableOverride
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	*o = TableOverride(p)
	return nil
}

// UnmarshalYAML decodes pairs, keeping the order of the values. Values
// merged in with "<<" take the place of the merge key.
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
	listed := map[string]bool{}
	err := eachPair(n, func(k, v *yaml.Node) error {
		if k.Value != "values" {
			return nil
		}
		return eachPair(v, func(code, _ *yaml.Node) error {
			var s string
			if code.Decode(&s) != nil {
				return nil
			}
			if _, ok := p.Values[s]; ok && !listed[s] {
				listed[s] = true
				p.Order = append(p.Order, s)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	if len(p.Order) != len(p.Values) {
		return posErrorf(n, "pairs: cannot tell the order of the values")
	}
	return nil
}

var (
	tableKeys         = []string{"product", "title", "description", "source", "encoding", "method", "unknownMessages", "vendor", "messages", "fields"}
	tableOverrideKeys = []string{"nullOptional", "note"}
	messageKeys       = []string{"name", "summary", "match", "beyondSource", "note"}
	fieldKeys         = []string{"name", "required", "type", "json", "nullable", "maxLength", "minItems", "enum", "format", "pattern", "fields", "items", "pairs", "cases", "schema", "vendor", "level", "note"}
	caseKeys          = []string{"when", "unless", "required", "absent", "enum", "schema", "level", "note"}
	overrideKeys      = []string{"type", "enum", "nullable", "open", "plainString", "empty", "format", "note"}
)

// checkKeys reports the first key of mapping node n that is not in known.
// Keys merged in with "<<" are checked too, wherever the merged mapping is
// defined: they become keys of n.
func checkKeys(n *yaml.Node, what string, known []string) error {
	if n.Kind != yaml.MappingNode {
		return posErrorf(n, "%s: expected a mapping", what)
	}
	return eachPair(n, func(k, _ *yaml.Node) error {
		if !slices.Contains(known, k.Value) {
			return posErrorf(k, "unknown key %q in %s (known: %s)", k.Value, what, strings.Join(known, ", "))
		}
		return nil
	})
}

// isMerge reports a YAML merge key, as yaml.v3 tells one.
func isMerge(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Value == "<<" && (k.Tag == "" || k.Tag == "!" || k.ShortTag() == "!!merge")
}

// eachPair calls fn with each key and value of mapping node n (through an
// alias), in document order, with the pairs of mappings merged in by a
// "<<" key in the place of that key. A mapping reached twice (or within
// itself) is walked once. Other nodes have no pairs.
func eachPair(n *yaml.Node, fn func(k, v *yaml.Node) error) error {
	return walkPairs(n, fn, map[*yaml.Node]bool{})
}

func walkPairs(n *yaml.Node, fn func(k, v *yaml.Node) error, seen map[*yaml.Node]bool) error {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind != yaml.MappingNode || seen[n] {
		return nil
	}
	seen[n] = true
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !isMerge(k) {
			if err := fn(k, v); err != nil {
				return err
			}
			continue
		}
		merged := []*yaml.Node{v}
		if v.Kind == yaml.SequenceNode {
			merged = v.Content
		}
		for _, m := range merged {
			if err := walkPairs(m, fn, seen); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkJSONValues checks that the values of the named keys of mapping
// node n (merged keys included) are JSON values, as the compiled schema
// must hold them.
func checkJSONValues(n *yaml.Node, keys ...string) error {
	return eachPair(n, func(k, v *yaml.Node) error {
		if !slices.Contains(keys, k.Value) {
			return nil
		}
		return jsonValue(v, k.Value, map[*yaml.Node]bool{})
	})
}

// jsonValue reports the first part of node n that decodes to something
// JSON has not: a tag other than those of JSON's types (a timestamp,
// binary data, a set, a custom tag), a number that is not finite, or a
// mapping key that is not a string. what names the key n is the value of.
func jsonValue(n *yaml.Node, what string, seen map[*yaml.Node]bool) error {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if seen[n] {
		return nil
	}
	seen[n] = true
	tag := n.ShortTag()
	switch n.Kind {
	case yaml.ScalarNode:
		switch tag {
		case "!!str", "!!int", "!!bool", "!!null", "!!merge": // a lone "<<" is a string
			return nil
		case "!!float":
			var f float64
			if err := n.Decode(&f); err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
				return posErrorf(n, "%s: %s is not a JSON number", what, n.Value)
			}
			return nil
		case "!!timestamp":
			return posErrorf(n, "%s: %s is a YAML timestamp, not a JSON value (quote it to mean the string)", what, n.Value)
		}
	case yaml.SequenceNode:
		if tag != "!!seq" {
			break
		}
		for _, c := range n.Content {
			if err := jsonValue(c, what, seen); err != nil {
				return err
			}
		}
		return nil
	case yaml.MappingNode:
		if tag != "!!map" {
			break
		}
		return eachPair(n, func(k, v *yaml.Node) error {
			if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
				return posErrorf(k, "%s: mapping key %s is not a string, as JSON object keys are (quote it)", what, keyText(k))
			}
			return jsonValue(v, what, seen)
		})
	default:
		return nil // the decoder reports it
	}
	return posErrorf(n, "%s: a %s value is not a JSON value", what, tag)
}

// keyText shows a mapping key in an error.
func keyText(k *yaml.Node) string {
	if k.Kind == yaml.ScalarNode {
		return k.Value
	}
	return "of kind " + k.ShortTag()
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
