package sandbox

import (
	"context"
	"sync/atomic"
	"time"
)

// FastClock is a sandbox clock that runs steadily 1/Factor times as fast
// as the wall clock: with Factor 0.001 an hour of sandbox time passes in
// 3.6 s, whoever waits on it and however often waits are cut short.
//
// It implements delivery.Clock, but unlike delivery.ScaledClock (whose
// time moves on by the waits it skipped, which suits one scenario at a
// time) its time does not depend on who sleeps: the Outbox, which
// sleeps until the next due delivery and is woken early whenever another
// is enqueued, would otherwise see a retry due in five sandbox minutes
// wait five real ones under steady traffic.
type FastClock struct {
	// Factor multiplies every wait; 1 is real time.
	Factor float64

	start time.Time // the sandbox time at anchor
	wall  time.Time // the wall time at anchor (with its monotonic reading)
	// ahead is how far AdvanceTo moved the clock on (nanoseconds).
	ahead atomic.Int64
}

// NewFastClock returns a clock that reads start now and runs 1/factor
// times as fast as the wall clock; factor must be > 0. A sandbox that
// restarts on a database can pass the last time it recorded as start, so
// that its clock does not run back.
func NewFastClock(start time.Time, factor float64) *FastClock {
	if factor <= 0 {
		factor = 1
	}
	return &FastClock{Factor: factor, start: start, wall: time.Now()}
}

// Now implements delivery.Clock.
func (c *FastClock) Now() time.Time {
	elapsed := time.Since(c.wall)
	return c.start.Add(time.Duration(float64(elapsed)/c.Factor) + time.Duration(c.ahead.Load()))
}

// AdvanceTo moves the clock on to t if it reads earlier (it never runs
// back): a replica whose clock is behind another's catches up with the
// high-water mark they share. It reports whether the clock moved.
func (c *FastClock) AdvanceTo(t time.Time) bool {
	for {
		now := c.Now()
		if !now.Before(t) {
			return false
		}
		prev := c.ahead.Load()
		if c.ahead.CompareAndSwap(prev, prev+int64(t.Sub(now))) {
			return true
		}
	}
}

// Sleep implements delivery.Clock: it waits d of sandbox time.
func (c *FastClock) Sleep(ctx context.Context, d time.Duration) error {
	real := time.Duration(float64(d) * c.Factor)
	if real <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(real)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
