package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kycsim/kycsim/conformance"
	"github.com/kycsim/kycsim/conformance/receiver"
	"github.com/kycsim/kycsim/conformance/safetext"
	"github.com/kycsim/kycsim/scenarios"
	"github.com/kycsim/kycsim/simulator"
	"github.com/kycsim/kycsim/simulator/delivery"
	"github.com/kycsim/kycsim/spec"
)

// unreachableError says the target could not be reached at all.
type unreachableError struct{ msg string }

func (e *unreachableError) Error() string { return e.msg }

// incompleteError says enforced cases could not be observed.
type incompleteError struct{ n int }

func (e *incompleteError) Error() string {
	return fmt.Sprintf("incomplete: %d enforced case(s) have effect checks that could not be observed; add --probe (or pass --allow-skips)", e.n)
}

// conformSettings are conform's settings after flags and profile.
type conformSettings struct {
	urls          map[string]string
	products      map[string]bool
	probe         string
	secret        string
	timeScale     float64
	settle, quiet time.Duration
	contentPolicy string
	handles       map[string][]string
	fetches       map[string]bool
	foreign       string
	sourceMode    string
	enforced      map[string]bool
	parallel      int
	allowSkips    bool
	wait          time.Duration
	only, skip    []string
}

// conformCommand is conform's command line, parsed: the settings the
// flags give, and what the rest of the run needs of them.
type conformCommand struct {
	st                      conformSettings
	list, fetches, failFast bool
	to, product, profile    string
	text                    bool // --format text
	handles                 listFlag
	enforce                 listFlag // --enforce: wins over the profile's
	reports                 repeatFlag
	replayDir               string
	seed                    uint64
	fs                      *flag.FlagSet // to tell which flags were given
}

// runConform certifies a receiver: flags, then the profile's or the
// product's targets, then checks of the whole, then the run.
func (m *Main) runConform(ctx context.Context, args []string) error {
	c, err := m.parseConformFlags(args)
	if err != nil {
		return err
	}
	cat, err := spec.Default()
	if err != nil {
		return err
	}
	cases, err := scenarios.Cases(cat)
	if err != nil {
		return err
	}
	if err := c.targets(cat); err != nil {
		return err
	}
	if cases, err = conformance.Select(cases, c.st.products, c.st.only, c.st.skip); err != nil {
		return usageErrorf("--only/--skip: %v", err)
	}
	if c.list {
		for _, sc := range cases {
			fmt.Fprintf(m.Stdout, "%-48s %-6s %s\n%48s        rule: %s\n%48s        source: %s\n", sc.Case.ID, sc.Case.Level, sc.Description, "", sc.Case.Rule, "", sc.Case.Source)
		}
		fmt.Fprintf(m.Stdout, "%d case(s)\n", len(cases))
		return nil
	}
	if err := c.validate(len(cases)); err != nil {
		return err
	}
	return m.playConform(ctx, c, cat, cases)
}

// parseConformFlags reads conform's flags into settings and checks each
// flag on its own.
func (m *Main) parseConformFlags(args []string) (*conformCommand, error) {
	c := &conformCommand{st: conformSettings{urls: map[string]string{}, enforced: map[string]bool{scenarios.LevelMust: true}, fetches: map[string]bool{}}}
	fs := m.newFlagSet("conform", "conform --list | --to URL --product P [--secret S] [--probe URL-TEMPLATE] [--handles M,...] [--only GLOB]... [--skip GLOB]... [--report FORMAT:PATH]...")
	st := &c.st
	fs.BoolVar(&c.list, "list", false, "list every case: id, level, what it checks, the vendor rule")
	fs.StringVar(&c.to, "to", "", "the receiver's URL for the product")
	fs.StringVar(&c.product, "product", "", "the product the receiver takes")
	fs.StringVar(&st.secret, "secret", "", "Sumsub webhook secret (default: $"+secretFromEnv+")")
	fs.StringVar(&st.probe, "probe", "", "the receiver's probe, e.g. 'http://127.0.0.1:9000/_probe/{subject}'")
	fs.Float64Var(&st.timeScale, "time-scale", defaultTimeScale, "multiply waits and retry delays by this factor")
	formatName := fs.String("format", "text", "text or json")
	fs.StringVar(&st.contentPolicy, "content-policy", "", "what the receiver does with unusable content: either (4xx or 2xx-and-drop; the default), reject (4xx) or ack-and-drop (2xx, no effect)")
	jumioInvalid := fs.String("jumio-invalid", "", "older name of --content-policy (ack-and-drop or reject)")
	fs.Var(&c.handles, "handles", "the messages the receiver acts on, comma-separated (default: every message); others need only be acknowledged")
	fs.BoolVar(&c.fetches, "fetches", false, "the receiver fetches results from the vendor API (KYX href, Netverify retrieval): check that it does")
	fs.StringVar(&st.foreign, "foreign-source", "127.0.0.2", "a loopback address the receiver must treat as foreign (not a Jumio callback address)")
	fs.DurationVar(&st.settle, "settle", 2*time.Second, "how long to wait for the receiver's effects (probe, vendor API) to show")
	fs.DurationVar(&st.quiet, "quiet", scenarios.DefaultQuiet, "how long every effect check must keep holding, so that background work is seen (raise it for an asynchronous receiver)")
	fs.IntVar(&st.parallel, "parallel", conformance.DefaultParallel, "how many cases run at once")
	fs.BoolVar(&st.allowSkips, "allow-skips", false, "pass even when enforced cases have effect checks that could not be observed (no probe; their answers are checked all the same)")
	fs.BoolVar(&c.failFast, "fail-fast", false, "start no case after the first failure (those running finish; the rest are reported skipped)")
	fs.DurationVar(&st.wait, "wait", 0, "wait up to this long for the target to accept connections before starting (e.g. 30s in CI)")
	fs.StringVar(&st.sourceMode, "source-mode", conformance.SourceDirect, "how the receiver learns a Jumio callback's source: direct (the peer address) or proxy (the last X-Forwarded-For entry)")
	fs.StringVar(&c.profile, "profile", "", "a YAML profile: targets per product, secret, handles, policies, levels, case selection")
	fs.Var(&c.enforce, "enforce", "the levels whose failures fail the run, comma-separated: MUST (the default) or MUST,SHOULD to be strict (wins over the profile's enforce)")
	fs.Var(&c.reports, "report", "also write a report: FORMAT:PATH with FORMAT json, junit, html or text (repeatable)")
	fs.Var((*listFlag)(&st.only), "only", "run only the cases whose id matches this glob (repeatable), e.g. 'sumsub.reject.*'")
	fs.Var((*listFlag)(&st.skip), "skip", "skip the cases whose id matches this glob (repeatable)")
	seedFlag := fs.String("seed", "", "seed of the generated subjects, values and variants: the same seed plays the same payloads apart from their timestamps (default: a random one, printed)")
	fs.StringVar(&c.replayDir, "replay-dir", "", "where to save the bodies the replay commands of failed steps send (default: "+replayDirName+" next to the first --report, else a new temporary directory)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return nil, err
	}
	c.fs, c.text = fs, *formatName == "text"
	if c.seed, err = parseSeed(*seedFlag); err != nil {
		return nil, err
	}
	if len(pos) > 0 {
		return nil, usageErrorf("unexpected argument %q", pos[0])
	}
	if err := oneOf("format", *formatName, "text", "json"); err != nil {
		return nil, err
	}
	if err := oneOf("source-mode", st.sourceMode, conformance.SourceDirect, conformance.SourceProxy); err != nil {
		return nil, err
	}
	if err := olderName(fs, "content-policy", "jumio-invalid", &st.contentPolicy, *jumioInvalid, scenarios.PolicyAckAndDrop, scenarios.PolicyReject); err != nil {
		return nil, err
	}
	if st.contentPolicy != "" {
		return c, oneOf("content-policy", st.contentPolicy, scenarios.ContentPolicies...)
	}
	return c, nil
}

// olderName reads a flag given by its older name into the current one
// (*value): one may be given, not both, and the older one takes only the
// values it took (any when none are listed).
func olderName(fs *flag.FlagSet, name, older string, value *string, olderValue string, values ...string) error {
	if olderValue == "" {
		return nil
	}
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	if given {
		return usageErrorf("give --%s, not also its older name --%s", name, older)
	}
	if len(values) > 0 {
		if err := oneOf(older, olderValue, values...); err != nil {
			return err
		}
	}
	*value = olderValue
	return nil
}

// targets sets the products, URLs, handles and fetches: from the profile
// (flags given on the command line winning over its other values), or
// from --product, --to, --handles and --fetches.
func (c *conformCommand) targets(cat *spec.Catalog) error {
	switch {
	case c.profile != "":
		if c.to != "" || c.product != "" || len(c.handles) > 0 || c.fetches {
			return usageErrorf("--profile names the targets, handles and fetches; do not combine it with --to, --product, --handles or --fetches")
		}
		return c.st.applyProfile(c.fs, c.profile, cat)
	case c.product != "":
		p, err := cat.Product(c.product)
		if err != nil {
			return err
		}
		c.st.products = map[string]bool{p.Name: true}
		for _, h := range c.handles {
			if _, err := p.Message(h); err != nil {
				return usageErrorf("--handles: %v", err)
			}
		}
		if len(c.handles) > 0 {
			c.st.handles = map[string][]string{p.Name: c.handles}
		}
		c.st.fetches[p.Name] = c.fetches
	case len(c.handles) > 0 || c.fetches:
		return usageErrorf("--handles and --fetches describe the receiver of one --product")
	}
	return nil
}

// validate refuses, before anything is sent, a run that cannot work.
func (c *conformCommand) validate(cases int) error {
	if len(c.enforce) > 0 {
		c.st.enforced = map[string]bool{}
		for _, l := range c.enforce {
			l = strings.ToUpper(l)
			if l != scenarios.LevelMust && l != scenarios.LevelShould {
				return usageErrorf("--enforce %q: want MUST or SHOULD, comma-separated", l)
			}
			c.st.enforced[l] = true
		}
	}
	if c.profile == "" {
		if c.product == "" || c.to == "" {
			return usageErrorf("--to and --product are required (or --profile, or --list)")
		}
		c.st.urls[c.product] = c.to
	}
	if err := c.st.check(); err != nil {
		return err
	}
	if cases == 0 {
		return usageErrorf("no case is selected")
	}
	return nil
}

// playConform runs the cases and reports: on stdout as it goes, in the
// report files at the end; the error says how the run ended.
func (m *Main) playConform(ctx context.Context, c *conformCommand, cat *spec.Catalog, cases []*scenarios.Scenario) error {
	st := &c.st
	// Report files are created before anything is sent, so that a path
	// that cannot be written stops the run at once.
	files, err := createReports(c.reports)
	if err != nil {
		return err
	}
	defer closeReports(files)
	announce := m.Stderr
	if c.text {
		announce = m.Stdout
	}
	rp, err := newReplays(c.replayDir, files, announce)
	if err != nil {
		return err
	}
	for _, u := range sortedValues(st.urls) {
		if err := reachable(ctx, u, st.wait); err != nil {
			return err
		}
	}
	vendor, vendorBase, stopVendor, err := startVendorAPI()
	if err != nil {
		return err
	}
	defer stopVendor()
	d := delivery.NewDispatcher(delivery.NewScaledClock(st.timeScale), delivery.NewLog(nil))
	d.LateGrace, d.Secrets = delivery.DefaultLateGrace, []string{st.secret}
	defer d.Close()
	opt := scenarios.Options{
		Catalog: cat, URLs: st.urls, Probe: st.probe, Secret: st.secret,
		Dispatcher: d, Vendor: vendor, VendorBase: vendorBase, Settle: st.settle, Quiet: st.quiet,
		ContentPolicy: st.contentPolicy, Handles: st.handles, Fetches: st.fetches, Seed: &c.seed,
	}
	if st.quiet == 0 {
		opt.Quiet = -1 // --quiet 0: no quiet window
	}
	opt.Vars, opt.ForwardedFor = conformance.SourceVars(st.sourceMode, st.foreign)
	style := conformance.TextStyle{Color: isTerminal(m.Stdout) && os.Getenv("NO_COLOR") == ""}
	done := 0
	rep := conformance.Run(ctx, cases, opt, conformance.Config{Parallel: st.parallel, FailFast: c.failFast, Finish: rp.attach, DiagnoseTarget: true, OnCase: func(cr conformance.CaseResult) {
		done++
		if c.text {
			if style.Color {
				fmt.Fprint(m.Stdout, "\r\x1b[K")
			}
			conformance.WriteCase(m.Stdout, cr, style)
			if style.Color && done < len(cases) {
				fmt.Fprintf(m.Stdout, "  [%d/%d]", done, len(cases))
			}
		}
	}})
	rep.Kind, rep.Version, rep.Targets, rep.Settings = conformance.KindConformance, Version(), st.urls, st.describe()
	rep.Settings["seed"] = strconv.FormatUint(c.seed, 10)
	if c.text {
		if style.Color {
			fmt.Fprint(m.Stdout, "\r\x1b[K")
		}
		conformance.WriteSummary(m.Stdout, rep)
		for _, h := range hints(rep, st.secret != "") {
			fmt.Fprintln(m.Stdout, "hint: "+safetext.TerminalLine(h))
		}
	} else if err := conformance.WriteJSON(m.Stdout, rep); err != nil {
		return err
	}
	for _, f := range files {
		if err := f.write(rep); err != nil {
			return err
		}
	}
	if rp.err != nil {
		return rp.err
	}
	switch {
	case rep.Misdirected != nil:
		return &unreachableError{msg: "misconfigured target: " + rep.Misdirected.Hint(c.targetFlag())}
	case rep.NeverAnswered:
		return &unreachableError{msg: rep.GaveUp}
	case rep.Failed(st.enforced):
		return &failedError{what: "conformance failure"}
	case rep.CapacityLost() > 0:
		return &capacityError{n: rep.CapacityLost()}
	}
	if n := rep.Incomplete(st.enforced); n > 0 && !st.allowSkips {
		return &incompleteError{n: n}
	}
	return nil
}

// applyProfile reads a profile into the settings; a flag given on the
// command line wins over the profile's value.
func (st *conformSettings) applyProfile(fs *flag.FlagSet, file string, cat *spec.Catalog) error {
	data, err := readCapped(file)
	if err != nil {
		return usageErrorf("--profile: %v", err)
	}
	known := map[string][]string{}
	for _, p := range cat.Products() {
		for _, m := range p.Messages {
			known[p.Name] = append(known[p.Name], m.Name)
		}
	}
	prof, err := conformance.LoadProfile(file, data, known)
	if err != nil {
		return usageErrorf("%v", err)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	st.products = map[string]bool{}
	for p, u := range prof.Targets {
		st.products[p], st.urls[p] = true, u
	}
	st.handles, st.fetches = prof.Handles, prof.FetchesSet()
	st.only, st.skip = append(st.only, prof.Only...), append(st.skip, prof.Skip...)
	st.enforced = prof.Enforced()
	if !set["probe"] {
		st.probe = prof.Probe
	}
	if !set["secret"] {
		st.secret = prof.Secret
	}
	if !set["foreign-source"] {
		st.foreign = prof.ForeignSource
	}
	if !set["source-mode"] {
		st.sourceMode = prof.SourceMode
	}
	if !set["content-policy"] && !set["jumio-invalid"] {
		st.contentPolicy = prof.ContentPolicy
	}
	if !set["time-scale"] && prof.TimeScale > 0 {
		st.timeScale = prof.TimeScale
	}
	if !set["settle"] && prof.Settle > 0 {
		st.settle = prof.Settle
	}
	if !set["quiet"] && prof.Quiet > 0 {
		st.quiet = prof.Quiet
	}
	if !set["parallel"] && prof.Parallel > 0 {
		st.parallel = prof.Parallel
	}
	st.allowSkips = st.allowSkips || prof.AllowSkips
	return nil
}

// check refuses, before anything is sent, settings that cannot work.
func (st *conformSettings) check() error {
	for p, u := range st.urls {
		if err := checkTarget("--to ("+p+")", u); err != nil {
			return err
		}
	}
	if st.probe != "" {
		if err := checkProbe("--probe", st.probe); err != nil {
			return err
		}
	}
	if math.IsNaN(st.timeScale) || math.IsInf(st.timeScale, 0) || st.timeScale <= 0 {
		return usageErrorf("--time-scale %g: must be a number > 0", st.timeScale)
	}
	if st.settle <= 0 {
		return usageErrorf("--settle %s: must be > 0", st.settle)
	}
	if st.quiet < 0 {
		return usageErrorf("--quiet %s: must be >= 0", st.quiet)
	}
	if st.wait < 0 {
		return usageErrorf("--wait %s: must be >= 0", st.wait)
	}
	if st.parallel < 1 || st.parallel > conformance.MaxParallel {
		return usageErrorf("--parallel %d: must be 1..%d", st.parallel, conformance.MaxParallel)
	}
	if st.secret == "" {
		st.secret = os.Getenv(secretFromEnv)
	}
	if st.sourceMode == conformance.SourceDirect {
		a, err := simulator.ParseSource(st.foreign)
		if err != nil {
			return usageErrorf("--foreign-source: %v (in source mode direct it must be a loopback address)", err)
		}
		if a.Unmap() == netip.IPv4Unspecified() || a == netip.MustParseAddr("127.0.0.1") || a == netip.IPv6Loopback() {
			return usageErrorf("--foreign-source %s: genuine callbacks come from this address; give another loopback address, such as 127.0.0.2", st.foreign)
		}
	} else {
		a, err := netip.ParseAddr(st.foreign)
		if err != nil {
			return usageErrorf("--foreign-source: %v", err)
		}
		if slices.Contains(receiver.JumioCallbackSources, a.Unmap()) {
			return usageErrorf("--foreign-source %s: this is one of Jumio's callback addresses, which genuine callbacks carry in source mode proxy; give an address that is not Jumio's, such as 127.0.0.2", st.foreign)
		}
	}
	return nil
}

// describe lists the settings that shape verdicts, for the reports; the
// secret is left out.
func (st *conformSettings) describe() map[string]string {
	out := map[string]string{
		"content-policy": cmpOr(st.contentPolicy, scenarios.PolicyEither),
		"settle":         st.settle.String(),
		"quiet":          st.quiet.String(),
		"time-scale":     strconv.FormatFloat(st.timeScale, 'g', -1, 64),
		"parallel":       strconv.Itoa(st.parallel),
		"source-mode":    st.sourceMode,
		"foreign-source": st.foreign,
		"probe":          cmpOr(st.probe, "(none)"),
		"secret":         "(not set)",
	}
	if st.secret != "" {
		out["secret"] = "(set)"
	}
	var levels []string
	for l := range st.enforced {
		levels = append(levels, l)
	}
	slices.Sort(levels)
	out["enforce"] = strings.Join(levels, ",")
	for p := range st.urls {
		h := "(every message)"
		if list, ok := st.handles[p]; ok {
			h = strings.Join(list, ",")
		}
		out["handles."+p] = h
		out["fetches."+p] = strconv.FormatBool(st.fetches[p])
	}
	return out
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// targetFlag names where the run's target URLs came from, for hints.
func (c *conformCommand) targetFlag() string {
	if c.profile != "" {
		return "the profile's target"
	}
	return "--to"
}

// hints are the advice a run's results call for.
func hints(rep *conformance.Report, secret bool) []string {
	var out []string
	// A misdirected run ends with its diagnosis as the error; the
	// other hints would be about the wrong place.
	if rep.Misdirected != nil {
		return nil
	}
	switch {
	case rep.AnsweredLate:
		out = append(out, "answer at once and do the work afterwards: the vendor counts a late answer as a failed delivery and sends it again")
	case rep.GaveUp != "":
		out = append(out, rep.GaveUp+"; is it running, and does it answer within the vendor deadline?")
	}
	signed, refused := 0, 0
	for _, c := range rep.Cases {
		if c.Product != "sumsub" || !strings.HasPrefix(c.ID, "sumsub.accept.") {
			continue
		}
		for _, s := range c.Steps {
			for _, a := range s.Attempts {
				if a.Err == "" {
					signed++
					if a.Status == 401 {
						refused++
					}
				}
			}
		}
	}
	if signed > 0 && refused == signed && !secret {
		out = append(out, "every Sumsub webhook got 401, and no secret was given (--secret, $"+secretFromEnv+", or secret/secret-env in a profile), so they went unsigned: give the webhook secret your receiver checks")
	} else if signed > 0 && refused == signed {
		out = append(out, "every correctly signed webhook got 401: check that --secret is the webhook's secret (Sumsub dashboard, webhook settings), not the API app token's secret")
	}
	if n := rep.Incomplete(map[string]bool{scenarios.LevelMust: true, scenarios.LevelShould: true}); n > 0 {
		out = append(out, fmt.Sprintf("%d case(s) have effect checks that could not be observed: add --probe with the receiver's probe endpoint (see the README's probe protocol)", n))
	}
	return out
}

// reportFile is a --report file, created before the run.
type reportFile struct {
	format, path string
	file         *os.File
}

// createReports creates every --report file.
func createReports(specs []string) ([]reportFile, error) {
	var out []reportFile
	fail := func(err error) ([]reportFile, error) {
		for _, f := range out {
			f.file.Close()
			os.Remove(f.path)
		}
		return nil, err
	}
	for _, r := range specs {
		format, path, ok := strings.Cut(r, ":")
		if !ok || path == "" {
			return fail(usageErrorf("--report %q: want FORMAT:PATH", r))
		}
		if err := oneOf("report", format, "json", "junit", "html", "text"); err != nil {
			return fail(err)
		}
		f, err := os.Create(path)
		if err != nil {
			return fail(usageErrorf("--report %s: %v", path, err))
		}
		out = append(out, reportFile{format: format, path: path, file: f})
	}
	return out, nil
}

// write writes the report into the file and closes it.
func (f reportFile) write(rep *conformance.Report) error {
	var err error
	switch f.format {
	case "json":
		err = conformance.WriteJSON(f.file, rep)
	case "junit":
		err = conformance.WriteJUnit(f.file, rep)
	case "html":
		err = conformance.WriteHTML(f.file, rep)
	default:
		conformance.WriteText(f.file, rep, conformance.TextStyle{})
	}
	if cerr := f.file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("--report %s: %w", f.path, err)
	}
	return nil
}

// reachable checks that the target accepts connections, trying again
// for up to wait.
func reachable(ctx context.Context, target string, wait time.Duration) error {
	u, err := url.Parse(target)
	if err != nil {
		return usageErrorf("--to: %v", err)
	}
	host := u.Host
	if u.Port() == "" {
		if u.Scheme == "https" {
			host += ":443"
		} else {
			host += ":80"
		}
	}
	deadline := time.Now().Add(wait)
	for {
		c, err := net.DialTimeout("tcp", host, 2*time.Second)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			msg := fmt.Sprintf("the target %s cannot be reached: %v", target, err)
			if wait > 0 {
				msg += fmt.Sprintf(" (waited %s)", wait)
			}
			return &unreachableError{msg: msg}
		}
		t := time.NewTimer(200 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// sortedValues returns a map's values ordered by key.
func sortedValues(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = m[k]
	}
	return out
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// closeReports closes the --report files (a no-op for those written).
func closeReports(files []reportFile) {
	for _, f := range files {
		f.file.Close()
	}
}
