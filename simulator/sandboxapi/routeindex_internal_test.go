package sandboxapi

import (
	"net/http"
	"testing"
)

// TestRouteIndexOffForWidePatterns: a template whose variable might span
// segments ({rest:.*}) turns the index off, since a bucket could not hold
// every route that matches a path; one-segment patterns keep it on.
func TestRouteIndexOffForWidePatterns(t *testing.T) {
	h := http.NotFoundHandler()
	x := newRouteIndex()
	x.handle("/api/v1/{id}", "/api/v1/{id:[^/;]+}", http.MethodGet, h)
	x.handle("/web/{id}", "/web/{id}", http.MethodGet, h)
	if r := x.router("/api/v1/abc"); r == x.full {
		t.Error("a one-segment pattern turned the index off")
	}
	x.handle("/files/{rest}", "/files/{rest:.*}", http.MethodGet, h)
	for _, p := range []string{"/api/v1/abc", "/files/a/b/c"} {
		if r := x.router(p); r != x.full {
			t.Errorf("%s: a bucket serves it although /files/{rest:.*} may span segments", p)
		}
	}
}
