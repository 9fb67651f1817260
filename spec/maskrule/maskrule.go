// Package maskrule reads the masking rules of a product: which fields of
// its callbacks hold personal data, and of what kind, so that `kycsim
// record` can replace them with values of the same format before anything
// reaches disk. The rules are data (spec/data/PRODUCT.mask.yaml), kept
// beside the product's contract:
//
//	product: sumsub
//	subject: /applicantId
//	fields:
//	  /applicantId: id
//	  /reviewResult/moderationComment: text
//	  /reviewResult/rejectLabels: keep
//
// A field is named by a JSON pointer into the decoded payload (for form
// products a form field, then the pointer inside a JSON-in-form field);
// "*" stands for any one member or array index. A rule on an object or
// array covers everything inside it unless a more specific rule names a
// part. Fields no rule covers are masked as text.
package maskrule

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Kind says what a field holds and so how it is masked.
type Kind string

// The kinds of field.
const (
	// Keep is not personal data (a status, a type, an enum, the vendor's
	// timestamps): it is stored as sent.
	Keep Kind = "keep"
	// ID is an identifier the receiver keys on (applicantId, a workflow
	// execution id, a scan reference, the app's own reference): replaced
	// by a value of the same shape, the same one wherever it occurs in a
	// recording (in other fields and inside URLs too).
	ID Kind = "id"
	// Name is a person's name.
	Name Kind = "name"
	// Date is a date such as a date of birth: replaced by another valid
	// date in the same layout.
	Date Kind = "date"
	// DocumentNumber is a document or personal number: same shape
	// (letters stay letters, digits digits).
	DocumentNumber Kind = "document-number"
	// Address is a part of a postal address.
	Address Kind = "address"
	// Email is an e-mail address: replaced by a valid one at example.com.
	Email Kind = "email"
	// Phone is a phone number: its digits are replaced.
	Phone Kind = "phone"
	// IP is an IP address: replaced by one of the documentation ranges.
	IP Kind = "ip"
	// Country is an ISO 3166 country code: replaced by another code of
	// the same form.
	Country Kind = "country"
	// URL is an image or retrieval URL: its scheme and host become the
	// replay's vendor API mock, and the ids in its path are masked.
	URL Kind = "url"
	// Text is free text (a comment): letters and digits are replaced,
	// spacing and punctuation kept.
	Text Kind = "text"
)

// Kinds lists every kind.
var Kinds = []Kind{Keep, ID, Name, Date, DocumentNumber, Address, Email, Phone, IP, Country, URL, Text}

// Wildcard is the path token that stands for any one member or index.
const Wildcard = "*"

// Limits on a rules document.
const (
	MaxBytes = 1 << 20
	MaxRules = 10000
)

// Rule is one field rule.
type Rule struct {
	// Pointer is the JSON pointer as written; Tokens its unescaped tokens.
	Pointer string
	Tokens  []string
	Kind    Kind
	// Pos is where the rule is written (file:line:col).
	Pos string
}

// Rules are one product's masking rules.
type Rules struct {
	Product string
	// Subject is the pointer of the subject id, the id the receiver keys
	// its state by ("" when the product has none).
	Subject       string
	SubjectTokens []string
	Rules         []Rule
}

// Parse reads a rules document; errors name file:line:col.
func Parse(file string, data []byte) (*Rules, error) {
	if len(data) > MaxBytes {
		return nil, fmt.Errorf("%s: %d bytes: a rules document has at most %d", file, len(data), MaxBytes)
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fmt.Errorf("%s:%d:%d: a second YAML document; a rules file holds one", file, extra.Line, extra.Column)
	}
	at := func(n *yaml.Node, format string, args ...any) error {
		return fmt.Errorf("%s:%d:%d: %s", file, n.Line, n.Column, fmt.Sprintf(format, args...))
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:1:1: want a mapping with product, subject and fields", file)
	}
	root := doc.Content[0]
	out := &Rules{}
	seen := map[string]bool{}
	var fields *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if seen[k.Value] {
			return nil, at(k, "key %q is given twice", k.Value)
		}
		seen[k.Value] = true
		switch k.Value {
		case "product", "subject":
			if v.Kind != yaml.ScalarNode || v.Tag != "!!str" {
				return nil, at(v, "%s: want a string", k.Value)
			}
			if k.Value == "product" {
				out.Product = v.Value
				continue
			}
			toks, err := ParsePointer(v.Value)
			if err != nil {
				return nil, at(v, "subject: %v", err)
			}
			if slices.Contains(toks, Wildcard) {
				return nil, at(v, "subject: %q: the subject is one field, without *", v.Value)
			}
			out.Subject, out.SubjectTokens = v.Value, toks
		case "fields":
			if v.Kind != yaml.MappingNode {
				return nil, at(v, "fields: want a mapping of JSON pointer to kind")
			}
			fields = v
		default:
			return nil, at(k, "unknown key %q (known: product, subject, fields)", k.Value)
		}
	}
	if out.Product == "" {
		return nil, fmt.Errorf("%s:%d:%d: product is missing", file, root.Line, root.Column)
	}
	if fields == nil {
		return nil, fmt.Errorf("%s:%d:%d: fields is missing", file, root.Line, root.Column)
	}
	if len(fields.Content)/2 > MaxRules {
		return nil, at(fields, "%d rules: at most %d", len(fields.Content)/2, MaxRules)
	}
	pointers := map[string]bool{}
	for i := 0; i+1 < len(fields.Content); i += 2 {
		k, v := fields.Content[i], fields.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, at(k, "want a JSON pointer as the key")
		}
		toks, err := ParsePointer(k.Value)
		if err != nil {
			return nil, at(k, "%v", err)
		}
		if pointers[k.Value] {
			return nil, at(k, "field %s has two rules", k.Value)
		}
		pointers[k.Value] = true
		if v.Kind != yaml.ScalarNode || !slices.Contains(Kinds, Kind(v.Value)) {
			return nil, at(v, "field %s: unknown kind %q (known: %s)", k.Value, v.Value, kindList())
		}
		out.Rules = append(out.Rules, Rule{Pointer: k.Value, Tokens: toks, Kind: Kind(v.Value), Pos: fmt.Sprintf("%s:%d:%d", file, k.Line, k.Column)})
	}
	return out, nil
}

func kindList() string {
	names := make([]string, len(Kinds))
	for i, k := range Kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// ParsePointer splits a JSON pointer ("/a/b~1c") into its unescaped
// tokens; "*" is kept as the wildcard.
func ParsePointer(p string) ([]string, error) {
	if p == "" || p[0] != '/' {
		return nil, fmt.Errorf("%q: a JSON pointer starts with /", p)
	}
	parts := strings.Split(p[1:], "/")
	for i, t := range parts {
		if t == "" {
			return nil, fmt.Errorf("%q: an empty token", p)
		}
		if strings.Contains(strings.ReplaceAll(strings.ReplaceAll(t, "~0", ""), "~1", ""), "~") {
			return nil, fmt.Errorf("%q: ~ is escaped as ~0 (and / as ~1)", p)
		}
		parts[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return parts, nil
}

// ErrNoRule says no rule covers a field.
var ErrNoRule = errors.New("no rule covers the field")

// Match returns the rule for the field at path (unescaped tokens): the
// most specific rule naming the field itself or an object or array it is
// inside. A longer rule wins; between rules of one length, the one with
// fewer wildcards.
func (r *Rules) Match(path []string) (Rule, error) {
	best, bestLen, bestLit := Rule{}, -1, -1
	for _, rule := range r.Rules {
		if len(rule.Tokens) > len(path) {
			continue
		}
		lit, ok := 0, true
		for i, t := range rule.Tokens {
			switch {
			case t == Wildcard:
			case t == path[i]:
				lit++
			default:
				ok = false
			}
			if !ok {
				break
			}
		}
		if !ok {
			continue
		}
		if n := len(rule.Tokens); n > bestLen || (n == bestLen && lit > bestLit) {
			best, bestLen, bestLit = rule, n, lit
		}
	}
	if bestLen < 0 {
		return Rule{}, ErrNoRule
	}
	return best, nil
}
