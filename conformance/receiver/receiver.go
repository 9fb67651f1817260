// Package receiver is kycsim's reference webhook receiver: a correct
// receiver for Jumio KYX, Netverify, Authentication, Document Verification
// and Sumsub callbacks, written as the example integrators should copy,
// with switchable known defects that the conformance runner's own tests
// turn on to prove each defect is caught.
//
// What it does right, in the order a request meets it:
//
//   - Jumio callbacks are accepted only from Jumio's published source
//     addresses (plus configured test addresses); X-Forwarded-For is used
//     only when told the receiver sits behind a proxy.
//   - Sumsub webhooks are verified over the raw body bytes with the
//     algorithm X-Payload-Digest-Alg names and a constant-time compare.
//   - Bodies are parsed tolerantly: sandboxMode as string or boolean,
//     Jumio timestamps with 0 to 3 millisecond digits, unknown fields and
//     unknown Sumsub types.
//   - Redeliveries are acted on once (see Key for the key per product),
//     also when they arrive at the same time.
//   - A subject's state never regresses: a KYX status must get further
//     than the one held; other products' events must be newer.
//   - It answers at once and does follow-up work afterwards: fetching the
//     KYX href of a PROCESSED workflow.
//
// It serves the probe GET /_probe/{subject} → {"events": N, "status": S}.
package receiver

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/kycsim/kycsim/simulator/signing"
	"github.com/kycsim/kycsim/spec"
)

// Paths are the receiver's callback paths by product.
var Paths = map[string]string{
	"jumio-kyx":       "/jumio/kyx",
	"jumio-netverify": "/jumio/netverify",
	"jumio-auth":      "/jumio/auth",
	"jumio-docverify": "/jumio/docverify",
	"sumsub":          "/sumsub",
}

// ProbePath is the probe's route.
const ProbePath = "/_probe/{subject}"

// MaxBodyBytes bounds a callback body.
const MaxBodyBytes = 1 << 20

// JumioInvalid says what the receiver does with a Jumio callback whose
// content is wrong (Jumio asks receivers to answer 200 first and validate
// afterwards, so both are defensible).
type JumioInvalid string

// The two policies.
const (
	AckAndDrop JumioInvalid = "ack-and-drop" // 200, and no effect
	Reject     JumioInvalid = "reject"       // 400
)

// Config configures a Receiver.
type Config struct {
	// Secret is the Sumsub webhook secret.
	Secret string
	// Sources are the test addresses allowed to send Jumio callbacks
	// besides Jumio's own (DefaultTestSources when nil).
	Sources []netip.Addr
	// BehindProxy makes the receiver take the source address from the
	// last X-Forwarded-For entry.
	BehindProxy bool
	// JumioInvalid is the policy for bad Jumio content (AckAndDrop when
	// empty).
	JumioInvalid JumioInvalid
	// Fetch turns on the follow-up fetch of the KYX href.
	Fetch bool
	// FetchTimeout bounds one follow-up fetch (5 s when zero).
	FetchTimeout time.Duration
	// Defects switches on known defects (see Defects).
	Defects []Defect
	// SlowDelay is how long the slow defect waits before answering
	// (11 s, beyond Sumsub's 10 s deadline, when zero).
	SlowDelay time.Duration
	// Logger gets one line per callback; nil discards.
	Logger *slog.Logger
}

// Receiver is the reference receiver; it is an http.Handler.
type Receiver struct {
	cfg     Config
	catalog *spec.Catalog
	router  *mux.Router
	state   *store
	defects map[Defect]bool
	allowed map[netip.Addr]bool
	fetcher *fetcher
	log     *slog.Logger
}

// New returns a receiver; it fails on an unknown defect or a catalog that
// does not compile.
func New(cfg Config) (*Receiver, error) {
	cat, err := spec.Default()
	if err != nil {
		return nil, fmt.Errorf("load catalog: %w", err)
	}
	if err := cat.CompileAll(); err != nil {
		return nil, err
	}
	switch cfg.JumioInvalid {
	case "":
		cfg.JumioInvalid = AckAndDrop
	case AckAndDrop, Reject:
	default:
		return nil, fmt.Errorf("unknown policy for invalid Jumio callbacks %q (known: %s, %s)", cfg.JumioInvalid, AckAndDrop, Reject)
	}
	if cfg.SlowDelay <= 0 {
		cfg.SlowDelay = 11 * time.Second
	}
	if cfg.FetchTimeout <= 0 {
		cfg.FetchTimeout = 5 * time.Second
	}
	rc := &Receiver{cfg: cfg, catalog: cat, state: newStore(), defects: map[Defect]bool{}, allowed: map[netip.Addr]bool{}, log: cfg.Logger}
	if rc.log == nil {
		rc.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	for _, d := range cfg.Defects {
		if !slices.Contains(Defects, d) {
			return nil, fmt.Errorf("unknown defect %q (known: %s)", d, defectNames())
		}
		rc.defects[d] = true
	}
	sources := cfg.Sources
	if sources == nil {
		sources = DefaultTestSources
	}
	for _, a := range append(slices.Clone(JumioCallbackSources), sources...) {
		rc.allowed[a.Unmap()] = true
	}
	rc.fetcher = newFetcher(cfg.FetchTimeout, rc.log)
	r := mux.NewRouter()
	for product, path := range Paths {
		r.HandleFunc(path, rc.callback(product)).Methods(http.MethodPost)
	}
	r.HandleFunc(ProbePath, rc.probe).Methods(http.MethodGet)
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answer(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed")
	})
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answer(w, http.StatusNotFound, "no callback is received at "+r.URL.Path)
	})
	rc.router = r
	return rc, nil
}

// ServeHTTP implements http.Handler.
func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) { rc.router.ServeHTTP(w, r) }

// Close stops the follow-up work, waiting for fetches under way until ctx
// is done.
func (rc *Receiver) Close(ctx context.Context) error { return rc.fetcher.close(ctx) }

// FetchCount returns how many follow-up fetches were made.
func (rc *Receiver) FetchCount() int { return rc.fetcher.count() }

// Probe returns what the probe answers for a subject.
func (rc *Receiver) Probe(subject string) (events int, status string, known bool) {
	return rc.state.probe(subject)
}

func (rc *Receiver) probe(w http.ResponseWriter, r *http.Request) {
	n, status, known := rc.state.probe(mux.Vars(r)["subject"])
	body := map[string]any{"events": n, "status": nil}
	if known {
		body["status"] = status
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(body)
}

// answer writes a short JSON answer.
func answer(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	b, _ := json.Marshal(map[string]string{"result": msg})
	w.Write(append(b, '\n'))
}

// outcome is the receiver's decision on one callback.
type outcome struct {
	code   int
	msg    string
	effect *event // acted on when not nil
}

func (rc *Receiver) callback(product string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		o := rc.decide(product, r)
		acted := false
		if o.effect != nil {
			acted = rc.state.record(*o.effect, !rc.defects[DefectNoDedup], !rc.defects[DefectStateRegression])
			if !acted {
				o.msg = "duplicate: already acted on"
			}
		}
		if rc.defects[DefectSlow] {
			t := time.NewTimer(rc.cfg.SlowDelay)
			select {
			case <-t.C:
			case <-r.Context().Done():
			}
			t.Stop()
		}
		answer(w, o.code, o.msg)
		rc.log.Info("callback", "product", product, "status", o.code, "result", o.msg)
		// Follow-up work runs after the answer is written.
		if acted && o.effect.fetch && rc.cfg.Fetch {
			rc.fetcher.enqueue(o.effect.href)
		}
	}
}

func (rc *Receiver) decide(product string, r *http.Request) outcome {
	p, err := rc.catalog.Product(product)
	if err != nil {
		return outcome{code: http.StatusInternalServerError, msg: err.Error()}
	}
	jumio := product != "sumsub"
	if jumio && !rc.defects[DefectAnySource] {
		src, err := source(r, rc.cfg.BehindProxy || rc.defects[DefectTrustForwardedFor])
		if err != nil {
			return outcome{code: http.StatusForbidden, msg: err.Error()}
		}
		if !rc.allowed[src] {
			return outcome{code: http.StatusForbidden, msg: fmt.Sprintf("source %s is not a Jumio callback address", src)}
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return outcome{code: http.StatusBadRequest, msg: "reading the body: " + err.Error()}
	}
	if len(body) > MaxBodyBytes {
		return outcome{code: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("body larger than %d bytes", MaxBodyBytes)}
	}
	if !jumio {
		if o, ok := rc.verifySumsub(r, body); !ok {
			return o
		}
	}
	bad := func(msg string) outcome {
		if !jumio || rc.cfg.JumioInvalid == Reject {
			return outcome{code: http.StatusBadRequest, msg: msg}
		}
		return outcome{code: http.StatusOK, msg: "acknowledged and dropped: " + msg}
	}
	if enc := spec.EncodingOf(r.Header.Get("Content-Type")); enc != p.Encoding && !rc.defects[DefectAcceptInvalid] {
		if !jumio {
			return outcome{code: http.StatusUnsupportedMediaType, msg: fmt.Sprintf("Content-Type %q; expected %s", r.Header.Get("Content-Type"), p.ContentType)}
		}
		return bad(fmt.Sprintf("Content-Type %q; expected %s", r.Header.Get("Content-Type"), p.ContentType))
	}
	res, err := p.Validate(body, spec.Options{Level: spec.LevelVendor, Encoding: p.Encoding})
	if err != nil {
		return outcome{code: http.StatusInternalServerError, msg: err.Error()}
	}
	if !res.Valid() && !rc.defects[DefectAcceptInvalid] {
		return bad(res.Violations[0].String())
	}
	pl, _ := p.Decode(body, p.Encoding, spec.LevelVendor)
	if pl == nil {
		return bad("body does not parse")
	}
	if o, bad := rc.defective(p, body, res, pl); bad {
		return o
	}
	e, err := eventOf(product, res.Message, pl.Value)
	if err != nil {
		return bad(err.Error())
	}
	if rc.defects[DefectMergeFinals] {
		e.key = e.subject
	}
	return outcome{code: http.StatusOK, msg: "accepted", effect: &e}
}

// verifySumsub checks the digest headers against the raw body.
func (rc *Receiver) verifySumsub(r *http.Request, body []byte) (outcome, bool) {
	if rc.defects[DefectNoSignatureCheck] {
		return outcome{}, true
	}
	if rc.cfg.Secret == "" {
		return outcome{code: http.StatusUnauthorized, msg: "no webhook secret is configured; every webhook is refused"}, false
	}
	digest := r.Header.Get(signing.DigestHeader)
	if digest == "" {
		return outcome{code: http.StatusUnauthorized, msg: "header " + signing.DigestHeader + " is missing"}, false
	}
	alg := signing.SHA256
	if !rc.defects[DefectAssumeSHA256] {
		var err error
		name := r.Header.Get(signing.AlgorithmHeader)
		if name == "" {
			return outcome{code: http.StatusUnauthorized, msg: "header " + signing.AlgorithmHeader + " is missing"}, false
		}
		if alg, err = signing.ParseAlgorithm(name); err != nil {
			return outcome{code: http.StatusUnauthorized, msg: "header " + signing.AlgorithmHeader + ": " + err.Error()}, false
		}
	}
	signed := body
	if rc.defects[DefectReserializedBody] {
		var v any
		if json.Unmarshal(body, &v) == nil {
			signed, _ = json.Marshal(v)
		}
	}
	if !signing.Verify(alg, rc.cfg.Secret, signed, digest) {
		return outcome{code: http.StatusUnauthorized, msg: "header " + signing.DigestHeader + " does not match the body"}, false
	}
	return outcome{}, true
}

// eventOf reads the subject, status, time and deduplication key of a
// callback from its decoded value.
func eventOf(product, message string, v any) (event, error) {
	e := event{product: product}
	var when string
	switch product {
	case "jumio-kyx":
		e.subject, e.status = str(v, "workflowExecution", "id"), str(v, "workflowExecution", "status")
		e.rank = kyxRank[e.status]
		e.href = str(v, "workflowExecution", "href")
		// The result is ready to fetch once the workflow is PROCESSED.
		e.fetch = e.status == "PROCESSED" && e.href != ""
		when = str(v, "callbackSentAt")
	case "jumio-netverify":
		e.subject, e.status, when = str(v, "jumioIdScanReference"), str(v, "verificationStatus"), str(v, "callbackDate")
	case "jumio-auth":
		e.subject, e.status, when = str(v, "transactionReference"), str(v, "transactionResult"), str(v, "callbackDate")
	case "jumio-docverify":
		e.subject, e.status, when = str(v, "scanReference"), str(v, "document", "status"), str(v, "timestamp")
	case "sumsub":
		e.subject, e.status, when = str(v, "applicantId"), str(v, "reviewStatus"), str(v, "createdAtMs")
		if a := str(v, "reviewResult", "reviewAnswer"); a != "" {
			e.status += "/" + a
		}
	}
	if e.subject == "" {
		return e, fmt.Errorf("no subject in the %s callback", product)
	}
	at, err := parseVendorTime(when)
	if err != nil {
		return e, err
	}
	e.at = at
	e.key = Key(product, v)
	return e, nil
}

// kyxRank orders KYX statuses by how far the workflow got.
var kyxRank = map[string]int{"ACQUISITION_STARTED": 1, "ACQUIRED": 2, "PROCESSED": 3, "SESSION_EXPIRED": 3, "TOKEN_EXPIRED": 3}

// Key returns the deduplication key of a decoded callback:
//
//   - jumio-kyx: workflowExecution.id and status (callbackSentAt is left
//     out: a redelivery carries a fresh one);
//   - jumio-netverify: jumioIdScanReference and verificationStatus;
//   - jumio-auth: transactionReference and transactionResult;
//   - jumio-docverify: scanReference and document.status;
//   - sumsub: applicantId, type, correlationId and createdAtMs (a resent
//     webhook repeats all four; two results, GREEN then RED, differ).
func Key(product string, v any) string {
	parts := []string{product}
	switch product {
	case "jumio-kyx":
		parts = append(parts, str(v, "workflowExecution", "id"), str(v, "workflowExecution", "status"))
	case "jumio-netverify":
		parts = append(parts, str(v, "jumioIdScanReference"), str(v, "verificationStatus"))
	case "jumio-auth":
		parts = append(parts, str(v, "transactionReference"), str(v, "transactionResult"))
	case "jumio-docverify":
		parts = append(parts, str(v, "scanReference"), str(v, "document", "status"))
	case "sumsub":
		parts = append(parts, str(v, "applicantId"), str(v, "type"), str(v, "correlationId"), str(v, "createdAtMs"))
	}
	return strings.Join(parts, "\x00")
}

// str returns the string at a path of a decoded value, "" when absent.
func str(v any, path ...string) string {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[k]
	}
	s, _ := v.(string)
	return s
}

// parseVendorTime reads a Jumio timestamp (0 to 3 millisecond digits) or
// a Sumsub createdAtMs.
func parseVendorTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("timestamp %q is neither a Jumio timestamp nor a Sumsub createdAtMs", s)
}
