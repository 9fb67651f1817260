package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kycsim/kycsim/conformance/receiver"
	"github.com/kycsim/kycsim/conformance/safetext"
	"github.com/kycsim/kycsim/scenarios"
	"github.com/kycsim/kycsim/simulator/delivery"
	"github.com/kycsim/kycsim/simulator/event"
	"github.com/kycsim/kycsim/spec"
)

// defaultTimeScale plays scenario waits and retry schedules fast: an hour
// in 0.36 s.
const defaultTimeScale = 0.0001

// runClock makes the clock `kycsim run` plays scenarios on; tests replace
// it with a fixed one.
var runClock = func(scale float64) delivery.Clock { return delivery.NewScaledClock(scale) }

func (m *Main) runRun(ctx context.Context, args []string) error {
	fs := m.newFlagSet("run", "run NAME|FILE... [--all] (--to URL | --target PRODUCT=URL... | --base URL) [--secret S] [--time-scale F] [--seed N] [--check]")
	all := fs.Bool("all", false, "play every built-in scenario")
	to := fs.String("to", "", "receiver URL, used as it is (scenarios of one product)")
	var targets listFlag
	fs.Var(&targets, "target", "PRODUCT=URL: one product's receiver URL (repeatable)")
	base := fs.String("base", "", "receiver base URL: each product's default path is appended ("+defaultPaths()+")")
	probe := fs.String("probe", "", "the receiver's probe URL with {subject} (default with --base: BASE/_probe/{subject})")
	secret := fs.String("secret", "", "Sumsub webhook secret (default: $"+secretFromEnv+")")
	timeScale := fs.Float64("time-scale", defaultTimeScale, "multiply waits and retry delays by this factor")
	check := fs.Bool("check", false, "load and lint only; send nothing")
	formatName := fs.String("format", "text", "text or json")
	seedFlag := fs.String("seed", "", "seed of the generated subjects, values and variants: the same seed plays the same payloads apart from their timestamps (default: a random one, printed)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := oneOf("format", *formatName, "text", "json"); err != nil {
		return err
	}
	if *timeScale <= 0 {
		return usageErrorf("--time-scale %g: must be > 0", *timeScale)
	}
	if *secret == "" {
		*secret = os.Getenv(secretFromEnv)
	}
	seed := event.RandomSeed()
	if *seedFlag != "" {
		if seed, err = strconv.ParseUint(*seedFlag, 10, 64); err != nil {
			return usageErrorf("--seed %q: want a decimal number from 0 to %d", *seedFlag, uint64(math.MaxUint64))
		}
	}
	cat, err := spec.Default()
	if err != nil {
		return err
	}
	list, err := m.selectScenarios(cat, pos, *all)
	if err != nil {
		return err
	}
	if *check {
		for _, sc := range list {
			fmt.Fprintf(m.Stdout, "ok %s (%s, %d steps)\n", sc.Name, sc.Product, len(sc.Steps))
		}
		return nil
	}
	urls, err := targetURLs(list, *to, targets, *base)
	if err != nil {
		return err
	}
	if *probe == "" && *base != "" {
		*probe = strings.TrimSuffix(*base, "/") + "/_probe/{subject}"
	}
	if *probe != "" && !strings.Contains(*probe, "{subject}") {
		return usageErrorf("--probe %q: the template has no {subject}", *probe)
	}

	vendor, vendorBase, stopVendor, err := startVendorAPI()
	if err != nil {
		return err
	}
	defer stopVendor()

	d := delivery.NewDispatcher(runClock(*timeScale), delivery.NewLog(nil))
	defer d.Close()
	opt := scenarios.Options{
		Catalog: cat, URLs: urls, Probe: *probe, Secret: *secret,
		Dispatcher: d, Vendor: vendor, VendorBase: vendorBase, Seed: &seed,
	}
	text := *formatName == "text"
	if text {
		fmt.Fprintf(m.Stdout, "seed %d (--seed %d plays the same payloads again)\n\n", seed, seed)
		opt.OnStep = func(sr scenarios.StepResult) { m.printStep(sr) }
	}
	var results []*scenarios.Result
	failed := 0
	for _, sc := range list {
		if text {
			fmt.Fprintf(m.Stdout, "%s (%s → %s)\n", sc.Name, sc.Product, urls[sc.Product])
		}
		res := scenarios.Run(ctx, sc, opt)
		results = append(results, res)
		if !res.Passed {
			failed++
		}
		if text {
			verdict := "PASS"
			if !res.Passed {
				verdict = "FAIL"
			}
			fmt.Fprintf(m.Stdout, "%s %s (%d steps, %s)\n\n", verdict, sc.Name, len(res.Steps), res.Duration.Round(time.Millisecond))
		}
		if ctx.Err() != nil {
			break
		}
	}
	if text {
		fmt.Fprintf(m.Stdout, "%d scenario(s): %d passed, %d failed\n", len(results), len(results)-failed, failed)
	} else {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(map[string]any{"seed": strconv.FormatUint(seed, 10), "scenarios": results, "passed": len(results) - failed, "failed": failed}); err != nil {
			return err
		}
	}
	if failed > 0 {
		return &failedError{what: fmt.Sprintf("%d scenario(s) failed", failed)}
	}
	return nil
}

// selectScenarios loads the named built-ins and files, or every built-in.
func (m *Main) selectScenarios(cat *spec.Catalog, args []string, all bool) ([]*scenarios.Scenario, error) {
	if len(args) == 0 && !all {
		return nil, usageErrorf("name scenarios (built-in names or files), or --all")
	}
	var lib []*scenarios.Scenario
	var err error
	byName := map[string]*scenarios.Scenario{}
	if all || len(args) > 0 {
		if lib, err = scenarios.Library(cat); err != nil {
			return nil, err
		}
		for _, sc := range lib {
			byName[sc.Name] = sc
		}
	}
	var out []*scenarios.Scenario
	if all {
		out = append(out, lib...)
	}
	for _, a := range args {
		if sc, ok := byName[a]; ok {
			out = append(out, sc)
			continue
		}
		data, err := readCapped(a)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) && !strings.HasSuffix(a, ".yaml") && !strings.HasSuffix(a, ".yml") {
				return nil, usageErrorf("%q is neither a built-in scenario (see 'kycsim scenarios') nor a file", a)
			}
			return nil, usageErrorf("%v", err)
		}
		sc, err := scenarios.Load(a, data, cat)
		if err != nil {
			return nil, usageErrorf("%v", err)
		}
		if sc.Name == "" {
			sc.Name = a
		}
		out = append(out, sc)
	}
	return out, nil
}

// targetURLs decides each product's receiver URL.
func targetURLs(list []*scenarios.Scenario, to string, targets []string, base string) (map[string]string, error) {
	urls := map[string]string{}
	products := map[string]bool{}
	for _, sc := range list {
		products[sc.Product] = true
	}
	if base != "" {
		if err := checkURL("--base", base); err != nil {
			return nil, err
		}
		for p := range products {
			path, ok := receiver.Paths[p]
			if !ok {
				return nil, usageErrorf("--base: no default path for product %s; give --target %s=URL", p, p)
			}
			urls[p] = strings.TrimSuffix(base, "/") + path
		}
	}
	if to != "" {
		if err := checkURL("--to", to); err != nil {
			return nil, err
		}
		if len(products) > 1 {
			names := make([]string, 0, len(products))
			for p := range products {
				names = append(names, p)
			}
			sort.Strings(names)
			return nil, usageErrorf("--to serves one product, but the scenarios are of %s: use --target PRODUCT=URL or --base", strings.Join(names, ", "))
		}
		for p := range products {
			urls[p] = to
		}
	}
	for _, t := range targets {
		p, u, ok := strings.Cut(t, "=")
		if !ok {
			return nil, usageErrorf("--target %q: want PRODUCT=URL", t)
		}
		if err := checkURL("--target "+p, u); err != nil {
			return nil, err
		}
		urls[p] = u
	}
	for p := range products {
		if urls[p] == "" {
			return nil, usageErrorf("no receiver URL for %s: give --to, --target %s=URL or --base", p, p)
		}
	}
	return urls, nil
}

func checkURL(flagName, s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageErrorf("%s %q: want an http:// or https:// URL", flagName, s)
	}
	return nil
}

func defaultPaths() string {
	var parts []string
	for p, path := range receiver.Paths {
		parts = append(parts, p+" "+path)
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// printStep prints a step as it ends.
func (m *Main) printStep(sr scenarios.StepResult) {
	line := fmt.Sprintf("  %2d %s", sr.Index, safetext.TerminalLine(sr.Label))
	if n := len(sr.Attempts); n > 0 {
		a := sr.Attempts[n-1]
		outcome := safetext.TerminalLine(a.Err)
		if outcome == "" {
			outcome = fmt.Sprintf("%d %s", a.Status, http.StatusText(a.Status))
		}
		line += fmt.Sprintf(" → %s  %s", outcome, a.Latency.Round(10*time.Microsecond))
		if n > 1 {
			line += fmt.Sprintf("  (%d attempts)", n)
		}
	}
	fmt.Fprintln(m.Stdout, line)
	for _, f := range sr.Failures {
		fmt.Fprintf(m.Stdout, "     FAIL %s\n", safetext.TerminalLine(f))
	}
	for _, s := range sr.Skipped {
		fmt.Fprintf(m.Stdout, "     skip %s\n", safetext.TerminalLine(s))
	}
	for _, n := range sr.Notes {
		fmt.Fprintf(m.Stdout, "     note %s\n", safetext.TerminalLine(n))
	}
}
