package yamldoc

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestParsePositionsAndValues(t *testing.T) {
	src := "# a comment\nbase: &b {x: 1, y: two}\nitem:\n  <<: *b\n  y: own\n  list: [0x1f, 1_000, 2024-01-02, null, true, 1.5]\n"
	d, err := Parse("f.yaml", []byte(src), Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(d.Value)
	want := `{"base":{"x":1,"y":"two"},"item":{"list":[31,1000,"2024-01-02",null,true,1.5],"x":1,"y":"own"}}`
	if string(got) != want {
		t.Errorf("value %s, want %s", got, want)
	}
	for ptr, want := range map[string]string{"": "f.yaml:2:1", "/item": "f.yaml:4:3", "/item/y": "f.yaml:5:6", "/item/list/2": "f.yaml:6:23", "/item/x": "f.yaml:2:14", "/nowhere/deep": "f.yaml:2:1"} {
		if got := d.At(ptr).String(); got != want {
			t.Errorf("At(%q) = %s, want %s", ptr, got, want)
		}
	}
	if got := d.KeyAt("/item/list").String(); got != "f.yaml:6:3" {
		t.Errorf("KeyAt(/item/list) = %s", got)
	}
	if got := strings.Join(d.Keys("/item"), ","); got != "x,y,list" {
		t.Errorf("Keys(/item) = %s, want merged x first, then the own keys", got)
	}
	if v, ok := d.Get("/item/list/3"); !ok || v != nil {
		t.Errorf("Get of a null: %v %v", v, ok)
	}
	if _, ok := d.Get("/item/none"); ok {
		t.Error("Get of an absent key says it is there")
	}
}

func TestParseErrors(t *testing.T) {
	name := func(ptr string) string {
		if ptr == "" {
			return "the file"
		}
		return ptr
	}
	tests := []struct{ src, want string }{
		{"", "f.yaml:1:1: empty document"},
		{"a: 1\n---\nb: 2\n", "f.yaml:2:1: a second YAML document: a file holds one"},
		{"a: 1\na: 2\n", `f.yaml:2:1: the file: key "a" appears twice (first at 1:1)`},
		{"a: [1\nb: 2\n", "f.yaml:2:1: YAML: did not find expected ',' or ']'"},
		{"a: *nope\n", "f.yaml:1:4: YAML: unknown anchor 'nope' referenced"},
		{"a:\n  <<: 5\n", `f.yaml:2:7: /a: a merge key (<<) needs a mapping or a sequence of mappings, not "5"`},
		{"a: {[1]: x}\n", "f.yaml:1:5: /a: a key must be a string, not a sequence"},
		{"a: .inf\n", `f.yaml:1:4: /a: ".inf" has no JSON form`},
		{"a: &a [*a]\n", "f.yaml:1:8: the document nests deeper than 64 levels (an alias inside its own anchor?)"},
		{"a: \"\xff\"\n", "f.yaml:1:5: YAML: invalid leading UTF-8 octet"},
	}
	for _, tt := range tests {
		_, err := Parse("f.yaml", []byte(tt.src), Options{Name: name})
		var de *Error
		if !errors.As(err, &de) {
			t.Errorf("%q: %v (%T), want an *Error", tt.src, err, err)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("%q:\n got %s\nwant %s", tt.src, err, tt.want)
		}
	}
	laughs := "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
	if _, err := Parse("f.yaml", []byte(laughs), Options{MaxNodes: 10000}); err == nil || !strings.Contains(err.Error(), "expands to more than 10000 nodes") {
		t.Errorf("an alias bomb: %v", err)
	}
}

// TestParseExact: inside the values Exact names, what JSON has not is an
// error; elsewhere it is read as text.
func TestParseExact(t *testing.T) {
	exact := func(ptr string) string {
		if strings.HasPrefix(ptr, "/enum") {
			return "enum"
		}
		return ""
	}
	tests := []struct{ src, want string }{
		{"enum: [2001-12-14]\n", "f.yaml:1:8: enum: 2001-12-14 is a YAML timestamp, not a JSON value (quote it to mean the string)"},
		{"enum: [!!binary aGk=]\n", "f.yaml:1:8: enum: a !!binary value is not a JSON value"},
		{"enum: [{1: x}]\n", "f.yaml:1:9: enum: mapping key 1 is not a string, as JSON object keys are (quote it)"},
		{"enum: !!set {a: null}\n", "f.yaml:1:7: enum: a !!set value is not a JSON value"},
		{"other: [2001-12-14, !!binary aGk=, {1: x}]\nenum: [\"2001-12-14\", {\"1\": x}]\n", ""},
	}
	for _, tt := range tests {
		_, err := Parse("f.yaml", []byte(tt.src), Options{Exact: exact})
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("%q:\n got %s\nwant %s", tt.src, got, tt.want)
		}
	}
}

// testSchema words its errors through titles and x-errors.
const testSchema = `{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "config", "type": "object", "required": ["name"], "additionalProperties": false,
  "properties": {
    "name": {"type": "string"},
    "mode": {"title": "the mode", "enum": ["fast", "slow"]},
    "count": {"type": "integer", "minimum": 1, "maximum": 9},
    "tags": {"type": "array", "items": {"type": "string", "pattern": "^[a-z]+$", "x-errors": {"pattern": "tag {value}: lower-case letters"}}},
    "rows": {"type": "array", "items": {"type": "object", "properties": {"size": {"type": "integer", "x-errors": {"type": "row {owner}: size must be a number"}}}}}
  }
}`

func TestSchemaErrors(t *testing.T) {
	s, err := CompileSchema("test.json", []byte(testSchema))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ src, want string }{
		{"name: x\nmode: quick\n", `f.yaml:2:7: the mode "quick" is not one of fast, slow`},
		{"name: x\ncuont: 3\n", `f.yaml:2:1: config: unknown key "cuont"; did you mean "count"? (known: name, mode, count, tags, rows)`},
		{"nme: x\n", `f.yaml:1:1: config: unknown key "nme"; did you mean "name"? (known: name, mode, count, tags, rows)`},
		{"name: x\nrows: [{name: r1, size: big}]\n", `f.yaml:2:25: row "r1": size must be a number`},
		{"mode: fast\n", `f.yaml:1:1: config: "name" is required`},
		{"name: true\n", "f.yaml:1:7: name must be a string, not true (quote it to mean the text)"},
		{"name: x\ncount: 10\n", "f.yaml:2:8: count 10 is out of range 1..9"},
		{"name: x\ntags: [ok, Bad]\n", `f.yaml:2:12: tag "Bad": lower-case letters`},
		{"name: x\ncount: 3\n", ""},
	}
	checkFirst(t, s, tests)
}

// checkFirst validates each source against s and compares the first
// violation with the one wanted ("" for none).
func checkFirst(t *testing.T, s *Schema, tests []struct{ src, want string }) {
	t.Helper()
	for _, tt := range tests {
		d, err := Parse("f.yaml", []byte(tt.src), Options{})
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if err := s.First(d); err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("%q:\n got %s\nwant %s", tt.src, got, tt.want)
		}
	}
}

// ruleSchema words rules between keys: exclusive keys, keys that apply
// to some products, a line of another key, unique items.
const ruleSchema = `{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "properties": {
    "kind": {"type": "string"},
    "steps": {"type": "array", "items": {
      "type": "object",
      "allOf": [{"not": {"required": ["a", "b"]}, "x-at": "key", "x-errors": {"not": "one of a and b; this step has {keys}"}}],
      "if": {"required": ["raw"]},
      "then": {"properties": {"shape": {"not": {}, "x-at": "key", "x-errors": {"not": "shape: raw (line {line:raw}) is sent as written"}}}}
    }},
    "tags": {"type": "array", "uniqueItems": true, "x-errors": {"uniqueItems": "tag {value} appears twice"}}
  },
  "if": {"properties": {"kind": {"const": "plain"}}},
  "then": {"properties": {"steps": {"items": {"properties": {"fancy": {"not": {}, "x-at": "key", "x-errors": {"not": "fancy applies to fancy documents, not {/kind} ones"}}}}}}}
}`

func TestSchemaRules(t *testing.T) {
	s, err := CompileSchema("rules.json", []byte(ruleSchema))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ src, want string }{
		{"steps:\n  - b: 1\n    a: 2\n", "f.yaml:3:5: one of a and b; this step has b and a"},
		{"steps:\n  - {a: 1, b: 2}\n", "f.yaml:2:12: one of a and b; this step has a and b"},
		{"steps:\n  - shape: 1\n    x: 2\n    raw: 3\n", "f.yaml:2:5: shape: raw (line 4) is sent as written"},
		{"kind: plain\nsteps: [{fancy: true}]\n", "f.yaml:2:10: fancy applies to fancy documents, not plain ones"},
		{"kind: fancy\nsteps: [{fancy: true}]\n", ""},
		{"tags: [a, b, a]\n", `f.yaml:1:14: tag "a" appears twice`},
	}
	checkFirst(t, s, tests)
}

// TestErrorfWraps: a %w verb makes the *Error unwrap to its error.
func TestErrorfWraps(t *testing.T) {
	d, err := Parse("f.yaml", []byte("a: 1\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	cause := errors.New("the catalog says no")
	e := d.KeyErrorf("/a", "a: %w", cause)
	if !errors.Is(e, cause) || e.Error() != "f.yaml:1:1: a: the catalog says no" {
		t.Errorf("KeyErrorf = %v (unwraps: %v)", e, errors.Is(e, cause))
	}
	if e := d.Errorf("/a", "plain %d", 1); e.Unwrap() != nil || e.Error() != "f.yaml:1:4: plain 1" {
		t.Errorf("Errorf = %v, unwraps to %v", e, e.Unwrap())
	}
}

// FuzzParse: any input gives a value that JSON can write, or an *Error
// placed inside the file; never a panic.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"a: 1\n", "a: &x {b: *x}\n", "<<: [*a]\n", "- [\n", "a: !!binary x\n", "\xfe\xff", "a:\n  <<: {b: 1}\n  b: 2\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse("f.yaml", data, Options{MaxNodes: 5000})
		if err != nil {
			var de *Error
			if !errors.As(err, &de) || de.Pos.Line < 1 || de.Pos.Col < 1 {
				t.Fatalf("%v (%T): want an *Error placed in the file", err, err)
			}
			return
		}
		if _, err := json.Marshal(d.Value); err != nil {
			t.Fatalf("the value has no JSON form: %v", err)
		}
	})
}

// TestEmbedded: an embedded schema compiles once, at its first use, and
// Check answers the violation written first; a broken schema says so at
// every use.
func TestEmbedded(t *testing.T) {
	e := &Embedded{URL: "rules.json", Data: []byte(ruleSchema)}
	d, err := Parse("f.yaml", []byte("tags: [a, a]\nsteps:\n  - {a: 1, b: 2}\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Check(d); err == nil || err.Error() != `f.yaml:1:11: tag "a" appears twice` {
		t.Errorf("Check = %v, want the tag on line 1 first", err)
	}
	first, _ := e.Schema()
	if again, _ := e.Schema(); again != first {
		t.Error("the schema was compiled twice")
	}
	ok, _ := Parse("f.yaml", []byte("tags: [a]\n"), Options{})
	if err := e.Check(ok); err != nil {
		t.Errorf("Check of a valid document = %v", err)
	}
	broken := &Embedded{URL: "broken.json", Data: []byte(`{"type": 7}`)}
	for range 2 {
		if err := broken.Check(ok); err == nil || !strings.Contains(err.Error(), "broken.json") {
			t.Errorf("Check with a broken schema = %v, want an error naming it", err)
		}
	}
}
