package scenarios

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kycsim/kycsim/internal/yamldoc"
	"github.com/kycsim/kycsim/simulator/event"
	"github.com/kycsim/kycsim/spec"
)

// loadError is an error at a place in a scenario file; it unwraps to
// what caused it (a *yamldoc.Error, a catalog error), when anything did.
type loadError struct {
	pos Pos
	msg string
	err error
}

func (e *loadError) Error() string { return e.pos.String() + ": " + e.msg }

func (e *loadError) Unwrap() error { return e.err }

// IsLoadError reports whether err is an error at a place in a scenario
// file, as Load returns for invalid content.
func IsLoadError(err error) bool {
	var le *loadError
	return errors.As(err, &le)
}

// Load reads one scenario from YAML, strictly. The YAML becomes JSON
// values with the position of each (internal/yamldoc), the scenario
// language's JSON Schema (scenario.schema.json) judges their shape, and
// what needs the catalog or the rest of the file is checked here:
// messages and field paths of the product, options that do not apply to
// it, ids and redeliveries, ${variables}, reject codes, addresses and
// headers. Every problem is an error "file:line:col: what is wrong".
func Load(file string, data []byte, cat *spec.Catalog) (*Scenario, error) {
	d, err := yamldoc.Parse(file, data, yamldoc.Options{
		Empty: "empty document: a scenario needs product, description and steps", What: "a scenario file", Name: nameOf,
	})
	if err != nil {
		return nil, fromDoc(err)
	}
	schema, err := compiledSchema()
	if err != nil {
		return nil, err
	}
	l := &loader{d: d, cat: cat, vars: map[string]*Var{"subject": nil}, ids: map[string]*sendID{}, fields: map[string]*event.Fields{}}
	// The step kinds are checked here, where a step with two kinds or
	// a wait inside parallel is worded better than the schema could; the
	// schema's errors inside such a step are left out.
	kindErrs := l.kinds("/steps", false)
	var errs yamldoc.Errors
	if err := schema.Validate(d); err != nil {
		errs = err.(yamldoc.Errors)
	}
	errs = slices.DeleteFunc(errs, func(e *yamldoc.Error) bool {
		return slices.ContainsFunc(kindErrs, func(k *yamldoc.Error) bool { return within(e.Ptr, k.Ptr) })
	})
	if first := yamldoc.First(append(errs, kindErrs...)); first != nil {
		return nil, fromDoc(first)
	}
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

// within reports whether ptr is at or under the step at step.
func within(ptr, step string) bool { return ptr == step || strings.HasPrefix(ptr, step+"/") }

// fromDoc turns a yamldoc error into a load error.
func fromDoc(err error) error {
	var de *yamldoc.Error
	if errors.As(err, &de) {
		return &loadError{pos: Pos(de.Pos), msg: de.Msg, err: de}
	}
	return err
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

// errf is an error at the value at ptr; keyErrf at its key.
func (l *loader) errf(ptr, format string, args ...any) error {
	return &loadError{pos: l.at(ptr), msg: fmt.Sprintf(format, args...)}
}

func (l *loader) keyErrf(ptr, format string, args ...any) error {
	return &loadError{pos: l.keyAt(ptr), msg: fmt.Sprintf(format, args...)}
}

// The keys of each kind of step.
var (
	kinds      = []string{"send", "wait", "redeliver", "parallel", "vendor-state", "expect"}
	deliveryKs = []string{"from", "forwarded-for", "headers", "content-type", "retry", "answer-timeout"}
	// payloadKeys shape a built payload: a raw body takes none of them.
	payloadKeys = []string{"set", "set-unknown", "unset", "age", "precision", "reject-code", "sandbox-mode", "review-answer", "reject-type", "reject-labels"}
)

// kindOf returns the kind keys of a step in document order: expect also
// is an option of send and redeliver.
func (l *loader) kindOf(ptr string) []string {
	var found []string
	for _, k := range l.d.Keys(ptr) {
		if slices.Contains(kinds, k) {
			found = append(found, k)
		}
	}
	if len(found) == 2 && (found[0] == "send" || found[0] == "redeliver") && found[1] == "expect" {
		found = found[:1]
	} else if len(found) == 2 && found[0] == "expect" && (found[1] == "send" || found[1] == "redeliver") {
		found = found[1:]
	}
	return found
}

// kinds checks the kind of every step of a sequence (and of the steps of
// parallel ones): one kind each, and only send and redeliver inside
// parallel, whose {count: N, ...} form is one step.
func (l *loader) kinds(ptr string, inParallel bool) []*yamldoc.Error {
	var steps []string
	switch v := l.d.Lookup(ptr).(type) {
	case []any:
		for i := range v {
			steps = append(steps, ptr+"/"+strconv.Itoa(i))
		}
	case map[string]any:
		if inParallel {
			steps = []string{ptr}
		}
	}
	var out []*yamldoc.Error
	add := func(step string, e *yamldoc.Error) { e.Ptr = step; out = append(out, e) }
	for _, step := range steps {
		if _, ok := l.d.Lookup(step).(map[string]any); !ok {
			continue
		}
		switch found := l.kindOf(step); {
		case len(found) == 0:
			add(step, l.d.Errorf(step, "a step needs one of %s", strings.Join(kinds, ", ")))
		case len(found) > 1:
			add(step, l.d.KeyErrorf(yamldoc.Pointer(step, found[1]), "a step has one kind; this one has %s and %s", found[0], found[1]))
		case inParallel && found[0] != "send" && found[0] != "redeliver":
			add(step, l.d.KeyErrorf(yamldoc.Pointer(step, found[0]), "parallel holds send and redeliver steps only, not %s", found[0]))
		case found[0] == "parallel":
			out = append(out, l.kinds(step+"/parallel", true)...)
		}
	}
	return out
}

var (
	varPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)
	// refPattern is a ${name} reference at the start of a string, as
	// the runner's varRef expands it.
	refPattern = regexp.MustCompile(`^\$\{([A-Za-z0-9_-]+)\}`)
	caseID     = regexp.MustCompile(`^[a-z0-9-]+(\.[a-z0-9-]+)+$`)
)

// refsError tells what is wrong with the ${references} of a string the
// runner expands: a "${" that starts no reference, or a name that is no
// declared variable (nil when nothing is).
func (l *loader) refsError(ptr, s, what string) *loadError {
	for i := 0; ; {
		j := strings.Index(s[i:], "${")
		if j < 0 {
			return nil
		}
		m := refPattern.FindStringSubmatch(s[i+j:])
		if m == nil {
			return &loadError{pos: l.at(ptr), msg: what + ": ${ starts no reference; write ${name} with letters, digits, _ and -"}
		}
		if _, ok := l.vars[m[1]]; !ok {
			declared := slices.Sorted(maps.Keys(l.vars))
			return &loadError{pos: l.at(ptr), msg: fmt.Sprintf("%s: ${%s} names no variable (declared: %s)", what, m[1], strings.Join(declared, ", "))}
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
