package spec

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// OpenAPI describes the product's callbacks as an OpenAPI 3.1 document
// whose webhooks section has one entry per message, with the message's
// schema at the given level. JSON-in-form fields are described with their
// decoded schema and an encoding of application/json, which is how OpenAPI
// says "a JSON text inside a form field".
func (p *Product) OpenAPI(lv Level) (*openapi3.T, error) {
	doc := &openapi3.T{
		OpenAPI: "3.1.0",
		Info: &openapi3.Info{
			Title:       p.Title,
			Version:     "kycsim-" + string(lv),
			Description: strings.TrimSpace(p.Description + "\n\nSource: " + p.Source + ". Level: " + string(lv) + "."),
		},
		Paths:      openapi3.NewPaths(),
		Webhooks:   map[string]*openapi3.PathItem{},
		Components: &openapi3.Components{Schemas: openapi3.Schemas{}},
	}
	jsonFields := map[string]bool{}
	for _, f := range p.JSONFields() {
		jsonFields[f] = true
	}
	for _, m := range p.Messages {
		raw, err := p.Schema(m.Name, lv)
		if err != nil {
			return nil, err
		}
		s, defs, err := toOpenAPISchema(raw)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", p.Name, m.Name, err)
		}
		for name, d := range defs {
			doc.Components.Schemas[name] = d
		}
		mt := openapi3.NewMediaType().WithSchema(s)
		if p.Encoding == EncodingForm {
			mt.Encoding = map[string]*openapi3.Encoding{}
			for f := range jsonFields {
				mt.Encoding[f] = &openapi3.Encoding{ContentType: "application/json"}
			}
		}
		op := &openapi3.Operation{
			OperationID: p.Name + "." + m.Name,
			Summary:     m.Summary,
			RequestBody: &openapi3.RequestBodyRef{Value: openapi3.NewRequestBody().
				WithRequired(true).
				WithContent(openapi3.Content{p.ContentType: mt})},
			Responses: openapi3.NewResponses(
				openapi3.WithStatus(200, &openapi3.ResponseRef{Value: openapi3.NewResponse().WithDescription("Acknowledged: the receiver stored the callback.")}),
			),
		}
		item := &openapi3.PathItem{}
		item.SetOperation(p.Method, op)
		doc.Webhooks[m.Name] = item
	}
	if len(doc.Components.Schemas) == 0 {
		doc.Components = nil
	}
	// Load the built document back through kin-openapi's loader so that
	// every $ref is resolved, as in a document read from a file.
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("%s: encode OpenAPI document: %w", p.Name, err)
	}
	loaded, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		return nil, fmt.Errorf("%s: load OpenAPI document: %w", p.Name, err)
	}
	return loaded, nil
}

// toOpenAPISchema converts a standalone JSON Schema into a kin-openapi
// schema; its definitions become component schemas.
func toOpenAPISchema(raw map[string]any) (*openapi3.Schema, map[string]*openapi3.SchemaRef, error) {
	s := make(map[string]any, len(raw))
	for k, v := range raw {
		if k != "$schema" && k != "definitions" {
			s[k] = v
		}
	}
	defs := map[string]*openapi3.SchemaRef{}
	if d, ok := raw["definitions"].(map[string]any); ok {
		for name, v := range d {
			var sch openapi3.Schema
			if err := remarshal(relinkDefinitions(v), &sch); err != nil {
				return nil, nil, fmt.Errorf("definition %s: %w", name, err)
			}
			defs[name] = &openapi3.SchemaRef{Value: &sch}
		}
	}
	var sch openapi3.Schema
	if err := remarshal(relinkDefinitions(s), &sch); err != nil {
		return nil, nil, err
	}
	return &sch, defs, nil
}

// relinkDefinitions points #/definitions/X references at components.
func relinkDefinitions(v any) any {
	switch c := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(c))
		for k, x := range c {
			if k == "$ref" {
				if ref, ok := x.(string); ok && strings.HasPrefix(ref, "#/definitions/") {
					out[k] = "#/components/schemas/" + strings.TrimPrefix(ref, "#/definitions/")
					continue
				}
			}
			out[k] = relinkDefinitions(x)
		}
		return out
	case []any:
		out := make([]any, len(c))
		for i, x := range c {
			out[i] = relinkDefinitions(x)
		}
		return out
	}
	return v
}

func remarshal(in any, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

// requestDoc is the wire-level OpenAPI 3.0 description of one product's
// callback request, for openapi3filter: method, content type, and the
// top-level fields with the checks that hold for every message.
type requestDoc struct {
	doc    *openapi3.T
	router routers.Router
}

var requestDocs sync.Map // *Product -> *requestDoc

// CallbackPath is the path under which request checks route callbacks;
// the customer's own path does not matter to the check.
const CallbackPath = "/callback"

func (p *Product) requestDoc() (*requestDoc, error) {
	if rd, ok := requestDocs.Load(p); ok {
		return rd.(*requestDoc), nil
	}
	var env map[string]any
	if p.table != nil {
		c, err := p.at(LevelVendor)
		if err != nil {
			return nil, err
		}
		u, err := c.units[""].get()
		if err != nil {
			return nil, fmt.Errorf("compile %s (level vendor): the envelope: %w", p.Name, err)
		}
		env = u.doc.raw
	}
	props := openapi3.Schemas{}
	var required []string
	jsonFields := map[string]bool{}
	for _, f := range p.JSONFields() {
		jsonFields[f] = true
	}
	if p.table != nil {
		envProps, _ := env["properties"].(map[string]any)
		for name, v := range envProps {
			ps, _ := v.(map[string]any)
			var sch *openapi3.Schema
			if p.Encoding == EncodingForm {
				// On the wire every form field is a string.
				sch = openapi3.NewStringSchema()
				if !jsonFields[name] {
					if n, ok := ps["maxLength"].(json.Number); ok {
						if i, err := n.Int64(); err == nil {
							sch.WithMaxLength(i)
						}
					}
					if e, ok := ps["enum"].([]any); ok {
						sch.WithEnum(e...)
					}
				}
			} else {
				sch = &openapi3.Schema{}
			}
			props[name] = &openapi3.SchemaRef{Value: sch}
		}
		for _, r := range toStrings(env["required"]) {
			required = append(required, r)
		}
	}
	body := openapi3.NewObjectSchema()
	body.Properties = props
	sort.Strings(required)
	body.Required = required
	op := &openapi3.Operation{
		OperationID: p.Name,
		RequestBody: &openapi3.RequestBodyRef{Value: openapi3.NewRequestBody().WithRequired(true).
			WithContent(openapi3.NewContentWithSchema(body, []string{p.ContentType}))},
		Responses: openapi3.NewResponses(openapi3.WithStatus(200, &openapi3.ResponseRef{Value: openapi3.NewResponse().WithDescription("Acknowledged")})),
	}
	doc := &openapi3.T{OpenAPI: "3.0.3", Info: &openapi3.Info{Title: p.Title, Version: "kycsim"}, Paths: openapi3.NewPaths()}
	item := &openapi3.PathItem{}
	item.SetOperation(p.Method, op)
	doc.Paths.Set(CallbackPath, item)
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("%s request description: %w", p.Name, err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("%s request router: %w", p.Name, err)
	}
	rd := &requestDoc{doc: doc, router: router}
	requestDocs.Store(p, rd)
	return rd, nil
}

// MaxBodyBytes bounds the callback bodies read by CheckRequest.
const MaxBodyBytes = 1 << 20

// CheckRequest checks a whole callback HTTP request: the method, the
// Content-Type and the top-level fields (with kin-openapi's openapi3filter),
// then the body against the full contract. The request's body is consumed;
// the bytes read are returned with the result.
func (p *Product) CheckRequest(r *http.Request, opt Options) (*Result, []byte, error) {
	rd, err := p.requestDoc()
	if err != nil {
		return nil, nil, err
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read request body: %w", err)
	}
	if len(body) > MaxBodyBytes {
		return nil, nil, fmt.Errorf("request body larger than %d bytes", MaxBodyBytes)
	}
	var httpViolations []Violation
	// Route on the canonical path: the customer's own path is theirs.
	rr := r.Clone(r.Context())
	rr.URL.Path, rr.URL.RawPath, rr.Host, rr.URL.Host = CallbackPath, "", "", ""
	rr.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := rd.router.FindRoute(rr)
	switch {
	case errors.Is(err, routers.ErrMethodNotAllowed):
		httpViolations = append(httpViolations, Violation{Header: "", Rule: "method", Found: r.Method, Expected: p.Method,
			Message: fmt.Sprintf("method %s; %s callbacks are %s", r.Method, p.Name, p.Method)})
	case err != nil:
		return nil, body, fmt.Errorf("route request: %w", err)
	default:
		in := &openapi3filter.RequestValidationInput{Request: rr, PathParams: params, Route: route,
			Options: &openapi3filter.Options{MultiError: true}}
		if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
			httpViolations = append(httpViolations, requestViolations(err, r.Header.Get("Content-Type"), p)...)
		}
	}
	// Decode as the header says, the way a receiver would; when the
	// header is wrong (already reported), judge the body by what it is.
	enc := EncodingOf(r.Header.Get("Content-Type"))
	if enc != p.Encoding {
		enc = DetectEncoding(body)
	}
	if opt.Encoding == "" {
		opt.Encoding = enc
	}
	res, err := p.Validate(body, opt)
	if err != nil {
		return nil, body, err
	}
	if len(httpViolations) > 0 {
		// Body-level findings already cover field problems openapi3filter
		// also saw; keep only its HTTP-level ones.
		res.Violations = append(httpViolations, res.Violations...)
	}
	return res, body, nil
}

// requestViolations keeps the HTTP-level findings of openapi3filter: the
// content type. Field-level findings are left to the full contract.
func requestViolations(err error, contentType string, p *Product) []Violation {
	var out []Violation
	var errs []error
	var me openapi3.MultiError
	if errors.As(err, &me) {
		errs = me
	} else {
		errs = []error{err}
	}
	for _, e := range errs {
		var re *openapi3filter.RequestError
		if errors.As(e, &re) && re.RequestBody != nil {
			// A body error with no cause is openapi3filter's "no content
			// declared for this Content-Type"; the others (a required
			// body, decoding, the schema) carry their cause and are
			// left to the full contract. A Content-Type that names no
			// known encoding is also reported, whatever the filter said.
			if re.Err == nil || EncodingOf(contentType) == "" {
				out = append(out, contentTypeViolation(contentType, p))
			}
			continue
		}
		if errors.As(e, &re) && re.Parameter != nil && re.Parameter.In == "header" {
			out = append(out, Violation{Header: re.Parameter.Name, Rule: "header", Message: re.Error()})
		}
	}
	return out
}

func contentTypeViolation(contentType string, p *Product) Violation {
	return Violation{Header: "Content-Type", Rule: "content-type", Found: contentType, Expected: p.ContentType,
		Message: fmt.Sprintf("Content-Type %q; %s callbacks are %s", contentType, p.Name, p.ContentType)}
}
