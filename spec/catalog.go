// Package spec holds the vendors' callback contracts as data (an AsyncAPI
// document for Jumio KYX, field tables for the legacy Jumio callbacks and
// for Sumsub), compiles them into JSON Schemas, and validates payloads
// against them with errors that name the place, the rule, the value found
// and the value expected.
package spec

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/kycsim/kycsim/spec/asyncapi"
	"github.com/kycsim/kycsim/spec/fieldtable"
	"github.com/kycsim/kycsim/spec/format"
	"github.com/kycsim/kycsim/spec/precheck"
)

//go:embed data/*.yaml
var dataFS embed.FS

// Level is how closely a payload must follow the documents.
type Level = fieldtable.Level

// The two levels.
const (
	LevelVendor = fieldtable.LevelVendor
	LevelStrict = fieldtable.LevelStrict
)

// Levels lists both levels, vendor first.
var Levels = []Level{LevelVendor, LevelStrict}

// ParseLevel checks a level name.
func ParseLevel(s string) (Level, error) { return fieldtable.ParseLevel(s) }

// Encoding values of a product.
const (
	EncodingJSON = fieldtable.EncodingJSON
	EncodingForm = fieldtable.EncodingForm
)

// Products in the order the documents present them.
var productOrder = []string{"jumio-kyx", "jumio-netverify", "jumio-auth", "jumio-docverify", "sumsub"}

// Catalog is the set of products kycsim knows, compiled.
type Catalog struct {
	products []*Product
	byName   map[string]*Product
}

// Product is one vendor callback surface.
type Product struct {
	Name        string
	Title       string
	Description string
	Source      string // where the contract comes from
	Encoding    string // EncodingJSON or EncodingForm
	ContentType string
	Method      string
	Messages    []Message
	// Kind says what the contract was written as: "asyncapi" or "table".
	Kind string
	// Origin is the file the contract was loaded from.
	Origin string

	table *fieldtable.Table
	doc   *asyncapi.Document

	once     sync.Once
	compiled map[Level]*compiled
	err      error
}

// Message is one kind of callback of a product.
type Message struct {
	Name    string
	Summary string
	// Match gives the payload values (by JSON pointer into the decoded
	// payload) that identify the message.
	Match map[string]string
}

type compiled struct {
	messages map[string]*jsonschema.Schema
	envelope *jsonschema.Schema        // tables: any message
	raw      map[string]map[string]any // resource URL -> schema document
	schemas  map[string]map[string]any // message ("" envelope) -> standalone schema
	known    map[string]bool           // top-level field names (tables)
	// jsonFields maps each JSON-in-form field to whether a plain string is
	// accepted in its place at this level.
	jsonFields map[string]bool

	// Tables: per message, the top-level cases its match does not decide,
	// and the schemas compiled with those decided (see variant).
	level      Level
	product    *Product
	undecided  map[string][]fieldtable.TopCase
	variants   sync.Map // key -> *jsonschema.Schema
	variantRaw sync.Map // resource URL -> map[string]any
	variantMu  sync.Mutex

	// prechecks maps each compiled schema to its precheck (see package
	// precheck): valid payloads skip the full validator.
	prechecks sync.Map // *jsonschema.Schema -> *precheck.Schema
}

// precheckFormats gives the precheck the format functions the full
// validator uses: kycsim's own, then the library's.
var precheckFormats = func() func(string) precheck.FormatFunc {
	own := format.Checkers()
	return func(name string) precheck.FormatFunc {
		if f, ok := own[name]; ok {
			return f
		}
		if f, ok := jsonschema.Formats[name]; ok {
			return f
		}
		return nil
	}
}()

// addPrecheck compiles the precheck of the schema at ptr in doc for s. A
// schema outside the precheck's subset simply has none.
func (c *compiled) addPrecheck(s *jsonschema.Schema, doc any, ptr string) {
	if pc, err := precheck.Compile(doc, ptr, precheckFormats); err == nil {
		c.prechecks.Store(s, pc)
	}
}

// precheck returns the precheck of a compiled schema, or nil.
func (c *compiled) precheck(s *jsonschema.Schema) *precheck.Schema {
	if pc, ok := c.prechecks.Load(s); ok {
		return pc.(*precheck.Schema)
	}
	return nil
}

// maxUndecided bounds the cases decided per payload: 2^maxUndecided
// schema variants per message at most; beyond it the if/then schema is used.
const maxUndecided = 10

// rawDoc returns the schema document behind a resource URL.
func (c *compiled) rawDoc(url string) map[string]any {
	if d, ok := c.raw[url]; ok {
		return d
	}
	if d, ok := c.variantRaw.Load(url); ok {
		return d.(map[string]any)
	}
	return nil
}

// variant returns the schema of a message with the cases the message does
// not decide decided from the payload: no if/then is left at the top, so
// the payload is checked faster, with the same verdict.
func (c *compiled) variant(message string, v any) *jsonschema.Schema {
	cases := c.undecided[message]
	if len(cases) == 0 || len(cases) > maxUndecided {
		return c.messages[message]
	}
	lookup := func(ptr string) (any, bool) { return asyncapi.Lookup(v, ptr) }
	key := make([]byte, 0, len(message)+1+len(cases))
	key = append(key, message...)
	key = append(key, '|')
	for _, tc := range cases {
		if tc.Holds(lookup) {
			key = append(key, '1')
		} else {
			key = append(key, '0')
		}
	}
	if s, ok := c.variants.Load(string(key)); ok {
		return s.(*jsonschema.Schema)
	}
	c.variantMu.Lock()
	defer c.variantMu.Unlock()
	if s, ok := c.variants.Load(string(key)); ok {
		return s.(*jsonschema.Schema)
	}
	bits := key[len(message)+1:]
	decided := make(map[int]bool, len(cases))
	for i, tc := range cases {
		decided[tc.ID] = bits[i] == '1'
	}
	gen, err := c.product.table.CompileDecided(message, c.level, decided)
	if err != nil {
		return c.messages[message]
	}
	raw, err := jsonRoundTrip(gen)
	if err != nil {
		return c.messages[message]
	}
	url := schemaURL(c.product.Name, c.level, message+"/"+string(bits))
	jc := newCompiler()
	if err := addResource(jc, url, raw); err != nil {
		return c.messages[message]
	}
	s, err := jc.Compile(url)
	if err != nil {
		return c.messages[message]
	}
	c.variantRaw.Store(url, raw)
	c.addPrecheck(s, raw, "")
	c.variants.Store(string(key), s)
	return s
}

// Load compiles the built-in catalog.
func Load() (*Catalog, error) {
	c := &Catalog{byName: map[string]*Product{}}
	entries, err := dataFS.ReadDir("data")
	if err != nil {
		return nil, fmt.Errorf("read embedded spec data: %w", err)
	}
	for _, e := range entries {
		name := path.Join("spec/data", e.Name())
		data, err := dataFS.ReadFile("data/" + e.Name())
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		var p *Product
		switch {
		case strings.HasSuffix(e.Name(), ".asyncapi.yaml"):
			p, err = productFromAsyncAPI(name, data, "")
		case strings.HasSuffix(e.Name(), ".table.yaml"):
			p, err = productFromTable(name, data)
		default:
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := c.add(p); err != nil {
			return nil, err
		}
	}
	rank := map[string]int{}
	for i, n := range productOrder {
		rank[n] = i + 1
	}
	sort.SliceStable(c.products, func(i, j int) bool {
		ri, rj := rank[c.products[i].Name], rank[c.products[j].Name]
		if ri == 0 {
			ri = len(productOrder) + 1
		}
		if rj == 0 {
			rj = len(productOrder) + 1
		}
		return ri < rj
	})
	return c, nil
}

var (
	defaultOnce sync.Once
	defaultCat  *Catalog
	defaultErr  error
)

// Default returns the built-in catalog, loaded once.
func Default() (*Catalog, error) {
	defaultOnce.Do(func() { defaultCat, defaultErr = Load() })
	return defaultCat, defaultErr
}

func (c *Catalog) add(p *Product) error {
	if _, dup := c.byName[p.Name]; dup {
		return fmt.Errorf("%s: product %q is already defined", p.Origin, p.Name)
	}
	c.products = append(c.products, p)
	c.byName[p.Name] = p
	return nil
}

// AddAsyncAPI loads a user's AsyncAPI 2.x document as one more product. The
// product is named by the document's x-kycsim-product extension, else by
// the file name without its extensions, unless name is given.
func (c *Catalog) AddAsyncAPI(file string, data []byte, name string) (*Product, error) {
	p, err := productFromAsyncAPI(file, data, name)
	if err != nil {
		return nil, err
	}
	if old, dup := c.byName[p.Name]; dup {
		// A user's document replaces a built-in product of the same name.
		for i, q := range c.products {
			if q == old {
				c.products[i] = p
			}
		}
		c.byName[p.Name] = p
	} else if err := c.add(p); err != nil {
		return nil, err
	}
	if err := p.compile(); err != nil {
		return nil, err
	}
	return p, nil
}

// Products lists the products.
func (c *Catalog) Products() []*Product { return c.products }

// Product returns a product by name.
func (c *Catalog) Product(name string) (*Product, error) {
	p, ok := c.byName[name]
	if !ok {
		names := make([]string, len(c.products))
		for i, q := range c.products {
			names[i] = q.Name
		}
		return nil, &UnknownError{What: "product", Name: name, Known: names}
	}
	return p, nil
}

// UnknownError reports an unknown product or message.
type UnknownError struct {
	What, Name string
	Known      []string
}

// Error implements error.
func (e *UnknownError) Error() string {
	return fmt.Sprintf("unknown %s %q (known: %s)", e.What, e.Name, strings.Join(e.Known, ", "))
}

// Message returns a message of the product by name; the match is exact,
// then case-insensitive.
func (p *Product) Message(name string) (*Message, error) {
	for i := range p.Messages {
		if p.Messages[i].Name == name {
			return &p.Messages[i], nil
		}
	}
	for i := range p.Messages {
		if strings.EqualFold(p.Messages[i].Name, name) {
			return &p.Messages[i], nil
		}
	}
	names := make([]string, len(p.Messages))
	for i, m := range p.Messages {
		names[i] = m.Name
	}
	return nil, &UnknownError{What: p.Name + " message", Name: name, Known: names}
}

// MessageNames lists the product's message names in document order.
func (p *Product) MessageNames() []string {
	out := make([]string, len(p.Messages))
	for i, m := range p.Messages {
		out[i] = m.Name
	}
	return out
}

func productFromTable(file string, data []byte) (*Product, error) {
	t, err := fieldtable.Load(file, data, func(n string) bool { _, ok := format.Lookup(n); return ok })
	if err != nil {
		return nil, err
	}
	p := &Product{
		Name: t.Product, Title: t.Title, Description: t.Description, Source: t.Source,
		Encoding: t.Encoding, ContentType: t.ContentType(), Method: t.Method,
		Kind: "table", Origin: file, table: t,
	}
	for _, m := range t.Messages {
		match := map[string]string{}
		for k, v := range m.Match {
			if !strings.HasPrefix(k, "/") {
				k = "/" + k
			}
			match[k] = v
		}
		p.Messages = append(p.Messages, Message{Name: m.Name, Summary: m.Summary, Match: match})
	}
	return p, nil
}

func productFromAsyncAPI(file string, data []byte, name string) (*Product, error) {
	d, err := asyncapi.Load(file, data)
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = d.Product
	}
	if name == "" {
		base := path.Base(strings.ReplaceAll(file, "\\", "/"))
		if i := strings.IndexByte(base, '.'); i > 0 {
			base = base[:i]
		}
		name = base
	}
	p := &Product{
		Name: name, Title: d.Title, Description: d.Description, Source: "AsyncAPI " + d.Version + " document " + file,
		Encoding: EncodingJSON, ContentType: "application/json", Method: "POST",
		Kind: "asyncapi", Origin: file, doc: d,
	}
	for _, m := range d.Messages {
		if m.ContentType != "" && !strings.Contains(m.ContentType, "json") {
			return nil, fmt.Errorf("%s: message %s: content type %s is not supported for AsyncAPI products (JSON only)", file, m.Name, m.ContentType)
		}
		if m.Method != "" {
			p.Method = m.Method
		}
		msg := Message{Name: m.Name, Summary: firstNonEmpty(m.Summary, m.Title)}
		if d.Discriminator != "" {
			msg.Match = map[string]string{d.Discriminator: m.Const}
		}
		p.Messages = append(p.Messages, msg)
	}
	return p, nil
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// Compile compiles every schema of the product now (it is otherwise done
// on first use) and reports the first problem.
func (p *Product) compile() error {
	p.once.Do(func() {
		p.compiled = map[Level]*compiled{}
		for _, lv := range Levels {
			var c *compiled
			var err error
			if p.table != nil {
				c, err = p.compileTable(lv)
			} else {
				c, err = p.compileAsyncAPI(lv)
			}
			if err != nil {
				p.err = fmt.Errorf("compile %s (level %s): %w", p.Name, lv, err)
				return
			}
			p.compiled[lv] = c
		}
	})
	return p.err
}

// CompileAll compiles every product; tests and start-up checks use it.
func (c *Catalog) CompileAll() error {
	for _, p := range c.products {
		if err := p.compile(); err != nil {
			return err
		}
	}
	return nil
}

func newCompiler() *jsonschema.Compiler {
	jc := jsonschema.NewCompiler()
	jc.Draft = jsonschema.Draft7
	jc.AssertFormat = true
	for name, check := range format.Checkers() {
		jc.Formats[name] = check
	}
	jc.LoadURL = func(s string) (io.ReadCloser, error) {
		return nil, fmt.Errorf("%s: references outside the document are not followed", s)
	}
	return jc
}

func schemaURL(product string, lv Level, name string) string {
	return "https://kycsim.invalid/spec/" + product + "/" + string(lv) + "/" + name + ".json"
}

func (p *Product) compileTable(lv Level) (*compiled, error) {
	jc := newCompiler()
	c := &compiled{
		messages: map[string]*jsonschema.Schema{},
		raw:      map[string]map[string]any{},
		schemas:  map[string]map[string]any{},
		known:    map[string]bool{},
	}
	for _, n := range p.table.TopFields() {
		c.known[n] = true
	}
	c.level, c.product = lv, p
	c.undecided = map[string][]fieldtable.TopCase{}
	for _, m := range p.table.Messages {
		c.undecided[m.Name] = p.table.Undecided(m.Name, lv)
	}
	c.jsonFields = map[string]bool{}
	for name, jf := range p.table.JSONFields(lv) {
		c.jsonFields[name] = jf.PlainString
	}
	names := append([]string{""}, p.MessageNames()...)
	for _, m := range names {
		gen, err := p.table.Compile(m, lv)
		if err != nil {
			return nil, err
		}
		// Keep the schema exactly as the compiler reads it (JSON values),
		// so that error rendering looks at the same thing.
		s, err := jsonRoundTrip(gen)
		if err != nil {
			return nil, err
		}
		url := schemaURL(p.Name, lv, firstNonEmpty(m, "_envelope"))
		if err := addResource(jc, url, s); err != nil {
			return nil, err
		}
		sch, err := jc.Compile(url)
		if err != nil {
			return nil, fmt.Errorf("message %q: %w", m, err)
		}
		c.raw[url] = s
		c.schemas[m] = s
		c.addPrecheck(sch, s, "")
		if m == "" {
			c.envelope = sch
		} else {
			c.messages[m] = sch
		}
	}
	return c, nil
}

func (p *Product) compileAsyncAPI(lv Level) (*compiled, error) {
	jc := newCompiler()
	doc := p.doc.Raw
	if lv == LevelStrict {
		doc = p.doc.Strict()
	}
	url := schemaURL(p.Name, lv, "asyncapi")
	if err := addResource(jc, url, doc); err != nil {
		return nil, err
	}
	c := &compiled{
		messages: map[string]*jsonschema.Schema{},
		raw:      map[string]map[string]any{url: doc},
		schemas:  map[string]map[string]any{},
	}
	for _, m := range p.doc.Messages {
		sch, err := jc.Compile(url + m.Payload)
		if err != nil {
			return nil, fmt.Errorf("message %s: %w", m.Name, err)
		}
		c.messages[m.Name] = sch
		c.addPrecheck(sch, doc, strings.TrimPrefix(m.Payload, "#"))
		standalone, err := bundle(doc, strings.TrimPrefix(m.Payload, "#"))
		if err != nil {
			return nil, fmt.Errorf("message %s: %w", m.Name, err)
		}
		standalone["$schema"] = fieldtable.Draft07
		standalone["title"] = p.Name + " " + m.Name
		if s := firstNonEmpty(m.Summary, m.Title); s != "" {
			if _, has := standalone["description"]; !has {
				standalone["description"] = s
			}
		}
		c.schemas[m.Name] = standalone
	}
	return c, nil
}

func jsonRoundTrip(v map[string]any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out map[string]any
	if err := dec.Decode(&out); err != nil {
		return nil, err
	}
	return out, nil
}

func addResource(jc *jsonschema.Compiler, url string, doc any) error {
	b, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("encode %s: %w", url, err)
	}
	return jc.AddResource(url, bytes.NewReader(b))
}

// bundle copies the schema at ptr out of doc as a standalone schema:
// references into components/schemas become references into its own
// definitions; other internal references are copied in place.
func bundle(doc map[string]any, ptr string) (map[string]any, error) {
	v, ok := asyncapi.Lookup(doc, ptr)
	if !ok {
		return nil, fmt.Errorf("nothing at %s", ptr)
	}
	used := map[string]bool{}
	out, err := rewriteRefs(doc, v, used, 0)
	if err != nil {
		return nil, err
	}
	m, ok := out.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("schema at %s is not an object", ptr)
	}
	defs := map[string]any{}
	// Definitions may refer to further definitions: close over them.
	for changed := true; changed; {
		changed = false
		for name := range used {
			if _, done := defs[name]; done {
				continue
			}
			src, ok := asyncapi.Lookup(doc, "/components/schemas/"+name)
			if !ok {
				return nil, fmt.Errorf("$ref to missing #/components/schemas/%s", name)
			}
			d, err := rewriteRefs(doc, src, used, 0)
			if err != nil {
				return nil, err
			}
			defs[name] = d
			changed = true
		}
	}
	if len(defs) > 0 {
		m["definitions"] = defs
	}
	return m, nil
}

func rewriteRefs(doc map[string]any, v any, used map[string]bool, depth int) (any, error) {
	if depth > 64 {
		return nil, errors.New("references nest too deep")
	}
	switch c := v.(type) {
	case map[string]any:
		if ref, ok := c["$ref"].(string); ok {
			const prefix = "#/components/schemas/"
			if strings.HasPrefix(ref, prefix) && !strings.Contains(ref[len(prefix):], "/") {
				used[ref[len(prefix):]] = true
				out := make(map[string]any, len(c))
				for k, x := range c {
					out[k] = x
				}
				out["$ref"] = "#/definitions/" + ref[len(prefix):]
				return out, nil
			}
			target, ok := asyncapi.Lookup(doc, strings.TrimPrefix(ref, "#"))
			if !ok {
				return nil, fmt.Errorf("$ref %q points at nothing", ref)
			}
			return rewriteRefs(doc, target, used, depth+1)
		}
		out := make(map[string]any, len(c))
		for k, x := range c {
			r, err := rewriteRefs(doc, x, used, depth+1)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(c))
		for i, x := range c {
			r, err := rewriteRefs(doc, x, used, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return v, nil
}

// Schema returns the standalone draft-07 JSON Schema of a message at a
// level. For form products it describes the decoded payload: each form
// field a string, JSON-in-form fields decoded.
func (p *Product) Schema(message string, lv Level) (map[string]any, error) {
	if err := p.compile(); err != nil {
		return nil, err
	}
	m, err := p.Message(message)
	if err != nil {
		return nil, err
	}
	return p.compiled[lv].schemas[m.Name], nil
}

// JSONFields lists the JSON-in-form fields of a form product.
func (p *Product) JSONFields() []string {
	if p.table == nil {
		return nil
	}
	var out []string
	for name := range p.table.JSONFields(LevelStrict) {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}
