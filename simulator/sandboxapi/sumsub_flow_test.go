package sandboxapi_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycsim/kycsim/internal/testpoll"
	"github.com/kycsim/kycsim/simulator/sandbox"
	"github.com/kycsim/kycsim/simulator/sandboxapi"
)

// sumsubApp is what an app's Sumsub client does, written here so that
// the test owns every byte: it signs each request (X-App-Token,
// X-App-Access-Ts, X-App-Access-Sig over ts + method + path with query +
// body) and decodes the answers.
type sumsubApp struct {
	t              *testing.T
	base           string
	token, secret  string
	http           *http.Client
	lastImageID    string
	lastStatusCode int
}

func newSumsubApp(t *testing.T, base string) *sumsubApp {
	// The timeout bounds an upload of megabytes under the race detector.
	return &sumsubApp{t: t, base: base, token: appToken, secret: appSecret, http: &http.Client{Timeout: 60 * time.Second}}
}

// answer is a decoded answer.
type answer struct {
	status int
	header http.Header
	body   []byte
	json   map[string]any
}

// do sends a signed request; contentType "" sends JSON.
func (a *sumsubApp) do(method, pathQuery string, body []byte, contentType string, header ...string) answer {
	a.t.Helper()
	req, err := http.NewRequest(method, a.base+pathQuery, bytes.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	if contentType == "" {
		contentType = "application/json"
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	m := hmac.New(sha256.New, []byte(a.secret))
	m.Write([]byte(ts + method + req.URL.RequestURI()))
	m.Write(body)
	req.Header.Set("X-App-Token", a.token)
	req.Header.Set("X-App-Access-Ts", ts)
	req.Header.Set("X-App-Access-Sig", hex.EncodeToString(m.Sum(nil)))
	resp, err := a.http.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	req.Body = io.NopCloser(bytes.NewReader(body))
	checkResponse(a.t, req, resp, b)
	out := answer{status: resp.StatusCode, header: resp.Header, body: b}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(b, &out.json); err != nil && !bytes.HasPrefix(bytes.TrimSpace(b), []byte("[")) {
			a.t.Fatalf("%s %s: answer is not JSON: %v: %s", method, pathQuery, err, b)
		}
	}
	return out
}

// json sends a signed JSON request.
func (a *sumsubApp) jsonCall(method, pathQuery string, body any) answer {
	a.t.Helper()
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			a.t.Fatal(err)
		}
	}
	return a.do(method, pathQuery, b, "")
}

// upload sends a document the way Sumsub's examples do: multipart
// metadata JSON and content file, the whole body signed.
func (a *sumsubApp) upload(applicantID, metadata, fileName, fileType string, content []byte, warnings bool) answer {
	a.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if metadata != "" {
		mw.WriteField("metadata", metadata)
	}
	if content != nil {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="content"; filename=%q`, fileName))
		h.Set("Content-Type", fileType)
		w, _ := mw.CreatePart(h)
		w.Write(content)
	}
	mw.Close()
	var header []string
	if warnings {
		header = []string{"X-Return-Doc-Warnings", "true"}
	}
	return a.do("POST", "/resources/applicants/"+applicantID+"/info/idDoc", buf.Bytes(), mw.FormDataContentType(), header...)
}

// fixture is an example answer of Sumsub's kept in testdata/sumsub.
type fixture struct {
	Operation string   `json:"operation"`
	Status    int      `json:"status"`
	Sources   []string `json:"sources"`
	Example   any      `json:"example"`
}

func loadFixture(t *testing.T, name string) fixture {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "sumsub", name))
	if err != nil {
		t.Fatal(err)
	}
	var f fixture
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(f.Sources) == 0 {
		t.Fatalf("%s names no source", name)
	}
	return f
}

// jsonType names a JSON value's type.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// shapeDiff lists where got lacks a member of the example or has it with
// another JSON type (a null in the example takes any type); arrays are
// compared by their first elements.
func shapeDiff(ptr string, example, got any) []string {
	if example == nil {
		return nil
	}
	if jsonType(example) != jsonType(got) {
		return []string{fmt.Sprintf("%s: %s, want %s", cmpPtr(ptr), jsonType(got), jsonType(example))}
	}
	var out []string
	switch ex := example.(type) {
	case map[string]any:
		g := got.(map[string]any)
		for k, v := range ex {
			gv, ok := g[k]
			if !ok {
				out = append(out, fmt.Sprintf("%s/%s: missing", ptr, k))
				continue
			}
			out = append(out, shapeDiff(ptr+"/"+k, v, gv)...)
		}
	case []any:
		g := got.([]any)
		if len(ex) > 0 && len(g) > 0 {
			out = append(out, shapeDiff(ptr+"/0", ex[0], g[0])...)
		}
	}
	return out
}

func cmpPtr(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

// checkFixture checks an answer against an example answer of Sumsub's:
// the status, and each member's name, type and nesting.
func checkFixture(t *testing.T, name string, a answer) {
	t.Helper()
	f := loadFixture(t, name)
	if a.status != f.Status {
		t.Errorf("%s: status %d, want %d (%s): %s", f.Operation, a.status, f.Status, name, a.body)
	}
	var got any
	if err := json.Unmarshal(a.body, &got); err != nil {
		t.Fatalf("%s: %v", f.Operation, err)
	}
	for _, d := range shapeDiff("", f.Example, got) {
		t.Errorf("%s: %s (example answer %s)", f.Operation, d, name)
	}
}

// TestShapeDiffCanFail makes sure the fixture comparison sees a missing
// member, a wrong type and a wrong nesting.
func TestShapeDiffCanFail(t *testing.T) {
	ex := map[string]any{"a": "x", "b": map[string]any{"c": 1.0}, "d": []any{map[string]any{"e": true}}, "n": nil}
	for name, got := range map[string]map[string]any{
		"missing":  {"b": map[string]any{"c": 1.0}, "d": []any{}},
		"type":     {"a": 1.0, "b": map[string]any{"c": 1.0}, "d": []any{}},
		"nesting":  {"a": "x", "c": 1.0, "b": map[string]any{}, "d": []any{}},
		"in array": {"a": "x", "b": map[string]any{"c": 1.0}, "d": []any{map[string]any{"e": "true"}}},
	} {
		if len(shapeDiff("", ex, got)) == 0 {
			t.Errorf("%s: no difference found", name)
		}
	}
	if d := shapeDiff("", ex, map[string]any{"a": "y", "b": map[string]any{"c": 2.0, "z": 1.0}, "d": []any{map[string]any{"e": false}}, "n": "v"}); len(d) != 0 {
		t.Errorf("same shape: %v", d)
	}
}

// pngBytes is a 1x1 PNG.
var pngBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")

// jpegBytes starts like a JPEG.
var jpegBytes = append([]byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"), bytes.Repeat([]byte{0x42}, 200)...)

// webhookOf waits for the Sumsub webhook of a type about an applicant
// and decodes it.
func webhookOf(t *testing.T, sink *callbackSink, typ, applicantID string, n int) map[string]any {
	t.Helper()
	var found []gotCallback
	sink.wait(t, fmt.Sprintf("%d %s of %s", n, typ, applicantID), func(cs []gotCallback) bool {
		found = found[:0]
		for _, c := range cs {
			if has(c, `"type":"`+typ+`"`, applicantID) {
				found = append(found, c)
			}
		}
		return len(found) >= n
	})
	var out map[string]any
	if err := json.Unmarshal(found[n-1].Body, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSumsubIntegrationFlow plays Sumsub's documented API flow as an app
// does (docs.sumsub.com/reference/get-started-with-api): create an
// applicant, an access token for the SDK, upload the documents, request
// the check, the webhook, the status; then the calls around it (fixedInfo,
// reset, images, health) and what an app gets wrong.
func TestSumsubIntegrationFlow(t *testing.T) {
	sink := newSink(t)
	_, base := startSandbox(t, sink, nil)
	app := newSumsubApp(t, base)

	if a := app.do("GET", "/resources/status/api", nil, ""); a.status != 200 {
		t.Fatalf("health: %d %s", a.status, a.body)
	}

	// 1. Create the applicant with everything an app sends.
	create := map[string]any{
		"externalUserId": "flow-user-1", "email": "flow@example.com", "phone": "+449112081223", "lang": "de",
		"sourceKey": "web", "type": "individual",
		"fixedInfo": map[string]any{"firstName": "Anna", "lastName": "Muster", "dob": "1990-01-02", "country": "DEU"},
		"metadata":  []any{map[string]any{"key": "plan", "value": "gold"}},
	}
	a := app.jsonCall("POST", "/resources/applicants?levelName=basic-kyc-level", create)
	checkFixture(t, "create-applicant.json", a)
	id, _ := a.json["id"].(string)
	if id == "" {
		t.Fatalf("create: no id: %s", a.body)
	}
	inspection := a.json["inspectionId"].(string)
	keptFields := func(what string, got map[string]any) {
		t.Helper()
		for _, k := range []string{"externalUserId", "email", "phone", "lang", "sourceKey", "type"} {
			if got[k] != create[k] {
				t.Errorf("%s: %s = %v, want %v as sent", what, k, got[k], create[k])
			}
		}
		if mustJSON(got["fixedInfo"]) != mustJSON(create["fixedInfo"]) || mustJSON(got["metadata"]) != mustJSON(create["metadata"]) {
			t.Errorf("%s: fixedInfo %v, metadata %v; want them as sent", what, got["fixedInfo"], got["metadata"])
		}
		if got["info"].(map[string]any)["lastName"] != "Muster" {
			t.Errorf("%s: info %v does not carry the fixedInfo", what, got["info"])
		}
	}
	keptFields("create", a.json)
	created := webhookOf(t, sink, "applicantCreated", id, 1)
	if created["externalUserId"] != "flow-user-1" || created["levelName"] != "basic-kyc-level" || created["reviewStatus"] != "init" {
		t.Errorf("applicantCreated: %v", created)
	}

	// The applicant by id and by externalUserId, as kept.
	for _, p := range []string{"/resources/applicants/" + id + "/one", "/resources/applicants/-;externalUserId=flow-user-1/one"} {
		one := app.do("GET", p, nil, "")
		checkFixture(t, "create-applicant.json", answer{status: 201, body: one.body})
		if one.status != 200 || one.json["id"] != id {
			t.Fatalf("GET %s: %d %s", p, one.status, one.body)
		}
		keptFields("GET "+p, one.json)
	}
	if a := app.do("GET", "/resources/applicants/-;externalUserId=nobody/one", nil, ""); a.status != 404 || a.json["code"] != 404.0 {
		t.Errorf("unknown externalUserId: %d %s", a.status, a.body)
	}

	// 2. An access token for the WebSDK; it opens the page of this
	// applicant.
	a = app.jsonCall("POST", "/resources/accessTokens/sdk", map[string]any{"userId": "flow-user-1", "levelName": "basic-kyc-level", "ttlInSecs": 600,
		"applicantIdentifiers": map[string]any{"email": "flow@example.com"}})
	checkFixture(t, "access-token.json", a)
	if a.json["userId"] != "flow-user-1" {
		t.Errorf("access token userId = %v", a.json["userId"])
	}
	if page := openLink(t, base+"/websdk/"+url.PathEscape(a.json["token"].(string))); !strings.Contains(page, "/web/"+id+"?cap=") {
		t.Errorf("the access token opens %s, want the page of applicant %s", page, id)
	}
	a = app.do("POST", "/resources/accessTokens?userId=flow-user-1&levelName=basic-kyc-level&ttlInSecs=600", nil, "")
	checkFixture(t, "access-token.json", a)

	// 3. Upload the documents.
	a = app.upload(id, `{"idDocType":"PASSPORT","country":"DEU"}`, "passport.png", "image/png", pngBytes, true)
	checkFixture(t, "add-id-doc.json", a)
	passport := a.header.Get("X-Image-Id")
	if _, err := strconv.ParseInt(passport, 10, 64); err != nil {
		t.Fatalf("X-Image-Id %q: %v", passport, err)
	}
	a = app.upload(id, `{"idDocType":"SELFIE","country":"DEU"}`, "selfie.jpg", "image/jpeg", jpegBytes, false)
	if a.status != 200 || a.header.Get("X-Image-Id") == "" {
		t.Fatalf("selfie upload: %d %s", a.status, a.body)
	}
	if _, ok := a.json["errors"]; ok {
		t.Errorf("errors answered without X-Return-Doc-Warnings: %s", a.body)
	}
	// The stored bytes come back with their type.
	img := app.do("GET", "/resources/inspections/"+inspection+"/resources/"+passport, nil, "")
	if img.status != 200 || img.header.Get("Content-Type") != "image/png" || !bytes.Equal(img.body, pngBytes) {
		t.Errorf("image: %d %q, %d bytes", img.status, img.header.Get("Content-Type"), len(img.body))
	}
	if a := app.do("GET", "/resources/inspections/otherinspection/resources/"+passport, nil, ""); a.status != 404 {
		t.Errorf("image of another inspection: %d, want 404", a.status)
	}
	steps := app.do("GET", "/resources/applicants/"+id+"/requiredIdDocsStatus", nil, "")
	if steps.status != 200 || steps.json["IDENTITY"] == nil || steps.json["SELFIE"] == nil {
		t.Fatalf("requiredIdDocsStatus after the uploads: %d %s", steps.status, steps.body)
	}
	if ids := steps.json["IDENTITY"].(map[string]any)["imageIds"].([]any); len(ids) != 1 || strconv.Itoa(int(ids[0].(float64))) != passport {
		t.Errorf("IDENTITY imageIds = %v, want [%s]", ids, passport)
	}

	// 4. Request the check; the review completes (sandbox).
	if a := app.do("POST", "/resources/applicants/"+id+"/status/pending?reason=docs", nil, ""); a.status != 200 || a.json["ok"] != 1.0 {
		t.Fatalf("pending: %d %s", a.status, a.body)
	}
	pending := webhookOf(t, sink, "applicantPending", id, 1)
	if st := app.do("GET", "/resources/applicants/"+id+"/status", nil, ""); st.json["reviewStatus"] != pending["reviewStatus"] {
		t.Errorf("status %v after applicantPending with %v", st.json["reviewStatus"], pending["reviewStatus"])
	}
	if a := app.jsonCall("POST", "/resources/applicants/"+id+"/status/testCompleted", map[string]any{"reviewAnswer": "GREEN", "rejectLabels": []string{}}); a.status != 200 {
		t.Fatalf("testCompleted: %d %s", a.status, a.body)
	}

	// 5. The webhook, then the status it announces.
	reviewed := webhookOf(t, sink, "applicantReviewed", id, 1)
	if reviewed["reviewResult"].(map[string]any)["reviewAnswer"] != "GREEN" || reviewed["externalUserId"] != "flow-user-1" {
		t.Errorf("applicantReviewed: %v", reviewed)
	}
	st := app.do("GET", "/resources/applicants/"+id+"/status", nil, "")
	checkFixture(t, "review-status-completed.json", st)
	if st.json["reviewStatus"] != reviewed["reviewStatus"] || st.json["attemptCnt"] != 1.0 {
		t.Errorf("status %s after applicantReviewed %v", st.body, reviewed["reviewStatus"])
	}
	createDate, err1 := time.Parse("2006-01-02 15:04:05-0700", st.json["createDate"].(string))
	reviewDate, err2 := time.Parse("2006-01-02 15:04:05-0700", st.json["reviewDate"].(string))
	if err1 != nil || err2 != nil || reviewDate.Before(createDate) {
		t.Errorf("createDate %v, reviewDate %v: %v %v", st.json["createDate"], st.json["reviewDate"], err1, err2)
	}
	one := app.do("GET", "/resources/applicants/"+id+"/one", nil, "")
	if one.json["review"].(map[string]any)["reviewDate"] != st.json["reviewDate"] {
		t.Errorf("/one review %v, /status %s", one.json["review"], st.body)
	}
	steps = app.do("GET", "/resources/applicants/"+id+"/requiredIdDocsStatus", nil, "")
	checkFixture(t, "required-id-docs-status.json", steps)
	if a := app.do("POST", "/resources/applicants/"+id+"/status/pending", nil, ""); a.status != 409 {
		t.Errorf("pending after GREEN: %d, want 409", a.status)
	}

	// The app changes what it provided; the webhook says so, with the
	// review the API answers.
	a = app.jsonCall("PATCH", "/resources/applicants/"+id+"/fixedInfo", map[string]any{"lastName": "Beispiel"})
	if a.status != 200 || a.json["lastName"] != "Beispiel" || a.json["firstName"] != "Anna" {
		t.Errorf("fixedInfo: %d %s", a.status, a.body)
	}
	changed := webhookOf(t, sink, "applicantPersonalInfoChanged", id, 1)
	if changed["reviewStatus"] != "completed" || changed["reviewResult"].(map[string]any)["reviewAnswer"] != "GREEN" {
		t.Errorf("applicantPersonalInfoChanged after GREEN: %v", changed)
	}
	a = app.jsonCall("PATCH", "/resources/applicants", map[string]any{"id": id, "email": "new@example.com"})
	if a.status != 200 || a.json["email"] != "new@example.com" || a.json["fixedInfo"].(map[string]any)["lastName"] != "Beispiel" {
		t.Errorf("top-level info: %d %s", a.status, a.body)
	}
	webhookOf(t, sink, "applicantPersonalInfoChanged", id, 2)

	// Reset: init again, documents no longer count.
	if a := app.do("POST", "/resources/applicants/"+id+"/reset", nil, ""); a.status != 200 || a.json["ok"] != 1.0 {
		t.Fatalf("reset: %d %s", a.status, a.body)
	}
	reset := webhookOf(t, sink, "applicantReset", id, 1)
	if reset["reviewStatus"] != "init" {
		t.Errorf("applicantReset: %v", reset)
	}
	if _, ok := reset["reviewResult"]; ok {
		t.Errorf("applicantReset carries a reviewResult: %v", reset)
	}
	st = app.do("GET", "/resources/applicants/"+id+"/status", nil, "")
	if st.json["reviewStatus"] != "init" || st.json["reviewResult"] != nil || st.json["reviewDate"] != nil {
		t.Errorf("status after reset: %s", st.body)
	}
	steps = app.do("GET", "/resources/applicants/"+id+"/requiredIdDocsStatus", nil, "")
	if steps.json["IDENTITY"] != nil || steps.json["SELFIE"] != nil {
		t.Errorf("requiredIdDocsStatus after reset: %s", steps.body)
	}
	a = app.jsonCall("PATCH", "/resources/applicants/"+id+"/fixedInfo", map[string]any{"firstName": "Berta"})
	changed = webhookOf(t, sink, "applicantPersonalInfoChanged", id, 3)
	if changed["reviewStatus"] != "init" || changed["reviewResult"] != nil {
		t.Errorf("applicantPersonalInfoChanged after reset: %v", changed)
	}
	// A new attempt after the reset.
	app.upload(id, `{"idDocType":"ID_CARD","idDocSubType":"FRONT_SIDE","country":"DEU"}`, "front.jpg", "image/jpeg", jpegBytes, false)
	if a := app.do("POST", "/resources/applicants/"+id+"/status/pending", nil, ""); a.status != 200 {
		t.Errorf("pending after reset: %d %s", a.status, a.body)
	}
}

// TestSumsubWebSDKLinkFlow plays the WebSDK link flow: the app asks for a
// link, the user opens it (the applicant is created then), the review
// ends on the page, the app reads the applicant by its externalUserId.
func TestSumsubWebSDKLinkFlow(t *testing.T) {
	sink := newSink(t)
	_, base := startSandbox(t, sink, nil)
	app := newSumsubApp(t, base)

	a := app.jsonCall("POST", "/resources/sdkIntegrations/levels/-/websdkLink", map[string]any{
		"levelName": "basic-kyc-level", "userId": "link-user-1", "ttlInSecs": 1800,
		"applicantIdentifiers": map[string]any{"email": "link@example.com", "phone": "+15550000000"},
	})
	checkFixture(t, "websdk-link.json", a)
	if a := app.do("GET", "/resources/applicants/-;externalUserId=link-user-1/one", nil, ""); a.status != 404 {
		t.Errorf("an applicant exists before the link was opened: %d %s", a.status, a.body)
	}
	page := openLink(t, a.json["url"].(string))
	one := app.do("GET", "/resources/applicants/-;externalUserId=link-user-1/one", nil, "")
	if one.status != 200 || one.json["email"] != "link@example.com" || one.json["phone"] != "+15550000000" ||
		one.json["review"].(map[string]any)["levelName"] != "basic-kyc-level" || !strings.Contains(page, "/web/"+one.json["id"].(string)+"?cap=") {
		t.Fatalf("applicant of the link: %d %s (page %s)", one.status, one.body, page)
	}
	id := one.json["id"].(string)
	webhookOf(t, sink, "applicantCreated", id, 1)
	resp, err := http.PostForm(page, url.Values{"outcome": {"RED"}, "reason": {"SCREENSHOTS"}, "rejectType": {"RETRY"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	reviewed := webhookOf(t, sink, "applicantReviewed", id, 1)
	st := app.do("GET", "/resources/applicants/"+id+"/status", nil, "")
	rr, _ := st.json["reviewResult"].(map[string]any)
	if st.json["reviewStatus"] != reviewed["reviewStatus"] || rr["reviewAnswer"] != "RED" || rr["reviewRejectType"] != "RETRY" || st.json["reviewDate"] == nil {
		t.Errorf("status after the page's RED: %s", st.body)
	}
	// RETRY: the app may request a check again (a new attempt).
	if a := app.do("POST", "/resources/applicants/"+id+"/status/pending", nil, ""); a.status != 200 {
		t.Errorf("pending after RED RETRY: %d %s", a.status, a.body)
	}
	if st := app.do("GET", "/resources/applicants/"+id+"/status", nil, ""); st.json["attemptCnt"] != 2.0 || st.json["reviewStatus"] != "pending" {
		t.Errorf("second attempt: %s", st.body)
	}

	// The older form: the level in the path, the user in the query.
	a = app.do("POST", "/resources/sdkIntegrations/levels/kyc-level-2/websdkLink?ttlInSecs=600&externalUserId=link-user-2&lang=en", []byte("{}"), "")
	checkFixture(t, "websdk-link.json", a)
	openLink(t, a.json["url"].(string))
	if one := app.do("GET", "/resources/applicants/-;externalUserId=link-user-2/one", nil, ""); one.status != 200 ||
		one.json["review"].(map[string]any)["levelName"] != "kyc-level-2" || one.json["lang"] != "en" {
		t.Errorf("applicant of the older link: %d %s", one.status, one.body)
	}

	for name, tc := range map[string]struct {
		path string
		body any
	}{
		"no level in the body": {"/resources/sdkIntegrations/levels/-/websdkLink", map[string]any{"userId": "x"}},
		"no user in the query": {"/resources/sdkIntegrations/levels/basic-kyc-level/websdkLink", nil},
		"token without level":  {"/resources/accessTokens/sdk", map[string]any{"userId": "x"}},
		"token without user":   {"/resources/accessTokens/sdk", map[string]any{"levelName": "basic-kyc-level"}},
	} {
		if a := app.jsonCall("POST", tc.path, tc.body); a.status != 400 || a.json["code"] != 400.0 || a.json["description"] == "" {
			t.Errorf("%s: %d %s, want 400 in Sumsub's shape", name, a.status, a.body)
		}
	}
	// A token of another sandbox, or a forged one, opens nothing.
	resp, err = http.Get(base + "/websdk/_act-sbx-eyJ1IjoieCIsIngiOjk5OTk5OTk5OTk5OTl9.00")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("forged token: %d, want 401", resp.StatusCode)
	}
}

// TestSumsubTokenExpires checks that an access token stops opening the
// page after ttlInSecs of sandbox time.
func TestSumsubTokenExpires(t *testing.T) {
	sink := newSink(t)
	in, base := startSandbox(t, sink, nil)
	app := newSumsubApp(t, base)
	a := app.jsonCall("POST", "/resources/accessTokens/sdk", map[string]any{"userId": "exp-user", "levelName": "basic-kyc-level", "ttlInSecs": 1})
	// Sandbox time runs 10000 times faster: 2 s of it pass in 0.2 ms.
	deadline := in.Clock.Now().Add(2 * time.Second)
	if !testpoll.Until(5*time.Second, func() bool { return in.Clock.Now().After(deadline) }) {
		t.Fatal("the sandbox clock did not move 2 s on")
	}
	resp, err := http.Get(base + "/websdk/" + a.json["token"].(string))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 401 || !bytes.Contains(b, []byte("expired")) {
		t.Errorf("expired token: %d %s", resp.StatusCode, b)
	}
}

// TestSumsubDocumentErrors checks the answers to uploads Sumsub refuses.
func TestSumsubDocumentErrors(t *testing.T) {
	sink := newSink(t)
	_, base := startSandbox(t, sink, nil)
	app := newSumsubApp(t, base)
	id := app.jsonCall("POST", "/resources/applicants?levelName=basic-kyc-level", map[string]any{"externalUserId": "doc-user"}).json["id"].(string)

	a := app.upload(id, `{"idDocType":"PASSPORT","country":"DEU"}`, "notes.png", "image/png", []byte("this is text, not an image"), false)
	checkFixture(t, "error.json", a)
	if a.json["errorName"] != "corrupted-file" {
		t.Errorf("text sent as a PNG: %s", a.body)
	}
	const meta = `{"idDocType":"PASSPORT","country":"DEU"}`
	for name, tc := range map[string]struct {
		metadata  string
		fileType  string
		status    int
		place     string
		errorName string
	}{
		"no metadata":        {"", "image/png", 400, "metadata", ""},
		"metadata not JSON":  {"PASSPORT", "image/png", 400, "metadata", ""},
		"no idDocType":       {`{"country":"DEU"}`, "image/png", 400, "idDocType", ""},
		"unknown idDocType":  {`{"idDocType":"PASSPROT","country":"DEU"}`, "image/png", 400, "idDocType", ""},
		"no country":         {`{"idDocType":"PASSPORT"}`, "image/png", 400, "country", ""},
		"alpha-2 country":    {`{"idDocType":"PASSPORT","country":"DE"}`, "image/png", 400, "country", ""},
		"bad idDocSubType":   {`{"idDocType":"ID_CARD","idDocSubType":"FRONT","country":"DEU"}`, "image/png", 400, "idDocSubType", ""},
		"unknown applicant":  {meta, "image/png", 404, "not found", ""},
		"too large a file":   {meta, "image/png", 400, "content", "file-too-big"},
		"empty file content": {meta, "image/png", 400, "empty", "empty-file"},
		"a TIFF":             {meta, "image/tiff", 400, "image/tiff", "unsupported-file-format"},
	} {
		target, content := id, pngBytes
		switch name {
		case "unknown applicant":
			target = "000000000000000000000000"
		case "too large a file":
			content = append(append([]byte{}, pngBytes...), make([]byte, sandbox.MaxDocumentBytes)...)
		case "empty file content":
			content = []byte{}
		case "a TIFF":
			content = append([]byte("II*\x00"), make([]byte, 64)...)
		}
		a := app.upload(target, tc.metadata, "p.png", tc.fileType, content, false)
		if a.status != tc.status || !strings.Contains(a.json["description"].(string), tc.place) || a.json["correlationId"] == "" ||
			(tc.errorName != "" && a.json["errorName"] != tc.errorName) {
			t.Errorf("%s: %d %s, want %d %s naming %s", name, a.status, a.body, tc.status, tc.errorName, tc.place)
		}
	}
	// No upload while the applicant is being checked.
	if a := app.upload(id, `{"idDocType":"SELFIE","country":"DEU"}`, "s.png", "image/png", pngBytes, false); a.status != 200 {
		t.Fatalf("selfie: %d %s", a.status, a.body)
	}
	app.do("POST", "/resources/applicants/"+id+"/status/pending", nil, "")
	if a := app.upload(id, meta, "p.png", "image/png", pngBytes, false); a.status != 409 || a.json["errorName"] != "no-upload-verification-in-progress" {
		t.Errorf("upload while pending: %d %s", a.status, a.body)
	}
	// Nothing of the refused uploads was kept.
	if steps := app.do("GET", "/resources/applicants/"+id+"/requiredIdDocsStatus", nil, ""); steps.json["IDENTITY"] != nil || steps.json["SELFIE"] == nil {
		t.Errorf("a refused upload counts: %s", steps.body)
	}
	// The documents an applicant keeps are bounded.
	other := app.jsonCall("POST", "/resources/applicants?levelName=basic-kyc-level", map[string]any{"externalUserId": "doc-user-2"}).json["id"].(string)
	for n := 1; n <= sandbox.MaxDocuments; n++ {
		if a := app.upload(other, meta, "p.png", "image/png", pngBytes, false); a.status != 200 {
			t.Fatalf("upload %d: %d %s", n, a.status, a.body)
		}
	}
	if a := app.upload(other, meta, "p.png", "image/png", pngBytes, false); a.status != 400 || a.json["errorName"] != "too-many-documents" {
		t.Errorf("upload %d: %d %s, want 400 too-many-documents", sandbox.MaxDocuments+1, a.status, a.body)
	}
	// A JSON body is not an upload.
	if a := app.jsonCall("POST", "/resources/applicants/"+id+"/info/idDoc", map[string]any{"idDocType": "PASSPORT"}); a.status < 400 || a.status >= 500 {
		t.Errorf("JSON upload: %d %s", a.status, a.body)
	}
}

// TestSumsubNotSimulated checks that an operation the sandbox does not
// simulate answers 501 in Sumsub's shape naming it, never a 404 an app
// would read as "applicant not found", and only to a signed request.
func TestSumsubNotSimulated(t *testing.T) {
	sink := newSink(t)
	_, base := startSandbox(t, sink, nil)
	app := newSumsubApp(t, base)
	id := app.jsonCall("POST", "/resources/applicants?levelName=basic-kyc-level", map[string]any{"externalUserId": "ns-user"}).json["id"].(string)
	for _, tc := range []struct {
		method, path, name string
	}{
		{"GET", "/resources/applicants/" + id + "/metadata/resources", "Get information about document images"},
		{"POST", "/resources/applicants/" + id + "/moveToLevel?name=other", "Change level"},
		{"DELETE", "/resources/inspections/abc/resources/123", "Mark image as inactive"},
		{"POST", "/resources/applicants/" + id + "/tags/add", "Add custom applicant tags"},
		{"GET", "/resources/moderationStates/-;applicantId=" + id, "Clarify rejection reason"},
		{"POST", "/resources/kyt/txns/-/data", "Transaction monitoring"},
		{"GET", "/resources/something/new", "an operation it does not know"},
		{"PUT", "/resources/applicants/" + id + "/one", "it simulates GET"},
	} {
		a := app.do(tc.method, tc.path, nil, "")
		desc, _ := a.json["description"].(string)
		if a.status != 501 || a.json["code"] != 501.0 || a.json["correlationId"] == "" || !strings.Contains(desc, tc.name) || !strings.Contains(desc, "not simulate") {
			t.Errorf("%s %s: %d %s, want 501 naming %q", tc.method, tc.path, a.status, a.body, tc.name)
		}
	}
	// Unsigned: Sumsub's 401 first.
	req, _ := http.NewRequest("GET", base+"/resources/applicants/"+id+"/metadata/resources", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("unsigned request to an operation not simulated: %d, want 401", resp.StatusCode)
	}
	// An unknown applicant is still a 404.
	if a := app.do("GET", "/resources/applicants/000000000000000000000000/one", nil, ""); a.status != 404 || !strings.Contains(a.json["description"].(string), "not found") {
		t.Errorf("unknown applicant: %d %s", a.status, a.body)
	}
}

// TestSumsubCreateStatus checks the status an applicant creation answers
// with: 201 by default, 200 when the sandbox is told so.
func TestSumsubCreateStatus(t *testing.T) {
	for _, status := range []int{0, 200} {
		sink := newSink(t)
		_, base := startSandbox(t, sink, func(o *sandboxapi.Options) { o.SumsubCreateStatus = status })
		a := newSumsubApp(t, base).jsonCall("POST", "/resources/applicants?levelName=basic-kyc-level", map[string]any{"externalUserId": "status-user"})
		want := status
		if want == 0 {
			want = sandboxapi.DefaultSumsubCreateStatus
		}
		if a.status != want || a.json["id"] == nil {
			t.Errorf("SumsubCreateStatus %d: create answered %d %s, want %d", status, a.status, a.body, want)
		}
	}
}

// samplePath fills an operation's path template: each variable and a
// final /** with sample values.
func samplePath(p string) string {
	p = strings.ReplaceAll(p, "/**", "/sample/rest")
	for strings.Contains(p, "{") {
		i, j := strings.Index(p, "{"), strings.Index(p, "}")
		p = p[:i] + "sample1" + p[j+1:]
	}
	return p
}

// TestSumsubOperationsTable checks the table of Sumsub operations (the
// README's) against the sandbox: each simulated one is in the OpenAPI
// document, each operation of the document under /resources/ is in the
// table as simulated, and each one not simulated answers 501 naming it.
func TestSumsubOperationsTable(t *testing.T) {
	router, err := docRouter()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := sandboxapi.Document()
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range sandboxapi.SumsubOperations {
		if !op.Simulated {
			continue
		}
		req, _ := http.NewRequest(op.Method, "http://sandbox"+samplePath(op.Path), nil)
		if _, _, err := router.FindRoute(req); err != nil {
			t.Errorf("%s %s (%s) is simulated but not in the OpenAPI document: %v", op.Method, op.Path, op.Name, err)
		}
	}
	for path, item := range doc.Paths.Map() {
		if !strings.HasPrefix(path, "/resources/") {
			continue
		}
		for method := range item.Operations() {
			found := false
			for _, op := range sandboxapi.SumsubOperations {
				if op.Simulated && op.Method == method && (op.Path == path || samplePath(op.Path) == samplePath(path)) {
					found = true
				}
			}
			if !found {
				t.Errorf("%s %s is in the OpenAPI document but not in the table of Sumsub operations", method, path)
			}
		}
	}

	sink := newSink(t)
	_, base := startSandbox(t, sink, nil)
	app := newSumsubApp(t, base)
	for _, op := range sandboxapi.SumsubOperations {
		if op.Simulated {
			continue
		}
		method := op.Method
		if method == "*" {
			method = "POST"
		}
		a := app.do(method, samplePath(op.Path), nil, "")
		if desc, _ := a.json["description"].(string); a.status != 501 || !strings.Contains(desc, op.Name) {
			t.Errorf("%s %s: %d %s, want 501 naming %q", method, samplePath(op.Path), a.status, a.body, op.Name)
		}
	}
}

// TestSumsubExternalUserIDUnique: Sumsub keeps one applicant per
// externalUserId. Eight apps creating one at once get one applicant and
// seven 409s naming it; changing another applicant's externalUserId to
// it is refused the same way.
func TestSumsubExternalUserIDUnique(t *testing.T) {
	_, base := startSandbox(t, newSink(t), nil)
	answers := make([]answer, 8)
	var wg sync.WaitGroup
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = newSumsubApp(t, base).jsonCall("POST", "/resources/applicants?levelName=basic-kyc-level", map[string]any{"externalUserId": "same-user"})
		}()
	}
	wg.Wait()
	var created []string
	for _, a := range answers {
		if a.status < 300 {
			created = append(created, a.json["id"].(string))
		}
	}
	if len(created) != 1 {
		t.Fatalf("%d of %d creates with one externalUserId succeeded, want 1", len(created), len(answers))
	}
	want := "Applicant with external user id 'same-user' already exists: " + created[0]
	for _, a := range answers {
		if a.status < 300 {
			continue
		}
		if a.status != http.StatusConflict || a.json["description"] != want {
			t.Errorf("a losing create answered %d %s, want 409 %q", a.status, a.body, want)
		}
	}

	app := newSumsubApp(t, base)
	other := app.jsonCall("POST", "/resources/applicants?levelName=basic-kyc-level", map[string]any{"externalUserId": "other-user"}).json["id"].(string)
	a := app.jsonCall("PATCH", "/resources/applicants", map[string]any{"id": other, "externalUserId": "same-user"})
	if a.status != http.StatusConflict || a.json["description"] != want {
		t.Errorf("changing another applicant's externalUserId to a taken one answered %d %s, want 409 %q", a.status, a.body, want)
	}
	if got := app.jsonCall("GET", "/resources/applicants/"+other+"/one", nil); got.json["externalUserId"] != "other-user" {
		t.Errorf("after the refused change the applicant has externalUserId %v", got.json["externalUserId"])
	}
}

// TestSumsubWebSDKLinkOpenedAtOnce: a WebSDK link opened many times at
// once (a double click, a browser's prefetch) creates one applicant and
// takes every opener to it, never to a 409 page.
func TestSumsubWebSDKLinkOpenedAtOnce(t *testing.T) {
	_, base := startSandbox(t, newSink(t), nil)
	code, link := call(t, sumsubRequest(t, "POST", base+"/resources/sdkIntegrations/levels/basic-kyc-level/websdkLink?externalUserId=race-user", nil))
	if code != http.StatusOK {
		t.Fatal(code, link)
	}
	u := link["url"].(string)
	c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	type opened struct {
		status         int
		location, body string
	}
	got := make([]opened, 16)
	var wg sync.WaitGroup
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := c.Get(u)
			if err != nil {
				got[i].body = err.Error()
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			got[i] = opened{resp.StatusCode, resp.Header.Get("Location"), string(b)}
		}()
	}
	wg.Wait()
	for i, o := range got {
		if o.status != http.StatusSeeOther || o.location != got[0].location {
			t.Errorf("opening %d of the same link: %d to %q %s; want 303 to %q like the first", i, o.status, o.location, o.body, got[0].location)
		}
	}
	app := newSumsubApp(t, base)
	if a := app.jsonCall("GET", "/resources/applicants/-;externalUserId=race-user/one", nil); a.status != http.StatusOK {
		t.Errorf("the user's applicant: %d %s", a.status, a.body)
	}
}
