package conformance

import (
	"testing"

	"github.com/kycsim/kycsim/scenarios"
)

func TestSelect(t *testing.T) {
	mk := func(product, id string) *scenarios.Scenario {
		return &scenarios.Scenario{Product: product, Case: &scenarios.Case{ID: id}}
	}
	all := []*scenarios.Scenario{
		mk("sumsub", "sumsub.reject.signature.missing"), mk("sumsub", "sumsub.reject.empty-body"),
		mk("sumsub", "sumsub.accept.unknown-type"), mk("jumio-kyx", "jumio-kyx.accept.message.processed"),
	}
	for _, tt := range []struct {
		products   map[string]bool
		only, skip []string
		want       int
	}{
		{nil, nil, nil, 4},
		{map[string]bool{"sumsub": true}, nil, nil, 3},
		{nil, []string{"sumsub.reject.*"}, nil, 2},
		{nil, []string{"sumsub.reject.*"}, []string{"*.empty-body"}, 1},
		{nil, []string{"*.accept.*", "sumsub.reject.signature.*"}, nil, 3},
		{nil, nil, []string{"*"}, 0},
	} {
		got, err := Select(all, tt.products, tt.only, tt.skip)
		if err != nil || len(got) != tt.want {
			t.Errorf("Select(%v, %v, %v) = %d cases, %v; want %d", tt.products, tt.only, tt.skip, len(got), err, tt.want)
		}
	}
	if _, err := Select(all, nil, []string{"["}, nil); err == nil {
		t.Error("a bad glob was accepted")
	}
}

func TestReportCounts(t *testing.T) {
	r := &Report{Cases: []CaseResult{{Outcome: Pass, Level: "MUST"}, {Outcome: Fail, Level: "SHOULD"}, {Outcome: Skip, Level: "MUST"}}}
	if p, f, s := r.Counts(); p != 1 || f != 1 || s != 1 {
		t.Errorf("counts %d %d %d", p, f, s)
	}
	if r.Failed(map[string]bool{"MUST": true}) {
		t.Error("a SHOULD failure failed the MUST run")
	}
	if !r.Failed(map[string]bool{"MUST": true, "SHOULD": true}) {
		t.Error("a SHOULD failure did not fail a run enforcing SHOULD")
	}
}
