package scenarios

import (
	"errors"
	"fmt"
	"time"

	"io/fs"
	"path"
	"strings"

	"github.com/kycsim/kycsim/simulator"
	"github.com/kycsim/kycsim/simulator/delivery"
	"github.com/kycsim/kycsim/spec"
)

// Planner plans scenarios by name for the sandbox: the built-in library
// and the sandbox's own scenarios. It implements simulator.Planner.
type Planner struct {
	cat    *spec.Catalog
	byName map[string]*Scenario
}

var _ simulator.Planner = (*Planner)(nil)

// NewPlanner returns a Planner of the built-in library and of the YAML
// files at the top of extra (nil for none), each named prefix plus its
// file stem.
func NewPlanner(cat *spec.Catalog, extra fs.FS, prefix string) (*Planner, error) {
	lib, err := Library(cat)
	if err != nil {
		return nil, fmt.Errorf("planner: %w", err)
	}
	p := &Planner{cat: cat, byName: make(map[string]*Scenario, len(lib)+8)}
	for _, sc := range lib {
		p.byName[sc.Name] = sc
	}
	if extra == nil {
		return p, nil
	}
	entries, err := fs.ReadDir(extra, ".")
	if err != nil {
		return nil, fmt.Errorf("planner: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != ".yaml" {
			continue
		}
		data, err := fs.ReadFile(extra, e.Name())
		if err != nil {
			return nil, fmt.Errorf("planner: %w", err)
		}
		sc, err := Load(e.Name(), data, cat)
		if err != nil {
			return nil, fmt.Errorf("planner: %w", err)
		}
		sc.Name = prefix + strings.TrimSuffix(e.Name(), ".yaml")
		p.byName[sc.Name] = sc
	}
	return p, nil
}

// Has implements simulator.Planner.
func (p *Planner) Has(name string) bool { return p.byName[name] != nil }

// Plan implements simulator.Planner: it plans the named scenario with
// PlanScenario.
func (p *Planner) Plan(name string, req simulator.PlanRequest) (*simulator.Plan, error) {
	sc := p.byName[name]
	if sc == nil {
		return nil, fmt.Errorf("%w: %s", simulator.ErrNoScenario, name)
	}
	opt := Options{
		Catalog: p.cat, URLs: map[string]string{req.Product: req.URL},
		Secret: req.Secret, Algorithm: req.Algorithm,
		VendorBase: req.VendorBase, Vars: map[string]string{"subject": req.Subject},
		AccountID: req.AccountID, Fields: req.Fields,
	}
	return PlanScenario(sc, opt, req.Start)
}

// Planned and Plan are simulator's: a plan is what the sandbox writes to
// its outbox.
type (
	Planned = simulator.Planned
	Plan    = simulator.Plan
)

// PlanScenario plays a scenario on a clock of its own that starts at
// start and moves on by the scenario's waits at once, and returns the
// callbacks it would send instead of sending them: what a sandbox writes
// to its outbox, each callback due at its time. Expectations are not
// checked (there is no receiver to watch) and delivery options that only
// a test harness has (a bound source address, a forwarded-for header)
// are kept in the requests. opt.Vars["subject"], when set, is the
// subject; opt.Dispatcher is not used.
func PlanScenario(sc *Scenario, opt Options, start time.Time) (*Plan, error) {
	r := &runner{sc: sc, opt: opt, sent: map[string]*sent{}, to: map[string][]string{}}
	p, err := opt.Catalog.Product(sc.Product)
	if err != nil {
		return nil, err
	}
	r.p = p
	if _, ok := opt.URLs[sc.Product]; !ok {
		return nil, fmt.Errorf("plan %s: no target URL for %s", sc.Name, sc.Product)
	}
	clock := delivery.NewFakeClock(start)
	r.opt.Dispatcher = delivery.NewDispatcher(clock, nil)
	if r.vars, err = r.resolveVars(); err != nil {
		var na *notApplicableError
		if errors.As(err, &na) {
			return nil, fmt.Errorf("plan %s: %s", sc.Name, na.msg)
		}
		return nil, fmt.Errorf("plan %s: %w", sc.Name, err)
	}
	if s, ok := opt.Vars["subject"]; ok {
		r.vars["subject"] = s
	}
	plan := &Plan{Subject: r.vars["subject"]}
	if err := r.plan(plan, clock, sc.Steps, 0); err != nil {
		return nil, fmt.Errorf("plan %s: %w", sc.Name, err)
	}
	plan.End = clock.Now()
	return plan, nil
}

// plan walks steps, adding their callbacks to the plan.
func (r *runner) plan(plan *Plan, clock *delivery.FakeClock, steps []Step, depth int) error {
	for i := range steps {
		st := &steps[i]
		switch st.Kind {
		case KindWait:
			clock.Advance(st.Wait)
		case KindVendorState:
			vs := *st.VendorState
			plan.State = &vs
		case KindParallel:
			if err := r.plan(plan, clock, st.Parallel, depth+1); err != nil {
				return err
			}
		case KindSend:
			s := st.Send
			subject := r.subject(s.Subject)
			message := r.expand(s.Message)
			ev, body, err := r.build(s, subject, r.rand("step", i+1, depth))
			if err != nil {
				return fmt.Errorf("%s: build %s: %w", st.Pos, message, err)
			}
			req, err := r.request(message, subject, body, s.Sign, s.Delivery)
			if err != nil {
				return fmt.Errorf("%s: %w", st.Pos, err)
			}
			if st.ID != "" {
				r.sent[st.ID] = &sent{ev: ev, send: s, subject: subject, body: body, req: req}
			}
			plan.Callbacks = append(plan.Callbacks, Planned{At: clock.Now(), Request: req, Event: ev})
		case KindRedeliver:
			prev := r.sent[st.Redeliver.Step]
			if prev == nil {
				return fmt.Errorf("%s: step %q has sent nothing to redeliver", st.Pos, st.Redeliver.Step)
			}
			req, ev := prev.req, prev.ev
			if st.Redeliver.Restamp && ev != nil {
				ev = ev.Clone()
				if err := restamp(ev, clock.Now, prev.send.Precision); err != nil {
					return fmt.Errorf("%s: re-stamp: %w", st.Pos, err)
				}
				var err error
				if req, err = r.request(r.expand(prev.send.Message), prev.subject, ev.Body(), prev.send.Sign, prev.send.Delivery); err != nil {
					return fmt.Errorf("%s: %w", st.Pos, err)
				}
			}
			req.Header = req.Header.Clone()
			plan.Callbacks = append(plan.Callbacks, Planned{At: clock.Now(), Request: req, Event: ev})
		case KindExpect:
			// Nothing to watch in a plan.
		}
	}
	return nil
}
