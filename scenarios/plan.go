package scenarios

import (
	"errors"
	"fmt"
	"time"

	"github.com/kycsim/kycsim/simulator/delivery"
	"github.com/kycsim/kycsim/simulator/event"
)

// Planned is one callback of a plan: built, signed and addressed as the
// scenario says, due At on the plan's clock.
type Planned struct {
	At      time.Time
	Request delivery.Request
	// Event is the built payload (nil for a raw body), for a caller that
	// wants to keep what the callback said (a reject reason, a review).
	Event *event.Event
}

// Plan is what a scenario makes a vendor do, without doing it: the
// callbacks it sends, when, and the vendor state it records last.
type Plan struct {
	Subject   string
	Callbacks []Planned
	// State is the last vendor-state step of the scenario (nil when it
	// has none).
	State *VendorState
	// End is the plan's clock after its last step.
	End time.Time
}

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
