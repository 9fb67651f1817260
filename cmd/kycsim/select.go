package main

import (
	"errors"
	"github.com/kycsim/kycsim/internal/editdistance"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/kycsim/kycsim/scenarios"
	"github.com/kycsim/kycsim/spec"
)

// selection is what `kycsim run` is asked to play: built-in names, files,
// directories and globs (args), every built-in (all), narrowed by tags.
type selection struct {
	args           []string
	all            bool
	tags, skipTags []string
}

// scenarioSet collects scenarios once each, in the order they are added.
type scenarioSet struct {
	list []*scenarios.Scenario
	seen map[string]bool
}

// add adds a scenario unless the same one (same file) is in the set.
func (s *scenarioSet) add(sc *scenarios.Scenario) {
	key := sc.Pos.File + "\x00" + sc.Name
	if s.seen[key] {
		return
	}
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	s.seen[key] = true
	s.list = append(s.list, sc)
}

// selectScenarios loads what the selection names and keeps the scenarios
// its tags select. Every problem is a usage error that names the
// argument, file or tag at fault.
func (m *Main) selectScenarios(cat *spec.Catalog, sel selection) ([]*scenarios.Scenario, error) {
	if len(sel.args) == 0 && !sel.all && len(sel.tags) == 0 {
		return nil, usageErrorf("name scenarios (built-in names, files, directories or globs), or give --all or --tag")
	}
	lib, err := scenarios.Library(cat)
	if err != nil {
		return nil, err
	}
	var set scenarioSet
	if sel.all || len(sel.args) == 0 {
		for _, sc := range lib {
			set.add(sc)
		}
	}
	for _, a := range sel.args {
		found, err := resolveArg(cat, lib, a)
		if err != nil {
			return nil, err
		}
		for _, sc := range found {
			set.add(sc)
		}
	}
	if err := checkTags(sel, append(slices.Clone(lib), set.list...)); err != nil {
		return nil, err
	}
	out := filterTags(set.list, sel.tags, sel.skipTags)
	if len(out) == 0 {
		return nil, usageErrorf("no scenario is selected: --tag and --skip-tag leave none of the %d named", len(set.list))
	}
	return out, nil
}

// resolveArg loads the scenarios one argument names: a built-in name, a
// glob (over built-in names and files), a directory or a file.
func resolveArg(cat *spec.Catalog, lib []*scenarios.Scenario, a string) ([]*scenarios.Scenario, error) {
	for _, sc := range lib {
		if sc.Name == a {
			return []*scenarios.Scenario{sc}, nil
		}
	}
	if strings.ContainsAny(a, "*?[") {
		return resolveGlob(cat, lib, a)
	}
	info, err := os.Stat(a)
	switch {
	case errors.Is(err, os.ErrNotExist) && !isYAMLName(a):
		names := make([]string, len(lib))
		for i, sc := range lib {
			names[i] = sc.Name
		}
		return nil, usageErrorf("%q is neither a built-in scenario (see 'kycsim scenarios'), a file, a directory nor a glob%s", a, editdistance.DidYouMean(a, names))
	case err != nil:
		return nil, usageErrorf("%v", err)
	case info.IsDir():
		return loadDir(cat, a)
	}
	sc, err := loadFile(cat, a)
	if err != nil {
		return nil, err
	}
	return []*scenarios.Scenario{sc}, nil
}

// resolveGlob loads the built-in scenarios whose names match a glob and
// the scenario files (.yaml, .yml; directories are walked) it matches.
func resolveGlob(cat *spec.Catalog, lib []*scenarios.Scenario, pattern string) ([]*scenarios.Scenario, error) {
	if _, err := path.Match(pattern, ""); err != nil {
		return nil, usageErrorf("%q: bad glob pattern: %v", pattern, err)
	}
	var out []*scenarios.Scenario
	for _, sc := range lib {
		if ok, _ := path.Match(pattern, sc.Name); ok {
			out = append(out, sc)
		}
	}
	matches, err := filepath.Glob(pattern)
	if err != nil {
		return nil, usageErrorf("%q: bad glob pattern: %v", pattern, err)
	}
	for _, f := range matches {
		found, err := loadMatch(cat, f)
		if err != nil {
			return nil, err
		}
		out = append(out, found...)
	}
	if len(out) == 0 {
		return nil, usageErrorf("%q matches no built-in scenario and no scenario file", pattern)
	}
	return out, nil
}

// loadMatch loads what a glob matched: a directory's scenario files, or a
// scenario file; other files are left alone.
func loadMatch(cat *spec.Catalog, name string) ([]*scenarios.Scenario, error) {
	info, err := os.Stat(name)
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	if info.IsDir() {
		return loadDir(cat, name)
	}
	if !isYAMLName(name) {
		return nil, nil
	}
	sc, err := loadFile(cat, name)
	if err != nil {
		return nil, err
	}
	return []*scenarios.Scenario{sc}, nil
}

// loadDir loads every .yaml and .yml file under a directory, in path
// order; a directory without one is an error.
func loadDir(cat *spec.Catalog, dir string) ([]*scenarios.Scenario, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && isYAMLName(p) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, usageErrorf("read directory %s: %v", dir, err)
	}
	if len(files) == 0 {
		return nil, usageErrorf("directory %s holds no scenario file (.yaml or .yml)", dir)
	}
	sort.Strings(files)
	out := make([]*scenarios.Scenario, 0, len(files))
	for _, f := range files {
		sc, err := loadFile(cat, f)
		if err != nil {
			return nil, err
		}
		out = append(out, sc)
	}
	return out, nil
}

// loadFile reads (capped) and loads one scenario file; a file without a
// name is named by its path.
func loadFile(cat *spec.Catalog, name string) (*scenarios.Scenario, error) {
	data, err := readCapped(name)
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	sc, err := scenarios.Load(name, data, cat)
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	if sc.Name == "" {
		sc.Name = name
	}
	return sc, nil
}

func isYAMLName(name string) bool {
	return strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")
}

// checkTags refuses a --tag or --skip-tag that no scenario carries: it is
// a typo, and would select nothing or skip nothing without a word.
func checkTags(sel selection, all []*scenarios.Scenario) error {
	known := map[string]bool{}
	var names []string
	for _, sc := range all {
		for _, t := range sc.Tags {
			if !known[t] {
				names = append(names, t)
			}
			known[t] = true
		}
	}
	for _, f := range []struct {
		name string
		tags []string
	}{{"--tag", sel.tags}, {"--skip-tag", sel.skipTags}} {
		for _, t := range f.tags {
			if !known[t] {
				return usageErrorf("%s %q: no scenario carries this tag%s (see 'kycsim scenarios')", f.name, t, editdistance.DidYouMean(t, names))
			}
		}
	}
	return nil
}

// filterTags keeps the scenarios that carry one of tags (all when there
// are none) and none of skip.
func filterTags(list []*scenarios.Scenario, tags, skip []string) []*scenarios.Scenario {
	var out []*scenarios.Scenario
	for _, sc := range list {
		in := len(tags) == 0 || slices.ContainsFunc(tags, sc.HasTag)
		if in && !slices.ContainsFunc(skip, sc.HasTag) {
			out = append(out, sc)
		}
	}
	return out
}
