package sandboxapi

import (
	"embed"
	"fmt"
	"io/fs"
	"strings"

	"github.com/kycsim/kycsim/simulator"
)

//go:embed outcomes/*.yaml
var outcomeFS embed.FS

// OutcomePrefix begins the names of the sandbox's own scenarios:
// sandbox/NAME plays outcomes/NAME.yaml.
const OutcomePrefix = "sandbox/"

// OutcomeScenarios returns the sandbox's own single-webhook scenarios
// (YAML files in the scenario language). The Planner given to the
// sandbox must know each as OutcomePrefix plus its file stem, beside the
// built-in library: cmd/kycsim wires scenarios.NewPlanner(cat,
// OutcomeScenarios(), OutcomePrefix).
func OutcomeScenarios() fs.FS {
	sub, err := fs.Sub(outcomeFS, "outcomes")
	if err != nil {
		panic(err) // a constant, valid path
	}
	return sub
}

// checkPlanner makes sure the planner knows every scenario an outcome
// plays.
func checkPlanner(p simulator.Planner) error {
	for product, outcomes := range outcomeScenarios {
		for outcome, name := range outcomes {
			if strings.HasSuffix(name, "-") {
				continue
			}
			if !p.Has(name) {
				return fmt.Errorf("sandbox: %s outcome %s plays %s, which the planner does not know", product, outcome, name)
			}
		}
	}
	return nil
}
