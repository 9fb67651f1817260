package conformance

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"net/netip"
	"net/url"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kycsim/kycsim/internal/yamldoc"

	"github.com/kycsim/kycsim/scenarios"
	"github.com/kycsim/kycsim/simulator"
)

// Profile describes a receiver to certify: where each product's callbacks
// go, the secrets, the source addresses, the reject policy, the levels
// enforced and the cases selected.
type Profile struct {
	// Targets maps a product to its callback URL.
	Targets map[string]string
	// Probe is the probe URL template with {subject}.
	Probe string
	// Secret is the Sumsub webhook secret; SecretEnv names an environment
	// variable holding it instead (so the file holds no secret).
	Secret    string
	SecretEnv string
	// ForeignSource is a loopback address the receiver must treat as not
	// Jumio's (127.0.0.2 when empty).
	ForeignSource string
	// SourceMode is direct (default) or proxy (see SourceProxy).
	SourceMode string
	// ContentPolicy is what the receiver does with unusable content:
	// either (default), reject or ack-and-drop. JumioInvalid is its
	// older name, still read.
	ContentPolicy string
	JumioInvalid  string
	// Handles maps a product to the messages the receiver acts on (all
	// messages of a product that is not listed).
	Handles map[string][]string
	// Fetches lists the products whose results the receiver fetches from
	// the vendor API (KYX href, Netverify retrieval).
	Fetches []string
	// Quiet is how long a "no effect" (and every other effect
	// expectation) must keep holding; raise it for a receiver that
	// processes in the background.
	Quiet time.Duration
	// Parallel is how many cases run at once.
	Parallel int
	// AllowSkips makes a run whose enforced cases could not all be
	// observed pass instead of ending incomplete.
	AllowSkips bool
	// Enforce lists the levels whose failures fail the run ([MUST] when
	// empty).
	Enforce []string
	// Only and Skip select cases by id glob.
	Only []string
	Skip []string
	// TimeScale and Settle as the command-line flags.
	TimeScale float64
	Settle    time.Duration
}

// profileSchema is the profile's JSON Schema (draft-07): every key, its
// type, its values, with descriptions for editors. A profile names it on
// its first line for the YAML language server:
//
//	# yaml-language-server: $schema=https://raw.githubusercontent.com/kycsim/kycsim/main/conformance/profile.schema.json
//
//go:embed profile.schema.json
var profileSchema []byte

var compiledProfileSchema = &yamldoc.Embedded{URL: "profile.schema.json", Data: profileSchema}

// ProfileSchema returns the profile's JSON Schema.
func ProfileSchema() []byte { return bytes.Clone(profileSchema) }

// LoadProfile reads a profile strictly: the schema judges keys, types
// and values (unknown keys with a did-you-mean), and what needs the
// catalog or the environment is checked here. Every error names
// file:line:col. known maps each product to its message names.
func LoadProfile(file string, data []byte, known map[string][]string) (*Profile, error) {
	d, err := yamldoc.Parse(file, data, yamldoc.Options{Empty: "empty profile", What: "a profile"})
	if err != nil {
		return nil, err
	}
	if err := compiledProfileSchema.Check(d); err != nil {
		return nil, err
	}
	m := d.Value.(map[string]any)
	text := func(k string) string { return yamldoc.Text(m[k]) }
	p := Profile{Probe: text("probe"), Secret: text("secret"), SecretEnv: text("secret-env"), ForeignSource: text("foreign-source"),
		SourceMode: text("source-mode"), ContentPolicy: text("content-policy"), JumioInvalid: text("jumio-invalid"),
		Targets: map[string]string{}, Handles: map[string][]string{}, Fetches: yamldoc.Texts(m["fetches"]), Parallel: yamldoc.Int(m["parallel"]),
		Enforce: yamldoc.Texts(m["enforce"]), Only: yamldoc.Texts(m["only"]), Skip: yamldoc.Texts(m["skip"])}
	p.AllowSkips, _ = m["allow-skips"].(bool)
	if ts, ok := m["time-scale"].(json.Number); ok {
		p.TimeScale, _ = ts.Float64()
	}
	for _, k := range []struct {
		key string
		to  *time.Duration
	}{{"quiet", &p.Quiet}, {"settle", &p.Settle}} {
		if v, ok := m[k.key]; ok {
			if *k.to, err = time.ParseDuration(yamldoc.Text(v)); err != nil {
				return nil, d.Errorf("/"+k.key, "%s %q is not a duration such as 500ms, 2s or 1m", k.key, yamldoc.Text(v))
			}
		}
	}
	for _, product := range d.Keys("/targets") {
		ptr := yamldoc.Pointer("/targets", product)
		if _, ok := known[product]; !ok {
			return nil, d.KeyErrorf(ptr, "targets: kycsim has no product %q", product)
		}
		u := yamldoc.Text(d.Lookup(ptr))
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			return nil, d.Errorf(ptr, "targets: %s: %q is not an http(s) URL", product, u)
		} else if port := pu.Port(); port != "" {
			if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
				return nil, d.Errorf(ptr, "targets: %s: %q: port %s is out of range 1..65535", product, u, port)
			}
		}
		p.Targets[product] = u
	}
	for _, product := range d.Keys("/handles") {
		ptr := yamldoc.Pointer("/handles", product)
		p.Handles[product] = yamldoc.Texts(d.Lookup(ptr))
		for i, msg := range p.Handles[product] {
			if !slices.Contains(known[product], msg) {
				return nil, d.Errorf(ptr+"/"+strconv.Itoa(i), "handles: %s has no message %q%s (known: %s)", product, msg, yamldoc.Suggest(msg, known[product]), strings.Join(known[product], ", "))
			}
		}
	}
	if p.Secret != "" && p.SecretEnv != "" {
		return nil, d.KeyErrorf("/secret-env", "give secret or secret-env, not both")
	}
	if p.SecretEnv != "" {
		if p.Secret = os.Getenv(p.SecretEnv); p.Secret == "" {
			return nil, d.Errorf("/secret-env", "secret-env: $%s is not set", p.SecretEnv)
		}
	}
	if p.ForeignSource == "" {
		p.ForeignSource = "127.0.0.2"
	}
	if p.SourceMode == "" {
		p.SourceMode = SourceDirect
	}
	// A direct source is bound here, so it must be loopback; a forwarded
	// one is only named in a header.
	parse := func(s string) error { _, err := netip.ParseAddr(s); return err }
	if p.SourceMode == SourceDirect {
		parse = func(s string) error { _, err := simulator.ParseSource(s); return err }
	}
	if err := parse(p.ForeignSource); err != nil {
		return nil, d.Errorf("/foreign-source", "foreign-source: %v", err)
	}
	switch {
	case p.JumioInvalid != "" && p.ContentPolicy != "":
		return nil, d.KeyErrorf("/jumio-invalid", "give content-policy, not also its older name jumio-invalid")
	case p.JumioInvalid != "":
		p.ContentPolicy = p.JumioInvalid
	case p.ContentPolicy == "":
		p.ContentPolicy = scenarios.PolicyEither
	}
	if len(p.Enforce) == 0 {
		p.Enforce = []string{"MUST"}
	}
	for _, list := range []string{"only", "skip"} {
		for i, g := range yamldoc.Texts(m[list]) {
			if _, err := path.Match(g, ""); err != nil {
				return nil, d.Errorf("/"+list+"/"+strconv.Itoa(i), "%s: bad glob %q: %v", list, g, err)
			}
		}
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
