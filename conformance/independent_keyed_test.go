package conformance

// A receiver keyed on the customer's own reference, written independently
// of the reference receiver, with the standard library and the helpers of
// independent_helpers_test.go only.

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// indepReference reads the customer's own reference of a callback, the
// key such a receiver finds its user by: Sumsub externalUserId, KYX
// account.id (the end user's account the customer created), Netverify
// merchantIdScanReference, Authentication enrollmentTransactionReference
// (the user's enrollment), Document Verification
// transaction.merchantScanReference. "" when it is missing.
func indepReference(product string, body []byte) string {
	switch product {
	case "sumsub":
		var v struct {
			ExternalUserID string `json:"externalUserId"`
		}
		json.Unmarshal(body, &v)
		return v.ExternalUserID
	case "jumio-kyx":
		var v struct {
			Account struct {
				ID string `json:"id"`
			} `json:"account"`
		}
		json.Unmarshal(body, &v)
		return v.Account.ID
	}
	q, err := url.ParseQuery(string(body))
	if err != nil {
		return ""
	}
	switch product {
	case "jumio-netverify":
		return q.Get("merchantIdScanReference")
	case "jumio-auth":
		return q.Get("enrollmentTransactionReference")
	}
	var tx struct {
		MerchantScanReference string `json:"merchantScanReference"`
	}
	json.Unmarshal([]byte(q.Get("transaction")), &tx)
	return tx.MerchantScanReference
}

// indepDecision is the keyed receiver's own decision on a callback:
// approved, rejected, retry or pending; "" for products whose callbacks
// carry none (KYX, Document Verification). A Netverify approval whose
// identityVerification says the face check failed (validity false or
// "FALSE", similarity NO_MATCH) is rejected; a Sumsub decision comes only
// with a completed review.
func indepDecision(product string, m indepMsg, body []byte) string {
	switch product {
	case "sumsub":
		var v struct {
			ReviewResult struct {
				ReviewRejectType string `json:"reviewRejectType"`
			} `json:"reviewResult"`
		}
		json.Unmarshal(body, &v)
		switch {
		case m.reviewStatus == "completed" && m.answer == "GREEN":
			return "approved"
		case m.reviewStatus == "completed" && m.answer == "RED" && v.ReviewResult.ReviewRejectType == "RETRY":
			return "retry"
		case m.reviewStatus == "completed" && m.answer == "RED":
			return "rejected"
		}
		return "pending"
	case "jumio-auth":
		switch m.kind {
		case "PASSED":
			return "approved"
		case "FAILED":
			return "rejected"
		}
		return "retry"
	case "jumio-netverify":
		switch {
		case strings.HasPrefix(m.kind, "DENIED_"):
			return "rejected"
		case m.kind != "APPROVED_VERIFIED":
			return "retry"
		}
		q, _ := url.ParseQuery(string(body))
		var iv map[string]any
		json.Unmarshal([]byte(q.Get("identityVerification")), &iv)
		switch v := iv["validity"].(type) {
		case bool:
			if !v {
				return "rejected"
			}
		case string:
			if !strings.EqualFold(v, "TRUE") {
				return "rejected"
			}
		}
		if iv["similarity"] == "NO_MATCH" {
			return "rejected"
		}
		return "approved"
	}
	return ""
}

// indepUser is what the keyed receiver keeps of one user.
type indepUser struct {
	events int
	// raw is the vendor status of the last callback acted on, kept for
	// audit whatever its age; status, decision, rank and at are those of
	// the newest event (by rank, then time).
	raw, status, decision string
	has                   bool
	rank                  int
	at                    time.Time
}

// newReferenceKeyedReceiver keeps its users by the customer's own
// reference (indepReference), as most real receivers do: the vendor's
// subject id is only remembered, per user, for the probe. A callback
// without the reference cannot be acted on: Sumsub 400, Jumio 200 and
// dropped. Authenticity: Sumsub digest (401), Jumio peer address (403).
// Dedup: on the reference and the message (Sumsub: with correlationId
// and createdAtMs); order: KYX by status rank then time, the rest by time.
// The probe answers for a vendor subject id with the state of the user it
// belongs to. For Sumsub, Netverify and Authentication it reports the raw
// vendor status of the last callback acted on (an audit trail, stale ones
// included) and its own decision, which follows the newest event: the
// suite must judge the decision, not the audit status.
func newReferenceKeyedReceiver(secret string) http.Handler {
	var mu sync.Mutex
	seen := map[string]bool{}
	users := map[string]*indepUser{}
	userOf := map[string]string{} // product|vendor subject id -> user key
	mux := http.NewServeMux()
	for product, path := range indepPaths {
		mux.HandleFunc("POST "+path, func(w http.ResponseWriter, r *http.Request) {
			if product != "sumsub" && !indepFromJumio(r) {
				http.Error(w, "forbidden", http.StatusForbidden)
				return
			}
			body, ok := indepReadBody(w, r)
			if !ok {
				return
			}
			if product == "sumsub" && !indepSumsubAuthentic(secret, r.Header, body) {
				http.Error(w, "bad signature", http.StatusUnauthorized)
				return
			}
			m := indepParse(product, body)
			ref := indepReference(product, body)
			if m.unusable == "" && ref == "" {
				m.unusable = "no customer reference"
			}
			if m.unusable != "" {
				if product == "sumsub" {
					http.Error(w, m.unusable, http.StatusBadRequest)
				} else {
					w.WriteHeader(http.StatusOK) // acknowledged, dropped
				}
				return
			}
			if product == "sumsub" && !indepSumsubTypes[m.kind] {
				w.WriteHeader(http.StatusOK)
				return
			}
			key := product + "|" + ref
			dedup := key + "|" + m.kind
			if product == "sumsub" {
				dedup += "|" + m.correlationID + "|" + m.atRaw
			}
			rank := 0
			if product == "jumio-kyx" {
				rank = indepKyxRank[m.kind]
			}
			decision := indepDecision(product, m, body)
			mu.Lock()
			defer mu.Unlock()
			userOf[product+"|"+m.subject] = key
			if seen[dedup] {
				w.WriteHeader(http.StatusOK)
				return
			}
			seen[dedup] = true
			u := users[key]
			if u == nil {
				u = &indepUser{}
				users[key] = u
			}
			u.events++
			if m.hasStatus {
				u.raw = m.status
				if !u.has || rank > u.rank || (rank == u.rank && !m.at.Before(u.at)) {
					u.has, u.status, u.decision, u.rank, u.at = true, m.status, decision, rank, m.at
				}
			}
			w.WriteHeader(http.StatusOK)
		})
	}
	mux.HandleFunc("GET /_probe/{subject}", func(w http.ResponseWriter, r *http.Request) {
		subject := r.PathValue("subject")
		out := struct {
			Events   int     `json:"events"`
			Status   *string `json:"status"`
			Decision string  `json:"decision,omitempty"`
		}{}
		mu.Lock()
		for k, key := range userOf {
			product, s, _ := strings.Cut(k, "|")
			u := users[key]
			if s != subject || u == nil {
				continue
			}
			out.Events = u.events
			if u.has {
				st := u.status
				if product == "sumsub" || product == "jumio-netverify" || product == "jumio-auth" {
					st = u.raw // the audit trail; the decision is what counts
				}
				out.Status, out.Decision = &st, u.decision
			}
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(out)
	})
	return mux
}
