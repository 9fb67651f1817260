package conformance

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

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
	return &Report{Started: at, Duration: 1234 * time.Millisecond, Cases: []CaseResult{
		{ID: "sumsub.accept.message.applicant-reviewed", Level: "MUST", Product: "sumsub", Description: "A signed applicantReviewed webhook is acknowledged.",
			Rule: "Acknowledge every documented type.", Source: "seeds/002", Outcome: Pass, Duration: 3 * time.Millisecond,
			Steps: []scenarios.StepResult{{Index: 1, Kind: "send", Label: "send applicantReviewed", Attempts: []delivery.Attempt{attempt(200, 2*time.Millisecond, `{"ok":true}`)}}}},
		{ID: "sumsub.reject.signature.tampered-body", Level: "MUST", Product: "sumsub", Description: "A body changed after signing is refused.",
			Rule: "Verify X-Payload-Digest over the raw body.", Source: "seeds/002", Outcome: Fail, Duration: 5 * time.Millisecond,
			Reasons: []string{"f.yaml:11:13: expected status 4xx, got 200 {\"ok\":true}"},
			Steps:   []scenarios.StepResult{{Index: 1, Kind: "send", Label: "send applicantReviewed", Failures: []string{"expected status 4xx, got 200"}, Attempts: []delivery.Attempt{attempt(200, 4*time.Millisecond, `{"ok":true}`)}}}},
		{ID: "sumsub.dedup.identical", Level: "MUST", Product: "sumsub", Description: "The same webhook twice is acted on once.",
			Rule: "Act on an event once.", Source: "VENDOR-FACTS.md", Outcome: Skip, Duration: time.Millisecond,
			Reasons: []string{"events/status: the target offers no probe (--probe)"}},
		{ID: "jumio-kyx.timing.fast-answer", Level: "SHOULD", Product: "jumio-kyx", Description: "The receiver answers in under 1 s.",
			Rule: "Answer at once.", Source: "seeds/000", Outcome: Pass, Duration: 2 * time.Millisecond,
			Steps: []scenarios.StepResult{{Index: 1, Kind: "send", Label: "send PROCESSED", Attempts: []delivery.Attempt{attempt(200, 8*time.Millisecond, "")}}}},
	}}
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

// TestHTMLReport checks that the page parses, holds every case, and loads
// nothing from elsewhere.
func TestHTMLReport(t *testing.T) {
	var b bytes.Buffer
	rep := fixedReport()
	if err := WriteHTML(&b, rep); err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(bytes.NewReader(b.Bytes()))
	dec.Strict, dec.AutoClose, dec.Entity = false, xml.HTMLAutoClose, xml.HTMLEntity
	ids := map[string]bool{}
	rects := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("the page does not parse: %v", err)
			}
			break
		}
		if se, ok := tok.(xml.StartElement); ok {
			for _, a := range se.Attr {
				if a.Name.Local == "id" {
					ids[a.Value] = true
				}
				if (a.Name.Local == "src" || a.Name.Local == "href") && strings.Contains(a.Value, "//") {
					t.Errorf("<%s> loads %s", se.Name.Local, a.Value)
				}
			}
			if se.Name.Local == "rect" {
				rects++
			}
		}
	}
	for _, c := range rep.Cases {
		if !ids[c.ID] {
			t.Errorf("case %s is not in the page", c.ID)
		}
	}
	if !ids["latency"] || rects != 20 {
		t.Errorf("latency chart: %v, %d bars", ids["latency"], rects)
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
