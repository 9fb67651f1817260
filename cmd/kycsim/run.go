package main

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kycsim/kycsim/conformance"
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

// runDefaultTimeScale is run's time scale: an hour in 36 ms, Sumsub's
// 24-hour retry schedule in 0.87 s. Scenario clocks move on by the waits
// they skip, so a smaller factor changes no timestamp, only how long the
// run takes.
const runDefaultTimeScale = 0.00001

// runDefaultQuiet is run's quiet window: how long an effect must keep
// holding once it holds. It is shorter than conform's (500 ms): run
// plays scripts while a receiver is built, conform certifies it; raise
// it with --quiet for a receiver that works in the background.
const runDefaultQuiet = 100 * time.Millisecond

// runClock makes the clock `kycsim run` plays scenarios on; tests replace
// it with a fixed one.
var runClock = func(scale float64) delivery.Clock { return delivery.NewScaledClock(scale) }

// repeatFlag is a repeatable flag whose every use is one value, commas
// and all (a report path may hold a comma).
type repeatFlag []string

func (r *repeatFlag) String() string { return strings.Join(*r, " ") }

func (r *repeatFlag) Set(s string) error {
	*r = append(*r, s)
	return nil
}

// runFlags are the flags of `kycsim run`.
type runFlags struct {
	all, check, failFast, asRecorded                 bool
	to, base, probe, secret, format, seed, replayDir string
	targets, tags, skipTags                          listFlag
	reports                                          repeatFlag
	timeScale                                        float64
	parallel                                         int
	quiet                                            time.Duration
}

// parseRunFlags parses and checks run's command line.
func (m *Main) parseRunFlags(args []string) (*runFlags, []string, error) {
	fs := m.newFlagSet("run", "run NAME|FILE|DIR|GLOB... [--all] [--tag T]... [--skip-tag T]... (--to URL | --target PRODUCT=URL... | --base URL) [--secret S] [--parallel N] [--fail-fast] [--seed N] [--report FORMAT:PATH]... [--check]")
	var f runFlags
	fs.BoolVar(&f.all, "all", false, "play every built-in scenario")
	fs.Var(&f.tags, "tag", "play only the selected scenarios with this tag; with no names, the built-ins with it (repeatable: any of them)")
	fs.Var(&f.skipTags, "skip-tag", "leave out the scenarios with this tag (repeatable)")
	fs.StringVar(&f.to, "to", "", "receiver URL, used as it is (scenarios of one product)")
	fs.Var(&f.targets, "target", "PRODUCT=URL: one product's receiver URL (repeatable)")
	fs.StringVar(&f.base, "base", "", "receiver base URL: each product's default path is appended ("+defaultPaths()+")")
	fs.StringVar(&f.probe, "probe", "", "the receiver's probe URL with {subject} (default with --base: BASE/_probe/{subject})")
	fs.StringVar(&f.secret, "secret", "", "Sumsub webhook secret (default: $"+secretFromEnv+")")
	fs.Float64Var(&f.timeScale, "time-scale", runDefaultTimeScale, "multiply waits and retry delays by this factor")
	fs.DurationVar(&f.quiet, "quiet", runDefaultQuiet, "how long every effect check must keep holding once it holds, so that background work is seen (0: none)")
	fs.IntVar(&f.parallel, "parallel", conformance.DefaultParallel, "how many scenarios run at once, each on its own clock with its own subjects")
	fs.BoolVar(&f.failFast, "fail-fast", false, "start no scenario after the first failure (those running finish; the rest are reported as skipped)")
	fs.BoolVar(&f.check, "check", false, "load and lint only; send nothing")
	fs.BoolVar(&f.asRecorded, "as-recorded", false, "send recorded callbacks (kycsim record) with the signature headers they came with instead of signing them with --secret")
	fs.StringVar(&f.format, "format", "text", "text or json (the report --report json writes)")
	fs.Var(&f.reports, "report", "also write a report: FORMAT:PATH with FORMAT json, junit, html or text (repeatable)")
	fs.StringVar(&f.replayDir, "replay-dir", "", "where to save the bodies the replay commands of failed steps send (default: "+replayDirName+" next to the first --report, else a new temporary directory)")
	fs.StringVar(&f.seed, "seed", "", "seed of the generated subjects, values and variants: the same seed plays the same payloads apart from their timestamps (default: a random one, printed)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return nil, nil, err
	}
	return &f, pos, f.validate()
}

// validate refuses flag values that cannot work.
func (f *runFlags) validate() error {
	if err := oneOf("format", f.format, "text", "json"); err != nil {
		return err
	}
	if f.quiet < 0 {
		return usageErrorf("--quiet %s: must be >= 0", f.quiet)
	}
	if f.parallel < 1 || f.parallel > conformance.MaxParallel {
		return usageErrorf("--parallel %d: must be 1..%d", f.parallel, conformance.MaxParallel)
	}
	if f.secret == "" {
		f.secret = os.Getenv(secretFromEnv)
	}
	return nil
}

// parseSeed reads a --seed value, or draws a random seed for "".
func parseSeed(s string) (uint64, error) {
	if s == "" {
		return event.RandomSeed(), nil
	}
	seed, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, usageErrorf("--seed %q: want a decimal number from 0 to %d", s, uint64(math.MaxUint64))
	}
	return seed, nil
}

func (m *Main) runRun(ctx context.Context, args []string) error {
	f, pos, err := m.parseRunFlags(args)
	if err != nil {
		return err
	}
	seed, err := parseSeed(f.seed)
	if err != nil {
		return err
	}
	cat, err := spec.Default()
	if err != nil {
		return err
	}
	list, err := m.selectScenarios(cat, selection{args: pos, all: f.all, tags: f.tags, skipTags: f.skipTags})
	if err != nil {
		return err
	}
	if f.check {
		for _, sc := range list {
			fmt.Fprintf(m.Stdout, "ok %s (%s, %d steps)\n", sc.Name, sc.Product, len(sc.Steps))
		}
		return nil
	}
	urls, err := targetURLs(list, f.to, f.targets, f.base)
	if err != nil {
		return err
	}
	if f.probe, err = runProbe(f.probe, f.base); err != nil {
		return err
	}
	files, err := createReports(f.reports)
	if err != nil {
		return err
	}
	defer closeReports(files)
	text := f.format == "text"
	announce := m.Stderr
	if text {
		announce = m.Stdout
	}
	rp, err := newReplays(f.replayDir, files, announce)
	if err != nil {
		return err
	}
	rep, err := m.playScenarios(ctx, cat, list, f, seed, urls, rp)
	if err != nil {
		return err
	}
	if err := m.writeRunOutput(rep, text, files); err != nil {
		return err
	}
	if rp.err != nil {
		return rp.err
	}
	if _, failed, _ := rep.Counts(); failed > 0 {
		return &failedError{what: fmt.Sprintf("%d scenario(s) failed", failed)}
	}
	if n := rep.CapacityLost(); n > 0 {
		return &capacityError{n: n}
	}
	return nil
}

// runProbe decides the probe URL template: --probe, else BASE/_probe/{subject}.
func runProbe(probe, base string) (string, error) {
	if probe == "" && base != "" {
		probe = strings.TrimSuffix(base, "/") + "/_probe/{subject}"
	}
	if probe != "" {
		if err := checkProbe("--probe", probe); err != nil {
			return "", err
		}
	}
	return probe, nil
}

// playScenarios plays the scenarios with conformance.Run, --parallel at
// a time, each on its own clock with its own subjects, and returns the
// report; in text mode it prints each scenario as it ends.
func (m *Main) playScenarios(ctx context.Context, cat *spec.Catalog, list []*scenarios.Scenario, f *runFlags, seed uint64, urls map[string]string, rp *replays) (*conformance.Report, error) {
	vendor, vendorBase, stopVendor, err := startVendorAPI()
	if err != nil {
		return nil, err
	}
	defer stopVendor()
	d := delivery.NewDispatcher(runClock(f.timeScale), delivery.NewLog(nil))
	d.LateGrace, d.Secrets = delivery.DefaultLateGrace, []string{f.secret}
	defer d.Close()
	opt := scenarios.Options{
		Catalog: cat, URLs: urls, Probe: f.probe, Secret: f.secret, Quiet: f.quiet,
		Dispatcher: d, Vendor: vendor, VendorBase: vendorBase, Seed: &seed, AsRecorded: f.asRecorded,
	}
	if f.quiet == 0 {
		opt.Quiet = -1 // --quiet 0: no quiet window
	}
	text := f.format == "text"
	if text {
		fmt.Fprintf(m.Stdout, "seed %d (--seed %d plays the same payloads again)\n\n", seed, seed)
	}
	cfg := conformance.Config{Parallel: f.parallel, FailFast: f.failFast, Finish: rp.attach}
	if text {
		cfg.OnCase = func(cr conformance.CaseResult) { m.printScenario(cr, urls) }
	}
	rep := conformance.Run(ctx, list, opt, cfg)
	rep.Kind, rep.Version, rep.Targets, rep.Settings = conformance.KindScenarios, Version(), urls, f.describe(seed)
	return rep, nil
}

// describe lists run's settings for the reports; the secret is left out.
func (f *runFlags) describe(seed uint64) map[string]string {
	out := map[string]string{
		"seed":        strconv.FormatUint(seed, 10),
		"parallel":    strconv.Itoa(f.parallel),
		"time-scale":  strconv.FormatFloat(f.timeScale, 'g', -1, 64),
		"quiet":       f.quiet.String(),
		"fail-fast":   strconv.FormatBool(f.failFast),
		"as-recorded": strconv.FormatBool(f.asRecorded),
		"probe":       cmpOr(f.probe, "(none)"),
		"secret":      "(not set)",
	}
	if f.secret != "" {
		out["secret"] = "(set)"
	}
	return out
}

// writeRunOutput prints the summary (text) or the JSON report, and writes
// the --report files.
func (m *Main) writeRunOutput(rep *conformance.Report, text bool, files []reportFile) error {
	if text {
		conformance.WriteSummary(m.Stdout, rep)
	} else if err := conformance.WriteJSON(m.Stdout, rep); err != nil {
		return err
	}
	for _, f := range files {
		if err := f.write(rep); err != nil {
			return err
		}
	}
	return nil
}

// printScenario prints a scenario as it ends: its steps, its verdict, and
// for each failed step where it is, its request and answer, and the
// command that replays it.
func (m *Main) printScenario(cr conformance.CaseResult, urls map[string]string) {
	line := safetext.TerminalLine
	fmt.Fprintf(m.Stdout, "%s (%s → %s)\n", line(cr.ID), cr.Product, line(urls[cr.Product]))
	for _, sr := range cr.Steps {
		m.printStep(sr)
	}
	verdict := strings.ToUpper(string(cr.Outcome))
	fmt.Fprintf(m.Stdout, "%s %s (%d steps, %s)\n", verdict, line(cr.ID), len(cr.Steps), cr.Duration.Round(time.Millisecond))
	if len(cr.Steps) == 0 {
		for _, r := range cr.Reasons {
			fmt.Fprintf(m.Stdout, "     %s\n", line(r))
		}
	}
	conformance.WriteFailedSteps(m.Stdout, cr, "     ")
	fmt.Fprintln(m.Stdout)
}

// targetURLs decides each product's receiver URL.
func targetURLs(list []*scenarios.Scenario, to string, targets []string, base string) (map[string]string, error) {
	urls := map[string]string{}
	products := map[string]bool{}
	for _, sc := range list {
		products[sc.Product] = true
	}
	if base != "" {
		if err := checkTarget("--base", base); err != nil {
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
		if err := checkTarget("--to", to); err != nil {
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
		if err := checkTarget("--target "+p, u); err != nil {
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
