package scenarios

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/kycsim/kycsim/conformance/receiver"
)

// TestCasesPassAgainstTheReferenceReceiver plays every conformance case
// against the reference receiver: each must pass with nothing skipped.
func TestCasesPassAgainstTheReferenceReceiver(t *testing.T) {
	h := newHarness(t, receiver.Config{})
	cases, err := Cases(h.opt.Catalog)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 40 {
		t.Errorf("only %d cases", len(cases))
	}
	for _, sc := range cases {
		t.Run(sc.Case.ID, func(t *testing.T) {
			t.Parallel() // each case runs on its own clock and subjects
			res := Run(context.Background(), sc, h.opt)
			for _, s := range res.Steps {
				for _, f := range s.Failures {
					t.Errorf("step %d %s: %s", s.Index, s.Label, f)
				}
				for _, k := range s.Skipped {
					t.Errorf("step %d %s skipped: %s", s.Index, s.Label, k)
				}
			}
		})
	}
}

// TestTamperKeepsTheSubject checks that a tampered body differs from the
// signed one in a value other than the subject, and stays JSON.
func TestTamperKeepsTheSubject(t *testing.T) {
	for _, tt := range []struct{ body, subject string }{
		{`{"applicantId":"5cb744200a975a67ed1798a4","type":"applicantReviewed","reviewStatus":"completed"}`, "5cb744200a975a67ed1798a4"},
		{`{"type":"applicantReviewed","applicantId":"5cb744200a975a67ed1798a4"}`, "5cb744200a975a67ed1798a4"},
		{`{"applicantId":"5cb744200a975a67ed1798a4"}`, "5cb744200a975a67ed1798a4"},
		{`{"a":"]x","b":"5cb","c":"2026-01-01 00:00:00.000"}`, "5cb"},
	} {
		got := tamper([]byte(tt.body), tt.subject)
		if string(got) == tt.body {
			t.Errorf("%s: not tampered", tt.body)
		}
		var v map[string]any
		if err := json.Unmarshal(got, &v); err != nil {
			t.Errorf("%s: tampered body %s is not JSON: %v", tt.body, got, err)
		}
		if !strings.Contains(string(got), `"`+tt.subject+`"`) {
			t.Errorf("%s: the subject was changed: %s", tt.body, got)
		}
	}
}
