package spec

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/kycsim/kycsim/spec/asyncapi"
	"github.com/kycsim/kycsim/spec/fieldtable"
	"github.com/kycsim/kycsim/spec/format"
)

// Violation is one broken rule of a payload.
type Violation struct {
	// Header is the HTTP header concerned (request checks only).
	Header string `json:"header,omitempty"`
	// Field is the form field concerned (form products only).
	Field string `json:"field,omitempty"`
	// Pointer is the JSON pointer of the value concerned: into the body
	// for JSON products, into the field's JSON for JSON-in-form fields.
	Pointer string `json:"pointer"`
	// Rule is the rule broken: required, enum, const, type, format,
	// maxLength, pattern, absent, additionalProperties, json, form,
	// encoding, message, ...
	Rule     string `json:"rule"`
	Found    string `json:"found,omitempty"`
	Expected string `json:"expected,omitempty"`
	// Note is the vendor rule behind the check, when the contract states one.
	Note    string `json:"note,omitempty"`
	Message string `json:"message"`
}

// Place renders where the violation is: a JSON pointer, a form field, or
// a form field followed by the pointer inside its JSON ("rejectReason#/rejectReasonCode").
func (v Violation) Place() string {
	switch {
	case v.Header != "":
		return "header " + v.Header
	case v.Field != "" && v.Pointer != "":
		return v.Field + "#" + v.Pointer
	case v.Field != "":
		return v.Field
	case v.Pointer != "":
		return v.Pointer
	}
	return "(body)"
}

// String renders the violation on one line.
func (v Violation) String() string {
	s := v.Place() + ": " + v.Message
	if v.Note != "" {
		s += " (" + v.Note + ")"
	}
	return s
}

// render turns one leaf validation error, at the instance pointer at of
// inst, into violations; doc is the schema document the error is in.
func render(e *jsonschema.ValidationError, at string, inst any, doc map[string]any) []Violation {
	_, kwPtr, _ := strings.Cut(e.AbsoluteKeywordLocation, "#")
	kw := kwPtr[strings.LastIndexByte(kwPtr, '/')+1:]
	kwVal, _ := asyncapi.Lookup(doc, kwPtr)
	parentPtr := kwPtr[:max(0, strings.LastIndexByte(kwPtr, '/'))]
	parent, _ := asyncapi.Lookup(doc, parentPtr)
	note := commentOf(doc, parentPtr)
	got, present := lookupPointer(inst, at)
	v := Violation{Pointer: at, Rule: kw, Note: note}
	if present {
		v.Found = renderValue(got)
	}
	switch kw {
	case "required":
		obj, _ := got.(map[string]any)
		names := toStrings(kwVal)
		var out []Violation
		for _, n := range names {
			if _, ok := obj[n]; ok {
				continue
			}
			vn := note
			if notes, ok := parent.(map[string]any)[fieldtable.RequiredNotesKeyword].(map[string]any); ok {
				if s, ok := notes[n].(string); ok {
					vn = s
				}
			}
			out = append(out, Violation{Pointer: at + "/" + escapeToken(n), Rule: "required", Note: vn, Message: "required field is missing"})
		}
		return out
	case "additionalProperties":
		obj, _ := got.(map[string]any)
		props, _ := parent.(map[string]any)["properties"].(map[string]any)
		var out []Violation
		var extra []string
		for k := range obj {
			if _, ok := props[k]; !ok {
				extra = append(extra, k)
			}
		}
		sort.Strings(extra)
		for _, k := range extra {
			out = append(out, Violation{Pointer: at + "/" + escapeToken(k), Rule: "additionalProperties", Found: renderValue(obj[k]), Note: note,
				Message: "undocumented field (accepted at level vendor, not at level strict)"})
		}
		return out
	case "enum":
		vals := valueList(kwVal)
		v.Expected = "one of " + vals
		if arr, ok := kwVal.([]any); ok && len(arr) == 1 {
			v.Expected = vals
			v.Message = fmt.Sprintf("%s is not %s", v.Found, vals)
		} else {
			v.Message = fmt.Sprintf("%s is not one of %s", v.Found, vals)
		}
	case "const":
		v.Expected = plainValue(kwVal)
		v.Message = fmt.Sprintf("%s is not %s", v.Found, v.Expected)
	case "type":
		v.Expected = typeList(kwVal)
		if got == nil {
			v.Message = fmt.Sprintf("null; expected %s", v.Expected)
		} else {
			v.Message = fmt.Sprintf("%s is %s; expected %s", v.Found, jsonTypeOf(got), v.Expected)
		}
	case "format":
		name, _ := kwVal.(string)
		v.Rule = "format"
		v.Expected = name
		if f, ok := format.Lookup(name); ok {
			v.Expected = f.Expected
		}
		v.Message = fmt.Sprintf("%s is not a valid %s: expected %s", v.Found, name, v.Expected)
	case "maxLength":
		s, _ := got.(string)
		v.Expected = fmt.Sprintf("at most %s characters", plainValue(kwVal))
		v.Message = fmt.Sprintf("%s is %d characters long; at most %s allowed", v.Found, utf8.RuneCountInString(s), plainValue(kwVal))
	case "minItems":
		v.Expected = fmt.Sprintf("at least %s items", plainValue(kwVal))
		v.Message = fmt.Sprintf("array has %d items; at least %s expected", lenOf(got), plainValue(kwVal))
	case "pattern":
		v.Expected = "a value matching " + plainValue(kwVal)
		v.Message = fmt.Sprintf("%s does not match %s", v.Found, plainValue(kwVal))
	case "not":
		if m, ok := kwVal.(map[string]any); ok && len(m) == 0 {
			v.Rule = "absent"
			v.Expected = "no such field"
			v.Message = "field is present but must be absent here"
			break
		}
		v.Message = fmt.Sprintf("%s matches a shape it must not have", v.Found)
	default:
		if b, ok := kwVal.(bool); ok && !b {
			v.Rule = "absent"
			v.Message = "field is present but must be absent here"
			break
		}
		v.Message = e.Message
		if v.Found != "" {
			v.Message = v.Found + ": " + e.Message
		}
	}
	return []Violation{v}
}

// commentOf finds the vendor rule ($comment) behind a failed keyword: on
// the schema holding the keyword, or on the case fragment or if/then that
// holds that schema. It climbs through fragments only (schemas without a
// type of their own), so a field's own rules never borrow an unrelated note.
func commentOf(doc map[string]any, ptr string) string {
	for i := 0; i < 6; i++ {
		s, _ := asyncapi.Lookup(doc, ptr)
		m, _ := s.(map[string]any)
		if c, ok := m["$comment"].(string); ok {
			return c
		}
		if _, typed := m["type"]; typed && i > 0 {
			return ""
		}
		j := strings.LastIndexByte(ptr, '/')
		if j < 0 {
			return ""
		}
		parent, last := ptr[:j], ptr[j+1:]
		k := strings.LastIndexByte(parent, '/')
		switch {
		case last == "then" || last == "else" || last == "items":
			ptr = parent
		case k >= 0 && (parent[k+1:] == "properties" || parent[k+1:] == "allOf"):
			ptr = parent[:k]
		default:
			return ""
		}
	}
	return ""
}

func toStrings(v any) []string {
	arr, _ := v.([]any)
	out := make([]string, 0, len(arr))
	for _, x := range arr {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// renderValue shows a found value: JSON, shortened past 80 characters.
func renderValue(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	s := string(b)
	if utf8.RuneCountInString(s) > 80 {
		r := []rune(s)
		s = string(r[:77]) + "..."
	}
	return s
}

// plainValue shows an expected value: strings bare, others as JSON.
func plainValue(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	if v == nil {
		return "null"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func valueList(v any) string {
	arr, _ := v.([]any)
	parts := make([]string, len(arr))
	for i, x := range arr {
		parts[i] = plainValue(x)
		if s, ok := x.(string); ok && (s == "" || strings.ContainsAny(s, " ,")) {
			parts[i] = fmt.Sprintf("%q", s)
		} else if ok && (s == "true" || s == "false" || s == "null") {
			parts[i] = fmt.Sprintf("%q", s)
		}
	}
	return strings.Join(parts, ", ")
}

func typeList(v any) string {
	switch t := v.(type) {
	case string:
		return articled(t)
	case []any:
		parts := make([]string, len(t))
		for i, x := range t {
			parts[i] = fmt.Sprint(x)
		}
		return strings.Join(parts, " or ")
	}
	return fmt.Sprint(v)
}

func articled(t string) string {
	switch t {
	case "object", "array", "integer":
		return "an " + t
	case "null":
		return "null"
	}
	return "a " + t
}

func jsonTypeOf(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case json.Number:
		if strings.ContainsAny(x.String(), ".eE") {
			return "a number"
		}
		return "an integer"
	case float64, int:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func lenOf(v any) int {
	if a, ok := v.([]any); ok {
		return len(a)
	}
	return 0
}

func escapeToken(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}
