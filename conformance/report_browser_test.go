//go:build unix

package conformance

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kycsim/kycsim/scenarios"
	"github.com/kycsim/kycsim/simulator/delivery"
)

// The HTML report in a real browser: headless Chromium, driven by its
// command line (--screenshot, --dump-dom), each run bounded by a timeout
// and killed with its whole process group. Every run goes through a
// loopback proxy that records what the browser asks for, so that the
// page is seen to make no request, and Chromium's own background traffic
// never leaves the machine.

// chromiumTimeout bounds one Chromium run.
const chromiumTimeout = 60 * time.Second

// findChromium returns the Chromium (or Chrome) to test with: the first
// of the usual names on PATH.
func findChromium() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome", "headless_shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("none of chromium, chromium-browser, google-chrome, chrome, headless_shell is on PATH")
}

// artifactDir is where the screenshots go: $KYCSIM_ARTIFACTS/html-report
// when set (kept), a test directory otherwise (removed after the test).
func artifactDir(t *testing.T) string {
	t.Helper()
	d := os.Getenv("KYCSIM_ARTIFACTS")
	if d == "" {
		return t.TempDir()
	}
	d = filepath.Join(d, "html-report")
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

// requestLog records what a browser asked the proxy for.
type requestLog struct {
	mu   sync.Mutex
	seen []string
}

func (l *requestLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	if r.URL.Host != "" {
		host = r.URL.Host
	}
	l.mu.Lock()
	l.seen = append(l.seen, r.Method+" "+host+r.URL.RequestURI())
	l.mu.Unlock()
	http.Error(w, "kycsim test proxy: no network", http.StatusBadGateway)
}

// chromeChatter matches the requests Chromium makes on its own (time,
// accounts, component updates): they come from the browser, not from the
// page.
var chromeChatter = regexp.MustCompile(`^[A-Z]+ ([a-z0-9.-]+\.)?(google\.com|googleapis\.com|gstatic\.com|gvt1\.com|googleusercontent\.com)(:\d+)?[/ ]?`)

// fromPages returns the requests that did not come from Chromium itself.
func (l *requestLog) fromPages() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, s := range l.seen {
		if !chromeChatter.MatchString(s) {
			out = append(out, s)
		}
	}
	return out
}

// browser runs Chromium against pages in a directory.
type browser struct {
	bin, dir, proxy string
}

// run runs Chromium once with the given arguments and returns what it
// wrote on stdout; it fails the test when Chromium fails or outlives
// chromiumTimeout, and kills whatever Chromium left running.
func (b browser) run(t *testing.T, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), chromiumTimeout)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions", "--disable-default-apps",
		"--mute-audio", "--hide-scrollbars", "--user-data-dir=" + t.TempDir(),
		"--proxy-server=" + b.proxy, "--proxy-bypass-list=<-loopback>"}
	cmd := exec.CommandContext(ctx, b.bin, append(base, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // the group is ours: renderers, zygotes
	}
	if ctx.Err() != nil {
		t.Fatalf("chromium %s: killed after %s\n%s", strings.Join(args, " "), chromiumTimeout, tail(stderr.String()))
	}
	if err != nil {
		t.Fatalf("chromium %s: %v\n%s", strings.Join(args, " "), err, tail(stderr.String()))
	}
	return stdout.Bytes()
}

func tail(s string) string {
	if len(s) > 3000 {
		return "..." + s[len(s)-3000:]
	}
	return s
}

// url returns the file URL of a page in the browser's directory.
func (b browser) url(name, rest string) string {
	return (&url.URL{Scheme: "file", Path: filepath.Join(b.dir, name)}).String() + rest
}

// dom loads a page and returns its elements once its script has run.
func (b browser) dom(t *testing.T, page string, args ...string) []htmlElement {
	t.Helper()
	out := b.run(t, append(args, "--dump-dom", page)...)
	if !bytes.Contains(out, []byte("</html>")) {
		t.Fatalf("no DOM for %s:\n%s", page, out)
	}
	return parseHTML(t, out)
}

// screenshot saves a screenshot of a page at a window size, checks that
// it is a PNG of that size with something on it, and returns its path.
func (b browser) screenshot(t *testing.T, page, file string, w, h int) string {
	t.Helper()
	path := filepath.Join(b.dir, file)
	b.run(t, "--screenshot="+path, fmt.Sprintf("--window-size=%d,%d", w, h), page)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if s := img.Bounds().Size(); s.X != w || s.Y != h {
		t.Errorf("%s is %dx%d, want %dx%d", path, s.X, s.Y, w, h)
	}
	inked := 0
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y += 2 {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x += 2 {
			if r, g, bl, _ := img.At(x, y).RGBA(); r < 0xe000 || g < 0xe000 || bl < 0xe000 {
				inked++
			}
		}
	}
	if inked*4 < w*h/100 {
		t.Errorf("%s is blank (%d of %d sampled pixels inked)", path, inked, w*h/4)
	}
	return path
}

// cases returns the case elements of a DOM by id, and which are hidden.
func cases(els []htmlElement) (outcome map[string]string, hidden map[string]bool) {
	outcome, hidden = map[string]string{}, map[string]bool{}
	for _, e := range els {
		if e.Name == "article" && strings.Contains(e.Attr["class"], "case") {
			outcome[e.Attr["id"]] = e.Attr["data-outcome"]
			_, hidden[e.Attr["id"]] = e.Attr["hidden"]
		}
	}
	return outcome, hidden
}

func byID(els []htmlElement, id string) htmlElement {
	for _, e := range els {
		if e.Attr["id"] == id {
			return e
		}
	}
	return htmlElement{}
}

// measureHarness is a page that loads a report in a frame of a given
// width and records whether the report is wider than the frame (it
// needs --allow-file-access-from-files to read the frame).
const measureHarness = `<!DOCTYPE html><html><head><meta charset="utf-8"><script>
function measure(f) {
  var r = document.getElementById("result"), d = f.contentDocument;
  if (!d) { r.setAttribute("data-error", "no access to the frame"); return; }
  r.setAttribute("data-scroll-width", d.documentElement.scrollWidth);
  r.setAttribute("data-client-width", d.documentElement.clientWidth);
  r.setAttribute("data-filter", d.body.getAttribute("data-filter") || "");
}
</script></head><body><p id="result"></p>
<iframe src="%s" width="%d" height="800" onload="measure(this)"></iframe></body></html>
`

// layoutHarness loads a report in a frame of a given size and records
// where things landed: the first failure and the latency section (from
// the top of the frame), the chart on show and its deadline line (their
// right edges), and into how many line boxes each "{subject}" of the
// settings fell.
const layoutHarness = `<!DOCTYPE html><html><head><meta charset="utf-8"><script>
function measure(f) {
  var r = document.getElementById("result"), d = f.contentDocument;
  if (!d) { r.setAttribute("data-error", "no access to the frame"); return; }
  r.setAttribute("data-scroll-width", d.documentElement.scrollWidth);
  r.setAttribute("data-client-width", d.documentElement.clientWidth);
  var fail = d.querySelector("article.case.fail");
  r.setAttribute("data-first-failure-top", fail ? Math.round(fail.getBoundingClientRect().top) : -1);
  r.setAttribute("data-chart-top", Math.round(d.getElementById("latency-section").getBoundingClientRect().top));
  var shown = [];
  d.querySelectorAll(".chart").forEach(function (c) { if (c.offsetParent !== null) shown.push(c); });
  r.setAttribute("data-charts-shown", shown.length);
  if (shown.length == 1) {
    var svg = shown[0].querySelector("svg"), line = svg.querySelector("line.deadline"), label = svg.querySelector("text.deadline-label");
    r.setAttribute("data-chart-id", svg.id);
    r.setAttribute("data-chart-right", Math.round(svg.getBoundingClientRect().right));
    r.setAttribute("data-deadline-right", line ? Math.round(line.getBoundingClientRect().right) : -1);
    r.setAttribute("data-deadline-label-left", label ? Math.round(label.getBoundingClientRect().left) : -1);
    r.setAttribute("data-chart-font", label ? Math.round(label.getBoundingClientRect().height) : -1);
  }
  var lines = [], w = d.createTreeWalker(d.querySelector(".settings"), NodeFilter.SHOW_TEXT);
  while (w.nextNode()) {
    var n = w.currentNode, i = n.data.indexOf("{subject}");
    if (i < 0) continue;
    var rg = d.createRange(); rg.setStart(n, i); rg.setEnd(n, i + 9);
    lines.push(rg.getClientRects().length);
  }
  r.setAttribute("data-subject-lines", lines.join(","));
}
</script></head><body style="margin:0"><p id="result"></p>
<iframe src="%s" width="%d" height="%d" style="border:0;display:block" onload="measure(this)"></iframe></body></html>
`

// realReport is the test report with the settings a real run shows, so
// that the page's header is as long as a user sees it.
func realReport() *Report {
	rep := htmlReport()
	rep.Settings = map[string]string{"content-policy": "either", "enforce": "MUST", "fetches.sumsub": "false", "fetches.jumio-kyx": "false",
		"foreign-source": "127.0.0.2", "handles.sumsub": "applicantReviewed", "handles.jumio-kyx": "(every message)", "parallel": "8",
		"probe": "http://127.0.0.1:9000/_probe/{subject}", "quiet": "500ms", "secret": "(set)", "seed": "13412217527833573150",
		"settle": "2s", "source-mode": "direct", "time-scale": "0.0001"}
	return rep
}

func TestHTMLInChromium(t *testing.T) {
	bin, err := findChromium()
	if p := os.Getenv("KYCSIM_CHROMIUM"); p != "" {
		if bin, err = exec.LookPath(p); err != nil {
			t.Fatalf("KYCSIM_CHROMIUM: %v", err) // asked for, so no reason to skip
		}
	}
	if err != nil {
		t.Skipf("SKIP: no Chromium to test the HTML report in (%v): apt-get install -y chromium, or set KYCSIM_CHROMIUM to one", err)
	}
	log := &requestLog{}
	proxy := httptest.NewServer(log)
	defer proxy.Close()
	b := browser{bin: bin, dir: artifactDir(t), proxy: proxy.URL}
	t.Logf("chromium %s; pages and screenshots in %s", bin, b.dir)

	write := func(name string, page []byte) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(b.dir, name), page, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	report := writeHTML(t, htmlReport())
	write("report.html", report)
	write("report-real.html", writeHTML(t, realReport()))

	t.Run("screenshots", func(t *testing.T) {
		for _, s := range []struct {
			file, rest string
			w, h       int
		}{
			{"report-1280x800.png", "", 1280, 800},
			{"report-375x800.png", "", 375, 800},
			{"report-failed-1280x2000.png", "#filter=failed", 1280, 2000},
			{"report-failed-375x3000.png", "#filter=failed", 375, 3000},
			{"report-real-1280x800.png", "", 1280, 800},
			{"report-real-375x800.png", "", 375, 800},
			{"report-real-failed-375x2600.png", "#filter=failed", 375, 2600},
		} {
			page := "report.html"
			if strings.HasPrefix(s.file, "report-real") {
				page = "report-real.html"
			}
			t.Logf("screenshot %s", b.screenshot(t, b.url(page, s.rest), s.file, s.w, s.h))
		}
	})

	// At 1280x800 the first failure shows on the first screen, before the
	// latency chart; at 375 px the chart on show fits, its deadline in
	// sight, and the settings keep {subject} on one line.
	t.Run("layout", func(t *testing.T) {
		for _, sz := range []struct{ w, h int }{{1280, 800}, {375, 800}} {
			name := fmt.Sprintf("layout-%d.html", sz.w)
			write(name, fmt.Appendf(nil, layoutHarness, "report-real.html", sz.w, sz.h))
			r := byID(b.dom(t, b.url(name, ""), "--allow-file-access-from-files"), "result")
			num := func(k string) int {
				n, err := strconv.Atoi(r.Attr[k])
				if err != nil {
					t.Fatalf("%dx%d: no %s: %v", sz.w, sz.h, k, r.Attr)
				}
				return n
			}
			cw := num("data-client-width")
			if sw := num("data-scroll-width"); sw > cw {
				t.Errorf("%d px: the page is %d px wide: it scrolls sideways", sz.w, sw)
			}
			if top, chart := num("data-first-failure-top"), num("data-chart-top"); top < 0 || top >= chart {
				t.Errorf("%d px: the first failure is at %d px, the latency chart at %d px: want the failure first", sz.w, top, chart)
			} else if sz.w == 1280 && top > sz.h-60 {
				t.Errorf("1280x800: the first failure starts at %d px, below the first screen", top)
			}
			if n := num("data-charts-shown"); n != 1 {
				t.Fatalf("%d px: %d charts on show, want 1", sz.w, n)
			}
			want := "latency"
			if sz.w < 600 {
				want = "latency-narrow"
			}
			if id := r.Attr["data-chart-id"]; id != want {
				t.Errorf("%d px: chart %q on show, want %q", sz.w, id, want)
			}
			if right := num("data-chart-right"); right > cw {
				t.Errorf("%d px: the chart ends at %d px, past the %d px viewport", sz.w, right, cw)
			}
			if right, left := num("data-deadline-right"), num("data-deadline-label-left"); right < 0 || right > cw || left < 0 {
				t.Errorf("%d px: the deadline line ends at %d px and its label starts at %d px: want both in the %d px viewport", sz.w, right, left, cw)
			}
			if font := num("data-chart-font"); font < 10 {
				t.Errorf("%d px: the chart's text is %d px high: too small to read", sz.w, font)
			}
			if lines := r.Attr["data-subject-lines"]; lines == "" || strings.Trim(lines, "1,") != "" {
				t.Errorf("%d px: {subject} in the settings falls into %q line boxes, want 1", sz.w, lines)
			}
		}
	})

	t.Run("filter", func(t *testing.T) {
		want := map[string]string{
			"#filter=failed":           "sumsub.reject.signature.tampered-body jumio-netverify.reject.bad-status sumsub.reject.bad-decision",
			"?filter=failed":           "sumsub.reject.signature.tampered-body jumio-netverify.reject.bad-status sumsub.reject.bad-decision",
			"#filter=skipped":          "sumsub.dedup.identical jumio-kyx.dedup.redelivery",
			"#filter=passed":           "sumsub.accept.message.applicant-reviewed jumio-kyx.timing.fast-answer",
			"#q=netverify":             "jumio-netverify.reject.bad-status",
			"#filter=failed&q=MAYBE":   "sumsub.reject.bad-decision",
			"#filter=all&q=no%20probe": "sumsub.dedup.identical jumio-kyx.dedup.redelivery",
			"":                         "all",
			"#filter=bogus":            "all",
		}
		for rest, shown := range want {
			els := b.dom(t, b.url("report.html", rest))
			outcome, hidden := cases(els)
			if len(outcome) != len(htmlReport().Cases) {
				t.Fatalf("%s: %d cases in the DOM", rest, len(outcome))
			}
			visible := map[string]bool{}
			for id := range outcome {
				visible[id] = shown == "all" || strings.Contains(" "+shown+" ", " "+id+" ")
			}
			for id, v := range visible {
				if hidden[id] == v {
					t.Errorf("%s: case %s (%s) hidden=%v", rest, id, outcome[id], hidden[id])
				}
			}
			n := 0
			for _, v := range visible {
				if v {
					n++
				}
			}
			if _, h := byID(els, "filters").Attr["hidden"]; h {
				t.Errorf("%s: the filter box is hidden with the script on", rest)
			}
			if got, want := byID(els, "shown").Text, fmt.Sprintf("%d of %d cases shown", n, len(outcome)); got != want {
				t.Errorf("%s: %q, want %q", rest, got, want)
			}
			// A group left without a shown case is hidden too.
			for _, e := range els {
				if e.Name == "section" && e.Attr["class"] == "group" {
					some := false
					for id, o := range outcome {
						some = some || (o == e.Attr["data-outcome"] && visible[id])
					}
					if _, h := e.Attr["hidden"]; h == some {
						t.Errorf("%s: group %s hidden=%v", rest, e.Attr["data-outcome"], h)
					}
				}
			}
		}
	})

	t.Run("without JavaScript", func(t *testing.T) {
		// The page's policy, made to allow no script, stands in for a
		// browser with scripts off (--dump-dom needs them on).
		noScript := regexp.MustCompile(`script-src 'sha256-[^']*'`).ReplaceAll(report, []byte("script-src 'none'"))
		if bytes.Equal(noScript, report) {
			t.Fatal("no script-src in the page's policy")
		}
		write("report-noscript.html", noScript)
		els := b.dom(t, b.url("report-noscript.html", "#filter=failed"))
		outcome, hidden := cases(els)
		for id := range outcome {
			if hidden[id] {
				t.Errorf("case %s hidden without a script", id)
			}
		}
		if len(outcome) != len(htmlReport().Cases) {
			t.Errorf("%d cases shown", len(outcome))
		}
		if _, h := byID(els, "filters").Attr["hidden"]; !h {
			t.Error("the filter box shows without a script, where it cannot work")
		}
	})

	t.Run("fits the width", func(t *testing.T) {
		for _, w := range []int{375, 1280} {
			name := "measure-" + strconv.Itoa(w) + ".html"
			write(name, fmt.Appendf(nil, measureHarness, "report.html#filter=failed", w))
			r := byID(b.dom(t, b.url(name, ""), "--allow-file-access-from-files"), "result")
			sw, err1 := strconv.Atoi(r.Attr["data-scroll-width"])
			cw, err2 := strconv.Atoi(r.Attr["data-client-width"])
			if err1 != nil || err2 != nil || cw == 0 {
				t.Fatalf("width %d: no measure: %v", w, r.Attr)
			}
			if sw > cw {
				t.Errorf("at %d px the page is %d px wide in a %d px viewport: it scrolls sideways", w, sw, cw)
			}
			if r.Attr["data-filter"] != "failed" {
				t.Errorf("at %d px the filter did not apply: %v", w, r.Attr)
			}
		}
	})

	t.Run("hostile receiver", func(t *testing.T) {
		leak := proxy.URL + "/kycsim-leak"
		payload := hostile + ` <img src="` + leak + `/img" onerror="document.title='pwned'"><iframe src="` + leak + `/frame"></iframe>` +
			`<style>body{background:url(` + leak + `/css)}</style><svg onload="document.body.dataset.pwned=1"></svg></script><script>document.body.dataset.pwned=2</script>`
		rep := hostileReport()
		c := &rep.Cases[0]
		c.Reasons = append(c.Reasons, payload)
		c.Steps = append(c.Steps, scenarios.StepResult{Index: 4, Kind: "send", Label: "send", Failures: []string{"field \"x\" " + payload},
			Attempts: []delivery.Attempt{{Number: 1, Method: "POST", URL: "http://127.0.0.1:9000/sumsub", Status: 200, Latency: time.Millisecond,
				RequestBody: []byte(`{"x":"` + payload + `"}`), ResponseBody: []byte(payload),
				ResponseHeader: http.Header{"X-Evil": {payload}}}}})
		write("hostile.html", writeHTML(t, rep))
		els := b.dom(t, b.url("hostile.html", "#filter=failed"))
		styles, title, asText := 0, 0, false
		for _, e := range els {
			switch e.Name {
			case "style":
				styles++
			case "img", "iframe", "link", "object", "embed", "script":
				if e.Name != "script" || len(e.Attr) > 0 {
					t.Errorf("the receiver's <%s %v> is in the DOM", e.Name, e.Attr)
				}
			case "svg":
				if e.Attr["id"] != "latency" && e.Attr["id"] != "latency-narrow" {
					t.Errorf("the receiver's <svg %v> is in the DOM", e.Attr)
				}
			case "body":
				if e.Attr["data-pwned"] != "" {
					t.Errorf("the receiver's script ran: data-pwned=%s", e.Attr["data-pwned"])
				}
				if e.Attr["data-filter"] != "failed" {
					t.Errorf("the page's script did not run to the end: %v", e.Attr)
				}
			case "title":
				if title++; title == 1 && e.Text != "kycsim conformance report" {
					t.Errorf("title %q", e.Text)
				}
			case "p":
				asText = asText || (e.Attr["class"] == "reason" && strings.Contains(e.Text, "<script>document.body.dataset.pwned=2</script>"))
			}
		}
		if styles != 1 || !asText {
			t.Errorf("%d <style> (want the page's own), the receiver's markup shown as text: %v", styles, asText)
		}
	})

	// The page holds no reference, and its policy would stop one that
	// slipped in; the controls show that the proxy sees what a page asks
	// for.
	t.Run("no network", func(t *testing.T) {
		if got := log.fromPages(); len(got) > 0 {
			t.Fatalf("the pages made requests: %q", got)
		}
		img := `<img src="http://kycsim-leak.invalid/control.png">`
		s := string(report)
		withImg := strings.Replace(s, "<body>", "<body>"+img, 1)
		write("control-csp.html", []byte(withImg))
		b.dom(t, b.url("control-csp.html", ""))
		if got := log.fromPages(); len(got) > 0 {
			t.Errorf("the policy let through %q", got)
		}
		noCSP := regexp.MustCompile(`<meta http-equiv="Content-Security-Policy"[^>]*>`).ReplaceAllString(withImg, "")
		write("control-no-csp.html", []byte(noCSP))
		b.dom(t, b.url("control-no-csp.html", ""))
		if got := log.fromPages(); len(got) != 1 || !strings.Contains(got[0], "kycsim-leak.invalid/control.png") {
			t.Errorf("the control page's one request: %q", got)
		}
	})
}
