package scenarios

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycsim/kycsim/simulator/delivery"
	"github.com/kycsim/kycsim/simulator/signing"
)

// TestParallelIdenticalCopies: {count: N, send: M, identical: true}
// delivers N byte-identical copies of one built callback, each answer
// checked, where {count: N, send: M} builds N distinct ones.
func TestParallelIdenticalCopies(t *testing.T) {
	cat := catalog(t)
	for _, tt := range []struct {
		identical string
		distinct  int
	}{{"identical: true", 1}, {"identical: false", 5}} {
		src := "product: sumsub\nname: copies\ndescription: copies.\nsteps:\n  - parallel: {count: 5, send: applicantReviewed, " + tt.identical + ", expect: 2xx}\n"
		sc, err := Load("copies.yaml", []byte(src), cat)
		if err != nil {
			t.Fatal(err)
		}
		rec := &recorder{}
		srv := httptest.NewServer(rec)
		d := delivery.NewDispatcher(fixedClock{time.Date(2026, 5, 30, 12, 0, 0, 0, time.UTC)}, delivery.NewLog(nil))
		res := Run(context.Background(), sc, Options{Catalog: cat, URLs: map[string]string{"sumsub": srv.URL}, Dispatcher: d, Secret: "s"})
		d.Close()
		srv.Close()
		if !res.Passed || len(res.Steps) != 5 {
			t.Fatalf("%s: %s", tt.identical, pretty(res))
		}
		seen := map[string]bool{}
		for _, b := range rec.bodies {
			seen[b] = true
		}
		if len(rec.bodies) != 5 || len(seen) != tt.distinct {
			t.Errorf("%s: %d bodies, %d distinct; want 5 and %d", tt.identical, len(rec.bodies), len(seen), tt.distinct)
		}
		if tt.distinct == 1 && !strings.Contains(res.Steps[4].Label, "copy 5 of 5") {
			t.Errorf("label %q", res.Steps[4].Label)
		}
	}
	_, err := Load("bad.yaml", []byte("product: sumsub\nname: bad\ndescription: bad.\nsteps:\n  - {send: applicantReviewed, id: a}\n  - parallel: {count: 2, redeliver: a, identical: true}\n"), cat)
	if err == nil || !strings.Contains(err.Error(), "bad.yaml:6:") || !strings.Contains(err.Error(), "identical applies to {count: N, send: ...}") {
		t.Errorf("identical on a redeliver: %v", err)
	}
}

// TestProbeAnswerBounded: a probe that answers with megabytes of headers
// fails the expectation with the reason instead of being read.
func TestProbeAnswerBounded(t *testing.T) {
	cat := catalog(t)
	value := strings.Repeat("p", 8<<10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/_probe/") {
			for range 1000 {
				w.Header().Add("X-Bomb", value)
			}
		}
		w.Write([]byte(`{"events": 1, "status": "x"}`))
	}))
	defer srv.Close()
	src := "product: sumsub\nname: probe\ndescription: probe.\nsteps:\n  - send: applicantReviewed\n  - expect: {events: 1, within: 100ms}\n"
	sc, err := Load("probe.yaml", []byte(src), cat)
	if err != nil {
		t.Fatal(err)
	}
	d := delivery.NewDispatcher(fixedClock{time.Date(2026, 5, 30, 12, 0, 0, 0, time.UTC)}, delivery.NewLog(nil))
	defer d.Close()
	res := Run(context.Background(), sc, Options{Catalog: cat, URLs: map[string]string{"sumsub": srv.URL}, Dispatcher: d, Secret: "s",
		Probe: srv.URL + "/_probe/{subject}", Quiet: -1})
	if res.Passed || !strings.Contains(pretty(res), "exceeded 65536 bytes") {
		t.Errorf("a probe with 8 MB of headers: %s", pretty(res))
	}
}

// TestParallelIdenticalCopiesAsRecorded: with AsRecorded, identical
// copies carry the recorded headers, as a single send does, not a fresh
// signature.
func TestParallelIdenticalCopiesAsRecorded(t *testing.T) {
	cat := catalog(t)
	src := "product: sumsub\nname: copies\ndescription: copies.\nsteps:\n" +
		"  - parallel: {count: 3, send: applicantReviewed, identical: true, recorded-headers: {X-Payload-Digest: recorded-digest}, expect: 2xx}\n"
	sc, err := Load("copies.yaml", []byte(src), cat)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var digests []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		digests = append(digests, r.Header.Get(signing.DigestHeader))
		mu.Unlock()
	}))
	defer srv.Close()
	d := delivery.NewDispatcher(fixedClock{time.Date(2026, 5, 30, 12, 0, 0, 0, time.UTC)}, delivery.NewLog(nil))
	defer d.Close()
	res := Run(context.Background(), sc, Options{Catalog: cat, URLs: map[string]string{"sumsub": srv.URL}, Dispatcher: d, Secret: "s", AsRecorded: true})
	if !res.Passed {
		t.Fatal(pretty(res))
	}
	if len(digests) != 3 || slices.ContainsFunc(digests, func(s string) bool { return s != "recorded-digest" }) {
		t.Errorf("digests %q, want the recorded one on all 3 copies", digests)
	}
}
