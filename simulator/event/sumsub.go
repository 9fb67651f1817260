package event

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/kycsim/kycsim/spec/format"
)

// Sumsub webhooks: one JSON object a type. Each type follows its example
// in the webhook documentation: the same members in the same order, the
// same reviewStatus, and reviewResult exactly where the example has one.

// sumsubShape is the example of one webhook type.
type sumsubShape struct {
	keys         []string // members in order; "sandboxMode" where the example has it
	reviewStatus string
	sandbox      string // the form of sandboxMode in the example, "" when absent
	level        string // levelName
}

var (
	applicantKeys = []string{"applicantId", "inspectionId", "applicantType", "correlationId", "levelName", "externalUserId", "type", "sandboxMode", "reviewStatus", "createdAtMs", "clientId"}
	resultKeys    = []string{"applicantId", "inspectionId", "applicantType", "correlationId", "levelName", "externalUserId", "type", "sandboxMode", "reviewResult", "reviewStatus", "createdAtMs", "clientId"}
)

var sumsubShapes = map[string]sumsubShape{
	"applicantCreated":             {[]string{"applicantId", "inspectionId", "correlationId", "levelName", "externalUserId", "type", "sandboxMode", "reviewStatus", "createdAtMs", "clientId"}, "init", SandboxModeString, "basic-kyc-level"},
	"applicantPending":             {applicantKeys, "pending", SandboxModeString, "basic-kyc-level"},
	"applicantReviewed":            {[]string{"applicantId", "inspectionId", "correlationId", "externalUserId", "levelName", "type", "reviewResult", "reviewStatus", "createdAtMs"}, "completed", "", "basic-kyc-level"},
	"applicantOnHold":              {applicantKeys, "pending", SandboxModeString, "basic-kyc-level"},
	"applicantActionPending":       {[]string{"applicantId", "applicantActionId", "externalApplicantActionId", "inspectionId", "applicantType", "correlationId", "levelName", "externalUserId", "type", "reviewStatus", "createdAtMs"}, "completed", "", "basic-action-level"},
	"applicantActionReviewed":      {[]string{"applicantId", "applicantActionId", "externalApplicantActionId", "inspectionId", "correlationId", "levelName", "externalUserId", "type", "reviewResult", "reviewStatus", "createdAtMs"}, "completed", "", "basic-action-level"},
	"applicantActionOnHold":        {[]string{"applicantId", "applicantActionId", "inspectionId", "correlationId", "levelName", "externalUserId", "type", "reviewStatus", "createdAtMs"}, "init", "", "basic-action-level"},
	"applicantPersonalInfoChanged": {resultKeys, "completed", SandboxModeString, "basic-kyc-level"},
	"applicantTagsChanged":         {resultKeys, "completed", SandboxModeString, "basic-kyc-level"},
	"applicantActivated":           {applicantKeys, "init", SandboxModeString, "basic-kyc-level"},
	"applicantDeactivated":         {applicantKeys, "init", SandboxModeString, "basic-kyc-level"},
	"applicantDeleted":             {applicantKeys, "init", SandboxModeString, "basic-kyc-level"},
	"applicantReset":               {resultKeys, "init", SandboxModeString, "basic-kyc-level"},
	"applicantPrechecked":          {applicantKeys, "queued", SandboxModeString, "basic-kyc-level"},
	"applicantLevelChanged":        {[]string{"applicantId", "inspectionId", "applicantType", "correlationId", "levelName", "previousLevelName", "externalUserId", "type", "sandboxMode", "reviewStatus", "createdAtMs", "clientId"}, "init", SandboxModeString, "basic-kyc-level"},
	"applicantWorkflowCompleted":   {[]string{"applicantId", "inspectionId", "applicantType", "correlationId", "levelName", "sandboxMode", "externalUserId", "type", "reviewResult", "reviewStatus", "createdAt", "createdAtMs", "clientId"}, "completed", SandboxModeBool, "basic-kyc-level"},
	"videoIdentStatusChanged":      {[]string{"applicantId", "inspectionId", "applicantType", "correlationId", "levelName", "externalUserId", "type", "sandboxMode", "reviewStatus", "videoIdentReviewStatus", "createdAtMs", "clientId"}, "init", SandboxModeString, "kyc-video-level"},
}

// Reject labels by the reject type they usually come with: a RETRY asks
// the applicant to resubmit, a FINAL closes the case.
var (
	retryLabels = []string{"UNSATISFACTORY_PHOTOS", "SCREENSHOTS", "BLACK_AND_WHITE", "INCOMPLETE_DOCUMENT", "DOCUMENT_PAGE_MISSING", "DB_DATA_NOT_FOUND", "CHECK_UNAVAILABLE"}
	finalLabels = []string{"FORGERY", "GRAPHIC_EDITOR", "SPAM", "WRONG_USER_REGION", "PROBLEMATIC_APPLICANT_DATA", "RESTRICTED_PERSON", "AGE_REQUIREMENT_MISMATCH", "EXTERNAL_DECISION_REJECTION"}
)

func checkSumsubOptions(o *Options) error {
	switch {
	case precisionSet(o):
		return fmt.Errorf("precision %d: Sumsub timestamps always have 3 millisecond digits (yyyy-MM-dd HH:mm:ss.fff)", *o.Precision)
	case o.AccountID != "":
		return errors.New("account id: account.id is a jumio-kyx field")
	case o.RejectCode != "":
		return errors.New("reject code: rejectReason is a jumio-netverify field")
	}
	switch o.SandboxMode {
	case "", SandboxModeBool, SandboxModeString:
	default:
		return fmt.Errorf("sandbox mode %q: use %q, %q or empty (the vendor example's form)", o.SandboxMode, SandboxModeBool, SandboxModeString)
	}
	switch o.ReviewAnswer {
	case "", "GREEN", "RED":
	default:
		return fmt.Errorf("review answer %q: GREEN or RED", o.ReviewAnswer)
	}
	switch o.ReviewRejectType {
	case "", "FINAL", "RETRY":
	default:
		return fmt.Errorf("review reject type %q: FINAL or RETRY", o.ReviewRejectType)
	}
	if o.ReviewAnswer != "RED" && (o.ReviewRejectType != "" || len(o.RejectLabels) > 0) {
		return errors.New("reject labels and type come with review answer RED")
	}
	for i, l := range o.RejectLabels {
		if l == "" {
			return fmt.Errorf("reject label %d is empty", i+1)
		}
	}
	return nil
}

func buildSumsub(g *gen, message string) (*Object, error) {
	shape, ok := sumsubShapes[message]
	if !ok {
		return nil, fmt.Errorf("no sumsub webhook type %s", message)
	}
	hasResult := false
	for _, k := range shape.keys {
		hasResult = hasResult || k == "reviewResult"
	}
	if !hasResult && g.opt.ReviewAnswer != "" {
		return nil, fmt.Errorf("review answer %s: the %s example carries no reviewResult", g.opt.ReviewAnswer, message)
	}
	// By default sandboxMode is where the vendor's example has it, as the
	// Boolean the attribute table documents (so the event passes level
	// strict); the examples' string form is the opt-in quirk.
	sandboxForm := g.opt.SandboxMode
	if sandboxForm == "" && shape.sandbox != "" {
		sandboxForm = SandboxModeBool
	}

	// Ids are MongoDB object ids, as Sumsub's are: 4 bytes of creation
	// time, then 8 random bytes; the inspection id follows the applicant
	// id, as in every example.
	created := g.now.Add(-g.between(time.Hour, 7*24*time.Hour))
	if message == "applicantCreated" {
		created = g.now.Add(-g.between(100*time.Millisecond, 2*time.Second))
	}
	applicant := g.opt.Subject
	if applicant == "" {
		applicant = g.objectID(created)
	}
	inspection, ok := nextObjectID(applicant)
	if !ok {
		inspection = g.objectID(created)
	}

	o := &Object{members: make([]member, 0, len(shape.keys)+1)}
	for _, k := range shape.keys {
		switch k {
		case "applicantId":
			o.set(k, applicant)
		case "applicantActionId":
			o.set(k, g.objectID(g.now.Add(-g.between(time.Minute, 10*time.Minute))))
		case "externalApplicantActionId":
			o.set(k, "action-"+g.hex(10))
		case "inspectionId":
			o.set(k, inspection)
		case "applicantType":
			o.set(k, "individual")
		case "correlationId":
			o.set(k, "req-"+g.uuid())
		case "levelName":
			o.set(k, shape.level)
		case "previousLevelName":
			o.set(k, "id-only-level")
		case "externalUserId":
			o.set(k, "user-"+g.digitString(6))
		case "type":
			o.set(k, message)
			if shape.sandbox == "" && sandboxForm != "" {
				o.set("sandboxMode", sandboxValue(sandboxForm, g.opt.Sandbox))
			}
		case "sandboxMode":
			o.set(k, sandboxValue(sandboxForm, g.opt.Sandbox))
		case "reviewResult":
			o.set(k, g.reviewResult(message))
		case "reviewStatus":
			o.set(k, shape.reviewStatus)
		case "videoIdentReviewStatus":
			o.set(k, "pending")
		case "createdAt":
			o.set(k, format.FormatSumsubCreatedAt(g.now))
		case "createdAtMs":
			o.set(k, format.FormatSumsubCreatedAtMs(g.now))
		case "clientId":
			o.set(k, "kycsim-client")
		default:
			return nil, fmt.Errorf("sumsub %s: no value for %s", message, k)
		}
	}
	return o, nil
}

func sandboxValue(form string, on bool) any {
	if form == SandboxModeBool {
		return on
	}
	return strconv.FormatBool(on)
}

// reviewResult returns the reviewResult of a webhook: GREEN, or RED with
// reject labels and type (and, for a review, the comments Sumsub adds).
func (g *gen) reviewResult(message string) *Object {
	rr := NewObject()
	if g.opt.ReviewAnswer != "RED" {
		rr.set("reviewAnswer", "GREEN")
		return rr
	}
	rejectType := g.opt.ReviewRejectType
	if rejectType == "" {
		rejectType = "FINAL"
	}
	labels := make([]any, 0, len(g.opt.RejectLabels))
	for _, l := range g.opt.RejectLabels {
		labels = append(labels, l)
	}
	if len(labels) == 0 {
		pool := finalLabels
		if rejectType == "RETRY" {
			pool = retryLabels
		}
		for _, j := range g.r.Perm(len(pool))[:1+g.r.IntN(2)] {
			labels = append(labels, pool[j])
		}
	}
	if message == "applicantReviewed" {
		if rejectType == "FINAL" {
			rr.set("moderationComment", "We could not verify your profile. Please contact the company you are verifying with.")
			rr.set("clientComment", "Verification declined by the compliance team.")
		} else {
			rr.set("moderationComment", "Please upload clear, full-colour photos of your document.")
			rr.set("clientComment", "Resubmission requested.")
		}
	}
	rr.set("reviewAnswer", "RED")
	rr.set("rejectLabels", labels)
	rr.set("reviewRejectType", rejectType)
	if message == "applicantWorkflowCompleted" {
		rr.set("buttonIds", []any{})
	}
	return rr
}

// objectID returns a MongoDB-style object id created at t.
func (g *gen) objectID(t time.Time) string {
	secs := uint32(t.Unix())
	b := make([]byte, 0, 24)
	for i := 3; i >= 0; i-- {
		c := byte(secs >> (8 * i))
		b = append(b, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return string(b) + g.hex(16)
}

// nextObjectID returns the object id after id, as Sumsub numbers an
// applicant's inspection; false when id is not 24 hexadecimal digits.
func nextObjectID(id string) (string, bool) {
	if len(id) != 24 {
		return "", false
	}
	b := []byte(id)
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return "", false
		}
	}
	for i := len(b) - 1; i >= 0; i-- {
		switch b[i] {
		case 'f':
			b[i] = '0'
			continue
		case '9':
			b[i] = 'a'
		default:
			b[i]++
		}
		return string(b), true
	}
	return string(b), true
}
