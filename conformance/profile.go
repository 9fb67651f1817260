package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"os"
	"path"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/kycsim/kycsim/simulator"
)

// Profile describes a receiver to certify: where each product's callbacks
// go, the secrets, the source addresses, the reject policy, the levels
// enforced and the cases selected.
type Profile struct {
	// Targets maps a product to its callback URL.
	Targets map[string]string `yaml:"targets"`
	// Probe is the probe URL template with {subject}.
	Probe string `yaml:"probe"`
	// Secret is the Sumsub webhook secret; SecretEnv names an environment
	// variable holding it instead (so the file holds no secret).
	Secret    string `yaml:"secret"`
	SecretEnv string `yaml:"secret-env"`
	// ForeignSource is a loopback address the receiver must treat as not
	// Jumio's (127.0.0.2 when empty).
	ForeignSource string `yaml:"foreign-source"`
	// SourceMode is direct (default) or proxy (see SourceProxy).
	SourceMode string `yaml:"source-mode"`
	// JumioInvalid is ack-and-drop (default) or reject.
	JumioInvalid string `yaml:"jumio-invalid"`
	// Enforce lists the levels whose failures fail the run ([MUST] when
	// empty).
	Enforce []string `yaml:"enforce"`
	// Only and Skip select cases by id glob.
	Only []string `yaml:"only"`
	Skip []string `yaml:"skip"`
	// TimeScale and Settle as the command-line flags.
	TimeScale float64       `yaml:"time-scale"`
	Settle    time.Duration `yaml:"settle"`
}

var yamlLine = regexp.MustCompile(`line (\d+): `)

// LoadProfile reads a profile strictly: unknown keys, wrong types and bad
// values are errors naming file:line.
func LoadProfile(file string, data []byte, products []string) (*Profile, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var p Profile
	if err := dec.Decode(&p); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty profile", file)
		}
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		msg = strings.ReplaceAll(msg, "unmarshal errors:\n  ", "")
		msg = yamlLine.ReplaceAllString(msg, file+":$1: ")
		if !strings.HasPrefix(msg, file) {
			msg = file + ": " + msg
		}
		return nil, errors.New(msg)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	at := func(key string) string {
		if len(root.Content) > 0 {
			m := root.Content[0]
			for i := 0; i+1 < len(m.Content); i += 2 {
				if m.Content[i].Value == key {
					return fmt.Sprintf("%s:%d", file, m.Content[i].Line)
				}
			}
		}
		return file
	}
	if len(p.Targets) == 0 {
		return nil, fmt.Errorf("%s: targets: name at least one product and its URL", file)
	}
	for product, u := range p.Targets {
		known := false
		for _, q := range products {
			known = known || q == product
		}
		if !known {
			return nil, fmt.Errorf("%s: targets: unknown product %q (known: %s)", at("targets"), product, strings.Join(products, ", "))
		}
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			return nil, fmt.Errorf("%s: targets: %s: %q is not an http(s) URL", at("targets"), product, u)
		}
	}
	if p.Probe != "" && !strings.Contains(p.Probe, "{subject}") {
		return nil, fmt.Errorf("%s: probe %q has no {subject}", at("probe"), p.Probe)
	}
	if p.Secret != "" && p.SecretEnv != "" {
		return nil, fmt.Errorf("%s: give secret or secret-env, not both", at("secret"))
	}
	if p.SecretEnv != "" {
		p.Secret = os.Getenv(p.SecretEnv)
		if p.Secret == "" {
			return nil, fmt.Errorf("%s: secret-env: $%s is not set", at("secret-env"), p.SecretEnv)
		}
	}
	if p.ForeignSource == "" {
		p.ForeignSource = "127.0.0.2"
	}
	switch p.SourceMode {
	case "", SourceDirect:
		p.SourceMode = SourceDirect
		if _, err := simulator.ParseSource(p.ForeignSource); err != nil {
			return nil, fmt.Errorf("%s: foreign-source: %v", at("foreign-source"), err)
		}
	case SourceProxy:
		if _, err := netip.ParseAddr(p.ForeignSource); err != nil {
			return nil, fmt.Errorf("%s: foreign-source: %v", at("foreign-source"), err)
		}
	default:
		return nil, fmt.Errorf("%s: source-mode %q is not direct or proxy", at("source-mode"), p.SourceMode)
	}
	switch p.JumioInvalid {
	case "":
		p.JumioInvalid = "ack-and-drop"
	case "ack-and-drop", "reject":
	default:
		return nil, fmt.Errorf("%s: jumio-invalid %q is not ack-and-drop or reject", at("jumio-invalid"), p.JumioInvalid)
	}
	if len(p.Enforce) == 0 {
		p.Enforce = []string{"MUST"}
	}
	for _, l := range p.Enforce {
		if l != "MUST" && l != "SHOULD" {
			return nil, fmt.Errorf("%s: enforce: %q is not MUST or SHOULD", at("enforce"), l)
		}
	}
	for _, g := range append(append([]string{}, p.Only...), p.Skip...) {
		if _, err := path.Match(g, ""); err != nil {
			return nil, fmt.Errorf("%s: bad glob %q: %v", at("only"), g, err)
		}
	}
	if p.TimeScale < 0 {
		return nil, fmt.Errorf("%s: time-scale must be > 0", at("time-scale"))
	}
	if p.Settle < 0 {
		return nil, fmt.Errorf("%s: settle must be > 0", at("settle"))
	}
	return &p, nil
}

// Enforced returns the enforced levels as a set.
func (p *Profile) Enforced() map[string]bool {
	out := map[string]bool{}
	for _, l := range p.Enforce {
		out[l] = true
	}
	return out
}
