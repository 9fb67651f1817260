// Package event builds vendor-faithful callback payloads for every product
// and message of the spec catalog (Jumio KYX, Jumio Netverify,
// Authentication and Document Verification, Sumsub) and applies user
// overrides to them.
//
// Build makes an event whose values are realistic and consistent with the
// message (a Netverify DENIED_FRAUD carries a fraud reject code, a RED
// Sumsub review carries reject labels, every URL points at the sandbox).
// By default an event is shaped as the vendors really send it, where that
// departs from their field tables (FormReal; it passes level vendor);
// FormTable shapes it as the tables say (it passes level strict). Which
// optional fields appear, and in which format, are variants chosen by the
// source of generated values: a seed (NewRand) builds the same event
// again. Set and Unset change it by path; MessageFields tells a path that
// names a field of the message from a typo; Body renders the exact bytes
// to send.
package event

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/kycsim/kycsim/spec"
	"github.com/kycsim/kycsim/spec/form"
)

// Event is one callback ready to send.
type Event struct {
	Product string
	Message string
	// Subject is the id the receiver keys its state by (see DESIGN.md:
	// workflowExecution.id, jumioIdScanReference, transactionReference,
	// scanReference or applicantId). Set and Unset keep it in step with
	// Root.
	Subject string
	// Encoding is spec.EncodingJSON or spec.EncodingForm.
	Encoding    string
	ContentType string
	// Root is the payload: the JSON object, or for a form product the form
	// fields in order, JSON-in-form fields holding *Object or []any.
	Root *Object

	jsonFields  map[string]bool // JSON-in-form fields of a form product
	subjectPath []string
	// variants are the variants Build took at each choice point, for
	// tests that every one of them is valid.
	variants map[string]string
}

// Body returns the exact bytes to send: compact JSON with the members in
// order, or an application/x-www-form-urlencoded body with the fields in
// order, where a field holding a string or FormText is sent as it is and
// any other value as its JSON text. A value outside the JSON model (only
// possible by changing Root's slices directly) is sent as null.
func (e *Event) Body() []byte {
	if e.Encoding == spec.EncodingForm {
		return []byte(form.Encode(e.formFields()))
	}
	return safeJSON(e.Root)
}

// formFields renders the form fields of the event.
func (e *Event) formFields() []form.Field {
	fields := make([]form.Field, 0, e.Root.Len())
	for _, m := range e.Root.members {
		var text string
		switch v := m.value.(type) {
		case string:
			if e.jsonFields[m.key] {
				text = string(appendString(nil, v))
			} else {
				text = v
			}
		case FormText:
			text = string(v)
		default:
			text = string(safeJSON(v))
		}
		fields = append(fields, form.Field{Name: m.key, Value: text})
	}
	return fields
}

// safeJSON renders v, with values outside the JSON model as null.
func safeJSON(v any) []byte {
	b, _ := appendJSON(make([]byte, 0, 1024), v, true)
	return b
}

// Set stores value at path. The value is read as JSON when it is valid
// JSON (so `12` is a number, `"12"` a string, `{"a":1}` an object) and
// taken as a plain string otherwise. The path is dotted
// ("reviewResult.rejectLabels") or a JSON pointer ("/reviewResult/rejectLabels"),
// see ParsePath. For a form product the first token names the form field
// and the rest is a path inside that JSON-in-form field.
//
// Missing objects on the way are created; an array index must name an
// element or be the array's length (append). A plain string set on a whole
// JSON-in-form field is sent JSON-encoded; use SetRaw to send text as it
// is. On error the event is unchanged.
func (e *Event) Set(path, value string) error {
	if !utf8.ValidString(value) {
		return fmt.Errorf("set %s: the value is not valid UTF-8", path)
	}
	return e.SetValue(path, parseValue(value))
}

// SetValue stores a Go value of the JSON model (see Object) at path, like
// Set without the JSON reading.
func (e *Event) SetValue(path string, value any) error {
	toks, err := ParsePath(path)
	if err != nil {
		return fmt.Errorf("set %s: %w", path, err)
	}
	if e.Root == nil {
		return fmt.Errorf("set %s: the event has no payload", path)
	}
	if err := checkValue(value, e.Root, 0); err != nil {
		return fmt.Errorf("set %s: %w", path, err)
	}
	if err := e.checkFormPath(toks, true); err != nil {
		return fmt.Errorf("set %s: %w", path, err)
	}
	if _, err := setIn(e.Root, toks, value, nil); err != nil {
		return fmt.Errorf("set %s: %w", path, err)
	}
	e.syncSubject()
	return nil
}

// SetRaw sets a form field of a form product to text sent exactly as it
// is: the way to send a plain string where a JSON-in-form field is
// expected (the Authentication sample's plain idScanImageFace URL) or
// broken JSON. field is a form field name, not a path.
func (e *Event) SetRaw(field, text string) error {
	if e.Encoding != spec.EncodingForm {
		return fmt.Errorf("set raw %s: %s callbacks are JSON; raw form text applies to form products", field, e.Product)
	}
	if field == "" {
		return errors.New("set raw: the form field name is empty")
	}
	if !utf8.ValidString(field) || !utf8.ValidString(text) {
		return fmt.Errorf("set raw %s: not valid UTF-8", field)
	}
	if e.Root == nil {
		return fmt.Errorf("set raw %s: the event has no payload", field)
	}
	e.Root.set(field, FormText(text))
	e.syncSubject()
	return nil
}

// Unset removes what is at path (see Set for the syntax). It is an error
// when nothing is there. On error the event is unchanged.
func (e *Event) Unset(path string) error {
	toks, err := ParsePath(path)
	if err != nil {
		return fmt.Errorf("unset %s: %w", path, err)
	}
	if e.Root == nil {
		return fmt.Errorf("unset %s: the event has no payload", path)
	}
	if err := e.checkFormPath(toks, false); err != nil {
		return fmt.Errorf("unset %s: %w", path, err)
	}
	if _, err := unsetIn(e.Root, toks, nil); err != nil {
		return fmt.Errorf("unset %s: %w", path, err)
	}
	e.syncSubject()
	return nil
}

// Get returns the value at path (see Set for the syntax).
func (e *Event) Get(path string) (any, error) {
	toks, err := ParsePath(path)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", path, err)
	}
	v, ok := getIn(e.Root, toks)
	if !ok {
		return nil, fmt.Errorf("get %s: nothing at %s", path, FormatPointer(toks))
	}
	return v, nil
}

// checkFormPath explains why a path reaching inside a form field of a
// form product cannot work: the field is a plain one, or holds raw text.
func (e *Event) checkFormPath(toks []string, creating bool) error {
	if e.Encoding != spec.EncodingForm || len(toks) < 2 {
		return nil
	}
	field := toks[0]
	v, ok := e.Root.Get(field)
	if !e.jsonFields[field] {
		if !ok && !creating {
			return fmt.Errorf("nothing at form field %s", field)
		}
		return fmt.Errorf("form field %s is not a JSON-in-form field (those of %s are %s); a path can go inside only those", field, e.Product, strings.Join(e.jsonFieldNames(), ", "))
	}
	if _, raw := v.(FormText); ok && raw {
		return fmt.Errorf("form field %s holds raw form text; set the whole field first", field)
	}
	return nil
}

func (e *Event) jsonFieldNames() []string {
	names := make([]string, 0, len(e.jsonFields))
	for n := range e.jsonFields {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// syncSubject reads Subject back from Root after a change.
func (e *Event) syncSubject() {
	if len(e.subjectPath) == 0 {
		return
	}
	v, ok := getIn(e.Root, e.subjectPath)
	if !ok {
		e.Subject = ""
		return
	}
	switch s := v.(type) {
	case string:
		e.Subject = s
	case FormText:
		e.Subject = string(s)
	default:
		e.Subject = string(safeJSON(v))
	}
}

// Clone returns a deep copy of the event, to change without touching the
// original (a redelivery with a fresh timestamp, say).
func (e *Event) Clone() *Event {
	c := *e
	c.Root = e.Root.Clone()
	return &c
}

// checkBase validates a vendor base URL and returns it without a trailing
// slash.
func checkBase(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("vendor base %q: %w", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("vendor base %q: the scheme must be http or https", s)
	}
	if u.Host == "" || u.Hostname() == "" {
		return "", fmt.Errorf("vendor base %q: no host", s)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("vendor base %q: a base URL has no user, query or fragment", s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] == 0x7f {
			return "", fmt.Errorf("vendor base %q: control character or space", s)
		}
	}
	return strings.TrimRight(s, "/"), nil
}
