package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kycsim/kycsim/internal/testpoll"
)

func TestServeUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--addr", "0.0.0.0:0", "--db", ":memory:"}, "--control-token"},
		{[]string{"serve", "--webhook", "sumsub"}, "want PRODUCT=URL"},
		{[]string{"serve", "--webhook", "jumio-auth=http://127.0.0.1/x"}, "PRODUCT one of"},
		{[]string{"serve", "--webhook", "sumsub=ftp://x"}, "want an absolute http:// or https:// URL"},
		{[]string{"serve", "--time-scale", "0"}, "--time-scale"},
		{[]string{"serve", "--jumio-client", "nocolon"}, "ID:SECRET"},
		{[]string{"serve", "--webhook-alg", "MD5"}, "--webhook-alg"},
		{[]string{"serve", "--log-format", "xml"}, "log-format"},
		{[]string{"serve", "--sumsub-create-status", "202"}, "--sumsub-create-status"},
		{[]string{"serve", "extra"}, "unexpected argument"},
	} {
		code, _, stderr := run(t, "", tt.args...)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
}

// TestServeCommand starts `kycsim serve` in-process on a free port and
// checks the banner, a Jumio token and the shutdown on cancel.
func TestServeCommand(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	stderr := &lockedWriter{w: &strings.Builder{}}
	m := &Main{Stdin: strings.NewReader(""), Stdout: pw, Stderr: stderr}
	done := make(chan int, 1)
	go func() {
		done <- m.Run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--db", ":memory:", "--webhook-secret", "not-printed"})
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var banner []string
	for sc.Scan() {
		banner = append(banner, sc.Text())
		if strings.HasPrefix(sc.Text(), "no --webhook sumsub") {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	text := strings.Join(banner, "\n")
	if len(banner) == 0 || len(strings.Fields(banner[0])) < 4 {
		t.Fatalf("banner: %s; stderr: %s", text, stderr.String())
	}
	base := strings.Fields(banner[0])[3]
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("banner: %s", text)
	}
	for _, want := range []string{"kycsim-client:kycsim-secret (default)", "sbx:kycsim-app-token (default)", "--webhook-secret (set)"} {
		if !strings.Contains(text, want) {
			t.Errorf("banner lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "not-printed") {
		t.Errorf("the banner prints the webhook secret:\n%s", text)
	}
	req, _ := http.NewRequest("POST", base+"/oauth2/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("kycsim-client", "kycsim-secret")
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("token: %d", resp.StatusCode)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d; stderr: %s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
	if strings.Contains(stderr.String(), "not-printed") {
		t.Errorf("the logs print the webhook secret")
	}
}

// serveChildEnv makes the test binary run `kycsim serve` with the
// arguments in it (JSON), as the child the crash test kills.
const serveChildEnv = "KYCSIM_SERVE_CHILD"

func TestMain(m *testing.M) {
	if args := os.Getenv(serveChildEnv); args != "" {
		var a []string
		if err := json.Unmarshal([]byte(args), &a); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		mm := &Main{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard}
		os.Exit(mm.Run(ctx, a))
	}
	os.Exit(m.Run())
}

// crashSink is a receiver that refuses the first attempt at every
// callback (so that retries are pending) and records the rest.
type crashSink struct {
	mu   sync.Mutex
	seen map[[32]byte]int
	got  map[string]bool // subject + message
}

func (s *crashSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	key := sha256.Sum256(body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen[key]++
	if s.seen[key] == 1 {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var v struct{ Type, ApplicantID string }
	json.Unmarshal(body, &v)
	s.got[v.ApplicantID+"/"+v.Type] = true
}

func (s *crashSink) has(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got[key]
}

// TestServeSurvivesSIGKILL kills the sandbox (a child process) at random
// moments while callbacks are due and retries pending, restarts it on the
// same database, and checks that every callback of every verification
// whose creation was acknowledged arrives at least once.
func TestServeSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills the sandbox 20 times")
	}
	sink := &crashSink{seen: map[[32]byte]int{}, got: map[string]bool{}}
	recv := httptest.NewServer(sink)
	defer recv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	db := filepath.Join(t.TempDir(), "sandbox.db")
	args, _ := json.Marshal([]string{"serve", "--addr", addr, "--db", db, "--time-scale", "0.00001",
		"--webhook", "sumsub=" + recv.URL + "/sumsub", "--webhook-secret", "s3cr3t"})
	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), serveChildEnv+"="+string(args))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var err error
		if !testpoll.Until(20*time.Second, func() bool {
			var resp *http.Response
			if resp, err = http.Get("http://" + addr + "/healthz"); err == nil {
				resp.Body.Close()
			}
			return err == nil
		}) {
			cmd.Process.Kill()
			t.Fatalf("the sandbox did not start: %v", err)
		}
		return cmd
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var expected []string
	client := &http.Client{Timeout: 2 * time.Second}
	const trials = 20
	for trial := range trials {
		cmd := start()
		kill := time.AfterFunc(time.Duration(rng.IntN(150))*time.Millisecond, func() { cmd.Process.Signal(syscall.SIGKILL) })
		for i := 0; ; i++ {
			ext := fmt.Sprintf("t%d-%d-green", trial, i)
			body := `{"externalUserId":"` + ext + `"}`
			req, _ := http.NewRequest("POST", "http://"+addr+"/resources/applicants?levelName=basic", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			signSumsub(req, []byte(body))
			resp, err := client.Do(req)
			if err != nil {
				break // killed
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 201 {
				t.Fatalf("create: %d %s", resp.StatusCode, b)
			}
			var app struct{ ID string }
			json.Unmarshal(b, &app)
			for _, msg := range []string{"applicantCreated", "applicantPending", "applicantPrechecked", "applicantReviewed"} {
				expected = append(expected, app.ID+"/"+msg)
			}
			if i >= 30 {
				break
			}
		}
		kill.Stop()
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
	}
	if len(expected) == 0 {
		t.Fatal("no verification was created: the kills came too early to test anything")
	}
	cmd := start()
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	var missing []string
	if !testpoll.Until(60*time.Second, func() bool {
		missing = missing[:0]
		for _, k := range expected {
			if !sink.has(k) {
				missing = append(missing, k)
			}
		}
		return len(missing) == 0
	}) {
		for _, st := range []string{"pending", "failed", "delivered"} {
			resp, err := http.Get("http://" + addr + "/_sandbox/deliveries?limit=3&state=" + st)
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				t.Logf("%s: %.1500s", st, b)
			}
		}
		t.Fatalf("%d of %d callbacks never arrived, e.g. %s", len(missing), len(expected), strings.Join(missing[:min(5, len(missing))], ", "))
	}
	t.Logf("%d trials, %d callbacks expected, all delivered", trials, len(expected))
}

// signSumsub signs a request to the sandbox's Sumsub API with the default
// credentials.
func signSumsub(req *http.Request, body []byte) {
	ts := fmt.Sprint(time.Now().Unix())
	var b bytes.Buffer
	b.WriteString(ts + req.Method + req.URL.RequestURI())
	b.Write(body)
	req.Header.Set("X-App-Token", defaultSumsubAppToken)
	req.Header.Set("X-App-Access-Ts", ts)
	req.Header.Set("X-App-Access-Sig", hmacHex(defaultSumsubSecret, b.Bytes()))
}

// hmacHex is the hex HMAC-SHA256 of data.
func hmacHex(key string, data []byte) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(data)
	return hex.EncodeToString(m.Sum(nil))
}
