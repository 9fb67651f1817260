// Package precheck answers one question about a JSON value fast: does it
// satisfy a draft-07 JSON Schema? It compiles a subset of draft-07 into a
// plain tree of checks that builds no error values, so that the common
// case, a valid payload, costs little. It never explains a failure: a
// caller that gets false runs the full validator for the report.
//
// The contract is one-sided and exact: Valid returns true only for values
// the full validator (santhosh-tekuri/jsonschema/v5, draft 7) accepts. A
// schema using a keyword outside the subset is refused at compile time,
// and a validation that cannot finish (a reference loop that consumes no
// input) answers false.
package precheck

import (
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kycsim/kycsim/spec/jsonvalue"
)

// UnsupportedError reports a schema the subset does not cover.
type UnsupportedError struct {
	Pointer string // where in the document
	Keyword string
}

// Error implements error.
func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("%s: keyword %q is not covered by the precheck", e.Pointer, e.Keyword)
}

// FormatFunc checks a value against a named format, as the full
// validator's format functions do.
type FormatFunc func(any) bool

// Schema is a compiled schema.
type Schema struct {
	// ptr is where the schema is in the document it was compiled from.
	ptr string
	// always is set for the boolean schemas true and false.
	always, never bool
	ref           *Schema

	types uint8 // bit set of type*; 0 is any

	hasConst bool
	constant any
	enum     []any
	enumStr  stringSet // enum of strings only

	minLength, maxLength int // -1 when absent
	pattern              *regexp.Regexp
	format               FormatFunc

	minimum, maximum, exclusiveMinimum, exclusiveMaximum *big.Rat

	properties    []property
	propIndex     nameIndex
	required      []string
	patternProps  []patternProperty
	additional    *Schema // nil: no constraint
	minProperties int     // -1 when absent
	maxProperties int

	items           *Schema   // one schema for every item
	tupleItems      []*Schema // items given as an array
	additionalItems *Schema
	minItems        int // -1 when absent
	maxItems        int

	allOf, anyOf, oneOf []*Schema
	not                 *Schema
	ifS, thenS, elseS   *Schema

	// plainString is set for a schema that asks a string value only
	// for its type, values, length and format: checked inline by the
	// object and array walks.
	plainString bool
	// requiredOnly is set for a schema that asks only for members (as
	// the conditions of if/then do): checked without the general walk.
	requiredOnly bool
}

type property struct {
	name   string
	schema *Schema
}

// nameIndex finds a property by name: among the few of the name's
// length, by comparing, which beats hashing every member name of a
// payload into a map.
type nameIndex [][]property

// newNameIndex indexes properties by the length of their names.
func newNameIndex(props []property) nameIndex {
	var ix nameIndex
	for _, p := range props {
		for len(ix) <= len(p.name) {
			ix = append(ix, nil)
		}
		ix[len(p.name)] = append(ix[len(p.name)], p)
	}
	return ix
}

// stringSet is a set of strings, looked up as nameIndex looks names up.
// A set with no strings is an empty, non-nil set.
type stringSet [][]string

// newStringSet makes the set of strs.
func newStringSet(strs []string) stringSet {
	set := stringSet{nil}
	for _, x := range strs {
		for len(set) <= len(x) {
			set = append(set, nil)
		}
		set[len(x)] = append(set[len(x)], x)
	}
	return set
}

// has reports whether x is in the set.
func (set stringSet) has(x string) bool {
	if len(x) >= len(set) {
		return false
	}
	for _, y := range set[len(x)] {
		if x == y {
			return true
		}
	}
	return false
}

// get returns the schema of the named property, or nil.
func (ix nameIndex) get(name string) *Schema {
	if len(name) >= len(ix) {
		return nil
	}
	for _, p := range ix[len(name)] {
		if p.name == name {
			return p.schema
		}
	}
	return nil
}

type patternProperty struct {
	re     *regexp.Regexp
	schema *Schema
}

const (
	typeNull uint8 = 1 << iota
	typeBoolean
	typeObject
	typeArray
	typeNumber
	typeInteger
	typeString
)

var typeBits = map[string]uint8{
	"null": typeNull, "boolean": typeBoolean, "object": typeObject, "array": typeArray,
	"number": typeNumber, "integer": typeInteger, "string": typeString,
}

// unsupported are the draft-7 assertions the subset leaves out.
var unsupported = map[string]bool{
	"multipleOf": true, "uniqueItems": true, "contains": true, "dependencies": true,
	"propertyNames": true,
}

type compiler struct {
	root    any
	formats func(string) FormatFunc
	done    map[string]*Schema
}

// Compile compiles the schema at the JSON pointer ptr ("" for the whole
// document) of doc, a decoded JSON document; "$ref"s must point inside
// doc ("#/..."). formats returns the check of a format name, nil for a
// format that is not asserted.
func Compile(doc any, ptr string, formats func(string) FormatFunc) (*Schema, error) {
	c := &compiler{root: doc, formats: formats, done: map[string]*Schema{}}
	return c.at(ptr)
}

func (c *compiler) at(ptr string) (*Schema, error) {
	if s, ok := c.done[ptr]; ok {
		return s, nil
	}
	v, err := lookup(c.root, ptr)
	if err != nil {
		return nil, err
	}
	s := &Schema{ptr: ptr}
	c.done[ptr] = s
	if err := c.fill(s, v, ptr); err != nil {
		return nil, err
	}
	return s, nil
}

func (c *compiler) fill(s *Schema, v any, ptr string) error {
	s.minLength, s.maxLength, s.minProperties, s.maxProperties, s.minItems, s.maxItems = -1, -1, -1, -1, -1, -1
	switch m := v.(type) {
	case bool:
		s.always, s.never = m, !m
		return nil
	case map[string]any:
		if ref, ok := m["$ref"]; ok {
			r, ok := ref.(string)
			if !ok || !strings.HasPrefix(r, "#") || strings.ContainsRune(r, '%') {
				return &UnsupportedError{Pointer: ptr, Keyword: "$ref"}
			}
			// Draft 7: every other keyword beside $ref is ignored.
			t, err := c.at(r[1:])
			if err != nil {
				return fmt.Errorf("%s/$ref: %w", ptr, err)
			}
			s.ref = t
			return nil
		}
		if _, ok := m["$id"]; ok && ptr != "" {
			return &UnsupportedError{Pointer: ptr, Keyword: "$id"}
		}
		for k, x := range m {
			if err := c.keyword(s, m, k, x, ptr); err != nil {
				return err
			}
		}
		noComposition := s.allOf == nil && s.anyOf == nil && s.oneOf == nil && s.not == nil && s.ifS == nil && s.thenS == nil && s.elseS == nil
		s.plainString = s.types == typeString && !s.hasConst && (s.enum == nil || s.enumStr != nil) && s.pattern == nil && noComposition
		s.requiredOnly = s.required != nil && noComposition && s.types == 0 && !s.hasConst && s.enum == nil &&
			s.minLength < 0 && s.maxLength < 0 && s.pattern == nil && s.format == nil &&
			s.minimum == nil && s.maximum == nil && s.exclusiveMinimum == nil && s.exclusiveMaximum == nil &&
			s.properties == nil && s.patternProps == nil && s.additional == nil && s.minProperties < 0 && s.maxProperties < 0 &&
			s.items == nil && s.tupleItems == nil && s.additionalItems == nil && s.minItems < 0 && s.maxItems < 0
		return nil
	}
	return fmt.Errorf("%s: a schema must be an object or a boolean, not %T", ptr, v)
}

// stringValid checks a string against a plainString schema; v is x as the
// value holds it, for the format function (no conversion, no allocation).
func (s *Schema) stringValid(x string, v any) bool {
	if s.enumStr != nil && !s.enumStr.has(x) {
		return false
	}
	// A string has at most as many characters as bytes: count them only
	// when the byte length does not settle it.
	if s.minLength > 0 || (s.maxLength >= 0 && len(x) > s.maxLength) {
		n := utf8.RuneCountInString(x)
		if (s.minLength >= 0 && n < s.minLength) || (s.maxLength >= 0 && n > s.maxLength) {
			return false
		}
	}
	return s.format == nil || s.format(v)
}

// member checks a member or item value x against its schema ps.
func (st *state) member(ps *Schema, x any) bool {
	if ps.plainString {
		if str, ok := x.(string); ok {
			return ps.stringValid(str, x)
		}
	}
	return st.valid(ps, x)
}

func (c *compiler) keyword(s *Schema, m map[string]any, k string, x any, ptr string) error {
	at := ptr + "/" + escape(k)
	bad := func() error { return fmt.Errorf("%s: malformed %q", at, k) }
	sub := func(p string) (*Schema, error) { return c.at(p) }
	switch k {
	case "type":
		switch t := x.(type) {
		case string:
			b, ok := typeBits[t]
			if !ok {
				return bad()
			}
			s.types = b
		case []any:
			for _, e := range t {
				n, _ := e.(string)
				b, ok := typeBits[n]
				if !ok {
					return bad()
				}
				s.types |= b
			}
		default:
			return bad()
		}
	case "const":
		s.hasConst, s.constant = true, x
	case "enum":
		e, ok := x.([]any)
		if !ok {
			return bad()
		}
		s.enum = e
		strs := make([]string, 0, len(e))
		for _, v := range e {
			str, ok := v.(string)
			if !ok {
				strs = nil
				break
			}
			strs = append(strs, str)
		}
		if strs != nil {
			s.enumStr = newStringSet(strs)
		}
	case "minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties":
		n, ok := count(x)
		if !ok {
			return bad()
		}
		switch k {
		case "minLength":
			s.minLength = n
		case "maxLength":
			s.maxLength = n
		case "minItems":
			s.minItems = n
		case "maxItems":
			s.maxItems = n
		case "minProperties":
			s.minProperties = n
		case "maxProperties":
			s.maxProperties = n
		}
	case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum":
		r, ok := jsonvalue.Number(x)
		if !ok {
			return bad()
		}
		switch k {
		case "minimum":
			s.minimum = r
		case "maximum":
			s.maximum = r
		case "exclusiveMinimum":
			s.exclusiveMinimum = r
		case "exclusiveMaximum":
			s.exclusiveMaximum = r
		}
	case "pattern":
		p, ok := x.(string)
		if !ok {
			return bad()
		}
		re, err := regexp.Compile(p)
		if err != nil {
			return fmt.Errorf("%s: %w", at, err)
		}
		s.pattern = re
	case "format":
		f, ok := x.(string)
		if !ok {
			return bad()
		}
		if c.formats != nil {
			s.format = c.formats(f)
		}
	case "required":
		r, ok := x.([]any)
		if !ok {
			return bad()
		}
		for _, e := range r {
			n, ok := e.(string)
			if !ok {
				return bad()
			}
			s.required = append(s.required, n)
		}
	case "properties":
		props, ok := x.(map[string]any)
		if !ok {
			return bad()
		}
		for name := range props {
			ps, err := sub(at + "/" + escape(name))
			if err != nil {
				return err
			}
			s.properties = append(s.properties, property{name, ps})
		}
		s.propIndex = newNameIndex(s.properties)
	case "patternProperties":
		props, ok := x.(map[string]any)
		if !ok {
			return bad()
		}
		for p := range props {
			re, err := regexp.Compile(p)
			if err != nil {
				return fmt.Errorf("%s: %w", at, err)
			}
			ps, err := sub(at + "/" + escape(p))
			if err != nil {
				return err
			}
			s.patternProps = append(s.patternProps, patternProperty{re, ps})
		}
	case "additionalProperties", "additionalItems", "not", "if", "then", "else":
		t, err := sub(at)
		if err != nil {
			return err
		}
		switch k {
		case "additionalProperties":
			s.additional = t
		case "additionalItems":
			s.additionalItems = t
		case "not":
			s.not = t
		case "if":
			s.ifS = t
		case "then":
			s.thenS = t
		case "else":
			s.elseS = t
		}
	case "items":
		if arr, ok := x.([]any); ok {
			for i := range arr {
				t, err := sub(at + "/" + strconv.Itoa(i))
				if err != nil {
					return err
				}
				s.tupleItems = append(s.tupleItems, t)
			}
			break
		}
		t, err := sub(at)
		if err != nil {
			return err
		}
		s.items = t
	case "allOf", "anyOf", "oneOf":
		arr, ok := x.([]any)
		if !ok || len(arr) == 0 {
			return bad()
		}
		list := make([]*Schema, len(arr))
		for i := range arr {
			t, err := sub(at + "/" + strconv.Itoa(i))
			if err != nil {
				return err
			}
			list[i] = t
		}
		switch k {
		case "allOf":
			s.allOf = list
		case "anyOf":
			s.anyOf = list
		case "oneOf":
			s.oneOf = list
		}
	default:
		if unsupported[k] {
			return &UnsupportedError{Pointer: ptr, Keyword: k}
		}
		// Annotations ($comment, title, description, default, examples,
		// definitions, ...) and unknown keywords assert nothing.
	}
	return nil
}

// lookup resolves a JSON pointer (RFC 6901) in doc.
func lookup(doc any, ptr string) (any, error) {
	if ptr == "" {
		return doc, nil
	}
	if ptr[0] != '/' {
		return nil, fmt.Errorf("%q is not a JSON pointer", ptr)
	}
	v := doc
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := v.(type) {
		case map[string]any:
			x, ok := c[tok]
			if !ok {
				return nil, fmt.Errorf("%s: nothing there", ptr)
			}
			v = x
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) || strconv.Itoa(i) != tok {
				return nil, fmt.Errorf("%s: nothing there", ptr)
			}
			v = c[i]
		default:
			return nil, fmt.Errorf("%s: nothing there", ptr)
		}
	}
	return v, nil
}

func escape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func count(x any) (int, bool) {
	r, ok := jsonvalue.Number(x)
	if !ok || !r.IsInt() || r.Sign() < 0 || !r.Num().IsInt64() {
		return 0, false
	}
	n := r.Num().Int64()
	if n > int64(^uint32(0)>>1) {
		n = int64(^uint32(0) >> 1)
	}
	return int(n), true
}

// maxDepth bounds the $refs followed, nested, in one validation, so a
// reference loop that consumes no input ends (with false). Without a
// $ref a schema is a finite tree, and so is the nesting of its checks.
const maxDepth = 512

type state struct {
	refs    int
	aborted bool
	// objects is set once an object has been checked: the first is the
	// root value's.
	objects bool
	// declared is set when the value is an object whose members the
	// root schema all declares in its properties (see ValidDeclared).
	declared bool
}

// Valid reports whether v, a decoded JSON value (json.Number or Go numbers
// for numbers), satisfies the schema. False may also mean the question
// could not be settled; the full validator then decides.
func (s *Schema) Valid(v any) bool {
	var st state
	ok := st.valid(s, v)
	return ok && !st.aborted
}

// ValidDeclared is Valid, and for a valid v also reports whether v is an
// object each of whose members the schema declares under properties (a
// caller looking for undocumented members then need not look): at no
// cost beyond Valid's.
func (s *Schema) ValidDeclared(v any) (valid, declared bool) {
	var st state
	ok := st.valid(s, v) && !st.aborted
	_, isObject := v.(map[string]any)
	return ok, ok && isObject && st.declared
}

func (st *state) valid(s *Schema, v any) bool {
	return st.check(s, v, false)
}

// own is valid without the schemas of declared properties and items.
func (st *state) own(s *Schema, v any) bool {
	return st.check(s, v, true)
}

// check checks v against every keyword of s: valid (own unset) or own
// (own set).
func (st *state) check(s *Schema, v any, own bool) bool {
	if st.aborted {
		return false
	}
	if s.requiredOnly {
		if obj, ok := v.(map[string]any); ok {
			for _, r := range s.required {
				if _, ok := obj[r]; !ok {
					return false
				}
			}
		}
		return true
	}
	if s.always {
		return true
	}
	if s.never {
		return false
	}
	if s.ref != nil {
		if st.refs >= maxDepth {
			st.aborted = true
			return false
		}
		st.refs++
		ok := st.valid(s.ref, v)
		st.refs--
		return ok
	}
	if s.types != 0 && !hasType(s.types, v) {
		return false
	}
	if s.hasConst && !jsonvalue.Equal(v, s.constant) {
		return false
	}
	if s.enum != nil && !s.inEnum(v) {
		return false
	}
	switch x := v.(type) {
	case string:
		// A string has at most as many characters as bytes: count them
		// only when the byte length does not settle it.
		if s.minLength > 0 || (s.maxLength >= 0 && len(x) > s.maxLength) {
			n := utf8.RuneCountInString(x)
			if (s.minLength >= 0 && n < s.minLength) || (s.maxLength >= 0 && n > s.maxLength) {
				return false
			}
		}
		if s.pattern != nil && !s.pattern.MatchString(x) {
			return false
		}
	case map[string]any:
		if !st.object(s, x, own) {
			return false
		}
	case []any:
		if !st.array(s, x, own) {
			return false
		}
	case nil, bool:
	default:
		if s.minimum != nil || s.maximum != nil || s.exclusiveMinimum != nil || s.exclusiveMaximum != nil {
			r, ok := jsonvalue.Number(v)
			if !ok {
				return false
			}
			if (s.minimum != nil && r.Cmp(s.minimum) < 0) || (s.maximum != nil && r.Cmp(s.maximum) > 0) ||
				(s.exclusiveMinimum != nil && r.Cmp(s.exclusiveMinimum) <= 0) ||
				(s.exclusiveMaximum != nil && r.Cmp(s.exclusiveMaximum) >= 0) {
				return false
			}
		}
	}
	if s.format != nil && !s.format(v) {
		return false
	}
	for _, t := range s.allOf {
		if !st.valid(t, v) {
			return false
		}
	}
	if s.anyOf != nil {
		any := false
		for _, t := range s.anyOf {
			if st.valid(t, v) {
				any = true
				break
			}
		}
		if !any {
			return false
		}
	}
	if s.oneOf != nil {
		n := 0
		for _, t := range s.oneOf {
			if st.valid(t, v) {
				n++
			}
		}
		if n != 1 {
			return false
		}
	}
	if s.not != nil && st.valid(s.not, v) {
		return false
	}
	if s.ifS != nil {
		if st.valid(s.ifS, v) {
			if s.thenS != nil && !st.valid(s.thenS, v) {
				return false
			}
		} else if s.elseS != nil && !st.valid(s.elseS, v) {
			return false
		}
	}
	return true
}

// object checks an object against the object keywords of s. With own
// set, the schemas of declared properties are left out: only what the
// object itself must be (its members' count, the required ones, the
// members no declared property covers, and pattern properties).
func (st *state) object(s *Schema, obj map[string]any, own bool) bool {
	if (s.minProperties >= 0 && len(obj) < s.minProperties) || (s.maxProperties >= 0 && len(obj) > s.maxProperties) {
		return false
	}
	for _, r := range s.required {
		if _, ok := obj[r]; !ok {
			return false
		}
	}
	root := !st.objects
	st.objects = true
	if s.additional == nil && s.patternProps == nil {
		if own {
			return true
		}
		// Walk the shorter side, counting the declared members.
		n := 0
		if len(s.properties) <= len(obj) {
			for _, p := range s.properties {
				if x, ok := obj[p.name]; ok {
					n++
					if !st.member(p.schema, x) {
						return false
					}
				}
			}
		} else {
			for k, x := range obj {
				if ps := s.propIndex.get(k); ps != nil {
					n++
					if !st.member(ps, x) {
						return false
					}
				}
			}
		}
		if root {
			st.declared = n == len(obj)
		}
		return true
	}
	n := 0
	for k, x := range obj {
		matched := false
		if ps := s.propIndex.get(k); ps != nil {
			n++
			matched = true
			if !own && !st.valid(ps, x) {
				return false
			}
		}
		for _, pp := range s.patternProps {
			if pp.re.MatchString(k) {
				matched = true
				if !st.valid(pp.schema, x) {
					return false
				}
			}
		}
		if !matched && s.additional != nil && !st.valid(s.additional, x) {
			return false
		}
	}
	if root && !own {
		st.declared = n == len(obj)
	}
	return true
}

// array checks an array against the array keywords of s; with own set,
// the item schemas are left out (additionalItems stays).
func (st *state) array(s *Schema, arr []any, own bool) bool {
	if (s.minItems >= 0 && len(arr) < s.minItems) || (s.maxItems >= 0 && len(arr) > s.maxItems) {
		return false
	}
	if s.items != nil {
		if own {
			return true
		}
		for _, x := range arr {
			if !st.member(s.items, x) {
				return false
			}
		}
		return true
	}
	if s.tupleItems != nil {
		for i, x := range arr {
			if i < len(s.tupleItems) {
				if !own && !st.valid(s.tupleItems[i], x) {
					return false
				}
			} else if s.additionalItems != nil && !st.valid(s.additionalItems, x) {
				return false
			}
		}
	}
	return true
}

// Place is a part of a value that fails its part of a schema.
type Place struct {
	// Schema is the JSON pointer of the failing schema in the document
	// the schema was compiled from.
	Schema string
	// Instance is the JSON pointer of the failing part of the value.
	Instance string
}

// Locate returns the smallest parts of v that fail s, reached from the
// root through declared properties and array items only: a part is
// returned when what it must be itself fails (its type, its values, its
// required members, an allOf or if/then on it, ...), and descended into
// when only its members or items fail. A full validator run on each
// place's schema and instance sees every failure of v, in less time
// than on the whole. A valid v gives no places; a validation that
// cannot finish gives the root.
func (s *Schema) Locate(v any) []Place {
	var st state
	var out []Place
	st.locate(s, v, "", &out)
	if st.aborted {
		return []Place{{Schema: s.ptr, Instance: ""}}
	}
	return out
}

// locate appends to out the places where v, at inst, fails s.
func (st *state) locate(s *Schema, v any, inst string, out *[]Place) {
	for i := 0; s.ref != nil && i < maxDepth; i++ {
		s = s.ref
	}
	if st.aborted || st.valid(s, v) {
		return
	}
	if s.ref != nil || !st.own(s, v) {
		*out = append(*out, Place{Schema: s.ptr, Instance: inst})
		return
	}
	n := len(*out)
	switch x := v.(type) {
	case map[string]any:
		for _, p := range s.properties {
			if m, ok := x[p.name]; ok {
				st.locate(p.schema, m, inst+"/"+escape(p.name), out)
			}
		}
	case []any:
		for i, m := range x {
			switch {
			case s.items != nil:
				st.locate(s.items, m, inst+"/"+strconv.Itoa(i), out)
			case i < len(s.tupleItems):
				st.locate(s.tupleItems[i], m, inst+"/"+strconv.Itoa(i), out)
			}
		}
	}
	if len(*out) == n {
		*out = append(*out, Place{Schema: s.ptr, Instance: inst})
	}
}

func (s *Schema) inEnum(v any) bool {
	if s.enumStr != nil {
		str, ok := v.(string)
		if !ok {
			return false
		}
		return s.enumStr.has(str)
	}
	for _, e := range s.enum {
		if jsonvalue.Equal(v, e) {
			return true
		}
	}
	return false
}

func hasType(types uint8, v any) bool {
	switch x := v.(type) {
	case nil:
		return types&typeNull != 0
	case bool:
		return types&typeBoolean != 0
	case string:
		return types&typeString != 0
	case map[string]any:
		return types&typeObject != 0
	case []any:
		return types&typeArray != 0
	case json.Number:
		if types&typeNumber != 0 {
			return true
		}
		return types&typeInteger != 0 && isInt(x)
	case float64, float32, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		if types&typeNumber != 0 {
			return true
		}
		r, ok := jsonvalue.Number(x)
		return ok && types&typeInteger != 0 && r.IsInt()
	}
	return false
}

func isInt(n json.Number) bool {
	if !strings.ContainsAny(string(n), ".eE") {
		return true
	}
	r, ok := new(big.Rat).SetString(string(n))
	return ok && r.IsInt()
}
