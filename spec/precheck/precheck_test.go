package precheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

func decode(t testing.TB, s string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

// upper is a format for the tests: strings in capitals only.
func upper(v any) bool {
	s, ok := v.(string)
	return !ok || strings.ToUpper(s) == s
}

func testFormats(name string) FormatFunc {
	if name == "upper" {
		return upper
	}
	if f, ok := jsonschema.Formats[name]; ok {
		return f
	}
	return nil
}

// full compiles a schema with the full validator, set up as spec sets it.
func full(t testing.TB, schema string) (*jsonschema.Schema, error) {
	t.Helper()
	return fullAt(t, schema, "")
}

// fullAt compiles the schema at a JSON pointer of a document with the
// full validator.
func fullAt(t testing.TB, schema, ptr string) (*jsonschema.Schema, error) {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft7
	c.AssertFormat = true
	c.Formats["upper"] = upper
	if err := c.AddResource("https://precheck.invalid/s.json", bytes.NewReader([]byte(schema))); err != nil {
		return nil, err
	}
	return c.Compile("https://precheck.invalid/s.json#" + ptr)
}

// checkLocate checks Locate against the full validator: no place for a
// valid value; for an invalid one, places where the full validator, run
// on the place's schema and value, fails too.
func checkLocate(t *testing.T, schema string, pc *Schema, v any, valid bool) {
	t.Helper()
	places := pc.Locate(v)
	if valid {
		var st state
		if st.valid(pc, v); len(places) > 0 && !st.aborted {
			t.Fatalf("schema %s, valid instance: Locate gives %v", schema, places)
		}
		return
	}
	if len(places) == 0 {
		t.Fatalf("schema %s, invalid instance: Locate gives no place", schema)
	}
	for _, p := range places {
		fs, err := fullAt(t, schema, p.Schema)
		if err != nil {
			t.Fatalf("schema %s: place %s does not compile: %v", schema, p.Schema, err)
		}
		part, err := lookup(v, p.Instance)
		if err != nil {
			t.Fatalf("schema %s: place %+v: %v", schema, p, err)
		}
		if err := fs.Validate(part); err == nil {
			var st state
			if st.valid(pc, v); !st.aborted {
				t.Fatalf("schema %s: place %+v: the full validator finds nothing wrong there", schema, p)
			}
		}
	}
}

// TestLocate pins where Locate stops: at the smallest part whose own
// keywords fail, through properties, $refs and items.
func TestLocate(t *testing.T) {
	schema := `{"type":"object","required":["a"],"properties":{
		"a":{"$ref":"#/definitions/A"},
		"list":{"type":"array","items":{"type":"object","properties":{"n":{"maximum":3}}}},
		"both":{"allOf":[{"properties":{"x":{"type":"string"}}}]}},
		"definitions":{"A":{"type":"object","properties":{"id":{"enum":["x"]},"k":{"type":"integer"}}}}}`
	tests := []struct {
		instance string
		want     string
	}{
		{`{"a":{"id":"x"}}`, ""},
		{`{"a":{"id":"y","k":1.5},"list":[{"n":1},{"n":4}]}`, "/definitions/A/properties/id@/a/id /definitions/A/properties/k@/a/k /properties/list/items/properties/n@/list/1/n"},
		{`{"list":[]}`, "@"},
		{`{"a":{},"both":{"x":1}}`, "/properties/both@/both"},
		{`{"a":[]}`, "/definitions/A@/a"},
	}
	pc, err := Compile(decode(t, schema), "", testFormats)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		v := decode(t, tt.instance)
		var got []string
		for _, p := range pc.Locate(v) {
			got = append(got, p.Schema+"@"+p.Instance)
		}
		sort.Strings(got)
		if strings.Join(got, " ") != tt.want {
			t.Errorf("%s: places %q, want %q", tt.instance, strings.Join(got, " "), tt.want)
		}
		fs, err := full(t, schema)
		if err != nil {
			t.Fatal(err)
		}
		checkLocate(t, schema, pc, v, fs.Validate(v) == nil)
	}
}

// TestAgreesWithFullValidator checks the precheck against the full
// validator on schemas covering every keyword of the subset, with
// instances on both sides of each rule.
func TestAgreesWithFullValidator(t *testing.T) {
	tests := []struct {
		schema    string
		instances []string
	}{
		{`true`, []string{`1`, `null`}},
		{`false`, []string{`1`, `{}`}},
		{`{"type":"string"}`, []string{`"a"`, `1`, `null`}},
		{`{"type":["string","null"]}`, []string{`"a"`, `null`, `true`}},
		{`{"type":"integer"}`, []string{`1`, `1.0`, `1.5`, `1e2`, `-0`, `"1"`, `2.5e-1`}},
		{`{"type":"number"}`, []string{`1`, `1.5`, `"1"`}},
		{`{"type":"object"}`, []string{`{}`, `[]`}},
		{`{"type":"array"}`, []string{`[]`, `{}`}},
		{`{"type":"boolean"}`, []string{`true`, `0`}},
		{`{"const":"A"}`, []string{`"A"`, `"B"`, `1`}},
		{`{"const":1}`, []string{`1`, `1.0`, `10e-1`, `2`, `"1"`}},
		{`{"const":{"a":[1,null]}}`, []string{`{"a":[1,null]}`, `{"a":[1.0,null]}`, `{"a":[1]}`, `{"a":[1,null],"b":1}`}},
		{`{"enum":["A","B"]}`, []string{`"A"`, `"C"`, `1`, `null`}},
		{`{"enum":["A",1,null,[true]]}`, []string{`"A"`, `1.00`, `null`, `[true]`, `[false]`, `"1"`}},
		{`{"maxLength":3,"minLength":2}`, []string{`"ab"`, `"abc"`, `"abcd"`, `"a"`, `"äöü"`, `"äöüß"`, `5`}},
		{`{"pattern":"^[0-9]{3}$"}`, []string{`"123"`, `"12a"`, `123`}},
		{`{"format":"upper"}`, []string{`"AB"`, `"Ab"`, `1`}},
		{`{"format":"email"}`, []string{`"a@b.c"`, `"nope"`}},
		{`{"format":"no-such-format"}`, []string{`"x"`}},
		{`{"minimum":1,"maximum":3}`, []string{`1`, `3`, `0.5`, `3.01`, `"9"`}},
		{`{"exclusiveMinimum":1,"exclusiveMaximum":3}`, []string{`1`, `2`, `3`, `1.0000001`}},
		{`{"required":["a","b"]}`, []string{`{"a":1,"b":2}`, `{"a":1}`, `[]`}},
		{`{"properties":{"a":{"type":"string"},"b~/c":{"const":1}}}`, []string{`{"a":"x"}`, `{"a":1}`, `{"b~/c":1}`, `{"b~/c":2}`, `{"z":1}`}},
		{`{"properties":{"a":{}},"additionalProperties":false}`, []string{`{"a":1}`, `{"b":1}`, `{}`}},
		{`{"properties":{"a":{}},"additionalProperties":{"type":"integer"}}`, []string{`{"a":"s","b":1}`, `{"b":"s"}`}},
		{`{"patternProperties":{"^x-":{"type":"string"}},"additionalProperties":false}`, []string{`{"x-a":"s"}`, `{"x-a":1}`, `{"y":1}`}},
		{`{"minProperties":1,"maxProperties":2}`, []string{`{}`, `{"a":1}`, `{"a":1,"b":2,"c":3}`}},
		{`{"items":{"type":"string"},"minItems":1,"maxItems":2}`, []string{`["a"]`, `[]`, `["a","b","c"]`, `[1]`}},
		{`{"items":[{"type":"string"},{"type":"integer"}],"additionalItems":false}`, []string{`["a",1]`, `["a"]`, `["a",1,2]`, `[1,1]`}},
		{`{"items":[{"type":"string"}]}`, []string{`["a",1,{}]`, `[2]`}},
		{`{"allOf":[{"type":"string"},{"maxLength":1}]}`, []string{`"a"`, `"ab"`, `1`}},
		{`{"anyOf":[{"type":"string"},{"type":"integer"}]}`, []string{`"a"`, `1`, `1.5`}},
		{`{"oneOf":[{"type":"integer"},{"minimum":2}]}`, []string{`1`, `3`, `2.5`, `"s"`}},
		{`{"not":{"type":"string"}}`, []string{`1`, `"a"`}},
		{`{"if":{"properties":{"s":{"const":"A"}}},"then":{"required":["x"]},"else":{"required":["y"]}}`, []string{`{"s":"A","x":1}`, `{"s":"A"}`, `{"s":"B","y":1}`, `{"s":"B","x":1}`}},
		{`{"if":{"const":1},"then":false}`, []string{`1`, `2`}},
		{`{"then":false}`, []string{`1`}},
		{`{"definitions":{"s":{"type":"string","maxLength":2}},"properties":{"a":{"$ref":"#/definitions/s"}}}`, []string{`{"a":"xy"}`, `{"a":"xyz"}`, `{"a":1}`}},
		{`{"definitions":{"s":{"type":"string"}},"properties":{"a":{"$ref":"#/definitions/s","maxLength":1}}}`, []string{`{"a":"xyz"}`, `{"a":1}`}},
		{`{"type":"object","properties":{"next":{"$ref":"#"},"v":{"type":"integer"}}}`, []string{`{"next":{"next":{"v":1}}}`, `{"next":{"next":{"v":"x"}}}`, `{"next":1}`}},
		{`{"description":"annotations only","title":"t","$comment":"c","examples":[1],"default":2,"x-vendor":true}`, []string{`1`, `"a"`}},
	}
	// acceptsAll are the schemas that assert nothing.
	acceptsAll := map[string]bool{
		`true`:                        true,
		`{"format":"no-such-format"}`: true,
		`{"then":false}`:              true,
		tests[len(tests)-1].schema:    true,
	}
	for _, tt := range tests {
		pc, err := Compile(decode(t, tt.schema), "", testFormats)
		if err != nil {
			t.Errorf("%s: %v", tt.schema, err)
			continue
		}
		fs, err := full(t, tt.schema)
		if err != nil {
			t.Fatalf("%s: the full validator refuses it: %v", tt.schema, err)
		}
		sawValid, sawInvalid := false, false
		for _, in := range tt.instances {
			v := decode(t, in)
			want := fs.Validate(v) == nil
			if got := pc.Valid(v); got != want {
				t.Errorf("schema %s, instance %s: precheck says %v, full validator %v", tt.schema, in, got, want)
			}
			sawValid = sawValid || want
			sawInvalid = sawInvalid || !want
		}
		if tt.schema != "false" && !sawValid {
			t.Errorf("schema %s: no instance is valid", tt.schema)
		}
		if !acceptsAll[tt.schema] && !sawInvalid {
			t.Errorf("schema %s: no instance is invalid", tt.schema)
		}
	}
}

// TestGoNumbers checks values built in Go rather than decoded with
// UseNumber.
func TestGoNumbers(t *testing.T) {
	pc, err := Compile(decode(t, `{"properties":{"n":{"type":"integer","maximum":10}},"enum":[{"n":3}]}`), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		v    any
		want bool
	}{
		{map[string]any{"n": 3}, true},
		{map[string]any{"n": 3.0}, true},
		{map[string]any{"n": int64(3)}, true},
		{map[string]any{"n": 3.5}, false},
		{map[string]any{"n": 4}, false},
	} {
		if got := pc.Valid(tt.v); got != tt.want {
			t.Errorf("Valid(%v) = %v, want %v", tt.v, got, tt.want)
		}
	}
}

// TestRefused checks that schemas outside the subset are refused, so the
// caller falls back to the full validator instead of trusting a partial
// answer.
func TestRefused(t *testing.T) {
	for _, schema := range []string{
		`{"multipleOf":2}`,
		`{"uniqueItems":true}`,
		`{"items":{"contains":{"const":1}}}`,
		`{"dependencies":{"a":["b"]}}`,
		`{"propertyNames":{"maxLength":2}}`,
		`{"properties":{"a":{"$ref":"other.json#/x"}}}`,
		`{"properties":{"a":{"$id":"https://x.invalid/a","type":"string"}}}`,
	} {
		_, err := Compile(decode(t, schema), "", nil)
		var ue *UnsupportedError
		if !errors.As(err, &ue) {
			t.Errorf("%s: err = %v, want an UnsupportedError", schema, err)
		}
	}
	for _, schema := range []string{
		`{"type":"text"}`,
		`{"pattern":"("}`,
		`{"maxLength":-1}`,
		`{"properties":{"a":{"$ref":"#/definitions/missing"}}}`,
		`{"allOf":[]}`,
		`{"properties":{"a":3}}`,
	} {
		if _, err := Compile(decode(t, schema), "", nil); err == nil {
			t.Errorf("%s: compiled, want an error", schema)
		}
	}
}

// TestReferenceLoopEnds checks that a loop of references consuming no
// input answers false (undecided) instead of running forever.
func TestReferenceLoopEnds(t *testing.T) {
	pc, err := Compile(decode(t, `{"definitions":{"a":{"allOf":[{"$ref":"#/definitions/a"}]}},"$ref":"#/definitions/a"}`), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if pc.Valid(decode(t, `1`)) {
		t.Error("a reference loop answered valid")
	}
}

// TestSubschemaPointer compiles a schema inside a larger document, as
// spec does for AsyncAPI payloads.
func TestSubschemaPointer(t *testing.T) {
	doc := decode(t, `{"components":{"schemas":{"Id":{"type":"string","format":"upper"}}},"messages":{"m":{"payload":{"properties":{"id":{"$ref":"#/components/schemas/Id"}}}}}}`)
	pc, err := Compile(doc, "/messages/m/payload", testFormats)
	if err != nil {
		t.Fatal(err)
	}
	if !pc.Valid(decode(t, `{"id":"AB"}`)) || pc.Valid(decode(t, `{"id":"ab"}`)) {
		t.Error("the referenced format was not applied")
	}
	if _, err := Compile(doc, "/messages/none", nil); err == nil {
		t.Error("a pointer to nothing compiled")
	}
}

// FuzzAgree checks on arbitrary schemas and instances that whenever both
// validators accept the schema, the precheck agrees with the full
// validator (a reference loop may make the precheck answer false).
func FuzzAgree(f *testing.F) {
	f.Add(`{"type":"object","properties":{"a":{"enum":["x",1]}},"required":["a"],"additionalProperties":false}`, `{"a":1.0}`)
	f.Add(`{"allOf":[{"if":{"const":1},"then":{"type":"integer"},"else":{"not":{"type":"string"}}}]}`, `"s"`)
	f.Add(`{"items":[{"maxLength":2}],"additionalItems":{"pattern":"^a"},"minItems":1}`, `["ää","ab"]`)
	f.Add(`{"oneOf":[{"minimum":1},{"exclusiveMaximum":3}],"format":"upper"}`, `2`)
	f.Add(`{"definitions":{"d":{"anyOf":[{"type":"null"},{"$ref":"#"}]}},"properties":{"n":{"$ref":"#/definitions/d"}}}`, `{"n":{"n":null}}`)
	f.Fuzz(func(t *testing.T, schema, instance string) {
		if len(schema) > 2000 || len(instance) > 2000 {
			return
		}
		var sv, iv any
		for _, x := range []struct {
			s string
			v *any
		}{{schema, &sv}, {instance, &iv}} {
			dec := json.NewDecoder(strings.NewReader(x.s))
			dec.UseNumber()
			if err := dec.Decode(x.v); err != nil {
				return
			}
		}
		pc, err := Compile(sv, "", testFormats)
		if err != nil {
			return
		}
		fs, err := full(t, schema)
		if err != nil {
			return
		}
		fullErr := fs.Validate(iv)
		var infinite jsonschema.InfiniteLoopError
		if errors.As(fullErr, &infinite) {
			return
		}
		var ve *jsonschema.ValidationError
		if fullErr != nil && !errors.As(fullErr, &ve) {
			return // not a verdict (e.g. an invalid value)
		}
		checkLocate(t, schema, pc, iv, fullErr == nil)
		if got, want := pc.Valid(iv), fullErr == nil; got && !want {
			t.Fatalf("schema %s, instance %s: precheck says valid, full validator: %v", schema, instance, fullErr)
		} else if got != want {
			var st state
			st.valid(pc, iv)
			if !st.aborted {
				t.Fatalf("schema %s, instance %s: precheck says %v, full validator %v", schema, instance, got, want)
			}
		}
	})
}

// TestValidDeclared: a valid object reports whether the root schema
// declares every member, through a root $ref too; nested objects and
// invalid values say nothing.
func TestValidDeclared(t *testing.T) {
	doc := decode(t, `{"definitions":{"R":{"type":"object","properties":{"a":{"type":"object","properties":{"b":{}}}},"required":["a"]}},
		"$ref":"#/definitions/R"}`)
	pc, err := Compile(doc, "", testFormats)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		instance        string
		valid, declared bool
	}{
		{`{"a":{}}`, true, true},
		{`{"a":{"b":1,"c":2}}`, true, true},
		{`{"a":{},"x":1}`, true, false},
		{`{"x":1}`, false, false},
		{`[1]`, false, false},
	}
	for _, tt := range tests {
		valid, declared := pc.ValidDeclared(decode(t, tt.instance))
		if valid != tt.valid || declared != tt.declared {
			t.Errorf("%s: ValidDeclared = %v, %v; want %v, %v", tt.instance, valid, declared, tt.valid, tt.declared)
		}
	}
}
