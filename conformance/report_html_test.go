package conformance

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/xml"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kycsim/kycsim/scenarios"
	"github.com/kycsim/kycsim/simulator/delivery"
)

// htmlReport is fixedReport with the cases the HTML page treats apart: a
// failure naming a JSON pointer, with a long unbroken body; a failure
// naming a form field; and a skip that could not be observed, whose
// second attempt got no answer.
func htmlReport() *Report {
	r := fixedReport()
	at := r.Started
	attempt := func(product, message, url, body string, latency time.Duration) delivery.Attempt {
		return delivery.Attempt{Delivery: 1, Number: 1, Product: product, Message: message, Time: at, Method: "POST", URL: url,
			RequestHeader: http.Header{"Content-Type": {"application/json"}}, RequestBody: []byte(body), Status: 200, Latency: latency,
			ResponseHeader: http.Header{"Content-Type": {"text/plain"}}, ResponseBody: []byte("ok")}
	}
	long := strings.Repeat("0123456789abcdef", 150)
	decision := attempt("sumsub", "applicantReviewed", "http://127.0.0.1:9000/sumsub",
		`{"type":"applicantReviewed","reviewResult":{"reviewAnswer":"MAYBE"},"applicantId":"`+long+`"}`, 1500*time.Millisecond)
	form := attempt("jumio-netverify", "netverify", "http://127.0.0.1:9000/jumio/netverify",
		"jumioIdScanReference=3f1c&idScanStatus=DONE&idScanSource=API", 300*time.Microsecond)
	form.RequestHeader = http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	lost := attempt("jumio-kyx", "PROCESSED", "http://127.0.0.1:9000/jumio/kyx", `{"workflowExecution":{"status":"PROCESSED"}}`, 0)
	lost.Number, lost.Status, lost.ResponseHeader, lost.ResponseBody, lost.Err = 2, 0, nil, nil, "no answer within the 10s answer deadline"
	r.Cases = append(r.Cases,
		CaseResult{ID: "sumsub.reject.bad-decision", Level: "MUST", Product: "sumsub", Description: "A decision value outside its set is never acted on.",
			Rule: "Act on documented decisions only.", Source: "Sumsub, \"Webhooks\" (https://docs.sumsub.com/docs/webhooks)", Outcome: Fail, Duration: 1501 * time.Millisecond,
			Reasons: []string{"f.yaml:12:5: events 0: got 1 at /reviewResult/reviewAnswer (subject s-1, after 600ms)"},
			Steps: []scenarios.StepResult{{Index: 1, Kind: "send", Label: "send applicantReviewed", Attempts: []delivery.Attempt{decision},
				Failures: []string{"f.yaml:12:5: events 0: got 1 at /reviewResult/reviewAnswer (subject s-1, after 600ms)"}}}},
		CaseResult{ID: "jumio-netverify.reject.bad-status", Level: "MUST", Product: "jumio-netverify", Description: "A status outside its set is never acted on.",
			Rule: "Act on documented statuses only.", Source: "Jumio Netverify, \"Callback\" (https://documentation.jumio.ai/)", Outcome: Fail, Duration: 2 * time.Millisecond,
			Reasons: []string{"f.yaml:9:5: field \"idScanStatus\" (DONE) was acted on"},
			Steps: []scenarios.StepResult{{Index: 1, Kind: "send", Label: "send netverify", Attempts: []delivery.Attempt{form},
				Failures: []string{"f.yaml:9:5: field \"idScanStatus\" (DONE) was acted on"}}}},
		CaseResult{ID: "jumio-kyx.dedup.redelivery", Level: "MUST", Product: "jumio-kyx", Description: "A redelivery is acted on once.",
			Rule: "Act on an event once.", Source: "Jumio KYX, \"Callback\" (https://documentation.jumio.ai/)", Outcome: Skip, Unobserved: true, Duration: 10 * time.Second,
			Reasons: []string{"events/status: the target offers no probe (--probe)"},
			Steps: []scenarios.StepResult{{Index: 1, Kind: "send", Label: "send PROCESSED", Attempts: []delivery.Attempt{
				attempt("jumio-kyx", "PROCESSED", "http://127.0.0.1:9000/jumio/kyx", `{"workflowExecution":{"status":"PROCESSED"}}`, 40*time.Millisecond), lost}}}},
	)
	return r
}

// htmlElement is an element of a page: its name, attributes and the text
// right inside it.
type htmlElement struct {
	Name string
	Attr map[string]string
	Text string
}

// parseHTML reads a page as a browser would its structure (with the
// body of its one script, which is raw text to a browser, left out) and
// returns its elements in order. It fails the test when the page does
// not parse.
func parseHTML(t *testing.T, page []byte) []htmlElement {
	t.Helper()
	s := string(page)
	if i, j := strings.Index(s, "<script>"), strings.Index(s, "</script>"); i >= 0 && j > i {
		s = s[:i+len("<script>")] + s[j:]
	}
	dec := xml.NewDecoder(strings.NewReader(s))
	dec.Strict, dec.AutoClose, dec.Entity = false, xml.HTMLAutoClose, xml.HTMLEntity
	var out []htmlElement
	open := false // the last token opened the last element
	for {
		tok, err := dec.Token()
		if err != nil {
			if err != io.EOF {
				t.Fatalf("the page does not parse: %v", err)
			}
			return out
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			e := htmlElement{Name: tok.Name.Local, Attr: map[string]string{}}
			for _, a := range tok.Attr {
				e.Attr[a.Name.Local] = a.Value
			}
			out = append(out, e)
			open = true
		case xml.EndElement:
			open = false
		case xml.CharData:
			if open {
				out[len(out)-1].Text += string(tok)
			}
		}
	}
}

func writeHTML(t *testing.T, r *Report) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WriteHTML(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestHTMLGolden(t *testing.T) {
	golden(t, "report.html", writeHTML(t, htmlReport()))
}

// TestHTMLReport checks that the page parses, holds every case (failures
// first, then skips, then passes), and can load nothing from elsewhere.
func TestHTMLReport(t *testing.T) {
	rep := htmlReport()
	page := writeHTML(t, rep)
	els := parseHTML(t, page)
	var order []string
	var csp string
	for _, e := range els {
		if e.Name == "article" && strings.Contains(e.Attr["class"], "case") {
			order = append(order, e.Attr["id"])
			if _, ok := e.Attr["hidden"]; ok {
				t.Errorf("case %s is hidden without a script", e.Attr["id"])
			}
		}
		if e.Name == "meta" && strings.EqualFold(e.Attr["http-equiv"], "Content-Security-Policy") {
			csp = e.Attr["content"]
		}
		for _, a := range []string{"src", "href", "action", "srcset", "poster", "data", "xlink:href"} {
			if v, ok := e.Attr[a]; ok {
				t.Errorf("<%s %s=%q>: the page refers to something", e.Name, a, v)
			}
		}
		if e.Name == "img" || e.Name == "link" || e.Name == "iframe" || e.Name == "object" || e.Name == "embed" || e.Name == "image" {
			t.Errorf("the page has a <%s>", e.Name)
		}
		if e.Name == "script" && len(e.Attr) > 0 {
			t.Errorf("<script %v>", e.Attr)
		}
	}
	want := []string{"sumsub.reject.signature.tampered-body", "sumsub.reject.bad-decision", "jumio-netverify.reject.bad-status",
		"sumsub.dedup.identical", "jumio-kyx.dedup.redelivery", "sumsub.accept.message.applicant-reviewed", "jumio-kyx.timing.fast-answer"}
	if strings.Join(order, " ") != strings.Join(want, " ") {
		t.Errorf("cases in the order\n%s\nwant\n%s", strings.Join(order, "\n"), strings.Join(want, "\n"))
	}

	// The policy lets nothing load, and lets run only the page's own
	// script, named by its hash.
	for _, d := range []string{"default-src 'none'", "img-src data:", "style-src 'unsafe-inline'", "base-uri 'none'", "form-action 'none'"} {
		if !strings.Contains(csp, d) {
			t.Errorf("the Content-Security-Policy %q lacks %q", csp, d)
		}
	}
	s := string(page)
	script := s[strings.Index(s, "<script>")+len("<script>") : strings.Index(s, "</script>")]
	sum := sha256.Sum256([]byte(script))
	if want := "script-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(csp, want) {
		t.Errorf("the Content-Security-Policy %q does not name the page's script (%s)", csp, want)
	}
	if regexp.MustCompile(`script-src[^;]*unsafe`).MatchString(csp) {
		t.Errorf("the Content-Security-Policy %q lets any inline script run", csp)
	}
	// Without a script, the filter box stays hidden and every case shows.
	if !strings.Contains(s, `<div id="filters" hidden>`) {
		t.Error("the filter box shows without a script")
	}
}

// TestHTMLMarks checks that the fields a failure names are marked in the
// evidence, after escaping.
func TestHTMLMarks(t *testing.T) {
	got := failedFields(CaseResult{Reasons: []string{
		"f.yaml:1:1: events 0: got 1 at /reviewResult/reviewAnswer (subject s-1)",
		"validate: /document/tags/0: not allowed; see http://127.0.0.1:9000/sumsub/x",
		"field \"idScanStatus\" was acted on, and the key `workflowExecution.status` too",
		"/a~1b is fine",
	}})
	if strings.Join(got, " ") != "reviewAnswer tags idScanStatus status a/b" {
		t.Errorf("failedFields = %q", got)
	}

	page := string(writeHTML(t, htmlReport()))
	for _, want := range []string{
		`<mark>&#34;reviewAnswer&#34;:&#34;MAYBE&#34;</mark>`,
		`<mark>idScanStatus=DONE</mark>`,
		`marked: <mark>reviewAnswer</mark>`,
		`marked: <mark>idScanStatus</mark>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if n := strings.Count(page, "<mark>"); n != 4 {
		t.Errorf("%d marks, want 4", n)
	}

	// A hostile value in a marked field stays text.
	rep := htmlReport()
	c := &rep.Cases[4]
	c.Steps[0].Attempts[0].RequestBody = []byte("{\"reviewResult\":{\"reviewAnswer\":\"<img src=x onerror=alert(1)>\x1b[2J\"}}")
	page = string(writeHTML(t, rep))
	want := `<mark>&#34;reviewAnswer&#34;:&#34;&lt;img src=x onerror=alert(1)&gt;\x1b[2J&#34;</mark>`
	if !strings.Contains(page, want) {
		t.Errorf("the page lacks %s", want)
	}
	if strings.Contains(page, "<img") {
		t.Error("a marked value became markup")
	}
	spans, fields := markFields("> {\"a\":1,\"b\":\"x\"}\n> a=2&b=3", []string{"a", "b", "zz"})
	var b strings.Builder
	for _, s := range spans {
		if s.Mark {
			b.WriteString("[" + s.Text + "]")
		} else {
			b.WriteString(s.Text)
		}
	}
	if b.String() != "> {[\"a\":1],[\"b\":\"x\"]}\n> [a=2]&[b=3]" || strings.Join(fields, " ") != "a b" {
		t.Errorf("markFields: %q %q", b.String(), fields)
	}
}

// TestHTMLChart checks the latency chart: bars per product, labelled
// axes, and a line at the vendors' answer deadline.
func TestHTMLChart(t *testing.T) {
	els := parseHTML(t, writeHTML(t, htmlReport()))
	series := map[string]bool{}
	var texts, deadlines []string
	bars, svg, narrow := 0, false, false
	for _, e := range els {
		switch {
		case e.Name == "svg" && e.Attr["id"] == "latency":
			svg = true
		case e.Name == "svg" && e.Attr["id"] == "latency-narrow":
			narrow = true // the same chart for a phone: counted once, in the wide one
		case narrow:
		case e.Name == "rect" && strings.HasPrefix(e.Attr["class"], "bar "):
			bars++
			series[e.Attr["class"]] = true
		case e.Name == "text":
			texts = append(texts, e.Text)
		case e.Name == "line" && e.Attr["class"] == "deadline":
			deadlines = append(deadlines, e.Attr["x1"])
		}
	}
	if !svg || !narrow || bars != 5 || len(series) != 3 {
		t.Errorf("chart %v: %d bars in %d series, want 5 in 3", svg, bars, len(series))
	}
	all := strings.Join(texts, "|")
	for _, want := range []string{"answer latency (ms, log scale)", "attempts", "|0.1|1|10|100|1000|10000|", "Jumio, Sumsub answer deadline 10 s"} {
		if !strings.Contains(all, want) {
			t.Errorf("the chart lacks %q: %s", want, all)
		}
	}
	if len(deadlines) != 1 {
		t.Errorf("deadline lines at %v", deadlines)
	}

	// The deadline is that of the products the attempts were made for.
	rep := fixedReport()
	rep.Cases = rep.Cases[3:] // jumio-kyx only
	page := string(writeHTML(t, rep))
	if !strings.Contains(page, ">Jumio answer deadline 10 s</text>") || strings.Contains(page, "Sumsub answer deadline") {
		t.Error("the Jumio-only chart does not mark Jumio's deadline alone")
	}
	// No attempt, no chart.
	rep.Cases[0].Steps = nil
	if page := string(writeHTML(t, rep)); strings.Contains(page, "<svg") || !strings.Contains(page, "No attempt was made.") {
		t.Error("a chart without attempts")
	}
}

func TestChartScale(t *testing.T) {
	var edges []string
	for e := chartFloor; e <= 20*time.Second; e = next125(e) {
		edges = append(edges, e.String())
	}
	if got := strings.Join(edges, " "); got != "100µs 200µs 500µs 1ms 2ms 5ms 10ms 20ms 50ms 100ms 200ms 500ms 1s 2s 5s 10s 20s" {
		t.Errorf("edges %s", got)
	}
	for n, want := range map[int]int{0: 1, 1: 1, 5: 1, 6: 2, 10: 2, 11: 5, 25: 5, 26: 10, 1234: 500} {
		if got := niceStep(n); got != want {
			t.Errorf("niceStep(%d) = %d, want %d", n, got, want)
		}
	}
}

// TestHTMLScenariosReport checks that a report of scenarios is titled so
// and shows the replay command of a failed step.
func TestHTMLScenariosReport(t *testing.T) {
	r := &Report{Kind: KindScenarios, Cases: []CaseResult{{ID: "sumsub/happy-path", Product: "sumsub", Outcome: Fail,
		Reasons: []string{"step 2: answered 500"},
		Replays: []Replay{{Step: 1, Pos: "library/sumsub/happy-path.yaml:5:5", BodyFile: "r/1.body", Command: "kycsim send sumsub applicantCreated --to http://127.0.0.1:9000/sumsub --raw-body r/1.body --no-retry"}}}}}
	var b strings.Builder
	if err := WriteHTML(&b, r); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{"<title>kycsim scenarios report</title>", "<h1>kycsim scenarios report</h1>",
		"replay the step at library/sumsub/happy-path.yaml:5:5: <code>kycsim send sumsub applicantCreated --to http://127.0.0.1:9000/sumsub --raw-body r/1.body --no-retry</code>"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}
