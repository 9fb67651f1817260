package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/kycsim/kycsim/spec"
	"github.com/kycsim/kycsim/spec/form"
)

// maxFuzzLen bounds fuzz inputs: every code path is reached by short
// ones, and long ones make the fuzzer spend its time minimizing.
const maxFuzzLen = 1024

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"", "a", "a.b.0", "/a/b", "/a~1b/~0", "/", "a..b", "/~2", "/a~", "\xff", "/-", "..", "/a//b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > maxFuzzLen {
			return // parsing is linear; long inputs only slow the minimizer
		}
		toks, err := ParsePath(s)
		if err != nil {
			if toks != nil {
				t.Fatalf("ParsePath(%q) returned tokens %q with error %v", s, toks, err)
			}
			return
		}
		if len(toks) == 0 {
			t.Fatalf("ParsePath(%q) gave no tokens and no error", s)
		}
		for _, tok := range toks {
			if tok == "" {
				t.Fatalf("ParsePath(%q) gave an empty token: %q", s, toks)
			}
		}
		// A pointer reads back as itself; a dotted path joins back.
		if s[0] == '/' {
			if p := FormatPointer(toks); p != s {
				t.Fatalf("ParsePath(%q) = %q renders back as %q", s, toks, p)
			}
		} else if j := strings.Join(toks, "."); j != s {
			t.Fatalf("ParsePath(%q) = %q joins back as %q", s, toks, j)
		}
		// The pointer form of any tokens parses back to them.
		back, err := ParsePath(FormatPointer(toks))
		if err != nil || !slices.Equal(back, toks) {
			t.Fatalf("tokens %q via pointer %q came back as %q, %v", toks, FormatPointer(toks), back, err)
		}
	})
}

// fuzzTargets are the events FuzzSetUnset changes: one JSON and one form
// product with JSON-in-form fields, and each other product.
var fuzzTargets = [][2]string{
	{"sumsub", "applicantReviewed"},
	{"jumio-netverify", "DENIED_FRAUD"},
	{"jumio-netverify", "APPROVED_VERIFIED"},
	{"jumio-docverify", "EXTRACTED"},
	{"jumio-auth", "PASSED"},
	{"jumio-kyx", "PROCESSED"},
}

func FuzzSetUnset(f *testing.F) {
	seeds := []struct {
		target      uint8
		path, value string
		unset       bool
	}{
		{0, "reviewResult.rejectLabels.0", "SPAM", false},
		{0, "/reviewResult/rejectLabels/-", `{"a":[1,2]}`, false},
		{0, "reviewResult", "", true},
		{0, "a.b.c", "null", false},
		{1, "rejectReason.rejectReasonDetails.0.detailsCode", `"1002"`, false},
		{1, "rejectReason", "not json", false},
		{1, "idType.x", "1", false},
		{1, "rejectReason.rejectReasonDetails", "", true},
		{2, "identityVerification", `{"validity":true}`, false},
		{3, "/document/extractedData/address/line1", "x&y=z%", false},
		{4, "livenessImages.7", `"http://x"`, false},
		{5, "workflowExecution.status", "\"\\u0000\"", false},
	}
	for _, s := range seeds {
		f.Add(s.target, s.path, s.value, s.unset)
	}
	cat := testCatalog(f)
	base := make([]*Event, len(fuzzTargets))
	for i, tg := range fuzzTargets {
		e, err := Build(cat, tg[0], tg[1], Options{Rand: rand.New(rand.NewPCG(1, 1)), Now: fixedNow})
		if err != nil {
			f.Fatal(err)
		}
		base[i] = e
	}
	f.Fuzz(func(t *testing.T, target uint8, path, value string, unset bool) {
		if len(path)+len(value) > maxFuzzLen {
			return
		}
		e := base[int(target)%len(base)].Clone()
		before := e.Body()
		var err error
		if unset {
			err = e.Unset(path)
		} else {
			err = e.Set(path, value)
		}
		after := e.Body()
		if err != nil {
			if !bytes.Equal(before, after) {
				t.Fatalf("failed change (%v) changed the body:\n%s\n%s", err, before, after)
			}
			return
		}
		checkWellFormed(t, e, after)
		// Applying the same change again is fine for a set (it replaces,
		// or appends again); the body must stay well formed.
		if !unset {
			_ = e.Set(path, value)
			checkWellFormed(t, e, e.Body())
		}
	})
}

// checkWellFormed checks that a body is valid JSON, or a valid form whose
// JSON-in-form fields are valid JSON.
func checkWellFormed(t *testing.T, e *Event, body []byte) {
	t.Helper()
	if e.Encoding == spec.EncodingJSON {
		if !json.Valid(body) || !utf8.Valid(body) {
			t.Fatalf("body is not valid JSON: %q", body)
		}
		var o Object
		if err := json.Unmarshal(body, &o); err != nil {
			t.Fatalf("body is not a JSON object: %v", err)
		}
		return
	}
	fb, err := form.Parse(body)
	if err != nil {
		t.Fatalf("body is not a valid form: %v\n%q", err, body)
	}
	for _, fl := range fb.Fields {
		// Raw form text (the Authentication sample's plain face URL) is
		// sent as it is.
		if held, _ := e.Root.Get(fl.Name); held == FormText(fl.Value) {
			continue
		}
		if e.jsonFields[fl.Name] && !json.Valid([]byte(fl.Value)) {
			t.Fatalf("JSON-in-form field %s is not JSON: %q", fl.Name, fl.Value)
		}
	}
}

// FuzzFieldsCheck checks that Check never panics on any path, that it
// refuses only well-formed paths as unknown fields, and that the field it
// suggests is one it accepts.
func FuzzFieldsCheck(f *testing.F) {
	cat := testCatalog(f)
	var all []*Fields
	for _, p := range cat.Products() {
		for _, m := range p.MessageNames() {
			fields, err := MessageFields(p, m)
			if err != nil {
				f.Fatal(err)
			}
			all = append(all, fields)
		}
	}
	for _, s := range []string{"reviewResult.reviewAnswr", "rejectLabels.0", "/a~1b", "identityVerification.validty", "x", "document.stat", "a..b", "dlCategories.-.category"} {
		f.Add(uint8(0), s)
	}
	f.Fuzz(func(t *testing.T, which uint8, path string) {
		if len(path) > maxFuzzLen {
			return
		}
		fields := all[int(which)%len(all)]
		err := fields.Check(path)
		var ue *UnknownFieldError
		if !errors.As(err, &ue) {
			return
		}
		if _, perr := ParsePath(path); perr != nil {
			t.Fatalf("Check(%q) took a malformed path for an unknown field: %v", path, err)
		}
		if ue.Suggestion != "" {
			if serr := fields.Check(ue.Suggestion); serr != nil {
				t.Fatalf("Check(%q) suggests %q, which it refuses: %v", path, ue.Suggestion, serr)
			}
		}
	})
}
