package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/kycsim/kycsim/conformance/receiver"
)

// shellWords splits a command line as a POSIX shell does, for the quoting
// replayCommand writes: bare words, single-quoted strings and
// backslash escapes.
func shellWords(t *testing.T, s string) []string {
	t.Helper()
	var out []string
	var cur strings.Builder
	inWord, quoted := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quoted && c == '\'':
			quoted = false
		case quoted:
			cur.WriteByte(c)
		case c == '\'':
			quoted, inWord = true, true
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			inWord = true
		case c == ' ':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if quoted {
		t.Fatalf("unterminated quote: %s", s)
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out
}

// runReport is the part of the JSON report the tests read.
type runReport struct {
	Kind     string
	Seed     string
	Settings map[string]string
	Passed   int
	Failed   int
	Skipped  int
	Cases    []struct {
		ID      string
		Outcome string
		Reasons []string
		Replays []struct {
			Step              int
			Pos               string
			BodyFile, Command string
		}
		Steps []struct {
			Pos      string
			Failures []string
			Attempts []struct {
				Status      int
				RequestBody string
			}
		}
	}
}

// statusLine is a status as the exchange shows it: "200 OK".
func statusLine(status int) string {
	return strconv.Itoa(status) + " " + http.StatusText(status)
}

func readReport(t *testing.T, path string) runReport {
	t.Helper()
	var rep runReport
	if err := json.Unmarshal([]byte(readFile(t, path)), &rep); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rep
}

var attemptStatus = regexp.MustCompile(`(?m)^  attempt 1  \S+  (\d{3}) `)

// TestRunReplay fails a step against a receiver, then runs the replay
// command the run printed against the same receiver: it must get the
// same answer status, which it gets only with the exact bytes and the
// headers that matter (the digest headers, X-Forwarded-For, the source
// address), and without signing again.
func TestRunReplay(t *testing.T) {
	for _, tt := range []struct {
		name     string
		defects  []receiver.Defect
		scenario string
		status   int    // the answer the failed step got, and the replay gets
		flag     string // a part of the replay command that makes it reproduce
	}{
		{"a SHA-512 digest, wrongly expected refused", nil, `product: sumsub
description: A correctly signed webhook, wrongly expected to be refused.
steps:
  - send: applicantReviewed
    sign: {alg: HMAC_SHA512_HEX}
    expect: 4xx
`, 200, "--header 'X-Payload-Digest-Alg: HMAC_SHA512_HEX'"},
		{"no digest, wrongly expected accepted", nil, `product: sumsub
description: An unsigned webhook, wrongly expected to be accepted.
steps:
  - send: applicantReviewed
    sign: {digest: missing}
    expect: 2xx
`, 401, "--unsigned"},
		{"a receiver that assumes SHA-256", []receiver.Defect{receiver.DefectAssumeSHA256}, `product: sumsub
description: A SHA-1 digest is checked as SHA-256.
steps:
  - send: applicantReviewed
    sign: {alg: HMAC_SHA1_HEX}
    expect: 2xx
`, 401, "X-Payload-Digest: "},
		{"a receiver that demands three millisecond digits", []receiver.Defect{receiver.DefectStrictMillis}, `product: jumio-kyx
description: A timestamp without milliseconds.
steps:
  - send: PROCESSED
    precision: 0
    expect: 2xx
`, 400, "--header 'Content-Type: application/json'"},
		{"a receiver that trusts X-Forwarded-For", []receiver.Defect{receiver.DefectTrustForwardedFor}, `product: jumio-netverify
description: A foreign sender claims a Jumio address.
steps:
  - send: APPROVED_VERIFIED
    from: 127.0.0.2
    forwarded-for: 34.202.241.227
    expect: 4xx
`, 200, "--from 127.0.0.2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// A secret in the environment must not make the replay sign
			// again: it sends the recorded headers, or none.
			t.Setenv(secretFromEnv, "s3cr3t")
			base := referenceServer(t, tt.defects...)
			dir := t.TempDir()
			file := filepath.Join(dir, "case.yaml")
			writeTree(t, dir, map[string]string{"case.yaml": tt.scenario})
			replayDir, reportFile := filepath.Join(dir, "bodies"), filepath.Join(dir, "r.json")
			code, out, errOut := run(t, "", "run", file, "--base", base, "--secret", "s3cr3t", "--replay-dir", replayDir, "--report", "json:"+reportFile)
			if code != 1 {
				t.Fatalf("exit %d, want 1\n%s%s", code, out, errOut)
			}
			rep := readReport(t, reportFile)
			c := rep.Cases[0]
			if len(c.Replays) != 1 || len(c.Steps) != 1 || len(c.Steps[0].Attempts) != 1 {
				t.Fatalf("replays %+v, steps %+v", c.Replays, c.Steps)
			}
			rp, a := c.Replays[0], c.Steps[0].Attempts[0]
			if a.Status != tt.status {
				t.Fatalf("the step got %d, want %d", a.Status, tt.status)
			}
			// The failure names its place, the request and the answer.
			for _, want := range []string{"at " + file + ":4:5, attempt 1:", "> POST " + base, "< " + statusLine(a.Status), "replay: " + rp.Command} {
				if !strings.Contains(out, want) {
					t.Errorf("the output has no %q\n%s", want, out)
				}
			}
			if !strings.Contains(rp.Command, tt.flag) || !strings.HasPrefix(rp.Command, "kycsim send ") {
				t.Errorf("replay %s: no %s", rp.Command, tt.flag)
			}
			body, err := os.ReadFile(rp.BodyFile)
			if err != nil || !bytes.Equal(body, []byte(a.RequestBody)) || filepath.Dir(rp.BodyFile) != replayDir {
				t.Fatalf("the saved body %s is not the bytes sent (%v)", rp.BodyFile, err)
			}
			words := shellWords(t, rp.Command)
			code, out, errOut = run(t, "", words[1:]...)
			m := attemptStatus.FindStringSubmatch(out)
			if m == nil || m[1] != strconv.Itoa(a.Status) {
				t.Errorf("the replay got %v (exit %d), the step %d\n%s%s", m, code, a.Status, out, errOut)
			}
		})
	}
}

// TestRunReplayTempDir checks that without --replay-dir or --report the
// bodies go to a new temporary directory, named on stdout.
func TestRunReplayTempDir(t *testing.T) {
	base := referenceServer(t)
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"case.yaml": "product: sumsub\ndescription: x\nsteps:\n  - {send: applicantCreated, expect: 500}\n"})
	code, out, _ := run(t, "", "run", filepath.Join(dir, "case.yaml"), "--base", base, "--secret", "s3cr3t")
	m := regexp.MustCompile(`(?m)^replay bodies are saved in (\S+)$`).FindStringSubmatch(out)
	if code != 1 || m == nil {
		t.Fatalf("exit %d, no replay directory named\n%s", code, out)
	}
	t.Cleanup(func() { os.RemoveAll(m[1]) })
	if !strings.Contains(out, "--raw-body "+filepath.Join(m[1], "")) {
		t.Errorf("the replay does not send from %s\n%s", m[1], out)
	}
}
