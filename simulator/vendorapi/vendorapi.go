// Package vendorapi mocks the vendor APIs a receiver calls after a
// callback (Jumio KYX retrieval, Netverify scans and images, Sumsub
// applicants). It answers from the vendor state a scenario recorded and
// counts the fetches per subject, so that a test can see a receiver's
// follow-up work. Request authentication is not checked here.
package vendorapi

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/mux"
)

// MaxSubjects bounds the subjects tracked; beyond it new subjects are
// still answered but neither counted nor given state.
const MaxSubjects = 100000

// Decision is a KYX retrieval decision.
type Decision struct {
	Type         string // PASSED, REJECTED, WARNING, NOT_EXECUTED
	RiskScore    *int
	Label        string
	Capabilities map[string]any
}

// Review is a Sumsub applicant review.
type Review struct {
	ReviewStatus, ReviewAnswer string
	RejectLabels               []string
	RejectType                 string
}

// Server is the mock; it is an http.Handler, safe for concurrent use.
type Server struct {
	router *mux.Router

	mu        sync.Mutex
	fetches   map[string]int
	total     int
	decisions map[string]Decision
	reviews   map[string]Review
}

// New returns a mock with no recorded state.
func New() *Server {
	s := &Server{}
	s.Reset()
	r := mux.NewRouter()
	get := func(path string, h func(w http.ResponseWriter, r *http.Request, subject string)) {
		r.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			subject := mux.Vars(r)["subject"]
			s.count(subject)
			h(w, r, subject)
		}).Methods(http.MethodGet)
	}
	get("/api/v1/accounts/{account}/workflow-executions/{subject}", s.kyx)
	get("/api/v1/workflow-executions/{subject}", s.kyx)
	get("/api/v1/accounts/{account}/workflow-executions/{subject}/status", s.kyxStatus)
	get("/api/v1/workflow-executions/{subject}/status", s.kyxStatus)
	get("/api/v1/accounts/{subject}", s.account)
	get("/api/netverify/v2/scans/{subject}", s.scan)
	get("/api/netverify/v2/scans/{subject}/data", s.scanData)
	get("/api/netverify/v2/{kind}/{subject}/{rest:.*}", image)
	get("/resources/applicants/{subject}/one", s.applicant)
	get("/resources/applicants/{subject}/status", s.applicantStatus)
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]any{"title": "Not Found", "status": 404, "detail": "no vendor API at " + r.URL.Path})
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"title": "Method Not Allowed", "status": 405, "detail": r.Method + " " + r.URL.Path})
	})
	s.router = r
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

// Reset forgets every count and recorded state.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fetches, s.total = map[string]int{}, 0
	s.decisions, s.reviews = map[string]Decision{}, map[string]Review{}
}

func (s *Server) count(subject string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.total++
	if _, ok := s.fetches[subject]; ok || len(s.fetches) < MaxSubjects {
		s.fetches[subject]++
	}
}

// Fetches returns how many GETs named the subject.
func (s *Server) Fetches(subject string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetches[subject]
}

// TotalFetches returns how many GETs the mock answered on known routes.
func (s *Server) TotalFetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// SetDecision records the KYX retrieval decision of a workflow execution.
func (s *Server) SetDecision(workflowID string, d Decision) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.decisions[workflowID]; ok || len(s.decisions) < MaxSubjects {
		s.decisions[workflowID] = d
	}
}

// SetReview records the review of a Sumsub applicant.
func (s *Server) SetReview(applicantID string, r Review) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.reviews[applicantID]; ok || len(s.reviews) < MaxSubjects {
		s.reviews[applicantID] = r
	}
}

func (s *Server) decision(id string) Decision {
	s.mu.Lock()
	d, ok := s.decisions[id]
	s.mu.Unlock()
	if !ok || d.Type == "" {
		d.Type = "PASSED"
	}
	return d
}

func (s *Server) review(id string) Review {
	s.mu.Lock()
	r, ok := s.reviews[id]
	s.mu.Unlock()
	if !ok || r.ReviewStatus == "" {
		r.ReviewStatus = "completed"
	}
	if r.ReviewStatus == "completed" && r.ReviewAnswer == "" {
		r.ReviewAnswer = "GREEN"
	}
	return r
}

// riskBands are the default score and label of each decision type.
var riskBands = map[string]struct {
	score int
	label string
}{
	"PASSED": {10, "OK"}, "WARNING": {50, "WARNING"}, "REJECTED": {85, "REJECTED"}, "NOT_EXECUTED": {-1, "TOKEN_EXPIRED"},
}

func (s *Server) kyx(w http.ResponseWriter, r *http.Request, id string) {
	d := s.decision(id)
	band := riskBands[d.Type]
	score := band.score
	if d.RiskScore != nil {
		score = *d.RiskScore
	}
	label := d.Label
	if label == "" {
		label = band.label
	}
	caps := d.Capabilities
	if caps == nil {
		caps = map[string]any{}
	}
	now := time.Now().UTC()
	status := "PROCESSED"
	if d.Type == "NOT_EXECUTED" {
		status = label
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"workflow":     map[string]any{"id": id, "status": status, "definitionKey": "10001"},
		"account":      map[string]any{"id": mux.Vars(r)["account"]},
		"createdAt":    now.Add(-10 * time.Minute).Format(time.RFC3339Nano),
		"startedAt":    now.Add(-9 * time.Minute).Format(time.RFC3339Nano),
		"completedAt":  now.Add(-time.Minute).Format(time.RFC3339Nano),
		"credentials":  []any{},
		"decision":     map[string]any{"type": d.Type, "details": map[string]any{"label": label}, "risk": map[string]any{"score": score}},
		"capabilities": caps,
	})
}

func (s *Server) kyxStatus(w http.ResponseWriter, r *http.Request, id string) {
	d := s.decision(id)
	status := "PROCESSED"
	if d.Type == "NOT_EXECUTED" {
		status = "TOKEN_EXPIRED"
	}
	writeJSON(w, http.StatusOK, map[string]any{"workflowExecution": map[string]any{"id": id, "status": status}})
}

func (s *Server) account(w http.ResponseWriter, r *http.Request, id string) {
	writeJSON(w, http.StatusOK, map[string]any{"account": map[string]any{"id": id}, "timestamp": time.Now().UTC().Format(time.RFC3339Nano)})
}

func (s *Server) scan(w http.ResponseWriter, r *http.Request, ref string) {
	writeJSON(w, http.StatusOK, map[string]any{"timestamp": time.Now().UTC().Format(time.RFC3339Nano), "scanReference": ref, "status": "DONE"})
}

func (s *Server) scanData(w http.ResponseWriter, r *http.Request, ref string) {
	writeJSON(w, http.StatusOK, map[string]any{
		"timestamp":     time.Now().UTC().Format(time.RFC3339Nano),
		"scanReference": ref,
		"document":      map[string]any{"type": "PASSPORT", "status": "APPROVED_VERIFIED", "issuingCountry": "AUT"},
		"transaction":   map[string]any{"status": "DONE", "source": "WEB_UPLOAD"},
		"verification":  map[string]any{"mrzCheck": "OK", "identityVerification": map[string]any{"similarity": "MATCH", "validity": true}},
	})
}

// onePixelPNG is a valid 1x1 PNG, the body of every image URL.
var onePixelPNG, _ = base64.StdEncoding.DecodeString("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")

func image(w http.ResponseWriter, r *http.Request, ref string) {
	w.Header().Set("Content-Type", "image/png")
	w.Write(onePixelPNG)
}

func (s *Server) applicant(w http.ResponseWriter, r *http.Request, id string) {
	rv := s.review(id)
	writeJSON(w, http.StatusOK, map[string]any{
		"id": id, "createdAt": time.Now().UTC().Add(-time.Hour).Format("2006-01-02 15:04:05"),
		"key": "KYCSIMKEY", "clientId": "kycsim-client", "inspectionId": id, "externalUserId": "user-" + id[:min(6, len(id))],
		"type": "individual", "review": reviewJSON(rv),
	})
}

func (s *Server) applicantStatus(w http.ResponseWriter, r *http.Request, id string) {
	writeJSON(w, http.StatusOK, reviewJSON(s.review(id)))
}

func reviewJSON(rv Review) map[string]any {
	out := map[string]any{"reviewStatus": rv.ReviewStatus, "levelName": "basic-kyc-level", "priority": 0}
	if rv.ReviewAnswer != "" {
		rr := map[string]any{"reviewAnswer": rv.ReviewAnswer}
		if rv.ReviewAnswer == "RED" {
			labels := rv.RejectLabels
			if labels == nil {
				labels = []string{"FORGERY"}
			}
			t := rv.RejectType
			if t == "" {
				t = "FINAL"
			}
			rr["rejectLabels"], rr["reviewRejectType"] = labels, t
		}
		out["reviewResult"] = rr
	}
	return out
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}
