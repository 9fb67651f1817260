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

// newReferenceKeyedReceiver keeps its users by the customer's own
// reference (indepReference), as most real receivers do: the vendor's
// subject id is only remembered, per user, for the probe. A callback
// without the reference cannot be acted on: Sumsub 400, Jumio 200 and
// dropped. Authenticity: Sumsub digest (401), Jumio peer address (403).
// Dedup: on the reference and the message (Sumsub: with correlationId
// and createdAtMs); order: KYX by status rank then time, the rest by time.
// The probe answers for a vendor subject id with the state of the user it
// belongs to.
func newReferenceKeyedReceiver(secret string) http.Handler {
	store := newIndepStore()
	var mu sync.Mutex
	userOf := map[string]string{} // vendor subject id -> user key
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
			user := product + "|" + ref
			mu.Lock()
			userOf[product+"|"+m.subject] = user
			mu.Unlock()
			key := user + "|" + m.kind
			if product == "sumsub" {
				key += "|" + m.correlationID + "|" + m.atRaw
			}
			rank := 0
			if product == "jumio-kyx" {
				rank = indepKyxRank[m.kind]
			}
			store.record(key, user, m.hasStatus, m.status, rank, m.at)
			w.WriteHeader(http.StatusOK)
		})
	}
	mux.HandleFunc("GET /_probe/{subject}", func(w http.ResponseWriter, r *http.Request) {
		subject := r.PathValue("subject")
		mu.Lock()
		var user string
		for k, u := range userOf {
			if _, s, _ := strings.Cut(k, "|"); s == subject {
				user = u
			}
		}
		mu.Unlock()
		out := struct {
			Events int     `json:"events"`
			Status *string `json:"status"`
		}{}
		store.mu.Lock()
		if sub := store.subjects[user]; sub != nil && user != "" {
			out.Events = sub.events
			if sub.has {
				st := sub.status
				out.Status = &st
			}
		}
		store.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(out)
	})
	return mux
}
