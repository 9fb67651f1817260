package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestConformMisdirectedTarget: --to at a path where everything answers
// 404 ends at once with exit 3 and what it likely means, not with dozens
// of case failures.
func TestConformMisdirectedTarget(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.NotFound(w, r)
	}))
	defer srv.Close()
	code, out, stderr := run(t, "", "conform", "--to", srv.URL+"/wrong", "--product", "sumsub", "--secret", "s3cr3t",
		"--probe", srv.URL+"/_probe/{subject}", "--settle", "30s")
	if code != ExitUnreachable || !strings.Contains(stderr, "misconfigured target: every request got 404 Not Found (12 answers): is --to the receiver's webhook path?") {
		t.Errorf("exit %d\n%s%s", code, out, stderr)
	}
	if n := requests.Load(); n > 40 {
		t.Errorf("%d requests before the run stopped", n)
	}
}

// bombServer answers every request 200 with about 8 MB of headers (under
// the 10 MB Go allows by default) and counts the requests.
func bombServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	value := strings.Repeat("b", 8<<10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		for range 1000 {
			w.Header().Add("X-Bomb", value)
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// TestHeaderBombBounded: a receiver that answers every callback with 8 MB
// of headers fails each attempt with the reason, and what kycsim writes
// stays small: the reports of a conform run, and send --log.
func TestHeaderBombBounded(t *testing.T) {
	srv, n := bombServer(t)
	dir := t.TempDir()
	code, out, stderr := run(t, "", "conform", "--to", srv.URL+"/sumsub", "--product", "sumsub", "--secret", "s3cr3t",
		"--probe", srv.URL+"/_probe/{subject}", "--only", "sumsub.accept.message.*", "--settle", "100ms",
		"--report", "json:"+filepath.Join(dir, "r.json"), "--report", "html:"+filepath.Join(dir, "r.html"),
		"--report", "junit:"+filepath.Join(dir, "r.xml"), "--format", "json")
	if code != ExitFailed || !strings.Contains(out, "headers are larger than 64 KiB") {
		t.Errorf("exit %d, stderr %s", code, stderr)
	}
	if n.Load() < 10 {
		t.Errorf("only %d requests", n.Load())
	}
	const limit = 5 << 20
	for _, name := range []string{"r.json", "r.html", "r.xml"} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() > limit {
			t.Errorf("%s is %d bytes, over %d", name, st.Size(), limit)
		}
		t.Logf("%s: %d bytes for %d requests", name, st.Size(), n.Load())
	}
	if len(out) > limit {
		t.Errorf("the JSON on stdout is %d bytes", len(out))
	}

	logFile := filepath.Join(dir, "send.log")
	code, out, _ = run(t, "", "send", "sumsub", "applicantReviewed", "--to", srv.URL+"/sumsub", "--no-retry", "--log", logFile)
	st, err := os.Stat(logFile)
	if code != ExitFailed || err != nil || st.Size() > 64<<10 || !strings.Contains(out, "headers are larger than 64 KiB") {
		t.Errorf("send: exit %d, log %v %v\n%s", code, st, err, out)
	}
}

// TestSendLogRedaction: send --log keeps no credential header value and
// no --secret value, whatever the header is called.
func TestSendLogRedaction(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Set-Cookie", "sid=c00kie-from-the-receiver")
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	logFile := filepath.Join(t.TempDir(), "send.log")
	args := []string{"send", "sumsub", "applicantReviewed", "--to", srv.URL, "--secret", "the-webhook-s3cret", "--log", logFile}
	for _, h := range []string{"X-Api-Key", "Api-Key", "X-Auth-Token", "X-Access-Token", "X-Secret", "X-Webhook-Secret", "Authorization", "X-Signature", "X-Password"} {
		args = append(args, "--header", h+": cred-"+strings.ToLower(h))
	}
	args = append(args, "--header", "X-Note: carries the-webhook-s3cret too")
	code, out, stderr := run(t, "", args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	b, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{"cred-", "the-webhook-s3cret", "c00kie"} {
		if strings.Contains(string(b), leak) || strings.Contains(out, leak) {
			t.Errorf("%q reached the log or the output:\n%s\n%s", leak, b, out)
		}
	}
	if !strings.Contains(string(b), `"X-Payload-Digest":["`) {
		t.Errorf("the digest (no secret) should stay for replays:\n%s", b)
	}
}

// TestSendDownReceiverSaysWhatIsNext: each failed attempt is printed
// with when the next one is due and on whose schedule.
func TestSendDownReceiverSaysWhatIsNext(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String() + "/sumsub"
	ln.Close()
	code, out, _ := run(t, "", "send", "sumsub", "applicantReviewed", "--to", down, "--time-scale", "0.000001")
	if code != ExitFailed {
		t.Errorf("exit %d", code)
	}
	for _, want := range []string{
		"attempt 1", "connection refused: nothing listens at",
		"next attempt in 5m0s on Sumsub's schedule, 300µs at --time-scale 1e-06 (4 left)",
		"next attempt in 18h0m0s on Sumsub's schedule, 65ms at --time-scale 1e-06 (1 left)",
		"attempt 5", "not acknowledged after 5 attempt(s)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = run(t, "", "send", "jumio-kyx", "PROCESSED", "--to", down, "--retry-delays", "1ms")
	if code != ExitFailed || !strings.Contains(out, "next attempt in 1ms on your --retry-delays (1 left); --no-retry or --time-scale to shorten") {
		t.Errorf("custom delays: exit %d\n%s", code, out)
	}
}
