package main

import (
	"strings"
	"testing"

	"github.com/kycsim/kycsim/conformance"
)

// TestHintsForGivingUp: a run given up on late answers advises answering
// at once; one given up on no answers asks whether the target runs. The
// advice follows the report's flag, not the wording of its message.
func TestHintsForGivingUp(t *testing.T) {
	for _, tt := range []struct {
		rep  conformance.Report
		want string
	}{
		{conformance.Report{GaveUp: "twelve answers came too late", AnsweredLate: true}, "answer at once"},
		{conformance.Report{GaveUp: "the target stopped answering", NeverAnswered: true}, "is it running"},
	} {
		got := strings.Join(hints(&tt.rep, false), "\n")
		if !strings.Contains(got, tt.want) {
			t.Errorf("hints for %q: %q, want %q", tt.rep.GaveUp, got, tt.want)
		}
	}
}
