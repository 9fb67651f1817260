package sandboxapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
)

// Sumsub's access tokens and WebSDK links. A token is self-contained and
// signed by the sandbox: the user, the level, the applicant identifiers
// and the expiry (sandbox clock) in base64url JSON, then an HMAC-SHA256
// with the Sumsub secret key. Nothing is stored until the token opens the
// WebSDK page (/websdk/TOKEN), which finds the user's applicant or
// creates it (applicantCreated follows), as the real WebSDK does when it
// starts.

// The lifetimes Sumsub documents when a request names none.
const (
	defaultAccessTokenTTL = 600 * time.Second
	defaultWebSDKLinkTTL  = 1800 * time.Second
	// maxTokenTTL bounds a token's lifetime (a day of sandbox time).
	maxTokenTTL = 24 * time.Hour
)

// accessTokenPrefix starts every access token, as Sumsub's "_act-".
const accessTokenPrefix = "_act-sbx-"

// sdkToken is what an access token or a WebSDK link carries.
type sdkToken struct {
	UserID  string `json:"u"`
	Level   string `json:"l,omitempty"`
	Email   string `json:"e,omitempty"`
	Phone   string `json:"p,omitempty"`
	Lang    string `json:"g,omitempty"`
	Expires int64  `json:"x"` // Unix milliseconds, sandbox clock
}

// applicantIdentifiers are the contact details a token request may give
// for an applicant the WebSDK creates.
type applicantIdentifiers struct {
	Email string `json:"email"`
	Phone string `json:"phone"`
}

// sdkTokenMAC is the signature of a token's payload.
func (s *Server) sdkTokenMAC(payload string) string {
	m := hmac.New(sha256.New, []byte("kycsim websdk token\x00"+s.cfg.SumsubSecretKey))
	m.Write([]byte(payload))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// issueToken returns a signed token for t, valid for ttl from now.
func (s *Server) issueToken(t sdkToken, ttl time.Duration) string {
	if ttl <= 0 {
		ttl = defaultAccessTokenTTL
	}
	t.Expires = s.cfg.Clock.Now().Add(min(ttl, maxTokenTTL)).UnixMilli()
	b, _ := json.Marshal(t)
	payload := base64.RawURLEncoding.EncodeToString(b)
	return accessTokenPrefix + payload + "." + s.sdkTokenMAC(payload)
}

// parseToken checks a token's signature and expiry.
func (s *Server) parseToken(tok string) (*sdkToken, error) {
	rest, ok := strings.CutPrefix(tok, accessTokenPrefix)
	payload, mac, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 || !hmac.Equal([]byte(mac), []byte(s.sdkTokenMAC(payload))) {
		return nil, errorf(http.StatusUnauthorized, "this is not an access token or WebSDK link of this sandbox")
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	var t sdkToken
	if err != nil || json.Unmarshal(b, &t) != nil || t.UserID == "" {
		return nil, errorf(http.StatusUnauthorized, "this is not an access token or WebSDK link of this sandbox")
	}
	if s.cfg.Clock.Now().UnixMilli() > t.Expires {
		return nil, errorf(http.StatusUnauthorized, "the access token or WebSDK link of user %s expired at %s (sandbox clock); ask the app for a new one",
			t.UserID, time.UnixMilli(t.Expires).UTC().Format(time.RFC3339))
	}
	return &t, nil
}

// ttlParam reads an optional ttlInSecs query parameter (validated by the
// document).
func ttlParam(r *http.Request) time.Duration {
	n, _ := strconv.Atoi(r.URL.Query().Get("ttlInSecs"))
	return time.Duration(n) * time.Second
}

// sumsubAccessToken issues an access token, the older form: userId,
// levelName and ttlInSecs in the query.
func (s *Server) sumsubAccessToken(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	t := sdkToken{UserID: q.Get("userId"), Level: q.Get("levelName")}
	writeJSON(w, http.StatusOK, map[string]any{"token": s.issueToken(t, ttlParam(r)), "userId": t.UserID})
	return nil
}

// accessTokenRequest is the body of the current access token call.
type accessTokenRequest struct {
	UserID      string               `json:"userId"`
	LevelName   string               `json:"levelName"`
	TTLInSecs   int                  `json:"ttlInSecs"`
	Identifiers applicantIdentifiers `json:"applicantIdentifiers"`
}

// sumsubAccessTokenSDK issues an access token, the current form: a JSON
// body.
func (s *Server) sumsubAccessTokenSDK(w http.ResponseWriter, r *http.Request) error {
	var req accessTokenRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	t := sdkToken{UserID: req.UserID, Level: req.LevelName, Email: req.Identifiers.Email, Phone: req.Identifiers.Phone}
	writeJSON(w, http.StatusOK, map[string]any{"token": s.issueToken(t, time.Duration(req.TTLInSecs)*time.Second), "userId": t.UserID})
	return nil
}

// webSDKLinkRequest is the body of the current WebSDK link call.
type webSDKLinkRequest struct {
	LevelName   string               `json:"levelName"`
	UserID      string               `json:"userId"`
	TTLInSecs   int                  `json:"ttlInSecs"`
	Lang        string               `json:"lang"`
	Identifiers applicantIdentifiers `json:"applicantIdentifiers"`
}

// sumsubWebSDKLink answers a WebSDK link, which opens the sandbox's
// WebSDK page. With level "-" (the current form) the JSON body names the
// level and the user (a random user when it names none, as Sumsub's
// permalinks); with a level in the path (the older form) the query names
// the user.
func (s *Server) sumsubWebSDKLink(w http.ResponseWriter, r *http.Request) error {
	var req webSDKLinkRequest
	if body := bodyOf(r); len(strings.TrimSpace(string(body))) > 0 {
		if err := decodeJSON(r, &req); err != nil {
			return err
		}
	}
	q := r.URL.Query()
	t := sdkToken{UserID: req.UserID, Level: req.LevelName, Email: req.Identifiers.Email, Phone: req.Identifiers.Phone, Lang: req.Lang}
	ttl := time.Duration(req.TTLInSecs) * time.Second
	if level := mux.Vars(r)["levelName"]; level != "-" {
		t.Level, t.UserID = level, q.Get("externalUserId")
		if t.UserID == "" {
			return errorf(http.StatusBadRequest, "query parameter externalUserId: required with a level name in the path (or use level - and a JSON body with levelName and userId)")
		}
	} else if t.Level == "" {
		return errorf(http.StatusBadRequest, "body /levelName: required when the path's level is -")
	}
	if t.UserID == "" {
		t.UserID = "websdk-" + randomHex(8)
	}
	if v := q.Get("lang"); v != "" {
		t.Lang = v
	}
	if v := ttlParam(r); v > 0 {
		ttl = v
	}
	if ttl <= 0 {
		ttl = defaultWebSDKLinkTTL
	}
	writeJSON(w, http.StatusOK, map[string]any{"url": s.cfg.PublicURL + "/websdk/" + url.PathEscape(s.issueToken(t, ttl))})
	return nil
}

// webSDKPage opens the WebSDK page of a token: the user's applicant
// (created now, at the token's level, when there is none) on the
// sandbox's outcome page.
func (s *Server) webSDKPage(w http.ResponseWriter, r *http.Request) error {
	t, err := s.parseToken(mux.Vars(r)["token"])
	if err != nil {
		return err
	}
	ctx, cancel := ctxTimeout(r)
	defer cancel()
	v, err := s.applicantByExternal(ctx, t.UserID)
	if err != nil {
		return err
	}
	if v == nil {
		if t.Level == "" {
			return errorf(http.StatusNotFound, "user %s has no applicant, and the access token names no level to create one at", t.UserID)
		}
		if v, err = s.createApplicant(r, applicantRequest{ExternalUserID: t.UserID, Email: t.Email, Phone: t.Phone, Lang: t.Lang}, t.Level); err != nil {
			// Opened twice at once (a double click, a prefetch): the other
			// request created the applicant; this one opens it too.
			if statusOf(err) != http.StatusConflict {
				return err
			}
			if v, err = s.applicantByExternal(ctx, t.UserID); err != nil {
				return err
			}
			if v == nil {
				return errorf(http.StatusConflict, "user %s: the applicant being created at the same time is not there", t.UserID)
			}
		}
	}
	// The link's holder opens the page by the capability in its URL.
	rec, err := readRecord(v)
	if err != nil {
		return err
	}
	http.Redirect(w, r, s.pageURL(v, rec), http.StatusSeeOther)
	return nil
}
