// Package kycsimtest certifies a KYC webhook receiver inside go test: it
// plays kycsim's conformance suite against an http.Handler (or a URL),
// one subtest per case, so that
//
//	go test -run 'TestReceiverConforms/sumsub.reject'
//
// selects cases by id. A failing case reports the rule it checks, the
// request it sent and the answer it got.
//
//	func TestReceiverConforms(t *testing.T) {
//		kycsimtest.Conform(t, myHandler, kycsimtest.Sumsub{Path: "/webhooks/sumsub", Secret: "s3cr3t", Handles: []string{"applicantReviewed"}},
//			kycsimtest.WithProber(myStore))
//	}
//
// Cases that check what the receiver did (acted once, kept the newest
// state) need to see its state: give Conform a Prober, a few lines that
// answer from the receiver's store, let the handler implement Prober
// itself, or name the path where the handler serves the HTTP probe
// (WithProbePath). Without one those cases fail as unobserved: they prove
// nothing. The receivers to copy in conformance/examples certify
// themselves this way.
//
// Jumio callbacks carry no signature; the suite sends them from
// 127.0.0.1, and the source cases from 127.0.0.2, which the receiver must
// refuse: allow 127.0.0.1 (and not 127.0.0.2) in tests.
package kycsimtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycsim/kycsim/conformance"
	"github.com/kycsim/kycsim/scenarios"
	"github.com/kycsim/kycsim/simulator/delivery"
	"github.com/kycsim/kycsim/simulator/vendorapi"
	"github.com/kycsim/kycsim/spec"
)

// Prober tells what the receiver did for a subject (the applicantId,
// workflowExecution.id, jumioIdScanReference, transactionReference or
// scanReference): how many distinct callbacks it acted on, and the
// subject's status as it holds it (for Sumsub reviewStatus, plus "/" and
// reviewAnswer when the newest event has one: "completed/GREEN"). known
// is false for a subject it never acted on.
type Prober interface {
	Probe(subject string) (events int, status string, known bool)
}

// DecisionProber is a Prober that also tells the receiver's own decision
// about a subject (approved, rejected, retry, pending; "" for none): the
// probe then reports it, and checks about acting on a decision judge it
// rather than the raw vendor status (see the README's probe protocol).
type DecisionProber interface {
	Prober
	Decision(subject string) string
}

// ProberFunc makes a function a Prober.
type ProberFunc func(subject string) (events int, status string, known bool)

// Probe implements Prober.
func (f ProberFunc) Probe(subject string) (int, string, bool) { return f(subject) }

// Setting is what Conform takes after the handler: the products the
// receiver takes (Sumsub, JumioKYX, JumioNetverify, JumioAuth,
// JumioDocVerify: at least one) and options (WithProber, WithQuiet, ...).
type Setting interface {
	apply(*config)
}

// target is what a Product tells the run.
type target struct {
	product string
	path    string
	secret  string
	handles []string
	fetches bool
}

// Sumsub is a receiver of Sumsub webhooks.
type Sumsub struct {
	// Path is where the handler takes the webhooks ("/" when empty).
	Path string
	// Secret is the webhook's secret.
	Secret string
	// Handles lists the webhook types the receiver acts on (every type
	// when empty); the others need only be acknowledged.
	Handles []string
}

// apply implements Setting.
func (s Sumsub) apply(c *config) { c.targets = append(c.targets, s.target()) }

func (s Sumsub) target() target {
	return target{product: "sumsub", path: s.Path, secret: s.Secret, handles: s.Handles}
}

// JumioKYX is a receiver of Jumio KYX workflow callbacks.
type JumioKYX struct {
	Path string
	// Handles lists the workflow statuses acted on (every status when
	// empty), e.g. PROCESSED.
	Handles []string
	// Fetches says the receiver fetches the result from
	// workflowExecution.href; the suite's vendor API mock counts it.
	Fetches bool
}

// apply implements Setting.
func (j JumioKYX) apply(c *config) { c.targets = append(c.targets, j.target()) }

func (j JumioKYX) target() target {
	return target{product: "jumio-kyx", path: j.Path, handles: j.Handles, fetches: j.Fetches}
}

// JumioNetverify is a receiver of Jumio Netverify callbacks.
type JumioNetverify struct {
	Path    string
	Handles []string // verificationStatus values acted on
}

// apply implements Setting.
func (j JumioNetverify) apply(c *config) { c.targets = append(c.targets, j.target()) }

func (j JumioNetverify) target() target {
	return target{product: "jumio-netverify", path: j.Path, handles: j.Handles}
}

// JumioAuth is a receiver of Jumio Authentication callbacks.
type JumioAuth struct {
	Path    string
	Handles []string // transactionResult values acted on
}

// apply implements Setting.
func (j JumioAuth) apply(c *config) { c.targets = append(c.targets, j.target()) }

func (j JumioAuth) target() target {
	return target{product: "jumio-auth", path: j.Path, handles: j.Handles}
}

// JumioDocVerify is a receiver of Jumio Document Verification callbacks.
type JumioDocVerify struct {
	Path    string
	Handles []string // document.status values acted on
}

// apply implements Setting.
func (j JumioDocVerify) apply(c *config) { c.targets = append(c.targets, j.target()) }

func (j JumioDocVerify) target() target {
	return target{product: "jumio-docverify", path: j.Path, handles: j.Handles}
}

// Option changes how Conform runs.
type Option func(*config)

// apply implements Setting.
func (o Option) apply(c *config) { o(c) }

type config struct {
	targets       []target
	prober        Prober
	probePath     string
	quiet, settle time.Duration
	policy        string
	should        bool
	only          []string
}

// WithProber gives the run the receiver's state (see Prober).
func WithProber(p Prober) Option { return func(c *config) { c.prober = p } }

// WithProbePath says the receiver serves the probe protocol itself, at
// this path under its base URL with {subject} in it
// ("/_probe/{subject}"): GET answers {"events": N, "status": S}, the
// protocol `kycsim conform --probe` reads. It replaces a Prober.
func WithProbePath(path string) Option { return func(c *config) { c.probePath = path } }

// WithQuiet sets how long every effect check must keep holding (500 ms
// by default); raise it for a receiver that works in the background.
func WithQuiet(d time.Duration) Option { return func(c *config) { c.quiet = d } }

// WithSettle sets how long an expected effect may take to show (2 s by
// default).
func WithSettle(d time.Duration) Option { return func(c *config) { c.settle = d } }

// WithContentPolicy pins what the receiver does with unusable content:
// "reject" (4xx) or "ack-and-drop" (2xx, no effect); by default either is
// correct.
func WithContentPolicy(p string) Option { return func(c *config) { c.policy = p } }

// EnforceShould makes SHOULD cases fail the test too (they are only
// logged by default).
func EnforceShould() Option { return func(c *config) { c.should = true } }

// Only plays just the cases whose id matches one of the globs
// (path.Match syntax: "sumsub.reject.*"); go test -run selects too.
func Only(globs ...string) Option { return func(c *config) { c.only = append(c.only, globs...) } }

// Conform serves h on a loopback address and certifies it for the
// products: every conformance case of those products runs as a subtest
// named by its id (in parallel with the others). If h implements Prober,
// it is the prober unless WithProber gives another.
func Conform(t *testing.T, h http.Handler, settings ...Setting) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	if p, ok := h.(Prober); ok {
		settings = append([]Setting{WithProber(p)}, settings...)
	}
	ConformURL(t, srv.URL, settings...)
}

// ConformURL certifies the receiver at base (its products' paths are
// appended) like Conform.
func ConformURL(t *testing.T, base string, settings ...Setting) {
	t.Helper()
	cfg := config{}
	for _, s := range settings {
		s.apply(&cfg)
	}
	if len(cfg.targets) == 0 {
		t.Fatal("kycsimtest: name at least one product (kycsimtest.Sumsub{...}, kycsimtest.JumioKYX{...}, ...)")
	}
	cat, err := spec.Default()
	if err != nil {
		t.Fatalf("kycsimtest: %v", err)
	}
	cases, err := scenarios.Cases(cat)
	if err != nil {
		t.Fatalf("kycsimtest: %v", err)
	}
	opt := scenarios.Options{
		Catalog: cat, URLs: map[string]string{}, Handles: map[string][]string{}, Fetches: map[string]bool{},
		Settle: cfg.settle, Quiet: cfg.quiet, ContentPolicy: cfg.policy,
	}
	selected := map[string]bool{}
	for _, tg := range cfg.targets {
		if _, err := cat.Product(tg.product); err != nil {
			t.Fatalf("kycsimtest: %v", err)
		}
		path := tg.path
		if path == "" {
			path = "/"
		}
		u, err := url.JoinPath(base, path)
		if err != nil {
			t.Fatalf("kycsimtest: %s path %q: %v", tg.product, tg.path, err)
		}
		opt.URLs[tg.product], selected[tg.product] = u, true
		if len(tg.handles) > 0 {
			opt.Handles[tg.product] = tg.handles
		}
		opt.Fetches[tg.product] = tg.fetches
		if tg.secret != "" {
			opt.Secret = tg.secret
		}
	}
	if cases, err = conformance.Select(cases, selected, cfg.only, nil); err != nil {
		t.Fatalf("kycsimtest: Only: %v", err)
	}
	vendor := vendorapi.New()
	vsrv := httptest.NewServer(vendor)
	t.Cleanup(vsrv.Close)
	opt.Vendor, opt.VendorBase = vendor, vsrv.URL
	switch {
	case cfg.probePath != "":
		if !strings.Contains(cfg.probePath, "{subject}") {
			t.Fatalf("kycsimtest: WithProbePath(%q): the path has no {subject}", cfg.probePath)
		}
		opt.Probe = strings.TrimSuffix(base, "/") + "/" + strings.TrimPrefix(cfg.probePath, "/")
	case cfg.prober != nil:
		psrv := httptest.NewServer(probeHandler(cfg.prober))
		t.Cleanup(psrv.Close)
		opt.Probe = psrv.URL + "/{subject}"
	}
	d := delivery.NewDispatcher(delivery.NewScaledClock(0.0001), delivery.NewLog(nil))
	t.Cleanup(d.Close)
	opt.Dispatcher = d
	opt.Vars, opt.ForwardedFor = conformance.SourceVars(conformance.SourceDirect, "127.0.0.2")
	// Each selected subtest registers its case and pauses (t.Parallel);
	// the parent then plays every registered case, several at a time
	// whatever go test's -parallel is, and each subtest reports its own
	// verdict as it comes. A subtest -run does not select is never
	// called, so its case is not played.
	var (
		once    sync.Once
		picked  []*scenarios.Scenario
		results = map[string]chan conformance.CaseResult{}
	)
	for _, sc := range cases {
		t.Run(sc.Case.ID, func(t *testing.T) {
			done := make(chan conformance.CaseResult, 1)
			picked, results[sc.Case.ID] = append(picked, sc), done
			t.Parallel()
			report(t, <-done, cfg.should, &once)
		})
	}
	go func() {
		sent := map[string]bool{}
		var mu sync.Mutex
		deliver := func(cr conformance.CaseResult) {
			mu.Lock()
			defer mu.Unlock()
			if !sent[cr.ID] {
				sent[cr.ID] = true
				results[cr.ID] <- cr
			}
		}
		rep := conformance.Run(context.Background(), picked, opt, conformance.Config{OnCase: deliver})
		for _, cr := range rep.Cases {
			deliver(cr)
		}
	}()
}

// report turns a verdict into the subtest's outcome.
func report(t *testing.T, cr conformance.CaseResult, should bool, once *sync.Once) {
	t.Helper()
	enforced := cr.Level == scenarios.LevelMust || should
	for _, n := range cr.Notes {
		t.Log("note: " + n)
	}
	switch {
	case cr.Outcome != conformance.Fail && cr.Unobserved && enforced:
		once.Do(func() {
			t.Log("give kycsimtest.WithProber (or implement kycsimtest.Prober on the handler) to observe effects")
		})
		t.Errorf("%s %s could not be observed: %s", cr.Level, cr.ID, strings.Join(cr.UnobservedChecks, "; "))
	case cr.Outcome == conformance.Pass:
		for _, u := range cr.UnobservedChecks {
			t.Log("not observed: " + u)
		}
	case cr.Outcome == conformance.Skip:
		t.Skip(strings.Join(cr.Reasons, "; "))
	case !enforced:
		t.Logf("SHOULD %s not met (not enforced): %s", cr.ID, strings.Join(cr.Reasons, "; "))
	default:
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s: %s\nrule: %s (%s)\n", cr.Level, cr.ID, cr.Description, cr.Rule, cr.Source)
		for _, r := range cr.Reasons {
			fmt.Fprintf(&b, "  %s\n", r)
		}
		for _, s := range cr.Steps {
			if len(s.Failures) > 0 && len(s.Attempts) > 0 {
				b.WriteString(conformance.Exchange(s.Attempts[len(s.Attempts)-1]))
			}
		}
		t.Error(b.String())
	}
}

// probeHandler serves the probe protocol from a Prober: GET /{subject}
// answers {"events": N, "status": S}.
func probeHandler(p Prober) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		subject, err := url.PathUnescape(strings.TrimPrefix(r.URL.EscapedPath(), "/"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		n, status, known := p.Probe(subject)
		body := map[string]any{"events": n, "status": nil}
		if known {
			body["status"] = status
		}
		if dp, ok := p.(DecisionProber); ok {
			if d := dp.Decision(subject); d != "" {
				body["decision"] = d
			}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(body)
	})
}
