package sandbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/kycsim/kycsim/simulator"
	"github.com/kycsim/kycsim/simulator/delivery"
	"github.com/kycsim/kycsim/simulator/sandbox"
	"github.com/kycsim/kycsim/simulator/sandbox/sandboxtest"
	"github.com/kycsim/kycsim/simulator/sandbox/sqlite"
	"github.com/kycsim/kycsim/simulator/signing"
)

func TestOutcome(t *testing.T) {
	t0 := sandboxtest.T0
	d := &sandbox.Delivery{Lease: 7, Policy: delivery.RetryPolicy{Delays: []time.Duration{time.Minute, time.Hour}}}
	for _, tc := range []struct {
		a     sandbox.Attempt
		state sandbox.DeliveryState
		next  time.Time
	}{
		{sandbox.Attempt{Number: 1, Status: 200}, sandbox.Delivered, time.Time{}},
		{sandbox.Attempt{Number: 1, Status: 299}, sandbox.Delivered, time.Time{}},
		{sandbox.Attempt{Number: 1, Status: 500}, sandbox.Pending, t0.Add(time.Minute)},
		{sandbox.Attempt{Number: 2, Status: 302}, sandbox.Pending, t0.Add(time.Hour)},
		{sandbox.Attempt{Number: 2, Err: "no answer"}, sandbox.Pending, t0.Add(time.Hour)},
		{sandbox.Attempt{Number: 3, Status: 404}, sandbox.Failed, time.Time{}},
		// A 2xx whose body could not be read is not an acknowledgement.
		{sandbox.Attempt{Number: 3, Status: 200, Err: "reading the answer: reset"}, sandbox.Failed, time.Time{}},
		{sandbox.Attempt{Number: 3, Status: 201}, sandbox.Delivered, time.Time{}},
	} {
		o := d.Outcome(tc.a, t0)
		if o.State != tc.state || !o.NextAttemptAt.Equal(tc.next) || o.Lease != 7 {
			t.Errorf("Outcome(%+v) = %s at %v (lease %d), want %s at %v", tc.a, o.State, o.NextAttemptAt, o.Lease, tc.state, tc.next)
		}
	}
}

func TestNewDeliverySignsSumsub(t *testing.T) {
	body := []byte(`{"applicantId":"a1","type":"applicantReviewed"}`)
	c := simulator.Callback{Product: "sumsub", Message: "applicantReviewed", Subject: "a1", ContentType: "application/json",
		Body: body, Sign: simulator.Signing{Secret: "s3cr3t", Algorithm: signing.SHA512}}
	d, err := sandbox.NewDelivery("a1", c, "http://127.0.0.1:9000/sumsub", delivery.PolicyFor("sumsub", "applicantReviewed"), sandboxtest.T0)
	if err != nil {
		t.Fatal(err)
	}
	want, err := signing.Sign(signing.SHA512, "s3cr3t", body)
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Header.Get(signing.DigestHeader); got != want {
		t.Errorf("digest = %q, want %q", got, want)
	}
	if d.Header.Get(signing.AlgorithmHeader) != string(signing.SHA512) || d.Header.Get("Content-Type") != "application/json" {
		t.Errorf("headers = %v", d.Header)
	}
	if d.VerificationID != "a1" || d.Policy.Name != delivery.SumsubPolicy.Name || !d.NextAttemptAt.Equal(sandboxtest.T0) {
		t.Errorf("delivery = %+v", d)
	}
	if r := d.Request(); len(r.Policy.Delays) != 0 || r.Policy.AnswerTimeout != delivery.SumsubPolicy.AnswerTimeout {
		t.Errorf("the attempt's policy = %v, want the answer deadline and no retries", r.Policy)
	}
	if _, err := sandbox.NewDelivery("a1", c, "file:///etc/passwd", delivery.SumsubPolicy, time.Time{}); sandbox.ErrorCode(err) != sandbox.EINVALID {
		t.Errorf("a file: URL: %v, want EINVALID", err)
	}
}

func TestFastClock(t *testing.T) {
	start := sandboxtest.T0
	c := sandbox.NewFastClock(start, 0.001)
	before := time.Now()
	if err := c.Sleep(context.Background(), 2*time.Second); err != nil { // 2 ms of real time
		t.Fatal(err)
	}
	real := time.Since(before)
	got := c.Now().Sub(start)
	// At least the wait has passed on the clock, and no more than the
	// real time elapsed (plus a little), scaled.
	if got < 2*time.Second || got > time.Duration(float64(real+time.Millisecond)*1000) {
		t.Errorf("after sleeping 2s at factor 0.001 (%v real): the clock moved %v", real, got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep with a cancelled context = %v", err)
	}
}

// TestFastClockAdvanceTo checks that a clock moves on to a later
// high-water mark, never back to an earlier one, and keeps its pace.
func TestFastClockAdvanceTo(t *testing.T) {
	c := sandbox.NewFastClock(sandboxtest.T0, 1)
	if c.AdvanceTo(sandboxtest.T0.Add(-time.Hour)) {
		t.Error("AdvanceTo an earlier time moved the clock")
	}
	if got := c.Now(); got.Before(sandboxtest.T0) || got.After(sandboxtest.T0.Add(time.Minute)) {
		t.Errorf("after AdvanceTo an earlier time the clock reads %v", got)
	}
	mark := sandboxtest.T0.Add(time.Hour)
	if !c.AdvanceTo(mark) {
		t.Error("AdvanceTo a later time did not move the clock")
	}
	if got := c.Now(); got.Before(mark) || got.After(mark.Add(time.Minute)) {
		t.Errorf("after AdvanceTo(%v) the clock reads %v", mark, got)
	}
	if c.AdvanceTo(mark) {
		t.Error("AdvanceTo the time it already passed moved the clock")
	}
}

func TestUpdateStopsOnError(t *testing.T) {
	ctx := context.Background()
	db := sqlite.NewDB(sqlite.Memory)
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := sandbox.Update(ctx, db, "nope", nil); sandbox.ErrorCode(err) != sandbox.ENOTFOUND {
		t.Errorf("Update of an unknown verification = %v, want ENOTFOUND", err)
	}
	if err := db.CreateVerification(ctx, sandboxtest.NewVerification("wx-1")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	_, err := sandbox.Update(ctx, db, "wx-1", func(v *sandbox.Verification) ([]*sandbox.Delivery, error) {
		v.Status = "PROCESSED"
		return nil, boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("Update = %v, want fn's error", err)
	}
	v, err := db.Verification(ctx, "wx-1")
	if err != nil || v.Status != "INITIATED" || v.Version != 1 {
		t.Errorf("after a failed fn: %+v, %v; want it unchanged", v, err)
	}
	v, err = sandbox.Update(ctx, db, "wx-1", func(v *sandbox.Verification) ([]*sandbox.Delivery, error) {
		v.Status, v.State = "PROCESSED", json.RawMessage(`{"decision":{"type":"PASSED"}}`)
		return []*sandbox.Delivery{sandboxtest.NewDelivery("", 1, sandboxtest.T0)}, nil
	})
	if err != nil || v.Version != 2 {
		t.Fatalf("Update = %+v, %v", v, err)
	}
}

func TestErrorCode(t *testing.T) {
	nf := sandbox.Errorf(sandbox.ENOTFOUND, "delivery %d not found", 3)
	for _, tc := range []struct {
		err        error
		code, text string
	}{
		{nil, "", ""},
		{nf, sandbox.ENOTFOUND, "delivery 3 not found"},
		{fmt.Errorf("read delivery 3: %w", nf), sandbox.ENOTFOUND, "delivery 3 not found"},
		{errors.New("sql: database is locked"), sandbox.EINTERNAL, "internal error"},
	} {
		if code, text := sandbox.ErrorCode(tc.err), sandbox.ErrorMessage(tc.err); code != tc.code || text != tc.text {
			t.Errorf("%v: code %q message %q, want %q %q", tc.err, code, text, tc.code, tc.text)
		}
	}
}
