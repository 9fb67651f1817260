// Package delivery sends callbacks the way the vendors do: one POST per
// attempt with the vendor's connect and answer deadlines, retried on a
// (scalable) clock until a 2xx answer or the end of the RetryPolicy, with
// every attempt recorded in a Log.
package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// MaxResponseBytes is how much of each answer body an Attempt keeps.
const MaxResponseBytes = 4 << 10

// drainBytes is how much of an answer body beyond MaxResponseBytes is read
// (and dropped) so that the connection can be reused.
const drainBytes = 64 << 10

// Request is one callback to deliver.
type Request struct {
	Product, Message, Subject string
	URL                       string
	Method                    string // POST when empty
	Header                    http.Header
	Body                      []byte
	Policy                    RetryPolicy
	// From binds the source address of the connection (any loopback
	// address on a test machine); the zero Addr lets the system choose.
	From netip.Addr
}

// Attempt is one try at delivering a callback.
type Attempt struct {
	Delivery int64  `json:"delivery"` // the delivery it belongs to, numbered from 1 per Dispatcher
	Number   int    `json:"attempt"`  // 1 for the first try
	Product  string `json:"product,omitempty"`
	Message  string `json:"message,omitempty"`
	Subject  string `json:"subject,omitempty"`
	// Time is the real time when the request was sent; ClockTime is the
	// dispatcher's clock's time then (what the callback is dated by,
	// which a scaled clock moves on by the waits it skipped).
	Time           time.Time     `json:"time"`
	ClockTime      time.Time     `json:"clockTime"`
	Method         string        `json:"method"`
	URL            string        `json:"url"`
	From           string        `json:"from,omitempty"`
	RequestHeader  http.Header   `json:"requestHeader"`
	RequestBody    []byte        `json:"requestBody"`
	Status         int           `json:"status,omitempty"`
	ResponseHeader http.Header   `json:"responseHeader,omitempty"`
	ResponseBody   []byte        `json:"responseBody,omitempty"` // the first MaxResponseBytes
	Latency        time.Duration `json:"latencyNs"`
	Err            string        `json:"error,omitempty"`
}

// Acknowledged reports whether the receiver answered with a 2xx.
func (a Attempt) Acknowledged() bool { return a.Err == "" && a.Status >= 200 && a.Status < 300 }

// Result is the outcome of a delivery.
type Result struct {
	Attempts []Attempt
}

// Acknowledged reports whether the last attempt was answered with a 2xx.
func (r Result) Acknowledged() bool {
	return len(r.Attempts) > 0 && r.Attempts[len(r.Attempts)-1].Acknowledged()
}

// Dispatcher delivers callbacks. It keeps connections open between
// deliveries (one pool per source address and connect timeout); call
// Close when done.
type Dispatcher struct {
	// Clock is what waits between attempts run on.
	Clock Clock
	// Log, when set, records every attempt.
	Log *Log
	// OnAttempt, when set, is called after every attempt.
	OnAttempt func(Attempt)
	// CheckDial, when set, guards every connection: it is given the
	// target's host as the URL names it and each address that host
	// resolves to, and the connection is made to the first address it
	// allows (so that a name cannot resolve to another address between
	// the check and the connection); when it allows none, the attempt
	// fails with its error. Set it before the first delivery.
	CheckDial func(host string, addr netip.AddrPort) error

	pools      *pools
	deliveries *atomic.Int64
}

// pools are a Dispatcher's connection pools, shared with the dispatchers
// WithClock makes.
type pools struct {
	mu         sync.Mutex
	transports map[transportKey]*http.Transport
	clients    map[transportKey]*http.Client
}

type transportKey struct {
	from    netip.Addr
	connect time.Duration
}

// NewDispatcher returns a Dispatcher on the clock, recording into log
// (which may be nil).
func NewDispatcher(clock Clock, log *Log) *Dispatcher {
	return &Dispatcher{Clock: clock, Log: log, deliveries: new(atomic.Int64),
		pools: &pools{transports: map[transportKey]*http.Transport{}, clients: map[transportKey]*http.Client{}}}
}

// WithClock returns a Dispatcher on another clock that shares d's
// connection pools, log and delivery ids: scenarios that run at the same
// time each get their own clock this way, so that one's waits do not age
// another's events.
func (d *Dispatcher) WithClock(clock Clock) *Dispatcher {
	return &Dispatcher{Clock: clock, Log: d.Log, OnAttempt: d.OnAttempt, CheckDial: d.CheckDial, pools: d.pools, deliveries: d.deliveries}
}

// Close closes the idle connections.
func (d *Dispatcher) Close() {
	d.pools.mu.Lock()
	defer d.pools.mu.Unlock()
	for _, t := range d.pools.transports {
		t.CloseIdleConnections()
	}
}

// client returns the client for a source address and connect timeout.
func (d *Dispatcher) client(from netip.Addr, connect time.Duration) *http.Client {
	d.pools.mu.Lock()
	defer d.pools.mu.Unlock()
	k := transportKey{from, connect}
	if c, ok := d.pools.clients[k]; ok {
		return c
	}
	c := &http.Client{
		Transport: d.transport(k),
		// A vendor posts to the URL it was given and does not follow
		// redirects; the 3xx is the answer.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	d.pools.clients[k] = c
	return c
}

// transport makes the connection pool of a source address and connect
// timeout; d.pools.mu is held.
func (d *Dispatcher) transport(k transportKey) *http.Transport {
	from, connect := k.from, k.connect
	dialer := &net.Dialer{Timeout: connect}
	if from.IsValid() {
		dialer.LocalAddr = &net.TCPAddr{IP: from.AsSlice()}
	}
	t := &http.Transport{
		Proxy:                 nil, // a vendor does not go through the tester's proxy
		DialContext:           d.guardedDial(dialer),
		TLSHandshakeTimeout:   connect,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: 0, // the per-attempt context bounds the answer
	}
	d.pools.transports[k] = t
	return t
}

// guardedDial returns the dial function of a transport: the dialer's own,
// or, with CheckDial set, one that resolves the host itself and connects
// only to an address CheckDial allows.
func (d *Dispatcher) guardedDial(dialer *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	check := d.CheckDial
	if check == nil {
		return dialer.DialContext
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, portStr, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		port, err := strconv.ParseUint(portStr, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("port %q: %w", portStr, err)
		}
		var ips []netip.Addr
		if ip, err := netip.ParseAddr(host); err == nil {
			ips = []netip.Addr{ip}
		} else if ips, err = net.DefaultResolver.LookupNetIP(ctx, "ip", host); err != nil {
			return nil, err
		}
		var refused error
		for _, ip := range ips {
			ap := netip.AddrPortFrom(ip.Unmap(), uint16(port))
			if err := check(host, ap); err != nil {
				refused = err
				continue
			}
			return dialer.DialContext(ctx, network, ap.String())
		}
		if refused == nil {
			refused = fmt.Errorf("%s resolves to no address", host)
		}
		return nil, refused
	}
}

// Deliver sends the request and retries it as its policy says until it is
// acknowledged, the policy is exhausted or ctx is done. The error is for
// a request that cannot be sent at all (a bad URL); what happened to each
// attempt is in the result.
func (d *Dispatcher) Deliver(ctx context.Context, req Request) (Result, error) {
	u, err := url.Parse(req.URL)
	if err != nil {
		return Result{}, fmt.Errorf("target URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return Result{}, fmt.Errorf("target URL %q: scheme must be http or https", req.URL)
	}
	if u.Host == "" {
		return Result{}, fmt.Errorf("target URL %q: no host", req.URL)
	}
	if req.Method == "" {
		req.Method = http.MethodPost
	}
	if req.Policy.ConnectTimeout <= 0 || req.Policy.AnswerTimeout <= 0 {
		return Result{}, errors.New("retry policy: connect and answer timeouts must be > 0")
	}
	if len(req.Policy.Delays) > MaxRetries {
		return Result{}, fmt.Errorf("retry policy: %d retries; at most %d", len(req.Policy.Delays), MaxRetries)
	}
	id := d.deliveries.Add(1)
	client := d.client(req.From, req.Policy.ConnectTimeout)
	// The headers are sent as given (Deliver never writes to them; the
	// caller must not either until it returns), with a User-Agent added
	// to a copy when there is none. The copy recorded has credentials
	// redacted.
	if req.Header.Get("User-Agent") == "" {
		h := req.Header.Clone()
		if h == nil {
			h = http.Header{}
		}
		h.Set("User-Agent", "kycsim")
		req.Header = h
	}
	recorded := Redact(req.Header)
	var res Result
	for n := 1; n <= req.Policy.Attempts(); n++ {
		if n > 1 {
			if err := d.Clock.Sleep(ctx, req.Policy.Delays[n-2]); err != nil {
				break
			}
		}
		a := d.attempt(ctx, client, req, u, recorded, id, n)
		res.Attempts = append(res.Attempts, a)
		if d.Log != nil {
			d.Log.Add(a)
		}
		if d.OnAttempt != nil {
			d.OnAttempt(a)
		}
		if a.Acknowledged() || ctx.Err() != nil {
			break
		}
	}
	return res, nil
}

func (d *Dispatcher) attempt(ctx context.Context, client *http.Client, req Request, u *url.URL, recorded http.Header, id int64, n int) Attempt {
	a := Attempt{
		Delivery: id, Number: n, Product: req.Product, Message: req.Message, Subject: req.Subject,
		Time: time.Now(), ClockTime: d.Clock.Now(), Method: req.Method, URL: req.URL,
		RequestHeader: recorded, RequestBody: req.Body,
	}
	if req.From.IsValid() {
		a.From = req.From.String()
	}
	actx, cancel := context.WithTimeout(ctx, req.Policy.AnswerTimeout)
	defer cancel()
	// The request is made from the URL parsed once per delivery, as
	// http.NewRequest would make it. The transport only reads the URL and
	// the headers; every attempt shares them.
	body := req.Body
	hr := (&http.Request{
		Method: req.Method, URL: u, Host: u.Host, Header: req.Header,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Body:          io.NopCloser(bytes.NewReader(body)),
		GetBody:       func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil },
		ContentLength: int64(len(body)),
	}).WithContext(actx)
	if len(body) == 0 {
		hr.Body, hr.GetBody = http.NoBody, func() (io.ReadCloser, error) { return http.NoBody, nil }
	}
	start := time.Now()
	resp, err := client.Do(hr)
	if err != nil {
		a.Latency = time.Since(start)
		a.Err = describe(err, req.Policy)
		return a
	}
	a.Status, a.ResponseHeader = resp.StatusCode, resp.Header
	a.ResponseBody, err = readAnswer(resp.Body)
	resp.Body.Close()
	a.Latency = time.Since(start)
	if err != nil {
		a.Err = "reading the answer: " + describe(err, req.Policy)
	}
	return a
}

// answerBuffers hold answer bodies while they are read.
var answerBuffers = sync.Pool{New: func() any { return new([MaxResponseBytes]byte) }}

// readAnswer keeps the first MaxResponseBytes of an answer body and reads
// (and drops) up to drainBytes more, so that the connection can be reused.
func readAnswer(r io.Reader) ([]byte, error) {
	buf := answerBuffers.Get().(*[MaxResponseBytes]byte)
	defer answerBuffers.Put(buf)
	n, err := io.ReadFull(r, buf[:])
	var kept []byte
	if n > 0 {
		kept = append([]byte(nil), buf[:n]...)
	}
	switch err {
	case io.EOF, io.ErrUnexpectedEOF:
		return kept, nil
	case nil:
		_, err = io.CopyN(io.Discard, r, drainBytes)
		if err == io.EOF {
			err = nil
		}
	}
	return kept, err
}

// describe words a transport error, naming the deadline that expired.
func describe(err error, p RetryPolicy) string {
	var ne net.Error
	var oe *net.OpError
	switch {
	case errors.As(err, &oe) && oe.Op == "dial" && oe.Timeout():
		return fmt.Sprintf("no connection within the %s connect deadline", p.ConnectTimeout)
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return fmt.Sprintf("no answer within the %s answer deadline", p.AnswerTimeout)
	case errors.Is(err, context.Canceled):
		return "cancelled"
	}
	return err.Error()
}

// sensitiveHeaders are the request headers whose values never reach a log.
var sensitiveHeaders = []string{"Authorization", "Proxy-Authorization", "Cookie", "X-App-Token", "X-App-Access-Sig"}

// Redact returns h with the values of credential headers replaced: h
// itself when it holds none, else a copy. Treat the result as read-only.
func Redact(h http.Header) http.Header {
	var out http.Header
	for _, k := range sensitiveHeaders {
		if _, ok := h[k]; ok {
			if out == nil {
				out = h.Clone()
			}
			out[k] = []string{"[redacted]"}
		}
	}
	if out == nil {
		return h
	}
	return out
}
