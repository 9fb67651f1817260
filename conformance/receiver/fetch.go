package receiver

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// fetcher does the follow-up work after a callback was answered: it
// fetches the result from the vendor API. It follows an href only to
// Jumio's API hosts or to a configured host, so that a callback cannot
// make the receiver call anywhere it likes. The queue is bounded; when it
// is full a fetch is dropped and logged rather than slowing the answers.
type fetcher struct {
	client  *http.Client
	hosts   map[string]bool // configured hosts, "host" or "host:port"
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

func newFetcher(timeout time.Duration, hosts map[string]bool, log *slog.Logger) *fetcher {
	f := &fetcher{
		client: &http.Client{
			Timeout:   timeout,
			Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: fetchWorkers},
			// A redirect is followed only to a host an href may name.
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				if len(via) >= 5 {
					return fmt.Errorf("stopped after %d redirects", len(via))
				}
				return checkHost(req.URL, hosts)
			},
		},
		hosts: hosts,
		queue: make(chan string, fetchQueue),
		log:   log,
	}
	for range fetchWorkers {
		f.wg.Add(1)
		go f.work()
	}
	return f
}

// enqueue schedules the fetch of an href, unless its host is not one the
// receiver fetches from.
func (f *fetcher) enqueue(href string) {
	u, err := url.Parse(href)
	if err == nil {
		err = checkHost(u, f.hosts)
	}
	if err != nil {
		f.log.Warn("follow-up fetch skipped", "url", href, "error", err)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return
	}
	select {
	case f.queue <- href:
	default:
		f.log.Warn("follow-up queue full; fetch dropped", "url", href)
	}
}

// checkHost says whether an href may be fetched: over HTTPS from one of
// Jumio's API hosts (retrieval.<region>.jumio.ai and the other *.jumio.ai
// hosts, the legacy netverify.com ones), or from a configured host over
// HTTP or HTTPS.
func checkHost(u *url.URL, configured map[string]bool) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("scheme %q is not http or https", u.Scheme)
	}
	host := strings.ToLower(u.Hostname())
	if configured[strings.ToLower(u.Host)] || configured[host] {
		return nil
	}
	jumio := strings.HasSuffix(host, ".jumio.ai") || host == "netverify.com" || strings.HasSuffix(host, ".netverify.com")
	switch {
	case !jumio:
		return fmt.Errorf("host %q is neither a Jumio API host nor a configured fetch host", u.Host)
	case u.Scheme != "https":
		return fmt.Errorf("the href to Jumio API host %q is %s, not https", u.Host, u.Scheme)
	}
	return nil
}

// fetchHosts reads Config.FetchHosts: each entry a "host" (any port) or a
// "host:port"; a URL is taken for its host.
func fetchHosts(list []string) (map[string]bool, error) {
	hosts := map[string]bool{}
	for _, h := range list {
		h = strings.TrimSpace(h)
		if strings.Contains(h, "://") {
			u, err := url.Parse(h)
			if err != nil {
				return nil, fmt.Errorf("fetch host %q: %w", h, err)
			}
			h = u.Host
		}
		if h == "" || strings.ContainsAny(h, "/?#@ ") {
			return nil, fmt.Errorf("fetch host %q: want a host or host:port", h)
		}
		hosts[strings.ToLower(h)] = true
	}
	return hosts, nil
}

func (f *fetcher) work() {
	defer f.wg.Done()
	for href := range f.queue {
		f.fetch(href)
	}
}

func (f *fetcher) fetch(href string) {
	req, err := http.NewRequest(http.MethodGet, href, nil)
	if err != nil {
		f.log.Warn("follow-up fetch", "url", href, "error", err)
		return
	}
	req.Header.Set("User-Agent", "kycsim-reference-receiver")
	req.Header.Set("Accept", "application/json")
	resp, err := f.client.Do(req)
	f.fetched.Add(1)
	if err != nil {
		f.log.Warn("follow-up fetch", "url", href, "error", err)
		return
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	f.log.Info("follow-up fetch", "url", href, "status", resp.StatusCode)
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
		return fmt.Errorf("waiting for follow-up fetches: %w", ctx.Err())
	}
}
