package record

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/kycsim/kycsim/simulator/event"
	"github.com/kycsim/kycsim/spec"
)

// BenchmarkExchange measures one Sumsub callback posted to a receiver
// directly and through the recording proxy (forward, mask, validate at
// two levels, write the subject's file), the sides alternating in one
// run: go test ./scenarios/record -run '^$' -bench Exchange -benchtime 200x
func BenchmarkExchange(b *testing.B) {
	cat, _ := spec.Default()
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(200)
	}))
	defer recv.Close()
	rec, proxy, _ := startRecorder(b, "sumsub", recv.URL, func(c *Config) { c.MaxExchanges = 1 << 30 })
	bodies := make([][]byte, 64)
	for i := range bodies {
		ev, _ := event.Build(cat, "sumsub", "applicantReviewed", event.Options{Rand: event.NewRand(uint64(i)), Now: time.Now()})
		bodies[i] = ev.Body()
	}
	client := &http.Client{Timeout: 10 * time.Second}
	postTo := func(b *testing.B, u string, i int) {
		resp, err := client.Post(u, "application/json", bytes.NewReader(bodies[i%len(bodies)]))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	for round := range 3 {
		b.Run("direct", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				postTo(b, recv.URL, i+round)
			}
		})
		b.Run("recorded", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				postTo(b, proxy, i+round)
			}
		})
	}
	rec.Close(context.Background())
}
