// Package examples holds the receivers to copy, one directory per vendor
// product; this test keeps them short and free of dependencies.
package examples

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// maxLines is the most lines a receiver to copy may have.
const maxLines = 150

// TestReceiversAreShort keeps every receiver to copy at most maxLines
// lines, so that it reads on a screen or two.
func TestReceiversAreShort(t *testing.T) {
	files, err := filepath.Glob("*/*")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || !slices.Contains([]string{".go", ".py", ".js"}, filepath.Ext(f)) {
			continue
		}
		n++
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if lines := bytes.Count(data, []byte("\n")); lines > maxLines {
			t.Errorf("%s has %d lines, want at most %d", f, lines, maxLines)
		}
	}
	if n < 7 {
		t.Errorf("found %d receivers to copy, want the 7 (Go: Sumsub, KYX, Netverify; Python and Node: Sumsub, KYX)", n)
	}
}

// TestGoReceiversUseTheStandardLibraryOnly: a receiver to copy needs
// nothing but Go (its test uses kycsimtest).
func TestGoReceiversUseTheStandardLibraryOnly(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH; put $(go env GOROOT)/bin on PATH to check the receivers' imports")
	}
	mains, err := filepath.Glob("*/main.go")
	if err != nil || len(mains) < 3 {
		t.Fatalf("found %v (%v), want the three Go receivers' main.go", mains, err)
	}
	args := []string{"list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}"}
	for _, m := range mains {
		args = append(args, "./"+filepath.Dir(m))
	}
	out, err := exec.Command(goBin, args...).Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []string
	for _, p := range strings.Fields(string(out)) {
		if !strings.HasPrefix(p, "github.com/kycsim/kycsim/conformance/examples/") {
			t.Errorf("a receiver to copy depends on %s: use the standard library only", p)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) != len(mains) {
		t.Errorf("go list found %v, want the Go receivers of %v", pkgs, mains)
	}
}
