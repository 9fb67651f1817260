package load

// staleMessages give, per product, the message a stale event is: an
// earlier step of the lifecycle than the message loaded, so that acting
// on it would move the subject's state backwards. A Sumsub message
// missing from the map is followed by an older copy of itself: a
// distinct event (another correlationId and createdAtMs), as stale as an
// earlier type since Sumsub events are ordered by createdAtMs. A Jumio
// message missing from its map has no stale companion: an older copy of
// a Jumio callback is the same event redelivered (a duplicate), not
// another one.
var staleMessages = map[string]map[string]string{
	"jumio-kyx": {
		"PROCESSED": "ACQUIRED", "SESSION_EXPIRED": "ACQUIRED", "TOKEN_EXPIRED": "ACQUISITION_STARTED",
		"ACQUIRED": "ACQUISITION_STARTED",
	},
	"jumio-netverify": {
		"APPROVED_VERIFIED": "ERROR_NOT_READABLE_ID", "DENIED_FRAUD": "ERROR_NOT_READABLE_ID",
		"DENIED_UNSUPPORTED_ID_TYPE": "NO_ID_UPLOADED", "DENIED_UNSUPPORTED_ID_COUNTRY": "NO_ID_UPLOADED",
		"ERROR_NOT_READABLE_ID": "NO_ID_UPLOADED", "NO_ID_UPLOADED": "ERROR_NOT_READABLE_ID",
	},
	"jumio-auth": {
		"PASSED": "FAILED", "FAILED": "PASSED", "INVALID": "FAILED", "EXPIRED": "FAILED",
	},
	"jumio-docverify": {
		"EXTRACTED": "UPLOADED", "DISCARDED": "UPLOADED", "UPLOADED": "DISCARDED", "FAILED": "UPLOADED",
	},
	"sumsub": {
		"applicantReviewed": "applicantPending", "applicantPending": "applicantCreated",
		"applicantPrechecked": "applicantPending", "applicantOnHold": "applicantPending",
		"applicantWorkflowCompleted": "applicantPending",
		"applicantActionReviewed":    "applicantActionPending", "applicantActionOnHold": "applicantActionPending",
	},
}

// StaleMessage returns the message of the stale events that follow a
// product's message (sent dated StaleAge before the event they follow):
// an earlier one of the lifecycle, or for Sumsub the message itself; ""
// when there is none (jumio-kyx ACQUISITION_STARTED, the first stage).
func StaleMessage(product, message string) string {
	if m, ok := staleMessages[product][message]; ok {
		return m
	}
	if product == "sumsub" {
		return message
	}
	return ""
}
