package load

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycsim/kycsim/simulator/signing"
	"github.com/kycsim/kycsim/spec"
)

const secret = "s3cr3t"

// counter is a receiver that counts what it got: requests, exact
// duplicates, bad signatures, and the distinct events it answered 2xx
// per subject, which its probe reports (GET /_probe/{subject}).
type counter struct {
	t *testing.T
	// status, when set, gives the status of the n-th request (from 1).
	status func(n int) int
	// hold, when set, makes every request wait until it is closed.
	hold chan struct{}
	// onRequest, when set, is called with the count after each request
	// came in (before holding).
	onRequest func(n int)
	// countCopies makes the probe count every 2xx body, duplicates too:
	// a receiver that does not deduplicate.
	countCopies bool
	// subjectOf reads the subject of a body ("applicantId" by default).
	subjectOf func(body []byte) string

	mu     sync.Mutex
	n      int
	codes  map[int]int
	seen   map[[32]byte]bool
	dups   int
	badSig int
	bodies [][]byte
	events map[string]map[[32]byte]int // subject → 2xx bodies → copies
}

func newCounter(t *testing.T) (*counter, string) {
	c := &counter{t: t, codes: map[int]int{}, seen: map[[32]byte]bool{}, events: map[string]map[[32]byte]int{}}
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	return c, srv.URL
}

func sumsubSubject(body []byte) string {
	var v struct {
		ApplicantID string `json:"applicantId"`
	}
	json.Unmarshal(body, &v)
	return v.ApplicantID
}

func (c *counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_probe/") {
		subject := strings.TrimPrefix(r.URL.Path, "/_probe/")
		c.mu.Lock()
		n := 0
		for _, copies := range c.events[subject] {
			if c.countCopies {
				n += copies
			} else {
				n++
			}
		}
		c.mu.Unlock()
		fmt.Fprintf(w, `{"events": %d, "status": null}`, n)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		c.t.Errorf("receiver: %v", err)
		return
	}
	sum := sha256.Sum256(body)
	c.mu.Lock()
	c.n++
	n := c.n
	if c.seen[sum] {
		c.dups++
	}
	c.seen[sum] = true
	if alg := r.Header.Get(signing.AlgorithmHeader); alg != "" {
		if !signing.Verify(signing.Algorithm(alg), secret, body, r.Header.Get(signing.DigestHeader)) {
			c.badSig++
		}
	}
	c.bodies = append(c.bodies, body)
	status := http.StatusOK
	if c.status != nil {
		status = c.status(n)
	}
	c.codes[status]++
	if status >= 200 && status < 300 {
		subjectOf := c.subjectOf
		if subjectOf == nil {
			subjectOf = sumsubSubject
		}
		s := subjectOf(body)
		if c.events[s] == nil {
			c.events[s] = map[[32]byte]int{}
		}
		c.events[s][sum]++
	}
	c.mu.Unlock()
	if c.onRequest != nil {
		c.onRequest(n)
	}
	if c.hold != nil {
		<-c.hold
	}
	w.WriteHeader(status)
	fmt.Fprintf(w, "answer %d", n)
}

func (c *counter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// config returns a run of sumsub applicantReviewed to url.
func config(t testing.TB, url string) Config {
	t.Helper()
	cat := catalog(t)
	tmpl, err := NewTemplate(cat, "sumsub", "applicantReviewed", TemplateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	stale, err := NewTemplate(cat, "sumsub", StaleMessage("sumsub", "applicantReviewed"), TemplateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return Config{
		Target:   Target{URL: url, Secret: secret, ConnectTimeout: time.Second, AnswerTimeout: 10 * time.Second, Connections: 4},
		Template: tmpl, Stale: stale,
	}
}

// TestRunSummaryMatchesTheReceiver compares the summary with what a
// counting receiver got: requests, statuses, exact duplicates, stale
// events, and what its probe says it acted on.
func TestRunSummaryMatchesTheReceiver(t *testing.T) {
	rc, url := newCounter(t)
	rc.status = func(n int) int {
		if n%50 == 0 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	}
	cfg := config(t, url)
	cfg.MaxRequests, cfg.Duplicates, cfg.StaleShare = 400, 0.10, 0.05
	cfg.Probe = url + "/_probe/{subject}"
	sum, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if sum.Sent != 400 || rc.n != 400 || sum.Answered != 400 {
		t.Errorf("summary sent %d answered %d; the receiver got %d", sum.Sent, sum.Answered, rc.n)
	}
	if sum.Classes["2xx"] != int64(rc.codes[200]) || sum.Classes["5xx"] != int64(rc.codes[503]) || rc.codes[503] != 8 {
		t.Errorf("summary classes %v; the receiver answered %v", sum.Classes, rc.codes)
	}
	if sum.OK != int64(rc.codes[200]) {
		t.Errorf("summary ok %d, receiver 2xx %d", sum.OK, rc.codes[200])
	}
	if rc.badSig != 0 {
		t.Errorf("%d bad signatures", rc.badSig)
	}
	if sum.Duplicates != int64(rc.dups) {
		t.Errorf("summary duplicates %d; the receiver saw %d exact copies", sum.Duplicates, rc.dups)
	}
	// 10% to within the shares' few requests, less the first ones,
	// which have no answered event to copy yet.
	if sum.Duplicates < 33 || sum.Duplicates > 43 {
		t.Errorf("%d duplicates of 400 requests at 10%%", sum.Duplicates)
	}
	if sum.Stale < 13 || sum.Stale > 23 || sum.Fresh+sum.Duplicates+sum.Stale != 400 {
		t.Errorf("fresh %d duplicates %d stale %d", sum.Fresh, sum.Duplicates, sum.Stale)
	}
	checkStale(t, rc.bodies, int(sum.Stale))
	if p := sum.Probe; p == nil || p.Missing != 0 || p.Extra != 0 || p.Unanswered != 0 || p.Subjects == 0 || p.ActedOn != p.Acknowledged {
		t.Errorf("probe %+v", sum.Probe)
	}
	if sum.Passed || !strings.Contains(strings.Join(sum.Failures, "\n"), "8 answers were not 2xx") {
		t.Errorf("passed %v, failures %q", sum.Passed, sum.Failures)
	}
	if len(sum.Statuses) != 2 || sum.Statuses[1].Status != 503 || sum.Statuses[1].Sample == "" {
		t.Errorf("statuses %+v", sum.Statuses)
	}
}

// checkStale checks that every stale event (applicantPending) follows a
// fresh applicantReviewed of its subject and is dated before it.
func checkStale(t *testing.T, bodies [][]byte, want int) {
	t.Helper()
	type ev struct {
		ApplicantID, Type, CreatedAtMs, CorrelationID string
	}
	reviewed := map[string]string{}
	n := 0
	for _, b := range bodies {
		var e ev
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatal(err)
		}
		switch e.Type {
		case "applicantReviewed":
			if _, ok := reviewed[e.ApplicantID]; !ok {
				reviewed[e.ApplicantID] = e.CreatedAtMs
			}
		case "applicantPending":
			n++
			at, ok := reviewed[e.ApplicantID]
			if !ok {
				t.Errorf("a stale event for %s before any fresh one", e.ApplicantID)
			} else if e.CreatedAtMs >= at {
				t.Errorf("a stale event of %s dated %s, not before %s", e.ApplicantID, e.CreatedAtMs, at)
			}
		default:
			t.Errorf("type %s", e.Type)
		}
	}
	if n != want {
		t.Errorf("the receiver got %d stale events, the summary says %d", n, want)
	}
}

// TestRunPasses runs the open model against a receiver that answers
// everything, with a probe.
func TestRunPasses(t *testing.T) {
	rc, url := newCounter(t)
	cfg := config(t, url)
	cfg.Rate, cfg.MaxRequests, cfg.Duplicates, cfg.StaleShare = 2000, 200, 0.2, 0.1
	// A slow test machine must not miss arrivals: a connection for each,
	// and all the slack it needs.
	cfg.Connections, cfg.Slack = 200, time.Hour
	cfg.Probe = url + "/_probe/{subject}"
	sum, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Passed || sum.Sent != 200 || rc.count() != 200 || sum.Planned != 200 || sum.Missed.Total() != 0 {
		t.Errorf("passed %v sent %d received %d planned %d missed %+v failures %q", sum.Passed, sum.Sent, rc.count(), sum.Planned, sum.Missed, sum.Failures)
	}
	if sum.Latency.Count != 200 || sum.StartLag.Count != 200 || sum.Latency.Max < sum.Service.Max {
		t.Errorf("latency %+v service %+v lag %+v", sum.Latency, sum.Service, sum.StartLag)
	}
	if p := sum.Probe; p == nil || p.Acknowledged != p.ActedOn || p.Subjects == 0 {
		t.Errorf("probe %+v", sum.Probe)
	}
}

// TestRunProbeCatchesDoubleProcessing: a receiver that acts on exact
// duplicates fails the probe check.
func TestRunProbeCatchesDoubleProcessing(t *testing.T) {
	rc, url := newCounter(t)
	rc.countCopies = true
	cfg := config(t, url)
	cfg.MaxRequests, cfg.Duplicates = 100, 0.2
	cfg.Probe = url + "/_probe/{subject}"
	cfg.ProbeSettle = time.Millisecond
	sum, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Passed || sum.Probe == nil || sum.Probe.Extra == 0 {
		t.Fatalf("passed %v probe %+v", sum.Passed, sum.Probe)
	}
	if !strings.Contains(strings.Join(sum.Failures, "\n"), "acted on") {
		t.Errorf("failures %q", sum.Failures)
	}
}

// TestRunSendsValidCallbacksOfEveryProduct runs each product's first
// message with duplicates and stale events, and checks every body the
// receiver got against the catalog at level vendor.
func TestRunSendsValidCallbacksOfEveryProduct(t *testing.T) {
	cat := catalog(t)
	for _, p := range cat.Products() {
		msg := p.MessageNames()[0]
		rc, url := newCounter(t)
		rc.subjectOf = func([]byte) string { return "" }
		tmpl, err := NewTemplate(cat, p.Name, msg, TemplateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		stale, err := NewTemplate(cat, p.Name, StaleMessage(p.Name, msg), TemplateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		sum, err := Run(context.Background(), Config{
			Target:   Target{URL: url, Secret: secret, Algorithm: signing.SHA512, ConnectTimeout: time.Second, AnswerTimeout: 10 * time.Second, Connections: 2},
			Template: tmpl, Stale: stale, MaxRequests: 40, Duplicates: 0.1, StaleShare: 0.1,
		})
		if err != nil {
			t.Fatal(err)
		}
		if !sum.Passed {
			t.Errorf("%s %s: %q", p.Name, msg, sum.Failures)
		}
		rc.mu.Lock()
		if rc.badSig != 0 {
			t.Errorf("%s: %d bad signatures", p.Name, rc.badSig)
		}
		for _, b := range rc.bodies {
			res, err := p.Validate(b, spec.Options{Level: spec.LevelVendor})
			if err != nil {
				t.Fatal(err)
			}
			if !res.Valid() {
				t.Errorf("%s %s: not valid at level vendor: %v\n%s", p.Name, res.Message, res.Violations, b)
			}
		}
		rc.mu.Unlock()
	}
}

// TestRunCtrlC cancels the context in the middle of a long run: Run
// returns a summary that says so and counts what the receiver got.
func TestRunCtrlC(t *testing.T) {
	rc, url := newCounter(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rc.onRequest = func(n int) {
		if n == 20 {
			cancel()
		}
	}
	cfg := config(t, url)
	cfg.Rate, cfg.Duration = 500, time.Hour
	done := make(chan *Summary)
	go func() {
		sum, err := Run(ctx, cfg)
		if err != nil {
			t.Error(err)
		}
		done <- sum
	}()
	var sum *Summary
	select {
	case sum = <-done:
	case <-time.After(time.Minute):
		t.Fatal("Run did not return after the context was cancelled")
	}
	if !sum.Interrupted || sum.Passed || sum.Sent != int64(rc.count()) || sum.Sent < 20 {
		t.Errorf("interrupted %v passed %v sent %d received %d", sum.Interrupted, sum.Passed, sum.Sent, rc.count())
	}
	if !strings.Contains(strings.Join(sum.Failures, "\n"), "interrupted") {
		t.Errorf("failures %q", sum.Failures)
	}
}

// TestRunCtrlCCancelsRequestsAfterTheGrace: requests a receiver never
// answers are cancelled once the grace after Ctrl-C is over.
func TestRunCtrlCCancelsRequestsAfterTheGrace(t *testing.T) {
	rc, url := newCounter(t)
	rc.hold = make(chan struct{})
	t.Cleanup(func() { close(rc.hold) })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rc.onRequest = func(n int) {
		if n == 3 {
			cancel()
		}
	}
	cfg := config(t, url)
	cfg.Rate, cfg.Duration, cfg.Grace = 200, time.Hour, 10*time.Millisecond
	sum, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Interrupted || sum.Answered != 0 || sum.Sent < 3 || len(sum.Errors) != 1 || sum.Errors[0].Kind != errKinds[errCancelled] || sum.Errors[0].Count != sum.Sent {
		t.Errorf("interrupted %v sent %d answered %d errors %+v", sum.Interrupted, sum.Sent, sum.Answered, sum.Errors)
	}
}

// TestRunCountsArrivalsMissedForWantOfConnections holds every request:
// with 2 connections, 8 of 10 arrivals find them busy.
func TestRunCountsArrivalsMissedForWantOfConnections(t *testing.T) {
	rc, url := newCounter(t)
	rc.hold = make(chan struct{})
	cfg := config(t, url)
	cfg.Connections, cfg.Rate, cfg.MaxRequests = 2, 10, 10
	cfg.Clock = newFakeClock()
	cfg.onScheduleDone = func() { close(rc.hold) }
	sum, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Planned != 10 || sum.Sent != 2 || sum.Missed.Busy != 8 || sum.Missed.Behind != 0 || sum.Passed {
		t.Errorf("planned %d sent %d missed %+v passed %v", sum.Planned, sum.Sent, sum.Missed, sum.Passed)
	}
	if !strings.Contains(strings.Join(sum.Failures, "\n"), "8 of 10 planned arrivals") {
		t.Errorf("failures %q", sum.Failures)
	}
}

// TestRunMemoryDoesNotGrowWithTheRequests sends many requests and
// compares the live heap early and late in the run.
func TestRunMemoryDoesNotGrowWithTheRequests(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 30000 requests")
	}
	const early, late = 3000, 30000
	var heap [2]uint64
	rc, url := newCounter(t)
	measure := func(i int) {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		heap[i] = ms.HeapAlloc
	}
	rc.onRequest = func(n int) {
		// The receiver keeps what it got; forget it so that only the
		// client's memory is measured.
		rc.mu.Lock()
		rc.bodies, rc.seen, rc.events = rc.bodies[:0], map[[32]byte]bool{}, map[string]map[[32]byte]int{}
		rc.mu.Unlock()
		switch n {
		case early:
			measure(0)
		case late:
			measure(1)
		}
	}
	cfg := config(t, url)
	cfg.MaxRequests, cfg.Duplicates, cfg.StaleShare = late, 0.1, 0.1
	cfg.Connections = 1 // so that the two measurements see the same state
	sum, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Passed {
		t.Fatalf("failures %q", sum.Failures)
	}
	// A run keeps about 15 KiB more at the end than early on; 256 KiB
	// catches a leak of 10 bytes a request.
	if grew := int64(heap[1]) - int64(heap[0]); grew > 256<<10 {
		t.Errorf("the heap grew by %d KiB from request %d to %d", grew>>10, early, late)
	}
}

func TestCheckLoopback(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:9000/sumsub", "http://127.1.2.3/", "https://127.0.0.1:8443/x"} {
		if _, err := CheckLoopback(u); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	for _, u := range []string{"http://localhost:9000/", "http://10.0.0.1/", "http://[::1]:9000/", "http://example.com/", "ftp://127.0.0.1/", "http://128.0.0.1/", "127.0.0.1:9000", "http://user@127.0.0.1/"} {
		if _, err := CheckLoopback(u); err == nil {
			t.Errorf("%s was accepted", u)
		}
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestRunRefusesBadConfigurations(t *testing.T) {
	good := config(t, "http://127.0.0.1:1/")
	good.MaxRequests = 1
	for name, change := range map[string]func(c *Config){
		"no template":     func(c *Config) { c.Template = nil },
		"no bound":        func(c *Config) { c.MaxRequests, c.Duration = 0, 0 },
		"negative rate":   func(c *Config) { c.Rate = -1 },
		"shares":          func(c *Config) { c.Duplicates, c.StaleShare = 0.6, 0.4 },
		"no stale":        func(c *Config) { c.Stale, c.StaleShare = nil, 0.1 },
		"foreign target":  func(c *Config) { c.URL = "http://192.0.2.1/" },
		"no timeouts":     func(c *Config) { c.AnswerTimeout = 0 },
		"foreign source":  func(c *Config) { c.From = mustAddr("192.0.2.1") },
		"unknown digest":  func(c *Config) { c.Algorithm = "HMAC_MD5_HEX" },
		"negative bounds": func(c *Config) { c.Duration = -time.Second },
	} {
		c := good
		change(&c)
		if _, err := Run(context.Background(), c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestSenderSend sends single callbacks and checks the error for a
// refusal.
func TestSenderSend(t *testing.T) {
	rc, url := newCounter(t)
	rc.status = func(n int) int {
		if n == 2 {
			return http.StatusUnauthorized
		}
		return http.StatusOK
	}
	cfg := config(t, url)
	c, err := NewClient(cfg.Target)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := c.NewSender(cfg.Template, nil)
	if err := s.Send(context.Background()); err != nil {
		t.Errorf("first: %v", err)
	}
	if err := s.Send(context.Background()); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("second: %v", err)
	}
	if rc.badSig != 0 || rc.dups != 0 {
		t.Errorf("bad signatures %d, duplicates %d", rc.badSig, rc.dups)
	}
}
