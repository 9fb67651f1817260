// Package sandboxapi is the HTTP face of kycsim's sandbox: the vendor REST
// APIs it serves in place of Jumio and Sumsub and its control API, all
// described by one OpenAPI 3 document (openapi.yaml) that requests are
// validated against.
package sandboxapi

import (
	"context"
	_ "embed"
	"fmt"

	"github.com/getkin/kin-openapi/openapi3"
)

//go:embed openapi.yaml
var openapiYAML []byte

// Document loads and validates the sandbox's OpenAPI document.
func Document() (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openapiYAML)
	if err != nil {
		return nil, fmt.Errorf("load the sandbox OpenAPI document: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("the sandbox OpenAPI document: %w", err)
	}
	return doc, nil
}
