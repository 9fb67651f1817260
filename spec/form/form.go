// Package form parses application/x-www-form-urlencoded bodies the way a
// careful webhook receiver should: fields keep the order they were sent in,
// a field sent twice is an error, and every error names the field and the
// byte offset where the problem starts.
package form

import (
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Field is one name=value pair of a form body, decoded, in the order sent.
type Field struct {
	Name   string
	Value  string
	Offset int // byte offset of the pair in the body
}

// Body is a parsed form body.
type Body struct {
	Fields []Field
}

// Get returns the value of the named field and whether it was sent.
func (b Body) Get(name string) (string, bool) {
	for _, f := range b.Fields {
		if f.Name == name {
			return f.Value, true
		}
	}
	return "", false
}

// SyntaxError describes a malformed part of a form body.
type SyntaxError struct {
	Offset int    // byte offset in the body
	Field  string // the field concerned, when known
	Msg    string
}

// Error implements error.
func (e *SyntaxError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("form field %q (byte %d): %s", e.Field, e.Offset, e.Msg)
	}
	return fmt.Sprintf("form body byte %d: %s", e.Offset, e.Msg)
}

// Parse decodes a form-urlencoded body. A single trailing newline (as left by
// an editor in a saved sample) is ignored; anything else out of shape is an
// error: an empty pair, a pair without '=', an empty name, a bad
// percent-escape, a name or value that is not UTF-8, or a field sent twice.
func Parse(data []byte) (Body, error) {
	s := string(data)
	s = strings.TrimSuffix(s, "\n")
	s = strings.TrimSuffix(s, "\r")
	if s == "" {
		return Body{}, &SyntaxError{Msg: "empty body"}
	}
	n := strings.Count(s, "&") + 1
	b := Body{Fields: make([]Field, 0, n)}
	seen := make(map[string]int, n)
	off := 0
	for off <= len(s) {
		end := strings.IndexByte(s[off:], '&')
		if end < 0 {
			end = len(s)
		} else {
			end += off
		}
		pair := s[off:end]
		if pair == "" {
			return Body{}, &SyntaxError{Offset: off, Msg: "empty field (two '&' in a row, or '&' at an end)"}
		}
		eq := strings.IndexByte(pair, '=')
		if eq < 0 {
			name, _ := url.QueryUnescape(pair)
			return Body{}, &SyntaxError{Offset: off, Field: name, Msg: "no '=' between name and value"}
		}
		name, err := unescape(pair[:eq])
		if err != nil {
			return Body{}, &SyntaxError{Offset: off, Field: pair[:eq], Msg: "name: " + err.Error()}
		}
		if name == "" {
			return Body{}, &SyntaxError{Offset: off, Msg: "empty field name"}
		}
		value, err := unescape(pair[eq+1:])
		if err != nil {
			return Body{}, &SyntaxError{Offset: off + eq + 1, Field: name, Msg: "value: " + err.Error()}
		}
		if first, dup := seen[name]; dup {
			return Body{}, &SyntaxError{Offset: off, Field: name, Msg: fmt.Sprintf("sent twice (first at byte %d)", first)}
		}
		seen[name] = off
		b.Fields = append(b.Fields, Field{Name: name, Value: value, Offset: off})
		off = end + 1
	}
	return b, nil
}

// unescape decodes one percent-encoded component ('+' is a space) and
// insists on UTF-8.
func unescape(s string) (string, error) {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		if !utf8.ValidString(s) {
			return "", fmt.Errorf("not valid UTF-8")
		}
		return s, nil
	}
	u, err := url.QueryUnescape(s)
	if err != nil {
		var esc url.EscapeError
		if e, ok := err.(url.EscapeError); ok {
			esc = e
			return "", fmt.Errorf("bad percent-escape %q", string(esc))
		}
		return "", err
	}
	if !utf8.ValidString(u) {
		return "", fmt.Errorf("not valid UTF-8 after decoding")
	}
	return u, nil
}

// Encode renders fields as a form body in the given order, escaping names
// and values as a browser or the vendor would (space as '+').
func Encode(fields []Field) string {
	var sb strings.Builder
	for i, f := range fields {
		if i > 0 {
			sb.WriteByte('&')
		}
		sb.WriteString(url.QueryEscape(f.Name))
		sb.WriteByte('=')
		sb.WriteString(url.QueryEscape(f.Value))
	}
	return sb.String()
}
