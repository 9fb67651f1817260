package fieldtable

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

func probeCompile(s map[string]any) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft7
	if err := c.AddResource("x.json", bytes.NewReader(b)); err != nil {
		return err
	}
	_, err = c.Compile("x.json")
	return err
}

func TestZZProbe(t *testing.T) {
	for i, src := range []string{`
product: p
encoding: json
messages:
  - {name: A, match: {kind: a}}
fields:
  - {name: kind, required: true, enum: [a, b]}
  - name: w
    cases:
      - {when: {}, unless: {kind: [b]}, required: true}
`, `
product: p
encoding: json
messages:
  - {name: A, match: {kind: a}}
fields:
  - {name: kind, required: true, enum: [a, b]}
  - name: w
    cases:
      - {when: {kind: [a]}, enum: [x, y], schema: {maxLength: 1}}
`, `
product: p
encoding: json
messages:
  - {name: A, match: {kind: a}}
fields:
  - {name: kind, required: true, enum: [a, b]}
  - {name: other}
  - name: w
    cases:
      - {when: {kind: [a]}, enum: [x, y]}
      - {when: {kind: [a]}, enum: [y, z]}
`} {
		tb, err := Load("p.yaml", []byte(src), nil)
		fmt.Println(i, "load:", err)
		if err != nil {
			continue
		}
		for _, m := range []string{"", "A"} {
			s, err := tb.Compile(m, LevelStrict)
			b, _ := json.Marshal(s)
			fmt.Println(i, m, err, string(b))
			fmt.Println("   jsonschema:", probeCompile(s))
		}
	}
}
