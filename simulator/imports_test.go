package simulator_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoUpwardImports keeps the data flowing one way (spec → simulator →
// scenarios → conformance → cmd): no package under simulator/ imports
// scenarios or conformance, directly or through another package. The
// sandbox gets its scenarios through simulator.Planner, wired by cmd.
func TestNoUpwardImports(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH; put $(go env GOROOT)/bin on PATH to check the import graph")
	}
	out, err := exec.Command(goBin, "list", "-f", "{{.ImportPath}}{{range .Deps}} {{.}}{{end}}",
		"github.com/kycsim/kycsim/simulator/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 5 {
		t.Fatalf("go list named %d packages under simulator/, want them all:\n%s", len(lines), out)
	}
	for _, line := range lines {
		fields := strings.Fields(line)
		for _, dep := range fields[1:] {
			for _, up := range []string{"github.com/kycsim/kycsim/scenarios", "github.com/kycsim/kycsim/conformance", "github.com/kycsim/kycsim/cmd"} {
				if dep == up || strings.HasPrefix(dep, up+"/") {
					t.Errorf("%s depends on %s: packages under simulator/ must not import the layers above them", fields[0], dep)
				}
			}
		}
	}
}
