package load

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkFillAndSign measures what makes a callback unique and
// authentic: a template filled with fresh ids and times, and signed with
// a keyed hash that is reset, not made anew.
//
//	go test -run XXX -bench FillAndSign ./simulator/load/
func BenchmarkFillAndSign(b *testing.B) {
	cat := catalog(b)
	for _, pm := range [][2]string{{"sumsub", "applicantReviewed"}, {"jumio-kyx", "PROCESSED"}, {"jumio-netverify", "APPROVED_VERIFIED"}} {
		b.Run(pm[0], func(b *testing.B) {
			tmpl, err := NewTemplate(cat, pm[0], pm[1], TemplateOptions{})
			if err != nil {
				b.Fatal(err)
			}
			s := testSender(tmpl, nil, 1)
			mac := hmac.New(sha256.New, []byte(secret))
			buf := make([]byte, 0, tmpl.Size())
			var sum [sha256.Size]byte
			var digest [2 * sha256.Size]byte
			b.SetBytes(int64(tmpl.Size()))
			b.ReportAllocs()
			for b.Loop() {
				var f Fill
				s.fresh(&f, time.Now())
				buf = tmpl.Append(buf[:0], f)
				mac.Reset()
				mac.Write(buf)
				hex.Encode(digest[:], mac.Sum(sum[:0]))
			}
		})
	}
}

func sink(b *testing.B) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
	}))
	b.Cleanup(srv.Close)
	return srv.URL
}

// BenchmarkSend sends unique signed Sumsub webhooks one at a time to a
// trivial loopback receiver (the comparison with a bare net/http loop
// is simulator's BenchmarkDelivery).
func BenchmarkSend(b *testing.B) {
	url := sink(b)
	cfg := config(b, url)
	c, err := NewClient(cfg.Target)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	s := c.NewSender(cfg.Template, nil)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Send(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRun16 runs the closed model with 16 connections against a
// trivial loopback receiver in the same process, and reports requests a
// second (the comparison with vegeta is bench/run.sh).
func BenchmarkRun16(b *testing.B) {
	url := sink(b)
	cfg := config(b, url)
	cfg.Connections = 16
	cfg.MaxRequests = int64(b.N)
	b.ResetTimer()
	sum, err := Run(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	if !sum.Passed {
		b.Fatal(sum.Failures)
	}
	b.ReportMetric(sum.Achieved, "req/s")
}
