package load

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Kind is what a callback is to the receiver.
type Kind uint8

// The kinds of callback.
const (
	// Fresh is a new event for a new subject.
	Fresh Kind = iota
	// Duplicate is a byte-identical copy of a fresh event already
	// answered: what a vendor's redelivery looks like.
	Duplicate
	// Stale is an older event for a subject already answered, sent
	// after it (out of order): an earlier message of the lifecycle, or
	// the same one, dated before it.
	Stale
	numKinds
)

// Outcome is what happened to one request.
type Outcome struct {
	Kind Kind
	// Planned is when the request was due; Sent when it went; Done when
	// its answer was read or it failed.
	Planned, Sent, Done time.Time
	// Status is the answer's status code; 0 when there was none.
	Status int
	// Err is why there was no answer.
	Err error
	// ErrText stands for Err where only its text is known (a delivery
	// attempt's); Err wins when both are set.
	ErrText string
	// Answer is the start of a non-2xx answer's body, for the summary's
	// first example of each status; it may be nil.
	Answer []byte
}

// Histogram range: 1 µs to 1 h, 3 significant digits.
const (
	histLowest  = 1
	histHighest = int64(time.Hour / time.Microsecond)
	histDigits  = 3
)

// maxSample is how much of an answer or error the summary quotes.
const maxSample = 160

// Recorder counts outcomes into a fixed amount of memory: HDR histograms
// of a fixed range, counters per status code and error kind, and the
// first example of each. It does not grow with the number of requests.
// It is safe for concurrent use; each goroutine should record into its
// own shard.
type Recorder struct {
	deadline time.Duration
	shards   []recShard
	samples  samples
}

type recShard struct {
	mu sync.Mutex
	// latency is from the planned start to the answer; service from the
	// send to the answer; lag from the planned start to the send.
	latency, service, lag *hdrhistogram.Histogram
	codes                 [600]int64
	badCodes              int64 // outside 100..599
	errs                  [numErrKinds]int64
	kinds                 [numKinds]int64
	sent, answered, ok    int64
	late                  int64 // 2xx, after the deadline
	firstSent, lastSent   time.Time
	_                     [64]byte // keep shards on their own cache lines
}

// NewRecorder returns a recorder with n shards (at least 1) that judges
// answers against the vendor's answer deadline.
func NewRecorder(shards int, deadline time.Duration) *Recorder {
	r := &Recorder{deadline: deadline, shards: make([]recShard, max(shards, 1))}
	for i := range r.shards {
		s := &r.shards[i]
		s.latency = hdrhistogram.New(histLowest, histHighest, histDigits)
		s.service = hdrhistogram.New(histLowest, histHighest, histDigits)
		s.lag = hdrhistogram.New(histLowest, histHighest, histDigits)
	}
	return r
}

// Shards returns the number of shards.
func (r *Recorder) Shards() int { return len(r.shards) }

// samples hold the first example of each status and error kind; they
// are few, and written once each.
type samples struct {
	mu     sync.Mutex
	status map[int]string
	errs   [numErrKinds]string
}

// Record counts one outcome into a shard (taken modulo the number of
// shards).
func (r *Recorder) Record(shard int, o *Outcome) {
	s := &r.shards[shard%len(r.shards)]
	kind := errNone
	if o.Err != nil {
		kind = errorKind(o.Err)
	} else if o.ErrText != "" {
		kind = errorKindOfText(o.ErrText)
	}
	answered := kind == errNone && o.Status != 0
	service := o.Done.Sub(o.Sent)
	s.mu.Lock()
	s.sent++
	s.kinds[o.Kind%numKinds]++
	if s.firstSent.IsZero() || o.Sent.Before(s.firstSent) {
		s.firstSent = o.Sent
	}
	if o.Sent.After(s.lastSent) {
		s.lastSent = o.Sent
	}
	recordDuration(s.lag, o.Sent.Sub(o.Planned))
	if answered || kind == errAnswerTimeout {
		// A request that timed out took at least its deadline: leaving
		// it out would flatter the tail.
		recordDuration(s.latency, o.Done.Sub(o.Planned))
		recordDuration(s.service, service)
	}
	if answered {
		s.answered++
		if o.Status >= 100 && o.Status < len(s.codes) {
			s.codes[o.Status]++
		} else {
			s.badCodes++
		}
		if o.Status >= 200 && o.Status < 300 {
			if r.deadline > 0 && service > r.deadline {
				s.late++
			} else {
				s.ok++
			}
		}
	} else {
		s.errs[kind]++
	}
	s.mu.Unlock()
	if answered && (o.Status < 200 || o.Status >= 300) {
		r.sampleStatus(o.Status, o.Answer)
	} else if !answered {
		text := o.ErrText
		if o.Err != nil {
			text = o.Err.Error()
		}
		r.sampleErr(kind, text)
	}
}

// sampleStatus and sampleErr keep the first example of each status and
// error kind.
func (r *Recorder) sampleStatus(status int, answer []byte) {
	sm := &r.samples
	sm.mu.Lock()
	defer sm.mu.Unlock()
	if sm.status == nil {
		sm.status = map[int]string{}
	}
	if _, ok := sm.status[status]; !ok && len(sm.status) < 64 {
		sm.status[status] = clip(string(answer))
	}
}

func (r *Recorder) sampleErr(kind errKind, text string) {
	sm := &r.samples
	sm.mu.Lock()
	defer sm.mu.Unlock()
	if sm.errs[kind] == "" {
		sm.errs[kind] = clip(text)
	}
}

func clip(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxSample {
		s = s[:maxSample] + "…"
	}
	return s
}

// recordDuration records d in microseconds, clamped to the histogram's
// range.
func recordDuration(h *hdrhistogram.Histogram, d time.Duration) {
	us := int64(d / time.Microsecond)
	if us < 0 {
		us = 0
	}
	if us > histHighest {
		us = histHighest
	}
	_ = h.RecordValue(us)
}

// Progress is a running count, for a progress line.
type Progress struct {
	Sent, OK, NotOK, Errors int64
}

// Progress returns the counts so far.
func (r *Recorder) Progress() Progress {
	var p Progress
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		p.Sent += s.sent
		p.OK += s.ok
		p.NotOK += s.answered - s.ok
		for _, n := range s.errs {
			p.Errors += n
		}
		s.mu.Unlock()
	}
	return p
}

// Percentiles summarise a distribution of durations.
type Percentiles struct {
	Count int64         `json:"count"`
	Min   time.Duration `json:"minNs"`
	Mean  time.Duration `json:"meanNs"`
	P50   time.Duration `json:"p50Ns"`
	P90   time.Duration `json:"p90Ns"`
	P99   time.Duration `json:"p99Ns"`
	P999  time.Duration `json:"p999Ns"`
	Max   time.Duration `json:"maxNs"`
}

func percentiles(h *hdrhistogram.Histogram) Percentiles {
	us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
	if h.TotalCount() == 0 {
		return Percentiles{}
	}
	return Percentiles{
		Count: h.TotalCount(),
		Min:   us(h.Min()),
		Mean:  time.Duration(h.Mean() * float64(time.Microsecond)),
		P50:   us(h.ValueAtPercentile(50)),
		P90:   us(h.ValueAtPercentile(90)),
		P99:   us(h.ValueAtPercentile(99)),
		P999:  us(h.ValueAtPercentile(99.9)),
		Max:   us(h.Max()),
	}
}

// StatusCount is how many answers had one status.
type StatusCount struct {
	Status int   `json:"status"`
	Count  int64 `json:"count"`
	// Sample is the start of the first such answer's body (non-2xx
	// only), made safe to print by the caller.
	Sample string `json:"sample,omitempty"`
}

// ErrorCount is how many requests failed one way.
type ErrorCount struct {
	Kind   string `json:"kind"`
	Count  int64  `json:"count"`
	Sample string `json:"sample,omitempty"` // the first such error
}

// Counts is what a recorder counted.
type Counts struct {
	// Sent counts requests sent; Answered those that got an answer.
	Sent, Answered int64
	// OK counts 2xx answers within the deadline; Late 2xx answers after
	// it.
	OK, Late int64
	// Events counts the requests by kind.
	Fresh, Duplicates, Stale int64
	// Classes counts answers by status class ("2xx", ...).
	Classes map[string]int64
	// Statuses counts answers by status, in order.
	Statuses []StatusCount
	// Errors counts requests without an answer by kind, most first.
	Errors []ErrorCount
	// Latency runs from the planned start to the answer; Service from
	// the send to the answer; StartLag from the planned start to the
	// send.
	Latency, Service, StartLag Percentiles
	// FirstSent and LastSent are when the first and last requests went.
	FirstSent, LastSent time.Time
}

// Counts merges the shards into the counts so far.
func (r *Recorder) Counts() Counts {
	latency := hdrhistogram.New(histLowest, histHighest, histDigits)
	service := hdrhistogram.New(histLowest, histHighest, histDigits)
	lag := hdrhistogram.New(histLowest, histHighest, histDigits)
	var codes [600]int64
	var errs [numErrKinds]int64
	var kinds [numKinds]int64
	var c Counts
	var bad int64
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		latency.Merge(s.latency)
		service.Merge(s.service)
		lag.Merge(s.lag)
		for j, n := range s.codes {
			codes[j] += n
		}
		for j, n := range s.errs {
			errs[j] += n
		}
		for j, n := range s.kinds {
			kinds[j] += n
		}
		bad += s.badCodes
		c.Sent += s.sent
		c.Answered += s.answered
		c.OK += s.ok
		c.Late += s.late
		if !s.firstSent.IsZero() && (c.FirstSent.IsZero() || s.firstSent.Before(c.FirstSent)) {
			c.FirstSent = s.firstSent
		}
		if s.lastSent.After(c.LastSent) {
			c.LastSent = s.lastSent
		}
		s.mu.Unlock()
	}
	c.Fresh, c.Duplicates, c.Stale = kinds[Fresh], kinds[Duplicate], kinds[Stale]
	c.Latency, c.Service, c.StartLag = percentiles(latency), percentiles(service), percentiles(lag)
	c.Classes = map[string]int64{}
	sm := &r.samples
	sm.mu.Lock()
	defer sm.mu.Unlock()
	for code, n := range codes {
		if n > 0 {
			c.Classes[string(rune('0'+code/100))+"xx"] += n
			c.Statuses = append(c.Statuses, StatusCount{Status: code, Count: n, Sample: sm.status[code]})
		}
	}
	if bad > 0 {
		c.Classes["other"] += bad
	}
	for k, n := range errs {
		if n > 0 {
			c.Errors = append(c.Errors, ErrorCount{Kind: errKinds[k], Count: n, Sample: sm.errs[k]})
		}
	}
	slices.SortStableFunc(c.Errors, func(a, b ErrorCount) int { return int(b.Count - a.Count) })
	return c
}

// errKind is a way a request can fail.
type errKind int

const (
	errNone errKind = iota
	errRefused
	errConnectTimeout
	errAnswerTimeout
	errReset
	errClosed
	errNoPort
	errTooManyFiles
	errCancelled
	errOther
	numErrKinds
)

// errKinds are the errKinds' names, as the summary shows them.
var errKinds = [numErrKinds]string{
	errNone:           "none",
	errRefused:        "connection refused",
	errConnectTimeout: "no connection within the connect deadline",
	errAnswerTimeout:  "no answer within the answer deadline",
	errReset:          "connection reset by the receiver",
	errClosed:         "connection closed without an answer",
	errNoPort:         "no free local port (too many connections opened and closed)",
	errTooManyFiles:   "too many open files (raise ulimit -n)",
	errCancelled:      "cancelled (Ctrl-C)",
	errOther:          "other",
}

// errorKind sorts a transport error into one of a few kinds.
func errorKind(err error) errKind {
	var ne net.Error
	var oe *net.OpError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return errRefused
	case errors.As(err, &oe) && oe.Op == "dial" && oe.Timeout():
		return errConnectTimeout
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return errAnswerTimeout
	case errors.Is(err, context.Canceled):
		return errCancelled
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return errReset
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return errClosed
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return errNoPort
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return errTooManyFiles
	}
	return errorKindOfText(err.Error())
}

// errorKindOfText sorts an error known only by its text (a delivery
// attempt's) into one of the kinds.
func errorKindOfText(s string) errKind {
	switch {
	case strings.Contains(s, "connection refused"):
		return errRefused
	case strings.Contains(s, "no connection within"):
		return errConnectTimeout
	case strings.Contains(s, "no answer within"), strings.Contains(s, "deadline exceeded"), strings.Contains(s, "timeout"):
		return errAnswerTimeout
	case s == "cancelled", strings.Contains(s, "context canceled"):
		return errCancelled
	case strings.Contains(s, "connection reset"), strings.Contains(s, "broken pipe"):
		return errReset
	case strings.Contains(s, "EOF"), strings.Contains(s, "server closed"):
		return errClosed
	case strings.Contains(s, "cannot assign requested address"):
		return errNoPort
	case strings.Contains(s, "too many open files"):
		return errTooManyFiles
	}
	return errOther
}
