package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// The CI recipes under conformance/ci/ are files a user copies. This test
// runs their shell steps as the CI system would, against kycsim's
// reference receiver, with two replacements: the step that gets kycsim
// (a git clone, which needs the network) copies the binary under test,
// and the placeholder for the user's receiver (scripts/start-receiver.sh)
// starts the reference receiver with the secret from the CI variable.
// Steps that `uses:` an action (checkout, setup-go, upload-artifact) are
// the CI system's, and are not run.

// ciStep is one shell step of a recipe.
type ciStep struct {
	Name string
	Run  string
}

// githubRecipe reads the GitHub Actions recipe: its job's environment and
// the shell steps.
func githubRecipe(t *testing.T) (env map[string]string, steps []ciStep) {
	t.Helper()
	var wf struct {
		Jobs map[string]struct {
			Env   map[string]string
			Steps []struct {
				Name, Run, Uses string
			}
		}
	}
	readYAML(t, "../../conformance/ci/github-actions.yml", &wf)
	if len(wf.Jobs) != 1 {
		t.Fatalf("github-actions.yml: %d jobs, want 1", len(wf.Jobs))
	}
	for _, job := range wf.Jobs {
		env = job.Env
		for _, s := range job.Steps {
			if s.Uses != "" {
				continue
			}
			steps = append(steps, ciStep{Name: s.Name, Run: s.Run})
		}
	}
	return env, steps
}

// gitlabRecipe reads the GitLab CI recipe: its variables, and
// before_script and script as one step each (GitLab runs each list in one
// shell).
func gitlabRecipe(t *testing.T) (env map[string]string, steps []ciStep) {
	t.Helper()
	var jobs map[string]struct {
		Variables    map[string]string
		BeforeScript []string `yaml:"before_script"`
		Script       []string
	}
	readYAML(t, "../../conformance/ci/gitlab-ci.yml", &jobs)
	if len(jobs) != 1 {
		t.Fatalf("gitlab-ci.yml: %d jobs, want 1", len(jobs))
	}
	for _, job := range jobs {
		return job.Variables, []ciStep{
			{Name: "Get kycsim", Run: strings.Join(job.BeforeScript, "\n")},
			{Name: "script", Run: strings.Join(job.Script, "\n")},
		}
	}
	return nil, nil
}

func readYAML(t *testing.T, name string, v any) {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// playRecipe runs a recipe's steps in order in a fresh directory, each in
// its own bash with -e (as GitHub's and GitLab's runners do), until one
// fails. It returns the name of the failing step ("" when all passed), its
// exit code and what it printed.
func playRecipe(t *testing.T, env map[string]string, steps []ciStep, secret, defect string) (failed string, code int, out string) {
	t.Helper()
	dir := t.TempDir()
	buildKycsim(t, dir)
	if err := os.Rename(filepath.Join(dir, "kycsim"), filepath.Join(dir, "kycsim-under-test")); err != nil {
		t.Fatal(err)
	}
	vars := []string{"SUMSUB_WEBHOOK_SECRET=" + secret, "GITHUB_WORKSPACE=" + dir, "CI_PROJECT_DIR=" + dir, "RUNNER_TEMP=" + t.TempDir()}
	for k, v := range env {
		if strings.Contains(v, "${{") {
			continue // a secret's expression: set above, as the CI system would
		}
		vars = append(vars, k+"="+v)
	}
	sh := newShellSession(t, dir, vars...)
	receiver := `./kycsim receiver --addr 127.0.0.1:9000 --secret "$SUMSUB_WEBHOOK_SECRET" --quiet`
	if defect != "" {
		receiver += " --defect " + defect
	}
	var sawGet, sawReceiver bool
	for i, s := range steps {
		run := s.Run
		switch {
		case strings.Contains(run, "git clone") && strings.Contains(run, "kycsim"):
			// The network: build from this checkout instead.
			run, sawGet = "cp kycsim-under-test kycsim\n./kycsim version", true
		case strings.Contains(run, "scripts/start-receiver.sh"):
			sawReceiver = true
			var lines []string
			for _, l := range strings.Split(run, "\n") {
				if strings.Contains(l, "scripts/start-receiver.sh") {
					l = strings.Replace(l, "./scripts/start-receiver.sh", receiver, 1)
				}
				lines = append(lines, l)
			}
			run = strings.Join(lines, "\n")
		}
		script := filepath.Join(dir, fmt.Sprintf("step-%d.sh", i))
		if err := os.WriteFile(script, []byte(sh.mapPorts(run)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		res := sh.run(shellCommand{Text: "bash --noprofile --norc -eo pipefail " + script}, 2*time.Minute)
		if res.Err != nil {
			t.Fatalf("step %q: %v\n%s", s.Name, res.Err, tail(res.Output))
		}
		if res.Exit != 0 {
			return s.Name, res.Exit, res.Output
		}
		out += res.Output
	}
	if !sawGet || !sawReceiver {
		t.Fatalf("the recipe has no step that gets kycsim (git clone) or starts the receiver (scripts/start-receiver.sh): the test cannot run it")
	}
	return "", 0, out
}

func TestCIRecipes(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the CI recipes run conformance suites for about 20 seconds")
	}
	for _, tc := range []struct {
		name   string
		recipe func(*testing.T) (map[string]string, []ciStep)
	}{{"github-actions", githubRecipe}, {"gitlab-ci", gitlabRecipe}} {
		t.Run(tc.name, func(t *testing.T) {
			env, steps := tc.recipe(t)
			t.Run("correct receiver passes", func(t *testing.T) {
				failed, code, out := playRecipe(t, env, steps, "ci-test-secret", "")
				if failed != "" {
					t.Fatalf("step %q exited %d against the reference receiver:\n%s", failed, code, tail(out))
				}
				if !strings.Contains(out, "0 failed") {
					t.Errorf("no conformance summary in the output:\n%s", tail(out))
				}
			})
			t.Run("planted defect fails", func(t *testing.T) {
				failed, code, out := playRecipe(t, env, steps, "ci-test-secret", "no-dedup")
				if failed == "" || code != 1 {
					t.Fatalf("a receiver with the no-dedup defect: step %q exit %d, want a step to exit 1:\n%s", failed, code, tail(out))
				}
				if !strings.Contains(out, "dedup") {
					t.Errorf("the failure does not name the dedup cases:\n%s", tail(out))
				}
			})
			t.Run("no secret stops at once", func(t *testing.T) {
				failed, code, out := playRecipe(t, env, steps, "", "")
				if failed == "" || code == 0 || !strings.Contains(out, "SUMSUB_WEBHOOK_SECRET") || strings.Contains(out, "case(s)") {
					t.Fatalf("an empty SUMSUB_WEBHOOK_SECRET: step %q exit %d, want a failure naming the variable before conform runs:\n%s", failed, code, tail(out))
				}
			})
		})
	}
}
