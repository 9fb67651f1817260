package main

import (
	"os"
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
			Command []string
		}
	}
	if err := yaml.Unmarshal(data, &compose); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	want := map[string]string{"sandbox": "serve", "receiver": "receiver", "conformance": "conform"}
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
