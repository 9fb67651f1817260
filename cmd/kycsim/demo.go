package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/kycsim/kycsim/conformance"
	"github.com/kycsim/kycsim/conformance/receiver"
	"github.com/kycsim/kycsim/scenarios"
	"github.com/kycsim/kycsim/simulator/delivery"
	"github.com/kycsim/kycsim/spec"
)

// demoSecret is the webhook secret shared by the demo's sender and
// receiver; it is not a real secret.
const demoSecret = "kycsim-demo-secret"

// demoParallel is how many cases the demo runs at once: its cases mostly
// wait out quiet windows, and its receiver is in-process.
const demoParallel = 32

func (m *Main) runDemo(ctx context.Context, args []string) error {
	fs := m.newFlagSet("demo", "demo [--time-scale F]")
	timeScale := fs.Float64("time-scale", defaultTimeScale, "multiply waits and retry delays by this factor")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErrorf("unexpected argument %q", pos[0])
	}
	cat, err := spec.Default()
	if err != nil {
		return err
	}
	cases, err := scenarios.Cases(cat)
	if err != nil {
		return err
	}
	vendor, vendorBase, stopVendor, err := startVendorAPI()
	if err != nil {
		return err
	}
	defer stopVendor()
	rc, err := receiver.New(receiver.Config{Secret: demoSecret, Fetch: true, FetchHosts: []string{vendorBase}})
	if err != nil {
		return err
	}
	base, stopReceiver, err := serveLoopback("reference receiver", rc)
	if err != nil {
		return err
	}
	defer stopReceiver()
	urls := map[string]string{}
	for p, path := range receiver.Paths {
		urls[p] = base + path
	}
	d := delivery.NewDispatcher(delivery.NewScaledClock(*timeScale), delivery.NewLog(nil))
	defer d.Close()
	opt := scenarios.Options{
		Catalog: cat, URLs: urls, Probe: base + "/_probe/{subject}", Secret: demoSecret,
		Dispatcher: d, Vendor: vendor, VendorBase: vendorBase,
	}
	opt.Vars, opt.ForwardedFor = conformance.SourceVars(conformance.SourceDirect, "127.0.0.2")
	fmt.Fprintf(m.Stdout, "kycsim demo: the reference receiver on %s, certified with %d conformance cases\n\n", base, len(cases))
	style := conformance.TextStyle{Color: isTerminal(m.Stdout) && os.Getenv("NO_COLOR") == ""}
	opt.Fetches = map[string]bool{"jumio-kyx": true}
	rep := conformance.Run(ctx, cases, opt, conformance.Config{Parallel: demoParallel, OnCase: func(c conformance.CaseResult) { conformance.WriteCase(m.Stdout, c, style) }})
	rep.Version, rep.Targets = Version(), urls
	conformance.WriteSummary(m.Stdout, rep)
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rc.Close(sctx)
	if rep.Failed(map[string]bool{scenarios.LevelMust: true, scenarios.LevelShould: true}) {
		return &failedError{what: "the reference receiver failed a case"}
	}
	return nil
}
