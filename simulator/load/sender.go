package load

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"net/textproto"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kycsim/kycsim/simulator/delivery"
	"github.com/kycsim/kycsim/simulator/signing"
)

// UserAgent is the User-Agent of the callbacks (as kycsim send's; a
// Target.Header may replace it).
const UserAgent = "kycsim"

// StaleAge is how much older than the event it follows a stale event is
// dated.
const StaleAge = 10 * time.Minute

// drainLimit is how much of an answer body is read (and dropped) so that
// the connection can be reused; a longer answer closes it.
const drainLimit = 64 << 10

// Target is where callbacks go and how.
type Target struct {
	// URL is the receiver's URL. Its host must be an address of
	// 127.0.0.0/8: kycsim load sends only to the local machine.
	URL string
	// Secret signs Sumsub callbacks ("" sends them unsigned); Algorithm
	// is the digest algorithm (SHA256 when empty).
	Secret    string
	Algorithm signing.Algorithm
	// Header holds extra headers; they replace the computed ones of the
	// same name.
	Header http.Header
	// From binds the source address (a loopback address).
	From netip.Addr
	// ConnectTimeout bounds connecting; AnswerTimeout the whole exchange
	// of one request (the vendor's answer deadline).
	ConnectTimeout, AnswerTimeout time.Duration
	// Connections is how many connections the pool keeps open (16 when
	// 0).
	Connections int
}

// CheckLoopback parses a target URL and checks that its host is an IPv4
// address of 127.0.0.0/8.
func CheckLoopback(rawURL string) (*url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("target URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("target URL %q: the scheme must be http or https", rawURL)
	}
	if u.User != nil {
		return nil, fmt.Errorf("target URL %q: no user info, please", rawURL)
	}
	host := u.Hostname()
	a, err := netip.ParseAddr(host)
	if err != nil || !a.Is4() || !netip.MustParsePrefix("127.0.0.0/8").Contains(a) {
		return nil, fmt.Errorf("target URL %q: kycsim load sends only to the local machine: the host must be an address of 127.0.0.0/8, such as 127.0.0.1 (not %q)", rawURL, host)
	}
	return u, nil
}

// Client sends callbacks to one target over a pool of keep-alive
// connections. Each goroutine sends through a Sender of its own.
type Client struct {
	target  Target
	u       *url.URL
	tr      *http.Transport
	newHash func() hash.Hash
	algName []string
	book    *probeBook
	// last is the most recent fresh event answered, which duplicates
	// copy and stale events follow, whichever sender sent it; it is kept
	// when keepLast is set.
	keepLast bool
	last     struct {
		sync.Mutex
		f  Fill
		ok bool
	}
}

// lastFresh returns the most recent fresh event answered.
func (c *Client) lastFresh() (Fill, bool) {
	c.last.Lock()
	defer c.last.Unlock()
	return c.last.f, c.last.ok
}

// answered records a fresh event answered.
func (c *Client) answered(f *Fill) {
	c.last.Lock()
	c.last.f, c.last.ok = *f, true
	c.last.Unlock()
}

type headerField struct {
	key    string
	values []string // shared by every request: read only
}

// NewClient checks the target and opens its connection pool.
func NewClient(t Target) (*Client, error) {
	u, err := CheckLoopback(t.URL)
	if err != nil {
		return nil, err
	}
	if t.ConnectTimeout <= 0 || t.AnswerTimeout <= 0 {
		return nil, errors.New("target: the connect and answer timeouts must be > 0")
	}
	if t.Connections <= 0 {
		t.Connections = 16
	}
	if t.From.IsValid() && (!t.From.Is4() || !t.From.IsLoopback()) {
		return nil, fmt.Errorf("source address %s: the target is an IPv4 loopback address, so the source must be one of 127.0.0.0/8", t.From)
	}
	c := &Client{target: t, u: u}
	if t.Secret != "" {
		alg := t.Algorithm
		if alg == "" {
			alg = signing.SHA256
		}
		switch alg {
		case signing.SHA1:
			c.newHash = sha1.New
		case signing.SHA256:
			c.newHash = sha256.New
		case signing.SHA512:
			c.newHash = sha512.New
		default:
			return nil, fmt.Errorf("unknown digest algorithm %q", alg)
		}
		c.algName = []string{string(alg)}
	}
	dialer := &net.Dialer{Timeout: t.ConnectTimeout, KeepAlive: 30 * time.Second}
	if t.From.IsValid() {
		dialer.LocalAddr = &net.TCPAddr{IP: t.From.AsSlice()}
	}
	c.tr = &http.Transport{
		Proxy:               nil, // a vendor does not go through the tester's proxy
		DialContext:         dialer.DialContext,
		TLSHandshakeTimeout: t.ConnectTimeout,
		MaxIdleConns:        t.Connections,
		MaxIdleConnsPerHost: t.Connections,
		IdleConnTimeout:     90 * time.Second,
		// Webhook senders do not ask for compressed answers.
		DisableCompression: true,
		// Answers are bounded as the dispatcher bounds them.
		MaxResponseHeaderBytes: delivery.MaxAnswerHeaderBytes,
	}
	return c, nil
}

// Close closes the idle connections.
func (c *Client) Close() { c.tr.CloseIdleConnections() }

// signs reports whether the callbacks of a template are signed: Sumsub's,
// when there is a secret. Jumio's never are, as the vendor's are not.
func (c *Client) signs(t *Template) bool { return c.newHash != nil && t.Product == "sumsub" }

// headers prepares the fixed headers of a template's callbacks.
func (c *Client) headers(t *Template) []headerField {
	fields := []headerField{
		{"Content-Type", []string{t.ContentType}},
		{"User-Agent", []string{UserAgent}},
	}
	if c.signs(t) {
		fields = append(fields, headerField{signing.AlgorithmHeader, c.algName})
	}
	for k, vs := range c.target.Header {
		k = textproto.CanonicalMIMEHeaderKey(k)
		vs = append([]string(nil), vs...)
		replaced := false
		for i := range fields {
			if fields[i].key == k {
				fields[i].values, replaced = vs, true
			}
		}
		if !replaced {
			fields = append(fields, headerField{k, vs})
		}
	}
	return fields
}

// Sender sends one callback at a time. Its keyed hash, random source and
// buffers are its own and reused: a Sender is for one goroutine.
type Sender struct {
	c            *Client
	tmpl, stale  *Template
	header       []headerField // the template's fixed headers
	staleHeader  []headerField
	signed       bool
	mac          hash.Hash
	rng          *mrand.Rand
	sum          [sha512.Size]byte
	digest       [2 * sha512.Size]byte
	drain        [4096]byte
	answer       [maxSample]byte
	overridesSig bool // a Target.Header sets the digest itself
}

// NewSender returns a sender of tmpl's callbacks; stale, when not nil, is
// the template of the older events it sends out of order.
func (c *Client) NewSender(tmpl, stale *Template) *Sender {
	var seed [16]byte
	rand.Read(seed[:])
	s := &Sender{
		c: c, tmpl: tmpl, stale: stale,
		header: c.headers(tmpl),
		rng:    mrand.New(mrand.NewPCG(binary.LittleEndian.Uint64(seed[:8]), binary.LittleEndian.Uint64(seed[8:]))),
	}
	if stale != nil {
		s.staleHeader = c.headers(stale)
	}
	_, s.overridesSig = c.target.Header[signing.DigestHeader]
	if c.signs(tmpl) {
		s.signed = true
		s.mac = hmac.New(c.newHash, []byte(c.target.Secret))
	}
	return s
}

// Send sends one fresh callback now and waits for its answer. It returns
// an error unless the answer was a 2xx.
func (s *Sender) Send(ctx context.Context) error {
	var o Outcome
	s.do(ctx, Fresh, time.Now(), &o)
	switch {
	case o.Err != nil:
		return o.Err
	case o.Status < 200 || o.Status > 299:
		return fmt.Errorf("answered %d", o.Status)
	}
	return nil
}

// do sends one callback of the kind (a fresh one when there is no
// earlier event to repeat) and fills o. ctx bounds it besides the answer
// deadline.
func (s *Sender) do(ctx context.Context, kind Kind, planned time.Time, o *Outcome) {
	now := time.Now()
	tmpl, header := s.tmpl, s.header
	var f Fill
	var ok bool
	if kind != Fresh {
		f, ok = s.c.lastFresh()
	}
	switch {
	case kind == Duplicate && ok:
	case kind == Stale && ok && s.stale != nil:
		f.Time = f.Time.Add(-StaleAge)
		s.uuid(f.Correlation[:])
		s.objectID(f.ObjectID[:], f.Time.Add(-5*time.Minute))
		tmpl, header = s.stale, s.staleHeader
	default:
		kind = Fresh
		s.fresh(&f, now)
	}
	*o = Outcome{Kind: kind, Planned: planned, Sent: now}

	p := getPayload()
	p.buf = tmpl.Append(p.buf[:0], f)
	h := make(http.Header, len(header)+1)
	for _, fl := range header {
		h[fl.key] = fl.values
	}
	if s.signed && !s.overridesSig {
		s.mac.Reset()
		s.mac.Write(p.buf)
		sum := s.mac.Sum(s.sum[:0])
		n := hex.Encode(s.digest[:], sum)
		h[signing.DigestHeader] = []string{string(s.digest[:n])}
	}
	p.reader.Reset(p.buf)
	rctx, cancel := context.WithTimeout(ctx, s.c.target.AnswerTimeout)
	req := (&http.Request{
		Method: http.MethodPost, URL: s.c.u, Host: s.c.u.Host, Header: h,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Body: p.body, GetBody: p.getBody, ContentLength: int64(len(p.buf)),
	}).WithContext(httptrace.WithClientTrace(rctx, &p.trace))
	resp, err := s.c.tr.RoundTrip(req)
	if err != nil {
		o.Err = err
	} else {
		o.Status = resp.StatusCode
		keep := o.Status < 200 || o.Status > 299
		kept, read := 0, 0
		for read < drainLimit {
			n, rerr := resp.Body.Read(s.drain[:])
			if keep && kept < len(s.answer) {
				kept += copy(s.answer[kept:], s.drain[:n])
			}
			read += n
			if rerr != nil {
				if rerr != io.EOF {
					o.Err, o.Status = fmt.Errorf("reading the answer: %w", rerr), 0
				}
				break
			}
		}
		resp.Body.Close()
		if keep {
			o.Answer = s.answer[:kept]
		}
	}
	o.Done = time.Now()
	cancel()
	p.release()
	if kind == Fresh && o.Err == nil && s.c.keepLast {
		s.c.answered(&f)
	}
	if b := s.c.book; b != nil && o.Err == nil && o.Status >= 200 && o.Status <= 299 {
		switch kind {
		case Fresh:
			b.fresh(f.Subject[:f.SubjectLen])
		case Stale:
			b.stale(f.Subject[:f.SubjectLen])
		}
	}
}

// fresh fills f with new ids at now.
func (s *Sender) fresh(f *Fill, now time.Time) {
	if s.tmpl.subject == shapeObjectID {
		// Created a while ago: the applicant exists before its events.
		s.objectID(f.Subject[:24], now.Add(-time.Hour))
		f.SubjectLen = 24
	} else {
		s.uuid(f.Subject[:])
		f.SubjectLen = 36
	}
	s.uuid(f.Correlation[:])
	s.objectID(f.ObjectID[:], now.Add(-5*time.Minute))
	f.Time = now
}

const hexDigits = "0123456789abcdef"

// uuid writes a random version 4 UUID to dst (36 bytes).
func (s *Sender) uuid(dst []byte) {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], s.rng.Uint64())
	binary.LittleEndian.PutUint64(b[8:], s.rng.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	j := 0
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst[j] = '-'
			j++
		}
		dst[j], dst[j+1] = hexDigits[c>>4], hexDigits[c&0xf]
		j += 2
	}
}

// objectID writes a MongoDB-style object id made at t to dst (24 bytes):
// 4 bytes of time, then 8 random bytes.
func (s *Sender) objectID(dst []byte, t time.Time) {
	secs := uint32(t.Unix())
	for i := 0; i < 4; i++ {
		c := byte(secs >> (8 * (3 - i)))
		dst[2*i], dst[2*i+1] = hexDigits[c>>4], hexDigits[c&0xf]
	}
	v := s.rng.Uint64()
	for i := 8; i < 24; i++ {
		dst[i] = hexDigits[v&0xf]
		v >>= 4
	}
}

// payload is a pooled body buffer. Two parties hold it: the sender,
// until the exchange is over, and the transport's writer, until it has
// written the request (httptrace's WroteRequest says so). The buffer
// goes back to the pool when both are done with it. The body is a
// *bytes.Reader (behind io.NopCloser), which the transport sends in one
// write with the headers; another reader type would make it flush the
// headers on their own first, a packet and a wake-up more per request.
type payload struct {
	buf     []byte
	refs    atomic.Int32
	wrote   atomic.Bool // the first write is over
	reader  bytes.Reader
	body    io.ReadCloser // io.NopCloser(&reader)
	trace   httptrace.ClientTrace
	getBody func() (io.ReadCloser, error)
}

var payloads sync.Pool

func newPayload() *payload {
	p := &payload{buf: make([]byte, 0, 2048)}
	p.body = io.NopCloser(&p.reader)
	// Only the first write reads the pooled buffer: a retry on another
	// connection (after nothing was written on a stale one) sends a copy.
	p.trace.WroteRequest = func(httptrace.WroteRequestInfo) {
		if p.wrote.CompareAndSwap(false, true) {
			p.release()
		}
	}
	p.getBody = func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(bytes.Clone(p.buf))), nil
	}
	return p
}

// getPayload returns a payload that the caller and the first write of
// the request hold.
func getPayload() *payload {
	p, _ := payloads.Get().(*payload)
	if p == nil {
		p = newPayload()
	}
	p.refs.Store(2)
	p.wrote.Store(false)
	return p
}

// release drops a reference; the last one returns the buffer to the pool.
// A request never written keeps its payload out of the pool, for the
// garbage collector.
func (p *payload) release() {
	if p.refs.Add(-1) == 0 {
		payloads.Put(p)
	}
}
