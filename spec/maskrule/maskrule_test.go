package maskrule

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	for _, tt := range []struct{ doc, want string }{
		{"", "r.yaml: EOF"},
		{"[1]", "r.yaml:1:1: want a mapping"},
		{"product: x\nfields: {}\nextra: 1", `r.yaml:3:1: unknown key "extra"`},
		{"product: x\nproduct: y\nfields: {}", `r.yaml:2:1: key "product" is given twice`},
		{"fields: {}", "r.yaml:1:1: product is missing"},
		{"product: x", "r.yaml:1:1: fields is missing"},
		{"product: x\nfields:\n  a: keep", `r.yaml:3:3: "a": a JSON pointer starts with /`},
		{"product: x\nfields:\n  /a//b: keep", `r.yaml:3:3: "/a//b": an empty token`},
		{"product: x\nfields:\n  /a~2: keep", `r.yaml:3:3: "/a~2": ~ is escaped as ~0`},
		{"product: x\nfields:\n  /a: secret", `r.yaml:3:7: field /a: unknown kind "secret" (known: keep, id,`},
		{"product: x\nfields:\n  /a: keep\n  /a: id", "r.yaml:4:3: field /a has two rules"},
		{"product: x\nsubject: /a/*\nfields: {}", "r.yaml:2:10: subject: \"/a/*\": the subject is one field"},
		{"product: 1\nfields: {}", "r.yaml:1:10: product: want a string"},
		{"product: x\nfields: {}\n---\nproduct: y", "r.yaml:3:1: a second YAML document"},
	} {
		_, err := Parse("r.yaml", []byte(tt.doc))
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%q: error %v; want it to start %q", tt.doc, err, tt.want)
		}
	}
}

func TestMatch(t *testing.T) {
	r, err := Parse("r.yaml", []byte(`product: x
subject: /id
fields:
  /id: id
  /address: address
  /address/country: country
  /list/*/name: name
  /list/*: text
  /list/0/name: keep
  /a~1b: email
`))
	if err != nil {
		t.Fatal(err)
	}
	if r.Subject != "/id" || !slices.Equal(r.SubjectTokens, []string{"id"}) {
		t.Errorf("subject %q %v", r.Subject, r.SubjectTokens)
	}
	for _, tt := range []struct {
		path []string
		want Kind
	}{
		{[]string{"id"}, ID},
		{[]string{"address", "line1"}, Address},
		{[]string{"address", "country"}, Country},
		{[]string{"list", "3", "name"}, Name},
		{[]string{"list", "0", "name"}, Keep},
		{[]string{"list", "3", "other"}, Text},
		{[]string{"a/b"}, Email},
	} {
		got, err := r.Match(tt.path)
		if err != nil || got.Kind != tt.want {
			t.Errorf("%v: %v %v; want %s", tt.path, got.Kind, err, tt.want)
		}
	}
	if _, err := r.Match([]string{"unknown"}); err != ErrNoRule {
		t.Errorf("an unknown field: %v", err)
	}
}

// TestProductRules parses every product's rules in spec/data.
func TestProductRules(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "data", "*.mask.yaml"))
	if len(files) != 5 {
		t.Fatalf("rules files %v; want one per product", files)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r, err := Parse(f, data)
		if err != nil {
			t.Error(err)
			continue
		}
		if r.Subject == "" || !strings.HasPrefix(filepath.Base(f), r.Product+".") {
			t.Errorf("%s: product %q, subject %q", f, r.Product, r.Subject)
		}
		if rule, err := r.Match(r.SubjectTokens); err != nil || rule.Kind != ID {
			t.Errorf("%s: the subject %s is not masked as an id (%v %v)", f, r.Subject, rule.Kind, err)
		}
	}
}

// FuzzParse: Parse never panics; its errors name the file; what it
// accepts has a product, known kinds and pointers that match themselves.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "data", "*.mask.yaml"))
	for _, file := range files {
		data, _ := os.ReadFile(file)
		f.Add(data)
	}
	f.Add([]byte("product: x\nfields: {/a/*: keep, /a/0: id}"))
	f.Add([]byte("product: &a x\nfields: {*a: keep}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Parse("f.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.yaml") {
				t.Errorf("error %q does not name the file", err)
			}
			return
		}
		if r.Product == "" || len(r.Rules) > MaxRules {
			t.Errorf("accepted %+v", r)
		}
		for _, rule := range r.Rules {
			if !slices.Contains(Kinds, rule.Kind) {
				t.Errorf("kind %q", rule.Kind)
			}
			if _, err := r.Match(rule.Tokens); err != nil {
				t.Errorf("rule %s matches nothing: %v", rule.Pointer, err)
			}
		}
	})
}
