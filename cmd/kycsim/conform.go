package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/kycsim/kycsim/conformance"
	"github.com/kycsim/kycsim/scenarios"
	"github.com/kycsim/kycsim/simulator"
	"github.com/kycsim/kycsim/simulator/delivery"
	"github.com/kycsim/kycsim/spec"
)

// unreachableError says the target could not be reached at all.
type unreachableError struct{ msg string }

func (e *unreachableError) Error() string { return e.msg }

func (m *Main) runConform(ctx context.Context, args []string) error {
	fs := m.newFlagSet("conform", "conform --list | --to URL --product P [--secret S] [--probe URL-TEMPLATE] [--only GLOB]... [--skip GLOB]...")
	list := fs.Bool("list", false, "list every case: id, level, what it checks, the vendor rule")
	to := fs.String("to", "", "the receiver's URL for the product")
	product := fs.String("product", "", "the product the receiver takes")
	secret := fs.String("secret", "", "Sumsub webhook secret (default: $"+secretFromEnv+")")
	probe := fs.String("probe", "", "the receiver's probe, e.g. 'http://127.0.0.1:9000/_probe/{subject}'")
	timeScale := fs.Float64("time-scale", defaultTimeScale, "multiply waits and retry delays by this factor")
	formatName := fs.String("format", "text", "text or json")
	jumioInvalid := fs.String("jumio-invalid", "ack-and-drop", "what the receiver does with bad Jumio content: ack-and-drop (2xx and no effect, as Jumio advises) or reject (4xx)")
	foreign := fs.String("foreign-source", "127.0.0.2", "a loopback address the receiver must treat as foreign (not a Jumio callback address)")
	settle := fs.Duration("settle", 2*time.Second, "how long to poll for the receiver's effects (probe, vendor API) before a case fails")
	sourceMode := fs.String("source-mode", conformance.SourceDirect, "how the receiver learns a Jumio callback's source: direct (the peer address) or proxy (the last X-Forwarded-For entry)")
	profileFile := fs.String("profile", "", "a YAML profile: targets per product, secret, sources, policies, levels, case selection")
	var only, skip, reports listFlag
	fs.Var(&reports, "report", "also write a report: FORMAT:PATH with FORMAT json, junit, html or text (repeatable)")
	fs.Var(&only, "only", "run only the cases whose id matches this glob (repeatable), e.g. 'sumsub.reject.*'")
	fs.Var(&skip, "skip", "skip the cases whose id matches this glob (repeatable)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErrorf("unexpected argument %q", pos[0])
	}
	if err := oneOf("format", *formatName, "text", "json"); err != nil {
		return err
	}
	if err := oneOf("jumio-invalid", *jumioInvalid, "ack-and-drop", "reject"); err != nil {
		return err
	}
	if err := oneOf("source-mode", *sourceMode, conformance.SourceDirect, conformance.SourceProxy); err != nil {
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
	var products map[string]bool
	urls := map[string]string{}
	enforced := map[string]bool{scenarios.LevelMust: true}
	if *profileFile != "" {
		if *to != "" || *product != "" {
			return usageErrorf("--profile names the targets; do not combine it with --to or --product")
		}
		data, err := os.ReadFile(*profileFile)
		if err != nil {
			return usageErrorf("--profile: %v", err)
		}
		names := make([]string, 0, len(cat.Products()))
		for _, p := range cat.Products() {
			names = append(names, p.Name)
		}
		prof, err := conformance.LoadProfile(*profileFile, data, names)
		if err != nil {
			return usageErrorf("%v", err)
		}
		products = map[string]bool{}
		for p, u := range prof.Targets {
			products[p], urls[p] = true, u
		}
		*probe, *secret, *foreign, *jumioInvalid = firstSet(*probe, prof.Probe), firstSet(*secret, prof.Secret), prof.ForeignSource, prof.JumioInvalid
		only, skip = append(only, prof.Only...), append(skip, prof.Skip...)
		if prof.TimeScale > 0 {
			*timeScale = prof.TimeScale
		}
		if prof.Settle > 0 {
			*settle = prof.Settle
		}
		enforced = prof.Enforced()
		*sourceMode = prof.SourceMode
	} else if *product != "" {
		if _, err := cat.Product(*product); err != nil {
			return err
		}
		products = map[string]bool{*product: true}
	}
	if cases, err = conformance.Select(cases, products, only, skip); err != nil {
		return usageErrorf("--only/--skip: %v", err)
	}
	if *list {
		for _, sc := range cases {
			fmt.Fprintf(m.Stdout, "%-48s %-6s %s\n%48s        rule: %s\n%48s        source: %s\n", sc.Case.ID, sc.Case.Level, sc.Description, "", sc.Case.Rule, "", sc.Case.Source)
		}
		fmt.Fprintf(m.Stdout, "%d case(s)\n", len(cases))
		return nil
	}
	if *profileFile == "" {
		if *product == "" || *to == "" {
			return usageErrorf("--to and --product are required (or --profile, or --list)")
		}
		if err := checkURL("--to", *to); err != nil {
			return err
		}
		urls[*product] = *to
	}
	if *probe != "" && !strings.Contains(*probe, "{subject}") {
		return usageErrorf("--probe %q: the template has no {subject}", *probe)
	}
	if *timeScale <= 0 {
		return usageErrorf("--time-scale %g: must be > 0", *timeScale)
	}
	if *secret == "" {
		*secret = os.Getenv(secretFromEnv)
	}
	if len(cases) == 0 {
		return usageErrorf("no case is selected")
	}
	if *sourceMode == conformance.SourceDirect {
		if _, err := simulator.ParseSource(*foreign); err != nil {
			return usageErrorf("--foreign-source: %v (in source mode direct it must be a loopback address)", err)
		}
	} else if _, err := netip.ParseAddr(*foreign); err != nil {
		return usageErrorf("--foreign-source: %v", err)
	}
	type reportFile struct{ format, path string }
	var files []reportFile
	for _, r := range reports {
		format, path, ok := strings.Cut(r, ":")
		if !ok || path == "" {
			return usageErrorf("--report %q: want FORMAT:PATH", r)
		}
		if err := oneOf("report", format, "json", "junit", "html", "text"); err != nil {
			return err
		}
		files = append(files, reportFile{format, path})
	}
	for _, u := range urls {
		if err := reachable(u); err != nil {
			return err
		}
	}
	vendor, vendorBase, stopVendor, err := startVendorAPI()
	if err != nil {
		return err
	}
	defer stopVendor()
	d := delivery.NewDispatcher(delivery.NewScaledClock(*timeScale), delivery.NewLog(nil))
	defer d.Close()
	opt := scenarios.Options{
		Catalog: cat, URLs: urls, Probe: *probe, Secret: *secret,
		Dispatcher: d, Vendor: vendor, VendorBase: vendorBase, Settle: *settle,
		AckAndDrop: *jumioInvalid == "ack-and-drop",
	}
	opt.Vars, opt.ForwardedFor = conformance.SourceVars(*sourceMode, *foreign)
	text := *formatName == "text"
	style := conformance.TextStyle{Color: isTerminal(m.Stdout) && os.Getenv("NO_COLOR") == ""}
	done := 0
	rep := conformance.Run(ctx, cases, opt, nil, func(c conformance.CaseResult) {
		done++
		if text {
			if style.Color {
				fmt.Fprint(m.Stdout, "\r\x1b[K")
			}
			conformance.WriteCase(m.Stdout, c, style)
			if style.Color && done < len(cases) {
				fmt.Fprintf(m.Stdout, "  [%d/%d]", done, len(cases))
			}
		}
	})
	if text {
		if style.Color {
			fmt.Fprint(m.Stdout, "\r\x1b[K")
		}
		conformance.WriteSummary(m.Stdout, rep)
	} else if err := conformance.WriteJSON(m.Stdout, rep); err != nil {
		return err
	}
	for _, f := range files {
		if err := writeReport(f.format, f.path, rep); err != nil {
			return err
		}
	}
	if rep.Failed(enforced) {
		return &failedError{what: "conformance failure"}
	}
	return nil
}

// reachable checks that the target accepts connections at all.
func reachable(target string) error {
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
	c, err := net.DialTimeout("tcp", host, 2*time.Second)
	if err != nil {
		return &unreachableError{msg: fmt.Sprintf("the target %s cannot be reached: %v", target, err)}
	}
	return c.Close()
}

// writeReport writes one --report file.
func writeReport(format, path string, rep *conformance.Report) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("--report %s: %w", path, err)
	}
	switch format {
	case "json":
		err = conformance.WriteJSON(f, rep)
	case "junit":
		err = conformance.WriteJUnit(f, rep)
	case "html":
		err = conformance.WriteHTML(f, rep)
	default:
		conformance.WriteText(f, rep, conformance.TextStyle{})
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("--report %s: %w", path, err)
	}
	return nil
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

// firstSet returns the first non-empty string.
func firstSet(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
