// Command sumsub is a Sumsub webhook receiver to copy (standard library
// only), certified by kycsim's conformance suite in main_test.go:
//
//	SUMSUB_WEBHOOK_SECRET=s3cr3t go run . # POST http://127.0.0.1:9000/webhooks/sumsub
package main

import (
	"cmp"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"hash"
	"io"
	"log"
	"net/http"
	"os"
	"sync"
	"time"
)

// maxBody caps a webhook body: Sumsub's are a few kilobytes.
const maxBody = 1 << 20

func main() {
	secret := os.Getenv("SUMSUB_WEBHOOK_SECRET")
	if secret == "" {
		log.Fatal("set SUMSUB_WEBHOOK_SECRET to the webhook's secret key")
	}
	log.Fatal(http.ListenAndServe(cmp.Or(os.Getenv("ADDR"), "127.0.0.1:9000"), newReceiver(secret)))
}

// verify checks X-Payload-Digest, the HMAC of the raw body (never of
// re-encoded JSON) with the algorithm X-Payload-Digest-Alg names.
func verify(secret string, h http.Header, body []byte) bool {
	algs := map[string]func() hash.Hash{"HMAC_SHA1_HEX": sha1.New, "HMAC_SHA256_HEX": sha256.New, "HMAC_SHA512_HEX": sha512.New}
	newHash, ok := algs[h.Get("X-Payload-Digest-Alg")]
	if !ok {
		return false
	}
	got, err := hex.DecodeString(h.Get("X-Payload-Digest"))
	mac := hmac.New(newHash, []byte(secret))
	mac.Write(body)
	return err == nil && hmac.Equal(got, mac.Sum(nil)) // constant time
}

// webhook holds the fields used; Sumsub sends more, and adds new ones.
type webhook struct {
	ApplicantID   string `json:"applicantId"`
	Type          string `json:"type"`
	CorrelationID string `json:"correlationId"`
	CreatedAtMs   string `json:"createdAtMs"` // "2024-05-01 10:20:30.123", UTC
	ReviewStatus  string `json:"reviewStatus"`
	ReviewResult  *struct {
		ReviewAnswer string `json:"reviewAnswer"` // GREEN or RED
	} `json:"reviewResult"`
}

// applicant is what the receiver holds about one applicant: webhooks acted
// on, status ("completed/GREEN") and createdAtMs of the newest one.
type applicant struct {
	events int
	status string
	at     time.Time
}

// receiver serves the webhooks and the probe. Its state stands for your
// database: make the event key a unique index and insert-or-ignore, so
// that two copies of a webhook racing each other are acted on once.
type receiver struct {
	http.ServeMux
	secret     string
	mu         sync.Mutex
	seen       map[string]bool
	applicants map[string]*applicant
}

func newReceiver(secret string) *receiver {
	rc := &receiver{secret: secret, seen: map[string]bool{}, applicants: map[string]*applicant{}}
	rc.HandleFunc("POST /webhooks/sumsub", rc.webhook)
	rc.HandleFunc("GET /_probe/{subject}", rc.probe)
	return rc
}

// act acts on one webhook once per key; an older webhook arriving late
// counts but does not replace the newer status.
func (rc *receiver) act(key, id, status string, at time.Time) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.seen[key] {
		return // a redelivery: already acted on
	}
	rc.seen[key] = true
	if rc.applicants[id] == nil {
		rc.applicants[id] = &applicant{}
	}
	a := rc.applicants[id]
	a.events++
	if !at.Before(a.at) {
		a.status, a.at = status, at
	}
}

// webhook answers 401 to a bad signature, 400 to content it cannot use
// (never 5xx: Sumsub would retry it in vain), 200 to the rest.
func (rc *receiver) webhook(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		http.Error(w, "unreadable or too large body", http.StatusBadRequest)
		return
	}
	if !verify(rc.secret, r.Header, body) {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var wh webhook
	if err := json.Unmarshal(body, &wh); err != nil || wh.ApplicantID == "" || wh.Type == "" {
		http.Error(w, "not a Sumsub webhook", http.StatusBadRequest)
		return
	}
	status := wh.ReviewStatus
	if rr := wh.ReviewResult; rr != nil && rr.ReviewAnswer != "" {
		if rr.ReviewAnswer != "GREEN" && rr.ReviewAnswer != "RED" {
			http.Error(w, "reviewAnswer is neither GREEN nor RED", http.StatusBadRequest)
			return
		}
		status += "/" + rr.ReviewAnswer
	}
	switch wh.Type {
	case "applicantPending", "applicantOnHold", "applicantReviewed":
		at, _ := time.Parse(time.DateTime, wh.CreatedAtMs) // unreadable: the oldest
		key := wh.ApplicantID + "|" + wh.Type + "|" + wh.CreatedAtMs + "|" + wh.CorrelationID + "|" + status
		rc.act(key, wh.ApplicantID, status, at)
	} // other and future types: acknowledged, ignored
	w.WriteHeader(http.StatusOK)
}

// probe answers GET /_probe/{subject}: what the receiver did for an
// applicant, for kycsim's conformance suite (a test-only endpoint).
func (rc *receiver) probe(w http.ResponseWriter, r *http.Request) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := map[string]any{"events": 0, "status": nil}
	if a := rc.applicants[r.PathValue("subject")]; a != nil {
		out["events"], out["status"] = a.events, a.status
	}
	json.NewEncoder(w).Encode(out)
}
