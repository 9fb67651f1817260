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
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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
	// Requeued counts the times the attempt got no connection while
	// kycsim had other requests in flight to the target, and was made
	// again with fewer (Dispatcher.Capacity); Time and Latency are those
	// of the last try.
	Requeued int `json:"requeued,omitempty"`
	// Capacity is set when the attempt still got no connection, with
	// other requests in flight, when its budget ran out: the target's
	// capacity failed, not this callback.
	Capacity bool `json:"capacity,omitempty"`
	// Capture marks: what was cut from what is kept (MaxKeptHeaderBytes,
	// MaxResponseBytes), and how an attempt that failed was answered.
	ResponseHeaderTruncated bool `json:"responseHeaderTruncated,omitempty"`
	ResponseBodyTruncated   bool `json:"responseBodyTruncated,omitempty"`
	// Late is set when the receiver answered, but after the answer
	// deadline (seen within Dispatcher.LateGrace): the attempt failed,
	// and Status is the late answer's.
	Late bool `json:"late,omitempty"`
	// HeadersTooLarge is set when the answer's headers went beyond
	// MaxAnswerHeaderBytes: the attempt failed and nothing of the answer
	// was kept.
	HeadersTooLarge bool `json:"headersTooLarge,omitempty"`
}

// GotAnswer reports whether the receiver answered at all, in time or
// not: a status, a late answer or an answer refused for its size.
func (a Attempt) GotAnswer() bool { return a.Err == "" || a.Late || a.HeadersTooLarge }

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
	// Capacity, when set, keeps the requests in flight to each target
	// within what it can take, and makes again an attempt that got no
	// connection for want of room (see Capacity).
	Capacity *Capacity
	// LateGrace is how long past the answer deadline an attempt keeps
	// listening, to tell a receiver that answers late from one that does
	// not answer (0: not at all). A late answer still fails the attempt.
	LateGrace time.Duration
	// Secrets are values (a webhook secret, a token) that never reach a
	// recorded attempt: every occurrence in headers and bodies is
	// replaced by "[redacted]". Values shorter than 4 bytes are ignored.
	Secrets []string

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
	return &Dispatcher{Clock: clock, Log: d.Log, OnAttempt: d.OnAttempt, CheckDial: d.CheckDial, Capacity: d.Capacity, LateGrace: d.LateGrace, Secrets: d.Secrets, pools: d.pools, deliveries: d.deliveries}
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
		// A vendor reads a bounded answer: headers beyond this fail the
		// attempt, so that no receiver can make kycsim hold megabytes.
		MaxResponseHeaderBytes: MaxAnswerHeaderBytes,
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
	recorded := d.redactSecrets(Redact(req.Header))
	var res Result
	for n := 1; n <= req.Policy.Attempts(); n++ {
		if n > 1 {
			if err := d.Clock.Sleep(ctx, req.Policy.Delays[n-2]); err != nil {
				break
			}
		}
		a := d.attempt(ctx, client, req, u, recorded, id, n)
		d.keep(&a)
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
	if d.Capacity == nil {
		d.try(ctx, client, req, u, &a)
		return a
	}
	requeued, lost, err := d.Capacity.Do(ctx, u.Host, func() error { return d.try(ctx, client, req, u, &a) })
	a.Requeued, a.Capacity = requeued, lost
	switch {
	case err != nil && a.Err == "":
		a.Err = describe(err, req.Policy)
	case lost:
		a.Err += fmt.Sprintf(" (with other requests of kycsim in flight to a target short of room for them, also after kycsim lowered its concurrency; tried %d time(s))", requeued+1)
	}
	return a
}

// try makes one try of an attempt, recording its outcome in a (the
// fields of an earlier try are replaced); it returns the error when the
// try got no connection (ConnectError), nil otherwise.
func (d *Dispatcher) try(ctx context.Context, client *http.Client, req Request, u *url.URL, a *Attempt) error {
	a.Time, a.ClockTime = time.Now(), d.Clock.Now()
	a.Status, a.ResponseHeader, a.ResponseBody, a.Latency, a.Err = 0, nil, nil, 0, ""
	a.ResponseHeaderTruncated, a.ResponseBodyTruncated, a.Late, a.HeadersTooLarge = false, false, false, false
	// The latency counts from before the answer deadline starts, so that
	// an attempt cut off by it never looks faster than the deadline.
	start := time.Now()
	actx, cancel := context.WithTimeout(ctx, req.Policy.AnswerTimeout+d.LateGrace)
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
	resp, err := client.Do(hr)
	if err != nil {
		a.Latency = time.Since(start)
		a.Err = describe(err, req.Policy)
		if isHeadersTooLarge(err) {
			a.HeadersTooLarge = true
			a.Err = fmt.Sprintf("the answer's headers are larger than %d KiB: refused (a vendor reads a bounded answer)", MaxAnswerHeaderBytes>>10)
			return nil
		}
		if d.LateGrace > 0 && strings.HasPrefix(a.Err, "no answer within") {
			a.Err += fmt.Sprintf(" (nor in the %s after it)", d.LateGrace)
		}
		if ConnectError(err) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return nil
	}
	a.Status, a.ResponseHeader = resp.StatusCode, resp.Header
	a.ResponseBody, a.ResponseBodyTruncated, err = readAnswer(resp.Body)
	resp.Body.Close()
	a.Latency = time.Since(start)
	switch {
	case err != nil:
		a.Err = "reading the answer: " + describe(err, req.Policy)
	case a.Latency > req.Policy.AnswerTimeout:
		a.Late = true
		a.Err = fmt.Sprintf("answered after the vendor's %s deadline (%d in %s)", spaced(req.Policy.AnswerTimeout), a.Status, a.Latency.Round(time.Millisecond))
	}
	return nil
}

// answerBuffers hold answer bodies while they are read.
var answerBuffers = sync.Pool{New: func() any { return new([MaxResponseBytes]byte) }}

// readAnswer keeps the first MaxResponseBytes of an answer body and reads
// (and drops) up to drainBytes more, so that the connection can be reused;
// cut says whether there was more than it kept.
func readAnswer(r io.Reader) (kept []byte, cut bool, err error) {
	buf := answerBuffers.Get().(*[MaxResponseBytes]byte)
	defer answerBuffers.Put(buf)
	n, err := io.ReadFull(r, buf[:])
	if n > 0 {
		kept = append([]byte(nil), buf[:n]...)
	}
	switch err {
	case io.EOF, io.ErrUnexpectedEOF:
		return kept, false, nil
	case nil:
		var more int64
		more, err = io.CopyN(io.Discard, r, drainBytes)
		cut = more > 0
		if err == io.EOF {
			err = nil
		}
	}
	return kept, cut, err
}

// describe words a transport error, naming the deadline that expired.
func describe(err error, p RetryPolicy) string {
	var ne net.Error
	var oe *net.OpError
	switch {
	case errors.As(err, &oe) && oe.Op == "dial" && oe.Timeout():
		return fmt.Sprintf("no connection within the %s connect deadline", p.ConnectTimeout)
	case errors.As(err, &oe) && oe.Op == "dial" && errors.Is(err, syscall.ECONNREFUSED) && oe.Addr != nil:
		return fmt.Sprintf("connection refused: nothing listens at %s", oe.Addr)
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return fmt.Sprintf("no answer within the %s answer deadline", p.AnswerTimeout)
	case errors.Is(err, context.Canceled):
		return "cancelled"
	}
	return err.Error()
}
