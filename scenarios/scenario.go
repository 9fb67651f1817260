// Package scenarios is kycsim's language for scripted vendor behaviour:
// a scenario names a product and plays steps (send, wait, redeliver,
// parallel, vendor state, expect) against a receiver. This file holds the
// language's types; load.go reads them from YAML, strictly and with
// file:line:col errors; run.go plays them. The built-in library is
// embedded from library/.
package scenarios

import (
	"fmt"
	"time"

	"github.com/kycsim/kycsim/simulator"
)

// Pos is a place in a scenario file.
type Pos struct {
	File      string
	Line, Col int
}

// String renders file:line:col.
func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Scenario is one script.
type Scenario struct {
	// Name is "product/file-stem" for built-in scenarios, or the name the
	// file gives.
	Name        string
	Product     string
	Description string
	Tags        []string
	// Vars are generated (or literal) values shared by the steps,
	// referred to as ${name} inside strings. Every scenario also has
	// ${subject}: the subject id of the product (generated unless Vars
	// sets "subject").
	Vars  []Var
	Steps []Step
	// Case is set for a conformance case: a scenario whose expectations
	// certify a receiver.
	Case *Case
	Pos  Pos
}

// Case is what makes a scenario a conformance case.
type Case struct {
	// ID is stable and dotted: product.class.name
	// (sumsub.reject.signature.tampered-body).
	ID string
	// Level is MUST or SHOULD.
	Level string
	// Rule is the vendor rule the case checks, and Source where the
	// vendor states it.
	Rule, Source string
}

// The case levels.
const (
	LevelMust   = "MUST"
	LevelShould = "SHOULD"
)

// Var is a scenario variable.
type Var struct {
	Name string
	// Generate names a generator (see Generators); Value is a literal;
	// Handled lists messages of the product in order of preference, and
	// the variable takes the first one the receiver handles (a case that
	// needs an effect to observe plays a message the receiver acts on).
	// When none is handled the scenario does not apply, unless Prefer is
	// set: then the variable takes the first message, and only the
	// receiver's answer to it is checked. Exactly one of Generate, Value
	// and Handled is set.
	Generate string
	Value    string
	Handled  []string
	Prefer   bool
	Pos      Pos
}

// Generators are the value generators a Var may name: uuid (a version-4
// UUID), sumsub-id (24 hex digits), scan-reference (36 characters),
// digits (12 decimal digits).
var Generators = []string{"uuid", "sumsub-id", "scan-reference", "digits"}

// StepKind says what a step does.
type StepKind string

// The step kinds.
const (
	KindSend        StepKind = "send"
	KindWait        StepKind = "wait"
	KindRedeliver   StepKind = "redeliver"
	KindParallel    StepKind = "parallel"
	KindVendorState StepKind = "vendor-state"
	KindExpect      StepKind = "expect"
)

// Step is one step; Kind says which of the pointers is set.
type Step struct {
	Kind StepKind
	// ID names the step for redeliver (optional; unique in a scenario).
	ID string
	// Name is a human label printed when the step runs (optional).
	Name string
	Pos  Pos

	Send      *Send
	Wait      time.Duration
	Redeliver *Redeliver
	Parallel  []Step // send or redeliver steps, played at once
	// Identical is set on a parallel step whose parts are copies of one
	// send ({count: N, send: ..., identical: true}): the callback is built once and its
	// copies go out byte-identical, at the same instant, as the vendor's
	// duplicate deliveries racing a receiver's first look-up.
	Identical   bool
	VendorState *VendorState
	Expect      *Effects
}

// Send sends one callback of the scenario's product.
type Send struct {
	// Message is a message name, or ${var} for a variable that lists
	// the messages the step may play (Var.Handled).
	Message string
	// Subject overrides the scenario's ${subject} for this callback.
	Subject string
	// Set holds overrides in order: path (dotted or JSON pointer) and a
	// JSON value (a YAML scalar, sequence or mapping converted to JSON).
	Set []Override
	// Unset lists paths to remove.
	Unset []string
	// RawBody, when set, is sent as it is instead of a built payload.
	RawBody *string
	// Precision is the Jumio millisecond digits (nil: the vendor's 3).
	Precision *int
	// SandboxMode is the Sumsub sandboxMode form: "bool" or "string".
	SandboxMode string
	// Age makes the event this long before the step runs, so that it
	// arrives late: its timestamps are older than those already sent.
	Age time.Duration
	// RejectCode is the Netverify rejectReasonCode (details follow it).
	RejectCode string
	// ReviewAnswer (GREEN, RED), RejectType (FINAL, RETRY) and
	// RejectLabels shape a Sumsub reviewResult.
	ReviewAnswer string
	RejectType   string
	RejectLabels []string
	Sign         Signing
	// Recorded holds the signature headers a recorded callback came with
	// (kycsim record); non-nil (maybe empty) for a recorded Sumsub step.
	// A run with Options.AsRecorded sends them as they are instead of
	// signing.
	Recorded []Header
	Delivery Delivery
	// Expect is what the receiver's answer must be.
	Expect *Answer
}

// Override is one --set of a send step.
type Override struct {
	Path  string
	Value any // JSON model: nil, bool, json.Number, string, []any, map[string]any
	Pos   Pos
}

// Signing says how a Sumsub callback is signed in a step. The zero value
// signs correctly with the run's secret and HMAC_SHA256_HEX.
type Signing struct {
	// Secret replaces the run's secret (e.g. a wrong one).
	Secret *string
	// Algorithm is the digest algorithm (HMAC_SHA1_HEX, HMAC_SHA256_HEX,
	// HMAC_SHA512_HEX).
	Algorithm string
	// AlgorithmHeader, when set, is sent as X-Payload-Digest-Alg instead
	// of the algorithm's name (e.g. an unknown algorithm).
	AlgorithmHeader *string
	// Digest is "" (correct), "missing" (no digest header), "wrong" (a
	// digest of other bytes) or "tampered" (the body changes after
	// signing).
	Digest string
}

// The values of Signing.Digest.
const (
	DigestMissing  = "missing"
	DigestWrong    = "wrong"
	DigestTampered = "tampered"
)

// Delivery says how a callback is delivered.
type Delivery struct {
	// From binds the source address (a loopback address).
	From string
	// ForwardedFor adds X-Forwarded-For.
	ForwardedFor string
	// Headers are extra headers, in order.
	Headers []Header
	// ContentType replaces the product's content type.
	ContentType string
	// Retry is false by default: one attempt. True retries with the
	// vendor's policy; Delays gives custom waits instead.
	Retry  bool
	Delays []time.Duration
	// AnswerTimeout replaces the vendor's answer deadline.
	AnswerTimeout time.Duration
}

// Header is one extra header.
type Header struct{ Name, Value string }

// Answer is an expectation on the receiver's answer to a callback.
type Answer struct {
	// Status is an exact code ("200") or a class ("2xx", "4xx").
	Status string
	// Within bounds the latency of the last attempt (0: no bound).
	Within time.Duration
	// Attempts is the number of attempts made (0: not checked).
	Attempts int
	Pos      Pos
}

// Redeliver sends an earlier step's callback again.
type Redeliver struct {
	// Step is the ID of an earlier send step.
	Step string
	// Restamp gives the callback a fresh timestamp (Jumio callbackSentAt
	// / callbackDate / timestamp, Sumsub createdAtMs) instead of sending
	// the same bytes.
	Restamp bool
	// Delivery and Expect as in Send (the sent step's delivery when
	// Delivery is nil).
	Delivery *Delivery
	Expect   *Answer
}

// VendorState is what the vendor API answers for the subject from now
// on; the type lives in simulator, which the sandbox's plans use.
type VendorState = simulator.VendorState

// Effects is an expectation on what the receiver did, seen through the
// probe and the vendor API mock.
type Effects struct {
	Subject string // overrides ${subject}
	// Events is the number of distinct events the receiver acted on
	// (nil: not checked).
	Events *int
	// Status is the subject's status as the probe reports it ("null" for
	// an unknown subject; nil: not checked).
	Status *string
	// NotStatus is a status the probe must not report (nil: not
	// checked), e.g. completed/GREEN for an event that is no approval.
	NotStatus *string
	// Decision is the class of the receiver's own decision the probe
	// must report (ClassApproved, ClassRejected, ClassNotApproved; nil:
	// not checked). A probe that reports no decision leaves it
	// unobserved.
	Decision *string
	// Fetches is the number of vendor-API fetches for the subject (nil:
	// not checked).
	Fetches *int
	// Within is how long the expectation may take to come true (polled;
	// the run's settle window by default). Once true, it must stay true
	// for the run's quiet window.
	Within time.Duration
	Pos    Pos
}

// Negative reports whether the expectation says the receiver did nothing
// (no events, no status, no fetches): such an expectation can only be
// trusted after a quiet window.
func (e *Effects) Negative() bool {
	return (e.Events == nil || *e.Events == 0) && (e.Status == nil || *e.Status == "null") && (e.Fetches == nil || *e.Fetches == 0)
}

// Positive reports whether the expectation needs the receiver to have
// acted (events > 0, a status other than null, or fetches > 0).
func (e *Effects) Positive() bool {
	return (e.Events != nil && *e.Events > 0) || (e.Status != nil && *e.Status != "null") || (e.Fetches != nil && *e.Fetches > 0)
}
