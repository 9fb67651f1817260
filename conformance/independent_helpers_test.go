package conformance

// Helpers of the independent receivers (independent_test.go). They use the
// standard library only, and nothing of the reference receiver or of the
// spec package: the point of these receivers is to have been written from
// the vendors' documentation and the conformance semantics alone.

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"
)

// indepMaxBody bounds a callback body.
const indepMaxBody = 1 << 20

// indepPaths are the callback paths of the independent receivers.
var indepPaths = map[string]string{
	"jumio-kyx":       "/jumio/kyx",
	"jumio-netverify": "/jumio/netverify",
	"jumio-auth":      "/jumio/auth",
	"jumio-docverify": "/jumio/docverify",
	"sumsub":          "/sumsub",
}

// indepJumioSources are the loopback test sources and a selection of the
// addresses Jumio publishes for its callbacks (AMER, EMEA, APAC).
var indepJumioSources = func() map[netip.Addr]bool {
	out := map[netip.Addr]bool{}
	for _, s := range []string{
		"127.0.0.1", "::1",
		"34.202.241.227", "34.226.103.119", "34.226.254.127", "52.8.136.236", "54.177.61.57", "54.183.15.212",
		"34.253.41.236", "35.157.27.193", "52.48.0.25", "52.57.194.92", "52.58.113.86", "52.209.180.134",
		"3.0.109.121", "52.76.184.73", "52.77.102.92", "13.238.100.17", "13.238.203.238", "52.64.132.26",
	} {
		out[netip.MustParseAddr(s)] = true
	}
	return out
}()

// indepFromJumio tells whether the peer (never X-Forwarded-For) is an
// allowed Jumio source.
func indepFromJumio(r *http.Request) bool {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	return indepJumioSources[ap.Addr().Unmap()]
}

// indepReadBody reads at most indepMaxBody bytes; ok is false (and the
// answer written) when the body is too large or unreadable.
func indepReadBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, indepMaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		} else {
			http.Error(w, "unreadable body", http.StatusBadRequest)
		}
		return nil, false
	}
	return body, true
}

// indepSumsubAuthentic verifies X-Payload-Digest over the raw body with the
// algorithm X-Payload-Digest-Alg names, in constant time.
func indepSumsubAuthentic(secret string, h http.Header, body []byte) bool {
	var newHash func() hash.Hash
	switch h.Get("X-Payload-Digest-Alg") {
	case "HMAC_SHA1_HEX":
		newHash = sha1.New
	case "HMAC_SHA256_HEX":
		newHash = sha256.New
	case "HMAC_SHA512_HEX":
		newHash = sha512.New
	default:
		return false
	}
	got, err := hex.DecodeString(strings.TrimSpace(h.Get("X-Payload-Digest")))
	if err != nil || len(got) == 0 {
		return false
	}
	mac := hmac.New(newHash, []byte(secret))
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// indepSign returns the lowercase hex HMAC of body (for the smoke test).
func indepSign(secret, alg string, body []byte) string {
	var newHash func() hash.Hash
	switch alg {
	case "HMAC_SHA1_HEX":
		newHash = sha1.New
	case "HMAC_SHA512_HEX":
		newHash = sha512.New
	default:
		newHash = sha256.New
	}
	mac := hmac.New(newHash, []byte(secret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// indepMsg is a callback reduced to what the independent receivers use.
type indepMsg struct {
	product string
	subject string
	// kind is the message: the Sumsub type, or the Jumio status.
	kind string
	// status is what the probe reports after this message; hasStatus is
	// false when a Sumsub webhook carries no reviewStatus.
	status    string
	hasStatus bool
	// at is the event's timestamp (createdAtMs, callbackSentAt,
	// callbackDate, timestamp); atRaw as sent, "" when absent; atErr when
	// present but unreadable.
	at    time.Time
	atRaw string
	atErr bool
	// key parts the receivers may build their dedup keys of.
	correlationID string
	reviewStatus  string
	answer        string
	// unusable says why the content cannot be acted on ("" when it can).
	unusable string
}

var indepEnums = map[string]map[string]bool{
	"jumio-kyx":       indepSet("ACQUISITION_STARTED", "ACQUIRED", "PROCESSED", "SESSION_EXPIRED", "TOKEN_EXPIRED"),
	"jumio-netverify": indepSet("APPROVED_VERIFIED", "DENIED_FRAUD", "DENIED_UNSUPPORTED_ID_TYPE", "DENIED_UNSUPPORTED_ID_COUNTRY", "ERROR_NOT_READABLE_ID", "NO_ID_UPLOADED"),
	"jumio-auth":      indepSet("PASSED", "FAILED", "INVALID", "EXPIRED"),
	"jumio-docverify": indepSet("UPLOADED", "EXTRACTED", "DISCARDED", "FAILED"),
}

// indepSumsubTypes are the 17 documented Sumsub webhook types.
var indepSumsubTypes = indepSet("applicantCreated", "applicantPending", "applicantReviewed", "applicantOnHold",
	"applicantActionPending", "applicantActionReviewed", "applicantActionOnHold", "applicantPersonalInfoChanged",
	"applicantTagsChanged", "applicantActivated", "applicantDeactivated", "applicantDeleted", "applicantReset",
	"applicantPrechecked", "applicantLevelChanged", "applicantWorkflowCompleted", "videoIdentStatusChanged")

func indepSet(s ...string) map[string]bool {
	out := map[string]bool{}
	for _, x := range s {
		out[x] = true
	}
	return out
}

// indepString returns m[k] when it is a non-empty string.
func indepString(m map[string]any, k string) (string, bool) {
	s, ok := m[k].(string)
	return s, ok && s != ""
}

// indepParse reads a callback of a product, tolerantly: unknown fields,
// nulls, sandboxMode of any type and the Content-Type are ignored.
func indepParse(product string, body []byte) indepMsg {
	m := indepMsg{product: product}
	if len(body) == 0 {
		m.unusable = "empty body"
		return m
	}
	switch product {
	case "sumsub":
		var v map[string]any
		if err := json.Unmarshal(body, &v); err != nil || v == nil {
			m.unusable = "not a JSON object"
			return m
		}
		var ok bool
		if m.subject, ok = indepString(v, "applicantId"); !ok {
			m.unusable = "no applicantId"
			return m
		}
		if m.kind, ok = indepString(v, "type"); !ok {
			m.unusable = "no type"
			return m
		}
		if rr, isObj := v["reviewResult"].(map[string]any); isObj {
			if a, present := rr["reviewAnswer"]; present && a != nil {
				s, _ := a.(string)
				if s != "GREEN" && s != "RED" {
					m.unusable = "reviewAnswer not GREEN or RED"
					return m
				}
				m.answer = s
			}
		}
		m.correlationID, _ = v["correlationId"].(string)
		m.reviewStatus, m.hasStatus = indepString(v, "reviewStatus")
		m.status = m.reviewStatus
		if m.answer != "" {
			m.status += "/" + m.answer
		}
		m.atRaw, _ = indepString(v, "createdAtMs")
		if m.atRaw != "" {
			// The layout has no fraction: time.Parse takes one after the
			// seconds anyway, of any length.
			t, err := time.Parse("2006-01-02 15:04:05", m.atRaw)
			m.at, m.atErr = t, err != nil
		}
		return m
	case "jumio-kyx":
		var v struct {
			CallbackSentAt    any            `json:"callbackSentAt"`
			WorkflowExecution map[string]any `json:"workflowExecution"`
		}
		if err := json.Unmarshal(body, &v); err != nil {
			m.unusable = "not a JSON object"
			return m
		}
		var ok bool
		if m.subject, ok = indepString(v.WorkflowExecution, "id"); !ok {
			m.unusable = "no workflowExecution.id"
			return m
		}
		if m.kind, ok = indepString(v.WorkflowExecution, "status"); !ok {
			m.unusable = "no workflowExecution.status"
			return m
		}
		m.atRaw, _ = v.CallbackSentAt.(string)
	default:
		q, err := url.ParseQuery(string(body))
		if err != nil {
			m.unusable = "not a form"
			return m
		}
		switch product {
		case "jumio-netverify":
			m.subject, m.kind, m.atRaw = q.Get("jumioIdScanReference"), q.Get("verificationStatus"), q.Get("callbackDate")
		case "jumio-auth":
			m.subject, m.kind, m.atRaw = q.Get("transactionReference"), q.Get("transactionResult"), q.Get("callbackDate")
		case "jumio-docverify":
			m.subject, m.atRaw = q.Get("scanReference"), q.Get("timestamp")
			var doc, txn map[string]any
			if json.Unmarshal([]byte(q.Get("document")), &doc) == nil {
				m.kind, _ = indepString(doc, "status")
			}
			// A FAILED transaction (nothing acquired in time) comes
			// without a document: its transaction.status is the message.
			if m.kind == "" && json.Unmarshal([]byte(q.Get("transaction")), &txn) == nil {
				if s, _ := indepString(txn, "status"); s == "FAILED" {
					m.kind = s
				}
			}
		}
		if m.subject == "" {
			m.unusable = "no subject"
			return m
		}
		if m.kind == "" {
			m.unusable = "no status"
			return m
		}
	}
	// Jumio from here.
	if !indepEnums[product][m.kind] {
		m.unusable = "status " + m.kind + " is not documented"
		return m
	}
	m.status, m.hasStatus = m.kind, true
	if m.atRaw != "" {
		t, err := time.Parse(time.RFC3339, m.atRaw)
		m.at, m.atErr = t, err != nil
	}
	return m
}

// indepKyxRank orders the KYX statuses.
var indepKyxRank = map[string]int{"ACQUISITION_STARTED": 0, "ACQUIRED": 1, "PROCESSED": 2, "SESSION_EXPIRED": 2, "TOKEN_EXPIRED": 2}

// indepStore is a receiver's state: the event keys seen and each subject's
// event count and current status.
type indepStore struct {
	mu       sync.Mutex
	seen     map[string]bool
	subjects map[string]*indepSubject
}

type indepSubject struct {
	events int
	has    bool
	status string
	rank   int
	at     time.Time
}

func newIndepStore() *indepStore {
	return &indepStore{seen: map[string]bool{}, subjects: map[string]*indepSubject{}}
}

// record acts on an event once per key: it counts the event, and makes
// status the subject's status when setStatus and the event is not older
// (by rank, then by time) than the one held. It returns false for a
// duplicate.
func (s *indepStore) record(key, subject string, setStatus bool, status string, rank int, at time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen[key] {
		return false
	}
	s.seen[key] = true
	sub := s.subjects[subject]
	if sub == nil {
		sub = &indepSubject{}
		s.subjects[subject] = sub
	}
	sub.events++
	if setStatus && (!sub.has || rank > sub.rank || (rank == sub.rank && !at.Before(sub.at))) {
		sub.has, sub.status, sub.rank, sub.at = true, status, rank, at
	}
	return true
}

// serveProbe answers GET /_probe/{subject}: {"events": N, "status": S}.
func (s *indepStore) serveProbe(w http.ResponseWriter, r *http.Request) {
	seg := r.URL.EscapedPath()
	seg = seg[strings.LastIndex(seg, "/")+1:]
	subject, err := url.PathUnescape(seg)
	if err != nil {
		http.Error(w, "bad subject", http.StatusBadRequest)
		return
	}
	out := struct {
		Events int     `json:"events"`
		Status *string `json:"status"`
	}{}
	s.mu.Lock()
	if sub := s.subjects[subject]; sub != nil {
		out.Events = sub.events
		if sub.has {
			st := sub.status
			out.Status = &st
		}
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

// indepMux routes the callback paths to callback(product) and the probe to
// the store.
func indepMux(store *indepStore, callback func(product string) http.HandlerFunc) *http.ServeMux {
	mux := http.NewServeMux()
	for product, path := range indepPaths {
		mux.HandleFunc("POST "+path, callback(product))
	}
	mux.HandleFunc("GET /_probe/", store.serveProbe)
	return mux
}
