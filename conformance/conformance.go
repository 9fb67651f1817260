// Package conformance certifies a webhook receiver: it plays the
// conformance cases (scenarios with case metadata, under
// scenarios/conformance) against a target and turns each into a verdict:
// pass, fail, or skip when the target lacks the observer a case needs.
package conformance

import (
	"cmp"
	"context"
	"fmt"
	"path"
	"slices"
	"sync"
	"time"

	"github.com/kycsim/kycsim/scenarios"
	"github.com/kycsim/kycsim/simulator/delivery"
)

// Outcome is a case's verdict.
type Outcome string

// The outcomes.
const (
	Pass Outcome = "pass"
	Fail Outcome = "fail"
	Skip Outcome = "skip"
)

// CaseResult is the verdict on one case, with the evidence.
type CaseResult struct {
	ID          string   `json:"id"`
	Level       string   `json:"level"`
	Product     string   `json:"product"`
	Description string   `json:"description"`
	Rule        string   `json:"rule"`
	Source      string   `json:"source"`
	Outcome     Outcome  `json:"outcome"`
	Reasons     []string `json:"reasons,omitempty"` // failures, or why it was skipped
	// Notes say how the case was adapted to the receiver's declared
	// scope (an effect check dropped for a message it does not handle,
	// the message chosen for a case).
	Notes []string `json:"notes,omitempty"`
	// Unobserved is set on a case some of whose effect checks could not
	// be observed (no probe, no vendor API mock); UnobservedChecks says
	// which, and why. Its answer-level checks (2xx within the deadline,
	// refused, never 5xx) ran all the same: such a case passes or fails
	// on them, and is skipped only when it checks nothing else.
	Unobserved       bool     `json:"unobserved,omitempty"`
	UnobservedChecks []string `json:"unobservedChecks,omitempty"`
	// Capacity is set on a case that was not judged because the target
	// had no room for kycsim's requests (Report.Capacity): it is
	// skipped, its reasons say which check could not be made, and
	// failures that followed are notes, for they follow from it.
	Capacity bool                   `json:"capacity,omitempty"`
	Steps    []scenarios.StepResult `json:"steps"`
	Duration time.Duration          `json:"durationNs"`
	// Replays are the commands that replay the failed deliveries, one a
	// failed step that sent something (set by the command that ran the
	// case, which saved the bodies they send).
	Replays []Replay `json:"replays,omitempty"`
}

// Replay is a one-line command that replays one failed step's last
// attempt: the exact bytes (saved in BodyFile) and the headers that
// matter, to the same URL.
type Replay struct {
	// Step is the index of the step in CaseResult.Steps (0-based).
	Step     int    `json:"step"`
	Pos      string `json:"pos"`
	BodyFile string `json:"bodyFile"`
	Command  string `json:"command"`
}

// The kinds of report.
const (
	// KindConformance is a report of conformance cases (kycsim conform).
	KindConformance = "conformance"
	// KindScenarios is a report of scenarios (kycsim run): a result's ID
	// is the scenario's name, and its level, rule and source are empty.
	KindScenarios = "scenarios"
)

// Report is the outcome of a run.
type Report struct {
	// Kind is KindConformance (also when empty) or KindScenarios.
	Kind     string        `json:"kind,omitempty"`
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"durationNs"`
	Cases    []CaseResult  `json:"cases"`
	// Version is the kycsim version that made the report.
	Version string `json:"version"`
	// Targets maps each product to the receiver URL it was certified at.
	Targets map[string]string `json:"targets"`
	// Settings are the run's settings that shape verdicts (content
	// policy, handles, quiet window, settle, time scale, ...), as
	// name → value, secrets left out.
	Settings map[string]string `json:"settings"`
	// GaveUp says why the run stopped playing cases early ("" when it
	// did not): the target stopped answering altogether.
	GaveUp string `json:"gaveUp,omitempty"`
	// NeverAnswered is set when no attempt of the run got an answer.
	NeverAnswered bool `json:"neverAnswered,omitempty"`
	// AnsweredLate is set when the run gave up because the target's
	// answers kept coming after the vendor's deadline.
	AnsweredLate bool `json:"answeredLate,omitempty"`
	// Capacity says, per target host, that the target refused or dropped
	// connections while kycsim had several requests in flight: kycsim
	// then lowered its own concurrency and made those requests again
	// (delivery.Capacity), so that its own load is never charged to a
	// case. A finding with Lost > 0 left cases unjudged (CaseResult.Capacity).
	Capacity []delivery.CapacityFinding `json:"capacity,omitempty"`
	// Misdirected is set when every answer of the run was the same 404,
	// 405 or redirect (Config.DiagnoseTarget): the callbacks go to the
	// wrong place, and the cases say nothing about the receiver.
	Misdirected *Misdirection `json:"misdirected,omitempty"`
}

// CapacityLost counts the cases not judged for want of the target's
// capacity.
func (r *Report) CapacityLost() int {
	n := 0
	for _, c := range r.Cases {
		if c.Capacity {
			n++
		}
	}
	return n
}

// Counts returns how many cases passed, failed and were skipped.
func (r *Report) Counts() (pass, fail, skip int) {
	for _, c := range r.Cases {
		switch c.Outcome {
		case Pass:
			pass++
		case Fail:
			fail++
		default:
			skip++
		}
	}
	return
}

// Failed reports whether a case of an enforced level failed.
func (r *Report) Failed(enforced map[string]bool) bool {
	for _, c := range r.Cases {
		if c.Outcome == Fail && enforced[c.Level] {
			return true
		}
	}
	return false
}

// Incomplete counts the cases of an enforced level, not failed, some of
// whose effect checks could not be observed: the run proves nothing about
// those effects, and is not a pass.
func (r *Report) Incomplete(enforced map[string]bool) int {
	n := 0
	for _, c := range r.Cases {
		if c.Outcome != Fail && c.Unobserved && enforced[c.Level] {
			n++
		}
	}
	return n
}

// Unobserved counts the cases, not failed, some of whose effect checks
// could not be observed, and those checks.
func (r *Report) Unobserved() (cases, checks int) {
	for _, c := range r.Cases {
		if c.Outcome != Fail && c.Unobserved {
			cases++
			checks += len(c.UnobservedChecks)
		}
	}
	return cases, checks
}

// Select keeps the cases of the products whose id matches an only glob
// (all when none) and no skip glob (path.Match syntax: sumsub.reject.*).
func Select(cases []*scenarios.Scenario, products map[string]bool, only, skip []string) ([]*scenarios.Scenario, error) {
	var out []*scenarios.Scenario
	for _, sc := range cases {
		if products != nil && !products[sc.Product] {
			continue
		}
		in := len(only) == 0
		for _, g := range only {
			ok, err := path.Match(g, sc.Case.ID)
			if err != nil {
				return nil, err
			}
			in = in || ok
		}
		for _, g := range skip {
			ok, err := path.Match(g, sc.Case.ID)
			if err != nil {
				return nil, err
			}
			in = in && !ok
		}
		if in {
			out = append(out, sc)
		}
	}
	return out, nil
}

// Config says how Run plays the cases.
type Config struct {
	// Parallel is how many cases run at once (DefaultParallel when
	// zero). Each case has its own subjects and clock.
	Parallel int
	// Now is the report's clock (time.Now when nil).
	Now func() time.Time
	// OnCase, when set, is called as each case ends, in the order they
	// end (for progress); the report lists them in the given order.
	OnCase func(CaseResult)
	// GiveUpAfter is how many attempts in a row may get no answer at all
	// (a timeout, a refused connection) before the run stops playing
	// cases: the target has stopped answering (DefaultGiveUpAfter when
	// zero; negative never gives up).
	GiveUpAfter int
	// FailFast stops handing out cases after the first one fails: cases
	// in flight finish, and the rest are reported as skipped, with the
	// reason.
	FailFast bool
	// Finish, when set, completes each result before it is stored and
	// passed to OnCase (kycsim run attaches replay commands). Calls do
	// not overlap.
	Finish func(*CaseResult)
	// CapacityBudget bounds how long one request refused for want of the
	// target's room is made again (delivery.DefaultCapacityBudget when
	// zero).
	CapacityBudget time.Duration
	// DiagnoseTarget stops the run as soon as GiveUpAfter answers in a
	// row are all the same 404, 405 or redirect, and marks a run whose
	// every answer (at least 3) was so, in Report.Misdirected: a
	// certification run has no case that expects such answers from every
	// callback.
	DiagnoseTarget bool
}

// DefaultParallel is how many cases run at once by default.
const DefaultParallel = 8

// DefaultGiveUpAfter is how many unanswered attempts in a row end a run.
const DefaultGiveUpAfter = 12

// Run plays the cases, Parallel at a time, and reports each. When the
// target stops answering altogether, the cases not yet played are
// reported as failed without being played, and Report.GaveUp says why.
// With FailFast, the cases not yet handed out when one fails are
// reported as skipped.
func Run(ctx context.Context, cases []*scenarios.Scenario, opt scenarios.Options, cfg Config) *Report {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	rep := &Report{Started: now(), Cases: make([]CaseResult, len(cases))}
	start := time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rs := &runState{rep: rep, cfg: cfg, cancel: cancel, giveUp: cmp.Or(cfg.GiveUpAfter, DefaultGiveUpAfter)}
	opt.Dispatcher = rs.watch(opt.Dispatcher)
	// kycsim's own load is never charged to a case: the requests in
	// flight to a target are kept within what it can take.
	var capacity *delivery.Capacity
	if opt.Dispatcher != nil {
		capacity = opt.Dispatcher.Capacity
		if capacity == nil {
			capacity = delivery.NewCapacity()
			capacity.Budget = cfg.CapacityBudget
			opt.Dispatcher.Capacity = capacity
		}
	}

	work := make(chan int)
	var wg sync.WaitGroup
	for range min(cmp.Or(cfg.Parallel, DefaultParallel), max(1, len(cases))) {
		wg.Go(func() {
			for i := range work {
				rs.play(ctx, i, cases[i], opt)
			}
		})
	}
	for _, i := range startOrder(cases) {
		if ctx.Err() != nil {
			rs.mu.Lock()
			rep.Cases[i] = notPlayed(cases[i], "not played: "+cmp.Or(rep.GaveUp, "cancelled"))
			rs.mu.Unlock()
			continue
		}
		work <- i
	}
	close(work)
	wg.Wait()
	if cfg.DiagnoseTarget && rep.Misdirected == nil {
		rep.Misdirected = rs.target.misdirection(minMisdirectedAnswers)
	}
	rep.Duration = time.Since(start)
	if capacity != nil {
		rep.Capacity = capacity.Findings()
	}
	return rep
}

// startOrder is the order in which Run starts the cases: the longest
// first (by clock span, then by number of steps), so that a long case
// does not start last and hold up the end of the run. Reports keep the
// given order.
func startOrder(cases []*scenarios.Scenario) []int {
	type key struct {
		span  time.Duration
		steps int
	}
	keys := make([]key, len(cases))
	order := make([]int, len(cases))
	for i, sc := range cases {
		keys[i], order[i] = key{sc.Span(), len(sc.Steps)}, i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Or(cmp.Compare(keys[b].span, keys[a].span), cmp.Compare(keys[b].steps, keys[a].steps))
	})
	return order
}

// runState is what the workers of a Run share.
type runState struct {
	mu         sync.Mutex
	rep        *Report
	cfg        Config
	cancel     context.CancelFunc
	giveUp     int
	target     targetWatch
	unanswered int    // attempts in a row without an answer
	answered   bool   // any attempt got an answer
	stopped    string // why FailFast stopped handing out cases
}

// watch returns a dispatcher like d that counts the attempts without an
// answer, and gives up on the target when too many come in a row.
func (rs *runState) watch(d *delivery.Dispatcher) *delivery.Dispatcher {
	if d == nil {
		return nil
	}
	w := d.WithClock(d.Clock)
	prev := w.OnAttempt
	w.OnAttempt = func(a delivery.Attempt) {
		if prev != nil {
			prev(a)
		}
		rs.attempted(a)
	}
	return w
}

// attempted counts an attempt towards giving up.
func (rs *runState) attempted(a delivery.Attempt) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if a.Capacity {
		return // the target was short of room for kycsim's load: it did answer others
	}
	if a.GotAnswer() {
		rs.unanswered, rs.answered = 0, true
		rs.target.observe(a)
		rs.diagnose(a)
		return
	}
	rs.unanswered++
	if rs.giveUp > 0 && rs.unanswered >= rs.giveUp && rs.rep.GaveUp == "" {
		rs.rep.GaveUp = fmt.Sprintf("the target stopped answering: %d attempts in a row got no answer (the last: %s)", rs.unanswered, a.Err)
		rs.rep.NeverAnswered = !rs.answered
		rs.cancel()
	}
}

// diagnose stops the run when the answers so far show a misconfigured
// target: the same 404, 405 or redirect every time (with
// Config.DiagnoseTarget), or every answer after the deadline. rs.mu is
// held.
func (rs *runState) diagnose(a delivery.Attempt) {
	if rs.giveUp <= 0 || rs.rep.GaveUp != "" {
		return
	}
	if m := rs.target.misdirection(rs.giveUp); m != nil && rs.cfg.DiagnoseTarget {
		rs.rep.Misdirected = m
		rs.rep.GaveUp = m.Hint("the target URL")
		rs.cancel()
		return
	}
	if rs.target.late >= rs.giveUp {
		rs.rep.GaveUp, rs.rep.AnsweredLate = lateMessage(rs.target.late, a), true
		rs.cancel()
	}
}

// play plays case i, unless FailFast has stopped the run, and stores its
// verdict.
func (rs *runState) play(ctx context.Context, i int, sc *scenarios.Scenario, opt scenarios.Options) {
	rs.mu.Lock()
	stopped := rs.stopped
	rs.mu.Unlock()
	if stopped != "" {
		cr := caseResult(sc)
		cr.Outcome, cr.Reasons = Skip, []string{stopped}
		rs.store(i, cr)
		return
	}
	cr := Play(ctx, sc, opt)
	rs.mu.Lock()
	gaveUp := rs.rep.GaveUp
	rs.mu.Unlock()
	if gaveUp != "" && cr.Outcome != Pass {
		cr = notPlayed(sc, "not finished: "+gaveUp)
	}
	rs.store(i, cr)
}

// store completes a verdict (Finish), keeps it and reports it (OnCase).
func (rs *runState) store(i int, cr CaseResult) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if cr.Outcome == Fail && rs.cfg.FailFast && rs.stopped == "" {
		rs.stopped = "not played: the run stopped at the first failure (" + cr.ID + ")"
	}
	if rs.cfg.Finish != nil {
		rs.cfg.Finish(&cr)
	}
	rs.rep.Cases[i] = cr
	if rs.cfg.OnCase != nil {
		rs.cfg.OnCase(cr)
	}
}

// notPlayed is the verdict on a case the run could not play.
func notPlayed(sc *scenarios.Scenario, reason string) CaseResult {
	cr := caseResult(sc)
	cr.Outcome, cr.Reasons = Fail, []string{reason}
	return cr
}

// caseResult starts the verdict on a case; a scenario that is not a
// conformance case is named by its name, with no level, rule or source.
func caseResult(sc *scenarios.Scenario) CaseResult {
	cr := CaseResult{ID: sc.Name, Product: sc.Product, Description: sc.Description, Outcome: Pass}
	if c := sc.Case; c != nil {
		cr.ID, cr.Level, cr.Rule, cr.Source = c.ID, c.Level, c.Rule, c.Source
	}
	return cr
}

// Play plays one case (or a scenario that is not a case) and turns its
// result into a verdict: fail when an expectation failed; skip when the
// case does not apply to the receiver's scope, or when every check it has
// could not be observed; pass otherwise. Effect checks that could not be
// be observed are listed (Unobserved) whatever the verdict: the answers
// were checked all the same.
func Play(ctx context.Context, sc *scenarios.Scenario, opt scenarios.Options) CaseResult {
	res := scenarios.Run(ctx, sc, opt)
	cr := caseResult(sc)
	cr.Steps, cr.Duration = res.Steps, res.Duration
	if res.NotApplicable != "" {
		cr.Outcome, cr.Reasons = Skip, []string{"not applicable: " + res.NotApplicable}
		return cr
	}
	for _, st := range res.Steps {
		cr.Reasons = append(cr.Reasons, st.Failures...)
		cr.Notes = append(cr.Notes, st.Notes...)
	}
	// A check the target had no room for leaves the case unjudged: what
	// failed from that step on follows from it, and is noted; failures
	// before it stand.
	for i, st := range res.Steps {
		if len(st.Capacity) == 0 {
			continue
		}
		var before, after []string
		for j, s := range res.Steps {
			if j < i {
				before = append(before, s.Failures...)
			} else {
				after = append(after, s.Failures...)
			}
		}
		if len(before) > 0 {
			cr.Reasons = before
			break
		}
		cr.Outcome, cr.Capacity = Skip, true
		cr.Reasons = append([]string{"not judged: the target had no room for kycsim's requests (see the capacity finding)"}, st.Capacity...)
		for _, f := range after {
			cr.Notes = append(cr.Notes, "follows from the missing capacity: "+f)
		}
		return cr
	}
	checked := 0
	for _, st := range res.Steps {
		checked += st.Checked
		cr.UnobservedChecks = append(cr.UnobservedChecks, st.Skipped...)
	}
	cr.Unobserved = len(cr.UnobservedChecks) > 0
	if len(cr.Reasons) > 0 {
		cr.Outcome = Fail
		return cr
	}
	if cr.Unobserved && checked == 0 {
		cr.Outcome, cr.Reasons = Skip, slices.Clone(cr.UnobservedChecks)
	}
	return cr
}

// The source modes of a receiver's Jumio allowlist.
const (
	// SourceDirect: the receiver sees the sender's address; foreign
	// callbacks are sent from the foreign loopback address.
	SourceDirect = "direct"
	// SourceProxy: the receiver sits behind a proxy and reads the last
	// X-Forwarded-For entry; every Jumio callback carries one, a Jumio
	// address for the genuine ones and the foreign address for the rest.
	SourceProxy = "proxy"
)

// jumioAddress is the Jumio callback address proxy-mode runs forward.
const jumioAddress = "34.202.241.227"

// SourceVars returns the run variables the source cases use, and the
// X-Forwarded-For every other Jumio callback carries, for a source mode.
func SourceVars(mode, foreign string) (map[string]string, string) {
	if mode == SourceProxy {
		return map[string]string{
			"from-foreign": "", "xff-foreign": foreign, "xff-spoof": jumioAddress + ", " + foreign,
		}, jumioAddress
	}
	return map[string]string{"from-foreign": foreign, "xff-foreign": "", "xff-spoof": jumioAddress}, ""
}
