package scenarios

import (
	"bytes"
	"context"
	cryptorand "crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kycsim/kycsim/simulator"
	"github.com/kycsim/kycsim/simulator/delivery"
	"github.com/kycsim/kycsim/simulator/event"
	"github.com/kycsim/kycsim/simulator/signing"
	"github.com/kycsim/kycsim/simulator/vendorapi"
	"github.com/kycsim/kycsim/spec"
	"github.com/kycsim/kycsim/spec/format"
)

// Options says where and how a scenario runs.
type Options struct {
	Catalog *spec.Catalog
	// URLs maps each product to the receiver URL its callbacks go to.
	URLs map[string]string
	// Probe is the receiver's probe URL with {subject} in it; "" when the
	// receiver offers none (probe expectations are then skipped).
	Probe string
	// Secret is the Sumsub webhook secret ("" sends unsigned).
	Secret string
	// Dispatcher delivers the callbacks; its clock is the scenario's. Give
	// scenarios that run at the same time a Dispatcher each: a wait moves
	// the clock on, and would age the other scenario's events.
	Dispatcher *delivery.Dispatcher
	// Vendor is the vendor API mock the callbacks' links point at
	// (VendorBase); nil skips fetch expectations.
	Vendor     *vendorapi.Server
	VendorBase string
	// Observer is the HTTP client for the probe (a 5 s timeout when nil).
	Observer *http.Client
	// Vars override the scenario's variables of the same name (a
	// profile's foreign source address, say).
	Vars map[string]string
	// ForwardedFor is sent as X-Forwarded-For with every Jumio callback
	// whose step gives none: for a receiver behind a proxy, the address
	// the proxy would report (a Jumio one).
	ForwardedFor string
	// AckAndDrop makes "refuse" mean 2xx for Jumio products: the
	// receiver acknowledges bad content and drops it, as Jumio advises.
	// Otherwise (and always for Sumsub) "refuse" means 4xx.
	AckAndDrop bool
	// Settle is how long an expect step without its own within polls
	// for the receiver's effects (2 s when zero).
	Settle time.Duration
	// OnStep, when set, is called as each step ends.
	OnStep func(StepResult)
}

// Result is the outcome of one scenario.
type Result struct {
	Scenario string        `json:"scenario"`
	Product  string        `json:"product"`
	Passed   bool          `json:"passed"`
	Steps    []StepResult  `json:"steps"`
	Duration time.Duration `json:"durationNs"`
}

// StepResult is the outcome of one step.
type StepResult struct {
	Index    int                `json:"index"` // 1-based; parallel parts share their step's index
	Kind     StepKind           `json:"kind"`
	Label    string             `json:"label"`
	Pos      string             `json:"pos"`
	Attempts []delivery.Attempt `json:"attempts,omitempty"`
	// Failures are the expectations that did not hold, each a sentence.
	Failures []string `json:"failures,omitempty"`
	// Skipped are the expectations that could not be checked, and why.
	Skipped []string `json:"skipped,omitempty"`
}

// sent is what a send step delivered, kept for redeliver.
type sent struct {
	ev      *event.Event // nil for a raw body
	send    *Send
	subject string
	body    []byte
	req     delivery.Request
}

type runner struct {
	sc   *Scenario
	opt  Options
	p    *spec.Product
	vars map[string]string
	mu   sync.Mutex
	sent map[string]*sent
}

// Run plays a scenario and checks its expectations.
func Run(ctx context.Context, sc *Scenario, opt Options) *Result {
	start := time.Now()
	res := &Result{Scenario: sc.Name, Product: sc.Product, Passed: true}
	r := &runner{sc: sc, opt: opt, sent: map[string]*sent{}}
	if r.opt.Observer == nil {
		r.opt.Observer = &http.Client{Timeout: 5 * time.Second}
	}
	fail := func(msg string) {
		res.Passed = false
		res.Steps = append(res.Steps, StepResult{Kind: "setup", Label: "setup", Pos: sc.Pos.String(), Failures: []string{msg}})
	}
	p, err := opt.Catalog.Product(sc.Product)
	if err != nil {
		fail(err.Error())
		return res
	}
	r.p = p
	if _, ok := opt.URLs[sc.Product]; !ok {
		fail("no target URL for " + sc.Product)
		return res
	}
	if r.vars, err = r.resolveVars(); err != nil {
		fail(err.Error())
		return res
	}
	for i := range sc.Steps {
		if ctx.Err() != nil {
			fail("cancelled: " + ctx.Err().Error())
			break
		}
		for _, sr := range r.step(ctx, i+1, &sc.Steps[i]) {
			if len(sr.Failures) > 0 {
				res.Passed = false
			}
			res.Steps = append(res.Steps, sr)
			if opt.OnStep != nil {
				opt.OnStep(sr)
			}
		}
	}
	res.Duration = time.Since(start)
	return res
}

// resolveVars generates the scenario's variables and its subject.
func (r *runner) resolveVars() (map[string]string, error) {
	vars := map[string]string{}
	for _, v := range r.sc.Vars {
		if v.Generate == "" {
			vars[v.Name] = v.Value
			continue
		}
		val, err := generate(v.Generate)
		if err != nil {
			return nil, fmt.Errorf("%s: var %s: %w", v.Pos, v.Name, err)
		}
		vars[v.Name] = val
	}
	for name, v := range r.opt.Vars {
		if _, declared := vars[name]; declared {
			vars[name] = v
		}
	}
	// A declared vendor-base is the run's vendor API mock.
	if _, declared := vars["vendor-base"]; declared && r.opt.VendorBase != "" {
		vars["vendor-base"] = r.opt.VendorBase
	}
	if _, ok := vars["subject"]; !ok {
		gen := "uuid"
		if r.sc.Product == "sumsub" {
			gen = "sumsub-id"
		}
		vars["subject"], _ = generate(gen)
	}
	return vars, nil
}

var varRef = regexp.MustCompile(`\$\{([A-Za-z0-9_-]+)\}`)

// expand replaces ${name} references.
func (r *runner) expand(s string) string {
	if !strings.Contains(s, "${") {
		return s
	}
	return varRef.ReplaceAllStringFunc(s, func(m string) string {
		if v, ok := r.vars[m[2:len(m)-1]]; ok {
			return v
		}
		return m
	})
}

// expandValue replaces ${name} references in the strings of a JSON value.
func (r *runner) expandValue(v any) any {
	switch x := v.(type) {
	case string:
		return r.expand(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = r.expandValue(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = r.expandValue(e)
		}
		return out
	}
	return v
}

func (r *runner) subject(s string) string {
	if s == "" {
		return r.vars["subject"]
	}
	return r.expand(s)
}

func (r *runner) step(ctx context.Context, index int, st *Step) []StepResult {
	sr := StepResult{Index: index, Kind: st.Kind, Pos: st.Pos.String(), Label: st.Name}
	switch st.Kind {
	case KindSend:
		return []StepResult{r.send(ctx, sr, st)}
	case KindRedeliver:
		return []StepResult{r.redeliver(ctx, sr, st.Redeliver)}
	case KindWait:
		if sr.Label == "" {
			sr.Label = "wait " + st.Wait.String()
		}
		if err := r.opt.Dispatcher.Clock.Sleep(ctx, st.Wait); err != nil {
			sr.Failures = append(sr.Failures, "wait interrupted: "+err.Error())
		}
		return []StepResult{sr}
	case KindParallel:
		out := make([]StepResult, len(st.Parallel))
		var wg sync.WaitGroup
		for i := range st.Parallel {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out[i] = r.step(ctx, index, &st.Parallel[i])[0]
				out[i].Label = "parallel: " + out[i].Label
			}()
		}
		wg.Wait()
		return out
	case KindVendorState:
		return []StepResult{r.vendorState(sr, st.VendorState)}
	case KindExpect:
		return []StepResult{r.expect(ctx, sr, st.Expect)}
	}
	sr.Failures = append(sr.Failures, fmt.Sprintf("unknown step kind %q", st.Kind))
	return []StepResult{sr}
}

// build makes the event of a send step.
func (r *runner) build(s *Send, subject string) (*event.Event, []byte, error) {
	if s.RawBody != nil {
		return nil, []byte(r.expand(*s.RawBody)), nil
	}
	opt := event.Options{Subject: subject, Now: r.opt.Dispatcher.Clock.Now().Add(-s.Age), VendorBase: r.opt.VendorBase,
		Precision: s.Precision, SandboxMode: s.SandboxMode, RejectCode: s.RejectCode,
		ReviewAnswer: s.ReviewAnswer, ReviewRejectType: s.RejectType, RejectLabels: s.RejectLabels}
	ev, err := event.Build(r.opt.Catalog, r.sc.Product, s.Message, opt)
	if err != nil {
		return nil, nil, err
	}
	for _, u := range s.Unset {
		if err := ev.Unset(r.expand(u)); err != nil {
			return nil, nil, fmt.Errorf("unset %s: %w", u, err)
		}
	}
	for _, o := range s.Set {
		if err := setValue(ev, r.expand(o.Path), r.expandValue(o.Value)); err != nil {
			return nil, nil, fmt.Errorf("%s: set %s: %w", o.Pos, o.Path, err)
		}
	}
	return ev, ev.Body(), nil
}

// setValue stores a JSON-model value (maps unordered) in an event.
func setValue(ev *event.Event, path string, v any) error {
	switch v.(type) {
	case nil, bool, string, json.Number:
		return ev.SetValue(path, v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return ev.Set(path, string(b))
}

func (r *runner) send(ctx context.Context, sr StepResult, st *Step) StepResult {
	s := st.Send
	subject := r.subject(s.Subject)
	if sr.Label == "" {
		sr.Label = "send " + s.Message
	}
	ev, body, err := r.build(s, subject)
	if err != nil {
		sr.Failures = append(sr.Failures, "build: "+err.Error())
		return sr
	}
	req, err := r.request(s.Message, subject, body, s.Sign, s.Delivery)
	if err != nil {
		sr.Failures = append(sr.Failures, err.Error())
		return sr
	}
	if st.ID != "" {
		r.mu.Lock()
		r.sent[st.ID] = &sent{ev: ev, send: s, subject: subject, body: body, req: req}
		r.mu.Unlock()
	}
	return r.deliver(ctx, sr, req, s.Expect)
}

// request signs and addresses a body.
func (r *runner) request(message, subject string, body []byte, sign Signing, d Delivery) (delivery.Request, error) {
	cb := simulator.Callback{Product: r.sc.Product, Message: message, Subject: subject, ContentType: r.p.ContentType, Body: body, Header: http.Header{}}
	if d.ContentType != "" {
		cb.ContentType = d.ContentType
	}
	secret := r.opt.Secret
	if sign.Secret != nil {
		secret = r.expand(*sign.Secret)
	}
	alg := signing.SHA256
	if sign.Algorithm != "" {
		a, err := signing.ParseAlgorithm(sign.Algorithm)
		if err != nil {
			return delivery.Request{}, err
		}
		alg = a
	}
	if r.sc.Product == "sumsub" && secret != "" {
		signed := body
		if sign.Digest == DigestWrong {
			signed = append(append([]byte(nil), body...), " (other bytes)"...)
		}
		digest, err := signing.Sign(alg, secret, signed)
		if err != nil {
			return delivery.Request{}, err
		}
		if sign.Digest != DigestMissing {
			cb.Header.Set(signing.DigestHeader, digest)
		}
		name := string(alg)
		if sign.AlgorithmHeader != nil {
			name = *sign.AlgorithmHeader
		}
		cb.Header.Set(signing.AlgorithmHeader, name)
		if sign.Digest == DigestTampered {
			cb.Body = tamper(body)
		}
	}
	for _, h := range d.Headers {
		cb.Header.Add(h.Name, r.expand(h.Value))
	}
	// A from or forwarded-for that expands to "" is left out: a run's
	// variables can move a case between a bound source and a forwarded one.
	if from := r.expand(d.From); from != "" {
		a, err := netip.ParseAddr(from)
		if err != nil {
			return delivery.Request{}, fmt.Errorf("from: %w", err)
		}
		cb.From = a
	}
	cb.ForwardedFor = r.expand(d.ForwardedFor)
	if d.ForwardedFor == "" && r.sc.Product != "sumsub" {
		cb.ForwardedFor = r.opt.ForwardedFor
	}
	policy := delivery.PolicyFor(r.sc.Product, message)
	switch {
	case !d.Retry:
		policy = policy.NoRetry()
	case d.Delays != nil:
		policy.Delays = d.Delays
	}
	if d.AnswerTimeout > 0 {
		policy.AnswerTimeout = d.AnswerTimeout
	}
	return cb.Request(r.opt.URLs[r.sc.Product], policy)
}

// tamper changes a body after it was signed: one character of a string
// value, so that it stays well-formed.
func tamper(body []byte) []byte {
	out := append([]byte(nil), body...)
	if i := bytes.Index(out, []byte(`":"`)); i >= 0 && i+3 < len(out) && out[i+3] != '"' {
		out[i+3] ^= 0x01
		return out
	}
	return append(out, ' ')
}

func (r *runner) deliver(ctx context.Context, sr StepResult, req delivery.Request, want *Answer) StepResult {
	res, err := r.opt.Dispatcher.Deliver(ctx, req)
	if err != nil {
		sr.Failures = append(sr.Failures, "deliver: "+err.Error())
		return sr
	}
	sr.Attempts = res.Attempts
	if want == nil || len(res.Attempts) == 0 {
		return sr
	}
	last := res.Attempts[len(res.Attempts)-1]
	if want.Status == "refuse" {
		c := *want
		c.Status = "4xx"
		if r.opt.AckAndDrop && r.sc.Product != "sumsub" {
			c.Status = "2xx"
		}
		want = &c
	}
	if want.Status != "" {
		switch {
		case last.Err != "":
			sr.Failures = append(sr.Failures, fmt.Sprintf("%s: expected status %s, but the delivery failed: %s", want.Pos, want.Status, last.Err))
		case !statusMatches(want.Status, last.Status):
			sr.Failures = append(sr.Failures, fmt.Sprintf("%s: expected status %s, got %d %s", want.Pos, want.Status, last.Status, firstLine(last.ResponseBody)))
		}
	}
	if want.Within > 0 && last.Err == "" && last.Latency > want.Within {
		sr.Failures = append(sr.Failures, fmt.Sprintf("%s: expected an answer within %s, took %s", want.Pos, want.Within, last.Latency.Round(time.Millisecond)))
	}
	if want.Attempts > 0 && len(res.Attempts) != want.Attempts {
		sr.Failures = append(sr.Failures, fmt.Sprintf("%s: expected %d attempts, made %d", want.Pos, want.Attempts, len(res.Attempts)))
	}
	return sr
}

// statusMatches checks a status against "200" or "2xx".
func statusMatches(pattern string, status int) bool {
	if len(pattern) == 3 && strings.HasSuffix(pattern, "xx") {
		return strconv.Itoa(status / 100)[0] == pattern[0] && status >= 100 && status < 600
	}
	return pattern == strconv.Itoa(status)
}

func firstLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}

func (r *runner) redeliver(ctx context.Context, sr StepResult, rd *Redeliver) StepResult {
	r.mu.Lock()
	prev := r.sent[rd.Step]
	r.mu.Unlock()
	if sr.Label == "" {
		sr.Label = "redeliver " + rd.Step
		if rd.Restamp {
			sr.Label += " (re-stamped)"
		}
	}
	if prev == nil {
		sr.Failures = append(sr.Failures, fmt.Sprintf("step %q has sent nothing to redeliver", rd.Step))
		return sr
	}
	req := prev.req
	if rd.Restamp || rd.Delivery != nil {
		body := prev.body
		if rd.Restamp {
			if prev.ev == nil {
				sr.Failures = append(sr.Failures, "a raw body cannot be re-stamped")
				return sr
			}
			ev := prev.ev.Clone()
			if err := restamp(ev, r.opt.Dispatcher.Clock.Now(), prev.send.Precision); err != nil {
				sr.Failures = append(sr.Failures, "re-stamp: "+err.Error())
				return sr
			}
			body = ev.Body()
		}
		d := prev.send.Delivery
		if rd.Delivery != nil {
			d = *rd.Delivery
		}
		var err error
		if req, err = r.request(prev.send.Message, prev.subject, body, prev.send.Sign, d); err != nil {
			sr.Failures = append(sr.Failures, err.Error())
			return sr
		}
	}
	return r.deliver(ctx, sr, req, rd.Expect)
}

// restamp gives an event a fresh vendor timestamp.
func restamp(ev *event.Event, now time.Time, precision *int) error {
	digits := event.DefaultPrecision
	if precision != nil {
		digits = *precision
	}
	var fields []string
	switch ev.Product {
	case "jumio-kyx":
		fields = []string{"callbackSentAt"}
	case "jumio-netverify", "jumio-auth":
		fields = []string{"callbackDate"}
	case "jumio-docverify":
		fields = []string{"timestamp"}
	case "sumsub":
		if err := ev.SetValue("createdAtMs", format.FormatSumsubCreatedAtMs(now)); err != nil {
			return err
		}
		if _, err := ev.Get("createdAt"); err == nil {
			return ev.SetValue("createdAt", format.FormatSumsubCreatedAt(now))
		}
		return nil
	}
	for _, f := range fields {
		if err := ev.SetValue(f, format.FormatJumioTimestamp(now, digits)); err != nil {
			return err
		}
	}
	return nil
}

func (r *runner) vendorState(sr StepResult, vs *VendorState) StepResult {
	subject := r.subject(vs.Subject)
	if sr.Label == "" {
		sr.Label = "vendor state for " + subject
	}
	if r.opt.Vendor == nil {
		sr.Skipped = append(sr.Skipped, "no vendor API mock in this run: the state is not served")
		return sr
	}
	if r.sc.Product == "sumsub" {
		r.opt.Vendor.SetReview(subject, vendorapi.Review{ReviewStatus: vs.ReviewStatus, ReviewAnswer: vs.ReviewAnswer, RejectLabels: vs.RejectLabels, RejectType: vs.RejectType})
		sr.Label = fmt.Sprintf("vendor review %s %s", vs.ReviewStatus, vs.ReviewAnswer)
	} else {
		r.opt.Vendor.SetDecision(subject, vendorapi.Decision{Type: vs.Decision, RiskScore: vs.RiskScore, Label: vs.Label, Capabilities: vs.Capability})
		sr.Label = "vendor decision " + vs.Decision
	}
	return sr
}

// probeAnswer is the probe protocol's answer.
type probeAnswer struct {
	Events int     `json:"events"`
	Status *string `json:"status"`
}

func (r *runner) probe(ctx context.Context, subject string) (probeAnswer, error) {
	var pa probeAnswer
	u := strings.ReplaceAll(r.opt.Probe, "{subject}", url.PathEscape(subject))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return pa, err
	}
	resp, err := r.opt.Observer.Do(req)
	if err != nil {
		return pa, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return pa, err
	}
	if resp.StatusCode != http.StatusOK {
		return pa, fmt.Errorf("probe %s answered %d %s", u, resp.StatusCode, firstLine(b))
	}
	if err := json.Unmarshal(b, &pa); err != nil {
		return pa, fmt.Errorf("probe %s: not the probe protocol ({\"events\": N, \"status\": S}): %v", u, err)
	}
	return pa, nil
}

// pollInterval is how often an expect step looks again.
const pollInterval = 20 * time.Millisecond

func (r *runner) expect(ctx context.Context, sr StepResult, e *Effects) StepResult {
	subject := r.subject(e.Subject)
	var parts []string
	if e.Events != nil {
		parts = append(parts, fmt.Sprintf("events %d", *e.Events))
	}
	if e.Status != nil {
		parts = append(parts, "status "+*e.Status)
	}
	if e.Fetches != nil {
		parts = append(parts, fmt.Sprintf("fetches %d", *e.Fetches))
	}
	if sr.Label == "" {
		sr.Label = "expect " + strings.Join(parts, ", ")
	}
	needProbe := e.Events != nil || e.Status != nil
	if needProbe && r.opt.Probe == "" {
		sr.Skipped = append(sr.Skipped, "events/status: the target offers no probe (--probe)")
		needProbe = false
	}
	needFetch := e.Fetches != nil
	if needFetch && r.opt.Vendor == nil {
		sr.Skipped = append(sr.Skipped, "fetches: no vendor API mock in this run")
		needFetch = false
	}
	if !needProbe && !needFetch {
		return sr
	}
	within := e.Within
	if within <= 0 {
		within = r.opt.Settle
	}
	if within <= 0 {
		within = 2 * time.Second
	}
	deadline := time.Now().Add(within)
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for {
		failures := r.check(ctx, e, subject, needProbe, needFetch)
		if len(failures) == 0 {
			return sr
		}
		if time.Now().After(deadline) {
			for _, f := range failures {
				sr.Failures = append(sr.Failures, fmt.Sprintf("%s: %s (subject %s, after %s)", e.Pos, f, subject, within))
			}
			return sr
		}
		select {
		case <-ctx.Done():
			sr.Failures = append(sr.Failures, "cancelled: "+ctx.Err().Error())
			return sr
		case <-ticker.C:
		}
	}
}

func (r *runner) check(ctx context.Context, e *Effects, subject string, probe, fetch bool) []string {
	var out []string
	if probe {
		pa, err := r.probe(ctx, subject)
		if err != nil {
			return []string{err.Error()}
		}
		if e.Events != nil && pa.Events != *e.Events {
			out = append(out, fmt.Sprintf("expected %d events acted on, the probe says %d", *e.Events, pa.Events))
		}
		if e.Status != nil {
			got := "null"
			if pa.Status != nil {
				got = *pa.Status
			}
			if got != *e.Status {
				out = append(out, fmt.Sprintf("expected status %s, the probe says %s", *e.Status, got))
			}
		}
	}
	if fetch {
		if n := r.opt.Vendor.Fetches(subject); n != *e.Fetches {
			out = append(out, fmt.Sprintf("expected %d vendor API fetches, saw %d", *e.Fetches, n))
		}
	}
	return out
}

// generate makes a value for a Var.
func generate(name string) (string, error) {
	switch name {
	case "uuid", "scan-reference":
		var b [16]byte
		randRead(b[:])
		b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
		h := fmt.Sprintf("%x", b)
		return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
	case "sumsub-id":
		var b [12]byte
		randRead(b[:])
		return fmt.Sprintf("%x", b), nil
	case "digits":
		var b [12]byte
		randRead(b[:])
		out := make([]byte, 12)
		for i, c := range b {
			out[i] = '0' + c%10
		}
		if out[0] == '0' {
			out[0] = '1'
		}
		return string(out), nil
	}
	return "", errors.New("unknown generator " + strconv.Quote(name) + " (known: " + strings.Join(Generators, ", ") + ")")
}

// randRead fills b with random bytes.
func randRead(b []byte) { _, _ = cryptorand.Read(b) }
