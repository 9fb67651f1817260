package conformance

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/jstemmer/go-junit-report/v2/junit"

	"github.com/kycsim/kycsim/simulator/delivery"
)

// Latencies summarises the answer latencies of every attempt that got an
// answer.
type Latencies struct {
	Count              int           `json:"count"`
	P50, P90, P99, Max time.Duration `json:"-"`
	P50Ms              float64       `json:"p50Ms"`
	P90Ms              float64       `json:"p90Ms"`
	P99Ms              float64       `json:"p99Ms"`
	MaxMs              float64       `json:"maxMs"`
}

// Latencies computes the run's latency percentiles (nearest rank).
func (r *Report) Latencies() Latencies {
	var ds []time.Duration
	for _, c := range r.Cases {
		for _, s := range c.Steps {
			for _, a := range s.Attempts {
				if a.Err == "" {
					ds = append(ds, a.Latency)
				}
			}
		}
	}
	l := Latencies{Count: len(ds)}
	if len(ds) == 0 {
		return l
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	rank := func(p float64) time.Duration {
		i := int(math.Ceil(p*float64(len(ds)))) - 1
		return ds[max(0, min(i, len(ds)-1))]
	}
	l.P50, l.P90, l.P99, l.Max = rank(0.50), rank(0.90), rank(0.99), ds[len(ds)-1]
	ms := func(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }
	l.P50Ms, l.P90Ms, l.P99Ms, l.MaxMs = ms(l.P50), ms(l.P90), ms(l.P99), ms(l.Max)
	return l
}

// jsonReport is the JSON report's schema (documented in the README).
type jsonReport struct {
	Schema    string       `json:"schema"`
	Started   time.Time    `json:"started"`
	Duration  float64      `json:"durationSeconds"`
	Passed    int          `json:"passed"`
	Failed    int          `json:"failed"`
	Skipped   int          `json:"skipped"`
	Latencies Latencies    `json:"latencies"`
	Cases     []CaseResult `json:"cases"`
}

// ReportSchema names the JSON report's schema version.
const ReportSchema = "kycsim.conformance/v1"

// WriteJSON writes the report as one JSON document.
func WriteJSON(w io.Writer, r *Report) error {
	p, f, s := r.Counts()
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	cases := r.Cases
	if cases == nil {
		cases = []CaseResult{}
	}
	return enc.Encode(jsonReport{ReportSchema, r.Started.UTC(), r.Duration.Seconds(), p, f, s, r.Latencies(), cases})
}

// WriteJUnit writes the report as JUnit XML: one test suite per product,
// one test case per case; failures carry the request sent and the answer
// got, skips their reason.
func WriteJUnit(w io.Writer, r *Report) error {
	suites := junit.Testsuites{Name: "kycsim conformance"}
	byProduct := map[string]*junit.Testsuite{}
	var order []string
	for _, c := range r.Cases {
		ts := byProduct[c.Product]
		if ts == nil {
			ts = &junit.Testsuite{Name: c.Product}
			ts.SetTimestamp(r.Started)
			byProduct[c.Product] = ts
			order = append(order, c.Product)
		}
		tc := junit.Testcase{Name: c.ID, Classname: c.Product + "." + c.Level, Time: seconds(c.Duration)}
		switch c.Outcome {
		case Fail:
			tc.Failure = &junit.Result{Message: first(c.Reasons), Type: c.Level, Data: evidence(c)}
		case Skip:
			tc.Skipped = &junit.Result{Message: first(c.Reasons)}
		}
		ts.AddTestcase(tc)
	}
	for _, p := range order {
		ts := byProduct[p]
		var d time.Duration
		for _, c := range r.Cases {
			if c.Product == p {
				d += c.Duration
			}
		}
		ts.Time = seconds(d)
		suites.AddSuite(*ts)
	}
	suites.Time = seconds(r.Duration)
	return suites.WriteXML(w)
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// evidence renders a failed case: the rule, every reason, and the exact
// request and answer of each step that failed.
func evidence(c CaseResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %s\nrule: %s\nsource: %s\n", c.Level, c.ID, c.Description, c.Rule, c.Source)
	for _, r := range c.Reasons {
		fmt.Fprintf(&b, "- %s\n", r)
	}
	for _, s := range c.Steps {
		if len(s.Failures) == 0 || len(s.Attempts) == 0 {
			continue
		}
		a := s.Attempts[len(s.Attempts)-1]
		fmt.Fprintf(&b, "\nstep %d (%s), attempt %d:\n", s.Index, s.Label, a.Number)
		b.WriteString(Exchange(a))
	}
	return b.String()
}

// Exchange renders an attempt as the request sent and the answer got.
func Exchange(a delivery.Attempt) string {
	var b strings.Builder
	fmt.Fprintf(&b, "> %s %s\n", a.Method, a.URL)
	if a.From != "" {
		fmt.Fprintf(&b, "> (from %s)\n", a.From)
	}
	writeHeaders(&b, "> ", a.RequestHeader)
	fmt.Fprintf(&b, ">\n> %s\n", a.RequestBody)
	if a.Err != "" {
		fmt.Fprintf(&b, "< error: %s\n", a.Err)
		return b.String()
	}
	fmt.Fprintf(&b, "< %d %s (%s)\n", a.Status, http.StatusText(a.Status), a.Latency.Round(time.Microsecond))
	writeHeaders(&b, "< ", a.ResponseHeader)
	fmt.Fprintf(&b, "<\n< %s\n", a.ResponseBody)
	return b.String()
}

func writeHeaders(b *strings.Builder, prefix string, h http.Header) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			fmt.Fprintf(b, "%s%s: %s\n", prefix, k, v)
		}
	}
}

// TextStyle says how WriteText decorates its output.
type TextStyle struct {
	Color bool // ANSI colours (a terminal, NO_COLOR unset)
}

// WriteCase writes one case's line (and its reasons) as the text report
// shows it.
func WriteCase(w io.Writer, c CaseResult, st TextStyle) {
	mark := map[Outcome]string{Pass: "PASS", Fail: "FAIL", Skip: "SKIP"}[c.Outcome]
	if st.Color {
		mark = map[Outcome]string{Pass: "\x1b[32mPASS\x1b[0m", Fail: "\x1b[31mFAIL\x1b[0m", Skip: "\x1b[33mSKIP\x1b[0m"}[c.Outcome]
	}
	fmt.Fprintf(w, "%s %-6s %s\n", mark, c.Level, c.ID)
	for _, r := range c.Reasons {
		fmt.Fprintf(w, "       %s\n", r)
	}
	if c.Outcome == Fail {
		fmt.Fprintf(w, "       rule: %s (%s)\n", c.Rule, c.Source)
		for _, s := range c.Steps {
			if len(s.Failures) > 0 && len(s.Attempts) > 0 {
				for _, line := range strings.Split(strings.TrimRight(Exchange(s.Attempts[len(s.Attempts)-1]), "\n"), "\n") {
					fmt.Fprintf(w, "       %s\n", line)
				}
			}
		}
	}
}

// WriteSummary writes the text report's closing lines.
func WriteSummary(w io.Writer, r *Report) {
	p, f, s := r.Counts()
	l := r.Latencies()
	fmt.Fprintf(w, "\n%d case(s): %d passed, %d failed, %d skipped (%s)\n", len(r.Cases), p, f, s, r.Duration.Round(time.Millisecond))
	if l.Count > 0 {
		fmt.Fprintf(w, "answer latency over %d attempts: p50 %s, p90 %s, p99 %s, max %s\n", l.Count,
			l.P50.Round(time.Microsecond), l.P90.Round(time.Microsecond), l.P99.Round(time.Microsecond), l.Max.Round(time.Microsecond))
	}
}

// WriteText writes the whole text report.
func WriteText(w io.Writer, r *Report, st TextStyle) {
	for _, c := range r.Cases {
		WriteCase(w, c, st)
	}
	WriteSummary(w, r)
}

// WriteHTML writes one self-contained HTML page: the summary, a latency
// chart (inline SVG), and every case with its request and answer. It
// loads nothing from the network.
func WriteHTML(w io.Writer, r *Report) error {
	p, f, s := r.Counts()
	type bar struct {
		X, Y, H float64
		Label   string
	}
	var bars []bar
	l := r.Latencies()
	var lat []time.Duration
	for _, c := range r.Cases {
		for _, st := range c.Steps {
			for _, a := range st.Attempts {
				if a.Err == "" {
					lat = append(lat, a.Latency)
				}
			}
		}
	}
	// A histogram of latencies in 20 buckets up to the maximum.
	if l.Max > 0 {
		var counts [20]int
		for _, d := range lat {
			i := int(float64(d) / float64(l.Max) * 19.999)
			counts[i]++
		}
		top := 1
		for _, c := range counts {
			top = max(top, c)
		}
		for i, c := range counts {
			h := float64(c) / float64(top) * 100
			bars = append(bars, bar{X: float64(i) * 30, Y: 105 - h, H: h,
				Label: fmt.Sprintf("%d answers ≤ %s", c, time.Duration(float64(l.Max)*float64(i+1)/20).Round(time.Microsecond))})
		}
	}
	type caseView struct {
		CaseResult
		Evidence string
	}
	var views []caseView
	for _, c := range r.Cases {
		v := caseView{CaseResult: c}
		var b strings.Builder
		for _, st := range c.Steps {
			for _, a := range st.Attempts {
				fmt.Fprintf(&b, "step %d (%s), attempt %d:\n%s\n", st.Index, st.Label, a.Number, Exchange(a))
			}
		}
		v.Evidence = b.String()
		views = append(views, v)
	}
	return htmlPage.Execute(w, map[string]any{
		"Started": r.Started.UTC().Format(time.RFC3339), "Duration": r.Duration.Round(time.Millisecond).String(),
		"Passed": p, "Failed": f, "Skipped": s, "Total": len(r.Cases), "Latency": l, "Bars": bars, "Cases": views,
	})
}

var htmlPage = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>kycsim conformance report</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
h1{font-size:1.4em}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
.pass{color:#186a3b}.fail{color:#b03a2e;font-weight:bold}.skip{color:#9a7d0a}
pre{background:#f6f6f6;padding:8px;overflow:auto;font-size:12px;max-height:30em}
.summary span{margin-right:1.5em}
</style></head><body>
<h1>kycsim conformance report</h1>
<p class="summary"><span>{{.Total}} cases</span><span class="pass">{{.Passed}} passed</span><span class="fail">{{.Failed}} failed</span><span class="skip">{{.Skipped}} skipped</span><span>started {{.Started}}</span><span>took {{.Duration}}</span></p>
<h2>Answer latency</h2>
<p>{{.Latency.Count}} answers: p50 {{.Latency.P50}}, p90 {{.Latency.P90}}, p99 {{.Latency.P99}}, max {{.Latency.Max}}</p>
<svg id="latency" width="600" height="110" viewBox="0 0 600 110" role="img" aria-label="latency histogram">
{{range .Bars}}<rect x="{{.X}}" y="{{printf "%.1f" .Y}}" width="26" height="{{printf "%.1f" .H}}" fill="#5b8def"><title>{{.Label}}</title></rect>
{{end}}</svg>
<h2>Cases</h2>
<table><thead><tr><th>outcome</th><th>level</th><th>case</th><th>what and why</th></tr></thead><tbody>
{{range .Cases}}<tr class="case" id="{{.ID}}"><td class="{{.Outcome}}">{{.Outcome}}</td><td>{{.Level}}</td><td>{{.ID}}<br><small>{{.Product}}</small></td>
<td>{{.Description}}<br><small>rule: {{.Rule}} ({{.Source}})</small>{{range .Reasons}}<div class="reason">{{.}}</div>{{end}}
<details><summary>requests and answers</summary><pre>{{.Evidence}}</pre></details></td></tr>
{{end}}</tbody></table>
</body></html>
`))
