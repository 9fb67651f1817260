package scenarios

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/kycsim/kycsim/internal/yamldoc"
	"github.com/kycsim/kycsim/spec"
)

// SchemaURL is where the scenario language's schema is published; a
// scenario names it on its first line for editors (the YAML language
// server) to complete and check it:
//
//	# yaml-language-server: $schema=https://raw.githubusercontent.com/kycsim/kycsim/main/scenarios/scenario.schema.json
const SchemaURL = "https://raw.githubusercontent.com/kycsim/kycsim/main/scenarios/scenario.schema.json"

// schemaJSON is the scenario language as a JSON Schema (draft-07): every
// key, type, enum and default, with descriptions. The catalog's products,
// messages and statuses are spliced in by Schema; a test keeps this
// committed copy equal to Schema's output.
//
//go:embed scenario.schema.json
var schemaJSON []byte

// catalogList is a list the catalog holds, marked in the schema by
// "x-catalog": NAME just before it.
var catalogList = regexp.MustCompile(`("x-catalog": "([^"]+)",\s*"(?:enum|examples)": )\[[^\]]*\]`)

// Schema returns the scenario language's JSON Schema with the catalog's
// lists spliced in: products, messages (all products'), and the enums of
// fields the vendor-state and send keys set ("sumsub:reviewStatus"). It
// is what `kycsim scenarios schema` prints.
func Schema(cat *spec.Catalog) ([]byte, error) {
	var bad error
	out := catalogList.ReplaceAllFunc(schemaJSON, func(m []byte) []byte {
		sub := catalogList.FindSubmatch(m)
		list, err := catalogValues(cat, string(sub[2]))
		if err != nil && bad == nil {
			bad = err
		}
		b, _ := json.Marshal(list)
		return append(append([]byte{}, sub[1]...), strings.ReplaceAll(string(b), `","`, `", "`)...)
	})
	return out, bad
}

// catalogValues returns a list the catalog holds: "products", "messages",
// or "PRODUCT:field.path" for the enum of a field of the product's
// messages (the union over them, in the catalog's order).
func catalogValues(cat *spec.Catalog, name string) ([]string, error) {
	out := []string{}
	switch name {
	case "products":
		return cat.Names(), nil
	case "messages":
		for _, p := range cat.Products() {
			for _, m := range p.MessageNames() {
				if !slices.Contains(out, m) {
					out = append(out, m)
				}
			}
		}
		return out, nil
	}
	product, path, ok := strings.Cut(name, ":")
	p, err := cat.Product(product)
	if !ok || err != nil {
		return nil, fmt.Errorf("scenario schema: x-catalog %q names no product field", name)
	}
	for _, msg := range p.MessageNames() {
		s, err := p.Schema(msg, spec.LevelStrict)
		if err != nil {
			return nil, err
		}
		var v any = s
		for _, tok := range strings.Split(path, ".") {
			props, _ := v.(map[string]any)["properties"].(map[string]any)
			v = props[tok]
		}
		enum, _ := v.(map[string]any)["enum"].([]any)
		for _, e := range enum {
			if s, ok := e.(string); ok && !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("scenario schema: x-catalog %q: no message of %s has an enum there", name, product)
	}
	return out, nil
}

// embeddedSchema is the embedded schema, compiled at its first use.
var embeddedSchema = &yamldoc.Embedded{URL: SchemaURL, Data: schemaJSON}

// compiledSchema is the embedded schema, compiled.
func compiledSchema() (*yamldoc.Schema, error) { return embeddedSchema.Schema() }
