package load

import (
	"context"
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock for schedule tests: SleepUntil moves the time to
// the wake-up time at once, and a test can make it jump (a stall).
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) SleepUntil(ctx context.Context, t time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.now) {
		c.now = t
	}
	return nil
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// started is one start call: the ticket and the clock's time then.
type started struct {
	Ticket
	at time.Time
}

func TestSchedulePlannedTimes(t *testing.T) {
	clock := newFakeClock()
	t0 := clock.Now()
	var got []started
	tally := Schedule{Rate: 4, Max: 9}.Run(context.Background(), clock, func(tk Ticket) bool {
		got = append(got, started{tk, clock.Now()})
		return true
	})
	if len(got) != 9 || tally.Started != 9 || tally.Planned != 9 || tally.Busy+tally.Behind != 0 {
		t.Fatalf("tally %+v, %d starts", tally, len(got))
	}
	for i, s := range got {
		want := t0.Add(time.Duration(i) * 250 * time.Millisecond)
		if s.Index != int64(i) || !s.Planned.Equal(want) || !s.at.Equal(want) {
			t.Errorf("arrival %d: index %d planned %s started %s, want %s", i, s.Index, s.Planned.Sub(t0), s.at.Sub(t0), want.Sub(t0))
		}
	}
	if tally.Span != 9*250*time.Millisecond {
		t.Errorf("span %s", tally.Span)
	}
}

// TestScheduleNoCatchUpBurst stalls the client for a second: the
// arrivals planned during the stall are missed, not sent at once when it
// ends, and the schedule goes on at its rate.
func TestScheduleNoCatchUpBurst(t *testing.T) {
	clock := newFakeClock()
	t0 := clock.Now()
	var got []started
	tally := Schedule{Rate: 10, Max: 30, Slack: 10 * time.Millisecond}.Run(context.Background(), clock, func(tk Ticket) bool {
		got = append(got, started{tk, clock.Now()})
		if tk.Index == 5 {
			clock.Advance(time.Second + 50*time.Millisecond) // a stall at 0.5 s, to 1.55 s
		}
		return true
	})
	// Arrivals 6..15 (0.6 s to 1.5 s) are more than 10 ms late at 1.55 s.
	if tally.Behind != 10 || tally.Started != 20 || tally.Planned != 30 {
		t.Fatalf("tally %+v", tally)
	}
	perInstant := map[time.Time]int{}
	for _, s := range got {
		if late := s.at.Sub(s.Planned); late < 0 || late > 10*time.Millisecond {
			t.Errorf("arrival %d started %s after its planned time", s.Index, late)
		}
		perInstant[s.at]++
		if perInstant[s.at] > 1 {
			t.Errorf("%d arrivals started at %s: a burst", perInstant[s.at], s.at.Sub(t0))
		}
	}
	if got[6].Index != 16 || !got[6].Planned.Equal(t0.Add(1600*time.Millisecond)) {
		t.Errorf("after the stall the next start is arrival %d planned at %s, want 16 at 1.6s", got[6].Index, got[6].Planned.Sub(t0))
	}
}

// TestScheduleSlackKeepsSlightlyLateArrivals: an arrival reached within
// the slack still starts.
func TestScheduleSlackKeepsSlightlyLateArrivals(t *testing.T) {
	clock := newFakeClock()
	n := 0
	tally := Schedule{Rate: 100, Max: 5, Slack: 10 * time.Millisecond}.Run(context.Background(), clock, func(tk Ticket) bool {
		n++
		if tk.Index == 1 {
			clock.Advance(15 * time.Millisecond) // arrival 2 (20 ms) is reached at 25 ms
		}
		return true
	})
	if n != 5 || tally.Behind != 0 {
		t.Errorf("%d starts, tally %+v", n, tally)
	}
}

func TestScheduleDuration(t *testing.T) {
	for _, tt := range []struct {
		rate     float64
		duration time.Duration
		max      int64
		want     int64
	}{
		{10, time.Second, 0, 10}, // 0 ms .. 900 ms; 1 s is outside
		{3, time.Second, 0, 3},
		{1000, 2500 * time.Millisecond, 0, 2500},
		{7, time.Second, 4, 4},
		{0.5, 3 * time.Second, 0, 2},
	} {
		clock := newFakeClock()
		tally := Schedule{Rate: tt.rate, Duration: tt.duration, Max: tt.max}.Run(context.Background(), clock, func(Ticket) bool { return true })
		if tally.Started != tt.want {
			t.Errorf("rate %g for %s (max %d): %d arrivals, want %d", tt.rate, tt.duration, tt.max, tally.Started, tt.want)
		}
	}
}

// TestScheduleBusyArrivalsAreMissed: an arrival refused for want of a
// connection is counted and never retried.
func TestScheduleBusyArrivalsAreMissed(t *testing.T) {
	clock := newFakeClock()
	var seen []int64
	tally := Schedule{Rate: 10, Max: 10}.Run(context.Background(), clock, func(tk Ticket) bool {
		seen = append(seen, tk.Index)
		return tk.Index%3 != 0
	})
	if tally.Busy != 4 || tally.Started != 6 || tally.Planned != 10 {
		t.Errorf("tally %+v", tally)
	}
	for i, idx := range seen {
		if idx != int64(i) {
			t.Fatalf("arrivals offered in the order %v", seen)
		}
	}
}

func TestScheduleCancel(t *testing.T) {
	clock := newFakeClock()
	ctx, cancel := context.WithCancel(context.Background())
	tally := Schedule{Rate: 10, Duration: time.Hour}.Run(ctx, clock, func(tk Ticket) bool {
		if tk.Index == 4 {
			cancel()
		}
		return true
	})
	if !tally.Interrupted || tally.Started != 5 {
		t.Errorf("tally %+v", tally)
	}
}

// TestScheduleRealClock runs a short schedule on the real clock; only
// the counts are checked, never the timing.
func TestScheduleRealClock(t *testing.T) {
	var last time.Time
	tally := Schedule{Rate: 2000, Max: 20, Slack: time.Hour}.Run(context.Background(), RealClock(), func(tk Ticket) bool {
		if tk.Planned.Before(last) {
			t.Errorf("arrival %d planned before the one before it", tk.Index)
		}
		last = tk.Planned
		return true
	})
	if tally.Started != 20 {
		t.Errorf("tally %+v", tally)
	}
}

// TestKindOfShares checks that the request kinds meet their shares to
// within a few requests at every point of a run.
func TestKindOfShares(t *testing.T) {
	const dup, stale = 0.10, 0.05
	var n [numKinds]int
	for i := int64(0); i < 20000; i++ {
		n[KindOf(i, dup, stale)]++
		total := float64(i + 1)
		if d := float64(n[Duplicate]) - dup*total; d < -3 || d > 3 {
			t.Fatalf("after %d requests %d duplicates, want %.0f", i+1, n[Duplicate], dup*total)
		}
		if d := float64(n[Stale]) - stale*total; d < -3 || d > 3 {
			t.Fatalf("after %d requests %d stale, want %.0f", i+1, n[Stale], stale*total)
		}
	}
	if KindOf(0, dup, stale) != Fresh {
		t.Error("the first request is not fresh")
	}
	for i := int64(0); i < 1000; i++ {
		if KindOf(i, 0, 0) != Fresh {
			t.Fatal("a request without shares is not fresh")
		}
	}
}
