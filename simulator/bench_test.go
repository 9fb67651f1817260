package simulator

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/kycsim/kycsim/simulator/delivery"
	"github.com/kycsim/kycsim/simulator/event"
	"github.com/kycsim/kycsim/simulator/load"
	"github.com/kycsim/kycsim/simulator/signing"
	"github.com/kycsim/kycsim/spec"
)

// trivialReceiver reads the body and answers 200.
func trivialReceiver(b *testing.B) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// benchSide is one way of delivering a callback, one request at a time.
type benchSide struct {
	name string
	send func() error
	took time.Duration
	n    int
}

// blockSize is how many requests a side sends before the next side's
// turn.
const blockSize = 32

// BenchmarkDelivery compares, one request at a time against the same
// trivial loopback receiver:
//
//   - net-http: a bare net/http loop posting one fixed body;
//   - net-http+headers: the same loop with a Sumsub webhook's headers
//     (a fixed signature): what the receiver's parsing of them costs;
//   - load: kycsim load's sender, a unique signed Sumsub webhook each
//     time (template filled, HMAC with a reused key, pooled buffers);
//   - dispatcher: the Dispatcher delivering the fixed body;
//   - build: event.Build, encoding, signing and the Dispatcher, as
//     kycsim send does it.
//
// The sides take turns in blocks of 32 requests, each side first in turn,
// so that the machine's drift (other work, thermal state) falls on all of
// them alike. Each side's cost is reported as ns/req (its mean), and
// load/net-http is the median over the rounds of the ratio of the two
// sides' times (ns/op is a whole round of the sides).
// Take the median of several runs:
//
//	go test -run XXX -bench Delivery -count 6 ./simulator/
func BenchmarkDelivery(b *testing.B) {
	cat, err := spec.Default()
	if err != nil {
		b.Fatal(err)
	}
	if err := cat.CompileAll(); err != nil {
		b.Fatal(err)
	}
	seed, err := event.Build(cat, "sumsub", "applicantReviewed", event.Options{Rand: rand.New(rand.NewPCG(1, 2))})
	if err != nil {
		b.Fatal(err)
	}
	fixed := seed.Body()
	srv := trivialReceiver(b)
	ctx := context.Background()
	ok := func(status int) error {
		if status != http.StatusOK {
			b.Fatalf("answered %d", status)
		}
		return nil
	}

	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16}}
	defer client.CloseIdleConnections()
	digest, err := signing.Sign(signing.SHA256, "s3cr3t", fixed)
	if err != nil {
		b.Fatal(err)
	}
	bare := func(headers bool) func() error {
		return func() error {
			req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(fixed))
			req.Header.Set("Content-Type", "application/json")
			if headers {
				req.Header.Set("User-Agent", UserAgent)
				req.Header.Set(signing.DigestHeader, digest)
				req.Header.Set(signing.AlgorithmHeader, string(signing.SHA256))
			}
			resp, err := client.Do(req)
			if err != nil {
				return err
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return ok(resp.StatusCode)
		}
	}

	tmpl, err := load.NewTemplate(cat, "sumsub", "applicantReviewed", load.TemplateOptions{})
	if err != nil {
		b.Fatal(err)
	}
	lc, err := load.NewClient(load.Target{URL: srv.URL, Secret: "s3cr3t", ConnectTimeout: time.Second, AnswerTimeout: 10 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer lc.Close()
	sender := lc.NewSender(tmpl, nil)

	d := delivery.NewDispatcher(delivery.NewScaledClock(1), delivery.NewLog(nil))
	defer d.Close()
	fixedReq, err := Callback{Product: "sumsub", ContentType: "application/json", Body: fixed}.Request(srv.URL, delivery.SumsubPolicy)
	if err != nil {
		b.Fatal(err)
	}
	deliver := func(req delivery.Request) error {
		res, err := d.Deliver(ctx, req)
		if err != nil || !res.Acknowledged() {
			b.Fatal(err, res)
		}
		return nil
	}
	rnd := rand.New(rand.NewPCG(3, 4))
	build := func() error {
		ev, err := event.Build(cat, "sumsub", "applicantReviewed", event.Options{Rand: rnd})
		if err != nil {
			return err
		}
		cb := Callback{Product: ev.Product, Message: ev.Message, Subject: ev.Subject, ContentType: ev.ContentType, Body: ev.Body(), Sign: Signing{Secret: "s3cr3t"}}
		req, err := cb.Request(srv.URL, delivery.SumsubPolicy)
		if err != nil {
			return err
		}
		return deliver(req)
	}

	sides := []*benchSide{
		{name: "net-http", send: bare(false)},
		{name: "net-http+headers", send: bare(true)},
		{name: "load", send: func() error { return sender.Send(ctx) }},
		{name: "dispatcher", send: func() error { return deliver(fixedReq) }},
		{name: "build", send: build},
	}
	// Warm every side up: connections open, pools filled.
	for _, s := range sides {
		for range blockSize {
			if err := s.send(); err != nil {
				b.Fatal(s.name, err)
			}
		}
	}
	b.ReportAllocs()
	// Each round's ratios, whose medians are reported: a burst of other
	// work on the machine spoils one round, not the result.
	ratios := map[string][]float64{}
	round := 0
	for b.Loop() {
		took := map[string]time.Duration{}
		for k := range sides {
			s := sides[(round+k)%len(sides)]
			start := time.Now()
			for range blockSize {
				if err := s.send(); err != nil {
					b.Fatal(s.name, err)
				}
			}
			took[s.name] = time.Since(start)
			s.took += took[s.name]
			s.n += blockSize
		}
		for _, r := range [][2]string{{"load", "net-http"}, {"load", "net-http+headers"}, {"build", "net-http"}} {
			ratios[r[0]+"/"+r[1]] = append(ratios[r[0]+"/"+r[1]], float64(took[r[0]])/float64(took[r[1]]))
		}
		round++
	}
	for _, s := range sides {
		b.ReportMetric(float64(s.took.Nanoseconds())/float64(s.n), "ns/req-"+s.name)
	}
	for name, rs := range ratios {
		slices.Sort(rs)
		b.ReportMetric(rs[len(rs)/2], name)
	}
}
