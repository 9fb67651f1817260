package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/kycsim/kycsim/scenarios"
	"github.com/kycsim/kycsim/spec"
)

// writeTree writes files (path → content) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// sendOne is a scenario file that sends one Sumsub webhook.
func sendOne(name, tags string) string {
	s := "product: sumsub\ndescription: One webhook.\n"
	if name != "" {
		s += "name: " + name + "\n"
	}
	if tags != "" {
		s += "tags: [" + tags + "]\n"
	}
	return s + "steps:\n  - {send: applicantCreated, expect: 2xx}\n"
}

var checkedName = regexp.MustCompile(`(?m)^ok (\S+) \(`)

// builtins returns the names of the built-in scenarios keep selects.
func builtins(t *testing.T, keep func(*scenarios.Scenario) bool) []string {
	t.Helper()
	cat, err := spec.Default()
	if err != nil {
		t.Fatal(err)
	}
	lib, err := scenarios.Library(cat)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, sc := range lib {
		if keep(sc) {
			out = append(out, sc.Name)
		}
	}
	return out
}

// TestRunSelection checks what run selects from names, directories,
// globs and tags (run --check lists it and sends nothing).
func TestRunSelection(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"suites/a.yaml":      sendOne("suite/a", "alpha, shared"),
		"suites/b.yml":       sendOne("suite/b", "beta, shared"),
		"suites/notes.txt":   "not a scenario",
		"suites/deep/c.yaml": sendOne("", "alpha"),
		"empty/README":       "nothing here",
		"broken/x.yaml":      "product: sumsub\ndescription: x\nsteps:\n  - wait: soon\n",
	})
	suites := filepath.Join(dir, "suites")
	c := filepath.Join(suites, "deep", "c.yaml")
	fraud := builtins(t, func(sc *scenarios.Scenario) bool { return sc.HasTag("fraud") })
	auth := builtins(t, func(sc *scenarios.Scenario) bool { return sc.Product == "jumio-auth" })
	notSumsub := builtins(t, func(sc *scenarios.Scenario) bool { return !sc.HasTag("sumsub") })
	if len(fraud) == 0 || len(auth) != 4 || len(notSumsub) == 0 {
		t.Fatalf("library: fraud %v, auth %v", fraud, auth)
	}
	for _, tt := range []struct {
		name string
		args []string
		want []string
	}{
		{"a directory, walked, in path order, yaml and yml only", []string{suites}, []string{"suite/a", "suite/b", c}},
		{"a glob over files", []string{filepath.Join(suites, "*.yaml")}, []string{"suite/a"}},
		{"a glob over built-in names", []string{"jumio-auth/*"}, auth},
		{"a tag", []string{suites, "--tag", "alpha"}, []string{"suite/a", c}},
		{"two tags select either", []string{suites, "--tag", "alpha", "--tag", "beta"}, []string{"suite/a", "suite/b", c}},
		{"a skipped tag", []string{suites, "--skip-tag", "shared"}, []string{c}},
		{"a tag alone selects built-ins", []string{"--tag", "fraud"}, fraud},
		{"--all with a skipped tag", []string{"--all", "--skip-tag", "sumsub"}, notSumsub},
		{"named twice, played once", []string{filepath.Join(suites, "a.yaml"), filepath.Join(suites, "*.yaml"), "jumio-auth/passed", "jumio-auth/passed"}, []string{"suite/a", "jumio-auth/passed"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, "", append([]string{"run", "--check"}, tt.args...)...)
			if code != 0 {
				t.Fatalf("exit %d\n%s%s", code, out, errOut)
			}
			var got []string
			for _, m := range checkedName.FindAllStringSubmatch(out, -1) {
				got = append(got, m[1])
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("selected %v\nwant %v", got, tt.want)
			}
		})
	}
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"a glob that matches nothing", []string{filepath.Join(dir, "nowhere", "*.yaml")}, "matches no built-in scenario and no scenario file"},
		{"a bad glob", []string{filepath.Join(dir, "[")}, "bad glob pattern"},
		{"a directory without scenarios", []string{filepath.Join(dir, "empty")}, "holds no scenario file (.yaml or .yml)"},
		{"a broken file in a directory", []string{filepath.Join(dir, "broken")}, filepath.Join(dir, "broken", "x.yaml") + ":4:11: wait \"soon\""},
		{"a broken file in a glob", []string{filepath.Join(dir, "*", "x.yaml")}, "x.yaml:4:11"},
		{"an unknown tag", []string{suites, "--tag", "nosuch"}, `--tag "nosuch": no scenario carries this tag`},
		{"an unknown skipped tag", []string{suites, "--skip-tag", "nosuch"}, `--skip-tag "nosuch": no scenario carries this tag`},
		{"tags that leave nothing", []string{suites, "--tag", "beta", "--skip-tag", "shared"}, "no scenario is selected"},
		{"neither name nor file", []string{"no/such"}, "neither a built-in scenario"},
		{"nothing named", nil, "name scenarios"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, "", append([]string{"run", "--check"}, tt.args...)...)
			if code != 2 || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q\n%s", code, errOut, tt.want, out)
			}
		})
	}
}
