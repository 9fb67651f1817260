// Package record captures a vendor's real callbacks in front of a
// receiver and turns them into a reusable scenario suite. Recorder is a
// pass-through proxy: each callback is forwarded byte for byte with its
// headers, the receiver's answer relayed unchanged, and the exchange
// stored, its personal data masked (Masker, with the product's rules from
// spec/data), as a step of its subject's scenario file, which `kycsim
// run DIR` replays. Each payload is validated at levels vendor and strict
// on the way (Drift), so that a change in what the vendor sends shows.
package record

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/kycsim/kycsim/simulator/signing"
	"github.com/kycsim/kycsim/spec"
	"github.com/kycsim/kycsim/spec/maskrule"
)

// Defaults of Config's bounds.
const (
	DefaultMaxBody      = 1 << 20
	DefaultMaxExchanges = 1000
	DefaultMaxDisk      = 100 << 20
	DefaultTimeout      = 30 * time.Second
	// maxAnswer bounds the receiver's answer relayed to the sender.
	maxAnswer = 16 << 20
)

// Config configures a Recorder.
type Config struct {
	Product *spec.Product
	Rules   *maskrule.Rules
	// Key makes the masking's replacements (random, at least 16 bytes);
	// it is never written.
	Key []byte
	// Dir receives the scenario files, recording.json, drift.json and
	// drift.txt. It must be empty or absent.
	Dir string
	// Forward is the receiver's URL; a request's path is appended to it
	// unless it is "/".
	Forward *url.URL
	// Secret is the Sumsub webhook secret that signatures are checked
	// with ("" checks none).
	Secret string
	// Probe is the receiver's probe URL with {subject}; when set, each
	// scenario ends with what the probe says of its subject at Close.
	Probe string
	// KeepHeaders are headers stored with each callback, as sent (names,
	// any case). Other headers are forwarded but not stored: a custom
	// header may hold a credential.
	KeepHeaders []string
	// ForwardedFor appends the sender's address to X-Forwarded-For, as a
	// proxy does.
	ForwardedFor bool
	// ExactStatus writes the recorded status code as the expectation
	// instead of its class (2xx).
	ExactStatus bool
	// Bounds: the body of one callback (larger ones are refused with 413
	// and not forwarded), the callbacks recorded, and the bytes written
	// to Dir. Past the last two the proxy goes on forwarding, and records
	// nothing more.
	MaxBody      int64
	MaxExchanges int
	MaxDisk      int64
	// Timeout bounds one forwarded exchange (and one probe).
	Timeout time.Duration
	// Log gets one line per callback and per new departure; nil discards.
	Log io.Writer
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Recorder is the recording proxy: an http.Handler. Close writes the
// last of the recording.
type Recorder struct {
	cfg    Config
	masker *Masker
	drift  *Drift
	client *http.Client
	start  time.Time
	keep   map[string]bool

	mu        sync.Mutex
	n         int                 // callbacks numbered so far
	recorded  int                 // callbacks stored
	sessions  map[string]*session // by original subject id (memory only)
	order     []*session
	originals map[*session]string // the original subject of each session (memory only)
	sizes     map[string]int64    // bytes of each written file
	full      string              // why nothing more is recorded
	entries   []Entry
	refused   int
	forwarded int
	writeErr  error
	closed    bool
	// summarized is when recording.json was last written.
	summarized time.Time
}

// Entry is one callback in recording.json (masked).
type Entry struct {
	N         int    `json:"n"`
	File      string `json:"file,omitempty"`
	Message   string `json:"message"`
	Status    int    `json:"status,omitempty"`
	Error     string `json:"error,omitempty"`
	LatencyMs int64  `json:"latencyMs"`
	Signature string `json:"signature,omitempty"`
	Recorded  bool   `json:"recorded"`
	Note      string `json:"note,omitempty"`
}

// New checks the configuration, makes Dir and returns a Recorder.
func New(cfg Config) (*Recorder, error) {
	if cfg.Product == nil || cfg.Rules == nil || cfg.Forward == nil {
		return nil, errors.New("record: Product, Rules and Forward are required")
	}
	if len(cfg.Key) < 16 {
		return nil, errors.New("record: the masking key has fewer than 16 bytes")
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.MaxExchanges <= 0 {
		cfg.MaxExchanges = DefaultMaxExchanges
	}
	if cfg.MaxDisk <= 0 {
		cfg.MaxDisk = DefaultMaxDisk
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if err := emptyDir(cfg.Dir); err != nil {
		return nil, err
	}
	r := &Recorder{
		cfg: cfg, masker: NewMasker(cfg.Product, cfg.Rules, cfg.Key), drift: NewDrift(cfg.Product),
		client: &http.Client{
			Timeout: cfg.Timeout,
			// The proxy never follows a redirect: the sender gets it.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			Transport:     &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16, ResponseHeaderTimeout: cfg.Timeout},
		},
		start: cfg.Now(), keep: map[string]bool{}, sessions: map[string]*session{},
		originals: map[*session]string{}, sizes: map[string]int64{},
	}
	for _, h := range cfg.KeepHeaders {
		r.keep[http.CanonicalHeaderKey(h)] = true
	}
	return r, nil
}

// emptyDir makes dir, or checks that it exists and is empty: a recording
// never mixes with files already there.
func emptyDir(dir string) error {
	if dir == "" {
		return errors.New("record: no output directory")
	}
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return os.MkdirAll(dir, 0o755)
	case err != nil:
		return err
	case len(entries) > 0:
		return fmt.Errorf("%s is not empty: give a new directory for each recording", dir)
	}
	return nil
}

// hopHeaders are not forwarded (RFC 9110 7.6.1), nor is Host.
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// ServeHTTP forwards one request and records it.
func (r *Recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	arrival := r.cfg.Now()
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, r.cfg.MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			r.mu.Lock()
			r.refused++
			r.mu.Unlock()
			fmt.Fprintf(r.cfg.Log, "refused a %s %s: the body is over --max-body %d bytes; not forwarded\n", req.Method, req.URL.Path, r.cfg.MaxBody)
			http.Error(w, fmt.Sprintf("kycsim record: the body is over %d bytes (--max-body)", r.cfg.MaxBody), http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "kycsim record: read the body: "+err.Error(), http.StatusBadRequest)
		return
	}
	out, err := r.outbound(req, body)
	if err != nil {
		http.Error(w, "kycsim record: "+err.Error(), http.StatusBadRequest)
		return
	}
	began := time.Now()
	resp, err := r.client.Do(out)
	ex := &exchange{arrival: arrival}
	if err != nil {
		ex.answerErr = err.Error()
		ex.latency = time.Since(began)
		http.Error(w, "kycsim record: the receiver did not answer: "+err.Error(), http.StatusBadGateway)
	} else {
		copyHeaders(w.Header(), resp.Header)
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, io.LimitReader(resp.Body, maxAnswer))
		resp.Body.Close()
		ex.status = resp.StatusCode
		ex.latency = time.Since(began)
	}
	r.mu.Lock()
	r.forwarded++
	r.mu.Unlock()
	if req.Method != http.MethodPost {
		fmt.Fprintf(r.cfg.Log, "forwarded a %s %s (only POST callbacks are recorded)\n", req.Method, req.URL.Path)
		return
	}
	r.record(ex, req.Header, body)
}

// outbound is the request forwarded to the receiver: same method, body
// and headers (hop-by-hop ones aside), at Forward plus the path.
func (r *Recorder) outbound(req *http.Request, body []byte) (*http.Request, error) {
	u := *r.cfg.Forward
	if req.URL.Path != "/" && req.URL.Path != "" {
		u.Path = strings.TrimSuffix(u.Path, "/") + req.URL.Path
		u.RawPath = ""
	}
	if req.URL.RawQuery != "" {
		if u.RawQuery != "" {
			u.RawQuery += "&"
		}
		u.RawQuery += req.URL.RawQuery
	}
	out, err := http.NewRequestWithContext(req.Context(), req.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	copyHeaders(out.Header, req.Header)
	if _, ok := req.Header["User-Agent"]; !ok {
		out.Header["User-Agent"] = []string{""} // none sent, none forwarded
	}
	if r.cfg.ForwardedFor {
		if host, _, err := net.SplitHostPort(req.RemoteAddr); err == nil {
			if prior := req.Header.Values("X-Forwarded-For"); len(prior) > 0 {
				host = strings.Join(prior, ", ") + ", " + host
			}
			out.Header.Set("X-Forwarded-For", host)
		}
	}
	out.ContentLength = int64(len(body))
	return out, nil
}

// copyHeaders copies headers but the hop-by-hop ones and those the
// Connection header names.
func copyHeaders(dst, src http.Header) {
	drop := map[string]bool{}
	for _, v := range src.Values("Connection") {
		for _, f := range strings.Split(v, ",") {
			drop[http.CanonicalHeaderKey(strings.TrimSpace(f))] = true
		}
	}
	for k, vs := range src {
		if slices.Contains(hopHeaders, k) || drop[k] || k == "Content-Length" {
			continue
		}
		dst[k] = slices.Clone(vs)
	}
}

// record masks, checks and stores one callback.
func (r *Recorder) record(ex *exchange, h http.Header, body []byte) {
	r.mu.Lock()
	r.n++
	ex.n = r.n
	full := r.full
	r.mu.Unlock()
	entry := Entry{N: ex.n, Status: ex.status, Error: ex.answerErr, LatencyMs: ex.latency.Milliseconds()}
	if full != "" {
		entry.Note = "not recorded: " + full
		r.addEntry(entry)
		return
	}
	if r.cfg.Product.Name == "sumsub" {
		ex.signature, ex.alg, ex.recorded = r.checkSignature(h, body)
	}
	entry.Signature = ex.signature
	if ct := h.Get("Content-Type"); ct != r.cfg.Product.ContentType {
		ex.contentType = ct
	}
	for k, vs := range h {
		if r.keep[k] {
			for _, v := range vs {
				ex.headers = append(ex.headers, header{k, v})
			}
		}
	}
	sort.Slice(ex.headers, func(i, j int) bool { return ex.headers[i].name < ex.headers[j].name })
	masked, original := r.masker.Mask(body)
	ex.body = string(masked.Body)
	ex.normalized, ex.whole = masked.Normalized, masked.Encoding == ""

	r.mu.Lock()
	s := r.sessionFor(original, masked.Subject)
	r.mu.Unlock()
	message, fresh, err := r.drift.Add(masked.Body, ex.n, s.file)
	if err != nil {
		entry.Note = "drift: " + err.Error()
	}
	ex.message = message
	ex.sendAs = message
	if ex.sendAs == "" {
		ex.sendAs = r.cfg.Product.MessageNames()[0]
	}
	entry.Message, entry.File = message, s.file
	for _, d := range fresh {
		fmt.Fprintf(r.cfg.Log, "drift: %s\n", d.Line())
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	if r.full != "" {
		entry.Note = "not recorded: " + r.full
		r.entries = append(r.entries, entry)
		return
	}
	s.list = append(s.list, ex)
	sort.SliceStable(s.list, func(i, j int) bool { return s.list[i].arrival.Before(s.list[j].arrival) })
	if err := r.writeSession(s); err != nil {
		s.list = slices.DeleteFunc(s.list, func(e *exchange) bool { return e == ex })
		entry.Note = "not recorded: " + err.Error()
		r.entries = append(r.entries, entry)
		fmt.Fprintf(r.cfg.Log, "#%d not recorded: %v\n", ex.n, err)
		return
	}
	entry.Recorded = true
	r.recorded++
	r.entries = append(r.entries, entry)
	// recording.json and the drift report grow with the recording: they
	// are written at most once a second, and at Close.
	if time.Since(r.summarized) >= time.Second {
		r.writeJSONLocked()
	}
	what := message
	if what == "" {
		what = "(message not told)"
	}
	answer := "no answer: " + ex.answerErr
	if ex.status != 0 {
		answer = fmt.Sprintf("%d in %s", ex.status, ex.latency.Round(10*time.Microsecond))
	}
	sig := ""
	if ex.signature != "" {
		sig = ", signature " + ex.signature
		if ex.signature == SigInvalid {
			sig += " (FLAGGED)"
		}
	}
	fmt.Fprintf(r.cfg.Log, "#%d %s %s → %s%s → %s\n", ex.n, r.cfg.Product.Name, what, answer, sig, s.file)
	if r.recorded >= r.cfg.MaxExchanges {
		r.stopLocked(fmt.Sprintf("--max-exchanges %d reached", r.cfg.MaxExchanges))
	}
}

// stopLocked stops recording (the proxy goes on forwarding).
func (r *Recorder) stopLocked(why string) {
	if r.full == "" {
		r.full = why
		fmt.Fprintf(r.cfg.Log, "recording stopped: %s; still forwarding\n", why)
	}
}

func (r *Recorder) addEntry(e Entry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.entries = append(r.entries, e)
}

// checkSignature reads a Sumsub callback's digest headers and checks them
// with the secret.
func (r *Recorder) checkSignature(h http.Header, body []byte) (outcome, alg string, recorded []header) {
	digest, hasDigest := h[signing.DigestHeader]
	algs, hasAlg := h[signing.AlgorithmHeader]
	if hasDigest {
		recorded = append(recorded, header{signing.DigestHeader, strings.Join(digest, ", ")})
	}
	if hasAlg {
		alg = strings.Join(algs, ", ")
		recorded = append(recorded, header{signing.AlgorithmHeader, alg})
	}
	a := signing.SHA256
	if hasAlg {
		parsed, err := signing.ParseAlgorithm(alg)
		if err != nil {
			return SigUnknownAlg, alg, recorded
		}
		a = parsed
	}
	switch {
	case !hasDigest:
		return SigMissing, alg, recorded
	case r.cfg.Secret == "":
		return SigUnchecked, alg, recorded
	case len(digest) == 1 && signing.Verify(a, r.cfg.Secret, body, digest[0]):
		return SigValid, alg, recorded
	}
	return SigInvalid, alg, recorded
}

// unsafeName matches what a file name should not hold.
var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// sessionFor returns the session of a subject, making it (and its file
// name) on first sight. A callback without a subject has a session of
// its own.
func (r *Recorder) sessionFor(original, masked string) *session {
	if s := r.sessions[original]; s != nil && original != "" {
		return s
	}
	label := "no-subject"
	if masked != "" {
		label = unsafeName.ReplaceAllString(masked, "")
		if len(label) > 12 {
			label = label[:12]
		}
	}
	s := &session{
		file: fmt.Sprintf("%04d-%s-%s.yaml", len(r.order)+1, r.cfg.Product.Name, label), product: r.cfg.Product.Name,
		subject: masked, start: r.start, vars: map[string]bool{},
	}
	if original != "" {
		r.sessions[original] = s
		r.originals[s] = original
	}
	r.order = append(r.order, s)
	return s
}

// writeSession writes a session's scenario file, within the disk bound.
func (r *Recorder) writeSession(s *session) error {
	s.vars = map[string]bool{}
	data, err := s.render(r.cfg.ExactStatus)
	if err != nil {
		return fmt.Errorf("render %s: %w", s.file, err)
	}
	return r.writeFileLocked(s.file, data)
}

// writeFileLocked writes a file of the recording atomically, within the
// disk bound.
func (r *Recorder) writeFileLocked(name string, data []byte) error {
	var total int64
	for f, n := range r.sizes {
		if f != name {
			total += n
		}
	}
	if total+int64(len(data)) > r.cfg.MaxDisk {
		r.stopLocked(fmt.Sprintf("--max-disk %d bytes reached", r.cfg.MaxDisk))
		return fmt.Errorf("%s would take the recording over --max-disk %d bytes", name, r.cfg.MaxDisk)
	}
	path := filepath.Join(r.cfg.Dir, name)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		r.noteWriteErr(err)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		r.noteWriteErr(err)
		return err
	}
	r.sizes[name] = int64(len(data))
	return nil
}

func (r *Recorder) noteWriteErr(err error) {
	if r.writeErr == nil {
		r.writeErr = err
	}
}

// Summary is recording.json: what was recorded, masked.
type Summary struct {
	Product   string    `json:"product"`
	Forward   string    `json:"forward"`
	Started   time.Time `json:"started"`
	Forwarded int       `json:"forwarded"`
	Recorded  int       `json:"recorded"`
	Refused   int       `json:"refusedOverMaxBody"`
	Stopped   string    `json:"stopped,omitempty"`
	Files     []string  `json:"files"`
	// Unruled are fields masked as text because no rule of the product
	// names them.
	Unruled   []string `json:"maskedWithoutRule"`
	Callbacks []Entry  `json:"callbacks"`
}

// summaryLocked makes recording.json's content.
func (r *Recorder) summaryLocked() Summary {
	fw := *r.cfg.Forward
	fw.User, fw.RawQuery, fw.Fragment = nil, "", ""
	s := Summary{Product: r.cfg.Product.Name, Forward: fw.String(), Started: r.start, Forwarded: r.forwarded,
		Recorded: r.recorded, Refused: r.refused, Stopped: r.full, Files: []string{}, Unruled: r.masker.Unruled(),
		Callbacks: slices.Clone(r.entries)}
	for _, se := range r.order {
		if len(se.list) > 0 {
			s.Files = append(s.Files, se.file)
		}
	}
	sort.Slice(s.Callbacks, func(i, j int) bool { return s.Callbacks[i].N < s.Callbacks[j].N })
	return s
}

// writeJSONLocked writes recording.json and the drift report.
func (r *Recorder) writeJSONLocked() {
	r.summarized = time.Now()
	sum, _ := json.MarshalIndent(r.summaryLocked(), "", "  ")
	_ = r.writeFileLocked("recording.json", append(sum, '\n'))
	rep := r.drift.Report()
	dj, _ := json.MarshalIndent(rep, "", "  ")
	_ = r.writeFileLocked("drift.json", append(dj, '\n'))
	var txt bytes.Buffer
	_ = rep.WriteText(&txt)
	_ = r.writeFileLocked("drift.txt", txt.Bytes())
}

// Drift returns the drift report so far.
func (r *Recorder) Drift() Report { return r.drift.Report() }

// Close ends the recording: with a probe, it asks the receiver about each
// subject and ends its scenario with the answer; then it writes
// recording.json and the drift report. It returns the first error
// writing a file.
func (r *Recorder) Close(ctx context.Context) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return r.writeErr
	}
	r.closed = true
	type job struct {
		s        *session
		original string
	}
	var jobs []job
	for _, s := range r.order {
		if len(s.list) > 0 && r.originals[s] != "" {
			jobs = append(jobs, job{s, r.originals[s]})
		}
	}
	r.mu.Unlock()
	if r.cfg.Probe != "" {
		for _, j := range jobs {
			pa, err := r.probe(ctx, j.original)
			r.mu.Lock()
			if err != nil {
				j.s.probeErr = err.Error()
			} else {
				j.s.probe = &pa
			}
			_ = r.writeSession(j.s)
			r.mu.Unlock()
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writeJSONLocked()
	r.client.CloseIdleConnections()
	return r.writeErr
}

// probe asks the receiver's probe about a subject (the original id: the
// receiver knows no other), settling: it asks until two answers 200 ms
// apart agree, for at most 2 s.
func (r *Recorder) probe(ctx context.Context, subject string) (probeAnswer, error) {
	var prev *probeAnswer
	deadline := time.Now().Add(2 * time.Second)
	for {
		pa, err := r.probeOnce(ctx, subject)
		if err != nil {
			return pa, err
		}
		if prev != nil && prev.Events == pa.Events && equalStatus(prev.Status, pa.Status) || time.Now().After(deadline) {
			return pa, nil
		}
		prev = &pa
		select {
		case <-ctx.Done():
			return pa, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func equalStatus(a, b *string) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

func (r *Recorder) probeOnce(ctx context.Context, subject string) (probeAnswer, error) {
	var pa probeAnswer
	u := strings.ReplaceAll(r.cfg.Probe, "{subject}", url.PathEscape(subject))
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return pa, err
	}
	resp, err := r.client.Do(req)
	if err != nil {
		// The error names the URL, and so the original subject: say less.
		return pa, errors.New("the probe did not answer")
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return pa, errors.New("the probe's answer could not be read")
	}
	if resp.StatusCode != http.StatusOK {
		return pa, fmt.Errorf("the probe answered %d", resp.StatusCode)
	}
	if err := json.Unmarshal(b, &pa); err != nil {
		return pa, errors.New(`the probe's answer is not {"events": N, "status": S}`)
	}
	return pa, nil
}
