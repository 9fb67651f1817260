package main

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycsim/kycsim/conformance"
	"github.com/kycsim/kycsim/conformance/receiver"
)

// gate passes requests on and records how many callbacks (POSTs) were in
// flight at once. The first callback waits, up to wait, for a second to
// arrive: scenarios that run at once overlap there.
type gate struct {
	h    http.Handler
	wait time.Duration

	mu             sync.Mutex
	inflight, most int
	second         chan struct{}
	first          sync.Once
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		g.h.ServeHTTP(w, r)
		return
	}
	g.mu.Lock()
	g.inflight++
	g.most = max(g.most, g.inflight)
	if g.inflight == 2 {
		select {
		case <-g.second:
		default:
			close(g.second)
		}
	}
	g.mu.Unlock()
	g.first.Do(func() {
		t := time.NewTimer(g.wait)
		defer t.Stop()
		select {
		case <-g.second:
		case <-t.C:
		}
	})
	g.h.ServeHTTP(w, r)
	g.mu.Lock()
	g.inflight--
	g.mu.Unlock()
}

func (g *gate) max() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.most
}

// TestRunParallel plays four scenarios with --parallel 1 and 4 against
// the reference receiver: with 4 their callbacks overlap, with 1 they
// never do, and the report lists them in the order given either way.
func TestRunParallel(t *testing.T) {
	names := []string{"jumio-auth/passed", "jumio-auth/expired", "jumio-auth/failed", "jumio-auth/invalid"}
	for _, tt := range []struct {
		parallel string
		wait     time.Duration
		overlap  bool
	}{
		{"1", 200 * time.Millisecond, false},
		{"4", 10 * time.Second, true},
	} {
		t.Run("parallel "+tt.parallel, func(t *testing.T) {
			rc, err := receiver.New(receiver.Config{Secret: "s3cr3t"})
			if err != nil {
				t.Fatal(err)
			}
			g := &gate{h: rc, wait: tt.wait, second: make(chan struct{})}
			srv := httptest.NewServer(g)
			defer srv.Close()
			report := filepath.Join(t.TempDir(), "r.json")
			args := append([]string{"run", "--base", srv.URL, "--parallel", tt.parallel, "--report", "json:" + report}, names...)
			if code, out, errOut := run(t, "", args...); code != 0 {
				t.Fatalf("exit %d\n%s%s", code, out, errOut)
			}
			if got := g.max() > 1; got != tt.overlap {
				t.Errorf("at most %d callbacks in flight at once; overlap %v, want %v", g.max(), got, tt.overlap)
			}
			rep := readReport(t, report)
			var ids []string
			for _, c := range rep.Cases {
				ids = append(ids, c.ID)
			}
			if !slices.Equal(ids, names) || rep.Passed != 4 || rep.Settings["parallel"] != tt.parallel {
				t.Errorf("report: %v, %d passed, settings %v", ids, rep.Passed, rep.Settings)
			}
		})
	}
}

// TestRunSeedParallel plays three scenario files at once, twice with one
// seed and once with another, on a fixed clock: the same seed sends the
// same bytes (in whatever order the scenarios interleave), another does
// not.
func TestRunSeedParallel(t *testing.T) {
	fixClock(t)
	dir := t.TempDir()
	scenario := func(name string) string {
		return "product: sumsub\nname: seed/" + name + "\ndescription: Generated values follow the seed.\nvars:\n  other: {generate: sumsub-id}\nsteps:\n" +
			"  - send: applicantReviewed\n    review-answer: RED\n  - {send: applicantCreated, subject: \"${other}\"}\n"
	}
	writeTree(t, dir, map[string]string{"a.yaml": scenario("a"), "b.yaml": scenario("b"), "c.yaml": scenario("c")})
	play := func(seed string) []string {
		t.Helper()
		c, url := captureServer(t, 200)
		code, out, errOut := run(t, "", "run", dir, "--to", url, "--secret", "s", "--parallel", "3", "--seed", seed)
		if code != 0 {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
		if !strings.Contains(out, "seed="+seed) {
			t.Errorf("the summary does not print the seed\n%s", out)
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		var bodies []string
		for _, b := range c.bodies {
			bodies = append(bodies, string(b))
		}
		slices.Sort(bodies)
		return bodies
	}
	a, b, other := play("9"), play("9"), play("10")
	if len(a) != 6 || !slices.Equal(a, b) {
		t.Errorf("--seed 9 twice:\n%s\n\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
	if slices.Equal(a, other) {
		t.Error("--seed 10 sent the bytes --seed 9 sent")
	}
}

// TestReportsSharedByRunAndConform writes every report format from run
// and from conform: the same writers, one model (the same JSON keys),
// each naming its kind and the seed it used.
func TestReportsSharedByRunAndConform(t *testing.T) {
	base := referenceServer(t)
	dir := t.TempDir()
	reports := func(stem string) []string {
		var out []string
		for _, f := range []string{"json:.json", "junit:.xml", "html:.html", "text:.txt"} {
			format, ext, _ := strings.Cut(f, ":")
			out = append(out, "--report", format+":"+filepath.Join(dir, stem+ext))
		}
		return out
	}
	commands := map[string][]string{
		conformance.KindScenarios: append([]string{"run", "jumio-auth/passed", "sumsub/happy-path", "--base", base, "--secret", "s3cr3t", "--seed", "9"}, reports("scenarios")...),
		conformance.KindConformance: append([]string{"conform", "--to", base + "/sumsub", "--product", "sumsub", "--secret", "s3cr3t",
			"--probe", base + "/_probe/{subject}", "--only", "sumsub.accept.message.applicant-created", "--seed", "9"}, reports("conformance")...),
	}
	keys := map[string][]string{}
	for kind, args := range commands {
		if code, out, errOut := run(t, "", args...); code != 0 {
			t.Fatalf("%s: exit %d\n%s%s", kind, code, out, errOut)
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(readFile(t, filepath.Join(dir, kind+".json"))), &doc); err != nil {
			t.Fatal(err)
		}
		for k := range doc {
			keys[kind] = append(keys[kind], k)
		}
		slices.Sort(keys[kind])
		settings, _ := doc["settings"].(map[string]any)
		if doc["schema"] != conformance.ReportSchema || doc["kind"] != kind || doc["seed"] != "9" || settings["seed"] != "9" {
			t.Errorf("%s json: schema %v, kind %v, seed %v, settings.seed %v", kind, doc["schema"], doc["kind"], doc["seed"], settings["seed"])
		}
		var suites struct {
			Name   string `xml:"name,attr"`
			Suites []struct {
				Properties []struct {
					Name  string `xml:"name,attr"`
					Value string `xml:"value,attr"`
				} `xml:"properties>property"`
			} `xml:"testsuite"`
		}
		if err := xml.Unmarshal([]byte(readFile(t, filepath.Join(dir, kind+".xml"))), &suites); err != nil || suites.Name != "kycsim "+kind || len(suites.Suites) == 0 ||
			!slices.ContainsFunc(suites.Suites[0].Properties, func(p struct {
				Name  string `xml:"name,attr"`
				Value string `xml:"value,attr"`
			}) bool {
				return p.Name == "setting.seed" && p.Value == "9"
			}) {
			t.Errorf("%s junit: %+v %v", kind, suites, err)
		}
		for _, ext := range []string{".html", ".txt"} {
			if s := readFile(t, filepath.Join(dir, kind+ext)); !strings.Contains(s, "seed=9") {
				t.Errorf("%s%s does not name the seed", kind, ext)
			}
		}
	}
	if !slices.Equal(keys[conformance.KindScenarios], keys[conformance.KindConformance]) {
		t.Errorf("the JSON reports differ in shape:\n%v\n%v", keys[conformance.KindScenarios], keys[conformance.KindConformance])
	}
}

// TestRunFailFast fails the scenario that starts first (the longest)
// and checks what else is played: everything without --fail-fast; with
// it, nothing more when one runs at a time, and the scenarios already
// in flight when several do.
func TestRunFailFast(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"fail.yaml": "product: sumsub\nname: x/fail\ndescription: Expects a refusal it does not get.\nsteps:\n  - wait: 10h\n  - {send: applicantCreated, expect: 4xx}\n",
		"ok-1.yaml": sendOne("x/ok-1", ""),
		"ok-2.yaml": sendOne("x/ok-2", ""),
	})
	for _, tt := range []struct {
		name             string
		flags            []string
		pass, fail, skip int
		sent             int
		skipReason       string
	}{
		{"without --fail-fast", []string{"--parallel", "1"}, 2, 1, 0, 3, ""},
		{"one at a time", []string{"--parallel", "1", "--fail-fast"}, 0, 1, 2, 1, "not played: the run stopped at the first failure (x/fail)"},
		{"in flight finish", []string{"--parallel", "3", "--fail-fast"}, 2, 1, 0, 3, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, url := captureServer(t, 200)
			report := filepath.Join(t.TempDir(), "r.json")
			code, out, errOut := run(t, "", append([]string{"run", dir, "--to", url, "--secret", "s", "--report", "json:" + report}, tt.flags...)...)
			if code != 1 {
				t.Fatalf("exit %d, want 1\n%s%s", code, out, errOut)
			}
			rep := readReport(t, report)
			c.mu.Lock()
			sent := len(c.bodies)
			c.mu.Unlock()
			if rep.Passed != tt.pass || rep.Failed != tt.fail || rep.Skipped != tt.skip || sent != tt.sent {
				t.Errorf("%d passed, %d failed, %d skipped, %d sent; want %d, %d, %d, %d\n%s", rep.Passed, rep.Failed, rep.Skipped, sent, tt.pass, tt.fail, tt.skip, tt.sent, out)
			}
			for _, cr := range rep.Cases {
				if cr.Outcome == "skip" && (len(cr.Reasons) != 1 || cr.Reasons[0] != tt.skipReason || !strings.Contains(out, tt.skipReason)) {
					t.Errorf("%s skipped for %v, want %q", cr.ID, cr.Reasons, tt.skipReason)
				}
			}
		})
	}
}

var objectID = regexp.MustCompile(`^[0-9a-f]{24}$`)

// TestConformSeed checks that conform plays the same payloads again with
// the same --seed (apart from their timestamps, and the time in object
// ids), others with another
// seed, and refuses a seed that is not a number.
func TestConformSeed(t *testing.T) {
	play := func(seed string) []string {
		t.Helper()
		c, url := captureServer(t, 200)
		run(t, "", "conform", "--to", url, "--product", "sumsub", "--secret", "s", "--only", "sumsub.accept.message.applicant-*", "--seed", seed, "--allow-skips")
		c.mu.Lock()
		defer c.mu.Unlock()
		var out []string
		for _, b := range c.bodies {
			var doc map[string]any
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatalf("%s: %v", b, err)
			}
			delete(doc, "createdAt")
			delete(doc, "createdAtMs")
			for k, v := range doc {
				// Sumsub object ids start with the time in seconds.
				if id, ok := v.(string); ok && objectID.MatchString(id) {
					doc[k] = id[8:]
				}
			}
			s, _ := json.Marshal(doc)
			out = append(out, string(s))
		}
		slices.Sort(out)
		return out
	}
	a, b, other := play("5"), play("5"), play("6")
	if len(a) < 5 || !slices.Equal(a, b) {
		t.Errorf("--seed 5 twice:\n%s\n\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
	if slices.Equal(a, other) {
		t.Error("--seed 6 sent what --seed 5 sent")
	}
	if code, _, errOut := run(t, "", "conform", "--to", "http://127.0.0.1:1/", "--product", "sumsub", "--seed", "-1"); code != 2 || !strings.Contains(errOut, `--seed "-1": want a decimal number`) {
		t.Errorf("--seed -1: exit %d, %s", code, errOut)
	}
}
