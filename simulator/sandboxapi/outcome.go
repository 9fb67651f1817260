package sandboxapi

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/kycsim/kycsim/simulator"
	"github.com/kycsim/kycsim/simulator/delivery"
	"github.com/kycsim/kycsim/simulator/sandbox"
)

// record is the vendor-side state of a verification, kept as the
// Verification's State: what the retrieval APIs answer with.
type record struct {
	// Outcome is the outcome picked ("" while none is).
	Outcome string `json:"outcome,omitempty"`
	// Started says the user opened the acquisition page.
	Started bool `json:"started,omitempty"`
	// Timeline is the status the retrieval API reports from each time
	// on (the status a callback announces, from the time it is sent).
	Timeline []mark `json:"timeline,omitempty"`
	// Sent lists the messages already planned, so that a later outcome
	// does not send ACQUISITION_STARTED twice.
	Sent []string `json:"sent,omitempty"`

	// Jumio KYX and Netverify.
	UserReference     string       `json:"userReference,omitempty"`
	ReportingCriteria string       `json:"reportingCriteria,omitempty"`
	DefinitionKey     string       `json:"definitionKey,omitempty"`
	Decision          *kyxDecision `json:"decision,omitempty"`
	// KYX API channel: Channel is "API" once a part was uploaded through
	// it; Uploaded lists the classifiers uploaded per credential id;
	// Finalized says the acquisition was finalized.
	Channel   string              `json:"channel,omitempty"`
	Uploaded  map[string][]string `json:"uploaded,omitempty"`
	Finalized bool                `json:"finalized,omitempty"`
	// Netverify: fields of the final callback the retrieval repeats.
	Scan map[string]any `json:"scan,omitempty"`

	// PageKey is the capability in the page link the API hands out
	// (web.href, redirectUrl, the WebSDK link): whoever holds the link
	// opens the verification's page without the control token, until
	// PageUntil (the token's lifetime, then the session's).
	PageKey   string    `json:"pageKey,omitempty"`
	PageUntil time.Time `json:"pageUntil,omitempty"`

	// Sumsub.
	LevelName    string   `json:"levelName,omitempty"`
	InspectionID string   `json:"inspectionId,omitempty"`
	ReviewAnswer string   `json:"reviewAnswer,omitempty"`
	RejectLabels []string `json:"rejectLabels,omitempty"`
	RejectType   string   `json:"reviewRejectType,omitempty"`
	// ClientComment and ModerationComment come with a review.
	ClientComment     string `json:"clientComment,omitempty"`
	ModerationComment string `json:"moderationComment,omitempty"`
	// What the app sent for the applicant, answered back as sent.
	ApplicantType string          `json:"applicantType,omitempty"`
	Email         string          `json:"email,omitempty"`
	Phone         string          `json:"phone,omitempty"`
	Lang          string          `json:"lang,omitempty"`
	SourceKey     string          `json:"sourceKey,omitempty"`
	FixedInfo     json.RawMessage `json:"fixedInfo,omitempty"`
	Info          json.RawMessage `json:"info,omitempty"`
	Metadata      json.RawMessage `json:"metadata,omitempty"`
	// AttemptCnt counts the checks requested (pending) since creation or
	// the last reset; AttemptID names the current one.
	AttemptCnt int    `json:"attemptCnt,omitempty"`
	AttemptID  string `json:"attemptId,omitempty"`
	// ResetAt is when the applicant was last reset (its review's
	// createDate from then on).
	ResetAt time.Time `json:"resetAt,omitzero"`
}

// mark is one entry of a timeline.
type mark struct {
	At     time.Time `json:"at"`
	Status string    `json:"status"`
}

// kyxDecision is a KYX retrieval decision.
type kyxDecision struct {
	Type      string `json:"type"`
	RiskScore int    `json:"riskScore"`
	Label     string `json:"label"`
	// Reason is the label picked with the outcome (page, control API):
	// it decides which capability fails.
	Reason       string         `json:"reason,omitempty"`
	Capabilities map[string]any `json:"capabilities,omitempty"`
}

// readRecord decodes a verification's state.
func readRecord(v *sandbox.Verification) (*record, error) {
	rec := &record{}
	if len(v.State) > 0 {
		if err := json.Unmarshal(v.State, rec); err != nil {
			return nil, fmt.Errorf("verification %s: state: %w", v.ID, err)
		}
	}
	return rec, nil
}

// write encodes the record into a verification.
func (rec *record) write(v *sandbox.Verification) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("verification %s: state: %w", v.ID, err)
	}
	v.State = b
	return nil
}

// statusAt is the status the timeline gives at t (initial before it).
func (rec *record) statusAt(t time.Time, initial string) (string, time.Time) {
	status, at := initial, time.Time{}
	for _, m := range rec.Timeline {
		if !m.At.After(t) {
			status, at = m.Status, m.At
		}
	}
	return status, at
}

// nextMark returns the time of the first mark after t: when the status
// the timeline gives changes next (zero when it does not).
func (rec *record) nextMark(t time.Time) time.Time {
	for _, m := range rec.Timeline {
		if m.At.After(t) {
			return m.At
		}
	}
	return time.Time{}
}

// pendingAt is when the current attempt became pending: the last
// pending mark at or before t that no init mark (a reset) follows; zero
// when there is none.
func (rec *record) pendingAt(t time.Time) time.Time {
	var at time.Time
	for _, m := range rec.Timeline {
		if m.At.After(t) {
			break
		}
		switch m.Status {
		case "pending":
			at = m.At
		case "init":
			at = time.Time{}
		}
	}
	return at
}

// finalAt reports whether the timeline has reached its last mark at t.
func (rec *record) finalAt(t time.Time) bool {
	return len(rec.Timeline) > 0 && !rec.Timeline[len(rec.Timeline)-1].At.After(t)
}

// outcomeScenarios maps each product's outcomes to the scenarios that
// play them: built-in library scenarios, and the sandbox's own for the
// single webhooks of Sumsub's API steps.
var outcomeScenarios = map[string]map[string]string{
	"jumio-kyx": {
		"PASSED": "jumio-kyx/happy-path", "REJECTED": "jumio-kyx/rejected", "WARNING": "jumio-kyx/warning",
		"SESSION_EXPIRED": "jumio-kyx/drop-off", "TOKEN_EXPIRED": "jumio-kyx/token-expiry",
		"STARTED": "sandbox/jumio-kyx-started",
	},
	"jumio-netverify": {
		"APPROVED_VERIFIED": "jumio-netverify/approved", "DENIED_FRAUD": "jumio-netverify/fraud-",
		"ERROR_NOT_READABLE_ID": "jumio-netverify/not-readable-", "NO_ID_UPLOADED": "jumio-netverify/drop-off",
		"DENIED_UNSUPPORTED_ID_TYPE": "jumio-netverify/unsupported-type", "DENIED_UNSUPPORTED_ID_COUNTRY": "jumio-netverify/unsupported-country",
	},
	"sumsub": {
		"CREATED": "sandbox/sumsub-created", "PENDING": "sandbox/sumsub-pending",
		"GREEN": "sandbox/sumsub-reviewed-green", "RED": "sandbox/sumsub-reviewed-red",
		"RESET": "sandbox/sumsub-reset", "INFO_CHANGED": "sandbox/sumsub-info-changed",
		"INFO_CHANGED_NO_RESULT": "sandbox/sumsub-info-changed-no-result",
		"MAGIC_GREEN":            "sumsub/happy-path", "MAGIC_RED": "sumsub/final-reject", "MAGIC_RED_RETRY": "sumsub/retry-reject",
	},
}

// defaultReasons are the reject codes of the Netverify outcomes that need
// one when none is given.
var defaultReasons = map[string]string{"DENIED_FRAUD": "100", "ERROR_NOT_READABLE_ID": "102"}

// stepOutcomes are the outcomes that move a verification on without
// deciding it (no rec.Outcome).
var stepOutcomes = map[string]bool{
	"STARTED": true, "CREATED": true, "PENDING": true, "RESET": true, "INFO_CHANGED": true, "INFO_CHANGED_NO_RESULT": true,
}

// Outcomes lists a product's outcomes that a person or the control API
// can pick.
func Outcomes(product string) []string {
	var out []string
	for o := range outcomeScenarios[product] {
		if !stepOutcomes[o] && !strings.HasPrefix(o, "MAGIC_") {
			out = append(out, o)
		}
	}
	slices.Sort(out)
	return out
}

// scenarioFor names the scenario that plays an outcome.
func (s *Server) scenarioFor(product, outcome, reason string) (string, error) {
	name, ok := outcomeScenarios[product][outcome]
	if !ok {
		return "", errorf(http.StatusBadRequest, "outcome %q: %s outcomes are %s", outcome, product, strings.Join(Outcomes(product), ", "))
	}
	if strings.HasSuffix(name, "-") {
		if reason == "" {
			reason = defaultReasons[outcome]
		}
		name += reason
	}
	if !s.cfg.Planner.Has(name) {
		return "", errorf(http.StatusBadRequest, "outcome %s with reason %q: no such reason (scenario %s)", outcome, reason, name)
	}
	return name, nil
}

// play plans an outcome's scenario for a verification from start, adds
// its timeline to the record and returns the deliveries to enqueue. When
// endAt is set the plan is moved so that its last callback is due then
// (an expiry that happened at that time).
func (s *Server) play(v *sandbox.Verification, rec *record, outcome, reason string, start time.Time, fields map[string]any) ([]*sandbox.Delivery, *simulator.Plan, error) {
	sc, err := s.scenarioFor(v.Product, outcome, reason)
	if err != nil {
		return nil, nil, err
	}
	url := v.CallbackURL
	if url == "" {
		url = s.cfg.Webhooks[v.Product]
	}
	target := url
	if target == "" {
		// Nothing to send to: the plan still moves the state on.
		target = "http://127.0.0.1:9/"
	}
	plan, err := s.cfg.Planner.Plan(sc, simulator.PlanRequest{
		Product: v.Product, URL: target, Secret: s.cfg.WebhookSecret, Algorithm: s.cfg.WebhookAlg,
		VendorBase: s.cfg.InternalURL, Subject: v.ID, AccountID: v.AccountID, Fields: fields, Start: start,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("outcome %s: %w", outcome, err)
	}
	if v.Product == "jumio-netverify" {
		if err := s.finishNetverify(plan, v.ID, rec); err != nil {
			return nil, nil, fmt.Errorf("outcome %s: %w", outcome, err)
		}
	}
	var ds []*sandbox.Delivery
	for _, c := range plan.Callbacks {
		msg := c.Request.Message
		if (msg == "ACQUISITION_STARTED" || msg == "applicantCreated") && slices.Contains(rec.Sent, msg) {
			continue
		}
		rec.Sent = append(rec.Sent, msg)
		if st := statusOfMessage(v.Product, msg); st != "" {
			rec.Timeline = append(rec.Timeline, mark{At: c.At, Status: st})
		}
		if url == "" {
			continue
		}
		ds = append(ds, &sandbox.Delivery{
			VerificationID: v.ID, Product: c.Request.Product, Message: msg, Subject: c.Request.Subject,
			URL: c.Request.URL, Header: c.Request.Header, Body: c.Request.Body, From: c.Request.From,
			// The vendor's retry policy, whatever the scenario's test
			// harness settings (which deliver once).
			Policy: delivery.PolicyFor(v.Product, msg), NextAttemptAt: c.At,
		})
	}
	slices.SortStableFunc(rec.Timeline, func(a, b mark) int { return a.At.Compare(b.At) })
	return ds, plan, nil
}

// statusOfMessage is the retrieval status a callback announces.
func statusOfMessage(product, message string) string {
	switch product {
	case "jumio-kyx":
		if message == "ACQUISITION_STARTED" {
			return "INITIATED"
		}
		return message
	case "jumio-netverify":
		return message
	case "sumsub":
		switch message {
		case "applicantCreated", "applicantReset":
			return "init"
		case "applicantPending":
			return "pending"
		case "applicantPrechecked":
			return "prechecked"
		case "applicantOnHold":
			return "onHold"
		case "applicantReviewed":
			return "completed"
		}
	}
	return ""
}

// enqueueOutcome applies an outcome to a verification in one
// transaction: the new state and its callbacks. prepare, when set, checks
// the verification and changes its record first (it may run more than
// once); without it an outcome is refused once the verification has one.
func (s *Server) enqueueOutcome(ctx context.Context, id, product, outcome, reason string, prepare func(v *sandbox.Verification, rec *record) error) (*sandbox.Verification, int, error) {
	return s.enqueueOutcomeWith(ctx, id, product, func(v *sandbox.Verification, rec *record) (string, error) {
		if prepare != nil {
			if err := prepare(v, rec); err != nil {
				return "", err
			}
		} else if rec.Outcome != "" {
			return "", errorf(http.StatusConflict, "verification %s already has the outcome %s", id, rec.Outcome)
		}
		return outcome, nil
	}, nil, reason)
}

// enqueueOutcomeWith is enqueueOutcome where choose checks and changes
// the record and names the outcome (it may run more than once), and
// extra, when set, adds fields to the callbacks.
func (s *Server) enqueueOutcomeWith(ctx context.Context, id, product string, choose func(v *sandbox.Verification, rec *record) (string, error), extra func(v *sandbox.Verification, rec *record) map[string]any, reasons ...string) (*sandbox.Verification, int, error) {
	var n int
	reason := ""
	if len(reasons) > 0 {
		reason = reasons[0]
	}
	v, err := sandbox.Update(ctx, s.cfg.Store, id, func(v *sandbox.Verification) ([]*sandbox.Delivery, error) {
		if v.Product != product {
			return nil, sandbox.Errorf(sandbox.ENOTFOUND, "no %s verification %s", product, id)
		}
		rec, err := readRecord(v)
		if err != nil {
			return nil, err
		}
		outcome, err := choose(v, rec)
		if err != nil {
			return nil, err
		}
		now := s.cfg.Clock.Now()
		fields := s.fieldsFor(v, rec)
		if extra != nil {
			maps.Copy(fields, extra(v, rec))
		}
		ds, plan, err := s.play(v, rec, outcome, reason, now, fields)
		if err != nil {
			return nil, err
		}
		s.applyPlan(v, rec, outcome, reason, plan)
		n = len(ds)
		v.UpdatedAt = now
		return ds, rec.write(v)
	})
	if err != nil {
		return nil, 0, err
	}
	s.cfg.Wake()
	return v, n, nil
}

// applyPlan records what an outcome's plan decided: the final status, the
// KYX decision, the Netverify scan, the end of any pending expiry.
func (s *Server) applyPlan(v *sandbox.Verification, rec *record, outcome, reason string, plan *simulator.Plan) {
	if !stepOutcomes[outcome] {
		rec.Outcome = outcome
	}
	if outcome != "STARTED" {
		v.ExpiresAt = time.Time{}
	}
	if len(rec.Timeline) > 0 {
		v.Status = rec.Timeline[len(rec.Timeline)-1].Status
	}
	if vs := plan.State; vs != nil && v.Product == "jumio-kyx" {
		d := &kyxDecision{Type: vs.Decision, Label: vs.Label, Capabilities: vs.Capability}
		band := riskBands[d.Type]
		d.RiskScore = band.score
		if vs.RiskScore != nil {
			d.RiskScore = *vs.RiskScore
		}
		if d.Label == "" {
			d.Label = band.label
		}
		if reason != "" {
			d.Label, d.Reason = reason, reason
		}
		rec.Decision = d
	}
	if v.Product == "sumsub" {
		for _, c := range plan.Callbacks {
			if c.Request.Message != "applicantReviewed" || c.Event == nil {
				continue
			}
			if a, err := c.Event.Get("reviewResult.reviewAnswer"); err == nil {
				rec.ReviewAnswer, _ = a.(string)
			}
			rec.RejectLabels, rec.RejectType = nil, ""
			if ls, err := c.Event.Get("reviewResult.rejectLabels"); err == nil {
				if arr, ok := ls.([]any); ok {
					for _, l := range arr {
						if str, ok := l.(string); ok {
							rec.RejectLabels = append(rec.RejectLabels, str)
						}
					}
				}
			}
			if t, err := c.Event.Get("reviewResult.reviewRejectType"); err == nil {
				rec.RejectType, _ = t.(string)
			}
		}
	}
	if v.Product == "jumio-kyx" && rec.Decision == nil && outcome != "STARTED" {
		rec.Decision = &kyxDecision{Type: "NOT_EXECUTED", RiskScore: -1, Label: outcome}
	}
	if v.Product == "jumio-netverify" && len(plan.Callbacks) > 0 {
		last := plan.Callbacks[len(plan.Callbacks)-1]
		rec.Scan = map[string]any{}
		if last.Event != nil {
			for _, f := range scanFields {
				if val, err := last.Event.Get(f); err == nil {
					rec.Scan[f] = val
				}
			}
		}
	}
}

// fieldsFor are the values the callbacks carry from what the customer
// told the sandbox: its references, the Sumsub level.
func (s *Server) fieldsFor(v *sandbox.Verification, rec *record) map[string]any {
	f := map[string]any{}
	switch v.Product {
	case "jumio-kyx":
		if rec.DefinitionKey != "" {
			f["workflowExecution.definitionKey"] = rec.DefinitionKey
		}
		if rec.UserReference != "" {
			f["userReference"] = rec.UserReference
		}
	case "jumio-netverify":
		if v.ExternalRef != "" {
			f["merchantIdScanReference"] = v.ExternalRef
		}
		if rec.UserReference != "" {
			f["customerId"] = rec.UserReference
		}
	case "sumsub":
		f["externalUserId"] = v.ExternalRef
		f["clientId"] = sumsubClientID
		if rec.LevelName != "" {
			f["levelName"] = rec.LevelName
		}
		if rec.InspectionID != "" {
			f["inspectionId"] = rec.InspectionID
		}
		if rec.ReviewAnswer == "RED" {
			if len(rec.RejectLabels) > 0 {
				labels := make([]any, len(rec.RejectLabels))
				for i, l := range rec.RejectLabels {
					labels[i] = l
				}
				f["reviewResult.rejectLabels"] = labels
			}
			if rec.RejectType != "" {
				f["reviewResult.reviewRejectType"] = rec.RejectType
			}
		}
		if rec.ClientComment != "" {
			f["reviewResult.clientComment"] = rec.ClientComment
		}
		if rec.ModerationComment != "" {
			f["reviewResult.moderationComment"] = rec.ModerationComment
		}
	}
	return f
}

// riskBands are the KYX risk score and label of each decision when the
// scenario names none.
var riskBands = map[string]struct {
	score int
	label string
}{
	"PASSED": {10, "OK"}, "WARNING": {50, "WARNING"}, "REJECTED": {85, "REJECTED"}, "NOT_EXECUTED": {-1, "TOKEN_EXPIRED"},
}

// create writes a new verification with the callbacks its creation
// sends (Sumsub's applicantCreated, a magic value's outcome) in one
// transaction.
func (s *Server) create(r *http.Request, v *sandbox.Verification, rec *record) error {
	rec.PageKey = randomHex(16)
	rec.PageUntil = v.ExpiresAt
	if rec.PageUntil.IsZero() {
		rec.PageUntil = v.CreatedAt.Add(pageLinkLifetime)
	}
	ds, err := s.magic(v, rec, v.CreatedAt)
	if err != nil {
		return err
	}
	if err := rec.write(v); err != nil {
		return err
	}
	ctx, cancel := ctxTimeout(r)
	defer cancel()
	if err := s.cfg.Store.CreateVerification(ctx, v, ds...); err != nil {
		return err
	}
	s.cfg.Wake()
	return nil
}

// lookup finds a verification of a product (read-only), or answers
// notFound.
func (s *Server) lookup(ctx context.Context, id, product string, notFound func() error) (*sandbox.Verification, *record, error) {
	v, rec, err := s.store.view(ctx, id)
	if err != nil {
		if sandbox.ErrorCode(err) == sandbox.ENOTFOUND {
			return nil, nil, notFound()
		}
		return nil, nil, err
	}
	if v.Product != product {
		return nil, nil, notFound()
	}
	return v, rec, nil
}
