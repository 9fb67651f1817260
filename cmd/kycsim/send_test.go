package main

import (
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
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kycsim/kycsim/conformance/receiver"
	"github.com/kycsim/kycsim/simulator/delivery"
	"github.com/kycsim/kycsim/spec"
)

// referenceReceiver starts the reference receiver on a loopback port.
func referenceReceiver(t *testing.T) (*receiver.Receiver, string) {
	t.Helper()
	rc, err := receiver.New(receiver.Config{Secret: "s3cr3t"})
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
	return rc, srv.URL
}

var subjectRE = regexp.MustCompile(`\(subject ([^)]*)\)`)

// TestSendEveryMessage sends every message of every product to the
// reference receiver and checks through the probe that it acted on it.
// The reference receiver acts on the messages of the vendors' source
// documents; a newer Sumsub type beyond them must be acknowledged.
func TestSendEveryMessage(t *testing.T) {
	cat, err := spec.Default()
	if err != nil {
		t.Fatal(err)
	}
	rc, base := referenceReceiver(t)
	for _, p := range cat.Products() {
		for _, msg := range p.MessageNames() {
			args := []string{"send", p.Name, msg, "--to", base + receiver.Paths[p.Name], "--secret", "s3cr3t", "--no-retry"}
			message, _ := p.Message(msg)
			if message.BeyondSource {
				// A transaction monitoring webhook may come without an
				// applicant; this one names one.
				args = append(args, "--subject", "5c9e177b0a975a6eeccf5960")
			}
			code, out, errOut := run(t, "", args...)
			if code != 0 {
				t.Errorf("%s %s: exit %d\n%s%s", p.Name, msg, code, out, errOut)
				continue
			}
			m := subjectRE.FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("no subject in %q", out)
			}
			if message.BeyondSource {
				continue
			}
			if n, _, _ := rc.Probe(m[1]); n != 1 {
				t.Errorf("%s %s: the receiver acted on %d events for %s, want 1\n%s", p.Name, msg, n, m[1], out)
			}
		}
	}
}

// capture is a receiver that records what it got.
type capture struct {
	mu      sync.Mutex
	headers []http.Header
	bodies  [][]byte
	peers   []string
	status  int
}

func (c *capture) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	c.mu.Lock()
	c.headers, c.bodies, c.peers = append(c.headers, r.Header.Clone()), append(c.bodies, b), append(c.peers, host)
	status := c.status
	c.mu.Unlock()
	if status == 0 {
		status = 200
	}
	w.WriteHeader(status)
	w.Write([]byte(`{"ok":true}`))
}

func captureServer(t *testing.T, status int) (*capture, string) {
	c := &capture{status: status}
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	return c, srv.URL
}

// TestSendSignature checks the digest of every algorithm with an HMAC
// computed here, over the exact bytes received.
func TestSendSignature(t *testing.T) {
	for _, a := range []struct {
		name string
		h    func() hash.Hash
	}{{"HMAC_SHA1_HEX", sha1.New}, {"HMAC_SHA256_HEX", sha256.New}, {"HMAC_SHA512_HEX", sha512.New}} {
		c, url := captureServer(t, 200)
		code, out, errOut := run(t, "", "send", "sumsub", "applicantReviewed", "--to", url, "--secret", "k3y", "--alg", a.name,
			"--set", "reviewResult.reviewAnswer=RED", "--set", `reviewResult.rejectLabels=["FORGERY"]`, "--set", "reviewResult.reviewRejectType=FINAL",
			"--header", "X-Custom: yes")
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s%s", a.name, code, out, errOut)
		}
		m := hmac.New(a.h, []byte("k3y"))
		m.Write(c.bodies[0])
		want := hex.EncodeToString(m.Sum(nil))
		h := c.headers[0]
		if h.Get("X-Payload-Digest") != want || h.Get("X-Payload-Digest-Alg") != a.name {
			t.Errorf("%s: digest %s alg %s, want %s", a.name, h.Get("X-Payload-Digest"), h.Get("X-Payload-Digest-Alg"), want)
		}
		if h.Get("X-Custom") != "yes" || h.Get("Content-Type") != "application/json" {
			t.Errorf("%s: headers %v", a.name, h)
		}
		var body struct {
			ReviewResult struct {
				ReviewAnswer string   `json:"reviewAnswer"`
				RejectLabels []string `json:"rejectLabels"`
			} `json:"reviewResult"`
		}
		if err := json.Unmarshal(c.bodies[0], &body); err != nil || body.ReviewResult.ReviewAnswer != "RED" || len(body.ReviewResult.RejectLabels) != 1 {
			t.Errorf("%s: body %s (%v)", a.name, c.bodies[0], err)
		}
	}
	// Jumio callbacks are not signed.
	c, url := captureServer(t, 200)
	if code, out, _ := run(t, "", "send", "jumio-kyx", "PROCESSED", "--to", url, "--secret", "k3y"); code != 0 {
		t.Fatal(out)
	}
	if c.headers[0].Get("X-Payload-Digest") != "" {
		t.Error("a Jumio callback was signed")
	}
}

// TestSendFrom checks that --from is the source address the receiver sees.
func TestSendFrom(t *testing.T) {
	c, url := captureServer(t, 200)
	code, out, errOut := run(t, "", "send", "jumio-kyx", "PROCESSED", "--to", url, "--from", "127.0.0.2", "--forwarded-for", "34.202.241.227")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if c.peers[0] != "127.0.0.2" || c.headers[0].Get("X-Forwarded-For") != "34.202.241.227" {
		t.Errorf("receiver saw %s, X-Forwarded-For %q", c.peers[0], c.headers[0].Get("X-Forwarded-For"))
	}
	// The reference receiver refuses it: 127.0.0.2 is not allowed.
	_, base := referenceReceiver(t)
	if code, out, _ := run(t, "", "send", "jumio-kyx", "PROCESSED", "--to", base+"/jumio/kyx", "--from", "127.0.0.2", "--no-retry"); code != 1 || !strings.Contains(out, "403") {
		t.Errorf("from 127.0.0.2 to the reference receiver: exit %d\n%s", code, out)
	}
}

// TestSendRetries checks exit 1 after the retries it was told to make,
// on a scaled clock.
func TestSendRetries(t *testing.T) {
	c, url := captureServer(t, 503)
	code, out, _ := run(t, "", "send", "sumsub", "applicantCreated", "--to", url, "--retry-delays", "1s,2s", "--time-scale", "0.001")
	if code != 1 || len(c.bodies) != 3 || !strings.Contains(out, "not acknowledged after 3 attempt(s)") || !strings.Contains(out, "503 Service Unavailable") {
		t.Errorf("exit %d, %d requests\n%s", code, len(c.bodies), out)
	}
	for _, b := range c.bodies[1:] {
		if string(b) != string(c.bodies[0]) {
			t.Error("a retry changed the body")
		}
	}
	c, url = captureServer(t, 500)
	if code, _, _ := run(t, "", "send", "sumsub", "applicantCreated", "--to", url, "--no-retry"); code != 1 || len(c.bodies) != 1 {
		t.Errorf("--no-retry: exit %d, %d requests", code, len(c.bodies))
	}
}

// TestSendDeadline checks that a receiver that never answers costs one
// answer deadline, not forever.
func TestSendDeadline(t *testing.T) {
	var hung atomic.Int64
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hung.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	code, out, _ := run(t, "", "send", "sumsub", "applicantCreated", "--to", srv.URL, "--answer-timeout", "100ms", "--no-retry")
	if code != 1 || !strings.Contains(out, "no answer within the 100ms answer deadline") || hung.Load() != 1 {
		t.Errorf("exit %d\n%s", code, out)
	}
}

func TestSendDryRun(t *testing.T) {
	code, out, errOut := run(t, "", "send", "sumsub", "applicantCreated", "--dry-run", "--secret", "s")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"POST /sumsub HTTP/1.1", "Host: 127.0.0.1:9000", "Content-Type: application/json", "X-Payload-Digest-Alg: HMAC_SHA256_HEX", `"type":"applicantCreated"`} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = run(t, "", "send", "jumio-netverify", "DENIED_FRAUD", "--dry-run", "--precision", "1")
	if code != 0 || !strings.Contains(out, "Content-Type: application/x-www-form-urlencoded") || !regexp.MustCompile(`callbackDate=\d{4}-\d\d-\d\dT\d\d%3A\d\d%3A\d\d\.\dZ`).MatchString(out) {
		t.Errorf("netverify dry run, precision 1: exit %d\n%s", code, out)
	}
}

func TestSendUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"send", "sumsub", "applicantCreated"}, "--to is required"},
		{[]string{"send", "sumsub"}, "want PRODUCT MESSAGE"},
		{[]string{"send", "onfido", "x", "--dry-run"}, `unknown product "onfido"`},
		{[]string{"send", "sumsub", "applicantExploded", "--dry-run"}, "unknown sumsub message"},
		{[]string{"send", "jumio-kyx", "PROCESSED", "--dry-run", "--precision", "4"}, "--precision 4"},
		{[]string{"send", "sumsub", "applicantCreated", "--dry-run", "--alg", "HMAC_MD5_HEX"}, "--alg"},
		{[]string{"send", "jumio-kyx", "PROCESSED", "--dry-run", "--from", "10.0.0.1"}, "not a loopback address"},
		{[]string{"send", "jumio-kyx", "PROCESSED", "--dry-run", "--header", "bad header"}, "--header"},
		{[]string{"send", "jumio-kyx", "PROCESSED", "--dry-run", "--set", "novalue"}, "want path=value"},
		{[]string{"send", "jumio-kyx", "PROCESSED", "--dry-run", "--set", "workflowExecution.status=DONE"}, "break the contract"},
		{[]string{"send", "jumio-kyx", "PROCESSED", "--dry-run", "--unset", "no.such.field"}, "--unset"},
		{[]string{"send", "jumio-kyx", "PROCESSED", "--dry-run", "--raw-body", "x.json", "--set", "a=b"}, "cannot be combined"},
		{[]string{"send", "jumio-kyx", "PROCESSED", "--dry-run", "--retry-delays", "1x"}, "--retry-delays"},
		{[]string{"send", "jumio-kyx", "PROCESSED", "--to", "ftp://127.0.0.1/"}, "want an absolute http:// or https:// URL"},
		{[]string{"send", "jumio-kyx", "PROCESSED", "--dry-run", "--time-scale", "0"}, "--time-scale"},
	} {
		code, _, stderr := run(t, "", tt.args...)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
	// --lax sends a payload that breaks the contract, and says so.
	c, url := captureServer(t, 200)
	code, _, stderr := run(t, "", "send", "jumio-kyx", "PROCESSED", "--to", url, "--lax", "--set", "workflowExecution.status=DONE")
	if code != 0 || !strings.Contains(stderr, `"DONE" is not one of`) || !strings.Contains(string(c.bodies[0]), `"status":"DONE"`) {
		t.Errorf("--lax: exit %d, stderr %q", code, stderr)
	}
}

// hostileBody is a receiver's answer that tries to clear the screen, write
// the clipboard (OSC 52), and slip in NUL, VT, C1 CSI, U+FFFE, a bidi
// override and a byte that is not UTF-8.
const hostileBody = "\x1b[2J\x1b]52;c;ZXZpbA==\x07 nul\x00 vt\x0b csi\u009b31m \ufffe \u202e bad\xff <script>alert(1)</script> ]]>\r\nline 2"

// terminalControls returns the characters in s a terminal could act on.
func terminalControls(s string) []string {
	var bad []string
	for i, r := range s {
		if (r < 0x20 && r != '\n' && r != '\t') || (r >= 0x7f && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) || (r == utf8.RuneError && !strings.HasPrefix(s[i:], "\ufffd")) {
			bad = append(bad, fmt.Sprintf("%q at %d", r, i))
		}
	}
	return bad
}

// TestSendHostileAnswer checks that what a hostile receiver answers is
// shown escaped, never as raw control bytes.
func TestSendHostileAnswer(t *testing.T) {
	if len(terminalControls(hostileBody)) < 9 {
		t.Fatal("terminalControls misses the hostile body's controls")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		io.WriteString(w, hostileBody)
	}))
	defer srv.Close()
	code, out, errOut := run(t, "", "send", "sumsub", "applicantCreated", "--to", srv.URL, "--no-retry")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if bad := terminalControls(out); len(bad) > 0 {
		t.Errorf("raw controls %v in\n%s", bad, out)
	}
	for _, want := range []string{`\x1b[2J\x1b]52;c;ZXZpbA==\x07 nul\x00 vt\x0b csi\u009b31m \ufffe \u202e bad\xff <script>`, "]]> line 2"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
}

func TestFirstBytes(t *testing.T) {
	for _, tt := range []struct {
		in   string
		n    int
		want string
	}{
		{"{\n  \"ok\": true\n}\n", 120, `{ "ok": true }`},
		{"héllo", 2, "h…"},                           // not into é
		{"\xff\xff\xff\xff\xff", 3, `\xff\xff\xff…`}, // invalid bytes are not backed over
		{"a\x1b[2Jb", 120, `a\x1b[2Jb`},
		{"\x0b\x0c\u0085", 120, `\x0b\x0c\u0085`},
	} {
		if got := firstBytes([]byte(tt.in), tt.n); got != tt.want {
			t.Errorf("firstBytes(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

// fixClock makes send and run date their events by a fixed time for the
// test.
func fixClock(t *testing.T) time.Time {
	t.Helper()
	at := time.Date(2026, 5, 30, 12, 0, 0, 987654321, time.UTC)
	oldSend, oldRun := sendClock, runClock
	sendClock = func() time.Time { return at }
	runClock = func(float64) delivery.Clock { return fixedClock{at} }
	t.Cleanup(func() { sendClock, runClock = oldSend, oldRun })
	return at
}

// fixedClock is a clock that never moves: waits end at once.
type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

func (c fixedClock) Sleep(ctx context.Context, d time.Duration) error { return ctx.Err() }

var seedLine = regexp.MustCompile(`(?m)^# seed (\d+)$`)

// TestSendSeed checks that a seed and a fixed clock build the same bytes,
// that another seed does not, and that the seed drawn when none is given
// is printed and builds the same bytes again.
func TestSendSeed(t *testing.T) {
	fixClock(t)
	for _, pm := range [][]string{{"sumsub", "applicantReviewed", "--nulls"}, {"jumio-netverify", "APPROVED_VERIFIED"}, {"jumio-docverify", "EXTRACTED", "--form", "table"}} {
		dry := func(extra ...string) string {
			t.Helper()
			code, out, errOut := run(t, "", append(append([]string{"send"}, pm...), append([]string{"--dry-run"}, extra...)...)...)
			if code != 0 {
				t.Fatalf("%v: exit %d\n%s", pm, code, errOut)
			}
			return out
		}
		a, b, c := dry("--seed", "42"), dry("--seed", "42"), dry("--seed", "43")
		if a != b {
			t.Errorf("%v: --seed 42 twice:\n%s\n%s", pm, a, b)
		}
		if a == c || !strings.HasSuffix(a, "# seed 42\n") {
			t.Errorf("%v: --seed 43 built what 42 did, or no seed line:\n%s", pm, a)
		}
		random := dry()
		m := seedLine.FindStringSubmatch(random)
		if m == nil {
			t.Fatalf("%v: no seed printed:\n%s", pm, random)
		}
		if again := dry("--seed", m[1]); again != random {
			t.Errorf("%v: the printed seed %s does not build the same request:\n%s\n%s", pm, m[1], random, again)
		}
	}
	// A delivery prints the seed too.
	_, url := captureServer(t, 200)
	if code, out, _ := run(t, "", "send", "jumio-kyx", "PROCESSED", "--to", url, "--seed", "5"); code != 0 || !strings.Contains(out, "seed 5 (--seed 5 builds the same payload again)") {
		t.Errorf("exit %d\n%s", code, out)
	}
	if code, _, stderr := run(t, "", "send", "jumio-kyx", "PROCESSED", "--dry-run", "--seed", "-1"); code != 2 || !strings.Contains(stderr, `--seed "-1"`) {
		t.Errorf("--seed -1: exit %d %s", code, stderr)
	}
}

// TestSendForms checks the real and table forms, the string sandboxMode
// and explicit nulls.
func TestSendForms(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"jumio-netverify", "APPROVED_VERIFIED"}, []string{"validity%22%3Atrue"}},
		{[]string{"jumio-netverify", "APPROVED_VERIFIED", "--form", "table"}, []string{"validity%22%3A%22TRUE%22"}},
		{[]string{"jumio-auth", "PASSED"}, []string{"idScanImageFace=http%3A%2F%2F"}},
		{[]string{"jumio-auth", "PASSED", "--form", "table"}, []string{"idScanImageFace=%5B%22http"}},
		{[]string{"sumsub", "applicantCreated"}, []string{`"sandboxMode":false`, `"applicantType":"individual"`, `"createdAt":"`, `"clientId":"`}},
		{[]string{"sumsub", "applicantCreated", "--sandbox-mode", "string", "--nulls"}, []string{`"sandboxMode":"false"`, `"applicantActionId":null`, `"videoIdentReviewStatus":null`}},
	} {
		code, out, errOut := run(t, "", append(append([]string{"send"}, tt.args...), "--dry-run")...)
		if code != 0 {
			t.Errorf("%v: exit %d %s", tt.args, code, errOut)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v: the request lacks %s:\n%s", tt.args, w, out)
			}
		}
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"send", "sumsub", "applicantCreated", "--dry-run", "--form", "strict"}, `--form "strict" is not one of real, table`},
		{[]string{"send", "jumio-kyx", "PROCESSED", "--dry-run", "--nulls"}, "nulls"},
	} {
		if code, _, stderr := run(t, "", tt.args...); code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
	// The help says what the default is.
	_, out, errOut := run(t, "", "send", "-h")
	help := out + errOut
	for _, w := range []string{`"bool" (default: as the attribute table and real deliveries)`, "-form", "-nulls", "-seed"} {
		if !strings.Contains(help, w) {
			t.Errorf("send -h lacks %q:\n%s", w, help)
		}
	}
}

// TestSendUnknownField checks that an override naming no field of the
// message is a usage error that suggests the nearest field, unless --lax.
func TestSendUnknownField(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"sumsub", "applicantReviewed", "--set", "reviewResult.reviewAnswr=RED"},
			`--set reviewResult.reviewAnswr=RED: "reviewResult.reviewAnswr" names no field of sumsub applicantReviewed; did you mean "reviewResult.reviewAnswer"?; --lax sends it anyway`},
		{[]string{"sumsub", "applicantReviewed", "--set", `rejectLabels=["SPAM"]`}, `did you mean "reviewResult.rejectLabels"?`},
		{[]string{"jumio-kyx", "PROCESSED", "--unset", "/workflowExecution/stauts"}, `--unset /workflowExecution/stauts: "/workflowExecution/stauts" names no field of jumio-kyx PROCESSED; did you mean "/workflowExecution/status"?`},
		{[]string{"jumio-netverify", "APPROVED_VERIFIED", "--set", "identityVerification.validty=false"}, `did you mean "identityVerification.validity"?`},
		{[]string{"jumio-docverify", "UPLOADED", "--set", "someNewField=1"}, `"someNewField" names no field of jumio-docverify UPLOADED (kycsim spec schema jumio-docverify UPLOADED lists them)`},
	} {
		code, _, stderr := run(t, "", append(append([]string{"send"}, tt.args...), "--dry-run")...)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
	// Paths into JSON-in-form fields and known fields pass.
	for _, args := range [][]string{
		{"jumio-netverify", "APPROVED_VERIFIED", "--set", "identityVerification.validity=false"},
		{"jumio-docverify", "EXTRACTED", "--set", "document.status=EXTRACTED", "--set", "transaction.customerId=c-1"},
		{"sumsub", "applicantReviewed", "--set", "sourceKey=eu", "--set", "reviewResult.reviewAnswer=RED", "--set", `reviewResult.rejectLabels=["SPAM"]`,
			"--set", "/reviewResult/rejectLabels/-=FORGERY", "--set", "reviewResult.reviewRejectType=RETRY"},
	} {
		if code, out, stderr := run(t, "", append(append([]string{"send"}, args...), "--dry-run")...); code != 0 {
			t.Errorf("%v: exit %d\n%s%s", args, code, out, stderr)
		}
	}
	// --lax sends it and says so.
	c, url := captureServer(t, 200)
	code, _, stderr := run(t, "", "send", "sumsub", "applicantReviewed", "--to", url, "--lax", "--set", "someNewField=1")
	if code != 0 || !strings.Contains(stderr, `lax: --set someNewField=1: "someNewField" names no field`) || !strings.Contains(string(c.bodies[0]), `"someNewField":1`) {
		t.Errorf("--lax: exit %d, stderr %q", code, stderr)
	}
}
