package conformance

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kycsim/kycsim/conformance/receiver"
	"github.com/kycsim/kycsim/simulator/delivery"
)

// TestMisdirectedTarget: a target where every callback gets the same 404,
// 405 or redirect stops the run after GiveUpAfter answers, with the
// diagnosis; the receiver gets a bounded number of requests, far fewer
// than the suite sends.
func TestMisdirectedTarget(t *testing.T) {
	for _, tt := range []struct {
		status int
		want   string
	}{
		{http.StatusNotFound, "every request got 404 Not Found (12 answers): is --to the receiver's webhook path?"},
		{http.StatusMethodNotAllowed, "every request got 405 Method Not Allowed (12 answers): the vendor POSTs"},
		{http.StatusMovedPermanently, "every request got 301 Moved Permanently to https://elsewhere.example/hook (12 answers): vendors do not follow redirects"},
	} {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			var requests atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				if tt.status == http.StatusMovedPermanently {
					w.Header().Set("Location", "https://elsewhere.example/hook")
				}
				w.WriteHeader(tt.status)
			}))
			defer srv.Close()
			opt, cases := runOptions(t, srv.URL)
			opt.Settle = 30 * time.Second // a case that waited for an effect would hold the run up
			rep := Run(context.Background(), cases, opt, Config{Parallel: 8, DiagnoseTarget: true})
			if rep.Misdirected == nil || rep.Misdirected.Status != tt.status {
				t.Fatalf("misdirected %+v, gave up %q", rep.Misdirected, rep.GaveUp)
			}
			if got := rep.Misdirected.Hint("--to"); !strings.Contains(got, tt.want) {
				t.Errorf("hint %q, want %q", got, tt.want)
			}
			if rep.NeverAnswered || !rep.Failed(map[string]bool{"MUST": true}) {
				t.Errorf("never answered %v; failed %v", rep.NeverAnswered, rep.Failed(map[string]bool{"MUST": true}))
			}
			if n := requests.Load(); n > 40 || n >= int64(len(cases)) {
				t.Errorf("the receiver got %d requests before the run stopped (%d cases)", n, len(cases))
			}
			t.Logf("stopped after %d requests in %s", requests.Load(), rep.Duration)
		})
	}
}

// TestMisdirectionNeedsSameStatus: a correct receiver, and one whose
// answers differ, are not diagnosed; a short run whose every answer was
// the same 404 is, at its end.
func TestMisdirectionNeedsSameStatus(t *testing.T) {
	rc, err := receiver.New(receiver.Config{Secret: "s3cr3t"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	opt, cases := runOptions(t, srv.URL)
	picked, err := Select(cases, nil, []string{"sumsub.reject.*", "sumsub.accept.message.*"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep := Run(context.Background(), picked, opt, Config{Parallel: 8, DiagnoseTarget: true})
	if rep.Misdirected != nil || rep.GaveUp != "" {
		t.Errorf("the reference receiver was diagnosed: %+v %q", rep.Misdirected, rep.GaveUp)
	}

	var w targetWatch
	for range 3 {
		w.observe(delivery.Attempt{Status: 404})
	}
	if m := w.misdirection(minMisdirectedAnswers); m == nil || m.Answers != 3 {
		t.Errorf("three 404s: %+v", m)
	}
	w.observe(delivery.Attempt{Status: 200})
	if m := w.misdirection(minMisdirectedAnswers); m != nil {
		t.Errorf("404s and a 200: %+v", m)
	}
	var w2 targetWatch
	w2.observe(delivery.Attempt{Status: 404})
	w2.observe(delivery.Attempt{Status: 405})
	w2.observe(delivery.Attempt{Status: 404})
	if m := w2.misdirection(minMisdirectedAnswers); m != nil {
		t.Errorf("404 and 405: %+v", m)
	}
}

// TestLateTarget: a target whose answers all come after the deadline is
// answered (not "never answered"), and the run gives up on it saying so,
// which fails the run rather than calling the target unreachable.
func TestLateTarget(t *testing.T) {
	rep := &Report{}
	rs := &runState{rep: rep, giveUp: 12, cancel: func() {}}
	late := delivery.Attempt{Status: 200, Late: true, Err: "answered after the vendor's 10 s deadline (200 in 11.2s)"}
	for range 11 {
		rs.attempted(late)
	}
	if rep.GaveUp != "" {
		t.Fatalf("gave up after 11: %q", rep.GaveUp)
	}
	rs.attempted(late)
	if rep.NeverAnswered || !rep.AnsweredLate || !strings.Contains(rep.GaveUp, "after the vendor's deadline: 12 answers in a row came too late (the last: answered after the vendor's 10 s deadline") {
		t.Errorf("never answered %v, gave up %q", rep.NeverAnswered, rep.GaveUp)
	}
	rep2 := &Report{}
	rs2 := &runState{rep: rep2, giveUp: 12, cancel: func() {}}
	for range 12 {
		rs2.attempted(delivery.Attempt{Err: "no answer within the 10s answer deadline"})
	}
	if !rep2.NeverAnswered || rep2.AnsweredLate || !strings.Contains(rep2.GaveUp, "no answer") {
		t.Errorf("no answers: never answered %v, gave up %q", rep2.NeverAnswered, rep2.GaveUp)
	}
}
