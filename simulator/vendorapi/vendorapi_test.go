package vendorapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

func get(t *testing.T, url string) (int, string, map[string]any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	json.Unmarshal(b, &m)
	return resp.StatusCode, resp.Header.Get("Content-Type"), m
}

func TestEndpoints(t *testing.T) {
	s := New()
	srv := httptest.NewServer(s)
	defer srv.Close()
	score := 90
	s.SetDecision("w1", Decision{Type: "REJECTED", RiskScore: &score, Label: "TAMPERED"})
	s.SetReview("a1", Review{ReviewStatus: "completed", ReviewAnswer: "RED", RejectLabels: []string{"SPAM"}, RejectType: "RETRY"})
	for _, tt := range []struct {
		path, subject, ct string
		code              int
		want              string // a JSON fragment of the answer
	}{
		{"/api/v1/accounts/acc/workflow-executions/w1", "w1", "application/json", 200, `"decision":{"details":{"label":"TAMPERED"},"risk":{"score":90},"type":"REJECTED"}`},
		{"/api/v1/workflow-executions/w2", "w2", "application/json", 200, `"decision":{"details":{"label":"OK"},"risk":{"score":10},"type":"PASSED"}`},
		{"/api/v1/workflow-executions/w1/status", "w1", "application/json", 200, `"status":"PROCESSED"`},
		{"/api/v1/accounts/acc", "acc", "application/json", 200, `"account":{"id":"acc"}`},
		{"/api/netverify/v2/scans/s1", "s1", "application/json", 200, `"status":"DONE"`},
		{"/api/netverify/v2/scans/s1/data", "s1", "application/json", 200, `"mrzCheck":"OK"`},
		{"/api/netverify/v2/scans/s2/images/front", "s2", "image/png", 200, ""},
		{"/api/netverify/v2/authentications/t1/images/liveness/1", "t1", "image/png", 200, ""},
		{"/resources/applicants/a1/one", "a1", "application/json", 200, `"reviewResult":{"rejectLabels":["SPAM"],"reviewAnswer":"RED","reviewRejectType":"RETRY"}`},
		{"/resources/applicants/a2/status", "a2", "application/json", 200, `"reviewResult":{"reviewAnswer":"GREEN"}`},
		{"/nothing/here", "", "application/json", 404, `"status":404`},
	} {
		code, ct, m := get(t, srv.URL+tt.path)
		if code != tt.code || ct != tt.ct {
			t.Errorf("%s: %d %s, want %d %s", tt.path, code, ct, tt.code, tt.ct)
		}
		if tt.want != "" {
			b, _ := json.Marshal(m)
			if !strings.Contains(string(b), tt.want) {
				t.Errorf("%s: %s lacks %s", tt.path, b, tt.want)
			}
		}
		if tt.subject != "" && s.Fetches(tt.subject) == 0 {
			t.Errorf("%s: not counted for %s", tt.path, tt.subject)
		}
	}
	if s.Fetches("w1") != 2 || s.TotalFetches() != 10 {
		t.Errorf("fetches w1 %d, total %d", s.Fetches("w1"), s.TotalFetches())
	}
	s.Reset()
	if s.Fetches("w1") != 0 || s.TotalFetches() != 0 {
		t.Error("Reset kept counts")
	}
}

func TestConcurrentCounts(t *testing.T) {
	s := New()
	srv := httptest.NewServer(s)
	defer srv.Close()
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(srv.URL + "/api/v1/workflow-executions/w")
			if err == nil {
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	if n := s.Fetches("w"); n != 20 {
		t.Errorf("%d fetches counted, want 20", n)
	}
}
