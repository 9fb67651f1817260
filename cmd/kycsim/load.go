package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kycsim/kycsim/conformance/safetext"
	"github.com/kycsim/kycsim/scenarios"
	"github.com/kycsim/kycsim/simulator"
	"github.com/kycsim/kycsim/simulator/delivery"
	"github.com/kycsim/kycsim/simulator/load"
	"github.com/kycsim/kycsim/simulator/signing"
	"github.com/kycsim/kycsim/spec"
)

// loadFlags are the flags of `kycsim load`.
type loadFlags struct {
	to, secret, alg, rate, duplicates, stale, probe, formatName, sandboxMode, vendorBase, from string
	scenarios, headers                                                                         listFlag
	duration, connectTimeout, answerTimeout, probeSettle, slack                                time.Duration
	maxRequests                                                                                int64
	connections, probeSample, precision                                                        int
	timeScale                                                                                  float64
	precisionSet                                                                               bool
}

func (m *Main) runLoad(ctx context.Context, args []string) error {
	fs := m.newFlagSet("load", "load (PRODUCT MESSAGE | --scenario NAME...) --to URL --rate R [--duration D] [--max-requests N] [--duplicates P%] [--stale P%] [--probe URL] [--format text|json]")
	var f loadFlags
	fs.StringVar(&f.to, "to", "", "the receiver's URL; its host must be an address of 127.0.0.0/8 (required)")
	fs.StringVar(&f.rate, "rate", "", "arrivals per second (\"2000\", \"2000/s\", \"300/m\"), or \"max\": as fast as the connections allow (required)")
	fs.DurationVar(&f.duration, "duration", 0, "how long arrivals are planned for (default 10s unless --max-requests is given)")
	fs.Int64Var(&f.maxRequests, "max-requests", 0, "plan at most this many arrivals (callbacks, or sessions with --scenario)")
	fs.DurationVar(&f.slack, "slack", load.DefaultSlack, "how late an arrival may still start before it counts as missed: raise it (e.g. 50ms) on a busy machine, where kycsim itself is paused for CPU; latency is measured from the planned start whatever it is")
	fs.IntVar(&f.connections, "connections", load.DefaultConnections, "at most this many requests (or sessions) in flight; an arrival that finds them all busy is missed and reported")
	fs.StringVar(&f.secret, "secret", "", "Sumsub webhook secret to sign with (default: $"+secretFromEnv+"; none sends unsigned)")
	fs.StringVar(&f.alg, "alg", string(signing.SHA256), "Sumsub digest algorithm: HMAC_SHA1_HEX, HMAC_SHA256_HEX or HMAC_SHA512_HEX")
	fs.StringVar(&f.duplicates, "duplicates", "0%", "share of byte-identical copies of events already answered, e.g. 10%")
	fs.StringVar(&f.stale, "stale", "0%", "share of stale events sent out of order: an earlier message of the lifecycle (or an older copy) for a subject already answered, e.g. 5%")
	fs.StringVar(&f.probe, "probe", "", "the receiver's probe URL with {subject}: after the run, compare the events it acted on with those acknowledged")
	fs.IntVar(&f.probeSample, "probe-sample", load.DefaultProbeSample, "how many of the most recent subjects the probe is asked about")
	fs.DurationVar(&f.probeSettle, "probe-settle", load.DefaultProbeSettle, "how long to wait for the receiver to act on what it acknowledged")
	fs.StringVar(&f.formatName, "format", "text", "text or json")
	fs.Var(&f.scenarios, "scenario", "play this scenario (a built-in name or a file) as one session per arrival (repeatable: sessions take turns)")
	fs.Float64Var(&f.timeScale, "time-scale", defaultTimeScale, "with --scenario: multiply the scenarios' waits and retry delays by this factor")
	fs.IntVar(&f.precision, "precision", 3, "Jumio timestamps: millisecond digits, 0 to 3")
	fs.StringVar(&f.sandboxMode, "sandbox-mode", "", "Sumsub sandboxMode as \"bool\" (default: as the attribute table and real deliveries) or \"string\" (as most of the vendor's examples)")
	fs.StringVar(&f.vendorBase, "vendor-base", "", "base URL of the vendor API that hrefs and image URLs point at")
	fs.Var(&f.headers, "header", "extra header \"Name: value\" (repeatable)")
	fs.StringVar(&f.from, "from", "", "bind the source address (a loopback address, e.g. 127.0.0.2)")
	fs.DurationVar(&f.connectTimeout, "connect-timeout", 0, "connect deadline (default: the vendor's)")
	fs.DurationVar(&f.answerTimeout, "answer-timeout", 0, "answer deadline each answer is held to (default: the vendor's)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	fs.Visit(func(fl *flag.Flag) {
		if fl.Name == "precision" {
			f.precisionSet = true
		}
	})
	if err := oneOf("format", f.formatName, "text", "json"); err != nil {
		return err
	}
	if f.to == "" {
		return usageErrorf("--to is required")
	}
	if err := checkTarget("--to", f.to); err != nil {
		return err
	}
	if _, err := load.CheckLoopback(f.to); err != nil {
		return usageErrorf("--to: %v", err)
	}
	if f.probe != "" {
		if err := checkProbe("--probe", f.probe); err != nil {
			return err
		}
		if _, err := load.CheckLoopback(strings.ReplaceAll(f.probe, "{subject}", "x")); err != nil {
			return usageErrorf("--probe: %v", err)
		}
	}
	rate, err := parseRate(f.rate)
	if err != nil {
		return err
	}
	if f.vendorBase != "" {
		if err := checkTarget("--vendor-base", f.vendorBase); err != nil {
			return err
		}
	}
	if f.duration == 0 && f.maxRequests == 0 {
		f.duration = 10 * time.Second
	}
	dup, err := parseShare("duplicates", f.duplicates)
	if err != nil {
		return err
	}
	stale, err := parseShare("stale", f.stale)
	if err != nil {
		return err
	}
	if dup+stale >= 1 {
		return usageErrorf("--duplicates and --stale add up to %g%%: leave room for fresh events", 100*(dup+stale))
	}
	if f.secret == "" {
		f.secret = os.Getenv(secretFromEnv)
	}
	cat, err := spec.Default()
	if err != nil {
		return err
	}
	var sum *load.Summary
	if len(f.scenarios) > 0 {
		if len(pos) > 0 {
			return usageErrorf("--scenario plays whole scenarios: give no PRODUCT MESSAGE with it")
		}
		if dup > 0 || stale > 0 {
			return usageErrorf("--duplicates and --stale shape single callbacks; scenarios bring their own duplicates and reordering")
		}
		if rate == 0 {
			return usageErrorf("--scenario needs a session rate (--rate N)")
		}
		sum, err = m.loadSessions(ctx, cat, &f, rate)
	} else {
		if len(pos) != 2 {
			return usageErrorf("want PRODUCT MESSAGE (or --scenario NAME), got %d argument(s)", len(pos))
		}
		sum, err = m.loadCallbacks(ctx, cat, &f, pos[0], pos[1], rate, dup, stale)
	}
	if err != nil {
		return err
	}
	if f.formatName == "json" {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(sum); err != nil {
			return fmt.Errorf("write the summary: %w", err)
		}
	} else {
		printLoadSummary(m.Stdout, sum)
	}
	if !sum.Passed {
		return &failedError{what: "load run failed"}
	}
	return nil
}

// loadCallbacks runs the single-message mode.
func (m *Main) loadCallbacks(ctx context.Context, cat *spec.Catalog, f *loadFlags, product, message string, rate, dup, stale float64) (*load.Summary, error) {
	p, err := cat.Product(product)
	if err != nil {
		return nil, err
	}
	msg, err := p.Message(message)
	if err != nil {
		return nil, err
	}
	topt := load.TemplateOptions{SandboxMode: f.sandboxMode, VendorBase: f.vendorBase}
	if f.precisionSet {
		topt.Precision = &f.precision
	}
	tmpl, err := load.NewTemplate(cat, p.Name, msg.Name, topt)
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	var staleTmpl *load.Template
	if stale > 0 {
		staleMsg := load.StaleMessage(p.Name, msg.Name)
		if staleMsg == "" {
			return nil, usageErrorf("--stale: %s %s is the first stage of the lifecycle: there is no earlier event to send after it (an older copy of a Jumio callback is a duplicate: use --duplicates)", p.Name, msg.Name)
		}
		if staleTmpl, err = load.NewTemplate(cat, p.Name, staleMsg, topt); err != nil {
			return nil, usageErrorf("%v", err)
		}
	}
	target, err := f.target(p.Name, msg.Name)
	if err != nil {
		return nil, err
	}
	cfg := load.Config{
		Target: target, Template: tmpl, Stale: staleTmpl,
		Rate: rate, Duration: f.duration, MaxRequests: f.maxRequests,
		Duplicates: dup, StaleShare: stale,
		Probe: f.probe, ProbeSample: f.probeSample, ProbeSettle: f.probeSettle, Slack: f.slack,
	}
	stop := m.progress(&cfg.OnProgress)
	sum, err := load.Run(ctx, cfg)
	stop()
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	return sum, nil
}

// target makes the load target of a product's message from the flags.
func (f *loadFlags) target(product, message string) (load.Target, error) {
	policy := delivery.PolicyFor(product, message)
	t := load.Target{
		URL: f.to, Secret: f.secret, Header: http.Header{}, Connections: f.connections,
		ConnectTimeout: policy.ConnectTimeout, AnswerTimeout: policy.AnswerTimeout,
	}
	if f.connectTimeout > 0 {
		t.ConnectTimeout = f.connectTimeout
	}
	if f.answerTimeout > 0 {
		t.AnswerTimeout = f.answerTimeout
	}
	alg, err := signing.ParseAlgorithm(f.alg)
	if err != nil {
		return t, usageErrorf("--alg: %v", err)
	}
	t.Algorithm = alg
	for _, h := range f.headers {
		k, v, err := simulator.ParseHeader(h)
		if err != nil {
			return t, usageErrorf("--header: %v", err)
		}
		if err := checkHeaderName("--header", k); err != nil {
			return t, err
		}
		t.Header.Add(k, v)
	}
	if f.from != "" {
		if t.From, err = simulator.ParseSource(f.from); err != nil {
			return t, usageErrorf("--from: %v", err)
		}
	}
	return t, nil
}

// loadSessions plays whole built-in scenarios as sessions, one per
// arrival, on the scenario engine that run and conform use.
func (m *Main) loadSessions(ctx context.Context, cat *spec.Catalog, f *loadFlags, rate float64) (*load.Summary, error) {
	list, err := m.selectScenarios(cat, selection{args: f.scenarios})
	if err != nil {
		return nil, err
	}
	product := list[0].Product
	names := make([]string, len(list))
	for i, sc := range list {
		if sc.Product != product {
			return nil, usageErrorf("--to serves one product, but %s is a %s scenario and %s a %s one", list[0].Name, product, sc.Name, sc.Product)
		}
		names[i] = sc.Name
	}
	if f.from != "" || len(f.headers) > 0 || f.precisionSet || f.sandboxMode != "" {
		return nil, usageErrorf("--scenario plays the scenarios as written: --from, --header, --precision and --sandbox-mode do not apply")
	}
	vendor, vendorBase, stopVendor, err := startVendorAPI()
	if err != nil {
		return nil, err
	}
	defer stopVendor()
	d := delivery.NewDispatcher(delivery.NewScaledClock(f.timeScale), nil)
	defer d.Close()
	rec := load.NewRecorder(runtime.GOMAXPROCS(0), 0)
	var shard atomic.Int64
	d.OnAttempt = func(a delivery.Attempt) {
		o := load.Outcome{Kind: load.Fresh, Planned: a.Time, Sent: a.Time, Done: a.Time.Add(a.Latency), Status: a.Status, ErrText: a.Err, Answer: a.ResponseBody}
		rec.Record(int(shard.Add(1)), &o)
	}
	opt := scenarios.Options{
		Catalog: cat, URLs: map[string]string{product: f.to}, Probe: f.probe, Secret: f.secret,
		Dispatcher: d, Vendor: vendor, VendorBase: vendorBase,
	}
	sess := &load.Sessions{Scenarios: names}
	var mu sync.Mutex
	var inflight atomic.Int64
	var wg sync.WaitGroup
	limit := int64(f.connections)
	start := time.Now()
	var onProgress func(load.Progress, time.Duration)
	stop := m.progress(&onProgress)
	progressDone := make(chan struct{})
	if onProgress != nil {
		go func() {
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				select {
				case <-progressDone:
					return
				case <-t.C:
					onProgress(rec.Progress(), time.Since(start))
				}
			}
		}()
	}
	sched := load.Schedule{Rate: rate, Duration: f.duration, Max: f.maxRequests, Slack: f.slack}
	tally := sched.Run(ctx, load.RealClock(), func(t load.Ticket) bool {
		if inflight.Load() >= limit {
			return false
		}
		inflight.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer inflight.Add(-1)
			res := scenarios.Run(ctx, list[t.Index%int64(len(list))], opt)
			mu.Lock()
			defer mu.Unlock()
			sess.Started++
			if res.Passed {
				sess.Passed++
				return
			}
			sess.Failed++
			if sess.FirstFailure == "" {
				sess.FirstFailure = firstFailure(res)
			}
		}()
		return true
	})
	wg.Wait()
	close(progressDone)
	stop()
	sum := &load.Summary{
		Product: product, Target: f.to, Rate: rate, Connections: f.connections,
		Duration: f.duration, MaxRequests: f.maxRequests, Elapsed: time.Since(start),
		Interrupted: ctx.Err() != nil || tally.Interrupted, Planned: tally.Planned,
		Missed: load.Missed{Busy: tally.Busy, Behind: tally.Behind}, Sessions: sess, Slack: f.slack,
	}
	if tally.Span > 0 {
		sum.Achieved = float64(tally.Started) / tally.Span.Seconds()
	}
	sum.SetCounts(rec.Counts())
	sum.Judge()
	return sum, nil
}

// firstFailure is the first failed expectation of a scenario result.
func firstFailure(res *scenarios.Result) string {
	for _, st := range res.Steps {
		if len(st.Failures) > 0 {
			return fmt.Sprintf("%s: step %d (%s): %s", res.Scenario, st.Index, st.Label, st.Failures[0])
		}
	}
	return res.Scenario + ": failed"
}

// progress sets *on to a function that prints a progress line on the
// terminal, when standard error is one, and returns the function that
// clears the line at the end.
func (m *Main) progress(on *func(load.Progress, time.Duration)) func() {
	if !isTerminal(m.Stderr) {
		return func() {}
	}
	var mu sync.Mutex
	printed := false
	*on = func(p load.Progress, elapsed time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		rate := float64(p.Sent) / max(elapsed.Seconds(), 1e-9)
		fmt.Fprintf(m.Stderr, "\r\033[K  %s  %d sent  %.0f/s  2xx %d  other %d  errors %d", elapsed.Round(100*time.Millisecond), p.Sent, rate, p.OK, p.NotOK, p.Errors)
		printed = true
	}
	return func() {
		mu.Lock()
		defer mu.Unlock()
		if printed {
			fmt.Fprint(m.Stderr, "\r\033[K")
		}
	}
}

// The bounds of --rate, in arrivals per second.
const (
	maxRate = 10_000_000
	minRate = 1.0 / 3600
)

// parseRate reads --rate: "N", "N/s", "N/m", "N/h", or "max" (returned
// as 0).
func parseRate(s string) (float64, error) {
	if s == "" {
		return 0, usageErrorf("--rate is required: arrivals per second (\"2000\", \"300/m\"), or \"max\"")
	}
	if s == "max" {
		return 0, nil
	}
	num, unit, _ := strings.Cut(s, "/")
	per := 1.0
	switch unit {
	case "", "s", "1s":
	case "m", "1m":
		per = 60
	case "h", "1h":
		per = 3600
	default:
		return 0, usageErrorf("--rate %q: the unit must be /s, /m or /h", s)
	}
	n, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(n) || math.IsInf(n, 0) || n <= 0 || n > maxRate*per {
		return 0, usageErrorf("--rate %q: want a number of arrivals > 0 (at least 1/h, at most %d/s), or \"max\"", s, maxRate)
	}
	r := n / per
	if r > maxRate {
		return 0, usageErrorf("--rate %q: at most %d/s", s, maxRate)
	}
	if r < minRate {
		return 0, usageErrorf("--rate %q: at least 1/h", s)
	}
	return r, nil
}

// parseShare reads a share flag: "10%", "2.5%" or "0".
func parseShare(name, s string) (float64, error) {
	if s == "0" {
		return 0, nil
	}
	num, ok := strings.CutSuffix(s, "%")
	v, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil || math.IsNaN(v) || v < 0 || v >= 100 {
		return 0, usageErrorf("--%s %q: want a percentage from 0%% to below 100%%, e.g. 10%%", name, s)
	}
	return v / 100, nil
}

// printLoadSummary prints a summary for people. What the receiver sent
// (answer samples, error texts) is escaped for the terminal.
func printLoadSummary(w io.Writer, s *load.Summary) {
	ms := func(d time.Duration) string {
		switch {
		case d >= 10*time.Second:
			return d.Round(100 * time.Millisecond).String()
		case d >= time.Second:
			return d.Round(time.Millisecond).String()
		}
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + "ms"
	}
	how := fmt.Sprintf("as fast as %d connections allow (closed model)", s.Connections)
	if s.Rate > 0 {
		how = fmt.Sprintf("at %s/s (open model), at most %d in flight", trimFloat(s.Rate), s.Connections)
	}
	what := s.Product + " " + s.Message
	unit := "arrivals"
	if s.Sessions != nil {
		what = strings.Join(s.Sessions.Scenarios, ", ") + " as sessions"
		unit = "sessions"
	}
	fmt.Fprintf(w, "load %s → %s %s\n", what, s.Target, how)
	if s.Rate > 0 {
		fmt.Fprintf(w, "  schedule   %d %s planned in %s; achieved %s/s (%.1f%% of the rate)\n", s.Planned, unit, ms(s.Elapsed), trimFloat(s.Achieved), 100*s.Achieved/s.Rate)
	} else {
		fmt.Fprintf(w, "  schedule   %d requests in %s: %s/s\n", s.Sent, ms(s.Elapsed), trimFloat(s.Achieved))
	}
	if n := s.Missed.Total(); n > 0 {
		fmt.Fprintf(w, "             kycsim could NOT keep the rate: %d of %d %s (%.1f%%) not sent\n", n, s.Planned, unit, 100*float64(n)/float64(max(s.Planned, 1)))
		if s.Missed.Busy > 0 {
			fmt.Fprintf(w, "             %d found all %d connections busy: the receiver answers slower than rate × connections allows; raise --connections\n", s.Missed.Busy, s.Connections)
		}
		if s.Missed.Behind > 0 {
			fmt.Fprintf(w, "             %d came due while kycsim ran more than %s late (short of CPU?): lower the rate, or raise --slack on a busy machine\n", s.Missed.Behind, s.SlackOrDefault())
		}
	} else if s.Rate > 0 && s.Sessions != nil {
		fmt.Fprintf(w, "             every session started on time (within %s)\n", s.SlackOrDefault())
	} else if s.Rate > 0 && s.StartLag.Count > 0 {
		fmt.Fprintf(w, "             every arrival started on time: start lag p99 %s, max %s\n", ms(s.StartLag.P99), ms(s.StartLag.Max))
	}
	if s.Sessions != nil {
		fmt.Fprintf(w, "  sessions   %d played: %d passed, %d failed\n", s.Sessions.Started, s.Sessions.Passed, s.Sessions.Failed)
		if s.Sessions.FirstFailure != "" {
			fmt.Fprintf(w, "             first failure: %s\n", safetext.TerminalLine(s.Sessions.FirstFailure))
		}
		fmt.Fprintf(w, "  callbacks  %d sent\n", s.Sent)
	} else {
		fmt.Fprintf(w, "  requests   %d sent: %d fresh, %d exact duplicates, %d stale\n", s.Sent, s.Fresh, s.Duplicates, s.Stale)
	}
	classes := make([]string, 0, len(s.Classes))
	for _, c := range []string{"1xx", "2xx", "3xx", "4xx", "5xx", "other"} {
		if n := s.Classes[c]; n > 0 {
			classes = append(classes, fmt.Sprintf("%s %d", c, n))
		}
	}
	if len(classes) == 0 {
		classes = append(classes, "none")
	}
	fmt.Fprintf(w, "  answers    %s\n", strings.Join(classes, ", "))
	for _, st := range s.Statuses {
		line := fmt.Sprintf("             %d %s ×%d", st.Status, http.StatusText(st.Status), st.Count)
		if st.Sample != "" {
			line += "  first: " + safetext.TerminalLine(st.Sample)
		}
		fmt.Fprintln(w, line)
	}
	if len(s.Errors) == 0 {
		fmt.Fprintf(w, "  errors     none\n")
	}
	for i, e := range s.Errors {
		label := "  errors     "
		if i > 0 {
			label = "             "
		}
		fmt.Fprintf(w, "%s%s ×%d  first: %s\n", label, e.Kind, e.Count, safetext.TerminalLine(e.Sample))
	}
	if l := s.Latency; l.Count > 0 {
		from := "from the planned start"
		if s.Sessions != nil {
			from = "per callback, from its send"
		} else if s.Rate == 0 {
			from = "from the send (closed model)"
		}
		fmt.Fprintf(w, "  latency    %s: p50 %s  p90 %s  p99 %s  p99.9 %s  max %s\n", from, ms(l.P50), ms(l.P90), ms(l.P99), ms(l.P999), ms(l.Max))
	}
	if s.Sessions == nil && s.Deadline > 0 {
		fmt.Fprintf(w, "  deadline   %d of %d answered 2xx within the vendor's %s", s.OK, s.Sent, s.Deadline)
		if s.Late > 0 {
			fmt.Fprintf(w, "; %d 2xx after it", s.Late)
		}
		fmt.Fprintln(w)
	}
	if p := s.Probe; p != nil {
		fmt.Fprintf(w, "  probe      %d most recent subjects: the receiver acted on %d of %d distinct events acknowledged (%d missing, %d extra)\n",
			p.Subjects, p.ActedOn, p.Acknowledged, p.Missing, p.Extra)
		if p.Error != "" {
			fmt.Fprintf(w, "             %d without a usable answer; first: %s\n", p.Unanswered, safetext.TerminalLine(p.Error))
		}
	}
	if s.Passed {
		fmt.Fprintln(w, "PASS")
		return
	}
	for _, f := range s.Failures {
		fmt.Fprintf(w, "FAIL %s\n", f)
	}
}

// trimFloat renders a rate without needless decimals, and small rates
// with their significant digits (0.0028, not 0.0).
func trimFloat(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v == 0 || v >= 1:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'g', 2, 64)
}
