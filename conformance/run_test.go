package conformance

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycsim/kycsim/conformance/receiver"
	"github.com/kycsim/kycsim/scenarios"
	"github.com/kycsim/kycsim/simulator/delivery"
	"github.com/kycsim/kycsim/spec"
)

// runOptions returns options that send every product's callbacks to one
// server.
func runOptions(t *testing.T, base string) (scenarios.Options, []*scenarios.Scenario) {
	t.Helper()
	cat, err := spec.Default()
	if err != nil {
		t.Fatal(err)
	}
	cases, err := scenarios.Cases(cat)
	if err != nil {
		t.Fatal(err)
	}
	urls := map[string]string{}
	for p, path := range receiver.Paths {
		urls[p] = base + path
	}
	d := delivery.NewDispatcher(delivery.NewScaledClock(0.00001), delivery.NewLog(nil))
	t.Cleanup(d.Close)
	opt := scenarios.Options{Catalog: cat, URLs: urls, Secret: "s3cr3t", Dispatcher: d, Settle: 50 * time.Millisecond, Quiet: -1}
	opt.Vars, opt.ForwardedFor = SourceVars(SourceDirect, "127.0.0.2")
	return opt, cases
}

// vendorTime reads the vendor timestamp of a callback body.
func vendorTime(product string, body []byte) (time.Time, bool) {
	var field string
	switch product {
	case "sumsub":
		var v struct{ CreatedAtMs string }
		if json.Unmarshal(body, &v) != nil || v.CreatedAtMs == "" {
			return time.Time{}, false
		}
		t, err := time.Parse("2006-01-02 15:04:05.000", v.CreatedAtMs)
		return t, err == nil
	case "jumio-kyx":
		var v struct{ CallbackSentAt string }
		if json.Unmarshal(body, &v) != nil {
			return time.Time{}, false
		}
		field = v.CallbackSentAt
	default:
		q, err := url.ParseQuery(string(body))
		if err != nil {
			return time.Time{}, false
		}
		field = q.Get("callbackDate") + q.Get("timestamp")
	}
	t, err := time.Parse(time.RFC3339, field)
	return t, err == nil
}

// TestNoCaseSendsTheFuture plays every case, one at a time so that each
// runs after the others' scaled waits, against a receiver that compares
// each callback's vendor timestamp with the real time it arrived: none
// may lie in the future, whatever ran before.
func TestNoCaseSendsTheFuture(t *testing.T) {
	var mu sync.Mutex
	var worst time.Duration
	var worstCase string
	seen := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived := time.Now()
		body, _ := io.ReadAll(r.Body)
		for p, path := range receiver.Paths {
			if r.URL.Path != path {
				continue
			}
			if at, ok := vendorTime(p, body); ok {
				mu.Lock()
				seen++
				if d := at.Sub(arrived); d > worst {
					worst, worstCase = d, p+": "+string(body)
				}
				mu.Unlock()
			}
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	opt, cases := runOptions(t, srv.URL)
	// The case that waits a scaled hour goes first, as in a real run
	// where it would move a shared clock on.
	for i, sc := range cases {
		if sc.Case.ID == "sumsub.dedup.distinct-results" {
			cases[0], cases[i] = cases[i], cases[0]
		}
	}
	Run(context.Background(), cases, opt, Config{Parallel: 1})
	if seen < len(cases) {
		t.Fatalf("only %d timestamps seen for %d cases", seen, len(cases))
	}
	if worst > 0 {
		t.Errorf("a callback was dated %s in the future of its arrival: %s", worst, worstCase)
	}
}

// TestRunGivesUpOnATargetThatStopsAnswering checks that a run against a
// target that never answers ends early, says why, and reports every case.
func TestRunGivesUpOnATargetThatStopsAnswering(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// Every connection is closed at once: no attempt gets an answer.
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	opt, cases := runOptions(t, "http://"+ln.Addr().String())
	rep := Run(context.Background(), cases, opt, Config{Parallel: 4, GiveUpAfter: 6})
	if rep.GaveUp == "" || !rep.NeverAnswered {
		t.Fatalf("gave up %q, never answered %v", rep.GaveUp, rep.NeverAnswered)
	}
	if len(rep.Cases) != len(cases) {
		t.Fatalf("%d results for %d cases", len(rep.Cases), len(cases))
	}
	notPlayed := 0
	for i, c := range rep.Cases {
		if c.ID != cases[i].Case.ID {
			t.Fatalf("result %d is %s, want %s: the report is not in case order", i, c.ID, cases[i].Case.ID)
		}
		if c.Outcome == Pass {
			t.Errorf("%s passed against a target that never answers", c.ID)
		}
		if len(c.Reasons) > 0 && strings.HasPrefix(c.Reasons[0], "not played") {
			notPlayed++
		}
	}
	if notPlayed == 0 {
		t.Error("every case was played: the run did not stop early")
	}
}

// TestIncomplete counts the enforced cases that could not be observed.
func TestIncomplete(t *testing.T) {
	rc, err := receiver.New(receiver.Config{Secret: "s3cr3t"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	opt, cases := runOptions(t, srv.URL)
	cases, err = Select(cases, nil, []string{"sumsub.dedup.identical", "sumsub.timing.deadline"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep := Run(context.Background(), cases, opt, Config{}) // no probe
	enforced := map[string]bool{scenarios.LevelMust: true}
	if n := rep.Incomplete(enforced); n != 1 || rep.Failed(enforced) {
		t.Errorf("incomplete %d, failed %v; want 1 and false: %+v", n, rep.Failed(enforced), rep.Cases)
	}
	// The answers were checked all the same: the dedup case passes on
	// them, its effect check listed as unobserved.
	for _, c := range rep.Cases {
		if c.ID == "sumsub.dedup.identical" && (c.Outcome != Pass || len(c.UnobservedChecks) != 1) {
			t.Errorf("%s without a probe: %s, unobserved %q; want a pass with one unobserved check", c.ID, c.Outcome, c.UnobservedChecks)
		}
	}
	if n, checks := rep.Unobserved(); n != 1 || checks != 1 {
		t.Errorf("unobserved: %d cases, %d checks; want 1 and 1", n, checks)
	}
	opt.Probe = srv.URL + "/_probe/{subject}"
	if rep := Run(context.Background(), cases, opt, Config{}); rep.Incomplete(enforced) != 0 {
		t.Errorf("with a probe, %d cases incomplete", rep.Incomplete(enforced))
	}
}
