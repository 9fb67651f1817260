// Package asyncapi loads AsyncAPI 2.x documents that describe webhook
// callbacks: their servers, the messages their channels carry (inline,
// by $ref into components, or as oneOf lists) and where each message's
// payload schema is, so that the payloads can be compiled as JSON Schemas.
package asyncapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Document is a loaded AsyncAPI document.
type Document struct {
	// Raw is the whole document as JSON values (map[string]any, []any,
	// string, json.Number, bool, nil), as a JSON Schema compiler wants it.
	Raw                map[string]any
	Version            string
	Title              string
	Description        string
	Product            string // the x-kycsim-product extension, if any
	DefaultContentType string
	Servers            []Server
	Messages           []Message
	// Discriminator is the JSON pointer into a payload whose constant value
	// tells the messages apart, or "" when there is none.
	Discriminator string

	pos map[string]pos // JSON pointer -> position in the source
}

// Server is one entry of the servers section.
type Server struct {
	Name, URL, Protocol, Description string
	Hostname                         string   // x-callback-hostname
	SourceIPs                        []string // x-callback-source-ips
}

// Message is one message a channel carries.
type Message struct {
	// Name is what kycsim calls the message: the value of the
	// discriminator in its payload when there is one (PROCESSED), else the
	// message's name or component key.
	Name        string
	MessageName string // the message's own "name"
	Key         string // component key, or "" for an inline message
	Title       string
	Summary     string
	ContentType string
	Channel     string
	Method      string // from the channel's http binding; POST when absent
	// Payload is the JSON pointer of the payload schema in Raw, as a URL
	// fragment ("#/components/messages/X/payload").
	Payload string
	// Const is the discriminator value of this message, if any.
	Const string
	// Examples are the payload examples the message gives.
	Examples []any
}

type pos struct{ line, col int }

// Load parses a YAML or JSON AsyncAPI 2.x document. Errors name the
// document and, where the problem is in it, the line and column.
func Load(name string, data []byte) (*Document, error) {
	var root yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&root); err != nil {
		return nil, fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	d := &Document{pos: map[string]pos{}}
	if len(root.Content) == 0 {
		return nil, fmt.Errorf("%s: empty document", name)
	}
	v, err := d.convert(root.Content[0], "", 0)
	if err != nil {
		return nil, fmt.Errorf("%s:%w", name, err)
	}
	raw, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: the document is not a mapping", name)
	}
	d.Raw = raw
	if err := d.read(); err != nil {
		return nil, fmt.Errorf("%s:%w", name, err)
	}
	return d, nil
}

// errAt formats an error at the source position of a pointer (or the
// nearest enclosing one); the result reads "line:col: msg".
func (d *Document) errAt(ptr string, format string, args ...any) error {
	p := ptr
	for {
		if at, ok := d.pos[p]; ok {
			return fmt.Errorf("%d:%d: %s", at.line, at.col, fmt.Sprintf(format, args...))
		}
		if p == "" {
			return fmt.Errorf(" %s", fmt.Sprintf(format, args...))
		}
		p = p[:strings.LastIndexByte(p, '/')]
	}
}

// convert turns a YAML node into JSON values, keeping positions by pointer.
func (d *Document) convert(n *yaml.Node, ptr string, depth int) (any, error) {
	if depth > 200 {
		return nil, fmt.Errorf("%d:%d: nested too deep", n.Line, n.Column)
	}
	d.pos[ptr] = pos{n.Line, n.Column}
	switch n.Kind {
	case yaml.AliasNode:
		return d.convert(n.Alias, ptr, depth+1)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if k.Tag == "!!merge" {
				merged, err := d.convert(val, ptr, depth+1)
				if err != nil {
					return nil, err
				}
				mm, ok := merged.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("%d:%d: merge key needs a mapping", k.Line, k.Column)
				}
				for mk, mv := range mm {
					if _, has := m[mk]; !has {
						m[mk] = mv
					}
				}
				continue
			}
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("%d:%d: mapping key is not a scalar", k.Line, k.Column)
			}
			if _, dup := m[k.Value]; dup {
				return nil, fmt.Errorf("%d:%d: key %q appears twice", k.Line, k.Column, k.Value)
			}
			cv, err := d.convert(val, ptr+"/"+escape(k.Value), depth+1)
			if err != nil {
				return nil, err
			}
			m[k.Value] = cv
		}
		return m, nil
	case yaml.SequenceNode:
		s := make([]any, len(n.Content))
		for i, c := range n.Content {
			cv, err := d.convert(c, ptr+"/"+strconv.Itoa(i), depth+1)
			if err != nil {
				return nil, err
			}
			s[i] = cv
		}
		return s, nil
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return nil, nil
		case "!!bool":
			var b bool
			if err := n.Decode(&b); err != nil {
				return nil, fmt.Errorf("%d:%d: %v", n.Line, n.Column, err)
			}
			return b, nil
		case "!!int", "!!float":
			var f float64
			if err := n.Decode(&f); err != nil {
				return nil, fmt.Errorf("%d:%d: %v", n.Line, n.Column, err)
			}
			b, err := json.Marshal(f)
			if err != nil {
				return nil, fmt.Errorf("%d:%d: number %s has no JSON form", n.Line, n.Column, n.Value)
			}
			return json.Number(b), nil
		default: // strings, and timestamps kept as written
			return n.Value, nil
		}
	}
	return nil, fmt.Errorf("%d:%d: unsupported YAML node", n.Line, n.Column)
}

func (d *Document) read() error {
	r := d.Raw
	ver, _ := r["asyncapi"].(string)
	if ver == "" {
		return d.errAt("", "asyncapi: version missing; this is not an AsyncAPI document")
	}
	if !strings.HasPrefix(ver, "2.") {
		return d.errAt("/asyncapi", "asyncapi %s is not supported (2.x only)", ver)
	}
	d.Version = ver
	info, _ := r["info"].(map[string]any)
	d.Title, _ = info["title"].(string)
	d.Description, _ = info["description"].(string)
	d.Product, _ = r["x-kycsim-product"].(string)
	d.DefaultContentType, _ = r["defaultContentType"].(string)
	if d.DefaultContentType == "" {
		d.DefaultContentType = "application/json"
	}
	servers, _ := r["servers"].(map[string]any)
	for _, name := range sortedKeys(servers) {
		s, _ := servers[name].(map[string]any)
		srv := Server{Name: name}
		srv.URL, _ = s["url"].(string)
		srv.Protocol, _ = s["protocol"].(string)
		srv.Description, _ = s["description"].(string)
		srv.Hostname, _ = s["x-callback-hostname"].(string)
		if ips, ok := s["x-callback-source-ips"].([]any); ok {
			for _, ip := range ips {
				if str, ok := ip.(string); ok {
					srv.SourceIPs = append(srv.SourceIPs, str)
				}
			}
		}
		d.Servers = append(d.Servers, srv)
	}
	channels, _ := r["channels"].(map[string]any)
	if len(channels) == 0 {
		return d.errAt("", "channels: none declared")
	}
	seen := map[string]bool{}
	for _, ch := range sortedKeys(channels) {
		item, _ := channels[ch].(map[string]any)
		chPtr := "/channels/" + escape(ch)
		method := "POST"
		if b, ok := item["bindings"].(map[string]any); ok {
			if h, ok := b["http"].(map[string]any); ok {
				if m, ok := h["method"].(string); ok && m != "" {
					method = strings.ToUpper(m)
				}
			}
		}
		for _, opName := range []string{"subscribe", "publish"} {
			op, ok := item[opName].(map[string]any)
			if !ok {
				continue
			}
			opPtr := chPtr + "/" + opName
			msg, ok := op["message"]
			if !ok {
				return d.errAt(opPtr, "%s operation has no message", opName)
			}
			var list []string
			if mm, ok := msg.(map[string]any); ok {
				if one, ok := mm["oneOf"].([]any); ok {
					for i := range one {
						list = append(list, opPtr+"/message/oneOf/"+strconv.Itoa(i))
					}
				} else {
					list = append(list, opPtr+"/message")
				}
			} else {
				return d.errAt(opPtr+"/message", "message must be a mapping")
			}
			for _, p := range list {
				target, key, err := d.follow(p)
				if err != nil {
					return err
				}
				if seen[target] {
					continue
				}
				seen[target] = true
				m, err := d.message(target, key, ch, method)
				if err != nil {
					return err
				}
				d.Messages = append(d.Messages, m)
			}
		}
	}
	if len(d.Messages) == 0 {
		return d.errAt("/channels", "no channel carries a message")
	}
	d.findDiscriminator()
	names := map[string]bool{}
	for _, m := range d.Messages {
		if names[m.Name] {
			return d.errAt(strings.TrimPrefix(m.Payload, "#"), "two messages are both called %q", m.Name)
		}
		names[m.Name] = true
	}
	return nil
}

// follow resolves a chain of internal $refs starting at pointer p and
// returns the final pointer and, for components/messages, the key.
func (d *Document) follow(p string) (string, string, error) {
	for i := 0; i < 32; i++ {
		v, ok := d.Get(p)
		if !ok {
			return "", "", d.errAt(p, "nothing at %s", p)
		}
		m, ok := v.(map[string]any)
		if !ok {
			return "", "", d.errAt(p, "expected a mapping at %s", p)
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			key := ""
			if strings.HasPrefix(p, "/components/messages/") && strings.Count(p, "/") == 3 {
				key = unescape(p[len("/components/messages/"):])
			}
			return p, key, nil
		}
		if !strings.HasPrefix(ref, "#/") && ref != "#" {
			return "", "", d.errAt(p+"/$ref", "$ref %q points outside the document; only #/... references are supported", ref)
		}
		p = strings.TrimPrefix(ref, "#")
		if _, ok := d.Get(p); !ok {
			return "", "", d.errAt(p, "$ref %q points at nothing", ref)
		}
	}
	return "", "", d.errAt(p, "$ref chain too long or circular")
}

func (d *Document) message(p, key, channel, method string) (Message, error) {
	v, _ := d.Get(p)
	m := v.(map[string]any)
	msg := Message{Key: key, Channel: channel, Method: method}
	msg.MessageName, _ = m["name"].(string)
	msg.Title, _ = m["title"].(string)
	msg.Summary, _ = m["summary"].(string)
	msg.ContentType, _ = m["contentType"].(string)
	if msg.ContentType == "" {
		msg.ContentType = d.DefaultContentType
	}
	if sf, ok := m["schemaFormat"].(string); ok && !strings.Contains(sf, "schema+json") && !strings.Contains(sf, "schema+yaml") && !strings.HasPrefix(sf, "application/vnd.aai.asyncapi") {
		return msg, d.errAt(p+"/schemaFormat", "schemaFormat %q is not supported (JSON Schema or AsyncAPI schema only)", sf)
	}
	if _, ok := m["payload"]; !ok {
		return msg, d.errAt(p, "message has no payload")
	}
	msg.Payload = "#" + p + "/payload"
	if ex, ok := m["examples"].([]any); ok {
		for _, e := range ex {
			if em, ok := e.(map[string]any); ok {
				if pl, ok := em["payload"]; ok {
					msg.Examples = append(msg.Examples, pl)
				}
			}
		}
	}
	msg.Name = msg.MessageName
	if msg.Name == "" {
		msg.Name = key
	}
	if msg.Name == "" {
		msg.Name = channel
	}
	return msg, nil
}

// findDiscriminator looks for a pointer at which every message's payload
// pins a distinct constant, and names the messages by it.
func (d *Document) findDiscriminator() {
	consts := make([]map[string]any, len(d.Messages))
	for i, m := range d.Messages {
		consts[i] = map[string]any{}
		v, _ := d.Get(strings.TrimPrefix(m.Payload, "#"))
		d.collectConsts(v, "", consts[i], 0)
	}
	var candidates []string
	for p := range consts[0] {
		candidates = append(candidates, p)
	}
	sort.Slice(candidates, func(i, j int) bool {
		ci, cj := strings.Count(candidates[i], "/"), strings.Count(candidates[j], "/")
		if ci != cj {
			return ci < cj
		}
		return candidates[i] < candidates[j]
	})
	for _, p := range candidates {
		vals := map[string]bool{}
		ok := true
		for _, c := range consts {
			s, isStr := c[p].(string)
			if !isStr || vals[s] {
				ok = false
				break
			}
			vals[s] = true
		}
		if ok {
			d.Discriminator = p
			for i := range d.Messages {
				d.Messages[i].Const = consts[i][p].(string)
				d.Messages[i].Name = d.Messages[i].Const
			}
			return
		}
	}
}

func (d *Document) collectConsts(v any, path string, out map[string]any, depth int) {
	m, ok := v.(map[string]any)
	if !ok || depth > 32 {
		return
	}
	if ref, ok := m["$ref"].(string); ok && strings.HasPrefix(ref, "#") {
		if t, ok := d.Get(strings.TrimPrefix(ref, "#")); ok {
			d.collectConsts(t, path, out, depth+1)
		}
	}
	if all, ok := m["allOf"].([]any); ok {
		for _, s := range all {
			d.collectConsts(s, path, out, depth+1)
		}
	}
	if c, ok := m["const"]; ok && path != "" {
		out[path] = c
	} else if e, ok := m["enum"].([]any); ok && len(e) == 1 && path != "" {
		if _, has := out[path]; !has {
			out[path] = e[0]
		}
	}
	if props, ok := m["properties"].(map[string]any); ok {
		for k, s := range props {
			d.collectConsts(s, path+"/"+escape(k), out, depth+1)
		}
	}
}

// Get returns the value at a JSON pointer of the document.
func (d *Document) Get(ptr string) (any, bool) {
	return Lookup(d.Raw, ptr)
}

// Lookup returns the value at a JSON pointer ("" is the whole value).
func Lookup(v any, ptr string) (any, bool) {
	if ptr == "" {
		return v, true
	}
	if !strings.HasPrefix(ptr, "/") {
		return nil, false
	}
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = unescape(tok)
		switch c := v.(type) {
		case map[string]any:
			next, ok := c[tok]
			if !ok {
				return nil, false
			}
			v = next
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			v = c[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// Strict returns a deep copy of the raw document in which every object
// schema that lists properties and says nothing of additionalProperties
// forbids fields it does not list: the "exactly as documented" reading.
func (d *Document) Strict() map[string]any {
	return strictCopy(d.Raw).(map[string]any)
}

func strictCopy(v any) any {
	switch c := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(c)+1)
		for k, x := range c {
			out[k] = strictCopy(x)
		}
		if c["type"] == "object" {
			if _, hasProps := c["properties"]; hasProps {
				if _, set := c["additionalProperties"]; !set {
					out["additionalProperties"] = false
				}
			}
		}
		return out
	case []any:
		out := make([]any, len(c))
		for i, x := range c {
			out[i] = strictCopy(x)
		}
		return out
	}
	return v
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func escape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func unescape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
}
