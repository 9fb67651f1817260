package sandboxapi

import (
	"net/http"
	"regexp"
	"strings"

	"github.com/gorilla/mux"
)

// routeIndex is the sandbox's router: gorilla/mux tries its routes in
// order, a regular expression each, and with some fifty operations a
// request late in the list pays for all those before it. The index sends
// a request to a small router holding only the routes that can match its
// path: those with the same literal first and second segments and as many
// segments (a template's variable never spans a '/'). A path no bucket
// claims, or whose first segment has routes with a variable second
// segment (/web/{id}), goes to the full router, which answers exactly as
// before, its 404 and 405 included; a bucket's own 404 and 405 are the
// same handlers, and no route outside a bucket can match its paths.
type routeIndex struct {
	full    *mux.Router
	buckets map[routeKey]*mux.Router
	// mixed holds the first segments under which some route's second
	// segment is a variable: their requests go to the full router.
	mixed map[string]bool
}

// routeKey is what the index files a path under.
type routeKey struct {
	first, second string
	segments      int
}

func newRouteIndex() *routeIndex {
	return &routeIndex{full: mux.NewRouter(), buckets: map[routeKey]*mux.Router{}, mixed: map[string]bool{}}
}

// pathKey splits a path into its key; ok is false for a path that does
// not start with '/'.
func pathKey(path string) (routeKey, bool) {
	rest, ok := strings.CutPrefix(path, "/")
	if !ok {
		return routeKey{}, false
	}
	k := routeKey{segments: strings.Count(rest, "/") + 1}
	k.first, rest, _ = strings.Cut(rest, "/")
	k.second, _, _ = strings.Cut(rest, "/")
	return k, true
}

// segmentPatterns are the variable patterns known to match within one
// segment: mux's default and muxPath's.
var segmentPatterns = map[string]bool{"": true, "[^/]+": true, "[^/;]+": true}

// muxVar matches a variable of a mux template and its pattern.
var muxVar = regexp.MustCompile(`\{[A-Za-z0-9_]+(?::([^{}]*))?\}`)

// handle registers a handler for a method on a path template ("/a/{id}",
// filed by its segments) whose mux template is muxTemplate (the variables'
// patterns may hold a '/', as in "[^/;]+"). A template with a pattern
// that might span segments turns the index off: every request goes to
// the full router.
func (x *routeIndex) handle(path, muxTemplate, method string, h http.Handler) {
	x.full.Handle(muxTemplate, h).Methods(method)
	for _, m := range muxVar.FindAllStringSubmatch(muxTemplate, -1) {
		if !segmentPatterns[m[1]] {
			x.mixed[""] = true
		}
	}
	k, _ := pathKey(path)
	if strings.Contains(k.first, "{") {
		// Not a template the sandbox has; the full router alone holds it
		// and every request goes there.
		x.mixed[""] = true
		return
	}
	if strings.Contains(k.second, "{") {
		x.mixed[k.first] = true
		return
	}
	b := x.buckets[k]
	if b == nil {
		b = mux.NewRouter()
		x.buckets[k] = b
	}
	b.Handle(muxTemplate, h).Methods(method)
}

// finish sets the handlers for paths no route takes and for methods a
// path's routes do not take, on every router.
func (x *routeIndex) finish(notFound, notAllowed http.Handler) {
	x.full.NotFoundHandler, x.full.MethodNotAllowedHandler = notFound, notAllowed
	for _, b := range x.buckets {
		b.NotFoundHandler, b.MethodNotAllowedHandler = notFound, notAllowed
	}
}

// ServeHTTP sends the request to its bucket or to the full router.
func (x *routeIndex) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x.router(r.URL.Path).ServeHTTP(w, r)
}

// router is the router that serves a path.
func (x *routeIndex) router(path string) *mux.Router {
	if x.mixed[""] {
		return x.full
	}
	k, ok := pathKey(path)
	if !ok || x.mixed[k.first] {
		return x.full
	}
	if b := x.buckets[k]; b != nil {
		return b
	}
	return x.full
}
