package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/kycsim/kycsim/scenarios"
	"github.com/kycsim/kycsim/spec"
)

func (m *Main) runScenarios(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "schema" {
		return m.runScenariosSchema(args[1:])
	}
	fs := m.newFlagSet("scenarios", "scenarios [--tag T] [--product P] [--format text|json] | scenarios schema")
	tag := fs.String("tag", "", "only scenarios with this tag")
	product := fs.String("product", "", "only scenarios of this product")
	formatName := fs.String("format", "text", "text or json")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErrorf("unexpected argument %q", pos[0])
	}
	if err := oneOf("format", *formatName, "text", "json"); err != nil {
		return err
	}
	cat, err := spec.Default()
	if err != nil {
		return err
	}
	if *product != "" {
		if _, err := cat.Product(*product); err != nil {
			return err
		}
	}
	lib, err := scenarios.Library(cat)
	if err != nil {
		return err
	}
	type entry struct {
		Name        string   `json:"name"`
		Product     string   `json:"product"`
		Tags        []string `json:"tags"`
		Description string   `json:"description"`
	}
	if *tag != "" {
		if err := checkTags(selection{tags: []string{*tag}}, lib); err != nil {
			return err
		}
	}
	var list []entry
	for _, sc := range lib {
		if (*tag != "" && !sc.HasTag(*tag)) || (*product != "" && sc.Product != *product) {
			continue
		}
		list = append(list, entry{sc.Name, sc.Product, append([]string{}, sc.Tags...), sc.Description})
	}
	if *formatName == "json" {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		if list == nil {
			list = []entry{}
		}
		return enc.Encode(list)
	}
	width := 0
	for _, e := range list {
		width = max(width, len(e.Name))
	}
	for _, e := range list {
		fmt.Fprintf(m.Stdout, "%-*s  %s\n%-*s  [%s]\n", width, e.Name, e.Description, width, "", strings.Join(e.Tags, ", "))
	}
	if len(list) == 0 {
		fmt.Fprintln(m.Stdout, "no scenario matches")
	}
	return nil
}

// runScenariosSchema prints the scenario language's JSON Schema, with the
// catalog's products, messages and statuses spliced in, for editors (the
// YAML language server) and other tools.
func (m *Main) runScenariosSchema(args []string) error {
	fs := m.newFlagSet("scenarios schema", "scenarios schema")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErrorf("unexpected argument %q", pos[0])
	}
	cat, err := spec.Default()
	if err != nil {
		return err
	}
	schema, err := scenarios.Schema(cat)
	if err != nil {
		return err
	}
	_, err = m.Stdout.Write(schema)
	return err
}
