package fieldtable

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestSchemaDescribesEveryKey: every key of table.schema.json has a
// description and a type (or a reference), and the keys of each kind of
// mapping are exactly the JSON names of the Go struct it decodes into,
// so the schema and the structs cannot drift apart.
func TestSchemaDescribesEveryKey(t *testing.T) {
	var s map[string]any
	if err := json.Unmarshal(Schema(), &s); err != nil {
		t.Fatal(err)
	}
	defs := s["definitions"].(map[string]any)
	props := func(m any) map[string]any { return m.(map[string]any)["properties"].(map[string]any) }
	rootProps := props(s)
	for _, tt := range []struct {
		what  string
		props map[string]any
		typ   any
	}{
		{"table", rootProps, Table{}},
		{"table vendor", props(rootProps["vendor"]), TableOverride{}},
		{"message", props(defs["message"]), Message{}},
		{"row", props(defs["row"]), Field{}},
		{"pairs", props(props(defs["row"])["pairs"]), Pairs{}},
		{"case", props(defs["case"]), Case{}},
		{"vendor override", props(defs["override"]), Override{}},
	} {
		var want []string
		rt := reflect.TypeOf(tt.typ)
		for i := range rt.NumField() {
			if tag := strings.Split(rt.Field(i).Tag.Get("json"), ",")[0]; tag != "" && tag != "-" {
				want = append(want, tag)
			}
		}
		var got []string
		for k, v := range tt.props {
			got = append(got, k)
			p := v.(map[string]any)
			if d, _ := p["description"].(string); d == "" {
				t.Errorf("%s: key %q has no description", tt.what, k)
			}
			if p["type"] == nil && p["$ref"] == nil {
				t.Errorf("%s: key %q has no type", tt.what, k)
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: schema keys %v, struct %s decodes %v", tt.what, got, rt.Name(), want)
		}
	}
}

// TestRealTablesNameTheSchema: every table of the catalog names the
// schema on its first line, so an editor with the YAML language server
// completes and checks it.
func TestRealTablesNameTheSchema(t *testing.T) {
	const want = "# yaml-language-server: $schema=../fieldtable/table.schema.json\n"
	for _, name := range realTables {
		data, err := os.ReadFile(filepath.Join("..", "data", name))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(data), want) {
			t.Errorf("%s does not start with %q", name, want)
		}
	}
}
