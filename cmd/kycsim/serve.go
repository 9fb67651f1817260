package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kycsim/kycsim/scenarios"
	"github.com/kycsim/kycsim/simulator/sandboxapi"
	"github.com/kycsim/kycsim/simulator/signing"
	"github.com/kycsim/kycsim/spec"
)

// The sandbox's default credentials: public values, printed at start and
// documented, for a sandbox that holds nothing worth protecting.
const (
	defaultJumioClient    = "kycsim-client:kycsim-secret"
	defaultSumsubAppToken = "sbx:kycsim-app-token"
	defaultSumsubSecret   = "kycsim-secret-key"
	defaultWebhookSecret  = "kycsim-webhook-secret"
)

// sandboxProducts are the products the sandbox serves.
var sandboxProducts = []string{"jumio-kyx", "jumio-netverify", "sumsub"}

// runServe runs the sandbox: the vendor APIs, the outcome page, the
// control API and the callbacks, with state in SQLite.
func (m *Main) runServe(ctx context.Context, args []string) error {
	fs := m.newFlagSet("serve", "serve [--addr 127.0.0.1:8089] [--db FILE|:memory:] [--time-scale F] [--webhook PRODUCT=URL]... [--webhook-secret S] [--control-token T]")
	addr := fs.String("addr", "127.0.0.1:8089", "address to listen on (loopback unless you say otherwise; another address needs --control-token)")
	dbPath := fs.String("db", "kycsim-sandbox.db", "SQLite database file for the sandbox's state and outbox (:memory: keeps nothing)")
	scale := fs.Float64("time-scale", 1, "sandbox clock speed: multiply retry delays, token lifetimes and session timeouts by this factor (0.001: an hour in 3.6 s)")
	publicURL := fs.String("public-url", "", "base URL people's browsers reach the sandbox at, for web.href, redirectUrl and WebSDK links (default: http://ADDR)")
	internalURL := fs.String("internal-url", "", "base URL receivers reach the sandbox at, for the hrefs and image URLs inside callbacks (default: --public-url)")
	webhookSecret := fs.String("webhook-secret", "", "Sumsub webhook secret the sandbox signs with (default: $"+secretFromEnv+", else "+defaultWebhookSecret+")")
	webhookAlg := fs.String("webhook-alg", string(signing.SHA256), "Sumsub webhook digest algorithm: HMAC_SHA1_HEX, HMAC_SHA256_HEX or HMAC_SHA512_HEX")
	appToken := fs.String("sumsub-app-token", defaultSumsubAppToken, "Sumsub app token the API accepts")
	secretKey := fs.String("sumsub-secret-key", defaultSumsubSecret, "Sumsub secret key API requests are signed with")
	createStatus := fs.Int("sumsub-create-status", sandboxapi.DefaultSumsubCreateStatus, "status a Sumsub applicant creation answers with: 201 (as Sumsub's own Postman collection expects) or 200 (for clients that accept nothing else)")
	jumioClient := fs.String("jumio-client", defaultJumioClient, "Jumio API client as ID:SECRET (OAuth2 client credentials, Netverify HTTP Basic)")
	controlToken := fs.String("control-token", "", "token the control API and the outcome page require (Authorization: Bearer T or ?control-token=T); required on a non-loopback address")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	workers := fs.Int("workers", 0, "callback attempts in flight at most (default 16)")
	var webhooks, allow listFlag
	fs.Var(&webhooks, "webhook", "PRODUCT=URL: where PRODUCT's callbacks go (repeatable): Sumsub's only target; Jumio's when a request names no callbackUrl")
	fs.Var(&allow, "allow-callback", "host pattern callbacks may go to: host, host:port or *.suffix (repeatable; default: loopback and the --webhook hosts)")
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
	if err := oneOf("log-format", *logFormat, "text", "json"); err != nil {
		return err
	}
	if *createStatus != 200 && *createStatus != 201 {
		return usageErrorf("--sumsub-create-status %d: want 201 or 200", *createStatus)
	}
	alg, err := signing.ParseAlgorithm(*webhookAlg)
	if err != nil {
		return usageErrorf("--webhook-alg: %v", err)
	}
	clientID, clientSecret, ok := strings.Cut(*jumioClient, ":")
	if !ok || clientID == "" || clientSecret == "" {
		return usageErrorf("--jumio-client %q: want ID:SECRET", *jumioClient)
	}
	hooks := map[string]string{}
	for _, w := range webhooks {
		product, u, ok := strings.Cut(w, "=")
		if !ok || !slices.Contains(sandboxProducts, product) {
			return usageErrorf("--webhook %q: want PRODUCT=URL with PRODUCT one of %s", w, strings.Join(sandboxProducts, ", "))
		}
		if err := checkTarget("--webhook "+product, u); err != nil {
			return err
		}
		hooks[product] = u
	}
	secret := *webhookSecret
	secretNote := "(set)"
	if secret == "" {
		if secret = os.Getenv(secretFromEnv); secret == "" {
			secret, secretNote = defaultWebhookSecret, defaultWebhookSecret+" (default)"
		} else {
			secretNote = "(from $" + secretFromEnv + ")"
		}
	}
	for flag, u := range map[string]string{"public-url": *publicURL, "internal-url": *internalURL} {
		if pu, err := url.Parse(u); u != "" && (err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "") {
			return usageErrorf("--%s %q: want an absolute http(s) URL", flag, u)
		}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return usageErrorf("--addr: %v", err)
	}
	defer ln.Close()
	if !isLoopbackAddr(ln.Addr()) && *controlToken == "" {
		return usageErrorf("--addr %s is not a loopback address: give --control-token so that only you can pick outcomes and resend callbacks", *addr)
	}
	base := *publicURL
	if base == "" {
		base = "http://" + ln.Addr().String()
	}
	var handler slog.Handler = slog.NewTextHandler(m.Stderr, nil)
	if *logFormat == "json" {
		handler = slog.NewJSONHandler(m.Stderr, nil)
	}
	log := slog.New(handler)
	cat, err := spec.Default()
	if err != nil {
		return err
	}
	planner, err := scenarios.NewPlanner(cat, sandboxapi.OutcomeScenarios(), sandboxapi.OutcomePrefix)
	if err != nil {
		return err
	}
	in, err := sandboxapi.Open(ctx, sandboxapi.Options{
		DB: *dbPath, TimeScale: *scale, Workers: *workers,
		Config: sandboxapi.Config{
			Catalog: cat, Planner: planner, PublicURL: base, InternalURL: *internalURL,
			JumioClientID: clientID, JumioClientSecret: clientSecret,
			SumsubAppToken: *appToken, SumsubSecretKey: *secretKey, SumsubCreateStatus: *createStatus,
			Webhooks: hooks, WebhookSecret: secret, WebhookAlg: alg,
			ControlToken: *controlToken, AllowCallback: allow, Logger: log,
		},
	})
	if err != nil {
		return fmt.Errorf("start the sandbox: %w", err)
	}
	srv := &http.Server{Handler: in.Server, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	m.printServeBanner(base, *dbPath, *scale, hooks, secretNote, alg, *appToken, *secretKey, *jumioClient, *controlToken != "")
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	var serveErr error
	select {
	case serveErr = <-errc:
		serveErr = fmt.Errorf("serve: %w", serveErr)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		serveErr = errors.Join(serveErr, fmt.Errorf("shut down: %w", err))
	}
	return errors.Join(serveErr, in.Close(sctx))
}

// printServeBanner prints where the sandbox listens, its APIs and the
// credentials it accepts: the defaults in full (they are public), chosen
// secrets only as "(set)".
func (m *Main) printServeBanner(base, db string, scale float64, hooks map[string]string, secretNote string, alg signing.Algorithm, appToken, secretKey, jumioClient string, control bool) {
	w := m.Stdout
	fmt.Fprintf(w, "kycsim sandbox on %s (state in %s, time scale %g)\n", base, db, scale)
	fmt.Fprintf(w, "  Jumio KYX      POST %s/oauth2/token, POST %s/api/v1/accounts\n", base, base)
	fmt.Fprintf(w, "  Netverify      POST %s/api/v4/initiate\n", base)
	fmt.Fprintf(w, "  Sumsub         POST %s/resources/applicants?levelName=...   WebSDK: %s/websdk/ACCESS_TOKEN\n", base, base)
	fmt.Fprintf(w, "  control API    %s/_sandbox/...   OpenAPI: %s/openapi.json   metrics: %s/metrics\n", base, base, base)
	show := func(v, def string) string {
		if v == def {
			return v + " (default)"
		}
		return "(set)"
	}
	id, _, _ := strings.Cut(jumioClient, ":")
	clientNote := "(set)"
	if jumioClient == defaultJumioClient {
		clientNote = jumioClient + " (default)"
	} else {
		clientNote = id + ":(set)"
	}
	fmt.Fprintf(w, "credentials:\n  --jumio-client %s\n  --sumsub-app-token %s\n  --sumsub-secret-key %s\n  --webhook-secret %s, signed %s\n",
		clientNote, show(appToken, defaultSumsubAppToken), show(secretKey, defaultSumsubSecret), secretNote, alg)
	if control {
		fmt.Fprintln(w, "  --control-token (set): the control API and the outcome page need it")
	}
	products := make([]string, 0, len(hooks))
	for p := range hooks {
		products = append(products, p)
	}
	sort.Strings(products)
	for _, p := range products {
		fmt.Fprintf(w, "webhook %s → %s\n", p, hooks[p])
	}
	if hooks["sumsub"] == "" {
		fmt.Fprintln(w, "no --webhook sumsub=URL: Sumsub webhooks are not sent (the state still changes)")
	}
}

// isLoopbackAddr reports whether a listener's address is a loopback one.
func isLoopbackAddr(a net.Addr) bool {
	ap, err := netip.ParseAddrPort(a.String())
	return err == nil && ap.Addr().IsLoopback()
}
