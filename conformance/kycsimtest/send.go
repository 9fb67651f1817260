package kycsimtest

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/kycsim/kycsim/simulator"
	"github.com/kycsim/kycsim/simulator/delivery"
	"github.com/kycsim/kycsim/simulator/event"
	"github.com/kycsim/kycsim/simulator/signing"
	"github.com/kycsim/kycsim/spec"
)

// TB is what Send needs of a test: *testing.T and *testing.B are TBs.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
}

// Answer is the receiver's answer to one callback, with the request that
// got it.
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
	// Subject is the callback's subject id (applicantId,
	// workflowExecution.id, ...); RequestBody the bytes sent.
	Subject     string
	RequestBody []byte
}

// SendOption shapes the callback Send sends.
type SendOption func(*sendConfig)

type sendConfig struct {
	secret  string
	alg     signing.Algorithm
	subject string
	set     []setValue
	unset   []string
}

type setValue struct {
	path  string
	value any
}

// WithSecret signs a Sumsub webhook with the webhook secret (unsigned
// without it).
func WithSecret(secret string) SendOption { return func(c *sendConfig) { c.secret = secret } }

// WithAlgorithm picks the Sumsub digest algorithm: HMAC_SHA1_HEX,
// HMAC_SHA256_HEX (the default) or HMAC_SHA512_HEX.
func WithAlgorithm(alg string) SendOption {
	return func(c *sendConfig) { c.alg = signing.Algorithm(alg) }
}

// WithSubject sets the subject id instead of a generated one.
func WithSubject(id string) SendOption { return func(c *sendConfig) { c.subject = id } }

// WithSet sets a field (a dotted path or a JSON pointer) to a JSON value:
// nil, bool, a number, a string, or a map or slice of those.
func WithSet(path string, value any) SendOption {
	return func(c *sendConfig) { c.set = append(c.set, setValue{path, value}) }
}

// WithUnset removes a field.
func WithUnset(path string) SendOption {
	return func(c *sendConfig) { c.unset = append(c.unset, path) }
}

// Send delivers one vendor-faithful callback of a product's message
// (sumsub applicantReviewed, jumio-kyx PROCESSED, ...) to url, once and
// with the vendor's answer deadline, and returns the answer. A callback
// that cannot be built or sent fails the test.
func Send(t TB, url, product, message string, opts ...SendOption) Answer {
	t.Helper()
	cfg := sendConfig{}
	for _, o := range opts {
		o(&cfg)
	}
	cat, err := spec.Default()
	if err != nil {
		t.Fatalf("kycsimtest: %v", err)
	}
	p, err := cat.Product(product)
	if err != nil {
		t.Fatalf("kycsimtest: %v", err)
	}
	ev, err := event.Build(cat, product, message, event.Options{Subject: cfg.subject})
	if err != nil {
		t.Fatalf("kycsimtest: %v", err)
	}
	for _, path := range cfg.unset {
		if err := ev.Unset(path); err != nil {
			t.Fatalf("kycsimtest: %v", err)
		}
	}
	for _, s := range cfg.set {
		if err := set(ev, s.path, s.value); err != nil {
			t.Fatalf("kycsimtest: set %s: %v", s.path, err)
		}
	}
	cb := simulator.Callback{Product: p.Name, Message: message, Subject: ev.Subject, ContentType: p.ContentType,
		Body: ev.Body(), Sign: simulator.Signing{Secret: cfg.secret, Algorithm: cfg.alg}}
	req, err := cb.Request(url, delivery.PolicyFor(p.Name, message).NoRetry())
	if err != nil {
		t.Fatalf("kycsimtest: %v", err)
	}
	d := delivery.NewDispatcher(delivery.NewScaledClock(1), nil)
	defer d.Close()
	res, err := d.Deliver(context.Background(), req)
	if err != nil {
		t.Fatalf("kycsimtest: %v", err)
	}
	a := res.Attempts[len(res.Attempts)-1]
	if a.Err != "" {
		t.Fatalf("kycsimtest: %s %s to %s: %s", product, message, url, a.Err)
	}
	return Answer{Status: a.Status, Header: a.ResponseHeader, Body: a.ResponseBody, Subject: ev.Subject, RequestBody: cb.Body}
}

// set stores a Go value in an event: strings, booleans and nil as they
// are, anything else as its JSON encoding.
func set(ev *event.Event, path string, v any) error {
	switch v.(type) {
	case nil, bool, string:
		return ev.SetValue(path, v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return ev.Set(path, string(b))
}
