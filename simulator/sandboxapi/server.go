package sandboxapi

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/gorilla/mux"

	"github.com/kycsim/kycsim/simulator"
	"github.com/kycsim/kycsim/simulator/sandbox"
	"github.com/kycsim/kycsim/simulator/signing"
	"github.com/kycsim/kycsim/spec"
)

// Config is what a Server needs.
type Config struct {
	// Store holds the verifications and the outbox.
	Store sandbox.Store
	// Clock is the sandbox clock (token lifetimes, session timeouts,
	// callback times).
	Clock interface{ Now() time.Time }
	// WallNow is the wall clock (Sumsub request timestamps, OAuth token
	// expiry is on the sandbox clock); time.Now when nil.
	WallNow func() time.Time
	// TimeScale is how many real seconds a second of the sandbox clock
	// takes (the Instance's TimeScale; 1 when 0): OAuth expires_in is told
	// in the caller's real seconds.
	TimeScale float64
	// Catalog builds the callbacks.
	Catalog *spec.Catalog
	// Planner plans the scenarios outcomes play (the built-in library and
	// the sandbox's own, OutcomeScenarios).
	Planner simulator.Planner
	// PublicURL is the base URL the sandbox is reached at: web.href,
	// redirectUrl, websdkLink URLs and the callbacks' hrefs point at it.
	PublicURL string
	// InternalURL, when set, replaces PublicURL in the URLs servers
	// fetch (the callbacks' hrefs and image URLs, the retrieval API's
	// part and image URLs, the API channel's links): the base URL the
	// receivers reach the sandbox at, when it differs from the one
	// people's browsers use (a container network).
	InternalURL string
	// JumioClientID and JumioClientSecret are the Jumio API credentials
	// (OAuth2 client, Netverify HTTP Basic).
	JumioClientID, JumioClientSecret string
	// SumsubAppToken and SumsubSecretKey sign Sumsub API requests.
	SumsubAppToken, SumsubSecretKey string
	// SumsubCreateStatus is the status an applicant creation answers
	// with (DefaultSumsubCreateStatus, 201, when 0; 200 for clients that
	// accept nothing else).
	SumsubCreateStatus int
	// Webhooks maps a product to its default callback URL (Sumsub's only
	// one; Jumio's when a request names no callbackUrl).
	Webhooks map[string]string
	// WebhookSecret and WebhookAlg sign Sumsub webhooks.
	WebhookSecret string
	WebhookAlg    signing.Algorithm
	// ControlToken, when set, is required (Authorization: Bearer, or the
	// control-token query parameter) by the control API and the outcome
	// page.
	ControlToken string
	// AllowCallback lists the host patterns callbacks may go to (a host,
	// host:port, or *.suffix); empty allows only loopback and the
	// Webhooks' hosts. See callback.go for the whole rule.
	AllowCallback []string
	// Exposed says the sandbox listens off loopback, where other
	// machines reach it: callbacks to internal addresses are refused
	// unless AllowCallback or Webhooks name the host.
	Exposed bool
	// ListenPort is the port the sandbox listens on (0: unknown):
	// callbacks do not go to it on loopback unless named.
	ListenPort int
	// Shared says other replicas write the same Store (PostgreSQL): the
	// verifications are not cached, so that every replica answers with
	// what any of them wrote.
	Shared bool
	// Logger gets a line per request; discarded when nil.
	Logger *slog.Logger
	// Metrics, when set, counts requests.
	Metrics *Metrics
	// Wake is called after deliveries were enqueued or resent.
	Wake func()
}

// Server is the sandbox's HTTP face: the vendor APIs, the outcome page,
// the control API, /openapi.json and /metrics.
type Server struct {
	cfg Config
	// store is cfg.Store behind a read cache of verifications.
	store  *cachingStore
	doc    *openapi3.T
	docRaw []byte
	router *routeIndex
	log    *slog.Logger
	// expiry serialises the expiry sweeps.
	expiry sync.Mutex
	// answers caches the retrieval APIs' encoded answers.
	answers answerCache
	// bearers remembers the Jumio tokens already checked.
	bearers bearerCache
}

// New returns a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Clock == nil || cfg.Catalog == nil || cfg.Planner == nil {
		return nil, errors.New("sandbox server: Store, Clock, Catalog and Planner are required")
	}
	if err := checkPlanner(cfg.Planner); err != nil {
		return nil, err
	}
	if cfg.WallNow == nil {
		cfg.WallNow = time.Now
	}
	if cfg.TimeScale <= 0 {
		cfg.TimeScale = 1
	}
	if cfg.WebhookAlg == "" {
		cfg.WebhookAlg = signing.SHA256
	}
	if cfg.Wake == nil {
		cfg.Wake = func() {}
	}
	cfg.PublicURL = strings.TrimSuffix(cfg.PublicURL, "/")
	if err := CheckPublicURL(cfg.PublicURL); err != nil {
		return nil, fmt.Errorf("sandbox server: %w", err)
	}
	cfg.InternalURL = strings.TrimSuffix(cfg.InternalURL, "/")
	if cfg.InternalURL == "" {
		cfg.InternalURL = cfg.PublicURL
	} else if u, err := url.Parse(cfg.InternalURL); err != nil || u.Host == "" {
		return nil, fmt.Errorf("sandbox server: internal URL %q: want an absolute http URL", cfg.InternalURL)
	}
	doc, err := Document()
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode the OpenAPI document: %w", err)
	}
	s := &Server{cfg: cfg, doc: doc, docRaw: raw, log: cfg.Logger}
	s.store = newCachingStore(cfg.Store, !cfg.Shared)
	s.cfg.Store = s.store
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if err := s.routes(); err != nil {
		return nil, err
	}
	return s, nil
}

// CheckPublicURL reports whether a base URL can stand before the
// sandbox's paths in the links it hands out: absolute http or https,
// with a host, and no user, query or fragment.
func CheckPublicURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		return errors.New("public URL: empty")
	case err != nil:
		return fmt.Errorf("public URL %q: %v", raw, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("public URL %q: want an absolute http:// or https:// URL", raw)
	case u.Host == "" || u.Hostname() == "":
		return fmt.Errorf("public URL %q: no host", raw)
	case u.User != nil:
		return fmt.Errorf("public URL %q: no user or password may be in it", raw)
	case u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(raw, "?") || strings.Contains(raw, "#"):
		return fmt.Errorf("public URL %q: no query or fragment may be in it", raw)
	}
	if ip, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]")); err == nil && ip.IsUnspecified() {
		return fmt.Errorf("public URL %q: %s is the any-address a server listens on, not one a browser reaches it at", raw, u.Hostname())
	}
	return nil
}

// handlerFunc is an operation's handler; an error it returns is written
// in the vendor's error shape by writeError.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// routes registers every operation of the document with its handler,
// behind request validation, and the routes outside the document.
func (s *Server) routes() error {
	handlers := map[string]handlerFunc{
		"jumioToken":                      s.jumioToken,
		"kyxCreateAccount":                s.kyxCreateAccount,
		"kyxUpdateAccount":                s.kyxUpdateAccount,
		"kyxDetails":                      s.kyxDetails,
		"kyxStatus":                       s.kyxStatus,
		"kyxDetailsShort":                 s.kyxDetails,
		"kyxStatusShort":                  s.kyxStatus,
		"netverifyInitiate":               s.netverifyInitiate,
		"netverifyScan":                   s.netverifyScan,
		"netverifyScanData":               s.netverifyScanData,
		"netverifyScanDocument":           s.netverifyScanDocument,
		"netverifyScanTransaction":        s.netverifyScanTransaction,
		"netverifyScanVerification":       s.netverifyScanVerification,
		"netverifyScanImages":             s.netverifyScanImages,
		"netverifyScanImage":              s.netverifyScanImage,
		"netverifyLivenessImage":          s.netverifyLivenessImage,
		"kyxFinalize":                     s.kyxFinalize,
		"kyxUploadPart":                   s.kyxUploadPart,
		"kyxReplacePart":                  s.kyxUploadPart,
		"kyxPart":                         s.kyxPart,
		"sumsubCreateApplicant":           s.sumsubCreateApplicant,
		"sumsubApplicant":                 s.sumsubApplicant,
		"sumsubStatus":                    s.sumsubStatus,
		"sumsubPending":                   s.sumsubPending,
		"sumsubTestCompleted":             s.sumsubTestCompleted,
		"sumsubAccessToken":               s.sumsubAccessToken,
		"sumsubWebSDKLink":                s.sumsubWebSDKLink,
		"controlKYXOutcome":               s.controlKYXOutcome,
		"controlNetverifyOutcome":         s.controlNetverifyOutcome,
		"controlDeliveries":               s.controlDeliveries,
		"controlResend":                   s.controlResend,
		"controlVerification":             s.controlVerification,
		"sumsubAccessTokenSDK":            s.sumsubAccessTokenSDK,
		"sumsubApplicantByExternalUserId": s.sumsubApplicantByExternalUserId,
		"sumsubFixedInfo":                 s.sumsubFixedInfo,
		"sumsubChangeTopLevelInfo":        s.sumsubChangeTopLevelInfo,
		"sumsubRequiredIdDocsStatus":      s.sumsubRequiredIdDocsStatus,
		"sumsubReset":                     s.sumsubReset,
		"sumsubAddIdDoc":                  s.sumsubAddIdDoc,
		"sumsubImage":                     s.sumsubImage,
		"sumsubHealth":                    s.sumsubHealth,
	}
	r := newRouteIndex()
	for _, path := range s.doc.Paths.InMatchingOrder() {
		item := s.doc.Paths.Value(path)
		for method, op := range item.Operations() {
			h, ok := handlers[op.OperationID]
			if !ok && notSimulated(op) {
				h, ok = s.notSimulatedHandler(op), true
				handlers[op.OperationID] = h
			}
			if !ok {
				return fmt.Errorf("sandbox server: no handler for operation %q (%s %s)", op.OperationID, method, path)
			}
			delete(handlers, op.OperationID)
			// The sandbox checks credentials itself (authenticate, before
			// validation), so kin-openapi is given the operation without
			// its security requirements: with a no-op authentication it
			// would only read the body again and always pass.
			checked := *op
			checked.Security = &openapi3.SecurityRequirements{}
			route := &routers.Route{Spec: s.doc, Path: path, PathItem: item, Method: method, Operation: &checked}
			r.handle(path, muxPath(path), method, s.operation(route, h))
		}
	}
	if len(handlers) > 0 {
		return fmt.Errorf("sandbox server: %d handlers have no operation in the document", len(handlers))
	}
	r.handle("/openapi.json", "/openapi.json", http.MethodGet, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(s.docRaw)
	}))
	if s.cfg.Metrics != nil {
		r.handle("/metrics", "/metrics", http.MethodGet, s.cfg.Metrics.Handler())
	}
	r.handle("/healthz", "/healthz", http.MethodGet, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"ok": true})
	}))
	r.handle("/web/{id}", "/web/{id}", http.MethodGet, s.page(s.pageGet))
	r.handle("/web/{id}", "/web/{id}", http.MethodPost, s.page(s.pagePost))
	r.handle("/websdk/{token}", "/websdk/{token}", http.MethodGet, s.pageAt("/websdk/{token}", tokenIsAccess, s.webSDKPage))
	r.finish(s.unrouted(http.StatusNotFound, "no sandbox API at %[2]s"),
		s.unrouted(http.StatusMethodNotAllowed, "%[1]s is not allowed on %[2]s"))
	s.router = r
	return nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	r.Body = http.MaxBytesReader(rec, r.Body, bodyLimit(r))
	s.router.ServeHTTP(rec, r)
	route := rec.route
	if route == "" {
		route = "other"
	}
	if s.cfg.Metrics != nil {
		s.cfg.Metrics.request(route, rec.status)
	}
	s.log.Info("request", "method", r.Method, "route", route, "status", rec.status, "duration", time.Since(start))
}

// unrouted answers a request no operation takes: under a vendor's paths,
// 501 in that vendor's error shape naming the operation as not simulated
// (never a 404 that reads like "not found"); elsewhere status, with a
// message formatted from the method and the path.
func (s *Server) unrouted(status int, format string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch vendorOf(r.URL.Path) {
		case vendorJumio:
			s.writeError(w, r, unknownJumioOperation(r))
		case vendorSumsub:
			s.sumsubNotSimulated(w, r)
		default:
			s.writeError(w, r, errorf(status, format, r.Method, r.URL.Path))
		}
	})
}

// maxRequestBody bounds a request body; maxUploadBody a Sumsub document
// upload's (a file of sandbox.MaxDocumentBytes and its multipart
// envelope).
const (
	maxRequestBody = 1 << 20
	maxUploadBody  = sandbox.MaxDocumentBytes + 1<<20
)

// pathVar matches a path template's variable.
var pathVar = regexp.MustCompile(`\{([A-Za-z0-9_]+)\}`)

// muxPath is the gorilla/mux template of a document path: a variable
// matches no ';', which starts Sumsub's selectors
// (/resources/applicants/-;externalUserId=ID/one) and is never part of an
// id.
func muxPath(path string) string {
	return pathVar.ReplaceAllString(path, `{$1:[^/;]+}`)
}

// maxPartBody bounds the body of a KYX part upload: Jumio takes images
// of up to 10 MB, and the multipart framing around one.
const maxPartBody = 10<<20 + 64<<10

// bodyLimit is the largest body a request may have.
func bodyLimit(r *http.Request) int64 {
	if strings.HasPrefix(r.URL.Path, "/resources/applicants/") && strings.HasSuffix(r.URL.Path, "/info/idDoc") {
		return maxUploadBody
	}
	if (r.Method == http.MethodPost || r.Method == http.MethodPut) && strings.HasPrefix(r.URL.Path, "/api/v1/accounts/") &&
		strings.Contains(r.URL.Path, "/parts/") {
		return maxPartBody
	}
	return maxRequestBody
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
	// route is the route template, for metrics and logs.
	route string
}

// setRoute records the route a request took.
func setRoute(w http.ResponseWriter, route string) {
	if rec, ok := w.(*statusRecorder); ok {
		rec.route = route
	}
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// operation wraps an operation's handler: the vendor's header rules,
// request validation against the document, then the handler.
func (s *Server) operation(route *routers.Route, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setRoute(w, route.Path)
		if err := s.precheck(r); err != nil {
			s.writeError(w, r, err)
			return
		}
		// Read the body once: validation and the handler (and the Sumsub
		// signature) all need the same bytes.
		if r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0 {
			body, err := readBody(r)
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			setBody(r, body)
		}
		input := &openapi3filter.RequestValidationInput{
			Request: r, PathParams: mux.Vars(r), Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		}
		if isMultipart(r) {
			// The handler reads multipart bodies itself and names the
			// form field at fault.
			input.Options.ExcludeRequestBody = true
		}
		if err := s.authenticate(r); err != nil {
			s.writeError(w, r, err)
			return
		}
		if err := openapi3filter.ValidateRequest(r.Context(), input); err != nil {
			s.writeError(w, r, validationError(err))
			return
		}
		resetBody(r)
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// precheck applies the rules the vendors apply before anything else:
// Jumio refuses a request without User-Agent (403), and the Netverify
// API one without Accept.
func (s *Server) precheck(r *http.Request) error {
	switch vendorOf(r.URL.Path) {
	case vendorJumio:
		if r.URL.Path == "/oauth2/token" {
			return nil
		}
		if r.Header.Get("User-Agent") == "" {
			return errorf(http.StatusForbidden, "a User-Agent header is required")
		}
		if strings.HasPrefix(r.URL.Path, "/api/v4/") || strings.HasPrefix(r.URL.Path, "/api/netverify/") {
			if r.Header.Get("Accept") == "" {
				return errorf(http.StatusForbidden, "an Accept header is required")
			}
		}
	}
	return nil
}

// authenticate checks the credentials each API wants.
func (s *Server) authenticate(r *http.Request) error {
	p := r.URL.Path
	switch {
	case p == "/oauth2/token", strings.HasPrefix(p, "/api/v4/"), strings.HasPrefix(p, "/api/netverify/"):
		return s.jumioBasic(r)
	case strings.HasPrefix(p, "/api/v1/"):
		if wf := apiChannelPath(r); wf != "" {
			return s.apiChannelAuth(r, wf)
		}
		return s.jumioBearer(r)
	case strings.HasPrefix(p, "/resources/"):
		return s.sumsubSignature(r)
	case strings.HasPrefix(p, "/_sandbox/"):
		return s.control(r)
	}
	return nil
}

// control checks the control token, when the sandbox has one.
func (s *Server) control(r *http.Request) error {
	if s.cfg.ControlToken == "" {
		return nil
	}
	got := r.URL.Query().Get("control-token")
	if a := r.Header.Get("Authorization"); strings.HasPrefix(a, "Bearer ") {
		got = strings.TrimPrefix(a, "Bearer ")
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(s.cfg.ControlToken)) != 1 {
		return errorf(http.StatusUnauthorized, "the control API and the outcome page need the control token (Authorization: Bearer TOKEN, or ?control-token=TOKEN)")
	}
	return nil
}

// storeTimeout bounds the store work of one request.
const storeTimeout = 10 * time.Second

// ctxTimeout bounds the store work of one request.
func ctxTimeout(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), storeTimeout)
}
