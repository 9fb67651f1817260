package fieldtable

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/kycsim/kycsim/spec/asyncapi"
)

// demoTable has static and dynamic cases: a message fixes status, another
// a JSON pointer into a nested object.
const demoTable = `product: demo
encoding: json
messages:
  - {name: APPROVED, summary: The check passed., match: {status: APPROVED}}
  - {name: DENIED, match: {status: DENIED}}
  - {name: LATE, match: {/meta/phase: late}}
fields:
  - {name: status, required: true, enum: [APPROVED, DENIED, PENDING]}
  - name: result
    enum: [OK, FAIL, N/A]
    cases:
      - when: {status: [APPROVED]}
        enum: [OK]
        note: result is OK when status is APPROVED
  - name: reason
    cases:
      - when: {status: [DENIED]}
        required: true
        note: a denial carries a reason
      - when: {status: [APPROVED]}
        absent: true
        note: an approval carries no reason
  - name: receipt
    cases:
      - unless: {status: [APPROVED]}
        absent: true
        note: only approvals carry a receipt
  - name: meta
    type: object
    fields:
      - {name: phase, enum: [early, late]}
      - name: retry
        type: boolean
        cases:
          - when: {phase: [late]}
            required: true
            note: a late phase says whether it retries
`

// instance is a payload and whether a schema must accept it.
type instance struct {
	json  string
	valid bool
}

// checkInstances validates each instance against schema with jsonschema/v5
// (draft-07, formats asserted).
func checkInstances(t *testing.T, schema map[string]any, instances []instance) {
	t.Helper()
	sch := mustRealSchema(t, schema)
	for _, in := range instances {
		err := sch.Validate(decodeJSON(t, in.json))
		switch {
		case in.valid && err != nil:
			t.Errorf("%s: rejected, want valid: %v", in.json, err)
		case !in.valid && err == nil:
			t.Errorf("%s: accepted, want a violation", in.json)
		}
	}
}

// allOfWithComment finds the entry of an allOf list whose $comment (or
// whose then's $comment) is note.
func allOfWithComment(s map[string]any, note string) map[string]any {
	all, _ := s["allOf"].([]any)
	for _, e := range all {
		m, _ := e.(map[string]any)
		if m["$comment"] == note {
			return m
		}
		if then, ok := m["then"].(map[string]any); ok && then["$comment"] == note {
			return m
		}
	}
	return nil
}

// requiredStatically reports whether the object schema s requires name
// without a condition: in its required list or in an allOf entry that
// carries no "if".
func requiredStatically(s map[string]any, name string) bool {
	if req, ok := s["required"].([]string); ok && slices.Contains(req, name) {
		return true
	}
	all, _ := s["allOf"].([]any)
	for _, e := range all {
		m, _ := e.(map[string]any)
		if _, cond := m["if"]; cond {
			continue
		}
		if req, ok := m["required"].([]string); ok && slices.Contains(req, name) {
			return true
		}
	}
	return false
}

func sameJSON(t *testing.T, got any, want string) {
	t.Helper()
	var w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want JSON: %v", err)
	}
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	var g any
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("schema differs:\n%s", lineDiff(jsonText(t, w), jsonText(t, g)))
	}
}

// TestCompileStaticCase: a case whose when the message's match decides is
// applied in place, with no if/then: the narrower enum with the rule as
// $comment, required, or absent as {"not": {}} with the rule.
func TestCompileStaticCase(t *testing.T) {
	tb := mustLoad(t, demoTable)
	approved := mustCompile(t, tb, "APPROVED", LevelStrict)
	denied := mustCompile(t, tb, "DENIED", LevelStrict)
	for name, s := range map[string]map[string]any{"APPROVED": approved, "DENIED": denied} {
		// Only meta/retry's case (a nested row, never decided) may stay.
		top := map[string]any{}
		for k, v := range s {
			top[k] = v
		}
		props := map[string]any{}
		for k, v := range s["properties"].(map[string]any) {
			if k != "meta" {
				props[k] = v
			}
		}
		top["properties"] = props
		if hasKeyword(top, "if") || hasKeyword(top, "then") {
			t.Errorf("%s: a statically decided case left an if/then:\n%s", name, jsonText(t, s))
		}
		if !hasKeyword(s["properties"].(map[string]any)["meta"], "if") {
			t.Errorf("%s: the nested case of meta/retry is gone", name)
		}
	}

	// enum: narrowed, with the rule.
	sameJSON(t, schemaAtPath(t, approved, "properties", "result"),
		`{"type": "string", "enum": ["OK"], "$comment": "result is OK when status is APPROVED"}`)
	sameJSON(t, schemaAtPath(t, denied, "properties", "result"),
		`{"type": "string", "enum": ["OK", "FAIL", "N/A"]}`)

	// absent: not {}, with the rule.
	sameJSON(t, schemaAtPath(t, approved, "properties", "reason"),
		`{"not": {}, "$comment": "an approval carries no reason"}`)
	sameJSON(t, schemaAtPath(t, denied, "properties", "receipt"),
		`{"not": {}, "$comment": "only approvals carry a receipt"}`)

	// required: the required set grows, for DENIED only.
	if !requiredStatically(denied, "reason") {
		t.Errorf("DENIED does not require reason:\n%s", jsonText(t, denied))
	}
	if requiredStatically(approved, "reason") {
		t.Errorf("APPROVED requires reason")
	}
	if e := allOfWithComment(denied, "a denial carries a reason"); e != nil {
		// In ed19c30 a static required rule was an allOf entry so that a
		// violation could quote it; such an entry must be unconditional.
		sameJSON(t, e, `{"required": ["reason"], "$comment": "a denial carries a reason"}`)
	}
	// However it is put, the rule stays quotable for the violation.
	if !hasString(denied, "a denial carries a reason") {
		t.Errorf("DENIED lost the note of the required rule:\n%s", jsonText(t, denied))
	}

	checkInstances(t, approved, []instance{
		{`{"status": "APPROVED"}`, true},
		{`{"status": "APPROVED", "result": "OK", "receipt": "r1"}`, true},
		{`{"status": "APPROVED", "result": "FAIL"}`, false},
		{`{"status": "APPROVED", "reason": "x"}`, false},
		{`{"status": "DENIED"}`, false}, // const of the match
	})
	checkInstances(t, denied, []instance{
		{`{"status": "DENIED", "reason": "fraud"}`, true},
		{`{"status": "DENIED", "reason": "fraud", "result": "FAIL"}`, true},
		{`{"status": "DENIED"}`, false},
		{`{"status": "DENIED", "reason": "fraud", "receipt": "r1"}`, false},
	})
}

// TestCompileEnvelopeCase: the same cases compiled for the envelope are
// allOf entries with if/then, checked at validation time.
func TestCompileEnvelopeCase(t *testing.T) {
	tb := mustLoad(t, demoTable)
	env := mustCompile(t, tb, "", LevelStrict)
	if env["title"] != "demo (any message)" || env["$schema"] != Draft07 {
		t.Errorf("title %v, $schema %v", env["title"], env["$schema"])
	}
	sameJSON(t, schemaAtPath(t, env, "properties", "result"), `{"type": "string", "enum": ["OK", "FAIL", "N/A"]}`)
	sameJSON(t, schemaAtPath(t, env, "properties", "reason"), `{"type": "string"}`)
	if requiredStatically(env, "reason") {
		t.Errorf("envelope requires reason unconditionally")
	}
	for _, tt := range []struct{ note, want string }{
		{"result is OK when status is APPROVED", `{
			"if": {"properties": {"status": {"enum": ["APPROVED"]}}, "required": ["status"]},
			"then": {"$comment": "result is OK when status is APPROVED",
				"properties": {"result": {"enum": ["OK"], "$comment": "result is OK when status is APPROVED"}}}}`},
		{"a denial carries a reason", `{
			"if": {"properties": {"status": {"enum": ["DENIED"]}}, "required": ["status"]},
			"then": {"$comment": "a denial carries a reason", "required": ["reason"]}}`},
		{"an approval carries no reason", `{
			"if": {"properties": {"status": {"enum": ["APPROVED"]}}, "required": ["status"]},
			"then": {"$comment": "an approval carries no reason",
				"properties": {"reason": {"not": {}, "$comment": "an approval carries no reason"}}}}`},
		{"only approvals carry a receipt", `{
			"if": {"not": {"properties": {"status": {"enum": ["APPROVED"]}}, "required": ["status"]}},
			"then": {"$comment": "only approvals carry a receipt",
				"properties": {"receipt": {"not": {}, "$comment": "only approvals carry a receipt"}}}}`},
	} {
		e := allOfWithComment(env, tt.note)
		if e == nil {
			t.Errorf("no allOf entry for %q in:\n%s", tt.note, jsonText(t, env))
			continue
		}
		sameJSON(t, e, tt.want)
	}
	checkInstances(t, env, []instance{
		{`{"status": "APPROVED", "result": "OK", "receipt": "r"}`, true},
		{`{"status": "APPROVED", "result": "FAIL"}`, false},
		{`{"status": "APPROVED", "reason": "x"}`, false},
		{`{"status": "DENIED", "reason": "x", "result": "FAIL"}`, true},
		{`{"status": "DENIED"}`, false},
		{`{"status": "DENIED", "reason": "x", "receipt": "r"}`, false},
		{`{"status": "PENDING"}`, true},
		{`{"status": "PENDING", "receipt": "r"}`, false},
		{`{"status": "CLOSED"}`, false},
		{`{}`, false},
	})
}

// TestCompileUnless: unless is three-valued: known true drops the case,
// known false applies it, unknown makes it an if/not.
func TestCompileUnless(t *testing.T) {
	tb := mustLoad(t, demoTable)
	tests := []struct {
		message string
		want    string // schema of receipt
		dynamic bool   // an if/then for receipt
	}{
		{"APPROVED", `{"type": "string"}`, false},                                      // unless known true
		{"DENIED", `{"not": {}, "$comment": "only approvals carry a receipt"}`, false}, // unless known false
		{"LATE", `{"type": "string"}`, true},                                           // status unknown
		{"", `{"type": "string"}`, true},                                               // envelope
	}
	for _, tt := range tests {
		t.Run("msg="+tt.message, func(t *testing.T) {
			s := mustCompile(t, tb, tt.message, LevelVendor)
			sameJSON(t, schemaAtPath(t, s, "properties", "receipt"), tt.want)
			if got := allOfWithComment(s, "only approvals carry a receipt") != nil; got != tt.dynamic {
				t.Errorf("if/then for receipt: %v, want %v", got, tt.dynamic)
			}
		})
	}
	late := mustCompile(t, tb, "LATE", LevelVendor)
	checkInstances(t, late, []instance{
		{`{"status": "APPROVED", "receipt": "r", "meta": {"phase": "late", "retry": false}}`, true},
		{`{"status": "DENIED", "receipt": "r", "meta": {"phase": "late", "retry": false}}`, false},
		{`{"status": "PENDING", "meta": {"phase": "late", "retry": true}}`, true},
		{`{"status": "PENDING", "meta": {"phase": "late"}}`, false},  // nested case, still checked
		{`{"status": "PENDING", "meta": {"phase": "early"}}`, false}, // const of the match
	})
}

// TestEval covers the three-valued logic of when and unless against the
// values a message fixes.
func TestEval(t *testing.T) {
	a := func(vals ...any) []any { return vals }
	tests := []struct {
		name   string
		cs     Case
		known  map[string]any
		nested bool
		want   truth
	}{
		{"when true", Case{When: map[string][]any{"a": a("x")}}, map[string]any{"/a": "x"}, false, yes},
		{"when one of", Case{When: map[string][]any{"a": a("w", "x")}}, map[string]any{"/a": "x"}, false, yes},
		{"when false", Case{When: map[string][]any{"a": a("x")}}, map[string]any{"/a": "y"}, false, no},
		{"when unknown", Case{When: map[string][]any{"a": a("x")}}, nil, false, unknown},
		{"unless true", Case{Unless: map[string][]any{"a": a("x")}}, map[string]any{"/a": "x"}, false, no},
		{"unless false", Case{Unless: map[string][]any{"a": a("x")}}, map[string]any{"/a": "y"}, false, yes},
		{"unless unknown", Case{Unless: map[string][]any{"a": a("x")}}, nil, false, unknown},
		{"when true unless false", Case{When: map[string][]any{"a": a("x")}, Unless: map[string][]any{"b": a("y")}}, map[string]any{"/a": "x", "/b": "z"}, false, yes},
		{"when true unless true", Case{When: map[string][]any{"a": a("x")}, Unless: map[string][]any{"b": a("y")}}, map[string]any{"/a": "x", "/b": "y"}, false, no},
		{"when true unless unknown", Case{When: map[string][]any{"a": a("x")}, Unless: map[string][]any{"b": a("y")}}, map[string]any{"/a": "x"}, false, unknown},
		{"when false unless unknown", Case{When: map[string][]any{"a": a("x")}, Unless: map[string][]any{"b": a("y")}}, map[string]any{"/a": "q"}, false, no},
		{"when unknown unless true", Case{When: map[string][]any{"a": a("x")}, Unless: map[string][]any{"b": a("y")}}, map[string]any{"/b": "y"}, false, no},
		{"when unknown unless false", Case{When: map[string][]any{"a": a("x")}, Unless: map[string][]any{"b": a("y")}}, map[string]any{"/b": "z"}, false, unknown},
		{"when both known", Case{When: map[string][]any{"a": a("x"), "b": a("y")}}, map[string]any{"/a": "x", "/b": "y"}, false, yes},
		{"when one unknown", Case{When: map[string][]any{"a": a("x"), "b": a("y")}}, map[string]any{"/a": "x"}, false, unknown},
		{"when one false one unknown", Case{When: map[string][]any{"a": a("x"), "b": a("y")}}, map[string]any{"/a": "z"}, false, no},
		{"when pointer", Case{When: map[string][]any{"/m/p": a("late")}}, map[string]any{"/m/p": "late"}, false, yes},
		{"nested row is never decided", Case{When: map[string][]any{"p": a("late")}}, map[string]any{"/p": "late"}, true, unknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := compiler{level: LevelStrict, known: tt.known}
			if c.known == nil {
				c.known = map[string]any{}
			}
			if got := c.eval(tt.cs, !tt.nested); got != tt.want {
				t.Errorf("eval = %v, want %v", got, tt.want)
			}
		})
	}
}

// levelTable has objects at every depth: top, nested, JSON-in-form, array
// items, and a field with level-limited cases and vendor quirks.
const levelTable = `product: levels
encoding: form
messages:
  - {name: M, match: {kind: a}}
fields:
  - {name: kind, required: true, enum: [a, b]}
  - name: doc
    json: true
    type: object
    fields:
      - {name: status, enum: [OK, BAD]}
      - name: owner
        type: object
        fields:
          - {name: id, required: true}
      - name: pages
        type: array
        items:
          type: object
          fields:
            - {name: n, type: integer}
  - name: extra
    cases:
      - when: {kind: [b]}
        required: true
        level: strict
        note: strict wants extra with b
      - when: {kind: [a]}
        absent: true
        level: vendor
        note: vendor drops extra with a
`

// objectSchemas collects the schemas of objects with declared fields,
// following properties and items only (not if/then conditions).
func objectSchemas(s map[string]any, path string, out map[string]map[string]any) {
	props, ok := s["properties"].(map[string]any)
	if ok {
		out[path] = s
		for k, v := range props {
			if m, ok := v.(map[string]any); ok {
				objectSchemas(m, path+"/"+k, out)
			}
		}
	}
	if items, ok := s["items"].(map[string]any); ok {
		objectSchemas(items, path+"/[]", out)
	}
}

// TestCompileLevelAdditionalProperties: level strict closes every object
// (top, nested, JSON-in-form, items); level vendor closes none.
func TestCompileLevelAdditionalProperties(t *testing.T) {
	tb := mustLoad(t, levelTable)
	wantPaths := []string{"", "/doc", "/doc/owner", "/doc/pages/[]"}
	for _, level := range []Level{LevelStrict, LevelVendor} {
		for _, msg := range []string{"", "M"} {
			s := mustCompile(t, tb, msg, level)
			objs := map[string]map[string]any{}
			objectSchemas(s, "", objs)
			for _, p := range wantPaths {
				o, ok := objs[p]
				if !ok {
					t.Errorf("%s %q: no object at %q", level, msg, p)
					continue
				}
				ap, has := o["additionalProperties"]
				switch level {
				case LevelStrict:
					if ap != false {
						t.Errorf("%s %q: %q additionalProperties = %v, want false", level, msg, p, ap)
					}
				case LevelVendor:
					if has {
						t.Errorf("%s %q: %q has additionalProperties %v", level, msg, p, ap)
					}
				}
			}
		}
	}
	for _, tt := range []struct {
		level Level
		ins   []instance
	}{
		{LevelStrict, []instance{
			{`{"kind": "b", "extra": "e", "doc": {"status": "OK", "owner": {"id": "1"}, "pages": [{"n": 1}]}}`, true},
			{`{"kind": "b", "extra": "e", "other": "x"}`, false},
			{`{"kind": "b", "extra": "e", "doc": {"other": 1}}`, false},
			{`{"kind": "b", "extra": "e", "doc": {"owner": {"id": "1", "other": 1}}}`, false},
			{`{"kind": "b", "extra": "e", "doc": {"pages": [{"n": 1, "other": 1}]}}`, false},
		}},
		{LevelVendor, []instance{
			{`{"kind": "b", "other": "x", "doc": {"other": 1, "owner": {"id": "1", "other": 1}, "pages": [{"other": 1}]}}`, true},
			{`{"kind": "b", "doc": {"owner": {}}}`, false}, // required still holds
			{`{"kind": "b", "doc": {"pages": [{"n": "1"}]}}`, false},
		}},
	} {
		checkInstances(t, mustCompile(t, tb, "", tt.level), tt.ins)
	}
}

// TestCompileCaseLevels: a case limited to one level is left out of the
// other.
func TestCompileCaseLevels(t *testing.T) {
	tb := mustLoad(t, levelTable)
	strict := mustCompile(t, tb, "", LevelStrict)
	vendor := mustCompile(t, tb, "", LevelVendor)
	if allOfWithComment(strict, "strict wants extra with b") == nil || allOfWithComment(strict, "vendor drops extra with a") != nil {
		t.Errorf("strict envelope has the wrong cases:\n%s", jsonText(t, strict))
	}
	if allOfWithComment(vendor, "strict wants extra with b") != nil || allOfWithComment(vendor, "vendor drops extra with a") == nil {
		t.Errorf("vendor envelope has the wrong cases:\n%s", jsonText(t, vendor))
	}
	checkInstances(t, strict, []instance{
		{`{"kind": "b"}`, false},
		{`{"kind": "a", "extra": "e"}`, true},
	})
	checkInstances(t, vendor, []instance{
		{`{"kind": "b"}`, true},
		{`{"kind": "a", "extra": "e"}`, false},
	})
	// The message M fixes kind a: the vendor case applies statically, the
	// strict case is decided false.
	sameJSON(t, schemaAtPath(t, mustCompile(t, tb, "M", LevelVendor), "properties", "extra"),
		`{"not": {}, "$comment": "vendor drops extra with a"}`)
	mStrict := mustCompile(t, tb, "M", LevelStrict)
	sameJSON(t, schemaAtPath(t, mStrict, "properties", "extra"), `{"type": "string"}`)
	if hasKeyword(mStrict, "if") {
		t.Errorf("M strict has an if:\n%s", jsonText(t, mStrict))
	}
}

// vendorTable has one row per vendor quirk.
const vendorTable = `product: quirks
encoding: json
messages:
  - {name: M, match: {kind: a}}
fields:
  - name: kind
    required: true
    enum: [a, b]
    vendor: {open: true, note: more kinds exist}
  - name: flag
    type: boolean
    vendor:
      type: [boolean, string]
      enum: [true, false, "true", "false"]
  - name: code
    enum: [X, Y]
    vendor: {nullable: true}
  - name: detail
    type: object
    fields:
      - {name: id}
    vendor: {nullable: true}
  - name: when
    format: date
    vendor: {format: jumio-timestamp}
  - name: size
    type: integer
    vendor: {enum: [1, 2, 3]}
  - {name: tag, nullable: true, enum: [p, q]}
`

// TestCompileVendorOverrides: the override applies at level vendor only.
func TestCompileVendorOverrides(t *testing.T) {
	tb := mustLoad(t, vendorTable)
	tests := []struct {
		field          string
		strict, vendor string
	}{
		{"kind", `{"type": "string", "enum": ["a", "b"]}`, `{"type": "string"}`},
		{"flag", `{"type": "boolean"}`, `{"type": ["boolean", "string"], "enum": [true, false, "true", "false"]}`},
		{"code", `{"type": "string", "enum": ["X", "Y"]}`, `{"type": ["string", "null"], "enum": ["X", "Y", null]}`},
		{"when", `{"type": "string", "format": "date"}`, `{"type": "string", "format": "jumio-timestamp"}`},
		{"size", `{"type": "integer"}`, `{"type": "integer", "enum": [1, 2, 3]}`},
		{"tag", `{"type": ["string", "null"], "enum": ["p", "q", null]}`, `{"type": ["string", "null"], "enum": ["p", "q", null]}`},
	}
	strict := mustCompile(t, tb, "", LevelStrict)
	vendor := mustCompile(t, tb, "", LevelVendor)
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			sameJSON(t, schemaAtPath(t, strict, "properties", tt.field), tt.strict)
			sameJSON(t, schemaAtPath(t, vendor, "properties", tt.field), tt.vendor)
		})
	}
	if got := schemaAtPath(t, vendor, "properties", "detail")["type"]; !reflect.DeepEqual(got, []string{"object", "null"}) {
		t.Errorf("vendor detail type = %v, want [object null]", got)
	}
	if got := schemaAtPath(t, strict, "properties", "detail")["type"]; got != "object" {
		t.Errorf("strict detail type = %v, want object", got)
	}
	checkInstances(t, strict, []instance{
		{`{"kind": "a", "flag": true, "code": "X", "detail": {"id": "1"}, "when": "2024-02-29", "size": 7, "tag": null}`, true},
		{`{"kind": "c"}`, false},
		{`{"kind": "a", "flag": "true"}`, false},
		{`{"kind": "a", "code": null}`, false},
		{`{"kind": "a", "detail": null}`, false},
		{`{"kind": "a", "when": "2024-02-30"}`, false},
		{`{"kind": "a", "when": "2024-02-29T10:00:00Z"}`, false},
	})
	checkInstances(t, vendor, []instance{
		{`{"kind": "c", "flag": "true", "code": null, "detail": null, "when": "2024-02-29T10:00:00.123Z", "size": 3}`, true},
		{`{"kind": "a", "flag": "yes"}`, false},
		{`{"kind": "a", "code": "Z"}`, false},
		{`{"kind": "a", "when": "2024-02-29"}`, false},
		{`{"kind": "a", "size": 7}`, false},
		{`{"kind": 1}`, false},
	})
}

// TestCompilePlainString: vendor.plainString lets a JSON-in-form field be
// a plain string at level vendor; JSONFields says so too.
func TestCompilePlainString(t *testing.T) {
	tb := mustLoad(t, `product: form
encoding: form
messages:
  - {name: M, match: {kind: a}}
fields:
  - {name: kind, required: true, enum: [a]}
  - name: images
    json: true
    type: [array, object]
    items: {format: url}
    vendor: {plainString: true, format: url}
  - name: scores
    json: true
    type: array
    items: {type: number}
`)
	if tb.ContentType() != "application/x-www-form-urlencoded" {
		t.Errorf("ContentType = %q", tb.ContentType())
	}
	sameJSON(t, schemaAtPath(t, mustCompile(t, tb, "", LevelStrict), "properties", "images"),
		`{"type": ["array", "object"], "items": {"type": "string", "format": "url"}}`)
	vendor := mustCompile(t, tb, "", LevelVendor)
	sameJSON(t, schemaAtPath(t, vendor, "properties", "images"),
		`{"type": ["array", "object", "string"], "format": "url", "items": {"type": "string", "format": "url"}}`)
	checkInstances(t, vendor, []instance{
		{`{"kind": "a", "images": "https://example.com/a.png"}`, true},
		{`{"kind": "a", "images": "not a url"}`, false},
		{`{"kind": "a", "images": ["https://example.com/a.png"], "scores": [1, 2.5]}`, true},
		{`{"kind": "a", "scores": "1"}`, false},
	})
	for _, tt := range []struct {
		level Level
		want  map[string]JSONField
	}{
		{LevelStrict, map[string]JSONField{"images": {}, "scores": {}}},
		{LevelVendor, map[string]JSONField{"images": {PlainString: true}, "scores": {}}},
	} {
		if got := tb.JSONFields(tt.level); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("JSONFields(%s) = %v, want %v", tt.level, got, tt.want)
		}
	}
}

// TestCompilePairs: each value of the field goes with one value of its
// sibling: both get an enum in document order, and each pair is an
// if/then.
func TestCompilePairs(t *testing.T) {
	tb := mustLoad(t, `product: pairs
encoding: json
messages:
  - {name: M, match: {kind: a}}
fields:
  - {name: kind, required: true, enum: [a]}
  - name: code
    pairs:
      with: text
      values:
        "200": UNREADABLE
        "100": FRAUD
  - {name: text}
  - name: detail
    type: array
    items:
      type: object
      fields:
        - name: dcode
          pairs: {with: dtext, values: {"1": ONE, "2": TWO}}
        - {name: dtext, enum: [ONE, TWO, THREE]}
`)
	for _, msg := range []string{"", "M"} {
		s := mustCompile(t, tb, msg, LevelStrict)
		sameJSON(t, schemaAtPath(t, s, "properties", "code"), `{"type": "string", "enum": ["200", "100"]}`)
		sameJSON(t, schemaAtPath(t, s, "properties", "text"), `{"type": "string", "enum": ["UNREADABLE", "FRAUD"]}`)
		all, _ := s["allOf"].([]any)
		sameJSON(t, all, `[
			{"if": {"properties": {"code": {"const": "200"}}, "required": ["code"]},
			 "then": {"properties": {"text": {"const": "UNREADABLE", "$comment": "code 200 goes with text UNREADABLE"}}}},
			{"if": {"properties": {"code": {"const": "100"}}, "required": ["code"]},
			 "then": {"properties": {"text": {"const": "FRAUD", "$comment": "code 100 goes with text FRAUD"}}}}]`)
		// The sibling's own enum is kept.
		items := schemaAtPath(t, s, "properties", "detail", "items")
		sameJSON(t, schemaAtPath(t, items, "properties", "dtext"), `{"type": "string", "enum": ["ONE", "TWO", "THREE"]}`)
		if n := len(items["allOf"].([]any)); n != 2 {
			t.Errorf("items allOf has %d entries, want 2", n)
		}
		checkInstances(t, s, []instance{
			{`{"kind": "a", "code": "100", "text": "FRAUD"}`, true},
			{`{"kind": "a", "code": "200", "text": "UNREADABLE"}`, true},
			{`{"kind": "a", "code": "100", "text": "UNREADABLE"}`, false},
			{`{"kind": "a", "code": "300"}`, false},
			{`{"kind": "a", "text": "SOMETHING"}`, false},
			{`{"kind": "a", "code": "100"}`, true}, // pairs do not make text required
			{`{"kind": "a", "detail": [{"dcode": "1", "dtext": "ONE"}, {"dtext": "THREE"}]}`, true},
			{`{"kind": "a", "detail": [{"dcode": "2", "dtext": "ONE"}]}`, false},
		})
	}
}

// TestCompileMatchConst: the values of the message's match become const at
// their pointer, also inside a JSON-in-form object.
func TestCompileMatchConst(t *testing.T) {
	tb := mustLoad(t, `product: docs
encoding: form
messages:
  - name: EXTRACTED
    summary: Data was extracted.
    match: {/document/status: EXTRACTED}
  - name: FAILED_UPLOAD
    match: {/transaction/status: FAILED, source: UPLOAD}
fields:
  - {name: source, required: true, enum: [UPLOAD, API]}
  - name: transaction
    json: true
    type: object
    required: true
    fields:
      - {name: status, required: true, enum: [DONE, FAILED]}
  - name: document
    json: true
    type: object
    cases:
      - when: {/transaction/status: [FAILED]}
        absent: true
        note: no document when the transaction failed
    fields:
      - {name: status, required: true, enum: [UPLOADED, EXTRACTED]}
`)
	ex := mustCompile(t, tb, "EXTRACTED", LevelStrict)
	if ex["title"] != "docs EXTRACTED" || ex["description"] != "Data was extracted." || ex["$schema"] != Draft07 {
		t.Errorf("title %v, description %v, $schema %v", ex["title"], ex["description"], ex["$schema"])
	}
	sameJSON(t, schemaAtPath(t, ex, "properties", "document", "properties", "status"),
		`{"type": "string", "enum": ["UPLOADED", "EXTRACTED"], "const": "EXTRACTED", "$comment": "message EXTRACTED has document/status = EXTRACTED"}`)
	if _, has := schemaAtPath(t, ex, "properties", "source")["const"]; has {
		t.Errorf("EXTRACTED fixes source")
	}
	checkInstances(t, ex, []instance{
		{`{"source": "API", "transaction": {"status": "DONE"}, "document": {"status": "EXTRACTED"}}`, true},
		{`{"source": "API", "transaction": {"status": "DONE"}, "document": {"status": "UPLOADED"}}`, false},
		{`{"source": "API", "transaction": {"status": "FAILED"}, "document": {"status": "EXTRACTED"}}`, false},
	})

	fu := mustCompile(t, tb, "FAILED_UPLOAD", LevelStrict)
	if _, has := fu["description"]; has {
		t.Errorf("description without a summary: %v", fu["description"])
	}
	sameJSON(t, schemaAtPath(t, fu, "properties", "source"),
		`{"type": "string", "enum": ["UPLOAD", "API"], "const": "UPLOAD", "$comment": "message FAILED_UPLOAD has source = UPLOAD"}`)
	sameJSON(t, schemaAtPath(t, fu, "properties", "transaction", "properties", "status"),
		`{"type": "string", "enum": ["DONE", "FAILED"], "const": "FAILED", "$comment": "message FAILED_UPLOAD has transaction/status = FAILED"}`)
	// The pointer condition is decided by the match: document is absent.
	sameJSON(t, schemaAtPath(t, fu, "properties", "document"), `{"not": {}, "$comment": "no document when the transaction failed"}`)
	checkInstances(t, fu, []instance{
		{`{"source": "UPLOAD", "transaction": {"status": "FAILED"}}`, true},
		{`{"source": "API", "transaction": {"status": "FAILED"}}`, false},
		{`{"source": "UPLOAD", "transaction": {"status": "FAILED"}, "document": {"status": "UPLOADED"}}`, false},
	})
	// In the envelope the pointer condition is an if on the nested value.
	env := mustCompile(t, tb, "", LevelStrict)
	sameJSON(t, allOfWithComment(env, "no document when the transaction failed"), `{
		"if": {"properties": {"transaction": {"properties": {"status": {"enum": ["FAILED"]}}, "required": ["status"]}}, "required": ["transaction"]},
		"then": {"$comment": "no document when the transaction failed",
			"properties": {"document": {"not": {}, "$comment": "no document when the transaction failed"}}}}`)
	checkInstances(t, env, []instance{
		{`{"source": "API", "transaction": {"status": "FAILED"}}`, true},
		{`{"source": "API", "transaction": {"status": "FAILED"}, "document": {"status": "UPLOADED"}}`, false},
		{`{"source": "API", "transaction": {"status": "DONE"}, "document": {"status": "UPLOADED"}}`, true},
	})
}

// TestCompileErrors: an unknown message or a level name that is not one.
func TestCompileErrors(t *testing.T) {
	tb := mustLoad(t, demoTable)
	s, err := tb.Compile("NOPE", LevelStrict)
	if err == nil || s != nil {
		t.Fatalf("Compile(NOPE) = %v, %v; want an error", s, err)
	}
	if want := `demo has no message "NOPE"`; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	for _, tt := range []struct {
		in   string
		want Level
		err  bool
	}{
		{"strict", LevelStrict, false},
		{"vendor", LevelVendor, false},
		{"", "", true},
		{"Strict", "", true},
		{"lenient", "", true},
	} {
		got, err := ParseLevel(tt.in)
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("ParseLevel(%q) = %q, %v", tt.in, got, err)
		}
	}
}

// TestCompileRowKeywords: the plain keywords of a row.
func TestCompileRowKeywords(t *testing.T) {
	tb := mustLoad(t, `product: kw
encoding: json
messages: [{name: M, match: {kind: a}}]
fields:
  - {name: kind, required: true, enum: [a]}
  - {name: ref, maxLength: 4, pattern: "^[A-Z]+$", note: A reference.}
  - {name: tags, type: array, minItems: 2, items: {enum: [p, q]}}
  - {name: born, format: date}
  - {name: any, type: any}
  - {name: score, type: [integer, string], schema: {minimum: 0}}
`)
	s := mustCompile(t, tb, "", LevelStrict)
	for _, tt := range []struct{ field, want string }{
		{"ref", `{"type": "string", "maxLength": 4, "pattern": "^[A-Z]+$", "description": "A reference."}`},
		{"tags", `{"type": "array", "minItems": 2, "items": {"type": "string", "enum": ["p", "q"]}}`},
		{"born", `{"type": "string", "format": "date"}`},
		{"any", `{}`},
		{"score", `{"type": ["integer", "string"], "allOf": [{"minimum": 0}]}`},
	} {
		sameJSON(t, schemaAtPath(t, s, "properties", tt.field), tt.want)
	}
	checkInstances(t, s, []instance{
		{`{"kind": "a", "ref": "ABCD", "tags": ["p", "q"], "born": "2000-01-31", "any": {"x": [1]}, "score": 3}`, true},
		{`{"kind": "a", "score": "-1"}`, true},
		{`{"kind": "a", "ref": "ABCDE"}`, false},
		{`{"kind": "a", "ref": "abc"}`, false},
		{`{"kind": "a", "tags": ["p"]}`, false},
		{`{"kind": "a", "tags": ["p", "r"]}`, false},
		{`{"kind": "a", "born": "2000-02-30"}`, false},
		{`{"kind": "a", "score": -1}`, false},
		{`{"kind": "a", "score": 1.5}`, false},
	})
}

// TestCompileDeterministic: compiling every message at both levels, in
// any order, leaves later compilations unchanged.
func TestCompileDeterministic(t *testing.T) {
	tb := mustLoad(t, demoTable)
	before := jsonText(t, mustCompile(t, tb, "", LevelStrict))
	for _, level := range []Level{LevelStrict, LevelVendor} {
		for _, m := range []string{"APPROVED", "DENIED", "LATE", ""} {
			mustCompile(t, tb, m, level)
		}
	}
	if after := jsonText(t, mustCompile(t, tb, "", LevelStrict)); after != before {
		t.Errorf("envelope changed after other compilations:\n%s", lineDiff(before, after))
	}
}

// TestCompileOutputIsOwned: a caller changing a compiled schema must not
// change the table (and so later compilations).
func TestCompileOutputIsOwned(t *testing.T) {
	for _, src := range []string{demoTable, ownedTable} {
		tb := mustLoad(t, src)
		before := jsonText(t, mustCompile(t, tb, "", LevelStrict))
		for _, level := range []Level{LevelStrict, LevelVendor} {
			for _, m := range append([]string{""}, messageNames(tb)...) {
				scribble(mustCompile(t, tb, m, level))
			}
		}
		if after := jsonText(t, mustCompile(t, tb, "", LevelStrict)); after != before {
			t.Errorf("%s: a caller that edits a compiled schema edits the table (Compile's output shares slices or maps with it):\n%s", tb.Product, lineDiff(before, after))
		}
	}
}

// ownedTable puts maps and slices of the table in every place a compiled
// schema can take them from: row and case schemas, enums of objects, and
// condition values, decided and not.
const ownedTable = `product: owned
encoding: json
messages: [{name: M, match: {kind: a}}]
fields:
  - {name: kind, required: true, enum: [a, b]}
  - name: obj
    type: object
    enum: [{k: [1, 2]}, {k: []}]
    vendor: {enum: [{k: [1]}]}
    schema: {not: {required: [x]}, properties: {k: {items: {enum: [1, 2]}}}}
    cases:
      - {when: {kind: [a]}, enum: [{k: [1, 2]}], schema: {minProperties: 1, allOf: [{maxProperties: 3}]}}
      - {when: {kind: [b], other: [[1], {z: 2}]}, enum: [{k: []}], schema: {allOf: [{maxProperties: 2}]}}
  - {name: other, type: any}
`

// scribble changes every map and slice reachable from v.
func scribble(v any) {
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			scribble(e)
		}
		x["scribbled"] = true
	case []any:
		for i := range x {
			scribble(x[i])
			if _, ok := x[i].(string); ok {
				x[i] = "scribbled"
			}
		}
	}
}

// agreement tables: for an instance that matches message M, the envelope
// (conditions checked at validation time) and M's schema (conditions
// decided at compile time) must give the same verdict.
var agreementTests = []struct {
	name      string
	table     string
	message   string
	instances []string
	bug       string
}{
	{
		name:    "demo",
		table:   demoTable,
		message: "APPROVED",
		instances: []string{
			`{"status": "APPROVED"}`,
			`{"status": "APPROVED", "result": "FAIL"}`,
			`{"status": "APPROVED", "reason": "r"}`,
			`{"status": "APPROVED", "receipt": "r", "result": "OK"}`,
		},
	},
	{
		name:    "demo denied",
		table:   demoTable,
		message: "DENIED",
		instances: []string{
			`{"status": "DENIED"}`,
			`{"status": "DENIED", "reason": "r"}`,
			`{"status": "DENIED", "reason": "r", "receipt": "x"}`,
		},
	},
	{
		name: "enum and schema in one case",
		table: `product: p
encoding: json
messages: [{name: M, match: {kind: a}}]
fields:
  - {name: kind, required: true, enum: [a, b]}
  - name: w
    cases:
      - {when: {kind: [a]}, enum: [x, yy], schema: {maxLength: 1}}
`,
		message:   "M",
		instances: []string{`{"kind": "a", "w": "x"}`, `{"kind": "a", "w": "yy"}`, `{"kind": "a", "w": "z"}`},
	},
	{
		name: "absent and enum in one case",
		table: `product: p
encoding: json
messages: [{name: M, match: {kind: a}}]
fields:
  - {name: kind, required: true, enum: [a, b]}
  - name: w
    cases:
      - {when: {kind: [a]}, absent: true, enum: [x]}
`,
		message:   "M",
		instances: []string{`{"kind": "a"}`, `{"kind": "a", "w": "x"}`},
	},
	{
		name: "two enum cases",
		table: `product: p
encoding: json
messages: [{name: M, match: {kind: a}}]
fields:
  - {name: kind, required: true, enum: [a, b]}
  - name: w
    cases:
      - {when: {kind: [a]}, enum: [x, y]}
      - {when: {kind: [a]}, enum: [y, z]}
`,
		message:   "M",
		instances: []string{`{"kind": "a", "w": "y"}`, `{"kind": "a", "w": "z"}`, `{"kind": "a", "w": "x"}`},
	},
	{
		name: "case enum outside the row enum",
		table: `product: p
encoding: json
messages: [{name: M, match: {kind: a}}]
fields:
  - {name: kind, required: true, enum: [a, b]}
  - name: w
    enum: [x, y]
    cases:
      - {when: {kind: [a]}, enum: [y, z]}
`,
		message:   "M",
		instances: []string{`{"kind": "a", "w": "y"}`, `{"kind": "a", "w": "z"}`, `{"kind": "a", "w": "x"}`},
	},
	{
		name: "unquoted number in a condition",
		table: `product: p
encoding: form
messages: [{name: M, match: {code: "100"}}]
fields:
  - {name: code, required: true, enum: ["100", "200"]}
  - name: w
    cases:
      - {when: {code: [100]}, required: true}
`,
		message:   "M",
		instances: []string{`{"code": "100"}`, `{"code": "100", "w": "x"}`},
	},
	{
		name: "required row absent by a case",
		table: `product: p
encoding: json
messages: [{name: M, match: {kind: a}}]
fields:
  - {name: kind, required: true, enum: [a, b]}
  - name: w
    required: true
    cases:
      - {when: {kind: [a]}, absent: true}
`,
		message:   "M",
		instances: []string{`{"kind": "a"}`, `{"kind": "a", "w": "x"}`},
	},
	{
		name: "pair sibling of an absent field",
		table: `product: p
encoding: json
messages: [{name: M, match: {kind: a}}]
fields:
  - {name: kind, required: true, enum: [a, b]}
  - name: code
    pairs: {with: text, values: {"1": ONE}}
    cases:
      - {when: {kind: [a]}, absent: true}
  - {name: text}
`,
		message:   "M",
		instances: []string{`{"kind": "a", "text": "ONE"}`, `{"kind": "a", "text": "OTHER"}`},
	},
	{
		name: "case enum on a pair's sibling",
		table: `product: p
encoding: json
messages: [{name: M, match: {kind: a}}]
fields:
  - {name: kind, required: true, enum: [a, b]}
  - name: code
    pairs: {with: text, values: {"1": ONE}}
  - name: text
    cases:
      - {when: {kind: [a]}, enum: [ONE, TWO]}
`,
		message:   "M",
		instances: []string{`{"kind": "a", "text": "ONE"}`, `{"kind": "a", "text": "TWO"}`},
	},
	{
		name: "case enum on a paired field",
		table: `product: p
encoding: json
messages: [{name: M, match: {kind: a}}]
fields:
  - {name: kind, required: true, enum: [a, b]}
  - name: code
    pairs: {with: text, values: {"1": ONE, "2": TWO}}
    cases:
      - {when: {kind: [a]}, enum: ["1", "3"]}
  - {name: text}
`,
		message:   "M",
		instances: []string{`{"kind": "a", "code": "1"}`, `{"kind": "a", "code": "2"}`, `{"kind": "a", "code": "3"}`},
	},
	{
		name: "two enum cases with no value in common",
		table: `product: p
encoding: json
messages: [{name: M, match: {kind: a}}]
fields:
  - {name: kind, required: true, enum: [a, b]}
  - name: w
    cases:
      - {when: {kind: [a]}, enum: [x]}
      - {when: {kind: [a]}, enum: [y]}
`,
		message:   "M",
		instances: []string{`{"kind": "a"}`, `{"kind": "a", "w": "x"}`, `{"kind": "a", "w": "y"}`},
	},
}

// TestEnvelopeAgreesWithMessage checks that deciding cases at compile time
// does not change what is valid.
func TestEnvelopeAgreesWithMessage(t *testing.T) {
	for _, tt := range agreementTests {
		t.Run(tt.name, func(t *testing.T) {
			tb := mustLoad(t, tt.table)
			for _, level := range []Level{LevelStrict, LevelVendor} {
				env := mustRealSchema(t, mustCompile(t, tb, "", level))
				msg := mustRealSchema(t, mustCompile(t, tb, tt.message, level))
				for _, in := range tt.instances {
					v := decodeJSON(t, in)
					envErr, msgErr := env.Validate(v), msg.Validate(v)
					if (envErr == nil) != (msgErr == nil) {
						if tt.bug != "" {
							t.Skipf("known bug: %s (instance %s: envelope %v, %s %v)", tt.bug, in, envErr, tt.message, msgErr)
						}
						t.Errorf("%s %s: envelope says %v, message %s says %v", level, in, envErr, tt.message, msgErr)
					}
				}
			}
		})
	}
}

// invalidSchemaTests are tables Load accepts that compile to schemas a
// draft-07 validator refuses (or that are not JSON).
var invalidSchemaTests = []struct {
	name  string
	table string
	bug   string
}{
	{
		name: "any in a type list",
		table: `product: p
encoding: json
messages: [{name: M, match: {kind: a}}]
fields:
  - {name: kind, required: true, enum: [a]}
  - {name: v, type: [any, "null"]}
`,
	},
	{
		name: "empty when with unless",
		table: `product: p
encoding: json
messages: [{name: M, match: {kind: a}}]
fields:
  - {name: kind, required: true, enum: [a, b]}
  - name: w
    cases:
      - {when: {}, unless: {kind: [b]}, required: true}
`,
	},
	{
		name: "empty enum",
		table: `product: p
encoding: json
messages: [{name: M, match: {kind: a}}]
fields:
  - {name: kind, required: true, enum: [a]}
  - {name: v, enum: []}
`,
		// Found by FuzzLoad (testdata/fuzz/FuzzLoad/d37eece2caa239a9):
		// compiled to "enum": null; Load refuses it since cb47cac.
	},
	{
		name: "pattern that is not a regular expression",
		table: `product: p
encoding: json
messages: [{name: M, match: {kind: a}}]
fields:
  - {name: kind, required: true, enum: [a]}
  - {name: v, pattern: "([A-Z]"}
`,
	},
	{
		name: "enum value with a non-string key",
		table: `product: p
encoding: json
messages: [{name: M, match: {kind: a}}]
fields:
  - {name: kind, required: true, enum: [a]}
  - {name: v, type: object, enum: [{1: one}]}
`,
	},
	{
		name: "NaN in a number enum",
		table: `product: p
encoding: json
messages: [{name: M, match: {kind: a}}]
fields:
  - {name: kind, required: true, enum: [a]}
  - {name: v, type: number, enum: [1.5, .nan]}
`,
	},
	{
		name: "nullable row whose enum lists null",
		table: `product: p
encoding: json
messages: [{name: M, match: {kind: a}}]
fields:
  - {name: kind, required: true, enum: [a, b]}
  - {name: v, type: [string, "null"], nullable: true, enum: [x, null]}
`,
	},
	{
		name: "pairs with one description for two codes",
		table: `product: p
encoding: json
messages: [{name: M, match: {kind: a}}]
fields:
  - {name: kind, required: true, enum: [a, b]}
  - name: code
    pairs: {with: text, values: {"1": SAME, "2": SAME}}
  - {name: text}
`,
	},
}

// TestCompiledSchemasAreValid: whatever Load accepts must compile to
// schemas a draft-07 validator accepts.
func TestCompiledSchemasAreValid(t *testing.T) {
	for _, tt := range invalidSchemaTests {
		t.Run(tt.name, func(t *testing.T) {
			tb, err := Load("t.yaml", []byte(tt.table), nil)
			if err != nil {
				return // refusing the table is a fine fix
			}
			var failures []string
			for _, level := range []Level{LevelStrict, LevelVendor} {
				for _, m := range []string{"", "M"} {
					s, err := tb.Compile(m, level)
					if err != nil {
						failures = append(failures, err.Error())
						continue
					}
					if _, err := realSchema(s); err != nil {
						failures = append(failures, string(level)+" "+m+": "+err.Error())
					}
				}
			}
			if len(failures) > 0 {
				if tt.bug != "" {
					t.Skipf("known bug: %s\n%s", tt.bug, strings.Join(failures, "\n"))
				}
				t.Error(strings.Join(failures, "\n"))
			}
		})
	}
}

// decidedTests: validating against CompileDecided, with the undecided
// top-level cases decided by TopCase.Holds on the payload (what the spec
// catalog does), must give the verdict of the if/then schema.
var decidedTests = []struct {
	name      string
	table     string
	level     Level
	instances []string
	bug       string
}{
	{
		name:  "demo",
		table: demoTable,
		level: LevelStrict,
		instances: []string{
			`{"status": "APPROVED", "result": "OK"}`,
			`{"status": "APPROVED", "result": "FAIL"}`,
			`{"status": "APPROVED", "reason": "r"}`,
			`{"status": "DENIED"}`,
			`{"status": "DENIED", "reason": "r", "receipt": "x"}`,
			`{"status": "PENDING", "receipt": "x"}`,
			`{"status": null, "receipt": "x"}`,
			`{"receipt": "x"}`,
			`{"status": 1, "reason": "r"}`,
		},
	},
	{
		name: "pointer conditions",
		table: `product: p
encoding: form
messages: [{name: M, match: {kind: a}}]
fields:
  - {name: kind, required: true, enum: [a, b]}
  - name: tx
    json: true
    type: object
    fields: [{name: status, enum: [DONE, FAILED]}]
  - name: doc
    json: true
    type: object
    cases:
      - {when: {/tx/status: [DONE]}, required: true}
      - {when: {/tx/status: [FAILED]}, absent: true}
`,
		level: LevelVendor,
		instances: []string{
			`{"kind": "a", "tx": {"status": "DONE"}}`,
			`{"kind": "a", "tx": {"status": "DONE"}, "doc": {}}`,
			`{"kind": "a", "tx": {"status": "FAILED"}, "doc": {}}`,
			`{"kind": "a", "tx": {}, "doc": {}}`,
			`{"kind": "a"}`,
		},
	},
	{
		name: "number written as 1.0",
		table: `product: p
encoding: json
messages: [{name: M, match: {kind: a}}]
fields:
  - {name: kind, required: true, enum: [a, b]}
  - {name: n, type: number}
  - name: x
    cases:
      - {when: {n: [1]}, required: true}
`,
		level:     LevelStrict,
		instances: []string{`{"kind": "a", "n": 1}`, `{"kind": "a", "n": 2}`, `{"kind": "a", "n": 1.0}`, `{"kind": "a", "n": 1e0}`},
	},
	{
		name: "pointer through a plain string",
		table: `product: p
encoding: form
messages: [{name: M, match: {kind: a}}]
fields:
  - {name: kind, required: true, enum: [a, b]}
  - name: doc
    json: true
    type: object
    fields: [{name: status, enum: [X, Y]}]
    vendor: {plainString: true}
  - name: x
    cases:
      - {when: {/doc/status: [X]}, required: true}
`,
		level:     LevelVendor,
		instances: []string{`{"kind": "a", "doc": {"status": "X"}}`, `{"kind": "a", "doc": {"status": "Y"}}`, `{"kind": "a", "doc": "plain"}`},
	},
	{
		name: "pointer through a nullable object",
		table: `product: p
encoding: json
messages: [{name: M, match: {kind: a}}]
fields:
  - {name: kind, required: true, enum: [a, b]}
  - name: doc
    type: object
    nullable: true
    fields: [{name: status, enum: [X, Y]}]
  - name: x
    cases:
      - {when: {/doc/status: [X]}, required: true}
`,
		level:     LevelStrict,
		instances: []string{`{"kind": "a", "doc": {"status": "X"}}`, `{"kind": "a", "doc": {}}`, `{"kind": "a", "doc": null}`},
	},
}

// TestCompileDecidedAgrees compares, per instance, the if/then schema of
// the envelope and of each message with the schema CompileDecided builds
// for the cases Undecided lists, decided by Holds.
func TestCompileDecidedAgrees(t *testing.T) {
	for _, tt := range decidedTests {
		t.Run(tt.name, func(t *testing.T) {
			tb := mustLoad(t, tt.table)
			for _, msg := range append([]string{""}, messageNames(tb)...) {
				full := mustRealSchema(t, mustCompile(t, tb, msg, tt.level))
				cases := tb.Undecided(msg, tt.level)
				for _, in := range tt.instances {
					v := decodeJSON(t, in)
					decided := map[int]bool{}
					for _, tc := range cases {
						if tc.ID < 0 {
							t.Errorf("Undecided lists a nested case: %+v", tc)
						}
						decided[tc.ID] = tc.Holds(func(ptr string) (any, bool) { return asyncapi.Lookup(v, ptr) })
					}
					s, err := tb.CompileDecided(msg, tt.level, decided)
					if err != nil {
						t.Fatalf("CompileDecided(%q): %v", msg, err)
					}
					if hasTopIf(s) {
						t.Errorf("CompileDecided(%q, %v) left a top-level if:\n%s", msg, decided, jsonText(t, s))
					}
					fullErr, decErr := full.Validate(v), mustRealSchema(t, s).Validate(v)
					if (fullErr == nil) != (decErr == nil) {
						if tt.bug != "" {
							t.Skipf("known bug: %s (message %q, instance %s: if/then %v; decided %v)", tt.bug, msg, in, fullErr, decErr)
						}
						t.Errorf("message %q, instance %s: if/then schema says %v, decided schema says %v", msg, in, fullErr, decErr)
					}
				}
			}
		})
	}
}

// hasTopIf reports an if/then in the allOf of the top object.
func hasTopIf(s map[string]any) bool {
	all, _ := s["allOf"].([]any)
	for _, e := range all {
		if m, ok := e.(map[string]any); ok {
			if _, has := m["if"]; has {
				// Pairs are if/thens too; they are not cases.
				if then, ok := m["then"].(map[string]any); ok {
					if _, isCase := then["$comment"]; isCase {
						return true
					}
				}
			}
		}
	}
	return false
}

// TestUndecided: the cases a message's match does not decide, with their
// conditions as pointers, at a level.
func TestUndecided(t *testing.T) {
	tb := mustLoad(t, demoTable)
	notes := func(cases []TopCase) []string {
		var out []string
		for _, tc := range cases {
			for _, f := range tb.Fields {
				for _, cs := range f.Cases {
					if cs.ID == tc.ID {
						out = append(out, cs.Note)
					}
				}
			}
			for k := range tc.When {
				if !strings.HasPrefix(k, "/") {
					t.Errorf("condition key %q is not a pointer", k)
				}
			}
		}
		slices.Sort(out)
		return out
	}
	all := []string{"a denial carries a reason", "an approval carries no reason", "only approvals carry a receipt", "result is OK when status is APPROVED"}
	for _, tt := range []struct {
		msg  string
		want []string
	}{
		{"", all},
		{"LATE", all},
		{"APPROVED", nil},
		{"DENIED", nil},
	} {
		if got := notes(tb.Undecided(tt.msg, LevelStrict)); !slices.Equal(got, tt.want) {
			t.Errorf("Undecided(%q) = %v, want %v", tt.msg, got, tt.want)
		}
	}
	// Nested cases have no ID and are never listed.
	for _, f := range tb.fieldAt("/meta").Fields {
		for _, cs := range f.Cases {
			if cs.ID != -1 {
				t.Errorf("nested case ID = %d, want -1", cs.ID)
			}
		}
	}
}
