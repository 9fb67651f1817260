package fieldtable

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/kycsim/kycsim/spec/format"
)

// update rewrites the golden files instead of comparing against them:
//
//	go test ./spec/fieldtable/ -run TestLoadErrors -update
var update = flag.Bool("update", false, "rewrite golden files")

// knowsDateAndJumio is the knownFormat of the error fixtures: it knows only
// two format names, so that any other name is an unknown format.
func knowsDateAndJumio(name string) bool {
	return name == "date" || name == "jumio-timestamp"
}

// knowsAllFormats accepts every format the format package defines, as the
// spec catalog does.
func knowsAllFormats(name string) bool {
	_, ok := format.Lookup(name)
	return ok
}

// checkGolden compares got with the golden file at path, or rewrites the
// file when -update is set.
func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("write golden: %v", err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create it): %v", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s does not match (run with -update to accept):\n%s", path, lineDiff(string(want), string(got)))
	}
}

// lineDiff renders a plain line diff of want and got: "-" lines are only
// in want, "+" lines only in got, " " lines in both.
func lineDiff(want, got string) string {
	a := strings.Split(want, "\n")
	b := strings.Split(got, "\n")
	// Longest common subsequence table.
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var sb strings.Builder
	sb.WriteString("--- want\n+++ got\n")
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			fmt.Fprintf(&sb, "  %s\n", a[i])
			i++
			j++
		case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
			fmt.Fprintf(&sb, "- %s\n", a[i])
			i++
		default:
			fmt.Fprintf(&sb, "+ %s\n", b[j])
			j++
		}
	}
	return sb.String()
}

// jsonText renders v as indented JSON with sorted keys, for diffs.
func jsonText(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	return string(b)
}

// mustLoad loads an inline table, failing the test on error.
func mustLoad(t *testing.T, src string) *Table {
	t.Helper()
	tb, err := Load("inline.yaml", []byte(src), knowsAllFormats)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return tb
}

// mustCompile compiles one message at one level, failing the test on error.
func mustCompile(t *testing.T, tb *Table, message string, level Level) map[string]any {
	t.Helper()
	s, err := tb.Compile(message, level)
	if err != nil {
		t.Fatalf("Compile(%q, %s): %v", message, level, err)
	}
	return s
}

// newSchemaCompiler is a draft-07 compiler that asserts formats with the
// checkers of the format package, as the spec catalog does.
func newSchemaCompiler() *jsonschema.Compiler {
	jc := jsonschema.NewCompiler()
	jc.Draft = jsonschema.Draft7
	jc.AssertFormat = true
	for name, check := range format.Checkers() {
		jc.Formats[name] = check
	}
	return jc
}

// realSchema compiles a generated schema with jsonschema/v5 via
// AddResource + Compile.
func realSchema(schema map[string]any) (*jsonschema.Schema, error) {
	b, err := json.Marshal(schema)
	if err != nil {
		return nil, err
	}
	const url = "https://kycsim.invalid/fieldtable-test.json"
	jc := newSchemaCompiler()
	if err := jc.AddResource(url, bytes.NewReader(b)); err != nil {
		return nil, err
	}
	return jc.Compile(url)
}

// mustRealSchema is realSchema failing the test on error.
func mustRealSchema(t *testing.T, schema map[string]any) *jsonschema.Schema {
	t.Helper()
	sch, err := realSchema(schema)
	if err != nil {
		t.Fatalf("jsonschema compile: %v\nschema:\n%s", err, jsonText(t, schema))
	}
	return sch
}

// decodeJSON decodes an instance the way the validator expects (numbers as
// json.Number).
func decodeJSON(t *testing.T, s string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("bad test instance %s: %v", s, err)
	}
	return v
}

// schemaAtPath walks nested maps along keys, failing the test when a key
// is missing.
func schemaAtPath(t *testing.T, s map[string]any, keys ...string) map[string]any {
	t.Helper()
	cur := s
	for i, k := range keys {
		next, ok := cur[k].(map[string]any)
		if !ok {
			t.Fatalf("no object at %s in:\n%s", strings.Join(keys[:i+1], "/"), jsonText(t, s))
		}
		cur = next
	}
	return cur
}

// hasKeyword reports whether keyword appears as a key anywhere in v.
func hasKeyword(v any, keyword string) bool {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if k == keyword || hasKeyword(e, keyword) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if hasKeyword(e, keyword) {
				return true
			}
		}
	}
	return false
}

// hasString reports whether the string s appears as a value anywhere in v.
func hasString(v any, s string) bool {
	switch x := v.(type) {
	case string:
		return x == s
	case map[string]any:
		for _, e := range x {
			if hasString(e, s) {
				return true
			}
		}
	case map[string]string:
		for _, e := range x {
			if e == s {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if hasString(e, s) {
				return true
			}
		}
	}
	return false
}
