package sandboxapi

import (
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"
)

// notSimulatedExtension marks an operation of the document that the
// sandbox knows of but does not simulate: it is routed (so that its
// credentials and headers are checked as for any other) and answers 501
// naming the operation.
const notSimulatedExtension = "x-kycsim-not-simulated"

// notSimulated reports whether the document marks an operation as not
// simulated.
func notSimulated(op *openapi3.Operation) bool {
	v, ok := op.Extensions[notSimulatedExtension]
	b, isBool := v.(bool)
	return ok && isBool && b
}

// notSimulatedHandler answers a known but unsimulated operation with 501
// in the vendor's error shape, naming it.
func (s *Server) notSimulatedHandler(op *openapi3.Operation) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		return errorf(http.StatusNotImplemented, "%s (%s %s) is not simulated by kycsim's sandbox; see the README's table of Jumio operations",
			op.Summary, r.Method, r.URL.Path)
	}
}

// unknownJumioOperation is the answer to a request on a Jumio API path
// the document does not describe: 501 naming the request, never a 404
// that reads like "no such workflow".
func unknownJumioOperation(r *http.Request) error {
	return errorf(http.StatusNotImplemented, "%s %s is no Jumio operation kycsim's sandbox simulates; see the README's table of Jumio operations",
		r.Method, r.URL.Path)
}
