package sandbox_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kycsim/kycsim/internal/testpoll"
	"github.com/kycsim/kycsim/simulator/delivery"
	"github.com/kycsim/kycsim/simulator/sandbox"
	"github.com/kycsim/kycsim/simulator/sandbox/sandboxtest"
	"github.com/kycsim/kycsim/simulator/sandbox/sqlite"
)

// wallClock is a wall clock a test moves by hand.
type wallClock struct {
	mu  sync.Mutex
	now time.Time
}

func (w *wallClock) Now() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.now
}

func (w *wallClock) Advance(d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.now = w.now.Add(d)
}

// harness is an outbox on an in-memory store and a fake sandbox clock.
type harness struct {
	store  sandbox.Store
	clock  *delivery.FakeClock
	wall   *wallClock
	outbox *sandbox.Outbox
}

func newHarness(t *testing.T, store sandbox.Store, configure func(o *sandbox.Outbox)) *harness {
	t.Helper()
	if store == nil {
		db := sqlite.NewDB(sqlite.Memory)
		if err := db.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		store = db
	}
	h := &harness{store: store, clock: delivery.NewFakeClock(sandboxtest.T0), wall: &wallClock{now: sandboxtest.W0}}
	d := delivery.NewDispatcher(h.clock, nil)
	t.Cleanup(d.Close)
	h.outbox = &sandbox.Outbox{Store: store, Dispatcher: d, Clock: h.clock, WallClock: h.wall.Now,
		PollInterval: 20 * time.Millisecond}
	if configure != nil {
		configure(h.outbox)
	}
	if err := h.outbox.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		h.outbox.Close(ctx)
	})
	return h
}

// enqueue writes a delivery to url with the delays, due now, and wakes
// the outbox.
func (h *harness) enqueue(t *testing.T, url string, answer time.Duration, delays ...time.Duration) *sandbox.Delivery {
	t.Helper()
	d := sandboxtest.NewDelivery("", 1, h.clock.Now())
	d.URL, d.From = url, netip.Addr{}
	d.Policy = delivery.RetryPolicy{Name: "test", ConnectTimeout: time.Second, AnswerTimeout: answer, Delays: delays}
	if err := h.store.Enqueue(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	h.outbox.Wake()
	return d
}

// waitState polls the store until the delivery is in the state, for at
// most 10 s of real time.
func (h *harness) waitState(t *testing.T, id int64, state sandbox.DeliveryState, attempts int) *sandbox.Delivery {
	t.Helper()
	var d *sandbox.Delivery
	var err error
	if !testpoll.Until(10*time.Second, func() bool {
		d, err = h.store.Delivery(context.Background(), id)
		return err != nil || (d.State == state && len(d.History) >= attempts)
	}) {
		t.Fatalf("delivery %d: still %s after %d attempts %+v; want %s", id, d.State, len(d.History), d.History, state)
	}
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// receiver answers the n-th request (from 1) with answer(n, w, r).
type receiver struct {
	*httptest.Server
	requests atomic.Int64
	mu       sync.Mutex
	bodies   []string
	headers  []http.Header
}

func newReceiver(t *testing.T, answer func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		n := int(rc.requests.Add(1))
		rc.mu.Lock()
		rc.bodies, rc.headers = append(rc.bodies, string(b)), append(rc.headers, r.Header.Clone())
		rc.mu.Unlock()
		answer(n, w, r)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func statuses(codes ...int) func(n int, w http.ResponseWriter, r *http.Request) {
	return func(n int, w http.ResponseWriter, r *http.Request) {
		code := codes[len(codes)-1]
		if n <= len(codes) {
			code = codes[n-1]
		}
		w.WriteHeader(code)
		fmt.Fprintf(w, "answer %d", n)
	}
}

func TestOutboxRetriesOnSchedule(t *testing.T) {
	rc := newReceiver(t, statuses(500, 503, 200))
	h := newHarness(t, nil, nil)
	d := h.enqueue(t, rc.URL, 2*time.Second, time.Minute, 5*time.Minute, 30*time.Minute)
	got := h.waitState(t, d.ID, sandbox.Delivered, 3)

	// One attempt per retry, each the policy's delay after the one
	// before, on the sandbox clock; the 2xx ended the schedule.
	wantTimes := []time.Time{sandboxtest.T0, sandboxtest.T0.Add(time.Minute), sandboxtest.T0.Add(6 * time.Minute)}
	wantStatus := []int{500, 503, 200}
	if len(got.History) != 3 {
		t.Fatalf("%d attempts, want 3: %+v", len(got.History), got.History)
	}
	for i, a := range got.History {
		if a.Number != i+1 || a.Cycle != 1 || !a.Time.Equal(wantTimes[i]) || a.Status != wantStatus[i] || a.Err != "" {
			t.Errorf("attempt %d = %+v, want number %d at %v status %d", i+1, a, i+1, wantTimes[i], wantStatus[i])
		}
		if want := fmt.Sprintf("answer %d", i+1); string(a.Response) != want {
			t.Errorf("attempt %d response = %q, want %q", i+1, a.Response, want)
		}
	}
	if got.Attempts != 3 || !got.NextAttemptAt.IsZero() || !got.LeasedUntil.IsZero() {
		t.Errorf("delivered: attempts %d, next %v, leased until %v", got.Attempts, got.NextAttemptAt, got.LeasedUntil)
	}
	if n := rc.requests.Load(); n != 3 {
		t.Errorf("receiver got %d requests, want 3", n)
	}
	// Every attempt is the enqueued request, byte for byte.
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for i := range rc.bodies {
		if rc.bodies[i] != string(d.Body) || rc.headers[i].Get("X-Payload-Digest") != d.Header.Get("X-Payload-Digest") ||
			rc.headers[i].Get("Content-Type") != "application/json" {
			t.Errorf("request %d: body %q, headers %v", i+1, rc.bodies[i], rc.headers[i])
		}
	}
}

func TestOutboxTimeoutRetried(t *testing.T) {
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			<-r.Context().Done() // never answers; the client gives up
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	h := newHarness(t, nil, nil)
	d := h.enqueue(t, rc.URL, 100*time.Millisecond, 10*time.Second)
	got := h.waitState(t, d.ID, sandbox.Delivered, 2)
	first := got.History[0]
	if first.Status != 0 || !strings.Contains(first.Err, "answer deadline") {
		t.Errorf("the unanswered attempt = %+v, want no status and the answer deadline named", first)
	}
	if second := got.History[1]; second.Status != 204 || !second.Time.Equal(sandboxtest.T0.Add(10*time.Second)) {
		t.Errorf("the retry = %+v, want 204 at %v", second, sandboxtest.T0.Add(10*time.Second))
	}
}

func TestOutboxExhaustedThenResend(t *testing.T) {
	var ok atomic.Bool
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if ok.Load() {
			w.WriteHeader(200)
			return
		}
		w.WriteHeader(500)
	})
	var observed sync.Map
	h := newHarness(t, nil, func(o *sandbox.Outbox) {
		o.OnAttempt = func(d *sandbox.Delivery, out sandbox.Outcome) {
			observed.Store(out.Attempt.Number+10*out.Attempt.Cycle, out.State)
		}
	})
	d := h.enqueue(t, rc.URL, time.Second, time.Second, 2*time.Second)
	got := h.waitState(t, d.ID, sandbox.Failed, 3)
	if len(got.History) != 3 || got.Attempts != 3 {
		t.Fatalf("failed after %d attempts (%d recorded), want 3", got.Attempts, len(got.History))
	}
	// OnAttempt runs after the attempt is recorded, so it may come a
	// moment after the store shows it.
	if !testpoll.Until(10*time.Second, func() bool { st, _ := observed.Load(13); return st == sandbox.Failed }) {
		st, _ := observed.Load(13)
		t.Errorf("OnAttempt saw the last attempt end in %v, want failed", st)
	}

	// A resend runs the policy again from the start.
	ok.Store(true)
	resent, err := h.store.Resend(context.Background(), d.ID, h.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	h.outbox.Wake()
	got = h.waitState(t, resent.ID, sandbox.Delivered, 4)
	last := got.History[3]
	if got.Cycle != 2 || last.Cycle != 2 || last.Number != 1 || last.Status != 200 {
		t.Errorf("after resend: cycle %d, last attempt %+v", got.Cycle, last)
	}
	if n := rc.requests.Load(); n != 4 {
		t.Errorf("receiver got %d requests, want 4", n)
	}
}

func TestOutboxUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String() + "/callback"
	l.Close() // nothing listens: connections are refused
	h := newHarness(t, nil, nil)
	d := h.enqueue(t, url, time.Second, time.Minute)
	got := h.waitState(t, d.ID, sandbox.Failed, 2)
	for _, a := range got.History {
		if a.Status != 0 || a.Err == "" {
			t.Errorf("attempt at a closed port = %+v, want an error", a)
		}
	}
}

// holdingReceiver answers no request until release is closed, and
// counts the requests in flight and their peak.
func holdingReceiver(t *testing.T) (rc *receiver, inflight, peak *atomic.Int64, release chan struct{}) {
	inflight, peak, release = new(atomic.Int64), new(atomic.Int64), make(chan struct{})
	rc = newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		cur := inflight.Add(1)
		defer inflight.Add(-1)
		for {
			p := peak.Load()
			if cur <= p || peak.CompareAndSwap(p, cur) {
				break
			}
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	return rc, inflight, peak, release
}

func TestOutboxBoundedConcurrency(t *testing.T) {
	const workers, n = 3, 10
	rc, inflight, peak, release := holdingReceiver(t)
	h := newHarness(t, nil, func(o *sandbox.Outbox) { o.Workers = workers })
	var ds []*sandbox.Delivery
	for range n {
		ds = append(ds, h.enqueue(t, rc.URL, 5*time.Second))
	}
	if !testpoll.Until(10*time.Second, func() bool { return inflight.Load() >= workers }) {
		t.Fatalf("%d attempts in flight, want %d", inflight.Load(), workers)
	}
	close(release)
	for _, d := range ds {
		h.waitState(t, d.ID, sandbox.Delivered, 1)
	}
	if p := peak.Load(); p != workers {
		t.Errorf("at most %d attempts were in flight, want %d", p, workers)
	}
}

func TestOutboxCloseWaitsForAttempts(t *testing.T) {
	started := make(chan struct{}, 1)
	release := make(chan struct{})
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-release
	})
	h := newHarness(t, nil, nil)
	d := h.enqueue(t, rc.URL, 5*time.Second)
	<-started
	closed := make(chan error)
	go func() { closed <- h.outbox.Close(context.Background()) }()
	close(release)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	got, err := h.store.Delivery(context.Background(), d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != sandbox.Delivered {
		t.Errorf("after a graceful close the attempt in flight ended %s, want delivered", got.State)
	}
}

func TestOutboxCloseCutShortThenTakeOver(t *testing.T) {
	db := sqlite.NewDB(sqlite.Memory)
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var hang atomic.Bool
	hang.Store(true)
	started := make(chan struct{}, 1)
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		if hang.Load() {
			started <- struct{}{}
			<-r.Context().Done()
		}
	})
	h := newHarness(t, db, nil)
	d := h.enqueue(t, rc.URL, 5*time.Second)
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.outbox.Close(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Close with an ended context = %v, want context.Canceled", err)
	}
	got, err := db.Delivery(context.Background(), d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != sandbox.Pending || len(got.History) != 0 || got.LeasedUntil.IsZero() {
		t.Fatalf("an attempt cut short left: state %s, %d attempts, leased until %v; want pending, none, leased",
			got.State, len(got.History), got.LeasedUntil)
	}

	// A new outbox that takes over the store retries it at once, the
	// lease still running on the wall clock.
	hang.Store(false)
	later := sandboxtest.W0.Add(time.Millisecond)
	h2 := newHarness(t, db, func(o *sandbox.Outbox) {
		o.TakeOver = true
		o.WallClock = func() time.Time { return later }
	})
	got = h2.waitState(t, d.ID, sandbox.Delivered, 1)
	if got.History[0].Number != 1 {
		t.Errorf("the retried attempt is number %d, want 1 (the cut one was not recorded)", got.History[0].Number)
	}
}

// failingStore fails the first Record, as a crash between an attempt and
// its record would.
type failingStore struct {
	sandbox.Store
	failed chan struct{}
	once   sync.Once
}

func (s *failingStore) Record(ctx context.Context, o sandbox.Outcome) error {
	fail := false
	s.once.Do(func() { fail = true })
	if fail {
		defer close(s.failed)
		return errors.New("disk on fire")
	}
	return s.Store.Record(ctx, o)
}

func TestOutboxAtLeastOnceWhenRecordFails(t *testing.T) {
	rc := newReceiver(t, statuses(200))
	db := sqlite.NewDB(sqlite.Memory)
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	fs := &failingStore{Store: db, failed: make(chan struct{})}
	h := newHarness(t, fs, func(o *sandbox.Outbox) { o.Lease = time.Minute })
	d := h.enqueue(t, rc.URL, time.Second)
	<-fs.failed
	// The acknowledged attempt was not recorded: the delivery stays
	// claimed until its lease runs out on the wall clock, then it is
	// sent again.
	h.wall.Advance(time.Minute)
	h.outbox.Wake()
	got := h.waitState(t, d.ID, sandbox.Delivered, 1)
	if n := rc.requests.Load(); n != 2 {
		t.Errorf("receiver got %d requests, want 2 (at least once: the unrecorded one and its retry)", n)
	}
	if len(got.History) != 1 {
		t.Errorf("%d attempts recorded, want 1", len(got.History))
	}
}

func TestOutboxManyDeliveries(t *testing.T) {
	const n = 200
	// Every 7th delivery is refused at its first attempt, and acknowledged
	// at its retry.
	var mu sync.Mutex
	refused := map[string]bool{}
	rc := newReceiver(t, func(k int, w http.ResponseWriter, r *http.Request) {
		seq, _ := strconv.Atoi(r.Header.Get("X-Seq"))
		mu.Lock()
		defer mu.Unlock()
		if seq%7 == 0 && !refused[r.Header.Get("X-Seq")] {
			refused[r.Header.Get("X-Seq")] = true
			w.WriteHeader(502)
		}
	})
	h := newHarness(t, nil, func(o *sandbox.Outbox) { o.Workers = 8 })
	var ds []*sandbox.Delivery
	for i := range n {
		d := sandboxtest.NewDelivery("", 1, h.clock.Now())
		d.URL, d.From = rc.URL, netip.Addr{}
		d.Header.Set("X-Seq", strconv.Itoa(i))
		d.Policy = delivery.RetryPolicy{Name: "test", ConnectTimeout: time.Second, AnswerTimeout: 2 * time.Second, Delays: []time.Duration{time.Second}}
		if err := h.store.Enqueue(context.Background(), d); err != nil {
			t.Fatal(err)
		}
		ds = append(ds, d)
	}
	h.outbox.Wake()
	for _, d := range ds {
		h.waitState(t, d.ID, sandbox.Delivered, 1)
	}
}

func TestOutboxOpenRequiresParts(t *testing.T) {
	if err := (&sandbox.Outbox{}).Open(); err == nil {
		t.Error("Open with no store: no error")
	}
}

// leased counts the pending deliveries a claim holds.
func leased(t *testing.T, s sandbox.Store) int {
	t.Helper()
	ds, err := s.Deliveries(context.Background(), sandbox.DeliveryFilter{State: sandbox.Pending})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range ds {
		if !d.LeasedUntil.IsZero() {
			n++
		}
	}
	return n
}

// TestOutboxPrefetch: with Prefetch, deliveries are claimed ahead for the
// next free workers, yet no more than Workers attempts are in flight and
// each delivery is sent once.
func TestOutboxPrefetch(t *testing.T) {
	const workers, prefetch, n = 3, 4, 12
	rc, inflight, peak, release := holdingReceiver(t)
	h := newHarness(t, nil, func(o *sandbox.Outbox) { o.Workers, o.Prefetch = workers, prefetch })
	var ds []*sandbox.Delivery
	for range n {
		ds = append(ds, h.enqueue(t, rc.URL, 5*time.Second))
	}
	// Three in flight, and more claimed and waiting: more than half of
	// Prefetch (a claim tops the waiting up when half or fewer wait), at
	// most Prefetch.
	if !testpoll.Until(10*time.Second, func() bool {
		return inflight.Load() >= workers && leased(t, h.store) > workers+prefetch/2
	}) {
		t.Fatalf("%d attempts in flight and %d deliveries leased, want %d and more than %d", inflight.Load(), leased(t, h.store), workers, workers+prefetch/2)
	}
	if got := leased(t, h.store); got > workers+prefetch {
		t.Errorf("%d deliveries leased, want at most %d", got, workers+prefetch)
	}
	close(release)
	for _, d := range ds {
		h.waitState(t, d.ID, sandbox.Delivered, 1)
	}
	if p := peak.Load(); p != workers {
		t.Errorf("at most %d attempts were in flight, want %d", p, workers)
	}
	if got := rc.requests.Load(); got != n {
		t.Errorf("receiver got %d requests for %d deliveries", got, n)
	}
}

// TestOutboxPrefetchLeaseRunsOut: a prefetched delivery whose lease is all
// but over when a worker frees is not attempted on that lease; the next
// claim, after the lease, sends it, once.
func TestOutboxPrefetchLeaseRunsOut(t *testing.T) {
	const lease = time.Minute
	first := make(chan struct{})
	release := make(chan struct{})
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			close(first)
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
	})
	h := newHarness(t, nil, func(o *sandbox.Outbox) { o.Workers, o.Prefetch, o.Lease = 1, 2, lease })
	d1 := h.enqueue(t, rc.URL, 5*time.Second)
	<-first
	// Two more, claimed while the worker is busy: they wait.
	d2, d3 := h.enqueue(t, rc.URL, 5*time.Second), h.enqueue(t, rc.URL, 5*time.Second)
	if !testpoll.Until(10*time.Second, func() bool { return leased(t, h.store) == 3 }) {
		t.Fatalf("%d deliveries leased, want 3 (one in flight, two waiting)", leased(t, h.store))
	}
	// Their leases (wall clock) are nine tenths gone when the worker frees.
	h.wall.Advance(lease - lease/10)
	close(release)
	h.waitState(t, d1.ID, sandbox.Delivered, 1)
	if got := rc.requests.Load(); got != 1 {
		t.Fatalf("%d requests before the waiting deliveries' leases ran out, want 1", got)
	}
	h.wall.Advance(lease)
	h.outbox.Wake()
	for _, d := range []*sandbox.Delivery{d2, d3} {
		if got := h.waitState(t, d.ID, sandbox.Delivered, 1); len(got.History) != 1 {
			t.Errorf("delivery %d: attempts %+v, want one, made on the new lease", d.ID, got.History)
		}
	}
	if got := rc.requests.Load(); got != 3 {
		t.Errorf("receiver got %d requests for 3 deliveries", got)
	}
}

// slowRecords is a Store whose Record waits until released.
type slowRecords struct {
	sandbox.Store
	release chan struct{}
	waiting atomic.Int64
}

func (s *slowRecords) Record(ctx context.Context, o sandbox.Outcome) error {
	s.waiting.Add(1)
	<-s.release
	return s.Store.Record(ctx, o)
}

// TestOutboxRecordBacklogBounded: with Prefetch, a worker frees its slot
// for the next attempt while the last one is recorded, but only one
// record per worker waits that way; past that the worker records with its slot held, so a
// slow store holds the attempts back rather than piling records up.
func TestOutboxRecordBacklogBounded(t *testing.T) {
	db := sqlite.NewDB(sqlite.Memory)
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	store := &slowRecords{Store: db, release: make(chan struct{})}
	rc := newReceiver(t, func(int, http.ResponseWriter, *http.Request) {})
	h := newHarness(t, store, func(o *sandbox.Outbox) { o.Workers, o.Prefetch = 1, 1 })
	var ds []*sandbox.Delivery
	for range 3 {
		ds = append(ds, h.enqueue(t, rc.URL, 5*time.Second))
	}
	// The first attempt is recorded in the background, the second with
	// the only slot held: two records wait, two requests were made.
	if !testpoll.Until(10*time.Second, func() bool { return store.waiting.Load() >= 2 }) {
		t.Fatalf("%d records waiting, want 2", store.waiting.Load())
	}
	// The third attempt must not start while both wait (a bounded look:
	// it would start at once if the slot were free).
	if testpoll.Until(300*time.Millisecond, func() bool { return rc.requests.Load() > 2 || store.waiting.Load() > 2 }) {
		t.Errorf("%d requests and %d records waiting while the store is stuck, want 2 and 2", rc.requests.Load(), store.waiting.Load())
	}
	close(store.release)
	for _, d := range ds {
		h.waitState(t, d.ID, sandbox.Delivered, 1)
	}
}
