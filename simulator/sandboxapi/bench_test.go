package sandboxapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kycsim/kycsim/internal/pgtest"
	"github.com/kycsim/kycsim/internal/testpoll"
	"github.com/kycsim/kycsim/scenarios"
	"github.com/kycsim/kycsim/simulator/sandboxapi"
	"github.com/kycsim/kycsim/spec"
)

// benchClients is how many app clients per GOMAXPROCS send at once.
const benchClients = 16

// countingSink answers 200 to every callback and counts them.
type countingSink struct{ n atomic.Int64 }

func (s *countingSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	s.n.Add(1)
}

// benchSandbox runs a durable sandbox (a SQLite file) whose clock runs
// 1/scale times as fast as the wall clock, so that the scenarios' waits
// take little time and what is measured is the sandbox's own work.
func benchSandbox(b *testing.B, sink http.Handler, scale float64) (string, *http.Client, func()) {
	b.Helper()
	recv := httptest.NewServer(sink)
	cat, err := spec.Default()
	if err != nil {
		b.Fatal(err)
	}
	planner, err := scenarios.NewPlanner(cat, sandboxapi.OutcomeScenarios(), sandboxapi.OutcomePrefix)
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	in, err := sandboxapi.Open(context.Background(), sandboxapi.Options{
		DB: filepath.Join(b.TempDir(), "bench.db"), TimeScale: scale, Workers: 64,
		Config: sandboxapi.Config{Catalog: cat, Planner: planner, PublicURL: base, JumioClientID: jumioID, JumioClientSecret: jumioSecret,
			SumsubAppToken: appToken, SumsubSecretKey: appSecret, WebhookSecret: webhookSecret,
			Webhooks: map[string]string{"sumsub": recv.URL + "/sumsub", "jumio-netverify": recv.URL + "/nv", "jumio-kyx": recv.URL + "/kyx"}},
	})
	if err != nil {
		b.Fatal(err)
	}
	srv.Config.Handler = in.Server
	srv.Start()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	return base, client, func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		in.Close(ctx)
		recv.Close()
	}
}

// waitCount polls until the sink counted want callbacks.
func waitCount(b *testing.B, sink *countingSink, want int64) {
	b.Helper()
	if !testpoll.Until(2*time.Minute, func() bool { return sink.n.Load() >= want }) {
		b.Fatalf("%d of %d callbacks delivered", sink.n.Load(), want)
	}
}

func doJSON(client *http.Client, req *http.Request) ([]byte, error) {
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		return nil, fmt.Errorf("%s %s: %d %s", req.Method, req.URL.Path, resp.StatusCode, body)
	}
	return body, nil
}

// reportVerifications reports verifications a second since start and
// the CPU time the process (sandbox, app clients and receiver alike)
// spent on each since cpu.
func reportVerifications(b *testing.B, start time.Time, cpu time.Duration) {
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "verifications/s")
	b.ReportMetric(float64((processCPU()-cpu).Microseconds())/float64(b.N), "cpu-µs/verification")
}

// BenchmarkVerifications measures whole verifications a second, end to
// end: the app creates one through the vendor API, its outcome is picked
// (a magic value for Netverify; the control API for KYX), and the
// callbacks reach a loopback receiver, every state change and callback
// committed to SQLite first. verifications/s counts from the first
// request to the last callback acknowledged.
func BenchmarkVerifications(b *testing.B) {
	b.Run("netverify-magic", func(b *testing.B) {
		sink := &countingSink{}
		base, client, stop := benchSandbox(b, sink, 1e-6)
		defer stop()
		var seq atomic.Int64
		b.SetParallelism(benchClients)
		b.ResetTimer()
		start, cpu := time.Now(), processCPU()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				body := fmt.Sprintf(`{"customerInternalReference":"bench-%d-approved","userReference":"u"}`, seq.Add(1))
				req, _ := http.NewRequest("POST", base+"/api/v4/initiate", bytes.NewReader([]byte(body)))
				req.SetBasicAuth(jumioID, jumioSecret)
				req.Header.Set("User-Agent", testUA)
				req.Header.Set("Accept", "application/json")
				req.Header.Set("Content-Type", "application/json")
				if _, err := doJSON(client, req); err != nil {
					b.Error(err)
					return
				}
			}
		})
		waitCount(b, sink, int64(b.N))
		reportVerifications(b, start, cpu)
	})
	b.Run("kyx-magic", func(b *testing.B) {
		sink := &countingSink{}
		base, client, stop := benchSandbox(b, sink, 1e-5)
		defer stop()
		tokens := &tokenCache{client: client, base: base}
		var seq atomic.Int64
		b.SetParallelism(benchClients)
		b.ResetTimer()
		start, cpu := time.Now(), processCPU()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				body := fmt.Sprintf(`{"customerInternalReference":"bench-%d-passed","workflowDefinition":{"key":1}}`, seq.Add(1))
				if _, err := tokens.do(func(tok string) *http.Request {
					req, _ := http.NewRequest("POST", base+"/api/v1/accounts", strings.NewReader(body))
					req.Header.Set("Authorization", "Bearer "+tok)
					req.Header.Set("User-Agent", testUA)
					req.Header.Set("Content-Type", "application/json")
					return req
				}); err != nil {
					b.Error(err)
					return
				}
			}
		})
		waitCount(b, sink, 3*int64(b.N))
		reportVerifications(b, start, cpu)
	})
	b.Run("kyx-control", func(b *testing.B) {
		sink := &countingSink{}
		// Its waits (4 minutes) take 2.4 ms; its tokens (an hour) 36 ms,
		// so the app takes a new one when told its token expired, as an
		// app would.
		base, client, stop := benchSandbox(b, sink, 1e-5)
		defer stop()
		tokens := &tokenCache{client: client, base: base}
		b.SetParallelism(benchClients)
		b.ResetTimer()
		start, cpu := time.Now(), processCPU()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				out, err := tokens.do(func(tok string) *http.Request {
					req, _ := http.NewRequest("POST", base+"/api/v1/accounts", bytes.NewReader([]byte(`{"customerInternalReference":"bench","workflowDefinition":{"key":1},"tokenLifetime":"60d"}`)))
					req.Header.Set("Authorization", "Bearer "+tok)
					req.Header.Set("User-Agent", testUA)
					req.Header.Set("Content-Type", "application/json")
					return req
				})
				if err != nil {
					b.Error(err)
					return
				}
				var acc struct{ WorkflowExecution struct{ ID string } }
				json.Unmarshal(out, &acc)
				req, _ := http.NewRequest("POST", base+"/_sandbox/jumio/workflow-executions/"+acc.WorkflowExecution.ID+"/outcome", bytes.NewReader([]byte(`{"outcome":"PASSED"}`)))
				req.Header.Set("Content-Type", "application/json")
				if _, err := doJSON(client, req); err != nil {
					b.Error(err)
					return
				}
			}
		})
		waitCount(b, sink, 3*int64(b.N)) // ACQUISITION_STARTED, ACQUIRED, PROCESSED
		reportVerifications(b, start, cpu)
	})
}

// BenchmarkReplicas measures whole Netverify verifications a second (as
// netverify-magic above: created through the API, the outcome a magic
// value, the callback acknowledged) on PostgreSQL, through one replica
// and through two on the same database and machine, the app's clients
// spread over them. Run with -count to alternate the sides:
//
//	KYCSIM_TEST_POSTGRES=postgres://... go test ./simulator/sandboxapi -run '^$' -bench Replicas -count 3
func BenchmarkReplicas(b *testing.B) {
	for _, n := range []int{1, 2} {
		b.Run(fmt.Sprintf("postgres/replicas=%d", n), func(b *testing.B) {
			db := pgtest.URL(b)
			sink := &countingSink{}
			recv := httptest.NewServer(sink)
			defer recv.Close()
			cat, err := spec.Default()
			if err != nil {
				b.Fatal(err)
			}
			planner, err := scenarios.NewPlanner(cat, sandboxapi.OutcomeScenarios(), sandboxapi.OutcomePrefix)
			if err != nil {
				b.Fatal(err)
			}
			var bases []string
			for i := range n {
				srv := httptest.NewUnstartedServer(nil)
				base := "http://" + srv.Listener.Addr().String()
				in, err := sandboxapi.Open(context.Background(), sandboxapi.Options{
					DB: db, Replica: fmt.Sprintf("bench-%d", i), TimeScale: 1e-6, Workers: 64,
					Config: sandboxapi.Config{Catalog: cat, Planner: planner, PublicURL: base, JumioClientID: jumioID, JumioClientSecret: jumioSecret,
						SumsubAppToken: appToken, SumsubSecretKey: appSecret, WebhookSecret: webhookSecret,
						Webhooks: map[string]string{"jumio-netverify": recv.URL + "/nv"}},
				})
				if err != nil {
					b.Fatal(err)
				}
				srv.Config.Handler = in.Server
				srv.Start()
				defer func() {
					srv.Close()
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					defer cancel()
					in.Close(ctx)
				}()
				bases = append(bases, base)
			}
			client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
			var seq atomic.Int64
			b.SetParallelism(benchClients)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := seq.Add(1)
					body := fmt.Sprintf(`{"customerInternalReference":"bench-%d-approved","userReference":"u"}`, i)
					req, _ := http.NewRequest("POST", bases[int(i)%n]+"/api/v4/initiate", bytes.NewReader([]byte(body)))
					req.SetBasicAuth(jumioID, jumioSecret)
					req.Header.Set("User-Agent", testUA)
					req.Header.Set("Accept", "application/json")
					req.Header.Set("Content-Type", "application/json")
					if _, err := doJSON(client, req); err != nil {
						b.Error(err)
						return
					}
				}
			})
			waitCount(b, sink, int64(b.N))
			// (No CPU figure: PostgreSQL's work is in other processes.)
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "verifications/s")
		})
	}
}

// tokenCache holds a Jumio access token and takes a new one when the
// sandbox says it expired.
type tokenCache struct {
	client *http.Client
	base   string
	mu     sync.Mutex
	tok    string
}

// get returns the current token, or a new one when stale is it.
func (c *tokenCache) get(stale string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok != "" && c.tok != stale {
		return c.tok, nil
	}
	req, _ := http.NewRequest("POST", c.base+"/oauth2/token", bytes.NewReader([]byte("grant_type=client_credentials")))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(jumioID, jumioSecret)
	b, err := doJSON(c.client, req)
	if err != nil {
		return "", err
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.Unmarshal(b, &tok)
	c.tok = tok.AccessToken
	return c.tok, nil
}

// do makes a request with the token, again with a new token after a 401
// (at most 20 tries: on a loaded machine a token of the fast clock may
// expire before the request that carries it is read).
func (c *tokenCache) do(make func(tok string) *http.Request) ([]byte, error) {
	stale := ""
	var err error
	for range 20 {
		var tok string
		if tok, err = c.get(stale); err != nil {
			return nil, err
		}
		var out []byte
		if out, err = doJSON(c.client, make(tok)); err == nil || !strings.Contains(err.Error(), ": 401 ") {
			return out, err
		}
		stale = tok
	}
	return nil, err
}

// BenchmarkRetrieval measures the KYX retrieval API: requests a second
// for one processed workflow, from parallel clients.
func BenchmarkRetrieval(b *testing.B) {
	sink := &countingSink{}
	base, client, stop := benchSandbox(b, sink, 0.01)
	defer stop()
	tokReq, _ := http.NewRequest("POST", base+"/oauth2/token", bytes.NewReader([]byte("grant_type=client_credentials")))
	tokReq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	tokReq.SetBasicAuth(jumioID, jumioSecret)
	tb, err := doJSON(client, tokReq)
	if err != nil {
		b.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.Unmarshal(tb, &tok)
	req, _ := http.NewRequest("POST", base+"/api/v1/accounts", bytes.NewReader([]byte(`{"customerInternalReference":"r-passed","workflowDefinition":{"key":1}}`)))
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("User-Agent", testUA)
	req.Header.Set("Content-Type", "application/json")
	out, err := doJSON(client, req)
	if err != nil {
		b.Fatal(err)
	}
	var acc struct{ WorkflowExecution struct{ ID string } }
	json.Unmarshal(out, &acc)
	waitCount(b, sink, 3)
	u := base + "/api/v1/workflow-executions/" + acc.WorkflowExecution.ID
	get := func(u string) func(pb *testing.PB) {
		return func(pb *testing.PB) {
			for pb.Next() {
				req, _ := http.NewRequest("GET", u, nil)
				req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
				req.Header.Set("User-Agent", testUA)
				if _, err := doJSON(client, req); err != nil {
					b.Error(err)
					return
				}
			}
		}
	}
	b.Run("sandbox", func(b *testing.B) {
		b.SetParallelism(benchClients)
		start := time.Now()
		b.RunParallel(get(u))
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "requests/s")
	})
	// The baseline: a bare net/http handler answering the same bytes, to
	// the same client, on the same machine.
	req, _ = http.NewRequest("GET", u, nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("User-Agent", testUA)
	body, err := doJSON(client, req)
	if err != nil {
		b.Fatal(err)
	}
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	defer bare.Close()
	b.Run("net-http-fixed", func(b *testing.B) {
		b.SetParallelism(benchClients)
		start := time.Now()
		b.RunParallel(get(bare.URL))
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "requests/s")
	})
}
