package fieldtable

import (
	"fmt"
	"sort"
	"strings"

	"github.com/kycsim/kycsim/spec/jsonvalue"
)

// Level is how closely a payload must follow the documents.
type Level string

// The two levels.
const (
	// LevelVendor accepts what the vendor really sends: the documented
	// shapes plus the quirks the documents' own samples show.
	LevelVendor Level = "vendor"
	// LevelStrict accepts exactly the documented shapes.
	LevelStrict Level = "strict"
)

// ParseLevel checks a level name.
func ParseLevel(s string) (Level, error) {
	switch Level(s) {
	case LevelVendor, LevelStrict:
		return Level(s), nil
	}
	return "", fmt.Errorf("level %q is not vendor or strict", s)
}

// RequiredNotesKeyword is the annotation keyword that maps a field made
// required by a condition to the rule that says so.
const RequiredNotesKeyword = "x-kycsim-required-notes"

// Draft07 is the $schema of every compiled schema.
const Draft07 = "http://json-schema.org/draft-07/schema#"

// Compile builds the JSON Schema of one message at one level. An empty
// message name builds the common envelope: every row, with every condition
// checked at validation time. For form tables the schema describes the
// decoded payload: form fields as strings, JSON-in-form fields decoded.
func (t *Table) Compile(message string, level Level) (map[string]any, error) {
	return t.CompileDecided(message, level, nil)
}

// CompileDecided is Compile with some top-level cases decided beforehand
// (by Case.ID): a validator that has read the payload's top-level values
// applies those cases directly instead of as if/then, which is faster to
// validate and gives the same verdict.
func (t *Table) CompileDecided(message string, level Level, decided map[int]bool) (map[string]any, error) {
	c := compiler{t: t, level: level, known: map[string]any{}, decided: decided}
	var msg *Message
	if message != "" {
		if msg = t.Message(message); msg == nil {
			return nil, fmt.Errorf("%s has no message %q", t.Product, message)
		}
		for k, v := range msg.Match {
			c.known[pointerOf(k)] = v
		}
	}
	root := c.object(t.Fields, true)
	root["$schema"] = Draft07
	if msg != nil {
		root["title"] = t.Product + " " + msg.Name
		if msg.Summary != "" {
			root["description"] = msg.Summary
		}
		keys := make([]string, 0, len(msg.Match))
		for k := range msg.Match {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			s := schemaAt(root, pointerOf(k))
			if s == nil {
				return nil, fmt.Errorf("%s %s: match %s names no compiled field", t.Product, msg.Name, k)
			}
			s["const"] = msg.Match[k]
			s["$comment"] = fmt.Sprintf("message %s has %s = %s", msg.Name, strings.TrimPrefix(pointerOf(k), "/"), msg.Match[k])
		}
	} else {
		root["title"] = t.Product + " (any message)"
	}
	return root, nil
}

// schemaAt walks the properties of a compiled schema along a pointer.
func schemaAt(s map[string]any, ptr string) map[string]any {
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		props, _ := s["properties"].(map[string]any)
		next, _ := props[tok].(map[string]any)
		if next == nil {
			return nil
		}
		s = next
	}
	return s
}

type compiler struct {
	t       *Table
	level   Level
	known   map[string]any // JSON pointer -> value fixed by the message
	decided map[int]bool   // Case.ID -> decided outcome
}

// truth is a three-valued condition result.
type truth int

const (
	unknown truth = iota
	yes
	no
)

func (c *compiler) object(fields []Field, top bool) map[string]any {
	props := make(map[string]any, len(fields))
	var required []string
	var allOf []any
	pairedEnums := map[string][]any{} // sibling -> values its pair allows
	for i := range fields {
		if p := fields[i].Pairs; p != nil {
			var descs []any
			for _, k := range p.Order {
				if !jsonIn(p.Values[k], descs) {
					descs = append(descs, p.Values[k])
				}
			}
			pairedEnums[p.With] = descs
		}
	}
	requiredNotes := map[string]any{} // field -> the rule that makes it required
	for i := range fields {
		f := &fields[i]
		if !c.atLevel(f) {
			continue
		}
		fs := c.field(f, top)
		// A pair's codes, or the values a pair allows a sibling, are the
		// field's values unless it lists its own; cases narrow them.
		p := f.Pairs
		if _, has := fs["enum"]; !has && p != nil {
			codes := make([]any, 0, len(p.Order))
			for _, k := range p.Order {
				codes = append(codes, k)
			}
			fs["enum"] = codes
		}
		if _, has := fs["enum"]; !has && pairedEnums[f.Name] != nil {
			fs["enum"] = cloneSlice(pairedEnums[f.Name])
		}
		req := f.Required
		absent := false
		var absentNote any
		// With an empty override, [] stands for "not sent" where a case
		// says the field is not sent: minItems then waits on those cases.
		minItemsWaits := c.empty(f) && f.MinItems > 0
		if minItemsWaits {
			delete(fs, "minItems")
		}
		var absentWhen []any
		for _, cs := range f.Cases {
			if cs.Level != "" && Level(cs.Level) != c.level {
				continue
			}
			note := cs.Note
			if note == "" {
				note = describe(f.Name, cs)
			}
			switch c.eval(cs, top) {
			case no:
				continue
			case yes:
				switch {
				case cs.Required:
					req = true
					requiredNotes[f.Name] = note
					if c.nullByRule(f, top) {
						// Required here: null does not stand for a value.
						stripNull(fs)
						if _, has := fs["$comment"]; !has {
							fs["$comment"] = note
						}
					}
				case cs.Absent:
					absent = true
					absentNote = note
				}
				if cs.Enum != nil {
					narrowEnum(fs, cs.Enum, note)
				}
				if cs.Schema != nil {
					appendAllOf(fs, withComment(cs.Schema, note))
				}
			default:
				if cs.Absent && minItemsWaits {
					absentWhen = append(absentWhen, c.condition(cs))
				}
				then := map[string]any{"$comment": note}
				if cs.Required {
					then["required"] = []string{f.Name}
				}
				ps := c.caseSchema(f, top, cs, note)
				if cs.Required && c.nullByRule(f, top) {
					if types := c.types(f, false); !types.Has("any") {
						if ps == nil {
							ps = map[string]any{"$comment": note}
						}
						ps["type"] = typeValue(types)
					}
				}
				if ps != nil {
					then["properties"] = map[string]any{f.Name: ps}
				}
				allOf = append(allOf, map[string]any{"if": c.condition(cs), "then": then})
			}
		}
		if minItemsWaits && !absent {
			switch len(absentWhen) {
			case 0:
				fs["minItems"] = f.MinItems
			default:
				cond := absentWhen[0]
				if len(absentWhen) > 1 {
					cond = map[string]any{"anyOf": absentWhen}
				}
				note := fmt.Sprintf("%s has at least %d items where it is sent", f.Name, f.MinItems)
				if f.MinItems == 1 {
					note = fmt.Sprintf("%s is not empty where it is sent", f.Name)
				}
				allOf = append(allOf, map[string]any{
					"if":   cond,
					"else": map[string]any{"properties": map[string]any{f.Name: map[string]any{"minItems": f.MinItems, "$comment": note}}},
				})
			}
		}
		if req {
			// Required and absent both: no payload passes, as with the
			// two if/thens of the envelope.
			required = append(required, f.Name)
		}
		if absent {
			props[f.Name] = c.absentSchema(f, top, absentNote)
			continue
		}
		if p != nil {
			for _, k := range p.Order {
				allOf = append(allOf, map[string]any{
					"if": map[string]any{"properties": map[string]any{f.Name: map[string]any{"const": k}}, "required": []string{f.Name}},
					"then": map[string]any{"properties": map[string]any{p.With: map[string]any{
						"const":    p.Values[k],
						"$comment": fmt.Sprintf("%s %s goes with %s %s", f.Name, k, p.With, p.Values[k]),
					}}},
				})
			}
		}
		props[f.Name] = fs
	}
	s := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		s["required"] = required
	}
	if len(requiredNotes) > 0 {
		// An annotation, ignored by validators, that lets a "required"
		// violation quote the rule that made the field required.
		s[RequiredNotesKeyword] = requiredNotes
	}
	if c.level == LevelStrict {
		s["additionalProperties"] = false
	}
	if len(allOf) > 0 {
		s["allOf"] = allOf
	}
	return s
}

// narrowEnum applies a case's enum to a field's schema fs: the values
// the field already allows and the case lists, in the case's order, as
// the envelope's enum and if/then allow them together. When no value is
// left, the field cannot be sent.
func narrowEnum(fs map[string]any, enum []any, note string) {
	if have, ok := fs["enum"].([]any); ok {
		var both []any
		for _, v := range enum {
			if jsonIn(v, have) {
				both = append(both, v)
			}
		}
		enum = both
	}
	if len(enum) == 0 {
		delete(fs, "enum")
		fs["not"] = map[string]any{}
	} else {
		fs["enum"] = cloneSlice(enum)
	}
	if prev, ok := fs["$comment"].(string); ok && prev != "" && prev != note {
		note = prev + "; " + note
	}
	fs["$comment"] = note
}

// caseSchema is what a case that holds asks of its field's value, for
// the then of its if/then: nothing when it is absent (which makes the
// rest moot), its enum and its schema both otherwise; nil when it asks
// nothing of the value.
func (c *compiler) caseSchema(f *Field, top bool, cs Case, note string) map[string]any {
	switch {
	case cs.Absent:
		return c.absentSchema(f, top, note)
	case cs.Enum != nil:
		s := map[string]any{"enum": cloneSlice(cs.Enum), "$comment": note}
		if cs.Schema != nil {
			appendAllOf(s, withComment(cs.Schema, note))
		}
		return s
	case cs.Schema != nil:
		return withComment(cs.Schema, note)
	}
	return nil
}

// atLevel reports whether a row exists at the compiler's level.
func (c *compiler) atLevel(f *Field) bool {
	return f.Level == "" || Level(f.Level) == c.level
}

// nullByRule reports whether the row may carry null at this level by the
// table's nullOptional rule alone: a top-level row that is not required,
// at level vendor, not nullable of its own.
func (c *compiler) nullByRule(f *Field, top bool) bool {
	if !top || c.level != LevelVendor || c.t == nil || c.t.Vendor == nil || !c.t.Vendor.NullOptional || f.Required {
		return false
	}
	return !c.types(f, false).Has("null")
}

// empty reports whether the row's empty value stands for "not sent" at
// this level (Override.Empty).
func (c *compiler) empty(f *Field) bool {
	return c.level == LevelVendor && f.Vendor != nil && f.Vendor.Empty
}

// absentSchema is the schema of a row that must not be sent: nothing
// passes it, except, at level vendor, what stands for "not sent" there
// (null by the table's nullOptional rule, an empty object or array by
// the row's empty override).
func (c *compiler) absentSchema(f *Field, top bool, note any) map[string]any {
	var empties []any
	if c.nullByRule(f, top) {
		empties = append(empties, map[string]any{"type": "null"})
	}
	if c.empty(f) {
		types := c.types(f, top)
		if types.Has("object") {
			empties = append(empties, map[string]any{"type": "object", "maxProperties": 0})
		}
		if types.Has("array") {
			empties = append(empties, map[string]any{"type": "array", "maxItems": 0})
		}
	}
	if len(empties) == 0 {
		return absentSchema(note)
	}
	cond := empties[0]
	if len(empties) > 1 {
		cond = map[string]any{"anyOf": empties}
	}
	// "else": false fails as "must be absent" does.
	s := map[string]any{"if": cond, "else": false}
	if note != nil && note != "" {
		s["$comment"] = note
	}
	return s
}

// stripNull takes null out of a field schema's types and values.
func stripNull(fs map[string]any) {
	switch t := fs["type"].(type) {
	case string:
		if t == "null" {
			fs["not"] = map[string]any{}
		}
	case []string:
		kept := make([]string, 0, len(t))
		for _, x := range t {
			if x != "null" {
				kept = append(kept, x)
			}
		}
		fs["type"] = typeValue(kept)
	}
	if e, ok := fs["enum"].([]any); ok {
		kept := make([]any, 0, len(e))
		for _, x := range e {
			if x != nil {
				kept = append(kept, x)
			}
		}
		fs["enum"] = kept
	}
}

// typeValue is the "type" keyword of a list of types.
func typeValue(types []string) any {
	if len(types) == 1 {
		return types[0]
	}
	return []string(types)
}

func (c *compiler) field(f *Field, top bool) map[string]any {
	types := c.types(f, top)
	enum := f.Enum
	nullable := f.Nullable || c.nullByRule(f, top)
	format := f.Format
	if o := f.Vendor; o != nil && c.level == LevelVendor {
		if o.Enum != nil {
			enum = o.Enum
		}
		if o.Open {
			enum = nil
		}
		if o.Nullable {
			nullable = true
		}
		if o.Format != "" {
			format = o.Format
		}
	}
	s := map[string]any{}
	if !(len(types) == 1 && types[0] == "any") {
		s["type"] = typeValue(types)
	}
	if enum != nil {
		e := cloneSlice(enum)
		if nullable && !jsonIn(nil, e) {
			e = append(e, nil)
		}
		s["enum"] = e
	}
	if f.MaxLength > 0 {
		s["maxLength"] = f.MaxLength
	}
	if f.MinItems > 0 {
		s["minItems"] = f.MinItems
	}
	if format != "" {
		s["format"] = format
	}
	if f.Pattern != "" {
		s["pattern"] = f.Pattern
	}
	if f.Note != "" {
		s["description"] = f.Note
	}
	if f.Fields != nil {
		obj := c.object(f.Fields, false)
		for k, v := range obj {
			if k != "type" {
				s[k] = v
			}
		}
		if req, ok := s["required"]; ok && c.empty(f) {
			// An empty object stands for "nothing": its sub-fields are
			// required only once it has members.
			then := map[string]any{"required": req}
			if notes, ok := s[RequiredNotesKeyword]; ok {
				then[RequiredNotesKeyword] = notes
				delete(s, RequiredNotesKeyword)
			}
			delete(s, "required")
			note := "the sub-fields are required in a non-empty " + f.Name
			if f.Vendor.Note != "" {
				note += " (" + f.Vendor.Note + ")"
			}
			then["$comment"] = note
			appendAllOf(s, map[string]any{"if": map[string]any{"minProperties": 1}, "then": then})
		}
	}
	if f.Items != nil {
		s["items"] = c.field(f.Items, false)
	}
	if f.Schema != nil {
		appendAllOf(s, cloneMap(f.Schema))
	}
	return s
}

// types lists the JSON types a row's value may have at the compiler's
// level ("null" included for a nullable row, and for a top-level row the
// table's nullOptional rule makes nullable when top is set).
func (c *compiler) types(f *Field, top bool) TypeList {
	types := append(TypeList(nil), f.Type...)
	nullable := f.Nullable
	if top && c.nullByRule(f, true) {
		nullable = true
	}
	if o := f.Vendor; o != nil && c.level == LevelVendor {
		if len(o.Type) > 0 {
			types = append(TypeList(nil), o.Type...)
		}
		if o.Nullable {
			nullable = true
		}
		if o.PlainString && !types.Has("string") {
			types = append(types, "string")
		}
	}
	if nullable && !types.Has("null") {
		types = append(types, "null")
	}
	return types
}

// eval decides a case from the values the message fixes, where it can.
func (c *compiler) eval(cs Case, top bool) truth {
	if d, ok := c.decided[cs.ID]; ok && top && cs.ID >= 0 {
		if d {
			return yes
		}
		return no
	}
	when := c.all(cs.When, top)
	if len(cs.Unless) == 0 {
		return when
	}
	unless := c.all(cs.Unless, top)
	switch {
	case when == no || unless == yes:
		return no
	case when == yes && unless == no:
		return yes
	}
	return unknown
}

func (c *compiler) all(m map[string][]any, top bool) truth {
	if m == nil {
		return yes
	}
	res := yes
	for k, vals := range m {
		if !top && !strings.HasPrefix(k, "/") {
			return unknown
		}
		v, ok := c.known[pointerOf(k)]
		if !ok {
			res = unknown
			continue
		}
		if !jsonIn(v, vals) {
			return no
		}
	}
	return res
}

// condition is the JSON Schema "if" of a case.
func (c *compiler) condition(cs Case) map[string]any {
	if len(cs.Unless) == 0 {
		return c.matchSchema(cs.When)
	}
	not := map[string]any{"not": c.matchSchema(cs.Unless)}
	if len(cs.When) == 0 {
		return not
	}
	return map[string]any{"allOf": []any{c.matchSchema(cs.When), not}}
}

// matchSchema holds when every key (field name or pointer) has one of its
// values. An object on the way of a pointer must be an object indeed (if
// its row lets it be something else), as TopCase.Holds finds no value
// through anything else.
func (c *compiler) matchSchema(m map[string][]any) map[string]any {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []any
	for _, k := range keys {
		toks := strings.Split(strings.TrimPrefix(k, "/"), "/")
		s := map[string]any{"enum": cloneSlice(m[k])}
		for i := len(toks) - 1; i >= 0; i-- {
			if i < len(toks)-1 && strings.HasPrefix(k, "/") && c.t != nil {
				if f := c.t.fieldAt("/" + strings.Join(toks[:i+1], "/")); f == nil || !onlyObject(c.types(f, i == 0)) {
					s["type"] = "object"
				}
			}
			s = map[string]any{"properties": map[string]any{toks[i]: s}, "required": []string{toks[i]}}
		}
		parts = append(parts, s)
	}
	switch len(parts) {
	case 0:
		return map[string]any{} // no condition: it holds
	case 1:
		return parts[0].(map[string]any)
	}
	return map[string]any{"allOf": parts}
}

func onlyObject(tl TypeList) bool {
	return len(tl) == 1 && tl[0] == "object"
}

// describe writes the rule a case states, for error messages.
func describe(field string, cs Case) string {
	var what string
	switch {
	case cs.Required:
		what = field + " is required"
	case cs.Absent:
		what = field + " is not sent"
	case cs.Enum != nil:
		what = field + " is " + joinValues(cs.Enum, " or ")
	default:
		what = field + " has a narrower shape"
	}
	var conds []string
	for _, part := range []struct {
		m   map[string][]any
		neg bool
	}{{cs.When, false}, {cs.Unless, true}} {
		keys := make([]string, 0, len(part.m))
		for k := range part.m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			name := strings.TrimPrefix(k, "/")
			vals := joinValues(part.m[k], ", ")
			op := "is"
			if len(part.m[k]) > 1 {
				op = "is one of"
			}
			if part.neg {
				op = strings.Replace(op, "is", "is not", 1)
			}
			conds = append(conds, fmt.Sprintf("%s %s %s", name, op, vals))
		}
	}
	return what + " when " + strings.Join(conds, " and ")
}

func joinValues(vals []any, sep string) string {
	s := make([]string, len(vals))
	for i, v := range vals {
		s[i] = fmt.Sprint(v)
	}
	return strings.Join(s, sep)
}

func absentSchema(note any) map[string]any {
	s := map[string]any{"not": map[string]any{}}
	if note != nil && note != "" {
		s["$comment"] = note
	}
	return s
}

// withComment is a deep copy of schema, with note as its $comment unless
// it has one.
func withComment(schema map[string]any, note string) map[string]any {
	out := cloneMap(schema)
	if _, has := out["$comment"]; !has {
		out["$comment"] = note
	}
	return out
}

func appendAllOf(s map[string]any, extra map[string]any) {
	all, _ := s["allOf"].([]any)
	s["allOf"] = append(all, extra)
}

// clone is a deep copy of a value decoded from a table, so that a
// compiled schema shares no map or slice with the table.
func clone(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return cloneMap(x)
	case []any:
		return cloneSlice(x)
	}
	return v
}

func cloneMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = clone(v)
	}
	return out
}

func cloneSlice(s []any) []any {
	if s == nil {
		return nil
	}
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = clone(v)
	}
	return out
}

// JSONField says how a JSON-in-form field of a form table is decoded.
type JSONField struct {
	// PlainString: at this level a value that is not JSON text is kept as
	// a string (and the schema decides), instead of being a violation.
	PlainString bool
}

// JSONFields lists the JSON-in-form fields of a form table at a level.
func (t *Table) JSONFields(level Level) map[string]JSONField {
	out := map[string]JSONField{}
	for _, f := range t.Fields {
		if f.JSON && (f.Level == "" || Level(f.Level) == level) {
			out[f.Name] = JSONField{PlainString: level == LevelVendor && f.Vendor != nil && f.Vendor.PlainString}
		}
	}
	return out
}

// TopFields lists the names of the top-level rows at a level, in table
// order.
func (t *Table) TopFields(level Level) []string {
	out := make([]string, 0, len(t.Fields))
	for _, f := range t.Fields {
		if f.Level == "" || Level(f.Level) == level {
			out = append(out, f.Name)
		}
	}
	return out
}

// TopCase is a case of a top-level row, with its condition keys as JSON
// pointers into the payload.
type TopCase struct {
	ID     int
	When   map[string][]any
	Unless map[string][]any
}

// Undecided lists the top-level cases that a message's match values do
// not decide, at a level: what a validator must read from the payload.
func (t *Table) Undecided(message string, level Level) []TopCase {
	c := compiler{t: t, level: level, known: map[string]any{}}
	if m := t.Message(message); m != nil {
		for k, v := range m.Match {
			c.known[pointerOf(k)] = v
		}
	}
	var out []TopCase
	for _, f := range t.Fields {
		if f.Level != "" && Level(f.Level) != level {
			continue
		}
		for _, cs := range f.Cases {
			if cs.Level != "" && Level(cs.Level) != level {
				continue
			}
			if c.eval(cs, true) != unknown {
				continue
			}
			tc := TopCase{ID: cs.ID, When: map[string][]any{}, Unless: map[string][]any{}}
			for k, v := range cs.When {
				tc.When[pointerOf(k)] = v
			}
			for k, v := range cs.Unless {
				tc.Unless[pointerOf(k)] = v
			}
			out = append(out, tc)
		}
	}
	return out
}

// Holds decides a top-level case against a decoded payload, with the
// meaning of the if/then the case compiles to: every "when" field present
// with a listed value, and not every "unless" field so.
func (tc TopCase) Holds(lookup func(ptr string) (any, bool)) bool {
	if len(tc.When) > 0 && !matches(tc.When, lookup) {
		return false
	}
	if len(tc.Unless) > 0 && matches(tc.Unless, lookup) {
		return false
	}
	return true
}

func matches(m map[string][]any, lookup func(string) (any, bool)) bool {
	for ptr, vals := range m {
		v, ok := lookup(ptr)
		if !ok || !jsonIn(v, vals) {
			return false
		}
	}
	return true
}

// jsonIn reports whether v equals one of vals as JSON values (the enum test).
func jsonIn(v any, vals []any) bool {
	for _, x := range vals {
		if jsonvalue.Equal(v, x) {
			return true
		}
	}
	return false
}

// LevelRequirement is a case of a top-level row that makes the field
// required at one level only.
type LevelRequirement struct {
	Field string
	Case  TopCase
	// Note is the rule the case states.
	Note string
}

// RequiredOnlyAt lists the cases of top-level rows that make a field
// required at the given level only: at the other level a payload without
// the field departs from that level's shape, not from the other's.
func (t *Table) RequiredOnlyAt(level Level) []LevelRequirement {
	var out []LevelRequirement
	for _, f := range t.Fields {
		if f.Level != "" || f.Required {
			continue
		}
		for _, cs := range f.Cases {
			if !cs.Required || Level(cs.Level) != level {
				continue
			}
			tc := TopCase{ID: cs.ID, When: map[string][]any{}, Unless: map[string][]any{}}
			for k, v := range cs.When {
				tc.When[pointerOf(k)] = v
			}
			for k, v := range cs.Unless {
				tc.Unless[pointerOf(k)] = v
			}
			note := cs.Note
			if note == "" {
				note = describe(f.Name, cs)
			}
			out = append(out, LevelRequirement{Field: f.Name, Case: tc, Note: note})
		}
	}
	return out
}

// Nullable reports whether a top-level row may be null at a level.
func (t *Table) Nullable(name string, level Level) bool {
	c := compiler{t: t, level: level}
	for i := range t.Fields {
		if f := &t.Fields[i]; f.Name == name && c.atLevel(f) {
			return c.types(f, true).Has("null")
		}
	}
	return false
}
