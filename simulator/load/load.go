// Package load sends vendor-faithful callbacks at a fixed arrival rate
// (an open model), as fast as a dedicated load generator, and measures
// how the receiver keeps up.
//
// A Template is a message's body built once by the event package and
// split around what differs from one callback to the next; a Sender
// fills it with fresh ids and times, signs it with a keyed hash it
// reuses, and posts it over a Client's keep-alive pool. A Schedule plans
// the arrivals and never catches up in bursts; a Recorder counts the
// outcomes into HDR histograms and fixed counters. Run puts them
// together; Summary says what happened and whether the run passes.
package load

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultConnections is how many requests may be in flight at once
// unless Config.Target.Connections says otherwise.
const DefaultConnections = 512

// DefaultGrace is how long requests in flight may finish after Ctrl-C.
const DefaultGrace = time.Second

// Config is one load run.
type Config struct {
	Target
	// Template makes the callbacks; Stale, when set, the older events
	// sent out of order (a share StaleShare of the requests).
	Template, Stale *Template
	// Rate is arrivals per second; 0 sends as fast as the connections
	// allow (a closed model, to find the receiver's capacity).
	Rate float64
	// Duration and MaxRequests bound the run; at least one must be set.
	Duration    time.Duration
	MaxRequests int64
	// Duplicates is the share of byte-identical copies of answered
	// events; StaleShare the share of stale events. Each is in [0, 1)
	// and their sum is below 1.
	Duplicates, StaleShare float64
	// Probe is the receiver's probe URL with {subject}; "" asks nothing.
	// ProbeSample (DefaultProbeSample when 0) is how many of the most
	// recent subjects it asks about, and ProbeSettle (DefaultProbeSettle
	// when 0) how long it waits for them to be acted on.
	Probe       string
	ProbeSample int
	ProbeSettle time.Duration
	// Grace is how long requests in flight may finish once ctx is done
	// (DefaultGrace when 0); the rest are cancelled.
	Grace time.Duration
	// Clock is the schedule's clock (RealClock when nil).
	Clock Clock
	// Slack is how late an arrival may start (DefaultSlack when 0).
	Slack time.Duration
	// OnProgress, when set, is called every ProgressEvery (1 s when 0)
	// with the counts so far and the time since the start.
	OnProgress    func(Progress, time.Duration)
	ProgressEvery time.Duration

	// onScheduleDone, when set, is called when the last arrival is past
	// (tests).
	onScheduleDone func()
}

// Missed counts the arrivals the client could not start.
type Missed struct {
	// Busy arrivals found every connection busy.
	Busy int64 `json:"busy"`
	// Behind arrivals came due while kycsim was running late (starved of
	// CPU, or paused).
	Behind int64 `json:"behind"`
}

// Total returns every missed arrival.
func (m Missed) Total() int64 { return m.Busy + m.Behind }

// Sessions counts whole scenarios played as sessions.
type Sessions struct {
	Scenarios []string `json:"scenarios"`
	Started   int64    `json:"started"`
	Passed    int64    `json:"passed"`
	Failed    int64    `json:"failed"`
	// FirstFailure is the first failed expectation of a session.
	FirstFailure string `json:"firstFailure,omitempty"`
}

// Summary is what a run did.
type Summary struct {
	Product string `json:"product"`
	Message string `json:"message,omitempty"`
	Target  string `json:"target"`
	// Rate is the arrival rate asked for, per second (0: as fast as the
	// connections allow); Achieved the rate of the requests sent.
	Rate        float64       `json:"rate"`
	Achieved    float64       `json:"achievedRate"`
	Connections int           `json:"connections"`
	Duration    time.Duration `json:"durationNs,omitempty"`
	MaxRequests int64         `json:"maxRequests,omitempty"`
	// Deadline is the vendor's answer deadline every answer is held to.
	Deadline time.Duration `json:"deadlineNs"`
	Elapsed  time.Duration `json:"elapsedNs"`
	// Interrupted is set when the run was cancelled (Ctrl-C).
	Interrupted bool `json:"interrupted"`
	// Planned counts the arrivals whose time came; Missed those not
	// started.
	Planned int64  `json:"planned"`
	Missed  Missed `json:"missed"`
	// Slack is how late an arrival could start before it was missed (0:
	// DefaultSlack).
	Slack time.Duration `json:"slackNs,omitempty"`

	Sent       int64 `json:"sent"`
	Fresh      int64 `json:"fresh"`
	Duplicates int64 `json:"duplicates"`
	Stale      int64 `json:"stale"`
	Answered   int64 `json:"answered"`
	// OK counts 2xx answers within the deadline; Late 2xx answers after
	// it.
	OK       int64            `json:"ok"`
	Late     int64            `json:"late"`
	Classes  map[string]int64 `json:"statusClasses"`
	Statuses []StatusCount    `json:"statuses"`
	Errors   []ErrorCount     `json:"errors"`
	// Latency runs from the planned start to the answer (no coordinated
	// omission); Service from the send to the answer; StartLag from the
	// planned start to the send.
	Latency  Percentiles `json:"latency"`
	Service  Percentiles `json:"service"`
	StartLag Percentiles `json:"startLag"`

	Probe    *ProbeResult `json:"probe,omitempty"`
	Sessions *Sessions    `json:"sessions,omitempty"`

	// Failures say why the run fails; none when it passes.
	Failures []string `json:"failures"`
	Passed   bool     `json:"passed"`
}

// SetCounts copies a recorder's counts into the summary.
func (s *Summary) SetCounts(c Counts) {
	s.Sent, s.Answered, s.OK, s.Late = c.Sent, c.Answered, c.OK, c.Late
	s.Fresh, s.Duplicates, s.Stale = c.Fresh, c.Duplicates, c.Stale
	s.Classes, s.Statuses, s.Errors = c.Classes, c.Statuses, c.Errors
	s.Latency, s.Service, s.StartLag = c.Latency, c.Service, c.StartLag
}

// Judge sets Failures and Passed. A run passes when it was not
// interrupted, started every planned arrival, and every request got a
// 2xx answer within the deadline (for sessions: every session passed);
// with a probe, the receiver must also have acted on every acknowledged
// event, once.
func (s *Summary) Judge() {
	s.Failures = nil
	fail := func(format string, args ...any) { s.Failures = append(s.Failures, fmt.Sprintf(format, args...)) }
	if s.Interrupted {
		fail("interrupted before the end of the run")
	}
	if s.Sent == 0 {
		fail("nothing was sent")
	}
	if n := s.Missed.Total(); n > 0 {
		fail("%d of %d planned arrivals (%.1f%%) were not sent: kycsim could not keep the rate", n, s.Planned, 100*float64(n)/float64(max(s.Planned, 1)))
	}
	if s.Sessions != nil {
		if s.Sessions.Failed > 0 {
			fail("%d of %d sessions failed their scenario's expectations", s.Sessions.Failed, s.Sessions.Started)
		}
	} else {
		if n := s.Sent - s.Answered; n > 0 {
			fail("%d requests got no answer", n)
		}
		if n := s.Answered - s.OK - s.Late; n > 0 {
			fail("%d answers were not 2xx", n)
		}
		if s.Late > 0 {
			fail("%d 2xx answers came after the %s answer deadline", s.Late, s.Deadline)
		}
	}
	if p := s.Probe; p != nil {
		if p.Unanswered > 0 {
			fail("the probe gave no usable answer for %d of %d subjects", p.Unanswered, p.Subjects)
		}
		if p.Missing > 0 {
			fail("the receiver did not act on %d of %d acknowledged events (probe)", p.Missing, p.Acknowledged)
		}
		if p.Extra > 0 {
			fail("the receiver acted on %d events more than it acknowledged (duplicates acted on twice?) (probe)", p.Extra)
		}
	}
	s.Passed = len(s.Failures) == 0
}

// golden is the fractional part of the golden ratio: the request kinds
// follow its multiples, so each share is met to within a few requests
// at any point of the run, without a period.
const golden = 0.6180339887498949

// KindOf returns the kind of request i of a run with the given shares.
func KindOf(i int64, duplicates, stale float64) Kind {
	_, u := math.Modf(0.5 + float64(i)*golden)
	switch {
	case u < duplicates:
		return Duplicate
	case u < duplicates+stale:
		return Stale
	}
	return Fresh
}

// check validates the configuration.
func (cfg *Config) check() error {
	switch {
	case cfg.Template == nil:
		return errors.New("no template")
	case cfg.Rate < 0 || math.IsNaN(cfg.Rate) || math.IsInf(cfg.Rate, 0):
		return fmt.Errorf("rate %g: must be > 0 (or 0 for as fast as possible)", cfg.Rate)
	case cfg.Duration <= 0 && cfg.MaxRequests <= 0:
		return errors.New("a run needs a duration or a maximum number of requests")
	case cfg.Duration < 0 || cfg.MaxRequests < 0:
		return errors.New("the duration and the maximum number of requests must not be negative")
	case cfg.Duplicates < 0 || cfg.StaleShare < 0 || cfg.Duplicates+cfg.StaleShare >= 1:
		return fmt.Errorf("duplicates %g and stale %g: each must be >= 0 and together below 1", cfg.Duplicates, cfg.StaleShare)
	case cfg.StaleShare > 0 && cfg.Stale == nil:
		return errors.New("stale events need a stale template")
	case cfg.Stale != nil && cfg.Stale.subject != cfg.Template.subject:
		return fmt.Errorf("the stale template %s has other subject ids than %s", cfg.Stale.describe(), cfg.Template.describe())
	}
	return nil
}

// Run plays the run and returns its judged summary. The error is for a
// run that cannot start (a bad configuration or target).
func Run(ctx context.Context, cfg Config) (*Summary, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if cfg.Connections <= 0 {
		cfg.Connections = DefaultConnections
	}
	client, err := NewClient(cfg.Target)
	if err != nil {
		return nil, err
	}
	defer client.Close()
	client.keepLast = cfg.Duplicates > 0 || cfg.StaleShare > 0
	if cfg.Probe != "" {
		n := cfg.ProbeSample
		if n <= 0 {
			n = DefaultProbeSample
		}
		client.book = newProbeBook(n)
	}
	rec := NewRecorder(min(runtime.GOMAXPROCS(0), cfg.Connections), cfg.AnswerTimeout)

	// Requests in flight are cancelled Grace after ctx is done, not at
	// once: Ctrl-C stops the arrivals and lets the answers on their way
	// come in.
	reqCtx, abort := context.WithCancel(context.WithoutCancel(ctx))
	defer abort()
	grace := cfg.Grace
	if grace <= 0 {
		grace = DefaultGrace
	}
	stopWatch := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(grace, abort)
		context.AfterFunc(reqCtx, func() { t.Stop() })
	})
	defer stopWatch()

	start := time.Now()
	progressDone := startProgress(cfg, rec, start)
	var tally Tally
	if cfg.Rate > 0 {
		tally = runOpen(ctx, reqCtx, &cfg, client, rec)
	} else {
		tally = runClosed(ctx, reqCtx, &cfg, client, rec)
	}
	progressDone()

	sum := &Summary{
		Product: cfg.Template.Product, Message: cfg.Template.Message, Target: cfg.URL,
		Rate: cfg.Rate, Connections: cfg.Connections, Duration: cfg.Duration, MaxRequests: cfg.MaxRequests,
		Deadline: cfg.AnswerTimeout, Elapsed: time.Since(start), Interrupted: ctx.Err() != nil || tally.Interrupted,
		Planned: tally.Planned, Missed: Missed{Busy: tally.Busy, Behind: tally.Behind}, Slack: cfg.Slack,
	}
	counts := rec.Counts()
	sum.SetCounts(counts)
	switch {
	case cfg.Rate > 0 && tally.Span > 0:
		sum.Achieved = float64(sum.Sent) / tally.Span.Seconds()
	case cfg.Rate > 0:
		sum.Achieved = 0
	case counts.Sent > 1 && counts.LastSent.After(counts.FirstSent):
		sum.Achieved = float64(counts.Sent-1) / counts.LastSent.Sub(counts.FirstSent).Seconds()
	}
	if client.book != nil && !sum.Interrupted {
		settle := cfg.ProbeSettle
		if settle <= 0 {
			settle = DefaultProbeSettle
		}
		sum.Probe = checkProbe(ctx, cfg.Probe, client.book.entries(), settle)
	}
	sum.Judge()
	return sum, nil
}

// startProgress calls cfg.OnProgress every cfg.ProgressEvery until the
// returned function is called.
func startProgress(cfg Config, rec *Recorder, start time.Time) func() {
	if cfg.OnProgress == nil {
		return func() {}
	}
	every := cfg.ProgressEvery
	if every <= 0 {
		every = time.Second
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				cfg.OnProgress(rec.Progress(), time.Since(start))
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// runOpen plays the open model: the schedule hands each arrival to an
// idle worker, one per connection, or counts it missed.
func runOpen(ctx, reqCtx context.Context, cfg *Config, client *Client, rec *Recorder) Tally {
	tickets := make(chan Ticket, cfg.Connections)
	var inflight atomic.Int64
	var wg sync.WaitGroup
	for w := range cfg.Connections {
		s := client.NewSender(cfg.Template, cfg.Stale)
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A context of the worker's own: the requests' deadlines hang
			// on it, not on one parent that every worker would lock.
			wctx, cancel := context.WithCancel(reqCtx)
			defer cancel()
			var o Outcome
			for t := range tickets {
				s.do(wctx, KindOf(t.Index, cfg.Duplicates, cfg.StaleShare), t.Planned, &o)
				rec.Record(w, &o)
				inflight.Add(-1)
			}
		}()
	}
	clock := cfg.Clock
	if clock == nil {
		clock = RealClock()
	}
	sched := Schedule{Rate: cfg.Rate, Duration: cfg.Duration, Max: cfg.MaxRequests, Slack: cfg.Slack}
	limit := int64(cfg.Connections)
	tally := sched.Run(ctx, clock, func(t Ticket) bool {
		// Only this goroutine adds, so a ticket sent finds room in the
		// channel and a worker free to take it.
		if inflight.Load() >= limit {
			return false
		}
		inflight.Add(1)
		tickets <- t
		return true
	})
	if cfg.onScheduleDone != nil {
		cfg.onScheduleDone()
	}
	close(tickets)
	wg.Wait()
	return tally
}

// runClosed sends as fast as the connections allow: each worker sends
// its next request when its answer is in. Latency then equals service
// time, and nothing is missed.
func runClosed(ctx, reqCtx context.Context, cfg *Config, client *Client, rec *Recorder) Tally {
	var next atomic.Int64
	var end time.Time
	start := time.Now()
	if cfg.Duration > 0 {
		end = start.Add(cfg.Duration)
	}
	var wg sync.WaitGroup
	for w := range cfg.Connections {
		s := client.NewSender(cfg.Template, cfg.Stale)
		wg.Add(1)
		go func() {
			defer wg.Done()
			wctx, cancel := context.WithCancel(reqCtx)
			defer cancel()
			var o Outcome
			for ctx.Err() == nil {
				now := time.Now()
				if !end.IsZero() && !now.Before(end) {
					return
				}
				i := next.Add(1) - 1
				if cfg.MaxRequests > 0 && i >= cfg.MaxRequests {
					return
				}
				s.do(wctx, KindOf(i, cfg.Duplicates, cfg.StaleShare), now, &o)
				rec.Record(w, &o)
			}
		}()
	}
	wg.Wait()
	// Every request a worker claimed was sent: the count is the
	// recorder's (the counter overshoots by one per worker).
	sent := rec.Progress().Sent
	return Tally{Start: start, Planned: sent, Started: sent, Interrupted: ctx.Err() != nil, Span: time.Since(start)}
}

// SlackOrDefault is how late an arrival could start before it was missed.
func (s *Summary) SlackOrDefault() time.Duration {
	if s.Slack <= 0 {
		return DefaultSlack
	}
	return s.Slack
}
