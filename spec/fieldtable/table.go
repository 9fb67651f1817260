// Package fieldtable describes a vendor callback the way vendor documents do,
// one row a field (required, type, maximum length, allowed values, format,
// JSON-in-form sub-fields, conditions), and compiles such a table into a
// draft-07 JSON Schema per message and per strictness level.
package fieldtable

import (
	"encoding/json"
	"strings"
)

// Encoding values of a Table.
const (
	EncodingJSON = "json" // the body is a JSON object
	EncodingForm = "form" // the body is application/x-www-form-urlencoded
)

// Table is one product's callback surface.
type Table struct {
	Product     string `json:"product"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Source      string `json:"source"`
	Encoding    string `json:"encoding"`
	Method      string `json:"method"`
	// UnknownMessages says what level vendor does with a payload whose
	// message cannot be told: "error" (a violation) or "warn" (validate
	// against the common envelope and warn). Level strict always errs.
	UnknownMessages string `json:"unknownMessages"`
	// Vendor holds what level vendor accepts beyond the document across
	// the whole table.
	Vendor   *TableOverride `json:"vendor"`
	Messages []Message      `json:"messages"`
	Fields   []Field        `json:"fields"`
}

// TableOverride holds what level vendor accepts beyond the documented
// shape of every row: what the vendor really sends.
type TableOverride struct {
	// NullOptional lets every top-level row that is not required carry
	// an explicit null (JSON tables only). A case that makes the row
	// required still asks for a value.
	NullOptional bool   `json:"nullOptional"`
	Note         string `json:"note"`
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
	Name    string `json:"name"`
	Summary string `json:"summary"`
	// Match maps a top-level field name, or a JSON pointer into the decoded
	// payload, to the value it has in this message.
	Match map[string]string `json:"match"`
	// BeyondSource marks a message the document named by the table's
	// source does not list; Note says where it is documented.
	BeyondSource bool   `json:"beyondSource"`
	Note         string `json:"note"`
	// Line and Column place the message in the table file.
	Line, Column int    `json:"-"`
	ptr          string // its JSON pointer in the table file
}

// Field is one row of a table: a field of the payload or of a JSON object
// nested in it.
type Field struct {
	Name     string   `json:"name"`
	Required bool     `json:"required"`
	Type     TypeList `json:"type"`
	// JSON marks a form field whose value is a JSON text (a JSON-in-form
	// field); Type then names the type of the decoded value.
	JSON      bool           `json:"json"`
	Nullable  bool           `json:"nullable"`
	MaxLength int            `json:"maxLength"`
	MinItems  int            `json:"minItems"`
	Enum      []any          `json:"enum"`
	Format    string         `json:"format"`
	Pattern   string         `json:"pattern"`
	Fields    []Field        `json:"fields"`
	Items     *Field         `json:"items"`
	Pairs     *Pairs         `json:"pairs"`
	Cases     []Case         `json:"cases"`
	Schema    map[string]any `json:"schema"`
	Vendor    *Override      `json:"vendor"`
	// Level limits the row to one level: a field real traffic carries
	// that the document does not list is a row of level vendor.
	Level string `json:"level"`
	Note  string `json:"note"`
	// Line and Column place the row in the table file.
	Line, Column int    `json:"-"`
	ptr          string // its JSON pointer in the table file
}

// Pairs ties each allowed value of a field to the one value a sibling field
// must then have (a reject code and its description).
type Pairs struct {
	With   string            `json:"with"`
	Values map[string]string `json:"values"`
	Order  []string          `json:"-"` // keys in document order
}

// Case is a condition on a field: when the sibling fields (or, on top-level
// rows, any JSON pointer into the payload) hold the listed values, the field
// is required, absent, limited to other values, or held to an extra schema.
type Case struct {
	When     map[string][]any `json:"when"`
	Unless   map[string][]any `json:"unless"`
	Required bool             `json:"required"`
	Absent   bool             `json:"absent"`
	Enum     []any            `json:"enum"`
	Schema   map[string]any   `json:"schema"`
	// Level limits the case to one level ("strict" or "vendor").
	Level string `json:"level"`
	Note  string `json:"note"`
	// Line and Column place the case in the table file.
	Line, Column int    `json:"-"`
	ptr          string // its JSON pointer in the table file
	// ID numbers the cases of top-level rows (from 0, in table order), so
	// that a validator may decide them from the payload before validating;
	// cases of nested rows have ID -1.
	ID int `json:"-"`
}

// Override holds what level vendor accepts beyond the documented shape of a
// field: the quirks the vendor really sends.
type Override struct {
	Type     TypeList `json:"type"`
	Enum     []any    `json:"enum"`
	Nullable bool     `json:"nullable"`
	// Open drops the enum: unknown values pass level vendor.
	Open bool `json:"open"`
	// PlainString lets a JSON-in-form field carry a plain string instead
	// of JSON text.
	PlainString bool `json:"plainString"`
	// Empty accepts the empty value of the row's type ({} or []) where
	// the document says the field is not sent, and for an object also
	// in place of the documented one (its sub-fields then need not be
	// there).
	Empty  bool   `json:"empty"`
	Format string `json:"format"`
	Note   string `json:"note"`
}

// TypeList is one JSON type name or several.
type TypeList []string

// UnmarshalJSON accepts a type name or a list of them (the schema has
// checked which).
func (tl *TypeList) UnmarshalJSON(data []byte) error {
	var one string
	if json.Unmarshal(data, &one) == nil {
		*tl = TypeList{one}
		return nil
	}
	var list []string
	if err := json.Unmarshal(data, &list); err != nil {
		return err
	}
	*tl = list
	return nil
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
