package sqlite_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kycsim/kycsim/simulator/delivery"
	"github.com/kycsim/kycsim/simulator/sandbox"
	"github.com/kycsim/kycsim/simulator/sandbox/sqlite"
)

// BenchmarkEnqueueDeliver measures callbacks per second through the
// durable outbox: each enqueued in a transaction of its own (by one
// producer, or by several at once as concurrent API requests would),
// claimed, POSTed to a loopback receiver that answers 200, and recorded,
// on a database file.
func BenchmarkEnqueueDeliver(b *testing.B) {
	for _, tc := range []struct {
		sync      string
		producers int
	}{
		{sqlite.SynchronousNormal, 1},
		{sqlite.SynchronousNormal, 8},
		{sqlite.SynchronousFull, 1},
		{sqlite.SynchronousFull, 8},
	} {
		b.Run(fmt.Sprintf("sync=%s/producers=%d", tc.sync, tc.producers), func(b *testing.B) {
			benchmarkEnqueueDeliver(b, tc.sync, tc.producers)
		})
	}
}

func benchmarkEnqueueDeliver(b *testing.B, synchronous string, producers int) {
	ctx := context.Background()
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer rc.Close()
	db := sqlite.NewDB(filepath.Join(b.TempDir(), "sandbox.db"))
	db.Synchronous = synchronous
	if err := db.Open(ctx); err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	clock := sandbox.NewFastClock(time.Now(), 1)
	d := delivery.NewDispatcher(clock, nil)
	defer d.Close()
	var delivered atomic.Int64
	done := make(chan struct{})
	target := int64(b.N)
	o := &sandbox.Outbox{Store: db, Dispatcher: d, Clock: clock, Workers: 32,
		OnAttempt: func(_ *sandbox.Delivery, out sandbox.Outcome) {
			if out.State == sandbox.Delivered && delivered.Add(1) == target {
				close(done)
			}
		}}
	if err := o.Open(); err != nil {
		b.Fatal(err)
	}
	defer o.Close(ctx)
	body := []byte(`{"applicantId":"5f8d3a1c2b4e6f7a8b9c0d1e","type":"applicantReviewed","reviewStatus":"completed"}`)
	b.ResetTimer()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				d := &sandbox.Delivery{Product: "sumsub", Message: "applicantReviewed", URL: rc.URL,
					Header: http.Header{"Content-Type": {"application/json"}}, Body: body, Policy: delivery.SumsubPolicy}
				if err := db.Enqueue(ctx, d); err != nil {
					b.Error(err)
					return
				}
				o.Wake()
			}
		}()
	}
	wg.Wait()
	select {
	case <-done:
	case <-time.After(5 * time.Minute):
		b.Fatalf("%d of %d delivered after 5 minutes", delivered.Load(), b.N)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "callbacks/s")
}
