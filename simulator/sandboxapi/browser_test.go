//go:build unix

package sandboxapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kycsim/kycsim/simulator/sandboxapi"
)

// The outcome page in a real browser: headless Chromium driven over the
// Chrome DevTools Protocol on a pipe (--remote-debugging-pipe), no Go
// dependency. Chromium runs in its own process group, killed when the
// test ends; every wait is bounded. All of Chromium's traffic goes
// through a loopback proxy that passes on requests for the sandbox and
// refuses (and records) everything else, so Chromium's own background
// traffic never leaves the machine.

// TestOutcomePageInChromium opens a KYX account's web.href in Chromium,
// picks REJECTED with a reason and clicks Submit, and checks that the
// integrator's receiver gets PROCESSED and the retrieval API answers
// REJECTED.
func TestOutcomePageInChromium(t *testing.T) {
	bin := chromiumBinary(t)
	sink := newSink(t)
	_, base := startSandbox(t, sink, func(o *sandboxapi.Options) { o.TimeScale = 0.01 })
	tok := jumioToken(t, base)
	acc := createAccount(t, base, tok, map[string]any{"customerInternalReference": "browser", "workflowDefinition": map[string]any{"key": 1},
		"callbackUrl": sink.srv.URL + "/jumio", "tokenLifetime": "60d"})
	href := acc["web"].(map[string]any)["href"].(string)
	we := acc["workflowExecution"].(map[string]any)["id"].(string)

	dir := sandboxArtifacts(t)
	proxy := newBrowserProxy(t, base)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	page := startChromium(ctx, t, bin, proxy.srv.URL)

	// Open the page: that starts the acquisition.
	var nav struct{ ErrorText string }
	if err := page.call(ctx, "Page.navigate", map[string]any{"url": href}, &nav); err != nil || nav.ErrorText != "" {
		t.Fatalf("navigate to %s: %v %s", href, err, nav.ErrorText)
	}
	page.waitFor(ctx, t, "the form", `document.readyState === "complete" && location.href === `+jsString(href)+` && !!document.querySelector("form#pick")`)
	sink.wait(t, "ACQUISITION_STARTED", func(cs []gotCallback) bool { return len(cs) == 1 && has(cs[0], "ACQUISITION_STARTED", we) })

	// Pick REJECTED and a reason as a person would: a mouse click on the
	// radio button, a choice in the list.
	page.click(ctx, t, `input[name="outcome"][value="REJECTED"]`)
	if !page.evalBool(ctx, t, `document.querySelector('input[name="outcome"]:checked').value === "REJECTED"`) {
		t.Fatalf("the click did not check REJECTED: %s", page.evalString(ctx, t, `document.querySelector('input[name="outcome"]:checked').value`))
	}
	page.evalString(ctx, t, `(() => { const s = document.querySelector('select[name="reason"]'); s.focus(); s.value = "FRAUDSTER";
		s.dispatchEvent(new Event("input", {bubbles: true})); s.dispatchEvent(new Event("change", {bubbles: true})); return s.value })()`)
	if got := page.evalString(ctx, t, `document.querySelector('select[name="reason"]').value`); got != "FRAUDSTER" {
		t.Fatalf("reason %q, want FRAUDSTER", got)
	}
	t.Logf("before the click: %s", page.screenshot(ctx, t, filepath.Join(dir, "kyx-page-before.png")))
	page.checkWidths(ctx, t, dir, "kyx-page-form")

	// Submit: the browser posts the form and shows the result page.
	page.click(ctx, t, `button[type="submit"]`)
	page.waitFor(ctx, t, "the result page", `document.readyState === "complete" && location.href === `+jsString(href)+` && !!document.querySelector("#outcome")`)
	t.Logf("after the click: %s", page.screenshot(ctx, t, filepath.Join(dir, "kyx-page-after.png")))
	page.waitFor(ctx, t, "a callback in the table", `document.querySelectorAll("#deliveries td").length > 0`)
	page.checkWidths(ctx, t, dir, "kyx-page-result")
	if got := page.evalString(ctx, t, `document.querySelector("#outcome").textContent`); !strings.Contains(got, "REJECTED") {
		t.Errorf("the result page says %q, want REJECTED", got)
	}
	if page.evalBool(ctx, t, `!!document.querySelector("form#pick")`) {
		t.Error("the result page still offers the form")
	}

	// The browser, not the test, posted the form.
	if got := proxy.forwarded(); !contains(got, "GET /web/"+we) || !contains(got, "POST /web/"+we) {
		t.Errorf("the browser's requests to the sandbox: %q, want GET and POST /web/%s", got, we)
	}
	if got := proxy.refusedFromPage(); len(got) > 0 {
		t.Errorf("the page asked for something other than the sandbox: %q", got)
	}

	got := sink.wait(t, "PROCESSED", func(cs []gotCallback) bool { return anyHas(cs, `"PROCESSED"`, we) })
	started := 0
	for _, c := range got {
		if has(c, "ACQUISITION_STARTED") {
			started++
		}
	}
	if started != 1 {
		t.Errorf("%d ACQUISITION_STARTED callbacks, want 1", started)
	}
	req := newRequest(t, "GET", base+"/api/v1/workflow-executions/"+we, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("User-Agent", testUA)
	code, det := call(t, req)
	d, _ := det["decision"].(map[string]any)
	if code != 200 || d == nil || d["type"] != "REJECTED" {
		t.Fatalf("retrieval: %d %v, want decision.type REJECTED", code, det)
	}
	if details, _ := d["details"].(map[string]any); details == nil || details["label"] != "FRAUDSTER" {
		t.Errorf("decision: %v, want label FRAUDSTER", d)
	}
}

// chromiumBinary returns the Chromium to test with, or skips the test
// when there is none on PATH.
func chromiumBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("KYCSIM_CHROMIUM"); p != "" {
		bin, err := exec.LookPath(p)
		if err != nil {
			t.Fatalf("KYCSIM_CHROMIUM: %v", err) // asked for, so no reason to skip
		}
		return bin
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome", "headless_shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("SKIP: none of chromium, chromium-browser, google-chrome, chrome, headless_shell is on PATH: apt-get install -y chromium, or set KYCSIM_CHROMIUM to one")
	return ""
}

// sandboxArtifacts is where the screenshots go: $KYCSIM_ARTIFACTS/sandbox-page
// when set (kept), a test directory otherwise (removed after the test).
func sandboxArtifacts(t *testing.T) string {
	t.Helper()
	d := os.Getenv("KYCSIM_ARTIFACTS")
	if d == "" {
		d = t.TempDir()
	} else {
		d = filepath.Join(d, "sandbox-page")
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshots in %s", d)
	return d
}

// browserProxy is the proxy Chromium must use: it passes on requests
// for the sandbox and refuses every other one, recording both.
type browserProxy struct {
	srv     *httptest.Server
	target  string // host:port of the sandbox
	tr      *http.Transport
	mu      sync.Mutex
	fwd     []string
	refused []string
}

func newBrowserProxy(t *testing.T, base string) *browserProxy {
	p := &browserProxy{target: strings.TrimPrefix(base, "http://"), tr: &http.Transport{Proxy: nil}}
	p.srv = httptest.NewServer(p)
	t.Cleanup(func() {
		p.srv.Close()
		p.tr.CloseIdleConnections()
	})
	return p
}

func (p *browserProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	if r.URL.Host != "" {
		host = r.URL.Host
	}
	if r.Method == http.MethodConnect || r.URL.Scheme != "http" || host != p.target {
		p.mu.Lock()
		p.refused = append(p.refused, r.Method+" "+host+r.URL.RequestURI())
		p.mu.Unlock()
		http.Error(w, "kycsim test proxy: no network", http.StatusBadGateway)
		return
	}
	p.mu.Lock()
	p.fwd = append(p.fwd, r.Method+" "+r.URL.Path)
	p.mu.Unlock()
	out := r.Clone(r.Context())
	out.RequestURI = ""
	out.Header.Del("Proxy-Connection")
	out.Header.Del("Proxy-Authorization")
	resp, err := p.tr.RoundTrip(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

func (p *browserProxy) forwarded() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.fwd...)
}

// browserChatter matches the requests Chromium makes on its own (time,
// accounts, component updates): they come from the browser, not from the
// page.
var browserChatter = regexp.MustCompile(`^[A-Z]+ ([a-z0-9.-]+\.)?(google\.com|googleapis\.com|gstatic\.com|gvt1\.com|googleusercontent\.com)(:\d+)?[/ ]?`)

// refusedFromPage returns the refused requests that did not come from
// Chromium itself.
func (p *browserProxy) refusedFromPage() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, s := range p.refused {
		if !browserChatter.MatchString(s) {
			out = append(out, s)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// lockedBuffer collects Chromium's stderr, written by exec's goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.b.String()
	if len(s) > 3000 {
		s = "..." + s[len(s)-3000:]
	}
	return s
}

// cdpMessage is one message of the DevTools protocol: a command, its
// answer (by id) or an event (by method).
type cdpMessage struct {
	ID        int64           `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// cdpConn is a DevTools connection over Chromium's pipes: it writes
// NUL-terminated commands to fd 3 and a reader goroutine hands the
// answers read from fd 4 to their callers by id.
type cdpConn struct {
	w       *os.File
	wmu     sync.Mutex
	mu      sync.Mutex
	next    int64
	pending map[int64]chan cdpMessage
	events  []string // the events seen, for a failure's log
	done    chan struct{}
	readErr error
}

func (c *cdpConn) read(r io.Reader) {
	defer close(c.done)
	br := bufio.NewReader(r)
	for {
		b, err := br.ReadBytes(0)
		if err != nil {
			c.mu.Lock()
			c.readErr = err
			c.mu.Unlock()
			return
		}
		var m cdpMessage
		if err := json.Unmarshal(b[:len(b)-1], &m); err != nil {
			c.mu.Lock()
			c.readErr = fmt.Errorf("bad message %q: %v", b, err)
			c.mu.Unlock()
			return
		}
		c.mu.Lock()
		if m.ID != 0 {
			if ch := c.pending[m.ID]; ch != nil {
				ch <- m // buffered: one answer per id
				delete(c.pending, m.ID)
			}
		} else if len(c.events) < 500 {
			ev := m.Method
			if m.Method == "Runtime.exceptionThrown" || m.Method == "Runtime.consoleAPICalled" || m.Method == "Inspector.detached" || m.Method == "Inspector.targetCrashed" {
				ev += " " + string(m.Params)
			}
			c.events = append(c.events, ev)
		}
		c.mu.Unlock()
	}
}

// call sends a command (to a session when one is given) and decodes
// its result; it gives up when ctx ends or Chromium goes away.
func (c *cdpConn) call(ctx context.Context, session, method string, params, result any) error {
	if params == nil {
		params = struct{}{}
	}
	c.mu.Lock()
	c.next++
	id := c.next
	ch := make(chan cdpMessage, 1)
	c.pending[id] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
	}()
	p, err := json.Marshal(params)
	if err != nil {
		return err
	}
	msg, err := json.Marshal(cdpMessage{ID: id, Method: method, SessionID: session, Params: p})
	if err != nil {
		return err
	}
	c.wmu.Lock()
	if dl, ok := ctx.Deadline(); ok {
		c.w.SetWriteDeadline(dl)
	}
	_, err = c.w.Write(append(msg, 0))
	c.wmu.Unlock()
	if err != nil {
		return fmt.Errorf("%s: write: %w", method, err)
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			return fmt.Errorf("%s: %d %s", method, m.Error.Code, m.Error.Message)
		}
		if result != nil {
			if err := json.Unmarshal(m.Result, result); err != nil {
				return fmt.Errorf("%s: result %s: %v", method, m.Result, err)
			}
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", method, ctx.Err())
	case <-c.done:
		c.mu.Lock()
		defer c.mu.Unlock()
		return fmt.Errorf("%s: chromium closed the pipe: %v", method, c.readErr)
	}
}

// cdpPage is one tab of Chromium, attached with a flat session.
type cdpPage struct {
	c       *cdpConn
	session string
}

func (p *cdpPage) call(ctx context.Context, method string, params, result any) error {
	return p.c.call(ctx, p.session, method, params, result)
}

// startChromium starts a headless Chromium on a fresh profile, behind
// the proxy, opens a tab and attaches to it. Chromium and everything it
// started are killed when the test ends.
func startChromium(ctx context.Context, t *testing.T, bin, proxy string) *cdpPage {
	t.Helper()
	// Chromium reads commands from fd 3 and writes answers to fd 4.
	cmdR, cmdW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions", "--disable-default-apps",
		"--mute-audio", "--hide-scrollbars", "--window-size=1000,900", "--remote-debugging-pipe", "--user-data-dir="+t.TempDir(),
		"--proxy-server="+proxy, "--proxy-bypass-list=<-loopback>", "about:blank")
	cmd.ExtraFiles = []*os.File{cmdR, outW}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	cmdR.Close()
	outW.Close()
	c := &cdpConn{w: cmdW, pending: map[int64]chan cdpMessage{}, done: make(chan struct{})}
	go c.read(outR)
	t.Cleanup(func() {
		if t.Failed() {
			c.mu.Lock()
			t.Logf("DevTools events: %s", strings.Join(c.events, "\n"))
			c.mu.Unlock()
			t.Logf("chromium's stderr:\n%s", stderr.tail())
		}
		// Ask politely, then kill the whole group (renderers, zygotes) anyway.
		bctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		c.call(bctx, "", "Browser.close", nil, nil)
		cancel()
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmdW.Close()
		waited := make(chan error, 1)
		go func() { waited <- cmd.Wait() }()
		select {
		case <-waited:
		case <-time.After(10 * time.Second):
			t.Errorf("chromium (pid %d) did not exit after SIGKILL", cmd.Process.Pid)
		}
		outR.Close()
		select {
		case <-c.done:
		case <-time.After(5 * time.Second):
			t.Error("the DevTools reader did not stop")
		}
	})

	var ver struct{ Product string }
	if err := c.call(ctx, "", "Browser.getVersion", nil, &ver); err != nil {
		t.Fatalf("chromium did not answer: %v\n%s", err, stderr.tail())
	}
	t.Logf("%s (%s) over --remote-debugging-pipe", ver.Product, bin)
	var target struct{ TargetID string }
	if err := c.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &target); err != nil {
		t.Fatal(err)
	}
	var att struct{ SessionID string }
	if err := c.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &att); err != nil {
		t.Fatal(err)
	}
	p := &cdpPage{c: c, session: att.SessionID}
	for _, m := range []string{"Page.enable", "Runtime.enable"} {
		if err := p.call(ctx, m, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.call(ctx, "Emulation.setDeviceMetricsOverride", map[string]any{"width": 1000, "height": 900, "deviceScaleFactor": 1, "mobile": false}, nil); err != nil {
		t.Fatal(err)
	}
	return p
}

// eval evaluates an expression in the page and returns its value.
func (p *cdpPage) eval(ctx context.Context, expr string) (json.RawMessage, error) {
	var out struct {
		Result struct {
			Type  string          `json:"type"`
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception *struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	if err := p.call(ctx, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}, &out); err != nil {
		return nil, err
	}
	if e := out.ExceptionDetails; e != nil {
		msg := e.Text
		if e.Exception != nil {
			msg += " " + e.Exception.Description
		}
		return nil, errors.New(msg)
	}
	return out.Result.Value, nil
}

func (p *cdpPage) evalString(ctx context.Context, t *testing.T, expr string) string {
	t.Helper()
	v, err := p.eval(ctx, expr)
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		t.Fatalf("%s = %s, not a string", expr, v)
	}
	return s
}

func (p *cdpPage) evalBool(ctx context.Context, t *testing.T, expr string) bool {
	t.Helper()
	v, err := p.eval(ctx, expr)
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return string(v) == "true"
}

// waitFor polls the page until cond holds (errors while the page
// navigates count as not yet), for at most 15 s.
func (p *cdpPage) waitFor(ctx context.Context, t *testing.T, what, cond string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var last string
	for {
		cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
		v, err := p.eval(cctx, cond)
		ccancel()
		if err == nil && string(v) == "true" {
			return
		}
		last = fmt.Sprintf("%s %v", v, err)
		select {
		case <-ctx.Done():
			loc, _ := p.eval(context.Background(), "location.href + ' ' + document.readyState + ' ' + document.body.innerText.slice(0, 500)")
			t.Fatalf("waited for %s: %v (last: %s); the page: %s", what, ctx.Err(), last, loc)
		case <-p.c.done:
			t.Fatalf("waited for %s: chromium went away", what)
		case <-tick.C:
		}
	}
}

// click clicks the middle of an element with the mouse, as a person
// would: trusted pointer events, not element.click().
func (p *cdpPage) click(ctx context.Context, t *testing.T, selector string) {
	t.Helper()
	v, err := p.eval(ctx, `(() => { const e = document.querySelector(`+jsString(selector)+`); if (!e) return null;
		e.scrollIntoView({block: "center"}); const r = e.getBoundingClientRect(); return {x: r.x + r.width/2, y: r.y + r.height/2, w: r.width, h: r.height} })()`)
	if err != nil {
		t.Fatalf("find %s: %v", selector, err)
	}
	var at struct{ X, Y, W, H float64 }
	if string(v) == "null" || json.Unmarshal(v, &at) != nil || at.W == 0 || at.H == 0 {
		t.Fatalf("no visible %s in the page: %s", selector, v)
	}
	for _, ev := range []map[string]any{
		{"type": "mouseMoved", "x": at.X, "y": at.Y},
		{"type": "mousePressed", "x": at.X, "y": at.Y, "button": "left", "buttons": 1, "clickCount": 1},
		{"type": "mouseReleased", "x": at.X, "y": at.Y, "button": "left", "buttons": 0, "clickCount": 1},
	} {
		if err := p.call(ctx, "Input.dispatchMouseEvent", ev, nil); err != nil {
			t.Fatalf("click %s: %v", selector, err)
		}
	}
}

// checkWidths shows the page at a desktop's and a phone's width (1280 and
// 375 px), saves a screenshot of each, and checks that nothing sticks out
// sideways: the page does not scroll, and every cell of the callbacks
// table is inside the viewport. It leaves the page at its first size.
func (p *cdpPage) checkWidths(ctx context.Context, t *testing.T, dir, name string) {
	t.Helper()
	for _, w := range []int{1280, 375} {
		if err := p.call(ctx, "Emulation.setDeviceMetricsOverride", map[string]any{"width": w, "height": 800, "deviceScaleFactor": 1, "mobile": w < 600}, nil); err != nil {
			t.Fatal(err)
		}
		p.waitFor(ctx, t, fmt.Sprintf("the layout at %d px", w), fmt.Sprintf(`document.documentElement.clientWidth === %d`, w))
		t.Logf("%d px: %s", w, p.screenshot(ctx, t, filepath.Join(dir, fmt.Sprintf("%s-%dx800.png", name, w))))
		got := p.evalString(ctx, t, `(() => {
			const de = document.documentElement, out = [];
			if (de.scrollWidth > de.clientWidth) out.push("the page is " + de.scrollWidth + " px wide");
			for (const e of document.querySelectorAll("#deliveries td, #deliveries th, form, select, code")) {
				const r = e.getBoundingClientRect();
				if (r.width > 0 && (r.right > de.clientWidth + 0.5 || r.left < -0.5)) out.push(e.tagName + " " + JSON.stringify(e.textContent.slice(0, 30)) + " spans " + Math.round(r.left) + ".." + Math.round(r.right));
			}
			return out.join("; ") })()`)
		if got != "" {
			t.Errorf("%s at %d px: %s", name, w, got)
		}
	}
	if err := p.call(ctx, "Emulation.setDeviceMetricsOverride", map[string]any{"width": 1000, "height": 900, "deviceScaleFactor": 1, "mobile": false}, nil); err != nil {
		t.Fatal(err)
	}
}

// screenshot saves a PNG of the page, checks that it has something on
// it, and returns its path.
func (p *cdpPage) screenshot(ctx context.Context, t *testing.T, path string) string {
	t.Helper()
	var shot struct{ Data string }
	if err := p.call(ctx, "Page.captureScreenshot", map[string]any{"format": "png"}, &shot); err != nil {
		t.Fatal(err)
	}
	b, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	inked, bounds := 0, img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y += 2 {
		for x := bounds.Min.X; x < bounds.Max.X; x += 2 {
			if r, g, bl, _ := img.At(x, y).RGBA(); r < 0xe000 || g < 0xe000 || bl < 0xe000 {
				inked++
			}
		}
	}
	if inked*4 < bounds.Dx()*bounds.Dy()/200 {
		t.Errorf("%s is blank (%d sampled pixels inked)", path, inked)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
