package record

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycsim/kycsim/scenarios"
	"github.com/kycsim/kycsim/simulator/signing"
	"github.com/kycsim/kycsim/spec"
)

// sink is a receiver that keeps what it got and answers as told.
type sink struct {
	mu     sync.Mutex
	got    []*http.Request
	bodies [][]byte
	answer func(w http.ResponseWriter, r *http.Request)
}

func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.got = append(s.got, r)
	s.bodies = append(s.bodies, b)
	s.mu.Unlock()
	if s.answer != nil {
		s.answer(w, r)
		return
	}
	w.Header().Set("X-Receiver", "yes")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, `{"result":"accepted"}`)
}

func (s *sink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.got)
}

// startRecorder serves a Recorder for product in front of target.
func startRecorder(t testing.TB, product, target string, tweak func(*Config)) (*Recorder, string, string) {
	t.Helper()
	cat, err := spec.Default()
	if err != nil {
		t.Fatal(err)
	}
	p, err := cat.Product(product)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := spec.MaskRules(product)
	if err != nil {
		t.Fatal(err)
	}
	fwd, _ := url.Parse(target)
	dir := filepath.Join(t.TempDir(), "rec")
	var log bytes.Buffer
	cfg := Config{Product: p, Rules: rules, Key: []byte("0123456789abcdef0123"), Dir: dir, Forward: fwd, ForwardedFor: true, Log: &lockedBuffer{b: &log}}
	if tweak != nil {
		tweak(&cfg)
	}
	rec, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	return rec, srv.URL, dir
}

type lockedBuffer struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// post sends a callback and returns the answer; redirects are not
// followed.
func post(t *testing.T, u string, body []byte, h http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range h {
		req.Header[k] = vs
	}
	c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// readAll returns every file under dir and its content.
func readAll(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		out[p] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRecordWritesNoPersonalData records callbacks of every product with
// personal data planted in them (and in a custom header, and in a field
// the catalog does not know) and searches every byte written for it. The
// receiver gets every callback byte for byte, with its headers.
func TestRecordWritesNoPersonalData(t *testing.T) {
	cat, err := spec.Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range cat.Products() {
		t.Run(p.Name, func(t *testing.T) {
			recv := &sink{}
			target := httptest.NewServer(recv)
			defer target.Close()
			rec, proxy, dir := startRecorder(t, p.Name, target.URL, func(c *Config) { c.Secret = "s3cr3t" })
			planted := append(plantedValues(p.Name), "Bearer zq-credential-445566", "Zephyrina Quonsett, born 1961-07-23")
			var sent [][]byte
			for i, msg := range p.MessageNames() {
				ev := plant(t, cat, p.Name, msg, uint64(i+1))
				if p.Encoding == spec.EncodingJSON {
					_ = ev.SetValue("agentNotes", "Zephyrina Quonsett, born 1961-07-23")
				}
				body := ev.Body()
				h := http.Header{"Content-Type": {p.ContentType}, "X-Custom-Auth": {"Bearer zq-credential-445566"}}
				if p.Name == "sumsub" {
					d, _ := signing.Sign(signing.SHA256, "s3cr3t", body)
					h.Set(signing.DigestHeader, d)
					h.Set(signing.AlgorithmHeader, string(signing.SHA256))
				}
				resp, answer := post(t, proxy+"/hook?x=1", body, h)
				if resp.StatusCode != 200 || string(answer) != `{"result":"accepted"}` || resp.Header.Get("X-Receiver") != "yes" {
					t.Fatalf("answer relayed as %d %s %v", resp.StatusCode, answer, resp.Header)
				}
				sent = append(sent, body)
			}
			if err := rec.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			recv.mu.Lock()
			for i, b := range recv.bodies {
				r := recv.got[i]
				if !bytes.Equal(b, sent[i]) || r.URL.Path != "/hook" || r.URL.RawQuery != "x=1" ||
					r.Header.Get("X-Custom-Auth") != "Bearer zq-credential-445566" || r.Header.Get("X-Forwarded-For") != "127.0.0.1" {
					t.Errorf("callback %d not forwarded as sent: %s %s %v", i, r.URL, b, r.Header)
				}
			}
			recv.mu.Unlock()
			files := readAll(t, dir)
			if len(files) < 4 {
				t.Fatalf("wrote %d files", len(files))
			}
			for f, data := range files {
				if l := leaks(data, planted); len(l) > 0 {
					t.Errorf("%s holds planted personal data %q", f, l)
				}
			}
			if p.Encoding == spec.EncodingJSON {
				var sum Summary
				if err := json.Unmarshal(files[filepath.Join(dir, "recording.json")], &sum); err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(strings.Join(sum.Unruled, " "), "/agentNotes") {
					t.Errorf("recording.json does not list the field masked without a rule: %v", sum.Unruled)
				}
			}
			// Every scenario file loads.
			for f, data := range files {
				if strings.HasSuffix(f, ".yaml") {
					if _, err := scenarios.Load(f, data, cat); err != nil {
						t.Errorf("a recorded scenario does not load: %v\n%s", err, data)
					}
				}
			}
		})
	}
}

// TestRecordScenario checks the scenario file of a recorded Sumsub
// session: one file per subject, waits from the recorded gaps, the
// recorded status as the expectation, the signature as recorded, and the
// probe's final word.
func TestRecordScenario(t *testing.T) {
	recv := &sink{}
	recv.answer = func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/_probe/5cb744200a975a67ed1798a4" {
			io.WriteString(w, `{"events": 2, "status": "completed/GREEN"}`)
			return
		}
		if r.Header.Get(signing.DigestHeader) == "bad" {
			w.WriteHeader(401)
			return
		}
		w.WriteHeader(200)
	}
	target := httptest.NewServer(recv)
	defer target.Close()
	now := time.Date(2026, 5, 30, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	advance := func(d time.Duration) {
		mu.Lock()
		now = now.Add(d)
		mu.Unlock()
	}
	rec, proxy, dir := startRecorder(t, "sumsub", target.URL, func(c *Config) {
		c.Secret, c.Now, c.Probe = "s3cr3t", clock, target.URL+"/_probe/{subject}"
	})
	send := func(typ, subject, secret string, alg signing.Algorithm, digest string) {
		body := []byte(`{"applicantId":"` + subject + `","inspectionId":"` + subject + `","correlationId":"req-1","type":"` + typ + `","reviewStatus":"completed","createdAtMs":"2026-05-30 12:00:00.000","comment":"a ${literal}"}`)
		d, _ := signing.Sign(alg, secret, body)
		if digest != "" {
			d = digest
		}
		post(t, proxy+"/", body, http.Header{"Content-Type": {"application/json"}, signing.DigestHeader: {d}, signing.AlgorithmHeader: {string(alg)}})
	}
	advance(2 * time.Second)
	send("applicantCreated", "5cb744200a975a67ed1798a4", "s3cr3t", signing.SHA512, "")
	advance(1500 * time.Millisecond)
	send("applicantPending", "66666666666666666666aaaa", "s3cr3t", signing.SHA256, "")
	advance(3 * time.Minute)
	send("applicantReviewed", "5cb744200a975a67ed1798a4", "s3cr3t", signing.SHA256, "bad")
	if err := rec.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	cat, _ := spec.Default()
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if len(files) != 2 {
		t.Fatalf("files %v; want one per subject", files)
	}
	data, _ := os.ReadFile(files[0])
	sc, err := scenarios.Load(files[0], data, cat)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	// Like the built-in scenarios, it names the schema on its first line.
	if first, _, _ := strings.Cut(string(data), "\n"); first != "# yaml-language-server: $schema="+SchemaURL {
		t.Errorf("first line %q, want the yaml-language-server schema line", first)
	}
	var kinds []string
	for _, st := range sc.Steps {
		kinds = append(kinds, string(st.Kind))
	}
	if strings.Join(kinds, ",") != "wait,send,wait,send,expect" || sc.Steps[0].Wait != 2*time.Second || sc.Steps[2].Wait != 3*time.Minute+1500*time.Millisecond {
		t.Fatalf("steps %v (waits %s, %s):\n%s", kinds, sc.Steps[0].Wait, sc.Steps[2].Wait, data)
	}
	first, second := sc.Steps[1].Send, sc.Steps[3].Send
	if first.Message != "applicantCreated" || first.Expect.Status != "2xx" || first.Sign.Algorithm != "HMAC_SHA512_HEX" || first.Sign.Digest != "" {
		t.Errorf("first send %+v", first)
	}
	if second.Expect.Status != "4xx" || second.Sign.Digest != "wrong" || !strings.Contains(sc.Steps[3].Name, "signature invalid") {
		t.Errorf("the bad signature is not replayed bad and flagged: %+v %q", second, sc.Steps[3].Name)
	}
	if len(second.Recorded) != 2 || second.Recorded[0].Value != "bad" {
		t.Errorf("recorded headers %+v", second.Recorded)
	}
	if !strings.Contains(*first.RawBody, `"applicantId":"${subject}","inspectionId":"${subject}"`) || !strings.Contains(*first.RawBody, "${dollar}{") {
		t.Errorf("raw body %s", *first.RawBody)
	}
	if e := sc.Steps[4].Expect; e == nil || *e.Events != 2 || *e.Status != "completed/GREEN" {
		t.Errorf("probe expectation %+v", sc.Steps[4].Expect)
	}
	if !strings.Contains(string(data), "FLAGGED") {
		t.Errorf("the file does not flag the bad signature:\n%s", data)
	}
}

// TestRecordBounds checks the bounds: a body over --max-body is refused
// and not forwarded, past --max-exchanges the proxy forwards and records
// nothing more, redirects are relayed and not followed, and a receiver
// that does not answer gets the sender a 502.
func TestRecordBounds(t *testing.T) {
	recv := &sink{}
	recv.answer = func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
			return
		}
		w.WriteHeader(204)
	}
	target := httptest.NewServer(recv)
	defer target.Close()
	rec, proxy, dir := startRecorder(t, "jumio-kyx", target.URL, func(c *Config) { c.MaxBody, c.MaxExchanges = 600, 2 })
	body := []byte(`{"callbackSentAt":"2026-05-30T12:00:00.987Z","workflowExecution":{"id":"9495cc88-f6e2-4cc2-9ab4-c9e78d665670","href":"http://127.0.0.1:1/x","definitionKey":"1","status":"PROCESSED"},"account":{"id":"d8862a41-3a2c-4f9f-a4fd-3ae9789746f8","href":"http://127.0.0.1:1/y"}}`)
	if resp, _ := post(t, proxy, append(body, bytes.Repeat([]byte(" "), 600)...), nil); resp.StatusCode != 413 || recv.count() != 0 {
		t.Errorf("an oversized body: %d, forwarded %d", resp.StatusCode, recv.count())
	}
	if resp, _ := post(t, proxy+"/moved", body, nil); resp.StatusCode != 302 || resp.Header.Get("Location") != "/elsewhere" || recv.count() != 1 {
		t.Errorf("a redirect: %d %q after %d requests", resp.StatusCode, resp.Header.Get("Location"), recv.count())
	}
	for range 3 {
		if resp, _ := post(t, proxy, body, nil); resp.StatusCode != 204 {
			t.Errorf("status %d", resp.StatusCode)
		}
	}
	if recv.count() != 4 {
		t.Errorf("forwarded %d; want 4", recv.count())
	}
	target.Close()
	if resp, _ := post(t, proxy, body, nil); resp.StatusCode != 502 {
		t.Errorf("no receiver: %d", resp.StatusCode)
	}
	if err := rec.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	var sum Summary
	b, _ := os.ReadFile(filepath.Join(dir, "recording.json"))
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Recorded != 2 || sum.Refused != 1 || !strings.Contains(sum.Stopped, "--max-exchanges 2") || len(sum.Callbacks) != 5 {
		t.Errorf("summary %+v", sum)
	}
	// A recording never mixes with what a directory holds.
	if _, err := New(Config{Product: rec.cfg.Product, Rules: rec.cfg.Rules, Key: rec.cfg.Key, Dir: dir, Forward: rec.cfg.Forward}); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("a non-empty directory: %v", err)
	}
}

// TestRecordDrift records a Sumsub webhook with a field the catalog does
// not know and a decision value outside its set, and finds both in the
// drift report, at the levels they break.
func TestRecordDrift(t *testing.T) {
	target := httptest.NewServer(&sink{})
	defer target.Close()
	rec, proxy, dir := startRecorder(t, "sumsub", target.URL, nil)
	good := `{"applicantId":"5cb744200a975a67ed1798a4","inspectionId":"5cb744200a975a67ed1798a5","correlationId":"req-1","externalUserId":"u1","levelName":"basic","type":"applicantReviewed","sandboxMode":false,"reviewResult":{"reviewAnswer":"GREEN"},"reviewStatus":"completed","createdAtMs":"2026-05-30 12:00:00.000"}`
	drifted := strings.Replace(strings.Replace(good, `"GREEN"`, `"YELLOW"`, 1), `"type"`, `"riskScore":42,"type"`, 1)
	for _, b := range []string{good, drifted, drifted} {
		post(t, proxy, []byte(b), http.Header{"Content-Type": {"application/json"}})
	}
	if err := rec.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	var rep Report
	b, _ := os.ReadFile(filepath.Join(dir, "drift.json"))
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Callbacks != 3 || rep.Clean != 1 || len(rep.Departures) != 2 {
		t.Fatalf("report %s", b)
	}
	field, enum := rep.Departures[0], rep.Departures[1]
	if field.Kind != DriftNewField || field.Place != "/riskScore" || field.Found != "an integer" || strings.Join(field.Levels, ",") != "strict" || field.Count != 2 || field.First != 2 || field.Message != "applicantReviewed" {
		t.Errorf("new field: %+v", field)
	}
	if enum.Kind != DriftNewEnumValue || enum.Place != "/reviewResult/reviewAnswer" || enum.Found != `"YELLOW"` || strings.Join(enum.Levels, ",") != "vendor,strict" {
		t.Errorf("new enum value: %+v", enum)
	}
	txt, _ := os.ReadFile(filepath.Join(dir, "drift.txt"))
	for _, want := range []string{"2 departure(s)", "new-field", "/riskScore", "new-enum-value", `"YELLOW"`} {
		if !strings.Contains(string(txt), want) {
			t.Errorf("drift.txt lacks %q:\n%s", want, txt)
		}
	}
}
