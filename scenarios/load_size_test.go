package scenarios

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// maxLoaderLines bounds the scenario loader (load*.go, tests left out):
// what is structure (keys, types, values, which keys go together or apply
// to a product) belongs in scenario.schema.json, and the Go that remains
// is what needs the catalog or references.
const maxLoaderLines = 700

func TestLoaderStaysSmall(t *testing.T) {
	files, err := filepath.Glob("load*.go")
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		n := bytes.Count(data, []byte("\n"))
		t.Logf("%s: %d lines", f, n)
		total += n
	}
	if total == 0 {
		t.Fatal("no load*.go")
	}
	if total > maxLoaderLines {
		t.Errorf("scenarios/load*.go hold %d lines, more than %d: move structure checks into scenario.schema.json", total, maxLoaderLines)
	}
}
