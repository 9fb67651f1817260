package conformance

import (
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/kycsim/kycsim/conformance/safetext"
)

// WriteHTML writes one self-contained HTML page: the version, targets and
// settings, the summary, a latency chart (inline SVG), and every case
// with its notes, requests and answers. It loads nothing from the
// network. Text from the receiver is escaped with safetext as in the text
// report, then html/template escapes the markup.
func WriteHTML(w io.Writer, r *Report) error {
	line := safetext.TerminalLine
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
		ID, Level, Product, Description, Rule, Source string
		Outcome                                       Outcome
		Reasons, Notes                                []string
		Evidence                                      string
	}
	var views []caseView
	for _, c := range r.Cases {
		v := caseView{ID: line(c.ID), Level: line(c.Level), Product: line(c.Product), Description: line(c.Description),
			Rule: line(c.Rule), Source: line(c.Source), Outcome: c.Outcome}
		for _, x := range c.Reasons {
			v.Reasons = append(v.Reasons, line(x))
		}
		for _, x := range c.Notes {
			v.Notes = append(v.Notes, line(x))
		}
		var b strings.Builder
		for _, st := range c.Steps {
			for _, a := range st.Attempts {
				fmt.Fprintf(&b, "step %d (%s), attempt %d:\n%s\n", st.Index, line(st.Label), a.Number, Exchange(a))
			}
		}
		v.Evidence = b.String()
		views = append(views, v)
	}
	type pair struct{ Name, Value string }
	var targets, settings []pair
	for _, k := range sortedKeys(r.Targets) {
		targets = append(targets, pair{line(k), line(r.Targets[k])})
	}
	for _, k := range sortedKeys(r.Settings) {
		settings = append(settings, pair{line(k), line(r.Settings[k])})
	}
	return htmlPage.Execute(w, map[string]any{
		"Version": line(r.Version), "Targets": targets, "Settings": settings,
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
.summary span,.run span{margin-right:1.5em}.note{color:#555}
</style></head><body>
<h1>kycsim conformance report</h1>
<p class="run">{{if .Version}}<span>kycsim {{.Version}}</span>{{end}}{{range .Targets}}<span class="target">{{.Name}}: <code>{{.Value}}</code></span>{{end}}</p>
{{if .Settings}}<p class="run settings">settings: {{range .Settings}}<span><code>{{.Name}}={{.Value}}</code></span>{{end}}</p>
{{end}}<p class="summary"><span>{{.Total}} cases</span><span class="pass">{{.Passed}} passed</span><span class="fail">{{.Failed}} failed</span><span class="skip">{{.Skipped}} skipped</span><span>started {{.Started}}</span><span>took {{.Duration}}</span></p>
<h2>Answer latency</h2>
<p>{{.Latency.Count}} answers: p50 {{.Latency.P50}}, p90 {{.Latency.P90}}, p99 {{.Latency.P99}}, max {{.Latency.Max}}</p>
<svg id="latency" width="600" height="110" viewBox="0 0 600 110" role="img" aria-label="latency histogram">
{{range .Bars}}<rect x="{{.X}}" y="{{printf "%.1f" .Y}}" width="26" height="{{printf "%.1f" .H}}" fill="#5b8def"><title>{{.Label}}</title></rect>
{{end}}</svg>
<h2>Cases</h2>
<table><thead><tr><th>outcome</th><th>level</th><th>case</th><th>what and why</th></tr></thead><tbody>
{{range .Cases}}<tr class="case" id="{{.ID}}"><td class="{{.Outcome}}">{{.Outcome}}</td><td>{{.Level}}</td><td>{{.ID}}<br><small>{{.Product}}</small></td>
<td>{{.Description}}<br><small>rule: {{.Rule}} ({{.Source}})</small>{{range .Reasons}}<div class="reason">{{.}}</div>{{end}}{{range .Notes}}<div class="note">note: {{.}}</div>{{end}}
<details><summary>requests and answers</summary><pre>{{.Evidence}}</pre></details></td></tr>
{{end}}</tbody></table>
</body></html>
`))
