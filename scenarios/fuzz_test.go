package scenarios

import (
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kycsim/kycsim/simulator"
	"github.com/kycsim/kycsim/simulator/event"
	"github.com/kycsim/kycsim/simulator/signing"
	"github.com/kycsim/kycsim/spec"
)

// fuzzSeeds are the example, the error cases, the built-in library and
// the conformance cases.
func fuzzSeeds(t testing.TB) [][]byte {
	t.Helper()
	var out [][]byte
	files, err := filepath.Glob("testdata/errors/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range append(files, "testdata/example.yaml") {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, data)
	}
	err = fs.WalkDir(libraryFS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yaml") {
			return err
		}
		data, err := libraryFS.ReadFile(p)
		out = append(out, data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// errorAt is the shape of every Load error of a file named f.yaml.
var errorAt = regexp.MustCompile(`^f\.yaml:([0-9]+):([0-9]+): \S`)

// FuzzLoad checks that no input panics, that every error starts with the
// file name and a line:col inside the file, that loading is
// deterministic, and that every scenario loaded passes checkScenario.
func FuzzLoad(f *testing.F) {
	cat := catalog(f)
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := Load("f.yaml", data, cat)
		sc2, err2 := Load("f.yaml", data, cat)
		if fmt.Sprint(err) != fmt.Sprint(err2) || !reflect.DeepEqual(sc, sc2) {
			t.Fatalf("two loads differ: %v / %v", err, err2)
		}
		if err != nil {
			if err := checkError(data, err); err != nil {
				t.Fatal(err)
			}
			return
		}
		if err := checkScenario(cat, sc); err != nil {
			t.Fatalf("loaded, but %v\n%s", err, pretty(sc))
		}
	})
}

// TestFuzzSeeds runs the fuzz properties over the seeds in plain go test,
// and checks that checkScenario can fail.
func TestFuzzSeeds(t *testing.T) {
	cat := catalog(t)
	loaded := 0
	for i, data := range fuzzSeeds(t) {
		sc, err := Load("f.yaml", data, cat)
		if err != nil {
			if err := checkError(data, err); err != nil {
				t.Errorf("seed %d: %v", i, err)
			}
			continue
		}
		loaded++
		if err := checkScenario(cat, sc); err != nil {
			t.Errorf("seed %d: %v", i, err)
		}
	}
	if loaded < 50 {
		t.Errorf("only %d seeds load", loaded)
	}
	// Each broken scenario must be caught.
	data, err := os.ReadFile("testdata/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for name, breakIt := range map[string]func(*Scenario){
		"two kinds":        func(s *Scenario) { s.Steps[2].Send = s.Steps[1].Send },
		"later redeliver":  func(s *Scenario) { s.Steps[7].Redeliver.Step = "nope" },
		"bad status":       func(s *Scenario) { s.Steps[1].Send.Expect.Status = "2XX" },
		"undeclared var":   func(s *Scenario) { s.Steps[1].Send.Delivery.Headers[0].Value = "${nope}" },
		"lower-case name":  func(s *Scenario) { s.Steps[1].Send.Message = "applicantpending" },
		"zero wait":        func(s *Scenario) { s.Steps[2].Wait = 0 },
		"precision":        func(s *Scenario) { s.Steps[1].Send.Precision = new(int) },
		"empty expect":     func(s *Scenario) { s.Steps[12].Expect.Events, s.Steps[12].Expect.Status = nil, nil },
		"wait in parallel": func(s *Scenario) { s.Steps[8].Parallel[0] = s.Steps[2] },
		"no position":      func(s *Scenario) { s.Steps[3].Send.Set[0].Pos = Pos{} },
		"unknown unset":    func(s *Scenario) { s.Steps[3].Send.Unset = []string{"externalUserld"} },
	} {
		sc, err := Load("f.yaml", data, cat)
		if err != nil {
			t.Fatal(err)
		}
		breakIt(sc)
		if err := checkScenario(cat, sc); err == nil {
			t.Errorf("checkScenario missed: %s", name)
		}
	}
}

// checkError checks the shape of a Load error.
func checkError(data []byte, err error) error {
	if !IsLoadError(err) {
		return fmt.Errorf("%T is not a load error: %v", err, err)
	}
	m := errorAt.FindStringSubmatch(err.Error())
	if m == nil {
		return fmt.Errorf("error without f.yaml:line:col: %v", err)
	}
	line, _ := strconv.Atoi(m[1])
	col, _ := strconv.Atoi(m[2])
	if lines := yamlLines(data); line < 1 || col < 1 || line > lines+1 {
		return fmt.Errorf("error outside the file (%d lines): %v", lines, err)
	}
	return nil
}

// yamlLines counts lines as YAML does: CR LF, CR, LF, NEL, LS and PS
// end one.
func yamlLines(data []byte) int {
	s := strings.ReplaceAll(string(data), "\r\n", "\n")
	n := 1
	for _, r := range s {
		switch r {
		case '\n', '\r', 0x85, 0x2028, 0x2029:
			n++
		}
	}
	return n
}

// checkScenario re-validates a loaded scenario on its own terms, without
// the loader's code: the rules README.md states.
func checkScenario(cat *spec.Catalog, sc *Scenario) error {
	p, err := cat.Product(sc.Product)
	if err != nil {
		return err
	}
	c := &checker{p: p, vars: map[string]string{"subject": ""}, ids: map[string]bool{}, handled: map[string][]string{}}
	if sc.Description == "" || len(sc.Steps) == 0 || sc.Pos.File != "f.yaml" || sc.Pos.Line < 1 {
		return fmt.Errorf("description %q, %d steps, at %v", sc.Description, len(sc.Steps), sc.Pos)
	}
	for _, v := range sc.Vars {
		if v.Generate != "" && (v.Value != "" || !slices.Contains(Generators, v.Generate)) {
			return fmt.Errorf("var %s: generate %q and value %q", v.Name, v.Generate, v.Value)
		}
		if v.Pos.Line < 1 {
			return fmt.Errorf("var %s has no position", v.Name)
		}
		c.vars[v.Name] = v.Generate
		if v.Generate == "" {
			c.vars[v.Name] = "=" + v.Value
		}
		if v.Handled != nil {
			if v.Generate != "" || v.Value != "" {
				return fmt.Errorf("var %s: handled and generate %q / value %q", v.Name, v.Generate, v.Value)
			}
			for _, m := range v.Handled {
				if msg, err := p.Message(m); err != nil || msg.Name != m {
					return fmt.Errorf("var %s: %q is not a canonical %s message", v.Name, m, p.Name)
				}
			}
			c.vars[v.Name] = "handled"
			c.handled[v.Name] = v.Handled
		}
	}
	for i := range sc.Steps {
		if err := c.step(&sc.Steps[i], false); err != nil {
			return fmt.Errorf("step %d (%v): %w", i+1, sc.Steps[i].Pos, err)
		}
	}
	return nil
}

type checker struct {
	p *spec.Product
	// vars maps a name to its generator, or "=" and its literal value.
	vars map[string]string
	ids  map[string]bool
	// handled maps a message variable to the messages it lists.
	handled map[string][]string
}

var (
	checkStatus = regexp.MustCompile(`^([1-5]xx|[1-5][0-9][0-9]|refuse)$`)
	checkRef    = regexp.MustCompile(`\$\{([^}]*)\}`)
)

func (c *checker) refs(s string) error {
	if strings.Count(s, "${") != len(checkRef.FindAllString(s, -1)) {
		return fmt.Errorf("%q holds a malformed ${", s)
	}
	for _, m := range checkRef.FindAllStringSubmatch(s, -1) {
		if _, ok := c.vars[m[1]]; !ok {
			return fmt.Errorf("%q refers to an undeclared ${%s}", s, m[1])
		}
	}
	return nil
}

func (c *checker) step(st *Step, inParallel bool) error {
	set := 0
	for _, b := range []bool{st.Send != nil, st.Wait != 0, st.Redeliver != nil, st.Parallel != nil, st.VendorState != nil, st.Expect != nil} {
		if b {
			set++
		}
	}
	if set != 1 || st.Pos.Line < 1 {
		return fmt.Errorf("kind %s with %d parts set, at %v", st.Kind, set, st.Pos)
	}
	if inParallel && st.Kind != KindSend && st.Kind != KindRedeliver {
		return fmt.Errorf("%s inside parallel", st.Kind)
	}
	if st.ID != "" && (st.Kind != KindSend || inParallel || c.ids[st.ID]) {
		return fmt.Errorf("id %q on a %s step (parallel %v, seen %v)", st.ID, st.Kind, inParallel, c.ids[st.ID])
	}
	switch st.Kind {
	case KindSend:
		if st.Send == nil {
			return fmt.Errorf("no send")
		}
		if err := c.send(st.Send); err != nil {
			return err
		}
		if st.ID != "" {
			c.ids[st.ID] = true
		}
	case KindWait:
		if st.Wait <= 0 {
			return fmt.Errorf("wait %v", st.Wait)
		}
	case KindRedeliver:
		rd := st.Redeliver
		if rd == nil || !c.ids[rd.Step] {
			return fmt.Errorf("redeliver of no earlier send step: %+v", rd)
		}
		if rd.Delivery != nil {
			if err := c.delivery(rd.Delivery); err != nil {
				return err
			}
		}
		return c.answer(rd.Expect)
	case KindParallel:
		if len(st.Parallel) < 2 || len(st.Parallel) > 100 {
			return fmt.Errorf("parallel of %d", len(st.Parallel))
		}
		for i := range st.Parallel {
			if err := c.step(&st.Parallel[i], true); err != nil {
				return fmt.Errorf("parallel %d: %w", i+1, err)
			}
		}
	case KindVendorState:
		vs := st.VendorState
		if vs == nil {
			return fmt.Errorf("no vendor state")
		}
		kyx := vs.Decision != "" || vs.RiskScore != nil || vs.Label != "" || vs.Capability != nil
		sum := vs.ReviewStatus != "" || vs.ReviewAnswer != "" || vs.RejectLabels != nil || vs.RejectType != ""
		switch {
		case c.p.Name == "jumio-kyx" && (sum || vs.Decision == ""):
		case c.p.Name == "sumsub" && (kyx || vs.ReviewStatus == ""):
		case c.p.Name != "jumio-kyx" && c.p.Name != "sumsub":
		case vs.RiskScore != nil && (*vs.RiskScore < -1 || *vs.RiskScore > 100):
		default:
			return c.refs(vs.Subject)
		}
		return fmt.Errorf("vendor state %+v for %s", vs, c.p.Name)
	case KindExpect:
		e := st.Expect
		if e == nil || e.Events == nil && e.Status == nil && e.NotStatus == nil && e.Fetches == nil || e.Within < 0 || e.Pos.Line < 1 {
			return fmt.Errorf("expect %+v", e)
		}
		if e.Status != nil && *e.Status == "" {
			return fmt.Errorf("expect an empty status")
		}
		return c.refs(e.Subject)
	default:
		return fmt.Errorf("kind %q", st.Kind)
	}
	return nil
}

func (c *checker) send(s *Send) error {
	alternatives := []string{s.Message}
	if strings.HasPrefix(s.Message, "${") {
		name := strings.TrimSuffix(strings.TrimPrefix(s.Message, "${"), "}")
		if c.vars[name] != "handled" {
			return fmt.Errorf("message %q names no {handled: ...} variable", s.Message)
		}
		alternatives = c.handled[name]
	} else if m, err := c.p.Message(s.Message); err != nil || m.Name != s.Message {
		return fmt.Errorf("message %q is not a canonical %s message", s.Message, c.p.Name)
	}
	// A reject code fits every message the step may send.
	if s.RejectCode != "" {
		for _, m := range alternatives {
			if !slices.Contains(event.RejectCodes(m), s.RejectCode) {
				return fmt.Errorf("reject code %q with %s", s.RejectCode, m)
			}
		}
	}
	// An unset path names a field of one of them.
	for _, u := range s.Unset {
		if strings.Contains(u, "${") {
			continue
		}
		known := false
		for _, m := range alternatives {
			fields, err := event.MessageFields(c.p, m)
			if err != nil {
				return err
			}
			known = known || fields.Check(u) == nil
		}
		if !known {
			return fmt.Errorf("unset %q names no field of %v", u, alternatives)
		}
	}
	jumio := strings.HasPrefix(c.p.Name, "jumio-")
	if s.Precision != nil && (!jumio || *s.Precision < 0 || *s.Precision > 3) {
		return fmt.Errorf("precision %d on %s", *s.Precision, c.p.Name)
	}
	if !reflect.DeepEqual(s.Sign, Signing{}) && c.p.Name != "sumsub" {
		return fmt.Errorf("sign on %s", c.p.Name)
	}
	if (s.SandboxMode != "" || s.ReviewAnswer != "" || s.RejectType != "" || s.RejectLabels != nil) && c.p.Name != "sumsub" {
		return fmt.Errorf("sumsub options on %s", c.p.Name)
	}
	if s.SandboxMode != "" && s.SandboxMode != "bool" && s.SandboxMode != "string" {
		return fmt.Errorf("sandbox mode %q", s.SandboxMode)
	}
	if s.RawBody != nil && (s.Set != nil || s.Unset != nil || s.Precision != nil || s.Age != 0 || s.SandboxMode != "") {
		return fmt.Errorf("raw body with payload options")
	}
	if s.Age < 0 {
		return fmt.Errorf("age %v", s.Age)
	}
	if s.Sign.Algorithm != "" {
		if a, err := signing.ParseAlgorithm(s.Sign.Algorithm); err != nil || string(a) != s.Sign.Algorithm {
			return fmt.Errorf("algorithm %q", s.Sign.Algorithm)
		}
	}
	if !slices.Contains([]string{"", DigestMissing, DigestWrong, DigestTampered}, s.Sign.Digest) {
		return fmt.Errorf("digest %q", s.Sign.Digest)
	}
	for _, o := range s.Set {
		if _, err := event.ParsePath(o.Path); err != nil || o.Pos.Line < 1 {
			return fmt.Errorf("set %q at %v: %v", o.Path, o.Pos, err)
		}
		if err := c.jsonRefs(o.Value); err != nil {
			return err
		}
	}
	for _, u := range s.Unset {
		if _, err := event.ParsePath(u); err != nil {
			return err
		}
	}
	for _, str := range []string{s.Subject, ptrString(s.RawBody), ptrString(s.Sign.Secret)} {
		if err := c.refs(str); err != nil {
			return err
		}
	}
	if err := c.delivery(&s.Delivery); err != nil {
		return err
	}
	return c.answer(s.Expect)
}

func ptrString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// jsonRefs checks a JSON-model value: its types and its references.
func (c *checker) jsonRefs(v any) error {
	switch x := v.(type) {
	case nil, bool:
	case string:
		return c.refs(x)
	case []any:
		for _, e := range x {
			if err := c.jsonRefs(e); err != nil {
				return err
			}
		}
	case map[string]any:
		for _, e := range x {
			if err := c.jsonRefs(e); err != nil {
				return err
			}
		}
	default:
		if fmt.Sprintf("%T", v) != "json.Number" {
			return fmt.Errorf("%T in a JSON value", v)
		}
	}
	return nil
}

func (c *checker) delivery(d *Delivery) error {
	if d.From != "" {
		a := checkRef.ReplaceAllStringFunc(d.From, func(m string) string { return strings.TrimPrefix(c.vars[m[2:len(m)-1]], "=") })
		if _, err := simulator.ParseSource(a); a != "" && err != nil {
			return err
		}
	}
	if d.ForwardedFor != "" {
		a := checkRef.ReplaceAllStringFunc(d.ForwardedFor, func(m string) string { return strings.TrimPrefix(c.vars[m[2:len(m)-1]], "=") })
		for _, hop := range strings.Split(a, ",") {
			if _, err := netip.ParseAddr(strings.TrimSpace(hop)); a != "" && err != nil {
				return err
			}
		}
	}
	for _, h := range d.Headers {
		if n, v, err := simulator.ParseHeader(h.Name + ": " + h.Value); err != nil || n != h.Name || v != h.Value {
			return fmt.Errorf("header %q: %q: %v", h.Name, h.Value, err)
		}
		if err := c.refs(h.Value); err != nil {
			return err
		}
	}
	if strings.ContainsAny(d.ContentType, "\r\n") {
		return fmt.Errorf("content type %q", d.ContentType)
	}
	if !d.Retry && d.Delays != nil || d.Retry && d.Delays != nil && len(d.Delays) == 0 || d.AnswerTimeout < 0 {
		return fmt.Errorf("delivery %+v", d)
	}
	for _, dd := range d.Delays {
		if dd <= 0 || dd > 1000000*time.Hour {
			return fmt.Errorf("delay %v", dd)
		}
	}
	return nil
}

func (c *checker) answer(a *Answer) error {
	if a == nil {
		return nil
	}
	if a.Status == "" && a.Within == 0 && a.Attempts == 0 || a.Status != "" && !checkStatus.MatchString(a.Status) || a.Pos.Line < 1 {
		return fmt.Errorf("answer %+v", a)
	}
	if a.Within < 0 || a.Attempts < 0 || a.Attempts > 101 {
		return fmt.Errorf("answer %+v", a)
	}
	return nil
}
