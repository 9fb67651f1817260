package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kycsim/kycsim/conformance/receiver"
	"github.com/kycsim/kycsim/simulator/load"
)

func TestLoadUsage(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"no target", []string{"load", "sumsub", "applicantReviewed", "--rate", "10"}, "--to is required"},
		{"foreign target", []string{"load", "sumsub", "applicantReviewed", "--to", "http://192.0.2.1/sumsub", "--rate", "10"}, "127.0.0.0/8"},
		{"localhost", []string{"load", "sumsub", "applicantReviewed", "--to", "http://localhost:9000/sumsub", "--rate", "10"}, "127.0.0.0/8"},
		{"foreign probe", []string{"load", "sumsub", "applicantReviewed", "--to", "http://127.0.0.1:1/", "--rate", "10", "--probe", "http://192.0.2.1/_probe/{subject}"}, "127.0.0.0/8"},
		{"probe without subject", []string{"load", "sumsub", "applicantReviewed", "--to", "http://127.0.0.1:1/", "--rate", "10", "--probe", "http://127.0.0.1:1/_probe"}, "{subject}"},
		{"no rate", []string{"load", "sumsub", "applicantReviewed", "--to", "http://127.0.0.1:1/"}, "--rate is required"},
		{"negative slack", []string{"load", "sumsub", "applicantReviewed", "--to", "http://127.0.0.1:1/", "--rate", "10", "--slack", "-1s"}, "--slack"},
		{"bad rate", []string{"load", "sumsub", "applicantReviewed", "--to", "http://127.0.0.1:1/", "--rate", "fast"}, "--rate"},
		{"bad rate unit", []string{"load", "sumsub", "applicantReviewed", "--to", "http://127.0.0.1:1/", "--rate", "10/d"}, "unit"},
		{"bad share", []string{"load", "sumsub", "applicantReviewed", "--to", "http://127.0.0.1:1/", "--rate", "10", "--duplicates", "10"}, "percentage"},
		{"shares too big", []string{"load", "sumsub", "applicantReviewed", "--to", "http://127.0.0.1:1/", "--rate", "10", "--duplicates", "60%", "--stale", "40%"}, "room for fresh"},
		{"unknown product", []string{"load", "paypal", "x", "--to", "http://127.0.0.1:1/", "--rate", "10"}, "paypal"},
		{"unknown message", []string{"load", "sumsub", "noSuchType", "--to", "http://127.0.0.1:1/", "--rate", "10"}, "noSuchType"},
		{"one argument", []string{"load", "sumsub", "--to", "http://127.0.0.1:1/", "--rate", "10"}, "PRODUCT MESSAGE"},
		{"scenario and message", []string{"load", "sumsub", "applicantReviewed", "--scenario", "sumsub/happy-path", "--to", "http://127.0.0.1:1/", "--rate", "10"}, "no PRODUCT MESSAGE"},
		{"unknown scenario", []string{"load", "--scenario", "sumsub/nope", "--to", "http://127.0.0.1:1/", "--rate", "10"}, "sumsub/nope"},
		{"scenario at max", []string{"load", "--scenario", "sumsub/happy-path", "--to", "http://127.0.0.1:1/", "--rate", "max"}, "session rate"},
		{"two products", []string{"load", "--scenario", "sumsub/happy-path", "--scenario", "jumio-kyx/happy-path", "--to", "http://127.0.0.1:1/", "--rate", "10"}, "one product"},
		{"bad format", []string{"load", "sumsub", "applicantReviewed", "--to", "http://127.0.0.1:1/", "--rate", "10", "--format", "xml"}, "--format"},
		{"IPv6 source", []string{"load", "sumsub", "applicantReviewed", "--to", "http://127.0.0.1:1/", "--rate", "10", "--from", "::1"}, "127.0.0.0/8"},
		{"no stale stage", []string{"load", "jumio-kyx", "ACQUISITION_STARTED", "--to", "http://127.0.0.1:1/", "--rate", "10", "--stale", "5%"}, "first stage"},
		{"sumsub precision", []string{"load", "sumsub", "applicantReviewed", "--to", "http://127.0.0.1:1/", "--rate", "10", "--precision", "1"}, "precision"},
	} {
		code, _, errOut := run(t, "", tt.args...)
		if code != ExitUsage || !strings.Contains(errOut, tt.want) {
			t.Errorf("%s: exit %d, stderr %q (want %d and %q)", tt.name, code, errOut, ExitUsage, tt.want)
		}
	}
}

func TestParseRate(t *testing.T) {
	for in, want := range map[string]float64{"2000": 2000, "2000/s": 2000, "300/m": 5, "3600/h": 1, "0.5": 0.5, "max": 0} {
		got, err := parseRate(in)
		if err != nil || got != want {
			t.Errorf("%q: %g, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "0", "-3", "x", "10/d", "1e9"} {
		if _, err := parseRate(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

// TestLoadEveryProductAgainstTheReferenceReceiver loads each product's
// first message, with duplicates and stale events, into the reference
// receiver and checks through its probe that it acted on each
// acknowledged event once.
func TestLoadEveryProductAgainstTheReferenceReceiver(t *testing.T) {
	_, base := referenceReceiver(t)
	for product, path := range receiver.Paths {
		msg := map[string]string{
			"jumio-kyx": "PROCESSED", "jumio-netverify": "APPROVED_VERIFIED", "jumio-auth": "PASSED",
			"jumio-docverify": "EXTRACTED", "sumsub": "applicantReviewed",
		}[product]
		code, out, errOut := run(t, "", "load", product, msg, "--to", base+path, "--secret", "s3cr3t",
			"--rate", "max", "--connections", "4", "--max-requests", "60", "--duplicates", "10%", "--stale", "10%",
			"--probe", base+"/_probe/{subject}", "--probe-settle", "2s")
		if code != ExitOK {
			t.Errorf("%s %s: exit %d\n%s%s", product, msg, code, out, errOut)
			continue
		}
		for _, want := range []string{"60 requests", "2xx 60", "PASS", "(0 missing, 0 extra)"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: no %q in\n%s", product, want, out)
			}
		}
		if errOut != "" {
			t.Errorf("%s: stderr %q (no progress line off a terminal)", product, errOut)
		}
	}
}

// TestLoadJSONSummary checks the JSON summary against the receiver.
func TestLoadJSONSummary(t *testing.T) {
	var got atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got.Add(1)%10 == 0 {
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte("\x1b[31mboom\x1b[0m"))
		}
	}))
	defer srv.Close()
	code, out, errOut := run(t, "", "load", "jumio-kyx", "PROCESSED", "--to", srv.URL, "--rate", "1000", "--max-requests", "50", "--format", "json")
	if code != ExitFailed {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	var sum load.Summary
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if sum.Sent != got.Load() || sum.Planned != 50 || sum.Classes["5xx"] != sum.Sent/10 || sum.Passed {
		t.Errorf("sent %d (the receiver got %d) planned %d classes %v passed %v", sum.Sent, got.Load(), sum.Planned, sum.Classes, sum.Passed)
	}
	if sum.Rate != 1000 || sum.Deadline != 10*time.Second || sum.Product != "jumio-kyx" {
		t.Errorf("rate %g deadline %s product %s", sum.Rate, sum.Deadline, sum.Product)
	}
}

// TestLoadTextEscapesTheReceiversBytes: an answer's control characters
// never reach the terminal.
func TestLoadTextEscapesTheReceiversBytes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte("\x1b]0;owned\x07bad signature"))
	}))
	defer srv.Close()
	code, out, _ := run(t, "", "load", "sumsub", "applicantReviewed", "--to", srv.URL, "--secret", "wrong", "--rate", "max", "--max-requests", "5")
	if code != ExitFailed {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if strings.ContainsAny(out, "\x1b\x07") || !strings.Contains(out, "401 Unauthorized ×5") || !strings.Contains(out, "FAIL 5 answers were not 2xx") {
		t.Errorf("output:\n%q", out)
	}
}

// TestLoadScenarioSessions plays a built-in scenario as sessions against
// the reference receiver, with its probe.
func TestLoadScenarioSessions(t *testing.T) {
	_, base := referenceReceiver(t)
	code, out, errOut := run(t, "", "load", "--scenario", "sumsub/happy-path", "--to", base+"/sumsub", "--secret", "s3cr3t",
		"--rate", "100", "--max-requests", "5", "--probe", base+"/_probe/{subject}", "--slack", "1h") // sessions, not the machine's timing
	if code != ExitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"sumsub/happy-path as sessions", "5 played: 5 passed, 0 failed", "callbacks  20 sent", "2xx 20", "PASS"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
}

// TestLoadScenarioSessionsFail: sessions against a receiver with the
// wrong secret fail, and the first failure is shown.
func TestLoadScenarioSessionsFail(t *testing.T) {
	_, base := referenceReceiver(t)
	code, out, _ := run(t, "", "load", "--scenario", "sumsub/happy-path", "--to", base+"/sumsub", "--secret", "wrong",
		"--rate", "100", "--max-requests", "3", "--format", "json")
	if code != ExitFailed {
		t.Fatalf("exit %d\n%s", code, out)
	}
	var sum load.Summary
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Sessions == nil || sum.Sessions.Failed != 3 || !strings.Contains(sum.Sessions.FirstFailure, "401") {
		t.Errorf("sessions %+v", sum.Sessions)
	}
}

// TestLoadCtrlC cancels the command's context mid-run: it stops, prints
// the summary and exits 1.
func TestLoadCtrlC(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got.Add(1) == 10 {
			cancel()
		}
	}))
	defer srv.Close()
	var out, errb bytes.Buffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}
	done := make(chan int)
	go func() {
		done <- m.Run(ctx, []string{"load", "jumio-kyx", "PROCESSED", "--to", srv.URL, "--rate", "200", "--duration", "1h"})
	}()
	select {
	case code := <-done:
		if code != ExitFailed || !strings.Contains(out.String(), "FAIL interrupted") {
			t.Errorf("exit %d\n%s%s", code, out.String(), errb.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("load did not stop after Ctrl-C")
	}
}
