package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/kycsim/kycsim/conformance"
	"github.com/kycsim/kycsim/scenarios"
	"github.com/kycsim/kycsim/simulator"
	"github.com/kycsim/kycsim/simulator/delivery"
)

// replayDirName is the directory made next to the first --report for the
// bodies that replay commands send.
const replayDirName = "kycsim-replay"

// replays saves the body of each failed step's last attempt and attaches
// the `kycsim send` command that sends it again, with the headers that
// matter, to the same URL. Its directory is made when the first body is
// saved: a run that fails nothing leaves none behind.
type replays struct {
	dir      string    // where the bodies go; "" for a new temporary directory
	made     bool      // dir exists
	announce io.Writer // told the temporary directory's name
	used     map[string]bool
	err      error // the first error saving a body
}

// newReplays decides where a run's replay bodies go: --replay-dir, else
// next to the first --report file, else a temporary directory announced
// on w when it is made. An explicit --replay-dir is made at once, so
// that one that cannot be is a usage error before anything is sent.
func newReplays(dir string, reports []reportFile, w io.Writer) (*replays, error) {
	r := &replays{dir: dir, announce: w, used: map[string]bool{}}
	switch {
	case dir != "":
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, usageErrorf("--replay-dir: %v", err)
		}
		r.made = true
	case len(reports) > 0:
		r.dir = filepath.Join(filepath.Dir(reports[0].path), replayDirName)
	}
	return r, nil
}

// attach saves the bodies of a result's failed steps and adds their
// replay commands (a conformance.Config.Finish).
func (r *replays) attach(cr *conformance.CaseResult) {
	for i, s := range cr.Steps {
		if len(s.Failures) == 0 || len(s.Attempts) == 0 {
			continue
		}
		a := s.Attempts[len(s.Attempts)-1]
		file, err := r.save(cr.ID, s.Index, a.RequestBody)
		if err != nil {
			if r.err == nil {
				r.err = fmt.Errorf("save the body of a replay: %w", err)
			}
			continue
		}
		cr.Replays = append(cr.Replays, conformance.Replay{Step: i, Pos: s.Pos, BodyFile: file, Command: replayCommand(a, s, file)})
	}
}

// save writes a body into the replay directory under a name made of the
// result's id and the step's index, unique in the run.
func (r *replays) save(id string, step int, body []byte) (string, error) {
	if err := r.makeDir(); err != nil {
		return "", err
	}
	stem := fmt.Sprintf("%s.step%d", unsafeName.ReplaceAllString(id, "_"), step)
	name := stem + ".body"
	for n := 2; r.used[name]; n++ {
		name = fmt.Sprintf("%s-%d.body", stem, n)
	}
	r.used[name] = true
	file := filepath.Join(r.dir, name)
	return file, os.WriteFile(file, body, 0o644)
}

// makeDir makes the replay directory once.
func (r *replays) makeDir() error {
	if r.made {
		return nil
	}
	if r.dir == "" {
		dir, err := os.MkdirTemp("", "kycsim-replay-")
		if err != nil {
			return err
		}
		r.dir = dir
		fmt.Fprintf(r.announce, "replay bodies are saved in %s\n", dir)
	} else if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return err
	}
	r.made = true
	return nil
}

// unsafeName matches what a file name should not hold.
var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// replayCommand is the one-line `kycsim send` that replays an attempt:
// the saved bytes, every header sent (signature headers included: the
// replay computes none), the source address and the answer deadline.
func replayCommand(a delivery.Attempt, s scenarios.StepResult, bodyFile string) string {
	args := []string{"kycsim", "send", a.Product, a.Message, "--to", a.URL, "--raw-body", bodyFile, "--no-retry"}
	if a.Product == "sumsub" {
		args = append(args, "--unsigned")
	}
	if a.From != "" {
		args = append(args, "--from", a.From)
	}
	if s.AnswerTimeout > 0 && s.AnswerTimeout != delivery.PolicyFor(a.Product, a.Message).AnswerTimeout {
		args = append(args, "--answer-timeout", s.AnswerTimeout.String())
	}
	for _, h := range replayHeaders(a) {
		args = append(args, "--header", h)
	}
	quoted := make([]string, len(args))
	for i, x := range args {
		quoted[i] = shellQuote(x)
	}
	return strings.Join(quoted, " ")
}

// replayHeaders lists the headers of an attempt as "Name: value", sorted,
// leaving out the User-Agent send adds anyway and redacted credentials.
func replayHeaders(a delivery.Attempt) []string {
	keys := make([]string, 0, len(a.RequestHeader))
	for k := range a.RequestHeader {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out []string
	for _, k := range keys {
		for _, v := range a.RequestHeader[k] {
			if (k == "User-Agent" && v == simulator.UserAgent) || v == "[redacted]" {
				continue
			}
			out = append(out, k+": "+v)
		}
	}
	return out
}

// shellQuote quotes a word for a POSIX shell when it needs quoting.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=@%+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
