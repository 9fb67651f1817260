package record

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/kycsim/kycsim/spec"
)

// The kinds of departure from the catalog.
const (
	DriftNewField     = "new-field"      // a field the catalog does not name
	DriftNewType      = "new-type"       // a value of a JSON type the catalog does not allow
	DriftNewEnumValue = "new-enum-value" // a value outside a documented set (a new message type, status, ...)
	DriftNull         = "null"           // an explicit null where the catalog wants a value
	DriftMissingField = "missing-field"  // a documented field that is required and missing
	DriftOther        = "other"          // any other rule (a format, a pattern, a length)
)

// Departure is one way the recorded callbacks depart from the catalog.
type Departure struct {
	Kind string `json:"kind"`
	// Message is the vendor's message the payload was validated as (""
	// when none could be told).
	Message string `json:"message"`
	// Place is the JSON pointer (array indices as *) or form field.
	Place string `json:"place"`
	// Rule is the validator's rule (additionalProperties, enum, type, ...).
	Rule string `json:"rule"`
	// Found is what was sent: the JSON type of a new field or type, the
	// value outside a set (values are masked unless their field is kept).
	Found    string `json:"found,omitempty"`
	Expected string `json:"expected,omitempty"`
	// Levels are the catalog levels the payload departs from: strict
	// only (the documents), or vendor too (what real traffic is known
	// to send).
	Levels []string `json:"levels"`
	// Count is how many callbacks show it; First is the first one's
	// number in the recording, File its scenario file.
	Count int    `json:"count"`
	First int    `json:"firstCallback"`
	File  string `json:"file"`
	// Detail is the validator's sentence, of the first callback.
	Detail string `json:"detail"`
}

// Drift collects the departures of a recording's callbacks from the
// catalog, validating each payload at levels vendor and strict. It is
// safe for concurrent use.
type Drift struct {
	product *spec.Product
	mu      sync.Mutex
	byKey   map[string]*Departure
	list    []*Departure
	checked int
	clean   int
}

// NewDrift returns an empty drift report for a product.
func NewDrift(p *spec.Product) *Drift {
	return &Drift{product: p, byKey: map[string]*Departure{}}
}

// indexToken matches an array index.
var indexToken = regexp.MustCompile(`^[0-9]+$`)

// generalize writes the array indices of a place as *, so that one
// departure in every element of an array is one departure.
func generalize(place string) string {
	toks := strings.Split(place, "/")
	for i, t := range toks {
		if i > 0 && indexToken.MatchString(t) {
			toks[i] = "*"
		}
	}
	return strings.Join(toks, "/")
}

// Add validates one (masked) payload, the n-th callback of the recording
// stored in file, and returns the message it was validated as ("" when
// none could be told) and the departures seen for the first time.
func (d *Drift) Add(body []byte, n int, file string) (string, []Departure, error) {
	type found struct {
		dep   Departure
		level spec.Level
	}
	var all []found
	message := ""
	for _, lv := range spec.Levels {
		res, err := d.product.Validate(body, spec.Options{Level: lv})
		if err != nil {
			return "", nil, fmt.Errorf("validate at level %s: %w", lv, err)
		}
		if lv == spec.LevelVendor || message == "" {
			message = res.Message
		}
		for _, v := range res.Violations {
			all = append(all, found{dep: classify(v), level: lv})
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.checked++
	if len(all) == 0 {
		d.clean++
	}
	var freshKeys []string
	seenHere := map[string]bool{}
	for _, f := range all {
		dep := f.dep
		dep.Message = message
		key := strings.Join([]string{dep.Kind, dep.Message, dep.Place, dep.Rule, dep.Found}, "\x00")
		have := d.byKey[key]
		if have == nil {
			dep.First, dep.File = n, file
			have = &dep
			d.byKey[key] = have
			d.list = append(d.list, have)
			freshKeys = append(freshKeys, key)
		}
		if !slices.Contains(have.Levels, string(f.level)) {
			have.Levels = append(have.Levels, string(f.level))
		}
		if !seenHere[key] {
			seenHere[key] = true
			have.Count++
		}
	}
	fresh := make([]Departure, len(freshKeys))
	for i, k := range freshKeys {
		fresh[i] = *d.byKey[k]
		fresh[i].Levels = slices.Clone(fresh[i].Levels)
	}
	return message, fresh, nil
}

// classify turns a violation into a departure.
func classify(v spec.Violation) Departure {
	place := generalize(v.Place())
	dep := Departure{Place: place, Rule: v.Rule, Expected: v.Expected, Detail: v.Message}
	switch v.Rule {
	case "additionalProperties":
		dep.Kind, dep.Found = DriftNewField, jsonType(v.Found)
	case "enum", "const":
		dep.Kind, dep.Found = DriftNewEnumValue, v.Found
	case "type":
		if v.Found == "null" {
			dep.Kind, dep.Found = DriftNull, "null"
		} else {
			dep.Kind, dep.Found = DriftNewType, jsonType(v.Found)
		}
	case "required":
		dep.Kind = DriftMissingField
	default:
		dep.Kind = DriftOther
	}
	return dep
}

// jsonType names the JSON type of a value as the validator renders it.
func jsonType(found string) string {
	var v any
	if err := json.Unmarshal([]byte(found), &v); err != nil {
		return "a value"
	}
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64:
		if x == float64(int64(x)) && !strings.ContainsAny(found, ".eE") {
			return "an integer"
		}
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return "a value"
}

// Report is the drift report as written to drift.json.
type Report struct {
	Product string `json:"product"`
	// Callbacks is how many payloads were validated; Clean how many
	// departed from neither level.
	Callbacks  int         `json:"callbacks"`
	Clean      int         `json:"clean"`
	Departures []Departure `json:"departures"`
}

// Report returns the departures so far, ordered by kind, message and
// place.
func (d *Drift) Report() Report {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := Report{Product: d.product.Name, Callbacks: d.checked, Clean: d.clean, Departures: []Departure{}}
	for _, dep := range d.list {
		c := *dep
		c.Levels = slices.Clone(dep.Levels)
		sort.Strings(c.Levels)
		slices.Reverse(c.Levels) // vendor before strict
		out.Departures = append(out.Departures, c)
	}
	rank := map[string]int{DriftNewField: 0, DriftNewType: 1, DriftNewEnumValue: 2, DriftNull: 3, DriftMissingField: 4, DriftOther: 5}
	sort.SliceStable(out.Departures, func(i, j int) bool {
		a, b := out.Departures[i], out.Departures[j]
		if rank[a.Kind] != rank[b.Kind] {
			return rank[a.Kind] < rank[b.Kind]
		}
		if a.Message != b.Message {
			return a.Message < b.Message
		}
		return a.Place < b.Place
	})
	return out
}

// WriteText writes the report for people, one departure a line.
func (r Report) WriteText(w io.Writer) error {
	var sb strings.Builder
	fmt.Fprintf(&sb, "drift: %d departure(s) from the %s catalog in %d callback(s) (%d clean)\n", len(r.Departures), r.Product, r.Callbacks, r.Clean)
	for _, d := range r.Departures {
		sb.WriteString("  " + d.Line() + "\n")
	}
	_, err := io.WriteString(w, sb.String())
	return err
}

// Line renders a departure on one line.
func (d Departure) Line() string {
	msg := d.Message
	if msg == "" {
		msg = "(message not told)"
	}
	what := ""
	switch d.Kind {
	case DriftNewField:
		what = "new field, " + d.Found
	case DriftNewType:
		what = d.Found + ", expected " + d.Expected
	case DriftNewEnumValue:
		what = d.Found + ", expected " + d.Expected
	case DriftNull:
		what = "null, expected " + d.Expected
	case DriftMissingField:
		what = "missing"
	default:
		what = d.Rule + ": " + d.Detail
	}
	return fmt.Sprintf("%-15s %s %s: %s (level %s; %d callback(s), first #%d in %s)", d.Kind, msg, d.Place, what, strings.Join(d.Levels, ", "), d.Count, d.First, d.File)
}
