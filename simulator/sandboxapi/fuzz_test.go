package sandboxapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kycsim/kycsim/scenarios"
	"github.com/kycsim/kycsim/simulator/sandbox/sqlite"
	"github.com/kycsim/kycsim/simulator/sandboxapi"
	"github.com/kycsim/kycsim/spec"
)

// FuzzRequests sends arbitrary bodies, queries and a reference to the
// sandbox's operations (as an app, authenticated, would): whatever comes
// in, the answer is never a 5xx (but 501 for an operation not simulated)
// and always a JSON body in the vendor's error shape or a success.
func FuzzRequests(f *testing.F) {
	cat, err := spec.Default()
	if err != nil {
		f.Fatal(err)
	}
	planner, err := scenarios.NewPlanner(cat, sandboxapi.OutcomeScenarios(), sandboxapi.OutcomePrefix)
	if err != nil {
		f.Fatal(err)
	}
	in, err := sandboxapi.Open(context.Background(), sandboxapi.Options{DB: sqlite.Memory, TimeScale: 1,
		Config: sandboxapi.Config{Catalog: cat, Planner: planner, PublicURL: "http://127.0.0.1:8089",
			JumioClientID: jumioID, JumioClientSecret: jumioSecret, SumsubAppToken: appToken, SumsubSecretKey: appSecret}})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		in.Close(ctx)
	})
	srv := in.Server
	token := func() string {
		req := httptest.NewRequest("POST", "/oauth2/token", strings.NewReader("grant_type=client_credentials"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(jumioID, jumioSecret)
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		var out struct {
			AccessToken string `json:"access_token"`
		}
		json.Unmarshal(w.Body.Bytes(), &out)
		return out.AccessToken
	}()
	f.Add(0, `{"customerInternalReference":"a-passed","workflowDefinition":{"key":1},"tokenLifetime":"5m"}`, "", "x")
	f.Add(1, `{"customerInternalReference":"b-fraud-105","userReference":"u","tokenLifetimeInMinutes":5}`, "", "x")
	f.Add(2, `{"externalUserId":"c-red-retry"}`, "levelName=basic", "x")
	f.Add(3, `{"outcome":"REJECTED","reason":"X"}`, "", "00000000-0000-4000-8000-000000000000")
	f.Add(4, `{"reviewAnswer":"RED","rejectLabels":["SPAM"],"reviewRejectType":"RETRY"}`, "", "5cb744200a975a67ed1798a4")
	f.Add(5, ``, "state=pending&after=0&limit=5", "x")
	f.Add(0, `{"customerInternalReference":"x","workflowDefinition":{"key":1},"tokenLifetime":"99999999999d"}`, "", "x")
	// Sumsub's other operations (9 and on).
	docsApplicant := func() string {
		body := `{"externalUserId":"fuzz-docs"}`
		req := httptest.NewRequest("POST", "/resources/applicants?levelName=basic", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		sumsubSign(req, []byte(body), appSecret, time.Now())
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		var out struct {
			ID string `json:"id"`
		}
		json.Unmarshal(w.Body.Bytes(), &out)
		return out.ID
	}()
	f.Add(9, `{"userId":"u","levelName":"l","ttlInSecs":5,"applicantIdentifiers":{"email":"e"}}`, "", "x")
	f.Add(10, `{"levelName":"l","userId":"u"}`, "", "-")
	f.Add(10, ``, "externalUserId=u&ttlInSecs=10", "basic")
	f.Add(11, ``, "", "fuzz-docs")
	f.Add(12, `{"firstName":"A"}`, "", "x")
	f.Add(13, `{"id":"x","email":"e"}`, "", "x")
	f.Add(14, "--X\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n{\"idDocType\":\"PASSPORT\",\"country\":\"DEU\"}\r\n--X\r\nContent-Disposition: form-data; name=\"content\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n\x00\r\n--X--\r\n", "", "x")
	f.Add(15, ``, "", "1")
	f.Add(16, ``, "", "_act-sbx-e30.00")
	f.Add(17, ``, "", "x")
	f.Add(18, `{}`, "a=b", "x")
	f.Fuzz(func(t *testing.T, op int, body, query, ref string) {
		ops := []struct{ method, path, auth string }{
			{"POST", "/api/v1/accounts", "bearer"},
			{"POST", "/api/v4/initiate", "basic"},
			{"POST", "/resources/applicants", "sumsub"},
			{"POST", "/_sandbox/jumio/workflow-executions/{ref}/outcome", ""},
			{"POST", "/resources/applicants/{ref}/status/testCompleted", "sumsub"},
			{"GET", "/_sandbox/deliveries", ""},
			{"GET", "/api/v1/workflow-executions/{ref}", "bearer"},
			{"POST", "/_sandbox/netverify/{ref}/outcome", ""},
			{"GET", "/web/{ref}", ""},
			{"POST", "/resources/accessTokens/sdk", "sumsub"},
			{"POST", "/resources/sdkIntegrations/levels/{ref}/websdkLink", "sumsub"},
			{"GET", "/resources/applicants/-;externalUserId={ref}/one", "sumsub"},
			{"PATCH", "/resources/applicants/{ref}/fixedInfo", "sumsub"},
			{"PATCH", "/resources/applicants", "sumsub"},
			{"POST", "/resources/applicants/{docs}/info/idDoc", "sumsub-multipart"},
			{"GET", "/resources/inspections/{ref}/resources/{ref}", "sumsub"},
			{"GET", "/websdk/{ref}", ""},
			{"POST", "/resources/applicants/{ref}/reset", "sumsub"},
			{"POST", "/resources/{ref}/not/simulated", "sumsub"},
		}
		if op < 0 {
			op = -op
		}
		o := ops[op%len(ops)]
		path := strings.ReplaceAll(strings.ReplaceAll(o.path, "{ref}", urlPathEscape(ref)), "{docs}", docsApplicant)
		target := path
		if query != "" {
			target += "?" + query
		}
		req, err := http.NewRequest(o.method, "http://127.0.0.1:8089"+target, strings.NewReader(body))
		if err != nil {
			return // not a request a client could send
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", testUA)
		req.Header.Set("Accept", "application/json")
		switch o.auth {
		case "bearer":
			req.Header.Set("Authorization", "Bearer "+token)
		case "basic":
			req.SetBasicAuth(jumioID, jumioSecret)
		case "sumsub":
			sumsubSign(req, []byte(body), appSecret, time.Now())
		case "sumsub-multipart":
			req.Header.Set("Content-Type", "multipart/form-data; boundary=X")
			sumsubSign(req, []byte(body), appSecret, time.Now())
		}
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		res := w.Result()
		b, _ := io.ReadAll(res.Body)
		// 501 is the answer for an operation not simulated, and says so.
		if res.StatusCode >= 500 && !(res.StatusCode == http.StatusNotImplemented && strings.Contains(string(b), "simulat")) {
			t.Fatalf("%s %s %q: %d %s", o.method, target, body, res.StatusCode, b)
		}
		if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") && !json.Valid(b) {
			t.Fatalf("%s %s: the answer is not JSON: %s", o.method, target, b)
		}
	})
}

// urlPathEscape escapes a path segment.
func urlPathEscape(s string) string {
	return strings.NewReplacer("/", "%2F", "?", "%3F", "#", "%23", "%", "%25", " ", "%20").Replace(s)
}
