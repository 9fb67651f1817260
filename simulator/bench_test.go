package simulator

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/kycsim/kycsim/simulator/delivery"
	"github.com/kycsim/kycsim/simulator/event"
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

// BenchmarkDelivery compares kycsim delivering unique, signed Sumsub
// webhooks (build, encode, sign, deliver, record) with a bare net/http
// loop posting one fixed body, both to a trivial loopback receiver:
//
//	go test -run XXX -bench Delivery -count 5 ./simulator/
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

	b.Run("net-http", func(b *testing.B) {
		srv := trivialReceiver(b)
		client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16}}
		defer client.CloseIdleConnections()
		b.SetBytes(int64(len(fixed)))
		b.ReportAllocs()
		for b.Loop() {
			req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(fixed))
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatal(resp.Status)
			}
		}
	})

	// The Dispatcher alone, on the fixed body: what delivery costs
	// without building and signing.
	b.Run("dispatcher", func(b *testing.B) {
		srv := trivialReceiver(b)
		d := delivery.NewDispatcher(delivery.NewScaledClock(1), delivery.NewLog(nil))
		defer d.Close()
		cb := Callback{Product: "sumsub", ContentType: "application/json", Body: fixed}
		req, err := cb.Request(srv.URL, delivery.SumsubPolicy)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(fixed)))
		b.ReportAllocs()
		for b.Loop() {
			res, err := d.Deliver(context.Background(), req)
			if err != nil || !res.Acknowledged() {
				b.Fatal(err, res)
			}
		}
	})

	b.Run("kycsim", func(b *testing.B) {
		srv := trivialReceiver(b)
		d := delivery.NewDispatcher(delivery.NewScaledClock(1), delivery.NewLog(nil))
		defer d.Close()
		rnd := rand.New(rand.NewPCG(3, 4))
		b.SetBytes(int64(len(fixed)))
		b.ReportAllocs()
		for b.Loop() {
			ev, err := event.Build(cat, "sumsub", "applicantReviewed", event.Options{Rand: rnd})
			if err != nil {
				b.Fatal(err)
			}
			cb := Callback{Product: ev.Product, Message: ev.Message, Subject: ev.Subject, ContentType: ev.ContentType, Body: ev.Body(), Sign: Signing{Secret: "s3cr3t"}}
			req, err := cb.Request(srv.URL, delivery.SumsubPolicy)
			if err != nil {
				b.Fatal(err)
			}
			res, err := d.Deliver(context.Background(), req)
			if err != nil || !res.Acknowledged() {
				b.Fatal(err, res)
			}
		}
	})
}
