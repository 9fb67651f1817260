package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// exampleReceivers are the receivers to copy in other languages than Go
// (conformance/examples/*/receiver.{py,js}); the Go ones certify
// themselves with kycsimtest in their own packages.
var exampleReceivers = []struct {
	product, file, path string
	args                []string // conform's arguments beyond --to, --product and --probe
}{
	{"sumsub", "sumsub/receiver.py", "/webhooks/sumsub", []string{"--secret", "s3cr3t", "--handles", "applicantPending,applicantOnHold,applicantReviewed"}},
	{"sumsub", "sumsub/receiver.js", "/webhooks/sumsub", []string{"--secret", "s3cr3t", "--handles", "applicantPending,applicantOnHold,applicantReviewed"}},
	{"jumio-kyx", "jumio-kyx/receiver.py", "/webhooks/jumio", nil},
	{"jumio-kyx", "jumio-kyx/receiver.js", "/webhooks/jumio", nil},
}

// interpreters run the example receivers, with what each needs to be
// there and how to get it.
var interpreters = map[string]struct {
	cmd   string
	check []string // exits 0 when the interpreter is recent enough
	get   string
}{
	".py": {"python3", []string{"-c", "import sys; sys.exit(sys.version_info < (3, 11))"}, "install Python 3.11 or later (.ci/run does)"},
	".js": {"node", []string{"-e", "process.exit(Number(process.versions.node.split('.')[0]) < 18 ? 1 : 0)"}, "install Node.js 18 or later (.ci/run does)"},
}

// TestExampleReceiversConform runs `kycsim conform` against each example
// receiver in Python and Node, started as its README says, and wants it
// to pass with every content case pinned to reject.
func TestExampleReceiversConform(t *testing.T) {
	for _, ex := range exampleReceivers {
		t.Run(ex.file, func(t *testing.T) {
			in := interpreters[filepath.Ext(ex.file)]
			bin, err := exec.LookPath(in.cmd)
			if err != nil {
				t.Skipf("%s not found on PATH: %s to certify %s", in.cmd, in.get, ex.file)
			}
			if out, err := exec.Command(bin, in.check...).CombinedOutput(); err != nil {
				t.Skipf("%s is too old (%v%s): %s to certify %s", in.cmd, err, out, in.get, ex.file)
			}
			base := startExample(t, bin, filepath.Join("..", "..", "conformance", "examples", ex.file))
			args := append([]string{"conform", "--to", base + ex.path, "--product", ex.product,
				"--probe", base + "/_probe/{subject}", "--content-policy", "reject", "--time-scale", "0.00001"}, ex.args...)
			if code, out, errOut := run(t, "", args...); code != 0 {
				t.Fatalf("kycsim %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
			}
		})
	}
}

// startExample starts an example receiver on an ephemeral loopback port
// and returns its base URL, read from the first line it prints.
func startExample(t *testing.T, bin, file string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, file)
	cmd.Env = append(os.Environ(), "ADDR=127.0.0.1:0", "SUMSUB_WEBHOOK_SECRET=s3cr3t", "JUMIO_SOURCES=127.0.0.1")
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
	})
	line := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(stdout)
		s.Scan()
		line <- s.Text()
	}()
	select {
	case l := <-line:
		base, ok := strings.CutPrefix(l, "listening on ")
		if !ok {
			t.Fatalf("%s printed %q, want \"listening on URL\"", file, l)
		}
		return base
	case <-time.After(20 * time.Second):
		t.Fatalf("%s printed no address in 20 s", file)
	}
	return ""
}
