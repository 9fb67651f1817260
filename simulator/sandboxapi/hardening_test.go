package sandboxapi_test

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kycsim/kycsim/internal/testpoll"
	"github.com/kycsim/kycsim/simulator/sandboxapi"
)

// TestBodyLimit checks that an oversize body is answered 413 saying the
// limit, in each API's shape and on the page.
func TestBodyLimit(t *testing.T) {
	sink := newSink(t)
	_, base := startSandbox(t, sink, nil)
	big := `{"customerInternalReference":"` + strings.Repeat("x", 2<<20) + `"}`
	for _, tc := range []struct {
		name, method, path, ctype, field string
	}{
		{"Jumio", "POST", "/api/v4/initiate", "application/json", "detail"},
		{"Sumsub", "POST", "/resources/applicants?levelName=basic", "application/json", "description"},
		{"control", "POST", "/_sandbox/jumio/workflow-executions/x/outcome", "application/json", "error"},
		{"page", "POST", "/web/x", "application/x-www-form-urlencoded", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, base+tc.path, strings.NewReader(big))
			req.Header.Set("Content-Type", tc.ctype)
			req.Header.Set("User-Agent", testUA)
			req.Header.Set("Accept", "application/json")
			req.SetBasicAuth(jumioID, jumioSecret)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestEntityTooLarge || !bytes.Contains(b, []byte("larger than the limit of 1048576 bytes")) {
				t.Errorf("%s %s with 2 MiB: %d %.300s; want 413 naming the limit", tc.method, tc.path, resp.StatusCode, b)
			}
			if tc.field != "" && !bytes.Contains(b, []byte(`"`+tc.field+`"`)) {
				t.Errorf("the 413 is not in the API's error shape (%s): %.300s", tc.field, b)
			}
		})
	}
}

// TestPageCapability checks that the page link the API hands out opens
// the page, and lets the end user pick the outcome, without the control
// token; that the page refuses a request with neither; and that the link
// expires with the session.
func TestPageCapability(t *testing.T) {
	sink := newSink(t)
	_, base := startSandbox(t, sink, func(o *sandboxapi.Options) { o.ControlToken = "ctl" })
	tok := jumioToken(t, base)
	acc := createAccount(t, base, tok, map[string]any{"customerInternalReference": "cap-1", "tokenLifetime": "60d", "workflowDefinition": map[string]any{"key": 1}, "callbackUrl": sink.srv.URL + "/jumio"})
	href := acc["web"].(map[string]any)["href"].(string)
	we := acc["workflowExecution"].(map[string]any)["id"].(string)
	get := func(u string) (int, string) {
		t.Helper()
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get(base + "/web/" + we); code != 401 || !strings.Contains(body, "link the API handed out") {
		t.Errorf("page without the link's capability or the token: %d %.200s", code, body)
	}
	if code, _ := get(base + "/web/" + we + "?cap=00000000000000000000000000000000"); code != 401 {
		t.Errorf("page with a wrong capability: %d, want 401", code)
	}
	u, _ := url.Parse(href)
	if code, _ := get(base + "/web/other?" + u.RawQuery); code != 401 {
		t.Errorf("another verification's page with this one's capability: %d, want 401", code)
	}
	code, body := get(href)
	if code != 200 || !strings.Contains(body, `action="/web/`+we+`?cap=`) {
		t.Fatalf("page by its link: %d %.500s", code, body)
	}
	// The end user picks the outcome through the form.
	resp, err := http.PostForm(base+"/web/"+we+"?"+u.RawQuery, url.Values{"outcome": {"PASSED"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "PASSED") {
		t.Fatalf("pick the outcome by the link: %d %.300s", resp.StatusCode, b)
	}
	sink.wait(t, "PROCESSED", func(cs []gotCallback) bool { return anyHas(cs, we, `"PROCESSED"`) })

	// The link of a verification whose session ends expires with it: a
	// 5-minute token, opened (a 15-minute session), then left alone.
	short := createAccount(t, base, jumioToken(t, base), map[string]any{"customerInternalReference": "cap-2", "tokenLifetime": "5m", "workflowDefinition": map[string]any{"key": 1}})
	shortHref := short["web"].(map[string]any)["href"].(string)
	if code, _ := get(shortHref); code != 200 {
		t.Fatalf("fresh link: %d", code)
	}
	var last int
	if !testpoll.Until(10*time.Second, func() bool { last, _ = get(shortHref); return last == http.StatusGone }) {
		t.Errorf("the link still answers %d after its session ended, want 410", last)
	}
}
