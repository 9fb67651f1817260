package record

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/kycsim/kycsim/simulator/signing"
)

// Signature outcomes of a recorded Sumsub callback.
const (
	SigValid      = "valid"       // the digest matches under --secret
	SigInvalid    = "invalid"     // the digest does not match: recorded and flagged
	SigMissing    = "missing"     // no X-Payload-Digest
	SigUnknownAlg = "unknown-alg" // an X-Payload-Digest-Alg kycsim does not know
	SigUnchecked  = "unchecked"   // no --secret to check with
)

// exchange is one recorded callback and the receiver's answer, masked.
type exchange struct {
	n           int // number in the recording, from 1
	arrival     time.Time
	message     string // the vendor's message ("" when not told)
	sendAs      string // the catalog message the step names
	body        string // the scenario's raw-body: masked, with ${references}
	contentType string // when it differs from the product's
	signature   string // Sig*; "" for products that do not sign
	alg         string // the X-Payload-Digest-Alg sent
	recorded    []header
	headers     []header // kept headers
	status      int      // 0: no answer
	answerErr   string
	latency     time.Duration
	normalized  bool
	whole       bool // masked as text as a whole: it did not decode
}

type header struct{ name, value string }

// session is one subject's recorded callbacks: one scenario file.
type session struct {
	file     string
	product  string
	subject  string    // masked
	start    time.Time // the recording's start
	list     []*exchange
	vars     map[string]bool // vendor-base, dollar
	probe    *probeAnswer
	probeErr string
}

// probeAnswer is the receiver's probe answer for the subject.
type probeAnswer struct {
	Events int     `json:"events"`
	Status *string `json:"status"`
}

// template turns a masked text into scenario text: a literal "${" is
// written ${dollar}{, the masked URLs' base becomes ${vendor-base} and
// the masked subject ${subject}.
func (s *session) template(text string) string {
	if strings.Contains(text, "${") {
		text = strings.ReplaceAll(text, "${", "${dollar}{")
		s.vars["dollar"] = true
	}
	escaped := url.QueryEscape(VendorBase)
	if strings.Contains(text, VendorBase) || strings.Contains(text, escaped) {
		text = strings.ReplaceAll(text, VendorBase, "${vendor-base}")
		text = strings.ReplaceAll(text, escaped, "${vendor-base}")
		s.vars["vendor-base"] = true
	}
	if s.templated() {
		text = strings.ReplaceAll(text, s.subject, "${subject}")
	}
	return text
}

// templated says the subject id is written ${subject}, a fresh one each
// replay: an id long enough not to turn up by chance elsewhere in a body.
// A shorter one stays as it is, declared as the variable subject.
func (s *session) templated() bool {
	return len(s.subject) >= 8 && !strings.Contains(s.subject, "${")
}

// SchemaURL is where the scenario language's JSON Schema is published
// (scenarios/scenario.schema.json of the repository's main branch).
const SchemaURL = "https://raw.githubusercontent.com/kycsim/kycsim/main/scenarios/scenario.schema.json"

// render writes the session as a scenario file.
func (s *session) render(exactStatus bool) ([]byte, error) {
	doc := mapping()
	n := len(s.list)
	// The first line names the scenario language's schema, so that an
	// editor completes and checks the file as it does the built-in ones.
	doc.HeadComment = fmt.Sprintf("yaml-language-server: $schema="+SchemaURL+"\n"+
		"Recorded by kycsim record: %d callback(s) of one %s subject, personal data masked.\n"+
		"Replay: kycsim run DIR --to URL [--probe URL] [--time-scale F] [--as-recorded]", n, s.product)
	add(doc, "product", str(s.product))
	var msgs []string
	for _, e := range s.list {
		m := e.message
		if m == "" {
			m = "(unknown)"
		}
		msgs = append(msgs, m)
	}
	desc := fmt.Sprintf("Recorded %s callbacks: %s", s.product, strings.Join(msgs, ", "))
	if len(desc) > 300 {
		desc = desc[:297] + "..."
	}
	add(doc, "description", str(desc))
	add(doc, "tags", flowSeq(str("recorded")))
	steps := &yaml.Node{Kind: yaml.SequenceNode}
	prev := s.start
	for i, e := range s.list {
		if gap := e.arrival.Sub(prev).Round(time.Millisecond); gap >= time.Millisecond {
			w := mapping()
			add(w, "wait", str(gap.String()))
			if i == 0 {
				w.HeadComment = "the subject's first callback came this long into the recording"
			}
			steps.Content = append(steps.Content, w)
		}
		prev = e.arrival
		steps.Content = append(steps.Content, s.step(e, exactStatus))
	}
	if s.probe != nil {
		ex := mapping()
		ex.HeadComment = "what the receiver's probe said of the subject when the recording ended"
		in := mapping()
		in.Style = yaml.FlowStyle
		add(in, "events", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(s.probe.Events)})
		if s.probe.Status == nil {
			add(in, "status", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"})
		} else {
			add(in, "status", str(s.template(*s.probe.Status)))
		}
		add(ex, "expect", in)
		steps.Content = append(steps.Content, ex)
	} else if s.probeErr != "" {
		steps.Content[len(steps.Content)-1].FootComment = "no probe expectation: " + s.probeErr
	}
	if s.subject != "" && !s.templated() && !strings.Contains(s.subject, "${") {
		s.vars["subject"] = true
	}
	if len(s.vars) > 0 {
		vars := mapping()
		if s.vars["subject"] {
			add(vars, "subject", str(s.subject))
			last(vars).LineComment = "too short to write as ${subject} in the bodies"
		}
		if s.vars["vendor-base"] {
			add(vars, "vendor-base", str(VendorBase))
			last(vars).LineComment = "the replay's vendor API mock takes its place"
		}
		if s.vars["dollar"] {
			add(vars, "dollar", str("$"))
			last(vars).LineComment = "${dollar}{ writes a literal ${"
		}
		add(doc, "vars", vars)
	}
	add(doc, "steps", steps)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{doc}}); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// step renders one recorded callback as a send step.
func (s *session) step(e *exchange, exactStatus bool) *yaml.Node {
	st := mapping()
	add(st, "send", str(e.sendAs))
	if e.message != e.sendAs {
		told := "the vendor's message could not be told from the payload"
		if e.message != "" {
			told = "the vendor's message " + e.message + " is not in the catalog"
		}
		last(st).LineComment = told + "; the raw body is sent as recorded"
	}
	answer := "no answer: " + e.answerErr
	if e.status != 0 {
		answer = fmt.Sprintf("answered %d in %s", e.status, e.latency.Round(10*time.Microsecond))
	}
	name := fmt.Sprintf("recorded #%d: %s", e.n, answer)
	if e.signature != "" {
		name += ", signature " + e.signature
	}
	add(st, "name", str(name))
	body := bodyNode(s.template(e.body))
	add(st, "raw-body", body)
	var notes []string
	if e.whole {
		notes = append(notes, "the body did not decode as the product's encoding: masked as text as a whole")
	} else if e.normalized {
		notes = append(notes, "masked and written compactly")
	}
	if e.signature == SigInvalid {
		notes = append(notes, "FLAGGED: the recorded signature did not verify under --secret; the replay signs it wrongly on purpose")
	}
	if len(notes) > 0 {
		last(st).LineComment = strings.Join(notes, "; ")
	}
	if e.contentType != "" && !strings.Contains(e.contentType, "${") {
		add(st, "content-type", str(e.contentType))
	}
	if sign := signNode(e); sign != nil {
		add(st, "sign", sign)
	}
	if e.signature != "" {
		rh := mapping()
		rh.Style = yaml.FlowStyle
		for _, h := range e.recorded {
			add(rh, h.name, str(s.template(h.value)))
		}
		add(st, "recorded-headers", rh)
	}
	if len(e.headers) > 0 {
		hs := mapping()
		for _, h := range e.headers {
			add(hs, h.name, str(s.template(h.value)))
		}
		add(st, "headers", hs)
	}
	if e.status != 0 {
		want := strconv.Itoa(e.status)
		if !exactStatus {
			want = strconv.Itoa(e.status/100) + "xx"
		}
		add(st, "expect", str(want))
		if !exactStatus {
			last(st).LineComment = fmt.Sprintf("recorded %d %s", e.status, http.StatusText(e.status))
		}
	}
	return st
}

// signNode is the sign key that makes the replay's signature mean what
// the recorded one meant (nil: sign correctly with HMAC_SHA256_HEX).
func signNode(e *exchange) *yaml.Node {
	if e.signature == "" {
		return nil
	}
	m := mapping()
	m.Style = yaml.FlowStyle
	alg, algErr := signing.ParseAlgorithm(e.alg)
	switch e.signature {
	case SigUnknownAlg:
		add(m, "alg-header", str(e.alg))
		return m
	case SigMissing:
		add(m, "digest", str("missing"))
		return m
	}
	if e.alg != "" && algErr == nil && alg != signing.SHA256 {
		add(m, "alg", str(string(alg)))
	}
	if e.signature == SigInvalid {
		add(m, "digest", str("wrong"))
	}
	if len(m.Content) == 0 {
		return nil
	}
	return m
}

// bodyNode is a raw body as a YAML string that reads back byte for byte:
// single-quoted unless it holds line breaks or control characters.
func bodyNode(b string) *yaml.Node {
	n := str(b)
	n.Style = yaml.SingleQuotedStyle
	for _, c := range b {
		if c < ' ' || c == 0x7f || c == '\u0085' || c == '\u2028' || c == '\u2029' || c == '\uFEFF' {
			n.Style = yaml.DoubleQuotedStyle
			break
		}
	}
	return n
}

func mapping() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode} }

func str(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

func flowSeq(items ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle, Content: items}
}

func add(m *yaml.Node, key string, v *yaml.Node) {
	m.Content = append(m.Content, str(key), v)
}

// last returns the key of a mapping's last member (comments go there).
func last(m *yaml.Node) *yaml.Node { return m.Content[len(m.Content)-2] }
