// Package asyncapi loads AsyncAPI 2.x documents that describe webhook
// callbacks: their servers, the messages their channels carry (inline,
// by $ref into components, or as oneOf lists) and where each message's
// payload schema is, so that the payloads can be compiled as JSON Schemas.
package asyncapi

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/kycsim/kycsim/internal/yamldoc"
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

	pos map[string]pos // JSON pointer -> position in a JSON source
	doc *yamldoc.Doc   // a YAML source, with its positions
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
//
// A document whose first non-blank character is "{" and that is valid
// JSON is read as JSON, by encoding/json's rules for strings (so that
// escapes YAML lacks, such as \/ and surrogate pairs, load); anything
// else is read as YAML.
func Load(name string, data []byte) (*Document, error) {
	d := &Document{pos: map[string]pos{}}
	var v any
	if isJSON(data) {
		var err error
		if v, err = readJSON(d, data); err != nil {
			return nil, fmt.Errorf("%s:%w", name, err)
		}
	} else {
		// Aliases may copy about ten nodes per byte of the document, or
		// 100000 nodes when that is more: a small document cannot stand
		// for an enormous one ("billion laughs").
		doc, err := yamldoc.Parse(name, data, yamldoc.Options{
			MaxDepth: maxDepth, MaxNodes: max(aliasFactor*len(data), minAliasBudget), Empty: "empty document",
			ShortestNumbers: true, ScalarKeys: true, FirstDocument: true,
		})
		if err != nil {
			return nil, err
		}
		d.doc, v = doc, doc.Value
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
	if d.doc != nil {
		at := d.doc.At(ptr)
		return fmt.Errorf("%d:%d: %s", at.Line, at.Col, fmt.Sprintf(format, args...))
	}
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

// maxDepth is how deeply values may nest in a document.
const maxDepth = 200

// Aliases may copy at most aliasFactor nodes per byte of the document,
// or minAliasBudget nodes when that is more.
const (
	aliasFactor    = 10
	minAliasBudget = 100000
)

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
		at := p + "/$ref"
		p = strings.TrimPrefix(ref, "#")
		if _, ok := d.Get(p); !ok {
			return "", "", d.errAt(at, "$ref %q points at nothing", ref)
		}
	}
	return "", "", d.errAt(p, "$ref chain too long or circular")
}

// jsonSchemaFormat reports whether a message's schemaFormat is one whose
// payload is a JSON Schema: JSON Schema itself, or AsyncAPI's schema.
func jsonSchemaFormat(sf string) bool {
	return strings.Contains(sf, "schema+json") || strings.Contains(sf, "schema+yaml") || strings.HasPrefix(sf, "application/vnd.aai.asyncapi")
}

// message reads the message at pointer p.
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
	if sf, ok := m["schemaFormat"].(string); ok && !jsonSchemaFormat(sf) {
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
		d.collectConsts(v, consts[i])
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

// collectConsts records in out, by pointer into the payload, the constant
// that the payload schema v pins at each place (a const, or an enum of one
// value). It reads the schema breadth first, so that each place is reached
// by its shortest path, and reads each schema at most once: one reached
// again, through a $ref (recursive schemas included) or otherwise, adds
// nothing. The work is thus linear in the size of the document.
func (d *Document) collectConsts(v any, out map[string]any) {
	seen := map[uintptr]bool{}
	level := []constItem{{v, ""}}
	for len(level) > 0 {
		var next []constItem
		for _, it := range level {
			d.constsAt(it.schema, it.path, out, seen, &next)
		}
		level = next
	}
}

// constItem is a schema that describes the payload's value at path.
type constItem struct {
	schema any
	path   string
}

// constsAt reads, for collectConsts, one schema of the value at path: first
// its $ref and its allOf, which describe the same value, then its own
// const, which takes precedence; it queues its properties in next.
func (d *Document) constsAt(v any, path string, out map[string]any, seen map[uintptr]bool, next *[]constItem) {
	m, ok := v.(map[string]any)
	if !ok {
		return
	}
	id := reflect.ValueOf(m).Pointer()
	if seen[id] {
		return
	}
	seen[id] = true
	if ref, ok := m["$ref"].(string); ok && strings.HasPrefix(ref, "#") {
		if t, ok := d.Get(strings.TrimPrefix(ref, "#")); ok {
			d.constsAt(t, path, out, seen, next)
		}
	}
	if all, ok := m["allOf"].([]any); ok {
		for _, s := range all {
			d.constsAt(s, path, out, seen, next)
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
		for _, k := range sortedKeys(props) {
			*next = append(*next, constItem{props[k], path + "/" + escape(k)})
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
			i, ok := arrayIndex(tok)
			if !ok || i >= len(c) {
				return nil, false
			}
			v = c[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// arrayIndex reads an array index of a JSON pointer: by RFC 6901, "0" or
// digits that do not start with 0.
func arrayIndex(tok string) (int, bool) {
	if tok == "" || len(tok) > 1 && tok[0] == '0' {
		return 0, false
	}
	for _, c := range []byte(tok) {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	i, err := strconv.Atoi(tok)
	return i, err == nil
}

// Strict returns a deep copy of the raw document in which every object
// schema that lists properties and says nothing of additionalProperties
// forbids fields it does not list: the "exactly as documented" reading.
//
// Only schemas change: those in components/schemas, message payloads (in
// JSON Schema formats) and headers, parameter schemas, the schemas of the
// http, ws, kafka, jms and anypointmq bindings, the schemas these contain
// under JSON Schema keywords, and whatever schema their $refs reach. Values
// that are data, such as const, enum, default, examples and extensions, are
// copied as they are.
func (d *Document) Strict() map[string]any {
	out := deepCopy(d.Raw).(map[string]any)
	s := &stricter{root: out, seen: map[visited]bool{}}
	s.visit(out, roleDocument)
	return out
}

// deepCopy returns a copy of a JSON value that shares nothing with it.
func deepCopy(v any) any {
	switch c := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(c)+1)
		for k, x := range c {
			out[k] = deepCopy(x)
		}
		return out
	case []any:
		out := make([]any, len(c))
		for i, x := range c {
			out[i] = deepCopy(x)
		}
		return out
	}
	return v
}

// role is what an object of an AsyncAPI document is, as far as Strict needs
// to know.
type role string

const (
	roleDocument          role = "document"
	roleComponents        role = "components"
	roleChannel           role = "channel"
	roleOperation         role = "operation"
	roleOperationTrait    role = "operationTrait"
	roleMessage           role = "message"
	roleMessageTrait      role = "messageTrait"
	roleParameter         role = "parameter"
	roleChannelBindings   role = "channelBindings"
	roleOperationBindings role = "operationBindings"
	roleMessageBindings   role = "messageBindings"
	roleSchema            role = "schema"
)

// componentRoles gives the role of the entries of each components section
// that holds (or leads to) schemas.
var componentRoles = map[string]role{
	"schemas":           roleSchema,
	"messages":          roleMessage,
	"parameters":        roleParameter,
	"messageTraits":     roleMessageTrait,
	"operationTraits":   roleOperationTrait,
	"channelBindings":   roleChannelBindings,
	"operationBindings": roleOperationBindings,
	"messageBindings":   roleMessageBindings,
}

// bindingSchemas names, by protocol, the fields of each kind of bindings
// object that are schemas.
var bindingSchemas = map[role]map[string][]string{
	roleChannelBindings: {
		"ws": {"headers", "query"},
	},
	roleOperationBindings: {
		"http":  {"query"},
		"kafka": {"groupId", "clientId"},
	},
	roleMessageBindings: {
		"http":       {"headers"},
		"kafka":      {"key"},
		"jms":        {"headers"},
		"anypointmq": {"headers"},
	},
}

// Schema keywords of JSON Schema draft-07 (which AsyncAPI 2.x schemas
// extend) whose value is a schema, a list of schemas, or a map of them.
var (
	schemaKeywords     = []string{"additionalItems", "additionalProperties", "contains", "propertyNames", "if", "then", "else", "not", "items"}
	schemaListKeywords = []string{"allOf", "anyOf", "oneOf", "items"}
	schemaMapKeywords  = []string{"properties", "patternProperties", "definitions", "dependencies"}
)

// stricter adds additionalProperties: false to the object schemas of a copy
// of a document, for Strict.
type stricter struct {
	root map[string]any
	seen map[visited]bool
}

// visited is an object of the copy, by identity, read in some role.
type visited struct {
	object uintptr
	role   role
}

// visit reads v as an object of role r, and goes on to the objects it
// leads to. It reads each object in each role once, so its work is linear
// in the size of the document.
func (s *stricter) visit(v any, r role) {
	m, ok := v.(map[string]any)
	if !ok {
		return
	}
	id := visited{reflect.ValueOf(m).Pointer(), r}
	if s.seen[id] {
		return
	}
	s.seen[id] = true
	if ref, ok := m["$ref"].(string); ok && strings.HasPrefix(ref, "#") {
		if t, ok := Lookup(s.root, strings.TrimPrefix(ref, "#")); ok {
			s.visit(t, r)
		}
	}
	field := func(name string, r role) {
		s.visit(m[name], r)
	}
	each := func(name string, r role) {
		switch c := m[name].(type) {
		case []any:
			for _, x := range c {
				s.visit(x, r)
			}
		case map[string]any:
			for _, x := range c {
				s.visit(x, r)
			}
		}
	}
	switch r {
	case roleDocument:
		each("channels", roleChannel)
		field("components", roleComponents)
	case roleComponents:
		for name, r := range componentRoles {
			each(name, r)
		}
	case roleChannel:
		each("parameters", roleParameter)
		field("subscribe", roleOperation)
		field("publish", roleOperation)
		field("bindings", roleChannelBindings)
	case roleOperation:
		if msg, ok := m["message"].(map[string]any); ok {
			if one, ok := msg["oneOf"].([]any); ok {
				for _, x := range one {
					s.visit(x, roleMessage)
				}
			} else {
				field("message", roleMessage)
			}
		}
		each("traits", roleOperationTrait)
		field("bindings", roleOperationBindings)
	case roleOperationTrait:
		field("bindings", roleOperationBindings)
	case roleMessage:
		if sf, ok := m["schemaFormat"].(string); !ok || jsonSchemaFormat(sf) {
			field("payload", roleSchema)
		}
		field("headers", roleSchema)
		each("traits", roleMessageTrait)
		field("bindings", roleMessageBindings)
	case roleMessageTrait:
		field("headers", roleSchema)
		field("bindings", roleMessageBindings)
	case roleParameter:
		field("schema", roleSchema)
	case roleChannelBindings, roleOperationBindings, roleMessageBindings:
		for protocol, fields := range bindingSchemas[r] {
			b, ok := m[protocol].(map[string]any)
			if !ok {
				continue
			}
			for _, f := range fields {
				s.visit(b[f], roleSchema)
			}
		}
	case roleSchema:
		if m["type"] == "object" {
			if _, hasProps := m["properties"]; hasProps {
				if _, set := m["additionalProperties"]; !set {
					m["additionalProperties"] = false
				}
			}
		}
		for _, k := range schemaKeywords {
			field(k, roleSchema)
		}
		for _, k := range schemaListKeywords {
			if _, ok := m[k].([]any); ok {
				each(k, roleSchema)
			}
		}
		for _, k := range schemaMapKeywords {
			if _, ok := m[k].(map[string]any); ok {
				each(k, roleSchema)
			}
		}
	}
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
