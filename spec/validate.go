package spec

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/kycsim/kycsim/spec/asyncapi"
	"github.com/kycsim/kycsim/spec/form"
	"github.com/kycsim/kycsim/spec/strictjson"
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

// DetectEncoding guesses the encoding of a body: JSON when it starts
// (after a UTF-8 byte order mark and white space) with '{' or '[', form
// otherwise.
func DetectEncoding(body []byte) string {
	t := bytes.TrimLeft(bytes.TrimPrefix(body, []byte{0xEF, 0xBB, 0xBF}), " \t\r\n")
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

// bodyShape checks what no parser should have to guess about: a body
// that is empty or only white space (nothing to validate), and a byte
// order mark, which JSON and form bodies do not carry. It returns the body
// to go on with (without a UTF-8 mark), the violations, and whether the
// body can be read at all.
func bodyShape(body []byte) ([]byte, []Violation, bool) {
	switch {
	case len(body) == 0:
		return nil, []Violation{{Rule: "empty", Expected: "a callback body", Message: "the body is empty"}}, false
	case bytes.HasPrefix(body, []byte{0xEF, 0xBB, 0xBF}):
		rest, vs, ok := bodyShape(body[3:])
		bom := Violation{Rule: "bom", Found: "EF BB BF", Expected: "no byte order mark",
			Message: "the body starts with a UTF-8 byte order mark (bytes EF BB BF), which JSON and form bodies do not carry; read without it"}
		return rest, append([]Violation{bom}, vs...), ok
	case bytes.HasPrefix(body, []byte{0xFE, 0xFF}), bytes.HasPrefix(body, []byte{0xFF, 0xFE}):
		return nil, []Violation{{Rule: "bom", Found: fmt.Sprintf("%02X %02X", body[0], body[1]), Expected: "UTF-8 without a byte order mark",
			Message: fmt.Sprintf("the body starts with a UTF-16 byte order mark (bytes %02X %02X): it is UTF-16 text, not UTF-8", body[0], body[1])}}, false
	}
	if len(bytes.TrimLeft(body, " \t\r\n")) == 0 {
		return nil, []Violation{{Rule: "empty", Expected: "a callback body",
			Message: fmt.Sprintf("the body is only white space (%d bytes)", len(body))}}, false
	}
	return body, nil, true
}

// Decode parses a body the way the product's validator does. A body that
// does not parse gives violations, not an error.
func (p *Product) Decode(body []byte, enc string, lv Level) (*Payload, []Violation) {
	body, shape, ok := bodyShape(body)
	if !ok {
		return nil, shape
	}
	if enc == "" {
		enc = DetectEncoding(body)
	}
	pl, vs := p.decode(body, enc, lv)
	return pl, append(shape, vs...)
}

// decode parses a body whose shape bodyShape has passed.
func (p *Product) decode(body []byte, enc string, lv Level) (*Payload, []Violation) {
	if enc == EncodingJSON {
		v, err := strictjson.Decode(body)
		if err != nil {
			return nil, []Violation{jsonViolation(body, err, "")}
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
	jsonFields := p.jsonFields[lv] // field -> plain string accepted
	obj := make(map[string]any, len(fb.Fields))
	var vs []Violation
	for _, f := range fb.Fields {
		plainOK, isJSON := jsonFields[f.Name]
		if !isJSON {
			obj[f.Name] = f.Value
			continue
		}
		v, err := strictjson.Decode([]byte(f.Value))
		if err != nil {
			var se *strictjson.Error
			t := strings.TrimSpace(f.Value)
			if plainOK && errors.As(err, &se) && !se.Ambiguous() && !strings.HasPrefix(t, "{") && !strings.HasPrefix(t, "[") {
				obj[f.Name] = f.Value
				continue
			}
			vs = append(vs, jsonViolation([]byte(f.Value), err, f.Name))
			continue
		}
		obj[f.Name] = v
	}
	return &Payload{Value: obj, Encoding: EncodingForm, Form: fb.Fields}, vs
}

// jsonViolation places a JSON decoding error: at its line and column, and
// for a body two parsers may read differently at the key or byte concerned.
func jsonViolation(b []byte, err error, field string) Violation {
	var se *strictjson.Error
	if !errors.As(err, &se) {
		return Violation{Field: field, Rule: "json", Message: "not valid JSON: " + err.Error()}
	}
	line, col := lineCol(b, se.Offset)
	v := Violation{Field: field, Rule: "json"}
	switch se.Kind {
	case strictjson.Duplicate:
		key := se.Pointer[strings.LastIndexByte(se.Pointer, '/')+1:]
		v.Pointer, v.Rule, v.Found = se.Pointer, "duplicate-key", unescapeToken(key)
		v.Expected = "each key once in an object"
		v.Message = fmt.Sprintf("ambiguous JSON: key %q is sent twice in one object, at line %d, column %d (byte %d), first at byte %d; parsers disagree on which value counts",
			v.Found, line, col, se.Offset, se.First)
	case strictjson.UTF8:
		v.Pointer, v.Rule = se.Pointer, "utf8"
		v.Found = fmt.Sprintf("byte 0x%02X", b[se.Offset])
		v.Expected = "UTF-8 text"
		v.Message = fmt.Sprintf("ambiguous JSON: byte %d (0x%02X, line %d, column %d) is not valid UTF-8; parsers disagree on what it stands for", se.Offset, b[se.Offset], line, col)
	case strictjson.Surrogate:
		v.Pointer, v.Rule = se.Pointer, "utf8"
		v.Found = string(b[se.Offset:min(len(b), se.Offset+6)])
		v.Expected = "UTF-8 text (a surrogate escape only in a pair)"
		v.Message = fmt.Sprintf("ambiguous JSON: %s at byte %d (line %d, column %d) is half a UTF-16 surrogate pair, alone; parsers disagree on what it stands for", v.Found, se.Offset, line, col)
	default:
		v.Message = fmt.Sprintf("not valid JSON at line %d, column %d: %s", line, col, se.Msg)
	}
	if field != "" && v.Expected == "" {
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
// unknown message, a bad level) and for a contract that does not compile;
// what is wrong with the body is in the result.
func (p *Product) Validate(body []byte, opt Options) (*Result, error) {
	lv := opt.Level
	if lv == "" {
		lv = LevelVendor
	}
	if _, err := ParseLevel(string(lv)); err != nil {
		return nil, err
	}
	c, err := p.at(lv)
	if err != nil {
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
	body, shape, ok := bodyShape(body)
	res.Violations = append(res.Violations, shape...)
	enc := opt.Encoding
	if enc == "" && ok {
		enc = DetectEncoding(body)
	}
	if enc == "" {
		enc = p.Encoding
	}
	res.Encoding = enc
	if !ok {
		return res, nil
	}
	if enc != p.Encoding {
		res.Violations = append(res.Violations, Violation{
			Rule:     "encoding",
			Found:    encodingName(enc),
			Expected: p.ContentType,
			Message:  fmt.Sprintf("the body is %s; %s callbacks are %s", encodingName(enc), p.Name, p.ContentType),
		})
		return res, nil
	}
	pl, vs := p.decode(body, enc, lv)
	res.Violations = append(res.Violations, vs...)
	if pl == nil {
		return res, nil
	}
	before := len(res.Violations)
	if err := p.validateValue(c, pl.Value, opt.Message, res); err != nil {
		return nil, err
	}
	if len(vs) > 0 {
		// A JSON-in-form field that does not parse is reported once, not
		// again as missing.
		badFields := map[string]bool{}
		for _, v := range vs {
			badFields[v.Field] = true
		}
		kept := res.Violations[:before]
		for _, v := range res.Violations[before:] {
			if !badFields[v.Field] {
				kept = append(kept, v)
			}
		}
		res.Violations = kept
	}
	sortViolations(res.Violations[before:])
	return res, nil
}

func encodingName(enc string) string {
	if enc == EncodingForm {
		return "form-encoded"
	}
	return "JSON"
}

func (p *Product) validateValue(c *compiled, v any, message string, res *Result) error {
	form := p.Encoding == EncodingForm
	if message == "" {
		message = p.Detect(v)
	}
	res.Message = message
	if message != "" {
		u, err := c.unitFor(message, v)
		if err != nil {
			return fmt.Errorf("compile %s (level %s): message %q: %w", p.Name, c.level, message, err)
		}
		vs, declared := c.check(u, v, form)
		res.Violations = append(res.Violations, vs...)
		if c.level == LevelVendor {
			p.vendorWarnings(c, v, message, declared, res)
		}
		return nil
	}
	// The message cannot be told from the payload.
	if p.table != nil {
		u, err := c.units[""].get()
		if err != nil {
			return fmt.Errorf("compile %s (level %s): the envelope: %w", p.Name, c.level, err)
		}
		vs := c.violations(u, v, form)
		if p.table.UnknownMessages == "warn" && c.level == LevelVendor {
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s: no documented message matches (%s); validated against the common envelope", p.Name, p.describeMatch(v)))
		} else if len(vs) == 0 {
			vs = append(vs, Violation{Rule: "message", Message: fmt.Sprintf("no %s message matches this payload (%s); expected one of %s", p.Name, p.describeMatch(v), strings.Join(p.MessageNames(), ", "))})
		}
		res.Violations = append(res.Violations, vs...)
		if c.level == LevelVendor {
			p.vendorWarnings(c, v, "", false, res)
		}
		return nil
	}
	disc := p.doc.Discriminator
	if disc == "" {
		// No value tells the messages apart: the payload is valid if one
		// message takes it; otherwise report the closest.
		var best []Violation
		bestName := ""
		for _, m := range p.Messages {
			u := c.messages[m.Name]
			if u.pre != nil && u.pre.Valid(v) {
				res.Message = m.Name
				return nil
			}
			vs := c.violations(u, v, form)
			if len(vs) == 0 {
				res.Message = m.Name
				return nil
			}
			if bestName == "" || len(vs) < len(best) {
				best, bestName = vs, m.Name
			}
		}
		res.Warnings = append(res.Warnings, fmt.Sprintf("no message of %s matches; violations are those of the closest, %s", p.Name, bestName))
		res.Violations = append(res.Violations, best...)
		return nil
	}
	// The discriminator is missing or holds no message's value: say so,
	// and check the rest of the payload as the first message whose
	// schema takes it once the discriminator is set to its value (or,
	// when none does, as the first message), without running the full
	// validator against every message.
	names := strings.Join(p.MessageNames(), ", ")
	got, present := lookupPointer(v, disc)
	restore, settable := setPointer(v, disc)
	chosen := p.Messages[0]
	if settable {
		for _, m := range p.Messages {
			restore(m.Match[disc], true)
			if u := c.messages[m.Name]; u.pre != nil && u.pre.Valid(v) {
				chosen = m
				break
			}
		}
		restore(chosen.Match[disc], true)
	}
	vs := c.violations(c.messages[chosen.Name], v, form)
	if settable {
		restore(got, present)
	}
	vs = dropAt(vs, disc)
	if present {
		vs = append(vs, Violation{
			Pointer:  disc,
			Rule:     "enum",
			Found:    renderValue(got),
			Expected: "one of " + names,
			Message:  fmt.Sprintf("%s is not one of %s", renderValue(got), names),
		})
	} else if !hasRequiredAbove(vs, disc) {
		vs = append(vs, Violation{Pointer: disc, Rule: "required", Expected: "one of " + names, Message: "required field is missing"})
	}
	res.Violations = append(res.Violations, vs...)
	return nil
}

// setPointer returns a function that sets (present) or removes the value
// at ptr in v, and whether the object holding it is there.
func setPointer(v any, ptr string) (func(x any, present bool), bool) {
	i := strings.LastIndexByte(ptr, '/')
	if i < 0 {
		return nil, false
	}
	parent, ok := lookupPointer(v, ptr[:i])
	obj, isObj := parent.(map[string]any)
	if !ok || !isObj {
		return nil, false
	}
	key := unescapeToken(ptr[i+1:])
	return func(x any, present bool) {
		if present {
			obj[key] = x
		} else {
			delete(obj, key)
		}
	}, true
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

// hasRequiredAbove reports a "required" violation at ptr or at an object
// on the way to it.
func hasRequiredAbove(vs []Violation, ptr string) bool {
	for _, x := range vs {
		if x.Rule == "required" && (x.Pointer == ptr || strings.HasPrefix(ptr, x.Pointer+"/")) {
			return true
		}
	}
	return false
}

// Detect tells the message of a decoded payload from the values its
// messages are matched by; "" when none matches.
func (p *Product) Detect(v any) string {
	if p.detectBy != nil {
		got, ok := lookupPointer(v, p.detectPtr)
		if s, isStr := got.(string); ok && isStr {
			return p.detectBy[s]
		}
		return ""
	}
	for _, m := range p.Messages {
		if len(m.Match) == 0 {
			continue
		}
		ok := true
		for ptr, want := range m.Match {
			got, found := lookupPointer(v, ptr)
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

// lookupPointer finds the value at a JSON pointer (RFC 6901) in a decoded
// payload, without allocating for pointers without escapes.
func lookupPointer(v any, ptr string) (any, bool) {
	if ptr == "" {
		return v, true
	}
	if ptr[0] != '/' || strings.IndexByte(ptr, '~') >= 0 {
		return asyncapi.Lookup(v, ptr)
	}
	rest := ptr[1:]
	for {
		tok := rest
		i := strings.IndexByte(rest, '/')
		if i >= 0 {
			tok = rest[:i]
		}
		switch c := v.(type) {
		case map[string]any:
			next, ok := c[tok]
			if !ok {
				return nil, false
			}
			v = next
		case []any:
			return asyncapi.Lookup(v, "/"+rest)
		default:
			return nil, false
		}
		if i < 0 {
			return v, true
		}
		rest = rest[i+1:]
	}
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
			got, ok := lookupPointer(v, ptr)
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

// violations checks v against a unit and renders every failure. The
// precheck settles a valid payload alone; for an invalid one it finds the
// failing parts, and the full validator, the authority on the verdict,
// runs on those parts only (on the whole when they do not explain the
// failure).
func (c *compiled) violations(u *unit, v any, form bool) []Violation {
	vs, _ := c.check(u, v, form)
	return vs
}

// check is violations, and also reports for a valid object whether the
// unit's schema declares all its members.
func (c *compiled) check(u *unit, v any, form bool) ([]Violation, bool) {
	if u.pre != nil {
		if ok, declared := u.pre.ValidDeclared(v); ok {
			return nil, declared
		}
	}
	return c.explain(u, v, form), false
}

// explain renders why v fails a unit.
func (c *compiled) explain(u *unit, v any, form bool) []Violation {
	seen := map[string]bool{}
	var out []Violation
	if u.pre != nil {
		explained := true
		for _, pl := range u.pre.Locate(v) {
			s, err := u.doc.schema(pl.Schema)
			part, ok := lookupPointer(v, pl.Instance)
			if err != nil || !ok {
				explained = false
				break
			}
			err = s.Validate(part)
			if err == nil {
				explained = false
				break
			}
			out = c.renderFailure(out, seen, err, u.doc, v, pl.Instance, form)
		}
		if explained && len(out) > 0 {
			return out
		}
		out, seen = nil, map[string]bool{}
	}
	s, err := u.doc.schema(u.ptr)
	if err != nil {
		return []Violation{{Rule: "schema", Message: err.Error()}}
	}
	if err := s.Validate(v); err != nil {
		out = c.renderFailure(out, seen, err, u.doc, v, "", form)
	}
	return out
}

// renderFailure renders the leaves of a validation error of the part of
// v at prefix.
func (c *compiled) renderFailure(out []Violation, seen map[string]bool, err error, doc *schemaDoc, v any, prefix string, form bool) []Violation {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return append(out, Violation{Rule: "schema", Message: err.Error()})
	}
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, x := range e.Causes {
				walk(x)
			}
			return
		}
		for _, viol := range render(e, prefix+e.InstanceLocation, v, doc.raw) {
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
	if len(vs) < 2 {
		return
	}
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
