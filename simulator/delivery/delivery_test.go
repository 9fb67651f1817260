package delivery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var epoch = time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)

// statusServer answers each request with the next status of the list (the
// last one repeats) and counts the requests.
func statusServer(t *testing.T, statuses ...int) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		if i >= len(statuses) {
			i = len(statuses) - 1
		}
		w.WriteHeader(statuses[i])
		w.Write([]byte(strings.Repeat("x", 10)))
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestRetrySchedules(t *testing.T) {
	for _, tt := range []struct {
		name     string
		policy   RetryPolicy
		statuses []int
		want     []time.Duration // attempt times after the first
		ack      bool
	}{
		{"sumsub never acknowledged", SumsubPolicy, []int{500}, []time.Duration{5 * time.Minute, 65 * time.Minute, 365 * time.Minute, 1445 * time.Minute}, false},
		{"sumsub actions never acknowledged", SumsubActionPolicy, []int{503}, []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 7 * time.Minute}, false},
		{"jumio default", JumioPolicy, []int{404}, []time.Duration{time.Minute, 6 * time.Minute, 36 * time.Minute, 156 * time.Minute}, false},
		{"acknowledged on the third attempt", SumsubPolicy, []int{500, 302, 204}, []time.Duration{5 * time.Minute, 65 * time.Minute}, true},
		{"acknowledged at once", SumsubPolicy, []int{200}, nil, true},
		{"no retry", SumsubPolicy.NoRetry(), []int{500}, nil, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, n := statusServer(t, tt.statuses...)
			clock := NewFakeClock(epoch)
			log := NewLog(nil)
			d := NewDispatcher(clock, log)
			defer d.Close()
			res, err := d.Deliver(context.Background(), Request{URL: srv.URL, Body: []byte("{}"), Policy: tt.policy})
			if err != nil {
				t.Fatal(err)
			}
			if got := len(res.Attempts); got != 1+len(tt.want) || int(n.Load()) != got {
				t.Fatalf("%d attempts, server saw %d, want %d", got, n.Load(), 1+len(tt.want))
			}
			for i, a := range res.Attempts {
				off := a.ClockTime.Sub(epoch)
				want := time.Duration(0)
				if i > 0 {
					want = tt.want[i-1]
				}
				if off != want || a.Number != i+1 {
					t.Errorf("attempt %d at +%s, want +%s", a.Number, off, want)
				}
			}
			if res.Acknowledged() != tt.ack {
				t.Errorf("acknowledged = %v, want %v", res.Acknowledged(), tt.ack)
			}
			if got := log.Attempts(); len(got) != len(res.Attempts) {
				t.Errorf("log has %d attempts, want %d", len(got), len(res.Attempts))
			}
		})
	}
}

// TestAnswerDeadline checks that a receiver that never answers costs one
// answer deadline per attempt, and that the error says so.
func TestAnswerDeadline(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	p := RetryPolicy{Name: "test", ConnectTimeout: time.Second, AnswerTimeout: 50 * time.Millisecond, Delays: []time.Duration{time.Hour}}
	d := NewDispatcher(NewFakeClock(epoch), nil)
	defer d.Close()
	res, err := d.Deliver(context.Background(), Request{URL: srv.URL, Policy: p})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Attempts) != 2 {
		t.Fatalf("%d attempts, want 2", len(res.Attempts))
	}
	for _, a := range res.Attempts {
		if !strings.Contains(a.Err, "no answer within the 50ms answer deadline") {
			t.Errorf("attempt %d: error %q", a.Number, a.Err)
		}
		if a.Latency < 50*time.Millisecond || a.Latency > 5*time.Second {
			t.Errorf("attempt %d took %s", a.Number, a.Latency)
		}
	}
}

func TestRefusedConnection(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	d := NewDispatcher(NewFakeClock(epoch), nil)
	res, err := d.Deliver(context.Background(), Request{URL: "http://" + addr + "/x", Policy: SumsubPolicy.NoRetry()})
	if err != nil {
		t.Fatal(err)
	}
	if res.Acknowledged() || !strings.Contains(res.Attempts[0].Err, "refused") {
		t.Errorf("attempt: %+v", res.Attempts[0])
	}
}

// TestCheckDial checks that the guard sees the URL's host and each
// address it resolves to, that a refused address is never connected to,
// and that an allowed one is the one connected to.
func TestCheckDial(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	var seen []string
	var mu sync.Mutex
	d := NewDispatcher(NewFakeClock(epoch), nil)
	d.CheckDial = func(host string, addr netip.AddrPort) error {
		mu.Lock()
		seen = append(seen, host+" "+addr.String())
		mu.Unlock()
		if host == "localhost" {
			return errors.New("refused by the guard")
		}
		return nil
	}
	res, err := d.Deliver(context.Background(), Request{URL: fmt.Sprintf("http://localhost:%d/x", port), Policy: SumsubPolicy.NoRetry()})
	if err != nil {
		t.Fatal(err)
	}
	if res.Acknowledged() || !strings.Contains(res.Attempts[0].Err, "refused by the guard") || hits.Load() != 0 {
		t.Errorf("a refused host: attempt %+v, %d requests reached the receiver", res.Attempts[0], hits.Load())
	}
	res, err = d.Deliver(context.Background(), Request{URL: srv.URL + "/x", Policy: SumsubPolicy.NoRetry()})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Acknowledged() || hits.Load() != 1 {
		t.Errorf("an allowed address: attempt %+v, %d requests reached the receiver", res.Attempts[0], hits.Load())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) < 2 || !strings.HasPrefix(seen[0], "localhost ") || seen[len(seen)-1] != fmt.Sprintf("127.0.0.1 127.0.0.1:%d", port) {
		t.Errorf("the guard saw %v", seen)
	}
}

// TestSourceAddress checks that From is the address the receiver sees.
func TestSourceAddress(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		mu.Lock()
		seen = append(seen, host)
		mu.Unlock()
	}))
	defer srv.Close()
	d := NewDispatcher(NewFakeClock(epoch), nil)
	defer d.Close()
	for _, from := range []string{"127.0.0.2", "127.0.0.3", ""} {
		var addr netip.Addr
		if from != "" {
			addr = netip.MustParseAddr(from)
		}
		res, err := d.Deliver(context.Background(), Request{URL: srv.URL, Policy: SumsubPolicy, From: addr})
		if err != nil || !res.Acknowledged() {
			t.Fatalf("from %s: %v %+v", from, err, res)
		}
		if from != "" && res.Attempts[0].From != from {
			t.Errorf("attempt records from %q", res.Attempts[0].From)
		}
	}
	want := []string{"127.0.0.2", "127.0.0.3", "127.0.0.1"}
	if strings.Join(seen, ",") != strings.Join(want, ",") {
		t.Errorf("receiver saw %v, want %v", seen, want)
	}
}

// TestHeadersAndRedaction checks that headers and body reach the receiver
// as given, while the log keeps credentials out.
func TestHeadersAndRedaction(t *testing.T) {
	var got http.Header
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		body = make([]byte, r.ContentLength)
		r.Body.Read(body)
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	var lines bytes.Buffer
	log := NewLog(&lines)
	d := NewDispatcher(NewFakeClock(epoch), log)
	defer d.Close()
	h := http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer s3cr3t"}, "X-Payload-Digest": {"abc"}}
	res, err := d.Deliver(context.Background(), Request{URL: srv.URL, Header: h, Body: []byte(`{"a":1}`), Policy: SumsubPolicy})
	if err != nil {
		t.Fatal(err)
	}
	if got.Get("Authorization") != "Bearer s3cr3t" || got.Get("X-Payload-Digest") != "abc" || string(body) != `{"a":1}` {
		t.Errorf("receiver got %v %q", got, body)
	}
	if strings.Contains(lines.String(), "s3cr3t") || strings.Contains(res.Attempts[0].RequestHeader.Get("Authorization"), "s3cr3t") {
		t.Errorf("a credential reached the log: %s", lines.String())
	}
	var a Attempt
	if err := json.Unmarshal(lines.Bytes(), &a); err != nil || a.Status != 200 || string(a.ResponseBody) != "ok" {
		t.Errorf("log line %s: %v", lines.String(), err)
	}
}

func TestBadRequests(t *testing.T) {
	d := NewDispatcher(NewFakeClock(epoch), nil)
	for _, req := range []Request{
		{URL: "ftp://127.0.0.1/x", Policy: SumsubPolicy},
		{URL: "http://", Policy: SumsubPolicy},
		{URL: "http://127.0.0.1:1/", Policy: RetryPolicy{}},
		{URL: ":bad", Policy: SumsubPolicy},
	} {
		if _, err := d.Deliver(context.Background(), req); err == nil {
			t.Errorf("%+v: delivered", req)
		}
	}
}

func TestParseDelays(t *testing.T) {
	got, err := ParseDelays("30s, 1m,5h")
	if err != nil || len(got) != 3 || got[2] != 5*time.Hour {
		t.Errorf("ParseDelays = %v, %v", got, err)
	}
	for _, s := range []string{"", "none"} {
		if got, err := ParseDelays(s); err != nil || got != nil {
			t.Errorf("ParseDelays(%q) = %v, %v", s, got, err)
		}
	}
	for _, s := range []string{"1x", "-1s", "1s,,2s", strings.Repeat("1s,", 100) + "1s"} {
		if _, err := ParseDelays(s); err == nil {
			t.Errorf("ParseDelays(%q) accepted", s)
		}
	}
}

func TestScaledClock(t *testing.T) {
	c := NewScaledClock(0.001)
	start := time.Now()
	if err := c.Sleep(context.Background(), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 10*time.Millisecond {
		t.Errorf("a scaled 10s wait took %s", el)
	}
	if c.Now().Sub(start) < 10*time.Second {
		t.Errorf("scaled time moved %s", c.Now().Sub(start))
	}
	// Work between waits runs at wall-clock speed: the clock is ahead of
	// the wall clock by the waits' skipped time only.
	if ahead := c.Now().Sub(time.Now()); ahead > 10*time.Second || ahead < 9*time.Second {
		t.Errorf("the clock is %s ahead of the wall clock, want just under 10s", ahead)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Sleep(ctx, time.Hour); err == nil {
		t.Error("Sleep ignored a cancelled context")
	}
}

func TestLogCapacity(t *testing.T) {
	l := NewLog(nil)
	for i := range LogCapacity + 5 {
		l.Add(Attempt{Number: i})
	}
	got := l.Attempts()
	if len(got) != LogCapacity || got[0].Number != 5 || got[len(got)-1].Number != LogCapacity+4 || l.Dropped() != 5 {
		t.Errorf("kept %d, first %d, last %d, dropped %d", len(got), got[0].Number, got[len(got)-1].Number, l.Dropped())
	}
}

// TestLongAnswer checks that only the first MaxResponseBytes of an answer
// are kept, and that the connection is still reused after a long answer.
func TestLongAnswer(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(strings.Repeat("a", 3*MaxResponseBytes)))
	}))
	srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	d := NewDispatcher(NewFakeClock(epoch), nil)
	defer d.Close()
	for range 3 {
		res, err := d.Deliver(context.Background(), Request{URL: srv.URL, Policy: SumsubPolicy})
		if err != nil || !res.Acknowledged() {
			t.Fatal(err, res)
		}
		if got := len(res.Attempts[0].ResponseBody); got != MaxResponseBytes {
			t.Errorf("kept %d bytes, want %d", got, MaxResponseBytes)
		}
	}
	if conns.Load() != 1 {
		t.Errorf("%d connections for 3 deliveries, want 1", conns.Load())
	}
}
