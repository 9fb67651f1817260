package asyncapi

// Tests of behaviour that was wrong; the comments say how it was. A test of
// a bug not fixed yet is skipped with "known bug" and says what it expects;
// remove the t.Skip once the bug is fixed.

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// loadWithin runs Load and reports whether it returned within limit. It
// leaves the goroutine behind when it did not.
func loadWithin(limit time.Duration, src string) (*Document, error, bool) {
	type result struct {
		d   *Document
		err error
	}
	done := make(chan result, 1)
	go func() {
		d, err := Load("slow.yaml", []byte(src))
		done <- result{d, err}
	}()
	select {
	case r := <-done:
		return r.d, r.err, true
	case <-time.After(limit):
		return nil, nil, false
	}
}

// YAML merge keys: the keys of the mapping itself override merged ones,
// wherever the << stands. asyncapi.go:142 counts a key brought in by an
// earlier << as a duplicate.
func TestBugMergeKeyThenOverride(t *testing.T) {
	d, err := Load("merge.yaml", []byte(head+`
channels: {c: {subscribe: {message: {payload: {}}}}}
x-base: &b {p: 1, q: 2}
x-use:
  <<: *b
  q: 9
`))
	if err != nil {
		t.Fatal(err) // today: merge.yaml:7:3: key "q" appears twice
	}
	want := jsonValue(t, `{"p": 1, "q": 9}`)
	if got := d.Raw["x-use"]; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("x-use = %v, want %v", got, want)
	}
}

// YAML merge keys may name a sequence of mappings (yaml.org/type/merge);
// asyncapi.go:128-131 accepts only a single mapping.
func TestBugMergeKeySequence(t *testing.T) {
	d, err := Load("merge.yaml", []byte(head+`
channels: {c: {subscribe: {message: {payload: {}}}}}
x-a: &a {p: 1, q: 1}
x-b: &b {q: 2, r: 2}
x-use:
  <<: [*a, *b]
  s: 3
`))
	if err != nil {
		t.Fatal(err) // today: merge.yaml:8:3: merge key needs a mapping
	}
	want := jsonValue(t, `{"p": 1, "q": 1, "r": 2, "s": 3}`)
	if got := d.Raw["x-use"]; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("x-use = %v, want %v", got, want)
	}
}

// laughs builds the "billion laughs" document: levels of ten aliases to
// the level below, so that a few hundred bytes expand to 10^(levels+1)
// scalars.
func laughs(levels int) string {
	var b strings.Builder
	b.WriteString("x0: &x0 [l, l, l, l, l, l, l, l, l, l]\n")
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "x%d: &x%d [", i, i)
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*x%d", i-1)
		}
		b.WriteString("]\n")
	}
	return b.String()
}

// convert (asyncapi.go:117-118) copies an aliased node afresh at every
// alias, with no limit on the total, so a small document makes Load run
// for long and use gigabytes: 6 levels (393 bytes, 10^7 values) take 25s
// and 1.5 GB; every further level multiplies that by ten. yaml.v3's own
// decoder refuses such documents ("document contains excessive aliasing").
func TestBugAliasExpansionUnbounded(t *testing.T) {
	src := laughs(6)
	_, err, returned := loadWithin(2*time.Second, src)
	if !returned {
		t.Fatalf("Load of a %d-byte document took more than 2s", len(src))
	}
	if err == nil {
		t.Error("Load accepted a document that expands to 10^7 values")
	}
}

// findDiscriminator's collectConsts (asyncapi.go:403-430) walks $refs with
// only a depth limit of 32: a recursive payload schema with k
// self-referencing properties costs about k^16 steps. k=2 takes 0.3s, k=3
// about 20s, k=4 hours. Recursive schemas (trees, nested comments,
// JSON-like values) are ordinary.
func TestBugRecursiveSchemaConstSearch(t *testing.T) {
	src := head + `
channels:
  hook:
    subscribe:
      message:
        name: node
        payload: {$ref: '#/components/schemas/Node'}
components:
  schemas:
    Node:
      type: object
      properties:
        left: {$ref: '#/components/schemas/Node'}
        middle: {$ref: '#/components/schemas/Node'}
        right: {$ref: '#/components/schemas/Node'}
`
	d, err, returned := loadWithin(2*time.Second, src)
	if !returned {
		t.Fatal("Load of a recursive schema took more than 2s")
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Messages) != 1 {
		t.Errorf("%d messages", len(d.Messages))
	}
}

// Load promises YAML or JSON but hands JSON to the YAML parser
// (asyncapi.go:73), which knows neither JSON's \/ escape nor UTF-16
// surrogate pairs. Both are valid JSON and common (PHP escapes every /).
func TestBugJSONEscapes(t *testing.T) {
	for _, tc := range []struct{ lit, want string }{
		{`"https:\/\/example.com\/hook"`, "https://example.com/hook"},
		{`"\ud83d\ude00"`, "\U0001F600"},
	} {
		src := `{"asyncapi":"2.6.0","info":{"title":` + tc.lit + `,"version":"1"},` +
			`"channels":{"c":{"subscribe":{"message":{"payload":{}}}}}}`
		var check map[string]any
		if err := json.Unmarshal([]byte(src), &check); err != nil {
			t.Fatalf("test document is not JSON: %v", err)
		}
		d, err := Load("doc.json", []byte(src))
		if err != nil {
			t.Errorf("%s: %v", tc.lit, err)
			continue
		}
		if d.Title != tc.want {
			t.Errorf("Title = %q, want %q", d.Title, tc.want)
		}
	}
}

// Integers go through float64 (asyncapi.go:172-181), so those beyond 2^53
// change: a document's bounds, consts and examples no longer say what the
// author wrote.
func TestBugLargeIntegersLosePrecision(t *testing.T) {
	for _, lit := range []string{"9007199254740993", "12345678901234567890", "-9223372036854775807"} {
		d, err := Load("n.yaml", []byte(head+"channels: {c: {subscribe: {message: {payload: {}}}}}\nx-n: "+lit+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		if got := d.Raw["x-n"]; got != json.Number(lit) {
			t.Errorf("%s loads as %v", lit, got)
		}
	}
}

// A $ref to nothing is reported at the nearest existing parent of the
// missing target (asyncapi.go:317-318: errAt(p) with p the target), which
// is some other part of the document, not at the $ref that is wrong. The
// outside-reference error (asyncapi.go:314) shows the right way: p+"/$ref".
func TestBugRefToNothingPosition(t *testing.T) {
	_, err := Load("006-ref-to-nothing.yaml", readFile(t, "errors/006-ref-to-nothing.yaml"))
	want := `006-ref-to-nothing.yaml:11:19: $ref "#/components/messages/Missing" points at nothing`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\n   want %s", err, want)
	}
}

// An empty document should say so; asyncapi.go:73 returns yaml.v3's io.EOF
// ("name: EOF") before the "empty document" check at line 77, which no
// input reaches.
func TestBugEmptyDocument(t *testing.T) {
	for _, src := range []string{"", "\n", "# nothing here\n"} {
		_, err := Load("empty.yaml", []byte(src))
		if err == nil || err.Error() != "empty.yaml:1:1: empty document" {
			t.Errorf("Load(%q) error = %v, want empty.yaml:1:1: empty document", src, err)
		}
	}
}

// RFC 6901 array indices are "0" or digits without a leading zero;
// Lookup (asyncapi.go:455) uses strconv.Atoi, which also takes "01",
// "+1" and "-0".
func TestBugLookupLenientArrayIndex(t *testing.T) {
	doc := []any{"a", "b"}
	for _, ptr := range []string{"/01", "/+1", "/-0", "/00"} {
		if v, ok := Lookup(doc, ptr); ok {
			t.Errorf("Lookup(%q) = %v; RFC 6901 says there is nothing there", ptr, v)
		}
	}
}

// Strict (asyncapi.go:474-497) rewrites every map that looks like an object
// schema, including values that are data, not schemas: a const or enum
// value then demands a different instance.
func TestBugStrictRewritesConstValues(t *testing.T) {
	d := loadString(t, head+`
channels:
  hook:
    subscribe:
      message:
        name: schema-registered
        payload:
          type: object
          properties:
            schema:
              const: {type: object, properties: {id: {type: string}}}
`)
	s := d.Strict()
	c, _ := Lookup(s, "/channels/hook/subscribe/message/payload/properties/schema/const")
	if _, has := c.(map[string]any)["additionalProperties"]; has {
		t.Errorf("Strict changed a const value: %s", mustJSON(t, c))
	}
}
