package delivery

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"time"
)

// Capacity keeps kycsim's own load within what a target can take, so that
// the target's capacity is never mistaken for a fault of the callback
// being sent. Every request to a host (host:port) is made while holding
// one of the host's slots. When a connection is refused or times out
// while kycsim has other requests in flight to that host, the target has
// run out of room (a single-threaded server with a small listen backlog
// drops connections it has no room for), not failed this request: the
// host gets fewer slots from then on (half as many as were in flight, at
// least one), and the request is made again once a slot is free, until
// its budget runs out. A connection refused with nothing else in flight
// is the target's answer and is reported as it is.
//
// A host starts with InitialSlots slots, and gets one more with every
// answer until the first connection it has no room for (unlimited past
// MaxSlots): a burst at the start of a run cannot bury a small server
// under more connections than it ever saw, while a server with room
// soon takes everything at once.
//
// A Capacity is safe for concurrent use; the zero value is not usable,
// use NewCapacity.
type Capacity struct {
	// Budget bounds how long one request may keep being made again, from
	// its first try (DefaultCapacityBudget when zero).
	Budget time.Duration

	mu    sync.Mutex
	hosts map[string]*hostSlots
}

// DefaultCapacityBudget is how long a request may keep being made again
// when its connections are refused for want of capacity.
const DefaultCapacityBudget = 30 * time.Second

// InitialSlots is how many requests a host takes at once to begin with;
// past MaxSlots, while it has never run out of room, it takes any number.
const (
	InitialSlots = 16
	MaxSlots     = 256
)

// hostSlots is the state of one host.
type hostSlots struct {
	limit    int           // slots; 0 is unlimited
	short    bool          // the host ran out of room once: its slots no longer grow
	inFlight int           // slots held
	freed    chan struct{} // closed (and replaced) when a slot is freed or the limit changes

	// What was seen, for the finding.
	refusedAt int    // the most requests in flight when a connection failed
	requeued  int    // requests made again
	lost      int    // requests that got no connection within their budget
	lastErr   string // the last connection error seen
}

// NewCapacity returns a Capacity with no limit on any host yet.
func NewCapacity() *Capacity { return &Capacity{hosts: map[string]*hostSlots{}} }

// host returns the state of a host; c.mu is held.
func (c *Capacity) host(h string) *hostSlots {
	hs := c.hosts[h]
	if hs == nil {
		hs = &hostSlots{limit: InitialSlots, freed: make(chan struct{})}
		c.hosts[h] = hs
	}
	return hs
}

// errNoSlot says no slot was free before the deadline.
var errNoSlot = errors.New("no slot free within the budget")

// acquire waits for a slot of the host, until ctx is done or the deadline
// (none when zero) passes, and returns how many requests are in flight
// with it.
func (c *Capacity) acquire(ctx context.Context, h string, deadline time.Time) (int, error) {
	var expired <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		expired = t.C
	}
	for {
		c.mu.Lock()
		hs := c.host(h)
		if hs.limit == 0 || hs.inFlight < hs.limit {
			hs.inFlight++
			n := hs.inFlight
			c.mu.Unlock()
			return n, nil
		}
		freed := hs.freed
		c.mu.Unlock()
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-expired:
			return 0, errNoSlot
		case <-freed:
		}
	}
}

// release frees a slot of the host. failedWith, when > 1, is the number of
// requests in flight when this one got no connection: the host's limit
// drops to half of it (at least one), and grows no more. answered says
// the request got an answer: the limit of a host that never ran out of
// room grows by one.
func (c *Capacity) release(h string, failedWith int, err string, answered bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	hs := c.host(h)
	hs.inFlight--
	switch {
	case failedWith > 1:
		hs.short = true
		hs.refusedAt = max(hs.refusedAt, failedWith)
		hs.lastErr = err
		if limit := max(1, failedWith/2); hs.limit == 0 || limit < hs.limit {
			hs.limit = limit
		}
	case answered && !hs.short && hs.limit > 0:
		if hs.limit++; hs.limit > MaxSlots {
			hs.limit = 0
		}
	}
	close(hs.freed)
	hs.freed = make(chan struct{})
}

// Do makes a request to a host through try, holding a slot of the host
// while it runs. try returns the connection error when the request got no
// connection (ConnectError tells one), the error when no answer came, nil
// otherwise. No answer while the host is short of room (a connection
// failed for want of it before) and others are in flight is lost too; it
// is not made again. When it got none
// while other requests were in flight, Do makes it again once a slot is
// free, until the budget runs out (also while it waits for a slot) or ctx
// is done: requeued says how many times, and lost is true when the last
// try got no connection with others in flight and could not be made again
// within the budget (the target's capacity, not the request, failed). An
// error of its own is returned only when ctx ended before the first try;
// try was then not called.
func (c *Capacity) Do(ctx context.Context, host string, try func() error) (requeued int, lost bool, err error) {
	deadline := time.Now().Add(cmpDuration(c.Budget, DefaultCapacityBudget))
	pause := 20 * time.Millisecond
	count := func(f func(hs *hostSlots)) {
		c.mu.Lock()
		f(c.host(host))
		c.mu.Unlock()
	}
	for again := false; ; again = true {
		var slotDeadline time.Time
		if again {
			slotDeadline = deadline
		}
		n, err := c.acquire(ctx, host, slotDeadline)
		switch {
		case err != nil && !again:
			return 0, false, err
		case err != nil:
			count(func(hs *hostSlots) { hs.lost++ })
			return requeued, true, nil
		case again:
			requeued++
			count(func(hs *hostSlots) { hs.requeued++ })
		}
		cerr := try()
		if cerr != nil && !ConnectError(cerr) {
			// The connection was made but no answer came. While the
			// target is short of room with others in flight, the
			// request may never have reached it (a connection the
			// kernel took but the server never accepted): not the
			// request's fault, but it may have been acted on, so it is
			// not made again.
			c.mu.Lock()
			hs := c.host(host)
			short := hs.refusedAt > 0 && n > 1
			if short {
				hs.lost++
			}
			c.mu.Unlock()
			c.release(host, 0, "", false)
			return requeued, short, nil
		}
		failedWith, msg := 0, ""
		if cerr != nil && n > 1 {
			failedWith, msg = n, cerr.Error()
		}
		c.release(host, failedWith, msg, cerr == nil)
		if failedWith == 0 {
			return requeued, false, nil
		}
		if time.Now().Add(pause).After(deadline) || ctx.Err() != nil {
			count(func(hs *hostSlots) { hs.lost++ })
			return requeued, true, nil
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			count(func(hs *hostSlots) { hs.lost++ })
			return requeued, true, nil
		case <-t.C:
		}
		pause = min(2*pause, time.Second)
	}
}

func cmpDuration(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// ConnectError reports whether err says a request got no connection: the
// connection was refused, or not made within the connect deadline.
func ConnectError(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "dial"
}

// CapacityFinding is what a Capacity saw of one host that ran out of room.
type CapacityFinding struct {
	Host string `json:"host"`
	// RefusedAt is the most requests kycsim had in flight to the host
	// when a connection got refused or timed out; Limit is how many it
	// let run at once afterwards.
	RefusedAt int `json:"refusedAt"`
	Limit     int `json:"limit"`
	// Requeued counts the requests made again; Lost those that still got
	// no connection within their budget.
	Requeued int    `json:"requeued"`
	Lost     int    `json:"lost"`
	LastErr  string `json:"lastError,omitempty"`
}

// String words the finding.
func (f CapacityFinding) String() string {
	served := fmt.Sprintf("kycsim sent it at most %d at a time from then on", f.Limit)
	if f.Limit == 1 {
		served = "kycsim sent it one at a time from then on"
	}
	s := fmt.Sprintf("%s refused or dropped connections with %d requests in flight (%s); %s and made %d request(s) again",
		f.Host, f.RefusedAt, f.LastErr, served, f.Requeued)
	if f.Lost > 0 {
		s += fmt.Sprintf("; %d request(s) still got no connection within their budget: the target could not take even that load", f.Lost)
	}
	return s
}

// Findings returns what was seen of every host that ran out of room,
// sorted by host; nil when none did.
func (c *Capacity) Findings() []CapacityFinding {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []CapacityFinding
	for h, hs := range c.hosts {
		if hs.refusedAt == 0 {
			continue
		}
		out = append(out, CapacityFinding{Host: h, RefusedAt: hs.refusedAt, Limit: hs.limit, Requeued: hs.requeued, Lost: hs.lost, LastErr: hs.lastErr})
	}
	sort.Slice(out, func(i, j int) bool { return strings.Compare(out[i].Host, out[j].Host) < 0 })
	return out
}
