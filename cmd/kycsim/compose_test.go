package main

import (
	"net/url"
	"os"
	"regexp"
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
			Ports       []string
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
	checkComposeWiring(t, compose.Services["sandbox"].Command, compose.Services["sandbox"].Ports,
		compose.Services["receiver"].Command, compose.Services["conformance"].Command, dependsOn(t, compose.Services["conformance"].DependsOn), string(readme))
}

// dependsOn returns the services a depends_on names, as a list or as a
// map of conditions.
func dependsOn(t *testing.T, n yaml.Node) []string {
	t.Helper()
	var list []string
	if n.Kind == yaml.SequenceNode {
		if err := n.Decode(&list); err != nil {
			t.Fatalf("depends_on: %v", err)
		}
		return list
	}
	var m map[string]any
	if err := n.Decode(&m); err != nil {
		t.Fatalf("depends_on: %v", err)
	}
	for name := range m {
		list = append(list, name)
	}
	return list
}

// flagValues returns every value a command line gives a flag.
func flagValues(args []string, name string) []string {
	var vs []string
	for i, a := range args {
		if a == "--"+name && i+1 < len(args) {
			vs = append(vs, args[i+1])
		} else if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			vs = append(vs, v)
		}
	}
	return vs
}

// checkComposeWiring checks that the compose file's services fit
// together and that the README's compose commands work with them: the
// conformance job waits for the receiver and its exit code is what
// `docker compose up` returns; web.href is a URL the host's browser opens;
// the callbacks' hrefs are reachable from the receiver; and every
// callbackUrl the README's Docker section names is one the sandbox allows.
func checkComposeWiring(t *testing.T, sandbox, sandboxPorts, receiver, conform, conformDeps []string, readme string) {
	t.Helper()
	if w := flagValues(conform, "wait"); len(w) != 1 || w[0] == "0s" {
		t.Errorf("the conformance job has no --wait (%v): it may run before the receiver listens and exit 3", conform)
	}
	if !slices.Contains(conformDeps, "receiver") {
		t.Errorf("the conformance job does not depend on the receiver: %v", conformDeps)
	}
	if !regexp.MustCompile(`docker compose up [^\n]*--exit-code-from conformance`).MatchString(readme) {
		t.Errorf("the README's compose command lacks --exit-code-from conformance: docker compose up would not return conform's exit code")
	}
	// web.href: the public URL must be a host address the host's browser
	// opens, on a port the sandbox publishes.
	pub := flagValues(sandbox, "public-url")
	if len(pub) != 1 {
		t.Fatalf("the sandbox has no --public-url: %v", sandbox)
	}
	pu, err := url.Parse(pub[0])
	if err != nil || (pu.Hostname() != "localhost" && pu.Hostname() != "127.0.0.1") {
		t.Errorf("--public-url %s: web.href would not open in the host's browser (want localhost)", pub[0])
	} else if !slices.ContainsFunc(sandboxPorts, func(p string) bool {
		return strings.HasSuffix(strings.TrimSuffix(p, ":8089"), ":"+pu.Port()) || strings.HasPrefix(p, pu.Port()+":")
	}) {
		t.Errorf("--public-url %s: port %s is not published by the sandbox (ports %v)", pub[0], pu.Port(), sandboxPorts)
	}
	// The callbacks' hrefs: the receiver fetches them, so their host must
	// be one the receiver may fetch from and resolve (the service name).
	internal := flagValues(sandbox, "internal-url")
	if len(internal) != 1 {
		t.Errorf("the sandbox has no --internal-url: the callbacks' hrefs would point at %s, which the receiver's container cannot reach", pub[0])
	} else if iu, err := url.Parse(internal[0]); err != nil || iu.Hostname() != "sandbox" || !slices.Contains(flagValues(receiver, "fetch-host"), "sandbox") {
		t.Errorf("--internal-url %s: want http://sandbox:PORT, a host the receiver fetches from (--fetch-host %v)", internal[0], flagValues(receiver, "fetch-host"))
	}
	// Callback targets: every --webhook and every callbackUrl of the
	// README's Docker section must be allowed by --allow-callback.
	allow := flagValues(sandbox, "allow-callback")
	allowed := func(raw string) bool {
		u, err := url.Parse(raw)
		if err != nil {
			return false
		}
		for _, p := range allow {
			if p == u.Hostname() || p == u.Host || (strings.HasPrefix(p, "*.") && strings.HasSuffix(u.Hostname(), p[1:])) {
				return true
			}
		}
		return len(allow) == 0 && (u.Hostname() == "127.0.0.1" || u.Hostname() == "localhost")
	}
	for _, w := range flagValues(sandbox, "webhook") {
		_, u, _ := strings.Cut(w, "=")
		if !allowed(u) {
			t.Errorf("--webhook %s: the sandbox's --allow-callback %v refuses it", w, allow)
		}
	}
	start := strings.Index(readme, "### Docker")
	if start < 0 {
		t.Fatal("the README has no Docker section")
	}
	section := readme[start:]
	if end := strings.Index(section[1:], "\n#"); end >= 0 {
		section = section[:end+1]
	}
	urls := regexp.MustCompile(`"callbackUrl":"([^"]+)"`).FindAllStringSubmatch(section, -1)
	if len(urls) == 0 {
		t.Errorf("the README's Docker section shows no callbackUrl example")
	}
	for _, m := range urls {
		if !allowed(m[1]) {
			t.Errorf("the README's Docker section names callbackUrl %s, which the compose sandbox refuses (--allow-callback %v)", m[1], allow)
		}
	}
}
