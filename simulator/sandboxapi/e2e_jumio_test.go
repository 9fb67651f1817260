package sandboxapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kycsim/kycsim/simulator/sandboxapi"
)

// fixture reads a vendor example answer from testdata/jumio (sources in
// testdata/jumio/SOURCES.md).
func fixture(t *testing.T, name string) any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "jumio", name))
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

// checkShape checks that an answer has every field of the vendor's
// example answer, with the same JSON type and nesting (arrays: their
// first elements compared), except the optional paths (JSON pointers,
// array indexes as "*").
func checkShape(t *testing.T, name string, want, got any, optional ...string) {
	t.Helper()
	var diffs []string
	var walk func(ptr string, w, g any)
	walk = func(ptr string, w, g any) {
		if kind(w) != kind(g) {
			diffs = append(diffs, fmt.Sprintf("%s: %s in the example, %s in the answer", ptr, kind(w), kind(g)))
			return
		}
		switch w := w.(type) {
		case map[string]any:
			gm := g.(map[string]any)
			for k, wv := range w {
				gv, ok := gm[k]
				if !ok {
					if !slices.Contains(optional, ptr+"/"+k) {
						diffs = append(diffs, ptr+"/"+k+": missing")
					}
					continue
				}
				walk(ptr+"/"+k, wv, gv)
			}
		case []any:
			ga := g.([]any)
			if len(w) > 0 && len(ga) == 0 {
				diffs = append(diffs, ptr+": empty, the example has elements")
			}
			if len(w) > 0 && len(ga) > 0 {
				walk(ptr+"/*", w[0], ga[0])
			}
		}
	}
	walk("", want, got)
	slices.Sort(diffs)
	for _, d := range diffs {
		t.Errorf("%s: %s", name, d)
	}
}

func kind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	}
	return "null"
}

// kyxClient is an app's Jumio KYX client: an OAuth2 token it renews
// when expires_in (real seconds) has passed, as clients that cache the
// token do, and the User-Agent Jumio requires.
type kyxClient struct {
	t       *testing.T
	base    string
	tok     string
	renewAt time.Time
}

func newKYXClient(t *testing.T, base string) *kyxClient {
	return &kyxClient{t: t, base: base}
}

// token returns the cached token, renewed once expires_in has passed.
func (c *kyxClient) token() string {
	c.t.Helper()
	if c.renewAt.IsZero() || !time.Now().Before(c.renewAt) {
		req := newRequest(c.t, "POST", c.base+"/oauth2/token", "grant_type=client_credentials")
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(jumioID, jumioSecret)
		start := time.Now()
		code, out := call(c.t, req)
		if code != 200 {
			c.t.Fatalf("token: %d %v", code, out)
		}
		c.tok = out["access_token"].(string)
		c.renewAt = start.Add(time.Duration(out["expires_in"].(float64)) * time.Second)
	}
	return c.tok
}

func (c *kyxClient) do(method, u string, body any) (int, map[string]any) {
	c.t.Helper()
	if strings.HasPrefix(u, "/") {
		u = c.base + u
	}
	req := newRequest(c.t, method, u, body)
	req.Header.Set("Authorization", "Bearer "+c.token())
	req.Header.Set("User-Agent", testUA)
	return call(c.t, req)
}

// fetch GETs a URL with the bearer token and returns the answer whole.
func (c *kyxClient) fetch(u, accept string) (int, string, []byte) {
	c.t.Helper()
	req := newRequest(c.t, "GET", u, nil)
	req.Header.Set("Authorization", "Bearer "+c.token())
	req.Header.Set("User-Agent", testUA)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	checkResponse(c.t, req, resp, b)
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

// obj walks a decoded JSON value by keys and indexes.
func obj(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			a, _ := v.([]any)
			if k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

func str(v any, path ...any) string { s, _ := obj(v, path...).(string); return s }

// capDecisions maps each capability to its entries' "TYPE/label".
func capDecisions(det map[string]any) map[string][]string {
	out := map[string][]string{}
	caps, _ := det["capabilities"].(map[string]any)
	for name, entries := range caps {
		for _, e := range entries.([]any) {
			out[name] = append(out[name], str(e, "decision", "type")+"/"+str(e, "decision", "details", "label"))
		}
	}
	return out
}

// TestKYXWebFlowOutcomes plays the KYX web flow as an app does, once per
// outcome: create the account, the user opens web.href and picks the
// outcome (or walks away, or never comes), the callbacks arrive, and the
// app follows the final callback's href. Retrieval must agree with the
// callback (id, account, status), carry the whole documented shape, and
// fail the capability the outcome names; every part's href answers an
// image.
func TestKYXWebFlowOutcomes(t *testing.T) {
	sink := newSink(t)
	_, base := startSandbox(t, sink, nil)
	c := newKYXClient(t, base)
	for _, tc := range []struct {
		name, outcome, reason string
		open                  bool // the user opens the page
		final, decision       string
		caps                  map[string][]string // expected capability decisions (subset)
	}{
		{name: "passed", outcome: "PASSED", open: true, final: "PROCESSED", decision: "PASSED", caps: map[string][]string{
			"usability": {"PASSED/OK", "PASSED/OK", "PASSED/OK"}, "imageChecks": {"PASSED/OK"}, "extraction": {"PASSED/OK"},
			"dataChecks": {"PASSED/OK"}, "watchlistScreening": {"PASSED/OK"}, "liveness": {"PASSED/OK"}, "similarity": {"PASSED/OK"}}},
		{name: "rejected manipulated", outcome: "REJECTED", reason: "MANIPULATED_DOCUMENT", open: true, final: "PROCESSED", decision: "REJECTED", caps: map[string][]string{
			"imageChecks": {"REJECTED/MANIPULATED_DOCUMENT"}, "extraction": {"NOT_EXECUTED/PRECONDITION_NOT_FULFILLED"},
			"dataChecks": {"NOT_EXECUTED/PRECONDITION_NOT_FULFILLED"}, "watchlistScreening": {"NOT_EXECUTED/PRECONDITION_NOT_FULFILLED"},
			"liveness": {"PASSED/OK"}, "similarity": {"PASSED/OK"}}},
		{name: "rejected no match", outcome: "REJECTED", reason: "NO_MATCH", open: true, final: "PROCESSED", decision: "REJECTED", caps: map[string][]string{
			"similarity": {"REJECTED/NO_MATCH"}, "imageChecks": {"PASSED/OK"}, "extraction": {"PASSED/OK"}}},
		{name: "rejected photocopy", outcome: "REJECTED", reason: "PHOTOCOPY", open: true, final: "PROCESSED", decision: "REJECTED", caps: map[string][]string{
			"usability": {"REJECTED/PHOTOCOPY", "PASSED/OK", "PASSED/OK"}, "imageChecks": {"NOT_EXECUTED/PRECONDITION_NOT_FULFILLED"},
			"similarity": {"NOT_EXECUTED/PRECONDITION_NOT_FULFILLED"}, "liveness": {"PASSED/OK"}}},
		{name: "rejected fraudster", outcome: "REJECTED", reason: "FRAUDSTER", open: true, final: "PROCESSED", decision: "REJECTED", caps: map[string][]string{
			"imageChecks": {"REJECTED/MANIPULATED_DOCUMENT"}}},
		{name: "warning", outcome: "WARNING", open: true, final: "PROCESSED", decision: "WARNING", caps: map[string][]string{
			"watchlistScreening": {"WARNING/ALERT"}, "imageChecks": {"PASSED/OK"}}},
		{name: "session expired", open: true, final: "SESSION_EXPIRED", decision: "NOT_EXECUTED", caps: map[string][]string{}},
		{name: "token expired", final: "TOKEN_EXPIRED", decision: "NOT_EXECUTED", caps: map[string][]string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.t = t
			ref := "web-" + strings.ReplaceAll(tc.name, " ", "-")
			body := map[string]any{"customerInternalReference": ref, "userReference": "user-" + ref,
				"workflowDefinition": map[string]any{"key": 10013}, "callbackUrl": sink.srv.URL + "/kyx"}
			if tc.outcome != "" || !tc.open {
				body["tokenLifetime"] = "60d"
			}
			if !tc.open {
				body["tokenLifetime"] = "5m"
			}
			_, acc := c.do("POST", "/api/v1/accounts", body)
			we := str(acc, "workflowExecution", "id")
			href := str(acc, "web", "href")
			if tc.open {
				resp, err := http.Get(href)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
			}
			if tc.outcome != "" {
				resp, err := http.PostForm(href, url.Values{"outcome": {tc.outcome}, "reason": {tc.reason}})
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
			}
			got := sink.wait(t, tc.final, func(cs []gotCallback) bool { return anyHas(cs, we, `"status":"`+tc.final+`"`) })
			cb, _ := find(got, we, `"status":"`+tc.final+`"`)
			var callback map[string]any
			if err := json.Unmarshal(cb.Body, &callback); err != nil {
				t.Fatal(err)
			}
			code, det := c.do("GET", str(callback, "workflowExecution", "href"), nil)
			if code != 200 {
				t.Fatalf("retrieval at the callback's href: %d %v", code, det)
			}
			// Retrieval and callback agree.
			if str(det, "workflow", "id") != str(callback, "workflowExecution", "id") || str(det, "account", "id") != str(callback, "account", "id") ||
				str(det, "workflow", "status") != str(callback, "workflowExecution", "status") {
				t.Errorf("retrieval %v does not agree with the callback %s", det["workflow"], cb.Body)
			}
			if str(det, "workflow", "customerInternalReference") != ref || str(det, "workflow", "userReference") != "user-"+ref {
				t.Errorf("retrieval does not repeat the app's references: %v", det["workflow"])
			}
			_, st := c.do("GET", "/api/v1/workflow-executions/"+we+"/status", nil)
			if str(st, "workflowExecution", "status") != tc.final {
				t.Errorf("status API: %v, want %s", st, tc.final)
			}
			if str(det, "decision", "type") != tc.decision {
				t.Errorf("decision %v, want %s", det["decision"], tc.decision)
			}
			if tc.reason != "" && str(det, "decision", "details", "label") != tc.reason {
				t.Errorf("decision label %v, want %s", det["decision"], tc.reason)
			}
			decisions := capDecisions(det)
			for name, want := range tc.caps {
				if !slices.Equal(decisions[name], want) {
					t.Errorf("capability %s: %v, want %v", name, decisions[name], want)
				}
			}
			if len(tc.caps) == 0 && len(decisions) != 0 {
				t.Errorf("a workflow not executed has capabilities: %v", decisions)
			}
			// Every capability names credentials the workflow has.
			creds := map[string]string{}
			for _, cr := range det["credentials"].([]any) {
				creds[str(cr, "id")] = str(cr, "category")
			}
			if len(creds) != 3 {
				t.Errorf("credentials %v, want ID, SELFIE and FACEMAP (workflow 10013)", det["credentials"])
			}
			for name, entries := range obj(det, "capabilities").(map[string]any) {
				for _, e := range entries.([]any) {
					for _, cr := range obj(e, "credentials").([]any) {
						if creds[str(cr, "id")] != str(cr, "category") {
							t.Errorf("capability %s names credential %v, which the workflow does not have", name, cr)
						}
					}
				}
			}
			if tc.decision == "PASSED" {
				checkShape(t, "kyx-details.json", fixture(t, "kyx-details.json"), det,
					"/capabilities/extraction/*/data/subType", "/capabilities/extraction/*/data/personalNumber")
				data := obj(det, "capabilities", "extraction", 0, "data")
				for _, f := range []string{"type", "issuingCountry", "firstName", "lastName", "dateOfBirth", "expiryDate", "documentNumber"} {
					if str(data, f) == "" {
						t.Errorf("extraction data has no %s: %v", f, data)
					}
				}
			}
			// Parts: captured ones answer images; an expired workflow has none.
			parts := 0
			for _, cr := range det["credentials"].([]any) {
				for _, p := range obj(cr, "parts").([]any) {
					h := str(p, "href")
					if h == "" {
						continue
					}
					parts++
					code, ctype, img := c.fetch(h, "")
					if code != 200 || ctype != "image/png" {
						t.Fatalf("part %s: %d %s", h, code, ctype)
					}
					if _, err := png.Decode(bytes.NewReader(img)); err != nil {
						t.Errorf("part %s is not a PNG: %v", h, err)
					}
				}
			}
			if captured := tc.final == "PROCESSED"; captured != (parts > 0) {
				t.Errorf("%d part hrefs for a %s workflow", parts, tc.final)
			}
		})
	}
	// A part answers JPEG to a client that takes only JPEG, and needs the
	// bearer token.
	c.t = t
	_, acc := c.do("POST", "/api/v1/accounts", map[string]any{"customerInternalReference": "jpeg-passed", "workflowDefinition": map[string]any{"key": 2}})
	we, account := str(acc, "workflowExecution", "id"), str(acc, "account", "id")
	var det map[string]any
	if !pollOK(func() bool {
		_, det = c.do("GET", "/api/v1/accounts/"+account+"/workflow-executions/"+we, nil)
		return str(det, "workflow", "status") == "PROCESSED"
	}) {
		t.Fatalf("the magic -passed workflow was not processed: %v", det)
	}
	h := str(det, "credentials", 0, "parts", 0, "href")
	if code, ctype, _ := c.fetch(h, "image/jpeg"); code != 200 || ctype != "image/jpeg" {
		t.Errorf("part as JPEG: %d %s", code, ctype)
	}
	anon := &kyxClient{t: t, base: base, tok: "nope", renewAt: time.Now().Add(time.Hour)}
	if code, _, _ := anon.fetch(h, ""); code != 401 {
		t.Errorf("part without a valid token: %d, want 401", code)
	}
	if code, _, _ := c.fetch(strings.Replace(h, "/FRONT", "/FACE", 1), ""); code != 404 {
		t.Errorf("a part the ID credential does not have: %d, want 404", code)
	}
}

// pollOK polls fn for up to 10 s.
func pollOK(fn func() bool) bool {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if fn() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// TestJumioTokenExpiresIn checks expires_in in the caller's real seconds
// at the time scale the sandbox runs at.
func TestJumioTokenExpiresIn(t *testing.T) {
	for _, tc := range []struct {
		scale float64
		want  float64
	}{{1, 3600}, {0.01, 36}, {testTimeScale, 1}} {
		_, base := startSandbox(t, newSink(t), func(o *sandboxapi.Options) { o.TimeScale = tc.scale })
		req := newRequest(t, "POST", base+"/oauth2/token", "grant_type=client_credentials")
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(jumioID, jumioSecret)
		if _, out := call(t, req); out["expires_in"] != tc.want {
			t.Errorf("time scale %v: expires_in %v, want %v", tc.scale, out["expires_in"], tc.want)
		}
	}
}

// TestJumioNotSimulated checks that Jumio operations the sandbox does not
// simulate answer 501 in Jumio's error shape, naming the operation, never
// a 404 that reads like "not found".
func TestJumioNotSimulated(t *testing.T) {
	_, base := startSandbox(t, newSink(t), nil)
	c := newKYXClient(t, base)
	acc, we := newUUIDForTest(), newUUIDForTest()
	for _, tc := range []struct{ method, path, names string }{
		{"GET", "/api/v1/accounts/" + acc + "/workflow-executions/" + we + "/steps", "workflow's steps"},
		{"GET", "/api/v1/accounts/" + acc + "/workflow-executions/" + we + "/rules", "rules"},
		{"GET", "/api/v1/accounts/" + acc + "/workflow-executions/" + we + "/generate", "PDF report"},
		{"DELETE", "/api/v1/accounts/" + acc, "delete an account"},
		{"DELETE", "/api/v1/accounts/" + acc + "/workflow-executions/" + we, "delete a workflow execution"},
		{"GET", "/api/v1/accounts/" + acc + "/something-new", "GET /api/v1/accounts/" + acc + "/something-new"},
		{"PATCH", "/api/v1/accounts/" + acc, "PATCH /api/v1/accounts/" + acc},
	} {
		code, out := c.do(tc.method, tc.path, nil)
		if code != 501 || out["status"] != float64(501) || out["title"] == nil || !strings.Contains(str(out, "detail"), tc.names) {
			t.Errorf("%s %s: %d %v, want 501 naming %q", tc.method, tc.path, code, out, tc.names)
		}
	}
	for _, tc := range []struct{ method, path, names string }{
		{"POST", "/api/netverify/v2/performNetverify", "performNetverify"},
		{"DELETE", "/api/netverify/v2/scans/" + we, "delete a scan"},
		{"GET", "/api/netverify/v2/authentications/" + we, "Authentication retrieval"},
		{"GET", "/api/netverify/v2/documents/" + we, "Document Verification retrieval"},
	} {
		req := newRequest(t, tc.method, base+tc.path, nil)
		req.SetBasicAuth(jumioID, jumioSecret)
		req.Header.Set("User-Agent", testUA)
		req.Header.Set("Accept", "application/json")
		code, out := call(t, req)
		if code != 501 || !strings.Contains(str(out, "detail"), tc.names) {
			t.Errorf("%s %s: %d %v, want 501 naming %q", tc.method, tc.path, code, out, tc.names)
		}
	}
}

// upload posts a part as a multipart form, as Jumio's API channel takes
// it, with the credential's api token.
func upload(t *testing.T, method, u, token string, data []byte) (int, map[string]any) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "part.png")
	fw.Write(data)
	mw.Close()
	req, err := http.NewRequest(method, u, &buf)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("User-Agent", testUA)
	req.Header.Set("Accept", "application/json")
	return call(t, req)
}
