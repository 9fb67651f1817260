package scenarios

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/kycsim/kycsim/spec"
)

//go:embed library conformance
var libraryFS embed.FS

// Library loads the built-in scenarios, named product/stem, sorted by
// name.
func Library(cat *spec.Catalog) ([]*Scenario, error) {
	out, err := loadDir(cat, "library")
	if err != nil {
		return nil, fmt.Errorf("load the built-in scenarios: %w", err)
	}
	return out, nil
}

// Cases loads the conformance cases (scenarios/conformance), sorted by
// case id; every one carries its case metadata and a unique id.
func Cases(cat *spec.Catalog) ([]*Scenario, error) {
	out, err := loadDir(cat, "conformance")
	if err != nil {
		return nil, fmt.Errorf("load the conformance cases: %w", err)
	}
	seen := map[string]string{}
	for _, sc := range out {
		if sc.Case == nil {
			return nil, fmt.Errorf("scenarios/conformance/%s.yaml: a conformance case needs case: {id, level, rule, source}", sc.Name)
		}
		if other, dup := seen[sc.Case.ID]; dup {
			return nil, fmt.Errorf("scenarios/conformance/%s.yaml: case id %s is also used by %s", sc.Name, sc.Case.ID, other)
		}
		seen[sc.Case.ID] = sc.Name
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Case.ID < out[j].Case.ID })
	return out, nil
}

func loadDir(cat *spec.Catalog, dir string) ([]*Scenario, error) {
	var out []*Scenario
	err := fs.WalkDir(libraryFS, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yaml") {
			return err
		}
		data, err := libraryFS.ReadFile(p)
		if err != nil {
			return err
		}
		sc, err := Load("scenarios/"+p, data, cat)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(strings.TrimSuffix(p, ".yaml"), dir+"/")
		if sc.Name != "" && sc.Name != name {
			return fmt.Errorf("scenarios/%s: name %q; a built-in scenario is named by its path, %s", p, sc.Name, name)
		}
		sc.Name = name
		if dir := path.Dir(name); dir != sc.Product {
			return fmt.Errorf("scenarios/%s: a %s scenario in the %s folder", p, sc.Product, dir)
		}
		out = append(out, sc)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// HasTag reports whether the scenario carries the tag.
func (s *Scenario) HasTag(tag string) bool {
	for _, t := range s.Tags {
		if t == tag {
			return true
		}
	}
	return false
}
