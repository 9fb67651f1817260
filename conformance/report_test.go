package conformance

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kycsim/kycsim/scenarios"
	"github.com/kycsim/kycsim/simulator/delivery"
)

var update = flag.Bool("update", false, "rewrite golden files")

// fixedReport is a report with fixed times, for golden files.
func fixedReport() *Report {
	at := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	attempt := func(status int, latency time.Duration, body string) delivery.Attempt {
		return delivery.Attempt{Delivery: 1, Number: 1, Time: at, Method: "POST", URL: "http://127.0.0.1:9000/sumsub",
			RequestHeader: http.Header{"Content-Type": {"application/json"}, "X-Payload-Digest-Alg": {"HMAC_SHA256_HEX"}},
			RequestBody:   []byte(`{"type":"applicantReviewed"}`), Status: status, Latency: latency,
			ResponseHeader: http.Header{"Content-Type": {"application/json"}}, ResponseBody: []byte(body)}
	}
	return &Report{Started: at, Duration: 1234 * time.Millisecond, Version: "v1.4.0 (rev 0123456789ab)",
		Targets:  map[string]string{"sumsub": "http://127.0.0.1:9000/sumsub", "jumio-kyx": "http://127.0.0.1:9000/jumio/kyx"},
		Settings: map[string]string{"settle": "2s", "time-scale": "0.001", "jumio-invalid": "ack-and-drop", "seed": "42"}, Cases: []CaseResult{
			{ID: "sumsub.accept.message.applicant-reviewed", Level: "MUST", Product: "sumsub", Description: "A signed applicantReviewed webhook is acknowledged.",
				Rule: "Acknowledge every documented type.", Source: "Sumsub, \"Webhooks\" (https://docs.sumsub.com/docs/webhooks)", Outcome: Pass, Duration: 3 * time.Millisecond,
				Steps: []scenarios.StepResult{{Index: 1, Kind: "send", Label: "send applicantReviewed", Attempts: []delivery.Attempt{attempt(200, 2*time.Millisecond, `{"ok":true}`)}}}},
			{ID: "sumsub.reject.signature.tampered-body", Level: "MUST", Product: "sumsub", Description: "A body changed after signing is refused.",
				Rule: "Verify X-Payload-Digest over the raw body.", Source: "Sumsub, \"Webhooks\" (https://docs.sumsub.com/docs/webhooks)", Outcome: Fail, Duration: 5 * time.Millisecond,
				Reasons: []string{"f.yaml:11:13: expected status 4xx, got 200 {\"ok\":true}"},
				Steps:   []scenarios.StepResult{{Index: 1, Kind: "send", Label: "send applicantReviewed", Pos: "f.yaml:9:5", Failures: []string{"expected status 4xx, got 200"}, Attempts: []delivery.Attempt{attempt(200, 4*time.Millisecond, `{"ok":true}`)}}},
				Replays: []Replay{{Step: 0, Pos: "f.yaml:9:5", BodyFile: "replay/tampered-body.step1.body",
					Command: "kycsim send sumsub applicantReviewed --to http://127.0.0.1:9000/sumsub --raw-body replay/tampered-body.step1.body --no-retry --unsigned --header 'Content-Type: application/json' --header 'X-Payload-Digest-Alg: HMAC_SHA256_HEX'"}}},
			{ID: "sumsub.dedup.identical", Level: "MUST", Product: "sumsub", Description: "The same webhook twice is acted on once.",
				Rule: "Act on an event once.", Source: "Sumsub, \"Webhooks\" (https://docs.sumsub.com/docs/webhooks)", Outcome: Skip, Duration: time.Millisecond,
				Reasons: []string{"events/status: the target offers no probe (--probe)"},
				Notes:   []string{"sent as applicantPending: the receiver handles no applicantReviewed"}},
			{ID: "jumio-kyx.timing.fast-answer", Level: "SHOULD", Product: "jumio-kyx", Description: "The receiver answers in under 1 s.",
				Rule: "Answer at once.", Source: "Jumio KYX, \"Callback\" (https://documentation.jumio.ai/docs/developer-resources/callback)", Outcome: Pass, Duration: 2 * time.Millisecond,
				Steps: []scenarios.StepResult{{Index: 1, Kind: "send", Label: "send PROCESSED", Attempts: []delivery.Attempt{attempt(200, 8*time.Millisecond, "")}}}},
		}}
}

// fixedScenarioReport is a kycsim run report with fixed times: results
// named by scenario, with no level, rule or source.
func fixedScenarioReport() *Report {
	r := fixedReport()
	r.Kind = KindScenarios
	r.Settings = map[string]string{"seed": "7", "parallel": "8"}
	r.Cases = r.Cases[:2]
	for i, name := range []string{"sumsub/happy-path", "sumsub/tampered.yaml"} {
		c := &r.Cases[i]
		c.ID, c.Level, c.Rule, c.Source = name, "", "", ""
	}
	r.Cases = append(r.Cases, CaseResult{ID: "sumsub/reset", Product: "sumsub", Description: "A reviewed applicant is reset.",
		Outcome: Skip, Reasons: []string{"not played: the run stopped at the first failure (sumsub/tampered.yaml)"}})
	return r
}

// TestScenarioReports checks the writers on a kycsim run report: no
// level or rule, "scenario(s)", the seed, and the replay command.
func TestScenarioReports(t *testing.T) {
	var b bytes.Buffer
	WriteText(&b, fixedScenarioReport(), TextStyle{})
	golden(t, "report-scenarios.txt", b.Bytes())
	b.Reset()
	if err := WriteJSON(&b, fixedScenarioReport()); err != nil {
		t.Fatal(err)
	}
	golden(t, "report-scenarios.json", b.Bytes())
	var back struct {
		Kind, Seed string
		Cases      []struct{ Replays []Replay }
	}
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || back.Kind != KindScenarios || back.Seed != "7" || len(back.Cases) != 3 || len(back.Cases[1].Replays) != 1 {
		t.Errorf("%+v %v", back, err)
	}
	b.Reset()
	if err := WriteJUnit(&b, fixedScenarioReport()); err != nil {
		t.Fatal(err)
	}
	golden(t, "report-scenarios.xml", b.Bytes())
	for _, want := range []string{`name="kycsim scenarios"`, `classname="sumsub"`, "replay: kycsim send sumsub applicantReviewed", `name="setting.seed" value="7"`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("junit: no %s", want)
		}
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := "testdata/" + name
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./conformance -update)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s (-want +got):\n-%s\n+%s", path, strings.ReplaceAll(string(want), "\n", "\n-"), strings.ReplaceAll(string(got), "\n", "\n+"))
	}
}

func TestTextReport(t *testing.T) {
	var b bytes.Buffer
	WriteText(&b, fixedReport(), TextStyle{})
	golden(t, "report.txt", b.Bytes())
	b.Reset()
	WriteText(&b, fixedReport(), TextStyle{Color: true})
	if !strings.Contains(b.String(), "\x1b[31mFAIL\x1b[0m") {
		t.Error("no colour in the coloured report")
	}
}

func TestJSONReport(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, fixedReport()); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.json", b.Bytes())
	var back struct {
		Schema                  string
		Passed, Failed, Skipped int
		Latencies               struct{ Count int }
	}
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || back.Schema != ReportSchema || back.Passed != 2 || back.Failed != 1 || back.Skipped != 1 || back.Latencies.Count != 3 {
		t.Errorf("%+v %v", back, err)
	}
}

func TestJUnitReport(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJUnit(&b, fixedReport()); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.xml", b.Bytes())
	var suites struct {
		Suites []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name    string    `xml:"name,attr"`
				Failure *struct{} `xml:"failure"`
				Skipped *struct{} `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b.Bytes(), &suites); err != nil || len(suites.Suites) != 2 || len(suites.Suites[0].Cases) != 3 {
		t.Fatalf("%+v %v", suites, err)
	}
	c := suites.Suites[0].Cases
	if c[0].Failure != nil || c[1].Failure == nil || c[2].Skipped == nil {
		t.Errorf("outcomes not mapped: %+v", c)
	}
}

func TestLatencies(t *testing.T) {
	l := fixedReport().Latencies()
	if l.Count != 3 || l.P50 != 4*time.Millisecond || l.Max != 8*time.Millisecond {
		t.Errorf("%+v", l)
	}
	if (&Report{}).Latencies().Count != 0 {
		t.Error("empty report has latencies")
	}
}

// hostile is what a hostile receiver answers: it clears the screen, writes
// the clipboard (OSC 52), slips in NUL, VT, U+FFFE, a C1 CSI and a bidi
// override, forges a verdict line, and tries markup (a script, an event
// handler, closing the page's own elements, a stylesheet from elsewhere)
// and a CDATA end.
const hostile = "\x1b[2J\x1b]52;c;ZXZpbA==\x07 nul\x00 vt\x0b \ufffe csi\u009b31m \u202e " +
	"<img src=x onerror=\"document.body.dataset.pwned=1\"></pre></details><link rel=stylesheet href=http://kycsim-leak.invalid/css> " +
	"<script>alert(1)</script> ]]>\r\nPASS MUST   forged.case"

// hostileReport is a report whose one case failed against a hostile
// receiver: its status, headers, body (valid UTF-8 in one attempt, with
// a byte that is not in the other), error, reasons and notes carry
// hostile bytes.
func hostileReport() *Report {
	at := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	attempt := func(n int, body string) delivery.Attempt {
		return delivery.Attempt{Delivery: 1, Number: n, Time: at, Method: "POST", URL: "http://127.0.0.1:9000/sumsub",
			RequestHeader: http.Header{"Content-Type": {"application/json"}}, RequestBody: []byte(`{"type":"applicantReviewed"}`),
			Status: 299, Latency: time.Millisecond, ResponseBody: []byte(body),
			ResponseHeader: http.Header{"X-Evil\x1b[2J": {hostile, "\xff\x1b]0;title\x07"}}}
	}
	broken := attempt(3, "")
	broken.Status, broken.ResponseHeader, broken.Err = 0, nil, "reading the answer: "+hostile+"\xff"
	return &Report{Started: at, Duration: time.Second, Version: "v1\x1b[2J", Targets: map[string]string{"sumsub": "http://127.0.0.1:9000/sumsub\x07"},
		Settings: map[string]string{"settle": "2s\x1b]52;c;ZXZpbA==\x07"}, Cases: []CaseResult{{
			ID: "sumsub.reject.signature.tampered-body", Level: "MUST", Product: "sumsub", Description: "A body changed after signing is refused.",
			Rule: "Verify X-Payload-Digest over the raw body.", Source: "Sumsub, \"Webhooks\" (https://docs.sumsub.com/docs/webhooks)", Outcome: Fail, Duration: time.Millisecond,
			Reasons: []string{"f.yaml:1:1: expected status 4xx, got 299 " + hostile + "\xff"},
			Notes:   []string{"note " + hostile},
			Steps: []scenarios.StepResult{
				{Index: 1, Kind: "send", Label: "send applicantReviewed", Failures: []string{"expected status 4xx, got 299 " + hostile},
					Attempts: []delivery.Attempt{attempt(1, hostile)}},
				{Index: 2, Kind: "send", Label: "send applicantReviewed", Failures: []string{"expected status 4xx, got 299 " + hostile},
					Attempts: []delivery.Attempt{attempt(2, hostile+"\xff")}},
				{Index: 3, Kind: "send", Label: "send applicantReviewed", Failures: []string{"expected status 4xx, got no answer"},
					Attempts: []delivery.Attempt{broken}},
			},
		}}}
}

// terminalControls returns what in s a terminal could act on: C0 controls
// other than newline and tab, DEL, C1 controls, bidi controls, and bytes
// that are not valid UTF-8.
func terminalControls(s string) []string {
	var bad []string
	for i, r := range s {
		if (r < 0x20 && r != '\n' && r != '\t') || (r >= 0x7f && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) ||
			(r == utf8.RuneError && !strings.HasPrefix(s[i:], "\ufffd")) {
			bad = append(bad, fmt.Sprintf("%q at %d", r, i))
		}
	}
	return bad
}

// xmlForbidden returns the characters in s that XML 1.0 does not allow.
func xmlForbidden(s string) []string {
	var bad []string
	for i, r := range s {
		ok := r == '\t' || r == '\n' || r == '\r' || (r >= 0x20 && r <= 0xd7ff) || (r >= 0xe000 && r <= 0xfffd) || (r >= 0x10000 && r <= 0x10ffff)
		if !ok || (r == utf8.RuneError && !strings.HasPrefix(s[i:], "\ufffd")) {
			bad = append(bad, fmt.Sprintf("%q at %d", r, i))
		}
	}
	return bad
}

// TestHostileAnswer checks every report format against a hostile
// receiver's answer: nothing reaches a terminal as a control, the JUnit
// file is valid XML, the JSON carries the bodies exactly, and the HTML
// page runs no script of the receiver's.
func TestHostileAnswer(t *testing.T) {
	if len(terminalControls(hostile)) < 8 || len(xmlForbidden(hostile)) < 3 {
		t.Fatal("the checks miss the hostile answer's controls")
	}
	escaped := []string{`\x1b[2J`, `\x1b]52;c;ZXZpbA==\x07`, `nul\x00 vt\x0b \ufffe csi\u009b31m \u202e`}

	t.Run("text", func(t *testing.T) {
		for _, st := range []TextStyle{{}, {Color: true}} {
			var b bytes.Buffer
			WriteText(&b, hostileReport(), st)
			out := b.String()
			if st.Color {
				out = strings.NewReplacer("\x1b[31m", "", "\x1b[0m", "").Replace(out) // our own colours
			}
			if bad := terminalControls(out); len(bad) > 0 {
				t.Errorf("raw controls %v in\n%s", bad, out)
			}
			for _, want := range append(escaped, `X-Evil\x1b[2J: \xff\x1b]0;title\x07`, "< 299  (1ms)", `error: reading the answer: \x1b[2J`,
				`note: note \x1b[2J`, `kycsim v1\x1b[2J`, `target sumsub: http://127.0.0.1:9000/sumsub\x07`, `settings: settle=2s\x1b]52;c;ZXZpbA==\x07`) {
				if !strings.Contains(out, want) {
					t.Errorf("the text report lacks %q:\n%s", want, out)
				}
			}
			for _, l := range strings.Split(out, "\n") {
				if strings.HasPrefix(l, "PASS") {
					t.Errorf("the receiver forged a line: %q", l)
				}
			}
		}
	})

	t.Run("junit", func(t *testing.T) {
		var b bytes.Buffer
		if err := WriteJUnit(&b, hostileReport()); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if bad := xmlForbidden(out); len(bad) > 0 {
			t.Errorf("characters XML forbids %v in\n%s", bad, out)
		}
		if bad := terminalControls(out); len(bad) > 0 {
			t.Errorf("raw controls %v in\n%s", bad, out)
		}
		var doc struct {
			Suites []struct {
				Properties []struct {
					Name  string `xml:"name,attr"`
					Value string `xml:"value,attr"`
				} `xml:"properties>property"`
				Cases []struct {
					Failure struct {
						Message string `xml:"message,attr"`
						Data    string `xml:",chardata"`
					} `xml:"failure"`
					SystemOut string `xml:"system-out"`
				} `xml:"testcase"`
			} `xml:"testsuite"`
		}
		if err := xml.Unmarshal(b.Bytes(), &doc); err != nil || len(doc.Suites) != 1 || len(doc.Suites[0].Cases) != 1 {
			t.Fatalf("the JUnit file does not parse: %v\n%s", err, out)
		}
		c := doc.Suites[0].Cases[0]
		for _, want := range append(escaped, "<script>alert(1)</script> ]]>", `X-Evil\x1b[2J`) {
			if !strings.Contains(c.Failure.Data, want) {
				t.Errorf("the failure lacks %q:\n%s", want, c.Failure.Data)
			}
		}
		if !strings.Contains(c.Failure.Message, `got 299 \x1b[2J\x1b]52;c;ZXZpbA==\x07`) || !strings.HasSuffix(c.Failure.Message, `forged.case\xff`) {
			t.Errorf("failure message %q", c.Failure.Message)
		}
		if !strings.Contains(c.SystemOut, `note: note \x1b[2J`) {
			t.Errorf("system-out %q", c.SystemOut)
		}
		props := map[string]string{}
		for _, p := range doc.Suites[0].Properties {
			props[p.Name] = p.Value
		}
		if props["kycsim.version"] != `v1\x1b[2J` || props["target"] != `http://127.0.0.1:9000/sumsub\x07` || props["setting.settle"] != `2s\x1b]52;c;ZXZpbA==\x07` {
			t.Errorf("properties %q", props)
		}
	})

	t.Run("json", func(t *testing.T) {
		var b bytes.Buffer
		if err := WriteJSON(&b, hostileReport()); err != nil {
			t.Fatal(err)
		}
		if !json.Valid(b.Bytes()) {
			t.Fatalf("invalid JSON:\n%s", b.String())
		}
		if bad := terminalControls(b.String()); len(bad) > 0 {
			t.Errorf("raw controls %v in\n%s", bad, b.String())
		}
		var rep struct {
			Version  string
			Targets  map[string]string
			Settings map[string]string
			Cases    []struct {
				Notes []string
				Steps []struct {
					Attempts []map[string]any
				}
			}
		}
		var attempts []map[string]any
		if err := json.Unmarshal(b.Bytes(), &rep); err != nil {
			t.Fatal(err)
		}
		want := hostileReport()
		if rep.Version != want.Version || rep.Targets["sumsub"] != want.Targets["sumsub"] || rep.Settings["settle"] != want.Settings["settle"] {
			t.Errorf("version, targets, settings: %q %q %q", rep.Version, rep.Targets, rep.Settings)
		}
		if len(rep.Cases) == 1 {
			for _, st := range rep.Cases[0].Steps {
				attempts = append(attempts, st.Attempts...)
			}
		}
		if len(attempts) != 3 || rep.Cases[0].Notes[0] != "note "+hostile {
			t.Fatalf("%+v", rep)
		}
		as := attempts
		// Valid UTF-8: the body is text, exactly as got.
		if as[0]["responseBody"] != hostile || as[0]["responseBodyBase64"] != nil || as[0]["requestBody"] != `{"type":"applicantReviewed"}` {
			t.Errorf("attempt 1: %q", as[0])
		}
		// Not valid UTF-8: base64 only, exactly as got.
		if b64, ok := as[1]["responseBodyBase64"].(string); !ok || as[1]["responseBody"] != nil {
			t.Errorf("attempt 2: %q", as[1])
		} else if got, err := base64.StdEncoding.DecodeString(b64); err != nil || string(got) != hostile+"\xff" {
			t.Errorf("attempt 2: base64 body %q (%v)", got, err)
		}
		// No answer: neither.
		if _, ok := as[2]["responseBody"]; ok || as[2]["responseBodyBase64"] != nil || as[2]["error"] != "reading the answer: "+hostile+"\ufffd" {
			t.Errorf("attempt 3: %q", as[2])
		}
	})

	t.Run("html", func(t *testing.T) {
		var b bytes.Buffer
		if err := WriteHTML(&b, hostileReport()); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		// The page's own script is the only one, and nothing of the
		// receiver's is markup.
		if n, m := strings.Count(strings.ToLower(out), "<script"), strings.Count(strings.ToLower(out), "</script"); n != 1 || m != 1 {
			t.Errorf("%d <script> and %d </script> in the page, want the page's own one:\n%s", n, m, out)
		}
		for _, bad := range []string{"<script>alert", "<img", "<link", "</pre></details><"} {
			if strings.Contains(strings.ToLower(out), bad) {
				t.Errorf("the receiver's %q is in the page as markup", bad)
			}
		}
		for _, e := range parseHTML(t, b.Bytes()) {
			for a := range e.Attr {
				if strings.HasPrefix(strings.ToLower(a), "on") {
					t.Errorf("<%s %s=%q>: an event handler in the page", e.Name, a, e.Attr[a])
				}
			}
			if e.Name == "img" || e.Name == "link" {
				t.Errorf("a <%s> in the page", e.Name)
			}
		}
		if bad := terminalControls(out); len(bad) > 0 {
			t.Errorf("raw controls %v in\n%s", bad, out)
		}
		for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt; ]]&gt;", `\x1b[2J\x1b]52;c;ZXZpbA==\x07`, `note: note \x1b[2J`, `kycsim v1\x1b[2J`,
			"&lt;img src=x onerror=&#34;document.body.dataset.pwned=1&#34;&gt;", "&lt;/pre&gt;&lt;/details&gt;"} {
			if !strings.Contains(out, want) {
				t.Errorf("the page lacks %q", want)
			}
		}
	})
}

func TestFormatLatency(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{1641698 * time.Nanosecond, "1.64ms"}, {13676 * time.Microsecond, "13.7ms"}, {137 * time.Millisecond, "137ms"},
		{850400 * time.Nanosecond, "850µs"}, {11 * time.Second, "11s"}, {2 * time.Millisecond, "2ms"},
		{1500 * time.Millisecond, "1.5s"}, {0, "0µs"},
	} {
		if got := FormatLatency(tt.d); got != tt.want {
			t.Errorf("FormatLatency(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
