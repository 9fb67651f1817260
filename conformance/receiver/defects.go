package receiver

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kycsim/kycsim/simulator/signing"
	"github.com/kycsim/kycsim/spec"
)

// Defect is a known receiver mistake the reference receiver can be made
// to have.
type Defect string

// The known defects, each a mistake integrators make.
const (
	// DefectNoSignatureCheck accepts Sumsub webhooks without checking
	// X-Payload-Digest.
	DefectNoSignatureCheck Defect = "no-signature-check"
	// DefectAssumeSHA256 ignores X-Payload-Digest-Alg and always checks
	// HMAC-SHA256.
	DefectAssumeSHA256 Defect = "assume-sha256"
	// DefectReserializedBody checks the digest over the body decoded and
	// encoded again instead of the raw bytes.
	DefectReserializedBody Defect = "reserialized-body"
	// DefectNoDedup acts on every delivery, redeliveries included.
	DefectNoDedup Defect = "no-dedup"
	// DefectRacyDedup deduplicates by checking then acting: it looks the
	// event up, and inserts it RaceWindow later without looking again,
	// with no lock or unique key across the two. Copies that arrive
	// together before the first is stored are all acted on.
	DefectRacyDedup Defect = "racy-dedup"
	// DefectMergeFinals deduplicates by subject alone, merging distinct
	// events (GREEN then RED, ACQUIRED then PROCESSED).
	DefectMergeFinals Defect = "merge-finals"
	// DefectStateRegression lets the last event delivered set the state,
	// so a late ACQUIRED overwrites PROCESSED.
	DefectStateRegression Defect = "state-regression"
	// DefectStrictMillis rejects Jumio timestamps without exactly three
	// millisecond digits.
	DefectStrictMillis Defect = "strict-millis"
	// DefectBoolSandboxMode rejects Sumsub's sandboxMode sent as a string.
	DefectBoolSandboxMode Defect = "bool-sandbox-mode"
	// DefectUnknownFields5xx answers 500 to a callback with a field the
	// documents do not name.
	DefectUnknownFields5xx Defect = "unknown-fields-5xx"
	// DefectRejectUnknownType answers 400 to a Sumsub type it does not know.
	DefectRejectUnknownType Defect = "reject-unknown-type"
	// DefectAcceptInvalid acts on content the receiver cannot use, where it
	// can: a callback with a subject is recorded whatever its status
	// (a KYX status DONE, a Sumsub reviewAnswer MAYBE).
	DefectAcceptInvalid Defect = "accept-invalid"
	// DefectSlow answers after SlowDelay, beyond the vendor's deadline.
	DefectSlow Defect = "slow"
	// DefectAnySource accepts Jumio callbacks from any address.
	DefectAnySource Defect = "any-source"
	// DefectTrustForwardedFor takes the source from X-Forwarded-For even
	// when no proxy sets it, so anyone can claim a Jumio address.
	DefectTrustForwardedFor Defect = "trust-forwarded-for"
	// DefectActsOnRefusedLater refuses a callback that fails the
	// authenticity check (a Sumsub digest problem, a foreign Jumio source)
	// as usual, but acts on it LaterDelay later in the background when
	// its content is usable, as a receiver that queues work before
	// checking does.
	DefectActsOnRefusedLater Defect = "acts-on-refused-later"
	// DefectUnusable5xx answers 500 to content the receiver cannot use,
	// so the vendor retries what can never succeed.
	DefectUnusable5xx Defect = "unusable-5xx"
	// DefectUnknownStatusApproved records a Sumsub webhook whose
	// reviewStatus is not a documented one as "completed/GREEN", as a
	// switch whose default case approves.
	DefectUnknownStatusApproved Defect = "unknown-status-approved"
	// DefectRejectStrict answers 400 to callbacks that break the strict
	// reading of the documents (a documented field missing, an
	// informational value outside its set, a wrong Content-Type), as an
	// over-strict receiver does; the vendor then retries for a day.
	DefectRejectStrict Defect = "reject-strict"
	// DefectInvalidRevokes refuses a Sumsub review whose reviewAnswer is
	// outside GREEN and RED as it should, but first revokes an approval
	// the applicant holds, as a receiver does that treats "not GREEN" as
	// a rejection before it validates.
	DefectInvalidRevokes Defect = "invalid-answer-revokes"
	// DefectStaleRedApplies applies a Sumsub RED review even when it is
	// older than the state held, as a receiver does that lets any
	// rejection win.
	DefectStaleRedApplies Defect = "stale-red-applies"
	// DefectRetryAsFinal stores a RED review as a final rejection whatever
	// its reviewRejectType, so that the GREEN after a resubmission
	// (reviewRejectType RETRY) changes nothing.
	DefectRetryAsFinal Defect = "retry-as-final"
	// DefectStringBoolTruthy reads Netverify's identityVerification
	// validity as JavaScript does: any non-empty string is true, so the
	// documented "FALSE" approves.
	DefectStringBoolTruthy Defect = "string-bool-truthy"
)

// Defects lists every known defect.
var Defects = []Defect{
	DefectNoSignatureCheck, DefectAssumeSHA256, DefectReserializedBody, DefectNoDedup, DefectRacyDedup, DefectMergeFinals,
	DefectStateRegression, DefectStrictMillis, DefectBoolSandboxMode, DefectUnknownFields5xx,
	DefectRejectUnknownType, DefectAcceptInvalid, DefectSlow, DefectAnySource, DefectTrustForwardedFor,
	DefectActsOnRefusedLater, DefectUnusable5xx, DefectUnknownStatusApproved, DefectRejectStrict,
	DefectInvalidRevokes, DefectStaleRedApplies, DefectRetryAsFinal, DefectStringBoolTruthy,
}

func defectNames() string {
	names := make([]string, len(Defects))
	for i, d := range Defects {
		names[i] = string(d)
	}
	return strings.Join(names, ", ")
}

// sumsubReviewStatuses are the documented Sumsub reviewStatus values.
var sumsubReviewStatuses = []string{"init", "pending", "prechecked", "queued", "completed", "onHold"}

// defectHooks applies the switched-on defects at fixed points of the
// receiver's main path. With no defect on, every hook leaves the
// receiver's decision as it is.
type defectHooks struct {
	rc      *Receiver
	on      map[Defect]bool
	catalog *spec.Catalog  // for the defects that validate strictly
	later   sync.WaitGroup // acts scheduled by DefectActsOnRefusedLater
}

// newDefectHooks checks the defects and installs those that change the
// receiver's state keeping.
func newDefectHooks(rc *Receiver, defects []Defect) (*defectHooks, error) {
	h := &defectHooks{rc: rc, on: map[Defect]bool{}}
	for _, d := range defects {
		if !slices.Contains(Defects, d) {
			return nil, fmt.Errorf("unknown defect %q (known: %s)", d, defectNames())
		}
		h.on[d] = true
	}
	if h.on[DefectRejectStrict] || h.on[DefectUnknownFields5xx] {
		cat, err := spec.Default()
		if err != nil {
			return nil, fmt.Errorf("load the catalog for strict validation: %w", err)
		}
		h.catalog = cat
	}
	rc.state.dedup = !h.on[DefectNoDedup]
	if h.on[DefectRacyDedup] {
		rc.state.racyWindow = rc.cfg.RaceWindow
	}
	rc.state.ordered = !h.on[DefectStateRegression]
	rc.state.staleRedApplies = h.on[DefectStaleRedApplies]
	rc.state.redIsFinal = h.on[DefectRetryAsFinal]
	return h, nil
}

// onSource amends the verdict on a Jumio callback's source.
func (h *defectHooks) onSource(product string, r *http.Request, err error) error {
	switch {
	case h.on[DefectAnySource]:
		err = nil
	case err != nil && h.on[DefectTrustForwardedFor]:
		if src, serr := source(r, true); serr == nil && h.rc.allowed[src] {
			err = nil
		}
	}
	if err != nil {
		h.actLater(product, r, nil)
	}
	return err
}

// onSignature amends the verdict on a Sumsub webhook's digest.
func (h *defectHooks) onSignature(r *http.Request, body []byte, err error) error {
	secret, digest := h.rc.cfg.Secret, r.Header.Get(signing.DigestHeader)
	switch {
	case h.on[DefectNoSignatureCheck]:
		err = nil
	case h.on[DefectAssumeSHA256]:
		err = nil
		if secret == "" || !signing.Verify(signing.SHA256, secret, body, digest) {
			err = fmt.Errorf("header %s does not match the body (checked as %s)", signing.DigestHeader, signing.SHA256)
		}
	case h.on[DefectReserializedBody]:
		var v any
		alg, aerr := signing.ParseAlgorithm(r.Header.Get(signing.AlgorithmHeader))
		if err != nil || aerr != nil || json.Unmarshal(body, &v) != nil {
			break
		}
		again, _ := json.Marshal(v)
		if !signing.Verify(alg, secret, again, digest) {
			err = fmt.Errorf("header %s does not match the body encoded again", signing.DigestHeader)
		}
	}
	if err != nil {
		h.actLater("sumsub", r, body)
	}
	return err
}

// actLater schedules acting on a callback refused for authenticity.
// body is nil when it was not read yet.
func (h *defectHooks) actLater(product string, r *http.Request, body []byte) {
	if !h.on[DefectActsOnRefusedLater] {
		return
	}
	if body == nil {
		var err error
		if body, err = io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes)); err != nil {
			return
		}
	}
	h.later.Add(1)
	time.AfterFunc(h.rc.cfg.LaterDelay, func() {
		defer h.later.Done()
		e, err := parse(product, body)
		if err != nil || h.rc.ignored(e) != "" {
			return
		}
		o := h.rc.act(e)
		h.rc.log.Info("acted on a refused callback", "product", product, "subject", e.subject, "result", o.msg)
		h.rc.followUp(o)
	})
}

// onUnusable answers content the receiver cannot use when a defect
// changes how; ok is false when none does.
func (h *defectHooks) onUnusable(e event, err error) (o outcome, ok bool) {
	if h.on[DefectInvalidRevokes] && e.product == "sumsub" && e.subject != "" && strings.Contains(err.Error(), "reviewAnswer") {
		h.rc.state.revoke(e.subject, e.status)
	}
	switch {
	case h.on[DefectAcceptInvalid] && e.subject != "":
		return h.rc.act(e), true
	case h.on[DefectUnusable5xx]:
		return outcome{code: http.StatusInternalServerError, msg: "internal error: " + err.Error()}, true
	}
	return outcome{}, false
}

// jumioTime matches a Jumio timestamp with any number of millisecond
// digits; group 1 holds them.
var jumioTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.(\d*))?Z$`)

// onParsed applies the defects that refuse or alter a usable callback;
// ok is true when the outcome is decided.
func (h *defectHooks) onParsed(r *http.Request, body []byte, e *event) (o outcome, ok bool) {
	if len(h.on) == 0 {
		return outcome{}, false
	}
	sumsub := e.product == "sumsub"
	top := topLevel(e.product, body)
	if h.on[DefectStrictMillis] && !sumsub {
		for _, v := range top {
			if s, ok := v.(string); ok {
				if m := jumioTime.FindStringSubmatch(s); m != nil && len(m[1]) != 3 {
					return outcome{code: http.StatusBadRequest, msg: "timestamp " + s + " does not have 3 millisecond digits"}, true
				}
			}
		}
	}
	if _, isString := top["sandboxMode"].(string); h.on[DefectBoolSandboxMode] && sumsub && isString {
		return outcome{code: http.StatusBadRequest, msg: "sandboxMode is not a boolean"}, true
	}
	if h.on[DefectRejectUnknownType] && sumsub && !slices.Contains(messages["sumsub"], e.message) {
		return outcome{code: http.StatusBadRequest, msg: "unknown type " + e.message}, true
	}
	if h.on[DefectUnknownFields5xx] {
		if res, err := h.strict(e.product, body); err == nil {
			for _, v := range res.Violations {
				if v.Rule == "additionalProperties" {
					return outcome{code: http.StatusInternalServerError, msg: "unexpected field " + v.Place()}, true
				}
			}
		}
	}
	if h.on[DefectRejectStrict] {
		if msg := h.strictProblem(e.product, r, body); msg != "" {
			return outcome{code: http.StatusBadRequest, msg: msg}, true
		}
	}
	if h.on[DefectUnknownStatusApproved] && sumsub {
		if rs, _, _ := strings.Cut(e.status, "/"); rs != "" && !slices.Contains(sumsubReviewStatuses, rs) {
			e.status, e.decision = "completed/GREEN", "approved"
		}
	}
	if h.on[DefectMergeFinals] {
		e.key = e.product + "\x00" + e.subject
	}
	if h.on[DefectStringBoolTruthy] && e.product == "jumio-netverify" {
		e.decision = decisionOf(e.product, e.message, body, true)
	}
	return outcome{}, false
}

// strict validates a body against the catalog at level strict.
func (h *defectHooks) strict(product string, body []byte) (*spec.Result, error) {
	p, err := h.catalog.Product(product)
	if err != nil {
		return nil, fmt.Errorf("strict validation: %w", err)
	}
	res, err := p.Validate(body, spec.Options{Level: spec.LevelStrict, Encoding: p.Encoding})
	if err != nil {
		return nil, fmt.Errorf("strict validation of %s: %w", product, err)
	}
	return res, nil
}

// strictProblem returns the first way a callback breaks the strict
// reading of the documents, or "".
func (h *defectHooks) strictProblem(product string, r *http.Request, body []byte) string {
	p, err := h.catalog.Product(product)
	if err != nil {
		return err.Error()
	}
	if ct := r.Header.Get("Content-Type"); spec.EncodingOf(ct) != p.Encoding {
		return fmt.Sprintf("Content-Type %q; expected %s", ct, p.ContentType)
	}
	res, err := h.strict(product, body)
	if err != nil {
		return err.Error()
	}
	if !res.Valid() {
		return res.Violations[0].String()
	}
	return ""
}

// topLevel returns the top-level fields of a JSON or form body (nil when
// it parses as neither).
func topLevel(product string, body []byte) map[string]any {
	if product == "jumio-kyx" || product == "sumsub" {
		var m map[string]any
		json.Unmarshal(body, &m)
		return m
	}
	f, err := url.ParseQuery(string(body))
	if err != nil {
		return nil
	}
	m := make(map[string]any, len(f))
	for k := range f {
		m[k] = f.Get(k)
	}
	return m
}

// beforeAnswer holds the answer back under DefectSlow.
func (h *defectHooks) beforeAnswer(r *http.Request) {
	if !h.on[DefectSlow] {
		return
	}
	t := time.NewTimer(h.rc.cfg.SlowDelay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
}

// wait waits for the acts scheduled by DefectActsOnRefusedLater, or for
// ctx.
func (h *defectHooks) wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { h.later.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for delayed acts: %w", ctx.Err())
	}
}
