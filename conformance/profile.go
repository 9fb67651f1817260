package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"net/url"
	"os"
	"path"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/kycsim/kycsim/scenarios"
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
	// ContentPolicy is what the receiver does with unusable content:
	// either (default), reject or ack-and-drop. JumioInvalid is its
	// older name, still read.
	ContentPolicy string `yaml:"content-policy"`
	JumioInvalid  string `yaml:"jumio-invalid"`
	// Handles maps a product to the messages the receiver acts on (all
	// messages of a product that is not listed).
	Handles map[string][]string `yaml:"handles"`
	// Fetches lists the products whose results the receiver fetches from
	// the vendor API (KYX href, Netverify retrieval).
	Fetches []string `yaml:"fetches"`
	// Quiet is how long a "no effect" (and every other effect
	// expectation) must keep holding; raise it for a receiver that
	// processes in the background.
	Quiet time.Duration `yaml:"quiet"`
	// Parallel is how many cases run at once.
	Parallel int `yaml:"parallel"`
	// AllowSkips makes a run whose enforced cases could not all be
	// observed pass instead of ending incomplete.
	AllowSkips bool `yaml:"allow-skips"`
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

// unknownField matches the YAML decoder's words for a key the profile
// does not have.
var unknownField = regexp.MustCompile(`field (\S+) not found in type \S+`)

// profileKeys lists the keys a profile may hold, from Profile's tags.
func profileKeys() []string {
	t := reflect.TypeFor[Profile]()
	keys := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		if k, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); k != "" {
			keys = append(keys, k)
		}
	}
	return keys
}

// LoadProfile reads a profile strictly: unknown keys, wrong types and bad
// values are errors naming file:line.
// known maps each product to its message names.
func LoadProfile(file string, data []byte, known map[string][]string) (*Profile, error) {
	products := make([]string, 0, len(known))
	for p := range known {
		products = append(products, p)
	}
	slices.Sort(products)
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
		msg = unknownField.ReplaceAllString(msg, `unknown key "$1" (known: `+strings.Join(profileKeys(), ", ")+")")
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
		} else if port := pu.Port(); port != "" {
			if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
				return nil, fmt.Errorf("%s: targets: %s: %q: port %s is out of range 1..65535", at("targets"), product, u, port)
			}
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
	switch {
	case p.JumioInvalid != "" && p.ContentPolicy != "":
		return nil, fmt.Errorf("%s: give content-policy, not also its older name jumio-invalid", at("jumio-invalid"))
	case p.JumioInvalid != "":
		if p.JumioInvalid != scenarios.PolicyAckAndDrop && p.JumioInvalid != scenarios.PolicyReject {
			return nil, fmt.Errorf("%s: jumio-invalid %q is not ack-and-drop or reject", at("jumio-invalid"), p.JumioInvalid)
		}
		p.ContentPolicy = p.JumioInvalid
	case p.ContentPolicy == "":
		p.ContentPolicy = scenarios.PolicyEither
	case !slices.Contains(scenarios.ContentPolicies, p.ContentPolicy):
		return nil, fmt.Errorf("%s: content-policy %q is not %s", at("content-policy"), p.ContentPolicy, strings.Join(scenarios.ContentPolicies, ", "))
	}
	for product, msgs := range p.Handles {
		names, ok := known[product]
		if !ok {
			return nil, fmt.Errorf("%s: handles: unknown product %q (known: %s)", at("handles"), product, strings.Join(products, ", "))
		}
		if len(msgs) == 0 {
			return nil, fmt.Errorf("%s: handles: %s: list at least one message", at("handles"), product)
		}
		for _, m := range msgs {
			if !slices.Contains(names, m) {
				return nil, fmt.Errorf("%s: handles: %s has no message %q (known: %s)", at("handles"), product, m, strings.Join(names, ", "))
			}
		}
	}
	for _, product := range p.Fetches {
		if _, ok := known[product]; !ok {
			return nil, fmt.Errorf("%s: fetches: unknown product %q (known: %s)", at("fetches"), product, strings.Join(products, ", "))
		}
	}
	if p.Quiet < 0 {
		return nil, fmt.Errorf("%s: quiet must be >= 0", at("quiet"))
	}
	if p.Parallel < 0 || p.Parallel > MaxParallel {
		return nil, fmt.Errorf("%s: parallel must be 1..%d", at("parallel"), MaxParallel)
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
	if p.TimeScale < 0 || p.TimeScale > 1000 || math.IsNaN(p.TimeScale) || math.IsInf(p.TimeScale, 0) {
		return nil, fmt.Errorf("%s: time-scale must be a factor > 0, at most 1000", at("time-scale"))
	}
	if p.Settle < 0 {
		return nil, fmt.Errorf("%s: settle must be > 0", at("settle"))
	}
	return &p, nil
}

// MaxParallel bounds how many cases run at once.
const MaxParallel = 64

// FetchesSet returns the products that fetch results, as a set.
func (p *Profile) FetchesSet() map[string]bool {
	out := map[string]bool{}
	for _, q := range p.Fetches {
		out[q] = true
	}
	return out
}

// Enforced returns the enforced levels as a set.
func (p *Profile) Enforced() map[string]bool {
	out := map[string]bool{}
	for _, l := range p.Enforce {
		out[l] = true
	}
	return out
}
