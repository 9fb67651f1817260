package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/kycsim/kycsim/spec"
)

const specUsage = `spec list [--format text|json] [--asyncapi FILE]
       kycsim spec schema PRODUCT MESSAGE [--level vendor|strict] [--asyncapi FILE]
       kycsim spec export DIR [--level vendor|strict] [--asyncapi FILE]

list    the products and their messages
schema  the compiled draft-07 JSON Schema of one message
export  DIR/PRODUCT/MESSAGE.schema.json for every message, and
        DIR/PRODUCT.openapi.json, an OpenAPI 3.1 document whose webhooks
        describe the product's callbacks`

func (m *Main) runSpec(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usageErrorf("spec needs a subcommand: list, schema or export")
	}
	sub, args := args[0], args[1:]
	fs := m.newFlagSet("spec", specUsage)
	level := fs.String("level", "vendor", "vendor or strict")
	outFormat := fs.String("format", "text", "list output: text or json")
	asyncapiFile := fs.String("asyncapi", "", "an AsyncAPI 2.x document to add as a product")
	if sub == "-h" || sub == "--help" || sub == "help" {
		fs.Usage()
		return nil
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	lv, err := spec.ParseLevel(*level)
	if err != nil {
		return usageErrorf("--level: %v", err)
	}
	cat, _, err := loadCatalog(*asyncapiFile)
	if err != nil {
		return err
	}
	switch sub {
	case "list":
		if len(pos) != 0 {
			return usageErrorf("spec list takes no arguments")
		}
		if err := oneOf("format", *outFormat, "text", "json"); err != nil {
			return err
		}
		return m.specList(cat, *outFormat)
	case "schema":
		if len(pos) != 2 {
			return usageErrorf("spec schema needs PRODUCT and MESSAGE")
		}
		p, err := cat.Product(pos[0])
		if err != nil {
			return err
		}
		s, err := p.Schema(pos[1], lv)
		if err != nil {
			return err
		}
		return writeJSON(m.Stdout, s)
	case "export":
		if len(pos) != 1 {
			return usageErrorf("spec export needs a DIR")
		}
		return m.specExport(cat, pos[0], lv)
	}
	return usageErrorf("unknown spec subcommand %q (list, schema, export)", sub)
}

func (m *Main) specList(cat *spec.Catalog, outFormat string) error {
	if outFormat == "json" {
		type msg struct {
			Name         string            `json:"name"`
			Summary      string            `json:"summary"`
			Match        map[string]string `json:"match,omitempty"`
			BeyondSource bool              `json:"beyondSource,omitempty"`
			Note         string            `json:"note,omitempty"`
		}
		type prod struct {
			Name        string   `json:"name"`
			Title       string   `json:"title"`
			ContentType string   `json:"contentType"`
			Kind        string   `json:"kind"`
			Origin      string   `json:"origin"`
			JSONFields  []string `json:"jsonFields,omitempty"`
			Messages    []msg    `json:"messages"`
		}
		var out []prod
		for _, p := range cat.Products() {
			pr := prod{Name: p.Name, Title: p.Title, ContentType: p.ContentType, Kind: p.Kind, Origin: p.Origin, JSONFields: p.JSONFields()}
			for _, mm := range p.Messages {
				pr.Messages = append(pr.Messages, msg{mm.Name, mm.Summary, mm.Match, mm.BeyondSource, mm.Note})
			}
			out = append(out, pr)
		}
		return writeJSON(m.Stdout, out)
	}
	w := m.Stdout
	for i, p := range cat.Products() {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s  %s\n", p.Name, p.Title)
		fmt.Fprintf(w, "  %s %s, from %s (%s)\n", p.Method, p.ContentType, p.Origin, p.Kind)
		if jf := p.JSONFields(); len(jf) > 0 {
			fmt.Fprintf(w, "  JSON-in-form fields: %s\n", strings.Join(jf, ", "))
		}
		width := 0
		for _, mm := range p.Messages {
			width = max(width, len(mm.Name))
		}
		beyond := false
		for _, mm := range p.Messages {
			mark := " "
			if mm.BeyondSource {
				mark, beyond = "+", true
			}
			fmt.Fprintf(w, "  %s %-*s  %s\n", mark, width, mm.Name, mm.Summary)
		}
		if beyond {
			fmt.Fprintf(w, "  + not in the source document; the vendor documents it elsewhere\n")
		}
	}
	return nil
}

func (m *Main) specExport(cat *spec.Catalog, dir string, lv spec.Level) error {
	if dir == "" {
		return usageErrorf("spec export needs a DIR, not an empty name")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return usageErrorf("spec export %s: %v", dir, errors.Unwrap(err))
	}
	n := 0
	for _, p := range cat.Products() {
		pdir := filepath.Join(dir, p.Name)
		if err := os.MkdirAll(pdir, 0o755); err != nil {
			return usageErrorf("spec export %s: %v", dir, err)
		}
		for _, mm := range p.Messages {
			s, err := p.Schema(mm.Name, lv)
			if err != nil {
				return err
			}
			if err := writeJSONFile(filepath.Join(pdir, mm.Name+".schema.json"), s); err != nil {
				return err
			}
			n++
		}
		doc, err := p.OpenAPI(lv)
		if err != nil {
			return err
		}
		if err := writeJSONFile(filepath.Join(dir, p.Name+".openapi.json"), doc); err != nil {
			return err
		}
		n++
	}
	fmt.Fprintf(m.Stdout, "wrote %d files under %s (level %s)\n", n, dir, lv)
	return nil
}

func writeJSON(w interface{ Write([]byte) (int, error) }, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

func writeJSONFile(name string, v any) error {
	f, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := writeJSON(f, v); err != nil {
		f.Close()
		return fmt.Errorf("export %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("export %s: %w", name, err)
	}
	return nil
}
