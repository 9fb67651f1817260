package sandboxapi

import "net/http"

// ServeUnindexed serves a request as Server.ServeHTTP does but through the
// full router the route index stands for (for TestRouteIndex).
func ServeUnindexed(s *Server, w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	r.Body = http.MaxBytesReader(rec, r.Body, bodyLimit(r))
	s.router.full.ServeHTTP(rec, r)
}
