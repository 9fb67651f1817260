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
			Command   []string
			Ports     []string
			DependsOn []string `yaml:"depends_on"`
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
	checkComposeWiring(t, compose.Services["sandbox"].Command, compose.Services["sandbox"].Ports,
		compose.Services["receiver"].Command, compose.Services["conformance"].Command, compose.Services["conformance"].DependsOn, string(readme))
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
