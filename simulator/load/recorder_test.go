package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"syscall"
	"testing"
	"time"
)

func TestRecorderCounts(t *testing.T) {
	r := NewRecorder(3, time.Second)
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	rec := func(i int, o Outcome) { r.Record(i, &o) }
	for i := range 100 {
		planned := t0.Add(time.Duration(i) * time.Millisecond)
		sent := planned.Add(100 * time.Microsecond)
		rec(i, Outcome{Kind: Fresh, Planned: planned, Sent: sent, Done: sent.Add(time.Duration(i+1) * time.Millisecond), Status: 200})
	}
	rec(0, Outcome{Kind: Duplicate, Planned: t0, Sent: t0, Done: t0.Add(2 * time.Second), Status: 204})           // late
	rec(1, Outcome{Kind: Stale, Planned: t0, Sent: t0, Done: t0, Status: 401, Answer: []byte("bad\nsignature")})  // 4xx
	rec(2, Outcome{Kind: Fresh, Planned: t0, Sent: t0, Done: t0, Status: 401, Answer: []byte("second sample")})   // 4xx
	rec(2, Outcome{Kind: Fresh, Planned: t0, Sent: t0, Done: t0, Status: 503})                                    // 5xx
	rec(0, Outcome{Kind: Fresh, Planned: t0, Sent: t0, Done: t0, Err: syscall.ECONNREFUSED})                      // error
	rec(1, Outcome{Kind: Fresh, Planned: t0, Sent: t0, Done: t0.Add(time.Second), Err: context.DeadlineExceeded}) // timeout
	rec(1, Outcome{Kind: Fresh, Planned: t0, Sent: t0, Done: t0, ErrText: "no connection within the 1s connect deadline"})

	c := r.Counts()
	if c.Sent != 107 || c.Answered != 104 || c.OK != 100 || c.Late != 1 {
		t.Errorf("sent %d answered %d ok %d late %d", c.Sent, c.Answered, c.OK, c.Late)
	}
	if c.Fresh != 105 || c.Duplicates != 1 || c.Stale != 1 {
		t.Errorf("kinds %d %d %d", c.Fresh, c.Duplicates, c.Stale)
	}
	if c.Classes["2xx"] != 101 || c.Classes["4xx"] != 2 || c.Classes["5xx"] != 1 {
		t.Errorf("classes %v", c.Classes)
	}
	wantStatuses := []StatusCount{{200, 100, ""}, {204, 1, ""}, {401, 2, "bad signature"}, {503, 1, ""}}
	if fmt.Sprint(c.Statuses) != fmt.Sprint(wantStatuses) {
		t.Errorf("statuses %v, want %v", c.Statuses, wantStatuses)
	}
	kinds := map[string]int64{}
	for _, e := range c.Errors {
		kinds[e.Kind] = e.Count
	}
	if kinds[errKinds[errRefused]] != 1 || kinds[errKinds[errAnswerTimeout]] != 1 || kinds[errKinds[errConnectTimeout]] != 1 || len(kinds) != 3 {
		t.Errorf("errors %v", c.Errors)
	}
	// Latency: 100 answers from 1.1 ms to 100.1 ms after their planned
	// time, then the late one (2 s), the three quick ones and the
	// timeout (1 s).
	if c.Latency.Count != 105 {
		t.Errorf("latency count %d", c.Latency.Count)
	}
	if p50 := c.Latency.P50; p50 < 45*time.Millisecond || p50 > 55*time.Millisecond {
		t.Errorf("latency p50 %s", p50)
	}
	if mx := c.Latency.Max; mx < 1990*time.Millisecond || mx > 2010*time.Millisecond {
		t.Errorf("latency max %s", mx)
	}
	if lag := c.StartLag.Max; lag < 99*time.Microsecond || lag > 101*time.Microsecond {
		t.Errorf("start lag max %s", lag)
	}
}

// TestRecorderDoesNotGrow records a million outcomes: recording
// allocates nothing, and the heap does not grow with the count.
func TestRecorderDoesNotGrow(t *testing.T) {
	r := NewRecorder(2, time.Second)
	t0 := time.Now()
	o := Outcome{Planned: t0, Sent: t0, Status: 200}
	i := 0
	if n := testing.AllocsPerRun(1000, func() {
		i++
		o.Done = t0.Add(time.Duration(i) * time.Microsecond)
		r.Record(i, &o)
	}); n != 0 {
		t.Errorf("%.1f allocations per outcome", n)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range 1_000_000 {
		o.Done = t0.Add(time.Duration(i%5000) * time.Millisecond)
		o.Status = 200 + i%4*100
		r.Record(i, &o)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 64<<10 {
		t.Errorf("the heap grew by %d bytes over a million outcomes", grew)
	}
	// AllocsPerRun runs its function once more than asked, to warm up.
	if c := r.Counts(); c.Sent != 1001+1_000_000 {
		t.Errorf("sent %d", c.Sent)
	}
}

// TestErrorKinds sorts real transport errors.
func TestErrorKinds(t *testing.T) {
	// A port nobody listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	_, err = http.Get("http://" + closed + "/")
	if k := errorKind(err); k != errRefused {
		t.Errorf("refused: %s (%v)", errKinds[k], err)
	}

	hang := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-hang }))
	defer slow.Close()
	defer close(hang)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, slow.URL, nil)
	_, err = http.DefaultClient.Do(req)
	if k := errorKind(err); k != errAnswerTimeout {
		t.Errorf("deadline: %s (%v)", errKinds[k], err)
	}

	hijack := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _, _ := w.(http.Hijacker).Hijack()
		c.Close()
	}))
	defer hijack.Close()
	_, err = http.Get(hijack.URL)
	if k := errorKind(err); k != errClosed && k != errReset {
		t.Errorf("closed: %s (%v)", errKinds[k], err)
	}

	for err, want := range map[error]errKind{
		context.Canceled:                      errCancelled,
		fmt.Errorf("x: %w", syscall.EMFILE):   errTooManyFiles,
		fmt.Errorf("x: %w", io.EOF):           errClosed,
		errors.New("something else entirely"): errOther,
	} {
		if k := errorKind(err); k != want {
			t.Errorf("%v: %s, want %s", err, errKinds[k], errKinds[want])
		}
	}
}
