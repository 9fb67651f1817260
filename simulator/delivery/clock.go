package delivery

import (
	"context"
	"sync"
	"time"
)

// Clock is the time a Dispatcher waits on between attempts.
type Clock interface {
	// Now returns the clock's current time.
	Now() time.Time
	// Sleep waits d of the clock's time, or until ctx is done.
	Sleep(ctx context.Context, d time.Duration) error
}

// ScaledClock runs on real time with waits multiplied by Factor, so that
// an 18-hour retry schedule plays in seconds with a small factor. Its Now
// is real time plus the time its waits skipped: a 5-minute wait moves Now
// on by 5 minutes, while work between waits moves it on as fast as the
// wall clock, so events made after a wait are later by the wait and no
// more.
type ScaledClock struct {
	Factor float64

	mu     sync.Mutex
	offset time.Duration // virtual time skipped by waits
}

// NewScaledClock returns a clock whose waits last factor times their
// nominal duration; factor must be > 0 (1 is real time).
func NewScaledClock(factor float64) *ScaledClock {
	return &ScaledClock{Factor: factor}
}

// Now implements Clock.
func (c *ScaledClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// Anchorer is a Clock that can start a fresh clock of its kind whose Now
// lies span behind real time, so that nothing dated by it in the next
// span of its time lies in the future of real time.
type Anchorer interface {
	Anchored(span time.Duration) Clock
}

// Anchored implements Anchorer: a clock with the same factor whose Now
// starts span before real time.
func (c *ScaledClock) Anchored(span time.Duration) Clock {
	return &ScaledClock{Factor: c.Factor, offset: -span}
}

// Sleep implements Clock.
func (c *ScaledClock) Sleep(ctx context.Context, d time.Duration) error {
	real := time.Duration(float64(d) * c.Factor)
	if real > 0 {
		t := time.NewTimer(real)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	} else if err := ctx.Err(); err != nil {
		return err
	}
	if skipped := d - real; skipped > 0 {
		c.mu.Lock()
		c.offset += skipped
		c.mu.Unlock()
	}
	return nil
}

// FakeClock is a clock for tests: time stands still until Sleep or
// Advance moves it, and Sleep returns at once.
type FakeClock struct {
	mu  sync.Mutex
	now time.Time
	// Slept records every Sleep duration in order.
	slept []time.Duration
}

// NewFakeClock returns a fake clock reading start.
func NewFakeClock(start time.Time) *FakeClock { return &FakeClock{now: start} }

// Now implements Clock.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Sleep implements Clock: it moves the time on by d and returns.
func (c *FakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.slept = append(c.slept, d)
	return nil
}

// Advance moves the time on by d.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Slept returns the durations slept so far.
func (c *FakeClock) Slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.slept...)
}
