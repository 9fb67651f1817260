package simulator

import (
	"errors"
	"time"

	"github.com/kycsim/kycsim/simulator/delivery"
	"github.com/kycsim/kycsim/simulator/event"
	"github.com/kycsim/kycsim/simulator/signing"
)

// Planner plans what a vendor does for one verification, by the name of
// a scenario: the sandbox asks it, and cmd/kycsim wires the scenario
// language's implementation (scenarios.Planner) in, so that nothing
// under simulator/ depends on the scenario language.
type Planner interface {
	// Has tells whether a scenario of this name can be planned.
	Has(name string) bool
	// Plan plans the named scenario from req.Start; an unknown name is
	// an error wrapping ErrNoScenario.
	Plan(name string, req PlanRequest) (*Plan, error)
}

// ErrNoScenario says a Planner has no scenario of the name asked for.
var ErrNoScenario = errors.New("no such scenario")

// PlanRequest is what a plan is made for: where its callbacks go, how
// they are signed, and the verification's identity.
type PlanRequest struct {
	// Product is the verification's product; URL is where its callbacks
	// go.
	Product, URL string
	// Secret and Algorithm sign Sumsub callbacks.
	Secret    string
	Algorithm signing.Algorithm
	// VendorBase is the base URL of the vendor API the callbacks' hrefs
	// point at.
	VendorBase string
	// Subject is the verification's id (the scenario's ${subject});
	// AccountID the Jumio account it belongs to.
	Subject, AccountID string
	// Fields are values the verification fixed (a reference, the user's
	// data) that every callback carries, by field path.
	Fields map[string]any
	// Start is the plan's clock at its first step.
	Start time.Time
}

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

// VendorState is what the vendor API answers for the subject from now
// on: for Jumio KYX the retrieval decision, for Sumsub the applicant's
// review.
type VendorState struct {
	// Subject overrides ${subject}.
	Subject string
	// Jumio KYX retrieval.
	Decision   string // PASSED, REJECTED, WARNING, NOT_EXECUTED
	RiskScore  *int
	Label      string         // decision details label, e.g. TOKEN_EXPIRED
	Capability map[string]any // capabilities object, as JSON
	// Sumsub applicant review.
	ReviewStatus string
	ReviewAnswer string
	RejectLabels []string
	RejectType   string
}
