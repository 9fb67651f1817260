package sandboxapi

import (
	"embed"
	"fmt"
	"path"
	"strings"

	"github.com/kycsim/kycsim/scenarios"
	"github.com/kycsim/kycsim/spec"
)

//go:embed outcomes/*.yaml
var outcomeFS embed.FS

// NewLibrary returns the scenarios outcomes play, by name: the built-in
// library, and the sandbox's own single-webhook scenarios as sandbox/NAME.
func NewLibrary(cat *spec.Catalog) (map[string]*scenarios.Scenario, error) {
	lib, err := scenarios.Library(cat)
	if err != nil {
		return nil, fmt.Errorf("sandbox library: %w", err)
	}
	out := make(map[string]*scenarios.Scenario, len(lib)+8)
	for _, sc := range lib {
		out[sc.Name] = sc
	}
	entries, err := outcomeFS.ReadDir("outcomes")
	if err != nil {
		return nil, fmt.Errorf("sandbox library: %w", err)
	}
	for _, e := range entries {
		p := path.Join("outcomes", e.Name())
		data, err := outcomeFS.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("sandbox library: %w", err)
		}
		sc, err := scenarios.Load(p, data, cat)
		if err != nil {
			return nil, fmt.Errorf("sandbox library: %w", err)
		}
		sc.Name = "sandbox/" + strings.TrimSuffix(e.Name(), ".yaml")
		out[sc.Name] = sc
	}
	for product, outcomes := range outcomeScenarios {
		for outcome, name := range outcomes {
			if strings.HasSuffix(name, "-") {
				continue
			}
			if _, ok := out[name]; !ok {
				return nil, fmt.Errorf("sandbox library: %s outcome %s plays %s, which does not exist", product, outcome, name)
			}
		}
	}
	return out, nil
}
