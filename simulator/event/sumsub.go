package event

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kycsim/kycsim/spec/format"
)

// Sumsub webhooks: one JSON object a type. Each type follows its example
// in the webhook documentation: the same members in the same order, the
// same reviewStatus, and reviewResult exactly where the example has one.
// Every webhook also carries what real deliveries carry and the examples
// often leave out (applicantType, sandboxMode as a Boolean, createdAt,
// clientId), each placed where sumsubOrder puts it; correlationId is a
// 32-digit hex id or, as in the examples, "req-" and a UUID (a seed-chosen
// variant). Options.Nulls adds the optional attributes real deliveries
// send as null.

// sumsubShape is the example of one webhook type.
type sumsubShape struct {
	keys         []string // members of the example, in order
	reviewStatus string
	level        string // levelName
	answer       string // the usual reviewAnswer of a type with reviewResult ("" for GREEN)
	kyt          bool   // a transaction monitoring (KYT) webhook
}

// sumsubOrder is the order of every member a webhook may carry. A member
// the example of a type lacks goes after the nearest member before it in
// this order that the example has.
var sumsubOrder = []string{"applicantId", "applicantActionId", "externalApplicantActionId", "inspectionId", "applicantType",
	"correlationId", "levelName", "previousLevelName", "externalUserId", "kytTxnId", "kytDataTxnId", "kytTxnType", "type",
	"sandboxMode", "reviewResult", "reviewStatus", "videoIdentReviewStatus", "applicantMemberOf", "createdAt", "createdAtMs", "clientId"}

// sumsubReal are the members every real delivery carries.
var sumsubReal = []string{"applicantType", "sandboxMode", "createdAt", "clientId"}

// sumsubNullable are the optional attributes real deliveries send as null
// when they have no value (Options.Nulls).
var sumsubNullable = []string{"applicantActionId", "externalApplicantActionId", "previousLevelName", "reviewResult", "videoIdentReviewStatus", "applicantMemberOf"}

var (
	applicantKeys = []string{"applicantId", "inspectionId", "applicantType", "correlationId", "levelName", "externalUserId", "type", "sandboxMode", "reviewStatus", "createdAtMs", "clientId"}
	resultKeys    = []string{"applicantId", "inspectionId", "applicantType", "correlationId", "levelName", "externalUserId", "type", "sandboxMode", "reviewResult", "reviewStatus", "createdAtMs", "clientId"}
	videoKeys     = []string{"applicantId", "inspectionId", "applicantType", "correlationId", "levelName", "externalUserId", "type", "sandboxMode", "reviewStatus", "videoIdentReviewStatus", "createdAtMs", "clientId"}
	// The document has no example of a transaction monitoring (KYT)
	// webhook; these members are those real ones carry (no inspectionId,
	// no levelName), in the order of sumsubOrder. Which reviewStatus each
	// KYT type comes with is unconfirmed: kycsim's choice.
	kytKeys       = []string{"applicantId", "correlationId", "externalUserId", "kytTxnId", "kytDataTxnId", "kytTxnType", "type", "reviewStatus", "createdAtMs"}
	kytResultKeys = []string{"applicantId", "correlationId", "externalUserId", "kytTxnId", "kytDataTxnId", "kytTxnType", "type", "reviewResult", "reviewStatus", "createdAtMs"}
)

var sumsubShapes = map[string]sumsubShape{
	"applicantCreated":             {keys: []string{"applicantId", "inspectionId", "correlationId", "levelName", "externalUserId", "type", "sandboxMode", "reviewStatus", "createdAtMs", "clientId"}, reviewStatus: "init", level: "basic-kyc-level"},
	"applicantPending":             {keys: applicantKeys, reviewStatus: "pending", level: "basic-kyc-level"},
	"applicantReviewed":            {keys: []string{"applicantId", "inspectionId", "correlationId", "externalUserId", "levelName", "type", "reviewResult", "reviewStatus", "createdAtMs"}, reviewStatus: "completed", level: "basic-kyc-level"},
	"applicantOnHold":              {keys: applicantKeys, reviewStatus: "pending", level: "basic-kyc-level"},
	"applicantActionPending":       {keys: []string{"applicantId", "applicantActionId", "externalApplicantActionId", "inspectionId", "applicantType", "correlationId", "levelName", "externalUserId", "type", "reviewStatus", "createdAtMs"}, reviewStatus: "completed", level: "basic-action-level"},
	"applicantActionReviewed":      {keys: []string{"applicantId", "applicantActionId", "externalApplicantActionId", "inspectionId", "correlationId", "levelName", "externalUserId", "type", "reviewResult", "reviewStatus", "createdAtMs"}, reviewStatus: "completed", level: "basic-action-level"},
	"applicantActionOnHold":        {keys: []string{"applicantId", "applicantActionId", "inspectionId", "correlationId", "levelName", "externalUserId", "type", "reviewStatus", "createdAtMs"}, reviewStatus: "init", level: "basic-action-level"},
	"applicantPersonalInfoChanged": {keys: resultKeys, reviewStatus: "completed", level: "basic-kyc-level"},
	"applicantTagsChanged":         {keys: resultKeys, reviewStatus: "completed", level: "basic-kyc-level"},
	"applicantActivated":           {keys: applicantKeys, reviewStatus: "init", level: "basic-kyc-level"},
	"applicantDeactivated":         {keys: applicantKeys, reviewStatus: "init", level: "basic-kyc-level"},
	"applicantDeleted":             {keys: applicantKeys, reviewStatus: "init", level: "basic-kyc-level"},
	"applicantReset":               {keys: resultKeys, reviewStatus: "init", level: "basic-kyc-level"},
	"applicantPrechecked":          {keys: applicantKeys, reviewStatus: "queued", level: "basic-kyc-level"},
	"applicantLevelChanged":        {keys: []string{"applicantId", "inspectionId", "applicantType", "correlationId", "levelName", "previousLevelName", "externalUserId", "type", "sandboxMode", "reviewStatus", "createdAtMs", "clientId"}, reviewStatus: "init", level: "basic-kyc-level"},
	"applicantWorkflowCompleted":   {keys: []string{"applicantId", "inspectionId", "applicantType", "correlationId", "levelName", "sandboxMode", "externalUserId", "type", "reviewResult", "reviewStatus", "createdAt", "createdAtMs", "clientId"}, reviewStatus: "completed", level: "basic-kyc-level"},
	"videoIdentStatusChanged":      {keys: videoKeys, reviewStatus: "init", level: "kyc-video-level"},

	// Newer types the document has no example of: shaped like their
	// nearest documented type; the reviewStatus of each is kycsim's
	// choice where Sumsub's text does not give it.
	"applicantActionLevelChanged":    {keys: []string{"applicantId", "applicantActionId", "externalApplicantActionId", "inspectionId", "correlationId", "levelName", "previousLevelName", "externalUserId", "type", "reviewStatus", "createdAtMs"}, reviewStatus: "init", level: "basic-action-level"},
	"applicantAwaitingService":       {keys: applicantKeys, reviewStatus: "awaitingService", level: "basic-kyc-level"},
	"applicantPersonalDataDeleted":   {keys: applicantKeys, reviewStatus: "init", level: "basic-kyc-level"},
	"videoIdentCompositionCompleted": {keys: videoKeys, reviewStatus: "pending", level: "kyc-video-level"},
	"applicantKytTxnCreated":         {keys: kytKeys, reviewStatus: "pending", level: "kyt-level", kyt: true},
	"applicantKytTxnApproved":        {keys: kytResultKeys, reviewStatus: "completed", level: "kyt-level", kyt: true},
	"applicantKytTxnRejected":        {keys: kytResultKeys, reviewStatus: "completed", level: "kyt-level", answer: "RED", kyt: true},
	"applicantKytTxnAwaitingUser":    {keys: kytKeys, reviewStatus: "awaitingUser", level: "kyt-level", kyt: true},
	"applicantKytTxnReviewed":        {keys: kytKeys, reviewStatus: "pending", level: "kyt-level", kyt: true},
	"applicantKytTxnDeleted":         {keys: kytKeys, reviewStatus: "completed", level: "kyt-level", kyt: true},
	"applicantKytTxnDataChanged":     {keys: kytKeys, reviewStatus: "pending", level: "kyt-level", kyt: true},
	"applicantKytOnHold":             {keys: kytKeys, reviewStatus: "onHold", level: "kyt-level", kyt: true},
}

// SumsubTypes lists the webhook types kycsim builds, sorted.
func SumsubTypes() []string {
	out := make([]string, 0, len(sumsubShapes))
	for t := range sumsubShapes {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// members returns the members a webhook of the shape carries: the
// example's, the real-traffic ones, the documented envelope in the table
// form, and the nullable ones when nulls are asked for.
func (s sumsubShape) members(table, nulls, noApplicant bool) []string {
	keys := slices.Clone(s.keys)
	add := append([]string(nil), sumsubReal...)
	if s.kyt && table {
		// The document's envelope, which level strict holds every type to.
		add = append(add, "inspectionId", "levelName")
	}
	if nulls {
		add = append(add, sumsubNullable...)
	}
	for _, k := range sumsubOrder {
		if !slices.Contains(add, k) || slices.Contains(keys, k) {
			continue
		}
		at := 0
		for j := slices.Index(sumsubOrder, k) - 1; j >= 0; j-- {
			if i := slices.Index(keys, sumsubOrder[j]); i >= 0 {
				at = i + 1
				break
			}
		}
		keys = slices.Insert(keys, at, k)
	}
	if noApplicant {
		keys = slices.DeleteFunc(keys, func(k string) bool { return k == "applicantId" })
	}
	return keys
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
		return fmt.Errorf("sandbox mode %q: use %q (the default) or %q", o.SandboxMode, SandboxModeBool, SandboxModeString)
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
		return nil, fmt.Errorf("no sumsub webhook type %s (kycsim builds %s)", message, strings.Join(SumsubTypes(), ", "))
	}
	hasResult := slices.Contains(shape.keys, "reviewResult")
	if !hasResult && g.opt.ReviewAnswer != "" {
		return nil, fmt.Errorf("review answer %s: %s carries no reviewResult", g.opt.ReviewAnswer, message)
	}
	answer := g.opt.ReviewAnswer
	if answer == "" {
		answer = cmp.Or(shape.answer, "GREEN")
	}
	sandboxForm := cmp.Or(g.opt.SandboxMode, SandboxModeBool)
	// A transaction created without an applicant has no applicantId: a
	// variant of one in four, when no subject is asked for.
	noApplicant := false
	if message == "applicantKytTxnCreated" && !g.table && g.opt.Subject == "" {
		noApplicant = g.variant("sumsub.applicantId", "present", "present", "present", "absent") == "absent"
	}
	keys := shape.members(g.table, g.opt.Nulls, noApplicant)

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
	switch {
	case ok:
	case g.hasIdent:
		inspection = g.per("sumsub.inspectionId").hex(24)
	default:
		inspection = g.objectID(created)
	}
	correlation := g.hex(32)
	if g.variant("sumsub.correlationId", "hex", "req-uuid") == "req-uuid" {
		correlation = "req-" + g.uuid()
	}

	o := &Object{members: make([]member, 0, len(keys))}
	for _, k := range keys {
		if g.opt.Nulls && slices.Contains(sumsubNullable, k) && !slices.Contains(shape.keys, k) {
			o.set(k, nil)
			continue
		}
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
			o.set(k, correlation)
		case "levelName":
			o.set(k, shape.level)
		case "previousLevelName":
			o.set(k, "id-only-level")
		case "externalUserId":
			o.set(k, "user-"+g.per("sumsub.externalUserId").digitString(6))
		case "kytTxnId":
			o.set(k, g.objectID(g.now.Add(-g.between(time.Second, time.Hour))))
		case "kytDataTxnId":
			o.set(k, "txn-"+g.digitString(10))
		case "kytTxnType":
			o.set(k, "finance")
		case "type":
			o.set(k, message)
		case "sandboxMode":
			o.set(k, sandboxValue(sandboxForm, g.opt.Sandbox))
		case "reviewResult":
			o.set(k, g.reviewResult(message, answer))
		case "reviewStatus":
			o.set(k, shape.reviewStatus)
		case "videoIdentReviewStatus":
			o.set(k, "pending")
			if message == "videoIdentCompositionCompleted" {
				o.set(k, "completed")
			}
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
func (g *gen) reviewResult(message, answer string) *Object {
	rr := NewObject()
	if answer != "RED" {
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
