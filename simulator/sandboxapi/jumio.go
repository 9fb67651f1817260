package sandboxapi

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/kycsim/kycsim/simulator/sandbox"
)

// tokenLifetime is the lifetime of a Jumio OAuth2 access token, on the
// sandbox clock.
const tokenLifetime = time.Hour

// tokenExpiry returns the lifetime of an access token issued now, on the
// sandbox clock, and its expires_in in the caller's real seconds: an hour
// of sandbox time told in real seconds (rounded down, so that a client
// that refreshes after expires_in never holds an expired token), at least
// 1; at a time scale that makes the hour shorter than a real second the
// token lives one real second.
func (s *Server) tokenExpiry() (time.Duration, int) {
	real := time.Duration(float64(tokenLifetime) * s.cfg.TimeScale)
	if real >= time.Second {
		return tokenLifetime, int(real / time.Second)
	}
	return time.Duration(float64(time.Second) / s.cfg.TimeScale), 1
}

// sessionTimeout is how long an acquisition session lasts without user
// activity before Jumio ends it (SESSION_EXPIRED, NO_ID_UPLOADED).
const sessionTimeout = 15 * time.Minute

// jumioBasic checks HTTP Basic credentials against the Jumio client.
func (s *Server) jumioBasic(r *http.Request) error {
	id, secret, ok := r.BasicAuth()
	if !ok {
		return errorf(http.StatusUnauthorized, "HTTP Basic credentials (API token and secret) are required")
	}
	if subtle.ConstantTimeCompare([]byte(id), []byte(s.cfg.JumioClientID)) != 1 ||
		subtle.ConstantTimeCompare([]byte(secret), []byte(s.cfg.JumioClientSecret)) != 1 {
		return errorf(http.StatusUnauthorized, "wrong client id or secret")
	}
	return nil
}

// jumioBearer checks a bearer token issued by jumioToken.
func (s *Server) jumioBearer(r *http.Request) error {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return errorf(http.StatusUnauthorized, "a bearer token is required (POST /oauth2/token)")
	}
	n, ok := s.bearers.expiry(tok)
	if !ok {
		exp, mac, cut := strings.Cut(strings.TrimPrefix(tok, "kycsim."), ".")
		var err error
		n, err = strconv.ParseInt(exp, 10, 64)
		if !cut || err != nil || !hmac.Equal([]byte(mac), []byte(s.tokenMAC(exp))) {
			return errorf(http.StatusUnauthorized, "the bearer token is not one this sandbox issued")
		}
		s.bearers.put(tok, n)
	}
	if !s.cfg.Clock.Now().Before(time.Unix(0, n)) {
		return errorf(http.StatusUnauthorized, "the bearer token has expired")
	}
	return nil
}

// maxBearers bounds the tokens a bearerCache holds; when it is full it
// starts again empty.
const maxBearers = 4096

// bearerCache remembers the bearer tokens whose signature was checked and
// their expiry (Unix nanoseconds), so that an app polling with one token
// pays for its HMAC once. Only tokens this sandbox signed get in; expiry
// is still judged at every request.
type bearerCache struct {
	mu    sync.RWMutex
	items map[string]int64
}

func (c *bearerCache) expiry(tok string) (int64, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	n, ok := c.items[tok]
	return n, ok
}

func (c *bearerCache) put(tok string, expiry int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.items == nil || len(c.items) >= maxBearers {
		c.items = map[string]int64{}
	}
	c.items[tok] = expiry
}

// tokenMAC signs a token's expiry with the client secret, so that tokens
// need no storage and survive a restart.
func (s *Server) tokenMAC(exp string) string {
	m := hmac.New(sha256.New, []byte("kycsim-token\x00"+s.cfg.JumioClientID+"\x00"+s.cfg.JumioClientSecret))
	m.Write([]byte(exp))
	return hex.EncodeToString(m.Sum(nil))
}

// jumioToken issues an OAuth2 access token (client credentials).
func (s *Server) jumioToken(w http.ResponseWriter, r *http.Request) error {
	lifetime, expiresIn := s.tokenExpiry()
	exp := strconv.FormatInt(s.cfg.Clock.Now().Add(lifetime).UnixNano(), 10)
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": "kycsim." + exp + "." + s.tokenMAC(exp),
		"expires_in":   expiresIn, "token_type": "Bearer",
	})
	return nil
}

// accountRequest is the body of a KYX account request.
type accountRequest struct {
	CustomerInternalReference string `json:"customerInternalReference"`
	UserReference             string `json:"userReference"`
	CallbackURL               string `json:"callbackUrl"`
	TokenLifetime             string `json:"tokenLifetime"`
	WorkflowDefinition        struct {
		Key any `json:"key"`
	} `json:"workflowDefinition"`
	Web struct {
		SuccessURL string `json:"successUrl"`
		ErrorURL   string `json:"errorUrl"`
	} `json:"web"`
}

var lifetimeRE = regexp.MustCompile(`^[+-]?(\d+)([smhd])$`)

// parseLifetime reads a KYX tokenLifetime (default 30 minutes; 5
// minutes to 60 days).
func parseLifetime(s string) (time.Duration, error) {
	if s == "" {
		return 30 * time.Minute, nil
	}
	m := lifetimeRE.FindStringSubmatch(s)
	if m == nil {
		return 0, errorf(http.StatusBadRequest, "body /tokenLifetime: %q is not a number and a unit (s, m, h, d)", s)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || n > 1e7 {
		return 0, errorf(http.StatusBadRequest, "body /tokenLifetime: %q is out of range", s)
	}
	unit := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour}[m[2]]
	d := time.Duration(n) * unit
	if d < 5*time.Minute || d > 60*24*time.Hour {
		return 0, errorf(http.StatusBadRequest, "body /tokenLifetime: %s is outside 5m to 60d", s)
	}
	return d, nil
}

// kyxCreateAccount creates an account and its first workflow execution.
func (s *Server) kyxCreateAccount(w http.ResponseWriter, r *http.Request) error {
	return s.kyxAccount(w, r, newUUID())
}

// kyxUpdateAccount starts a new workflow execution for an account.
func (s *Server) kyxUpdateAccount(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := ctxTimeout(r)
	defer cancel()
	id := mux.Vars(r)["accountId"]
	vs, err := s.cfg.Store.Verifications(ctx, sandbox.VerificationFilter{Product: "jumio-kyx", AccountID: id, Limit: 1})
	if err != nil {
		return err
	}
	if len(vs) == 0 {
		return errorf(http.StatusNotFound, "no account %s", id)
	}
	return s.kyxAccount(w, r, id)
}

// kyxAccount creates a workflow execution for an account.
func (s *Server) kyxAccount(w http.ResponseWriter, r *http.Request, accountID string) error {
	var req accountRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	lifetime, err := parseLifetime(req.TokenLifetime)
	if err != nil {
		return err
	}
	if req.CallbackURL != "" {
		if err := s.callbackAllowed(req.CallbackURL); err != nil {
			return errorf(http.StatusBadRequest, "body /callbackUrl: %v", err)
		}
	}
	key := fmt.Sprint(req.WorkflowDefinition.Key)
	now := s.cfg.Clock.Now()
	v := &sandbox.Verification{
		ID: newUUID(), Product: "jumio-kyx", AccountID: accountID, ExternalRef: req.CustomerInternalReference,
		Status: "INITIATED", CallbackURL: req.CallbackURL, CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(lifetime),
	}
	rec := &record{UserReference: req.UserReference, DefinitionKey: key}
	if err := s.create(r, v, rec); err != nil {
		return err
	}
	web := map[string]any{"href": s.pageURL(v, rec)}
	if req.Web.SuccessURL != "" {
		web["successUrl"] = req.Web.SuccessURL
	}
	if req.Web.ErrorURL != "" {
		web["errorUrl"] = req.Web.ErrorURL
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"timestamp": jumioTime(now), "account": map[string]any{"id": accountID}, "web": web,
		"sdk":               map[string]any{"token": "sdk." + randomHex(24)},
		"workflowExecution": map[string]any{"id": v.ID, "credentials": s.accountCredentials(v, rec)},
	})
	return nil
}

// kyxVerification finds the workflow execution a retrieval names.
func (s *Server) kyxVerification(r *http.Request) (*sandbox.Verification, *record, error) {
	vars := mux.Vars(r)
	id := vars["workflowExecutionId"]
	v, rec, err := s.lookup(r.Context(), id, "jumio-kyx", func() error { return errorf(http.StatusNotFound, "no workflow execution %s", id) })
	if err == nil && vars["accountId"] != "" && vars["accountId"] != v.AccountID {
		return nil, nil, errorf(http.StatusNotFound, "no workflow execution %s", id)
	}
	return v, rec, err
}

// kyxStatus answers the KYX retrieval of a workflow's status.
func (s *Server) kyxStatus(w http.ResponseWriter, r *http.Request) error {
	v, rec, err := s.kyxVerification(r)
	if err != nil {
		return err
	}
	now := s.cfg.Clock.Now()
	key := "kyxStatus\x00" + v.ID
	if body, ok := s.answers.get(key, v.Version, now); ok {
		writeRawJSON(w, body)
		return nil
	}
	status, _ := rec.statusAt(now, "INITIATED")
	body, err := encodeJSON(map[string]any{
		"account":           map[string]any{"id": v.AccountID},
		"workflowExecution": map[string]any{"id": v.ID, "status": status, "definitionKey": rec.DefinitionKey},
	})
	if err != nil {
		return err
	}
	s.answers.put(key, v.Version, rec.nextMark(now), body)
	writeRawJSON(w, body)
	return nil
}

// initiateRequest is the body of a Netverify initiation.
type initiateRequest struct {
	CustomerInternalReference string `json:"customerInternalReference"`
	UserReference             string `json:"userReference"`
	ReportingCriteria         string `json:"reportingCriteria"`
	CallbackURL               string `json:"callbackUrl"`
	TokenLifetimeInMinutes    int    `json:"tokenLifetimeInMinutes"`
}

// netverifyInitiate starts a Netverify web transaction.
func (s *Server) netverifyInitiate(w http.ResponseWriter, r *http.Request) error {
	var req initiateRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.CallbackURL != "" {
		if err := s.callbackAllowed(req.CallbackURL); err != nil {
			return errorf(http.StatusBadRequest, "body /callbackUrl: %v", err)
		}
	}
	lifetime := 30 * time.Minute
	if req.TokenLifetimeInMinutes > 0 {
		lifetime = time.Duration(req.TokenLifetimeInMinutes) * time.Minute
	}
	now := s.cfg.Clock.Now()
	v := &sandbox.Verification{
		ID: newUUID(), Product: "jumio-netverify", ExternalRef: req.CustomerInternalReference,
		Status: "PENDING", CallbackURL: req.CallbackURL, CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(lifetime),
	}
	rec := &record{UserReference: req.UserReference, ReportingCriteria: req.ReportingCriteria}
	if err := s.create(r, v, rec); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"timestamp": jumioTime(now), "transactionReference": v.ID, "redirectUrl": s.pageURL(v, rec)})
	return nil
}

// netverifyScanOf finds the scan a retrieval names.
func (s *Server) netverifyScanOf(r *http.Request) (*sandbox.Verification, *record, error) {
	ref := mux.Vars(r)["scanReference"]
	return s.lookup(r.Context(), ref, "jumio-netverify", func() error { return errorf(http.StatusNotFound, "no scan %s", ref) })
}

// scanStatus is the Netverify retrieval status at now.
func (s *Server) scanStatus(rec *record) string {
	if !rec.finalAt(s.cfg.Clock.Now()) {
		return "PENDING"
	}
	if rec.Timeline[len(rec.Timeline)-1].Status == "NO_ID_UPLOADED" {
		return "FAILED"
	}
	return "DONE"
}

// netverifyScan answers the Netverify retrieval of a scan's status.
func (s *Server) netverifyScan(w http.ResponseWriter, r *http.Request) error {
	v, rec, err := s.netverifyScanOf(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"timestamp": jumioTime(s.cfg.Clock.Now()), "scanReference": v.ID, "status": s.scanStatus(rec)})
	return nil
}

// jumioTime formats a time as Jumio's APIs do.
func jumioTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
