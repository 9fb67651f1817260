package load

import (
	"context"
	"math"
	"runtime"
	"time"
)

// Clock is the time a Schedule runs on: the real clock, or a fake one in
// tests.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// SleepUntil waits until t or until ctx is done, and returns ctx's
	// error then. It returns at once when t is not after Now.
	SleepUntil(ctx context.Context, t time.Time) error
}

// realClock is the wall clock with one reusable timer; it serves one
// goroutine.
type realClock struct{ timer *time.Timer }

// RealClock returns the wall clock, for one goroutine at a time. A
// Schedule runs on it from a thread of its own, where it sleeps to
// within microseconds of the planned times.
func RealClock() Clock { return &realClock{} }

func (c *realClock) Now() time.Time { return time.Now() }

// coarseSleep is the shortest wait left to a Go timer, which can end up
// to a millisecond late; shorter waits are slept precisely.
const coarseSleep = 3 * time.Millisecond

func (c *realClock) SleepUntil(ctx context.Context, t time.Time) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		d := time.Until(t)
		switch {
		case d <= 0:
			return nil
		case d <= coarseSleep:
			fineSleep(d)
			continue
		}
		if c.timer == nil {
			c.timer = time.NewTimer(d - coarseSleep + time.Millisecond)
		} else {
			c.timer.Reset(d - coarseSleep + time.Millisecond)
		}
		select {
		case <-c.timer.C:
		case <-ctx.Done():
			c.timer.Stop()
			return ctx.Err()
		}
	}
}

// DefaultSlack is how late an arrival may still start: past it, the
// arrival is missed rather than sent in a burst with the ones after it.
const DefaultSlack = 10 * time.Millisecond

// Schedule is an open-model arrival schedule: arrival i is planned at
// Start + i/Rate, whatever happened to the arrivals before it. An
// arrival starts at its planned time when a connection is free; one that
// finds every connection busy, or that the schedule reaches more than
// Slack after its planned time (the process was starved of CPU, or
// paused), is missed and counted, never sent late in a catch-up burst.
// So the receiver never gets more than the rate, and the tally says by
// how much the client fell short of it.
type Schedule struct {
	// Rate is arrivals per second; it must be > 0.
	Rate float64
	// Duration bounds the planned times: arrivals are planned in
	// [Start, Start+Duration). 0 leaves time unbounded (Max must be set).
	Duration time.Duration
	// Max bounds the number of arrivals; 0 leaves it unbounded
	// (Duration must be set).
	Max int64
	// Slack is how late an arrival may start (DefaultSlack when 0).
	Slack time.Duration
}

// Ticket is one arrival.
type Ticket struct {
	Index   int64
	Planned time.Time
}

// Tally is what a schedule did.
type Tally struct {
	// Start is the planned time of arrival 0.
	Start time.Time
	// Planned counts the arrivals whose time came: Started + Busy +
	// Behind.
	Planned int64
	// Started arrivals were handed to a connection.
	Started int64
	// Busy arrivals found every connection busy.
	Busy int64
	// Behind arrivals were reached more than Slack late.
	Behind int64
	// Span is the scheduled time the arrivals covered: Planned/Rate.
	Span time.Duration
	// Interrupted is set when ctx ended the schedule early.
	Interrupted bool
}

// offset returns the planned offset of arrival i from the start.
func (s Schedule) offset(i int64) time.Duration {
	return time.Duration(float64(i) * float64(time.Second) / s.Rate)
}

// Run plays the schedule on clock from clock.Now(): for each arrival in
// turn it waits until the planned time and calls start, which reports
// whether a connection took the arrival (false: all were busy). It
// returns when the schedule is over or ctx is done. On the real clock
// it runs on a thread of its own, so that it sleeps precisely.
func (s Schedule) Run(ctx context.Context, clock Clock, start func(Ticket) bool) Tally {
	if _, ok := clock.(*realClock); !ok {
		return s.run(ctx, clock, start)
	}
	done := make(chan Tally)
	go func() {
		// The thread is locked and never unlocked: it ends with the
		// goroutine, and its timer slack with it.
		runtime.LockOSThread()
		preciseThread()
		done <- s.run(ctx, clock, start)
	}()
	return <-done
}

func (s Schedule) run(ctx context.Context, clock Clock, start func(Ticket) bool) Tally {
	slack := s.Slack
	if slack <= 0 {
		slack = DefaultSlack
	}
	t0 := clock.Now()
	tally := Tally{Start: t0}
	end := int64(math.MaxInt64)
	if s.Max > 0 {
		end = s.Max
	}
	if s.Duration > 0 {
		// The first arrival planned at or after Start+Duration.
		n := int64(math.Ceil(s.Duration.Seconds() * s.Rate))
		for n > 0 && s.offset(n-1) >= s.Duration {
			n--
		}
		for s.offset(n) < s.Duration {
			n++
		}
		end = min(end, n)
	}
	for i := int64(0); i < end; {
		planned := t0.Add(s.offset(i))
		if err := clock.SleepUntil(ctx, planned); err != nil {
			tally.Interrupted = true
			break
		}
		if now := clock.Now(); now.Sub(planned) > slack {
			// Skip to the first arrival still within the slack: every
			// one planned before the cutoff is missed.
			cutoff := now.Add(-slack)
			j := int64(math.Ceil(cutoff.Sub(t0).Seconds() * s.Rate))
			for j > i+1 && !t0.Add(s.offset(j-1)).Before(cutoff) {
				j--
			}
			for t0.Add(s.offset(j)).Before(cutoff) {
				j++
			}
			j = min(max(j, i+1), end)
			tally.Behind += j - i
			i = j
			continue
		}
		if start(Ticket{Index: i, Planned: planned}) {
			tally.Started++
		} else {
			tally.Busy++
		}
		i++
	}
	tally.Planned = tally.Started + tally.Busy + tally.Behind
	tally.Span = s.offset(tally.Planned)
	return tally
}
