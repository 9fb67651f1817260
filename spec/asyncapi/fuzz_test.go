package asyncapi

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// FuzzLoad checks that Load never panics and that what it returns holds
// together: every payload pointer resolves, Strict and JSON encoding work,
// and loading is deterministic.
func FuzzLoad(f *testing.F) {
	seeds := []string{
		"jumio-kyx.asyncapi.yaml", "jumio-kyx.asyncapi.json",
		"seed-kyx.asyncapi.yaml", "seed-kyx.asyncapi.json",
	}
	errs, err := filepath.Glob(filepath.Join("testdata", "errors", "*.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range errs {
		seeds = append(seeds, strings.TrimPrefix(e, "testdata"+string(filepath.Separator)))
	}
	for _, s := range seeds {
		b, err := os.ReadFile(filepath.Join("testdata", s))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(head + "channels: {c: {subscribe: {message: {oneOf: [{name: a, payload: {properties: {t: {const: x}}}}, {$ref: '#/components/messages/B'}]}}}}\ncomponents: {messages: {B: {payload: {allOf: [{properties: {t: {const: y}}}]}}}}\n"))
	f.Add([]byte(head + "x-b: &b {name: a, payload: {}}\nchannels: {c: {publish: {message: {<<: *b}}}}\n"))

	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Load("fuzz.yaml", data)
		if err != nil {
			if d != nil {
				t.Error("Load returned a document with its error")
			}
			if !strings.HasPrefix(err.Error(), "fuzz.yaml:") {
				t.Errorf("error does not name the document: %v", err)
			}
			if _, err2 := Load("fuzz.yaml", data); err2 == nil || err2.Error() != err.Error() {
				t.Errorf("second Load gave %v, first %v", err2, err)
			}
			return
		}
		if len(d.Messages) == 0 {
			t.Error("Load succeeded without messages")
		}
		names := map[string]bool{}
		for _, m := range d.Messages {
			if !strings.HasPrefix(m.Payload, "#/") {
				t.Errorf("message %q: payload %q is not a #/ pointer", m.Name, m.Payload)
			}
			if _, ok := d.Get(strings.TrimPrefix(m.Payload, "#")); !ok {
				t.Errorf("message %q: payload %q does not resolve", m.Name, m.Payload)
			}
			if names[m.Name] {
				t.Errorf("two messages called %q", m.Name)
			}
			names[m.Name] = true
			if m.Method == "" || m.Method != strings.ToUpper(m.Method) {
				t.Errorf("message %q: method %q", m.Name, m.Method)
			}
			if m.ContentType == "" {
				t.Errorf("message %q: no content type", m.Name)
			}
			if d.Discriminator != "" && m.Name != m.Const {
				t.Errorf("message %q: const %q under discriminator %s", m.Name, m.Const, d.Discriminator)
			}
		}
		before, err := json.Marshal(d.Raw)
		if err != nil {
			t.Fatalf("json.Marshal(Raw): %v", err)
		}
		s := d.Strict()
		if _, err := json.Marshal(s); err != nil {
			t.Errorf("json.Marshal(Strict()): %v", err)
		}
		after, _ := json.Marshal(d.Raw)
		if string(before) != string(after) {
			t.Error("Strict mutated Raw")
		}
		// Raw round-trips through JSON: loading its JSON text gives the same
		// document.
		d2, err := Load("fuzz.yaml", before)
		if err != nil {
			t.Fatalf("the JSON form of Raw does not load: %v\n%s", err, before)
		}
		if !reflect.DeepEqual(d.Raw, d2.Raw) || !reflect.DeepEqual(d.Messages, d2.Messages) ||
			d.Discriminator != d2.Discriminator || !reflect.DeepEqual(d.Servers, d2.Servers) {
			t.Errorf("the JSON form of Raw loads differently\nfirst  %s\nsecond %s", mustJSON(t, d.Messages), mustJSON(t, d2.Messages))
		}
	})
}
