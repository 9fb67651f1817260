package scenarios

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/kycsim/kycsim/simulator"
	"github.com/kycsim/kycsim/simulator/event"
	"github.com/kycsim/kycsim/simulator/signing"
	"github.com/kycsim/kycsim/spec"
)

// maxNodes bounds the nodes a scenario may hold once aliases are
// expanded, so that a small file cannot expand without bound.
const maxNodes = 100000

// loadError is an error at a place in a scenario file.
type loadError struct {
	pos Pos
	msg string
}

func (e *loadError) Error() string { return e.pos.String() + ": " + e.msg }

// loader reads one file.
type loader struct {
	file  string
	cat   *spec.Catalog
	p     *spec.Product
	nodes int
	ids   map[string]bool // send step ids seen so far
	vars  map[string]bool
}

func (l *loader) pos(n *yaml.Node) Pos { return Pos{File: l.file, Line: n.Line, Col: n.Column} }

func (l *loader) errf(n *yaml.Node, format string, args ...any) error {
	return &loadError{pos: l.pos(n), msg: fmt.Sprintf(format, args...)}
}

// Load reads one scenario from YAML. Every problem is an error naming
// file:line:col: unknown keys, wrong types, unknown products and
// messages, bad durations, references to steps that do not exist.
func Load(file string, data []byte, cat *spec.Catalog) (*Scenario, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			return nil, fmt.Errorf("%s:%s: %s", file, m[1], m[2])
		}
		return nil, fmt.Errorf("%s: %s", file, msg)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: empty document", file)
	}
	l := &loader{file: file, cat: cat, ids: map[string]bool{}, vars: map[string]bool{"subject": true}}
	root := doc.Content[0]
	if err := l.count(root, 0); err != nil {
		return nil, err
	}
	return l.scenario(root)
}

// count bounds the expanded size of the document.
func (l *loader) count(n *yaml.Node, depth int) error {
	l.nodes++
	if l.nodes > maxNodes || depth > 100 {
		return l.errf(n, "the document expands to too many nodes (aliases?)")
	}
	if n.Kind == yaml.AliasNode {
		return l.count(n.Alias, depth+1)
	}
	for _, c := range n.Content {
		if err := l.count(c, depth+1); err != nil {
			return err
		}
	}
	return nil
}

func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// field is one key of a mapping.
type field struct {
	key *yaml.Node
	val *yaml.Node
}

// fields reads a mapping, refusing duplicate and unknown keys.
func (l *loader) fields(n *yaml.Node, what string, known ...string) (map[string]field, []string, error) {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		return nil, nil, l.errf(n, "%s must be a mapping, not %s", what, kind(n))
	}
	out := map[string]field{}
	var order []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, nil, l.errf(k, "%s: keys must be strings", what)
		}
		if k.Value == "<<" {
			return nil, nil, l.errf(k, "%s: merge keys (<<) are not supported in scenarios", what)
		}
		if _, dup := out[k.Value]; dup {
			return nil, nil, l.errf(k, "%s: key %q appears twice", what, k.Value)
		}
		if known != nil && !contains(known, k.Value) {
			return nil, nil, l.errf(k, "%s: unknown key %q%s (known: %s)", what, k.Value, suggest(k.Value, known), strings.Join(known, ", "))
		}
		out[k.Value] = field{k, v}
		order = append(order, k.Value)
	}
	return out, order, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// suggest names a known key close to an unknown one.
func suggest(s string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if d := distance(s, k); d < bestD {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf("; did you mean %q?", best)
}

// distance is the Levenshtein distance of two short strings.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

func kind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a sequence"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "an alias"
}

func (l *loader) str(n *yaml.Node, what string) (string, error) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", l.errf(n, "%s must be a string, not %s", what, kind(n))
	}
	return n.Value, nil
}

func (l *loader) strs(n *yaml.Node, what string) ([]string, error) {
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		return nil, l.errf(n, "%s must be a sequence of strings, not %s", what, kind(n))
	}
	var out []string
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
		return 0, l.errf(n, "%s must be an integer, not %s", what, kind(n))
	}
	if v < lo || v > hi {
		return 0, l.errf(n, "%s %d is out of range %d..%d", what, v, lo, hi)
	}
	return v, nil
}

func (l *loader) boolean(n *yaml.Node, what string) (bool, error) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		return false, l.errf(n, "%s must be true or false, not %s", what, kind(n))
	}
	return n.Value == "true", nil
}

func (l *loader) duration(n *yaml.Node, what string) (time.Duration, error) {
	s, err := l.str(n, what)
	if err != nil {
		return 0, err
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, l.errf(n, "%s %q is not a positive duration such as 30s, 5m or 2h", what, s)
	}
	return d, nil
}

// yamlLine splits yaml.v3's "line N: message".
var yamlLine = regexp.MustCompile(`^line (\d+): (.*)$`)

var (
	idPattern  = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	varPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)
)

// checkRefs refuses ${name} references to undeclared variables.
func (l *loader) checkRefs(n *yaml.Node, s string) error {
	for _, m := range varRef.FindAllStringSubmatch(s, -1) {
		if !l.vars[m[1]] {
			return l.errf(n, "${%s} names no variable (declared: %s)", m[1], strings.Join(l.varNames(), ", "))
		}
	}
	return nil
}

func (l *loader) varNames() []string {
	var out []string
	for v := range l.vars {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

func (l *loader) scenario(root *yaml.Node) (*Scenario, error) {
	f, _, err := l.fields(root, "scenario", "product", "name", "description", "tags", "vars", "case", "steps")
	if err != nil {
		return nil, err
	}
	sc := &Scenario{Pos: l.pos(root)}
	for _, req := range []string{"product", "description", "steps"} {
		if _, ok := f[req]; !ok {
			return nil, l.errf(root, "scenario: %q is required", req)
		}
	}
	if sc.Product, err = l.str(f["product"].val, "product"); err != nil {
		return nil, err
	}
	if l.p, err = l.cat.Product(sc.Product); err != nil {
		return nil, l.errf(f["product"].val, "%v", err)
	}
	if x, ok := f["name"]; ok {
		if sc.Name, err = l.str(x.val, "name"); err != nil {
			return nil, err
		}
	}
	if sc.Description, err = l.str(f["description"].val, "description"); err != nil {
		return nil, err
	}
	if x, ok := f["tags"]; ok {
		if sc.Tags, err = l.strs(x.val, "tags"); err != nil {
			return nil, err
		}
		for i, t := range sc.Tags {
			if !idPattern.MatchString(t) {
				return nil, l.errf(resolve(x.val).Content[i], "tag %q: use lower-case letters, digits and dashes", t)
			}
		}
	}
	if x, ok := f["vars"]; ok {
		if sc.Vars, err = l.varsOf(x.val); err != nil {
			return nil, err
		}
	}
	if x, ok := f["case"]; ok {
		if sc.Case, err = l.caseOf(x.val, sc.Product); err != nil {
			return nil, err
		}
	}
	steps := resolve(f["steps"].val)
	if steps.Kind != yaml.SequenceNode || len(steps.Content) == 0 {
		return nil, l.errf(steps, "steps must be a non-empty sequence")
	}
	for _, n := range steps.Content {
		st, err := l.step(n, false)
		if err != nil {
			return nil, err
		}
		sc.Steps = append(sc.Steps, st...)
	}
	return sc, nil
}

func (l *loader) varsOf(n *yaml.Node) ([]Var, error) {
	f, order, err := l.fields(n, "vars")
	if err != nil {
		return nil, err
	}
	var out []Var
	for _, name := range order {
		x := f[name]
		if !varPattern.MatchString(name) {
			return nil, l.errf(x.key, "variable name %q: use letters, digits, _ and -", name)
		}
		v := Var{Name: name, Pos: l.pos(x.key)}
		if val := resolve(x.val); val.Kind == yaml.MappingNode {
			g, _, err := l.fields(val, "var "+name, "generate")
			if err != nil {
				return nil, err
			}
			gen, ok := g["generate"]
			if !ok {
				return nil, l.errf(val, "var %s: want {generate: GENERATOR} or a string", name)
			}
			if v.Generate, err = l.str(gen.val, "generate"); err != nil {
				return nil, err
			}
			if !contains(Generators, v.Generate) {
				return nil, l.errf(gen.val, "unknown generator %q (known: %s)", v.Generate, strings.Join(Generators, ", "))
			}
		} else if v.Value, err = l.str(val, "var "+name); err != nil {
			return nil, err
		}
		l.vars[name] = true
		out = append(out, v)
	}
	return out, nil
}

// stepKeys are the keys of each kind of step besides id and name.
var (
	sendKeys = []string{"send", "id", "name", "subject", "set", "unset", "raw-body", "precision", "sandbox-mode",
		"age", "reject-code", "review-answer", "reject-type", "reject-labels", "sign",
		"from", "forwarded-for", "headers", "content-type", "retry", "answer-timeout", "expect"}
	redeliverKeys = []string{"redeliver", "name", "restamp", "from", "forwarded-for", "headers", "content-type", "retry", "answer-timeout", "expect"}
	kinds         = []string{"send", "wait", "redeliver", "parallel", "vendor-state", "expect"}
)

func (l *loader) step(n *yaml.Node, inParallel bool) ([]Step, error) {
	f, _, err := l.fields(n, "step")
	if err != nil {
		return nil, err
	}
	var found []string
	for _, k := range kinds {
		if _, ok := f[k]; ok {
			found = append(found, k)
		}
	}
	// "expect" is also an option of send and redeliver.
	if len(found) == 2 && found[1] == "expect" && (found[0] == "send" || found[0] == "redeliver") {
		found = found[:1]
	}
	switch {
	case len(found) == 0:
		return nil, l.errf(n, "a step needs one of %s", strings.Join(kinds, ", "))
	case len(found) > 1:
		return nil, l.errf(n, "a step has one kind; this one has %s", strings.Join(found, " and "))
	}
	k := found[0]
	if inParallel && k != "send" && k != "redeliver" {
		return nil, l.errf(f[k].key, "parallel holds send and redeliver steps only, not %s", k)
	}
	st := Step{Kind: StepKind(k), Pos: l.pos(resolve(n))}
	only := func(keys ...string) error {
		for key, x := range f {
			if !contains(keys, key) {
				return l.errf(x.key, "%s step: unknown key %q%s (known: %s)", k, key, suggest(key, keys), strings.Join(keys, ", "))
			}
		}
		return nil
	}
	if x, ok := f["name"]; ok {
		if st.Name, err = l.str(x.val, "name"); err != nil {
			return nil, err
		}
	}
	switch st.Kind {
	case KindSend:
		if err := only(sendKeys...); err != nil {
			return nil, err
		}
		if st.Send, err = l.send(f); err != nil {
			return nil, err
		}
		if x, ok := f["id"]; ok {
			if st.ID, err = l.str(x.val, "id"); err != nil {
				return nil, err
			}
			if !idPattern.MatchString(st.ID) {
				return nil, l.errf(x.val, "id %q: use lower-case letters, digits and dashes", st.ID)
			}
			if l.ids[st.ID] {
				return nil, l.errf(x.val, "id %q is used twice", st.ID)
			}
			if inParallel {
				return nil, l.errf(x.key, "a send inside parallel cannot have an id")
			}
			l.ids[st.ID] = true
		}
	case KindWait:
		if err := only("wait", "name"); err != nil {
			return nil, err
		}
		if st.Wait, err = l.duration(f["wait"].val, "wait"); err != nil {
			return nil, err
		}
	case KindRedeliver:
		if err := only(redeliverKeys...); err != nil {
			return nil, err
		}
		if st.Redeliver, err = l.redeliver(f); err != nil {
			return nil, err
		}
	case KindParallel:
		if err := only("parallel", "name"); err != nil {
			return nil, err
		}
		if st.Parallel, err = l.parallel(f["parallel"].val); err != nil {
			return nil, err
		}
	case KindVendorState:
		if err := only("vendor-state", "name"); err != nil {
			return nil, err
		}
		if st.VendorState, err = l.vendorState(f["vendor-state"].val); err != nil {
			return nil, err
		}
	case KindExpect:
		if err := only("expect", "name"); err != nil {
			return nil, err
		}
		if st.Expect, err = l.effects(f["expect"].val); err != nil {
			return nil, err
		}
	}
	return []Step{st}, nil
}

func (l *loader) send(f map[string]field) (*Send, error) {
	s := &Send{}
	var err error
	x := f["send"]
	if s.Message, err = l.str(x.val, "send"); err != nil {
		return nil, err
	}
	m, err := l.p.Message(s.Message)
	if err != nil {
		return nil, l.errf(x.val, "%v", err)
	}
	s.Message = m.Name
	jumio := l.p.Name != "sumsub"
	onlyFor := func(key string, ok bool, product string) error {
		if x, has := f[key]; has && !ok {
			return l.errf(x.key, "%s applies to %s callbacks, not %s", key, product, l.p.Name)
		}
		return nil
	}
	for _, c := range []struct {
		key, product string
		ok           bool
	}{
		{"precision", "Jumio", jumio}, {"sandbox-mode", "sumsub", !jumio}, {"sign", "sumsub", !jumio},
		{"review-answer", "sumsub", !jumio}, {"reject-type", "sumsub", !jumio}, {"reject-labels", "sumsub", !jumio},
		{"reject-code", "jumio-netverify", l.p.Name == "jumio-netverify"},
	} {
		if err := onlyFor(c.key, c.ok, c.product); err != nil {
			return nil, err
		}
	}
	if x, ok := f["subject"]; ok {
		if s.Subject, err = l.str(x.val, "subject"); err != nil {
			return nil, err
		}
		if err := l.checkRefs(x.val, s.Subject); err != nil {
			return nil, err
		}
	}
	if x, ok := f["set"]; ok {
		sf, order, err := l.fields(x.val, "set")
		if err != nil {
			return nil, err
		}
		for _, path := range order {
			o := sf[path]
			if _, err := event.ParsePath(path); err != nil {
				return nil, l.errf(o.key, "set %s: %v", path, err)
			}
			v, err := l.jsonValue(o.val, 0)
			if err != nil {
				return nil, err
			}
			s.Set = append(s.Set, Override{Path: path, Value: v, Pos: l.pos(o.key)})
		}
	}
	if x, ok := f["unset"]; ok {
		if s.Unset, err = l.strs(x.val, "unset"); err != nil {
			return nil, err
		}
		for i, p := range s.Unset {
			if _, err := event.ParsePath(p); err != nil {
				return nil, l.errf(resolve(x.val).Content[i], "unset %s: %v", p, err)
			}
		}
	}
	if x, ok := f["raw-body"]; ok {
		if s.Set != nil || s.Unset != nil {
			return nil, l.errf(x.key, "raw-body is sent as it is; it cannot be combined with set or unset")
		}
		b, err := l.str(x.val, "raw-body")
		if err != nil {
			return nil, err
		}
		if err := l.checkRefs(x.val, b); err != nil {
			return nil, err
		}
		s.RawBody = &b
	}
	if x, ok := f["precision"]; ok {
		p, err := l.integer(x.val, "precision", 0, 3)
		if err != nil {
			return nil, err
		}
		s.Precision = &p
	}
	if x, ok := f["sandbox-mode"]; ok {
		if s.SandboxMode, err = l.str(x.val, "sandbox-mode"); err != nil {
			return nil, err
		}
		if s.SandboxMode != event.SandboxModeBool && s.SandboxMode != event.SandboxModeString {
			return nil, l.errf(x.val, "sandbox-mode %q is not bool or string", s.SandboxMode)
		}
	}
	if x, ok := f["age"]; ok {
		if s.Age, err = l.duration(x.val, "age"); err != nil {
			return nil, err
		}
	}
	if x, ok := f["reject-code"]; ok {
		if s.RejectCode, err = l.str(x.val, "reject-code"); err != nil {
			return nil, err
		}
	}
	if x, ok := f["review-answer"]; ok {
		if s.ReviewAnswer, err = l.enum(x.val, "review-answer", "GREEN", "RED"); err != nil {
			return nil, err
		}
	}
	if x, ok := f["reject-type"]; ok {
		if s.RejectType, err = l.enum(x.val, "reject-type", "FINAL", "RETRY"); err != nil {
			return nil, err
		}
	}
	if x, ok := f["reject-labels"]; ok {
		if s.RejectLabels, err = l.strs(x.val, "reject-labels"); err != nil {
			return nil, err
		}
	}
	if x, ok := f["sign"]; ok {
		if s.Sign, err = l.signing(x.val); err != nil {
			return nil, err
		}
	}
	if s.Delivery, err = l.delivery(f); err != nil {
		return nil, err
	}
	if x, ok := f["expect"]; ok {
		if s.Expect, err = l.answer(x.val); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (l *loader) enum(n *yaml.Node, what string, allowed ...string) (string, error) {
	s, err := l.str(n, what)
	if err != nil {
		return "", err
	}
	if !contains(allowed, s) {
		return "", l.errf(n, "%s %q is not one of %s", what, s, strings.Join(allowed, ", "))
	}
	return s, nil
}

// jsonValue converts a YAML value to the JSON model.
func (l *loader) jsonValue(n *yaml.Node, depth int) (any, error) {
	n = resolve(n)
	if depth > 50 {
		return nil, l.errf(n, "value nested too deeply")
	}
	switch n.Kind {
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return nil, nil
		case "!!bool":
			return n.Value == "true", nil
		case "!!int", "!!float":
			if !json.Valid([]byte(n.Value)) {
				return nil, l.errf(n, "%s is not a JSON number", n.Value)
			}
			return json.Number(n.Value), nil
		case "!!str":
			if err := l.checkRefs(n, n.Value); err != nil {
				return nil, err
			}
			return n.Value, nil
		}
		return nil, l.errf(n, "%s (%s) has no JSON equivalent", n.Value, n.Tag)
	case yaml.SequenceNode:
		out := []any{}
		for _, c := range n.Content {
			v, err := l.jsonValue(c, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		f, _, err := l.fields(n, "value")
		if err != nil {
			return nil, err
		}
		out := map[string]any{}
		for k, x := range f {
			v, err := l.jsonValue(x.val, depth+1)
			if err != nil {
				return nil, err
			}
			out[k] = v
		}
		return out, nil
	}
	return nil, l.errf(n, "not a value")
}

func (l *loader) signing(n *yaml.Node) (Signing, error) {
	var s Signing
	f, _, err := l.fields(n, "sign", "secret", "alg", "alg-header", "digest")
	if err != nil {
		return s, err
	}
	if x, ok := f["secret"]; ok {
		v, err := l.str(x.val, "secret")
		if err != nil {
			return s, err
		}
		s.Secret = &v
	}
	if x, ok := f["alg"]; ok {
		if s.Algorithm, err = l.str(x.val, "alg"); err != nil {
			return s, err
		}
		if _, err := signing.ParseAlgorithm(s.Algorithm); err != nil {
			return s, l.errf(x.val, "%v", err)
		}
	}
	if x, ok := f["alg-header"]; ok {
		v, err := l.str(x.val, "alg-header")
		if err != nil {
			return s, err
		}
		s.AlgorithmHeader = &v
	}
	if x, ok := f["digest"]; ok {
		if s.Digest, err = l.enum(x.val, "digest", DigestMissing, DigestWrong, DigestTampered); err != nil {
			return s, err
		}
	}
	return s, nil
}

func (l *loader) delivery(f map[string]field) (Delivery, error) {
	var d Delivery
	var err error
	if x, ok := f["from"]; ok {
		if d.From, err = l.str(x.val, "from"); err != nil {
			return d, err
		}
		if !strings.Contains(d.From, "${") {
			if _, err := simulator.ParseSource(d.From); err != nil {
				return d, l.errf(x.val, "from: %v", err)
			}
		} else if err := l.checkRefs(x.val, d.From); err != nil {
			return d, err
		}
	}
	if x, ok := f["forwarded-for"]; ok {
		if d.ForwardedFor, err = l.str(x.val, "forwarded-for"); err != nil {
			return d, err
		}
	}
	if x, ok := f["headers"]; ok {
		hf, order, err := l.fields(x.val, "headers")
		if err != nil {
			return d, err
		}
		for _, name := range order {
			v, err := l.str(hf[name].val, "header "+name)
			if err != nil {
				return d, err
			}
			if _, _, err := simulator.ParseHeader(name + ": " + v); err != nil {
				return d, l.errf(hf[name].key, "%v", err)
			}
			if err := l.checkRefs(hf[name].val, v); err != nil {
				return d, err
			}
			d.Headers = append(d.Headers, Header{name, v})
		}
	}
	if x, ok := f["content-type"]; ok {
		if d.ContentType, err = l.str(x.val, "content-type"); err != nil {
			return d, err
		}
	}
	if x, ok := f["retry"]; ok {
		v := resolve(x.val)
		if v.Kind == yaml.SequenceNode {
			d.Retry = true
			d.Delays = []time.Duration{}
			for _, c := range v.Content {
				dd, err := l.duration(c, "retry delay")
				if err != nil {
					return d, err
				}
				d.Delays = append(d.Delays, dd)
			}
			if len(d.Delays) > 100 {
				return d, l.errf(v, "at most 100 retries")
			}
		} else if d.Retry, err = l.boolean(v, "retry (true, false or a list of delays)"); err != nil {
			return d, err
		}
	}
	if x, ok := f["answer-timeout"]; ok {
		if d.AnswerTimeout, err = l.duration(x.val, "answer-timeout"); err != nil {
			return d, err
		}
	}
	return d, nil
}

// statusPattern is an expected status: a code, a class, or "refuse" (the
// run's policy for content the receiver must not act on: 4xx, or for
// Jumio under ack-and-drop 2xx).
var statusPattern = regexp.MustCompile(`^([1-5]xx|[1-5][0-9][0-9]|refuse)$`)

func (l *loader) answer(n *yaml.Node) (*Answer, error) {
	n = resolve(n)
	a := &Answer{Pos: l.pos(n)}
	if n.Kind == yaml.ScalarNode {
		a.Status = n.Value
		if !statusPattern.MatchString(a.Status) {
			return nil, l.errf(n, "expect %q: want a status code (200), a class (2xx) or refuse", a.Status)
		}
		return a, nil
	}
	f, _, err := l.fields(n, "expect", "status", "within", "attempts")
	if err != nil {
		return nil, err
	}
	if x, ok := f["status"]; ok {
		if a.Status, err = l.str(x.val, "status"); err != nil {
			return nil, err
		}
		if !statusPattern.MatchString(a.Status) {
			return nil, l.errf(x.val, "status %q: want a status code (200), a class (2xx) or refuse", a.Status)
		}
	}
	if x, ok := f["within"]; ok {
		if a.Within, err = l.duration(x.val, "within"); err != nil {
			return nil, err
		}
	}
	if x, ok := f["attempts"]; ok {
		if a.Attempts, err = l.integer(x.val, "attempts", 1, 101); err != nil {
			return nil, err
		}
	}
	if len(f) == 0 {
		return nil, l.errf(n, "expect: give status, within or attempts")
	}
	return a, nil
}

func (l *loader) redeliver(f map[string]field) (*Redeliver, error) {
	rd := &Redeliver{}
	var err error
	x := f["redeliver"]
	if rd.Step, err = l.str(x.val, "redeliver"); err != nil {
		return nil, err
	}
	if !l.ids[rd.Step] {
		return nil, l.errf(x.val, "redeliver %q: no earlier send step has this id", rd.Step)
	}
	if x, ok := f["restamp"]; ok {
		if rd.Restamp, err = l.boolean(x.val, "restamp"); err != nil {
			return nil, err
		}
	}
	for _, k := range []string{"from", "forwarded-for", "headers", "content-type", "retry", "answer-timeout"} {
		if _, ok := f[k]; ok {
			d, err := l.delivery(f)
			if err != nil {
				return nil, err
			}
			rd.Delivery = &d
			break
		}
	}
	if x, ok := f["expect"]; ok {
		if rd.Expect, err = l.answer(x.val); err != nil {
			return nil, err
		}
	}
	return rd, nil
}

func (l *loader) parallel(n *yaml.Node) ([]Step, error) {
	n = resolve(n)
	if n.Kind == yaml.MappingNode {
		// The shorthand {count: N, send|redeliver: ..., ...}.
		var countNode *yaml.Node
		rest := &yaml.Node{Kind: yaml.MappingNode, Line: n.Line, Column: n.Column}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if resolve(n.Content[i]).Value == "count" {
				countNode = n.Content[i+1]
				continue
			}
			rest.Content = append(rest.Content, n.Content[i], n.Content[i+1])
		}
		if countNode == nil {
			return nil, l.errf(n, "parallel: give a sequence of steps, or count with a send or redeliver")
		}
		count, err := l.integer(countNode, "count", 2, 100)
		if err != nil {
			return nil, err
		}
		one, err := l.step(rest, true)
		if err != nil {
			return nil, err
		}
		out := make([]Step, count)
		for i := range out {
			out[i] = one[0]
		}
		return out, nil
	}
	if n.Kind != yaml.SequenceNode || len(n.Content) < 2 {
		return nil, l.errf(n, "parallel: give a sequence of at least two steps, or count with a send or redeliver")
	}
	var out []Step
	for _, c := range n.Content {
		st, err := l.step(c, true)
		if err != nil {
			return nil, err
		}
		out = append(out, st...)
	}
	return out, nil
}

func (l *loader) vendorState(n *yaml.Node) (*VendorState, error) {
	vs := &VendorState{}
	var keys []string
	if l.p.Name == "sumsub" {
		keys = []string{"subject", "review-status", "review-answer", "reject-labels", "reject-type"}
	} else if l.p.Name == "jumio-kyx" {
		keys = []string{"subject", "decision", "risk-score", "label", "capabilities"}
	} else {
		return nil, l.errf(n, "vendor-state applies to jumio-kyx and sumsub, not %s", l.p.Name)
	}
	f, _, err := l.fields(n, "vendor-state", keys...)
	if err != nil {
		return nil, err
	}
	if x, ok := f["subject"]; ok {
		if vs.Subject, err = l.str(x.val, "subject"); err != nil {
			return nil, err
		}
		if err := l.checkRefs(x.val, vs.Subject); err != nil {
			return nil, err
		}
	}
	if x, ok := f["decision"]; ok {
		if vs.Decision, err = l.enum(x.val, "decision", "PASSED", "REJECTED", "WARNING", "NOT_EXECUTED"); err != nil {
			return nil, err
		}
	}
	if x, ok := f["risk-score"]; ok {
		v, err := l.integer(x.val, "risk-score", -1, 100)
		if err != nil {
			return nil, err
		}
		vs.RiskScore = &v
	}
	if x, ok := f["label"]; ok {
		if vs.Label, err = l.str(x.val, "label"); err != nil {
			return nil, err
		}
	}
	if x, ok := f["capabilities"]; ok {
		v, err := l.jsonValue(x.val, 0)
		if err != nil {
			return nil, err
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, l.errf(x.val, "capabilities must be a mapping")
		}
		vs.Capability = m
	}
	if x, ok := f["review-status"]; ok {
		if vs.ReviewStatus, err = l.enum(x.val, "review-status", "init", "pending", "prechecked", "queued", "completed", "onHold", "awaitingService", "awaitingUser"); err != nil {
			return nil, err
		}
	}
	if x, ok := f["review-answer"]; ok {
		if vs.ReviewAnswer, err = l.enum(x.val, "review-answer", "GREEN", "RED"); err != nil {
			return nil, err
		}
	}
	if x, ok := f["reject-labels"]; ok {
		if vs.RejectLabels, err = l.strs(x.val, "reject-labels"); err != nil {
			return nil, err
		}
	}
	if x, ok := f["reject-type"]; ok {
		if vs.RejectType, err = l.enum(x.val, "reject-type", "FINAL", "RETRY"); err != nil {
			return nil, err
		}
	}
	if vs.Decision == "" && vs.ReviewStatus == "" && vs.ReviewAnswer == "" {
		return nil, l.errf(n, "vendor-state: give decision (jumio-kyx) or review-status / review-answer (sumsub)")
	}
	return vs, nil
}

func (l *loader) effects(n *yaml.Node) (*Effects, error) {
	e := &Effects{Pos: l.pos(resolve(n))}
	f, _, err := l.fields(n, "expect", "events", "status", "fetches", "within", "subject")
	if err != nil {
		return nil, err
	}
	if x, ok := f["subject"]; ok {
		if e.Subject, err = l.str(x.val, "subject"); err != nil {
			return nil, err
		}
		if err := l.checkRefs(x.val, e.Subject); err != nil {
			return nil, err
		}
	}
	if x, ok := f["events"]; ok {
		v, err := l.integer(x.val, "events", 0, 1000000)
		if err != nil {
			return nil, err
		}
		e.Events = &v
	}
	if x, ok := f["status"]; ok {
		v := resolve(x.val)
		s := "null"
		if v.Tag != "!!null" {
			if s, err = l.str(v, "status"); err != nil {
				return nil, err
			}
		}
		e.Status = &s
	}
	if x, ok := f["fetches"]; ok {
		v, err := l.integer(x.val, "fetches", 0, 1000000)
		if err != nil {
			return nil, err
		}
		e.Fetches = &v
	}
	if x, ok := f["within"]; ok {
		if e.Within, err = l.duration(x.val, "within"); err != nil {
			return nil, err
		}
	}
	if e.Events == nil && e.Status == nil && e.Fetches == nil {
		return nil, l.errf(n, "expect: give events, status or fetches")
	}
	return e, nil
}

var caseID = regexp.MustCompile(`^[a-z0-9-]+(\.[a-z0-9-]+)+$`)

func (l *loader) caseOf(n *yaml.Node, product string) (*Case, error) {
	f, _, err := l.fields(n, "case", "id", "level", "rule", "source")
	if err != nil {
		return nil, err
	}
	for _, k := range []string{"id", "level", "rule", "source"} {
		if _, ok := f[k]; !ok {
			return nil, l.errf(n, "case: %q is required", k)
		}
	}
	c := &Case{}
	if c.ID, err = l.str(f["id"].val, "case id"); err != nil {
		return nil, err
	}
	if !caseID.MatchString(c.ID) || !strings.HasPrefix(c.ID, product+".") {
		return nil, l.errf(f["id"].val, "case id %q: want %s.CLASS.NAME in lower-case words, digits and dashes", c.ID, product)
	}
	if c.Level, err = l.enum(f["level"].val, "case level", LevelMust, LevelShould); err != nil {
		return nil, err
	}
	if c.Rule, err = l.str(f["rule"].val, "case rule"); err != nil {
		return nil, err
	}
	if c.Source, err = l.str(f["source"].val, "case source"); err != nil {
		return nil, err
	}
	return c, nil
}

// IsLoadError reports whether err is an error at a place in a scenario
// file, as Load returns for invalid content.
func IsLoadError(err error) bool {
	var le *loadError
	return errors.As(err, &le)
}
