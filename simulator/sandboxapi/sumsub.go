package sandboxapi

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"maps"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/kycsim/kycsim/simulator/sandbox"
)

// sumsubClientID is the clientId of the sandbox's Sumsub account, in the
// API's answers and the webhooks alike.
const sumsubClientID = "kycsim"

// sumsubClockSkew is how far a request's X-App-Access-Ts may be from the
// sandbox's wall clock.
const sumsubClockSkew = 60 * time.Second

// DefaultSumsubCreateStatus is the status an applicant creation answers
// with: 201, as Sumsub's own Postman collection of its API expects (see
// the README's Sumsub section for the sources and the clients that
// disagree).
const DefaultSumsubCreateStatus = http.StatusCreated

// sumsubSignature checks Sumsub's request signing: X-App-Token, and
// X-App-Access-Sig, the hex HMAC-SHA256 with the secret key of
// X-App-Access-Ts, the method, the path with its query and the body.
func (s *Server) sumsubSignature(r *http.Request) error {
	if subtle.ConstantTimeCompare([]byte(r.Header.Get("X-App-Token")), []byte(s.cfg.SumsubAppToken)) != 1 {
		return &apiError{status: http.StatusUnauthorized, msg: "App token is invalid", sumsubCode: 4000, sumsubName: "app-token-invalid"}
	}
	ts := r.Header.Get("X-App-Access-Ts")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return &apiError{status: http.StatusUnauthorized, msg: "X-App-Access-Ts is not a Unix time in seconds", sumsubCode: 4003, sumsubName: "app-token-signature mismatch"}
	}
	if d := s.cfg.WallNow().Sub(time.Unix(sec, 0)); d > sumsubClockSkew || d < -sumsubClockSkew {
		return &apiError{status: http.StatusUnauthorized, msg: "Request timestamp is too far from the server's time (more than 60 s)", sumsubCode: 4003, sumsubName: "app-token-signature mismatch"}
	}
	m := hmac.New(sha256.New, []byte(s.cfg.SumsubSecretKey))
	m.Write([]byte(ts + r.Method + r.URL.RequestURI()))
	m.Write(bodyOf(r))
	want := hex.EncodeToString(m.Sum(nil))
	if !hmac.Equal([]byte(r.Header.Get("X-App-Access-Sig")), []byte(want)) {
		return &apiError{status: http.StatusUnauthorized, msg: "Request signature mismatch", sumsubCode: 4003, sumsubName: "app-token-signature mismatch"}
	}
	return nil
}

// applicantRequest is the body of an applicant creation: everything the
// app sends is kept and answered back.
type applicantRequest struct {
	ExternalUserID string          `json:"externalUserId"`
	Email          string          `json:"email"`
	Phone          string          `json:"phone"`
	Lang           string          `json:"lang"`
	FixedInfo      json.RawMessage `json:"fixedInfo"`
	Info           json.RawMessage `json:"info"`
	Metadata       json.RawMessage `json:"metadata"`
	SourceKey      string          `json:"sourceKey"`
	Type           string          `json:"type"`
}

// apply copies what the app sent onto the record.
func (a *applicantRequest) apply(rec *record) {
	rec.Email, rec.Phone, rec.Lang, rec.SourceKey = a.Email, a.Phone, a.Lang, a.SourceKey
	rec.FixedInfo, rec.Info, rec.Metadata = nullToEmpty(a.FixedInfo), nullToEmpty(a.Info), nullToEmpty(a.Metadata)
	rec.ApplicantType = a.Type
}

// nullToEmpty drops a JSON null.
func nullToEmpty(b json.RawMessage) json.RawMessage {
	if string(b) == "null" {
		return nil
	}
	return b
}

// sumsubCreateApplicant creates an applicant; applicantCreated follows.
func (s *Server) sumsubCreateApplicant(w http.ResponseWriter, r *http.Request) error {
	var req applicantRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	v, err := s.createApplicant(r, req, r.URL.Query().Get("levelName"))
	if err != nil {
		return err
	}
	rec, err := readRecord(v)
	if err != nil {
		return err
	}
	status := s.cfg.SumsubCreateStatus
	if status == 0 {
		status = DefaultSumsubCreateStatus
	}
	writeJSON(w, status, s.applicantJSON(v, rec))
	return nil
}

// createApplicant creates a Sumsub applicant (409 when the
// externalUserId has one).
func (s *Server) createApplicant(r *http.Request, req applicantRequest, level string) (*sandbox.Verification, error) {
	ctx, cancel := ctxTimeout(r)
	defer cancel()
	if url := s.cfg.Webhooks["sumsub"]; url != "" {
		if err := s.callbackAllowed(url); err != nil {
			return nil, err
		}
	}
	now := s.cfg.Clock.Now()
	v := &sandbox.Verification{ID: randomHex(12), Product: "sumsub", ExternalRef: req.ExternalUserID, Status: "init", CreatedAt: now, UpdatedAt: now}
	rec := &record{LevelName: level, InspectionID: randomHex(12), AttemptID: randomAlnum(5)}
	req.apply(rec)
	if err := s.create(r, v, rec); err != nil {
		// The externalUserId has an applicant (made before or by a request
		// racing this one, on any replica): the store's unique index
		// refused this one.
		return nil, s.takenBy(ctx, err, req.ExternalUserID)
	}
	return v, nil
}

// externalUserIDTaken is Sumsub's answer to a second applicant with an
// externalUserId.
func externalUserIDTaken(ext, holder string) error {
	return &apiError{status: http.StatusConflict, msg: "Applicant with external user id '" + ext + "' already exists: " + holder}
}

// takenBy turns the store's ETAKEN for an externalUserId into Sumsub's
// answer naming the applicant that holds it; other errors pass through.
func (s *Server) takenBy(ctx context.Context, err error, ext string) error {
	if sandbox.ErrorCode(err) != sandbox.ETAKEN {
		return err
	}
	holder, ferr := s.applicantByExternal(ctx, ext)
	if ferr != nil || holder == nil {
		return err
	}
	return externalUserIDTaken(ext, holder.ID)
}

// applicantByExternal finds the applicant of an externalUserId (nil when
// there is none).
func (s *Server) applicantByExternal(ctx context.Context, externalUserID string) (*sandbox.Verification, error) {
	vs, err := s.cfg.Store.Verifications(ctx, sandbox.VerificationFilter{Product: "sumsub", ExternalRef: externalUserID, Limit: 1})
	if err != nil || len(vs) == 0 {
		return nil, err
	}
	return vs[0], nil
}

// applicantOf finds the applicant a request names.
func (s *Server) applicantOf(r *http.Request) (*sandbox.Verification, *record, error) {
	id := mux.Vars(r)["applicantId"]
	return s.lookup(r.Context(), id, "sumsub", func() error { return applicantNotFound(id) })
}

// applicantNotFound is Sumsub's answer for an unknown applicant.
func applicantNotFound(id string) error {
	return &apiError{status: http.StatusNotFound, msg: "Applicant not found: " + id}
}

// sumsubReviewTime formats a review time as Sumsub's API does
// (createDate, reviewDate): with the zone offset.
func sumsubReviewTime(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04:05") + "+0000"
}

// reviewJSON is an applicant's review at now.
func (s *Server) reviewJSON(v *sandbox.Verification, rec *record) map[string]any {
	now := s.cfg.Clock.Now()
	status, at := rec.statusAt(now, "init")
	created := v.CreatedAt
	if !rec.ResetAt.IsZero() {
		created = rec.ResetAt
	}
	attempts := rec.AttemptCnt
	if attempts == 0 && status != "init" {
		// Checked without the API's pending (a magic value, the page).
		attempts = 1
	}
	out := map[string]any{
		"reviewId": v.ID[:min(5, len(v.ID))], "attemptId": rec.AttemptID, "attemptCnt": attempts,
		"levelName": rec.LevelName, "levelAutoCheckMode": nil, "createDate": sumsubReviewTime(created), "reviewStatus": status, "priority": 0,
	}
	if out["attemptId"] == "" {
		out["attemptId"] = rec.InspectionID[:min(5, len(rec.InspectionID))]
	}
	if p := rec.pendingAt(now); !p.IsZero() {
		end := now
		if status == "completed" {
			end = at
		}
		out["elapsedSincePendingMs"] = end.Sub(p).Milliseconds()
		out["elapsedSinceQueuedMs"] = end.Sub(p).Milliseconds()
		out["reprocessing"] = false
	}
	if status == "completed" {
		out["reviewDate"] = sumsubReviewTime(at)
		if rec.ReviewAnswer != "" {
			rr := map[string]any{"reviewAnswer": rec.ReviewAnswer}
			if rec.ReviewAnswer == "RED" {
				rr["rejectLabels"], rr["reviewRejectType"] = rec.RejectLabels, rec.RejectType
			}
			if rec.ClientComment != "" {
				rr["clientComment"] = rec.ClientComment
			}
			if rec.ModerationComment != "" {
				rr["moderationComment"] = rec.ModerationComment
			}
			out["reviewResult"] = rr
		}
	}
	return out
}

// defaultDocSets are the steps every level of the sandbox requires: an
// identity document and a selfie (the sandbox does not know the app's
// levels; see the README).
var defaultDocSets = []docSet{
	{Type: "IDENTITY", Types: []string{"PASSPORT", "ID_CARD", "DRIVERS", "RESIDENCE_PERMIT"}, SubTypes: []string{"FRONT_SIDE", "BACK_SIDE"}},
	{Type: "SELFIE", Types: []string{"SELFIE"}},
}

// docSet is one step of requiredIdDocs.
type docSet struct {
	Type     string   `json:"idDocSetType"`
	Types    []string `json:"types"`
	SubTypes []string `json:"subTypes,omitempty"`
}

// sumsubCreatedBy is the applicants' createdBy: the sandbox app token's
// service, as Sumsub names the creator of an applicant made through the
// API.
const sumsubCreatedBy = "service-sbx-KYCSIMSANDBOX-app-kycsim"

// applicantJSON is an applicant as the API answers it: what the app sent
// (only what it sent), what Sumsub adds, and the review.
func (s *Server) applicantJSON(v *sandbox.Verification, rec *record) map[string]any {
	typ := rec.ApplicantType
	if typ == "" {
		typ = "individual"
	}
	info := rec.Info
	if len(info) == 0 {
		info = rec.FixedInfo
	}
	if len(info) == 0 {
		info = json.RawMessage("{}")
	}
	out := map[string]any{
		"id": v.ID, "createdAt": sumsubTime(v.CreatedAt), "createdBy": sumsubCreatedBy, "key": "KYCSIMSANDBOX", "clientId": sumsubClientID,
		"inspectionId": rec.InspectionID, "externalUserId": v.ExternalRef, "info": info, "applicantPlatform": "API",
		"requiredIdDocs": map[string]any{"docSets": defaultDocSets}, "review": s.reviewJSON(v, rec), "type": typ,
	}
	for k, val := range map[string]string{"email": rec.Email, "phone": rec.Phone, "lang": rec.Lang, "sourceKey": rec.SourceKey} {
		if val != "" {
			out[k] = val
		}
	}
	if len(rec.FixedInfo) > 0 {
		out["fixedInfo"] = rec.FixedInfo
	}
	if len(rec.Metadata) > 0 {
		out["metadata"] = rec.Metadata
	}
	return out
}

// sumsubApplicant answers an applicant.
func (s *Server) sumsubApplicant(w http.ResponseWriter, r *http.Request) error {
	v, rec, err := s.applicantOf(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.applicantJSON(v, rec))
	return nil
}

// sumsubApplicantByExternalUserId answers the applicant of an
// externalUserId.
func (s *Server) sumsubApplicantByExternalUserId(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := ctxTimeout(r)
	defer cancel()
	ext := mux.Vars(r)["externalUserId"]
	found, err := s.applicantByExternal(ctx, ext)
	if err != nil {
		return err
	}
	if found == nil {
		return &apiError{status: http.StatusNotFound, msg: "Applicant with external user id '" + ext + "' not found"}
	}
	rec, err := readRecord(found)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.applicantJSON(found, rec))
	return nil
}

// sumsubStatus answers an applicant's review.
func (s *Server) sumsubStatus(w http.ResponseWriter, r *http.Request) error {
	v, rec, err := s.applicantOf(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.reviewJSON(v, rec))
	return nil
}

// sumsubPending submits an applicant for review; applicantPending
// follows. An applicant rejected with RETRY may be submitted again (a new
// attempt); one approved or finally rejected may not.
func (s *Server) sumsubPending(w http.ResponseWriter, r *http.Request) error {
	v, _, err := s.applicantOf(r)
	if err != nil {
		return err
	}
	ctx, cancel := ctxTimeout(r)
	defer cancel()
	if _, _, err := s.enqueueOutcome(ctx, v.ID, "sumsub", "PENDING", "", func(v *sandbox.Verification, rec *record) error {
		if rec.Outcome != "" && (rec.ReviewAnswer != "RED" || rec.RejectType != "RETRY") {
			return &apiError{status: http.StatusConflict, msg: "Applicant " + v.ID + " is already reviewed (" + rec.ReviewAnswer + " " + rec.RejectType + "); only a RED RETRY may be checked again"}
		}
		rec.Outcome, rec.ReviewAnswer, rec.RejectLabels, rec.RejectType = "", "", nil, ""
		rec.ClientComment, rec.ModerationComment = "", ""
		rec.AttemptCnt++
		if rec.AttemptCnt > 1 {
			rec.AttemptID = randomAlnum(5)
		}
		return nil
	}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": 1})
	return nil
}

// testCompletedRequest is the body of the sandbox-only review completion.
type testCompletedRequest struct {
	ReviewAnswer      string   `json:"reviewAnswer"`
	RejectLabels      []string `json:"rejectLabels"`
	ReviewRejectType  string   `json:"reviewRejectType"`
	ClientComment     string   `json:"clientComment"`
	ModerationComment string   `json:"moderationComment"`
}

// sumsubTestCompleted completes an applicant's review with the chosen
// result; applicantReviewed follows.
func (s *Server) sumsubTestCompleted(w http.ResponseWriter, r *http.Request) error {
	v, _, err := s.applicantOf(r)
	if err != nil {
		return err
	}
	var req testCompletedRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	ctx, cancel := ctxTimeout(r)
	defer cancel()
	if err := s.review(ctx, v.ID, req); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": 1})
	return nil
}

// review completes a Sumsub review (the API's testCompleted, the page).
func (s *Server) review(ctx context.Context, id string, req testCompletedRequest) error {
	if req.ReviewAnswer == "RED" {
		if len(req.RejectLabels) == 0 {
			req.RejectLabels = []string{"FORGERY"}
		}
		if req.ReviewRejectType == "" {
			req.ReviewRejectType = "FINAL"
		}
	}
	_, _, err := s.enqueueOutcome(ctx, id, "sumsub", req.ReviewAnswer, "", func(v *sandbox.Verification, rec *record) error {
		rec.ReviewAnswer, rec.RejectLabels, rec.RejectType = req.ReviewAnswer, req.RejectLabels, req.ReviewRejectType
		rec.ClientComment, rec.ModerationComment = req.ClientComment, req.ModerationComment
		if rec.AttemptCnt == 0 {
			rec.AttemptCnt = 1
		}
		return nil
	})
	return err
}

// sumsubReset resets an applicant: its review starts again at init and
// its documents no longer count; applicantReset follows.
func (s *Server) sumsubReset(w http.ResponseWriter, r *http.Request) error {
	v, _, err := s.applicantOf(r)
	if err != nil {
		return err
	}
	ctx, cancel := ctxTimeout(r)
	defer cancel()
	// Documents first: a reset that fails after this leaves them
	// inactive, and the app's retry of the reset finishes it.
	if _, err := s.cfg.Store.DeactivateDocuments(ctx, v.ID); err != nil {
		return err
	}
	if _, _, err := s.enqueueOutcome(ctx, v.ID, "sumsub", "RESET", "", func(v *sandbox.Verification, rec *record) error {
		rec.Outcome, rec.ReviewAnswer, rec.RejectLabels, rec.RejectType = "", "", nil, ""
		rec.ClientComment, rec.ModerationComment = "", ""
		rec.ResetAt = s.cfg.Clock.Now()
		rec.AttemptCnt, rec.AttemptID = 0, randomAlnum(5)
		return nil
	}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": 1})
	return nil
}

// infoChanged plays applicantPersonalInfoChanged for a change prepare
// makes, with the applicant's current review in the webhook.
func (s *Server) infoChanged(ctx context.Context, id string, prepare func(v *sandbox.Verification, rec *record) error) (*sandbox.Verification, error) {
	now := s.cfg.Clock.Now()
	outcome := "INFO_CHANGED"
	extra := func(v *sandbox.Verification, rec *record) map[string]any {
		status, _ := rec.statusAt(now, "init")
		f := map[string]any{"reviewStatus": status}
		if rec.ReviewAnswer != "" && status == "completed" {
			f["reviewResult.reviewAnswer"] = rec.ReviewAnswer
		}
		return f
	}
	v, _, err := s.enqueueOutcomeWith(ctx, id, "sumsub", func(v *sandbox.Verification, rec *record) (string, error) {
		if err := prepare(v, rec); err != nil {
			return "", err
		}
		if status, _ := rec.statusAt(now, "init"); status != "completed" || rec.ReviewAnswer == "" {
			return "INFO_CHANGED_NO_RESULT", nil
		}
		return outcome, nil
	}, extra)
	return v, err
}

// sumsubFixedInfo changes the information the app provided; the answer
// is the fixedInfo after the change (members sent replace those kept).
func (s *Server) sumsubFixedInfo(w http.ResponseWriter, r *http.Request) error {
	v, _, err := s.applicantOf(r)
	if err != nil {
		return err
	}
	var patch map[string]json.RawMessage
	if err := decodeJSON(r, &patch); err != nil {
		return err
	}
	if patch == nil {
		return errorf(http.StatusBadRequest, "body: want a JSON object of fixedInfo members")
	}
	ctx, cancel := ctxTimeout(r)
	defer cancel()
	var merged json.RawMessage
	if _, err := s.infoChanged(ctx, v.ID, func(v *sandbox.Verification, rec *record) error {
		fixed := map[string]json.RawMessage{}
		if len(rec.FixedInfo) > 0 {
			if err := json.Unmarshal(rec.FixedInfo, &fixed); err != nil {
				return err
			}
		}
		maps.Copy(fixed, patch)
		b, err := json.Marshal(fixed)
		if err != nil {
			return err
		}
		rec.FixedInfo, merged = b, b
		return nil
	}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, merged)
	return nil
}

// applicantPatch is the body of a top-level information change.
type applicantPatch struct {
	ID             string          `json:"id"`
	ExternalUserID *string         `json:"externalUserId"`
	Email          *string         `json:"email"`
	Phone          *string         `json:"phone"`
	Lang           *string         `json:"lang"`
	SourceKey      *string         `json:"sourceKey"`
	Metadata       json.RawMessage `json:"metadata"`
}

// sumsubChangeTopLevelInfo changes an applicant's top-level information;
// the answer is the applicant after the change.
func (s *Server) sumsubChangeTopLevelInfo(w http.ResponseWriter, r *http.Request) error {
	var req applicantPatch
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	ctx, cancel := ctxTimeout(r)
	defer cancel()
	if _, _, err := s.lookup(ctx, req.ID, "sumsub", func() error { return applicantNotFound(req.ID) }); err != nil {
		return err
	}
	v, err := s.infoChanged(ctx, req.ID, func(v *sandbox.Verification, rec *record) error {
		if req.ExternalUserID != nil {
			v.ExternalRef = *req.ExternalUserID
		}
		for _, f := range []struct {
			from *string
			to   *string
		}{{req.Email, &rec.Email}, {req.Phone, &rec.Phone}, {req.Lang, &rec.Lang}, {req.SourceKey, &rec.SourceKey}} {
			if f.from != nil {
				*f.to = *f.from
			}
		}
		if m := nullToEmpty(req.Metadata); len(m) > 0 {
			rec.Metadata = m
		}
		return nil
	})
	if err != nil && req.ExternalUserID != nil {
		// Another applicant holds it: the store's unique index refused
		// the change.
		return s.takenBy(ctx, err, *req.ExternalUserID)
	}
	if err != nil {
		return err
	}
	rec, err := readRecord(v)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.applicantJSON(v, rec))
	return nil
}

// sumsubHealth answers Sumsub's API health check.
func (s *Server) sumsubHealth(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"ok": 1})
	return nil
}

// sumsubTime formats a time as Sumsub's API does for createdAt.
func sumsubTime(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04:05")
}

// randomAlnum returns n random letters and digits (Sumsub's short ids:
// reviewId, attemptId).
func randomAlnum(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
