package main

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kycsim/kycsim/conformance/receiver"
)

func referenceServer(t *testing.T, defects ...receiver.Defect) string {
	t.Helper()
	return referenceServerWith(t, receiver.Config{Defects: defects})
}

func referenceServerWith(t *testing.T, cfg receiver.Config) string {
	t.Helper()
	cfg.Secret, cfg.Fetch = "s3cr3t", true
	rc, err := receiver.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestConformReferenceReceiverPasses(t *testing.T) {
	base := referenceServer(t)
	for _, p := range []string{"sumsub", "jumio-kyx", "jumio-netverify", "jumio-auth", "jumio-docverify"} {
		code, out, errOut := run(t, "", "conform", "--to", base+receiver.Paths[p], "--product", p, "--secret", "s3cr3t",
			"--probe", base+"/_probe/{subject}", "--time-scale", "0.00001")
		if code != 0 || !strings.Contains(out, "0 failed, 0 skipped") {
			t.Fatalf("%s: exit %d\n%s%s", p, code, out, errOut)
		}
	}
	// A receiver that rejects bad Jumio content passes under --jumio-invalid reject, not under ack-and-drop.
	strict := referenceServerWith(t, receiver.Config{ContentPolicy: receiver.Reject})
	for policy, want := range map[string]int{"reject": 0, "ack-and-drop": 1} {
		code, out, _ := run(t, "", "conform", "--to", strict+"/jumio/kyx", "--product", "jumio-kyx", "--only", "jumio-kyx.reject.*",
			"--probe", strict+"/_probe/{subject}", "--jumio-invalid", policy, "--settle", "200ms")
		if code != want {
			t.Errorf("--jumio-invalid %s against a rejecting receiver: exit %d, want %d\n%s", policy, code, want, out)
		}
	}
	// The profile's foreign address is the one sent from: one the
	// receiver allows fails the source cases.
	allows3 := referenceServerWith(t, receiver.Config{Sources: []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.3")}})
	code, out, _ := run(t, "", "conform", "--to", allows3+"/jumio/kyx", "--product", "jumio-kyx", "--only", "jumio-kyx.reject.source.*",
		"--probe", allows3+"/_probe/{subject}", "--foreign-source", "127.0.0.3", "--settle", "200ms")
	if code != 1 {
		t.Errorf("an allowed address declared foreign: exit %d, want 1\n%s", code, out)
	}
	// Without the probe, the answers are still checked and the cases pass
	// on them, their effect checks listed as unobserved, and the run is
	// incomplete (exit 4) unless skips are allowed.
	code, out, stderr := run(t, "", "conform", "--to", base+"/sumsub", "--product", "sumsub", "--secret", "s3cr3t",
		"--only", "sumsub.dedup.*", "--format", "json")
	var rep struct {
		Cases []struct {
			ID, Outcome      string
			Unobserved       bool
			UnobservedChecks []string
		}
	}
	if code != 4 || json.Unmarshal([]byte(out), &rep) != nil || len(rep.Cases) != 4 || !strings.Contains(stderr, "incomplete: 4 enforced case(s) have effect checks that could not be observed; add --probe") {
		t.Fatalf("no probe: exit %d\n%s%s", code, out, stderr)
	}
	for _, c := range rep.Cases {
		if c.Outcome != "pass" || !c.Unobserved || len(c.UnobservedChecks) == 0 {
			t.Errorf("%s: %s, unobserved %v %q without a probe; want a pass on the answers, effects unobserved", c.ID, c.Outcome, c.Unobserved, c.UnobservedChecks)
		}
	}
	code, out, _ = run(t, "", "conform", "--to", base+"/sumsub", "--product", "sumsub", "--secret", "s3cr3t", "--only", "sumsub.dedup.*")
	if code != 4 || !strings.Contains(out, "effect check(s) of 4 case(s) could not be observed") || !strings.Contains(out, "not observed: events/status") {
		t.Errorf("no probe, text: exit %d\n%s", code, out)
	}
	if code, out, _ := run(t, "", "conform", "--to", base+"/sumsub", "--product", "sumsub", "--secret", "s3cr3t",
		"--only", "sumsub.dedup.*", "--allow-skips"); code != 0 {
		t.Errorf("no probe, --allow-skips: exit %d\n%s", code, out)
	}
}

// TestConformHandles certifies a receiver that acts on applicantReviewed
// only: without --handles it fails the cases that expect effects of other
// messages; with it, it passes.
func TestConformHandles(t *testing.T) {
	base := referenceServerWith(t, receiver.Config{Handles: map[string][]string{"sumsub": {"applicantReviewed"}}})
	args := []string{"conform", "--to", base + "/sumsub", "--product", "sumsub", "--secret", "s3cr3t",
		"--probe", base + "/_probe/{subject}", "--time-scale", "0.00001", "--format", "json"}
	if code, out, _ := run(t, "", args...); code != 1 {
		t.Errorf("without --handles: exit %d, want 1\n%s", code, out)
	}
	code, out, errOut := run(t, "", append(args, "--handles", "applicantReviewed")...)
	var rep struct {
		Cases []struct {
			ID, Outcome string
			Notes       []string
		}
	}
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil {
		t.Fatalf("with --handles: exit %d\n%s%s", code, out, errOut)
	}
	noted := 0
	for _, c := range rep.Cases {
		if c.ID == "sumsub.accept.message.applicant-pending" && (c.Outcome != "pass" || len(c.Notes) == 0) {
			t.Errorf("%s: %s, notes %q; want a pass with a note that effects were not checked", c.ID, c.Outcome, c.Notes)
		}
		noted += len(c.Notes)
	}
	if noted == 0 {
		t.Error("no case says it left an effect check out")
	}
}

// TestConformCatchesSumsubDefects checks that the cases aimed at a defect
// fail against a receiver that has it.
func TestConformCatchesDefects(t *testing.T) {
	for _, tt := range []struct {
		defect receiver.Defect
		caught []string
	}{
		{receiver.DefectAnySource, []string{"jumio-kyx.reject.source.foreign", "jumio-kyx.reject.source.forwarded-for-spoof"}},
		{receiver.DefectTrustForwardedFor, []string{"jumio-kyx.reject.source.forwarded-for-spoof"}},
		{receiver.DefectStrictMillis, []string{"jumio-kyx.accept.precision-0", "jumio-kyx.accept.precision-1", "jumio-kyx.accept.precision-2"}},
		{receiver.DefectNoSignatureCheck, []string{"sumsub.reject.signature.missing", "sumsub.reject.signature.tampered-body", "sumsub.reject.signature.wrong-secret"}},
		{receiver.DefectAssumeSHA256, []string{"sumsub.accept.signature-sha1", "sumsub.accept.signature-sha512"}},
		{receiver.DefectNoDedup, []string{"sumsub.dedup.identical", "sumsub.dedup.concurrent"}},
		{receiver.DefectMergeFinals, []string{"sumsub.dedup.distinct-results"}},
		{receiver.DefectStateRegression, []string{"sumsub.order.stale-after-final"}},
		{receiver.DefectBoolSandboxMode, []string{"sumsub.accept.sandbox-mode-string"}},
		{receiver.DefectUnknownFields5xx, []string{"sumsub.accept.unknown-field"}},
		{receiver.DefectRejectUnknownType, []string{"sumsub.accept.unknown-type"}},
		{receiver.DefectAcceptInvalid, []string{"sumsub.reject.bad-decision", "sumsub.reject.missing.type"}},
		{receiver.DefectActsOnRefusedLater, []string{"sumsub.reject.signature.wrong-secret", "sumsub.reject.signature.tampered-body"}},
		{receiver.DefectUnusable5xx, []string{"sumsub.reject.malformed-body", "sumsub.reject.empty-body"}},
		{receiver.DefectUnknownStatusApproved, []string{"sumsub.accept.unknown-review-status"}},
	} {
		t.Run(string(tt.defect), func(t *testing.T) {
			base := referenceServer(t, tt.defect)
			product := strings.SplitN(tt.caught[0], ".", 2)[0]
			args := []string{"conform", "--to", base + receiver.Paths[product], "--product", product, "--secret", "s3cr3t",
				"--probe", base + "/_probe/{subject}", "--time-scale", "0.00001", "--format", "json", "--settle", "200ms"}
			for _, id := range tt.caught {
				args = append(args, "--only", id)
			}
			code, out, _ := run(t, "", args...)
			var rep struct {
				Cases []struct{ ID, Outcome string }
			}
			if code != 1 || json.Unmarshal([]byte(out), &rep) != nil {
				t.Fatalf("exit %d\n%s", code, out)
			}
			for _, c := range rep.Cases {
				if c.Outcome != "fail" {
					t.Errorf("%s: %s against a receiver with %s", c.ID, c.Outcome, tt.defect)
				}
			}
		})
	}
}

func TestConformUsage(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() + "/sumsub"
	l.Close()
	if code, _, stderr := run(t, "", "conform", "--to", closed, "--product", "sumsub"); code != 3 || !strings.Contains(stderr, "cannot be reached") {
		t.Errorf("unreachable: exit %d %s", code, stderr)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"conform"}, "--to and --product are required"},
		{[]string{"conform", "--to", "http://127.0.0.1:1/", "--product", "onfido"}, "unknown product"},
		{[]string{"conform", "--list", "--only", "["}, "--only/--skip"},
		{[]string{"conform", "--to", "http://127.0.0.1:1/", "--product", "sumsub", "--probe", "http://x/"}, "no {subject}"},
	} {
		code, _, stderr := run(t, "", tt.args...)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
	// Settings that cannot work are refused before anything is sent.
	var got atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got.Add(1) }))
	defer target.Close()
	ok := []string{"conform", "--to", target.URL + "/sumsub", "--product", "sumsub", "--secret", "s"}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--probe", "ftp://127.0.0.1/{subject}"}, "--probe"},
		{[]string{"--probe", "{subject}"}, "--probe"},
		{[]string{"--time-scale", "NaN"}, "--time-scale NaN"},
		{[]string{"--time-scale", "+Inf"}, "--time-scale +Inf"},
		{[]string{"--time-scale", "-1"}, "--time-scale -1"},
		{[]string{"--settle", "-1s"}, "--settle -1s"},
		{[]string{"--quiet", "-1s"}, "--quiet -1s"},
		{[]string{"--parallel", "0"}, "--parallel 0"},
		{[]string{"--report", "junit:" + t.TempDir() + "/no/such/dir/r.xml"}, "--report"},
		{[]string{"--report", "pdf:r.pdf"}, "--report"},
		{[]string{"--handles", "applicantReviewd"}, "--handles"},
		{[]string{"--content-policy", "drop"}, "--content-policy"},
	} {
		code, _, stderr := run(t, "", append(append([]string{}, ok...), tt.args...)...)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
	if code, _, stderr := run(t, "", "conform", "--to", "http://127.0.0.1:70000/sumsub", "--product", "sumsub"); code != 2 || !strings.Contains(stderr, "out of range") {
		t.Errorf("port 70000: exit %d, %s", code, stderr)
	}
	if n := got.Load(); n != 0 {
		t.Errorf("%d requests were sent by runs refused as usage errors", n)
	}
	if code, out, _ := run(t, "", "conform", "--list"); code != 0 || !strings.Contains(out, "sumsub.reject.signature.tampered-body") {
		t.Errorf("--list: exit %d", code)
	}
}

// TestConformReports writes every report format and reads them back.
func TestConformReports(t *testing.T) {
	base := referenceServer(t)
	dir := t.TempDir()
	code, out, errOut := run(t, "", "conform", "--to", base+"/sumsub", "--product", "sumsub", "--secret", "s3cr3t",
		"--probe", base+"/_probe/{subject}", "--only", "sumsub.reject.signature.*",
		"--report", "junit:"+dir+"/c.xml", "--report", "json:"+dir+"/c.json", "--report", "html:"+dir+"/c.html", "--report", "text:"+dir+"/c.txt")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, f := range []struct{ name, want string }{
		{"c.xml", `<testcase name="sumsub.reject.signature.tampered-body"`},
		{"c.json", `"schema": "kycsim.conformance/v1"`},
		{"c.html", `id="sumsub.reject.signature.wrong-secret"`},
		{"c.txt", "5 case(s): 5 passed"},
	} {
		if b := readFile(t, dir+"/"+f.name); !strings.Contains(b, f.want) {
			t.Errorf("%s lacks %s", f.name, f.want)
		}
	}
	if code, _, stderr := run(t, "", "conform", "--to", base+"/sumsub", "--product", "sumsub", "--report", "pdf:x.pdf"); code != 2 || !strings.Contains(stderr, "--report") {
		t.Errorf("bad report format: exit %d %s", code, stderr)
	}
}

func TestDemo(t *testing.T) {
	code, out, errOut := run(t, "", "demo")
	if code != 0 || !strings.Contains(out, " 0 failed, 0 skipped") || !strings.Contains(out, "answer latency over") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if code, _, _ := run(t, "", "demo", "extra"); code != 2 {
		t.Errorf("demo extra: exit %d", code)
	}
}

// TestConformProfile certifies two products of one receiver from a profile.
func TestConformProfile(t *testing.T) {
	base := referenceServer(t)
	dir := t.TempDir()
	prof := dir + "/receiver.yaml"
	writeFile(t, prof, "targets:\n  sumsub: "+base+"/sumsub\n  jumio-kyx: "+base+"/jumio/kyx\nprobe: "+base+"/_probe/{subject}\nsecret: s3cr3t\nenforce: [MUST, SHOULD]\ntime-scale: 0.00001\n")
	code, out, errOut := run(t, "", "conform", "--profile", prof)
	if code != 0 || !strings.Contains(out, "0 failed, 0 skipped") || !strings.Contains(out, "jumio-kyx.accept.message.processed") || !strings.Contains(out, "sumsub.accept.message.applicant-created") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	bad := dir + "/bad.yaml"
	writeFile(t, bad, "targets:\n  sumsub: "+base+"/sumsub\nsecrett: x\n")
	if code, _, stderr := run(t, "", "conform", "--profile", bad); code != 2 || !strings.Contains(stderr, `bad.yaml:3:1: profile: unknown key "secrett"; did you mean "secret"?`) {
		t.Errorf("bad profile: exit %d %s", code, stderr)
	}
	if code, _, stderr := run(t, "", "conform", "--profile", prof, "--product", "sumsub"); code != 2 || !strings.Contains(stderr, "do not combine") {
		t.Errorf("profile and product: exit %d %s", code, stderr)
	}
}

func writeFile(t *testing.T, name, text string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestConformProxyMode certifies a receiver behind a proxy: sources come
// from X-Forwarded-For.
func TestConformProxyMode(t *testing.T) {
	base := referenceServerWith(t, receiver.Config{BehindProxy: true})
	code, out, errOut := run(t, "", "conform", "--to", base+"/jumio/kyx", "--product", "jumio-kyx", "--source-mode", "proxy",
		"--foreign-source", "203.0.113.9", "--probe", base+"/_probe/{subject}", "--time-scale", "0.00001")
	if code != 0 || !strings.Contains(out, "0 failed, 0 skipped") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	// The same receiver with X-Forwarded-For trusted blindly (any source) fails the source cases.
	loose := referenceServerWith(t, receiver.Config{BehindProxy: true, Defects: []receiver.Defect{receiver.DefectAnySource}})
	code, out, _ = run(t, "", "conform", "--to", loose+"/jumio/kyx", "--product", "jumio-kyx", "--source-mode", "proxy",
		"--foreign-source", "203.0.113.9", "--probe", loose+"/_probe/{subject}", "--only", "jumio-kyx.reject.source.*", "--settle", "200ms")
	if code != 1 || !strings.Contains(out, "0 passed, 2 failed") {
		t.Errorf("any-source behind a proxy: exit %d\n%s", code, out)
	}
	if code, _, stderr := run(t, "", "conform", "--to", base+"/jumio/kyx", "--product", "jumio-kyx", "--foreign-source", "203.0.113.9"); code != 2 || !strings.Contains(stderr, "loopback") {
		t.Errorf("a non-loopback foreign source in direct mode: exit %d %s", code, stderr)
	}
}

// TestConformHostileReceiver certifies a receiver whose answers carry
// terminal escapes, NUL and characters XML forbids: none reach the
// terminal raw, and the JUnit file stays valid XML.
func TestConformHostileReceiver(t *testing.T) {
	evil := "\x1b[2J\x1b]52;c;ZXZpbA==\x07\x00\x0b\ufffe<script>alert(1)</script>]]>"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// net/http refuses C0 controls in header values; C1 ones pass.
		w.Header().Set("X-Evil", "\u009b2J")
		w.WriteHeader(http.StatusTeapot)
		w.Write([]byte(evil + "\xff"))
	}))
	defer srv.Close()
	junit := t.TempDir() + "/r.xml"
	code, out, errOut := run(t, "", "conform", "--to", srv.URL+"/sumsub", "--product", "sumsub", "--secret", "s3cr3t",
		"--probe", srv.URL+"/_probe/{subject}", "--only", "sumsub.accept.message.applicant-reviewed", "--settle", "100ms",
		"--report", "junit:"+junit)
	if code != 1 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, bad := range []string{"\x1b", "\x00", "\x07", "\x0b", "\ufffe", "\xff", "\u009b"} {
		if strings.Contains(out+errOut, bad) {
			t.Errorf("the output carries %q raw:\n%s", bad, out)
		}
	}
	b, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(strings.NewReader(string(b)))
	for {
		if _, err := dec.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("the JUnit file is not valid XML: %v\n%s", err, b)
		}
	}
}

// TestConformFailFast certifies a receiver that refuses everything with
// --fail-fast --parallel 1: one case fails and the rest are skipped.
func TestConformFailFast(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()
	code, stdout, stderr := run(t, "", "conform", "--to", srv.URL, "--product", "sumsub", "--secret", "s", "--allow-skips",
		"--fail-fast", "--parallel", "1", "--format", "json")
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr: %s", code, stderr)
	}
	var rep struct {
		Failed, Skipped, Passed int
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("%v: %.300s", err, stdout)
	}
	if rep.Failed != 1 || rep.Skipped == 0 {
		t.Errorf("failed %d, skipped %d: want 1 failure and the rest skipped", rep.Failed, rep.Skipped)
	}
}

// TestExitCodes maps conform's errors to the documented exit codes.
func TestExitCodes(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want int
	}{
		{nil, ExitOK},
		{&failedError{what: "x"}, ExitFailed},
		{usageErrorf("x"), ExitUsage},
		{&unreachableError{msg: "x"}, ExitUnreachable},
		{&incompleteError{n: 1}, ExitIncomplete},
		{&capacityError{n: 1}, ExitCapacity},
	} {
		if got := ExitCode(tt.err); got != tt.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}
