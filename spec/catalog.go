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
	"github.com/kycsim/kycsim/internal/editdistance"
	"io"
	"path"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/kycsim/kycsim/spec/asyncapi"
	"github.com/kycsim/kycsim/spec/fieldtable"
	"github.com/kycsim/kycsim/spec/format"
	"github.com/kycsim/kycsim/spec/jsonvalue"
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

// Catalog is the set of products kycsim knows. A product's document is
// read on first use of the product and its schemas are compiled on first
// use of a level, then of a message: a command pays only for what it
// validates.
type Catalog struct {
	mu      sync.Mutex
	entries []*entry
	byName  map[string]*entry
}

// entry is one product of a catalog, loaded on first use.
type entry struct {
	name string
	load func() (*Product, error)
	once sync.Once
	p    *Product
	err  error
}

// product loads the entry's product on first use.
func (e *entry) product() (*Product, error) {
	e.once.Do(func() {
		e.p, e.err = e.load()
		if e.err == nil && e.p.Name != e.name {
			e.err = fmt.Errorf("%s: the document names product %q, its file %q", e.p.Origin, e.p.Name, e.name)
			e.p = nil
		}
	})
	return e.p, e.err
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

	// jsonFields maps, per level, each JSON-in-form field to whether a
	// plain string is accepted in its place.
	jsonFields map[Level]map[string]bool
	// detectPtr and detectBy tell the message from one value when every
	// message is matched by the same pointer.
	detectPtr string
	detectBy  map[string]string

	levels map[Level]*levelState
}

type levelState struct {
	once sync.Once
	c    *compiled
	err  error
}

// Message is one kind of callback of a product.
type Message struct {
	Name    string
	Summary string
	// Match gives the payload values (by JSON pointer into the decoded
	// payload) that identify the message.
	Match map[string]string
	// BeyondSource marks a message the product's source document does
	// not list (a newer type the vendor documents elsewhere); Note says
	// where it comes from.
	BeyondSource bool
	Note         string
}

// compiled is a product at one level.
type compiled struct {
	level   Level
	product *Product

	// Tables.
	known     map[string]bool // top-level field names at this level
	undecided map[string][]decider
	units     map[string]*lazyUnit // message ("" for the envelope) -> its schema
	// variants maps message "|" the cases decided (1 holds, 0 not) to
	// the schema. Read without a lock; replaced, copied, under variantMu.
	variants  atomic.Pointer[map[string]*unit]
	variantMu sync.Mutex
	// vendor says what level vendor accepts beyond the document, for
	// its warnings (level vendor only).
	vendor *departures

	// AsyncAPI: the document, and each message's payload in it.
	doc      *schemaDoc
	messages map[string]*unit
}

// lazyUnit is a unit built on first use.
type lazyUnit struct {
	once  sync.Once
	build func() (*unit, error)
	u     *unit
	err   error
}

// get builds the unit on first use.
func (l *lazyUnit) get() (*unit, error) {
	l.once.Do(func() { l.u, l.err = l.build() })
	return l.u, l.err
}

// unit is one schema a payload is checked against: its precheck, which
// decides valid payloads alone, and the document it is in, which the full
// validator compiles only when a payload fails the precheck.
type unit struct {
	doc *schemaDoc
	ptr string           // JSON pointer of the schema in doc.raw
	pre *precheck.Schema // nil when the schema is outside the precheck's subset
}

// schemaDoc is a schema document and, compiled on demand, the full
// validator's schemas at pointers into it.
type schemaDoc struct {
	url string
	raw map[string]any

	compiled sync.Map // pointer -> *jsonschema.Schema
	mu       sync.Mutex
	jc       *jsonschema.Compiler
}

// schema compiles the schema at ptr with the full validator.
func (d *schemaDoc) schema(ptr string) (*jsonschema.Schema, error) {
	if s, ok := d.compiled.Load(ptr); ok {
		return s.(*jsonschema.Schema), nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if s, ok := d.compiled.Load(ptr); ok {
		return s.(*jsonschema.Schema), nil
	}
	if d.jc == nil {
		jc := newCompiler()
		if err := addResource(jc, d.url, d.raw); err != nil {
			return nil, err
		}
		d.jc = jc
	}
	url := d.url
	if ptr != "" {
		url += "#" + ptr
	}
	s, err := d.jc.Compile(url)
	if err != nil {
		return nil, err
	}
	d.compiled.Store(ptr, s)
	return s, nil
}

// newUnit makes the unit of the schema at ptr in a document.
func newUnit(url string, raw map[string]any, ptr string) *unit {
	u := &unit{doc: &schemaDoc{url: url, raw: raw}, ptr: ptr}
	if pc, err := precheck.Compile(raw, ptr, precheckFormats); err == nil {
		u.pre = pc
	}
	return u
}

// precheckFormats gives the precheck the format functions the full
// validator uses: kycsim's own, then the library's. The library's "uri"
// parses every value; a plain http(s) URL, which it always takes, is
// taken without parsing.
var precheckFormats = func() func(string) precheck.FormatFunc {
	own := format.Checkers()
	uri := jsonschema.Formats["uri"]
	return func(name string) precheck.FormatFunc {
		if f, ok := own[name]; ok {
			return f
		}
		if name == "uri" && uri != nil {
			return func(v any) bool {
				if s, ok := v.(string); ok && format.IsPlainURL(s) {
					return true
				}
				return uri(v)
			}
		}
		if f, ok := jsonschema.Formats[name]; ok {
			return f
		}
		return nil
	}
}()

// maxUndecided bounds the cases decided per payload: 2^maxUndecided
// schema variants per message at most; beyond it the if/then schema is used.
const maxUndecided = 10

// unitFor returns the schema to check a payload of a message against. For
// tables it is the message's schema with the cases the message does not
// decide decided from the payload: no if/then is left at the top, so the
// payload is checked faster, with the same verdict.
func (c *compiled) unitFor(message string, v any) (*unit, error) {
	if c.doc != nil {
		u, ok := c.messages[message]
		if !ok {
			return nil, fmt.Errorf("%s has no message %q", c.product.Name, message)
		}
		return u, nil
	}
	lu, ok := c.units[message]
	if !ok {
		return nil, fmt.Errorf("%s has no message %q", c.product.Name, message)
	}
	cases := c.undecided[message]
	if len(cases) == 0 || len(cases) > maxUndecided {
		return lu.get()
	}
	var buf [64]byte
	key := append(buf[:0], message...)
	key = append(key, '|')
	for _, d := range cases {
		if d.holds(v) {
			key = append(key, '1')
		} else {
			key = append(key, '0')
		}
	}
	if u, ok := (*c.variants.Load())[string(key)]; ok {
		return u, nil
	}
	c.variantMu.Lock()
	defer c.variantMu.Unlock()
	if u, ok := (*c.variants.Load())[string(key)]; ok {
		return u, nil
	}
	bits := key[len(message)+1:]
	decided := make(map[int]bool, len(cases))
	for i, d := range cases {
		decided[d.id] = bits[i] == '1'
	}
	gen, err := c.product.table.CompileDecided(message, c.level, decided)
	if err != nil {
		// The payload decides a case against the message's own match
		// (a field the match reads must be absent): no variant holds
		// both, and the if/then schema gives the verdict.
		u, err := lu.get()
		if err == nil {
			c.addVariant(string(key), u)
		}
		return u, err
	}
	raw, err := jsonRoundTrip(gen)
	if err != nil {
		return nil, err
	}
	u := newUnit(schemaURL(c.product.Name, c.level, message+"/"+string(bits)), raw, "")
	c.addVariant(string(key), u)
	return u, nil
}

// addVariant publishes a variant; the caller holds variantMu.
func (c *compiled) addVariant(key string, u *unit) {
	old := *c.variants.Load()
	m := make(map[string]*unit, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	m[key] = u
	c.variants.Store(&m)
}

// decider decides a top-level case from a payload, as
// fieldtable.TopCase.Holds does, without maps.
type decider struct {
	id           int
	when, unless []condition
}

// condition holds when the value at ptr is one of vals.
type condition struct {
	ptr  string
	vals []any
}

// newDecider compiles a top-level case, its conditions in a fixed order.
func newDecider(tc fieldtable.TopCase) decider {
	d := decider{id: tc.ID}
	for _, part := range []struct {
		m   map[string][]any
		out *[]condition
	}{{tc.When, &d.when}, {tc.Unless, &d.unless}} {
		keys := make([]string, 0, len(part.m))
		for k := range part.m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			*part.out = append(*part.out, condition{ptr: k, vals: part.m[k]})
		}
	}
	return d
}

// holds reports whether the case holds for the payload v.
func (d decider) holds(v any) bool {
	if len(d.when) > 0 && !allHold(d.when, v) {
		return false
	}
	return len(d.unless) == 0 || !allHold(d.unless, v)
}

// allHold reports whether every condition holds for v.
func allHold(conds []condition, v any) bool {
	for _, c := range conds {
		x, ok := lookupPointer(v, c.ptr)
		if !ok || !oneOf(x, c.vals) {
			return false
		}
	}
	return true
}

// oneOf reports whether x equals one of vals as JSON values.
func oneOf(x any, vals []any) bool {
	if s, ok := x.(string); ok {
		for _, y := range vals {
			if t, ok := y.(string); ok && s == t {
				return true
			}
		}
		return false
	}
	for _, y := range vals {
		if jsonvalue.Equal(x, y) {
			return true
		}
	}
	return false
}

// Load makes the built-in catalog. Each product's document is read on
// first use; tests check that every one loads and compiles.
func Load() (*Catalog, error) {
	c := &Catalog{byName: map[string]*entry{}}
	entries, err := dataFS.ReadDir("data")
	if err != nil {
		return nil, fmt.Errorf("read embedded spec data: %w", err)
	}
	for _, e := range entries {
		file := e.Name()
		origin := path.Join("spec/data", file)
		var load func(data []byte) (*Product, error)
		switch {
		case strings.HasSuffix(file, ".asyncapi.yaml"):
			load = func(data []byte) (*Product, error) { return productFromAsyncAPI(origin, data, "") }
		case strings.HasSuffix(file, ".table.yaml"):
			load = func(data []byte) (*Product, error) { return productFromTable(origin, data) }
		default:
			continue
		}
		name, _, _ := strings.Cut(file, ".")
		if _, dup := c.byName[name]; dup {
			return nil, fmt.Errorf("%s: product %q is already defined", origin, name)
		}
		en := &entry{name: name, load: func() (*Product, error) {
			data, err := dataFS.ReadFile("data/" + file)
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", origin, err)
			}
			return load(data)
		}}
		c.entries = append(c.entries, en)
		c.byName[name] = en
	}
	rank := map[string]int{}
	for i, n := range productOrder {
		rank[n] = i + 1
	}
	sort.SliceStable(c.entries, func(i, j int) bool {
		ri, rj := rank[c.entries[i].name], rank[c.entries[j].name]
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

// Default returns the built-in catalog, made once.
func Default() (*Catalog, error) {
	defaultOnce.Do(func() { defaultCat, defaultErr = Load() })
	return defaultCat, defaultErr
}

// AddAsyncAPI loads a user's AsyncAPI 2.x document as one more product,
// compiled at once so that a bad document is reported here. The product
// is named by the document's x-kycsim-product extension, else by the file
// name without its extensions, unless name is given.
func (c *Catalog) AddAsyncAPI(file string, data []byte, name string) (*Product, error) {
	p, err := productFromAsyncAPI(file, data, name)
	if err != nil {
		return nil, err
	}
	if err := p.compileAll(); err != nil {
		return nil, err
	}
	en := &entry{name: p.Name, p: p}
	en.once.Do(func() {})
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, dup := c.byName[p.Name]; dup {
		// A user's document replaces a built-in product of the same name.
		for i, q := range c.entries {
			if q.name == p.Name {
				c.entries[i] = en
			}
		}
	} else {
		c.entries = append(c.entries, en)
	}
	c.byName[p.Name] = en
	return p, nil
}

// Products lists the products whose documents load, in the documents'
// order; CompileAll reports any other.
func (c *Catalog) Products() []*Product {
	c.mu.Lock()
	entries := append([]*entry(nil), c.entries...)
	c.mu.Unlock()
	out := make([]*Product, 0, len(entries))
	for _, e := range entries {
		if p, err := e.product(); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// Names lists the product names without loading any document.
func (c *Catalog) Names() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	names := make([]string, len(c.entries))
	for i, e := range c.entries {
		names[i] = e.name
	}
	return names
}

// Product returns a product by name, loading its document on first use.
func (c *Catalog) Product(name string) (*Product, error) {
	c.mu.Lock()
	e, ok := c.byName[name]
	c.mu.Unlock()
	if !ok {
		return nil, &UnknownError{What: "product", Name: name, Known: c.Names()}
	}
	return e.product()
}

// UnknownError reports an unknown product or message.
type UnknownError struct {
	What, Name string
	Known      []string
}

// Error implements error.
func (e *UnknownError) Error() string {
	return fmt.Sprintf("unknown %s %q%s (known: %s)", e.What, e.Name, editdistance.DidYouMean(e.Name, e.Known), strings.Join(e.Known, ", "))
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
		jsonFields: map[Level]map[string]bool{},
	}
	for _, m := range t.Messages {
		match := map[string]string{}
		for k, v := range m.Match {
			if !strings.HasPrefix(k, "/") {
				k = "/" + k
			}
			match[k] = v
		}
		p.Messages = append(p.Messages, Message{Name: m.Name, Summary: m.Summary, Match: match, BeyondSource: m.BeyondSource, Note: m.Note})
	}
	for _, lv := range Levels {
		jf := map[string]bool{}
		for name, f := range t.JSONFields(lv) {
			jf[name] = f.PlainString
		}
		p.jsonFields[lv] = jf
	}
	p.init()
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
	p.init()
	return p, nil
}

// init sets up what a product needs before its first use: the level
// states and, when one pointer tells every message, the index by its value.
func (p *Product) init() {
	p.levels = map[Level]*levelState{LevelVendor: {}, LevelStrict: {}}
	ptr := ""
	by := map[string]string{}
	for _, m := range p.Messages {
		if len(m.Match) != 1 {
			return
		}
		for k, v := range m.Match {
			if ptr != "" && k != ptr {
				return
			}
			ptr = k
			if _, dup := by[v]; !dup {
				by[v] = m.Name
			}
		}
	}
	if ptr != "" {
		p.detectPtr, p.detectBy = ptr, by
	}
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// at returns the product compiled at a level, compiling it on first use:
// what every message shares; each message's schema waits for its first
// payload.
func (p *Product) at(lv Level) (*compiled, error) {
	ls, ok := p.levels[lv]
	if !ok {
		return nil, fmt.Errorf("level %q is not vendor or strict", lv)
	}
	ls.once.Do(func() {
		if p.table != nil {
			ls.c, ls.err = p.compileTable(lv)
		} else {
			ls.c, ls.err = p.compileAsyncAPI(lv)
		}
		if ls.err != nil {
			ls.err = fmt.Errorf("compile %s (level %s): %w", p.Name, lv, ls.err)
		}
	})
	return ls.c, ls.err
}

// compileAll compiles every schema of the product at both levels with the
// full validator, which also checks each against the draft-07
// meta-schema, and reports the first problem.
func (p *Product) compileAll() error {
	for _, lv := range Levels {
		c, err := p.at(lv)
		if err != nil {
			return err
		}
		var units []*unit
		if c.doc != nil {
			for _, m := range p.Messages {
				units = append(units, c.messages[m.Name])
			}
		} else {
			for _, m := range append([]string{""}, p.MessageNames()...) {
				u, err := c.units[m].get()
				if err != nil {
					return fmt.Errorf("compile %s (level %s): message %q: %w", p.Name, lv, m, err)
				}
				units = append(units, u)
			}
		}
		for _, u := range units {
			if _, err := u.doc.schema(u.ptr); err != nil {
				return fmt.Errorf("compile %s (level %s): %w", p.Name, lv, err)
			}
		}
	}
	return nil
}

// CompileAll loads every product and compiles all its schemas with the
// full validator; tests use it to check kycsim's own contracts, which
// commands otherwise compile only as far as a payload needs.
func (c *Catalog) CompileAll() error {
	c.mu.Lock()
	entries := append([]*entry(nil), c.entries...)
	c.mu.Unlock()
	for _, e := range entries {
		p, err := e.product()
		if err != nil {
			return err
		}
		if err := p.compileAll(); err != nil {
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
	c := &compiled{
		level: lv, product: p,
		known:     map[string]bool{},
		undecided: map[string][]decider{},
		units:     map[string]*lazyUnit{},
	}
	c.variants.Store(&map[string]*unit{})
	for _, n := range p.table.TopFields(lv) {
		c.known[n] = true
	}
	for _, m := range p.table.Messages {
		for _, tc := range p.table.Undecided(m.Name, lv) {
			c.undecided[m.Name] = append(c.undecided[m.Name], newDecider(tc))
		}
	}
	for _, m := range append([]string{""}, p.MessageNames()...) {
		c.units[m] = &lazyUnit{build: func() (*unit, error) {
			gen, err := p.table.Compile(m, lv)
			if err != nil {
				return nil, err
			}
			// Keep the schema exactly as the full validator reads it
			// (JSON values), so that error rendering looks at the same thing.
			raw, err := jsonRoundTrip(gen)
			if err != nil {
				return nil, err
			}
			return newUnit(schemaURL(p.Name, lv, firstNonEmpty(m, "_envelope")), raw, ""), nil
		}}
	}
	if lv == LevelVendor {
		c.vendor = newDepartures(p.table)
	}
	return c, nil
}

func (p *Product) compileAsyncAPI(lv Level) (*compiled, error) {
	doc := p.doc.Raw
	if lv == LevelStrict {
		doc = p.doc.Strict()
	}
	c := &compiled{level: lv, product: p, messages: map[string]*unit{}}
	c.doc = &schemaDoc{url: schemaURL(p.Name, lv, "asyncapi"), raw: doc}
	for _, m := range p.doc.Messages {
		u := &unit{doc: c.doc, ptr: strings.TrimPrefix(m.Payload, "#")}
		if pc, err := precheck.Compile(doc, u.ptr, precheckFormats); err == nil {
			u.pre = pc
		}
		c.messages[m.Name] = u
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
	c, err := p.at(lv)
	if err != nil {
		return nil, err
	}
	m, err := p.Message(message)
	if err != nil {
		return nil, err
	}
	if c.doc == nil {
		u, err := c.units[m.Name].get()
		if err != nil {
			return nil, fmt.Errorf("compile %s (level %s): message %q: %w", p.Name, lv, m.Name, err)
		}
		return u.doc.raw, nil
	}
	for _, am := range p.doc.Messages {
		if am.Name != m.Name {
			continue
		}
		standalone, err := bundle(c.doc.raw, strings.TrimPrefix(am.Payload, "#"))
		if err != nil {
			return nil, fmt.Errorf("message %s: %w", am.Name, err)
		}
		standalone["$schema"] = fieldtable.Draft07
		standalone["title"] = p.Name + " " + am.Name
		if s := firstNonEmpty(am.Summary, am.Title); s != "" {
			if _, has := standalone["description"]; !has {
				standalone["description"] = s
			}
		}
		return standalone, nil
	}
	return nil, fmt.Errorf("%s has no message %q", p.Name, m.Name)
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
