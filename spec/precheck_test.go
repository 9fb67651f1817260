package spec

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/kycsim/kycsim/spec/format"
)

// precheckDisagreement validates a body's decoded value against every
// schema of the product (each message, the envelope, the decided variant)
// with both the precheck and the full validator, and describes the first
// schema where they disagree ("" when none). For an invalid value, each
// place the precheck locates must fail the full validator too.
func precheckDisagreement(t testing.TB, p *Product, body []byte) string {
	t.Helper()
	for _, lv := range Levels {
		pl, vs := p.Decode(body, "", lv)
		if pl == nil || len(vs) > 0 {
			continue
		}
		c, err := p.at(lv)
		if err != nil {
			return err.Error()
		}
		units := map[string]*unit{}
		if c.doc != nil {
			for name, u := range c.messages {
				units[name] = u
			}
		} else {
			for name, lu := range c.units {
				u, err := lu.get()
				if err != nil {
					return err.Error()
				}
				if name == "" {
					units["(envelope)"] = u
					continue
				}
				units[name] = u
				if units[name+" (decided)"], err = c.unitFor(name, pl.Value); err != nil {
					return err.Error()
				}
			}
		}
		for name, u := range units {
			where := p.Name + " " + name + " at " + string(lv)
			if u.pre == nil {
				return where + ": no precheck"
			}
			s, err := u.doc.schema(u.ptr)
			if err != nil {
				return where + ": " + err.Error()
			}
			quick, full := u.pre.Valid(pl.Value), s.Validate(pl.Value) == nil
			if quick != full {
				return where + ": precheck says valid=" + boolString(quick) + ", the full validator " + boolString(full)
			}
			if quick {
				continue
			}
			for _, place := range u.pre.Locate(pl.Value) {
				fs, err := u.doc.schema(place.Schema)
				if err != nil {
					return where + ": place " + place.Schema + ": " + err.Error()
				}
				part, ok := lookupPointer(pl.Value, place.Instance)
				if !ok || fs.Validate(part) == nil {
					return where + ": the precheck locates a failure at " + place.Schema + " for " + place.Instance + ", the full validator finds none there"
				}
			}
		}
	}
	return ""
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// TestPrecheckAgrees runs every sample and mutation through the precheck
// and the full validator of every product and message: the precheck lets
// valid payloads skip the full validator, so they must agree exactly.
func TestPrecheckAgrees(t *testing.T) {
	c := mustCatalog(t)
	files, _ := filepath.Glob("testdata/samples/*/*")
	more, _ := filepath.Glob("testdata/mutations/*.in")
	files = append(files, more...)
	if len(files) < 90 {
		t.Fatalf("only %d inputs", len(files))
	}
	valid := 0
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range c.Products() {
			if d := precheckDisagreement(t, p, body); d != "" {
				t.Errorf("%s: %s", f, d)
			}
			if res, err := p.Validate(body, Options{}); err == nil && res.Valid() {
				valid++
			}
		}
	}
	if valid < 30 {
		t.Errorf("only %d (input, product) pairs valid: the agreement check saw too few valid payloads", valid)
	}
}

// FuzzPlainURIShortcut checks the precheck's shortcut for the "uri"
// format: every plain URL it takes without parsing, the full validator's
// "uri" format takes.
func FuzzPlainURIShortcut(f *testing.F) {
	for _, s := range []string{"https://retrieval.amer-1.jumio.ai/api/v1/accounts/x", "http://h:1/", "http://h/%zz", "HTTP://a.b#c", "https://h?q=1&r=%20"} {
		f.Add(s)
	}
	uri := precheckFormats("uri")
	full := jsonschema.Formats["uri"]
	f.Fuzz(func(t *testing.T, s string) {
		if format.IsPlainURL(s) && !full(s) {
			t.Fatalf("IsPlainURL(%q) is true, the full validator's uri format refuses it", s)
		}
		if uri(s) != full(s) {
			t.Fatalf("precheck uri(%q) = %v, full validator %v", s, uri(s), full(s))
		}
	})
}
