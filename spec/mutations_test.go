package spec

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// mutationCase is one testdata/mutations/NNN-name.in file: "# key=value"
// header lines (product, level, message), then the body as sent.
type mutationCase struct {
	product, level, message string
	body                    []byte
}

func readMutation(t *testing.T, name string) mutationCase {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var mc mutationCase
	for bytes.HasPrefix(data, []byte("#")) {
		line, rest, _ := bytes.Cut(data, []byte("\n"))
		for _, kv := range strings.Fields(strings.TrimPrefix(string(line), "#")) {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				continue
			}
			switch k {
			case "product":
				mc.product = v
			case "level":
				mc.level = v
			case "message":
				mc.message = v
			}
		}
		data = rest
	}
	mc.body = data
	return mc
}

// renderResult is the text the golden files hold.
func renderResult(r *Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "message: %s\nvalid: %v\n", r.Message, r.Valid())
	for _, v := range r.Violations {
		fmt.Fprintf(&b, "violation: %s\n", v)
		fmt.Fprintf(&b, "  rule=%s found=%s expected=%s\n", v.Rule, v.Found, v.Expected)
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	return b.String()
}

// TestMutations checks one mutated document example per rule class (and a
// few valid variants) against its golden rendering.
func TestMutations(t *testing.T) {
	c := mustCatalog(t)
	files, err := filepath.Glob("testdata/mutations/*.in")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 60 {
		t.Fatalf("only %d mutation cases", len(files))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".in")
		t.Run(name, func(t *testing.T) {
			mc := readMutation(t, f)
			p, err := c.Product(mc.product)
			if err != nil {
				t.Fatal(err)
			}
			res, err := p.Validate(mc.body, Options{Level: Level(mc.level), Message: mc.message})
			if err != nil {
				t.Fatal(err)
			}
			got := renderResult(res)
			golden := strings.TrimSuffix(f, ".in") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./spec -run TestMutations -update)", err)
			}
			if got != string(want) {
				t.Errorf("%s (-want +got):\n-%s\n+%s", golden, strings.ReplaceAll(string(want), "\n", "\n-"), strings.ReplaceAll(got, "\n", "\n+"))
			}
			// A case named *-valid must be valid; every other must not be.
			if strings.HasSuffix(name, "-valid") != res.Valid() && !strings.HasSuffix(name, "-vendor") {
				t.Errorf("valid = %v for a case named %s", res.Valid(), name)
			}
		})
	}
}
