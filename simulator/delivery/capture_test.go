package delivery

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// keptBytes is what an attempt holds of the answer: header names and
// values, and the body. It is the counter the capture bounds, independent
// of the process's memory.
func keptBytes(a Attempt) int {
	n := len(a.ResponseBody)
	for k, vs := range a.ResponseHeader {
		for _, v := range vs {
			n += len(k) + len(v)
		}
	}
	return n
}

// headerServer answers every request with headers of about size bytes
// (in 8 KiB values) and a body of bodySize bytes.
func headerServer(t *testing.T, size, bodySize int) *httptest.Server {
	t.Helper()
	value := strings.Repeat("h", 8<<10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i*len(value) < size; i++ {
			w.Header().Add("X-Bulk", value)
		}
		w.Header().Set("Set-Cookie", "session=c00k1e-value")
		w.Write(bytes.Repeat([]byte("b"), bodySize))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestCaptureBounds: an answer with 8 MB of headers fails the attempt
// with the reason and keeps nothing of it; one with 56 KiB of headers
// (under the cap) and a 100 KiB body is acknowledged and keeps at most
// MaxKeptHeaderBytes + MaxResponseBytes, the cuts marked; the log line
// stays as small.
func TestCaptureBounds(t *testing.T) {
	var lines bytes.Buffer
	d := NewDispatcher(NewFakeClock(epoch), NewLog(&lines))
	defer d.Close()

	bomb := headerServer(t, 8<<20, 10)
	res, err := d.Deliver(context.Background(), Request{URL: bomb.URL, Policy: SumsubPolicy.NoRetry()})
	if err != nil {
		t.Fatal(err)
	}
	a := res.Attempts[0]
	if !a.HeadersTooLarge || !a.GotAnswer() || a.Acknowledged() || !strings.Contains(a.Err, "headers are larger than 64 KiB") || keptBytes(a) != 0 {
		t.Errorf("8 MB of headers: too large %v, error %q, kept %d bytes", a.HeadersTooLarge, a.Err, keptBytes(a))
	}

	big := headerServer(t, 56<<10, 100<<10)
	lines.Reset()
	res, err = d.Deliver(context.Background(), Request{URL: big.URL, Policy: SumsubPolicy.NoRetry()})
	if err != nil {
		t.Fatal(err)
	}
	a = res.Attempts[0]
	if !a.Acknowledged() || !a.ResponseHeaderTruncated || !a.ResponseBodyTruncated {
		t.Errorf("56 KiB of headers: acknowledged %v, cuts marked %v %v (%s)", a.Acknowledged(), a.ResponseHeaderTruncated, a.ResponseBodyTruncated, a.Err)
	}
	if n := keptBytes(a); n > MaxKeptHeaderBytes+MaxResponseBytes {
		t.Errorf("kept %d bytes, at most %d", n, MaxKeptHeaderBytes+MaxResponseBytes)
	}
	if v := a.ResponseHeader.Get("Set-Cookie"); v != "[redacted]" {
		t.Errorf("Set-Cookie kept as %q", v)
	}
	if n := lines.Len(); n > 2*(MaxKeptHeaderBytes+MaxResponseBytes)+4<<10 {
		t.Errorf("the log line is %d bytes", n)
	}
}

// TestLateAnswer: a receiver that answers after the deadline, within the
// grace, fails the attempt as "answered after the deadline", with the
// status it gave; one that never answers is "no answer".
func TestLateAnswer(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/late" {
			// Answer 50 ms after the 100 ms deadline, unless the client
			// has gone by then.
			select {
			case <-time.After(150 * time.Millisecond):
				w.WriteHeader(http.StatusAccepted)
			case <-r.Context().Done():
			}
			return
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	p := RetryPolicy{Name: "test", ConnectTimeout: time.Second, AnswerTimeout: 100 * time.Millisecond}
	d := NewDispatcher(NewFakeClock(epoch), nil)
	d.LateGrace = 2 * time.Second
	defer d.Close()
	res, err := d.Deliver(context.Background(), Request{URL: srv.URL + "/late", Policy: p})
	if err != nil {
		t.Fatal(err)
	}
	a := res.Attempts[0]
	if !a.Late || a.Acknowledged() || !a.GotAnswer() || a.Status != http.StatusAccepted || !strings.Contains(a.Err, "answered after the vendor's 100 ms deadline (202 in") {
		t.Errorf("late answer: late %v, status %d, error %q", a.Late, a.Status, a.Err)
	}
	d.LateGrace = 50 * time.Millisecond
	res, err = d.Deliver(context.Background(), Request{URL: srv.URL + "/never", Policy: p})
	if err != nil {
		t.Fatal(err)
	}
	a = res.Attempts[0]
	if a.Late || a.GotAnswer() || !strings.Contains(a.Err, "no answer within the 100ms answer deadline (nor in the 50ms after it)") {
		t.Errorf("no answer: late %v, error %q", a.Late, a.Err)
	}
}

// TestCredentialRedaction: every header whose name looks like a
// credential, and every occurrence of a secret value, is replaced in what
// an attempt records (and so in logs and reports), while the receiver
// gets them as sent.
func TestCredentialRedaction(t *testing.T) {
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		w.Header().Set("X-Echo", "you sent wh-secret-123")
		w.Write([]byte(`{"echo":"wh-secret-123"}`))
	}))
	defer srv.Close()
	var lines bytes.Buffer
	d := NewDispatcher(NewFakeClock(epoch), NewLog(&lines))
	d.Secrets = []string{"wh-secret-123", "abc"} // "abc" is too short to redact
	defer d.Close()
	creds := []string{"Authorization", "Proxy-Authorization", "Cookie", "X-App-Token", "X-App-Access-Sig", "X-Api-Key", "Api-Key",
		"X-Auth-Token", "X-Access-Token", "X-Secret", "X-Webhook-Secret", "X-Signature", "X-Password", "x-custom-apikey", "X-Auth"}
	h := http.Header{"Content-Type": {"application/json"}, "X-Payload-Digest": {"abc"}, "X-Payload-Digest-Alg": {"HMAC_SHA256_HEX"}, "X-Note": {"key wh-secret-123"}}
	for i, c := range creds {
		h.Set(c, "cred-"+strings.Repeat("z", i+1))
	}
	res, err := d.Deliver(context.Background(), Request{URL: srv.URL, Header: h, Body: []byte(`{}`), Policy: SumsubPolicy})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range creds {
		if !strings.HasPrefix(got.Get(c), "cred-") {
			t.Errorf("the receiver got %s %q", c, got.Get(c))
		}
	}
	if strings.Contains(lines.String(), "cred-") || strings.Contains(lines.String(), "wh-secret-123") {
		t.Errorf("a credential reached the log: %s", lines.String())
	}
	var a Attempt
	if err := json.Unmarshal(lines.Bytes(), &a); err != nil {
		t.Fatal(err)
	}
	if a.RequestHeader.Get("X-Payload-Digest") != "abc" || a.RequestHeader.Get("X-Payload-Digest-Alg") != "HMAC_SHA256_HEX" || a.RequestHeader.Get("X-Note") != "key [redacted]" {
		t.Errorf("recorded %v", a.RequestHeader)
	}
	if res.Attempts[0].ResponseHeader.Get("X-Echo") != "you sent [redacted]" || string(a.ResponseBody) != `{"echo":"[redacted]"}` {
		t.Errorf("answer recorded as %v %q", res.Attempts[0].ResponseHeader, a.ResponseBody)
	}
}

func TestIsCredentialHeader(t *testing.T) {
	for name, want := range map[string]bool{
		"Authorization": true, "COOKIE": true, "Set-Cookie": true, "X-Api-Key": true, "x_auth": true, "X-App-Access-Sig": true,
		"X-Hub-Signature-256": true, "X-Passwd": true,
		"Content-Type": false, "X-Payload-Digest": false, "X-Payload-Digest-Alg": false, "User-Agent": false, "X-Forwarded-For": false,
		"Design": false, "Signal": false,
	} {
		if got := IsCredentialHeader(name); got != want {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
}
