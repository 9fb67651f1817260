package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httputil"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kycsim/kycsim/conformance/receiver"
	"github.com/kycsim/kycsim/conformance/safetext"
	"github.com/kycsim/kycsim/simulator"
	"github.com/kycsim/kycsim/simulator/delivery"
	"github.com/kycsim/kycsim/simulator/event"
	"github.com/kycsim/kycsim/simulator/signing"
	"github.com/kycsim/kycsim/spec"
)

// sendClock is the clock `kycsim send` dates events by; tests replace it
// with a fixed one.
var sendClock = time.Now

// sendFlags are the flags of `kycsim send`.
type sendFlags struct {
	to, secret, alg, rawBody, from, forwardedFor, vendorBase, subject, sandboxMode, logFile string
	retryDelays, form, seed                                                                 string
	precision                                                                               int
	sets, unsets, headers                                                                   listFlag
	noRetry, dryRun, lax, precisionSet, nulls, unsigned                                     bool
	timeScale                                                                               float64
	connectTimeout, answerTimeout                                                           time.Duration
}

func (m *Main) runSend(ctx context.Context, args []string) error {
	fs := m.newFlagSet("send", "send PRODUCT MESSAGE --to URL [--set path=value]... [--secret S] [--alg A] [--precision 0..3] [--form real|table] [--seed N] [--dry-run]")
	var f sendFlags
	fs.StringVar(&f.to, "to", "", "the receiver's URL (required unless --dry-run)")
	fs.Var(&f.sets, "set", "override a field: path=value, the path dotted or a JSON pointer, the value JSON or a string (repeatable)")
	fs.Var(&f.unsets, "unset", "remove a field (repeatable)")
	fs.StringVar(&f.rawBody, "raw-body", "", "send this file's bytes as the body instead of a built payload")
	fs.StringVar(&f.secret, "secret", "", "Sumsub webhook secret to sign with (default: $"+secretFromEnv+"; none sends unsigned)")
	fs.StringVar(&f.alg, "alg", string(signing.SHA256), "Sumsub digest algorithm: HMAC_SHA1_HEX, HMAC_SHA256_HEX or HMAC_SHA512_HEX")
	fs.IntVar(&f.precision, "precision", 3, "Jumio timestamps: millisecond digits, 0 to 3")
	fs.StringVar(&f.sandboxMode, "sandbox-mode", "", "Sumsub sandboxMode as \"bool\" (default: as the attribute table and real deliveries) or \"string\" (as most of the vendor's examples)")
	fs.StringVar(&f.form, "form", event.FormReal, "fields whose documented type the vendor's samples contradict: \"real\" (as the vendor sends them; passes level vendor) or \"table\" (as the field tables type them; passes level strict)")
	fs.BoolVar(&f.nulls, "nulls", false, "Sumsub: send absent optional attributes as explicit nulls, as real deliveries do")
	fs.StringVar(&f.seed, "seed", "", "seed of the generated values and variants: the same seed builds the same payload apart from its timestamps (default: a random one, printed)")
	fs.Var(&f.headers, "header", "extra header \"Name: value\" (repeatable); it replaces a computed one")
	fs.BoolVar(&f.unsigned, "unsigned", false, "Sumsub: compute no signature, even with --secret or $"+secretFromEnv+" (a replay carries the recorded X-Payload-Digest headers, or none, with --header)")
	fs.StringVar(&f.from, "from", "", "bind the source address (a loopback address, e.g. 127.0.0.2)")
	fs.StringVar(&f.forwardedFor, "forwarded-for", "", "add X-Forwarded-For with this address")
	fs.StringVar(&f.vendorBase, "vendor-base", "", "base URL of the vendor API that hrefs and image URLs point at")
	fs.StringVar(&f.subject, "subject", "", "the subject id (KYX workflow id, scan or transaction reference, Sumsub applicantId)")
	fs.BoolVar(&f.noRetry, "no-retry", false, "one attempt only")
	fs.StringVar(&f.retryDelays, "retry-delays", "", "waits before each retry, e.g. 30s,1m,5m (default: the vendor's schedule)")
	fs.DurationVar(&f.connectTimeout, "connect-timeout", 0, "connect deadline per attempt (default: the vendor's)")
	fs.DurationVar(&f.answerTimeout, "answer-timeout", 0, "answer deadline per attempt (default: the vendor's)")
	fs.Float64Var(&f.timeScale, "time-scale", 1, "multiply the waits between attempts by this factor (0.001 plays an 18-hour schedule in about a minute)")
	fs.BoolVar(&f.dryRun, "dry-run", false, "print the exact HTTP request and send nothing")
	fs.BoolVar(&f.lax, "lax", false, "send even when an override names no field of the message or makes the payload break the contract (it is reported)")
	fs.StringVar(&f.logFile, "log", "", "append every attempt to this file as JSON lines")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageErrorf("want PRODUCT MESSAGE, got %d argument(s)", len(pos))
	}
	if f.to == "" && !f.dryRun {
		return usageErrorf("--to is required (or --dry-run)")
	}
	if f.to != "" {
		if err := checkTarget("--to", f.to); err != nil {
			return err
		}
	}
	if f.vendorBase != "" {
		if err := checkTarget("--vendor-base", f.vendorBase); err != nil {
			return err
		}
	}
	if f.precision < 0 || f.precision > 3 {
		return usageErrorf("--precision %d: must be 0, 1, 2 or 3", f.precision)
	}
	if err := oneOf("form", f.form, event.Forms...); err != nil {
		return err
	}
	fs.Visit(func(fl *flag.Flag) {
		if fl.Name == "precision" {
			f.precisionSet = true
		}
	})
	if f.secret == "" && !f.unsigned {
		f.secret = os.Getenv(secretFromEnv)
	}
	if f.unsigned && f.secret != "" {
		return usageErrorf("--unsigned sends no signature; do not give --secret too")
	}
	cat, err := spec.Default()
	if err != nil {
		return err
	}
	p, err := cat.Product(pos[0])
	if err != nil {
		return err
	}
	msg, err := p.Message(pos[1])
	if err != nil {
		return err
	}
	built, err := m.buildCallback(cat, p, msg.Name, &f)
	if err != nil {
		return err
	}
	cb := built.Callback
	policy, err := f.policy(p.Name, msg.Name)
	if err != nil {
		return err
	}
	to := f.to
	if to == "" {
		to = "http://127.0.0.1:9000" + receiver.Paths[p.Name]
	}
	req, err := cb.Request(to, policy)
	if err != nil {
		return usageErrorf("%v", err)
	}
	if f.dryRun {
		if err := m.printRequest(req); err != nil {
			return err
		}
		if built.seed != "" {
			fmt.Fprintf(m.Stdout, "# seed %s\n", built.seed)
		}
		return nil
	}
	var logW io.Writer
	if f.logFile != "" {
		lf, err := os.OpenFile(f.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return usageErrorf("--log: %v", err)
		}
		defer lf.Close()
		logW = lf
	}
	log := delivery.NewLog(logW)
	d := delivery.NewDispatcher(delivery.NewScaledClock(f.timeScale), log)
	d.LateGrace, d.Secrets = delivery.DefaultLateGrace, []string{f.secret}
	defer d.Close()
	subject := ""
	if cb.Subject != "" {
		subject = " (subject " + cb.Subject + ")"
	}
	fmt.Fprintf(m.Stdout, "sending %s %s%s to %s\n", p.Name, msg.Name, subject, to)
	if built.seed != "" {
		fmt.Fprintf(m.Stdout, "  seed %s (--seed %s builds the same payload again)\n", built.seed, built.seed)
	}
	fmt.Fprintf(m.Stdout, "  policy %s\n", policy)
	d.OnAttempt = func(a delivery.Attempt) {
		m.printAttempt(a)
		m.printNextAttempt(a, policy, p.Name, f.retryDelays != "", f.timeScale)
	}
	res, err := d.Deliver(ctx, req)
	if err != nil {
		return usageErrorf("%v", err)
	}
	if err := log.Err(); err != nil {
		return fmt.Errorf("write --log %s: %w", f.logFile, err)
	}
	if res.Acknowledged() {
		fmt.Fprintf(m.Stdout, "acknowledged after %d attempt(s)\n", len(res.Attempts))
		return nil
	}
	fmt.Fprintf(m.Stdout, "not acknowledged after %d attempt(s)\n", len(res.Attempts))
	return &failedError{what: "not acknowledged"}
}

// builtCallback is a callback to send and the seed its payload was built
// with ("" for a raw body).
type builtCallback struct {
	simulator.Callback
	seed string
}

// buildCallback builds the payload (or reads --raw-body), applies the
// overrides and checks the result against the contract.
func (m *Main) buildCallback(cat *spec.Catalog, p *spec.Product, message string, f *sendFlags) (built builtCallback, err error) {
	built.Callback = simulator.Callback{Product: p.Name, Message: message, ContentType: p.ContentType, Header: http.Header{}}
	cb := &built.Callback
	alg, err := signing.ParseAlgorithm(f.alg)
	if err != nil {
		return built, usageErrorf("--alg: %v", err)
	}
	cb.Sign = simulator.Signing{Secret: f.secret, Algorithm: alg}
	for _, h := range f.headers {
		k, v, err := simulator.ParseHeader(h)
		if err != nil {
			return built, usageErrorf("--header: %v", err)
		}
		if err := checkHeaderName("--header", k); err != nil {
			return built, err
		}
		cb.Header.Add(k, v)
	}
	if f.from != "" {
		if cb.From, err = simulator.ParseSource(f.from); err != nil {
			return built, usageErrorf("--from: %v", err)
		}
	}
	if f.forwardedFor != "" {
		if _, err := simulator.ParseSource(f.forwardedFor); err != nil && !strings.Contains(err.Error(), "loopback") {
			return built, usageErrorf("--forwarded-for: %v", err)
		}
		cb.ForwardedFor = f.forwardedFor
	}
	if f.rawBody != "" {
		if len(f.sets) > 0 || len(f.unsets) > 0 {
			return built, usageErrorf("--raw-body sends the file as it is; it cannot be combined with --set or --unset")
		}
		b, err := readCapped(f.rawBody)
		if err != nil {
			return built, usageErrorf("--raw-body: %v", err)
		}
		cb.Body = b
		return built, nil
	}
	if err := m.checkOverrides(p, message, f); err != nil {
		return built, err
	}
	seed := event.RandomSeed()
	if f.seed != "" {
		if seed, err = strconv.ParseUint(f.seed, 10, 64); err != nil {
			return built, usageErrorf("--seed %q: want a decimal number from 0 to %d", f.seed, uint64(math.MaxUint64))
		}
	}
	built.seed = strconv.FormatUint(seed, 10)
	opt := event.Options{SandboxMode: f.sandboxMode, VendorBase: f.vendorBase, Subject: f.subject,
		Form: f.form, Nulls: f.nulls, Rand: event.NewRand(seed), Now: sendClock()}
	if f.precisionSet {
		opt.Precision = event.Digits(f.precision)
	}
	ev, err := event.Build(cat, p.Name, message, opt)
	if err != nil {
		return built, usageErrorf("%v", err)
	}
	for _, u := range f.unsets {
		if err := ev.Unset(u); err != nil {
			return built, usageErrorf("--unset %s: %v", u, err)
		}
	}
	for _, s := range f.sets {
		path, value, ok := strings.Cut(s, "=")
		if !ok {
			return built, usageErrorf("--set %q: want path=value", s)
		}
		if err := ev.Set(path, value); err != nil {
			return built, usageErrorf("--set %s: %v", s, err)
		}
	}
	cb.Subject, cb.Body = ev.Subject, ev.Body()
	if len(f.sets) > 0 || len(f.unsets) > 0 {
		res, err := p.Validate(cb.Body, spec.Options{Level: spec.LevelVendor, Message: message})
		if err != nil {
			return built, err
		}
		if !res.Valid() {
			for _, v := range res.Violations {
				fmt.Fprintf(m.Stderr, "contract: %s\n", v)
			}
			if !f.lax {
				return built, usageErrorf("the overrides make the %s %s payload break the contract (above); --lax sends it anyway", p.Name, message)
			}
		}
	}
	return built, nil
}

// checkOverrides refuses --set and --unset paths that name no field of
// the message; with --lax it reports them and goes on.
func (m *Main) checkOverrides(p *spec.Product, message string, f *sendFlags) error {
	if len(f.sets)+len(f.unsets) == 0 {
		return nil
	}
	fields, err := event.MessageFields(p, message)
	if err != nil {
		return err
	}
	check := func(flagName, arg, path string) error {
		err := fields.Check(path)
		var ue *event.UnknownFieldError
		switch {
		case errors.As(err, &ue) && f.lax:
			fmt.Fprintf(m.Stderr, "lax: %s %s: %v\n", flagName, arg, err)
		case errors.As(err, &ue):
			return usageErrorf("%s %s: %v; --lax sends it anyway", flagName, arg, err)
		case err != nil:
			return usageErrorf("%s %s: %v", flagName, arg, err)
		}
		return nil
	}
	for _, u := range f.unsets {
		if err := check("--unset", u, u); err != nil {
			return err
		}
	}
	for _, s := range f.sets {
		path, _, ok := strings.Cut(s, "=")
		if !ok {
			return usageErrorf("--set %q: want path=value", s)
		}
		if err := check("--set", s, path); err != nil {
			return err
		}
	}
	return nil
}

func (f *sendFlags) policy(product, message string) (delivery.RetryPolicy, error) {
	p := delivery.PolicyFor(product, message)
	if f.retryDelays != "" {
		ds, err := delivery.ParseDelays(f.retryDelays)
		if err != nil {
			return p, usageErrorf("--retry-delays: %v", err)
		}
		p.Delays = ds
		p.Name += " (custom delays)"
	}
	if f.connectTimeout > 0 {
		p.ConnectTimeout = f.connectTimeout
	}
	if f.answerTimeout > 0 {
		p.AnswerTimeout = f.answerTimeout
	}
	if f.noRetry {
		p = p.NoRetry()
	}
	return p, nil
}

// printRequest prints the request exactly as it would go on the wire.
func (m *Main) printRequest(req delivery.Request) error {
	hr, err := http.NewRequest(req.Method, req.URL, bytes.NewReader(req.Body))
	if err != nil {
		return usageErrorf("--to: %v", err)
	}
	hr.Header = req.Header.Clone()
	if hr.Header.Get("User-Agent") == "" {
		hr.Header.Set("User-Agent", "kycsim")
	}
	b, err := httputil.DumpRequestOut(hr, true)
	if err != nil {
		return fmt.Errorf("render the request: %w", err)
	}
	m.Stdout.Write(b)
	if len(b) > 0 && b[len(b)-1] != '\n' {
		fmt.Fprintln(m.Stdout)
	}
	if req.From.IsValid() {
		fmt.Fprintf(m.Stdout, "# from source address %s\n", req.From)
	}
	return nil
}

// printAttempt prints one line per attempt: time, status or error,
// latency, the first bytes of the answer. What the receiver sent is
// escaped (safetext.TerminalLine): its bytes never reach the terminal as
// controls.
func (m *Main) printAttempt(a delivery.Attempt) {
	outcome := safetext.TerminalLine(a.Err)
	if outcome == "" {
		outcome = fmt.Sprintf("%d %s", a.Status, http.StatusText(a.Status))
	}
	fmt.Fprintf(m.Stdout, "  attempt %d  %s  %s  %s", a.Number, a.Time.UTC().Format("2006-01-02T15:04:05.000Z"), outcome, a.Latency.Round(10*time.Microsecond))
	if len(a.ResponseBody) > 0 {
		fmt.Fprintf(m.Stdout, "  %s", firstBytes(a.ResponseBody, 120))
	}
	fmt.Fprintln(m.Stdout)
}

// printNextAttempt says, after an attempt that was not acknowledged, when
// the next one is due and on whose schedule, so that a send to a receiver
// that is down does not wait in silence.
func (m *Main) printNextAttempt(a delivery.Attempt, policy delivery.RetryPolicy, product string, custom bool, timeScale float64) {
	if a.Acknowledged() || a.Number > len(policy.Delays) {
		return
	}
	wait := policy.Delays[a.Number-1]
	schedule := "kycsim's Jumio schedule (Jumio publishes none)"
	switch {
	case custom:
		schedule = "your --retry-delays"
	case product == "sumsub":
		schedule = "Sumsub's schedule"
	}
	left := len(policy.Delays) - a.Number + 1
	if timeScale == 1 {
		fmt.Fprintf(m.Stdout, "  next attempt in %s on %s (%d left); --no-retry or --time-scale to shorten\n", wait, schedule, left)
		return
	}
	real := time.Duration(float64(wait) * timeScale)
	if real >= time.Millisecond {
		real = real.Round(time.Millisecond)
	} else {
		real = real.Round(time.Microsecond)
	}
	fmt.Fprintf(m.Stdout, "  next attempt in %s on %s, %s at --time-scale %g (%d left)\n", wait, schedule, real, timeScale, left)
}

// firstBytes renders the first n bytes of a body on one line: runs of
// spaces, tabs and line breaks become one space, and everything else a
// terminal could act on is escaped.
func firstBytes(b []byte, n int) string {
	cut := false
	if len(b) > n {
		// Cut before a character the limit would split, not into bytes
		// that are not valid UTF-8 anyway.
		i := n
		for j := 1; j < utf8.UTFMax && i > 0 && !utf8.RuneStart(b[i]); j++ {
			i--
		}
		if !utf8.RuneStart(b[i]) {
			i = n
		}
		b, cut = b[:i], true
	}
	s := strings.Join(strings.FieldsFunc(string(b), func(r rune) bool { return r == ' ' || r == '\t' || r == '\r' || r == '\n' }), " ")
	s = safetext.TerminalLine(s)
	if cut {
		s += "…"
	}
	return s
}
