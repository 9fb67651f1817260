package sandboxapi_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/kycsim/kycsim/internal/testpoll"
	"github.com/kycsim/kycsim/scenarios"
	"github.com/kycsim/kycsim/simulator/sandbox/sqlite"
	"github.com/kycsim/kycsim/simulator/sandboxapi"
	"github.com/kycsim/kycsim/spec"
)

// callbackSink is a receiver that keeps every callback it gets.
type callbackSink struct {
	mu  sync.Mutex
	got []gotCallback
	srv *httptest.Server
}

type gotCallback struct {
	Path   string
	Header http.Header
	Body   []byte
}

func newSink(t *testing.T) *callbackSink {
	s := &callbackSink{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.got = append(s.got, gotCallback{Path: r.URL.Path, Header: r.Header.Clone(), Body: b})
		s.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// wait polls until fn holds for the callbacks received, or fails.
func (s *callbackSink) wait(t *testing.T, what string, fn func([]gotCallback) bool) []gotCallback {
	t.Helper()
	var got []gotCallback
	if !testpoll.Until(10*time.Second, func() bool {
		s.mu.Lock()
		got = append([]gotCallback(nil), s.got...)
		s.mu.Unlock()
		return fn(got)
	}) {
		t.Fatalf("waited 10 s for %s; got %d callbacks", what, len(got))
	}
	return got
}

// find returns the first callback whose body contains every string.
func find(cs []gotCallback, parts ...string) (gotCallback, bool) {
	for _, c := range cs {
		if has(c, parts...) {
			return c, true
		}
	}
	return gotCallback{}, false
}

// anyHas reports whether a callback's body contains every string:
// callbacks may arrive in any order, as the vendors' may.
func anyHas(cs []gotCallback, parts ...string) bool {
	_, ok := find(cs, parts...)
	return ok
}

// byType finds the Sumsub webhook of a type among those received.
func byType(cs []gotCallback, typ string) (gotCallback, bool) {
	return find(cs, `"type":"`+typ+`"`)
}

// has reports whether a callback body contains every string.
func has(c gotCallback, parts ...string) bool {
	for _, p := range parts {
		if !bytes.Contains(c.Body, []byte(p)) {
			return false
		}
	}
	return true
}

const (
	jumioID, jumioSecret         = "client-id", "client-secret"
	appToken, appSecret          = "sbx:app-token", "app-secret"
	webhookSecret                = "s3cr3t"
	testUA                       = "integration-test/1.0"
	testTimeScale        float64 = 0.0001
)

// startSandbox runs a sandbox on loopback with a fast clock.
func startSandbox(t *testing.T, sink *callbackSink, mutate func(*sandboxapi.Options)) (*sandboxapi.Instance, string) {
	t.Helper()
	cat, err := spec.Default()
	if err != nil {
		t.Fatal(err)
	}
	planner, err := scenarios.NewPlanner(cat, sandboxapi.OutcomeScenarios(), sandboxapi.OutcomePrefix)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	opt := sandboxapi.Options{
		DB: sqlite.Memory, TimeScale: testTimeScale, ExpiryInterval: 10 * time.Millisecond, PollInterval: 10 * time.Millisecond,
		Replica: "test-replica",
		Config: sandboxapi.Config{
			Catalog: cat, Planner: planner, PublicURL: base,
			JumioClientID: jumioID, JumioClientSecret: jumioSecret,
			SumsubAppToken: appToken, SumsubSecretKey: appSecret,
			WebhookSecret: webhookSecret, Webhooks: map[string]string{"sumsub": sink.srv.URL + "/sumsub"},
		},
	}
	if mutate != nil {
		mutate(&opt)
	}
	in, err := sandboxapi.Open(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = in.Server
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		in.Close(ctx)
	})
	return in, base
}

// call makes a request and decodes a JSON answer.
func call(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	checkResponse(t, req, resp, b)
	var out map[string]any
	if len(b) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s %s: answer is not JSON: %v: %s", req.Method, req.URL, err, b)
		}
	}
	return resp.StatusCode, out
}

// docRouter finds the operation of a request in the sandbox's document.
var docRouter = sync.OnceValues(func() (routers.Router, error) {
	doc, err := sandboxapi.Document()
	if err != nil {
		return nil, err
	}
	doc.Servers = nil
	return gorillamux.NewRouter(doc)
})

// checkResponse checks an answer against the sandbox's OpenAPI document:
// its status is documented for the operation, and its body fits the
// documented schema.
func checkResponse(t *testing.T, req *http.Request, resp *http.Response, body []byte) {
	t.Helper()
	router, err := docRouter()
	if err != nil {
		t.Fatal(err)
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		return // not a documented route (the page, /metrics)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
		Status: resp.StatusCode, Header: resp.Header, Body: io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("%s %s answered %d, which the document does not describe: %v\n%s", req.Method, req.URL.Path, resp.StatusCode, err, body)
	}
}

func newRequest(t *testing.T, method, u string, body any) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != nil {
		switch b := body.(type) {
		case string:
			rd = strings.NewReader(b)
		default:
			data, _ := json.Marshal(b)
			rd = bytes.NewReader(data)
		}
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

// jumioToken gets a KYX bearer token the way an integrator does.
func jumioToken(t *testing.T, base string) string {
	t.Helper()
	req := newRequest(t, "POST", base+"/oauth2/token", "grant_type=client_credentials")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(jumioID, jumioSecret)
	code, out := call(t, req)
	if code != 200 {
		t.Fatalf("token: %d %v", code, out)
	}
	return out["access_token"].(string)
}

// createAccount creates a KYX account and workflow execution through the
// API, as an app does, and returns the answer.
func createAccount(t *testing.T, base, tok string, body map[string]any) map[string]any {
	t.Helper()
	req := newRequest(t, "POST", base+"/api/v1/accounts", body)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("User-Agent", testUA)
	code, acc := call(t, req)
	if code != 200 {
		t.Fatalf("create: %d %v", code, acc)
	}
	return acc
}

// sumsubSign signs a Sumsub API request the way Sumsub's clients do.
func sumsubSign(req *http.Request, body []byte, secret string, ts time.Time) {
	s := strconv.FormatInt(ts.Unix(), 10)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(s + req.Method + req.URL.RequestURI()))
	m.Write(body)
	req.Header.Set("X-App-Token", appToken)
	req.Header.Set("X-App-Access-Ts", s)
	req.Header.Set("X-App-Access-Sig", hex.EncodeToString(m.Sum(nil)))
}

func sumsubRequest(t *testing.T, method, u string, body any) *http.Request {
	t.Helper()
	req := newRequest(t, method, u, body)
	var b []byte
	if req.GetBody != nil {
		rc, _ := req.GetBody()
		b, _ = io.ReadAll(rc)
	}
	sumsubSign(req, b, appSecret, time.Now())
	return req
}

func TestKYXFlow(t *testing.T) {
	sink := newSink(t)
	_, base := startSandbox(t, sink, nil)
	tok := jumioToken(t, base)
	create := func(body map[string]any) (int, map[string]any) {
		req := newRequest(t, "POST", base+"/api/v1/accounts", body)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("User-Agent", testUA)
		return call(t, req)
	}
	code, acc := create(map[string]any{"customerInternalReference": "order-1", "workflowDefinition": map[string]any{"key": 10013}, "callbackUrl": sink.srv.URL + "/jumio"})
	if code != 200 {
		t.Fatalf("create: %d %v", code, acc)
	}
	we := acc["workflowExecution"].(map[string]any)["id"].(string)
	accountID := acc["account"].(map[string]any)["id"].(string)
	if href := acc["web"].(map[string]any)["href"].(string); !regexp.MustCompile(`^` + regexp.QuoteMeta(base+"/web/"+we) + `\?cap=[0-9a-f]{32}$`).MatchString(href) {
		t.Errorf("web.href = %s, want %s/web/%s?cap= and 128 random bits", href, base, we)
	}
	code, out := call(t, newRequest(t, "POST", base+"/_sandbox/jumio/workflow-executions/"+we+"/outcome", map[string]any{"outcome": "REJECTED"}))
	if code != 202 {
		t.Fatalf("outcome: %d %v", code, out)
	}
	got := sink.wait(t, "PROCESSED", func(cs []gotCallback) bool { return anyHas(cs, `"PROCESSED"`) })
	last, _ := find(got, `"PROCESSED"`)
	if !has(last, we, accountID, base+"/api/v1/accounts/"+accountID+"/workflow-executions/"+we) {
		t.Errorf("PROCESSED callback does not name the workflow, the account and the sandbox's href: %s", last.Body)
	}
	req := newRequest(t, "GET", base+"/api/v1/accounts/"+accountID+"/workflow-executions/"+we, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("User-Agent", testUA)
	code, det := call(t, req)
	if code != 200 || det["decision"].(map[string]any)["type"] != "REJECTED" || det["workflow"].(map[string]any)["status"] != "PROCESSED" {
		t.Errorf("retrieval: %d %v", code, det)
	}

	// The vendor's rules.
	for _, tc := range []struct {
		name   string
		mutate func(*http.Request)
		body   map[string]any
		want   int
	}{
		{"no User-Agent", func(r *http.Request) { r.Header.Set("User-Agent", "") }, nil, 403},
		{"no token", func(r *http.Request) { r.Header.Del("Authorization") }, nil, 401},
		{"forged token", func(r *http.Request) { r.Header.Set("Authorization", "Bearer kycsim.1.abc") }, nil, 401},
		{"forbidden character", nil, map[string]any{"customerInternalReference": "a<b", "workflowDefinition": map[string]any{"key": 1}}, 400},
		{"no workflow key", nil, map[string]any{"customerInternalReference": "x"}, 400},
		{"bad token lifetime", nil, map[string]any{"customerInternalReference": "x", "workflowDefinition": map[string]any{"key": 1}, "tokenLifetime": "10x"}, 400},
		{"foreign callback", nil, map[string]any{"customerInternalReference": "x", "workflowDefinition": map[string]any{"key": 1}, "callbackUrl": "http://10.0.0.1/cb"}, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := tc.body
			if body == nil {
				body = map[string]any{"customerInternalReference": "x", "workflowDefinition": map[string]any{"key": 1}}
			}
			req := newRequest(t, "POST", base+"/api/v1/accounts", body)
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("User-Agent", testUA)
			if tc.mutate != nil {
				tc.mutate(req)
			}
			code, out := call(t, req)
			if code != tc.want {
				t.Fatalf("got %d %v, want %d", code, out, tc.want)
			}
			if out["title"] == nil || out["status"] == nil || out["detail"] == nil {
				t.Errorf("error body is not Jumio's {title, status, detail}: %v", out)
			}
		})
	}
}

func TestKYXTokenExpiresByItself(t *testing.T) {
	sink := newSink(t)
	_, base := startSandbox(t, sink, nil)
	tok := jumioToken(t, base)
	req := newRequest(t, "POST", base+"/api/v1/accounts", map[string]any{"customerInternalReference": "idle", "workflowDefinition": map[string]any{"key": 1},
		"callbackUrl": sink.srv.URL + "/jumio", "tokenLifetime": "5m"})
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("User-Agent", testUA)
	if code, out := call(t, req); code != 200 {
		t.Fatalf("create: %d %v", code, out)
	}
	sink.wait(t, "TOKEN_EXPIRED", func(cs []gotCallback) bool { return len(cs) == 1 && has(cs[0], `"TOKEN_EXPIRED"`) })
	// The access token itself (an hour of sandbox time) runs out too.
	var code int
	var out map[string]any
	if !testpoll.Until(10*time.Second, func() bool {
		req := newRequest(t, "GET", base+"/api/v1/workflow-executions/x", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("User-Agent", testUA)
		code, out = call(t, req)
		return code == 401
	}) {
		t.Fatalf("the token did not expire: %d", code)
	}
	if !strings.Contains(out["detail"].(string), "expired") {
		t.Errorf("expired token: %v", out)
	}
}

func TestNetverifyFlow(t *testing.T) {
	sink := newSink(t)
	_, base := startSandbox(t, sink, nil)
	initiate := func(mutate func(*http.Request)) (int, map[string]any) {
		req := newRequest(t, "POST", base+"/api/v4/initiate", map[string]any{"customerInternalReference": "order-7", "userReference": "user-7", "callbackUrl": sink.srv.URL + "/netverify"})
		req.SetBasicAuth(jumioID, jumioSecret)
		req.Header.Set("User-Agent", testUA)
		req.Header.Set("Accept", "application/json")
		if mutate != nil {
			mutate(req)
		}
		return call(t, req)
	}
	if code, _ := initiate(func(r *http.Request) { r.Header.Del("Accept") }); code != 403 {
		t.Errorf("without Accept: %d, want 403", code)
	}
	if code, _ := initiate(func(r *http.Request) { r.SetBasicAuth(jumioID, "wrong") }); code != 401 {
		t.Errorf("wrong secret: %d, want 401", code)
	}
	code, out := initiate(nil)
	if code != 200 {
		t.Fatalf("initiate: %d %v", code, out)
	}
	ref := out["transactionReference"].(string)
	code, out = call(t, newRequest(t, "POST", base+"/_sandbox/netverify/"+ref+"/outcome", map[string]any{"outcome": "DENIED_FRAUD", "reason": "105"}))
	if code != 202 {
		t.Fatalf("outcome: %d %v", code, out)
	}
	got := sink.wait(t, "DENIED_FRAUD", func(cs []gotCallback) bool { return len(cs) == 1 })
	form, err := url.ParseQuery(string(got[0].Body))
	if err != nil {
		t.Fatal(err)
	}
	if form.Get("verificationStatus") != "DENIED_FRAUD" || form.Get("jumioIdScanReference") != ref || form.Get("merchantIdScanReference") != "order-7" || !strings.Contains(form.Get("rejectReason"), `"105"`) {
		t.Errorf("callback: %v", form)
	}
	get := func(path string) (int, map[string]any) {
		req := newRequest(t, "GET", base+path, nil)
		req.SetBasicAuth(jumioID, jumioSecret)
		req.Header.Set("User-Agent", testUA)
		req.Header.Set("Accept", "application/json")
		return call(t, req)
	}
	if code, out := get("/api/netverify/v2/scans/" + ref); code != 200 || out["status"] != "DONE" {
		t.Errorf("scan: %d %v", code, out)
	}
	code, data := get("/api/netverify/v2/scans/" + ref + "/data")
	if code != 200 || data["document"].(map[string]any)["status"] != "DENIED_FRAUD" || !strings.Contains(mustJSON(data["verification"]), `"105"`) {
		t.Errorf("scan data: %d %v", code, data)
	}
	if code, _ := get("/api/netverify/v2/scans/unknown"); code != 404 {
		t.Errorf("unknown scan: %d, want 404", code)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestSumsubFlow(t *testing.T) {
	sink := newSink(t)
	_, base := startSandbox(t, sink, nil)
	code, app := call(t, sumsubRequest(t, "POST", base+"/resources/applicants?levelName=basic-kyc-level", map[string]any{"externalUserId": "user-42"}))
	if code != 201 {
		t.Fatalf("create: %d %v", code, app)
	}
	id := app["id"].(string)
	if code, out := call(t, sumsubRequest(t, "POST", base+"/resources/applicants?levelName=basic-kyc-level", map[string]any{"externalUserId": "user-42"})); code != 409 {
		t.Errorf("second applicant for one externalUserId: %d %v", code, out)
	}
	if code, _ := call(t, sumsubRequest(t, "POST", base+"/resources/applicants/"+id+"/status/pending", nil)); code != 200 {
		t.Fatalf("pending: %d", code)
	}
	if code, out := call(t, sumsubRequest(t, "POST", base+"/resources/applicants/"+id+"/status/testCompleted",
		map[string]any{"reviewAnswer": "RED", "rejectLabels": []string{"SCREENSHOTS"}, "reviewRejectType": "RETRY"})); code != 200 {
		t.Fatalf("testCompleted: %d %v", code, out)
	}
	// Webhooks may arrive in any order, as Sumsub's may: find each by type.
	got := sink.wait(t, "three webhooks", func(cs []gotCallback) bool { return len(cs) == 3 })
	for _, want := range []string{"applicantCreated", "applicantPending", "applicantReviewed"} {
		c, ok := byType(got, want)
		if !ok || !has(c, id, "user-42", "basic-kyc-level") {
			t.Errorf("no %s webhook for %s among %d", want, id, len(got))
			continue
		}
		m := hmac.New(sha256.New, []byte(webhookSecret))
		m.Write(c.Body)
		if c.Header.Get("X-Payload-Digest") != hex.EncodeToString(m.Sum(nil)) {
			t.Errorf("%s: X-Payload-Digest does not sign the body with the webhook secret", want)
		}
	}
	if c, _ := byType(got, "applicantReviewed"); !has(c, "SCREENSHOTS", "RETRY", `"RED"`) {
		t.Errorf("applicantReviewed does not carry the chosen review: %s", c.Body)
	}
	code, st := call(t, sumsubRequest(t, "GET", base+"/resources/applicants/"+id+"/status", nil))
	if code != 200 || st["reviewStatus"] != "completed" || st["reviewResult"].(map[string]any)["reviewAnswer"] != "RED" {
		t.Errorf("status: %d %v", code, st)
	}

	// Signing.
	for _, tc := range []struct {
		name string
		sign func(*http.Request)
	}{
		{"wrong secret", func(r *http.Request) { sumsubSign(r, nil, "other", time.Now()) }},
		{"stale timestamp", func(r *http.Request) { sumsubSign(r, nil, appSecret, time.Now().Add(-2*time.Minute)) }},
		{"future timestamp", func(r *http.Request) { sumsubSign(r, nil, appSecret, time.Now().Add(2*time.Minute)) }},
		{"another path signed", func(r *http.Request) {
			path := r.URL.Path
			r.URL.Path = strings.TrimSuffix(path, "/one") + "/status"
			sumsubSign(r, nil, appSecret, time.Now())
			r.URL.Path = path
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := newRequest(t, "GET", base+"/resources/applicants/"+id+"/one", nil)
			tc.sign(req)
			code, out := call(t, req)
			if code != 401 || out["errorCode"] != float64(4003) || out["description"] == nil || out["correlationId"] == nil {
				t.Errorf("got %d %v, want 401 with errorCode 4003", code, out)
			}
		})
	}
}

func TestMagicValues(t *testing.T) {
	sink := newSink(t)
	_, base := startSandbox(t, sink, nil)
	if code, out := call(t, sumsubRequest(t, "POST", base+"/resources/applicants?levelName=basic-kyc-level", map[string]any{"externalUserId": "carol-green"})); code != 201 {
		t.Fatalf("create: %d %v", code, out)
	}
	got := sink.wait(t, "GREEN review", func(cs []gotCallback) bool {
		return anyHas(cs, `"applicantReviewed"`, `"GREEN"`)
	})
	created := 0
	for _, c := range got {
		if has(c, `"applicantCreated"`) {
			created++
		}
	}
	if created != 1 {
		t.Errorf("%d applicantCreated webhooks, want 1", created)
	}
}

// TestPageFlow drives the outcome page as a form post would: opening it
// starts the acquisition, picking REJECTED plays the rest.
func TestPageFlow(t *testing.T) {
	sink := newSink(t)
	_, base := startSandbox(t, sink, func(o *sandboxapi.Options) { o.TimeScale = 0.01 })
	tok := jumioToken(t, base)
	acc := createAccount(t, base, tok, map[string]any{"customerInternalReference": "page", "workflowDefinition": map[string]any{"key": 1},
		"callbackUrl": sink.srv.URL + "/jumio", "tokenLifetime": "60d"})
	href := acc["web"].(map[string]any)["href"].(string)
	resp, err := http.Get(href)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(page, []byte(`value="REJECTED"`)) {
		t.Fatalf("page: %d %s", resp.StatusCode, page)
	}
	sink.wait(t, "ACQUISITION_STARTED", func(cs []gotCallback) bool { return len(cs) == 1 && has(cs[0], "ACQUISITION_STARTED") })
	resp, err = http.PostForm(href, url.Values{"outcome": {"REJECTED"}, "reason": {"FRAUDSTER"}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(page, []byte("REJECTED")) {
		t.Fatalf("pick: %d %s", resp.StatusCode, page)
	}
	got := sink.wait(t, "PROCESSED", func(cs []gotCallback) bool { return anyHas(cs, `"PROCESSED"`) })
	started := 0
	for _, c := range got {
		if has(c, "ACQUISITION_STARTED") {
			started++
		}
	}
	if started != 1 {
		t.Errorf("%d ACQUISITION_STARTED callbacks, want 1", started)
	}
	we := acc["workflowExecution"].(map[string]any)["id"].(string)
	req := newRequest(t, "GET", base+"/api/v1/workflow-executions/"+we, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("User-Agent", testUA)
	_, det := call(t, req)
	d := det["decision"].(map[string]any)
	if d["type"] != "REJECTED" || d["details"].(map[string]any)["label"] != "FRAUDSTER" {
		t.Errorf("decision: %v", d)
	}
}

func TestControlToken(t *testing.T) {
	sink := newSink(t)
	_, base := startSandbox(t, sink, func(o *sandboxapi.Options) { o.ControlToken = "ctl" })
	for _, tc := range []struct {
		name string
		auth func(*http.Request)
		want int
	}{
		{"none", func(*http.Request) {}, 401},
		{"wrong", func(r *http.Request) { r.Header.Set("Authorization", "Bearer nope") }, 401},
		{"bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer ctl") }, 200},
		{"query", func(r *http.Request) { r.URL.RawQuery = "control-token=ctl" }, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := newRequest(t, "GET", base+"/_sandbox/deliveries", nil)
			tc.auth(req)
			if code, out := call(t, req); code != tc.want {
				t.Errorf("deliveries: %d %v, want %d", code, out, tc.want)
			}
			req = newRequest(t, "GET", base+"/web/unknown", nil)
			tc.auth(req)
			want := tc.want
			if want == 200 {
				want = 404
			}
			if code, _ := call(t, req); code != want {
				t.Errorf("page: %d, want %d", code, want)
			}
		})
	}
}

func TestAllowCallback(t *testing.T) {
	sink := newSink(t)
	_, base := startSandbox(t, sink, func(o *sandboxapi.Options) {
		o.AllowCallback = []string{"hooks.example.test", "*.internal.test", "127.0.0.1:9999"}
	})
	tok := jumioToken(t, base)
	for _, tc := range []struct {
		url  string
		want int
	}{
		{"https://hooks.example.test/cb", 200},
		{"https://a.b.internal.test/cb", 200},
		{"https://internal.test/cb", 400},
		{"http://127.0.0.1:9999/cb", 200},
		{"http://127.0.0.1:9998/cb", 400},
		{"http://169.254.169.254/latest", 400},
		{"ftp://hooks.example.test/cb", 400},
	} {
		req := newRequest(t, "POST", base+"/api/v1/accounts", map[string]any{"customerInternalReference": "x", "workflowDefinition": map[string]any{"key": 1}, "callbackUrl": tc.url})
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("User-Agent", testUA)
		if code, out := call(t, req); code != tc.want {
			t.Errorf("callbackUrl %s: %d %v, want %d", tc.url, code, out, tc.want)
		}
	}
}

func TestNetverifyDropOffByItself(t *testing.T) {
	sink := newSink(t)
	_, base := startSandbox(t, sink, nil)
	req := newRequest(t, "POST", base+"/api/v4/initiate", map[string]any{"customerInternalReference": "idle", "userReference": "u", "callbackUrl": sink.srv.URL + "/nv", "tokenLifetimeInMinutes": 5})
	req.SetBasicAuth(jumioID, jumioSecret)
	req.Header.Set("User-Agent", testUA)
	req.Header.Set("Accept", "application/json")
	if code, out := call(t, req); code != 200 {
		t.Fatalf("initiate: %d %v", code, out)
	}
	sink.wait(t, "NO_ID_UPLOADED", func(cs []gotCallback) bool { return len(cs) == 1 && has(cs[0], "verificationStatus=NO_ID_UPLOADED") })
}

func TestDocumentAndMetricsServed(t *testing.T) {
	sink := newSink(t)
	_, base := startSandbox(t, sink, nil)
	code, doc := call(t, newRequest(t, "GET", base+"/openapi.json", nil))
	if code != 200 || doc["paths"].(map[string]any)["/api/v1/accounts"] == nil {
		t.Errorf("openapi.json: %d", code)
	}
	call(t, sumsubRequest(t, "POST", base+"/resources/applicants?levelName=l", map[string]any{"externalUserId": "m-1"}))
	sink.wait(t, "applicantCreated", func(cs []gotCallback) bool { return len(cs) == 1 })
	var text string
	if !testpoll.Until(5*time.Second, func() bool {
		resp, err := http.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		text = string(b)
		return strings.Contains(text, `kycsim_callbacks_delivered_total{replica="test-replica"} 1`) &&
			strings.Contains(text, `kycsim_http_requests_total{replica="test-replica",route="/resources/applicants",status="201"} 1`) &&
			strings.Contains(text, `kycsim_delivery_latency_seconds_count{replica="test-replica"} 1`) &&
			strings.Contains(text, `kycsim_callbacks_pending{replica="test-replica"} 0`)
	}) {
		t.Fatalf("metrics do not show the delivery:\n%s", text)
	}
}

// TestAPIsAroundTheFlows covers the calls the flows above do not:
// a new workflow for an existing KYX account, Sumsub access tokens and
// WebSDK links (which create the applicant and open the page).
func TestAPIsAroundTheFlows(t *testing.T) {
	sink := newSink(t)
	_, base := startSandbox(t, sink, nil)
	tok := jumioToken(t, base)
	kyx := func(method, u string, body any) (int, map[string]any) {
		req := newRequest(t, method, u, body)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("User-Agent", testUA)
		return call(t, req)
	}
	body := map[string]any{"customerInternalReference": "acc", "workflowDefinition": map[string]any{"key": 1}, "tokenLifetime": "60d"}
	_, first := kyx("POST", base+"/api/v1/accounts", body)
	account := first["account"].(map[string]any)["id"].(string)
	code, second := kyx("PUT", base+"/api/v1/accounts/"+account, body)
	if code != 200 || second["account"].(map[string]any)["id"] != account ||
		second["workflowExecution"].(map[string]any)["id"] == first["workflowExecution"].(map[string]any)["id"] {
		t.Errorf("PUT account: %d %v", code, second)
	}
	if code, _ := kyx("PUT", base+"/api/v1/accounts/"+newUUIDForTest(), body); code != 404 {
		t.Errorf("PUT unknown account: %d, want 404", code)
	}
	if code, out := kyx("GET", base+"/api/v1/accounts/"+account+"/workflow-executions/"+first["workflowExecution"].(map[string]any)["id"].(string)+"/status", nil); code != 200 ||
		out["workflowExecution"].(map[string]any)["status"] != "INITIATED" {
		t.Errorf("status: %d %v", code, out)
	}
	if code, out := kyx("GET", base+"/api/v1/accounts/"+newUUIDForTest()+"/workflow-executions/"+first["workflowExecution"].(map[string]any)["id"].(string), nil); code != 404 {
		t.Errorf("workflow under another account: %d %v, want 404", code, out)
	}

	code, at := call(t, sumsubRequest(t, "POST", base+"/resources/accessTokens?userId=user-9&levelName=basic-kyc-level&ttlInSecs=600", nil))
	if code != 200 || at["userId"] != "user-9" || at["token"] == "" {
		t.Errorf("access token: %d %v", code, at)
	}
	code, link := call(t, sumsubRequest(t, "POST", base+"/resources/sdkIntegrations/levels/basic-kyc-level/websdkLink?externalUserId=user-9", nil))
	if code != 200 {
		t.Fatalf("websdkLink: %d %v", code, link)
	}
	// The link creates the applicant when it is opened, as the WebSDK
	// does, not when it is made.
	u := openLink(t, link["url"].(string))
	sink.wait(t, "applicantCreated", func(cs []gotCallback) bool { return len(cs) == 1 && has(cs[0], "applicantCreated", "user-9") })
	_, again := call(t, sumsubRequest(t, "POST", base+"/resources/sdkIntegrations/levels/basic-kyc-level/websdkLink?externalUserId=user-9", nil))
	if got := openLink(t, again["url"].(string)); got != u {
		t.Errorf("a second link for the same user opens another applicant: %v, want %s", got, u)
	}
	resp, err := http.PostForm(u, url.Values{"outcome": {"RED"}, "reason": {"SPAM"}, "rejectType": {"RETRY"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	got := sink.wait(t, "applicantReviewed", func(cs []gotCallback) bool { return len(cs) == 3 })
	_, pending := byType(got, "applicantPending")
	if reviewed, _ := byType(got, "applicantReviewed"); !pending || !has(reviewed, "SPAM", "RETRY") {
		t.Errorf("page review: pending %v, reviewed %s", pending, reviewed.Body)
	}
}

// openLink opens a WebSDK link or access token page and returns the
// outcome page it leads to.
func openLink(t *testing.T, u string) string {
	t.Helper()
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Request.URL.Path, "/web/") {
		t.Fatalf("GET %s: %d at %s, want 200 on the outcome page /web/ID", u, resp.StatusCode, resp.Request.URL)
	}
	return resp.Request.URL.String()
}

// newUUIDForTest returns a random UUID.
func newUUIDForTest() string {
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", time.Now().UnixNano()&0xffffffff, time.Now().UnixNano()&0xffffffffffff)
}
