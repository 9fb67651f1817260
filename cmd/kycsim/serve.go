package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kycsim/kycsim/scenarios"
	"github.com/kycsim/kycsim/simulator/sandbox"
	"github.com/kycsim/kycsim/simulator/sandbox/postgres"
	"github.com/kycsim/kycsim/simulator/sandbox/sqlite"
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
// control API and the callbacks, with state in SQLite or PostgreSQL.
func (m *Main) runServe(ctx context.Context, args []string) error {
	fs := m.newFlagSet("serve", "serve [--addr 127.0.0.1:8089] [--db FILE|:memory:|postgres://...] [--public-url URL] [--time-scale F] [--webhook PRODUCT=URL]... [--control-token-file FILE]")
	addr := fs.String("addr", "127.0.0.1:8089", "address to listen on (loopback unless you say otherwise; another address needs --control-token and --public-url)")
	dbFlag := newSecretFlag(fs, "db", "KYCSIM_DB", "kycsim-sandbox.db",
		"the sandbox's state and outbox: a SQLite file (one process), :memory: (keeps nothing), or postgres://USER:PASSWORD@HOST/DB (several replicas may share it)")
	scale := fs.Float64("time-scale", 1, "sandbox clock speed: multiply retry delays, token lifetimes and session timeouts by this factor (0.001: an hour in 3.6 s)")
	publicURL := fs.String("public-url", "", "base URL people's browsers reach the sandbox at, for web.href, redirectUrl and WebSDK links: an absolute http(s) URL (default on loopback: http://ADDR; required on another address)")
	internalURL := fs.String("internal-url", "", "base URL receivers reach the sandbox at, for the hrefs and image URLs inside callbacks (default: --public-url)")
	webhookSecret := newSecretFlag(fs, "webhook-secret", secretFromEnv, defaultWebhookSecret, "Sumsub webhook secret the sandbox signs with")
	webhookAlg := fs.String("webhook-alg", string(signing.SHA256), "Sumsub webhook digest algorithm: HMAC_SHA1_HEX, HMAC_SHA256_HEX or HMAC_SHA512_HEX")
	appToken := newSecretFlag(fs, "sumsub-app-token", "KYCSIM_SUMSUB_APP_TOKEN", defaultSumsubAppToken, "Sumsub app token the API accepts")
	secretKey := newSecretFlag(fs, "sumsub-secret-key", "KYCSIM_SUMSUB_SECRET_KEY", defaultSumsubSecret, "Sumsub secret key API requests are signed with")
	jumioClient := newSecretFlag(fs, "jumio-client", "KYCSIM_JUMIO_CLIENT", defaultJumioClient, "Jumio API client as ID:SECRET (OAuth2 client credentials, Netverify HTTP Basic)")
	controlToken := newSecretFlag(fs, "control-token", "KYCSIM_CONTROL_TOKEN", "", "token the control API and the outcome page require (Authorization: Bearer T or ?control-token=T); required on a non-loopback address")
	createStatus := fs.Int("sumsub-create-status", sandboxapi.DefaultSumsubCreateStatus, "status a Sumsub applicant creation answers with: 201 (as Sumsub's own Postman collection expects) or 200 (for clients that accept nothing else)")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	workers := fs.Int("workers", 0, "callback attempts in flight at most (default 16)")
	replica := fs.String("replica", "", "this process's name among the replicas on one database: on its claims, its attempts and its metrics (default HOST-PID)")
	lease := fs.Duration("lease", sandbox.DefaultLease, "how long a replica's claim on a callback holds: after it, another replica sends a callback whose replica died (longer than the slowest receiver's answer)")
	var webhooks, allow listFlag
	fs.Var(&webhooks, "webhook", "PRODUCT=URL: where PRODUCT's callbacks go (repeatable): Sumsub's only target; Jumio's when a request names no callbackUrl")
	fs.Var(&allow, "allow-callback", "host pattern callbacks may go to: host, host:port or *.suffix (repeatable; default: loopback and the --webhook hosts); off loopback, also what names an internal address")
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
	if *lease < time.Second {
		return usageErrorf("--lease %v: want at least 1s (an attempt is cut off at nine tenths of it)", *lease)
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
	type resolved struct{ value, note string }
	secrets := map[*secretFlag]resolved{}
	for _, sf := range []*secretFlag{dbFlag, webhookSecret, appToken, secretKey, jumioClient, controlToken} {
		v, from, err := sf.resolve()
		if err != nil {
			return err
		}
		secrets[sf] = resolved{v, sf.note(v, from)}
	}
	dbPath := secrets[dbFlag].value
	clientID, clientSecret, ok := strings.Cut(secrets[jumioClient].value, ":")
	if !ok || clientID == "" || clientSecret == "" {
		return usageErrorf("--jumio-client: want ID:SECRET")
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
	for _, f := range []struct{ name, url string }{{"public-url", *publicURL}, {"internal-url", *internalURL}} {
		if f.url == "" {
			continue
		}
		if err := sandboxapi.CheckPublicURL(strings.TrimSuffix(f.url, "/")); err != nil {
			return usageErrorf("--%s: %v", f.name, err)
		}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return usageErrorf("--addr: %v", err)
	}
	defer ln.Close()
	exposed := !isLoopbackAddr(ln.Addr())
	if exposed && secrets[controlToken].value == "" {
		return usageErrorf("--addr %s is not a loopback address: give --control-token (or --control-token-file, or $KYCSIM_CONTROL_TOKEN) so that only you can pick outcomes and resend callbacks", *addr)
	}
	if exposed && *publicURL == "" {
		return usageErrorf("--addr %s is not a loopback address: give --public-url, the URL browsers and apps reach the sandbox at (web.href and redirectUrl point there)", *addr)
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
	_, portStr, _ := net.SplitHostPort(ln.Addr().String())
	listenPort, _ := strconv.Atoi(portStr)
	in, err := sandboxapi.Open(ctx, sandboxapi.Options{
		DB: dbPath, TimeScale: *scale, Workers: *workers, Replica: *replica, Lease: *lease,
		Config: sandboxapi.Config{
			Catalog: cat, Planner: planner, PublicURL: base, InternalURL: *internalURL,
			JumioClientID: clientID, JumioClientSecret: clientSecret,
			SumsubAppToken: secrets[appToken].value, SumsubSecretKey: secrets[secretKey].value, SumsubCreateStatus: *createStatus,
			Webhooks: hooks, WebhookSecret: secrets[webhookSecret].value, WebhookAlg: alg,
			ControlToken: secrets[controlToken].value, AllowCallback: allow, Logger: log,
			Exposed: exposed, ListenPort: listenPort,
		},
	})
	if errors.Is(err, sqlite.ErrLocked) || errors.Is(err, sandbox.ErrForeignDatabase) {
		return usageErrorf("--db: %v", err)
	}
	if err != nil {
		return fmt.Errorf("start the sandbox: %w", err)
	}
	srv := &http.Server{Handler: in.Server, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	dbNote := dbPath
	if postgres.IsURL(dbPath) {
		dbNote = postgres.Redact(dbPath) + ", replica " + in.Replica
	}
	idNote := secrets[jumioClient].note
	if !strings.HasSuffix(idNote, "(default)") {
		idNote = clientID + ":" + idNote
	}
	m.printServeBanner(base, dbNote, *scale, hooks, alg, []string{
		"--jumio-client " + idNote,
		"--sumsub-app-token " + secrets[appToken].note,
		"--sumsub-secret-key " + secrets[secretKey].note,
		"--webhook-secret " + secrets[webhookSecret].note + ", signed " + string(alg),
	}, secrets[controlToken].value != "")
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
// secrets only as "(set)" and where they came from.
func (m *Main) printServeBanner(base, db string, scale float64, hooks map[string]string, alg signing.Algorithm, creds []string, control bool) {
	w := m.Stdout
	fmt.Fprintf(w, "kycsim sandbox on %s (state in %s, time scale %g)\n", base, db, scale)
	fmt.Fprintf(w, "  Jumio KYX      POST %s/oauth2/token, POST %s/api/v1/accounts\n", base, base)
	fmt.Fprintf(w, "  Netverify      POST %s/api/v4/initiate\n", base)
	fmt.Fprintf(w, "  Sumsub         POST %s/resources/applicants?levelName=...   WebSDK: %s/websdk/ACCESS_TOKEN\n", base, base)
	fmt.Fprintf(w, "  control API    %s/_sandbox/...   OpenAPI: %s/openapi.json   metrics: %s/metrics\n", base, base, base)
	fmt.Fprintln(w, "credentials:")
	for _, c := range creds {
		fmt.Fprintln(w, "  "+c)
	}
	if control {
		fmt.Fprintln(w, "  --control-token (set): the control API needs it; the outcome page needs it or the link the API hands out")
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
