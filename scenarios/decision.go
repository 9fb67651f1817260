package scenarios

import "strings"

// A receiver's probe may report its own decision about a subject
// ({"events": N, "status": "S", "decision": "approved"}): what it made of
// the vendor's result, as opposed to the raw vendor status it may keep for
// audit. When it does, a status expectation that speaks of a decision is
// judged by the decision, so that a receiver that records the raw status
// of a stale or invalid result without acting on it is not flagged, and
// one that acts wrongly on a result (a string "FALSE" read as true) is.

// The decisions a probe may report. A receiver reports the one that fits
// its own state; an expectation accepts every decision of its class.
const (
	DecisionApproved = "approved" // the subject is approved
	DecisionRejected = "rejected" // the subject is rejected for good
	DecisionRetry    = "retry"    // rejected for now: the user may try again
	DecisionPending  = "pending"  // no decision yet
)

// The classes of decision an expectation names (Effects.Decision, and
// the decision a status implies).
const (
	// ClassApproved accepts approved only.
	ClassApproved = "approved"
	// ClassRejected accepts rejected or retry.
	ClassRejected = "rejected"
	// ClassNotApproved accepts anything but approved.
	ClassNotApproved = "not-approved"
)

// DecisionClasses lists the values of an expect step's decision.
var DecisionClasses = []string{ClassApproved, ClassRejected, ClassNotApproved}

// statusDecision returns the class of decision a product's status
// implies, or "" when it implies none (KYX and Document Verification
// statuses, which carry no decision; an unknown subject).
func statusDecision(product, status string) string {
	switch product {
	case "sumsub":
		switch {
		case status == "null" || status == "":
			return ""
		case status == "completed/GREEN":
			return ClassApproved
		case status == "completed/RED":
			return ClassRejected
		}
		return ClassNotApproved
	case "jumio-netverify":
		switch {
		case status == "APPROVED_VERIFIED":
			return ClassApproved
		case strings.HasPrefix(status, "DENIED_"), status == "ERROR_NOT_READABLE_ID", status == "NO_ID_UPLOADED":
			return ClassRejected
		}
	case "jumio-auth":
		switch status {
		case "PASSED":
			return ClassApproved
		case "FAILED":
			return ClassRejected
		case "INVALID", "EXPIRED":
			return ClassNotApproved
		}
	}
	return ""
}

// decisionFits reports whether a reported decision is of a class.
func decisionFits(class, decision string) bool {
	switch class {
	case ClassApproved:
		return decision == DecisionApproved
	case ClassRejected:
		return decision == DecisionRejected || decision == DecisionRetry
	}
	return decision != DecisionApproved
}
