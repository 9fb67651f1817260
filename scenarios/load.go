package scenarios

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/kycsim/kycsim/internal/editdistance"
	"github.com/kycsim/kycsim/simulator"
	"github.com/kycsim/kycsim/simulator/event"
	"github.com/kycsim/kycsim/simulator/signing"
	"github.com/kycsim/kycsim/spec"
)

// The bounds of a scenario document: the nodes it may hold once aliases
// and merge keys are expanded (no "billion laughs"), and how deep they may
// nest (an alias inside its own anchor nests without end).
const (
	maxNodes = 100000
	maxDepth = 64
)

// loadError is an error at a place in a scenario file.
type loadError struct {
	pos Pos
	msg string
}

func (e *loadError) Error() string { return e.pos.String() + ": " + e.msg }

// IsLoadError reports whether err is an error at a place in a scenario
// file, as Load returns for invalid content.
func IsLoadError(err error) bool {
	var le *loadError
	return errors.As(err, &le)
}

// Load reads one scenario from YAML, strictly. Every problem is an error
// "file:line:col: what is wrong" naming the offending key or value:
// unknown keys (with a suggestion), wrong types, unknown products and
// messages, bad durations and statuses, steps with no kind or two,
// references to steps that do not exist or come later, duplicate ids
// and keys, options that do not apply to the product, references to
// undeclared ${variables}, and alias bombs.
func Load(file string, data []byte, cat *spec.Catalog) (*Scenario, error) {
	root, err := parse(file, data)
	if err != nil {
		return nil, err
	}
	l := &loader{file: file, cat: cat, vars: map[string]*Var{"subject": nil}, ids: map[string]*sendID{}}
	if err := l.count(root, 0, nil); err != nil {
		return nil, err
	}
	return l.scenario(root)
}

// parse reads the one YAML document of a file.
func parse(file string, data []byte) (root *yaml.Node, err error) {
	defer func() {
		// yaml.v3 has panicked on malformed input before; never pass
		// that on.
		if r := recover(); r != nil {
			root, err = nil, &loadError{Pos{file, 1, 1}, fmt.Sprintf("YAML: %v", r)}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &loadError{Pos{file, 1, 1}, "empty document: a scenario needs product, description and steps"}
		}
		return nil, syntaxError(file, data, err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, syntaxError(file, data, err)
	default:
		return nil, &loadError{Pos{file, next.Line, next.Column}, "a second YAML document: a scenario file holds one"}
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind == yaml.ScalarNode && doc.Content[0].Tag == "!!null" {
		return nil, &loadError{Pos{file, max(doc.Line, 1), max(doc.Column, 1)}, "empty document: a scenario needs product, description and steps"}
	}
	return doc.Content[0], nil
}

// yamlLine splits yaml.v3's "line N: message".
var yamlLine = regexp.MustCompile(`^line (\d+): (.*)$`)

// parserErrors are the messages of yaml.v3's parser (not its scanner):
// yaml.v3 reports their 0-based line, one less than the real one.
var parserErrors = []string{"did not find expected", "found duplicate %", "found incompatible YAML document", "found undefined tag handle"}

// syntaxError places a yaml.v3 syntax error. yaml.v3 gives a line (no
// column) and leaves it out for the first line, for bytes that are not
// YAML text and for an unknown anchor: those are found here.
func syntaxError(file string, data []byte, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line, col := 0, 1
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
		for _, p := range parserErrors {
			if strings.HasPrefix(msg, p) {
				line++
				break
			}
		}
	}
	if line == 0 {
		line, col = locate(data, msg)
	}
	return &loadError{Pos{file, line, col}, "YAML: " + msg}
}

var unknownAnchor = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)

// locate finds the place of a yaml.v3 error that came without a line.
func locate(data []byte, msg string) (line, col int) {
	at := -1
	if m := unknownAnchor.FindStringSubmatch(msg); m != nil {
		for i := 0; at < 0; {
			j := bytes.Index(data[i:], []byte("*"+m[1]))
			if j < 0 {
				break
			}
			end := i + j + 1 + len(m[1])
			if end == len(data) || strings.IndexByte(" \t\r\n,]}", data[end]) >= 0 {
				at = i + j
			}
			i = end
		}
	} else {
		// A reader error: the first byte that is not YAML text.
		for i := 0; i < len(data); {
			r, n := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && n <= 1 || !yamlPrintable(r) {
				at = i
				break
			}
			i += n
		}
	}
	if at < 0 {
		return 1, 1
	}
	line, start := 1, 0
	for i := 0; i < at; {
		r, n := utf8.DecodeRune(data[i:])
		if r == '\r' && i+1 < at && data[i+1] == '\n' {
			n++ // CR LF is one break
		}
		i += n
		if isBreak(r) {
			line, start = line+1, i
		}
	}
	return line, 1 + utf8.RuneCount(data[start:at])
}

// isBreak reports whether YAML reads a character as a line break.
func isBreak(r rune) bool {
	return r == '\n' || r == '\r' || r == 0x85 || r == 0x2028 || r == 0x2029
}

// yamlPrintable reports whether YAML allows a character in its text.
func yamlPrintable(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' || r >= 0x20 && r <= 0x7e || r == 0x85 ||
		r >= 0xa0 && r <= 0xd7ff || r >= 0xe000 && r <= 0xfffd || r >= 0x10000 && r <= 0x10ffff
}

// loader reads one file.
type loader struct {
	file string
	cat  *spec.Catalog
	p    *spec.Product
	// nodes counts the document's nodes, aliases expanded.
	nodes int
	// vars are the declared variables (subject: nil, the built-in).
	vars map[string]*Var
	// ids are the send step ids: defined marks those seen so far.
	ids map[string]*sendID
	// fields caches the fields of each message, for override paths.
	fields map[string]*event.Fields
}

// sendID is what a redeliver needs to know of a send step.
type sendID struct {
	pos     Pos
	defined bool
	raw     bool // the step sends a raw body
}

func (l *loader) pos(n *yaml.Node) Pos { return Pos{File: l.file, Line: n.Line, Col: n.Column} }

func (l *loader) errf(n *yaml.Node, format string, args ...any) error {
	return &loadError{pos: l.pos(n), msg: fmt.Sprintf(format, args...)}
}

// count bounds the expanded size and depth of the document. via is the
// outermost alias being expanded, where an error is placed.
func (l *loader) count(n *yaml.Node, depth int, via *yaml.Node) error {
	at := n
	if via != nil {
		at = via
	}
	l.nodes++
	if l.nodes > maxNodes {
		return l.errf(at, "the document expands to more than %d nodes (aliases?)", maxNodes)
	}
	if depth > maxDepth && via != nil {
		return l.errf(at, "the document nests deeper than %d levels (an alias inside its own anchor?)", maxDepth)
	}
	if depth > maxDepth {
		return l.errf(at, "the document nests deeper than %d levels", maxDepth)
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return l.errf(n, "alias *%s names no anchor", n.Value)
		}
		if via == nil {
			via = n
		}
		return l.count(n.Alias, depth+1, via)
	}
	for _, c := range n.Content {
		if err := l.count(c, depth+1, via); err != nil {
			return err
		}
	}
	return nil
}

// resolve follows aliases (count has bounded them).
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i <= maxDepth; i++ {
		n = n.Alias
	}
	return n
}

// describe names a node's type or value for an error.
func describe(n *yaml.Node) string {
	n = resolve(n)
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a sequence"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "null"
		case "!!bool":
			return n.Value
		}
		v := n.Value
		if len(v) > 40 {
			v = v[:37] + "..."
		}
		return strconv.Quote(v)
	}
	return "an alias"
}

// field is one key of a mapping.
type field struct {
	name     string
	key, val *yaml.Node
}

// mapping is a mapping's keys in document order.
type mapping struct {
	node   *yaml.Node
	fields []field
	by     map[string]field
}

func (m *mapping) get(key string) (field, bool) {
	f, ok := m.by[key]
	return f, ok
}

func (m *mapping) has(key string) bool {
	_, ok := m.by[key]
	return ok
}

// mapping reads a mapping: keys are strings and appear once; merge keys
// (<<: *anchor) add the anchor's keys that the mapping does not set.
func (l *loader) mapping(n *yaml.Node, what string) (*mapping, error) {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		return nil, l.errf(n, "%s must be a mapping, not %s", what, describe(n))
	}
	// The mapping's own keys first: each once, and they win over merged
	// ones wherever they stand.
	explicit := map[string]*yaml.Node{}
	// Keys are placed where they are written, an alias key too.
	for i := 0; i+1 < len(n.Content); i += 2 {
		raw := n.Content[i]
		k := resolve(raw)
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			continue
		}
		name, err := l.key(k, what)
		if err != nil {
			return nil, err
		}
		if prev, dup := explicit[name]; dup {
			return nil, l.errf(raw, "%s: key %q appears twice (first at %d:%d)", what, name, prev.Line, prev.Column)
		}
		explicit[name] = raw
	}
	m := &mapping{node: n, by: map[string]field{}}
	for i := 0; i+1 < len(n.Content); i += 2 {
		raw, v := n.Content[i], n.Content[i+1]
		if k := resolve(raw); k.Kind != yaml.ScalarNode || k.Tag != "!!merge" {
			m.add(field{k.Value, raw, v})
			continue
		}
		merged, err := l.merge(v, what)
		if err != nil {
			return nil, err
		}
		for _, f := range merged {
			if explicit[f.name] == nil {
				m.add(f)
			}
		}
	}
	return m, nil
}

func (m *mapping) add(f field) {
	if _, ok := m.by[f.name]; !ok {
		m.by[f.name] = f
		m.fields = append(m.fields, f)
	}
}

// merge reads the value of a merge key: a mapping or a sequence of them
// (earlier ones win).
func (l *loader) merge(v *yaml.Node, what string) ([]field, error) {
	v = resolve(v)
	var from []*yaml.Node
	switch v.Kind {
	case yaml.MappingNode:
		from = []*yaml.Node{v}
	case yaml.SequenceNode:
		from = v.Content
	default:
		return nil, l.errf(v, "%s: a merge key (<<) needs a mapping or a sequence of mappings, not %s", what, describe(v))
	}
	var out []field
	seen := map[string]bool{}
	for _, c := range from {
		if resolve(c).Kind != yaml.MappingNode {
			return nil, l.errf(c, "%s: a merge key (<<) needs a mapping or a sequence of mappings, not %s", what, describe(c))
		}
		m, err := l.mapping(c, what)
		if err != nil {
			return nil, err
		}
		for _, f := range m.fields {
			if !seen[f.name] {
				seen[f.name] = true
				out = append(out, f)
			}
		}
	}
	return out, nil
}

// key reads a mapping key: a string (numbers are taken as written).
func (l *loader) key(k *yaml.Node, what string) (string, error) {
	if k.Kind != yaml.ScalarNode || !stringTag(k.Tag) {
		return "", l.errf(k, "%s: a key must be a string, not %s", what, describe(k))
	}
	return k.Value, nil
}

// known refuses the keys of m that are not listed, in document order.
func (l *loader) known(m *mapping, what string, keys ...string) error {
	for _, f := range m.fields {
		if !slices.Contains(keys, f.name) {
			return l.errf(f.key, "%s: unknown key %q%s (known: %s)", what, f.name, suggest(f.name, keys), strings.Join(keys, ", "))
		}
	}
	return nil
}

// suggest names a known key close to an unknown one.
func suggest(s string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if d := editdistance.Distance(strings.ToLower(s), k); d < bestD {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf("; did you mean %q?", best)
}

// stringTag reports whether a scalar of this tag is read as a string:
// strings, and numbers and dates kept as written.
func stringTag(tag string) bool {
	switch tag {
	case "!!str", "!!int", "!!float", "!!timestamp":
		return true
	}
	return false
}

func (l *loader) str(n *yaml.Node, what string) (string, error) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode || !stringTag(n.Tag) {
		hint := ""
		if n.Kind == yaml.ScalarNode && (n.Tag == "!!bool" || n.Tag == "!!null") {
			hint = " (quote it to mean the text)"
		}
		return "", l.errf(n, "%s must be a string, not %s%s", what, describe(n), hint)
	}
	return n.Value, nil
}

// text reads a string that may not be empty.
func (l *loader) text(n *yaml.Node, what string) (string, error) {
	s, err := l.str(n, what)
	if err == nil && strings.TrimSpace(s) == "" {
		err = l.errf(resolve(n), "%s is empty", what)
	}
	return s, err
}

func (l *loader) strs(n *yaml.Node, what string) ([]string, error) {
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		return nil, l.errf(n, "%s must be a sequence of strings, not %s", what, describe(n))
	}
	out := []string{}
	for _, c := range n.Content {
		s, err := l.str(c, what+" entries")
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func (l *loader) integer(n *yaml.Node, what string, lo, hi int) (int, error) {
	n = resolve(n)
	v, err := strconv.Atoi(n.Value)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || err != nil {
		return 0, l.errf(n, "%s must be a decimal integer, not %s", what, describe(n))
	}
	if v < lo || v > hi {
		return 0, l.errf(n, "%s %d is out of range %d..%d", what, v, lo, hi)
	}
	return v, nil
}

func (l *loader) boolean(n *yaml.Node, what string) (bool, error) {
	n = resolve(n)
	var b bool
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&b) != nil {
		return false, l.errf(n, "%s must be true or false, not %s", what, describe(n))
	}
	return b, nil
}

func (l *loader) duration(n *yaml.Node, what string) (time.Duration, error) {
	s, err := l.str(n, what)
	if err != nil {
		return 0, err
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, l.errf(resolve(n), "%s %q is not a positive duration such as 500ms, 30s, 5m or 2h", what, s)
	}
	return d, nil
}

func (l *loader) enum(n *yaml.Node, what string, allowed ...string) (string, error) {
	s, err := l.str(n, what)
	if err != nil {
		return "", err
	}
	if !slices.Contains(allowed, s) {
		return "", l.errf(resolve(n), "%s %q is not one of %s", what, s, strings.Join(allowed, ", "))
	}
	return s, nil
}

var (
	idPattern  = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	varPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)
	// refPattern is a ${name} reference at the start of a string, as
	// the runner's varRef expands it.
	refPattern = regexp.MustCompile(`^\$\{([A-Za-z0-9_-]+)\}`)
)

// refs lists the ${name} references of a string; "${" that starts no
// reference is an error.
func (l *loader) refs(n *yaml.Node, s, what string) ([]string, error) {
	var out []string
	for i := 0; ; {
		j := strings.Index(s[i:], "${")
		if j < 0 {
			return out, nil
		}
		m := refPattern.FindStringSubmatch(s[i+j:])
		if m == nil {
			return nil, l.errf(resolve(n), "%s: ${ starts no reference; write ${name} with letters, digits, _ and -", what)
		}
		out = append(out, m[1])
		i += j + len(m[0])
	}
}

// expandable checks the references of a string the runner expands: each
// names a declared variable or subject.
func (l *loader) expandable(n *yaml.Node, s, what string) error {
	names, err := l.refs(n, s, what)
	if err != nil {
		return err
	}
	for _, name := range names {
		if _, ok := l.vars[name]; !ok {
			declared := make([]string, 0, len(l.vars))
			for v := range l.vars {
				declared = append(declared, v)
			}
			slices.Sort(declared)
			return l.errf(resolve(n), "%s: ${%s} names no variable (declared: %s)", what, name, strings.Join(declared, ", "))
		}
	}
	return nil
}

// literal refuses references in a string the runner does not expand.
func (l *loader) literal(n *yaml.Node, s, what string) error {
	if strings.Contains(s, "${") {
		return l.errf(resolve(n), "%s is sent as written: ${name} works only in subject, set, unset, raw-body, sign.secret, headers, from and forwarded-for", what)
	}
	return nil
}

// address expands the references of from or forwarded-for: they must
// name literal variables, whose values are addresses.
func (l *loader) address(n *yaml.Node, s, what string) (string, error) {
	if err := l.expandable(n, s, what); err != nil {
		return "", err
	}
	var bad error
	out := varRef.ReplaceAllStringFunc(s, func(m string) string {
		v := l.vars[m[2:len(m)-1]]
		if v == nil || v.Generate != "" {
			if bad == nil {
				bad = l.errf(resolve(n), "%s: %s is generated, not an address; declare a variable with a literal address", what, m)
			}
			return m
		}
		return v.Value
	})
	return out, bad
}

func (l *loader) scenario(root *yaml.Node) (*Scenario, error) {
	m, err := l.mapping(root, "scenario")
	if err != nil {
		return nil, err
	}
	if err := l.known(m, "scenario", "product", "name", "description", "tags", "vars", "case", "steps"); err != nil {
		return nil, err
	}
	for _, req := range []string{"product", "description", "steps"} {
		if !m.has(req) {
			return nil, l.errf(m.node, "scenario: %q is required", req)
		}
	}
	sc := &Scenario{Pos: l.pos(m.node)}
	f, _ := m.get("product")
	if sc.Product, err = l.str(f.val, "product"); err != nil {
		return nil, err
	}
	if l.p, err = l.cat.Product(sc.Product); err != nil {
		return nil, l.errf(resolve(f.val), "%v", err)
	}
	sc.Product = l.p.Name
	if f, ok := m.get("name"); ok {
		if sc.Name, err = l.text(f.val, "name"); err != nil {
			return nil, err
		}
		if strings.ContainsAny(sc.Name, "\r\n") {
			return nil, l.errf(resolve(f.val), "name is one line")
		}
	}
	f, _ = m.get("description")
	if sc.Description, err = l.text(f.val, "description"); err != nil {
		return nil, err
	}
	// A folded scalar (description: >) ends with a line break.
	sc.Description = strings.TrimRight(sc.Description, "\n")
	if strings.ContainsAny(sc.Description, "\r\n") {
		return nil, l.errf(resolve(f.val), "description is one line")
	}
	if f, ok := m.get("tags"); ok {
		if sc.Tags, err = l.tags(f.val); err != nil {
			return nil, err
		}
	}
	if f, ok := m.get("vars"); ok {
		if sc.Vars, err = l.varsOf(f.val); err != nil {
			return nil, err
		}
	}
	if f, ok := m.get("case"); ok {
		if sc.Case, err = l.caseOf(f.val, sc.Product); err != nil {
			return nil, err
		}
	}
	f, _ = m.get("steps")
	steps := resolve(f.val)
	if steps.Kind != yaml.SequenceNode {
		return nil, l.errf(steps, "steps must be a sequence, not %s", describe(steps))
	}
	if len(steps.Content) == 0 {
		return nil, l.errf(steps, "steps is empty: give at least one step")
	}
	if err := l.collectIDs(steps); err != nil {
		return nil, err
	}
	for _, n := range steps.Content {
		st, err := l.step(n, false)
		if err != nil {
			return nil, err
		}
		sc.Steps = append(sc.Steps, st)
	}
	return sc, nil
}

func (l *loader) tags(n *yaml.Node) ([]string, error) {
	tags, err := l.strs(n, "tags")
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for i, t := range tags {
		at := resolve(resolve(n).Content[i])
		if !idPattern.MatchString(t) {
			return nil, l.errf(at, "tag %q: use lower-case letters, digits and dashes", t)
		}
		if seen[t] {
			return nil, l.errf(at, "tag %q appears twice", t)
		}
		seen[t] = true
	}
	return tags, nil
}

func (l *loader) varsOf(n *yaml.Node) ([]Var, error) {
	m, err := l.mapping(n, "vars")
	if err != nil {
		return nil, err
	}
	var out []Var
	for _, f := range m.fields {
		if !varPattern.MatchString(f.name) {
			return nil, l.errf(f.key, "variable name %q: use letters, digits, _ and - (not starting with a digit or -)", f.name)
		}
		v := Var{Name: f.name, Pos: l.pos(f.key)}
		if val := resolve(f.val); val.Kind == yaml.MappingNode {
			g, err := l.mapping(val, "var "+f.name)
			if err != nil {
				return nil, err
			}
			if err := l.known(g, "var "+f.name, "generate", "handled", "prefer-handled"); err != nil {
				return nil, err
			}
			h, strict := g.get("handled")
			p, prefer := g.get("prefer-handled")
			if strict || prefer {
				if len(g.fields) != 1 {
					return nil, l.errf(val, "var %s: give one of generate, handled and prefer-handled", f.name)
				}
				if prefer {
					h, v.Prefer = p, true
				}
				if v.Handled, err = l.messages(h.val, "var "+f.name+" "+h.name); err != nil {
					return nil, err
				}
				out = append(out, v)
				continue
			}
			gen, ok := g.get("generate")
			if !ok {
				return nil, l.errf(val, "var %s: want {generate: GENERATOR}, {handled: [MESSAGE, ...]} or a string", f.name)
			}
			if v.Generate, err = l.str(gen.val, "generate"); err != nil {
				return nil, err
			}
			if !slices.Contains(Generators, v.Generate) {
				return nil, l.errf(resolve(gen.val), "unknown generator %q%s (known: %s)", v.Generate, suggest(v.Generate, Generators), strings.Join(Generators, ", "))
			}
		} else {
			if v.Value, err = l.str(val, "var "+f.name+" (a string or {generate: GENERATOR})"); err != nil {
				return nil, err
			}
			if strings.Contains(v.Value, "${") {
				return nil, l.errf(val, "var %s: a variable's value is taken as written; it cannot refer to ${variables}", f.name)
			}
		}
		out = append(out, v)
	}
	for i := range out {
		l.vars[out[i].Name] = &out[i]
	}
	return out, nil
}

// collectIDs notes every send step id of the file first, so that a
// redeliver of a later step says so.
func (l *loader) collectIDs(steps *yaml.Node) error {
	for _, n := range steps.Content {
		m, err := l.mapping(n, "a step")
		if err != nil {
			continue // step reports it
		}
		_, send := m.get("send")
		f, ok := m.get("id")
		if !send || !ok || resolve(f.val).Kind != yaml.ScalarNode {
			continue
		}
		id := resolve(f.val)
		if prev, dup := l.ids[id.Value]; dup {
			return l.errf(id, "id %q is used twice (first at %d:%d)", id.Value, prev.pos.Line, prev.pos.Col)
		}
		l.ids[id.Value] = &sendID{pos: l.pos(id)}
	}
	return nil
}

// The keys of each kind of step.
var (
	kinds      = []string{"send", "wait", "redeliver", "parallel", "vendor-state", "expect"}
	deliveryKs = []string{"from", "forwarded-for", "headers", "content-type", "retry", "answer-timeout"}
	sendKeys   = append([]string{"send", "id", "name", "subject", "set", "set-unknown", "unset", "raw-body", "age",
		"precision", "reject-code", "sandbox-mode", "review-answer", "reject-type", "reject-labels", "sign", "recorded-headers"},
		append(deliveryKs, "expect")...)
	redeliverKeys = append([]string{"redeliver", "name", "restamp"}, append(deliveryKs, "expect")...)
	// payloadKeys shape a built payload: a raw body takes none of them.
	payloadKeys = []string{"set", "set-unknown", "unset", "age", "precision", "reject-code", "sandbox-mode", "review-answer", "reject-type", "reject-labels"}
)

func (l *loader) step(n *yaml.Node, inParallel bool) (Step, error) {
	m, err := l.mapping(n, "a step")
	if err != nil {
		return Step{}, err
	}
	var found []field
	for _, f := range m.fields {
		if slices.Contains(kinds, f.name) {
			found = append(found, f)
		}
	}
	// expect is also an option of send and redeliver.
	if len(found) == 2 && (found[0].name == "send" || found[0].name == "redeliver") && found[1].name == "expect" {
		found = found[:1]
	} else if len(found) == 2 && found[0].name == "expect" && (found[1].name == "send" || found[1].name == "redeliver") {
		found = found[1:]
	}
	switch len(found) {
	case 0:
		return Step{}, l.errf(m.node, "a step needs one of %s", strings.Join(kinds, ", "))
	case 1:
	default:
		return Step{}, l.errf(found[1].key, "a step has one kind; this one has %s and %s", found[0].name, found[1].name)
	}
	k := found[0].name
	if inParallel && k != "send" && k != "redeliver" {
		return Step{}, l.errf(found[0].key, "parallel holds send and redeliver steps only, not %s", k)
	}
	st := Step{Kind: StepKind(k), Pos: l.pos(m.node)}
	keys := []string{k, "name"}
	switch st.Kind {
	case KindSend:
		keys = sendKeys
	case KindRedeliver:
		keys = redeliverKeys
	}
	if err := l.known(m, k+" step", keys...); err != nil {
		return Step{}, err
	}
	if f, ok := m.get("name"); ok {
		if st.Name, err = l.text(f.val, "name"); err != nil {
			return Step{}, err
		}
	}
	val := found[0].val
	switch st.Kind {
	case KindSend:
		if st.Send, err = l.send(m); err != nil {
			return Step{}, err
		}
		if f, ok := m.get("id"); ok {
			if inParallel {
				return Step{}, l.errf(f.key, "a send inside parallel has no id: redeliver names a step before the parallel one")
			}
			if st.ID, err = l.str(f.val, "id"); err != nil {
				return Step{}, err
			}
			if !idPattern.MatchString(st.ID) {
				return Step{}, l.errf(resolve(f.val), "id %q: use lower-case letters, digits and dashes", st.ID)
			}
			id := l.ids[st.ID] // collectIDs saw it
			if id == nil {
				id = &sendID{pos: l.pos(resolve(f.val))}
				l.ids[st.ID] = id
			}
			id.defined, id.raw = true, st.Send.RawBody != nil
		}
	case KindWait:
		st.Wait, err = l.duration(val, "wait")
	case KindRedeliver:
		st.Redeliver, err = l.redeliver(m)
	case KindParallel:
		st.Parallel, st.Identical, err = l.parallel(val)
	case KindVendorState:
		st.VendorState, err = l.vendorState(val)
	case KindExpect:
		st.Expect, err = l.effects(val)
	}
	if err != nil {
		return Step{}, err
	}
	return st, nil
}

func (l *loader) send(m *mapping) (*Send, error) {
	s := &Send{}
	f, _ := m.get("send")
	var err error
	if s.Message, err = l.str(f.val, "send"); err != nil {
		return nil, err
	}
	// alternatives are the messages the step may send: one, or those a
	// message variable lists.
	var alternatives []string
	if m := refPattern.FindStringSubmatch(s.Message); m != nil && m[0] == s.Message {
		v := l.vars[m[1]]
		if v == nil || v.Handled == nil {
			return nil, l.errf(resolve(f.val), "send %s: a message variable is declared as {handled: [MESSAGE, ...]} or {prefer-handled: [...]}", s.Message)
		}
		alternatives = v.Handled
	} else {
		msg, err := l.p.Message(s.Message)
		if err != nil {
			return nil, l.errf(resolve(f.val), "%v", err)
		}
		s.Message = msg.Name
		alternatives = []string{msg.Name}
	}
	jumio := strings.HasPrefix(l.p.Name, "jumio-")
	sumsub := l.p.Name == "sumsub"
	for _, c := range []struct {
		key, products string
		ok            bool
	}{
		{"precision", "Jumio products", jumio},
		{"reject-code", "jumio-netverify", l.p.Name == "jumio-netverify"},
		{"sandbox-mode", "sumsub", sumsub},
		{"review-answer", "sumsub", sumsub},
		{"reject-type", "sumsub", sumsub},
		{"reject-labels", "sumsub", sumsub},
		{"sign", "sumsub (Jumio callbacks are not signed)", sumsub},
	} {
		if f, has := m.get(c.key); has && !c.ok {
			return nil, l.errf(f.key, "%s applies to %s, not %s", c.key, c.products, l.p.Name)
		}
	}
	if raw, ok := m.get("raw-body"); ok {
		for _, k := range payloadKeys {
			if f, has := m.get(k); has {
				return nil, l.errf(f.key, "%s shapes a built payload; raw-body (line %d) is sent as written", k, raw.key.Line)
			}
		}
		b, err := l.str(raw.val, "raw-body")
		if err != nil {
			return nil, err
		}
		if err := l.expandable(raw.val, b, "raw-body"); err != nil {
			return nil, err
		}
		s.RawBody = &b
	}
	if f, ok := m.get("subject"); ok {
		if s.Subject, err = l.subject(f.val); err != nil {
			return nil, err
		}
	}
	if f, ok := m.get("set"); ok {
		if s.Set, err = l.overrides(f.val, "set", alternatives, true); err != nil {
			return nil, err
		}
	}
	// set-unknown sets fields the vendor's document does not name (an
	// unknown field a receiver must tolerate), after set.
	if f, ok := m.get("set-unknown"); ok {
		more, err := l.overrides(f.val, "set-unknown", alternatives, false)
		if err != nil {
			return nil, err
		}
		s.Set = append(s.Set, more...)
	}
	if f, ok := m.get("unset"); ok {
		if s.Unset, err = l.strs(f.val, "unset"); err != nil {
			return nil, err
		}
		for i, p := range s.Unset {
			at := resolve(resolve(f.val).Content[i])
			if err := l.path(at, p, "unset"); err != nil {
				return nil, err
			}
			if err := l.fieldPath(at, p, "unset", alternatives, true); err != nil {
				return nil, err
			}
		}
	}
	if f, ok := m.get("age"); ok {
		if s.Age, err = l.duration(f.val, "age"); err != nil {
			return nil, err
		}
	}
	if f, ok := m.get("precision"); ok {
		p, err := l.integer(f.val, "precision", 0, 3)
		if err != nil {
			return nil, err
		}
		s.Precision = &p
	}
	if f, ok := m.get("reject-code"); ok {
		if s.RejectCode, err = l.text(f.val, "reject-code"); err != nil {
			return nil, err
		}
		if err := l.literal(f.val, s.RejectCode, "reject-code"); err != nil {
			return nil, err
		}
		if err := l.rejectCode(resolve(f.val), s.RejectCode, s.Message, alternatives); err != nil {
			return nil, err
		}
	}
	if f, ok := m.get("sandbox-mode"); ok {
		if s.SandboxMode, err = l.enum(f.val, "sandbox-mode", event.SandboxModeBool, event.SandboxModeString); err != nil {
			return nil, err
		}
	}
	if f, ok := m.get("review-answer"); ok {
		if s.ReviewAnswer, err = l.enum(f.val, "review-answer", "GREEN", "RED"); err != nil {
			return nil, err
		}
	}
	if f, ok := m.get("reject-type"); ok {
		if s.RejectType, err = l.enum(f.val, "reject-type", "FINAL", "RETRY"); err != nil {
			return nil, err
		}
	}
	if f, ok := m.get("reject-labels"); ok {
		if s.RejectLabels, err = l.labels(f.val); err != nil {
			return nil, err
		}
	}
	if f, ok := m.get("sign"); ok {
		if s.Sign, err = l.signing(f.val); err != nil {
			return nil, err
		}
	}
	if f, ok := m.get("recorded-headers"); ok {
		if s.Recorded, err = l.recordedHeaders(f.val); err != nil {
			return nil, err
		}
	}
	if s.Delivery, err = l.delivery(m); err != nil {
		return nil, err
	}
	if f, ok := m.get("expect"); ok {
		if s.Expect, err = l.answer(f.val); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// recordedHeaders reads the recorded-headers key of a send step: the
// signature headers a recorded callback came with, which `kycsim run
// --as-recorded` sends instead of signing ({} when it came with none).
func (l *loader) recordedHeaders(n *yaml.Node) ([]Header, error) {
	hm, err := l.mapping(n, "recorded-headers")
	if err != nil {
		return nil, err
	}
	out := []Header{}
	for _, h := range hm.fields {
		v, err := l.str(h.val, "recorded header "+h.name)
		if err != nil {
			return nil, err
		}
		name, value, err := simulator.ParseHeader(h.name + ": " + v)
		if err != nil {
			return nil, l.errf(h.key, "%v", err)
		}
		if err := l.expandable(h.val, value, "recorded header "+name); err != nil {
			return nil, err
		}
		out = append(out, Header{Name: name, Value: value})
	}
	return out, nil
}

// overrides reads the mapping of a set or set-unknown key: paths whose
// fields the message has (known) or does not have (!known), and values.
func (l *loader) overrides(n *yaml.Node, what string, alternatives []string, known bool) ([]Override, error) {
	sm, err := l.mapping(n, what)
	if err != nil {
		return nil, err
	}
	var out []Override
	for _, o := range sm.fields {
		if err := l.path(o.key, o.name, what); err != nil {
			return nil, err
		}
		if err := l.fieldPath(o.key, o.name, what, alternatives, known); err != nil {
			return nil, err
		}
		v, err := l.jsonValue(o.val, what+" "+o.name)
		if err != nil {
			return nil, err
		}
		out = append(out, Override{Path: o.name, Value: v, Pos: l.pos(o.key)})
	}
	return out, nil
}

// fieldPath checks the field an override path names against the
// catalog's fields of the messages the step may send. With known (set,
// unset), the path must name a field of at least one of them (the runner
// skips an unset of a field the chosen one lacks); without (set-unknown),
// of none: set-unknown is for fields the document does not name. A path
// with ${references} names a field only once it runs, and is not checked.
func (l *loader) fieldPath(n *yaml.Node, path, what string, alternatives []string, known bool) error {
	if strings.Contains(path, "${") {
		return nil
	}
	var first *event.UnknownFieldError
	for _, msg := range alternatives {
		fields, err := l.messageFields(msg)
		if err != nil {
			return l.errf(n, "%s %s: %v", what, path, err)
		}
		err = fields.Check(path)
		var ue *event.UnknownFieldError
		switch {
		case errors.As(err, &ue):
			if first == nil {
				first = ue
			}
		case err != nil:
			return l.errf(n, "%s: %v", what, err)
		case !known:
			return l.errf(n, "%s %s: %s is a field of %s %s; set it with set (set-unknown is for fields the document does not name)", what, path, strconv.Quote(path), l.p.Name, msg)
		default:
			return nil
		}
	}
	if !known {
		return nil
	}
	msg := fmt.Sprintf("%s %s: %s names no field of %s %s", what, path, strconv.Quote(first.At), l.p.Name, orList(alternatives))
	if first.Suggestion != "" {
		msg += fmt.Sprintf("; did you mean %q?", first.Suggestion)
	}
	if what == "set" {
		msg += " (set-unknown sets a field the document does not name)"
	}
	return l.errf(n, "%s", msg)
}

// messageFields returns the fields of a message of the scenario's
// product.
func (l *loader) messageFields(message string) (*event.Fields, error) {
	if f, ok := l.fields[message]; ok {
		return f, nil
	}
	f, err := event.MessageFields(l.p, message)
	if err != nil {
		return nil, err
	}
	if l.fields == nil {
		l.fields = map[string]*event.Fields{}
	}
	l.fields[message] = f
	return f, nil
}

// orList joins names as "a", "a or b", "a, b or c".
func orList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// rejectCode checks a Netverify reject code: one the guide lists for each
// message the step may send.
func (l *loader) rejectCode(n *yaml.Node, code, send string, alternatives []string) error {
	for _, msg := range alternatives {
		codes := event.RejectCodes(msg)
		if slices.Contains(codes, code) {
			continue
		}
		codesOf := fmt.Sprintf("%s codes are %s", msg, strings.Join(codes, ", "))
		if send != msg {
			codesOf = fmt.Sprintf("%s may be %s, whose codes are %s", send, msg, strings.Join(codes, ", "))
		}
		switch st := event.RejectCodeStatus(code); {
		case codes == nil && send != msg:
			return l.errf(n, "reject-code %q: %s may be %s, which carries no rejectReason (only DENIED_FRAUD and ERROR_NOT_READABLE_ID do)", code, send, msg)
		case codes == nil:
			return l.errf(n, "reject-code %q: %s carries no rejectReason (only DENIED_FRAUD and ERROR_NOT_READABLE_ID do)", code, msg)
		case st == "":
			return l.errf(n, "reject-code %q is not a Netverify reject code; %s", code, codesOf)
		default:
			return l.errf(n, "reject-code %q belongs to %s; %s", code, st, codesOf)
		}
	}
	return nil
}

// messages reads a non-empty list of the product's message names.
func (l *loader) messages(n *yaml.Node, what string) ([]string, error) {
	names, err := l.strs(n, what)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, l.errf(resolve(n), "%s: list at least one message", what)
	}
	for i, name := range names {
		msg, err := l.p.Message(name)
		if err != nil {
			return nil, l.errf(resolve(resolve(n).Content[i]), "%s: %v", what, err)
		}
		names[i] = msg.Name
	}
	return names, nil
}

// subject reads a subject override.
func (l *loader) subject(n *yaml.Node) (string, error) {
	s, err := l.text(n, "subject")
	if err != nil {
		return "", err
	}
	return s, l.expandable(n, s, "subject")
}

// path checks a set or unset path (${name} references are expanded).
func (l *loader) path(n *yaml.Node, p, what string) error {
	if err := l.expandable(n, p, what+" "+p); err != nil {
		return err
	}
	if _, err := event.ParsePath(p); err != nil {
		return l.errf(n, "%s: %v", what, err)
	}
	return nil
}

// labels reads Sumsub reject labels.
func (l *loader) labels(n *yaml.Node) ([]string, error) {
	out, err := l.strs(n, "reject-labels")
	if err != nil {
		return nil, err
	}
	for i, s := range out {
		at := resolve(resolve(n).Content[i])
		if strings.TrimSpace(s) == "" {
			return nil, l.errf(at, "reject-labels: a label is empty")
		}
		if err := l.literal(at, s, "reject-labels"); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// jsonNumber is a number as JSON writes it.
var jsonNumber = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// jsonValue converts a YAML value to the JSON model: nil, bool,
// json.Number, string, []any and map[string]any. Strings may hold
// ${name} references.
func (l *loader) jsonValue(n *yaml.Node, what string) (any, error) {
	n = resolve(n)
	switch n.Kind {
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return nil, nil
		case "!!bool":
			return l.boolean(n, what)
		case "!!int", "!!float":
			return l.number(n, what)
		case "!!str", "!!timestamp":
			return n.Value, l.expandable(n, n.Value, what)
		}
		return nil, l.errf(n, "%s: %s (%s) has no JSON form", what, describe(n), n.Tag)
	case yaml.SequenceNode:
		out := []any{}
		for _, c := range n.Content {
			v, err := l.jsonValue(c, what)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		m, err := l.mapping(n, what)
		if err != nil {
			return nil, err
		}
		out := map[string]any{}
		for _, f := range m.fields {
			if err := l.literal(f.key, f.name, what+": the key "+strconv.Quote(f.name)); err != nil {
				return nil, err
			}
			v, err := l.jsonValue(f.val, what)
			if err != nil {
				return nil, err
			}
			out[f.name] = v
		}
		return out, nil
	}
	return nil, l.errf(n, "%s: not a value", what)
}

// number converts a YAML number to a json.Number: as written when JSON
// can write it so, else its decimal form (0x1f → 31, 1_000 → 1000).
func (l *loader) number(n *yaml.Node, what string) (json.Number, error) {
	if jsonNumber.MatchString(n.Value) {
		return json.Number(n.Value), nil
	}
	if n.Tag == "!!int" {
		var v any
		if err := n.Decode(&v); err == nil {
			switch i := v.(type) {
			case int:
				return json.Number(strconv.Itoa(i)), nil
			case int64:
				return json.Number(strconv.FormatInt(i, 10)), nil
			case uint64:
				return json.Number(strconv.FormatUint(i, 10)), nil
			}
		}
	} else if i, ok := new(big.Int).SetString(strings.ReplaceAll(n.Value, "_", ""), 10); ok {
		return json.Number(i.String()), nil
	} else {
		var f float64
		if n.Decode(&f) == nil {
			if b, err := json.Marshal(f); err == nil {
				return json.Number(b), nil
			}
		}
	}
	return "", l.errf(n, "%s: %s has no JSON form", what, describe(n))
}

func (l *loader) signing(n *yaml.Node) (Signing, error) {
	var s Signing
	m, err := l.mapping(n, "sign")
	if err != nil {
		return s, err
	}
	if err := l.known(m, "sign", "secret", "alg", "alg-header", "digest"); err != nil {
		return s, err
	}
	if len(m.fields) == 0 {
		return s, l.errf(m.node, "sign: give secret, alg, alg-header or digest (without sign a callback is signed correctly)")
	}
	if f, ok := m.get("secret"); ok {
		v, err := l.str(f.val, "secret")
		if err != nil {
			return s, err
		}
		if err := l.expandable(f.val, v, "secret"); err != nil {
			return s, err
		}
		s.Secret = &v
	}
	if f, ok := m.get("alg"); ok {
		v, err := l.str(f.val, "alg")
		if err != nil {
			return s, err
		}
		a, err := signing.ParseAlgorithm(v)
		if err != nil {
			return s, l.errf(resolve(f.val), "%v; to send another name, use alg-header", err)
		}
		s.Algorithm = string(a)
	}
	if f, ok := m.get("alg-header"); ok {
		v, err := l.str(f.val, "alg-header")
		if err != nil {
			return s, err
		}
		if _, _, err := simulator.ParseHeader(signing.AlgorithmHeader + ": " + v); err != nil {
			return s, l.errf(resolve(f.val), "alg-header: %v", err)
		}
		if err := l.literal(f.val, v, "alg-header"); err != nil {
			return s, err
		}
		s.AlgorithmHeader = &v
	}
	if f, ok := m.get("digest"); ok {
		if s.Digest, err = l.enum(f.val, "digest", DigestMissing, DigestWrong, DigestTampered); err != nil {
			return s, err
		}
	}
	return s, nil
}

// delivery reads the delivery keys of a send or redeliver step.
func (l *loader) delivery(m *mapping) (Delivery, error) {
	var d Delivery
	var err error
	// from and forwarded-for are left out when their variables expand to
	// "": a run's variables can move a case between a bound source and a
	// forwarded one.
	if f, ok := m.get("from"); ok {
		if d.From, err = l.text(f.val, "from"); err != nil {
			return d, err
		}
		a, err := l.address(f.val, d.From, "from")
		if err != nil {
			return d, err
		}
		if _, err := simulator.ParseSource(a); a != "" && err != nil {
			return d, l.errf(resolve(f.val), "from: %v", err)
		}
	}
	if f, ok := m.get("forwarded-for"); ok {
		if d.ForwardedFor, err = l.text(f.val, "forwarded-for"); err != nil {
			return d, err
		}
		a, err := l.address(f.val, d.ForwardedFor, "forwarded-for")
		if err != nil {
			return d, err
		}
		for _, hop := range strings.Split(a, ",") {
			if _, err := netip.ParseAddr(strings.TrimSpace(hop)); a != "" && err != nil {
				return d, l.errf(resolve(f.val), "forwarded-for: %q is not an IP address (give one or a comma-separated list; headers can send anything)", strings.TrimSpace(hop))
			}
		}
	}
	if f, ok := m.get("headers"); ok {
		hm, err := l.mapping(f.val, "headers")
		if err != nil {
			return d, err
		}
		for _, h := range hm.fields {
			v, err := l.str(h.val, "header "+h.name)
			if err != nil {
				return d, err
			}
			name, value, err := simulator.ParseHeader(h.name + ": " + v)
			if err != nil {
				return d, l.errf(h.key, "%v", err)
			}
			if err := l.expandable(h.val, value, "header "+name); err != nil {
				return d, err
			}
			d.Headers = append(d.Headers, Header{Name: name, Value: value})
		}
	}
	if f, ok := m.get("content-type"); ok {
		if d.ContentType, err = l.text(f.val, "content-type"); err != nil {
			return d, err
		}
		if _, _, err := simulator.ParseHeader("Content-Type: " + d.ContentType); err != nil {
			return d, l.errf(resolve(f.val), "content-type: %v", err)
		}
		if err := l.literal(f.val, d.ContentType, "content-type"); err != nil {
			return d, err
		}
	}
	if f, ok := m.get("retry"); ok {
		v := resolve(f.val)
		if v.Kind == yaml.SequenceNode {
			if len(v.Content) == 0 {
				return d, l.errf(v, "retry: an empty list of delays; write retry: false for one attempt")
			}
			if len(v.Content) > 100 {
				return d, l.errf(v, "retry: at most 100 delays, not %d", len(v.Content))
			}
			d.Retry = true
			for _, c := range v.Content {
				dd, err := l.duration(c, "retry delay")
				if err != nil {
					return d, err
				}
				d.Delays = append(d.Delays, dd)
			}
		} else if d.Retry, err = l.boolean(v, "retry (true, false or a list of delays)"); err != nil {
			return d, err
		}
	}
	if f, ok := m.get("answer-timeout"); ok {
		if d.AnswerTimeout, err = l.duration(f.val, "answer-timeout"); err != nil {
			return d, err
		}
	}
	return d, nil
}

// statusPattern is an expected status: a code, a class, or "refuse" (the
// run's policy for content the receiver must not act on: 4xx, or for
// Jumio under ack-and-drop 2xx).
var statusPattern = regexp.MustCompile(`^([1-5]xx|[1-5][0-9][0-9]|refuse)$`)

func (l *loader) status(n *yaml.Node, what string) (string, error) {
	s, err := l.str(n, what)
	if err != nil {
		return "", err
	}
	if !statusPattern.MatchString(s) {
		return "", l.errf(resolve(n), "%s %q: want a status code 100..599 (200), a class 1xx..5xx (2xx) or refuse", what, s)
	}
	return s, nil
}

// answer reads the expect key of a send or redeliver step.
func (l *loader) answer(n *yaml.Node) (*Answer, error) {
	n = resolve(n)
	a := &Answer{Pos: l.pos(n)}
	var err error
	if n.Kind == yaml.ScalarNode {
		a.Status, err = l.status(n, "expect")
		return a, err
	}
	m, err := l.mapping(n, "expect (a status, or {status, within, attempts})")
	if err != nil {
		return nil, err
	}
	if err := l.known(m, "expect", "status", "within", "attempts"); err != nil {
		return nil, err
	}
	if len(m.fields) == 0 {
		return nil, l.errf(n, "expect: give status, within or attempts")
	}
	if f, ok := m.get("status"); ok {
		if a.Status, err = l.status(f.val, "status"); err != nil {
			return nil, err
		}
	}
	if f, ok := m.get("within"); ok {
		if a.Within, err = l.duration(f.val, "within"); err != nil {
			return nil, err
		}
	}
	if f, ok := m.get("attempts"); ok {
		if a.Attempts, err = l.integer(f.val, "attempts", 1, 101); err != nil {
			return nil, err
		}
	}
	return a, nil
}

func (l *loader) redeliver(m *mapping) (*Redeliver, error) {
	rd := &Redeliver{}
	f, _ := m.get("redeliver")
	var err error
	if rd.Step, err = l.str(f.val, "redeliver"); err != nil {
		return nil, err
	}
	id, ok := l.ids[rd.Step]
	switch {
	case !ok:
		var known []string
		for name, id := range l.ids {
			if id.defined {
				known = append(known, name)
			}
		}
		slices.Sort(known)
		list := "none so far"
		if len(known) > 0 {
			list = strings.Join(known, ", ")
		}
		return nil, l.errf(resolve(f.val), "redeliver %q: no send step has this id (earlier ids: %s)", rd.Step, list)
	case !id.defined:
		return nil, l.errf(resolve(f.val), "redeliver %q: the step comes later (line %d); redeliver an earlier send step", rd.Step, id.pos.Line)
	}
	if f, ok := m.get("restamp"); ok {
		if rd.Restamp, err = l.boolean(f.val, "restamp"); err != nil {
			return nil, err
		}
		if rd.Restamp && id.raw {
			return nil, l.errf(f.key, "restamp: step %q sends a raw body, which has no timestamp to renew", rd.Step)
		}
	}
	for _, k := range deliveryKs {
		if m.has(k) {
			d, err := l.delivery(m)
			if err != nil {
				return nil, err
			}
			rd.Delivery = &d
			break
		}
	}
	if f, ok := m.get("expect"); ok {
		if rd.Expect, err = l.answer(f.val); err != nil {
			return nil, err
		}
	}
	return rd, nil
}

// parallel reads a parallel step: its parts, and whether they are
// identical copies of one send ({count: N, send: ..., identical: true}).
func (l *loader) parallel(n *yaml.Node) ([]Step, bool, error) {
	n = resolve(n)
	if n.Kind == yaml.MappingNode {
		// The shorthand {count: N, send|redeliver: ..., ...}.
		m, err := l.mapping(n, "parallel")
		if err != nil {
			return nil, false, err
		}
		count, ok := m.get("count")
		if !ok {
			return nil, false, l.errf(n, "parallel: give a sequence of send and redeliver steps, or {count: N, send: ...} or {count: N, redeliver: ID}")
		}
		c, err := l.integer(count.val, "count", 2, 100)
		if err != nil {
			return nil, false, err
		}
		identical := false
		if f, ok := m.get("identical"); ok {
			if identical, err = l.boolean(f.val, "identical"); err != nil {
				return nil, false, err
			}
			if _, isSend := m.get("send"); !isSend {
				return nil, false, l.errf(f.key, "identical applies to {count: N, send: ...}: the copies of a redeliver are identical anyway")
			}
		}
		rest := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: n.Line, Column: n.Column}
		for _, f := range m.fields {
			if f.name != "count" && f.name != "identical" {
				rest.Content = append(rest.Content, f.key, f.val)
			}
		}
		one, err := l.step(rest, true)
		if err != nil {
			return nil, false, err
		}
		out := make([]Step, c)
		for i := range out {
			out[i] = one
		}
		return out, identical, nil
	}
	if n.Kind != yaml.SequenceNode || len(n.Content) < 2 {
		return nil, false, l.errf(n, "parallel: give a sequence of at least two send or redeliver steps, or {count: N, send: ...} or {count: N, redeliver: ID}")
	}
	var out []Step
	for _, c := range n.Content {
		st, err := l.step(c, true)
		if err != nil {
			return nil, false, err
		}
		out = append(out, st)
	}
	return out, false, nil
}

// The vendor-state keys of each product.
var (
	kyxStateKeys    = []string{"decision", "risk-score", "label", "capabilities"}
	sumsubStateKeys = []string{"review-status", "review-answer", "reject-labels", "reject-type"}
)

func (l *loader) vendorState(n *yaml.Node) (*VendorState, error) {
	vs := &VendorState{}
	var keys, other []string
	var otherProduct string
	switch l.p.Name {
	case "jumio-kyx":
		keys, other, otherProduct = kyxStateKeys, sumsubStateKeys, "sumsub"
	case "sumsub":
		keys, other, otherProduct = sumsubStateKeys, kyxStateKeys, "jumio-kyx"
	default:
		return nil, l.errf(resolve(n), "vendor-state applies to jumio-kyx and sumsub, not %s (its callbacks carry the result)", l.p.Name)
	}
	m, err := l.mapping(n, "vendor-state")
	if err != nil {
		return nil, err
	}
	for _, f := range m.fields {
		if slices.Contains(other, f.name) {
			return nil, l.errf(f.key, "vendor-state: %s applies to %s, not %s", f.name, otherProduct, l.p.Name)
		}
	}
	if err := l.known(m, "vendor-state", append([]string{"subject"}, keys...)...); err != nil {
		return nil, err
	}
	if f, ok := m.get("subject"); ok {
		if vs.Subject, err = l.subject(f.val); err != nil {
			return nil, err
		}
	}
	if l.p.Name == "jumio-kyx" {
		f, ok := m.get("decision")
		if !ok {
			return nil, l.errf(m.node, "vendor-state: jumio-kyx needs a decision (PASSED, REJECTED, WARNING, NOT_EXECUTED)")
		}
		if vs.Decision, err = l.enum(f.val, "decision", "PASSED", "REJECTED", "WARNING", "NOT_EXECUTED"); err != nil {
			return nil, err
		}
		if f, ok := m.get("risk-score"); ok {
			v, err := l.integer(f.val, "risk-score", -1, 100)
			if err != nil {
				return nil, err
			}
			vs.RiskScore = &v
		}
		if f, ok := m.get("label"); ok {
			if vs.Label, err = l.text(f.val, "label"); err != nil {
				return nil, err
			}
			if err := l.literal(f.val, vs.Label, "label"); err != nil {
				return nil, err
			}
		}
		if f, ok := m.get("capabilities"); ok {
			if resolve(f.val).Kind != yaml.MappingNode {
				return nil, l.errf(resolve(f.val), "capabilities must be a mapping, not %s", describe(f.val))
			}
			v, err := l.jsonValue(f.val, "capabilities")
			if err != nil {
				return nil, err
			}
			vs.Capability = v.(map[string]any)
		}
		return vs, nil
	}
	f, ok := m.get("review-status")
	if !ok {
		return nil, l.errf(m.node, "vendor-state: sumsub needs a review-status")
	}
	if vs.ReviewStatus, err = l.enum(f.val, "review-status", "init", "pending", "prechecked", "queued", "completed", "onHold", "awaitingService", "awaitingUser"); err != nil {
		return nil, err
	}
	if f, ok := m.get("review-answer"); ok {
		if vs.ReviewAnswer, err = l.enum(f.val, "review-answer", "GREEN", "RED"); err != nil {
			return nil, err
		}
	}
	if f, ok := m.get("reject-labels"); ok {
		if vs.RejectLabels, err = l.labels(f.val); err != nil {
			return nil, err
		}
	}
	if f, ok := m.get("reject-type"); ok {
		if vs.RejectType, err = l.enum(f.val, "reject-type", "FINAL", "RETRY"); err != nil {
			return nil, err
		}
	}
	return vs, nil
}

// effects reads an expect step.
func (l *loader) effects(n *yaml.Node) (*Effects, error) {
	e := &Effects{Pos: l.pos(resolve(n))}
	m, err := l.mapping(n, "expect")
	if err != nil {
		return nil, err
	}
	if err := l.known(m, "expect", "events", "status", "not-status", "decision", "fetches", "within", "subject"); err != nil {
		return nil, err
	}
	if !m.has("events") && !m.has("status") && !m.has("not-status") && !m.has("decision") && !m.has("fetches") {
		return nil, l.errf(m.node, "expect: give events, status, not-status, decision or fetches")
	}
	if f, ok := m.get("decision"); ok {
		s, err := l.enum(f.val, "decision", DecisionClasses...)
		if err != nil {
			return nil, err
		}
		e.Decision = &s
	}
	if f, ok := m.get("not-status"); ok {
		s, err := l.text(f.val, "not-status")
		if err != nil {
			return nil, err
		}
		e.NotStatus = &s
	}
	if f, ok := m.get("subject"); ok {
		if e.Subject, err = l.subject(f.val); err != nil {
			return nil, err
		}
	}
	if f, ok := m.get("events"); ok {
		v, err := l.integer(f.val, "events", 0, 1000000)
		if err != nil {
			return nil, err
		}
		e.Events = &v
	}
	if f, ok := m.get("status"); ok {
		s := "null"
		if v := resolve(f.val); v.Kind != yaml.ScalarNode || v.Tag != "!!null" {
			if s, err = l.text(v, "status (a string, or null for an unknown subject)"); err != nil {
				return nil, err
			}
			if err := l.expandable(v, s, "status"); err != nil {
				return nil, err
			}
		}
		e.Status = &s
	}
	if f, ok := m.get("fetches"); ok {
		v, err := l.integer(f.val, "fetches", 0, 1000000)
		if err != nil {
			return nil, err
		}
		e.Fetches = &v
	}
	if f, ok := m.get("within"); ok {
		if e.Within, err = l.duration(f.val, "within"); err != nil {
			return nil, err
		}
	}
	return e, nil
}

var caseID = regexp.MustCompile(`^[a-z0-9-]+(\.[a-z0-9-]+)+$`)

func (l *loader) caseOf(n *yaml.Node, product string) (*Case, error) {
	m, err := l.mapping(n, "case")
	if err != nil {
		return nil, err
	}
	if err := l.known(m, "case", "id", "level", "rule", "source"); err != nil {
		return nil, err
	}
	for _, k := range []string{"id", "level", "rule", "source"} {
		if !m.has(k) {
			return nil, l.errf(m.node, "case: %q is required", k)
		}
	}
	c := &Case{}
	f, _ := m.get("id")
	if c.ID, err = l.str(f.val, "case id"); err != nil {
		return nil, err
	}
	if !caseID.MatchString(c.ID) || !strings.HasPrefix(c.ID, product+".") {
		return nil, l.errf(resolve(f.val), "case id %q: want %s.CLASS.NAME in lower-case words, digits and dashes", c.ID, product)
	}
	f, _ = m.get("level")
	if c.Level, err = l.enum(f.val, "case level", LevelMust, LevelShould); err != nil {
		return nil, err
	}
	f, _ = m.get("rule")
	if c.Rule, err = l.text(f.val, "case rule"); err != nil {
		return nil, err
	}
	f, _ = m.get("source")
	if c.Source, err = l.text(f.val, "case source"); err != nil {
		return nil, err
	}
	return c, nil
}
