package conformance

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kycsim/kycsim/conformance/safetext"
	"github.com/kycsim/kycsim/simulator/delivery"
)

// The HTML page is one self-contained file: its style and its one script
// are inline, its chart is inline SVG, and a Content-Security-Policy
// meta tag forbids everything else (no request leaves the page, and the
// only script that may run is the page's own, named by its hash, so that
// not even an inline event handler could run were escaping ever to fail).
//
// Text from the receiver is escaped as in the text report (safetext)
// before html/template escapes the markup. Highlighting an offending
// field works on that escaped text: the evidence is cut into spans, some
// marked, and html/template escapes each span, so a mark never carries
// markup of the receiver's.

// WriteHTML writes one self-contained HTML page: the version, targets and
// settings, the summary, a latency chart (inline SVG, one series per
// product, with the vendors' answer deadlines marked), and every case
// (failures first, then skips, then passes) with its notes, requests and
// answers. A small inline script adds a filter (by outcome, and a text
// search); without it every case shows. The page honours a fragment
// such as #filter=failed&q=signature. It loads nothing from the network.
func WriteHTML(w io.Writer, r *Report) error {
	return htmlPage.Execute(w, newHTMLView(r))
}

// htmlView is what the page template shows; every string in it is
// already escaped with safetext.
type htmlView struct {
	Script template.JS
	// Title names the report: conformance or scenarios.
	Title                       string
	Version, Started, Duration  string
	GaveUp                      string
	Capacity                    []string
	Targets, Settings           []htmlPair
	Passed, Failed, Skipped     int
	Total, Unobserved, NoAnswer int
	Latency                     Latencies
	// Chart is the latency chart for wide screens, Narrow the same
	// laid out for a phone's width (one shows, by the page's style).
	Chart, Narrow *htmlChart
	Groups        []htmlGroup
}

type htmlPair struct{ Name, Value string }

// htmlGroup is the cases of one outcome.
type htmlGroup struct {
	Outcome Outcome
	Title   string
	Cases   []htmlCase
}

type htmlCase struct {
	ID, Level, Product, Description, Rule, Source string
	Outcome                                       Outcome
	Unobserved                                    bool
	Reasons, Notes                                []string
	// Fields are the fields a failure names, marked in the evidence.
	Fields []string
	// Replays are the commands that replay the failed steps.
	Replays  []htmlPair
	Evidence []htmlSpan
}

// htmlSpan is a piece of the evidence, marked when it shows an offending
// field.
type htmlSpan struct {
	Text string
	Mark bool
}

func newHTMLView(r *Report) htmlView {
	line := safetext.TerminalLine
	p, f, s := r.Counts()
	v := htmlView{Script: template.JS(htmlScript), Title: "kycsim " + r.kind() + " report", Version: line(r.Version), GaveUp: line(r.GaveUp),
		Started: r.Started.UTC().Format(time.RFC3339), Duration: r.Duration.Round(time.Millisecond).String(),
		Passed: p, Failed: f, Skipped: s, Total: len(r.Cases), Latency: r.Latencies()}
	for _, k := range sortedKeys(r.Targets) {
		v.Targets = append(v.Targets, htmlPair{line(k), line(r.Targets[k])})
	}
	for _, k := range sortedKeys(r.Settings) {
		v.Settings = append(v.Settings, htmlPair{line(k), line(r.Settings[k])})
	}
	v.Chart, v.NoAnswer = newHTMLChart(r, chartWide)
	v.Narrow, _ = newHTMLChart(r, chartNarrow)
	for _, c := range r.Capacity {
		v.Capacity = append(v.Capacity, line(c.String()))
	}
	groups := map[Outcome]*htmlGroup{
		Fail: {Outcome: Fail, Title: "Failed"}, Skip: {Outcome: Skip, Title: "Skipped"}, Pass: {Outcome: Pass, Title: "Passed"},
	}
	v.Unobserved, _ = r.Unobserved()
	for _, c := range r.Cases {
		hc := newHTMLCase(c)
		g := groups[c.Outcome]
		if g == nil {
			g = groups[Skip] // an outcome this page does not know is no pass
		}
		g.Cases = append(g.Cases, hc)
	}
	for _, o := range []Outcome{Fail, Skip, Pass} {
		if g := groups[o]; len(g.Cases) > 0 {
			v.Groups = append(v.Groups, *g)
		}
	}
	return v
}

func newHTMLCase(c CaseResult) htmlCase {
	line := safetext.TerminalLine
	hc := htmlCase{ID: line(c.ID), Level: line(c.Level), Product: line(c.Product), Description: line(c.Description),
		Rule: line(c.Rule), Source: line(c.Source), Outcome: c.Outcome, Unobserved: c.Unobserved}
	if hc.Outcome != Pass && hc.Outcome != Fail {
		hc.Outcome = Skip
	}
	for _, x := range c.Reasons {
		hc.Reasons = append(hc.Reasons, line(x))
	}
	for _, x := range c.Notes {
		hc.Notes = append(hc.Notes, line(x))
	}
	if c.Outcome == Pass {
		for _, x := range c.UnobservedChecks {
			hc.Notes = append(hc.Notes, "not observed: "+line(x))
		}
	}
	for _, rp := range c.Replays {
		hc.Replays = append(hc.Replays, htmlPair{line(rp.Pos), line(rp.Command)})
	}
	var b strings.Builder
	for _, st := range c.Steps {
		for _, a := range st.Attempts {
			fmt.Fprintf(&b, "step %d (%s), attempt %d:\n%s\n", st.Index, line(st.Label), a.Number, Exchange(a))
		}
	}
	var fields []string
	if c.Outcome == Fail {
		fields = failedFields(c)
	}
	hc.Evidence, hc.Fields = markFields(strings.TrimRight(b.String(), "\n"), fields)
	return hc
}

// A failure names a field as a JSON pointer (/review/reviewAnswer) or in
// words (field "reviewAnswer", field `x`).
var (
	pointerRe = regexp.MustCompile("(?:^|[\\s\"'`(\\[])((?:/[A-Za-z0-9_.~-]+)+)")
	fieldRe   = regexp.MustCompile("\\b(?:field|key|property|parameter)s? [\"'`]?([A-Za-z_][A-Za-z0-9_.-]*)")
)

// failedFields returns the names of the fields a failed case's reasons
// and step failures name, in order, without repeats.
func failedFields(c CaseResult) []string {
	texts := append([]string(nil), c.Reasons...)
	for _, st := range c.Steps {
		texts = append(texts, st.Failures...)
	}
	var out []string
	seen := map[string]bool{}
	add := func(name string) {
		if name != "" && !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	for _, t := range texts {
		for _, m := range pointerRe.FindAllStringSubmatch(t, -1) {
			tokens := strings.Split(m[1], "/")
			last := tokens[len(tokens)-1]
			if _, err := strconv.Atoi(last); err == nil && len(tokens) > 2 {
				last = tokens[len(tokens)-2] // an array index: mark the array
			}
			add(strings.NewReplacer("~1", "/", "~0", "~").Replace(last))
		}
		for _, m := range fieldRe.FindAllStringSubmatch(t, -1) {
			name := strings.TrimRight(m[1], ".-")
			add(name[strings.LastIndex(name, ".")+1:])
		}
	}
	return out
}

// markFields cuts evidence (text already escaped with safetext) into
// spans, marking every place that shows one of the fields: a JSON member
// ("name": value, the value when it is a scalar) or a form parameter
// (name=value). It returns the fields it found in the evidence.
func markFields(evidence string, fields []string) ([]htmlSpan, []string) {
	type span struct{ from, to int }
	var marks []span
	var found []string
	for _, f := range fields {
		e := safetext.TerminalLine(f)
		q := regexp.QuoteMeta(e)
		re := regexp.MustCompile(`"` + q + `"\s*:\s*(?:"(?:[^"\\\n]|\\.)*"|-?[0-9][0-9.eE+-]*|true|false|null)?` +
			`|(?:^|[?&\s])(` + q + `=[^&\s]*)`)
		n := 0
		for _, m := range re.FindAllStringSubmatchIndex(evidence, -1) {
			if m[2] >= 0 {
				m[0], m[1] = m[2], m[3]
			}
			marks = append(marks, span{m[0], m[1]})
			n++
		}
		if n > 0 {
			found = append(found, e)
		}
	}
	if len(marks) == 0 {
		if evidence == "" {
			return nil, found
		}
		return []htmlSpan{{Text: evidence}}, found
	}
	sort.Slice(marks, func(i, j int) bool { return marks[i].from < marks[j].from })
	var out []htmlSpan
	at := 0
	for _, m := range marks {
		if m.to <= at {
			continue
		}
		if m.from > at {
			out = append(out, htmlSpan{Text: evidence[at:m.from]})
		}
		from := max(m.from, at)
		out = append(out, htmlSpan{Text: evidence[from:m.to], Mark: true})
		at = m.to
	}
	if at < len(evidence) {
		out = append(out, htmlSpan{Text: evidence[at:]})
	}
	return out, found
}

// htmlChart is the latency chart, laid out: a histogram on a log scale
// of answer latency, one stacked series per product, and a line at each
// vendor answer deadline. Coordinates are in the SVG's viewBox.
type htmlChart struct {
	ID                       string // the svg element's id
	Width, Height            float64
	Left, Right, Top, Bottom float64
	Bars                     []htmlBar
	XTicks, YTicks           []htmlTick
	Deadlines                []htmlDeadline
	Legend                   []htmlLegend
}

type htmlBar struct {
	X, Y, W, H float64
	Series     int
	Title      string
}

type htmlTick struct {
	At    float64
	Label string
}

type htmlDeadline struct {
	X, LabelY float64
	Label     string
}

type htmlLegend struct {
	Series           int
	Product          string
	Answers, Missing int
	Deadline         string
}

// chartFloor is the chart's lowest bucket edge: faster answers count in
// the first bucket.
const chartFloor = 100 * time.Microsecond

// The latency chart's widths in its viewBox: chartWide for screens wider
// than a phone, chartNarrow for a phone (375 px), where the text keeps its
// size and the deadline stays in sight instead of off to the side.
const (
	chartWide   = 720
	chartNarrow = 360
)

// newHTMLChart lays out the latency chart at a width, nil when no attempt
// was made, and counts the attempts that got no answer.
func newHTMLChart(r *Report, width float64) (*htmlChart, int) {
	type series struct {
		product  string
		lat      []time.Duration
		missing  int
		deadline time.Duration
	}
	byProduct := map[string]*series{}
	top := chartFloor
	for _, c := range r.Cases {
		for _, st := range c.Steps {
			for _, a := range st.Attempts {
				product := a.Product
				if product == "" {
					product = c.Product
				}
				s := byProduct[product]
				if s == nil {
					s = &series{product: product}
					byProduct[product] = s
				}
				s.deadline = max(s.deadline, delivery.PolicyFor(product, a.Message).AnswerTimeout)
				top = max(top, s.deadline)
				if a.Err != "" {
					s.missing++
					continue
				}
				s.lat = append(s.lat, a.Latency)
				top = max(top, a.Latency)
			}
		}
	}
	if len(byProduct) == 0 {
		return nil, 0
	}
	var all []*series
	missing := 0
	for _, s := range byProduct {
		all = append(all, s)
		missing += s.missing
	}
	sort.Slice(all, func(i, j int) bool { return all[i].product < all[j].product })

	// Bucket edges run 1, 2, 5, 10, ... from the floor to the first edge
	// above the slowest answer and every deadline.
	edges := []time.Duration{chartFloor}
	for edges[len(edges)-1] <= top {
		edges = append(edges, next125(edges[len(edges)-1]))
	}
	ch := &htmlChart{ID: "latency", Width: width, Height: 290, Left: 64, Right: width - 16, Top: 16, Bottom: 236}
	if width < chartWide {
		ch.ID, ch.Left = "latency-narrow", 52
	}
	lo, hi := math.Log10(float64(edges[0])), math.Log10(float64(edges[len(edges)-1]))
	x := func(d time.Duration) float64 {
		v := math.Log10(float64(max(d, edges[0])))
		return ch.Left + (v-lo)/(hi-lo)*(ch.Right-ch.Left)
	}
	bucket := func(d time.Duration) int {
		i := sort.Search(len(edges), func(i int) bool { return edges[i] > d }) - 1
		return max(0, min(i, len(edges)-2))
	}
	counts := make([][]int, len(all))
	total := make([]int, len(edges)-1)
	for si, s := range all {
		counts[si] = make([]int, len(edges)-1)
		for _, d := range s.lat {
			b := bucket(d)
			counts[si][b]++
			total[b]++
		}
	}
	most := 0
	for _, n := range total {
		most = max(most, n)
	}
	step := niceStep(most)
	yMax := float64(step * max(1, int(math.Ceil(float64(most)/float64(step)))))
	y := func(n float64) float64 { return ch.Bottom - n/yMax*(ch.Bottom-ch.Top) }
	for n := 0; float64(n) <= yMax; n += step {
		ch.YTicks = append(ch.YTicks, htmlTick{At: y(float64(n)), Label: strconv.Itoa(n)})
	}
	for e := edges[0]; e <= edges[len(edges)-1]; e *= 10 {
		ch.XTicks = append(ch.XTicks, htmlTick{At: x(e), Label: strconv.FormatFloat(float64(e)/float64(time.Millisecond), 'f', -1, 64)})
	}
	for b := range total {
		base := 0
		x0, x1 := x(edges[b]), x(edges[b+1])
		where := fmt.Sprintf("%s to %s", edges[b], edges[b+1])
		if b == 0 {
			where = fmt.Sprintf("under %s", edges[1])
		}
		for si, s := range all {
			n := counts[si][b]
			if n == 0 {
				continue
			}
			ch.Bars = append(ch.Bars, htmlBar{X: x0 + 1, W: x1 - x0 - 2, Y: y(float64(base + n)), H: y(float64(base)) - y(float64(base+n)),
				Series: si % htmlSeriesColours, Title: fmt.Sprintf("%s: %d answer(s) in %s", safetext.TerminalLine(s.product), n, where)})
			base += n
		}
	}
	// One line per deadline, naming the vendors it holds for.
	byDeadline := map[time.Duration][]string{}
	for _, s := range all {
		v := vendorName(s.product)
		if ns := byDeadline[s.deadline]; len(ns) == 0 || ns[len(ns)-1] != v {
			byDeadline[s.deadline] = append(ns, v)
		}
	}
	var deadlines []time.Duration
	for d := range byDeadline {
		deadlines = append(deadlines, d)
	}
	sort.Slice(deadlines, func(i, j int) bool { return deadlines[i] < deadlines[j] })
	for i, d := range deadlines {
		names := strings.Join(compactStrings(byDeadline[d]), ", ")
		ch.Deadlines = append(ch.Deadlines, htmlDeadline{X: x(d), LabelY: ch.Top + 12 + float64(i)*16,
			Label: fmt.Sprintf("%s answer deadline %s", safetext.TerminalLine(names), spaced(d))})
	}
	for si, s := range all {
		ch.Legend = append(ch.Legend, htmlLegend{Series: si % htmlSeriesColours, Product: safetext.TerminalLine(s.product),
			Answers: len(s.lat), Missing: s.missing, Deadline: spaced(s.deadline)})
	}
	return ch, missing
}

// spaced writes a duration as the vendors' documents do: 10 s, 500 ms.
func spaced(d time.Duration) string {
	switch {
	case d >= time.Second && d%time.Second == 0:
		return fmt.Sprintf("%d s", d/time.Second)
	case d >= time.Millisecond && d%time.Millisecond == 0 && d < time.Second:
		return fmt.Sprintf("%d ms", d/time.Millisecond)
	}
	return d.String()
}

// htmlSeriesColours is how many series colours the page's style has.
const htmlSeriesColours = 6

// next125 returns the bucket edge after e in the 1, 2, 5, 10 sequence.
func next125(e time.Duration) time.Duration {
	m := e
	for m >= 10 && m%10 == 0 {
		m /= 10
	}
	if m == 2 {
		return e / 2 * 5
	}
	return e * 2
}

// niceStep returns a step of 1, 2 or 5 times a power of ten that divides
// 0..n into at most five intervals.
func niceStep(n int) int {
	for p := 1; ; p *= 10 {
		for _, m := range []int{1, 2, 5} {
			if s := m * p; (n+s-1)/s <= 5 {
				return s
			}
		}
	}
}

// vendorName names the vendor of a product as its deadline is known by.
func vendorName(product string) string {
	switch {
	case product == "sumsub":
		return "Sumsub"
	case strings.HasPrefix(product, "jumio"):
		return "Jumio"
	}
	return product
}

func compactStrings(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// htmlScript is the page's filter. It shows the filter box, which stays
// hidden without scripts (so that every case shows), reads the filter
// from the fragment (#filter=failed&q=text, or the query), and hides the
// cases that do not match and the groups left empty.
const htmlScript = `(function () {
  "use strict";
  var d = document, box = d.getElementById("filters"), q = d.getElementById("q"), shown = d.getElementById("shown");
  if (!box || !q || !shown) { return; }
  var cases = d.querySelectorAll(".case"), groups = d.querySelectorAll(".group"), radios = d.querySelectorAll("input[name=filter]");
  var outcome = { all: "", failed: "fail", fail: "fail", skipped: "skip", skip: "skip", passed: "pass", pass: "pass" };
  function params() {
    var p = {}, s = location.hash.slice(1) || location.search.slice(1);
    s.split("&").forEach(function (kv) {
      var i = kv.indexOf("=");
      if (i > 0) {
        try { p[decodeURIComponent(kv.slice(0, i))] = decodeURIComponent(kv.slice(i + 1).replace(/\+/g, " ")); } catch (e) {}
      }
    });
    return p;
  }
  function current() {
    for (var i = 0; i < radios.length; i++) { if (radios[i].checked) { return radios[i].value; } }
    return "all";
  }
  function apply() {
    var want = outcome[current()] || "", text = q.value.trim().toLowerCase(), n = 0;
    cases.forEach(function (c) {
      var ok = (!want || c.getAttribute("data-outcome") === want) && (!text || c.textContent.toLowerCase().indexOf(text) >= 0);
      c.hidden = !ok;
      if (ok) { n++; }
    });
    groups.forEach(function (g) { g.hidden = !g.querySelector(".case:not([hidden])"); });
    shown.textContent = n + " of " + cases.length + " cases shown";
    d.body.setAttribute("data-filter", current());
  }
  function load() {
    var p = params(), f = Object.prototype.hasOwnProperty.call(outcome, p.filter) ? p.filter : "all";
    if (f === "fail" || f === "skip" || f === "pass") { f = { fail: "failed", skip: "skipped", pass: "passed" }[f]; }
    radios.forEach(function (r) { r.checked = r.value === f; });
    q.value = typeof p.q === "string" ? p.q : "";
    apply();
  }
  function save() {
    apply();
    var h = [];
    if (current() !== "all") { h.push("filter=" + current()); }
    if (q.value) { h.push("q=" + encodeURIComponent(q.value)); }
    try { history.replaceState(null, "", h.length ? "#" + h.join("&") : location.pathname + location.search); } catch (e) {}
  }
  radios.forEach(function (r) { r.addEventListener("change", save); });
  q.addEventListener("input", save);
  window.addEventListener("hashchange", load);
  box.hidden = false;
  load();
})();
`

// htmlCSP is the page's Content-Security-Policy: nothing may load, and
// only the page's own script (by its hash) and inline style may apply.
var htmlCSP = func() string {
	sum := sha256.Sum256([]byte(htmlScript))
	return "default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
		"'; img-src data:; base-uri 'none'; form-action 'none'"
}()

var htmlPage = template.Must(template.New("report").Funcs(template.FuncMap{
	"f1":   func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) },
	"half": func(a, b float64) float64 { return (a + b) / 2 },
	"lat":  FormatLatency,
	// breakable lets a long setting wrap after a slash (URLs, paths)
	// rather than inside a word such as {subject}.
	"breakable": func(v string) template.HTML {
		return template.HTML(strings.ReplaceAll(template.HTMLEscapeString(v), "/", "/<wbr>"))
	},
}).Parse(strings.Replace(htmlTemplate, "{{/*CSP*/}}", htmlCSP, 1)))

// htmlTemplate is the page; {{/*CSP*/}} is replaced with htmlCSP (an
// action cannot fill a meta tag's content attribute).
const htmlTemplate = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{/*CSP*/}}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{.Title}}</title>
<style>
*{box-sizing:border-box}
[hidden]{display:none!important}
html{-webkit-text-size-adjust:100%}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;padding:16px 24px;max-width:1200px;color:#1f2328;background:#fff;overflow-wrap:anywhere}
h1{font-size:1.45em;margin:.2em 0 .4em}h2{font-size:1.15em;margin:1.4em 0 .5em}h3{font-size:1em;margin:1.2em 0 .4em}
code{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f3f4f6;padding:0 3px;border-radius:3px}
.run{margin:.2em 0;color:#444}.run span{display:inline-block;margin-right:1.2em}
.summary{display:flex;flex-wrap:wrap;gap:8px;margin:.8em 0}
.summary span{padding:3px 10px;border-radius:12px;background:#eef0f3}
.summary .fail{background:#fde8e6}.summary .skip{background:#fdf5dc}.summary .pass{background:#e3f4e8}
.gaveup{border-left:4px solid #b42318;background:#fde8e6;padding:6px 10px}
.chart{max-width:100%}
.chart svg{display:block;width:100%;height:auto;max-width:900px}
.chart.narrow{display:none}
.settings code{overflow-wrap:break-word;word-break:normal}
.chart text{font:13px system-ui,sans-serif;fill:#333}
.chart .axis{stroke:#555;stroke-width:1}.chart .grid{stroke:#e4e6ea;stroke-width:1}
.chart .deadline{stroke:#b42318;stroke-width:2;stroke-dasharray:6 4}
.chart text.deadline-label{fill:#b42318;font-weight:600}
.legend{display:flex;flex-wrap:wrap;gap:4px 18px;margin:.4em 0;padding:0;list-style:none}
.legend li{display:flex;align-items:center;gap:6px}
.sw{display:inline-block;width:12px;height:12px;border-radius:2px}
.s0{fill:#3b6fd8;background:#3b6fd8}.s1{fill:#d9822b;background:#d9822b}.s2{fill:#2e9e6a;background:#2e9e6a}
.s3{fill:#8e5bd1;background:#8e5bd1}.s4{fill:#c2417a;background:#c2417a}.s5{fill:#5f6b7a;background:#5f6b7a}
.deadline-key{display:inline-block;width:18px;border-top:2px dashed #b42318;vertical-align:middle}
#filters{display:flex;flex-wrap:wrap;align-items:center;gap:8px 16px;position:sticky;top:0;background:#fff;padding:8px 0;border-bottom:1px solid #ddd;z-index:1}
#filters fieldset{border:0;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:4px 12px}
#filters legend{position:absolute;left:-9999px}
#filters label{white-space:nowrap;cursor:pointer}
#q{flex:1 1 200px;min-width:0;max-width:100%;font:inherit;padding:4px 8px;border:1px solid #bbb;border-radius:4px}
#shown{color:#555}
.case{border:1px solid #ddd;border-left-width:5px;border-radius:4px;padding:8px 12px;margin:8px 0}
.case.fail{border-left-color:#b42318}.case.skip{border-left-color:#b8860b}.case.pass{border-left-color:#1a7f37}
.case header{display:flex;flex-wrap:wrap;align-items:baseline;gap:4px 10px}
.badge{font-weight:700;text-transform:uppercase;font-size:12px;padding:1px 6px;border-radius:3px;color:#fff}
.fail .badge{background:#b42318}.skip .badge{background:#8a6d00}.pass .badge{background:#1a7f37}
.level{font-weight:600}.id{font-weight:600;word-break:break-all}
.product,.rule,.note,.fields,.replay{color:#555}.rule,.fields{font-size:.92em}
.reason{color:#b42318;margin:.2em 0}.skip .reason{color:#6b5600}
.case p{margin:.3em 0}
pre{margin:.4em 0;background:#f6f8fa;border:1px solid #e4e6ea;border-radius:4px;padding:8px;font:12px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word;max-height:40em;overflow-y:auto}
mark{background:#ffe066;color:inherit;outline:1px solid #c9a400;border-radius:2px}
summary{cursor:pointer;color:#0a58ca}
@media (max-width:600px){body{padding:10px 12px;font-size:15px}h1{font-size:1.25em}.run span{display:block}.chart.wide{display:none}.chart.narrow{display:block}}
</style></head><body>
<header>
<h1>{{.Title}}</h1>
{{if .Version}}<p class="run"><span>kycsim {{.Version}}</span></p>
{{end}}{{range .Targets}}<p class="run target">target {{.Name}}: <code>{{.Value}}</code></p>
{{end}}{{if .Settings}}<p class="run settings">settings: {{range .Settings}}<span><code>{{.Name}}={{breakable .Value}}</code></span>{{end}}</p>
{{end}}<p class="summary"><span>{{.Total}} cases</span><span class="fail">{{.Failed}} failed</span><span class="skip">{{.Skipped}} skipped</span><span class="pass">{{.Passed}} passed</span><span>started {{.Started}}</span><span>took {{.Duration}}</span>{{if .Chart}}<span>answer latency p50 {{lat .Latency.P50}}, p99 {{lat .Latency.P99}} (chart after the cases)</span>{{end}}</p>
{{if .Unobserved}}<p class="run">{{.Unobserved}} case(s) have effect checks that could not be observed (no probe): their answers were checked, their effects prove nothing.</p>
{{end}}{{range .Capacity}}<p class="gaveup">capacity: {{.}}</p>
{{end}}{{if .GaveUp}}<p class="gaveup">stopped early: {{.GaveUp}}</p>
{{end}}</header>
<section id="cases">
<h2>Cases</h2>
<div id="filters" hidden><fieldset><legend>show</legend>
<label><input type="radio" name="filter" value="all" checked> all</label>
<label><input type="radio" name="filter" value="failed"> failed ({{.Failed}})</label>
<label><input type="radio" name="filter" value="skipped"> skipped ({{.Skipped}})</label>
<label><input type="radio" name="filter" value="passed"> passed ({{.Passed}})</label>
</fieldset><input id="q" type="search" placeholder="search case ids and content" aria-label="search case ids and content"><span id="shown" aria-live="polite"></span></div>
{{range .Groups}}<section class="group" data-outcome="{{.Outcome}}">
<h3>{{.Title}} ({{len .Cases}})</h3>
{{range .Cases}}<article class="case {{.Outcome}}" id="{{.ID}}" data-outcome="{{.Outcome}}">
<header><span class="badge">{{.Outcome}}</span><span class="level">{{.Level}}</span><code class="id">{{.ID}}</code><span class="product">{{.Product}}</span>{{if .Unobserved}}<span class="product">(effects not observed)</span>{{end}}</header>
<p>{{.Description}}</p>
<p class="rule">rule: {{.Rule}} ({{.Source}})</p>
{{range .Reasons}}<p class="reason">{{.}}</p>
{{end}}{{range .Notes}}<p class="note">note: {{.}}</p>
{{end}}{{range .Replays}}<p class="replay">replay the step at {{.Name}}: <code>{{.Value}}</code></p>
{{end}}{{if .Evidence}}<details{{if eq .Outcome "fail"}} open{{end}}><summary>requests and answers</summary>{{if .Fields}}<p class="fields">marked: {{range $i, $f := .Fields}}{{if $i}}, {{end}}<mark>{{$f}}</mark>{{end}}</p>{{end}}<pre>{{range .Evidence}}{{if .Mark}}<mark>{{.Text}}</mark>{{else}}{{.Text}}{{end}}{{end}}</pre></details>
{{end}}</article>
{{end}}</section>
{{end}}</section>
<section id="latency-section">
<h2>Answer latency</h2>
<p>{{.Latency.Count}} answers: p50 {{lat .Latency.P50}}, p90 {{lat .Latency.P90}}, p99 {{lat .Latency.P99}}, max {{lat .Latency.Max}}{{if .NoAnswer}}; {{.NoAnswer}} attempt(s) got no answer{{end}}</p>
{{with .Chart}}<ul class="legend">{{range .Legend}}<li><i class="sw s{{.Series}}"></i>{{.Product}}: {{.Answers}} answer(s){{if .Missing}}, {{.Missing}} without{{end}} (deadline {{.Deadline}})</li>{{end}}<li><i class="deadline-key"></i>vendor answer deadline</li></ul>
<div class="chart wide">{{template "svg" .}}</div>{{end}}{{with $.Narrow}}<div class="chart narrow">{{template "svg" .}}</div>{{end}}{{if not .Chart}}<p>No attempt was made.</p>
{{end}}</section>
{{define "svg"}}<svg id="{{.ID}}" viewBox="0 0 {{.Width}} {{.Height}}" role="img" aria-label="histogram of answer latency per product, log scale, with the vendor answer deadlines">
{{$c := .}}{{range .YTicks}}<line class="grid" x1="{{f1 $c.Left}}" x2="{{f1 $c.Right}}" y1="{{f1 .At}}" y2="{{f1 .At}}"/><text x="{{f1 $c.Left}}" dx="-6" y="{{f1 .At}}" dy="4" text-anchor="end">{{.Label}}</text>
{{end}}{{range .XTicks}}<line class="grid" x1="{{f1 .At}}" x2="{{f1 .At}}" y1="{{f1 $c.Top}}" y2="{{f1 $c.Bottom}}"/><text x="{{f1 .At}}" y="{{f1 $c.Bottom}}" dy="18" text-anchor="middle">{{.Label}}</text>
{{end}}{{range .Bars}}<rect class="bar s{{.Series}}" x="{{f1 .X}}" y="{{f1 .Y}}" width="{{f1 .W}}" height="{{f1 .H}}"><title>{{.Title}}</title></rect>
{{end}}<line class="axis" x1="{{f1 .Left}}" x2="{{f1 .Right}}" y1="{{f1 .Bottom}}" y2="{{f1 .Bottom}}"/><line class="axis" x1="{{f1 .Left}}" x2="{{f1 .Left}}" y1="{{f1 .Top}}" y2="{{f1 .Bottom}}"/>
{{range .Deadlines}}<line class="deadline" x1="{{f1 .X}}" x2="{{f1 .X}}" y1="{{f1 $c.Top}}" y2="{{f1 $c.Bottom}}"><title>{{.Label}}</title></line><text class="deadline-label" x="{{f1 .X}}" dx="-6" y="{{f1 .LabelY}}" text-anchor="end">{{.Label}}</text>
{{end}}<text x="{{f1 (half $c.Left $c.Right)}}" y="{{f1 $c.Height}}" dy="-6" text-anchor="middle">answer latency (ms, log scale)</text>
<text transform="translate(16 {{f1 (half $c.Top $c.Bottom)}}) rotate(-90)" text-anchor="middle">attempts</text>
</svg>{{end}}
<script>{{.Script}}</script>
</body></html>
`
