package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/kycsim/kycsim/scenarios/record"
	"github.com/kycsim/kycsim/spec"
)

// recordReady, when set, is told the address `kycsim record` listens on
// (tests listen on 127.0.0.1:0).
var recordReady func(addr string)

// runRecord runs the recording proxy until it is interrupted.
func (m *Main) runRecord(ctx context.Context, args []string) error {
	fs := m.newFlagSet("record", "record --forward URL --product P --out DIR [--listen 127.0.0.1:8090] [--secret S] [--probe URL] [--keep-header NAME]... [--max-body N] [--max-exchanges N] [--max-disk N]")
	listen := fs.String("listen", "127.0.0.1:8090", "address the proxy listens on: the vendor, or a tunnel, posts callbacks here (loopback unless --public)")
	public := fs.Bool("public", false, "allow --listen on an address other than loopback")
	forward := fs.String("forward", "", "the receiver's URL: each callback is forwarded there (the request's path is appended unless it is /)")
	product := fs.String("product", "", "the product whose callbacks come in: "+productList())
	secret := fs.String("secret", "", "the vendor's Sumsub webhook secret, to check each signature as it is recorded (default: $"+secretFromEnv+"; never written)")
	out := fs.String("out", "", "a new or empty directory for the scenario files, recording.json, drift.json and drift.txt")
	probe := fs.String("probe", "", "the receiver's probe URL with {subject}: each scenario then ends with what it says when the recording stops")
	exact := fs.Bool("exact-status", false, "expect the recorded status code itself rather than its class (2xx)")
	noXFF := fs.Bool("no-forwarded-for", false, "do not append the sender's address to X-Forwarded-For")
	maxBody := fs.Int64("max-body", record.DefaultMaxBody, "largest callback body in bytes; a larger one is refused with 413 and not forwarded")
	maxExchanges := fs.Int("max-exchanges", record.DefaultMaxExchanges, "callbacks to record at most (then the proxy only forwards)")
	maxDisk := fs.Int64("max-disk", record.DefaultMaxDisk, "bytes to write to --out at most (then the proxy only forwards)")
	timeout := fs.Duration("timeout", record.DefaultTimeout, "bound on one forwarded exchange")
	var keep listFlag
	fs.Var(&keep, "keep-header", "a header to store with each callback, as sent (repeatable); others are forwarded, not stored, for a custom header may hold a credential")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErrorf("unexpected argument %q", pos[0])
	}
	switch {
	case *forward == "":
		return usageErrorf("--forward URL is required: the receiver the callbacks go on to")
	case *product == "":
		return usageErrorf("--product is required: one of %s", productList())
	case *out == "":
		return usageErrorf("--out DIR is required: where the recording goes")
	case *maxBody <= 0 || *maxExchanges <= 0 || *maxDisk <= 0 || *timeout <= 0:
		return usageErrorf("--max-body, --max-exchanges, --max-disk and --timeout must be > 0")
	}
	if err := checkTarget("--forward", *forward); err != nil {
		return err
	}
	fwd, _ := url.Parse(*forward)
	if *probe != "" {
		if err := checkProbe("--probe", *probe); err != nil {
			return err
		}
	}
	if *secret == "" {
		*secret = os.Getenv(secretFromEnv)
	}
	cat, err := spec.Default()
	if err != nil {
		return err
	}
	p, err := cat.Product(*product)
	if err != nil {
		return usageErrorf("--product: %v", err)
	}
	rules, err := spec.MaskRules(p.Name)
	if err != nil {
		return err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("make the masking key: %w", err)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return usageErrorf("--listen: %v", err)
	}
	defer ln.Close()
	if !isLoopbackAddr(ln.Addr()) && !*public {
		return usageErrorf("--listen %s is not a loopback address: give --public to take callbacks from other machines", *listen)
	}
	log := &lockedLog{w: m.Stdout}
	rec, err := record.New(record.Config{
		Product: p, Rules: rules, Key: key, Dir: *out, Forward: fwd, Secret: *secret, Probe: *probe,
		KeepHeaders: keep, ForwardedFor: !*noXFF, ExactStatus: *exact,
		MaxBody: *maxBody, MaxExchanges: *maxExchanges, MaxDisk: *maxDisk, Timeout: *timeout, Log: log,
	})
	if err != nil {
		return usageErrorf("--out: %v", err)
	}
	secretNote := "not set: signatures are recorded unchecked"
	if *secret != "" {
		secretNote = "set: each signature is checked"
	}
	if p.Name != "sumsub" {
		secretNote = "not used (" + p.Name + " callbacks are not signed)"
	}
	fmt.Fprintf(log, "kycsim record on http://%s → %s (%s)\n", ln.Addr(), redactURL(fwd), p.Name)
	fmt.Fprintf(log, "  masking with spec/data/%s.mask.yaml; --secret %s\n", p.Name, secretNote)
	fmt.Fprintf(log, "  writing %s; stop with Ctrl-C\n", *out)
	srv := &http.Server{Handler: rec, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: *timeout, WriteTimeout: 2 * *timeout, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if recordReady != nil {
		recordReady(ln.Addr().String())
	}
	var serveErr error
	select {
	case serveErr = <-errc:
		serveErr = fmt.Errorf("serve: %w", serveErr)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		serveErr = errors.Join(serveErr, fmt.Errorf("shut down: %w", err))
	}
	if err := rec.Close(sctx); err != nil {
		serveErr = errors.Join(serveErr, fmt.Errorf("write the recording: %w", err))
	}
	rep := rec.Drift()
	fmt.Fprintln(log)
	_ = rep.WriteText(log)
	fmt.Fprintf(log, "written to %s (drift.json, drift.txt, recording.json); replay with:\n  kycsim run %s --to %s\n",
		*out, filepath.Clean(*out), redactURL(fwd))
	return serveErr
}

// redactURL shows a URL without user info or query, which may hold
// credentials.
func redactURL(u *url.URL) string {
	c := *u
	c.User, c.RawQuery, c.Fragment = nil, "", ""
	return c.String()
}

// productList names the catalog's products.
func productList() string {
	return "jumio-kyx, jumio-netverify, jumio-auth, jumio-docverify, sumsub"
}

// lockedLog serializes writes from concurrent callbacks.
type lockedLog struct {
	mu sync.Mutex
	w  interface{ Write([]byte) (int, error) }
}

func (l *lockedLog) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
