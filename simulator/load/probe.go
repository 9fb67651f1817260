package load

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/kycsim/kycsim/simulator/delivery"
)

// DefaultProbeSample is how many subjects the probe asks about.
const DefaultProbeSample = 1000

// DefaultProbeSettle is how long the probe waits for a receiver that
// processes after answering to catch up.
const DefaultProbeSettle = 5 * time.Second

// probeBook remembers the most recent subjects whose fresh event was
// acknowledged, with how many distinct events each got acknowledged (the
// fresh one and any stale ones): a ring, so that it does not grow with
// the run.
type probeBook struct {
	mu   sync.Mutex
	ring []probeEntry
	next int
	idx  map[string]int // subject → place in ring
}

type probeEntry struct {
	subject string
	events  int64
}

func newProbeBook(n int) *probeBook {
	return &probeBook{ring: make([]probeEntry, 0, n), idx: make(map[string]int, n)}
}

// fresh records an acknowledged fresh event.
func (b *probeBook) fresh(subject []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if i, ok := b.idx[string(subject)]; ok {
		b.ring[i].events++
		return
	}
	e := probeEntry{subject: string(subject), events: 1}
	if len(b.ring) < cap(b.ring) {
		b.idx[e.subject] = len(b.ring)
		b.ring = append(b.ring, e)
		return
	}
	delete(b.idx, b.ring[b.next].subject)
	b.ring[b.next] = e
	b.idx[e.subject] = b.next
	b.next = (b.next + 1) % len(b.ring)
}

// stale records an acknowledged stale event of a subject, if the book
// still holds the subject.
func (b *probeBook) stale(subject []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if i, ok := b.idx[string(subject)]; ok {
		b.ring[i].events++
	}
}

// entries returns a copy of what the book holds.
func (b *probeBook) entries() []probeEntry {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]probeEntry(nil), b.ring...)
}

// ProbeResult compares what the receiver says it acted on with what was
// acknowledged, for the most recent subjects.
type ProbeResult struct {
	// URL is the probe's URL template.
	URL string `json:"url"`
	// Subjects is how many subjects were asked about.
	Subjects int `json:"subjects"`
	// Acknowledged counts the distinct events the receiver answered 2xx
	// for those subjects; ActedOn what the probe says it acted on.
	Acknowledged int64 `json:"acknowledged"`
	ActedOn      int64 `json:"actedOn"`
	// Missing counts acknowledged events not acted on; Extra events acted
	// on beyond the acknowledged ones (a duplicate acted on twice, or an
	// event refused and acted on anyway).
	Missing int64 `json:"missing"`
	Extra   int64 `json:"extra"`
	// Unanswered counts subjects the probe gave no usable answer for;
	// Error is the first such problem.
	Unanswered int    `json:"unanswered"`
	Error      string `json:"error,omitempty"`
}

// probeAnswer is the probe protocol's answer.
type probeAnswer struct {
	Events *int64 `json:"events"`
}

// checkProbe asks the probe about each entry, polling each until the
// receiver has acted on at least the acknowledged events or settle has
// passed.
func checkProbe(ctx context.Context, tmpl string, entries []probeEntry, settle time.Duration) *ProbeResult {
	res := &ProbeResult{URL: tmpl, Subjects: len(entries)}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 8, MaxResponseHeaderBytes: delivery.MaxAnswerHeaderBytes}}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(settle)
	var mu sync.Mutex
	work := make(chan probeEntry)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for e := range work {
				got, err := pollProbe(ctx, client, strings.ReplaceAll(tmpl, "{subject}", url.PathEscape(e.subject)), e.events, deadline)
				mu.Lock()
				res.Acknowledged += e.events
				if err != nil {
					res.Unanswered++
					if res.Error == "" {
						res.Error = err.Error()
					}
				} else {
					res.ActedOn += got
					res.Missing += max(0, e.events-got)
					res.Extra += max(0, got-e.events)
				}
				mu.Unlock()
			}
		}()
	}
	for _, e := range entries {
		if ctx.Err() != nil {
			break
		}
		work <- e
	}
	close(work)
	wg.Wait()
	return res
}

// pollProbe asks the probe about one subject until it reports at least
// want events, or the deadline passes; it returns the last count.
func pollProbe(ctx context.Context, client *http.Client, u string, want int64, deadline time.Time) (int64, error) {
	for {
		got, err := askProbe(ctx, client, u)
		if err != nil || got >= want || !time.Now().Before(deadline) {
			return got, err
		}
		t := time.NewTimer(50 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return got, nil
		case <-t.C:
		}
	}
}

func askProbe(ctx context.Context, client *http.Client, u string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, fmt.Errorf("probe %s: %w", u, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("probe: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return 0, fmt.Errorf("probe %s: reading the answer: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("probe %s: answered %d", u, resp.StatusCode)
	}
	var a probeAnswer
	if err := json.Unmarshal(body, &a); err != nil || a.Events == nil {
		return 0, fmt.Errorf("probe %s: the answer is not {\"events\": N, ...}: %s", u, clip(string(body)))
	}
	return *a.Events, nil
}
