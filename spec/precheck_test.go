package spec

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// precheckDisagreement validates a body's decoded value against every
// schema of the product (each message, the envelope, the decided variant)
// with both the precheck and the full validator, and describes the first
// schema where they disagree ("" when none).
func precheckDisagreement(t testing.TB, p *Product, body []byte) string {
	t.Helper()
	for _, lv := range Levels {
		pl, vs := p.Decode(body, "", lv)
		if pl == nil || len(vs) > 0 {
			continue
		}
		c := p.compiled[lv]
		schemas := map[string]*jsonschema.Schema{"(envelope)": c.envelope}
		for name, s := range c.messages {
			schemas[name] = s
			if p.table != nil {
				schemas[name+" (decided)"] = c.variant(name, pl.Value)
			}
		}
		for name, s := range schemas {
			if s == nil {
				continue
			}
			pc := c.precheck(s)
			if pc == nil {
				return p.Name + " " + name + " at " + string(lv) + ": no precheck"
			}
			quick, full := pc.Valid(pl.Value), s.Validate(pl.Value) == nil
			if quick != full {
				return p.Name + " " + name + " at " + string(lv) + ": precheck says valid=" + boolString(quick) + ", the full validator " + boolString(full)
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
