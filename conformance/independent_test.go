package conformance

// Receivers written independently of the reference receiver
// (conformance/receiver), each correct in its own way, for the self-test to
// show that the suite fails none of them. They share only the helpers in
// independent_helpers_test.go and use the standard library alone.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"
)

// minimalHandles are the messages the minimal receiver acts on, by product.
var minimalHandles = map[string][]string{
	"sumsub":          {"applicantReviewed"},
	"jumio-kyx":       {"PROCESSED"},
	"jumio-netverify": {"APPROVED_VERIFIED", "DENIED_FRAUD"},
	"jumio-auth":      {"PASSED", "FAILED"},
	"jumio-docverify": {"EXTRACTED", "DISCARDED"},
}

// newMinimalReceiver is the typical short receiver: it acts only on the
// decision messages (minimalHandles) and answers 200 to every other
// authentic one. Authenticity: Sumsub digest (401), Jumio peer address
// (403, X-Forwarded-For ignored). Unusable content: 400, for every message
// and product. A handled Sumsub webhook without reviewStatus is
// acknowledged and not acted on (the receiver has nothing to record); a
// missing or unreadable timestamp counts as the oldest. Dedup: Sumsub on
// applicantId+type+correlationId+createdAtMs, Jumio on subject+status;
// status: the newest event by timestamp.
func newMinimalReceiver(secret string) http.Handler {
	store := newIndepStore()
	return indepMux(store, func(product string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
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
			if m.unusable != "" {
				http.Error(w, m.unusable, http.StatusBadRequest)
				return
			}
			if !slices.Contains(minimalHandles[product], m.kind) || !m.hasStatus {
				w.WriteHeader(http.StatusOK)
				return
			}
			key := product + "|" + m.subject + "|" + m.kind
			if product == "sumsub" {
				key += "|" + m.correlationID + "|" + m.atRaw
			}
			store.record(key, m.subject, true, m.status, 0, m.at)
			w.WriteHeader(http.StatusOK)
		}
	})
}

// newFutureGuardReceiver handles every message but refuses (400) a callback
// whose timestamp lies more than 5 minutes after the real time. Unknown
// Sumsub types: 200, not acted on; unknown reviewStatus: recorded as is.
// Unusable content: Jumio 200 and dropped, Sumsub 400. A callback without
// a readable timestamp (or a Sumsub one without reviewStatus) is
// acknowledged and not acted on. Dedup: Sumsub on the SHA-256 of the raw
// body, Jumio on subject+status; order: KYX by status rank then time, the
// rest by time.
func newFutureGuardReceiver(secret string) http.Handler {
	store := newIndepStore()
	return indepMux(store, func(product string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
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
			if m.unusable != "" {
				if product == "sumsub" {
					http.Error(w, m.unusable, http.StatusBadRequest)
				} else {
					w.WriteHeader(http.StatusOK) // acknowledged, dropped
				}
				return
			}
			if m.atRaw != "" && !m.atErr && m.at.After(time.Now().Add(5*time.Minute)) {
				http.Error(w, "timestamp "+m.atRaw+" is in the future", http.StatusBadRequest)
				return
			}
			if (product == "sumsub" && !indepSumsubTypes[m.kind]) || m.atRaw == "" || m.atErr || !m.hasStatus {
				w.WriteHeader(http.StatusOK)
				return
			}
			var key string
			if product == "sumsub" {
				sum := sha256.Sum256(body)
				key = product + "|" + hex.EncodeToString(sum[:])
			} else {
				key = product + "|" + m.subject + "|" + m.kind
			}
			rank := 0
			if product == "jumio-kyx" {
				rank = indepKyxRank[m.kind]
			}
			store.record(key, m.subject, true, m.status, rank, m.at)
			w.WriteHeader(http.StatusOK)
		}
	})
}

// newAsyncReceiver checks authenticity at once (401 / 403), answers 200 to
// every authentic callback at once, and does everything else delay later
// in the background: unusable content and unknown Sumsub types are dropped
// (so its policy is ack-and-drop for every product), a missing timestamp
// counts as the arrival time, a Sumsub webhook without reviewStatus counts
// as an event without changing the status. Dedup: Sumsub on
// applicantId+type+createdAtMs+correlationId+status, Jumio on
// subject+status; order by time only.
func newAsyncReceiver(secret string, delay time.Duration) http.Handler {
	store := newIndepStore()
	process := func(product string, body []byte, arrival time.Time) {
		m := indepParse(product, body)
		if m.unusable != "" || (product == "sumsub" && !indepSumsubTypes[m.kind]) {
			return
		}
		at := m.at
		if m.atRaw == "" || m.atErr {
			at = arrival
		}
		key := product + "|" + m.subject + "|" + m.kind
		if product == "sumsub" {
			key += "|" + m.atRaw + "|" + m.correlationID + "|" + m.status
		}
		store.record(key, m.subject, m.hasStatus, m.status, 0, at)
	}
	return indepMux(store, func(product string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
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
			arrival := time.Now()
			time.AfterFunc(delay, func() { process(product, body, arrival) })
			w.WriteHeader(http.StatusOK)
		}
	})
}

// TestIndependentReceiversSmoke: a signed applicantReviewed is acted on by
// each independent receiver (under each algorithm), a tampered one is
// refused with 401 and has no effect, and a KYX PROCESSED from loopback is
// acted on.
func TestIndependentReceiversSmoke(t *testing.T) {
	const secret = "s3cr3t"
	receivers := map[string]http.Handler{
		"minimal":      newMinimalReceiver(secret),
		"future-guard": newFutureGuardReceiver(secret),
		"async":        newAsyncReceiver(secret, 200*time.Millisecond),
		"keyed":        newReferenceKeyedReceiver(secret),
	}
	for name, h := range receivers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(h)
			defer srv.Close()
			post := func(path string, body []byte, header map[string]string) int {
				t.Helper()
				req, err := http.NewRequest(http.MethodPost, srv.URL+path, bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				for k, v := range header {
					req.Header.Set(k, v)
				}
				start := time.Now()
				resp, err := srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if d := time.Since(start); d > time.Second {
					t.Errorf("POST %s took %v", path, d)
				}
				return resp.StatusCode
			}
			type probe struct {
				Events int     `json:"events"`
				Status *string `json:"status"`
			}
			get := func(subject string) probe {
				t.Helper()
				resp, err := srv.Client().Get(srv.URL + "/_probe/" + subject)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var p probe
				if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
					t.Fatal(err)
				}
				return p
			}
			show := func(p probe) string {
				if p.Status == nil {
					return fmt.Sprintf("events %d, status null", p.Events)
				}
				return fmt.Sprintf("events %d, status %s", p.Events, *p.Status)
			}
			// await polls the probe until it shows want, for up to 5 s.
			await := func(subject, want string) {
				t.Helper()
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				tick := time.NewTicker(20 * time.Millisecond)
				defer tick.Stop()
				for {
					got := show(get(subject))
					if got == want {
						return
					}
					select {
					case <-ctx.Done():
						t.Fatalf("probe %s: %s, want %s", subject, got, want)
					case <-tick.C:
					}
				}
			}
			sumsub := func(subject, answer string, at time.Time) []byte {
				return fmt.Appendf(nil, `{"applicantId":%q,"inspectionId":"insp-1","correlationId":"req-%d","levelName":"basic-kyc-level","externalUserId":%q,`+
					`"type":"applicantReviewed","sandboxMode":"false","reviewStatus":"completed","reviewResult":{"reviewAnswer":%q},"createdAtMs":%q}`,
					subject, at.UnixNano(), "user-"+subject, answer, at.UTC().Format("2006-01-02 15:04:05.000"))
			}
			now := time.Now()
			var subjects []string
			for i, alg := range []string{"HMAC_SHA1_HEX", "HMAC_SHA256_HEX", "HMAC_SHA512_HEX"} {
				subject := fmt.Sprintf("%024x", now.UnixNano()+int64(i))
				subjects = append(subjects, subject)
				body := sumsub(subject, "GREEN", now)
				if code := post("/sumsub", body, map[string]string{
					"Content-Type": "application/json", "X-Payload-Digest": indepSign(secret, alg, body), "X-Payload-Digest-Alg": alg,
				}); code != http.StatusOK {
					t.Errorf("%s signed applicantReviewed: %d, want 200", alg, code)
				}
			}
			for _, s := range subjects {
				await(s, "events 1, status completed/GREEN")
			}

			// A newer RED result, signed, then tampered to GREEN-looking
			// bytes: refused, and no effect.
			body := sumsub(subjects[0], "RED", now.Add(time.Second))
			digest := indepSign(secret, "HMAC_SHA256_HEX", body)
			tampered := bytes.Replace(body, []byte(`"RED"`), []byte(`"GRN"`), 1)
			if code := post("/sumsub", tampered, map[string]string{
				"Content-Type": "application/json", "X-Payload-Digest": digest, "X-Payload-Digest-Alg": "HMAC_SHA256_HEX",
			}); code != http.StatusUnauthorized {
				t.Errorf("tampered applicantReviewed: %d, want 401", code)
			}
			other := sumsub(subjects[0], "RED", now.Add(2*time.Second))
			if code := post("/sumsub", other, map[string]string{
				"X-Payload-Digest": indepSign("wrong-secret", "HMAC_SHA256_HEX", other), "X-Payload-Digest-Alg": "HMAC_SHA256_HEX",
			}); code != http.StatusUnauthorized {
				t.Errorf("applicantReviewed signed with another secret: %d, want 401", code)
			}

			// A KYX PROCESSED from loopback (an allowed test source), sent
			// after the refused ones: once it shows, anything the refused
			// ones had scheduled would have shown too.
			kyx := fmt.Appendf(nil, `{"callbackSentAt":%q,"workflowExecution":{"id":"wf-%d","status":"PROCESSED","href":"x","definitionKey":"1"},"account":{"id":"a","href":"y"}}`,
				now.UTC().Format("2006-01-02T15:04:05.00Z"), now.UnixNano())
			if code := post("/jumio/kyx", kyx, map[string]string{"Content-Type": "application/json"}); code != http.StatusOK {
				t.Errorf("KYX PROCESSED: %d, want 200", code)
			}
			await(fmt.Sprintf("wf-%d", now.UnixNano()), "events 1, status PROCESSED")
			if got := show(get(subjects[0])); got != "events 1, status completed/GREEN" {
				t.Errorf("after refused callbacks: %s, want events 1, status completed/GREEN", got)
			}
			if got := show(get("never-sent")); got != "events 0, status null" {
				t.Errorf("unknown subject: %s", got)
			}
		})
	}
}
