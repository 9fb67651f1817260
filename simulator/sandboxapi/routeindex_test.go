package sandboxapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/kycsim/kycsim/simulator/sandboxapi"
)

// TestRouteIndex checks that the route index answers every request as the
// full router it stands for: each operation of the sandbox's document
// with every method (sample ids in its variables), with and without
// credentials, and paths that are near misses (a trailing slash, a doubled
// slash, a dot segment, a segment more or less, an unknown prefix).
func TestRouteIndex(t *testing.T) {
	in, base := startSandbox(t, newSink(t), nil)
	tok := jumioToken(t, base)

	rec := httptest.NewRecorder()
	in.Server.ServeHTTP(rec, httptest.NewRequest("GET", "/openapi.json", nil))
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	// Error bodies carry a fresh correlation id or timestamp each time.
	fresh := regexp.MustCompile(`[0-9a-f]{32}|[0-9a-f-]{36}|\d{4}-\d\d-\d\dT[0-9:.]+Z?`)
	same := func(a, b *httptest.ResponseRecorder) bool {
		return a.Code == b.Code && a.Header().Get("Location") == b.Header().Get("Location") &&
			fresh.ReplaceAllString(a.Body.String(), "*") == fresh.ReplaceAllString(b.Body.String(), "*")
	}
	variable := regexp.MustCompile(`\{[^}]+\}`)
	// (/metrics is left out: its body counts these very requests.)
	paths := []string{"/", "", "/healthz", "/openapi.json", "/web/abc", "/web/abc/", "/websdk/t", "/nope", "/api", "/api/v1",
		"/_sandbox", "/resources", "/resources/applicants/x/one/extra", "/api/v1/workflow-executions", "/api//v1/workflow-executions/x1"}
	for p := range doc.Paths {
		p = variable.ReplaceAllString(p, "x1")
		paths = append(paths, p, p+"/", strings.Replace(p, "/", "//", 2), p+"/..", p+"/x2", strings.TrimSuffix(p, p[strings.LastIndex(p, "/"):]))
	}
	slices.Sort(paths)
	paths = slices.Compact(paths)
	methods := []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
	compared := 0
	for _, p := range paths {
		for _, m := range methods {
			for _, auth := range []bool{false, true} {
				req := func() *http.Request {
					r := httptest.NewRequest(m, "http://sandbox.test/", nil)
					r.URL.Path, r.RequestURI = p, p
					r.Header.Set("User-Agent", testUA)
					r.Header.Set("Accept", "application/json")
					if auth {
						r.Header.Set("Authorization", "Bearer "+tok)
					}
					return r
				}
				indexed, full := httptest.NewRecorder(), httptest.NewRecorder()
				in.Server.ServeHTTP(indexed, req())
				sandboxapi.ServeUnindexed(in.Server, full, req())
				if !same(indexed, full) {
					t.Errorf("%s %q (credentials %v): indexed %d %s, full router %d %s", m, p, auth,
						indexed.Code, indexed.Body.String(), full.Code, full.Body.String())
				}
				compared++
			}
		}
	}
	if compared < 500 {
		t.Fatalf("only %d requests compared", compared)
	}
}
