package fieldtable

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/kycsim/kycsim/spec/asyncapi"
)

// TestMain shortens the minimization of new interesting fuzz inputs
// unless -fuzzminimizetime is given. The seeds include the real tables
// (up to 20 KB); with the default of 60s a worker spends a whole short
// -fuzztime run minimizing one mutated table, at milliseconds per run under
// coverage instrumentation, and reports almost no execs.
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) {
		if f.Name == "test.fuzzminimizetime" {
			set = true
		}
	})
	if f := flag.Lookup("test.fuzzminimizetime"); f != nil && !set {
		if err := f.Value.Set("2s"); err != nil {
			panic(err)
		}
	}
	os.Exit(m.Run())
}

// addFileSeeds adds the content of every file matching each pattern.
func addFileSeeds(f *testing.F, patterns ...string) int {
	n := 0
	for _, pattern := range patterns {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
			n++
		}
	}
	return n
}

// FuzzLoad: Load never panics, its errors are named; a table it accepts
// compiles, for the envelope and every message at both levels, without
// panic or error into schemas json.Marshal accepts.
func FuzzLoad(f *testing.F) {
	if addFileSeeds(f, filepath.Join("..", "data", "*.table.yaml"), filepath.Join("testdata", "errors", "*.yaml")) == 0 {
		f.Fatal("no seeds")
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tb, err := Load("fuzz.yaml", data, knowsAllFormats)
		if err != nil {
			if tb != nil {
				t.Errorf("Load returned a table with error %v", err)
			}
			if !strings.HasPrefix(err.Error(), "fuzz.yaml:") {
				t.Errorf("error %q does not start with the file name", err)
			}
			return
		}
		for _, level := range []Level{LevelStrict, LevelVendor} {
			for _, m := range append([]string{""}, messageNames(tb)...) {
				s, err := tb.Compile(m, level)
				if err != nil {
					t.Fatalf("Compile(%q, %s) of a loaded table: %v", m, level, err)
				}
				if s == nil {
					t.Fatalf("Compile(%q, %s) returned no schema", m, level)
				}
				if _, err := json.Marshal(s); err != nil {
					t.Fatalf("json.Marshal(Compile(%q, %s)): %v", m, level, err)
				}
				if _, err := realSchema(s); err != nil {
					if why := knownInvalid(tb.Fields); why != "" {
						t.Skipf("%s: %v", why, err)
					}
					t.Fatalf("Compile(%q, %s) is not a draft-07 schema: %v\n%s", m, level, err, jsonText(t, s))
				}
			}
		}
	})
}

// knownInvalid says why rows may compile to a schema draft-07 refuses
// without a new bug: a free-form schema (the table's own responsibility).
func knownInvalid(fields []Field) string {
	for _, f := range fields {
		if f.Schema != nil {
			return "free-form schema"
		}
		for _, cs := range f.Cases {
			if cs.Schema != nil {
				return "free-form schema"
			}
		}
		if why := knownInvalid(f.Fields); why != "" {
			return why
		}
		if f.Items != nil {
			if why := knownInvalid([]Field{*f.Items}); why != "" {
				return why
			}
		}
	}
	return ""
}

// realTableSchemas holds, for each real table, its compiled envelope and
// messages at both levels.
type realTableSchemas struct {
	name     string
	table    *Table
	envelope map[Level]*jsonschema.Schema
	messages map[Level][]*jsonschema.Schema
}

var (
	realSchemasOnce sync.Once
	realSchemasList []realTableSchemas
	realSchemasErr  error
)

func loadRealSchemas() ([]realTableSchemas, error) {
	realSchemasOnce.Do(func() {
		for _, name := range realTables {
			data, err := os.ReadFile(filepath.Join("..", "data", name))
			if err != nil {
				realSchemasErr = err
				return
			}
			tb, err := Load(name, data, knowsAllFormats)
			if err != nil {
				realSchemasErr = err
				return
			}
			r := realTableSchemas{name: name, table: tb, envelope: map[Level]*jsonschema.Schema{}, messages: map[Level][]*jsonschema.Schema{}}
			for _, level := range []Level{LevelStrict, LevelVendor} {
				for _, m := range append([]string{""}, messageNames(tb)...) {
					s, err := tb.Compile(m, level)
					if err != nil {
						realSchemasErr = err
						return
					}
					sch, err := realSchema(s)
					if err != nil {
						realSchemasErr = err
						return
					}
					if m == "" {
						r.envelope[level] = sch
					} else {
						r.messages[level] = append(r.messages[level], sch)
					}
				}
			}
			realSchemasList = append(realSchemasList, r)
		}
	})
	return realSchemasList, realSchemasErr
}

// setPointer sets the value at a JSON pointer of obj, making objects on
// the way.
func setPointer(obj map[string]any, ptr string, v any) {
	toks := strings.Split(strings.TrimPrefix(ptr, "/"), "/")
	for _, tok := range toks[:len(toks)-1] {
		next, ok := obj[tok].(map[string]any)
		if !ok {
			next = map[string]any{}
			obj[tok] = next
		}
		obj = next
	}
	obj[toks[len(toks)-1]] = v
}

// decodedSample reads a sample body as the schemas see it: JSON as is, a
// form with its JSON-in-form fields decoded.
func decodedSample(tb *Table, file string) ([]byte, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	if tb.Encoding != EncodingForm {
		return data, nil
	}
	q, err := url.ParseQuery(strings.TrimSpace(string(data)))
	if err != nil {
		return nil, err
	}
	obj := map[string]any{}
	jsonFields := tb.JSONFields(LevelVendor)
	for k, vs := range q {
		obj[k] = vs[0]
		if _, ok := jsonFields[k]; ok {
			var v any
			if json.Unmarshal([]byte(vs[0]), &v) == nil {
				obj[k] = v
			}
		}
	}
	return json.Marshal(obj)
}

// FuzzCompileValidate: for a payload made to match a message of a real
// table (its match values set at their pointers), the envelope, which
// checks every condition at validation time, and the message's schema,
// which decides the conditions the match fixes at compile time, must give
// the same verdict, at both levels.
func FuzzCompileValidate(f *testing.F) {
	tables, err := loadRealSchemas()
	if err != nil {
		f.Fatal(err)
	}
	for ti, r := range tables {
		dir := filepath.Join("..", "testdata", "samples", strings.TrimSuffix(r.name, ".table.yaml"))
		files, _ := filepath.Glob(filepath.Join(dir, "*"))
		for _, file := range files {
			payload, err := decodedSample(r.table, file)
			if err != nil {
				f.Fatalf("%s: %v", file, err)
			}
			for mi := range r.table.Messages {
				f.Add(uint8(ti), uint8(mi), payload)
			}
		}
		f.Add(uint8(ti), uint8(0), []byte(`{}`))
	}
	f.Fuzz(func(t *testing.T, ti, mi uint8, payload []byte) {
		r := tables[int(ti)%len(tables)]
		m := r.table.Messages[int(mi)%len(r.table.Messages)]
		dec := json.NewDecoder(bytes.NewReader(payload))
		dec.UseNumber()
		var obj map[string]any
		if dec.Decode(&obj) != nil || obj == nil {
			return
		}
		for k, v := range m.Match {
			setPointer(obj, pointerOf(k), v)
		}
		// Round trip so that the instance holds only JSON values.
		b, err := json.Marshal(obj)
		if err != nil {
			return
		}
		dec = json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var inst any
		if err := dec.Decode(&inst); err != nil {
			t.Fatal(err)
		}
		for _, level := range []Level{LevelStrict, LevelVendor} {
			envErr := r.envelope[level].Validate(inst)
			msgErr := r.messages[level][int(mi)%len(r.table.Messages)].Validate(inst)
			if (envErr == nil) != (msgErr == nil) {
				t.Errorf("%s %s %s: envelope says %v, message says %v\ninstance: %s", r.table.Product, m.Name, level, envErr, msgErr, b)
			}
			dec, err := decidedSchema(r.table, m.Name, level, inst)
			if err != nil {
				t.Fatalf("%s %s %s: %v", r.table.Product, m.Name, level, err)
			}
			if decErr := dec.Validate(inst); (decErr == nil) != (msgErr == nil) {
				t.Errorf("%s %s %s: message says %v, CompileDecided says %v\ninstance: %s", r.table.Product, m.Name, level, msgErr, decErr, b)
			}
		}
	})
}

// decidedCache holds compiled CompileDecided schemas by product, message,
// level and truth vector.
var decidedCache sync.Map

// decidedSchema is the schema the spec catalog validates with: the
// message's undecided top-level cases decided by Holds on the payload.
func decidedSchema(tb *Table, message string, level Level, inst any) (*jsonschema.Schema, error) {
	cases := tb.Undecided(message, level)
	decided := make(map[int]bool, len(cases))
	key := []byte(tb.Product + "|" + message + "|" + string(level) + "|")
	for _, tc := range cases {
		h := tc.Holds(func(ptr string) (any, bool) { return asyncapi.Lookup(inst, ptr) })
		decided[tc.ID] = h
		if h {
			key = append(key, '1')
		} else {
			key = append(key, '0')
		}
	}
	if s, ok := decidedCache.Load(string(key)); ok {
		return s.(*jsonschema.Schema), nil
	}
	gen, err := tb.CompileDecided(message, level, decided)
	if err != nil {
		return nil, err
	}
	s, err := realSchema(gen)
	if err != nil {
		return nil, err
	}
	decidedCache.Store(string(key), s)
	return s, nil
}
