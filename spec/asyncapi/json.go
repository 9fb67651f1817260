package asyncapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// isJSON reports whether a document is to be read as JSON: its first
// non-blank character is "{" and it is valid JSON. Other documents,
// including YAML flow mappings such as {a: 1}, are read as YAML.
func isJSON(data []byte) bool {
	t := bytes.TrimLeft(data, " \t\r\n")
	return len(t) > 0 && t[0] == '{' && json.Valid(data)
}

// readJSON turns a document that isJSON accepts into JSON values, keeping
// positions by pointer in d as the YAML reader does. Strings are decoded
// by encoding/json, so every escape JSON has (\/, surrogate pairs) reads
// as JSON means it; numbers are kept as Load keeps YAML ones.
//
// Errors read "line:col: msg". Duplicate keys are errors, as in YAML, and
// values may nest no deeper than YAML ones.
func readJSON(d *Document, data []byte) (any, error) {
	r := &jsonReader{d: d, data: data, line: 1, col: 1}
	return r.value("", 0)
}

// jsonReader reads a valid JSON text, tracking the line and column (in
// characters, as yaml.v3 counts them) of its offset.
type jsonReader struct {
	d         *Document
	data      []byte
	off       int
	line, col int
}

// advance moves the offset on by n bytes.
func (r *jsonReader) advance(n int) {
	for end := r.off + n; r.off < end; r.off++ {
		switch b := r.data[r.off]; {
		case b == '\n':
			r.line, r.col = r.line+1, 1
		case b == '\r':
			if r.off+1 < len(r.data) && r.data[r.off+1] == '\n' {
				continue // the \n ends the line
			}
			r.line, r.col = r.line+1, 1
		case b&0xC0 != 0x80: // not a UTF-8 continuation byte
			r.col++
		}
	}
}

// space skips white space.
func (r *jsonReader) space() {
	n := 0
	for r.off+n < len(r.data) && bytes.IndexByte([]byte(" \t\r\n"), r.data[r.off+n]) >= 0 {
		n++
	}
	r.advance(n)
}

// value reads the value at the offset, which is at pointer ptr and nested
// depth deep.
func (r *jsonReader) value(ptr string, depth int) (any, error) {
	r.space()
	line, col := r.line, r.col
	if depth > maxDepth {
		return nil, fmt.Errorf("%d:%d: nested too deep", line, col)
	}
	r.d.pos[ptr] = pos{line, col}
	switch r.data[r.off] {
	case '{':
		r.advance(1)
		m := map[string]any{}
		r.space()
		if r.data[r.off] == '}' {
			r.advance(1)
			return m, nil
		}
		for {
			r.space()
			kl, kc := r.line, r.col
			k, err := r.str()
			if err != nil {
				return nil, err
			}
			if _, dup := m[k]; dup {
				return nil, fmt.Errorf("%d:%d: key %q appears twice", kl, kc, k)
			}
			r.space()
			r.advance(1) // :
			v, err := r.value(ptr+"/"+escape(k), depth+1)
			if err != nil {
				return nil, err
			}
			m[k] = v
			r.space()
			end := r.data[r.off]
			r.advance(1) // , or }
			if end == '}' {
				return m, nil
			}
		}
	case '[':
		r.advance(1)
		s := []any{}
		r.space()
		if r.data[r.off] == ']' {
			r.advance(1)
			return s, nil
		}
		for {
			v, err := r.value(ptr+"/"+strconv.Itoa(len(s)), depth+1)
			if err != nil {
				return nil, err
			}
			s = append(s, v)
			r.space()
			end := r.data[r.off]
			r.advance(1) // , or ]
			if end == ']' {
				return s, nil
			}
		}
	case '"':
		return r.str()
	case 't':
		r.advance(len("true"))
		return true, nil
	case 'f':
		r.advance(len("false"))
		return false, nil
	case 'n':
		r.advance(len("null"))
		return nil, nil
	}
	n := 0
	for r.off+n < len(r.data) && bytes.IndexByte([]byte("+-.0123456789eE"), r.data[r.off+n]) >= 0 {
		n++
	}
	lit := string(r.data[r.off : r.off+n])
	r.advance(n)
	return jsonNumber(lit), nil
}

// str reads the string at the offset.
func (r *jsonReader) str() (string, error) {
	line, col := r.line, r.col
	n := 1
	for r.data[r.off+n] != '"' {
		if r.data[r.off+n] == '\\' {
			n++
		}
		n++
	}
	n++
	var s string
	if err := json.Unmarshal(r.data[r.off:r.off+n], &s); err != nil {
		return "", fmt.Errorf("%d:%d: %v", line, col, err)
	}
	r.advance(n)
	return s, nil
}

// jsonNumber keeps a JSON number as Load keeps YAML ones: integers as
// written, every digit kept; other numbers as the shortest text of their
// float64 value; and those beyond float64's range as written.
func jsonNumber(lit string) json.Number {
	if bytes.IndexAny([]byte(lit), ".eE") < 0 {
		return json.Number(lit)
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil {
		return json.Number(lit)
	}
	b, err := json.Marshal(f)
	if err != nil {
		return json.Number(lit)
	}
	return json.Number(b)
}
