package delivery

import (
	"context"
	"github.com/kycsim/kycsim/internal/testpoll"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// refused is the error of a connection the target had no room for.
var refused = &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "connection refused"}}

// TestCapacityLowersConcurrency runs twelve requests at once against a
// fake target that refuses a connection whenever more than two are open:
// every request gets through in the end, the host's limit drops to two or
// fewer, and the finding says what happened.
func TestCapacityLowersConcurrency(t *testing.T) {
	c := NewCapacity()
	var open, most, refusals atomic.Int32
	try := func() error {
		n := open.Add(1)
		defer open.Add(-1)
		if n > 2 {
			refusals.Add(1)
			return refused
		}
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		// The target holds the connection until it has refused one (or
		// 50 ms), so that it really runs short of room.
		testpoll.Until(50*time.Millisecond, func() bool { return refusals.Load() > 0 })
		return nil
	}
	var wg sync.WaitGroup
	var lostAny atomic.Bool
	start := make(chan struct{})
	for range 12 {
		wg.Go(func() {
			<-start
			_, lost, err := c.Do(context.Background(), "target:1", try)
			if err != nil || lost {
				lostAny.Store(true)
			}
		})
	}
	close(start)
	wg.Wait()
	if lostAny.Load() {
		t.Fatal("a request was lost although the target takes two at a time")
	}
	f := c.Findings()
	if len(f) != 1 || f[0].Host != "target:1" || f[0].Limit > 2 || f[0].Limit < 1 || f[0].Requeued == 0 || f[0].RefusedAt < 3 {
		t.Fatalf("findings %+v", f)
	}
	if s := f[0].String(); s == "" {
		t.Error("a finding says nothing")
	}
}

// TestCapacityAloneIsNotCapacity: a connection refused while nothing else
// is in flight is the target's answer; it is not made again.
func TestCapacityAloneIsNotCapacity(t *testing.T) {
	c := NewCapacity()
	calls := 0
	requeued, lost, err := c.Do(context.Background(), "h:1", func() error { calls++; return refused })
	if calls != 1 || requeued != 0 || lost || err != nil {
		t.Errorf("calls %d, requeued %d, lost %v, err %v; want one call and the failure as it is", calls, requeued, lost, err)
	}
	if f := c.Findings(); f != nil {
		t.Errorf("findings %+v for a lone refusal", f)
	}
}

// TestCapacityBudget: a request refused while another holds the target
// busy is made again until its budget runs out, and is then lost.
func TestCapacityBudget(t *testing.T) {
	c := NewCapacity()
	c.Budget = 100 * time.Millisecond
	held := make(chan struct{})
	release := make(chan struct{})
	go c.Do(context.Background(), "h:1", func() error { close(held); <-release; return nil })
	<-held
	defer close(release)
	requeued, lost, err := c.Do(context.Background(), "h:1", func() error { return refused })
	if !lost || err != nil || requeued != 0 {
		t.Errorf("requeued %d, lost %v, err %v; want lost, never made again (no slot came free)", requeued, lost, err)
	}
	if f := c.Findings(); len(f) != 1 || f[0].Lost != 1 || f[0].Limit != 1 {
		t.Errorf("findings %+v", f)
	}
}

// TestCapacityWaitEndsWithContext: waiting for a slot ends with ctx.
func TestCapacityWaitEndsWithContext(t *testing.T) {
	c := NewCapacity()
	c.mu.Lock()
	hs := c.host("h:1")
	hs.limit, hs.inFlight = 1, 1
	c.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	called := false
	if _, _, err := c.Do(ctx, "h:1", func() error { called = true; return nil }); err == nil || called {
		t.Errorf("err %v, called %v; want the context's error and no call", err, called)
	}
}

// TestConnectError tells a connection that was not made from other errors.
func TestConnectError(t *testing.T) {
	if !ConnectError(refused) {
		t.Error("a dial error is a connect error")
	}
	if ConnectError(&net.OpError{Op: "read", Err: context.DeadlineExceeded}) || ConnectError(context.Canceled) {
		t.Error("a read timeout or a cancellation is no connect error")
	}
}

// TestCapacityNoAnswerWhileShort: no answer, with others in flight to a
// target short of room, is lost (not the request's fault) and not made
// again; without a shortage it is the request's own outcome.
func TestCapacityNoAnswerWhileShort(t *testing.T) {
	c := NewCapacity()
	noAnswer := context.DeadlineExceeded
	calls := 0
	if _, lost, _ := c.Do(context.Background(), "h:1", func() error { calls++; return noAnswer }); lost || calls != 1 {
		t.Errorf("no answer, no shortage: lost %v after %d calls; want the outcome as it is", lost, calls)
	}
	held, release := make(chan struct{}), make(chan struct{})
	go c.Do(context.Background(), "h:1", func() error { close(held); <-release; return nil })
	<-held
	defer close(release)
	c.mu.Lock()
	c.host("h:1").refusedAt = 3 // a connection failed for want of room before
	c.mu.Unlock()
	calls = 0
	requeued, lost, err := c.Do(context.Background(), "h:1", func() error { calls++; return noAnswer })
	if !lost || requeued != 0 || calls != 1 || err != nil {
		t.Errorf("no answer while short: requeued %d, lost %v, %d calls, err %v; want lost after one call", requeued, lost, calls, err)
	}
}

// TestCapacitySlotsGrow: a host starts with InitialSlots, gets one more
// with every answer until it has taken MaxSlots (then any number), and
// grows no more once it ran out of room.
func TestCapacitySlotsGrow(t *testing.T) {
	c := NewCapacity()
	limit := func(h string) int {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.host(h).limit
	}
	if got := limit("a:1"); got != InitialSlots {
		t.Fatalf("initial limit %d, want %d", got, InitialSlots)
	}
	ok := func() error { return nil }
	for range 3 {
		c.Do(context.Background(), "a:1", ok)
	}
	if got := limit("a:1"); got != InitialSlots+3 {
		t.Errorf("after 3 answers: limit %d, want %d", got, InitialSlots+3)
	}
	for range MaxSlots {
		c.Do(context.Background(), "a:1", ok)
	}
	if got := limit("a:1"); got != 0 {
		t.Errorf("past MaxSlots: limit %d, want 0 (unlimited)", got)
	}
	c.release("b:1", 0, "", false) // make b:1 known
	c.mu.Lock()
	c.host("b:1").inFlight = 1
	c.mu.Unlock()
	c.release("b:1", 6, "refused", false)
	c.Do(context.Background(), "b:1", ok)
	if got := limit("b:1"); got != 3 {
		t.Errorf("after running out of room with 6 in flight and an answer: limit %d, want 3 (no growth)", got)
	}
}
