package sandboxapi

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/kycsim/kycsim/simulator/sandbox"
)

// Jumio KYX API channel (server-side capture): the account answer gives
// each credential an api object with a token, the URLs its parts are
// uploaded to (multipart, field file) and the URL the acquisition is
// finalized at (PUT). The first upload starts the acquisition
// (ACQUISITION_STARTED, and the session timeout runs from each upload);
// the finalization checks that every required part is there and plays
// the processing (ACQUIRED, PROCESSED) with the decision PASSED, unless
// an outcome was already picked (a magic reference, the control API).

// apiTokenPrefix starts the tokens of the API channel.
const apiTokenPrefix = "kycsim-api."

// apiToken returns the API channel token of a workflow execution, valid
// until its token lifetime ends: the workflow id and the expiry, signed
// with the client secret, so that tokens need no storage.
func (s *Server) apiToken(workflowID string, until time.Time) string {
	exp := strconv.FormatInt(until.UnixNano(), 10)
	return apiTokenPrefix + workflowID + "." + exp + "." + s.apiTokenMAC(workflowID, exp)
}

func (s *Server) apiTokenMAC(workflowID, exp string) string {
	m := hmac.New(sha256.New, []byte("kycsim-api-token\x00"+s.cfg.JumioClientID+"\x00"+s.cfg.JumioClientSecret))
	m.Write([]byte(workflowID + "\x00" + exp))
	return hex.EncodeToString(m.Sum(nil))
}

// apiChannelPath returns the workflow execution id of a request on the
// API channel (a part upload or the finalization), or "".
func apiChannelPath(r *http.Request) string {
	seg := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	// api v1 accounts {a} workflow-executions {w} [credentials {c} parts {p}]
	if len(seg) < 6 || seg[0] != "api" || seg[1] != "v1" || seg[2] != "accounts" || seg[4] != "workflow-executions" {
		return ""
	}
	switch {
	case len(seg) == 6 && r.Method == http.MethodPut:
		return seg[5]
	case len(seg) == 10 && seg[6] == "credentials" && seg[8] == "parts" && (r.Method == http.MethodPost || r.Method == http.MethodPut):
		return seg[5]
	}
	return ""
}

// apiChannelAuth accepts, on the API channel, the workflow's own api
// token or an OAuth2 access token.
func (s *Server) apiChannelAuth(r *http.Request, workflowID string) error {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	rest, ok := strings.CutPrefix(tok, apiTokenPrefix)
	if !ok {
		return s.jumioBearer(r)
	}
	id, tail, _ := strings.Cut(rest, ".")
	exp, mac, _ := strings.Cut(tail, ".")
	n, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || !hmac.Equal([]byte(mac), []byte(s.apiTokenMAC(id, exp))) {
		return errorf(http.StatusUnauthorized, "the API channel token is not one this sandbox issued")
	}
	if id != workflowID {
		return errorf(http.StatusUnauthorized, "the API channel token belongs to workflow execution %s, not %s", id, workflowID)
	}
	if !s.cfg.Clock.Now().Before(time.Unix(0, n)) {
		return errorf(http.StatusUnauthorized, "the API channel token has expired")
	}
	return nil
}

// apiChannel is a credential's api object.
func (s *Server) apiChannel(v *sandbox.Verification, c kyxCredential) map[string]any {
	wf := s.cfg.InternalURL + "/api/v1/accounts/" + v.AccountID + "/workflow-executions/" + v.ID
	parts := map[string]any{}
	for _, p := range apiParts[c.Category] {
		parts[p] = wf + "/credentials/" + c.ID + "/parts/" + strings.ToUpper(p)
	}
	until := v.ExpiresAt
	if until.IsZero() {
		until = s.cfg.Clock.Now().Add(30 * time.Minute)
	}
	return map[string]any{"token": s.apiToken(v.ID, until), "parts": parts, "workflowExecution": wf}
}

// accountCredentials are the credentials of an account answer.
func (s *Server) accountCredentials(v *sandbox.Verification, rec *record) []any {
	var out []any
	for _, c := range kyxCredentials(v, rec) {
		m := map[string]any{"id": c.ID, "category": c.Category, "allowedChannels": []string{"WEB", "SDK"}}
		if apiParts[c.Category] != nil {
			m["allowedChannels"] = []string{"WEB", "API", "SDK"}
			m["api"] = s.apiChannel(v, c)
		}
		out = append(out, m)
	}
	return out
}

// acquiring reports why a workflow takes no more uploads, or nil.
func acquiring(v *sandbox.Verification, rec *record) error {
	switch {
	case rec.Finalized:
		return errorf(http.StatusConflict, "workflow execution %s is finalized", v.ID)
	case rec.Outcome != "":
		return errorf(http.StatusConflict, "workflow execution %s is no longer acquiring: it has the outcome %s", v.ID, rec.Outcome)
	}
	return nil
}

// kyxUploadPart stores a credential part uploaded through the API
// channel (POST, or PUT to replace it).
func (s *Server) kyxUploadPart(w http.ResponseWriter, r *http.Request) error {
	v, rec, err := s.kyxVerification(r)
	if err != nil {
		return err
	}
	vars := mux.Vars(r)
	credID, classifier := vars["credentialId"], strings.ToUpper(vars["classifier"])
	var cred kyxCredential
	for _, c := range kyxCredentials(v, rec) {
		if c.ID == credID {
			cred = c
		}
	}
	if cred.ID == "" {
		return errorf(http.StatusNotFound, "workflow execution %s has no credential %s", v.ID, credID)
	}
	if !slices.Contains(apiParts[cred.Category], strings.ToLower(classifier)) {
		return errorf(http.StatusBadRequest, "path parameter classifier: a %s credential takes %s through the API channel, not %s",
			cred.Category, strings.ToUpper(strings.Join(apiParts[cred.Category], ", ")), classifier)
	}
	if err := acquiring(v, rec); err != nil {
		return err
	}
	data, err := multipartFile(r)
	if err != nil {
		return err
	}
	ctype := http.DetectContentType(data)
	if ctype != "image/jpeg" && ctype != "image/png" {
		return errorf(http.StatusBadRequest, "form field file: %s is not a JPEG or PNG image", ctype)
	}
	ctx, cancel := ctxTimeout(r)
	defer cancel()
	if err := s.cfg.Store.PutPart(ctx, &sandbox.Part{VerificationID: v.ID, CredentialID: credID, Classifier: classifier, ContentType: ctype, Data: data}); err != nil {
		return err
	}
	note := func(v *sandbox.Verification, rec *record) error {
		if err := acquiring(v, rec); err != nil {
			return err
		}
		rec.Channel = "API"
		if rec.Uploaded == nil {
			rec.Uploaded = map[string][]string{}
		}
		if !slices.Contains(rec.Uploaded[credID], classifier) {
			rec.Uploaded[credID] = append(rec.Uploaded[credID], classifier)
		}
		// Each upload is user activity: the session runs on from it.
		v.ExpiresAt = s.cfg.Clock.Now().Add(sessionTimeout)
		return nil
	}
	if !rec.Started {
		_, _, err = s.enqueueOutcome(ctx, v.ID, "jumio-kyx", "STARTED", "", func(v *sandbox.Verification, rec *record) error {
			if err := note(v, rec); err != nil {
				return err
			}
			rec.Started = true
			return nil
		})
	} else {
		_, err = sandbox.Update(ctx, s.cfg.Store, v.ID, func(v *sandbox.Verification) ([]*sandbox.Delivery, error) {
			rec, err := readRecord(v)
			if err != nil {
				return nil, err
			}
			if err := note(v, rec); err != nil {
				return nil, err
			}
			v.UpdatedAt = s.cfg.Clock.Now()
			return nil, rec.write(v)
		})
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"timestamp": jumioTime(s.cfg.Clock.Now()), "account": map[string]any{"id": v.AccountID},
		"workflowExecution": map[string]any{"id": v.ID}, "api": s.apiChannel(v, cred),
	})
	return nil
}

// multipartFile reads the file field of a multipart upload.
func multipartFile(r *http.Request) ([]byte, error) {
	if err := r.ParseMultipartForm(maxPartBody); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, err
		}
		return nil, errorf(http.StatusBadRequest, "body: not a multipart form: %v", err)
	}
	defer r.MultipartForm.RemoveAll()
	f, _, err := r.FormFile("file")
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "form field file: %v", err)
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, io.LimitReader(f, sandbox.MaxPartBytes+1)); err != nil {
		return nil, errorf(http.StatusBadRequest, "form field file: %v", err)
	}
	if buf.Len() > sandbox.MaxPartBytes {
		return nil, errorf(http.StatusRequestEntityTooLarge, "form field file: larger than Jumio's 10 MB")
	}
	if buf.Len() == 0 {
		return nil, errorf(http.StatusBadRequest, "form field file: empty")
	}
	return buf.Bytes(), nil
}

// kyxFinalize ends the API channel's acquisition: with every required
// part uploaded, the processing and its callbacks follow.
func (s *Server) kyxFinalize(w http.ResponseWriter, r *http.Request) error {
	v, _, err := s.kyxVerification(r)
	if err != nil {
		return err
	}
	ctx, cancel := ctxTimeout(r)
	defer cancel()
	_, _, err = s.enqueueOutcome(ctx, v.ID, "jumio-kyx", "PASSED", "", func(v *sandbox.Verification, rec *record) error {
		if err := acquiring(v, rec); err != nil {
			return err
		}
		var missing []string
		for _, c := range kyxCredentials(v, rec) {
			for _, p := range requiredParts[c.Category] {
				if !slices.Contains(rec.Uploaded[c.ID], p) {
					missing = append(missing, c.Category+" "+p+" (credential "+c.ID+")")
				}
			}
		}
		if len(missing) > 0 {
			return errorf(http.StatusBadRequest, "cannot finalize workflow execution %s: missing part %s; upload it first", v.ID, strings.Join(missing, ", "))
		}
		rec.Finalized = true
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"timestamp": jumioTime(s.cfg.Clock.Now()), "account": map[string]any{"id": v.AccountID}, "workflowExecution": map[string]any{"id": v.ID},
	})
	return nil
}
