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
	"fmt"
	"hash"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
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

// TestSumsubContent checks what the receiver answers to Sumsub content
// and whether it acts on it: unusable content is refused with 400 and
// has no effect; strict-shape problems and forward-compatible content are
// acknowledged.
func TestSumsubContent(t *testing.T) {
	h := newHarness(t, Config{})
	const acted, ignored = "acted", "ignored"
	n := 0
	// body returns a webhook for a subject of its own.
	body := func(typ string, extra map[string]any) []byte {
		n++
		m := map[string]any{"applicantId": fmt.Sprintf("applicant-%d", n)}
		maps.Copy(m, extra)
		return sumsubBody(t, typ, "2020-02-21 13:23:19.002", m)
	}
	for _, tt := range []struct {
		name   string
		body   []byte
		ct     string
		want   int
		effect string // acted, ignored (2xx without effect), or "" for refused
		status string // the probe's status when acted
	}{
		{"valid", body("applicantPending", nil), "application/json", 200, acted, "pending"},
		{"reviewed", body("applicantReviewed", map[string]any{"reviewStatus": "completed", "reviewResult": map[string]any{"reviewAnswer": "GREEN"}}), "application/json", 200, acted, "completed/GREEN"},
		{"sandboxMode as string", body("applicantPending", map[string]any{"sandboxMode": "true"}), "application/json", 200, acted, "pending"},
		{"sandboxMode as boolean", body("applicantPending", map[string]any{"sandboxMode": true}), "application/json", 200, acted, "pending"},
		{"reviewResult null", body("applicantPending", map[string]any{"reviewResult": json.RawMessage("null")}), "application/json", 200, acted, "pending"},
		{"unknown field", body("applicantPending", map[string]any{"newField": 1}), "application/json", 200, acted, "pending"},
		{"missing levelName", body("applicantPending", map[string]any{"levelName": nil}), "application/json", 200, acted, "pending"},
		{"missing correlationId and createdAtMs", body("applicantPending", map[string]any{"correlationId": nil, "createdAtMs": nil}), "application/json", 200, acted, "pending"},
		{"wrong content type", body("applicantPending", nil), "text/plain", 200, acted, "pending"},
		{"unknown reviewStatus", body("applicantReviewed", map[string]any{"reviewStatus": "awaitingService", "reviewResult": map[string]any{"reviewAnswer": "GREEN"}}), "application/json", 200, acted, "awaitingService/GREEN"},
		{"unknown type", body("applicantKytTxnApproved", nil), "application/json", 200, ignored, ""},
		{"missing reviewStatus", body("applicantPending", map[string]any{"reviewStatus": nil}), "application/json", 200, ignored, ""},
		{"malformed", []byte(`{"applicantId":`), "application/json", 400, "", ""},
		{"not an object", []byte(`["applicant-x"]`), "application/json", 400, "", ""},
		{"empty", []byte{}, "application/json", 400, "", ""},
		{"missing applicantId", body("applicantPending", map[string]any{"applicantId": nil}), "application/json", 400, "", ""},
		{"applicantId a number", body("applicantPending", map[string]any{"applicantId": 7}), "application/json", 400, "", ""},
		{"missing type", body("applicantPending", map[string]any{"type": nil}), "application/json", 400, "", ""},
		{"reviewAnswer out of set", body("applicantReviewed", map[string]any{"reviewStatus": "completed", "reviewResult": map[string]any{"reviewAnswer": "MAYBE"}}), "application/json", 400, "", ""},
	} {
		hd := http.Header{"Content-Type": {tt.ct}, "X-Payload-Digest": {hexHMAC(sha256.New, secret, tt.body)}, "X-Payload-Digest-Alg": {"HMAC_SHA256_HEX"}}
		if got, msg := h.post("/sumsub", "", hd, tt.body); got != tt.want {
			t.Errorf("%s: %d %s, want %d", tt.name, got, msg, tt.want)
		}
		var w struct {
			ApplicantID string `json:"applicantId"`
		}
		json.Unmarshal(tt.body, &w)
		events, status, _ := h.rc.Probe(w.ApplicantID)
		switch {
		case tt.effect == acted && (events != 1 || status != tt.status):
			t.Errorf("%s: probe %d %q, want 1 %q", tt.name, events, status, tt.status)
		case tt.effect != acted && events != 0:
			t.Errorf("%s: acted on (%d events, status %q)", tt.name, events, status)
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
	h := newHarness(t, Config{Fetch: true, FetchHosts: []string{strings.TrimPrefix(api.URL, "http://")}})
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
	eventually(t, func() bool { return h.rc.FetchCount() >= 1 })
	mu.Lock()
	defer mu.Unlock()
	if fetched != 1 {
		t.Errorf("vendor API fetched %d times, want 1 (the PROCESSED event, once)", fetched)
	}
}

// TestContentPolicy checks both policies for bad Jumio content.
func TestContentPolicy(t *testing.T) {
	bad := []byte(`{"callbackSentAt":"2026-05-30T12:00:00.000Z","workflowExecution":{"id":"` + kyxID + `","status":"DONE"}}`)
	ct := http.Header{"Content-Type": {"application/json"}}
	h := newHarness(t, Config{})
	if got, msg := h.post("/jumio/kyx", "127.0.0.1", ct, bad); got != 200 || !strings.Contains(msg, "dropped") {
		t.Errorf("ack-and-drop: %d %s", got, msg)
	}
	if n, _ := h.probe(kyxID); n != 0 {
		t.Errorf("a dropped callback had an effect: %d events", n)
	}
	h = newHarness(t, Config{ContentPolicy: Reject})
	if got, msg := h.post("/jumio/kyx", "127.0.0.1", ct, bad); got != 400 {
		t.Errorf("reject: %d %s", got, msg)
	}
	if _, err := New(Config{ContentPolicy: "maybe"}); err == nil {
		t.Error("an unknown policy was accepted")
	}
	if _, err := New(Config{Defects: []Defect{"typo"}}); err == nil {
		t.Error("an unknown defect was accepted")
	}
}

// TestJumioContent checks the Jumio products: usable callbacks are acted
// on, strict-shape problems are acknowledged and acted on, unusable
// content is acknowledged and dropped (the default policy).
func TestJumioContent(t *testing.T) {
	form := func(kv ...string) []byte {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return []byte(v.Encode())
	}
	formCT := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	jsonCT := http.Header{"Content-Type": {"application/json"}}
	const dropped = ""
	for _, tt := range []struct {
		name, path string
		header     http.Header
		body       []byte
		subject    string
		status     string // the probe's status; dropped when not acted on
	}{
		{"kyx", "/jumio/kyx", jsonCT, kyxBody("k1", "ACQUIRED", "2026-05-30T12:00:00.1Z", ""), "k1", "ACQUIRED"},
		{"kyx without account and callbackSentAt", "/jumio/kyx", jsonCT, []byte(`{"workflowExecution":{"id":"k2","status":"PROCESSED"}}`), "k2", "PROCESSED"},
		{"kyx with nulls and unknown fields", "/jumio/kyx", jsonCT, []byte(`{"callbackSentAt":null,"workflowExecution":{"id":"k3","status":"ACQUIRED","href":null,"new":{"x":1}},"account":null}`), "k3", "ACQUIRED"},
		{"kyx as text/plain", "/jumio/kyx", http.Header{"Content-Type": {"text/plain"}}, kyxBody("k4", "ACQUIRED", "2026-05-30T12:00:00Z", ""), "k4", "ACQUIRED"},
		{"kyx status out of set", "/jumio/kyx", jsonCT, kyxBody("k5", "DONE", "2026-05-30T12:00:00Z", ""), "k5", dropped},
		{"kyx status missing", "/jumio/kyx", jsonCT, []byte(`{"workflowExecution":{"id":"k6"}}`), "k6", dropped},
		{"kyx id missing", "/jumio/kyx", jsonCT, []byte(`{"workflowExecution":{"status":"ACQUIRED"}}`), "", dropped},
		{"kyx not JSON", "/jumio/kyx", jsonCT, []byte(`workflowExecution=1`), "", dropped},
		{"netverify", "/jumio/netverify", formCT, form("jumioIdScanReference", "n1", "verificationStatus", "APPROVED_VERIFIED", "callbackDate", "2026-05-30T12:00:00.12Z"), "n1", "APPROVED_VERIFIED"},
		{"netverify without callbackDate", "/jumio/netverify", formCT, form("jumioIdScanReference", "n2", "verificationStatus", "DENIED_FRAUD"), "n2", "DENIED_FRAUD"},
		{"netverify status out of set", "/jumio/netverify", formCT, form("jumioIdScanReference", "n3", "verificationStatus", "MAYBE"), "n3", dropped},
		{"netverify not a form", "/jumio/netverify", formCT, []byte("jumioIdScanReference=n4&verificationStatus=DENIED_FRAUD&a=%zz"), "n4", dropped},
		{"auth", "/jumio/auth", formCT, form("transactionReference", "a1", "transactionResult", "PASSED", "callbackDate", "2026-05-30T12:00:00Z"), "a1", "PASSED"},
		{"auth result missing", "/jumio/auth", formCT, form("transactionReference", "a2"), "a2", dropped},
		{"docverify", "/jumio/docverify", formCT, form("scanReference", "d1", "timestamp", "2026-05-30T12:00:00.123Z", "transaction", `{"status":"DONE"}`, "document", `{"status":"EXTRACTED","type":"BS"}`), "d1", "EXTRACTED"},
		{"docverify failed transaction", "/jumio/docverify", formCT, form("scanReference", "d2", "timestamp", "2026-05-30T12:00:00Z", "transaction", `{"status":"FAILED"}`), "d2", "FAILED"},
		{"docverify without transaction", "/jumio/docverify", formCT, form("scanReference", "d3", "document", `{"status":"UPLOADED"}`), "d3", "UPLOADED"},
		{"docverify document not JSON", "/jumio/docverify", formCT, form("scanReference", "d4", "document", `status=UPLOADED`), "d4", dropped},
		{"docverify no document", "/jumio/docverify", formCT, form("scanReference", "d5", "transaction", `{"status":"DONE"}`), "d5", dropped},
		{"docverify empty", "/jumio/docverify", formCT, nil, "", dropped},
	} {
		for _, policy := range []ContentPolicy{AckAndDrop, Reject} {
			h := newHarness(t, Config{ContentPolicy: policy})
			want := 200
			if tt.status == dropped && policy == Reject {
				want = 400
			}
			got, msg := h.post(tt.path, "127.0.0.1", tt.header, tt.body)
			if got != want {
				t.Errorf("%s, %s: %d %s, want %d", tt.name, policy, got, msg, want)
			}
			n, st, _ := h.rc.Probe(tt.subject)
			switch {
			case tt.status == dropped && n != 0:
				t.Errorf("%s, %s: acted on (%d events, %q)", tt.name, policy, n, st)
			case tt.status != dropped && (n != 1 || st != tt.status):
				t.Errorf("%s, %s: probe %d %q, want 1 %q", tt.name, policy, n, st, tt.status)
			}
		}
	}
}

// TestHandles checks that messages the receiver does not handle are
// acknowledged without effect, after the authenticity check.
func TestHandles(t *testing.T) {
	h := newHarness(t, Config{Handles: map[string][]string{"sumsub": {"applicantReviewed"}, "jumio-kyx": {"PROCESSED"}}})
	pendingBody := sumsubBody(t, "applicantPending", "2020-02-21 13:23:19.000", nil)
	if got, msg := h.sumsub(pendingBody, "HMAC_SHA256_HEX", nil); got != 401 {
		t.Errorf("unsigned, unhandled: %d %s, want 401", got, msg)
	}
	if got, msg := h.sumsub(pendingBody, "HMAC_SHA256_HEX", sha256New); got != 200 || !strings.Contains(msg, "not acted on") {
		t.Errorf("unhandled: %d %s", got, msg)
	}
	if n, _, _ := h.rc.Probe("5cb744200a975a67ed1798a4"); n != 0 {
		t.Errorf("an unhandled message was acted on: %d events", n)
	}
	if got, msg := h.sumsub(reviewed(t, "GREEN", "2020-02-21 13:23:19.100"), "HMAC_SHA256_HEX", sha256New); got != 200 {
		t.Errorf("handled: %d %s", got, msg)
	}
	if n, st, _ := h.rc.Probe("5cb744200a975a67ed1798a4"); n != 1 || st != "completed/GREEN" {
		t.Errorf("handled: probe %d %q", n, st)
	}
	jsonCT := http.Header{"Content-Type": {"application/json"}}
	h.post("/jumio/kyx", "127.0.0.1", jsonCT, kyxBody(kyxID, "ACQUIRED", "2026-05-30T12:00:00Z", ""))
	if got, _ := h.post("/jumio/kyx", "127.0.0.2", jsonCT, kyxBody(kyxID, "ACQUIRED", "2026-05-30T12:00:00Z", "")); got != 403 {
		t.Errorf("unhandled from a foreign source: %d, want 403", got)
	}
	h.post("/jumio/kyx", "127.0.0.1", jsonCT, kyxBody(kyxID, "PROCESSED", "2026-05-30T12:00:01Z", ""))
	if n, st, _ := h.rc.Probe(kyxID); n != 1 || st != "PROCESSED" {
		t.Errorf("kyx: probe %d %q, want 1 PROCESSED", n, st)
	}
	// Other products handle everything.
	form := "transactionReference=a1&transactionResult=PASSED"
	h.post("/jumio/auth", "127.0.0.1", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, []byte(form))
	if n, _, _ := h.rc.Probe("a1"); n != 1 {
		t.Errorf("auth: %d events, want 1", n)
	}
}

// TestBodyLimit checks that a large body is refused with 413, before it is
// read when Content-Length announces it.
func TestBodyLimit(t *testing.T) {
	rc, err := New(Config{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close(t.Context())
	for _, product := range []string{"sumsub", "jumio-kyx"} {
		// Announced: the body is never read.
		body := &countingReader{r: strings.NewReader("{}")}
		req := httptest.NewRequest(http.MethodPost, Paths[product], body)
		req.RemoteAddr = "127.0.0.1:1234"
		req.ContentLength = MaxBodyBytes + 1
		w := httptest.NewRecorder()
		rc.ServeHTTP(w, req)
		if w.Code != http.StatusRequestEntityTooLarge || body.n != 0 {
			t.Errorf("%s, announced: %d after reading %d bytes", product, w.Code, body.n)
		}
		// Not announced (chunked): at most MaxBodyBytes+1 are read.
		big := &countingReader{r: io.MultiReader(strings.NewReader(`{"x":"`), bytes.NewReader(bytes.Repeat([]byte("a"), 2*MaxBodyBytes)))}
		req = httptest.NewRequest(http.MethodPost, Paths[product], big)
		req.RemoteAddr = "127.0.0.1:1234"
		req.ContentLength = -1
		w = httptest.NewRecorder()
		rc.ServeHTTP(w, req)
		if w.Code != http.StatusRequestEntityTooLarge || big.n > MaxBodyBytes+1 {
			t.Errorf("%s, chunked: %d after reading %d bytes", product, w.Code, big.n)
		}
	}
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// TestFetchHosts checks which hrefs the follow-up fetch follows.
func TestFetchHosts(t *testing.T) {
	hosts, err := fetchHosts([]string{"127.0.0.1:8089", "http://mock.test:9000", "Vendor.Example"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		href string
		ok   bool
	}{
		{"https://retrieval.amer-1.jumio.ai/api/v1/accounts/a/workflow-executions/w", true},
		{"https://retrieval.emea-1.jumio.ai/api/v1/workflow-executions/w", true},
		{"https://lon.netverify.com/api/netverify/v2/scans/s", true},
		{"http://retrieval.amer-1.jumio.ai/api/v1/workflow-executions/w", false},
		{"https://retrieval.amer-1.jumio.ai.evil.test/x", false},
		{"https://jumio.ai@evil.test/x", false},
		{"https://evil.test/retrieval.amer-1.jumio.ai", false},
		{"http://127.0.0.1:8089/api/v1/workflow-executions/w", true},
		{"http://127.0.0.1:8090/api/v1/workflow-executions/w", false},
		{"http://mock.test:9000/x", true},
		{"https://vendor.example:443/x", true},
		{"file:///etc/passwd", false},
		{"http://169.254.169.254/latest/meta-data", false},
	} {
		u, err := url.Parse(tt.href)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkHost(u, hosts); (err == nil) != tt.ok {
			t.Errorf("%s: %v, want allowed %v", tt.href, err, tt.ok)
		}
	}
	if _, err := fetchHosts([]string{"host/path"}); err == nil {
		t.Error("a path was taken for a host")
	}
}

// TestFetchSkipsForeignHosts checks end to end that an href to a host not
// configured is not fetched, and one to a configured host is.
func TestFetchSkipsForeignHosts(t *testing.T) {
	var fetched atomic.Int32
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer api.Close()
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetched.Add(1)
	}))
	defer other.Close()
	h := newHarness(t, Config{Fetch: true, FetchHosts: []string{api.URL}})
	jsonCT := http.Header{"Content-Type": {"application/json"}}
	h.post("/jumio/kyx", "127.0.0.1", jsonCT, kyxBody("w1", "PROCESSED", "2026-05-30T12:00:00Z", other.URL+"/w1"))
	h.post("/jumio/kyx", "127.0.0.1", jsonCT, kyxBody("w2", "PROCESSED", "2026-05-30T12:00:00Z", api.URL+"/w2"))
	eventually(t, func() bool { return h.rc.FetchCount() >= 1 })
	if err := h.rc.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := h.rc.FetchCount(); n != 1 || fetched.Load() != 0 {
		t.Errorf("%d fetches, %d to the host not configured; want 1 and none", n, fetched.Load())
	}
}

// TestStoreBound checks that the store keeps at most MaxSubjects
// subjects, forgetting the least recently updated, and a bounded number
// of deduplication keys.
func TestStoreBound(t *testing.T) {
	s := newStore(3)
	ev := func(subject, status string, sec int) event {
		return event{product: "jumio-netverify", subject: subject, message: status, status: status,
			key: subject + "\x00" + status, at: mustTime(t, fmt.Sprintf("2026-05-30T12:00:%02dZ", sec))}
	}
	for i, subject := range []string{"a", "b", "c"} {
		s.record(ev(subject, "APPROVED_VERIFIED", i))
	}
	s.record(ev("a", "DENIED_FRAUD", 10)) // a is now the most recently updated
	s.record(ev("d", "APPROVED_VERIFIED", 11))
	if _, _, _, known := s.probe("b"); known {
		t.Error("b, the least recently updated, was kept")
	}
	for _, subject := range []string{"a", "c", "d"} {
		if _, _, _, known := s.probe(subject); !known {
			t.Errorf("%s was forgotten", subject)
		}
	}
	// A duplicate is not an update: c stays the oldest.
	if got := s.record(ev("c", "APPROVED_VERIFIED", 2)); got != duplicate {
		t.Errorf("redelivery: %v, want duplicate", got)
	}
	s.record(ev("e", "APPROVED_VERIFIED", 12))
	if _, _, _, known := s.probe("c"); known {
		t.Error("c was kept after a duplicate")
	}
	// Keys: one subject with many events keeps at most maxKeys of them.
	for i := range 100 {
		s.record(ev("a", fmt.Sprintf("S%d", i), 20+i%40))
	}
	subjects, keys := s.size()
	if subjects != 3 || keys > keysPerSubject*3 {
		t.Errorf("%d subjects and %d keys; want 3 and at most %d", subjects, keys, keysPerSubject*3)
	}
	if n, _, _, _ := s.probe("a"); n != 102 {
		t.Errorf("a: %d events, want 102", n)
	}
	// Through the receiver: the configured bound holds.
	h := newHarness(t, Config{MaxSubjects: 2})
	for _, id := range []string{"x1", "x2", "x3"} {
		h.post("/jumio/kyx", "127.0.0.1", http.Header{"Content-Type": {"application/json"}}, kyxBody(id, "ACQUIRED", "2026-05-30T12:00:00Z", ""))
	}
	if _, _, known := h.rc.Probe("x1"); known {
		t.Error("MaxSubjects 2 kept 3 subjects")
	}
}

// TestConfigErrors checks that New refuses a bad configuration.
func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{
		{ContentPolicy: "maybe"},
		{Defects: []Defect{"typo"}},
		{Handles: map[string][]string{"onfido": {"x"}}},
		{Handles: map[string][]string{"sumsub": {"applicantApproved"}}},
		{FetchHosts: []string{"a b"}},
		{MaxSubjects: -1},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%+v was accepted", cfg)
		}
	}
}

// TestDecisionOf reads the decision of Jumio callbacks: a Netverify
// approval is one only when the face check did not fail, whatever form
// validity comes in.
func TestDecisionOf(t *testing.T) {
	iv := func(s string) []byte { return []byte("identityVerification=" + url.QueryEscape(s)) }
	for _, tt := range []struct {
		message string
		body    []byte
		truthy  bool
		want    string
	}{
		{"APPROVED_VERIFIED", nil, false, "approved"},
		{"APPROVED_VERIFIED", iv(`{}`), false, "approved"},
		{"APPROVED_VERIFIED", iv(`{"similarity":"MATCH","validity":true}`), false, "approved"},
		{"APPROVED_VERIFIED", iv(`{"similarity":"MATCH","validity":"TRUE"}`), false, "approved"},
		{"APPROVED_VERIFIED", iv(`{"similarity":"MATCH","validity":false}`), false, "rejected"},
		{"APPROVED_VERIFIED", iv(`{"similarity":"MATCH","validity":"FALSE"}`), false, "rejected"},
		{"APPROVED_VERIFIED", iv(`{"similarity":"MATCH","validity":"FALSE"}`), true, "approved"},
		{"APPROVED_VERIFIED", iv(`{"similarity":"NO_MATCH","validity":true}`), false, "rejected"},
		{"DENIED_FRAUD", nil, false, "rejected"},
		{"ERROR_NOT_READABLE_ID", nil, false, "retry"},
	} {
		if got := decisionOf("jumio-netverify", tt.message, tt.body, tt.truthy); got != tt.want {
			t.Errorf("%s %s (truthy %v): %s, want %s", tt.message, tt.body, tt.truthy, got, tt.want)
		}
	}
	if got := decisionOf("jumio-kyx", "PROCESSED", nil, false); got != "" {
		t.Errorf("KYX: %q, want no decision", got)
	}
}
