package main

// TestREADME runs the shell commands of README.md, top to bottom, as a
// reader would in one terminal, and fails when one does not give its
// documented result. The conventions, for whoever edits the README:
//
//   - Every fenced block marked sh, bash or shell runs. Other blocks
//     (yaml, go, sample output without a language) are never run.
//   - A block that must not run here is marked by an HTML comment on the
//     line just before its fence, which GitHub does not show:
//
//     <!-- readme-test: skip REASON -->
//
//     REASON is printed when the test runs (say what it needs: Docker,
//     network, minutes, a browser). Mark only what cannot run here.
//   - Commands run one at a time in one bash session, from a directory
//     that looks like the repository's root (a link to each top-level
//     entry), so files the commands write stay out of the clone. Shell
//     variables and background servers carry over from block to block.
//   - A command must exit 0, unless a comment on it says "exit N". curl
//     runs with --fail-with-body (a .curlrc in $CURL_HOME), so an HTTP
//     error answer is exit 22: an API call the README shows must succeed.
//   - `kycsim load` measures against real time: when its only failure is
//     that kycsim could not keep the rate (the machine was too busy, as
//     under a parallel `go test ./...`), the test says so and goes on.
//   - Every loopback address with a port (127.0.0.1:9000, localhost:8089)
//     is rewritten to a free port, the same one for the same README port
//     throughout. A server started in the background (a command ending in
//     &) must name --addr; the test checks the port is free, then waits
//     until it accepts connections. Stop it (kill $!) in the block where
//     it is no longer needed: the next block that starts one on the same
//     port fails otherwise.
//   - A value taken from an earlier answer goes into a shell variable
//     (WORKFLOW_ID=$(...)), never a placeholder to fill in by hand.
//   - A file of the repository a command names (a profile, a scenario)
//     is read with the same port rewriting: the command gets a copy.
//   - Each command has 60 seconds; `go build` and `go install` have 5
//     minutes. A command that runs out of time ends the test.
//   - When a command fails, the rest of its block is not run and the
//     background servers are stopped, so that one failure is reported
//     once, not again by every block after it.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// readmeBlock is one fenced shell block of the README.
type readmeBlock struct {
	Line int    // the line of its opening fence
	Text string // its content
	Skip string // the reason it is skipped, if it is
}

var (
	fenceOpen  = regexp.MustCompile("^```\\s*([A-Za-z0-9_-]*)")
	skipMarker = regexp.MustCompile(`^<!--\s*readme-test:\s*skip\s+(.*?)\s*-->\s*$`)
	anyMarker  = regexp.MustCompile(`^<!--\s*readme-test:`)
)

// readmeBlocks reads the shell blocks of a Markdown file, with their skip
// markers. A marker that is not "skip REASON", or is not right before a
// fence, is an error: a typo must not quietly run or skip a block.
func readmeBlocks(name string) ([]readmeBlock, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var blocks []readmeBlock
	var (
		in      bool
		shell   bool
		cur     readmeBlock
		pending string
		pendAt  int
		lines   []string
	)
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if in {
			if strings.HasPrefix(strings.TrimSpace(line), "```") {
				in = false
				if shell {
					cur.Text = strings.Join(lines, "\n")
					blocks = append(blocks, cur)
				}
				continue
			}
			lines = append(lines, line)
			continue
		}
		if m := fenceOpen.FindStringSubmatch(line); m != nil {
			in, lines = true, nil
			switch m[1] {
			case "sh", "bash", "shell":
				shell = true
			default:
				shell = false
			}
			if pending != "" && !shell {
				return nil, fmt.Errorf("%s:%d: a readme-test marker before a block that is not a shell block", name, pendAt)
			}
			cur = readmeBlock{Line: n, Skip: pending}
			pending = ""
			continue
		}
		if pending != "" {
			return nil, fmt.Errorf("%s:%d: a readme-test marker must be on the line just before a block's fence", name, pendAt)
		}
		if anyMarker.MatchString(line) {
			m := skipMarker.FindStringSubmatch(line)
			if m == nil || m[1] == "" {
				return nil, fmt.Errorf("%s:%d: %q: the only marker is <!-- readme-test: skip REASON -->", name, n, line)
			}
			pending, pendAt = m[1], n
		}
	}
	if in {
		return nil, fmt.Errorf("%s: the block opened at line %d is not closed", name, cur.Line)
	}
	return blocks, sc.Err()
}

func TestREADME(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the README's commands take about a minute")
	}
	blocks, err := readmeBlocks("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	linkRepo(t, dir)
	if err := os.WriteFile(dir+"/.curlrc", []byte("--fail-with-body\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sh := newShellSession(t, dir, "CURL_HOME="+dir)
	ran, skipped := 0, 0
	var reasons []string
	for _, b := range blocks {
		cmds := splitCommands(b.Text, b.Line+1)
		if b.Skip != "" {
			skipped += len(cmds)
			reasons = append(reasons, fmt.Sprintf("README.md:%d (%d commands): %s", b.Line, len(cmds), b.Skip))
			continue
		}
		failed := false
		for _, c := range cmds {
			if failed {
				t.Errorf("README.md:%d: not run: an earlier command of its block failed", c.Line)
				continue
			}
			sh.mapFiles(c.Text)
			c.Text = sh.mapPorts(c.Text)
			ran++
			timeout := 60 * time.Second
			if strings.HasPrefix(c.Text, "go build") || strings.HasPrefix(c.Text, "go install") {
				timeout = 5 * time.Minute
			}
			res := sh.run(c, timeout)
			switch {
			case res.Err != nil && res.TimedOut:
				t.Fatalf("README.md:%d: %s\n%v\noutput:\n%s", c.Line, c.Text, res.Err, tail(res.Output))
			case res.Err != nil:
				t.Errorf("README.md:%d: %s\n%v\noutput:\n%s", c.Line, c.Text, res.Err, tail(res.Output))
				failed = true
			case res.Exit == 1 && c.Exit == 0 && onlyMissedArrivals(c.Text, res.Output):
				t.Logf("README.md:%d: kycsim load could not keep the rate on this busy machine; every other check passed:\n%s", c.Line, tail(res.Output))
			case res.Exit != c.Exit:
				t.Errorf("README.md:%d: %s\nexit %d, the README says %d (a comment \"exit N\" on the command documents another)\noutput:\n%s", c.Line, c.Text, res.Exit, c.Exit, tail(res.Output))
				failed = true
			}
			if failed {
				sh.stopBackground()
			}
		}
	}
	t.Logf("README.md: %d commands run, %d skipped", ran, skipped)
	for _, r := range reasons {
		t.Logf("skipped %s", r)
	}
	if ran < 50 {
		t.Errorf("only %d README commands ran: were the blocks' fences or markers changed?", ran)
	}
}

// tail is the end of a command's output, enough to see why it failed.
func tail(out string) string {
	const keep = 4000
	if len(out) <= keep {
		return out
	}
	return "[...]\n" + out[len(out)-keep:]
}

// onlyMissedArrivals reports whether a `kycsim load` run failed only
// because kycsim could not keep the rate: every FAIL line of the text
// summary, or every entry of the JSON summary's failures, says so.
func onlyMissedArrivals(cmd, out string) bool {
	if !strings.Contains(cmd, "kycsim load") {
		return false
	}
	var reasons []string
	var js struct{ Failures []string }
	if json.Unmarshal([]byte(out), &js) == nil {
		reasons = js.Failures
	} else {
		for _, l := range strings.Split(out, "\n") {
			if r, ok := strings.CutPrefix(l, "FAIL "); ok {
				reasons = append(reasons, r)
			}
		}
	}
	for _, r := range reasons {
		if !strings.HasSuffix(r, "kycsim could not keep the rate") {
			return false
		}
	}
	return len(reasons) > 0
}

func TestOnlyMissedArrivals(t *testing.T) {
	for _, tt := range []struct {
		cmd, out string
		want     bool
	}{
		{"./kycsim load x", "...\nFAIL 52 of 5000 planned arrivals (1.0%) were not sent: kycsim could not keep the rate\n", true},
		{"./kycsim load x", "FAIL 52 of 5000 planned arrivals (1.0%) were not sent: kycsim could not keep the rate\nFAIL 3 requests got no answer\n", false},
		{"./kycsim load x", "{\"missed\": {\"behind\": 8},\n  \"failures\": [\n    \"8 of 400 planned arrivals (2.0%) were not sent: kycsim could not keep the rate\"\n  ],\n\"passed\": false}\n", true},
		{"./kycsim load x", "{\"failures\": [\n    \"8 of 400 planned arrivals (2.0%) were not sent: kycsim could not keep the rate\",\n    \"2 late\"\n  ]}\n", false},
		{"./kycsim send x", "FAIL kycsim could not keep the rate\n", false},
		{"./kycsim load x", "error: connection refused\n", false},
	} {
		if got := onlyMissedArrivals(tt.cmd, tt.out); got != tt.want {
			t.Errorf("onlyMissedArrivals(%q, %q) = %v, want %v", tt.cmd, tt.out, got, tt.want)
		}
	}
}

func TestReadmeBlocks(t *testing.T) {
	tests := []struct {
		name, md string
		want     []readmeBlock
		err      string
	}{
		{"shell blocks only", "text\n```sh\na\nb\n```\n```yaml\nx: 1\n```\n```\nout\n```\n```bash\nc\n```\n",
			[]readmeBlock{{Line: 2, Text: "a\nb"}, {Line: 12, Text: "c"}}, ""},
		{"skip marker", "<!-- readme-test: skip needs Docker -->\n```sh\ndocker ps\n```\n",
			[]readmeBlock{{Line: 2, Text: "docker ps", Skip: "needs Docker"}}, ""},
		{"marker not before a fence", "<!-- readme-test: skip x -->\n\n```sh\na\n```\n", nil, "just before"},
		{"misspelt marker", "<!-- readme-test: skp x -->\n```sh\na\n```\n", nil, "the only marker"},
		{"marker on a yaml block", "<!-- readme-test: skip x -->\n```yaml\na: 1\n```\n", nil, "not a shell block"},
		{"unclosed", "```sh\na\n", nil, "not closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := t.TempDir() + "/R.md"
			if err := os.WriteFile(name, []byte(tt.md), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := readmeBlocks(name)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one saying %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("blocks %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestSplitCommands(t *testing.T) {
	text := `# a comment
./kycsim receiver --addr 127.0.0.1:9000 &   # something, exit 0
./kycsim send x \
    --to y   # exit 1
TOKEN=$(curl -s \
  http://z | sed 's/#x/y/')
echo "a # not a comment
b"
cat <<'EOF'
line # kept
EOF

kill $!`
	got := splitCommands(text, 10)
	want := []shellCommand{
		{Text: "./kycsim receiver --addr 127.0.0.1:9000 &   # something, exit 0", Line: 11},
		{Text: "./kycsim send x \\\n    --to y   # exit 1", Line: 12, Exit: 1},
		{Text: "TOKEN=$(curl -s \\\n  http://z | sed 's/#x/y/')", Line: 14},
		{Text: "echo \"a # not a comment\nb\"", Line: 16},
		{Text: "cat <<'EOF'\nline # kept\nEOF", Line: 18},
		{Text: "kill $!", Line: 22},
	}
	if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", want) {
		t.Errorf("commands\n%#v\nwant\n%#v", got, want)
	}
	if !got[0].background() || got[1].background() {
		t.Errorf("background: %v %v, want true false", got[0].background(), got[1].background())
	}
}

// TestREADMEProfile checks that the profile the README shows is the file
// it runs, conformance/ci/profile.yaml, after the file's header comment.
func TestREADMEProfile(t *testing.T) {
	readme := readFile(t, "../../README.md")
	file := readFile(t, "../../conformance/ci/profile.yaml")
	var body []string
	for i, l := range strings.Split(file, "\n") {
		if strings.HasPrefix(l, "#") {
			continue
		}
		body = strings.Split(file, "\n")[i:]
		break
	}
	want := "```yaml\n" + strings.TrimSpace(strings.Join(body, "\n")) + "\n```"
	if !strings.Contains(readme, want) {
		t.Errorf("the README's profile is not conformance/ci/profile.yaml; the file's body is:\n%s", want)
	}
	if !strings.Contains(readme, "--profile conformance/ci/profile.yaml") {
		t.Errorf("the README does not run conformance/ci/profile.yaml")
	}
}
