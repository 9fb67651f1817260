package receiver

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// fetcher does the follow-up work after a callback was answered: it
// fetches the result from the vendor API. The queue is bounded; when it is
// full a fetch is dropped and logged rather than slowing the answers.
type fetcher struct {
	client  *http.Client
	queue   chan string
	wg      sync.WaitGroup
	mu      sync.Mutex
	closed  bool
	fetched atomic.Int64
	log     *slog.Logger
}

const (
	fetchWorkers = 4
	fetchQueue   = 1024
)

func newFetcher(timeout time.Duration, log *slog.Logger) *fetcher {
	f := &fetcher{
		client: &http.Client{Timeout: timeout, Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: fetchWorkers}},
		queue:  make(chan string, fetchQueue),
		log:    log,
	}
	for range fetchWorkers {
		f.wg.Add(1)
		go f.work()
	}
	return f
}

func (f *fetcher) enqueue(url string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return
	}
	select {
	case f.queue <- url:
	default:
		f.log.Warn("follow-up queue full; fetch dropped", "url", url)
	}
}

func (f *fetcher) work() {
	defer f.wg.Done()
	for url := range f.queue {
		f.fetch(url)
	}
}

func (f *fetcher) fetch(url string) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		f.log.Warn("follow-up fetch", "url", url, "error", err)
		return
	}
	req.Header.Set("User-Agent", "kycsim-reference-receiver")
	req.Header.Set("Accept", "application/json")
	resp, err := f.client.Do(req)
	f.fetched.Add(1)
	if err != nil {
		f.log.Warn("follow-up fetch", "url", url, "error", err)
		return
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	f.log.Info("follow-up fetch", "url", url, "status", resp.StatusCode)
}

func (f *fetcher) count() int { return int(f.fetched.Load()) }

// close stops taking work and waits for the queue to drain, or for ctx.
func (f *fetcher) close(ctx context.Context) error {
	f.mu.Lock()
	if !f.closed {
		f.closed = true
		close(f.queue)
	}
	f.mu.Unlock()
	done := make(chan struct{})
	go func() { f.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
