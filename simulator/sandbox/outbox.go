package sandbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/kycsim/kycsim/simulator/delivery"
)

// The Outbox's defaults.
const (
	// DefaultWorkers is how many attempts an Outbox makes at once.
	DefaultWorkers = 16
	// DefaultLease is how long a claim holds a delivery (wall clock). It
	// must outlast an attempt: longer than the longest answer deadline of
	// the vendors' policies (10 s) with room to record the attempt.
	DefaultLease = 30 * time.Second
	// DefaultPollInterval is how often an idle Outbox looks for work it
	// was not woken for: deliveries enqueued by another process, leases
	// of a crashed worker that ran out.
	DefaultPollInterval = time.Second
	// recordTimeout bounds writing one attempt.
	recordTimeout = 10 * time.Second
	// recordBacklog is how many answered attempts per worker may be
	// recorded while the workers make new ones: the Store then sees at
	// most 2×Workers records at once.
	recordBacklog = 1
)

// Outbox delivers the pending deliveries of a Store: it claims those that
// are due, makes one attempt at each through a Dispatcher, records the
// attempt and schedules the next as the delivery's policy says, on the
// sandbox clock. It is at-least-once: a delivery leaves the pending state
// only when an attempt answered with a 2xx (delivered) or the policy's
// last retry (failed) has been recorded, and the claim of a worker that
// dies before recording runs out after Lease, after which the delivery is
// claimed and sent again.
//
// Set the fields, then call Open; Wake after enqueueing; Close when done.
type Outbox struct {
	// Store holds the deliveries.
	Store Store
	// Dispatcher sends each attempt; its connection pools are reused
	// across attempts.
	Dispatcher *delivery.Dispatcher
	// Clock is the sandbox clock the schedules run on (a *FastClock in
	// the sandbox, a *delivery.FakeClock in tests: the Outbox sleeps on
	// it until the next due delivery, so a fake clock moves on to it at
	// once).
	Clock delivery.Clock
	// WallClock is the time leases are measured in; time.Now when nil.
	WallClock func() time.Time
	// Workers bounds the attempts in flight (DefaultWorkers when 0).
	Workers int
	// Lease is how long (wall clock) a claim holds a delivery
	// (DefaultLease when 0). An attempt is cut off at nine tenths of it,
	// so that no two workers send one attempt at a time.
	Lease time.Duration
	// PollInterval is how often an idle Outbox looks for work it was
	// not woken for (DefaultPollInterval when 0).
	PollInterval time.Duration
	// Prefetch is how many claimed deliveries may wait for a free worker
	// (0: none, a delivery is claimed only when a worker is free). With
	// some waiting, a worker that frees starts the next attempt at once
	// rather than after a claim's round trip to the Store. A waiting
	// delivery stays leased: one whose lease is all but over when a
	// worker frees is left for the next claim, and those still waiting
	// at Close are retried when their leases run out (at once on an
	// Outbox with TakeOver), so Prefetch suits a Store this Outbox alone
	// works on. With Prefetch, a worker also frees its slot as soon as
	// its request is answered and records the outcome after.
	Prefetch int
	// TakeOver makes the Outbox treat every lease taken before Open (by
	// an Outbox whose Lease was no longer than this one's) as run out, so
	// that after a crash the deliveries that were in flight are retried
	// at once rather than after their lease. It is for a
	// Store that this Outbox alone works on (the SQLite sandbox): another
	// live Outbox on the same Store would lose its claims to this one,
	// and their deliveries might be sent twice (at least once still
	// holds).
	TakeOver bool
	// Owner names this Outbox's replica: its claims' LeasedBy and its
	// attempts' Replica, for the deliveries view across replicas.
	Owner string
	// Logger gets the Outbox's warnings (never a header or a body); no
	// logging when nil.
	Logger *slog.Logger
	// OnAttempt, when set, is called after every attempt whose outcome
	// was recorded (for metrics); it must not block. Calls for one
	// delivery may come out of order: the next attempt can be made
	// before the call for the last one.
	OnAttempt func(d *Delivery, o Outcome)

	// recording bounds the attempts made but not yet recorded: with
	// Prefetch, a worker frees its attempt slot once its request is
	// answered and records the outcome after, up to recordBacklog per
	// worker; past that, and always without Prefetch (a shared Store,
	// which more writes at once would only slow), it records with the
	// slot held.
	recording chan struct{}

	mu       sync.Mutex
	opened   bool
	closed   bool
	openedAt time.Time
	wake     chan struct{}
	done     chan struct{} // one send per finished worker
	stop     context.CancelFunc
	abort    context.CancelFunc
	loopDone chan struct{}
	workers  sync.WaitGroup
}

// Open starts delivering.
func (o *Outbox) Open() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.opened {
		return errors.New("open outbox: already open")
	}
	if o.Store == nil || o.Dispatcher == nil || o.Clock == nil {
		return errors.New("open outbox: Store, Dispatcher and Clock are required")
	}
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	if o.Lease <= 0 {
		o.Lease = DefaultLease
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.opened = true
	o.openedAt = o.wall()
	o.wake = make(chan struct{}, 1)
	o.done = make(chan struct{}, o.Workers)
	if o.Prefetch > 0 {
		o.recording = make(chan struct{}, recordBacklog*o.Workers)
	} else {
		o.recording = make(chan struct{}) // never free: record with the slot held
	}
	o.loopDone = make(chan struct{})
	loop, stop := context.WithCancel(context.Background())
	work, abort := context.WithCancel(context.Background())
	o.stop, o.abort = stop, abort
	go o.run(loop, work)
	return nil
}

// Wake tells the Outbox that deliveries were enqueued or resent, so that
// it looks for due ones now rather than at its next poll.
func (o *Outbox) Wake() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// Close stops claiming deliveries and waits for the attempts in flight to
// end and be recorded. When ctx ends first, it cuts them short and
// returns ctx's error: those attempts are not recorded, and their
// deliveries are retried when their leases run out (at once on an Outbox
// with TakeOver).
func (o *Outbox) Close(ctx context.Context) error {
	o.mu.Lock()
	if !o.opened || o.closed {
		o.mu.Unlock()
		return nil
	}
	o.closed = true
	o.mu.Unlock()

	o.stop()
	<-o.loopDone
	finished := make(chan struct{})
	go func() { o.workers.Wait(); close(finished) }()
	select {
	case <-finished:
		o.abort()
		return nil
	case <-ctx.Done():
		o.abort()
		<-finished
		return fmt.Errorf("close outbox: attempts in flight cut short: %w", ctx.Err())
	}
}

func (o *Outbox) wall() time.Time {
	if o.WallClock != nil {
		return o.WallClock()
	}
	return time.Now()
}

// horizon is the wall time leases are judged at: with TakeOver, every
// lease taken before Open counts as run out (a lease taken at or after
// Open ends after openedAt+Lease-1ns, and so does not).
func (o *Outbox) horizon() time.Time {
	now := o.wall()
	if o.TakeOver {
		if h := o.openedAt.Add(o.Lease - time.Nanosecond); now.Before(h) {
			return h
		}
	}
	return now
}

// run claims due deliveries while workers are free (and Prefetch more)
// and sleeps until the next is due, a worker ends, Wake is called or the
// poll interval passes.
func (o *Outbox) run(ctx, work context.Context) {
	defer close(o.loopDone)
	var sleepers sync.WaitGroup
	defer sleepers.Wait()
	inflight := 0
	var waiting []*Delivery // claimed, for the next free workers
	start := func() {
		for inflight < o.Workers && len(waiting) > 0 {
			d := waiting[0]
			waiting = waiting[1:]
			if d.LeasedUntil.Sub(o.wall()) <= o.Lease/10 {
				// Too little of its lease is left for an attempt: the
				// next claim after the lease takes it.
				continue
			}
			inflight++
			o.workers.Add(1)
			go o.deliver(work, d)
		}
	}
	for ctx.Err() == nil {
		start()
		claimed, failed := 0, false
		// Claim when workers are free, or (with Prefetch) when fewer
		// than half of those that may wait do.
		if room := o.Workers + o.Prefetch - inflight - len(waiting); room > 0 && (inflight < o.Workers || len(waiting) <= o.Prefetch/2) {
			wall := o.wall()
			ds, err := o.Store.Claim(ctx, Claim{Due: o.Clock.Now(), Now: o.horizon(), Until: wall.Add(o.Lease), Limit: room, Owner: o.Owner})
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				o.Logger.Warn("outbox: claim deliveries", "err", err)
				failed = true
			}
			waiting = append(waiting, ds...)
			claimed = len(ds)
			start()
		}

		// Sleep on the sandbox clock until the next due delivery, when a
		// worker is free to take it.
		var due <-chan struct{}
		cancelSleep := func() {}
		if !failed && inflight < o.Workers && len(waiting) == 0 {
			next, ok, err := o.Store.NextDue(ctx, o.horizon())
			switch {
			case err != nil:
				if ctx.Err() != nil {
					return
				}
				o.Logger.Warn("outbox: next due delivery", "err", err)
			case ok:
				wait := next.Sub(o.Clock.Now())
				if wait <= 0 && claimed > 0 {
					continue // more are due than were claimed
				}
				if wait > 0 {
					// Due now but not claimed (another worker got it
					// first) falls through to the poll.
					due, cancelSleep = o.sleep(ctx, wait, &sleepers)
				}
			}
		}
		poll := time.NewTimer(o.PollInterval)
		select {
		case <-ctx.Done():
		case <-o.wake:
		case <-o.done:
			inflight--
		case <-due:
		case <-poll.C:
		}
		poll.Stop()
		cancelSleep()
		for drained := false; !drained; {
			select {
			case <-o.done:
				inflight--
			default:
				drained = true
			}
		}
	}
}

// sleep waits d on the sandbox clock in the background; the channel is
// closed when the wait ends unless it was cancelled first.
func (o *Outbox) sleep(ctx context.Context, d time.Duration, wg *sync.WaitGroup) (<-chan struct{}, func()) {
	ctx, cancel := context.WithCancel(ctx)
	ch := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		if o.Clock.Sleep(ctx, d) == nil {
			close(ch)
		}
	}()
	return ch, cancel
}

// deliver makes one attempt at a claimed delivery and records it. With
// Prefetch, the attempt's slot is freed when the request is answered
// (Workers bounds requests in flight) and the outcome is recorded after,
// while the delivery is still leased; Close waits for it.
func (o *Outbox) deliver(ctx context.Context, d *Delivery) {
	defer o.workers.Done()
	freed := false
	free := func() {
		if !freed {
			freed = true
			o.done <- struct{}{}
		}
	}
	defer free()
	a := Attempt{DeliveryID: d.ID, Cycle: d.Cycle, Number: d.Attempts + 1, Time: o.Clock.Now(), Replica: o.Owner}
	// The attempt ends a tenth of the lease before the lease does (the
	// lease started at the claim, which a prefetched delivery waited
	// after), so that no two workers send one attempt at a time.
	limit := o.Lease - o.Lease/10
	if !d.LeasedUntil.IsZero() {
		limit = min(limit, d.LeasedUntil.Sub(o.wall())-o.Lease/10)
	}
	actx, cancel := context.WithTimeout(ctx, limit)
	res, err := o.Dispatcher.Deliver(actx, d.Request())
	cancel()
	select {
	case o.recording <- struct{}{}:
		defer func() { <-o.recording }()
		free()
	default:
		// The backlog is full: record with the slot held.
	}
	if ctx.Err() != nil {
		o.Logger.Warn("outbox: attempt cut short by close; retried when its lease runs out",
			"delivery", d.ID, "product", d.Product, "message", d.Message)
		return
	}
	permanent := false
	switch {
	case err != nil:
		// The request cannot be sent at all (Enqueue validates the URL,
		// so this is a bug or a changed rule): no retry can help.
		a.Err, permanent = err.Error(), true
	case len(res.Attempts) > 0:
		da := res.Attempts[0]
		a.Status, a.Latency, a.Err = da.Status, da.Latency, da.Err
		if len(da.ResponseBody) > 0 {
			a.Response = da.ResponseBody[:min(len(da.ResponseBody), ResponseSnippetBytes)]
		}
	default:
		a.Err = "no attempt made"
	}
	out := d.Outcome(a, o.Clock.Now())
	if permanent {
		out.State, out.NextAttemptAt = Failed, time.Time{}
	}
	// The attempt is recorded even when Close is cutting attempts short
	// now: it was made.
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer rcancel()
	if err := o.Store.Record(rctx, out); err != nil {
		if ErrorCode(err) == ECONFLICT {
			o.Logger.Warn("outbox: delivery claimed again or resent during an attempt; its outcome is left to the new claim",
				"delivery", d.ID, "attempt", a.Number)
		} else {
			o.Logger.Warn("outbox: record attempt; the delivery is retried when its lease runs out",
				"delivery", d.ID, "attempt", a.Number, "err", err)
		}
		return
	}
	if out.State == Failed {
		// Not a.Err: a transport error quotes the URL, which may carry a
		// token; the attempt in the store has it.
		o.Logger.Info("outbox: delivery failed", "delivery", d.ID, "product", d.Product, "message", d.Message,
			"cycle", a.Cycle, "attempts", a.Number, "status", a.Status)
	}
	if o.OnAttempt != nil {
		o.OnAttempt(d, out)
	}
	// A finished worker frees a slot; the loop hears of it through done.
}
