package sandboxapi

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
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

// applicantRequest is the body of an applicant creation.
type applicantRequest struct {
	ExternalUserID string `json:"externalUserId"`
	Type           string `json:"type"`
}

// sumsubCreateApplicant creates an applicant; applicantCreated follows.
func (s *Server) sumsubCreateApplicant(w http.ResponseWriter, r *http.Request) error {
	var req applicantRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	v, err := s.createApplicant(r, req.ExternalUserID, r.URL.Query().Get("levelName"))
	if err != nil {
		return err
	}
	rec, err := readRecord(v)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s.applicantJSON(v, rec))
	return nil
}

// createApplicant creates a Sumsub applicant (409 when the
// externalUserId has one).
func (s *Server) createApplicant(r *http.Request, externalUserID, level string) (*sandbox.Verification, error) {
	ctx, cancel := ctxTimeout(r)
	defer cancel()
	if url := s.cfg.Webhooks["sumsub"]; url != "" {
		if err := s.callbackAllowed(url); err != nil {
			return nil, err
		}
	}
	existing, err := s.cfg.Store.Verifications(ctx, sandbox.VerificationFilter{Product: "sumsub", ExternalRef: externalUserID, Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(existing) > 0 {
		return nil, &apiError{status: http.StatusConflict, msg: "Applicant with external user id '" + externalUserID + "' already exists: " + existing[0].ID}
	}
	now := s.cfg.Clock.Now()
	v := &sandbox.Verification{ID: randomHex(12), Product: "sumsub", ExternalRef: externalUserID, Status: "init", CreatedAt: now, UpdatedAt: now}
	rec := &record{LevelName: level, InspectionID: randomHex(12)}
	if err := s.create(r, v, rec); err != nil {
		return nil, err
	}
	return v, nil
}

// applicantOf finds the applicant a request names.
func (s *Server) applicantOf(r *http.Request) (*sandbox.Verification, *record, error) {
	ctx, cancel := ctxTimeout(r)
	defer cancel()
	id := mux.Vars(r)["applicantId"]
	return s.lookup(ctx, id, "sumsub", errorf(http.StatusNotFound, "Applicant not found: %s", id))
}

// reviewJSON is an applicant's review at now.
func (s *Server) reviewJSON(v *sandbox.Verification, rec *record) map[string]any {
	status, _ := rec.statusAt(s.cfg.Clock.Now(), "init")
	out := map[string]any{
		"reviewId": v.ID[:min(5, len(v.ID))], "attemptId": rec.InspectionID[:min(5, len(rec.InspectionID))], "attemptCnt": 1,
		"levelName": rec.LevelName, "createDate": sumsubTime(v.CreatedAt), "reviewStatus": status, "priority": 0,
	}
	if status == "completed" && rec.ReviewAnswer != "" {
		rr := map[string]any{"reviewAnswer": rec.ReviewAnswer}
		if rec.ReviewAnswer == "RED" {
			rr["rejectLabels"], rr["reviewRejectType"] = rec.RejectLabels, rec.RejectType
		}
		out["reviewResult"] = rr
	}
	return out
}

// applicantJSON is an applicant as the API answers it.
func (s *Server) applicantJSON(v *sandbox.Verification, rec *record) map[string]any {
	return map[string]any{
		"id": v.ID, "createdAt": sumsubTime(v.CreatedAt), "key": "KYCSIMSANDBOX", "clientId": sumsubClientID,
		"inspectionId": rec.InspectionID, "externalUserId": v.ExternalRef, "info": map[string]any{},
		"requiredIdDocs": map[string]any{}, "review": s.reviewJSON(v, rec), "type": "individual",
	}
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
// follows.
func (s *Server) sumsubPending(w http.ResponseWriter, r *http.Request) error {
	v, _, err := s.applicantOf(r)
	if err != nil {
		return err
	}
	ctx, cancel := ctxTimeout(r)
	defer cancel()
	if _, _, err := s.enqueueOutcome(ctx, v.ID, "sumsub", "PENDING", "", func(v *sandbox.Verification, rec *record) error {
		if rec.Outcome != "" {
			return errorf(http.StatusConflict, "Applicant %s is already reviewed", v.ID)
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
	ReviewAnswer     string   `json:"reviewAnswer"`
	RejectLabels     []string `json:"rejectLabels"`
	ReviewRejectType string   `json:"reviewRejectType"`
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
		return nil
	})
	return err
}

// sumsubAccessToken issues a WebSDK access token.
func (s *Server) sumsubAccessToken(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"token": "_act-sbx-" + newUUID(), "userId": r.URL.Query().Get("userId")})
	return nil
}

// sumsubWebSDKLink answers a WebSDK link, which opens the outcome page;
// the applicant is created first when the externalUserId has none.
func (s *Server) sumsubWebSDKLink(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := ctxTimeout(r)
	defer cancel()
	ext := r.URL.Query().Get("externalUserId")
	vs, err := s.cfg.Store.Verifications(ctx, sandbox.VerificationFilter{Product: "sumsub", ExternalRef: ext, Limit: 1})
	if err != nil {
		return err
	}
	var v *sandbox.Verification
	if len(vs) > 0 {
		v = vs[0]
	} else if v, err = s.createApplicant(r, ext, mux.Vars(r)["levelName"]); err != nil {
		return err
	}
	rec, err := readRecord(v)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"url": s.pageURL(v, rec)})
	return nil
}

// sumsubTime formats a time as Sumsub's API does.
func sumsubTime(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04:05")
}
