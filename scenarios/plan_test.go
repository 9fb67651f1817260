package scenarios

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/kycsim/kycsim/simulator"
	"github.com/kycsim/kycsim/spec"
)

func TestPlanScenario(t *testing.T) {
	cat, err := spec.Default()
	if err != nil {
		t.Fatal(err)
	}
	lib, err := Library(cat)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*Scenario{}
	for _, sc := range lib {
		byName[sc.Name] = sc
	}
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	const subject, account = "8f3c2b1a-1111-4222-8333-944445555666", "0a1b2c3d-1111-4222-8333-944445555666"
	opt := Options{Catalog: cat, URLs: map[string]string{"jumio-kyx": "http://127.0.0.1:9/kyx"}, VendorBase: "http://127.0.0.1:8089",
		Vars: map[string]string{"subject": subject}, AccountID: account, Fields: map[string]any{"workflowExecution.definitionKey": "4242"}}
	plan, err := PlanScenario(byName["jumio-kyx/happy-path"], opt, start)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		msg string
		at  time.Duration
	}{{"ACQUISITION_STARTED", 0}, {"ACQUIRED", 3 * time.Minute}, {"PROCESSED", 4 * time.Minute}}
	if len(plan.Callbacks) != len(want) {
		t.Fatalf("%d callbacks, want %d", len(plan.Callbacks), len(want))
	}
	for i, w := range want {
		c := plan.Callbacks[i]
		if c.Request.Message != w.msg || !c.At.Equal(start.Add(w.at)) {
			t.Errorf("callback %d: %s at %s, want %s at %s", i, c.Request.Message, c.At, w.msg, start.Add(w.at))
		}
		for _, part := range []string{subject, account, `"4242"`, "http://127.0.0.1:8089/api/v1/accounts/" + account} {
			if !bytes.Contains(c.Request.Body, []byte(part)) {
				t.Errorf("callback %d lacks %s: %s", i, part, c.Request.Body)
			}
		}
		// The callback is dated when it is due.
		if !bytes.Contains(c.Request.Body, []byte(c.At.Format("2006-01-02T15:04:05"))) {
			t.Errorf("callback %d is not dated %s: %s", i, c.At, c.Request.Body)
		}
	}
	if plan.State == nil || plan.State.Decision != "PASSED" || plan.Subject != subject || !plan.End.Equal(start.Add(4*time.Minute)) {
		t.Errorf("plan: state %+v, subject %s, end %s", plan.State, plan.Subject, plan.End)
	}
	if _, err := PlanScenario(byName["jumio-kyx/happy-path"], Options{Catalog: cat, URLs: map[string]string{}}, start); err == nil {
		t.Error("a plan without a target URL succeeded")
	}
}

// TestPlanner plans the built-in library and extra files by name, as the
// sandbox asks (simulator.Planner), and names what it does not know.
func TestPlanner(t *testing.T) {
	cat, err := spec.Default()
	if err != nil {
		t.Fatal(err)
	}
	extra := fstest.MapFS{
		"kyx-started.yaml": {Data: []byte("product: jumio-kyx\ndescription: started\nsteps:\n  - send: ACQUISITION_STARTED\n")},
		"notes.txt":        {Data: []byte("not a scenario")},
	}
	p, err := NewPlanner(cat, extra, "sandbox/")
	if err != nil {
		t.Fatal(err)
	}
	if !p.Has("sandbox/kyx-started") || !p.Has("jumio-kyx/happy-path") || p.Has("sandbox/notes") {
		t.Errorf("Has: sandbox/kyx-started %v, jumio-kyx/happy-path %v, sandbox/notes %v",
			p.Has("sandbox/kyx-started"), p.Has("jumio-kyx/happy-path"), p.Has("sandbox/notes"))
	}
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	plan, err := p.Plan("sandbox/kyx-started", simulator.PlanRequest{Product: "jumio-kyx", URL: "http://127.0.0.1:9/kyx",
		Subject: "8f3c2b1a-1111-4222-8333-944445555666", Start: start})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Callbacks) != 1 || plan.Callbacks[0].Request.Message != "ACQUISITION_STARTED" || plan.Subject != "8f3c2b1a-1111-4222-8333-944445555666" {
		t.Errorf("plan: %+v", plan)
	}
	if _, err := p.Plan("sandbox/nothing", simulator.PlanRequest{Product: "jumio-kyx", URL: "http://127.0.0.1:9/", Start: start}); !errors.Is(err, simulator.ErrNoScenario) {
		t.Errorf("an unknown name: %v, want simulator.ErrNoScenario", err)
	}
	bad := fstest.MapFS{"bad.yaml": {Data: []byte("product: nobody\n")}}
	if _, err := NewPlanner(cat, bad, "sandbox/"); err == nil || !strings.Contains(err.Error(), "bad.yaml:1:") {
		t.Errorf("a bad extra file: %v, want its file:line", err)
	}
}
