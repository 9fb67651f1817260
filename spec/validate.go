package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/kycsim/kycsim/spec/asyncapi"
	"github.com/kycsim/kycsim/spec/form"
)

// Options says how to validate a payload.
type Options struct {
	Level Level // LevelVendor when empty
	// Message forces the message instead of telling it from the payload.
	Message string
	// Encoding forces EncodingJSON or EncodingForm instead of detecting it.
	Encoding string
}

// Result is the outcome of validating one payload.
type Result struct {
	Product string `json:"product"`
	// Message is the message validated against ("" when none could be told).
	Message    string      `json:"message"`
	Level      Level       `json:"level"`
	Encoding   string      `json:"encoding"`
	Violations []Violation `json:"violations"`
	Warnings   []string    `json:"warnings"`
}

// Valid reports whether the payload broke no rule.
func (r *Result) Valid() bool { return len(r.Violations) == 0 }

// Payload is a decoded callback body.
type Payload struct {
	// Value is the JSON view: the JSON body, or for a form body an object
	// of its fields with JSON-in-form fields decoded.
	Value any
	// Encoding is EncodingJSON or EncodingForm.
	Encoding string
	// Form holds the fields of a form body in the order sent.
	Form []form.Field
}

// DetectEncoding guesses the encoding of a body: JSON when it starts (after
// white space) with '{' or '[', form otherwise.
func DetectEncoding(body []byte) string {
	t := bytes.TrimLeft(body, " \t\r\n")
	if len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		return EncodingJSON
	}
	return EncodingForm
}

// EncodingOf maps a Content-Type header value to an encoding ("" when it
// is neither JSON nor form).
func EncodingOf(contentType string) string {
	ct := strings.ToLower(strings.TrimSpace(strings.SplitN(contentType, ";", 2)[0]))
	switch {
	case ct == "application/x-www-form-urlencoded":
		return EncodingForm
	case ct == "application/json" || strings.HasSuffix(ct, "+json"):
		return EncodingJSON
	}
	return ""
}

// Decode parses a body the way the product's validator does. A body that
// does not parse gives violations, not an error.
func (p *Product) Decode(body []byte, enc string, lv Level) (*Payload, []Violation) {
	if enc == "" {
		enc = DetectEncoding(body)
	}
	if enc == EncodingJSON {
		v, err := decodeJSON(body)
		if err != nil {
			return nil, []Violation{jsonSyntaxViolation(body, err, "")}
		}
		return &Payload{Value: v, Encoding: EncodingJSON}, nil
	}
	fb, err := form.Parse(body)
	if err != nil {
		var se *form.SyntaxError
		v := Violation{Rule: "form", Message: err.Error()}
		if errors.As(err, &se) {
			v.Field = se.Field
			v.Message = fmt.Sprintf("malformed form body at byte %d: %s", se.Offset, se.Msg)
		}
		return nil, []Violation{v}
	}
	var jsonFields map[string]bool // field -> plain string accepted
	if p.table != nil {
		if err := p.compile(); err == nil {
			jsonFields = p.compiled[lv].jsonFields
		}
	}
	obj := make(map[string]any, len(fb.Fields))
	var vs []Violation
	for _, f := range fb.Fields {
		plainOK, isJSON := jsonFields[f.Name]
		if !isJSON {
			obj[f.Name] = f.Value
			continue
		}
		v, err := decodeJSON([]byte(f.Value))
		if err != nil {
			t := strings.TrimSpace(f.Value)
			if plainOK && !strings.HasPrefix(t, "{") && !strings.HasPrefix(t, "[") {
				obj[f.Name] = f.Value
				continue
			}
			vs = append(vs, jsonSyntaxViolation([]byte(f.Value), err, f.Name))
			continue
		}
		obj[f.Name] = v
	}
	return &Payload{Value: obj, Encoding: EncodingForm, Form: fb.Fields}, vs
}

func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if err == io.EOF {
			return nil, errors.New("empty body")
		}
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &trailingError{offset: dec.InputOffset()}
	}
	return v, nil
}

type trailingError struct{ offset int64 }

func (e *trailingError) Error() string { return "data after the JSON value" }

// jsonSyntaxViolation places a JSON syntax error at its line and column.
func jsonSyntaxViolation(b []byte, err error, field string) Violation {
	var off int64 = -1
	var se *json.SyntaxError
	var te *trailingError
	var ut *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.offset
	case errors.As(err, &ut):
		off = ut.Offset
	case errors.Is(err, io.ErrUnexpectedEOF):
		off = int64(len(b))
	}
	msg := err.Error()
	if errors.Is(err, io.ErrUnexpectedEOF) {
		msg = "unexpected end of JSON input"
	}
	v := Violation{Field: field, Rule: "json", Message: "not valid JSON: " + msg}
	if off >= 0 {
		line, col := lineCol(b, int(off))
		v.Message = fmt.Sprintf("not valid JSON at line %d, column %d: %s", line, col, msg)
	}
	if field != "" {
		v.Expected = "a JSON text (the vendor sends this field as JSON inside the form)"
	}
	return v
}

func lineCol(b []byte, off int) (int, int) {
	if off > len(b) {
		off = len(b)
	}
	line, col := 1, 1
	for _, c := range b[:off] {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

// Validate checks one callback body. The error is for bad options (an
// unknown message, a bad level); what is wrong with the body is in the
// result.
func (p *Product) Validate(body []byte, opt Options) (*Result, error) {
	lv := opt.Level
	if lv == "" {
		lv = LevelVendor
	}
	if _, err := ParseLevel(string(lv)); err != nil {
		return nil, err
	}
	if err := p.compile(); err != nil {
		return nil, err
	}
	if opt.Message != "" {
		m, err := p.Message(opt.Message)
		if err != nil {
			return nil, err
		}
		opt.Message = m.Name
	}
	res := &Result{Product: p.Name, Level: lv, Violations: []Violation{}, Warnings: []string{}}
	enc := opt.Encoding
	if enc == "" {
		enc = DetectEncoding(body)
	}
	res.Encoding = enc
	if enc != p.Encoding {
		res.Violations = append(res.Violations, Violation{
			Rule:     "encoding",
			Found:    encodingName(enc),
			Expected: p.ContentType,
			Message:  fmt.Sprintf("the body is %s; %s callbacks are %s", encodingName(enc), p.Name, p.ContentType),
		})
		return res, nil
	}
	pl, vs := p.Decode(body, enc, lv)
	if pl == nil {
		res.Violations = append(res.Violations, vs...)
		return res, nil
	}
	badFields := map[string]bool{}
	for _, v := range vs {
		badFields[v.Field] = true
	}
	res.Violations = append(res.Violations, vs...)
	p.validateValue(pl.Value, opt.Message, lv, res)
	if len(badFields) > 0 {
		kept := res.Violations[:0]
		for i, v := range res.Violations {
			if i < len(vs) || !badFields[v.Field] {
				kept = append(kept, v)
			}
		}
		res.Violations = kept
	}
	sortViolations(res.Violations[len(vs):])
	return res, nil
}

func encodingName(enc string) string {
	if enc == EncodingForm {
		return "form-encoded"
	}
	return "JSON"
}

func (p *Product) validateValue(v any, message string, lv Level, res *Result) {
	c := p.compiled[lv]
	form := p.Encoding == EncodingForm
	if message == "" {
		message = p.Detect(v)
	}
	res.Message = message
	if message != "" {
		schema := c.messages[message]
		if p.table != nil {
			schema = c.variant(message, v)
		}
		res.Violations = append(res.Violations, c.violations(schema, v, form)...)
		p.unknownFieldWarnings(c, v, lv, res)
		return
	}
	// The message cannot be told from the payload.
	if p.table != nil {
		vs := c.violations(c.envelope, v, form)
		if p.table.UnknownMessages == "warn" && lv == LevelVendor {
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s: no documented message matches (%s); validated against the common envelope", p.Name, p.describeMatch(v)))
		} else if len(vs) == 0 {
			vs = append(vs, Violation{Rule: "message", Message: fmt.Sprintf("no %s message matches this payload (%s); expected one of %s", p.Name, p.describeMatch(v), strings.Join(p.MessageNames(), ", "))})
		}
		res.Violations = append(res.Violations, vs...)
		p.unknownFieldWarnings(c, v, lv, res)
		return
	}
	// AsyncAPI: validate against every message, keep the closest, and say
	// what is wrong with the discriminator.
	disc := p.doc.Discriminator
	var best []Violation
	bestName := ""
	for _, m := range p.Messages {
		vs := c.violations(c.messages[m.Name], v, form)
		if disc != "" {
			kept := vs[:0]
			for _, x := range vs {
				if !(x.Pointer == disc && x.Rule == "const") {
					kept = append(kept, x)
				}
			}
			vs = kept
		}
		if disc == "" && len(vs) == 0 {
			res.Message = m.Name
			return
		}
		if bestName == "" || len(vs) < len(best) {
			best, bestName = vs, m.Name
		}
	}
	if disc != "" {
		if got, ok := asyncapi.Lookup(v, disc); ok {
			best = dropAt(best, disc)
			best = append(best, Violation{
				Pointer:  disc,
				Rule:     "enum",
				Found:    renderValue(got),
				Expected: "one of " + strings.Join(p.MessageNames(), ", "),
				Message:  fmt.Sprintf("%s is not one of %s", renderValue(got), strings.Join(p.MessageNames(), ", ")),
			})
		} else if !hasAt(best, disc, "required") {
			best = append(best, Violation{Pointer: disc, Rule: "required", Expected: "one of " + strings.Join(p.MessageNames(), ", "), Message: "required field is missing"})
		}
	} else {
		res.Warnings = append(res.Warnings, fmt.Sprintf("no message of %s matches; violations are those of the closest, %s", p.Name, bestName))
	}
	res.Violations = append(res.Violations, best...)
}

func dropAt(vs []Violation, ptr string) []Violation {
	kept := vs[:0]
	for _, x := range vs {
		if x.Pointer != ptr || x.Field != "" {
			kept = append(kept, x)
		}
	}
	return kept
}

func hasAt(vs []Violation, ptr, rule string) bool {
	for _, x := range vs {
		if x.Pointer == ptr && x.Rule == rule {
			return true
		}
	}
	return false
}

// Detect tells the message of a decoded payload from the values its
// messages are matched by; "" when none matches.
func (p *Product) Detect(v any) string {
	for _, m := range p.Messages {
		if len(m.Match) == 0 {
			continue
		}
		ok := true
		for ptr, want := range m.Match {
			got, found := asyncapi.Lookup(v, ptr)
			if s, isStr := got.(string); !found || !isStr || s != want {
				ok = false
				break
			}
		}
		if ok {
			return m.Name
		}
	}
	return ""
}

func (p *Product) describeMatch(v any) string {
	seen := map[string]bool{}
	var parts []string
	for _, m := range p.Messages {
		for ptr := range m.Match {
			if seen[ptr] {
				continue
			}
			seen[ptr] = true
			got, ok := asyncapi.Lookup(v, ptr)
			if ok {
				parts = append(parts, fmt.Sprintf("%s is %s", ptr, renderValue(got)))
			} else {
				parts = append(parts, ptr+" is missing")
			}
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// unknownFieldWarnings names top-level fields the table does not know, at
// level vendor (level strict makes them violations).
func (p *Product) unknownFieldWarnings(c *compiled, v any, lv Level, res *Result) {
	if lv != LevelVendor || len(c.known) == 0 {
		return
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return
	}
	var unknown []string
	for k := range obj {
		if !c.known[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return
	}
	sort.Strings(unknown)
	res.Warnings = append(res.Warnings, fmt.Sprintf("undocumented field(s) %s: accepted at level vendor, rejected at level strict", strings.Join(unknown, ", ")))
}

// violations validates v and renders every failure.
func (c *compiled) violations(s *jsonschema.Schema, v any, form bool) []Violation {
	if pc := c.precheck(s); pc != nil && pc.Valid(v) {
		return nil
	}
	err := s.Validate(v)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []Violation{{Rule: "schema", Message: err.Error()}}
	}
	var out []Violation
	seen := map[string]bool{}
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, x := range e.Causes {
				walk(x)
			}
			return
		}
		for _, viol := range c.render(e, v) {
			if form {
				viol = splitFormPlace(viol)
			}
			key := viol.Field + "\x00" + viol.Pointer + "\x00" + viol.Rule + "\x00" + viol.Message
			if !seen[key] {
				seen[key] = true
				out = append(out, viol)
			}
		}
	}
	walk(ve)
	return out
}

// splitFormPlace moves the first pointer token of a form payload's
// violation into Field: the form field, then the pointer inside its JSON.
func splitFormPlace(v Violation) Violation {
	if v.Field != "" || !strings.HasPrefix(v.Pointer, "/") {
		return v
	}
	rest := v.Pointer[1:]
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		v.Field, v.Pointer = unescapeToken(rest[:i]), rest[i:]
	} else {
		v.Field, v.Pointer = unescapeToken(rest), ""
	}
	return v
}

func unescapeToken(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
}

func sortViolations(vs []Violation) {
	sort.SliceStable(vs, func(i, j int) bool {
		if vs[i].Field != vs[j].Field {
			return vs[i].Field < vs[j].Field
		}
		if vs[i].Pointer != vs[j].Pointer {
			return vs[i].Pointer < vs[j].Pointer
		}
		if vs[i].Rule != vs[j].Rule {
			return vs[i].Rule < vs[j].Rule
		}
		return vs[i].Message < vs[j].Message
	})
}
