// Package sandbox is the domain core of `kycsim serve`: the verifications
// the sandbox holds in place of a vendor, the callbacks (deliveries) it
// owes a customer's receiver and the attempts made at each, the Store they
// live in, and the Outbox that delivers them.
//
// The rule that makes the sandbox safe to kill: a callback is written to
// the Store (as a pending Delivery, in the same transaction as the state
// change that caused it) before anything tries to send it, and it leaves
// the pending state only when an attempt answered with a 2xx, or the last
// retry of its policy failed, has been recorded. Everything in between is
// a lease that runs out, so a worker that dies mid-attempt gives its
// deliveries back: each callback is delivered at least once.
//
// The Store is an interface with one implementation per technology in a
// package of its own (sandbox/sqlite; a PostgreSQL one can sit beside it)
// and one set of behaviours every implementation must show
// (sandbox/sandboxtest).
package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/kycsim/kycsim/simulator"
	"github.com/kycsim/kycsim/simulator/delivery"
)

// Verification is one verification as the vendor holds it: a Jumio KYX
// workflow execution, a Netverify transaction or a Sumsub applicant.
type Verification struct {
	// ID is the vendor's id of the subject: workflowExecution.id
	// (jumio-kyx), transactionReference (jumio-netverify), applicantId
	// (sumsub). The caller chooses it, in the vendor's format.
	ID string
	// Product is the kycsim product name (jumio-kyx, jumio-netverify,
	// sumsub, ...).
	Product string
	// AccountID is the Jumio account.id the workflow execution belongs
	// to; empty for other products.
	AccountID string
	// ExternalRef is the customer's own reference: Jumio's
	// customerInternalReference, Sumsub's externalUserId.
	ExternalRef string
	// Status is the vendor's status of the verification (INITIATED,
	// PROCESSED, PENDING, init, completed, ...).
	Status string
	// State holds the rest of the vendor-side state as one JSON object:
	// decision, risk score, review answer, reject labels, capabilities,
	// whatever the retrieval API answers with. Empty means {}.
	State json.RawMessage
	// CallbackURL is where the verification's callbacks go.
	CallbackURL string
	// CreatedAt and UpdatedAt are sandbox-clock times, written as given
	// (the caller moves UpdatedAt on with each change); a zero one is set
	// to the store's own time.
	CreatedAt time.Time
	UpdatedAt time.Time
	// ExpiresAt is when the vendor ends the verification by itself if
	// nothing happens first (token lifetime, session timeout), on the
	// sandbox clock; zero when nothing is pending.
	ExpiresAt time.Time
	// Version counts the verification's writes; UpdateVerification
	// succeeds only when it still matches the stored one.
	Version int64
}

// Validate reports whether the verification can be written.
func (v *Verification) Validate() error {
	if v.ID == "" {
		return Errorf(EINVALID, "verification: no id")
	}
	if v.Product == "" {
		return Errorf(EINVALID, "verification %s: no product", v.ID)
	}
	if v.Status == "" {
		return Errorf(EINVALID, "verification %s: no status", v.ID)
	}
	if len(v.State) > 0 {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(v.State, &obj); err != nil || obj == nil {
			return Errorf(EINVALID, "verification %s: state is not a JSON object", v.ID)
		}
	}
	return nil
}

// VerificationFilter selects verifications; empty fields select all.
type VerificationFilter struct {
	Product     string
	AccountID   string
	ExternalRef string
	// ExpiresBy selects the verifications whose ExpiresAt is set and at
	// or before it (the ones the vendor would have ended by then).
	ExpiresBy time.Time
	// Offset skips that many; Limit bounds the answer (DefaultLimit when
	// 0, at most MaxLimit).
	Offset, Limit int
}

// DefaultLimit and MaxLimit bound the lists a Store returns.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// DeliveryState is where a delivery stands.
type DeliveryState string

// The states of a delivery: pending until an attempt is acknowledged
// (delivered) or the retry policy is exhausted (failed).
const (
	Pending   DeliveryState = "pending"
	Delivered DeliveryState = "delivered"
	Failed    DeliveryState = "failed"
)

// Delivery is one callback owed to a receiver, with the schedule of its
// attempts.
type Delivery struct {
	// ID is set by the store, increasing in the order of enqueueing.
	ID int64
	// VerificationID is the verification the callback is about; empty
	// for a callback of none (the sandbox always has one).
	VerificationID string
	// Product, Message and Subject name the callback: the vendor's
	// message (PROCESSED, applicantReviewed) and subject id.
	Product, Message, Subject string
	// URL, Header and Body are the request, as signed when enqueued.
	URL    string
	Header http.Header
	Body   []byte
	// From binds the source address (any loopback address on a test
	// machine); the zero Addr lets the system choose.
	From netip.Addr
	// Policy is the vendor's retry policy for the callback: the delay
	// before each retry, counted from the end of the attempt before, and
	// the connect and answer deadlines of each attempt.
	Policy delivery.RetryPolicy
	// State is pending, delivered or failed.
	State DeliveryState
	// Cycle counts the delivery's runs through its policy: 1 at first,
	// one more at each Resend.
	Cycle int
	// Attempts counts the attempts made in this cycle.
	Attempts int
	// NextAttemptAt is when the next attempt is due on the sandbox
	// clock; zero for a delivery that is not pending (and, on enqueue,
	// for one due at once).
	NextAttemptAt time.Time
	// Lease identifies the current claim on the delivery: it changes with
	// every Claim and Resend, and Record refuses an attempt made under
	// another. LeasedUntil is when the claim runs out, on the wall clock
	// (zero when unclaimed).
	Lease       int64
	LeasedUntil time.Time
	// LeasedBy names the replica that holds the current claim (its
	// Claim.Owner); empty when unclaimed.
	LeasedBy string
	// CreatedAt and UpdatedAt are set by the store (its own time).
	CreatedAt time.Time
	UpdatedAt time.Time
	// History holds every attempt of every cycle, oldest first, when the
	// delivery is read with Store.Delivery or Store.Deliveries.
	History []Attempt
}

// NewDelivery returns the pending delivery of a callback to url with the
// vendor's policy, signed as the vendor signs it, due at at (zero: at
// once).
func NewDelivery(verificationID string, c simulator.Callback, url string, policy delivery.RetryPolicy, at time.Time) (*Delivery, error) {
	req, err := c.Request(url, policy)
	if err != nil {
		return nil, fmt.Errorf("callback %s %s: %w", c.Product, c.Message, err)
	}
	d := &Delivery{
		VerificationID: verificationID,
		Product:        req.Product, Message: req.Message, Subject: req.Subject,
		URL: req.URL, Header: req.Header, Body: req.Body, From: req.From,
		Policy: policy, NextAttemptAt: at,
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return d, nil
}

// Validate reports whether the delivery can be enqueued.
func (d *Delivery) Validate() error {
	if d.Product == "" || d.Message == "" {
		return Errorf(EINVALID, "delivery: product and message are required")
	}
	u, err := url.Parse(d.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Errorf(EINVALID, "delivery %s %s: the target is not an http(s) URL", d.Product, d.Message)
	}
	p := d.Policy
	if p.ConnectTimeout <= 0 || p.AnswerTimeout <= 0 {
		return Errorf(EINVALID, "delivery %s %s: connect and answer timeouts must be > 0", d.Product, d.Message)
	}
	if len(p.Delays) > delivery.MaxRetries {
		return Errorf(EINVALID, "delivery %s %s: %d retries; at most %d", d.Product, d.Message, len(p.Delays), delivery.MaxRetries)
	}
	for i, delay := range p.Delays {
		if delay < 0 {
			return Errorf(EINVALID, "delivery %s %s: retry delay %d is negative", d.Product, d.Message, i+1)
		}
	}
	return nil
}

// Request returns the one attempt the Outbox makes at the delivery: its
// request with the policy's retries removed (the Outbox schedules them).
func (d *Delivery) Request() delivery.Request {
	return delivery.Request{
		Product: d.Product, Message: d.Message, Subject: d.Subject,
		URL: d.URL, Method: http.MethodPost, Header: d.Header, Body: d.Body,
		Policy: d.Policy.NoRetry(), From: d.From,
	}
}

// Outcome returns what attempt a at the delivery leaves it in, at time
// now on the sandbox clock: delivered when it was acknowledged, pending
// with the next attempt after the policy's delay when a retry is left,
// failed otherwise.
func (d *Delivery) Outcome(a Attempt, now time.Time) Outcome {
	o := Outcome{Attempt: a, Lease: d.Lease}
	switch {
	case a.Acknowledged():
		o.State = Delivered
	case a.Number >= 1 && a.Number <= len(d.Policy.Delays):
		o.State, o.NextAttemptAt = Pending, now.Add(d.Policy.Delays[a.Number-1])
	default:
		o.State = Failed
	}
	return o
}

// ResponseSnippetBytes is how much of each answer body an Attempt keeps.
const ResponseSnippetBytes = 1 << 10

// Attempt is one try at delivering a callback.
type Attempt struct {
	DeliveryID int64
	// Cycle and Number place the attempt: Number 1 is the first of its
	// cycle.
	Cycle, Number int
	// Time is when it was sent, on the sandbox clock.
	Time time.Time
	// Status is the answer's HTTP status; 0 when there was none.
	Status int
	// Latency is the wall time from sending to the end of the answer.
	Latency time.Duration
	// Err says what went wrong when no complete answer came.
	Err string
	// Response is the start of the answer body (ResponseSnippetBytes).
	Response []byte
	// Replica names the sandbox replica that made the attempt (its
	// Outbox's Owner); empty when unnamed.
	Replica string
}

// Acknowledged reports whether the receiver answered with a 2xx.
func (a Attempt) Acknowledged() bool { return a.Err == "" && a.Status >= 200 && a.Status < 300 }

// Claim asks for due deliveries.
type Claim struct {
	// Due is the sandbox-clock time: deliveries whose next attempt is at
	// or before it are due.
	Due time.Time
	// Now is the wall-clock time: a lease that ends at or before it is
	// over, and its delivery can be claimed again.
	Now time.Time
	// Until is when the new leases end (wall clock).
	Until time.Time
	// Limit bounds how many deliveries one claim takes (> 0).
	Limit int
	// Owner names the replica claiming (kept as the deliveries'
	// LeasedBy, for the deliveries view); may be empty.
	Owner string
}

// Outcome is what an attempt at a claimed delivery leaves it in; Record
// writes it.
type Outcome struct {
	// Attempt is the attempt made (DeliveryID, Cycle, Number set).
	Attempt Attempt
	// Lease is the delivery's Lease when claimed.
	Lease int64
	// State is the delivery's state after the attempt.
	State DeliveryState
	// NextAttemptAt is when the next attempt is due (State pending).
	NextAttemptAt time.Time
}

// DeliveryFilter selects deliveries; empty fields select all.
type DeliveryFilter struct {
	VerificationID string
	State          DeliveryState
	// AfterID pages: only deliveries with a greater ID.
	AfterID int64
	// Limit bounds the answer (DefaultLimit when 0, at most MaxLimit).
	Limit int
}

// Store keeps verifications and the delivery outbox. Every method that
// writes does so in one transaction that is durable when it returns.
// Times are kept to the microsecond at least. Errors are Errors with the
// codes above where the caller can act on them.
type Store interface {
	DocumentStore

	// CreateVerification writes a new verification with Version 1
	// (ECONFLICT when its id is taken) and, in the same
	// transaction, enqueues the deliveries its creation causes (their
	// VerificationID defaults to v.ID). It sets the times and ids it
	// fills in on v and the deliveries.
	CreateVerification(ctx context.Context, v *Verification, enqueue ...*Delivery) error
	// Verification returns the verification with the id.
	Verification(ctx context.Context, id string) (*Verification, error)
	// Verifications returns the verifications the filter selects, oldest
	// first.
	Verifications(ctx context.Context, f VerificationFilter) ([]*Verification, error)
	// UpdateVerification writes v over the stored verification if the
	// stored Version is still v.Version (else ECONFLICT), increments
	// v.Version and, in the same transaction, enqueues the deliveries
	// the change causes. See Update for the read-modify-write loop.
	UpdateVerification(ctx context.Context, v *Verification, enqueue ...*Delivery) error

	// Enqueue writes pending deliveries, due at their NextAttemptAt (zero:
	// at once), and sets their ID, State, Cycle and times.
	Enqueue(ctx context.Context, ds ...*Delivery) error
	// Claim leases up to c.Limit pending deliveries that are due and not
	// leased (earliest due first) and returns them with their new Lease.
	// A lease that runs out makes its delivery claimable again: that is
	// how the claims of a crashed worker come back.
	Claim(ctx context.Context, c Claim) ([]*Delivery, error)
	// NextDue returns the earliest NextAttemptAt of the pending
	// deliveries not leased at now (wall clock); false when there is none.
	NextDue(ctx context.Context, now time.Time) (time.Time, bool, error)
	// Record writes an attempt at a claimed delivery and the state it
	// leaves the delivery in, ending the lease, in one transaction. When
	// the delivery's lease is no longer o.Lease (it ran out and another
	// worker claimed it, or it was resent) the attempt is still written
	// but the delivery is left alone, and the error is ECONFLICT.
	Record(ctx context.Context, o Outcome) error
	// Delivery returns the delivery with the id and its History.
	Delivery(ctx context.Context, id int64) (*Delivery, error)
	// Deliveries returns the deliveries the filter selects with their
	// History, in ID order.
	Deliveries(ctx context.Context, f DeliveryFilter) ([]*Delivery, error)
	// Resend starts a new cycle of the delivery: pending again, due at
	// at, with the whole retry policy ahead and any lease on it ended.
	// Its History is kept.
	Resend(ctx context.Context, id int64, at time.Time) (*Delivery, error)

	// ClockHighWater returns the latest sandbox-clock time the store
	// holds: the latest SyncClock was told, a verification's last change
	// or an attempt (zero for an empty store). A sandbox that starts on
	// the store starts its clock there, so that its clock does not run
	// back and what was due stays due.
	ClockHighWater(ctx context.Context) (time.Time, error)
	// SyncClock records that a replica's sandbox clock reads t and
	// returns the latest time any replica's clock was recorded at (t or
	// later): replicas on one store move their clocks up to it, so that
	// they agree on the sandbox time.
	SyncClock(ctx context.Context, t time.Time) (time.Time, error)

	// PartStore keeps the images uploaded through Jumio's API channel.
	PartStore
}

// MaxUpdateTries bounds how often Update tries again after losing to a
// concurrent write.
const MaxUpdateTries = 16

// Update reads the verification with the id, lets fn change it and name
// the deliveries the change causes, and writes both in one transaction.
// When another write got there first (ECONFLICT) it reads the
// verification again and calls fn again, so fn must do nothing but change
// v and build deliveries; an error from fn ends Update with that error.
func Update(ctx context.Context, s Store, id string, fn func(v *Verification) ([]*Delivery, error)) (*Verification, error) {
	var err error
	for try := 0; try < MaxUpdateTries; try++ {
		var v *Verification
		if v, err = s.Verification(ctx, id); err != nil {
			return nil, err
		}
		var ds []*Delivery
		if ds, err = fn(v); err != nil {
			return nil, err
		}
		if err = s.UpdateVerification(ctx, v, ds...); err == nil {
			return v, nil
		}
		if ErrorCode(err) != ECONFLICT {
			return nil, err
		}
	}
	return nil, fmt.Errorf("update verification %s: %d tries lost to concurrent writes: %w", id, MaxUpdateTries, err)
}

// The helpers below are the stores' (SQLite, PostgreSQL): what they do
// alike around their SQL.

// ValidateDeliveries returns the first delivery's error that cannot be
// written.
func ValidateDeliveries(ds []*Delivery) error {
	for _, d := range ds {
		if err := d.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// Settle sets what a store filled in on deliveries it wrote: their ids,
// the verification they belong to (when they named none), a first pending
// cycle without a claim, and the times.
func Settle(ds []*Delivery, ids []int64, verificationID string, now time.Time) {
	for i, d := range ds {
		d.ID = ids[i]
		if d.VerificationID == "" {
			d.VerificationID = verificationID
		}
		d.State, d.Cycle, d.Attempts, d.Lease, d.LeasedUntil, d.LeasedBy = Pending, 1, 0, 0, time.Time{}, ""
		d.CreatedAt, d.UpdatedAt = now.UTC(), now.UTC()
		d.History = nil
	}
}

// ClampLimit is the page size a filter's Limit asks for: DefaultLimit
// when 0 or below, at most MaxLimit.
func ClampLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultLimit
	case n > MaxLimit:
		return MaxLimit
	}
	return n
}
