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
