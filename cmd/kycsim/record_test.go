package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kycsim/kycsim/conformance/receiver"
	"github.com/kycsim/kycsim/internal/testpoll"
	"github.com/kycsim/kycsim/simulator/signing"
)

func TestRecordUsage(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "x"), []byte("x"), 0o644)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"record", "--product", "sumsub", "--out", t.TempDir()}, "--forward URL is required"},
		{[]string{"record", "--forward", "http://127.0.0.1:1", "--out", t.TempDir()}, "--product is required"},
		{[]string{"record", "--forward", "http://127.0.0.1:1", "--product", "sumsub"}, "--out DIR is required"},
		{[]string{"record", "--forward", "ftp://x", "--product", "sumsub", "--out", t.TempDir()}, "--forward"},
		{[]string{"record", "--forward", "http://127.0.0.1:1", "--product", "nope", "--out", t.TempDir()}, "--product"},
		{[]string{"record", "--forward", "http://127.0.0.1:1", "--product", "sumsub", "--out", dir, "--listen", "127.0.0.1:0"}, "not empty"},
		{[]string{"record", "--forward", "http://127.0.0.1:1", "--product", "sumsub", "--out", t.TempDir(), "--listen", "0.0.0.0:0"}, "--public"},
		{[]string{"record", "--forward", "http://127.0.0.1:1", "--product", "sumsub", "--out", t.TempDir(), "--probe", "http://x/_probe"}, "{subject}"},
		{[]string{"record", "--forward", "http://127.0.0.1:1", "--product", "sumsub", "--out", t.TempDir(), "--max-body", "0"}, "must be > 0"},
	} {
		code, _, stderr := run(t, "", tt.args...)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
}

// startReceiver serves a reference receiver with the secret s3cr3t and
// the given defects.
func startReceiver(t *testing.T, defects ...receiver.Defect) *httptest.Server {
	t.Helper()
	rc, err := receiver.New(receiver.Config{Secret: "s3cr3t", Defects: defects})
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
	return srv
}

// freeAddr returns a loopback address with a free port.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestRecordServeReplay records a session of the sandbox (`kycsim serve`
// as the vendor, signing with SHA-512) through `kycsim record` to the
// reference receiver, with a forged webhook and a redelivery in it, then
// replays the recording: against the reference receiver it passes;
// against receivers with the defects the recording can show (no
// signature check, SHA-256 assumed, no deduplication) it fails, each at
// its own step.
func TestRecordServeReplay(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the sandbox, the proxy and four receivers")
	}
	recv := startReceiver(t)
	probe := recv.URL + "/_probe/{subject}"
	out := filepath.Join(t.TempDir(), "recording")

	// The recording proxy.
	ready := make(chan string, 1)
	recordReady = func(addr string) { ready <- addr }
	defer func() { recordReady = nil }()
	rctx, stopRecord := context.WithCancel(context.Background())
	defer stopRecord()
	recOut := &lockedWriter{w: &strings.Builder{}}
	recDone := make(chan int, 1)
	go func() {
		m := &Main{Stdin: strings.NewReader(""), Stdout: recOut, Stderr: recOut}
		recDone <- m.Run(rctx, []string{"record", "--listen", "127.0.0.1:0", "--forward", recv.URL, "--product", "sumsub",
			"--secret", "s3cr3t", "--out", out, "--probe", probe})
	}()
	var proxy string
	select {
	case addr := <-ready:
		proxy = "http://" + addr
	case code := <-recDone:
		t.Fatalf("record exited %d: %s", code, recOut.String())
	case <-time.After(20 * time.Second):
		t.Fatal("record did not start")
	}

	// The sandbox as the vendor, posting to the proxy.
	sandbox := freeAddr(t)
	sctx, stopServe := context.WithCancel(context.Background())
	defer stopServe()
	serveDone := make(chan int, 1)
	go func() {
		m := &Main{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard}
		serveDone <- m.Run(sctx, []string{"serve", "--addr", sandbox, "--db", ":memory:", "--time-scale", "0.00001",
			"--webhook", "sumsub=" + proxy + "/sumsub", "--webhook-secret", "s3cr3t", "--webhook-alg", "HMAC_SHA512_HEX"})
	}()
	client := &http.Client{Timeout: 5 * time.Second}
	if !testpoll.Until(20*time.Second, func() bool {
		resp, err := client.Get("http://" + sandbox + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	}) {
		t.Fatal("the sandbox did not start")
	}
	body := `{"externalUserId":"zq-applicant-green"}`
	req, _ := http.NewRequest("POST", "http://"+sandbox+"/resources/applicants?levelName=basic", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	signSumsub(req, []byte(body))
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var app struct{ ID string }
	json.NewDecoder(resp.Body).Decode(&app)
	resp.Body.Close()
	if resp.StatusCode != 201 || app.ID == "" {
		t.Fatalf("create an applicant: %d", resp.StatusCode)
	}
	probeSays := func() (int, string) {
		resp, err := client.Get(strings.ReplaceAll(probe, "{subject}", app.ID))
		if err != nil {
			return 0, ""
		}
		defer resp.Body.Close()
		var pa struct {
			Events int
			Status *string
		}
		json.NewDecoder(resp.Body).Decode(&pa)
		if pa.Status == nil {
			return pa.Events, ""
		}
		return pa.Events, *pa.Status
	}
	if !testpoll.Until(30*time.Second, func() bool { n, s := probeSays(); return n == 4 && s == "completed/GREEN" }) {
		n, s := probeSays()
		t.Fatalf("the receiver holds %d events, status %q; record said:\n%s", n, s, recOut.String())
	}
	// The vendor redelivers the review (byte for byte) ...
	var list struct {
		Deliveries []struct {
			ID      int64
			Message string
			State   string
		}
	}
	resp, err = client.Get("http://" + sandbox + "/_sandbox/deliveries")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	resent := false
	for _, d := range list.Deliveries {
		if d.Message == "applicantReviewed" {
			resp, err := client.Post(fmt.Sprintf("http://%s/_sandbox/deliveries/%d/resend", sandbox, d.ID), "application/json", nil)
			if err != nil || resp.StatusCode != 202 {
				t.Fatalf("resend: %v %v", err, resp)
			}
			resp.Body.Close()
			resent = true
			break
		}
	}
	if !resent {
		t.Fatalf("no applicantReviewed delivery in %+v", list)
	}
	if !testpoll.Until(20*time.Second, func() bool { return strings.Count(recOut.String(), "applicantReviewed") >= 2 }) {
		t.Fatalf("the redelivery was not recorded:\n%s", recOut.String())
	}
	// ... and someone forges a rejection.
	forged := []byte(`{"applicantId":"` + app.ID + `","inspectionId":"` + app.ID + `","levelName":"basic","type":"applicantReviewed","reviewStatus":"completed","reviewResult":{"reviewAnswer":"RED","reviewRejectType":"FINAL","rejectLabels":["FORGERY"]},"correlationId":"forged-1","createdAtMs":"2099-01-01 00:00:00.000"}`)
	freq, _ := http.NewRequest("POST", proxy+"/sumsub", strings.NewReader(string(forged)))
	freq.Header.Set("Content-Type", "application/json")
	d, _ := signing.Sign(signing.SHA256, "not-the-secret", forged)
	freq.Header.Set(signing.DigestHeader, d)
	freq.Header.Set(signing.AlgorithmHeader, string(signing.SHA256))
	resp, err = client.Do(freq)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("the forged webhook: %d", resp.StatusCode)
	}
	stopServe()
	<-serveDone
	stopRecord()
	if code := <-recDone; code != 0 {
		t.Fatalf("record exited %d:\n%s", code, recOut.String())
	}
	log := recOut.String()
	for _, want := range []string{"signature valid", "signature invalid (FLAGGED)", "drift: 0 departure(s)", "kycsim run " + out} {
		if !strings.Contains(log, want) {
			t.Errorf("record's output lacks %q:\n%s", want, log)
		}
	}
	files, _ := filepath.Glob(filepath.Join(out, "*.yaml"))
	if len(files) != 1 {
		t.Fatalf("scenario files %v; want one, for the one applicant", files)
	}
	data, _ := os.ReadFile(files[0])
	if strings.Contains(string(data), app.ID) || strings.Contains(string(data), "zq-applicant") {
		t.Errorf("the recording holds the applicant's own ids:\n%s", data)
	}
	if !strings.Contains(string(data), "events: 4, status: completed/GREEN") || strings.Count(string(data), "sign: {alg: HMAC_SHA512_HEX}") != 5 {
		t.Errorf("the recording lacks the probe's word or the recorded algorithm:\n%s", data)
	}

	replay := func(rc *httptest.Server) (int, string) {
		code, stdout, stderr := run(t, "", "run", out, "--to", rc.URL+"/sumsub", "--secret", "s3cr3t", "--probe", rc.URL+"/_probe/{subject}", "--replay-dir", t.TempDir())
		return code, stdout + stderr
	}
	if code, text := replay(startReceiver(t)); code != 0 {
		t.Fatalf("replay against the reference receiver: exit %d\n%s\n%s", code, text, data)
	}
	for _, tt := range []struct {
		defect receiver.Defect
		want   string
	}{
		{receiver.DefectNoSignatureCheck, "expected status 4xx, got 200"},
		{receiver.DefectAssumeSHA256, "expected status 2xx, got 401"},
		{receiver.DefectNoDedup, "expected 4 events acted on, the probe says 5"},
	} {
		code, text := replay(startReceiver(t, tt.defect))
		if code != 1 || !strings.Contains(text, tt.want) {
			t.Errorf("replay against a receiver with defect %s: exit %d; want 1 and %q:\n%s", tt.defect, code, tt.want, text)
		}
	}
}
