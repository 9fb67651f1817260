package main

import (
	"strings"
	"testing"

	"github.com/kycsim/kycsim/conformance/receiver"
)

// TestConformEnforce checks --enforce: a SHOULD failure passes by default
// and fails the run with --enforce MUST,SHOULD, which wins over a profile.
func TestConformEnforce(t *testing.T) {
	url := referenceServer(t, receiver.DefectRejectStrict)
	args := []string{"conform", "--to", url + "/sumsub", "--product", "sumsub", "--secret", "s3cr3t",
		"--probe", url + "/_probe/{subject}", "--only", "sumsub.shape.*"}
	if code, out, errs := run(t, "", args...); code != 0 || !strings.Contains(out, "enforce=MUST,") {
		t.Fatalf("SHOULD failures with the default enforcement: exit %d, want 0\n%s%s", code, out, errs)
	}
	code, out, errs := run(t, "", append(args, "--enforce", "MUST,SHOULD")...)
	if code != 1 || !strings.Contains(out, "enforce=MUST,SHOULD") {
		t.Fatalf("SHOULD failures with --enforce MUST,SHOULD: exit %d, want 1\n%s%s", code, out, errs)
	}
	dir := t.TempDir()
	writeFile(t, dir+"/p.yaml", "targets: {sumsub: "+url+"/sumsub}\nprobe: "+url+"/_probe/{subject}\nsecret: s3cr3t\nonly: [\"sumsub.shape.*\"]\nenforce: [MUST]\n")
	if code, out, errs := run(t, "", "conform", "--profile", dir+"/p.yaml", "--enforce", "should,must"); code != 1 {
		t.Errorf("--enforce over a profile's enforce: [MUST]: exit %d, want 1\n%s%s", code, out, errs)
	}
	if code, _, errs := run(t, "", append(args, "--enforce", "MAY")...); code != 2 || !strings.Contains(errs, `--enforce "MAY"`) {
		t.Errorf("--enforce MAY: exit %d, want 2\n%s", code, errs)
	}
}

// TestConformSecretHint checks the hint when every Sumsub webhook got 401:
// with no secret given it says so, rather than blaming a wrong secret.
func TestConformSecretHint(t *testing.T) {
	t.Setenv(secretFromEnv, "")
	url := referenceServer(t)
	args := []string{"conform", "--to", url + "/sumsub", "--product", "sumsub", "--probe", url + "/_probe/{subject}", "--only", "sumsub.accept.message.*"}
	_, out, _ := run(t, "", args...)
	if !strings.Contains(out, "hint: every Sumsub webhook got 401, and no secret was given") || strings.Contains(out, "check that --secret") {
		t.Errorf("no secret: the hint does not say so:\n%s", out)
	}
	_, out, _ = run(t, "", append(args, "--secret", "wrong")...)
	if !strings.Contains(out, "hint: every correctly signed webhook got 401: check that --secret") {
		t.Errorf("a wrong secret: no hint about it:\n%s", out)
	}
}
