package delivery

import (
	"bytes"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// MaxAnswerHeaderBytes is the most answer header bytes an attempt reads:
// an answer with more fails the attempt (Attempt.HeadersTooLarge), so
// that a receiver cannot make kycsim hold megabytes per attempt.
const MaxAnswerHeaderBytes = 64 << 10

// MaxKeptHeaderBytes is how many bytes of answer headers an Attempt
// keeps (names and values); the rest is cut and the cut marked
// (Attempt.ResponseHeaderTruncated). With MaxResponseBytes it bounds what
// one attempt adds to a log or a report.
const MaxKeptHeaderBytes = 8 << 10

// DefaultLateGrace is the Dispatcher.LateGrace the commands use: how long
// past the answer deadline an attempt keeps listening, to tell "answered
// late" from "no answer".
const DefaultLateGrace = 5 * time.Second

// redacted replaces a credential in what is recorded.
const redacted = "[redacted]"

// credentialWords are the parts of a header name that make it a
// credential, compared case-insensitively: Authorization, Cookie,
// Set-Cookie, X-Api-Key, X-Auth-Token, X-Webhook-Secret, X-App-Access-Sig,
// X-Password, ...
var credentialWords = []string{"authorization", "cookie", "token", "key", "secret", "signature", "password", "passwd", "credential"}

// credentialParts are dash- or underscore-separated parts that alone make
// a header name a credential (X-Auth, X-App-Access-Sig).
var credentialParts = []string{"auth", "sig", "pass", "pwd"}

// IsCredentialHeader reports whether a header name looks like it carries a
// credential. The Sumsub digest headers (X-Payload-Digest, -Alg) do not:
// an HMAC of a body reveals no secret, and replays need them.
func IsCredentialHeader(name string) bool {
	n := strings.ToLower(name)
	for _, w := range credentialWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	for _, p := range strings.FieldsFunc(n, func(r rune) bool { return r == '-' || r == '_' }) {
		if slices.Contains(credentialParts, p) {
			return true
		}
	}
	return false
}

// Redact returns h with the values of credential headers (see
// IsCredentialHeader) replaced: h itself when it holds none, else a copy.
// Treat the result as read-only.
func Redact(h http.Header) http.Header {
	var out http.Header
	for k := range h {
		if IsCredentialHeader(k) {
			if out == nil {
				out = h.Clone()
			}
			out[k] = []string{redacted}
		}
	}
	if out == nil {
		return h
	}
	return out
}

// keep bounds and cleans what an attempt records: credential headers of
// the answer redacted, the answer headers cut at MaxKeptHeaderBytes, and
// the dispatcher's secrets replaced wherever they occur.
func (d *Dispatcher) keep(a *Attempt) {
	if a.ResponseHeader != nil {
		var cut bool
		a.ResponseHeader, cut = capHeader(d.redactSecrets(Redact(a.ResponseHeader)), MaxKeptHeaderBytes)
		a.ResponseHeaderTruncated = a.ResponseHeaderTruncated || cut
	}
	a.ResponseBody = d.redactBytes(a.ResponseBody)
	a.RequestBody = d.redactBytes(a.RequestBody)
	a.Err = string(d.redactBytes([]byte(a.Err)))
}

// capHeader keeps at most limit bytes of a header (names, ": " and
// values, names in sorted order); a value that does not fit whole is cut
// and ends in "[cut]". It returns h itself when it fits.
func capHeader(h http.Header, limit int) (http.Header, bool) {
	size := 0
	for k, vs := range h {
		for _, v := range vs {
			size += len(k) + 2 + len(v)
		}
	}
	if size <= limit {
		return h, false
	}
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := http.Header{}
	budget := limit
	for _, k := range keys {
		for _, v := range h[k] {
			cost := len(k) + 2 + len(v)
			if cost <= budget {
				out[k] = append(out[k], v)
				budget -= cost
				continue
			}
			if room := budget - len(k) - 2 - len(" [cut]"); room >= 16 {
				out[k] = append(out[k], v[:room]+" [cut]")
			}
			return out, true
		}
	}
	return out, true
}

// secrets returns the dispatcher's secrets long enough to redact.
func (d *Dispatcher) secrets() []string {
	var out []string
	for _, s := range d.Secrets {
		if len(s) >= 4 {
			out = append(out, s)
		}
	}
	return out
}

// redactSecrets returns h with every secret replaced in its values: h
// itself when none occurs, else a copy.
func (d *Dispatcher) redactSecrets(h http.Header) http.Header {
	secrets := d.secrets()
	if len(secrets) == 0 {
		return h
	}
	var out http.Header
	for k, vs := range h {
		for i, v := range vs {
			clean := v
			for _, s := range secrets {
				clean = strings.ReplaceAll(clean, s, redacted)
			}
			if clean != v {
				if out == nil {
					out = h.Clone()
				}
				out[k][i] = clean
			}
		}
	}
	if out == nil {
		return h
	}
	return out
}

// redactBytes returns b with every secret replaced: b itself when none
// occurs, else a copy.
func (d *Dispatcher) redactBytes(b []byte) []byte {
	for _, s := range d.secrets() {
		if bytes.Contains(b, []byte(s)) {
			b = bytes.ReplaceAll(b, []byte(s), []byte(redacted))
		}
	}
	return b
}

// isHeadersTooLarge reports whether a transport error is the client
// refusing answer headers beyond MaxResponseHeaderBytes (net/http has no
// exported error for it).
func isHeadersTooLarge(err error) bool {
	return err != nil && strings.Contains(err.Error(), "server response headers exceeded")
}

// spaced renders a deadline as people write it: "10 s", "1.5 s", "250 ms".
func spaced(d time.Duration) string {
	if d < time.Second {
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'g', -1, 64) + " ms"
	}
	return strconv.FormatFloat(d.Seconds(), 'g', -1, 64) + " s"
}
