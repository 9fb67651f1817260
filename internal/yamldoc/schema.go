package yamldoc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/kycsim/kycsim/internal/editdistance"
)

// Schema is a compiled JSON Schema (draft-07) that judges a Doc and
// words its errors for the person who wrote the file: the subschema's
// title names the value, a failed keyword becomes a sentence, an unknown
// key gets a did-you-mean from the properties, and a subschema's
// "x-errors" object may word a keyword's failure itself, with the
// placeholders {what}, {value} (the value described), {text} (a string
// value as written), {known} (the enum or property names), {key} (the
// value's key), {parent} (its parent's key), {owner} (the "name" of the
// nearest mapping holding the value, quoted), {/a/pointer} (the text of
// the document's value there), {line:KEY} (the line of the key KEY of
// the mapping that holds the value) and {keys} (see below).
//
// "x-at": "key" places a subschema's errors at the value's key instead
// of the value. A failed "not" of keys that exclude each other, {"not":
// {"required": [a, b]}}, is placed at the one written last, and {keys}
// names them in the order written ("b and a"). A failed "uniqueItems" is
// about the later of two equal items: {value} is it, placed where it is.
type Schema struct {
	compiled *jsonschema.Schema
	raw      any
	order    map[string][]string // schema pointer → object keys in written order
}

// Embedded is a schema the program holds as bytes (go:embed), compiled at
// its first use.
type Embedded struct {
	// URL names the schema in errors; Data is the schema's JSON.
	URL  string
	Data []byte

	once     sync.Once
	compiled *Schema
	err      error
}

// Schema returns the compiled schema.
func (e *Embedded) Schema() (*Schema, error) {
	e.once.Do(func() { e.compiled, e.err = CompileSchema(e.URL, e.Data) })
	return e.compiled, e.err
}

// Check validates a document and returns its first violation (the one
// written first), or nil.
func (e *Embedded) Check(d *Doc) error {
	s, err := e.Schema()
	if err != nil {
		return err
	}
	return s.First(d)
}

// First validates a document and returns its first violation (the one
// written first), or nil.
func (s *Schema) First(d *Doc) error {
	err := s.Validate(d)
	var es Errors
	if errors.As(err, &es) && len(es) > 0 {
		return First(es)
	}
	return err
}

// CompileSchema compiles a draft-07 schema from its JSON text; url names
// it in errors about the schema itself.
func CompileSchema(url string, data []byte) (*Schema, error) {
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft7
	if err := c.AddResource(url, bytes.NewReader(data)); err != nil {
		return nil, fmt.Errorf("schema %s: %w", url, err)
	}
	compiled, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", url, err)
	}
	s := &Schema{compiled: compiled, order: map[string][]string{}}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&s.raw); err != nil {
		return nil, fmt.Errorf("schema %s: %w", url, err)
	}
	keyOrder(json.NewDecoder(bytes.NewReader(data)), "", s.order)
	return s, nil
}

// keyOrder records the key order of every object of a JSON text.
func keyOrder(dec *json.Decoder, ptr string, out map[string][]string) {
	t, err := dec.Token()
	if err != nil {
		return
	}
	switch t {
	case json.Delim('{'):
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return
			}
			key, _ := k.(string)
			out[ptr] = append(out[ptr], key)
			keyOrder(dec, Pointer(ptr, key), out)
		}
		dec.Token()
	case json.Delim('['):
		for i := 0; dec.More(); i++ {
			keyOrder(dec, ptr+"/"+strconv.Itoa(i), out)
		}
		dec.Token()
	}
}

// Validate judges the document and returns its violations as Errors,
// first in the file first, or nil. A mapping with unknown keys is not
// also reported for a missing one: the unknown key is likely its typo.
func (s *Schema) Validate(d *Doc) error {
	err := s.compiled.Validate(d.Value)
	if err == nil {
		return nil
	}
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return Errors{{Pos: d.At(""), Msg: err.Error()}}
	}
	var out Errors
	unknown := map[string]bool{}
	leaves := s.leaves(ve, nil)
	for _, e := range leaves {
		if _, kw := keyword(e); kw == "additionalProperties" {
			unknown[e.InstanceLocation] = true
		}
	}
	for _, e := range leaves {
		if _, kw := keyword(e); kw == "required" && unknown[e.InstanceLocation] {
			continue
		}
		out = append(out, s.render(d, e))
	}
	slices.SortStableFunc(out, func(a, b *Error) int {
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line - b.Pos.Line
		}
		return a.Pos.Col - b.Pos.Col
	})
	return out
}

// leaves collects the errors to report: those without causes, or whose
// subschema words the failure of their keyword itself.
func (s *Schema) leaves(e *jsonschema.ValidationError, out []*jsonschema.ValidationError) []*jsonschema.ValidationError {
	if len(e.Causes) == 0 || s.custom(e) != "" {
		return append(out, e)
	}
	for _, c := range e.Causes {
		out = s.leaves(c, out)
	}
	return out
}

// keyword splits an error's schema location into the subschema's pointer
// and the keyword.
func keyword(e *jsonschema.ValidationError) (parent, kw string) {
	loc := e.AbsoluteKeywordLocation
	if i := strings.IndexByte(loc, '#'); i >= 0 {
		loc = loc[i+1:]
	} else {
		loc = ""
	}
	i := strings.LastIndexByte(loc, '/')
	if i < 0 {
		return "", ""
	}
	return loc[:i], unescape(loc[i+1:])
}

// custom returns the subschema's own wording of the failed keyword.
func (s *Schema) custom(e *jsonschema.ValidationError) string {
	parent, kw := keyword(e)
	sub, _ := lookup(s.raw, parent).(map[string]any)
	msgs, _ := sub["x-errors"].(map[string]any)
	m, _ := msgs[kw].(string)
	return m
}

var (
	missing    = regexp.MustCompile(`missing propert(?:y|ies):? '?"?([^'",]+)`)
	typeWords  = map[string]string{"string": "a string", "object": "a mapping", "array": "a sequence", "boolean": "true or false", "integer": "a decimal integer", "number": "a number", "null": "null"}
	stringLike = map[string]bool{"string": true}
	// equalItems finds the later of two equal items of a uniqueItems
	// error.
	equalItems = regexp.MustCompile(`and (\d+) are equal`)
	// docRef is a {/json/pointer} placeholder, lineRef a {line:KEY} one.
	docRef  = regexp.MustCompile(`\{/[^{}\s]*\}`)
	lineRef = regexp.MustCompile(`\{line:[^{}]+\}`)
)

// render words one violation and places it.
func (s *Schema) render(d *Doc, e *jsonschema.ValidationError) *Error {
	parent, kw := keyword(e)
	sub, _ := lookup(s.raw, parent).(map[string]any)
	inst := e.InstanceLocation
	if m := equalItems.FindStringSubmatch(e.Message); kw == "uniqueItems" && m != nil {
		inst += "/" + m[1] // the value is the later copy
	}
	value := lookup(d.Value, inst)
	toks := strings.Split(inst, "/")
	key, parentKey := unescape(toks[len(toks)-1]), ""
	if len(toks) > 1 {
		parentKey = unescape(toks[len(toks)-2])
	}
	what, _ := sub["title"].(string)
	if what == "" {
		what = key
		if strings.Trim(key, "0123456789") == "" {
			what = parentKey // an element of a sequence
		}
	}
	known := func() string {
		var names []string
		if enum, ok := sub["enum"].([]any); ok {
			for _, v := range enum {
				names = append(names, fmt.Sprint(v))
			}
		} else {
			names = s.properties(parent)
		}
		return strings.Join(names, ", ")
	}
	at := d.At(inst)
	var keys []string
	if not, ok := sub["not"].(map[string]any); ok && kw == "not" {
		for _, k := range d.Keys(inst) {
			if req, _ := not["required"].([]any); slices.Contains(req, any(k)) {
				keys = append(keys, k)
			}
		}
	}
	if sub["x-at"] == "key" && len(keys) > 0 {
		at = d.KeyAt(Pointer(inst, keys[len(keys)-1]))
	} else if sub["x-at"] == "key" {
		at = d.KeyAt(inst)
	}
	msg := s.custom(e)
	switch kw {
	case "additionalProperties":
		props := s.properties(parent)
		for _, k := range d.Keys(inst) {
			if !slices.Contains(props, k) {
				if msg == "" {
					msg = "{what}: unknown key {qkey}{suggest} (known: {known})"
				}
				msg = strings.NewReplacer("{what}", what, "{qkey}", strconv.Quote(k), "{suggest}", Suggest(k, props), "{known}", strings.Join(props, ", ")).Replace(msg)
				return &Error{Pos: d.KeyAt(Pointer(inst, k)), Ptr: Pointer(inst, k), Msg: msg}
			}
		}
	case "required":
		if m := missing.FindStringSubmatch(e.Message); m != nil && msg == "" {
			msg = fmt.Sprintf("{what}: %q is required", m[1])
		}
	}
	if msg == "" {
		switch kw {
		case "type":
			want := sub["type"]
			if list, ok := want.([]any); ok && len(list) > 0 {
				want = list[0]
			}
			w, _ := want.(string)
			msg = "{what} must be " + typeWords[w] + ", not {value}"
			if _, isBool := value.(bool); stringLike[w] && (isBool || value == nil) {
				msg += " (quote it to mean the text)"
			}
		case "enum":
			msg = "{what} {value} is not one of {known}"
		case "minimum", "maximum":
			msg = fmt.Sprintf("{what} {text} is out of range %v..%v", sub["minimum"], sub["maximum"])
		default:
			msg = "{what}: " + e.Message
		}
	}
	n := 0
	if list, ok := value.([]any); ok {
		n = len(list)
	}
	var enum []string
	if e, ok := sub["enum"].([]any); ok {
		for _, v := range e {
			enum = append(enum, fmt.Sprint(v))
		}
	}
	msg = docRef.ReplaceAllStringFunc(msg, func(ref string) string { return Text(d.Lookup(ref[1 : len(ref)-1])) })
	msg = lineRef.ReplaceAllStringFunc(msg, func(ref string) string {
		return strconv.Itoa(d.KeyAt(Pointer(inst[:max(strings.LastIndexByte(inst, '/'), 0)], ref[6:len(ref)-1])).Line)
	})
	msg = strings.NewReplacer("{what}", what, "{value}", Describe(value), "{text}", fmt.Sprint(value), "{known}", known(),
		"{key}", key, "{parent}", parentKey, "{len}", strconv.Itoa(n), "{suggest}", Suggest(fmt.Sprint(value), enum),
		"{owner}", nameNear(d.Value, inst), "{keys}", strings.Join(keys, " and ")).Replace(msg)
	return &Error{Pos: at, Ptr: inst, Msg: msg}
}

// nameNear returns the string "name" of the nearest mapping at or above
// ptr, quoted ("" when none has one).
func nameNear(v any, ptr string) string {
	for {
		if m, ok := lookup(v, ptr).(map[string]any); ok {
			if s, ok := m["name"].(string); ok {
				return strconv.Quote(s)
			}
		}
		if ptr == "" {
			return ""
		}
		ptr = ptr[:strings.LastIndexByte(ptr, '/')]
	}
}

// properties lists the property names of the subschema at ptr, as
// written.
func (s *Schema) properties(ptr string) []string {
	return s.order[Pointer(ptr, "properties")]
}

// Suggest names a known name close to an unknown one: "; did you mean
// "x"?", or "" when none is close.
func Suggest(s string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if d := editdistance.Distance(strings.ToLower(s), k); d < bestD {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf("; did you mean %q?", best)
}


func lookup(v any, ptr string) any {
	if ptr == "" || ptr == "/" && v == nil {
		return v
	}
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		tok = unescape(tok)
		switch c := v.(type) {
		case map[string]any:
			v = c[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil
			}
			v = c[i]
		default:
			return nil
		}
	}
	return v
}

func unescape(s string) string { return pointerUnescaper.Replace(s) }

// pointerEscaper and pointerUnescaper write and read a JSON pointer's
// tokens (RFC 6901).
var (
	pointerEscaper   = strings.NewReplacer("~", "~0", "/", "~1")
	pointerUnescaper = strings.NewReplacer("~1", "/", "~0", "~")
)
