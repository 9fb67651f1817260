package scenarios

import (
	"bytes"
	"testing"
	"time"

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
