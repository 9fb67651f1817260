package conformance

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jstemmer/go-junit-report/v2/junit"

	"github.com/kycsim/kycsim/conformance/safetext"
	"github.com/kycsim/kycsim/scenarios"
	"github.com/kycsim/kycsim/simulator/delivery"
)

// Every report shows what the receiver answered, and a receiver may be
// hostile or broken: its bytes never reach a report as they are. The text
// report (and the text blocks of the others) escapes them with
// safetext.Terminal, JUnit attributes with safetext.XML, the JSON report
// carries bodies as JSON strings (or base64) and is passed through
// safetext.JSON, and the HTML page escapes them as the text report does
// before html/template escapes the markup.

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
	Schema  string `json:"schema"`
	Kind    string `json:"kind"`
	Version string `json:"version"`
	// Seed is the seed the run's generated values came from (also in
	// Settings).
	Seed      string            `json:"seed,omitempty"`
	Started   time.Time         `json:"started"`
	Duration  float64           `json:"durationSeconds"`
	Targets   map[string]string `json:"targets"`
	Settings  map[string]string `json:"settings"`
	Passed    int               `json:"passed"`
	Failed    int               `json:"failed"`
	Skipped   int               `json:"skipped"`
	Latencies Latencies         `json:"latencies"`
	// GaveUp says why the run stopped early, when it did.
	GaveUp string `json:"gaveUp,omitempty"`
	// Capacity are the capacity findings (Report.Capacity).
	Capacity []delivery.CapacityFinding `json:"capacity,omitempty"`
	Cases    []jsonCase                 `json:"cases"`
}

// jsonCase is a case as the JSON report has it: a CaseResult whose
// attempts carry their bodies as text.
type jsonCase struct {
	CaseResult
	Steps []jsonStep `json:"steps"`
}

// jsonStep is a step whose attempts carry their bodies as text.
type jsonStep struct {
	scenarios.StepResult
	Attempts []jsonAttempt `json:"attempts,omitempty"`
}

// jsonAttempt is an attempt whose bodies are JSON strings when they are
// valid UTF-8, and base64 (under requestBodyBase64, responseBodyBase64)
// only otherwise: exactly one of each pair is present, except that an
// empty answer has neither.
type jsonAttempt struct {
	delivery.Attempt
	RequestBody        *string `json:"requestBody,omitempty"`
	RequestBodyBase64  string  `json:"requestBodyBase64,omitempty"`
	ResponseBody       string  `json:"responseBody,omitempty"`
	ResponseBodyBase64 string  `json:"responseBodyBase64,omitempty"`
}

func newJSONAttempt(a delivery.Attempt) jsonAttempt {
	j := jsonAttempt{Attempt: a}
	if utf8.Valid(a.RequestBody) {
		s := string(a.RequestBody)
		j.RequestBody = &s
	} else {
		j.RequestBodyBase64 = base64.StdEncoding.EncodeToString(a.RequestBody)
	}
	if utf8.Valid(a.ResponseBody) {
		j.ResponseBody = string(a.ResponseBody)
	} else {
		j.ResponseBodyBase64 = base64.StdEncoding.EncodeToString(a.ResponseBody)
	}
	return j
}

// ReportSchema names the JSON report's schema version.
const ReportSchema = "kycsim.conformance/v1"

// WriteJSON writes the report as one JSON document. Bodies are JSON
// strings when they are valid UTF-8 and base64 otherwise (see
// jsonAttempt), and the document is safe to print on a terminal
// (safetext.JSON).
func WriteJSON(w io.Writer, r *Report) error {
	p, f, s := r.Counts()
	cases := make([]jsonCase, 0, len(r.Cases))
	for _, c := range r.Cases {
		jc := jsonCase{CaseResult: c}
		for _, st := range c.Steps {
			js := jsonStep{StepResult: st}
			for _, a := range st.Attempts {
				js.Attempts = append(js.Attempts, newJSONAttempt(a))
			}
			jc.Steps = append(jc.Steps, js)
		}
		cases = append(cases, jc)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	err := enc.Encode(jsonReport{
		Schema: ReportSchema, Kind: r.kind(), Version: r.Version, Seed: r.Settings["seed"], Started: r.Started.UTC(), Duration: r.Duration.Seconds(),
		Targets: orEmpty(r.Targets), Settings: orEmpty(r.Settings),
		Passed: p, Failed: f, Skipped: s, Latencies: r.Latencies(), GaveUp: r.GaveUp, Capacity: r.Capacity, Cases: cases,
	})
	if err != nil {
		return err
	}
	_, err = w.Write(safetext.JSON(b.Bytes()))
	return err
}

// kind returns the report's kind, KindConformance when it is unset.
func (r *Report) kind() string {
	return cmp.Or(r.Kind, KindConformance)
}

// noun names what the report's results are: cases or scenarios.
func (r *Report) noun() string {
	if r.kind() == KindScenarios {
		return "scenario"
	}
	return "case"
}

// orEmpty returns m, or an empty map for nil, so that JSON has {} rather
// than null.
func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// WriteJUnit writes the report as JUnit XML: one test suite per product,
// one test case per case; failures carry the request sent and the answer
// got, skips their reason, and a case's notes are its system-out. Each
// suite's properties name the kycsim version, the product's target and
// the run's settings. What may come from the receiver (reasons, notes,
// the evidence) is as the text report shows it, escaped with
// safetext.Terminal or TerminalLine, whose output is valid XML too; every
// other string is escaped with safetext.XML.
func WriteJUnit(w io.Writer, r *Report) error {
	suites := junit.Testsuites{Name: "kycsim " + r.kind()}
	byProduct := map[string]*junit.Testsuite{}
	var order []string
	for _, c := range r.Cases {
		ts := byProduct[c.Product]
		if ts == nil {
			ts = &junit.Testsuite{Name: safetext.XML(c.Product)}
			ts.SetTimestamp(r.Started)
			if r.Version != "" {
				ts.AddProperty("kycsim.version", safetext.XML(r.Version))
			}
			if t, ok := r.Targets[c.Product]; ok {
				ts.AddProperty("target", safetext.XML(t))
			}
			for _, k := range sortedKeys(r.Settings) {
				ts.AddProperty("setting."+safetext.XML(k), safetext.XML(r.Settings[k]))
			}
			byProduct[c.Product] = ts
			order = append(order, c.Product)
		}
		tc := junit.Testcase{Name: safetext.XML(c.ID), Classname: safetext.XML(classname(c)), Time: seconds(c.Duration)}
		switch c.Outcome {
		case Fail:
			tc.Failure = &junit.Result{Message: safetext.TerminalLine(first(c.Reasons)), Type: safetext.XML(c.Level), Data: evidence(c)}
		case Skip:
			tc.Skipped = &junit.Result{Message: safetext.TerminalLine(first(c.Reasons))}
		}
		if len(c.Notes) > 0 || (c.Outcome == Pass && c.Unobserved) {
			var b strings.Builder
			for _, n := range c.Notes {
				fmt.Fprintf(&b, "note: %s\n", safetext.TerminalLine(n))
			}
			if c.Outcome == Pass {
				for _, u := range c.UnobservedChecks {
					fmt.Fprintf(&b, "not observed: %s\n", safetext.TerminalLine(u))
				}
			}
			tc.SystemOut = &junit.Output{Data: b.String()}
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

// classname is a result's JUnit class: product.level, or the product
// alone for a scenario that has no level.
func classname(c CaseResult) string {
	if c.Level == "" {
		return c.Product
	}
	return c.Product + "." + c.Level
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// evidence renders a failed case: the rule, every reason, and for each
// step that failed, where it is, the exact request and answer of its last
// attempt, and the command that replays it; escaped for a terminal.
func evidence(c CaseResult) string {
	line := safetext.TerminalLine
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n", line(strings.TrimSpace(c.Level+" "+c.ID)), line(c.Description))
	if c.Rule != "" || c.Source != "" {
		fmt.Fprintf(&b, "rule: %s\nsource: %s\n", line(c.Rule), line(c.Source))
	}
	for _, r := range c.Reasons {
		fmt.Fprintf(&b, "- %s\n", line(r))
	}
	for i, s := range c.Steps {
		if len(s.Failures) == 0 || len(s.Attempts) == 0 {
			continue
		}
		b.WriteString("\n" + stepHeading(s) + "\n")
		b.WriteString(Exchange(s.Attempts[len(s.Attempts)-1]))
		if rp, ok := replayOf(c, i); ok {
			fmt.Fprintf(&b, "replay: %s\n", line(rp.Command))
		}
	}
	return b.String()
}

// stepHeading names a failed step, where it is and its last attempt.
func stepHeading(s scenarios.StepResult) string {
	line := safetext.TerminalLine
	h := fmt.Sprintf("step %d (%s)", s.Index, line(s.Label))
	if s.Pos != "" {
		h += " at " + line(s.Pos)
	}
	if n := len(s.Attempts); n > 0 {
		h += fmt.Sprintf(", attempt %d:", s.Attempts[n-1].Number)
	}
	return h
}

// replayOf returns the replay of the result's step i, if it has one.
func replayOf(c CaseResult, i int) (Replay, bool) {
	for _, rp := range c.Replays {
		if rp.Step == i {
			return rp, true
		}
	}
	return Replay{}, false
}

// Exchange renders an attempt as the request sent and the answer got,
// one line per header and per line of a body, each marked > (sent) or <
// (got). Every piece is escaped with safetext (TerminalLine, Terminal for
// the bodies), so the result is safe to print and is valid XML text.
func Exchange(a delivery.Attempt) string {
	line := safetext.TerminalLine
	var b strings.Builder
	fmt.Fprintf(&b, "> %s %s\n", line(a.Method), line(a.URL))
	if a.From != "" {
		fmt.Fprintf(&b, "> (from %s)\n", line(a.From))
	}
	writeHeaders(&b, "> ", a.RequestHeader)
	b.WriteString(">\n")
	writeBody(&b, "> ", a.RequestBody)
	if a.Err != "" {
		fmt.Fprintf(&b, "< error: %s\n", line(a.Err))
		return b.String()
	}
	fmt.Fprintf(&b, "< %d %s (%s)\n", a.Status, http.StatusText(a.Status), FormatLatency(a.Latency))
	writeHeaders(&b, "< ", a.ResponseHeader)
	b.WriteString("<\n")
	writeBody(&b, "< ", a.ResponseBody)
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
			fmt.Fprintf(b, "%s%s: %s\n", prefix, safetext.TerminalLine(k), safetext.TerminalLine(v))
		}
	}
}

// writeBody writes a body escaped for a terminal, each of its lines
// marked with prefix (one final newline dropped); an empty body writes
// nothing.
func writeBody(b *strings.Builder, prefix string, body []byte) {
	if len(body) == 0 {
		return
	}
	s := strings.TrimSuffix(safetext.Terminal(string(body)), "\n")
	for _, l := range strings.Split(s, "\n") {
		b.WriteString(prefix)
		b.WriteString(l)
		b.WriteByte('\n')
	}
}

// TextStyle says how WriteText decorates its output.
type TextStyle struct {
	Color bool // ANSI colours (a terminal, NO_COLOR unset)
}

// WriteCase writes one case's line (and its reasons and notes) as the
// text report shows it; a failed case shows its rule and, for each step
// that failed, where it is, its last request and answer, and the command
// that replays it. What came from the receiver is escaped with safetext,
// so no byte of it reaches the terminal as a control.
func WriteCase(w io.Writer, c CaseResult, st TextStyle) {
	line := safetext.TerminalLine
	mark := map[Outcome]string{Pass: "PASS", Fail: "FAIL", Skip: "SKIP"}[c.Outcome]
	if st.Color {
		mark = map[Outcome]string{Pass: "\x1b[32mPASS\x1b[0m", Fail: "\x1b[31mFAIL\x1b[0m", Skip: "\x1b[33mSKIP\x1b[0m"}[c.Outcome]
	}
	if c.Level == "" {
		fmt.Fprintf(w, "%s %s\n", mark, line(c.ID))
	} else {
		fmt.Fprintf(w, "%s %-6s %s\n", mark, line(c.Level), line(c.ID))
	}
	for _, r := range c.Reasons {
		fmt.Fprintf(w, "       %s\n", line(r))
	}
	for _, n := range c.Notes {
		fmt.Fprintf(w, "       note: %s\n", line(n))
	}
	if c.Outcome == Pass {
		for _, u := range c.UnobservedChecks {
			fmt.Fprintf(w, "       not observed: %s\n", line(u))
		}
	}
	if c.Outcome != Fail {
		return
	}
	if c.Rule != "" {
		fmt.Fprintf(w, "       rule: %s (%s)\n", line(c.Rule), line(c.Source))
	}
	WriteFailedSteps(w, c, "       ")
}

// WriteFailedSteps writes, for each step of a result that failed after
// sending something, where the step is, its last request and answer, and
// the command that replays it, each line after indent.
func WriteFailedSteps(w io.Writer, c CaseResult, indent string) {
	for i, s := range c.Steps {
		if len(s.Failures) == 0 || len(s.Attempts) == 0 {
			continue
		}
		fmt.Fprintf(w, "%s%s\n", indent, stepHeading(s))
		for _, l := range strings.Split(strings.TrimRight(Exchange(s.Attempts[len(s.Attempts)-1]), "\n"), "\n") {
			fmt.Fprintf(w, "%s%s\n", indent, l)
		}
		if rp, ok := replayOf(c, i); ok {
			fmt.Fprintf(w, "%sreplay: %s\n", indent, safetext.TerminalLine(rp.Command))
		}
	}
}

// WriteSummary writes the text report's closing lines: the kycsim
// version, the targets, the settings, the counts and the latencies.
func WriteSummary(w io.Writer, r *Report) {
	line := safetext.TerminalLine
	p, f, s := r.Counts()
	l := r.Latencies()
	fmt.Fprintln(w)
	if r.Version != "" {
		fmt.Fprintf(w, "kycsim %s\n", line(r.Version))
	}
	for _, k := range sortedKeys(r.Targets) {
		fmt.Fprintf(w, "target %s: %s\n", line(k), line(r.Targets[k]))
	}
	if len(r.Settings) > 0 {
		var kv []string
		for _, k := range sortedKeys(r.Settings) {
			kv = append(kv, line(k)+"="+line(r.Settings[k]))
		}
		fmt.Fprintf(w, "settings: %s\n", strings.Join(kv, ", "))
	}
	unobserved, checks := r.Unobserved()
	noun := r.noun()
	fmt.Fprintf(w, "%d %s(s): %d passed, %d failed, %d skipped (%s)\n", len(r.Cases), noun, p, f, s, r.Duration.Round(time.Millisecond))
	if unobserved > 0 {
		fmt.Fprintf(w, "%d effect check(s) of %d %s(s) could not be observed (no probe): their answers were checked, their effects prove nothing\n", checks, unobserved, noun)
	}
	if r.GaveUp != "" {
		fmt.Fprintf(w, "stopped early: %s\n", line(r.GaveUp))
	}
	for _, c := range r.Capacity {
		fmt.Fprintf(w, "capacity: %s\n", line(c.String()))
	}
	if n := r.CapacityLost(); n > 0 {
		fmt.Fprintf(w, "%d %s(s) not judged: the target had no room for kycsim's requests, also one at a time; a capacity finding, not a failure of those %ss\n", n, noun, noun)
	}
	if l.Count > 0 {
		fmt.Fprintf(w, "answer latency over %d attempts: p50 %s, p90 %s, p99 %s, max %s\n", l.Count,
			FormatLatency(l.P50), FormatLatency(l.P90), FormatLatency(l.P99), FormatLatency(l.Max))
	}
}

// WriteText writes the whole text report.
func WriteText(w io.Writer, r *Report, st TextStyle) {
	for _, c := range r.Cases {
		WriteCase(w, c, st)
	}
	WriteSummary(w, r)
}

// FormatLatency writes an answer latency for people: three significant
// digits at most, in µs, ms or s (1.64ms, 13.7ms, 850µs, 11s), never the
// nanosecond tail a Duration prints (1.641698ms).
func FormatLatency(d time.Duration) string {
	unit, scale := "s", float64(time.Second)
	switch {
	case d < time.Millisecond:
		unit, scale = "µs", float64(time.Microsecond)
	case d < time.Second:
		unit, scale = "ms", float64(time.Millisecond)
	}
	v := float64(d) / scale
	digits := 0
	switch {
	case v < 10:
		digits = 2
	case v < 100:
		digits = 1
	}
	if unit == "µs" {
		digits = 0
	}
	out := strconv.FormatFloat(v, 'f', digits, 64)
	if strings.Contains(out, ".") {
		out = strings.TrimRight(strings.TrimRight(out, "0"), ".")
	}
	return out + unit
}
