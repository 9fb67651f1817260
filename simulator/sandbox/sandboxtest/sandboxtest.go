// Package sandboxtest holds the behaviours every sandbox.Store must show,
// as one test function a Store's package runs against its own
// implementation (the SQLite store now, a PostgreSQL one later):
//
//	func TestStore(t *testing.T) {
//		sandboxtest.TestStore(t, func(t *testing.T) sandbox.Store { return openTestDB(t) })
//	}
package sandboxtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kycsim/kycsim/simulator/delivery"
	"github.com/kycsim/kycsim/simulator/sandbox"
)

// T0 is the sandbox time the tests start at; W0 the wall time. Both are
// whole microseconds, the precision a Store must keep at least.
var (
	T0 = time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC)
	W0 = time.Date(2026, 3, 4, 12, 0, 0, 654321000, time.UTC)
)

// Policy is the retry policy of the deliveries the tests make.
var Policy = delivery.RetryPolicy{
	Name:           "test",
	ConnectTimeout: time.Second,
	AnswerTimeout:  2 * time.Second,
	Delays:         []time.Duration{time.Minute, 5 * time.Minute},
}

// NewDelivery returns a valid delivery numbered n, due at at, for
// verification vid (may be ""). Its URL is never contacted by the tests.
func NewDelivery(vid string, n int, at time.Time) *sandbox.Delivery {
	return &sandbox.Delivery{
		VerificationID: vid,
		Product:        "sumsub", Message: "applicantReviewed", Subject: fmt.Sprintf("subject-%d", n),
		URL:    "http://127.0.0.1:9/callback",
		Header: http.Header{"Content-Type": {"application/json"}, "X-Payload-Digest": {fmt.Sprintf("%064x", n)}},
		Body:   []byte(fmt.Sprintf(`{"n":%d}`, n)),
		From:   netip.MustParseAddr("127.0.0.2"),
		Policy: Policy, NextAttemptAt: at,
	}
}

// NewVerification returns a valid verification with the id.
func NewVerification(id string) *sandbox.Verification {
	return &sandbox.Verification{
		ID: id, Product: "jumio-kyx", AccountID: "acc-" + id, ExternalRef: "ref-" + id,
		Status: "INITIATED", State: json.RawMessage(`{"decision":{"type":"NOT_EXECUTED"}}`),
		CallbackURL: "http://127.0.0.1:9/jumio", CreatedAt: T0, UpdatedAt: T0, ExpiresAt: T0.Add(30 * time.Minute),
	}
}

// TestStore runs every behaviour as a subtest, each on a fresh empty store
// from newStore (which closes it with t.Cleanup).
func TestStore(t *testing.T, newStore func(t *testing.T) sandbox.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s sandbox.Store)
	}{
		{"VerificationRoundTrip", testVerificationRoundTrip},
		{"VerificationIDTaken", testVerificationIDTaken},
		{"SumsubExternalRefTaken", testSumsubExternalRefTaken},
		{"VerificationInvalid", testVerificationInvalid},
		{"VerificationNotFound", testVerificationNotFound},
		{"UpdateOptimistic", testUpdateOptimistic},
		{"UpdateConcurrent", testUpdateConcurrent},
		{"CreateEnqueuesAtomically", testCreateEnqueuesAtomically},
		{"VerificationsFilter", testVerificationsFilter},
		{"EnqueueRoundTrip", testEnqueueRoundTrip},
		{"EnqueueInvalid", testEnqueueInvalid},
		{"ClaimDueInOrder", testClaimDueInOrder},
		{"ClaimLeases", testClaimLeases},
		{"NextDue", testNextDue},
		{"RecordRetry", testRecordRetry},
		{"RecordFinishes", testRecordFinishes},
		{"RecordLostLease", testRecordLostLease},
		{"RecordInvalid", testRecordInvalid},
		{"Resend", testResend},
		{"DeliveriesFilter", testDeliveriesFilter},
		{"ConcurrentClaims", testConcurrentClaims},
		{"CancelledContext", testCancelledContext},
		{"ClockHighWater", testClockHighWater},
		{"ReplicaNames", testReplicaNames},
	}
	tests = append(tests, partTests...)
	tests = append(tests, documentTests...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
}

func testVerificationRoundTrip(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	v := NewVerification("wx-1")
	if err := s.CreateVerification(ctx, v); err != nil {
		t.Fatal(err)
	}
	if v.Version != 1 {
		t.Errorf("Version = %d after create, want 1", v.Version)
	}
	got, err := s.Verification(ctx, "wx-1")
	if err != nil {
		t.Fatal(err)
	}
	checkVerification(t, got, v)

	// Zero times are filled in; an empty state reads back as {}; a zero
	// expiry stays zero.
	bare := &sandbox.Verification{ID: "wx-2", Product: "sumsub", Status: "init"}
	if err := s.CreateVerification(ctx, bare); err != nil {
		t.Fatal(err)
	}
	got, err = s.Verification(ctx, "wx-2")
	if err != nil {
		t.Fatal(err)
	}
	if got.CreatedAt.IsZero() || got.UpdatedAt.IsZero() {
		t.Errorf("times not filled in: created %v, updated %v", got.CreatedAt, got.UpdatedAt)
	}
	if !got.ExpiresAt.IsZero() {
		t.Errorf("ExpiresAt = %v, want zero", got.ExpiresAt)
	}
	if !jsonEqual(got.State, []byte(`{}`)) {
		t.Errorf("State = %s, want {}", got.State)
	}
}

func testVerificationIDTaken(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	if err := s.CreateVerification(ctx, NewVerification("wx-1")); err != nil {
		t.Fatal(err)
	}
	again := NewVerification("wx-1")
	again.Status = "PROCESSED"
	err := s.CreateVerification(ctx, again, NewDelivery("", 1, T0))
	wantCode(t, err, sandbox.ECONFLICT)
	got, err := s.Verification(ctx, "wx-1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != "INITIATED" {
		t.Errorf("Status = %q: the second create overwrote the first", got.Status)
	}
	countDeliveries(t, s, sandbox.DeliveryFilter{}, 0)
}

// testSumsubExternalRefTaken: Sumsub knows one applicant per
// externalUserId, so two sumsub verifications never share an ExternalRef
// (created at once from two replicas either), while Jumio's references
// repeat freely.
func testSumsubExternalRefTaken(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	sumsub := func(id, ref string) *sandbox.Verification {
		v := NewVerification(id)
		v.Product, v.AccountID, v.ExternalRef, v.Status = "sumsub", "", ref, "init"
		return v
	}
	if err := s.CreateVerification(ctx, sumsub("ss-1", "user-1")); err != nil {
		t.Fatal(err)
	}
	err := s.CreateVerification(ctx, sumsub("ss-2", "user-1"), NewDelivery("", 1, T0))
	wantCode(t, err, sandbox.ETAKEN, "a second sumsub verification with the same ExternalRef")
	if _, err := s.Verification(ctx, "ss-2"); sandbox.ErrorCode(err) != sandbox.ENOTFOUND {
		t.Errorf("the refused verification was written (%v)", err)
	}
	countDeliveries(t, s, sandbox.DeliveryFilter{}, 0)
	// Other products and empty references repeat.
	for _, v := range []*sandbox.Verification{NewVerification("kx-1"), NewVerification("kx-2"), sumsub("ss-3", ""), sumsub("ss-4", "")} {
		v.ExternalRef = strings.TrimSuffix(v.ExternalRef, "-"+v.ID)
		if err := s.CreateVerification(ctx, v); err != nil {
			t.Errorf("create %s (%s, ref %q): %v", v.ID, v.Product, v.ExternalRef, err)
		}
	}
	// An update onto a taken reference is refused and changes nothing.
	other := sumsub("ss-5", "user-5")
	if err := s.CreateVerification(ctx, other); err != nil {
		t.Fatal(err)
	}
	other.ExternalRef = "user-1"
	wantCode(t, s.UpdateVerification(ctx, other), sandbox.ETAKEN, "an update onto a taken ExternalRef")
	if got, err := s.Verification(ctx, "ss-5"); err != nil || got.ExternalRef != "user-5" || got.Version != 1 {
		t.Errorf("after the refused update: %+v, %v", got, err)
	}
	// At once: exactly one of eight creates wins.
	var wg sync.WaitGroup
	var won atomic.Int32
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.CreateVerification(ctx, sumsub(fmt.Sprintf("race-%d", i), "user-race"))
			switch {
			case err == nil:
				won.Add(1)
			case sandbox.ErrorCode(err) != sandbox.ETAKEN:
				t.Errorf("create race-%d: %v, want ETAKEN or success", i, err)
			}
		}()
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Errorf("%d of 8 creates with one externalUserId succeeded, want 1", won.Load())
	}
}

func testVerificationInvalid(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	for name, v := range map[string]*sandbox.Verification{
		"no id":         {Product: "sumsub", Status: "init"},
		"no product":    {ID: "a", Status: "init"},
		"no status":     {ID: "a", Product: "sumsub"},
		"state array":   {ID: "a", Product: "sumsub", Status: "init", State: json.RawMessage(`[1]`)},
		"state garbage": {ID: "a", Product: "sumsub", Status: "init", State: json.RawMessage(`{nope`)},
	} {
		wantCode(t, s.CreateVerification(ctx, v), sandbox.EINVALID, name)
	}
	if vs, err := s.Verifications(ctx, sandbox.VerificationFilter{}); err != nil || len(vs) != 0 {
		t.Errorf("Verifications = %d, %v; want none written", len(vs), err)
	}
}

func testVerificationNotFound(t *testing.T, s sandbox.Store) {
	_, err := s.Verification(context.Background(), "nope")
	wantCode(t, err, sandbox.ENOTFOUND)
	v := NewVerification("nope")
	v.Version = 1
	wantCode(t, s.UpdateVerification(context.Background(), v), sandbox.ENOTFOUND)
}

func testUpdateOptimistic(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	if err := s.CreateVerification(ctx, NewVerification("wx-1")); err != nil {
		t.Fatal(err)
	}
	a, err := s.Verification(ctx, "wx-1")
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Verification(ctx, "wx-1")
	if err != nil {
		t.Fatal(err)
	}
	a.Status, a.State, a.UpdatedAt, a.ExpiresAt = "PROCESSED", json.RawMessage(`{"decision":{"type":"PASSED"}}`), T0.Add(time.Minute), time.Time{}
	if err := s.UpdateVerification(ctx, a, NewDelivery("", 1, T0)); err != nil {
		t.Fatal(err)
	}
	if a.Version != 2 {
		t.Errorf("Version = %d after update, want 2", a.Version)
	}
	b.Status = "SESSION_EXPIRED"
	wantCode(t, s.UpdateVerification(ctx, b, NewDelivery("", 2, T0)), sandbox.ECONFLICT)
	got, err := s.Verification(ctx, "wx-1")
	if err != nil {
		t.Fatal(err)
	}
	checkVerification(t, got, a)
	ds := countDeliveries(t, s, sandbox.DeliveryFilter{VerificationID: "wx-1"}, 1)
	if string(ds[0].Body) != `{"n":1}` {
		t.Errorf("the losing update's delivery was written: %s", ds[0].Body)
	}
}

func testUpdateConcurrent(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	v := NewVerification("wx-1")
	v.State = json.RawMessage(`{"n":0}`)
	if err := s.CreateVerification(ctx, v); err != nil {
		t.Fatal(err)
	}
	const writers = 8
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := sandbox.Update(ctx, s, "wx-1", func(v *sandbox.Verification) ([]*sandbox.Delivery, error) {
				var st struct{ N int }
				if err := json.Unmarshal(v.State, &st); err != nil {
					return nil, err
				}
				v.State = json.RawMessage(fmt.Sprintf(`{"n":%d}`, st.N+1))
				return []*sandbox.Delivery{NewDelivery("", i, T0)}, nil
			})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	got, err := s.Verification(ctx, "wx-1")
	if err != nil {
		t.Fatal(err)
	}
	if !jsonEqual(got.State, []byte(fmt.Sprintf(`{"n":%d}`, writers))) || got.Version != writers+1 {
		t.Errorf("after %d concurrent updates: state %s, version %d", writers, got.State, got.Version)
	}
	countDeliveries(t, s, sandbox.DeliveryFilter{VerificationID: "wx-1"}, writers)
}

func testCreateEnqueuesAtomically(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	d1, d2 := NewDelivery("", 1, T0), NewDelivery("", 2, T0.Add(time.Second))
	if err := s.CreateVerification(ctx, NewVerification("wx-1"), d1, d2); err != nil {
		t.Fatal(err)
	}
	if d1.ID <= 0 || d2.ID <= d1.ID {
		t.Errorf("ids %d, %d: want positive and increasing", d1.ID, d2.ID)
	}
	if d1.VerificationID != "wx-1" || d1.State != sandbox.Pending || d1.Cycle != 1 {
		t.Errorf("delivery after create: verification %q, state %q, cycle %d", d1.VerificationID, d1.State, d1.Cycle)
	}
	countDeliveries(t, s, sandbox.DeliveryFilter{VerificationID: "wx-1"}, 2)

	// An invalid delivery fails the whole write.
	bad := NewDelivery("", 3, T0)
	bad.URL = "ftp://example/x"
	wantCode(t, s.CreateVerification(ctx, NewVerification("wx-2"), NewDelivery("", 4, T0), bad), sandbox.EINVALID)
	_, err := s.Verification(ctx, "wx-2")
	wantCode(t, err, sandbox.ENOTFOUND)
	// A delivery of another verification too.
	wantCode(t, s.CreateVerification(ctx, NewVerification("wx-3"), NewDelivery("wx-1", 5, T0)), sandbox.EINVALID)
	countDeliveries(t, s, sandbox.DeliveryFilter{}, 2)
}

func testVerificationsFilter(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	mk := func(id, product, account, ref string, created time.Time, expires time.Time) {
		t.Helper()
		v := &sandbox.Verification{ID: id, Product: product, AccountID: account, ExternalRef: ref,
			Status: "x", CreatedAt: created, UpdatedAt: created, ExpiresAt: expires}
		if err := s.CreateVerification(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	mk("c", "jumio-kyx", "acc-1", "ref-1", T0.Add(2*time.Second), T0.Add(time.Hour))
	mk("a", "jumio-kyx", "acc-1", "ref-2", T0, T0.Add(time.Minute))
	mk("b", "sumsub", "", "ref-1", T0.Add(time.Second), time.Time{})
	mk("d", "jumio-kyx", "acc-2", "ref-3", T0.Add(3*time.Second), T0.Add(2*time.Minute))
	for _, tc := range []struct {
		f    sandbox.VerificationFilter
		want []string
	}{
		{sandbox.VerificationFilter{}, []string{"a", "b", "c", "d"}},
		{sandbox.VerificationFilter{Product: "jumio-kyx"}, []string{"a", "c", "d"}},
		{sandbox.VerificationFilter{AccountID: "acc-1"}, []string{"a", "c"}},
		{sandbox.VerificationFilter{ExternalRef: "ref-1"}, []string{"b", "c"}},
		{sandbox.VerificationFilter{Product: "sumsub", ExternalRef: "ref-1"}, []string{"b"}},
		{sandbox.VerificationFilter{ExpiresBy: T0.Add(2 * time.Minute)}, []string{"a", "d"}},
		{sandbox.VerificationFilter{ExpiresBy: T0}, nil},
		{sandbox.VerificationFilter{Limit: 2}, []string{"a", "b"}},
		{sandbox.VerificationFilter{Offset: 3, Limit: 2}, []string{"d"}},
	} {
		vs, err := s.Verifications(ctx, tc.f)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, v := range vs {
			got = append(got, v.ID)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Verifications(%+v) = %v, want %v", tc.f, got, tc.want)
		}
	}
}

func testEnqueueRoundTrip(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	want := NewDelivery("", 1, T0.Add(time.Minute))
	if err := s.Enqueue(ctx, want); err != nil {
		t.Fatal(err)
	}
	if want.ID <= 0 || want.State != sandbox.Pending || want.Cycle != 1 || want.Attempts != 0 {
		t.Fatalf("after enqueue: id %d, state %q, cycle %d, attempts %d", want.ID, want.State, want.Cycle, want.Attempts)
	}
	got, err := s.Delivery(ctx, want.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkDelivery(t, got, want)
	if len(got.History) != 0 {
		t.Errorf("History = %v, want none", got.History)
	}

	// A delivery with no body, no header and no source address; one
	// of a verification; one due at once (zero NextAttemptAt).
	if err := s.CreateVerification(ctx, NewVerification("wx-1")); err != nil {
		t.Fatal(err)
	}
	bare := NewDelivery("wx-1", 2, time.Time{})
	bare.Body, bare.Header, bare.From, bare.Policy.Delays = nil, nil, netip.Addr{}, nil
	if err := s.Enqueue(ctx, bare); err != nil {
		t.Fatal(err)
	}
	got, err = s.Delivery(ctx, bare.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Body) != 0 || len(got.Header) != 0 || got.From.IsValid() || len(got.Policy.Delays) != 0 || got.VerificationID != "wx-1" {
		t.Errorf("bare delivery read back as body %q, header %v, from %v, delays %v, verification %q",
			got.Body, got.Header, got.From, got.Policy.Delays, got.VerificationID)
	}
	ds, err := s.Claim(ctx, sandbox.Claim{Due: T0, Now: W0, Until: W0.Add(time.Minute), Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].ID != bare.ID {
		t.Errorf("a delivery enqueued with a zero NextAttemptAt is not due at once: claimed %v", ids(ds))
	}
}

func testEnqueueInvalid(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	mutate := map[string]func(d *sandbox.Delivery){
		"no message":      func(d *sandbox.Delivery) { d.Message = "" },
		"relative URL":    func(d *sandbox.Delivery) { d.URL = "/callback" },
		"no host":         func(d *sandbox.Delivery) { d.URL = "http:///x" },
		"no timeouts":     func(d *sandbox.Delivery) { d.Policy.AnswerTimeout = 0 },
		"negative delay":  func(d *sandbox.Delivery) { d.Policy.Delays = []time.Duration{-time.Second} },
		"too many delays": func(d *sandbox.Delivery) { d.Policy.Delays = make([]time.Duration, delivery.MaxRetries+1) },
	}
	for name, fn := range mutate {
		d := NewDelivery("", 1, T0)
		fn(d)
		wantCode(t, s.Enqueue(ctx, NewDelivery("", 0, T0), d), sandbox.EINVALID, name)
	}
	wantCode(t, s.Enqueue(ctx, NewDelivery("", 0, T0), NewDelivery("unknown", 1, T0)), sandbox.ENOTFOUND, "unknown verification")
	countDeliveries(t, s, sandbox.DeliveryFilter{}, 0)
}

func testClaimDueInOrder(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	d3 := NewDelivery("", 3, T0.Add(3*time.Second))
	d1 := NewDelivery("", 1, T0.Add(time.Second))
	d2 := NewDelivery("", 2, T0.Add(time.Second))
	later := NewDelivery("", 4, T0.Add(time.Hour))
	if err := s.Enqueue(ctx, d3, d1, d2, later); err != nil {
		t.Fatal(err)
	}
	claim := func(due time.Time, n int) []*sandbox.Delivery {
		t.Helper()
		ds, err := s.Claim(ctx, sandbox.Claim{Due: due, Now: W0, Until: W0.Add(time.Minute), Limit: n})
		if err != nil {
			t.Fatal(err)
		}
		return ds
	}
	if ds := claim(T0, 10); len(ds) != 0 {
		t.Errorf("claimed %v before anything was due", ids(ds))
	}
	// Earliest due first, then in enqueue order; the limit holds.
	if got, want := ids(claim(T0.Add(3*time.Second), 2)), []int64{d1.ID, d2.ID}; !reflect.DeepEqual(got, want) {
		t.Errorf("first claim = %v, want %v", got, want)
	}
	ds := claim(T0.Add(3*time.Second), 10)
	if got, want := ids(ds), []int64{d3.ID}; !reflect.DeepEqual(got, want) {
		t.Errorf("second claim = %v, want %v", got, want)
	}
	if len(ds) == 1 {
		checkDelivery(t, ds[0], d3)
		if !ds[0].LeasedUntil.Equal(W0.Add(time.Minute)) {
			t.Errorf("LeasedUntil = %v, want %v", ds[0].LeasedUntil, W0.Add(time.Minute))
		}
	}
	wantCode(t, func() error {
		_, err := s.Claim(ctx, sandbox.Claim{Due: T0, Now: W0, Until: W0.Add(time.Minute)})
		return err
	}(), sandbox.EINVALID, "limit 0")
}

func testClaimLeases(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	d := NewDelivery("", 1, T0)
	if err := s.Enqueue(ctx, d); err != nil {
		t.Fatal(err)
	}
	first, err := s.Claim(ctx, sandbox.Claim{Due: T0, Now: W0, Until: W0.Add(time.Minute), Limit: 1})
	if err != nil || len(first) != 1 {
		t.Fatalf("claim: %v, %v", ids(first), err)
	}
	// While the lease holds, nobody else gets the delivery.
	again, err := s.Claim(ctx, sandbox.Claim{Due: T0.Add(time.Hour), Now: W0.Add(59 * time.Second), Until: W0.Add(2 * time.Minute), Limit: 1})
	if err != nil || len(again) != 0 {
		t.Fatalf("claimed %v while its lease held (%v)", ids(again), err)
	}
	// When it runs out (a crashed worker), it comes back with a new lease.
	again, err = s.Claim(ctx, sandbox.Claim{Due: T0, Now: W0.Add(time.Minute), Until: W0.Add(2 * time.Minute), Limit: 1})
	if err != nil || len(again) != 1 {
		t.Fatalf("claim after the lease ran out: %v, %v", ids(again), err)
	}
	if again[0].Lease == first[0].Lease {
		t.Errorf("the second claim has the first's lease %d", first[0].Lease)
	}
	if again[0].Attempts != 0 || again[0].State != sandbox.Pending {
		t.Errorf("reclaimed delivery: attempts %d, state %q", again[0].Attempts, again[0].State)
	}
}

func testNextDue(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	next := func(now time.Time) (time.Time, bool) {
		t.Helper()
		at, ok, err := s.NextDue(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		return at, ok
	}
	if _, ok := next(W0); ok {
		t.Error("NextDue on an empty store: ok")
	}
	a, b := NewDelivery("", 1, T0.Add(time.Minute)), NewDelivery("", 2, T0.Add(time.Hour))
	if err := s.Enqueue(ctx, a, b); err != nil {
		t.Fatal(err)
	}
	if at, ok := next(W0); !ok || !at.Equal(a.NextAttemptAt) {
		t.Errorf("NextDue = %v, %v; want %v", at, ok, a.NextAttemptAt)
	}
	ds, err := s.Claim(ctx, sandbox.Claim{Due: T0.Add(time.Minute), Now: W0, Until: W0.Add(time.Minute), Limit: 1})
	if err != nil || len(ds) != 1 {
		t.Fatalf("claim: %v, %v", ids(ds), err)
	}
	// A leased delivery is not due for anyone else.
	if at, ok := next(W0); !ok || !at.Equal(b.NextAttemptAt) {
		t.Errorf("NextDue while the first is leased = %v, %v; want %v", at, ok, b.NextAttemptAt)
	}
	if at, ok := next(W0.Add(time.Minute)); !ok || !at.Equal(a.NextAttemptAt) {
		t.Errorf("NextDue after its lease ran out = %v, %v; want %v", at, ok, a.NextAttemptAt)
	}
	if err := s.Record(ctx, outcome(ds[0], sandbox.Delivered, 200, time.Time{})); err != nil {
		t.Fatal(err)
	}
	if at, ok := next(W0.Add(time.Minute)); !ok || !at.Equal(b.NextAttemptAt) {
		t.Errorf("NextDue after the first was delivered = %v, %v; want %v", at, ok, b.NextAttemptAt)
	}
}

func testRecordRetry(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	d := NewDelivery("", 1, T0)
	if err := s.Enqueue(ctx, d); err != nil {
		t.Fatal(err)
	}
	ds, err := s.Claim(ctx, sandbox.Claim{Due: T0, Now: W0, Until: W0.Add(time.Minute), Limit: 1})
	if err != nil || len(ds) != 1 {
		t.Fatalf("claim: %v, %v", ids(ds), err)
	}
	o := outcome(ds[0], sandbox.Pending, 503, T0.Add(time.Minute))
	o.Attempt.Latency, o.Attempt.Response = 1500*time.Microsecond, []byte("busy")
	if err := s.Record(ctx, o); err != nil {
		t.Fatal(err)
	}
	got, err := s.Delivery(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != sandbox.Pending || got.Attempts != 1 || !got.NextAttemptAt.Equal(T0.Add(time.Minute)) || !got.LeasedUntil.IsZero() {
		t.Errorf("after a failed attempt: state %q, attempts %d, next %v, leased until %v",
			got.State, got.Attempts, got.NextAttemptAt, got.LeasedUntil)
	}
	if len(got.History) != 1 {
		t.Fatalf("History has %d attempts, want 1", len(got.History))
	}
	checkAttempt(t, got.History[0], o.Attempt)
	// The retry is due at its time, not before; the lease was ended.
	if ds, _ := s.Claim(ctx, sandbox.Claim{Due: T0.Add(time.Minute - time.Microsecond), Now: W0, Until: W0.Add(time.Minute), Limit: 1}); len(ds) != 0 {
		t.Errorf("the retry was claimed before it was due")
	}
	ds, err = s.Claim(ctx, sandbox.Claim{Due: T0.Add(time.Minute), Now: W0, Until: W0.Add(time.Minute), Limit: 1})
	if err != nil || len(ds) != 1 || ds[0].Attempts != 1 {
		t.Fatalf("claim the retry: %v, %v", ids(ds), err)
	}
}

func testRecordFinishes(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	for _, state := range []sandbox.DeliveryState{sandbox.Delivered, sandbox.Failed} {
		d := NewDelivery("", 1, T0)
		if err := s.Enqueue(ctx, d); err != nil {
			t.Fatal(err)
		}
		ds, err := s.Claim(ctx, sandbox.Claim{Due: T0, Now: W0, Until: W0.Add(time.Minute), Limit: 1})
		if err != nil || len(ds) != 1 {
			t.Fatalf("claim: %v, %v", ids(ds), err)
		}
		status := 200
		if state == sandbox.Failed {
			status = 500
		}
		if err := s.Record(ctx, outcome(ds[0], state, status, time.Time{})); err != nil {
			t.Fatal(err)
		}
		got, err := s.Delivery(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != state || !got.NextAttemptAt.IsZero() || !got.LeasedUntil.IsZero() || len(got.History) != 1 {
			t.Errorf("%s: state %q, next %v, leased until %v, %d attempts", state, got.State, got.NextAttemptAt, got.LeasedUntil, len(got.History))
		}
		// Finished is finished: never claimed, never due.
		if ds, _ := s.Claim(ctx, sandbox.Claim{Due: T0.Add(1000 * time.Hour), Now: W0.Add(1000 * time.Hour), Until: W0.Add(1001 * time.Hour), Limit: 10}); len(ds) != 0 {
			t.Errorf("%s: claimed again: %v", state, ids(ds))
		}
		if _, ok, _ := s.NextDue(ctx, W0.Add(1000*time.Hour)); ok {
			t.Errorf("%s: NextDue still sees it", state)
		}
	}
}

func testRecordLostLease(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	d := NewDelivery("", 1, T0)
	if err := s.Enqueue(ctx, d); err != nil {
		t.Fatal(err)
	}
	first, err := s.Claim(ctx, sandbox.Claim{Due: T0, Now: W0, Until: W0.Add(time.Minute), Limit: 1})
	if err != nil || len(first) != 1 {
		t.Fatalf("claim: %v, %v", ids(first), err)
	}
	second, err := s.Claim(ctx, sandbox.Claim{Due: T0, Now: W0.Add(time.Minute), Until: W0.Add(2 * time.Minute), Limit: 1})
	if err != nil || len(second) != 1 {
		t.Fatalf("claim after the lease ran out: %v, %v", ids(second), err)
	}
	// The first worker's late outcome is written as an attempt but moves
	// nothing.
	wantCode(t, s.Record(ctx, outcome(first[0], sandbox.Delivered, 200, time.Time{})), sandbox.ECONFLICT)
	got, err := s.Delivery(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != sandbox.Pending || got.Attempts != 0 || got.Lease != second[0].Lease || len(got.History) != 1 {
		t.Errorf("after a late outcome: state %q, attempts %d, lease %d (want %d), %d attempts recorded",
			got.State, got.Attempts, got.Lease, second[0].Lease, len(got.History))
	}
	if err := s.Record(ctx, outcome(second[0], sandbox.Delivered, 200, time.Time{})); err != nil {
		t.Fatalf("the current lease's outcome: %v", err)
	}
	// A resend ends the lease of an attempt in flight too.
	d2 := NewDelivery("", 2, T0)
	if err := s.Enqueue(ctx, d2); err != nil {
		t.Fatal(err)
	}
	inflight, err := s.Claim(ctx, sandbox.Claim{Due: T0, Now: W0, Until: W0.Add(time.Minute), Limit: 1})
	if err != nil || len(inflight) != 1 {
		t.Fatalf("claim: %v, %v", ids(inflight), err)
	}
	if _, err := s.Resend(ctx, d2.ID, T0); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.Record(ctx, outcome(inflight[0], sandbox.Failed, 500, time.Time{})), sandbox.ECONFLICT, "after resend")
	got, err = s.Delivery(ctx, d2.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != sandbox.Pending || got.Cycle != 2 {
		t.Errorf("a late outcome undid a resend: state %q, cycle %d", got.State, got.Cycle)
	}
}

func testRecordInvalid(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	wantCode(t, s.Record(ctx, sandbox.Outcome{Attempt: sandbox.Attempt{DeliveryID: 999, Cycle: 1, Number: 1, Time: T0}, State: sandbox.Delivered}), sandbox.ENOTFOUND)
	d := NewDelivery("", 1, T0)
	if err := s.Enqueue(ctx, d); err != nil {
		t.Fatal(err)
	}
	ds, err := s.Claim(ctx, sandbox.Claim{Due: T0, Now: W0, Until: W0.Add(time.Minute), Limit: 1})
	if err != nil || len(ds) != 1 {
		t.Fatalf("claim: %v, %v", ids(ds), err)
	}
	o := outcome(ds[0], "lost", 200, time.Time{})
	wantCode(t, s.Record(ctx, o), sandbox.EINVALID, "unknown state")
	o = outcome(ds[0], sandbox.Delivered, 200, time.Time{})
	o.Attempt.Number = 0
	wantCode(t, s.Record(ctx, o), sandbox.EINVALID, "attempt number 0")
}

func testResend(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	_, err := s.Resend(ctx, 999, T0)
	wantCode(t, err, sandbox.ENOTFOUND)
	d := NewDelivery("", 1, T0)
	if err := s.Enqueue(ctx, d); err != nil {
		t.Fatal(err)
	}
	ds, err := s.Claim(ctx, sandbox.Claim{Due: T0, Now: W0, Until: W0.Add(time.Minute), Limit: 1})
	if err != nil || len(ds) != 1 {
		t.Fatalf("claim: %v, %v", ids(ds), err)
	}
	if err := s.Record(ctx, outcome(ds[0], sandbox.Failed, 500, time.Time{})); err != nil {
		t.Fatal(err)
	}
	at := T0.Add(time.Hour)
	got, err := s.Resend(ctx, d.ID, at)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != sandbox.Pending || got.Cycle != 2 || got.Attempts != 0 || !got.NextAttemptAt.Equal(at) || len(got.History) != 1 {
		t.Errorf("after resend: state %q, cycle %d, attempts %d, next %v, %d attempts kept",
			got.State, got.Cycle, got.Attempts, got.NextAttemptAt, len(got.History))
	}
	ds, err = s.Claim(ctx, sandbox.Claim{Due: at, Now: W0, Until: W0.Add(time.Minute), Limit: 1})
	if err != nil || len(ds) != 1 || ds[0].Cycle != 2 {
		t.Fatalf("claim the resent delivery: %v, %v", ids(ds), err)
	}
	if err := s.Record(ctx, outcome(ds[0], sandbox.Delivered, 204, time.Time{})); err != nil {
		t.Fatal(err)
	}
	got, err = s.Delivery(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != sandbox.Delivered || len(got.History) != 2 || got.History[1].Cycle != 2 || got.History[1].Number != 1 {
		t.Errorf("after the resent delivery's attempt: state %q, history %+v", got.State, got.History)
	}
}

func testDeliveriesFilter(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	for _, id := range []string{"wx-1", "wx-2"} {
		if err := s.CreateVerification(ctx, NewVerification(id)); err != nil {
			t.Fatal(err)
		}
	}
	var all []*sandbox.Delivery
	for i := range 6 {
		d := NewDelivery(fmt.Sprintf("wx-%d", 1+i%2), i, T0)
		all = append(all, d)
	}
	if err := s.Enqueue(ctx, all...); err != nil {
		t.Fatal(err)
	}
	ds, err := s.Claim(ctx, sandbox.Claim{Due: T0, Now: W0, Until: W0.Add(time.Minute), Limit: 1})
	if err != nil || len(ds) != 1 {
		t.Fatalf("claim: %v, %v", ids(ds), err)
	}
	if err := s.Record(ctx, outcome(ds[0], sandbox.Delivered, 200, time.Time{})); err != nil {
		t.Fatal(err)
	}
	id := func(i int) int64 { return all[i].ID }
	for _, tc := range []struct {
		f    sandbox.DeliveryFilter
		want []int64
	}{
		{sandbox.DeliveryFilter{}, []int64{id(0), id(1), id(2), id(3), id(4), id(5)}},
		{sandbox.DeliveryFilter{VerificationID: "wx-2"}, []int64{id(1), id(3), id(5)}},
		{sandbox.DeliveryFilter{State: sandbox.Delivered}, []int64{id(0)}},
		{sandbox.DeliveryFilter{State: sandbox.Pending, VerificationID: "wx-1"}, []int64{id(2), id(4)}},
		{sandbox.DeliveryFilter{AfterID: id(3)}, []int64{id(4), id(5)}},
		{sandbox.DeliveryFilter{Limit: 2}, []int64{id(0), id(1)}},
	} {
		got, err := s.Deliveries(ctx, tc.f)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ids(got), tc.want) {
			t.Errorf("Deliveries(%+v) = %v, want %v", tc.f, ids(got), tc.want)
		}
		for _, d := range got {
			if want := map[bool]int{true: 1, false: 0}[d.ID == id(0)]; len(d.History) != want {
				t.Errorf("Deliveries(%+v): delivery %d has %d attempts, want %d", tc.f, d.ID, len(d.History), want)
			}
		}
	}
}

func testConcurrentClaims(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	const n, workers = 60, 6
	var ds []*sandbox.Delivery
	for i := range n {
		ds = append(ds, NewDelivery("", i, T0))
	}
	if err := s.Enqueue(ctx, ds...); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				got, err := s.Claim(ctx, sandbox.Claim{Due: T0, Now: W0, Until: W0.Add(time.Minute), Limit: 3})
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, d := range got {
					seen[d.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Errorf("%d of %d deliveries claimed", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("delivery %d claimed %d times under live leases", id, c)
		}
	}
}

func testCancelledContext(t *testing.T, s sandbox.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Enqueue(ctx, NewDelivery("", 1, T0)); err == nil {
		t.Error("Enqueue with a cancelled context: no error")
	}
	if _, err := s.Claim(ctx, sandbox.Claim{Due: T0, Now: W0, Until: W0.Add(time.Minute), Limit: 1}); err == nil {
		t.Error("Claim with a cancelled context: no error")
	}
	if _, err := s.Deliveries(ctx, sandbox.DeliveryFilter{}); err == nil {
		t.Error("Deliveries with a cancelled context: no error")
	}
}

func testClockHighWater(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	hw, err := s.ClockHighWater(ctx)
	if err != nil || !hw.IsZero() {
		t.Fatalf("ClockHighWater of an empty store = %v, %v; want zero", hw, err)
	}
	syncTo := func(at, want time.Time) {
		t.Helper()
		got, err := s.SyncClock(ctx, at)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Equal(want) {
			t.Errorf("SyncClock(%v) = %v, want %v", at, got, want)
		}
	}
	syncTo(T0, T0)
	// A replica whose clock is behind learns the high-water mark; the
	// mark never runs back.
	syncTo(T0.Add(-time.Hour), T0)
	syncTo(T0.Add(time.Second), T0.Add(time.Second))
	if hw, err := s.ClockHighWater(ctx); err != nil || !hw.Equal(T0.Add(time.Second)) {
		t.Errorf("ClockHighWater = %v, %v; want the synced %v", hw, err, T0.Add(time.Second))
	}
	// A verification changed later than any sync counts too.
	v := NewVerification("wx-1")
	v.UpdatedAt = T0.Add(time.Hour)
	if err := s.CreateVerification(ctx, v); err != nil {
		t.Fatal(err)
	}
	if hw, err := s.ClockHighWater(ctx); err != nil || !hw.Equal(T0.Add(time.Hour)) {
		t.Errorf("ClockHighWater = %v, %v; want the verification's %v", hw, err, T0.Add(time.Hour))
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.SyncClock(ctx, T0.Add(time.Duration(i)*time.Minute)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	syncTo(T0, T0.Add(7*time.Minute))
}

func testReplicaNames(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	d := NewDelivery("", 1, T0)
	if err := s.Enqueue(ctx, d); err != nil {
		t.Fatal(err)
	}
	ds, err := s.Claim(ctx, sandbox.Claim{Due: T0, Now: W0, Until: W0.Add(time.Minute), Limit: 1, Owner: "replica-a"})
	if err != nil || len(ds) != 1 {
		t.Fatalf("claim: %v, %v", ids(ds), err)
	}
	if ds[0].LeasedBy != "replica-a" {
		t.Errorf("claimed delivery LeasedBy = %q, want replica-a", ds[0].LeasedBy)
	}
	if got, err := s.Delivery(ctx, d.ID); err != nil || got.LeasedBy != "replica-a" {
		t.Errorf("stored delivery LeasedBy = %q, %v; want replica-a", got.LeasedBy, err)
	}
	o := outcome(ds[0], sandbox.Pending, 503, T0.Add(time.Minute))
	o.Attempt.Replica = "replica-a"
	if err := s.Record(ctx, o); err != nil {
		t.Fatal(err)
	}
	ds, err = s.Claim(ctx, sandbox.Claim{Due: T0.Add(time.Minute), Now: W0, Until: W0.Add(time.Minute), Limit: 1, Owner: "replica-b"})
	if err != nil || len(ds) != 1 {
		t.Fatalf("claim the retry: %v, %v", ids(ds), err)
	}
	o = outcome(ds[0], sandbox.Delivered, 200, time.Time{})
	o.Attempt.Replica = "replica-b"
	if err := s.Record(ctx, o); err != nil {
		t.Fatal(err)
	}
	got, err := s.Delivery(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.LeasedBy != "" || len(got.History) != 2 || got.History[0].Replica != "replica-a" || got.History[1].Replica != "replica-b" {
		t.Errorf("after two replicas' attempts: leased by %q, history %+v", got.LeasedBy, got.History)
	}
}

// outcome returns the outcome of the next attempt at a claimed delivery.
func outcome(d *sandbox.Delivery, state sandbox.DeliveryState, status int, next time.Time) sandbox.Outcome {
	return sandbox.Outcome{
		Attempt: sandbox.Attempt{DeliveryID: d.ID, Cycle: d.Cycle, Number: d.Attempts + 1, Time: T0.Add(time.Duration(d.Attempts) * time.Minute),
			Status: status, Latency: time.Millisecond},
		Lease: d.Lease, State: state, NextAttemptAt: next,
	}
}

func ids(ds []*sandbox.Delivery) []int64 {
	var out []int64
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return out
}

func countDeliveries(t *testing.T, s sandbox.Store, f sandbox.DeliveryFilter, want int) []*sandbox.Delivery {
	t.Helper()
	ds, err := s.Deliveries(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != want {
		t.Errorf("Deliveries(%+v): %d, want %d", f, len(ds), want)
	}
	return ds
}

func wantCode(t *testing.T, err error, code string, what ...string) {
	t.Helper()
	if got := sandbox.ErrorCode(err); got != code {
		t.Errorf("%v: error %v (code %q), want code %q", what, err, got, code)
	}
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func checkVerification(t *testing.T, got, want *sandbox.Verification) {
	t.Helper()
	if got.ID != want.ID || got.Product != want.Product || got.AccountID != want.AccountID || got.ExternalRef != want.ExternalRef ||
		got.Status != want.Status || got.CallbackURL != want.CallbackURL || got.Version != want.Version {
		t.Errorf("verification = %+v, want %+v", got, want)
	}
	if !jsonEqual(got.State, want.State) {
		t.Errorf("verification state = %s, want %s", got.State, want.State)
	}
	if !got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) {
		t.Errorf("verification times = %v %v %v, want %v %v %v", got.CreatedAt, got.UpdatedAt, got.ExpiresAt,
			want.CreatedAt, want.UpdatedAt, want.ExpiresAt)
	}
}

func checkDelivery(t *testing.T, got, want *sandbox.Delivery) {
	t.Helper()
	if got.ID != want.ID || got.VerificationID != want.VerificationID || got.Product != want.Product ||
		got.Message != want.Message || got.Subject != want.Subject || got.URL != want.URL || got.From != want.From {
		t.Errorf("delivery = %+v, want %+v", got, want)
	}
	if !reflect.DeepEqual(got.Header, want.Header) || string(got.Body) != string(want.Body) {
		t.Errorf("delivery request = %v %q, want %v %q", got.Header, got.Body, want.Header, want.Body)
	}
	if !reflect.DeepEqual(got.Policy, want.Policy) {
		t.Errorf("delivery policy = %v, want %v", got.Policy, want.Policy)
	}
	if got.State != sandbox.Pending || got.Cycle != 1 || got.Attempts != 0 || !got.NextAttemptAt.Equal(want.NextAttemptAt) {
		t.Errorf("delivery schedule = %q cycle %d attempts %d next %v, want pending 1 0 %v",
			got.State, got.Cycle, got.Attempts, got.NextAttemptAt, want.NextAttemptAt)
	}
	if got.CreatedAt.IsZero() || got.UpdatedAt.IsZero() {
		t.Errorf("delivery times not set: %v %v", got.CreatedAt, got.UpdatedAt)
	}
}

func checkAttempt(t *testing.T, got, want sandbox.Attempt) {
	t.Helper()
	if got.DeliveryID != want.DeliveryID || got.Cycle != want.Cycle || got.Number != want.Number || !got.Time.Equal(want.Time) ||
		got.Status != want.Status || got.Latency != want.Latency || got.Err != want.Err || string(got.Response) != string(want.Response) {
		t.Errorf("attempt = %+v, want %+v", got, want)
	}
}
