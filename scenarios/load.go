package scenarios

import (
	"errors"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/kycsim/kycsim/internal/yamldoc"
	"github.com/kycsim/kycsim/simulator/event"
	"github.com/kycsim/kycsim/spec"
)

// IsLoadError reports whether err is an error at a place in a scenario
// file, as Load returns for invalid content: a *yamldoc.Error, which
// unwraps to what caused it (a catalog error) when anything did.
func IsLoadError(err error) bool {
	var de *yamldoc.Error
	return errors.As(err, &de)
}

// Load reads one scenario from YAML, strictly. The YAML becomes JSON
// values with the position of each (internal/yamldoc), and the scenario
// language's JSON Schema (scenario.schema.json) judges their shape: keys,
// types and values, a step's one kind, the keys that exclude each other
// and those that apply to some products only. What needs the catalog or
// the rest of the file is checked here: messages and field paths of the
// product, ids and redeliveries, ${variables}, reject codes, addresses
// and headers. Every problem is an error "file:line:col: what is wrong".
func Load(file string, data []byte, cat *spec.Catalog) (*Scenario, error) {
	d, err := yamldoc.Parse(file, data, yamldoc.Options{
		Empty: "empty document: a scenario needs product, description and steps", What: "a scenario file", Name: nameOf,
	})
	if err != nil {
		return nil, err
	}
	if err := embeddedSchema.Check(d); err != nil {
		return nil, err
	}
	l := &loader{d: d, cat: cat, vars: map[string]*Var{"subject": nil}, ids: map[string]*sendID{}, fields: map[string]*event.Fields{}}
	sc := l.scenario()
	if l.err != nil {
		return nil, l.err
	}
	return sc, nil
}

// nameOf names the value at a pointer in errors about its keys.
func nameOf(ptr string) string {
	i := strings.LastIndexByte(ptr, '/')
	last, parent := ptr[i+1:], ""
	if i > 0 {
		parent = ptr[strings.LastIndexByte(ptr[:i], '/')+1 : i]
	}
	switch {
	case ptr == "":
		return "scenario"
	case parent == "set" || parent == "set-unknown":
		return parent + " " + last
	case last != "" && strings.Trim(last, "0123456789") == "":
		return "a step"
	}
	return last
}

// loader reads one file's values into a Scenario.
type loader struct {
	d   *yamldoc.Doc
	cat *spec.Catalog
	p   *spec.Product
	// vars are the declared variables (subject: nil, the built-in).
	vars map[string]*Var
	// ids are the send step ids: defined marks those seen so far.
	ids map[string]*sendID
	// fields caches the fields of each message, for override paths.
	fields map[string]*event.Fields
	// err is the first error noted (fail).
	err error
}

// fail notes an error; the first one noted is the file's.
func (l *loader) fail(err error) {
	if l.err == nil {
		l.err = err
	}
}

// sendID is what a redeliver needs to know of a send step.
type sendID struct {
	pos     Pos
	defined bool
	raw     bool // the step sends a raw body
}

func (l *loader) at(ptr string) Pos    { return Pos(l.d.At(ptr)) }
func (l *loader) keyAt(ptr string) Pos { return Pos(l.d.KeyAt(ptr)) }

// errf is an error at the value at ptr, keyErrf at its key; a %w verb
// wraps its error.
func (l *loader) errf(ptr, format string, args ...any) error { return l.d.Errorf(ptr, format, args...) }

func (l *loader) keyErrf(ptr, format string, args ...any) error {
	return l.d.KeyErrorf(ptr, format, args...)
}

// kinds are the keys that tell a step's kind, send and redeliver before
// expect (which is also an option of theirs); the schema has checked that
// a step has one.
var kinds = []string{"send", "wait", "redeliver", "parallel", "vendor-state", "expect"}

var (
	// refPattern is a ${name} reference at the start of a string, as
	// the runner's varRef expands it.
	refPattern = regexp.MustCompile(`^\$\{([A-Za-z0-9_-]+)\}`)
	caseID     = regexp.MustCompile(`^[a-z0-9-]+(\.[a-z0-9-]+)+$`)
)

// refsError tells what is wrong with the ${references} of a string the
// runner expands: a "${" that starts no reference, or a name that is no
// declared variable (nil when nothing is).
func (l *loader) refsError(ptr, s, what string) *yamldoc.Error {
	for i := 0; ; {
		j := strings.Index(s[i:], "${")
		if j < 0 {
			return nil
		}
		m := refPattern.FindStringSubmatch(s[i+j:])
		if m == nil {
			return l.d.Errorf(ptr, "%s: ${ starts no reference; write ${name} with letters, digits, _ and -", what)
		}
		if _, ok := l.vars[m[1]]; !ok {
			declared := slices.Sorted(maps.Keys(l.vars))
			return l.d.Errorf(ptr, "%s: ${%s} names no variable (declared: %s)", what, m[1], strings.Join(declared, ", "))
		}
		i += j + len(m[0])
	}
}

// expandable checks the references of a string the runner expands.
func (l *loader) expandable(ptr, s, what string) {
	if err := l.refsError(ptr, s, what); err != nil {
		l.fail(err)
	}
}

// address expands the references of from or forwarded-for: they must
// name literal variables, whose values are addresses.
func (l *loader) address(ptr, s, what string) string {
	if err := l.refsError(ptr, s, what); err != nil {
		l.fail(err)
		return ""
	}
	return varRef.ReplaceAllStringFunc(s, func(m string) string {
		v := l.vars[m[2:len(m)-1]]
		if v == nil || v.Generate != "" {
			l.fail(l.errf(ptr, "%s: %s is generated, not an address; declare a variable with a literal address", what, m))
			return ""
		}
		return v.Value
	})
}

// optText returns the text of m[k], or nil when k is absent.
func optText(m map[string]any, k string) *string {
	v, ok := m[k]
	if !ok {
		return nil
	}
	s := yamldoc.Text(v)
	return &s
}

// optInt returns the integer m[k], or nil when k is absent.
func optInt(m map[string]any, k string) *int {
	v, ok := m[k]
	if !ok {
		return nil
	}
	n := yamldoc.Int(v)
	return &n
}

// duration reads a duration the schema has shaped (0 when absent): it
// must also parse, and be positive.
func (l *loader) duration(ptr, what string) time.Duration {
	v, ok := l.d.Get(ptr)
	if !ok {
		return 0
	}
	d, err := time.ParseDuration(yamldoc.Text(v))
	if err != nil || d <= 0 {
		l.fail(l.errf(ptr, "%s %q is not a positive duration such as 500ms, 30s, 5m or 2h", what, yamldoc.Text(v)))
	}
	return d
}
