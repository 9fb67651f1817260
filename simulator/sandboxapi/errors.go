package sandboxapi

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/kycsim/kycsim/simulator/sandbox"
)

// apiError is an error with the HTTP status it answers with.
type apiError struct {
	status int
	msg    string
	// sumsubCode is Sumsub's errorCode (4003: signature mismatch).
	sumsubCode int
	sumsubName string
}

func (e *apiError) Error() string { return e.msg }

// errorf returns an apiError.
func errorf(status int, format string, args ...any) *apiError {
	return &apiError{status: status, msg: fmt.Sprintf(format, args...)}
}

// The vendors whose error shapes the sandbox answers in.
const (
	vendorJumio   = "jumio"
	vendorSumsub  = "sumsub"
	vendorSandbox = "sandbox"
)

// vendorOf says whose API a path belongs to.
func vendorOf(path string) string {
	switch {
	case strings.HasPrefix(path, "/resources/"):
		return vendorSumsub
	case strings.HasPrefix(path, "/api/"), path == "/oauth2/token":
		return vendorJumio
	}
	return vendorSandbox
}

// statusOf maps an error to its HTTP status: the one place that does.
func statusOf(err error) int {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.status
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge
	}
	switch sandbox.ErrorCode(err) {
	case sandbox.ENOTFOUND:
		return http.StatusNotFound
	case sandbox.ECONFLICT, sandbox.ETAKEN:
		return http.StatusConflict
	case sandbox.EINVALID:
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// messageOf is what a client is told about an error: internal errors
// are not described (they are logged).
func messageOf(err error) string {
	if statusOf(err) == http.StatusInternalServerError {
		return "internal error"
	}
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.msg
	}
	if m := sandbox.ErrorMessage(err); m != "" {
		return m
	}
	return err.Error()
}

// writeError answers with an error in the shape of the API's vendor:
// Jumio {title, status, detail}; Sumsub {description, code,
// correlationId, errorCode, errorName}; the sandbox's own {error}.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	msg := messageOf(err)
	if status == http.StatusInternalServerError {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	switch vendorOf(r.URL.Path) {
	case vendorJumio:
		writeJSON(w, status, map[string]any{"title": http.StatusText(status), "status": status, "detail": msg})
	case vendorSumsub:
		body := map[string]any{"description": msg, "code": status, "correlationId": correlationID()}
		var ae *apiError
		if errors.As(err, &ae) && ae.sumsubCode != 0 {
			body["errorCode"], body["errorName"] = ae.sumsubCode, ae.sumsubName
		}
		writeJSON(w, status, body)
	default:
		writeJSON(w, status, map[string]any{"error": map[string]any{"status": status, "message": msg}})
	}
}

// validationError turns a request validation failure into a 400 that
// names the place: the parameter, or the JSON pointer in the body.
func validationError(err error) error {
	var re *openapi3filter.RequestError
	if errors.As(err, &re) {
		var se *openapi3.SchemaError
		place := ""
		switch {
		case re.Parameter != nil:
			place = fmt.Sprintf("%s parameter %s", re.Parameter.In, re.Parameter.Name)
		case re.RequestBody != nil:
			place = "body"
		}
		if errors.As(err, &se) {
			ptr := "/" + strings.Join(se.JSONPointer(), "/")
			if place == "body" {
				return errorf(http.StatusBadRequest, "body %s: %s", ptr, se.Reason)
			}
			return errorf(http.StatusBadRequest, "%s: %s", place, se.Reason)
		}
		if place != "" {
			return errorf(http.StatusBadRequest, "%s: %s", place, re.Reason)
		}
		return errorf(http.StatusBadRequest, "%s", re.Error())
	}
	return errorf(http.StatusBadRequest, "%s", err.Error())
}

// writeJSON answers with a JSON body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// writeRawJSON answers 200 with a JSON body already encoded (as
// writeJSON encodes it: a newline at the end).
func writeRawJSON(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// encodeJSON encodes an answer as writeJSON does.
func encodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(v); err != nil {
		return nil, fmt.Errorf("encode the answer: %w", err)
	}
	return b.Bytes(), nil
}

// readBody reads a request body (bounded by ServeHTTP's MaxBytesReader).
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, bodyError(err)
	}
	return b, nil
}

// bodyError is the error of a request body that could not be read: 413
// naming the limit when it was too large.
func bodyError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errorf(http.StatusRequestEntityTooLarge, "the request body is larger than the limit of %d bytes", mbe.Limit)
	}
	return fmt.Errorf("read the request body: %w", err)
}

// bufferedBody is a request body read once and kept: bodyOf answers its
// bytes without copying them (an upload is megabytes).
type bufferedBody struct {
	*bytes.Reader
	b []byte
}

func (bufferedBody) Close() error { return nil }

// setBody makes a request's body re-readable.
func setBody(r *http.Request, b []byte) {
	r.Body = bufferedBody{bytes.NewReader(b), b}
	r.GetBody = func() (io.ReadCloser, error) { return bufferedBody{bytes.NewReader(b), b}, nil }
}

// resetBody rewinds a body set by setBody.
func resetBody(r *http.Request) {
	if r.GetBody != nil {
		r.Body, _ = r.GetBody()
	}
}

// bodyOf returns a request's body bytes (shared: not to be changed).
func bodyOf(r *http.Request) []byte {
	if r.GetBody == nil {
		return nil
	}
	rc, _ := r.GetBody()
	if bb, ok := rc.(bufferedBody); ok {
		return bb.b
	}
	b, _ := io.ReadAll(rc)
	return b
}

// decodeJSON reads a validated JSON body into v.
func decodeJSON(r *http.Request, v any) error {
	if err := json.Unmarshal(bodyOf(r), v); err != nil {
		return errorf(http.StatusBadRequest, "body: %v", err)
	}
	return nil
}

// correlationID makes a Sumsub-style correlation id.
func correlationID() string {
	return randomHex(16)
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
