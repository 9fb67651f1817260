package scenarios

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/kycsim/kycsim/internal/yamldoc"
)

// TestSchemaAcceptsEveryScenario: every scenario of the tree is valid by
// the schema, so that an editor checking against it flags nothing the
// loader takes.
func TestSchemaAcceptsEveryScenario(t *testing.T) {
	s, err := compiledSchema()
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, g := range []string{"library/*/*.yaml", "conformance/*/*.yaml", "testdata/example.yaml", "../simulator/sandboxapi/outcomes/*.yaml"} {
		m, _ := filepath.Glob(g)
		files = append(files, m...)
	}
	if len(files) < 200 {
		t.Fatalf("found %d scenarios", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		d, err := yamldoc.Parse(f, data, yamldoc.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Validate(d); err != nil {
			t.Error(err)
		}
	}
}
