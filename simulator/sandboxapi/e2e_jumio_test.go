package sandboxapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
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

	"github.com/kycsim/kycsim/internal/testpoll"
	"github.com/kycsim/kycsim/simulator/sandboxapi"
)

// jumioFixture reads a vendor example answer from testdata/jumio (sources in
// testdata/jumio/SOURCES.md).
func jumioFixture(t *testing.T, name string) any {
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
	// Slow enough that the 15-minute session (2.7 s) outlasts a user's
	// picking on a loaded machine, fast enough for the expiries to come.
	_, base := startSandbox(t, sink, func(o *sandboxapi.Options) { o.TimeScale = 0.003 })
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
				checkShape(t, "kyx-details.json", jumioFixture(t, "kyx-details.json"), det,
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

// pollOK polls fn with a deadline of 10 s.
func pollOK(fn func() bool) bool { return testpoll.Until(10*time.Second, fn) }

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
		{"POST", "/api/netverify/v2/acquisitions", "document acquisition"},
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

// capturePNG draws a small PNG, as an app's camera capture would be.
func capturePNG(t *testing.T, seed byte) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	img.Pix[0] = seed
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestKYXAPIChannelFlow plays the API channel as a server-side capture
// app does: create the account, upload the ID's front and the selfie's
// face to the api.parts URLs with api.token, finalize; the callbacks
// follow and the retrieval lists the uploaded parts, whose hrefs answer
// the uploaded bytes. A missing part gets Jumio's error.
func TestKYXAPIChannelFlow(t *testing.T) {
	sink := newSink(t)
	// The session (15 minutes, 9 s here) must outlast the uploads.
	_, base := startSandbox(t, sink, func(o *sandboxapi.Options) { o.TimeScale = 0.01 })
	c := newKYXClient(t, base)
	_, acc := c.do("POST", "/api/v1/accounts", map[string]any{"customerInternalReference": "api-1", "workflowDefinition": map[string]any{"key": 3},
		"callbackUrl": sink.srv.URL + "/kyx", "tokenLifetime": "60d"})
	checkShape(t, "kyx-account-api.json", jumioFixture(t, "kyx-account-api.json"), acc)
	we, account := str(acc, "workflowExecution", "id"), str(acc, "account", "id")
	apis := map[string]map[string]any{}
	for _, cr := range obj(acc, "workflowExecution", "credentials").([]any) {
		if api, ok := obj(cr, "api").(map[string]any); ok {
			apis[str(cr, "category")] = api
		}
	}
	id, selfie := apis["ID"], apis["SELFIE"]
	if id == nil || selfie == nil || str(id, "parts", "front") == "" || str(id, "parts", "back") == "" || str(selfie, "parts", "face") == "" {
		t.Fatalf("the account answer has no API channel for the ID and the selfie: %v", acc)
	}
	token := str(id, "token")
	finalize := func(tok string) (int, map[string]any) {
		req := newRequest(t, "PUT", str(id, "workflowExecution"), nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("User-Agent", testUA)
		req.Header.Set("Accept", "application/json")
		return call(t, req)
	}
	// Finalizing before the parts are there is Jumio's error, naming them.
	if code, out := finalize(token); code != 400 || !strings.Contains(str(out, "detail"), "ID FRONT") || !strings.Contains(str(out, "detail"), "SELFIE FACE") {
		t.Errorf("finalize without parts: %d %v, want 400 naming ID FRONT and SELFIE FACE", code, out)
	}
	front, face := capturePNG(t, 1), capturePNG(t, 2)
	code, up := upload(t, "POST", str(id, "parts", "front"), token, front)
	if code != 200 {
		t.Fatalf("upload front: %d %v", code, up)
	}
	checkShape(t, "kyx-part-upload.json", jumioFixture(t, "kyx-part-upload.json"), up)
	sink.wait(t, "ACQUISITION_STARTED", func(cs []gotCallback) bool { return anyHas(cs, we, "ACQUISITION_STARTED") })
	if code, out := finalize(token); code != 400 || !strings.Contains(str(out, "detail"), "SELFIE FACE") || strings.Contains(str(out, "detail"), "ID FRONT") {
		t.Errorf("finalize without the face: %d %v, want 400 naming SELFIE FACE only", code, out)
	}
	// The rules of an upload.
	for _, tc := range []struct {
		name, url, token string
		data             []byte
		want             int
	}{
		{"not an image", str(selfie, "parts", "face"), token, []byte("%PDF-1.4 not an image"), 400},
		{"no token", str(selfie, "parts", "face"), "", face, 401},
		{"forged token", str(selfie, "parts", "face"), token[:len(token)-4] + "0000", face, 401},
		{"a classifier the credential has not", strings.Replace(str(selfie, "parts", "face"), "/FACE", "/FRONT", 1), token, face, 400},
		{"unknown credential", strings.Replace(str(selfie, "parts", "face"), we+"/credentials/", we+"/credentials/0", 1), token, face, 404},
	} {
		if code, out := upload(t, "POST", tc.url, tc.token, tc.data); code != tc.want {
			t.Errorf("%s: %d %v, want %d", tc.name, code, out, tc.want)
		}
	}
	// Another workflow's token does not open this one.
	_, other := c.do("POST", "/api/v1/accounts", map[string]any{"customerInternalReference": "api-2", "workflowDefinition": map[string]any{"key": 3}, "tokenLifetime": "60d"})
	otherToken := str(other, "workflowExecution", "credentials", 0, "api", "token")
	if code, _ := upload(t, "POST", str(selfie, "parts", "face"), otherToken, face); code != 401 {
		t.Errorf("another workflow's token: %d, want 401", code)
	}
	// An upload again replaces the part (PUT); the OAuth token works too.
	if code, out := upload(t, "PUT", str(selfie, "parts", "face"), c.token(), face); code != 200 {
		t.Fatalf("upload face: %d %v", code, out)
	}
	code, fin := finalize(token)
	if code != 200 {
		t.Fatalf("finalize: %d %v", code, fin)
	}
	checkShape(t, "kyx-finalize.json", jumioFixture(t, "kyx-finalize.json"), fin)
	if code, _ := finalize(token); code != 409 {
		t.Errorf("finalize twice: %d, want 409", code)
	}
	if code, _ := upload(t, "POST", str(id, "parts", "back"), token, front); code != 409 {
		t.Errorf("upload after finalizing: %d, want 409", code)
	}
	got := sink.wait(t, "PROCESSED", func(cs []gotCallback) bool { return anyHas(cs, we, `"PROCESSED"`) })
	cb, _ := find(got, we, `"PROCESSED"`)
	var callback map[string]any
	json.Unmarshal(cb.Body, &callback)
	_, det := c.do("GET", str(callback, "workflowExecution", "href"), nil)
	if str(det, "workflow", "status") != "PROCESSED" || str(det, "decision", "type") != "PASSED" || str(det, "account", "id") != account {
		t.Fatalf("retrieval after finalize: %v", det)
	}
	uploaded := map[string][]byte{"FRONT": front, "FACE": face}
	n := 0
	for _, cr := range det["credentials"].([]any) {
		for _, p := range obj(cr, "parts").([]any) {
			cl := str(p, "classifier")
			want, ok := uploaded[cl]
			if !ok {
				t.Errorf("retrieval lists part %s, which was never uploaded", cl)
				continue
			}
			n++
			code, ctype, b := c.fetch(str(p, "href"), "")
			if code != 200 || ctype != "image/png" || !bytes.Equal(b, want) {
				t.Errorf("part %s: %d %s, %d bytes; want the %d bytes uploaded", cl, code, ctype, len(b), len(want))
			}
		}
	}
	if n != 2 {
		t.Errorf("%d parts listed, want FRONT and FACE", n)
	}
	if d := capDecisions(det); !slices.Equal(d["liveness"], []string{"PASSED/OK"}) || !slices.Equal(d["similarity"], []string{"PASSED/OK"}) {
		t.Errorf("capabilities of the API channel: %v", d)
	}
}

// netverifyGet is a Netverify retrieval as the guide shows it: HTTP
// Basic, Accept and User-Agent.
func netverifyGet(t *testing.T, u, accept string) (int, string, []byte) {
	t.Helper()
	req := newRequest(t, "GET", u, nil)
	req.SetBasicAuth(jumioID, jumioSecret)
	req.Header.Set("User-Agent", testUA)
	req.Header.Set("Accept", accept)
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	checkResponse(t, req, resp, b)
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

func netverifyJSON(t *testing.T, u string) (int, map[string]any) {
	t.Helper()
	code, _, b := netverifyGet(t, u, "application/json")
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s: %v: %s", u, err, b)
	}
	return code, out
}

// TestNetverifyRetrievalOutcomes plays Netverify as an app does, once per
// outcome: initiate, the outcome is picked, the callback arrives, and the
// app retrieves the scan, its data by part and its images. Retrieval
// agrees with the callback; an approval carries liveness images in the
// callback and the image list, and every image URL answers an image.
func TestNetverifyRetrievalOutcomes(t *testing.T) {
	sink := newSink(t)
	_, base := startSandbox(t, sink, nil)
	for _, tc := range []struct{ status, reason, scan string }{
		{"APPROVED_VERIFIED", "", "DONE"},
		{"DENIED_FRAUD", "107", "DONE"},
		{"ERROR_NOT_READABLE_ID", "206", "DONE"},
		{"DENIED_UNSUPPORTED_ID_TYPE", "", "DONE"},
		{"NO_ID_UPLOADED", "", "FAILED"},
	} {
		t.Run(tc.status, func(t *testing.T) {
			req := newRequest(t, "POST", base+"/api/v4/initiate", map[string]any{"customerInternalReference": "nv-" + tc.status, "userReference": "user-" + tc.status,
				"reportingCriteria": "crit", "callbackUrl": sink.srv.URL + "/nv"})
			req.SetBasicAuth(jumioID, jumioSecret)
			req.Header.Set("User-Agent", testUA)
			req.Header.Set("Accept", "application/json")
			_, ini := call(t, req)
			ref := str(ini, "transactionReference")
			scans := base + "/api/netverify/v2/scans/" + ref
			if code, out := netverifyJSON(t, scans); code != 200 || out["status"] != "PENDING" {
				t.Errorf("before the callback: %d %v, want PENDING", code, out)
			}
			if code, _ := netverifyJSON(t, scans+"/data/document"); code != 404 {
				t.Errorf("document data before the callback: %d, want 404", code)
			}
			if code, out := call(t, newRequest(t, "POST", base+"/_sandbox/netverify/"+ref+"/outcome", map[string]any{"outcome": tc.status, "reason": tc.reason})); code != 202 {
				t.Fatalf("outcome: %d %v", code, out)
			}
			got := sink.wait(t, tc.status, func(cs []gotCallback) bool { return anyHas(cs, "jumioIdScanReference="+ref) })
			cb, _ := find(got, "jumioIdScanReference="+ref)
			form, err := url.ParseQuery(string(cb.Body))
			if err != nil {
				t.Fatal(err)
			}
			var scan map[string]any
			if !pollOK(func() bool { _, scan = netverifyJSON(t, scans); return scan["status"] == tc.scan }) {
				t.Fatalf("scan status %v, want %s", scan["status"], tc.scan)
			}
			_, doc := netverifyJSON(t, scans+"/data/document")
			_, tx := netverifyJSON(t, scans+"/data/transaction")
			_, ver := netverifyJSON(t, scans+"/data/verification")
			_, data := netverifyJSON(t, scans+"/data")
			_, imgs := netverifyJSON(t, scans+"/images")
			checkShape(t, "netverify-transaction.json", jumioFixture(t, "netverify-transaction.json"), tx)
			if doc["status"] != form.Get("verificationStatus") || str(data, "document", "status") != form.Get("verificationStatus") {
				t.Errorf("document status %v / %v, the callback says %s", doc["status"], obj(data, "document", "status"), form.Get("verificationStatus"))
			}
			for f, field := range map[string]string{"type": "idType", "issuingCountry": "idCountry", "firstName": "idFirstName", "lastName": "idLastName", "dob": "idDob", "expiry": "idExpiry", "number": "idNumber"} {
				if str(doc, f) != form.Get(field) {
					t.Errorf("document %s = %q, the callback's %s = %q", f, str(doc, f), field, form.Get(field))
				}
			}
			if str(tx, "merchantScanReference") != form.Get("merchantIdScanReference") || str(tx, "customerId") != form.Get("customerId") ||
				str(tx, "clientIp") != form.Get("clientIp") || str(tx, "source") != form.Get("idScanSource") || str(tx, "merchantReportingCriteria") != "crit" {
				t.Errorf("transaction %v does not agree with the callback %v", tx, form)
			}
			if code := form.Get("rejectReason"); code != "" && !strings.Contains(code, fmt.Sprintf("%q", str(ver, "rejectReason", "rejectReasonCode"))) {
				t.Errorf("verification rejectReason %v, the callback's %s", ver["rejectReason"], code)
			}
			// Images: the list names what the callback named, and each answers.
			listed := map[string]bool{}
			for _, im := range imgs["images"].([]any) {
				listed[str(im, "classifier")] = true
				code, ctype, b := netverifyGet(t, str(im, "href"), "image/jpeg, image/png")
				if code != 200 || ctype != "image/png" {
					t.Errorf("image %s: %d %s", str(im, "href"), code, ctype)
				} else if _, err := png.Decode(bytes.NewReader(b)); err != nil {
					t.Errorf("image %s: %v", str(im, "href"), err)
				}
			}
			for field, cl := range map[string]string{"idScanImage": "front", "idScanImageBackside": "back", "idScanImageFace": "face"} {
				if u := form.Get(field); (u != "") != listed[cl] || (u != "" && u != scans+"/images/"+cl) {
					t.Errorf("callback %s = %q, image list has %s: %v", field, u, cl, listed[cl])
				}
			}
			var liveness []string
			if l := form.Get("livenessImages"); l != "" {
				if err := json.Unmarshal([]byte(l), &liveness); err != nil {
					t.Fatalf("livenessImages is not a JSON array: %v", err)
				}
			}
			if approved := tc.status == "APPROVED_VERIFIED"; approved != (len(liveness) > 0) || approved != (form.Get("idScanImageFace") != "") {
				t.Errorf("%s: %d liveness images, face %q; want both exactly when the face was checked", tc.status, len(liveness), form.Get("idScanImageFace"))
			}
			if listedL, _ := imgs["livenessImages"].([]any); len(listedL) != len(liveness) {
				t.Errorf("image list has %d liveness images, the callback %d", len(listedL), len(liveness))
			}
			for _, u := range liveness {
				if code, ctype, _ := netverifyGet(t, u, "image/jpeg"); code != 200 || ctype != "image/jpeg" {
					t.Errorf("liveness image %s: %d %s", u, code, ctype)
				}
			}
			if tc.status == "APPROVED_VERIFIED" {
				checkShape(t, "netverify-images.json", jumioFixture(t, "netverify-images.json"), imgs)
				checkShape(t, "netverify-document.json", jumioFixture(t, "netverify-document.json"), doc, "/issuingDate")
				checkShape(t, "netverify-verification.json", jumioFixture(t, "netverify-verification.json"), ver)
				if form.Get("idScanSource") != "SDK" {
					t.Errorf("liveness images with source %s; the guide gives them to SDK captures only", form.Get("idScanSource"))
				}
				if code, _, _ := netverifyGet(t, fmt.Sprintf("%s/images/liveness/%d", scans, len(liveness)+1), "image/png"); code != 404 {
					t.Errorf("a liveness image past the last: %d, want 404", code)
				}
			}
		})
	}
}
