package event

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kycsim/kycsim/internal/editdistance"
	"github.com/kycsim/kycsim/spec"
)

// Fields are the fields a product's message may carry, as the catalog's
// schema of the message at level vendor describes them: top-level
// members (for a form product, the form fields), the members of nested
// objects and JSON-in-form fields, and array elements. Check tells an
// override path that names one from a typo.
type Fields struct {
	product, message string
	root             *fieldNode
}

// fieldNode is one place in a message: the members it may have, the
// elements of an array, or anything at all (open).
type fieldNode struct {
	members map[string]*fieldNode
	items   *fieldNode
	// object says the schema types the place as an object.
	object bool
	// open is a place whose members the schema does not list (a free-form
	// object, members named by a pattern): every path below it is
	// accepted.
	open bool
}

// MessageFields reads the fields of a message from the catalog (the
// message is matched as spec.Product.Message matches it).
func MessageFields(p *spec.Product, message string) (*Fields, error) {
	m, err := p.Message(message)
	if err != nil {
		return nil, err
	}
	schema, err := p.Schema(m.Name, spec.LevelVendor)
	if err != nil {
		return nil, fmt.Errorf("fields of %s %s: %w", p.Name, m.Name, err)
	}
	b := &fieldBuilder{root: schema, seen: map[string]bool{}}
	n := &fieldNode{}
	b.merge(n, schema, 0)
	n.settle(0)
	return &Fields{product: p.Name, message: m.Name, root: n}, nil
}

// UnknownFieldError says an override path names no field of a message.
type UnknownFieldError struct {
	// Path is the path as given; At is the part of it up to the first
	// token that names no field.
	Path, At         string
	Product, Message string
	// Suggestion is the known path closest to Path, or "".
	Suggestion string
}

func (e *UnknownFieldError) Error() string {
	msg := fmt.Sprintf("%s names no field of %s %s", quoteShort(e.Path), e.Product, e.Message)
	if e.At != e.Path {
		msg = fmt.Sprintf("%s: %s names no field of %s %s", quoteShort(e.Path), quoteShort(e.At), e.Product, e.Message)
	}
	if e.Suggestion != "" {
		return msg + fmt.Sprintf("; did you mean %q?", e.Suggestion)
	}
	return msg + fmt.Sprintf(" (kycsim spec schema %s %s lists them)", e.Product, e.Message)
}

// Check reports whether path (see ParsePath) names a field of the
// message, or a place inside one: nil, or an *UnknownFieldError that
// suggests the nearest known field. A path into a JSON-in-form field
// ("identityVerification.validity") names the field inside it; an array
// index ("reviewResult.rejectLabels.0", or "-") names an element.
func (f *Fields) Check(path string) error {
	toks, err := ParsePath(path)
	if err != nil {
		return err
	}
	n, i := f.walk(toks)
	if n == nil {
		return nil
	}
	return &UnknownFieldError{
		Path: path, At: renderPath(path, toks[:i+1]), Product: f.product, Message: f.message,
		Suggestion: f.suggest(path, toks, i, n),
	}
}

// walk follows tokens through the fields: nil when they name a field (or
// a place inside an open one), else the node where token i names nothing.
func (f *Fields) walk(toks []string) (*fieldNode, int) {
	n := f.root
	for i, tok := range toks {
		if n.open {
			return nil, 0
		}
		if c, ok := n.members[tok]; ok {
			n = c
			continue
		}
		if n.items != nil && isIndex(tok) {
			n = n.items
			continue
		}
		return n, i
	}
	return nil, 0
}

// isIndex reports whether tok can index an array.
func isIndex(tok string) bool {
	return tok == "-" || tok != "" && strings.Trim(tok, "0123456789") == ""
}

// renderPath writes tokens in the syntax of the path they came from.
func renderPath(like string, toks []string) string {
	if strings.HasPrefix(like, "/") || slices.ContainsFunc(toks, func(t string) bool { return strings.Contains(t, ".") }) {
		return FormatPointer(toks)
	}
	return strings.Join(toks, ".")
}

// suggest finds the known path nearest to a path whose token i is
// unknown at node n: a member of n with a close name, else a member of
// the same or a close name anywhere in the message.
func (f *Fields) suggest(path string, toks []string, i int, n *fieldNode) string {
	// fix replaces token i by name after prefix: with the rest of the
	// path when that names a field, else without it.
	fix := func(prefix []string, name string) string {
		out := append(slices.Clone(prefix), name)
		if full := append(slices.Clone(out), toks[i+1:]...); f.names(full) {
			return renderPath(path, full)
		}
		return renderPath(path, out)
	}
	if name := nearest(toks[i], n.memberNames()); name != "" {
		return fix(toks[:i], name)
	}
	// The same name, or one a letter away, at another depth: rejectLabels
	// for reviewResult.rejectLabels.
	type hit struct {
		at   []string
		d    int
		name string
	}
	var best *hit
	var walk func(n *fieldNode, at []string, depth int)
	walk = func(n *fieldNode, at []string, depth int) {
		if depth > 8 {
			return
		}
		for _, name := range n.memberNames() {
			if d := editdistance.Distance(strings.ToLower(toks[i]), strings.ToLower(name)); d <= min(1, closeEnough(toks[i])) && (best == nil || d < best.d) {
				best = &hit{slices.Clone(at), d, name}
			}
			walk(n.members[name], append(at, name), depth+1)
		}
		if n.items != nil {
			walk(n.items, append(at, "0"), depth+1)
		}
	}
	walk(f.root, nil, 0)
	if best == nil {
		return ""
	}
	return fix(best.at, best.name)
}

// names reports whether tokens name a field.
func (f *Fields) names(toks []string) bool {
	n, _ := f.walk(toks)
	return n == nil
}

// nearest returns the name of list closest to s, or "" when none is
// close enough to be a typo of it.
func nearest(s string, list []string) string {
	best, bestD := "", closeEnough(s)+1
	for _, name := range list {
		if d := editdistance.Distance(strings.ToLower(s), strings.ToLower(name)); d < bestD {
			best, bestD = name, d
		}
	}
	return best
}

// closeEnough is the edit distance up to which a name is taken for a typo
// of s: a third of its length, at least 2 (1 for a name of up to 3
// letters).
func closeEnough(s string) int {
	if len(s) <= 3 {
		return 1
	}
	return max(2, len(s)/3)
}

func (n *fieldNode) memberNames() []string {
	names := make([]string, 0, len(n.members))
	for k := range n.members {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// maxSchemaDepth bounds the walk of a schema (a $ref cycle, say).
const maxSchemaDepth = 32

// fieldBuilder reads a schema document into field nodes.
type fieldBuilder struct {
	root map[string]any
	seen map[string]bool // $refs being followed, against cycles
}

// merge adds what schema s says of a place to node n: the members of
// properties, the elements of items, through $ref, allOf, anyOf, oneOf
// and the then and else branches of conditionals (an if only tests).
func (b *fieldBuilder) merge(n *fieldNode, s any, depth int) {
	if depth > maxSchemaDepth {
		n.open = true
		return
	}
	switch s := s.(type) {
	case bool:
		return
	case map[string]any:
		if ref, ok := s["$ref"].(string); ok {
			if target, ok := b.resolve(ref); ok && !b.seen[ref] {
				b.seen[ref] = true
				b.merge(n, target, depth+1)
				delete(b.seen, ref)
			} else if !ok {
				n.open = true // a reference kycsim cannot follow: do not refuse paths below
			}
		}
		if props, ok := s["properties"].(map[string]any); ok {
			if n.members == nil {
				n.members = map[string]*fieldNode{}
			}
			for name, ps := range props {
				c := n.members[name]
				if c == nil {
					c = &fieldNode{}
					n.members[name] = c
				}
				b.merge(c, ps, depth+1)
			}
		}
		switch items := s["items"].(type) {
		case map[string]any, bool:
			if n.items == nil {
				n.items = &fieldNode{}
			}
			b.merge(n.items, items, depth+1)
		case []any:
			if n.items == nil {
				n.items = &fieldNode{}
			}
			for _, it := range items {
				b.merge(n.items, it, depth+1)
			}
		}
		if ap, ok := s["additionalProperties"].(map[string]any); ok && len(ap) > 0 || s["patternProperties"] != nil {
			n.open = true // members named by a pattern or any name
		}
		for _, k := range []string{"allOf", "anyOf", "oneOf"} {
			if list, ok := s[k].([]any); ok {
				for _, sub := range list {
					b.merge(n, sub, depth+1)
				}
			}
		}
		for _, k := range []string{"then", "else"} {
			if sub, ok := s[k]; ok {
				b.merge(n, sub, depth+1)
			}
		}
		if isObjectType(s["type"]) {
			n.object = true
		}
	}
}

// resolve follows a local reference ("#/definitions/Name").
func (b *fieldBuilder) resolve(ref string) (any, bool) {
	if !strings.HasPrefix(ref, "#/") {
		return nil, false
	}
	var cur any = b.root
	for _, tok := range strings.Split(ref[2:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[tok]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// isObjectType reports whether a schema's type allows an object.
func isObjectType(t any) bool {
	switch t := t.(type) {
	case string:
		return t == "object"
	case []any:
		return slices.Contains(t, any("object"))
	}
	return false
}

// settle opens the objects whose members the schema does not list.
func (n *fieldNode) settle(depth int) {
	if n.object && len(n.members) == 0 {
		n.open = true
	}
	if depth > maxSchemaDepth {
		return
	}
	for _, c := range n.members {
		c.settle(depth + 1)
	}
	if n.items != nil {
		n.items.settle(depth + 1)
	}
}
