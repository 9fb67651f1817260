package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/kycsim/kycsim/conformance/receiver"
)

// listFlag collects a repeatable, comma-separated flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*l = append(*l, part)
		}
	}
	return nil
}

// secretFromEnv is the environment variable read when --secret is not
// given, so that the secret need not appear in the process list.
const secretFromEnv = "KYCSIM_SECRET"

func (m *Main) runReceiver(ctx context.Context, args []string) error {
	fs := m.newFlagSet("receiver", "receiver [--addr 127.0.0.1:9000] [--secret S] [--allow ADDRS] [--behind-proxy] [--defect D]...")
	addr := fs.String("addr", "127.0.0.1:9000", "address to listen on (loopback unless you say otherwise)")
	secret := fs.String("secret", "", "Sumsub webhook secret (default: $"+secretFromEnv+")")
	allow := fs.String("allow", "127.0.0.1,::1", "test addresses allowed to send Jumio callbacks besides Jumio's published ones (comma-separated; \"none\" for Jumio's only)")
	behindProxy := fs.Bool("behind-proxy", false, "take the Jumio source address from the last X-Forwarded-For entry")
	contentPolicy := fs.String("content-policy", string(receiver.AckAndDrop), "what to do with Jumio content the receiver cannot use: ack-and-drop (200, no effect) or reject (400); Sumsub's always gets 400")
	jumioInvalid := fs.String("jumio-invalid", "", "older name of --content-policy")
	noFetch := fs.Bool("no-fetch", false, "do not fetch the KYX href after answering")
	slow := fs.Duration("slow-delay", 11*time.Second, "how long the slow defect waits before answering")
	quiet := fs.Bool("quiet", false, "do not log each callback")
	var defects, fetchHosts, handles listFlag
	fs.Var(&fetchHosts, "fetch-host", "a host (any port) or host:port whose hrefs the receiver may fetch besides Jumio's API hosts (repeatable), e.g. 127.0.0.1 for kycsim's vendor API mock")
	fs.Var(&handles, "handles", "PRODUCT:MESSAGE the receiver acts on (repeatable; a product not named: every message), e.g. sumsub:applicantReviewed")
	fs.Var(&defects, "defect", "switch on a known defect (repeatable; see the README): "+defectList())
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErrorf("unexpected argument %q", pos[0])
	}
	if err := checkListenAddr("--addr", *addr); err != nil {
		return err
	}
	if *secret == "" {
		*secret = os.Getenv(secretFromEnv)
	}
	if err := olderName(fs, "content-policy", "jumio-invalid", contentPolicy, *jumioInvalid); err != nil {
		return err
	}
	cfg := receiver.Config{
		Secret: *secret, BehindProxy: *behindProxy, ContentPolicy: receiver.ContentPolicy(*contentPolicy),
		Fetch: !*noFetch, SlowDelay: *slow, FetchHosts: fetchHosts,
	}
	for _, h := range handles {
		product, message, ok := strings.Cut(h, ":")
		if !ok || message == "" {
			return usageErrorf("--handles %q: want PRODUCT:MESSAGE", h)
		}
		if cfg.Handles == nil {
			cfg.Handles = map[string][]string{}
		}
		cfg.Handles[product] = append(cfg.Handles[product], message)
	}
	if *allow != "none" {
		if cfg.Sources, err = receiver.ParseAddrs(*allow); err != nil {
			return usageErrorf("--allow: %v", err)
		}
	} else {
		cfg.Sources = []netip.Addr{}
	}
	for _, d := range defects {
		cfg.Defects = append(cfg.Defects, receiver.Defect(d))
	}
	if !*quiet {
		cfg.Logger = slog.New(slog.NewTextHandler(m.Stderr, nil))
	}
	rc, err := receiver.New(cfg)
	if err != nil {
		return usageErrorf("%v", err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return usageErrorf("--addr: %v", err)
	}
	srv := &http.Server{Handler: rc, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
	fmt.Fprintf(m.Stdout, "reference receiver on http://%s\n", ln.Addr())
	paths := make([]string, 0, len(receiver.Paths))
	for product, path := range receiver.Paths {
		paths = append(paths, fmt.Sprintf("  POST %-18s %s", path, product))
	}
	sort.Strings(paths)
	fmt.Fprintln(m.Stdout, strings.Join(paths, "\n"))
	fmt.Fprintf(m.Stdout, "  GET  %-18s %s\n", "/_probe/{subject}", `{"events": N, "status": S}`)
	if *secret == "" {
		fmt.Fprintln(m.Stdout, "no Sumsub secret (--secret or $"+secretFromEnv+"): every Sumsub webhook will be refused")
	}
	if len(cfg.Defects) > 0 {
		fmt.Fprintf(m.Stdout, "defects switched on: %s\n", strings.Join(defects, ", "))
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shut down: %w", err)
	}
	return rc.Close(sctx)
}

func defectList() string {
	names := make([]string, len(receiver.Defects))
	for i, d := range receiver.Defects {
		names[i] = string(d)
	}
	return strings.Join(names, ", ")
}
