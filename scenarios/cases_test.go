package scenarios

import (
	"context"
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
