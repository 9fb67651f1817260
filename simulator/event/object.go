package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"unicode/utf8"
)

// Object is a JSON object whose members keep the order they were added in.
// A member set again keeps its place; a new member goes at the end. Member
// values are JSON values: nil, bool, string, FormText, json.Number,
// float64, int, int64, *Object and []any of those.
//
// The zero value is an empty object ready to use. An Object is not safe
// for concurrent use.
type Object struct {
	members []member
}

type member struct {
	key   string
	value any
}

// FormText is the text of a form field sent exactly as it is, even in a
// JSON-in-form field (where a plain string would be sent JSON-encoded). In
// a JSON body it is a JSON string. Event.SetRaw stores one.
type FormText string

// NewObject returns an empty object.
func NewObject() *Object { return &Object{members: make([]member, 0, 8)} }

// Len returns the number of members.
func (o *Object) Len() int {
	if o == nil {
		return 0
	}
	return len(o.members)
}

// Keys returns the member names in order.
func (o *Object) Keys() []string {
	if o == nil {
		return nil
	}
	keys := make([]string, len(o.members))
	for i, m := range o.members {
		keys[i] = m.key
	}
	return keys
}

// Get returns the value of a member and whether the object has it.
func (o *Object) Get(key string) (any, bool) {
	if i := o.index(key); i >= 0 {
		return o.members[i].value, true
	}
	return nil, false
}

// Set stores a member: in its place when the object has it, else at the
// end. It refuses values outside the JSON model (see Object) and values
// that would make the object contain itself.
func (o *Object) Set(key string, value any) error {
	if o == nil {
		return fmt.Errorf("set %q: nil object", key)
	}
	if err := checkValue(value, o, 0); err != nil {
		return fmt.Errorf("set %q: %w", key, err)
	}
	o.set(key, value)
	return nil
}

// set stores a member without checking the value.
func (o *Object) set(key string, value any) {
	if i := o.index(key); i >= 0 {
		o.members[i].value = value
		return
	}
	o.members = append(o.members, member{key, value})
}

// Delete removes a member and reports whether the object had it.
func (o *Object) Delete(key string) bool {
	i := o.index(key)
	if i < 0 {
		return false
	}
	o.members = append(o.members[:i], o.members[i+1:]...)
	return true
}

func (o *Object) index(key string) int {
	if o == nil {
		return -1
	}
	for i := range o.members {
		if o.members[i].key == key {
			return i
		}
	}
	return -1
}

// Clone returns a deep copy of the object.
func (o *Object) Clone() *Object {
	if o == nil {
		return nil
	}
	c := &Object{members: make([]member, len(o.members))}
	for i, m := range o.members {
		c.members[i] = member{m.key, cloneValue(m.value)}
	}
	return c
}

func cloneValue(v any) any {
	switch v := v.(type) {
	case *Object:
		return v.Clone()
	case []any:
		c := make([]any, len(v))
		for i, x := range v {
			c[i] = cloneValue(x)
		}
		return c
	}
	return v
}

// MarshalJSON renders the object compactly with its members in order.
// Strings are not HTML-escaped, as the vendors send them (json.Marshal
// escapes them again; Event.Body does not).
func (o *Object) MarshalJSON() ([]byte, error) {
	return appendJSON(nil, o, false)
}

// UnmarshalJSON replaces the members with those of a JSON object, in the
// order they appear; nested objects become *Object, numbers json.Number.
func (o *Object) UnmarshalJSON(b []byte) error {
	v, err := decodeOrdered(b)
	if err != nil {
		return err
	}
	obj, ok := v.(*Object)
	if !ok {
		return fmt.Errorf("event: JSON %s is not an object", kindOf(v))
	}
	o.members = obj.members
	return nil
}

// maxDepth bounds the nesting of values, as encoding/json does.
const maxDepth = 10000

// checkValue reports whether v is a JSON value of the model that does not
// contain self.
func checkValue(v any, self *Object, depth int) error {
	if depth > maxDepth {
		return errors.New("value nested too deeply")
	}
	switch v := v.(type) {
	case nil, bool, string, FormText, int, int64:
		return nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%v is not a JSON number", v)
		}
		return nil
	case json.Number:
		if !isNumber(string(v)) {
			return fmt.Errorf("%q is not a JSON number", string(v))
		}
		return nil
	case *Object:
		if v == nil {
			return errors.New("nil *Object")
		}
		if v == self {
			return errors.New("an object cannot contain itself")
		}
		for _, m := range v.members {
			if err := checkValue(m.value, self, depth+1); err != nil {
				return err
			}
		}
		return nil
	case []any:
		for _, x := range v {
			if err := checkValue(x, self, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("%T is not a JSON value", v)
}

// isNumber reports whether s is a JSON number literal.
func isNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	return i == len(s)
}

// appendJSON renders v compactly. A value outside the JSON model is an
// error, or, when lenient, written as null.
func appendJSON(b []byte, v any, lenient bool) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case string:
		return appendString(b, v), nil
	case FormText:
		return appendString(b, string(v)), nil
	case json.Number:
		if !isNumber(string(v)) {
			return notJSON(b, lenient, fmt.Errorf("event: %q is not a JSON number", string(v)))
		}
		return append(b, v...), nil
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return notJSON(b, lenient, fmt.Errorf("event: %v is not a JSON number", v))
		}
		return strconv.AppendFloat(b, v, 'g', -1, 64), nil
	case *Object:
		if v == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '{')
		for i, m := range v.members {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, m.key)
			b = append(b, ':')
			var err error
			if b, err = appendJSON(b, m.value, lenient); err != nil {
				return b, err
			}
		}
		return append(b, '}'), nil
	case []any:
		b = append(b, '[')
		for i, x := range v {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendJSON(b, x, lenient); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	}
	return notJSON(b, lenient, fmt.Errorf("event: %T is not a JSON value", v))
}

// notJSON ends appendJSON on a value outside the JSON model.
func notJSON(b []byte, lenient bool, err error) ([]byte, error) {
	if lenient {
		return append(b, "null"...), nil
	}
	return b, err
}

const hexDigits = "0123456789abcdef"

// appendString renders s as a JSON string. Bytes that are not UTF-8
// become U+FFFD; nothing is HTML-escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		// Copy a run of bytes that need no escape at once.
		start := i
		for i < len(s) && s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\' {
			i++
		}
		b = append(b, s[start:i]...)
		if i == len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// parseValue reads s as a JSON value when it is one (objects keep their
// member order) and as a plain string otherwise.
func parseValue(s string) any {
	if !json.Valid([]byte(s)) {
		return s
	}
	v, err := decodeOrdered([]byte(s))
	if err != nil {
		return s
	}
	return v
}

// decodeOrdered decodes one JSON value, keeping object member order.
func decodeOrdered(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	v, err := decodeNext(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("event: data after the JSON value")
	}
	return v, nil
}

func decodeNext(dec *json.Decoder, depth int) (any, error) {
	if depth > maxDepth {
		return nil, errors.New("event: JSON nested too deeply")
	}
	t, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	switch t := t.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := NewObject()
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("event: object key %v is not a string", kt)
				}
				v, err := decodeNext(dec, depth+1)
				if err != nil {
					return nil, err
				}
				o.set(key, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return o, nil
		case '[':
			a := []any{}
			for dec.More() {
				v, err := decodeNext(dec, depth+1)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return a, nil
		}
		return nil, fmt.Errorf("event: unexpected %v", t)
	}
	return t, nil
}

// kindOf names the JSON kind of a value for error messages.
func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case FormText:
		return "raw form text"
	case json.Number, float64, int, int64:
		return "a number"
	case *Object:
		return "an object"
	case []any:
		return "an array"
	}
	return fmt.Sprintf("a %T", v)
}
