package main

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kycsim/kycsim/conformance/receiver"
)

func TestScenariosCommand(t *testing.T) {
	code, out, _ := run(t, "", "scenarios", "--tag", "fraud")
	if code != 0 || !strings.Contains(out, "jumio-netverify/fraud-105") || strings.Contains(out, "sumsub/happy-path") {
		t.Errorf("exit %d\n%s", code, out)
	}
	code, out, _ = run(t, "", "scenarios", "--format", "json")
	var list []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) < 45 {
		t.Errorf("json: exit %d, %d entries", code, len(list))
	}
	if code, _, stderr := run(t, "", "scenarios", "--product", "onfido"); code != 2 || !strings.Contains(stderr, "unknown product") {
		t.Errorf("unknown product: exit %d %s", code, stderr)
	}
}

func TestRunCommand(t *testing.T) {
	rc, err := receiver.New(receiver.Config{Secret: "s3cr3t", Fetch: true})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(rc)
	defer srv.Close()

	code, out, errOut := run(t, "", "run", "--all", "--base", srv.URL, "--secret", "s3cr3t", "--time-scale", "0.00001")
	if code != 0 || !strings.Contains(out, "0 failed") {
		t.Fatalf("--all: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = run(t, "", "run", "jumio-kyx/drop-off", "--to", srv.URL+"/jumio/kyx", "--probe", srv.URL+"/_probe/{subject}", "--format", "json")
	var res struct {
		Passed, Failed int
	}
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res.Passed != 1 {
		t.Errorf("one scenario, json: exit %d\n%s", code, out)
	}
	// Without a probe the expectations are skipped, not passed or failed.
	code, out, _ = run(t, "", "run", "jumio-kyx/drop-off", "--to", srv.URL+"/jumio/kyx")
	if code != 0 || !strings.Contains(out, "skip events/status: the target offers no probe") {
		t.Errorf("no probe: exit %d\n%s", code, out)
	}
	// A receiver with a defect fails the scenario aimed at it: exit 1.
	bad, err := receiver.New(receiver.Config{Secret: "s3cr3t", Defects: []receiver.Defect{receiver.DefectNoDedup}})
	if err != nil {
		t.Fatal(err)
	}
	bsrv := httptest.NewServer(bad)
	defer bsrv.Close()
	code, out, _ = run(t, "", "run", "sumsub/duplicate-delivery", "--base", bsrv.URL, "--secret", "s3cr3t")
	if code != 1 || !strings.Contains(out, "expected 1 events acted on, the probe says 2") {
		t.Errorf("defect: exit %d\n%s", code, out)
	}
}

func TestRunUsage(t *testing.T) {
	dir := t.TempDir()
	badFile := filepath.Join(dir, "bad.yaml")
	os.WriteFile(badFile, []byte("product: sumsub\ndescription: x\nsteps:\n  - wait: soon\n"), 0o644)
	typoFile := filepath.Join(dir, "typo.yaml")
	os.WriteFile(typoFile, []byte("product: sumsub\ndescription: x\nsteps:\n  - send: applicantReviewed\n    set: {reviewResult.reviewAnswr: RED}\n"), 0o644)
	codeFile := filepath.Join(dir, "code.yaml")
	os.WriteFile(codeFile, []byte("product: jumio-netverify\ndescription: x\nsteps:\n  - {send: DENIED_FRAUD, reject-code: \"212\"}\n"), 0o644)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"run"}, "name scenarios"},
		{[]string{"run", "no/such", "--to", "http://127.0.0.1:1/"}, "neither a built-in scenario"},
		{[]string{"run", badFile, "--check"}, "bad.yaml:4:11: wait \"soon\""},
		{[]string{"run", typoFile, "--check"}, `typo.yaml:5:11: set reviewResult.reviewAnswr: "reviewResult.reviewAnswr" names no field of sumsub applicantReviewed; did you mean "reviewResult.reviewAnswer"?`},
		{[]string{"run", codeFile, "--check"}, `code.yaml:4:39: reject-code "212" is not a Netverify reject code; DENIED_FRAUD codes are 100, 105,`},
		{[]string{"run", "jumio-kyx/drop-off", "--base", "http://127.0.0.1:1", "--seed", "x"}, `--seed "x"`},
		{[]string{"run", "jumio-kyx/drop-off", "sumsub/reset", "--to", "http://127.0.0.1:1/"}, "--to serves one product"},
		{[]string{"run", "jumio-kyx/drop-off"}, "no receiver URL for jumio-kyx"},
		{[]string{"run", "jumio-kyx/drop-off", "--to", "ftp://x"}, "want an absolute http"},
		{[]string{"run", "jumio-kyx/drop-off", "--base", "http://127.0.0.1:1", "--probe", "http://x/probe"}, "no {subject}"},
		{[]string{"run", "--all", "--time-scale", "0", "--base", "http://127.0.0.1:1"}, "--time-scale"},
		{[]string{"run", "--all", "--time-scale", "NaN", "--base", "http://127.0.0.1:1"}, "--time-scale NaN: not a finite number"},
		{[]string{"run", "--all", "--parallel", "0", "--base", "http://127.0.0.1:1"}, "--parallel 0: must be 1..64"},
		{[]string{"run", "--all", "--parallel", "65", "--base", "http://127.0.0.1:1"}, "--parallel 65: must be 1..64"},
		{[]string{"run", "--all", "--quiet", "-1s", "--base", "http://127.0.0.1:1"}, "--quiet -1s: must be >= 0"},
		{[]string{"run", "--all", "--format", "xml", "--base", "http://127.0.0.1:1"}, `--format "xml" is not one of text, json`},
		{[]string{"run", "--all", "--report", "pdf:x.pdf", "--base", "http://127.0.0.1:1"}, `--report "pdf" is not one of`},
		{[]string{"run", "--all", "--report", filepath.Join(dir, "no", "such", "r.xml"), "--base", "http://127.0.0.1:1"}, "want FORMAT:PATH"},
		{[]string{"run", "--all", "--report", "junit:" + filepath.Join(dir, "no", "such", "r.xml"), "--base", "http://127.0.0.1:1"}, "--report " + filepath.Join(dir, "no", "such", "r.xml")},
		{[]string{"run", "--all", "--replay-dir", badFile, "--base", "http://127.0.0.1:1"}, "--replay-dir: mkdir " + badFile},
	} {
		code, _, stderr := run(t, "", tt.args...)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
	if code, out, _ := run(t, "", "run", "--check", "--all"); code != 0 || !strings.Contains(out, "ok sumsub/happy-path") {
		t.Errorf("--check --all: exit %d\n%s", code, out)
	}
}

// TestRunSeed checks that `run --seed` plays the same bytes on a fixed
// clock, that the seed drawn when none is given is printed and plays the
// same bytes again, and that --format json reports it.
func TestRunSeed(t *testing.T) {
	fixClock(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "seed.yaml")
	os.WriteFile(file, []byte(`product: sumsub
description: Generated subjects and payloads follow the seed.
vars:
  other: {generate: sumsub-id}
steps:
  - send: applicantCreated
  - send: applicantReviewed
    subject: ${other}
    review-answer: RED
  - send: applicantKytTxnCreated
`), 0o644)
	play := func(args ...string) ([]string, string) {
		t.Helper()
		c, url := captureServer(t, 200)
		code, out, errOut := run(t, "", append([]string{"run", file, "--to", url, "--secret", "s"}, args...)...)
		if code != 0 {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
		var bodies []string
		for _, b := range c.bodies {
			bodies = append(bodies, string(b))
		}
		return bodies, out
	}
	a, out := play("--seed", "9")
	b, _ := play("--seed", "9")
	c, _ := play("--seed", "10")
	if len(a) != 3 || strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Errorf("--seed 9 twice:\n%s\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
	if !strings.HasPrefix(out, "seed 9 (--seed 9 plays the same payloads again)\n") {
		t.Errorf("the seed is not printed first:\n%s", out)
	}
	for i := range a {
		if i < len(c) && a[i] == c[i] {
			t.Errorf("--seed 10 played body %d as --seed 9 did: %s", i, a[i])
		}
	}
	random, out := play()
	m := regexp.MustCompile(`^seed (\d+) `).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no seed printed:\n%s", out)
	}
	if again, _ := play("--seed", m[1]); strings.Join(again, "\n") != strings.Join(random, "\n") {
		t.Errorf("the printed seed %s does not play the same bytes", m[1])
	}
	_, out = play("--seed", "9", "--format", "json")
	var res struct{ Seed string }
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Seed != "9" {
		t.Errorf("json: seed %q (%v)\n%s", res.Seed, err, out)
	}
}
