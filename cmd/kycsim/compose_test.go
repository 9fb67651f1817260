package main

import (
	"os"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestComposeFile checks what can be checked of docker-compose.yml
// without Docker: it parses, names the sandbox, the receiver and the
// conformance job, builds them from cmd/kycsim/Dockerfile, and runs
// kycsim commands whose flags the commands accept.
func TestComposeFile(t *testing.T) {
	data, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Build struct {
				Context, Dockerfile string
			}
			Image       string
			Command     []string
			Profiles    []string
			Environment map[string]string
			DependsOn   yaml.Node `yaml:"depends_on"` // a list or a map

		}
	}
	if err := yaml.Unmarshal(data, &compose); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	want := map[string]string{"sandbox": "serve", "receiver": "receiver", "conformance": "conform",
		"sandbox-pg-a": "serve", "sandbox-pg-b": "serve"}
	for name, sub := range want {
		svc, ok := compose.Services[name]
		if !ok {
			t.Errorf("no service %q", name)
			continue
		}
		if svc.Build.Dockerfile != "cmd/kycsim/Dockerfile" || svc.Build.Context != "." {
			t.Errorf("%s: built from %q in %q, want cmd/kycsim/Dockerfile in .", name, svc.Build.Dockerfile, svc.Build.Context)
		}
		if len(svc.Command) == 0 || svc.Command[0] != sub {
			t.Errorf("%s: command %v, want kycsim %s", name, svc.Command, sub)
			continue
		}
		// Every flag must be one the command knows: -help after them makes
		// the command parse them and stop.
		args := make([]string, len(svc.Command))
		for i, a := range svc.Command {
			args[i] = os.Expand(a, func(v string) string {
				_, def, _ := strings.Cut(v, ":-")
				return def
			})
		}
		code, _, stderr := run(t, "", append(args, "-help")...)
		if code != 0 || strings.Contains(stderr, "flag provided but not defined") {
			t.Errorf("%s: kycsim %s does not accept its flags: exit %d\n%s", name, strings.Join(args, " "), code, stderr)
		}
	}
	// No secret on a command line (ps shows them): the sandboxes take
	// theirs from the environment.
	for name, svc := range compose.Services {
		for _, a := range svc.Command {
			for _, secret := range []string{"--control-token", "--webhook-secret", "--jumio-client", "--sumsub-secret-key", "--sumsub-app-token"} {
				if a == secret {
					t.Errorf("%s: %s on the command line; give it by the environment or a file", name, secret)
				}
			}
			if strings.HasPrefix(a, "postgres://") {
				t.Errorf("%s: a database URL (with its password) on the command line; give it as KYCSIM_DB", name)
			}
		}
	}
	// The postgres profile: PostgreSQL and two replicas on it, started
	// once it is healthy, each with a name of its own.
	pg, ok := compose.Services["postgres"]
	if !ok || !strings.HasPrefix(pg.Image, "postgres:") || !slices.Contains(pg.Profiles, "postgres") {
		t.Errorf("no postgres service (image postgres:*) in profile postgres: %+v", pg)
	}
	replicas := map[string]bool{}
	for _, name := range []string{"sandbox-pg-a", "sandbox-pg-b"} {
		svc := compose.Services[name]
		if !slices.Contains(svc.Profiles, "postgres") {
			t.Errorf("%s: not in profile postgres", name)
		}
		if db := svc.Environment["KYCSIM_DB"]; !strings.HasPrefix(db, "postgres://") || !strings.Contains(db, "@postgres:5432/") {
			t.Errorf("%s: KYCSIM_DB %q does not name the postgres service", name, db)
		}
		if svc.Environment["KYCSIM_CONTROL_TOKEN"] == "" {
			t.Errorf("%s: no KYCSIM_CONTROL_TOKEN (it listens off loopback)", name)
		}
		var deps map[string]struct{ Condition string }
		if err := svc.DependsOn.Decode(&deps); err != nil || deps["postgres"].Condition != "service_healthy" {
			t.Errorf("%s: does not wait for postgres to be healthy", name)
		}
		if i := slices.Index(svc.Command, "--replica"); i < 0 || i+1 >= len(svc.Command) || replicas[svc.Command[i+1]] {
			t.Errorf("%s: no --replica name of its own: %v", name, svc.Command)
		} else {
			replicas[svc.Command[i+1]] = true
		}
	}
	if _, err := os.Stat("Dockerfile"); err != nil {
		t.Errorf("cmd/kycsim/Dockerfile: %v", err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "docker compose up --build") {
		t.Errorf("the README does not say how to start the compose file")
	}
}
