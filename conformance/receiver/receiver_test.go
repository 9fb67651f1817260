package receiver

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"hash"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const secret = "s3cr3t"

// sumsubBody is a Sumsub webhook; fields are replaced per test.
func sumsubBody(t *testing.T, typ, createdAtMs string, extra map[string]any) []byte {
	t.Helper()
	m := map[string]any{
		"applicantId": "5cb744200a975a67ed1798a4", "inspectionId": "5cb744200a975a67ed1798a5",
		"correlationId": "req-fa94263f-0b23-42d7-9393-ab10b28ef42d", "externalUserId": "u-1",
		"levelName": "basic-kyc-level", "type": typ, "reviewStatus": "pending", "createdAtMs": createdAtMs,
	}
	for k, v := range extra {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func reviewed(t *testing.T, answer, createdAtMs string) []byte {
	rr := map[string]any{"reviewAnswer": answer}
	if answer == "RED" {
		rr["rejectLabels"] = []string{"FORGERY"}
		rr["reviewRejectType"] = "FINAL"
	}
	return sumsubBody(t, "applicantReviewed", createdAtMs, map[string]any{"reviewStatus": "completed", "reviewResult": rr})
}

// hexHMAC signs independently of the signing package.
func hexHMAC(h func() hash.Hash, key string, body []byte) string {
	m := hmac.New(h, []byte(key))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

func kyxBody(id, status, sentAt, href string) []byte {
	return []byte(`{"callbackSentAt":"` + sentAt + `","workflowExecution":{"id":"` + id + `","href":"` + href +
		`","definitionKey":"10001","status":"` + status + `"},"account":{"id":"11111111-2222-3333-4444-555555555555","href":"https://retrieval.amer-1.jumio.ai/api/v1/accounts/11111111-2222-3333-4444-555555555555"}}`)
}

const kyxID = "22222222-3333-4444-5555-666666666666"

type harness struct {
	t   *testing.T
	rc  *Receiver
	srv *httptest.Server
}

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	if cfg.Secret == "" {
		cfg.Secret = secret
	}
	rc, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(rc)
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		rc.Close(ctx)
	})
	return &harness{t: t, rc: rc, srv: srv}
}

// post sends a request from the given loopback address ("" for any).
func (h *harness) post(path, from string, header http.Header, body []byte) (int, string) {
	h.t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	if from != "" {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: time.Second}
		client.Transport = &http.Transport{DialContext: d.DialContext}
	}
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header = header
	resp, err := client.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

func (h *harness) sumsub(body []byte, alg string, sign func() hash.Hash) (int, string) {
	h.t.Helper()
	hd := http.Header{"Content-Type": {"application/json"}}
	if sign != nil {
		hd.Set("X-Payload-Digest", hexHMAC(sign, secret, body))
		hd.Set("X-Payload-Digest-Alg", alg)
	}
	return h.post("/sumsub", "", hd, body)
}

func (h *harness) probe(subject string) (int, any) {
	h.t.Helper()
	resp, err := http.Get(h.srv.URL + "/_probe/" + subject)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var p struct {
		Events int `json:"events"`
		Status any `json:"status"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		h.t.Fatal(err)
	}
	return p.Events, p.Status
}

func TestSumsubSignature(t *testing.T) {
	h := newHarness(t, Config{})
	body := sumsubBody(t, "applicantPending", "2020-02-21 13:23:19.002", nil)
	json := http.Header{"Content-Type": {"application/json"}}
	with := func(k, v string) http.Header {
		hd := json.Clone()
		hd.Set("X-Payload-Digest-Alg", "HMAC_SHA256_HEX")
		hd.Set(k, v)
		return hd
	}
	good := hexHMAC(sha256.New, secret, body)
	for _, tt := range []struct {
		name   string
		header http.Header
		body   []byte
		want   int
	}{
		{"sha256", with("X-Payload-Digest", good), body, 200},
		{"sha1", with("X-Payload-Digest-Alg", "HMAC_SHA1_HEX"), body, 401}, // digest is SHA-256
		{"missing digest", with("X-Payload-Digest-Alg", "HMAC_SHA256_HEX"), body, 401},
		{"wrong secret", with("X-Payload-Digest", hexHMAC(sha256.New, "other", body)), body, 401},
		{"tampered body", with("X-Payload-Digest", good), append([]byte(" "), body...), 401},
		{"unknown algorithm", func() http.Header {
			hd := with("X-Payload-Digest", good)
			hd.Set("X-Payload-Digest-Alg", "HMAC_MD5_HEX")
			return hd
		}(), body, 401},
		{"missing algorithm", func() http.Header {
			hd := with("X-Payload-Digest", good)
			hd.Del("X-Payload-Digest-Alg")
			return hd
		}(), body, 401},
	} {
		if tt.name == "sha1" {
			tt.header.Set("X-Payload-Digest", good)
		}
		if got, msg := h.post("/sumsub", "", tt.header, tt.body); got != tt.want {
			t.Errorf("%s: %d %s, want %d", tt.name, got, msg, tt.want)
		}
	}
	// Every algorithm the header names is honoured.
	for _, a := range []struct {
		name string
		h    func() hash.Hash
	}{{"HMAC_SHA1_HEX", sha1.New}, {"HMAC_SHA512_HEX", sha512.New}} {
		b := sumsubBody(t, "applicantPending", "2020-02-21 13:23:20.000", map[string]any{"correlationId": a.name})
		if got, msg := h.sumsub(b, a.name, a.h); got != 200 {
			t.Errorf("%s: %d %s", a.name, got, msg)
		}
	}
}

func TestSumsubContent(t *testing.T) {
	h := newHarness(t, Config{})
	for _, tt := range []struct {
		name string
		body []byte
		ct   string
		want int
	}{
		{"valid", sumsubBody(t, "applicantPending", "2020-02-21 13:23:19.002", nil), "application/json", 200},
		{"sandboxMode as string", sumsubBody(t, "applicantPending", "2020-02-21 13:23:19.003", map[string]any{"sandboxMode": "true"}), "application/json", 200},
		{"sandboxMode as boolean", sumsubBody(t, "applicantPending", "2020-02-21 13:23:19.004", map[string]any{"sandboxMode": true}), "application/json", 200},
		{"reviewResult null", sumsubBody(t, "applicantPending", "2020-02-21 13:23:19.005", map[string]any{"reviewResult": json.RawMessage("null")}), "application/json", 200},
		{"unknown field", sumsubBody(t, "applicantPending", "2020-02-21 13:23:19.006", map[string]any{"newField": 1}), "application/json", 200},
		{"unknown type", sumsubBody(t, "applicantKytTxnApproved", "2020-02-21 13:23:19.007", nil), "application/json", 200},
		{"malformed", []byte(`{"applicantId":`), "application/json", 400},
		{"empty", []byte{}, "application/json", 400},
		{"missing required field", sumsubBody(t, "applicantPending", "2020-02-21 13:23:19.008", map[string]any{"applicantId": nil}), "application/json", 400},
		{"bad enum", sumsubBody(t, "applicantPending", "2020-02-21 13:23:19.009", map[string]any{"reviewStatus": "done"}), "application/json", 400},
		{"wrong content type", sumsubBody(t, "applicantPending", "2020-02-21 13:23:19.010", nil), "text/plain", 415},
	} {
		hd := http.Header{"Content-Type": {tt.ct}, "X-Payload-Digest": {hexHMAC(sha256.New, secret, tt.body)}, "X-Payload-Digest-Alg": {"HMAC_SHA256_HEX"}}
		if got, msg := h.post("/sumsub", "", hd, tt.body); got != tt.want {
			t.Errorf("%s: %d %s, want %d", tt.name, got, msg, tt.want)
		}
	}
}

// TestDedupAndOrder checks that redeliveries, also concurrent ones, are
// acted on once, that distinct results are not merged, and that the
// newest result wins whatever the delivery order.
func TestDedupAndOrder(t *testing.T) {
	h := newHarness(t, Config{})
	subject := "5cb744200a975a67ed1798a4"
	green := reviewed(t, "GREEN", "2020-02-21 13:23:19.100")
	red := reviewed(t, "RED", "2020-02-21 13:23:19.200")
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if got, msg := h.sumsub(green, "HMAC_SHA256_HEX", sha256.New); got != 200 {
				t.Errorf("concurrent duplicate: %d %s", got, msg)
			}
		}()
	}
	wg.Wait()
	if n, st := h.probe(subject); n != 1 || st != "completed/GREEN" {
		t.Errorf("after 8 identical deliveries: events %d status %v, want 1 completed/GREEN", n, st)
	}
	h.sumsub(red, "HMAC_SHA256_HEX", sha256.New)
	h.sumsub(green, "HMAC_SHA256_HEX", sha256.New) // stale and a duplicate
	stale := sumsubBody(t, "applicantPending", "2020-02-21 13:23:19.150", nil)
	h.sumsub(stale, "HMAC_SHA256_HEX", sha256.New)
	if n, st := h.probe(subject); n != 3 || st != "completed/RED" {
		t.Errorf("events %d status %v, want 3 completed/RED", n, st)
	}
	if n, st := h.probe("nobody"); n != 0 || st != nil {
		t.Errorf("unknown subject: %d %v", n, st)
	}
}

func TestJumioSource(t *testing.T) {
	kyx := func(status, sentAt string) []byte { return kyxBody(kyxID, status, sentAt, "http://127.0.0.1:1/none") }
	ct := func(extra ...string) http.Header {
		hd := http.Header{"Content-Type": {"application/json"}}
		if len(extra) == 2 {
			hd.Set(extra[0], extra[1])
		}
		return hd
	}
	t.Run("allowlist", func(t *testing.T) {
		h := newHarness(t, Config{})
		if got, msg := h.post("/jumio/kyx", "127.0.0.2", ct(), kyx("ACQUIRED", "2026-05-30T12:00:00.1Z")); got != 403 {
			t.Errorf("from 127.0.0.2: %d %s", got, msg)
		}
		if got, msg := h.post("/jumio/kyx", "127.0.0.2", ct("X-Forwarded-For", "34.202.241.227"), kyx("ACQUIRED", "2026-05-30T12:00:00.1Z")); got != 403 {
			t.Errorf("X-Forwarded-For trusted without a proxy: %d %s", got, msg)
		}
		if got, msg := h.post("/jumio/kyx", "127.0.0.1", ct(), kyx("ACQUIRED", "2026-05-30T12:00:00.1Z")); got != 200 {
			t.Errorf("from 127.0.0.1: %d %s", got, msg)
		}
	})
	t.Run("configured sources", func(t *testing.T) {
		h := newHarness(t, Config{Sources: mustAddrs("127.0.0.3")})
		if got, _ := h.post("/jumio/kyx", "127.0.0.3", ct(), kyx("ACQUIRED", "2026-05-30T12:00:00Z")); got != 200 {
			t.Errorf("from a configured source: %d", got)
		}
		if got, _ := h.post("/jumio/kyx", "127.0.0.1", ct(), kyx("ACQUIRED", "2026-05-30T12:00:00Z")); got != 403 {
			t.Errorf("from a source no longer configured: %d", got)
		}
	})
	t.Run("behind a proxy", func(t *testing.T) {
		h := newHarness(t, Config{BehindProxy: true, Sources: mustAddrs()})
		if got, msg := h.post("/jumio/kyx", "127.0.0.1", ct("X-Forwarded-For", "10.0.0.1, 34.202.241.227"), kyx("ACQUIRED", "2026-05-30T12:00:00Z")); got != 200 {
			t.Errorf("forwarded for a Jumio address: %d %s", got, msg)
		}
		if got, _ := h.post("/jumio/kyx", "127.0.0.1", ct("X-Forwarded-For", "34.202.241.227, 10.0.0.1"), kyx("ACQUIRED", "2026-05-30T12:00:00Z")); got != 403 {
			t.Errorf("forwarded for a foreign address: %d", got)
		}
	})
}

// TestKYXOrderAndFetch checks precision tolerance, redelivery with a
// fresh callbackSentAt, that a late ACQUIRED does not regress PROCESSED,
// and the follow-up fetch of the href.
func TestKYXOrderAndFetch(t *testing.T) {
	var mu sync.Mutex
	fetched := 0
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		fetched++
		mu.Unlock()
		w.Write([]byte(`{}`))
	}))
	defer api.Close()
	h := newHarness(t, Config{Fetch: true})
	href := api.URL + "/api/v1/accounts/a/workflow-executions/" + kyxID
	ct := http.Header{"Content-Type": {"application/json"}}
	for i, sentAt := range []string{"2026-05-30T12:00:00Z", "2026-05-30T12:00:01.1Z", "2026-05-30T12:00:02.12Z", "2026-05-30T12:00:03.123Z"} {
		status := []string{"ACQUISITION_STARTED", "ACQUIRED", "PROCESSED", "ACQUIRED"}[i]
		if got, msg := h.post("/jumio/kyx", "127.0.0.1", ct, kyxBody(kyxID, status, sentAt, href)); got != 200 {
			t.Errorf("%s at %s: %d %s", status, sentAt, got, msg)
		}
	}
	h.post("/jumio/kyx", "127.0.0.1", ct, kyxBody(kyxID, "PROCESSED", "2026-05-30T12:09:00.000Z", href)) // redelivery
	if n, st := h.probe(kyxID); n != 3 || st != "PROCESSED" {
		t.Errorf("events %d status %v, want 3 PROCESSED", n, st)
	}
	deadline := time.Now().Add(5 * time.Second)
	for h.rc.FetchCount() < 1 && time.Now().Before(deadline) {
		runtimeGosched()
	}
	mu.Lock()
	defer mu.Unlock()
	if fetched != 1 {
		t.Errorf("vendor API fetched %d times, want 1 (the PROCESSED event, once)", fetched)
	}
}

// TestJumioInvalid checks both policies for bad Jumio content.
func TestJumioInvalid(t *testing.T) {
	bad := []byte(`{"callbackSentAt":"2026-05-30T12:00:00.000Z","workflowExecution":{"id":"` + kyxID + `","status":"DONE"}}`)
	ct := http.Header{"Content-Type": {"application/json"}}
	h := newHarness(t, Config{})
	if got, msg := h.post("/jumio/kyx", "127.0.0.1", ct, bad); got != 200 || !strings.Contains(msg, "dropped") {
		t.Errorf("ack-and-drop: %d %s", got, msg)
	}
	if n, _ := h.probe(kyxID); n != 0 {
		t.Errorf("a dropped callback had an effect: %d events", n)
	}
	h = newHarness(t, Config{JumioInvalid: Reject})
	if got, msg := h.post("/jumio/kyx", "127.0.0.1", ct, bad); got != 400 {
		t.Errorf("reject: %d %s", got, msg)
	}
	if _, err := New(Config{JumioInvalid: "maybe"}); err == nil {
		t.Error("an unknown policy was accepted")
	}
	if _, err := New(Config{Defects: []Defect{"typo"}}); err == nil {
		t.Error("an unknown defect was accepted")
	}
}
