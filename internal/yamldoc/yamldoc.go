// Package yamldoc reads a YAML document into JSON values and keeps, for
// every JSON pointer into it, the file:line:col it came from, so that
// whatever judges the values later (a JSON Schema, a loader's own checks)
// can place its errors in the file. It is the one YAML reader of kycsim's
// languages: scenarios, conform profiles, field tables and AsyncAPI
// documents.
//
// The values are those encoding/json decodes with UseNumber: nil, bool,
// json.Number, string, []any and map[string]any. Numbers keep every digit
// JSON can write (0x1f becomes 31, 1_000 becomes 1000); timestamps stay
// strings as written. Merge keys (<<) are expanded, a mapping's own keys
// winning; aliases are expanded within bounds (no "billion laughs").
package yamldoc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Pos is a place in a file.
type Pos struct {
	File      string
	Line, Col int
}

// String renders file:line:col.
func (p Pos) String() string { return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col) }

// Error is an error at a place in a YAML file. Ptr is the JSON pointer of
// the value it is about ("" for the whole document or a syntax error);
// Err is what caused it, when anything did (a catalog's error).
type Error struct {
	Pos Pos
	Ptr string
	Msg string
	Err error
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// Unwrap returns what caused the error.
func (e *Error) Unwrap() error { return e.Err }

// Errors are several errors of one file, in document order.
type Errors []*Error

func (es Errors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// First returns the error that comes first in the file (nil for none).
func First(es []*Error) *Error {
	var first *Error
	for _, e := range es {
		if first == nil || e.Pos.Line < first.Pos.Line || e.Pos.Line == first.Pos.Line && e.Pos.Col < first.Pos.Col {
			first = e
		}
	}
	return first
}

// Options bound and phrase a Parse.
type Options struct {
	// MaxNodes bounds the nodes of the document once aliases and merge
	// keys are expanded (100000 when 0); MaxDepth how deep they nest (64
	// when 0).
	MaxNodes, MaxDepth int
	// Empty is the message for a file with no document ("empty
	// document" when ""); What names the file in the message about a
	// second document ("a file" when "").
	Empty, What string
	// ShortestNumbers writes numbers other than integers as the shortest
	// text of their float64 value (2.50 becomes 2.5, 1e3 becomes 1000),
	// as encoding/json would write them; else they stay as written when
	// JSON can write them so.
	ShortestNumbers bool
	// FirstDocument reads the first document of a stream and ignores the
	// rest; else a second document is an error.
	FirstDocument bool
	// ScalarKeys takes any scalar as a mapping key, as its text (true,
	// null, 1.5); else a key must be a string or a number.
	ScalarKeys bool
	// Name names the value at a pointer in errors about its keys ("a
	// step", "set"); its key (or "the document") when nil.
	Name func(ptr string) string
	// Exact tells the values that must be written as JSON has them: for
	// a pointer inside one it returns the name of the key whose value it
	// is ("" elsewhere). There a timestamp, binary data, a tagged mapping
	// or sequence, or a mapping key that is not a string is an error,
	// not read as text.
	Exact func(ptr string) string
}

// Doc is a YAML document as JSON values, with the position of every value
// and mapping key by JSON pointer.
type Doc struct {
	File string
	// Value is the document's value.
	Value any
	at    map[string]Pos
	keyAt map[string]Pos
	keys  map[string][]string
}

// Parse reads the one YAML document of a file. Errors are *Error: a
// syntax error placed at its line and column, a second document, a key
// that is not a string or appears twice, a bad merge key, or a document
// that expands beyond the bounds.
func Parse(file string, data []byte, opt Options) (d *Doc, err error) {
	if opt.MaxNodes == 0 {
		opt.MaxNodes = 100000
	}
	if opt.MaxDepth == 0 {
		opt.MaxDepth = 64
	}
	if opt.Empty == "" {
		opt.Empty = "empty document"
	}
	if opt.What == "" {
		opt.What = "a file"
	}
	if opt.Name == nil {
		opt.Name = func(ptr string) string {
			if ptr == "" {
				return "the document"
			}
			toks := strings.Split(ptr, "/")
			name := toks[len(toks)-1]
			if strings.Trim(name, "0123456789") == "" && len(toks) > 2 {
				name = toks[len(toks)-2] // an element of a sequence
			}
			return unescape(name)
		}
	}
	defer func() {
		// yaml.v3 has panicked on malformed input before; never pass
		// that on.
		if r := recover(); r != nil {
			d, err = nil, &Error{Pos: Pos{file, 1, 1}, Msg: fmt.Sprintf("YAML: %v", r)}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{Pos: Pos{file, 1, 1}, Msg: opt.Empty}
		}
		return nil, syntaxError(file, data, err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case opt.FirstDocument, errors.Is(err, io.EOF):
	case err != nil:
		return nil, syntaxError(file, data, err)
	default:
		return nil, &Error{Pos: Pos{file, next.Line, next.Column}, Msg: "a second YAML document: " + opt.What + " holds one"}
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind == yaml.ScalarNode && doc.Content[0].Tag == "!!null" {
		return nil, &Error{Pos: Pos{file, max(doc.Line, 1), max(doc.Column, 1)}, Msg: opt.Empty}
	}
	c := &converter{opt: opt, d: &Doc{File: file, at: map[string]Pos{}, keyAt: map[string]Pos{}, keys: map[string][]string{}}}
	if c.d.Value, err = c.convert(doc.Content[0], "", 0, nil); err != nil {
		return nil, err
	}
	return c.d, nil
}

// At returns the position of the value at ptr, or of the nearest value
// that holds it.
func (d *Doc) At(ptr string) Pos {
	for {
		if p, ok := d.at[ptr]; ok {
			return p
		}
		if ptr == "" {
			return Pos{d.File, 1, 1}
		}
		ptr = ptr[:strings.LastIndexByte(ptr, '/')]
	}
}

// KeyAt returns the position of the key of the mapping entry at ptr (of
// the value when it has no key: an array element, the document).
func (d *Doc) KeyAt(ptr string) Pos {
	if p, ok := d.keyAt[ptr]; ok {
		return p
	}
	return d.At(ptr)
}

// Keys returns the keys of the mapping at ptr in document order (merged
// keys where their merge key stands).
func (d *Doc) Keys(ptr string) []string { return d.keys[ptr] }

// Lookup returns the value at ptr, or nil.
func (d *Doc) Lookup(ptr string) any { return lookup(d.Value, ptr) }

// Get returns the value at ptr and whether it is there (a null value is
// there).
func (d *Doc) Get(ptr string) (any, bool) {
	i := strings.LastIndexByte(ptr, '/')
	if i < 0 {
		return d.Value, true
	}
	switch c := lookup(d.Value, ptr[:i]).(type) {
	case map[string]any:
		v, ok := c[unescape(ptr[i+1:])]
		return v, ok
	case []any:
		if n, err := strconv.Atoi(ptr[i+1:]); err == nil && n >= 0 && n < len(c) {
			return c[n], true
		}
	}
	return nil, false
}

// Text returns a string value, a number as written, and "" for null.
func Text(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// Texts returns the Text of each element of a sequence.
func Texts(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, e := range list {
		out = append(out, Text(e))
	}
	return out
}

// Int returns an integer value (0 when it is none).
func Int(v any) int {
	i, _ := strconv.Atoi(Text(v))
	return i
}

// Errorf returns an *Error at the value at ptr; it wraps the error a %w
// verb formats, as fmt.Errorf does.
func (d *Doc) Errorf(ptr, format string, args ...any) *Error {
	e := fmt.Errorf(format, args...)
	return &Error{Pos: d.At(ptr), Ptr: ptr, Msg: e.Error(), Err: errors.Unwrap(e)}
}

// KeyErrorf returns an *Error at the key of the entry at ptr, as Errorf.
func (d *Doc) KeyErrorf(ptr, format string, args ...any) *Error {
	e := d.Errorf(ptr, format, args...)
	e.Pos = d.KeyAt(ptr)
	return e
}

// Pointer appends a token to a JSON pointer, escaped (RFC 6901).
func Pointer(ptr string, tokens ...string) string {
	for _, t := range tokens {
		ptr += "/" + pointerEscaper.Replace(t)
	}
	return ptr
}

// Describe names a JSON value's type or value for an error: "a mapping",
// "a sequence", "null", "true", "42", or the quoted string (shortened).
func Describe(v any) string {
	switch v := v.(type) {
	case map[string]any:
		return "a mapping"
	case []any:
		return "a sequence"
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(v)
	case json.Number:
		return strconv.Quote(string(v))
	case string:
		if len(v) > 40 {
			v = v[:37] + "..."
		}
		return strconv.Quote(v)
	}
	return fmt.Sprintf("%v", v)
}

// converter turns a YAML node tree into JSON values, keeping positions.
type converter struct {
	opt   Options
	d     *Doc
	nodes int
}

func (c *converter) pos(n *yaml.Node) Pos { return Pos{c.d.File, n.Line, n.Column} }

func (c *converter) errf(n *yaml.Node, ptr, format string, args ...any) error {
	return &Error{Pos: c.pos(n), Ptr: ptr, Msg: fmt.Sprintf(format, args...)}
}

// count bounds the expanded size and depth; via is the outermost alias
// being expanded, where an error is placed.
func (c *converter) count(n *yaml.Node, depth int, via *yaml.Node) error {
	at := n
	if via != nil {
		at = via
	}
	c.nodes++
	switch {
	case c.nodes > c.opt.MaxNodes:
		return c.errf(at, "", "the document expands to more than %d nodes (aliases?)", c.opt.MaxNodes)
	case depth > c.opt.MaxDepth && via != nil:
		return c.errf(at, "", "the document nests deeper than %d levels (an alias inside its own anchor?)", c.opt.MaxDepth)
	case depth > c.opt.MaxDepth:
		return c.errf(at, "", "the document nests deeper than %d levels", c.opt.MaxDepth)
	}
	return nil
}

// convert turns node n, at ptr, into a JSON value.
func (c *converter) convert(n *yaml.Node, ptr string, depth int, via *yaml.Node) (any, error) {
	if err := c.count(n, depth, via); err != nil {
		return nil, err
	}
	if _, ok := c.d.at[ptr]; !ok {
		c.d.at[ptr] = c.pos(n)
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil, c.errf(n, ptr, "alias *%s names no anchor", n.Value)
		}
		if via == nil {
			via = n
		}
		return c.convert(n.Alias, ptr, depth+1, via)
	case yaml.MappingNode, yaml.SequenceNode:
		if what := c.exact(ptr); what != "" && n.Tag != "!!map" && n.Tag != "!!seq" {
			return nil, c.errf(n, ptr, "%s: a %s value is not a JSON value", what, n.Tag)
		}
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		return m, c.fill(m, n, ptr, depth, via, map[string]bool{})
	case yaml.SequenceNode:
		s := make([]any, len(n.Content))
		for i, e := range n.Content {
			v, err := c.convert(e, ptr+"/"+strconv.Itoa(i), depth+1, via)
			if err != nil {
				return nil, err
			}
			s[i] = v
		}
		return s, nil
	}
	return c.scalar(n, ptr)
}

// resolve follows aliases (count bounds them).
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i <= 64; i++ {
		n = n.Alias
	}
	return n
}

// fill adds the entries of mapping n to m: its own keys first, each once,
// winning over merged ones wherever they stand; then what merge keys
// bring, in place, earlier ones winning. taken holds the keys m has.
func (c *converter) fill(m map[string]any, n *yaml.Node, ptr string, depth int, via *yaml.Node, taken map[string]bool) error {
	own := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		raw := n.Content[i]
		k := resolve(raw)
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			continue
		}
		if k.Kind != yaml.ScalarNode || !stringTag(k.Tag) && !c.opt.ScalarKeys {
			return c.errf(raw, ptr, "%s: a key must be a string, not %s", c.opt.Name(ptr), describeNode(k))
		}
		if what := c.exact(ptr); what != "" && k.Tag != "!!str" {
			return c.errf(raw, ptr, "%s: mapping key %s is not a string, as JSON object keys are (quote it)", what, k.Value)
		}
		if prev, dup := own[k.Value]; dup {
			return c.errf(raw, ptr, "%s: key %q appears twice (first at %d:%d)", c.opt.Name(ptr), k.Value, prev.Line, prev.Column)
		}
		own[k.Value] = raw
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		raw, val := n.Content[i], n.Content[i+1]
		k := resolve(raw)
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			if err := c.merge(m, val, ptr, depth, via, taken, own); err != nil {
				return err
			}
			continue
		}
		if taken[k.Value] {
			continue
		}
		taken[k.Value] = true
		p := Pointer(ptr, k.Value)
		c.d.keyAt[p] = c.pos(raw)
		c.d.keys[ptr] = append(c.d.keys[ptr], k.Value)
		v, err := c.convert(val, p, depth+1, via)
		if err != nil {
			return err
		}
		m[k.Value] = v
	}
	return nil
}

// merge adds what a merge key's value brings: a mapping, or each mapping
// of a sequence, the mapping's own keys (own) winning.
func (c *converter) merge(m map[string]any, v *yaml.Node, ptr string, depth int, via *yaml.Node, taken map[string]bool, own map[string]*yaml.Node) error {
	r := resolve(v)
	from := []*yaml.Node{r}
	if r.Kind == yaml.SequenceNode {
		from = r.Content
	}
	if r.Kind != yaml.MappingNode && r.Kind != yaml.SequenceNode {
		return c.errf(r, ptr, "%s: a merge key (<<) needs a mapping or a sequence of mappings, not %s", c.opt.Name(ptr), describeNode(r))
	}
	for _, e := range from {
		if resolve(e).Kind != yaml.MappingNode {
			return c.errf(e, ptr, "%s: a merge key (<<) needs a mapping or a sequence of mappings, not %s", c.opt.Name(ptr), describeNode(e))
		}
		if err := c.count(e, depth+1, via); err != nil {
			return err
		}
		// The merged mapping's keys are checked as its own, then added
		// unless the merging mapping sets them.
		sub := map[string]any{}
		skip := map[string]bool{}
		for k := range own {
			skip[k] = true
		}
		for k := range taken {
			skip[k] = true
		}
		before := len(c.d.keys[ptr])
		if err := c.fill(sub, resolve(e), ptr, depth+1, via, skip); err != nil {
			return err
		}
		for _, k := range c.d.keys[ptr][before:] {
			m[k], taken[k] = sub[k], true
		}
	}
	return nil
}

// exact returns the name of the exact value ptr is in, or "".
func (c *converter) exact(ptr string) string {
	if c.opt.Exact == nil {
		return ""
	}
	return c.opt.Exact(ptr)
}

// stringTag reports whether a scalar of this tag can be a mapping key.
func stringTag(tag string) bool {
	switch tag {
	case "!!str", "!!int", "!!float", "!!timestamp":
		return true
	}
	return false
}

// describeNode names a node for an error, as Describe names a value.
func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a sequence"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		if n.Tag == "!!bool" {
			return n.Value
		}
		return Describe(n.Value)
	}
	return "an alias"
}

// jsonNumber is a number as JSON writes it.
var jsonNumber = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// scalar turns a YAML scalar into a JSON value: numbers as written when
// JSON can write them so, else in decimal.
func (c *converter) scalar(n *yaml.Node, ptr string) (any, error) {
	switch n.Tag {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, c.errf(n, ptr, "%v", err)
		}
		return b, nil
	case "!!int", "!!float":
		if jsonNumber.MatchString(n.Value) && (n.Tag == "!!int" || !c.opt.ShortestNumbers) {
			return json.Number(n.Value), nil
		}
		if i, ok := new(big.Int).SetString(strings.ReplaceAll(n.Value, "_", ""), 0); ok {
			return json.Number(i.String()), nil
		}
		var f float64
		if n.Decode(&f) == nil {
			if b, err := json.Marshal(f); err == nil {
				return json.Number(b), nil
			}
		}
		return nil, c.errf(n, ptr, "%s: %s has no JSON form", c.opt.Name(ptr), describeNode(n))
	case "!!str":
		return n.Value, nil
	case "!!timestamp", "!!binary":
		if what := c.exact(ptr); what != "" && n.Tag == "!!timestamp" {
			return nil, c.errf(n, ptr, "%s: %s is a YAML timestamp, not a JSON value (quote it to mean the string)", what, n.Value)
		} else if what != "" {
			return nil, c.errf(n, ptr, "%s: a %s value is not a JSON value", what, n.Tag)
		}
		return n.Value, nil // base64 stays as written
	}
	return nil, c.errf(n, ptr, "%s: %s (%s) has no JSON form", c.opt.Name(ptr), describeNode(n), n.Tag)
}

// yamlLine splits yaml.v3's "line N: message".
var yamlLine = regexp.MustCompile(`^line (\d+): (.*)$`)

// parserErrors are the messages of yaml.v3's parser (not its scanner):
// yaml.v3 reports their 0-based line, one less than the real one.
var parserErrors = []string{"did not find expected", "found duplicate %", "found incompatible YAML document", "found undefined tag handle"}

// syntaxError places a yaml.v3 syntax error. yaml.v3 gives a line (no
// column) and leaves it out for the first line, for bytes that are not
// YAML text and for an unknown anchor: those are found here.
func syntaxError(file string, data []byte, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line, col := 0, 1
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
		for _, p := range parserErrors {
			if strings.HasPrefix(msg, p) {
				line++
				break
			}
		}
	}
	if line == 0 {
		line, col = locate(data, msg)
	}
	return &Error{Pos: Pos{file, line, col}, Msg: "YAML: " + msg}
}

var unknownAnchor = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)

// locate finds the place of a yaml.v3 error that came without a line.
func locate(data []byte, msg string) (line, col int) {
	at := -1
	if m := unknownAnchor.FindStringSubmatch(msg); m != nil {
		for i := 0; at < 0; {
			j := bytes.Index(data[i:], []byte("*"+m[1]))
			if j < 0 {
				break
			}
			end := i + j + 1 + len(m[1])
			if end == len(data) || strings.IndexByte(" \t\r\n,]}", data[end]) >= 0 {
				at = i + j
			}
			i = end
		}
	} else {
		// A reader error: the first byte that is not YAML text.
		for i := 0; i < len(data); {
			r, n := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && n <= 1 || !yamlPrintable(r) {
				at = i
				break
			}
			i += n
		}
	}
	if at < 0 {
		return 1, 1
	}
	line, start := 1, 0
	for i := 0; i < at; {
		r, n := utf8.DecodeRune(data[i:])
		if r == '\r' && i+1 < at && data[i+1] == '\n' {
			n++ // CR LF is one break
		}
		i += n
		if r == '\n' || r == '\r' || r == 0x85 || r == 0x2028 || r == 0x2029 {
			line, start = line+1, i
		}
	}
	return line, 1 + utf8.RuneCount(data[start:at])
}

// yamlPrintable reports whether YAML allows a character in its text.
func yamlPrintable(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' || r >= 0x20 && r <= 0x7e || r == 0x85 ||
		r >= 0xa0 && r <= 0xd7ff || r >= 0xe000 && r <= 0xfffd || r >= 0x10000 && r <= 0x10ffff
}
