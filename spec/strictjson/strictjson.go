// Package strictjson decodes a JSON text the way a careful webhook receiver
// should: into the values encoding/json gives with UseNumber (map[string]any,
// []any, json.Number, string, bool, nil), but refusing what makes a body
// ambiguous, where two parsers may read different values: an object with
// the same key twice (one parser keeps the first, another the last),
// bytes that are not UTF-8 and escapes of lone UTF-16 surrogates (one
// parser replaces them, another refuses the body). Every error names the
// byte offset where the problem starts and, when there is one, the JSON
// pointer of the value concerned.
package strictjson

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Kind classifies a decoding error.
type Kind int

// The kinds of Error.
const (
	// Syntax is a text that is not JSON.
	Syntax Kind = iota + 1
	// Duplicate is an object holding a key twice.
	Duplicate
	// UTF8 is a byte sequence that is not UTF-8.
	UTF8
	// Surrogate is a \u escape of half a UTF-16 surrogate pair.
	Surrogate
	// Depth is nesting beyond MaxDepth.
	Depth
	// Empty is a text with no value (nothing, or only white space).
	Empty
	// Trailing is data after the value.
	Trailing
)

// MaxDepth bounds the nesting of arrays and objects, as encoding/json does.
const MaxDepth = 10000

// Error describes why a text could not be decoded.
type Error struct {
	Kind   Kind
	Offset int // byte offset where the problem starts
	// Pointer is the JSON pointer (RFC 6901) of the value concerned: the
	// member whose key is repeated, the string holding bad bytes; ""
	// for the whole text or when there is none.
	Pointer string
	// First is, for Duplicate, the byte offset of the key's first
	// occurrence.
	First int
	Msg   string
}

// Error implements error.
func (e *Error) Error() string {
	if e.Pointer != "" {
		return fmt.Sprintf("byte %d (%s): %s", e.Offset, e.Pointer, e.Msg)
	}
	return fmt.Sprintf("byte %d: %s", e.Offset, e.Msg)
}

// Ambiguous reports whether the text is JSON in shape but two parsers
// may read it differently (a duplicate key, bad UTF-8, a lone surrogate).
func (e *Error) Ambiguous() bool {
	return e.Kind == Duplicate || e.Kind == UTF8 || e.Kind == Surrogate
}

// Decode decodes one JSON text, with nothing but white space around it.
func Decode(data []byte) (any, error) {
	d := decoder{data: data}
	d.skipSpace()
	if d.pos == len(data) {
		return nil, &Error{Kind: Empty, Offset: d.pos, Msg: "no JSON value (the text is empty or only white space)"}
	}
	v, err := d.value()
	if err != nil {
		return nil, err
	}
	d.skipSpace()
	if d.pos < len(data) {
		return nil, &Error{Kind: Trailing, Offset: d.pos, Msg: "data after the JSON value"}
	}
	return v, nil
}

type decoder struct {
	data  []byte
	pos   int
	depth int
	// path holds the tokens from the root to the value being decoded:
	// keys as strings, indices as ints; it is read only to build the
	// pointer of an error.
	path []any
}

// pointer renders the path to the value being decoded as a JSON pointer.
func (d *decoder) pointer() string {
	var sb strings.Builder
	for _, t := range d.path {
		sb.WriteByte('/')
		switch x := t.(type) {
		case string:
			sb.WriteString(strings.ReplaceAll(strings.ReplaceAll(x, "~", "~0"), "/", "~1"))
		case int:
			sb.WriteString(strconv.Itoa(x))
		}
	}
	return sb.String()
}

// skipSpace skips JSON white space.
func (d *decoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// syntaxError is a Syntax error at the position.
func (d *decoder) syntaxError(msg string) error {
	return &Error{Kind: Syntax, Offset: d.pos, Msg: msg}
}

// unexpected reports the byte at the position (or the end) where what
// was expected.
func (d *decoder) unexpected(what string) error {
	if d.pos >= len(d.data) {
		return d.syntaxError("unexpected end of JSON input; expected " + what)
	}
	c := d.data[d.pos]
	if c < 0x20 || c >= 0x7f {
		return d.syntaxError(fmt.Sprintf("unexpected byte 0x%02x; expected %s", c, what))
	}
	return d.syntaxError(fmt.Sprintf("unexpected %q; expected %s", rune(c), what))
}

// value decodes the value at the position.
func (d *decoder) value() (any, error) {
	if d.pos >= len(d.data) {
		return nil, d.unexpected("a value")
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		return d.object()
	case c == '[':
		return d.array()
	case c == '"':
		return d.str()
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	}
	return nil, d.unexpected("a value")
}

// literal reads true, false or null.
func (d *decoder) literal(word string) error {
	if len(d.data)-d.pos >= len(word) && string(d.data[d.pos:d.pos+len(word)]) == word {
		d.pos += len(word)
		return nil
	}
	for i := 0; i < len(word); i++ {
		if d.pos+i >= len(d.data) || d.data[d.pos+i] != word[i] {
			d.pos += i
			return d.unexpected(fmt.Sprintf("%q (in %s)", word[i], word))
		}
	}
	return nil
}

// enter counts one more level of nesting, refusing too many.
func (d *decoder) enter() error {
	d.depth++
	if d.depth > MaxDepth {
		return &Error{Kind: Depth, Offset: d.pos, Pointer: d.pointer(), Msg: fmt.Sprintf("arrays and objects nested more than %d deep", MaxDepth)}
	}
	return nil
}

// object decodes an object, refusing a key sent twice.
func (d *decoder) object() (any, error) {
	if err := d.enter(); err != nil {
		return nil, err
	}
	d.pos++ // '{'
	obj := make(map[string]any)
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		d.depth--
		return obj, nil
	}
	for {
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return nil, d.unexpected("a string key")
		}
		keyAt := d.pos
		k, err := d.str()
		if err != nil {
			return nil, err
		}
		key := k.(string)
		if _, dup := obj[key]; dup {
			d.path = append(d.path, key)
			e := &Error{Kind: Duplicate, Offset: keyAt, Pointer: d.pointer(), First: firstKey(d.data, keyAt, key),
				Msg: fmt.Sprintf("key %q appears twice in one object (parsers disagree on which value counts)", key)}
			if e.First >= 0 {
				e.Msg = fmt.Sprintf("key %q appears twice in one object, first at byte %d (parsers disagree on which value counts)", key, e.First)
			}
			return nil, e
		}
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return nil, d.unexpected("':' after an object key")
		}
		d.pos++
		d.skipSpace()
		d.path = append(d.path, key)
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		d.path = d.path[:len(d.path)-1]
		obj[key] = v
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, d.unexpected("',' or '}' after an object member")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case '}':
			d.pos++
			d.depth--
			return obj, nil
		default:
			return nil, d.unexpected("',' or '}' after an object member")
		}
	}
}

// firstKey finds the offset of the first member key equal to key in the
// object whose later member key starts at dupAt; -1 if it cannot tell.
// Only an error pays for it: the text before dupAt, valid JSON, is
// scanned again from the start.
func firstKey(data []byte, dupAt int, key string) int {
	s := scanner{data: data}
	return s.find(dupAt, key)
}

// array decodes an array.
func (d *decoder) array() (any, error) {
	if err := d.enter(); err != nil {
		return nil, err
	}
	d.pos++ // '['
	arr := make([]any, 0, 4)
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		d.depth--
		return arr, nil
	}
	for i := 0; ; i++ {
		d.skipSpace()
		d.path = append(d.path, i)
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		d.path = d.path[:len(d.path)-1]
		arr = append(arr, v)
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, d.unexpected("',' or ']' after an array element")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case ']':
			d.pos++
			d.depth--
			return arr, nil
		default:
			return nil, d.unexpected("',' or ']' after an array element")
		}
	}
}

// number reads a number by JSON's grammar, as a json.Number.
func (d *decoder) number() (any, error) {
	start := d.pos
	if d.data[d.pos] == '-' {
		d.pos++
	}
	digits := func() int {
		n := 0
		for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
			d.pos++
			n++
		}
		return n
	}
	switch {
	case d.pos < len(d.data) && d.data[d.pos] == '0':
		d.pos++
	case digits() == 0:
		return nil, d.unexpected("a digit")
	}
	if d.pos < len(d.data) && d.data[d.pos] == '.' {
		d.pos++
		if digits() == 0 {
			return nil, d.unexpected("a digit after the decimal point")
		}
	}
	if d.pos < len(d.data) && (d.data[d.pos] == 'e' || d.data[d.pos] == 'E') {
		d.pos++
		if d.pos < len(d.data) && (d.data[d.pos] == '+' || d.data[d.pos] == '-') {
			d.pos++
		}
		if digits() == 0 {
			return nil, d.unexpected("a digit in the exponent")
		}
	}
	return json.Number(d.data[start:d.pos]), nil
}

// str decodes a string starting at the '"' under the position.
func (d *decoder) str() (any, error) {
	d.pos++ // '"'
	start := d.pos
	// Fast path: printable ASCII without escapes.
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		if c == '"' {
			s := string(d.data[start:d.pos])
			d.pos++
			return s, nil
		}
		if c == '\\' || c < 0x20 || c >= 0x80 {
			break
		}
		d.pos++
	}
	var sb strings.Builder
	sb.Write(d.data[start:d.pos])
	for {
		if d.pos >= len(d.data) {
			return nil, d.unexpected("'\"' to end the string")
		}
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			return sb.String(), nil
		case c == '\\':
			if err := d.escape(&sb); err != nil {
				return nil, err
			}
		case c < 0x20:
			return nil, d.syntaxError(fmt.Sprintf("control character 0x%02x inside a string (it must be escaped)", c))
		case c < 0x80:
			sb.WriteByte(c)
			d.pos++
		default:
			r, size := utf8.DecodeRune(d.data[d.pos:])
			if r == utf8.RuneError && size <= 1 {
				return nil, &Error{Kind: UTF8, Offset: d.pos, Pointer: d.pointer(),
					Msg: fmt.Sprintf("byte 0x%02x is not valid UTF-8 (parsers disagree on what it stands for)", c)}
			}
			sb.Write(d.data[d.pos : d.pos+size])
			d.pos += size
		}
	}
}

// escape decodes the escape at the position into sb, refusing half a
// surrogate pair.
func (d *decoder) escape(sb *strings.Builder) error {
	at := d.pos
	d.pos++ // '\\'
	if d.pos >= len(d.data) {
		return d.unexpected("an escape character")
	}
	c := d.data[d.pos]
	switch c {
	case '"', '\\', '/':
		sb.WriteByte(c)
	case 'b':
		sb.WriteByte('\b')
	case 'f':
		sb.WriteByte('\f')
	case 'n':
		sb.WriteByte('\n')
	case 'r':
		sb.WriteByte('\r')
	case 't':
		sb.WriteByte('\t')
	case 'u':
		d.pos++
		r, err := d.hex4()
		if err != nil {
			return err
		}
		if utf16.IsSurrogate(r) {
			lone := func() error {
				return &Error{Kind: Surrogate, Offset: at, Pointer: d.pointer(),
					Msg: fmt.Sprintf("\\u%04x is half a UTF-16 surrogate pair, alone (parsers disagree on what it stands for)", r)}
			}
			if r >= 0xdc00 || d.pos+1 >= len(d.data) || d.data[d.pos] != '\\' || d.data[d.pos+1] != 'u' {
				return lone()
			}
			save := d.pos
			d.pos += 2
			r2, err := d.hex4()
			if err != nil {
				return err
			}
			if r2 < 0xdc00 || r2 > 0xdfff {
				d.pos = save
				return lone()
			}
			r = utf16.DecodeRune(r, r2)
		}
		sb.WriteRune(r)
		return nil
	default:
		return d.unexpected(`an escape character (one of "\/bfnrtu)`)
	}
	d.pos++
	return nil
}

// hex4 reads the four hex digits of a \u escape.
func (d *decoder) hex4() (rune, error) {
	if len(d.data)-d.pos < 4 {
		d.pos = len(d.data)
		return 0, d.unexpected("four hex digits after \\u")
	}
	var r rune
	for i := 0; i < 4; i++ {
		c := d.data[d.pos]
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, d.unexpected("a hex digit")
		}
		d.pos++
	}
	return r, nil
}

// scanner re-reads a text known to be valid JSON up to some offset, to
// find where an object's first occurrence of a key is.
type scanner struct {
	data []byte
}

// find returns the offset of the first key equal to key in the object
// holding the member key that starts at dupAt, or -1.
func (s *scanner) find(dupAt int, key string) int {
	// Offsets of the keys of each open object, innermost last.
	type frame struct {
		isObject bool
		keys     map[string]int
	}
	var stack []frame
	d := decoder{data: s.data}
	for d.pos < dupAt {
		d.skipSpace()
		if d.pos >= dupAt {
			break
		}
		c := d.data[d.pos]
		switch {
		case c == '{':
			stack = append(stack, frame{isObject: true, keys: map[string]int{}})
			d.pos++
		case c == '[':
			stack = append(stack, frame{})
			d.pos++
		case c == '}' || c == ']':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			d.pos++
		case c == ',' || c == ':':
			d.pos++
		case c == '"':
			at := d.pos
			v, err := d.str()
			if err != nil {
				return -1
			}
			d.skipSpace()
			isKey := d.pos < len(d.data) && d.data[d.pos] == ':'
			if isKey && len(stack) > 0 && stack[len(stack)-1].isObject {
				if _, seen := stack[len(stack)-1].keys[v.(string)]; !seen {
					stack[len(stack)-1].keys[v.(string)] = at
				}
			}
		default:
			// A number or a literal: skip its bytes.
			for d.pos < len(d.data) && !strings.ContainsRune(" \t\r\n,]}", rune(d.data[d.pos])) {
				d.pos++
			}
		}
	}
	if len(stack) == 0 || !stack[len(stack)-1].isObject {
		return -1
	}
	if at, ok := stack[len(stack)-1].keys[key]; ok {
		return at
	}
	return -1
}
