package main

// The shell harness behind TestREADME and TestCIRecipes: documented shell
// commands run one at a time in one bash session (so variables and
// background servers carry from one command to the next, as in a
// reader's terminal), against a kycsim binary built for the test, with
// every loopback port the documents name mapped to a free one.

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kycsim/kycsim/internal/testpoll"
)

// shellCommand is one command of a document: its text (continuation lines
// joined as written), where it starts, and the exit code it documents.
type shellCommand struct {
	Text string
	Line int // 1-based line of the document where the command starts
	Exit int // the exit code its comment names ("exit 1"); 0 otherwise
}

var exitComment = regexp.MustCompile(`\bexit (\d+)\b`)

// splitCommands splits shell text into commands: a line ending in a
// backslash, an open quote, an open $( or ( or a here-document carries
// on to the next line. Blank lines and whole-line comments separate
// commands. first is the line number of the text's first line.
func splitCommands(text string, first int) []shellCommand {
	var cmds []shellCommand
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if t := strings.TrimSpace(l); t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		start := i
		var b strings.Builder
		for {
			b.WriteString(lines[i])
			st := scanShell(b.String())
			if st.heredoc != "" {
				// Copy the here-document to its terminator.
				for i+1 < len(lines) {
					i++
					b.WriteString("\n" + lines[i])
					if strings.TrimSpace(lines[i]) == st.heredoc {
						break
					}
				}
				break
			}
			if !st.open && !strings.HasSuffix(strings.TrimRight(st.code, " \t"), "\\") || i+1 >= len(lines) {
				break
			}
			b.WriteString("\n")
			i++
		}
		c := shellCommand{Text: b.String(), Line: first + start}
		for _, comment := range scanShell(c.Text).comments {
			if m := exitComment.FindStringSubmatch(comment); m != nil {
				c.Exit, _ = strconv.Atoi(m[1])
			}
		}
		cmds = append(cmds, c)
	}
	return cmds
}

// shellScan is what scanShell found in shell text.
type shellScan struct {
	code     string   // the text without its comments
	comments []string // the comments, without the '#'
	open     bool     // a quote or a parenthesis is still open at the end
	heredoc  string   // the terminator of a here-document the text starts
}

// scanShell reads shell text well enough for the documents' commands:
// quotes, $( ) and ( ) nesting, comments and here-documents.
func scanShell(s string) shellScan {
	var st shellScan
	var code strings.Builder
	quote := byte(0)
	depth := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote == '\'':
			if c == '\'' {
				quote = 0
			}
		case quote == '"':
			if c == '\\' && i+1 < len(s) {
				code.WriteByte(c)
				i++
				c = s[i]
			} else if c == '"' {
				quote = 0
			}
		case c == '\\' && i+1 < len(s):
			code.WriteByte(c)
			i++
			c = s[i]
		case c == '\'' || c == '"':
			quote = c
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == '#' && (i == 0 || strings.ContainsRune(" \t\n;", rune(s[i-1]))):
			end := strings.IndexByte(s[i:], '\n')
			if end < 0 {
				end = len(s) - i
			}
			st.comments = append(st.comments, s[i+1:i+end])
			i += end - 1
			continue
		case c == '<' && strings.HasPrefix(s[i:], "<<") && st.heredoc == "":
			rest := strings.TrimLeft(s[i+2:], "-")
			rest = strings.TrimLeft(rest, " ")
			word := strings.FieldsFunc(rest, func(r rune) bool { return r == ' ' || r == '\n' || r == ';' || r == '|' || r == '>' })
			if len(word) > 0 {
				st.heredoc = strings.Trim(word[0], `'"`)
			}
		}
		code.WriteByte(c)
	}
	st.code = code.String()
	st.open = quote != 0 || depth > 0
	return st
}

// background reports whether a command runs in the background (ends in &).
func (c shellCommand) background() bool {
	code := strings.TrimRight(scanShell(c.Text).code, " \t\n")
	return strings.HasSuffix(code, "&") && !strings.HasSuffix(code, "&&")
}

// loopbackPort matches a loopback host and port a document names.
var loopbackPort = regexp.MustCompile(`\b(127\.0\.0\.1|localhost):(\d{2,5})\b`)

// addrFlag matches the --addr a server listens on.
var addrFlag = regexp.MustCompile(`--addr[ =](\S+)`)

// shellSession is one bash process fed one command at a time.
type shellSession struct {
	t     *testing.T
	dir   string
	repo  string // the repository's root, which dir's links point into
	cmd   *exec.Cmd
	stdin io.WriteCloser
	ports map[string]string // a document's port -> the free port used instead

	mu      sync.Mutex
	out     bytes.Buffer // everything the session printed, both streams
	changed chan struct{}
	done    chan struct{}
	n       int // commands run
}

// newShellSession starts bash in dir, with dir first on the PATH, and
// kills it and everything it started when the test ends.
func newShellSession(t *testing.T, dir string, env ...string) *shellSession {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash on the PATH: install bash to run the documents' shell commands")
	}
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if repo, err = filepath.EvalSymlinks(repo); err != nil {
		t.Fatal(err)
	}
	s := &shellSession{t: t, dir: dir, repo: repo, ports: map[string]string{}, changed: make(chan struct{}, 1), done: make(chan struct{})}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	s.cmd = exec.Command(bash, "--noprofile", "--norc", "-s")
	s.cmd.Dir = dir
	s.cmd.Stdout, s.cmd.Stderr = w, w
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	s.cmd.Env = append(cleanEnv(), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"), "NO_COLOR=1")
	s.cmd.Env = append(s.cmd.Env, env...)
	if s.stdin, err = s.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	go func() {
		defer close(s.done)
		buf := make([]byte, 32<<10)
		for {
			n, err := r.Read(buf)
			s.mu.Lock()
			s.out.Write(buf[:n])
			s.mu.Unlock()
			select {
			case s.changed <- struct{}{}:
			default:
			}
			if err != nil {
				r.Close()
				return
			}
		}
	}()
	t.Cleanup(s.close)
	return s
}

// cleanEnv is the test's environment without the variables that would
// change what kycsim does (a secret from the caller's shell).
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "KYCSIM_") || strings.HasPrefix(kv, "SUMSUB_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// close ends the session: bash and every process it started (the
// background servers), by their process group.
func (s *shellSession) close() {
	s.stdin.Close()
	pgid := s.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	exited := make(chan struct{})
	go func() { s.cmd.Wait(); close(exited) }()
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		s.t.Errorf("the shell session's output did not end: a process it started outlived SIGKILL of its group")
	}
}

// mapPorts rewrites the loopback ports of a command to free ones, the same
// free port for the same document port throughout the session.
func (s *shellSession) mapPorts(text string) string {
	return loopbackPort.ReplaceAllStringFunc(text, func(m string) string {
		host, port, _ := strings.Cut(m, ":")
		p, ok := s.ports[port]
		if !ok {
			p = freePort(s.t)
			s.ports[port] = p
		}
		return host + ":" + p
	})
}

// freePort returns a loopback port nothing listens on now.
func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// shellResult is what one command did.
type shellResult struct {
	Exit   int
	Output string // stdout and stderr, as they came
	Err    error  // it did not finish, or its server did not come up
	// TimedOut is set when the command did not finish: the session is
	// still busy with it.
	TimedOut bool
}

// run runs one command (ports mapped already) and waits for it up to
// timeout. A background command whose text names --addr is a server: run
// checks that its port was free and waits until it accepts connections.
func (s *shellSession) run(c shellCommand, timeout time.Duration) shellResult {
	s.n++
	marker := fmt.Sprintf("__kycsim_shell_%d_", s.n)
	var server string
	if c.background() {
		if m := addrFlag.FindStringSubmatch(c.Text); m != nil {
			server = strings.Trim(m[1], `'"`)
			// A server stopped just before (kill $!) may take a moment
			// to let its port go.
			if !testpoll.Until(5*time.Second, func() bool { return !accepting(server) }) {
				return shellResult{Err: fmt.Errorf("%s is still taken, 5s on, by a server an earlier command started: stop it (kill $!) where it is no longer needed", server)}
			}
		} else if regexp.MustCompile(`kycsim (serve|receiver)\b`).MatchString(c.Text) {
			return shellResult{Err: fmt.Errorf("a server started in the background must name --addr, so that the test can give it a free port")}
		}
	}
	s.mu.Lock()
	start := s.out.Len()
	s.mu.Unlock()
	script := "{\n" + c.Text + "\n} </dev/null\necho \"" + marker + "$?__\"\n"
	if _, err := io.WriteString(s.stdin, script); err != nil {
		return shellResult{Err: fmt.Errorf("write to the shell: %w", err)}
	}
	re := regexp.MustCompile(regexp.QuoteMeta(marker) + `(\d+)__\n?`)
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		all := s.out.String()
		s.mu.Unlock()
		if loc := re.FindStringSubmatchIndex(all[start:]); loc != nil {
			code, _ := strconv.Atoi(all[start+loc[2] : start+loc[3]])
			res := shellResult{Exit: code, Output: all[start : start+loc[0]]}
			if server != "" && !testpoll.Until(20*time.Second, func() bool { return accepting(server) }) {
				s.mu.Lock()
				res.Output = s.out.String()[start:]
				s.mu.Unlock()
				res.Err = fmt.Errorf("the server did not accept connections on %s within 20s", server)
			}
			return res
		}
		select {
		case <-s.changed:
		case <-s.done:
			return shellResult{Output: all[start:], Err: fmt.Errorf("the shell ended")}
		case <-deadline.C:
			return shellResult{Output: all[start:], Err: fmt.Errorf("did not finish within %s", timeout), TimedOut: true}
		}
	}
}

// stopBackground stops the background processes the session started.
func (s *shellSession) stopBackground() {
	s.run(shellCommand{Text: "kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; true"}, 10*time.Second)
}

// repoFile matches a relative path a command may name.
var repoFile = regexp.MustCompile(`[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)+`)

// mapFiles gives the session a port-mapped copy of every repository file a
// command names whose text names a loopback port: the command reads the
// copy at the same relative path, through directories made real along the
// way (the rest stays linked to the repository).
func (s *shellSession) mapFiles(text string) {
	for _, rel := range repoFile.FindAllString(text, -1) {
		path := filepath.Join(s.dir, rel)
		real, err := filepath.EvalSymlinks(path)
		if err != nil || real == path || !strings.HasPrefix(real, s.repo+string(filepath.Separator)) {
			continue // not a file of the repository (the binary, a report)
		}
		data, err := os.ReadFile(path)
		if err != nil || bytes.IndexByte(data, 0) >= 0 || !loopbackPort.Match(data) {
			continue
		}
		mapped := s.mapPorts(string(data))
		if mapped == string(data) {
			continue
		}
		if err := materialize(s.dir, filepath.Dir(rel)); err != nil {
			s.t.Fatal(err)
		}
		os.Remove(path)
		if err := os.WriteFile(path, []byte(mapped), 0o644); err != nil {
			s.t.Fatal(err)
		}
	}
}

// materialize turns each linked directory along rel (under root) into a
// real one whose entries link to the linked directory's entries.
func materialize(root, rel string) error {
	cur := root
	for _, part := range strings.Split(filepath.ToSlash(rel), "/") {
		if part == "" || part == "." {
			continue
		}
		cur = filepath.Join(cur, part)
		fi, err := os.Lstat(cur)
		if err != nil {
			return err
		}
		if fi.Mode()&os.ModeSymlink == 0 {
			continue
		}
		target, err := filepath.EvalSymlinks(cur)
		if err != nil {
			return err
		}
		entries, err := os.ReadDir(target)
		if err != nil {
			return err
		}
		if err := os.Remove(cur); err != nil {
			return err
		}
		if err := os.Mkdir(cur, 0o755); err != nil {
			return err
		}
		for _, e := range entries {
			if err := os.Symlink(filepath.Join(target, e.Name()), filepath.Join(cur, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

// accepting reports whether something accepts connections at addr.
func accepting(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// linkRepo makes dir look like the repository's root: a symbolic link to
// each top-level entry but .git, so that commands read the repository's
// files and write their own (reports, databases, binaries) into dir.
func linkRepo(t *testing.T, dir string) {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		switch e.Name() {
		case ".git", "kycsim", "out", "kycsim-sandbox.db":
			continue
		}
		if err := os.Symlink(filepath.Join(root, e.Name()), filepath.Join(dir, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
}

// buildKycsim builds the kycsim binary into dir, once per test binary.
func buildKycsim(t *testing.T, dir string) {
	t.Helper()
	buildOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			buildErr = fmt.Errorf("no go command on the PATH: %w", err)
			return
		}
		buildDir, err := os.MkdirTemp("", "kycsim-build-")
		if err != nil {
			buildErr = err
			return
		}
		builtBinary = filepath.Join(buildDir, "kycsim")
		cmd := exec.Command(goTool, "build", "-o", builtBinary, ".")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	data, err := os.ReadFile(builtBinary)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "kycsim"), data, 0o755); err != nil {
		t.Fatal(err)
	}
}

var (
	buildOnce   sync.Once
	buildErr    error
	builtBinary string
)
