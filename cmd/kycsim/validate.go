package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/kycsim/kycsim/spec"
)

const validateUsage = `validate (--product P | --asyncapi FILE [--product P]) [--message M] [--level vendor|strict]
                [--format text|json] [--content-type json|form|MEDIA-TYPE] [--http] FILE|- ...

Validates callback payloads (JSON or form-urlencoded, detected unless
--content-type says) against the vendor contract. The message is told from
the payload unless --message names it. With --http each input is a whole
HTTP/1.1 request (request line, headers, body), and the method and
Content-Type are checked too. With --asyncapi the payloads are validated
against your own AsyncAPI 2.x document, whose product is the default
--product.

Exit codes: 0 every payload is valid, 1 one is not, 2 usage error.`

func (m *Main) runValidate(ctx context.Context, args []string) error {
	fs := m.newFlagSet("validate", validateUsage)
	product := fs.String("product", "", "product: jumio-kyx, jumio-netverify, jumio-auth, jumio-docverify, sumsub (or the --asyncapi product)")
	message := fs.String("message", "", "validate as this message instead of telling it from the payload")
	level := fs.String("level", "vendor", "vendor (what the vendor really sends) or strict (exactly the documented shapes)")
	outFormat := fs.String("format", "text", "output: text or json (one JSON object per input, a line each)")
	contentType := fs.String("content-type", "", "json, form, or a media type; detected from the body when empty")
	asHTTP := fs.Bool("http", false, "each input is a raw HTTP request; check method and Content-Type too")
	asyncapiFile := fs.String("asyncapi", "", "an AsyncAPI 2.x document to validate against (adds a product, which --product then defaults to)")
	files, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return usageErrorf("no input: name a FILE, or - for standard input")
	}
	lv, err := spec.ParseLevel(*level)
	if err != nil {
		return usageErrorf("--level: %v", err)
	}
	if err := oneOf("format", *outFormat, "text", "json"); err != nil {
		return err
	}
	enc := ""
	switch *contentType {
	case "":
	case "json", "form":
		enc = *contentType
	default:
		if enc = spec.EncodingOf(*contentType); enc == "" {
			return usageErrorf("--content-type %q is neither JSON nor application/x-www-form-urlencoded", *contentType)
		}
	}
	cat, userProduct, err := loadCatalog(*asyncapiFile)
	if err != nil {
		return err
	}
	if *product == "" {
		*product = userProduct
	}
	if *product == "" {
		return usageErrorf("--product is required")
	}
	p, err := cat.Product(*product)
	if err != nil {
		return err
	}
	if *message != "" {
		if _, err := p.Message(*message); err != nil {
			return err
		}
	}
	opt := spec.Options{Level: lv, Message: *message, Encoding: enc}
	invalid := 0
	for _, name := range files {
		data, err := m.readInput(name)
		if err != nil {
			return usageErrorf("%v", err)
		}
		var res *spec.Result
		if *asHTTP {
			req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(data)))
			if err != nil {
				return usageErrorf("%s: not an HTTP request: %v", name, err)
			}
			res, _, err = p.CheckRequest(req.WithContext(ctx), opt)
			if err != nil {
				return usageErrorf("%s: %v", name, err)
			}
		} else if res, err = p.Validate(data, opt); err != nil {
			return err
		}
		if !res.Valid() {
			invalid++
		}
		if err := m.printResult(name, res, *outFormat); err != nil {
			return err
		}
	}
	if invalid > 0 {
		return &failedError{what: fmt.Sprintf("%d of %d payloads invalid", invalid, len(files))}
	}
	return nil
}

func displayName(name string) string {
	if name == "-" {
		return "(stdin)"
	}
	return name
}

func (m *Main) printResult(name string, r *spec.Result, outFormat string) error {
	if outFormat == "json" {
		out := struct {
			File  string `json:"file"`
			Valid bool   `json:"valid"`
			*spec.Result
		}{displayName(name), r.Valid(), r}
		b, err := json.Marshal(out)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(m.Stdout, "%s\n", b)
		return err
	}
	what := r.Product
	if r.Message != "" {
		what += " " + r.Message
	}
	if r.Valid() {
		fmt.Fprintf(m.Stdout, "%s: valid %s (level %s)\n", displayName(name), what, r.Level)
	} else {
		s := "s"
		if len(r.Violations) == 1 {
			s = ""
		}
		fmt.Fprintf(m.Stdout, "%s: invalid %s (level %s): %d violation%s\n", displayName(name), what, r.Level, len(r.Violations), s)
		for _, v := range r.Violations {
			fmt.Fprintf(m.Stdout, "  %s\n", v)
		}
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(m.Stdout, "  warning: %s\n", w)
	}
	return nil
}
