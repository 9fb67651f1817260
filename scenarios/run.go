package scenarios

import (
	"bytes"
	"cmp"
	"context"
	cryptorand "crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
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
	// AccountID is the Jumio KYX account.id of the callbacks (generated
	// when empty).
	AccountID string
	// Fields are set on every built payload that has the field (a dotted
	// path, or a form field and a path inside it): what a sandbox knows
	// of the subject, such as the customer's own references.
	Fields map[string]any
	// Algorithm is the Sumsub digest algorithm of steps that name none
	// (HMAC_SHA256_HEX when empty).
	Algorithm signing.Algorithm
	// Dispatcher delivers the callbacks; its clock is the scenario's. Give
	// scenarios that run at the same time a Dispatcher each: a wait moves
	// the clock on, and would age the other scenario's events.
	Dispatcher *delivery.Dispatcher
	// Vendor is the vendor API mock the callbacks' links point at
	// (VendorBase); nil skips fetch expectations.
	Vendor     *vendorapi.Server
	VendorBase string
	// Observer is the HTTP client for the probe (defaultObserver when
	// nil: a 5 s timeout, answer headers bounded).
	Observer *http.Client
	// Vars override the scenario's variables of the same name (a
	// profile's foreign source address, say).
	Vars map[string]string
	// ForwardedFor is sent as X-Forwarded-For with every Jumio callback
	// whose step gives none: for a receiver behind a proxy, the address
	// the proxy would report (a Jumio one).
	ForwardedFor string
	// ContentPolicy says what "refuse" means for unusable content:
	// PolicyReject (4xx), PolicyAckAndDrop (2xx) or PolicyEither (2xx or
	// 4xx, the default when empty). The no-effect expectation that
	// follows is what proves the content was not acted on.
	ContentPolicy string
	// Handles maps a product to the messages the receiver acts on; a
	// product that is missing (or a nil map) handles every message.
	// Effect expectations on a subject that got only messages the
	// receiver does not handle are not checked (the answer still is).
	Handles map[string][]string
	// Fetches says, per product, whether the receiver fetches results
	// from the vendor API (KYX href, Netverify retrieval); fetch
	// expectations of more than zero fetches apply only then.
	Fetches map[string]bool
	// Settle is how long an expect step without its own within polls
	// for the receiver's effects (2 s when zero).
	Settle time.Duration
	// Quiet is how long an effect expectation must keep holding once it
	// holds, so that work a receiver does in the background after its
	// answer is seen (500 ms when zero; negative: no quiet window).
	Quiet time.Duration
	// OnStep, when set, is called as each step ends.
	OnStep func(StepResult)
	// AsRecorded sends recorded callbacks (send steps with
	// recorded-headers) with the signature headers they were recorded
	// with instead of signing them with Secret.
	AsRecorded bool
	// Seed, when set, makes the run repeatable: the generated variables
	// (the subject too) and every payload's generated values and variants
	// derive from it, the scenario's name and the step, so that the same
	// seed plays the same bytes apart from what the clock decides. Nil
	// draws them at random.
	Seed *uint64
}

// The content policies (Options.ContentPolicy).
const (
	PolicyReject     = "reject"
	PolicyAckAndDrop = "ack-and-drop"
	PolicyEither     = "either"
)

// ContentPolicies lists the content policies.
var ContentPolicies = []string{PolicyEither, PolicyReject, PolicyAckAndDrop}

// Result is the outcome of one scenario.
type Result struct {
	Scenario string        `json:"scenario"`
	Product  string        `json:"product"`
	Passed   bool          `json:"passed"`
	Steps    []StepResult  `json:"steps"`
	Duration time.Duration `json:"durationNs"`
	// NotApplicable says why the scenario was not played at all: it
	// needs a message the receiver does not handle.
	NotApplicable string `json:"notApplicable,omitempty"`
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
	// Skipped are the expectations that could not be checked for want
	// of an observer (probe, vendor API mock), and why.
	Skipped []string `json:"skipped,omitempty"`
	// Notes are the expectations left out because they do not apply to
	// the receiver's declared scope, and why.
	Notes []string `json:"notes,omitempty"`
	// Capacity are the expectations that could not be checked because
	// the target had no room for kycsim's requests (a delivery or a
	// probe got no connection while others were in flight, also after
	// kycsim lowered its concurrency): the target's capacity failed, not
	// the step.
	Capacity []string `json:"capacity,omitempty"`
	// Checked counts the expectations the step checked: one for an
	// answer (status, within, attempts), one for effects seen through an
	// observer. Skipped ones are not counted.
	Checked int `json:"checked,omitempty"`
	// AnswerTimeout is the answer deadline of the step's delivery (zero
	// for a step that delivers nothing), so that a replay can keep it.
	AnswerTimeout time.Duration `json:"-"`
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
	// to records the messages sent to each subject, for the scope rule.
	to map[string][]string
	// variants records the generated variants of the events sent to
	// each subject, to name them when a check about it fails.
	variants map[string][]event.Variant
}

// notApplicableError says a scenario needs a message the receiver does
// not handle.
type notApplicableError struct{ msg string }

func (e *notApplicableError) Error() string { return e.msg }

// Handles reports whether the receiver acts on a product's message.
func (o *Options) handles(product, message string) bool {
	list, ok := o.Handles[product]
	return !ok || slices.Contains(list, message)
}

// Run plays a scenario and checks its expectations.
func Run(ctx context.Context, sc *Scenario, opt Options) *Result {
	start := time.Now()
	res := &Result{Scenario: sc.Name, Product: sc.Product, Passed: true}
	r := &runner{sc: sc, opt: opt, sent: map[string]*sent{}, to: map[string][]string{}, variants: map[string][]event.Variant{}}
	if r.opt.Observer == nil {
		r.opt.Observer = defaultObserver
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
		var na *notApplicableError
		if errors.As(err, &na) {
			res.NotApplicable = na.msg
			res.Duration = time.Since(start)
			return res
		}
		fail(err.Error())
		return res
	}
	// The scenario runs on a clock of its own, anchored so that nothing
	// it sends is dated in the future of real time: a scenario that waits
	// a scaled hour starts an hour in the past.
	if a, ok := r.opt.Dispatcher.Clock.(delivery.Anchorer); ok {
		r.opt.Dispatcher = r.opt.Dispatcher.WithClock(a.Anchored(r.span(sc.Steps)))
	}
	for i := range sc.Steps {
		if ctx.Err() != nil {
			fail("cancelled: " + ctx.Err().Error())
			break
		}
		for _, sr := range r.step(ctx, i+1, 0, &sc.Steps[i]) {
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

// span is the most clock time the steps can skip: their waits and the
// retry delays of the deliveries that retry.
func (r *runner) span(steps []Step) time.Duration {
	return span(r.sc.Product, steps, r.expand)
}

// Span is the most clock time the scenario can skip, its variables not
// yet known (a message named by a variable counts with the product's
// default retry policy): a measure of how long it takes, for starting
// the longest first.
func (s *Scenario) Span() time.Duration {
	return span(s.Product, s.Steps, func(m string) string { return m })
}

// span adds up the waits of steps and the retry delays of the deliveries
// that retry; expand resolves message names.
func span(product string, steps []Step, expand func(string) string) time.Duration {
	var total time.Duration
	retries := func(message string, d *Delivery) {
		if d == nil || !d.Retry {
			return
		}
		delays := d.Delays
		if delays == nil {
			delays = delivery.PolicyFor(product, message).Delays
		}
		for _, x := range delays {
			total += x
		}
	}
	for _, st := range steps {
		switch st.Kind {
		case KindWait:
			total += st.Wait
		case KindSend:
			retries(expand(st.Send.Message), &st.Send.Delivery)
		case KindRedeliver:
			d := st.Redeliver.Delivery
			for _, prev := range steps {
				if prev.Kind == KindSend && prev.ID == st.Redeliver.Step {
					if d == nil {
						d = &prev.Send.Delivery
					}
					retries(expand(prev.Send.Message), d)
				}
			}
		case KindParallel:
			total += span(product, st.Parallel, expand)
		}
	}
	return total
}

// resolveVars generates the scenario's variables and its subject.
func (r *runner) resolveVars() (map[string]string, error) {
	vars := map[string]string{}
	read := randRead
	if rnd := r.rand("vars", 0, 0); rnd != nil {
		read = func(b []byte) {
			for i := range b {
				b[i] = byte(rnd.Uint64())
			}
		}
	}
	for _, v := range r.sc.Vars {
		if v.Handled != nil {
			i := slices.IndexFunc(v.Handled, func(m string) bool { return r.opt.handles(r.sc.Product, m) })
			if i < 0 && v.Prefer {
				i = 0
			}
			if i < 0 {
				return nil, &notApplicableError{msg: fmt.Sprintf("needs a message the receiver handles (one of %s); it handles %s",
					strings.Join(v.Handled, ", "), strings.Join(r.opt.Handles[r.sc.Product], ", "))}
			}
			vars[v.Name] = v.Handled[i]
			continue
		}
		if v.Generate == "" {
			vars[v.Name] = v.Value
			continue
		}
		val, err := generate(v.Generate, read)
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
		vars["subject"], _ = generate(gen, read)
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

// step plays one step; part is its place inside a parallel step (0
// outside one).
func (r *runner) step(ctx context.Context, index, part int, st *Step) []StepResult {
	sr := StepResult{Index: index, Kind: st.Kind, Pos: st.Pos.String(), Label: st.Name}
	switch st.Kind {
	case KindSend:
		return []StepResult{r.send(ctx, sr, st, r.rand("step", index, part))}
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
		if st.Identical {
			return r.sendCopies(ctx, index, st)
		}
		out := make([]StepResult, len(st.Parallel))
		var wg sync.WaitGroup
		for i := range st.Parallel {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out[i] = r.step(ctx, index, i+1, &st.Parallel[i])[0]
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

// rand returns the source of generated values for a part of the run:
// derived from the run's seed, the scenario and the part's key, or nil
// (random) without a seed.
func (r *runner) rand(key string, index, part int) *rand.Rand {
	if r.opt.Seed == nil {
		return nil
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%d\x00%s\x00%s\x00%s\x00%d\x00%d", *r.opt.Seed, r.sc.Name, r.sc.Pos.File, key, index, part)
	return event.NewRand(h.Sum64())
}

// identity returns the identity of a subject (event.Options.Identity):
// every event about it carries the same identifying fields and takes the
// same variants. With a seed it derives from the seed, the scenario and
// the subject; without one, from the subject alone (nil).
func (r *runner) identity(subject string) *uint64 {
	if r.opt.Seed == nil {
		return nil
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%d\x00%s\x00%s\x00identity\x00%s", *r.opt.Seed, r.sc.Name, r.sc.Pos.File, subject)
	id := h.Sum64()
	return &id
}

// build makes the event of a send step; rnd is the source of its
// generated values (nil: random).
func (r *runner) build(s *Send, subject string, rnd *rand.Rand) (*event.Event, []byte, error) {
	if s.RawBody != nil {
		return nil, []byte(r.expand(*s.RawBody)), nil
	}
	opt := event.Options{Subject: subject, Now: r.opt.Dispatcher.Clock.Now().Add(-s.Age), VendorBase: r.opt.VendorBase,
		Precision: s.Precision, SandboxMode: s.SandboxMode, RejectCode: s.RejectCode,
		ReviewAnswer: s.ReviewAnswer, ReviewRejectType: s.RejectType, RejectLabels: s.RejectLabels, Rand: rnd,
		AccountID: r.opt.AccountID, Identity: r.identity(subject)}
	ev, err := event.Build(r.opt.Catalog, r.sc.Product, r.expand(s.Message), opt)
	if err != nil {
		return nil, nil, err
	}
	for _, u := range s.Unset {
		// A message variable's alternatives differ in shape: a field one
		// of them lacks is already absent.
		if strings.HasPrefix(s.Message, "${") {
			if _, err := ev.Get(r.expand(u)); err != nil {
				continue
			}
		}
		if err := ev.Unset(r.expand(u)); err != nil {
			return nil, nil, fmt.Errorf("unset %s: %w", u, err)
		}
	}
	for _, path := range slices.Sorted(maps.Keys(r.opt.Fields)) {
		if _, err := ev.Get(path); err == nil {
			if err := setValue(ev, path, r.opt.Fields[path]); err != nil {
				return nil, nil, fmt.Errorf("field %s: %w", path, err)
			}
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

// prepared is a send step's callback, built and signed.
type prepared struct {
	subject, message string
	ev               *event.Event
	body             []byte
	req              delivery.Request
}

// prepare builds and signs a send step's callback (the recorded headers
// instead, with AsRecorded) and notes it as sent to its subject. label is
// the step's label when it has none; a failure is the step's.
func (r *runner) prepare(s *Send, rnd *rand.Rand) (p prepared, label, failure string) {
	p.subject, p.message = r.subject(s.Subject), r.expand(s.Message)
	label = "send " + p.message
	r.mu.Lock()
	r.to[p.subject] = append(r.to[p.subject], p.message)
	r.mu.Unlock()
	var err error
	if p.ev, p.body, err = r.build(s, p.subject, rnd); err != nil {
		return p, label, "build: " + err.Error()
	}
	if p.req, err = r.request(p.message, p.subject, p.body, s.Sign, s.Delivery); err != nil {
		return p, label, err.Error()
	}
	if r.opt.AsRecorded && s.Recorded != nil {
		p.req = r.asRecorded(p.req, s.Recorded)
	}
	return p, label, ""
}

func (r *runner) send(ctx context.Context, sr StepResult, st *Step, rnd *rand.Rand) StepResult {
	s := st.Send
	p, label, failure := r.prepare(s, rnd)
	if sr.Label == "" {
		sr.Label = label
	}
	if failure != "" {
		sr.Failures = append(sr.Failures, failure)
		return sr
	}
	subject, ev, body, req := p.subject, p.ev, p.body, p.req
	if st.ID != "" {
		r.mu.Lock()
		r.sent[st.ID] = &sent{ev: ev, send: s, subject: subject, body: body, req: req}
		r.mu.Unlock()
	}
	var variants []event.Variant
	if ev != nil {
		variants = ev.Variants()
		r.mu.Lock()
		for _, v := range variants {
			if !slices.Contains(r.variants[subject], v) {
				r.variants[subject] = append(r.variants[subject], v)
			}
		}
		r.mu.Unlock()
	}
	sr = r.deliver(ctx, sr, req, s.Expect)
	nameVariants(sr.Failures, variants, "this callback")
	return sr
}

// nameVariants adds to each failure the generated variants the
// callbacks it speaks of took, with why real callbacks come that way, so
// that a failure a variant causes says so rather than seem to belong to
// the case.
func nameVariants(failures []string, variants []event.Variant, what string) {
	if len(variants) == 0 {
		return
	}
	names := make([]string, len(variants))
	for i, v := range variants {
		names[i] = v.String()
	}
	note := fmt.Sprintf(" [%s took generated variant(s), each as real callbacks come: %s; the same --seed plays them again]", what, strings.Join(names, "; "))
	for i := range failures {
		failures[i] += note
	}
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
	if r.opt.Algorithm != "" {
		alg = r.opt.Algorithm
	}
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
			cb.Body = tamper(body, subject)
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

// asRecorded replaces the signature headers of a request with those a
// recorded callback came with.
func (r *runner) asRecorded(req delivery.Request, recorded []Header) delivery.Request {
	h := req.Header.Clone()
	h.Del(signing.DigestHeader)
	h.Del(signing.AlgorithmHeader)
	for _, x := range recorded {
		h.Add(x.Name, r.expand(x.Value))
	}
	req.Header = h
	return req
}

// tamper changes a body after it was signed: the first letter of the
// last string value that starts with one and is not the subject, so that the body stays
// well-formed and a receiver that acts on it anyway acts on the subject
// the case watches.
func tamper(body []byte, subject string) []byte {
	out := append([]byte(nil), body...)
	for end := len(out); end > 0; {
		i := bytes.LastIndex(out[:end], []byte(`":"`))
		if i < 0 {
			break
		}
		end = i
		v := out[i+3:]
		j := bytes.IndexByte(v, '"')
		if j <= 0 || bytes.IndexByte(v[:j], '\\') >= 0 || (subject != "" && bytes.Contains(v[:j], []byte(subject))) {
			continue
		}
		// A letter, so that no timestamp or number changes meaning.
		if c := v[0] | 0x20; c < 'a' || c > 'z' {
			continue
		}
		v[0] ^= 0x01
		return out
	}
	return append(out, ' ')
}

func (r *runner) deliver(ctx context.Context, sr StepResult, req delivery.Request, want *Answer) StepResult {
	sr.AnswerTimeout = req.Policy.AnswerTimeout
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
	if last.Capacity {
		sr.Capacity = append(sr.Capacity, fmt.Sprintf("%s: not checked: %s", want.Pos, last.Err))
		return sr
	}
	sr.Checked++
	if want.Status != "" {
		statuses := []string{want.Status}
		if want.Status == StatusRefuse {
			switch r.opt.ContentPolicy {
			case PolicyReject:
				statuses = []string{"4xx"}
			case PolicyAckAndDrop:
				statuses = []string{"2xx"}
			default:
				statuses = []string{"2xx", "4xx"}
			}
		}
		shown := strings.Join(statuses, " or ")
		if want.Status == StatusRefuse {
			shown += " (content policy " + cmp.Or(r.opt.ContentPolicy, PolicyEither) + ")"
		}
		switch {
		case last.Err != "":
			sr.Failures = append(sr.Failures, fmt.Sprintf("%s: expected status %s, but the delivery failed: %s", want.Pos, shown, last.Err))
		case !slices.ContainsFunc(statuses, func(p string) bool { return statusMatches(p, last.Status) }):
			sr.Failures = append(sr.Failures, fmt.Sprintf("%s: expected status %s, got %d %s", want.Pos, shown, last.Status, firstLine(last.ResponseBody)))
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

// StatusRefuse is the expected status of unusable content: what it means
// depends on the content policy (Options.ContentPolicy).
const StatusRefuse = "refuse"

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
			if err := restamp(ev, r.opt.Dispatcher.Clock.Now, prev.send.Precision); err != nil {
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
		if req, err = r.request(r.expand(prev.send.Message), prev.subject, body, prev.send.Sign, d); err != nil {
			sr.Failures = append(sr.Failures, err.Error())
			return sr
		}
	}
	return r.deliver(ctx, sr, req, rd.Expect)
}

// restamp gives an event a fresh vendor timestamp from the clock, one
// that differs from the one it carries: when the clock has not yet moved
// on by the timestamp's precision, it waits for it to (at most one step
// of that precision), rather than date the event in the future.
func restamp(ev *event.Event, clock func() time.Time, precision *int) error {
	digits := event.DefaultPrecision
	if precision != nil {
		digits = *precision
	}
	var field string
	var stamp func(time.Time) string
	step := time.Millisecond
	switch ev.Product {
	case "jumio-kyx":
		field = "callbackSentAt"
	case "jumio-netverify", "jumio-auth":
		field = "callbackDate"
	case "jumio-docverify":
		field = "timestamp"
	case "sumsub":
		field, stamp = "createdAtMs", format.FormatSumsubCreatedAtMs
	}
	if stamp == nil {
		stamp = func(t time.Time) string { return format.FormatJumioTimestamp(t, digits) }
		for range 3 - digits {
			step *= 10
		}
	}
	now := clock()
	if old, err := ev.Get(field); err == nil {
		for deadline := time.Now().Add(step); stamp(now) == fmt.Sprint(old) && time.Now().Before(deadline); now = clock() {
			time.Sleep(step / 10)
		}
	}
	if err := ev.SetValue(field, stamp(now)); err != nil {
		return err
	}
	if ev.Product == "sumsub" {
		if _, err := ev.Get("createdAt"); err == nil {
			return ev.SetValue("createdAt", format.FormatSumsubCreatedAt(now))
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
	// Decision is the receiver's own decision, when it reports one
	// (decision.go).
	Decision *string `json:"decision"`
}

// errNoDecision says a decision was expected and the probe reports none.
var errNoDecision = errors.New("the probe reports no decision")

// errNoRoom says the probe got no connection for want of the target's
// capacity (delivery.Capacity).
var errNoRoom = errors.New("the target had no room for the probe's connection while kycsim had other requests in flight, also after kycsim lowered its concurrency")

func (r *runner) probe(ctx context.Context, subject string) (probeAnswer, error) {
	var pa probeAnswer
	u := strings.ReplaceAll(r.opt.Probe, "{subject}", url.PathEscape(subject))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return pa, err
	}
	var resp *http.Response
	do := func() error {
		resp, err = r.opt.Observer.Do(req)
		if err != nil && delivery.ConnectError(err) {
			return err
		}
		return nil
	}
	if c := r.opt.Dispatcher.Capacity; c != nil {
		// The probe's connections count against the target's room too;
		// its answer is read while the slot is held.
		var body []byte
		var status int
		_, lost, cerr := c.Do(ctx, req.URL.Host, func() error {
			if err := do(); err != nil || resp == nil {
				return err
			}
			defer resp.Body.Close()
			status = resp.StatusCode
			body, err = io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			return nil
		})
		switch {
		case cerr != nil:
			return pa, cerr
		case lost:
			return pa, fmt.Errorf("probe %s: %w (%v)", u, errNoRoom, err)
		case err != nil:
			return pa, err
		}
		return r.probeAnswer(u, status, body)
	}
	// do reports connect errors only (for the capacity above); any other
	// error of the request is in err.
	if derr := do(); derr != nil || resp == nil {
		return pa, cmp.Or(derr, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return pa, err
	}
	return r.probeAnswer(u, resp.StatusCode, b)
}

// probeAnswer reads the probe's answer.
func (r *runner) probeAnswer(u string, status int, b []byte) (probeAnswer, error) {
	var pa probeAnswer
	if status != http.StatusOK {
		return pa, fmt.Errorf("probe %s answered %d %s", u, status, firstLine(b))
	}
	if err := json.Unmarshal(b, &pa); err != nil {
		return pa, fmt.Errorf("probe %s: not the probe protocol ({\"events\": N, \"status\": S}): %v", u, err)
	}
	if pa.Decision != nil && *pa.Decision == "" {
		pa.Decision = nil // an empty decision is none
	}
	return pa, nil
}

// defaultObserver is the probe's client: a 5 s timeout, and answer
// headers bounded as the dispatcher bounds them (a probe that answers
// with megabytes of headers fails instead of being held in memory). One
// client for every run, so that probe connections are reused.
var defaultObserver = &http.Client{Timeout: 5 * time.Second, Transport: observerTransport()}

func observerTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxResponseHeaderBytes = delivery.MaxAnswerHeaderBytes
	return t
}

// pollInterval is how often an expect step looks again.
const pollInterval = 20 * time.Millisecond

// DefaultQuiet is the quiet window when Options.Quiet is zero.
const DefaultQuiet = 500 * time.Millisecond

// scope drops the parts of an expectation that do not apply to the
// receiver's declared scope, and says why in notes. It returns nil when
// nothing is left to check.
func (r *runner) scope(e *Effects, subject string) (*Effects, []string) {
	var notes []string
	c := *e
	if c.Positive() {
		r.mu.Lock()
		msgs := r.to[subject]
		r.mu.Unlock()
		handled := len(msgs) == 0 // an expectation on a subject the case sent nothing to stands
		for _, m := range msgs {
			handled = handled || r.opt.handles(r.sc.Product, m)
		}
		if !handled {
			notes = append(notes, fmt.Sprintf("%s: effects not checked: the receiver does not handle %s, so only its answer counts", e.Pos, strings.Join(slices.Compact(slices.Sorted(slices.Values(msgs))), ", ")))
			return nil, notes
		}
	}
	if c.Fetches != nil && *c.Fetches > 0 && !r.opt.Fetches[r.sc.Product] {
		notes = append(notes, fmt.Sprintf("%s: fetches not checked: the receiver does not declare that it fetches results (fetches)", e.Pos))
		c.Fetches = nil
	}
	if c.Events == nil && c.Status == nil && c.NotStatus == nil && c.Decision == nil && c.Fetches == nil {
		return nil, notes
	}
	return &c, notes
}

func (r *runner) expect(ctx context.Context, sr StepResult, e *Effects) StepResult {
	subject := r.subject(e.Subject)
	var parts []string
	if e.Events != nil {
		parts = append(parts, fmt.Sprintf("events %d", *e.Events))
	}
	if e.Status != nil {
		parts = append(parts, "status "+*e.Status)
	}
	if e.NotStatus != nil {
		parts = append(parts, "status not "+*e.NotStatus)
	}
	if e.Decision != nil {
		parts = append(parts, "decision "+*e.Decision)
	}
	if e.Fetches != nil {
		parts = append(parts, fmt.Sprintf("fetches %d", *e.Fetches))
	}
	if sr.Label == "" {
		sr.Label = "expect " + strings.Join(parts, ", ")
	}
	e, sr.Notes = r.scope(e, subject)
	if e == nil {
		return sr
	}
	needProbe := e.Events != nil || e.Status != nil || e.NotStatus != nil || e.Decision != nil
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
	sr.Checked++
	within := cmp.Or(e.Within, r.opt.Settle, 2*time.Second)
	quiet := cmp.Or(r.opt.Quiet, DefaultQuiet)
	if quiet < 0 {
		quiet = 0
	}
	// A negative expectation has nothing to wait for: it must hold from
	// the first look to the end of the quiet window. A positive one may
	// take up to within to come true, and must then stay true for the
	// quiet window (a redelivery acted on late, a stale event applied in
	// the background).
	start := time.Now()
	deadline := start.Add(within)
	if e.Negative() {
		deadline = start
	}
	var heldSince time.Time
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for {
		failures, err := r.check(ctx, e, subject, needProbe, needFetch)
		if errors.Is(err, errNoRoom) {
			sr.Checked--
			sr.Capacity = append(sr.Capacity, fmt.Sprintf("%s: not checked: %v", e.Pos, err))
			return sr
		}
		if errors.Is(err, errNoDecision) {
			// The probe reports no decision: that part is unobserved,
			// the rest is checked.
			sr.Skipped = append(sr.Skipped, fmt.Sprintf("decision %s: the probe reports no decision", *e.Decision))
			c := *e
			c.Decision = nil
			if e = &c; e.Events == nil && e.Status == nil && e.NotStatus == nil && e.Fetches == nil {
				sr.Checked--
				return sr
			}
			continue
		}
		now := time.Now()
		switch {
		case len(failures) == 0 && heldSince.IsZero():
			heldSince = now
		case len(failures) > 0 && !heldSince.IsZero():
			for _, f := range failures {
				sr.Failures = append(sr.Failures, fmt.Sprintf("%s: %s (subject %s; it held, then changed %s later)", e.Pos, f, subject, now.Sub(heldSince).Round(time.Millisecond)))
			}
			r.nameSubjectVariants(sr.Failures, subject)
			return sr
		case len(failures) > 0 && now.After(deadline):
			for _, f := range failures {
				sr.Failures = append(sr.Failures, fmt.Sprintf("%s: %s (subject %s, after %s)", e.Pos, f, subject, now.Sub(start).Round(time.Millisecond)))
			}
			r.nameSubjectVariants(sr.Failures, subject)
			return sr
		}
		if !heldSince.IsZero() && now.Sub(heldSince) >= quiet {
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

// nameSubjectVariants names the variants of the callbacks sent to a
// subject in failures about it.
func (r *runner) nameSubjectVariants(failures []string, subject string) {
	r.mu.Lock()
	variants := slices.Clone(r.variants[subject])
	r.mu.Unlock()
	nameVariants(failures, variants, "the callbacks about subject "+subject)
}

func (r *runner) check(ctx context.Context, e *Effects, subject string, probe, fetch bool) ([]string, error) {
	var out []string
	if probe {
		pa, err := r.probe(ctx, subject)
		if errors.Is(err, errNoRoom) {
			return nil, err
		}
		if err != nil {
			return []string{err.Error()}, nil
		}
		if e.Decision != nil && pa.Decision == nil {
			return nil, errNoDecision
		}
		if e.Events != nil && pa.Events != *e.Events {
			out = append(out, fmt.Sprintf("expected %d events acted on, the probe says %d", *e.Events, pa.Events))
		}
		got := "null"
		if pa.Status != nil {
			got = *pa.Status
		}
		// A status that implies a decision is judged by the receiver's
		// own decision when the probe reports one.
		decided := func(status string) (class, decision string, ok bool) {
			class = statusDecision(r.sc.Product, status)
			if class == "" || pa.Decision == nil {
				return "", "", false
			}
			return class, *pa.Decision, true
		}
		if e.Status != nil {
			want := r.expand(*e.Status)
			if class, d, ok := decided(want); ok {
				if !decisionFits(class, d) {
					out = append(out, fmt.Sprintf("expected status %s, which is decision %s; the probe says decision %s (status %s)", want, class, d, got))
				}
			} else if got != want {
				out = append(out, fmt.Sprintf("expected status %s, the probe says %s", want, got))
			}
		}
		if e.NotStatus != nil {
			not := r.expand(*e.NotStatus)
			if class, d, ok := decided(not); ok && class == ClassApproved {
				if d == DecisionApproved {
					out = append(out, fmt.Sprintf("expected any status but %s, which is decision approved; the probe says decision %s (status %s)", not, d, got))
				}
			} else if got == not {
				out = append(out, fmt.Sprintf("expected any status but %s, the probe says %s", not, got))
			}
		}
		if e.Decision != nil && !decisionFits(*e.Decision, *pa.Decision) {
			out = append(out, fmt.Sprintf("expected decision %s, the probe says decision %s (status %s)", *e.Decision, *pa.Decision, got))
		}
	}
	if fetch {
		if n := r.opt.Vendor.Fetches(subject); n != *e.Fetches {
			out = append(out, fmt.Sprintf("expected %d vendor API fetches, saw %d", *e.Fetches, n))
		}
	}
	return out, nil
}

// generate makes a value for a Var from the bytes read gives.
func generate(name string, read func([]byte)) (string, error) {
	switch name {
	case "uuid", "scan-reference":
		var b [16]byte
		read(b[:])
		b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
		h := fmt.Sprintf("%x", b)
		return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
	case "sumsub-id":
		var b [12]byte
		read(b[:])
		return fmt.Sprintf("%x", b), nil
	case "digits":
		var b [12]byte
		read(b[:])
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
