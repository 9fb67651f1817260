// Package conformance certifies a webhook receiver: it plays the
// conformance cases (scenarios with case metadata, under
// scenarios/conformance) against a target and turns each into a verdict:
// pass, fail, or skip when the target lacks the observer a case needs.
package conformance

import (
	"context"
	"path"
	"time"

	"github.com/kycsim/kycsim/scenarios"
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
	ID          string                 `json:"id"`
	Level       string                 `json:"level"`
	Product     string                 `json:"product"`
	Description string                 `json:"description"`
	Rule        string                 `json:"rule"`
	Source      string                 `json:"source"`
	Outcome     Outcome                `json:"outcome"`
	Reasons     []string               `json:"reasons,omitempty"` // failures, or why it was skipped
	// Notes say how the case was adapted to the receiver's declared
	// scope (an effect check dropped for a message it does not handle,
	// the message chosen for a case).
	Notes []string `json:"notes,omitempty"`
	Steps       []scenarios.StepResult `json:"steps"`
	Duration    time.Duration          `json:"durationNs"`
}

// Report is the outcome of a run.
type Report struct {
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

// Run plays the cases in order and reports each; onCase, when set, is
// called as each case ends (for progress).
func Run(ctx context.Context, cases []*scenarios.Scenario, opt scenarios.Options, now func() time.Time, onCase func(CaseResult)) *Report {
	if now == nil {
		now = time.Now
	}
	rep := &Report{Started: now()}
	start := time.Now()
	for _, sc := range cases {
		if ctx.Err() != nil {
			break
		}
		res := scenarios.Run(ctx, sc, opt)
		cr := CaseResult{
			ID: sc.Case.ID, Level: sc.Case.Level, Product: sc.Product, Description: sc.Description,
			Rule: sc.Case.Rule, Source: sc.Case.Source, Steps: res.Steps, Duration: res.Duration, Outcome: Pass,
		}
		for _, st := range res.Steps {
			for _, f := range st.Failures {
				cr.Reasons = append(cr.Reasons, f)
				cr.Outcome = Fail
			}
		}
		if cr.Outcome == Pass {
			for _, st := range res.Steps {
				for _, s := range st.Skipped {
					cr.Reasons = append(cr.Reasons, s)
					cr.Outcome = Skip
				}
			}
		}
		rep.Cases = append(rep.Cases, cr)
		if onCase != nil {
			onCase(cr)
		}
	}
	rep.Duration = time.Since(start)
	return rep
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
