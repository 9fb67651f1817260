package main

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
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
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"run"}, "name scenarios"},
		{[]string{"run", "no/such", "--to", "http://127.0.0.1:1/"}, "neither a built-in scenario"},
		{[]string{"run", badFile, "--check"}, "bad.yaml:4:11: wait \"soon\""},
		{[]string{"run", "jumio-kyx/drop-off", "sumsub/reset", "--to", "http://127.0.0.1:1/"}, "--to serves one product"},
		{[]string{"run", "jumio-kyx/drop-off"}, "no receiver URL for jumio-kyx"},
		{[]string{"run", "jumio-kyx/drop-off", "--to", "ftp://x"}, "want an http"},
		{[]string{"run", "jumio-kyx/drop-off", "--base", "http://127.0.0.1:1", "--probe", "http://x/probe"}, "no {subject}"},
		{[]string{"run", "--all", "--time-scale", "0", "--base", "http://127.0.0.1:1"}, "--time-scale"},
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
