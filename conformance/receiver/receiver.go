// Package receiver is kycsim's reference webhook receiver: a correct
// receiver for Jumio KYX, Netverify, Authentication, Document Verification
// and Sumsub callbacks, written as the example integrators should copy,
// with switchable known defects that the conformance runner's own tests
// turn on to prove each defect is caught.
//
// What it does right, in the order a request meets it:
//
//   - Jumio callbacks carry no signature, so they are accepted only from
//     Jumio's published source addresses (plus configured test
//     addresses); X-Forwarded-For is used only when told the receiver sits
//     behind a proxy. The check is made before the body is read.
//   - A body whose Content-Length is too large is refused with 413 before
//     it is read, and no more than MaxBodyBytes are ever read.
//   - Sumsub webhooks are verified over the raw body bytes, with the
//     algorithm X-Payload-Digest-Alg names and a constant-time compare.
//     A webhook that fails the check is refused and has no effect.
//   - Only the fields the receiver uses are read, with encoding/json and
//     net/url: the subject, the field that tells the messages apart, the
//     decision, the vendor's timestamp and the KYX href. Everything else
//     is left alone: unknown fields, explicit nulls, missing fields it does
//     not use, sandboxMode as string or boolean, a wrong Content-Type on a
//     body that still parses, Jumio timestamps with 0 to 3 millisecond
//     digits.
//   - Content it cannot use (not JSON or not a form, empty, no subject, no
//     message type, a decision outside its documented set) is never acted
//     on and never answered with 5xx, which would make the vendor retry
//     what can never succeed: Sumsub gets 400; Jumio gets 200 and the
//     callback is dropped, or 400, as Config.ContentPolicy says.
//   - Messages it does not handle (Config.Handles) and Sumsub types
//     outside the applicant lifecycle (KYT transactions, unknown types)
//     are acknowledged with 200 and not acted on; an unknown Sumsub
//     reviewStatus is recorded as what it is, never as an approval.
//   - Redeliveries are acted on once, also when they arrive at the same
//     time (see event.key for the key per product).
//   - A subject's state never regresses: a KYX status must get further
//     than the one held; other products' events must be newer.
//   - Memory is bounded: at most Config.MaxSubjects subjects are kept, the
//     least recently updated going first.
//   - It answers at once and does follow-up work afterwards: fetching the
//     KYX href of a PROCESSED workflow, from Jumio's API hosts only (plus
//     configured test hosts).
//
// It serves the probe GET /_probe/{subject} → {"events": N, "status": S,
// "decision": D}: besides the vendor's status, its own decision about the
// subject (approved, rejected, retry, pending), for the products whose
// callbacks carry one (Sumsub, Netverify, Authentication). A Netverify
// approval whose identityVerification says the face check failed
// (validity false or "FALSE", similarity NO_MATCH) is no approval.
//
// The lines that call rc.defects are the hooks of the known defects
// (defects.go); a copy of this receiver drops them.
package receiver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/kycsim/kycsim/simulator/signing"
)

// Paths are the receiver's callback paths by product.
var Paths = map[string]string{
	"jumio-kyx":       "/jumio/kyx",
	"jumio-netverify": "/jumio/netverify",
	"jumio-auth":      "/jumio/auth",
	"jumio-docverify": "/jumio/docverify",
	"sumsub":          "/sumsub",
}

// ProbePath is the probe's route.
const ProbePath = "/_probe/{subject}"

// MaxBodyBytes bounds a callback body.
const MaxBodyBytes = 1 << 20

// ContentPolicy says what the receiver does with a Jumio callback whose
// content it cannot use, as kycsim conform's --content-policy names it
// (Jumio asks receivers to answer 200 first and validate afterwards, so
// both are defensible); Sumsub's unusable content always gets 400.
type ContentPolicy string

// The two policies.
const (
	AckAndDrop ContentPolicy = "ack-and-drop" // 200, and no effect
	Reject     ContentPolicy = "reject"       // 400
)

// Config configures a Receiver.
type Config struct {
	// Secret is the Sumsub webhook secret.
	Secret string
	// Sources are the test addresses allowed to send Jumio callbacks
	// besides Jumio's own (DefaultTestSources when nil).
	Sources []netip.Addr
	// BehindProxy makes the receiver take the source address from the
	// last X-Forwarded-For entry.
	BehindProxy bool
	// ContentPolicy is the policy for Jumio content the receiver cannot
	// use (AckAndDrop when empty).
	ContentPolicy ContentPolicy
	// Handles maps a product to the messages the receiver acts on (Sumsub
	// types; for Jumio the status values that name the callbacks). A nil
	// map, a missing product or an empty list means every message. Other
	// messages are acknowledged with 200 and not acted on.
	Handles map[string][]string
	// Fetch turns on the follow-up fetch of the KYX href.
	Fetch bool
	// FetchTimeout bounds one follow-up fetch (5 s when zero).
	FetchTimeout time.Duration
	// FetchHosts are hosts ("host" or "host:port") the follow-up fetch
	// may go to besides Jumio's API hosts, such as a vendor API mock.
	FetchHosts []string
	// MaxSubjects bounds how many subjects the receiver keeps
	// (DefaultMaxSubjects when zero); the least recently updated go first.
	MaxSubjects int
	// Defects switches on known defects (see Defects).
	Defects []Defect
	// SlowDelay is how long the slow defect waits before answering
	// (11 s, beyond Sumsub's 10 s deadline, when zero).
	SlowDelay time.Duration
	// RaceWindow is how long the racy-dedup defect waits between looking
	// an event up and recording it (50 ms when zero).
	RaceWindow time.Duration
	// LaterDelay is how long the acts-on-refused-later defect waits
	// before acting on a callback it refused (300 ms when zero).
	LaterDelay time.Duration
	// Logger gets one line per callback; nil discards.
	Logger *slog.Logger
}

// DefaultMaxSubjects is the number of subjects kept when
// Config.MaxSubjects is zero.
const DefaultMaxSubjects = 100000

// Receiver is the reference receiver; it is an http.Handler.
type Receiver struct {
	cfg            Config
	mux            *http.ServeMux
	allowed        map[netip.Addr]bool // Jumio callback sources
	trustForwarded bool                // take the source from X-Forwarded-For
	handles        map[string][]string
	state          *store
	fetcher        *fetcher
	defects        *defectHooks
	log            *slog.Logger
}

// New returns a receiver; it fails on a bad configuration.
func New(cfg Config) (*Receiver, error) {
	switch cfg.ContentPolicy {
	case "":
		cfg.ContentPolicy = AckAndDrop
	case AckAndDrop, Reject:
	default:
		return nil, fmt.Errorf("unknown policy for invalid Jumio callbacks %q (known: %s, %s)", cfg.ContentPolicy, AckAndDrop, Reject)
	}
	if err := checkHandles(cfg.Handles); err != nil {
		return nil, err
	}
	if cfg.MaxSubjects < 0 {
		return nil, fmt.Errorf("MaxSubjects %d: must be >= 0", cfg.MaxSubjects)
	}
	if cfg.MaxSubjects == 0 {
		cfg.MaxSubjects = DefaultMaxSubjects
	}
	if cfg.FetchTimeout <= 0 {
		cfg.FetchTimeout = 5 * time.Second
	}
	if cfg.SlowDelay <= 0 {
		cfg.SlowDelay = 11 * time.Second
	}
	if cfg.RaceWindow <= 0 {
		cfg.RaceWindow = 50 * time.Millisecond
	}
	if cfg.LaterDelay <= 0 {
		cfg.LaterDelay = 300 * time.Millisecond
	}
	hosts, err := fetchHosts(cfg.FetchHosts)
	if err != nil {
		return nil, err
	}
	rc := &Receiver{
		cfg: cfg, allowed: map[netip.Addr]bool{}, trustForwarded: cfg.BehindProxy,
		handles: cfg.Handles, state: newStore(cfg.MaxSubjects), log: cfg.Logger,
	}
	if rc.log == nil {
		rc.log = slog.New(slog.DiscardHandler)
	}
	sources := cfg.Sources
	if sources == nil {
		sources = DefaultTestSources
	}
	for _, a := range append(slices.Clone(JumioCallbackSources), sources...) {
		rc.allowed[a.Unmap()] = true
	}
	if rc.defects, err = newDefectHooks(rc, cfg.Defects); err != nil {
		return nil, err
	}
	rc.fetcher = newFetcher(cfg.FetchTimeout, hosts, rc.log)
	rc.mux = http.NewServeMux()
	for product, path := range Paths {
		rc.mux.HandleFunc(path, rc.callback(product))
	}
	rc.mux.HandleFunc(ProbePath, rc.probe)
	rc.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		answer(w, http.StatusNotFound, "no callback is received at "+r.URL.Path)
	})
	return rc, nil
}

// ServeHTTP implements http.Handler.
func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) { rc.mux.ServeHTTP(w, r) }

// Close stops the follow-up work, waiting for the work under way until
// ctx is done.
func (rc *Receiver) Close(ctx context.Context) error {
	err := rc.defects.wait(ctx)
	return errors.Join(err, rc.fetcher.close(ctx))
}

// FetchCount returns how many follow-up fetches were made.
func (rc *Receiver) FetchCount() int { return rc.fetcher.count() }

// Probe returns what the probe answers for a subject.
func (rc *Receiver) Probe(subject string) (events int, status string, known bool) {
	events, status, _, known = rc.state.probe(subject)
	return events, status, known
}

// Decision returns the receiver's own decision about a subject (see
// decisionOf); "" when it has none.
func (rc *Receiver) Decision(subject string) string {
	_, _, d, _ := rc.state.probe(subject)
	return d
}

// outcome is the receiver's decision on one callback: the answer, and the
// follow-up work to do after answering.
type outcome struct {
	code  int
	msg   string
	fetch string // an href to fetch after answering
}

// callback returns the handler of one product's callbacks.
func (rc *Receiver) callback(product string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			answer(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed")
			return
		}
		o := rc.receive(product, r)
		rc.defects.beforeAnswer(r)
		answer(w, o.code, o.msg)
		rc.log.Info("callback", "product", product, "status", o.code, "result", o.msg)
		// Follow-up work runs after the answer is written.
		rc.followUp(o)
	}
}

// receive is the receiver's main path: it decides what to answer to one
// callback and acts on it.
func (rc *Receiver) receive(product string, r *http.Request) outcome {
	sumsub := product == "sumsub"

	// 1. Authenticity, Jumio: its callbacks carry no signature, so the
	// source address is the check, made before the body is read.
	if !sumsub {
		if err := rc.defects.onSource(product, r, rc.checkSource(r)); err != nil {
			return outcome{code: http.StatusForbidden, msg: err.Error()}
		}
	}

	// 2. Read the body, refusing a large one before reading it.
	if r.ContentLength > MaxBodyBytes {
		return outcome{code: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("body of %d bytes is larger than %d", r.ContentLength, MaxBodyBytes)}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return outcome{code: http.StatusBadRequest, msg: fmt.Sprintf("reading the body: %v", err)}
	}
	if len(body) > MaxBodyBytes {
		return outcome{code: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("body larger than %d bytes", MaxBodyBytes)}
	}

	// 3. Authenticity, Sumsub: the digest of the raw bytes, as received.
	if sumsub {
		if err := rc.defects.onSignature(r, body, rc.checkSignature(r, body)); err != nil {
			return outcome{code: http.StatusUnauthorized, msg: err.Error()}
		}
	}

	// 4. Read the fields the receiver uses; refuse content it cannot use.
	e, err := parse(product, body)
	if err != nil {
		if o, ok := rc.defects.onUnusable(e, err); ok {
			return o
		}
		return rc.refuseContent(product, err)
	}
	if o, ok := rc.defects.onParsed(r, body, &e); ok {
		return o
	}

	// 5. Acknowledge, without acting, what the receiver does not act on.
	if why := rc.ignored(e); why != "" {
		return outcome{code: http.StatusOK, msg: "acknowledged, not acted on: " + why}
	}

	// 6. Dedupe, order, record.
	return rc.act(e)
}

// checkSource verifies that a Jumio callback comes from one of Jumio's
// callback addresses or a configured test address.
func (rc *Receiver) checkSource(r *http.Request) error {
	src, err := source(r, rc.trustForwarded)
	if err != nil {
		return err
	}
	if !rc.allowed[src] {
		return fmt.Errorf("source %s is not a Jumio callback address", src)
	}
	return nil
}

// checkSignature verifies X-Payload-Digest over the raw body with the
// algorithm X-Payload-Digest-Alg names; signing.Verify compares in
// constant time.
func (rc *Receiver) checkSignature(r *http.Request, body []byte) error {
	if rc.cfg.Secret == "" {
		return errors.New("no webhook secret is configured; every webhook is refused")
	}
	digest := r.Header.Get(signing.DigestHeader)
	if digest == "" {
		return fmt.Errorf("header %s is missing", signing.DigestHeader)
	}
	name := r.Header.Get(signing.AlgorithmHeader)
	if name == "" {
		return fmt.Errorf("header %s is missing", signing.AlgorithmHeader)
	}
	alg, err := signing.ParseAlgorithm(name)
	if err != nil {
		return fmt.Errorf("header %s: %w", signing.AlgorithmHeader, err)
	}
	if !signing.Verify(alg, rc.cfg.Secret, body, digest) {
		return fmt.Errorf("header %s does not match the body", signing.DigestHeader)
	}
	return nil
}

// refuseContent answers content the receiver cannot use: 400, or for
// Jumio under AckAndDrop 200 without acting on it. Never 5xx: the vendor
// would retry what can never succeed.
func (rc *Receiver) refuseContent(product string, err error) outcome {
	if product != "sumsub" && rc.cfg.ContentPolicy == AckAndDrop {
		return outcome{code: http.StatusOK, msg: "acknowledged and dropped: " + err.Error()}
	}
	return outcome{code: http.StatusBadRequest, msg: err.Error()}
}

// ignored says why an authentic, usable callback is not acted on, or ""
// when it is.
func (rc *Receiver) ignored(e event) string {
	switch {
	case !rc.handlesMessage(e.product, e.message):
		return fmt.Sprintf("this receiver does not handle %s %s", e.product, e.message)
	case e.product == "sumsub" && !slices.Contains(messages["sumsub"], e.message):
		return fmt.Sprintf("Sumsub type %q is not one of the applicant lifecycle types this receiver records", e.message)
	case e.product == "sumsub" && e.status == "":
		return "no reviewStatus to record"
	}
	return ""
}

// handlesMessage reports whether the receiver acts on a product's message.
func (rc *Receiver) handlesMessage(product, message string) bool {
	list := rc.handles[product]
	return len(list) == 0 || slices.Contains(list, message)
}

// act dedupes, orders and records an event; a new PROCESSED KYX event
// schedules the fetch of its href.
func (rc *Receiver) act(e event) outcome {
	o := outcome{code: http.StatusOK, msg: "accepted"}
	switch rc.state.record(e) {
	case duplicate:
		return outcome{code: http.StatusOK, msg: "duplicate: already acted on"}
	case stale:
		o.msg = "accepted; older than the state held, which stays"
	}
	// The result is ready to fetch once the workflow is PROCESSED.
	if rc.cfg.Fetch && e.product == "jumio-kyx" && e.status == "PROCESSED" && e.href != "" {
		o.fetch = e.href
	}
	return o
}

// followUp does the work that waits for the answer.
func (rc *Receiver) followUp(o outcome) {
	if o.fetch != "" {
		rc.fetcher.enqueue(o.fetch)
	}
}

// answer writes a short JSON answer.
func answer(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	b, _ := json.Marshal(map[string]string{"result": msg})
	w.Write(append(b, '\n'))
}

// probe serves GET /_probe/{subject}.
func (rc *Receiver) probe(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		answer(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed")
		return
	}
	n, status, decision, known := rc.state.probe(r.PathValue("subject"))
	body := map[string]any{"events": n, "status": nil}
	if known {
		body["status"] = status
	}
	if decision != "" {
		body["decision"] = decision
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(body)
}

// event is what the receiver reads from a callback and keeps of it.
type event struct {
	product string
	subject string
	// message names the callback: the Sumsub type, or the Jumio status
	// that tells the callbacks apart.
	message string
	// status is what the probe reports: the Jumio status, or the Sumsub
	// reviewStatus with "/" and the reviewAnswer when there is one.
	status string
	// decision is the receiver's own decision the event leads to
	// (approved, rejected, retry, pending), "" for a product whose
	// callbacks carry none (KYX, Document Verification).
	decision string
	rank     int       // KYX: how far the workflow got
	at       time.Time // the vendor's time of the event; zero when missing
	href     string    // KYX: where the result is fetched from
	// key identifies the event for deduplication:
	//   - Jumio: the subject and the status (the timestamp is left out: a
	//     redelivery carries a fresh one);
	//   - Sumsub: applicantId, type, correlationId and createdAtMs (a
	//     resent webhook repeats all four; GREEN then RED differ).
	key string
}

// messages are each product's message names: the Sumsub types, and for
// Jumio the documented values of the status that tells the callbacks
// apart, which is also the decision.
var messages = map[string][]string{
	"jumio-kyx":       {"ACQUISITION_STARTED", "ACQUIRED", "PROCESSED", "SESSION_EXPIRED", "TOKEN_EXPIRED"},
	"jumio-netverify": {"APPROVED_VERIFIED", "DENIED_FRAUD", "DENIED_UNSUPPORTED_ID_TYPE", "DENIED_UNSUPPORTED_ID_COUNTRY", "ERROR_NOT_READABLE_ID", "NO_ID_UPLOADED"},
	"jumio-auth":      {"PASSED", "FAILED", "INVALID", "EXPIRED"},
	"jumio-docverify": {"UPLOADED", "EXTRACTED", "DISCARDED", "FAILED"},
	"sumsub": {
		"applicantCreated", "applicantPending", "applicantReviewed", "applicantOnHold",
		"applicantActionPending", "applicantActionReviewed", "applicantActionOnHold",
		"applicantPersonalInfoChanged", "applicantTagsChanged", "applicantActivated",
		"applicantDeactivated", "applicantDeleted", "applicantReset", "applicantPrechecked",
		"applicantLevelChanged", "applicantWorkflowCompleted", "videoIdentStatusChanged",
	},
}

// reviewAnswers are the documented Sumsub decisions.
var reviewAnswers = []string{"GREEN", "RED"}

// kyxRank orders KYX statuses by how far the workflow got.
var kyxRank = map[string]int{"ACQUISITION_STARTED": 1, "ACQUIRED": 2, "PROCESSED": 3, "SESSION_EXPIRED": 3, "TOKEN_EXPIRED": 3}

// parse reads the fields the receiver uses from a callback body. The
// error says why the content cannot be used; the event holds what could
// be read all the same.
func parse(product string, body []byte) (event, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return event{product: product}, errors.New("the body is empty")
	}
	var e event
	var err error
	switch product {
	case "jumio-kyx":
		e, err = parseKYX(body)
	case "jumio-netverify":
		e, err = parseForm(body, product, "jumioIdScanReference", "verificationStatus", "callbackDate")
	case "jumio-auth":
		e, err = parseForm(body, product, "transactionReference", "transactionResult", "callbackDate")
	case "jumio-docverify":
		e, err = parseDocVerify(body)
	case "sumsub":
		e, err = parseSumsub(body)
	default:
		return e, fmt.Errorf("unknown product %q", product)
	}
	e.product = product
	if e.decision == "" {
		e.decision = decisionOf(product, e.message, body, false)
	}
	if e.key == "" {
		e.key = strings.Join([]string{product, e.subject, e.message}, "\x00")
	}
	return e, err
}

// kyxCallback is the part of a Jumio KYX callback the receiver uses.
type kyxCallback struct {
	CallbackSentAt    string `json:"callbackSentAt"`
	WorkflowExecution struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Href   string `json:"href"`
	} `json:"workflowExecution"`
}

func parseKYX(body []byte) (event, error) {
	var c kyxCallback
	err := decodeJSON(body, &c)
	x := c.WorkflowExecution
	e := event{subject: x.ID, message: x.Status, status: x.Status, rank: kyxRank[x.Status], href: x.Href, at: vendorTime(c.CallbackSentAt)}
	if err != nil {
		return e, err
	}
	return e, need(e, "jumio-kyx", "workflowExecution.id", "workflowExecution.status")
}

// parseForm reads a Jumio form callback whose subject, status and
// timestamp are plain form fields (Netverify, Authentication).
func parseForm(body []byte, product, subjectField, statusField, timeField string) (event, error) {
	f, err := url.ParseQuery(string(body))
	e := event{subject: f.Get(subjectField), message: f.Get(statusField), status: f.Get(statusField), at: vendorTime(f.Get(timeField))}
	if err != nil {
		return e, fmt.Errorf("the body is not form-encoded: %w", err)
	}
	return e, need(e, product, subjectField, statusField)
}

// parseDocVerify reads a Document Verification callback: a form whose
// document and transaction fields are JSON texts.
func parseDocVerify(body []byte) (event, error) {
	f, err := url.ParseQuery(string(body))
	e := event{subject: f.Get("scanReference"), at: vendorTime(f.Get("timestamp"))}
	if err != nil {
		return e, fmt.Errorf("the body is not form-encoded: %w", err)
	}
	var doc, tx struct {
		Status string `json:"status"`
	}
	if s := f.Get("document"); s != "" {
		if err := json.Unmarshal([]byte(s), &doc); err != nil {
			return e, fmt.Errorf("form field document is not a JSON object with a status: %w", err)
		}
		e.message = doc.Status
	} else if json.Unmarshal([]byte(f.Get("transaction")), &tx) == nil && tx.Status == "FAILED" {
		// A FAILED transaction carries no document.
		e.message = "FAILED"
	}
	e.status = e.message
	return e, need(e, "jumio-docverify", "scanReference", "document.status")
}

// sumsubWebhook is the part of a Sumsub webhook the receiver uses.
type sumsubWebhook struct {
	ApplicantID   string `json:"applicantId"`
	Type          string `json:"type"`
	ReviewStatus  string `json:"reviewStatus"`
	CreatedAtMs   string `json:"createdAtMs"`
	CorrelationID string `json:"correlationId"`
	ReviewResult  *struct {
		ReviewAnswer     string `json:"reviewAnswer"`
		ReviewRejectType string `json:"reviewRejectType"`
	} `json:"reviewResult"`
}

func parseSumsub(body []byte) (event, error) {
	var w sumsubWebhook
	err := decodeJSON(body, &w)
	e := event{
		subject: w.ApplicantID, message: w.Type, at: vendorTime(w.CreatedAtMs),
		key: strings.Join([]string{"sumsub", w.ApplicantID, w.Type, w.CorrelationID, w.CreatedAtMs}, "\x00"),
	}
	answer, rejectType := "", ""
	if w.ReviewResult != nil {
		answer, rejectType = w.ReviewResult.ReviewAnswer, w.ReviewResult.ReviewRejectType
	}
	if w.ReviewStatus != "" {
		// An unknown reviewStatus is recorded as what it is.
		e.status = w.ReviewStatus
		if answer != "" {
			e.status += "/" + answer
		}
		// The decision: only a completed review decides; a RED with
		// reviewRejectType RETRY asks the applicant to resubmit.
		switch {
		case w.ReviewStatus == "completed" && answer == "GREEN":
			e.decision = "approved"
		case w.ReviewStatus == "completed" && answer == "RED" && rejectType == "RETRY":
			e.decision = "retry"
		case w.ReviewStatus == "completed" && answer == "RED":
			e.decision = "rejected"
		default:
			e.decision = "pending"
		}
	}
	if err != nil {
		return e, err
	}
	if err := need(e, "sumsub", "applicantId", "type"); err != nil {
		return e, err
	}
	if answer != "" && !slices.Contains(reviewAnswers, answer) {
		return e, fmt.Errorf("reviewResult.reviewAnswer %q is not one of %s", answer, strings.Join(reviewAnswers, ", "))
	}
	return e, nil
}

// decisionOf returns the receiver's decision on a Jumio callback that
// carries one: Netverify and Authentication ("" for the others; Sumsub's
// is read with its review). A Netverify APPROVED_VERIFIED is an approval
// only when its identityVerification, if any, does not say the face check
// failed: validity false (a JSON boolean, or the string "FALSE" the field
// table documents) or similarity NO_MATCH. truthy reads validity as a
// careless receiver does (DefectStringBoolTruthy).
func decisionOf(product, message string, body []byte, truthy bool) string {
	switch product {
	case "jumio-auth":
		switch message {
		case "PASSED":
			return "approved"
		case "FAILED":
			return "rejected"
		case "":
			return ""
		}
		return "retry"
	case "jumio-netverify":
	default:
		return ""
	}
	switch {
	case message == "APPROVED_VERIFIED":
	case strings.HasPrefix(message, "DENIED_"):
		return "rejected"
	case message == "":
		return ""
	default:
		return "retry" // ERROR_NOT_READABLE_ID, NO_ID_UPLOADED: the user may try again
	}
	f, _ := url.ParseQuery(string(body))
	var iv struct {
		Validity   any    `json:"validity"`
		Similarity string `json:"similarity"`
	}
	if s := f.Get("identityVerification"); s == "" || json.Unmarshal([]byte(s), &iv) != nil {
		return "approved" // no identity verification in this workflow
	}
	valid := true
	switch v := iv.Validity.(type) {
	case bool:
		valid = v
	case string:
		valid = strings.EqualFold(v, "TRUE")
		if truthy {
			valid = v != ""
		}
	}
	if !valid || iv.Similarity == "NO_MATCH" {
		return "rejected"
	}
	return "approved"
}

// decodeJSON decodes a JSON object into v. Fields not in v are ignored; a
// field of v that holds the wrong JSON type makes the content unusable.
func decodeJSON(body []byte, v any) error {
	err := json.Unmarshal(body, v)
	var te *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &te) && te.Field == "":
		return fmt.Errorf("the body is a JSON %s, not an object", te.Value)
	case errors.As(err, &te):
		return fmt.Errorf("field %s is a JSON %s, which the receiver cannot use", te.Field, te.Value)
	}
	return fmt.Errorf("the body is not JSON: %w", err)
}

// need checks what every callback needs to be acted on: a subject, a
// message, and for Jumio a status from its documented set (Sumsub types
// may be new: they are checked later).
func need(e event, product, subjectField, messageField string) error {
	switch {
	case e.subject == "":
		return fmt.Errorf("%s is missing", subjectField)
	case e.message == "":
		return fmt.Errorf("%s is missing", messageField)
	case product != "sumsub" && !slices.Contains(messages[product], e.message):
		return fmt.Errorf("%s %q is not one of %s", messageField, e.message, strings.Join(messages[product], ", "))
	}
	return nil
}

// vendorTime reads a Jumio timestamp (RFC 3339 with 0 to 3 millisecond
// digits) or a Sumsub createdAtMs ("2006-01-02 15:04:05.000", UTC). A
// missing or unreadable time is zero: such an event never replaces a
// state held.
func vendorTime(s string) time.Time {
	for _, layout := range []string{time.RFC3339, "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

// checkHandles checks Config.Handles against the known products and
// messages.
func checkHandles(handles map[string][]string) error {
	for product, list := range handles {
		known, ok := messages[product]
		if !ok {
			return fmt.Errorf("handles: unknown product %q", product)
		}
		for _, m := range list {
			if !slices.Contains(known, m) {
				return fmt.Errorf("handles: %s has no message %q (known: %s)", product, m, strings.Join(known, ", "))
			}
		}
	}
	return nil
}
