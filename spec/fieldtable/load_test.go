package fieldtable

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestLoadErrors loads every testdata/errors/NNN-name.yaml, each a small
// table with one mistake, and compares the error of Load (named by the
// file's base name) with NNN-name.golden.
func TestLoadErrors(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "errors", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/errors/*.yaml")
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(strings.TrimSuffix(name, ".yaml"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			tb, err := Load(name, data, knowsDateAndJumio)
			if err == nil {
				t.Fatalf("Load(%s) succeeded, want an error; table:\n%+v", name, tb)
			}
			if tb != nil {
				t.Errorf("Load(%s) returned a table with its error", name)
			}
			checkGolden(t, strings.TrimSuffix(file, ".yaml")+".golden", []byte(err.Error()+"\n"))
		})
	}
}

// TestLoadErrorGoldensHaveFixtures catches golden files left behind by a
// renamed or deleted fixture.
func TestLoadErrorGoldensHaveFixtures(t *testing.T) {
	goldens, err := filepath.Glob(filepath.Join("testdata", "errors", "*.golden"))
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range goldens {
		if _, err := os.Stat(strings.TrimSuffix(g, ".golden") + ".yaml"); err != nil {
			t.Errorf("%s has no fixture: %v", g, err)
		}
	}
}

// errorKinds names the fixture of each error kind the loader must report,
// and whether the error carries a line and column (every one does now:
// checks on the table as a whole are placed at its values). mention is text the error
// must contain besides; bug explains a known bug that makes the checks
// fail (the subtest then skips).
var errorKinds = []struct {
	fixture    string
	positioned bool
	mention    string
	bug        string
}{
	{"001-unknown-top-level-key", true, `unknown key "callbackUrl" in table`, ""},
	{"002-unknown-key-nested-row", true, `unknown key "maxLen" in field row`, ""},
	{"003-unknown-key-in-case", true, `unknown key "otherwise" in case`, ""},
	{"004-unknown-key-in-vendor", true, `unknown key "lenient" in vendor override`, ""},
	{"005-wrong-yaml-type", true, `field "reference": maxLength must be a decimal integer, not "abc"`, ""},
	{"006-unknown-type", true, `unknown type "decimal"`, ""},
	{"007-unknown-format", true, `field "x": unknown format "jumio-time"`, ""},
	{"008-enum-type-mismatch", true, "enum value three does not fit type integer", ""},
	{"009-json-on-nested-row", true, `field "inner": json applies only to top-level rows`, ""},
	{"010-json-in-json-table", true, `field "payload": json applies only to top-level rows of a form table`, ""},
	{"011-form-row-not-string", true, "a form field is a string unless it is marked json", ""},
	{"012-duplicate-field", true, `field "reference" listed twice`, ""},
	{"013-duplicate-message", true, `message "A" declared twice`, ""},
	{"014-match-unknown-field", true, `match names "/status/code", which is not a field`, ""},
	{"015-case-without-condition", true, "case without when or unless", ""},
	{"016-case-no-effect", true, "case has no effect", ""},
	{"017-case-required-and-absent", true, "case is both required and absent", ""},
	{"018-case-bad-level", true, `case level "lenient" is not strict or vendor`, ""},
	{"019-condition-non-sibling", true, `condition on "kind", which is not a sibling field`, ""},
	{"020-pointer-condition-nested", true, "JSON pointer (/kind) in a condition is allowed on top-level rows only", ""},
	{"021-pairs-with-non-sibling", true, `pairs.with names "description", which is not a sibling field`, ""},
	{"022-bad-encoding", true, `encoding: "xml" is not json or form`, ""},
	{"023-empty-fields", true, "fields: no rows", ""},
	{"024-no-messages", true, `table: "messages" is required`, ""},
	{"025-yaml-syntax", true, "did not find expected", ""},
	{"026-unknown-key-in-message", true, `unknown key "priority" in message`, ""},
	{"027-unknown-key-in-pairs", true, `unknown key "strict" in pairs`, ""},
	{"028-unknown-key-in-items", true, `unknown key "fromat" in field row; did you mean "format"?`, ""},
	{"029-vendor-unknown-format", true, `unknown format "jumio-timestamp-ms"`, ""},
	{"030-vendor-unknown-type", true, `unknown type "str"`, ""},
	{"031-vendor-plainstring-not-json", true, "vendor.plainString applies only to JSON-in-form fields", ""},
	{"032-json-in-form-string", true, "decodes to an object or array, not a string", ""},
	{"033-subfields-need-object", true, "sub-fields need type object", ""},
	{"034-items-need-array", true, "items need type array", ""},
	{"035-missing-product", true, `table: "product" is required`, ""},
	{"036-bad-unknown-messages", true, `unknownMessages: "ignore" is not error or warn`, ""},
	{"037-message-without-name", true, "message without a name", ""},
	{"038-message-empty-match", true, `message "B": match is empty`, ""},
	{"039-row-without-name", true, "row without a name", ""},
	{"040-condition-no-values", true, `condition on "kind" lists no values`, ""},
	{"041-pointer-condition-unknown", true, "condition on /status/text, which is not a field of the table", ""},
	{"042-negative-max-length", true, "maxLength below zero", ""},
	{"043-pairs-without-values", true, "pairs without values", ""},
	{"044-root-not-mapping", true, "table: expected a mapping", ""},
	{"045-type-list-nested", true, "type: expected a type name", ""},
	{"046-empty-document", true, "empty document", ""},
	{"047-wrong-yaml-type-nested", true, `field "flags": minItems must be a decimal integer, not a sequence`, ""},
	{"048-case-not-mapping", true, "case: expected a mapping", ""},
	{"049-duplicate-nested-field", true, `field "code" listed twice`, ""},
	{"050-empty-enum", true, `field "grade": enum lists no values`, ""},
	{"051-empty-vendor-enum", true, `field "grade": vendor enum lists no values`, ""},
	{"052-empty-case-enum", true, `field "grade": case enum lists no values`, ""},
	{"053-any-in-type-list", true, `field "v": type any stands alone`, ""},
	{"054-bad-pattern", true, `field "v": pattern "([A-Z]" is not a regular expression`, ""},
	{"055-empty-when", true, `field "w": case when lists no conditions`, ""},
	{"056-nan-in-enum", true, `enum: ".nan" has no JSON form`, ""},
	{"057-non-string-key", true, "enum: mapping key 1 is not a string", ""},
	{"058-timestamp-in-condition", true, "when: 2001-12-14 is a YAML timestamp", ""},
	{"059-merged-unknown-key", true, `unknown key "open" in field row`, ""},
	{"060-duplicate-enum", true, `field "v": enum lists 1 twice`, ""},
	{"061-duplicate-type", true, `field "v": type "string" listed twice`, ""},
	{"062-negative-min-items", true, `field "v": minItems below zero`, ""},
	{"063-duplicate-condition-value", true, `field "w": condition on "kind" lists a twice`, ""},
	{"064-binary-in-enum", true, "enum: a !!binary value is not a JSON value", ""},
	{"065-null-optional-form-table", true, "vendor.nullOptional: applies to JSON tables only", ""},
	{"066-beyond-source-without-note", true, `message "B": beyondSource needs a note`, ""},
	{"067-row-level-without-note", true, `field "sourceKey": a row of one level needs a note`, ""},
	{"068-bad-row-level", true, `field "sourceKey": level "lax" is not strict or vendor`, ""},
	{"069-empty-on-string", true, `field "note": vendor.empty applies to objects and arrays`, ""},
	{"070-unknown-key-in-table-vendor", true, `unknown key "nullsEverywhere" in table vendor override`, ""},
}

// TestLoadErrorKinds checks that every error kind has its fixture and
// golden, that no fixture is left out of the list, and that the golden
// reads "name:line:col: message" wherever the loader knows a position.
func TestLoadErrorKinds(t *testing.T) {
	var listed []string
	for _, k := range errorKinds {
		listed = append(listed, k.fixture+".yaml")
		t.Run(k.fixture, func(t *testing.T) {
			base := filepath.Join("testdata", "errors", k.fixture)
			if _, err := os.Stat(base + ".yaml"); err != nil {
				t.Fatalf("missing fixture: %v", err)
			}
			golden, err := os.ReadFile(base + ".golden")
			if err != nil {
				if *update {
					t.Skip("golden being written by TestLoadErrors")
				}
				t.Fatalf("missing golden: %v", err)
			}
			text := string(golden)
			if strings.Count(text, "\n") != 1 || !strings.HasSuffix(text, "\n") {
				t.Errorf("golden is not one line: %q", text)
			}
			report := t.Errorf
			if k.bug != "" {
				report = func(format string, args ...any) {
					t.Skip("known bug: " + k.bug + "; " + fmt.Sprintf(format, args...))
				}
			}
			prefix := regexp.QuoteMeta(k.fixture + ".yaml")
			positioned := regexp.MustCompile(`^` + prefix + `:[1-9][0-9]*:[1-9][0-9]*: \S`)
			plain := regexp.MustCompile(`^` + prefix + `: \S`)
			switch {
			case k.positioned && !positioned.MatchString(text):
				report("golden %q does not start with %s:line:col: ", text, k.fixture+".yaml")
			case !k.positioned && (!plain.MatchString(text) || positioned.MatchString(text)):
				report("golden %q does not start with %s: and no position", text, k.fixture+".yaml")
			case !strings.Contains(text, k.mention):
				report("golden %q does not mention %q", text, k.mention)
			}
		})
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "errors", "*.yaml"))
	for _, f := range files {
		if !slices.Contains(listed, filepath.Base(f)) {
			t.Errorf("%s is not listed in errorKinds", f)
		}
	}
}

// realTables are the tables the spec catalog ships.
var realTables = []string{
	"jumio-auth.table.yaml",
	"jumio-docverify.table.yaml",
	"jumio-netverify.table.yaml",
	"sumsub.table.yaml",
}

// TestLoadRealTables loads every ../data/*.table.yaml with a knownFormat
// that accepts exactly the formats of spec/format, and compiles each
// message and the envelope at both levels into schemas jsonschema/v5
// accepts as draft-07.
func TestLoadRealTables(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "data", "*.table.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var bases []string
	for _, f := range files {
		bases = append(bases, filepath.Base(f))
	}
	for _, want := range realTables {
		if !slices.Contains(bases, want) {
			t.Errorf("../data/%s is missing (have %v)", want, bases)
		}
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(strings.TrimSuffix(name, ".table.yaml"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			tb, err := Load(name, data, knowsAllFormats)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if tb.Product == "" || len(tb.Messages) == 0 || len(tb.Fields) == 0 {
				t.Fatalf("table loaded empty: product %q, %d messages, %d fields", tb.Product, len(tb.Messages), len(tb.Fields))
			}
			for _, level := range []Level{LevelStrict, LevelVendor} {
				for _, m := range append([]string{""}, messageNames(tb)...) {
					s, err := tb.Compile(m, level)
					if err != nil {
						t.Errorf("Compile(%q, %s): %v", m, level, err)
						continue
					}
					if _, err := realSchema(s); err != nil {
						t.Errorf("Compile(%q, %s) is not a valid draft-07 schema: %v", m, level, err)
					}
				}
			}
		})
	}
}

// TestLoadRealTablesRejectUnknownFormats shows the real tables do use
// formats: a knownFormat that knows none of them makes every table fail
// with an "unknown format" error at a position.
func TestLoadRealTablesRejectUnknownFormats(t *testing.T) {
	for _, name := range realTables {
		data, err := os.ReadFile(filepath.Join("..", "data", name))
		if err != nil {
			t.Fatal(err)
		}
		_, err = Load(name, data, func(string) bool { return false })
		if err == nil {
			t.Errorf("%s: Load with no known formats succeeded", name)
			continue
		}
		if !regexp.MustCompile(`^` + regexp.QuoteMeta(name) + `:\d+:\d+: .*unknown format "`).MatchString(err.Error()) {
			t.Errorf("%s: error %q is not a positioned unknown-format error", name, err)
		}
	}
}

// TestLoadNilKnownFormat: a nil knownFormat accepts every format name.
func TestLoadNilKnownFormat(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "errors", "007-unknown-format.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tb, err := Load("007-unknown-format.yaml", data, nil)
	if err != nil {
		t.Fatalf("Load with nil knownFormat: %v", err)
	}
	if got := tb.fieldAt("/x").Format; got != "jumio-time" {
		t.Errorf("format of x = %q, want jumio-time", got)
	}
}

// TestLoadDefaults checks what Load fills in: method POST, the types rows
// leave out (object with sub-fields, array with items, else string), item
// row names, positions of rows and cases, and the document order of pairs.
func TestLoadDefaults(t *testing.T) {
	tb := mustLoad(t, `product: demo
encoding: json
messages:
  - {name: A, match: {kind: a}}
fields:
  - {name: kind, required: true, enum: [a]}
  - name: detail
    fields:
      - {name: code}
  - name: images
    items: {format: url}
  - name: reason
    pairs:
      with: text
      values: {"300": Z, "100": X, "200": Y}
    cases:
      - when: {kind: [a]}
        required: true
  - {name: text}
`)
	if tb.Method != "POST" {
		t.Errorf("Method = %q, want POST", tb.Method)
	}
	if got := tb.ContentType(); got != "application/json" {
		t.Errorf("ContentType = %q", got)
	}
	tests := []struct {
		ptr  string
		want []string
	}{
		{"/kind", []string{"string"}},
		{"/detail", []string{"object"}},
		{"/detail/code", []string{"string"}},
		{"/images", []string{"array"}},
		{"/reason", []string{"string"}},
	}
	for _, tt := range tests {
		f := tb.fieldAt(tt.ptr)
		if f == nil {
			t.Errorf("fieldAt(%s) = nil", tt.ptr)
			continue
		}
		if !slices.Equal(f.Type, TypeList(tt.want)) {
			t.Errorf("type of %s = %v, want %v", tt.ptr, f.Type, tt.want)
		}
	}
	images := tb.fieldAt("/images")
	if images.Items == nil || images.Items.Name != "images[]" || !slices.Equal(images.Items.Type, TypeList{"string"}) {
		t.Errorf("images items = %+v, want a string row named images[]", images.Items)
	}
	reason := tb.fieldAt("/reason")
	if reason.Line != 12 || reason.Column != 5 {
		t.Errorf("reason at %d:%d, want 12:5", reason.Line, reason.Column)
	}
	if len(reason.Cases) != 1 || reason.Cases[0].Line != 17 {
		t.Errorf("case line = %+v, want 17", reason.Cases)
	}
	if want := []string{"300", "100", "200"}; !slices.Equal(reason.Pairs.Order, want) {
		t.Errorf("pairs order = %v, want %v", reason.Pairs.Order, want)
	}
	if tb.Messages[0].Line != 4 {
		t.Errorf("message line = %d, want 4", tb.Messages[0].Line)
	}
	if got := tb.TopFields(LevelStrict); !slices.Equal(got, []string{"kind", "detail", "images", "reason", "text"}) {
		t.Errorf("TopFields = %v", got)
	}
	if tb.Message("A") == nil || tb.Message("B") != nil {
		t.Errorf("Message lookup wrong")
	}
}

// TestLoadMergeKeys: rows may share a YAML anchor through merge keys, as
// the Netverify table's idCheck rows do; the merged row keeps its own name.
func TestLoadMergeKeys(t *testing.T) {
	tb := mustLoad(t, `product: demo
encoding: form
messages:
  - {name: A, match: {kind: a}}
fields:
  - {name: kind, required: true, enum: [a, b]}
  - &check
    name: checkOne
    required: true
    enum: [OK, N/A]
    cases:
      - {unless: {kind: [a]}, enum: [N/A]}
  - {<<: *check, name: checkTwo}
`)
	two := tb.fieldAt("/checkTwo")
	if two == nil {
		t.Fatal("checkTwo not loaded")
	}
	if !two.Required || len(two.Enum) != 2 || len(two.Cases) != 1 {
		t.Errorf("checkTwo = %+v, want the anchored row's keys", two)
	}
}

// TestLoadMergeKeyUnknownKey: a key that reaches a row only through a YAML
// merge key ("<<") is checked like the row's own keys, so a misspelt key
// is not silently dropped.
func TestLoadMergeKeyUnknownKey(t *testing.T) {
	src := `product: demo
encoding: json
messages:
  - {name: A, match: {kind: a}}
fields:
  - {name: kind, required: true, enum: [a]}
  - <<: {name: reference, maxLen: 10}
`
	_, err := Load("merge.yaml", []byte(src), nil)
	if err == nil {
		t.Fatal(`Load accepted "maxLen" merged into a row`)
	}
	if !strings.Contains(err.Error(), `unknown key "maxLen"`) {
		t.Errorf("error = %v, want unknown key maxLen", err)
	}
	if !regexp.MustCompile(`^merge\.yaml:7:\d+: `).MatchString(err.Error()) {
		t.Errorf("error = %v, want it at line 7 of merge.yaml", err)
	}
}

// TestLoadPairsMergeKey: pairs.values merged in through "<<" are codes in
// Order, in the place of the merge key, and "<<" is not a code.
func TestLoadPairsMergeKey(t *testing.T) {
	src := `product: demo
encoding: json
messages:
  - {name: A, match: {kind: a}}
fields:
  - {name: kind, required: true, enum: [a]}
  - name: code
    pairs:
      with: text
      values: {<<: {"100": X}, "200": Y}
  - {name: text}
`
	tb, err := Load("pairs.yaml", []byte(src), nil)
	if err != nil {
		// Refusing merge keys in values would be a fix too.
		return
	}
	order := tb.fieldAt("/code").Pairs.Order
	if want := []string{"100", "200"}; !slices.Equal(order, want) {
		t.Errorf("pairs order = %v, want %v (merged codes in the place of the merge key)", order, want)
	}
}

func messageNames(tb *Table) []string {
	var out []string
	for _, m := range tb.Messages {
		out = append(out, m.Name)
	}
	return out
}
