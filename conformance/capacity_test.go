package conformance

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// TestCapacityIsNotCorrectness plays cases at once against a receiver
// that serves one connection at a time behind a backlog of one, slowly:
// the connections it has no room for are kycsim's load, not the cases'
// fault. With a budget too short to wait for room, the cases that could
// not be delivered are not judged (skipped, Capacity) and the report has a
// capacity finding; none fails.
func TestCapacityIsNotCorrectness(t *testing.T) {
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := time.NewTimer(1200 * time.Millisecond)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
		}
		w.WriteHeader(http.StatusOK)
	})
	srv := singleThreaded(t, slow, 1)
	defer srv.Close()
	opt, cases := runOptions(t, srv.URL)
	cases, err := Select(cases, nil, []string{"sumsub.accept.message.*"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cases = cases[:8]
	rep := Run(context.Background(), cases, opt, Config{Parallel: 8, CapacityBudget: 200 * time.Millisecond})
	for _, c := range rep.Cases {
		if c.Outcome == Fail {
			t.Errorf("%s failed for want of the target's room: %v", c.ID, c.Reasons)
		}
	}
	if rep.CapacityLost() == 0 || len(rep.Capacity) != 1 || rep.Capacity[0].Lost == 0 {
		t.Fatalf("%d cases not judged, findings %+v; want some, and a finding with requests lost", rep.CapacityLost(), rep.Capacity)
	}
	for _, c := range rep.Cases {
		if c.Capacity && (c.Outcome != Skip || len(c.Reasons) < 2) {
			t.Errorf("%s: %s %v; want skipped, saying why", c.ID, c.Outcome, c.Reasons)
		}
	}
}
