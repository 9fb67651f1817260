package spec

import (
	"fmt"
	"sort"
	"strings"

	"github.com/kycsim/kycsim/spec/fieldtable"
)

// departures says what a table's level vendor accepts beyond the
// document and that a payload using it should hear about: real-traffic
// shapes that neither the document nor its own samples show. (The quirks
// the documents' own samples show, such as Sumsub's sandboxMode "false",
// pass level vendor silently.)
type departures struct {
	// nullable maps the top-level fields that may be null at level
	// vendor but not at level strict to why.
	nullable map[string]string
	// empties are the fields whose {} or [] level vendor takes for "not
	// sent" (fieldtable.Override.Empty).
	empties []emptyField
	// required are the fields required at level strict only.
	required []fieldtable.LevelRequirement
	// vendorRows maps the fields only level vendor knows to why.
	vendorRows map[string]string
}

type emptyField struct {
	ptr  string // JSON pointer into the decoded payload
	note string
}

// newDepartures reads from a table what its level vendor takes beyond
// the document.
func newDepartures(t *fieldtable.Table) *departures {
	d := &departures{nullable: map[string]string{}, vendorRows: map[string]string{}}
	for _, f := range t.Fields {
		if fieldtable.Level(f.Level) == LevelVendor {
			d.vendorRows[f.Name] = f.Note
		}
		if t.Nullable(f.Name, LevelVendor) && !t.Nullable(f.Name, LevelStrict) {
			switch {
			case f.Vendor != nil && f.Vendor.Nullable:
				d.nullable[f.Name] = f.Vendor.Note
			case t.Vendor != nil:
				d.nullable[f.Name] = t.Vendor.Note
			}
		}
	}
	var walk func(fields []fieldtable.Field, prefix string)
	walk = func(fields []fieldtable.Field, prefix string) {
		for _, f := range fields {
			ptr := prefix + "/" + escapeToken(f.Name)
			if f.Vendor != nil && f.Vendor.Empty {
				d.empties = append(d.empties, emptyField{ptr: ptr, note: f.Vendor.Note})
			}
			walk(f.Fields, ptr)
		}
	}
	walk(t.Fields, "")
	d.required = t.RequiredOnlyAt(LevelStrict)
	return d
}

// vendorWarnings adds the warnings of a payload validated at level vendor:
// an unknown or undocumented message, fields the table does not know, and
// each real-traffic shape the document does not describe. declared says
// the schema is known to declare every member of v.
func (p *Product) vendorWarnings(c *compiled, v any, message string, declared bool, res *Result) {
	if message != "" {
		if m, err := p.Message(message); err == nil && m.BeyondSource {
			res.Warnings = append(res.Warnings, fmt.Sprintf("type %s is not in the source document: %s; accepted at both levels", message, m.Note))
		}
	}
	obj, ok := v.(map[string]any)
	if !ok || len(c.known) == 0 {
		return
	}
	d := c.vendor
	var unknown, nulls, extra []string
	if !declared || (d != nil && len(d.nullable) > 0) {
		for k, x := range obj {
			switch {
			case x == nil && d != nil && d.nullable[k] != "" && !violatedAt(res, "/"+escapeToken(k)):
				nulls = append(nulls, k)
			case !declared && !c.known[k]:
				unknown = append(unknown, k)
			}
		}
	}
	if d != nil {
		for k := range d.vendorRows {
			if _, ok := obj[k]; ok {
				extra = append(extra, k)
			}
		}
	}
	if d != nil {
		var missing, notes []string
		lookup := func(ptr string) (any, bool) { return lookupPointer(v, ptr) }
		for _, r := range d.required {
			if _, has := obj[r.Field]; has || !r.Case.Holds(lookup) {
				continue
			}
			if !contains(missing, r.Field) {
				missing = append(missing, r.Field)
			}
			if !contains(notes, r.Note) {
				notes = append(notes, r.Note)
			}
		}
		if len(missing) > 0 {
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s missing: accepted at level vendor (%s), required at level strict",
				fieldList(missing), strings.Join(notes, "; ")))
		}
		if len(nulls) > 0 {
			// One warning per reason, in field order.
			sort.Strings(nulls)
			var notes []string
			byNote := map[string][]string{}
			for _, k := range nulls {
				n := d.nullable[k]
				if byNote[n] == nil {
					notes = append(notes, n)
				}
				byNote[n] = append(byNote[n], k)
			}
			for _, n := range notes {
				res.Warnings = append(res.Warnings, fmt.Sprintf("explicit null for %s: accepted at level vendor (%s), not at level strict", fieldList(byNote[n]), n))
			}
		}
		for _, e := range d.empties {
			x, ok := lookupPointer(v, e.ptr)
			if !ok {
				continue
			}
			what := ""
			switch y := x.(type) {
			case map[string]any:
				if len(y) == 0 {
					what = "an empty object {}"
				}
			case []any:
				if len(y) == 0 {
					what = "an empty array []"
				}
			}
			if what == "" {
				continue
			}
			if violatedAt(res, e.ptr) {
				continue // not accepted after all
			}
			place := Violation{Pointer: e.ptr}
			if p.Encoding == EncodingForm {
				place = splitFormPlace(place)
			}
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s is %s: accepted at level vendor (%s), not at level strict", place.Place(), what, e.note))
		}
		sort.Strings(extra)
		for _, k := range extra {
			res.Warnings = append(res.Warnings, fmt.Sprintf("field %s is not in the source document: accepted at level vendor (%s), not at level strict", k, d.vendorRows[k]))
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		res.Warnings = append(res.Warnings, fmt.Sprintf("undocumented field(s) %s: accepted at level vendor, rejected at level strict", strings.Join(unknown, ", ")))
	}
}

// fieldList names one field or several.
func fieldList(names []string) string {
	if len(names) == 1 {
		return "field " + names[0]
	}
	return "fields " + strings.Join(names, ", ")
}

// contains reports whether list holds s.
func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// violatedAt reports a violation of the result at the JSON pointer ptr
// into the decoded payload (for form products, a field and the pointer in
// its JSON).
func violatedAt(res *Result, ptr string) bool {
	for _, v := range res.Violations {
		at := v.Pointer
		if v.Field != "" {
			at = "/" + escapeToken(v.Field) + v.Pointer
		}
		if at == ptr {
			return true
		}
	}
	return false
}
