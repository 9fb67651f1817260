// Package simulator turns built vendor events into the HTTP requests the
// vendor would send: the body as bytes, the content type, the Sumsub
// signature headers, custom headers and the source address, delivered
// with the vendor's retry policy. Its subpackages do one job each: event
// builds payloads, signing computes digests, delivery sends and retries.
package simulator

import (
	"fmt"
	"net/http"
	"net/netip"
	"net/textproto"
	"strings"

	"github.com/kycsim/kycsim/simulator/delivery"
	"github.com/kycsim/kycsim/simulator/signing"
)

// UserAgent is the User-Agent of kycsim's callbacks (a --header may
// replace it).
const UserAgent = "kycsim"

// Signing says how a Sumsub callback is signed. Jumio callbacks carry no
// signature, as the vendor's do not.
type Signing struct {
	// Secret is the webhook secret; empty sends the callback unsigned.
	Secret string
	// Algorithm is the digest algorithm (SHA256 when empty).
	Algorithm signing.Algorithm
}

// Callback is one callback ready to be delivered.
type Callback struct {
	Product, Message, Subject string
	ContentType               string
	Body                      []byte
	// Sign is applied to Sumsub callbacks.
	Sign Signing
	// Header holds extra headers (the vendor lets customers configure
	// some); they override the computed ones.
	Header http.Header
	// From binds the source address; ForwardedFor adds X-Forwarded-For.
	From         netip.Addr
	ForwardedFor string
}

// Request returns the delivery request of the callback, signed, for the
// URL and policy.
func (c Callback) Request(url string, policy delivery.RetryPolicy) (delivery.Request, error) {
	h := make(http.Header, 4+len(c.Header))
	h["Content-Type"] = []string{c.ContentType}
	h["User-Agent"] = []string{UserAgent}
	if c.Product == "sumsub" && c.Sign.Secret != "" {
		alg := c.Sign.Algorithm
		if alg == "" {
			alg = signing.SHA256
		}
		digest, err := signing.Sign(alg, c.Sign.Secret, c.Body)
		if err != nil {
			return delivery.Request{}, err
		}
		h[signing.DigestHeader] = []string{digest}
		h[signing.AlgorithmHeader] = []string{string(alg)}
	}
	if c.ForwardedFor != "" {
		h.Set("X-Forwarded-For", c.ForwardedFor)
	}
	for k, vs := range c.Header {
		h[textproto.CanonicalMIMEHeaderKey(k)] = append([]string(nil), vs...)
	}
	return delivery.Request{
		Product: c.Product, Message: c.Message, Subject: c.Subject,
		URL: url, Method: http.MethodPost, Header: h, Body: c.Body, Policy: policy, From: c.From,
	}, nil
}

// ParseHeader reads a "Name: value" header argument.
func ParseHeader(s string) (string, string, error) {
	k, v, ok := strings.Cut(s, ":")
	k = strings.TrimSpace(k)
	if !ok || k == "" {
		return "", "", fmt.Errorf("header %q: want Name: value", s)
	}
	for _, r := range k {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune("()<>@,;:\\\"/[]?={}", r) {
			return "", "", fmt.Errorf("header %q: %q is not a valid header name", s, k)
		}
	}
	v = strings.TrimSpace(v)
	if strings.ContainsAny(v, "\r\n") {
		return "", "", fmt.Errorf("header %q: the value holds a line break", s)
	}
	return k, v, nil
}

// ParseSource checks a source address for --from: a loopback address, so
// that tests bind only on the local machine.
func ParseSource(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("source address %q: %w", s, err)
	}
	if !a.IsLoopback() {
		return netip.Addr{}, fmt.Errorf("source address %s is not a loopback address (127.0.0.0/8 or ::1)", a)
	}
	return a, nil
}
