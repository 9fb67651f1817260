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

//go:embed library
var libraryFS embed.FS

// Library loads the built-in scenarios, named product/stem, sorted by
// name.
func Library(cat *spec.Catalog) ([]*Scenario, error) {
	var out []*Scenario
	err := fs.WalkDir(libraryFS, "library", func(p string, d fs.DirEntry, err error) error {
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
		name := strings.TrimPrefix(strings.TrimSuffix(p, ".yaml"), "library/")
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
		return nil, fmt.Errorf("load the built-in scenarios: %w", err)
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
